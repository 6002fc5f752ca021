#include "verifier/store.h"

namespace fdattest {

absl::string_view AttesterStateName(AttesterState state) {
  switch (state) {
    case AttesterState::kPending:
      return "pending";
    case AttesterState::kActive:
      return "active";
    case AttesterState::kRevoked:
      return "revoked";
  }
  return "unknown";
}

}  // namespace fdattest
