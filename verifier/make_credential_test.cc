// The verifier's MakeCredential without a TPM: KDFa agrees with OpenSSL's
// own SP 800-108 KDF (KBKDF), a credential made for a software RSA EK opens
// with that key's private half by the steps of TPM 2.0 Part 1 (and is bound
// to the name: another name fails the HMAC), and EKs, names and credentials
// outside what the TPM accepts are refused. Interop with real TPMs and
// tpm2-tools: tests/verifier/make_credential_tpm_test.cc.
#include "verifier/make_credential.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>

#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/openssl_ptr.h"
#include "common/sha256.h"
#include "common/tpm_ek_template.h"
#include "common/tpm_wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/software_ek.h"

namespace fdattest {
namespace {

using ::fdattest::testing::MakeSoftwareEk;
using ::fdattest::testing::SoftwareActivate;
using ::fdattest::testing::SoftwareEk;
using ::testing::HasSubstr;

std::string Raw(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

// OpenSSL's KBKDF in counter mode with HMAC: r = 32, the label, a zero
// separator, the context and L as 32 bits: the same construction as KDFa.
std::string OpenSslKbkdf(const char* digest, absl::string_view key, absl::string_view label,
                         absl::string_view context, size_t bytes) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "KBKDF", nullptr),
                                                         &EVP_KDF_free);
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                 &EVP_KDF_CTX_free);
  std::string k(key), l(label), c(context);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, const_cast<char*>("counter"), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, const_cast<char*>("HMAC"), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k.data(), k.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, l.data(), l.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, c.data(), c.size()),
      OSSL_PARAM_construct_end()};
  std::string out(bytes, '\0');
  EXPECT_EQ(EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), bytes, params),
            1);
  return out;
}

TEST(TpmKdfaTest, AgreesWithOpenSslKbkdf) {
  const std::string key = "seed seed seed seed seed seed 32";
  const std::string name = absl::StrCat(std::string("\x00\x0b", 2), Raw(Sha256("ak")));
  for (size_t bits : {128u, 256u, 264u, 1024u}) {
    absl::StatusOr<std::string> ours = TpmKdfa(TPM2_ALG_SHA256, key, "STORAGE", name, "", bits);
    ASSERT_TRUE(ours.ok()) << ours.status();
    EXPECT_EQ(HexEncode(*ours), HexEncode(OpenSslKbkdf("SHA256", key, "STORAGE", name, bits / 8)))
        << bits;
  }
  absl::StatusOr<std::string> ours = TpmKdfa(TPM2_ALG_SHA384, key, "INTEGRITY", "u", "v", 384);
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(HexEncode(*ours), HexEncode(OpenSslKbkdf("SHA384", key, "INTEGRITY", "uv", 48)));
  // A label given with its zero octet is the same label.
  EXPECT_EQ(*TpmKdfa(TPM2_ALG_SHA256, key, std::string("STORAGE\0", 8), "", "", 128),
            *TpmKdfa(TPM2_ALG_SHA256, key, "STORAGE", "", "", 128));
  EXPECT_FALSE(TpmKdfa(TPM2_ALG_SHA1, key, "STORAGE", "", "", 128).ok());
  EXPECT_FALSE(TpmKdfa(TPM2_ALG_SHA256, key, "STORAGE", "", "", 12).ok());
}

std::string AkName(absl::string_view what) {
  return absl::StrCat(std::string("\x00\x0b", 2), Raw(Sha256(what)));
}

TEST(MakeCredentialTest, OpensWithTheEkPrivateKeyForTheNamedObjectOnly) {
  const SoftwareEk ek = MakeSoftwareEk(nullptr);
  const std::string credential = Raw(Sha256("credential"));
  absl::StatusOr<MadeCredential> made = MakeCredential(ek.ek_public, AkName("ak"), credential);
  ASSERT_TRUE(made.ok()) << made.status();
  // 2 + (2 + 32-byte HMAC) + (2 + 32 credential bytes); 2 + 256-byte RSA block.
  EXPECT_EQ(made->credential_blob.size(), 2u + 34u + 34u);
  EXPECT_EQ(made->encrypted_secret.size(), 2u + 256u);
  absl::StatusOr<std::string> opened = SoftwareActivate(ek, AkName("ak"), made->credential_blob, made->encrypted_secret);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, credential);
  EXPECT_THAT(SoftwareActivate(ek, AkName("another ak"), made->credential_blob, made->encrypted_secret).status().message(),
              HasSubstr("integrity"));
  EXPECT_THAT(SoftwareActivate(MakeSoftwareEk(nullptr), AkName("ak"), made->credential_blob,
                               made->encrypted_secret).status().message(),
              HasSubstr("seed does not decrypt"));
  // A fresh seed every time: the same inputs never give the same blob.
  absl::StatusOr<MadeCredential> again = MakeCredential(ek.ek_public, AkName("ak"), credential);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->credential_blob, made->credential_blob);
  EXPECT_NE(again->encrypted_secret, made->encrypted_secret);
}

TEST(MakeCredentialTest, RefusesWhatTheTpmWouldNotActivate) {
  const SoftwareEk ek = MakeSoftwareEk(nullptr);
  const std::string credential(32, 'c');
  auto refused = [](absl::StatusOr<MadeCredential> made, absl::string_view why) {
    EXPECT_FALSE(made.ok()) << why;
    EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument) << why;
    EXPECT_THAT(made.status().message(), HasSubstr(why));
  };
  refused(MakeCredential(ek.ek_public, AkName("ak"), ""), "credential: 0 bytes");
  refused(MakeCredential(ek.ek_public, AkName("ak"), std::string(33, 'c')),
          "credential: 33 bytes; must be 1 to 32");
  refused(MakeCredential(ek.ek_public, AkName("ak").substr(0, 33), credential), "object name");
  refused(MakeCredential(ek.ek_public, std::string("\x00\x04", 2) + std::string(20, 'n'),
                         credential),
          "object name");
  refused(MakeCredential(ek.ek_public.substr(1), AkName("ak"), credential), "EK: ");
  refused(MakeCredential(MakeSoftwareEk(nullptr, TPM2_ALG_SHA1).ek_public, AkName("ak"), credential),
          "EK nameAlg");
  refused(MakeCredential(MakeSoftwareEk(nullptr, TPM2_ALG_SHA256, 64).ek_public, AkName("ak"), credential),
          "AES key of 64 bits");

  TPM2B_PUBLIC signing = *TpmUnmarshal<TPM2B_PUBLIC>(ek.ek_public);
  signing.publicArea.objectAttributes |= TPMA_OBJECT_SIGN_ENCRYPT;
  refused(MakeCredential(*TpmMarshal(signing), AkName("ak"), credential),
          "not a restricted decryption key");
  TPM2B_PUBLIC cbc = *TpmUnmarshal<TPM2B_PUBLIC>(ek.ek_public);
  cbc.publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CBC;
  refused(MakeCredential(*TpmMarshal(cbc), AkName("ak"), credential), "is not AES-CFB");
  TPM2B_PUBLIC short_modulus = *TpmUnmarshal<TPM2B_PUBLIC>(ek.ek_public);
  short_modulus.publicArea.unique.rsa.size = 128;
  refused(MakeCredential(*TpmMarshal(short_modulus), AkName("ak"), credential),
          "128-byte modulus");

  // A SHA-384 EK takes credentials up to 48 bytes.
  EXPECT_TRUE(MakeCredential(MakeSoftwareEk(nullptr, TPM2_ALG_SHA384).ek_public, AkName("ak"),
                             std::string(48, 'c'))
                  .ok());
}

}  // namespace
}  // namespace fdattest
