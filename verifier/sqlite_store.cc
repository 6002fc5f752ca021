// The SQLite store's plumbing: opening the data directory, the schema and its
// migrations, the writer thread's group commit and the reader pool. The
// records' SQL is in sqlite_store_records.cc.
#include "verifier/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"
#include "verifier/internal/sqlite_db.h"

namespace fdattest {

using internal::SqliteDb;
using internal::Statement;

namespace {

// Version 1: the records. Optional foreign keys are NULL when the record
// names none (a result for evidence from an unknown AK names no attester).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE attesters (
  id TEXT PRIMARY KEY NOT NULL,
  ek_certificate BLOB NOT NULL,
  ek_public BLOB NOT NULL,
  ek_sha256 TEXT NOT NULL,
  ak_public BLOB NOT NULL,
  ak_name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'revoked')),
  credential_sha256 TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  activated_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL,
  counters_reset INTEGER,
  counters_restart INTEGER,
  counters_clock INTEGER);
CREATE UNIQUE INDEX attesters_active_ek ON attesters (ek_sha256) WHERE state = 'active';
CREATE INDEX attesters_ak ON attesters (ak_name);
CREATE UNIQUE INDEX attesters_activated_ak ON attesters (ak_name) WHERE activated_at > 0;
CREATE TABLE nonces (
  nonce BLOB PRIMARY KEY NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER) WITHOUT ROWID;
CREATE TABLE policies (
  id TEXT PRIMARY KEY NOT NULL,
  latest_version INTEGER NOT NULL);
CREATE TABLE policy_versions (
  policy_id TEXT NOT NULL REFERENCES policies (id),
  version INTEGER NOT NULL,
  text BLOB NOT NULL,
  sha256 TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (policy_id, version));
CREATE TABLE secrets (
  name TEXT PRIMARY KEY NOT NULL,
  ciphertext BLOB NOT NULL,
  policy_id TEXT NOT NULL REFERENCES policies (id),
  updated_at INTEGER NOT NULL);
CREATE TABLE results (
  id TEXT PRIMARY KEY NOT NULL,
  attester_id TEXT REFERENCES attesters (id),
  policy_id TEXT,
  policy_version INTEGER,
  verdict TEXT NOT NULL,
  evidence_sha256 TEXT NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  FOREIGN KEY (policy_id, policy_version) REFERENCES policy_versions (policy_id, version));
)sql";

// Version 2: indexes for the nonce count and purge (by expiry) and for the
// foreign keys' child columns.
constexpr const char* kSchemaV2 = R"sql(
CREATE INDEX nonces_expiry ON nonces (expires_at);
CREATE INDEX secrets_policy ON secrets (policy_id);
CREATE INDEX results_attester ON results (attester_id);
CREATE INDEX results_policy ON results (policy_id, policy_version);
)sql";

// Version 3: the audit archive (docs/formats/archive.md). Its Merkle
// tree's stored nodes (audit_nodes: node (level, idx) is the root of the
// complete subtree over leaves [idx << level, (idx + 1) << level)), its leaves
// and signed checkpoints, which are never changed or deleted; the tenants whose
// data keys seal the blobs beside the log, and the blobs, whose ciphertext
// (sealed) becomes NULL when they expire or their tenant is shredded. Attesters
// belong to a tenant.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE audit_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE audit_leaves (idx INTEGER PRIMARY KEY, data BLOB NOT NULL, result_id TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL);
CREATE TABLE audit_checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE tenants (id TEXT PRIMARY KEY, sealed_key BLOB, created_at INTEGER NOT NULL, shredded_at INTEGER);
CREATE TABLE audit_blobs (sha256 TEXT NOT NULL, tenant TEXT NOT NULL REFERENCES tenants (id),
  kind TEXT NOT NULL CHECK (kind IN ('evidence', 'result', 'decision')), sealed BLOB, created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, PRIMARY KEY (tenant, sha256, kind));
ALTER TABLE attesters ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
)sql";

// Version 4: witness cosignatures of the audit log's checkpoints (each line
// stored once, served after the log's signature), and indexes for expiring
// blobs and for finding leaves by time.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE audit_cosignatures (size INTEGER NOT NULL, line BLOB NOT NULL,
  PRIMARY KEY (size, line)) WITHOUT ROWID;
CREATE INDEX audit_blobs_expiry ON audit_blobs (expires_at);
CREATE INDEX audit_leaves_time ON audit_leaves (created_at);
)sql";

absl::Status Migrate(SqliteDb& db, const std::vector<SqliteMigration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InternalError("the schema migrations are not numbered 1, 2, ...");
    }
  }
  const int64_t latest = static_cast<int64_t>(migrations.size());
  ASSIGN_OR_RETURN(int64_t current, db.QueryInt("PRAGMA user_version"));
  if (current > latest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database's schema version ", current, " is newer than this build's (", latest,
        "): it was written by a newer fdverifierd; run that one (or newer) on it"));
  }
  for (const SqliteMigration& step : migrations) {
    if (step.version <= current) continue;
    RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    // Another process may have migrated while this one waited for the lock.
    absl::StatusOr<int64_t> now_at = db.QueryInt("PRAGMA user_version");
    absl::Status status = now_at.status();
    if (status.ok() && *now_at < step.version) {
      status = db.Exec(step.sql);
      std::string set_version = absl::StrCat("PRAGMA user_version = ", step.version);
      if (status.ok()) status = db.Exec(set_version.c_str());
    }
    if (status.ok()) status = db.Exec("COMMIT");
    if (!status.ok()) {
      if (db.InTransaction()) db.Exec("ROLLBACK").IgnoreError();
      return absl::Status(status.code(), absl::StrCat("migrating the database to schema version ",
                                                      step.version, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

// The data directory must be this user's and writable by nobody else: the
// database holds the nonces and the attesters' enrollment.
absl::Status PrepareDataDir(const std::string& data_dir) {
  if (data_dir.empty()) return absl::InvalidArgumentError("the data directory is empty");
  if (mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(absl::StrCat("creating data directory ", data_dir), errno);
  }
  struct stat st;
  if (stat(data_dir.c_str(), &st) != 0) return ErrnoStatus(data_dir, errno);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(data_dir, " is not a directory"));
  }
  if (st.st_uid != geteuid()) {
    return absl::FailedPreconditionError(absl::StrCat("data directory ", data_dir,
                                                      " is owned by uid ", st.st_uid, ", not by ",
                                                      geteuid(), " which runs fdverifierd"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", data_dir, " is writable by group or others (mode ",
                     absl::Hex(st.st_mode & 07777), "); make it 0700"));
  }
  return absl::OkStatus();
}

// Creates the database file 0600 (SQLite gives its -wal and -shm files the
// same mode) or checks an existing one.
absl::Status PrepareDatabaseFile(const std::string& data_dir, const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.valid()) {
    if (fchmod(fd.get(), 0600) != 0) return ErrnoStatus(path, errno);
    if (fsync(fd.get()) != 0) return ErrnoStatus(path, errno);
    UniqueFd dir(open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() || fsync(dir.get()) != 0) return ErrnoStatus(data_dir, errno);
    return absl::OkStatus();
  }
  if (errno != EEXIST) return ErrnoStatus(absl::StrCat("creating ", path), errno);
  fd = UniqueFd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(path, errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(path, errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a regular file"));
  }
  if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", path, " must be owned by uid ", geteuid(),
                     " and private to it (mode 0600); it is uid ", st.st_uid, " mode ",
                     absl::Hex(st.st_mode & 07777)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SqliteDb>> OpenConnection(const std::string& path, bool writer,
                                                         int busy_timeout_ms) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path, false, busy_timeout_ms));
  if (writer) {
    ASSIGN_OR_RETURN(Statement mode, db->Prepare("PRAGMA journal_mode = WAL"));
    ASSIGN_OR_RETURN(bool row, mode.Step());
    if (!row || mode.Bytes(0) != "wal") {
      return absl::InternalError(absl::StrCat(path, ": cannot switch the database to WAL mode"));
    }
    // Deleted content is overwritten with zeros, not left in free space:
    // crypto-shredding (ShredTenant) must not leave a tenant's sealed key or
    // ciphertexts behind in the file.
    RETURN_IF_ERROR(db->Exec("PRAGMA secure_delete = ON"));
    // Each write's SAVEPOINT keeps the pages it changes in a sub-journal;
    // an audit append changes enough pages (result, leaf, nodes and their
    // indexes) for SQLite to spill it to a temporary file, a write per page
    // per write. Kept in memory instead: a write changes a few dozen pages.
    RETURN_IF_ERROR(db->Exec("PRAGMA temp_store = MEMORY"));
  } else {
    RETURN_IF_ERROR(db->Exec("PRAGMA query_only = ON"));
  }
  RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = FULL"));
  return db;
}

}  // namespace

const std::vector<SqliteMigration>& SqliteStoreMigrations() {
  static const std::vector<SqliteMigration>* migrations =
      new std::vector<SqliteMigration>{
          {1, kSchemaV1}, {2, kSchemaV2}, {3, kSchemaV3}, {4, kSchemaV4}};
  return *migrations;
}

struct SqliteStore::PendingWrite {
  WriteFn fn;
  std::promise<absl::Status> done;
  // After the commit, copy the log into the database and truncate it, so
  // the pages this write replaced are gone from the log too.
  bool checkpoint_after = false;
  // An audit append's receipt: its leaf index is set by `fn`, the batch's
  // checkpoint after the commit.
  AuditReceipt* receipt = nullptr;
};

SqliteStore::ReadLease::ReadLease(SqliteStore* store, std::unique_ptr<SqliteDb> db)
    : store_(store), db_(std::move(db)) {}

SqliteStore::ReadLease::~ReadLease() {
  if (db_ == nullptr) return;
  std::lock_guard<std::mutex> lock(store_->readers_mu_);
  store_->idle_readers_.push_back(std::move(db_));
  store_->readers_cv_.notify_one();
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& data_dir) {
  return Open(data_dir, Options());
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& data_dir,
                                                               const Options& options) {
  if (options.max_batch < 1 || options.read_connections < 1 || options.busy_timeout_ms < 0) {
    return absl::InvalidArgumentError("SqliteStore options out of range");
  }
  RETURN_IF_ERROR(PrepareDataDir(data_dir));
  const std::string path = absl::StrCat(data_dir, "/", kDatabaseFileName);
  RETURN_IF_ERROR(PrepareDatabaseFile(data_dir, path));
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> writer,
                   OpenConnection(path, true, options.busy_timeout_ms));
  RETURN_IF_ERROR(Migrate(*writer, options.migrations_for_testing != nullptr
                                       ? *options.migrations_for_testing
                                       : SqliteStoreMigrations()));
  std::vector<std::unique_ptr<SqliteDb>> readers;
  for (int i = 0; i < options.read_connections; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> reader,
                     OpenConnection(path, false, options.busy_timeout_ms));
    readers.push_back(std::move(reader));
  }
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(options, std::move(writer), std::move(readers)));
  if (options.log_signer != nullptr) RETURN_IF_ERROR(store->SignInitialCheckpoint());
  return store;
}

SqliteStore::SqliteStore(const Options& options, std::unique_ptr<SqliteDb> writer,
                         std::vector<std::unique_ptr<SqliteDb>> readers)
    : options_(options), writer_(std::move(writer)), idle_readers_(std::move(readers)) {
  writer_thread_ = std::thread([this] { WriterLoop(); });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  writer_thread_.join();
}

absl::Status SqliteStore::Write(WriteFn fn) { return QueueWrite(std::move(fn), false); }

absl::Status SqliteStore::WriteAndTruncateLog(WriteFn fn) {
  return QueueWrite(std::move(fn), true);
}

absl::Status SqliteStore::QueueWrite(WriteFn fn, bool checkpoint_after, AuditReceipt* receipt) {
  PendingWrite write{std::move(fn), {}, checkpoint_after, receipt};
  std::future<absl::Status> done = write.done.get_future();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) return absl::FailedPreconditionError("the store is closing");
    queue_.push_back(&write);
  }
  queue_cv_.notify_one();
  return done.get();
}

void SqliteStore::WriterLoop() {
  const size_t max_batch = options_.batch_writes ? static_cast<size_t>(options_.max_batch) : 1;
  std::vector<PendingWrite*> batch;
  for (;;) {
    batch.clear();
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to write
      while (!queue_.empty() && batch.size() < max_batch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    RunBatch(batch);
  }
}

void SqliteStore::RunBatch(const std::vector<PendingWrite*>& batch) {
  SqliteDb& db = *writer_;
  std::vector<absl::Status> results(batch.size());
  // BEGIN IMMEDIATE takes the write lock now, so every read inside the batch
  // sees the state its writes apply to, also against other processes.
  absl::Status failed = db.Run("BEGIN IMMEDIATE");
  log_.appended = false;
  log_.synced = false;
  for (size_t i = 0; failed.ok() && i < batch.size(); ++i) {
    failed = db.Run("SAVEPOINT write_op");
    if (!failed.ok()) break;
    const LogState saved = log_;  // what this write's rollback restores
    try {
      results[i] = batch[i]->fn(db);
    } catch (const std::exception& e) {
      results[i] = absl::InternalError(absl::StrCat("store write threw: ", e.what()));
    }
    if (!db.InTransaction()) {
      // SQLite rolled the whole transaction back (I/O error, disk full):
      // nothing of this batch was written.
      failed = results[i].ok() ? absl::InternalError("the store's transaction was rolled back")
                               : results[i];
      break;
    }
    if (!results[i].ok()) {
      log_ = saved;
      failed = db.Run("ROLLBACK TO write_op");
    }
    if (failed.ok()) failed = db.Run("RELEASE write_op");
  }
  // One checkpoint for the batch's appends, committed with them.
  std::string checkpoint;
  if (failed.ok() && log_.appended) failed = StoreBatchCheckpoint(db, &checkpoint);
  if (failed.ok()) failed = db.Run("COMMIT");
  if (failed.ok()) {
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i]->receipt == nullptr || !results[i].ok()) continue;
      batch[i]->receipt->tree_size = log_.appender->size();
      batch[i]->receipt->checkpoint = checkpoint;
    }
    transactions_.fetch_add(1, std::memory_order_relaxed);
    writes_.fetch_add(static_cast<int64_t>(batch.size()), std::memory_order_relaxed);
    // The commit stands; a write that asked for the log to be truncated
    // learns whether it was (a reader's snapshot can keep it: retry).
    absl::Status truncated;
    bool checkpointed = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!batch[i]->checkpoint_after || !results[i].ok()) continue;
      if (!checkpointed) truncated = TruncateLog(db);
      checkpointed = true;
      results[i] = truncated;
    }
  } else {
    if (db.InTransaction()) db.Exec("ROLLBACK").IgnoreError();
    log_.appender.reset();  // whatever the database now holds: reloaded on the next append
    for (absl::Status& result : results) result = failed;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    // The caller's PendingWrite may be gone as soon as it sees the value:
    // answer through a promise this thread owns.
    std::promise<absl::Status> done = std::move(batch[i]->done);
    done.set_value(std::move(results[i]));
  }
}

absl::Status SqliteStore::TruncateLog(SqliteDb& db) {
  ASSIGN_OR_RETURN(Statement checkpoint, db.Prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
  ASSIGN_OR_RETURN(bool row, checkpoint.Step());
  if (!row || checkpoint.Int(0) != 0) {
    return absl::UnavailableError(
        "committed, but the write-ahead log could not be truncated (a reader held it); retry");
  }
  return absl::OkStatus();
}

SqliteStore::ReadLease SqliteStore::BorrowReader() {
  std::unique_lock<std::mutex> lock(readers_mu_);
  readers_cv_.wait(lock, [this] { return !idle_readers_.empty(); });
  std::unique_ptr<SqliteDb> db = std::move(idle_readers_.back());
  idle_readers_.pop_back();
  return ReadLease(this, std::move(db));
}

SqliteStore::WriteStats SqliteStore::Stats() const {
  return {writes_.load(std::memory_order_relaxed), transactions_.load(std::memory_order_relaxed)};
}

absl::StatusOr<int64_t> SqliteStore::SchemaVersion() {
  ReadLease lease = BorrowReader();
  return lease.db().QueryInt("PRAGMA user_version");
}

absl::Status SqliteStore::CheckIntegrity() {
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(Statement check, lease.db().Prepare("PRAGMA integrity_check"));
  std::string findings;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, check.Step());
    if (!row) break;
    std::string line = check.Bytes(0);
    if (line != "ok") absl::StrAppend(&findings, findings.empty() ? "" : "; ", line);
  }
  if (!findings.empty()) return absl::DataLossError(absl::StrCat("integrity check: ", findings));
  return absl::OkStatus();
}

}  // namespace fdattest
