// The committed filters of other programs (tests/analyzer/foreign/README.md)
// are what their records say: each NAME.bpf has the size and SHA-256 of its
// NAME.json and of the README's table, and the project's reader decodes it.
#include <filesystem>
#include <string>
#include <vector>

#include "common/bpf.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/sha256.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

std::vector<std::filesystem::path> ForeignFilters() {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(FOREIGN_FILTER_DIR)) {
    if (entry.path().extension() == ".bpf") out.push_back(entry.path());
  }
  return out;
}

TEST(ForeignFiltersTest, EveryFilterMatchesItsRecordAndDecodes) {
  std::vector<std::filesystem::path> filters = ForeignFilters();
  ASSERT_GE(filters.size(), 4u) << "the dumps of dump.sh are missing from " << FOREIGN_FILTER_DIR;
  auto readme = ReadFileLimited(std::string(FOREIGN_FILTER_DIR) + "/README.md", 1 << 20);
  ASSERT_TRUE(readme.ok()) << readme.status();
  for (const std::filesystem::path& path : filters) {
    SCOPED_TRACE(path.filename().string());
    auto bytes = ReadFileLimited(path.string(), 1 << 20);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    std::filesystem::path record_path = path;
    record_path.replace_extension(".json");
    auto record_text = ReadFileLimited(record_path.string(), 1 << 20);
    ASSERT_TRUE(record_text.ok()) << record_text.status();
    auto record = ParseJsonStrict(*record_text);
    ASSERT_TRUE(record.ok()) << record.status();

    std::string digest = HexEncode(Sha256(*bytes));
    EXPECT_EQ((*record)["name"], path.filename().string());
    EXPECT_EQ((*record)["sha256"], digest);
    EXPECT_EQ((*record)["instructions"], bytes->size() / 8);
    EXPECT_NE(readme->find("| " + path.filename().string() + " |"), std::string::npos);
    EXPECT_NE(readme->find("`" + digest + "`"), std::string::npos)
        << "README.md does not list this digest";
    for (const char* key : {"program", "package", "version", "date", "command", "first_seen"}) {
      EXPECT_TRUE(record->contains(key)) << "record lacks " << key;
    }
    auto program = BpfProgram::Decode(*bytes);
    ASSERT_TRUE(program.ok()) << program.status();
    EXPECT_EQ(program->insns().size(), bytes->size() / 8);
  }
}

}  // namespace
}  // namespace fdattest
