#include "tests/support/jose_test_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/unique_fd.h"

extern char** environ;

namespace fdattest::testing {

ScratchDir::ScratchDir() {
  char tmpl[] = "/tmp/fdattest-jose-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    perror("mkdtemp");
    abort();
  }
  dir_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string ScratchDir::Path(absl::string_view name) const { return absl::StrCat(dir_, "/", name); }

std::string ScratchDir::Write(absl::string_view name, absl::string_view data, int mode) const {
  const std::string path = Path(name);
  unlink(path.c_str());
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd || write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()) ||
      fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) {
    perror(path.c_str());
    abort();
  }
  return path;
}

std::string ScratchDir::Read(absl::string_view name) const {
  auto data = ReadFileLimited(Path(name), 1 << 20);
  return data.ok() ? *data : "";
}

absl::StatusOr<ProcessResult> RunJose(const std::vector<std::string>& args, const ScratchDir& dir) {
  std::vector<std::string> argv = {"jose"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const std::string out_path = dir.Path(".jose-stdout");
  const std::string err_path = dir.Path(".jose-stderr");

  posix_spawn_file_actions_t actions;
  if (posix_spawn_file_actions_init(&actions) != 0) return absl::InternalError("file actions");
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "jose", &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return ErrnoStatus("posix_spawnp jose (apt-get install jose)", rc);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoStatus("waitpid", errno);
  }
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = dir.Read(".jose-stdout");
  result.err = dir.Read(".jose-stderr");
  return result;
}

}  // namespace fdattest::testing
