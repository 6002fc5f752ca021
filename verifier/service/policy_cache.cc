#include "verifier/service/policy_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace fdattest {

absl::StatusOr<std::shared_ptr<const Policy>> PolicyCache::Get(const PolicyRecord& record) {
  // Ids are names without '\n' (verifier/service/request_parsers.h).
  const std::string key = absl::StrCat(record.id, "\n", record.version, "\n", record.sha256);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
  }
  absl::StatusOr<Policy> parsed = Policy::Parse(record.text);
  if (!parsed.ok()) return parsed.status();
  auto policy = std::make_shared<const Policy>(*std::move(parsed));
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_.emplace(key, policy);
  return policy;
}

}  // namespace fdattest
