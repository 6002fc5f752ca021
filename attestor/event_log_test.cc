#include "attestor/event_log.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/file_io.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

constexpr char kLaunchA[] = "0123456789abcdef0123456789abcdef";
constexpr char kLaunchB[] = "fedcba9876543210fedcba9876543210";
constexpr char kManifestA[] = R"({"launch_id":"0123456789abcdef0123456789abcdef","version":1})";
constexpr char kManifestB[] = R"({"launch_id":"fedcba9876543210fedcba9876543210","version":1})";

Register Nv() { return *Register::NvIndex(0x01500020); }

std::string LaunchId(int i) { return absl::StrFormat("%032x", i + 1); }

// A launch's load observation (the attestor's reading of the workload), as
// small as the format allows: no fds, one namespace.
CelContent LoadObservation(absl::string_view launch_id) {
  KernelObservation o;
  o.exe_sha256 = std::string(64, 'a');
  o.filter_sha256 = {std::string(64, 'b')};
  o.seccomp_mode = 2;
  o.no_new_privs = true;
  o.namespaces = {{"net", "net:[4026531840]"}};
  o.root = {.mounts = 1, .fs_type = "tmpfs", .read_only = true, .entries = 0};
  return *CelContent::LaunchObservation(launch_id, CelContent::ObservationKind::kLoad, "",
                                        std::string(64, 'c'), o, "");
}

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "event_log_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/events.cel.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string ReadLog() const { return *ReadFileLimited(path_, 1 << 30); }
  std::vector<std::string> Lines() const {
    return absl::StrSplit(ReadLog(), '\n', absl::SkipEmpty());
  }
  void WriteLines(const std::vector<std::string>& lines) {
    ASSERT_TRUE(WriteFileAtomic(path_, absl::StrCat(absl::StrJoin(lines, "\n"), "\n"), 0600).ok());
  }

  // epoch(7,0), manifest A, manifest B, load observation A, load
  // observation B, separator A, separator B.
  void WriteTwoLaunches() {
    absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE(log->StartEpoch(7, 0).ok());
    ASSERT_TRUE(log->Append(*CelContent::LaunchManifest(kLaunchA, kManifestA)).ok());
    ASSERT_TRUE(log->Append(*CelContent::LaunchManifest(kLaunchB, kManifestB)).ok());
    ASSERT_TRUE(log->Append(LoadObservation(kLaunchA)).ok());
    ASSERT_TRUE(log->Append(LoadObservation(kLaunchB)).ok());
    ASSERT_TRUE(log->Append(*CelContent::LaunchSeparator(kLaunchA)).ok());
    ASSERT_TRUE(log->Append(*CelContent::LaunchSeparator(kLaunchB)).ok());
  }

  // Opening the log must fail with DataLoss mentioning `why`.
  void ExpectRejected(absl::string_view why) {
    absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.status().code(), absl::StatusCode::kDataLoss) << log.status();
    EXPECT_THAT(log.status().message(), HasSubstr(why));
  }

  std::string dir_;
  std::string path_;
};

// --- the register ----------------------------------------------------------

TEST(RegisterTest, ExtendIsSha256OfOldValueThenDigest) {
  // Independently computed: sha256(32 zero bytes || sha256("abc")).
  EXPECT_EQ(HexEncode(ExtendRegister(kRegisterResetValue, Sha256("abc"))),
            "589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d");
}

// The register itself (text, JSON, resettable PCRs): common/register_test.cc.

// --- records ---------------------------------------------------------------

TEST(CelRecordTest, LaunchManifestRecordCarriesTheDigestNotTheManifest) {
  CelRecord r = CelRecord::Make(1, Nv(), *CelContent::LaunchManifest(kLaunchA, kManifestA));
  EXPECT_EQ(r.digest, Sha256(kManifestA));
  std::string line = r.ToLine();
  EXPECT_EQ(line, absl::StrCat(R"({"content":{"data":{"launch_id":")", kLaunchA,
                               R"(","manifest_sha256":")", HexEncode(Sha256(kManifestA)),
                               R"("},"type":"launch_manifest"},"content_type":"fdattest",)",
                               R"("digests":[{"digest":")", HexEncode(Sha256(kManifestA)),
                               R"(","hashAlg":"sha256"}],"nv_index":22020128,"recnum":1})"));
  EXPECT_THAT(line, ::testing::Not(HasSubstr("version")));
  absl::StatusOr<CelRecord> back = CelRecord::FromJson(ParseJsonDocument(line)->root(), false);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToLine(), line);
}

TEST(CelRecordTest, PcrRecordUsesThePcrKey) {
  CelRecord r = CelRecord::Make(0, *Register::Pcr(15), CelContent::Epoch(1, 2));
  EXPECT_THAT(r.ToLine(), HasSubstr(R"("pcr":15)"));
  EXPECT_EQ(r.digest, Sha256(R"({"data":{"reset_count":1,"restart_count":2},"type":"epoch"})"));
}

TEST(CelRecordTest, RejectsMalformedLaunchIds) {
  EXPECT_FALSE(CelContent::LaunchSeparator("0123").ok());
  EXPECT_FALSE(CelContent::LaunchSeparator("0123456789ABCDEF0123456789ABCDEF").ok());
  EXPECT_FALSE(CelContent::LaunchManifest("x", "{}").ok());
}

TEST(CelRecordTest, RejectsOtherBanksAndShapes) {
  Json j = CelRecord::Make(0, Nv(), CelContent::Epoch(1, 0)).ToJson();
  Json sha1 = j;
  sha1["digests"][0]["hashAlg"] = "sha1";
  EXPECT_THAT(CelRecord::FromJson(DocumentOf(sha1)->root(), false).status().message(), HasSubstr("unsupported bank"));
  Json two = j;
  two["digests"].push_back(j["digests"][0]);
  EXPECT_THAT(CelRecord::FromJson(DocumentOf(two)->root(), false).status().message(), HasSubstr("exactly one"));
  Json both = j;
  both["pcr"] = 15;
  EXPECT_THAT(CelRecord::FromJson(DocumentOf(both)->root(), false).status().message(), HasSubstr("exactly one of"));
  Json extra = j;
  extra["note"] = "x";
  EXPECT_THAT(CelRecord::FromJson(DocumentOf(extra)->root(), false).status().message(), HasSubstr("unknown key"));
  Json upper = j;
  std::string hex = upper["digests"][0]["digest"];
  for (char& c : hex) c = static_cast<char>(toupper(c));
  upper["digests"][0]["digest"] = hex;
  EXPECT_THAT(CelRecord::FromJson(DocumentOf(upper)->root(), false).status().message(), HasSubstr("lowercase hex"));
}

// Digest() writes the canonical text of epoch and separator content itself;
// it must be SHA-256 of CanonicalJson(ToJson()), whatever the values.
TEST(CelContentTest, DigestIsTheSha256OfTheCanonicalContent) {
  std::vector<CelContent> contents;
  for (uint32_t reset : {0u, 1u, 4294967295u}) {
    for (uint32_t restart : {0u, 7u, 4294967295u}) contents.push_back(CelContent::Epoch(reset, restart));
  }
  contents.push_back(*CelContent::LaunchSeparator(kLaunchA));
  contents.push_back(*CelContent::LaunchManifest(kLaunchA, kManifestA));
  CelContent odd = *CelContent::LaunchSeparator(kLaunchB);
  odd.launch_id = "not \"hex\"\n";  // never accepted by a parser; still hashed exactly
  contents.push_back(odd);
  for (const CelContent& c : contents) {
    const Sha256Digest expected = c.type == CelContent::Type::kLaunchManifest
                                      ? c.manifest_sha256
                                      : Sha256(*CanonicalJson(c.ToJson()));
    EXPECT_EQ(HexEncode(c.Digest()), HexEncode(expected)) << c.ToJson().dump();
  }
}

TEST(CelRecordTest, RedactedRecordsOnlyWhereAllowed) {
  CelRecord r = CelRecord::Make(3, Nv(), *CelContent::LaunchSeparator(kLaunchB)).Redacted();
  Json j = r.ToJson();
  EXPECT_FALSE(j.contains("content"));
  EXPECT_EQ(j["redacted"], true);
  EXPECT_TRUE(CelRecord::FromJson(DocumentOf(j)->root(), /*allow_redacted=*/true).ok());
  EXPECT_THAT(CelRecord::FromJson(DocumentOf(j)->root(), /*allow_redacted=*/false).status().message(),
              HasSubstr("redacted record in a full log"));
}

// --- round trip and replay -------------------------------------------------

TEST_F(EventLogTest, RoundTripsRecordsThroughTheFile) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 7u);
  absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), 7u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(log->AllRecords()[i].ToLine(), lines[i]);
    EXPECT_EQ(log->AllRecords()[i].recnum, i);
  }
  ASSERT_TRUE(log->current_epoch().has_value());
  EXPECT_EQ(log->current_epoch()->reset_count, 7u);
}

// LoadObservation(kLaunchA)'s content in canonical JSON, written out.
constexpr char kObservationA[] =
    R"({"data":{"kind":"load","launch_id":"0123456789abcdef0123456789abcdef","nonce":"",)"
    R"("observation":{"caps":{"ambient":"0000000000000000","bounding":"0000000000000000",)"
    R"("effective":"0000000000000000","inheritable":"0000000000000000",)"
    R"("permitted":"0000000000000000"},)"
    R"("exe_sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",)"
    R"("fds":[],"filters":["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"],)"
    R"("namespaces":{"net":"net:[4026531840]"},"no_new_privs":true,)"
    R"("root":{"entries":0,"fs_type":"tmpfs","mounts":1,"read_only":true},"seccomp_mode":2},)"
    R"("peer_exe_sha256":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"},)"
    R"("type":"launch_observation"})";

TEST_F(EventLogTest, ObservationDigestIsSha256OfItsCanonicalContent) {
  EXPECT_EQ(*CanonicalJson(LoadObservation(kLaunchA).ToJson()), kObservationA);
  EXPECT_EQ(HexEncode(LoadObservation(kLaunchA).Digest()), HexEncode(Sha256(kObservationA)));
}

TEST_F(EventLogTest, ReplayEqualsAHandComputedSha256Chain) {
  {
    absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(log->StartEpoch(7, 0).ok());
    ASSERT_TRUE(log->Append(*CelContent::LaunchManifest(kLaunchA, kManifestA)).ok());
    ASSERT_TRUE(log->Append(LoadObservation(kLaunchA)).ok());
    ASSERT_TRUE(log->Append(*CelContent::LaunchSeparator(kLaunchA)).ok());
  }
  // Computed outside this code base (python hashlib) from the same four
  // digests: sha256 of the epoch content's canonical JSON, sha256 of the
  // manifest bytes, sha256 of the observation's and of the separator's
  // content as canonical JSON (the literal texts below).
  const std::string kExpected = "da975377f83172a5280292fdfb2360d752627f66b0410d31e495785ce3a5b045";
  absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(HexEncode(log->expected_value()), kExpected);

  // And by hand here, from the literal texts.
  Sha256Digest v = kRegisterResetValue;
  v = ExtendRegister(v, Sha256(R"({"data":{"reset_count":7,"restart_count":0},"type":"epoch"})"));
  v = ExtendRegister(v, Sha256(kManifestA));
  v = ExtendRegister(v, Sha256(kObservationA));
  v = ExtendRegister(v, Sha256(absl::StrCat(R"({"data":{"launch_id":")", kLaunchA,
                                            R"("},"type":"launch_separator"})")));
  EXPECT_EQ(HexEncode(v), kExpected);
}

TEST_F(EventLogTest, CreatesAnEmptyPrivateLog) {
  absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->size(), 0u);
  EXPECT_EQ(log->expected_value(), kRegisterResetValue);
  EXPECT_FALSE(log->current_epoch().has_value());
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(EventLogTest, RefusesASecondOpenerWhileHeld) {
  absl::StatusOr<EventLog> first = EventLog::Open(path_, Nv());
  ASSERT_TRUE(first.ok());
  absl::StatusOr<EventLog> second = EventLog::Open(path_, Nv());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("in use by another process"));
}

TEST_F(EventLogTest, AppendRefusesRecordsThatBreakTheRulesAndWritesNothing) {
  absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok());
  // Nothing before the epoch record.
  EXPECT_THAT(log->Append(*CelContent::LaunchManifest(kLaunchA, kManifestA)).status().message(),
              HasSubstr("must begin with an epoch record"));
  ASSERT_TRUE(log->StartEpoch(1, 0).ok());
  EXPECT_THAT(log->Append(*CelContent::LaunchSeparator(kLaunchA)).status().message(),
              HasSubstr("without its launch_manifest"));
  ASSERT_TRUE(log->Append(*CelContent::LaunchManifest(kLaunchA, kManifestA)).ok());
  EXPECT_THAT(log->Append(*CelContent::LaunchManifest(kLaunchA, kManifestA)).status().message(),
              HasSubstr("duplicate launch_manifest"));
  // The separator needs the launch's load observation first.
  EXPECT_THAT(log->Append(*CelContent::LaunchSeparator(kLaunchA)).status().message(),
              HasSubstr("without its load launch_observation"));
  ASSERT_TRUE(log->Append(LoadObservation(kLaunchA)).ok());
  EXPECT_THAT(log->Append(LoadObservation(kLaunchA)).status().message(), HasSubstr("second load launch_observation"));
  ASSERT_TRUE(log->Append(*CelContent::LaunchSeparator(kLaunchA)).ok());
  absl::Status after = log->Append(*CelContent::LaunchSeparator(kLaunchA)).status();
  EXPECT_EQ(after.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(after.message(), HasSubstr("after that launch's separator"));
  EXPECT_THAT(log->StartEpoch(1, 0).status().message(), HasSubstr("duplicate epoch"));
  EXPECT_EQ(log->size(), 4u);  // epoch, manifest A, observation A, separator A
  EXPECT_EQ(Lines().size(), 4u);
}

// --- tampering -------------------------------------------------------------

TEST_F(EventLogTest, RejectsATamperedDigest) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  Json j = *ParseJsonStrict(lines[5]);  // separator A
  j["digests"][0]["digest"] = HexEncode(Sha256("something else"));
  lines[5] = *CanonicalJson(j);
  WriteLines(lines);
  ExpectRejected("line 6: record: digest");
  ExpectRejected("does not match its launch_separator content");
}

TEST_F(EventLogTest, RejectsATamperedManifestDigest) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  Json j = *ParseJsonStrict(lines[1]);
  j["content"]["data"]["manifest_sha256"] = HexEncode(Sha256("another manifest"));
  lines[1] = *CanonicalJson(j);
  WriteLines(lines);
  ExpectRejected("does not match its launch_manifest content");
}

TEST_F(EventLogTest, RejectsTamperedContent) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  Json j = *ParseJsonStrict(lines[0]);  // epoch: claim another reset count
  j["content"]["data"]["reset_count"] = 8;
  lines[0] = *CanonicalJson(j);
  WriteLines(lines);
  ExpectRejected("line 1: record: digest");
}

TEST_F(EventLogTest, RejectsARecnumGap) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  Json j = *ParseJsonStrict(lines[2]);
  j["recnum"] = 9;
  lines[2] = *CanonicalJson(j);
  WriteLines(lines);
  ExpectRejected("line 3: record has recnum 9 where 2 comes next");
}

TEST_F(EventLogTest, RejectsADeletedRecord) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  lines.erase(lines.begin() + 2);
  WriteLines(lines);
  ExpectRejected("recnum 3 where 2 comes next");
}

TEST_F(EventLogTest, RejectsReorderedRecords) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  std::swap(lines[1], lines[2]);
  WriteLines(lines);
  ExpectRejected("line 2: record has recnum 2 where 1 comes next");
}

TEST_F(EventLogTest, RejectsReorderedRecordsEvenWhenRenumbered) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  // Separator A before manifest A, recnums rewritten to look continuous.
  std::vector<std::string> reordered = {lines[0], lines[5], lines[1]};
  for (size_t i = 0; i < reordered.size(); ++i) {
    Json j = *ParseJsonStrict(reordered[i]);
    j["recnum"] = i;
    reordered[i] = *CanonicalJson(j);
  }
  WriteLines(reordered);
  ExpectRejected(
      "launch_separator for launch 0123456789abcdef0123456789abcdef without its "
      "launch_manifest");
}

TEST_F(EventLogTest, RejectsADuplicateManifest) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  Json dup = *ParseJsonStrict(lines[2]);  // manifest B again, before B's separator
  dup["recnum"] = 3;
  std::vector<std::string> tampered = {lines[0], lines[1], lines[2], *CanonicalJson(dup)};
  WriteLines(tampered);
  ExpectRejected(
      "duplicate launch_manifest for launch fedcba9876543210fedcba9876543210 (first at "
      "record 2)");
}

TEST_F(EventLogTest, RejectsARecordAfterTheLaunchSeparator) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  Json again = *ParseJsonStrict(lines[1]);  // manifest A after A's separator
  again["recnum"] = 7;
  lines.push_back(*CanonicalJson(again));
  WriteLines(lines);
  ExpectRejected(
      "line 8: record 7: launch_manifest for launch 0123456789abcdef0123456789abcdef "
      "after that launch's separator (record 5)");
}

TEST_F(EventLogTest, RejectsUnknownContentTypes) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  Json ima = *ParseJsonStrict(lines[4]);
  ima["content_type"] = "ima_template";
  lines[4] = *CanonicalJson(ima);
  WriteLines(lines);
  ExpectRejected("unknown content_type \"ima_template\"");

  lines = {lines[0]};
  Json odd = *ParseJsonStrict(lines[0]);
  odd["content"]["type"] = "firmware_end";
  odd["recnum"] = 1;
  lines.push_back(*CanonicalJson(odd));
  WriteLines(lines);
  ExpectRejected("unknown content type \"firmware_end\"");
}

TEST_F(EventLogTest, RejectsNonCanonicalAndForeignRegisterLines) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  std::vector<std::string> spaced = lines;
  spaced[1].insert(1, " ");
  WriteLines(spaced);
  ExpectRejected("line 2: not in canonical JSON form");

  absl::StatusOr<EventLog> as_pcr = EventLog::Open(path_ + ".other", *Register::Pcr(15));
  ASSERT_TRUE(as_pcr.ok());
  WriteLines(lines);
  absl::StatusOr<EventLog> wrong = EventLog::Open(path_, *Register::Pcr(15));
  EXPECT_THAT(wrong.status().message(),
              HasSubstr("is for register nv:0x01500020 but this log measures pcr:15"));
}

TEST_F(EventLogTest, RejectsARedactedRecordInTheFile) {
  WriteTwoLaunches();
  std::vector<std::string> lines = Lines();
  lines[2] = CelRecord::Make(2, Nv(), *CelContent::LaunchManifest(kLaunchB, kManifestB))
                 .Redacted()
                 .ToLine();
  WriteLines(lines);
  ExpectRejected("redacted record in a full log");
}

// --- torn tails and crash recovery ------------------------------------------

TEST_F(EventLogTest, DetectsAndRepairsATornLastLine) {
  WriteTwoLaunches();
  std::string complete = ReadLog();
  std::string next =
      CelRecord::Make(7, Nv(), *CelContent::LaunchManifest(LaunchId(9), "{}")).ToLine();
  // A crash mid-write leaves any prefix of the line without its newline.
  for (size_t cut : {size_t{1}, next.size() / 2, next.size()}) {
    ASSERT_TRUE(WriteFileAtomic(path_, complete + next.substr(0, cut), 0600).ok());
    absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
    ASSERT_EQ(log.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(log.status().message(), HasSubstr("torn record"));
    EXPECT_THAT(log.status().message(), HasSubstr("EventLog::Repair"));

    absl::StatusOr<RepairResult> repaired = EventLog::Repair(path_, Nv());
    ASSERT_TRUE(repaired.ok()) << repaired.status();
    EXPECT_EQ(repaired->bytes_removed, cut);
    EXPECT_EQ(repaired->records_kept, 7u);
    EXPECT_EQ(ReadLog(), complete);
    log = EventLog::Open(path_, Nv());
    ASSERT_TRUE(log.ok()) << log.status();
    EXPECT_EQ(log->size(), 7u);
  }
}

TEST_F(EventLogTest, RepairLeavesAnIntactLogAloneAndNeverHidesDamage) {
  WriteTwoLaunches();
  std::string complete = ReadLog();
  absl::StatusOr<RepairResult> nothing = EventLog::Repair(path_, Nv());
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->bytes_removed, 0u);
  EXPECT_EQ(ReadLog(), complete);

  // Damage in a complete line is not a torn tail: Repair refuses and changes nothing.
  std::vector<std::string> lines = Lines();
  lines[1][lines[1].size() - 3] = 'x';
  std::string damaged = absl::StrCat(absl::StrJoin(lines, "\n"), "\n", "{\"rec");
  ASSERT_TRUE(WriteFileAtomic(path_, damaged, 0600).ok());
  absl::StatusOr<RepairResult> refused = EventLog::Repair(path_, Nv());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadLog(), damaged);
}

TEST_F(EventLogTest, ReconcileReportsConsistentPendingAndDiverged) {
  absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok());
  // Empty log: a fresh register agrees; anything else diverged.
  EXPECT_EQ(log->ReconcileWith(kRegisterResetValue).state, Reconciliation::State::kConsistent);
  EXPECT_EQ(log->ReconcileWith(Sha256("x")).state, Reconciliation::State::kDiverged);

  // The attestor's protocol: append (durable), then extend.
  Sha256Digest tpm = kRegisterResetValue;
  absl::StatusOr<CelRecord> epoch = log->StartEpoch(3, 0);
  ASSERT_TRUE(epoch.ok());
  // Crash here: appended, not extended.
  Reconciliation pending = log->ReconcileWith(tpm);
  EXPECT_EQ(pending.state, Reconciliation::State::kOnePending);
  ASSERT_TRUE(pending.pending.has_value());
  EXPECT_EQ(pending.pending->recnum, 0u);
  EXPECT_THAT(pending.explanation, HasSubstr("written but not extended"));
  // Recovery: extend the pending digest, then they agree.
  tpm = ExtendRegister(tpm, pending.pending->digest);
  EXPECT_EQ(log->ReconcileWith(tpm).state, Reconciliation::State::kConsistent);

  absl::StatusOr<CelRecord> m = log->Append(*CelContent::LaunchManifest(kLaunchA, kManifestA));
  ASSERT_TRUE(m.ok());
  tpm = ExtendRegister(tpm, m->digest);
  EXPECT_EQ(log->ReconcileWith(tpm).state, Reconciliation::State::kConsistent);

  absl::StatusOr<CelRecord> o = log->Append(LoadObservation(kLaunchA));
  ASSERT_TRUE(o.ok());
  tpm = ExtendRegister(tpm, o->digest);
  EXPECT_EQ(log->ReconcileWith(tpm).state, Reconciliation::State::kConsistent);

  // Survives reopening (the daemon's restart path).
  absl::StatusOr<CelRecord> s = log->Append(*CelContent::LaunchSeparator(kLaunchA));
  ASSERT_TRUE(s.ok());
  log = absl::CancelledError("closed");  // the daemon exits, releasing the lock
  log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok()) << log.status();
  Reconciliation after_restart = log->ReconcileWith(tpm);
  EXPECT_EQ(after_restart.state, Reconciliation::State::kOnePending);
  EXPECT_EQ(after_restart.pending->recnum, s->recnum);

  // Two records behind, a register ahead of the log, or a foreign value: diverged.
  Reconciliation behind = log->ReconcileWith(ExtendRegister(kRegisterResetValue, epoch->digest));
  EXPECT_EQ(behind.state, Reconciliation::State::kDiverged);
  EXPECT_THAT(behind.explanation, HasSubstr("diverged; refusing to serve"));
  EXPECT_THAT(behind.explanation, HasSubstr("resetCount 3"));
  EXPECT_EQ(log->ReconcileWith(ExtendRegister(log->expected_value(), Sha256("extra"))).state,
            Reconciliation::State::kDiverged);
  EXPECT_EQ(log->ReconcileWith(kRegisterResetValue).state, Reconciliation::State::kDiverged);
}

// --- redaction ---------------------------------------------------------------

TEST_F(EventLogTest, ServesOtherLaunchesAsDigestsOnly) {
  WriteTwoLaunches();
  absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok());
  absl::StatusOr<std::vector<CelRecord>> served = log->Records(kLaunchA);
  ASSERT_TRUE(served.ok()) << served.status();
  ASSERT_EQ(served->size(), 7u);
  EXPECT_FALSE((*served)[0].redacted());  // the epoch record: host-level, never redacted
  EXPECT_FALSE((*served)[1].redacted());  // A's manifest
  EXPECT_TRUE((*served)[2].redacted());   // B's manifest
  EXPECT_FALSE((*served)[3].redacted());  // A's load observation
  EXPECT_TRUE((*served)[4].redacted());   // B's load observation
  EXPECT_FALSE((*served)[5].redacted());  // A's separator
  EXPECT_TRUE((*served)[6].redacted());   // B's separator
  std::string text;
  for (const CelRecord& r : *served) text += r.ToLine() + "\n";
  EXPECT_THAT(text, ::testing::Not(HasSubstr(kLaunchB)));
  // B's manifest digest stays (the register needs it), but no content names it.
  EXPECT_THAT(text, ::testing::Not(HasSubstr(
                        absl::StrCat("\"manifest_sha256\":\"", HexEncode(Sha256(kManifestB))))));
  EXPECT_THAT((*served)[2].ToLine(), HasSubstr("\"redacted\":true"));

  // A verifier replays the served records to the same register value.
  CelReplay replay(Nv());
  for (const CelRecord& r : *served) {
    absl::StatusOr<CelRecord> parsed =
        CelRecord::FromJson(ParseJsonDocument(r.ToLine())->root(), /*allow_redacted=*/true);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_TRUE(replay.Apply(*parsed).ok());
  }
  EXPECT_EQ(replay.value(), log->expected_value());

  absl::StatusOr<std::vector<CelRecord>> none = log->Records("");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(
      std::count_if(none->begin(), none->end(), [](const CelRecord& r) { return r.redacted(); }),
      6);
  EXPECT_EQ(log->Records(LaunchId(77)).status().code(), absl::StatusCode::kNotFound);
}

// --- epochs ------------------------------------------------------------------

TEST_F(EventLogTest, ANewEpochReplaysFromTheResetValue) {
  absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(log->StartEpoch(1, 0).ok());
  ASSERT_TRUE(log->Append(*CelContent::LaunchManifest(kLaunchA, kManifestA)).ok());
  ASSERT_TRUE(log->Append(LoadObservation(kLaunchA)).ok());
  ASSERT_TRUE(log->Append(*CelContent::LaunchSeparator(kLaunchA)).ok());
  Sha256Digest before_reset = log->expected_value();

  // TPM Reset: the register starts again from zero, and so does the replay.
  absl::StatusOr<CelRecord> epoch2 = log->StartEpoch(2, 0);
  ASSERT_TRUE(epoch2.ok());
  EXPECT_EQ(log->expected_value(), ExtendRegister(kRegisterResetValue, epoch2->digest));
  EXPECT_NE(log->expected_value(), before_reset);
  ASSERT_TRUE(log->Append(*CelContent::LaunchManifest(kLaunchB, kManifestB)).ok());
  // A launch id is unique over the whole log, not only within an epoch.
  EXPECT_THAT(log->Append(*CelContent::LaunchManifest(kLaunchA, kManifestA)).status().message(),
              HasSubstr("after that launch's separator"));

  log = absl::CancelledError("closed");  // release the lock
  log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->current_epoch()->reset_count, 2u);
  EXPECT_EQ(log->current_epoch()->first_recnum, 4u);
  Sha256Digest v = ExtendRegister(kRegisterResetValue, epoch2->digest);
  v = ExtendRegister(v, Sha256(kManifestB));
  EXPECT_EQ(log->expected_value(), v);

  // Served records cover the current epoch only: the earlier epoch cannot be
  // certified any more.
  absl::StatusOr<std::vector<CelRecord>> served = log->Records(kLaunchB);
  ASSERT_TRUE(served.ok());
  ASSERT_EQ(served->size(), 2u);
  EXPECT_EQ((*served)[0].recnum, 4u);
  EXPECT_EQ(log->Records(kLaunchA).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EventLogTest, RejectsASeparatorWhoseManifestIsInAnEarlierEpoch) {
  absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(log->StartEpoch(1, 0).ok());
  ASSERT_TRUE(log->Append(*CelContent::LaunchManifest(kLaunchA, kManifestA)).ok());
  ASSERT_TRUE(log->Append(LoadObservation(kLaunchA)).ok());
  ASSERT_TRUE(log->StartEpoch(1, 1).ok());  // TPM Restart: restartCount moved
  EXPECT_THAT(log->Append(*CelContent::LaunchSeparator(kLaunchA)).status().message(),
              HasSubstr("earlier epoch"));
}

// --- scale ---------------------------------------------------------------------

TEST_F(EventLogTest, ReplaysTenThousandRecordsQuickly) {
  constexpr int kLaunches = 3333;  // 3 records each, plus the epoch record
  std::string text;
  Sha256Digest v = kRegisterResetValue;
  uint64_t recnum = 0;
  auto add = [&](CelContent c) {
    CelRecord r = CelRecord::Make(recnum++, Nv(), std::move(c));
    v = ExtendRegister(v, r.digest);
    text += r.ToLine();
    text += '\n';
  };
  add(CelContent::Epoch(42, 0));
  for (int i = 0; i < kLaunches; ++i) {
    std::string id = LaunchId(i);
    add(*CelContent::LaunchManifest(id, absl::StrCat("manifest ", i)));
    add(LoadObservation(id));
    add(*CelContent::LaunchSeparator(id));
  }
  ASSERT_TRUE(WriteFileAtomic(path_, text, 0600).ok());

  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<EventLog> log = EventLog::Open(path_, Nv());
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->size(), 3u * kLaunches + 1);
  EXPECT_EQ(log->expected_value(), v);
  double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  std::printf("replayed %llu records (%zu bytes) in %.1f ms\n",
              static_cast<unsigned long long>(log->size()), text.size(), ms);
  // Generous (sanitizer builds are several times slower); a regression to
  // quadratic replay would take far longer.
  EXPECT_LT(ms, 5000.0);

  start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<CelRecord>> served = log->Records(LaunchId(kLaunches / 2));
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(served.ok());
  std::printf("redacted view of %zu records in %.1f ms\n", served->size(), ms);

  // Appends to a large log stay cheap (no rewrite): one line and one fsync.
  start = std::chrono::steady_clock::now();
  ASSERT_TRUE(log->Append(*CelContent::LaunchManifest(LaunchId(kLaunches), "new")).ok());
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("append + fsync on a %llu-record log: %.2f ms\n",
              static_cast<unsigned long long>(log->size()), ms);
}

}  // namespace
}  // namespace fdattest
