// What fdattestd keeps about launches it observes (docs/attestor.md, "An
// observed launch"): workloads held for a connection from `hold` until
// `release` (killed if the connection ends first), released workloads it may
// re-attest (their pidfd, manifest and load observation), and the nonces
// already used. The Attestor owns one; its ops (attestor/observed_launches.cc)
// are the only users. Not thread-safe: the attestor's serving thread owns it.
#ifndef FDATTEST_ATTESTOR_OBSERVED_LAUNCHES_H_
#define FDATTEST_ATTESTOR_OBSERVED_LAUNCHES_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "attestor/kernel_observer.h"
#include "common/manifest.h"
#include "common/observation.h"
#include "common/unique_fd.h"

namespace fdattest {

// Live launches kept for re-attestation at most; gone ones are pruned first.
inline constexpr size_t kMaxLiveLaunches = 4096;
// Launches held (between hold and release) at once, over every connection.
inline constexpr size_t kMaxHeldLaunches = 256;
// How long `launch` waits for the held process to reach its exec, and
// `reattest` for a running one to stop.
inline constexpr auto kExecTimeout = std::chrono::seconds(5);
inline constexpr auto kStopTimeout = std::chrono::seconds(2);

// A launch between `hold` and `release`.
struct HeldLaunch {
  uint64_t connection_id = 0;
  pid_t pid = 0;
  // nullopt when the attestor does not observe (--allow-unobserved).
  std::optional<TracedProcess> process;
  bool launched = false;  // `launch` measured its manifest and observation
  std::string manifest_bytes;
  std::optional<Manifest> manifest;
  std::optional<KernelObservation> load;
};

// A released launch this attestor may re-attest.
struct LiveLaunch {
  UniqueFd pidfd;
  std::string manifest_bytes;
  Manifest manifest;
  KernelObservation load;
};

class ObservedLaunches {
 public:
  ObservedLaunches() = default;
  ObservedLaunches(const ObservedLaunches&) = delete;
  ObservedLaunches& operator=(const ObservedLaunches&) = delete;
  ~ObservedLaunches() { KillAllHeld(); }

  std::map<std::string, HeldLaunch, std::less<>>& held() { return held_; }
  std::map<std::string, LiveLaunch, std::less<>>& live() { return live_; }

  // Held or live in this attestor process.
  bool Known(absl::string_view launch_id) const {
    return held_.find(launch_id) != held_.end() || live_.find(launch_id) != live_.end();
  }
  // Kills and forgets `launch_id`'s held workload.
  void KillHeld(absl::string_view launch_id);
  // Kills every workload `connection_id` holds.
  void ConnectionClosed(uint64_t connection_id);
  void KillAllHeld();
  // Drops live launches whose process has exited; true if there is room for
  // one more.
  bool PruneLive();

  bool NonceUsed(const std::string& nonce) const { return used_nonces_.contains(nonce); }
  void UseNonce(const std::string& nonce) {
    if (!nonce.empty()) used_nonces_.insert(nonce);
  }

 private:
  std::map<std::string, HeldLaunch, std::less<>> held_;
  std::map<std::string, LiveLaunch, std::less<>> live_;
  std::set<std::string> used_nonces_;
};

}  // namespace fdattest

#endif  // FDATTEST_ATTESTOR_OBSERVED_LAUNCHES_H_
