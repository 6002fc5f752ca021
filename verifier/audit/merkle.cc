#include "verifier/audit/merkle.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

// Leaves [begin, end) of a proof element; its hash is MTH of that range.
struct LeafRange {
  uint64_t begin;
  uint64_t end;
};

// x >> n, 0 for n >= 64 (where the shift itself is undefined): the path
// lengths below shift by a bit length, which is 64 for sizes above 2^63.
uint64_t ShiftRight(uint64_t x, uint64_t n) { return n >= 64 ? 0 : x >> n; }

// The largest power of two strictly below n (n >= 2), RFC 9162's k.
uint64_t SplitPoint(uint64_t n) { return uint64_t{1} << (std::bit_width(n - 1) - 1); }

// Hashes of `ranges`, each folded right to left from the complete subtrees
// covering it (which is MTH for the aligned ranges proofs use), with every
// stored node read in one call.
absl::StatusOr<std::vector<MerkleHash>> RangeHashes(MerkleNodeReader& nodes,
                                                    const std::vector<LeafRange>& ranges) {
  std::vector<MerkleNodeId> ids;
  std::vector<size_t> ends;  // ids of range i are [ends[i-1], ends[i])
  ends.reserve(ranges.size());
  for (const LeafRange& r : ranges) {
    std::vector<MerkleNodeId> part = MerkleRangeNodes(r.begin, r.end);
    ids.insert(ids.end(), part.begin(), part.end());
    ends.push_back(ids.size());
  }
  std::vector<MerkleHash> stored;
  if (!ids.empty()) {
    RETURN_IF_ERROR(nodes.ReadNodes(ids, &stored));
    if (stored.size() != ids.size()) {
      return absl::InternalError(absl::StrCat("node reader answered ", stored.size(),
                                              " hashes for ", ids.size(), " nodes"));
    }
  }
  std::vector<MerkleHash> out;
  out.reserve(ranges.size());
  size_t begin = 0;
  for (size_t end : ends) {
    MerkleHash h = stored[end - 1];
    for (size_t i = end - 1; i > begin; --i) h = MerkleNodeHash(stored[i - 1], h);
    out.push_back(h);
    begin = end;
  }
  return out;
}

absl::Status CheckHashLength(absl::string_view bytes, absl::string_view what) {
  if (bytes.size() != sizeof(MerkleHash)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", bytes.size(), " bytes, not ", sizeof(MerkleHash)));
  }
  return absl::OkStatus();
}

MerkleHash ToHash(absl::string_view bytes) {  // length checked by the caller
  MerkleHash h;
  std::memcpy(h.data(), bytes.data(), h.size());
  return h;
}

absl::StatusOr<std::vector<MerkleHash>> ProofHashes(const std::vector<std::string>& proof) {
  std::vector<MerkleHash> out;
  out.reserve(proof.size());
  for (size_t i = 0; i < proof.size(); ++i) {
    RETURN_IF_ERROR(CheckHashLength(proof[i], absl::StrCat("proof element ", i)));
    out.push_back(ToHash(proof[i]));
  }
  return out;
}

bool HashEquals(const MerkleHash& a, absl::string_view b) {
  return b.size() == a.size() && DigestEqual(a, ToHash(b));
}

}  // namespace

MerkleHash MerkleLeafHash(absl::string_view data) {
  std::string buf;
  buf.reserve(data.size() + 1);
  buf.push_back('\x00');
  buf.append(data.data(), data.size());
  return Sha256(buf);
}

MerkleHash MerkleNodeHash(const MerkleHash& left, const MerkleHash& right) {
  char buf[1 + 2 * sizeof(MerkleHash)];
  buf[0] = '\x01';
  std::memcpy(buf + 1, left.data(), left.size());
  std::memcpy(buf + 1 + left.size(), right.data(), right.size());
  return Sha256(absl::string_view(buf, sizeof(buf)));
}

MerkleHash MerkleEmptyRoot() { return Sha256(""); }

std::vector<MerkleNodeId> MerkleRangeNodes(uint64_t begin, uint64_t end) {
  std::vector<MerkleNodeId> out;
  while (begin < end) {
    int level = begin == 0 ? 63 : std::countr_zero(begin);
    const uint64_t left = end - begin;
    level = std::min(level, static_cast<int>(std::bit_width(left)) - 1);
    out.push_back({level, begin >> level});
    begin += uint64_t{1} << level;
  }
  return out;
}

absl::StatusOr<MerkleHash> MerkleRoot(MerkleNodeReader& nodes, uint64_t size) {
  if (size == 0) return MerkleEmptyRoot();
  ASSIGN_OR_RETURN(std::vector<MerkleHash> h, RangeHashes(nodes, {{0, size}}));
  return h[0];
}

absl::StatusOr<std::vector<MerkleHash>> MerkleInclusionProof(MerkleNodeReader& nodes,
                                                             uint64_t index, uint64_t size) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", index, " is not below tree size ", size));
  }
  // RFC 9162 PATH(m, D[b:e]), from the root down: the sibling of the half
  // holding the leaf at each level; reversed at the end (leaf first).
  std::vector<LeafRange> ranges;
  uint64_t b = 0, e = size;
  while (e - b > 1) {
    const uint64_t k = SplitPoint(e - b);
    if (index - b < k) {
      ranges.push_back({b + k, e});
      e = b + k;
    } else {
      ranges.push_back({b, b + k});
      b += k;
    }
  }
  std::reverse(ranges.begin(), ranges.end());
  return RangeHashes(nodes, ranges);
}

absl::StatusOr<std::vector<MerkleHash>> MerkleConsistencyProof(MerkleNodeReader& nodes,
                                                               uint64_t size1, uint64_t size2) {
  if (size1 == 0) {
    return absl::InvalidArgumentError("no consistency proof from the empty tree");
  }
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof from size ", size1, " to smaller size ", size2));
  }
  // RFC 9162 SUBPROOF(m, D[b:e], flag), from the root down; reversed at the end.
  std::vector<LeafRange> ranges;
  uint64_t b = 0, e = size2;
  bool whole_old_tree = true;  // SUBPROOF's b: D[b:e] is still the old tree's own prefix
  while (size1 != e) {
    const uint64_t k = SplitPoint(e - b);
    if (size1 <= b + k) {
      ranges.push_back({b + k, e});
      e = b + k;
    } else {
      ranges.push_back({b, b + k});
      b += k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) ranges.push_back({b, e});
  std::reverse(ranges.begin(), ranges.end());
  return RangeHashes(nodes, ranges);
}

absl::Status VerifyMerkleInclusion(uint64_t index, uint64_t size, absl::string_view leaf_hash,
                                   const std::vector<std::string>& proof, absl::string_view root) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", index, " is not below tree size ", size));
  }
  RETURN_IF_ERROR(CheckHashLength(leaf_hash, "leaf hash"));
  RETURN_IF_ERROR(CheckHashLength(root, "root"));
  // The path to the leaf and the path to the last leaf share all but their
  // lowest `inner` levels; above them each set bit of index >> inner is one
  // left sibling on the tree's border.
  const uint64_t inner = std::bit_width(index ^ (size - 1));
  const uint64_t border = std::popcount(ShiftRight(index, inner));
  if (proof.size() != inner + border) {
    return absl::InvalidArgumentError(absl::StrCat("inclusion proof has ", proof.size(),
                                                   " hashes, leaf ", index, " of ", size, " needs ",
                                                   inner + border));
  }
  ASSIGN_OR_RETURN(std::vector<MerkleHash> path, ProofHashes(proof));
  // RFC 9162 section 2.1.3.2.
  uint64_t fn = index, sn = size - 1;
  MerkleHash r = ToHash(leaf_hash);
  for (const MerkleHash& p : path) {
    if (sn == 0) return absl::UnauthenticatedError("inclusion proof is longer than the path");
    if ((fn & 1) != 0 || fn == sn) {
      r = MerkleNodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || !HashEquals(r, root)) {
    return absl::UnauthenticatedError(absl::StrCat("inclusion proof of leaf ", index,
                                                   " does not lead to the root of size ", size));
  }
  return absl::OkStatus();
}

absl::Status VerifyMerkleConsistency(uint64_t size1, uint64_t size2, absl::string_view root1,
                                     absl::string_view root2,
                                     const std::vector<std::string>& proof) {
  if (size2 < size1) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency from size ", size1, " to smaller size ", size2));
  }
  if (size1 == 0) {
    return absl::InvalidArgumentError("a consistency proof from the empty tree proves nothing");
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return absl::InvalidArgumentError("consistency proof between equal sizes must be empty");
    }
    if (root1 != root2) return absl::UnauthenticatedError("equal sizes with different roots");
    return absl::OkStatus();
  }
  if (proof.empty()) return absl::InvalidArgumentError("empty consistency proof");
  RETURN_IF_ERROR(CheckHashLength(root1, "first root"));
  RETURN_IF_ERROR(CheckHashLength(root2, "second root"));
  // As for inclusion of leaf size1 - 1 in size2, less the levels of the old
  // tree's last complete subtree, whose root is either root1 (size1 a power
  // of two) or the proof's first element.
  uint64_t inner = std::bit_width((size1 - 1) ^ (size2 - 1));
  const uint64_t border = std::popcount(ShiftRight(size1 - 1, inner));
  const int shift = std::countr_zero(size1);
  inner -= shift;
  const bool old_is_complete = size1 == uint64_t{1} << shift;
  const uint64_t want = (old_is_complete ? 0 : 1) + inner + border;
  if (proof.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat("consistency proof has ", proof.size(),
                                                   " hashes, sizes ", size1, " to ", size2,
                                                   " need ", want));
  }
  ASSIGN_OR_RETURN(std::vector<MerkleHash> path, ProofHashes(proof));
  // RFC 9162 section 2.1.4.2.
  if (old_is_complete) path.insert(path.begin(), ToHash(root1));
  uint64_t fn = size1 - 1, sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  MerkleHash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const MerkleHash& c = path[i];
    if (sn == 0) return absl::UnauthenticatedError("consistency proof is longer than the path");
    if ((fn & 1) != 0 || fn == sn) {
      fr = MerkleNodeHash(c, fr);
      sr = MerkleNodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = MerkleNodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0 || !HashEquals(fr, root1) || !HashEquals(sr, root2)) {
    return absl::UnauthenticatedError(
        absl::StrCat("consistency proof from size ", size1, " to ", size2, " does not verify"));
  }
  return absl::OkStatus();
}

absl::StatusOr<MerkleAppender> MerkleAppender::Load(MerkleNodeReader& nodes, uint64_t size) {
  MerkleAppender a;
  a.size_ = size;
  if (size == 0) return a;
  std::vector<MerkleNodeId> ids = MerkleRangeNodes(0, size);
  std::vector<MerkleHash> hashes;
  RETURN_IF_ERROR(nodes.ReadNodes(ids, &hashes));
  if (hashes.size() != ids.size()) {
    return absl::InternalError("node reader answered the wrong number of hashes");
  }
  for (size_t i = 0; i < ids.size(); ++i) a.border_.emplace_back(ids[i], hashes[i]);
  return a;
}

MerkleHash MerkleAppender::Root() const {
  if (border_.empty()) return MerkleEmptyRoot();
  MerkleHash h = border_.back().second;
  for (size_t i = border_.size() - 1; i > 0; --i) h = MerkleNodeHash(border_[i - 1].second, h);
  return h;
}

std::vector<std::pair<MerkleNodeId, MerkleHash>> MerkleAppender::Append(
    const MerkleHash& leaf_hash) {
  std::vector<std::pair<MerkleNodeId, MerkleHash>> created;
  MerkleNodeId id{0, size_};
  MerkleHash h = leaf_hash;
  created.emplace_back(id, h);
  while (!border_.empty() && border_.back().first.level == id.level) {
    h = MerkleNodeHash(border_.back().second, h);
    id = {id.level + 1, id.index >> 1};
    border_.pop_back();
    created.emplace_back(id, h);
  }
  border_.emplace_back(id, h);
  ++size_;
  return created;
}

}  // namespace fdattest
