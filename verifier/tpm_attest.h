// Strict parsing and checking of what an attester's TPM signed (the
// "attestation" step of verifier/verify.h): TPMS_ATTEST (NV certify or PCR quote), its
// TPMT_SIGNATURE, and the AK's TPM2B_PUBLIC. Built on tss2-mu and OpenSSL
// only (no ESYS, no TPM): every input is untrusted bytes. All functions are
// pure and thread-safe; results own their data.
//
// Error codes: InvalidArgument for malformed or out-of-profile structures
// (and for a caller's malformed expectations), Unauthenticated when a
// well-formed attestation does not say what the verifier expects or its
// signature does not verify, FailedPrecondition for a counter regression.
//
// CheckAttestation runs its checks in this fixed order and reports the first
// failure:
//   1. expectations well-formed (32-byte qualifying data, 34-byte signer name)
//   2. type == expected kind (magic was checked by ParseAttest)
//   3. qualifiedSigner == expected qualified name of the AK
//   4. extraData == qualifying data (constant time)
//   5. clockInfo.safe == YES
//   6. attested info: NV (name form, offset 0, 32 bytes) or quote (one
//      sha256 PCR == expected, pcrDigest == SHA-256(register value))
//   7. ECDSA/SHA-256 signature over the attest bytes with the AK
// Content checks come before the signature so that a tampered field is named
// in the report, and the expensive check runs last; the verdict is the same
// in either order because every check is fatal.
#ifndef FDATTEST_VERIFIER_TPM_ATTEST_H_
#define FDATTEST_VERIFIER_TPM_ATTEST_H_

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/openssl_ptr.h"
#include "common/sha256.h"
#include "common/status.h"

namespace fdattest {

// Size limits on the marshalled inputs. A P-256 ECDSA TPMT_SIGNATURE is 72
// bytes (an RSA-4096 one, refused by name, 518), an ECC TPM2B_PUBLIC about
// 90, an NV certification of 32 bytes about 180; the limits leave room but
// bound the work on hostile input.
inline constexpr size_t kMaxAttestBytes = 1024;
inline constexpr size_t kMaxSignatureBytes = 1024;
inline constexpr size_t kMaxPublicBytes = 1024;

enum class AttestKind {
  kNvCertify,  // TPM_ST_ATTEST_NV from TPM2_NV_Certify
  kPcrQuote,   // TPM_ST_ATTEST_QUOTE from TPM2_Quote
};
absl::string_view AttestKindName(AttestKind kind);

// A parsed TPMS_ATTEST together with the exact bytes that were signed.
struct ParsedAttest {
  std::string bytes;
  TPMS_ATTEST attest;
};

// Unmarshals TPMS_ATTEST bytes (no TPM2B size prefix): every byte must be
// consumed, at most kMaxAttestBytes, magic == TPM_GENERATED_VALUE, and the
// type must be the one `expected` names (anything else is InvalidArgument).
absl::StatusOr<ParsedAttest> ParseAttest(absl::string_view bytes, AttestKind expected);

// An ECDSA signature as a TPM produces it: r and s, 1..32 bytes each.
struct EcdsaSignature {
  std::string r;
  std::string s;
};

// Unmarshals a TPMT_SIGNATURE exactly. Only ECDSA with SHA-256 is accepted;
// SHA-1 and every other scheme or hash is refused by name (InvalidArgument).
absl::StatusOr<EcdsaSignature> ParseSignature(absl::string_view bytes);

// An attestation key's public part, checked against the AK profile.
struct AkPublic {
  TPMT_PUBLIC public_area;
  std::string name;  // 0x000b || SHA-256(marshalled TPMT_PUBLIC)
  EvpPkeyPtr pkey;   // P-256, point checked on the curve
};

// Unmarshals a TPM2B_PUBLIC exactly and checks it is a usable AK: ECC NIST
// P-256, nameAlg SHA-256, attributes include restricted, sign, fixedTPM,
// fixedParent and sensitiveDataOrigin and exclude decrypt, scheme ECDSA with
// SHA-256, no symmetric or KDF scheme, 32-byte coordinates on the curve.
absl::StatusOr<AkPublic> ParseAkPublic(absl::string_view tpm2b_public);

// The TPM name an NV certification must carry for fdattestd's measurement
// index at `index` (common/tpm_nv_register.h): anything else — an ordinary
// NV index its owner could write at will, another type or attribute set — is
// not a measurement register.
absl::StatusOr<std::string> MeasurementNvIndexName(uint32_t index);

// The TPM name (0x000b || SHA-256(marshalled TPMT_PUBLIC)) of a TPM2B_PUBLIC
// with nameAlg SHA-256, parsed exactly.
absl::StatusOr<std::string> PublicAreaName(absl::string_view tpm2b_public);

// The AK's qualified name, what TPMS_ATTEST.qualifiedSigner holds for a key
// created under the EK: 0x000b || SHA-256(QN(EK) || Name(AK)) with
// QN(EK) = 0x000b || SHA-256(0x4000000b || Name(EK)). The EK must be a
// restricted decryption key with fixedTPM and fixedParent and nameAlg
// SHA-256; the AK must pass ParseAkPublic. Recomputing it binds the AK to
// the EK (whose certificate is checked elsewhere).
absl::StatusOr<std::string> AkQualifiedName(absl::string_view ek_tpm2b_public,
                                          absl::string_view ak_tpm2b_public);

// Unauthenticated unless attest.qualifiedSigner equals `qualified_name`.
absl::Status CheckQualifiedSigner(const TPMS_ATTEST& attest, absl::string_view qualified_name);

// Unauthenticated unless `signature` verifies over SHA-256(attest_bytes)
// with the AK.
absl::Status VerifyAttestSignature(absl::string_view attest_bytes, const EcdsaSignature& signature,
                                   const AkPublic& ak);

// The TPM's clock and boot counters as signed in clockInfo (plain, because
// the AK lives in the endorsement hierarchy).
struct TpmCounters {
  uint64_t clock = 0;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
};

// FailedPrecondition if `current` goes back from `previous`: resetCount
// decreased, or same resetCount and restartCount decreased, or both the same
// and clock decreased. Equal counters pass (the same attestation twice is a
// nonce question, not a counter one).
absl::Status CheckCounters(const TpmCounters& previous, const TpmCounters& current);

// What the verifier expects the attestation to say.
struct ExpectedAttestation {
  AttestKind kind = AttestKind::kNvCertify;
  std::string qualifying_data;   // exactly 32 bytes (docs/formats/evidence.md)
  std::string qualified_signer;  // the AK's qualified name, 34 bytes
  // kPcrQuote: the one sha256 PCR quoted and the value it holds.
  int pcr = -1;
  std::optional<Sha256Digest> register_value;  // required for kPcrQuote
  // kNvCertify: if set, indexName must equal it; the certified value is
  // compared with register_value if that is set.
  std::optional<std::string> nv_index_name;
};

// What a verified attestation establishes.
struct VerifiedAttestation {
  AttestKind kind;
  Sha256Digest register_value;  // nvContents, or the expected PCR value
  TpmCounters counters;         // for the caller's CheckCounters
  uint64_t firmware_version = 0;
  std::string nv_index_name;  // kNvCertify only
};

// All step-4 checks, in the order documented at the top of this file.
absl::StatusOr<VerifiedAttestation> CheckAttestation(const ParsedAttest& attest,
                                                     const EcdsaSignature& signature,
                                                     const AkPublic& ak,
                                                     const ExpectedAttestation& expected);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_TPM_ATTEST_H_
