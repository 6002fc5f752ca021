// The verifier's TPM attestation checks (verifier/tpm_attest.h) on genuine
// evidence: one private swtpm, the attestor's own AK and registers produce an
// NV certification and a PCR quote, which verify; then each tamper of those
// genuine bytes is rejected with the expected code and reason, in the check
// order the header documents.
#include "verifier/tpm_attest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "attestor/tpm_context.h"
#include "attestor/tpm_keys.h"
#include "attestor/tpm_register.h"
#include "common/sha256.h"
#include "common/tpm_wire.h"
#include "tests/support/swtpm.h"

namespace fdattest {
namespace {

using ::fdattest::testing::Swtpm;
using ::testing::HasSubstr;

constexpr int kPcr = 15;  // not resettable from locality 0

std::string Str(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

// Test edits go through the same exact (un)marshalling as the code under test.
template <TpmWireType T>
std::string Marshal(const T& value) {
  absl::StatusOr<std::string> bytes = TpmMarshal(value);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.value_or("");
}

template <TpmWireType T>
T Unmarshal(const std::string& bytes) {
  absl::StatusOr<T> value = TpmUnmarshal<T>(bytes);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.value_or(T{});
}

TPMS_ATTEST AttestOf(const std::string& b) { return Unmarshal<TPMS_ATTEST>(b); }
TPMT_SIGNATURE SignatureOf(const std::string& b) { return Unmarshal<TPMT_SIGNATURE>(b); }
TPM2B_PUBLIC PublicOf(const std::string& b) { return Unmarshal<TPM2B_PUBLIC>(b); }

// Genuine evidence, produced once for the suite.
struct Genuine {
  std::unique_ptr<Swtpm> tpm;
  std::string ek_public;
  std::string ak_public;
  std::string ak_qualified_name;
  std::string other_ak_public;  // a second AK under the same EK
  std::string other_ak_qualified_name;
  std::string qualifying_data;
  TpmAttestation nv;
  Sha256Digest nv_value{};
  std::string nv_name;
  TpmAttestation quote;
  Sha256Digest pcr_value{};
  TpmAttestation other_nv;  // the same register certified by the other AK
};

absl::StatusOr<std::unique_ptr<Genuine>> MakeGenuine() {
  auto g = std::make_unique<Genuine>();
  ASSIGN_OR_RETURN(g->tpm, Swtpm::Start());
  const std::string dir1 = absl::StrCat(g->tpm->dir(), "/attestor");
  const std::string dir2 = absl::StrCat(g->tpm->dir(), "/attestor2");
  if (mkdir(dir1.c_str(), 0700) != 0 || mkdir(dir2.c_str(), 0700) != 0) {
    return ErrnoStatus("mkdir", errno);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<EsysContext> ctx, EsysContext::Open({.tcti = g->tpm->tcti()}));
  ASSIGN_OR_RETURN(std::unique_ptr<AttestationKey> ak, AttestationKey::LoadOrCreate(*ctx, dir1));
  ASSIGN_OR_RETURN(std::unique_ptr<AttestationKey> ak2, AttestationKey::LoadOrCreate(*ctx, dir2));
  g->ek_public = ak->ek_public_area();
  g->ak_public = ak->public_area();
  g->ak_qualified_name = ak->qualified_name();
  g->other_ak_public = ak2->public_area();
  g->other_ak_qualified_name = ak2->qualified_name();
  g->qualifying_data = Str(Sha256("fdattest/v1 test qualifying data"));

  ASSIGN_OR_RETURN(std::unique_ptr<NvRegister> nv, NvRegister::Open(*ctx, dir1, {}));
  RETURN_IF_ERROR(nv->Extend(Sha256("first measurement")));
  ASSIGN_OR_RETURN(g->nv_value, nv->Read());
  ASSIGN_OR_RETURN(g->nv, nv->Certify(*ak, g->qualifying_data));
  ASSIGN_OR_RETURN(g->other_nv, nv->Certify(*ak2, g->qualifying_data));
  g->nv_name = nv->name();

  // The counters test needs the quote's clock strictly after the
  // certification's (the TPM clock counts milliseconds).
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSIGN_OR_RETURN(std::unique_ptr<PcrRegister> pcr, PcrRegister::Open(*ctx, {.pcr = kPcr}));
  RETURN_IF_ERROR(pcr->Extend(Sha256("pcr measurement")));
  ASSIGN_OR_RETURN(g->pcr_value, pcr->Read());
  ASSIGN_OR_RETURN(g->quote, pcr->Certify(*ak, g->qualifying_data));
  return g;
}

class TpmAttestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<Genuine>> g = MakeGenuine();
    ASSERT_TRUE(g.ok()) << g.status();
    genuine_ = std::move(*g).release();
  }
  static void TearDownTestSuite() {
    delete genuine_;
    genuine_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(genuine_, nullptr); }

  const Genuine& g() { return *genuine_; }

  ExpectedAttestation ExpectNv() {
    ExpectedAttestation e;
    e.kind = AttestKind::kNvCertify;
    e.qualifying_data = g().qualifying_data;
    e.qualified_signer = g().ak_qualified_name;
    e.nv_index_name = g().nv_name;
    e.register_value = g().nv_value;
    return e;
  }
  ExpectedAttestation ExpectQuote() {
    ExpectedAttestation e;
    e.kind = AttestKind::kPcrQuote;
    e.qualifying_data = g().qualifying_data;
    e.qualified_signer = g().ak_qualified_name;
    e.pcr = kPcr;
    e.register_value = g().pcr_value;
    return e;
  }

  // Parses all three structures and runs CheckAttestation.
  absl::StatusOr<VerifiedAttestation> Verify(const std::string& attest, const std::string& signature,
                                             const std::string& ak_public,
                                             const ExpectedAttestation& expected,
                                             AttestKind parse_as) {
    ASSIGN_OR_RETURN(ParsedAttest parsed, ParseAttest(attest, parse_as));
    ASSIGN_OR_RETURN(EcdsaSignature sig, ParseSignature(signature));
    ASSIGN_OR_RETURN(AkPublic ak, ParseAkPublic(ak_public));
    return CheckAttestation(parsed, sig, ak, expected);
  }
  absl::StatusOr<VerifiedAttestation> VerifyNv(const std::string& attest,
                                               const ExpectedAttestation& expected) {
    return Verify(attest, g().nv.signature, g().ak_public, expected, AttestKind::kNvCertify);
  }
  absl::StatusOr<VerifiedAttestation> VerifyQuote(const std::string& attest,
                                                  const ExpectedAttestation& expected) {
    return Verify(attest, g().quote.signature, g().ak_public, expected, AttestKind::kPcrQuote);
  }
  // Whether the signature alone verifies over `attest` (the last check).
  absl::Status SignatureOnly(const std::string& attest, const std::string& signature) {
    ASSIGN_OR_RETURN(EcdsaSignature sig, ParseSignature(signature));
    ASSIGN_OR_RETURN(AkPublic ak, ParseAkPublic(g().ak_public));
    return VerifyAttestSignature(attest, sig, ak);
  }

  static Genuine* genuine_;
};
Genuine* TpmAttestTest::genuine_ = nullptr;

void ExpectRejected(const absl::StatusOr<VerifiedAttestation>& r, absl::StatusCode code,
                    const std::string& reason) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(reason));
}

// --- genuine evidence -------------------------------------------------------

TEST_F(TpmAttestTest, GenuineNvCertificationVerifies) {
  absl::StatusOr<VerifiedAttestation> v = VerifyNv(g().nv.attest, ExpectNv());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->kind, AttestKind::kNvCertify);
  EXPECT_EQ(v->register_value, g().nv_value);
  EXPECT_EQ(v->nv_index_name, g().nv_name);
  EXPECT_GT(v->counters.clock, 0u);
}

TEST_F(TpmAttestTest, GenuineNvCertificationVerifiesWithoutKnownIndexNameOrValue) {
  ExpectedAttestation e = ExpectNv();
  e.nv_index_name.reset();
  e.register_value.reset();
  absl::StatusOr<VerifiedAttestation> v = VerifyNv(g().nv.attest, e);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->register_value, g().nv_value);  // returned for the event-log replay
}

TEST_F(TpmAttestTest, GenuinePcrQuoteVerifies) {
  absl::StatusOr<VerifiedAttestation> v = VerifyQuote(g().quote.attest, ExpectQuote());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->kind, AttestKind::kPcrQuote);
  EXPECT_EQ(v->register_value, g().pcr_value);
}

TEST_F(TpmAttestTest, QualifiedNameFromEkAndAkMatchesTheAttestorsAndTheSigner) {
  absl::StatusOr<std::string> qn = AkQualifiedName(g().ek_public, g().ak_public);
  ASSERT_TRUE(qn.ok()) << qn.status();
  EXPECT_EQ(*qn, g().ak_qualified_name);
  absl::StatusOr<AkPublic> ak = ParseAkPublic(g().ak_public);
  ASSERT_TRUE(ak.ok()) << ak.status();
  EXPECT_NE(*qn, ak->name);  // the plain name is not what the TPM signs
  absl::StatusOr<ParsedAttest> a = ParseAttest(g().nv.attest, AttestKind::kNvCertify);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(CheckQualifiedSigner(a->attest, *qn).ok());
  EXPECT_EQ(CheckQualifiedSigner(a->attest, ak->name).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TpmAttestTest, GenuineCountersAreMonotonicAcrossTwoAttestations) {
  absl::StatusOr<VerifiedAttestation> nv = VerifyNv(g().nv.attest, ExpectNv());
  absl::StatusOr<VerifiedAttestation> quote = VerifyQuote(g().quote.attest, ExpectQuote());
  ASSERT_TRUE(nv.ok() && quote.ok());
  EXPECT_TRUE(CheckCounters(nv->counters, quote->counters).ok());  // quote came later
  EXPECT_EQ(CheckCounters(quote->counters, nv->counters).code(),
            absl::StatusCode::kFailedPrecondition)  // clock went back
      << "clock " << nv->counters.clock << " then " << quote->counters.clock;
}

// --- tampering --------------------------------------------------------------

TEST_F(TpmAttestTest, RejectsSignatureBitFlip) {
  std::string sig = g().nv.signature;
  sig[10] ^= 0x01;  // inside r (after sigAlg, hash, r.size)
  ExpectRejected(Verify(g().nv.attest, sig, g().ak_public, ExpectNv(), AttestKind::kNvCertify),
                 absl::StatusCode::kUnauthenticated, "signature does not verify");
}

TEST_F(TpmAttestTest, RejectsAttestBitFlipInCertifiedValueBySignature) {
  TPMS_ATTEST a = AttestOf(g().nv.attest);
  a.attested.nv.nvContents.buffer[0] ^= 0x80;
  ExpectedAttestation e = ExpectNv();
  e.register_value.reset();
  ExpectRejected(VerifyNv(Marshal(a), e), absl::StatusCode::kUnauthenticated,
                 "signature does not verify");
}

TEST_F(TpmAttestTest, RejectsWrongQualifyingData) {
  ExpectedAttestation e = ExpectNv();
  e.qualifying_data[0] ^= 0x01;
  ExpectRejected(VerifyNv(g().nv.attest, e), absl::StatusCode::kUnauthenticated, "extraData");
  ExpectedAttestation q = ExpectQuote();
  q.qualifying_data = Str(Sha256("another nonce"));
  ExpectRejected(VerifyQuote(g().quote.attest, q), absl::StatusCode::kUnauthenticated, "extraData");
}

TEST_F(TpmAttestTest, RejectsEmptyOrOversizedExpectedQualifyingData) {
  ExpectedAttestation e = ExpectNv();
  e.qualifying_data.clear();
  ExpectRejected(VerifyNv(g().nv.attest, e), absl::StatusCode::kInvalidArgument,
                 "qualifying data is 0 bytes");
  e.qualifying_data = g().qualifying_data + std::string(33, 'x');
  ExpectRejected(VerifyNv(g().nv.attest, e), absl::StatusCode::kInvalidArgument,
                 "qualifying data is 65 bytes");
}

TEST_F(TpmAttestTest, RejectsAttestWithEmptyOrOversizedExtraData) {
  TPMS_ATTEST a = AttestOf(g().nv.attest);
  a.extraData.size = 0;
  ExpectRejected(VerifyNv(Marshal(a), ExpectNv()), absl::StatusCode::kUnauthenticated, "extraData");
  a.extraData.size = 64;  // the most TPM2B_DATA holds, prefix still the genuine data
  ExpectRejected(VerifyNv(Marshal(a), ExpectNv()), absl::StatusCode::kUnauthenticated, "extraData");
  // A size beyond TPM2B_DATA's buffer: byte surgery, the marshaller would refuse.
  std::string bytes = g().nv.attest;
  const size_t extra_size_at = 6 + 2 + g().ak_qualified_name.size();
  bytes[extra_size_at] = 0;
  bytes[extra_size_at + 1] = 65;
  ExpectRejected(VerifyNv(bytes, ExpectNv()), absl::StatusCode::kInvalidArgument, "malformed");
}

TEST_F(TpmAttestTest, RejectsAnotherAkWithItsOwnQualifiedName) {
  // The other AK's own evidence is fine for it...
  ExpectedAttestation other = ExpectNv();
  other.qualified_signer = g().other_ak_qualified_name;
  ASSERT_TRUE(Verify(g().other_nv.attest, g().other_nv.signature, g().other_ak_public, other,
                     AttestKind::kNvCertify)
                  .ok());
  // ...but presenting it for the enrolled AK names the signer mismatch...
  ExpectRejected(Verify(g().other_nv.attest, g().other_nv.signature, g().other_ak_public,
                        ExpectNv(), AttestKind::kNvCertify),
                 absl::StatusCode::kUnauthenticated, "qualifiedSigner");
  // ...and the genuine attest with the other AK's key swapped in fails.
  ExpectRejected(Verify(g().nv.attest, g().nv.signature, g().other_ak_public, other,
                        AttestKind::kNvCertify),
                 absl::StatusCode::kUnauthenticated, "qualifiedSigner");
  ExpectRejected(Verify(g().nv.attest, g().nv.signature, g().other_ak_public, ExpectNv(),
                        AttestKind::kNvCertify),
                 absl::StatusCode::kUnauthenticated, "signature does not verify");
  // The other AK's qualified name is recomputed the same way, from the EK.
  absl::StatusOr<std::string> qn = AkQualifiedName(g().ek_public, g().other_ak_public);
  ASSERT_TRUE(qn.ok());
  EXPECT_EQ(*qn, g().other_ak_qualified_name);
}

TEST_F(TpmAttestTest, RejectsAttestTypeSwapped) {
  ExpectRejected(ParseAttest(g().nv.attest, AttestKind::kPcrQuote).status(),
                 absl::StatusCode::kInvalidArgument, "expected PCR quote");
  ExpectRejected(ParseAttest(g().quote.attest, AttestKind::kNvCertify).status(),
                 absl::StatusCode::kInvalidArgument, "expected NV certify");
  // Parsed as what it is, but the verifier expects the other kind.
  ExpectedAttestation e = ExpectQuote();
  ExpectRejected(Verify(g().nv.attest, g().nv.signature, g().ak_public, e, AttestKind::kNvCertify),
                 absl::StatusCode::kInvalidArgument, "expected PCR quote");
}

TEST_F(TpmAttestTest, RejectsMagicChanged) {
  TPMS_ATTEST a = AttestOf(g().nv.attest);
  a.magic ^= 1;
  ExpectRejected(VerifyNv(Marshal(a), ExpectNv()), absl::StatusCode::kInvalidArgument,
                 "is not TPM_GENERATED_VALUE");
}

TEST_F(TpmAttestTest, RejectsQualifiedSignerChangedBeforeCheckingTheSignature) {
  TPMS_ATTEST a = AttestOf(g().nv.attest);
  a.qualifiedSigner.name[5] ^= 0x10;
  const std::string bytes = Marshal(a);
  ExpectRejected(VerifyNv(bytes, ExpectNv()), absl::StatusCode::kUnauthenticated, "qualifiedSigner");
  EXPECT_EQ(SignatureOnly(bytes, g().nv.signature).code(), absl::StatusCode::kUnauthenticated);
  // The plain AK name (what a careless verifier would compare) is refused.
  a = AttestOf(g().nv.attest);
  absl::StatusOr<AkPublic> ak = ParseAkPublic(g().ak_public);
  ASSERT_TRUE(ak.ok());
  ExpectedAttestation e = ExpectNv();
  e.qualified_signer = ak->name;
  ExpectRejected(VerifyNv(g().nv.attest, e), absl::StatusCode::kUnauthenticated, "qualifiedSigner");
}

TEST_F(TpmAttestTest, RejectsPcrSelectionChanged) {
  TPMS_ATTEST a = AttestOf(g().quote.attest);
  a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[kPcr / 8] = 1u << ((kPcr - 1) % 8);
  ExpectRejected(VerifyQuote(Marshal(a), ExpectQuote()), absl::StatusCode::kUnauthenticated,
                 "PCR selection is not exactly sha256:15");
  a = AttestOf(g().quote.attest);
  a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[0] |= 1;  // one more PCR
  ExpectRejected(VerifyQuote(Marshal(a), ExpectQuote()), absl::StatusCode::kUnauthenticated,
                 "PCR selection");
  a = AttestOf(g().quote.attest);
  a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA1;
  ExpectRejected(VerifyQuote(Marshal(a), ExpectQuote()), absl::StatusCode::kUnauthenticated,
                 "PCR bank SHA-1");
  a = AttestOf(g().quote.attest);
  a.attested.quote.pcrSelect.count = 2;
  a.attested.quote.pcrSelect.pcrSelections[1] = a.attested.quote.pcrSelect.pcrSelections[0];
  ExpectRejected(VerifyQuote(Marshal(a), ExpectQuote()), absl::StatusCode::kUnauthenticated,
                 "2 PCR banks");
  // Genuine bytes, but the verifier expects another PCR or value.
  ExpectedAttestation e = ExpectQuote();
  e.pcr = kPcr + 1;
  ExpectRejected(VerifyQuote(g().quote.attest, e), absl::StatusCode::kUnauthenticated,
                 "PCR selection");
  e = ExpectQuote();
  e.register_value = Sha256("some other value");
  ExpectRejected(VerifyQuote(g().quote.attest, e), absl::StatusCode::kUnauthenticated, "pcrDigest");
}

TEST_F(TpmAttestTest, RejectsClockNotSafeBeforeCheckingTheSignature) {
  TPMS_ATTEST a = AttestOf(g().nv.attest);
  ASSERT_EQ(a.clockInfo.safe, TPM2_YES);
  a.clockInfo.safe = TPM2_NO;
  const std::string bytes = Marshal(a);
  ExpectRejected(VerifyNv(bytes, ExpectNv()), absl::StatusCode::kUnauthenticated, "clock not safe");
  // The patched byte also breaks the signature, which is checked last.
  EXPECT_EQ(SignatureOnly(bytes, g().nv.signature).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(SignatureOnly(g().nv.attest, g().nv.signature).ok());
}

TEST_F(TpmAttestTest, RejectsNvOffsetOrSizeOrIndexNameChanged) {
  TPMS_ATTEST a = AttestOf(g().nv.attest);
  a.attested.nv.offset = 1;
  ExpectRejected(VerifyNv(Marshal(a), ExpectNv()), absl::StatusCode::kUnauthenticated, "offset 1");
  a = AttestOf(g().nv.attest);
  a.attested.nv.nvContents.size = 31;
  ExpectRejected(VerifyNv(Marshal(a), ExpectNv()), absl::StatusCode::kUnauthenticated,
                 "31 bytes certified");
  a = AttestOf(g().nv.attest);
  a.attested.nv.indexName.name[3] ^= 1;
  ExpectRejected(VerifyNv(Marshal(a), ExpectNv()), absl::StatusCode::kUnauthenticated, "indexName");
  ExpectedAttestation e = ExpectNv();
  e.register_value = Sha256("not the value");
  ExpectRejected(VerifyNv(g().nv.attest, e), absl::StatusCode::kUnauthenticated,
                 "not the expected register value");
}

TEST_F(TpmAttestTest, RejectsSha1AndOtherSignatureSchemesByName) {
  TPMT_SIGNATURE s = SignatureOf(g().nv.signature);
  s.signature.ecdsa.hash = TPM2_ALG_SHA1;
  ExpectRejected(ParseSignature(Marshal(s)).status(), absl::StatusCode::kInvalidArgument, "SHA-1");
  s.signature.ecdsa.hash = TPM2_ALG_SHA384;
  ExpectRejected(ParseSignature(Marshal(s)).status(), absl::StatusCode::kInvalidArgument, "SHA-384");
  TPMT_SIGNATURE rsa{};
  rsa.sigAlg = TPM2_ALG_RSASSA;
  rsa.signature.rsassa.hash = TPM2_ALG_SHA256;
  rsa.signature.rsassa.sig.size = 256;
  ExpectRejected(ParseSignature(Marshal(rsa)).status(), absl::StatusCode::kInvalidArgument,
                 "RSASSA");
  TPMT_SIGNATURE ecdaa = SignatureOf(g().nv.signature);
  ecdaa.sigAlg = TPM2_ALG_ECDAA;
  ExpectRejected(ParseSignature(Marshal(ecdaa)).status(), absl::StatusCode::kInvalidArgument,
                 "ECDAA");
}

TEST_F(TpmAttestTest, RejectsEveryTruncationOfEachStructure) {
  for (const std::string* full : {&g().nv.attest, &g().quote.attest}) {
    const AttestKind kind = full == &g().nv.attest ? AttestKind::kNvCertify : AttestKind::kPcrQuote;
    for (size_t n = 0; n < full->size(); ++n) {
      EXPECT_EQ(ParseAttest(full->substr(0, n), kind).status().code(),
                absl::StatusCode::kInvalidArgument)
          << n;
    }
  }
  for (size_t n = 0; n < g().nv.signature.size(); ++n) {
    EXPECT_FALSE(ParseSignature(g().nv.signature.substr(0, n)).ok()) << n;
  }
  for (size_t n = 0; n < g().ak_public.size(); ++n) {
    EXPECT_FALSE(ParseAkPublic(g().ak_public.substr(0, n)).ok()) << n;
  }
}

TEST_F(TpmAttestTest, RejectsTrailingGarbage) {
  ExpectRejected(ParseAttest(g().nv.attest + std::string(1, '\0'), AttestKind::kNvCertify).status(),
                 absl::StatusCode::kInvalidArgument, "1 trailing bytes");
  ExpectRejected(ParseAttest(g().quote.attest + "xy", AttestKind::kPcrQuote).status(),
                 absl::StatusCode::kInvalidArgument, "2 trailing bytes");
  ExpectRejected(ParseSignature(g().nv.signature + "x").status(), absl::StatusCode::kInvalidArgument,
                 "trailing");
  ExpectRejected(ParseAkPublic(g().ak_public + "x").status(), absl::StatusCode::kInvalidArgument,
                 "trailing");
  ExpectRejected(AkQualifiedName(g().ek_public + "x", g().ak_public).status(),
                 absl::StatusCode::kInvalidArgument, "trailing");
}

TEST_F(TpmAttestTest, RejectsOversizedInputs) {
  ExpectRejected(ParseAttest(std::string(kMaxAttestBytes + 1, 'a'), AttestKind::kNvCertify).status(),
                 absl::StatusCode::kInvalidArgument, "exceeds");
  ExpectRejected(ParseSignature(std::string(kMaxSignatureBytes + 1, 'a')).status(),
                 absl::StatusCode::kInvalidArgument, "exceeds");
  ExpectRejected(ParseAkPublic(std::string(kMaxPublicBytes + 1, 'a')).status(),
                 absl::StatusCode::kInvalidArgument, "exceeds");
}

TEST_F(TpmAttestTest, RejectsAkPublicOutsideTheProfile) {
  const TPM2B_PUBLIC genuine = PublicOf(g().ak_public);
  ASSERT_TRUE(ParseAkPublic(Marshal(genuine)).ok());
  struct Case {
    const char* reason;
    void (*edit)(TPMT_PUBLIC&);
  };
  const Case cases[] = {
      {"attributes", [](TPMT_PUBLIC& p) { p.objectAttributes &= ~TPMA_OBJECT_FIXEDTPM; }},
      {"attributes", [](TPMT_PUBLIC& p) { p.objectAttributes &= ~TPMA_OBJECT_RESTRICTED; }},
      {"attributes", [](TPMT_PUBLIC& p) { p.objectAttributes &= ~TPMA_OBJECT_FIXEDPARENT; }},
      {"attributes", [](TPMT_PUBLIC& p) { p.objectAttributes &= ~TPMA_OBJECT_SENSITIVEDATAORIGIN; }},
      {"attributes", [](TPMT_PUBLIC& p) { p.objectAttributes |= TPMA_OBJECT_DECRYPT; }},
      {"nameAlg SHA-1", [](TPMT_PUBLIC& p) { p.nameAlg = TPM2_ALG_SHA1; }},
      {"curve", [](TPMT_PUBLIC& p) { p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384; }},
      {"scheme ECDSA/SHA-1",
       [](TPMT_PUBLIC& p) { p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA1; }},
      {"not on P-256", [](TPMT_PUBLIC& p) { p.unique.ecc.y.buffer[31] ^= 1; }},
      {"32 each", [](TPMT_PUBLIC& p) { p.unique.ecc.x.size = 31; }},
  };
  for (const Case& c : cases) {
    TPM2B_PUBLIC p = genuine;
    c.edit(p.publicArea);
    absl::StatusOr<AkPublic> r = ParseAkPublic(Marshal(p));
    ASSERT_FALSE(r.ok()) << c.reason;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.reason));
  }
  // The EK and the AK are not interchangeable.
  EXPECT_FALSE(AkQualifiedName(g().ak_public, g().ak_public).ok());
  EXPECT_FALSE(AkQualifiedName(g().ek_public, g().ek_public).ok());
}

TEST_F(TpmAttestTest, RejectsCounterRegressions) {
  const TpmCounters base{1000, 5, 2};
  EXPECT_TRUE(CheckCounters(base, base).ok());
  EXPECT_TRUE(CheckCounters(base, {1001, 5, 2}).ok());
  EXPECT_TRUE(CheckCounters(base, {10, 5, 3}).ok());  // restart: clock may be anything
  EXPECT_TRUE(CheckCounters(base, {10, 6, 0}).ok());  // reset: restartCount starts over
  const struct {
    TpmCounters current;
    const char* reason;
  } bad[] = {{{5000, 4, 9}, "resetCount went back"},
             {{5000, 5, 1}, "restartCount went back"},
             {{999, 5, 2}, "clock went back"}};
  for (const auto& b : bad) {
    absl::Status s = CheckCounters(base, b.current);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << b.reason;
    EXPECT_THAT(std::string(s.message()), HasSubstr(b.reason));
  }
  // Against the genuine attestation's counters.
  absl::StatusOr<VerifiedAttestation> v = VerifyNv(g().nv.attest, ExpectNv());
  ASSERT_TRUE(v.ok());
  TpmCounters later = v->counters;
  later.reset_count += 1;
  EXPECT_EQ(CheckCounters(later, v->counters).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace fdattest
