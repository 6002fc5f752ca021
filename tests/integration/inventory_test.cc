// The descriptor table fdlaunch hands over, checked from outside on the live
// workload (/proc/PID/fd of the ready helper): exactly the declared numbers,
// each the object the manifest fingerprints; an inherited undeclared secret
// is fingerprinted into closed_fds and gone; "null" is /dev/null; "connect"
// reaches our listening socket and records us as its peer.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <set>

#include "tests/integration/launch_util.h"

namespace fdattest::integration {
namespace {

std::set<int> OpenFdsOf(pid_t pid) {
  std::set<int> fds;
  const std::string dir_path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = opendir(dir_path.c_str());
  if (dir == nullptr) return fds;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') fds.insert(std::stoi(e->d_name));
  }
  closedir(dir);
  return fds;
}

std::string ReadLinkOrEmpty(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

class InventoryTest : public ::testing::Test {
 protected:
  static constexpr int kSecretFd = 7;
  // Inherited at a number the profile declares with "open": must be
  // fingerprinted and replaced, not kept.
  static constexpr int kShadowedFd = 3;

  // Without a manifest nothing is fingerprinted, and the launcher closes the
  // undeclared numbers without listing them first (close_range over gaps).
  virtual bool WithManifest() const { return true; }

  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    secret_path_ = dir_.File("secret.key");
    shadowed_path_ = dir_.File("shadowed.key");
    reference_path_ = dir_.File("reference.csv");
    audit_path_ = dir_.File("audit.log");
    socket_path_ = dir_.File("sink.sock");
    ASSERT_TRUE(WriteWholeFile(secret_path_, "do not leak\n", 0600));
    ASSERT_TRUE(WriteWholeFile(shadowed_path_, "do not leak either\n", 0600));
    ASSERT_TRUE(WriteWholeFile(reference_path_, "code,label\nE11,diabetes\n", 0644));

    listener_ = UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(listener_);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(socket_path_.size(), sizeof(addr.sun_path));
    memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
    ASSERT_EQ(bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(listen(listener_.get(), 4), 0);

    Json profile = {
        {"version", 1},
        {"name", "inventory"},
        {"fds",
         {{{"fd", 0}, {"role", "null"}, {"access", "r"}, {"null", true}},
          {{"fd", 1}, {"role", "phi-output"}, {"access", "w"}, {"inherit", true}},
          {{"fd", 3}, {"role", "reference"}, {"access", "r"}, {"open", reference_path_}},
          {{"fd", 4}, {"role", "phi-output"}, {"access", "w"}, {"connect", "unix:" + socket_path_}},
          {{"fd", 5}, {"role", "audit-log"}, {"access", "a"}, {"open", audit_path_}}}}};
    const std::string profile_path = dir_.File("profile.json");
    const std::string manifest_path = dir_.File("manifest.json");
    ASSERT_TRUE(WriteWholeFile(profile_path, profile.dump()));

    // The secret is open in the launcher at fd 7, not close-on-exec there.
    UniqueFd secret(open(secret_path_.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(secret);
    UniqueFd shadowed(open(shadowed_path_.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(shadowed);
    out_ = Pipe::New();
    err_ = Pipe::New();
    ASSERT_TRUE(out_.ok() && err_.ok());
    out_stat_ = *StatFd(out_.read_end.get());
    err_stat_ = *StatFd(err_.read_end.get());
    std::vector<std::string> args = {"--profile", profile_path};
    if (WithManifest()) args.insert(args.end(), {"--manifest-out", manifest_path});
    args.insert(args.end(), {"--", ReadyHelperPath()});
    child_.emplace(SpawnFdlaunch(args,
        {{1, out_.write_end.get()},
         {2, err_.write_end.get()},
         {kSecretFd, secret.get()},
         {kShadowedFd, shadowed.get()}}));
    out_.write_end.reset();
    err_.write_end.reset();
    std::string got = ReadUntil(out_.read_end.get(), "READY\n");
    ASSERT_EQ(got, "READY\n") << "stderr: "
                              << ReadUntil(err_.read_end.get(), "\x01",
                                           std::chrono::milliseconds(500));
    if (!WithManifest()) return;
    manifest_ = LoadJsonFile(manifest_path);
    ASSERT_TRUE(manifest_.is_object());
  }

  std::string ProcFd(int fd) const {
    return "/proc/" + std::to_string(child_->pid()) + "/fd/" + std::to_string(fd);
  }

  TempDir dir_;
  std::string secret_path_, shadowed_path_, reference_path_, audit_path_, socket_path_;
  UniqueFd listener_;
  Pipe out_, err_;
  struct stat out_stat_ {
  }, err_stat_{};
  std::optional<Child> child_;
  Json manifest_;
};

TEST_F(InventoryTest, UndeclaredInheritedFdIsFingerprintedThenClosed) {
  std::optional<struct stat> secret = StatPath(secret_path_);
  ASSERT_TRUE(secret.has_value());
  const Json* fp = FindFingerprint(manifest_["closed_fds"], kSecretFd);
  ASSERT_NE(fp, nullptr) << manifest_["closed_fds"].dump();
  EXPECT_EQ((*fp)["stat"]["dev"].get<uint64_t>(), secret->st_dev);
  EXPECT_EQ((*fp)["stat"]["ino"].get<uint64_t>(), secret->st_ino);
  EXPECT_EQ((*fp)["kind"], "file");
  EXPECT_EQ((*fp)["source"], "inherited");
  EXPECT_EQ((*fp)["open_mode"], "r");
  EXPECT_FALSE(fp->contains("content_sha256"));  // the secret is not hashed

  // Our stderr pipe was undeclared too (fdlaunch keeps a private copy).
  const Json* err_fp = FindFingerprint(manifest_["closed_fds"], 2);
  ASSERT_NE(err_fp, nullptr);
  EXPECT_EQ((*err_fp)["stat"]["ino"].get<uint64_t>(), err_stat_.st_ino);
  EXPECT_EQ((*err_fp)["kind"], "fifo");

  // Exactly what we handed over and did not declare, nothing of fdlaunch's own.
  std::set<int> closed;
  for (const Json& e : manifest_["closed_fds"]) closed.insert(e["fd"].get<int>());
  EXPECT_EQ(closed, (std::set<int>{2, kShadowedFd, kSecretFd}));

  std::set<int> live = OpenFdsOf(child_->pid());
  EXPECT_FALSE(live.contains(kSecretFd));
  for (int fd : live) {
    EXPECT_NE(ReadLinkOrEmpty(ProcFd(fd)), secret_path_) << "secret reachable at fd " << fd;
    EXPECT_NE(ReadLinkOrEmpty(ProcFd(fd)), shadowed_path_) << "secret reachable at fd " << fd;
  }
}

TEST_F(InventoryTest, InheritedFdAtDeclaredOpenNumberIsFingerprintedThenReplaced) {
  std::optional<struct stat> shadowed = StatPath(shadowed_path_),
                             reference = StatPath(reference_path_);
  ASSERT_TRUE(shadowed && reference);
  const Json* fp = FindFingerprint(manifest_["closed_fds"], kShadowedFd);
  ASSERT_NE(fp, nullptr) << manifest_["closed_fds"].dump();
  EXPECT_EQ((*fp)["stat"]["ino"].get<uint64_t>(), shadowed->st_ino);
  EXPECT_EQ((*fp)["open_mode"], "rw");

  std::optional<struct stat> live = StatPath(ProcFd(kShadowedFd));
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->st_ino, reference->st_ino);
  EXPECT_EQ((*FindFingerprint(manifest_["fds"], kShadowedFd))["stat"]["ino"].get<uint64_t>(),
            reference->st_ino);
}

TEST_F(InventoryTest, WorkloadHasExactlyDeclaredFdsMatchingManifest) {
  EXPECT_EQ(OpenFdsOf(child_->pid()), (std::set<int>{0, 1, 3, 4, 5}));

  std::optional<struct stat> reference = StatPath(reference_path_), audit = StatPath(audit_path_),
                             dev_null = StatPath("/dev/null");
  ASSERT_TRUE(reference && audit && dev_null);
  for (int fd : {0, 1, 3, 4, 5}) {
    SCOPED_TRACE("fd " + std::to_string(fd));
    const Json* fp = FindFingerprint(manifest_["fds"], fd);
    ASSERT_NE(fp, nullptr);
    std::optional<struct stat> live = StatPath(ProcFd(fd));  // the live object itself
    ASSERT_TRUE(live.has_value());
    EXPECT_EQ((*fp)["stat"]["dev"].get<uint64_t>(), live->st_dev);
    EXPECT_EQ((*fp)["stat"]["ino"].get<uint64_t>(), live->st_ino);
    EXPECT_EQ((*fp)["stat"]["mode"].get<uint32_t>(), live->st_mode);
  }
  // ...and each is the object we meant.
  auto same = [](const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  };
  EXPECT_TRUE(same(*StatPath(ProcFd(1)), out_stat_));
  EXPECT_TRUE(same(*StatPath(ProcFd(3)), *reference));
  EXPECT_TRUE(same(*StatPath(ProcFd(5)), *audit));
  EXPECT_EQ((*FindFingerprint(manifest_["fds"], 3))["open_mode"], "r");
  EXPECT_EQ((*FindFingerprint(manifest_["fds"], 5))["append"], true);
  EXPECT_EQ((*FindFingerprint(manifest_["fds"], 4))["kind"], "socket");
}

class InventoryWithoutManifestTest : public InventoryTest {
 protected:
  bool WithManifest() const override { return false; }
};

TEST_F(InventoryWithoutManifestTest, WorkloadHasExactlyTheDeclaredFdsWithoutAManifest) {
  EXPECT_EQ(OpenFdsOf(child_->pid()), (std::set<int>{0, 1, 3, 4, 5}));
  for (int fd : OpenFdsOf(child_->pid())) {
    EXPECT_NE(ReadLinkOrEmpty(ProcFd(fd)), secret_path_) << "secret reachable at fd " << fd;
    EXPECT_NE(ReadLinkOrEmpty(ProcFd(fd)), shadowed_path_) << "secret reachable at fd " << fd;
  }
  std::optional<struct stat> live = StatPath(ProcFd(kShadowedFd)),
                             reference = StatPath(reference_path_);
  ASSERT_TRUE(live && reference);
  EXPECT_EQ(live->st_ino, reference->st_ino);  // replaced by the declared file
  EXPECT_EQ(live->st_dev, reference->st_dev);
}

TEST_F(InventoryTest, NullFdIsDevNull) {
  EXPECT_EQ(ReadLinkOrEmpty(ProcFd(0)), "/dev/null");
  std::optional<struct stat> live = StatPath(ProcFd(0)), dev_null = StatPath("/dev/null");
  ASSERT_TRUE(live && dev_null);
  EXPECT_TRUE(S_ISCHR(live->st_mode));
  EXPECT_EQ(live->st_rdev, dev_null->st_rdev);
  const Json* fp = FindFingerprint(manifest_["fds"], 0);
  ASSERT_NE(fp, nullptr);
  EXPECT_EQ((*fp)["source"], "null");
  EXPECT_EQ((*fp)["kind"], "char");
  EXPECT_EQ((*fp)["stat"]["rdev"].get<uint64_t>(), dev_null->st_rdev);
  EXPECT_EQ((*fp)["open_mode"], "r");
}

TEST_F(InventoryTest, ConnectFdReachesTestListenerAndRecordsPeerCredentials) {
  // The connection is queued on our listener; accept it and ask who is on the
  // other end: the workload (same pid as the launcher).
  pollfd p{.fd = listener_.get(), .events = POLLIN, .revents = 0};
  ASSERT_EQ(poll(&p, 1, static_cast<int>(kTimeout.count())), 1);
  UniqueFd conn(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn);
  ucred cred{};
  socklen_t len = sizeof(cred);
  ASSERT_EQ(getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len), 0);
  EXPECT_EQ(cred.pid, child_->pid());

  const Json* fp = FindFingerprint(manifest_["fds"], 4);
  ASSERT_NE(fp, nullptr);
  EXPECT_EQ((*fp)["source"], "connect");
  EXPECT_EQ((*fp)["path"], "unix:" + socket_path_);
  const Json& sock = (*fp)["socket"];
  ASSERT_TRUE(sock.is_object()) << fp->dump();
  EXPECT_EQ(sock["family"], "unix");
  EXPECT_EQ(sock["type"], "stream");
  EXPECT_EQ(sock["peer_address"], socket_path_);
  ASSERT_TRUE(sock.contains("peer_cred")) << sock.dump();
  EXPECT_EQ(sock["peer_cred"]["pid"].get<int64_t>(), getpid());
  EXPECT_EQ(sock["peer_cred"]["uid"].get<uint32_t>(), getuid());
  EXPECT_EQ(sock["peer_cred"]["exe_sha256"], Sha256HexOfFile("/proc/self/exe"));
}

}  // namespace
}  // namespace fdattest::integration
