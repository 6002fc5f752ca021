// The observed launch and re-attestation through fdattestd as a real process
// on a real swtpm, with a real workload the test launches as fdlaunch does
// (tests/support/observed_launch.h): hold -> launch -> separator -> release
// records the manifest, the kernel's load observation (naming this test
// binary as the launcher) and the separator, replaying to the register, and
// the workload runs its first instruction only after the release; a manifest
// the kernel contradicts is refused with the field, records nothing and the
// workload dies; a connection closed before the release kills its workload;
// re-attestation records an alive observation bound to its nonce, says
// "gone" after the exit, never accepts a nonce twice; a release before the
// separator and a hold of a process that is not the peer's child are refused.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "common/base64.h"
#include "common/cel.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/observation.h"
#include "gtest/gtest.h"
#include "tests/support/fdattestd_harness.h"
#include "tests/support/observed_launch.h"

namespace fdattest {
namespace {

using ::fdattest::testing::Call;
using ::fdattest::testing::CallOn;
using ::fdattest::testing::CertifyRequest;
using ::fdattest::testing::CodeOf;
using ::fdattest::testing::ConnectTo;
using ::fdattest::testing::FdattestdTest;
using ::fdattest::testing::FileSha256;
using ::fdattest::testing::HoldAndLaunch;
using ::fdattest::testing::HoldRequest;
using ::fdattest::testing::LaunchedRecords;
using ::fdattest::testing::LaunchObserved;
using ::fdattest::testing::LaunchRequest;
using ::fdattest::testing::LogRequest;
using ::fdattest::testing::ObservedWorkload;
using ::fdattest::testing::RandomBytes;
using ::fdattest::testing::RandomHex;
using ::fdattest::testing::ReattestRequest;
using ::fdattest::testing::ReleaseRequest;
using ::fdattest::testing::ReplayServed;
using ::fdattest::testing::Separator;

constexpr auto kReapTimeout = std::chrono::seconds(5);

class ObservedLaunchOpsTest : public FdattestdTest {
 protected:
  void SetUp() override {
    FdattestdTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  }

  std::string RegisterValue() {
    auto cert = Call(socket_, CertifyRequest(RandomHex(32)));
    EXPECT_TRUE(cert.ok() && CodeOf(*cert) == "ok");
    return cert.ok() ? (*cert)["register_value"].get<std::string>() : "";
  }

  // The launch's served log, replayed under the log's rules and checked
  // against a fresh certification: its records with content, by recnum.
  std::map<uint64_t, CelContent> ServedContents(const std::string& launch_id) {
    std::map<uint64_t, CelContent> out;
    const std::string value = RegisterValue();
    auto log = Call(socket_, LogRequest(launch_id));
    EXPECT_TRUE(log.ok() && CodeOf(*log) == "ok") << (log.ok() ? log->dump() : "");
    if (!log.ok()) return out;
    auto served = ReplayServed((*log)["records"]);
    EXPECT_TRUE(served.ok()) << served.status();
    if (served.ok()) {
      EXPECT_EQ(served->replayed, value);
    }
    for (const Json& j : (*log)["records"]) {
      auto r = CelRecord::FromJson(DocumentOf(j)->root(), true);
      if (r.ok() && r->content.has_value()) out.emplace(r->recnum, *r->content);
    }
    return out;
  }
};

bool KilledBySigkill(const std::optional<int>& status) {
  return status.has_value() && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL;
}

TEST_F(ObservedLaunchOpsTest, LaunchRecordsTheKernelsObservationAndReleasesOnlyAfterTheSeparator) {
  auto conn = ConnectTo(socket_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string launch = RandomHex(16), nonce = RandomBytes(32);
  auto w = ObservedWorkload::Prepare(launch);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string manifest_bytes = w->ManifestBytes();
  ASSERT_TRUE(Manifest::Parse(manifest_bytes).ok()) << Manifest::Parse(manifest_bytes).status();

  auto launched = HoldAndLaunch(conn->get(), *w, nonce);
  ASSERT_TRUE(launched.ok()) << launched.status() << "\n" << daemon_->stderr_text();
  const uint64_t manifest_recnum = (*launched)["manifest_recnum"].get<uint64_t>();
  EXPECT_EQ((*launched)["observation_recnum"].get<uint64_t>(), manifest_recnum + 1);
  EXPECT_FALSE(w->Ran()) << "the workload ran before its release";
  auto sep = CallOn(conn->get(), Separator(launch));
  ASSERT_TRUE(sep.ok() && CodeOf(*sep) == "ok") << (sep.ok() ? sep->dump() : "");
  EXPECT_EQ((*sep)["recnum"].get<uint64_t>(), manifest_recnum + 2);

  // Before the release: the log and the register hold the observation, and
  // the workload has still not run.
  std::map<uint64_t, CelContent> records = ServedContents(launch);
  ASSERT_EQ(records.count(manifest_recnum), 1u);
  EXPECT_EQ(records.at(manifest_recnum).type, CelContent::Type::kLaunchManifest);
  EXPECT_EQ(HexEncode(records.at(manifest_recnum).manifest_sha256),
            HexEncode(Sha256(manifest_bytes)));
  ASSERT_EQ(records.count(manifest_recnum + 1), 1u);
  const CelContent& load = records.at(manifest_recnum + 1);
  EXPECT_EQ(load.type, CelContent::Type::kLaunchObservation);
  EXPECT_EQ(load.observation_kind, CelContent::ObservationKind::kLoad);
  EXPECT_EQ(load.nonce, nonce);
  EXPECT_EQ(load.peer_exe_sha256, FileSha256("/proc/self/exe"));
  ASSERT_TRUE(load.observation.has_value());
  EXPECT_TRUE(load.not_observed.empty());
  EXPECT_TRUE(CheckObservationMatchesManifest(*load.observation, w->manifest()).ok());
  EXPECT_EQ(load.observation->exe_sha256, FileSha256(FDATTEST_OBSERVED_WORKLOAD));
  EXPECT_EQ(records.at(manifest_recnum + 2).type, CelContent::Type::kLaunchSeparator);
  EXPECT_FALSE(w->Ran()) << "the workload ran before its release";

  auto released = CallOn(conn->get(), ReleaseRequest(launch));
  ASSERT_TRUE(released.ok() && CodeOf(*released) == "ok") << (released.ok() ? released->dump() : "");
  EXPECT_TRUE(w->WaitRan(std::chrono::seconds(5))) << "the released workload never ran";
  // Released: closing the connection leaves it running.
  conn->reset();
  EXPECT_EQ(w->child().ReapWithin(std::chrono::milliseconds(200)), std::nullopt);
}

TEST_F(ObservedLaunchOpsTest, AManifestTheKernelContradictsIsRefusedAndNothingIsRecorded) {
  auto conn = ConnectTo(socket_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string before = RegisterValue();
  const std::string launch = RandomHex(16);
  auto w = ObservedWorkload::Prepare(launch);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string claimed = HexEncode(Sha256("another program"));
  w->manifest().exe_sha256 = claimed;

  auto launched = HoldAndLaunch(conn->get(), *w, RandomBytes(16));
  ASSERT_FALSE(launched.ok());
  const std::string message(launched.status().message());
  EXPECT_NE(message.find("FailedPrecondition"), std::string::npos) << message;
  EXPECT_NE(message.find(absl::StrCat("observation refused: exe_sha256: manifest ", claimed,
                                      ", kernel ", FileSha256(FDATTEST_OBSERVED_WORKLOAD))),
            std::string::npos)
      << message;
  EXPECT_TRUE(KilledBySigkill(w->child().ReapWithin(kReapTimeout)));
  EXPECT_FALSE(w->Ran());
  // Nothing appended, the register unchanged.
  auto log = CallOn(conn->get(), LogRequest(launch));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(CodeOf(*log), "FailedPrecondition") << log->dump();
  EXPECT_EQ(RegisterValue(), before);
  // The refused launch is gone from the attestor: no separator, no release.
  auto sep = CallOn(conn->get(), Separator(launch));
  ASSERT_TRUE(sep.ok());
  EXPECT_EQ(CodeOf(*sep), "FailedPrecondition") << sep->dump();
  auto rel = CallOn(conn->get(), ReleaseRequest(launch));
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(CodeOf(*rel), "FailedPrecondition") << rel->dump();
  EXPECT_EQ(RegisterValue(), before);
}

TEST_F(ObservedLaunchOpsTest, ClosingTheConnectionBeforeReleaseKillsTheHeldWorkload) {
  {
    // Held, not yet launched.
    auto conn = ConnectTo(socket_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto w = ObservedWorkload::Prepare(RandomHex(16));
    ASSERT_TRUE(w.ok()) << w.status();
    auto held = CallOn(conn->get(), HoldRequest(w->launch_id(), w->pid()));
    ASSERT_TRUE(held.ok() && CodeOf(*held) == "ok") << (held.ok() ? held->dump() : "");
    ASSERT_TRUE(w->child().Go().ok());
    ASSERT_TRUE(w->child().WaitExecuted());
    conn->reset();
    EXPECT_TRUE(KilledBySigkill(w->child().ReapWithin(kReapTimeout)));
    EXPECT_FALSE(w->Ran());
  }
  {
    // Launched and separated, not released.
    auto conn = ConnectTo(socket_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto w = ObservedWorkload::Prepare(RandomHex(16));
    ASSERT_TRUE(w.ok()) << w.status();
    auto launched = HoldAndLaunch(conn->get(), *w, "");
    ASSERT_TRUE(launched.ok()) << launched.status();
    auto sep = CallOn(conn->get(), Separator(w->launch_id()));
    ASSERT_TRUE(sep.ok() && CodeOf(*sep) == "ok");
    conn->reset();
    EXPECT_TRUE(KilledBySigkill(w->child().ReapWithin(kReapTimeout)));
    EXPECT_FALSE(w->Ran());
    // Never released: nothing to re-attest.
    auto r = Call(socket_, ReattestRequest(w->launch_id(), RandomBytes(16)));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(CodeOf(*r), "FailedPrecondition") << r->dump();
    EXPECT_NE(r->dump().find("no live launch"), std::string::npos) << r->dump();
  }
}

TEST_F(ObservedLaunchOpsTest, ReattestRecordsAnAliveObservationOnceThenGoneAfterExit) {
  auto conn = ConnectTo(socket_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string launch = RandomHex(16), launch_nonce = RandomBytes(32);
  auto w = ObservedWorkload::Prepare(launch);
  ASSERT_TRUE(w.ok()) << w.status();
  absl::StatusOr<LaunchedRecords> launched = LaunchObserved(conn->get(), *w, launch_nonce);
  ASSERT_TRUE(launched.ok()) << launched.status();
  ASSERT_TRUE(w->WaitRan(std::chrono::seconds(5)));
  conn->reset();

  // From another connection, on a fresh nonce.
  const std::string nonce = RandomBytes(32);
  auto alive = Call(socket_, ReattestRequest(launch, nonce));
  ASSERT_TRUE(alive.ok()) << alive.status();
  ASSERT_EQ(CodeOf(*alive), "ok") << alive->dump();
  EXPECT_EQ((*alive)["gone"], false);
  EXPECT_EQ(Base64Decode((*alive)["manifest"].get<std::string>()).value(), w->ManifestBytes());
  const uint64_t recnum = (*alive)["recnum"].get<uint64_t>();
  EXPECT_GT(recnum, launched->separator);
  std::map<uint64_t, CelContent> records = ServedContents(launch);
  ASSERT_EQ(records.count(recnum), 1u);
  const CelContent& record = records.at(recnum);
  EXPECT_EQ(record.type, CelContent::Type::kLaunchObservation);
  EXPECT_EQ(record.observation_kind, CelContent::ObservationKind::kAlive);
  EXPECT_EQ(record.nonce, nonce);
  EXPECT_EQ(record.peer_exe_sha256, FileSha256("/proc/self/exe"));
  ASSERT_TRUE(record.observation.has_value());
  ASSERT_TRUE(records.at(launched->observation).observation.has_value());
  EXPECT_TRUE(CheckObservationUnchanged(*record.observation,
                                        *records.at(launched->observation).observation,
                                        w->manifest())
                  .ok());
  // The workload keeps running after it was observed again.
  EXPECT_EQ(w->child().ReapWithin(std::chrono::milliseconds(100)), std::nullopt);

  // A nonce is never usable twice: neither this one nor the launch's.
  const std::string value = RegisterValue();
  for (const std::string& used : {nonce, launch_nonce}) {
    auto again = Call(socket_, ReattestRequest(launch, used));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(CodeOf(*again), "FailedPrecondition") << again->dump();
    EXPECT_NE(again->dump().find("nonce already used"), std::string::npos) << again->dump();
  }
  EXPECT_EQ(RegisterValue(), value);

  // Exited: "gone", a result; recorded nothing; then unknown.
  ASSERT_EQ(kill(w->pid(), SIGKILL), 0);
  ASSERT_TRUE(KilledBySigkill(w->child().ReapWithin(kReapTimeout)));
  auto gone = Call(socket_, ReattestRequest(launch, RandomBytes(32)));
  ASSERT_TRUE(gone.ok());
  ASSERT_EQ(CodeOf(*gone), "ok") << gone->dump();
  EXPECT_EQ((*gone)["gone"], true);
  EXPECT_EQ(RegisterValue(), value);
  auto unknown = Call(socket_, ReattestRequest(launch, RandomBytes(32)));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(CodeOf(*unknown), "FailedPrecondition") << unknown->dump();
}

TEST_F(ObservedLaunchOpsTest, ReleaseBeforeTheSeparatorIsRefused) {
  auto conn = ConnectTo(socket_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto w = ObservedWorkload::Prepare(RandomHex(16));
  ASSERT_TRUE(w.ok()) << w.status();
  auto launched = HoldAndLaunch(conn->get(), *w, RandomBytes(8));
  ASSERT_TRUE(launched.ok()) << launched.status();
  auto early = CallOn(conn->get(), ReleaseRequest(w->launch_id()));
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(CodeOf(*early), "FailedPrecondition") << early->dump();
  EXPECT_NE(early->dump().find("launch_separator"), std::string::npos) << early->dump();
  EXPECT_FALSE(w->Ran());
  // Still held: the separator and then the release go through.
  auto sep = CallOn(conn->get(), Separator(w->launch_id()));
  ASSERT_TRUE(sep.ok() && CodeOf(*sep) == "ok") << (sep.ok() ? sep->dump() : "");
  EXPECT_FALSE(w->Ran());
  auto released = CallOn(conn->get(), ReleaseRequest(w->launch_id()));
  ASSERT_TRUE(released.ok() && CodeOf(*released) == "ok");
  EXPECT_TRUE(w->WaitRan(std::chrono::seconds(5)));
}

TEST_F(ObservedLaunchOpsTest, HoldOfAProcessThatIsNotThePeersChildIsRefused) {
  auto conn = ConnectTo(socket_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  // This test's own child, asked for by a connection whose peer is this
  // process, is accepted below; init, the daemon's parent-less peers and a
  // grandchild are not.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pid_t grandchild = fork();
    if (grandchild == 0) {
      pause();
      _exit(0);
    }
    if (write(p[1], &grandchild, sizeof(grandchild)) != sizeof(grandchild)) _exit(1);
    pause();
    _exit(0);
  }
  pid_t grandchild = 0;
  ASSERT_EQ(read(p[0], &grandchild, sizeof(grandchild)), static_cast<ssize_t>(sizeof(grandchild)));
  for (pid_t pid : {grandchild, pid_t{1}}) {
    auto r = CallOn(conn->get(), HoldRequest(RandomHex(16), pid));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(CodeOf(*r), "PermissionDenied") << pid << ": " << r->dump();
  }
  // The grandchild was left alone: not traced.
  std::string status = ReadFileLimited(absl::StrCat("/proc/", grandchild, "/status"), 1 << 16).value();
  EXPECT_NE(status.find("TracerPid:\t0\n"), std::string::npos) << status;
  kill(grandchild, SIGKILL);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(p[0]);
  close(p[1]);

  // A launch id already in the log is not new.
  auto w = ObservedWorkload::Prepare(RandomHex(16));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(LaunchObserved(conn->get(), *w, "").ok());
  auto w2 = ObservedWorkload::Prepare(w->launch_id());
  ASSERT_TRUE(w2.ok()) << w2.status();
  auto reused = CallOn(conn->get(), HoldRequest(w->launch_id(), w2->pid()));
  ASSERT_TRUE(reused.ok());
  EXPECT_EQ(CodeOf(*reused), "FailedPrecondition") << reused->dump();
}

}  // namespace
}  // namespace fdattest
