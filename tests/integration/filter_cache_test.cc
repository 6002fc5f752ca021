// --filter-cache: a second launch of the same profile shape installs the
// cached bytes (the same bytes a fresh compile gives), and a cache entry is
// never trusted: a loosened entry is refused by the launcher's proof, and
// malformed entries, planted FIFOs and symlinks, entries of another launcher
// binary and carelessly shared cache directories are each handled as
// docs/launcher.md "Filter cache" says. The workload prints "RAN" and exits
// 42, so a launch that went ahead shows.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "tests/integration/launch_util.h"

namespace fdattest::integration {
namespace {

constexpr char kHeaderPrefix[] = "fdattest filter cache 1 launcher ";

class FilterCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    cache_ = dir_.File("cache");
    ASSERT_EQ(mkdir(cache_.c_str(), 0700), 0);
    profile_ = dir_.File("profile.json");
    Json p = {{"version", 1},
              {"name", "filter-cache"},
              {"fds",
               {{{"fd", 0}, {"role", "null"}, {"access", "r"}, {"null", true}},
                {{"fd", 1}, {"role", "phi-output"}, {"access", "w"}, {"inherit", true}}}}};
    ASSERT_TRUE(WriteWholeFile(profile_, p.dump()));
  }

  RunResult Launch(const std::string& filter_out = "") {
    std::vector<std::string> args = {"--profile", profile_, "--filter-cache", cache_};
    if (!filter_out.empty()) args.insert(args.end(), {"--filter-out", filter_out});
    args.insert(args.end(), {"--", RanHelperPath()});
    return RunFdlaunch(args);
  }

  // The one entry in the cache; empty when there is not exactly one.
  std::string OnlyEntry() const {
    std::vector<std::string> entries;
    for (const auto& e : std::filesystem::directory_iterator(cache_)) {
      entries.push_back(e.path().string());
    }
    return entries.size() == 1 ? entries[0] : "";
  }

  // Runs a launch that must be refused and returns its one error line.
  std::string Refused() {
    RunResult r = Launch();
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code(), kExitLaunchFailed) << r.err;
    EXPECT_EQ(r.out, "") << "the workload ran";
    std::vector<std::string> other;
    std::vector<std::string> errors = ErrorLines(r, &other);
    EXPECT_EQ(errors.size(), 1u) << r.err;
    EXPECT_TRUE(other.empty()) << r.err;
    return errors.empty() ? "" : errors[0];
  }

  // A first launch that fills the cache; returns its entry's path.
  std::string Fill(std::string* bpf = nullptr) {
    const std::string out = dir_.File("fresh.bpf");
    RunResult r = Launch(out);
    EXPECT_EQ(r.exit_code(), 42) << r.err;
    EXPECT_EQ(r.out, "RAN\n");
    if (bpf != nullptr) *bpf = ReadWholeFile(out).value_or("");
    return OnlyEntry();
  }

  TempDir dir_;
  std::string cache_, profile_;
};

TEST_F(FilterCacheTest, SecondLaunchInstallsTheCachedBytesAFreshCompileGives) {
  std::string fresh;
  const std::string entry = Fill(&fresh);
  ASSERT_FALSE(entry.empty());
  ASSERT_FALSE(fresh.empty());
  struct stat st {};
  ASSERT_EQ(stat(entry.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::optional<std::string> stored = ReadWholeFile(entry);
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->rfind(kHeaderPrefix, 0), 0u);
  const size_t nl = stored->find('\n');
  ASSERT_NE(nl, std::string::npos);
  EXPECT_TRUE(stored->substr(nl + 1) == fresh) << "the entry holds other bytes than were installed";

  // The second launch reads the entry (made recognisable by its mtime
  // staying put) and installs the same bytes.
  const std::string out = dir_.File("cached.bpf");
  RunResult r = Launch(out);
  EXPECT_EQ(r.exit_code(), 42) << r.err;
  EXPECT_EQ(r.out, "RAN\n");
  struct stat again {};
  ASSERT_EQ(stat(entry.c_str(), &again), 0);
  EXPECT_EQ(again.st_ino, st.st_ino) << "the entry was rewritten instead of used";
  EXPECT_TRUE(ReadWholeFile(out).value_or("") == fresh);
}

TEST_F(FilterCacheTest, LoosenedEntryIsRefusedByTheProof) {
  const std::string entry = Fill();
  ASSERT_FALSE(entry.empty());
  std::string text = ReadWholeFile(entry).value_or("");
  const size_t body = text.find('\n') + 1;
  ASSERT_GT(body, 1u);
  // Turn the default refusal (ret ERRNO(EPERM)) into ret ALLOW: the filter
  // now allows every syscall it does not name, open and socket among them.
  int loosened = 0;
  for (size_t off = body; off + sizeof(sock_filter) <= text.size(); off += sizeof(sock_filter)) {
    sock_filter insn;
    memcpy(&insn, text.data() + off, sizeof(insn));
    if (insn.code == (BPF_RET | BPF_K) && insn.k == (SECCOMP_RET_ERRNO | EPERM)) {
      insn.k = SECCOMP_RET_ALLOW;
      memcpy(text.data() + off, &insn, sizeof(insn));
      ++loosened;
    }
  }
  ASSERT_GT(loosened, 0);
  ASSERT_TRUE(WriteWholeFile(entry, text, 0600));
  const std::string error = Refused();
  EXPECT_NE(error.find("cached filter " + entry + " refused"), std::string::npos) << error;
  EXPECT_NE(error.find("default-refuses"), std::string::npos) << error;
  EXPECT_NE(error.find("remove it"), std::string::npos) << error;
}

TEST_F(FilterCacheTest, AllowAllEntryIsRefusedByTheProof) {
  const std::string entry = Fill();
  ASSERT_FALSE(entry.empty());
  std::string text = ReadWholeFile(entry).value_or("");
  std::string allow_all(sizeof(sock_filter), '\0');
  sock_filter ret = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  memcpy(allow_all.data(), &ret, sizeof(ret));
  ASSERT_TRUE(WriteWholeFile(entry, text.substr(0, text.find('\n') + 1) + allow_all, 0600));
  const std::string error = Refused();
  EXPECT_NE(error.find("refused (filter self-check failed"), std::string::npos) << error;
}

TEST_F(FilterCacheTest, MalformedEntryIsRefused) {
  const std::string entry = Fill();
  ASSERT_FALSE(entry.empty());
  std::string text = ReadWholeFile(entry).value_or("");
  const std::string header = text.substr(0, text.find('\n') + 1);
  // Not a whole number of instructions and no instructions: the proof's
  // decoder refuses them; more than BPF_MAXINSNS instructions (4097 copies
  // of a return): refused before the entry is read.
  ASSERT_TRUE(WriteWholeFile(entry, text.substr(0, text.size() - 3), 0600));
  EXPECT_NE(Refused().find("not a whole number of 8-byte instructions"), std::string::npos);
  ASSERT_TRUE(WriteWholeFile(entry, header, 0600));
  EXPECT_NE(Refused().find("refused (filter self-check failed"), std::string::npos);
  std::string ret(sizeof(sock_filter), '\0');
  sock_filter kill = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  memcpy(ret.data(), &kill, sizeof(kill));
  std::string huge = header;
  for (int i = 0; i < BPF_MAXINSNS + 1; ++i) huge += ret;
  ASSERT_TRUE(WriteWholeFile(entry, huge, 0600));
  EXPECT_NE(Refused().find("is not a BPF program"), std::string::npos);
}

TEST_F(FilterCacheTest, PlantedFifoAndSymlinkAreRefusedWithoutHanging) {
  const std::string entry = Fill();
  ASSERT_FALSE(entry.empty());
  ASSERT_EQ(unlink(entry.c_str()), 0);
  ASSERT_EQ(mkfifo(entry.c_str(), 0600), 0);
  EXPECT_NE(Refused().find("is not a regular file"), std::string::npos);

  ASSERT_EQ(unlink(entry.c_str()), 0);
  const std::string target = dir_.File("elsewhere.bpf");
  ASSERT_TRUE(WriteWholeFile(target, "x"));
  ASSERT_EQ(symlink(target.c_str(), entry.c_str()), 0);
  const std::string error = Refused();
  EXPECT_NE(error.find("cached filter " + entry), std::string::npos) << error;
  EXPECT_EQ(ReadWholeFile(target).value_or(""), "x") << "the symlink's target was written";
}

TEST_F(FilterCacheTest, EntryOfAnotherLauncherBinaryIsReplaced) {
  const std::string entry = Fill();
  ASSERT_FALSE(entry.empty());
  const std::string fake = std::string(kHeaderPrefix) + "1:2:3:4.5:6.7\n";
  ASSERT_TRUE(WriteWholeFile(entry, fake + std::string(64, '\0'), 0600));
  RunResult r = Launch();
  EXPECT_EQ(r.exit_code(), 42) << r.err;
  std::optional<std::string> now = ReadWholeFile(entry);
  ASSERT_TRUE(now.has_value());
  EXPECT_EQ(now->rfind(kHeaderPrefix, 0), 0u);
  EXPECT_NE(now->rfind(fake, 0), 0u) << "the other launcher's entry was not replaced";
}

TEST_F(FilterCacheTest, SharedOrForeignCacheDirectoryIsRefused) {
  ASSERT_EQ(chmod(cache_.c_str(), 0770), 0);
  EXPECT_NE(Refused().find("writable by group or others"), std::string::npos);
  ASSERT_EQ(chmod(cache_.c_str(), 0707), 0);
  EXPECT_NE(Refused().find("writable by group or others"), std::string::npos);
  ASSERT_EQ(chmod(cache_.c_str(), 0700), 0);
  if (geteuid() != 0) GTEST_SKIP() << "changing the owner needs root";
  ASSERT_EQ(chown(cache_.c_str(), 65534, 65534), 0);
  EXPECT_NE(Refused().find("owned by uid 65534"), std::string::npos);
}

TEST_F(FilterCacheTest, MissingCacheDirectoryIsRefused) {
  cache_ = dir_.File("no-such-cache");
  const std::string error = Refused();
  EXPECT_NE(error.find("filter cache " + cache_), std::string::npos) << error;
}

}  // namespace
}  // namespace fdattest::integration
