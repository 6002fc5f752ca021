// fdlaunch enroll against the pieces it talks to: fdattestd on a swtpm, and
// the attester routes (verifier/service/attester_routes.h) on the in-memory
// store behind cpp-httplib's TLS server in the test process. The command
// enrolls the attestor (the credential released by its TPM activates the
// attester), a second enrollment of the EK is refused without an
// administrator, and a verifier whose certificate does not chain to --ca is
// never sent anything. (The command against fdverifierd itself is the
// service's end-to-end test.)
#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "launcher/attestor_client.h"
#include "launcher/enroll.h"
#include "tests/support/fdattestd_harness.h"
#include "tests/support/tls_test_util.h"
#include "tests/support/tpm_test_util.h"
#include "verifier/service/attester_routes.h"
#include "verifier/testing/memory_store.h"

namespace fdattest {
namespace {

using ::fdattest::testing::FdattestdTest;
using ::fdattest::testing::MakeSelfSignedCert;
using ::fdattest::testing::RunTpmTool;
using ::fdattest::testing::ScratchDir;
using ::fdattest::testing::Swtpm;
using ::fdattest::testing::TestCert;
using ::fdattest::testing::TestHttpsServer;
using ::testing::HasSubstr;

class EnrollCommandTest : public FdattestdTest {
 protected:
  void SetUp() override {
    FdattestdTest::SetUp();
    ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
    auto ca = Swtpm::CaCertPemPath();
    ASSERT_TRUE(ca.ok()) << ca.status();
    context_.store = &store_;
    context_.tpm_ca_pem = *ReadFileLimited(*ca, 1 << 20);
    context_.now = [] { return int64_t{1700000000}; };
    context_.random = [](size_t n) { return fdattest::testing::RandomBytes(n); };
    cert_ = MakeSelfSignedCert(scratch_, "server", "DNS:localhost");
    server_ = std::make_unique<TestHttpsServer>(cert_);
    server_->server().Post("/v1/attesters", [this](const httplib::Request& req,
                                                   httplib::Response& res) {
      Serve(HandleEnroll, req, res, "");
    });
    server_->server().Post(R"(/v1/attesters/([0-9a-f]{32})/activate)",
                           [this](const httplib::Request& req, httplib::Response& res) {
                             Serve(HandleActivate, req, res, req.matches[1]);
                           });
    server_->Start();
  }
  void TearDown() override {
    server_.reset();
    FdattestdTest::TearDown();
  }

  void Serve(ApiResponse (*handler)(ServiceContext&, const ApiRequest&),
             const httplib::Request& req, httplib::Response& res, const std::string& id) {
    ApiRequest request;
    request.method = req.method;
    request.path = req.path;
    if (!id.empty()) request.path_params["id"] = id;
    request.content_type = "application/json";
    request.body = req.body;
    const ApiResponse response = handler(context_, request);
    res.status = response.status;
    res.set_content(response.body, response.content_type);
  }

  MemoryStore store_;
  ServiceContext context_;
  ScratchDir scratch_;
  TestCert cert_;
  std::unique_ptr<TestHttpsServer> server_;
};

TEST_F(EnrollCommandTest, EnrollsTheAttestorOnceAndTheEkStaysBound) {
  auto run = RunTpmTool({FDLAUNCH_PATH, "enroll", "--attestor", socket_, "--verifier",
                         server_->Url(), "--ca", cert_.cert_path},
                        tpm_->tcti(), std::chrono::seconds(60));
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->exit_code, 0) << run->err;
  // One line: the attester id, 32 lowercase hex digits.
  ASSERT_EQ(run->out.size(), 33u) << run->out;
  ASSERT_EQ(run->out.back(), '\n') << run->out;
  ASSERT_EQ(run->out.find_first_not_of("0123456789abcdef"), 32u) << run->out;
  const std::string id = run->out.substr(0, 32);
  absl::StatusOr<AttesterRecord> record = store_.GetAttester(id);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->state, AttesterState::kActive);
  auto attestor = AttestorClient::Connect(socket_);
  ASSERT_TRUE(attestor.ok());
  auto info = attestor->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(record->ak_name, HexEncode(info->ak_name));
  EXPECT_EQ(record->ak_public, info->ak_public);

  // Again: the AK is enrolled; replace asks for an administrator this
  // verifier does not see (no client certificate).
  auto verifier = HttpsClient::New(server_->Url(), cert_.cert_path);
  ASSERT_TRUE(verifier.ok());
  for (bool replace : {false, true}) {
    absl::StatusOr<std::string> again = Enroll(*attestor, *verifier, replace);
    EXPECT_FALSE(again.ok());
    EXPECT_THAT(again.status().message(), HasSubstr("verifier: ")) << again.status();
    EXPECT_THAT(again.status().message(), HasSubstr("409")) << again.status();
  }
  EXPECT_EQ(store_.GetAttester(id)->state, AttesterState::kActive);
}

TEST_F(EnrollCommandTest, AVerifierOutsideTheCaIsNeverContacted) {
  const TestCert other = MakeSelfSignedCert(scratch_, "other", "DNS:localhost");
  auto run = RunTpmTool({FDLAUNCH_PATH, "enroll", "--attestor", socket_, "--verifier",
                         server_->Url(), "--ca", other.cert_path},
                        tpm_->tcti(), std::chrono::seconds(60));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 1) << run->err;
  EXPECT_THAT(run->err, HasSubstr("fdlaunch enroll: error: verifier: "));
  EXPECT_EQ(run->out, "");
  auto attestor = AttestorClient::Connect(socket_);
  ASSERT_TRUE(attestor.ok());
  auto info = attestor->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(store_.FindAttesterByAkName(HexEncode(info->ak_name)).status().code(),
            absl::StatusCode::kNotFound);
  auto usage = RunTpmTool({FDLAUNCH_PATH, "enroll", "--attestor", socket_}, tpm_->tcti());
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->exit_code, 2) << usage->err;
}

}  // namespace
}  // namespace fdattest
