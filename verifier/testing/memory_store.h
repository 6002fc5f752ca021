// An in-memory Store (verifier/store.h) for the service's handler tests: the
// store contract's semantics and error codes, without durability (nothing
// survives the object). Thread-safe: one mutex around every method, so each
// method is atomic as the contract requires. Test-only; never linked into
// fdverifierd.
//
// Where verifier/store.h leaves a choice, this store makes the safe one:
// - "AK already enrolled" means a record with that ak_name that was ever
//   activated (active now, or revoked after activation). A pending record,
//   or one that died pending (a wrong activation answer), blocks no one:
//   anyone can create one without the TPM, so letting it block would let a
//   stranger lock an AK out of enrollment. An AK revoked after activation
//   stays out for good.
// - ActivateAttester refuses with AlreadyExists (and leaves the record
//   pending) when another attester of the same EK became active meanwhile,
//   so two enrollments started together cannot both end active.
// - FindAttesterByAkName returns the record that blocks the name if there
//   is one, otherwise the newest record with that name.
#ifndef FDATTEST_VERIFIER_TESTING_MEMORY_STORE_H_
#define FDATTEST_VERIFIER_TESTING_MEMORY_STORE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/audit/merkle.h"
#include "verifier/audit/signed_note.h"
#include "verifier/store.h"

namespace fdattest {

class MemoryStore : public Store {
 public:
  MemoryStore() = default;

  // When set, every method fails with this status (as a broken database
  // would) until cleared.
  void InjectError(absl::Status status);
  // The audit log's signer (origin = its name), as SqliteStore::Options::
  // log_signer: signs the log's current size when it has no checkpoint yet.
  // `signer` must outlive the store. Without one, a commit with an audit
  // append fails (FailedPrecondition). Every commit that appends signs one
  // checkpoint (this store has no batches).
  absl::Status SetLogSigner(const NoteSigner* signer);

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
  absl::Status CommitAttestation(const AttestationCommit& commit, AuditReceipt* receipt) override;
  absl::StatusOr<ResultRecord> GetResult(absl::string_view id) override;

  absl::StatusOr<TenantRecord> EnsureTenant(absl::string_view id, absl::string_view sealed_key,
                                            int64_t now) override;
  absl::StatusOr<TenantRecord> GetTenant(absl::string_view id) override;
  absl::Status ShredTenant(absl::string_view id, int64_t now) override;
  absl::Status PutBlob(const BlobRecord& record) override;
  absl::StatusOr<BlobRecord> GetBlob(absl::string_view tenant, absl::string_view sha256,
                                     BlobKind kind) override;
  absl::StatusOr<int64_t> ExpireBlobs(int64_t now) override;

  // The audit log: memory_store_log.cc.
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

 private:
  struct Nonce {
    int64_t expires_at = 0;
    bool used = false;
  };

  // The attester that blocks `ak_name` from enrolling again, if any.
  const AttesterRecord* BlockingAkLocked(absl::string_view ak_name) const;
  const AttesterRecord* ActiveForEkLocked(absl::string_view ek_sha256,
                                          absl::string_view except_id) const;
  // PutBlob's checks (OK: the blob can be stored) and its change.
  absl::Status CheckBlobLocked(const BlobRecord& record) const;
  void StoreBlobLocked(const BlobRecord& record);
  // Appends a checked leaf; its index and the signed checkpoint in *receipt.
  absl::Status AppendLeafLocked(const AuditAppend& append, const std::string& result_id,
                                int64_t time, AuditReceipt* receipt);
  absl::StatusOr<SignedCheckpoint> CheckpointLocked(uint64_t size) const;

  std::mutex mu_;
  absl::Status injected_;
  // Insertion order kept (ids are random): "newest" is the last added.
  std::vector<AttesterRecord> attesters_;
  std::map<std::string, Nonce, std::less<>> nonces_;
  std::map<std::string, std::vector<PolicyRecord>, std::less<>> policies_;
  std::map<std::string, SecretRecord, std::less<>> secrets_;
  std::map<std::string, ResultRecord, std::less<>> results_;
  std::map<std::string, TenantRecord, std::less<>> tenants_;
  // By (tenant, sha256, kind); `sealed` empty once expired or shredded.
  std::map<std::tuple<std::string, std::string, BlobKind>, BlobRecord> blobs_;

  // The audit log.
  struct Leaf {
    std::string data;
    std::string result_id;
    int64_t time = 0;
  };
  const NoteSigner* signer_ = nullptr;
  std::vector<Leaf> leaves_;
  std::map<std::pair<int, uint64_t>, MerkleHash> nodes_;  // (level, index): complete subtrees
  MerkleAppender appender_;
  std::map<uint64_t, std::string> checkpoints_;                   // size -> signed note
  std::map<uint64_t, std::set<std::string>> cosignatures_;        // size -> lines
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_TESTING_MEMORY_STORE_H_
