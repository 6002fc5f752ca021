#include "launcher/attestor_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "common/frame.h"

namespace fdattest {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status AttestorError(absl::StatusCode code, absl::string_view message) {
  return absl::Status(code, absl::StrCat("attestor: ", message));
}

// `status` with the prefix every error of this client carries.
absl::Status Prefixed(const absl::Status& status) {
  return AttestorError(status.code(), status.message());
}

absl::Status Malformed(absl::string_view op, absl::string_view why) {
  return AttestorError(absl::StatusCode::kInternal,
                       absl::StrCat("malformed response to ", op, ": ", why));
}

// Milliseconds left before `deadline` for poll(2); 0 when it has passed.
int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

// Waits until `fd` is ready for `events`; DeadlineExceeded after `deadline`.
absl::Status WaitFor(int fd, short events, Clock::time_point deadline, absl::string_view what) {
  for (;;) {
    const int ms = MillisLeft(deadline);
    if (ms == 0) {
      return AttestorError(absl::StatusCode::kDeadlineExceeded,
                           absl::StrCat("no answer in time (", what, ")"));
    }
    pollfd p{.fd = fd, .events = events, .revents = 0};
    int r = poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return AttestorError(absl::StatusCode::kInternal, strerror(errno));
    if (r > 0) return absl::OkStatus();  // readiness, HUP and ERR all show in the read/write
  }
}

absl::Status SendAll(int fd, absl::string_view data, Clock::time_point deadline) {
  size_t off = 0;
  while (off < data.size()) {
    // MSG_NOSIGNAL: a daemon that hung up must give an error, not SIGPIPE.
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline, "sending a request"));
      continue;
    }
    return AttestorError(absl::StatusCode::kUnavailable,
                         absl::StrCat("sending a request: ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status RecvExactly(int fd, char* out, size_t len, Clock::time_point deadline) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = recv(fd, out + off, len - off, 0);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      const bool before_any = off == 0 && len == kFrameHeaderBytes;
      return AttestorError(absl::StatusCode::kUnavailable,
                           before_any ? "closed the connection without an answer"
                                      : "closed the connection in the middle of an answer");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline, "waiting for an answer"));
      continue;
    }
    return AttestorError(absl::StatusCode::kUnavailable,
                         absl::StrCat("reading an answer: ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AttestorClient> AttestorClient::Connect(const std::string& socket_path,
                                                       std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return AttestorError(absl::StatusCode::kInvalidArgument,
                         absl::StrCat("socket path must be 1..", sizeof(addr.sun_path) - 1,
                                      " bytes: ", socket_path));
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    return AttestorError(absl::StatusCode::kInternal, absl::StrCat("socket: ", strerror(errno)));
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    // A full listen backlog: the attestor is busy; try again until the deadline.
    if (err == EAGAIN && MillisLeft(deadline) > 0) {
      poll(nullptr, 0, std::min(10, MillisLeft(deadline)));
      continue;
    }
    return AttestorError(absl::StatusCode::kUnavailable,
                         absl::StrCat("cannot connect to ", socket_path, ": ", strerror(err)));
  }
  return AttestorClient(std::move(fd), timeout);
}

template <typename T>
absl::StatusOr<T> AttestorClient::Call(const absl::StatusOr<AttestorRequest>& request) {
  if (!request.ok()) return Prefixed(request.status());
  const absl::string_view op = OpName(request->op);
  if (!fd_) return AttestorError(absl::StatusCode::kFailedPrecondition, "not connected");
  absl::StatusOr<std::string> body = request->Serialize();
  if (!body.ok()) return Prefixed(body.status());
  absl::StatusOr<std::string> frame = EncodeFrame(*body);
  if (!frame.ok()) return AttestorError(absl::StatusCode::kInvalidArgument, "request too large");

  const auto deadline = Clock::now() + timeout_;
  const absl::Status sent = SendAll(fd_.get(), *frame, deadline);
  // A daemon that refuses a peer answers and hangs up at once, so sending can
  // fail (EPIPE) while its answer is already waiting: read it either way, and
  // report the send failure only when there is no answer.
  char header[kFrameHeaderBytes];
  absl::Status io = RecvExactly(fd_.get(), header, sizeof(header), deadline);
  if (!io.ok() && !sent.ok()) io = sent;
  std::string payload;
  if (io.ok()) {
    const uint32_t len = DeclaredFrameLength(absl::string_view(header, sizeof(header)));
    if (!CheckFrameLength(len).ok()) {
      io = Malformed(op, absl::StrCat("frame length ", len));
    } else {
      payload.resize(len);
      io = RecvExactly(fd_.get(), payload.data(), len, deadline);
    }
  }
  if (!io.ok()) {
    fd_.reset();  // the stream's framing is lost: no further calls on it
    return absl::Status(io.code(), absl::StrCat(io.message(), " (", op, ")"));
  }

  absl::StatusOr<AttestorResponse> response = ParseResponse(request->op, payload);
  if (!response.ok()) return Malformed(op, response.status().message());
  if (const ErrorResponse* error = std::get_if<ErrorResponse>(&*response)) {
    return AttestorError(error->code, absl::StrCat(op, " refused: ", ErrorCodeName(error->code),
                                                   ": ", error->message));
  }
  T* answer = std::get_if<T>(&*response);
  if (answer == nullptr) return Malformed(op, "the answer to another op");
  return std::move(*answer);
}

absl::StatusOr<InfoResponse> AttestorClient::Info() {
  return Call<InfoResponse>(AttestorRequest::Info());
}

absl::StatusOr<HoldResponse> AttestorClient::Hold(absl::string_view launch_id, int64_t pid) {
  return Call<HoldResponse>(AttestorRequest::Hold(launch_id, pid));
}

absl::StatusOr<LaunchResponse> AttestorClient::Launch(absl::string_view launch_id,
                                                      absl::string_view manifest,
                                                      absl::string_view nonce) {
  return Call<LaunchResponse>(AttestorRequest::Launch(launch_id, manifest, nonce));
}

absl::Status AttestorClient::Release(absl::string_view launch_id) {
  return Call<ReleaseResponse>(AttestorRequest::Release(launch_id)).status();
}

absl::StatusOr<ReattestResponse> AttestorClient::Reattest(absl::string_view launch_id,
                                                          absl::string_view nonce) {
  ASSIGN_OR_RETURN(ReattestResponse r,
                   Call<ReattestResponse>(AttestorRequest::Reattest(launch_id, nonce)));
  if (!r.gone && r.manifest.empty()) return Malformed("reattest", "alive without the manifest");
  return r;
}

absl::StatusOr<uint64_t> AttestorClient::MeasureSeparator(absl::string_view launch_id) {
  absl::StatusOr<CelContent> content = CelContent::LaunchSeparator(launch_id);
  if (!content.ok()) return Prefixed(content.status());
  ASSIGN_OR_RETURN(MeasureResponse r,
                   Call<MeasureResponse>(AttestorRequest::Measure(*std::move(content))));
  return r.recnum;
}

absl::StatusOr<CertifyResponse> AttestorClient::Certify(absl::string_view qualifying_data) {
  return Call<CertifyResponse>(AttestorRequest::Certify(qualifying_data));
}

absl::StatusOr<std::vector<CelRecord>> AttestorClient::Log(absl::string_view launch_id) {
  ASSIGN_OR_RETURN(LogResponse r, Call<LogResponse>(AttestorRequest::Log(launch_id)));
  return std::move(r.records);
}

absl::StatusOr<std::string> AttestorClient::ActivateCredential(absl::string_view credential_blob,
                                                               absl::string_view encrypted_secret) {
  ASSIGN_OR_RETURN(ActivateCredentialResponse r,
                   Call<ActivateCredentialResponse>(
                       AttestorRequest::ActivateCredential(credential_blob, encrypted_secret)));
  return std::move(r.credential);
}

}  // namespace fdattest
