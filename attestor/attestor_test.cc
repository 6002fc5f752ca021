// fdattestd as a real process (fork/execve) on a real swtpm: the info /
// measure / certify / log round trip in NV and PCR mode, checked against
// tpm2-tools reading the TPM independently; eight concurrent clients; kill -9
// at random points during measures, with reconciliation at each restart; peer
// authorisation by uid/gid; hostile frames and requests; a tampered log that
// the daemon refuses to serve.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <tss2/tss2_tpm2_types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "attestor/attestor.h"
#include "attestor/event_log.h"
#include "attestor/protocol.h"
#include "attestor/tpm_register.h"
#include "common/base64.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/support/swtpm.h"
#include "tests/support/tpm_test_util.h"

namespace fdattest {
namespace {

using ::fdattest::testing::ParseAttest;
using ::fdattest::testing::RunTpmTool;
using ::fdattest::testing::Swtpm;
using ::fdattest::testing::VerifyEcdsaAttest;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kNvIndex = kDefaultNvRegisterIndex;
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kCallTimeout = std::chrono::seconds(10);
constexpr uid_t kNobody = 65534;

std::mt19937_64& Rng() {
  static std::mt19937_64 rng(std::random_device{}());
  return rng;
}

std::string RandomBytes(size_t n) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(Rng()() & 0xff);
  return out;
}
std::string RandomHex(size_t bytes) { return HexEncode(RandomBytes(bytes)); }

std::string HexOf(const uint8_t* data, size_t size) {
  return HexEncode(absl::string_view(reinterpret_cast<const char*>(data), size));
}

// ---------------------------------------------------------------------------
// The daemon process.

class Daemon {
 public:
  Daemon(std::string socket, std::string state_dir, std::string tcti, std::string stderr_path)
      : socket_(std::move(socket)),
        state_dir_(std::move(state_dir)),
        tcti_(std::move(tcti)),
        stderr_path_(std::move(stderr_path)) {}
  ~Daemon() { Kill(); }

  // Starts fdattestd and waits (bounded) until it accepts connections (OK)
  // or exits (FailedPrecondition; exit_code() and stderr_text() tell why).
  absl::Status Start(const std::vector<std::string>& extra = {}) {
    if (pid_ > 0) return absl::InternalError("already running");
    std::vector<std::string> argv = {FDATTESTD_PATH, "--socket",  socket_, "--state-dir",
                                     state_dir_,     "--tcti",    tcti_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env = {"TSS2_LOG=all+none"};
    if (const char* path = getenv("PATH")) env.push_back(absl::StrCat("PATH=", path));
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    UniqueFd err(open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!err) return ErrnoStatus("open stderr file", errno);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return ErrnoStatus("fork", errno);
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(125);
      if (dup2(err.get(), 2) < 0) _exit(126);
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    pid_ = pid;
    exit_code_ = -1;
    const auto deadline = Clock::now() + kStartTimeout;
    while (Clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return absl::FailedPreconditionError(
            absl::StrCat("fdattestd exited with ", exit_code_, ": ", stderr_text()));
      }
      if (CanConnect()) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Kill();
    return absl::DeadlineExceededError("fdattestd did not start serving in time");
  }

  // SIGTERM and wait (bounded); the exit code.
  absl::StatusOr<int> Stop() {
    if (pid_ <= 0) return absl::FailedPreconditionError("not running");
    kill(pid_, SIGTERM);
    return Reap(std::chrono::seconds(15));
  }

  // SIGKILL and reap.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    Reap(std::chrono::seconds(15)).IgnoreError();
  }

  absl::StatusOr<int> Reap(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
      }
      if (Clock::now() >= deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return absl::DeadlineExceededError("fdattestd did not exit in time");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    return waitpid(pid_, &status, WNOHANG) == 0;
  }

  pid_t pid() const { return pid_; }
  int exit_code() const { return exit_code_; }
  std::string stderr_text() const {
    absl::StatusOr<std::string> text = ReadFileLimited(stderr_path_, 1 << 20);
    return text.ok() ? *text : std::string();
  }

 private:
  bool CanConnect() const {
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::copy(socket_.begin(), socket_.end(), addr.sun_path);
    return connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  }

  std::string socket_, state_dir_, tcti_, stderr_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// ---------------------------------------------------------------------------
// A client.

absl::StatusOr<UniqueFd> ConnectTo(const std::string& path) {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("socket", errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::copy(path.begin(), path.end(), addr.sun_path);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoStatus("connect", errno);
  }
  return fd;
}

absl::StatusOr<Json> CallOnRaw(int fd, absl::string_view payload) {
  // A refused peer may find the connection closed before its request is
  // written; the refusal is still waiting to be read.
  absl::Status written = WriteFrame(fd, payload, Clock::now() + kCallTimeout);
  absl::StatusOr<std::string> response = ReadFrame(fd, Clock::now() + kCallTimeout);
  if (!response.ok()) return written.ok() ? response.status() : written;
  return ParseJsonStrict(*response);
}

absl::StatusOr<Json> CallOn(int fd, const Json& request) { return CallOnRaw(fd, request.dump()); }

absl::StatusOr<Json> Call(const std::string& socket, const Json& request) {
  ASSIGN_OR_RETURN(UniqueFd fd, ConnectTo(socket));
  return CallOn(fd.get(), request);
}

// The error code of a response, or "ok".
std::string CodeOf(const Json& response) {
  if (response.value("ok", false)) return "ok";
  return response["error"].value("code", "?");
}

Json Manifest(const std::string& launch_id, const std::string& sha) {
  return Json{{"op", "measure"}, {"type", "launch_manifest"}, {"launch_id", launch_id},
              {"manifest_sha256", sha}};
}
Json Separator(const std::string& launch_id) {
  return Json{{"op", "measure"}, {"type", "launch_separator"}, {"launch_id", launch_id}};
}
Json CertifyRequest(const std::string& qualifying_hex) {
  return Json{{"op", "certify"}, {"qualifying_data", qualifying_hex}};
}
Json LogRequest(const std::string& launch_id) {
  return Json{{"op", "log"}, {"launch_id", launch_id}};
}

// The digest a measure request extends.
Sha256Digest DigestOf(const Json& measure) {
  absl::StatusOr<Request> r = ParseRequest(measure.dump());
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->content->Digest() : Sha256Digest{};
}

struct ServedLog {
  std::map<uint64_t, std::string> digests;  // recnum -> hex digest
  std::string replayed;                     // hex
};

// Parses a served log strictly and replays it from zero (it starts with the
// current epoch's record).
absl::StatusOr<ServedLog> ReplayServed(const Json& records) {
  ServedLog out;
  Sha256Digest value = kRegisterResetValue;
  bool first = true;
  uint64_t next = 0;
  for (const Json& j : records) {
    ASSIGN_OR_RETURN(CelRecord r, CelRecord::FromJson(DocumentOf(j)->root(), /*allow_redacted=*/true));
    if (first) {
      if (r.redacted() || r.content->type != CelContent::Type::kEpoch) {
        return absl::DataLossError("served log does not start with an epoch record");
      }
      next = r.recnum;
      first = false;
    }
    if (r.recnum != next++) return absl::DataLossError("recnums not contiguous");
    value = ExtendRegister(value, r.digest);
    out.digests[r.recnum] = HexEncode(r.digest);
  }
  out.replayed = HexEncode(value);
  return out;
}

// ---------------------------------------------------------------------------

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tpm = Swtpm::Start();
    ASSERT_TRUE(tpm.ok()) << tpm.status();
    tpm_ = *std::move(tpm);
    state_dir_ = absl::StrCat(tpm_->dir(), "/state");
    socket_ = absl::StrCat(tpm_->dir(), "/api.sock");
    daemon_ = NewDaemon(state_dir_);
  }
  void TearDown() override {
    daemon_.reset();
    tpm_.reset();
  }

  std::unique_ptr<Daemon> NewDaemon(const std::string& state_dir) {
    return std::make_unique<Daemon>(socket_, state_dir, tpm_->tcti(),
                                    absl::StrCat(tpm_->dir(), "/daemon.err"));
  }
  std::string LogPath() const { return absl::StrCat(state_dir_, "/", kEventLogFile); }

  // The NV register as tpm2_nvread sees it (the daemon must be stopped: one
  // TPM client at a time).
  std::string NvRead() {
    const std::string out = absl::StrCat(tpm_->dir(), "/nvread.bin");
    auto tool = RunTpmTool(
        {"tpm2_nvread", absl::StrFormat("0x%08x", kNvIndex), "-C", "o", "-s", "32", "-o", out},
        tpm_->tcti());
    EXPECT_TRUE(tool.ok()) << tool.status();
    if (!tool.ok()) return "";
    EXPECT_EQ(tool->exit_code, 0) << tool->err;
    auto bytes = ReadFileLimited(out, 64);
    return bytes.ok() ? HexEncode(*bytes) : "";
  }

  // The log file's replay (opened locally, so the daemon must be stopped).
  absl::StatusOr<EventLog> OpenLogFile(const Register& reg) { return EventLog::Open(LogPath(), reg); }

  // Checks through the API that the served log contains every acknowledged
  // record and replays to the certified register value.
  void ExpectServedLogMatchesRegister(const std::string& launch_id,
                                      const std::map<uint64_t, std::string>& acked) {
    auto cert = Call(socket_, CertifyRequest(RandomHex(32)));
    ASSERT_TRUE(cert.ok()) << cert.status();
    ASSERT_EQ(CodeOf(*cert), "ok") << cert->dump();
    auto log = Call(socket_, LogRequest(launch_id));
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_EQ(CodeOf(*log), "ok") << log->dump();
    auto served = ReplayServed((*log)["records"]);
    ASSERT_TRUE(served.ok()) << served.status();
    EXPECT_EQ(served->replayed, (*cert)["register_value"].get<std::string>());
    for (const auto& [recnum, digest] : acked) {
      auto it = served->digests.find(recnum);
      ASSERT_NE(it, served->digests.end()) << "acknowledged record " << recnum << " missing";
      EXPECT_EQ(it->second, digest) << "record " << recnum;
    }
  }

  std::unique_ptr<Swtpm> tpm_;
  std::string state_dir_;
  std::string socket_;
  std::unique_ptr<Daemon> daemon_;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

std::string Stats(const std::vector<double>& ms) {
  double sum = 0;
  for (double x : ms) sum += x;
  return absl::StrFormat("n=%d mean=%.2fms p50=%.2fms p90=%.2fms max=%.2fms",
                         static_cast<int>(ms.size()), sum / static_cast<double>(ms.size()),
                         Percentile(ms, 0.5), Percentile(ms, 0.9), Percentile(ms, 1.0));
}

// ---------------------------------------------------------------------------

TEST_F(DaemonTest, NvRoundTripMatchesTpmAndLog) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  auto conn = ConnectTo(socket_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const int fd = conn->get();

  auto info = CallOn(fd, Json{{"op", "info"}});
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(CodeOf(*info), "ok") << info->dump();
  EXPECT_EQ((*info)["register"], (Json{{"kind", "nv"}, {"nv_index", kNvIndex}}));
  auto ak_public = Base64Decode((*info)["ak_public"].get<std::string>());
  ASSERT_TRUE(ak_public.ok());
  auto ek_cert = Base64Decode((*info)["ek_certificate"].get<std::string>());
  ASSERT_TRUE(ek_cert.ok());
  EXPECT_GT(ek_cert->size(), 100u);
  EXPECT_EQ((*info)["ak_name"].get<std::string>().size(), 68u);
  EXPECT_EQ((*info)["ak_qualified_name"].get<std::string>().size(), 68u);
  EXPECT_TRUE(Base64Decode((*info)["ek_public"].get<std::string>()).ok());
  EXPECT_TRUE((*info)["reset_count"].is_number_integer());
  EXPECT_TRUE((*info)["restart_count"].is_number_integer());

  // One launch: its manifest and separator follow the epoch record (0).
  const std::string launch = RandomHex(16);
  auto m = CallOn(fd, Manifest(launch, RandomHex(32)));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(CodeOf(*m), "ok") << m->dump();
  EXPECT_EQ((*m)["recnum"], 1);
  auto s = CallOn(fd, Separator(launch));
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(CodeOf(*s), "ok") << s->dump();
  EXPECT_EQ((*s)["recnum"], 2);
  // Nothing more for a separated launch; the daemon keeps serving.
  auto again = CallOn(fd, Separator(launch));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(CodeOf(*again), "FailedPrecondition") << again->dump();

  // Latency through the socket: 40 measures (20 launches), 20 certifies.
  std::vector<double> measure_ms, certify_ms;
  for (int i = 0; i < 20; ++i) {
    const std::string other = RandomHex(16);
    for (const Json& req : {Manifest(other, RandomHex(32)), Separator(other)}) {
      auto t0 = Clock::now();
      auto r = CallOn(fd, req);
      measure_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      ASSERT_TRUE(r.ok() && CodeOf(*r) == "ok");
    }
  }
  std::string qualifying, register_value;
  Json cert;
  for (int i = 0; i < 20; ++i) {
    qualifying = RandomBytes(i % 2 == 0 ? 32 : 64);
    auto t0 = Clock::now();
    auto r = CallOn(fd, CertifyRequest(HexEncode(qualifying)));
    certify_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ASSERT_TRUE(r.ok() && CodeOf(*r) == "ok") << (r.ok() ? r->dump() : r.status().ToString());
    cert = *r;
  }
  std::cout << "[ latency  ] measure (log fsync + NV extend, via socket): " << Stats(measure_ms)
            << "\n[ latency  ] certify (NV_Certify, via socket): " << Stats(certify_ms) << "\n";

  // The certification parses, binds the qualifying data, holds the register
  // value and verifies with the AK from info.
  register_value = cert["register_value"].get<std::string>();
  auto attest = Base64Decode(cert["attest"].get<std::string>());
  auto signature = Base64Decode(cert["signature"].get<std::string>());
  ASSERT_TRUE(attest.ok() && signature.ok());
  auto parsed = ParseAttest(*attest);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->type, TPM2_ST_ATTEST_NV);
  EXPECT_EQ(HexOf(parsed->extraData.buffer, parsed->extraData.size), HexEncode(qualifying));
  EXPECT_EQ(parsed->attested.nv.offset, 0);
  EXPECT_EQ(HexOf(parsed->attested.nv.nvContents.buffer, parsed->attested.nv.nvContents.size),
            register_value);
  EXPECT_TRUE(VerifyEcdsaAttest(*ak_public, *attest, *signature).ok());

  // The log for our launch: ours in full, the others redacted, replaying to
  // the certified value.
  auto log = CallOn(fd, LogRequest(launch));
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(CodeOf(*log), "ok") << log->dump();
  const Json& records = (*log)["records"];
  ASSERT_EQ(records.size(), 43u);
  EXPECT_FALSE(records[0].contains("redacted"));
  EXPECT_FALSE(records[1].contains("redacted"));
  EXPECT_EQ(records[1]["content"]["data"]["launch_id"], launch);
  EXPECT_EQ(records[3]["redacted"], true);
  EXPECT_FALSE(records[3].contains("content"));
  auto served = ReplayServed(records);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->replayed, register_value);
  // A launch without records in this epoch.
  auto unknown = CallOn(fd, LogRequest(RandomHex(16)));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(CodeOf(*unknown), "FailedPrecondition");
  conn->reset();

  // Independently: the file replays to the value tpm2_nvread reads.
  auto code = daemon_->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << daemon_->stderr_text();
  const std::string err = daemon_->stderr_text();
  EXPECT_NE(err.find("serving on"), std::string::npos) << err;
  std::cout << "[ stderr   ] " << err;
  EXPECT_EQ(NvRead(), register_value);
  auto file = OpenLogFile(*Register::NvIndex(kNvIndex));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(HexEncode(file->expected_value()), register_value);
}

TEST_F(DaemonTest, PcrModeQuotesAndRefusesResettablePcrs) {
  // PCR 16 and 23 are refused without the test-only flag, before any TPM work.
  for (const char* pcr : {"pcr:16", "pcr:23"}) {
    absl::Status started = daemon_->Start({"--register", pcr});
    ASSERT_FALSE(started.ok());
    EXPECT_NE(daemon_->exit_code(), 0);
    EXPECT_NE(daemon_->stderr_text().find("reset by any TPM client"), std::string::npos)
        << daemon_->stderr_text();
    EXPECT_NE(daemon_->stderr_text().find("not serving"), std::string::npos);
  }
  {
    auto allowed = NewDaemon(absl::StrCat(tpm_->dir(), "/s16"));
    ASSERT_TRUE(allowed->Start({"--register", "pcr:16", "--allow-resettable-pcr"}).ok())
        << allowed->stderr_text();
    auto info = Call(socket_, Json{{"op", "info"}});
    ASSERT_TRUE(info.ok());
    EXPECT_EQ((*info)["register"], (Json{{"kind", "pcr"}, {"pcr", 16}, {"bank", "sha256"}}));
    ASSERT_TRUE(allowed->Stop().ok());
  }

  ASSERT_TRUE(daemon_->Start({"--register", "pcr:15"}).ok()) << daemon_->stderr_text();
  auto info = Call(socket_, Json{{"op", "info"}});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)["register"], (Json{{"kind", "pcr"}, {"pcr", 15}, {"bank", "sha256"}}));
  const std::string launch = RandomHex(16);
  for (const Json& req : {Manifest(launch, RandomHex(32)), Separator(launch)}) {
    auto r = Call(socket_, req);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(CodeOf(*r), "ok") << r->dump();
  }
  const std::string qualifying = RandomBytes(32);
  std::vector<double> quote_ms;
  Json cert;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto r = Call(socket_, CertifyRequest(HexEncode(qualifying)));
    quote_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(CodeOf(*r), "ok") << r->dump();
    cert = *r;
  }
  std::cout << "[ latency  ] certify (Quote, connect + request): " << Stats(quote_ms) << "\n";
  const std::string value = cert["register_value"].get<std::string>();
  auto attest = Base64Decode(cert["attest"].get<std::string>());
  auto signature = Base64Decode(cert["signature"].get<std::string>());
  auto ak_public = Base64Decode((*info)["ak_public"].get<std::string>());
  ASSERT_TRUE(attest.ok() && signature.ok() && ak_public.ok());
  auto parsed = ParseAttest(*attest);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->type, TPM2_ST_ATTEST_QUOTE);
  EXPECT_EQ(HexOf(parsed->extraData.buffer, parsed->extraData.size), HexEncode(qualifying));
  // The quote digest of one PCR is SHA-256 of its value.
  auto value_bytes = HexDecode(value);
  ASSERT_TRUE(value_bytes.ok());
  EXPECT_EQ(HexOf(parsed->attested.quote.pcrDigest.buffer, parsed->attested.quote.pcrDigest.size),
            HexEncode(Sha256(*value_bytes)));
  EXPECT_TRUE(VerifyEcdsaAttest(*ak_public, *attest, *signature).ok());
  auto log = Call(socket_, LogRequest(launch));
  ASSERT_TRUE(log.ok());
  auto served = ReplayServed((*log)["records"]);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->replayed, value);
  EXPECT_EQ((*log)["records"][1]["pcr"], 15);

  ASSERT_TRUE(daemon_->Stop().ok());
  const std::string out = absl::StrCat(tpm_->dir(), "/pcr.bin");
  auto tool = RunTpmTool({"tpm2_pcrread", "sha256:15", "-o", out}, tpm_->tcti());
  ASSERT_TRUE(tool.ok()) << tool.status();
  ASSERT_EQ(tool->exit_code, 0) << tool->err;
  EXPECT_EQ(HexEncode(*ReadFileLimited(out, 64)), value);
}

TEST_F(DaemonTest, EightConcurrentClientsLoseNothing) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  constexpr int kClients = 8;
  constexpr int kLaunchesPerClient = 10;  // a manifest and a separator each: 20 measures
  std::mutex mu;
  std::map<uint64_t, std::string> acked;  // recnum -> digest
  std::map<uint64_t, Json> acked_requests;
  std::vector<std::string> errors;
  std::vector<std::string> launch_ids;
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&] {
      auto conn = ConnectTo(socket_);
      if (!conn.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        errors.push_back(conn.status().ToString());
        return;
      }
      for (int i = 0; i < kLaunchesPerClient; ++i) {
        const std::string launch = RandomHex(16);
        {
          std::lock_guard<std::mutex> lock(mu);
          launch_ids.push_back(launch);
        }
        for (const Json& req : {Manifest(launch, RandomHex(32)), Separator(launch)}) {
          auto r = CallOn(conn->get(), req);
          std::lock_guard<std::mutex> lock(mu);
          if (!r.ok() || CodeOf(*r) != "ok") {
            errors.push_back(r.ok() ? r->dump() : r.status().ToString());
            continue;
          }
          const uint64_t recnum = (*r)["recnum"].get<uint64_t>();
          if (acked.count(recnum) != 0) errors.push_back(absl::StrCat("recnum twice: ", recnum));
          acked[recnum] = HexEncode(DigestOf(req));
          acked_requests[recnum] = req;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(acked.size(), size_t{kClients * kLaunchesPerClient * 2});
  std::cout << "[ concurrency ] " << acked.size() << " measures from " << kClients
            << " clients in " << absl::StrFormat("%.0f", elapsed) << " ms\n";

  ExpectServedLogMatchesRegister(launch_ids.front(), acked);
  auto cert = Call(socket_, CertifyRequest(RandomHex(16)));
  ASSERT_TRUE(cert.ok());
  const std::string value = (*cert)["register_value"].get<std::string>();

  ASSERT_TRUE(daemon_->Stop().ok());
  auto file = OpenLogFile(*Register::NvIndex(kNvIndex));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), acked.size() + 1);  // + the epoch record
  for (const auto& [recnum, req] : acked_requests) {
    const CelRecord& r = file->AllRecords().at(recnum);
    EXPECT_EQ(HexEncode(r.digest), acked[recnum]);
    EXPECT_EQ(r.content->launch_id, req["launch_id"].get<std::string>());
  }
  EXPECT_EQ(HexEncode(file->expected_value()), value);
  EXPECT_EQ(NvRead(), value);
}

TEST_F(DaemonTest, KillNineDuringMeasuresNeverDivergesSilently) {
  constexpr int kCalls = 50;
  std::map<uint64_t, std::string> acked;
  std::string last_acked_launch;
  std::string open_launch;  // acknowledged manifest, separator not yet sent
  int calls = 0, restarts = 0, kills_mid_call = 0, served_consistent = 0;
  int pending_recovered = 0, torn_repaired = 0;  // what the start-up reconciliation did
  std::uniform_int_distribution<int> delay_ms(0, 40);

  while (true) {
    absl::Status started = daemon_->Start();
    if (!started.ok()) {
      // Allowed only as an explicit, explained refusal.
      const std::string err = daemon_->stderr_text();
      EXPECT_NE(daemon_->exit_code(), 0);
      EXPECT_NE(err.find("not serving"), std::string::npos) << err;
      ADD_FAILURE() << "daemon refused to serve after kill -9 (explicit, not silent): " << err;
      break;
    }
    ++restarts;
    if (!last_acked_launch.empty()) {
      ExpectServedLogMatchesRegister(last_acked_launch, acked);
      if (HasFatalFailure()) return;
      ++served_consistent;
    }
    if (calls >= kCalls) break;

    const pid_t pid = daemon_->pid();
    const int delay = delay_ms(Rng());
    std::atomic<bool> killed{false};
    std::thread killer([pid, delay, &killed] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      kill(pid, SIGKILL);
      killed = true;
    });
    auto conn = ConnectTo(socket_);
    while (conn.ok() && calls < kCalls) {
      Json req;
      if (!open_launch.empty()) {
        req = Separator(open_launch);
      } else {
        req = Manifest(RandomHex(16), RandomHex(32));
      }
      ++calls;
      auto r = CallOn(conn->get(), req);
      if (!r.ok()) {
        // Killed mid-call: the record may or may not be in the log (never
        // acknowledged). Start a fresh launch after the restart.
        ++kills_mid_call;
        open_launch.clear();
        break;
      }
      ASSERT_EQ(CodeOf(*r), "ok") << r->dump();
      acked[(*r)["recnum"].get<uint64_t>()] = HexEncode(DigestOf(req));
      last_acked_launch = req["launch_id"].get<std::string>();
      open_launch = open_launch.empty() ? last_acked_launch : "";
    }
    killer.join();
    auto code = daemon_->Reap(std::chrono::seconds(10));
    ASSERT_TRUE(code.ok()) << code.status();
    const std::string err = daemon_->stderr_text();
    if (err.find("re-extended pending record") != std::string::npos) ++pending_recovered;
    if (err.find("torn record") != std::string::npos) ++torn_repaired;
  }
  const std::string summary = absl::StrCat(
      calls, " measure calls, ", acked.size(), " acknowledged, ", restarts, " starts, ",
      kills_mid_call, " kills during a call, ", served_consistent,
      " restarts served a log consistent with the register (", pending_recovered,
      " re-extended a pending record, ", torn_repaired, " removed a torn record)");
  std::cout << "[ kill -9  ] " << summary << "\n";
  EXPECT_EQ(calls, kCalls);
  EXPECT_GE(restarts, 2);

  ASSERT_TRUE(daemon_->Running());
  ASSERT_TRUE(daemon_->Stop().ok());
  auto file = OpenLogFile(*Register::NvIndex(kNvIndex));
  ASSERT_TRUE(file.ok()) << file.status();
  for (const auto& [recnum, digest] : acked) {
    ASSERT_LT(recnum, file->size());
    EXPECT_EQ(HexEncode(file->AllRecords()[recnum].digest), digest);
  }
  EXPECT_EQ(NvRead(), HexEncode(file->expected_value()));
}

TEST_F(DaemonTest, OnePendingRecordIsExtendedAtStart) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  const std::string launch = RandomHex(16);
  auto m = Call(socket_, Manifest(launch, RandomHex(32)));
  ASSERT_TRUE(m.ok() && CodeOf(*m) == "ok");
  ASSERT_TRUE(daemon_->Stop().ok());
  const std::string before = NvRead();
  {
    // Exactly what a crash between the log's fsync and the extend leaves.
    auto file = OpenLogFile(*Register::NvIndex(kNvIndex));
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE(file->Append(*CelContent::LaunchSeparator(launch)).ok());
  }
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  auto cert = Call(socket_, CertifyRequest(RandomHex(8)));
  ASSERT_TRUE(cert.ok() && CodeOf(*cert) == "ok");
  EXPECT_NE((*cert)["register_value"].get<std::string>(), before);
  ExpectServedLogMatchesRegister(launch, {});
  ASSERT_TRUE(daemon_->Stop().ok());
  EXPECT_NE(daemon_->stderr_text().find("re-extended pending record 2"), std::string::npos)
      << daemon_->stderr_text();
}

TEST_F(DaemonTest, RefusesToServeALogThatDivergesFromTheRegister) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  const std::string launch = RandomHex(16), sha = RandomHex(32);
  for (const Json& req : {Manifest(launch, sha), Separator(launch)}) {
    auto r = Call(socket_, req);
    ASSERT_TRUE(r.ok() && CodeOf(*r) == "ok");
  }
  ASSERT_TRUE(daemon_->Stop().ok());
  const std::string register_value = NvRead();
  auto original = ReadFileLimited(LogPath(), 1 << 20);
  ASSERT_TRUE(original.ok());
  ASSERT_NE(original->find(absl::StrCat("\"digest\":\"", sha, "\"")), std::string::npos);
  const std::string other = RandomHex(32);

  // A digest that is not the one its record's content defines.
  ASSERT_TRUE(WriteFileAtomic(LogPath(),
                              absl::StrReplaceAll(*original, {{absl::StrCat("\"digest\":\"", sha),
                                                               absl::StrCat("\"digest\":\"", other)}}),
                              0600)
                  .ok());
  ASSERT_FALSE(daemon_->Start().ok());
  EXPECT_EQ(daemon_->exit_code(), 1);
  EXPECT_NE(daemon_->stderr_text().find("line 2"), std::string::npos) << daemon_->stderr_text();
  EXPECT_NE(daemon_->stderr_text().find("not serving"), std::string::npos);

  // A self-consistent log for a different manifest: replays, but not to the
  // register's value.
  ASSERT_TRUE(
      WriteFileAtomic(LogPath(), absl::StrReplaceAll(*original, {{sha, other}}), 0600).ok());
  ASSERT_FALSE(daemon_->Start().ok());
  EXPECT_EQ(daemon_->exit_code(), 1);
  const std::string err = daemon_->stderr_text();
  EXPECT_NE(err.find("diverged"), std::string::npos) << err;
  std::cout << "[ stderr   ] " << err;
  EXPECT_NE(err.find(register_value), std::string::npos) << err;
  // Refusing touched nothing.
  EXPECT_EQ(NvRead(), register_value);

  // The original log serves again.
  ASSERT_TRUE(WriteFileAtomic(LogPath(), *original, 0600).ok());
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  ExpectServedLogMatchesRegister(launch, {});
}

// Runs one request as another user (uid and gid `id`, no supplementary
// groups) in a forked child; returns the raw response payload ("" if none).
absl::StatusOr<std::string> CallAsUser(const std::string& socket_path, uid_t id, const Json& request) {
  ASSIGN_OR_RETURN(std::string frame, EncodeFrame(request.dump()));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::copy(socket_path.begin(), socket_path.end(), addr.sun_path);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
  UniqueFd r(p[0]), w(p[1]);
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    // Only system calls from here: the buffers were prepared before fork.
    alarm(10);
    if (setgroups(0, nullptr) != 0 || setresgid(id, id, id) != 0 || setresuid(id, id, id) != 0) {
      _exit(3);
    }
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0 || connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) _exit(4);
    // A refused peer may be disconnected before this send: read regardless.
    (void)!send(s, frame.data(), frame.size(), MSG_NOSIGNAL);
    char buf[4096];
    for (;;) {
      ssize_t n = read(s, buf, sizeof(buf));
      if (n <= 0) break;
      if (write(w.get(), buf, static_cast<size_t>(n)) != n) _exit(6);
      // One response is all we want; the daemon keeps allowed connections open.
      if (n >= 4) {
        uint32_t len = (uint32_t(uint8_t(buf[0])) << 24) | (uint32_t(uint8_t(buf[1])) << 16) |
                       (uint32_t(uint8_t(buf[2])) << 8) | uint8_t(buf[3]);
        if (static_cast<size_t>(n) >= 4 + len) break;
      }
    }
    _exit(0);
  }
  w.reset();
  auto response = ReadFrame(r.get(), Clock::now() + std::chrono::seconds(15));
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("client child failed with status ", status));
  }
  if (!response.ok()) return std::string();
  return *response;
}

TEST_F(DaemonTest, PeerAuthorisationBySoPeercred) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  // Let the kernel admit the other user to the socket, so that what refuses
  // it is the daemon's SO_PEERCRED check.
  ASSERT_EQ(chmod(tpm_->dir().c_str(), 0711), 0);
  ASSERT_EQ(chmod(socket_.c_str(), 0666), 0);
  struct stat st;
  ASSERT_EQ(stat(socket_.c_str(), &st), 0);

  auto denied = CallAsUser(socket_, kNobody, Json{{"op", "info"}});
  ASSERT_TRUE(denied.ok()) << denied.status();
  auto denied_json = ParseJsonStrict(*denied);
  ASSERT_TRUE(denied_json.ok()) << *denied;
  EXPECT_EQ(CodeOf(*denied_json), "PermissionDenied") << *denied;
  EXPECT_NE((*denied_json)["error"]["message"].get<std::string>().find("uid 65534"),
            std::string::npos);
  // Root (the default) is still served.
  auto info = Call(socket_, Json{{"op", "info"}});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(CodeOf(*info), "ok");
  ASSERT_TRUE(daemon_->Stop().ok());

  // Allowed by gid: nobody (gid 65534) is served, root no longer is.
  ASSERT_TRUE(daemon_->Start({"--allow-gid", "65534"}).ok()) << daemon_->stderr_text();
  ASSERT_EQ(chmod(socket_.c_str(), 0666), 0);
  auto allowed = CallAsUser(socket_, kNobody, Json{{"op", "info"}});
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  auto allowed_json = ParseJsonStrict(*allowed);
  ASSERT_TRUE(allowed_json.ok()) << *allowed;
  EXPECT_EQ(CodeOf(*allowed_json), "ok");
  auto root = Call(socket_, Json{{"op", "info"}});
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(CodeOf(*root), "PermissionDenied");
  ASSERT_TRUE(daemon_->Stop().ok());

  // Allowed by uid.
  ASSERT_TRUE(daemon_->Start({"--allow-uid", "65534", "--allow-uid", "0"}).ok());
  ASSERT_EQ(chmod(socket_.c_str(), 0666), 0);
  allowed = CallAsUser(socket_, kNobody, Json{{"op", "info"}});
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(CodeOf(*ParseJsonStrict(*allowed)), "ok");
}

TEST_F(DaemonTest, SocketIsOwnerAndGroupOnly) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  struct stat st;
  ASSERT_EQ(stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  // A second daemon on the same socket is refused while the first serves.
  // (Its readiness probe would reach the first daemon, so wait for its exit.)
  auto second = NewDaemon(absl::StrCat(tpm_->dir(), "/other"));
  if (second->Start().ok()) {
    auto code = second->Reap(std::chrono::seconds(10));
    ASSERT_TRUE(code.ok()) << code.status();
  }
  EXPECT_EQ(second->exit_code(), 1);
  EXPECT_NE(second->stderr_text().find("another server"), std::string::npos)
      << second->stderr_text();
  EXPECT_TRUE(daemon_->Running());
}

// Sends raw bytes on a fresh connection and collects what comes back until
// the daemon closes it or `wait` passes.
struct RawResult {
  std::vector<Json> responses;
  bool closed = false;
};
RawResult SendRaw(const std::string& socket, const std::string& bytes, bool half_close,
                  std::chrono::milliseconds wait) {
  RawResult out;
  auto fd = ConnectTo(socket);
  EXPECT_TRUE(fd.ok()) << fd.status();
  if (!fd.ok()) return out;
  EXPECT_EQ(send(fd->get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
  if (half_close) shutdown(fd->get(), SHUT_WR);
  const auto deadline = Clock::now() + wait;
  for (;;) {
    auto frame = ReadFrame(fd->get(), deadline);
    if (!frame.ok()) {
      out.closed = frame.status().code() == absl::StatusCode::kFailedPrecondition;
      return out;
    }
    auto json = ParseJsonStrict(*frame);
    EXPECT_TRUE(json.ok()) << *frame;
    if (json.ok()) out.responses.push_back(*json);
  }
}

std::string Header(uint32_t n) {
  std::string h(4, '\0');
  h[0] = static_cast<char>(n >> 24);
  h[1] = static_cast<char>(n >> 16);
  h[2] = static_cast<char>(n >> 8);
  h[3] = static_cast<char>(n);
  return h;
}
std::string Frame(const std::string& payload) { return *EncodeFrame(payload); }

TEST_F(DaemonTest, HostileRequestsGetErrorsAndTheDaemonKeepsServing) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  const std::string launch = RandomHex(16);
  struct Case {
    std::string payload;
    std::string expect_in_message;
  };
  const std::vector<Case> cases = {
      {"{", "not valid JSON"},
      {"[1,2]", "JSON object"},
      {"\"info\"", "JSON object"},
      {R"({"op":"info","op":"log"})", "not valid JSON"},  // duplicate key
      {R"({})", "missing required key \"op\""},
      {R"({"op":"reboot"})", "unknown op"},
      {R"({"op":7})", "must be a string"},
      {R"({"op":"info","extra":1})", "unknown key \"extra\""},
      {R"({"op":"certify","qualifying_data":5})", "must be a string"},
      {R"({"op":"certify","qualifying_data":""})", "1 to 64 bytes"},
      {R"({"op":"certify","qualifying_data":"abc"})", "odd length"},
      {R"({"op":"certify","qualifying_data":"zz"})", "not hex"},
      {absl::StrCat(R"({"op":"certify","qualifying_data":")", std::string(130, 'a'), "\"}"),
       "1 to 64 bytes"},
      {R"({"op":"certify"})", "missing required key"},
      {R"({"op":"log","launch_id":"ABC"})", "32 lowercase hex"},
      {R"({"op":"log","launch_id":["x"]})", "must be a string"},
      {absl::StrCat(R"({"op":"measure","type":"epoch","launch_id":")", launch, "\"}"),
       "unknown measure type"},
      {absl::StrCat(R"({"op":"measure","type":"launch_separator","launch_id":")", launch,
                    R"(","manifest_sha256":")", std::string(64, 'a'), "\"}"),
       "unknown key \"manifest_sha256\""},
      {absl::StrCat(R"({"op":"measure","type":"launch_manifest","launch_id":")", launch,
                    R"(","manifest_sha256":")", std::string(64, 'A'), "\"}"),
       "64 lowercase hex"},
      {absl::StrCat(R"({"op":"measure","type":"launch_manifest","launch_id":")", launch,
                    R"(","manifest_sha256":1})"),
       "must be a string"},
      {absl::StrCat(R"({"op":"measure","type":"launch_separator","launch_id":")", launch, "\"}"),
       "separator"},  // no manifest for this launch: a log rule, FailedPrecondition
      {R"({"op":"info","n":1.5})", "unknown key"},
      {std::string(100000, '['), "not valid JSON"},
  };
  for (const Case& c : cases) {
    auto r = SendRaw(socket_, Frame(c.payload), /*half_close=*/true, std::chrono::seconds(10));
    ASSERT_EQ(r.responses.size(), 1u) << c.payload.substr(0, 80);
    const Json& resp = r.responses[0];
    EXPECT_EQ(resp["ok"], false) << c.payload.substr(0, 80);
    const std::string code = CodeOf(resp);
    EXPECT_TRUE(code == "InvalidArgument" || code == "FailedPrecondition") << resp.dump();
    EXPECT_NE(resp["error"]["message"].get<std::string>().find(c.expect_in_message),
              std::string::npos)
        << c.payload.substr(0, 80) << " -> " << resp.dump();
  }

  // Oversized and empty frames: an error, then the connection is closed.
  for (uint32_t declared : {uint32_t{(1u << 20) + 1}, uint32_t{0xffffffff}, uint32_t{0}}) {
    auto r = SendRaw(socket_, Header(declared) + "{}", false, std::chrono::seconds(10));
    ASSERT_EQ(r.responses.size(), 1u) << declared;
    EXPECT_EQ(CodeOf(r.responses[0]), "InvalidArgument");
    EXPECT_TRUE(r.closed) << declared;
  }
  // Truncated: declares 100 bytes, sends 10, closes. Nothing to answer.
  {
    auto r = SendRaw(socket_, Header(100) + std::string(10, '{'), true, std::chrono::seconds(10));
    EXPECT_TRUE(r.responses.empty());
    EXPECT_TRUE(r.closed);
  }
  // Stalled mid-frame: another client is served meanwhile, and the stalled
  // connection is closed after the read timeout (5 s).
  {
    auto stalled = ConnectTo(socket_);
    ASSERT_TRUE(stalled.ok());
    const std::string partial = Header(100) + std::string(10, '{');
    ASSERT_EQ(send(stalled->get(), partial.data(), partial.size(), MSG_NOSIGNAL), 14);
    auto t0 = Clock::now();
    auto info = Call(socket_, Json{{"op", "info"}});
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(CodeOf(*info), "ok");
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
    auto timeout = ReadFrame(stalled->get(), Clock::now() + std::chrono::seconds(10));
    ASSERT_TRUE(timeout.ok()) << timeout.status();
    EXPECT_NE(timeout->find("timed out"), std::string::npos) << *timeout;
    auto eof = ReadFrame(stalled->get(), Clock::now() + std::chrono::seconds(10));
    EXPECT_EQ(eof.status().code(), absl::StatusCode::kFailedPrecondition) << eof.status();
  }
  // Several requests in one write on one connection, answered in order; an
  // error between them does not end the connection.
  {
    auto r = SendRaw(socket_,
                     Frame(R"({"op":"info"})") + Frame("nope") +
                         Frame(CertifyRequest(RandomHex(20)).dump()),
                     true, std::chrono::seconds(10));
    ASSERT_EQ(r.responses.size(), 3u);
    EXPECT_EQ(CodeOf(r.responses[0]), "ok");
    EXPECT_EQ(CodeOf(r.responses[1]), "InvalidArgument");
    EXPECT_EQ(CodeOf(r.responses[2]), "ok");
  }

  // Still serving: a valid measure and certify work, and the log is intact.
  EXPECT_TRUE(daemon_->Running());
  auto m = Call(socket_, Manifest(launch, RandomHex(32)));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(CodeOf(*m), "ok") << m->dump();
  auto q = Call(socket_, CertifyRequest(RandomHex(64)));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(CodeOf(*q), "ok") << q->dump();
  ExpectServedLogMatchesRegister(launch, {});
  EXPECT_NE(daemon_->stderr_text().find("truncated request"), std::string::npos);
}

}  // namespace
}  // namespace fdattest
