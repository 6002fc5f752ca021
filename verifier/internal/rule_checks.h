// What the rule checks of verifier/rules.cc are made of: Findings (one
// rule's per-fd verdicts, folded into an outcome and a one-line reason), the
// fd predicates and labels the checks share, and the fifteen checks R0..R14
// (rules_data_flow.cc: R1..R7; rules_process.cc: R0, R8..R14). Each check is
// a pure function of the policy and the facts; Findings is a plain value,
// not thread-safe, local to one check.
#ifndef FDATTEST_VERIFIER_INTERNAL_RULE_CHECKS_H_
#define FDATTEST_VERIFIER_INTERNAL_RULE_CHECKS_H_

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/manifest.h"
#include "common/profile.h"
#include "verifier/policy_model.h"
#include "verifier/rules.h"

namespace fdattest::policy_internal {

// What one rule found: any failure fails it; otherwise anything that could
// not be checked makes it not evaluable; it passes only when everything in
// scope was checked.
class Findings {
 public:
  void Fail(std::string s) { fails_.push_back(std::move(s)); }
  void Unknown(std::string s) { unknowns_.push_back(std::move(s)); }
  void Ok(std::string s) { oks_.push_back(std::move(s)); }

  RuleOutcome outcome() const {
    if (!fails_.empty()) return RuleOutcome::kFail;
    if (!unknowns_.empty()) return RuleOutcome::kNotEvaluable;
    return RuleOutcome::kPass;
  }

  // One line: the failures (or unknowns, or the checked items), capped.
  std::string Reason(absl::string_view nothing_in_scope) const;

 private:
  std::vector<std::string> fails_, unknowns_, oks_;
};

// A rule's check. `pass` receives the reason reported when the rule passes
// with nothing in scope to list.
using RuleCheck = Findings (*)(const Policy& policy, const PolicyFacts& facts, std::string& pass);

// --- shared by the checks -----------------------------------------------------

// The first 16 hex digits of a digest and an ellipsis.
std::string Short(absl::string_view digest);
// "fd 3" or "fd 3 (role)".
std::string FdLabel(const FdFingerprint& fp);
// "a, b" or "none".
std::string JoinSet(const std::set<std::string>& s);
// The fd's declared access, if it names one.
std::optional<Access> FdAccess(const FdFingerprint& fp);

// Records a failure unless the filter is proven and `id` holds.
void RequireProperty(const PolicyFacts& facts, absl::string_view id, absl::string_view why,
                     Findings& f);

// Whether the workload can write through `fp`: by its declared access when
// the filter is proven (the write family is confined to writable declared
// fds), otherwise by what the kernel would allow.
bool WorkloadCanWrite(const FdFingerprint& fp, const PolicyFacts& facts);

bool IsInet(const FdFingerprint& fp);
bool IsUnix(const FdFingerprint& fp);
bool IsDevNull(const FdFingerprint& fp);

// The role class a manifest fd is judged as; fds whose role the policy does
// not define are treated as possible PHI outputs (the conservative reading).
RoleClass ClassOf(const Policy& policy, const FdFingerprint& fp);

// The unix peer satisfies `req` (SO_PEERCRED uid and peer executable digest).
// Returns "" when it does, else what is wrong.
std::string CheckUnixPeer(const FdFingerprint& fp, const PeerRequirement& req,
                          absl::string_view role_name);
// Whether the peer's executable (its advisory exe_path basename) is an
// interpreter — python3, perl, sh, bash, dash, ruby, node, ... — whose digest
// identifies no script.
bool PeerIsInterpreter(const PeerCred& pc);

// What a file's storage fingerprint shows, judged against the storage
// classes `accepted` (and, for encrypted_at_rest, `req`): `seen` says exactly
// what was seen ("ext4: persisted, not encrypted"), `ok` whether one of the
// classes holds, `met` which (its name) or `why_not` what is missing.
struct StorageJudgement {
  bool ok = false;
  std::string seen;
  std::string met;
  std::string why_not;
};
StorageJudgement JudgeStorage(const FdFingerprint& fp, const std::set<StorageClass>& accepted,
                              const EncryptionRequirement& req);

// "fd 3 (role): unix peer uid 990, exe 21b2…" for a unix fd with a peer_cred.
std::string PeerSummary(const FdFingerprint& fp);

// --- the checks, R0..R14 (docs/policy.md "Rules") ------------------------------

Findings RuleClosedWorld(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleVettedInput(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleReadOnlyInput(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleEncryptedOutput(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleEgress(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleRegion(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleAppendOnlyAudit(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleAtRest(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleMinimisation(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RulePeerAuth(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleIdentity(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleFreshness(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleLeakChannels(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleIntegrity(const Policy& policy, const PolicyFacts& facts, std::string& pass);
Findings RuleRetention(const Policy& policy, const PolicyFacts& facts, std::string& pass);

}  // namespace fdattest::policy_internal

#endif  // FDATTEST_VERIFIER_INTERNAL_RULE_CHECKS_H_
