// The measurement register: the TPM location the attestor extends each
// measurement into and later has the AK sign. Two kinds behind one interface:
//
//  * NvRegister (default): an NV extend index (TPM_NT_EXTEND, sha256, 32
//    bytes) in the owner range, defined by the attestor if absent, certified
//    with TPM2_NV_Certify (TPMS_ATTEST type TPM_ST_ATTEST_NV).
//  * PcrRegister: one PCR of the sha256 bank, quoted with TPM2_Quote.
//
// Both start from 32 zero bytes and extend as value = SHA-256(value || digest).
// Not thread-safe; a register must not outlive its EsysContext.
#ifndef FDATTEST_ATTESTOR_TPM_REGISTER_H_
#define FDATTEST_ATTESTOR_TPM_REGISTER_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "attestor/tpm_context.h"
#include "attestor/tpm_keys.h"
#include "common/register.h"
#include "common/sha256.h"
#include "common/status.h"

namespace fdattest {

// What the TPM signed: the TPMS_ATTEST bytes (the content of TPM2B_ATTEST, no
// size prefix; what `tpm2_quote -m` writes) and the marshalled TPMT_SIGNATURE
// over them.
struct TpmAttestation {
  std::string attest;
  std::string signature;
};

class MeasurementRegister {
 public:
  virtual ~MeasurementRegister() = default;
  // Which register this is.
  virtual Register reg() const = 0;
  // Its text form, e.g. "nv:0x01bfda00" or "pcr:15" (Register::ToString).
  std::string Describe() const { return reg().ToString(); }
  virtual absl::Status Extend(const Sha256Digest& digest) = 0;
  // The current value; 32 zero bytes before the first extend.
  virtual absl::StatusOr<Sha256Digest> Read() = 0;
  // Has `ak` sign the register's current value together with
  // `qualifying_data` (at most 64 bytes), which the TPM copies into
  // TPMS_ATTEST.extraData.
  virtual absl::StatusOr<TpmAttestation> Certify(const AttestationKey& ak,
                                                 absl::string_view qualifying_data) = 0;
};

// Why ordinary software cannot reset the NV register:
//  * An NV extend index (TPM_NT_EXTEND) changes only by TPM2_NV_Extend; it
//    cannot be written, so its value is always a hash chain from zero.
//  * It goes back to zero only by being undefined (TPM2_NV_UndefineSpace),
//    which needs owner authorisation (platform for platform indexes), or, with
//    clear_on_tpm_reset, by a TPM Reset/Restart, which the TPM counts in
//    resetCount/restartCount and signs into every TPMS_ATTEST. On a real host,
//    the owner hierarchy must therefore have an authValue (tpm2_changeauth -c o)
//    for this guarantee: with the usual empty owner auth, any process allowed
//    to use the TPM could undefine and redefine the index (same name) and
//    replay a history of its choice.
//  * Extending needs the index's authValue (TPMA_NV_AUTHWRITE; no OWNERWRITE,
//    PPWRITE or POLICYWRITE): 32 random bytes the attestor keeps in its state
//    directory (mode 0600), so no other TPM user can add entries the event log
//    lacks. NO_DA: with a 256-bit secret, guesses need no lockout, and wrong
//    guesses cannot lock the attestor (or the whole TPM) out.
//  * Reading: AUTHREAD for the attestor, OWNERREAD so that anyone holding owner
//    authorisation (tpm2_nvread's default) can check the value independently.
class NvRegister : public MeasurementRegister {
 public:
  static constexpr char kAuthFile[] = "nv-register.auth";

  struct Options {
    TPM2_HANDLE index = kDefaultNvRegisterIndex;  // common/register.h
    // TPMA_NV_CLEAR_STCLEAR: the index reads as unwritten (all zero) after a
    // TPM Reset or Restart, like a PCR, so a new boot epoch starts a new
    // event log. Off: the chain spans boots and so must the log.
    bool clear_on_tpm_reset = true;
    // Owner hierarchy authValue, needed only to define the index.
    std::string owner_auth;
  };

  // Opens the index, defining it first if absent (with a new authValue
  // stored in `state_dir`). An existing index must have exactly the attributes
  // this class defines, and the stored authValue must authorise it.
  static absl::StatusOr<std::unique_ptr<NvRegister>> Open(EsysContext& ctx,
                                                          const std::string& state_dir,
                                                          const Options& options);
  // The NV index attributes Open defines (TPMA_NV_WRITTEN aside).
  static TPMA_NV Attributes(bool clear_on_tpm_reset);

  Register reg() const override { return reg_; }
  absl::Status Extend(const Sha256Digest& digest) override;
  absl::StatusOr<Sha256Digest> Read() override;
  // TPM2_NV_Certify of the 32 bytes at offset 0. FailedPrecondition while the
  // index is unwritten (a TPM cannot certify what was never written).
  absl::StatusOr<TpmAttestation> Certify(const AttestationKey& ak,
                                         absl::string_view qualifying_data) override;

  TPM2_HANDLE index() const { return reg_.index; }
  // The index's TPM name once written (the name covers TPMA_NV_WRITTEN):
  // what TPMS_NV_CERTIFY_INFO.indexName holds.
  const std::string& name() const { return name_; }
  bool created() const { return created_; }

 private:
  NvRegister(EsysContext& ctx, Register reg, TpmHandle nv, std::string name, bool created)
      : ctx_(ctx), reg_(reg), nv_(std::move(nv)), name_(std::move(name)), created_(created) {}

  EsysContext& ctx_;
  Register reg_;
  TpmHandle nv_;  // auth value set on it
  std::string name_;
  bool created_;
};

// PCRs 16 and 23 can be reset by any TPM client, so a register there proves
// nothing (CheckRegisterNotResettable, common/register.h): PcrRegister::Open
// refuses them unless allow_resettable_pcr, which only tests set.
class PcrRegister : public MeasurementRegister {
 public:
  struct Options {
    int pcr = -1;
    bool allow_resettable_pcr = false;  // tests only
  };
  static absl::StatusOr<std::unique_ptr<PcrRegister>> Open(EsysContext& ctx,
                                                           const Options& options);

  Register reg() const override { return reg_; }
  absl::Status Extend(const Sha256Digest& digest) override;
  absl::StatusOr<Sha256Digest> Read() override;
  // TPM2_Quote over sha256:{pcr} (TPMS_ATTEST type TPM_ST_ATTEST_QUOTE).
  absl::StatusOr<TpmAttestation> Certify(const AttestationKey& ak,
                                         absl::string_view qualifying_data) override;

  int pcr() const { return static_cast<int>(reg_.index); }

 private:
  PcrRegister(EsysContext& ctx, Register reg) : ctx_(ctx), reg_(reg) {}
  TPML_PCR_SELECTION Selection() const;

  EsysContext& ctx_;
  Register reg_;
};

}  // namespace fdattest

#endif  // FDATTEST_ATTESTOR_TPM_REGISTER_H_
