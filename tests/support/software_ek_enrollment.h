// A gtest fixture for enrollment without a TPM: a ServiceContext over the
// in-memory store (verifier/testing/memory_store.h) that trusts a test TPM
// vendor CA, and a software EK (tests/support/software_ek.h) that CA
// certified. The clock starts at 1700000000 and moves one second each time
// it is read; randomness is RAND_bytes. Test-only; one test thread.
#ifndef FDATTEST_TESTS_SUPPORT_SOFTWARE_EK_ENROLLMENT_H_
#define FDATTEST_TESTS_SUPPORT_SOFTWARE_EK_ENROLLMENT_H_

#include <openssl/rand.h>

#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/software_ek.h"
#include "verifier/service/api.h"
#include "verifier/testing/memory_store.h"

namespace fdattest::testing {

class SoftwareEkEnrollmentTest : public ::testing::Test {
 protected:
  SoftwareEkEnrollmentTest() : ca_(MakeTestCa("TPM vendor CA")), ek_(MakeSoftwareEk(&ca_)) {
    context_.store = &store_;
    context_.tpm_ca_pem = ca_.pem;
    context_.now = [this] { return ++clock_; };
    context_.random = [](size_t n) {
      std::string bytes(n, '\0');
      EXPECT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)), 1);
      return bytes;
    };
  }

  MemoryStore store_;
  ServiceContext context_;
  int64_t clock_ = 1700000000;
  TestCa ca_;
  SoftwareEk ek_;
};

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_SOFTWARE_EK_ENROLLMENT_H_
