// What the audit archive adds to POST /v1/attest: fdverifierd's attest
// handler (HandleAttest, verifier/service/handlers.h) called in-process, no
// HTTP or TLS, from many threads at once (like the service's connections, so
// that the store's group commit groups), over the real SqliteStore in a fresh
// data directory, in two variants run alternately in one process:
//
//   baseline (archive=0): ServiceContext::tenant_keys null: the decision is
//     verified, its nonce consumed and its result stored, nothing archived;
//   archive  (archive=1): tenant_keys set, as in fdverifierd: the same, plus
//     the log leaf and the three sealed blobs in the same transaction, a
//     signed checkpoint per group commit, and the receipt with its inclusion
//     proof in the response.
//
// Every request is the genuine seed bundle
// (tests/fuzz/corpus/evidence/genuine_nv_first.json) under the seed policy
// and TPM CA, from an enrolled, active attester: a full verification, every
// step passing down to the policy's rules, which the seed launch breaks (its
// filter allows prctl(PR_SET_NAME)), so each decision is "contraindicated" as
// a policy violation: no secret is released, everything else is done and
// recorded as for an affirming one. The bundle's nonce is fixed (its
// signature covers it), so the handler sees each thread's store through a
// thin wrapper (SeedNonceStore) that stands a fresh nonce, issued
// beforehand, in for the bundle's where the store checks and consumes it;
// each thread has its own in-process nonce claims for the same reason.
// (Replaying one nonce instead would stop every verification but the first
// at step 2 and make the baseline cheaper than any real request.)
// Everything else is the store's and the handler's own code. Not reproduced:
// the evidence blob is addressed by its content, so this one bundle's is
// stored once; distinct bundles would add one ~11.5 KB blob per request.
//
// Counters: p50_ms, p90_ms, p99_ms, max_ms of each request's wall time,
// cpu_p50_ms and cpu_p99_ms of the calling thread's CPU time (the handler's
// own work; the store's writer thread is not in it), process_cpu_ms_per_request
// (all of the process's CPU time over the requests, writer included; the
// checks of the first receipts are in it too), requests_per_s (all
// requests over the run's wall time), writes_per_txn (group commit), leaves
// (the log's size at the end), db_bytes (the database file after the store
// closed) and db_bytes_per_request. Each response is checked (200, the
// policy violation above, a receipt exactly when archiving), the receipts
// of every thread's first requests are verified (checkpoint signature,
// inclusion proof against its root), and the log must end with one leaf per
// archived request; any failure exits 1.
//
//   attest_receipt_bench [--receipt_threads=16] [--receipt_requests=250]
//                        [--receipt_rounds=3] [Google Benchmark flags]
//
// receipt_requests is per thread; the rounds alternate baseline and archive.
// The data directories live under $RECEIPT_BENCH_DIR (default: the system's
// temporary directory); a tmpfs there makes fsync free. With
// RECEIPT_BENCH_KEEP set they are kept (and named on stderr) for inspection.
#include <openssl/rand.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "common/base64.h"
#include "common/evidence.h"
#include "common/json.h"
#include "common/sha256.h"
#include "tests/support/seed_bundles.h"
#include "verifier/audit/checkpoint.h"
#include "verifier/audit/merkle.h"
#include "verifier/audit/signed_note.h"
#include "verifier/jose_key.h"
#include "verifier/identity_cache.h"
#include "verifier/proof_cache.h"
#include "verifier/secret_box.h"
#include "verifier/service/archive_entry.h"
#include "verifier/service/handlers.h"
#include "verifier/service/nonce_budget.h"
#include "verifier/service/policy_cache.h"
#include "verifier/sqlite_store.h"
#include "verifier/tpm_attest.h"

namespace fdattest {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kAttesterId[] = "0123456789abcdef0123456789abcdef";
constexpr int64_t kNow = 1796100000;  // 2026-12-01, inside the seed EK certificate's validity
constexpr int kVerifiedReceiptsPerThread = 5;

int g_threads = 16;
int g_requests = 250;  // per thread
int g_rounds = 3;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "attest_receipt_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Fail(absl::StrCat(what, ": ", s.ToString()));
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    Fail("RAND_bytes failed");
  }
  return out;
}

std::string Nonce(int64_t n) { return absl::StrFormat("receipt-bench-%018d", n); }

double CpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// This process's CPU time (all threads, the store's writer included), ms.
double ProcessCpuMs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

// The store as one thread's requests see it: SqliteStore's, except that the
// seed bundle's nonce stands for `current`, a fresh nonce issued in the store.
class SeedNonceStore final : public Store {
 public:
  SeedNonceStore(Store* inner, std::string seed_nonce)
      : inner_(inner), seed_nonce_(std::move(seed_nonce)) {}
  void set_current(std::string nonce) { current_ = std::move(nonce); }

  absl::StatusOr<int64_t> CheckNonce(absl::string_view nonce, int64_t now) override {
    return inner_->CheckNonce(nonce == seed_nonce_ ? absl::string_view(current_) : nonce, now);
  }
  absl::Status CommitAttestation(const AttestationCommit& commit, AuditReceipt* receipt) override {
    if (commit.nonce != seed_nonce_) return inner_->CommitAttestation(commit, receipt);
    AttestationCommit mine = commit;  // a copy of some KiB, in both variants
    mine.nonce = current_;
    return inner_->CommitAttestation(mine, receipt);
  }

  absl::Status AddPendingAttester(const AttesterRecord& r, bool replace) override {
    return inner_->AddPendingAttester(r, replace);
  }
  absl::Status ActivateAttester(absl::string_view id, absl::string_view c, int64_t now) override {
    return inner_->ActivateAttester(id, c, now);
  }
  absl::Status RevokeAttester(absl::string_view id, int64_t now) override {
    return inner_->RevokeAttester(id, now);
  }
  absl::StatusOr<AttesterRecord> GetAttester(absl::string_view id) override {
    return inner_->GetAttester(id);
  }
  absl::StatusOr<AttesterRecord> FindAttesterByAkName(absl::string_view name) override {
    return inner_->FindAttesterByAkName(name);
  }
  absl::Status RecordCounters(absl::string_view id, const TpmCounters& c) override {
    return inner_->RecordCounters(id, c);
  }
  absl::Status AddNonce(absl::string_view nonce, int64_t expires_at) override {
    return inner_->AddNonce(nonce, expires_at);
  }
  absl::Status ConsumeNonce(absl::string_view nonce, int64_t now) override {
    return inner_->ConsumeNonce(nonce, now);
  }
  absl::StatusOr<int64_t> CountNonces(int64_t now) override { return inner_->CountNonces(now); }
  absl::Status PurgeNonces(int64_t now) override { return inner_->PurgeNonces(now); }
  absl::StatusOr<PolicyRecord> PutPolicy(absl::string_view id, absl::string_view text,
                                         int64_t now) override {
    return inner_->PutPolicy(id, text, now);
  }
  absl::StatusOr<PolicyRecord> GetPolicy(absl::string_view id,
                                         std::optional<int64_t> version) override {
    return inner_->GetPolicy(id, version);
  }
  absl::Status PutSecret(const SecretRecord& r) override { return inner_->PutSecret(r); }
  absl::StatusOr<SecretRecord> GetSecret(absl::string_view name) override {
    return inner_->GetSecret(name);
  }
  absl::Status PutResult(const ResultRecord& r) override { return inner_->PutResult(r); }
  absl::StatusOr<ResultRecord> GetResult(absl::string_view id) override {
    return inner_->GetResult(id);
  }
  absl::StatusOr<TenantRecord> EnsureTenant(absl::string_view id, absl::string_view key,
                                            int64_t now) override {
    return inner_->EnsureTenant(id, key, now);
  }
  absl::StatusOr<TenantRecord> GetTenant(absl::string_view id) override {
    return inner_->GetTenant(id);
  }
  absl::Status ShredTenant(absl::string_view id, int64_t now) override {
    return inner_->ShredTenant(id, now);
  }
  absl::Status PutBlob(const BlobRecord& r) override { return inner_->PutBlob(r); }
  absl::StatusOr<BlobRecord> GetBlob(absl::string_view tenant, absl::string_view sha256,
                                     BlobKind kind) override {
    return inner_->GetBlob(tenant, sha256, kind);
  }
  absl::StatusOr<int64_t> ExpireBlobs(int64_t now) override { return inner_->ExpireBlobs(now); }
  absl::StatusOr<SignedCheckpoint> LatestCheckpoint() override {
    return inner_->LatestCheckpoint();
  }
  absl::StatusOr<SignedCheckpoint> CheckpointOfSize(uint64_t size) override {
    return inner_->CheckpointOfSize(size);
  }
  absl::StatusOr<std::vector<std::string>> AuditLeaves(uint64_t start, uint64_t count) override {
    return inner_->AuditLeaves(start, count);
  }
  absl::StatusOr<uint64_t> AuditLeafOfResult(absl::string_view id) override {
    return inner_->AuditLeafOfResult(id);
  }
  absl::StatusOr<std::pair<uint64_t, uint64_t>> AuditRangeByTime(int64_t from,
                                                                 int64_t to) override {
    return inner_->AuditRangeByTime(from, to);
  }
  absl::StatusOr<std::vector<MerkleHash>> AuditInclusionProof(uint64_t index,
                                                              uint64_t size) override {
    return inner_->AuditInclusionProof(index, size);
  }
  absl::StatusOr<std::vector<MerkleHash>> AuditConsistencyProof(uint64_t size1,
                                                                uint64_t size2) override {
    return inner_->AuditConsistencyProof(size1, size2);
  }
  absl::StatusOr<std::string> AuditTile(const TileRef& tile, uint64_t tree_size) override {
    return inner_->AuditTile(tile, tree_size);
  }
  absl::Status AddCosignature(uint64_t size, absl::string_view line) override {
    return inner_->AddCosignature(size, line);
  }

 private:
  Store* inner_;
  const std::string seed_nonce_;
  std::string current_;
};

// What every run shares: made once.
struct Fixed {
  std::string evidence;
  std::string seed_nonce;
  AttesterRecord attester;
  NoteSigner log_signer;
  std::vector<NoteVerifier> log_verifiers;
  SigningKey ear_key;
  SecretBox service_key;
};
Fixed* g_fixed = nullptr;

// One run (one variant, one round): a fresh data directory and store.
struct Run {
  std::string root, data_dir;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<TenantKeyCache> tenant_keys;
  FilterProofCache proofs;
  IdentityCache identities;
  PolicyCache policies;
  ServiceContext context;  // shared part; each thread copies it
  std::atomic<int64_t> next_nonce{0};
  std::atomic<int> finished{0};
  double process_cpu_start_ms = 0;  // when Setup ended
  std::mutex mu;
  std::vector<double> wall_ms, cpu_ms;          // guarded by mu
  Clock::time_point first_start = Clock::time_point::max();  // guarded by mu
  Clock::time_point last_end = Clock::time_point::min();     // guarded by mu
};
Run* g_run = nullptr;

void MakeFixed() {
  g_fixed = new Fixed{
      {}, {}, {}, *NoteSigner::Generate("bench.invalid/log"), {}, *SigningKey::Generate(),
      *SecretBox::FromKeyBytes(RandomBytes(SecretBox::kKeyBytes))};
  const std::string path =
      std::string(FDATTEST_SOURCE_DIR) + "/tests/fuzz/corpus/evidence/genuine_nv_first.json";
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  g_fixed->evidence = ss.str();
  if (g_fixed->evidence.empty()) Fail(absl::StrCat("cannot read ", path));
  absl::StatusOr<Evidence> evidence = Evidence::Parse(g_fixed->evidence);
  Check(evidence.status(), "the seed evidence");
  absl::StatusOr<AkPublic> ak = ParseAkPublic(evidence->ak_public);
  Check(ak.status(), "the seed AK");
  g_fixed->seed_nonce = evidence->nonce;
  AttesterRecord& a = g_fixed->attester;
  a.id = kAttesterId;
  a.ak_public = evidence->ak_public;
  a.ak_name = HexEncode(ak->name);
  a.ek_certificate = evidence->ek_certificate;
  a.ek_public = "ek";  // not read by attestation
  a.ek_sha256 = HexEncode(Sha256(a.ek_public));
  a.credential_sha256 = HexEncode(Sha256("credential"));
  a.state = AttesterState::kPending;
  a.created_at = kNow - 100;
  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(g_fixed->log_signer.VerifierKey());
  Check(verifier.status(), "the log's verifier key");
  g_fixed->log_verifiers.push_back(*std::move(verifier));
}

void Setup(const benchmark::State& state) {
  const bool archive = state.range(0) != 0;
  const char* base = std::getenv("RECEIPT_BENCH_DIR");
  std::string tmpl = absl::StrCat(
      base != nullptr ? std::string(base) : std::filesystem::temp_directory_path().string(),
      "/fdattest-receipt-bench-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) Fail("cannot create a temporary directory");
  g_run = new Run;
  Run& run = *g_run;
  run.root = tmpl;
  run.data_dir = tmpl + "/data";
  SqliteStore::Options options;
  options.log_signer = &g_fixed->log_signer;  // both variants: as fdverifierd opens it
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(run.data_dir, options);
  Check(store.status(), "SqliteStore::Open");
  run.store = *std::move(store);
  Check(run.store->PutPolicy("phi", testing::kSeedPolicy, kNow).status(), "PutPolicy");
  Check(run.store->AddPendingAttester(g_fixed->attester, false), "AddPendingAttester");
  Check(run.store->ActivateAttester(kAttesterId, g_fixed->attester.credential_sha256, kNow - 50),
        "ActivateAttester");
  // The nonces the timed requests consume, issued beforehand (a client's
  // GET /v1/challenge), with grouping.
  const int64_t nonces = int64_t{g_threads} * g_requests;
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t n = t; n < nonces; n += 16) {
        Check(run.store->AddNonce(Nonce(n), kNow + 3600), "AddNonce");
      }
    });
  }
  for (auto& thread : threads) thread.join();

  ServiceContext& c = run.context;
  c.store = run.store.get();
  c.tpm_ca_pem = std::string(testing::kSeedTpmCaPem);
  c.tpm_ca_sha256 = HexEncode(Sha256(c.tpm_ca_pem));
  c.now = [] { return kNow; };
  c.random = RandomBytes;
  c.signing_key = &g_fixed->ear_key;
  c.proof_cache = &run.proofs;
  c.identity_cache = &run.identities;
  c.policies = &run.policies;
  if (archive) {
    run.tenant_keys = std::make_unique<TenantKeyCache>(run.store.get(), &g_fixed->service_key);
    c.tenant_keys = run.tenant_keys.get();
  }
  run.process_cpu_start_ms = ProcessCpuMs();
}

void Teardown(const benchmark::State&) {
  g_run->store.reset();
  if (std::getenv("RECEIPT_BENCH_KEEP") != nullptr) {
    std::fprintf(stderr, "attest_receipt_bench: kept %s\n", g_run->data_dir.c_str());
  } else {
    std::filesystem::remove_all(g_run->root);
  }
  delete g_run;
  g_run = nullptr;
}

// The receipt in `body` proves its leaf against its checkpoint, which the
// log key signed.
void VerifyReceipt(const std::string& body) {
  absl::StatusOr<Json> doc = ParseJsonStrict(body);
  Check(doc.status(), "a response does not parse");
  if (!doc->is_object() || !doc->contains("receipt")) Fail("a response without a receipt");
  const Json& r = (*doc)["receipt"];
  for (const char* key : {"checkpoint", "leaf_index", "tree_size", "inclusion_proof", "leaf"}) {
    if (!r.is_object() || !r.contains(key)) Fail(absl::StrCat("a receipt without ", key));
  }
  const std::string note = r["checkpoint"];
  absl::StatusOr<OpenedNote> opened = OpenNote(note, g_fixed->log_verifiers);
  Check(opened.status(), "the receipt's checkpoint");
  absl::StatusOr<Checkpoint> cp = Checkpoint::Parse(opened->text);
  Check(cp.status(), "the receipt's checkpoint text");
  const uint64_t index = r["leaf_index"], size = r["tree_size"];
  if (cp->size != size) Fail("the receipt's tree_size is not its checkpoint's");
  std::vector<std::string> proof;
  for (const Json& h : r["inclusion_proof"]) {
    absl::StatusOr<std::string> raw = Base64Decode(h.get<std::string>());
    Check(raw.status(), "an inclusion proof hash");
    proof.push_back(*std::move(raw));
  }
  const std::string leaf = r["leaf"];
  const MerkleHash hash = MerkleLeafHash(leaf);
  Check(VerifyMerkleInclusion(index, size, std::string(hash.begin(), hash.end()), proof, cp->root),
        "the receipt's inclusion proof");
}

void BM_Attest(benchmark::State& state) {
  const bool archive = state.range(0) != 0;
  Run& run = *g_run;
  SeedNonceStore store(run.store.get(), g_fixed->seed_nonce);
  ServiceContext context = run.context;
  context.store = &store;
  context.nonce_claims = std::make_shared<NonceClaims>();  // the seed nonce is every thread's
  ApiRequest request;
  request.method = "POST";
  request.path = "/v1/attest";
  request.body = g_fixed->evidence;
  request.content_type = std::string(kJsonMediaType);
  request.query = {{"policy", "phi"}};

  std::vector<double> wall, cpu;
  wall.reserve(g_requests);
  cpu.reserve(g_requests);
  Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
  int done = 0;
  for (auto _ : state) {
    store.set_current(Nonce(run.next_nonce.fetch_add(1)));
    const double c0 = CpuMs();
    const Clock::time_point t0 = Clock::now();
    ApiResponse response = HandleAttest(context, request);
    const Clock::time_point t1 = Clock::now();
    const double c1 = CpuMs();
    first = std::min(first, t0);
    last = t1;
    wall.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    cpu.push_back(c1 - c0);
    // Every step of the pipeline passes, down to the policy's rules, which
    // the seed launch breaks (its filter is not closed-world).
    if (response.status != 200 ||
        !absl::StrContains(response.body, "\"verdict\":\"contraindicated\"") ||
        !absl::StrContains(response.body, "\"failure_class\":\"policy_violation\"")) {
      const size_t reason = response.body.find("\"reason\"");
      Fail(absl::StrCat("HTTP ", response.status, ": ",
                        response.body.substr(reason == std::string::npos ? 0 : reason, 1500)));
    }
    if (absl::StrContains(response.body, ",\"receipt\":") != archive) {
      Fail(archive ? "an archived decision came without a receipt"
                   : "a decision came with a receipt though nothing is archived");
    }
    if (archive && done++ < kVerifiedReceiptsPerThread) VerifyReceipt(response.body);
  }
  state.SetItemsProcessed(state.iterations());

  std::unique_lock<std::mutex> lock(run.mu);
  run.wall_ms.insert(run.wall_ms.end(), wall.begin(), wall.end());
  run.cpu_ms.insert(run.cpu_ms.end(), cpu.begin(), cpu.end());
  run.first_start = std::min(run.first_start, first);
  run.last_end = std::max(run.last_end, last);
  if (++run.finished < state.threads()) return;
  // The last thread to finish reports for all (counters are summed over
  // threads, and only this one sets them).
  const double n = static_cast<double>(run.wall_ms.size());
  state.counters["p50_ms"] = Percentile(run.wall_ms, 0.50);
  state.counters["p90_ms"] = Percentile(run.wall_ms, 0.90);
  state.counters["p99_ms"] = Percentile(run.wall_ms, 0.99);
  state.counters["max_ms"] = Percentile(run.wall_ms, 1.0);
  state.counters["cpu_p50_ms"] = Percentile(run.cpu_ms, 0.50);
  state.counters["cpu_p99_ms"] = Percentile(run.cpu_ms, 0.99);
  state.counters["requests"] = n;
  state.counters["requests_per_s"] =
      n / std::chrono::duration<double>(run.last_end - run.first_start).count();
  state.counters["process_cpu_ms_per_request"] = (ProcessCpuMs() - run.process_cpu_start_ms) / n;
  const SqliteStore::WriteStats stats = run.store->Stats();
  state.counters["writes_per_txn"] =
      static_cast<double>(stats.writes) /
      static_cast<double>(std::max<int64_t>(1, stats.transactions));
  absl::StatusOr<SignedCheckpoint> latest = run.store->LatestCheckpoint();
  Check(latest.status(), "LatestCheckpoint");
  if (latest->size != (archive ? static_cast<uint64_t>(n) : 0)) {
    Fail(absl::StrCat("the log holds ", latest->size, " leaves after ", n, " requests"));
  }
  state.counters["leaves"] = static_cast<double>(latest->size);
  // Closing the store checkpoints the write-ahead log into the file.
  run.store.reset();
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(
      run.data_dir + "/" + std::string(SqliteStore::kDatabaseFileName), ec);
  if (ec) Fail(absl::StrCat("cannot size the database: ", ec.message()));
  state.counters["db_bytes"] = static_cast<double>(bytes);
  state.counters["db_bytes_per_request"] = static_cast<double>(bytes) / n;
  state.counters["evidence_bytes"] = static_cast<double>(g_fixed->evidence.size());
}

std::string FilesystemOf(const std::string& dir) {
  struct statfs fs {};
  if (statfs(dir.c_str(), &fs) != 0) return "unknown";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x9123683E: return "btrfs";
    case 0x58465342: return "xfs";
    case 0x794C7630: return "overlayfs";
    default: return absl::StrFormat("0x%x", static_cast<unsigned long>(fs.f_type));
  }
}

bool TakeFlag(const char* arg, const char* name, int* value) {
  const size_t len = std::strlen(name);
  if (std::strncmp(arg, name, len) != 0 || arg[len] != '=') return false;
  *value = std::atoi(arg + len + 1);
  if (*value <= 0) Fail(absl::StrCat("bad ", arg));
  return true;
}

}  // namespace
}  // namespace fdattest

int main(int argc, char** argv) {
  using namespace fdattest;  // NOLINT: main only
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (TakeFlag(argv[i], "--receipt_threads", &g_threads) ||
        TakeFlag(argv[i], "--receipt_requests", &g_requests) ||
        TakeFlag(argv[i], "--receipt_rounds", &g_rounds)) {
      continue;
    }
    rest.push_back(argv[i]);
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  MakeFixed();
  const char* base = std::getenv("RECEIPT_BENCH_DIR");
  benchmark::AddCustomContext(
      "data_filesystem",
      FilesystemOf(base != nullptr ? base : std::filesystem::temp_directory_path().string()));
  benchmark::AddCustomContext("threads", std::to_string(g_threads));
  benchmark::AddCustomContext("requests_per_thread", std::to_string(g_requests));
  for (int round = 1; round <= g_rounds; ++round) {
    for (int archive = 0; archive <= 1; ++archive) {
      benchmark::RegisterBenchmark("BM_Attest", BM_Attest)
          ->ArgNames({"archive", "round"})
          ->Args({archive, round})
          ->Iterations(g_requests)
          ->Threads(g_threads)
          ->UseRealTime()
          ->Setup(Setup)
          ->Teardown(Teardown);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
