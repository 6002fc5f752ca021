#include "launcher/verifier_session.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr size_t kMaxNonceBytes = 64;

// The string member `key` of `object`, or InvalidArgument naming it.
absl::StatusOr<std::string> StringMember(const Json& object, absl::string_view key,
                                         absl::string_view what) {
  auto it = object.find(std::string(key));
  if (it == object.end() || !it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier: ", what, " has no string \"", key, "\""));
  }
  return it->get<std::string>();
}

// A {"NAME": "string", ...} member (absent: empty).
absl::StatusOr<std::map<std::string, std::string>> StringMap(const Json& object,
                                                            absl::string_view key) {
  std::map<std::string, std::string> out;
  auto it = object.find(std::string(key));
  if (it == object.end()) return out;
  if (!it->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("verifier: \"", key, "\" is not an object"));
  }
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("verifier: \"", key, "\".", name, " is not a string"));
    }
    out[name] = value.get<std::string>();
  }
  return out;
}

}  // namespace

bool IsServiceName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::vector<std::string> AttestOutcome::RefusalLines() const {
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat("verifier: verdict ", verdict, reason.empty() ? "" : ": ", reason,
                               " (attestation ", id, ")"));
  for (const std::string& rule : unmet_rules) lines.push_back(absl::StrCat("verifier: ", rule));
  for (const auto& [name, why] : refused) {
    lines.push_back(absl::StrCat("verifier: secret \"", name, "\" refused: ", why));
  }
  return lines;
}

absl::StatusOr<VerifierSession> VerifierSession::Open(absl::string_view url,
                                                      const std::string& ca_file) {
  ASSIGN_OR_RETURN(HttpsClient client, HttpsClient::New(url, ca_file));
  return VerifierSession(std::move(client));
}

absl::StatusOr<std::string> VerifierSession::Challenge() const {
  ASSIGN_OR_RETURN(std::string body, client_.PostJson("/v1/challenge", "{}"));
  ASSIGN_OR_RETURN(Json answer, ParseJsonStrict(body));
  if (!answer.is_object()) return absl::InvalidArgumentError("verifier: challenge is not an object");
  ASSIGN_OR_RETURN(std::string hex, StringMember(answer, "nonce", "the challenge"));
  absl::StatusOr<std::string> nonce = HexDecode(hex);
  if (!nonce.ok() || nonce->empty() || nonce->size() > kMaxNonceBytes) {
    return absl::InvalidArgumentError("verifier: the challenge's nonce is not 1-64 bytes of hex");
  }
  return *std::move(nonce);
}

absl::StatusOr<AttestOutcome> VerifierSession::Attest(
    absl::string_view evidence, absl::string_view policy,
    const std::vector<std::string>& release) const {
  std::vector<std::string> query;
  if (!policy.empty()) {
    if (!IsServiceName(policy)) return absl::InvalidArgumentError("policy id: 1-64 of [A-Za-z0-9._-]");
    query.push_back(absl::StrCat("policy=", policy));
  }
  for (const std::string& name : release) {
    if (!IsServiceName(name)) return absl::InvalidArgumentError("secret name: 1-64 of [A-Za-z0-9._-]");
  }
  if (!release.empty()) query.push_back(absl::StrCat("release=", absl::StrJoin(release, ",")));
  const std::string path =
      query.empty() ? std::string("/v1/attest") : absl::StrCat("/v1/attest?", absl::StrJoin(query, "&"));

  ASSIGN_OR_RETURN(std::string body, client_.PostJson(path, evidence));
  ASSIGN_OR_RETURN(Json answer, ParseJsonStrict(body));
  if (!answer.is_object()) return absl::InvalidArgumentError("verifier: the result is not an object");
  AttestOutcome out;
  ASSIGN_OR_RETURN(out.id, StringMember(answer, "id", "the result"));
  ASSIGN_OR_RETURN(out.verdict, StringMember(answer, "verdict", "the result"));
  if (auto it = answer.find("reason"); it != answer.end() && it->is_string()) {
    out.reason = it->get<std::string>();
  }
  ASSIGN_OR_RETURN(out.secrets, StringMap(answer, "secrets"));
  ASSIGN_OR_RETURN(out.refused, StringMap(answer, "refused"));
  if (auto report = answer.find("report"); report != answer.end() && report->is_object()) {
    if (auto rules = report->find("rules"); rules != report->end() && rules->is_array()) {
      for (const Json& rule : *rules) {
        if (!rule.is_object()) continue;
        const std::string id = rule.value("id", std::string("?"));
        const std::string outcome = rule.value("outcome", std::string("?"));
        if (outcome == "pass") continue;
        out.unmet_rules.push_back(absl::StrCat(id, " (", outcome, "): ", rule.value("title", ""),
                                               ": ", rule.value("reason", "")));
      }
    }
  }
  // A secret the launch did not ask for is an answer to another question.
  for (const auto& [name, jwe] : out.secrets) {
    if (std::find(release.begin(), release.end(), name) == release.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("verifier: released secret \"", name, "\" that was not requested"));
    }
  }
  return out;
}

}  // namespace fdattest
