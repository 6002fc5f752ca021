// Attestor latency (docs/BENCHMARKS.md, "4. Attestor"): one program, one
// swtpm, two ways of doing the same work.
//
//  1. fdattestd: the daemon is started on the swtpm, and this program talks
//     to it over its unix socket with the real protocol (4-byte big-endian
//     length + JSON), one request at a time:
//       measure  = log append + fsync, then TPM2_NV_Extend of the register:
//                  the launch_separator of a real observed launch (a child of
//                  this program held, exec'd, `launch`ed with the manifest of
//                  its real facts, then released; bench/attestor_process.h),
//                  since a launch_manifest is measured only through `launch`,
//                  which observes the workload too (timed beside, "launch");
//       certify  = TPM2_NV_Certify of the register, 32 bytes of qualifying data.
//     Then the daemon is stopped (SIGTERM; swtpm serves one client at a time).
//  2. tpm2-tools, one process per command, against the same swtpm and the same
//     NV index (0x01bfda00, authorised with the daemon's nv-register.auth):
//       measure  = append of a record of the daemon's mean record size to a
//                  log file + fsync (in this process), then `tpm2_nvextend`;
//       certify  = `tpm2_nvcertify` with an ECC P-256 AK made by
//                  tpm2_createek/tpm2_createak, then `tpm2_flushcontext -t`
//                  (swtpm has no resource manager: every tpm2_nvcertify leaves
//                  the AK loaded, and the fourth one fails without a flush).
//     The flush is timed separately; the certify figure is tpm2_nvcertify alone.
//
// Every request and command is checked (ok:true / exit 0), so a failure can
// never become a number. Writes one JSON file: per-operation median and p90
// (ms), the ratios fdattestd / tpm2-tools, and every sample (µs).
//
//   attestor_bench --fdattestd BIN --tcti swtpm:path=SOCK --work DIR --out FILE
//                  --workload BENCH_NOOP [--measures 200] [--certifies 200] [--warmup 5]
//
// Child processes are started with fork + execve (programs found on PATH).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "bench/attestor_process.h"
#include "bench/confined_child.h"

extern char** environ;

namespace fdattest {
namespace {

constexpr char kNvIndex[] = "0x01bfda00";  // fdattestd's default register

using bench::AttestorConnection;
using bench::ConfinedChild;
using bench::ConfinedWorkload;
using bench::LaunchTimes;
using bench::NewLaunchId;
using bench::ObservedLaunch;
using bench::RandomBytes;

double NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// --- child processes ----------------------------------------------------------

using bench::Spawn;
using bench::WaitOk;

absl::Status Run(const std::vector<std::string>& argv, const std::string& stderr_path,
                 const std::vector<std::string>& extra_env) {
  ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, stderr_path, extra_env));
  return WaitOk(pid, argv[0], stderr_path);
}

// --- the fdattestd protocol ----------------------------------------------------

absl::Status WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("write to fdattestd", errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status ReadAll(int fd, char* buf, size_t n) {
  while (n > 0) {
    ssize_t got = read(fd, buf, n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("read from fdattestd", errno);
    if (got == 0) return absl::UnavailableError("fdattestd closed the connection");
    buf += got;
    n -= static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

// One request, one response; the response must say "ok": true.
absl::StatusOr<Json> Call(int fd, const Json& request) {
  const std::string payload = request.dump();
  const uint32_t n = static_cast<uint32_t>(payload.size());
  std::string frame = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  frame += payload;
  RETURN_IF_ERROR(WriteAll(fd, frame));
  unsigned char header[4];
  RETURN_IF_ERROR(ReadAll(fd, reinterpret_cast<char*>(header), 4));
  const uint32_t len = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                       (uint32_t{header[2]} << 8) | header[3];
  if (len == 0 || len > (1u << 20)) return absl::DataLossError("bad response frame length");
  std::string body(len, '\0');
  RETURN_IF_ERROR(ReadAll(fd, body.data(), len));
  ASSIGN_OR_RETURN(Json response, ParseJsonStrict(body));
  if (!response.is_object() || response.value("ok", false) != true) {
    return absl::InternalError(absl::StrCat("fdattestd answered ", body, " to ", payload));
  }
  return response;
}

absl::StatusOr<UniqueFd> Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return absl::InvalidArgumentError("socket path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("socket", errno);
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoStatus(absl::StrCat("connect ", path), errno);
  }
  return fd;
}

// --- statistics ----------------------------------------------------------------

// Nearest-rank percentile of samples in µs, returned in ms.
double PercentileMs(std::vector<double> us, double p) {
  if (us.empty()) return 0;
  std::sort(us.begin(), us.end());
  if (p == 50 && us.size() % 2 == 0) return (us[us.size() / 2 - 1] + us[us.size() / 2]) / 2e3;
  size_t rank = static_cast<size_t>(std::max(1.0, std::ceil(p / 100 * us.size())));
  return us[std::min(rank, us.size()) - 1] / 1e3;
}

Json Summary(const std::vector<double>& us) {
  return Json{{"median_ms", PercentileMs(us, 50)},
              {"p90_ms", PercentileMs(us, 90)},
              {"n", us.size()},
              {"samples_us", us}};
}

struct Options {
  std::string fdattestd, tcti, work, out, workload;
  int measures = 200, certifies = 200, warmup = 5;
};


// --- 1. fdattestd ------------------------------------------------------------

struct DaemonResult {
  std::vector<double> measure_us, certify_us, launch_us;
  double record_bytes = 0;
};

absl::StatusOr<DaemonResult> BenchDaemon(const Options& o) {
  const std::string socket_path = o.work + "/fdattestd.sock";
  const std::string state = o.work + "/state";
  const std::string err = o.work + "/fdattestd.err";
  ASSIGN_OR_RETURN(pid_t pid, Spawn({o.fdattestd, "--socket", socket_path, "--state-dir", state,
                                     "--tcti", o.tcti, "--allow-uid", std::to_string(getuid())},
                                    err, {}));
  DaemonResult r;
  absl::Status status = [&]() -> absl::Status {
    UniqueFd conn;
    for (int i = 0;; ++i) {  // up to 20 s: start-up creates the AK
      int wstatus = 0;
      if (waitpid(pid, &wstatus, WNOHANG) == pid) {
        pid = -1;
        return absl::InternalError(absl::StrCat("fdattestd exited at start-up; see ", err));
      }
      absl::StatusOr<UniqueFd> c = Connect(socket_path);
      if (c.ok()) {
        conn = std::move(*c);
        break;
      }
      if (i == 2000) return c.status();
      usleep(10000);
    }
    // A launch as fdlaunch does it (hold, exec, `launch`, separator,
    // release) on a child of this process: a launch_manifest is measured only
    // through `launch`, which also observes the workload and records the
    // observation. The timed "measure" is the separator's plain `measure`
    // (log append + fsync, NV extend): the same work as before; `launch` is
    // timed beside it.
    absl::StatusOr<AttestorConnection> launcher = AttestorConnection::Connect(socket_path);
    if (!launcher.ok()) return launcher.status();
    ASSIGN_OR_RETURN(ConfinedWorkload workload, ConfinedWorkload::Create(o.workload, false));
    const std::string log = state + "/event-log.jsonl";
    auto launch = [&](LaunchTimes* times) -> absl::Status {
      ASSIGN_OR_RETURN(ConfinedChild child, ConfinedChild::Fork(workload));
      RETURN_IF_ERROR(ObservedLaunch(*launcher, workload, child, NewLaunchId(), RandomBytes(32),
                                     times, log));
      return child.ReapOk();
    };
    auto certify = [&]() -> absl::Status {
      Json req = {{"op", "certify"}, {"qualifying_data", HexEncode(RandomBytes(32))}};
      ASSIGN_OR_RETURN(Json resp, Call(conn.get(), req));
      if (!resp.contains("attest") || !resp.contains("signature")) {
        return absl::InternalError("certify: no attest/signature");
      }
      return absl::OkStatus();
    };
    for (int i = 0; i < o.warmup; ++i) RETURN_IF_ERROR(launch(nullptr));
    for (int i = 0; i < o.warmup; ++i) RETURN_IF_ERROR(certify());

    double bytes = 0;
    for (int i = 0; i < o.measures; ++i) {
      LaunchTimes t;
      RETURN_IF_ERROR(launch(&t));
      r.measure_us.push_back(t.separator_us);
      r.launch_us.push_back(t.launch_us);
      bytes += t.separator_bytes;
    }
    r.record_bytes = bytes / std::max(1, o.measures);
    for (int i = 0; i < o.certifies; ++i) {
      const double t0 = NowUs();
      RETURN_IF_ERROR(certify());
      r.certify_us.push_back(NowUs() - t0);
    }
    return absl::OkStatus();
  }();
  if (pid > 0) {
    kill(pid, SIGTERM);
    absl::Status stopped = WaitOk(pid, "fdattestd (stopped with SIGTERM)", err);
    if (status.ok()) status = stopped;
  }
  RETURN_IF_ERROR(status);
  return r;
}

// --- 2. tpm2-tools -------------------------------------------------------------

struct ToolsResult {
  std::vector<double> measure_us, append_fsync_us, nvextend_us, certify_us, flush_us;
};

absl::StatusOr<ToolsResult> BenchTools(const Options& o, size_t record_bytes) {
  const std::vector<std::string> env = {"TPM2TOOLS_TCTI=" + o.tcti};
  const std::string err = o.work + "/tpm2-tools.err";
  const std::string t = o.work + "/tools";
  if (mkdir(t.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus("mkdir " + t, errno);
  const std::string auth = "file:" + o.work + "/state/nv-register.auth";

  // Set-up, untimed: an ECC P-256 AK under the RSA EK (reference §4 sequence).
  RETURN_IF_ERROR(Run({"tpm2_flushcontext", "-t"}, err, env));
  RETURN_IF_ERROR(Run({"tpm2_createek", "-c", t + "/ek.ctx", "-G", "rsa", "-u", t + "/ek.pem",
                       "-f", "pem"}, err, env));
  RETURN_IF_ERROR(Run({"tpm2_flushcontext", "-t"}, err, env));
  RETURN_IF_ERROR(Run({"tpm2_createak", "-C", t + "/ek.ctx", "-c", t + "/ak.ctx", "-G", "ecc",
                       "-g", "sha256", "-s", "ecdsa", "-u", t + "/ak.pem", "-f", "pem", "-n",
                       t + "/ak.name"}, err, env));
  RETURN_IF_ERROR(Run({"tpm2_flushcontext", "-t"}, err, env));

  const std::string log = t + "/event-log.jsonl";
  UniqueFd log_fd(open(log.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!log_fd) return ErrnoStatus("open " + log, errno);
  std::string record = HexEncode(RandomBytes(record_bytes / 2 + 1)).substr(0, record_bytes - 1);
  record.push_back('\n');
  const std::string digest_file = t + "/digest.bin";

  ToolsResult r;
  auto measure = [&](bool timed) -> absl::Status {
    // The digest to extend is written before the clock starts (the daemon
    // computes it in memory).
    UniqueFd d(open(digest_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    const Sha256Digest dig = Sha256(RandomBytes(16));
    if (!d || write(d.get(), dig.data(), dig.size()) != static_cast<ssize_t>(dig.size())) {
      return ErrnoStatus("write " + digest_file, errno);
    }
    d.reset();
    const double t0 = NowUs();
    RETURN_IF_ERROR(WriteAll(log_fd.get(), record));
    if (fsync(log_fd.get()) != 0) return ErrnoStatus("fsync " + log, errno);
    const double t1 = NowUs();
    RETURN_IF_ERROR(Run({"tpm2_nvextend", "-C", kNvIndex, "-P", auth, "-i", digest_file, kNvIndex},
                        err, env));
    const double t2 = NowUs();
    if (timed) {
      r.append_fsync_us.push_back(t1 - t0);
      r.nvextend_us.push_back(t2 - t1);
      r.measure_us.push_back(t2 - t0);
    }
    return absl::OkStatus();
  };
  auto certify = [&](bool timed) -> absl::Status {
    const std::string qualifying = HexEncode(RandomBytes(32));
    const double t0 = NowUs();
    RETURN_IF_ERROR(Run({"tpm2_nvcertify", "-C", t + "/ak.ctx", "-g", "sha256", "-o",
                         t + "/sig.bin", "--attestation", t + "/attest.bin", "-q", qualifying,
                         "--size", "32", "--offset", "0", "-c", kNvIndex, "-p", auth, kNvIndex},
                        err, env));
    const double t1 = NowUs();
    RETURN_IF_ERROR(Run({"tpm2_flushcontext", "-t"}, err, env));
    const double t2 = NowUs();
    if (timed) {
      r.certify_us.push_back(t1 - t0);
      r.flush_us.push_back(t2 - t1);
    }
    return absl::OkStatus();
  };
  for (int i = 0; i < o.warmup; ++i) RETURN_IF_ERROR(measure(false));
  for (int i = 0; i < o.warmup; ++i) RETURN_IF_ERROR(certify(false));
  for (int i = 0; i < o.measures; ++i) RETURN_IF_ERROR(measure(true));
  for (int i = 0; i < o.certifies; ++i) RETURN_IF_ERROR(certify(true));
  struct stat st{};
  if (stat((t + "/attest.bin").c_str(), &st) != 0 || st.st_size == 0) {
    return absl::InternalError("tpm2_nvcertify wrote no attestation");
  }
  return r;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"fdattestd vs tpm2-tools: measure and certify latency on one swtpm"};
  app.add_option("--fdattestd", o.fdattestd, "the fdattestd binary")->required();
  app.add_option("--tcti", o.tcti, "TCTI of the swtpm, e.g. swtpm:path=DIR/sock")->required();
  app.add_option("--work", o.work, "empty private directory for state and logs")->required();
  app.add_option("--out", o.out, "JSON results file")->required();
  app.add_option("--workload", o.workload, "the static no-op program each launch runs")->required();
  app.add_option("--measures", o.measures, "timed measures per side")->check(CLI::Range(2, 100000));
  app.add_option("--certifies", o.certifies, "timed certifies per side")->check(CLI::Range(1, 100000));
  app.add_option("--warmup", o.warmup, "untimed operations first")->check(CLI::Range(0, 1000));
  CLI11_PARSE(app, argc, argv);

  const double start = NowUs();
  absl::StatusOr<DaemonResult> d = BenchDaemon(o);
  if (!d.ok()) {
    fprintf(stderr, "attestor_bench: fdattestd: %s\n", d.status().ToString().c_str());
    return 1;
  }
  const size_t record_bytes = std::max<size_t>(2, static_cast<size_t>(std::lround(d->record_bytes)));
  absl::StatusOr<ToolsResult> tl = BenchTools(o, record_bytes);
  if (!tl.ok()) {
    fprintf(stderr, "attestor_bench: tpm2-tools: %s\n", tl.status().ToString().c_str());
    return 1;
  }
  Json daemon = {{"measure", Summary(d->measure_us)},
                 {"certify", Summary(d->certify_us)},
                 {"launch", Summary(d->launch_us)}};
  Json tools = {{"measure", Summary(tl->measure_us)},
                {"append_fsync", Summary(tl->append_fsync_us)},
                {"nvextend", Summary(tl->nvextend_us)},
                {"certify", Summary(tl->certify_us)},
                {"flushcontext", Summary(tl->flush_us)}};
  auto ratio = [](const Json& a, const Json& b, const char* key) {
    return a[key].get<double>() / b[key].get<double>();
  };
  Json ratios = {
      {"measure_median", ratio(daemon["measure"], tools["measure"], "median_ms")},
      {"measure_p90", ratio(daemon["measure"], tools["measure"], "p90_ms")},
      {"certify_median", ratio(daemon["certify"], tools["certify"], "median_ms")},
      {"certify_p90", ratio(daemon["certify"], tools["certify"], "p90_ms")},
  };
  Json result = {{"nv_index", kNvIndex},
                 {"record_bytes", record_bytes},
                 {"measures", d->measure_us.size()},
                 {"certifies", d->certify_us.size()},
                 {"warmup", o.warmup},
                 {"fdattestd", daemon},
                 {"tpm2_tools", tools},
                 {"ratios", ratios},
                 {"elapsed_s", (NowUs() - start) / 1e6}};
  FILE* f = fopen(o.out.c_str(), "w");
  if (f == nullptr) {
    fprintf(stderr, "attestor_bench: cannot write %s: %s\n", o.out.c_str(), strerror(errno));
    return 1;
  }
  const std::string text = result.dump(1) + "\n";
  const bool written = fwrite(text.data(), 1, text.size(), f) == text.size();
  if (fclose(f) != 0 || !written) {
    fprintf(stderr, "attestor_bench: cannot write %s\n", o.out.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace fdattest

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  return fdattest::Main(argc, argv);
}
