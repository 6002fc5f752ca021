// The store's audit-archive records on both implementations (the SQLite
// store and the in-memory fake, one typed suite): the tenant life cycle,
// crypto-shredding (every blob of the tenant unreadable, its results' bodies
// emptied, other tenants untouched), content-addressed blobs and their expiry.
// Then, on SQLite only: shredding leaves every leaf, node and checkpoint row
// byte-identical, and leaves no trace of the key or ciphertexts in the files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/sha256.h"
#include "verifier/internal/sqlite_db.h"
#include "verifier/sqlite_store.h"
#include "verifier/testing/memory_store.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

std::string Id(int n) { return absl::StrFormat("%032x", n); }
std::string Digest(absl::string_view s) { return HexEncode(Sha256(s)); }

AttesterRecord Attester(int n, absl::string_view tenant) {
  AttesterRecord record;
  record.id = Id(n);
  record.ek_certificate = absl::StrCat("certificate ", n);
  record.ek_public = absl::StrCat("ek public ", n);
  record.ek_sha256 = Digest(record.ek_public);
  record.ak_public = absl::StrCat("ak public ", n);
  record.ak_name = absl::StrCat("000b", Digest(record.ak_public));
  record.credential_sha256 = Digest("cred");
  record.created_at = 1000 + n;
  record.tenant = std::string(tenant);
  return record;
}

ResultRecord Result(int n, absl::string_view attester_id) {
  ResultRecord record;
  record.id = Id(0x10000 + n);
  record.attester_id = std::string(attester_id);
  record.policy_id = "p";
  record.policy_version = 1;
  record.verdict = "affirming";
  record.evidence_sha256 = Digest(absl::StrCat("evidence ", n));
  record.body = absl::StrCat("{\"result\":", n, "}");
  record.created_at = 2000 + n;
  return record;
}

BlobRecord Blob(absl::string_view tenant, absl::string_view content, BlobKind kind,
                int64_t expires_at = 10000) {
  return BlobRecord{Digest(content),
                    std::string(tenant),
                    kind,
                    absl::StrCat("sealed ", content, " of ", tenant),
                    100,
                    expires_at};
}

struct SqliteFactory {
  std::string root;
  ~SqliteFactory() {
    if (!root.empty()) std::filesystem::remove_all(root);
  }
  std::unique_ptr<Store> Make() {
    char tmpl[] = "/tmp/fdattest-archive-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return nullptr;
    root = tmpl;
    auto store = SqliteStore::Open(root + "/data");
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
};

struct MemoryFactory {
  std::unique_ptr<Store> Make() { return std::make_unique<MemoryStore>(); }
};

template <typename Factory>
class ArchiveStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.Make();
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->PutPolicy("p", "{}", 10).ok());
  }
  void TearDown() override { store_.reset(); }

  Factory factory_;  // outlives the store (it owns the SQLite store's directory)
  std::unique_ptr<Store> store_;
};

using StoreFactories = ::testing::Types<SqliteFactory, MemoryFactory>;
class FactoryNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteFactory> ? "Sqlite" : "Memory";
  }
};
TYPED_TEST_SUITE(ArchiveStoreTest, StoreFactories, FactoryNames);

TYPED_TEST(ArchiveStoreTest, TenantIsCreatedOnceKeepsItsKeyAndIsShreddedForGood) {
  Store& store = *this->store_;
  EXPECT_EQ(store.GetTenant("acme").status().code(), absl::StatusCode::kNotFound);
  TenantRecord created = *store.EnsureTenant("acme", "key one", 50);
  EXPECT_EQ(created.sealed_key, "key one");
  EXPECT_EQ(created.created_at, 50);
  EXPECT_EQ(created.shredded_at, 0);
  // A second caller's freshly made key loses: the stored one is returned.
  TenantRecord again = *store.EnsureTenant("acme", "key two", 60);
  EXPECT_EQ(again.sealed_key, "key one");
  EXPECT_EQ(again.created_at, 50);
  EXPECT_EQ(store.GetTenant("acme")->sealed_key, "key one");

  ASSERT_TRUE(store.ShredTenant("acme", 70).ok());
  TenantRecord shredded = *store.GetTenant("acme");
  EXPECT_TRUE(shredded.sealed_key.empty());
  EXPECT_EQ(shredded.shredded_at, 70);
  EXPECT_EQ(shredded.created_at, 50);
  ASSERT_TRUE(store.ShredTenant("acme", 80).ok());  // twice: keeps the first time
  EXPECT_EQ(store.GetTenant("acme")->shredded_at, 70);
  absl::StatusOr<TenantRecord> revived = store.EnsureTenant("acme", "key three", 90);
  EXPECT_EQ(revived.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(revived.status().message(), HasSubstr("shredded"));
  EXPECT_TRUE(store.GetTenant("acme")->sealed_key.empty());
}

TYPED_TEST(ArchiveStoreTest, ShreddingATenantNeverSeenRecordsItShredded) {
  Store& store = *this->store_;
  ASSERT_TRUE(store.ShredTenant("ghost", 70).ok());
  EXPECT_EQ(store.GetTenant("ghost")->shredded_at, 70);
  EXPECT_EQ(store.EnsureTenant("ghost", "key", 80).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST(ArchiveStoreTest, RefusesMalformedTenantIds) {
  Store& store = *this->store_;
  for (const std::string& bad :
       {std::string(), std::string(65, 'a'), std::string("a/b"), std::string("a b"),
        std::string("t\n"), std::string("t:1"), std::string("\xc3\xa9")}) {
    EXPECT_EQ(store.EnsureTenant(bad, "key", 1).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(store.ShredTenant(bad, 1).code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store.AddPendingAttester(Attester(1, bad), false).code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_TRUE(store.EnsureTenant(std::string(64, 'a'), "key", 1).ok());
  EXPECT_TRUE(store.EnsureTenant("A-z_0.9", "key", 1).ok());
}

TYPED_TEST(ArchiveStoreTest, AttesterKeepsItsTenant) {
  Store& store = *this->store_;
  ASSERT_TRUE(store.AddPendingAttester(Attester(1, "acme"), false).ok());
  EXPECT_EQ(store.GetAttester(Id(1))->tenant, "acme");
  EXPECT_EQ(store.FindAttesterByAkName(Attester(1, "").ak_name)->tenant, "acme");
  EXPECT_EQ(AttesterRecord().tenant, "default");
}

TYPED_TEST(ArchiveStoreTest, ShreddingMakesEveryBlobOfTheTenantUnreadableAndNoOtherTenants) {
  Store& store = *this->store_;
  ASSERT_TRUE(store.EnsureTenant("acme", "acme key", 1).ok());
  ASSERT_TRUE(store.EnsureTenant("other", "other key", 1).ok());
  std::vector<BlobRecord> acme, other;
  for (BlobKind kind : {BlobKind::kEvidence, BlobKind::kResult, BlobKind::kDecision}) {
    for (int i = 0; i < 3; ++i) {
      acme.push_back(Blob("acme", absl::StrCat("content ", i), kind));
      other.push_back(Blob("other", absl::StrCat("content ", i), kind));  // same addresses
    }
  }
  for (const BlobRecord& b : acme) ASSERT_TRUE(store.PutBlob(b).ok());
  for (const BlobRecord& b : other) ASSERT_TRUE(store.PutBlob(b).ok());
  for (const BlobRecord& b : acme) {
    ASSERT_EQ(store.GetBlob("acme", b.sha256, b.kind)->sealed, b.sealed);
  }

  ASSERT_TRUE(store.ShredTenant("acme", 500).ok());
  for (const BlobRecord& b : acme) {
    absl::StatusOr<BlobRecord> gone = store.GetBlob("acme", b.sha256, b.kind);
    EXPECT_EQ(gone.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(gone.status().message(), HasSubstr("shredded"));
  }
  for (const BlobRecord& b : other) {
    absl::StatusOr<BlobRecord> kept = store.GetBlob("other", b.sha256, b.kind);
    ASSERT_TRUE(kept.ok()) << kept.status();
    EXPECT_EQ(kept->sealed, b.sealed);
    EXPECT_EQ(kept->created_at, b.created_at);
    EXPECT_EQ(kept->expires_at, b.expires_at);
  }
  EXPECT_EQ(store.GetTenant("other")->sealed_key, "other key");
  // Nothing new is sealed for a shredded tenant.
  absl::Status late = store.PutBlob(Blob("acme", "later", BlobKind::kEvidence));
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.GetBlob("acme", Digest("later"), BlobKind::kEvidence).status().code(),
            absl::StatusCode::kNotFound);
}

TYPED_TEST(ArchiveStoreTest, ShreddingEmptiesTheBodiesOfTheTenantsResultsOnly) {
  Store& store = *this->store_;
  ASSERT_TRUE(store.AddPendingAttester(Attester(1, "acme"), false).ok());
  ASSERT_TRUE(store.AddPendingAttester(Attester(2, "acme"), false).ok());
  ASSERT_TRUE(store.AddPendingAttester(Attester(3, "other"), false).ok());
  const std::vector<ResultRecord> results = {Result(1, Id(1)), Result(2, Id(2)), Result(3, Id(1)),
                                             Result(4, Id(3)), Result(5, "")};
  for (const ResultRecord& r : results) ASSERT_TRUE(store.PutResult(r).ok());

  ASSERT_TRUE(store.ShredTenant("acme", 500).ok());
  for (const ResultRecord& r : results) {
    ResultRecord now = *store.GetResult(r.id);
    const bool of_acme = r.attester_id == Id(1) || r.attester_id == Id(2);
    // A shredded result is an empty body (answered 410 Gone); its row and
    // digests stay.
    EXPECT_EQ(now.body, of_acme ? "" : r.body) << r.id;
    EXPECT_EQ(now.verdict, r.verdict);
    EXPECT_EQ(now.evidence_sha256, r.evidence_sha256);
    EXPECT_EQ(now.attester_id, r.attester_id);
    EXPECT_EQ(now.created_at, r.created_at);
  }
  // A result naming no attester belongs to tenant "default".
  ASSERT_TRUE(store.ShredTenant("default", 600).ok());
  EXPECT_EQ(store.GetResult(results[4].id)->body, "");
  EXPECT_EQ(store.GetResult(results[3].id)->body, results[3].body);
}

TYPED_TEST(ArchiveStoreTest, BlobAddressIsStoredOnceAndNamesItsContent) {
  Store& store = *this->store_;
  ASSERT_TRUE(store.EnsureTenant("acme", "key", 1).ok());
  ASSERT_TRUE(store.EnsureTenant("other", "key", 1).ok());
  BlobRecord first = Blob("acme", "x", BlobKind::kEvidence, 1000);
  ASSERT_TRUE(store.PutBlob(first).ok());
  // The same address again (a fresh seal of the same plaintext): the stored
  // ciphertext stays, the expiry is the later one.
  BlobRecord second = first;
  second.sealed = "another seal of x";
  second.created_at = 300;
  second.expires_at = 2000;
  ASSERT_TRUE(store.PutBlob(second).ok());
  BlobRecord stored = *store.GetBlob("acme", first.sha256, BlobKind::kEvidence);
  EXPECT_EQ(stored.sealed, first.sealed);
  EXPECT_EQ(stored.created_at, first.created_at);
  EXPECT_EQ(stored.expires_at, 2000);
  BlobRecord earlier = first;
  earlier.expires_at = 5;
  ASSERT_TRUE(store.PutBlob(earlier).ok());
  EXPECT_EQ(store.GetBlob("acme", first.sha256, BlobKind::kEvidence)->expires_at, 2000);

  // Another kind or tenant is another address.
  EXPECT_EQ(store.GetBlob("acme", first.sha256, BlobKind::kResult).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store.GetBlob("other", first.sha256, BlobKind::kEvidence).status().code(),
            absl::StatusCode::kNotFound);
  BlobRecord as_result = Blob("acme", "x", BlobKind::kResult);
  ASSERT_TRUE(store.PutBlob(as_result).ok());
  EXPECT_EQ(store.GetBlob("acme", first.sha256, BlobKind::kResult)->sealed, as_result.sealed);
  EXPECT_EQ(store.GetBlob("acme", first.sha256, BlobKind::kEvidence)->sealed, first.sealed);

  EXPECT_EQ(store.PutBlob(Blob("nobody", "x", BlobKind::kEvidence)).code(),
            absl::StatusCode::kNotFound);
  BlobRecord bad = first;
  bad.sha256 = std::string(64, 'A');
  EXPECT_EQ(store.PutBlob(bad).code(), absl::StatusCode::kInvalidArgument);
  bad.sha256 = first.sha256.substr(1);
  EXPECT_EQ(store.PutBlob(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = first;
  bad.sealed.clear();
  EXPECT_EQ(store.PutBlob(bad).code(), absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(ArchiveStoreTest, ExpiryDeletesTheCiphertextOfBlobsPastTheirTime) {
  Store& store = *this->store_;
  ASSERT_TRUE(store.EnsureTenant("acme", "key", 1).ok());
  BlobRecord soon = Blob("acme", "soon", BlobKind::kEvidence, 100);
  BlobRecord later = Blob("acme", "later", BlobKind::kDecision, 200);
  ASSERT_TRUE(store.PutBlob(soon).ok());
  ASSERT_TRUE(store.PutBlob(later).ok());
  EXPECT_EQ(*store.ExpireBlobs(99), 0);
  EXPECT_EQ(*store.ExpireBlobs(100), 1);  // kept until expires_at, gone at it
  absl::StatusOr<BlobRecord> gone = store.GetBlob("acme", soon.sha256, soon.kind);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(gone.status().message(), HasSubstr("expired"));
  EXPECT_EQ(store.GetBlob("acme", later.sha256, later.kind)->sealed, later.sealed);
  EXPECT_EQ(*store.ExpireBlobs(100), 0);  // counted once
  EXPECT_EQ(*store.ExpireBlobs(1000), 1);
  // The tenant's key is not touched by expiry.
  EXPECT_EQ(store.GetTenant("acme")->sealed_key, "key");
  // Stored again (the same content decided on again), it is readable again.
  BlobRecord again = soon;
  again.expires_at = 5000;
  again.created_at = 1000;
  ASSERT_TRUE(store.PutBlob(again).ok());
  BlobRecord back = *store.GetBlob("acme", soon.sha256, soon.kind);
  EXPECT_EQ(back.sealed, soon.sealed);
  EXPECT_EQ(back.created_at, 1000);
  EXPECT_EQ(back.expires_at, 5000);
  // An expired blob of a shredded tenant says shredded.
  ASSERT_TRUE(store.ShredTenant("acme", 2000).ok());
  EXPECT_THAT(store.GetBlob("acme", later.sha256, later.kind).status().message(),
              HasSubstr("shredded"));
}

// --- SQLite only: what shredding leaves on disk.

class SqliteArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.Make();
    ASSERT_NE(store_, nullptr);
    db_path_ = factory_.root + "/data/fdverifierd.db";
    auto db = internal::SqliteDb::Open(db_path_, false, 5000);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    store_.reset();
  }

  // Every row of `table` in key order, as bytes.
  std::string Dump(const char* sql) {
    auto select = db_->Prepare(sql);
    EXPECT_TRUE(select.ok()) << select.status();
    std::string out;
    for (;;) {
      absl::StatusOr<bool> row = select->Step();
      EXPECT_TRUE(row.ok()) << row.status();
      if (!row.ok() || !*row) break;
      for (int c = 0; c < 4; ++c) absl::StrAppend(&out, select->Bytes(c), "|");
      out += "\n";
    }
    return out;
  }

  std::string FileBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  SqliteFactory factory_;
  std::unique_ptr<Store> store_;
  std::string db_path_;
  std::unique_ptr<internal::SqliteDb> db_;
};

TEST_F(SqliteArchiveTest, ShreddingLeavesEveryLeafNodeAndCheckpointByteIdentical) {
  ASSERT_TRUE(store_->EnsureTenant("acme", "acme key", 1).ok());
  ASSERT_TRUE(store_->PutBlob(Blob("acme", "evidence", BlobKind::kEvidence)).ok());
  ASSERT_TRUE(db_->Exec("BEGIN").ok());
  for (int i = 0; i < 5; ++i) {
    auto leaf = db_->Prepare(
        "INSERT INTO audit_leaves (idx, data, result_id, created_at) VALUES (?, ?, ?, ?)");
    ASSERT_TRUE(leaf.ok());
    leaf->BindInt(1, i).BindBlob(2, absl::StrCat("leaf ", i, "\ntenant acme\n"));
    ASSERT_TRUE(leaf->BindText(3, Id(i)).BindInt(4, 100 + i).Run().ok());
    auto node = db_->Prepare("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)");
    ASSERT_TRUE(node.ok());
    std::string hash(32, static_cast<char>(i));
    ASSERT_TRUE(node->BindInt(1, i % 2).BindInt(2, i).BindBlob(3, hash).Run().ok());
    auto checkpoint =
        db_->Prepare("INSERT INTO audit_checkpoints (size, note, created_at) VALUES (?, ?, ?)");
    ASSERT_TRUE(checkpoint.ok());
    ASSERT_TRUE(checkpoint->BindInt(1, i + 1)
                    .BindBlob(2, absl::StrCat("note ", i))
                    .BindInt(3, i)
                    .Run()
                    .ok());
  }
  ASSERT_TRUE(db_->Exec("COMMIT").ok());
  const char* kLeaves = "SELECT idx, data, result_id, created_at FROM audit_leaves ORDER BY idx";
  const char* kNodes = "SELECT level, idx, hash, 0 FROM audit_nodes ORDER BY level, idx";
  const char* kCheckpoints =
      "SELECT size, note, created_at, 0 FROM audit_checkpoints ORDER BY size";
  const std::string leaves = Dump(kLeaves);
  const std::string nodes = Dump(kNodes);
  const std::string checkpoints = Dump(kCheckpoints);
  ASSERT_NE(leaves.find("leaf 4"), std::string::npos);

  ASSERT_TRUE(store_->ShredTenant("acme", 500).ok());
  EXPECT_EQ(Dump(kLeaves), leaves);
  EXPECT_EQ(Dump(kNodes), nodes);
  EXPECT_EQ(Dump(kCheckpoints), checkpoints);
  EXPECT_TRUE(store_->GetTenant("acme")->sealed_key.empty());
}

TEST_F(SqliteArchiveTest, ShreddingLeavesNoTraceOfTheKeyOrCiphertextsInTheFiles) {
  // Recognisable bytes, large enough to live in overflow pages too.
  const std::string key = "TENANT-KEY-MARKER-0123456789";
  std::string big_sealed;
  while (big_sealed.size() < 20000)
    absl::StrAppend(&big_sealed, "CIPHERTEXT-MARKER-", big_sealed.size());
  ASSERT_TRUE(store_->EnsureTenant("acme", key, 1).ok());
  BlobRecord blob = Blob("acme", "big", BlobKind::kEvidence);
  blob.sealed = big_sealed;
  ASSERT_TRUE(store_->PutBlob(blob).ok());
  BlobRecord small = Blob("acme", "small", BlobKind::kDecision);
  small.sealed = "SMALL-CIPHERTEXT-MARKER";
  ASSERT_TRUE(store_->PutBlob(small).ok());
  auto on_disk = [&](absl::string_view marker) {
    return absl::StrContains(FileBytes(db_path_), marker) ||
           absl::StrContains(FileBytes(db_path_ + "-wal"), marker);
  };
  // The markers are on disk before (so this test can see them).
  ASSERT_TRUE(on_disk(key));
  ASSERT_TRUE(on_disk("CIPHERTEXT-MARKER-"));
  ASSERT_TRUE(on_disk("SMALL-CIPHERTEXT-MARKER"));

  db_.reset();  // only the store's own connections stay open
  ASSERT_TRUE(store_->ShredTenant("acme", 500).ok());
  EXPECT_FALSE(on_disk(key));
  EXPECT_FALSE(on_disk("CIPHERTEXT-MARKER-"));
  EXPECT_FALSE(on_disk("SMALL-CIPHERTEXT-MARKER"));
}

}  // namespace
}  // namespace fdattest
