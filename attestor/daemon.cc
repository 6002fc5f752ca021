#include "attestor/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base64.h"
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

absl::Status SocketAddress(const std::string& path, sockaddr_un* addr) {
  *addr = {};
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path \"", path, "\" must be 1 to ",
                                                   sizeof(addr->sun_path) - 1, " bytes"));
  }
  std::copy(path.begin(), path.end(), addr->sun_path);
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------
// Attestor

Attestor::~Attestor() {
  // Flush the AK and forget the register before the context goes.
  log_.reset();
  register_.reset();
  ak_.reset();
  ctx_.reset();
}

absl::StatusOr<std::unique_ptr<Attestor>> Attestor::Open(const AttestorOptions& options) {
  ASSIGN_OR_RETURN(const Register spec, Register::Parse(options.register_spec));
  const bool pcr = spec.kind == Register::Kind::kPcr;
  if (!options.allow_resettable_pcr) RETURN_IF_ERROR(CheckRegisterNotResettable(spec));
  RETURN_IF_ERROR(EnsureStateDir(options.state_dir));

  std::unique_ptr<Attestor> a(new Attestor());
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

std::string Attestor::HandlePayload(absl::string_view payload) {
  absl::StatusOr<Request> request = ParseRequest(payload);
  if (!request.ok()) return SerializeResponse(ErrorResponse(request.status()));
  return SerializeResponse(Handle(*request));
}

Json Attestor::Handle(const Request& request) {
  if (!fatal_.ok()) {
    return ErrorResponse(absl::Status(
        fatal_.code(), absl::StrCat("the attestor stopped serving: ", fatal_.message())));
  }
  absl::StatusOr<Json> response = absl::InternalError("unhandled op");
  switch (request.op) {
    case Request::Op::kInfo:
      response = Info();
      break;
    case Request::Op::kMeasure:
      response = Measure(*request.content);
      break;
    case Request::Op::kCertify:
      response = Certify(request.qualifying_data);
      break;
    case Request::Op::kLog:
      response = Log(request.launch_id);
      break;
  }
  if (!response.ok()) return ErrorResponse(response.status());
  (*response)["ok"] = true;
  return *std::move(response);
}

Json Attestor::RegisterJson() const { return log_->reg().ToJson(); }

absl::StatusOr<Json> Attestor::Info() {
  ASSIGN_OR_RETURN(TpmClockInfo clock, ctx_->ReadClock());
  Json j = Json::object();
  j["ak_public"] = Base64Encode(ak_->public_area());
  j["ak_name"] = HexEncode(ak_->name());
  j["ak_qualified_name"] = HexEncode(ak_->qualified_name());
  j["ek_public"] = Base64Encode(ak_->ek_public_area());
  j["ek_certificate"] = Base64Encode(ek_certificate_);
  j["register"] = RegisterJson();
  j["reset_count"] = clock.reset_count;
  j["restart_count"] = clock.restart_count;
  return j;
}

absl::StatusOr<Json> Attestor::Measure(const CelContent& content) {
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
  Json j = Json::object();
  j["recnum"] = record->recnum;
  return j;
}

absl::StatusOr<Json> Attestor::Certify(absl::string_view qualifying_data) {
  ASSIGN_OR_RETURN(Sha256Digest value, register_->Read());
  if (!DigestEqual(value, log_->expected_value())) {
    return Fail(absl::DataLossError(absl::StrCat(
        "register ", register_->Describe(), " holds ", HexEncode(value),
        " but the event log replays to ", HexEncode(log_->expected_value()),
        ": the register was changed behind the attestor; refusing to serve")));
  }
  ASSIGN_OR_RETURN(TpmAttestation att, register_->Certify(*ak_, qualifying_data));
  Json j = Json::object();
  j["attest"] = Base64Encode(att.attest);
  j["signature"] = Base64Encode(att.signature);
  j["register_value"] = HexEncode(value);
  return j;
}

absl::StatusOr<Json> Attestor::Log(absl::string_view launch_id) {
  ASSIGN_OR_RETURN(std::vector<CelRecord> records, log_->Records(launch_id));
  Json list = Json::array();
  for (const CelRecord& r : records) list.push_back(r.ToJson());
  Json j = Json::object();
  j["records"] = std::move(list);
  return j;
}

// ---------------------------------------------------------------------------
// Peers and the socket

bool PeerPolicy::Allows(uid_t uid, gid_t gid) const {
  return std::find(uids.begin(), uids.end(), uid) != uids.end() ||
         std::find(gids.begin(), gids.end(), gid) != gids.end();
}

std::string PeerPolicy::Describe() const {
  return absl::StrCat("uids [", absl::StrJoin(uids, ","), "], gids [", absl::StrJoin(gids, ","),
                      "]");
}

absl::Status CheckSocketUnused(const std::string& path) {
  sockaddr_un addr;
  RETURN_IF_ERROR(SocketAddress(path, &addr));
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoStatus(absl::StrCat("cannot stat ", path), errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; refusing to replace it"));
  }
  UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return ErrnoStatus("socket", errno);
  if (connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("another server accepts connections on ", path));
  }
  return absl::OkStatus();  // stale (ECONNREFUSED): nothing listens
}

absl::StatusOr<UniqueFd> ListenOnUnixSocket(const std::string& path) {
  sockaddr_un addr;
  RETURN_IF_ERROR(SocketAddress(path, &addr));
  RETURN_IF_ERROR(CheckSocketUnused(path));
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(absl::StrCat("cannot remove the stale socket ", path), errno);
  }
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("socket", errno);
  // The socket file is born 0660 (no window in which others could connect).
  mode_t old_mask = umask(0117);
  int bound = bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int bind_errno = errno;
  umask(old_mask);
  if (bound != 0) return ErrnoStatus(absl::StrCat("cannot bind ", path), bind_errno);
  if (chmod(path.c_str(), 0660) != 0) return ErrnoStatus(absl::StrCat("chmod ", path), errno);
  if (listen(fd.get(), 64) != 0) return ErrnoStatus(absl::StrCat("listen on ", path), errno);
  return fd;
}

namespace {

struct Connection {
  UniqueFd fd;
  FrameReader reader;
  Deadline deadline;
  ucred peer{};
  bool closed = false;
};

std::string PeerName(const ucred& peer) {
  return absl::StrCat("pid ", peer.pid, " uid ", peer.uid, " gid ", peer.gid);
}

// Best effort: the connection is closed right after either way.
void SendAndForget(int fd, const absl::Status& status) {
  WriteFrame(fd, SerializeResponse(ErrorResponse(status)),
             std::chrono::steady_clock::now() + std::chrono::milliseconds(200))
      .IgnoreError();
}

void AcceptClients(int listen_fd, const ServeOptions& options,
                   std::vector<std::unique_ptr<Connection>>& conns) {
  while (conns.size() < options.max_connections) {
    UniqueFd fd(accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        LogLine(absl::StrCat("accept: ", ErrnoStatus("accept", errno).message()));
      }
      return;
    }
    ucred peer{};
    socklen_t len = sizeof(peer);
    if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
      LogLine(ErrnoStatus("SO_PEERCRED", errno).message());
      continue;
    }
    if (!options.policy.Allows(peer.uid, peer.gid)) {
      absl::Status denied = absl::PermissionDeniedError(absl::StrCat(
          "uid ", peer.uid, " gid ", peer.gid, " may not use this attestor (allowed: ",
          options.policy.Describe(), ")"));
      LogLine(absl::StrCat("refused ", PeerName(peer), ": ", denied.message()));
      SendAndForget(fd.get(), denied);
      continue;
    }
    auto conn = std::make_unique<Connection>();
    conn->fd = std::move(fd);
    conn->peer = peer;
    conn->deadline = std::chrono::steady_clock::now() + options.read_timeout;
    conns.push_back(std::move(conn));
  }
}

// Reads what is available and answers every complete request.
void ServeReadable(Attestor& attestor, Connection& c, const ServeOptions& options) {
  char buf[1 << 16];
  ssize_t n = read(c.fd.get(), buf, sizeof(buf));
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return;
    c.closed = true;
    return;
  }
  if (n == 0) {
    if (c.reader.mid_frame()) {
      LogLine(absl::StrCat(PeerName(c.peer), " closed the connection inside a frame "
                                             "(truncated request ignored)"));
    }
    c.closed = true;
    return;
  }
  absl::Status fed = c.reader.Feed(absl::string_view(buf, static_cast<size_t>(n)));
  while (fed.ok()) {
    std::optional<std::string> payload = c.reader.Next();
    if (!payload.has_value()) {
      fed = c.reader.Feed("");  // checks the next frame's header, if any
      break;
    }
    absl::StatusOr<Request> request = ParseRequest(*payload);
    std::string response;
    if (!request.ok()) {
      LogLine(absl::StrCat("bad request from ", PeerName(c.peer), ": ",
                           request.status().message()));
      response = SerializeResponse(ErrorResponse(request.status()));
    } else {
      Json answer = attestor.Handle(*request);
      if (answer.value("ok", false) == false) {
        LogLine(absl::StrCat(OpName(request->op), " from ", PeerName(c.peer),
                             " failed: ", answer["error"].value("message", "")));
      }
      response = SerializeResponse(answer);
    }
    absl::Status sent =
        WriteFrame(c.fd.get(), response, std::chrono::steady_clock::now() + options.read_timeout);
    if (!sent.ok()) {
      c.closed = true;
      return;
    }
    c.deadline = std::chrono::steady_clock::now() + options.read_timeout;
    if (!attestor.fatal().ok()) return;
  }
  if (!fed.ok()) {
    LogLine(absl::StrCat("broken frame from ", PeerName(c.peer), ": ", fed.message(),
                         "; closing the connection"));
    SendAndForget(c.fd.get(), fed);
    c.closed = true;
  }
}

}  // namespace

absl::Status Serve(Attestor& attestor, int listen_fd, int stop_fd, const ServeOptions& options) {
  std::vector<std::unique_ptr<Connection>> conns;
  std::vector<pollfd> fds;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    int timeout_ms = -1;
    for (const auto& c : conns) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c->deadline - now);
      int ms = static_cast<int>(std::max<int64_t>(0, left.count() + 1));
      if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms;
    }
    fds.clear();
    fds.push_back({stop_fd, POLLIN, 0});
    fds.push_back({conns.size() < options.max_connections ? listen_fd : -1, POLLIN, 0});
    for (const auto& c : conns) fds.push_back({c->fd.get(), POLLIN, 0});
    int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("poll", errno);
    }
    if (fds[0].revents != 0) return absl::OkStatus();

    for (size_t i = 0; i < conns.size(); ++i) {
      if (fds[i + 2].revents == 0) continue;
      ServeReadable(attestor, *conns[i], options);
      if (!attestor.fatal().ok()) return attestor.fatal();
    }
    const auto after = std::chrono::steady_clock::now();
    for (auto& c : conns) {
      if (!c->closed && after >= c->deadline) {
        LogLine(absl::StrCat(PeerName(c->peer), " sent no complete request within ",
                             options.read_timeout.count(), " ms; closing the connection"));
        SendAndForget(c->fd.get(),
                      absl::InvalidArgumentError("timed out waiting for a complete request"));
        c->closed = true;
      }
    }
    std::erase_if(conns, [](const std::unique_ptr<Connection>& c) { return c->closed; });
    if (fds[1].revents != 0) AcceptClients(listen_fd, options, conns);
  }
}

}  // namespace fdattest
