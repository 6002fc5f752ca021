// The audit log's durable appends: CommitAttestation with an audit append
// (a realistic leaf; optionally the three sealed blobs of realistic sizes:
// evidence 12 KiB, result 8 KiB, decision 0.7 KiB) from many threads, on the
// SQLite store with group commit (one transaction, one fsync and one signed
// checkpoint per batch) against the same store committing every append alone
// (SqliteStore::Options::batch_writes = false: a transaction, an fsync and a
// checkpoint signature each), and against the same commits without the log
// (the result alone, group commit). An OK return is durable in both (WAL,
// synchronous=FULL). Reported: appends per second (items_per_second), leaves
// per transaction, and bytes stored per entry (database + write-ahead log
// after the log was checkpointed into the database, over the leaves), and of
// those the log's own tables' (leaves, nodes, checkpoints; SQLite's dbstat).
//
//   audit_append_bench [Google Benchmark flags]
//
// The database lives in a fresh directory under $STORE_BENCH_DIR (default:
// the system's temporary directory); a tmpfs there makes fsync free and the
// comparison meaningless. Every commit must succeed, or the program exits 1.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "common/sha256.h"
#include "verifier/audit/archive_records.h"
#include "verifier/audit/signed_note.h"
#include "verifier/internal/sqlite_db.h"
#include "verifier/sqlite_store.h"

namespace fdattest {
namespace {

struct Run {
  std::string root;
  std::string dir;
  std::unique_ptr<NoteSigner> signer;
  std::unique_ptr<SqliteStore> store;
  std::atomic<int64_t> next{0};
  std::string evidence, result, decision;  // sealed-blob stand-ins (random bytes)
};
Run* g_run = nullptr;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "audit_append_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string RandomBytes(size_t n, std::mt19937_64& rng) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// Args: batch_writes (0/1), blobs (0/1), audit append (0/1).
void Setup(const benchmark::State& state) {
  const char* base = std::getenv("STORE_BENCH_DIR");
  std::string tmpl = absl::StrCat(
      base != nullptr ? std::string(base) : std::filesystem::temp_directory_path().string(),
      "/fdattest-audit-bench-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) Fail("cannot create a temporary directory");
  g_run = new Run;
  g_run->root = tmpl;
  g_run->dir = tmpl + "/data";
  auto signer = NoteSigner::Generate("bench.example/audit-log");
  if (!signer.ok()) Fail(signer.status().ToString());
  g_run->signer = std::make_unique<NoteSigner>(*std::move(signer));
  SqliteStore::Options options;
  options.batch_writes = state.range(0) != 0;
  options.log_signer = g_run->signer.get();
  auto store = SqliteStore::Open(g_run->dir, options);
  if (!store.ok()) Fail(store.status().ToString());
  g_run->store = std::move(*store);
  if (!g_run->store->PutPolicy("bench-policy", "{\"rules\":[]}", 1).ok()) Fail("PutPolicy");
  if (!g_run->store->EnsureTenant("acme", "sealed tenant key", 1).ok()) Fail("EnsureTenant");
  std::mt19937_64 rng(42);
  g_run->evidence = RandomBytes(12 * 1024, rng);
  g_run->result = RandomBytes(8 * 1024, rng);
  g_run->decision = RandomBytes(700, rng);
}

void Teardown(const benchmark::State&) {
  g_run->store.reset();
  std::filesystem::remove_all(g_run->root);
  delete g_run;
  g_run = nullptr;
}

AttestationCommit MakeCommit(int64_t n, bool blobs) {
  AttestationCommit commit;
  commit.now = 1'700'000'000 + n / 1000;
  ResultRecord& r = commit.result;
  r.id = absl::StrFormat("%032x", n);
  r.policy_id = "bench-policy";
  r.policy_version = 1;
  r.verdict = "affirming";
  r.evidence_sha256 = HexEncode(Sha256(absl::StrCat("evidence ", n)));
  r.body = std::string(2048, 'r');  // about a result document's size
  r.created_at = commit.now;
  AuditLeaf leaf;
  leaf.result_id = r.id;
  leaf.time = commit.now;
  leaf.tenant = "acme";
  leaf.attester_id = absl::StrFormat("%032x", n % 1000 + 1);
  leaf.policy_id = r.policy_id;
  leaf.policy_version = 1;
  leaf.policy_sha256 = HexEncode(Sha256("{\"rules\":[]}"));
  leaf.evidence_sha256 = r.evidence_sha256;
  leaf.result_sha256 = HexEncode(Sha256(r.body));
  leaf.decision_sha256 = HexEncode(Sha256(absl::StrCat("decision ", n)));
  leaf.verdict = "affirming";
  AuditAppend append{leaf.Serialize(), {}};
  if (blobs) {
    // Distinct addresses per entry (the contents differ in life); the
    // ciphertexts are incompressible stand-ins of the sealed sizes.
    append.blobs = {
        {r.evidence_sha256, "acme", BlobKind::kEvidence, g_run->evidence, commit.now, 1LL << 40},
        {HexEncode(Sha256(absl::StrCat("result ", n))), "acme", BlobKind::kResult, g_run->result, commit.now, 1LL << 40},
        {leaf.decision_sha256, "acme", BlobKind::kDecision, g_run->decision, commit.now,
         1LL << 40}};
  }
  commit.audit = std::move(append);
  return commit;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

void BM_DurableAppend(benchmark::State& state) {
  SqliteStore& store = *g_run->store;
  const bool blobs = state.range(1) != 0;
  const bool audit = state.range(2) != 0;
  for (auto _ : state) {
    const int64_t n = g_run->next.fetch_add(1);
    AuditReceipt receipt;
    AttestationCommit commit = MakeCommit(n, blobs);
    if (!audit) commit.audit.reset();
    absl::Status s = store.CommitAttestation(commit, &receipt);
    if (!s.ok()) Fail(absl::StrCat("append ", n, ": ", s.ToString()));
    if (audit && receipt.tree_size <= receipt.leaf_index) Fail("a receipt without its leaf");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() != 0) return;
  // Every thread has left the loop (the benchmark's stop barrier).
  const SqliteStore::WriteStats stats = store.Stats();
  auto latest = store.LatestCheckpoint();
  if (!latest.ok()) Fail(latest.status().ToString());
  state.counters["leaves_per_txn"] =
      static_cast<double>(audit ? latest->size : stats.writes) /
      static_cast<double>(std::max<int64_t>(1, stats.transactions));
  // The log's pages copied into the database, the log truncated.
  const std::string db_path = absl::StrCat(g_run->dir, "/", SqliteStore::kDatabaseFileName);
  auto db = internal::SqliteDb::Open(db_path, false, 5000);
  if (!db.ok()) Fail(db.status().ToString());
  auto checkpoint = (*db)->Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  if (!checkpoint.ok()) Fail(checkpoint.status().ToString());
  auto row = checkpoint->Step();
  if (!row.ok() || !*row || checkpoint->Int(0) != 0) Fail("the write-ahead log was not truncated");
  const int64_t bytes = FileSize(db_path) + FileSize(db_path + "-wal");
  const double entries = static_cast<double>(
      std::max<uint64_t>(1, audit ? latest->size : static_cast<uint64_t>(stats.writes)));
  state.counters["bytes_per_entry"] = static_cast<double>(bytes) / entries;
  // Of which the log's own tables and indexes (leaves, nodes, checkpoints),
  // when SQLite was built with the dbstat table.
  auto log_pages = (*db)->QueryInt(
      "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'audit_leaves%' OR name LIKE "
      "'sqlite_autoindex_audit_leaves%' OR name LIKE 'audit_nodes%' OR name LIKE "
      "'audit_checkpoints%'");
  if (log_pages.ok()) state.counters["log_bytes_per_entry"] = static_cast<double>(*log_pages) / entries;
}

// The same commits without their audit append (the result alone), with
// group commit: what the log adds to a commit.
BENCHMARK(BM_DurableAppend)
    ->Name("DurableAppend/group_commit/no_log")
    ->Args({1, 0, 0})
    ->Iterations(200)
    ->Threads(256)
    ->UseRealTime()
    ->Setup(Setup)
    ->Teardown(Teardown);
// Group commit: many threads, so batches fill.
BENCHMARK(BM_DurableAppend)
    ->Name("DurableAppend/group_commit/no_blobs")
    ->Args({1, 0, 1})
    ->Iterations(200)
    ->Threads(256)
    ->UseRealTime()
    ->Setup(Setup)
    ->Teardown(Teardown);
BENCHMARK(BM_DurableAppend)
    ->Name("DurableAppend/one_txn_per_append/no_blobs")
    ->Args({0, 0, 1})
    ->Iterations(30)
    ->Threads(16)
    ->UseRealTime()
    ->Setup(Setup)
    ->Teardown(Teardown);
BENCHMARK(BM_DurableAppend)
    ->Name("DurableAppend/group_commit/three_blobs")
    ->Args({1, 1, 1})
    ->Iterations(40)
    ->Threads(128)
    ->UseRealTime()
    ->Setup(Setup)
    ->Teardown(Teardown);
BENCHMARK(BM_DurableAppend)
    ->Name("DurableAppend/one_txn_per_append/three_blobs")
    ->Args({0, 1, 1})
    ->Iterations(30)
    ->Threads(16)
    ->UseRealTime()
    ->Setup(Setup)
    ->Teardown(Teardown);

}  // namespace
}  // namespace fdattest

BENCHMARK_MAIN();
