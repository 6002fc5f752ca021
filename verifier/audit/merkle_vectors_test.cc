// Every RFC 6962 / RFC 9162 proof vector of transparency-dev/merkle (kept
// beside the repository, see FDATTEST_MERKLE_VECTORS_DIR in
// tests/CMakeLists.txt) passes or fails exactly as its wantErr says. A
// missing or incomplete vector folder fails the test: it is the external
// oracle, not an optional extra.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/base64.h"
#include "common/file_io.h"
#include "common/json.h"
#include "verifier/audit/merkle.h"

namespace fdattest {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = FDATTEST_MERKLE_VECTORS_DIR;

std::string ReadAll(const fs::path& p) {
  absl::StatusOr<std::string> text = ReadFileLimited(p.string(), 1 << 20);
  EXPECT_TRUE(text.ok()) << p << ": " << text.status();
  return text.ok() ? *text : std::string();
}

std::string B64(const Json& v, const std::string& what) {
  EXPECT_TRUE(v.is_string()) << what;
  if (!v.is_string()) return "";
  absl::StatusOr<std::string> bytes = Base64Decode(v.get<std::string>());
  EXPECT_TRUE(bytes.ok()) << what << ": " << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

std::vector<std::string> Proof(const Json& v) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  EXPECT_TRUE(v.is_array());
  for (const Json& e : v) out.push_back(B64(e, "proof element"));
  return out;
}

// The RFC 6962 reference tree (the vectors' happy paths are proofs in it):
// its node hashes, so generation can be compared with the vectors' proofs.
class ReferenceTree : public MerkleNodeReader {
 public:
  ReferenceTree() {
    const char* leaves[] = {"",
                            "\x00",
                            "\x10",
                            "\x20\x21",
                            "\x30\x31",
                            "\x40\x41\x42\x43",
                            "\x50\x51\x52\x53\x54\x55\x56\x57",
                            "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
    const size_t lengths[] = {0, 1, 1, 2, 2, 4, 8, 16};
    for (int i = 0; i < 8; ++i) {
      for (const auto& [id, h] : appender_.Append(MerkleLeafHash({leaves[i], lengths[i]}))) {
        nodes_[{id.level, id.index}] = h;
      }
    }
  }
  absl::Status ReadNodes(absl::Span<const MerkleNodeId> ids,
                         std::vector<MerkleHash>* out) override {
    out->clear();
    for (const MerkleNodeId& id : ids) {
      auto it = nodes_.find({id.level, id.index});
      if (it == nodes_.end()) return absl::NotFoundError("beyond the reference tree");
      out->push_back(it->second);
    }
    return absl::OkStatus();
  }

 private:
  MerkleAppender appender_;
  std::map<std::pair<int, uint64_t>, MerkleHash> nodes_;
};

std::vector<std::string> Bytes(const std::vector<MerkleHash>& v) {
  std::vector<std::string> out;
  for (const MerkleHash& h : v) out.emplace_back(h.begin(), h.end());
  return out;
}

TEST(MerkleVectorsTest, EveryVectorPassesOrFailsAsItSays) {
  ASSERT_TRUE(fs::is_directory(kDir)) << "Merkle vectors missing: " << kDir;
  for (const char* sub :
       {"inclusion/0", "inclusion/1", "inclusion/2", "inclusion/3", "inclusion/4",
        "inclusion/additional", "inclusion/single-entry", "consistency/0", "consistency/1",
        "consistency/2", "consistency/3", "consistency/4", "consistency/additional"}) {
    ASSERT_TRUE(fs::is_directory(kDir / sub)) << "vector folder missing: " << (kDir / sub);
  }
  ReferenceTree reference;
  int files = 0, inclusion = 0, consistency = 0, want_ok = 0, want_err = 0, generated = 0;
  std::set<std::string> dirs;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(kDir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    ++files;
    const std::string rel = fs::relative(entry.path(), kDir).string();
    dirs.insert(fs::relative(entry.path().parent_path(), kDir).string());
    absl::StatusOr<Json> v = ParseJsonStrict(ReadAll(entry.path()));
    ASSERT_TRUE(v.ok()) << rel << ": " << v.status();
    ASSERT_TRUE((*v)["wantErr"].is_boolean()) << rel;
    const bool want_error = (*v)["wantErr"].get<bool>();
    (want_error ? want_err : want_ok)++;
    absl::Status got;
    if (rel.rfind("inclusion/", 0) == 0) {
      ++inclusion;
      const uint64_t index = (*v)["leafIdx"].get<uint64_t>();
      const uint64_t size = (*v)["treeSize"].get<uint64_t>();
      const std::vector<std::string> proof = Proof((*v)["proof"]);
      const std::string root = B64((*v)["root"], rel + " root");
      got =
          VerifyMerkleInclusion(index, size, B64((*v)["leafHash"], rel + " leafHash"), proof, root);
      absl::StatusOr<MerkleHash> ref_root = MerkleRoot(reference, size);
      if (!want_error && ref_root.ok() && std::string(ref_root->begin(), ref_root->end()) == root) {
        absl::StatusOr<std::vector<MerkleHash>> mine = MerkleInclusionProof(reference, index, size);
        ASSERT_TRUE(mine.ok()) << rel << ": " << mine.status();
        EXPECT_EQ(Bytes(*mine), proof) << rel << ": generated proof differs";
        ++generated;
      }
    } else {
      ASSERT_EQ(rel.rfind("consistency/", 0), 0u) << rel;
      ++consistency;
      const uint64_t size1 = (*v)["size1"].get<uint64_t>();
      const uint64_t size2 = (*v)["size2"].get<uint64_t>();
      const std::vector<std::string> proof = Proof((*v)["proof"]);
      const std::string root2 = B64((*v)["root2"], rel + " root2");
      got = VerifyMerkleConsistency(size1, size2, B64((*v)["root1"], rel + " root1"), root2, proof);
      absl::StatusOr<MerkleHash> ref_root = MerkleRoot(reference, size2);
      if (!want_error && size1 > 0 && ref_root.ok() &&
          std::string(ref_root->begin(), ref_root->end()) == root2) {
        absl::StatusOr<std::vector<MerkleHash>> mine =
            MerkleConsistencyProof(reference, size1, size2);
        ASSERT_TRUE(mine.ok()) << rel << ": " << mine.status();
        EXPECT_EQ(Bytes(*mine), proof) << rel << ": generated proof differs";
        ++generated;
      }
    }
    EXPECT_EQ(!got.ok(), want_error) << rel << " (" << (*v)["desc"].get<std::string>()
                                     << "): wantErr " << want_error << ", got " << got;
  }
  EXPECT_GE(files, 196) << "the vector folder is incomplete";
  EXPECT_GT(inclusion, 0);
  EXPECT_GT(consistency, 0);
  EXPECT_GT(want_ok, 0);
  EXPECT_GT(want_err, 0);
  // The happy paths of folders 0-4 are proofs in the reference tree.
  EXPECT_GE(generated, 10);
  EXPECT_GE(dirs.size(), 13u);
}

}  // namespace
}  // namespace fdattest
