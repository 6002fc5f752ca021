#include "common/json.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

TEST(JsonTest, CanonicalFormSortsKeysWithoutWhitespace) {
  auto j = ParseJsonStrict(R"({ "b": [1, 2], "a": {"z": true, "y": "s"} })");
  ASSERT_TRUE(j.ok());
  auto c = CanonicalJson(*j);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, R"({"a":{"y":"s","z":true},"b":[1,2]})");
}

TEST(JsonTest, CanonicalFormRejectsFloats) {
  Json j = {{"x", 1.5}};
  EXPECT_FALSE(CanonicalJson(j).ok());
}

TEST(JsonTest, RejectsDuplicateKeysAtAnyDepth) {
  EXPECT_THAT(ParseJsonStrict(R"({"a":1,"a":2})").status().message(), HasSubstr("duplicate"));
  EXPECT_THAT(ParseJsonStrict(R"({"a":{"b":1,"b":1}})").status().message(), HasSubstr("duplicate"));
  // The same key in sibling objects is fine.
  EXPECT_TRUE(ParseJsonStrict(R"([{"a":1},{"a":2}])").ok());
}

TEST(JsonTest, EnforcesSizeAndDepthLimits) {
  EXPECT_FALSE(ParseJsonStrict(std::string(100, ' ') + "1", {.max_bytes = 50}).ok());
  std::string deep(40, '[');
  deep += std::string(40, ']');
  EXPECT_THAT(ParseJsonStrict(deep, {.max_depth = 32}).status().message(), HasSubstr("nesting"));
  EXPECT_TRUE(ParseJsonStrict(deep, {.max_depth = 64}).ok());
}

TEST(JsonTest, RejectsMalformedInput) {
  EXPECT_FALSE(ParseJsonStrict("{\"a\":}").ok());
  EXPECT_FALSE(ParseJsonStrict("[1,2").ok());
  EXPECT_FALSE(ParseJsonStrict("{\"a\":1} trailing").ok());
  EXPECT_FALSE(ParseJsonStrict("\"\xff\"").ok());
}

TEST(JsonFieldsTest, ReportsFirstErrorAndUnknownKeys) {
  Json j = {{"a", "x"}, {"b", 5}, {"c", true}};
  {
    JsonFields f(j, "obj");
    EXPECT_EQ(f.String("a", true), "x");
    EXPECT_EQ(f.Int("b", true, 0, 10), 5);
    EXPECT_THAT(f.Finish().message(), HasSubstr("obj: unknown key \"c\""));
  }
  {
    JsonFields f(j, "obj");
    f.Int("a", true, 0, 10);
    f.Bool("c", true);
    f.String("b", true);
    EXPECT_THAT(f.Finish().message(), HasSubstr("\"a\" must be an integer"));
  }
  {
    JsonFields f(j, "obj");
    f.String("missing", true);
    EXPECT_THAT(f.Finish().message(), HasSubstr("missing required key \"missing\""));
  }
  {
    JsonFields f(Json::array(), "arr");
    EXPECT_THAT(f.Finish().message(), HasSubstr("must be a JSON object"));
  }
}

}  // namespace
}  // namespace fdattest
