// HeldWorkload: the attested launch's child waits for the launcher before it
// changes anything, reports a failure before its exec through the exec pipe,
// is killed and reaped when the launch is refused, and hands its exit status
// (code or 128+signal) back to the launcher. Runs the real ExecConfined
// (empty root, no_new_privs, filter) with an allow-all filter on Debian's
// static busybox; needs root for the empty root's mount namespace.
#include "launcher/observed_exec.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace fdattest {
namespace {

std::string AllowAll() {
  const sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  return std::string(reinterpret_cast<const char*>(&allow), sizeof(allow));
}

class HeldWorkloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the empty root needs root";
    exe_ = UniqueFd(open("/bin/busybox", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(exe_) << "Debian's busybox-static is a test dependency";
    bpf_ = AllowAll();
  }
  ExecPlan Plan(std::vector<std::string> argv) {
    ExecPlan plan{.exe_fd = exe_.get(), .bpf = bpf_, .argv = std::move(argv)};
    plan.private_fds = {exe_.get()};
    return plan;
  }
  // Where /proc/PID/exe points now.
  static std::string ExeOf(pid_t pid) {
    char buf[4096];
    ssize_t n = readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), buf, sizeof(buf));
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  UniqueFd exe_;
  std::string bpf_;
};

TEST_F(HeldWorkloadTest, ChildWaitsForGoThenExecsAndReportsItsExitCode) {
  absl::StatusOr<HeldWorkload> held = HeldWorkload::Fork(Plan({"busybox", "sh", "-c", "exit 7"}));
  ASSERT_TRUE(held.ok()) << held.status();
  poll(nullptr, 0, 100);
  EXPECT_EQ(ExeOf(held->pid()), ExeOf(getpid())) << "the child went on before Go";
  absl::Status exec = held->GoAndWaitForExec(std::chrono::seconds(10));
  ASSERT_TRUE(exec.ok()) << exec;
  EXPECT_EQ(held->Wait(), 7);
}

TEST_F(HeldWorkloadTest, SignalEndingTheWorkloadIs128PlusSignal) {
  absl::StatusOr<HeldWorkload> held =
      HeldWorkload::Fork(Plan({"busybox", "sh", "-c", "kill -9 $$"}));
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_TRUE(held->GoAndWaitForExec(std::chrono::seconds(10)).ok());
  EXPECT_EQ(held->Wait(), 128 + SIGKILL);
}

TEST_F(HeldWorkloadTest, FailureBeforeTheExecComesBackAsTheError) {
  bpf_ = "not a filter";  // InstallFilter refuses it in the child
  absl::StatusOr<HeldWorkload> held = HeldWorkload::Fork(Plan({"busybox", "true"}));
  ASSERT_TRUE(held.ok()) << held.status();
  absl::Status exec = held->GoAndWaitForExec(std::chrono::seconds(10));
  EXPECT_EQ(exec.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(exec.message().find("whole number of instructions"), std::string::npos) << exec;
}

TEST_F(HeldWorkloadTest, KillEndsAndReapsAHeldChild) {
  absl::StatusOr<HeldWorkload> held = HeldWorkload::Fork(Plan({"busybox", "true"}));
  ASSERT_TRUE(held.ok()) << held.status();
  const pid_t pid = held->pid();
  held->Kill();
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1) << "not reaped";
  EXPECT_EQ(errno, ECHILD);
}

TEST_F(HeldWorkloadTest, DestroyingAnUnreleasedWorkloadKillsIt) {
  pid_t pid = -1;
  {
    absl::StatusOr<HeldWorkload> held = HeldWorkload::Fork(Plan({"busybox", "sleep", "30"}));
    ASSERT_TRUE(held.ok()) << held.status();
    ASSERT_TRUE(held->GoAndWaitForExec(std::chrono::seconds(10)).ok());
    pid = held->pid();
  }
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace fdattest
