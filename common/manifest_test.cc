// Manifest::Parse is the verifier's reader of untrusted manifest bytes: it
// must give back exactly what the launcher wrote and refuse anything else.
#include "common/manifest.h"

#include <gtest/gtest.h>

#include <string>

#include "common/base64.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

Manifest SampleManifest() {
  Manifest m;
  m.launch_id = "0123456789abcdef0123456789abcdef";
  m.time = "2026-11-30T01:14:24Z";
  m.profile_name = "phi-etl";
  m.profile_sha256 = std::string(64, 'a');
  m.exe_path = "/bin/busybox";
  m.exe_sha256 = std::string(64, 'b');
  m.argv = {"busybox", "sha256sum"};
  m.env_names = {"HOME", "PATH"};
  m.uid = m.gid = m.euid = m.egid = 0;
  m.namespaces = {{"mnt", "mnt:[4026531841]"}, {"net", "net:[4026531840]"}};
  m.rlimits = {{"core", {1, 1}}, {"nofile", {1024, UINT64_MAX}}};
  m.attested = true;
  m.launcher_version = "0.4.0";
  m.launcher_sha256 = std::string(64, 'c');

  FdFingerprint in;
  in.fd = 0;
  in.role = "phi-input";
  in.access = "r";
  in.source = "open";
  in.path = "/data/in.csv";
  in.kind = "file";
  in.stat = {.dev = 2049, .ino = UINT64_MAX - 3, .rdev = 0, .size = 4096, .nlink = 1,
             .mode = 0100644, .uid = 1000, .gid = 1000};
  in.open_mode = "r";
  in.mount = MountFingerprint{.mnt_id = 42, .fs_type = "ext4", .read_only = true};
  in.content_sha256 = std::string(64, 'd');
  in.storage = StorageFingerprint{
      .fs_magic = 0xef53,
      .encryption = "fscrypt",
      .fscrypt = FscryptPolicy{.version = 2, .contents_mode = 1, .filenames_mode = 4,
                               .flags = 2, .key = "00112233445566778899aabbccddeeff"}};
  m.fds.push_back(in);

  FdFingerprint out;
  out.fd = 1;
  out.role = "phi-output";
  out.access = "w";
  out.source = "inherit";
  out.kind = "fifo";
  out.open_mode = "w";
  out.pipe_peer_pids = {77};
  m.fds.push_back(out);

  FdFingerprint sock;
  sock.fd = 3;
  sock.role = "phi-output";
  sock.access = "w";
  sock.source = "connect";
  sock.kind = "socket";
  sock.open_mode = "rw";
  SocketFingerprint s;
  s.family = "unix";
  s.type = "stream";
  s.peer_address = "/run/sink.sock";
  s.peer_cred = PeerCred{.pid = 99, .uid = 0, .gid = 0, .exe_sha256 = std::string(64, 'e'),
                         .exe_path = "/usr/bin/python3.11"};
  sock.socket = s;
  m.fds.push_back(sock);

  FdFingerprint secret;
  secret.fd = 5;
  secret.role = "secret";
  secret.access = "r";
  secret.source = "secret";
  secret.secret = "phi-etl-key";
  secret.kind = "file";
  secret.open_mode = "r";
  secret.memfd_seals = 0;
  secret.storage = StorageFingerprint{.fs_magic = 0x01021994, .encryption = "unsupported"};
  m.fds.push_back(secret);
  m.release_key = ReleaseKey{.x = Base64UrlEncode(std::string(32, '\x01')),
                             .y = Base64UrlEncode(std::string(32, '\xfe'))};

  FdFingerprint dir;
  dir.fd = 8;
  dir.source = "inherited";
  dir.kind = "dir";
  dir.open_mode = "r";
  dir.storage = StorageFingerprint{
      .fs_magic = 0xef53,
      .encryption = "fscrypt",
      .fscrypt = FscryptPolicy{.version = 1, .contents_mode = 1, .filenames_mode = 4,
                               .flags = 0, .key = "0011223344556677"}};
  m.closed_fds.push_back(dir);

  FdFingerprint closed;
  closed.fd = 9;
  closed.source = "inherited";
  closed.kind = "anon";
  closed.anon_type = "[eventfd]";
  closed.open_mode = "rw";
  m.closed_fds.push_back(closed);

  m.filter.bpf = std::string(16, '\0');
  m.filter.bpf[0] = 0x06;  // ret
  m.filter.on_violation = "errno";
  m.filter.install_flags = 0;
  m.filter.exec_fd = 7;
  return m;
}

std::string Bytes(const Json& j) { return CanonicalJson(j).value(); }

TEST(ManifestParseTest, RoundTripsEveryField) {
  std::string bytes = Bytes(SampleManifest().ToJson());
  absl::StatusOr<Manifest> parsed = Manifest::Parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(Bytes(parsed->ToJson()), bytes);
  EXPECT_EQ(parsed->fds[0].stat.ino, UINT64_MAX - 3);
  EXPECT_EQ(parsed->fds[2].socket->peer_cred->exe_sha256, std::string(64, 'e'));
  EXPECT_EQ(parsed->filter.bpf, SampleManifest().filter.bpf);
  EXPECT_EQ(parsed->fds[2].socket->peer_cred->exe_path, "/usr/bin/python3.11");
  ASSERT_TRUE(parsed->fds[0].storage.has_value());
  EXPECT_EQ(parsed->fds[0].storage->fs_magic, 0xef53u);
  ASSERT_TRUE(parsed->fds[0].storage->fscrypt.has_value());
  EXPECT_EQ(parsed->fds[0].storage->fscrypt->version, 2);
  EXPECT_EQ(parsed->fds[0].storage->fscrypt->key, "00112233445566778899aabbccddeeff");
  EXPECT_EQ(parsed->closed_fds[0].storage->fscrypt->key, "0011223344556677");
  EXPECT_EQ(parsed->fds[3].secret, "phi-etl-key");
  EXPECT_EQ(parsed->fds[3].source, "secret");
  ASSERT_TRUE(parsed->release_key.has_value());
  EXPECT_EQ(parsed->release_key->x, SampleManifest().release_key->x);
  EXPECT_EQ(parsed->release_key->y, SampleManifest().release_key->y);
}

TEST(ManifestParseTest, ReleaseKeyIsAPublicJwkAndOptional) {
  Json j = SampleManifest().ToJson();
  EXPECT_EQ(j["release_key"], Json({{"crv", "P-256"},
                                    {"kty", "EC"},
                                    {"x", SampleManifest().release_key->x},
                                    {"y", SampleManifest().release_key->y}}));
  j.erase("release_key");  // an unattested launch, or a launcher before the field
  absl::StatusOr<Manifest> parsed = Manifest::Parse(Bytes(j));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->release_key.has_value());
}

TEST(ManifestParseTest, StorageRoundTripsEachEncryptionAnswer) {
  for (const char* answer : {"none", "unsupported", "unknown"}) {
    Manifest m = SampleManifest();
    m.fds[0].storage = StorageFingerprint{.fs_magic = 0x01021994, .encryption = answer};
    std::string bytes = Bytes(m.ToJson());
    absl::StatusOr<Manifest> parsed = Manifest::Parse(bytes);
    ASSERT_TRUE(parsed.ok()) << answer << ": " << parsed.status();
    EXPECT_EQ(Bytes(parsed->ToJson()), bytes);
    EXPECT_EQ(parsed->fds[0].storage->encryption, answer);
    EXPECT_FALSE(parsed->fds[0].storage->fscrypt.has_value());
  }
}

TEST(ManifestParseTest, StorageIsOptionalAndAbsentMeansUnknown) {
  Json j = SampleManifest().ToJson();
  j["fds"][0].erase("storage");  // a manifest from before the field
  absl::StatusOr<Manifest> parsed = Manifest::Parse(Bytes(j));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->fds[0].storage.has_value());
}

TEST(ManifestParseTest, NoCapabilitiesIsReadAndAbsentMeansFalse) {
  Json j = SampleManifest().ToJson();
  ASSERT_EQ(j["no_capabilities"], true);
  absl::StatusOr<Manifest> parsed = Manifest::Parse(Bytes(j));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->no_capabilities);
  j.erase("no_capabilities");  // a manifest from before the field
  parsed = Manifest::Parse(Bytes(j));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->no_capabilities);
  j["no_capabilities"] = "yes";
  EXPECT_FALSE(Manifest::Parse(Bytes(j)).ok());
}

TEST(ManifestParseTest, RejectsNonCanonicalBytes) {
  std::string bytes = Bytes(SampleManifest().ToJson());
  EXPECT_FALSE(Manifest::Parse(bytes + " ").ok());
  EXPECT_FALSE(Manifest::Parse("\n" + bytes).ok());
}

struct Mutation {
  const char* name;
  void (*apply)(Json&);
  const char* expected;  // substring of the error
};

const Mutation kMutations[] = {
    {"unknown top-level key", [](Json& j) { j["extra"] = 1; }, "unknown key \"extra\""},
    {"unknown fd key", [](Json& j) { j["fds"][0]["secrets"] = "x"; },
     "manifest.fds[0]: unknown key \"secrets\""},
    {"secret name on another source", [](Json& j) { j["fds"][0]["secret"] = "k"; },
     "manifest.fds[0].secret must be present exactly for source \"secret\""},
    {"secret source without a name", [](Json& j) { j["fds"][3].erase("secret"); },
     "manifest.fds[3].secret must be present exactly"},
    {"secret name with a space", [](Json& j) { j["fds"][3]["secret"] = "a b"; },
     "manifest.fds[3].secret must be 1..64"},
    {"secret name too long", [](Json& j) { j["fds"][3]["secret"] = std::string(65, 'k'); },
     "manifest.fds[3].secret must be 1..64"},
    {"secret source on a closed fd",
     [](Json& j) {
       j["closed_fds"][0]["source"] = "secret";
       j["closed_fds"][0]["secret"] = "k";
     },
     "manifest.closed_fds[0].source"},
    {"release key not EC", [](Json& j) { j["release_key"]["kty"] = "RSA"; }, "release_key.kty"},
    {"release key other curve", [](Json& j) { j["release_key"]["crv"] = "P-384"; },
     "release_key.crv"},
    {"release key x short",
     [](Json& j) { j["release_key"]["x"] = Base64UrlEncode(std::string(31, '\x01')); },
     "release_key.x must be 32 bytes"},
    {"release key y padded",
     [](Json& j) { j["release_key"]["y"] = Base64Encode(std::string(32, '\xfe')); },
     "release_key.y must be 32 bytes"},
    {"release key with a private member", [](Json& j) { j["release_key"]["d"] = "AAAA"; },
     "unknown key \"d\""},
    {"release key without y", [](Json& j) { j["release_key"].erase("y"); }, "release_key"},
    {"release key not an object", [](Json& j) { j["release_key"] = "key"; }, "release_key"},
    {"unknown socket key", [](Json& j) { j["fds"][2]["socket"]["x"] = 1; }, "socket"},
    {"missing exe", [](Json& j) { j.erase("exe"); }, "exe"},
    {"exe digest not hex", [](Json& j) { j["exe"]["sha256"] = std::string(64, 'Z'); }, "exe.sha256"},
    {"exe digest upper case",
     [](Json& j) { j["exe"]["sha256"] = std::string(64, 'B'); }, "exe.sha256"},
    {"launch id short", [](Json& j) { j["launch_id"] = "0123"; }, "launch_id"},
    {"version 2", [](Json& j) { j["version"] = 2; }, "version"},
    {"role missing", [](Json& j) { j["fds"][0].erase("role"); }, "role"},
    {"access unknown", [](Json& j) { j["fds"][0]["access"] = "x"; }, "access"},
    {"type confusion fd", [](Json& j) { j["fds"][0]["fd"] = "0"; }, "fd"},
    {"type confusion append", [](Json& j) { j["fds"][0]["append"] = 0; }, "append"},
    {"negative ino", [](Json& j) { j["fds"][0]["stat"]["ino"] = -1; }, "ino"},
    {"declared fd over 255", [](Json& j) { j["fds"][2]["fd"] = 256; }, "fd"},
    {"duplicate fd", [](Json& j) { j["fds"][1]["fd"] = 0; }, "repeats"},
    {"unsorted fds", [](Json& j) { std::swap(j["fds"][0], j["fds"][2]); }, "sorted"},
    {"fifo without peers", [](Json& j) { j["fds"][1].erase("pipe_peer_pids"); }, "fifo"},
    {"socket fields on a file",
     [](Json& j) { j["fds"][0]["socket"] = j["fds"][2]["socket"]; }, "socket"},
    {"storage on a fifo",
     [](Json& j) { j["fds"][1]["storage"] = j["fds"][0]["storage"]; }, "storage applies only"},
    {"storage encryption unknown value",
     [](Json& j) { j["fds"][0]["storage"]["encryption"] = "tmpfs"; }, "storage.encryption"},
    {"fscrypt policy without fscrypt answer",
     [](Json& j) { j["fds"][0]["storage"]["encryption"] = "none"; }, "storage.fscrypt"},
    {"fscrypt answer without policy",
     [](Json& j) { j["fds"][0]["storage"].erase("fscrypt"); }, "storage.fscrypt"},
    {"fscrypt version 3",
     [](Json& j) { j["fds"][0]["storage"]["fscrypt"]["version"] = 3; }, "version"},
    {"fscrypt v2 key short",
     [](Json& j) { j["fds"][0]["storage"]["fscrypt"]["master_key_identifier"] = "0011"; },
     "master_key_identifier"},
    {"fscrypt v1 with a v2 identifier",
     [](Json& j) { j["closed_fds"][0]["storage"]["fscrypt"]["version"] = 2; },
     "master_key"},
    {"fscrypt mode over 255",
     [](Json& j) { j["fds"][0]["storage"]["fscrypt"]["contents_mode"] = 256; }, "contents_mode"},
    {"unknown storage key", [](Json& j) { j["fds"][0]["storage"]["persisted"] = true; },
     "persisted"},
    {"peer exe path not text",
     [](Json& j) { j["fds"][2]["socket"]["peer_cred"]["exe_path"] = 1; }, "exe_path"},
    {"role on a closed fd", [](Json& j) { j["closed_fds"][1]["role"] = "x"; }, "role"},
    {"filter digest mismatch",
     [](Json& j) { j["filter"]["sha256"] = std::string(64, '0'); }, "filter.sha256"},
    {"filter count mismatch", [](Json& j) { j["filter"]["instructions"] = 3; }, "instructions"},
    {"filter not base64", [](Json& j) { j["filter"]["bpf_base64"] = "!!!"; }, "base64"},
    {"filter arch", [](Json& j) { j["filter"]["arch"] = "i386"; }, "arch"},
    {"argv not strings", [](Json& j) { j["argv"] = Json::array({1}); }, "argv"},
    {"huge argv", [](Json& j) { j["argv"] = Json(std::vector<std::string>(5000, "a")); }, "argv"},
    {"too many fds",
     [](Json& j) {
       Json fds = Json::array();
       for (int i = 0; i < 33; ++i) {
         Json fd = j["fds"][0];
         fd["fd"] = i;
         fds.push_back(fd);
       }
       j["fds"] = fds;
     },
     "more than 32"},
};

TEST(ManifestParseTest, RejectsEachMutationNamingTheField) {
  for (const Mutation& mutation : kMutations) {
    Json j = SampleManifest().ToJson();
    mutation.apply(j);
    absl::StatusOr<Manifest> parsed = Manifest::Parse(Bytes(j));
    ASSERT_FALSE(parsed.ok()) << mutation.name;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << mutation.name;
    EXPECT_NE(parsed.status().message().find(mutation.expected), std::string::npos)
        << mutation.name << ": " << parsed.status();
  }
}

TEST(ManifestParseTest, RejectsDuplicateKeys) {
  std::string bytes = Bytes(SampleManifest().ToJson());
  std::string dup = "{\"argv\":[],\"argv\":[]," + bytes.substr(1);
  EXPECT_FALSE(Manifest::Parse(dup).ok());
}

}  // namespace
}  // namespace fdattest
