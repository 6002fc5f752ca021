// Smoke tests of the swtpm fixture against the real swtpm through ESAPI: the
// EK certificate chains to the development CA and belongs to the EK, two
// instances are independent, and a restart keeps the state and counts as a
// TPM Reset.
#include "tests/support/swtpm.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace fdattest::testing {
namespace {

constexpr TPM2_HANDLE kRsaEkCertIndex = 0x01c00002;
constexpr TPM2_HANDLE kRsaEkHandle = 0x81010001;

absl::Status TssStatus(const char* what, TSS2_RC rc) {
  return absl::InternalError(absl::StrCat(what, ": ", Tss2_RC_Decode(rc)));
}

// One ESAPI connection; Esys_Finalize and Tss2_TctiLdr_Finalize always run,
// which is what frees swtpm's single client slot.
class Esys {
 public:
  static absl::StatusOr<std::unique_ptr<Esys>> Connect(const std::string& tcti_conf) {
    std::unique_ptr<Esys> e(new Esys);
    TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti_conf.c_str(), &e->tcti_);
    if (rc != TSS2_RC_SUCCESS) return TssStatus("Tss2_TctiLdr_Initialize", rc);
    rc = Esys_Initialize(&e->ctx_, e->tcti_, nullptr);
    if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_Initialize", rc);
    rc = Esys_Startup(e->ctx_, TPM2_SU_CLEAR);
    // swtpm runs with startup-clear, so the TPM is already initialised.
    if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) return TssStatus("Esys_Startup", rc);
    return e;
  }
  ~Esys() {
    if (ctx_ != nullptr) Esys_Finalize(&ctx_);
    if (tcti_ != nullptr) Tss2_TctiLdr_Finalize(&tcti_);
  }
  ESYS_CONTEXT* ctx() const { return ctx_; }

 private:
  Esys() = default;
  ESYS_CONTEXT* ctx_ = nullptr;
  TSS2_TCTI_CONTEXT* tcti_ = nullptr;
};

template <typename T>
struct EsysFree {
  void operator()(T* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree<T>>;

absl::StatusOr<uint32_t> NvBufferMax(ESYS_CONTEXT* ctx) {
  TPMI_YES_NO more;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_TPM_PROPERTIES, TPM2_PT_NV_BUFFER_MAX, 1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> cap(raw);
  if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_GetCapability", rc);
  const TPML_TAGGED_TPM_PROPERTY& props = cap->data.tpmProperties;
  if (props.count < 1 || props.tpmProperty[0].property != TPM2_PT_NV_BUFFER_MAX) {
    return absl::InternalError("TPM did not report TPM2_PT_NV_BUFFER_MAX");
  }
  return props.tpmProperty[0].value;
}

// Reads a whole NV index: NV_ReadPublic for its size, then NV_Read in chunks
// of at most TPM2_PT_NV_BUFFER_MAX bytes, authorised by the index itself.
absl::StatusOr<std::string> ReadNv(ESYS_CONTEXT* ctx, TPM2_HANDLE index) {
  ESYS_TR nv = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(ctx, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
  if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_TR_FromTPMPublic", rc);
  struct Closer {
    ESYS_CONTEXT* ctx;
    ESYS_TR* tr;
    ~Closer() { Esys_TR_Close(ctx, tr); }
  } closer{ctx, &nv};

  TPM2B_NV_PUBLIC* raw_pub = nullptr;
  TPM2B_NAME* raw_name = nullptr;
  rc = Esys_NV_ReadPublic(ctx, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &raw_pub, &raw_name);
  EsysPtr<TPM2B_NV_PUBLIC> pub(raw_pub);
  EsysPtr<TPM2B_NAME> name(raw_name);
  if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_NV_ReadPublic", rc);
  const uint16_t size = pub->nvPublic.dataSize;

  ASSIGN_OR_RETURN(uint32_t chunk_max, NvBufferMax(ctx));
  std::string out;
  while (out.size() < size) {
    const uint16_t chunk = static_cast<uint16_t>(std::min<size_t>(chunk_max, size - out.size()));
    TPM2B_MAX_NV_BUFFER* raw_data = nullptr;
    rc = Esys_NV_Read(ctx, nv, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, chunk,
                      static_cast<uint16_t>(out.size()), &raw_data);
    EsysPtr<TPM2B_MAX_NV_BUFFER> data(raw_data);
    if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_NV_Read", rc);
    if (data->size == 0) return absl::InternalError("Esys_NV_Read returned no data");
    out.append(reinterpret_cast<const char*>(data->buffer), data->size);
  }
  return out;
}

absl::StatusOr<TPMS_TIME_INFO> ReadClock(ESYS_CONTEXT* ctx) {
  TPMS_TIME_INFO* raw = nullptr;
  TSS2_RC rc = Esys_ReadClock(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &raw);
  EsysPtr<TPMS_TIME_INFO> info(raw);
  if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_ReadClock", rc);
  return *info;
}

// The RSA modulus of the persistent EK.
absl::StatusOr<std::string> EkModulus(ESYS_CONTEXT* ctx) {
  ESYS_TR ek = ESYS_TR_NONE;
  TSS2_RC rc =
      Esys_TR_FromTPMPublic(ctx, kRsaEkHandle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ek);
  if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_TR_FromTPMPublic(EK)", rc);
  TPM2B_PUBLIC* raw_pub = nullptr;
  rc = Esys_ReadPublic(ctx, ek, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &raw_pub, nullptr,
                       nullptr);
  EsysPtr<TPM2B_PUBLIC> pub(raw_pub);
  Esys_TR_Close(ctx, &ek);
  if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_ReadPublic(EK)", rc);
  if (pub->publicArea.type != TPM2_ALG_RSA) return absl::InternalError("EK is not RSA");
  const TPM2B_PUBLIC_KEY_RSA& n = pub->publicArea.unique.rsa;
  return std::string(reinterpret_cast<const char*>(n.buffer), n.size);
}

absl::StatusOr<std::string> ReadPcr16(ESYS_CONTEXT* ctx) {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[2] = 0x01;  // PCR 16
  UINT32 update_counter = 0;
  TPML_PCR_SELECTION* raw_sel = nullptr;
  TPML_DIGEST* raw_values = nullptr;
  TSS2_RC rc = Esys_PCR_Read(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &update_counter,
                             &raw_sel, &raw_values);
  EsysPtr<TPML_PCR_SELECTION> out_sel(raw_sel);
  EsysPtr<TPML_DIGEST> values(raw_values);
  if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_PCR_Read", rc);
  if (values->count != 1) return absl::InternalError("PCR 16 not returned");
  return std::string(reinterpret_cast<const char*>(values->digests[0].buffer),
                     values->digests[0].size);
}

absl::Status ExtendPcr16(ESYS_CONTEXT* ctx, unsigned char fill) {
  TPML_DIGEST_VALUES digests{};
  digests.count = 1;
  digests.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::fill(std::begin(digests.digests[0].digest.sha256),
            std::end(digests.digests[0].digest.sha256), fill);
  TSS2_RC rc =
      Esys_PCR_Extend(ctx, ESYS_TR_PCR16, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &digests);
  if (rc != TSS2_RC_SUCCESS) return TssStatus("Esys_PCR_Extend", rc);
  return absl::OkStatus();
}

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

// Verifies a DER certificate against one trusted PEM CA certificate and
// returns its RSA modulus.
absl::StatusOr<std::string> VerifyEkCert(const std::string& der, const std::string& ca_path) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return OpenSslStatus("d2i_X509(EK certificate)");
  std::unique_ptr<FILE, int (*)(FILE*)> f(fopen(ca_path.c_str(), "re"), fclose);
  if (!f) return ErrnoStatus("open " + ca_path, errno);
  X509Ptr ca(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!ca) return OpenSslStatus("PEM_read_X509(CA)");

  std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> sctx(X509_STORE_CTX_new(),
                                                                  X509_STORE_CTX_free);
  if (!store || !sctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(sctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return OpenSslStatus("X509 store setup");
  }
  if (X509_verify_cert(sctx.get()) != 1) {
    return absl::UnauthenticatedError(
        absl::StrCat("EK certificate does not chain to ", ca_path, ": ",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx.get()))));
  }
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  BIGNUM* n = nullptr;
  if (key == nullptr || EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1) {
    return OpenSslStatus("EK certificate RSA modulus");
  }
  std::string modulus(BN_num_bytes(n), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(modulus.data()));
  BN_free(n);
  return modulus;
}

TEST(SwtpmTest, ProvisionedEkCertificateChainsToDevCaAndMatchesEk) {
  absl::StatusOr<std::unique_ptr<Swtpm>> tpm = Swtpm::Start();
  ASSERT_TRUE(tpm.ok()) << tpm.status();
  absl::StatusOr<std::string> ca = Swtpm::CaCertPemPath();
  ASSERT_TRUE(ca.ok()) << ca.status();

  absl::StatusOr<std::unique_ptr<Esys>> esys = Esys::Connect((*tpm)->tcti());
  ASSERT_TRUE(esys.ok()) << esys.status();
  absl::StatusOr<std::string> der = ReadNv((*esys)->ctx(), kRsaEkCertIndex);
  ASSERT_TRUE(der.ok()) << der.status();
  absl::StatusOr<std::string> cert_modulus = VerifyEkCert(*der, *ca);
  ASSERT_TRUE(cert_modulus.ok()) << cert_modulus.status();
  absl::StatusOr<std::string> ek_modulus = EkModulus((*esys)->ctx());
  ASSERT_TRUE(ek_modulus.ok()) << ek_modulus.status();
  EXPECT_EQ(*cert_modulus, *ek_modulus);
}

TEST(SwtpmTest, BlankTpmHasNoEkCertificate) {
  absl::StatusOr<std::unique_ptr<Swtpm>> tpm = Swtpm::Start(/*provisioned=*/false);
  ASSERT_TRUE(tpm.ok()) << tpm.status();
  absl::StatusOr<std::unique_ptr<Esys>> esys = Esys::Connect((*tpm)->tcti());
  ASSERT_TRUE(esys.ok()) << esys.status();
  EXPECT_FALSE(ReadNv((*esys)->ctx(), kRsaEkCertIndex).ok());
  // The TPM itself answers.
  EXPECT_TRUE(ReadClock((*esys)->ctx()).ok());
}

TEST(SwtpmTest, TwoInstancesRunAtOnceIndependently) {
  absl::StatusOr<std::unique_ptr<Swtpm>> a = Swtpm::Start();
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::unique_ptr<Swtpm>> b = Swtpm::Start();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE((*a)->dir(), (*b)->dir());
  EXPECT_NE((*a)->tcti(), (*b)->tcti());

  // Both connections open at the same time.
  absl::StatusOr<std::unique_ptr<Esys>> ea = Esys::Connect((*a)->tcti());
  ASSERT_TRUE(ea.ok()) << ea.status();
  absl::StatusOr<std::unique_ptr<Esys>> eb = Esys::Connect((*b)->tcti());
  ASSERT_TRUE(eb.ok()) << eb.status();

  absl::StatusOr<std::string> a_before = ReadPcr16((*ea)->ctx());
  ASSERT_TRUE(a_before.ok()) << a_before.status();
  absl::StatusOr<std::string> b_before = ReadPcr16((*eb)->ctx());
  ASSERT_TRUE(b_before.ok()) << b_before.status();
  ASSERT_EQ(*a_before, *b_before);

  ASSERT_TRUE(ExtendPcr16((*ea)->ctx(), 0xab).ok());
  absl::StatusOr<std::string> a_after = ReadPcr16((*ea)->ctx());
  ASSERT_TRUE(a_after.ok()) << a_after.status();
  absl::StatusOr<std::string> b_after = ReadPcr16((*eb)->ctx());
  ASSERT_TRUE(b_after.ok()) << b_after.status();
  EXPECT_NE(*a_after, *a_before);
  EXPECT_EQ(*b_after, *b_before);

  // Clones of one template: the same EK certificate in both.
  absl::StatusOr<std::string> cert_a = ReadNv((*ea)->ctx(), kRsaEkCertIndex);
  ASSERT_TRUE(cert_a.ok()) << cert_a.status();
  absl::StatusOr<std::string> cert_b = ReadNv((*eb)->ctx(), kRsaEkCertIndex);
  ASSERT_TRUE(cert_b.ok()) << cert_b.status();
  EXPECT_EQ(*cert_a, *cert_b);
}

// swtpm with startup-clear after a stop without TPM2_Shutdown(STATE) is a TPM
// Reset: resetCount goes up, restartCount stays 0, PCRs are cleared, NV kept.
TEST(SwtpmTest, RestartKeepsStateAndIsATpmReset) {
  absl::StatusOr<std::unique_ptr<Swtpm>> tpm = Swtpm::Start();
  ASSERT_TRUE(tpm.ok()) << tpm.status();
  TPMS_TIME_INFO before;
  std::string cert_before;
  {
    absl::StatusOr<std::unique_ptr<Esys>> esys = Esys::Connect((*tpm)->tcti());
    ASSERT_TRUE(esys.ok()) << esys.status();
    absl::StatusOr<TPMS_TIME_INFO> t = ReadClock((*esys)->ctx());
    ASSERT_TRUE(t.ok()) << t.status();
    before = *t;
    absl::StatusOr<std::string> cert = ReadNv((*esys)->ctx(), kRsaEkCertIndex);
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_before = *cert;
    ASSERT_TRUE(ExtendPcr16((*esys)->ctx(), 0x01).ok());
  }
  absl::Status restarted = (*tpm)->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted;

  absl::StatusOr<std::unique_ptr<Esys>> esys = Esys::Connect((*tpm)->tcti());
  ASSERT_TRUE(esys.ok()) << esys.status();
  absl::StatusOr<TPMS_TIME_INFO> after = ReadClock((*esys)->ctx());
  ASSERT_TRUE(after.ok()) << after.status();
  std::printf("resetCount %u -> %u, restartCount %u -> %u\n", before.clockInfo.resetCount,
              after->clockInfo.resetCount, before.clockInfo.restartCount,
              after->clockInfo.restartCount);
  EXPECT_EQ(after->clockInfo.resetCount, before.clockInfo.resetCount + 1);
  EXPECT_EQ(after->clockInfo.restartCount, before.clockInfo.restartCount);

  absl::StatusOr<std::string> cert_after = ReadNv((*esys)->ctx(), kRsaEkCertIndex);
  ASSERT_TRUE(cert_after.ok()) << cert_after.status();
  EXPECT_EQ(*cert_after, cert_before);
  absl::StatusOr<std::string> pcr = ReadPcr16((*esys)->ctx());
  ASSERT_TRUE(pcr.ok()) << pcr.status();
  EXPECT_EQ(*pcr, std::string(32, '\0'));
}

TEST(SwtpmTest, StopIsIdempotentAndDestructorRemovesTheDirectory) {
  std::string dir;
  {
    absl::StatusOr<std::unique_ptr<Swtpm>> tpm = Swtpm::Start();
    ASSERT_TRUE(tpm.ok()) << tpm.status();
    dir = (*tpm)->dir();
    EXPECT_LE(dir.size(), 97u);
    ASSERT_TRUE((*tpm)->Stop().ok());
    ASSERT_TRUE((*tpm)->Stop().ok());
    struct stat st;
    EXPECT_EQ(stat((dir + "/tpm2-00.permall").c_str(), &st), 0) << "state kept after Stop";
    // A stopped TPM refuses connections.
    EXPECT_FALSE(Esys::Connect((*tpm)->tcti()).ok());
    ASSERT_TRUE((*tpm)->Restart().ok());
    EXPECT_TRUE(Esys::Connect((*tpm)->tcti()).ok());
  }
  struct stat st;
  EXPECT_NE(stat(dir.c_str(), &st), 0);
}

}  // namespace
}  // namespace fdattest::testing
