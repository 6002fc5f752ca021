#include "common/evidence_identity.h"

#include <cstdint>
#include <string>

#include "common/cel.h"

namespace fdattest {
namespace {

// The record roles of the encoding (docs/formats/evidence.md, "Identity").
enum RecordRole : uint8_t {
  kOtherRecord = 0,      // redacted, or another launch's
  kEpochRecord = 1,      // an epoch record in full
  kOwnManifest = 2,      // this launch's launch_manifest in full
  kOwnSeparator = 3,     // this launch's launch_separator in full
  kOwnObservation = 4,   // this launch's launch_observation (load or alive) in full
};

void AppendU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }

void AppendU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) AppendU8(out, static_cast<uint8_t>(v >> shift));
}

void AppendDigest(std::string& out, const Sha256Digest& d) {
  out.append(reinterpret_cast<const char*>(d.data()), d.size());
}

// Every length fits: Evidence::Parse bounds the bundle to 4 MiB.
void AppendSized(std::string& out, absl::string_view bytes) {
  AppendU32(out, static_cast<uint32_t>(bytes.size()));
  out.append(bytes.data(), bytes.size());
}

RecordRole RoleOf(const CelRecord& record, absl::string_view launch_id) {
  if (record.redacted()) return kOtherRecord;
  const CelContent& content = *record.content;
  switch (content.type) {
    case CelContent::Type::kEpoch: return kEpochRecord;
    case CelContent::Type::kLaunchManifest:
      return content.launch_id == launch_id ? kOwnManifest : kOtherRecord;
    case CelContent::Type::kLaunchSeparator:
      return content.launch_id == launch_id ? kOwnSeparator : kOtherRecord;
    case CelContent::Type::kLaunchObservation:
      return content.launch_id == launch_id ? kOwnObservation : kOtherRecord;
  }
  return kOtherRecord;
}

}  // namespace

Sha256Digest EvidenceIdentity(const Evidence& e) {
  std::string enc;
  enc.reserve(kEvidenceIdentityLabel.size() + 4 * 5 + e.attest.size() + e.nonce.size() + 32 +
              e.ak_public.size() + e.ak_qualified_name.size() + 5 + 33 * e.event_log.size());
  enc.append(kEvidenceIdentityLabel.data(), kEvidenceIdentityLabel.size());
  AppendSized(enc, e.attest);
  AppendSized(enc, e.nonce);
  AppendDigest(enc, e.manifest_sha256);
  AppendSized(enc, e.ak_public);
  AppendSized(enc, e.ak_qualified_name);
  AppendU8(enc, e.reg.kind == Register::Kind::kNvIndex ? 1 : 2);
  AppendU32(enc, e.reg.index);
  AppendU32(enc, static_cast<uint32_t>(e.event_log.size()));
  for (const CelRecord& record : e.event_log) {
    AppendU8(enc, RoleOf(record, e.launch_id));
    AppendDigest(enc, record.digest);
  }
  return Sha256(enc);
}

}  // namespace fdattest
