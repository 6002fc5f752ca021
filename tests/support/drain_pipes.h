// Reads a child's stdout and stderr pipes together until both reach EOF or
// the deadline passes, so neither pipe can fill and stall the child. Shared
// by the suites that run programs and look at what they print.
#ifndef FDATTEST_TESTS_SUPPORT_DRAIN_PIPES_H_
#define FDATTEST_TESTS_SUPPORT_DRAIN_PIPES_H_

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

namespace fdattest::testing {

inline void DrainPipes(int out_fd, int err_fd, std::string* out, std::string* err,
                       std::chrono::steady_clock::time_point deadline) {
  pollfd p[2] = {{.fd = out_fd, .events = POLLIN, .revents = 0},
                 {.fd = err_fd, .events = POLLIN, .revents = 0}};
  std::string* sinks[2] = {out, err};
  while (p[0].fd >= 0 || p[1].fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    int r = poll(p, 2, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || p[i].revents == 0) continue;
      char buf[65536];
      ssize_t n = read(p[i].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        p[i].fd = -1;  // EOF: the caller still owns the descriptor
      } else {
        sinks[i]->append(buf, static_cast<size_t>(n));
      }
    }
  }
}

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_DRAIN_PIPES_H_
