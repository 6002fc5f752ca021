#include "verifier/audit/merkle_sqlite.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "verifier/audit/merkle.h"
#include "verifier/audit/merkle_tiles.h"

namespace fdattest {
namespace {

std::string Bytes(const MerkleHash& h) { return std::string(h.begin(), h.end()); }

MerkleHash LeafFor(uint64_t i) { return MerkleLeafHash("leaf " + std::to_string(i)); }

class SqliteMerkleNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = ::testing::TempDir() + "merkle_sqlite_XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    path_ = dir_ + "/nodes.db";
    Open(true);
    ASSERT_TRUE(db_->Exec(kAuditNodesSchema).ok());
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open(bool create) {
    db_.reset();
    absl::StatusOr<std::unique_ptr<internal::SqliteDb>> db =
        internal::SqliteDb::Open(path_, create, 1000);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }
  // Appends leaves [from, to) in one transaction, as the store does.
  void Append(MerkleAppender& a, uint64_t from, uint64_t to) {
    SqliteMerkleNodes nodes(*db_);
    ASSERT_TRUE(db_->Exec("BEGIN").ok());
    for (uint64_t i = from; i < to; ++i) ASSERT_TRUE(nodes.Write(a.Append(LeafFor(i))).ok());
    ASSERT_TRUE(db_->Exec("COMMIT").ok());
  }

  std::string dir_, path_;
  std::unique_ptr<internal::SqliteDb> db_;
};

TEST_F(SqliteMerkleNodesTest, RoundTripsRootsProofsAndTheAppenderAcrossReopen) {
  MerkleAppender a;
  Append(a, 0, 600);
  MerkleAppender memory;  // the same tree without a database
  for (uint64_t i = 0; i < 1000; ++i) memory.Append(LeafFor(i));
  Open(false);
  SqliteMerkleNodes nodes(*db_);
  absl::StatusOr<MerkleAppender> loaded = MerkleAppender::Load(nodes, 600);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->Root(), a.Root());
  Append(*loaded, 600, 1000);
  EXPECT_EQ(loaded->Root(), memory.Root());
  EXPECT_EQ(db_->QueryInt("SELECT count(*) FROM audit_nodes").value(), 2 * 1000 - 6);
  ASSERT_EQ(*MerkleRoot(nodes, 1000), memory.Root());
  const std::string root = Bytes(memory.Root());
  for (uint64_t index : {0, 1, 255, 256, 511, 998, 999}) {
    absl::StatusOr<std::vector<MerkleHash>> proof = MerkleInclusionProof(nodes, index, 1000);
    ASSERT_TRUE(proof.ok()) << proof.status();
    std::vector<std::string> p;
    for (const MerkleHash& h : *proof) p.push_back(Bytes(h));
    EXPECT_TRUE(VerifyMerkleInclusion(index, 1000, Bytes(LeafFor(index)), p, root).ok()) << index;
  }
  absl::StatusOr<MerkleHash> root600 = MerkleRoot(nodes, 600);
  absl::StatusOr<std::vector<MerkleHash>> proof = MerkleConsistencyProof(nodes, 600, 1000);
  ASSERT_TRUE(proof.ok()) << proof.status();
  std::vector<std::string> p;
  for (const MerkleHash& h : *proof) p.push_back(Bytes(h));
  EXPECT_TRUE(VerifyMerkleConsistency(600, 1000, Bytes(*root600), root, p).ok());
}

TEST_F(SqliteMerkleNodesTest, ReadsTilesInOneRangeAndRefusesWidthsTheTreeDoesNotHave) {
  MerkleAppender a;
  Append(a, 0, 1000);
  SqliteMerkleNodes nodes(*db_);
  std::string want;
  for (uint64_t i = 0; i < 256; ++i) want += Bytes(LeafFor(i));
  EXPECT_EQ(*nodes.ReadTile(0, 0, 256, 1000), want);
  EXPECT_EQ(*nodes.ReadTile(0, 0, 0, 1000), want);
  want.clear();
  for (uint64_t i = 768; i < 1000; ++i) want += Bytes(LeafFor(i));
  EXPECT_EQ(*nodes.ReadTile(0, 3, 232, 1000), want);
  // Level 1: the roots of each run of 256 leaves (nodes of level 8).
  std::vector<MerkleNodeId> ids = {{8, 0}, {8, 1}, {8, 2}};
  std::vector<MerkleHash> level8;
  ASSERT_TRUE(nodes.ReadNodes(ids, &level8).ok());
  MerkleAppender first256;
  for (uint64_t i = 0; i < 256; ++i) first256.Append(LeafFor(i));
  EXPECT_EQ(level8[0], first256.Root());
  EXPECT_EQ(*nodes.ReadTile(1, 0, 3, 1000), Bytes(level8[0]) + Bytes(level8[1]) + Bytes(level8[2]));
  // Widths and tiles the tree of 1000 does not have; a smaller tree's view.
  for (auto [level, index, width] : std::vector<std::tuple<int, uint64_t, int>>{{0, 3, 231},
                                                                                {0, 3, 256},
                                                                                {0, 4, 1},
                                                                                {0, 2, 100},
                                                                                {1, 0, 2},
                                                                                {1, 0, 256},
                                                                                {2, 0, 1},
                                                                                {8, 0, 1},
                                                                                {-1, 0, 1}}) {
    EXPECT_EQ(nodes.ReadTile(level, index, width, 1000).status().code(),
              absl::StatusCode::kNotFound)
        << level << "/" << index << ".p/" << width;
  }
  EXPECT_EQ(nodes.ReadTile(0, 3, 0, 1000).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(nodes.ReadTile(0, 0, 257, 1000).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(nodes.ReadTile(0, 2, 100, 612).value().size(), 100u * 32);
  // A tree size beyond what is stored: the missing nodes are data loss.
  EXPECT_EQ(nodes.ReadTile(0, 3, 256, 1100).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SqliteMerkleNodesTest, ReportsMissingDamagedAndDuplicateNodes) {
  MerkleAppender a;
  Append(a, 0, 300);
  SqliteMerkleNodes nodes(*db_);
  std::vector<MerkleHash> out;
  const MerkleNodeId beyond[] = {{0, 300}};
  EXPECT_EQ(nodes.ReadNodes(beyond, &out).code(), absl::StatusCode::kNotFound);
  const MerkleNodeId bad_level[] = {{64, 0}};
  EXPECT_EQ(nodes.ReadNodes(bad_level, &out).code(), absl::StatusCode::kInvalidArgument);
  const MerkleNodeId bad_index[] = {{0, uint64_t{1} << 63}};
  EXPECT_EQ(nodes.ReadNodes(bad_index, &out).code(), absl::StatusCode::kInvalidArgument);
  // A node is written once.
  EXPECT_EQ(nodes.Write({{{0, 5}, LeafFor(5)}}).code(), absl::StatusCode::kAlreadyExists);
  // A truncated hash is data loss, for point reads and tiles.
  ASSERT_TRUE(db_->Exec("UPDATE audit_nodes SET hash = substr(hash, 1, 31) "
                        "WHERE level = 0 AND idx = 7")
                  .ok());
  const MerkleNodeId seven[] = {{0, 7}};
  EXPECT_EQ(nodes.ReadNodes(seven, &out).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(nodes.ReadTile(0, 0, 256, 300).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(MerkleInclusionProof(nodes, 6, 300).status().code(), absl::StatusCode::kDataLoss);
  // A deleted node: NotFound for a point read, DataLoss for a tile that should hold it.
  ASSERT_TRUE(db_->Exec("DELETE FROM audit_nodes WHERE level = 0 AND idx = 280").ok());
  const MerkleNodeId gone[] = {{0, 280}};
  EXPECT_EQ(nodes.ReadNodes(gone, &out).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(nodes.ReadTile(0, 1, 44, 300).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(MerkleRoot(nodes, 281).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteMerkleNodesTest, ReadsInItsOwnSnapshotOrTheCallersTransaction) {
  MerkleAppender a;
  Append(a, 0, 100);
  SqliteMerkleNodes nodes(*db_);
  const MerkleNodeId ids[] = {{6, 0}, {5, 2}, {2, 24}};
  std::vector<MerkleHash> out;
  ASSERT_TRUE(nodes.ReadNodes(ids, &out).ok());
  EXPECT_FALSE(db_->InTransaction()) << "its own read transaction is ended";
  const MerkleNodeId missing[] = {{6, 0}, {6, 1}};
  EXPECT_EQ(nodes.ReadNodes(missing, &out).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(db_->InTransaction()) << "ended on failure too";
  // Inside the caller's transaction: reads what the transaction wrote, leaves it open.
  ASSERT_TRUE(db_->Exec("BEGIN").ok());
  ASSERT_TRUE(nodes.Write(a.Append(LeafFor(100))).ok());
  const MerkleNodeId fresh[] = {{0, 100}, {6, 0}};
  ASSERT_TRUE(nodes.ReadNodes(fresh, &out).ok());
  EXPECT_EQ(out[0], LeafFor(100));
  EXPECT_TRUE(db_->InTransaction());
  ASSERT_TRUE(db_->Exec("ROLLBACK").ok());
  EXPECT_EQ(nodes.ReadNodes(fresh, &out).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace fdattest
