#include "common/profile.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/file_io.h"
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

TEST(ProfileTest, WellKnownRolesImplyTheirClass) {
  auto p = Profile::Parse(R"({"version":1,"name":"x","fds":[
    {"fd":0,"role":"phi-input","access":"r","null":true},
    {"fd":1,"role":"phi-output","access":"w","null":true},
    {"fd":2,"role":"audit-log","access":"a","null":true},
    {"fd":3,"role":"audit","access":"w","connect":"unix:/run/log.sock"},
    {"fd":4,"role":"scratch","access":"rw","null":true},
    {"fd":5,"role":"trail","class":"audit","access":"a","null":true}]})");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->fds[0].fd_class, FdClass::kPhiInput);
  EXPECT_EQ(p->fds[1].fd_class, FdClass::kPhiOutput);
  EXPECT_EQ(p->fds[2].fd_class, FdClass::kAudit);
  EXPECT_EQ(p->fds[3].fd_class, FdClass::kAudit);
  EXPECT_EQ(p->fds[4].fd_class, FdClass::kControl);
  EXPECT_EQ(p->fds[5].fd_class, FdClass::kAudit);
}

std::string OneFd(const std::string& entry) {
  return R"({"version":1,"name":"x","fds":[)" + entry + "]}";
}

TEST(ProfileTest, RefusesAnAuditLogThatCouldBeTruncatedOrRead) {
  EXPECT_EQ(ParseError(OneFd(R"({"fd":2,"role":"audit-log","access":"w","open":"/var/log/a.log"})"))
                .message(),
            "profile.fds[0]: fd 2 (role \"audit-log\", class audit): \"access\" must be \"a\": "
            "an audit log is append-only (\"w\" would truncate it) (got \"w\")");
  for (const char* access : {"r", "rw"}) {
    EXPECT_THAT(ParseError(OneFd(absl::StrCat(R"({"fd":2,"role":"audit","access":")", access,
                                              R"(","inherit":true})")))
                    .message(),
                HasSubstr("\"access\" must be \"a\": an audit log is append-only"));
  }
  // The class follows an explicit "class" on a role of any name.
  EXPECT_THAT(ParseError(OneFd(R"({"fd":2,"role":"trail","class":"audit","access":"w","null":true})"))
                  .message(),
              HasSubstr("fd 2 (role \"trail\", class audit)"));
  // A socket to a log forwarder is written, never read.
  EXPECT_THAT(ParseError(OneFd(R"({"fd":3,"role":"audit-log","access":"rw","connect":"unix:/l.sock"})"))
                  .message(),
              HasSubstr("must be \"w\" on a socket"));
}

TEST(ProfileTest, RefusesAWritablePhiInputAndAReadOnlyPhiOutput) {
  for (const char* access : {"w", "rw", "a"}) {
    EXPECT_THAT(ParseError(OneFd(absl::StrCat(R"({"fd":0,"role":"phi-input","access":")", access,
                                              R"(","open":"/data/in.csv"})")))
                    .message(),
                HasSubstr("fd 0 (role \"phi-input\", class phi_input): \"access\" must be \"r\": "
                          "a PHI input is read-only"));
  }
  EXPECT_THAT(ParseError(OneFd(R"({"fd":1,"role":"phi_output","access":"r","null":true})")).message(),
              HasSubstr("class phi_output): \"access\" must be \"w\", \"a\" or \"rw\""));
}

TEST(ProfileTest, AClassThatContradictsAWellKnownRoleIsAnError) {
  EXPECT_THAT(
      ParseError(OneFd(R"({"fd":2,"role":"audit-log","class":"control","access":"w","null":true})"))
          .message(),
      HasSubstr("fd 2: role \"audit-log\" is of class audit; \"class\": \"control\" contradicts it"));
  // Stating the class a role already has is fine.
  EXPECT_TRUE(Profile::Parse(OneFd(R"({"fd":0,"role":"phi-input","class":"phi_input","access":"r","null":true})"))
                  .ok());
  EXPECT_THAT(
      ParseError(OneFd(R"({"fd":0,"role":"x","class":"confidential","access":"r","null":true})"))
          .message(),
      HasSubstr("\"class\" must be one of phi_input, phi_output, audit, control, secret (got "
                "\"confidential\")"));
  // "secret" is a class now, but only for the secret source.
  EXPECT_THAT(ParseError(OneFd(R"({"fd":0,"role":"x","class":"secret","access":"r","null":true})"))
                  .message(),
              HasSubstr("class secret needs the \"secret\" source"));
}

TEST(ProfileTest, ARoleThatLooksProtectedMustStateItsClass) {
  for (const char* role : {"audit-trail", "PHI-extract", "phi-in", "auditlog", "job.audit"}) {
    EXPECT_THAT(ParseError(OneFd(absl::StrCat(R"({"fd":1,"role":")", role,
                                              R"(","access":"w","null":true})")))
                    .message(),
                HasSubstr("looks like a protected role but is not a well-known one"))
        << role;
  }
  EXPECT_TRUE(Profile::Parse(OneFd(R"({"fd":1,"role":"audit-trail","class":"audit","access":"a","null":true})")).ok());
  // "phi" only as a word of its own.
  EXPECT_TRUE(Profile::Parse(OneFd(R"({"fd":1,"role":"graphics-out","access":"w","null":true})")).ok());
  EXPECT_TRUE(Profile::Parse(OneFd(R"({"fd":1,"role":"audit-reader","class":"control","access":"r","null":true})")).ok());
}

TEST(ProfileTest, RefusesRelativePathsSayingWhy) {
  for (const char* path : {"out.gz", "./out.gz", "../data/out.gz", "data/out.gz"}) {
    EXPECT_THAT(ParseError(OneFd(absl::StrCat(R"({"fd":1,"role":"phi-output","access":"w","open":")",
                                              path, R"("})")))
                    .message(),
                HasSubstr(absl::StrCat("fd 1: \"open\" path \"", path,
                                       "\" is relative; give an absolute path")))
        << path;
  }
  EXPECT_THAT(ParseError(OneFd(R"({"fd":3,"role":"sink","access":"w","connect":"unix:run/s.sock"})"))
                  .message(),
              HasSubstr("fd 3: \"connect\" path \"run/s.sock\" is relative"));
  EXPECT_THAT(ParseError(OneFd(R"({"fd":3,"role":"sink","access":"w","connect":"unix:run/s.sock"})"))
                  .message(),
              HasSubstr("could not tell an auditor which file it named"));
}

TEST(ProfileTest, TheExampleProfileIsValidOnceItsDirectoryIsFilledIn) {
  absl::StatusOr<std::string> text =
      ReadFileLimited(FDATTEST_SOURCE_DIR "/examples/profiles/phi-checksum.json", 64 * 1024);
  ASSERT_TRUE(text.ok()) << text.status();
  // As a template it is refused, saying why.
  EXPECT_THAT(std::string(Profile::Parse(*text).status().message()),
              HasSubstr("template placeholder that was not filled in"));
  auto p = Profile::Parse(absl::StrReplaceAll(*text, {{"@DIR@", "/srv/phi"}}));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->fds.size(), 3u);
  EXPECT_EQ(p->fds[0].fd_class, FdClass::kPhiInput);
  EXPECT_EQ(p->fds[1].fd_class, FdClass::kPhiOutput);
  EXPECT_EQ(p->fds[2].fd_class, FdClass::kAudit);
  EXPECT_EQ(p->fds[2].target, "/srv/phi/audit.log");
}

// The mistakes a newcomer makes first, each named by key or fd.
TEST(ProfileTest, NewcomerMistakesAreNamed) {
  EXPECT_EQ(ParseError(OneFd(R"({"fd":0,"role":"phi-input","acess":"r","open":"/data/in.csv"})"))
                .message(),
            "profile.fds[0]: unknown key \"acess\" (did you mean \"access\"?)");
  // Reported first, whatever else is wrong with the entry.
  EXPECT_THAT(ParseError(OneFd(R"({"fd":"zero","role":"phi-input","acess":"r"})")).message(),
              HasSubstr("unknown key \"acess\""));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fsd":[]})").message(),
              HasSubstr("profile: unknown key \"fsd\" (did you mean \"fds\"?)"));
  EXPECT_THAT(ParseError(OneFd(R"({"fd":0,"role":"phi-input","access":"read","null":true})")).message(),
              HasSubstr("profile.fds[0]: \"access\" must be one of r (read), w (write; an existing "
                        "file is truncated), rw, a (append) (got \"read\"; did you mean \"r\"?)"));
  EXPECT_THAT(ParseError(OneFd(R"({"fd":2,"role":"log","access":"A","null":true})")).message(),
              HasSubstr("(got \"A\"; did you mean \"a\"?)"));
  EXPECT_THAT(ParseError(OneFd(R"({"fd":2,"role":"log","access":"x","null":true})")).message(),
              HasSubstr("(got \"x\")"));
  EXPECT_THAT(ParseError(OneFd(R"({"fd":0,"role":"phi-input","null":true})")).message(),
              HasSubstr("profile.fds[0]: missing required key \"access\""));
  EXPECT_THAT(ParseError(R"({"version":1,"name":"x","fds":[{"fd":1,"role":"phi-output","access":"w","null":true},
      {"fd":1,"role":"audit-log","access":"a","null":true}]})").message(),
              HasSubstr("profile.fds[1]: fd 1 is declared twice (first in profile.fds[0])"));
  EXPECT_THAT(ParseError(OneFd(R"({"fd":1,"role":"phi-output","access":"w","open":"out.gz"})")).message(),
              HasSubstr("fd 1: \"open\" path \"out.gz\" is relative"));
  // A syntax error: a missing comma on the third line.
  EXPECT_THAT(ParseError("{\"version\": 1,\n \"name\": \"x\",\n \"fds\": [{\"fd\": 0 \"role\": \"a\"}]}")
                  .message(),
              HasSubstr("malformed JSON: expected ',' or '}' at line 3, column 19"));
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

// ---------------------------------------------------------------------------
// Secret fds (source "secret", class secret).

namespace fdattest {
namespace {

using ::testing::HasSubstr;

absl::Status SecretParseError(const std::string& text) { return Profile::Parse(text).status(); }

Profile MustParse(const std::string& fds) {
  absl::StatusOr<Profile> p = Profile::Parse(absl::StrCat(R"({"version":1,"name":"s","fds":[)", fds, "]}"));
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *std::move(p) : Profile{};
}

std::string FdsError(const std::string& fds) {
  return std::string(
      SecretParseError(absl::StrCat(R"({"version":1,"name":"s","fds":[)", fds, "]}")).message());
}

TEST(ProfileSecretTest, RoleSecretImpliesClassAndSource) {
  Profile p = MustParse(R"({"fd":5,"role":"secret","access":"r","secret":"phi-etl-key"})");
  ASSERT_EQ(p.fds.size(), 1u);
  EXPECT_EQ(p.fds[0].source, FdSource::kSecret);
  EXPECT_EQ(p.fds[0].fd_class, FdClass::kSecret);
  EXPECT_EQ(p.fds[0].target, "phi-etl-key");
  EXPECT_EQ(SourceName(p.fds[0].source), "secret");
  EXPECT_EQ(FdClassName(p.fds[0].fd_class), "secret");
}

TEST(ProfileSecretTest, AnyRoleNameWithTheSecretSourceIsOfClassSecret) {
  Profile p = MustParse(R"({"fd":5,"role":"db-password","access":"r","secret":"db.pw_1"})");
  EXPECT_EQ(p.fds[0].fd_class, FdClass::kSecret);
  // A name that looks protected needs no "class" when the source says what it is.
  Profile q = MustParse(R"({"fd":5,"role":"phi-key","access":"r","secret":"k"})");
  EXPECT_EQ(q.fds[0].fd_class, FdClass::kSecret);
  Profile r = MustParse(R"({"fd":5,"role":"key","class":"secret","access":"r","secret":"k"})");
  EXPECT_EQ(r.fds[0].fd_class, FdClass::kSecret);
}

TEST(ProfileSecretTest, RefusesEveryAccessButRead) {
  for (const char* access : {"w", "rw", "a"}) {
    EXPECT_THAT(FdsError(absl::StrCat(R"({"fd":5,"role":"secret","access":")", access,
                                      R"(","secret":"k"})")),
                HasSubstr("a released secret is only read"))
        << access;
  }
}

TEST(ProfileSecretTest, SecretClassAndSecretSourceGoTogether) {
  EXPECT_THAT(FdsError(R"({"fd":5,"role":"secret","access":"r","null":true})"),
              HasSubstr("class secret needs the \"secret\" source"));
  EXPECT_THAT(FdsError(R"({"fd":5,"role":"x","class":"secret","access":"r","open":"/etc/hostname"})"),
              HasSubstr("class secret needs the \"secret\" source"));
  EXPECT_THAT(FdsError(R"({"fd":5,"role":"x","class":"control","access":"r","secret":"k"})"),
              HasSubstr("a \"secret\" source needs class secret"));
  EXPECT_THAT(FdsError(R"({"fd":5,"role":"phi-input","access":"r","secret":"k"})"),
              HasSubstr("a \"secret\" source needs class secret"));
}

TEST(ProfileSecretTest, RefusesBadNamesSecondSourcesAndHash) {
  for (const char* name : {"", "a b", "k/1", "é", "key\\u0000"}) {
    EXPECT_THAT(FdsError(absl::StrCat(R"({"fd":5,"role":"secret","access":"r","secret":")", name,
                                      R"("})")),
                HasSubstr("\"secret\" must be a name of 1..64 characters"))
        << name;
  }
  EXPECT_THAT(FdsError(absl::StrCat(R"({"fd":5,"role":"secret","access":"r","secret":")",
                                    std::string(65, 'k'), R"("})")),
              HasSubstr("1..64"));
  MustParse(absl::StrCat(R"({"fd":5,"role":"secret","access":"r","secret":")", std::string(64, 'k'),
                         R"("})"));
  EXPECT_THAT(FdsError(R"({"fd":5,"role":"secret","access":"r","secret":"k","null":true})"),
              HasSubstr("2 sources"));
  EXPECT_THAT(FdsError(R"({"fd":5,"role":"secret","access":"r","secret":"k","hash":true})"),
              HasSubstr("\"hash\" applies only"));
  EXPECT_THAT(FdsError(R"({"fd":5,"role":"secret","access":"r","secret":7})"),
              HasSubstr("\"secret\" must be a string"));
}

TEST(ProfileSecretTest, RefusesTheSameSecretAtTwoFds) {
  EXPECT_THAT(FdsError(R"({"fd":5,"role":"secret","access":"r","secret":"k"},
                          {"fd":6,"role":"key2","access":"r","secret":"k"})"),
              HasSubstr("secret \"k\" is declared twice (also at fd 5)"));
  Profile p = MustParse(R"({"fd":6,"role":"secret","access":"r","secret":"a"},
                           {"fd":5,"role":"key2","access":"r","secret":"b"})");
  EXPECT_EQ(p.fds.size(), 2u);
}

TEST(ProfileSecretTest, TheSecretExampleProfileDeclaresItsKeyAtFd0) {
  absl::StatusOr<std::string> text =
      ReadFileLimited(FDATTEST_SOURCE_DIR "/examples/profiles/secret-checksum.json", 64 * 1024);
  ASSERT_TRUE(text.ok()) << text.status();
  auto p = Profile::Parse(absl::StrReplaceAll(*text, {{"@DIR@", "/srv/phi"}}));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->fds.size(), 3u);
  EXPECT_EQ(p->fds[0].source, FdSource::kSecret);
  EXPECT_EQ(p->fds[0].target, "phi-etl-key");  // examples/policies/secret-release.json lists it
  EXPECT_EQ(p->fds[1].fd_class, FdClass::kPhiOutput);
  EXPECT_EQ(p->fds[2].fd_class, FdClass::kAudit);
}

TEST(ProfileSecretTest, SecretNamesAreTheDocumentedAlphabet) {
  EXPECT_TRUE(IsSecretName("A-z_0.9"));
  EXPECT_FALSE(IsSecretName(""));
  EXPECT_FALSE(IsSecretName("a:b"));
  EXPECT_FALSE(IsSecretName(std::string(65, 'a')));
}

}  // namespace
}  // namespace fdattest
