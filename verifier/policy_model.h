// The data-flow policy (docs/policy.md): which workload may hold which
// descriptors and where protected data may flow, as the rules R0..R14
// (verifier/rules.h) read it, and its strict, bounded parser. A Policy is an
// immutable value once parsed; thread-safe.
#ifndef FDATTEST_VERIFIER_POLICY_MODEL_H_
#define FDATTEST_VERIFIER_POLICY_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/manifest.h"
#include "common/profile.h"
#include "common/status.h"
#include "verifier/ip_prefix.h"

namespace fdattest {

inline constexpr int kPolicyVersion = 1;
inline constexpr size_t kMaxPolicyBytes = 256 * 1024;

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
  kSecret,     // a released secret's sealed memfd (manifest fd "secret"): R8
};

// Who may sit at the other end of a unix socket (SO_PEERCRED): either list
// may be empty; both empty means no peer is acceptable.
struct PeerRequirement {
  std::set<uint32_t> uids;
  std::set<std::string> exe_sha256;
  bool empty() const { return uids.empty() && exe_sha256.empty(); }
};

// Where a role's writable files may live (R3, R7), from what the launcher's
// storage fingerprint shows (docs/formats/manifest.md): never from a
// filesystem's name.
enum class StorageClass {
  kEncryptedAtRest,  // on a persisted filesystem, under an fscrypt policy the role accepts
  kNotPersisted,     // tmpfs or ramfs (by statfs magic): memory only, never at rest
  kDurable,          // on a persisted filesystem, encrypted or not (an audit trail)
};

// The least fscrypt policy kEncryptedAtRest accepts; an empty mode set
// accepts any mode.
struct EncryptionRequirement {
  int min_version = 1;
  std::set<uint32_t> contents_modes;   // FSCRYPT_MODE_* values
  std::set<uint32_t> filenames_modes;  // FSCRYPT_MODE_* values
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
  // R3, R7: where the role's writable files may live. Defaults by class:
  // phi_output {encrypted_at_rest, not_persisted}, audit {durable}, else none.
  std::set<StorageClass> storage;
  EncryptionRequirement encryption;                 // for kEncryptedAtRest
};

// "encrypted_at_rest", "not_persisted", "durable".
absl::string_view StorageClassName(StorageClass c);
// The accepted classes of `role`, or of an undefined role (treated as a
// phi_output, the conservative reading) when `role` is null.
std::set<StorageClass> AcceptedStorage(const RolePolicy* role);

struct RegistryPolicy {
  Json signer_jwk;  // public JWK of the registry signer, as written (the pipeline verifies the JWS)
  std::string issuer;                     // empty: any issuer the key signed for
  std::set<std::string> allowed_regions;  // alpha-2 codes, "EU"/"EEA" expanded
};

enum class NotEvaluablePolicy { kWarn, kFail };

// R11: what the expected nonce must show about the launch (docs/policy.md
// "freshness"): that it was launched after the nonce (the attestor's load
// observation is bound to it), that it was observed alive and unchanged after
// the nonce (an alive observation is bound to it), or either.
enum class Freshness { kEither, kLaunch, kAlive };
absl::string_view FreshnessName(Freshness f);  // "either", "launch", "alive"

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
  std::optional<RegistryPolicy> registry;         // R5
  std::optional<int64_t> retention_days;          // R14
  Freshness freshness = Freshness::kEither;       // R11
  NotEvaluablePolicy not_evaluable = NotEvaluablePolicy::kWarn;
  std::map<std::string, NotEvaluablePolicy> not_evaluable_overrides;  // "R5" -> fail
  std::vector<std::string> secrets;                                   // names releasable on pass
  std::string text_sha256;  // sha256 hex of the exact policy bytes

  const RolePolicy* FindRole(absl::string_view name) const;
  bool NotEvaluableIsFatal(absl::string_view rule_id) const;

  static absl::StatusOr<Policy> Parse(absl::string_view text);
  static absl::StatusOr<Policy> Load(const std::string& path);
};

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_POLICY_MODEL_H_
