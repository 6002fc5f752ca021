#include "verifier/audit/merkle_sqlite.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "verifier/audit/merkle_tiles.h"

namespace fdattest {
namespace {

constexpr const char* kSelectNode = "SELECT hash FROM audit_nodes WHERE level = ?1 AND idx = ?2";
constexpr const char* kInsertNode =
    "INSERT INTO audit_nodes (level, idx, hash) VALUES (?1, ?2, ?3)";
constexpr const char* kSelectTile =
    "SELECT idx, hash FROM audit_nodes WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx";

absl::Status CheckId(const MerkleNodeId& id) {
  if (id.level < 0 || id.level > 63 ||
      id.index > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat("Merkle node (", id.level, ", ", id.index, ") is beyond the node table"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SqliteMerkleNodes::ReadNodes(absl::Span<const MerkleNodeId> ids,
                                          std::vector<MerkleHash>* out) {
  if (db_.InTransaction() || ids.size() < 2) return ReadEach(ids, out);
  // One snapshot and one lock for all of a proof's nodes (outside a
  // transaction SQLite locks and checks the file once per statement).
  RETURN_IF_ERROR(db_.Exec("BEGIN"));
  absl::Status status = ReadEach(ids, out);
  absl::Status end = db_.Exec(status.ok() ? "COMMIT" : "ROLLBACK");
  return status.ok() ? end : status;
}

absl::Status SqliteMerkleNodes::ReadEach(absl::Span<const MerkleNodeId> ids,
                                         std::vector<MerkleHash>* out) {
  out->clear();
  out->reserve(ids.size());
  for (const MerkleNodeId& id : ids) {
    RETURN_IF_ERROR(CheckId(id));
    ASSIGN_OR_RETURN(internal::Statement stmt, db_.Prepare(kSelectNode));
    stmt.BindInt(1, id.level).BindInt(2, static_cast<int64_t>(id.index));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return absl::NotFoundError(
          absl::StrCat("Merkle node (", id.level, ", ", id.index, ") is not stored"));
    }
    const std::string hash = stmt.Bytes(0);
    if (hash.size() != sizeof(MerkleHash)) {
      return absl::DataLossError(absl::StrCat("Merkle node (", id.level, ", ", id.index, ") has a ",
                                              hash.size(), "-byte hash"));
    }
    MerkleHash& h = out->emplace_back();
    std::memcpy(h.data(), hash.data(), h.size());
  }
  return absl::OkStatus();
}

absl::Status SqliteMerkleNodes::Write(
    const std::vector<std::pair<MerkleNodeId, MerkleHash>>& nodes) {
  for (const auto& [id, hash] : nodes) {
    RETURN_IF_ERROR(CheckId(id));
    ASSIGN_OR_RETURN(internal::Statement stmt, db_.Prepare(kInsertNode));
    stmt.BindInt(1, id.level)
        .BindInt(2, static_cast<int64_t>(id.index))
        .BindBlob(3, absl::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()));
    RETURN_IF_ERROR(stmt.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SqliteMerkleNodes::ReadTile(int level, uint64_t index, int width,
                                                        uint64_t tree_size) {
  if (width == 0) width = kTileWidth;
  if (width < 1 || width > kTileWidth) {
    return absl::InvalidArgumentError(absl::StrCat("tile width ", width, " is not 1..256"));
  }
  // Node level 8 * level must be one the table can hold (tile levels 0..7).
  const int have =
      level >= 0 && level * kTileHeight <= 63 ? TileWidthAt(level, index, tree_size) : 0;
  if (have == 0 || have != width) {
    return absl::NotFoundError(absl::StrCat("the tree of size ", tree_size, " has no tile ", level,
                                            "/", index, " of width ", width));
  }
  const int node_level = level * kTileHeight;
  const uint64_t first = index * kTileWidth;  // below 2^56: the tree has the tile
  ASSIGN_OR_RETURN(internal::Statement stmt, db_.Prepare(kSelectTile));
  stmt.BindInt(1, node_level)
      .BindInt(2, static_cast<int64_t>(first))
      .BindInt(3, static_cast<int64_t>(first + width));
  std::string out;
  out.reserve(static_cast<size_t>(width) * sizeof(MerkleHash));
  uint64_t next = first;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    const uint64_t idx = static_cast<uint64_t>(stmt.Int(0));
    const std::string hash = stmt.Bytes(1);
    if (idx != next || hash.size() != sizeof(MerkleHash)) {
      return absl::DataLossError(
          absl::StrCat("Merkle node (", node_level, ", ", next, ") is missing or damaged"));
    }
    out += hash;
    ++next;
  }
  if (next != first + width) {
    return absl::DataLossError(absl::StrCat("Merkle node (", node_level, ", ", next,
                                            ") is missing though the tree has it"));
  }
  return out;
}

}  // namespace fdattest
