// The re-attestation round trip on swtpm (docs/BENCHMARKS.md section 10),
// beside its baseline in the same run, on one fdattestd.
//
// The benchmark acts as a launcher through the real API (one connection, the
// typed messages of common/attestor_api.h): it forks a child of its own
// (bench/confined_child.h: the launcher's final step, the program
// bench_wait_eof, which blocks reading its fd 0 until the benchmark closes the
// pipe's other end), holds it, lets it exec, `launch`es it with the manifest
// of its real facts and a nonce, measures the separator and releases it (each
// step timed once and reported). Then, on the running workload, rounds of
// four operations, their order rotating from round to round:
//   reattest        `reattest` with a fresh 32-byte nonce (the attestor stops
//                   the workload, observes it, checks it unchanged, lets it
//                   go, and appends and extends an alive observation);
//   attest          what `fdlaunch attest` asks: reattest, then certify of the
//                   evidence qualifying data for that nonce and the manifest,
//                   log of the launch, info;
//   certify         (baseline) certify alone, same qualifying data shape;
//   certify_log_info (baseline) certify + log + info: `attest` without the
//                   re-observation.
// Every answer is checked (alive, the manifest given back, the record number
// growing, the alive record in the served log); then a nonce used before is
// refused, the pipe is closed, the workload exits 0 and `reattest` answers
// "gone". Time is CLOCK_MONOTONIC from the first request's write to the last
// response's last byte. Writes one JSON file: median and p90 (ms) per
// operation, the ratios, every sample (µs).
//
//   reattest_bench --fdattestd BIN --tcti swtpm:path=SOCK --work DIR --out FILE
//                  --workload BIN [--rounds 200] [--warmup 5]
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "bench/attestor_process.h"
#include "bench/confined_child.h"
#include "common/evidence.h"
#include "common/json.h"
#include "common/sha256.h"

namespace fdattest::bench {
namespace {

struct Options {
  std::string fdattestd, tcti, work, out, workload;
  int rounds = 200, warmup = 5;
};

Json Summary(const std::vector<double>& us) {
  return Json{{"median_ms", Percentile(us, 50) / 1e3},
              {"p90_ms", Percentile(us, 90) / 1e3},
              {"n", us.size()},
              {"samples_us", us}};
}

class Session {
 public:
  Session(AttestorConnection& attestor, std::string launch_id, std::string manifest)
      : attestor_(attestor), launch_id_(std::move(launch_id)), manifest_(std::move(manifest)),
        manifest_sha256_(Sha256(manifest_)) {}

  // One re-attestation on a fresh nonce; the nonce it used.
  absl::StatusOr<std::string> Reattest() {
    std::string nonce = RandomBytes(32);
    ASSIGN_OR_RETURN(ReattestResponse r, attestor_.CallFor<ReattestResponse>(
                                             AttestorRequest::Reattest(launch_id_, nonce)));
    if (r.gone) return absl::InternalError("reattest: the workload is gone");
    if (r.manifest != manifest_) return absl::InternalError("reattest: another manifest");
    if (r.recnum <= last_recnum_) return absl::InternalError("reattest: record number not growing");
    last_recnum_ = r.recnum;
    return nonce;
  }
  absl::Status Certify(const std::string& nonce) {
    const Sha256Digest q = EvidenceQualifyingData(nonce, manifest_sha256_);
    ASSIGN_OR_RETURN(CertifyResponse c,
                     attestor_.CallFor<CertifyResponse>(AttestorRequest::Certify(absl::string_view(
                         reinterpret_cast<const char*>(q.data()), q.size()))));
    if (c.attest.empty() || c.signature.empty()) return absl::InternalError("certify: empty");
    return absl::OkStatus();
  }
  absl::Status LogAndInfo(bool expect_alive_record) {
    ASSIGN_OR_RETURN(LogResponse log,
                     attestor_.CallFor<LogResponse>(AttestorRequest::Log(launch_id_)));
    if (expect_alive_record) {
      bool found = false;
      for (const CelRecord& r : log.records) found = found || r.recnum == last_recnum_;
      if (!found) return absl::InternalError("log: the alive observation is not served");
    }
    records_ = log.records.size();
    ASSIGN_OR_RETURN(InfoResponse info,
                     attestor_.CallFor<InfoResponse>(AttestorRequest::Info()));
    if (info.ak_public.empty()) return absl::InternalError("info: no AK");
    return absl::OkStatus();
  }
  size_t records() const { return records_; }

 private:
  AttestorConnection& attestor_;
  std::string launch_id_, manifest_;
  Sha256Digest manifest_sha256_;
  uint64_t last_recnum_ = 0;
  size_t records_ = 0;
};

absl::StatusOr<Json> Bench(const Options& o) {
  ASSIGN_OR_RETURN(ConfinedWorkload workload, ConfinedWorkload::Create(o.workload, true));
  ASSIGN_OR_RETURN(Fdattestd daemon, Fdattestd::Start(o.fdattestd, o.tcti, o.work));
  ASSIGN_OR_RETURN(AttestorConnection attestor, AttestorConnection::Connect(daemon.socket_path()));

  const std::string launch_id = NewLaunchId();
  ASSIGN_OR_RETURN(const std::string manifest, workload.ManifestFor(launch_id));
  ASSIGN_OR_RETURN(ConfinedChild child, ConfinedChild::Fork(workload));
  LaunchTimes launch;
  RETURN_IF_ERROR(ObservedLaunch(attestor, workload, child, launch_id, RandomBytes(32), &launch));

  Session s(attestor, launch_id, manifest);
  std::map<std::string, std::vector<double>> us;
  const std::vector<std::pair<std::string, std::function<absl::Status()>>> ops = {
      {"reattest", [&] { return s.Reattest().status(); }},
      {"certify", [&] { return s.Certify(RandomBytes(32)); }},
      {"attest",
       [&]() -> absl::Status {
         ASSIGN_OR_RETURN(std::string nonce, s.Reattest());
         RETURN_IF_ERROR(s.Certify(nonce));
         return s.LogAndInfo(true);
       }},
      {"certify_log_info",
       [&]() -> absl::Status {
         RETURN_IF_ERROR(s.Certify(RandomBytes(32)));
         return s.LogAndInfo(false);
       }},
  };
  for (int round = 0; round < o.warmup + o.rounds; ++round) {
    for (size_t k = 0; k < ops.size(); ++k) {
      const auto& [name, op] = ops[(k + static_cast<size_t>(round)) % ops.size()];
      const double t0 = NowUs();
      absl::Status done = op();
      const double t1 = NowUs();
      if (!done.ok()) return absl::Status(done.code(), absl::StrCat(name, ": ", done.message()));
      if (round >= o.warmup) us[name].push_back(t1 - t0);
    }
  }

  // A nonce is never usable twice.
  const std::string nonce = RandomBytes(32);
  RETURN_IF_ERROR(
      attestor.CallFor<ReattestResponse>(AttestorRequest::Reattest(launch_id, nonce)).status());
  absl::StatusOr<ReattestResponse> again =
      attestor.CallFor<ReattestResponse>(AttestorRequest::Reattest(launch_id, nonce));
  if (again.ok()) return absl::InternalError("a nonce was accepted twice");
  // The workload ends; then it is "gone".
  workload.CloseStdin();
  RETURN_IF_ERROR(child.ReapOk());
  ASSIGN_OR_RETURN(ReattestResponse gone, attestor.CallFor<ReattestResponse>(
                                              AttestorRequest::Reattest(launch_id, RandomBytes(32))));
  if (!gone.gone) return absl::InternalError("an exited workload was not reported gone");
  RETURN_IF_ERROR(daemon.Stop());

  Json result = {{"rounds", o.rounds},
                 {"warmup", o.warmup},
                 {"log_records_served_at_end", s.records()},
                 {"launch_once_ms",
                  {{"hold", launch.hold_us / 1e3},
                   {"go_to_exec", launch.exec_us / 1e3},
                   {"launch", launch.launch_us / 1e3},
                   {"separator", launch.separator_us / 1e3},
                   {"release", launch.release_us / 1e3}}}};
  for (const auto& [name, samples] : us) result[name] = Summary(samples);
  auto med = [&](const char* k) { return result[k]["median_ms"].get<double>(); };
  auto p90 = [&](const char* k) { return result[k]["p90_ms"].get<double>(); };
  result["ratios"] = {{"reattest_over_certify_median", med("reattest") / med("certify")},
                      {"reattest_over_certify_p90", p90("reattest") / p90("certify")},
                      {"attest_over_certify_log_info_median",
                       med("attest") / med("certify_log_info")},
                      {"attest_over_certify_log_info_p90", p90("attest") / p90("certify_log_info")}};
  result["added_ms"] = {{"attest_minus_certify_log_info_median",
                         med("attest") - med("certify_log_info")},
                        {"reattest_minus_certify_median", med("reattest") - med("certify")}};
  return result;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{"fdattestd: the re-attestation round trip against certify, on one swtpm"};
  app.add_option("--fdattestd", o.fdattestd, "the fdattestd binary")->required();
  app.add_option("--tcti", o.tcti, "TCTI of the swtpm, e.g. swtpm:path=DIR/sock")->required();
  app.add_option("--work", o.work, "empty private directory for state and logs")->required();
  app.add_option("--out", o.out, "JSON results file")->required();
  app.add_option("--workload", o.workload, "the static bench_wait_eof program")->required();
  app.add_option("--rounds", o.rounds, "timed rounds of the four operations")
      ->check(CLI::Range(1, 100000));
  app.add_option("--warmup", o.warmup, "untimed rounds first")->check(CLI::Range(0, 1000));
  CLI11_PARSE(app, argc, argv);

  const double start = NowUs();
  absl::StatusOr<Json> result = Bench(o);
  if (!result.ok()) {
    fprintf(stderr, "reattest_bench: %s\n", result.status().ToString().c_str());
    return 1;
  }
  (*result)["elapsed_s"] = (NowUs() - start) / 1e6;
  FILE* f = fopen(o.out.c_str(), "w");
  if (f == nullptr) {
    fprintf(stderr, "reattest_bench: cannot write %s: %s\n", o.out.c_str(), strerror(errno));
    return 1;
  }
  const std::string text = result->dump(1) + "\n";
  const bool written = fwrite(text.data(), 1, text.size(), f) == text.size();
  if (fclose(f) != 0 || !written) {
    fprintf(stderr, "reattest_bench: cannot write %s\n", o.out.c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace fdattest::bench

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  return fdattest::bench::Main(argc, argv);
}
