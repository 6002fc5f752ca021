// Evidence is the one codec of the evidence bundle: fdlaunch writes it with
// Serialize(), the verifier reads it with Parse(). The bundles fdlaunch wrote
// against a real attestor (the fuzz seeds) must come back byte for byte.
#include "common/evidence.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr char kLaunch[] = "0123456789abcdef0123456789abcdef";
constexpr char kOther[] = "fedcba9876543210fedcba9876543210";

std::string Raw(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

// This launch's load observation, of a workload holding a unix socket: the
// deepest JSON a bundle carries (bundle, event_log, record, content, data,
// observation, fds, fd, socket).
CelContent LoadObservationWithASocket() {
  KernelObservation o;
  o.exe_sha256 = HexEncode(Sha256("exe"));
  o.filter_sha256 = {HexEncode(Sha256("filter"))};
  o.seccomp_mode = 2;
  o.no_new_privs = true;
  o.root = {.mounts = 1, .fs_type = "tmpfs", .read_only = true};
  o.fds.push_back(ObservedFd{.fd = 3, .kind = "socket", .open_mode = "rw",
                             .socket = ObservedSocket{.family = "unix", .type = "stream",
                                                      .peer_pid = 7, .peer_uid = 0,
                                                      .peer_gid = 0}});
  return *CelContent::LaunchObservation(kLaunch, CelContent::ObservationKind::kLoad, "n",
                                        HexEncode(Sha256("launcher")), o, "");
}

// A self-consistent bundle: an earlier launch's records redacted, this
// launch's manifest, load observation and separator in full, the register
// value their replay.
Evidence SampleEvidence(const Register& reg) {
  Evidence e;
  e.nonce = Raw(Sha256("nonce"));
  e.manifest = absl::StrCat(R"({"attested":true,"launch_id":")", kLaunch, R"("})");
  e.manifest_sha256 = Sha256(e.manifest);
  e.qualifying_data = EvidenceQualifyingData(e.nonce, e.manifest_sha256);
  e.launch_id = kLaunch;
  e.attest = std::string("\xff\x54\x43\x47 attest", 11);
  e.signature = "signature bytes";
  e.ak_public = "AK public area";
  e.ak_qualified_name = std::string("\x00\x0b", 2) + Raw(Sha256("qualified"));
  e.ek_certificate = "EK certificate DER";
  e.reg = reg;
  e.reset_count = 7;
  e.restart_count = 2;
  e.event_log = {
      CelRecord::Make(40, reg, CelContent::Epoch(e.reset_count, e.restart_count)),
      CelRecord::Make(41, reg, *CelContent::LaunchManifest(kOther, "{}")).Redacted(),
      CelRecord::Make(42, reg, *CelContent::LaunchManifest(kLaunch, e.manifest)),
      CelRecord::Make(43, reg, *CelContent::LaunchSeparator(kOther)).Redacted(),
      CelRecord::Make(44, reg, LoadObservationWithASocket()),
      CelRecord::Make(45, reg, *CelContent::LaunchSeparator(kLaunch)),
  };
  Sha256Digest value = kRegisterResetValue;
  for (const CelRecord& r : e.event_log) value = ExtendRegister(value, r.digest);
  e.register_value = value;
  return e;
}

TEST(EvidenceCodecTest, SerializeThenParseGivesTheSameValue) {
  for (const Register& reg : {*Register::NvIndex(0x01bfda00), *Register::Pcr(15)}) {
    const Evidence e = SampleEvidence(reg);
    absl::StatusOr<std::string> text = e.Serialize();
    ASSERT_TRUE(text.ok()) << text.status();
    absl::StatusOr<Evidence> back = Evidence::Parse(*text);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(*back == e) << reg.ToString();
    EXPECT_EQ(*back->Serialize(), *text);
  }
}

TEST(EvidenceCodecTest, EqualitySeesEveryField) {
  const Evidence e = SampleEvidence(*Register::Pcr(15));
  Evidence changed = e;
  changed.event_log[1] = changed.event_log[3];
  EXPECT_FALSE(changed == e);
  changed = e;
  changed.restart_count += 1;
  EXPECT_FALSE(changed == e);
  changed = e;
  changed.reg = *Register::Pcr(14);
  EXPECT_FALSE(changed == e);
}

std::string ReadSeed(const std::string& name) {
  std::ifstream in(absl::StrCat(FDATTEST_SOURCE_DIR, "/tests/fuzz/corpus/evidence/", name),
                   std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(EvidenceCodecTest, ParseThenSerializeGivesBackWhatFdlaunchWrote) {
  // Bundles fdlaunch wrote with --evidence-out against fdattestd on swtpm
  // (tests/fuzz/README.md), NV and PCR registers, with redacted records.
  for (const char* name :
       {"genuine_nv_first.json", "genuine_nv_second.json", "genuine_pcr_second.json"}) {
    const std::string text = ReadSeed(name);
    ASSERT_FALSE(text.empty()) << name;
    absl::StatusOr<Evidence> e = Evidence::Parse(text);
    ASSERT_TRUE(e.ok()) << name << ": " << e.status();
    absl::StatusOr<std::string> again = e->Serialize();
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, text) << name;
  }
}

TEST(EvidenceCodecTest, QualifyingDataIsTheDocumentedHash) {
  // docs/formats/evidence.md: SHA-256("fdattest/v1" || nonce || SHA-256(manifest)).
  const std::string nonce = "\x01\x02\x03";
  const Sha256Digest manifest_sha256 = Sha256("manifest");
  EXPECT_EQ(EvidenceQualifyingData(nonce, manifest_sha256),
            Sha256(absl::StrCat("fdattest/v1", nonce, Raw(manifest_sha256))));
  EXPECT_NE(EvidenceQualifyingData("\x01\x02", manifest_sha256),
            EvidenceQualifyingData(nonce, manifest_sha256));
}

}  // namespace
}  // namespace fdattest
