#include "verifier/audit/reverify.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/report.h"

namespace fdattest {
namespace {

// The members of the document the service stores (attest_handler.cc).
const std::set<std::string>& DocumentKeys() {
  static const std::set<std::string>* keys =
      new std::set<std::string>{"id", "verdict", "failure", "reason", "ear", "report", "refused"};
  return *keys;
}

// A value as the stored document holds it: serialised the way the service
// serialises (invalid UTF-8 replaced) and read back.
Json AsStored(const Json& value) {
  absl::StatusOr<Json> back =
      ParseJsonStrict(value.dump(-1, ' ', false, Json::error_handler_t::replace));
  return back.ok() ? *std::move(back) : Json();
}

std::string StringMember(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string("<missing>");
}

}  // namespace

std::optional<std::string> FirstJsonDifference(const Json& a, const Json& b) {
  // Numbers compare by value: 5 parsed is unsigned, 5 computed may be signed.
  if (a.is_number() && b.is_number()) {
    return a == b ? std::nullopt : std::optional<std::string>(std::string());
  }
  if (a.type() != b.type()) return std::string();
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      const std::string here = absl::StrCat("/", it.key());
      if (other == b.end()) return here;
      if (std::optional<std::string> d = FirstJsonDifference(it.value(), *other)) {
        return absl::StrCat(here, *d);
      }
    }
    for (auto it = b.begin(); it != b.end(); ++it) {
      if (!a.contains(it.key())) return absl::StrCat("/", it.key());
    }
    return std::nullopt;
  }
  if (a.is_array()) {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (std::optional<std::string> d = FirstJsonDifference(a[i], b[i])) {
        return absl::StrCat("/", i, *d);
      }
    }
    if (a.size() != b.size()) return absl::StrCat("/", std::min(a.size(), b.size()));
    return std::nullopt;
  }
  if (a != b) return std::string();
  return std::nullopt;
}

ReverifyOutcome ReverifyDecision(const ArchivedDecision& in) {
  ReverifyOutcome out;
  const std::string result_file = absl::StrCat(in.entry_dir, "/result.json");
  auto fail = [&](const std::string& file, std::string what) {
    out.findings.push_back({file, std::move(what), true});
  };
  if (in.leaf == nullptr || in.record == nullptr) {
    fail(in.entry_dir, "nothing to re-run (no leaf or decision record)");
    return out;
  }
  const AuditLeaf& leaf = *in.leaf;
  const DecisionRecord& record = *in.record;

  // The recorded document.
  absl::StatusOr<Json> doc = ParseJsonStrict(in.result);
  if (!doc.ok() || !doc->is_object()) {
    fail(result_file, absl::StrCat("not a JSON object: ",
                                   doc.ok() ? "another JSON value" : doc.status().message()));
    return out;
  }
  out.recorded = *doc;
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    if (!DocumentKeys().count(it.key())) fail(result_file, absl::StrCat("unknown member \"", it.key(), "\""));
  }
  for (const std::string& key : DocumentKeys()) {
    if (!doc->contains(key)) fail(result_file, absl::StrCat("no member \"", key, "\""));
  }
  if (StringMember(*doc, "id") != leaf.result_id) {
    fail(result_file, absl::StrCat("id ", StringMember(*doc, "id"), " is not the leaf's result ",
                                   leaf.result_id));
  }
  if (StringMember(*doc, "verdict") != leaf.verdict) {
    fail(result_file, absl::StrCat("verdict ", StringMember(*doc, "verdict"),
                                   " is not the leaf's verdict ", leaf.verdict));
  }

  // The policy the decision was made under.
  absl::StatusOr<Policy> policy = Policy::Parse(in.policy_text);
  if (!policy.ok()) {
    fail(in.policy_file, absl::StrCat("does not parse as a policy: ", policy.status().message()));
    return out;
  }
  out.policy.emplace(*std::move(policy));

  // The re-run, with the hooks answering as the store answered then.
  TrustAnchors anchors;
  anchors.tpm_ca_pem = std::string(in.tpm_ca_pem);
  VerifyRequest request;
  request.evidence = in.evidence;
  request.anchors = &anchors;
  request.policy = &*out.policy;
  request.now = record.time;
  request.consume_nonce = [&record](absl::string_view) -> absl::Status {
    if (record.nonce_refusal.empty()) return absl::OkStatus();
    return absl::PermissionDeniedError(record.nonce_refusal);
  };
  request.enrolled_ak = [&record](absl::string_view) -> absl::StatusOr<std::string> {
    if (record.attester) return record.attester->ak_public;
    if (!record.identity_refusal.empty()) {
      return absl::PermissionDeniedError(record.identity_refusal);
    }
    return absl::PermissionDeniedError(kNotEnrolledRefusal);
  };
  request.previous_counters = record.previous_counters;
  VerifyResult rerun = Verify(request);

  if (rerun.evidence_sha256 != leaf.evidence_sha256) {
    fail(absl::StrCat(in.entry_dir, "/evidence.json"),
         absl::StrCat("its identity is ", rerun.evidence_sha256.empty() ? "unknown (it does not parse)" : rerun.evidence_sha256,
                      ", not the leaf's evidence ", leaf.evidence_sha256));
  }
  const std::string verdict(VerdictName(rerun.verdict));
  if (verdict != StringMember(*doc, "verdict") || verdict != leaf.verdict) {
    fail(in.entry_dir, absl::StrCat("does not reproduce: the re-run's verdict is ", verdict, ", the recorded ",
                                   StringMember(*doc, "verdict"), " (leaf: ", leaf.verdict, ")"));
  }
  const std::string failure(FailureClassName(rerun.failure));
  if (failure != StringMember(*doc, "failure")) {
    fail(in.entry_dir, absl::StrCat("does not reproduce: the re-run's failure class is \"", failure,
                                   "\", the recorded \"", StringMember(*doc, "failure"), "\""));
  }
  Json report = ReportJson(rerun);
  report["policy_id"] = out.policy->id;
  report = AsStored(report);
  if (AsStored(Json(rerun.reason)) != (*doc)["reason"]) {
    fail(in.entry_dir, absl::StrCat("does not reproduce: the re-run's reason is \"", rerun.reason, "\", the recorded \"",
                                   StringMember(*doc, "reason"), "\""));
  }
  auto recorded_report = doc->find("report");
  if (recorded_report == doc->end()) {
    // Already reported as a missing member.
  } else if (std::optional<std::string> where = FirstJsonDifference(report, *recorded_report)) {
    fail(in.entry_dir, absl::StrCat("does not reproduce: the re-run's report differs from the recorded one at \"",
                                   *where, "\""));
  }
  out.rerun.emplace(std::move(rerun));
  return out;
}

}  // namespace fdattest
