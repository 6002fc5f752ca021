// fdverifierd as a process over real TLS: the daemon binary (on its SQLite
// store) with the development PKI of certs/make-dev-pki.sh, driven by
// cpp-httplib's client and by raw TLS and TCP connections for what a
// well-behaved client never sends (tests/integration/fdverifierd_process.h).
// Checks roles from client certificates, problem+json for 404/405/411/413/
// 415/431, 503 with Retry-After over the in-flight limit, that slow clients
// and malformed TLS leave the service serving, the JSON log (no bodies, no
// secrets), and the graceful stop on SIGTERM.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/fdverifierd_process.h"

namespace fdattest {
namespace {

using ::fdattest::testing::Daemon;
using ::fdattest::testing::DaemonArgs;
using ::fdattest::testing::DaemonDir;
using ::fdattest::testing::HoldInFlightPlaces;
using ::fdattest::testing::kOneInputPolicy;
using ::fdattest::testing::MakeDaemonDir;
using ::fdattest::testing::RawConnection;
using ::fdattest::testing::ReadFile;
using ::fdattest::testing::RoleClient;
using ::fdattest::testing::RunCommand;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// base64 of "secret-marker-7f3a": must never reach the log.
constexpr char kSecretValue[] = "c2VjcmV0LW1hcmtlci03ZjNh";

class FdverifierdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<DaemonDir> made = MakeDaemonDir(FDATTEST_SOURCE_DIR, "fdverifierd-test");
    ASSERT_TRUE(made.ok()) << made.status();
    dir_ = new std::string(made->path);
    jwk_ = new std::string(made->public_jwk);
  }
  static void TearDownTestSuite() {
    RunCommand({"/bin/rm", "-rf", *dir_});
    delete dir_;
    delete jwk_;
  }

  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(
        DaemonArgs(FDATTEST_FDVERIFIERD, *dir_, Pki("tpm-vendor-ca.pem"),
                   {"--threads", "4", "--max-inflight", "2", "--request-timeout", "2"}));
    ASSERT_GT(daemon_->port(), 0) << "the daemon did not start";
  }

  std::unique_ptr<httplib::SSLClient> Client(const std::string& role = "") {
    return RoleClient(daemon_->port(), *dir_, role);
  }
  static std::string Pki(const std::string& name) { return *dir_ + "/pki/" + name; }

  // Asserts a problem document with this status and type slug.
  static void ExpectProblem(const httplib::Result& r, int status, const std::string& type) {
    ASSERT_TRUE(r) << "no response";
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
    absl::StatusOr<Json> body = ParseJsonStrict(r->body);
    ASSERT_TRUE(body.ok()) << r->body;
    EXPECT_EQ((*body)["type"], "https://fdattest.dev/problems/" + type);
    EXPECT_EQ((*body)["status"], status);
  }

  bool Healthy() {
    auto r = Client()->Get("/healthz");
    return r && r->status == 200;
  }

  static std::string* dir_;
  static std::string* jwk_;
  std::unique_ptr<Daemon> daemon_;
};
std::string* FdverifierdTest::dir_ = nullptr;
std::string* FdverifierdTest::jwk_ = nullptr;

TEST_F(FdverifierdTest, ServesHealthKeysAndChallengesWithoutCertificate) {
  auto r = Client()->Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"status":"ok"})");
  r = Client()->Get("/.well-known/fdattest-keys");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  Json jwks = *ParseJsonStrict(r->body);
  EXPECT_EQ(*CanonicalJson(jwks["keys"][0]), *jwk_);
  r = Client()->Post("/v1/challenge", "", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ((*ParseJsonStrict(r->body))["nonce"].get<std::string>().size(), 64u);
  r = Client()->Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr("fdverifierd_requests_total{route=\"/v1/challenge\",code=\"200\"} 1"));
  EXPECT_THAT(r->body, HasSubstr("fdverifierd_nonces_outstanding 1"));
}

TEST_F(FdverifierdTest, AdminRoutesNeedTheAdminCertificate) {
  ExpectProblem(Client()->Put("/v1/policies/p1", kOneInputPolicy, "application/json"), 401,
                "client-certificate-required");
  ExpectProblem(Client("auditor")->Put("/v1/policies/p1", kOneInputPolicy, "application/json"), 403,
                "role-forbidden");
  auto r = Client("admin")->Put("/v1/policies/p1", kOneInputPolicy, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ((*ParseJsonStrict(r->body))["version"], 1);
  // Auditor routes: auditor and admin, not anonymous.
  ExpectProblem(Client()->Get("/v1/policies/p1"), 401, "client-certificate-required");
  for (const char* role : {"auditor", "admin"}) {
    r = Client(role)->Get("/v1/policies/p1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, kOneInputPolicy);
    EXPECT_EQ(r->get_header_value("X-Policy-Version"), "1");
  }
  ExpectProblem(Client("admin")->Put("/v1/policies/p1", "{\"version\": 1}", "application/json"),
                400, "bad-policy");
}

TEST_F(FdverifierdTest, AttestationOverTlsIsRecordedAndRetrievable) {
  ASSERT_EQ(Client("admin")->Put("/v1/policies/p1", kOneInputPolicy, "application/json")->status, 200);
  const std::string evidence =
      ReadFile(std::string(FDATTEST_SOURCE_DIR) + "/tests/fuzz/corpus/evidence/genuine_nv_first.json");
  ASSERT_FALSE(evidence.empty());
  ExpectProblem(Client()->Post("/v1/attest", evidence, "application/json"), 400, "policy-required");
  ExpectProblem(Client()->Post("/v1/attest?policy=nope", evidence, "application/json"), 404,
                "unknown-policy");
  auto r = Client()->Post("/v1/attest?policy=p1", evidence, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json result = *ParseJsonStrict(r->body);
  // This verifier never issued the seed's nonce.
  EXPECT_EQ(result["verdict"], "broken_evidence");
  EXPECT_THAT(result["reason"].get<std::string>(), HasSubstr("nonce"));
  auto stored = Client()->Get("/v1/attestations/" + result["id"].get<std::string>());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, 200);
  // The stored result is the answer without its secrets and its receipt (the
  // log's, for this decision: its leaf names the result).
  EXPECT_THAT(result["receipt"]["leaf"].get<std::string>(),
              HasSubstr("\nresult " + result["id"].get<std::string>() + "\n"));
  result.erase("secrets");
  result.erase("receipt");
  EXPECT_EQ(*ParseJsonStrict(stored->body), result);
  ExpectProblem(Client()->Get("/v1/attestations/0123456789abcdef0123456789abcdef"), 404,
                "unknown-attestation");
  EXPECT_TRUE(daemon_->WaitForLine([](const std::string& l) {
    return absl::StrContains(l, "\"verdict\":\"broken_evidence\"");
  }) != "");
}

TEST_F(FdverifierdTest, UnknownRoutesMethodsTypesAndSizesAreProblems) {
  ExpectProblem(Client()->Get("/v2/nothing"), 404, "not-found");
  auto r = Client()->Delete("/healthz");
  ExpectProblem(r, 405, "method-not-allowed");
  EXPECT_EQ(r->get_header_value("Allow"), "GET");
  ExpectProblem(Client()->Post("/v1/attest?policy=p", "x", "text/plain"), 415,
                "unsupported-media-type");
  ExpectProblem(Client()->Get("/v1/attestations/x", {{"Content-Length", "0"}}), 404,
                "unknown-attestation");
  // A body over 1 MiB is refused from its Content-Length, before it is sent.
  RawConnection big(daemon_->port(), true);
  ASSERT_TRUE(big.ok());
  ASSERT_TRUE(big.Send("POST /v1/attest?policy=p HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n"));
  std::string response = big.ReadResponse();
  EXPECT_THAT(response, HasSubstr("HTTP/1.1 413"));
  EXPECT_THAT(response, HasSubstr("payload-too-large"));
  // A chunked body cannot be bounded before it is read.
  RawConnection chunked(daemon_->port(), true);
  ASSERT_TRUE(chunked.Send("POST /v1/challenge HTTP/1.1\r\nHost: x\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n"));
  EXPECT_THAT(chunked.ReadResponse(), HasSubstr("HTTP/1.1 411"));
  EXPECT_TRUE(Healthy());
}

TEST_F(FdverifierdTest, OversizedHeadersAreRefusedAndTheServiceGoesOn) {
  httplib::Headers many;
  for (int i = 0; i < 12; ++i) many.emplace(absl::StrCat("X-Filler-", i), std::string(1000, 'a'));
  ExpectProblem(Client()->Get("/healthz", many), 431, "headers-too-large");
  // One header line over 8 KiB: the HTTP library refuses the request.
  auto r = Client()->Get("/healthz", {{"X-Huge", std::string(9000, 'b')}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_TRUE(Healthy());
}

TEST_F(FdverifierdTest, OverTheInFlightLimitIs503WithRetryAfter) {
  // Two requests whose bodies never come hold both places (--max-inflight 2).
  const std::vector<std::unique_ptr<RawConnection>> held = HoldInFlightPlaces(daemon_->port(), 2);
  ASSERT_EQ(held.size(), 2u);
  std::this_thread::sleep_for(300ms);
  auto r = Client()->Get("/healthz");
  ExpectProblem(r, 503, "busy");
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  // The watchdog ends the held requests (--request-timeout 2); then served.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = Healthy();
    if (!served) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(served);
}

TEST_F(FdverifierdTest, SlowClientsAreCutOffAndTheServiceKeepsServing) {
  // More dribbling connections than workers (--threads 4): half stop in the
  // middle of their headers, half never start the TLS handshake.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 6; ++i) {
    slow.push_back(std::make_unique<RawConnection>(daemon_->port(), i % 2 == 0));
    if (i % 2 == 0) slow.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  std::atomic<bool> done{false};
  std::thread dribble([&] {
    while (!done) {
      for (size_t i = 0; i < slow.size(); i += 2) slow[i]->Send("a");
      std::this_thread::sleep_for(300ms);
    }
  });
  bool served = false;
  const auto start = std::chrono::steady_clock::now();
  while (!served && std::chrono::steady_clock::now() - start < 20s) {
    served = Healthy();
    if (!served) std::this_thread::sleep_for(200ms);
  }
  done = true;
  dribble.join();
  EXPECT_TRUE(served);
  EXPECT_NE(daemon_->WaitForLine([](const std::string& l) {
              return absl::StrContains(l, "\"event\":\"connection_timeout\"");
            }),
            "");
  slow.clear();
  EXPECT_TRUE(Healthy());
}

TEST_F(FdverifierdTest, MalformedTlsLeavesTheServiceServing) {
  const std::vector<std::string> garbage = {
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",  // plaintext to a TLS port
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // truncated ClientHello
      std::string("\x16\x03\x01\xff\xff", 5) + std::string(4096, '\xff'),
      std::string(1024, '\0'),
  };
  for (const std::string& bytes : garbage) {
    RawConnection c(daemon_->port(), false);
    ASSERT_TRUE(c.ok());
    c.Send(bytes);
    c.ReadAll();  // the service closes it
  }
  EXPECT_TRUE(Healthy());
  // A client certificate from another CA ends the handshake.
  httplib::SSLClient stranger("127.0.0.1", daemon_->port(), Pki("tpm-vendor-ca.pem"),
                              Pki("tpm-vendor-ca.key"));
  stranger.enable_server_certificate_verification(false);
  auto r = stranger.Get("/healthz");
  EXPECT_FALSE(r && r->status == 200);
  EXPECT_TRUE(Healthy());
}

TEST_F(FdverifierdTest, LogIsJsonLinesWithoutBodiesOrSecrets) {
  ASSERT_EQ(Client("admin")->Put("/v1/policies/p1", kOneInputPolicy, "application/json")->status, 200);
  auto r = Client("admin")->Put(
      "/v1/secrets/phi-key", absl::StrCat(R"({"value": ")", kSecretValue, R"(", "policy": "p1"})"),
      "application/json");
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, Not(HasSubstr(kSecretValue)));
  ASSERT_NE(daemon_->WaitForLine([](const std::string& l) {
              return absl::StrContains(l, "/v1/secrets/{name}");
            }),
            "");
  EXPECT_EQ(daemon_->Terminate(), 0);
  const std::vector<std::string> lines = daemon_->Lines();
  ASSERT_FALSE(lines.empty());
  bool saw_admin = false;
  for (const std::string& line : lines) {
    absl::StatusOr<Json> j = ParseJsonStrict(line);
    ASSERT_TRUE(j.ok()) << line;
    EXPECT_TRUE(j->contains("time") && j->contains("event")) << line;
    EXPECT_THAT(line, Not(HasSubstr(kSecretValue)));
    EXPECT_THAT(line, Not(HasSubstr("secret-marker")));
    EXPECT_THAT(line, Not(HasSubstr("phi_input")));  // the policy body
    if (absl::StrContains(line, "OU=admin")) saw_admin = true;
  }
  EXPECT_TRUE(saw_admin);
  EXPECT_THAT(lines.back(), HasSubstr("\"event\":\"stop\""));
}

}  // namespace
}  // namespace fdattest
