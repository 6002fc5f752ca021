// Launch step 5b: before the filter is installed, prove with the common BPF
// analyzer that the compiled bytes mean what the profile says (every property
// of common/bpf_properties.h for the profile's fd sets). Any failed property
// aborts the launch. Stateless; thread-safe.
#ifndef FDATTEST_LAUNCHER_SELF_CHECK_H_
#define FDATTEST_LAUNCHER_SELF_CHECK_H_

#include <string>

#include "common/bpf_properties.h"
#include "common/status.h"
#include "common/profile.h"

namespace fdattest {

absl::Status SelfCheckFilter(absl::string_view bpf, const FdSets& fds);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_SELF_CHECK_H_
