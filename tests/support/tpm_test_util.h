// Helpers for the TPM layer's tests: running tpm2-tools against a test swtpm
// (fork/exec with a deadline, never a shell), parsing and verifying what the
// AK signed with OpenSSL, and writing the AK public key as PEM.
// Test-only; stateless; thread-safe.
#ifndef FDATTEST_TESTS_SUPPORT_TPM_TEST_UTIL_H_
#define FDATTEST_TESTS_SUPPORT_TPM_TEST_UTIL_H_

#include <tss2/tss2_tpm2_types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest::testing {

struct ToolResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv[0] (looked up in PATH) with TPM2TOOLS_TCTI=`tcti` and TSS2_LOG
// quiet, capturing its output; kills it and fails after `timeout`.
absl::StatusOr<ToolResult> RunTpmTool(const std::vector<std::string>& argv,
                                      const std::string& tcti,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(15));

// Unmarshals TPMS_ATTEST bytes (all of them must be consumed).
absl::StatusOr<TPMS_ATTEST> ParseAttest(absl::string_view attest);

// Verifies a marshalled TPMT_SIGNATURE (ECDSA, SHA-256) over `attest` with
// the ECC public area in marshalled TPM2B_PUBLIC form; Unauthenticated if it
// does not verify.
absl::Status VerifyEcdsaAttest(absl::string_view tpm2b_public, absl::string_view attest,
                               absl::string_view signature);

// The public key of a marshalled TPM2B_PUBLIC (ECC) as a PEM SubjectPublicKeyInfo.
absl::StatusOr<std::string> PublicToPem(absl::string_view tpm2b_public);

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_TPM_TEST_UTIL_H_
