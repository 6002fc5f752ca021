// The attestor's connection to its TPM: one ESAPI context over one TCTI
// (Tss2_TctiLdr, e.g. "swtpm:path=DIR/sock" or "device:/dev/tpmrm0"), and the
// owning guards for what ESAPI hands out. This is the only place where
// TSS2_RC values become absl::Status and where ESYS handles are released.
//
// Ownership: EsysContext owns the TCTI and the ESYS_CONTEXT. A TpmHandle owns
// one ESYS_TR of that context and must be destroyed before it: transient
// objects and sessions are flushed from the TPM (swtpm has only 3 transient
// object slots and no resource manager), NV indexes and persistent objects are
// only forgotten by ESAPI. Not thread-safe: a context is one TPM connection,
// and swtpm serves one connection at a time, so the attestor serialises all
// TPM work onto one context.
#ifndef FDATTEST_ATTESTOR_TPM_CONTEXT_H_
#define FDATTEST_ATTESTOR_TPM_CONTEXT_H_

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// "<what>: TPM error 0x<rc> (<Tss2_RC_Decode text>)". Authorisation failures
// (bad auth, policy failure, locality) map to PermissionDenied, everything
// else to Internal. Success maps to OkStatus.
absl::Status TpmStatus(TSS2_RC rc, absl::string_view what);

// A TPM-layer response code without its handle/session/parameter number, for
// comparing against TPM2_RC_* constants; 0 for codes from other TSS layers
// (TCTI, ESAPI), which are never TPM responses.
TSS2_RC TpmBaseRc(TSS2_RC rc);

// Frees memory that ESAPI returned (Esys_Free).
struct EsysFreeDeleter {
  void operator()(void* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFreeDeleter>;

// Sole owner of one ESYS_TR. Move-only; see the file comment for lifetime.
class TpmHandle {
 public:
  enum class Kind {
    kFlush,  // transient object or session: Esys_FlushContext
    kClose,  // NV index or persistent object: Esys_TR_Close (stays in the TPM)
  };
  TpmHandle() = default;
  TpmHandle(ESYS_CONTEXT* ctx, ESYS_TR tr, Kind kind) : ctx_(ctx), tr_(tr), kind_(kind) {}
  TpmHandle(const TpmHandle&) = delete;
  TpmHandle& operator=(const TpmHandle&) = delete;
  TpmHandle(TpmHandle&& other) noexcept
      : ctx_(other.ctx_), tr_(std::exchange(other.tr_, ESYS_TR_NONE)), kind_(other.kind_) {}
  TpmHandle& operator=(TpmHandle&& other) noexcept;
  ~TpmHandle() { Reset(); }

  ESYS_TR get() const { return tr_; }
  bool valid() const { return tr_ != ESYS_TR_NONE; }
  // Flushes or closes now. Errors are ignored: the handle is unusable either
  // way, and a TPM that is gone has nothing left to flush.
  void Reset();
  // Drops the ESYS_TR without flushing: for a transient object that the TPM
  // no longer holds at this handle (another client flushed it), where a
  // flush would hit whatever object the TPM put there since.
  void Forget();

 private:
  ESYS_CONTEXT* ctx_ = nullptr;
  ESYS_TR tr_ = ESYS_TR_NONE;
  Kind kind_ = Kind::kFlush;
};

// The TPM's clock and boot counters (TPM2_ReadClock). (reset_count,
// restart_count) identifies a boot epoch of the TPM: a change means the
// registers were reset and the event log starts a new epoch.
struct TpmClockInfo {
  uint64_t clock_ms = 0;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  bool safe = false;
};

class EsysContext {
 public:
  struct Options {
    std::string tcti;  // Tss2_TctiLdr configuration string
    // Flush transient objects and sessions left loaded in the TPM by an
    // earlier client that died (swtpm has no resource manager, so a killed
    // attestor leaks its slots). Right for the attestor, the single TPM
    // client of its host; with /dev/tpmrm0 there is nothing to flush.
    bool flush_stale_handles = true;
  };

  // Connects, runs TPM2_Startup(CLEAR) (TPM2_RC_INITIALIZE, "already
  // started", is success) and optionally flushes stale handles.
  static absl::StatusOr<std::unique_ptr<EsysContext>> Open(const Options& options);
  ~EsysContext();  // Esys_Finalize, then Tss2_TctiLdr_Finalize
  EsysContext(const EsysContext&) = delete;
  EsysContext& operator=(const EsysContext&) = delete;

  ESYS_CONTEXT* get() const { return esys_; }

  // Adopts a transient object or session handle returned by an ESAPI call.
  TpmHandle AdoptTransient(ESYS_TR tr) { return TpmHandle(esys_, tr, TpmHandle::Kind::kFlush); }
  // An ESYS_TR for an existing NV index or persistent object.
  absl::StatusOr<TpmHandle> FromTpmHandle(TPM2_HANDLE handle);

  // Whether an NV index or persistent handle is currently defined.
  absl::StatusOr<bool> HandleExists(TPM2_HANDLE handle);
  // A fixed TPM property (TPM2_CAP_TPM_PROPERTIES), e.g. TPM2_PT_NV_BUFFER_MAX.
  absl::StatusOr<uint32_t> GetProperty(TPM2_PT property);
  absl::StatusOr<TpmClockInfo> ReadClock();
  // Flushes every loaded transient object and session (see Options).
  absl::Status FlushStaleHandles();

 private:
  EsysContext(TSS2_TCTI_CONTEXT* tcti, ESYS_CONTEXT* esys) : tcti_(tcti), esys_(esys) {}
  absl::Status FlushAll(TPM2_HANDLE first);

  TSS2_TCTI_CONTEXT* tcti_;
  ESYS_CONTEXT* esys_;
};

// A session of `type` (TPM2_SE_POLICY or TPM2_SE_TRIAL) on which
// TPM2_PolicySecret(auth_entity) has succeeded, proving auth_entity's
// authValue (the empty password). continueSession is set so that the
// returned guard, not the TPM, ends the session, whichever way the next
// command goes. `what` names auth_entity in errors.
absl::StatusOr<TpmHandle> PolicySecretSession(EsysContext& ctx, ESYS_TR auth_entity,
                                              TPM2_SE type, absl::string_view what);

}  // namespace fdattest

#endif  // FDATTEST_ATTESTOR_TPM_CONTEXT_H_
