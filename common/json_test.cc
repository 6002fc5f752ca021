#include "common/json.h"

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/json_oracle.h"

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
    f.String("a", true);
    f.Int("b", true, 0, 10);
    f.Bool("c", true);
    f.String("missing", true);
    EXPECT_THAT(f.Finish().message(), HasSubstr("missing required key \"missing\""));
  }
  {
    JsonFields f(Json::array(), "arr");
    EXPECT_THAT(f.Finish().message(), HasSubstr("must be a JSON object"));
  }
}

TEST(JsonFieldsTest, ReportsUnknownKeysBeforeAnyOtherErrorWithTheKeyTheyResemble) {
  // "acess" is a misspelt "access": reported as the unknown key it is, not
  // as a missing "access", and the hint names the absent key it resembles.
  Json j = {{"acess", "r"}, {"fd", "not a number"}};
  JsonFields f(j, "profile.fds[0]");
  f.Int("fd", true, 0, 255);
  f.String("access", true);
  f.String("role", true);
  EXPECT_EQ(f.Finish().message(),
            "profile.fds[0]: unknown key \"acess\" (did you mean \"access\"?)");
  // No hint for a key that resembles nothing asked for, nor for a present one.
  Json k = {{"access", "r"}, {"acces", "r"}, {"zzzzzz", 1}};
  JsonFields g(k, "obj");
  g.String("access", true);
  EXPECT_EQ(g.Finish().message(), "obj: unknown key \"acces\"");
  const Json z = {{"zzzzzz", 1}};
  JsonFields h(z, "obj");
  h.String("access", false);
  EXPECT_EQ(h.Finish().message(), "obj: unknown key \"zzzzzz\"");
}

TEST(JsonTest, SyntaxErrorsGiveLineAndColumn) {
  // Column counts characters: "é" is two bytes, one column.
  const std::string text = "{\n  \"a\": 1,\n  \"\xc3\xa9\": [1, 2,, 3]\n}";
  absl::StatusOr<Json> strict = ParseJsonStrict(text);
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(std::string(strict.status().message()), HasSubstr("malformed JSON: "));
  EXPECT_THAT(std::string(strict.status().message()), HasSubstr("at line 3, column 14 (byte 26)"));
  absl::StatusOr<JsonDocument> doc = ParseJsonDocument(text);
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(std::string(doc.status().message()), HasSubstr("malformed JSON: "));
  EXPECT_THAT(std::string(doc.status().message()), HasSubstr("at line 3, column 14 (byte 26)"));
  // The end of the input, and a NUL byte.
  EXPECT_THAT(std::string(ParseJsonStrict("{\"a\":\n").status().message()),
              HasSubstr("at line 2, column 1 (byte 6)"));
  EXPECT_THAT(std::string(ParseJsonDocument("{\"a\":\n").status().message()),
              HasSubstr("at line 2, column 1 (byte 6)"));
  EXPECT_THAT(std::string(ParseJsonStrict(absl::string_view("[1,\n\0]", 5)).status().message()),
              HasSubstr("NUL byte at line 2, column 1 (byte 4)"));
}

}  // namespace
}  // namespace fdattest

namespace fdattest {
namespace {

// ParseJsonStrict builds its document from SAX events itself. Against
// nlohmann's own parser as the oracle it must accept exactly the same texts
// (barring duplicate keys, excess depth and raw NUL bytes, which only the
// strict parser refuses) and give the same values.
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
    if (text.find('\0') != std::string::npos) {
      // nlohmann takes a NUL byte for the end of input; JSON has no raw NUL.
      EXPECT_FALSE(strict.ok()) << "text: " << text;
      continue;
    }
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

namespace fdattest {
namespace {

// --- JsonDocument: the reader of hashed documents ---------------------------

const std::vector<std::string>& OracleTexts() {
  static const std::vector<std::string> texts = {
      "{}", "[]", "0", "-1", "18446744073709551615", "18446744073709551616",
      "-9223372036854775808", "-9223372036854775809", "1.5", "-0", "-0.0", "1e3", "1E+3",
      "1e400", "-1e400", "1e-400", "\"\"", "\"a\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\/\"",
      "\"\\u001f\"", "\"\\u001F\"", "\"\\u0041\"", "\"\\u0008\"", "\"\\b\\f\\n\\r\\t\"",
      "\"\x7f\"", "true", "false", "null", " {\"a\" : [1, 2, {\"b\": null}] } ",
      "[[[[]]]]", "{\"a\":{\"b\":{\"c\":[true]}}}", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\"}",
      "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\xff\"", "\"\xc3\xa9\"",
      "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xef\xbf\xbf\"", "01",
      "+1", ".5", "1.", "1e", "[1]x", "", " ", "nul", "tru", "\"unterminated", "{\"a\":1}{}",
      std::string("[1]\0", 4), std::string("\"a\0b\"", 5), "[\"\\u0000\"]", "1 ", "\n1",
      "{\"b\":1,\"a\":2}", "{\"a\":2,\"b\":1}", "{\"a\":1,\"a\":1}", "{\"b\":1,\"a\":2,\"b\":3}",
      "{\"\xc3\xa9\":1,\"z\":2}", "{\"z\":1,\"\xc3\xa9\":2}", "[1e400]", "-", "--1", "[-]",
      "\"\\x\"", "\t[\r\n]\n", "\xef\xbb\xbf{}", "{\"a\":[1,{\"c\":2, \"b\":1}],\"b\":\"x\"}",
      "[\"\\/\"]", "{\"\\u0061\":1}", "{\"a\":1,\"\\u0061\":2}",
  };
  return texts;
}

TEST(JsonDocumentTest, AgreesWithNlohmannAndCanonicalJson) {
  for (const std::string& text : OracleTexts()) {
    EXPECT_EQ(CompareJsonDocumentWithOracle(text), "") << "text: " << text;
  }
}

TEST(JsonDocumentTest, CanonicalTextsAreRecognisedAsSuch) {
  Json v = {{"b", {1, -2, "x\n\x01\"\\/é"}}, {"a", {{"z", true}, {"y", nullptr}}},
            {"c", uint64_t{18446744073709551615u}}};
  const std::string text = *CanonicalJson(v);
  absl::StatusOr<JsonDocument> doc = ParseJsonDocument(text);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_TRUE(doc->canonical());
  const JsonValue* b = doc->root().find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ((*b)[2].str(), "x\n\x01\"\\/é");
  EXPECT_EQ((*b)[1].int64(), -2);
  EXPECT_EQ(doc->root().find("c")->uint64(), 18446744073709551615u);
  // Re-formatted, the same value is not canonical.
  absl::StatusOr<JsonDocument> pretty = ParseJsonDocument(v.dump(2));
  ASSERT_TRUE(pretty.ok());
  EXPECT_FALSE(pretty->canonical());
}

TEST(JsonDocumentTest, KeepsObjectsSortedForLookups) {
  // Out of order and larger than the linear-search size: sorted, found.
  std::string text = "{";
  for (int i = 40; i >= 0; --i) absl::StrAppend(&text, i == 40 ? "" : ",", "\"k", i, "\":", i);
  text += "}";
  absl::StatusOr<JsonDocument> doc = ParseJsonDocument(text);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_FALSE(doc->canonical());
  const JsonValue& root = doc->root();
  ASSERT_EQ(root.size(), 41u);
  for (size_t i = 1; i < root.size(); ++i) EXPECT_LT(root.key(i - 1), root.key(i));
  for (int i = 0; i <= 40; ++i) {
    const JsonValue* v = root.find(absl::StrCat("k", i));
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(v->uint64(), static_cast<uint64_t>(i));
  }
  EXPECT_EQ(root.find("k41"), nullptr);
  EXPECT_EQ(root.find(""), nullptr);
  EXPECT_THAT(ParseJsonDocument(absl::StrCat(text.substr(0, text.size() - 1), ",\"k7\":0}"))
                  .status()
                  .message(),
              HasSubstr("duplicate JSON key \"k7\""));
}

TEST(JsonDocumentTest, EnforcesItsLimits) {
  EXPECT_THAT(ParseJsonDocument(std::string(100, ' ') + "1", {.max_bytes = 50}).status().message(),
              HasSubstr("limit is 50"));
  std::string deep(40, '[');
  deep += std::string(40, ']');
  EXPECT_THAT(ParseJsonDocument(deep, {.max_depth = 32}).status().message(),
              HasSubstr("JSON nesting deeper than 32"));
  EXPECT_TRUE(ParseJsonDocument(deep, {.max_depth = 64}).ok());
  EXPECT_THAT(ParseJsonDocument("[1,2,3,4]", {.max_values = 4}).status().message(),
              HasSubstr("more than 4 values"));
  EXPECT_TRUE(ParseJsonDocument("[1,2,3]", {.max_values = 4}).ok());
  // The same bound for the nlohmann reader.
  EXPECT_THAT(ParseJsonStrict("[1,2,3,4]", {.max_values = 4}).status().message(),
              HasSubstr("more than 4 values"));
  EXPECT_TRUE(ParseJsonStrict("[1,2,3]", {.max_values = 4}).ok());
}

TEST(JsonDocumentTest, IsLinearInArrayLength) {
  std::string text = "[";
  for (int i = 0; i < 200000; ++i) text += i == 0 ? "{}" : ",{}";
  text += "]";
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<JsonDocument> doc =
      ParseJsonDocument(text, {.max_bytes = 1 << 22, .max_values = 1 << 20});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->root().size(), 200000u);
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(JsonDocumentTest, FieldsReadLikeJsonFields) {
  absl::StatusOr<JsonDocument> doc = ParseJsonDocument(R"({"a":"x","b":5,"c":true,"d":-1})");
  ASSERT_TRUE(doc.ok());
  {
    JsonValueFields f(doc->root(), "obj");
    EXPECT_EQ(f.String("a", true), "x");
    EXPECT_EQ(f.StringView("a", true), "x");
    EXPECT_EQ(f.Int("b", true, 0, 10), 5);
    EXPECT_EQ(f.Bool("c", true), true);
    EXPECT_THAT(f.Finish().message(), HasSubstr("obj: unknown key \"d\""));
  }
  // With every key asked for, the first error is the one reported.
  {
    JsonValueFields f(doc->root(), "obj");
    f.Uint("d", true, 10);
    f.String("a", true);
    f.Int("b", true, 0, 10);
    f.Bool("c", true);
    EXPECT_THAT(f.Finish().message(), HasSubstr("\"d\" must be a non-negative integer"));
  }
  {
    JsonValueFields f(doc->root(), "obj");
    f.Int("a", true, 0, 10);
    f.Int("b", true, 0, 10);
    f.Bool("c", true);
    f.Int("d", true, -1, 0);
    EXPECT_THAT(f.Finish().message(), HasSubstr("\"a\" must be an integer"));
  }
  {
    JsonValueFields f(doc->root(), "obj");
    f.String("missing", true);
    f.String("a", true);
    f.Int("b", true, 0, 10);
    f.Bool("c", true);
    f.Int("d", true, -1, 0);
    EXPECT_THAT(f.Finish().message(), HasSubstr("missing required key \"missing\""));
  }
  {
    // An unknown key comes before the first error, with the hint.
    JsonValueFields f(doc->root(), "obj");
    f.Int("a", true, 0, 10);  // a type error
    f.String("bb", true);     // absent: "b" is a deletion away
    f.Bool("c", true);
    f.Int("d", true, -1, 0);
    EXPECT_EQ(f.Finish().message(), "obj: unknown key \"b\" (did you mean \"bb\"?)");
  }
  {
    JsonValueFields f(doc->root().find("a") != nullptr ? *doc->root().find("a") : doc->root(), "s");
    EXPECT_THAT(f.Finish().message(), HasSubstr("must be a JSON object"));
  }
  // More members than the reader's bit set holds.
  std::string big = "{";
  for (int i = 0; i < 70; ++i) absl::StrAppend(&big, i ? "," : "", "\"k", 100 + i, "\":0");
  big += "}";
  absl::StatusOr<JsonDocument> many = ParseJsonDocument(big);
  ASSERT_TRUE(many.ok());
  JsonValueFields f(many->root(), "many");
  for (int i = 0; i < 70; ++i) {
    if (i != 65) f.Int(absl::StrCat("k", 100 + i), true, 0, 0);
  }
  EXPECT_THAT(f.Finish().message(), HasSubstr("unknown key \"k165\""));
}

}  // namespace
}  // namespace fdattest
