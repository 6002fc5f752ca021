// The in-memory store keeps the contract of verifier/store.h that the
// handler tests rely on: the attester life cycle and its conflicts, single-use
// nonces (exactly once across threads), versioned policies, secrets, results,
// counters that only go up, and injected failures.
#include "verifier/testing/memory_store.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

AttesterRecord Pending(const std::string& id, const std::string& ek, const std::string& ak,
                       int64_t created_at = 100) {
  AttesterRecord r;
  r.id = id;
  r.ek_sha256 = ek;
  r.ak_name = ak;
  r.credential_sha256 = HexEncode(Sha256(absl::StrCat("credential of ", id)));
  r.created_at = created_at;
  return r;
}

std::string CredentialOf(const std::string& id) {
  return HexEncode(Sha256(absl::StrCat("credential of ", id)));
}

TEST(MemoryStoreTest, AttesterGoesFromPendingToActiveToRevoked) {
  MemoryStore store;
  ASSERT_TRUE(store.AddPendingAttester(Pending("a1", "ek1", "ak1"), false).ok());
  EXPECT_EQ(store.GetAttester("a1")->state, AttesterState::kPending);
  ASSERT_TRUE(store.ActivateAttester("a1", CredentialOf("a1"), 200).ok());
  AttesterRecord active = *store.GetAttester("a1");
  EXPECT_EQ(active.state, AttesterState::kActive);
  EXPECT_EQ(active.activated_at, 200);
  EXPECT_TRUE(active.credential_sha256.empty());  // cleared on activation
  EXPECT_EQ(store.ActivateAttester("a1", CredentialOf("a1"), 201).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store.RevokeAttester("a1", 300).ok());
  ASSERT_TRUE(store.RevokeAttester("a1", 400).ok());  // twice: keeps the first time
  EXPECT_EQ(store.GetAttester("a1")->revoked_at, 300);
  EXPECT_EQ(store.GetAttester("a1")->state, AttesterState::kRevoked);
  EXPECT_EQ(store.FindAttesterByAkName("ak1")->id, "a1");
  EXPECT_EQ(store.GetAttester("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.RevokeAttester("nope", 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.ActivateAttester("nope", "x", 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.FindAttesterByAkName("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST(MemoryStoreTest, AWrongCredentialVoidsThePendingAttester) {
  MemoryStore store;
  ASSERT_TRUE(store.AddPendingAttester(Pending("a1", "ek1", "ak1"), false).ok());
  absl::Status wrong = store.ActivateAttester("a1", CredentialOf("other"), 200);
  EXPECT_EQ(wrong.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store.GetAttester("a1")->state, AttesterState::kRevoked);
  // The right answer comes too late: one answer per credential.
  EXPECT_EQ(store.ActivateAttester("a1", CredentialOf("a1"), 201).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.ActivateAttester("a1", "", 201).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MemoryStoreTest, OneActiveAttesterPerEkUnlessReplaced) {
  MemoryStore store;
  ASSERT_TRUE(store.AddPendingAttester(Pending("a1", "ek1", "ak1"), false).ok());
  // Pending attesters of the same EK do not conflict...
  ASSERT_TRUE(store.AddPendingAttester(Pending("a2", "ek1", "ak2"), false).ok());
  ASSERT_TRUE(store.ActivateAttester("a1", CredentialOf("a1"), 200).ok());
  // ...but only one of them can end active.
  EXPECT_EQ(store.ActivateAttester("a2", CredentialOf("a2"), 201).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store.GetAttester("a2")->state, AttesterState::kPending);
  absl::Status second = store.AddPendingAttester(Pending("a3", "ek1", "ak3"), false);
  EXPECT_EQ(second.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(second.message(), HasSubstr("has an active attester"));
  EXPECT_EQ(store.GetAttester("a3").status().code(), absl::StatusCode::kNotFound);
  // Replacing revokes the active one at the new record's creation time.
  ASSERT_TRUE(store.AddPendingAttester(Pending("a3", "ek1", "ak3", 500), true).ok());
  EXPECT_EQ(store.GetAttester("a1")->state, AttesterState::kRevoked);
  EXPECT_EQ(store.GetAttester("a1")->revoked_at, 500);
  ASSERT_TRUE(store.ActivateAttester("a3", CredentialOf("a3"), 600).ok());
  // Another EK is independent.
  ASSERT_TRUE(store.AddPendingAttester(Pending("b1", "ek2", "bk1"), false).ok());
  // Same id twice.
  EXPECT_EQ(store.AddPendingAttester(Pending("b1", "ek3", "bk9"), false).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(MemoryStoreTest, AnAkOnceActivatedCannotEnrollAgainButAVoidEnrollmentBlocksNoOne) {
  MemoryStore store;
  // A stranger's pending enrollment of ak1 (with its own EK) does not lock
  // ak1 out, and neither does its void end.
  ASSERT_TRUE(store.AddPendingAttester(Pending("x1", "stranger", "ak1"), false).ok());
  ASSERT_EQ(store.ActivateAttester("x1", "wrong", 150).code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(store.AddPendingAttester(Pending("a1", "ek1", "ak1"), false).ok());
  EXPECT_EQ(store.FindAttesterByAkName("ak1")->id, "a1");  // the newest
  ASSERT_TRUE(store.ActivateAttester("a1", CredentialOf("a1"), 200).ok());
  absl::Status again = store.AddPendingAttester(Pending("a2", "ek2", "ak1"), true);
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr("already enrolled"));
  ASSERT_TRUE(store.RevokeAttester("a1", 300).ok());
  EXPECT_EQ(store.AddPendingAttester(Pending("a3", "ek1", "ak1"), false).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store.FindAttesterByAkName("ak1")->id, "a1");  // the one that blocks
}

TEST(MemoryStoreTest, RefusesIncompleteAttesters) {
  MemoryStore store;
  AttesterRecord no_credential = Pending("a1", "ek1", "ak1");
  no_credential.credential_sha256.clear();
  EXPECT_EQ(store.AddPendingAttester(no_credential, false).code(),
            absl::StatusCode::kInvalidArgument);
  AttesterRecord active = Pending("a1", "ek1", "ak1");
  active.state = AttesterState::kActive;
  EXPECT_EQ(store.AddPendingAttester(active, false).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MemoryStoreTest, CountersOnlyGoUp) {
  MemoryStore store;
  ASSERT_TRUE(store.AddPendingAttester(Pending("a1", "ek1", "ak1"), false).ok());
  ASSERT_TRUE(store.RecordCounters("a1", {.clock = 50, .reset_count = 2, .restart_count = 1}).ok());
  ASSERT_TRUE(store.RecordCounters("a1", {.clock = 90, .reset_count = 1, .restart_count = 9}).ok());
  EXPECT_EQ(store.GetAttester("a1")->counters->reset_count, 2u);
  ASSERT_TRUE(store.RecordCounters("a1", {.clock = 10, .reset_count = 2, .restart_count = 2}).ok());
  EXPECT_EQ(store.GetAttester("a1")->counters->restart_count, 2u);
  EXPECT_EQ(store.GetAttester("a1")->counters->clock, 10u);
  EXPECT_EQ(store.RecordCounters("nope", {}).code(), absl::StatusCode::kNotFound);
}

TEST(MemoryStoreTest, NoncesAreConsumedOnceAndExpire) {
  MemoryStore store;
  ASSERT_TRUE(store.AddNonce("n1", 100).ok());
  ASSERT_TRUE(store.AddNonce("n2", 100).ok());
  EXPECT_EQ(store.AddNonce("n1", 500).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*store.CountNonces(50), 2);
  ASSERT_TRUE(store.ConsumeNonce("n1", 50).ok());
  EXPECT_EQ(*store.CountNonces(50), 1);
  absl::Status replay = store.ConsumeNonce("n1", 51);
  EXPECT_EQ(replay.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(replay.message(), HasSubstr("already used"));
  EXPECT_THAT(store.ConsumeNonce("n0", 51).message(), HasSubstr("never issued"));
  EXPECT_THAT(store.ConsumeNonce("n2", 100).message(), HasSubstr("expired"));
  EXPECT_EQ(*store.CountNonces(100), 0);
  ASSERT_TRUE(store.AddNonce("n3", 1000).ok());
  ASSERT_TRUE(store.PurgeNonces(100).ok());
  EXPECT_THAT(store.ConsumeNonce("n1", 101).message(), HasSubstr("never issued"));
  EXPECT_TRUE(store.ConsumeNonce("n3", 101).ok());  // unexpired: kept
}

TEST(MemoryStoreTest, ANonceIsConsumedExactlyOnceAcrossThreads) {
  MemoryStore store;
  ASSERT_TRUE(store.AddNonce("n", 1000).ok());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] {
      if (store.ConsumeNonce("n", 10).ok()) ++ok;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
}

TEST(MemoryStoreTest, CheckingANonceChangesNothing) {
  MemoryStore store;
  ASSERT_TRUE(store.AddNonce("n1", 100).ok());
  EXPECT_EQ(*store.CheckNonce("n1", 50), 100);
  EXPECT_TRUE(store.CheckNonce("n1", 50).ok());
  EXPECT_EQ(*store.CountNonces(50), 1);
  EXPECT_THAT(store.CheckNonce("n1", 100).status().message(), HasSubstr("expired"));
  EXPECT_THAT(store.CheckNonce("n0", 50).status().message(), HasSubstr("never issued"));
  ASSERT_TRUE(store.ConsumeNonce("n1", 50).ok());
  EXPECT_THAT(store.CheckNonce("n1", 50).status().message(), HasSubstr("already used"));
}

TEST(MemoryStoreTest, AnAttestationCommitsAllOrNothing) {
  MemoryStore store;
  ASSERT_TRUE(store.AddPendingAttester(Pending("a1", "ek1", "ak1"), false).ok());
  ASSERT_TRUE(store.AddNonce("n1", 100).ok());
  AttestationCommit commit;
  commit.nonce = "n1";
  commit.now = 50;
  commit.counters = TpmCounters{.clock = 7, .reset_count = 1, .restart_count = 0};
  commit.result = {.id = "r1", .attester_id = "a1", .body = "{}"};
  ASSERT_TRUE(store.CommitAttestation(commit, nullptr).ok());
  EXPECT_THAT(store.CheckNonce("n1", 50).status().message(), HasSubstr("already used"));
  EXPECT_EQ(store.GetAttester("a1")->counters->clock, 7u);
  EXPECT_EQ(store.GetResult("r1")->body, "{}");

  // The same nonce again: refused, and neither result nor counters written.
  commit.result.id = "r2";
  commit.counters->clock = 9;
  EXPECT_EQ(store.CommitAttestation(commit, nullptr).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store.GetResult("r2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.GetAttester("a1")->counters->clock, 7u);

  // An unknown attester: refused, and the nonce stays unused.
  ASSERT_TRUE(store.AddNonce("n2", 100).ok());
  commit.nonce = "n2";
  commit.result.attester_id = "nope";
  EXPECT_EQ(store.CommitAttestation(commit, nullptr).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store.CheckNonce("n2", 50).ok());
}

TEST(MemoryStoreTest, PoliciesKeepEveryVersion) {
  MemoryStore store;
  EXPECT_EQ(store.GetPolicy("p").status().code(), absl::StatusCode::kNotFound);
  PolicyRecord v1 = *store.PutPolicy("p", "one", 10);
  PolicyRecord v2 = *store.PutPolicy("p", "two", 20);
  EXPECT_EQ(v1.version, 1);
  EXPECT_EQ(v2.version, 2);
  EXPECT_EQ(v2.sha256, HexEncode(Sha256("two")));
  EXPECT_EQ(store.GetPolicy("p")->text, "two");
  EXPECT_EQ(store.GetPolicy("p", 1)->text, "one");
  EXPECT_EQ(store.GetPolicy("p", 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.GetPolicy("p", 0).status().code(), absl::StatusCode::kNotFound);
}

TEST(MemoryStoreTest, SecretsAndResults) {
  MemoryStore store;
  ASSERT_TRUE(store.PutSecret({.name = "s", .ciphertext = "c1", .policy_id = "p"}).ok());
  ASSERT_TRUE(store.PutSecret({.name = "s", .ciphertext = "c2", .policy_id = "p"}).ok());
  EXPECT_EQ(store.GetSecret("s")->ciphertext, "c2");
  EXPECT_EQ(store.GetSecret("t").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store.PutResult({.id = "r1", .body = "{}"}).ok());
  EXPECT_EQ(store.PutResult({.id = "r1", .body = "{}"}).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store.GetResult("r1")->body, "{}");
  EXPECT_EQ(store.GetResult("r2").status().code(), absl::StatusCode::kNotFound);
}

TEST(MemoryStoreTest, AnInjectedErrorFailsEveryMethodUntilCleared) {
  MemoryStore store;
  ASSERT_TRUE(store.AddNonce("n", 100).ok());
  store.InjectError(absl::DataLossError("disk on fire"));
  EXPECT_EQ(store.ConsumeNonce("n", 1).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store.GetPolicy("p").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store.AddPendingAttester(Pending("a", "e", "k"), false).code(),
            absl::StatusCode::kDataLoss);
  store.InjectError(absl::OkStatus());
  EXPECT_TRUE(store.ConsumeNonce("n", 1).ok());  // untouched by the failed call
}

}  // namespace
}  // namespace fdattest
