// The Store (verifier/store.h) on an embedded SQLite database: one file,
// `fdverifierd.db`, in a private data directory, in WAL mode with
// synchronous=FULL so a committed transaction survives kill -9 and power loss.
//
// Writes go through one writer thread that commits them in groups: callers
// queue their operation and block; the writer runs every queued operation in
// one transaction, each inside its own SAVEPOINT (one failing operation does
// not undo the others), commits with one fsync, then answers each caller with
// its own status. OK therefore still means durable, and a burst of callers
// shares one fsync. Reads use a small pool of their own connections, which WAL
// lets run beside the writer (each set query_only). Other processes may open
// the same directory: SQLite's locks keep their transactions apart.
//
// The audit log (store.h) is appended by the writer thread inside the same
// group commit: each commit's leaf takes the next index, and after the
// batch's last write one checkpoint of the new size is signed and stored in
// the transaction (sqlite_store_log.cc), so a batch costs one signature.
//
// The schema is versioned by `PRAGMA user_version` and grown by an ordered list
// of migrations, each applied in its own transaction; a database written by a
// newer schema is refused.
//
// Thread-safe. Input limits (InvalidArgument beyond them): ids of attesters
// and results are 32 lowercase hex digits; digests 64; policy ids and secret
// names 1..128 of [A-Za-z0-9._-]; nonces 8..64 raw bytes; documents, keys and
// ciphertexts 1 byte..1 MiB; result bodies up to 8 MiB; tenant ids as
// CheckTenantId says; sealed blobs 1 byte..9 MiB.
#ifndef FDATTEST_VERIFIER_SQLITE_STORE_H_
#define FDATTEST_VERIFIER_SQLITE_STORE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/audit/merkle.h"
#include "verifier/store.h"

namespace fdattest {

class NoteSigner;
namespace internal {
class SqliteDb;
}

// One step of the schema: the SQL that takes a database from `version` - 1
// to `version`.
struct SqliteMigration {
  int version;
  const char* sql;
};

// The schema's migrations, in order; the last one's version is the schema
// version this build writes.
const std::vector<SqliteMigration>& SqliteStoreMigrations();

class SqliteStore final : public Store {
 public:
  static constexpr absl::string_view kDatabaseFileName = "fdverifierd.db";

  struct Options {
    // false: one transaction (and one fsync) per write, no grouping. Only the
    // benchmark's baseline sets it (bench/store_bench.cc).
    bool batch_writes = true;
    // The most writes one transaction groups.
    int max_batch = 512;
    // Read connections in the pool.
    int read_connections = 4;
    // How long a statement waits for another process's lock.
    int busy_timeout_ms = 5000;
    // Signs the audit log's checkpoints; its name is the log's origin. Must
    // outlive the store. Without one a commit with an audit append fails
    // (FailedPrecondition); with one, Open signs the log's current size if
    // it has no checkpoint yet (the empty tree for a new log).
    const NoteSigner* log_signer = nullptr;
    // Tests only: migrate with this list instead of SqliteStoreMigrations().
    const std::vector<SqliteMigration>* migrations_for_testing = nullptr;
  };

  // Opens the store in `data_dir`, creating the directory (mode 0700) and the
  // database (0600) when missing, and brings the schema up to date.
  // FailedPrecondition when the directory or database file is not owned by
  // this user or is writable (the file: readable) by group or others, or when
  // the database's schema is newer than this build's.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& data_dir);
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& data_dir,
                                                           const Options& options);
  // Finishes every queued write, then closes the database.
  ~SqliteStore() override;

  absl::Status AddPendingAttester(const AttesterRecord& record, bool replace_active) override;
  absl::Status ActivateAttester(absl::string_view id, absl::string_view credential_sha256,
                                int64_t now) override;
  absl::Status RevokeAttester(absl::string_view id, int64_t now) override;
  absl::StatusOr<AttesterRecord> GetAttester(absl::string_view id) override;
  absl::StatusOr<AttesterRecord> FindAttesterByAkName(absl::string_view ak_name) override;
  absl::Status RecordCounters(absl::string_view attester_id, const TpmCounters& counters) override;

  absl::Status AddNonce(absl::string_view nonce, int64_t expires_at) override;
  absl::Status ConsumeNonce(absl::string_view nonce, int64_t now) override;
  absl::StatusOr<int64_t> CheckNonce(absl::string_view nonce, int64_t now) override;
  absl::StatusOr<int64_t> CountNonces(int64_t now) override;
  absl::Status PurgeNonces(int64_t now) override;

  absl::StatusOr<PolicyRecord> PutPolicy(absl::string_view id, absl::string_view text,
                                         int64_t now) override;
  absl::StatusOr<PolicyRecord> GetPolicy(absl::string_view id,
                                         std::optional<int64_t> version = {}) override;

  absl::Status PutSecret(const SecretRecord& record) override;
  absl::StatusOr<SecretRecord> GetSecret(absl::string_view name) override;

  absl::Status PutResult(const ResultRecord& record) override;
  absl::StatusOr<ResultRecord> GetResult(absl::string_view id) override;
  absl::Status CommitAttestation(const AttestationCommit& commit, AuditReceipt* receipt) override;

  // The archive's records: sqlite_store_archive.cc.
  absl::StatusOr<TenantRecord> EnsureTenant(absl::string_view id, absl::string_view sealed_key,
                                            int64_t now) override;
  absl::StatusOr<TenantRecord> GetTenant(absl::string_view id) override;
  absl::Status ShredTenant(absl::string_view id, int64_t now) override;
  absl::Status PutBlob(const BlobRecord& record) override;
  absl::StatusOr<BlobRecord> GetBlob(absl::string_view tenant, absl::string_view sha256,
                                     BlobKind kind) override;
  absl::StatusOr<int64_t> ExpireBlobs(int64_t now) override;

  // The audit log: sqlite_store_log.cc.
  absl::StatusOr<SignedCheckpoint> LatestCheckpoint() override;
  absl::StatusOr<SignedCheckpoint> CheckpointOfSize(uint64_t size) override;
  absl::StatusOr<std::vector<std::string>> AuditLeaves(uint64_t start, uint64_t count) override;
  absl::StatusOr<uint64_t> AuditLeafOfResult(absl::string_view result_id) override;
  absl::StatusOr<std::pair<uint64_t, uint64_t>> AuditRangeByTime(int64_t from,
                                                                 int64_t to) override;
  absl::StatusOr<std::vector<MerkleHash>> AuditInclusionProof(uint64_t index,
                                                              uint64_t size) override;
  absl::StatusOr<std::vector<MerkleHash>> AuditConsistencyProof(uint64_t size1,
                                                                uint64_t size2) override;
  absl::StatusOr<std::string> AuditTile(const TileRef& tile, uint64_t tree_size) override;
  absl::Status AddCosignature(uint64_t size, absl::string_view signature_line) override;

  // The database's schema version (PRAGMA user_version).
  absl::StatusOr<int64_t> SchemaVersion();
  // PRAGMA integrity_check: OK, or DataLoss with SQLite's findings.
  absl::Status CheckIntegrity();

  // Writes committed and the transactions that carried them, since Open:
  // how well group commit is grouping.
  struct WriteStats {
    int64_t writes = 0;
    int64_t transactions = 0;
  };
  WriteStats Stats() const;

 private:
  using WriteFn = std::function<absl::Status(internal::SqliteDb&)>;
  struct PendingWrite;
  // A read connection borrowed from the pool, returned when the lease ends.
  class ReadLease {
   public:
    ReadLease(SqliteStore* store, std::unique_ptr<internal::SqliteDb> db);
    ReadLease(ReadLease&&) = default;
    ~ReadLease();
    internal::SqliteDb& db() { return *db_; }

   private:
    SqliteStore* store_;
    std::unique_ptr<internal::SqliteDb> db_;
  };

  SqliteStore(const Options& options, std::unique_ptr<internal::SqliteDb> writer,
              std::vector<std::unique_ptr<internal::SqliteDb>> readers);

  // Queues `fn` for the writer thread and waits until its transaction is
  // committed (or failed). `fn` returning an error undoes its own changes only.
  absl::Status Write(WriteFn fn);
  // As Write, then checkpoints the write-ahead log into the database and
  // truncates it, so the old pages the write replaced are gone from the
  // log too (secure_delete zeroes them in the database). Unavailable when a
  // reader kept the log from being truncated (the write is committed).
  absl::Status WriteAndTruncateLog(WriteFn fn);
  absl::Status QueueWrite(WriteFn fn, bool checkpoint_after, AuditReceipt* receipt = nullptr);
  static absl::Status TruncateLog(internal::SqliteDb& db);
  void WriterLoop();
  void RunBatch(const std::vector<PendingWrite*>& batch);
  ReadLease BorrowReader();
  absl::StatusOr<AttesterRecord> ReadAttester(const char* sql, absl::string_view key);
  // A blob stored as PutBlob stores it, inside the caller's write.
  static absl::Status PutBlobIn(internal::SqliteDb& db, const BlobRecord& record);

  // The writer thread's view of the audit log (sqlite_store_log.cc): the
  // tree's right border as committed plus this batch's appends, and whether
  // this batch appended. Saved before each write and restored when the
  // write's SAVEPOINT rolls back; forgotten (reloaded from the database by
  // the next append) when a batch fails.
  struct LogState {
    std::optional<MerkleAppender> appender;
    bool appended = false;
    // Checked against the database in this batch (whose write lock keeps
    // other processes from appending until it ends).
    bool synced = false;
  };
  // Brings log_.appender up to the database's leaves (another process may
  // have appended), loading it when unknown; once per batch.
  absl::Status SyncAppender(internal::SqliteDb& db);
  // Appends `leaf` (its blobs stored first) as the next leaf; its index in
  // *index. Writer thread only.
  absl::Status AppendLeaf(internal::SqliteDb& db, const AuditAppend& append,
                          const std::string& result_id, int64_t time, uint64_t* index);
  // Signs and stores the checkpoint of the log's size after this batch's
  // appends; its note in *note. Writer thread only.
  absl::Status StoreBatchCheckpoint(internal::SqliteDb& db, std::string* note);
  // Signs the current size when the log has no checkpoint (Open).
  absl::Status SignInitialCheckpoint();
  // The number of committed leaves, read on a reader connection.
  static absl::StatusOr<uint64_t> LogSize(internal::SqliteDb& db);

  const Options options_;
  std::unique_ptr<internal::SqliteDb> writer_;  // used by the writer thread only
  LogState log_;                                // used by the writer thread only

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<PendingWrite*> queue_;  // guarded by queue_mu_
  bool stopping_ = false;            // guarded by queue_mu_

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<internal::SqliteDb>> idle_readers_;  // guarded by readers_mu_

  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> transactions_{0};

  std::thread writer_thread_;  // last: started after everything above exists
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SQLITE_STORE_H_
