// What observation adds to an attested launch (docs/BENCHMARKS.md section 10):
// the launcher's last step on a real child, without and with the attestor's
// hold, alternately in one run.
//
// Per launch the benchmark forks a child of its own (bench/confined_child.h)
// that waits on a pipe, then does what fdlaunch's final step does: its
// capability sets emptied, ExecConfined (the empty root, no_new_privs, every
// undeclared descriptor closed, the launcher's filter for its four declared
// descriptors, execveat of a sealed memfd copy of the static no-op program by
// its descriptor); the benchmark lets it go, learns from a close-on-exec pipe
// that it exec'd, and waits for its exit (status 0 required).
//   baseline: just that.
//   observed: the same, with what fdattestd does for `hold` and `launch`
//     around it, in this process: TracedProcess::SeizeChild before the go,
//     then WaitForExec, Observe, CheckObservationMatchesManifest against the
//     manifest of the child's real facts (built once, untimed; a mismatch
//     stops the run) and Detach. The log records and TPM extends `launch`
//     also does are section 4's and the re-attestation benchmark's.
// Time is CLOCK_MONOTONIC from the fork to the reap, and the CPU time (user +
// system) of the benchmark and of the reaped child over the same span (the
// machine is shared: CPU time moves less with its load than wall time). The two variants
// alternate launch by launch (the order flipping each time), so the machine's
// drift hits both alike. Reported as counters: median and p90 of each, the
// difference of the medians, the median of the per-pair differences, and the
// median of each observed part. BM_Observe: Observe() alone, repeated on one
// child held at its exec; BM_CheckObservation: the claim check alone.
//
//   observe_bench [--benchmark_format=json]     env OBSERVE_LAUNCHES (300)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "attestor/kernel_observer.h"
#include "bench/confined_child.h"
#include "benchmark/benchmark.h"
#include "common/observation.h"

namespace fdattest::bench {
namespace {

double NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Nearest-rank percentile (the median of an even count: the mean of the two middle ones).
double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  if (p == 50 && v.size() % 2 == 0) return (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  size_t rank = static_cast<size_t>(std::max(1.0, std::ceil(p / 100 * static_cast<double>(v.size()))));
  return v[std::min(rank, v.size()) - 1];
}

// CPU time (user + system) of this process and of its reaped children, µs.
double CpuUs() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto us = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + t.tv_usec; };
  return us(self.ru_utime) + us(self.ru_stime) + us(children.ru_utime) + us(children.ru_stime);
}

// One launch: wall time and CPU time (the benchmark's and the child's), µs.
struct Sample {
  double wall = 0, cpu = 0;
};

const ConfinedWorkload* Workload(std::string* error) {
  static absl::StatusOr<ConfinedWorkload>* w =
      new absl::StatusOr<ConfinedWorkload>(ConfinedWorkload::Create(FDATTEST_BENCH_NOOP, false));
  if (!w->ok()) {
    *error = w->status().ToString();
    return nullptr;
  }
  return &**w;
}

ObserveDeadline Soon() { return std::chrono::steady_clock::now() + std::chrono::seconds(5); }

UniqueFd SelfPidfd() { return UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0))); }

absl::StatusOr<Sample> BaselineLaunch(const ConfinedWorkload& w) {
  const double c0 = CpuUs();
  const double t0 = NowUs();
  ASSIGN_OR_RETURN(ConfinedChild child, ConfinedChild::Fork(w));
  RETURN_IF_ERROR(child.Go());
  RETURN_IF_ERROR(child.WaitExecuted());
  RETURN_IF_ERROR(child.ReapOk());
  const double t1 = NowUs();
  return Sample{t1 - t0, CpuUs() - c0};
}

struct Parts {
  std::vector<double> seize, exec_stop, observe, check, detach;
};

absl::StatusOr<Sample> ObservedLaunch(const ConfinedWorkload& w, int self_pidfd, Parts& parts) {
  const double c0 = CpuUs();
  const double t0 = NowUs();
  ASSIGN_OR_RETURN(ConfinedChild child, ConfinedChild::Fork(w));
  const double t1 = NowUs();
  ASSIGN_OR_RETURN(TracedProcess traced, TracedProcess::SeizeChild(child.pid(), self_pidfd));
  const double t2 = NowUs();
  RETURN_IF_ERROR(child.Go());
  RETURN_IF_ERROR(child.WaitExecuted());
  RETURN_IF_ERROR(traced.WaitForExec(Soon()));
  const double t3 = NowUs();
  ASSIGN_OR_RETURN(KernelObservation seen, traced.Observe());
  const double t4 = NowUs();
  RETURN_IF_ERROR(CheckObservationMatchesManifest(seen, w.manifest()));
  const double t5 = NowUs();
  RETURN_IF_ERROR(traced.Detach());
  const double t6 = NowUs();
  RETURN_IF_ERROR(child.ReapOk());
  const double end = NowUs();
  const double cpu = CpuUs() - c0;
  parts.seize.push_back(t2 - t1);
  parts.exec_stop.push_back(t3 - t2);
  parts.observe.push_back(t4 - t3);
  parts.check.push_back(t5 - t4);
  parts.detach.push_back(t6 - t5);
  return Sample{end - t0, cpu};
}

int Launches() {
  const char* n = getenv("OBSERVE_LAUNCHES");
  return n != nullptr && atoi(n) > 0 ? atoi(n) : 300;
}

// Launches of the baseline alone (no tracer of its own, so that strace -f or
// perf can follow the children): where a launch's time goes.
void BM_BaselineOnly(benchmark::State& state) {
  std::string error;
  const ConfinedWorkload* w = Workload(&error);
  if (w == nullptr) return state.SkipWithError(error.c_str());
  std::vector<double> us;
  for (auto _ : state) {
    absl::StatusOr<Sample> b = BaselineLaunch(*w);
    if (!b.ok()) return state.SkipWithError(b.status().ToString().c_str());
    us.push_back(b->wall);
  }
  state.counters["p50_us"] = Percentile(us, 50);
  state.counters["p90_us"] = Percentile(us, 90);
}
BENCHMARK(BM_BaselineOnly)->Iterations(50)->Unit(benchmark::kMillisecond);

void BM_Launch(benchmark::State& state) {
  std::string error;
  const ConfinedWorkload* w = Workload(&error);
  if (w == nullptr) return state.SkipWithError(error.c_str());
  UniqueFd self = SelfPidfd();
  Parts parts, warm_parts;
  for (int i = 0; i < 10; ++i) {  // warm-up, untimed
    absl::StatusOr<Sample> b = BaselineLaunch(*w);
    absl::StatusOr<Sample> o = ObservedLaunch(*w, self.get(), warm_parts);
    if (!b.ok() || !o.ok()) {
      return state.SkipWithError((b.ok() ? o.status() : b.status()).ToString().c_str());
    }
  }
  std::vector<double> baseline, observed, added, baseline_cpu, observed_cpu;
  int64_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<Sample> b, o;
    if (i++ % 2 == 0) {
      b = BaselineLaunch(*w);
      o = ObservedLaunch(*w, self.get(), parts);
    } else {
      o = ObservedLaunch(*w, self.get(), parts);
      b = BaselineLaunch(*w);
    }
    if (!b.ok() || !o.ok()) {
      return state.SkipWithError((b.ok() ? o.status() : b.status()).ToString().c_str());
    }
    baseline.push_back(b->wall);
    observed.push_back(o->wall);
    added.push_back(o->wall - b->wall);
    baseline_cpu.push_back(b->cpu);
    observed_cpu.push_back(o->cpu);
  }
  auto& c = state.counters;
  c["baseline_p50_us"] = Percentile(baseline, 50);
  c["baseline_p90_us"] = Percentile(baseline, 90);
  c["observed_p50_us"] = Percentile(observed, 50);
  c["observed_p90_us"] = Percentile(observed, 90);
  c["added_p50_us"] = Percentile(observed, 50) - Percentile(baseline, 50);
  c["added_p90_us"] = Percentile(observed, 90) - Percentile(baseline, 90);
  c["pair_diff_p50_us"] = Percentile(added, 50);
  c["ratio_p50"] = Percentile(observed, 50) / Percentile(baseline, 50);
  c["baseline_cpu_p50_us"] = Percentile(baseline_cpu, 50);
  c["observed_cpu_p50_us"] = Percentile(observed_cpu, 50);
  c["added_cpu_p50_us"] = Percentile(observed_cpu, 50) - Percentile(baseline_cpu, 50);
  c["seize_p50_us"] = Percentile(parts.seize, 50);
  c["go_to_exec_stop_p50_us"] = Percentile(parts.exec_stop, 50);
  c["observe_p50_us"] = Percentile(parts.observe, 50);
  c["check_p50_us"] = Percentile(parts.check, 50);
  c["detach_p50_us"] = Percentile(parts.detach, 50);
  c["launches_per_variant"] = static_cast<double>(baseline.size());
}
BENCHMARK(BM_Launch)->Iterations(Launches())->Unit(benchmark::kMillisecond);

// One child held at its exec (untimed), observed again and again.
struct HeldAtExec {
  ConfinedChild child;
  TracedProcess traced;
};
absl::StatusOr<HeldAtExec> HoldAtExec(const ConfinedWorkload& w, int self_pidfd) {
  ASSIGN_OR_RETURN(ConfinedChild child, ConfinedChild::Fork(w));
  ASSIGN_OR_RETURN(TracedProcess traced, TracedProcess::SeizeChild(child.pid(), self_pidfd));
  RETURN_IF_ERROR(child.Go());
  RETURN_IF_ERROR(child.WaitExecuted());
  RETURN_IF_ERROR(traced.WaitForExec(Soon()));
  return HeldAtExec{std::move(child), std::move(traced)};
}

void BM_Observe(benchmark::State& state) {
  std::string error;
  const ConfinedWorkload* w = Workload(&error);
  if (w == nullptr) return state.SkipWithError(error.c_str());
  UniqueFd self = SelfPidfd();
  absl::StatusOr<HeldAtExec> held = HoldAtExec(*w, self.get());
  if (!held.ok()) return state.SkipWithError(held.status().ToString().c_str());
  std::vector<double> us;
  for (auto _ : state) {
    const double t0 = NowUs();
    absl::StatusOr<KernelObservation> seen = held->traced.Observe();
    us.push_back(NowUs() - t0);
    if (!seen.ok()) return state.SkipWithError(seen.status().ToString().c_str());
    benchmark::DoNotOptimize(seen->fds.size());
  }
  absl::StatusOr<KernelObservation> last = held->traced.Observe();
  if (!last.ok() || !CheckObservationMatchesManifest(*last, w->manifest()).ok()) {
    return state.SkipWithError("the held child's observation does not match its manifest");
  }
  state.counters["p50_us"] = Percentile(us, 50);
  state.counters["p90_us"] = Percentile(us, 90);
}
BENCHMARK(BM_Observe)->Iterations(2000)->Unit(benchmark::kMicrosecond);

void BM_CheckObservation(benchmark::State& state) {
  std::string error;
  const ConfinedWorkload* w = Workload(&error);
  if (w == nullptr) return state.SkipWithError(error.c_str());
  UniqueFd self = SelfPidfd();
  absl::StatusOr<HeldAtExec> held = HoldAtExec(*w, self.get());
  if (!held.ok()) return state.SkipWithError(held.status().ToString().c_str());
  absl::StatusOr<KernelObservation> seen = held->traced.Observe();
  if (!seen.ok()) return state.SkipWithError(seen.status().ToString().c_str());
  for (auto _ : state) {
    absl::Status ok = CheckObservationMatchesManifest(*seen, w->manifest());
    if (!ok.ok()) return state.SkipWithError(ok.ToString().c_str());
  }
}
BENCHMARK(BM_CheckObservation)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fdattest::bench

BENCHMARK_MAIN();
