// The kernel observer on real processes (needs root: ptrace of a process
// set up as a launcher's child, pidfd_getfd, ns_last_pid): a child held at
// its exec shows exactly the filter bytes, fds, no_new_privs and executable
// it was given; two filters are both reported; an undeclared fd shows up; a
// process that is not the peer's child is refused; an exited process is
// "gone"; a pid reused by another process is never read through the old
// pidfd; the socket peer is this process and its executable's digest.
#include "attestor/kernel_observer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/fingerprint.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "tests/support/held_child.h"

namespace fdattest {
namespace {

using ::fdattest::testing::AllowAllAfterALoad;
using ::fdattest::testing::AllowAllFilter;
using ::fdattest::testing::ChildSetup;
using ::fdattest::testing::HeldChild;

ObserveDeadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(5); }

std::string FileDigest(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  absl::StatusOr<Sha256Digest> d = Sha256OfFile(fd.get());
  return d.ok() ? HexEncode(*d) : "unreadable";
}

std::string Sha256Hex(const std::string& bytes) { return HexEncode(Sha256(bytes)); }

// What the observation must show for the parent's `fd` at `number`: the
// launcher's fingerprint of the same open description, projected.
ObservedFd Expected(int fd, int number) {
  MountTable none;
  absl::StatusOr<FdFingerprint> fp = FingerprintFd(fd, none, false, false);
  EXPECT_TRUE(fp.ok()) << fp.status();
  fp->fd = number;
  return ObservedFdOf(*fp);
}

// The line of /proc/PID/status starting with `key`, or "".
std::string StatusLine(pid_t pid, const std::string& key) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) return line;
  }
  return "";
}

// Polls (up to 5 s) until `pid` sleeps.
bool WaitUntilSleeping(pid_t pid) {
  for (int i = 0; i < 2500; ++i) {
    if (StatusLine(pid, "State:").find("S (sleeping)") != std::string::npos) return true;
    usleep(2000);
  }
  return false;
}

UniqueFd SelfPidfd() { return UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0))); }

// Forks the child, holds it, lets it go and waits for its exec stop.
struct Held {
  HeldChild child;
  TracedProcess traced;
};
absl::StatusOr<Held> HoldAtExec(const ChildSetup& setup) {
  ASSIGN_OR_RETURN(HeldChild child, HeldChild::Fork(setup));
  UniqueFd self = SelfPidfd();
  ASSIGN_OR_RETURN(TracedProcess traced, TracedProcess::SeizeChild(child.pid(), self.get()));
  RETURN_IF_ERROR(child.Go());
  if (!child.WaitExecuted()) return absl::InternalError("the child died before its exec");
  RETURN_IF_ERROR(traced.WaitForExec(Soon()));
  return Held{std::move(child), std::move(traced)};
}

TEST(KernelObserverTest, ChildHeldAtExecShowsWhatItWasGiven) {
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd mem(static_cast<int>(syscall(SYS_memfd_create, "observed", MFD_CLOEXEC)));
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd mine(sv[0]), theirs(sv[1]);
  ChildSetup setup{.program = FDATTEST_OBSERVED_WORKLOAD,
                   .filters = {AllowAllFilter()},
                   .fds = {{0, null.get()}, {1, mem.get()}, {2, theirs.get()}}};
  absl::StatusOr<Held> held = HoldAtExec(setup);
  ASSERT_TRUE(held.ok()) << held.status();

  absl::StatusOr<KernelObservation> o = held->traced.Observe();
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->filter_sha256.size(), 1u);
  EXPECT_EQ(o->filter_sha256[0], Sha256Hex(AllowAllFilter()));
  EXPECT_EQ(o->seccomp_mode, 2);
  EXPECT_TRUE(o->no_new_privs);
  EXPECT_EQ(o->exe_sha256, FileDigest(FDATTEST_OBSERVED_WORKLOAD));
  ASSERT_EQ(o->fds.size(), 3u);
  EXPECT_EQ(o->fds[0], Expected(null.get(), 0));
  EXPECT_EQ(o->fds[1], Expected(mem.get(), 1));
  EXPECT_EQ(o->fds[2], Expected(theirs.get(), 2));
  EXPECT_EQ(o->fds[0].open_mode, "r");
  EXPECT_EQ(o->fds[1].open_mode, "rw");
  ASSERT_TRUE(o->fds[2].socket.has_value());
  EXPECT_EQ(o->fds[2].socket->peer_pid, getpid());
  char ns[128];
  ssize_t n = readlink("/proc/self/ns/net", ns, sizeof(ns));
  EXPECT_EQ(o->namespaces.at("net"), std::string(ns, n > 0 ? n : 0));

  // Held at the exec: the workload has not run its first instruction.
  char buf[8];
  EXPECT_EQ(pread(mem.get(), buf, sizeof(buf), 0), 0);
  // Released, it runs; stopped again, it shows the same state.
  ASSERT_TRUE(held->traced.Detach().ok());
  for (int i = 0; i < 500 && pread(mem.get(), buf, sizeof(buf), 0) == 0; ++i) usleep(2000);
  EXPECT_EQ(pread(mem.get(), buf, 4, 0), 4);
  absl::StatusOr<TracedProcess> again = TracedProcess::SeizeAndStop(held->traced.pidfd(), Soon());
  ASSERT_TRUE(again.ok()) << again.status();
  absl::StatusOr<KernelObservation> later = again->Observe();
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(*later, *o);
  ASSERT_TRUE(again->Detach().ok());
  EXPECT_FALSE(ProcessGone(held->traced.pidfd()));
}

TEST(KernelObserverTest, TwoFiltersAreBothReportedNewestFirst) {
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  ChildSetup setup{.program = FDATTEST_OBSERVED_WORKLOAD,
                   .filters = {AllowAllFilter(), AllowAllAfterALoad()},
                   .fds = {{0, null.get()}, {1, null.get()}, {2, null.get()}}};
  absl::StatusOr<Held> held = HoldAtExec(setup);
  ASSERT_TRUE(held.ok()) << held.status();
  absl::StatusOr<KernelObservation> o = held->traced.Observe();
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->filter_sha256.size(), 2u);
  EXPECT_EQ(o->filter_sha256[0], Sha256Hex(AllowAllAfterALoad()));
  EXPECT_EQ(o->filter_sha256[1], Sha256Hex(AllowAllFilter()));
  held->traced.Kill();
}

TEST(KernelObserverTest, AnUndeclaredFdShowsUp) {
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  UniqueFd extra(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  ChildSetup setup{.program = FDATTEST_OBSERVED_WORKLOAD,
                   .filters = {AllowAllFilter()},
                   .fds = {{0, null.get()}, {1, null.get()}, {2, null.get()}, {7, extra.get()}}};
  absl::StatusOr<Held> held = HoldAtExec(setup);
  ASSERT_TRUE(held.ok()) << held.status();
  absl::StatusOr<KernelObservation> o = held->traced.Observe();
  ASSERT_TRUE(o.ok()) << o.status();
  ASSERT_EQ(o->fds.size(), 4u);
  EXPECT_EQ(o->fds[3], Expected(extra.get(), 7));
  held->traced.Kill();
}

TEST(KernelObserverTest, NoNewPrivsUnsetIsSeen) {
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  ChildSetup setup{.program = FDATTEST_OBSERVED_WORKLOAD,
                   .filters = {AllowAllFilter()},
                   .fds = {{0, null.get()}},
                   .no_new_privs = false};
  absl::StatusOr<Held> held = HoldAtExec(setup);
  ASSERT_TRUE(held.ok()) << held.status();
  absl::StatusOr<KernelObservation> o = held->traced.Observe();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_FALSE(o->no_new_privs);
  EXPECT_NE(o->cap_effective, 0u);  // root, no capability dropped
  held->traced.Kill();
}

TEST(KernelObserverTest, SeizeChildRefusesAProcessThatIsNotThePeersChild) {
  // A grandchild: the child forks it, reports its pid and waits.
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
  UniqueFd self = SelfPidfd();
  absl::StatusOr<TracedProcess> t = TracedProcess::SeizeChild(grandchild, self.get());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kPermissionDenied) << t.status();
  absl::StatusOr<TracedProcess> init = TracedProcess::SeizeChild(1, self.get());
  EXPECT_EQ(init.status().code(), absl::StatusCode::kPermissionDenied) << init.status();
  kill(grandchild, SIGKILL);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(p[0]);
  close(p[1]);
}

TEST(KernelObserverTest, SeizeAndStopOnAnExitedProcessSaysGone) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    pause();
    _exit(0);
  }
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  ASSERT_TRUE(pidfd);
  kill(pid, SIGKILL);
  siginfo_t info;
  ASSERT_EQ(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);  // a zombie now
  EXPECT_TRUE(ProcessGone(pidfd.get()));
  absl::StatusOr<TracedProcess> zombie = TracedProcess::SeizeAndStop(pidfd.get(), Soon());
  EXPECT_EQ(zombie.status().code(), absl::StatusCode::kNotFound) << zombie.status();
  waitpid(pid, nullptr, 0);  // reaped
  absl::StatusOr<TracedProcess> reaped = TracedProcess::SeizeAndStop(pidfd.get(), Soon());
  EXPECT_EQ(reaped.status().code(), absl::StatusCode::kNotFound) << reaped.status();
  EXPECT_EQ(ExecutableDigestOf(pidfd.get()).status().code(), absl::StatusCode::kNotFound);
}

TEST(KernelObserverTest, AReusedPidIsNeverObservedThroughTheOldPidfd) {
  pid_t old_pid = fork();
  ASSERT_GE(old_pid, 0);
  if (old_pid == 0) {
    pause();
    _exit(0);
  }
  UniqueFd old_pidfd(static_cast<int>(syscall(SYS_pidfd_open, old_pid, 0)));
  ASSERT_TRUE(old_pidfd);
  kill(old_pid, SIGKILL);
  waitpid(old_pid, nullptr, 0);
  // Force the next fork onto the same pid (root; retried against other
  // processes forking meanwhile).
  pid_t reused = -1;
  for (int attempt = 0; attempt < 50 && reused != old_pid; ++attempt) {
    if (reused > 0) {
      kill(reused, SIGKILL);
      waitpid(reused, nullptr, 0);
    }
    std::ofstream("/proc/sys/kernel/ns_last_pid") << (old_pid - 1);
    reused = fork();
    ASSERT_GE(reused, 0);
    if (reused == 0) {
      pause();
      _exit(0);
    }
  }
  ASSERT_EQ(reused, old_pid) << "could not make the kernel reuse pid " << old_pid;
  // The new process asleep in pause() first, so its state afterwards shows
  // whether the observer stopped it.
  ASSERT_TRUE(WaitUntilSleeping(reused)) << "pid " << reused << " never reached pause()";
  absl::StatusOr<TracedProcess> t = TracedProcess::SeizeAndStop(old_pidfd.get(), Soon());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound) << t.status();
  EXPECT_EQ(ExecutableDigestOf(old_pidfd.get()).status().code(), absl::StatusCode::kNotFound);
  // The new process was left alone: not traced, not stopped.
  EXPECT_EQ(StatusLine(reused, "TracerPid:"), "TracerPid:\t0");
  std::string state = StatusLine(reused, "State:");
  EXPECT_NE(state.find("S (sleeping)"), std::string::npos) << state;
  kill(reused, SIGKILL);
  waitpid(reused, nullptr, 0);
}

TEST(KernelObserverTest, IdentifyPeerNamesThisProcessAndItsExecutable) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  absl::StatusOr<PeerProcess> peer = IdentifyPeer(a.get());
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(peer->pid, getpid());
  EXPECT_EQ(peer->uid, getuid());
  EXPECT_EQ(peer->gid, getgid());
  absl::StatusOr<std::string> digest = ExecutableDigestOf(peer->pidfd.get());
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*digest, FileDigest("/proc/self/exe"));
}

TEST(KernelObserverTest, ProbeSucceedsOnThisKernel) {
  absl::Status probe = ProbeKernelObservation();
  EXPECT_TRUE(probe.ok()) << probe;
}

}  // namespace
}  // namespace fdattest
