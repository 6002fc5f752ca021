#include "attestor/attestor.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

void LogLine(absl::string_view line) {
  std::string text = absl::StrCat("fdattestd: ", line, "\n");
  fputs(text.c_str(), stderr);
  fflush(stderr);
}

bool IsZero(const Sha256Digest& d) { return DigestEqual(d, kRegisterResetValue); }

absl::Status EnsureStateDir(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("no state directory given");
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(absl::StrCat("cannot create state directory ", dir), errno);
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return ErrnoStatus(absl::StrCat("cannot stat ", dir), errno);
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("state directory ", dir, " is not a directory"));
  }
  return absl::OkStatus();
}

// Takes the state directory's lock, held until the Attestor goes. Taken
// before the TPM is opened: opening it flushes every loaded handle (see
// EsysContext::Options), which would take the AK from under a running daemon.
absl::StatusOr<UniqueFd> LockStateDir(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/", kStateLockFile);
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return ErrnoStatus(absl::StrCat("cannot open lock file ", path), errno);
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "state directory ", dir, " is in use by another fdattestd (it holds ", path,
          "); refusing to start, and the TPM was not touched"));
    }
    return ErrnoStatus(absl::StrCat("cannot lock ", path), errno);
  }
  return fd;
}

// Opens the event log, truncating a torn tail first: by the append protocol a
// torn record was never synced, so never extended nor acknowledged.
absl::StatusOr<EventLog> OpenEventLog(const std::string& path, const Register& reg,
                                      std::string* note) {
  absl::StatusOr<EventLog> log = EventLog::Open(path, reg);
  if (log.ok() || log.status().code() != absl::StatusCode::kDataLoss) return log;
  absl::StatusOr<RepairResult> repaired = EventLog::Repair(path, reg);
  if (!repaired.ok() || repaired->bytes_removed == 0) return log.status();
  *note = absl::StrCat("removed a torn record (", repaired->bytes_removed,
                       " bytes after record ", repaired->records_kept, ") from the event log; ");
  return EventLog::Open(path, reg);
}

}  // namespace

Attestor::~Attestor() {
  // Held workloads die with the attestor that held them.
  launches_.KillAllHeld();
  // Flush the AK and forget the register before the context goes.
  log_.reset();
  register_.reset();
  ak_.reset();
  ctx_.reset();
}

absl::StatusOr<std::unique_ptr<Attestor>> Attestor::Open(const AttestorOptions& options) {
  // "nv" alone is the command line's shorthand for the default NV index.
  ASSIGN_OR_RETURN(const Register spec, options.register_spec == "nv"
                                            ? absl::StatusOr<Register>(Register())
                                            : Register::Parse(options.register_spec));
  const bool pcr = spec.kind == Register::Kind::kPcr;
  if (!options.allow_resettable_pcr) RETURN_IF_ERROR(CheckRegisterNotResettable(spec));
  // Whether the kernel can be read, before anything is touched: an attestor
  // that cannot observe refuses to start unless told to record that.
  absl::Status probe = options.probe ? options.probe() : ProbeKernelObservation();
  if (!probe.ok() && !options.allow_unobserved) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot observe workloads on this kernel: ", probe.message(),
        " (--allow-unobserved serves anyway and records every launch as not observed)"));
  }
  RETURN_IF_ERROR(EnsureStateDir(options.state_dir));

  std::unique_ptr<Attestor> a(new Attestor());
  if (!probe.ok()) {
    a->not_observed_ = probe.message().empty() ? "the kernel cannot be observed"
                                               : std::string(probe.message());
  }
  ASSIGN_OR_RETURN(a->state_lock_, LockStateDir(options.state_dir));
  a->state_dir_ = options.state_dir;
  ASSIGN_OR_RETURN(a->ctx_, EsysContext::Open({.tcti = options.tcti}));
  ASSIGN_OR_RETURN(a->ak_, AttestationKey::LoadOrCreate(*a->ctx_, options.state_dir));
  Register log_reg;
  if (pcr) {
    ASSIGN_OR_RETURN(a->register_,
                     PcrRegister::Open(*a->ctx_, {.pcr = static_cast<int>(spec.index),
                                                  .allow_resettable_pcr =
                                                      options.allow_resettable_pcr}));
    ASSIGN_OR_RETURN(log_reg, Register::Pcr(spec.index));
  } else {
    NvRegister::Options nv;
    nv.index = spec.index;
    nv.owner_auth = options.owner_auth;
    ASSIGN_OR_RETURN(a->register_, NvRegister::Open(*a->ctx_, options.state_dir, nv));
    ASSIGN_OR_RETURN(log_reg, Register::NvIndex(spec.index));
  }

  std::string note;
  ASSIGN_OR_RETURN(EventLog log, OpenEventLog(absl::StrCat(options.state_dir, "/", kEventLogFile),
                                              log_reg, &note));
  a->log_.emplace(std::move(log));

  absl::StatusOr<std::string> ek_cert = ReadEkCertificate(*a->ctx_);
  if (ek_cert.ok()) {
    a->ek_certificate_ = *std::move(ek_cert);
  } else if (ek_cert.status().code() == absl::StatusCode::kNotFound) {
    absl::StrAppend(&note, "the TPM holds no EK certificate (info serves an empty one); ");
  } else {
    return ek_cert.status();
  }

  ASSIGN_OR_RETURN(TpmClockInfo clock, a->ctx_->ReadClock());
  a->startup_summary_ = note;
  RETURN_IF_ERROR(a->Reconcile(clock));
  absl::StrAppend(&a->startup_summary_, "AK ", a->ak_->created() ? "created" : "loaded",
                  ", resetCount ", clock.reset_count, ", restartCount ", clock.restart_count);
  if (!a->not_observed_.empty()) {
    absl::StrAppend(&a->startup_summary_, "; NOT OBSERVING (--allow-unobserved): ",
                    a->not_observed_, "; every launch is recorded as not observed");
  }
  return a;
}

// Start-up reconciliation (docs/formats/event-log.md, "Epochs" and
// "Durability and crash recovery").
absl::Status Attestor::Reconcile(const TpmClockInfo& clock) {
  ASSIGN_OR_RETURN(Sha256Digest value, register_->Read());
  const std::optional<Epoch>& epoch = log_->current_epoch();
  const std::string where = absl::StrCat("register ", register_->Describe());
  bool new_epoch = false;
  std::string why;
  if (!epoch.has_value()) {
    new_epoch = true;
    why = "the event log is empty";
  } else if (epoch->reset_count != clock.reset_count) {
    new_epoch = true;
    why = absl::StrCat("the TPM was reset (resetCount ", epoch->reset_count, " -> ",
                       clock.reset_count, ")");
  } else if (epoch->restart_count != clock.restart_count && IsZero(value) &&
             !IsZero(log_->expected_value())) {
    new_epoch = true;
    why = absl::StrCat("the TPM was restarted (restartCount ", epoch->restart_count, " -> ",
                       clock.restart_count, ") and the register reads as reset");
  }
  if (new_epoch) {
    if (!IsZero(value)) {
      return absl::DataLossError(absl::StrCat(
          where, " holds ", HexEncode(value), " but ", why,
          ", so it should read as reset: it was extended by someone else or survived the reset; "
          "refusing to start an epoch the register cannot match"));
    }
    ASSIGN_OR_RETURN(CelRecord record, log_->StartEpoch(clock.reset_count, clock.restart_count));
    RETURN_IF_ERROR(register_->Extend(record.digest));
    ASSIGN_OR_RETURN(value, register_->Read());
    absl::StrAppend(&startup_summary_, "started epoch at record ", record.recnum, " (", why,
                    "); ");
  }

  Reconciliation r = log_->ReconcileWith(value);
  if (r.state == Reconciliation::State::kOnePending) {
    // Written and synced, never extended (the attestor stopped between the
    // two): extend it now, so the register catches up with what the log says.
    RETURN_IF_ERROR(register_->Extend(r.pending->digest));
    ASSIGN_OR_RETURN(value, register_->Read());
    absl::StrAppend(&startup_summary_, "re-extended pending record ", r.pending->recnum,
                    " (written but not extended before the last stop); ");
    r = log_->ReconcileWith(value);
  }
  if (r.state != Reconciliation::State::kConsistent) {
    return absl::DataLossError(r.explanation);
  }
  absl::StrAppend(&startup_summary_, r.explanation, "; ");
  return absl::OkStatus();
}

absl::Status Attestor::Fail(absl::Status status) {
  if (fatal_.ok()) fatal_ = status;
  return status;
}

void Attestor::ConnectionClosed(uint64_t connection_id) {
  launches_.ConnectionClosed(connection_id);
}

AttestorResponse Attestor::Handle(const AttestorRequest& request,
                                  AttestorConnection& connection) {
  if (!fatal_.ok()) {
    return ErrorResponse(absl::Status(
        fatal_.code(), absl::StrCat("the attestor stopped serving: ", fatal_.message())));
  }
  absl::StatusOr<AttestorResponse> response = absl::InternalError("unhandled op");
  switch (request.op) {
    case AttestorRequest::Op::kInfo:
      response = Info();
      break;
    case AttestorRequest::Op::kMeasure:
      if (request.content->type == CelContent::Type::kLaunchManifest) {
        response = absl::FailedPreconditionError(
            "a launch manifest is measured only through 'launch', which observes the workload");
      } else if (request.content->type != CelContent::Type::kLaunchSeparator) {
        response = absl::FailedPreconditionError(absl::StrCat(
            "a ", CelContentTypeName(request.content->type),
            " record is made by the attestor only; measure takes a launch_separator"));
      } else {
        response = Measure(*request.content);
      }
      break;
    case AttestorRequest::Op::kCertify:
      response = Certify(request.qualifying_data);
      break;
    case AttestorRequest::Op::kLog:
      response = Log(request.launch_id);
      break;
    case AttestorRequest::Op::kActivateCredential:
      response = ActivateCredential(request);
      break;
    case AttestorRequest::Op::kHold:
      response = Hold(request, connection);
      break;
    case AttestorRequest::Op::kLaunch:
      response = Launch(request, connection);
      break;
    case AttestorRequest::Op::kRelease:
      response = Release(request, connection);
      break;
    case AttestorRequest::Op::kReattest:
      response = Reattest(request, connection);
      break;
  }
  if (!response.ok()) return ErrorResponse(response.status());
  return *std::move(response);
}

absl::StatusOr<InfoResponse> Attestor::Info() {
  ASSIGN_OR_RETURN(TpmClockInfo clock, ctx_->ReadClock());
  return InfoResponse{.ak_public = ak_->public_area(),
                      .ak_name = ak_->name(),
                      .ak_qualified_name = ak_->qualified_name(),
                      .ek_public = ak_->ek_public_area(),
                      .ek_certificate = ek_certificate_,
                      .reg = log_->reg(),
                      .reset_count = clock.reset_count,
                      .restart_count = clock.restart_count};
}

absl::StatusOr<MeasureResponse> Attestor::Measure(const CelContent& content) {
  absl::StatusOr<CelRecord> record = log_->Append(content);
  if (!record.ok()) {
    // FailedPrecondition: the record breaks a log rule and nothing was
    // written. Anything else is an I/O failure and the log refuses further
    // appends: stop, and let a restart replay what reached the disk.
    if (record.status().code() == absl::StatusCode::kFailedPrecondition) return record.status();
    return Fail(absl::InternalError(
        absl::StrCat("cannot append to the event log: ", record.status().message())));
  }
  absl::Status extended = register_->Extend(record->digest);
  if (!extended.ok()) {
    // The record is in the log but not in the register: one pending record,
    // which only a restart's reconciliation may resolve.
    return Fail(absl::InternalError(absl::StrCat("record ", record->recnum,
                                                 " was logged but extending ",
                                                 register_->Describe(),
                                                 " failed: ", extended.message())));
  }
  return MeasureResponse{.recnum = record->recnum};
}

absl::StatusOr<CertifyResponse> Attestor::Certify(absl::string_view qualifying_data) {
  ASSIGN_OR_RETURN(Sha256Digest value, register_->Read());
  if (!DigestEqual(value, log_->expected_value())) {
    return Fail(absl::DataLossError(absl::StrCat(
        "register ", register_->Describe(), " holds ", HexEncode(value),
        " but the event log replays to ", HexEncode(log_->expected_value()),
        ": the register was changed behind the attestor; refusing to serve")));
  }
  RETURN_IF_ERROR(EnsureAkLoaded());
  ASSIGN_OR_RETURN(TpmAttestation att, register_->Certify(*ak_, qualifying_data));
  return CertifyResponse{.attest = std::move(att.attest),
                         .signature = std::move(att.signature),
                         .register_value = value};
}

// Without a resource manager (swtpm, /dev/tpm0) any TPM client can flush the
// AK: a tool, or another program flushing what it takes for stale handles.
// Reload it rather than fail every certify until a restart.
absl::Status Attestor::EnsureAkLoaded() {
  ASSIGN_OR_RETURN(bool loaded, ak_->IsLoaded(*ctx_));
  if (loaded) return absl::OkStatus();
  ak_->Forget();
  // Load only: creating a new AK while serving would change the identity.
  const std::string pub = absl::StrCat(state_dir_, "/", AttestationKey::kPublicFile);
  if (access(pub.c_str(), F_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the AK is no longer loaded in the TPM and ", pub, " is gone; refusing to create a new AK"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<AttestationKey> reloaded,
                   AttestationKey::LoadOrCreate(*ctx_, state_dir_));
  if (reloaded->name() != ak_->name()) {
    return Fail(absl::DataLossError(absl::StrCat(
        "the AK in ", state_dir_, " changed while serving (name ", HexEncode(ak_->name()), " -> ",
        HexEncode(reloaded->name()), "); refusing to serve")));
  }
  ak_ = std::move(reloaded);
  LogLine(absl::StrCat("the AK was no longer loaded in the TPM (flushed by another TPM client); "
                       "reloaded the AK from ", state_dir_));
  return absl::OkStatus();
}

absl::StatusOr<LogResponse> Attestor::Log(absl::string_view launch_id) {
  ASSIGN_OR_RETURN(std::vector<CelRecord> records, log_->Records(launch_id));
  return LogResponse{.records = std::move(records)};
}

absl::StatusOr<ActivateCredentialResponse> Attestor::ActivateCredential(
    const AttestorRequest& request) {
  RETURN_IF_ERROR(EnsureAkLoaded());
  ASSIGN_OR_RETURN(std::string credential,
                   fdattest::ActivateCredential(*ctx_, *ak_, request.credential_blob,
                                                request.encrypted_secret));
  return ActivateCredentialResponse{.credential = std::move(credential)};
}

}  // namespace fdattest
