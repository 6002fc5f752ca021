#include "common/file_io.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace fdattest {

namespace {

// At most max_bytes + 1 bytes from the start of `path`; with `refuse_larger`,
// more than max_bytes is an error.
absl::StatusOr<std::string> ReadUpTo(const std::string& path, size_t max_bytes,
                                     bool refuse_larger) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return ErrnoStatus(absl::StrCat("cannot open ", path), errno);
  // Read straight into the result: no large stack buffer (every page of one
  // is touched by the stack-clash probes, and a launcher reads its small
  // profile on every start). A regular file's size sets the first read (one
  // byte more, to see the end); after that, and for other files, the room
  // grows geometrically. At most max_bytes + 1 bytes are ever read.
  // (procfs and sysfs files report size 0: they start at 4 KiB.)
  const size_t cap = max_bytes == SIZE_MAX ? SIZE_MAX : max_bytes + 1;
  struct stat st {};
  size_t first = 4096;
  if (fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    first = static_cast<size_t>(st.st_size) + 1;
  }
  std::string out;
  size_t used = 0;
  for (;;) {
    const size_t room = std::min(used == 0 ? first : std::max<size_t>(used, 512), cap - used);
    out.resize(used + room);
    ssize_t n = read(fd.get(), out.data() + used, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(absl::StrCat("cannot read ", path), errno);
    }
    used += static_cast<size_t>(n);
    out.resize(used);
    if (n == 0) return out;
    if (used > max_bytes) {
      if (!refuse_larger) return out;
      return absl::InvalidArgumentError(absl::StrCat(path, " is larger than ", max_bytes, " bytes"));
    }
  }
}

}  // namespace

absl::StatusOr<std::string> ReadFileLimited(const std::string& path, size_t max_bytes) {
  return ReadUpTo(path, max_bytes, /*refuse_larger=*/true);
}

absl::StatusOr<std::string> ReadFileHead(const std::string& path, size_t max_bytes) {
  return ReadUpTo(path, max_bytes, /*refuse_larger=*/false);
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

absl::Status WriteFileAtomic(const std::string& path, absl::string_view data, int mode) {
  const std::string dir = DirectoryOf(path);
  std::string tmpl = path + ".tmp.XXXXXX";
  UniqueFd fd(mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("cannot create a temporary file beside ", path), errno);
  auto fail = [&](absl::Status s) {
    unlink(tmpl.c_str());
    return s;
  };
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrnoStatus(absl::StrCat("cannot write ", path), errno));
    }
    off += static_cast<size_t>(n);
  }
  if (fchmod(fd.get(), static_cast<mode_t>(mode)) != 0 || fsync(fd.get()) != 0) {
    return fail(ErrnoStatus(absl::StrCat("cannot sync ", path), errno));
  }
  fd.reset();
  if (rename(tmpl.c_str(), path.c_str()) != 0) {
    return fail(ErrnoStatus(absl::StrCat("cannot rename into ", path), errno));
  }
  UniqueFd dfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) fsync(dfd.get());
  return absl::OkStatus();
}

absl::Status CreateNewFile(const std::string& path, absl::string_view data, mode_t mode) {
  UniqueFd fd(
      open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, mode));
  if (!fd) {
    if (errno == EEXIST) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " already exists; it is never overwritten"));
    }
    return ErrnoStatus(absl::StrCat("cannot create ", path), errno);
  }
  auto fail = [&](absl::Status s) {
    unlink(path.c_str());
    return s;
  };
  // The umask may only have removed bits; make the mode exact.
  if (fchmod(fd.get(), mode) != 0) return fail(ErrnoStatus(absl::StrCat("chmod ", path), errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrnoStatus(absl::StrCat("cannot write ", path), errno));
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) != 0) return fail(ErrnoStatus(absl::StrCat("cannot sync ", path), errno));
  const std::string dir = DirectoryOf(path);
  UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd) fsync(dir_fd.get());  // best effort: the file itself is durable
  return absl::OkStatus();
}

}  // namespace fdattest
