// The SQLite store's audit-archive records: tenants with their sealed data
// keys, crypto-shredding, and the sealed content-addressed blobs (schema
// version 3, sqlite_store.cc). The archive's leaves, nodes and checkpoints
// are written elsewhere and never touched here: shredding erases what the
// leaves point at, never the leaves.
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "verifier/internal/sqlite_db.h"
#include "verifier/sqlite_store.h"

namespace fdattest {

using internal::SqliteDb;
using internal::Statement;

namespace {

constexpr size_t kMaxSealedKeyBytes = size_t{1} << 20;
// A result body (8 MiB) and the sealing's overhead.
constexpr size_t kMaxSealedBlobBytes = (size_t{9} << 20);
constexpr size_t kDigestHexDigits = 64;

absl::Status CheckBlobAddress(absl::string_view tenant, absl::string_view sha256) {
  RETURN_IF_ERROR(CheckTenantId(tenant));
  if (sha256.size() != kDigestHexDigits || !IsLowerHex(sha256)) {
    return absl::InvalidArgumentError("a blob's sha256 must be 64 lowercase hex digits");
  }
  return absl::OkStatus();
}

absl::StatusOr<TenantRecord> TenantFromRow(const Statement& row, absl::string_view id) {
  TenantRecord record;
  record.id = std::string(id);
  record.sealed_key = row.IsNull(0) ? std::string() : row.Bytes(0);
  record.created_at = row.Int(1);
  record.shredded_at = row.IsNull(2) ? 0 : row.Int(2);
  if (record.shredded_at == 0 && record.sealed_key.empty()) {
    return absl::DataLossError(absl::StrCat("tenant ", id, " has no key but is not shredded"));
  }
  return record;
}

constexpr const char* kSelectTenant =
    "SELECT sealed_key, created_at, shredded_at FROM tenants WHERE id = ?";

absl::StatusOr<std::optional<TenantRecord>> FindTenant(SqliteDb& db, absl::string_view id) {
  ASSIGN_OR_RETURN(Statement select, db.Prepare(kSelectTenant));
  select.BindText(1, id);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return std::optional<TenantRecord>();
  ASSIGN_OR_RETURN(TenantRecord record, TenantFromRow(select, id));
  return std::optional<TenantRecord>(std::move(record));
}

absl::Status ShreddedError(absl::string_view id) {
  return absl::FailedPreconditionError(absl::StrCat("tenant ", id, " was shredded"));
}

}  // namespace

// --- Tenants.

absl::StatusOr<TenantRecord> SqliteStore::EnsureTenant(absl::string_view id,
                                                       absl::string_view sealed_key, int64_t now) {
  RETURN_IF_ERROR(CheckTenantId(id));
  if (sealed_key.empty() || sealed_key.size() > kMaxSealedKeyBytes) {
    return absl::InvalidArgumentError("a tenant's sealed key must be 1 byte..1 MiB");
  }
  TenantRecord stored;
  RETURN_IF_ERROR(Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<TenantRecord> existing, FindTenant(db, id));
    if (existing) {
      if (existing->shredded_at != 0) return ShreddedError(id);
      stored = *std::move(existing);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO tenants (id, sealed_key, created_at, shredded_at) "
                                "VALUES (?, ?, ?, NULL)"));
    RETURN_IF_ERROR(insert.BindText(1, id).BindBlob(2, sealed_key).BindInt(3, now).Run());
    stored = TenantRecord{std::string(id), std::string(sealed_key), now, 0};
    return absl::OkStatus();
  }));
  return stored;
}

absl::StatusOr<TenantRecord> SqliteStore::GetTenant(absl::string_view id) {
  RETURN_IF_ERROR(CheckTenantId(id));
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(std::optional<TenantRecord> found, FindTenant(lease.db(), id));
  if (!found) return absl::NotFoundError(absl::StrCat("no tenant ", id));
  return *std::move(found);
}

absl::Status SqliteStore::ShredTenant(absl::string_view id, int64_t now) {
  RETURN_IF_ERROR(CheckTenantId(id));
  // One transaction: the key, the ciphertexts and the result bodies go
  // together or not at all. secure_delete (sqlite_store.cc) zeroes the freed
  // bytes in the database; truncating the log afterwards removes the old
  // pages from it too.
  return WriteAndTruncateLog([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<TenantRecord> existing, FindTenant(db, id));
    if (!existing) {
      // Never seen: record it shredded, so its id never gets a key and the
      // results of its attesters are erased below all the same.
      ASSIGN_OR_RETURN(Statement insert,
                       db.Prepare("INSERT INTO tenants (id, sealed_key, created_at, shredded_at) "
                                  "VALUES (?, NULL, ?, ?)"));
      RETURN_IF_ERROR(insert.BindText(1, id).BindInt(2, now).BindInt(3, now).Run());
    } else {
      ASSIGN_OR_RETURN(Statement forget,
                       db.Prepare("UPDATE tenants SET sealed_key = NULL, "
                                  "shredded_at = coalesce(shredded_at, ?) WHERE id = ?"));
      RETURN_IF_ERROR(forget.BindInt(1, now).BindText(2, id).Run());
    }
    ASSIGN_OR_RETURN(Statement blobs, db.Prepare("UPDATE audit_blobs SET sealed = NULL "
                                                 "WHERE tenant = ? AND sealed IS NOT NULL"));
    RETURN_IF_ERROR(blobs.BindText(1, id).Run());
    // A shredded result keeps its row (id, verdict, digests: what the leaf
    // also holds) with an empty body, which the service answers 410 Gone.
    ASSIGN_OR_RETURN(Statement results,
                     db.Prepare("UPDATE results SET body = X'' WHERE length(body) > 0 AND "
                                "(attester_id IN (SELECT id FROM attesters WHERE tenant = ?1) OR "
                                "(attester_id IS NULL AND ?1 = 'default'))"));
    return results.BindText(1, id).Run();
  });
}

// --- Blobs.

absl::Status SqliteStore::PutBlob(const BlobRecord& record) {
  RETURN_IF_ERROR(CheckBlobAddress(record.tenant, record.sha256));
  if (record.sealed.empty() || record.sealed.size() > kMaxSealedBlobBytes) {
    return absl::InvalidArgumentError("a sealed blob must be 1 byte..9 MiB");
  }
  return Write([&](SqliteDb& db) { return PutBlobIn(db, record); });
}

absl::Status SqliteStore::PutBlobIn(SqliteDb& db, const BlobRecord& record) {
  ASSIGN_OR_RETURN(std::optional<TenantRecord> tenant, FindTenant(db, record.tenant));
  if (!tenant) return absl::NotFoundError(absl::StrCat("no tenant ", record.tenant));
  if (tenant->shredded_at != 0) return ShreddedError(record.tenant);
  // The address names the content: a stored ciphertext stays (it opens to
  // the same plaintext), an expired one is replaced; the expiry is the later.
  ASSIGN_OR_RETURN(
      Statement upsert,
      db.Prepare("INSERT INTO audit_blobs (sha256, tenant, kind, sealed, created_at, expires_at) "
                 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, sha256, kind) DO UPDATE SET "
                 "sealed = coalesce(sealed, excluded.sealed), "
                 "created_at = CASE WHEN sealed IS NULL THEN excluded.created_at "
                 "ELSE created_at END, "
                 "expires_at = max(expires_at, excluded.expires_at)"));
  upsert.BindText(1, record.sha256).BindText(2, record.tenant).BindText(3, BlobKindName(record.kind));
  upsert.BindBlob(4, record.sealed).BindInt(5, record.created_at);
  return upsert.BindInt(6, record.expires_at).Run();
}

absl::StatusOr<BlobRecord> SqliteStore::GetBlob(absl::string_view tenant, absl::string_view sha256,
                                                BlobKind kind) {
  RETURN_IF_ERROR(CheckBlobAddress(tenant, sha256));
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(Statement select,
                   lease.db().Prepare("SELECT b.sealed, b.created_at, b.expires_at, "
                                      "t.shredded_at FROM audit_blobs b JOIN tenants t "
                                      "ON t.id = b.tenant "
                                      "WHERE b.tenant = ? AND b.sha256 = ? AND b.kind = ?"));
  select.BindText(1, tenant).BindText(2, sha256).BindText(3, BlobKindName(kind));
  ASSIGN_OR_RETURN(bool found, select.Step());
  const std::string address =
      absl::StrCat(BlobKindName(kind), " blob ", sha256, " of tenant ", tenant);
  if (!found) return absl::NotFoundError(absl::StrCat("no ", address));
  if (select.IsNull(0)) {
    return absl::FailedPreconditionError(
        absl::StrCat(address, select.IsNull(3) ? " expired" : " was shredded"));
  }
  return BlobRecord{std::string(sha256), std::string(tenant), kind,
                    select.Bytes(0),     select.Int(1),       select.Int(2)};
}

absl::StatusOr<int64_t> SqliteStore::ExpireBlobs(int64_t now) {
  int64_t expired = 0;
  RETURN_IF_ERROR(Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(Statement expire, db.Prepare("UPDATE audit_blobs SET sealed = NULL "
                                                  "WHERE sealed IS NOT NULL AND expires_at <= ?"));
    RETURN_IF_ERROR(expire.BindInt(1, now).Run());
    expired = db.Changes();
    return absl::OkStatus();
  }));
  return expired;
}

}  // namespace fdattest
