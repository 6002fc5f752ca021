// The data-flow policy (docs/policy.md) and the rule engine that judges one
// verified launch against it: rules R0..R14, each a pass / fail / not
// evaluable with a one-line reason and the HIPAA 45 CFR / GDPR clause it
// implements, plus the EAR (AR4SI) trustworthiness-vector contribution.
// Policy and EndpointRegistry are immutable values built by strict, bounded
// parsers; EvaluatePolicy and TrustVectorFromRules are pure. Thread-safe.
#ifndef FDATTEST_VERIFIER_POLICY_H_
#define FDATTEST_VERIFIER_POLICY_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/bpf_properties.h"
#include "common/json.h"
#include "common/manifest.h"
#include "common/profile.h"
#include "common/status.h"

namespace fdattest {

inline constexpr int kPolicyVersion = 1;
inline constexpr size_t kMaxPolicyBytes = 256 * 1024;
inline constexpr size_t kMaxRegistryBytes = 1 << 20;
// 45 CFR 164.316(b)(2)(i): documentation is retained six years.
inline constexpr int64_t kMinRetentionDays = 2190;

// A peer address as the manifest records it: "192.0.2.7:443" or
// "[2001:db8::1]:443". IPv4-mapped IPv6 addresses are normalised to IPv4 so a
// v4 allow-list cannot be sidestepped through ::ffff:0:0/96.
struct IpEndpoint {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};  // IPv4 in the first 4 bytes
  uint16_t port = 0;

  static std::optional<IpEndpoint> Parse(absl::string_view text);
};

// "10.1.0.0/16" or "2001:db8::/32"; host bits must be zero (a typo'd prefix
// is an error, not a silently wider range).
struct IpPrefix {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};
  int length = 0;
  std::string text;

  static absl::StatusOr<IpPrefix> Parse(absl::string_view text);
  bool Contains(const IpEndpoint& endpoint) const;
};

// An allow-list entry: the prefix and the destination ports (never empty).
struct EgressRule {
  IpPrefix prefix;
  std::set<uint16_t> ports;
};

// What a role's descriptors are for; decides which rules look at them.
enum class RoleClass {
  kPhiInput,   // protected data in (PHI, GDPR personal data): R1, R2
  kPhiOutput,  // protected data out: R3
  kAudit,      // the audit trail: R6
  kControl,    // neither (e.g. /dev/null, diagnostics)
};
absl::string_view RoleClassName(RoleClass c);

// Who may sit at the other end of a unix socket (SO_PEERCRED): either list
// may be empty; both empty means no peer is acceptable.
struct PeerRequirement {
  std::set<uint32_t> uids;
  std::set<std::string> exe_sha256;
  bool empty() const { return uids.empty() && exe_sha256.empty(); }
};

struct RolePolicy {
  std::string name;  // matches the manifest's fd "role"
  RoleClass role_class = RoleClass::kControl;
  std::set<std::string> kinds;  // manifest kinds: file dir char block fifo socket anon other
  std::set<Access> access;
  int min_count = 0;
  int max_count = static_cast<int>(kMaxDeclaredFds);
  std::set<std::string> content_sha256;  // R1: vetted input contents
  // R2: what may make a phi_input file immutable for everyone, not just the
  // workload (which can never write an "r" fd).
  bool accept_read_only_mount = true;
  bool accept_sealed = true;                        // memfd with write, grow and shrink seals
  bool accept_launch_digest = false;                // content digest at launch in the vetted list
  PeerRequirement peer;                             // R1, R3, R6, R9
  bool require_ktls = false;                        // R3: every inet socket of the role
  std::vector<EgressRule> egress;                   // R4
  std::set<std::string> regions;                    // R5, ISO 3166-1 alpha-2, groups expanded
  std::set<std::pair<uint32_t, uint32_t>> devices;  // R8: char/block major:minor
};

struct RegistryPolicy {
  Json signer_jwk;  // public JWK of the registry signer, as written (the pipeline verifies the JWS)
  std::string issuer;                     // empty: any issuer the key signed for
  std::set<std::string> allowed_regions;  // alpha-2 codes, "EU"/"EEA" expanded
};

enum class NotEvaluablePolicy { kWarn, kFail };

// A parsed, validated policy. Strict: version 1, unknown keys anywhere are
// InvalidArgument naming the path ("policy.fd_roles[1]: unknown key \"foo\""),
// every list bounded, digests 64 lowercase hex.
struct Policy {
  int version = kPolicyVersion;
  std::string id;  // goes to EAR ear_appraisal_policy_ids
  std::string description;
  // Workload reference values: R10 (identity) and R13 (integrity).
  std::set<std::string> exe_sha256;  // never empty
  std::set<std::string> filter_sha256;
  std::set<std::string> launcher_sha256;
  std::set<std::string> profile_sha256;
  std::set<std::string> ak_names;  // attester AK qualified names, lowercase hex
  std::vector<RolePolicy> fd_roles;
  bool closed_world = true;
  int max_fds = static_cast<int>(kMaxDeclaredFds);
  std::set<std::string> approved_write_fs_types;  // R7
  std::set<std::string> encrypted_fs_types;       // R3, a subset of the above
  std::optional<RegistryPolicy> registry;         // R5
  std::optional<int64_t> retention_days;          // R14
  NotEvaluablePolicy not_evaluable = NotEvaluablePolicy::kWarn;
  std::map<std::string, NotEvaluablePolicy> not_evaluable_overrides;  // "R5" -> fail
  std::vector<std::string> secrets;                                   // names releasable on pass
  std::string text_sha256;  // sha256 hex of the exact policy bytes

  const RolePolicy* FindRole(absl::string_view name) const;
  bool NotEvaluableIsFatal(absl::string_view rule_id) const;

  static absl::StatusOr<Policy> Parse(absl::string_view text);
  static absl::StatusOr<Policy> Load(const std::string& path);
};

struct RegistryEndpoint {
  IpPrefix prefix;
  std::set<uint16_t> ports;
  std::string region;  // ISO 3166-1 alpha-2 country code
  std::string name;
};

// A signed endpoint registry's payload, after the caller verified its JWS
// with the key the policy names. Strict JSON:
// {"version":1,"issuer":"...","endpoints":[{"cidr":"10.1.0.0/16","ports":[443],
//  "region":"DE","name":"..."}]}. Regions are country codes only; groups
// ("EEA") are a policy-side convenience.
struct EndpointRegistry {
  int version = 1;
  std::string issuer;
  std::vector<RegistryEndpoint> endpoints;

  // Every entry whose prefix and ports cover `peer` (empty when none).
  std::vector<const RegistryEndpoint*> Lookup(const IpEndpoint& peer) const;

  static absl::StatusOr<EndpointRegistry> Parse(absl::string_view payload);
};

// Everything the rules may look at besides the policy. Filled by the pipeline
// after steps 1–7 passed (so the evidence chain is intact when rules run).
struct PolicyFacts {
  const Manifest* manifest = nullptr;  // verified: bound to the TPM-certified register
  bool filter_proven = false;  // step 7 passed: every launcher property holds for the declared fds
  PropertyList filter_properties;  // ids from common/bpf_properties.cc; null: none
  std::string filter_error;                       // why not proven, when !filter_proven
  std::string filter_sha256;                      // hex
  enum class Nonce { kFresh, kNotChecked } nonce = Nonce::kNotChecked;  // kNotChecked: offline
  bool clock_safe = false;
  bool counters_checked = false;  // monotonic vs. the previous state (false: no previous state)
  uint32_t reset_count = 0, restart_count = 0;
  std::string ak_name_hex;                     // attester identity (AK qualified name)
  const EndpointRegistry* registry = nullptr;  // nullptr: no verified registry supplied
};

enum class RuleOutcome { kPass, kFail, kNotEvaluable };
absl::string_view RuleOutcomeName(RuleOutcome outcome);  // "pass", "fail", "not_evaluable"

// Clauses as reference/formats.md §3.4 catalogues them; hipaa is "" for R5.
struct Citation {
  std::string hipaa;
  std::string gdpr;
};

struct RuleResult {
  std::string id;  // "R0".."R14"
  std::string title;
  RuleOutcome outcome = RuleOutcome::kNotEvaluable;
  std::string reason;  // one line naming the fd/field
  Citation citation;
  bool fatal = false;  // a fail always; a not-evaluable iff the policy says so
};

// Evaluates R0..R14 in order (always 15 results). A rule passes only on facts
// it checked; what the evidence cannot show is kNotEvaluable with the reason.
std::vector<RuleResult> EvaluatePolicy(const Policy& policy, const PolicyFacts& facts);

// AR4SI trustworthiness-vector contribution (claim name -> value):
// instance-identity <- R10; configuration <- R0, R8, R12; executables <- R13;
// file-system <- R1, R2, R7; storage-opaque <- R3, R7; sourced-data <- R1, R5;
// runtime-opaque 32 (isolated memory: no TEE). A claim is 2 when its rules
// pass, 96 when one fails or is fatally not evaluable, otherwise the claim's
// warning value (docs/policy.md has the table).
std::map<std::string, int> TrustVectorFromRules(const std::vector<RuleResult>& results);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_POLICY_H_
