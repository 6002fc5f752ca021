// SigningKey and VerifyCompactJws: key files (mode, no overwrite, strict
// JWK), the RFC 7638 kid, raw 64-byte ES256 signatures, and compact JWS
// verification that accepts only ES256 under the caller's key — checked
// against the real `jose` CLI as an independent implementation.
#include "verifier/jose_key.h"

#include <sys/stat.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "tests/support/jose_test_util.h"

namespace fdattest {
namespace {

using testing::RunJose;
using testing::ScratchDir;

Json MustParse(absl::string_view text) {
  auto json = ParseJsonStrict(text);
  EXPECT_TRUE(json.ok()) << json.status();
  return json.ok() ? *json : Json();
}

std::string MustCanonical(const Json& json) {
  auto text = CanonicalJson(json);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

std::vector<std::string> Parts(const std::string& jws) { return absl::StrSplit(jws, '.'); }

class JoseKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = SigningKey::Generate();
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::make_unique<SigningKey>(*std::move(key));
  }

  // The private JWK as Save writes it.
  Json PrivateJwk() {
    const std::string path = dir_.Path(absl::StrCat("priv", counter_++, ".jwk"));
    EXPECT_TRUE(key_->Save(path).ok());
    return MustParse(dir_.Read(path.substr(path.rfind('/') + 1)));
  }

  // A token signed with our private key by the jose CLI, with any header.
  std::string JoseSign(const Json& protected_header, absl::string_view payload) {
    Json jwk = PrivateJwk();
    jwk.erase("alg");  // so libjose lets the template choose the alg
    jwk.erase("use");
    dir_.Write("cli.jwk", MustCanonical(jwk));
    dir_.Write("cli.payload", payload);
    const std::string sig = MustCanonical(Json{{"protected", protected_header}});
    auto r = RunJose({"jws", "sig", "-I", dir_.Path("cli.payload"), "-k", dir_.Path("cli.jwk"),
                      "-s", sig, "-c", "-o", dir_.Path("cli.jws")},
                     dir_);
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : r.status().ToString());
    return dir_.Read("cli.jws");
  }

  // Exit status of `jose jws ver -i TOKEN -k PUBJWK`.
  int JoseVerify(const std::string& token, const std::string& public_jwk) {
    dir_.Write("ver.jws", token);
    dir_.Write("ver.jwk", public_jwk);
    auto r = RunJose({"jws", "ver", "-i", dir_.Path("ver.jws"), "-k", dir_.Path("ver.jwk")}, dir_);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->exit_code : -1;
  }

  ScratchDir dir_;
  std::unique_ptr<SigningKey> key_;
  int counter_ = 0;
};

TEST_F(JoseKeyTest, SignsAndVerifiesRoundTrip) {
  auto jws = key_->SignCompact("hello, registry", "JWT");
  ASSERT_TRUE(jws.ok()) << jws.status();
  auto payload = VerifyCompactJws(*jws, key_->PublicJwkJson());
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload, "hello, registry");
}

TEST_F(JoseKeyTest, ProtectedHeaderIsExactlyAlgKidTyp) {
  auto jws = key_->SignCompact("x", "JWT");
  ASSERT_TRUE(jws.ok());
  auto header = Base64UrlDecode(Parts(*jws)[0]);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(*header, absl::StrCat(R"({"alg":"ES256","kid":")", key_->kid(), R"(","typ":"JWT"})"));
  auto no_typ = key_->SignCompact("x", "");
  ASSERT_TRUE(no_typ.ok());
  EXPECT_EQ(*Base64UrlDecode(Parts(*no_typ)[0]),
            absl::StrCat(R"({"alg":"ES256","kid":")", key_->kid(), R"("})"));
}

TEST_F(JoseKeyTest, Es256SignatureIsRaw64Bytes) {
  // RFC 7518 section 3.4: R || S, 32 bytes each. A DER signature would vary in
  // length (70..72 bytes), and the jose CLI accepts only the raw form. (The
  // first byte says nothing: a raw R starts with 0x30 once in 256.)
  for (int i = 0; i < 20; ++i) {
    auto jws = key_->SignCompact(absl::StrCat("payload ", i), "JWT");
    ASSERT_TRUE(jws.ok());
    auto sig = Base64UrlDecode(Parts(*jws)[2]);
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(sig->size(), 64u);
    if (i < 5) {
      EXPECT_EQ(JoseVerify(*jws, key_->PublicJwkJson()), 0) << *jws;
    }
  }
}

TEST_F(JoseKeyTest, KidIsRfc7638Thumbprint) {
  Json pub = MustParse(key_->PublicJwkJson());
  // RFC 7638 section 3.2: the required members only, sorted, no whitespace.
  Json members = {{"crv", pub["crv"]}, {"kty", pub["kty"]}, {"x", pub["x"]}, {"y", pub["y"]}};
  Sha256Digest digest = Sha256(MustCanonical(members));
  EXPECT_EQ(key_->kid(),
            Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(digest.data()), 32)));
  EXPECT_EQ(pub["kid"], key_->kid());
  // And what the jose CLI computes.
  dir_.Write("pub.jwk", key_->PublicJwkJson());
  auto r = RunJose({"jwk", "thp", "-i", dir_.Path("pub.jwk")}, dir_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(std::string(absl::StripTrailingAsciiWhitespace(r->out)), key_->kid());
}

TEST_F(JoseKeyTest, PublicJwkHasNoPrivateMember) {
  Json pub = MustParse(key_->PublicJwkJson());
  EXPECT_FALSE(pub.contains("d"));
  EXPECT_EQ(pub["alg"], "ES256");
  EXPECT_EQ(pub["use"], "sig");
  EXPECT_EQ(pub["kty"], "EC");
  EXPECT_EQ(pub["crv"], "P-256");
  EXPECT_EQ(MustCanonical(pub), key_->PublicJwkJson());
}

TEST_F(JoseKeyTest, SaveWritesMode0600AndLoadKeepsThumbprint) {
  const std::string path = dir_.Path("verifier.jwk");
  ASSERT_TRUE(key_->Save(path).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  auto loaded = SigningKey::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->kid(), key_->kid());
  EXPECT_EQ(loaded->PublicJwkJson(), key_->PublicJwkJson());
  // A token from the loaded key verifies with the original's public JWK.
  auto jws = loaded->SignCompact("after reload", "JWT");
  ASSERT_TRUE(jws.ok());
  EXPECT_TRUE(VerifyCompactJws(*jws, key_->PublicJwkJson()).ok());
}

TEST_F(JoseKeyTest, SaveUnderRestrictiveUmaskStillGivesOwnerReadWrite) {
  const mode_t old = umask(0277);
  const std::string path = dir_.Path("umask.jwk");
  absl::Status s = key_->Save(path);
  umask(old);
  ASSERT_TRUE(s.ok()) << s;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(JoseKeyTest, SaveRefusesToOverwrite) {
  const std::string path = dir_.Write("existing.jwk", "precious");
  absl::Status s = key_->Save(path);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(dir_.Read("existing.jwk"), "precious");
  // Also through a dangling symlink: O_EXCL never follows it.
  const std::string link = dir_.Path("link.jwk");
  ASSERT_EQ(symlink(dir_.Path("target.jwk").c_str(), link.c_str()), 0);
  EXPECT_FALSE(key_->Save(link).ok());
  struct stat st;
  EXPECT_NE(stat(dir_.Path("target.jwk").c_str(), &st), 0);
}

TEST_F(JoseKeyTest, LoadRefusesFileReadableOrWritableByOthers) {
  const std::string text = MustCanonical(PrivateJwk());
  for (int mode : {0644, 0640, 0604, 0620, 0602, 0660, 0666}) {
    const std::string path = dir_.Write("loose.jwk", text, mode);
    auto loaded = SigningKey::Load(path);
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kPermissionDenied) << std::oct << mode;
    EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos);
  }
  for (int mode : {0600, 0400}) {
    EXPECT_TRUE(SigningKey::Load(dir_.Write("tight.jwk", text, mode)).ok()) << std::oct << mode;
  }
}

TEST_F(JoseKeyTest, LoadRefusesNonRegularFile) {
  EXPECT_FALSE(SigningKey::Load(dir_.Path("")).ok());  // the directory itself
  EXPECT_FALSE(SigningKey::Load(dir_.Path("missing.jwk")).ok());
}

TEST_F(JoseKeyTest, LoadAcceptsKeyFromJoseCli) {
  auto r = RunJose({"jwk", "gen", "-i", R"({"alg":"ES256"})", "-o", dir_.Path("cli.jwk")}, dir_);
  ASSERT_TRUE(r.ok() && r->exit_code == 0);
  ASSERT_EQ(chmod(dir_.Path("cli.jwk").c_str(), 0600), 0);
  auto loaded = SigningKey::Load(dir_.Path("cli.jwk"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto thp = RunJose({"jwk", "thp", "-i", dir_.Path("cli.jwk")}, dir_);
  ASSERT_TRUE(thp.ok());
  EXPECT_EQ(std::string(absl::StripTrailingAsciiWhitespace(thp->out)), loaded->kid());
}

TEST_F(JoseKeyTest, LoadRefusesJwksThatAreNotP256PrivateKeys) {
  Json good = PrivateJwk();
  auto other = SigningKey::Generate();
  ASSERT_TRUE(other.ok());
  Json other_jwk = MustParse(other->PublicJwkJson());
  auto es384 =
      RunJose({"jwk", "gen", "-i", R"({"alg":"ES384"})", "-o", dir_.Path("p384.jwk")}, dir_);
  ASSERT_TRUE(es384.ok() && es384->exit_code == 0);
  auto hs256 =
      RunJose({"jwk", "gen", "-i", R"({"alg":"HS256"})", "-o", dir_.Path("oct.jwk")}, dir_);
  ASSERT_TRUE(hs256.ok() && hs256->exit_code == 0);

  std::vector<std::pair<std::string, std::string>> cases;
  auto with = [&](auto edit) {
    Json j = good;
    edit(j);
    return MustCanonical(j);
  };
  cases.push_back({"public only", with([](Json& j) { j.erase("d"); })});
  cases.push_back({"d of another key", with([&](Json& j) {
                     j["x"] = other_jwk["x"];
                     j["y"] = other_jwk["y"];
                     j.erase("kid");
                   })});
  cases.push_back({"wrong kid", with([&](Json& j) { j["kid"] = other->kid(); })});
  cases.push_back({"crv P-384 label", with([](Json& j) { j["crv"] = "P-384"; })});
  cases.push_back({"alg ES384", with([](Json& j) { j["alg"] = "ES384"; })});
  cases.push_back({"use enc", with([](Json& j) { j["use"] = "enc"; })});
  cases.push_back({"key_ops verify only", with([](Json& j) { j["key_ops"] = {"verify"}; })});
  cases.push_back(
      {"unknown member", with([](Json& j) { j["x5u"] = "https://example.invalid/k"; })});
  cases.push_back({"short x", with([](Json& j) { j["x"] = "AAAA"; })});
  cases.push_back({"padded d", with([](Json& j) { j["d"] = j["d"].get<std::string>() + "="; })});
  cases.push_back({"point not on curve", with([](Json& j) {
                     j["y"] = Base64UrlEncode(std::string(32, '\x01'));
                     j.erase("kid");
                   })});
  cases.push_back({"P-384 key", dir_.Read("p384.jwk")});
  cases.push_back({"oct key", dir_.Read("oct.jwk")});
  cases.push_back({"duplicate member", R"({"kty":"EC","kty":"EC"})"});
  cases.push_back({"not JSON", "-----BEGIN EC PRIVATE KEY-----"});
  for (const auto& [name, text] : cases) {
    auto loaded = SigningKey::Load(dir_.Write("case.jwk", text));
    EXPECT_FALSE(loaded.ok()) << name;
    EXPECT_NE(loaded.status().code(), absl::StatusCode::kPermissionDenied) << name;
  }
}

// ---- VerifyCompactJws ----

TEST_F(JoseKeyTest, JoseCliVerifiesOurSignatureAndReturnsThePayload) {
  auto jws = key_->SignCompact(R"({"endpoints":[]})", "fdattest-registry+json");
  ASSERT_TRUE(jws.ok());
  dir_.Write("t.jws", *jws);
  dir_.Write("pub.jwk", key_->PublicJwkJson());
  auto r = RunJose({"jws", "ver", "-i", dir_.Path("t.jws"), "-k", dir_.Path("pub.jwk"), "-O", "-"},
                   dir_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->out, R"({"endpoints":[]})");
}

TEST_F(JoseKeyTest, AcceptsTokensTheJoseCliSignsWithOurKey) {
  std::string token = JoseSign({{"alg", "ES256"}, {"kid", key_->kid()}}, "from the CLI");
  auto payload = VerifyCompactJws(token, key_->PublicJwkJson());
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(*payload, "from the CLI");
}

TEST_F(JoseKeyTest, RefusesAlgNoneAndHs256) {
  auto jws = key_->SignCompact("payload", "JWT");
  ASSERT_TRUE(jws.ok());
  const std::vector<std::string> p = Parts(*jws);
  for (const char* alg : {"none", "HS256", "ES384", "RS256", "EdDSA"}) {
    const std::string header =
        Base64UrlEncode(absl::StrCat(R"({"alg":")", alg, R"(","typ":"JWT"})"));
    for (const std::string& sig : {p[2], std::string("")}) {
      const std::string forged = absl::StrCat(header, ".", p[1], ".", sig);
      auto result = VerifyCompactJws(forged, key_->PublicJwkJson());
      EXPECT_FALSE(result.ok()) << alg;
      if (!sig.empty()) {
        EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << alg;
        EXPECT_NE(JoseVerify(forged, key_->PublicJwkJson()), 0) << alg;
      }
    }
  }
}

TEST_F(JoseKeyTest, RefusesHs256KeyedWithThePublicJwk) {
  // The classic confusion: HMAC "keyed" with the published key's bytes.
  Json oct = {{"kty", "oct"}, {"k", Base64UrlEncode(key_->PublicJwkJson())}};
  dir_.Write("oct.jwk", MustCanonical(oct));
  dir_.Write("p", "forged");
  auto r = RunJose({"jws", "sig", "-I", dir_.Path("p"), "-k", dir_.Path("oct.jwk"), "-s",
                    R"({"protected":{"alg":"HS256"}})", "-c", "-o", dir_.Path("hs.jws")},
                   dir_);
  ASSERT_TRUE(r.ok() && r->exit_code == 0) << r->err;
  const std::string forged = dir_.Read("hs.jws");
  EXPECT_EQ(VerifyCompactJws(forged, key_->PublicJwkJson()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_NE(JoseVerify(forged, key_->PublicJwkJson()), 0);
}

TEST_F(JoseKeyTest, RefusesEs384LabelEvenWhenSignedByOurKey) {
  // libjose 11 signs "ES384" with a P-256 key (SHA-384, 64-byte signature),
  // and `jose jws ver` accepts it under a JWK whose alg is ES256: its alg
  // mismatch check is strcmp(...) < 0. We insist on ES256 ourselves.
  std::string token = JoseSign({{"alg", "ES384"}}, "relabelled");
  ASSERT_FALSE(token.empty());
  auto result = VerifyCompactJws(token, key_->PublicJwkJson());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated) << result.status();
  ::testing::Test::RecordProperty("jose_cli_accepts_es384_label",
                                  JoseVerify(token, key_->PublicJwkJson()) == 0 ? "yes" : "no");
}

TEST_F(JoseKeyTest, RefusesKeysNamedInTheHeader) {
  Json pub = MustParse(key_->PublicJwkJson());
  for (const Json& header : {
           Json{{"alg", "ES256"}, {"jwk", pub}},
           Json{{"alg", "ES256"}, {"jku", "https://example.invalid/jwks"}},
           Json{{"alg", "ES256"}, {"x5u", "https://example.invalid/cert"}},
           Json{{"alg", "ES256"}, {"x5c", {"MIIB"}}},
           Json{{"alg", "ES256"}, {"crit", {"exp"}}, {"exp", 1}},
           Json{{"alg", "ES256"}, {"b64", false}},
       }) {
    std::string token = JoseSign(header, "payload");
    auto result = VerifyCompactJws(token, key_->PublicJwkJson());
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << header.dump();
    EXPECT_NE(result.status().message().find("is not accepted"), std::string::npos)
        << result.status();
  }
  // An attacker's own key embedded in the header does not make its token ours.
  auto attacker = SigningKey::Generate();
  ASSERT_TRUE(attacker.ok());
  auto token = attacker->SignCompact("attacker", "JWT");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(VerifyCompactJws(*token, key_->PublicJwkJson()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_NE(JoseVerify(*token, key_->PublicJwkJson()), 0);
}

TEST_F(JoseKeyTest, RefusesTamperedTokens) {
  auto jws = key_->SignCompact("the payload bytes", "JWT");
  ASSERT_TRUE(jws.ok());
  const std::vector<std::string> p = Parts(*jws);
  std::string payload = *Base64UrlDecode(p[1]);
  payload[4] ^= 0x01;
  std::string sig = *Base64UrlDecode(p[2]);
  sig[10] ^= 0x80;
  std::string short_sig = sig.substr(0, 63);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"payload byte", absl::StrCat(p[0], ".", Base64UrlEncode(payload), ".", p[2])},
      {"signature byte", absl::StrCat(p[0], ".", p[1], ".", Base64UrlEncode(sig))},
      {"63-byte signature", absl::StrCat(p[0], ".", p[1], ".", Base64UrlEncode(short_sig))},
      {"no signature", absl::StrCat(p[0], ".", p[1], ".")},
      {"two parts", absl::StrCat(p[0], ".", p[1])},
      {"four parts", absl::StrCat(*jws, ".", p[2])},
      {"trailing newline", absl::StrCat(*jws, "\n")},
      {"padding", absl::StrCat(*jws, "==")},
      {"standard alphabet",
       absl::StrCat(p[0], ".", p[1], ".", Base64Encode(*Base64UrlDecode(p[2])))},
  };
  for (const auto& [name, token] : cases) {
    EXPECT_FALSE(VerifyCompactJws(token, key_->PublicJwkJson()).ok()) << name;
  }
  // The jose CLI agrees on the cryptographic ones.
  for (int i = 0; i < 3; ++i)
    EXPECT_NE(JoseVerify(cases[i].second, key_->PublicJwkJson()), 0) << cases[i].first;
}

TEST_F(JoseKeyTest, RefusesKidOfAnotherKey) {
  std::string token = JoseSign({{"alg", "ES256"}, {"kid", "someone-else"}}, "payload");
  auto result = VerifyCompactJws(token, key_->PublicJwkJson());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(result.status().message().find("someone-else"), std::string::npos);
}

TEST_F(JoseKeyTest, RefusesPrivateOrMalformedVerificationKey) {
  auto jws = key_->SignCompact("payload", "JWT");
  ASSERT_TRUE(jws.ok());
  EXPECT_FALSE(VerifyCompactJws(*jws, MustCanonical(PrivateJwk())).ok());
  Json pub = MustParse(key_->PublicJwkJson());
  Json wrong_kid = pub;
  wrong_kid["kid"] = "x";
  EXPECT_FALSE(VerifyCompactJws(*jws, MustCanonical(wrong_kid)).ok());
  Json no_meta = {{"kty", "EC"}, {"crv", "P-256"}, {"x", pub["x"]}, {"y", pub["y"]}};
  EXPECT_TRUE(VerifyCompactJws(*jws, MustCanonical(no_meta)).ok());
  EXPECT_FALSE(VerifyCompactJws(*jws, "not json").ok());
  EXPECT_FALSE(VerifyCompactJws(*jws, R"({"kty":"oct","k":"c2VjcmV0"})").ok());
}

TEST_F(JoseKeyTest, ConstMethodsAreSafeFromSeveralThreads) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  const std::string pub = key_->PublicJwkJson();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string msg = absl::StrCat("thread ", t, " message ", i);
        auto jws = key_->SignCompact(msg, "JWT");
        auto back = jws.ok() ? VerifyCompactJws(*jws, pub) : jws.status();
        if (!back.ok() || *back != msg) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(Base64UrlTest, RoundTripsAndDecodesStrictly) {
  for (size_t n = 0; n < 70; ++n) {
    std::string data;
    for (size_t i = 0; i < n; ++i) data.push_back(static_cast<char>(i * 37 + n));
    const std::string text = Base64UrlEncode(data);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    auto back = Base64UrlDecode(text);
    ASSERT_TRUE(back.ok()) << n;
    EXPECT_EQ(*back, data);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("-_8=").ok());  // padding
  EXPECT_FALSE(Base64UrlDecode("+/8").ok());   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("-_9").ok());   // non-zero trailing bits
  EXPECT_FALSE(Base64UrlDecode("A").ok());     // impossible length
  EXPECT_FALSE(Base64UrlDecode("AA A").ok());
}

}  // namespace
}  // namespace fdattest
