#include "launcher/executable.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

#ifdef MFD_EXEC
constexpr unsigned kMfdExec = MFD_EXEC;
#else
constexpr unsigned kMfdExec = 0x0010U;  // linux/memfd.h, Linux 6.3
#endif

absl::StatusOr<std::string> Resolve(const std::string& program) {
  if (program.empty()) return absl::InvalidArgumentError("no program given");
  if (program.find('/') != std::string::npos) return program;
  const char* path_env = getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::InvalidArgumentError(absl::StrCat("program ", program, " not found in PATH"));
}

absl::Status ReadExact(int fd, void* buf, size_t len, off_t off, const std::string& path) {
  ssize_t n = pread(fd, buf, len, off);
  if (n < 0) return ErrnoStatus(absl::StrCat("cannot read ", path), errno);
  if (static_cast<size_t>(n) != len) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is truncated: not a valid ELF file"));
  }
  return absl::OkStatus();
}

// Refuses anything the kernel would not run as a static x86_64 ELF.
absl::Status CheckStaticElf(int fd, const std::string& path) {
  char magic[4] = {};
  ssize_t n = pread(fd, magic, sizeof(magic), 0);
  if (n >= 2 && magic[0] == '#' && magic[1] == '!') {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is a script: its interpreter would be opened by path, which the filter forbids; "
              "run a static binary"));
  }
  Elf64_Ehdr eh{};
  RETURN_IF_ERROR(ReadExact(fd, &eh, sizeof(eh), 0, path));
  if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {  // banned-ok: ELF magic, not a digest
    return absl::InvalidArgumentError(absl::StrCat(path, " is not an ELF executable"));
  }
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not an x86_64 ELF executable (the filter kills every other ABI)"));
  }
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not an executable ELF file"));
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 512) {
    return absl::InvalidArgumentError(absl::StrCat(path, " has malformed program headers"));
  }
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  RETURN_IF_ERROR(ReadExact(fd, ph.data(), ph.size() * sizeof(Elf64_Phdr),
                            static_cast<off_t>(eh.e_phoff), path));
  for (const Elf64_Phdr& p : ph) {
    if (p.p_type != PT_INTERP) continue;
    std::string interp(std::min<uint64_t>(p.p_filesz, 256), '\0');
    RETURN_IF_ERROR(ReadExact(fd, interp.data(), interp.size(), static_cast<off_t>(p.p_offset), path));
    interp.resize(strnlen(interp.c_str(), interp.size()));
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is dynamically linked (ELF interpreter ", interp,
        "): its loader must open shared libraries, which the fd-confining filter forbids; "
        "use a statically linked build"));
  }
  return absl::OkStatus();
}

// A sealed memfd holding the program's bytes: no write, no resize, no new
// seals. Executable (MFD_EXEC where the kernel knows it; older kernels have
// no memfd exec restriction).
absl::StatusOr<UniqueFd> SealedCopy(int fd, off_t size, const std::string& path) {
  const unsigned base = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  UniqueFd mem(static_cast<int>(syscall(SYS_memfd_create, "fdattest-exe", base | kMfdExec)));
  if (!mem && errno == EINVAL) mem.reset(static_cast<int>(syscall(SYS_memfd_create, "fdattest-exe", base)));
  if (!mem) return ErrnoStatus("memfd_create for the program copy", errno);
  off_t offset = 0;
  while (offset < size) {
    ssize_t n = sendfile(mem.get(), fd, &offset, static_cast<size_t>(size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(absl::StrCat("copying ", path), errno);
    if (n == 0) return absl::InvalidArgumentError(absl::StrCat(path, " shrank while being copied"));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size != size) {
    return absl::InvalidArgumentError(absl::StrCat(path, " changed size while being copied"));
  }
  if (fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    return ErrnoStatus("sealing the program copy", errno);
  }
  return mem;
}

}  // namespace

absl::StatusOr<Executable> OpenExecutable(const std::string& program, int min_fd, bool hash) {
  Executable exe;
  ASSIGN_OR_RETURN(exe.path, Resolve(program));
  UniqueFd fd(open(exe.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return ErrnoStatus(absl::StrCat("cannot open program ", exe.path), errno);
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus("fstat program", errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(exe.path, " is not a regular file"));
  }
  if ((st.st_mode & 0111) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(exe.path, " is not executable"));
  }
  RETURN_IF_ERROR(CheckStaticElf(fd.get(), exe.path));
  // The workload holds no capability (capabilities.h); a program marked with
  // file capabilities would get none of them, and one whose effective bit is
  // set fails its exec (capabilities(7), "capability-dumb binaries") at a
  // point where nothing can be reported. Refused here instead.
  if (fgetxattr(fd.get(), "security.capability", nullptr, 0) >= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        exe.path, " carries file capabilities (security.capability); the workload runs with no "
                  "capability, so they would not apply"));
  }
  if (errno != ENODATA && errno != ENOTSUP) {
    return ErrnoStatus(absl::StrCat("reading ", exe.path, "'s file capabilities"), errno);
  }
  if (hash) {
    // The digest is a claim about what runs: hash and execute an immutable
    // copy, so a writer of the file cannot swap its content in between.
    ASSIGN_OR_RETURN(fd, SealedCopy(fd.get(), st.st_size, exe.path));
    RETURN_IF_ERROR(CheckStaticElf(fd.get(), exe.path));
    ASSIGN_OR_RETURN(Sha256Digest digest, Sha256OfFile(fd.get()));
    exe.sha256 = HexEncode(digest);
  }
  exe.fd = UniqueFd(fcntl(fd.get(), F_DUPFD_CLOEXEC, min_fd));
  if (!exe.fd) return ErrnoStatus("cannot move the program descriptor", errno);
  return exe;
}

}  // namespace fdattest
