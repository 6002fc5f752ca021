// The SQLite store's audit log (store.h): appending leaves inside the
// writer's group commit, one signed checkpoint per batch, and the reads a
// log serves (checkpoints with their cosignatures, leaves, proofs, tiles).
//
// Tables (schema versions 3 and 4, sqlite_store.cc): audit_leaves (index,
// leaf bytes, result id, time), audit_nodes (every complete subtree's hash,
// verifier/audit/merkle_sqlite.h), audit_checkpoints (size, signed note) and
// audit_cosignatures (size, witness line). None of them is ever updated or
// deleted from. Writes run on the writer thread; reads on a reader
// connection see committed transactions only, so a reader never sees a
// leaf without the nodes and the checkpoint committed with it.
#include <ctime>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "verifier/audit/merkle_sqlite.h"
#include "verifier/audit/signed_note.h"
#include "verifier/internal/audit_log.h"
#include "verifier/internal/sqlite_db.h"
#include "verifier/sqlite_store.h"

namespace fdattest {

using internal::SqliteDb;
using internal::Statement;

namespace {

constexpr uint64_t kMaxSqliteInt = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

absl::StatusOr<bool> HasCheckpoint(SqliteDb& db, uint64_t size) {
  ASSIGN_OR_RETURN(Statement select, db.Prepare("SELECT 1 FROM audit_checkpoints WHERE size = ?"));
  select.BindInt(1, static_cast<int64_t>(size));
  return select.Step();
}

// The checkpoint of `size` (the latest when none), with its cosignatures.
absl::StatusOr<SignedCheckpoint> ReadCheckpoint(SqliteDb& db, std::optional<uint64_t> size) {
  if (size && *size > kMaxSqliteInt) {
    return absl::NotFoundError(absl::StrCat("no checkpoint of size ", *size));
  }
  ASSIGN_OR_RETURN(Statement select,
                   db.Prepare(size ? "SELECT size, note FROM audit_checkpoints WHERE size = ?"
                                   : "SELECT size, note FROM audit_checkpoints "
                                     "ORDER BY size DESC LIMIT 1"));
  if (size) select.BindInt(1, static_cast<int64_t>(*size));
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) {
    return absl::NotFoundError(size ? absl::StrCat("no checkpoint of size ", *size)
                                    : std::string("the audit log has no checkpoint yet"));
  }
  SignedCheckpoint checkpoint;
  checkpoint.size = static_cast<uint64_t>(select.Int(0));
  checkpoint.note = select.Bytes(1);
  ASSIGN_OR_RETURN(Statement lines,
                   db.Prepare("SELECT line FROM audit_cosignatures WHERE size = ? ORDER BY line"));
  lines.BindInt(1, static_cast<int64_t>(checkpoint.size));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, lines.Step());
    if (!row) break;
    checkpoint.note += lines.Bytes(0);
  }
  return checkpoint;
}

absl::StatusOr<std::vector<std::string>> ReadLeaves(SqliteDb& db, uint64_t start, uint64_t count) {
  ASSIGN_OR_RETURN(Statement select,
                   db.Prepare("SELECT idx, data FROM audit_leaves WHERE idx >= ? AND idx < ? "
                              "ORDER BY idx"));
  select.BindInt(1, static_cast<int64_t>(start)).BindInt(2, static_cast<int64_t>(start + count));
  std::vector<std::string> leaves;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (static_cast<uint64_t>(select.Int(0)) != start + leaves.size()) break;
    leaves.push_back(select.Bytes(1));
  }
  if (leaves.size() != count) {
    return absl::DataLossError(
        absl::StrCat("audit leaf ", start + leaves.size(), " is missing though the log has it"));
  }
  return leaves;
}

absl::Status CheckWithinLog(uint64_t size, uint64_t log_size) {
  if (size > log_size) {
    return absl::NotFoundError(
        absl::StrCat("the audit log has ", log_size, " leaves, not ", size));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> SqliteStore::LogSize(SqliteDb& db) {
  ASSIGN_OR_RETURN(int64_t size,
                   db.QueryInt("SELECT coalesce(max(idx) + 1, 0) FROM audit_leaves"));
  return static_cast<uint64_t>(size);
}

// --- Appending (writer thread).

absl::Status SqliteStore::SyncAppender(SqliteDb& db) {
  if (log_.synced && log_.appender) return absl::OkStatus();
  ASSIGN_OR_RETURN(uint64_t size, LogSize(db));
  log_.synced = true;
  if (log_.appender && log_.appender->size() == size) return absl::OkStatus();
  SqliteMerkleNodes nodes(db);
  absl::StatusOr<MerkleAppender> loaded = MerkleAppender::Load(nodes, size);
  if (!loaded.ok()) {
    return absl::DataLossError(absl::StrCat("cannot load the audit log's tree of ", size,
                                            " leaves: ", loaded.status().message()));
  }
  log_.appender = *std::move(loaded);
  return absl::OkStatus();
}

absl::Status SqliteStore::AppendLeaf(SqliteDb& db, const AuditAppend& append,
                                     const std::string& result_id, int64_t time,
                                     uint64_t* index) {
  for (const BlobRecord& blob : append.blobs) RETURN_IF_ERROR(PutBlobIn(db, blob));
  RETURN_IF_ERROR(SyncAppender(db));
  *index = log_.appender->size();
  // Changed before the rows are written: a failure below rolls this write's
  // SAVEPOINT back, and RunBatch restores the appender with it.
  const std::vector<std::pair<MerkleNodeId, MerkleHash>> nodes =
      log_.appender->Append(MerkleLeafHash(append.leaf));
  log_.appended = true;
  RETURN_IF_ERROR(SqliteMerkleNodes(db).Write(nodes));
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO audit_leaves (idx, data, result_id, created_at) "
                              "VALUES (?, ?, ?, ?)"));
  insert.BindInt(1, static_cast<int64_t>(*index)).BindBlob(2, append.leaf);
  return insert.BindText(3, result_id).BindInt(4, time).Run();
}

absl::Status SqliteStore::StoreBatchCheckpoint(SqliteDb& db, std::string* note) {
  const uint64_t size = log_.appender->size();
  ASSIGN_OR_RETURN(*note, internal::SignCheckpoint(*options_.log_signer, size,
                                                   log_.appender->Root()));
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO audit_checkpoints (size, note, created_at) "
                              "VALUES (?, ?, ?)"));
  insert.BindInt(1, static_cast<int64_t>(size)).BindBlob(2, *note);
  return insert.BindInt(3, static_cast<int64_t>(std::time(nullptr))).Run();
}

absl::Status SqliteStore::SignInitialCheckpoint() {
  return Write([this](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t any, db.QueryInt("SELECT count(*) FROM audit_checkpoints"));
    if (any != 0) {
      // A log goes on under the key that signed it: another key would make
      // its later checkpoints unverifiable for everyone who pinned the first.
      ASSIGN_OR_RETURN(SignedCheckpoint latest, ReadCheckpoint(db, std::nullopt));
      ASSIGN_OR_RETURN(NoteVerifier key,
                       NoteVerifier::FromVerifierKey(options_.log_signer->VerifierKey()));
      if (!OpenNote(latest.note, {key}).ok()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the audit log's checkpoints are not signed by this log key (",
            options_.log_signer->VerifierKey(), "): start with the key that signed them"));
      }
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(SyncAppender(db));
    std::string note;
    return StoreBatchCheckpoint(db, &note);
  });
}

// --- Cosignatures.

absl::Status SqliteStore::AddCosignature(uint64_t size, absl::string_view signature_line) {
  ASSIGN_OR_RETURN(std::string line, internal::NormalizeCosignatureLine(signature_line));
  if (size > kMaxSqliteInt) return absl::NotFoundError(absl::StrCat("no checkpoint of size ", size));
  return Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(bool signed_size, HasCheckpoint(db, size));
    if (!signed_size) return absl::NotFoundError(absl::StrCat("no checkpoint of size ", size));
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT OR IGNORE INTO audit_cosignatures (size, line) "
                                "VALUES (?, ?)"));
    return insert.BindInt(1, static_cast<int64_t>(size)).BindBlob(2, line).Run();
  });
}

// --- Reads (reader connections: committed state only).

absl::StatusOr<SignedCheckpoint> SqliteStore::LatestCheckpoint() {
  ReadLease lease = BorrowReader();
  return ReadCheckpoint(lease.db(), std::nullopt);
}

absl::StatusOr<SignedCheckpoint> SqliteStore::CheckpointOfSize(uint64_t size) {
  ReadLease lease = BorrowReader();
  return ReadCheckpoint(lease.db(), size);
}

absl::StatusOr<std::vector<std::string>> SqliteStore::AuditLeaves(uint64_t start,
                                                                  uint64_t count) {
  RETURN_IF_ERROR(internal::CheckLeafRange(start, count));
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(uint64_t log_size, LogSize(lease.db()));
  RETURN_IF_ERROR(CheckWithinLog(start + count, log_size));
  return ReadLeaves(lease.db(), start, count);
}

absl::StatusOr<uint64_t> SqliteStore::AuditLeafOfResult(absl::string_view result_id) {
  if (result_id.size() != 32 || !IsLowerHex(result_id)) {
    return absl::InvalidArgumentError("a result id must be 32 lowercase hex digits");
  }
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(Statement select,
                   lease.db().Prepare("SELECT idx FROM audit_leaves WHERE result_id = ?"));
  select.BindText(1, result_id);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("no audit leaf for result ", result_id));
  return static_cast<uint64_t>(select.Int(0));
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> SqliteStore::AuditRangeByTime(int64_t from,
                                                                            int64_t to) {
  if (from >= to) return std::pair<uint64_t, uint64_t>(0, 0);
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(Statement select,
                   lease.db().Prepare("SELECT min(idx), max(idx) FROM audit_leaves "
                                      "WHERE created_at >= ? AND created_at < ?"));
  select.BindInt(1, from).BindInt(2, to);
  ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row || select.IsNull(0)) return std::pair<uint64_t, uint64_t>(0, 0);
  return std::pair<uint64_t, uint64_t>(static_cast<uint64_t>(select.Int(0)),
                                       static_cast<uint64_t>(select.Int(1)) + 1);
}

absl::StatusOr<std::vector<MerkleHash>> SqliteStore::AuditInclusionProof(uint64_t index,
                                                                         uint64_t size) {
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(uint64_t log_size, LogSize(lease.db()));
  RETURN_IF_ERROR(CheckWithinLog(size, log_size));
  SqliteMerkleNodes nodes(lease.db());
  return MerkleInclusionProof(nodes, index, size);
}

absl::StatusOr<std::vector<MerkleHash>> SqliteStore::AuditConsistencyProof(uint64_t size1,
                                                                           uint64_t size2) {
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(uint64_t log_size, LogSize(lease.db()));
  RETURN_IF_ERROR(CheckWithinLog(size2, log_size));
  SqliteMerkleNodes nodes(lease.db());
  return MerkleConsistencyProof(nodes, size1, size2);
}

absl::StatusOr<std::string> SqliteStore::AuditTile(const TileRef& tile, uint64_t tree_size) {
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(uint64_t log_size, LogSize(lease.db()));
  RETURN_IF_ERROR(CheckWithinLog(tree_size, log_size));
  if (!tile.entries) {
    return SqliteMerkleNodes(lease.db()).ReadTile(tile.level, tile.index, tile.width, tree_size);
  }
  const int width = tile.width == 0 ? kTileWidth : tile.width;
  if (tile.level != 0 || TileWidthAt(0, tile.index, tree_size) != width) {
    return absl::NotFoundError(absl::StrCat("the tree of size ", tree_size,
                                            " has no entry bundle ", tile.index, " of width ",
                                            width));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> leaves,
                   ReadLeaves(lease.db(), tile.index * kTileWidth, static_cast<uint64_t>(width)));
  return internal::EntryBundle(leaves);
}

}  // namespace fdattest
