// fdverifierd as a process over real TLS: the daemon binary (on the
// in-memory store, tests/service/fdverifierd_fake_store_main.cc) with the
// development PKI of certs/make-dev-pki.sh, driven by cpp-httplib's client and
// by raw TLS and TCP connections for what a well-behaved client never sends.
// Checks roles from client certificates, problem+json for 404/405/411/413/
// 415/431, 503 with Retry-After over the in-flight limit, that slow clients
// and malformed TLS leave the service serving, the JSON log (no bodies, no
// secrets), and the graceful stop on SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "verifier/jose_key.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kPolicy[] = R"({
  "version": 1,
  "id": "https://test.invalid/service/v1",
  "workload": {"exe_sha256": ["3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6"]},
  "closed_world": true,
  "max_fds": 3,
  "fd_roles": [
    {"role": "phi-input", "class": "phi_input", "kinds": ["file"], "access": ["r"], "min": 1, "max": 1}
  ],
  "retention_days": 2190
})";
// base64 of "secret-marker-7f3a": must never reach the log.
constexpr char kSecretValue[] = "c2VjcmV0LW1hcmtlci03ZjNh";

int RunCommand(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One running daemon, its stderr collected line by line.
class Daemon {
 public:
  Daemon(const std::string& dir, std::vector<std::string> extra) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return;
    std::vector<std::string> argv = {FDATTEST_FDVERIFIERD,
                                     "--listen", "127.0.0.1:0",
                                     "--data-dir", dir + "/data",
                                     "--tls-cert", dir + "/pki/server.pem",
                                     "--tls-key", dir + "/pki/server.key",
                                     "--client-ca", dir + "/pki/client-ca.pem",
                                     "--tpm-ca", dir + "/pki/tpm-vendor-ca.pem",
                                     "--signing-key", dir + "/signing.jwk",
                                     "--secret-key-file", dir + "/secret.key"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      dup2(pipe_fds[1], 2);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(pipe_fds[1]);
    reader_ = std::thread([this, fd = pipe_fds[0]] {
      std::string pending;
      char buf[4096];
      for (;;) {
        const ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        pending.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::lock_guard<std::mutex> lock(mu_);
          lines_.push_back(pending.substr(0, nl));
          pending.erase(0, nl + 1);
          cv_.notify_all();
        }
      }
      close(fd);
      std::lock_guard<std::mutex> lock(mu_);
      eof_ = true;
      cv_.notify_all();
    });
    const std::string start = WaitForLine([](const std::string& l) {
      return absl::StrContains(l, "\"event\":\"start\"");
    });
    if (!start.empty()) port_ = (*ParseJsonStrict(start))["port"].get<int>();
  }

  ~Daemon() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
  }

  int port() const { return port_; }

  // The first stderr line `pred` accepts, waiting up to `timeout` ("" if none).
  std::string WaitForLine(const std::function<bool(const std::string&)>& pred,
                          std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    std::string found;
    cv_.wait_for(lock, timeout, [&] {
      for (const std::string& l : lines_) {
        if (pred(l)) {
          found = l;
          return true;
        }
      }
      return eof_;
    });
    return found;
  }

  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

  // SIGTERM, then the exit status (-1 if it did not exit within 15 s).
  int Terminate() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 150; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(100ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

// A TLS (or plain TCP) connection made by hand.
class RawConnection {
 public:
  RawConnection(int port, bool tls, const std::string& ca = "") {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!tls) {
      ok_ = true;
      return;
    }
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ca.empty()) {
      SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    ok_ = SSL_connect(ssl_) == 1;
  }
  ~RawConnection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return ok_; }
  bool Send(absl::string_view data) {
    if (ssl_ != nullptr) return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) > 0;
    return write(fd_, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  }
  // Everything until the peer closes or 10 s pass.
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    for (;;) {
      const int n = ssl_ != nullptr ? SSL_read(ssl_, buf, sizeof(buf))
                                    : static_cast<int>(read(fd_, buf, sizeof(buf)));
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // One response's head and (Content-Length) body.
  std::string ReadResponse() {
    std::string out;
    char c;
    while (out.find("\r\n\r\n") == std::string::npos) {
      if (SSL_read(ssl_, &c, 1) != 1) return out;
      out.push_back(c);
    }
    const size_t cl = out.find("Content-Length: ");
    size_t length = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
    std::string body(length, '\0');
    size_t done = 0;
    while (done < length) {
      const int n = SSL_read(ssl_, body.data() + done, static_cast<int>(length - done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    return out + body.substr(0, done);
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

class FdverifierdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // As any HTTP client does: a peer that closes is an error, not a signal.
    signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/fdverifierd-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = new std::string(tmpl);
    ASSERT_EQ(RunCommand({std::string(FDATTEST_SOURCE_DIR) + "/certs/make-dev-pki.sh",
                          *dir_ + "/pki"}),
              0);
    absl::StatusOr<SigningKey> key = SigningKey::Generate();
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(key->Save(*dir_ + "/signing.jwk").ok());
    std::ofstream(*dir_ + "/secret.key") << std::string(32, 'k');
    chmod((*dir_ + "/secret.key").c_str(), 0600);
    mkdir((*dir_ + "/data").c_str(), 0700);
    jwk_ = new std::string(key->PublicJwkJson());
  }
  static void TearDownTestSuite() {
    RunCommand({"/bin/rm", "-rf", *dir_});
    delete dir_;
    delete jwk_;
  }

  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(
        *dir_, std::vector<std::string>{"--threads", "4", "--max-inflight", "2",
                                        "--request-timeout", "2"});
    ASSERT_GT(daemon_->port(), 0) << "the daemon did not start";
  }

  std::unique_ptr<httplib::SSLClient> Client(const std::string& role = "") {
    std::unique_ptr<httplib::SSLClient> c;
    if (role.empty()) {
      c = std::make_unique<httplib::SSLClient>("127.0.0.1", daemon_->port());
    } else {
      c = std::make_unique<httplib::SSLClient>("127.0.0.1", daemon_->port(),
                                               Pki(role + ".pem"), Pki(role + ".key"));
    }
    c->set_ca_cert_path(Pki("server-ca.pem").c_str());
    c->enable_server_certificate_verification(true);
    c->set_read_timeout(10, 0);
    return c;
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
  ExpectProblem(Client()->Put("/v1/policies/p1", kPolicy, "application/json"), 401,
                "client-certificate-required");
  ExpectProblem(Client("auditor")->Put("/v1/policies/p1", kPolicy, "application/json"), 403,
                "role-forbidden");
  auto r = Client("admin")->Put("/v1/policies/p1", kPolicy, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ((*ParseJsonStrict(r->body))["version"], 1);
  // Auditor routes: auditor and admin, not anonymous.
  ExpectProblem(Client()->Get("/v1/policies/p1"), 401, "client-certificate-required");
  for (const char* role : {"auditor", "admin"}) {
    r = Client(role)->Get("/v1/policies/p1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, kPolicy);
    EXPECT_EQ(r->get_header_value("X-Policy-Version"), "1");
  }
  ExpectProblem(Client("admin")->Put("/v1/policies/p1", "{\"version\": 1}", "application/json"),
                400, "bad-policy");
}

TEST_F(FdverifierdTest, AttestationOverTlsIsRecordedAndRetrievable) {
  ASSERT_EQ(Client("admin")->Put("/v1/policies/p1", kPolicy, "application/json")->status, 200);
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
  result.erase("secrets");
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
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawConnection>(daemon_->port(), true));
    ASSERT_TRUE(held.back()->ok());
    ASSERT_TRUE(held.back()->Send("POST /v1/challenge HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n"));
  }
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
  ASSERT_EQ(Client("admin")->Put("/v1/policies/p1", kPolicy, "application/json")->status, 200);
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
