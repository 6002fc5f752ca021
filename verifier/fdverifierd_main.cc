// fdverifierd: the verifier as an HTTPS service. See docs/service.md.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "verifier/service/daemon.h"

namespace {

// The store in --data-dir.
// TO WIRE AT MERGE: `return fdattest::SqliteStore::Open(data_dir);`
// (verifier/sqlite_store.h), converted to std::unique_ptr<fdattest::Store>.
absl::StatusOr<std::unique_ptr<fdattest::Store>> OpenStore(const std::string& data_dir) {
  return absl::UnimplementedError(
      absl::StrCat("no store implementation is built in to open ", data_dir));
}

// The secret box of --secret-key-file.
// TO WIRE AT MERGE: load it with verifier/secret_box.h. Until then the file
// must be readable and no secret can be stored (PUT /v1/secrets is 503).
absl::StatusOr<std::shared_ptr<fdattest::SecretBox>> OpenSecretBox(const std::string& key_file) {
  if (absl::StatusOr<std::string> key = fdattest::ReadFileLimited(key_file, 4096); !key.ok()) {
    return key.status();
  }
  return std::shared_ptr<fdattest::SecretBox>();
}

}  // namespace

int main(int argc, char** argv) {
  return fdattest::RunFdverifierd(argc, argv, {OpenStore, OpenSecretBox});
}
