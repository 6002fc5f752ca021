#include "verifier/audit/bundle_verify.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/base64.h"
#include "common/evidence.h"
#include "common/evidence_identity.h"
#include "common/sha256.h"
#include "verifier/audit/checkpoint.h"
#include "verifier/audit/merkle.h"
#include "verifier/audit/signed_note.h"
#include "verifier/ear.h"
#include "verifier/report.h"
#include "verifier/tpm_attest.h"

namespace fdattest {
namespace {

std::string HashBytes(const MerkleHash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

std::string Sha256Hex(absl::string_view data) { return HexEncode(Sha256(data)); }

class Checker {
 public:
  explicit Checker(AuditVerifyReport* report) : report_(report) {}
  void Fail(std::string file, std::string what) {
    report_->findings.push_back({std::move(file), std::move(what), true});
  }
  void Note(std::string file, std::string what) {
    report_->findings.push_back({std::move(file), std::move(what), false});
  }
  AuditVerifyReport& report() { return *report_; }

 private:
  AuditVerifyReport* report_;
};

// The file must be the canonical JSON of an object and a "\n".
absl::StatusOr<Json> CanonicalJsonFile(absl::string_view text) {
  ASSIGN_OR_RETURN(Json value, ParseJsonStrict(text));
  if (!value.is_object()) return absl::InvalidArgumentError("not a JSON object");
  if (absl::StrCat(value.dump(), "\n") != text) {
    return absl::InvalidArgumentError("not canonical JSON followed by \\n");
  }
  return value;
}

// The opened, parsed checkpoint: a signature by the pinned log key whose
// name is the origin, and one cosignature by every named witness.
absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view note, const NoteVerifier& log,
                                          const std::vector<NoteVerifier>& known,
                                          bool require_witnesses) {
  ASSIGN_OR_RETURN(OpenedNote opened, OpenNote(note, known));
  std::set<std::string> signers(opened.signed_by.begin(), opened.signed_by.end());
  if (!signers.count(log.name())) {
    return absl::UnauthenticatedError("not signed by the pinned log key");
  }
  if (require_witnesses) {
    for (const NoteVerifier& k : known) {
      if (k.type() == kNoteSigCosignatureV1 && !signers.count(k.name())) {
        return absl::UnauthenticatedError(absl::StrCat("no cosignature by witness ", k.name()));
      }
    }
  }
  ASSIGN_OR_RETURN(Checkpoint checkpoint, Checkpoint::Parse(opened.text));
  if (checkpoint.origin != log.name()) {
    return absl::UnauthenticatedError(
        absl::StrCat("origin \"", checkpoint.origin, "\" is not the log key's name"));
  }
  return checkpoint;
}

// jwks.json: {"keys":[public JWK, ...]}, each key usable (VerifyCompactJws
// checks a key before it reads the token, so a key it does not complain
// about is a valid public ES256 key).
absl::StatusOr<std::vector<std::string>> JwksKeys(absl::string_view text) {
  ASSIGN_OR_RETURN(Json jwks, CanonicalJsonFile(text));
  if (jwks.size() != 1 || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    return absl::InvalidArgumentError("not {\"keys\":[...]}");
  }
  std::vector<std::string> keys;
  for (const Json& key : jwks["keys"]) {
    std::string key_json = key.dump();
    absl::StatusOr<std::string> probe = VerifyCompactJws("", key_json);
    if (!probe.ok() && absl::StartsWith(probe.status().message(), "public JWK")) {
      return absl::InvalidArgumentError(
          absl::StrCat("key ", keys.size(), ": ", probe.status().message()));
    }
    keys.push_back(std::move(key_json));
  }
  return keys;
}

// The EAR must verify with a key of jwks.json and its claims must be the
// ones the verifier issues for the re-run's result at the decision's time.
void CheckEar(Checker& c, const std::string& file, const Json& document,
              const std::optional<std::vector<std::string>>& jwks, const ReverifyOutcome& rerun,
              int64_t time) {
  auto ear = document.find("ear");
  if (ear == document.end() || !ear->is_string()) return;  // ReverifyDecision said so
  const std::string token = ear->get<std::string>();
  if (token.empty()) {
    c.Note(file, "carries no EAR (the service had no signing key)");
    return;
  }
  if (!jwks) {
    c.Fail(file, "its EAR cannot be checked: jwks.json is unusable");
    return;
  }
  std::optional<Json> claims;
  std::string why = "jwks.json has no key";
  for (const std::string& key : *jwks) {
    absl::StatusOr<Json> verified = VerifyEar(token, key);
    if (verified.ok()) {
      claims = *std::move(verified);
      break;
    }
    why = std::string(verified.status().message());
  }
  if (!claims) {
    c.Fail(file, absl::StrCat("its EAR does not verify with any key of jwks.json (", why, ")"));
    return;
  }
  if (!rerun.rerun || !rerun.policy) return;
  const int64_t iat = claims->value("iat", int64_t{0});
  const int64_t exp = claims->contains("exp") ? claims->value("exp", int64_t{0}) : iat;
  std::string build;
  if (auto id = claims->find("ear_verifier_id"); id != claims->end() && id->is_object()) {
    build = id->value("build", "");
  }
  Json expected = EarClaims(MakeEarInput(*rerun.rerun, *rerun.policy, time, exp - iat, build));
  if (std::optional<std::string> where = FirstJsonDifference(expected, *claims)) {
    c.Fail(file, absl::StrCat("its EAR's claims are not the re-run's (first difference at \"",
                              *where, "\")"));
  }
}

void CheckAttesterFile(Checker& c, const std::string& id, const std::string& text) {
  const std::string file = absl::StrCat("attesters/", id, ".json");
  absl::StatusOr<Json> record = CanonicalJsonFile(text);
  if (!record.ok()) {
    c.Fail(file, std::string(record.status().message()));
    return;
  }
  static const std::set<std::string> kKeys = {"id", "tenant", "state", "ek_certificate",
                                              "ek_sha256", "ak_public", "ak_name", "created_at",
                                              "activated_at", "revoked_at"};
  for (auto it = record->begin(); it != record->end(); ++it) {
    if (!kKeys.count(it.key())) return c.Fail(file, absl::StrCat("unknown member ", it.key()));
  }
  for (const std::string& key : kKeys) {
    if (!record->contains(key)) return c.Fail(file, absl::StrCat("no member ", key));
  }
  if ((*record)["id"] != id) return c.Fail(file, "its id is not its file name");
  const Json& state = (*record)["state"];
  if (state != "pending" && state != "active" && state != "revoked") {
    return c.Fail(file, "state is not pending, active or revoked");
  }
  if (!(*record)["ak_public"].is_string() || !(*record)["ak_name"].is_string() ||
      !(*record)["ek_certificate"].is_string()) {
    return c.Fail(file, "ak_public, ak_name and ek_certificate must be strings");
  }
  absl::StatusOr<std::string> ak = Base64Decode((*record)["ak_public"].get<std::string>());
  absl::StatusOr<AkPublic> parsed = ak.ok() ? ParseAkPublic(*ak) : absl::StatusOr<AkPublic>(ak.status());
  if (!parsed.ok()) return c.Fail(file, absl::StrCat("ak_public: ", parsed.status().message()));
  if (HexEncode(parsed->name) != (*record)["ak_name"].get<std::string>()) {
    return c.Fail(file, "ak_name is not the TPM name of ak_public");
  }
  if (!Base64Decode((*record)["ek_certificate"].get<std::string>()).ok()) {
    return c.Fail(file, "ek_certificate is not base64");
  }
}

struct ParsedEntry {
  std::optional<AuditLeaf> leaf;
  std::optional<DecisionRecord> record;
};

// The decision record says what the leaf says.
void CheckRecordAgainstLeaf(Checker& c, const std::string& file, const DecisionRecord& r,
                            const AuditLeaf& leaf) {
  std::vector<std::string> wrong;
  if (r.result_id != leaf.result_id) wrong.push_back("result_id");
  if (r.time != leaf.time) wrong.push_back("time");
  if (r.tenant != leaf.tenant) wrong.push_back("tenant");
  if ((r.attester ? r.attester->id : std::string()) != leaf.attester_id) wrong.push_back("attester");
  if (r.policy_id != leaf.policy_id || r.policy_version != leaf.policy_version ||
      r.policy_sha256 != leaf.policy_sha256) {
    wrong.push_back("policy");
  }
  if (r.evidence_sha256 != leaf.evidence_sha256) wrong.push_back("evidence_sha256");
  if (!wrong.empty()) {
    c.Fail(file, absl::StrCat("says another ", absl::StrJoin(wrong, ", "), " than the leaf"));
  }
  if (r.attester) {
    absl::StatusOr<AkPublic> ak = ParseAkPublic(r.attester->ak_public);
    if (!ak.ok() || HexEncode(ak->name) != r.attester->ak_name) {
      c.Fail(file, "the attester's ak_name is not the TPM name of its ak_public");
    }
  }
}

void CheckEntry(Checker& c, const AuditBundle& bundle, uint64_t index, const AuditBundleEntry& e,
                const std::optional<Checkpoint>& checkpoint,
                const std::optional<std::vector<std::string>>& jwks) {
  const std::string dir = absl::StrCat("entries/", index);
  absl::StatusOr<AuditLeaf> leaf = AuditLeaf::Parse(e.leaf);
  if (!leaf.ok()) c.Fail(dir + "/leaf", std::string(leaf.status().message()));
  absl::StatusOr<std::vector<std::string>> proof = ParseMerkleProof(e.proof);
  if (!proof.ok()) c.Fail(dir + "/proof", std::string(proof.status().message()));
  if (checkpoint && proof.ok()) {
    if (index >= checkpoint->size) {
      c.Fail(dir, absl::StrCat("index ", index, " is beyond the checkpoint's size ", checkpoint->size));
    } else if (absl::Status s = VerifyMerkleInclusion(index, checkpoint->size,
                                                      HashBytes(MerkleLeafHash(e.leaf)), *proof,
                                                      checkpoint->root);
               !s.ok()) {
      c.Fail(dir, absl::StrCat("leaf and proof do not lead to the checkpoint's root: ", s.message()));
    }
  }
  if (!leaf.ok()) return;

  // Which blobs are there, and whether `gone` accounts for the others.
  std::set<std::string> absent;
  if (!e.evidence) absent.insert("evidence");
  if (!e.result) absent.insert("result");
  if (!e.decision) absent.insert("decision");
  std::vector<GoneBlob> gone;
  if (e.gone) {
    absl::StatusOr<std::vector<GoneBlob>> parsed = ParseGoneBlobs(*e.gone);
    if (!parsed.ok()) {
      c.Fail(dir + "/gone", std::string(parsed.status().message()));
    } else {
      gone = *std::move(parsed);
    }
  }
  std::set<std::string> said;
  for (const GoneBlob& g : gone) said.insert(g.kind);
  if (e.gone && said != absent) {
    c.Fail(dir + "/gone", "does not name exactly the blobs the entry lacks");
  } else if (!e.gone && !absent.empty()) {
    c.Fail(dir, absl::StrCat("lacks ", absl::StrJoin(absent, ", "), " and has no file gone"));
  }

  std::optional<DecisionRecord> record;
  if (e.decision) {
    if (Sha256Hex(*e.decision) != leaf->decision_sha256) {
      c.Fail(dir + "/decision.json", "sha256 does not match the leaf's decision-sha256");
    } else if (absl::StatusOr<DecisionRecord> r = DecisionRecord::Parse(*e.decision); !r.ok()) {
      c.Fail(dir + "/decision.json", std::string(r.status().message()));
    } else {
      record = *std::move(r);
      CheckRecordAgainstLeaf(c, dir + "/decision.json", *record, *leaf);
    }
  }
  bool result_ok = false;
  if (e.result) {
    if (Sha256Hex(*e.result) != leaf->result_sha256) {
      c.Fail(dir + "/result.json", "sha256 does not match the leaf's result-sha256");
    } else {
      result_ok = true;
    }
  }
  const std::string policy_file = absl::StrCat("policies/", leaf->policy_sha256, ".json");
  auto policy = bundle.policies.find(leaf->policy_sha256);
  if (policy == bundle.policies.end()) {
    c.Fail(policy_file, absl::StrCat("missing (", dir, "/leaf names it)"));
  }
  std::string tpm_ca;
  bool tpm_ca_ok = true;
  if (record && !record->tpm_ca_sha256.empty()) {
    auto ca = bundle.tpm_cas.find(record->tpm_ca_sha256);
    if (ca == bundle.tpm_cas.end()) {
      c.Fail(absl::StrCat("tpm-ca/", record->tpm_ca_sha256, ".pem"),
             absl::StrCat("missing (", dir, "/decision.json names it)"));
      tpm_ca_ok = false;
    } else {
      tpm_ca = ca->second;
    }
  }
  if (record && record->attester) {
    const std::string file = absl::StrCat("attesters/", record->attester->id, ".json");
    auto a = bundle.attesters.find(record->attester->id);
    absl::StatusOr<Json> enrolled =
        a == bundle.attesters.end() ? absl::StatusOr<Json>(absl::NotFoundError("missing"))
                                    : ParseJsonStrict(a->second);
    if (!enrolled.ok()) {
      c.Fail(file, absl::StrCat(enrolled.status().message(), " (", dir, "/decision.json names it)"));
    } else if (!enrolled->is_object() ||
               enrolled->value("ak_public", "") != Base64Encode(record->attester->ak_public) ||
               enrolled->value("tenant", "") != leaf->tenant) {
      c.Fail(file, absl::StrCat("its AK or tenant is not the one ", dir, "/decision.json names"));
    } else {
      // The decision was made while the attester was active, and its
      // evidence carries the EK certificate the attester enrolled with.
      // Times are whole seconds: a decision in the second of the revocation
      // may have preceded it.
      const Json& activated = (*enrolled)["activated_at"];
      const Json& revoked = (*enrolled)["revoked_at"];
      if (!activated.is_number_integer() || activated.get<int64_t>() > record->time ||
          (!revoked.is_null() &&
           (!revoked.is_number_integer() || revoked.get<int64_t>() < record->time))) {
        c.Fail(file, absl::StrCat("was not active at the time of ", dir, "/decision.json"));
      }
      if (e.evidence) {
        absl::StatusOr<Evidence> evidence = Evidence::Parse(*e.evidence);
        if (evidence.ok() && enrolled->value("ek_certificate", "") !=
                                 Base64Encode(evidence->ek_certificate)) {
          c.Fail(file, absl::StrCat("its EK certificate is not the one ", dir,
                                    "/evidence.json carries"));
        }
      }
    }
  }

  // Every byte of the evidence, not only its identity (which leaves out
  // parts a run that ended early never read).
  if (record && e.evidence && Sha256Hex(*e.evidence) != record->evidence_bytes_sha256) {
    c.Fail(dir + "/evidence.json", "sha256 does not match the decision's evidence_bytes_sha256");
    return;
  }
  if (!absent.empty()) {
    ++c.report().gone;
    std::vector<std::string> what;
    for (const GoneBlob& g : gone) what.push_back(absl::StrCat(g.kind, " ", g.why));
    c.Note(dir, absl::StrCat(what.empty() ? absl::StrJoin(absent, ", ") + " absent"
                                          : absl::StrJoin(what, ", "),
                             ": leaf and proof checked, the decision not re-run"));
    if (e.evidence) {
      absl::StatusOr<Evidence> evidence = Evidence::Parse(*e.evidence);
      if (!evidence.ok() || HexEncode(EvidenceIdentity(*evidence)) != leaf->evidence_sha256) {
        c.Fail(dir + "/evidence.json", "its identity is not the leaf's evidence");
      }
    }
    return;
  }
  if (!record || !result_ok || policy == bundle.policies.end() || !tpm_ca_ok) return;

  ArchivedDecision archived;
  archived.leaf = &*leaf;
  archived.record = &*record;
  archived.evidence = *e.evidence;
  archived.result = *e.result;
  archived.policy_text = policy->second;
  archived.tpm_ca_pem = tpm_ca;
  archived.entry_dir = dir;
  archived.policy_file = policy_file;
  ReverifyOutcome outcome = ReverifyDecision(archived);
  const bool reproduced = outcome.findings.empty();
  for (AuditFinding& f : outcome.findings) c.report().findings.push_back(std::move(f));
  if (outcome.recorded.is_object()) {
    CheckEar(c, dir + "/result.json", outcome.recorded, jwks, outcome, record->time);
  }
  if (reproduced) ++c.report().reverified;
}

}  // namespace

bool AuditVerifyReport::ok() const {
  for (const AuditFinding& f : findings) {
    if (f.failure) return false;
  }
  return true;
}

AuditVerifyReport VerifyAuditBundle(const AuditBundle& bundle, const AuditVerifyOptions& options) {
  AuditVerifyReport report;
  Checker c(&report);
  report.entries = bundle.entries.size();
  absl::StatusOr<NoteVerifier> log = NoteVerifier::FromVerifierKey(options.log_key);
  if (!log.ok() || log->type() != kNoteSigEd25519) {
    c.Fail("--log-key", log.ok() ? "not a note signature key (type 0x01)"
                                 : std::string(log.status().message()));
    return report;
  }
  std::vector<NoteVerifier> known = {*log};
  for (const std::string& vkey : options.witness_keys) {
    absl::StatusOr<NoteVerifier> witness = NoteVerifier::FromVerifierKey(vkey);
    if (!witness.ok() || witness->type() != kNoteSigCosignatureV1) {
      c.Fail("--witness", absl::StrCat(vkey, ": ", witness.ok() ? "not a cosigner key (type 0x04)"
                                                                 : witness.status().message()));
      return report;
    }
    known.push_back(*std::move(witness));
  }
  if (bundle.log_vkey != absl::StrCat(options.log_key, "\n")) {
    c.Fail("log.vkey", "is not the pinned --log-key (and a \\n)");
  }

  std::optional<Checkpoint> checkpoint;
  if (absl::StatusOr<Checkpoint> cp = OpenCheckpoint(bundle.checkpoint, *log, known, true);
      !cp.ok()) {
    c.Fail("checkpoint", std::string(cp.status().message()));
  } else {
    checkpoint = *std::move(cp);
    report.tree_size = checkpoint->size;
  }

  // Older checkpoints, each consistent with the exported one.
  for (const auto& [size, note] : bundle.checkpoints) {
    const std::string file = absl::StrCat("checkpoints/", size);
    absl::StatusOr<Checkpoint> old = OpenCheckpoint(note, *log, known, false);
    if (!old.ok()) {
      c.Fail(file, std::string(old.status().message()));
      continue;
    }
    if (old->size != size) {
      c.Fail(file, absl::StrCat("is a checkpoint of size ", old->size, ", not ", size));
      continue;
    }
    const std::string proof_file = absl::StrCat("consistency/", size);
    auto proof_text = bundle.consistency.find(size);
    if (proof_text == bundle.consistency.end()) {
      c.Fail(proof_file, "missing");
      continue;
    }
    absl::StatusOr<std::vector<std::string>> proof = ParseMerkleProof(proof_text->second);
    if (!proof.ok()) {
      c.Fail(proof_file, std::string(proof.status().message()));
      continue;
    }
    if (!checkpoint) continue;
    absl::Status s;
    if (size > checkpoint->size) {
      s = absl::InvalidArgumentError("the older checkpoint is larger than the exported one");
    } else if (size == 0) {
      if (old->root != HashBytes(MerkleEmptyRoot()) || !proof->empty()) {
        s = absl::InvalidArgumentError("the empty tree's root is SHA-256(\"\") and its proof empty");
      }
    } else {
      s = VerifyMerkleConsistency(size, checkpoint->size, old->root, checkpoint->root, *proof);
    }
    if (!s.ok()) {
      c.Fail(proof_file, absl::StrCat("does not prove checkpoints/", size,
                                      " consistent with the checkpoint: ", s.message()));
    }
  }
  for (const auto& [size, unused] : bundle.consistency) {
    if (!bundle.checkpoints.count(size)) {
      c.Fail(absl::StrCat("consistency/", size), "no checkpoint of this size");
    }
  }

  // Content-addressed files are what their names say.
  for (const auto& [sha256, text] : bundle.policies) {
    if (Sha256Hex(text) != sha256) {
      c.Fail(absl::StrCat("policies/", sha256, ".json"), "its sha256 is not its name");
    }
  }
  for (const auto& [sha256, pem] : bundle.tpm_cas) {
    if (Sha256Hex(pem) != sha256) {
      c.Fail(absl::StrCat("tpm-ca/", sha256, ".pem"), "its sha256 is not its name");
    }
  }
  for (const auto& [id, text] : bundle.attesters) CheckAttesterFile(c, id, text);
  std::optional<std::vector<std::string>> jwks;
  if (absl::StatusOr<std::vector<std::string>> keys = JwksKeys(bundle.jwks); !keys.ok()) {
    c.Fail("jwks.json", std::string(keys.status().message()));
  } else {
    jwks = *std::move(keys);
  }

  for (const auto& [index, entry] : bundle.entries) {
    CheckEntry(c, bundle, index, entry, checkpoint, jwks);
  }
  return report;
}

AuditVerifyReport VerifyAuditBundleDir(const std::string& dir, const AuditVerifyOptions& options) {
  absl::StatusOr<AuditBundle> bundle = AuditBundle::Read(dir);
  if (!bundle.ok()) {
    AuditVerifyReport report;
    std::string message(bundle.status().message());
    const size_t colon = message.find(": ");
    if (colon == std::string::npos) {
      report.findings.push_back({".", message, true});
    } else {
      report.findings.push_back({message.substr(0, colon), message.substr(colon + 2), true});
    }
    return report;
  }
  return VerifyAuditBundle(*bundle, options);
}

}  // namespace fdattest
