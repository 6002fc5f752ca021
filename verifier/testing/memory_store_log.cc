// The in-memory store's audit log: the same tree, checkpoints and reads as
// the SQLite store (verifier/sqlite_store_log.cc), one checkpoint per commit.
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "verifier/internal/audit_log.h"
#include "verifier/testing/memory_store.h"

namespace fdattest {
namespace {

// The stored complete subtrees, as a node reader.
class MapNodes : public MerkleNodeReader {
 public:
  explicit MapNodes(const std::map<std::pair<int, uint64_t>, MerkleHash>& nodes) : nodes_(nodes) {}
  absl::Status ReadNodes(absl::Span<const MerkleNodeId> ids,
                         std::vector<MerkleHash>* out) override {
    out->clear();
    for (const MerkleNodeId& id : ids) {
      auto it = nodes_.find({id.level, id.index});
      if (it == nodes_.end()) {
        return absl::NotFoundError(absl::StrCat("node (", id.level, ", ", id.index, ") missing"));
      }
      out->push_back(it->second);
    }
    return absl::OkStatus();
  }

 private:
  const std::map<std::pair<int, uint64_t>, MerkleHash>& nodes_;
};

absl::Status CheckWithinLog(uint64_t size, uint64_t log_size) {
  if (size > log_size) {
    return absl::NotFoundError(absl::StrCat("the audit log has ", log_size, " leaves, not ", size));
  }
  return absl::OkStatus();
}

}  // namespace

#define FDATTEST_MEMORY_STORE_LOCK()     \
  std::lock_guard<std::mutex> lock(mu_); \
  if (!injected_.ok()) return injected_

absl::Status MemoryStore::SetLogSigner(const NoteSigner* signer) {
  FDATTEST_MEMORY_STORE_LOCK();
  signer_ = signer;
  if (signer_ == nullptr || !checkpoints_.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string note,
                   internal::SignCheckpoint(*signer_, appender_.size(), appender_.Root()));
  checkpoints_[appender_.size()] = std::move(note);
  return absl::OkStatus();
}

absl::Status MemoryStore::AppendLeafLocked(const AuditAppend& append, const std::string& result_id,
                                           int64_t time, AuditReceipt* receipt) {
  MerkleAppender next = appender_;
  const uint64_t index = next.size();
  std::vector<std::pair<MerkleNodeId, MerkleHash>> nodes = next.Append(MerkleLeafHash(append.leaf));
  ASSIGN_OR_RETURN(std::string note, internal::SignCheckpoint(*signer_, next.size(), next.Root()));
  // Nothing fails from here on.
  for (const BlobRecord& blob : append.blobs) StoreBlobLocked(blob);
  for (const auto& [id, hash] : nodes) nodes_[{id.level, id.index}] = hash;
  appender_ = std::move(next);
  leaves_.push_back(Leaf{append.leaf, result_id, time});
  checkpoints_[appender_.size()] = note;
  *receipt = AuditReceipt{index, appender_.size(), std::move(note)};
  return absl::OkStatus();
}

absl::StatusOr<SignedCheckpoint> MemoryStore::CheckpointLocked(uint64_t size) const {
  auto it = checkpoints_.find(size);
  if (it == checkpoints_.end()) {
    return absl::NotFoundError(absl::StrCat("no checkpoint of size ", size));
  }
  SignedCheckpoint checkpoint{size, it->second};
  auto lines = cosignatures_.find(size);
  if (lines != cosignatures_.end()) {
    for (const std::string& line : lines->second) checkpoint.note += line;
  }
  return checkpoint;
}

absl::StatusOr<SignedCheckpoint> MemoryStore::LatestCheckpoint() {
  FDATTEST_MEMORY_STORE_LOCK();
  if (checkpoints_.empty()) return absl::NotFoundError("the audit log has no checkpoint yet");
  return CheckpointLocked(checkpoints_.rbegin()->first);
}

absl::StatusOr<SignedCheckpoint> MemoryStore::CheckpointOfSize(uint64_t size) {
  FDATTEST_MEMORY_STORE_LOCK();
  return CheckpointLocked(size);
}

absl::Status MemoryStore::AddCosignature(uint64_t size, absl::string_view signature_line) {
  FDATTEST_MEMORY_STORE_LOCK();
  ASSIGN_OR_RETURN(std::string line, internal::NormalizeCosignatureLine(signature_line));
  if (!checkpoints_.contains(size)) {
    return absl::NotFoundError(absl::StrCat("no checkpoint of size ", size));
  }
  cosignatures_[size].insert(std::move(line));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MemoryStore::AuditLeaves(uint64_t start, uint64_t count) {
  FDATTEST_MEMORY_STORE_LOCK();
  RETURN_IF_ERROR(internal::CheckLeafRange(start, count));
  RETURN_IF_ERROR(CheckWithinLog(start + count, leaves_.size()));
  std::vector<std::string> out;
  for (uint64_t i = start; i < start + count; ++i) out.push_back(leaves_[i].data);
  return out;
}

absl::StatusOr<uint64_t> MemoryStore::AuditLeafOfResult(absl::string_view result_id) {
  FDATTEST_MEMORY_STORE_LOCK();
  if (result_id.size() != 32 || !IsLowerHex(result_id)) {
    return absl::InvalidArgumentError("a result id must be 32 lowercase hex digits");
  }
  for (size_t i = 0; i < leaves_.size(); ++i) {
    if (leaves_[i].result_id == result_id) return i;
  }
  return absl::NotFoundError(absl::StrCat("no audit leaf for result ", result_id));
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> MemoryStore::AuditRangeByTime(int64_t from,
                                                                            int64_t to) {
  FDATTEST_MEMORY_STORE_LOCK();
  std::pair<uint64_t, uint64_t> range{0, 0};
  bool any = false;
  for (size_t i = 0; i < leaves_.size(); ++i) {
    if (leaves_[i].time < from || leaves_[i].time >= to) continue;
    if (!any) range.first = i;
    any = true;
    range.second = i + 1;
  }
  return range;
}

absl::StatusOr<std::vector<MerkleHash>> MemoryStore::AuditInclusionProof(uint64_t index,
                                                                         uint64_t size) {
  FDATTEST_MEMORY_STORE_LOCK();
  RETURN_IF_ERROR(CheckWithinLog(size, leaves_.size()));
  MapNodes nodes(nodes_);
  return MerkleInclusionProof(nodes, index, size);
}

absl::StatusOr<std::vector<MerkleHash>> MemoryStore::AuditConsistencyProof(uint64_t size1,
                                                                           uint64_t size2) {
  FDATTEST_MEMORY_STORE_LOCK();
  RETURN_IF_ERROR(CheckWithinLog(size2, leaves_.size()));
  MapNodes nodes(nodes_);
  return MerkleConsistencyProof(nodes, size1, size2);
}

absl::StatusOr<std::string> MemoryStore::AuditTile(const TileRef& tile, uint64_t tree_size) {
  FDATTEST_MEMORY_STORE_LOCK();
  RETURN_IF_ERROR(CheckWithinLog(tree_size, leaves_.size()));
  const int width = tile.width == 0 ? kTileWidth : tile.width;
  const int level = tile.entries ? 0 : tile.level;
  if ((tile.entries && tile.level != 0) || level < 0 || level * kTileHeight > 63 ||
      TileWidthAt(level, tile.index, tree_size) != width) {
    return absl::NotFoundError(absl::StrCat("the tree of size ", tree_size, " has no such tile"));
  }
  const uint64_t first = tile.index * kTileWidth;
  std::vector<std::string> leaves;
  std::string hashes;
  for (uint64_t i = first; i < first + static_cast<uint64_t>(width); ++i) {
    if (tile.entries) {
      leaves.push_back(leaves_[i].data);
      continue;
    }
    auto it = nodes_.find({level * kTileHeight, i});
    if (it == nodes_.end()) return absl::DataLossError("a tile's node is missing");
    hashes.append(reinterpret_cast<const char*>(it->second.data()), it->second.size());
  }
  return tile.entries ? internal::EntryBundle(leaves) : hashes;
}

#undef FDATTEST_MEMORY_STORE_LOCK

}  // namespace fdattest
