// The SQLite store's records: input limits, then one small SQL function per
// Store method. Writes run on the writer thread inside a transaction (see
// sqlite_store.cc); reads on a pooled read connection.
#include <openssl/crypto.h>

#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "verifier/internal/audit_log.h"
#include "verifier/internal/sqlite_db.h"
#include "verifier/sqlite_store.h"

namespace fdattest {

using internal::SqliteDb;
using internal::Statement;

namespace {

constexpr size_t kIdHexDigits = 32;
constexpr size_t kDigestHexDigits = 64;
constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxAkNameHexDigits = 256;
constexpr size_t kMinNonceBytes = 8;
constexpr size_t kMaxNonceBytes = 64;
constexpr size_t kMaxValueBytes = size_t{1} << 20;
constexpr size_t kMaxResultBodyBytes = size_t{8} << 20;
constexpr size_t kMaxVerdictBytes = 64;

absl::Status CheckHex(absl::string_view what, absl::string_view value, size_t digits) {
  if (value.size() != digits || !IsLowerHex(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be ", digits, " lowercase hex digits"));
  }
  return absl::OkStatus();
}

absl::Status CheckAkName(absl::string_view ak_name) {
  if (ak_name.empty() || ak_name.size() > kMaxAkNameHexDigits || ak_name.size() % 2 != 0 ||
      !IsLowerHex(ak_name)) {
    return absl::InvalidArgumentError("an AK name must be 2..256 lowercase hex digits");
  }
  return absl::OkStatus();
}

// Policy ids and secret names: they appear in URLs and logs.
absl::Status CheckName(absl::string_view what, absl::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxNameBytes;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be 1..128 characters of A-Z a-z 0-9 . _ -"));
  }
  return absl::OkStatus();
}

absl::Status CheckSize(absl::string_view what, absl::string_view value, size_t max) {
  if (value.empty() || value.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be 1..", max, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<AttesterState> ParseState(const std::string& name) {
  for (AttesterState state :
       {AttesterState::kPending, AttesterState::kActive, AttesterState::kRevoked}) {
    if (name == AttesterStateName(state)) return state;
  }
  return absl::DataLossError(absl::StrCat("attester with unknown state '", name, "'"));
}

std::tuple<uint32_t, uint32_t, uint64_t> CounterOrder(const TpmCounters& c) {
  return {c.reset_count, c.restart_count, c.clock};
}

constexpr const char* kSelectAttesterById =
    "SELECT id, ek_certificate, ek_public, ek_sha256, ak_public, ak_name, state, "
    "credential_sha256, created_at, activated_at, revoked_at, counters_reset, "
    "counters_restart, counters_clock, tenant FROM attesters WHERE id = ?";
constexpr const char* kSelectAttesterByAkName =
    "SELECT id, ek_certificate, ek_public, ek_sha256, ak_public, ak_name, state, "
    "credential_sha256, created_at, activated_at, revoked_at, counters_reset, "
    "counters_restart, counters_clock, tenant FROM attesters WHERE ak_name = ? "
    "ORDER BY activated_at > 0 DESC, created_at DESC, rowid DESC LIMIT 1";

absl::StatusOr<AttesterRecord> AttesterFromRow(const Statement& row) {
  AttesterRecord record;
  record.id = row.Bytes(0);
  record.ek_certificate = row.Bytes(1);
  record.ek_public = row.Bytes(2);
  record.ek_sha256 = row.Bytes(3);
  record.ak_public = row.Bytes(4);
  record.ak_name = row.Bytes(5);
  ASSIGN_OR_RETURN(record.state, ParseState(row.Bytes(6)));
  record.credential_sha256 = row.Bytes(7);
  record.created_at = row.Int(8);
  record.activated_at = row.Int(9);
  record.revoked_at = row.Int(10);
  if (!row.IsNull(11)) {
    TpmCounters counters;
    counters.reset_count = static_cast<uint32_t>(row.Int(11));
    counters.restart_count = static_cast<uint32_t>(row.Int(12));
    counters.clock = static_cast<uint64_t>(row.Int(13));  // stored as its 64-bit pattern
    record.counters = counters;
  }
  record.tenant = row.Bytes(14);
  return record;
}

// The id of the row `sql` (one parameter) finds, or "" when none.
absl::StatusOr<std::string> FindId(SqliteDb& db, const char* sql, absl::string_view key) {
  ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
  stmt.BindText(1, key);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Bytes(0) : std::string();
}

absl::Status RevokeRow(SqliteDb& db, absl::string_view id, int64_t now) {
  ASSIGN_OR_RETURN(Statement revoke,
                   db.Prepare("UPDATE attesters SET state = 'revoked', revoked_at = ?, "
                              "credential_sha256 = '' WHERE id = ? AND state <> 'revoked'"));
  return revoke.BindInt(1, now).BindText(2, id).Run();
}

}  // namespace

// --- Attesters.

absl::Status SqliteStore::AddPendingAttester(const AttesterRecord& record, bool replace_active) {
  RETURN_IF_ERROR(CheckHex("an attester id", record.id, kIdHexDigits));
  RETURN_IF_ERROR(CheckSize("an EK certificate", record.ek_certificate, kMaxValueBytes));
  RETURN_IF_ERROR(CheckSize("an EK public area", record.ek_public, kMaxValueBytes));
  RETURN_IF_ERROR(CheckHex("an EK digest", record.ek_sha256, kDigestHexDigits));
  RETURN_IF_ERROR(CheckSize("an AK public area", record.ak_public, kMaxValueBytes));
  RETURN_IF_ERROR(CheckAkName(record.ak_name));
  RETURN_IF_ERROR(CheckHex("a credential digest", record.credential_sha256, kDigestHexDigits));
  RETURN_IF_ERROR(CheckTenantId(record.tenant));
  return Write([&](SqliteDb& db) -> absl::Status {
    // Only an AK that was once activated is enrolled: a pending record (or
    // one that died pending) is made without the TPM, so it blocks no one.
    ASSIGN_OR_RETURN(std::string same_ak,
                     FindId(db, "SELECT id FROM attesters WHERE ak_name = ? AND activated_at > 0",
                            record.ak_name));
    if (!same_ak.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("this AK is already enrolled (attester ", same_ak, ")"));
    }
    ASSIGN_OR_RETURN(std::string active,
                     FindId(db, "SELECT id FROM attesters WHERE ek_sha256 = ? AND state = 'active'",
                            record.ek_sha256));
    if (!active.empty()) {
      if (!replace_active) {
        return absl::AlreadyExistsError(
            absl::StrCat("this EK already has an active attester (", active, ")"));
      }
      RETURN_IF_ERROR(RevokeRow(db, active, record.created_at));
    }
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO attesters (id, ek_certificate, ek_public, ek_sha256, "
                                "ak_public, ak_name, state, credential_sha256, created_at, "
                                "activated_at, revoked_at, tenant) "
                                "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, 0, 0, ?)"));
    insert.BindText(1, record.id).BindBlob(2, record.ek_certificate).BindBlob(3, record.ek_public);
    insert.BindText(4, record.ek_sha256).BindBlob(5, record.ak_public).BindText(6, record.ak_name);
    insert.BindText(7, record.credential_sha256).BindInt(8, record.created_at);
    return insert.BindText(9, record.tenant).Run();
  });
}

absl::Status SqliteStore::ActivateAttester(absl::string_view id,
                                           absl::string_view credential_sha256, int64_t now) {
  RETURN_IF_ERROR(CheckHex("an attester id", id, kIdHexDigits));
  RETURN_IF_ERROR(CheckHex("a credential digest", credential_sha256, kDigestHexDigits));
  // A wrong answer revokes the enrollment and must stay committed although
  // the caller is told no: the write succeeds, the answer is `denied`.
  absl::Status denied;
  RETURN_IF_ERROR(Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(Statement select,
                     db.Prepare("SELECT state, credential_sha256, ek_sha256, ak_name "
                                "FROM attesters WHERE id = ?"));
    select.BindText(1, id);
    ASSIGN_OR_RETURN(bool found, select.Step());
    if (!found) return absl::NotFoundError(absl::StrCat("no attester ", id));
    std::string state = select.Bytes(0);
    std::string expected = select.Bytes(1);
    std::string ek_sha256 = select.Bytes(2);
    std::string ak_name = select.Bytes(3);
    if (state != "pending") {
      return absl::FailedPreconditionError(
          absl::StrCat("attester ", id, " is ", state, ", not pending"));
    }
    if (expected.size() != credential_sha256.size() ||
        CRYPTO_memcmp(expected.data(), credential_sha256.data(), expected.size()) != 0) {
      denied = absl::PermissionDeniedError(
          "the recovered credential is wrong; this enrollment is revoked (enroll again)");
      return RevokeRow(db, id, now);
    }
    ASSIGN_OR_RETURN(
        std::string active,
        FindId(db, "SELECT id FROM attesters WHERE ek_sha256 = ? AND state = 'active'", ek_sha256));
    if (!active.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("this EK already has an active attester (", active, ")"));
    }
    ASSIGN_OR_RETURN(std::string enrolled_ak,
                     FindId(db, "SELECT id FROM attesters WHERE ak_name = ? AND activated_at > 0",
                            ak_name));
    if (!enrolled_ak.empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat("this AK is already enrolled (attester ", enrolled_ak, ")"));
    }
    ASSIGN_OR_RETURN(Statement activate,
                     db.Prepare("UPDATE attesters SET state = 'active', activated_at = ?, "
                                "credential_sha256 = '' WHERE id = ?"));
    return activate.BindInt(1, now).BindText(2, id).Run();
  }));
  return denied;
}

absl::Status SqliteStore::RevokeAttester(absl::string_view id, int64_t now) {
  RETURN_IF_ERROR(CheckHex("an attester id", id, kIdHexDigits));
  return Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(std::string found, FindId(db, "SELECT id FROM attesters WHERE id = ?", id));
    if (found.empty()) return absl::NotFoundError(absl::StrCat("no attester ", id));
    return RevokeRow(db, id, now);  // keeps the first revocation's time
  });
}

absl::StatusOr<AttesterRecord> SqliteStore::ReadAttester(const char* sql, absl::string_view key) {
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(Statement select, lease.db().Prepare(sql));
  select.BindText(1, key);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("no attester ", key));
  return AttesterFromRow(select);
}

absl::StatusOr<AttesterRecord> SqliteStore::GetAttester(absl::string_view id) {
  RETURN_IF_ERROR(CheckHex("an attester id", id, kIdHexDigits));
  return ReadAttester(kSelectAttesterById, id);
}

absl::StatusOr<AttesterRecord> SqliteStore::FindAttesterByAkName(absl::string_view ak_name) {
  RETURN_IF_ERROR(CheckAkName(ak_name));
  return ReadAttester(kSelectAttesterByAkName, ak_name);
}

namespace {

absl::Status RaiseCounters(SqliteDb& db, absl::string_view attester_id,
                           const TpmCounters& counters) {
  ASSIGN_OR_RETURN(Statement select, db.Prepare(kSelectAttesterById));
  select.BindText(1, attester_id);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("no attester ", attester_id));
  ASSIGN_OR_RETURN(AttesterRecord current, AttesterFromRow(select));
  // An older attestation finishing after a newer one leaves the newer
  // counters; it is the verifier's CheckCounters that refuses rollbacks.
  if (current.counters && CounterOrder(counters) <= CounterOrder(*current.counters)) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Statement update,
                   db.Prepare("UPDATE attesters SET counters_reset = ?, counters_restart = ?, "
                              "counters_clock = ? WHERE id = ?"));
  update.BindInt(1, counters.reset_count).BindInt(2, counters.restart_count);
  update.BindInt(3, static_cast<int64_t>(counters.clock)).BindText(4, attester_id);
  return update.Run();
}

}  // namespace

absl::Status SqliteStore::RecordCounters(absl::string_view attester_id,
                                         const TpmCounters& counters) {
  RETURN_IF_ERROR(CheckHex("an attester id", attester_id, kIdHexDigits));
  return Write([&](SqliteDb& db) { return RaiseCounters(db, attester_id, counters); });
}

// --- Nonces.

namespace {

absl::Status CheckNonceSize(absl::string_view nonce) {
  if (nonce.size() < kMinNonceBytes || nonce.size() > kMaxNonceBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a nonce must be ", kMinNonceBytes, "..", kMaxNonceBytes, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SqliteStore::AddNonce(absl::string_view nonce, int64_t expires_at) {
  RETURN_IF_ERROR(CheckNonceSize(nonce));
  return Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)"));
    absl::Status status = insert.BindBlob(1, nonce).BindInt(2, expires_at).Run();
    if (absl::IsAlreadyExists(status)) return absl::AlreadyExistsError("nonce already issued");
    return status;
  });
}

namespace {

// Why `nonce` cannot be consumed at `now` (it exists in some other state), or
// its expiry when it can.
absl::StatusOr<int64_t> NonceRefusal(SqliteDb& db, absl::string_view nonce, int64_t now) {
  ASSIGN_OR_RETURN(Statement why,
                   db.Prepare("SELECT expires_at, used_at FROM nonces WHERE nonce = ?"));
  why.BindBlob(1, nonce);
  ASSIGN_OR_RETURN(bool found, why.Step());
  if (!found) return absl::PermissionDeniedError("the nonce was never issued");
  if (!why.IsNull(1)) return absl::PermissionDeniedError("the nonce was already used");
  if (why.Int(0) <= now) {
    return absl::PermissionDeniedError(
        absl::StrCat("the nonce expired ", now - why.Int(0), " s ago"));
  }
  return why.Int(0);
}

absl::Status MarkNonceUsed(SqliteDb& db, absl::string_view nonce, int64_t now) {
  {
    ASSIGN_OR_RETURN(Statement consume,
                     db.Prepare("UPDATE nonces SET used_at = ? "
                                "WHERE nonce = ? AND used_at IS NULL AND expires_at > ?"));
    RETURN_IF_ERROR(consume.BindInt(1, now).BindBlob(2, nonce).BindInt(3, now).Run());
    if (db.Changes() == 1) return absl::OkStatus();
  }
  RETURN_IF_ERROR(NonceRefusal(db, nonce, now).status());
  return absl::InternalError("a consumable nonce was not consumed");
}

}  // namespace

absl::Status SqliteStore::ConsumeNonce(absl::string_view nonce, int64_t now) {
  if (nonce.size() < kMinNonceBytes || nonce.size() > kMaxNonceBytes) {
    return absl::PermissionDeniedError("the nonce was never issued (wrong size)");
  }
  return Write([&](SqliteDb& db) { return MarkNonceUsed(db, nonce, now); });
}

absl::StatusOr<int64_t> SqliteStore::CheckNonce(absl::string_view nonce, int64_t now) {
  if (nonce.size() < kMinNonceBytes || nonce.size() > kMaxNonceBytes) {
    return absl::PermissionDeniedError("the nonce was never issued (wrong size)");
  }
  ReadLease lease = BorrowReader();
  return NonceRefusal(lease.db(), nonce, now);
}

absl::StatusOr<int64_t> SqliteStore::CountNonces(int64_t now) {
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(Statement count, lease.db().Prepare("SELECT count(*) FROM nonces "
                                                       "WHERE expires_at > ? AND used_at IS NULL"));
  count.BindInt(1, now);
  ASSIGN_OR_RETURN(bool row, count.Step());
  if (!row) return absl::InternalError("count(*) returned no row");
  return count.Int(0);
}

absl::Status SqliteStore::PurgeNonces(int64_t now) {
  return Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(Statement purge, db.Prepare("DELETE FROM nonces WHERE expires_at < ?"));
    return purge.BindInt(1, now).Run();
  });
}

// --- Policies.

absl::StatusOr<PolicyRecord> SqliteStore::PutPolicy(absl::string_view id, absl::string_view text,
                                                    int64_t now) {
  RETURN_IF_ERROR(CheckName("a policy id", id));
  RETURN_IF_ERROR(CheckSize("a policy", text, kMaxValueBytes));
  PolicyRecord record{std::string(id), 0, std::string(text), HexEncode(Sha256(text)), now};
  RETURN_IF_ERROR(Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(Statement latest,
                     db.Prepare("SELECT latest_version FROM policies WHERE id = ?"));
    latest.BindText(1, id);
    ASSIGN_OR_RETURN(bool found, latest.Step());
    record.version = found ? latest.Int(0) + 1 : 1;
    ASSIGN_OR_RETURN(
        Statement upsert,
        db.Prepare("INSERT INTO policies (id, latest_version) VALUES (?, ?) "
                   "ON CONFLICT (id) DO UPDATE SET latest_version = excluded.latest_version"));
    RETURN_IF_ERROR(upsert.BindText(1, id).BindInt(2, record.version).Run());
    ASSIGN_OR_RETURN(Statement insert,
                     db.Prepare("INSERT INTO policy_versions (policy_id, version, text, sha256, "
                                "created_at) VALUES (?, ?, ?, ?, ?)"));
    insert.BindText(1, id).BindInt(2, record.version).BindBlob(3, text);
    return insert.BindText(4, record.sha256).BindInt(5, now).Run();
  }));
  return record;
}

absl::StatusOr<PolicyRecord> SqliteStore::GetPolicy(absl::string_view id,
                                                    std::optional<int64_t> version) {
  RETURN_IF_ERROR(CheckName("a policy id", id));
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(
      Statement select,
      lease.db().Prepare(version ? "SELECT version, text, sha256, created_at FROM policy_versions "
                                   "WHERE policy_id = ? AND version = ?"
                                 : "SELECT version, text, sha256, created_at FROM policy_versions "
                                   "WHERE policy_id = ? ORDER BY version DESC LIMIT 1"));
  select.BindText(1, id);
  if (version) select.BindInt(2, *version);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) {
    return absl::NotFoundError(version ? absl::StrCat("no version ", *version, " of policy ", id)
                                       : absl::StrCat("no policy ", id));
  }
  return PolicyRecord{std::string(id), select.Int(0), select.Bytes(1), select.Bytes(2),
                      select.Int(3)};
}

// --- Secrets.

absl::Status SqliteStore::PutSecret(const SecretRecord& record) {
  RETURN_IF_ERROR(CheckName("a secret name", record.name));
  RETURN_IF_ERROR(CheckSize("a secret's ciphertext", record.ciphertext, kMaxValueBytes));
  RETURN_IF_ERROR(CheckName("a policy id", record.policy_id));
  return Write([&](SqliteDb& db) -> absl::Status {
    ASSIGN_OR_RETURN(std::string policy,
                     FindId(db, "SELECT id FROM policies WHERE id = ?", record.policy_id));
    if (policy.empty()) return absl::NotFoundError(absl::StrCat("no policy ", record.policy_id));
    ASSIGN_OR_RETURN(Statement upsert,
                     db.Prepare("INSERT INTO secrets (name, ciphertext, policy_id, updated_at) "
                                "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                                "ciphertext = excluded.ciphertext, policy_id = excluded.policy_id, "
                                "updated_at = excluded.updated_at"));
    upsert.BindText(1, record.name).BindBlob(2, record.ciphertext);
    return upsert.BindText(3, record.policy_id).BindInt(4, record.updated_at).Run();
  });
}

absl::StatusOr<SecretRecord> SqliteStore::GetSecret(absl::string_view name) {
  RETURN_IF_ERROR(CheckName("a secret name", name));
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(Statement select,
                   lease.db().Prepare("SELECT ciphertext, policy_id, updated_at FROM secrets "
                                      "WHERE name = ?"));
  select.BindText(1, name);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("no secret ", name));
  return SecretRecord{std::string(name), select.Bytes(0), select.Bytes(1), select.Int(2)};
}

// --- Results.

namespace {

absl::Status CheckResult(const ResultRecord& record) {
  RETURN_IF_ERROR(CheckHex("a result id", record.id, kIdHexDigits));
  if (!record.attester_id.empty()) {
    RETURN_IF_ERROR(CheckHex("an attester id", record.attester_id, kIdHexDigits));
  }
  if (!record.policy_id.empty()) {
    RETURN_IF_ERROR(CheckName("a policy id", record.policy_id));
    if (record.policy_version < 1) {
      return absl::InvalidArgumentError("a result's policy version must be 1 or more");
    }
  }
  RETURN_IF_ERROR(CheckName("a verdict", record.verdict));
  if (record.verdict.size() > kMaxVerdictBytes) {
    return absl::InvalidArgumentError("a verdict is at most 64 bytes");
  }
  RETURN_IF_ERROR(CheckHex("an evidence digest", record.evidence_sha256, kDigestHexDigits));
  RETURN_IF_ERROR(CheckSize("a result body", record.body, kMaxResultBodyBytes));
  return absl::OkStatus();
}

absl::Status InsertResult(SqliteDb& db, const ResultRecord& record) {
  if (!record.attester_id.empty()) {
    ASSIGN_OR_RETURN(std::string attester,
                     FindId(db, "SELECT id FROM attesters WHERE id = ?", record.attester_id));
    if (attester.empty()) {
      return absl::NotFoundError(absl::StrCat("no attester ", record.attester_id));
    }
  }
  if (!record.policy_id.empty()) {
    ASSIGN_OR_RETURN(Statement policy,
                     db.Prepare("SELECT 1 FROM policy_versions WHERE policy_id = ? AND "
                                "version = ?"));
    policy.BindText(1, record.policy_id).BindInt(2, record.policy_version);
    ASSIGN_OR_RETURN(bool found, policy.Step());
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("no version ", record.policy_version, " of policy ", record.policy_id));
    }
  }
  ASSIGN_OR_RETURN(Statement insert,
                   db.Prepare("INSERT INTO results (id, attester_id, policy_id, policy_version, "
                              "verdict, evidence_sha256, body, created_at) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  insert.BindText(1, record.id).BindTextOrNull(2, record.attester_id);
  insert.BindTextOrNull(3, record.policy_id);
  if (record.policy_id.empty()) {
    insert.BindNull(4);
  } else {
    insert.BindInt(4, record.policy_version);
  }
  insert.BindText(5, record.verdict).BindText(6, record.evidence_sha256);
  insert.BindBlob(7, record.body).BindInt(8, record.created_at);
  absl::Status status = insert.Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(absl::StrCat("result ", record.id, " already exists"));
  }
  return status;
}

}  // namespace

absl::Status SqliteStore::PutResult(const ResultRecord& record) {
  RETURN_IF_ERROR(CheckResult(record));
  return Write([&](SqliteDb& db) { return InsertResult(db, record); });
}

absl::Status SqliteStore::CommitAttestation(const AttestationCommit& commit,
                                            AuditReceipt* receipt) {
  RETURN_IF_ERROR(CheckResult(commit.result));
  if (!commit.nonce.empty() &&
      (commit.nonce.size() < kMinNonceBytes || commit.nonce.size() > kMaxNonceBytes)) {
    return absl::PermissionDeniedError("the nonce was never issued (wrong size)");
  }
  if (commit.counters && commit.result.attester_id.empty()) {
    return absl::InvalidArgumentError("counters without an attester");
  }
  int64_t leaf_time = 0;
  if (commit.audit) {
    if (options_.log_signer == nullptr) {
      return absl::FailedPreconditionError("the store has no audit log signer");
    }
    ASSIGN_OR_RETURN(AuditLeaf leaf, internal::CheckAuditCommit(commit));
    leaf_time = leaf.time;
  }
  AuditReceipt written;
  RETURN_IF_ERROR(QueueWrite(
      [&](SqliteDb& db) -> absl::Status {
        if (!commit.nonce.empty()) RETURN_IF_ERROR(MarkNonceUsed(db, commit.nonce, commit.now));
        if (commit.counters) {
          RETURN_IF_ERROR(RaiseCounters(db, commit.result.attester_id, *commit.counters));
        }
        RETURN_IF_ERROR(InsertResult(db, commit.result));
        if (!commit.audit) return absl::OkStatus();
        return AppendLeaf(db, *commit.audit, commit.result.id, leaf_time, &written.leaf_index);
      },
      false, commit.audit ? &written : nullptr));
  if (receipt != nullptr) *receipt = commit.audit ? std::move(written) : AuditReceipt();
  return absl::OkStatus();
}

absl::StatusOr<ResultRecord> SqliteStore::GetResult(absl::string_view id) {
  RETURN_IF_ERROR(CheckHex("a result id", id, kIdHexDigits));
  ReadLease lease = BorrowReader();
  ASSIGN_OR_RETURN(Statement select,
                   lease.db().Prepare("SELECT attester_id, policy_id, policy_version, verdict, "
                                      "evidence_sha256, body, created_at FROM results "
                                      "WHERE id = ?"));
  select.BindText(1, id);
  ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("no result ", id));
  ResultRecord record;
  record.id = std::string(id);
  record.attester_id = select.Bytes(0);
  record.policy_id = select.Bytes(1);
  record.policy_version = select.IsNull(2) ? 0 : select.Int(2);
  record.verdict = select.Bytes(3);
  record.evidence_sha256 = select.Bytes(4);
  record.body = select.Bytes(5);
  record.created_at = select.Int(6);
  return record;
}

}  // namespace fdattest
