// The evidence bundle of one attested launch (docs/formats/evidence.md), the
// one codec for it: fdlaunch writes a bundle with Serialize(), a verifier
// reads it with Parse() — every field decoded and bounded, the event log
// parsed record by record (not yet replayed), the manifest kept as its exact
// bytes. Parse() checks shape and self-consistency only — nothing here is
// trusted until the verifier's pipeline has checked it against the TPM's
// signature. Immutable value; thread-compatible.
#ifndef FDATTEST_COMMON_EVIDENCE_H_
#define FDATTEST_COMMON_EVIDENCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/cel.h"
#include "common/sha256.h"
#include "common/status.h"

namespace fdattest {

inline constexpr int kEvidenceVersion = 1;
// Domain separation for the qualifying data (no length prefix is needed: the
// label is fixed and the manifest digest is the last 32 bytes).
inline constexpr absl::string_view kQualifyingDataLabel = "fdattest/v1";
inline constexpr size_t kMaxNonceBytes = 64;
inline constexpr size_t kDefaultNonceBytes = 32;
// Bounds on hostile input: a bundle is a few tens of KiB (the manifest holds
// the filter); the served log is the current epoch's records.
inline constexpr size_t kMaxEvidenceBytes = 4 << 20;
inline constexpr size_t kMaxEvidenceLogRecords = 100000;

// SHA-256("fdattest/v1" || nonce || manifest_sha256): the bundle's
// qualifying_data, which the TPM puts in TPMS_ATTEST.extraData.
Sha256Digest EvidenceQualifyingData(absl::string_view nonce, const Sha256Digest& manifest_sha256);

struct Evidence {
  std::string nonce;  // raw bytes, 1..64
  Sha256Digest qualifying_data{};
  std::string manifest;  // the exact bytes that were measured
  Sha256Digest manifest_sha256{};
  std::string launch_id;
  std::string attest;             // TPMS_ATTEST bytes
  std::string signature;          // marshalled TPMT_SIGNATURE
  std::string ak_public;          // marshalled TPM2B_PUBLIC
  std::string ak_qualified_name;  // raw bytes (34)
  std::string ek_certificate;     // DER
  Register reg;
  Sha256Digest register_value{};
  std::vector<CelRecord> event_log;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;

  // Strict: canonical JSON of version 1 only, every key present with its type,
  // unknown keys, duplicate keys and oversized fields refused
  // (InvalidArgument naming the key). Self-consistency checked here:
  // manifest_sha256 is the manifest's digest, qualifying_data is the one the
  // nonce and manifest define, every log record names `register`.
  static absl::StatusOr<Evidence> Parse(absl::string_view text);
  // The canonical JSON of this bundle, the one spelling Parse() accepts:
  // Parse(Serialize(e)) == e for every e that Parse() returns, and
  // Serialize(Parse(text)) == text. Writes the fields as they are; the writer
  // checks that they agree (launcher/collect_evidence.h).
  absl::StatusOr<std::string> Serialize() const;

  friend bool operator==(const Evidence&, const Evidence&) = default;
};

}  // namespace fdattest

#endif  // FDATTEST_COMMON_EVIDENCE_H_
