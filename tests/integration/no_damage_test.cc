// A refused launch changes no file: the real fdlaunch, refusing a profile
// whose audit log could be truncated, a relative path, or a launch whose last
// declared fd cannot be established, leaves every declared file byte for byte
// as it was and creates none, not even for a moment (inotify watches the
// directory while fdlaunch runs). The workload (the "RAN" helper) never runs.
#include <gtest/gtest.h>
#include <sys/inotify.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/integration/launch_util.h"

namespace fdattest::integration {
namespace {

// Every regular file of a directory: name -> (content, mode, mtime).
struct FileState {
  std::string content;
  mode_t mode = 0;
  timespec mtime{};
  bool operator==(const FileState& o) const {
    return content == o.content && mode == o.mode && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

std::map<std::string, FileState> Snapshot(const std::string& dir) {
  std::map<std::string, FileState> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string path = entry.path().string();
    std::optional<struct stat> st = StatPath(path);
    if (!st) continue;
    FileState& f = files[entry.path().filename().string()];
    f.mode = st->st_mode;
    f.mtime = st->st_mtim;
    if (S_ISREG(st->st_mode)) f.content = ReadWholeFile(path).value_or("<unreadable>");
  }
  return files;
}

// Watches a directory for any entry created, removed, renamed or written.
class DirectoryWatch {
 public:
  explicit DirectoryWatch(const std::string& dir)
      : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_) {
      ok_ = inotify_add_watch(fd_.get(), dir.c_str(),
                              IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO) >= 0;
    }
  }
  bool ok() const { return ok_; }

  // "CREATE new.txt", "DELETE new.txt", ... seen so far.
  std::vector<std::string> Events() {
    std::vector<std::string> events;
    alignas(inotify_event) char buf[8192];
    for (;;) {
      ssize_t n = read(fd_.get(), buf, sizeof buf);
      if (n <= 0) break;
      for (char* p = buf; p < buf + n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(p);
        const char* what = (e->mask & IN_CREATE)       ? "CREATE"
                           : (e->mask & IN_DELETE)     ? "DELETE"
                           : (e->mask & IN_MODIFY)     ? "MODIFY"
                           : (e->mask & IN_MOVED_FROM) ? "MOVED_FROM"
                                                       : "MOVED_TO";
        events.push_back(absl::StrCat(what, " ", e->len > 0 ? e->name : ""));
        p += sizeof(inotify_event) + e->len;
      }
    }
    return events;
  }

 private:
  UniqueFd fd_;
  bool ok_ = false;
};

void ExpectRefusedWithOneErrorLine(const RunResult& r, const std::vector<std::string>& expect) {
  ASSERT_FALSE(r.timed_out) << "fdlaunch did not finish";
  EXPECT_EQ(r.exit_code(), kExitLaunchFailed) << "stderr: " << r.err;
  EXPECT_EQ(r.out, "") << "the workload ran";
  std::vector<std::string> errors = ErrorLines(r, nullptr);
  ASSERT_EQ(errors.size(), 1u) << "stderr:\n" << r.err;
  for (const std::string& s : expect) {
    EXPECT_NE(errors[0].find(s), std::string::npos)
        << "error line does not mention " << s << ": " << errors[0];
  }
}

class NoDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    // Files with content to lose, and an mtime in the past, so that any
    // write, even of the same bytes, shows.
    for (const auto& [name, content] : std::map<std::string, std::string>{
             {"in.csv", "id,name\n1,Ada\n2,Grace\n"},
             {"out.txt", "yesterday's result\n"},
             {"audit.log", "2026-12-06 job 41 ran\n2026-12-06 job 42 ran\n"}}) {
      ASSERT_TRUE(WriteWholeFile(dir_.File(name), content, 0640));
      const timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
      ASSERT_EQ(utimensat(AT_FDCWD, dir_.File(name).c_str(), old, 0), 0) << strerror(errno);
    }
  }

  // Runs fdlaunch on `profile` ($DIR is the scratch directory) and checks the
  // directory is exactly as before, and was never touched meanwhile.
  RunResult LaunchAndExpectNoChange(const std::string& profile,
                                    const std::vector<std::string>& options = {}) {
    const std::string profile_path = dir_.path() + ".profile.json";  // outside the watched dir
    EXPECT_TRUE(WriteWholeFile(profile_path, absl::StrReplaceAll(profile, {{"$DIR", dir_.path()}})));
    const std::map<std::string, FileState> before = Snapshot(dir_.path());
    DirectoryWatch watch(dir_.path());
    EXPECT_TRUE(watch.ok());
    std::vector<std::string> args = {"--profile", profile_path};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {"--", RanHelperPath()});
    RunResult r = RunFdlaunch(args);
    EXPECT_EQ(watch.Events(), std::vector<std::string>{}) << "the directory was changed";
    const std::map<std::string, FileState> after = Snapshot(dir_.path());
    EXPECT_EQ(after.size(), before.size()) << "a file was created or removed";
    for (const auto& [name, state] : before) {
      auto it = after.find(name);
      if (it == after.end()) {
        ADD_FAILURE() << name << " is gone";
        continue;
      }
      EXPECT_EQ(it->second.content, state.content) << name << " changed";
      EXPECT_TRUE(it->second == state) << name << " was written or its mode changed";
    }
    unlink(profile_path.c_str());
    return r;
  }

  TempDir dir_;
};

TEST_F(NoDamageTest, AuditLogDeclaredWriteIsRefusedAndTheLogIsUnchanged) {
  RunResult r = LaunchAndExpectNoChange(R"({"version": 1, "name": "etl", "fds": [
    {"fd": 0, "role": "phi-input", "access": "r", "open": "$DIR/in.csv"},
    {"fd": 1, "role": "phi-output", "access": "w", "open": "$DIR/out.txt"},
    {"fd": 2, "role": "audit-log", "access": "w", "open": "$DIR/audit.log"}]})");
  ExpectRefusedWithOneErrorLine(r, {"fd 2", "audit-log", "append-only", "truncate"});
}

TEST_F(NoDamageTest, RelativePathIsRefusedAndNothingIsCreatedInTheWorkingDirectory) {
  // Run from the scratch directory, where a relative "out.gz" would land.
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_.path());
  RunResult r = LaunchAndExpectNoChange(R"({"version": 1, "name": "gz", "fds": [
    {"fd": 0, "role": "phi-input", "access": "r", "open": "$DIR/in.csv"},
    {"fd": 1, "role": "phi-output", "access": "w", "open": "out.gz"}]})");
  std::filesystem::current_path(cwd);
  ExpectRefusedWithOneErrorLine(r, {"fd 1", "\"open\"", "out.gz", "relative"});
}

// Every fd passes, but what the launch needs after step 6 is not there: it
// is checked before any declared file is created or truncated.
constexpr char kAllFdsPass[] = R"({"version": 1, "name": "etl", "fds": [
    {"fd": 0, "role": "phi-input", "access": "r", "open": "$DIR/in.csv"},
    {"fd": 1, "role": "phi-output", "access": "w", "open": "$DIR/out.txt"},
    {"fd": 2, "role": "audit-log", "access": "a", "open": "$DIR/audit.log"},
    {"fd": 3, "role": "phi-output", "access": "w", "open": "$DIR/new.txt"}]})";

TEST_F(NoDamageTest, NoAttestorListeningLeavesEveryFileAsBefore) {
  const std::string socket = dir_.path() + ".no-attestor.sock";  // nothing listens there
  RunResult r = LaunchAndExpectNoChange(kAllFdsPass, {"--attestor", socket});
  ExpectRefusedWithOneErrorLine(r, {"no-attestor.sock", "before any declared file"});
}

TEST_F(NoDamageTest, ManifestInAMissingDirectoryLeavesEveryFileAsBefore) {
  RunResult r = LaunchAndExpectNoChange(
      kAllFdsPass, {"--manifest-out", dir_.path() + ".missing/manifest.json"});
  ExpectRefusedWithOneErrorLine(r, {"manifest.json", "before any declared file"});
}

// The last fd fails in step 4, after the earlier ones were established: an
// existing `w` output, an append-only log, and two files that do not exist
// yet (one `w`, one `a`) are declared before it.
struct LastFdCase {
  std::string name;
  std::string last_entry;
  std::vector<std::string> expect;
};

class LastFdFailsTest : public NoDamageTest, public ::testing::WithParamInterface<LastFdCase> {};

void PrintTo(const LastFdCase& c, std::ostream* os) { *os << c.name; }

TEST_P(LastFdFailsTest, EveryDeclaredFileIsAsBeforeAndNoneIsCreated) {
  const LastFdCase& c = GetParam();
  RunResult r = LaunchAndExpectNoChange(absl::StrCat(R"({"version": 1, "name": "etl", "fds": [
    {"fd": 0, "role": "phi-input", "access": "r", "open": "$DIR/in.csv"},
    {"fd": 1, "role": "phi-output", "access": "w", "open": "$DIR/out.txt"},
    {"fd": 2, "role": "audit-log", "access": "a", "open": "$DIR/audit.log"},
    {"fd": 3, "role": "phi-output", "access": "w", "open": "$DIR/new.txt"},
    {"fd": 4, "role": "audit-log", "access": "a", "open": "$DIR/new.log"},
    )", c.last_entry, "]}"));
  ExpectRefusedWithOneErrorLine(r, c.expect);
}

INSTANTIATE_TEST_SUITE_P(
    NoDamage, LastFdFailsTest,
    ::testing::Values(
        LastFdCase{"UnreachableUnixSocket",
                   R"({"fd": 5, "role": "sink", "access": "w", "connect": "unix:$DIR/gone.sock"})",
                   {"fd 5", "cannot connect", "gone.sock"}},
        LastFdCase{"MissingInputFile",
                   R"({"fd": 5, "role": "phi-input", "access": "r", "open": "$DIR/missing.csv"})",
                   {"fd 5", "cannot open", "missing.csv", "must exist"}},
        LastFdCase{"NewFileInAMissingDirectory",
                   R"({"fd": 5, "role": "phi-output", "access": "w", "open": "$DIR/no/such/dir/x"})",
                   {"fd 5", "cannot create", "no/such/dir"}}),
    [](const ::testing::TestParamInfo<LastFdCase>& info) { return info.param.name; });

TEST_F(NoDamageTest, NewFileBehindADanglingSymlinkIsRefusedAndNotCreated) {
  // open() through a symlink to nowhere says ENOENT; the file is not created
  // at the link's target, nor is the link replaced.
  const std::string target = dir_.path() + ".elsewhere";
  ASSERT_EQ(symlink(target.c_str(), dir_.File("out.link").c_str()), 0) << strerror(errno);
  RunResult r = LaunchAndExpectNoChange(R"({"version": 1, "name": "etl", "fds": [
    {"fd": 1, "role": "phi-output", "access": "w", "open": "$DIR/out.link"}]})");
  ExpectRefusedWithOneErrorLine(r, {"fd 1", "symbolic link"});
  EXPECT_FALSE(StatPath(target).has_value()) << "created through the link";
}

TEST_F(NoDamageTest, ASuccessfulLaunchCreatesTheNewFilesAndTruncatesOnlyTheWFiles) {
  // The control for the tests above: the same declarations, all satisfiable,
  // do create and truncate.
  const std::string profile_path = dir_.path() + ".profile.json";
  ASSERT_TRUE(WriteWholeFile(
      profile_path, absl::StrReplaceAll(R"({"version": 1, "name": "etl", "fds": [
    {"fd": 0, "role": "phi-input", "access": "r", "open": "$DIR/in.csv"},
    {"fd": 1, "role": "phi-output", "access": "w", "open": "$DIR/out.txt"},
    {"fd": 2, "role": "audit-log", "access": "a", "open": "$DIR/audit.log"},
    {"fd": 3, "role": "phi-output", "access": "w", "open": "$DIR/new.txt"},
    {"fd": 4, "role": "audit-log", "access": "a", "open": "$DIR/new.log"},
    {"fd": 5, "role": "audit-log", "access": "a", "open": "$DIR/new.log"}]})",
                                        {{"$DIR", dir_.path()}})));
  const std::optional<std::string> audit_before = ReadWholeFile(dir_.File("audit.log"));
  RunResult r = RunFdlaunch({"--profile", profile_path, "--", RanHelperPath()});
  unlink(profile_path.c_str());
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code(), 42) << r.err;
  // The helper wrote "RAN\n" to fd 1: the truncated out.txt.
  EXPECT_EQ(ReadWholeFile(dir_.File("out.txt")), "RAN\n");
  EXPECT_EQ(ReadWholeFile(dir_.File("audit.log")), audit_before);
  EXPECT_EQ(ReadWholeFile(dir_.File("new.txt")), "");
  std::optional<struct stat> st = StatPath(dir_.File("new.log"));
  ASSERT_TRUE(st.has_value()) << "new.log was not created";
  EXPECT_EQ(st->st_mode & 07777, 0600u);
  EXPECT_EQ(ReadWholeFile(dir_.File("in.csv")), "id,name\n1,Ada\n2,Grace\n");
}

}  // namespace
}  // namespace fdattest::integration
