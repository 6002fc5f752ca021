// fdverifierd's store under the attest route's write load: each item is one
// ConsumeNonce plus one PutResult (what a /v1/attest request writes), from 8
// threads, on the SQLite store with group commit against the same store
// committing every write alone (SqliteStore::Options::batch_writes = false).
// Every write is durable when it returns in both (WAL, synchronous=FULL), so
// the difference is fsyncs shared.
//
//   store_bench [Google Benchmark flags]
//
// The database lives in a fresh directory under $STORE_BENCH_DIR (default: the
// system's temporary directory); a tmpfs there makes fsync free and the
// comparison meaningless. Every consume must succeed and every result must be
// stored, or the program exits 1.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "common/sha256.h"
#include "verifier/sqlite_store.h"

namespace fdattest {
namespace {

constexpr int kThreads = 8;

struct Run {
  std::string root;
  std::unique_ptr<SqliteStore> store;
  std::atomic<int64_t> next{0};
};
Run* g_run = nullptr;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string Nonce(int64_t n) { return absl::StrFormat("bench-nonce-%020d", n); }

void Setup(const benchmark::State& state) {
  const char* base = std::getenv("STORE_BENCH_DIR");
  std::string tmpl = absl::StrCat(
      base != nullptr ? std::string(base) : std::filesystem::temp_directory_path().string(),
      "/fdattest-store-bench-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) Fail("cannot create a temporary directory");
  g_run = new Run;
  g_run->root = tmpl;
  const std::string dir = tmpl + "/data";
  // Setup's State does not carry the iteration count: the second argument does.
  const int64_t nonces = state.range(1) * kThreads;
  {
    // The nonces the timed loop consumes, issued beforehand with grouping.
    auto store = SqliteStore::Open(dir);
    if (!store.ok()) Fail(store.status().ToString());
    std::vector<std::thread> threads;
    for (int t = 0; t < 32; ++t) {
      threads.emplace_back([&, t] {
        for (int64_t n = t; n < nonces; n += 32) {
          if (!(*store)->AddNonce(Nonce(n), 1'000'000'000).ok()) Fail("AddNonce failed");
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  SqliteStore::Options options;
  options.batch_writes = state.range(0) != 0;
  auto store = SqliteStore::Open(dir, options);
  if (!store.ok()) Fail(store.status().ToString());
  g_run->store = std::move(*store);
}

void Teardown(const benchmark::State&) {
  std::filesystem::remove_all(g_run->root);
  delete g_run;
  g_run = nullptr;
}

void BM_ConsumeNonceAndPutResult(benchmark::State& state) {
  SqliteStore& store = *g_run->store;
  const std::string body(2048, 'r');  // about a result document's size
  for (auto _ : state) {
    int64_t n = g_run->next.fetch_add(1);
    if (!store.ConsumeNonce(Nonce(n), 1000).ok()) Fail(absl::StrCat("nonce ", n, " refused"));
    ResultRecord result;
    result.id = absl::StrFormat("%032x", n);
    result.verdict = "affirming";
    result.evidence_sha256 = HexEncode(Sha256(result.id));
    result.body = body;
    result.created_at = 1000;
    if (!store.PutResult(result).ok()) Fail(absl::StrCat("result ", n, " not stored"));
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    SqliteStore::WriteStats stats = store.Stats();
    state.counters["writes_per_txn"] =
        static_cast<double>(stats.writes) /
        static_cast<double>(std::max<int64_t>(1, stats.transactions));
  }
}

BENCHMARK(BM_ConsumeNonceAndPutResult)
    ->ArgNames({"batch_writes", "per_thread"})
    ->Args({1, 1500})
    ->Iterations(1500)
    ->Threads(kThreads)
    ->UseRealTime()
    ->Setup(Setup)
    ->Teardown(Teardown);
BENCHMARK(BM_ConsumeNonceAndPutResult)
    ->ArgNames({"batch_writes", "per_thread"})
    ->Args({0, 150})
    ->Iterations(150)
    ->Threads(kThreads)
    ->UseRealTime()
    ->Setup(Setup)
    ->Teardown(Teardown);

}  // namespace
}  // namespace fdattest

BENCHMARK_MAIN();
