// The verifier pipeline (verifier/verify.h) against tampered evidence, every
// case built from genuine evidence: the real fdlaunch and fdattestd on one
// private swtpm produce an NV-register bundle, a PCR-register bundle, a bundle
// after a TPM Reset, a second AK's certification of the same register, and an
// ordinary NV index certified by the enrolled AK (SetUpTestSuite, once).
// Manifests that the attestor now refuses to measure at all (no observed
// launch behind them), and observations that contradict the manifest, are
// tests/verifier/observation_test.cc's, on logs that test writes itself. Each case edits a copy
// of those bytes and calls Verify() directly; it must be a broken evidence
// chain failing at the named step with a reason naming what is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "attestor/tpm_context.h"
#include "attestor/tpm_keys.h"
#include "attestor/tpm_register.h"
#include "common/base64.h"
#include "common/cel.h"
#include "common/evidence.h"
#include "common/json.h"
#include "common/openssl_ptr.h"
#include "common/sha256.h"
#include "tests/support/swtpm.h"
#include "tests/verifier/evidence_fixture.h"
#include "verifier/policy.h"
#include "verifier/tpm_identity.h"
#include "verifier/verify.h"

namespace fdattest::e2e {
namespace {

using ::fdattest::testing::Swtpm;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// Marshalling of the TPM structures a case edits.

template <typename T, typename F>
std::string MarshalWith(const T& value, F fn) {
  std::vector<uint8_t> buf(sizeof(T) + 16);
  size_t off = 0;
  if (fn(&value, buf.data(), buf.size(), &off) != TSS2_RC_SUCCESS) return "";
  return std::string(reinterpret_cast<const char*>(buf.data()), off);
}

template <typename T, typename F>
T UnmarshalWith(const std::string& bytes, F fn) {
  T out{};
  size_t off = 0;
  fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &off, &out);
  return out;
}

std::string Marshal(const TPMS_ATTEST& a) { return MarshalWith(a, Tss2_MU_TPMS_ATTEST_Marshal); }
std::string Marshal(const TPMT_SIGNATURE& s) {
  return MarshalWith(s, Tss2_MU_TPMT_SIGNATURE_Marshal);
}
TPMS_ATTEST ParseAttestBytes(const std::string& b) {
  return UnmarshalWith<TPMS_ATTEST>(b, Tss2_MU_TPMS_ATTEST_Unmarshal);
}
TPMT_SIGNATURE ParseSignatureBytes(const std::string& b) {
  return UnmarshalWith<TPMT_SIGNATURE>(b, Tss2_MU_TPMT_SIGNATURE_Unmarshal);
}

// ---------------------------------------------------------------------------
// Bundle editing (the JSON form of docs/formats/evidence.md).

std::string Bytes(const Json& b, const char* key) {
  return Base64Decode(b[key].get<std::string>()).value_or("");
}
void SetBytes(Json& b, const char* key, absl::string_view raw) { b[key] = Base64Encode(raw); }

TPMS_ATTEST AttestOf(const Json& b) { return ParseAttestBytes(Bytes(b, "attest")); }
void SetAttest(Json& b, const TPMS_ATTEST& a) { SetBytes(b, "attest", Marshal(a)); }
TPMT_SIGNATURE SignatureOf(const Json& b) { return ParseSignatureBytes(Bytes(b, "signature")); }
void SetSignature(Json& b, const TPMT_SIGNATURE& s) { SetBytes(b, "signature", Marshal(s)); }

std::string RawNonce(const Json& b) {
  return HexDecode(b["nonce"].get<std::string>()).value_or("");
}

Json ManifestOf(const Json& b) {
  return ParseJsonStrict(Bytes(b, "manifest")).value_or(Json::object());
}

// The index in event_log of this launch's record of `type`, or -1.
int OwnRecord(const Json& b, absl::string_view type) {
  const Json& log = b["event_log"];
  for (size_t i = 0; i < log.size(); ++i) {
    const Json& r = log[i];
    if (r.contains("content") && r["content"]["type"] == std::string(type) &&
        r["content"]["data"]["launch_id"] == b["launch_id"]) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Re-derives what follows from the manifest and nonce so the bundle agrees
// with itself: manifest_sha256, qualifying_data and this launch's
// launch_manifest record. Only the TPM's signature still knows better.
void Rebind(Json& b) {
  const Sha256Digest digest = Sha256(Bytes(b, "manifest"));
  b["manifest_sha256"] = HexEncode(digest);
  b["qualifying_data"] = HexEncode(EvidenceQualifyingData(RawNonce(b), digest));
  const int own = OwnRecord(b, "launch_manifest");
  if (own >= 0) {
    b["event_log"][own]["content"]["data"]["manifest_sha256"] = HexEncode(digest);
    b["event_log"][own]["digests"][0]["digest"] = HexEncode(digest);
  }
}

// Edits the data of this launch's first record of `type` and gives the record
// the digest its new content defines (what a forger can do without the TPM).
void EditOwnRecord(Json& b, absl::string_view type, const std::function<void(Json&)>& edit) {
  Json& r = b["event_log"][OwnRecord(b, type)];
  edit(r["content"]["data"]);
  r["digests"][0]["digest"] = HexEncode(Sha256(CanonicalJson(r["content"]).value_or("")));
}

void SetManifest(Json& b, const Json& manifest, bool rebind) {
  SetBytes(b, "manifest", CanonicalJson(manifest).value_or(""));
  if (rebind) Rebind(b);
}

void EditManifest(Json& b, const std::function<void(Json&)>& edit, bool rebind = true) {
  Json m = ManifestOf(b);
  edit(m);
  SetManifest(b, m, rebind);
}

// Names `reg` as the register of the bundle and of every record.
void SetRegister(Json& b, const Json& reg) {
  b["register"] = reg;
  for (Json& r : b["event_log"]) {
    r.erase("nv_index");
    r.erase("pcr");
    if (reg["kind"] == "nv") {
      r["nv_index"] = reg["nv_index"];
    } else {
      r["pcr"] = reg["pcr"];
    }
  }
}

void Renumber(Json& b) {
  uint64_t next = b["event_log"][0]["recnum"].get<uint64_t>();
  for (Json& r : b["event_log"]) r["recnum"] = next++;
}

// A record naming the bundle's register, with `content` or redacted.
Json MakeRecord(const Json& b, uint64_t recnum, const Sha256Digest& digest,
                std::optional<Json> content) {
  Json r = {{"recnum", recnum},
            {"content_type", "fdattest"},
            {"digests", Json::array({{{"hashAlg", "sha256"}, {"digest", HexEncode(digest)}}})}};
  if (b["register"]["kind"] == "nv") {
    r["nv_index"] = b["register"]["nv_index"];
  } else {
    r["pcr"] = b["register"]["pcr"];
  }
  if (content) {
    r["content"] = *content;
  } else {
    r["redacted"] = true;
  }
  return r;
}

std::string FlipHex(std::string hex) {
  hex[0] = hex[0] == '0' ? '1' : '0';
  return hex;
}

// The manifest's filter with its first `ret #k` that is not
// SECCOMP_RET_ALLOW turned into one, bpf_base64 and sha256 kept consistent.
void LoosenFilter(Json& manifest) {
  std::string bpf = *Base64Decode(manifest["filter"]["bpf_base64"].get<std::string>());
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(bpf[i])); };
  for (size_t off = 0; off + 8 <= bpf.size(); off += 8) {
    const uint32_t code = byte(off) | byte(off + 1) << 8;
    const uint32_t k =
        byte(off + 4) | byte(off + 5) << 8 | byte(off + 6) << 16 | byte(off + 7) << 24;
    if (code == 0x06 /* BPF_RET | BPF_K */ && k != 0x7fff0000u /* SECCOMP_RET_ALLOW */) {
      const std::string allow("\x00\x00\xff\x7f", 4);
      bpf.replace(off + 4, 4, allow);
      break;
    }
  }
  manifest["filter"]["bpf_base64"] = Base64Encode(bpf);
  manifest["filter"]["sha256"] = HexEncode(Sha256(bpf));
}

// ---------------------------------------------------------------------------
// Genuine evidence, produced once.

struct Genuine {
  ScratchDir dir;
  std::unique_ptr<JobMounts> mounts;
  std::unique_ptr<Swtpm> tpm;
  std::string ca_pem;
  Policy policy;

  // NV register, AK1: an attested launch without evidence (L0), then the
  // launch under test.
  std::string ak1;
  std::string l0_launch_id;
  Json nv;
  // A second AK on the same TPM certified the same register for the same
  // nonce and manifest: a genuine bundle of another attester.
  std::string ak2;
  Json nv_by_ak2;
  // The enrolled AK certified an ordinary NV index (TPM_NT_ORDINARY) defined
  // at the register's handle and written with the register's value.
  std::string ordinary_attest, ordinary_signature;

  // PCR 15, AK3.
  std::string ak3;
  Json pcr;
  // PCR 15 again after a TPM Reset (power cycle without TPM2_Shutdown).
  Json after_reset;
  bool after_reset_clock_unsafe = false;
  // PCR 16 (resettable by any TPM client), AK4, fdattestd told to allow it.
  std::string ak4;
  Json resettable_pcr;

  std::string foreign_ek_certificate;  // self-signed, RSA 2048
};

Genuine* genuine = nullptr;

absl::StatusOr<Json> ParseBundle(const std::string& text) { return ParseJsonStrict(text); }

absl::StatusOr<TpmAttestation> ToAttestation(const TPM2B_ATTEST& attest,
                                             const TPMT_SIGNATURE& sig) {
  TpmAttestation out;
  out.attest.assign(reinterpret_cast<const char*>(attest.attestationData), attest.size);
  out.signature = Marshal(sig);
  if (out.signature.empty()) return absl::InternalError("TPMT_SIGNATURE does not marshal");
  return out;
}

// With the daemon stopped, the test itself uses the TPM: a second AK
// certifies the register, then the register is replaced by an ordinary NV
// index holding the same value, which the enrolled AK certifies.
absl::Status ForgeWithTheTpm(Genuine& g, const std::string& nv_state_dir) {
  ASSIGN_OR_RETURN(std::unique_ptr<EsysContext> ctx, EsysContext::Open({.tcti = g.tpm->tcti()}));
  ESYS_CONTEXT* esys = ctx->get();
  ASSIGN_OR_RETURN(std::unique_ptr<AttestationKey> ak1,
                   AttestationKey::LoadOrCreate(*ctx, nv_state_dir));
  const std::string ak2_dir = g.dir.Path("ak2");
  if (mkdir(ak2_dir.c_str(), 0700) != 0) return ErrnoStatus("mkdir", errno);
  ASSIGN_OR_RETURN(std::unique_ptr<AttestationKey> ak2,
                   AttestationKey::LoadOrCreate(*ctx, ak2_dir));
  if (ak1->public_area() != g.ak1) return absl::InternalError("the loaded AK is not fdattestd's");
  g.ak2 = ak2->public_area();
  const std::string qualifying = *HexDecode(g.nv["qualifying_data"].get<std::string>());
  const uint32_t index = g.nv["register"]["nv_index"].get<uint32_t>();
  {
    ASSIGN_OR_RETURN(std::unique_ptr<NvRegister> reg,
                     NvRegister::Open(*ctx, nv_state_dir, {.index = index}));
    ASSIGN_OR_RETURN(Sha256Digest value, reg->Read());
    if (HexEncode(value) != g.nv["register_value"]) {
      return absl::InternalError("the register moved after the launch under test");
    }
    ASSIGN_OR_RETURN(TpmAttestation cert, reg->Certify(*ak2, qualifying));
    g.nv_by_ak2 = g.nv;
    SetBytes(g.nv_by_ak2, "attest", cert.attest);
    SetBytes(g.nv_by_ak2, "signature", cert.signature);
    SetBytes(g.nv_by_ak2, "ak_public", ak2->public_area());
    g.nv_by_ak2["ak_qualified_name"] = HexEncode(ak2->qualified_name());
  }

  // Undefine the register (the swtpm's owner auth is empty) and define an
  // ordinary index at its handle.
  ESYS_TR old_tr = ESYS_TR_NONE;
  TSS2_RC rc =
      Esys_TR_FromTPMPublic(esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &old_tr);
  RETURN_IF_ERROR(TpmStatus(rc, "Esys_TR_FromTPMPublic(register)"));
  rc = Esys_NV_UndefineSpace(esys, ESYS_TR_RH_OWNER, old_tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_NV_UndefineSpace(register)"));
  TPM2B_NV_PUBLIC pub{};
  pub.nvPublic.nvIndex = index;
  pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
  pub.nvPublic.attributes = (TPM2_NT_ORDINARY << TPMA_NV_TPM2_NT_SHIFT) | TPMA_NV_AUTHWRITE |
                            TPMA_NV_AUTHREAD | TPMA_NV_OWNERREAD | TPMA_NV_NO_DA;
  pub.nvPublic.dataSize = 32;
  TPM2B_AUTH empty{};
  ESYS_TR tr = ESYS_TR_NONE;
  rc = Esys_NV_DefineSpace(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                           &empty, &pub, &tr);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_NV_DefineSpace(ordinary)"));
  TpmHandle ordinary(esys, tr, TpmHandle::Kind::kClose);
  TPM2B_MAX_NV_BUFFER data{};
  const std::string value = *HexDecode(g.nv["register_value"].get<std::string>());
  data.size = static_cast<UINT16>(value.size());
  std::copy(value.begin(), value.end(), data.buffer);
  rc = Esys_NV_Write(esys, tr, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &data, 0);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_NV_Write(ordinary)"));
  TPM2B_DATA qd{};
  qd.size = static_cast<UINT16>(qualifying.size());
  std::copy(qualifying.begin(), qualifying.end(), qd.buffer);
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;
  TPM2B_ATTEST* raw_attest = nullptr;
  TPMT_SIGNATURE* raw_sig = nullptr;
  rc = Esys_NV_Certify(esys, ak1->handle(), tr, tr, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD,
                       ESYS_TR_NONE, &qd, &scheme, 32, 0, &raw_attest, &raw_sig);
  EsysPtr<TPM2B_ATTEST> attest(raw_attest);
  EsysPtr<TPMT_SIGNATURE> sig(raw_sig);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_NV_Certify(ordinary)"));
  ASSIGN_OR_RETURN(TpmAttestation cert, ToAttestation(*attest, *sig));
  g.ordinary_attest = cert.attest;
  g.ordinary_signature = cert.signature;
  return absl::OkStatus();
}

absl::StatusOr<std::string> SelfSignedRsaCertificate() {
  EvpPkeyPtr key(EVP_RSA_gen(2048));
  X509Ptr cert(X509_new());
  if (!key || !cert) return OpenSslStatus("RSA key / X509");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Not A TPM Vendor"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return OpenSslStatus("X509_sign");
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert.get(), &der);
  if (n <= 0) return OpenSslStatus("i2d_X509");
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<Json> LaunchAndParse(Genuine& g, const std::string& profile, const Fdattestd& d,
                                    const std::string& name) {
  ASSIGN_OR_RETURN(Launch launch,
                   LaunchAttested(profile, d.socket(), g.dir.path(), name, RandomHex(32)));
  return ParseBundle(launch.evidence);
}

absl::Status BuildGenuine(Genuine& g) {
  if (!g.dir.ok()) return absl::InternalError("no scratch directory");
  ASSIGN_OR_RETURN(g.mounts, JobMounts::Create(g.dir.path(), "patients.csv", "id,dx\n1,J45\n"));
  const std::string profile = g.dir.Path("profile.json");
  RETURN_IF_ERROR(WriteFile(profile, PhiChecksumProfile(*g.mounts)));
  ASSIGN_OR_RETURN(std::string ca_path, Swtpm::CaCertPemPath());
  ASSIGN_OR_RETURN(g.ca_pem, ReadFile(ca_path));
  ASSIGN_OR_RETURN(std::string policy_text,
                   ReadFile(SourcePath("examples/policies/hipaa-phi-etl.json")));
  ASSIGN_OR_RETURN(g.policy, Policy::Parse(policy_text));
  ASSIGN_OR_RETURN(g.foreign_ek_certificate, SelfSignedRsaCertificate());
  ASSIGN_OR_RETURN(g.tpm, Swtpm::Start());

  // NV register.
  std::string nv_state_dir;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Fdattestd> d,
                     Fdattestd::Start(g.tpm->tcti(), g.dir.Path("nv"), {}));
    ASSIGN_OR_RETURN(Launch l0, LaunchAttested(profile, d->socket(), g.dir.path(), "l0", "",
                                               /*with_evidence=*/false));
    ASSIGN_OR_RETURN(Json l0_manifest, ParseJsonStrict(l0.manifest));
    g.l0_launch_id = l0_manifest["launch_id"].get<std::string>();
    ASSIGN_OR_RETURN(g.nv, LaunchAndParse(g, profile, *d, "nv"));
    RETURN_IF_ERROR(d->Stop());
    ASSIGN_OR_RETURN(g.ak1, d->AkPublic());
    nv_state_dir = d->state_dir();
  }
  RETURN_IF_ERROR(ForgeWithTheTpm(g, nv_state_dir));

  const std::vector<std::string> pcr15 = {"--register", absl::StrCat("pcr:", kMeasurementPcr)};
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Fdattestd> d,
                     Fdattestd::Start(g.tpm->tcti(), g.dir.Path("pcr"), pcr15));
    ASSIGN_OR_RETURN(g.pcr, LaunchAndParse(g, profile, *d, "pcr"));
    RETURN_IF_ERROR(d->Stop());
    ASSIGN_OR_RETURN(g.ak3, d->AkPublic());
  }
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Fdattestd> d,
                     Fdattestd::Start(g.tpm->tcti(), g.dir.Path("pcr16"),
                                      {"--register", "pcr:16", "--allow-resettable-pcr"}));
    ASSIGN_OR_RETURN(g.resettable_pcr, LaunchAndParse(g, profile, *d, "pcr16"));
    RETURN_IF_ERROR(d->Stop());
    ASSIGN_OR_RETURN(g.ak4, d->AkPublic());
  }
  // A TPM Reset without an orderly shutdown, then the PCR attester again.
  RETURN_IF_ERROR(g.tpm->Restart());
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Fdattestd> d,
                     Fdattestd::Start(g.tpm->tcti(), g.dir.Path("pcr"), pcr15));
    ASSIGN_OR_RETURN(g.after_reset, LaunchAndParse(g, profile, *d, "after-reset"));
    RETURN_IF_ERROR(d->Stop());
  }
  g.after_reset_clock_unsafe = AttestOf(g.after_reset).clockInfo.safe != TPM2_YES;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Cases.

// One verification's input: a bundle (or verbatim text) and the request.
struct Input {
  Json bundle;
  std::optional<std::string> text;
  TrustAnchors anchors;
  std::optional<std::string> expected_nonce;
  std::optional<std::string> nonce_refusal;
  std::optional<TpmCounters> previous;
};

Input Base(const Json& bundle, const std::string& ak) {
  Input in;
  in.bundle = bundle;
  in.anchors.ak_public = ak;
  in.anchors.tpm_ca_pem = genuine->ca_pem;
  in.expected_nonce = RawNonce(bundle);
  return in;
}
Input NvInput() { return Base(genuine->nv, genuine->ak1); }
Input PcrInput() { return Base(genuine->pcr, genuine->ak3); }

std::string TextOf(const Input& in) {
  return in.text ? *in.text : CanonicalJson(in.bundle).value_or("");
}

VerifyResult VerifyInput(const Input& in, IdentityCache* identities = nullptr) {
  const std::string text = TextOf(in);
  VerifyRequest request;
  request.identity_cache = identities;
  request.evidence = text;
  request.anchors = &in.anchors;
  request.policy = &genuine->policy;
  request.expected_nonce = in.expected_nonce;
  if (in.nonce_refusal) {
    request.consume_nonce = [refusal = *in.nonce_refusal](absl::string_view) {
      return absl::PermissionDeniedError(refusal);
    };
  }
  request.previous_counters = in.previous;
  return Verify(request);
}

TpmCounters SignedCounters(const Json& bundle) {
  const TPMS_ATTEST a = AttestOf(bundle);
  return {a.clockInfo.clock, a.clockInfo.resetCount, a.clockInfo.restartCount};
}

struct Case {
  const char* name;
  void (*mutate)(Input&);
  const char* step;
  const char* reason;
};

constexpr char kExtraData[] = "extraData is not the expected qualifying data";
constexpr char kReplaysTo[] = "the event log replays to";
constexpr char kIndexName[] = "indexName is not the register's name";

const Case kCases[] = {
    // --- nonce ---
    {"WrongExpectedNonce", [](Input& in) { in.expected_nonce = std::string(32, 'x'); }, "nonce",
     "not the one this verifier issued"},
    {"NonceRefusedByTheVerifierState",
     [](Input& in) {
       in.nonce_refusal = "the bundle's nonce was not issued by this verifier, or was already used";
     },
     "nonce", "already used"},
    {"NonceReplacedWithTheVerifiersAndQualifyingDataRecomputed",
     [](Input& in) {
       in.expected_nonce = std::string(32, 'n');
       in.bundle["nonce"] = HexEncode(*in.expected_nonce);
       Rebind(in.bundle);
     },
     "attestation", kExtraData},
    {"NonceInUppercaseHex",
     [](Input& in) {
       std::string hex = in.bundle["nonce"].get<std::string>();
       for (char& c : hex) c = static_cast<char>(toupper(c));
       in.bundle["nonce"] = hex;
     },
     "evidence", "evidence.nonce must be lowercase hex"},
    {"EmptyNonceInBundle", [](Input& in) { in.bundle["nonce"] = ""; }, "evidence",
     "evidence.nonce must be 1..64 bytes"},
    {"OversizedNonce65Bytes",
     [](Input& in) {
       in.bundle["nonce"] = HexEncode(std::string(65, 'o'));
       Rebind(in.bundle);
     },
     "evidence", "evidence.nonce must be 1..64 bytes"},

    // --- identity ---
    {"AkSwappedForASecondAttestersGenuineCertification",
     [](Input& in) { in.bundle = genuine->nv_by_ak2; }, "identity", "not the enrolled AK"},
    {"AkPublicTruncated",
     [](Input& in) {
       std::string ak = Bytes(in.bundle, "ak_public");
       SetBytes(in.bundle, "ak_public", ak.substr(0, ak.size() - 1));
     },
     "identity", "not the enrolled AK"},
    {"AkPublicTruncatedAndEnrolledSo",
     [](Input& in) {
       std::string ak = Bytes(in.bundle, "ak_public").substr(0, genuine->ak1.size() - 1);
       SetBytes(in.bundle, "ak_public", ak);
       in.anchors.ak_public = ak;
     },
     "identity", "malformed TPM2B_PUBLIC"},
    {"AkPublicWithTrailingGarbageEnrolledSo",
     [](Input& in) {
       std::string ak = Bytes(in.bundle, "ak_public") + "junk";
       SetBytes(in.bundle, "ak_public", ak);
       in.anchors.ak_public = ak;
     },
     "identity", "trailing bytes after TPM2B_PUBLIC"},
    {"AkQualifiedNameEdited",
     [](Input& in) {
       in.bundle["ak_qualified_name"] = FlipHex(in.bundle["ak_qualified_name"].get<std::string>());
     },
     "ek", "qualified name is not the one under the certified EK"},
    {"AkQualifiedNameEditedWithoutTpmCa",
     [](Input& in) {
       in.anchors.tpm_ca_pem.clear();
       std::string qn = in.bundle["ak_qualified_name"].get<std::string>();
       qn[10] = qn[10] == 'a' ? 'b' : 'a';
       in.bundle["ak_qualified_name"] = qn;
     },
     "attestation", "qualifiedSigner is not the AK's qualified name"},
    {"EkCertificateFromAnotherCa",
     [](Input& in) { SetBytes(in.bundle, "ek_certificate", genuine->foreign_ek_certificate); },
     "ek", "does not chain to a trusted TPM CA"},

    // --- the TPM's signed statement ---
    {"SignatureBitFlipped",
     [](Input& in) {
       TPMT_SIGNATURE s = SignatureOf(in.bundle);
       s.signature.ecdsa.signatureR.buffer[7] ^= 0x01;
       SetSignature(in.bundle, s);
     },
     "attestation", "ECDSA signature does not verify with the AK"},
    {"SignatureHashSha1",
     [](Input& in) {
       TPMT_SIGNATURE s = SignatureOf(in.bundle);
       s.signature.ecdsa.hash = TPM2_ALG_SHA1;
       SetSignature(in.bundle, s);
     },
     "attestation", "SHA-1 refused"},
    {"AttestMagicChanged",
     [](Input& in) {
       std::string a = Bytes(in.bundle, "attest");
       a[3] ^= 0x01;
       SetBytes(in.bundle, "attest", a);
     },
     "attestation", "is not TPM_GENERATED_VALUE"},
    {"AttestTypeSwappedNvCertificationPresentedAsQuote",
     [](Input& in) {
       SetRegister(in.bundle, {{"bank", "sha256"}, {"kind", "pcr"}, {"pcr", kMeasurementPcr}});
     },
     "attestation", "expected PCR quote"},
    {"AttestTypeSwappedQuotePresentedAsNvCertification",
     [](Input& in) {
       in = PcrInput();
       SetRegister(in.bundle, genuine->nv["register"]);
     },
     "attestation", "expected NV certify"},
    {"QualifiedSignerInAttestChanged",
     [](Input& in) {
       TPMS_ATTEST a = AttestOf(in.bundle);
       a.qualifiedSigner.name[10] ^= 0x01;
       SetAttest(in.bundle, a);
     },
     "attestation", "qualifiedSigner is not the AK's qualified name"},
    {"ExtraDataEdited",
     [](Input& in) {
       TPMS_ATTEST a = AttestOf(in.bundle);
       a.extraData.buffer[0] ^= 0x01;
       SetAttest(in.bundle, a);
     },
     "attestation", kExtraData},
    {"QualifyingDataFieldEdited",
     [](Input& in) {
       in.bundle["qualifying_data"] = FlipHex(in.bundle["qualifying_data"].get<std::string>());
     },
     "evidence", "evidence.qualifying_data is not the one the nonce and manifest define"},
    {"ClockNotSafe",
     [](Input& in) {
       if (genuine->after_reset_clock_unsafe) {
         // Genuine: the TPM itself signed safe = NO after the unorderly reset.
         in = Base(genuine->after_reset, genuine->ak3);
       } else {
         // swtpm signed safe = YES even after the reset: edit the byte. The
         // signature would fail too, but content checks come first.
         TPMS_ATTEST a = AttestOf(in.bundle);
         a.clockInfo.safe = TPM2_NO;
         SetAttest(in.bundle, a);
       }
     },
     "attestation", "clock not safe"},
    {"PcrSelectionChanged",
     [](Input& in) {
       in = PcrInput();
       SetRegister(in.bundle, {{"bank", "sha256"}, {"kind", "pcr"}, {"pcr", kMeasurementPcr - 1}});
     },
     "attestation", "PCR selection is not exactly sha256:14"},
    {"PcrRegisterValueEdited",
     [](Input& in) {
       in = PcrInput();
       in.bundle["register_value"] = FlipHex(in.bundle["register_value"].get<std::string>());
     },
     "attestation", "pcrDigest is not SHA-256 of the expected PCR value"},
    {"NvRegisterValueEdited",
     [](Input& in) {
       in.bundle["register_value"] = FlipHex(in.bundle["register_value"].get<std::string>());
     },
     "attestation", "certified value is not the expected register value"},
    {"NvIndexHandleChanged",
     [](Input& in) {
       Json reg = in.bundle["register"];
       reg["nv_index"] = reg["nv_index"].get<uint32_t>() + 1;
       SetRegister(in.bundle, reg);
     },
     "attestation", kIndexName},
    {"OrdinaryNvIndexCertifiedByTheEnrolledAk",
     [](Input& in) {
       SetBytes(in.bundle, "attest", genuine->ordinary_attest);
       SetBytes(in.bundle, "signature", genuine->ordinary_signature);
     },
     "attestation", kIndexName},
    {"ResetCountFieldEdited",
     [](Input& in) { in.bundle["reset_count"] = in.bundle["reset_count"].get<uint32_t>() + 1; },
     "attestation", "reset/restart counts are not the ones the TPM signed"},
    {"ResetCountBehindTheLastSeen",
     [](Input& in) {
       TpmCounters c = SignedCounters(in.bundle);
       ++c.reset_count;
       in.previous = c;
     },
     "counters", "resetCount went back"},
    {"RestartCountBehindTheLastSeen",
     [](Input& in) {
       TpmCounters c = SignedCounters(in.bundle);
       ++c.restart_count;
       in.previous = c;
     },
     "counters", "restartCount went back"},
    {"ClockBehindTheLastSeen",
     [](Input& in) {
       TpmCounters c = SignedCounters(in.bundle);
       c.clock += 60000;
       in.previous = c;
     },
     "counters", "clock went back"},

    // --- the event log ---
    {"EventRecordsSwapped",
     [](Input& in) { std::swap(in.bundle["event_log"][1], in.bundle["event_log"][2]); },
     "event_log", "comes next"},
    {"EventRecordsReorderedAndRenumbered",
     [](Input& in) {
       std::swap(in.bundle["event_log"][1], in.bundle["event_log"][2]);
       Renumber(in.bundle);
     },
     "event_log", kReplaysTo},
    {"EventRecordDroppedAndRenumbered",
     [](Input& in) {
       in.bundle["event_log"].erase(1);
       Renumber(in.bundle);
     },
     "event_log", kReplaysTo},
    {"EventRecordInsertedAndRenumbered",
     [](Input& in) {
       Json& log = in.bundle["event_log"];
       log.insert(log.begin() + 1, MakeRecord(in.bundle, 0, Sha256("inserted"), std::nullopt));
       Renumber(in.bundle);
     },
     "event_log", kReplaysTo},
    {"OwnManifestRecordDuplicated",
     [](Input& in) {
       Json& log = in.bundle["event_log"];
       const int own = OwnRecord(in.bundle, "launch_manifest");
       log.insert(log.begin() + own + 1, log[own]);
       Renumber(in.bundle);
     },
     "event_log", "duplicate launch_manifest"},
    {"RecordForThisLaunchAfterItsSeparator",
     [](Input& in) {
       Json& log = in.bundle["event_log"];
       Json again = log[OwnRecord(in.bundle, "launch_separator")];
       again["recnum"] = log.back()["recnum"].get<uint64_t>() + 1;
       log.push_back(again);
     },
     "event_log", "after that launch's separator"},
    {"EpochRecordDropped", [](Input& in) { in.bundle["event_log"].erase(0); }, "event_log",
     "must begin with its epoch record"},
    {"SecondEpochAppended",
     [](Input& in) {
       const Json content = {
           {"type", "epoch"},
           {"data",
            {{"reset_count", in.bundle["reset_count"].get<uint32_t>() + 1}, {"restart_count", 0}}}};
       Json& log = in.bundle["event_log"];
       log.push_back(MakeRecord(in.bundle, log.back()["recnum"].get<uint64_t>() + 1,
                                Sha256(*CanonicalJson(content)), content));
     },
     "event_log", "a second epoch record"},
    {"OwnManifestRecordRedacted",
     [](Input& in) {
       Json& r = in.bundle["event_log"][OwnRecord(in.bundle, "launch_manifest")];
       r.erase("content");
       r["redacted"] = true;
     },
     "event_log", "without its launch_manifest"},
    {"OwnManifestObservationAndSeparatorRedacted",
     [](Input& in) {
       for (const char* type : {"launch_manifest", "launch_observation", "launch_separator"}) {
         Json& r = in.bundle["event_log"][OwnRecord(in.bundle, type)];
         r.erase("content");
         r["redacted"] = true;
       }
     },
     "event_log", "no launch_manifest record for launch"},
    {"OwnSeparatorRedacted",
     [](Input& in) {
       Json& r = in.bundle["event_log"][OwnRecord(in.bundle, "launch_separator")];
       r.erase("content");
       r["redacted"] = true;
     },
     "event_log", "has no launch_separator"},
    {"OwnLoadObservationRedacted",
     [](Input& in) {
       Json& r = in.bundle["event_log"][OwnRecord(in.bundle, "launch_observation")];
       r.erase("content");
       r["redacted"] = true;
     },
     "event_log", "observation"},
    // The load observation made to say the launch happened after the
    // verifier's nonce, or was measured by the reference launcher: its
    // digest follows its content, and the register does not.
    {"OwnLoadObservationNonceReplacedAndRedigested",
     [](Input& in) {
       EditOwnRecord(in.bundle, "launch_observation", [](Json& data) {
         data["nonce"] = FlipHex(data["nonce"].get<std::string>());
       });
     },
     "event_log", kReplaysTo},
    {"OwnLoadObservationLauncherReplacedAndRedigested",
     [](Input& in) {
       EditOwnRecord(in.bundle, "launch_observation", [](Json& data) {
         data["peer_exe_sha256"] = FlipHex(data["peer_exe_sha256"].get<std::string>());
       });
     },
     "event_log", kReplaysTo},
    {"LaunchIdOfAnotherLaunch", [](Input& in) { in.bundle["launch_id"] = genuine->l0_launch_id; },
     "event_log", "no launch_manifest record for launch"},

    // --- the manifest ---
    {"ManifestRoleEditedAndRebound",
     [](Input& in) { EditManifest(in.bundle, [](Json& m) { m["fds"][0]["role"] = "audit-log"; }); },
     "attestation", kExtraData},
    {"ManifestAccessModeEditedAndRebound",
     [](Input& in) { EditManifest(in.bundle, [](Json& m) { m["fds"][1]["access"] = "a"; }); },
     "attestation", kExtraData},
    {"ManifestExeDigestEditedAndRebound",
     [](Input& in) {
       EditManifest(in.bundle,
                    [](Json& m) { m["exe"]["sha256"] = HexEncode(Sha256("other exe")); });
     },
     "attestation", kExtraData},
    {"ManifestInodeFingerprintEditedAndRebound",
     [](Input& in) {
       EditManifest(in.bundle, [](Json& m) {
         m["fds"][0]["stat"]["ino"] = m["fds"][0]["stat"]["ino"].get<uint64_t>() + 1;
       });
     },
     "attestation", kExtraData},
    {"ManifestMountMadeReadOnlyAndRebound",
     [](Input& in) {
       EditManifest(in.bundle, [](Json& m) { m["fds"][1]["mount"]["read_only"] = true; });
     },
     "attestation", kExtraData},
    {"ManifestEditedWithoutItsDigest",
     [](Input& in) {
       EditManifest(
           in.bundle, [](Json& m) { m["exe"]["sha256"] = HexEncode(Sha256("other exe")); },
           /*rebind=*/false);
     },
     "evidence", "manifest_sha256 is not the sha256 of the manifest"},
    {"ManifestAndDigestEditedButNotQualifyingData",
     [](Input& in) {
       EditManifest(
           in.bundle, [](Json& m) { m["exe"]["sha256"] = HexEncode(Sha256("other exe")); },
           /*rebind=*/false);
       in.bundle["manifest_sha256"] = HexEncode(Sha256(Bytes(in.bundle, "manifest")));
     },
     "evidence", "qualifying_data is not the one the nonce and manifest define"},
    {"FilterLoosenedByOneRuleAndRebound", [](Input& in) { EditManifest(in.bundle, LoosenFilter); },
     "attestation", kExtraData},
    {"FilterHashNotOfItsBytesAndRebound",
     [](Input& in) {
       EditManifest(in.bundle, [](Json& m) {
         m["filter"]["sha256"] = FlipHex(m["filter"]["sha256"].get<std::string>());
       });
     },
     "attestation", kExtraData},
    // --- banks ---
    {"RegisterBankSha1",
     [](Input& in) {
       in = PcrInput();
       in.bundle["register"]["bank"] = "sha1";
     },
     "evidence", "bank must be \"sha256\""},
    {"RecordDigestInSha1Bank",
     [](Input& in) { in.bundle["event_log"][0]["digests"][0]["hashAlg"] = "sha1"; }, "evidence",
     "unsupported bank \"sha1\""},

    // --- truncation and trailing garbage ---
    {"AttestTruncated",
     [](Input& in) {
       const std::string a = Bytes(in.bundle, "attest");
       SetBytes(in.bundle, "attest", a.substr(0, a.size() - 3));
     },
     "attestation", "malformed TPMS_ATTEST"},
    {"AttestWithTrailingGarbage",
     [](Input& in) { SetBytes(in.bundle, "attest", Bytes(in.bundle, "attest") + "xx"); },
     "attestation", "2 trailing bytes after TPMS_ATTEST"},
    {"SignatureTruncated",
     [](Input& in) {
       const std::string s = Bytes(in.bundle, "signature");
       SetBytes(in.bundle, "signature", s.substr(0, s.size() - 3));
     },
     "attestation", "malformed TPMT_SIGNATURE"},
    {"SignatureWithTrailingGarbage",
     [](Input& in) { SetBytes(in.bundle, "signature", Bytes(in.bundle, "signature") + "x"); },
     "attestation", "1 trailing bytes after TPMT_SIGNATURE"},
    {"AttestNotBase64", [](Input& in) { in.bundle["attest"] = "!!!!"; }, "evidence",
     "evidence.attest is not base64"},
    {"JsonTextTruncated",
     [](Input& in) {
       const std::string t = TextOf(in);
       in.text = t.substr(0, t.size() / 2);
     },
     "evidence", "malformed JSON"},
    {"JsonTextWithTrailingGarbage", [](Input& in) { in.text = TextOf(in) + "{}"; }, "evidence",
     "malformed JSON"},
    {"JsonTextWithTrailingNewline", [](Input& in) { in.text = TextOf(in) + "\n"; }, "evidence",
     "evidence is not in canonical form"},

    // --- JSON shape ---
    {"JsonDuplicateKey",
     [](Input& in) {
       in.text = absl::StrCat("{\"nonce\":\"", HexEncode(std::string(32, 'd')), "\",",
                              TextOf(in).substr(1));
     },
     "evidence", "duplicate JSON key \"nonce\""},
    {"UnknownTopLevelField", [](Input& in) { in.bundle["x_extra"] = 1; }, "evidence",
     "evidence: unknown key \"x_extra\""},
    {"UnknownFieldInsideARecord", [](Input& in) { in.bundle["event_log"][1]["x_extra"] = 1; },
     "evidence", "evidence.event_log[1] record: unknown key \"x_extra\""},
    {"UnknownFieldInsideRecordContent",
     [](Input& in) { in.bundle["event_log"][0]["content"]["data"]["x_extra"] = 1; }, "evidence",
     "unknown key \"x_extra\""},
    {"NumberWhereStringExpected", [](Input& in) { in.bundle["nonce"] = 5; }, "evidence",
     "\"nonce\" must be a string"},
    {"StringWhereNumberExpected", [](Input& in) { in.bundle["reset_count"] = "0"; }, "evidence",
     "\"reset_count\" must be an integer"},
    {"StringWhereRecordNumberExpected",
     [](Input& in) { in.bundle["event_log"][0]["recnum"] = "0"; }, "evidence",
     "\"recnum\" must be an integer"},
    {"ObjectWhereArrayExpected", [](Input& in) { in.bundle["event_log"] = Json::object(); },
     "evidence", "\"event_log\" must be an array"},
    {"VersionTwo", [](Input& in) { in.bundle["version"] = 2; }, "evidence",
     "\"version\" must be between 1 and 1"},
    {"DeeplyNestedJson",
     [](Input& in) {
       Json deep = Json::array();
       for (int i = 0; i < 64; ++i) deep = Json::array({deep});
       in.bundle["x_deep"] = deep;
     },
     "evidence", "JSON nesting deeper than"},

    // --- size ---
    {"EventLogWith200kEntries",
     [](Input& in) {
       // Scalars: see EventLogOf200kObjectsIsRefusedWithinASecond for objects.
       Json log = Json::array();
       for (int i = 0; i < 200000; ++i) log.push_back(i);
       in.bundle["event_log"] = std::move(log);
     },
     "evidence", "event_log has too many records"},
    {"BundleOf5MiB", [](Input& in) { in.bundle["x_pad"] = std::string(5 << 20, 'p'); }, "evidence",
     "evidence is larger than 4 MiB"},
};

// Built once for the binary (both suites use it), on the main thread: the
// mount namespace and swtpm belong to it.
class GenuineEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    genuine = new Genuine();
    absl::Status built = BuildGenuine(*genuine);
    if (!built.ok()) {
      delete genuine;
      genuine = nullptr;
    }
    ASSERT_TRUE(built.ok()) << built;
  }
  void TearDown() override {
    delete genuine;
    genuine = nullptr;
  }
};
::testing::Environment* const kGenuineEnvironment =
    ::testing::AddGlobalTestEnvironment(new GenuineEnvironment);

class TamperTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { ASSERT_NE(genuine, nullptr) << "no genuine evidence"; }
};

// The failed step (the last one reported; Verify stops there).
std::string FailedStep(const VerifyResult& r) {
  for (const StepReport& s : r.steps) {
    if (s.outcome == StepReport::Outcome::kFail) return s.id;
  }
  return "(none)";
}

// A verifier that keeps an identity cache (the enrolled AK parsed, the AK/EK
// binding proven) has seen the genuine bundles first: what it remembers must
// not let any tampered one through, nor change the step that refuses it.
IdentityCache* WarmIdentityCache() {
  static IdentityCache* cache = [] {
    auto* c = new IdentityCache();
    for (const Input& in : {NvInput(), PcrInput(), Base(genuine->nv_by_ak2, genuine->ak2)}) {
      EXPECT_TRUE(VerifyInput(in, c).manifest.has_value());
    }
    return c;
  }();
  return cache;
}

TEST_P(TamperTest, IsABrokenEvidenceChainAtTheNamedStep) {
  const Case& c = GetParam();
  Input in = NvInput();
  c.mutate(in);
  for (IdentityCache* identities : {static_cast<IdentityCache*>(nullptr), WarmIdentityCache()}) {
  SCOPED_TRACE(identities == nullptr ? "no identity cache" : "warm identity cache");
  const VerifyResult r = VerifyInput(in, identities);
  EXPECT_EQ(r.verdict, Verdict::kBrokenEvidence) << r.reason;
  EXPECT_EQ(r.failure, FailureClass::kBrokenEvidenceChain) << r.reason;
  EXPECT_EQ(FailedStep(r), c.step) << r.reason;
  ASSERT_FALSE(r.steps.empty());
  EXPECT_EQ(r.steps.back().id, c.step) << "the run must end at the failed step";
  EXPECT_EQ(r.steps.back().outcome, StepReport::Outcome::kFail);
  EXPECT_THAT(r.reason, ::testing::StartsWith(absl::StrCat(c.step, ": "))) << r.reason;
  EXPECT_THAT(r.reason, HasSubstr(c.reason));
  EXPECT_FALSE(r.manifest.has_value()) << "a broken chain establishes no manifest";
  EXPECT_TRUE(r.rules.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Genuine, TamperTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

// The controls: every genuine bundle the cases start from has an intact
// chain (steps 1-6 pass), so each case's failure is its own edit.
class GenuineEvidenceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(genuine, nullptr) << "no genuine evidence"; }
};

TEST_F(GenuineEvidenceTest, EveryBaseBundleHasAnIntactChain) {
  struct Control {
    const char* name;
    Input in;
  };
  std::vector<Control> controls = {
      {"nv", NvInput()},
      {"pcr", PcrInput()},
      {"nv by a second AK, enrolled", Base(genuine->nv_by_ak2, genuine->ak2)},
  };
  if (!genuine->after_reset_clock_unsafe) {
    controls.push_back({"after reset", Base(genuine->after_reset, genuine->ak3)});
  }
  for (const Control& c : controls) {
    const VerifyResult r = VerifyInput(c.in);
    EXPECT_NE(r.failure, FailureClass::kBrokenEvidenceChain) << c.name << ": " << r.reason;
    EXPECT_TRUE(r.manifest.has_value()) << c.name;
  }
  // The same genuine bundle with its signed counters as the last seen: fine.
  Input same = NvInput();
  same.previous = SignedCounters(same.bundle);
  EXPECT_NE(VerifyInput(same).failure, FailureClass::kBrokenEvidenceChain);
}

TEST_F(GenuineEvidenceTest, TpmResetWithoutShutdownMakesTheSignedClockUnsafe) {
  // Why ClockNotSafe is a genuine case: after swtpm's power cycle without
  // TPM2_Shutdown the TPM itself signs clockInfo.safe = NO (its fallback,
  // an edited byte, is only for a TPM that does not).
  EXPECT_EQ(AttestOf(genuine->after_reset).clockInfo.resetCount,
            AttestOf(genuine->pcr).clockInfo.resetCount + 1);
  EXPECT_TRUE(genuine->after_reset_clock_unsafe);
}

// A bundle under the 4 MiB limit can hold ~1.4 million tiny objects. The
// strict parser must stay linear: nlohmann's callback parser rescans the
// parent array after every object (O(n^2): ~13 s for these 200k), which is
// why ParseJsonStrict builds the document from SAX events itself.
TEST_F(GenuineEvidenceTest, EventLogOf200kObjectsIsRefusedWithinASecond) {
  Input in = NvInput();
  Json log = Json::array();
  for (int i = 0; i < 200000; ++i) log.push_back(Json::object());
  in.bundle["event_log"] = std::move(log);
  const std::string text = TextOf(in);
  in.text = text;
  const auto start = std::chrono::steady_clock::now();
  const VerifyResult r = VerifyInput(in);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.verdict, Verdict::kBrokenEvidence);
  EXPECT_EQ(FailedStep(r), "evidence") << r.reason;
  EXPECT_LT(elapsed, std::chrono::seconds(1))
      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms for "
      << text.size() << " bytes";
}

// PCR 16 can be reset by any TPM client at locality 0 (common/register.h,
// CheckRegisterNotResettable: "a register there proves nothing"), so a
// history in it can be replayed at will. fdattestd refuses it unless told
// --allow-resettable-pcr (tests only); the verifier refuses it always.
TEST_F(GenuineEvidenceTest, EvidenceFromAResettablePcrIsBroken) {
  const VerifyResult r = VerifyInput(Base(genuine->resettable_pcr, genuine->ak4));
  EXPECT_EQ(r.verdict, Verdict::kBrokenEvidence) << r.reason;
  EXPECT_EQ(r.failure, FailureClass::kBrokenEvidenceChain) << r.reason;
  EXPECT_THAT(r.reason, HasSubstr("16")) << r.reason;
}

}  // namespace
}  // namespace fdattest::e2e

namespace fdattest::e2e {
namespace {

// The bundle's identity (common/evidence_identity.h; the EAR's
// evidence_sha256) names what the TPM signed and what the verdict depends
// on. Re-encodings anyone can make, without the TPM's key, keep it; the
// transformed bundle still verifies to the same verdict.

// P-256's group order n: for an ECDSA signature (r, s), (r, n - s) verifies
// too.
constexpr char kP256OrderHex[] =
    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

void NegateSignatureS(Json& bundle) {
  TPMT_SIGNATURE sig = SignatureOf(bundle);
  TPM2B_ECC_PARAMETER& s = sig.signature.ecdsa.signatureS;
  BIGNUM* raw_n = nullptr;
  ASSERT_GT(BN_hex2bn(&raw_n, kP256OrderHex), 0);
  BignumPtr n(raw_n);
  BignumPtr value(BN_bin2bn(s.buffer, s.size, nullptr));
  BignumPtr negated(BN_new());
  ASSERT_TRUE(n && value && negated);
  ASSERT_EQ(BN_sub(negated.get(), n.get(), value.get()), 1);
  s.size = 32;
  ASSERT_EQ(BN_bn2binpad(negated.get(), s.buffer, 32), 32);
  SetSignature(bundle, sig);
}

TEST_F(GenuineEvidenceTest, SignatureWithNMinusSStillVerifiesAndKeepsTheIdentity) {
  for (const Input& genuine_input : {NvInput(), PcrInput()}) {
    const VerifyResult before = VerifyInput(genuine_input);
    ASSERT_TRUE(before.manifest.has_value()) << before.reason;
    Input in = genuine_input;
    NegateSignatureS(in.bundle);
    ASSERT_NE(TextOf(in), TextOf(genuine_input)) << "the signature did not change";
    const VerifyResult after = VerifyInput(in);
    EXPECT_TRUE(after.manifest.has_value()) << after.reason;
    EXPECT_EQ(after.verdict, before.verdict) << after.reason;
    EXPECT_EQ(after.evidence_sha256, before.evidence_sha256);
    EXPECT_THAT(after.evidence_sha256, ::testing::MatchesRegex("[0-9a-f]{64}"));
  }
}

TEST_F(GenuineEvidenceTest, ShiftedRecordNumbersStillVerifyAndKeepTheIdentity) {
  const VerifyResult before = VerifyInput(NvInput());
  ASSERT_TRUE(before.manifest.has_value()) << before.reason;
  for (uint64_t shift : {uint64_t{1}, uint64_t{1000000}}) {
    Input in = NvInput();
    for (Json& r : in.bundle["event_log"]) r["recnum"] = r["recnum"].get<uint64_t>() + shift;
    const VerifyResult after = VerifyInput(in);
    EXPECT_TRUE(after.manifest.has_value()) << shift << ": " << after.reason;
    EXPECT_EQ(after.verdict, before.verdict) << after.reason;
    EXPECT_EQ(after.evidence_sha256, before.evidence_sha256) << shift;
  }
}

TEST_F(GenuineEvidenceTest, AnotherManifestOrAttestationHasAnotherIdentity) {
  const std::string nv = VerifyInput(NvInput()).evidence_sha256;
  ASSERT_FALSE(nv.empty());
  // Other genuine bundles: another launch (manifest and attest), another
  // register, another attester certifying the same register and manifest.
  EXPECT_NE(VerifyInput(PcrInput()).evidence_sha256, nv);
  const std::string after_reset = VerifyInput(Base(genuine->after_reset, genuine->ak3)).evidence_sha256;
  EXPECT_NE(after_reset, nv);
  EXPECT_NE(after_reset, VerifyInput(PcrInput()).evidence_sha256);  // same register and AK
  const VerifyResult by_ak2 = VerifyInput(Base(genuine->nv_by_ak2, genuine->ak2));
  ASSERT_TRUE(by_ak2.manifest.has_value()) << by_ak2.reason;
  EXPECT_NE(by_ak2.evidence_sha256, nv);
  // Edits that matter: the manifest (refused in step 4a), a byte of attest.
  Input manifest_edited = NvInput();
  EditManifest(manifest_edited.bundle, [](Json& m) { m["fds"][0]["role"] = "audit-log"; });
  EXPECT_NE(VerifyInput(manifest_edited).evidence_sha256, nv);
  Input attest_edited = NvInput();
  TPMS_ATTEST a = AttestOf(attest_edited.bundle);
  a.extraData.buffer[0] ^= 0x01;
  SetAttest(attest_edited.bundle, a);
  EXPECT_NE(VerifyInput(attest_edited).evidence_sha256, nv);
}

// A cached AK/EK binding is used only within its chain's validity period
// (the EK certificate's and its CA's): the cache remembers the proof, not a
// verdict for all time.
TEST_F(GenuineEvidenceTest, CachedEkBindingIsRefusedOutsideTheCertificatesValidity) {
  IdentityCache identities;
  const Input in = NvInput();
  const std::string ek = Bytes(in.bundle, "ek_certificate");
  const std::string ak = Bytes(in.bundle, "ak_public");
  absl::StatusOr<CertifiedEk> validity = CheckEkCertificate(ek, genuine->ca_pem);
  ASSERT_TRUE(validity.ok()) << validity.status();
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  absl::StatusOr<std::string> qn = identities.EkBoundQualifiedName(ek, ak, genuine->ca_pem, now);
  ASSERT_TRUE(qn.ok()) << qn.status();
  EXPECT_EQ(HexEncode(*qn), in.bundle["ak_qualified_name"].get<std::string>());
  for (int64_t when : {validity->not_before - 1, validity->not_after + 1}) {
    absl::StatusOr<std::string> late = identities.EkBoundQualifiedName(ek, ak, genuine->ca_pem, when);
    EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated) << when;
    EXPECT_THAT(late.status().message(), HasSubstr("not valid now"));
  }
  // A different CA set is a different binding: proven again, and refused.
  EXPECT_FALSE(identities.EkBoundQualifiedName(ek, ak, "not a certificate", now).ok());
}

}  // namespace
}  // namespace fdattest::e2e
