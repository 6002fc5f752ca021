// fdverifierd as tests/integration/fdverifierd_test.cc runs it: the daemon
// itself (verifier/service/daemon.h) on the in-memory store of
// tests/service/fake_store.h, so the HTTPS front, roles, limits and logs are
// tested before and independently of the SQLite store. Never installed.
#include <memory>
#include <string>

#include "common/file_io.h"
#include "tests/service/fake_store.h"
#include "verifier/service/daemon.h"

int main(int argc, char** argv) {
  fdattest::DaemonDeps deps;
  deps.open_store = [](const std::string&) -> absl::StatusOr<std::unique_ptr<fdattest::Store>> {
    return std::make_unique<fdattest::testing::ServiceFakeStore>();
  };
  deps.open_secret_box =
      [](const std::string& key_file) -> absl::StatusOr<std::shared_ptr<fdattest::SecretBox>> {
    RETURN_IF_ERROR(fdattest::ReadFileLimited(key_file, 4096).status());
    return std::shared_ptr<fdattest::SecretBox>();
  };
  return fdattest::RunFdverifierd(argc, argv, deps);
}
