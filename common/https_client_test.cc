// HttpsClient against a real TLS server (cpp-httplib's SSLServer, in this
// process) with certificates made here: what it accepts, and every way it
// must refuse — an untrusted CA, a certificate for another host, a non-JSON
// answer, error statuses, an oversized answer, a bad URL.
#include "common/https_client.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/support/jose_test_util.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

// A self-signed certificate for `san` (e.g. "DNS:localhost") with its key,
// written as PEM files; the certificate is its own trust anchor.
struct TestCert {
  std::string cert_path;
  std::string key_path;
};

TestCert MakeCert(const testing::ScratchDir& dir, const std::string& name, const std::string& san) {
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
  FILE* f = fopen(out.cert_path.c_str(), "w");
  PEM_write_X509(f, x);
  fclose(f);
  f = fopen(out.key_path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

class HttpsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = MakeCert(dir_, "server", "DNS:localhost");
    other_ = MakeCert(dir_, "other", "DNS:localhost");
    server_ = std::make_unique<httplib::SSLServer>(cert_.cert_path.c_str(), cert_.key_path.c_str());
    ASSERT_TRUE(server_->is_valid());
    server_->Get("/v1/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", "application/json");
    });
    server_->Post("/v1/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_header_value("Content-Type") + "|" + req.body, "application/json");
    });
    server_->Get("/v1/text", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    server_->Get("/v1/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(100000, 'x'), "application/json");
    });
    server_->Post("/v1/conflict", [](const httplib::Request&, httplib::Response& res) {
      res.status = 409;
      res.set_content(R"({"title":"Conflict"})", "application/problem+json");
    });
    server_->Get("/v1/down", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content("{}", "application/problem+json");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  std::string Url(const std::string& host = "localhost") const {
    return "https://" + host + ":" + std::to_string(port_);
  }

  testing::ScratchDir dir_;
  TestCert cert_, other_;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(HttpsClientTest, GetsJsonFromTrustedServer) {
  auto client = HttpsClient::New(Url(), cert_.cert_path);
  ASSERT_TRUE(client.ok()) << client.status();
  auto body = client->GetJson("/v1/ok");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, R"({"status":"ok"})");
}

TEST_F(HttpsClientTest, PostsJsonBody) {
  auto client = HttpsClient::New(Url(), cert_.cert_path);
  ASSERT_TRUE(client.ok());
  auto body = client->PostJson("/v1/echo", R"({"a":1})");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, R"(application/json|{"a":1})");
}

TEST_F(HttpsClientTest, RefusesServerNotSignedByTheCa) {
  auto client = HttpsClient::New(Url(), other_.cert_path);
  ASSERT_TRUE(client.ok());
  auto body = client->GetJson("/v1/ok");
  EXPECT_EQ(body.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(body.status().message(), HasSubstr("certificate verify failed"));
}

TEST_F(HttpsClientTest, RefusesCertificateForAnotherHost) {
  // The certificate names localhost only; 127.0.0.1 is the same server.
  auto client = HttpsClient::New(Url("127.0.0.1"), cert_.cert_path);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(client->GetJson("/v1/ok").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(HttpsClientTest, RefusesNonJsonAnswer) {
  auto client = HttpsClient::New(Url(), cert_.cert_path);
  ASSERT_TRUE(client.ok());
  EXPECT_FALSE(client->GetJson("/v1/text").ok());
}

TEST_F(HttpsClientTest, RefusesOversizedAnswer) {
  auto client = HttpsClient::New(Url(), cert_.cert_path, {.max_response_bytes = 1000});
  ASSERT_TRUE(client.ok());
  EXPECT_FALSE(client->GetJson("/v1/big").ok());
}

TEST_F(HttpsClientTest, NamesTheStatusOfARefusal) {
  auto client = HttpsClient::New(Url(), cert_.cert_path);
  ASSERT_TRUE(client.ok());
  auto conflict = client->PostJson("/v1/conflict", "{}");
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(conflict.status().message(), HasSubstr("HTTP 409"));
  auto down = client->GetJson("/v1/down");
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(down.status().message(), HasSubstr("HTTP 503"));
  auto missing = client->GetJson("/v1/missing");
  EXPECT_THAT(missing.status().message(), HasSubstr("HTTP 404"));
}

TEST_F(HttpsClientTest, RefusesUrlsThatAreNotHttpsHostPort) {
  for (const char* url : {"http://localhost:1", "localhost:1", "https://localhost:1/v1",
                          "https://u@localhost:1", "https://localhost:1?x=1", "https://"}) {
    EXPECT_EQ(HttpsClient::New(url, cert_.cert_path).status().code(),
              absl::StatusCode::kInvalidArgument)
        << url;
  }
  EXPECT_EQ(HttpsClient::New(Url(), dir_.Path("missing.pem")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpsClientTest, ConnectionRefusedIsUnavailable) {
  auto client = HttpsClient::New("https://localhost:1", cert_.cert_path, {.timeout = std::chrono::seconds(2)});
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(client->GetJson("/v1/ok").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace fdattest
