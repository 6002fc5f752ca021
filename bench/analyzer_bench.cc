// BPF analyzer costs (docs/BENCHMARKS.md, "3. BPF analyzer"): the whole
// proof the launcher runs before installing its filter, per profile size,
// against libseccomp's compile of the same filter (the baseline: both are
// paid on every launch); emulator evaluations against a bare syscall; and
// `bpf explain` of a foreign-shaped chain of n single-bit tests against the
// explanation of the launcher's phi-etl filter.
#include <sys/syscall.h>
#include <unistd.h>

#include "benchmark/benchmark.h"
#include "common/bpf.h"
#include "common/bpf_explain.h"
#include "common/bpf_properties.h"
#include "common/bpf_symbolic.h"
#include "launcher/filter.h"
#include "tests/analyzer/synthetic_filters.h"

namespace fdattest {
namespace {

// n declared fds cycling through r, w, rw, a; exec fd right above them.
FilterSpec SpecWithFds(int n) {
  FilterSpec spec{.exec_fd = n};
  for (int fd = 0; fd < n; ++fd) spec.fds.push_back({fd, static_cast<Access>(fd % 4)});
  return spec;
}

FdSets SetsOf(const FilterSpec& spec) {
  FdSets s{.exec_fd = spec.exec_fd};
  for (const FilterFd& f : spec.fds) {
    if (Readable(f.access)) s.readable.insert(f.fd);
    if (Writable(f.access)) s.writable.insert(f.fd);
    if (f.access == Access::kAppend) s.append.insert(f.fd);
  }
  return s;
}

void BM_CompileFilter(benchmark::State& state) {
  const FilterSpec spec = SpecWithFds(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(CompileFilter(spec));
}
BENCHMARK(BM_CompileFilter)->Arg(5)->Arg(16)->Arg(32)->Unit(benchmark::kMicrosecond);

// The reference profile of the launcher's documentation (phi-etl): fd 0 input
// r, fd 1 output w, fd 2 audit log a, fd 3 sink w, fd 4 null r.
FilterSpec PhiEtlSpec() {
  return FilterSpec{.fds = {{0, Access::kRead}, {1, Access::kWrite}, {2, Access::kAppend},
                            {3, Access::kWrite}, {4, Access::kRead}},
                    .exec_fd = 5};
}

void BM_ProveFilter(benchmark::State& state) {
  const FilterSpec spec =
      state.range(0) == 0 ? PhiEtlSpec() : SpecWithFds(static_cast<int>(state.range(0)));
  const std::string bpf = *CompileFilter(spec);
  const FdSets sets = SetsOf(spec);
  for (auto _ : state) {
    auto program = BpfProgram::Decode(bpf);
    auto table = DecisionTable::Build(*program);
    auto results = CheckLauncherProperties(*table, sets);
    if (!results.ok()) state.SkipWithError("analysis failed");
    benchmark::DoNotOptimize(results);
  }
  auto program = BpfProgram::Decode(bpf);
  auto table = DecisionTable::Build(*program);
  state.counters["instructions"] = static_cast<double>(program->insns().size());
  state.counters["paths"] = static_cast<double>(table->leaves().size());
  // Instructions executed for read on fd 0 and write on fd 1 (r and w in
  // every spec here).
  SeccompInput in;
  in.w[1] = kAuditArchX86_64;
  int steps = 0;
  in.w[0] = SYS_read;
  in.w[ArgLoWord(0)] = 0;
  program->Evaluate(in, &steps);
  state.counters["read_insns"] = steps;
  in.w[0] = SYS_write;
  in.w[ArgLoWord(0)] = 1;
  program->Evaluate(in, &steps);
  state.counters["write_insns"] = steps;
}
// Arg 0: the phi-etl reference profile; otherwise n fds cycling r, w, rw, a.
BENCHMARK(BM_ProveFilter)->Arg(0)->Arg(5)->Arg(16)->Arg(32)->Unit(benchmark::kMicrosecond);

// The proof's two halves for the phi-etl profile: the decision table (path
// enumeration) and the property queries on a built table.
void BM_ProveFilterTable(benchmark::State& state) {
  const std::string bpf = *CompileFilter(PhiEtlSpec());
  const BpfProgram program = *BpfProgram::Decode(bpf);
  for (auto _ : state) benchmark::DoNotOptimize(DecisionTable::Build(program));
}
BENCHMARK(BM_ProveFilterTable)->Unit(benchmark::kMicrosecond);

void BM_ProveFilterProperties(benchmark::State& state) {
  const FilterSpec spec = PhiEtlSpec();
  const std::string bpf = *CompileFilter(spec);
  const DecisionTable table = *DecisionTable::Build(*BpfProgram::Decode(bpf));
  const FdSets sets = SetsOf(spec);
  for (auto _ : state) benchmark::DoNotOptimize(CheckLauncherProperties(table, sets));
}
BENCHMARK(BM_ProveFilterProperties)->Unit(benchmark::kMicrosecond);

// What `fdattest bpf explain` does with a filter's bytes: decode, decision
// table, explanation, text.
void ExplainBytes(benchmark::State& state, const std::string& bpf) {
  for (auto _ : state) {
    auto program = BpfProgram::Decode(bpf);
    auto table = DecisionTable::Build(*program);
    if (!table.ok()) {
      state.SkipWithError(std::string(table.status().message()).c_str());
      return;
    }
    auto e = Explain(*program, *table);
    if (!e.ok()) {
      state.SkipWithError(std::string(e.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(e->ToText());
  }
}

// A chain of n single-bit `jset` tests (each refusing) on one argument: the
// search is linear in n (it was 2^n; 17 bits were refused as too complex).
void BM_ExplainJsetChain(benchmark::State& state) {
  ExplainBytes(state, testing::JsetChainFilter(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_ExplainJsetChain)->Arg(8)->Arg(16)->Arg(32)->Unit(benchmark::kMillisecond);

// Baseline: the explanation of the launcher's own phi-etl filter.
void BM_ExplainLauncherFilter(benchmark::State& state) {
  ExplainBytes(state, *CompileFilter(PhiEtlSpec()));
}
BENCHMARK(BM_ExplainLauncherFilter)->Unit(benchmark::kMillisecond);

void BM_EmulatorEvaluate(benchmark::State& state) {
  const std::string bpf = *CompileFilter(SpecWithFds(5));
  const BpfProgram program = *BpfProgram::Decode(bpf);
  SeccompInput in;
  in.w[1] = kAuditArchX86_64;
  uint32_t nr = 0;
  for (auto _ : state) {
    in.w[0] = nr++ % 64;  // a spread of syscalls, as a workload would issue
    in.w[ArgLoWord(0)] = nr % 7;
    benchmark::DoNotOptimize(program.Evaluate(in));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EmulatorEvaluate);

// Baseline for the emulator: the cheapest real syscall, unfiltered.
void BM_BareSyscall(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getppid));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BareSyscall);

}  // namespace
}  // namespace fdattest

BENCHMARK_MAIN();
