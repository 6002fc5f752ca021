#include "common/profile.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/sha256.h"

namespace fdattest {

absl::string_view AccessName(Access a) {
  switch (a) {
    case Access::kRead: return "r";
    case Access::kWrite: return "w";
    case Access::kReadWrite: return "rw";
    case Access::kAppend: return "a";
  }
  return "?";
}

absl::string_view SourceName(FdSource s) {
  switch (s) {
    case FdSource::kInherit: return "inherit";
    case FdSource::kOpen: return "open";
    case FdSource::kConnect: return "connect";
    case FdSource::kNull: return "null";
    case FdSource::kSecret: return "secret";
  }
  return "?";
}

absl::string_view FdClassName(FdClass c) {
  switch (c) {
    case FdClass::kPhiInput: return "phi_input";
    case FdClass::kPhiOutput: return "phi_output";
    case FdClass::kAudit: return "audit";
    case FdClass::kControl: return "control";
    case FdClass::kSecret: return "secret";
  }
  return "?";
}

bool IsSecretName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::optional<FdClass> KnownRoleClass(absl::string_view role) {
  struct KnownRole {
    absl::string_view name;
    FdClass fd_class;
  };
  static constexpr KnownRole kKnownRoles[] = {
      {"phi-input", FdClass::kPhiInput},   {"phi_input", FdClass::kPhiInput},
      {"phi-output", FdClass::kPhiOutput}, {"phi_output", FdClass::kPhiOutput},
      {"audit-log", FdClass::kAudit},      {"audit_log", FdClass::kAudit},
      {"audit", FdClass::kAudit},          {"secret", FdClass::kSecret},
  };
  for (const KnownRole& k : kKnownRoles) {
    if (k.name == role) return k.fd_class;
  }
  return std::nullopt;
}

namespace {

constexpr size_t kMaxProfileBytes = 64 * 1024;

absl::StatusOr<FdClass> ParseFdClass(const std::string& s, const std::string& where) {
  for (FdClass c : {FdClass::kPhiInput, FdClass::kPhiOutput, FdClass::kAudit, FdClass::kControl,
                    FdClass::kSecret}) {
    if (s == FdClassName(c)) return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": \"class\" must be one of phi_input, phi_output, audit, control, "
                          "secret (got \"", s, "\")"));
}

// A role name with a word "phi" or a word starting with "audit" (words split
// at - _ . / : + and spaces, any case): "PHI-extract", "audit_trail",
// "auditlog"; not "graphics".
bool LooksProtected(absl::string_view role) {
  for (absl::string_view word :
       absl::StrSplit(role, absl::ByAnyChar("-_. /:+"), absl::SkipEmpty())) {
    const std::string lower = absl::AsciiStrToLower(word);
    if (lower == "phi" || absl::StartsWith(lower, "audit")) return true;
  }
  return false;
}

// The class of an entry: the one its well-known role implies, or its
// "class", or control. A name that merely looks like a protected role must
// say which it is: a newcomer's "audit-trail" is not silently unprotected.
absl::StatusOr<FdClass> ResolveClass(const FdSpec& spec, const std::optional<std::string>& given,
                                     const std::string& where) {
  const std::optional<FdClass> known = KnownRoleClass(spec.role);
  // A released secret is its own class, whatever the role is called.
  if (spec.source == FdSource::kSecret && !given.has_value() && !known.has_value()) {
    return FdClass::kSecret;
  }
  if (given.has_value()) {
    ASSIGN_OR_RETURN(FdClass c, ParseFdClass(*given, where));
    if (known.has_value() && *known != c) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": fd ", spec.fd, ": role \"", spec.role, "\" is of class ", FdClassName(*known),
          "; \"class\": \"", *given, "\" contradicts it (use another role name for a ", *given,
          " descriptor)"));
    }
    return c;
  }
  if (known.has_value()) return *known;
  if (LooksProtected(spec.role)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": fd ", spec.fd, ": role \"", spec.role,
        "\" looks like a protected role but is not a well-known one (phi-input, phi-output, "
        "audit-log): state its class with \"class\": \"phi_input\", \"phi_output\", \"audit\" "
        "or \"control\""));
  }
  return FdClass::kControl;
}

// The accesses each class allows (docs/formats/profile.md, "Classes").
absl::Status CheckClassAccess(const FdSpec& spec, const std::string& where) {
  const std::string what = absl::StrCat(where, ": fd ", spec.fd, " (role \"", spec.role,
                                        "\", class ", FdClassName(spec.fd_class), ")");
  const std::string got = absl::StrCat(" (got \"", AccessName(spec.access), "\")");
  switch (spec.fd_class) {
    case FdClass::kPhiInput:
      if (spec.access != Access::kRead) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": \"access\" must be \"r\": a PHI input is read-only", got));
      }
      break;
    case FdClass::kPhiOutput:
      if (spec.access == Access::kRead) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": \"access\" must be \"w\", \"a\" or \"rw\": an output is written", got));
      }
      break;
    case FdClass::kAudit:
      if (spec.source == FdSource::kConnect) {
        if (spec.access != Access::kWrite) {
          return absl::InvalidArgumentError(absl::StrCat(
              what, ": \"access\" must be \"w\" on a socket: an audit trail is only written", got));
        }
      } else if (spec.access != Access::kAppend) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": \"access\" must be \"a\": an audit log is append-only",
            spec.access == Access::kWrite ? " (\"w\" would truncate it)" : "", got));
      }
      break;
    case FdClass::kControl:
      break;
    case FdClass::kSecret:
      if (spec.access != Access::kRead) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, ": \"access\" must be \"r\": a released secret is only read", got));
      }
      break;
  }
  // Exactly the secret source fills a secret descriptor, and it fills no other.
  if ((spec.fd_class == FdClass::kSecret) != (spec.source == FdSource::kSecret)) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, spec.source == FdSource::kSecret
                  ? ": a \"secret\" source needs class secret (role \"secret\", or any role "
                    "without \"class\")"
                  : ": class secret needs the \"secret\" source: {\"secret\": \"NAME\"}"));
  }
  return absl::OkStatus();
}

// A relative path names whichever file the launcher's working directory
// holds; recorded as given, it would tell an auditor nothing.
absl::Status CheckAbsolute(absl::string_view path, absl::string_view key, int fd,
                           const std::string& where) {
  if (!path.empty() && path.front() == '/') return absl::OkStatus();
  // examples/profiles/ are templates: "@DIR@/in.csv" until a script fills it in.
  const bool placeholder = !path.empty() && path.front() == '@';
  return absl::InvalidArgumentError(absl::StrCat(
      where, ": fd ", fd, ": \"", key, "\" path \"", path,
      "\" is relative; give an absolute path (a relative one depends on the launcher's working "
      "directory, and the manifest could not tell an auditor which file it named)",
      placeholder ? "; it starts with a template placeholder that was not filled in" : ""));
}

absl::StatusOr<Access> ParseAccess(const std::string& s, const std::string& where) {
  if (s == "r") return Access::kRead;
  if (s == "w") return Access::kWrite;
  if (s == "rw") return Access::kReadWrite;
  if (s == "a") return Access::kAppend;
  // The words and capitals a newcomer writes for the letters.
  const std::string lower = absl::AsciiStrToLower(s);
  absl::string_view hint;
  if (lower == "r" || lower == "read" || lower == "ro" || lower == "readonly") hint = "r";
  if (lower == "w" || lower == "write" || lower == "wo") hint = "w";
  if (lower == "rw" || lower == "wr" || lower == "readwrite" || lower == "read-write" ||
      lower == "r+w" || lower == "r+") {
    hint = "rw";
  }
  if (lower == "a" || lower == "append" || lower == "ap" || lower == "wa") hint = "a";
  return absl::InvalidArgumentError(absl::StrCat(
      where, ": \"access\" must be one of r (read), w (write; an existing file is truncated), rw, "
      "a (append) (got \"", s, "\"",
      hint.empty() ? "" : absl::StrCat("; did you mean \"", hint, "\"?"), ")"));
}

absl::Status ValidateConnectTarget(const std::string& target, Access access, int fd,
                                   const std::string& where) {
  if (access == Access::kAppend) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": access \"a\" (append-only) applies to files, not sockets"));
  }
  if (absl::StartsWith(target, "unix:")) {
    std::string path = target.substr(5);
    if (path.empty() || path.size() >= 108) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unix socket path must be 1..107 bytes"));
    }
    return CheckAbsolute(path, "connect", fd, where);
  }
  if (absl::StartsWith(target, "tcp:")) {
    std::string rest = target.substr(4);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": \"connect\" must be tcp:HOST:PORT (got \"", target, "\")"));
    }
    std::string port = rest.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), ::isdigit) || port.size() > 5 ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": invalid TCP port \"", port, "\""));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": \"connect\" must start with unix: or tcp: (got \"", target, "\")"));
}

absl::StatusOr<FdSpec> ParseFdEntry(const JsonValue& entry, const std::string& where) {
  JsonValueFields f(entry, where);
  FdSpec spec;
  std::optional<int64_t> fd = f.Int("fd", true, 0, kMaxDeclaredFd);
  std::optional<std::string> role = f.String("role", true);
  std::optional<std::string> access = f.String("access", true);
  std::optional<bool> inherit = f.Bool("inherit", false);
  std::optional<std::string> open = f.String("open", false);
  std::optional<std::string> connect = f.String("connect", false);
  std::optional<bool> null = f.Bool("null", false);
  std::optional<std::string> secret = f.String("secret", false);
  std::optional<bool> hash = f.Bool("hash", false);
  std::optional<std::string> fd_class = f.String("class", false);
  RETURN_IF_ERROR(f.Finish());

  spec.fd = static_cast<int>(*fd);
  spec.role = *role;
  if (spec.role.empty() || spec.role.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": \"role\" must be 1..64 characters"));
  }
  ASSIGN_OR_RETURN(spec.access, ParseAccess(*access, where));

  int sources = 0;
  if (inherit.has_value()) {
    if (!*inherit) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": \"inherit\" may only be true (omit it otherwise)"));
    }
    ++sources;
    spec.source = FdSource::kInherit;
  }
  if (open.has_value()) {
    ++sources;
    spec.source = FdSource::kOpen;
    spec.target = *open;
    if (spec.target.empty() || spec.target.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": \"open\" path must not be empty"));
    }
    RETURN_IF_ERROR(CheckAbsolute(spec.target, "open", spec.fd, where));
  }
  if (connect.has_value()) {
    ++sources;
    spec.source = FdSource::kConnect;
    spec.target = *connect;
    RETURN_IF_ERROR(ValidateConnectTarget(spec.target, spec.access, spec.fd, where));
  }
  if (null.has_value()) {
    if (!*null) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": \"null\" may only be true (omit it otherwise)"));
    }
    ++sources;
    spec.source = FdSource::kNull;
  }
  if (secret.has_value()) {
    ++sources;
    spec.source = FdSource::kSecret;
    spec.target = *secret;
    if (!IsSecretName(spec.target)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": fd ", spec.fd, ": \"secret\" must be a name of 1..64 characters of "
          "A-Za-z0-9._- (got \"", spec.target, "\")"));
    }
  }
  if (sources == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": fd ", spec.fd, " has no source (one of inherit, open, connect, null, secret)"));
  }
  if (sources > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": fd ", spec.fd, " has ", sources,
        " sources; exactly one of inherit, open, connect, null, secret is allowed"));
  }
  ASSIGN_OR_RETURN(spec.fd_class, ResolveClass(spec, fd_class, where));
  RETURN_IF_ERROR(CheckClassAccess(spec, where));
  if (hash.value_or(false)) {
    if (spec.access != Access::kRead ||
        (spec.source != FdSource::kOpen && spec.source != FdSource::kInherit)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": \"hash\" applies only to read-only files from open or inherit"));
    }
    spec.hash_content = true;
  }
  return spec;
}

}  // namespace

absl::StatusOr<Profile> Profile::Parse(absl::string_view text) {
  // The document reader (one pass, no tree of allocations): a launch parses
  // its profile on every start. Its strings point into `text`.
  ASSIGN_OR_RETURN(JsonDocument doc, ParseJsonDocumentBorrowing(
                                         text, {.max_bytes = kMaxProfileBytes, .max_depth = 8}));
  JsonValueFields f(doc.root(), "profile");
  std::optional<int64_t> version = f.Int("version", true, 1, 1);
  std::optional<std::string> name = f.String("name", true);
  std::optional<std::string> on_violation = f.String("on_violation", false);
  const JsonValue* fds = f.Array("fds", true);
  RETURN_IF_ERROR(f.Finish());

  Profile p;
  p.version = static_cast<int>(*version);
  p.name = *name;
  if (p.name.empty() || p.name.size() > 128) {
    return absl::InvalidArgumentError("profile: \"name\" must be 1..128 characters");
  }
  std::string ov = on_violation.value_or("errno");
  if (ov == "errno") {
    p.on_violation = OnViolation::kErrno;
  } else if (ov == "kill") {
    p.on_violation = OnViolation::kKill;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("profile: \"on_violation\" must be \"errno\" or \"kill\" (got \"", ov, "\")"));
  }
  if (fds->size() > kMaxDeclaredFds) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile: at most ", kMaxDeclaredFds, " fds may be declared"));
  }
  std::map<int, size_t> seen;  // fd -> its entry
  for (size_t i = 0; i < fds->size(); ++i) {
    ASSIGN_OR_RETURN(FdSpec spec, ParseFdEntry((*fds)[i], absl::StrCat("profile.fds[", i, "]")));
    if (auto [it, inserted] = seen.emplace(spec.fd, i); !inserted) {
      return absl::InvalidArgumentError(absl::StrCat("profile.fds[", i, "]: fd ", spec.fd,
                                                     " is declared twice (first in profile.fds[",
                                                     it->second, "])"));
    }
    if (spec.source == FdSource::kSecret) {
      for (const FdSpec& other : p.fds) {
        if (other.source == FdSource::kSecret && other.target == spec.target) {
          return absl::InvalidArgumentError(
              absl::StrCat("profile.fds[", i, "]: secret \"", spec.target,
                           "\" is declared twice (also at fd ", other.fd, ")"));
        }
      }
    }
    p.fds.push_back(std::move(spec));
  }
  std::sort(p.fds.begin(), p.fds.end(),
            [](const FdSpec& a, const FdSpec& b) { return a.fd < b.fd; });
  p.text = std::string(text);
  return p;
}

absl::StatusOr<Profile> Profile::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, kMaxProfileBytes));
  absl::StatusOr<Profile> profile = Parse(text);
  // The JSON reader's messages do not say which file they are about.
  if (!profile.ok() && !absl::StartsWith(profile.status().message(), "profile")) {
    return absl::Status(profile.status().code(),
                        absl::StrCat("profile ", path, ": ", profile.status().message()));
  }
  return profile;
}

std::string Profile::Sha256Hex() const { return HexEncode(Sha256(text)); }

const FdSpec* Profile::Find(int fd) const {
  for (const auto& s : fds) {
    if (s.fd == fd) return &s;
  }
  return nullptr;
}

}  // namespace fdattest
