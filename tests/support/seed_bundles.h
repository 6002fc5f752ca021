// What the genuine evidence bundles among the evidence fuzzer's seeds
// (tests/fuzz/corpus/evidence/genuine_*.json) were made with: their AK, the
// development TPM vendor CA that signed their EK certificate, and a policy of
// their job. For the fuzzer and for tests that verify those bundles.
// Header-only constants.
#ifndef FDATTEST_TESTS_SUPPORT_SEED_BUNDLES_H_
#define FDATTEST_TESTS_SUPPORT_SEED_BUNDLES_H_

#include "absl/strings/string_view.h"

namespace fdattest::testing {

// The seeds' AK: a marshalled TPM2B_PUBLIC, hex.
inline constexpr absl::string_view kSeedAkPublicHex =
    "00580023000b00050072000000100018000b0003001000208292c53220874a3611bc464c14b20ed4aea10cbb"
    "06abd9c905c6be8995326c5e00203c97ad109c83627ae9229d167ee8d2f9122fd820eea80547e274b0ad5f16"
    "f674";

// The development TPM vendor CA that signed the seeds' EK certificate
// (tools/swtpm/provision.sh when the seeds were made).
inline constexpr absl::string_view kSeedTpmCaPem = R"(-----BEGIN CERTIFICATE-----
MIIB7TCCAZOgAwIBAgIRANyegjeao3TSudUkhgu0JgYwCgYIKoZIzj0EAwIwRDEd
MBsGA1UECgwUZmRhdHRlc3QgZGV2ZWxvcG1lbnQxIzAhBgNVBAMMGmZkYXR0ZXN0
IGRldiBUUE0gdmVuZG9yIENBMB4XDTI2MTEzMDA0Mjc1NloXDTM2MTEyNzA0Mjc1
NlowRDEdMBsGA1UECgwUZmRhdHRlc3QgZGV2ZWxvcG1lbnQxIzAhBgNVBAMMGmZk
YXR0ZXN0IGRldiBUUE0gdmVuZG9yIENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD
QgAEAXPRp9QXCOqsabHeb/RmXVCScgAgwBEbT9HGa0PfF37iyWEm1aV4zHIQs7kV
dh98aK+rtE0xA1gQpFnK8OVLnqNmMGQwHwYDVR0jBBgwFoAUeaNRKIyxjJjkOCgj
ik7N5FUeTqkwEgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQYwHQYD
VR0OBBYEFHmjUSiMsYyY5DgoI4pOzeRVHk6pMAoGCCqGSM49BAMCA0gAMEUCIC0N
3mBGBjNTFBQ/bOWRc6DHBjGaASAY31CLOgA76PDWAiEA0UFuiVykm0xxLiVzvVrg
7rFv+cMf3Sfzb/HxTCYRDvo=
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
