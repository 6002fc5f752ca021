#include "common/json.h"

#include <chrono>
#include <string>
#include <vector>

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

namespace fdattest {
namespace {

// ParseJsonStrict builds its document from SAX events itself. Against
// nlohmann's own parser as the oracle it must accept exactly the same texts
// (barring duplicate keys and excess depth, which only the strict parser
// refuses) and give the same values.
TEST(JsonTest, StrictParserAgreesWithNlohmannOnAcceptedTexts) {
  const std::vector<std::string> texts = {
      "{}", "[]", "0", "-1", "18446744073709551615", "18446744073709551616", "-9223372036854775808",
      "1.5", "-0", "1e3", "\"\"", "\"a\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\/\"", "true", "false",
      "null", " {\"a\" : [1, 2, {\"b\": null}] } ", "[[[[]]]]", "{\"a\":{\"b\":{\"c\":[true]}}}",
      "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\"}", "\"\\ud800\"", "\"\xff\"", "\"\xc3\xa9\"",
      "01", "+1", ".5", "1.", "[1]x", "", " ", "nul", "\"unterminated", "{\"a\":1}{}",
      std::string("[1]\0", 4), std::string("\"a\0b\"", 5), "[\"\\u0000\"]", "1 ",
      "{\"b\":1,\"a\":2}", "[1e400]", "-", "--1", "[-]", "\"\\x\"", "\t[\r\n]\n",
  };
  for (const std::string& text : texts) {
    absl::StatusOr<Json> strict = ParseJsonStrict(text);
    Json oracle = Json::parse(text, nullptr, /*allow_exceptions=*/false);  // banned-ok: test oracle
    EXPECT_EQ(strict.ok(), !oracle.is_discarded()) << "text: " << text << " strict: "
                                                   << strict.status();
    if (strict.ok() && !oracle.is_discarded()) {
      EXPECT_EQ(*strict, oracle) << "text: " << text;
    }
  }
}

TEST(JsonTest, StrictParserIsLinearInArrayLength) {
  std::string text = "[";
  for (int i = 0; i < 200000; ++i) text += i == 0 ? "{}" : ",{}";
  text += "]";
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Json> parsed = ParseJsonStrict(text, JsonLimits{.max_bytes = 1 << 22});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->size(), 200000u);
  // nlohmann's callback parser took ~13 s for this (quadratic); linear is ms.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

}  // namespace
}  // namespace fdattest
