#include "attestor/tpm_register.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_io.h"
#include "common/tpm_names.h"
#include "common/tpm_nv_register.h"
#include "common/tpm_wire.h"

namespace fdattest {
namespace {

constexpr size_t kAuthBytes = 32;
constexpr TPMA_NV kVolatileNvBits = TPMA_NV_WRITTEN | TPMA_NV_WRITELOCKED | TPMA_NV_READLOCKED;

absl::StatusOr<TPM2B_DATA> ToTpm2bData(absl::string_view data) {
  TPM2B_DATA out{};
  if (data.size() > sizeof(out.buffer)) {
    return absl::InvalidArgumentError(absl::StrCat("qualifying data is ", data.size(),
                                                   " bytes; at most ", sizeof(out.buffer)));
  }
  out.size = static_cast<uint16_t>(data.size());
  std::memcpy(out.buffer, data.data(), data.size());
  return out;
}

absl::StatusOr<TpmAttestation> ToAttestation(const TPM2B_ATTEST& attest,
                                             const TPMT_SIGNATURE& sig) {
  TpmAttestation out;
  out.attest.assign(reinterpret_cast<const char*>(attest.attestationData), attest.size);
  ASSIGN_OR_RETURN(out.signature, TpmMarshal(sig));
  return out;
}

// The register's authValue: created once (before the index is defined, so a
// crash in between leaves an auth file and no index, which the next start
// handles), then only read.
absl::StatusOr<TPM2B_AUTH> LoadOrCreateAuth(const std::string& path, bool may_create) {
  TPM2B_AUTH auth{};
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    ASSIGN_OR_RETURN(std::string bytes, ReadFileLimited(path, 64));
    if (bytes.size() != kAuthBytes) {
      return absl::DataLossError(absl::StrCat(path, " is not a ", kAuthBytes, "-byte register auth value"));
    }
    auth.size = kAuthBytes;
    std::memcpy(auth.buffer, bytes.data(), kAuthBytes);
    return auth;
  }
  if (errno != ENOENT) return ErrnoStatus(absl::StrCat("cannot stat ", path), errno);
  if (!may_create) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the NV register index exists but its auth value (", path,
        ") is missing; only the owner can start over, by undefining the index"));
  }
  auth.size = kAuthBytes;
  if (RAND_bytes(auth.buffer, kAuthBytes) != 1) return OpenSslStatus("RAND_bytes");
  RETURN_IF_ERROR(WriteFileAtomic(
      path, absl::string_view(reinterpret_cast<const char*>(auth.buffer), kAuthBytes), 0600));
  return auth;
}

// Proves that the auth value set on `nv` is the index's, with a command that
// needs it and succeeds on a written and an unwritten index alike:
// TPM2_PolicySecret(nv) into a trial session, which only computes a policy
// digest. (TPM2_NV_Read would prove it too, but on an unwritten index, as
// after every TPM Reset, it fails with TPM_RC_NV_UNINITIALIZED, and ESAPI
// logs every failed command as an error.) The index has TPMA_NV_AUTHREAD,
// which is what lets PolicySecret use its authValue.
absl::Status ProveAuthValue(EsysContext& ctx, ESYS_TR nv, absl::string_view what) {
  return PolicySecretSession(ctx, nv, TPM2_SE_TRIAL, what).status();
}

}  // namespace


TPMA_NV NvRegister::Attributes(bool clear_on_tpm_reset) {
  return MeasurementNvAttributes(clear_on_tpm_reset);
}

absl::StatusOr<std::unique_ptr<NvRegister>> NvRegister::Open(EsysContext& ctx,
                                                             const std::string& state_dir,
                                                             const Options& options) {
  ASSIGN_OR_RETURN(const Register where, Register::NvIndex(options.index));
  const TPMA_NV want = Attributes(options.clear_on_tpm_reset);
  const std::string auth_path = absl::StrCat(state_dir, "/", kAuthFile);
  ASSIGN_OR_RETURN(bool exists, ctx.HandleExists(options.index));
  ASSIGN_OR_RETURN(TPM2B_AUTH auth, LoadOrCreateAuth(auth_path, /*may_create=*/!exists));

  TpmHandle nv;
  if (!exists) {
    TPM2B_NV_PUBLIC pub{};
    pub.nvPublic.nvIndex = options.index;
    pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
    pub.nvPublic.attributes = want;
    pub.nvPublic.dataSize = 32;
    if (options.owner_auth.size() > sizeof(TPM2B_AUTH::buffer)) {
      return absl::InvalidArgumentError("owner auth value too long");
    }
    TPM2B_AUTH owner{};
    owner.size = static_cast<uint16_t>(options.owner_auth.size());
    std::memcpy(owner.buffer, options.owner_auth.data(), options.owner_auth.size());
    TSS2_RC rc = Esys_TR_SetAuth(ctx.get(), ESYS_TR_RH_OWNER, &owner);
    RETURN_IF_ERROR(TpmStatus(rc, "Esys_TR_SetAuth(owner)"));
    ESYS_TR tr = ESYS_TR_NONE;
    rc = Esys_NV_DefineSpace(ctx.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE, &auth, &pub, &tr);
    Esys_TR_SetAuth(ctx.get(), ESYS_TR_RH_OWNER, nullptr);
    RETURN_IF_ERROR(TpmStatus(rc, absl::StrFormat("TPM2_NV_DefineSpace(0x%08x)", options.index)));
    nv = TpmHandle(ctx.get(), tr, TpmHandle::Kind::kClose);
  } else {
    ASSIGN_OR_RETURN(nv, ctx.FromTpmHandle(options.index));
  }

  TPM2B_NV_PUBLIC* raw_pub = nullptr;
  TPM2B_NAME* raw_name = nullptr;
  TSS2_RC rc = Esys_NV_ReadPublic(ctx.get(), nv.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  &raw_pub, &raw_name);
  EsysPtr<TPM2B_NV_PUBLIC> pub(raw_pub);
  EsysPtr<TPM2B_NAME> name(raw_name);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_NV_ReadPublic(register)"));
  const TPMS_NV_PUBLIC& p = pub->nvPublic;
  if (p.nameAlg != TPM2_ALG_SHA256 || p.dataSize != 32 || p.authPolicy.size != 0 ||
      (p.attributes & ~kVolatileNvBits) != want) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "NV index 0x%08x exists but is not an fdattest register (attributes 0x%08x, want 0x%08x; "
        "nameAlg 0x%x, size %u): choose another index or have the owner undefine it",
        options.index, p.attributes, want, p.nameAlg, p.dataSize));
  }
  rc = Esys_TR_SetAuth(ctx.get(), nv.get(), &auth);
  RETURN_IF_ERROR(TpmStatus(rc, "Esys_TR_SetAuth(register)"));

  // The name changes with TPMA_NV_WRITTEN; what NV_Certify reports (and a
  // verifier expects) is the name of the written index.
  TPMS_NV_PUBLIC written = p;
  written.attributes |= TPMA_NV_WRITTEN;
  ASSIGN_OR_RETURN(std::string certified_name, TpmNvIndexName(written));
  if ((p.attributes & TPMA_NV_WRITTEN) &&
      certified_name != std::string(reinterpret_cast<const char*>(name->name), name->size)) {
    return absl::InternalError("NV index name computed from its public area differs from the TPM's");
  }
  std::unique_ptr<NvRegister> reg(
      new NvRegister(ctx, where, std::move(nv), std::move(certified_name), !exists));
  // Proves now, not at the first measurement, that our auth value is the
  // index's: a wrong one fails with an authorisation error.
  RETURN_IF_ERROR(ProveAuthValue(ctx, reg->nv_.get(), reg->Describe()));
  return reg;
}

absl::Status NvRegister::Extend(const Sha256Digest& digest) {
  TPM2B_MAX_NV_BUFFER data{};
  data.size = digest.size();
  std::memcpy(data.buffer, digest.data(), digest.size());
  TSS2_RC rc = Esys_NV_Extend(ctx_.get(), nv_.get(), nv_.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                              ESYS_TR_NONE, &data);
  return TpmStatus(rc, absl::StrCat("TPM2_NV_Extend(", Describe(), ")"));
}

absl::StatusOr<Sha256Digest> NvRegister::Read() {
  Sha256Digest value{};
  // An unwritten index (new, or cleared by a TPM Reset) reads as zeros; asking
  // first keeps TPM_RC_NV_UNINITIALIZED out of ESAPI's error log.
  TPM2B_NV_PUBLIC* raw_pub = nullptr;
  TSS2_RC rc = Esys_NV_ReadPublic(ctx_.get(), nv_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  &raw_pub, nullptr);
  EsysPtr<TPM2B_NV_PUBLIC> pub(raw_pub);
  RETURN_IF_ERROR(TpmStatus(rc, absl::StrCat("TPM2_NV_ReadPublic(", Describe(), ")")));
  if (!(pub->nvPublic.attributes & TPMA_NV_WRITTEN)) return value;
  TPM2B_MAX_NV_BUFFER* raw = nullptr;
  rc = Esys_NV_Read(ctx_.get(), nv_.get(), nv_.get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                    32, 0, &raw);
  EsysPtr<TPM2B_MAX_NV_BUFFER> data(raw);
  RETURN_IF_ERROR(TpmStatus(rc, absl::StrCat("TPM2_NV_Read(", Describe(), ")")));
  if (data->size != value.size()) return absl::InternalError("NV register read returned a short value");
  std::memcpy(value.data(), data->buffer, value.size());
  return value;
}

absl::StatusOr<TpmAttestation> NvRegister::Certify(const AttestationKey& ak,
                                                   absl::string_view qualifying_data) {
  ASSIGN_OR_RETURN(TPM2B_DATA qualifying, ToTpm2bData(qualifying_data));
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;  // the AK's own scheme: ECDSA/SHA-256
  TPM2B_ATTEST* raw_attest = nullptr;
  TPMT_SIGNATURE* raw_sig = nullptr;
  TSS2_RC rc = Esys_NV_Certify(ctx_.get(), ak.handle(), nv_.get(), nv_.get(), ESYS_TR_PASSWORD,
                               ESYS_TR_PASSWORD, ESYS_TR_NONE, &qualifying, &scheme, 32, 0,
                               &raw_attest, &raw_sig);
  EsysPtr<TPM2B_ATTEST> attest(raw_attest);
  EsysPtr<TPMT_SIGNATURE> sig(raw_sig);
  if (TpmBaseRc(rc) == TPM2_RC_NV_UNINITIALIZED) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(), " has not been extended in this TPM epoch; nothing to certify"));
  }
  RETURN_IF_ERROR(TpmStatus(rc, absl::StrCat("TPM2_NV_Certify(", Describe(), ")")));
  return ToAttestation(*attest, *sig);
}

absl::StatusOr<std::unique_ptr<PcrRegister>> PcrRegister::Open(EsysContext& ctx,
                                                               const Options& options) {
  ASSIGN_OR_RETURN(const Register where, Register::Pcr(options.pcr));
  if (!options.allow_resettable_pcr) RETURN_IF_ERROR(CheckRegisterNotResettable(where));
  std::unique_ptr<PcrRegister> reg(new PcrRegister(ctx, where));
  RETURN_IF_ERROR(reg->Read().status());  // the sha256 bank must be active
  return reg;
}

TPML_PCR_SELECTION PcrRegister::Selection() const {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[pcr() / 8] = static_cast<uint8_t>(1u << (pcr() % 8));
  return sel;
}

absl::Status PcrRegister::Extend(const Sha256Digest& digest) {
  TPML_DIGEST_VALUES values{};
  values.count = 1;
  values.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::memcpy(values.digests[0].digest.sha256, digest.data(), digest.size());
  TSS2_RC rc = Esys_PCR_Extend(ctx_.get(), ESYS_TR_PCR0 + pcr(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE, &values);
  return TpmStatus(rc, absl::StrCat("TPM2_PCR_Extend(", Describe(), ")"));
}

absl::StatusOr<Sha256Digest> PcrRegister::Read() {
  const TPML_PCR_SELECTION sel = Selection();
  TPML_DIGEST* raw_values = nullptr;
  TSS2_RC rc = Esys_PCR_Read(ctx_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, nullptr,
                             nullptr, &raw_values);
  EsysPtr<TPML_DIGEST> values(raw_values);
  RETURN_IF_ERROR(TpmStatus(rc, absl::StrCat("TPM2_PCR_Read(", Describe(), ")")));
  Sha256Digest value{};
  if (values->count != 1 || values->digests[0].size != value.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(Describe(), ": the TPM's sha256 PCR bank is not active"));
  }
  std::memcpy(value.data(), values->digests[0].buffer, value.size());
  return value;
}

absl::StatusOr<TpmAttestation> PcrRegister::Certify(const AttestationKey& ak,
                                                    absl::string_view qualifying_data) {
  ASSIGN_OR_RETURN(TPM2B_DATA qualifying, ToTpm2bData(qualifying_data));
  TPMT_SIG_SCHEME scheme{};
  scheme.scheme = TPM2_ALG_NULL;
  const TPML_PCR_SELECTION sel = Selection();
  TPM2B_ATTEST* raw_attest = nullptr;
  TPMT_SIGNATURE* raw_sig = nullptr;
  TSS2_RC rc = Esys_Quote(ctx_.get(), ak.handle(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                          &qualifying, &scheme, &sel, &raw_attest, &raw_sig);
  EsysPtr<TPM2B_ATTEST> attest(raw_attest);
  EsysPtr<TPMT_SIGNATURE> sig(raw_sig);
  RETURN_IF_ERROR(TpmStatus(rc, absl::StrCat("TPM2_Quote(", Describe(), ")")));
  return ToAttestation(*attest, *sig);
}

}  // namespace fdattest
