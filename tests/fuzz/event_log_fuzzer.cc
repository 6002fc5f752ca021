// libFuzzer target for the event log as a verifier reads it (common/cel.h):
// each line through ParseJsonStrict and CelRecord::FromJson, the accepted
// records through one CelReplay, as ReplayEventLog does with a served log.
// Property checks (abort on failure):
//   - an accepted record re-serialises (ToLine) to a line that parses back
//     to the same line: records round-trip;
//   - an accepted line that was already canonical JSON is exactly ToLine():
//     one spelling per record, nothing the parser accepts is dropped;
//   - a record with content carries the digest its content defines.
//
// Input: one flag byte (bit 0: allow_redacted, as for a served log; bit 1:
// replay from recnum 0, as for a whole log file, rather than from the first
// accepted record's recnum), then the log, one JSON record per line.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/str_split.h"
#include "common/cel.h"
#include "common/json.h"

namespace {

[[noreturn]] void Fail(const char* property, absl::string_view line, absl::string_view got) {
  fprintf(stderr, "event_log_fuzzer: %s\n  line: %.*s\n  got:  %.*s\n", property,
          static_cast<int>(line.size()), line.data(), static_cast<int>(got.size()), got.data());
  abort();
}

// A log far longer than a served epoch adds nothing but time.
constexpr size_t kMaxLines = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fdattest;
  if (size == 0) return 0;
  const bool allow_redacted = data[0] & 1;
  const bool from_zero = data[0] & 2;
  const absl::string_view log(reinterpret_cast<const char*>(data + 1), size - 1);

  std::optional<CelReplay> replay;
  size_t lines = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (++lines > kMaxLines) break;
    absl::StatusOr<JsonDocument> doc = ParseJsonDocument(line);
    if (!doc.ok()) continue;
    absl::StatusOr<CelRecord> record = CelRecord::FromJson(doc->root(), allow_redacted);
    if (!record.ok()) continue;

    if (!record->redacted() && !DigestEqual(record->content->Digest(), record->digest)) {
      Fail("accepted a record whose digest is not its content's", line, HexEncode(record->digest));
    }
    const std::string out = record->ToLine();
    absl::StatusOr<JsonDocument> again_doc = ParseJsonDocument(out);
    if (!again_doc.ok() || !again_doc->canonical()) Fail("ToLine() is not canonical JSON", line, out);
    absl::StatusOr<CelRecord> again = CelRecord::FromJson(again_doc->root(), allow_redacted);
    if (!again.ok()) Fail("ToLine() does not parse back", line, again.status().message());
    if (again->ToLine() != out) Fail("ToLine() does not round-trip", out, again->ToLine());
    if (again->recnum != record->recnum || !(again->reg == record->reg) ||
        !DigestEqual(again->digest, record->digest) || again->redacted() != record->redacted()) {
      Fail("the re-parsed record differs", line, out);
    }
    if (doc->canonical() && out != line) {
      Fail("a canonical line is not its record's ToLine()", line, out);
    }

    if (!replay) replay.emplace(record->reg, from_zero ? 0 : record->recnum);
    const uint64_t next = replay->next_recnum();
    const Sha256Digest before = replay->value();
    const absl::Status checked = replay->Check(*record);
    const absl::Status applied = replay->Apply(*record);
    if (checked.ok() != applied.ok())
      Fail("Check() and Apply() disagree", line, applied.ToString());
    if (applied.ok()) {
      if (replay->next_recnum() != next + 1) Fail("Apply() did not advance", line, out);
      if (!replay->epoch().has_value()) Fail("a record applied outside an epoch", line, out);
    } else if (replay->next_recnum() != next || !DigestEqual(replay->value(), before)) {
      Fail("a refused record changed the replay", line, applied.ToString());
    }
  }
  return 0;
}
