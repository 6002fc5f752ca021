// Evidence for one attested launch (docs/formats/evidence.md): the qualifying
// data that binds a verifier's nonce to the manifest, and the bundle fdlaunch
// writes with --evidence-out (canonical JSON). BuildEvidence is a pure
// function (thread-safe); CollectEvidence talks to the attestor through the
// caller's client.
#ifndef FDATTEST_LAUNCHER_COLLECT_EVIDENCE_H_
#define FDATTEST_LAUNCHER_COLLECT_EVIDENCE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/evidence.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/status.h"
#include "launcher/attestor_client.h"

namespace fdattest {

struct EvidenceParts {
  std::string nonce;      // raw bytes, 1..64
  std::string manifest;   // the exact canonical manifest bytes that were measured
  std::string launch_id;  // the manifest's launch_id
  AttestorCertification certification;
  Json event_log;  // records as AttestorClient::Log served them
  AttestorInfo info;
};

// Checks that the parts agree and serialises the bundle. The served log is
// cut after the first record whose replay (from 32 zero bytes) gives the
// certified register value: records another launcher measured between
// certify and log are not covered by the signature and would only make the
// bundle disagree with itself. The kept records must name the attestor's
// register and hold this launch's launch_manifest (digest = the manifest's
// sha256) and then its launch_separator, in full. Errors say "attestor: ...".
absl::StatusOr<std::string> BuildEvidence(const EvidenceParts& parts);

// Step 9 of the launch: certify the qualifying data for `nonce` and the
// manifest, fetch the launch's log and the attestor's description, and build
// the bundle.
absl::StatusOr<std::string> CollectEvidence(AttestorClient& client, absl::string_view nonce,
                                            absl::string_view launch_id,
                                            absl::string_view manifest);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_COLLECT_EVIDENCE_H_
