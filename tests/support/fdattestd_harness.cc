#include "tests/support/fdattestd_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_format.h"
#include "common/attestor_api.h"
#include "common/cel.h"
#include "common/file_io.h"
#include "tests/support/tpm_test_util.h"

namespace fdattest::testing {

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

absl::Status FdattestdProcess::Start(const std::vector<std::string>& extra) {
  if (pid_ > 0) return absl::InternalError("already running");
  std::vector<std::string> argv = {FDATTESTD_PATH, "--socket",  socket_, "--state-dir",
                                   state_dir_,     "--tcti",    tcti_};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<std::string> env;
  if (!tss2_log_.empty()) env.push_back(absl::StrCat("TSS2_LOG=", tss2_log_));
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

absl::StatusOr<int> FdattestdProcess::Stop() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  kill(pid_, SIGTERM);
  return Reap(std::chrono::seconds(15));
}

void FdattestdProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Reap(std::chrono::seconds(15)).IgnoreError();
}

absl::StatusOr<int> FdattestdProcess::Reap(std::chrono::milliseconds timeout) {
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

bool FdattestdProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  return waitpid(pid_, &status, WNOHANG) == 0;
}

std::string FdattestdProcess::stderr_text() const {
  absl::StatusOr<std::string> text = ReadFileLimited(stderr_path_, 1 << 20);
  return text.ok() ? *text : std::string();
}

bool FdattestdProcess::CanConnect() const {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::copy(socket_.begin(), socket_.end(), addr.sun_path);
  return connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
}

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

Sha256Digest DigestOf(const Json& measure) {
  absl::StatusOr<AttestorRequest> r = AttestorRequest::Parse(measure.dump());
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->content->Digest() : Sha256Digest{};
}

absl::StatusOr<ServedLog> ReplayServed(const Json& records) {
  ServedLog out;
  std::optional<CelReplay> replay;
  for (const Json& j : records) {
    ASSIGN_OR_RETURN(CelRecord r,
                     CelRecord::FromJson(DocumentOf(j)->root(), /*allow_redacted=*/true));
    if (!replay.has_value()) {
      if (r.redacted() || r.content->type != CelContent::Type::kEpoch) {
        return absl::DataLossError("served log does not start with an epoch record");
      }
      replay.emplace(r.reg, r.recnum);
    }
    // The log's rules, as a verifier holds a served log to them.
    RETURN_IF_ERROR(replay->Apply(r));
    out.digests[r.recnum] = HexEncode(r.digest);
  }
  out.replayed = HexEncode(replay.has_value() ? replay->value() : kRegisterResetValue);
  return out;
}

std::string FdattestdTest::NvRead() {
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

void FdattestdTest::ExpectServedLogMatchesRegister(const std::string& launch_id,
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

}  // namespace fdattest::testing
