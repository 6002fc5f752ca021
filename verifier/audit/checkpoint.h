// A transparency log checkpoint (C2SP tlog-checkpoint): the note text naming
// a log (origin), its size and its Merkle root, signed as a note
// (signed_note.h). The byte format is in docs/formats/archive.md ("Checkpoint").
// A plain value; thread-compatible.
#ifndef FDATTEST_VERIFIER_AUDIT_CHECKPOINT_H_
#define FDATTEST_VERIFIER_AUDIT_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  std::string root;  // 32 bytes: the RFC 9162 root of the first `size` leaves
  std::vector<std::string> extensions;  // optional, each non-empty

  // "<origin>\n<size>\n<base64(root)>\n" then "<extension>\n" for each.
  std::string Text() const;
  // Strict inverse of Text(): at least three lines, each ending in '\n'; a
  // non-empty origin; a decimal size without leading zeros ("0" when
  // empty) that fits in 64 bits; the canonical base64 of exactly 32 bytes;
  // non-empty extension lines; a valid note text (UTF-8, no control
  // characters). InvalidArgument saying which rule failed.
  static absl::StatusOr<Checkpoint> Parse(absl::string_view text);
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_CHECKPOINT_H_
