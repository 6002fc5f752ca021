// The audit log's Merkle tree (RFC 9162 section 2.1): leaf and node hashing,
// the tree head, inclusion and consistency proofs generated from stored
// complete-subtree hashes, their verification, and appending. Byte layout:
// docs/formats/archive.md, "Merkle tree and tiles".
//
// Every hash the tree needs is the root of a complete subtree, node (level,
// index), stored once when it becomes complete (MerkleAppender says which);
// the hash of an incomplete range is computed from the complete subtrees that
// cover it. The functions are stateless and thread-safe as far as the reader
// passed to them is; a MerkleAppender is a plain value (not thread-safe).
#ifndef FDATTEST_VERIFIER_AUDIT_MERKLE_H_
#define FDATTEST_VERIFIER_AUDIT_MERKLE_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/status.h"

namespace fdattest {

using MerkleHash = std::array<uint8_t, 32>;

// SHA-256(0x00 || data).
MerkleHash MerkleLeafHash(absl::string_view data);
// SHA-256(0x01 || left || right).
MerkleHash MerkleNodeHash(const MerkleHash& left, const MerkleHash& right);
// SHA-256(""), the root of the empty tree.
MerkleHash MerkleEmptyRoot();

// Node (level, index): the root of the complete subtree over leaves
// [index << level, (index + 1) << level). Level 0 = leaf hashes.
struct MerkleNodeId {
  int level;
  uint64_t index;
  friend bool operator==(const MerkleNodeId&, const MerkleNodeId&) = default;
};

// Where stored complete-subtree hashes come from.
class MerkleNodeReader {
 public:
  virtual ~MerkleNodeReader() = default;
  // out[i] = hash of ids[i]; NotFound if one is not stored, DataLoss if damaged.
  virtual absl::Status ReadNodes(absl::Span<const MerkleNodeId> ids,
                                 std::vector<MerkleHash>* out) = 0;
};

// The tree head of the first `size` leaves (MerkleEmptyRoot() for 0).
absl::StatusOr<MerkleHash> MerkleRoot(MerkleNodeReader& nodes, uint64_t size);

// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves,
// ordered from the leaf's sibling up to the root's child. InvalidArgument
// unless index < size. Reads every node it needs in one ReadNodes call.
absl::StatusOr<std::vector<MerkleHash>> MerkleInclusionProof(MerkleNodeReader& nodes,
                                                             uint64_t index, uint64_t size);

// RFC 9162 consistency proof between the trees of size1 and size2 leaves.
// Empty when size1 == size2; InvalidArgument when size1 is 0 (the empty tree
// is consistent with everything: there is nothing to prove, and
// VerifyMerkleConsistency refuses it) or size1 > size2. One ReadNodes call.
absl::StatusOr<std::vector<MerkleHash>> MerkleConsistencyProof(MerkleNodeReader& nodes,
                                                               uint64_t size1, uint64_t size2);

// Verification, iteratively as RFC 9162 sections 2.1.3.2 and 2.1.4.2 say,
// after checking the proof has exactly the length its sizes call for. Takes
// raw byte strings so that wrong lengths are refused, not impossible: hashes
// must be 32 bytes (except the two roots of a size1 == size2 consistency
// check, which only have to be equal). InvalidArgument for malformed input,
// Unauthenticated when the proof does not lead to the root.
absl::Status VerifyMerkleInclusion(uint64_t index, uint64_t size, absl::string_view leaf_hash,
                                   const std::vector<std::string>& proof, absl::string_view root);
absl::Status VerifyMerkleConsistency(uint64_t size1, uint64_t size2, absl::string_view root1,
                                     absl::string_view root2,
                                     const std::vector<std::string>& proof);

// Appending: holds the tree's right border (the roots of its complete
// subtrees, largest first), so an append reads nothing.
class MerkleAppender {
 public:
  // The border of the tree of `size` leaves, read in one ReadNodes call.
  static absl::StatusOr<MerkleAppender> Load(MerkleNodeReader& nodes, uint64_t size);
  // The empty tree.
  MerkleAppender() = default;

  uint64_t size() const { return size_; }
  MerkleHash Root() const;
  // Appends one leaf hash; returns every complete node it creates: (level 0,
  // index size) and the parents that became complete, to be stored by the
  // caller in the same transaction.
  std::vector<std::pair<MerkleNodeId, MerkleHash>> Append(const MerkleHash& leaf_hash);

 private:
  uint64_t size_ = 0;
  std::vector<std::pair<MerkleNodeId, MerkleHash>> border_;  // largest subtree first
};

// The complete subtrees covering leaves [begin, end), left to right, each as
// large as alignment allows (so [0, size) gives one node per bit of size).
// For readers and the tiles, which need to know which nodes a range is.
std::vector<MerkleNodeId> MerkleRangeNodes(uint64_t begin, uint64_t end);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_MERKLE_H_
