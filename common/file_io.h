// Whole-file reads and crash-safe whole-file writes (temp file, fsync, rename,
// fsync of the directory), so a reader never sees a half-written file.
// Stateless; thread-safe.
#ifndef FDATTEST_COMMON_FILE_IO_H_
#define FDATTEST_COMMON_FILE_IO_H_

#include <sys/types.h>

#include <string>
#include "absl/strings/string_view.h"

#include "common/status.h"

namespace fdattest {

// The whole file; InvalidArgument if it holds more than `max_bytes`.
absl::StatusOr<std::string> ReadFileLimited(const std::string& path, size_t max_bytes);
// The first `max_bytes` + 1 bytes of the file, or all of it if shorter:
// enough to see that a file is over a limit without reading the rest, for a
// caller that judges an oversized file as bad content rather than as an
// unreadable file.
absl::StatusOr<std::string> ReadFileHead(const std::string& path, size_t max_bytes);
// The directory part of `path`: "." for a bare name, "/" for a file in the
// root ("/x"), else everything before the last '/'.
std::string DirectoryOf(const std::string& path);
// Creates `path` with exactly `mode` and `data`, durably (the file and its
// directory synced); never replaces an existing file (FailedPrecondition) nor
// follows a symlink, and removes a half-written one.
absl::Status CreateNewFile(const std::string& path, absl::string_view data, mode_t mode);
absl::Status WriteFileAtomic(const std::string& path, absl::string_view data, int mode = 0644);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_FILE_IO_H_
