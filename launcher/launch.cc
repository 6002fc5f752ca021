#include "launcher/launch.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/fingerprint.h"
#include "common/manifest.h"
#include "common/profile.h"
#include "common/sha256.h"
#include "launcher/attestor_client.h"
#include "launcher/capabilities.h"
#include "launcher/collect_evidence.h"
#include "launcher/executable.h"
#include "launcher/fd_setup.h"
#include "launcher/filter.h"
#include "launcher/filter_cache.h"
#include "launcher/final_exec.h"
#include "launcher/jwe_decrypt.h"
#include "launcher/observed_exec.h"
#include "launcher/secret_fd.h"
#include "launcher/secret_source.h"
#include "launcher/self_check.h"

extern char** environ;

namespace fdattest {
namespace {

constexpr char kLauncherVersion[] = "0.1.0";
constexpr uint32_t kInstallFlags = 0;  // seccomp(SECCOMP_SET_MODE_FILTER, flags): single-threaded
// From letting the held child go to its exec: the child only enters the
// empty root, closes descriptors and installs the filter.
constexpr std::chrono::milliseconds kExecTimeout{10000};

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  if (getrandom(bytes.data(), n, 0) != static_cast<ssize_t>(n)) {
    return ErrnoStatus("getrandom", errno);
  }
  return bytes;
}

absl::StatusOr<std::string> NewLaunchId() {
  ASSIGN_OR_RETURN(std::string id, RandomBytes(16));
  return HexEncode(id);
}

std::string NowRfc3339() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

// Core dumps would write the workload's memory (PHI) outside its declared
// fds. RLIMIT_CORE = 1 stops both file dumps (below the ELF minimum of a page)
// and pipe dumps (fs/coredump.c refuses a pipe dump when the limit is 1);
// hard = soft so the workload cannot raise it, and the filter refuses
// prlimit64 with a new limit anyway.
// A hard limit of 0 set by the caller cannot be raised to 1 without
// CAP_SYS_RESOURCE; 0 still stops file dumps, and the manifest records it.
absl::Status DisableCoreDumps() {
  rlimit rl{.rlim_cur = 1, .rlim_max = 1};
  if (setrlimit(RLIMIT_CORE, &rl) == 0) return absl::OkStatus();
  rl = {.rlim_cur = 0, .rlim_max = 0};
  if (setrlimit(RLIMIT_CORE, &rl) != 0) return ErrnoStatus("setrlimit(RLIMIT_CORE)", errno);
  return absl::OkStatus();
}

// Process facts for the manifest: credentials, namespaces, rlimits, env names.
void DescribeProcess(Manifest& m) {
  m.uid = getuid();
  m.gid = getgid();
  m.euid = geteuid();
  m.egid = getegid();
  UniqueFd self(open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (self) m.namespaces = NamespacesAt(self.get());
  struct Limit {
    const char* name;
    int resource;
  };
  for (Limit l : {Limit{"as", RLIMIT_AS}, Limit{"core", RLIMIT_CORE}, Limit{"fsize", RLIMIT_FSIZE},
                  Limit{"nofile", RLIMIT_NOFILE}, Limit{"nproc", RLIMIT_NPROC}}) {
    rlimit rl{};
    if (getrlimit(l.resource, &rl) == 0) m.rlimits[l.name] = {rl.rlim_cur, rl.rlim_max};
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    m.env_names.emplace_back(entry.substr(0, entry.find('=')));
  }
  std::sort(m.env_names.begin(), m.env_names.end());
}

std::string LauncherDigest() {
  UniqueFd self(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return "";
  auto d = Sha256OfFile(self.get());
  return d.ok() ? HexEncode(*d) : "";
}

// What steps 7-13 need from outside the launch, checked before step 6 changes
// anything on disk, so that the common ways to fail late (no attestor
// listening, no verifier answering, an output directory that does not exist
// or is read-only) leave
// every declared file as it was. The attestor is only connected to and let
// go here (step 10 connects again), so no idle connection waits while fds are
// hashed; an attestor that stops in between still fails the launch late.
absl::Status CheckLateDependencies(const LaunchOptions& options) {
  for (const std::optional<std::string>* out :
       {&options.manifest_out, &options.filter_out, &options.evidence_out}) {
    if (!out->has_value()) continue;
    const std::string& path = **out;
    const std::string dir = DirectoryOf(path);
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write ", path, ": directory ", dir, ": ", strerror(errno),
                       " (checked before any declared file is created or truncated)"));
    }
  }
  if (options.attestor) {
    absl::StatusOr<AttestorClient> probe = AttestorClient::Connect(*options.attestor);
    if (!probe.ok()) {
      return absl::UnavailableError(absl::StrCat(
          probe.status().message(), " (checked before any declared file is created or truncated)"));
    }
  }
  if (options.secret_source != nullptr) {
    if (absl::Status up = options.secret_source->Probe(); !up.ok()) {
      return absl::UnavailableError(
          absl::StrCat("verifier: ", up.message(),
                       " (checked before any declared file is created or truncated)"));
    }
  }
  return absl::OkStatus();
}

// What steps 10 to 13 of an attested launch need.
struct ObservedLaunch {
  const LaunchOptions& options;
  const std::string& launch_id;
  const std::string& manifest;  // the exact canonical bytes
  const std::string& nonce;     // 0..64 bytes
  const LaunchKey* launch_key;  // when secrets are released
  PendingSecrets* secrets;
};

// Steps 10 to 13. The attestor's connection lives only here: when this
// returns an error, the connection is closed and the attestor lets go of
// (and kills) the held workload, which the caller then reaps.
absl::Status ObserveAndRelease(const ObservedLaunch& l, HeldWorkload& workload) {
  // 10. Observation: the attestor holds the child, the child execs, the
  // attestor reads it from the kernel at its exec, checks it against the
  // manifest and measures the manifest and the observation.
  ASSIGN_OR_RETURN(AttestorClient attestor, AttestorClient::Connect(*l.options.attestor));
  RETURN_IF_ERROR(attestor.Hold(l.launch_id, workload.pid()).status());
  RETURN_IF_ERROR(workload.GoAndWaitForExec(kExecTimeout));
  RETURN_IF_ERROR(attestor.Launch(l.launch_id, l.manifest, l.nonce).status());
  // 11. The separator that closes the launch.
  RETURN_IF_ERROR(attestor.MeasureSeparator(l.launch_id).status());
  // 12. Attestation: the TPM signs the register with the nonce and the
  // manifest digest; the bundle is on disk before the workload starts.
  const bool releasing = !l.options.release.empty();
  std::string evidence;
  if (l.options.evidence_out || releasing) {
    ASSIGN_OR_RETURN(evidence, CollectEvidence(attestor, l.nonce, l.launch_id, l.manifest));
    if (l.options.evidence_out) RETURN_IF_ERROR(WriteFileAtomic(*l.options.evidence_out, evidence));
  }
  // 12b. Secrets: the verifier judges the evidence and releases each secret
  // to the launch key; each is written into its memfd (this process's private
  // writable description; the workload holds a read-only one) and sealed.
  if (releasing) {
    RETURN_IF_ERROR(
        ReceiveSecrets(*l.options.secret_source, evidence, l.launch_id, *l.launch_key, *l.secrets));
  }
  // 13. Release: the workload runs its first instruction. Refused, the
  // bundle of a workload that never ran is removed again.
  absl::Status released = attestor.Release(l.launch_id);
  if (!released.ok() && l.options.evidence_out) unlink(l.options.evidence_out->c_str());
  return released;
}

}  // namespace

void Diagnostics::Open(int min_fd) {
  int copy = fcntl(2, F_DUPFD_CLOEXEC, min_fd);
  fd_ = copy;  // -1 when stderr was closed: diagnostics are then dropped
}

void Diagnostics::Line(absl::string_view level, absl::string_view message) const {
  if (fd_ < 0) return;
  std::string line = absl::StrCat("fdlaunch: ", level, ": ", message, "\n");
  // One line per message: strip embedded newlines.
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    if (line[i] == '\n') line[i] = ' ';
  }
  ssize_t ignored = write(fd_, line.data(), line.size());
  (void)ignored;
}

void Diagnostics::Warn(absl::string_view message) { warnings_.emplace_back(message); }
void Diagnostics::PrintWarnings() {
  for (const std::string& w : warnings_) Line("warning", w);
  warnings_.clear();
}
void Diagnostics::Error(absl::string_view message) const { Line("error", message); }

// The steps, numbered in the order they run (docs/launcher.md, "The launch
// sequence"). Everything fallible comes before the point of no return: the
// exec (step 14) of an unattested launch, the release (step 13) of an
// attested one.
absl::StatusOr<int> Launch(const LaunchOptions& options, Diagnostics& diag) {
  // 1. Profile, diagnostics, capabilities.
  ASSIGN_OR_RETURN(Profile profile, Profile::Load(options.profile_path));
  const int private_base = profile.fds.empty() ? 3 : std::max(3, profile.fds.back().fd + 1);
  diag.Open(private_base);
  // The capability sets the exec will use, emptied first, so that a launcher
  // that cannot do it stops before anything is touched or measured. The
  // launcher's own effective set stays until the exec.
  RETURN_IF_ERROR(DropCapabilitiesForExec());
  const bool attested = options.attestor.has_value();
  if (!attested) diag.Warn("no attestor configured: this launch is unattested");
  if (options.evidence_out && !attested) {
    return absl::InvalidArgumentError("--evidence-out needs --attestor");
  }
  RETURN_IF_ERROR(CheckReleaseOptions(profile, options.release, attested,
                                      options.secret_source != nullptr, options.nonce.has_value()));
  const bool releasing = !options.release.empty();

  // The manifest (and everything only it records: fingerprints, digests) is
  // built when something consumes it: a file or the attestor.
  const bool want_manifest = options.manifest_out.has_value() || attested;

  // 2. Executable: early, so a bad program fails before any fd is touched.
  if (options.argv.empty()) return absl::InvalidArgumentError("no program given after --");
  ASSIGN_OR_RETURN(Executable exe, OpenExecutable(options.argv[0], private_base, want_manifest));

  // 3. Inventory the inherited fds, closing the undeclared ones; 4. establish
  // the declared fds, changing nothing on disk yet (step 6 does).
  std::optional<MountTable> mounts;
  if (want_manifest) {
    ASSIGN_OR_RETURN(mounts, MountTable::Load());
  }
  std::set<int> private_fds = {exe.fd.get()};
  if (diag.fd() >= 0) private_fds.insert(diag.fd());
  ASSIGN_OR_RETURN(std::vector<FdFingerprint> closed,
                   CloseUndeclaredFds(profile, private_fds, mounts ? &*mounts : nullptr));
  ASSIGN_OR_RETURN(PendingFileChanges file_changes, EstablishDeclaredFds(profile));
  ASSIGN_OR_RETURN(PendingSecrets secrets, PendingSecrets::Establish(profile, private_base));

  // 5. Filter, proven against the profile before anything depends on it.
  // A cached filter is untrusted input: it is proven exactly like a fresh one.
  FilterSpec spec{.on_violation = profile.on_violation, .exec_fd = exe.fd.get()};
  for (const FdSpec& f : profile.fds) spec.fds.push_back({f.fd, f.access});
  std::optional<FilterCache> cache;
  std::optional<std::string> cached;
  if (options.filter_cache) {
    ASSIGN_OR_RETURN(cache, FilterCache::Open(*options.filter_cache));
    ASSIGN_OR_RETURN(cached, cache->Find(spec));
  }
  std::string bpf;
  if (cached) {
    bpf = *std::move(cached);
  } else {
    ASSIGN_OR_RETURN(bpf, CompileFilter(spec));
  }
  if (absl::Status proven = SelfCheckFilter(bpf, FdSetsOf(profile, exe.fd.get())); !proven.ok()) {
    if (!cached) return proven;
    return absl::DataLossError(absl::StrCat("cached filter ", cache->PathOf(spec), " refused (",
                                            proven.message(), "); remove it"));
  }
  if (cache && !cached) {
    // The cache only saves time: a launch it cannot serve still runs, and says so.
    if (absl::Status stored = cache->Store(spec, bpf); !stored.ok()) {
      diag.Warn(absl::StrCat("filter not cached: ", stored.message()));
    }
  }
  RETURN_IF_ERROR(CheckLateDependencies(options));
  // 6. The last changes to what the manifest describes, once every fd and
  // the filter have passed their checks: missing files created (removed
  // again if the launch fails before exec), `w` files truncated, core dumps off.
  RETURN_IF_ERROR(file_changes.Commit());
  RETURN_IF_ERROR(DisableCoreDumps());

  // 7. Fingerprints and manifest, after the last change to what they
  // describe.
  Manifest m;
  std::string manifest;  // the exact canonical bytes: written, measured, in the evidence
  // An attested launch's key for released secrets (jwe_decrypt.h): its
  // public half is measured with the manifest, the private half never leaves
  // this process and is destroyed before the exec.
  std::optional<LaunchKey> launch_key;
  if (want_manifest) {
    ASSIGN_OR_RETURN(std::vector<FdFingerprint> fds, FingerprintDeclaredFds(profile, *mounts));
    ASSIGN_OR_RETURN(m.launch_id, NewLaunchId());
    m.time = NowRfc3339();
    m.profile_name = profile.name;
    m.profile_sha256 = profile.Sha256Hex();
    m.exe_path = exe.path;
    m.exe_sha256 = exe.sha256;
    m.argv = options.argv;
    DescribeProcess(m);
    m.no_new_privs = true;
    m.no_capabilities = true;  // DropCapabilitiesForExec, at the start
    m.attested = attested;     // before the digest is taken: the measured bytes say so
    m.launcher_version = kLauncherVersion;
    m.launcher_sha256 = LauncherDigest();
    m.fds = std::move(fds);
    m.closed_fds = std::move(closed);
    m.filter = {.bpf = bpf,
                .on_violation = profile.on_violation == OnViolation::kErrno ? "errno" : "kill",
                .install_flags = kInstallFlags,
                .exec_fd = exe.fd.get()};
    if (attested) {
      ASSIGN_OR_RETURN(launch_key, LaunchKey::Generate());
      m.release_key = launch_key->public_key();
    }
    ASSIGN_OR_RETURN(manifest, CanonicalJson(m.ToJson()));
  }
  if (options.manifest_out) RETURN_IF_ERROR(WriteFileAtomic(*options.manifest_out, manifest));
  if (options.filter_out) RETURN_IF_ERROR(WriteFileAtomic(*options.filter_out, bpf));

  // 8. The nonce the launch is bound to: the verifier's challenge when
  // secrets are released, else --nonce, else a random one when evidence is
  // written, else none. Taken before the workload exists, so its load
  // observation is bound to it.
  std::string nonce;
  if (releasing) {
    ASSIGN_OR_RETURN(nonce, options.secret_source->Challenge());
  } else if (options.nonce) {
    nonce = *options.nonce;
  } else if (options.evidence_out) {
    ASSIGN_OR_RETURN(nonce, RandomBytes(kDefaultNonceBytes));
  }

  ExecPlan plan{
      .exe_fd = exe.fd.get(), .bpf = bpf, .install_flags = kInstallFlags, .argv = options.argv};
  for (const FdSpec& f : profile.fds) plan.declared.insert(f.fd);
  plan.private_fds = private_fds;
  for (int fd : file_changes.DirectoryFds()) plan.private_fds.insert(fd);
  if (!attested) {
    // 9-13 are the attested launch's. 14. Point of no return: this process
    // becomes the workload. The warnings now, since the launch goes on.
    diag.PrintWarnings();
    RETURN_IF_ERROR(ExecConfined(plan));
    return absl::InternalError("the exec returned");
  }

  // 9. The workload's process: a child held before it changes anything.
  ASSIGN_OR_RETURN(HeldWorkload workload, HeldWorkload::Fork(plan));
  // 10-13. Observed, measured, attested, given its secrets, released.
  ObservedLaunch launch{.options = options,
                        .launch_id = m.launch_id,
                        .manifest = manifest,
                        .nonce = nonce,
                        .launch_key = launch_key ? &*launch_key : nullptr,
                        .secrets = &secrets};
  if (absl::Status released = ObserveAndRelease(launch, workload); !released.ok()) {
    workload.Kill();  // the attestor's connection is closed: it lets go of the child
    return released;
  }
  launch_key.reset();

  // 14. The workload runs. The warnings now, since the launch went on; this
  // process keeps no copy of the workload's descriptors (a pipe's reader
  // sees its end when the workload closes it) and keeps the files it made.
  diag.PrintWarnings();
  for (int fd : plan.declared) CloseRawFd(fd);
  file_changes.KeepCreated();
  return workload.Wait();
}

}  // namespace fdattest
