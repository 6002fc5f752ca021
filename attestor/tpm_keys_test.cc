// The EK and AK against a real swtpm: the AK is created once and reloaded
// with the same name, has exactly the required attributes, and a stored AK
// that is damaged or belongs to another TPM is refused, never replaced; the
// EK certificate read from NV certifies the EK this code derives.
#include "attestor/tpm_keys.h"
#include "common/tpm_names.h"
#include "common/tpm_wire.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "attestor/tpm_context.h"
#include "common/file_io.h"
#include "gtest/gtest.h"
#include "tests/support/swtpm.h"

namespace fdattest {
namespace {

using ::fdattest::testing::Swtpm;

struct Env {
  std::unique_ptr<Swtpm> tpm;
  std::string state_dir;
};

Env StartEnv(bool provisioned = true) {
  Env env;
  auto tpm = Swtpm::Start(provisioned);
  EXPECT_TRUE(tpm.ok()) << tpm.status();
  if (!tpm.ok()) return env;
  env.tpm = std::move(*tpm);
  env.state_dir = absl::StrCat(env.tpm->dir(), "/attestor");
  EXPECT_EQ(mkdir(env.state_dir.c_str(), 0700), 0);
  return env;
}

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

TEST(AttestationKeyTest, CreatedOnceThenReloadedWithTheSameName) {
  Env env = StartEnv();
  ASSERT_TRUE(env.tpm);
  std::string name, public_area;
  {
    auto ctx = EsysContext::Open({.tcti = env.tpm->tcti()});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    auto t0 = std::chrono::steady_clock::now();
    auto ak = AttestationKey::LoadOrCreate(**ctx, env.state_dir);
    ASSERT_TRUE(ak.ok()) << ak.status();
    std::printf("[timing] AK create (EK primary + create + load): %.2f ms\n", MsSince(t0));
    EXPECT_TRUE((*ak)->created());
    name = (*ak)->name();
    public_area = (*ak)->public_area();
  }
  struct stat st;
  ASSERT_EQ(stat(absl::StrCat(env.state_dir, "/ak.priv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(name.size(), 34u);
  EXPECT_EQ(name.substr(0, 2), std::string("\x00\x0b", 2));

  for (int i = 0; i < 2; ++i) {  // a new connection, then a TPM Reset
    if (i == 1) {
      ASSERT_TRUE(env.tpm->Restart().ok());
    }
    auto ctx = EsysContext::Open({.tcti = env.tpm->tcti()});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    auto t0 = std::chrono::steady_clock::now();
    auto ak = AttestationKey::LoadOrCreate(**ctx, env.state_dir);
    ASSERT_TRUE(ak.ok()) << ak.status();
    std::printf("[timing] AK load (EK primary + load): %.2f ms\n", MsSince(t0));
    EXPECT_FALSE((*ak)->created());
    EXPECT_EQ((*ak)->name(), name);
    EXPECT_EQ((*ak)->public_area(), public_area);
  }
}

TEST(AttestationKeyTest, HasExactlyTheRequiredAttributes) {
  Env env = StartEnv();
  ASSERT_TRUE(env.tpm);
  auto ctx = EsysContext::Open({.tcti = env.tpm->tcti()});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  auto ak = AttestationKey::LoadOrCreate(**ctx, env.state_dir);
  ASSERT_TRUE(ak.ok()) << ak.status();

  // What the TPM itself reports for the loaded key.
  TPM2B_PUBLIC* raw = nullptr;
  ASSERT_EQ(Esys_ReadPublic((*ctx)->get(), (*ak)->handle(), ESYS_TR_NONE, ESYS_TR_NONE,
                            ESYS_TR_NONE, &raw, nullptr, nullptr),
            TSS2_RC_SUCCESS);
  EsysPtr<TPM2B_PUBLIC> pub(raw);
  const TPMT_PUBLIC& p = pub->publicArea;
  EXPECT_EQ(p.type, TPM2_ALG_ECC);
  EXPECT_EQ(p.nameAlg, TPM2_ALG_SHA256);
  EXPECT_EQ(p.objectAttributes,
            TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
                TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                TPMA_OBJECT_USERWITHAUTH);
  EXPECT_EQ(p.parameters.eccDetail.curveID, TPM2_ECC_NIST_P256);
  EXPECT_EQ(p.parameters.eccDetail.scheme.scheme, TPM2_ALG_ECDSA);
  EXPECT_EQ(p.parameters.eccDetail.scheme.details.ecdsa.hashAlg, TPM2_ALG_SHA256);
  EXPECT_TRUE(CheckAkPublic(p).ok());

  auto exposed = TpmUnmarshal<TPM2B_PUBLIC>((*ak)->public_area());
  ASSERT_TRUE(exposed.ok()) << exposed.status();
  auto name = TpmObjectName(exposed->publicArea);
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, (*ak)->name());
  EXPECT_TRUE(EccPublicToPkey(exposed->publicArea).ok());

  TPMT_PUBLIC weaker = p;
  weaker.objectAttributes &= ~TPMA_OBJECT_FIXEDTPM;  // a duplicable key is no AK
  EXPECT_FALSE(CheckAkPublic(weaker).ok());
  TPMT_PUBLIC unrestricted = p;
  unrestricted.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;  // could sign forged TPMS_ATTEST
  EXPECT_FALSE(CheckAkPublic(unrestricted).ok());
}

TEST(AttestationKeyTest, DamagedStoredAkIsRefusedNotReplaced) {
  Env env = StartEnv();
  ASSERT_TRUE(env.tpm);
  const std::string pub_path = absl::StrCat(env.state_dir, "/ak.pub");
  {
    auto ctx = EsysContext::Open({.tcti = env.tpm->tcti()});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    ASSERT_TRUE(AttestationKey::LoadOrCreate(**ctx, env.state_dir).ok());
  }
  auto bytes = ReadFileLimited(pub_path, 4096);
  ASSERT_TRUE(bytes.ok());
  std::string damaged = *bytes;
  damaged[damaged.size() - 1] ^= 1;  // a bit of the public point
  ASSERT_TRUE(WriteFileAtomic(pub_path, damaged).ok());
  auto ctx = EsysContext::Open({.tcti = env.tpm->tcti()});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  auto ak = AttestationKey::LoadOrCreate(**ctx, env.state_dir);
  ASSERT_FALSE(ak.ok());
  EXPECT_EQ(ak.status().code(), absl::StatusCode::kDataLoss) << ak.status();
  EXPECT_EQ(*ReadFileLimited(pub_path, 4096), damaged);  // left for an operator to inspect
}

TEST(AttestationKeyTest, AkOfAnotherTpmIsRefused) {
  Env first = StartEnv();
  ASSERT_TRUE(first.tpm);
  {
    auto ctx = EsysContext::Open({.tcti = first.tpm->tcti()});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    ASSERT_TRUE(AttestationKey::LoadOrCreate(**ctx, first.state_dir).ok());
  }
  // A blank TPM has other seeds, so its EK cannot load the first TPM's AK.
  Env other = StartEnv(/*provisioned=*/false);
  ASSERT_TRUE(other.tpm);
  for (const char* f : {"/ak.pub", "/ak.priv"}) {
    auto bytes = ReadFileLimited(absl::StrCat(first.state_dir, f), 4096);
    ASSERT_TRUE(bytes.ok());
    ASSERT_TRUE(WriteFileAtomic(absl::StrCat(other.state_dir, f), *bytes, 0600).ok());
  }
  auto ctx = EsysContext::Open({.tcti = other.tpm->tcti()});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  auto ak = AttestationKey::LoadOrCreate(**ctx, other.state_dir);
  ASSERT_FALSE(ak.ok());
  EXPECT_EQ(ak.status().code(), absl::StatusCode::kDataLoss) << ak.status();
}

TEST(EndorsementKeyTest, CertificateFromNvCertifiesTheDerivedEk) {
  Env env = StartEnv();
  ASSERT_TRUE(env.tpm);
  auto ctx = EsysContext::Open({.tcti = env.tpm->tcti()});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  auto der = ReadEkCertificate(**ctx);
  ASSERT_TRUE(der.ok()) << der.status();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, der->size()), &X509_free);
  ASSERT_TRUE(cert);
  EXPECT_EQ(p, reinterpret_cast<const unsigned char*>(der->data()) + der->size());  // no trailing bytes
  BIGNUM* cert_n = nullptr;
  ASSERT_EQ(EVP_PKEY_get_bn_param(X509_get0_pubkey(cert.get()), OSSL_PKEY_PARAM_RSA_N, &cert_n), 1);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> cert_n_owner(cert_n, &BN_free);

  auto t0 = std::chrono::steady_clock::now();
  auto ek = CreateRsaEk(**ctx);
  ASSERT_TRUE(ek.ok()) << ek.status();
  std::printf("[timing] EK CreatePrimary (RSA-2048): %.2f ms\n", MsSince(t0));
  TPM2B_PUBLIC* raw = nullptr;
  ASSERT_EQ(Esys_ReadPublic((*ctx)->get(), ek->get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                            &raw, nullptr, nullptr),
            TSS2_RC_SUCCESS);
  EsysPtr<TPM2B_PUBLIC> pub(raw);
  std::unique_ptr<BIGNUM, decltype(&BN_free)> ek_n(
      BN_bin2bn(pub->publicArea.unique.rsa.buffer, pub->publicArea.unique.rsa.size, nullptr),
      &BN_free);
  EXPECT_EQ(BN_cmp(ek_n.get(), cert_n), 0);

  EXPECT_EQ(ReadEkCertificate(**ctx, 0x01c0fff0).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace fdattest
