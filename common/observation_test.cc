// KernelObservation is what the attestor records and the verifier reads back;
// CheckObservationMatchesManifest is the one rule both ends hold a launch to.
#include "common/observation.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "common/cel.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr char kLaunchId[] = "0123456789abcdef0123456789abcdef";

Manifest SampleManifest() {
  Manifest m;
  m.launch_id = kLaunchId;
  m.exe_sha256 = std::string(64, 'b');
  m.namespaces = {{"mnt", "mnt:[4026531841]"}, {"net", "net:[4026531840]"}};
  m.filter.bpf = std::string("\x06\x00\x00\x00\x00\x00\xff\x7f", 8);
  FdFingerprint in;
  in.fd = 0;
  in.role = "phi-input";
  in.access = "r";
  in.source = "open";
  in.kind = "file";
  in.stat = {.dev = 2049, .ino = 77, .mode = 0100644};
  in.open_mode = "r";
  in.mount = MountFingerprint{.mnt_id = 42, .fs_type = "ext4"};
  m.fds.push_back(in);
  FdFingerprint sock;
  sock.fd = 1;
  sock.role = "out";
  sock.access = "w";
  sock.source = "connect";
  sock.kind = "socket";
  sock.stat = {.dev = 8, .ino = 99, .mode = 0140777};
  sock.open_mode = "rw";
  sock.socket = SocketFingerprint{.family = "unix", .type = "stream", .peer_address = "/run/x",
                                  .peer_cred = PeerCred{.pid = 5, .uid = 0, .gid = 0}};
  m.fds.push_back(sock);
  FdFingerprint secret;
  secret.fd = 3;
  secret.role = "key";
  secret.access = "r";
  secret.source = "secret";
  secret.kind = "file";
  secret.stat = {.dev = 1, .ino = 5, .mode = 0100777};
  secret.open_mode = "r";
  secret.memfd_seals = 0;
  secret.secret = "phi-key";
  m.fds.push_back(secret);
  return m;
}

// What the kernel shows for SampleManifest() when the launcher told the truth.
KernelObservation Truthful(const Manifest& m) {
  KernelObservation o;
  o.exe_sha256 = m.exe_sha256;
  o.filter_sha256 = {HexEncode(Sha256(m.filter.bpf))};
  o.seccomp_mode = 2;
  o.no_new_privs = true;
  o.namespaces = m.namespaces;
  o.namespaces["mnt"] = "mnt:[4026532999]";
  o.root = {.mounts = 1, .fs_type = "tmpfs", .read_only = true, .entries = 0};
  for (const FdFingerprint& fp : m.fds) o.fds.push_back(ObservedFdOf(fp));
  return o;
}

TEST(ObservationTest, TruthfulObservationMatches) {
  const Manifest m = SampleManifest();
  EXPECT_TRUE(CheckObservationMatchesManifest(Truthful(m), m).ok());
}

TEST(ObservationTest, JsonRoundTripsThroughCanonicalBytes) {
  KernelObservation o = Truthful(SampleManifest());
  o.cap_bounding = 0x1ffffffffffULL;
  o.fds[0].anon_type = "[eventfd]";
  const std::string bytes = CanonicalJson(o.ToJson()).value();
  auto doc = ParseJsonStrict(bytes);
  ASSERT_TRUE(doc.ok());
  absl::StatusOr<JsonDocument> parsed = ParseJsonDocumentBorrowing(bytes, {});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<KernelObservation> back = KernelObservation::FromJson(parsed->root());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, o);
  EXPECT_NE(bytes.find(R"("bounding":"000001ffffffffff")"), std::string::npos) << bytes;
}

TEST(ObservationTest, FromJsonRefusesUnknownKeysAndBadValues) {
  const KernelObservation o = Truthful(SampleManifest());
  const std::vector<std::pair<std::function<void(Json&)>, std::string>> cases = {
      {[](Json& j) { j["extra"] = 1; }, "extra"},
      {[](Json& j) { j["exe_sha256"] = "ABC"; }, "exe_sha256"},
      {[](Json& j) { j["caps"]["ambient"] = "1"; }, "caps.ambient"},
      {[](Json& j) { j["filters"][0] = "nothex"; }, "filters[0]"},
      {[](Json& j) { j["fds"][0]["fd"] = 5; }, "ascending"},
      {[](Json& j) { j["fds"][1]["socket"]["peer"] = 1; }, "peer"},
      {[](Json& j) { j["root"].erase("mounts"); }, "mounts"},
  };
  for (const auto& [mutate, expect] : cases) {
    Json j = o.ToJson();
    mutate(j);
    const std::string bytes = CanonicalJson(j).value();
    absl::StatusOr<JsonDocument> doc = ParseJsonDocumentBorrowing(bytes, {});
    ASSERT_TRUE(doc.ok());
    absl::StatusOr<KernelObservation> parsed = KernelObservation::FromJson(doc->root());
    ASSERT_FALSE(parsed.ok()) << expect;
    EXPECT_NE(parsed.status().message().find(expect), std::string::npos) << parsed.status();
  }
}

// Each lie the launcher could tell is named by the field the kernel contradicts.
TEST(ObservationTest, EachContradictionIsNamed) {
  const Manifest m = SampleManifest();
  const std::vector<std::pair<std::function<void(KernelObservation&)>, std::string>> cases = {
      {[](KernelObservation& o) { o.filter_sha256[0] = std::string(64, 'e'); },
       "filters[0].sha256: manifest"},
      {[](KernelObservation& o) { o.filter_sha256.push_back(std::string(64, 'e')); },
       "filters: manifest 1 installed, kernel 2 installed"},
      {[](KernelObservation& o) { o.filter_sha256.clear(); }, "filters: manifest 1 installed"},
      {[](KernelObservation& o) { o.seccomp_mode = 0; }, "seccomp_mode"},
      {[](KernelObservation& o) { o.no_new_privs = false; }, "no_new_privs: manifest true"},
      {[](KernelObservation& o) { o.cap_bounding = 1 << 13; },
       "caps.bounding: manifest 0000000000000000, kernel 0000000000002000"},
      {[](KernelObservation& o) { o.cap_permitted = 1; }, "caps.permitted"},
      {[](KernelObservation& o) { o.exe_sha256 = std::string(64, 'f'); }, "exe_sha256: manifest"},
      {[](KernelObservation& o) { o.root.mounts = 30; }, "root.mounts: manifest 1, kernel 30"},
      {[](KernelObservation& o) { o.root.fs_type = "ext4"; }, "root.fs_type"},
      {[](KernelObservation& o) { o.root.read_only = false; }, "root.read_only"},
      {[](KernelObservation& o) { o.root.entries = 2; }, "root.entries"},
      {[](KernelObservation& o) { o.namespaces["mnt"] = "mnt:[4026531841]"; },
       "namespaces.mnt: kernel mnt:[4026531841], which is not a new mount namespace"},
      {[](KernelObservation& o) { o.namespaces["net"] = "net:[1]"; }, "namespaces.net"},
      {[](KernelObservation& o) { o.namespaces["pid"] = "pid:[1]"; }, "namespaces.pid"},
      {[](KernelObservation& o) {
         ObservedFd extra = o.fds[0];
         extra.fd = 9;
         o.fds.push_back(extra);
       },
       "fd 9: open (kernel) but not declared"},
      {[](KernelObservation& o) { o.fds.erase(o.fds.begin()); },
       "fd 0: declared but not open (kernel)"},
      {[](KernelObservation& o) { o.fds[0].ino = 78; }, "fds[fd 0].ino: manifest 77, kernel 78"},
      {[](KernelObservation& o) { o.fds[0].dev = 1; }, "fds[fd 0].dev"},
      {[](KernelObservation& o) { o.fds[0].mode = 0100666; }, "fds[fd 0].mode"},
      {[](KernelObservation& o) { o.fds[0].open_mode = "rw"; },
       "fds[fd 0].open_mode: manifest \"r\", kernel \"rw\""},
      {[](KernelObservation& o) { o.fds[0].append = true; }, "fds[fd 0].append"},
      {[](KernelObservation& o) { o.fds[0].mnt_id = 43; }, "fds[fd 0].mnt_id"},
      {[](KernelObservation& o) { o.fds[1].socket->peer_pid = 6; }, "fds[fd 1].socket.peer_pid"},
      {[](KernelObservation& o) { o.fds[1].socket->peer_address = "/run/y"; },
       "fds[fd 1].socket.peer_address"},
      {[](KernelObservation& o) { o.fds[1].socket.reset(); }, "fds[fd 1].socket"},
      {[](KernelObservation& o) { o.fds[2].memfd_seals = 15; }, "fds[fd 3].memfd_seals"},
  };
  for (const auto& [mutate, expect] : cases) {
    KernelObservation o = Truthful(m);
    mutate(o);
    absl::Status s = CheckObservationMatchesManifest(o, m);
    ASSERT_FALSE(s.ok()) << expect;
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find(expect), std::string::npos) << s.message();
  }
}

TEST(ObservationTest, UnchangedAllowsOnlyTheSecretBeingSealed) {
  const Manifest m = SampleManifest();
  const KernelObservation load = Truthful(m);
  KernelObservation now = load;
  EXPECT_TRUE(CheckObservationUnchanged(now, load, m).ok());
  now.fds[2].memfd_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  EXPECT_TRUE(CheckObservationUnchanged(now, load, m).ok());
  now.fds[2].memfd_seals = F_SEAL_WRITE;
  EXPECT_FALSE(CheckObservationUnchanged(now, load, m).ok());

  // Sealing a non-secret memfd is a change.
  Manifest plain = m;
  plain.fds[2].secret.reset();
  now.fds[2].memfd_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  absl::Status s = CheckObservationUnchanged(now, load, plain);
  EXPECT_NE(s.message().find("fds[fd 3].memfd_seals: load 0, now 15"), std::string::npos) << s;

  now = load;
  now.filter_sha256.push_back(std::string(64, 'a'));
  s = CheckObservationUnchanged(now, load, m);
  EXPECT_NE(s.message().find("filters: load 1 installed, now 2 installed"), std::string::npos)
      << s;
  now = load;
  now.fds.push_back(load.fds[0]);
  now.fds.back().fd = 12;
  s = CheckObservationUnchanged(now, load, m);
  EXPECT_NE(s.message().find("fd 12: open (now) but not open at load"), std::string::npos) << s;
  now = load;
  now.exe_sha256 = std::string(64, '0');
  EXPECT_NE(CheckObservationUnchanged(now, load, m).message().find("exe_sha256"),
            std::string::npos);
}

// The record that carries an observation, through the log's codec and rules.
CelRecord Record(uint64_t recnum, CelContent c) { return CelRecord::Make(recnum, Register(), c); }

TEST(LaunchObservationRecordTest, RoundTripsAndItsDigestCoversTheContent) {
  const KernelObservation o = Truthful(SampleManifest());
  CelContent c = CelContent::LaunchObservation(kLaunchId, CelContent::ObservationKind::kLoad,
                                               "nonce", std::string(64, 'a'), o, "")
                     .value();
  const CelRecord r = Record(3, c);
  const std::string line = r.ToLine();
  absl::StatusOr<JsonDocument> doc = ParseJsonDocumentBorrowing(line, {});
  ASSERT_TRUE(doc.ok());
  absl::StatusOr<CelRecord> back = CelRecord::FromJson(doc->root(), false);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
  EXPECT_TRUE(DigestEqual(r.digest, Sha256(CanonicalJson(c.ToJson()).value())));
  EXPECT_NE(line.find(R"("kind":"load")"), std::string::npos);
  EXPECT_NE(line.find(R"("nonce":"6e6f6e6365")"), std::string::npos);

  CelContent other = c;
  other.observation->fds[0].ino += 1;
  EXPECT_FALSE(DigestEqual(other.Digest(), c.Digest()));

  CelContent unobserved =
      CelContent::LaunchObservation(kLaunchId, CelContent::ObservationKind::kLoad, "",
                                    std::string(64, 'a'), std::nullopt, "no ptrace here")
          .value();
  const std::string uline = Record(3, unobserved).ToLine();
  EXPECT_NE(uline.find(R"("not_observed":"no ptrace here")"), std::string::npos) << uline;
  doc = ParseJsonDocumentBorrowing(uline, {});
  ASSERT_TRUE(doc.ok());
  back = CelRecord::FromJson(doc->root(), false);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->content->not_observed, "no ptrace here");
}

TEST(LaunchObservationRecordTest, FactoryRefusesInconsistentFields) {
  const KernelObservation o = Truthful(SampleManifest());
  using K = CelContent::ObservationKind;
  const std::string peer(64, 'a');
  EXPECT_FALSE(CelContent::LaunchObservation(kLaunchId, K::kAlive, "", peer, o, "").ok());
  EXPECT_FALSE(
      CelContent::LaunchObservation(kLaunchId, K::kLoad, std::string(65, 'n'), peer, o, "").ok());
  EXPECT_FALSE(CelContent::LaunchObservation(kLaunchId, K::kLoad, "", "ABC", o, "").ok());
  EXPECT_FALSE(CelContent::LaunchObservation(kLaunchId, K::kLoad, "", peer, o, "why").ok());
  EXPECT_FALSE(
      CelContent::LaunchObservation(kLaunchId, K::kLoad, "", peer, std::nullopt, "").ok());
  EXPECT_FALSE(CelContent::LaunchObservation("xyz", K::kLoad, "", peer, o, "").ok());
}

class ObservationReplayTest : public ::testing::Test {
 protected:
  ObservationReplayTest() : replay_(Register()) {
    EXPECT_TRUE(replay_.Apply(Record(0, CelContent::Epoch(1, 0))).ok());
  }
  absl::Status Add(const CelContent& c) { return replay_.Apply(Record(replay_.next_recnum(), c)); }
  CelContent Manifest1() { return CelContent::LaunchManifest(kLaunchId, "m").value(); }
  CelContent Observation(CelContent::ObservationKind kind, absl::string_view nonce = "n") {
    return CelContent::LaunchObservation(kLaunchId, kind, nonce, std::string(64, 'a'),
                                         Truthful(SampleManifest()), "")
        .value();
  }
  CelContent Separator() { return CelContent::LaunchSeparator(kLaunchId).value(); }
  CelReplay replay_;
};

TEST_F(ObservationReplayTest, AnObservedLaunchReplays) {
  using K = CelContent::ObservationKind;
  ASSERT_TRUE(Add(Manifest1()).ok());
  ASSERT_TRUE(Add(Observation(K::kLoad)).ok());
  ASSERT_TRUE(Add(Separator()).ok());
  EXPECT_TRUE(Add(Observation(K::kAlive, "n1")).ok());
  EXPECT_TRUE(Add(Observation(K::kAlive, "n2")).ok());
}

TEST_F(ObservationReplayTest, ASeparatorNeedsTheLoadObservation) {
  ASSERT_TRUE(Add(Manifest1()).ok());
  absl::Status s = Add(Separator());
  EXPECT_NE(s.message().find("never observed"), std::string::npos) << s;
}

TEST_F(ObservationReplayTest, OneLoadObservationOnlyBetweenManifestAndSeparator) {
  using K = CelContent::ObservationKind;
  EXPECT_NE(Add(Observation(K::kLoad)).message().find("without its launch_manifest"),
            std::string::npos);
  ASSERT_TRUE(Add(Manifest1()).ok());
  ASSERT_TRUE(Add(Observation(K::kLoad)).ok());
  EXPECT_NE(Add(Observation(K::kLoad)).message().find("second load"), std::string::npos);
  ASSERT_TRUE(Add(Separator()).ok());
  EXPECT_NE(Add(Observation(K::kLoad)).message().find("after that launch's separator"),
            std::string::npos);
}

TEST_F(ObservationReplayTest, AliveObservationsOnlyAfterTheSeparatorInTheSameEpoch) {
  using K = CelContent::ObservationKind;
  ASSERT_TRUE(Add(Manifest1()).ok());
  EXPECT_NE(Add(Observation(K::kAlive)).message().find("before that launch's separator"),
            std::string::npos);
  ASSERT_TRUE(Add(Observation(K::kLoad)).ok());
  ASSERT_TRUE(Add(Separator()).ok());
  ASSERT_TRUE(Add(CelContent::Epoch(2, 0)).ok());
  EXPECT_NE(Add(Observation(K::kAlive)).message().find("earlier epoch"), std::string::npos);
}

}  // namespace
}  // namespace fdattest
