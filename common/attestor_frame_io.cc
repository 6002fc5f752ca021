// Blocking frame I/O for the attestor API's clients (common/attestor_api.h):
// poll with an absolute deadline, never a read or write that could block.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/attestor_api.h"

namespace fdattest {
namespace {

int MillisLeft(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  return left.count() > 60000 ? 60000 : static_cast<int>(left.count());
}

// Waits until `fd` is ready for `events` or the deadline passes.
absl::Status WaitFor(int fd, short events, Deadline deadline) {
  for (;;) {
    int ms = MillisLeft(deadline);
    if (ms == 0) return absl::DeadlineExceededError("timed out waiting for the attestor socket");
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("poll", errno);
    }
    if (n > 0) return absl::OkStatus();
  }
}

absl::Status ReadExactly(int fd, char* out, size_t size, Deadline deadline, bool* got_any) {
  size_t off = 0;
  while (off < size) {
    RETURN_IF_ERROR(WaitFor(fd, POLLIN, deadline));
    ssize_t n = read(fd, out + off, size - off);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return absl::FailedPreconditionError("connection closed (reset)");
      return ErrnoStatus("read from the attestor socket", errno);
    }
    if (n == 0) return absl::FailedPreconditionError("connection closed");
    off += static_cast<size_t>(n);
    *got_any = true;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFrame(int fd, absl::string_view payload, Deadline deadline) {
  ASSIGN_OR_RETURN(std::string frame, EncodeFrame(payload));
  size_t off = 0;
  while (off < frame.size()) {
    RETURN_IF_ERROR(WaitFor(fd, POLLOUT, deadline));
    ssize_t n = send(fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == EPIPE || errno == ECONNRESET) {
        return absl::FailedPreconditionError("connection closed");
      }
      return ErrnoStatus("write to the attestor socket", errno);
    }
    off += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFrame(int fd, Deadline deadline) {
  char header[kFrameHeaderBytes];
  bool got_any = false;
  RETURN_IF_ERROR(ReadExactly(fd, header, sizeof(header), deadline, &got_any));
  const uint32_t n = DeclaredFrameLength(absl::string_view(header, sizeof(header)));
  RETURN_IF_ERROR(CheckFrameLength(n));
  std::string payload(n, '\0');
  RETURN_IF_ERROR(ReadExactly(fd, payload.data(), n, deadline, &got_any));
  return payload;
}

}  // namespace fdattest
