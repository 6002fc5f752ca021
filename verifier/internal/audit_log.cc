#include "verifier/internal/audit_log.h"

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "verifier/audit/checkpoint.h"

namespace fdattest::internal {

namespace {
// A result body (8 MiB) and the sealing's overhead, as PutBlob allows.
constexpr size_t kMaxSealedBlobBytes = size_t{9} << 20;
}  // namespace

absl::StatusOr<AuditLeaf> CheckAuditCommit(const AttestationCommit& commit) {
  if (!commit.audit) return absl::InternalError("no audit append to check");
  absl::StatusOr<AuditLeaf> leaf = AuditLeaf::Parse(commit.audit->leaf);
  if (!leaf.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the audit leaf is malformed: ", leaf.status().message()));
  }
  if (leaf->result_id != commit.result.id) {
    return absl::InvalidArgumentError(absl::StrCat("the audit leaf names result ", leaf->result_id,
                                                   ", not the committed ", commit.result.id));
  }
  for (const BlobRecord& blob : commit.audit->blobs) {
    RETURN_IF_ERROR(CheckTenantId(blob.tenant));
    if (blob.sha256.size() != 64 || !IsLowerHex(blob.sha256)) {
      return absl::InvalidArgumentError("a blob's sha256 must be 64 lowercase hex digits");
    }
    if (blob.sealed.empty() || blob.sealed.size() > kMaxSealedBlobBytes) {
      return absl::InvalidArgumentError("a sealed blob must be 1 byte..9 MiB");
    }
  }
  return *std::move(leaf);
}

absl::StatusOr<std::string> SignCheckpoint(const NoteSigner& signer, uint64_t size,
                                           const MerkleHash& root) {
  Checkpoint checkpoint;
  checkpoint.origin = signer.name();
  checkpoint.size = size;
  checkpoint.root.assign(reinterpret_cast<const char*>(root.data()), root.size());
  return SignNote(checkpoint.Text(), {&signer});
}

std::string EntryBundle(const std::vector<std::string>& leaves) {
  std::string out;
  for (const std::string& leaf : leaves) {
    out.push_back(static_cast<char>((leaf.size() >> 8) & 0xff));
    out.push_back(static_cast<char>(leaf.size() & 0xff));
    out += leaf;
  }
  return out;
}

absl::StatusOr<std::string> NormalizeCosignatureLine(absl::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.find('\n') != absl::string_view::npos) {
    return absl::InvalidArgumentError("a cosignature is one signature line");
  }
  RETURN_IF_ERROR(ParseNoteSignatureLine(line).status());
  return absl::StrCat(line, "\n");
}

absl::Status CheckLeafRange(uint64_t start, uint64_t count) {
  if (count < 1 || count > kMaxAuditLeavesPerRead || start + count < start) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaves are read 1..", kMaxAuditLeavesPerRead, " at a time"));
  }
  return absl::OkStatus();
}

}  // namespace fdattest::internal
