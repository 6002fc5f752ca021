// The SQLite store: every Store method's success and error paths, the data
// directory's permissions, schema migrations, nonces consumed exactly once
// across threads and processes, group commit keeping each write's own
// outcome, and nothing acknowledged lost when the writing process is killed.
#include "verifier/sqlite_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "verifier/internal/sqlite_db.h"

namespace fdattest {
namespace {

std::string Id(int n) { return absl::StrFormat("%032x", n); }
std::string Digest(absl::string_view s) { return HexEncode(Sha256(s)); }
std::string Nonce(int n) { return absl::StrFormat("nonce-%026d", n); }  // 32 bytes

AttesterRecord Attester(int n, absl::string_view ek, absl::string_view credential = "cred") {
  AttesterRecord record;
  record.id = Id(n);
  record.ek_certificate = absl::StrCat("certificate of ", ek);
  record.ek_public = absl::StrCat("public area of ", ek);
  record.ek_sha256 = Digest(record.ek_public);
  record.ak_public = absl::StrCat("ak public ", n);
  record.ak_name = absl::StrCat("000b", Digest(record.ak_public));
  record.credential_sha256 = Digest(credential);
  record.created_at = 1000 + n;
  return record;
}

ResultRecord Result(int n, absl::string_view attester_id, absl::string_view policy_id,
                    int64_t version) {
  ResultRecord record;
  record.id = Id(0x10000 + n);
  record.attester_id = std::string(attester_id);
  record.policy_id = std::string(policy_id);
  record.policy_version = version;
  record.verdict = "affirming";
  record.evidence_sha256 = Digest(absl::StrCat("evidence ", n));
  record.body = absl::StrCat("{\"id\":\"", record.id, "\"}");
  record.created_at = 2000 + n;
  return record;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fdattest-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/data";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<SqliteStore> OpenStore(const SqliteStore::Options& options = {}) {
    auto store = SqliteStore::Open(dir_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::string DbPath() const { return dir_ + "/fdverifierd.db"; }

  // An active attester for `ek`.
  void AddActive(SqliteStore& store, int n, absl::string_view ek) {
    ASSERT_TRUE(store.AddPendingAttester(Attester(n, ek), false).ok());
    ASSERT_TRUE(store.ActivateAttester(Id(n), Digest("cred"), 1500).ok());
  }

  std::string root_;
  std::string dir_;
};

// --- Opening.

TEST_F(SqliteStoreTest, CreatesPrivateDirectoryAndDatabaseInWalMode) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700);
  ASSERT_EQ(stat(DbPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600);
  auto db = internal::SqliteDb::Open(DbPath(), false, 1000);
  ASSERT_TRUE(db.ok());
  auto mode = (*db)->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(*mode->Step());
  EXPECT_EQ(mode->Bytes(0), "wal");
}

TEST_F(SqliteStoreTest, RefusesGroupOrWorldWritableDataDir) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  for (mode_t mode : {0770, 0703, 0777}) {
    ASSERT_EQ(chmod(dir_.c_str(), mode), 0);
    auto store = SqliteStore::Open(dir_);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << mode;
  }
  ASSERT_EQ(chmod(dir_.c_str(), 0750), 0);  // group-readable is fine
  EXPECT_TRUE(SqliteStore::Open(dir_).ok());
}

TEST_F(SqliteStoreTest, RefusesDataDirOwnedByAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  ASSERT_EQ(chown(dir_.c_str(), 4321, 4321), 0);
  auto store = SqliteStore::Open(dir_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("owned by uid 4321"), std::string::npos);
}

TEST_F(SqliteStoreTest, RefusesDatabaseFileOthersCanRead) {
  OpenStore().reset();
  ASSERT_EQ(chmod(DbPath().c_str(), 0644), 0);
  EXPECT_EQ(SqliteStore::Open(dir_).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, RefusesFileThatIsNotADatabase) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  UniqueFd fd(open(DbPath().c_str(), O_WRONLY | O_CREAT, 0600));
  ASSERT_TRUE(fd.valid());
  std::string junk(4096, 'x');
  ASSERT_EQ(write(fd.get(), junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  EXPECT_EQ(SqliteStore::Open(dir_).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SqliteStoreTest, ReopenedStoreKeepsEverything) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->AddNonce(Nonce(1), 5000).ok());
    ASSERT_TRUE(store->PutPolicy("p", "{}", 10).ok());
  }
  auto store = OpenStore();
  EXPECT_TRUE(store->GetPolicy("p").ok());
  EXPECT_TRUE(store->ConsumeNonce(Nonce(1), 100).ok());
}

// --- Migrations.

TEST_F(SqliteStoreTest, NewDatabaseHasTheLatestSchema) {
  auto store = OpenStore();
  EXPECT_EQ(*store->SchemaVersion(), static_cast<int64_t>(SqliteStoreMigrations().size()));
  EXPECT_GE(SqliteStoreMigrations().size(), 2u);
}

// An attester row as schemas 1 and 2 held it (no tenant column): what an
// older build wrote, which today's AddPendingAttester no longer can.
void InsertOldAttester(const std::string& db_path, const AttesterRecord& r) {
  auto db = internal::SqliteDb::Open(db_path, false, 1000);
  ASSERT_TRUE(db.ok()) << db.status();
  auto insert = (*db)->Prepare(
      "INSERT INTO attesters (id, ek_certificate, ek_public, ek_sha256, ak_public, ak_name, "
      "state, credential_sha256, created_at, activated_at, revoked_at) "
      "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, 0, 0)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  insert->BindText(1, r.id).BindBlob(2, r.ek_certificate).BindBlob(3, r.ek_public);
  insert->BindText(4, r.ek_sha256).BindBlob(5, r.ak_public).BindText(6, r.ak_name);
  insert->BindText(7, r.credential_sha256).BindInt(8, r.created_at);
  ASSERT_TRUE(insert->Run().ok());
}

TEST_F(SqliteStoreTest, MigratesAVersionOneDatabaseKeepingItsRecords) {
  const std::vector<SqliteMigration> first_only(SqliteStoreMigrations().begin(),
                                                SqliteStoreMigrations().begin() + 1);
  SqliteStore::Options old_build;
  old_build.migrations_for_testing = &first_only;
  {
    auto store = OpenStore(old_build);
    ASSERT_EQ(*store->SchemaVersion(), 1);
    InsertOldAttester(DbPath(), Attester(1, "ek1"));
    ASSERT_TRUE(store->PutPolicy("p", "{\"v\":1}", 10).ok());
    ASSERT_TRUE(store->AddNonce(Nonce(1), 5000).ok());
    ASSERT_TRUE(store->PutResult(Result(1, Id(1), "p", 1)).ok());
  }
  auto store = OpenStore();
  EXPECT_EQ(*store->SchemaVersion(), static_cast<int64_t>(SqliteStoreMigrations().size()));
  EXPECT_EQ(store->GetAttester(Id(1))->ak_public, "ak public 1");
  EXPECT_EQ(store->GetPolicy("p")->text, "{\"v\":1}");
  EXPECT_EQ(store->GetResult(Result(1, "", "", 0).id)->policy_version, 1);
  EXPECT_EQ(*store->CountNonces(100), 1);
  EXPECT_TRUE(store->ConsumeNonce(Nonce(1), 100).ok());
  // Version 2's index is there.
  store.reset();
  auto db = internal::SqliteDb::Open(DbPath(), false, 1000);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(
      *(*db)->QueryInt(
          "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'nonces_expiry'"),
      1);
}

TEST_F(SqliteStoreTest, MigratesAVersionTwoDatabaseToTheArchiveSchemaKeepingItsRecords) {
  const std::vector<SqliteMigration> first_two(SqliteStoreMigrations().begin(),
                                               SqliteStoreMigrations().begin() + 2);
  SqliteStore::Options old_build;
  old_build.migrations_for_testing = &first_two;
  {
    auto store = OpenStore(old_build);
    ASSERT_EQ(*store->SchemaVersion(), 2);
    InsertOldAttester(DbPath(), Attester(1, "ek1"));
    ASSERT_TRUE(store->ActivateAttester(Id(1), Digest("cred"), 1500).ok());
    {
      auto db = internal::SqliteDb::Open(DbPath(), false, 1000);
      ASSERT_TRUE(db.ok());
      absl::Status set = (*db)->Exec(
          "UPDATE attesters SET counters_reset = 2, counters_restart = 0, counters_clock = 9");
      ASSERT_TRUE(set.ok()) << set;
    }
    ASSERT_TRUE(store->PutPolicy("p", "{\"v\":1}", 10).ok());
    ASSERT_TRUE(store->PutPolicy("p", "{\"v\":2}", 11).ok());
    ASSERT_TRUE(store->PutSecret({"s", "sealed", "p", 12}).ok());
    ASSERT_TRUE(store->AddNonce(Nonce(1), 5000).ok());
    ASSERT_TRUE(store->PutResult(Result(1, Id(1), "p", 2)).ok());
  }
  auto store = OpenStore();
  EXPECT_EQ(*store->SchemaVersion(), 4);
  AttesterRecord attester = *store->GetAttester(Id(1));
  EXPECT_EQ(attester.state, AttesterState::kActive);
  EXPECT_EQ(attester.counters->clock, 9u);
  EXPECT_EQ(attester.tenant, "default");  // the new column's default
  EXPECT_EQ(store->GetPolicy("p", 1)->text, "{\"v\":1}");
  EXPECT_EQ(store->GetPolicy("p")->version, 2);
  EXPECT_EQ(store->GetSecret("s")->ciphertext, "sealed");
  EXPECT_EQ(store->GetResult(Result(1, "", "", 0).id)->body, Result(1, "", "", 0).body);
  EXPECT_TRUE(store->ConsumeNonce(Nonce(1), 100).ok());
  // The archive's tables are there and in use.
  ASSERT_TRUE(store->EnsureTenant("default", "sealed key", 20).ok());
  ASSERT_TRUE(store->PutBlob({Digest("e"), "default", BlobKind::kEvidence, "ct", 20, 99}).ok());
  EXPECT_EQ(store->GetBlob("default", Digest("e"), BlobKind::kEvidence)->sealed, "ct");
  store.reset();
  auto db = internal::SqliteDb::Open(DbPath(), false, 1000);
  ASSERT_TRUE(db.ok());
  for (const char* table : {"audit_nodes", "audit_leaves", "audit_checkpoints"}) {
    const std::string count = absl::StrCat(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '", table, "'");
    EXPECT_EQ(*(*db)->QueryInt(count.c_str()), 1) << table;
  }
}

TEST_F(SqliteStoreTest, RefusesDatabaseFromANewerSchema) {
  OpenStore().reset();
  {
    auto db = internal::SqliteDb::Open(DbPath(), false, 1000);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99").ok());
  }
  auto store = SqliteStore::Open(dir_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version 99 is newer"), std::string::npos)
      << store.status();
}

TEST_F(SqliteStoreTest, FailedMigrationLeavesThePreviousVersionUntouched) {
  std::vector<SqliteMigration> broken(SqliteStoreMigrations().begin(),
                                      SqliteStoreMigrations().begin() + 1);
  broken.push_back({2, "CREATE TABLE half_done (a); SELECT no_such_column FROM nonces;"});
  SqliteStore::Options options;
  options.migrations_for_testing = &broken;
  auto failed = SqliteStore::Open(dir_, options);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("schema version 2"), std::string::npos);
  auto db = internal::SqliteDb::Open(DbPath(), false, 1000);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*(*db)->QueryInt("PRAGMA user_version"), 1);
  EXPECT_EQ(*(*db)->QueryInt("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"), 0);
}

TEST_F(SqliteStoreTest, RefusesMisnumberedMigrations) {
  std::vector<SqliteMigration> gap = {{1, "CREATE TABLE a (x)"}, {3, "CREATE TABLE b (x)"}};
  SqliteStore::Options options;
  options.migrations_for_testing = &gap;
  EXPECT_FALSE(SqliteStore::Open(dir_, options).ok());
}

// --- Attesters.

TEST_F(SqliteStoreTest, AddsPendingAttesterAndReadsItBack) {
  auto store = OpenStore();
  AttesterRecord record = Attester(7, "ek");
  record.state = AttesterState::kActive;  // ignored: enrollment starts pending
  ASSERT_TRUE(store->AddPendingAttester(record, false).ok());
  for (auto got : {store->GetAttester(Id(7)), store->FindAttesterByAkName(record.ak_name)}) {
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->id, record.id);
    EXPECT_EQ(got->ek_certificate, record.ek_certificate);
    EXPECT_EQ(got->ek_public, record.ek_public);
    EXPECT_EQ(got->ek_sha256, record.ek_sha256);
    EXPECT_EQ(got->ak_public, record.ak_public);
    EXPECT_EQ(got->ak_name, record.ak_name);
    EXPECT_EQ(got->state, AttesterState::kPending);
    EXPECT_EQ(got->credential_sha256, record.credential_sha256);
    EXPECT_EQ(got->created_at, record.created_at);
    EXPECT_FALSE(got->counters.has_value());
  }
  EXPECT_EQ(store->GetAttester(Id(8)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->FindAttesterByAkName("000b00").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, RefusesMalformedAttesters) {
  auto store = OpenStore();
  auto refused = [&](AttesterRecord record) {
    return store->AddPendingAttester(record, false).code() == absl::StatusCode::kInvalidArgument;
  };
  AttesterRecord r = Attester(1, "ek");
  r.id = "ABCDEF" + r.id.substr(6);
  EXPECT_TRUE(refused(r));
  r = Attester(1, "ek");
  r.id.pop_back();
  EXPECT_TRUE(refused(r));
  r = Attester(1, "ek");
  r.ak_name += "0";
  EXPECT_TRUE(refused(r));
  r = Attester(1, "ek");
  r.ek_certificate = std::string((1 << 20) + 1, 'c');
  EXPECT_TRUE(refused(r));
  r = Attester(1, "ek");
  r.ak_public.clear();
  EXPECT_TRUE(refused(r));
  r = Attester(1, "ek");
  r.credential_sha256 = "";
  EXPECT_TRUE(refused(r));
  EXPECT_EQ(store->GetAttester("xyz").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->FindAttesterByAkName("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->GetAttester(Id(1)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, RefusesEnrollmentOfAnActivatedAkOrASecondId) {
  auto store = OpenStore();
  AddActive(*store, 1, "ek1");
  AttesterRecord same_ak = Attester(1, "ek2");
  same_ak.id = Id(2);
  EXPECT_EQ(store->AddPendingAttester(same_ak, true).code(), absl::StatusCode::kAlreadyExists);
  // Revoked after activation: still enrolled, for good.
  ASSERT_TRUE(store->RevokeAttester(Id(1), 1600).ok());
  EXPECT_EQ(store->AddPendingAttester(same_ak, true).code(), absl::StatusCode::kAlreadyExists);
  AttesterRecord same_id = Attester(3, "ek3");
  same_id.id = Id(1);
  EXPECT_EQ(store->AddPendingAttester(same_id, false).code(), absl::StatusCode::kAlreadyExists);
}

// Anyone can present a host's AK (it is public) with an EK of their own and
// leave the enrollment pending or answer it wrongly: that must not lock the
// host out.
TEST_F(SqliteStoreTest, PendingOrFailedEnrollmentOfAnAkBlocksNoOne) {
  auto store = OpenStore();
  AttesterRecord stranger = Attester(1, "stranger-ek", "stranger-cred");
  ASSERT_TRUE(store->AddPendingAttester(stranger, false).ok());
  AttesterRecord failed = Attester(1, "other-ek", "other-cred");
  failed.id = Id(2);
  ASSERT_TRUE(store->AddPendingAttester(failed, false).ok());
  EXPECT_EQ(store->ActivateAttester(Id(2), Digest("guess"), 1500).code(),
            absl::StatusCode::kPermissionDenied);
  AttesterRecord host = Attester(1, "host-ek", "host-cred");
  host.id = Id(3);
  ASSERT_TRUE(store->AddPendingAttester(host, false).ok());
  ASSERT_TRUE(store->ActivateAttester(Id(3), Digest("host-cred"), 1501).ok());
  EXPECT_EQ(store->FindAttesterByAkName(host.ak_name)->id, Id(3));
  // Once the AK is enrolled, the stranger's pending record can never activate.
  EXPECT_EQ(store->ActivateAttester(Id(1), Digest("stranger-cred"), 1502).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->FindAttesterByAkName(host.ak_name)->id, Id(3));
}

TEST_F(SqliteStoreTest, ActiveEkRefusesAnotherAttesterUnlessReplaced) {
  auto store = OpenStore();
  AddActive(*store, 1, "ek");
  EXPECT_EQ(store->AddPendingAttester(Attester(2, "ek"), false).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->GetAttester(Id(1))->state, AttesterState::kActive);
  ASSERT_TRUE(store->AddPendingAttester(Attester(2, "ek"), true).ok());
  auto old = store->GetAttester(Id(1));
  EXPECT_EQ(old->state, AttesterState::kRevoked);
  EXPECT_EQ(old->revoked_at, Attester(2, "ek").created_at);
  EXPECT_EQ(store->GetAttester(Id(2))->state, AttesterState::kPending);
}

TEST_F(SqliteStoreTest, PendingEnrollmentDoesNotBlockAnotherForTheSameEk) {
  auto store = OpenStore();
  ASSERT_TRUE(store->AddPendingAttester(Attester(1, "ek"), false).ok());
  ASSERT_TRUE(store->AddPendingAttester(Attester(2, "ek"), false).ok());
  ASSERT_TRUE(store->ActivateAttester(Id(1), Digest("cred"), 1500).ok());
  // Only one active attester per EK.
  EXPECT_EQ(store->ActivateAttester(Id(2), Digest("cred"), 1501).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->GetAttester(Id(2))->state, AttesterState::kPending);
}

TEST_F(SqliteStoreTest, ActivationWithTheRightCredentialMakesTheAttesterActive) {
  auto store = OpenStore();
  ASSERT_TRUE(store->AddPendingAttester(Attester(1, "ek", "secret"), false).ok());
  ASSERT_TRUE(store->ActivateAttester(Id(1), Digest("secret"), 1500).ok());
  auto got = store->GetAttester(Id(1));
  EXPECT_EQ(got->state, AttesterState::kActive);
  EXPECT_EQ(got->activated_at, 1500);
  EXPECT_EQ(got->credential_sha256, "");
  EXPECT_EQ(store->ActivateAttester(Id(1), Digest("secret"), 1501).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, WrongCredentialRevokesThePendingEnrollment) {
  auto store = OpenStore();
  ASSERT_TRUE(store->AddPendingAttester(Attester(1, "ek", "secret"), false).ok());
  EXPECT_EQ(store->ActivateAttester(Id(1), Digest("guess"), 1500).code(),
            absl::StatusCode::kPermissionDenied);
  auto got = store->GetAttester(Id(1));
  EXPECT_EQ(got->state, AttesterState::kRevoked);
  EXPECT_EQ(got->revoked_at, 1500);
  // One answer per credential: the right one is now too late.
  EXPECT_EQ(store->ActivateAttester(Id(1), Digest("secret"), 1501).code(),
            absl::StatusCode::kFailedPrecondition);
  // The revocation was committed, not just reported: it survives a reopen.
  store.reset();
  EXPECT_EQ(OpenStore()->GetAttester(Id(1))->state, AttesterState::kRevoked);
}

TEST_F(SqliteStoreTest, ActivationErrors) {
  auto store = OpenStore();
  EXPECT_EQ(store->ActivateAttester(Id(9), Digest("x"), 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->ActivateAttester(Id(9), "short", 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ActivateAttester("nothex", Digest("x"), 1).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, RevokingTwiceKeepsTheFirstTime) {
  auto store = OpenStore();
  AddActive(*store, 1, "ek");
  ASSERT_TRUE(store->RevokeAttester(Id(1), 3000).ok());
  ASSERT_TRUE(store->RevokeAttester(Id(1), 4000).ok());
  auto got = store->GetAttester(Id(1));
  EXPECT_EQ(got->state, AttesterState::kRevoked);
  EXPECT_EQ(got->revoked_at, 3000);
  EXPECT_EQ(store->RevokeAttester(Id(2), 3000).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->RevokeAttester("", 3000).code(), absl::StatusCode::kInvalidArgument);
  // Revoked frees the EK for a new enrollment.
  EXPECT_TRUE(store->AddPendingAttester(Attester(2, "ek"), false).ok());
}

TEST_F(SqliteStoreTest, RecordedCountersOnlyGoUp) {
  auto store = OpenStore();
  AddActive(*store, 1, "ek");
  auto counters = [&] { return *store->GetAttester(Id(1))->counters; };
  auto record = [&](uint32_t reset, uint32_t restart, uint64_t clock) {
    return store->RecordCounters(Id(1), TpmCounters{clock, reset, restart});
  };
  ASSERT_TRUE(record(1, 0, 100).ok());
  EXPECT_EQ(counters().clock, 100u);
  ASSERT_TRUE(record(1, 0, 50).ok());  // older: ignored, not an error
  EXPECT_EQ(counters().clock, 100u);
  ASSERT_TRUE(record(1, 1, 10).ok());  // restart beats clock
  EXPECT_EQ(counters().restart_count, 1u);
  EXPECT_EQ(counters().clock, 10u);
  ASSERT_TRUE(record(0, 9, 999999).ok());  // reset beats both
  EXPECT_EQ(counters().reset_count, 1u);
  EXPECT_EQ(counters().restart_count, 1u);
  // Clocks past 2^63 keep their order.
  ASSERT_TRUE(record(1, 1, UINT64_MAX - 1).ok());
  EXPECT_EQ(counters().clock, UINT64_MAX - 1);
  ASSERT_TRUE(record(1, 1, 5).ok());
  EXPECT_EQ(counters().clock, UINT64_MAX - 1);
  ASSERT_TRUE(record(2, 0, 0).ok());
  EXPECT_EQ(counters().reset_count, 2u);
  EXPECT_EQ(counters().clock, 0u);
  EXPECT_EQ(store->RecordCounters(Id(2), TpmCounters{}).code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, ConcurrentCountersEndAtTheHighest) {
  auto store = OpenStore();
  AddActive(*store, 1, "ek");
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        EXPECT_TRUE(store->RecordCounters(Id(1), TpmCounters{uint64_t(i * 8 + t), 3, 0}).ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store->GetAttester(Id(1))->counters->clock, 199u);
}

// A write that fails after changing something undoes its own change only.
TEST_F(SqliteStoreTest, FailedWriteUndoesItsPartialChanges) {
  auto store = OpenStore();
  AddActive(*store, 1, "ek");
  ASSERT_TRUE(store->AddPendingAttester(Attester(2, "other"), false).ok());
  // Replacing revokes attester 1 first, then the insert fails (id 2 exists).
  AttesterRecord clash = Attester(3, "ek");
  clash.id = Id(2);
  EXPECT_EQ(store->AddPendingAttester(clash, true).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->GetAttester(Id(1))->state, AttesterState::kActive);
}

// --- Nonces.

TEST_F(SqliteStoreTest, NonceIsConsumedOnce) {
  auto store = OpenStore();
  ASSERT_TRUE(store->AddNonce(Nonce(1), 5000).ok());
  EXPECT_TRUE(store->ConsumeNonce(Nonce(1), 100).ok());
  absl::Status again = store->ConsumeNonce(Nonce(1), 101);
  EXPECT_EQ(again.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(again.message().find("already used"), std::string::npos) << again;
}

TEST_F(SqliteStoreTest, NonceNeverIssuedIsRefused) {
  auto store = OpenStore();
  absl::Status status = store->ConsumeNonce(Nonce(1), 100);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(status.message().find("never issued"), std::string::npos) << status;
  EXPECT_EQ(store->ConsumeNonce("short", 100).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store->ConsumeNonce(std::string(65, 'n'), 100).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SqliteStoreTest, ExpiredNonceIsRefused) {
  auto store = OpenStore();
  ASSERT_TRUE(store->AddNonce(Nonce(1), 1000).ok());
  ASSERT_TRUE(store->AddNonce(Nonce(2), 1000).ok());
  absl::Status late = store->ConsumeNonce(Nonce(1), 1000);  // expires_at is the first bad second
  EXPECT_EQ(late.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(late.message().find("expired"), std::string::npos) << late;
  EXPECT_TRUE(store->ConsumeNonce(Nonce(2), 999).ok());
}

TEST_F(SqliteStoreTest, NonceIssuedTwiceOrMisSizedIsRefused) {
  auto store = OpenStore();
  ASSERT_TRUE(store->AddNonce(Nonce(1), 1000).ok());
  EXPECT_EQ(store->AddNonce(Nonce(1), 2000).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->AddNonce("1234567", 1000).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->AddNonce(std::string(65, 'n'), 1000).code(), absl::StatusCode::kInvalidArgument);
  // Raw bytes, NULs included, are a nonce like any other.
  std::string binary("\0\1\2\3\0\5\6\7\0\0", 10);
  ASSERT_TRUE(store->AddNonce(binary, 1000).ok());
  EXPECT_EQ(store->ConsumeNonce(std::string(10, '\0'), 10).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(store->ConsumeNonce(binary, 10).ok());
}

TEST_F(SqliteStoreTest, CountsOnlyOutstandingNoncesAndPurgesExpiredOnes) {
  auto store = OpenStore();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->AddNonce(Nonce(i), 1000 + i).ok());
  ASSERT_TRUE(store->ConsumeNonce(Nonce(9), 100).ok());
  EXPECT_EQ(*store->CountNonces(100), 9);
  EXPECT_EQ(*store->CountNonces(1005), 3);     // 1006, 1007, 1008 (1009 is used)
  ASSERT_TRUE(store->PurgeNonces(1005).ok());  // forgets expires_at < 1005
  EXPECT_EQ(store->ConsumeNonce(Nonce(4), 1).message(), "the nonce was never issued");
  EXPECT_TRUE(store->ConsumeNonce(Nonce(5), 1).ok());
  ASSERT_TRUE(store->PurgeNonces(5000).ok());  // used ones go too
  EXPECT_EQ(store->ConsumeNonce(Nonce(9), 1).message(), "the nonce was never issued");
  EXPECT_EQ(*store->CountNonces(0), 0);
}

TEST_F(SqliteStoreTest, TwentyThreadsConsumingOneNonceSucceedOnce) {
  auto store = OpenStore();
  constexpr int kRounds = 20;
  constexpr int kThreads = 20;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(store->AddNonce(Nonce(round), 5000).ok());
    std::atomic<int> ready{0};
    std::atomic<int> ok{0};
    std::atomic<int> used{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        absl::Status status = store->ConsumeNonce(Nonce(round), 100);
        if (status.ok()) ok.fetch_add(1);
        if (status.message() == "the nonce was already used") used.fetch_add(1);
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(used.load(), kThreads - 1) << "round " << round;
  }
}

TEST_F(SqliteStoreTest, CheckingANonceChangesNothing) {
  auto store = OpenStore();
  ASSERT_TRUE(store->AddNonce(Nonce(1), 1000).ok());
  EXPECT_EQ(*store->CheckNonce(Nonce(1), 100), 1000);
  EXPECT_TRUE(store->CheckNonce(Nonce(1), 100).ok());
  EXPECT_EQ(*store->CountNonces(100), 1);
  EXPECT_NE(store->CheckNonce(Nonce(1), 1000).status().message().find("expired"), std::string::npos);
  EXPECT_EQ(store->CheckNonce(Nonce(2), 100).status().message(), "the nonce was never issued");
  EXPECT_EQ(store->CheckNonce("short", 100).status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(store->ConsumeNonce(Nonce(1), 100).ok());
  EXPECT_EQ(store->CheckNonce(Nonce(1), 100).status().message(), "the nonce was already used");
}

TEST_F(SqliteStoreTest, AnAttestationCommitsAllOrNothing) {
  auto store = OpenStore();
  AddActive(*store, 1, "ek");
  ASSERT_TRUE(store->PutPolicy("p", "{}", 10).ok());
  ASSERT_TRUE(store->AddNonce(Nonce(1), 1000).ok());
  AttestationCommit commit;
  commit.nonce = Nonce(1);
  commit.now = 100;
  commit.counters = TpmCounters{70, 3, 1};
  commit.result = Result(1, Id(1), "p", 1);
  ASSERT_TRUE(store->CommitAttestation(commit, nullptr).ok());
  EXPECT_EQ(store->CheckNonce(Nonce(1), 100).status().message(), "the nonce was already used");
  EXPECT_EQ(store->GetAttester(Id(1))->counters->clock, 70u);
  EXPECT_EQ(store->GetResult(Result(1, Id(1), "p", 1).id)->body, commit.result.body);

  // The same nonce again: refused, and neither the result nor the counters
  // are written.
  commit.result = Result(2, Id(1), "p", 1);
  commit.counters = TpmCounters{90, 3, 1};
  absl::Status replay = store->CommitAttestation(commit, nullptr);
  EXPECT_EQ(replay.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(replay.message(), "the nonce was already used");
  EXPECT_EQ(store->GetResult(commit.result.id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->GetAttester(Id(1))->counters->clock, 70u);

  // A result the store refuses (unknown policy version): the nonce stays
  // unused and the counters stay.
  ASSERT_TRUE(store->AddNonce(Nonce(2), 1000).ok());
  commit.nonce = Nonce(2);
  commit.result = Result(3, Id(1), "p", 7);
  EXPECT_EQ(store->CommitAttestation(commit, nullptr).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store->CheckNonce(Nonce(2), 100).ok());
  EXPECT_EQ(store->GetAttester(Id(1))->counters->clock, 70u);

  // No nonce (the pipeline accepted none): the result alone.
  commit.nonce.clear();
  commit.counters.reset();
  commit.result = Result(4, "", "p", 1);
  EXPECT_TRUE(store->CommitAttestation(commit, nullptr).ok());
  commit.counters = TpmCounters{1, 1, 1};  // counters need an attester
  commit.result = Result(5, "", "p", 1);
  EXPECT_EQ(store->CommitAttestation(commit, nullptr).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, TwentyThreadsCommittingOneNonceStoreOneResult) {
  auto store = OpenStore();
  ASSERT_TRUE(store->PutPolicy("p", "{}", 10).ok());
  ASSERT_TRUE(store->AddNonce(Nonce(1), 5000).ok());
  constexpr int kThreads = 20;
  std::atomic<int> ready{0};
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      AttestationCommit commit;
      commit.nonce = Nonce(1);
      commit.now = 100;
      commit.result = Result(t, "", "p", 1);
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      if (store->CommitAttestation(commit, nullptr).ok()) ok.fetch_add(1);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 1);
  int stored = 0;
  for (int t = 0; t < kThreads; ++t) stored += store->GetResult(Result(t, "", "p", 1).id).ok();
  EXPECT_EQ(stored, 1);
}

// Reads everything from `fd` until EOF.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// A child process that writes to the parent through a pipe.
struct Child {
  pid_t pid = -1;   // -1: the pipe or the fork failed
  UniqueFd output;  // the pipe's read end
};

// Forks a child that runs `body` with the pipe's write end, then exits 0
// (`body` may _exit itself with another status).
Child ForkWithPipe(const std::function<void(int)>& body) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t pid = fork();
  if (pid == 0) {
    read_end.reset();
    body(write_end.get());
    _exit(0);
  }
  if (pid < 0) return {};
  return {pid, std::move(read_end)};
}

TEST_F(SqliteStoreTest, TwoProcessesConsumingTheSameNoncesUseEachOnce) {
  constexpr int kNonces = 300;
  {
    auto store = OpenStore();
    for (int i = 0; i < kNonces; ++i) ASSERT_TRUE(store->AddNonce(Nonce(i), 5000).ok());
  }
  std::vector<Child> children;
  for (int c = 0; c < 2; ++c) {
    children.push_back(ForkWithPipe([&](int out) {
      auto store = SqliteStore::Open(dir_);
      if (!store.ok()) _exit(2);
      // Two threads per process, so batches from both processes interleave.
      std::vector<std::thread> threads;
      for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
          for (int i = t; i < kNonces; i += 2) {
            absl::Status status = (*store)->ConsumeNonce(Nonce(i), 100);
            if (status.ok()) {
              int32_t n = i;
              if (write(out, &n, sizeof(n)) != sizeof(n)) _exit(3);
            } else if (status.message() != "the nonce was already used") {
              _exit(4);
            }
          }
        });
      }
      for (auto& thread : threads) thread.join();
      store->reset();
    }));
    ASSERT_GE(children.back().pid, 0);
  }
  std::map<int32_t, int> uses;
  std::vector<size_t> per_child;
  for (size_t c = 0; c < children.size(); ++c) {
    std::string got = ReadAll(children[c].output.get());
    int status = 0;
    ASSERT_EQ(waitpid(children[c].pid, &status, 0), children[c].pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    ASSERT_EQ(got.size() % 4, 0u);
    per_child.push_back(got.size() / 4);
    for (size_t off = 0; off < got.size(); off += 4) {
      int32_t n;
      std::memcpy(&n, got.data() + off, sizeof(n));
      ++uses[n];
    }
  }
  EXPECT_EQ(uses.size(), static_cast<size_t>(kNonces));
  for (const auto& [n, count] : uses) EXPECT_EQ(count, 1) << "nonce " << n;
  auto store = OpenStore();
  EXPECT_EQ(*store->CountNonces(100), 0);
}

// --- Policies.

TEST_F(SqliteStoreTest, EveryPolicyVersionIsKept) {
  auto store = OpenStore();
  auto v1 = store->PutPolicy("clinic", "{\"a\":1}", 10);
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->sha256, Digest("{\"a\":1}"));
  auto v2 = store->PutPolicy("clinic", "{\"a\":2}", 20);
  EXPECT_EQ(v2->version, 2);
  auto latest = store->GetPolicy("clinic");
  EXPECT_EQ(latest->version, 2);
  EXPECT_EQ(latest->text, "{\"a\":2}");
  EXPECT_EQ(latest->created_at, 20);
  auto first = store->GetPolicy("clinic", 1);
  EXPECT_EQ(first->text, "{\"a\":1}");
  EXPECT_EQ(first->sha256, Digest("{\"a\":1}"));
  EXPECT_EQ(store->GetPolicy("clinic", 3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->GetPolicy("other").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->PutPolicy("other", "x", 1)->version, 1);
}

TEST_F(SqliteStoreTest, RefusesMalformedPolicies) {
  auto store = OpenStore();
  EXPECT_EQ(store->PutPolicy("", "{}", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutPolicy("a/b", "{}", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutPolicy(std::string(129, 'a'), "{}", 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutPolicy("p", "", 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutPolicy("p", std::string((1 << 20) + 1, ' '), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store->PutPolicy("p", std::string(1 << 20, ' '), 1).ok());
  EXPECT_EQ(store->GetPolicy("a b").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, ConcurrentPolicyUpdatesGetDistinctVersions) {
  auto store = OpenStore();
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<int64_t> versions;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto put = store->PutPolicy("p", absl::StrCat(t, "-", i), 1);
        ASSERT_TRUE(put.ok());
        std::lock_guard<std::mutex> lock(mu);
        EXPECT_TRUE(versions.insert(put->version).second);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(versions.size(), 80u);
  EXPECT_EQ(*versions.rbegin(), 80);
  EXPECT_EQ(store->GetPolicy("p")->version, 80);
}

// --- Secrets.

TEST_F(SqliteStoreTest, SecretIsBoundToAnExistingPolicy) {
  auto store = OpenStore();
  SecretRecord secret{"phi-key", std::string("\0sealed\xff", 8), "clinic", 50};
  EXPECT_EQ(store->PutSecret(secret).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store->PutPolicy("clinic", "{}", 1).ok());
  ASSERT_TRUE(store->PutSecret(secret).ok());
  auto got = store->GetSecret("phi-key");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->ciphertext, secret.ciphertext);
  EXPECT_EQ(got->policy_id, "clinic");
  EXPECT_EQ(got->updated_at, 50);
  // Putting again replaces value and policy.
  ASSERT_TRUE(store->PutPolicy("lab", "{}", 1).ok());
  ASSERT_TRUE(store->PutSecret({"phi-key", "new", "lab", 60}).ok());
  got = store->GetSecret("phi-key");
  EXPECT_EQ(got->ciphertext, "new");
  EXPECT_EQ(got->policy_id, "lab");
  EXPECT_EQ(got->updated_at, 60);
  EXPECT_EQ(store->GetSecret("missing").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, RefusesMalformedSecrets) {
  auto store = OpenStore();
  ASSERT_TRUE(store->PutPolicy("p", "{}", 1).ok());
  EXPECT_EQ(store->PutSecret({"", "c", "p", 1}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutSecret({"a b", "c", "p", 1}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutSecret({"s", "", "p", 1}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutSecret({"s", std::string((1 << 20) + 1, 'c'), "p", 1}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutSecret({"s", "c", "", 1}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->GetSecret("../x").status().code(), absl::StatusCode::kInvalidArgument);
}

// --- Results.

TEST_F(SqliteStoreTest, ResultIsStoredOnceAndReadBack) {
  auto store = OpenStore();
  AddActive(*store, 1, "ek");
  ASSERT_TRUE(store->PutPolicy("p", "{}", 1).ok());
  ResultRecord result = Result(1, Id(1), "p", 1);
  ASSERT_TRUE(store->PutResult(result).ok());
  auto got = store->GetResult(result.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->attester_id, Id(1));
  EXPECT_EQ(got->policy_id, "p");
  EXPECT_EQ(got->policy_version, 1);
  EXPECT_EQ(got->verdict, "affirming");
  EXPECT_EQ(got->evidence_sha256, result.evidence_sha256);
  EXPECT_EQ(got->body, result.body);
  EXPECT_EQ(got->created_at, result.created_at);
  EXPECT_EQ(store->PutResult(result).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->GetResult(Id(5)).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, ResultForUnknownAttesterNamesNone) {
  auto store = OpenStore();
  ResultRecord result = Result(1, "", "", 0);
  result.verdict = "broken_evidence";
  ASSERT_TRUE(store->PutResult(result).ok());
  auto got = store->GetResult(result.id);
  EXPECT_EQ(got->attester_id, "");
  EXPECT_EQ(got->policy_id, "");
  EXPECT_EQ(got->policy_version, 0);
}

TEST_F(SqliteStoreTest, ResultMustNameRecordsThatExist) {
  auto store = OpenStore();
  ASSERT_TRUE(store->PutPolicy("p", "{}", 1).ok());
  EXPECT_EQ(store->PutResult(Result(1, Id(1), "p", 1)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->PutResult(Result(2, "", "p", 2)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->PutResult(Result(3, "", "q", 1)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->PutResult(Result(4, "", "p", 0)).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, RefusesMalformedResults) {
  auto store = OpenStore();
  auto refused = [&](const ResultRecord& r) {
    return store->PutResult(r).code() == absl::StatusCode::kInvalidArgument;
  };
  ResultRecord r = Result(1, "", "", 0);
  r.id = "1234";
  EXPECT_TRUE(refused(r));
  r = Result(1, "ABC", "", 0);
  EXPECT_TRUE(refused(r));
  r = Result(1, "", "", 0);
  r.verdict = "";
  EXPECT_TRUE(refused(r));
  r = Result(1, "", "", 0);
  r.evidence_sha256 = "00";
  EXPECT_TRUE(refused(r));
  r = Result(1, "", "", 0);
  r.body = std::string((8 << 20) + 1, 'b');
  EXPECT_TRUE(refused(r));
  EXPECT_EQ(store->GetResult("g").status().code(), absl::StatusCode::kInvalidArgument);
}

// --- Group commit.

TEST_F(SqliteStoreTest, ConcurrentWritesShareTransactionsAndKeepTheirOwnOutcome) {
  auto store = OpenStore();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ASSERT_TRUE(store->AddNonce(Nonce(i), 5000).ok());
  }
  const int64_t writes_before = store->Stats().writes;
  const int64_t transactions_before = store->Stats().transactions;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        int n = t * kPerThread + i;
        // Every other write fails (a nonce never issued) in the same batches.
        if (!store->ConsumeNonce(Nonce(n), 100).ok()) wrong.fetch_add(1);
        if (store->ConsumeNonce(Nonce(100000 + n), 100).code() !=
            absl::StatusCode::kPermissionDenied) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(*store->CountNonces(100), 0);
  SqliteStore::WriteStats stats = store->Stats();
  EXPECT_EQ(stats.writes - writes_before, 2 * kThreads * kPerThread);
  EXPECT_LT(stats.transactions - transactions_before, stats.writes - writes_before);
}

TEST_F(SqliteStoreTest, UnbatchedStoreCommitsEachWriteAlone) {
  SqliteStore::Options options;
  options.batch_writes = false;
  auto store = OpenStore(options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) EXPECT_TRUE(store->AddNonce(Nonce(t * 10 + i), 50).ok());
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store->Stats().writes, 40);
  EXPECT_EQ(store->Stats().transactions, 40);
  EXPECT_EQ(*store->CountNonces(0), 40);
}

// --- Durability.

// What the writing child acknowledges on its pipe, one record per OK return.
struct Ack {
  int32_t kind;  // 0 nonce, 1 result, 2 policy, 3 error
  int32_t trial;
  int32_t thread;
  int32_t index;
};

std::string AckedNonce(const Ack& a) {
  return absl::StrFormat("n%02d-%02d-%08d", a.trial, a.thread, a.index);
}
std::string AckedPolicy(const Ack& a) {
  return absl::StrFormat("p%02d-%02d-%08d", a.trial, a.thread, a.index);
}
std::string AckedResultId(const Ack& a) {
  return absl::StrFormat("%08x%08x%08x%08x", 0xfeed, a.trial, a.thread, a.index);
}

[[noreturn]] void WriteUntilKilled(const std::string& dir, int trial, int ack_fd) {
  auto opened = SqliteStore::Open(dir);
  auto ack = [&](Ack a) {
    if (write(ack_fd, &a, sizeof(a)) != sizeof(a)) _exit(5);
  };
  if (!opened.ok()) {
    ack({3, trial, -1, 0});
    _exit(1);
  }
  SqliteStore& store = **opened;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        Ack a{i % 3, trial, t, i};
        absl::Status status;
        if (a.kind == 0) {
          status = store.AddNonce(AckedNonce(a), 1'000'000);
        } else if (a.kind == 1) {
          ResultRecord result = Result(0, "", "", 0);
          result.id = AckedResultId(a);
          result.body = absl::StrCat("result body ", result.id);
          status = store.PutResult(result);
        } else {
          status = store.PutPolicy(AckedPolicy(a), absl::StrCat("policy ", i), i).status();
        }
        if (!status.ok()) a.kind = 3;
        ack(a);
        if (a.kind == 3) _exit(1);
      }
    });
  }
  for (;;) pause();
}

TEST_F(SqliteStoreTest, KillNineLosesNoAcknowledgedWrite) {
  constexpr int kTrials = 20;
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_ms(5, 250);
  size_t total = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    Child writer = ForkWithPipe([&](int out) { WriteUntilKilled(dir_, trial, out); });
    ASSERT_GE(writer.pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_EQ(kill(writer.pid, SIGKILL), 0);
    std::string got = ReadAll(writer.output.get());
    int status = 0;
    ASSERT_EQ(waitpid(writer.pid, &status, 0), writer.pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer stopped by itself: " << status;
    ASSERT_EQ(got.size() % sizeof(Ack), 0u) << "pipe writes of 16 bytes are atomic";
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CheckIntegrity().ok()) << store->CheckIntegrity();
    for (size_t off = 0; off < got.size(); off += sizeof(Ack)) {
      Ack a;
      std::memcpy(&a, got.data() + off, sizeof(a));
      ASSERT_NE(a.kind, 3) << "the writer failed in trial " << a.trial;
      if (a.kind == 0) {
        EXPECT_EQ(store->AddNonce(AckedNonce(a), 1'000'000).code(),
                  absl::StatusCode::kAlreadyExists)
            << "lost nonce " << AckedNonce(a);
      } else if (a.kind == 1) {
        EXPECT_TRUE(store->GetResult(AckedResultId(a)).ok()) << "lost result " << AckedResultId(a);
      } else {
        EXPECT_TRUE(store->GetPolicy(AckedPolicy(a)).ok()) << "lost policy " << AckedPolicy(a);
      }
    }
    total += got.size() / sizeof(Ack);
  }
  // The kills must have landed while writes were acknowledged.
  EXPECT_GT(total, 200u);
}

}  // namespace
}  // namespace fdattest
