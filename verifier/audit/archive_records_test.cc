// The leaf and the decision record: exact bytes of an example of each, round
// trips, and every strictness rule of Parse (line order, hex spelling and
// length, decimals, verdicts, size; canonical JSON, unknown keys, types).
#include "verifier/audit/archive_records.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace fdattest {
namespace {

// sha256("") and sha256("abc"), the FIPS 180-2 examples.
constexpr char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbcSha[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

AuditLeaf ExampleLeaf() {
  AuditLeaf leaf;
  leaf.result_id = "0123456789abcdef0123456789abcdef";
  leaf.time = 1765000000;
  leaf.tenant = "acme";
  leaf.attester_id = "fedcba9876543210fedcba9876543210";
  leaf.policy_id = "phi-job";
  leaf.policy_version = 3;
  leaf.policy_sha256 = kAbcSha;
  leaf.evidence_sha256 = kEmptySha;
  leaf.result_sha256 = std::string(64, 'a');
  leaf.decision_sha256 = std::string(64, 'b');
  leaf.verdict = "affirming";
  return leaf;
}

constexpr char kExampleLeaf[] =
    "fdattest-audit-leaf/v1\n"
    "result 0123456789abcdef0123456789abcdef\n"
    "time 1765000000\n"
    "tenant acme\n"
    "attester fedcba9876543210fedcba9876543210\n"
    "policy phi-job 3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
    "evidence e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "result-sha256 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
    "decision-sha256 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
    "verdict affirming\n";

TEST(AuditLeafTest, SerializesToTheDocumentedBytes) {
  ASSERT_TRUE(ExampleLeaf().Validate().ok());
  EXPECT_EQ(ExampleLeaf().Serialize(), kExampleLeaf);
  absl::StatusOr<AuditLeaf> parsed = AuditLeaf::Parse(kExampleLeaf);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, ExampleLeaf());
}

TEST(AuditLeafTest, RoundTripsEveryVerdictAndNoAttester) {
  for (const char* verdict : {"affirming", "warning", "contraindicated", "broken_evidence"}) {
    AuditLeaf leaf = ExampleLeaf();
    leaf.verdict = verdict;
    leaf.attester_id.clear();
    leaf.tenant = "default";
    leaf.time = 0;
    const std::string bytes = leaf.Serialize();
    EXPECT_NE(bytes.find("\nattester -\n"), std::string::npos);
    absl::StatusOr<AuditLeaf> parsed = AuditLeaf::Parse(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, leaf);
  }
  AuditLeaf longest = ExampleLeaf();
  longest.tenant = std::string(64, 't');
  longest.policy_id = std::string(128, 'p');
  longest.policy_version = INT64_MAX;
  longest.time = INT64_MAX;
  longest.verdict = "broken_evidence";
  EXPECT_LE(longest.Serialize().size(), kMaxAuditLeafBytes);
  EXPECT_EQ(*AuditLeaf::Parse(longest.Serialize()), longest);
}

// kExampleLeaf with `from` replaced by `to` (once) must not parse.
void ExpectRefused(const std::string& from, const std::string& to) {
  std::string text = kExampleLeaf;
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  absl::StatusOr<AuditLeaf> parsed = AuditLeaf::Parse(text);
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
      << "accepted with \"" << from << "\" -> \"" << to << "\"";
}

TEST(AuditLeafTest, ParseIsStrict) {
  // Header, line order, separators, terminators.
  ExpectRefused("fdattest-audit-leaf/v1", "fdattest-audit-leaf/v2");
  ExpectRefused("time 1765000000\ntenant acme\n", "tenant acme\ntime 1765000000\n");
  ExpectRefused("tenant acme", "tenant  acme");
  ExpectRefused("tenant acme", "tenant\tacme");
  ExpectRefused("tenant acme", "Tenant acme");
  ExpectRefused("verdict affirming\n", "verdict affirming");
  ExpectRefused("verdict affirming\n", "verdict affirming\n\n");
  ExpectRefused("verdict affirming\n", "verdict affirming\nextra x\n");
  ExpectRefused("verdict affirming\n", "verdict affirming\r\n");
  ExpectRefused("tenant acme\n", "");
  // Hex: lowercase and exact length.
  ExpectRefused("result 0123456789abcdef", "result 0123456789ABCDEF");
  ExpectRefused("result 0123456789abcdef0123456789abcdef",
                "result 0123456789abcdef0123456789abcde");
  ExpectRefused("attester fedcba98", "attester fedcba9");
  ExpectRefused("attester fedcba9876543210fedcba9876543210", "attester ");
  ExpectRefused("attester fedcba9876543210fedcba9876543210", "attester none");
  ExpectRefused("evidence e3b0", "evidence E3b0");
  ExpectRefused("evidence e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "evidence e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85500");
  ExpectRefused("result-sha256 aaaa", "result-sha256 gaaa");
  ExpectRefused("decision-sha256 bbbb", "decision-sha256 bbb");
  ExpectRefused("15ad\n", "15aD\n");
  // Decimals: no leading zeros, no sign, no overflow.
  ExpectRefused("time 1765000000", "time 01765000000");
  ExpectRefused("time 1765000000", "time +1765000000");
  ExpectRefused("time 1765000000", "time -1");
  ExpectRefused("time 1765000000", "time 9223372036854775808");
  ExpectRefused("time 1765000000", "time 1e9");
  ExpectRefused("time 1765000000", "time ");
  ExpectRefused("phi-job 3 ", "phi-job 03 ");
  ExpectRefused("phi-job 3 ", "phi-job 0 ");
  ExpectRefused("phi-job 3 ", "phi-job  3 ");
  ExpectRefused("phi-job 3 ", "phi job 3 ");
  ExpectRefused("phi-job 3 ba78", "phi-job 3 ba78 x");
  // Verdicts, tenants and policy ids.
  ExpectRefused("verdict affirming", "verdict Affirming");
  ExpectRefused("verdict affirming", "verdict broken");
  ExpectRefused("verdict affirming", "verdict affirming ");
  ExpectRefused("tenant acme", absl::StrCat("tenant ", std::string(65, 'a')));
  ExpectRefused("tenant acme", "tenant ac/me");
  ExpectRefused("policy phi-job", absl::StrCat("policy ", std::string(129, 'p')));
  // Size.
  std::string huge = kExampleLeaf;
  huge.append(kMaxAuditLeafBytes, 'x');
  EXPECT_FALSE(AuditLeaf::Parse(huge).ok());
  EXPECT_FALSE(AuditLeaf::Parse("").ok());
  // The example itself passes (so each refusal above is the edit's).
  EXPECT_TRUE(AuditLeaf::Parse(kExampleLeaf).ok());
}

TEST(AuditLeafTest, ValidateNamesTheBadField) {
  AuditLeaf leaf = ExampleLeaf();
  leaf.decision_sha256 = "";
  EXPECT_NE(leaf.Validate().message().find("decision-sha256"), std::string::npos);
  leaf = ExampleLeaf();
  leaf.time = -5;
  EXPECT_FALSE(leaf.Validate().ok());
}

DecisionRecord ExampleDecision() {
  DecisionRecord record;
  record.result_id = "0123456789abcdef0123456789abcdef";
  record.time = 1765000000;
  record.nonce_expires_at = 1765000300;
  record.attester =
      DecisionAttester{"fedcba9876543210fedcba9876543210", "000b" + std::string(64, 'c'),
                       std::string("\x00\x01\xff", 3), "active"};
  record.previous_counters =
      TpmCounters{.clock = 18446744073709551615u, .reset_count = 4294967295u, .restart_count = 0};
  record.policy_id = "phi-job";
  record.policy_version = 3;
  record.policy_sha256 = kAbcSha;
  record.evidence_sha256 = kEmptySha;
  record.evidence_bytes_sha256 = kAbcSha;
  record.tenant = "acme";
  record.tpm_ca_sha256 = kEmptySha;
  return record;
}

constexpr char kExampleDecision[] =
    "{\"attester\":{\"ak_name\":\"000bcccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
    "cccc\",\"ak_public\":\"AAH/\",\"id\":\"fedcba9876543210fedcba9876543210\",\"state\":"
    "\"active\"},\"evidence_bytes_sha256\":\""
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\",\"evidence_sha256\":\""
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    "\",\"identity_refusal\":\"\",\"nonce_expires_at\":1765000300,\"nonce_refusal\":\"\","
    "\"policy\":{\"id\":\"phi-job\",\"sha256\":\""
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\",\"version\":3},"
    "\"previous_counters\":{\"clock\":18446744073709551615,\"reset\":4294967295,\"restart\":0},"
    "\"result_id\":\"0123456789abcdef0123456789abcdef\",\"tenant\":\"acme\",\"time\":1765000000,"
    "\"tpm_ca_sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
    "\"version\":1}";

TEST(DecisionRecordTest, RefusalsAreKeptAndBounded) {
  DecisionRecord record = ExampleDecision();
  record.attester.reset();
  record.nonce_refusal = "the nonce was already used";
  record.identity_refusal = "attester revoked";
  record.tpm_ca_sha256.clear();
  absl::StatusOr<DecisionRecord> parsed = DecisionRecord::Parse(record.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, record);
  record.nonce_refusal = std::string(513, 'x');
  EXPECT_FALSE(record.Validate().ok());
  record.nonce_refusal = "line\nbreak";
  EXPECT_FALSE(record.Validate().ok());
  record.nonce_refusal.clear();
  record.identity_refusal = "caf\xc3\xa9";
  EXPECT_FALSE(record.Validate().ok());
  record.identity_refusal.clear();
  record.tpm_ca_sha256 = "ABC";
  EXPECT_FALSE(record.Validate().ok());
}

TEST(DecisionRecordTest, SerializesToCanonicalJsonAndBack) {
  ASSERT_TRUE(ExampleDecision().Validate().ok()) << ExampleDecision().Validate();
  EXPECT_EQ(ExampleDecision().Serialize(), kExampleDecision);
  absl::StatusOr<DecisionRecord> parsed = DecisionRecord::Parse(kExampleDecision);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, ExampleDecision());
}

TEST(DecisionRecordTest, NoAttesterAndNoCountersAreNull) {
  DecisionRecord record = ExampleDecision();
  record.attester.reset();
  record.previous_counters.reset();
  record.tenant = "default";
  const std::string json = record.Serialize();
  EXPECT_NE(json.find("\"attester\":null"), std::string::npos);
  EXPECT_NE(json.find("\"previous_counters\":null"), std::string::npos);
  absl::StatusOr<DecisionRecord> parsed = DecisionRecord::Parse(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, record);
  EXPECT_FALSE(parsed->attester.has_value());
}

void ExpectDecisionRefused(const std::string& from, const std::string& to) {
  std::string text = kExampleDecision;
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  EXPECT_FALSE(DecisionRecord::Parse(text).ok()) << "accepted " << text;
}

TEST(DecisionRecordTest, ParseIsStrict) {
  ExpectDecisionRefused("{\"attester\"", "{ \"attester\"");                // whitespace
  ExpectDecisionRefused("\"version\":1}", "\"version\":2}");               // unknown version
  ExpectDecisionRefused("\"version\":1}", "\"version\":1,\"zzz\":0}");     // unknown key
  ExpectDecisionRefused(",\"tenant\":\"acme\"", "");                       // missing key
  ExpectDecisionRefused("\"state\":\"active\"", "\"state\":\"revoked\"");  // not active
  ExpectDecisionRefused("\"state\":\"active\"", "\"state\":\"active\",\"x\":1");
  ExpectDecisionRefused("\"ak_public\":\"AAH/\"", "\"ak_public\":\"AAH/=\"");
  ExpectDecisionRefused("\"ak_public\":\"AAH/\"", "\"ak_public\":\"\"");
  ExpectDecisionRefused("\"time\":1765000000", "\"time\":-1");
  ExpectDecisionRefused("\"time\":1765000000", "\"time\":\"1765000000\"");
  ExpectDecisionRefused("\"time\":1765000000", "\"time\":1.5");
  ExpectDecisionRefused("\"restart\":0", "\"restart\":-1");
  ExpectDecisionRefused("\"reset\":4294967295", "\"reset\":4294967296");
  ExpectDecisionRefused("\"version\":3}", "\"version\":0}");
  ExpectDecisionRefused("\"tenant\":\"acme\"", "\"tenant\":\"a/b\"");
  ExpectDecisionRefused("\"result_id\":\"0123", "\"result_id\":\"A123");
  ExpectDecisionRefused("e3b0c442", "E3b0c442");
  ExpectDecisionRefused("\"attester\":{", "\"attester\":[],\"x\":{");
  ExpectDecisionRefused("\"policy\":{\"id\":\"phi-job\"", "\"policy\":{\"id\":\"phi job\"");
  // Keys out of order: the same value, not its canonical bytes.
  ExpectDecisionRefused("\"tenant\":\"acme\",\"time\":1765000000",
                        "\"time\":1765000000,\"tenant\":\"acme\"");
  EXPECT_FALSE(DecisionRecord::Parse("").ok());
  EXPECT_FALSE(DecisionRecord::Parse("null").ok());
  EXPECT_FALSE(DecisionRecord::Parse(std::string(kExampleDecision) + " ").ok());
  EXPECT_TRUE(DecisionRecord::Parse(kExampleDecision).ok());
}

TEST(RetentionTest, DefaultIsSixYearsWithTwoLeapDays) {
  EXPECT_EQ(kDefaultRetentionSeconds, 2192 * 86400);
  EXPECT_EQ(kDefaultRetentionSeconds, 189388800);
}

}  // namespace
}  // namespace fdattest
