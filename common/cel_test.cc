// CelRecord is the one codec of an event-log record: the attestor writes
// records with ToLine()/ToJson(); the log file's reader, fdlaunch and the
// verifier read them with FromJson(). These tests hold the two directions to
// each other, for every content type, both register kinds and redaction.
#include "common/cel.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr char kLaunch[] = "0123456789abcdef0123456789abcdef";
constexpr char kOther[] = "fedcba9876543210fedcba9876543210";
constexpr uint32_t kNvIndex = 0x01bfda00;  // 29350400

absl::StatusOr<CelRecord> FromLine(const std::string& line) {
  ASSIGN_OR_RETURN(JsonDocument doc, ParseJsonDocument(line));
  return CelRecord::FromJson(doc.root(), /*allow_redacted=*/true);
}

std::vector<CelRecord> OneOfEachKind() {
  const Register nv = *Register::NvIndex(kNvIndex);
  const Register pcr = *Register::Pcr(15);
  return {
      CelRecord::Make(0, nv, CelContent::Epoch(3, 1)),
      CelRecord::Make(1, nv, *CelContent::LaunchManifest(kLaunch, R"({"launch_id":"x"})")),
      CelRecord::Make(2, nv, *CelContent::LaunchSeparator(kLaunch)),
      CelRecord::Make(3, nv, *CelContent::LaunchSeparator(kOther)).Redacted(),
      CelRecord::Make(0, pcr, CelContent::Epoch(UINT32_MAX, UINT32_MAX)),
      CelRecord::Make(INT64_MAX, pcr,
                      *CelContent::LaunchManifestDigest(kOther, Sha256("other manifest"))),
  };
}

TEST(CelRecordCodecTest, SerializeThenParseGivesTheSameRecord) {
  for (const CelRecord& record : OneOfEachKind()) {
    const std::string line = record.ToLine();
    absl::StatusOr<CelRecord> back = FromLine(line);
    ASSERT_TRUE(back.ok()) << line << ": " << back.status();
    EXPECT_EQ(*back, record) << line;
    EXPECT_EQ(back->ToLine(), line);
  }
}

TEST(CelRecordCodecTest, ParseThenSerializeGivesTheSameBytes) {
  // Written out here in the spelling docs/formats/event-log.md gives, not
  // produced by ToLine().
  const std::string epoch = R"({"data":{"reset_count":3,"restart_count":1},"type":"epoch"})";
  const std::string separator =
      absl::StrCat(R"({"data":{"launch_id":")", kLaunch, R"("},"type":"launch_separator"})");
  const std::string manifest_hex = HexEncode(Sha256("manifest bytes"));
  const std::string manifest =
      absl::StrCat(R"({"data":{"launch_id":")", kLaunch, R"(","manifest_sha256":")", manifest_hex,
                   R"("},"type":"launch_manifest"})");
  auto line = [](const std::string& content, const std::string& digest_hex, const std::string& reg,
                 uint64_t recnum) {
    return absl::StrCat(R"({"content":)", content,
                        R"(,"content_type":"fdattest","digests":[{"digest":")", digest_hex,
                        R"(","hashAlg":"sha256"}],)", reg, R"(,"recnum":)", recnum, "}");
  };
  const std::vector<std::string> lines = {
      line(epoch, HexEncode(Sha256(epoch)), R"("nv_index":29350400)", 0),
      line(manifest, manifest_hex, R"("nv_index":29350400)", 1),
      line(separator, HexEncode(Sha256(separator)), R"("pcr":15)", 2),
      absl::StrCat(R"({"content_type":"fdattest","digests":[{"digest":")", std::string(64, 'e'),
                   R"(","hashAlg":"sha256"}],"nv_index":29350400,"recnum":3,"redacted":true})"),
  };
  for (const std::string& text : lines) {
    absl::StatusOr<CelRecord> record = FromLine(text);
    ASSERT_TRUE(record.ok()) << text << ": " << record.status();
    EXPECT_EQ(record->ToLine(), text);
  }
}

TEST(CelRecordCodecTest, RecordsOfAnotherRegisterOrContentAreNotEqual) {
  // The equality the round trips rely on sees every field.
  const std::vector<CelRecord> records = OneOfEachKind();
  for (size_t i = 0; i < records.size(); ++i) {
    for (size_t j = 0; j < records.size(); ++j) {
      EXPECT_EQ(records[i] == records[j], i == j) << i << " " << j;
    }
  }
  CelRecord moved = records[1];
  moved.reg = *Register::NvIndex(kNvIndex + 1);
  EXPECT_FALSE(moved == records[1]);
}

}  // namespace
}  // namespace fdattest
