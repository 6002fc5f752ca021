// Checkpoint text: the exact bytes Text() writes and every rule Parse enforces.
#include "verifier/audit/checkpoint.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

std::string Root(char fill = 'r') { return std::string(32, fill); }

TEST(CheckpointTest, WritesTheThreeLinesAndExtensions) {
  Checkpoint cp{.origin = "example.com/log", .size = 20852163, .root = Root()};
  const std::string b64 = Base64Encode(Root());
  EXPECT_EQ(cp.Text(), absl::StrCat("example.com/log\n20852163\n", b64, "\n"));
  cp.extensions = {"ext one", "ext two"};
  EXPECT_EQ(cp.Text(), absl::StrCat("example.com/log\n20852163\n", b64, "\next one\next two\n"));
  const Checkpoint empty{.origin = "o", .size = 0, .root = Root()};
  EXPECT_EQ(empty.Text(), absl::StrCat("o\n0\n", b64, "\n"));
}

TEST(CheckpointTest, ParsesWhatItWrites) {
  for (const Checkpoint& cp :
       {Checkpoint{.origin = "example.com/log", .size = 0, .root = Root('\0')},
        Checkpoint{.origin = "o", .size = 1, .root = Root(), .extensions = {"a", "b c"}},
        Checkpoint{.origin = "o", .size = UINT64_MAX, .root = Root('\xff')}}) {
    auto parsed = Checkpoint::Parse(cp.Text());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->origin, cp.origin);
    EXPECT_EQ(parsed->size, cp.size);
    EXPECT_EQ(parsed->root, cp.root);
    EXPECT_EQ(parsed->extensions, cp.extensions);
    EXPECT_EQ(parsed->Text(), cp.Text());
  }
}

TEST(CheckpointTest, ParsesThePublishedExample) {
  auto cp = Checkpoint::Parse(
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->size, 20852163u);
  EXPECT_EQ(Base64Encode(cp->root), "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  EXPECT_TRUE(cp->extensions.empty());
}

TEST(CheckpointTest, RefusesEveryMalformedText) {
  const std::string root = Base64Encode(Root());
  const std::string good = absl::StrCat("o\n5\n", root, "\n");
  ASSERT_TRUE(Checkpoint::Parse(good).ok());
  for (const std::string& text : {
           absl::StrCat("o\n05\n", root, "\n"),    // leading zero
           absl::StrCat("o\n00\n", root, "\n"),    // "0" is the only spelling of zero
           absl::StrCat("o\n+5\n", root, "\n"),    // sign
           absl::StrCat("o\n-1\n", root, "\n"),
           absl::StrCat("o\n 5\n", root, "\n"),    // space
           absl::StrCat("o\n5 \n", root, "\n"),
           absl::StrCat("o\n0x5\n", root, "\n"),
           absl::StrCat("o\n\n", root, "\n"),      // empty size
           absl::StrCat("o\n18446744073709551616\n", root, "\n"),  // 2^64
           std::string("o\n5\n"),                   // missing root
           std::string("o\n5\n\n"),                 // empty root
           std::string("o\n5"),                     // no final newline, no root
           absl::StrCat("o\n5\n", root),            // no final newline
           absl::StrCat("o\n5\n", Base64Encode(Root().substr(1)), "\n"),  // 31 bytes
           absl::StrCat("o\n5\n", Base64Encode(Root() + "x"), "\n"),      // 33 bytes
           absl::StrCat("o\n5\n", root.substr(0, root.size() - 1), "\n"), // not base64
           absl::StrCat("o\n5\n", root.substr(0, root.size() - 2), "J=\n"),  // non-canonical
           absl::StrCat("\n5\n", root, "\n"),       // empty origin
           absl::StrCat("o\n5\n", root, "\n\n"),    // empty extension line
           absl::StrCat("o\n5\n", root, "\next\n\n"),
           absl::StrCat("o\n5\n", root, "\n\next\n"),
           absl::StrCat("o\tx\n5\n", root, "\n"),   // control character
           absl::StrCat("o\n5\n", root, "\ne\rx\n"),
           absl::StrCat("\xff\n5\n", root, "\n"),   // not UTF-8
       }) {
    EXPECT_EQ(Checkpoint::Parse(text).status().code(), absl::StatusCode::kInvalidArgument)
        << text;
  }
}

}  // namespace
}  // namespace fdattest
