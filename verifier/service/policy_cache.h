// Parsed policies for fdverifierd's attestations, by (policy id, version):
// a stored version never changes, so it is parsed once (Policy::Parse is
// the costly part of reading one). The stored text's sha256 is part of the
// key, so a store that handed out other bytes under the same version is
// never answered with the old parse. Bounded (cleared when full);
// thread-safe (one mutex; parsing is done outside it).
#ifndef FDATTEST_VERIFIER_SERVICE_POLICY_CACHE_H_
#define FDATTEST_VERIFIER_SERVICE_POLICY_CACHE_H_

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "verifier/policy_model.h"
#include "verifier/store.h"

namespace fdattest {

class PolicyCache {
 public:
  explicit PolicyCache(size_t max_entries = 256) : max_entries_(max_entries) {}
  PolicyCache(const PolicyCache&) = delete;
  PolicyCache& operator=(const PolicyCache&) = delete;

  // The parsed policy of `record`; a parse error is the policy's
  // (InvalidArgument) and is not remembered.
  absl::StatusOr<std::shared_ptr<const Policy>> Get(const PolicyRecord& record);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Policy>> entries_;
  size_t max_entries_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_POLICY_CACHE_H_
