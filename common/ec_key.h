// P-256 public keys from raw affine coordinates (as TPM2 public areas carry
// them), checked to lie on the curve. Used by the attestor and the verifier;
// OpenSSL only. Stateless; thread-safe.
#ifndef FDATTEST_COMMON_EC_KEY_H_
#define FDATTEST_COMMON_EC_KEY_H_

#include "absl/strings/string_view.h"
#include "common/openssl_ptr.h"
#include "common/status.h"

namespace fdattest {

// `x` and `y` are big-endian, 1..32 bytes each (left-padded to 32). A point
// that does not decode or is not on P-256 is InvalidArgument.
absl::StatusOr<EvpPkeyPtr> P256PublicKey(absl::string_view x, absl::string_view y);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_EC_KEY_H_
