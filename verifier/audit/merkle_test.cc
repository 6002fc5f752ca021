// The Merkle log against a reference written here straight from RFC 9162's
// recursive definitions (MTH, PATH, SUBPROOF/PROOF), on the RFC 6962 reference
// tree and every size up to 70 plus random larger ones.
#include "verifier/audit/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

std::string Bytes(const MerkleHash& h) { return std::string(h.begin(), h.end()); }
std::vector<std::string> Bytes(const std::vector<MerkleHash>& v) {
  std::vector<std::string> out;
  for (const MerkleHash& h : v) out.push_back(Bytes(h));
  return out;
}
std::string Hex(const MerkleHash& h) { return HexEncode(h); }

// --- The recursive reference (RFC 9162 section 2.1.1, 2.1.3.1, 2.1.4.1). ---

uint64_t K(uint64_t n) {  // largest power of two smaller than n (n > 1)
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

struct Reference {
  std::vector<MerkleHash> leaves;  // leaf hashes

  MerkleHash Mth(uint64_t b, uint64_t e) const {
    const uint64_t n = e - b;
    if (n == 0) return Sha256("");
    if (n == 1) return leaves[b];
    const uint64_t k = K(n);
    return MerkleNodeHash(Mth(b, b + k), Mth(b + k, e));
  }
  std::vector<MerkleHash> Path(uint64_t m, uint64_t b, uint64_t e) const {
    const uint64_t n = e - b;
    if (n == 1) return {};
    const uint64_t k = K(n);
    std::vector<MerkleHash> out;
    if (m < k) {
      out = Path(m, b, b + k);
      out.push_back(Mth(b + k, e));
    } else {
      out = Path(m - k, b + k, e);
      out.push_back(Mth(b, b + k));
    }
    return out;
  }
  std::vector<MerkleHash> Subproof(uint64_t m, uint64_t b, uint64_t e, bool whole) const {
    const uint64_t n = e - b;
    if (m == n) {
      if (whole) return {};
      return {Mth(b, e)};
    }
    const uint64_t k = K(n);
    std::vector<MerkleHash> out;
    if (m <= k) {
      out = Subproof(m, b, b + k, whole);
      out.push_back(Mth(b + k, e));
    } else {
      out = Subproof(m - k, b + k, e, false);
      out.push_back(Mth(b, b + k));
    }
    return out;
  }
  std::vector<MerkleHash> Proof(uint64_t m, uint64_t n) const { return Subproof(m, 0, n, true); }
};

// Complete nodes in memory, filled from MerkleAppender; counts reads.
class MapNodes : public MerkleNodeReader {
 public:
  absl::Status ReadNodes(absl::Span<const MerkleNodeId> ids,
                         std::vector<MerkleHash>* out) override {
    ++calls;
    out->clear();
    for (const MerkleNodeId& id : ids) {
      auto it = nodes.find({id.level, id.index});
      if (it == nodes.end()) return absl::NotFoundError("no such node");
      out->push_back(it->second);
    }
    return absl::OkStatus();
  }
  std::map<std::pair<int, uint64_t>, MerkleHash> nodes;
  int calls = 0;
};

MerkleHash LeafFor(uint64_t i) {
  return MerkleLeafHash(std::string(reinterpret_cast<const char*>(&i), sizeof(i)));
}

// A tree of `size` leaves both ways.
struct Tree {
  explicit Tree(uint64_t size, MerkleHash (*leaf)(uint64_t) = LeafFor) {
    for (uint64_t i = 0; i < size; ++i) Add(leaf(i));
  }
  void Add(const MerkleHash& h) {
    ref.leaves.push_back(h);
    for (const auto& [id, hash] : appender.Append(h)) {
      EXPECT_TRUE(nodes.nodes.emplace(std::make_pair(id.level, id.index), hash).second);
    }
  }
  Reference ref;
  MapNodes nodes;
  MerkleAppender appender;
};

const char* const kRfcLeaves[] = {"",
                                  "00",
                                  "10",
                                  "2021",
                                  "3031",
                                  "40414243",
                                  "5051525354555657",
                                  "606162636465666768696a6b6c6d6e6f"};

MerkleHash RfcLeaf(uint64_t i) { return MerkleLeafHash(absl::HexStringToBytes(kRfcLeaves[i])); }

TEST(MerkleHashTest, LeafNodeAndEmptyFollowRfc9162Prefixes) {
  EXPECT_EQ(Hex(MerkleEmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(MerkleLeafHash("abc"), Sha256(std::string("\0abc", 4)));
  const MerkleHash l = MerkleLeafHash("l"), r = MerkleLeafHash("r");
  EXPECT_EQ(MerkleNodeHash(l, r), Sha256("\x01" + Bytes(l) + Bytes(r)));
  EXPECT_NE(MerkleNodeHash(l, r), MerkleNodeHash(r, l));
}

TEST(MerkleRootTest, ReproducesTheRfc6962ReferenceTree) {
  Tree tree(8, RfcLeaf);
  EXPECT_EQ(Hex(*MerkleRoot(tree.nodes, 8)),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  EXPECT_EQ(Hex(tree.ref.Mth(0, 8)),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  for (uint64_t size = 0; size <= 8; ++size) {
    absl::StatusOr<MerkleHash> root = MerkleRoot(tree.nodes, size);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(Hex(*root), Hex(tree.ref.Mth(0, size))) << "size " << size;
  }
}

TEST(MerkleAppenderTest, NodesReproduceTheReferenceRootAtEverySize) {
  Tree tree(0);
  EXPECT_EQ(tree.appender.Root(), MerkleEmptyRoot());
  for (uint64_t size = 1; size <= 600; ++size) {
    tree.Add(LeafFor(size - 1));
    ASSERT_EQ(tree.appender.size(), size);
    ASSERT_EQ(Hex(tree.appender.Root()), Hex(tree.ref.Mth(0, size))) << size;
    ASSERT_EQ(Hex(*MerkleRoot(tree.nodes, size)), Hex(tree.ref.Mth(0, size))) << size;
  }
  // Exactly the complete subtrees are stored: 2n - popcount(n) of them.
  EXPECT_EQ(tree.nodes.nodes.size(), 2 * 600 - 4u);
  for (const auto& [id, hash] : tree.nodes.nodes) {
    ASSERT_EQ(Hex(hash), Hex(tree.ref.Mth(id.second << id.first, (id.second + 1) << id.first)));
  }
}

TEST(MerkleAppenderTest, LoadedAtAnySizeContinuesTheSameTree) {
  Tree full(140);
  for (uint64_t size = 0; size <= 70; ++size) {
    absl::StatusOr<MerkleAppender> a = MerkleAppender::Load(full.nodes, size);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_EQ(a->Root(), full.ref.Mth(0, size));
    for (uint64_t i = size; i < 140; ++i) a->Append(full.ref.leaves[i]);
    ASSERT_EQ(a->Root(), full.ref.Mth(0, 140)) << size;
  }
  MapNodes empty;
  EXPECT_EQ(MerkleAppender::Load(empty, 3).status().code(), absl::StatusCode::kNotFound);
}

void CheckInclusion(Tree& tree, uint64_t index, uint64_t size) {
  const int calls = tree.nodes.calls;
  absl::StatusOr<std::vector<MerkleHash>> proof = MerkleInclusionProof(tree.nodes, index, size);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_LE(tree.nodes.calls - calls, 1) << "one ReadNodes call per proof";
  ASSERT_EQ(Bytes(*proof), Bytes(tree.ref.Path(index, 0, size))) << index << " of " << size;
  const std::string root = Bytes(tree.ref.Mth(0, size));
  const std::string leaf = Bytes(tree.ref.leaves[index]);
  EXPECT_TRUE(VerifyMerkleInclusion(index, size, leaf, Bytes(*proof), root).ok())
      << index << " of " << size;
}

void CheckConsistency(Tree& tree, uint64_t size1, uint64_t size2) {
  const int calls = tree.nodes.calls;
  absl::StatusOr<std::vector<MerkleHash>> proof = MerkleConsistencyProof(tree.nodes, size1, size2);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_LE(tree.nodes.calls - calls, 1) << "one ReadNodes call per proof";
  ASSERT_EQ(Bytes(*proof), Bytes(tree.ref.Proof(size1, size2))) << size1 << " to " << size2;
  EXPECT_TRUE(VerifyMerkleConsistency(size1, size2, Bytes(tree.ref.Mth(0, size1)),
                                      Bytes(tree.ref.Mth(0, size2)), Bytes(*proof))
                  .ok())
      << size1 << " to " << size2;
}

TEST(MerkleProofTest, InclusionProofsEqualTheReferenceAndVerifyUpTo70) {
  Tree tree(70);
  for (uint64_t size = 1; size <= 70; ++size) {
    for (uint64_t index = 0; index < size; ++index) CheckInclusion(tree, index, size);
  }
}

TEST(MerkleProofTest, ConsistencyProofsEqualTheReferenceAndVerifyUpTo70) {
  Tree tree(70);
  for (uint64_t size2 = 1; size2 <= 70; ++size2) {
    for (uint64_t size1 = 1; size1 <= size2; ++size1) CheckConsistency(tree, size1, size2);
  }
}

TEST(MerkleProofTest, ProofsEqualTheReferenceAtRandomLargerSizes) {
  std::mt19937_64 rng(16);
  Tree tree(5000);
  for (int round = 0; round < 300; ++round) {
    const uint64_t size2 = 71 + rng() % (5000 - 70);
    const uint64_t size1 = 1 + rng() % size2;
    CheckInclusion(tree, rng() % size2, size2);
    CheckInclusion(tree, size2 - 1, size2);
    CheckConsistency(tree, size1, size2);
  }
}

TEST(MerkleProofTest, GenerationRefusesImpossibleRequestsAndPropagatesMissingNodes) {
  Tree tree(10);
  EXPECT_EQ(MerkleInclusionProof(tree.nodes, 10, 10).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MerkleInclusionProof(tree.nodes, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MerkleConsistencyProof(tree.nodes, 0, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MerkleConsistencyProof(tree.nodes, 6, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(MerkleConsistencyProof(tree.nodes, 7, 7)->empty());
  EXPECT_EQ(MerkleInclusionProof(tree.nodes, 3, 11).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(MerkleConsistencyProof(tree.nodes, 3, 12).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(MerkleRoot(tree.nodes, 11).status().code(), absl::StatusCode::kNotFound);
}

// Every way of changing a valid proof makes it fail: each bit position of
// each byte of each element (one flip per byte, rotating the bit), any
// element dropped, duplicated or swapped, an element too many at either end,
// another leaf index or old size. (Another tree size can take the same path
// shape, e.g. leaf 0 of 3 and of 4: the size is bound by the root, which a
// checkpoint signs together with it, not by the proof.)
TEST(MerkleVerifyTest, EveryMutationOfAnInclusionProofFails) {
  Tree tree(40);
  for (uint64_t size = 1; size <= 40; ++size) {
    const std::string root = Bytes(tree.ref.Mth(0, size));
    for (uint64_t index = 0; index < size; ++index) {
      const std::string leaf = Bytes(tree.ref.leaves[index]);
      const std::vector<std::string> proof = Bytes(tree.ref.Path(index, 0, size));
      ASSERT_TRUE(VerifyMerkleInclusion(index, size, leaf, proof, root).ok());
      for (size_t e = 0; e < proof.size(); ++e) {
        for (size_t byte = 0; byte < 32; ++byte) {
          std::vector<std::string> bad = proof;
          bad[e][byte] ^= static_cast<char>(1 << (byte % 8));
          ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, bad, root).ok());
        }
        std::vector<std::string> dropped = proof;
        dropped.erase(dropped.begin() + e);
        ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, dropped, root).ok());
        std::vector<std::string> doubled = proof;
        doubled.insert(doubled.begin() + e, proof[e]);
        ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, doubled, root).ok());
        std::vector<std::string> longer = proof;
        longer[e] += '\0';
        ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, longer, root).ok());
        std::vector<std::string> shorter = proof;
        shorter[e].pop_back();
        ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, shorter, root).ok());
        if (e + 1 < proof.size() && proof[e] != proof[e + 1]) {
          std::vector<std::string> swapped = proof;
          std::swap(swapped[e], swapped[e + 1]);
          ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, swapped, root).ok());
        }
      }
      std::vector<std::string> extended = proof;
      extended.push_back(root);
      ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, extended, root).ok());
      extended = proof;
      extended.insert(extended.begin(), leaf);
      ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, extended, root).ok());
      for (size_t byte = 0; byte < 32; ++byte) {
        std::string bad_leaf = leaf, bad_root = root;
        bad_leaf[byte] ^= 0x80;
        bad_root[byte] ^= 0x01;
        ASSERT_FALSE(VerifyMerkleInclusion(index, size, bad_leaf, proof, root).ok());
        ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, proof, bad_root).ok());
      }
      ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf + "x", proof, root).ok());
      ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, proof, root + "x").ok());
      ASSERT_FALSE(VerifyMerkleInclusion(index, size, leaf, proof, root.substr(1)).ok());
      for (uint64_t other = 0; other < size + 2; ++other) {
        if (other != index) {
          ASSERT_FALSE(VerifyMerkleInclusion(other, size, leaf, proof, root).ok())
              << index << " as " << other << " of " << size;
        }
      }
    }
  }
}

TEST(MerkleVerifyTest, EveryMutationOfAConsistencyProofFails) {
  Tree tree(40);
  for (uint64_t size2 = 2; size2 <= 40; ++size2) {
    const std::string root2 = Bytes(tree.ref.Mth(0, size2));
    for (uint64_t size1 = 1; size1 < size2; ++size1) {
      const std::string root1 = Bytes(tree.ref.Mth(0, size1));
      const std::vector<std::string> proof = Bytes(tree.ref.Proof(size1, size2));
      ASSERT_TRUE(VerifyMerkleConsistency(size1, size2, root1, root2, proof).ok());
      for (size_t e = 0; e < proof.size(); ++e) {
        for (size_t byte = 0; byte < 32; ++byte) {
          std::vector<std::string> bad = proof;
          bad[e][byte] ^= static_cast<char>(1 << (byte % 8));
          ASSERT_FALSE(VerifyMerkleConsistency(size1, size2, root1, root2, bad).ok())
              << size1 << " to " << size2 << " element " << e << " byte " << byte;
        }
        std::vector<std::string> dropped = proof;
        dropped.erase(dropped.begin() + e);
        ASSERT_FALSE(VerifyMerkleConsistency(size1, size2, root1, root2, dropped).ok());
        std::vector<std::string> doubled = proof;
        doubled.insert(doubled.begin() + e, proof[e]);
        ASSERT_FALSE(VerifyMerkleConsistency(size1, size2, root1, root2, doubled).ok());
        std::vector<std::string> longer = proof;
        longer[e] += '\0';
        ASSERT_FALSE(VerifyMerkleConsistency(size1, size2, root1, root2, longer).ok());
      }
      std::vector<std::string> extended = proof;
      extended.push_back(root2);
      ASSERT_FALSE(VerifyMerkleConsistency(size1, size2, root1, root2, extended).ok());
      extended = proof;
      extended.insert(extended.begin(), root1);
      ASSERT_FALSE(VerifyMerkleConsistency(size1, size2, root1, root2, extended).ok());
      for (size_t byte = 0; byte < 32; ++byte) {
        std::string bad1 = root1, bad2 = root2;
        bad1[byte] ^= 0x10;
        bad2[byte] ^= 0x02;
        ASSERT_FALSE(VerifyMerkleConsistency(size1, size2, bad1, root2, proof).ok());
        ASSERT_FALSE(VerifyMerkleConsistency(size1, size2, root1, bad2, proof).ok());
      }
      ASSERT_FALSE(VerifyMerkleConsistency(size1, size2, root2, root1, proof).ok());
      for (uint64_t other = 1; other <= 41; ++other) {
        if (other != size1 && other < size2) {
          ASSERT_FALSE(VerifyMerkleConsistency(other, size2, root1, root2, proof).ok())
              << size1 << " as " << other << " to " << size2;
        }
      }
    }
  }
}

TEST(MerkleVerifyTest, EdgeCasesFollowTransparencyDevSemantics) {
  const std::string h = Bytes(MerkleLeafHash("x"));
  // Consistency from 0 is refused, even to 0 with equal roots and no proof.
  EXPECT_FALSE(VerifyMerkleConsistency(0, 0, h, h, {}).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(0, 3, h, h, {h}).ok());
  // Equal sizes: the proof must be empty and the roots equal, whatever their length.
  EXPECT_TRUE(VerifyMerkleConsistency(5, 5, "short", "short", {}).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(5, 5, "short", "shorT", {}).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(5, 5, h, h, {h}).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(6, 5, h, h, {h}).ok());
  EXPECT_FALSE(VerifyMerkleConsistency(1, 2, h, h, {}).ok());
  // A single-leaf tree: the leaf hash is the root, the proof empty.
  EXPECT_TRUE(VerifyMerkleInclusion(0, 1, h, {}, h).ok());
  EXPECT_FALSE(VerifyMerkleInclusion(1, 1, h, {}, h).ok());
  EXPECT_FALSE(VerifyMerkleInclusion(0, 0, h, {}, h).ok());
  EXPECT_FALSE(VerifyMerkleInclusion(0, 1, "", {}, h).ok());
  EXPECT_FALSE(VerifyMerkleInclusion(0, 1, h, {}, "").ok());
}

// Sizes near 2^64 and indexes whose fn shifts down to 0 early: verification
// ends (with a refusal: the hashes are arbitrary) instead of looping.
TEST(MerkleVerifyTest, ShiftLoopsTerminateAtExtremeSizes) {
  const std::string h = Bytes(MerkleLeafHash("x"));
  const uint64_t sizes[] = {
      UINT64_MAX, UINT64_MAX - 1, uint64_t{1} << 63, (uint64_t{1} << 63) + 1, 3, 5, 1025};
  for (uint64_t size : sizes) {
    for (uint64_t index : {uint64_t{0}, uint64_t{1}, size / 2, size - 2, size - 1}) {
      if (index >= size) continue;
      const int inner = std::bit_width(index ^ (size - 1));
      const uint64_t want = inner + (inner >= 64 ? 0 : std::popcount(index >> inner));
      const std::vector<std::string> proof(want, h);
      EXPECT_EQ(VerifyMerkleInclusion(index, size, h, proof, h).code(),
                absl::StatusCode::kUnauthenticated)
          << index << " of " << size;
    }
    for (uint64_t size1 : {uint64_t{1}, uint64_t{2}, uint64_t{3}, size / 2, size - 1}) {
      if (size1 == 0 || size1 >= size) continue;
      for (size_t n = 1; n <= 130; ++n) {
        const std::vector<std::string> proof(n, h);
        EXPECT_FALSE(VerifyMerkleConsistency(size1, size, h, h, proof).ok());
      }
    }
  }
}

// A tree whose leaves all have one hash is consistent at any size: node
// (level, i) is the same hash h[level] for every i. Proofs at sizes up to
// 2^64 - 1 can then be generated and must verify.
class UniformTree : public MerkleNodeReader {
 public:
  UniformTree() {
    level_[0] = MerkleLeafHash("same");
    for (int l = 1; l < 64; ++l) level_[l] = MerkleNodeHash(level_[l - 1], level_[l - 1]);
  }
  absl::Status ReadNodes(absl::Span<const MerkleNodeId> ids,
                         std::vector<MerkleHash>* out) override {
    out->clear();
    for (const MerkleNodeId& id : ids) out->push_back(level_[id.level]);
    return absl::OkStatus();
  }
  MerkleHash leaf() const { return level_[0]; }

 private:
  MerkleHash level_[64];
};

TEST(MerkleVerifyTest, ProofsVerifyAtSizesUpTo2To64) {
  UniformTree tree;
  const std::string leaf = Bytes(tree.leaf());
  const uint64_t sizes[] = {UINT64_MAX,
                            UINT64_MAX - 1,
                            uint64_t{1} << 63,
                            (uint64_t{1} << 63) + 1,
                            (uint64_t{1} << 63) - 1,
                            uint64_t{1} << 40};
  for (uint64_t size : sizes) {
    const std::string root = Bytes(*MerkleRoot(tree, size));
    for (uint64_t index : {uint64_t{0}, uint64_t{1}, size / 3, size / 2, size - 2, size - 1}) {
      absl::StatusOr<std::vector<MerkleHash>> proof = MerkleInclusionProof(tree, index, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(VerifyMerkleInclusion(index, size, leaf, Bytes(*proof), root).ok())
          << index << " of " << size << ": "
          << VerifyMerkleInclusion(index, size, leaf, Bytes(*proof), root);
    }
    for (uint64_t size1 : {uint64_t{1}, uint64_t{2}, uint64_t{3}, size / 3, size / 2, size - 1}) {
      absl::StatusOr<std::vector<MerkleHash>> proof = MerkleConsistencyProof(tree, size1, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(
          VerifyMerkleConsistency(size1, size, Bytes(*MerkleRoot(tree, size1)), root, Bytes(*proof))
              .ok())
          << size1 << " to " << size;
    }
  }
}

}  // namespace
}  // namespace fdattest
