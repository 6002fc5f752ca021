#include "attestor/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/attestor_api.h"

namespace fdattest {
namespace {

void LogLine(absl::string_view line) {
  std::string text = absl::StrCat("fdattestd: ", line, "\n");
  fputs(text.c_str(), stderr);
  fflush(stderr);
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

// One accepted client. Its end tells the attestor (ConnectionClosed), which
// kills a workload the client held and did not release.
struct Connection {
  explicit Connection(Attestor& a) : attestor(a) {}
  ~Connection() { attestor.ConnectionClosed(who.id); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Attestor& attestor;
  UniqueFd fd;
  FrameReader reader;
  Deadline deadline;
  AttestorConnection who;
  bool closed = false;
};

std::string PeerName(const PeerProcess& peer) {
  return absl::StrCat("pid ", peer.pid, " uid ", peer.uid, " gid ", peer.gid);
}

// Best effort: the connection is closed right after either way.
void SendAndForget(int fd, const absl::Status& status) {
  WriteFrame(fd, SerializeResponse(ErrorResponse(status)),
             std::chrono::steady_clock::now() + std::chrono::milliseconds(200))
      .IgnoreError();
}

void AcceptClients(Attestor& attestor, int listen_fd, const ServeOptions& options,
                   std::vector<std::unique_ptr<Connection>>& conns, uint64_t& next_id) {
  while (conns.size() < options.max_connections) {
    UniqueFd fd(accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        LogLine(absl::StrCat("accept: ", ErrnoStatus("accept", errno).message()));
      }
      return;
    }
    // The peer, from the kernel, once: a pidfd names it for the connection's
    // life (its executable is hashed from it at each launch and reattest).
    absl::StatusOr<PeerProcess> identified = IdentifyPeer(fd.get());
    if (!identified.ok()) {
      LogLine(absl::StrCat("cannot identify a connecting peer: ", identified.status().message()));
      SendAndForget(fd.get(), identified.status());
      continue;
    }
    const PeerProcess& peer = *identified;
    if (!options.policy.Allows(peer.uid, peer.gid)) {
      absl::Status denied = absl::PermissionDeniedError(absl::StrCat(
          "uid ", peer.uid, " gid ", peer.gid, " may not use this attestor (allowed: ",
          options.policy.Describe(), ")"));
      LogLine(absl::StrCat("refused ", PeerName(peer), ": ", denied.message()));
      SendAndForget(fd.get(), denied);
      continue;
    }
    auto conn = std::make_unique<Connection>(attestor);
    conn->fd = std::move(fd);
    conn->who.id = next_id++;
    conn->who.peer = *std::move(identified);
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
      LogLine(absl::StrCat(PeerName(c.who.peer), " closed the connection inside a frame "
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
    absl::StatusOr<AttestorRequest> request = AttestorRequest::Parse(*payload);
    std::string response;
    if (!request.ok()) {
      LogLine(absl::StrCat("bad request from ", PeerName(c.who.peer), ": ",
                           request.status().message()));
      response = SerializeResponse(ErrorResponse(request.status()));
    } else {
      AttestorResponse answer = attestor.Handle(*request, c.who);
      if (const ErrorResponse* error = std::get_if<ErrorResponse>(&answer)) {
        LogLine(absl::StrCat(OpName(request->op), " from ", PeerName(c.who.peer),
                             " failed: ", error->message));
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
    LogLine(absl::StrCat("broken frame from ", PeerName(c.who.peer), ": ", fed.message(),
                         "; closing the connection"));
    SendAndForget(c.fd.get(), fed);
    c.closed = true;
  }
}

}  // namespace

absl::Status Serve(Attestor& attestor, int listen_fd, int stop_fd, const ServeOptions& options) {
  std::vector<std::unique_ptr<Connection>> conns;
  std::vector<pollfd> fds;
  uint64_t next_id = 1;
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
        LogLine(absl::StrCat(PeerName(c->who.peer), " sent no complete request within ",
                             options.read_timeout.count(), " ms; closing the connection"));
        SendAndForget(c->fd.get(),
                      absl::InvalidArgumentError("timed out waiting for a complete request"));
        c->closed = true;
      }
    }
    std::erase_if(conns, [](const std::unique_ptr<Connection>& c) { return c->closed; });
    if (fds[1].revents != 0) AcceptClients(attestor, listen_fd, options, conns, next_id);
  }
}

}  // namespace fdattest
