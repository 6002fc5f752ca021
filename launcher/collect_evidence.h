// Step 9 of an attested launch: the evidence bundle fdlaunch writes with
// --evidence-out (docs/formats/evidence.md). The served parts are replayed and
// checked here, and the bundle is an Evidence value written with
// Evidence::Serialize (common/evidence.h). BuildEvidence is a pure function
// (thread-safe); CollectEvidence talks to the attestor through the caller's
// client.
#ifndef FDATTEST_LAUNCHER_COLLECT_EVIDENCE_H_
#define FDATTEST_LAUNCHER_COLLECT_EVIDENCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/attestor_api.h"
#include "common/cel.h"
#include "common/evidence.h"
#include "common/status.h"
#include "launcher/attestor_client.h"

namespace fdattest {

struct EvidenceParts {
  std::string nonce;      // raw bytes, 1..64
  std::string manifest;   // the exact canonical manifest bytes that were measured
  std::string launch_id;  // the manifest's launch_id
  CertifyResponse certification;
  std::vector<CelRecord> event_log;  // records as AttestorClient::Log served them
  InfoResponse info;
  // A re-attestation's bundle: the record number of the alive observation
  // the attestor measured for `nonce` (AttestorClient::Reattest). Absent for
  // a launch's own bundle, whose load observation is bound to `nonce`.
  std::optional<uint64_t> alive_recnum;
};

// Checks that the parts agree and serialises the bundle. The served log is
// replayed by the log's rules (CelReplay) and cut after the first record that
// brings the register to the certified value: records another launcher
// measured between certify and log are not covered by the signature and would
// only make the bundle disagree with itself. The kept records must name the
// attestor's register and hold this launch's records in full, in the order
// the log's rules allow: its launch_manifest (digest = the manifest's
// sha256), exactly one load launch_observation, its launch_separator, then
// any alive observations. A launch's bundle needs its load observation bound
// to the nonce; a re-attestation's (alive_recnum) needs that alive record,
// bound to the nonce, among the kept records. The attestor must serve an EK
// certificate. Errors say "attestor: ...".
absl::StatusOr<std::string> BuildEvidence(const EvidenceParts& parts);

// Certifies the qualifying data for `nonce` and the manifest, fetches the
// launch's log and the attestor's description, and builds the bundle.
absl::StatusOr<std::string> CollectEvidence(AttestorClient& client, absl::string_view nonce,
                                            absl::string_view launch_id,
                                            absl::string_view manifest,
                                            std::optional<uint64_t> alive_recnum = std::nullopt);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_COLLECT_EVIDENCE_H_
