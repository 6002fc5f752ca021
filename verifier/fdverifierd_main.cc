// fdverifierd: the verifier as an HTTPS service. See docs/service.md.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "verifier/secret_box.h"
#include "verifier/sqlite_store.h"
#include "verifier/service/daemon.h"

namespace {

// The store in --data-dir: SQLite in WAL mode (verifier/sqlite_store.h),
// its audit log signed with the --log-key.
absl::StatusOr<std::unique_ptr<fdattest::Store>> OpenStore(const std::string& data_dir,
                                                           const fdattest::NoteSigner* log_signer) {
  fdattest::SqliteStore::Options options;
  options.log_signer = log_signer;
  ASSIGN_OR_RETURN(std::unique_ptr<fdattest::SqliteStore> store,
                   fdattest::SqliteStore::Open(data_dir, options));
  return std::unique_ptr<fdattest::Store>(std::move(store));
}

// The key of --secret-key-file (verifier/secret_box.h): an existing file of
// 32 bytes, mode 0600 or 0400. Never made here: a mistyped path must not
// quietly start a verifier whose stored secrets no longer open.
absl::StatusOr<std::shared_ptr<fdattest::SecretBox>> OpenSecretBox(const std::string& key_file) {
  absl::StatusOr<fdattest::SecretBox> box = fdattest::SecretBox::Open(key_file);
  if (!box.ok()) {
    return absl::Status(box.status().code(),
                        absl::StrCat(box.status().message(),
                                     " (make a new key file with: fdattest key secret --out ",
                                     key_file, ")"));
  }
  return std::make_shared<fdattest::SecretBox>(*std::move(box));
}

}  // namespace

int main(int argc, char** argv) {
  return fdattest::RunFdverifierd(argc, argv, {OpenStore, OpenSecretBox});
}
