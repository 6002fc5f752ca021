#include "common/unique_fd.h"

#include <unistd.h>

namespace fdattest {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

void CloseRawFd(int fd) {
  if (fd >= 0) ::close(fd);
}

}  // namespace fdattest
