// Runs fdattestd as a real process (fork/execve) on a private swtpm and talks
// to it as a client would: the process driver, framed JSON calls on its
// socket, the API's request builders, a strict replay of a served log, and
// the gtest fixture that gives each test its own swtpm, state directory and
// socket. Test-only. Not thread-safe, except the client calls and the random
// helpers, which concurrent client threads use.
#ifndef FDATTEST_TESTS_SUPPORT_FDATTESTD_HARNESS_H_
#define FDATTEST_TESTS_SUPPORT_FDATTESTD_HARNESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "attestor/attestor.h"
#include "attestor/event_log.h"
#include "attestor/tpm_register.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/support/swtpm.h"

namespace fdattest::testing {

using Clock = std::chrono::steady_clock;

inline constexpr uint32_t kNvIndex = kDefaultNvRegisterIndex;
inline constexpr auto kStartTimeout = std::chrono::seconds(30);
inline constexpr auto kCallTimeout = std::chrono::seconds(10);

// Random bytes and their hex (a process-wide generator behind a mutex).
std::mt19937_64& Rng();
std::string RandomBytes(size_t n);
std::string RandomHex(size_t bytes);
std::string HexOf(const uint8_t* data, size_t size);

// One fdattestd process serving `socket` on `state_dir`; killed on
// destruction.
class FdattestdProcess {
 public:
  FdattestdProcess(std::string socket, std::string state_dir, std::string tcti,
                   std::string stderr_path)
      : socket_(std::move(socket)),
        state_dir_(std::move(state_dir)),
        tcti_(std::move(tcti)),
        stderr_path_(std::move(stderr_path)) {}
  ~FdattestdProcess() { Kill(); }
  FdattestdProcess(const FdattestdProcess&) = delete;
  FdattestdProcess& operator=(const FdattestdProcess&) = delete;

  // Starts fdattestd and waits (bounded) until it accepts connections (OK)
  // or exits (FailedPrecondition; exit_code() and stderr_text() tell why).
  absl::Status Start(const std::vector<std::string>& extra = {});
  // SIGTERM and wait (bounded); the exit code.
  absl::StatusOr<int> Stop();
  // SIGKILL and reap.
  void Kill();
  absl::StatusOr<int> Reap(std::chrono::milliseconds timeout);
  bool Running();

  // Leaves TSS2_LOG unset (tpm2-tss's default logging: errors and warnings)
  // for the next Start; by default the daemon starts with TSS2_LOG=all+none.
  void UseDefaultTssLogging() { tss2_log_.clear(); }

  pid_t pid() const { return pid_; }
  int exit_code() const { return exit_code_; }
  std::string stderr_text() const;

 private:
  bool CanConnect() const;

  std::string socket_, state_dir_, tcti_, stderr_path_;
  std::string tss2_log_ = "all+none";
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// A client: one frame out, one frame back, within kCallTimeout.
absl::StatusOr<UniqueFd> ConnectTo(const std::string& path);
absl::StatusOr<Json> CallOnRaw(int fd, absl::string_view payload);
absl::StatusOr<Json> CallOn(int fd, const Json& request);
absl::StatusOr<Json> Call(const std::string& socket, const Json& request);

// The error code of a response, or "ok".
std::string CodeOf(const Json& response);

Json Manifest(const std::string& launch_id, const std::string& sha);
Json Separator(const std::string& launch_id);
Json CertifyRequest(const std::string& qualifying_hex);
Json LogRequest(const std::string& launch_id);

// The digest a measure request extends.
Sha256Digest DigestOf(const Json& measure);

struct ServedLog {
  std::map<uint64_t, std::string> digests;  // recnum -> hex digest
  std::string replayed;                     // hex
};

// Parses a served log strictly and replays it from zero (it starts with the
// current epoch's record).
absl::StatusOr<ServedLog> ReplayServed(const Json& records);

// A private swtpm, a state directory and a socket path for each test, and a
// daemon (not started) on them.
class FdattestdTest : public ::testing::Test {
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

  std::unique_ptr<FdattestdProcess> NewDaemon(const std::string& state_dir) {
    return std::make_unique<FdattestdProcess>(socket_, state_dir, tpm_->tcti(),
                                              absl::StrCat(tpm_->dir(), "/daemon.err"));
  }
  std::string LogPath() const { return absl::StrCat(state_dir_, "/", kEventLogFile); }

  // The NV register as tpm2_nvread sees it (the daemon must be stopped: one
  // TPM client at a time).
  std::string NvRead();

  // The log file's replay (opened locally, so the daemon must be stopped).
  absl::StatusOr<EventLog> OpenLogFile(const Register& reg) {
    return EventLog::Open(LogPath(), reg);
  }

  // Checks through the API that the served log contains every acknowledged
  // record and replays to the certified register value.
  void ExpectServedLogMatchesRegister(const std::string& launch_id,
                                      const std::map<uint64_t, std::string>& acked);

  std::unique_ptr<Swtpm> tpm_;
  std::string state_dir_;
  std::string socket_;
  std::unique_ptr<FdattestdProcess> daemon_;
};

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_SUPPORT_FDATTESTD_HARNESS_H_
