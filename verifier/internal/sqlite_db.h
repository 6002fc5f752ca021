// The one owner of SQLite handles in fdattest: SqliteDb owns a sqlite3*
// connection and the prepared statements cached on it; a Statement borrows
// one of them for one execution and resets it when it goes out of scope.
// SQLite result codes become absl::Status here, once. Not thread-safe: one
// thread uses a SqliteDb at a time (verifier/sqlite_store.h hands connections
// out one per caller).
#ifndef FDATTEST_VERIFIER_INTERNAL_SQLITE_DB_H_
#define FDATTEST_VERIFIER_INTERNAL_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest::internal {

// A status for SQLite result code `rc` on `db`: DataLoss for a damaged file
// (SQLITE_CORRUPT, SQLITE_NOTADB), AlreadyExists for a UNIQUE or PRIMARY KEY
// conflict, Internal for everything else; the message carries SQLite's text.
absl::Status SqliteStatus(sqlite3* db, int rc, absl::string_view what);

struct SqliteStmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteStmtPtr = std::unique_ptr<sqlite3_stmt, SqliteStmtDeleter>;

// One execution of a prepared statement: bind, step, read columns. The
// destructor resets the statement and clears its bindings, so the cached
// statement is ready for the next caller. A bind error is kept and returned
// by the first Step().
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. Text and blobs are copied.
  Statement& BindInt(int index, int64_t value);
  Statement& BindText(int index, absl::string_view value);
  Statement& BindBlob(int index, absl::string_view value);
  Statement& BindNull(int index);
  // Text, or NULL when empty (optional foreign keys).
  Statement& BindTextOrNull(int index, absl::string_view value);

  // true: a row is available; false: the statement is done.
  absl::StatusOr<bool> Step();
  // Steps once and requires SQLITE_DONE (INSERT, UPDATE, DELETE).
  absl::Status Run();

  // Columns of the current row, 0-based. Text and blobs are copied out.
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  std::string Bytes(int column) const;

 private:
  friend class SqliteDb;
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use, SqliteStmtPtr owned)
      : db_(db), stmt_(stmt), in_use_(in_use), owned_(std::move(owned)) {}
  void NoteBind(int rc, int index);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;         // the cache entry's flag, or null for an uncached statement
  SqliteStmtPtr owned_;  // set when the cached one was busy
  absl::Status bind_status_;
};

class SqliteDb {
 public:
  // Opens `path` read-write (creating it when `create`), with extended result
  // codes, a busy timeout and foreign keys enforced.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool create,
                                                        int busy_timeout_ms);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs SQL without parameters or results (pragmas, DDL, BEGIN, COMMIT).
  absl::Status Exec(const char* sql);
  // Runs one statement that returns no rows, prepared once and cached (for
  // the statements a connection runs over and over: BEGIN, SAVEPOINT, COMMIT).
  absl::Status Run(const char* sql);
  // The single integer a pragma or query answers (e.g. PRAGMA user_version).
  absl::StatusOr<int64_t> QueryInt(const char* sql);
  // A statement for `sql`, prepared once per connection and cached. A nested
  // use of the same SQL gets a fresh, uncached statement.
  absl::StatusOr<Statement> Prepare(const char* sql);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  // Whether a transaction is open (false after SQLite rolled one back itself,
  // which it does on some I/O, full-disk and busy errors).
  bool InTransaction() const;

 private:
  struct CachedStatement {
    SqliteStmtPtr stmt;
    bool in_use = false;
  };
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, CachedStatement> statements_;
};

}  // namespace fdattest::internal

#endif  // FDATTEST_VERIFIER_INTERNAL_SQLITE_DB_H_
