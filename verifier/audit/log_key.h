// The audit log's keys as fdverifierd reads them from files made by
// `fdattest key log` and `fdattest key witness` (docs/verifier-cli.md): the
// log's signing key (PKCS#8 PEM, private to its owner) with its verifier key
// beside it in FILE.vkey, which names the log (its origin); and witnesses'
// verifier keys, one per file. Stateless functions; thread-safe.
#ifndef FDATTEST_VERIFIER_AUDIT_LOG_KEY_H_
#define FDATTEST_VERIFIER_AUDIT_LOG_KEY_H_

#include <string>

#include "common/status.h"
#include "verifier/audit/signed_note.h"

namespace fdattest {

// FailedPrecondition unless `path` is a regular file (not a symlink) that
// group and others cannot access; InvalidArgument unless it holds an Ed25519
// private key whose verifier key is the one in `path`.vkey.
absl::StatusOr<NoteSigner> LoadLogSigner(const std::string& path);

// A witness's verifier key (cosignature/v1, type 0x04) from a file holding
// one vkey line.
absl::StatusOr<NoteVerifier> LoadWitnessKey(const std::string& path);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_LOG_KEY_H_
