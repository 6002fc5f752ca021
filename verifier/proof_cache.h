// Filter proofs for the verifier pipeline's filter step (verifier/verify.h):
// the launcher properties of common/bpf_properties.h proven for a measured
// filter and the fd sets its manifest declares, and FilterProofCache, which
// remembers them by (filter bytes, fd sets) because the proof is the costly
// part of a verification and identical for every launch of one job.
// The free functions are stateless; FilterProofCache is bounded and
// thread-safe (one mutex; proofs are computed outside it).
#ifndef FDATTEST_VERIFIER_PROOF_CACHE_H_
#define FDATTEST_VERIFIER_PROOF_CACHE_H_

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/bpf_properties.h"
#include "common/manifest.h"
#include "common/status.h"

namespace fdattest {

// The fd sets a manifest declares, as the launcher built its filter for them.
FdSets FdSetsOfManifest(const Manifest& manifest);

// A short, unique text for `fds` ("r0,3,w1,2,a2,x6"): a cache key and what
// reports print.
std::string FdSetsKey(const FdSets& fds);

// Proves the launcher properties of `bpf` for `fds` (no cache).
absl::StatusOr<std::vector<PropertyResult>> ProveFilter(absl::string_view bpf, const FdSets& fds);
// The same, as the shared list a FilterProofCache hands out.
absl::StatusOr<PropertyList> ProveFilterShared(absl::string_view bpf, const FdSets& fds);

class FilterProofCache {
 public:
  explicit FilterProofCache(size_t max_entries = 1024) : max_entries_(max_entries) {}
  FilterProofCache(const FilterProofCache&) = delete;
  FilterProofCache& operator=(const FilterProofCache&) = delete;

  // The remembered result for `bpf` and `fds` (a failed proof included),
  // computing it on a miss. Two threads missing on one key may both prove it.
  absl::StatusOr<PropertyList> Prove(absl::string_view bpf, const FdSets& fds);

 private:
  std::mutex mu_;
  std::map<std::string, absl::StatusOr<PropertyList>> entries_;
  size_t max_entries_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_PROOF_CACHE_H_
