#include "verifier/audit/bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "common/sha256.h"
#include "common/unique_fd.h"

namespace fdattest {
namespace {

std::string Errno(absl::string_view what) { return absl::StrCat(what, ": ", strerror(errno)); }

bool IsHexName(absl::string_view s, size_t length) {
  return s.size() == length && IsLowerHex(s);
}

// A name with a suffix: the stem if `name` is <stem><suffix>.
std::optional<std::string> Stem(absl::string_view name, absl::string_view suffix) {
  if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) {
    return std::nullopt;
  }
  return std::string(name.substr(0, name.size() - suffix.size()));
}

// ---------------------------------------------------------------------------
// Reading, always under a directory descriptor.

absl::StatusOr<UniqueFd> OpenDirAt(int parent, const std::string& name, const std::string& shown) {
  UniqueFd fd(openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return absl::InvalidArgumentError(
        absl::StrCat(shown, ": ", errno == ENOTDIR || errno == ELOOP ? "not a directory" : strerror(errno)));
  }
  return fd;
}

// The names in directory `fd`, with whether each is a directory; symbolic
// links and special files are refused here, before anything opens them.
absl::StatusOr<std::vector<std::pair<std::string, bool>>> ListDir(int fd, const std::string& shown) {
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return absl::InternalError(Errno(shown));
  DIR* dir = fdopendir(dup);
  if (dir == nullptr) {
    CloseRawFd(dup);
    return absl::InternalError(Errno(shown));
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(dir, closedir);
  rewinddir(dir);
  std::vector<std::pair<std::string, bool>> names;
  while (true) {
    errno = 0;
    struct dirent* d = readdir(dir);
    if (d == nullptr) {
      if (errno != 0) return absl::InternalError(Errno(shown));
      break;
    }
    std::string name = d->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = shown.empty() ? name : absl::StrCat(shown, "/", name);
    struct stat st;
    if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return absl::InvalidArgumentError(Errno(path));
    }
    if (S_ISLNK(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": a symbolic link (refused)"));
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file or directory"));
    }
    if (names.size() >= kMaxBundleEntries) {
      return absl::InvalidArgumentError(absl::StrCat(shown, ": too many names"));
    }
    names.emplace_back(std::move(name), S_ISDIR(st.st_mode));
  }
  return names;
}

absl::StatusOr<std::string> ReadFileAt(int parent, const std::string& name,
                                       const std::string& shown) {
  UniqueFd fd(openat(parent, name.c_str(),
                     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return absl::InvalidArgumentError(Errno(shown));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return absl::InternalError(Errno(shown));
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(shown, ": not a regular file"));
  if (static_cast<uint64_t>(st.st_size) > kMaxBundleFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(shown, ": larger than ", kMaxBundleFileBytes, " bytes"));
  }
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(Errno(shown));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxBundleFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat(shown, ": larger than ", kMaxBundleFileBytes, " bytes"));
    }
  }
  return out;
}

absl::Status Unknown(const std::string& path, bool is_dir) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": unknown ", is_dir ? "directory" : "file", " (not part of the layout)"));
}

// Reads a directory of files whose names `key_of` maps to a key.
template <typename Key>
absl::Status ReadFlatDir(int parent, const std::string& dir_name,
                         const std::function<std::optional<Key>(absl::string_view)>& key_of,
                         std::map<Key, std::string>* out) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenDirAt(parent, dir_name, dir_name));
  ASSIGN_OR_RETURN(auto names, ListDir(fd.get(), dir_name));
  for (const auto& [name, is_dir] : names) {
    const std::string path = absl::StrCat(dir_name, "/", name);
    std::optional<Key> key = key_of(name);
    if (is_dir || !key) return Unknown(path, is_dir);
    ASSIGN_OR_RETURN(std::string data, ReadFileAt(fd.get(), name, path));
    (*out)[*key] = std::move(data);
  }
  return absl::OkStatus();
}

std::function<std::optional<std::string>(absl::string_view)> HexFile(absl::string_view suffix,
                                                                     size_t length) {
  return [suffix, length](absl::string_view name) -> std::optional<std::string> {
    std::optional<std::string> stem = Stem(name, suffix);
    if (!stem || !IsHexName(*stem, length)) return std::nullopt;
    return stem;
  };
}

absl::Status ReadEntry(int parent, const std::string& name, AuditBundleEntry* entry) {
  const std::string shown = absl::StrCat("entries/", name);
  ASSIGN_OR_RETURN(UniqueFd fd, OpenDirAt(parent, name, shown));
  ASSIGN_OR_RETURN(auto names, ListDir(fd.get(), shown));
  bool have_leaf = false, have_proof = false;
  for (const auto& [file, is_dir] : names) {
    const std::string path = absl::StrCat(shown, "/", file);
    std::string* plain = nullptr;
    std::optional<std::string>* optional = nullptr;
    if (file == "leaf") {
      plain = &entry->leaf;
      have_leaf = true;
    } else if (file == "proof") {
      plain = &entry->proof;
      have_proof = true;
    } else if (file == "evidence.json") {
      optional = &entry->evidence;
    } else if (file == "result.json") {
      optional = &entry->result;
    } else if (file == "decision.json") {
      optional = &entry->decision;
    } else if (file == "gone") {
      optional = &entry->gone;
    }
    if (is_dir || (plain == nullptr && optional == nullptr)) return Unknown(path, is_dir);
    ASSIGN_OR_RETURN(std::string data, ReadFileAt(fd.get(), file, path));
    if (plain != nullptr) {
      *plain = std::move(data);
    } else {
      *optional = std::move(data);
    }
  }
  if (!have_leaf) return absl::InvalidArgumentError(absl::StrCat(shown, "/leaf: missing"));
  if (!have_proof) return absl::InvalidArgumentError(absl::StrCat(shown, "/proof: missing"));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Writing.

absl::Status WriteFileAt(int parent, const std::string& name, absl::string_view data,
                         const std::string& shown) {
  UniqueFd fd(openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     0644));
  if (!fd) return absl::FailedPreconditionError(Errno(shown));
  if (fchmod(fd.get(), 0644) != 0) return absl::InternalError(Errno(shown));
  while (!data.empty()) {
    ssize_t n = write(fd.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(Errno(shown));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> MakeDirAt(int parent, const std::string& name, const std::string& shown) {
  if (mkdirat(parent, name.c_str(), 0755) != 0) return absl::FailedPreconditionError(Errno(shown));
  ASSIGN_OR_RETURN(UniqueFd fd, OpenDirAt(parent, name, shown));
  if (fchmod(fd.get(), 0755) != 0) return absl::InternalError(Errno(shown));
  return fd;
}

absl::Status WriteFlat(int parent, const std::string& dir_name,
                       const std::map<std::string, std::string>& files, absl::string_view suffix,
                       size_t hex_length) {
  ASSIGN_OR_RETURN(UniqueFd fd, MakeDirAt(parent, dir_name, dir_name));
  for (const auto& [key, data] : files) {
    if (!IsHexName(key, hex_length)) {
      return absl::InvalidArgumentError(absl::StrCat(dir_name, ": bad name ", key));
    }
    const std::string name = absl::StrCat(key, suffix);
    RETURN_IF_ERROR(WriteFileAt(fd.get(), name, data, absl::StrCat(dir_name, "/", name)));
  }
  return absl::OkStatus();
}

absl::Status WriteNumbered(int parent, const std::string& dir_name,
                           const std::map<uint64_t, std::string>& files) {
  ASSIGN_OR_RETURN(UniqueFd fd, MakeDirAt(parent, dir_name, dir_name));
  for (const auto& [key, data] : files) {
    const std::string name = absl::StrCat(key);
    RETURN_IF_ERROR(WriteFileAt(fd.get(), name, data, absl::StrCat(dir_name, "/", name)));
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<uint64_t> ParseBundleNumber(absl::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(s, &value)) return std::nullopt;
  return value;
}

absl::Status AuditBundle::Write(const std::string& dir) const {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(Errno(dir));
  }
  UniqueFd root(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return absl::FailedPreconditionError(Errno(dir));
  ASSIGN_OR_RETURN(auto existing, ListDir(root.get(), ""));
  if (!existing.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(dir, ": exists and is not empty"));
  }
  if (fchmod(root.get(), 0755) != 0) return absl::InternalError(Errno(dir));
  RETURN_IF_ERROR(WriteFileAt(root.get(), "format", kAuditBundleFormat, "format"));
  RETURN_IF_ERROR(WriteFileAt(root.get(), "checkpoint", checkpoint, "checkpoint"));
  RETURN_IF_ERROR(WriteFileAt(root.get(), "log.vkey", log_vkey, "log.vkey"));
  RETURN_IF_ERROR(WriteFileAt(root.get(), "jwks.json", jwks, "jwks.json"));
  RETURN_IF_ERROR(WriteFlat(root.get(), "tpm-ca", tpm_cas, ".pem", 64));
  RETURN_IF_ERROR(WriteFlat(root.get(), "policies", policies, ".json", 64));
  RETURN_IF_ERROR(WriteFlat(root.get(), "attesters", attesters, ".json", 32));
  RETURN_IF_ERROR(WriteNumbered(root.get(), "checkpoints", checkpoints));
  RETURN_IF_ERROR(WriteNumbered(root.get(), "consistency", consistency));
  ASSIGN_OR_RETURN(UniqueFd entries_fd, MakeDirAt(root.get(), "entries", "entries"));
  for (const auto& [index, entry] : entries) {
    const std::string name = absl::StrCat(index);
    const std::string shown = absl::StrCat("entries/", name);
    ASSIGN_OR_RETURN(UniqueFd fd, MakeDirAt(entries_fd.get(), name, shown));
    RETURN_IF_ERROR(WriteFileAt(fd.get(), "leaf", entry.leaf, shown + "/leaf"));
    RETURN_IF_ERROR(WriteFileAt(fd.get(), "proof", entry.proof, shown + "/proof"));
    for (const auto& [file, data] : {std::pair{"evidence.json", &entry.evidence},
                                     std::pair{"result.json", &entry.result},
                                     std::pair{"decision.json", &entry.decision},
                                     std::pair{"gone", &entry.gone}}) {
      if (*data) RETURN_IF_ERROR(WriteFileAt(fd.get(), file, **data, absl::StrCat(shown, "/", file)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AuditBundle> AuditBundle::Read(const std::string& dir) {
  UniqueFd root(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return absl::InvalidArgumentError(Errno(dir));
  ASSIGN_OR_RETURN(auto names, ListDir(root.get(), ""));
  AuditBundle bundle;
  bool have_format = false, have_checkpoint = false, have_vkey = false, have_jwks = false;
  auto number = [](absl::string_view name) { return ParseBundleNumber(name); };
  for (const auto& [name, is_dir] : names) {
    if (!is_dir) {
      std::string* target = nullptr;
      if (name == "format") {
        have_format = true;
        std::string format;
        ASSIGN_OR_RETURN(format, ReadFileAt(root.get(), name, name));
        if (format != kAuditBundleFormat) {
          return absl::InvalidArgumentError(
              "format: not \"fdattest-audit-bundle/v1\" (not a bundle, or another version)");
        }
        continue;
      }
      if (name == "checkpoint") {
        target = &bundle.checkpoint;
        have_checkpoint = true;
      } else if (name == "log.vkey") {
        target = &bundle.log_vkey;
        have_vkey = true;
      } else if (name == "jwks.json") {
        target = &bundle.jwks;
        have_jwks = true;
      } else {
        return Unknown(name, false);
      }
      ASSIGN_OR_RETURN(*target, ReadFileAt(root.get(), name, name));
      continue;
    }
    if (name == "tpm-ca") {
      RETURN_IF_ERROR(ReadFlatDir<std::string>(root.get(), name, HexFile(".pem", 64), &bundle.tpm_cas));
    } else if (name == "policies") {
      RETURN_IF_ERROR(
          ReadFlatDir<std::string>(root.get(), name, HexFile(".json", 64), &bundle.policies));
    } else if (name == "attesters") {
      RETURN_IF_ERROR(
          ReadFlatDir<std::string>(root.get(), name, HexFile(".json", 32), &bundle.attesters));
    } else if (name == "checkpoints") {
      RETURN_IF_ERROR(ReadFlatDir<uint64_t>(root.get(), name, number, &bundle.checkpoints));
    } else if (name == "consistency") {
      RETURN_IF_ERROR(ReadFlatDir<uint64_t>(root.get(), name, number, &bundle.consistency));
    } else if (name == "entries") {
      ASSIGN_OR_RETURN(UniqueFd fd, OpenDirAt(root.get(), name, name));
      ASSIGN_OR_RETURN(auto indexes, ListDir(fd.get(), name));
      for (const auto& [index_name, index_is_dir] : indexes) {
        std::optional<uint64_t> index = ParseBundleNumber(index_name);
        if (!index_is_dir || !index) return Unknown(absl::StrCat("entries/", index_name), index_is_dir);
        RETURN_IF_ERROR(ReadEntry(fd.get(), index_name, &bundle.entries[*index]));
      }
    } else {
      return Unknown(name, true);
    }
  }
  if (!have_format) return absl::InvalidArgumentError("format: missing (not an audit bundle)");
  if (!have_checkpoint) return absl::InvalidArgumentError("checkpoint: missing");
  if (!have_vkey) return absl::InvalidArgumentError("log.vkey: missing");
  if (!have_jwks) return absl::InvalidArgumentError("jwks.json: missing");
  return bundle;
}

std::string FormatMerkleProof(const std::vector<MerkleHash>& proof) {
  std::string out;
  for (const MerkleHash& h : proof) {
    absl::StrAppend(&out, Base64Encode(absl::string_view(reinterpret_cast<const char*>(h.data()), h.size())),
                    "\n");
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseMerkleProof(absl::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  if (text.back() != '\n') return absl::InvalidArgumentError("the last line does not end in \\n");
  text.remove_suffix(1);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (out.size() >= 64) return absl::InvalidArgumentError("more than 64 hashes");
    absl::StatusOr<std::string> hash = Base64Decode(line);
    if (!hash.ok() || hash->size() != 32 || Base64Encode(*hash) != line) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", out.size() + 1, " is not the base64 of a 32-byte hash"));
    }
    out.push_back(*std::move(hash));
  }
  return out;
}

std::string FormatGoneBlobs(const std::vector<GoneBlob>& gone) {
  std::string out;
  for (const GoneBlob& g : gone) absl::StrAppend(&out, g.kind, " ", g.why, "\n");
  return out;
}

absl::StatusOr<std::vector<GoneBlob>> ParseGoneBlobs(absl::string_view text) {
  static constexpr absl::string_view kKinds[] = {"evidence", "result", "decision"};
  std::vector<GoneBlob> out;
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("not one or more lines ending in \\n");
  }
  text.remove_suffix(1);
  size_t next_kind = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> words = absl::StrSplit(line, ' ');
    if (words.size() != 2 || (words[1] != "shredded" && words[1] != "expired")) {
      return absl::InvalidArgumentError(absl::StrCat("line \"", line, "\" is not \"<kind> shredded|expired\""));
    }
    while (next_kind < 3 && kKinds[next_kind] != words[0]) ++next_kind;
    if (next_kind == 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("line \"", line, "\": kind out of order, repeated or unknown"));
    }
    out.push_back({std::string(words[0]), std::string(words[1])});
    ++next_kind;
  }
  return out;
}

}  // namespace fdattest
