#include "verifier/proof_cache.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/bpf.h"
#include "common/bpf_symbolic.h"

namespace fdattest {

FdSets FdSetsOfManifest(const Manifest& manifest) {
  FdSets s;
  s.exec_fd = manifest.filter.exec_fd;
  for (const FdFingerprint& fp : manifest.fds) {
    if (fp.access == "r" || fp.access == "rw") s.readable.insert(fp.fd);
    if (fp.access == "w" || fp.access == "rw" || fp.access == "a") s.writable.insert(fp.fd);
    if (fp.access == "a") s.append.insert(fp.fd);
  }
  return s;
}

std::string FdSetsKey(const FdSets& fds) {
  std::string key;
  for (const auto& [tag, set] : {std::pair{'r', &fds.readable}, std::pair{'w', &fds.writable},
                                 std::pair{'a', &fds.append}}) {
    key += tag;
    for (int fd : *set) absl::StrAppend(&key, fd, ",");
  }
  absl::StrAppend(&key, "x", fds.exec_fd);
  return key;
}

absl::StatusOr<std::vector<PropertyResult>> ProveFilter(absl::string_view bpf, const FdSets& fds) {
  ASSIGN_OR_RETURN(BpfProgram program, BpfProgram::Decode(bpf));
  ASSIGN_OR_RETURN(DecisionTable table, DecisionTable::Build(program));
  return CheckLauncherProperties(table, fds);
}

absl::StatusOr<PropertyList> ProveFilterShared(absl::string_view bpf, const FdSets& fds) {
  ASSIGN_OR_RETURN(std::vector<PropertyResult> proof, ProveFilter(bpf, fds));
  return std::make_shared<const std::vector<PropertyResult>>(std::move(proof));
}

absl::StatusOr<PropertyList> FilterProofCache::Prove(absl::string_view bpf, const FdSets& fds) {
  // The bytes themselves (at most 32 KiB): comparing them costs less than
  // hashing them on every verification.
  const std::string key = absl::StrCat(FdSetsKey(fds), "/", bpf);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
  }
  // Proven outside the lock: two threads may prove the same filter once each.
  absl::StatusOr<PropertyList> result = ProveFilterShared(bpf, fds);
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= max_entries_) entries_.erase(entries_.begin());
  entries_.emplace(key, result);
  return result;
}

}  // namespace fdattest
