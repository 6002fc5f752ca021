#include "attestor/tpm_context.h"

#include <tss2/tss2_rc.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fdattest {

TSS2_RC TpmBaseRc(TSS2_RC rc) {
  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER) return 0;
  // Format-one codes carry a handle, session or parameter number in bits 6
  // and 8..11; the error itself is bit 7 plus bits 0..5.
  if (rc & TPM2_RC_FMT1) return rc & (TPM2_RC_FMT1 | 0x3f);
  return rc;
}

absl::Status TpmStatus(TSS2_RC rc, absl::string_view what) {
  if (rc == TSS2_RC_SUCCESS) return absl::OkStatus();
  std::string msg =
      absl::StrFormat("%s: TPM error 0x%x (%s)", what, rc, Tss2_RC_Decode(rc));
  switch (TpmBaseRc(rc)) {
    case TPM2_RC_AUTH_FAIL:
    case TPM2_RC_BAD_AUTH:
    case TPM2_RC_POLICY_FAIL:
    case TPM2_RC_LOCALITY:
    case TPM2_RC_LOCKOUT:
    case TPM2_RC_NV_AUTHORIZATION:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

TpmHandle& TpmHandle::operator=(TpmHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    ctx_ = other.ctx_;
    kind_ = other.kind_;
    tr_ = std::exchange(other.tr_, ESYS_TR_NONE);
  }
  return *this;
}

void TpmHandle::Reset() {
  if (tr_ == ESYS_TR_NONE || ctx_ == nullptr) return;
  if (kind_ == Kind::kFlush) {
    if (Esys_FlushContext(ctx_, tr_) != TSS2_RC_SUCCESS) Esys_TR_Close(ctx_, &tr_);
  } else {
    Esys_TR_Close(ctx_, &tr_);
  }
  tr_ = ESYS_TR_NONE;
}

void TpmHandle::Forget() {
  if (tr_ == ESYS_TR_NONE || ctx_ == nullptr) return;
  Esys_TR_Close(ctx_, &tr_);
  tr_ = ESYS_TR_NONE;
}

absl::StatusOr<std::unique_ptr<EsysContext>> EsysContext::Open(const Options& options) {
  if (options.tcti.empty()) return absl::InvalidArgumentError("empty TCTI configuration");
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(options.tcti.c_str(), &tcti);
  if (rc != TSS2_RC_SUCCESS) {
    return TpmStatus(rc, absl::StrCat("cannot connect to the TPM through TCTI \"", options.tcti, "\""));
  }
  ESYS_CONTEXT* esys = nullptr;
  rc = Esys_Initialize(&esys, tcti, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    Tss2_TctiLdr_Finalize(&tcti);
    return TpmStatus(rc, "Esys_Initialize");
  }
  std::unique_ptr<EsysContext> ctx(new EsysContext(tcti, esys));
  rc = Esys_Startup(esys, TPM2_SU_CLEAR);
  if (rc != TSS2_RC_SUCCESS && TpmBaseRc(rc) != TPM2_RC_INITIALIZE) {
    return TpmStatus(rc, "TPM2_Startup");
  }
  if (options.flush_stale_handles) RETURN_IF_ERROR(ctx->FlushStaleHandles());
  return ctx;
}

EsysContext::~EsysContext() {
  Esys_Finalize(&esys_);
  Tss2_TctiLdr_Finalize(&tcti_);
}

absl::StatusOr<TpmHandle> EsysContext::FromTpmHandle(TPM2_HANDLE handle) {
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(esys_, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
  RETURN_IF_ERROR(TpmStatus(rc, absl::StrFormat("cannot open TPM handle 0x%08x", handle)));
  return TpmHandle(esys_, tr, TpmHandle::Kind::kClose);
}

absl::StatusOr<bool> EsysContext::HandleExists(TPM2_HANDLE handle) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_HANDLES, handle, 1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_GetCapability(handles)"));
  const TPML_HANDLE& list = data->data.handles;
  return list.count >= 1 && list.handle[0] == handle;
}

absl::StatusOr<uint32_t> EsysContext::GetProperty(TPM2_PT property) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_TPM_PROPERTIES, property, 1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_GetCapability(properties)"));
  const TPML_TAGGED_TPM_PROPERTY& list = data->data.tpmProperties;
  if (list.count < 1 || list.tpmProperty[0].property != property) {
    return absl::InternalError(absl::StrFormat("the TPM does not report property 0x%x", property));
  }
  return list.tpmProperty[0].value;
}

absl::StatusOr<TpmClockInfo> EsysContext::ReadClock() {
  TPMS_TIME_INFO* raw = nullptr;
  TSS2_RC rc = Esys_ReadClock(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &raw);
  EsysPtr<TPMS_TIME_INFO> time(raw);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_ReadClock"));
  TpmClockInfo info;
  info.clock_ms = time->clockInfo.clock;
  info.reset_count = time->clockInfo.resetCount;
  info.restart_count = time->clockInfo.restartCount;
  info.safe = time->clockInfo.safe == TPM2_YES;
  return info;
}

absl::Status EsysContext::FlushAll(TPM2_HANDLE first) {
  // Collect first, then flush: flushing while paging through the list would
  // shift it under us. The session query lists HMAC (0x02) and policy (0x03)
  // session handles; the transient query only transient objects (0x80).
  const bool sessions = (first >> TPM2_HR_SHIFT) == TPM2_HT_LOADED_SESSION;
  auto wanted = [sessions](TPM2_HANDLE h) {
    const uint32_t type = h >> TPM2_HR_SHIFT;
    return sessions ? (type == TPM2_HT_HMAC_SESSION || type == TPM2_HT_POLICY_SESSION)
                    : type == TPM2_HT_TRANSIENT;
  };
  std::vector<TPM2_HANDLE> handles;
  TPM2_HANDLE next = first;
  for (int page = 0; page < 64; ++page) {
    TPMI_YES_NO more = TPM2_NO;
    TPMS_CAPABILITY_DATA* raw = nullptr;
    TSS2_RC rc = Esys_GetCapability(esys_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                    TPM2_CAP_HANDLES, next, TPM2_MAX_CAP_HANDLES, &more, &raw);
    EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
    RETURN_IF_ERROR(TpmStatus(rc, "TPM2_GetCapability(handles)"));
    const TPML_HANDLE& list = data->data.handles;
    for (uint32_t i = 0; i < list.count; ++i) {
      if (wanted(list.handle[i])) handles.push_back(list.handle[i]);
    }
    if (!more || list.count == 0) break;
    next = list.handle[list.count - 1] + 1;
  }
  for (TPM2_HANDLE h : handles) {
    ESYS_TR tr = ESYS_TR_NONE;
    TSS2_RC rc = Esys_TR_FromTPMPublic(esys_, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
    RETURN_IF_ERROR(TpmStatus(rc, absl::StrFormat("cannot open stale handle 0x%08x", h)));
    rc = Esys_FlushContext(esys_, tr);
    if (rc != TSS2_RC_SUCCESS) {
      Esys_TR_Close(esys_, &tr);
      return TpmStatus(rc, absl::StrFormat("cannot flush stale handle 0x%08x", h));
    }
  }
  return absl::OkStatus();
}

absl::Status EsysContext::FlushStaleHandles() {
  RETURN_IF_ERROR(FlushAll(TPM2_TRANSIENT_FIRST));
  return FlushAll(TPM2_LOADED_SESSION_FIRST);
}

absl::StatusOr<TpmHandle> PolicySecretSession(EsysContext& ctx, ESYS_TR auth_entity,
                                              TPM2_SE type, absl::string_view what) {
  TPMT_SYM_DEF symmetric{};
  symmetric.algorithm = TPM2_ALG_NULL;
  ESYS_TR tr = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, ESYS_TR_NONE, nullptr, type, &symmetric,
                                     TPM2_ALG_SHA256, &tr);
  RETURN_IF_ERROR(TpmStatus(rc, absl::StrCat("TPM2_StartAuthSession(",
                                             type == TPM2_SE_TRIAL ? "trial" : "policy", ")")));
  TpmHandle session = ctx.AdoptTransient(tr);
  rc = Esys_TRSess_SetAttributes(ctx.get(), tr, TPMA_SESSION_CONTINUESESSION, 0xff);
  RETURN_IF_ERROR(TpmStatus(rc, "Esys_TRSess_SetAttributes"));
  TPM2B_NONCE empty_nonce{};
  TPM2B_DIGEST empty_cphash{};
  TPM2B_NONCE empty_ref{};
  rc = Esys_PolicySecret(ctx.get(), auth_entity, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                         &empty_nonce, &empty_cphash, &empty_ref, 0, nullptr, nullptr);
  RETURN_IF_ERROR(TpmStatus(rc, absl::StrCat("TPM2_PolicySecret(", what, ")")));
  return session;
}

}  // namespace fdattest
