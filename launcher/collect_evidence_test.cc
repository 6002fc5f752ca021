// BuildEvidence: the bundle fdlaunch writes is exactly the documented keys
// (docs/formats/evidence.md) of the parts the attestor served, its log cut at
// the certified value, and every disagreement between the parts fails with
// "attestor: ..." instead of a bundle.
#include "launcher/collect_evidence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

constexpr char kLaunch[] = "0123456789abcdef0123456789abcdef";
constexpr char kOther[] = "fedcba9876543210fedcba9876543210";

std::string Raw(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

Sha256Digest Replay(const std::vector<CelRecord>& records, size_t count) {
  Sha256Digest value = kRegisterResetValue;
  for (size_t i = 0; i < count; ++i) value = ExtendRegister(value, records[i].digest);
  return value;
}

class BuildEvidenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reg_ = *Register::NvIndex(0x01bfda00);
    parts_.nonce = Raw(Sha256("nonce"));
    parts_.manifest = absl::StrCat(R"({"attested":true,"launch_id":")", kLaunch, R"("})");
    parts_.launch_id = kLaunch;
    parts_.event_log = {
        CelRecord::Make(40, reg_, CelContent::Epoch(7, 2)),
        CelRecord::Make(41, reg_, *CelContent::LaunchManifest(kOther, "{}")).Redacted(),
        CelRecord::Make(42, reg_, *CelContent::LaunchManifest(kLaunch, parts_.manifest)),
        CelRecord::Make(43, reg_, Observation(CelContent::ObservationKind::kLoad, parts_.nonce)),
        CelRecord::Make(44, reg_, *CelContent::LaunchSeparator(kOther)).Redacted(),
        CelRecord::Make(45, reg_, *CelContent::LaunchSeparator(kLaunch)),
    };
    parts_.certification = CertifyResponse{.attest = "attest bytes",
                                           .signature = "signature bytes",
                                           .register_value = Replay(parts_.event_log, 6)};
    parts_.info =
        InfoResponse{.ak_public = "AK public area",
                     .ak_name = std::string("\x00\x0b", 2) + Raw(Sha256("name")),
                     .ak_qualified_name = std::string("\x00\x0b", 2) + Raw(Sha256("qualified")),
                     .ek_public = "EK public area",
                     .ek_certificate = "EK certificate DER",
                     .reg = reg_,
                     .reset_count = 7,
                     .restart_count = 2};
  }

  // An observation of this launch recorded as "not observed" (the record's
  // shape is what matters here, not the kernel's view).
  static CelContent Observation(CelContent::ObservationKind kind, const std::string& nonce) {
    absl::StatusOr<CelContent> c = CelContent::LaunchObservation(
        kLaunch, kind, nonce, std::string(64, 'e'), std::nullopt, "test: not observed");
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : CelContent();
  }

  // A re-attestation: an alive observation bound to a second nonce after the
  // launch's records, certified for that nonce.
  void Reattested() {
    parts_.nonce = Raw(Sha256("second nonce"));
    parts_.event_log.push_back(
        CelRecord::Make(46, reg_, Observation(CelContent::ObservationKind::kAlive, parts_.nonce)));
    parts_.certification.register_value = Replay(parts_.event_log, 7);
    parts_.alive_recnum = 46;
  }

  // The error BuildEvidence gives for the current parts ("" when it succeeds).
  std::string ErrorOf() {
    absl::StatusOr<std::string> bundle = BuildEvidence(parts_);
    return bundle.ok() ? "" : std::string(bundle.status().message());
  }

  Register reg_;
  EvidenceParts parts_;
};

TEST_F(BuildEvidenceTest, BundleIsTheDocumentedKeysOfTheParts) {
  absl::StatusOr<std::string> bundle = BuildEvidence(parts_);
  ASSERT_TRUE(bundle.ok()) << bundle.status();

  // Spelled out from docs/formats/evidence.md, independently of Evidence.
  Json log = Json::array();
  for (const CelRecord& r : parts_.event_log) log.push_back(r.ToJson());
  const std::string manifest_sha256 = Raw(Sha256(parts_.manifest));
  const Json expected = {
      {"version", 1},
      {"nonce", HexEncode(parts_.nonce)},
      {"qualifying_data",
       HexEncode(Sha256(absl::StrCat("fdattest/v1", parts_.nonce, manifest_sha256)))},
      {"manifest", Base64Encode(parts_.manifest)},
      {"manifest_sha256", HexEncode(manifest_sha256)},
      {"launch_id", kLaunch},
      {"attest", Base64Encode("attest bytes")},
      {"signature", Base64Encode("signature bytes")},
      {"ak_public", Base64Encode("AK public area")},
      {"ak_qualified_name", HexEncode(parts_.info.ak_qualified_name)},
      {"ek_certificate", Base64Encode("EK certificate DER")},
      {"register", {{"kind", "nv"}, {"nv_index", 0x01bfda00}}},
      {"register_value", HexEncode(parts_.certification.register_value)},
      {"event_log", log},
      {"reset_count", 7},
      {"restart_count", 2},
  };
  EXPECT_EQ(*bundle, *CanonicalJson(expected));

  // And the verifier's reader takes it back.
  absl::StatusOr<Evidence> parsed = Evidence::Parse(*bundle);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->event_log, parts_.event_log);
  EXPECT_EQ(parsed->reg, reg_);
}

TEST_F(BuildEvidenceTest, CutsTheLogAtTheCertifiedValue) {
  // Another launcher measured after certify and before log.
  parts_.event_log.push_back(
      CelRecord::Make(46, reg_,
                      *CelContent::LaunchManifest("00112233445566778899aabbccddeeff", "{}"))
          .Redacted());
  absl::StatusOr<std::string> bundle = BuildEvidence(parts_);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  absl::StatusOr<Evidence> parsed = Evidence::Parse(*bundle);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->event_log.size(), 6u);
  EXPECT_EQ(parsed->event_log.back().recnum, 45u);
}

TEST_F(BuildEvidenceTest, RefusesALogThatDoesNotReachTheCertifiedValue) {
  parts_.event_log.pop_back();
  EXPECT_THAT(ErrorOf(), HasSubstr("does not replay to the certified value"));
  parts_.event_log.clear();
  EXPECT_THAT(ErrorOf(), HasSubstr("does not replay to the certified value"));
}

TEST_F(BuildEvidenceTest, RefusesARecordOfAnotherRegister) {
  parts_.event_log[1].reg = *Register::NvIndex(0x01800000);
  EXPECT_THAT(ErrorOf(),
              HasSubstr("attestor: inconsistent evidence: record 1 names another register"));
}

TEST_F(BuildEvidenceTest, RefusesALogThatBreaksTheLogRules) {
  // Recnums with a gap: the replay of the log's rules, not just of digests.
  parts_.event_log[3].recnum = 50;
  parts_.event_log[4].recnum = 51;
  parts_.event_log[5].recnum = 52;
  EXPECT_THAT(ErrorOf(), HasSubstr("breaks a log rule: record has recnum 50 where 43 comes next"));

  SetUp();  // a log that does not open with its epoch record
  parts_.event_log.erase(parts_.event_log.begin());
  parts_.certification.register_value = Replay(parts_.event_log, 5);
  EXPECT_THAT(ErrorOf(), HasSubstr("breaks a log rule"));

  SetUp();  // a record whose digest is not its content's
  parts_.event_log[5].digest = Sha256("not the separator");
  parts_.certification.register_value = Replay(parts_.event_log, 6);
  EXPECT_THAT(ErrorOf(), HasSubstr("digest does not match its launch_separator content"));

  SetUp();  // the separator without the launch's load observation before it
  parts_.event_log.erase(parts_.event_log.begin() + 3);
  for (size_t i = 3; i < parts_.event_log.size(); ++i) parts_.event_log[i].recnum = 40 + i;
  parts_.certification.register_value = Replay(parts_.event_log, 5);
  EXPECT_THAT(ErrorOf(), HasSubstr("breaks a log rule"));
}

TEST_F(BuildEvidenceTest, RefusesAManifestRecordOfOtherBytes) {
  parts_.event_log[2] =
      CelRecord::Make(42, reg_, *CelContent::LaunchManifest(kLaunch, "other manifest"));
  parts_.certification.register_value = Replay(parts_.event_log, 6);
  EXPECT_THAT(ErrorOf(), HasSubstr("the launch_manifest record is not this manifest's digest"));
}

TEST_F(BuildEvidenceTest, RefusesALaunchWithoutItsSeparatorOrManifest) {
  parts_.certification.register_value = Replay(parts_.event_log, 5);  // before the separator
  EXPECT_THAT(ErrorOf(), HasSubstr("lacks this launch's manifest, load observation or separator"));

  SetUp();  // certified before the load observation
  parts_.certification.register_value = Replay(parts_.event_log, 3);
  EXPECT_THAT(ErrorOf(), HasSubstr("lacks this launch's manifest, load observation or separator"));

  SetUp();  // the manifest redacted: this launch's record not in full
  parts_.event_log[2] = parts_.event_log[2].Redacted();
  EXPECT_THAT(ErrorOf(), HasSubstr("breaks a log rule"));
}

TEST_F(BuildEvidenceTest, RefusesALoadObservationBoundToAnotherNonce) {
  parts_.nonce = Raw(Sha256("a nonce the launch was not bound to"));
  EXPECT_THAT(ErrorOf(), HasSubstr("the load observation is not bound to this nonce"));
}

TEST_F(BuildEvidenceTest, ReattestationBundleHoldsTheAliveObservation) {
  Reattested();
  absl::StatusOr<std::string> bundle = BuildEvidence(parts_);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  absl::StatusOr<Evidence> parsed = Evidence::Parse(*bundle);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->event_log.size(), 7u);
  EXPECT_EQ(parsed->event_log.back().recnum, 46u);
  EXPECT_EQ(parsed->nonce, parts_.nonce);
}

TEST_F(BuildEvidenceTest, RefusesAReattestationWhoseAliveRecordIsNotCertified) {
  Reattested();
  parts_.certification.register_value = Replay(parts_.event_log, 6);  // before the alive record
  EXPECT_THAT(ErrorOf(), HasSubstr("the alive observation (record 46) is not in the certified log"));

  SetUp();  // the attestor named a record that is not this launch's alive observation
  Reattested();
  parts_.alive_recnum = 45;
  EXPECT_THAT(ErrorOf(), HasSubstr("the alive observation (record 45) is not in the certified log"));
}

TEST_F(BuildEvidenceTest, RefusesAnAliveObservationBoundToAnotherNonce) {
  Reattested();
  parts_.nonce = Raw(Sha256("not the re-attestation's nonce"));
  EXPECT_THAT(ErrorOf(), HasSubstr("the alive observation is not bound to this nonce"));
}

TEST_F(BuildEvidenceTest, RefusesAManifestWithAnotherLaunchId) {
  parts_.launch_id = kOther;
  EXPECT_THAT(ErrorOf(), HasSubstr("the manifest's launch_id is not the measured one"));
}

TEST_F(BuildEvidenceTest, RefusesAnAttestorWithoutEkCertificate) {
  parts_.info.ek_certificate.clear();
  EXPECT_THAT(ErrorOf(), HasSubstr("attestor: no EK certificate"));
}

TEST_F(BuildEvidenceTest, RefusesABadNonce) {
  parts_.nonce.clear();
  EXPECT_THAT(ErrorOf(), HasSubstr("nonce must be 1..64 bytes"));
  parts_.nonce = std::string(65, 'n');
  EXPECT_THAT(ErrorOf(), HasSubstr("nonce must be 1..64 bytes"));
}

}  // namespace
}  // namespace fdattest
