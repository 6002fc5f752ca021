// fdattestd's socket server, through the daemon run as a real process on a
// real swtpm (tests/support/fdattestd_harness.h): eight concurrent clients
// each launching real workloads through the observed launch;
// peer authorisation by uid/gid (SO_PEERCRED); the socket's mode and a second
// daemon on the same socket; hostile frames and requests.
#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attestor/event_log.h"
#include "common/attestor_api.h"
#include "common/cel.h"
#include "common/json.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/support/fdattestd_harness.h"
#include "tests/support/observed_launch.h"

namespace fdattest {
namespace {

using ::fdattest::testing::Call;
using ::fdattest::testing::CallOn;
using ::fdattest::testing::CertifyRequest;
using ::fdattest::testing::Clock;
using ::fdattest::testing::CodeOf;
using ::fdattest::testing::ConnectTo;
using ::fdattest::testing::DigestOf;
using ::fdattest::testing::FdattestdTest;
using ::fdattest::testing::LaunchedRecords;
using ::fdattest::testing::LaunchObserved;
using ::fdattest::testing::ObservedWorkload;
using ::fdattest::testing::RandomBytes;
using ::fdattest::testing::RandomHex;
using ::fdattest::testing::Separator;
using ::fdattest::testing::kNvIndex;

constexpr uid_t kNobody = 65534;

class ServerTest : public FdattestdTest {};

TEST_F(ServerTest, EightConcurrentClientsLoseNothing) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  constexpr int kClients = 8;
  // A manifest, a load observation and a separator each: 30 records.
  constexpr int kLaunchesPerClient = 10;
  std::mutex mu;
  std::map<uint64_t, std::string> acked;  // manifests and separators: recnum -> digest
  std::set<uint64_t> observations;        // load observations (digest from the kernel's view)
  std::map<uint64_t, std::string> acked_launch;  // every record: recnum -> launch id
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
        // An observed launch of a real workload: hold, launch (manifest and
        // load observation), separator, release.
        auto workload = ObservedWorkload::Prepare(launch);
        absl::StatusOr<LaunchedRecords> r =
            workload.ok() ? LaunchObserved(conn->get(), *workload, RandomBytes(16))
                          : absl::StatusOr<LaunchedRecords>(workload.status());
        std::lock_guard<std::mutex> lock(mu);
        if (!r.ok()) {
          errors.push_back(r.status().ToString());
          continue;
        }
        for (uint64_t recnum : {r->manifest, r->observation, r->separator}) {
          if (acked_launch.count(recnum) != 0) {
            errors.push_back(absl::StrCat("recnum twice: ", recnum));
          }
          acked_launch[recnum] = launch;
        }
        acked[r->manifest] = HexEncode(Sha256(workload->ManifestBytes()));
        acked[r->separator] = HexEncode(DigestOf(Separator(launch)));
        observations.insert(r->observation);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(acked_launch.size(), size_t{kClients * kLaunchesPerClient * 3});
  std::cout << "[ concurrency ] " << kClients * kLaunchesPerClient << " observed launches ("
            << acked_launch.size() << " records) from " << kClients
            << " clients in " << absl::StrFormat("%.0f", elapsed) << " ms\n";

  ExpectServedLogMatchesRegister(launch_ids.front(), acked);
  auto cert = Call(socket_, CertifyRequest(RandomHex(16)));
  ASSERT_TRUE(cert.ok());
  const std::string value = (*cert)["register_value"].get<std::string>();

  ASSERT_TRUE(daemon_->Stop().ok());
  auto file = OpenLogFile(*Register::NvIndex(kNvIndex));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), acked_launch.size() + 1);  // + the epoch record
  for (const auto& [recnum, launch] : acked_launch) {
    const CelRecord& r = file->AllRecords().at(recnum);
    EXPECT_EQ(r.content->launch_id, launch);
    if (observations.contains(recnum)) {
      EXPECT_EQ(r.content->type, CelContent::Type::kLaunchObservation);
    } else {
      EXPECT_EQ(HexEncode(r.digest), acked[recnum]);
    }
  }
  EXPECT_EQ(HexEncode(file->expected_value()), value);
  EXPECT_EQ(NvRead(), value);
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

TEST_F(ServerTest, PeerAuthorisationBySoPeercred) {
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

TEST_F(ServerTest, SocketIsOwnerAndGroupOnly) {
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

TEST_F(ServerTest, HostileRequestsGetErrorsAndTheDaemonKeepsServing) {
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

  // Still serving: an observed launch and certify work, and the log is intact.
  EXPECT_TRUE(daemon_->Running());
  auto conn = ConnectTo(socket_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto workload = ObservedWorkload::Prepare(launch);
  ASSERT_TRUE(workload.ok()) << workload.status();
  auto m = LaunchObserved(conn->get(), *workload, RandomBytes(16));
  EXPECT_TRUE(m.ok()) << m.status();
  auto q = Call(socket_, CertifyRequest(RandomHex(64)));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(CodeOf(*q), "ok") << q->dump();
  ExpectServedLogMatchesRegister(launch, {});
  EXPECT_NE(daemon_->stderr_text().find("truncated request"), std::string::npos);
}

}  // namespace
}  // namespace fdattest
