// An audit bundle: the directory `fdattest audit export` writes and
// `fdattest audit verify` reads (verifier/audit/bundle_verify.h), held in
// memory. Layout, byte for byte: docs/formats/archive.md, "Bundle". Read is
// strict and safe on a hostile directory: it opens every file under its
// directory's descriptor (openat, O_NOFOLLOW), follows no symbolic link,
// refuses anything but regular files and the layout's directories, refuses
// unknown names (naming them) and files over their size limit. It checks the
// names, not the contents: that is VerifyAuditBundle's work. A plain value;
// thread-compatible.
#ifndef FDATTEST_VERIFIER_AUDIT_BUNDLE_H_
#define FDATTEST_VERIFIER_AUDIT_BUNDLE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"
#include "verifier/audit/merkle.h"

namespace fdattest {

// The content of BUNDLE/format.
inline constexpr absl::string_view kAuditBundleFormat = "fdattest-audit-bundle/v1\n";

// The largest file Read accepts (a blob's plaintext is at most 1 MiB; a note
// at most kMaxNoteBytes), and the most entries and checkpoints.
inline constexpr size_t kMaxBundleFileBytes = (1 << 20) + 4096;
inline constexpr size_t kMaxBundleEntries = 1 << 20;

// One decision of the log. A blob absent from the bundle (shredded or
// expired) is nullopt, and `gone` says which and why.
struct AuditBundleEntry {
  std::string leaf;   // entries/<index>/leaf
  std::string proof;  // entries/<index>/proof (FormatMerkleProof)
  std::optional<std::string> evidence;  // evidence.json
  std::optional<std::string> result;    // result.json
  std::optional<std::string> decision;  // decision.json
  std::optional<std::string> gone;      // the `gone` file (FormatGoneBlobs)

  bool operator==(const AuditBundleEntry&) const = default;
};

struct AuditBundle {
  std::string checkpoint;  // the signed checkpoint note of size N
  std::string log_vkey;    // log.vkey: the log's verifier key and "\n"
  std::string jwks;        // jwks.json
  std::map<std::string, std::string> tpm_cas;    // tpm-ca/<sha256>.pem: sha256 hex -> PEM
  std::map<std::string, std::string> policies;   // policies/<sha256>.json: sha256 hex -> text
  std::map<std::string, std::string> attesters;  // attesters/<id>.json: id -> record
  std::map<uint64_t, AuditBundleEntry> entries;  // entries/<index>/
  std::map<uint64_t, std::string> checkpoints;   // checkpoints/<size>: older signed checkpoints
  std::map<uint64_t, std::string> consistency;   // consistency/<size>: proof size -> N

  // Creates `dir` (0755; an existing empty directory is used, anything else
  // at that path is refused: FailedPrecondition) and writes the layout:
  // directories 0755, files 0644, every file created exclusively. Refuses
  // (InvalidArgument) a map key that is not a valid name.
  absl::Status Write(const std::string& dir) const;
  // Reads `dir` strictly (see the file comment). InvalidArgument naming the
  // offending path relative to the bundle ("entries/7/extra: unknown file").
  static absl::StatusOr<AuditBundle> Read(const std::string& dir);

  bool operator==(const AuditBundle&) const = default;
};

// A proof file: one standard-base64 hash per line, each line ending in "\n".
std::string FormatMerkleProof(const std::vector<MerkleHash>& proof);
// Strict inverse: canonical base64 of exactly 32 bytes per line, nothing
// else. The hashes as raw 32-byte strings (VerifyMerkleInclusion's input).
absl::StatusOr<std::vector<std::string>> ParseMerkleProof(absl::string_view text);

// The `gone` file: one line per absent blob, "<kind> <why>\n", kinds in the
// order evidence, result, decision; why is "shredded" or "expired".
struct GoneBlob {
  std::string kind;  // evidence, result or decision
  std::string why;   // shredded or expired
  bool operator==(const GoneBlob&) const = default;
};
std::string FormatGoneBlobs(const std::vector<GoneBlob>& gone);
absl::StatusOr<std::vector<GoneBlob>> ParseGoneBlobs(absl::string_view text);

// Whether `s` is a bundle's decimal name: no sign, no leading zero ("0"
// itself allowed), fits in 64 bits.
std::optional<uint64_t> ParseBundleNumber(absl::string_view s);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_BUNDLE_H_
