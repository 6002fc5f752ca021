// Helpers shared by the fdlaunch integration tests: scratch directories,
// child processes with an exact descriptor table, bounded waits and reads
// (no test may hang), and small readers for files, digests and manifests.
// Single-threaded: the tests fork from the one test thread.
#ifndef FDATTEST_TESTS_INTEGRATION_LAUNCH_UTIL_H_
#define FDATTEST_TESTS_INTEGRATION_LAUNCH_UTIL_H_

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "tests/support/drain_pipes.h"

namespace fdattest::integration {

// Every wait on a child or a pipe is bounded by this.
inline constexpr std::chrono::milliseconds kTimeout{10000};

// Paths of the binaries under test, from the build (CMake generator expressions).
inline const char* FdlaunchPath() { return FDATTEST_FDLAUNCH; }
inline const char* ReadyHelperPath() { return FDATTEST_READY_HELPER; }
inline const char* RanHelperPath() { return FDATTEST_RAN_HELPER; }
// Debian's busybox-static: a realistic, statically linked workload.
inline constexpr char kBusybox[] = "/bin/busybox";

inline constexpr int kExitLaunchFailed = 125;

// A private scratch directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fdinteg.XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline bool WriteWholeFile(const std::string& path, std::string_view data, mode_t mode = 0644) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return false;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return fchmod(fd.get(), mode) == 0;
}

// Whole content of a file; nullopt when it cannot be opened or read.
inline std::optional<std::string> ReadWholeFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

inline std::string Sha256Hex(std::string_view data) {
  return HexEncode(Sha256(absl::string_view(data.data(), data.size())));
}

// Empty when the file cannot be read.
inline std::string Sha256HexOfFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  auto digest = Sha256OfFile(fd.get());
  return digest.ok() ? HexEncode(*digest) : "";
}

inline std::optional<struct stat> StatPath(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return st;
}

inline std::optional<struct stat> StatFd(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return std::nullopt;
  return st;
}

// Parses a manifest (or any JSON file) with the project's strict parser;
// a null Json when the file is missing or malformed.
inline Json LoadJsonFile(const std::string& path) {
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) return Json();
  absl::StatusOr<Json> j = ParseJsonStrict(*text);
  return j.ok() ? *j : Json();
}

// The fingerprint of descriptor `fd` in a manifest's "fds" or "closed_fds"
// array, or nullptr.
inline const Json* FindFingerprint(const Json& array, int fd) {
  if (!array.is_array()) return nullptr;
  for (const Json& entry : array) {
    if (entry.is_object() && entry.contains("fd") && entry["fd"] == fd) return &entry;
  }
  return nullptr;
}

// Both ends close-on-exec: a child only gets what Spawn maps explicitly.
struct Pipe {
  UniqueFd read_end, write_end;

  static Pipe New() {
    int p[2] = {-1, -1};
    if (pipe2(p, O_CLOEXEC) != 0) return {};
    return Pipe{UniqueFd(p[0]), UniqueFd(p[1])};
  }
  bool ok() const { return read_end && write_end; }
};

// Reads from `fd` until `needle` has been seen, EOF, or the timeout.
// Returns everything read; the caller checks for the needle.
inline std::string ReadUntil(int fd, std::string_view needle,
                             std::chrono::milliseconds timeout = kTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got;
  while (got.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// A child process, killed (SIGKILL) and reaped on destruction if still there.
class Child {
 public:
  // Runs argv[0] with argv. `fds` maps a descriptor number in the child to a
  // descriptor of this process; every other descriptor is closed at exec, so
  // the child's descriptor table is exactly `fds`.
  static Child Spawn(const std::vector<std::string>& argv, const std::map<int, int>& fds) {
    std::vector<char*> cargv;
    for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    std::vector<std::pair<int, int>> mapping(fds.begin(), fds.end());  // sorted by target

    pid_t pid = fork();
    if (pid != 0) return Child(pid);

    // Child: async-signal-safe calls only. Park every source above any
    // target first, so placing one target cannot clobber another's source.
    constexpr int kPark = 1000;
    int parked[256];
    for (size_t i = 0; i < mapping.size() && i < 256; ++i) {
      parked[i] = fcntl(mapping[i].second, F_DUPFD_CLOEXEC, kPark + static_cast<int>(i));
      if (parked[i] < 0) _exit(127);
    }
    unsigned int next = 0;
    for (size_t i = 0; i < mapping.size() && i < 256; ++i) {
      const int target = mapping[i].first;
      if (dup2(parked[i], target) != target) _exit(127);  // dup2 clears close-on-exec
      if (static_cast<unsigned>(target) > next) {
        syscall(SYS_close_range, next, static_cast<unsigned>(target) - 1, CLOSE_RANGE_CLOEXEC);
      }
      next = static_cast<unsigned>(target) + 1;
    }
    syscall(SYS_close_range, next, ~0U, CLOSE_RANGE_CLOEXEC);
    execv(cargv[0], cargv.data());
    _exit(127);
  }

  Child(Child&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  ~Child() { Kill(); }

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  // The raw wait status, or nullopt if the child did not end in time.
  std::optional<int> WaitFor(std::chrono::milliseconds timeout = kTimeout) {
    if (pid_ <= 0) return std::nullopt;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG | __WALL);
      if (r == pid_) {
        pid_ = -1;
        return status;
      }
      if (r < 0 && errno != EINTR) return std::nullopt;
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, __WALL) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

struct RunResult {
  bool timed_out = false;
  int wait_status = 0;
  std::string out;  // the child's fd 1
  std::string err;  // the child's fd 2

  bool exited() const { return !timed_out && WIFEXITED(wait_status); }
  // Exit status, or -1 when killed by a signal or timed out.
  int exit_code() const { return exited() ? WEXITSTATUS(wait_status) : -1; }
  std::vector<std::string> ErrLines() const {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < err.size()) {
      size_t nl = err.find('\n', start);
      if (nl == std::string::npos) nl = err.size();
      lines.push_back(err.substr(start, nl - start));
      start = nl + 1;
    }
    return lines;
  }
};

// Runs argv to completion with fd 1 and fd 2 captured through pipes (unless
// `fds` maps them itself) and the descriptors of `fds`; both pipes are
// drained while it runs. Killed after the timeout.
inline RunResult RunProgram(const std::vector<std::string>& argv, std::map<int, int> fds = {},
                            std::chrono::milliseconds timeout = kTimeout) {
  RunResult result;
  Pipe out = Pipe::New(), err = Pipe::New();
  if (!out.ok() || !err.ok()) {
    result.timed_out = true;
    return result;
  }
  fds.try_emplace(1, out.write_end.get());
  fds.try_emplace(2, err.write_end.get());
  Child child = Child::Spawn(argv, fds);
  out.write_end.reset();
  err.write_end.reset();

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  fdattest::testing::DrainPipes(out.read_end.get(), err.read_end.get(), &result.out, &result.err,
                                deadline);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  std::optional<int> status = child.WaitFor(std::max(left, std::chrono::milliseconds(100)));
  if (!status) {
    result.timed_out = true;
    child.Kill();
  } else {
    result.wait_status = *status;
  }
  return result;
}

// fdlaunch with `args` (everything after the program name).
inline RunResult RunFdlaunch(const std::vector<std::string>& args, std::map<int, int> fds = {}) {
  std::vector<std::string> argv = {FdlaunchPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, std::move(fds));
}

// fdlaunch started and left running (the workload keeps its pid).
inline Child SpawnFdlaunch(const std::vector<std::string>& args, const std::map<int, int>& fds) {
  std::vector<std::string> argv = {FdlaunchPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  return Child::Spawn(argv, fds);
}

// The only stderr lines fdlaunch may print on a refused launch: the
// unattested warning and one error line. Returns the error lines.
inline std::vector<std::string> ErrorLines(const RunResult& r, std::vector<std::string>* other) {
  std::vector<std::string> errors;
  for (const std::string& line : r.ErrLines()) {
    if (line.rfind("fdlaunch: error:", 0) == 0) {
      errors.push_back(line);
    } else if (line.rfind("fdlaunch: warning:", 0) != 0 && other != nullptr) {
      other->push_back(line);
    }
  }
  return errors;
}

}  // namespace fdattest::integration

#endif  // FDATTEST_TESTS_INTEGRATION_LAUNCH_UTIL_H_
