// The attestor's keys. The endorsement key (EK) is the RSA-2048 key of the
// TCG default EK template, recreated as a primary in the endorsement
// hierarchy; it is the key that the EK certificate at NV 0x01c00002 certifies.
// The attestation key (AK) is a restricted ECC P-256 ECDSA/SHA-256 signing
// key created under the EK, whose blobs (marshalled TPM2B_PUBLIC and
// TPM2B_PRIVATE) live in the attestor's state directory so later starts only
// load it. Because the AK's hierarchy is the endorsement hierarchy, the TPM
// does not obfuscate resetCount/restartCount/firmwareVersion in what it signs.
// Not thread-safe (see tpm_context.h); an AttestationKey must not outlive its
// EsysContext.
#ifndef FDATTEST_ATTESTOR_TPM_KEYS_H_
#define FDATTEST_ATTESTOR_TPM_KEYS_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "attestor/tpm_context.h"
#include "common/openssl_ptr.h"
#include "common/status.h"

namespace fdattest {

// TCG EK Credential Profile: NV index of the RSA-2048 EK certificate.
inline constexpr TPM2_HANDLE kRsaEkCertNvIndex = 0x01c00002;

// Creates the RSA EK (template L-1) in the endorsement hierarchy and returns
// the loaded transient handle. About 100 ms on swtpm: an RSA key derivation.
// `out_public`, if given, receives the EK's public area.
absl::StatusOr<TpmHandle> CreateRsaEk(EsysContext& ctx, TPM2B_PUBLIC* out_public = nullptr);

// The DER EK certificate stored at `index` (read in chunks of the TPM's NV
// buffer size). NotFound if the index is not defined.
absl::StatusOr<std::string> ReadEkCertificate(EsysContext& ctx,
                                              TPM2_HANDLE index = kRsaEkCertNvIndex);

class AttestationKey {
 public:
  // File names inside the state directory.
  static constexpr char kPublicFile[] = "ak.pub";    // marshalled TPM2B_PUBLIC
  static constexpr char kPrivateFile[] = "ak.priv";  // marshalled TPM2B_PRIVATE

  // Loads the AK from `state_dir`, or, when the directory holds no AK
  // (ak.pub absent), creates one under the EK and stores it. ak.priv is
  // written before ak.pub, each atomically, so ak.pub marks a complete pair;
  // a pair the TPM refuses to load is an error (DataLoss), never silently
  // replaced, because replacing the AK changes the attester's identity.
  static absl::StatusOr<std::unique_ptr<AttestationKey>> LoadOrCreate(EsysContext& ctx,
                                                                      const std::string& state_dir);

  ESYS_TR handle() const { return handle_.get(); }
  // Marshalled TPM2B_PUBLIC (the form that goes into evidence).
  const std::string& public_area() const { return public_area_; }
  // The TPM name: nameAlg (0x000b, sha256) || SHA-256(marshalled TPMT_PUBLIC).
  // Equals qualifiedSigner in everything this key signs.
  const std::string& name() const { return name_; }
  // The qualified name, 0x000b || SHA-256(QN(EK) || name), with QN(EK) =
  // 0x000b || SHA-256(0x4000000b || EK name). This, not name(), is what the
  // TPM puts in TPMS_ATTEST.qualifiedSigner; a verifier that knows the EK
  // public area (ek_public_area(), or its certificate's key in the TCG
  // template) recomputes it, which also binds the AK to that EK.
  const std::string& qualified_name() const { return qualified_name_; }
  // The EK's marshalled TPM2B_PUBLIC (the TCG RSA template with its modulus).
  const std::string& ek_public_area() const { return ek_public_area_; }
  // True when LoadOrCreate created the key rather than loading it.
  bool created() const { return created_; }
  // Whether the TPM still holds this key at handle() (TPM2_ReadPublic there
  // names it): false once another TPM client flushed it, even if another
  // object took its handle. Forget() then drops the handle without a flush.
  absl::StatusOr<bool> IsLoaded(EsysContext& ctx) const;
  void Forget() { handle_.Forget(); }

 private:
  AttestationKey(TpmHandle handle, std::string public_area, std::string name,
                 std::string qualified_name, std::string ek_public_area, bool created)
      : handle_(std::move(handle)),
        public_area_(std::move(public_area)),
        name_(std::move(name)),
        qualified_name_(std::move(qualified_name)),
        ek_public_area_(std::move(ek_public_area)),
        created_(created) {}

  TpmHandle handle_;
  std::string public_area_;
  std::string name_;
  std::string qualified_name_;
  std::string ek_public_area_;
  bool created_;
};

// TPM2_ActivateCredential: recovers the credential that a verifier's
// MakeCredential (verifier/make_credential.h) protected for `ak`'s name and
// this TPM's EK, from a marshalled TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET.
// The TPM releases it only if the seed decrypts with its EK and the blob's
// HMAC covers the name of the loaded AK: what proves to the verifier that the
// AK lives in the certified TPM. The EK is created for the call (with a
// PolicySecret(endorsement) session, its policy) and flushed after.
// InvalidArgument for bytes that are not the two structures, or that the TPM
// refuses (made for another EK or another object, or damaged).
absl::StatusOr<std::string> ActivateCredential(EsysContext& ctx, const AttestationKey& ak,
                                               absl::string_view credential_blob,
                                               absl::string_view encrypted_secret);

// The AK template: restricted | sign | fixedTPM | fixedParent |
// sensitiveDataOrigin | userWithAuth, ECC NIST P-256, ECDSA with SHA-256.
TPM2B_PUBLIC AkTemplate();

// TpmUnmarshal<TPM2B_PUBLIC> (common/tpm_wire.h), which new code calls
// directly: exact, the whole input must be one TPM2B_PUBLIC.
absl::StatusOr<TPM2B_PUBLIC> ParseTpm2bPublic(absl::string_view marshalled);

// Names and qualified names: common/tpm_names.h.

// InvalidArgument unless `public_area` has exactly the AK template's type,
// nameAlg, attributes, curve and scheme.
absl::Status CheckAkPublic(const TPMT_PUBLIC& public_area);

// An OpenSSL public key for an ECC P-256 public area (for verifying what the
// AK signed, and for writing it as PEM).
absl::StatusOr<EvpPkeyPtr> EccPublicToPkey(const TPMT_PUBLIC& public_area);

}  // namespace fdattest

#endif  // FDATTEST_ATTESTOR_TPM_KEYS_H_
