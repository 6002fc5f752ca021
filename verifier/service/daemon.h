// fdverifierd's command line and life cycle: options (docs/service.md), the
// process made non-dumpable (it holds secret plaintext while releasing),
// configuration loaded and checked, the store opened, the HTTPS server run
// until SIGTERM or SIGINT, then a graceful stop. The store and the secret box
// come from the caller, so the binary chooses its store and tests can run
// the daemon itself on another. For main() only; not thread-safe.
#ifndef FDATTEST_VERIFIER_SERVICE_DAEMON_H_
#define FDATTEST_VERIFIER_SERVICE_DAEMON_H_

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "verifier/store.h"

namespace fdattest {

class NoteSigner;  // verifier/audit/signed_note.h
class SecretBox;   // verifier/secret_box.h

// Exit statuses: 0 stopped by SIGTERM/SIGINT, 1 failed while serving (the
// listening socket failed), 4 usage or configuration error (nothing served).
inline constexpr int kDaemonExitFailed = 1;
inline constexpr int kDaemonExitConfig = 4;

struct DaemonDeps {
  // Opens (creating if needed) the store in --data-dir, its audit log signed
  // with `log_signer` (--log-key).
  std::function<absl::StatusOr<std::unique_ptr<Store>>(const std::string& data_dir,
                                                       const NoteSigner* log_signer)>
      open_store;
  // Loads the secret key of --secret-key-file. A null box (with OK) means
  // secrets cannot be stored: PUT /v1/secrets answers 503.
  std::function<absl::StatusOr<std::shared_ptr<SecretBox>>(const std::string& key_file)>
      open_secret_box;
};

int RunFdverifierd(int argc, char** argv, const DaemonDeps& deps);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_DAEMON_H_
