// The verifier's MakeCredential (verifier/make_credential.h) against a real
// TPM (swtpm) and an independent implementation (tpm2-tools): its credential
// is released by TPM2_ActivateCredential, both through the attestor's own
// call and through tpm2_activatecredential; tpm2_makecredential's offline
// credential is released by the attestor's call; and a credential made for
// another EK or another AK, or with any changed byte, is refused by the TPM.
// The attestor library is linked here only to drive the TPM;
// fdverifier_lib itself never links it.
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdlib>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "attestor/tpm_context.h"
#include "attestor/tpm_keys.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/software_ek.h"
#include "tests/support/swtpm.h"
#include "tests/support/tpm_test_util.h"
#include "verifier/make_credential.h"
#include "verifier/tpm_attest.h"
#include "verifier/tpm_identity.h"

namespace fdattest {
namespace {

using ::fdattest::testing::MakeAkPublic;
using ::fdattest::testing::MakeSoftwareEk;
using ::fdattest::testing::RunTpmTool;
using ::fdattest::testing::Swtpm;
using ::testing::HasSubstr;

// The persistent EK that swtpm_setup made from the same template and seed
// as the attestor's (tools/swtpm/provision.sh).
constexpr char kPersistentEk[] = "0x81010001";
// tpm2-tools' credential file: magic 0xBADCC0DE and version 1 (big-endian),
// then the marshalled TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET.
constexpr char kToolsHeader[] = "\xba\xdc\xc0\xde\x00\x00\x00\x01";

std::string RandomCredential() {
  std::string c(32, '\0');
  EXPECT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(c.data()), 32), 1);
  return c;
}

class MakeCredentialTpmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TSS2_LOG", "all+none", 1);  // the refusals below are expected
    auto tpm = Swtpm::Start();
    ASSERT_TRUE(tpm.ok()) << tpm.status();
    tpm_ = *std::move(tpm);
    state_dir_ = absl::StrCat(tpm_->dir(), "/attestor");
    ASSERT_EQ(mkdir(state_dir_.c_str(), 0700), 0);
    ASSERT_TRUE(Connect());
    auto ak = AttestationKey::LoadOrCreate(*ctx_, state_dir_);
    ASSERT_TRUE(ak.ok()) << ak.status();
    ak_ = *std::move(ak);
    auto cert = ReadEkCertificate(*ctx_);
    ASSERT_TRUE(cert.ok()) << cert.status();
    auto ca_path = Swtpm::CaCertPemPath();
    ASSERT_TRUE(ca_path.ok()) << ca_path.status();
    auto ca = ReadFileLimited(*ca_path, 1 << 20);
    ASSERT_TRUE(ca.ok());
    // What the verifier knows: the EK rebuilt from its checked certificate.
    auto ek = CheckEkCertificate(*cert, *ca);
    ASSERT_TRUE(ek.ok()) << ek.status();
    ek_public_ = ek->ek_public;
    ASSERT_EQ(HexEncode(ek_public_), HexEncode(ak_->ek_public_area()))
        << "the certified EK is the attestor's EK";
  }
  void TearDown() override {
    Disconnect();
    tpm_.reset();
  }

  bool Connect() {
    auto ctx = EsysContext::Open({.tcti = tpm_->tcti()});
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    if (!ctx.ok()) return false;
    ctx_ = *std::move(ctx);
    return true;
  }
  // swtpm serves one connection at a time: the tools need it free.
  void Disconnect() {
    ak_.reset();
    ctx_.reset();
  }

  absl::StatusOr<std::string> Activate(const MadeCredential& made) {
    return ActivateCredential(*ctx_, *ak_, made.credential_blob, made.encrypted_secret);
  }

  std::string Path(absl::string_view name) const { return absl::StrCat(tpm_->dir(), "/", name); }

  void Tool(const std::vector<std::string>& argv) {
    auto run = RunTpmTool(argv, tpm_->tcti());
    ASSERT_TRUE(run.ok()) << run.status();
    ASSERT_EQ(run->exit_code, 0) << argv[0] << ": " << run->err;
  }

  // An EK policy session for the tools: PolicySecret(endorsement).
  void ToolsEkSession(const std::string& session) {
    Tool({"tpm2_startauthsession", "--policy-session", "-S", session});
    Tool({"tpm2_policysecret", "-S", session, "-c", "e"});
  }

  std::unique_ptr<Swtpm> tpm_;
  std::string state_dir_;
  std::unique_ptr<EsysContext> ctx_;
  std::unique_ptr<AttestationKey> ak_;
  std::string ek_public_;
};

TEST_F(MakeCredentialTpmTest, TheTpmReleasesTheVerifiersCredentialToTheNamedAk) {
  for (int i = 0; i < 3; ++i) {  // fresh seeds; no TPM slot left behind
    const std::string credential = RandomCredential();
    absl::StatusOr<MadeCredential> made = MakeCredential(ek_public_, ak_->name(), credential);
    ASSERT_TRUE(made.ok()) << made.status();
    absl::StatusOr<std::string> released = Activate(*made);
    ASSERT_TRUE(released.ok()) << released.status();
    EXPECT_EQ(HexEncode(*released), HexEncode(credential));
  }
  // A credential of one byte, and of the largest size for a SHA-256 EK.
  for (size_t n : {1u, 32u}) {
    const std::string credential(n, '\x5a');
    absl::StatusOr<std::string> released = Activate(*MakeCredential(ek_public_, ak_->name(), credential));
    ASSERT_TRUE(released.ok()) << released.status();
    EXPECT_EQ(*released, credential);
  }
}

TEST_F(MakeCredentialTpmTest, TheTpmRefusesACredentialForAnotherEkAnotherAkOrAChangedByte) {
  const std::string credential = RandomCredential();
  const MadeCredential genuine = *MakeCredential(ek_public_, ak_->name(), credential);
  auto refused = [&](const MadeCredential& made, absl::string_view what) {
    absl::StatusOr<std::string> released = Activate(made);
    EXPECT_FALSE(released.ok()) << what;
    EXPECT_EQ(released.status().code(), absl::StatusCode::kInvalidArgument)
        << what << ": " << released.status();
    EXPECT_THAT(released.status().message(), HasSubstr("refuses the credential")) << what;
  };
  // Another EK: a software one in the same template.
  refused(*MakeCredential(MakeSoftwareEk(nullptr).ek_public, ak_->name(), credential),
          "another EK");
  // Another AK: the name of a key that is not loaded in this TPM.
  const std::string other_name = *PublicAreaName(MakeAkPublic());
  refused(*MakeCredential(ek_public_, other_name, credential), "another AK's name");
  // Every byte of the blob after its size (HMAC size, HMAC, encrypted
  // credential), and bytes across the encrypted seed.
  for (size_t i = 2; i < genuine.credential_blob.size(); ++i) {
    MadeCredential changed = genuine;
    changed.credential_blob[i] ^= 0x01;
    refused(changed, absl::StrCat("blob byte ", i));
  }
  for (size_t i : {2u, 3u, 100u, 200u, 257u}) {
    MadeCredential changed = genuine;
    changed.encrypted_secret[i] ^= 0x80;
    refused(changed, absl::StrCat("secret byte ", i));
  }
  // And the genuine one still works afterwards.
  absl::StatusOr<std::string> released = Activate(genuine);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(*released, credential);
}

TEST_F(MakeCredentialTpmTest, Tpm2ActivatecredentialReleasesTheVerifiersCredential) {
  const std::string credential = RandomCredential();
  const MadeCredential made = *MakeCredential(ek_public_, ak_->name(), credential);
  MadeCredential changed = made;
  changed.credential_blob.back() ^= 0x01;
  Disconnect();
  ASSERT_TRUE(WriteFileAtomic(Path("cred.bin"), absl::StrCat(std::string(kToolsHeader, 8),
                                                             made.credential_blob,
                                                             made.encrypted_secret),
                              0600)
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(Path("changed.bin"), absl::StrCat(std::string(kToolsHeader, 8),
                                                                changed.credential_blob,
                                                                changed.encrypted_secret),
                              0600)
                  .ok());
  // The AK, loaded by the tools from the attestor's blobs under the EK.
  ToolsEkSession(Path("load.ctx"));
  Tool({"tpm2_load", "-C", kPersistentEk, "-P", absl::StrCat("session:", Path("load.ctx")), "-u",
        absl::StrCat(state_dir_, "/ak.pub"), "-r", absl::StrCat(state_dir_, "/ak.priv"), "-c",
        Path("ak.ctx")});
  Tool({"tpm2_flushcontext", Path("load.ctx")});
  // Without a resource manager each tool leaves the objects it loaded in
  // swtpm's three slots; ak.ctx is a saved context, loaded again as needed.
  Tool({"tpm2_flushcontext", "-t"});

  ToolsEkSession(Path("activate.ctx"));
  Tool({"tpm2_activatecredential", "-c", Path("ak.ctx"), "-C", kPersistentEk, "-i",
        Path("cred.bin"), "-o", Path("released.bin"), "-P",
        absl::StrCat("session:", Path("activate.ctx"))});
  Tool({"tpm2_flushcontext", Path("activate.ctx")});
  Tool({"tpm2_flushcontext", "-t"});
  absl::StatusOr<std::string> released = ReadFileLimited(Path("released.bin"), 1024);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(HexEncode(*released), HexEncode(credential));

  ToolsEkSession(Path("refuse.ctx"));
  auto run = RunTpmTool({"tpm2_activatecredential", "-c", Path("ak.ctx"), "-C", kPersistentEk,
                         "-i", Path("changed.bin"), "-o", Path("refused.bin"), "-P",
                         absl::StrCat("session:", Path("refuse.ctx"))},
                        tpm_->tcti());
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_NE(run->exit_code, 0) << "a changed blob must not activate";
  EXPECT_THAT(run->err, HasSubstr("integrity"));
}

TEST_F(MakeCredentialTpmTest, TheAttestorReleasesTpm2MakecredentialsOfflineCredential) {
  const std::string credential = RandomCredential();
  ASSERT_TRUE(WriteFileAtomic(Path("ek.pub"), ek_public_, 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(Path("secret.bin"), credential, 0600).ok());
  for (const auto& [file, name] : {std::pair("tools.bin", ak_->name()),
                                   std::pair("other.bin", *PublicAreaName(MakeAkPublic()))}) {
    // -T none: no TPM, the tool computes the credential in software.
    Tool({"tpm2_makecredential", "-T", "none", "-u", Path("ek.pub"), "-s", Path("secret.bin"),
          "-n", HexEncode(name), "-o", Path(file)});
  }
  for (const char* file : {"tools.bin", "other.bin"}) {
    absl::StatusOr<std::string> bytes = ReadFileLimited(Path(file), 4096);
    ASSERT_TRUE(bytes.ok());
    ASSERT_EQ(bytes->substr(0, 8), std::string(kToolsHeader, 8));
    // The blob is a TPM2B: its size is in its first two bytes.
    const size_t blob_size =
        2 + ((static_cast<uint8_t>((*bytes)[8]) << 8) | static_cast<uint8_t>((*bytes)[9]));
    const MadeCredential tools{.credential_blob = bytes->substr(8, blob_size),
                               .encrypted_secret = bytes->substr(8 + blob_size)};
    // The same layout as the verifier's for the same inputs.
    const MadeCredential ours = *MakeCredential(ek_public_, ak_->name(), credential);
    EXPECT_EQ(tools.credential_blob.size(), ours.credential_blob.size());
    EXPECT_EQ(tools.encrypted_secret.size(), ours.encrypted_secret.size());
    absl::StatusOr<std::string> released = Activate(tools);
    if (std::string(file) == "tools.bin") {
      ASSERT_TRUE(released.ok()) << released.status();
      EXPECT_EQ(HexEncode(*released), HexEncode(credential));
    } else {
      EXPECT_EQ(released.status().code(), absl::StatusCode::kInvalidArgument) << file;
    }
  }
}

}  // namespace
}  // namespace fdattest
