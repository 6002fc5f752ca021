// UniqueFd: sole owner of one file descriptor; closes it on destruction.
// The only place in fdattest that calls close(2) on a descriptor it owns.
// Not thread-safe per object (like any value type).
#ifndef FDATTEST_COMMON_UNIQUE_FD_H_
#define FDATTEST_COMMON_UNIQUE_FD_H_

#include <utility>

namespace fdattest {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Closes a descriptor this process does not hold a UniqueFd for (inherited
// descriptors found by inventory). Errors other than EBADF are ignored: after
// close(2) the number is free whatever it returns.
void CloseRawFd(int fd);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_UNIQUE_FD_H_
