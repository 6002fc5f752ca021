#include "verifier/bpf_command.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/bpf.h"
#include "common/bpf_explain.h"
#include "common/bpf_properties.h"
#include "common/bpf_symbolic.h"
#include "common/file_io.h"
#include "common/bpf_names.h"
#include "common/json.h"
#include "common/profile.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr size_t kMaxInputBytes = 4 << 20;

struct LoadedFilter {
  std::string bpf;
  std::optional<int> exec_fd;  // from a manifest
  std::string source;          // "bpf file" or "manifest"
  // From a manifest: the declared fds and the profile it was made from.
  std::vector<ExplainContext::DeclaredFd> fds;
  std::string profile_name, profile_sha256;
};

// A manifest is JSON (first non-space byte '{'); anything else is raw BPF.
absl::StatusOr<LoadedFilter> LoadFilter(const std::string& path) {
  absl::StatusOr<std::string> read = ReadFileLimited(path, kMaxInputBytes);
  if (!read.ok()) return absl::NotFoundError(read.status().message());  // a usage error
  std::string bytes = *std::move(read);
  size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || bytes[first] != '{') {
    return LoadedFilter{.bpf = std::move(bytes), .exec_fd = std::nullopt, .source = "bpf file"};
  }
  ASSIGN_OR_RETURN(Json manifest, ParseJsonStrict(bytes, {.max_bytes = kMaxInputBytes, .max_depth = 16}));
  if (!manifest.is_object() || !manifest.contains("filter") || !manifest["filter"].is_object()) {
    return absl::InvalidArgumentError("manifest has no \"filter\" object");
  }
  const Json& f = manifest["filter"];
  if (!f.contains("bpf_base64") || !f["bpf_base64"].is_string() || !f.contains("sha256") ||
      !f["sha256"].is_string()) {
    return absl::InvalidArgumentError("manifest filter lacks bpf_base64 or sha256");
  }
  ASSIGN_OR_RETURN(std::string bpf, Base64Decode(f["bpf_base64"].get<std::string>()));
  ASSIGN_OR_RETURN(std::string want, HexDecode(f["sha256"].get<std::string>()));
  Sha256Digest got = Sha256(bpf);
  Sha256Digest want_digest{};
  if (want.size() != want_digest.size()) return absl::InvalidArgumentError("filter.sha256 is not 32 bytes");
  std::copy(want.begin(), want.end(), want_digest.begin());
  if (!DigestEqual(got, want_digest)) {
    return absl::InvalidArgumentError("manifest filter bytes do not match filter.sha256");
  }
  LoadedFilter out{.bpf = std::move(bpf), .exec_fd = std::nullopt, .source = "manifest"};
  if (f.contains("exec_fd") && f["exec_fd"].is_number_integer()) out.exec_fd = f["exec_fd"].get<int>();
  // Labels only (roles for the text): the filter's meaning comes from its bytes.
  if (manifest.contains("fds") && manifest["fds"].is_array()) {
    for (const Json& fd : manifest["fds"]) {
      if (!fd.is_object() || !fd.contains("fd") || !fd["fd"].is_number_integer()) continue;
      ExplainContext::DeclaredFd d{.fd = fd["fd"].get<int>()};
      if (fd.contains("role") && fd["role"].is_string()) d.role = fd["role"].get<std::string>();
      if (fd.contains("access") && fd["access"].is_string()) d.access = fd["access"].get<std::string>();
      out.fds.push_back(std::move(d));
    }
  }
  if (manifest.contains("profile") && manifest["profile"].is_object()) {
    const Json& p = manifest["profile"];
    if (p.contains("name") && p["name"].is_string()) out.profile_name = p["name"].get<std::string>();
    if (p.contains("sha256") && p["sha256"].is_string()) out.profile_sha256 = p["sha256"].get<std::string>();
  }
  return out;
}

struct Analysis {
  LoadedFilter filter;
  BpfProgram program;
  DecisionTable table;
};

absl::StatusOr<Analysis> Analyze(const std::string& path) {
  ASSIGN_OR_RETURN(LoadedFilter filter, LoadFilter(path));
  ASSIGN_OR_RETURN(BpfProgram program, BpfProgram::Decode(filter.bpf));
  ASSIGN_OR_RETURN(DecisionTable table, DecisionTable::Build(program));
  return Analysis{std::move(filter), std::move(program), std::move(table)};
}

int Fail(const absl::Status& status, bool json, absl::string_view what) {
  if (json) {
    Json j = {{"error", std::string(status.message())}, {"stage", std::string(what)}};
    printf("%s\n", j.dump().c_str());
  } else {
    fprintf(stderr, "fdattest: %s: %s\n", std::string(what).c_str(),
            std::string(status.message()).c_str());
  }
  return status.code() == absl::StatusCode::kNotFound ||
                 (status.code() == absl::StatusCode::kInvalidArgument && what == "load")
             ? kExitUsage
             : kExitCannotAnalyze;
}

Json PropertyJson(const PropertyResult& r) {
  Json j = {{"id", r.id}, {"statement", r.statement}, {"holds", r.holds}};
  if (!r.holds) {
    j["detail"] = r.detail;
    if (r.counterexample) {
      const SeccompInput& in = *r.counterexample;
      Json args = Json::array();
      for (int i = 0; i < 6; ++i) args.push_back(in.arg(i));
      j["counterexample"] = {{"nr", in.nr()},
                             {"syscall", SyscallName(in.nr())},
                             {"arch", in.arch()},
                             {"args", args},
                             {"result", DescribeRet(r.counterexample_ret)}};
    }
  }
  return j;
}

// The declared fds and exec fd to name in an explanation: the profile's when
// given, else the manifest's.
ExplainContext ContextOf(const LoadedFilter& filter, const Profile* profile,
                         std::optional<int> exec_fd) {
  ExplainContext ctx;
  if (profile != nullptr) {
    for (const FdSpec& f : profile->fds) {
      ctx.fds.push_back({.fd = f.fd, .role = f.role, .access = std::string(AccessName(f.access))});
    }
  } else {
    ctx.fds = filter.fds;
  }
  ctx.exec_fd = exec_fd.value_or(filter.exec_fd.value_or(-1));
  return ctx;
}

// A warning when the profile given is not the one the manifest was made from
// (the manifest records its sha256); empty otherwise.
std::string ProfileMismatch(const LoadedFilter& filter, const Profile& profile) {
  if (filter.profile_sha256.empty() || filter.profile_sha256 == profile.Sha256Hex()) return "";
  return absl::StrCat("the profile given (", profile.name, ", sha256 ", profile.Sha256Hex(),
                      ") is not the one the manifest was made from (", filter.profile_name,
                      ", sha256 ", filter.profile_sha256,
                      "): its roles and accesses may not be what the launch declared");
}

}  // namespace

int RunBpfExplain(const BpfCommandOptions& options) {
  absl::StatusOr<Analysis> a = Analyze(options.input);
  if (!a.ok()) return Fail(a.status(), options.json, "analysis");
  std::optional<Profile> profile;
  if (options.profile) {
    absl::StatusOr<Profile> loaded = Profile::Load(*options.profile);
    if (!loaded.ok()) return Fail(loaded.status(), options.json, "profile");
    profile = *std::move(loaded);
  }
  const ExplainContext ctx = ContextOf(a->filter, profile ? &*profile : nullptr, options.exec_fd);
  absl::StatusOr<Explanation> e = Explain(a->program, a->table, ctx);
  if (!e.ok()) return Fail(e.status(), options.json, "explain");
  std::optional<std::vector<PropertyResult>> properties;
  std::string warning;
  if (profile) {
    warning = ProfileMismatch(a->filter, *profile);
    auto results = CheckLauncherProperties(a->table, FdSetsOf(*profile, ctx.exec_fd));
    if (!results.ok()) return Fail(results.status(), options.json, "properties");
    properties = *std::move(results);
  }
  if (!warning.empty() && !options.json) fprintf(stderr, "fdattest: warning: %s\n", warning.c_str());
  if (options.json) {
    Json j = e->ToJson();
    j["source"] = a->filter.source;
    if (!warning.empty()) j["warning"] = warning;
    if (properties) {
      Json p = Json::array();
      for (const PropertyResult& r : *properties) p.push_back(PropertyJson(r));
      j["properties"] = p;
    }
    printf("%s\n", j.dump(2).c_str());
  } else {
    printf("%s", e->ToText().c_str());
    if (properties) {
      printf("\nProperties for profile %s\n", profile->name.c_str());
      for (const PropertyResult& r : *properties) {
        printf("  %-22s %s\n", r.id.c_str(), r.holds ? "holds" : ("FAILS: " + r.detail).c_str());
      }
    }
  }
  return kExitOk;
}

int RunBpfCheck(const BpfCommandOptions& options) {
  if (!options.profile) {
    fprintf(stderr, "fdattest: bpf check needs --profile\n");
    return kExitUsage;
  }
  absl::StatusOr<Profile> profile = Profile::Load(*options.profile);
  if (!profile.ok()) return Fail(profile.status(), options.json, "load");
  absl::StatusOr<Analysis> a = Analyze(options.input);
  if (!a.ok()) return Fail(a.status(), options.json, "analysis");
  int exec_fd = options.exec_fd.value_or(a->filter.exec_fd.value_or(-1));
  const std::string warning = ProfileMismatch(a->filter, *profile);
  auto results = CheckLauncherProperties(a->table, FdSetsOf(*profile, exec_fd));
  if (!results.ok()) return Fail(results.status(), options.json, "properties");
  bool match = true;
  for (const PropertyResult& r : *results) match = match && r.holds;
  if (options.json) {
    Json p = Json::array();
    for (const PropertyResult& r : *results) p.push_back(PropertyJson(r));
    Json j = {{"match", match}, {"profile", profile->name}, {"exec_fd", exec_fd},
              {"filter_sha256", HexEncode(Sha256(a->filter.bpf))}, {"properties", p}};
    if (!warning.empty()) j["warning"] = warning;
    printf("%s\n", j.dump(2).c_str());
  } else {
    if (!warning.empty()) fprintf(stderr, "fdattest: warning: %s\n", warning.c_str());
    for (const PropertyResult& r : *results) {
      printf("%-22s %s  %s\n", r.id.c_str(), r.holds ? "holds" : "FAILS", r.statement.c_str());
      if (!r.holds) {
        printf("    counterexample: %s (the filter answers %s)\n", r.detail.c_str(),
               ActionText(r.counterexample_ret).c_str());
      }
    }
    printf("%s\n", match ? "filter matches the profile" : "filter does NOT match the profile");
  }
  return match ? kExitOk : kExitMismatch;
}

}  // namespace fdattest
