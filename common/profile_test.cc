#include "common/profile.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

absl::Status ParseError(const std::string& text) { return Profile::Parse(text).status(); }

TEST(ProfileTest, ParsesTheDocumentedExample) {
  auto p = Profile::Parse(R"({"version":1,"name":"phi-etl","on_violation":"errno","fds":[
    {"fd":0,"role":"phi-input","access":"r","open":"/data/in.csv"},
    {"fd":1,"role":"phi-output","access":"w","inherit":true},
    {"fd":2,"role":"audit-log","access":"a","open":"/var/log/etl.log"},
    {"fd":3,"role":"phi-output","access":"w","connect":"unix:/run/sink.sock"},
    {"fd":4,"role":"null","access":"r","null":true}]})");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->fds.size(), 5u);
  EXPECT_EQ(p->fds[2].access, Access::kAppend);
  EXPECT_EQ(p->fds[3].source, FdSource::kConnect);
  EXPECT_EQ(p->fds[3].target, "unix:/run/sink.sock");
  EXPECT_EQ(p->on_violation, OnViolation::kErrno);
  EXPECT_EQ(p->Sha256Hex().size(), 64u);
}

TEST(ProfileTest, DefaultsToErrnoAndSortsFds) {
  auto p = Profile::Parse(R"({"version":1,"name":"x","fds":[
    {"fd":4,"role":"b","access":"r","null":true},{"fd":1,"role":"a","access":"w","null":true}]})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->on_violation, OnViolation::kErrno);
  EXPECT_EQ(p->fds[0].fd, 1);
}

TEST(ProfileTest, RejectsUnknownKeysNamingThem) {
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[],"extra":1})").message(),
              HasSubstr("unknown key \"extra\""));
  EXPECT_THAT(
      ParseError(R"({"version":1,"name":"x","fds":[{"fd":0,"role":"a","access":"r","null":true,"mode":1}]})")
          .message(),
      HasSubstr("profile.fds[0]: unknown key \"mode\""));
}

TEST(ProfileTest, RejectsWrongTypesAndRanges) {
  EXPECT_THAT(ParseError(R"({"version":"1","name":"x","fds":[]})").message(),
              HasSubstr("\"version\" must be an integer"));
  EXPECT_THAT(ParseError(R"({"version":2,"name":"x","fds":[]})").message(), HasSubstr("version"));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":{}})").message(),
              HasSubstr("\"fds\" must be an array"));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[{"fd":256,"role":"a","access":"r","null":true}]})")
                  .message(),
              HasSubstr("\"fd\" must be between 0 and 255"));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[{"fd":0,"role":"a","access":"x","null":true}]})")
                  .message(),
              HasSubstr("\"access\" must be one of"));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","on_violation":"maybe","fds":[]})").message(),
              HasSubstr("on_violation"));
}

TEST(ProfileTest, RejectsDuplicateFdsAndSourceErrors) {
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[{"fd":1,"role":"a","access":"r","null":true},
      {"fd":1,"role":"b","access":"r","null":true}]})").message(),
              HasSubstr("fd 1 is declared twice"));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[{"fd":1,"role":"a","access":"r"}]})").message(),
              HasSubstr("fd 1 has no source"));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[{"fd":1,"role":"a","access":"r","null":true,"open":"/x"}]})")
                  .message(),
              HasSubstr("2 sources"));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[{"fd":1,"role":"a","access":"a","connect":"unix:/x"}]})")
                  .message(),
              HasSubstr("append-only"));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[{"fd":1,"role":"a","access":"w","connect":"udp:1"}]})")
                  .message(),
              HasSubstr("unix: or tcp:"));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[{"fd":1,"role":"a","access":"w","null":true,"hash":true}]})")
                  .message(),
              HasSubstr("\"hash\" applies only"));
}

TEST(ProfileTest, RejectsMalformedJsonAndDuplicateKeys) {
  EXPECT_THAT(ParseError("{").message(), HasSubstr("malformed JSON"));
  EXPECT_THAT(ParseError(R"({"version":1,"version":1,"name":"x","fds":[]})").message(),
              HasSubstr("duplicate JSON key \"version\""));
  EXPECT_THAT(ParseError("").message(), HasSubstr("malformed JSON"));
}

}  // namespace
}  // namespace fdattest

namespace fdattest {
namespace {

TEST(ProfileLimitsTest, RejectsMoreThanTheMaximumFds) {
  std::string fds;
  for (size_t i = 0; i <= kMaxDeclaredFds; ++i) {
    if (i) fds += ",";
    fds += "{\"fd\":" + std::to_string(i) + ",\"role\":\"x\",\"access\":\"r\",\"null\":true}";
  }
  auto p = Profile::Parse("{\"version\":1,\"name\":\"x\",\"fds\":[" + fds + "]}");
  EXPECT_THAT(p.status().message(), ::testing::HasSubstr("at most 32 fds"));
}

}  // namespace
}  // namespace fdattest
