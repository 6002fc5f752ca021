// The audit log inside the store, on both implementations (the SQLite store
// and the in-memory fake, one typed suite): receipts whose inclusion proofs
// verify against their signed checkpoint, every checkpoint consistent with
// every earlier one, concurrent commits getting distinct consecutive
// indexes, refused commits appending nothing, tiles and entry bundles equal
// to a recomputation, cosignatures, leaves by time. Then, on SQLite only: one
// checkpoint per group commit, a write that fails after its leaf was
// appended, reopening, migration 3 -> 4, and kill -9 during sustained
// appends losing no acknowledged receipt.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "verifier/audit/archive_records.h"
#include "verifier/audit/checkpoint.h"
#include "verifier/audit/merkle.h"
#include "verifier/audit/merkle_tiles.h"
#include "verifier/audit/signed_note.h"
#include "verifier/internal/sqlite_db.h"
#include "verifier/sqlite_store.h"
#include "verifier/testing/memory_store.h"

namespace fdattest {
namespace {

constexpr absl::string_view kOrigin = "log.example/fdattest-test";

std::string Id(int n) { return absl::StrFormat("%032x", n); }
std::string Digest(absl::string_view s) { return HexEncode(Sha256(s)); }
std::string Bytes(const MerkleHash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}
std::vector<std::string> ProofBytes(const std::vector<MerkleHash>& proof) {
  std::vector<std::string> out;
  for (const MerkleHash& h : proof) out.push_back(Bytes(h));
  return out;
}

const NoteSigner& LogSigner() {
  static const NoteSigner* signer = new NoteSigner(*NoteSigner::Generate(kOrigin));
  return *signer;
}
NoteVerifier LogVerifier() { return *NoteVerifier::FromVerifierKey(LogSigner().VerifierKey()); }

// A commit of result `id` (no nonce, no attester) with a valid leaf.
AttestationCommit Commit(const std::string& id, int64_t time, std::vector<BlobRecord> blobs = {}) {
  AttestationCommit commit;
  commit.now = time;
  ResultRecord& r = commit.result;
  r.id = id;
  r.policy_id = "p";
  r.policy_version = 1;
  r.verdict = "affirming";
  r.evidence_sha256 = Digest(absl::StrCat("evidence ", id));
  r.body = absl::StrCat("{\"id\":\"", id, "\"}");
  r.created_at = time;
  AuditLeaf leaf;
  leaf.result_id = id;
  leaf.time = time;
  leaf.tenant = "default";
  leaf.policy_id = "p";
  leaf.policy_version = 1;
  leaf.policy_sha256 = Digest("{}");
  leaf.evidence_sha256 = r.evidence_sha256;
  leaf.result_sha256 = Digest(r.body);
  leaf.decision_sha256 = Digest(absl::StrCat("decision ", id));
  leaf.verdict = "affirming";
  commit.audit = AuditAppend{leaf.Serialize(), std::move(blobs)};
  return commit;
}

// The checkpoint a note signs, opened with the log's key.
Checkpoint OpenCheckpoint(absl::string_view note) {
  absl::StatusOr<OpenedNote> opened = OpenNote(note, {LogVerifier()});
  EXPECT_TRUE(opened.ok()) << opened.status() << "\n" << note;
  if (!opened.ok()) return {};
  absl::StatusOr<Checkpoint> checkpoint = Checkpoint::Parse(opened->text);
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
  if (!checkpoint.ok()) return {};
  EXPECT_EQ(checkpoint->origin, kOrigin);
  return *checkpoint;
}

absl::Status VerifyReceipt(Store& store, const AuditReceipt& receipt, absl::string_view leaf) {
  Checkpoint checkpoint = OpenCheckpoint(receipt.checkpoint);
  if (checkpoint.size != receipt.tree_size || receipt.leaf_index >= receipt.tree_size) {
    return absl::InternalError("the receipt's sizes disagree");
  }
  ASSIGN_OR_RETURN(std::vector<MerkleHash> proof,
                   store.AuditInclusionProof(receipt.leaf_index, receipt.tree_size));
  return VerifyMerkleInclusion(receipt.leaf_index, receipt.tree_size, Bytes(MerkleLeafHash(leaf)),
                               ProofBytes(proof), checkpoint.root);
}

absl::Status VerifyConsistent(Store& store, const Checkpoint& older, const Checkpoint& newer) {
  if (older.size == 0) return absl::OkStatus();  // the empty tree precedes everything
  ASSIGN_OR_RETURN(std::vector<MerkleHash> proof,
                   store.AuditConsistencyProof(older.size, newer.size));
  return VerifyMerkleConsistency(older.size, newer.size, older.root, newer.root,
                                 ProofBytes(proof));
}

// RFC 9162 MTH, computed directly from the leaves.
MerkleHash Mth(const std::vector<std::string>& leaves, size_t begin, size_t end) {
  if (end - begin == 1) return MerkleLeafHash(leaves[begin]);
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return MerkleNodeHash(Mth(leaves, begin, begin + k), Mth(leaves, begin + k, end));
}

struct SqliteFactory {
  std::string root;
  ~SqliteFactory() {
    if (!root.empty()) std::filesystem::remove_all(root);
  }
  std::unique_ptr<Store> Make(bool with_signer) {
    char tmpl[] = "/tmp/fdattest-log-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return nullptr;
    root = tmpl;
    SqliteStore::Options options;
    if (with_signer) options.log_signer = &LogSigner();
    auto store = SqliteStore::Open(root + "/data", options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
};

struct MemoryFactory {
  std::unique_ptr<Store> Make(bool with_signer) {
    auto store = std::make_unique<MemoryStore>();
    if (with_signer) {
      EXPECT_TRUE(store->SetLogSigner(&LogSigner()).ok());
    }
    return store;
  }
};

template <typename Factory>
class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.Make(true);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->PutPolicy("p", "{}", 10).ok());
  }
  // Commits result `n` and checks its receipt; returns it.
  AuditReceipt CommitOk(int n, int64_t time = 500) {
    AuditReceipt receipt;
    absl::Status s = store_->CommitAttestation(Commit(Id(n), time), &receipt);
    EXPECT_TRUE(s.ok()) << s;
    return receipt;
  }

  Factory factory_;
  std::unique_ptr<Store> store_;
};

using StoreFactories = ::testing::Types<SqliteFactory, MemoryFactory>;
class FactoryNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteFactory> ? "Sqlite" : "Memory";
  }
};
TYPED_TEST_SUITE(AuditLogTest, StoreFactories, FactoryNames);

TYPED_TEST(AuditLogTest, ANewLogHasASignedCheckpointOfTheEmptyTree) {
  absl::StatusOr<SignedCheckpoint> latest = this->store_->LatestCheckpoint();
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->size, 0u);
  Checkpoint checkpoint = OpenCheckpoint(latest->note);
  EXPECT_EQ(checkpoint.size, 0u);
  EXPECT_EQ(checkpoint.root, Bytes(MerkleEmptyRoot()));
  EXPECT_EQ(this->store_->CheckpointOfSize(0)->note, latest->note);
  EXPECT_EQ(this->store_->CheckpointOfSize(1).status().code(), absl::StatusCode::kNotFound);
}

TYPED_TEST(AuditLogTest, ReceiptsProveInclusionAndEveryCheckpointIsConsistentWithEveryEarlier) {
  Store& store = *this->store_;
  std::vector<Checkpoint> checkpoints = {OpenCheckpoint(store.LatestCheckpoint()->note)};
  constexpr int kCommits = 40;
  for (int i = 0; i < kCommits; ++i) {
    AttestationCommit commit = Commit(Id(i), 500 + i);
    AuditReceipt receipt;
    ASSERT_TRUE(store.CommitAttestation(commit, &receipt).ok());
    EXPECT_EQ(receipt.leaf_index, static_cast<uint64_t>(i));
    EXPECT_EQ(receipt.tree_size, static_cast<uint64_t>(i + 1));  // one writer: one leaf a batch
    EXPECT_TRUE(VerifyReceipt(store, receipt, commit.audit->leaf).ok())
        << VerifyReceipt(store, receipt, commit.audit->leaf);
    EXPECT_EQ(store.CheckpointOfSize(receipt.tree_size)->note, receipt.checkpoint);
    EXPECT_EQ(*store.AuditLeafOfResult(Id(i)), static_cast<uint64_t>(i));
    EXPECT_EQ(store.AuditLeaves(i, 1)->at(0), commit.audit->leaf);
    EXPECT_TRUE(store.GetResult(Id(i)).ok());
    checkpoints.push_back(OpenCheckpoint(receipt.checkpoint));
  }
  EXPECT_EQ(store.LatestCheckpoint()->size, static_cast<uint64_t>(kCommits));
  for (size_t a = 0; a < checkpoints.size(); ++a) {
    for (size_t b = a; b < checkpoints.size(); ++b) {
      absl::Status s = VerifyConsistent(store, checkpoints[a], checkpoints[b]);
      EXPECT_TRUE(s.ok()) << a << " -> " << b << ": " << s;
    }
  }
  // A proof against a checkpoint it does not belong to fails.
  std::vector<MerkleHash> proof = *store.AuditConsistencyProof(10, 20);
  EXPECT_FALSE(VerifyMerkleConsistency(10, 20, checkpoints[11].root, checkpoints[20].root,
                                       ProofBytes(proof))
                   .ok());
  std::vector<std::string> all = *store.AuditLeaves(0, kCommits);
  EXPECT_EQ(Bytes(Mth(all, 0, all.size())), checkpoints.back().root);
}

TYPED_TEST(AuditLogTest, ConcurrentCommitsGetDistinctConsecutiveIndexes) {
  Store& store = *this->store_;
  constexpr int kThreads = 16;
  constexpr int kPerThread = 25;
  std::mutex mu;
  std::map<uint64_t, AuditReceipt> by_index;
  std::map<uint64_t, std::string> leaf_of;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        AttestationCommit commit = Commit(Id(t * 1000 + i), 500);
        AuditReceipt receipt;
        if (!store.CommitAttestation(commit, &receipt).ok()) {
          failures.fetch_add(1);
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        if (!by_index.emplace(receipt.leaf_index, receipt).second) failures.fetch_add(1000);
        leaf_of[receipt.leaf_index] = commit.audit->leaf;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  constexpr uint64_t kTotal = kThreads * kPerThread;
  ASSERT_EQ(by_index.size(), kTotal);
  EXPECT_EQ(by_index.rbegin()->first, kTotal - 1);  // distinct and 0..N-1: consecutive
  // Receipts of one tree size name the same checkpoint: one per batch.
  std::map<uint64_t, std::string> checkpoint_of_size;
  for (const auto& [index, receipt] : by_index) {
    auto [it, added] = checkpoint_of_size.emplace(receipt.tree_size, receipt.checkpoint);
    EXPECT_EQ(it->second, receipt.checkpoint) << "two checkpoints of size " << receipt.tree_size;
    EXPECT_TRUE(VerifyReceipt(store, receipt, leaf_of[index]).ok()) << "leaf " << index;
  }
  EXPECT_EQ(checkpoint_of_size.rbegin()->first, kTotal);
  Checkpoint latest = OpenCheckpoint(store.LatestCheckpoint()->note);
  EXPECT_EQ(latest.size, kTotal);
  for (const auto& [size, note] : checkpoint_of_size) {
    EXPECT_TRUE(VerifyConsistent(store, OpenCheckpoint(note), latest).ok()) << size;
  }
}

TYPED_TEST(AuditLogTest, ARefusedCommitAppendsNothing) {
  Store& store = *this->store_;
  AuditReceipt first = this->CommitOk(1);
  ASSERT_TRUE(store.AddNonce("nonce-used-0000001", 9999).ok());
  ASSERT_TRUE(store.ConsumeNonce("nonce-used-0000001", 100).ok());
  ASSERT_TRUE(store.EnsureTenant("gone", "sealed key", 10).ok());
  ASSERT_TRUE(store.ShredTenant("gone", 20).ok());

  std::vector<std::pair<AttestationCommit, absl::StatusCode>> refused;
  AttestationCommit used_nonce = Commit(Id(2), 500);
  used_nonce.nonce = "nonce-used-0000001";
  refused.emplace_back(used_nonce, absl::StatusCode::kPermissionDenied);
  AttestationCommit unknown_attester = Commit(Id(3), 500);
  unknown_attester.result.attester_id = Id(77);
  refused.emplace_back(unknown_attester, absl::StatusCode::kNotFound);
  AttestationCommit shredded_blob =
      Commit(Id(4), 500, {BlobRecord{Digest("x"), "gone", BlobKind::kEvidence, "ct", 1, 2}});
  refused.emplace_back(shredded_blob, absl::StatusCode::kFailedPrecondition);
  AttestationCommit wrong_leaf = Commit(Id(5), 500);
  wrong_leaf.audit->leaf = Commit(Id(6), 500).audit->leaf;  // names another result
  refused.emplace_back(wrong_leaf, absl::StatusCode::kInvalidArgument);
  AttestationCommit not_a_leaf = Commit(Id(7), 500);
  not_a_leaf.audit->leaf = "fdattest-audit-leaf/v1\n";
  refused.emplace_back(not_a_leaf, absl::StatusCode::kInvalidArgument);
  AttestationCommit twice = Commit(Id(1), 500);  // result 1 is stored already
  refused.emplace_back(twice, absl::StatusCode::kAlreadyExists);

  for (const auto& [commit, code] : refused) {
    AuditReceipt receipt;
    EXPECT_EQ(store.CommitAttestation(commit, &receipt).code(), code) << commit.result.id;
    EXPECT_EQ(store.LatestCheckpoint()->note, first.checkpoint) << commit.result.id;
    EXPECT_EQ(store.AuditLeaves(1, 1).status().code(), absl::StatusCode::kNotFound);
    if (commit.result.id != Id(1)) {
      EXPECT_EQ(store.GetResult(commit.result.id).status().code(), absl::StatusCode::kNotFound);
    }
  }
  // The next commit takes the next index, and its proof still verifies.
  AttestationCommit next = Commit(Id(8), 500);
  AuditReceipt receipt;
  ASSERT_TRUE(store.CommitAttestation(next, &receipt).ok());
  EXPECT_EQ(receipt.leaf_index, 1u);
  EXPECT_TRUE(VerifyReceipt(store, receipt, next.audit->leaf).ok());
  EXPECT_TRUE(VerifyConsistent(store, OpenCheckpoint(first.checkpoint),
                               OpenCheckpoint(receipt.checkpoint))
                  .ok());
}

TYPED_TEST(AuditLogTest, ACommitWithoutALogSignerIsRefusedAndWritesNothing) {
  std::unique_ptr<Store> store = TypeParam().Make(false);
  ASSERT_TRUE(store->PutPolicy("p", "{}", 10).ok());
  EXPECT_EQ(store->LatestCheckpoint().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->CommitAttestation(Commit(Id(1), 500), nullptr).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->GetResult(Id(1)).status().code(), absl::StatusCode::kNotFound);
  // Without audit the commit stands as before, and its receipt is empty.
  AttestationCommit plain = Commit(Id(2), 500);
  plain.audit.reset();
  AuditReceipt receipt{7, 8, "x"};
  ASSERT_TRUE(store->CommitAttestation(plain, &receipt).ok());
  EXPECT_EQ(receipt.tree_size, 0u);
  EXPECT_TRUE(receipt.checkpoint.empty());
}

TYPED_TEST(AuditLogTest, BlobsAreStoredWithTheirLeaf) {
  Store& store = *this->store_;
  ASSERT_TRUE(store.EnsureTenant("default", "sealed key", 10).ok());
  std::vector<BlobRecord> blobs = {
      {Digest("evidence"), "default", BlobKind::kEvidence, "sealed evidence", 500, 9000},
      {Digest("result"), "default", BlobKind::kResult, "sealed result", 500, 9000},
      {Digest("decision"), "default", BlobKind::kDecision, "sealed decision", 500, 9000}};
  ASSERT_TRUE(store.CommitAttestation(Commit(Id(1), 500, blobs), nullptr).ok());
  for (const BlobRecord& blob : blobs) {
    EXPECT_EQ(store.GetBlob("default", blob.sha256, blob.kind)->sealed, blob.sealed);
  }
}

TYPED_TEST(AuditLogTest, TilesAndEntryBundlesEqualARecomputation) {
  Store& store = *this->store_;
  constexpr int kThreads = 16;
  constexpr int kLeaves = 640;  // two full level-0 tiles and a partial one of 128
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kLeaves; i += kThreads) {
        if (!store.CommitAttestation(Commit(Id(i), 500 + i), nullptr).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  std::vector<std::string> leaves = *store.AuditLeaves(0, kLeaves);
  for (uint64_t tree_size : {uint64_t{300}, uint64_t{kLeaves}}) {
    std::vector<TileRef> tiles = TreeTiles(tree_size);
    ASSERT_FALSE(tiles.empty());
    for (const TileRef& tile : tiles) {
      SCOPED_TRACE(absl::StrCat(TileRefPath(tile), " of size ", tree_size));
      std::string want;
      const uint64_t span = uint64_t{1} << (kTileHeight * tile.level);  // leaves per hash
      for (int i = 0; i < tile.width; ++i) {
        const uint64_t begin = (tile.index * kTileWidth + i) * span;
        want += Bytes(Mth(leaves, begin, begin + span));
      }
      absl::StatusOr<std::string> got = store.AuditTile(tile, tree_size);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, want);
      if (tile.level != 0) continue;
      TileRef bundle = tile;
      bundle.entries = true;
      std::string want_bundle;
      for (int i = 0; i < tile.width; ++i) {
        const std::string& leaf = leaves[tile.index * kTileWidth + i];
        want_bundle.push_back(static_cast<char>(leaf.size() >> 8));
        want_bundle.push_back(static_cast<char>(leaf.size() & 0xff));
        want_bundle += leaf;
      }
      EXPECT_EQ(*store.AuditTile(bundle, tree_size), want_bundle);
    }
  }
  // Tiles the tree does not have, at that width or at all.
  EXPECT_EQ(store.AuditTile(TileRef{false, 0, 2, 100}, kLeaves).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store.AuditTile(TileRef{false, 0, 2, 256}, kLeaves).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store.AuditTile(TileRef{true, 0, 3, 256}, kLeaves).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store.AuditTile(TileRef{false, 0, 0, 256}, kLeaves + 1).status().code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(AuditLogTest, CosignaturesAreStoredOnceAndServedAfterTheLogSignature) {
  Store& store = *this->store_;
  AuditReceipt receipt = this->CommitOk(1);
  CosignatureSigner witness = *CosignatureSigner::Generate("witness.example/w1");
  Checkpoint checkpoint = OpenCheckpoint(receipt.checkpoint);
  const std::string line = witness.SignatureLine(checkpoint.Text(), 1700000000);
  ASSERT_FALSE(line.empty());
  ASSERT_TRUE(store.AddCosignature(1, line).ok());
  ASSERT_TRUE(store.AddCosignature(1, line).ok());  // idempotent
  ASSERT_TRUE(store.AddCosignature(1, line.substr(0, line.size() - 1)).ok());  // without '\n'
  SignedCheckpoint served = *store.LatestCheckpoint();
  EXPECT_EQ(served.note, receipt.checkpoint + line);
  EXPECT_EQ(store.CheckpointOfSize(1)->note, served.note);
  absl::StatusOr<OpenedNote> opened =
      OpenNote(served.note, {LogVerifier(), *NoteVerifier::FromVerifierKey(witness.VerifierKey())});
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_THAT(opened->signed_by, ::testing::UnorderedElementsAre(std::string(kOrigin),
                                                                 "witness.example/w1"));
  EXPECT_EQ(store.AddCosignature(5, line).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.AddCosignature(1, "not a signature line").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.AddCosignature(1, line + line).code(), absl::StatusCode::kInvalidArgument);
  // Other sizes' checkpoints carry none.
  EXPECT_EQ(store.CheckpointOfSize(0)->note.find(line), std::string::npos);
}

TYPED_TEST(AuditLogTest, LeavesAreFoundByTime) {
  Store& store = *this->store_;
  EXPECT_EQ(*store.AuditRangeByTime(0, 1000), (std::pair<uint64_t, uint64_t>(0, 0)));
  int n = 0;
  for (int64_t time : {100, 100, 200, 300, 300}) this->CommitOk(++n, time);
  using Range = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(*store.AuditRangeByTime(100, 200), Range(0, 2));
  EXPECT_EQ(*store.AuditRangeByTime(150, 301), Range(2, 5));
  EXPECT_EQ(*store.AuditRangeByTime(0, 1000), Range(0, 5));
  EXPECT_EQ(*store.AuditRangeByTime(300, 300), Range(0, 0));
  EXPECT_EQ(*store.AuditRangeByTime(400, 500), Range(0, 0));
}

TYPED_TEST(AuditLogTest, ReadsBeyondTheLogOrOutOfRangeAreRefused) {
  Store& store = *this->store_;
  this->CommitOk(1);
  this->CommitOk(2);
  EXPECT_EQ(store.AuditLeaves(0, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.AuditLeaves(0, 1025).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.AuditLeaves(1, 2).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.AuditLeaves(0, 2)->size(), 2u);
  EXPECT_EQ(store.AuditInclusionProof(0, 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.AuditInclusionProof(2, 2).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.AuditConsistencyProof(1, 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.AuditLeafOfResult(Id(9)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.AuditLeafOfResult("nope").status().code(), absl::StatusCode::kInvalidArgument);
}

// --- SQLite only.

class SqliteLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fdattest-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/data";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::unique_ptr<SqliteStore> OpenStore(const SqliteStore::Options& options = Signed()) {
    auto store = SqliteStore::Open(dir_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  static SqliteStore::Options Signed() {
    SqliteStore::Options options;
    options.log_signer = &LogSigner();
    return options;
  }
  std::unique_ptr<internal::SqliteDb> Db() {
    auto db = internal::SqliteDb::Open(dir_ + "/fdverifierd.db", false, 5000);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? std::move(*db) : nullptr;
  }
  std::string root_;
  std::string dir_;
};

TEST_F(SqliteLogTest, OneCheckpointIsSignedPerGroupCommit) {
  auto store = OpenStore();
  ASSERT_TRUE(store->PutPolicy("p", "{}", 10).ok());
  const SqliteStore::WriteStats before = store->Stats();
  constexpr int kThreads = 16;
  constexpr int kPerThread = 20;
  std::mutex mu;
  std::set<uint64_t> sizes;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        AuditReceipt receipt;
        ASSERT_TRUE(store->CommitAttestation(Commit(Id(t * 1000 + i), 500), &receipt).ok());
        std::lock_guard<std::mutex> lock(mu);
        sizes.insert(receipt.tree_size);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const SqliteStore::WriteStats after = store->Stats();
  const int64_t transactions = after.transactions - before.transactions;
  EXPECT_LT(transactions, kThreads * kPerThread) << "the commits were not grouped";
  // Every stored checkpoint (but the empty tree's) is a batch's, and each
  // batch stored exactly one.
  auto db = Db();
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM audit_checkpoints"),
            static_cast<int64_t>(sizes.size()) + 1);
  EXPECT_EQ(static_cast<int64_t>(sizes.size()), transactions);
}

TEST_F(SqliteLogTest, AWriteThatFailsAfterItsLeafWasAppendedLeavesTheTreeAsItWas) {
  auto store = OpenStore();
  ASSERT_TRUE(store->PutPolicy("p", "{}", 10).ok());
  // Every seventh result's leaf row is refused by the database, after the
  // writer appended its hash: the write's SAVEPOINT rolls back.
  ASSERT_TRUE(Db()->Exec("CREATE TRIGGER poison BEFORE INSERT ON audit_leaves "
                         "WHEN substr(NEW.result_id, 32, 1) = '7' "
                         "BEGIN SELECT RAISE(ABORT, 'poisoned'); END")
                  .ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 30;
  std::mutex mu;
  std::map<uint64_t, std::pair<AuditReceipt, std::string>> ok;
  std::atomic<int> refused{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int n = t * 16 * 16 + i;  // last hex digit 7 for i = 7, 23
        AttestationCommit commit = Commit(Id(n), 500);
        AuditReceipt receipt;
        absl::Status s = store->CommitAttestation(commit, &receipt);
        const bool poisoned = Id(n).back() == '7';
        if (poisoned != !s.ok()) unexpected.fetch_add(1);
        if (!s.ok()) {
          refused.fetch_add(1);
          if (store->GetResult(Id(n)).ok()) unexpected.fetch_add(1);
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        ok[receipt.leaf_index] = {receipt, commit.audit->leaf};
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(refused.load(), kThreads * 2);
  ASSERT_EQ(ok.size(), static_cast<size_t>(kThreads * (kPerThread - 2)));
  EXPECT_EQ(ok.rbegin()->first, ok.size() - 1);  // consecutive: no index lost to a refusal
  Checkpoint latest = OpenCheckpoint(store->LatestCheckpoint()->note);
  EXPECT_EQ(latest.size, ok.size());
  for (const auto& [index, entry] : ok) {
    EXPECT_TRUE(VerifyReceipt(*store, entry.first, entry.second).ok()) << index;
    EXPECT_TRUE(VerifyConsistent(*store, OpenCheckpoint(entry.first.checkpoint), latest).ok());
  }
  absl::StatusOr<std::vector<std::string>> leaves = store->AuditLeaves(0, ok.size());
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  EXPECT_EQ(Bytes(Mth(*leaves, 0, leaves->size())), latest.root);
}

TEST_F(SqliteLogTest, ReopeningContinuesTheSameTree) {
  std::vector<Checkpoint> checkpoints;
  std::string latest_note;
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->PutPolicy("p", "{}", 10).ok());
    for (int i = 0; i < 5; ++i) {
      AuditReceipt receipt;
      ASSERT_TRUE(store->CommitAttestation(Commit(Id(i), 500), &receipt).ok());
      checkpoints.push_back(OpenCheckpoint(receipt.checkpoint));
    }
    latest_note = store->LatestCheckpoint()->note;
  }
  auto store = OpenStore();
  EXPECT_EQ(store->LatestCheckpoint()->note, latest_note);  // nothing re-signed
  for (int i = 5; i < 10; ++i) {
    AttestationCommit commit = Commit(Id(i), 500);
    AuditReceipt receipt;
    ASSERT_TRUE(store->CommitAttestation(commit, &receipt).ok());
    EXPECT_EQ(receipt.leaf_index, static_cast<uint64_t>(i));
    EXPECT_TRUE(VerifyReceipt(*store, receipt, commit.audit->leaf).ok());
    checkpoints.push_back(OpenCheckpoint(receipt.checkpoint));
  }
  for (const Checkpoint& older : checkpoints) {
    EXPECT_TRUE(VerifyConsistent(*store, older, checkpoints.back()).ok()) << older.size;
  }
}

TEST_F(SqliteLogTest, ALogIsNotContinuedUnderAnotherKey) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->PutPolicy("p", "{}", 10).ok());
    ASSERT_TRUE(store->CommitAttestation(Commit(Id(1), 500), nullptr).ok());
  }
  absl::StatusOr<NoteSigner> other = NoteSigner::Generate(LogSigner().name());
  ASSERT_TRUE(other.ok());
  SqliteStore::Options options;
  options.log_signer = &*other;
  absl::StatusOr<std::unique_ptr<SqliteStore>> refused = SqliteStore::Open(dir_, options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  // The key that signed it still opens it; no key at all (an export) too.
  EXPECT_NE(OpenStore(), nullptr);
  EXPECT_NE(OpenStore(SqliteStore::Options()), nullptr);
}

TEST_F(SqliteLogTest, MigratesAVersionThreeDatabaseToVersionFour) {
  const std::vector<SqliteMigration> first_three(SqliteStoreMigrations().begin(),
                                                 SqliteStoreMigrations().begin() + 3);
  SqliteStore::Options old_build;
  old_build.migrations_for_testing = &first_three;
  {
    auto store = OpenStore(old_build);
    ASSERT_EQ(*store->SchemaVersion(), 3);
    ASSERT_TRUE(store->PutPolicy("p", "{}", 10).ok());
    ASSERT_TRUE(store->EnsureTenant("acme", "sealed key", 20).ok());
    ASSERT_TRUE(store->PutBlob({Digest("e"), "acme", BlobKind::kEvidence, "ct", 20, 99}).ok());
  }
  auto store = OpenStore();
  EXPECT_EQ(*store->SchemaVersion(), 4);
  EXPECT_EQ(store->GetBlob("acme", Digest("e"), BlobKind::kEvidence)->sealed, "ct");
  EXPECT_EQ(store->LatestCheckpoint()->size, 0u);  // signed on the first open with a signer
  AuditReceipt receipt;
  ASSERT_TRUE(store->CommitAttestation(Commit(Id(1), 500), &receipt).ok());
  ASSERT_TRUE(store->AddCosignature(
                       1, CosignatureSigner::Generate("w")->SignatureLine(
                              OpenCheckpoint(receipt.checkpoint).Text(), 5))
                  .ok());
  EXPECT_EQ(*store->AuditRangeByTime(500, 501), (std::pair<uint64_t, uint64_t>(0, 1)));
  store.reset();
  auto db = Db();
  for (const char* name : {"audit_cosignatures", "audit_blobs_expiry", "audit_leaves_time"}) {
    const std::string count =
        absl::StrCat("SELECT count(*) FROM sqlite_master WHERE name = '", name, "'");
    EXPECT_EQ(*db->QueryInt(count.c_str()), 1) << name;
  }
}

// --- Durability: kill -9 during sustained appends.

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// What the child reports for each OK commit, in one write (atomic: under
// PIPE_BUF): this header, then the receipt's checkpoint note.
struct Ack {
  uint32_t note_bytes;
  int32_t trial;
  int32_t thread;
  int32_t index;  // -1: the child failed
  uint64_t leaf_index;
  uint64_t tree_size;
};

std::string AckedId(int trial, int thread, int index) {
  return absl::StrFormat("%08x%08x%08x%08x", 0xa0d17, trial, thread, index);
}

[[noreturn]] void AppendUntilKilled(const std::string& dir, int trial, int out) {
  SqliteStore::Options options;
  options.log_signer = &LogSigner();
  auto opened = SqliteStore::Open(dir, options);
  auto report = [&](const Ack& ack, const std::string& note) {
    std::string record(reinterpret_cast<const char*>(&ack), sizeof(ack));
    record += note;
    if (write(out, record.data(), record.size()) != static_cast<ssize_t>(record.size())) _exit(5);
  };
  if (!opened.ok() || !(*opened)->PutPolicy("p", "{}", 10).ok()) {
    report({0, trial, -1, -1, 0, 0}, "");
    _exit(1);
  }
  SqliteStore& store = **opened;
  for (int t = 0; t < 4; ++t) {
    std::thread([&, t] {
      for (int i = 0;; ++i) {
        AuditReceipt receipt;
        absl::Status s = store.CommitAttestation(Commit(AckedId(trial, t, i), 500), &receipt);
        if (!s.ok()) {
          report({0, trial, t, -1, 0, 0}, "");
          _exit(1);
        }
        report({static_cast<uint32_t>(receipt.checkpoint.size()), trial, t, i,
                receipt.leaf_index, receipt.tree_size},
               receipt.checkpoint);
      }
    }).detach();
  }
  for (;;) pause();
}

TEST_F(SqliteLogTest, KillNineLosesNoReceiptAndKeepsEveryCheckpointConsistent) {
  constexpr int kTrials = 100;
  LogSigner();  // made once, here: every child signs with the same key
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(5, 120);
  size_t total = 0;
  std::string previous_latest;
  for (int trial = 0; trial < kTrials; ++trial) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    UniqueFd read_end(fds[0]);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      read_end.reset();
      AppendUntilKilled(dir_, trial, fds[1]);
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    const std::string got = ReadAll(read_end.get());
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "stopped by itself";

    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CheckIntegrity().ok());
    const Checkpoint latest = OpenCheckpoint(store->LatestCheckpoint()->note);
    if (!previous_latest.empty()) {
      ASSERT_TRUE(VerifyConsistent(*store, OpenCheckpoint(previous_latest), latest).ok());
    }
    previous_latest = store->LatestCheckpoint()->note;
    size_t off = 0;
    while (off < got.size()) {
      ASSERT_GE(got.size() - off, sizeof(Ack));
      Ack ack;
      std::memcpy(&ack, got.data() + off, sizeof(ack));
      ASSERT_GE(ack.index, 0) << "the child failed in trial " << ack.trial;
      ASSERT_GE(got.size() - off - sizeof(ack), ack.note_bytes);
      const std::string note = got.substr(off + sizeof(ack), ack.note_bytes);
      off += sizeof(ack) + ack.note_bytes;
      const std::string id = AckedId(ack.trial, ack.thread, ack.index);
      const std::string leaf = Commit(id, 500).audit->leaf;
      // Present at its index, proven against the latest checkpoint.
      absl::StatusOr<uint64_t> index = store->AuditLeafOfResult(id);
      ASSERT_TRUE(index.ok()) << "lost receipt of " << id;
      EXPECT_EQ(*index, ack.leaf_index);
      EXPECT_EQ(store->AuditLeaves(ack.leaf_index, 1)->at(0), leaf);
      AuditReceipt at_latest{ack.leaf_index, latest.size, previous_latest};
      EXPECT_TRUE(VerifyReceipt(*store, at_latest, leaf).ok()) << id;
      // The receipt's checkpoint was stored and is consistent with the latest.
      const Checkpoint reported = OpenCheckpoint(note);
      EXPECT_EQ(reported.size, ack.tree_size);
      EXPECT_EQ(store->CheckpointOfSize(ack.tree_size)->note, note);
      EXPECT_TRUE(VerifyConsistent(*store, reported, latest).ok()) << id;
      ++total;
    }
  }
  EXPECT_GT(total, 500u) << "the kills must land while receipts are returned";
}

}  // namespace
}  // namespace fdattest
