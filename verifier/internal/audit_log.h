// What both stores (verifier/sqlite_store.h, verifier/testing/memory_store.h)
// do the same way for the audit log: checking an AttestationCommit's audit
// append before anything is written, signing a checkpoint, building an entry
// bundle and checking a cosignature line. Stateless functions; thread-safe.
#ifndef FDATTEST_VERIFIER_INTERNAL_AUDIT_LOG_H_
#define FDATTEST_VERIFIER_INTERNAL_AUDIT_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/audit/archive_records.h"
#include "verifier/audit/merkle.h"
#include "verifier/audit/signed_note.h"
#include "verifier/store.h"

namespace fdattest::internal {

// The most leaves one AuditLeaves call (and one entry bundle) returns.
inline constexpr uint64_t kMaxAuditLeavesPerRead = 1024;

// The leaf of commit.audit (which must be set) when the commit may append
// it: the leaf parses (AuditLeaf::Parse) and names commit.result's id, and
// every blob has a valid address and a 1 byte..9 MiB ciphertext.
// InvalidArgument otherwise.
absl::StatusOr<AuditLeaf> CheckAuditCommit(const AttestationCommit& commit);

// The log's signed checkpoint note (docs/formats/archive.md) of the
// tree of `size` leaves with root `root`; the origin is the signer's name.
absl::StatusOr<std::string> SignCheckpoint(const NoteSigner& signer, uint64_t size,
                                           const MerkleHash& root);

// An entry bundle: per leaf, its length as a big-endian uint16, then its
// bytes (leaves are at most kMaxAuditLeafBytes).
std::string EntryBundle(const std::vector<std::string>& leaves);

// A cosignature line as stored and served: well formed
// (ParseNoteSignatureLine), one line, ending in '\n' (added when missing).
absl::StatusOr<std::string> NormalizeCosignatureLine(absl::string_view line);

// InvalidArgument unless 1 <= count <= kMaxAuditLeavesPerRead and
// start + count does not overflow.
absl::Status CheckLeafRange(uint64_t start, uint64_t count);

}  // namespace fdattest::internal

#endif  // FDATTEST_VERIFIER_INTERNAL_AUDIT_LOG_H_
