// A directory of compiled filters (--filter-cache), so a launch of a profile
// shape already seen skips libseccomp. An entry is named after the filter
// spec it was compiled from (e.g. "errno-x6-0r-1w-2a-3r-4r.bpf": the
// violation mode, the exec descriptor, each declared fd and its access) and
// starts with one line naming the launcher binary that compiled it (device,
// inode, size, mtime and ctime of /proc/self/exe; libseccomp is linked into
// it), then the BPF bytes. An entry from another launcher binary is a miss and
// is replaced. Entries are untrusted input: the launcher proves every filter
// it installs, cached or fresh (self_check.h), so an edited entry can only
// make a launch fail, never install a filter that breaks a rule.
// No hashing: the launcher reaches the workload's exec without initialising
// OpenSSL when it writes no manifest. See docs/launcher.md "Filter cache".
// Not thread-safe (one per launch).
#ifndef FDATTEST_LAUNCHER_FILTER_CACHE_H_
#define FDATTEST_LAUNCHER_FILTER_CACHE_H_

#include <optional>
#include <string>

#include "common/status.h"
#include "common/unique_fd.h"
#include "launcher/filter.h"

namespace fdattest {

class FilterCache {
 public:
  // DIR must be a directory owned by the effective uid or by root, and not
  // writable by group or others (like OpenSSH's StrictModes): anything else
  // is refused, so a cache set up carelessly is noticed rather than used.
  static absl::StatusOr<FilterCache> Open(const std::string& dir);

  // The entry's path inside the cache (for messages).
  std::string PathOf(const FilterSpec& spec) const;
  // The cached bytes for `spec`, unchecked (the caller proves them); nullopt
  // when there is no entry or it comes from another launcher binary. An entry
  // that is not a regular file, or longer than any filter, is an error.
  absl::StatusOr<std::optional<std::string>> Find(const FilterSpec& spec) const;
  // Stores `bpf` (already proven) atomically, mode 0600.
  absl::Status Store(const FilterSpec& spec, absl::string_view bpf) const;

  // The entry name for `spec`.
  static std::string EntryName(const FilterSpec& spec);
  // The first line of an entry written by the launcher `launcher_id`.
  static std::string Header(absl::string_view launcher_id);

 private:
  FilterCache(std::string dir, UniqueFd dir_fd, std::string header)
      : dir_(std::move(dir)), dir_fd_(std::move(dir_fd)), header_(std::move(header)) {}

  std::string dir_;
  UniqueFd dir_fd_;
  std::string header_;
};

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_FILTER_CACHE_H_
