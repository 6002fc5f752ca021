// Test-only TLS pieces: a self-signed certificate made in-process (its own
// trust anchor), and cpp-httplib's TLS server run on a loopback port in a
// thread of the test, for the clients of the verifier's API. Not thread-safe.
#ifndef FDATTEST_TESTS_SUPPORT_TLS_TEST_UTIL_H_
#define FDATTEST_TESTS_SUPPORT_TLS_TEST_UTIL_H_

#include <memory>
#include <string>
#include <thread>

#include <httplib.h>
#include "tests/support/jose_test_util.h"

namespace fdattest::testing {

struct TestCert {
  std::string cert_path;  // PEM certificate
  std::string key_path;   // PEM private key (P-256)
};

// A self-signed CA:TRUE certificate for subjectAltName `san` (for example
// "DNS:localhost"), valid for an hour, written into `dir` as NAME.pem/NAME.key.
TestCert MakeSelfSignedCert(const ScratchDir& dir, const std::string& name,
                            const std::string& san);

// An httplib::SSLServer with `cert`, listening on 127.0.0.1 once Start()
// returns; routes are added to server() before Start. Stopped on destruction.
class TestHttpsServer {
 public:
  explicit TestHttpsServer(const TestCert& cert);
  ~TestHttpsServer();
  httplib::SSLServer& server() { return *server_; }
  void Start();
  int port() const { return port_; }
  std::string Url(const std::string& host = "localhost") const {
    return "https://" + host + ":" + std::to_string(port_);
  }

 private:
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_TLS_TEST_UTIL_H_
