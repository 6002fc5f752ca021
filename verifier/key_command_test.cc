// `fdattest key generate|public|log|witness` and `fdattest registry sign` through the
// CLI11 app as main builds it: files, modes, output, and refusals.
#include "verifier/key_command.h"

#include <sys/stat.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/file_io.h"
#include "common/json.h"
#include "gtest/gtest.h"
#include "tests/support/jose_test_util.h"
#include "verifier/audit/signed_note.h"
#include "verifier/jose_key.h"

namespace fdattest {
namespace {

using testing::ScratchDir;

struct CliResult {
  int status = -1;
  std::string out, err;
};

CliResult RunCli(std::vector<std::string> args) {
  CLI::App app{"fdattest"};
  app.require_subcommand(1);
  KeyCommands commands(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
  app.parse(args);
  std::ostringstream out, err;
  CliResult result;
  result.status = commands.Run(out, err).value_or(-2);
  result.out = out.str();
  result.err = err.str();
  return result;
}

TEST(KeyCommandTest, GenerateWritesPrivateKeyAndPrintsPublicJwk) {
  ScratchDir dir;
  const std::string path = dir.Path("verifier.jwk");
  CliResult r = RunCli({"key", "generate", "--out", path});
  ASSERT_EQ(r.status, 0) << r.err;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto key = SigningKey::Load(path);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(r.out, key->PublicJwkJson() + "\n");
  EXPECT_EQ(r.out.find("\"d\""), std::string::npos);

  CliResult again = RunCli({"key", "generate", "--out", path});
  EXPECT_EQ(again.status, 1);
  EXPECT_NE(again.err.find("never overwritten"), std::string::npos) << again.err;
  EXPECT_TRUE(SigningKey::Load(path).ok());
  EXPECT_EQ(SigningKey::Load(path)->kid(), key->kid());
}

TEST(KeyCommandTest, PublicPrintsThePublishedJwkAndRefusesLooseModes) {
  ScratchDir dir;
  const std::string path = dir.Path("verifier.jwk");
  ASSERT_EQ(RunCli({"key", "generate", "--out", path}).status, 0);
  CliResult r = RunCli({"key", "public", path});
  ASSERT_EQ(r.status, 0) << r.err;
  auto key = SigningKey::Load(path);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(r.out, key->PublicJwkJson() + "\n");
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  CliResult loose = RunCli({"key", "public", path});
  EXPECT_EQ(loose.status, 1);
  EXPECT_NE(loose.err.find("chmod 600"), std::string::npos) << loose.err;
}

TEST(KeyCommandTest, RegistrySignSignsTheCanonicalPayload) {
  ScratchDir dir;
  const std::string key_path = dir.Path("verifier.jwk");
  ASSERT_EQ(RunCli({"key", "generate", "--out", key_path}).status, 0);
  dir.Write("registry.json",
            "{ \"endpoints\": [ {\"name\": \"db\", \"port\": 5432} ],\n  \"version\": 1 }\n");
  CliResult r = RunCli({"registry", "sign", "--key", key_path, dir.Path("registry.json")});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find('\n'), std::string::npos);
  auto key = SigningKey::Load(key_path);
  ASSERT_TRUE(key.ok());
  auto payload = VerifyCompactJws(r.out, key->PublicJwkJson());
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload, R"({"endpoints":[{"name":"db","port":5432}],"version":1})");
  auto header = Base64UrlDecode(r.out.substr(0, r.out.find('.')));
  ASSERT_TRUE(header.ok());
  EXPECT_NE(header->find(R"("typ":"fdattest-registry+json")"), std::string::npos);
  // The jose CLI reads the output file as written.
  dir.Write("registry.jws", r.out);
  dir.Write("pub.jwk", key->PublicJwkJson());
  auto v = testing::RunJose(
      {"jws", "ver", "-i", dir.Path("registry.jws"), "-k", dir.Path("pub.jwk")}, dir);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->exit_code, 0) << v->err;
}

TEST(KeyCommandTest, RegistrySignRefusesNonStrictJson) {
  ScratchDir dir;
  const std::string key_path = dir.Path("verifier.jwk");
  ASSERT_EQ(RunCli({"key", "generate", "--out", key_path}).status, 0);
  for (const char* text :
       {R"({"a":1,"a":2})", "{\"a\":1.5}", "{'a':1}", "", "{\"a\":1} trailing"}) {
    dir.Write("bad.json", text);
    CliResult r = RunCli({"registry", "sign", "--key", key_path, dir.Path("bad.json")});
    EXPECT_EQ(r.status, 1) << text;
    EXPECT_TRUE(r.out.empty()) << text;
  }
  CliResult missing =
      RunCli({"registry", "sign", "--key", dir.Path("nope.jwk"), dir.Path("bad.json")});
  EXPECT_EQ(missing.status, 1);
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

TEST(KeyCommandTest, LogWritesAnEd25519KeyAndItsVerifierKey) {
  ScratchDir dir;
  const std::string path = dir.Path("log.pem");
  CliResult r = RunCli({"key", "log", "--origin", "audit.example/log", "--out", path});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(path + ".vkey"), 0644u);
  auto pem = ReadFileLimited(path, 1 << 16);
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_TRUE(absl::StartsWith(*pem, "-----BEGIN PRIVATE KEY-----\n")) << *pem;
  auto signer = NoteSigner::FromPrivateKeyPem("audit.example/log", *pem);
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(r.out, signer->VerifierKey() + "\n");
  auto vkey_file = ReadFileLimited(path + ".vkey", 1 << 16);
  ASSERT_TRUE(vkey_file.ok());
  EXPECT_EQ(*vkey_file, r.out);
  // The printed key verifies what the file's key signs.
  auto verifier = NoteVerifier::FromVerifierKey(r.out.substr(0, r.out.size() - 1));
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_EQ(verifier->type(), kNoteSigEd25519);
  auto note = SignNote("audit.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
                       {&*signer});
  ASSERT_TRUE(note.ok());
  EXPECT_TRUE(OpenNote(*note, {*verifier}).ok());
}

TEST(KeyCommandTest, WitnessWritesACosignerKeyAndItsVerifierKey) {
  ScratchDir dir;
  const std::string path = dir.Path("witness.pem");
  CliResult r = RunCli({"key", "witness", "--name", "witness.example/w1", "--out", path});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(path + ".vkey"), 0644u);
  auto pem = ReadFileLimited(path, 1 << 16);
  ASSERT_TRUE(pem.ok());
  auto cosigner = CosignatureSigner::FromPrivateKeyPem("witness.example/w1", *pem);
  ASSERT_TRUE(cosigner.ok()) << cosigner.status();
  EXPECT_EQ(r.out, cosigner->VerifierKey() + "\n");
  EXPECT_EQ(*ReadFileLimited(path + ".vkey", 1 << 16), r.out);
  auto verifier = NoteVerifier::FromVerifierKey(r.out.substr(0, r.out.size() - 1));
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_EQ(verifier->type(), kNoteSigCosignatureV1);
}

TEST(KeyCommandTest, LogAndWitnessNeverOverwrite) {
  for (const char* command : {"log", "witness"}) {
    SCOPED_TRACE(command);
    const char* name_flag = std::string(command) == "log" ? "--origin" : "--name";
    ScratchDir dir;
    const std::string path = dir.Path("key.pem");
    ASSERT_EQ(RunCli({"key", command, name_flag, "n.example", "--out", path}).status, 0);
    const std::string pem = *ReadFileLimited(path, 1 << 16);
    const std::string vkey = *ReadFileLimited(path + ".vkey", 1 << 16);
    CliResult again = RunCli({"key", command, name_flag, "n.example", "--out", path});
    EXPECT_EQ(again.status, 1);
    EXPECT_NE(again.err.find("never overwritten"), std::string::npos) << again.err;
    EXPECT_TRUE(again.out.empty());
    EXPECT_EQ(*ReadFileLimited(path, 1 << 16), pem);
    EXPECT_EQ(*ReadFileLimited(path + ".vkey", 1 << 16), vkey);

    // An existing FILE.vkey alone: refused, and no private key is left behind.
    const std::string other = dir.Path("other.pem");
    dir.Write("other.pem.vkey", "keep\n");
    CliResult blocked = RunCli({"key", command, name_flag, "n.example", "--out", other});
    EXPECT_EQ(blocked.status, 1);
    EXPECT_FALSE(Exists(other));
    EXPECT_EQ(*ReadFileLimited(other + ".vkey", 100), "keep\n");

    // A bad key name: refused before any file is made.
    const std::string third = dir.Path("third.pem");
    CliResult bad = RunCli({"key", command, name_flag, "a+b", "--out", third});
    EXPECT_EQ(bad.status, 1);
    EXPECT_FALSE(Exists(third));
    EXPECT_FALSE(Exists(third + ".vkey"));
  }
}

TEST(KeyCommandTest, OtherSubcommandsAreNotOurs) {
  CLI::App app{"fdattest"};
  CLI::App* other = app.add_subcommand("bpf", "");
  other->add_option("x");
  KeyCommands commands(app);
  std::vector<std::string> args = {"1", "bpf"};
  app.parse(args);
  EXPECT_FALSE(commands.Run().has_value());
}

}  // namespace
}  // namespace fdattest
