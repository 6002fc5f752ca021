// The verifier service's durable state behind one narrow interface: enrolled
// attesters, issued nonces, policies (every version kept), secrets (stored as
// the opaque ciphertext the caller hands in: verifier/secret_box.h encrypts)
// and attestation results; and the audit archive's records beside its Merkle
// log: tenants with their sealed data keys, and content-addressed sealed
// blobs (evidence, results, decision records; verifier/audit/tenant_keys.h
// seals them). fdverifierd holds one Store for its lifetime; the
// embedded implementation is SQLite in WAL mode (verifier/sqlite_store.h), a
// replicated one can follow without touching callers.
//
// Contract for every implementation:
// - Thread-safe: every method may be called concurrently from any thread.
// - A method that returns OK has made its change durable: a `kill -9` (and,
//   for the SQLite store, a power loss) right after the return loses nothing.
// - Errors: NotFound for a missing record, AlreadyExists for a conflicting
//   one, PermissionDenied for a nonce that cannot be consumed (naming why),
//   FailedPrecondition for a state change the record's state forbids,
//   DataLoss for a damaged store, Internal for the rest.
#ifndef FDATTEST_VERIFIER_STORE_H_
#define FDATTEST_VERIFIER_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/audit/merkle.h"
#include "verifier/audit/merkle_tiles.h"
#include "verifier/tpm_attest.h"

namespace fdattest {

enum class AttesterState { kPending, kActive, kRevoked };
absl::string_view AttesterStateName(AttesterState state);  // "pending", "active", "revoked"

// One attester: an AK bound to an EK. Created pending by enrollment, active
// once its credential was activated, revoked by an administrator (kept, never
// deleted: results and audit records name it).
struct AttesterRecord {
  std::string id;              // 32 lowercase hex digits, chosen by the service
  std::string ek_certificate;  // DER, checked against the TPM vendor CAs at enrollment
  std::string ek_public;       // marshalled TPM2B_PUBLIC rebuilt from the certificate
  std::string ek_sha256;       // hex sha256 of ek_public: the EK's identity
  std::string ak_public;       // marshalled TPM2B_PUBLIC
  std::string ak_name;         // hex TPM name of the AK (what MakeCredential bound)
  AttesterState state = AttesterState::kPending;
  // While pending: hex sha256 of the credential secret the AK's TPM must
  // recover with ActivateCredential. Cleared on activation.
  std::string credential_sha256;
  int64_t created_at = 0;  // unix seconds
  int64_t activated_at = 0;
  int64_t revoked_at = 0;
  // The last TPM counters seen signed by this AK (verifier/verify.h step 4b).
  std::optional<TpmCounters> counters;
  // The tenant whose data this attester's evidence and results are (a tenant
  // id, see CheckTenantId): what ShredTenant erases with the tenant.
  std::string tenant = "default";
};

struct PolicyRecord {
  std::string id;
  int64_t version = 0;  // 1, 2, ...: each PutPolicy adds one
  std::string text;     // the policy document's exact bytes
  std::string sha256;   // hex sha256 of text
  int64_t created_at = 0;
};

struct SecretRecord {
  std::string name;
  std::string ciphertext;  // opaque to the store (verifier/secret_box.h)
  std::string policy_id;   // the policy whose affirming verdict releases it
  int64_t updated_at = 0;
};

struct ResultRecord {
  std::string id;  // 32 lowercase hex digits
  std::string attester_id;
  std::string policy_id;
  int64_t policy_version = 0;
  std::string verdict;          // verifier/verify.h VerdictName
  std::string evidence_sha256;  // the bundle's identity, hex
  // The result document (JSON bytes) as served. Empty once the tenant of the
  // result's attester was shredded (Store::ShredTenant): a stored result is
  // never empty otherwise, and the service answers a shredded result
  // 410 Gone.
  std::string body;
  int64_t created_at = 0;
};

// Tenant ids: 1..64 characters of A-Z a-z 0-9 . _ - (InvalidArgument
// otherwise). They name tenants in the archive's leaves and in key names.
absl::Status CheckTenantId(absl::string_view id);

// A tenant of the audit archive: the owner of a data key that seals its
// blobs. Crypto-shredding forgets the key and deletes the ciphertexts; the
// record itself stays, so the id is never given a new key.
struct TenantRecord {
  std::string id;
  // The tenant's data key sealed by the caller (verifier/audit/tenant_keys.h);
  // empty once shredded.
  std::string sealed_key;
  int64_t created_at = 0;
  int64_t shredded_at = 0;  // 0 while not shredded
};

enum class BlobKind { kEvidence, kResult, kDecision };
absl::string_view BlobKindName(BlobKind kind);  // "evidence", "result", "decision"

// One sealed blob, addressed by (tenant, sha256, kind): sha256 is the hex
// SHA-256 of the plaintext, so the address names the content.
struct BlobRecord {
  std::string sha256;  // 64 lowercase hex digits
  std::string tenant;
  BlobKind kind = BlobKind::kEvidence;
  std::string sealed;  // opaque to the store; empty when read back gone
  int64_t created_at = 0;
  int64_t expires_at = 0;  // the ciphertext is kept until then (ExpireBlobs)
};

// What an attestation adds to the audit log (docs/formats/archive.md): its
// leaf, and the sealed blobs beside the log (stored as PutBlob would).
struct AuditAppend {
  std::string leaf;  // AuditLeaf::Serialize() bytes
  std::vector<BlobRecord> blobs;
};

// Where an archived attestation sits in the log: its leaf's index and the
// signed checkpoint of the batch that appended it (the leaf is inside it).
struct AuditReceipt {
  uint64_t leaf_index = 0;
  uint64_t tree_size = 0;  // the size of `checkpoint` (> leaf_index)
  std::string checkpoint;  // the signed checkpoint note of that size
};

// A signed checkpoint as served: the log's signed note followed by the
// witness cosignature lines stored for it (Store::AddCosignature).
struct SignedCheckpoint {
  uint64_t size = 0;
  std::string note;
};

// Everything one attestation leaves behind, written together by
// Store::CommitAttestation.
struct AttestationCommit {
  // The nonce the verification accepted (raw bytes), consumed with the
  // result; empty when it accepted none.
  std::string nonce;
  int64_t now = 0;  // unix seconds: the nonce must be unexpired at this time
  // The counters the attestation carried, raised on result.attester_id.
  std::optional<TpmCounters> counters;
  ResultRecord result;
  // Appended to the audit log in the same transaction, when present.
  std::optional<AuditAppend> audit;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- Attesters.
  // Inserts a pending attester. AlreadyExists when an active attester holds the
  // same EK (ek_sha256) and `replace_active` is false, or when the AK (ak_name)
  // is enrolled: a record with that name was once activated (active, or
  // revoked after activation: a revoked AK stays out for good). Pending
  // records, and records that died pending, block no one — anyone can make
  // one without the TPM. With `replace_active` the EK's active attester is
  // revoked at `record.created_at` in the same transaction.
  virtual absl::Status AddPendingAttester(const AttesterRecord& record, bool replace_active) = 0;
  // Pending -> active when `credential_sha256` equals the recorded one;
  // PermissionDenied (and the pending record revoked: one answer per
  // credential) when it does not; FailedPrecondition when not pending;
  // AlreadyExists (the record left pending) when another attester of the
  // same EK, or another record of the same AK, became active meanwhile.
  virtual absl::Status ActivateAttester(absl::string_view id, absl::string_view credential_sha256,
                                        int64_t now) = 0;
  // Any state -> revoked (revoking twice is OK and keeps the first time).
  virtual absl::Status RevokeAttester(absl::string_view id, int64_t now) = 0;
  virtual absl::StatusOr<AttesterRecord> GetAttester(absl::string_view id) = 0;
  // The attester whose AK has this TPM name (hex): the record that was once
  // activated if there is one, otherwise the newest.
  virtual absl::StatusOr<AttesterRecord> FindAttesterByAkName(absl::string_view ak_name) = 0;
  // Raises the recorded counters; never lowers them (a concurrent, older
  // attestation that finishes later leaves the newer counters in place).
  virtual absl::Status RecordCounters(absl::string_view attester_id,
                                      const TpmCounters& counters) = 0;

  // --- Nonces: single use, with an expiry.
  virtual absl::Status AddNonce(absl::string_view nonce, int64_t expires_at) = 0;
  // Atomically marks `nonce` used, exactly once across all callers:
  // PermissionDenied "never issued" / "expired" / "already used" otherwise.
  virtual absl::Status ConsumeNonce(absl::string_view nonce, int64_t now) = 0;
  // Whether `nonce` could be consumed at `now`, changing nothing: its expiry
  // (unix seconds), or PermissionDenied naming why not, as ConsumeNonce would.
  virtual absl::StatusOr<int64_t> CheckNonce(absl::string_view nonce, int64_t now) = 0;
  // Outstanding (issued, unused, unexpired) nonces, for /metrics and limits.
  virtual absl::StatusOr<int64_t> CountNonces(int64_t now) = 0;
  // Forgets nonces that expired before `now` (used ones too).
  virtual absl::Status PurgeNonces(int64_t now) = 0;

  // --- Policies: every version kept.
  // Stores a new version of `id` (1 for a new id) and returns it.
  virtual absl::StatusOr<PolicyRecord> PutPolicy(absl::string_view id, absl::string_view text,
                                                 int64_t now) = 0;
  // The latest version, or `version` when given.
  virtual absl::StatusOr<PolicyRecord> GetPolicy(absl::string_view id,
                                                 std::optional<int64_t> version = {}) = 0;

  // --- Secrets.
  virtual absl::Status PutSecret(const SecretRecord& record) = 0;
  virtual absl::StatusOr<SecretRecord> GetSecret(absl::string_view name) = 0;

  // --- Results.
  virtual absl::Status PutResult(const ResultRecord& record) = 0;
  virtual absl::StatusOr<ResultRecord> GetResult(absl::string_view id) = 0;
  // In one transaction: consumes commit.nonce (PermissionDenied as
  // ConsumeNonce, and nothing written, when it cannot be), raises the
  // attester's counters (as RecordCounters), stores the result (as
  // PutResult) and, with commit.audit, stores its blobs (as PutBlob) and
  // appends its leaf to the audit log. All of it or nothing. The leaf must
  // be a valid AuditLeaf naming commit.result's id (InvalidArgument);
  // without a log signer FailedPrecondition. The leaf gets the next index
  // and the log's checkpoint of the transaction's new size is signed and
  // stored with it, so on OK `receipt` (may be null) names a durable leaf
  // and a checkpoint that includes it.
  virtual absl::Status CommitAttestation(const AttestationCommit& commit,
                                         AuditReceipt* receipt) = 0;

  // --- Tenants of the audit archive. Keys are made and sealed by the caller.
  // Creates the tenant with `sealed_key` when it does not exist and returns
  // the stored record: an existing tenant keeps its own key (the caller uses
  // the one returned). FailedPrecondition "shredded" for a shredded tenant:
  // its id never gets a key again.
  virtual absl::StatusOr<TenantRecord> EnsureTenant(absl::string_view id,
                                                    absl::string_view sealed_key, int64_t now) = 0;
  virtual absl::StatusOr<TenantRecord> GetTenant(absl::string_view id) = 0;
  // Crypto-shreds the tenant, in one transaction: forgets its sealed key,
  // deletes the ciphertext of every blob of it, and empties the body of every
  // result whose attester belongs to it (a result naming no attester belongs
  // to tenant "default"); such a result answers 410 Gone from then on. The
  // archive's leaves, tree nodes and checkpoints are never touched: they hold
  // only digests and pseudonymous ids, so every proof still verifies.
  // Shredding twice is OK and keeps the first time; a tenant never seen is
  // recorded as shredded (its id then never gets a key).
  virtual absl::Status ShredTenant(absl::string_view id, int64_t now) = 0;

  // --- Sealed blobs.
  // Stores a blob. Storing an address that is already stored is OK and keeps
  // the stored ciphertext (the address names the content), extending its
  // expiry to the later of the two; an expired one gets the new ciphertext.
  // NotFound for an unknown tenant, FailedPrecondition for a shredded one.
  virtual absl::Status PutBlob(const BlobRecord& record) = 0;
  // NotFound when never stored; FailedPrecondition "shredded" or "expired"
  // when its ciphertext is gone.
  virtual absl::StatusOr<BlobRecord> GetBlob(absl::string_view tenant, absl::string_view sha256,
                                             BlobKind kind) = 0;
  // Deletes the ciphertext of every blob whose expires_at <= now (the
  // address stays, so GetBlob says "expired"); returns how many.
  virtual absl::StatusOr<int64_t> ExpireBlobs(int64_t now) = 0;

  // --- The audit log (RFC 9162 Merkle tree, docs/formats/archive.md). Only
  // committed state is read: every size up to the log's current size has
  // all its nodes, and the latest checkpoint is of the current size.
  // NotFound when the log has no checkpoint yet (no signer ever opened it).
  virtual absl::StatusOr<SignedCheckpoint> LatestCheckpoint() = 0;
  // NotFound when no checkpoint of `size` was ever signed.
  virtual absl::StatusOr<SignedCheckpoint> CheckpointOfSize(uint64_t size) = 0;
  // The data of leaves [start, start + count), count 1..1024
  // (InvalidArgument); NotFound when the log has fewer leaves.
  virtual absl::StatusOr<std::vector<std::string>> AuditLeaves(uint64_t start, uint64_t count) = 0;
  // The index of the leaf of result `result_id`; NotFound when none.
  virtual absl::StatusOr<uint64_t> AuditLeafOfResult(absl::string_view result_id) = 0;
  // [first, end): the smallest index range holding every leaf appended with
  // from <= time < to (a leaf's time is its `time` line); {0, 0} when none.
  // Times follow commit order only roughly, so the range may hold a few
  // leaves of neighbouring times too.
  virtual absl::StatusOr<std::pair<uint64_t, uint64_t>> AuditRangeByTime(int64_t from,
                                                                         int64_t to) = 0;
  // Proofs (merkle.h) in the tree of the first `size` (size2) leaves;
  // NotFound beyond the log's current size.
  virtual absl::StatusOr<std::vector<MerkleHash>> AuditInclusionProof(uint64_t index,
                                                                      uint64_t size) = 0;
  virtual absl::StatusOr<std::vector<MerkleHash>> AuditConsistencyProof(uint64_t size1,
                                                                        uint64_t size2) = 0;
  // A C2SP tlog-tiles resource of the tree of `tree_size` leaves: a hash
  // tile (the concatenated 32-byte node hashes) or an entry bundle (per
  // leaf, its length as a big-endian uint16, then its bytes). NotFound when
  // that tree has no such tile of that width or is beyond the log.
  virtual absl::StatusOr<std::string> AuditTile(const TileRef& tile, uint64_t tree_size) = 0;
  // Stores a cosignature line (verified by the caller; with or without its
  // final '\n') for the checkpoint of `size`, served after the log's
  // signature from then on. Idempotent. NotFound when no checkpoint of that
  // size was signed, InvalidArgument for a malformed line.
  virtual absl::Status AddCosignature(uint64_t size, absl::string_view signature_line) = 0;
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_STORE_H_
