// Filter proofs and their cache: the fd sets a manifest declares, and a
// FilterProofCache that hands back the proof it already made (the same
// shared list, not a recomputation) for the same filter and fd sets only.
#include "verifier/proof_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "common/manifest.h"
#include "launcher/filter.h"

namespace fdattest {
namespace {

std::string Filter(int exec_fd) {
  absl::StatusOr<std::string> bpf = CompileFilter(
      {.fds = {{0, Access::kRead}, {1, Access::kWrite}, {2, Access::kAppend}}, .exec_fd = exec_fd});
  EXPECT_TRUE(bpf.ok()) << bpf.status();
  return bpf.value_or("");
}

FdSets Sets(int exec_fd) {
  FdSets fds;
  fds.readable = {0};
  fds.writable = {1, 2};
  fds.append = {2};
  fds.exec_fd = exec_fd;
  return fds;
}

TEST(FdSetsOfManifestTest, SortsDeclaredFdsByAccess) {
  Manifest m;
  m.filter.exec_fd = 9;
  for (auto [fd, access] : {std::pair{0, "r"}, std::pair{1, "w"}, std::pair{2, "a"},
                            std::pair{3, "rw"}}) {
    FdFingerprint fp;
    fp.fd = fd;
    fp.access = access;
    m.fds.push_back(fp);
  }
  const FdSets s = FdSetsOfManifest(m);
  EXPECT_EQ(s.readable, (std::set<int>{0, 3}));
  EXPECT_EQ(s.writable, (std::set<int>{1, 2, 3}));
  EXPECT_EQ(s.append, (std::set<int>{2}));
  EXPECT_EQ(s.exec_fd, 9);
  EXPECT_EQ(FdSetsKey(s), "r0,3,w1,2,3,a2,x9");
}

TEST(FilterProofCacheTest, HandsBackTheProofItMadeForTheSameFilterAndFds) {
  FilterProofCache cache;
  const std::string bpf = Filter(7);
  absl::StatusOr<PropertyList> first = cache.Prove(bpf, Sets(7));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_NE(*first, nullptr);
  for (const PropertyResult& p : **first) EXPECT_TRUE(p.holds) << p.id << ": " << p.detail;
  // A hit is the very list the miss made: nothing was proven again.
  absl::StatusOr<PropertyList> again = cache.Prove(std::string(bpf), Sets(7));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), first->get());
  // Without the cache every proof is a new list.
  absl::StatusOr<PropertyList> uncached = ProveFilterShared(bpf, Sets(7));
  ASSERT_TRUE(uncached.ok());
  EXPECT_NE(uncached->get(), first->get());
  EXPECT_EQ(uncached->get()->size(), first->get()->size());
}

TEST(FilterProofCacheTest, AnotherFilterOrOtherFdsAreProvenAfresh) {
  FilterProofCache cache;
  const std::string bpf = Filter(7);
  absl::StatusOr<PropertyList> first = cache.Prove(bpf, Sets(7));
  ASSERT_TRUE(first.ok());
  // The same bytes judged for other fd sets: fd 1 claimed read-only fails.
  FdSets claimed = Sets(7);
  claimed.writable = {2};
  absl::StatusOr<PropertyList> other_fds = cache.Prove(bpf, claimed);
  ASSERT_TRUE(other_fds.ok());
  EXPECT_NE(other_fds->get(), first->get());
  bool some_fail = false;
  for (const PropertyResult& p : **other_fds) some_fail |= !p.holds;
  EXPECT_TRUE(some_fail) << "fd 1 is writable through this filter";
  absl::StatusOr<PropertyList> other_filter = cache.Prove(Filter(8), Sets(8));
  ASSERT_TRUE(other_filter.ok());
  EXPECT_NE(other_filter->get(), first->get());
}

TEST(FilterProofCacheTest, RemembersThatBytesCannotBeProven) {
  FilterProofCache cache;
  absl::StatusOr<PropertyList> bad = cache.Prove("not a BPF program", Sets(7));
  EXPECT_FALSE(bad.ok());
  absl::StatusOr<PropertyList> again = cache.Prove("not a BPF program", Sets(7));
  EXPECT_EQ(again.status(), bad.status());
}

TEST(FilterProofCacheTest, IsBounded) {
  FilterProofCache cache(/*max_entries=*/1);
  const std::string bpf = Filter(7);
  absl::StatusOr<PropertyList> first = cache.Prove(bpf, Sets(7));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(cache.Prove(Filter(8), Sets(8)).ok());  // evicts the first
  absl::StatusOr<PropertyList> again = cache.Prove(bpf, Sets(7));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->get(), first->get()) << "a cache of one entry kept two";
}

}  // namespace
}  // namespace fdattest
