// The launch manifest: what the launcher set up for one workload, as measured
// into the TPM and checked by the verifier. Plain value types; the launcher
// fills them, ToJson() gives the canonical-JSON-ready form documented in
// docs/formats/manifest.md. Thread-compatible.
#ifndef FDATTEST_COMMON_MANIFEST_H_
#define FDATTEST_COMMON_MANIFEST_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/status.h"
#include "common/storage.h"

namespace fdattest {

inline constexpr int kManifestVersion = 1;

// fstat(2) of the descriptor itself.
struct StatFingerprint {
  uint64_t dev = 0, ino = 0, rdev = 0, size = 0, nlink = 0;
  uint32_t mode = 0, uid = 0, gid = 0;
};

// The mount the descriptor's file lives on (from fdinfo mnt_id and mountinfo).
struct MountFingerprint {
  int64_t mnt_id = -1;
  std::string fs_type;
  bool read_only = false;
};

struct PeerCred {
  int64_t pid = 0;
  uint32_t uid = 0, gid = 0;
  std::optional<std::string> exe_sha256;  // of /proc/PID/exe, when readable
  // readlink(/proc/PID/exe), advisory: tells an interpreter (python3, sh, ...)
  // from a program, whose digest identifies no script.
  std::optional<std::string> exe_path;
};

struct SocketFingerprint {
  std::string family;  // "unix", "inet", "inet6", or "af:<n>"
  std::string type;    // "stream", "dgram", "seqpacket", or "type:<n>"
  int protocol = 0;
  std::string local_address;
  std::string peer_address;
  std::optional<PeerCred> peer_cred;  // SO_PEERCRED, unix sockets
  std::optional<std::string> tcp_ulp;  // TCP_ULP, e.g. "tls" for kernel TLS
};

struct FdFingerprint {
  int fd = -1;
  std::string role;    // from the profile; empty for closed inherited fds
  std::string access;  // "r", "w", "rw", "a"; empty for closed inherited fds
  std::string source;  // "inherit", "open", "connect", "null"; "inherited" for closed fds
  std::optional<std::string> path;  // advisory only: never identity
  std::string kind;  // "file", "dir", "char", "block", "fifo", "socket", "anon", "other"
  StatFingerprint stat;
  std::string open_mode;  // F_GETFL access mode: "r", "w", "rw", "path"
  bool append = false;    // O_APPEND set on the description
  std::optional<MountFingerprint> mount;
  std::optional<StorageFingerprint> storage;  // file and dir: fstatfs and fscrypt
  std::optional<std::string> content_sha256;  // profile opted in ("hash": true)
  std::optional<uint32_t> memfd_seals;
  std::optional<SocketFingerprint> socket;
  std::vector<int64_t> pipe_peer_pids;  // other processes holding this pipe (fifo)
  std::optional<std::string> anon_type;  // e.g. "[eventfd]" for anon inodes
  // Source "secret": the name of the secret the launcher writes into this
  // memfd after attestation (docs/formats/manifest.md).
  std::optional<std::string> secret;
};

// The public half of the P-256 key fdlaunch makes for one attested launch
// and keeps in memory only; a verifier encrypts released secrets to it
// (compact JWE, ECDH-ES). Affine coordinates, each 32 bytes as unpadded
// base64url, as the JWK carries them.
struct ReleaseKey {
  std::string x, y;
  // {"crv":"P-256","kty":"EC","x":…,"y":…}
  Json ToJwk() const;
};

struct FilterRecord {
  std::string bpf;     // the exact bytes installed (raw sock_filter array)
  // Manifest::FromJson: the manifest's filter.sha256, checked to be sha256(bpf)
  // (hex). ToJson() computes its own from bpf and ignores this.
  std::string verified_sha256;
  std::string on_violation;
  uint32_t install_flags = 0;  // seccomp(SECCOMP_SET_MODE_FILTER, flags, ...)
  int exec_fd = -1;            // the one descriptor execveat may use
};

struct Manifest {
  int version = kManifestVersion;
  std::string launch_id;  // 128 random bits, hex
  std::string time;       // RFC 3339 UTC
  std::string profile_name;
  std::string profile_sha256;
  std::string exe_path;  // advisory
  std::string exe_sha256;
  std::vector<std::string> argv;
  std::vector<std::string> env_names;
  uint32_t uid = 0, gid = 0, euid = 0, egid = 0;
  std::map<std::string, std::string> namespaces;  // name -> "type:[inode]"
  std::map<std::string, std::pair<uint64_t, uint64_t>> rlimits;  // soft, hard
  bool no_new_privs = true;
  bool no_capabilities = true;  // bounding, ambient, inheritable emptied before exec
  bool attested = false;
  std::string launcher_version;
  std::string launcher_sha256;
  std::vector<FdFingerprint> fds;
  std::vector<FdFingerprint> closed_fds;
  FilterRecord filter;
  std::optional<ReleaseKey> release_key;  // attested launches

  Json ToJson() const;
  // Strict inverse of ToJson() for a verifier reading untrusted bytes: every
  // key of docs/formats/manifest.md with its type and range, unknown keys and
  // missing required keys rejected (InvalidArgument naming the field), the
  // filter's bpf_base64/sha256/instructions consistent. Parse(bytes) also
  // requires the bytes to be exactly the canonical serialisation.
  static absl::StatusOr<Manifest> FromJson(const JsonValue& json);
  static absl::StatusOr<Manifest> Parse(absl::string_view bytes);
};

Json FdFingerprintToJson(const FdFingerprint& fp);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_MANIFEST_H_
