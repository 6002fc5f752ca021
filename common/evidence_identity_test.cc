// EvidenceIdentity names what a bundle attests, not how it is encoded: the
// known-answer test rebuilds the encoding of docs/formats/evidence.md
// ("Identity") byte for byte, independently of the implementation; the others
// show which changes keep the identity (encodings a third party controls)
// and which change it (anything the TPM signed or a verdict reads).
#include "common/evidence_identity.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/cel.h"
#include "common/evidence.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr char kLaunchId[] = "0123456789abcdef0123456789abcdef";
constexpr char kOtherLaunchId[] = "fedcba9876543210fedcba9876543210";

Sha256Digest DigestOf(absl::string_view text) { return Sha256(text); }

// A bundle as Evidence::Parse would return it: an epoch record, another
// launch's manifest record (redacted), this launch's manifest and separator.
Evidence SampleEvidence() {
  Evidence e;
  e.nonce = std::string(32, 'n');
  e.manifest = "{\"launch_id\":\"0123456789abcdef0123456789abcdef\"}";
  e.manifest_sha256 = DigestOf(e.manifest);
  e.qualifying_data = EvidenceQualifyingData(e.nonce, e.manifest_sha256);
  e.launch_id = kLaunchId;
  e.attest = std::string("\xff\x54\x43\x47\x80\x14", 6) + std::string(120, 'a');
  e.signature = std::string("\x00\x18\x00\x0b", 4) + std::string(68, 's');
  e.ak_public = std::string(90, 'k');
  e.ak_qualified_name = std::string("\x00\x0b", 2) + std::string(32, 'q');
  e.ek_certificate = std::string(700, 'c');
  e.reg = *Register::NvIndex(0x01500020);
  e.reset_count = 7;
  e.restart_count = 1;
  e.event_log.push_back(CelRecord::Make(40, e.reg, CelContent::Epoch(7, 0)));
  e.event_log.push_back(
      CelRecord::Make(41, e.reg, *CelContent::LaunchManifestDigest(kOtherLaunchId,
                                                                  DigestOf("other manifest")))
          .Redacted());
  e.event_log.push_back(
      CelRecord::Make(42, e.reg, *CelContent::LaunchManifestDigest(kLaunchId, e.manifest_sha256)));
  e.event_log.push_back(CelRecord::Make(43, e.reg, *CelContent::LaunchSeparator(kLaunchId)));
  return e;
}

std::string U32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string Raw(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

TEST(EvidenceIdentityTest, IsTheSha256OfTheDocumentedEncoding) {
  const Evidence e = SampleEvidence();
  std::string enc = "fdattest/evidence-identity/v1";
  ASSERT_EQ(enc.size(), 29u);
  enc += U32(126) + e.attest;
  enc += U32(32) + e.nonce;
  enc += Raw(e.manifest_sha256);
  enc += U32(90) + e.ak_public;
  enc += U32(34) + e.ak_qualified_name;
  enc += std::string("\x01", 1) + U32(0x01500020);  // NV index 0x01500020
  enc += U32(4);
  enc += std::string("\x01", 1) + Raw(e.event_log[0].digest);  // the epoch record
  enc += std::string("\x00", 1) + Raw(DigestOf("other manifest"));
  enc += std::string("\x02", 1) + Raw(e.manifest_sha256);  // this launch's manifest
  enc += std::string("\x03", 1) + Raw(e.event_log[3].digest);  // and its separator
  EXPECT_EQ(HexEncode(EvidenceIdentity(e)), HexEncode(Sha256(enc)));

  Evidence pcr = e;
  pcr.reg = *Register::Pcr(15);
  std::string pcr_enc = enc;
  pcr_enc.replace(29 + 4 + 126 + 4 + 32 + 32 + 4 + 90 + 4 + 34, 5,
                  std::string("\x02", 1) + U32(15));
  EXPECT_EQ(HexEncode(EvidenceIdentity(pcr)), HexEncode(Sha256(pcr_enc)));
}

// What a third party can change without the TPM's key.
TEST(EvidenceIdentityTest, IgnoresWhatTheSignatureAndTheVerdictDoNotDependOn) {
  const Sha256Digest base = EvidenceIdentity(SampleEvidence());
  const std::vector<std::pair<const char*, std::function<void(Evidence&)>>> same = {
      {"another signature", [](Evidence& e) { e.signature[10] ^= 0x01; }},
      {"record numbers shifted",
       [](Evidence& e) {
         for (CelRecord& r : e.event_log) r.recnum += 1000;
       }},
      {"another launch's record served in full",
       [](Evidence& e) {
         e.event_log[1] = CelRecord::Make(
             41, e.reg,
             *CelContent::LaunchManifestDigest(kOtherLaunchId, DigestOf("other manifest")));
       }},
      {"another EK certificate encoding", [](Evidence& e) { e.ek_certificate += "x"; }},
  };
  for (const auto& [name, edit] : same) {
    Evidence e = SampleEvidence();
    edit(e);
    EXPECT_EQ(HexEncode(EvidenceIdentity(e)), HexEncode(base)) << name;
  }
}

TEST(EvidenceIdentityTest, ChangesWithWhatTheTpmSignedOrTheVerdictReads) {
  const Sha256Digest base = EvidenceIdentity(SampleEvidence());
  const std::vector<std::pair<const char*, std::function<void(Evidence&)>>> different = {
      {"attest", [](Evidence& e) { e.attest[50] ^= 0x01; }},
      {"nonce", [](Evidence& e) { e.nonce[0] ^= 0x01; }},
      {"manifest digest", [](Evidence& e) { e.manifest_sha256[0] ^= 0x01; }},
      {"AK public area", [](Evidence& e) { e.ak_public[5] ^= 0x01; }},
      {"AK qualified name", [](Evidence& e) { e.ak_qualified_name[5] ^= 0x01; }},
      {"register", [](Evidence& e) { e.reg = *Register::NvIndex(0x01500021); }},
      {"register kind", [](Evidence& e) { e.reg = *Register::Pcr(0); }},
      {"a record's digest", [](Evidence& e) { e.event_log[1].digest[0] ^= 0x01; }},
      {"a record dropped", [](Evidence& e) { e.event_log.pop_back(); }},
      {"records reordered", [](Evidence& e) { std::swap(e.event_log[1], e.event_log[2]); }},
      {"this launch's separator redacted",
       [](Evidence& e) { e.event_log[3] = e.event_log[3].Redacted(); }},
      {"the bundle names another launch", [](Evidence& e) { e.launch_id = kOtherLaunchId; }},
      // The length prefixes: a byte moved from one field to the next.
      {"field boundary moved",
       [](Evidence& e) {
         e.nonce = e.attest.back() + e.nonce;
         e.attest.pop_back();
       }},
  };
  for (const auto& [name, edit] : different) {
    Evidence e = SampleEvidence();
    edit(e);
    EXPECT_NE(HexEncode(EvidenceIdentity(e)), HexEncode(base)) << name;
  }
}

}  // namespace
}  // namespace fdattest
