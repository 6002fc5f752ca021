// The bodies of fdverifierd's enrollment routes (verifier/service/
// attester_routes.h), parsed strictly: unknown keys, wrong types, empty or
// non-base64 values are InvalidArgument naming the field. Separate from the
// routes so the fuzzer drives them without the store. Stateless; thread-safe.
#ifndef FDATTEST_VERIFIER_SERVICE_ATTESTER_PARSERS_H_
#define FDATTEST_VERIFIER_SERVICE_ATTESTER_PARSERS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// POST /v1/attesters: {"ek_certificate": "<base64 DER>", "ak_public":
// "<base64 TPM2B_PUBLIC>", "replace": false (optional)}, decoded.
struct EnrollBody {
  std::string ek_certificate;
  std::string ak_public;
  bool replace = false;
  std::string tenant = "default";  // the audit archive's tenant (CheckTenantId)
};
absl::StatusOr<EnrollBody> ParseEnrollBody(absl::string_view body);

// POST /v1/attesters/{id}/activate: {"secret": "<base64>"}, decoded (the
// recovered credential; the caller cleanses it).
absl::StatusOr<std::string> ParseActivateBody(absl::string_view body);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_ATTESTER_PARSERS_H_
