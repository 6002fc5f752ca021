// Audit bundles made with the real pieces: decisions taken by fdverifierd's
// attest handler (verifier/service/handlers.h) on the genuine seed evidence
// over the in-memory store, their decision records and leaves
// (archive_records.h), a Merkle tree grown with MerkleAppender, checkpoints
// signed by a log key and cosigned by a witness; then written, read back and
// verified offline (bundle_verify.h), whole and tampered with.
#include "verifier/audit/bundle_verify.h"

#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/base64.h"
#include "common/evidence.h"
#include "common/evidence_identity.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/seed_bundles.h"
#include "verifier/audit/archive_records.h"
#include "verifier/audit/bundle.h"
#include "verifier/audit/checkpoint.h"
#include "verifier/audit/merkle.h"
#include "verifier/audit/reverify.h"
#include "verifier/audit/signed_note.h"
#include "verifier/audit_command.h"
#include "verifier/ear.h"
#include "verifier/identity_cache.h"
#include "verifier/jose_key.h"
#include "verifier/proof_cache.h"
#include "verifier/report.h"
#include "verifier/service/handlers.h"
#include "verifier/service/policy_cache.h"
#include "verifier/testing/memory_store.h"
#include "verifier/tpm_attest.h"

namespace fdattest {
namespace {

namespace fs = std::filesystem;
using ::fdattest::testing::kSeedPolicy;
using ::fdattest::testing::kSeedTpmCaPem;
using ::testing::HasSubstr;

constexpr char kAttesterId[] = "0123456789abcdef0123456789abcdef";
constexpr int64_t kNow = testing::kSeedTime;

std::string ReadSeed(const std::string& name) {
  std::ifstream in(std::string(FDATTEST_SOURCE_DIR) + "/tests/fuzz/corpus/evidence/" + name,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Random(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

std::string Sha256Hex(absl::string_view s) { return HexEncode(Sha256(s)); }

// The newer version of the seed policy: another id, and another executable
// allowed than the seed launch's, so a re-run under it cannot reproduce a
// decision made under the older one.
std::string NewerPolicy() {
  return absl::StrReplaceAll(kSeedPolicy, {{"phi-checksum/v1", "phi-checksum/v2"},
                                           {"3d9f2889", "4d9f2889"}});
}

enum class Scenario { kIntactChain, kReplayedNonce, kRevokedAttester, kNewerPolicy };

// One decision as the archive keeps it.
struct Decision {
  std::string evidence, result, decision;
  AuditLeaf leaf;
  DecisionRecord record;
  std::string policy_text;
};

// A decision taken by the attest handler over a fresh in-memory store set up
// for `scenario`, and the record and leaf of it.
Decision Decide(const SigningKey& ear_key, Scenario scenario, int64_t now) {
  MemoryStore store;
  FilterProofCache proofs;
  IdentityCache identities;
  PolicyCache policies;
  ServiceContext context;
  context.store = &store;
  context.tpm_ca_pem = std::string(kSeedTpmCaPem);
  context.now = [now] { return now; };
  context.random = Random;
  context.signing_key = &ear_key;
  context.proof_cache = &proofs;
  context.identity_cache = &identities;
  context.policies = &policies;

  Decision d;
  d.evidence = ReadSeed("genuine_nv_first.json");
  absl::StatusOr<Evidence> evidence = Evidence::Parse(d.evidence);
  EXPECT_TRUE(evidence.ok()) << evidence.status();
  absl::StatusOr<AkPublic> ak = ParseAkPublic(evidence->ak_public);
  EXPECT_TRUE(ak.ok()) << ak.status();

  EXPECT_TRUE(store.PutPolicy("phi", kSeedPolicy, now).ok());
  if (scenario == Scenario::kNewerPolicy) {
    EXPECT_TRUE(store.PutPolicy("phi", NewerPolicy(), now).ok());
  }
  absl::StatusOr<PolicyRecord> policy = store.GetPolicy("phi");
  EXPECT_TRUE(policy.ok());
  d.policy_text = policy->text;

  AttesterRecord a;
  a.id = kAttesterId;
  a.ak_public = evidence->ak_public;
  a.ak_name = HexEncode(ak->name);
  a.ek_sha256 = Sha256Hex("ek");
  a.credential_sha256 = "credential";
  a.state = AttesterState::kPending;
  a.created_at = now - 100;
  EXPECT_TRUE(store.AddPendingAttester(a, false).ok());
  EXPECT_TRUE(store.ActivateAttester(kAttesterId, "credential", now - 50).ok());
  if (scenario == Scenario::kRevokedAttester) {
    EXPECT_TRUE(store.RevokeAttester(kAttesterId, now).ok());
  }
  EXPECT_TRUE(store.AddNonce(evidence->nonce, now + 300).ok());

  ApiRequest request;
  request.method = "POST";
  request.body = d.evidence;
  request.content_type = std::string(kJsonMediaType);
  request.query = {{"policy", "phi"}};
  ApiResponse response = HandleAttest(context, request);
  EXPECT_EQ(response.status, 200) << response.body << (response.log.empty() ? "" : response.log.back().second);
  DecisionRecord& r = d.record;
  if (scenario == Scenario::kReplayedNonce) {
    r.nonce_refusal = std::string(store.CheckNonce(evidence->nonce, now).status().message());
    EXPECT_FALSE(r.nonce_refusal.empty());
    response = HandleAttest(context, request);  // the same evidence again
    EXPECT_EQ(response.status, 200) << response.body;
  }
  absl::StatusOr<Json> served = ParseJsonStrict(response.body);
  EXPECT_TRUE(served.ok());
  const std::string id = (*served)["id"];
  absl::StatusOr<ResultRecord> stored = store.GetResult(id);
  EXPECT_TRUE(stored.ok());
  d.result = stored->body;

  // What the store answered the hooks: the attester when the identity step
  // found it active.
  const bool found = !stored->attester_id.empty();
  if (found) r.attester = DecisionAttester{kAttesterId, a.ak_name, a.ak_public, "active"};
  if (scenario == Scenario::kRevokedAttester) r.identity_refusal = "attester revoked";
  r.result_id = id;
  r.time = now;
  r.nonce_expires_at = now + 300;
  r.policy_id = "phi";
  r.policy_version = policy->version;
  r.policy_sha256 = policy->sha256;
  r.evidence_sha256 = HexEncode(EvidenceIdentity(*evidence));
  r.evidence_bytes_sha256 = HexEncode(Sha256(d.evidence));
  r.tenant = "default";
  r.tpm_ca_sha256 = Sha256Hex(kSeedTpmCaPem);
  EXPECT_TRUE(r.Validate().ok()) << r.Validate();
  d.decision = r.Serialize();

  AuditLeaf& leaf = d.leaf;
  leaf.result_id = id;
  leaf.time = now;
  leaf.tenant = "default";
  leaf.attester_id = found ? kAttesterId : "";
  leaf.policy_id = "phi";
  leaf.policy_version = policy->version;
  leaf.policy_sha256 = policy->sha256;
  leaf.evidence_sha256 = r.evidence_sha256;
  leaf.result_sha256 = Sha256Hex(d.result);
  leaf.decision_sha256 = Sha256Hex(d.decision);
  leaf.verdict = stored->verdict;
  EXPECT_TRUE(leaf.Validate().ok()) << leaf.Validate();
  return d;
}

// Complete-subtree hashes in memory: the nodes MerkleAppender creates.
class MemoryNodes : public MerkleNodeReader {
 public:
  absl::Status ReadNodes(absl::Span<const MerkleNodeId> ids, std::vector<MerkleHash>* out) override {
    out->clear();
    for (const MerkleNodeId& id : ids) {
      auto it = nodes_.find({id.level, id.index});
      if (it == nodes_.end()) return absl::NotFoundError("no such node");
      out->push_back(it->second);
    }
    return absl::OkStatus();
  }
  void Store(const std::vector<std::pair<MerkleNodeId, MerkleHash>>& nodes) {
    for (const auto& [id, hash] : nodes) nodes_[{id.level, id.index}] = hash;
  }

 private:
  std::map<std::pair<int, uint64_t>, MerkleHash> nodes_;
};

std::string Root(const MerkleHash& h) { return std::string(h.begin(), h.end()); }

struct Keys {
  NoteSigner log;
  CosignatureSigner witness;
  SigningKey ear;
};

// The bundle of `decisions` (in log order); the entries in `shredded` lose
// their blobs. Older checkpoints at sizes 1 and 3.
AuditBundle MakeBundle(const std::vector<Decision>& decisions, const std::set<size_t>& shredded,
                       const Keys& keys) {
  AuditBundle bundle;
  MemoryNodes nodes;
  MerkleAppender appender;
  auto sign = [&](uint64_t size, bool cosign) {
    Checkpoint cp{keys.log.name(), size, Root(appender.Root()), {}};
    absl::StatusOr<std::string> note = SignNote(cp.Text(), {&keys.log});
    EXPECT_TRUE(note.ok());
    if (cosign) absl::StrAppend(&*note, keys.witness.SignatureLine(cp.Text(), kNow + 1000));
    return *note;
  };
  for (size_t i = 0; i < decisions.size(); ++i) {
    nodes.Store(appender.Append(MerkleLeafHash(decisions[i].leaf.Serialize())));
    if (appender.size() == 1 || appender.size() == 3) {
      bundle.checkpoints[appender.size()] = sign(appender.size(), false);
    }
  }
  const uint64_t n = appender.size();
  bundle.checkpoint = sign(n, true);
  for (const auto& [size, note] : bundle.checkpoints) {
    absl::StatusOr<std::vector<MerkleHash>> proof = MerkleConsistencyProof(nodes, size, n);
    EXPECT_TRUE(proof.ok());
    bundle.consistency[size] = FormatMerkleProof(*proof);
  }
  for (size_t i = 0; i < decisions.size(); ++i) {
    const Decision& d = decisions[i];
    AuditBundleEntry& e = bundle.entries[i];
    e.leaf = d.leaf.Serialize();
    absl::StatusOr<std::vector<MerkleHash>> proof = MerkleInclusionProof(nodes, i, n);
    EXPECT_TRUE(proof.ok());
    e.proof = FormatMerkleProof(*proof);
    if (shredded.count(i)) {
      e.gone = FormatGoneBlobs(
          {{"evidence", "shredded"}, {"result", "shredded"}, {"decision", "shredded"}});
    } else {
      e.evidence = d.evidence;
      e.result = d.result;
      e.decision = d.decision;
    }
    bundle.policies[Sha256Hex(d.policy_text)] = d.policy_text;
  }
  bundle.tpm_cas[Sha256Hex(kSeedTpmCaPem)] = std::string(kSeedTpmCaPem);
  const Decision& first = decisions.front();
  absl::StatusOr<Evidence> evidence = Evidence::Parse(first.evidence);
  absl::StatusOr<AkPublic> ak = ParseAkPublic(evidence->ak_public);
  Json attester = {{"id", kAttesterId},
                   {"tenant", "default"},
                   {"state", "revoked"},
                   {"ek_certificate", Base64Encode(evidence->ek_certificate)},
                   {"ek_sha256", Sha256Hex("ek")},
                   {"ak_public", Base64Encode(evidence->ak_public)},
                   {"ak_name", HexEncode(ak->name)},
                   {"created_at", kNow - 100},
                   {"activated_at", kNow - 50},
                   {"revoked_at", kNow + 100}};
  bundle.attesters[kAttesterId] = attester.dump() + "\n";
  bundle.jwks = Json({{"keys", Json::array({*ParseJsonStrict(keys.ear.PublicJwkJson())})}}).dump() + "\n";
  bundle.log_vkey = keys.log.VerifierKey() + "\n";
  return bundle;
}

class BundleVerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new Keys{*NoteSigner::Generate("audit.test.invalid/log"),
                     *CosignatureSigner::Generate("witness.test.invalid"), *SigningKey::Generate()};
    decisions_ = new std::vector<Decision>{
        Decide(keys_->ear, Scenario::kIntactChain, kNow),
        Decide(keys_->ear, Scenario::kReplayedNonce, kNow + 10),
        Decide(keys_->ear, Scenario::kRevokedAttester, kNow + 20),
        Decide(keys_->ear, Scenario::kNewerPolicy, kNow + 30),
        Decide(keys_->ear, Scenario::kIntactChain, kNow + 40),  // shredded below
    };
  }
  static void TearDownTestSuite() {
    delete decisions_;
    delete keys_;
  }

  void SetUp() override {
    dir_ = fs::temp_directory_path() / absl::StrCat("fdattest-bundle-test-", getpid(), "-",
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static AuditBundle Bundle() { return MakeBundle(*decisions_, {4}, *keys_); }
  static AuditVerifyOptions Options() {
    return {keys_->log.VerifierKey(), {keys_->witness.VerifierKey()}};
  }

  static std::string Findings(const AuditVerifyReport& report) {
    std::string out;
    for (const AuditFinding& f : report.findings) {
      absl::StrAppend(&out, f.failure ? "FAIL " : "note ", f.file, ": ", f.what, "\n");
    }
    return out;
  }
  // Whether a failure names `file` or a directory holding it.
  static bool Names(const AuditVerifyReport& report, const std::string& file) {
    for (const AuditFinding& f : report.findings) {
      if (f.failure && (f.file == file || absl::StartsWith(file, f.file + "/"))) return true;
    }
    return false;
  }

  static Keys* keys_;
  static std::vector<Decision>* decisions_;
  fs::path dir_;
};

Keys* BundleVerifyTest::keys_ = nullptr;
std::vector<Decision>* BundleVerifyTest::decisions_ = nullptr;

TEST_F(BundleVerifyTest, DecisionsCoverTheScenarios) {
  const std::vector<Decision>& d = *decisions_;
  // The seed launch's filter predates what the rules need proven, so the best
  // a decision on it gets is a policy verdict on an intact evidence chain.
  EXPECT_EQ(d[0].leaf.verdict, "contraindicated") << d[0].result;
  EXPECT_THAT(d[0].result, HasSubstr("\"failure\":\"policy_violation\""));
  EXPECT_TRUE(d[0].record.attester.has_value());
  EXPECT_EQ(d[1].leaf.verdict, "broken_evidence");
  EXPECT_FALSE(d[1].record.nonce_refusal.empty());
  EXPECT_EQ(d[2].leaf.verdict, "broken_evidence");
  EXPECT_THAT(d[2].result, HasSubstr("attester revoked"));
  EXPECT_EQ(d[3].leaf.policy_version, 2);
  EXPECT_NE(d[3].leaf.policy_sha256, d[0].leaf.policy_sha256);
}

TEST_F(BundleVerifyTest, BundleVerifiesAndEveryDecisionReproduces) {
  const AuditBundle bundle = Bundle();
  ASSERT_TRUE(bundle.Write(dir_.string()).ok());
  absl::StatusOr<AuditBundle> read = AuditBundle::Read(dir_.string());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(*read == bundle);
  AuditVerifyReport report = VerifyAuditBundleDir(dir_.string(), Options());
  EXPECT_TRUE(report.ok()) << Findings(report);
  EXPECT_EQ(report.tree_size, 5u);
  EXPECT_EQ(report.entries, 5u);
  EXPECT_EQ(report.reverified, 4u);
  EXPECT_EQ(report.gone, 1u);
  ASSERT_EQ(report.findings.size(), 1u) << Findings(report);
  EXPECT_EQ(report.findings[0].file, "entries/4");
  EXPECT_FALSE(report.findings[0].failure);
  EXPECT_THAT(report.findings[0].what, HasSubstr("shredded"));
}

TEST_F(BundleVerifyTest, WriteMakesTheLayoutWithItsModesAndRefusesANonEmptyDirectory) {
  const AuditBundle bundle = Bundle();
  ASSERT_TRUE(bundle.Write(dir_.string()).ok());
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir_)) {
    struct stat st;
    ASSERT_EQ(lstat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, e.is_directory() ? 0755u : 0644u) << e.path();
  }
  EXPECT_TRUE(fs::exists(dir_ / "entries/4/gone"));
  EXPECT_FALSE(fs::exists(dir_ / "entries/4/evidence.json"));
  EXPECT_EQ(bundle.Write(dir_.string()).code(), absl::StatusCode::kFailedPrecondition);
}

// Every file of the bundle, and a spread of offsets in each: flipping one
// byte makes verification fail, and a failure names the file or its entry.
TEST_F(BundleVerifyTest, EditingAnyByteOfAnyFileFailsNamingIt) {
  ASSERT_TRUE(Bundle().Write(dir_.string()).ok());
  std::vector<std::string> files;
  // Enrollment records are information the log does not commit to (their
  // dates and ek_sha256); AttesterFileMustMatchTheDecisionsAndEvidence
  // tests what is checked in them.
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir_)) {
    const std::string file = fs::relative(e.path(), dir_).string();
    if (e.is_regular_file() && !absl::StartsWith(file, "attesters/")) files.push_back(file);
  }
  ASSERT_GE(files.size(), 25u);
  size_t edits = 0;
  for (const std::string& file : files) {
    const fs::path path = dir_ / file;
    std::string original;
    {
      std::ifstream in(path, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      original = ss.str();
    }
    ASSERT_FALSE(original.empty()) << file;
    std::set<size_t> offsets;
    for (size_t k = 0; k <= 8; ++k) offsets.insert(k * (original.size() - 1) / 8);
    for (size_t offset : offsets) {
      std::string edited = original;
      edited[offset] = static_cast<char>(edited[offset] ^ 0x01);
      {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << edited;
      }
      AuditVerifyReport report = VerifyAuditBundleDir(dir_.string(), Options());
      EXPECT_FALSE(report.ok()) << file << " byte " << offset;
      EXPECT_TRUE(Names(report, file)) << file << " byte " << offset << ":\n" << Findings(report);
      ++edits;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << original;
  }
  EXPECT_GT(edits, 100u);
  EXPECT_TRUE(VerifyAuditBundleDir(dir_.string(), Options()).ok());
}

// Decisions 1 and 2 ended at the nonce and identity steps; the archive
// commits to their evidence through its identity only (the leaf's evidence,
// common/evidence_identity.h), which leaves out the fields below, and their
// re-run never reads them.
bool EarlyEnded(uint64_t index) { return index == 1 || index == 2; }
bool OutsideTheIdentity(const std::string& field) {
  return field == "signature" || field == "ek_certificate" || field == "register_value";
}

// A byte in the middle of every field of every decision's evidence, for
// decisions whose run ended early (the replayed nonce, the revoked attester)
// too, changed to another character of the same encoding.
TEST_F(BundleVerifyTest, EditingAnyFieldOfAnyEvidenceFails) {
  const AuditBundle bundle = Bundle();
  for (uint64_t index = 0; index < 4; ++index) {
    const std::string& evidence = *bundle.entries.at(index).evidence;
    const Json fields = *ParseJsonStrict(evidence);
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (!it.value().is_string()) continue;
      if (EarlyEnded(index) && OutsideTheIdentity(it.key())) continue;  // see below
      const std::string value = it.value();
      const size_t at = evidence.find(absl::StrCat("\"", it.key(), "\":\"")) + it.key().size() + 4 +
                        value.size() / 2;
      AuditBundle edited = bundle;
      std::string& bytes = *edited.entries.at(index).evidence;
      bytes[at] = bytes[at] == 'a' ? 'b' : (bytes[at] == '0' ? '1' : (bytes[at] == 'A' ? 'B' : 'a'));
      AuditVerifyReport report = VerifyAuditBundle(edited, Options());
      EXPECT_FALSE(report.ok()) << index << " " << it.key();
      EXPECT_TRUE(Names(report, absl::StrCat("entries/", index, "/evidence.json")))
          << index << " " << it.key() << ":\n" << Findings(report);
    }
  }
}

// The evidence's identity leaves out the signature, the EK certificate and the
// register value, which a decision that ended before steps 3b and 4a never
// read; the decision record's evidence_bytes_sha256 covers every byte.
TEST_F(BundleVerifyTest, EditingEvidenceOutsideItsIdentityFailsForEarlyEndedDecisions) {
  const AuditBundle bundle = Bundle();
  for (uint64_t index : {1, 2}) {
    const std::string& evidence = *bundle.entries.at(index).evidence;
    for (const char* field : {"signature", "ek_certificate", "register_value"}) {
      const size_t at = evidence.find(absl::StrCat("\"", field, "\":\"")) + strlen(field) + 8;
      AuditBundle edited = bundle;
      std::string& bytes = *edited.entries.at(index).evidence;
      bytes[at] = bytes[at] == 'a' ? 'b' : 'a';
      EXPECT_TRUE(Names(VerifyAuditBundle(edited, Options()),
                        absl::StrCat("entries/", index, "/evidence.json")))
          << index << " " << field;
    }
  }
}

// What an enrollment record must agree with: the decisions' AK and tenant,
// the EK certificate their evidence carries, and their times.
TEST_F(BundleVerifyTest, AttesterFileMustMatchTheDecisionsAndEvidence) {
  const std::string file = absl::StrCat("attesters/", kAttesterId, ".json");
  const AuditBundle bundle = Bundle();
  const Json original = *ParseJsonStrict(bundle.attesters.at(kAttesterId));
  const std::string ek = original["ek_certificate"];
  const std::string ak = original["ak_public"];
  std::vector<std::pair<std::string, Json>> edits = {
      {"ek_certificate", Base64Encode(std::string(*Base64Decode(ek)).replace(40, 1, "x"))},
      {"ak_public", Base64Encode(std::string(*Base64Decode(ak)).replace(30, 1, "x"))},
      {"ak_name", "000b00"},
      {"tenant", "acme"},
      {"activated_at", kNow + 1},
      {"revoked_at", kNow - 10},
      {"id", "fedcba9876543210fedcba9876543210"},
      {"state", "gone"},
  };
  for (const auto& [key, value] : edits) {
    AuditBundle edited = bundle;
    Json record = original;
    record[key] = value;
    edited.attesters[kAttesterId] = record.dump() + "\n";
    AuditVerifyReport report = VerifyAuditBundle(edited, Options());
    EXPECT_FALSE(report.ok()) << key;
    EXPECT_TRUE(Names(report, file)) << key << ":\n" << Findings(report);
  }
  AuditBundle missing = bundle;
  missing.attesters.clear();
  EXPECT_TRUE(Names(VerifyAuditBundle(missing, Options()), file));
  AuditBundle spaced = bundle;
  spaced.attesters[kAttesterId] = original.dump(1) + "\n";
  EXPECT_TRUE(Names(VerifyAuditBundle(spaced, Options()), file));
}

TEST_F(BundleVerifyTest, DecisionUnderAReplacedPolicyReverifiesOnlyUnderItsRecordedText) {
  const Decision& d = (*decisions_)[0];  // made under version 1, since replaced
  ArchivedDecision archived;
  archived.leaf = &d.leaf;
  archived.record = &d.record;
  archived.evidence = d.evidence;
  archived.result = d.result;
  archived.policy_text = d.policy_text;
  archived.tpm_ca_pem = kSeedTpmCaPem;
  archived.entry_dir = "entries/0";
  archived.policy_file = "policies/x.json";
  ReverifyOutcome outcome = ReverifyDecision(archived);
  EXPECT_TRUE(outcome.findings.empty()) << outcome.findings[0].what;
  const std::string newer = NewerPolicy();
  archived.policy_text = newer;
  outcome = ReverifyDecision(archived);
  ASSERT_FALSE(outcome.findings.empty());
  EXPECT_EQ(outcome.findings[0].file, "entries/0");
  EXPECT_THAT(outcome.findings[0].what, HasSubstr("does not reproduce"));

  // In the bundle: the old version's file holding the newer text.
  AuditBundle bundle = Bundle();
  bundle.policies[d.leaf.policy_sha256] = newer;
  AuditVerifyReport report = VerifyAuditBundle(bundle, Options());
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(Names(report, absl::StrCat("policies/", d.leaf.policy_sha256, ".json")))
      << Findings(report);
}

TEST_F(BundleVerifyTest, WrongPinnedLogKeyFails) {
  NoteSigner other = *NoteSigner::Generate("audit.test.invalid/log");
  AuditVerifyOptions options = Options();
  options.log_key = other.VerifierKey();
  AuditVerifyReport report = VerifyAuditBundle(Bundle(), options);
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(Names(report, "checkpoint")) << Findings(report);
  EXPECT_TRUE(Names(report, "log.vkey")) << Findings(report);
}

TEST_F(BundleVerifyTest, MissingWitnessCosignatureFails) {
  AuditVerifyOptions options = Options();
  options.witness_keys.push_back(CosignatureSigner::Generate("witness2.test.invalid")->VerifierKey());
  AuditVerifyReport report = VerifyAuditBundle(Bundle(), options);
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(Names(report, "checkpoint")) << Findings(report);
}

// Even whoever holds the log key cannot rewrite a decision: the log rebuilt
// around a result whose verdict was changed and whose EAR was re-signed with
// another key still fails the re-run and the EAR check.
TEST_F(BundleVerifyTest, AlteredVerdictResignedWithAnotherEarKeyFails) {
  std::vector<Decision> decisions = *decisions_;
  Decision& d = decisions[1];  // broken evidence (replayed nonce)
  Json doc = *ParseJsonStrict(d.result);
  doc["verdict"] = "affirming";
  doc["failure"] = "";
  SigningKey other = *SigningKey::Generate();
  EarInput input;
  input.status = EarStatus::kAffirming;
  input.policy_ids = {"https://test.invalid/phi-checksum/v1"};
  input.issued_at = d.leaf.time;
  input.verifier_build = "fdattest";
  doc["ear"] = *IssueEar(input, other);
  d.result = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
  d.leaf.verdict = "affirming";
  d.leaf.result_sha256 = Sha256Hex(d.result);
  AuditVerifyReport report = VerifyAuditBundle(MakeBundle(decisions, {4}, *keys_), Options());
  EXPECT_FALSE(report.ok());
  std::string text = Findings(report);
  EXPECT_THAT(text, HasSubstr("entries/1: does not reproduce: the re-run's verdict is broken_evidence"));
  EXPECT_THAT(text, HasSubstr("entries/1/result.json: its EAR does not verify"));
}

TEST_F(BundleVerifyTest, InclusionProofOfAnotherIndexFails) {
  AuditBundle bundle = Bundle();
  bundle.entries[2].proof = bundle.entries[3].proof;
  AuditVerifyReport report = VerifyAuditBundle(bundle, Options());
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(Names(report, "entries/2/proof")) << Findings(report);
  EXPECT_FALSE(Names(report, "entries/3/proof")) << Findings(report);
}

TEST_F(BundleVerifyTest, SymlinksAndUnknownFilesAreRefusedByName) {
  ASSERT_TRUE(Bundle().Write(dir_.string()).ok());
  const fs::path outside = dir_.string() + "-outside";
  fs::remove_all(outside);
  ASSERT_TRUE(fs::create_directory(outside));
  {
    std::ofstream(outside / "secret") << "not the bundle's";
  }
  auto refused = [&](const std::string& named) {
    absl::StatusOr<AuditBundle> read = AuditBundle::Read(dir_.string());
    EXPECT_FALSE(read.ok());
    EXPECT_THAT(read.status().message(), HasSubstr(named));
    AuditVerifyReport report = VerifyAuditBundleDir(dir_.string(), Options());
    EXPECT_FALSE(report.ok());
    EXPECT_TRUE(Names(report, named)) << Findings(report);
  };
  // A file replaced by a link to a file outside the bundle.
  const fs::path evidence = dir_ / "entries/0/evidence.json";
  const std::string saved = decisions_->front().evidence;
  fs::remove(evidence);
  fs::create_symlink(outside / "secret", evidence);
  refused("entries/0/evidence.json");
  fs::remove(evidence);
  std::ofstream(evidence, std::ios::binary) << saved;
  ASSERT_TRUE(VerifyAuditBundleDir(dir_.string(), Options()).ok());
  // A directory replaced by a link to one outside.
  fs::rename(dir_ / "policies", outside / "policies");
  fs::create_directory_symlink(outside / "policies", dir_ / "policies");
  refused("policies");
  fs::remove(dir_ / "policies");
  fs::rename(outside / "policies", dir_ / "policies");
  // Unknown names, at the top and inside an entry.
  std::ofstream(dir_ / "entries/3/notes.txt") << "x";
  refused("entries/3/notes.txt");
  fs::remove(dir_ / "entries/3/notes.txt");
  fs::create_directory(dir_ / "extra");
  refused("extra");
  fs::remove(dir_ / "extra");
  std::ofstream(dir_ / "policies/abc.json") << "{}";
  refused("policies/abc.json");
  fs::remove(dir_ / "policies/abc.json");
  ASSERT_TRUE(mkfifo((dir_ / "entries/0/fifo").c_str(), 0644) == 0);
  refused("entries/0/fifo");
  fs::remove(dir_ / "entries/0/fifo");
  EXPECT_TRUE(VerifyAuditBundleDir(dir_.string(), Options()).ok());
  fs::remove_all(outside);
}

TEST_F(BundleVerifyTest, ProofAndGoneFilesAreStrict) {
  std::vector<MerkleHash> proof(2);
  proof[1][0] = 7;
  const std::string text = FormatMerkleProof(proof);
  ASSERT_TRUE(ParseMerkleProof(text).ok());
  EXPECT_EQ(ParseMerkleProof(text)->size(), 2u);
  EXPECT_TRUE(ParseMerkleProof("").ok());
  EXPECT_FALSE(ParseMerkleProof(text.substr(0, text.size() - 1)).ok());
  EXPECT_FALSE(ParseMerkleProof(text + "\n").ok());
  EXPECT_FALSE(ParseMerkleProof("AAAA\n").ok());
  EXPECT_TRUE(ParseGoneBlobs("evidence expired\nresult shredded\n").ok());
  EXPECT_FALSE(ParseGoneBlobs("result shredded\nevidence expired\n").ok());
  EXPECT_FALSE(ParseGoneBlobs("evidence expired\nevidence expired\n").ok());
  EXPECT_FALSE(ParseGoneBlobs("evidence lost\n").ok());
  EXPECT_FALSE(ParseGoneBlobs("").ok());
  EXPECT_EQ(ParseBundleNumber("0"), 0u);
  EXPECT_EQ(ParseBundleNumber("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseBundleNumber("18446744073709551616"));
  EXPECT_FALSE(ParseBundleNumber("01"));
  EXPECT_FALSE(ParseBundleNumber("+1"));
}

// The command: exit 0 on the bundle, 1 naming the file after an edit, 4 for
// an unusable key; the key may be given as FILE.vkey.
TEST_F(BundleVerifyTest, CommandExitsByFindingsAndNamesTheFile) {
  ASSERT_TRUE(Bundle().Write(dir_.string()).ok());
  const std::string vkey_file = dir_.string() + "-log.vkey";
  std::ofstream(vkey_file) << keys_->log.VerifierKey() << "\n";
  auto run = [&](std::vector<std::string> args, std::string* out) {
    CLI::App app;
    AuditCommands commands(app);
    std::vector<std::string> argv = {"fdattest", "audit", "verify", dir_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::reverse(argv.begin(), argv.end());
    argv.pop_back();
    app.parse(argv);
    std::ostringstream o, e;
    std::optional<int> status = commands.Run(o, e);
    *out = o.str() + e.str();
    return status.value_or(-1);
  };
  std::string out;
  const std::string witness = keys_->witness.VerifierKey();
  EXPECT_EQ(run({"--log-key", vkey_file, "--witness", witness}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("verified: checkpoint of size 5, 5 entries, 4 decisions re-run"));
  EXPECT_EQ(run({"--log-key", keys_->log.VerifierKey(), "--json"}, &out), 0) << out;
  EXPECT_EQ(ParseJsonStrict(out)->at("verified"), true);
  EXPECT_EQ(run({"--log-key", "nonsense"}, &out), 4);
  std::string result;
  {
    std::ifstream in(dir_ / "entries/3/result.json", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    result = ss.str();
  }
  result[result.size() / 2] ^= 0x01;
  std::ofstream(dir_ / "entries/3/result.json", std::ios::binary | std::ios::trunc) << result;
  EXPECT_EQ(run({"--log-key", vkey_file}, &out), 1);
  EXPECT_THAT(out, HasSubstr(
                       "entries/3/result.json: sha256 does not match the leaf's result-sha256"));
  fs::remove(vkey_file);
}

}  // namespace
}  // namespace fdattest
