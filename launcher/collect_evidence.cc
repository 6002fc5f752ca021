#include "launcher/collect_evidence.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

absl::Status Inconsistent(absl::string_view why) {
  return absl::DataLossError(absl::StrCat("attestor: inconsistent evidence: ", why));
}

absl::string_view Bytes(const Sha256Digest& d) {
  return absl::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

// How many of the served records the certified value covers: the shortest
// prefix that replays, by the log's rules, to `certified`.
absl::StatusOr<size_t> CertifiedPrefix(const std::vector<CelRecord>& log, const Register& reg,
                                       const Sha256Digest& certified) {
  if (log.empty())
    return Inconsistent("the served event log does not replay to the certified value");
  // The served log starts with the current epoch's record.
  CelReplay replay(reg, log.front().recnum);
  for (size_t i = 0; i < log.size(); ++i) {
    if (!(log[i].reg == reg)) {
      return Inconsistent(absl::StrCat("record ", i, " names another register"));
    }
    if (absl::Status s = replay.Apply(log[i]); !s.ok()) {
      return Inconsistent(absl::StrCat("the served event log breaks a log rule: ", s.message()));
    }
    if (DigestEqual(replay.value(), certified)) return i + 1;
  }
  return Inconsistent("the served event log does not replay to the certified value");
}

}  // namespace

absl::StatusOr<std::string> BuildEvidence(const EvidenceParts& parts) {
  if (parts.nonce.empty() || parts.nonce.size() > kMaxNonceBytes) {
    return absl::InvalidArgumentError("nonce must be 1..64 bytes");
  }
  Evidence e;
  e.nonce = parts.nonce;
  e.manifest = parts.manifest;
  e.manifest_sha256 = Sha256(parts.manifest);
  e.qualifying_data = EvidenceQualifyingData(e.nonce, e.manifest_sha256);
  e.launch_id = parts.launch_id;
  {
    auto manifest = ParseJsonStrict(parts.manifest);
    if (!manifest.ok() || !manifest->is_object() || !manifest->contains("launch_id") ||
        (*manifest)["launch_id"] != parts.launch_id) {
      return Inconsistent("the manifest's launch_id is not the measured one");
    }
  }
  if (parts.info.ek_certificate.empty()) {
    return absl::FailedPreconditionError(
        "attestor: no EK certificate (the TPM holds none); an evidence bundle needs one");
  }

  e.reg = parts.info.reg;
  e.register_value = parts.certification.register_value;
  ASSIGN_OR_RETURN(const size_t end, CertifiedPrefix(parts.event_log, e.reg, e.register_value));
  e.event_log.assign(parts.event_log.begin(), parts.event_log.begin() + end);

  // The replay checked every record's digest against its content and the
  // launch rules; what is left is that this launch is there, in full, and
  // bound to the nonce.
  using Type = CelContent::Type;
  using Kind = CelContent::ObservationKind;
  std::optional<size_t> manifest_at, load_at, separator_at, alive_at;
  for (size_t i = 0; i < e.event_log.size(); ++i) {
    const CelRecord& record = e.event_log[i];
    if (record.redacted() || !record.content->BelongsToLaunch() ||
        record.content->launch_id != parts.launch_id) {
      continue;
    }
    const CelContent& c = *record.content;
    const bool observation = c.type == Type::kLaunchObservation;
    if (c.type == Type::kLaunchManifest && !manifest_at) {
      if (!DigestEqual(record.digest, e.manifest_sha256) ||
          !DigestEqual(c.manifest_sha256, e.manifest_sha256)) {
        return Inconsistent("the launch_manifest record is not this manifest's digest");
      }
      manifest_at = i;
    } else if (observation && c.observation_kind == Kind::kLoad && manifest_at && !load_at) {
      load_at = i;
    } else if (c.type == Type::kLaunchSeparator && load_at && !separator_at) {
      separator_at = i;
    } else if (observation && c.observation_kind == Kind::kAlive && separator_at) {
      if (parts.alive_recnum && record.recnum == *parts.alive_recnum) alive_at = i;
    } else {
      return Inconsistent(absl::StrCat("unexpected record ", i, " for this launch"));
    }
  }
  if (!manifest_at || !load_at || !separator_at) {
    return Inconsistent(
        "the certified log lacks this launch's manifest, load observation or separator");
  }
  if (parts.alive_recnum) {
    if (!alive_at) {
      return Inconsistent(absl::StrCat("the alive observation (record ", *parts.alive_recnum,
                                       ") is not in the certified log"));
    }
    if (e.event_log[*alive_at].content->nonce != parts.nonce) {
      return Inconsistent("the alive observation is not bound to this nonce");
    }
  } else if (e.event_log[*load_at].content->nonce != parts.nonce) {
    return Inconsistent("the load observation is not bound to this nonce");
  }

  e.attest = parts.certification.attest;
  e.signature = parts.certification.signature;
  e.ak_public = parts.info.ak_public;
  e.ak_qualified_name = parts.info.ak_qualified_name;
  e.ek_certificate = parts.info.ek_certificate;
  e.reset_count = parts.info.reset_count;
  e.restart_count = parts.info.restart_count;
  return e.Serialize();
}

absl::StatusOr<std::string> CollectEvidence(AttestorClient& client, absl::string_view nonce,
                                            absl::string_view launch_id,
                                            absl::string_view manifest,
                                            std::optional<uint64_t> alive_recnum) {
  EvidenceParts parts{.nonce = std::string(nonce),
                      .manifest = std::string(manifest),
                      .launch_id = std::string(launch_id),
                      .alive_recnum = alive_recnum};
  const Sha256Digest qualifying = EvidenceQualifyingData(nonce, Sha256(manifest));
  ASSIGN_OR_RETURN(parts.certification, client.Certify(Bytes(qualifying)));
  ASSIGN_OR_RETURN(parts.event_log, client.Log(launch_id));
  ASSIGN_OR_RETURN(parts.info, client.Info());
  return BuildEvidence(parts);
}

}  // namespace fdattest
