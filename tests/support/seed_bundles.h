// What the genuine evidence bundles among the evidence fuzzer's seeds
// (tests/fuzz/corpus/evidence/genuine_*.json) were made with: their AK, the
// development TPM vendor CA that signed their EK certificate, and a policy of
// their job. For the fuzzer and for tests that verify those bundles.
// Header-only constants.
#ifndef FDATTEST_TESTS_SUPPORT_SEED_BUNDLES_H_
#define FDATTEST_TESTS_SUPPORT_SEED_BUNDLES_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace fdattest::testing {

// The seeds' AK: a marshalled TPM2B_PUBLIC, hex.
inline constexpr absl::string_view kSeedAkPublicHex =
    "00580023000b00050072000000100018000b000300100020abd44625c2e166d13855f539c76a7d3f6e76325d"
    "14d198680e4bf8e3a5bb211600203fbbf8544246b92e8246dc47a9f3f56ae53c8ea2411c2a38320c74d57a03"
    "a1a6";

// A time (unix seconds) inside the seeds' EK certificate's validity, for
// tests that verify them as of a fixed date: 2026-12-11.
inline constexpr int64_t kSeedTime = 1797000000;

// The development TPM vendor CA that signed the seeds' EK certificate
// (tools/swtpm/provision.sh when the seeds were made).
inline constexpr absl::string_view kSeedTpmCaPem = R"(-----BEGIN CERTIFICATE-----
MIIB7TCCAZKgAwIBAgIQWdJ+Qw03jtmKivlalIg81DAKBggqhkjOPQQDAjBEMR0w
GwYDVQQKDBRmZGF0dGVzdCBkZXZlbG9wbWVudDEjMCEGA1UEAwwaZmRhdHRlc3Qg
ZGV2IFRQTSB2ZW5kb3IgQ0EwHhcNMjYxMjA4MDEzOTIyWhcNMzYxMjA1MDEzOTIy
WjBEMR0wGwYDVQQKDBRmZGF0dGVzdCBkZXZlbG9wbWVudDEjMCEGA1UEAwwaZmRh
dHRlc3QgZGV2IFRQTSB2ZW5kb3IgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AASxBsIcLLF8ABdUjvmUKJoWl9Mk+74Zc5qBtd7ooDLkAUEDDtJpGjbFDMNf/hJC
cv0vvt/wVWqiempgtODQWSdwo2YwZDAfBgNVHSMEGDAWgBRyfrbHaB3hY/BCC9V/
mPXx9aj3UjASBgNVHRMBAf8ECDAGAQH/AgEAMA4GA1UdDwEB/wQEAwIBBjAdBgNV
HQ4EFgQUcn62x2gd4WPwQgvVf5j18fWo91IwCgYIKoZIzj0EAwIDSQAwRgIhAMXp
mtbAzDv2aXsUF52Jyma4XGG77UkvPJAKFtSmAge7AiEAxpu6uPcJXLS23tplfqIL
GVlW1VkVqZFcKhmC6ZJj2yA=
-----END CERTIFICATE-----
)";

// The seeds' job (examples/profiles/phi-checksum.json, busybox sha256sum):
// enough for most rules to look at something.
inline constexpr absl::string_view kSeedPolicy = R"({
  "version": 1,
  "id": "https://test.invalid/phi-checksum/v1",
  "workload": {"exe_sha256": ["3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6"]},
  "closed_world": true,
  "max_fds": 3,
  "fd_roles": [
    {"role": "phi-input", "class": "phi_input", "kinds": ["file"], "access": ["r"], "min": 1, "max": 1},
    {"role": "phi-output", "class": "phi_output", "kinds": ["file"], "access": ["w"], "min": 1, "max": 1,
     "storage": ["encrypted_at_rest", "not_persisted"]},
    {"role": "audit-log", "class": "audit", "kinds": ["file"], "access": ["a"], "min": 1, "max": 1,
     "storage": ["durable"]}
  ],
  "retention_days": 2190
})";

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_SEED_BUNDLES_H_
