// The audit log's proof generation from its SQLite node table (audit_nodes,
// verifier/audit/merkle_sqlite.h): inclusion and consistency proofs for
// random leaves and sizes in a tree of 10,000,000 leaves, against the same
// proofs in a tree of 1,000 leaves in the same kind of database and a single
// SQLite point read of one node, all in one run. Each iteration times one
// proof; the counters p50_us and p99_us are percentiles of those times
// (Google Benchmark's own figure is the mean), cpu_p50_us and cpu_p99_us the
// same for the thread's CPU time. bytes_per_leaf is the node
// table's file size over its leaves. Target: p99 <= 1 ms at 10 M leaves.
//
//   merkle_bench [--merkle_dir=DIR] [--merkle_cache_mib=N] [Google Benchmark flags]
//
// The databases are built once through MerkleAppender (large transactions,
// no journal: they are scratch data) and kept in DIR (default: the
// bench-data directory of the build), rebuilt only when missing; building
// the 10 M tree takes minutes. Every generated proof of the first iterations
// is verified; a failure exits 1. --merkle_cache_mib sets SQLite's page cache
// of the reading connections (default: SQLite's own, 2 MiB).
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "verifier/audit/merkle.h"
#include "verifier/audit/merkle_sqlite.h"
#include "verifier/internal/sqlite_db.h"

namespace fdattest {
namespace {

std::string g_dir = FDATTEST_BENCH_DATA_DIR;
int g_cache_mib = 0;  // 0: SQLite's default page cache (2 MiB)

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "merkle_bench: %s\n", what.c_str());
  std::exit(1);
}

MerkleHash LeafFor(uint64_t i) {
  return MerkleLeafHash(std::string(reinterpret_cast<const char*>(&i), sizeof(i)));
}

std::unique_ptr<internal::SqliteDb> OpenDb(const std::string& path, bool create) {
  auto db = internal::SqliteDb::Open(path, create, 5000);
  if (!db.ok()) Fail(db.status().ToString());
  return std::move(*db);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) Fail(absl::StrCat(what, ": ", s.ToString()));
}

// Builds the node table of a `leaves`-leaf tree at `path` unless it exists.
void BuildIfMissing(const std::string& path, uint64_t leaves) {
  if (std::filesystem::exists(path)) return;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::string tmp = path + ".building";
  std::filesystem::remove(tmp);
  std::fprintf(stderr, "merkle_bench: building %s (%llu leaves)\n", path.c_str(),
               static_cast<unsigned long long>(leaves));
  const auto start = std::chrono::steady_clock::now();
  {
    auto db = OpenDb(tmp, true);
    Check(db->Exec("PRAGMA journal_mode = OFF"), "journal_mode");
    Check(db->Exec("PRAGMA synchronous = OFF"), "synchronous");
    Check(db->Exec("PRAGMA cache_size = -262144"), "cache_size");
    Check(db->Exec(kAuditNodesSchema), "schema");
    SqliteMerkleNodes nodes(*db);
    MerkleAppender appender;
    constexpr uint64_t kBatch = 200000;
    for (uint64_t i = 0; i < leaves;) {
      Check(db->Exec("BEGIN"), "BEGIN");
      for (uint64_t end = std::min(leaves, i + kBatch); i < end; ++i) {
        Check(nodes.Write(appender.Append(LeafFor(i))), "Write");
      }
      Check(db->Exec("COMMIT"), "COMMIT");
    }
  }
  std::filesystem::rename(tmp, path);
  std::fprintf(stderr, "merkle_bench: built in %.1f s\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

struct Tree {
  uint64_t leaves;
  std::string path;
  std::unique_ptr<internal::SqliteDb> db;
  std::unique_ptr<SqliteMerkleNodes> nodes;
};

Tree& GetTree(uint64_t leaves) {
  static Tree* small = nullptr;
  static Tree* large = nullptr;
  Tree*& t = leaves == 1000 ? small : large;
  if (t == nullptr) {
    t = new Tree;
    t->leaves = leaves;
    t->path = absl::StrCat(g_dir, "/merkle_", leaves, ".db");
    BuildIfMissing(t->path, leaves);
    t->db = OpenDb(t->path, false);
    if (g_cache_mib > 0) {
      Check(t->db->Exec(absl::StrCat("PRAGMA cache_size = -", g_cache_mib * 1024).c_str()),
            "cache_size");
    }
    t->nodes = std::make_unique<SqliteMerkleNodes>(*t->db);
  }
  return *t;
}

std::string Bytes(const MerkleHash& h) { return std::string(h.begin(), h.end()); }
std::vector<std::string> Bytes(const std::vector<MerkleHash>& v) {
  std::vector<std::string> out;
  for (const MerkleHash& h : v) out.push_back(Bytes(h));
  return out;
}

using Clock = std::chrono::steady_clock;

// This thread's CPU time in microseconds: with wall time it tells the work
// from time spent preempted or waiting for the disk.
double CpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// Wall and CPU time of each iteration, in microseconds.
struct Samples {
  std::vector<double> wall, cpu;
  void Add(Clock::time_point t0, Clock::time_point t1, double c0, double c1) {
    wall.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    cpu.push_back(c1 - c0);
  }
};

double Percentile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

void ReportPercentiles(benchmark::State& state, Samples& samples, const Tree& tree) {
  if (samples.wall.empty()) return;
  state.counters["p50_us"] = Percentile(samples.wall, 0.50);
  state.counters["p99_us"] = Percentile(samples.wall, 0.99);
  state.counters["max_us"] = samples.wall.back();
  state.counters["cpu_p50_us"] = Percentile(samples.cpu, 0.50);
  state.counters["cpu_p99_us"] = Percentile(samples.cpu, 0.99);
  struct stat st {};
  if (stat(tree.path.c_str(), &st) == 0) {
    state.counters["bytes_per_leaf"] = static_cast<double>(st.st_size) / tree.leaves;
  }
  state.counters["leaves"] = static_cast<double>(tree.leaves);
}

void BM_InclusionProof(benchmark::State& state) {
  Tree& tree = GetTree(state.range(0));
  const absl::StatusOr<MerkleHash> root = MerkleRoot(*tree.nodes, tree.leaves);
  Check(root.status(), "root");
  std::mt19937_64 rng(1);
  Samples us;
  for (auto _ : state) {
    const uint64_t index = rng() % tree.leaves;
    const double c0 = CpuUs();
    const auto t0 = Clock::now();
    absl::StatusOr<std::vector<MerkleHash>> proof =
        MerkleInclusionProof(*tree.nodes, index, tree.leaves);
    const auto t1 = Clock::now();
    us.Add(t0, t1, c0, CpuUs());
    Check(proof.status(), "inclusion proof");
    if (us.wall.size() <= 100) {
      Check(VerifyMerkleInclusion(index, tree.leaves, Bytes(LeafFor(index)), Bytes(*proof),
                                  Bytes(*root)),
            "verifying an inclusion proof");
    }
  }
  ReportPercentiles(state, us, tree);
}

void BM_ConsistencyProof(benchmark::State& state) {
  Tree& tree = GetTree(state.range(0));
  std::mt19937_64 rng(2);
  Samples us;
  for (auto _ : state) {
    const uint64_t size2 = 2 + rng() % (tree.leaves - 1);
    const uint64_t size1 = 1 + rng() % (size2 - 1);
    const double c0 = CpuUs();
    const auto t0 = Clock::now();
    absl::StatusOr<std::vector<MerkleHash>> proof =
        MerkleConsistencyProof(*tree.nodes, size1, size2);
    const auto t1 = Clock::now();
    us.Add(t0, t1, c0, CpuUs());
    Check(proof.status(), "consistency proof");
    if (us.wall.size() <= 100) {
      state.PauseTiming();
      const absl::StatusOr<MerkleHash> root1 = MerkleRoot(*tree.nodes, size1);
      const absl::StatusOr<MerkleHash> root2 = MerkleRoot(*tree.nodes, size2);
      Check(root1.status(), "root1");
      Check(root2.status(), "root2");
      Check(VerifyMerkleConsistency(size1, size2, Bytes(*root1), Bytes(*root2), Bytes(*proof)),
            "verifying a consistency proof");
      state.ResumeTiming();
    }
  }
  ReportPercentiles(state, us, tree);
}

// The floor: one SQLite point read of one random leaf node.
void BM_PointRead(benchmark::State& state) {
  Tree& tree = GetTree(state.range(0));
  std::mt19937_64 rng(3);
  Samples us;
  std::vector<MerkleHash> out;
  for (auto _ : state) {
    const MerkleNodeId id[] = {{0, rng() % tree.leaves}};
    const double c0 = CpuUs();
    const auto t0 = Clock::now();
    const absl::Status s = tree.nodes->ReadNodes(id, &out);
    const auto t1 = Clock::now();
    us.Add(t0, t1, c0, CpuUs());
    Check(s, "point read");
  }
  ReportPercentiles(state, us, tree);
}

constexpr int64_t kLarge = 10'000'000;
BENCHMARK(BM_InclusionProof)
    ->Arg(1000)
    ->Arg(kLarge)
    ->Iterations(20000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ConsistencyProof)
    ->Arg(1000)
    ->Arg(kLarge)
    ->Iterations(20000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PointRead)->Arg(kLarge)->Iterations(20000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fdattest

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--merkle_dir=", 13) == 0) {
      fdattest::g_dir = argv[i] + 13;
    } else if (std::strncmp(argv[i], "--merkle_cache_mib=", 19) == 0) {
      fdattest::g_cache_mib = std::atoi(argv[i] + 19);
    } else {
      continue;
    }
    for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
    --argc;
    --i;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
