// A realistic workload end to end: Debian's busybox-static reads a generated
// CSV (phi-input, opened and hashed by the launcher), writes to phi-output
// (an inherited pipe or an opened file) and may log to an append-only audit
// log. Output must be byte-correct and the manifest must describe exactly
// the files, binary and arguments that were used.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/base64.h"
#include "tests/integration/launch_util.h"

namespace fdattest::integration {
namespace {

// A few thousand rows of plausible, deterministic patient-like records.
std::string GenerateCsv() {
  std::string csv = "patient_id,surname,birth_date,icd10,amount_cents,notes\n";
  static const char* kSurnames[] = {"Meyer", "O'Neill", "Nguyen", "Okafor", "Silva", "Kowalski"};
  static const char* kCodes[] = {"E11.9", "I10", "J45.909", "M54.5", "F32.1", "Z00.00"};
  uint32_t x = 12345;
  for (int i = 0; i < 4000; ++i) {
    x = x * 1103515245u + 12345u;
    csv += std::to_string(100000 + i) + "," + kSurnames[(x >> 8) % 6] + "," +
           std::to_string(1930 + (x >> 12) % 90) + "-" + std::to_string(1 + (x >> 4) % 12) + "-" +
           std::to_string(1 + (x >> 16) % 28) + "," + kCodes[(x >> 20) % 6] + "," +
           std::to_string(x % 1000000) + ",\"follow-up " + std::to_string(x % 97) + "\"\n";
  }
  return csv;
}

class BusyboxWorkloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(StatPath(kBusybox).has_value())
        << kBusybox << " is missing (Debian package busybox-static)";
    ASSERT_TRUE(dir_.ok());
    csv_ = GenerateCsv();
    input_ = dir_.File("admissions.csv");
    audit_ = dir_.File("audit.log");
    profile_ = dir_.File("profile.json");
    manifest_ = dir_.File("manifest.json");
    ASSERT_TRUE(WriteWholeFile(input_, csv_, 0600));
  }

  // fd 0 phi-input (open, hashed), fd 1 phi-output (inherit, or open
  // `output_path`), fd 2 audit-log (append).
  void WriteProfile(const std::string& output_path = "") {
    Json out = {{"fd", 1}, {"role", "phi-output"}, {"access", "w"}};
    if (output_path.empty()) {
      out["inherit"] = true;
    } else {
      out["open"] = output_path;
    }
    Json profile = {
        {"version", 1},
        {"name", "phi-etl"},
        {"on_violation", "errno"},
        {"fds",
         {{{"fd", 0}, {"role", "phi-input"}, {"access", "r"}, {"open", input_}, {"hash", true}},
          out,
          {{"fd", 2}, {"role", "audit-log"}, {"access", "a"}, {"open", audit_}}}}};
    ASSERT_TRUE(WriteWholeFile(profile_, profile.dump(2)));
  }

  RunResult RunBusybox(const std::vector<std::string>& applet_args) {
    std::vector<std::string> args = {"--profile", profile_, "--manifest-out",
                                     manifest_,   "--",     kBusybox};
    args.insert(args.end(), applet_args.begin(), applet_args.end());
    return RunFdlaunch(args);
  }

  TempDir dir_;
  std::string csv_, input_, audit_, profile_, manifest_;
};

TEST_F(BusyboxWorkloadTest, CatCopiesInputToInheritedPipeByteForByte) {
  WriteProfile();
  RunResult r = RunBusybox({"cat"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out.size(), csv_.size());
  EXPECT_TRUE(r.out == csv_) << "cat output differs from the input";
}

TEST_F(BusyboxWorkloadTest, Sha256sumPrintsDigestOfInput) {
  WriteProfile();
  RunResult r = RunBusybox({"sha256sum"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out, Sha256Hex(csv_) + "  -\n");
}

// fdlaunch reads no OpenSSL configuration (launcher/main.cc). The caller's
// OPENSSL_CONF here names one that activates only OpenSSL's null provider,
// which has no algorithms: read, it would make the launcher's first SHA-256
// (the exe and the hashed input, for the manifest) fail.
TEST_F(BusyboxWorkloadTest, CallersOpensslConfigIsNotRead) {
  WriteProfile();
  const std::string want = Sha256Hex(csv_);  // this process's OpenSSL is set up before
  const std::string conf = dir_.File("openssl.cnf");
  ASSERT_TRUE(WriteWholeFile(conf,
                             "openssl_conf = openssl_init\n[openssl_init]\n"
                             "providers = provider_sect\n[provider_sect]\nnull = null_sect\n"
                             "[null_sect]\nactivate = 1\n"));
  ASSERT_EQ(setenv("OPENSSL_CONF", conf.c_str(), 1), 0);
  RunResult r = RunBusybox({"sha256sum"});
  unsetenv("OPENSSL_CONF");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out, want + "  -\n");
  Json m = LoadJsonFile(manifest_);
  ASSERT_TRUE(m.is_object()) << "no manifest";
  const Json* input_fp = FindFingerprint(m["fds"], 0);
  ASSERT_NE(input_fp, nullptr);
  EXPECT_EQ((*input_fp)["content_sha256"], want);
  EXPECT_EQ(m["exe"]["sha256"], Sha256HexOfFile(kBusybox));
}

TEST_F(BusyboxWorkloadTest, GzipToOpenedFileDecompressesToInput) {
  const std::string gz = dir_.File("admissions.csv.gz");
  WriteProfile(gz);
  RunResult r = RunBusybox({"gzip", "-c"});
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(r.out, "");  // fd 1 was the opened file, not our pipe

  std::optional<std::string> compressed = ReadWholeFile(gz);
  ASSERT_TRUE(compressed.has_value());
  ASSERT_GE(compressed->size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[1]), 0x8b);
  EXPECT_LT(compressed->size(), csv_.size());

  // Decompress outside the sandbox.
  UniqueFd gz_fd(open(gz.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(gz_fd);
  RunResult d = RunProgram({kBusybox, "gzip", "-dc"}, {{0, gz_fd.get()}});
  ASSERT_FALSE(d.timed_out);
  ASSERT_EQ(d.exit_code(), 0) << d.err;
  EXPECT_EQ(d.out.size(), csv_.size());
  EXPECT_TRUE(d.out == csv_) << "gzip round trip differs from the input";

  // The manifest's fd 1 is the very file we decompressed.
  Json m = LoadJsonFile(manifest_);
  const Json* out_fp = FindFingerprint(m["fds"], 1);
  ASSERT_NE(out_fp, nullptr);
  std::optional<struct stat> st = StatPath(gz);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ((*out_fp)["stat"]["dev"].get<uint64_t>(), st->st_dev);
  EXPECT_EQ((*out_fp)["stat"]["ino"].get<uint64_t>(), st->st_ino);
  EXPECT_EQ((*out_fp)["source"], "open");
  EXPECT_EQ((*out_fp)["open_mode"], "w");
}

TEST_F(BusyboxWorkloadTest, AuditLogIsAppendedNotTruncated) {
  ASSERT_TRUE(WriteWholeFile(audit_, "previous run\n", 0600));
  WriteProfile();
  // cat of a path needs open(2), which the filter refuses: busybox reports
  // that on fd 2, the audit log.
  RunResult r = RunBusybox({"cat", "/etc/hostname"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(r.out, "");
  std::optional<std::string> log = ReadWholeFile(audit_);
  ASSERT_TRUE(log.has_value());
  EXPECT_EQ(log->rfind("previous run\n", 0), 0u) << *log;
  EXPECT_NE(log->find("can't open '/etc/hostname'"), std::string::npos) << *log;
}

TEST_F(BusyboxWorkloadTest, ManifestRecordsInputDigestExeDigestArgvAndFdIdentities) {
  ASSERT_TRUE(WriteWholeFile(audit_, "", 0600));
  WriteProfile();
  Pipe out = Pipe::New();
  ASSERT_TRUE(out.ok());
  std::optional<struct stat> pipe_st = StatFd(out.write_end.get());
  ASSERT_TRUE(pipe_st.has_value());
  RunResult r =
      RunFdlaunch({"--profile", profile_, "--manifest-out", manifest_, "--", kBusybox, "sha256sum"},
                  {{1, out.write_end.get()}});
  out.write_end.reset();
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(ReadUntil(out.read_end.get(), "\n"), Sha256Hex(csv_) + "  -\n");

  Json m = LoadJsonFile(manifest_);
  ASSERT_TRUE(m.is_object()) << "manifest missing or not strict JSON";
  EXPECT_EQ(m["version"], 1);
  EXPECT_EQ(m["exe"]["sha256"], Sha256HexOfFile(kBusybox));
  EXPECT_EQ(m["exe"]["path"], kBusybox);
  EXPECT_EQ(m["argv"], Json::array({kBusybox, "sha256sum"}));
  EXPECT_EQ(m["profile"]["name"], "phi-etl");
  EXPECT_EQ(m["profile"]["sha256"], Sha256HexOfFile(profile_));
  ASSERT_TRUE(m["fds"].is_array());
  EXPECT_EQ(m["fds"].size(), 3u);

  struct Expected {
    int fd;
    const char* role;
    const char* access;
    const char* source;
    struct stat st;
  };
  std::optional<struct stat> in_st = StatPath(input_), audit_st = StatPath(audit_);
  ASSERT_TRUE(in_st && audit_st);
  for (const Expected& e : {Expected{0, "phi-input", "r", "open", *in_st},
                            Expected{1, "phi-output", "w", "inherit", *pipe_st},
                            Expected{2, "audit-log", "a", "open", *audit_st}}) {
    SCOPED_TRACE("fd " + std::to_string(e.fd));
    const Json* fp = FindFingerprint(m["fds"], e.fd);
    ASSERT_NE(fp, nullptr);
    EXPECT_EQ((*fp)["role"], e.role);
    EXPECT_EQ((*fp)["access"], e.access);
    EXPECT_EQ((*fp)["source"], e.source);
    EXPECT_EQ((*fp)["stat"]["dev"].get<uint64_t>(), e.st.st_dev);
    EXPECT_EQ((*fp)["stat"]["ino"].get<uint64_t>(), e.st.st_ino);
    EXPECT_EQ((*fp)["stat"]["mode"].get<uint32_t>(), e.st.st_mode);
  }
  const Json& input_fp = *FindFingerprint(m["fds"], 0);
  EXPECT_EQ(input_fp["content_sha256"], Sha256Hex(csv_));
  EXPECT_EQ(input_fp["content_sha256"], Sha256HexOfFile(input_));
  EXPECT_EQ(input_fp["kind"], "file");
  EXPECT_EQ(input_fp["stat"]["size"].get<uint64_t>(), csv_.size());
  EXPECT_EQ((*FindFingerprint(m["fds"], 1))["kind"], "fifo");
  const Json& audit_fp = *FindFingerprint(m["fds"], 2);
  EXPECT_EQ(audit_fp["append"], true);
  EXPECT_FALSE(audit_fp.contains("content_sha256"));

  // The filter record is self-consistent.
  absl::StatusOr<std::string> bpf = Base64Decode(m["filter"]["bpf_base64"].get<std::string>());
  ASSERT_TRUE(bpf.ok());
  EXPECT_EQ(m["filter"]["sha256"], Sha256Hex(*bpf));
  EXPECT_EQ(m["filter"]["instructions"].get<size_t>() * 8, bpf->size());
  EXPECT_EQ(m["filter"]["on_violation"], "errno");
}

}  // namespace
}  // namespace fdattest::integration
