// The identity of an evidence bundle: SHA-256 over a domain-separated,
// canonical encoding of what the TPM signed and what a verdict depends on
// (docs/formats/evidence.md, "Identity"), never over the bundle's bytes, so a
// third party who re-encodes a bundle (another valid ECDSA signature for the
// same attest, record numbers shifted, another launch's record redacted or
// not) does not give it a new identity. The verifier reports it (the EAR's
// evidence_sha256); an archive can key on it. Stateless; thread-safe.
#ifndef FDATTEST_COMMON_EVIDENCE_IDENTITY_H_
#define FDATTEST_COMMON_EVIDENCE_IDENTITY_H_

#include "absl/strings/string_view.h"
#include "common/evidence.h"
#include "common/sha256.h"

namespace fdattest {

// The first bytes of the encoding (29 ASCII bytes, no terminator).
inline constexpr absl::string_view kEvidenceIdentityLabel = "fdattest/evidence-identity/v1";

// SHA-256 of the encoding of `evidence` that docs/formats/evidence.md
// specifies byte for byte. Defined for any bundle that parses; two bundles
// with one identity carry the same signed statement, and a bundle can still be
// refused for how it presents it (the identity says nothing about a verdict).
Sha256Digest EvidenceIdentity(const Evidence& evidence);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_EVIDENCE_IDENTITY_H_
