#include "common/json.h"

#include <algorithm>
#include <chrono>
#include <ctime>
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

// A JSON array of n empty objects.
std::string ArrayOfEmptyObjects(int n) {
  std::string text = "[";
  for (int i = 0; i < n; ++i) text += i == 0 ? "{}" : ",{}";
  return text + "]";
}

// CPU time this thread spends in `parse` (not wall time: the test must not
// depend on how busy the machine is).
template <typename F>
double ThreadCpuSeconds(F parse) {
  timespec a{}, b{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  parse();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
  return (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

// Doubling the input about doubles a linear parser's work and quadruples a
// quadratic one's: the ratio of CPU times, best of three, must stay under 3.
template <typename F>
double DoublingRatio(F parse_n) {
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    const double t1 = ThreadCpuSeconds([&] { parse_n(100000); });
    const double t2 = ThreadCpuSeconds([&] { parse_n(200000); });
    if (t1 > 0) best = std::min(best, t2 / t1);
  }
  return best;
}

// The instrument itself: it tells a quadratic loop from a linear one.
TEST(JsonTest, DoublingRatioTellsQuadraticFromLinear) {
  volatile size_t sink = 0;
  const double linear = DoublingRatio([&](int n) {
    std::string s(static_cast<size_t>(n) * 50, 'x');
    for (char c : s) sink = sink + static_cast<size_t>(c);
  });
  const double quadratic = DoublingRatio([&](int n) {
    std::string s(static_cast<size_t>(n), 'x');
    for (int i = 0; i < n / 100; ++i) s.erase(0, 1);  // each erase moves the rest
    sink = sink + s.size();
  });
  EXPECT_LT(linear, 3.0);
  EXPECT_GT(quadratic, 3.0);
}

TEST(JsonTest, StrictParserIsLinearInArrayLength) {
  // nlohmann's callback parser took ~13 s for 200000 (quadratic).
  const double ratio = DoublingRatio([](int n) {
    absl::StatusOr<Json> parsed = ParseJsonStrict(ArrayOfEmptyObjects(n), JsonLimits{.max_bytes = 1 << 22});
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->size(), static_cast<size_t>(n));
  });
  EXPECT_LT(ratio, 3.0);
}

TEST(JsonDocumentTest, IsLinearInArrayLength) {
  const double ratio = DoublingRatio([](int n) {
    absl::StatusOr<JsonDocument> doc = ParseJsonDocument(
        ArrayOfEmptyObjects(n), {.max_bytes = 1 << 22, .max_values = 1 << 20});
    ASSERT_TRUE(doc.ok()) << doc.status();
    EXPECT_EQ(doc->root().size(), static_cast<size_t>(n));
  });
  EXPECT_LT(ratio, 3.0);
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
