// fdattestd's unix-socket server: accepts local clients, identifies each peer
// through the kernel once (IdentifyPeer: a pidfd and its credentials),
// authorises it by uid/gid, reads length-prefixed frames within a deadline and hands every
// request to the Attestor (attestor/attestor.h), one at a time. See
// docs/attestor.md, "The local API".
//
// Not thread-safe: Serve() runs on the calling thread and owns every
// connection it accepts; the Attestor it serves must not be used elsewhere
// meanwhile.
#ifndef FDATTEST_ATTESTOR_SERVER_H_
#define FDATTEST_ATTESTOR_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "attestor/attestor.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace fdattest {

// Which local peers may use the API: a peer whose uid is in `uids` or whose
// gid is in `gids` (its credentials taken at connect time).
struct PeerPolicy {
  std::vector<uid_t> uids = {0};
  std::vector<gid_t> gids;
  bool Allows(uid_t uid, gid_t gid) const;
  std::string Describe() const;
};

struct ServeOptions {
  PeerPolicy policy;
  // A connection must deliver each complete request within this time of
  // connecting or of its previous response, else it is closed.
  std::chrono::milliseconds read_timeout{5000};
  // Connections held at once; further clients wait in the listen backlog.
  size_t max_connections = 64;
};

// Binds and listens on a unix stream socket at `path`, mode 0660. An existing
// socket file is replaced only when nothing accepts connections on it
// (FailedPrecondition when another server does); any other file there is an
// error.
absl::StatusOr<UniqueFd> ListenOnUnixSocket(const std::string& path);
// FailedPrecondition when a server accepts connections at `path` (checked
// before the TPM is opened, so a second daemon fails fast).
absl::Status CheckSocketUnused(const std::string& path);

// Accepts and serves clients until `stop_fd` becomes readable (returns OK)
// or the attestor turns fatal (returns attestor.fatal()). Every connection is
// non-blocking and bounded in time; a broken frame closes only its own
// connection. Every connection's end, and Serve's return, is reported to the
// attestor (Attestor::ConnectionClosed).
absl::Status Serve(Attestor& attestor, int listen_fd, int stop_fd, const ServeOptions& options);

}  // namespace fdattest

#endif  // FDATTEST_ATTESTOR_SERVER_H_
