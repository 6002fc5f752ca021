// HttpsClient against a real TLS server (cpp-httplib's SSLServer, in this
// process) with certificates made here: what it accepts, and every way it
// must refuse — an untrusted CA, a certificate for another host, a non-JSON
// answer, error statuses, an oversized answer, a bad URL.
#include "common/https_client.h"

#include <chrono>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/tls_test_util.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

class HttpsClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = testing::MakeSelfSignedCert(dir_, "server", "DNS:localhost");
    other_ = testing::MakeSelfSignedCert(dir_, "other", "DNS:localhost");
    https_ = std::make_unique<testing::TestHttpsServer>(cert_);
    httplib::SSLServer* server = &https_->server();
    server->Get("/v1/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", "application/json");
    });
    server->Post("/v1/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_header_value("Content-Type") + "|" + req.body, "application/json");
    });
    server->Get("/v1/text", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    server->Get("/v1/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(100000, 'x'), "application/json");
    });
    server->Post("/v1/conflict", [](const httplib::Request&, httplib::Response& res) {
      res.status = 409;
      res.set_content(R"({"title":"Conflict"})", "application/problem+json");
    });
    server->Get("/v1/down", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content("{}", "application/problem+json");
    });
    // The body in a TLS record of its own, 300 ms after the headers.
    server->Get("/v1/late", [](const httplib::Request&, httplib::Response& res) {
      const std::string body = R"({"late":true})";
      res.set_content_provider(body.size(), "application/json",
                               [body](size_t offset, size_t, httplib::DataSink& sink) {
                                 std::this_thread::sleep_for(std::chrono::milliseconds(300));
                                 sink.write(body.data() + offset, body.size() - offset);
                                 return true;
                               });
    });
    https_->Start();
  }
  std::string Url(const std::string& host = "localhost") const { return https_->Url(host); }

  testing::ScratchDir dir_;
  testing::TestCert cert_, other_;
  std::unique_ptr<testing::TestHttpsServer> https_;
};

TEST_F(HttpsClientTest, GetsJsonFromTrustedServer) {
  auto client = HttpsClient::New(Url(), cert_.cert_path);
  ASSERT_TRUE(client.ok()) << client.status();
  auto body = client->GetJson("/v1/ok");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, R"({"status":"ok"})");
}

// The body may arrive after the headers: the client waits for it rather
// than returning what it has (once, an empty body that broke fdlaunch enroll
// now and then).
TEST_F(HttpsClientTest, WaitsForABodyThatArrivesAfterTheHeaders) {
  auto client = HttpsClient::New(Url(), cert_.cert_path);
  ASSERT_TRUE(client.ok());
  auto body = client->GetJson("/v1/late");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, R"({"late":true})");
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
