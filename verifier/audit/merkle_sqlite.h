// The audit log's Merkle nodes in SQLite: table audit_nodes holds the hash of
// every complete subtree, node (level, idx), written once when
// MerkleAppender creates it. SqliteMerkleNodes reads and writes it over a
// connection it borrows (verifier/internal/sqlite_db.h), with that
// connection's cached prepared statements. Writes never open or end a
// transaction (the caller writes nodes in the transaction that appends their
// leaves); ReadNodes reads in one read transaction of its own unless one is
// open. Not thread-safe, like the connection it borrows.
#ifndef FDATTEST_VERIFIER_AUDIT_MERKLE_SQLITE_H_
#define FDATTEST_VERIFIER_AUDIT_MERKLE_SQLITE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "verifier/audit/merkle.h"
#include "verifier/internal/sqlite_db.h"

namespace fdattest {

// Created by the store's schema migration v3; tests create it from this.
inline constexpr const char* kAuditNodesSchema =
    "CREATE TABLE audit_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,\n"
    "  PRIMARY KEY (level, idx)) WITHOUT ROWID;";

class SqliteMerkleNodes : public MerkleNodeReader {
 public:
  // `db` must outlive this object and hold the audit_nodes table.
  explicit SqliteMerkleNodes(internal::SqliteDb& db) : db_(db) {}

  // One point read per id, all in one read transaction (a consistent
  // snapshot) unless the caller has one open. NotFound for a missing node, DataLoss for a hash
  // that is not 32 bytes, InvalidArgument for an id beyond what the table
  // can hold (level 0..63, index below 2^63).
  absl::Status ReadNodes(absl::Span<const MerkleNodeId> ids, std::vector<MerkleHash>* out) override;

  // Inserts the nodes; AlreadyExists if one is stored already (a node never
  // changes once complete).
  absl::Status Write(const std::vector<std::pair<MerkleNodeId, MerkleHash>>& nodes);

  // The concatenated 32-byte hashes of tile (level, index) of the tree of
  // `tree_size` leaves: nodes (8 * level, index * 256 + i), i < width, read
  // in one range query. width is 256 (or 0) for a full tile, 1..255 for a
  // partial one, which must be exactly the rightmost tile's width at
  // tree_size (merkle_tiles.h TileWidthAt). NotFound when the tree has no
  // such tile, DataLoss when a node it should have is missing or damaged.
  absl::StatusOr<std::string> ReadTile(int level, uint64_t index, int width, uint64_t tree_size);

 private:
  absl::Status ReadEach(absl::Span<const MerkleNodeId> ids, std::vector<MerkleHash>* out);

  internal::SqliteDb& db_;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_MERKLE_SQLITE_H_
