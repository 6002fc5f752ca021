// libFuzzer target for the verifier's intake of an evidence bundle: the input
// is the bundle's bytes (a genuine bundle from `fdlaunch --evidence-out` is a
// seed as is). Evidence::Parse, then Manifest::Parse of the bundle's manifest,
// then the whole Verify() pipeline with fixed trust anchors (the seeds' AK
// and TPM CA) and a small fixed policy, then both reports; none may crash,
// read out of bounds, hit undefined behaviour or leak.
//
// Most mutations cannot get past the TPM's signature, so a second pass
// re-signs: when the input is a JSON object, it recomputes manifest_sha256,
// qualifying_data and register_value (from the log's digests) from the
// mutated content, patches the TPMS_ATTEST to certify them, signs it with a
// software P-256 key standing in for the AK, and runs Verify() on that. This
// drives the mutated event log, manifest and filter through steps 5-8. In
// this pass "manifest" may also be a JSON object (canonicalised, then
// base64-encoded), so mutations can work on the manifest's structure.
//
// Every input is also a differential test of the JSON document reader the
// bundle and manifest are read with (tests/support/json_oracle.h): nlohmann's
// parser must accept the same texts with the same values, and CanonicalJson
// must agree with what the reader says is canonical.
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <tss2/tss2_mu.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "common/base64.h"
#include "common/cel.h"
#include "common/evidence.h"
#include "common/json.h"
#include "common/manifest.h"
#include "common/openssl_ptr.h"
#include "common/sha256.h"
#include "verifier/policy_model.h"
#include "tests/support/json_oracle.h"
#include "tests/support/seed_bundles.h"
#include "verifier/report.h"
#include "verifier/verify.h"

namespace fdattest {
namespace {

using ::fdattest::testing::kSeedAkPublicHex;
using ::fdattest::testing::kSeedPolicy;
using ::fdattest::testing::kSeedTpmCaPem;

[[noreturn]] void Die(const char* what, absl::string_view why) {
  fprintf(stderr, "evidence_fuzzer: %s: %.*s\n", what, static_cast<int>(why.size()), why.data());
  abort();
}

// A software P-256 key in the AK's place: the seeds' AK public area with
// this key's point. Made once per process (a fresh key: nothing secret is
// checked in, and any key verifies the same way).
struct FakeAk {
  EvpPkeyPtr key;
  std::string public_area;  // marshalled TPM2B_PUBLIC
};

std::string Bn32(const BIGNUM* bn) {
  std::string out(32, '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), 32) != 32) {
    Die("BN_bn2binpad", "");
  }
  return out;
}

FakeAk MakeFakeAk() {
  FakeAk ak;
  ak.key.reset(EVP_EC_gen("P-256"));
  if (!ak.key) Die("EVP_EC_gen", "");
  const std::string seed = *HexDecode(kSeedAkPublicHex);
  TPM2B_PUBLIC pub{};
  size_t off = 0;
  if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(reinterpret_cast<const uint8_t*>(seed.data()), seed.size(),
                                     &off, &pub) != 0) {
    Die("seed AK", "does not unmarshal");
  }
  auto coordinate = [&](const char* name, TPM2B_ECC_PARAMETER* out) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(ak.key.get(), name, &raw) != 1) Die("EVP_PKEY_get_bn_param", name);
    BignumPtr bn(raw);
    const std::string b = Bn32(bn.get());
    out->size = 32;
    memcpy(out->buffer, b.data(), 32);
  };
  coordinate(OSSL_PKEY_PARAM_EC_PUB_X, &pub.publicArea.unique.ecc.x);
  coordinate(OSSL_PKEY_PARAM_EC_PUB_Y, &pub.publicArea.unique.ecc.y);
  uint8_t buf[sizeof(TPM2B_PUBLIC)];
  off = 0;
  pub.size = 0;  // recomputed by the marshaller
  if (Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, buf, sizeof(buf), &off) != 0) Die("marshal AK", "");
  ak.public_area.assign(reinterpret_cast<const char*>(buf), off);
  return ak;
}

// The marshalled TPMT_SIGNATURE (ECDSA, SHA-256) of `message` by `key`.
std::string SignAttest(EVP_PKEY* key, absl::string_view message) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    Die("EVP_DigestSign", "");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    Die("EVP_DigestSign", "");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, der_len),
                                                            &ECDSA_SIG_free);
  if (!sig) Die("d2i_ECDSA_SIG", "");
  TPMT_SIGNATURE t{};
  t.sigAlg = TPM2_ALG_ECDSA;
  t.signature.ecdsa.hash = TPM2_ALG_SHA256;
  const std::string r = Bn32(ECDSA_SIG_get0_r(sig.get()));
  const std::string s = Bn32(ECDSA_SIG_get0_s(sig.get()));
  t.signature.ecdsa.signatureR.size = 32;
  memcpy(t.signature.ecdsa.signatureR.buffer, r.data(), 32);
  t.signature.ecdsa.signatureS.size = 32;
  memcpy(t.signature.ecdsa.signatureS.buffer, s.data(), 32);
  uint8_t buf[sizeof(TPMT_SIGNATURE)];
  size_t off = 0;
  if (Tss2_MU_TPMT_SIGNATURE_Marshal(&t, buf, sizeof(buf), &off) != 0) Die("marshal sig", "");
  return std::string(reinterpret_cast<const char*>(buf), off);
}

struct Fixture {
  Policy policy;
  TrustAnchors seed_anchors;  // the seeds' AK and TPM CA
  FakeAk fake_ak;
  TrustAnchors fake_anchors;  // the software AK, no TPM CA
  // Shared across inputs, as a verifier service shares it: a genuine filter
  // is proven once, every mutated one once.
  FilterProofCache cache{256};
};

Fixture& GetFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    absl::StatusOr<Policy> policy = Policy::Parse(kSeedPolicy);
    if (!policy.ok()) Die("policy", policy.status().message());
    f->policy = *std::move(policy);
    f->seed_anchors.ak_public = *HexDecode(kSeedAkPublicHex);
    f->seed_anchors.tpm_ca_pem = std::string(kSeedTpmCaPem);
    f->fake_ak = MakeFakeAk();
    f->fake_anchors.ak_public = f->fake_ak.public_area;
    return f;
  }();
  return *fixture;
}

void RunVerify(absl::string_view evidence, const TrustAnchors& anchors,
               std::optional<std::string> nonce) {
  Fixture& f = GetFixture();
  VerifyRequest request;
  request.evidence = evidence;
  request.anchors = &anchors;
  request.policy = &f.policy;
  request.expected_nonce = std::move(nonce);
  request.cache = &f.cache;
  VerifyResult result = Verify(request);
  // EVIDENCE_FUZZER_VERBOSE=1 with an input file: what each pass concluded.
  static const bool verbose = getenv("EVIDENCE_FUZZER_VERBOSE") != nullptr;
  if (verbose) {
    fprintf(stderr, "evidence_fuzzer: %s: %s: %s\n",
            &anchors == &f.seed_anchors ? "as given" : "re-signed",
            std::string(VerdictName(result.verdict)).c_str(), result.reason.c_str());
  }
  (void)ReportText(result);
  (void)ReportJson(result).dump();
  // Steps 1-6 passed exactly when the result carries the manifest.
  if (result.manifest.has_value() != (result.failure != FailureClass::kBrokenEvidenceChain)) {
    Die("Verify", "manifest present iff the chain is intact");
  }
}

std::optional<std::string> StringAt(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// The re-signing pass (see the top of the file). Returns without verifying
// when the input lacks what a signature needs.
void ResignAndVerify(absl::string_view text) {
  absl::StatusOr<Json> parsed = ParseJsonStrict(text, JsonLimits{kMaxEvidenceBytes, 16});
  if (!parsed.ok() || !parsed->is_object()) return;
  Json& j = *parsed;

  auto m = j.find("manifest");
  if (m == j.end()) return;
  if (m->is_object()) {
    absl::StatusOr<std::string> bytes = CanonicalJson(*m);
    if (!bytes.ok()) return;
    *m = Base64Encode(*bytes);
  }
  std::optional<std::string> manifest_b64 = StringAt(j, "manifest");
  std::optional<std::string> nonce_hex = StringAt(j, "nonce");
  std::optional<std::string> attest_b64 = StringAt(j, "attest");
  std::optional<std::string> signer_hex = StringAt(j, "ak_qualified_name");
  auto log = j.find("event_log");
  if (!manifest_b64 || !nonce_hex || !attest_b64 || !signer_hex || log == j.end() ||
      !log->is_array()) {
    return;
  }
  absl::StatusOr<std::string> manifest = Base64Decode(*manifest_b64);
  absl::StatusOr<std::string> nonce = HexDecode(*nonce_hex);
  absl::StatusOr<std::string> attest_bytes = Base64Decode(*attest_b64);
  absl::StatusOr<std::string> signer = HexDecode(*signer_hex);
  if (!manifest.ok() || !nonce.ok() || !attest_bytes.ok() || !signer.ok()) return;

  const Sha256Digest manifest_sha256 = Sha256(*manifest);
  const Sha256Digest qualifying = EvidenceQualifyingData(*nonce, manifest_sha256);
  // What the log extends to from the reset value (the served log is one
  // epoch), whatever its records say otherwise.
  Sha256Digest value = kRegisterResetValue;
  for (const Json& record : *log) {
    if (!record.is_object()) continue;
    auto digests = record.find("digests");
    if (digests == record.end() || !digests->is_array() || digests->empty() ||
        !(*digests)[0].is_object()) {
      continue;
    }
    std::optional<std::string> hex = StringAt((*digests)[0], "digest");
    absl::StatusOr<std::string> raw = hex ? HexDecode(*hex) : absl::StatusOr<std::string>("");
    if (!raw.ok() || raw->size() != 32) continue;
    Sha256Digest d{};
    memcpy(d.data(), raw->data(), 32);
    value = ExtendRegister(value, d);
  }

  TPMS_ATTEST attest{};
  size_t off = 0;
  if (attest_bytes->size() > kMaxAttestBytes ||
      Tss2_MU_TPMS_ATTEST_Unmarshal(reinterpret_cast<const uint8_t*>(attest_bytes->data()),
                                    attest_bytes->size(), &off, &attest) != 0) {
    return;
  }
  attest.extraData.size = 32;
  memcpy(attest.extraData.buffer, qualifying.data(), 32);
  if (signer->size() <= sizeof(attest.qualifiedSigner.name)) {
    attest.qualifiedSigner.size = static_cast<uint16_t>(signer->size());
    memcpy(attest.qualifiedSigner.name, signer->data(), signer->size());
  }
  if (attest.type == TPM2_ST_ATTEST_NV) {
    attest.attested.nv.nvContents.size = 32;
    memcpy(attest.attested.nv.nvContents.buffer, value.data(), 32);
  } else if (attest.type == TPM2_ST_ATTEST_QUOTE) {
    const Sha256Digest pcr_digest =
        Sha256(absl::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
    attest.attested.quote.pcrDigest.size = 32;
    memcpy(attest.attested.quote.pcrDigest.buffer, pcr_digest.data(), 32);
  }
  uint8_t buf[sizeof(TPMS_ATTEST)];
  off = 0;
  if (Tss2_MU_TPMS_ATTEST_Marshal(&attest, buf, sizeof(buf), &off) != 0) return;
  const std::string signed_attest(reinterpret_cast<const char*>(buf), off);

  Fixture& f = GetFixture();
  j["manifest_sha256"] = HexEncode(manifest_sha256);
  j["qualifying_data"] = HexEncode(qualifying);
  j["register_value"] = HexEncode(value);
  j["attest"] = Base64Encode(signed_attest);
  j["signature"] = Base64Encode(SignAttest(f.fake_ak.key.get(), signed_attest));
  j["ak_public"] = Base64Encode(f.fake_ak.public_area);
  absl::StatusOr<std::string> resigned = CanonicalJson(j);
  if (!resigned.ok()) return;
  RunVerify(*resigned, f.fake_anchors, *nonce);
}

}  // namespace
}  // namespace fdattest

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // tss2-mu logs every refused structure to stderr: noise at this rate.
  setenv("TSS2_LOG", "all+none", /*overwrite=*/0);
  (void)fdattest::GetFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fdattest;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (const std::string why = CompareJsonDocumentWithOracle(text); !why.empty()) {
    fprintf(stderr, "JSON document reader disagrees with the oracle: %s\n", why.c_str());
    abort();
  }
  absl::StatusOr<Evidence> evidence = Evidence::Parse(text);
  if (evidence.ok()) {
    absl::StatusOr<Manifest> manifest = Manifest::Parse(evidence->manifest);
    if (manifest.ok()) (void)FdSetsOfManifest(*manifest);
    // The bundle's own nonce as the one expected (fresh: R11 evaluable).
    RunVerify(text, GetFixture().seed_anchors, evidence->nonce);
  }
  ResignAndVerify(text);
  return 0;
}
