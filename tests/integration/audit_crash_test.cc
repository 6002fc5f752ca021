// Crash consistency of the audit log through the API (issue 16, acceptance
// item 2). The real fdverifierd on its SQLite store, one data directory for
// all 100 trials so that the log grows across them. In each trial client
// threads POST /v1/attest without pause (the seed evidence of
// tests/fuzz/corpus/evidence: its nonce was never issued, so every decision
// is a recorded broken_evidence and every 200 carries a receipt for a new
// leaf), while an auditor polls GET /v1/audit/checkpoint; after a random
// delay the daemon is killed with SIGKILL and started again on the same
// data. Then, on the restarted daemon:
//  (a) every receipt answered before the kill verifies on its own (its
//      checkpoint's signature with the log's key, its inclusion proof against
//      that checkpoint), its index was given to no other receipt, the leaf at
//      its index is byte-identical (GET /v1/audit/entries), and the leaf has
//      an inclusion proof to the new latest checkpoint that verifies;
//  (b) the new latest checkpoint is signed, never smaller than any
//      checkpoint seen before (polled or in a receipt), no two checkpoints
//      seen of one size differ, and it is consistent (a verified RFC 9162
//      consistency proof from GET /v1/audit/proof/consistency) with every
//      checkpoint seen in this and every earlier trial (polled, in receipts,
//      and each earlier restart's latest).
// So a receipt is a promise the log keeps across a crash at any moment, and
// the log after a crash only ever extends what anyone saw of it before.
//
// The kill delays come from a seed printed at the start (set
// FDATTEST_CRASH_SEED to repeat a run); a failure names its trial and seed.
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base64.h"
#include "common/json.h"
#include "gtest/gtest.h"
#include "tests/integration/fdverifierd_process.h"
#include "verifier/audit/checkpoint.h"
#include "verifier/audit/merkle.h"
#include "verifier/audit/signed_note.h"

namespace fdattest {
namespace {

using ::fdattest::testing::Daemon;
using ::fdattest::testing::DaemonArgs;
using ::fdattest::testing::DaemonDir;
using ::fdattest::testing::kOneInputPolicy;
using ::fdattest::testing::MakeDaemonDir;
using ::fdattest::testing::ReadFile;
using ::fdattest::testing::RoleClient;
using ::fdattest::testing::RunCommand;
using namespace std::chrono_literals;

constexpr int kTrials = 100;
constexpr int kAttestClients = 3;
constexpr int kMinDelayMs = 20;
constexpr int kMaxDelayMs = 300;
constexpr JsonLimits kBigJson{.max_bytes = 16 << 20, .max_depth = 8, .max_values = 1 << 20};

// What a POST /v1/attest answered with 200.
struct Receipt {
  std::string result_id;
  uint64_t leaf_index = 0;
  uint64_t tree_size = 0;
  std::string leaf;
  std::vector<std::string> proof;  // raw 32-byte hashes
  std::string checkpoint;          // the signed note
  int trial = 0;
};

// A checkpoint whose signature verified.
struct SeenCheckpoint {
  uint64_t size = 0;
  std::string root;
  int trial = 0;
};

std::string Hex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeHashes(const Json& array) {
  if (!array.is_array()) return absl::InvalidArgumentError("proof is not an array");
  std::vector<std::string> out;
  for (const Json& h : array) {
    if (!h.is_string()) return absl::InvalidArgumentError("proof hash is not a string");
    absl::StatusOr<std::string> raw = Base64Decode(h.get<std::string>());
    if (!raw.ok()) return raw.status();
    out.push_back(*std::move(raw));
  }
  return out;
}

class AuditCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<DaemonDir> made = MakeDaemonDir(FDATTEST_SOURCE_DIR, "audit-crash-test");
    ASSERT_TRUE(made.ok()) << made.status();
    dir_ = made->path;
    std::string vkey = ReadFile(dir_ + "/log.key.vkey");
    absl::StripTrailingAsciiWhitespace(&vkey);
    absl::StatusOr<NoteVerifier> verifier = NoteVerifier::FromVerifierKey(vkey);
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    log_name_ = verifier->name();
    verifiers_.push_back(*std::move(verifier));
    evidence_ = ReadFile(std::string(FDATTEST_SOURCE_DIR) +
                         "/tests/fuzz/corpus/evidence/genuine_nv_first.json");
    ASSERT_FALSE(evidence_.empty());
  }
  void TearDown() override {
    daemon_.reset();
    if (!dir_.empty()) RunCommand({"/bin/rm", "-rf", dir_});
  }

  void Start() {
    daemon_ = std::make_unique<Daemon>(
        DaemonArgs(FDATTEST_FDVERIFIERD, dir_, dir_ + "/pki/tpm-vendor-ca.pem"));
    ASSERT_GT(daemon_->port(), 0) << "the daemon did not start";
    auditor_ = RoleClient(daemon_->port(), dir_, "auditor");
    auditor_->set_keep_alive(true);
  }

  // A signed checkpoint note: the log's signature verifies and its text parses.
  absl::StatusOr<Checkpoint> OpenCheckpoint(absl::string_view note) {
    absl::StatusOr<OpenedNote> opened = OpenNote(note, verifiers_);
    if (!opened.ok()) return opened.status();
    if (std::find(opened->signed_by.begin(), opened->signed_by.end(), log_name_) ==
        opened->signed_by.end()) {
      return absl::UnauthenticatedError("not signed by the log's key");
    }
    return Checkpoint::Parse(opened->text);
  }

  absl::StatusOr<Json> GetJson(const std::string& path, JsonLimits limits = {}) {
    httplib::Result r = auditor_->Get(path);
    if (!r) return absl::UnavailableError(absl::StrCat("GET ", path, ": no response"));
    if (r->status != 200) {
      return absl::InternalError(absl::StrCat("GET ", path, ": ", r->status, " ", r->body));
    }
    return ParseJsonStrict(r->body, limits);
  }

  absl::StatusOr<Checkpoint> LatestCheckpoint() {
    httplib::Result r = auditor_->Get("/v1/audit/checkpoint");
    if (!r || r->status != 200) return absl::UnavailableError("GET /v1/audit/checkpoint failed");
    return OpenCheckpoint(r->body);
  }

  // One trial's load: attest clients and a checkpoint poller until the
  // daemon is killed `delay_ms` after every client got a receipt.
  void LoadAndKill(int trial, int delay_ms, std::vector<Receipt>* receipts,
                   std::vector<std::string>* polled, std::vector<std::string>* errors) {
    std::mutex mu;
    std::atomic<bool> killing{false};
    std::atomic<bool> stop{false};
    std::atomic<int> clients_with_receipt{0};
    const int port = daemon_->port();
    auto error = [&](std::string e) {
      std::lock_guard<std::mutex> lock(mu);
      errors->push_back(std::move(e));
    };
    std::vector<std::thread> threads;
    for (int c = 0; c < kAttestClients; ++c) {
      threads.emplace_back([&, c] {
        std::unique_ptr<httplib::SSLClient> client = RoleClient(port, dir_, "");
        client->set_keep_alive(true);
        bool counted = false;
        while (!stop.load()) {
          httplib::Result r = client->Post("/v1/attest?policy=p1", evidence_, "application/json");
          // A request the kill cut short has no answer; before the kill
          // every request must have one.
          if (!r) {
            if (!killing.load())
              error(absl::StrCat("client ", c, ": POST /v1/attest: no response"));
            std::this_thread::sleep_for(1ms);
            continue;
          }
          if (r->status != 200) {
            if (!killing.load())
              error(absl::StrCat("client ", c, ": POST /v1/attest: ", r->status, " ", r->body));
            continue;
          }
          // A 200 received even after the kill began was sent before it.
          absl::StatusOr<Json> body = ParseJsonStrict(r->body);
          if (!body.ok() || !body->contains("receipt") || !(*body)["receipt"].is_object()) {
            error(absl::StrCat("client ", c, ": a 200 without a receipt: ", r->body));
            continue;
          }
          const Json& j = (*body)["receipt"];
          Receipt receipt;
          receipt.trial = trial;
          absl::StatusOr<std::vector<std::string>> proof =
              j.contains("inclusion_proof") ? DecodeHashes(j["inclusion_proof"])
                                            : absl::InvalidArgumentError("no inclusion_proof");
          if (!body->contains("id") || !(*body)["id"].is_string() || !j.contains("leaf_index") ||
              !j["leaf_index"].is_number_unsigned() || !j.contains("tree_size") ||
              !j["tree_size"].is_number_unsigned() || !j.contains("leaf") ||
              !j["leaf"].is_string() || !j.contains("checkpoint") || !j["checkpoint"].is_string() ||
              !proof.ok()) {
            error(absl::StrCat("client ", c, ": malformed receipt: ", j.dump()));
            continue;
          }
          receipt.result_id = (*body)["id"].get<std::string>();
          receipt.leaf_index = j["leaf_index"].get<uint64_t>();
          receipt.tree_size = j["tree_size"].get<uint64_t>();
          receipt.leaf = j["leaf"].get<std::string>();
          receipt.checkpoint = j["checkpoint"].get<std::string>();
          receipt.proof = *std::move(proof);
          {
            std::lock_guard<std::mutex> lock(mu);
            receipts->push_back(std::move(receipt));
          }
          if (!counted) {
            counted = true;
            ++clients_with_receipt;
          }
        }
      });
    }
    threads.emplace_back([&] {
      std::unique_ptr<httplib::SSLClient> client = RoleClient(port, dir_, "auditor");
      client->set_keep_alive(true);
      while (!stop.load()) {
        httplib::Result r = client->Get("/v1/audit/checkpoint");
        if (r && r->status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          polled->push_back(r->body);
        } else if (!killing.load()) {
          error(absl::StrCat("GET /v1/audit/checkpoint: ",
                             r ? std::to_string(r->status) : "no response"));
        }
        std::this_thread::sleep_for(2ms);
      }
    });
    // Sustained appends first, then the kill at a random moment among them.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (clients_with_receipt.load() < kAttestClients &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    if (clients_with_receipt.load() < kAttestClients)
      error("the clients got no receipts within 20 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    killing = true;
    kill(daemon_->pid(), SIGKILL);
    stop = true;
    for (std::thread& t : threads) t.join();
    daemon_.reset();  // reaps the killed process
  }

  // `what` proven consistent with `latest` by the restarted daemon's proof.
  absl::Status ProveConsistent(const SeenCheckpoint& what, const Checkpoint& latest) {
    if (what.size > latest.size) {
      return absl::DataLossError(absl::StrCat("the latest checkpoint (size ", latest.size,
                                              ") is smaller than one seen in trial ", what.trial,
                                              " (size ", what.size, ")"));
    }
    if (what.size == 0) {
      const MerkleHash empty = MerkleEmptyRoot();
      if (what.root != std::string(empty.begin(), empty.end())) {
        return absl::DataLossError("a checkpoint of size 0 has a root other than the empty tree's");
      }
      return absl::OkStatus();
    }
    std::vector<std::string> proof;
    if (what.size < latest.size) {
      absl::StatusOr<Json> r = GetJson(
          absl::StrCat("/v1/audit/proof/consistency?from=", what.size, "&to=", latest.size));
      if (!r.ok()) return r.status();
      if (!r->contains("consistency_proof")) return absl::DataLossError("no consistency_proof");
      absl::StatusOr<std::vector<std::string>> hashes = DecodeHashes((*r)["consistency_proof"]);
      if (!hashes.ok()) return hashes.status();
      proof = *std::move(hashes);
    }
    if (absl::Status s =
            VerifyMerkleConsistency(what.size, latest.size, what.root, latest.root, proof);
        !s.ok()) {
      return absl::DataLossError(absl::StrCat(
          "the checkpoint of size ", what.size, " seen in trial ", what.trial,
          " is not consistent with the latest (size ", latest.size, "): ", s.message()));
    }
    return absl::OkStatus();
  }

  // Records a verified checkpoint; a different root for a size already seen is a fork.
  void Remember(const SeenCheckpoint& cp) {
    auto [it, inserted] = by_size_.emplace(cp.size, cp);
    if (!inserted && it->second.root != cp.root) {
      ADD_FAILURE() << "two checkpoints of size " << cp.size << " differ: trial "
                    << it->second.trial << " saw root " << Hex(it->second.root) << ", trial "
                    << cp.trial << " saw " << Hex(cp.root);
    }
    max_seen_ = std::max(max_seen_, cp.size);
  }

  // The leaves [start, end) of the log of the latest checkpoint.
  absl::StatusOr<std::vector<std::string>> Entries(uint64_t start, uint64_t end) {
    std::vector<std::string> out;
    while (start + out.size() < end) {
      const uint64_t from = start + out.size();
      const uint64_t count = std::min<uint64_t>(1024, end - from);
      absl::StatusOr<Json> r =
          GetJson(absl::StrCat("/v1/audit/entries?start=", from, "&count=", count), kBigJson);
      if (!r.ok()) return r.status();
      if (!r->contains("entries") || !(*r)["entries"].is_array() || (*r)["entries"].empty()) {
        return absl::DataLossError(absl::StrCat("no entries from ", from));
      }
      for (const Json& e : (*r)["entries"]) {
        if (!e.is_string()) return absl::DataLossError("an entry is not a string");
        out.push_back(e.get<std::string>());
      }
    }
    if (out.size() != end - start) return absl::DataLossError("more entries than asked for");
    return out;
  }

  // The restarted daemon's inclusion proof of leaf `index` to `latest`.
  absl::Status ProveIncluded(uint64_t index, absl::string_view leaf, const Checkpoint& latest) {
    absl::StatusOr<Json> r =
        GetJson(absl::StrCat("/v1/audit/proof/inclusion?index=", index, "&size=", latest.size));
    if (!r.ok()) return r.status();
    if (!r->contains("leaf") || (*r)["leaf"] != std::string(leaf)) {
      return absl::DataLossError(absl::StrCat("the inclusion proof's leaf ", index, " differs"));
    }
    absl::StatusOr<std::vector<std::string>> proof =
        r->contains("inclusion_proof") ? DecodeHashes((*r)["inclusion_proof"])
                                       : absl::DataLossError("no inclusion_proof");
    if (!proof.ok()) return proof.status();
    const MerkleHash hash = MerkleLeafHash(leaf);
    return VerifyMerkleInclusion(
        index, latest.size,
        absl::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()), *proof,
        latest.root);
  }

  std::string dir_;
  std::string log_name_;
  std::vector<NoteVerifier> verifiers_;
  std::string evidence_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<httplib::SSLClient> auditor_;
  std::map<uint64_t, SeenCheckpoint> by_size_;  // every distinct checkpoint seen
  uint64_t max_seen_ = 0;
};

TEST_F(AuditCrashTest, EveryReceiptAndCheckpointSurvivesKillNineDuringAppends) {
  uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("FDATTEST_CRASH_SEED"); env != nullptr) {
    ASSERT_TRUE(absl::SimpleAtoi(env, &seed)) << "FDATTEST_CRASH_SEED: " << env;
  }
  std::printf("audit crash test: seed %llu (FDATTEST_CRASH_SEED=%llu repeats it)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::mt19937_64 rng(seed);

  ASSERT_NO_FATAL_FAILURE(Start());
  {
    std::unique_ptr<httplib::SSLClient> admin = RoleClient(daemon_->port(), dir_, "admin");
    httplib::Result r = admin->Put("/v1/policies/p1", kOneInputPolicy, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  absl::StatusOr<Checkpoint> first = LatestCheckpoint();
  ASSERT_TRUE(first.ok()) << first.status();
  Remember({first->size, first->root, 0});

  std::map<uint64_t, Receipt> by_index;  // every receipt, by its leaf index
  const auto started = std::chrono::steady_clock::now();
  for (int trial = 1; trial <= kTrials && !HasFailure(); ++trial) {
    const int delay_ms = std::uniform_int_distribution<int>(kMinDelayMs, kMaxDelayMs)(rng);
    SCOPED_TRACE(absl::StrCat("trial ", trial, " of seed ", seed, " (kill -9 ", delay_ms,
                              " ms into the appends)"));
    std::vector<Receipt> receipts;
    std::vector<std::string> polled, errors;
    LoadAndKill(trial, delay_ms, &receipts, &polled, &errors);
    for (const std::string& e : errors) ADD_FAILURE() << e;
    ASSERT_NO_FATAL_FAILURE(Start());

    // (b) first the checkpoints seen: each signed by the log.
    std::vector<SeenCheckpoint> seen;
    for (const std::string& note : polled) {
      absl::StatusOr<Checkpoint> cp = OpenCheckpoint(note);
      ASSERT_TRUE(cp.ok()) << "a polled checkpoint: " << cp.status() << "\n" << note;
      seen.push_back({cp->size, cp->root, trial});
    }
    // (a) every receipt on its own.
    for (const Receipt& r : receipts) {
      absl::StatusOr<Checkpoint> cp = OpenCheckpoint(r.checkpoint);
      ASSERT_TRUE(cp.ok()) << "receipt of leaf " << r.leaf_index << ": " << cp.status();
      ASSERT_EQ(cp->size, r.tree_size) << "receipt of leaf " << r.leaf_index;
      const MerkleHash hash = MerkleLeafHash(r.leaf);
      absl::Status included = VerifyMerkleInclusion(
          r.leaf_index, r.tree_size,
          absl::string_view(reinterpret_cast<const char*>(hash.data()), hash.size()), r.proof,
          cp->root);
      ASSERT_TRUE(included.ok()) << "receipt of leaf " << r.leaf_index << ": " << included;
      ASSERT_TRUE(absl::StrContains(r.leaf, absl::StrCat("\nresult ", r.result_id, "\n")))
          << "receipt of leaf " << r.leaf_index << " is not its result's: " << r.leaf;
      auto [it, inserted] = by_index.emplace(r.leaf_index, r);
      ASSERT_TRUE(inserted) << "leaf index " << r.leaf_index
                            << " was given to two receipts: result " << it->second.result_id
                            << " (trial " << it->second.trial << ") and result " << r.result_id;
      seen.push_back({cp->size, cp->root, trial});
    }
    for (const SeenCheckpoint& cp : seen) Remember(cp);
    ASSERT_FALSE(HasFailure());

    absl::StatusOr<Checkpoint> latest = LatestCheckpoint();
    ASSERT_TRUE(latest.ok()) << "the restarted daemon's checkpoint: " << latest.status();
    ASSERT_GE(latest->size, max_seen_) << "the log shrank over the crash";
    // (a) the receipts' leaves, byte for byte, each included in the new tree.
    if (!receipts.empty()) {
      const uint64_t lo = std::min_element(receipts.begin(), receipts.end(), [](auto& a, auto& b) {
                            return a.leaf_index < b.leaf_index;
                          })->leaf_index;
      const uint64_t hi = std::max_element(receipts.begin(), receipts.end(), [](auto& a, auto& b) {
                            return a.leaf_index < b.leaf_index;
                          })->leaf_index;
      absl::StatusOr<std::vector<std::string>> leaves = Entries(lo, hi + 1);
      ASSERT_TRUE(leaves.ok()) << leaves.status();
      for (const Receipt& r : receipts) {
        ASSERT_EQ((*leaves)[r.leaf_index - lo], r.leaf)
            << "leaf " << r.leaf_index << " differs from its receipt's";
        absl::Status s = ProveIncluded(r.leaf_index, r.leaf, *latest);
        ASSERT_TRUE(s.ok()) << "leaf " << r.leaf_index << " in the new tree: " << s;
      }
    }
    // (b) the new latest checkpoint extends every checkpoint seen so far:
    // this trial's and every earlier trial's (by_size_ holds one of each
    // size; Remember checked that no two of one size differ).
    for (const auto& [size, cp] : by_size_) {
      absl::Status s = ProveConsistent(cp, *latest);
      ASSERT_TRUE(s.ok()) << s;
    }
    Remember({latest->size, latest->root, trial});
  }
  ASSERT_FALSE(HasFailure());

  // After the last trial the log still holds every receipt's leaf byte for
  // byte (each was checked in its own trial; this sees later damage too).
  absl::StatusOr<Checkpoint> final_cp = LatestCheckpoint();
  ASSERT_TRUE(final_cp.ok()) << final_cp.status();
  absl::StatusOr<std::vector<std::string>> all = Entries(0, final_cp->size);
  ASSERT_TRUE(all.ok()) << all.status();
  for (const auto& [index, r] : by_index) {
    ASSERT_EQ((*all)[index], r.leaf)
        << "seed " << seed << ": leaf " << index << " (trial " << r.trial << ") differs at the end";
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "audit crash test: %d trials in %.1f s, %zu receipts, %zu checkpoints seen, final size "
      "%llu\n",
      kTrials, seconds, by_index.size(), by_size_.size(),
      static_cast<unsigned long long>(final_cp->size));
}

}  // namespace
}  // namespace fdattest
