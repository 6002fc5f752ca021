#include "verifier/state.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/evidence.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr size_t kMaxStateBytes = 64 << 20;

// Hex of at least one whole byte.
bool IsHexBytes(absl::string_view s) {
  return !s.empty() && s.size() % 2 == 0 && IsLowerHex(s);
}

}  // namespace

absl::StatusOr<VerifierState> VerifierState::Open(const std::string& path) {
  const std::string lock_path = path + ".lock";
  UniqueFd lock(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock.valid()) return ErrnoStatus(absl::StrCat("open ", lock_path), errno);
  if (flock(lock.get(), LOCK_EX) != 0) return ErrnoStatus(absl::StrCat("lock ", lock_path), errno);
  VerifierState state(path, std::move(lock));

  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return state;  // a new state
    return ErrnoStatus(absl::StrCat("stat ", path), errno);
  }
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, kMaxStateBytes));
  auto damaged = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("verifier state ", path, " is damaged: ", why));
  };
  absl::StatusOr<Json> json = ParseJsonStrict(text, JsonLimits{kMaxStateBytes, 8});
  if (!json.ok()) return damaged(json.status().message());
  JsonFields f(*json, "state");
  f.Int("version", true, 1, 1);
  const Json* nonces = f.Object("nonces", true);
  const Json* attesters = f.Object("attesters", true);
  if (absl::Status s = f.Finish(); !s.ok()) return damaged(s.message());
  for (auto it = nonces->begin(); it != nonces->end(); ++it) {
    JsonFields n(it.value(), absl::StrCat("state.nonces.", it.key()));
    std::optional<int64_t> expires = n.Int("expires_at", true, 0, INT64_MAX);
    if (absl::Status s = n.Finish(); !s.ok()) return damaged(s.message());
    if (!IsHexBytes(it.key())) return damaged("a nonce is not lowercase hex");
    state.nonces_[it.key()] = {*expires};
  }
  for (auto it = attesters->begin(); it != attesters->end(); ++it) {
    JsonFields a(it.value(), absl::StrCat("state.attesters.", it.key()));
    TpmCounters c;
    c.clock = a.Uint("clock", true, UINT64_MAX).value_or(0);
    c.reset_count = static_cast<uint32_t>(a.Uint("reset_count", true, UINT32_MAX).value_or(0));
    c.restart_count = static_cast<uint32_t>(a.Uint("restart_count", true, UINT32_MAX).value_or(0));
    if (absl::Status s = a.Finish(); !s.ok()) return damaged(s.message());
    if (!IsHexBytes(it.key())) return damaged("an attester name is not lowercase hex");
    state.attesters_[it.key()] = c;
  }
  return state;
}

absl::StatusOr<std::string> VerifierState::IssueNonce(int64_t now, int64_t lifetime_seconds) {
  if (lifetime_seconds <= 0) return absl::InvalidArgumentError("nonce lifetime must be positive");
  for (auto it = nonces_.begin(); it != nonces_.end();) {
    it = it->second.expires_at <= now ? nonces_.erase(it) : std::next(it);
  }
  if (nonces_.size() >= kMaxOutstandingNonces) {
    return absl::ResourceExhaustedError("too many outstanding nonces; wait for some to expire");
  }
  std::string nonce(kDefaultNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), static_cast<int>(nonce.size())) != 1) {
    return absl::InternalError("RAND_bytes failed");
  }
  nonces_[HexEncode(nonce)] = {now + lifetime_seconds};
  return nonce;
}

absl::Status VerifierState::ConsumeNonce(absl::string_view nonce, int64_t now) {
  auto it = nonces_.find(HexEncode(nonce));
  if (it == nonces_.end()) {
    return absl::PermissionDeniedError(
        "the bundle's nonce was not issued by this verifier, or was already used");
  }
  const int64_t expires_at = it->second.expires_at;
  nonces_.erase(it);
  if (expires_at <= now) {
    return absl::PermissionDeniedError(
        absl::StrCat("the bundle's nonce expired ", now - expires_at, " s ago"));
  }
  return absl::OkStatus();
}

std::optional<TpmCounters> VerifierState::Counters(absl::string_view ak_name_hex) const {
  auto it = attesters_.find(ak_name_hex);
  if (it == attesters_.end()) return std::nullopt;
  return it->second;
}

void VerifierState::RecordCounters(absl::string_view ak_name_hex, const TpmCounters& counters) {
  attesters_[std::string(ak_name_hex)] = counters;
}

absl::Status VerifierState::Save(int64_t now) {
  Json nonces = Json::object();
  for (const auto& [hex, entry] : nonces_) {
    if (entry.expires_at > now) nonces[hex] = {{"expires_at", entry.expires_at}};
  }
  Json attesters = Json::object();
  for (const auto& [name, c] : attesters_) {
    attesters[name] = {
        {"clock", c.clock}, {"reset_count", c.reset_count}, {"restart_count", c.restart_count}};
  }
  ASSIGN_OR_RETURN(std::string text,
                   CanonicalJson({{"version", 1}, {"nonces", nonces}, {"attesters", attesters}}));
  return WriteFileAtomic(path_, text + "\n", 0600);
}

}  // namespace fdattest
