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

absl::Status CheckTenantId(absl::string_view id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError("a tenant id must be 1..64 characters of A-Z a-z 0-9 . _ -");
  }
  return absl::OkStatus();
}

absl::string_view BlobKindName(BlobKind kind) {
  switch (kind) {
    case BlobKind::kEvidence:
      return "evidence";
    case BlobKind::kResult:
      return "result";
    case BlobKind::kDecision:
      return "decision";
  }
  return "unknown";
}

}  // namespace fdattest
