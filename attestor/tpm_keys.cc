#include "attestor/tpm_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/ec_key.h"
#include "common/tpm_ek_template.h"
#include "common/tpm_names.h"
#include "common/tpm_wire.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_io.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

// A TPM2B_PUBLIC or TPM2B_PRIVATE is well under 1 KiB; anything larger in the
// state directory is not ours.
constexpr size_t kMaxBlobBytes = 4096;

constexpr TPMA_OBJECT kAkAttributes =
    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;


// A policy session satisfying the EK's policy, PolicySecret(endorsement),
// which any use of the EK as a parent (Create, Load) needs. The TPM resets a
// policy session's digest after each authorised command, so each use takes
// a fresh one. continueSession is set so that the guard, not the TPM, ends
// the session, whichever way the command goes.
absl::StatusOr<TpmHandle> EndorsementPolicySession(EsysContext& ctx) {
  return PolicySecretSession(ctx, ESYS_TR_RH_ENDORSEMENT, TPM2_SE_POLICY, "endorsement");
}

absl::StatusOr<bool> FileExists(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoStatus(absl::StrCat("cannot stat ", path), errno);
}

absl::StatusOr<TpmHandle> LoadAk(EsysContext& ctx, ESYS_TR ek, const TPM2B_PUBLIC& pub,
                                 const TPM2B_PRIVATE& priv) {
  ASSIGN_OR_RETURN(TpmHandle session, EndorsementPolicySession(ctx));
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_Load(ctx.get(), ek, session.get(), ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &tr);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_Load(AK)"));
  return ctx.AdoptTransient(tr);
}

}  // namespace

TPM2B_PUBLIC AkTemplate() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kAkAttributes;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

absl::StatusOr<TpmHandle> CreateRsaEk(EsysContext& ctx, TPM2B_PUBLIC* out_public) {
  TPM2B_PUBLIC tmpl = RsaEkTemplate();
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcr{};
  ESYS_TR tr = ESYS_TR_NONE;
  TPM2B_PUBLIC* raw_pub = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(ctx.get(), ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &sensitive, &tmpl, &outside, &creation_pcr, &tr,
                                  &raw_pub, nullptr, nullptr, nullptr);
  EsysPtr<TPM2B_PUBLIC> pub(raw_pub);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_CreatePrimary(EK)"));
  TpmHandle ek = ctx.AdoptTransient(tr);
  if (out_public != nullptr) *out_public = *pub;
  return ek;
}

absl::StatusOr<std::string> ReadEkCertificate(EsysContext& ctx, TPM2_HANDLE index) {
  ASSIGN_OR_RETURN(bool exists, ctx.HandleExists(index));
  if (!exists) {
    return absl::NotFoundError(absl::StrFormat("no EK certificate at NV index 0x%08x", index));
  }
  ASSIGN_OR_RETURN(TpmHandle nv, ctx.FromTpmHandle(index));
  TPM2B_NV_PUBLIC* raw_pub = nullptr;
  TSS2_RC rc = Esys_NV_ReadPublic(ctx.get(), nv.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  &raw_pub, nullptr);
  EsysPtr<TPM2B_NV_PUBLIC> pub(raw_pub);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_NV_ReadPublic(EK certificate)"));
  const TPMA_NV attrs = pub->nvPublic.attributes;
  // EK certificate indexes have an empty index auth (AUTHREAD) per the TCG
  // EK Credential Profile; fall back to the owner hierarchy otherwise.
  ESYS_TR auth = ESYS_TR_NONE;
  if (attrs & TPMA_NV_AUTHREAD) {
    auth = nv.get();
  } else if (attrs & TPMA_NV_OWNERREAD) {
    auth = ESYS_TR_RH_OWNER;
  } else {
    return absl::FailedPreconditionError(
        absl::StrFormat("EK certificate index 0x%08x is readable neither with its own nor with owner authorisation", index));
  }
  const uint16_t total = pub->nvPublic.dataSize;
  uint32_t chunk = 512;
  if (absl::StatusOr<uint32_t> max = ctx.GetProperty(TPM2_PT_NV_BUFFER_MAX); max.ok() && *max > 0) {
    chunk = std::min<uint32_t>(*max, sizeof(TPM2B_MAX_NV_BUFFER::buffer));
  }
  std::string cert;
  cert.reserve(total);
  while (cert.size() < total) {
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(chunk, total - cert.size()));
    TPM2B_MAX_NV_BUFFER* raw_data = nullptr;
    rc = Esys_NV_Read(ctx.get(), auth, nv.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n,
                      static_cast<uint16_t>(cert.size()), &raw_data);
    EsysPtr<TPM2B_MAX_NV_BUFFER> data(raw_data);
    RETURN_IF_ERROR(TpmStatus(rc, "TPM2_NV_Read(EK certificate)"));
    if (data->size != n) return absl::InternalError("short NV read of the EK certificate");
    cert.append(reinterpret_cast<const char*>(data->buffer), data->size);
  }
  // The index may be larger than the certificate (zero padding): keep the
  // DER SEQUENCE only.
  if (cert.size() >= 4 && static_cast<uint8_t>(cert[0]) == 0x30 &&
      static_cast<uint8_t>(cert[1]) == 0x82) {
    const size_t len = 4 + ((static_cast<uint8_t>(cert[2]) << 8) | static_cast<uint8_t>(cert[3]));
    if (len <= cert.size()) cert.resize(len);
  }
  return cert;
}

absl::StatusOr<std::string> ActivateCredential(EsysContext& ctx, const AttestationKey& ak,
                                               absl::string_view credential_blob,
                                               absl::string_view encrypted_secret) {
  absl::StatusOr<TPM2B_ID_OBJECT> blob = TpmUnmarshal<TPM2B_ID_OBJECT>(credential_blob);
  absl::StatusOr<TPM2B_ENCRYPTED_SECRET> secret =
      TpmUnmarshal<TPM2B_ENCRYPTED_SECRET>(encrypted_secret);
  for (const absl::Status& s : {blob.status(), secret.status()}) {
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("activate_credential: ", s.message()));
  }
  if (blob->size == 0 || secret->size == 0) {
    return absl::InvalidArgumentError("activate_credential: empty credential blob or secret");
  }
  ASSIGN_OR_RETURN(TpmHandle ek, CreateRsaEk(ctx));
  ASSIGN_OR_RETURN(TpmHandle session, EndorsementPolicySession(ctx));
  TPM2B_DIGEST* raw_info = nullptr;
  // The AK (activateHandle, ADMIN role: it has no adminWithPolicy, so its
  // empty password) and the EK (keyHandle, USER role: its policy).
  TSS2_RC rc = Esys_ActivateCredential(ctx.get(), ak.handle(), ek.get(), ESYS_TR_PASSWORD,
                                       session.get(), ESYS_TR_NONE, &*blob, &*secret, &raw_info);
  EsysPtr<TPM2B_DIGEST> info(raw_info);
  switch (TpmBaseRc(rc)) {
    case TPM2_RC_INTEGRITY:  // the HMAC: another object's name, or a changed blob
    case TPM2_RC_VALUE:      // the seed does not decrypt with this EK
    case TPM2_RC_SIZE:
    case TPM2_RC_INSUFFICIENT:
    case TPM2_RC_KEY_SIZE:
      return absl::InvalidArgumentError(absl::StrCat(
          "the TPM refuses the credential (made for another EK or another key, or damaged): ",
          TpmStatus(rc, "TPM2_ActivateCredential").message()));
    case TPM2_RC_FAILURE: {
      // libtpms before 0.10 reports a seed that does not decrypt as
      // TPM_RC_FAILURE rather than TPM_RC_VALUE. A TPM in failure mode
      // answers every command so; one that still answers refused this one.
      session.Reset();
      ek.Reset();
      if (ctx.ReadClock().ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the TPM refuses the credential (the seed does not decrypt with this TPM's EK): ",
            TpmStatus(rc, "TPM2_ActivateCredential").message()));
      }
      break;
    }
    default:
      break;
  }
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_ActivateCredential"));
  std::string credential(reinterpret_cast<const char*>(info->buffer), info->size);
  OPENSSL_cleanse(info->buffer, sizeof(info->buffer));
  return credential;
}

absl::StatusOr<TPM2B_PUBLIC> ParseTpm2bPublic(absl::string_view marshalled) {
  return TpmUnmarshal<TPM2B_PUBLIC>(marshalled);
}

absl::Status CheckAkPublic(const TPMT_PUBLIC& p) {
  const TPMS_ECC_PARMS& ecc = p.parameters.eccDetail;
  if (p.type != TPM2_ALG_ECC || p.nameAlg != TPM2_ALG_SHA256 ||
      p.objectAttributes != kAkAttributes || p.authPolicy.size != 0 ||
      ecc.symmetric.algorithm != TPM2_ALG_NULL || ecc.scheme.scheme != TPM2_ALG_ECDSA ||
      ecc.scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256 || ecc.curveID != TPM2_ECC_NIST_P256 ||
      ecc.kdf.scheme != TPM2_ALG_NULL) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "public area is not an fdattest AK (type 0x%x, nameAlg 0x%x, attributes 0x%08x, curve 0x%x)",
        p.type, p.nameAlg, p.objectAttributes, ecc.curveID));
  }
  if (p.unique.ecc.x.size == 0 || p.unique.ecc.x.size > 32 || p.unique.ecc.y.size == 0 ||
      p.unique.ecc.y.size > 32) {
    return absl::InvalidArgumentError("AK public area has no valid P-256 point");
  }
  return absl::OkStatus();
}

absl::StatusOr<EvpPkeyPtr> EccPublicToPkey(const TPMT_PUBLIC& p) {
  if (p.type != TPM2_ALG_ECC || p.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
    return absl::InvalidArgumentError("not an ECC P-256 public area");
  }
  const TPM2B_ECC_PARAMETER& x = p.unique.ecc.x;
  const TPM2B_ECC_PARAMETER& y = p.unique.ecc.y;
  return P256PublicKey(
      absl::string_view(reinterpret_cast<const char*>(x.buffer), x.size),
      absl::string_view(reinterpret_cast<const char*>(y.buffer), y.size));
}

absl::StatusOr<bool> AttestationKey::IsLoaded(EsysContext& ctx) const {
  if (!handle_.valid()) return false;
  TPM2B_NAME* raw_name = nullptr;
  TSS2_RC rc = Esys_ReadPublic(ctx.get(), handle_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               nullptr, &raw_name, nullptr);
  EsysPtr<TPM2B_NAME> tpm_name(raw_name);
  const TSS2_RC base = TpmBaseRc(rc);
  if (base == TPM2_RC_REFERENCE_H0 || base == TPM2_RC_HANDLE) return false;
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_ReadPublic(AK)"));
  return name_ == std::string(reinterpret_cast<const char*>(tpm_name->name), tpm_name->size);
}

absl::StatusOr<std::unique_ptr<AttestationKey>> AttestationKey::LoadOrCreate(
    EsysContext& ctx, const std::string& state_dir) {
  const std::string pub_path = absl::StrCat(state_dir, "/", kPublicFile);
  const std::string priv_path = absl::StrCat(state_dir, "/", kPrivateFile);
  ASSIGN_OR_RETURN(bool have_ak, FileExists(pub_path));
  TPM2B_PUBLIC ek_public{};
  ASSIGN_OR_RETURN(TpmHandle ek, CreateRsaEk(ctx, &ek_public));

  TPM2B_PUBLIC pub{};
  TpmHandle ak;
  if (have_ak) {
    ASSIGN_OR_RETURN(std::string pub_bytes, ReadFileLimited(pub_path, kMaxBlobBytes));
    absl::StatusOr<std::string> priv_bytes = ReadFileLimited(priv_path, kMaxBlobBytes);
    if (!priv_bytes.ok()) {
      return absl::DataLossError(absl::StrCat("AK public area present but private blob unreadable (",
                                              priv_bytes.status().message(), ")"));
    }
    absl::StatusOr<TPM2B_PUBLIC> parsed_pub = TpmUnmarshal<TPM2B_PUBLIC>(pub_bytes);
    absl::StatusOr<TPM2B_PRIVATE> parsed_priv = TpmUnmarshal<TPM2B_PRIVATE>(*priv_bytes);
    for (const absl::Status& s : {parsed_pub.status(), parsed_priv.status()}) {
      if (!s.ok()) {
        return absl::DataLossError(
            absl::StrCat("AK blobs in ", state_dir, " are malformed: ", s.message()));
      }
    }
    pub = *parsed_pub;
    if (absl::Status s = CheckAkPublic(pub.publicArea); !s.ok()) {
      return absl::DataLossError(absl::StrCat("stored AK in ", state_dir, ": ", s.message()));
    }
    absl::StatusOr<TpmHandle> loaded = LoadAk(ctx, ek.get(), pub, *parsed_priv);
    if (!loaded.ok()) {
      return absl::DataLossError(absl::StrCat(
          "the TPM refuses the AK stored in ", state_dir,
          " (made by another TPM, or the endorsement seed changed): ", loaded.status().message()));
    }
    ak = std::move(*loaded);
  } else {
    ASSIGN_OR_RETURN(TpmHandle session, EndorsementPolicySession(ctx));
    TPM2B_PUBLIC tmpl = AkTemplate();
    TPM2B_SENSITIVE_CREATE sensitive{};
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION creation_pcr{};
    TPM2B_PRIVATE* raw_priv = nullptr;
    TPM2B_PUBLIC* raw_pub = nullptr;
    TSS2_RC rc = Esys_Create(ctx.get(), ek.get(), session.get(), ESYS_TR_NONE, ESYS_TR_NONE,
                             &sensitive, &tmpl, &outside, &creation_pcr, &raw_priv, &raw_pub,
                             nullptr, nullptr, nullptr);
    EsysPtr<TPM2B_PRIVATE> priv(raw_priv);
    EsysPtr<TPM2B_PUBLIC> created_pub(raw_pub);
    RETURN_IF_ERROR(TpmStatus(rc, "TPM2_Create(AK)"));
    session.Reset();
    RETURN_IF_ERROR(CheckAkPublic(created_pub->publicArea));
    ASSIGN_OR_RETURN(std::string priv_bytes, TpmMarshal(*priv));
    ASSIGN_OR_RETURN(std::string pub_bytes, TpmMarshal(*created_pub));
    RETURN_IF_ERROR(WriteFileAtomic(priv_path, priv_bytes, 0600));
    RETURN_IF_ERROR(WriteFileAtomic(pub_path, pub_bytes, 0644));
    pub = *created_pub;
    ASSIGN_OR_RETURN(ak, LoadAk(ctx, ek.get(), pub, *priv));
  }
  ek.Reset();  // one transient slot is all the attestor keeps

  ASSIGN_OR_RETURN(std::string pub_bytes, TpmMarshal(pub));
  ASSIGN_OR_RETURN(std::string ek_pub_bytes, TpmMarshal(ek_public));
  ASSIGN_OR_RETURN(std::string name, TpmObjectName(pub.publicArea));
  ASSIGN_OR_RETURN(std::string ek_name, TpmObjectName(ek_public.publicArea));
  const std::string qualified_name =
      TpmQualifiedName(TpmQualifiedName(TpmHierarchyQualifiedName(TPM2_RH_ENDORSEMENT), ek_name), name);
  // The TPM's own view of the loaded key must agree with what we derived.
  TPM2B_NAME* raw_name = nullptr;
  TPM2B_NAME* raw_qualified = nullptr;
  TSS2_RC rc = Esys_ReadPublic(ctx.get(), ak.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               nullptr, &raw_name, &raw_qualified);
  EsysPtr<TPM2B_NAME> tpm_name(raw_name);
  EsysPtr<TPM2B_NAME> tpm_qualified(raw_qualified);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_ReadPublic(AK)"));
  if (name != std::string(reinterpret_cast<const char*>(tpm_name->name), tpm_name->size) ||
      qualified_name !=
          std::string(reinterpret_cast<const char*>(tpm_qualified->name), tpm_qualified->size)) {
    return absl::InternalError("AK (qualified) name derived from its public area differs from the TPM's");
  }
  return std::unique_ptr<AttestationKey>(new AttestationKey(
      std::move(ak), std::move(pub_bytes), std::move(name), std::move(qualified_name),
      std::move(ek_pub_bytes), !have_ak));
}

}  // namespace fdattest
