#include "tests/support/tls_test_util.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdio>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace fdattest::testing {
namespace {

void WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  if (cert != nullptr) PEM_write_X509(f, cert);
  if (key != nullptr) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
}

}  // namespace

TestCert MakeSelfSignedCert(const ScratchDir& dir, const std::string& name,
                            const std::string& san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, subject);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  for (const auto& [ext, value] : std::vector<std::pair<const char*, std::string>>{
           {"subjectAltName", san}, {"basicConstraints", "critical,CA:TRUE"}}) {
    X509_EXTENSION* e = X509V3_EXT_conf(nullptr, &v3, ext, value.c_str());
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  }
  X509_sign(x, key, EVP_sha256());
  TestCert out{dir.Path(name + ".pem"), dir.Path(name + ".key")};
  WritePem(out.cert_path, x, nullptr);
  WritePem(out.key_path, nullptr, key);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

TestHttpsServer::TestHttpsServer(const TestCert& cert)
    : server_(std::make_unique<httplib::SSLServer>(cert.cert_path.c_str(), cert.key_path.c_str())) {
  EXPECT_TRUE(server_->is_valid());
}

TestHttpsServer::~TestHttpsServer() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void TestHttpsServer::Start() {
  port_ = server_->bind_to_any_port("127.0.0.1");
  ASSERT_GT(port_, 0);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace fdattest::testing
