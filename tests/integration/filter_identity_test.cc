// What runs is what the manifest says: the seccomp filter read back from the
// live, confined workload with PTRACE_SECCOMP_GET_FILTER is byte-for-byte the
// filter in the manifest and in --filter-out, and /proc/PID/exe of the live
// workload hashes to the manifest's exe digest. fdlaunch execs in place, so
// the pid we start fdlaunch as is the workload's pid.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <sys/ptrace.h>

#include <fstream>
#include <memory>

#include "common/base64.h"
#include "tests/integration/launch_util.h"

namespace fdattest::integration {
namespace {

// A ptrace-stopped process, detached (and so resumed) on destruction.
class PtraceStop {
 public:
  static std::unique_ptr<PtraceStop> Seize(pid_t pid) {
    if (ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) != 0) return nullptr;
    auto stop = std::unique_ptr<PtraceStop>(new PtraceStop(pid));
    if (ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) != 0) return nullptr;
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    for (;;) {
      int status = 0;
      pid_t r = waitpid(pid, &status, WNOHANG | __WALL);
      if (r == pid && WIFSTOPPED(status)) return stop;
      if (r == pid || (r < 0 && errno != EINTR)) return nullptr;  // it ended
      if (std::chrono::steady_clock::now() >= deadline) return nullptr;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~PtraceStop() { ptrace(PTRACE_DETACH, pid_, nullptr, nullptr); }

  // The raw sock_filter bytes of filter `index` (0 = most recently
  // installed); sets *err to errno on failure.
  std::optional<std::string> Filter(unsigned long index, int* err) const {
    long count = ptrace(PTRACE_SECCOMP_GET_FILTER, pid_, index, nullptr);
    if (count < 0) {
      *err = errno;
      return std::nullopt;
    }
    std::string bytes(static_cast<size_t>(count) * sizeof(sock_filter), '\0');
    long again = ptrace(PTRACE_SECCOMP_GET_FILTER, pid_, index, bytes.data());
    if (again != count) {
      *err = again < 0 ? errno : EIO;
      return std::nullopt;
    }
    return bytes;
  }

 private:
  explicit PtraceStop(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

// A field of /proc/PID/status ("Seccomp", "Seccomp_filters", "NoNewPrivs").
std::string StatusField(const std::string& pid, const std::string& field) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      size_t v = line.find_first_not_of(" \t", field.size() + 1);
      return v == std::string::npos ? "" : line.substr(v);
    }
  }
  return "";
}

// The ready helper confined by fdlaunch, alive and past "READY".
struct LiveWorkload {
  TempDir dir;
  std::string manifest_path, filter_path;
  Pipe out;
  std::optional<Child> child;
  Json manifest;

  // Starts it under `profile`; on failure leaves `child` empty and sets *why.
  bool Start(const Json& profile, std::string* why) {
    auto fail = [why](std::string reason) {
      *why = std::move(reason);
      return false;
    };
    if (!dir.ok()) return fail("no temp dir");
    const std::string profile_path = dir.File("profile.json");
    manifest_path = dir.File("manifest.json");
    filter_path = dir.File("filter.bpf");
    if (!WriteWholeFile(profile_path, profile.dump())) return fail("cannot write profile");
    out = Pipe::New();
    Pipe err = Pipe::New();
    if (!out.ok() || !err.ok()) return fail("pipe2 failed");
    child.emplace(SpawnFdlaunch({"--profile", profile_path, "--manifest-out", manifest_path,
                                 "--filter-out", filter_path, "--", ReadyHelperPath()},
                                {{1, out.write_end.get()}, {2, err.write_end.get()}}));
    out.write_end.reset();
    err.write_end.reset();
    std::string got = ReadUntil(out.read_end.get(), "READY\n");
    if (got != "READY\n") {
      // Whatever fdlaunch said before giving up (its stderr ends at exec).
      std::string said = ReadUntil(err.read_end.get(), "\x01", std::chrono::milliseconds(500));
      return fail("workload did not get ready; stdout \"" + got + "\", stderr \"" + said + "\"");
    }
    manifest = LoadJsonFile(manifest_path);
    if (!manifest.is_object()) return fail("no manifest");
    return true;
  }

  std::string Pid() const { return std::to_string(child->pid()); }

  std::string ManifestBpf() const {
    absl::StatusOr<std::string> bpf =
        Base64Decode(manifest["filter"]["bpf_base64"].get<std::string>());
    return bpf.ok() ? *bpf : "";
  }
};

Json ReaderProfile() {
  return {{"version", 1},
          {"name", "filter-identity"},
          {"fds",
           {{{"fd", 0}, {"role", "null"}, {"access", "r"}, {"null", true}},
            {{"fd", 1}, {"role", "phi-output"}, {"access", "w"}, {"inherit", true}}}}};
}

// Differs from ReaderProfile in its descriptor set only. (Not "kill" mode:
// static glibc calls readlink("/proc/self/exe") at startup, which that mode
// answers with SIGSYS before the helper gets to main.)
Json OtherProfile() {
  return {{"version", 1},
          {"name", "filter-identity-other"},
          {"fds",
           {{{"fd", 1}, {"role", "phi-output"}, {"access", "w"}, {"inherit", true}},
            {{"fd", 3}, {"role", "scratch"}, {"access", "rw"}, {"null", true}}}}};
}

bool MayReadFilters() {
  // PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN in the tracer.
  std::string caps = StatusField("self", "CapEff");
  return !caps.empty() && (std::stoull(caps, nullptr, 16) & (1ull << 21)) != 0;
}

TEST(FilterIdentityTest, LiveFilterEqualsManifestAndFilterOutBytes) {
  if (!MayReadFilters()) GTEST_SKIP() << "needs CAP_SYS_ADMIN for PTRACE_SECCOMP_GET_FILTER";
  LiveWorkload w;
  std::string why;
  ASSERT_TRUE(w.Start(ReaderProfile(), &why)) << why;

  std::string live;
  std::optional<std::string> older;
  int err = 0, older_err = 0;
  {
    std::unique_ptr<PtraceStop> stop = PtraceStop::Seize(w.child->pid());
    ASSERT_NE(stop, nullptr) << "cannot ptrace-stop the workload: " << strerror(errno);
    std::optional<std::string> got = stop->Filter(0, &err);
    ASSERT_TRUE(got.has_value()) << "PTRACE_SECCOMP_GET_FILTER: " << strerror(err);
    live = *got;
    older = stop->Filter(1, &older_err);
  }

  ASSERT_FALSE(live.empty());
  const std::string manifest_bpf = w.ManifestBpf();
  std::optional<std::string> filter_out = ReadWholeFile(w.filter_path);
  ASSERT_TRUE(filter_out.has_value());
  EXPECT_EQ(live.size(), manifest_bpf.size());
  EXPECT_TRUE(live == manifest_bpf) << "live filter differs from manifest filter.bpf_base64";
  EXPECT_TRUE(live == *filter_out) << "live filter differs from --filter-out";
  EXPECT_EQ(Sha256Hex(live), w.manifest["filter"]["sha256"]);
  EXPECT_EQ(live.size() / sizeof(sock_filter), w.manifest["filter"]["instructions"].get<size_t>());

  // fdlaunch added exactly one filter on top of whatever we run under.
  EXPECT_EQ(StatusField(w.Pid(), "Seccomp"), "2");
  const std::string ours = StatusField("self", "Seccomp_filters");
  const std::string theirs = StatusField(w.Pid(), "Seccomp_filters");
  if (!ours.empty() && !theirs.empty()) {
    EXPECT_EQ(std::stoi(theirs), std::stoi(ours) + 1);
  }
  if (ours == "0" || StatusField("self", "Seccomp") == "0") {
    EXPECT_FALSE(older.has_value());
    EXPECT_EQ(older_err, ENOENT);
  }
}

TEST(FilterIdentityTest, LiveExecutableIsTheOneHashedInManifest) {
  LiveWorkload w;
  std::string why;
  ASSERT_TRUE(w.Start(ReaderProfile(), &why)) << why;

  const std::string live_exe = Sha256HexOfFile("/proc/" + w.Pid() + "/exe");
  ASSERT_FALSE(live_exe.empty());
  EXPECT_EQ(live_exe, w.manifest["exe"]["sha256"]);
  EXPECT_EQ(live_exe, Sha256HexOfFile(ReadyHelperPath()));
  EXPECT_EQ(w.manifest["exe"]["path"], ReadyHelperPath());
  EXPECT_EQ(w.manifest["argv"], Json::array({ReadyHelperPath()}));
  EXPECT_EQ(StatusField(w.Pid(), "NoNewPrivs"), "1");
}

TEST(FilterIdentityTest, DifferentProfileInstallsDifferentFilterBytes) {
  if (!MayReadFilters()) GTEST_SKIP() << "needs CAP_SYS_ADMIN for PTRACE_SECCOMP_GET_FILTER";
  LiveWorkload a, b;
  std::string why;
  ASSERT_TRUE(a.Start(ReaderProfile(), &why)) << why;
  ASSERT_TRUE(b.Start(OtherProfile(), &why)) << why;

  std::string live_a, live_b;
  int err = 0;
  for (auto [w, live] : {std::pair{&a, &live_a}, std::pair{&b, &live_b}}) {
    std::unique_ptr<PtraceStop> stop = PtraceStop::Seize(w->child->pid());
    ASSERT_NE(stop, nullptr) << strerror(errno);
    std::optional<std::string> got = stop->Filter(0, &err);
    ASSERT_TRUE(got.has_value()) << strerror(err);
    *live = *got;
  }
  EXPECT_TRUE(live_b == b.ManifestBpf());
  EXPECT_FALSE(live_a == live_b);
  EXPECT_FALSE(live_a == b.ManifestBpf()) << "the comparison cannot tell filters apart";
  EXPECT_NE(a.manifest["filter"]["sha256"], b.manifest["filter"]["sha256"]);
}

}  // namespace
}  // namespace fdattest::integration
