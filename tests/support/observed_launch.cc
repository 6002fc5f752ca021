#include "tests/support/observed_launch.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/fingerprint.h"
#include "common/sha256.h"
#include "launcher/capabilities.h"
#include "launcher/empty_root.h"
#include "tests/support/fdattestd_harness.h"

namespace fdattest::testing {
namespace {

// In the child, after its fds are in place: what fdlaunch does before the
// filter (launcher/final_exec.cc, launcher/capabilities.h).
bool ConfineLikeTheLauncher() {
  return EnterEmptyRoot().ok() && DropCapabilitiesForExec().ok();
}

absl::StatusOr<FdFingerprint> Declared(int fd, int number, const MountTable& mounts,
                                       const std::string& role, const std::string& access) {
  ASSIGN_OR_RETURN(FdFingerprint fp, FingerprintFd(fd, mounts, false));
  fp.fd = number;
  fp.role = role;
  fp.access = access;
  fp.source = "open";
  return fp;
}

absl::StatusOr<Json> Step(int fd, const char* step, const Json& request) {
  ASSIGN_OR_RETURN(Json response, CallOn(fd, request));
  if (CodeOf(response) != "ok") {
    return absl::InternalError(absl::StrCat(step, " answered ", response.dump()));
  }
  return response;
}

}  // namespace

std::string FileSha256(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  absl::StatusOr<Sha256Digest> d = Sha256OfFile(fd.get());
  return d.ok() ? HexEncode(*d) : "unreadable";
}

absl::StatusOr<ObservedWorkload> ObservedWorkload::Prepare(const std::string& launch_id) {
  ObservedWorkload w;
  w.null_r_ = UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  w.null_w_ = UniqueFd(open("/dev/null", O_WRONLY | O_CLOEXEC));
  w.out_ = UniqueFd(static_cast<int>(syscall(SYS_memfd_create, "workload-out", MFD_CLOEXEC)));
  if (!w.null_r_ || !w.null_w_ || !w.out_) return ErrnoStatus("open the workload's fds", errno);

  ::fdattest::Manifest& m = w.manifest_;
  m.launch_id = launch_id;
  m.time = "2025-01-01T00:00:00Z";
  m.profile_name = "observed-workload";
  m.profile_sha256 = HexEncode(Sha256("observed-workload profile"));
  m.exe_path = FDATTEST_OBSERVED_WORKLOAD;
  m.exe_sha256 = FileSha256(FDATTEST_OBSERVED_WORKLOAD);
  m.argv = {"observed_workload"};
  m.uid = getuid();
  m.gid = getgid();
  m.euid = geteuid();
  m.egid = getegid();
  UniqueFd self(open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (self) m.namespaces = NamespacesAt(self.get());
  m.attested = true;
  m.launcher_version = "test";
  m.launcher_sha256 = FileSha256("/proc/self/exe");
  m.filter.bpf = AllowAllFilter();
  m.filter.on_violation = "kill";
  m.filter.exec_fd = -1;
  ASSIGN_OR_RETURN(MountTable mounts, MountTable::Load());
  ASSIGN_OR_RETURN(FdFingerprint in, Declared(w.null_r_.get(), 0, mounts, "in", "r"));
  ASSIGN_OR_RETURN(FdFingerprint out, Declared(w.out_.get(), 1, mounts, "out", "rw"));
  ASSIGN_OR_RETURN(FdFingerprint err, Declared(w.null_w_.get(), 2, mounts, "err", "w"));
  m.fds = {in, out, err};

  ChildSetup setup{.program = FDATTEST_OBSERVED_WORKLOAD,
                   .filters = {AllowAllFilter()},
                   .fds = {{0, w.null_r_.get()}, {1, w.out_.get()}, {2, w.null_w_.get()}},
                   .before_filters = &ConfineLikeTheLauncher};
  ASSIGN_OR_RETURN(w.child_, HeldChild::Fork(setup));
  return w;
}

std::string ObservedWorkload::ManifestBytes() const {
  absl::StatusOr<std::string> bytes = CanonicalJson(manifest_.ToJson());
  return bytes.ok() ? *bytes : std::string();
}

bool ObservedWorkload::Ran() const {
  char buf[4];
  return pread(out_.get(), buf, sizeof(buf), 0) == 4 && std::string(buf, 4) == "RUN\n";
}

bool ObservedWorkload::WaitRan(std::chrono::milliseconds timeout) const {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!Ran()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

Json HoldRequest(const std::string& launch_id, int64_t pid) {
  return Json{{"op", "hold"}, {"launch_id", launch_id}, {"pid", pid}};
}
Json LaunchRequest(const std::string& launch_id, const std::string& manifest_bytes,
                   const std::string& nonce) {
  return Json{{"op", "launch"},
              {"launch_id", launch_id},
              {"manifest", Base64Encode(manifest_bytes)},
              {"nonce", Base64Encode(nonce)}};
}
Json ReleaseRequest(const std::string& launch_id) {
  return Json{{"op", "release"}, {"launch_id", launch_id}};
}
Json ReattestRequest(const std::string& launch_id, const std::string& nonce) {
  return Json{{"op", "reattest"}, {"launch_id", launch_id}, {"nonce", Base64Encode(nonce)}};
}

absl::StatusOr<Json> HoldAndLaunch(int fd, ObservedWorkload& workload, const std::string& nonce) {
  ASSIGN_OR_RETURN(Json held, Step(fd, "hold", HoldRequest(workload.launch_id(), workload.pid())));
  if (held["observing"] != true) return absl::InternalError("hold: not observing");
  RETURN_IF_ERROR(workload.child().Go());
  if (!workload.child().WaitExecuted()) {
    return absl::InternalError("the workload died before its exec");
  }
  return Step(fd, "launch", LaunchRequest(workload.launch_id(), workload.ManifestBytes(), nonce));
}

absl::StatusOr<LaunchedRecords> LaunchObserved(int fd, ObservedWorkload& workload,
                                               const std::string& nonce) {
  ASSIGN_OR_RETURN(Json launched, HoldAndLaunch(fd, workload, nonce));
  ASSIGN_OR_RETURN(Json separated, Step(fd, "separator", Separator(workload.launch_id())));
  RETURN_IF_ERROR(Step(fd, "release", ReleaseRequest(workload.launch_id())).status());
  return LaunchedRecords{.manifest = launched["manifest_recnum"].get<uint64_t>(),
                         .observation = launched["observation_recnum"].get<uint64_t>(),
                         .separator = separated["recnum"].get<uint64_t>()};
}

}  // namespace fdattest::testing
