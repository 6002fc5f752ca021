// The measurement register against a real swtpm: the NV extend index is
// defined once, extends chain as SHA-256(value || digest), NV_Certify output
// parses and verifies with OpenSSL and tpm2_nvread sees the same value; the
// PCR register quotes verifiably (tpm2_checkquote) and refuses PCRs 16 and 23
// unless explicitly allowed.
#include "attestor/tpm_register.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attestor/tpm_context.h"
#include "attestor/tpm_keys.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "tests/support/swtpm.h"
#include "tests/support/tpm_test_util.h"

namespace fdattest {
namespace {

using ::fdattest::testing::ParseAttest;
using ::fdattest::testing::PublicToPem;
using ::fdattest::testing::RunTpmTool;
using ::fdattest::testing::Swtpm;
using ::fdattest::testing::VerifyEcdsaAttest;

std::string Str(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

Sha256Digest Chain(const Sha256Digest& value, const Sha256Digest& digest) {
  return Sha256(Str(value) + Str(digest));
}

// One swtpm, the attestor's state directory and (while open) the ESAPI
// connection, AK and register.
class Attestor {
 public:
  absl::Status Start(bool provisioned = true) {
    ASSIGN_OR_RETURN(tpm_, Swtpm::Start(provisioned));
    state_dir_ = absl::StrCat(tpm_->dir(), "/attestor");
    if (mkdir(state_dir_.c_str(), 0700) != 0) return ErrnoStatus("mkdir", errno);
    return absl::OkStatus();
  }
  absl::Status Connect() {
    ASSIGN_OR_RETURN(ctx_, EsysContext::Open({.tcti = tpm_->tcti()}));
    ASSIGN_OR_RETURN(ak_, AttestationKey::LoadOrCreate(*ctx_, state_dir_));
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<NvRegister>> OpenNv(NvRegister::Options options = {}) {
    return NvRegister::Open(*ctx_, state_dir_, options);
  }
  // Releases the TPM connection (tpm2-tools can only connect after this).
  void Disconnect() {
    ak_.reset();
    ctx_.reset();
  }
  Swtpm& tpm() { return *tpm_; }
  EsysContext& ctx() { return *ctx_; }
  const AttestationKey& ak() { return *ak_; }
  const std::string& state_dir() { return state_dir_; }

 private:
  std::unique_ptr<Swtpm> tpm_;
  std::string state_dir_;
  std::unique_ptr<EsysContext> ctx_;
  std::unique_ptr<AttestationKey> ak_;
};

std::string Qualifying(absl::string_view label) {
  Sha256Digest d = Sha256(label);
  return Str(d);
}

TEST(NvRegisterTest, DefinedOnceThenReopened) {
  Attestor a;
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.Connect().ok());
  auto reg = a.OpenNv();
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_TRUE((*reg)->created());
  EXPECT_EQ((*reg)->Describe(), "nv:0x01bfda00");
  const std::string name = (*reg)->name();
  auto zero = (*reg)->Read();
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(*zero, Sha256Digest{});
  reg->reset();
  auto again = a.OpenNv();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE((*again)->created());

  struct stat st;
  ASSERT_EQ(stat(absl::StrCat(a.state_dir(), "/", NvRegister::kAuthFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(NvRegisterTest, ThreeExtendsReadBackAsTheSha256ChainAndTpm2NvreadAgrees) {
  Attestor a;
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.Connect().ok());
  auto reg = a.OpenNv();
  ASSERT_TRUE(reg.ok()) << reg.status();
  Sha256Digest expected{};
  for (const char* m : {"launch-1 manifest", "launch-1 separator", "launch-2 manifest"}) {
    const Sha256Digest d = Sha256(m);
    ASSERT_TRUE((*reg)->Extend(d).ok());
    expected = Chain(expected, d);
  }
  auto value = (*reg)->Read();
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(HexEncode(*value), HexEncode(expected));

  reg->reset();
  a.Disconnect();  // swtpm serves one client: tpm2-tools only after this
  const std::string out = absl::StrCat(a.state_dir(), "/nvread.bin");
  auto tool = RunTpmTool({"tpm2_nvread", "0x01bfda00", "-C", "o", "-s", "32", "-o", out},
                         a.tpm().tcti());
  ASSERT_TRUE(tool.ok()) << tool.status();
  ASSERT_EQ(tool->exit_code, 0) << tool->err;
  auto bytes = ReadFileLimited(out, 64);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(HexEncode(*bytes), HexEncode(expected));
}

TEST(NvRegisterTest, CertifyOutputParsesAndVerifiesWithTheAk) {
  Attestor a;
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.Connect().ok());
  auto reg = a.OpenNv();
  ASSERT_TRUE(reg.ok()) << reg.status();
  const std::string qualifying = Qualifying("nonce-1");
  auto early = (*reg)->Certify(a.ak(), qualifying);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition) << early.status();

  ASSERT_TRUE((*reg)->Extend(Sha256("m1")).ok());
  ASSERT_TRUE((*reg)->Extend(Sha256("m2")).ok());
  const Sha256Digest expected = Chain(Chain(Sha256Digest{}, Sha256("m1")), Sha256("m2"));
  auto att = (*reg)->Certify(a.ak(), qualifying);
  ASSERT_TRUE(att.ok()) << att.status();

  ASSERT_GE(att->attest.size(), 6u);
  EXPECT_EQ(att->attest.substr(0, 6), std::string("\xff\x54\x43\x47\x80\x14", 6));
  auto parsed = ParseAttest(att->attest);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->magic, TPM2_GENERATED_VALUE);
  EXPECT_EQ(parsed->type, TPM2_ST_ATTEST_NV);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(parsed->extraData.buffer), parsed->extraData.size),
            qualifying);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(parsed->qualifiedSigner.name),
                        parsed->qualifiedSigner.size),
            a.ak().qualified_name());
  const TPMS_NV_CERTIFY_INFO& nv = parsed->attested.nv;
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(nv.indexName.name), nv.indexName.size),
            (*reg)->name());
  EXPECT_EQ(nv.offset, 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(nv.nvContents.buffer), nv.nvContents.size),
            Str(expected));
  auto clock = a.ctx().ReadClock();
  ASSERT_TRUE(clock.ok());
  // The AK is in the endorsement hierarchy, so the counters are not obfuscated.
  EXPECT_EQ(parsed->clockInfo.resetCount, clock->reset_count);
  EXPECT_EQ(parsed->clockInfo.restartCount, clock->restart_count);
  EXPECT_EQ(parsed->clockInfo.safe, TPM2_YES);

  EXPECT_TRUE(VerifyEcdsaAttest(a.ak().public_area(), att->attest, att->signature).ok());
  std::string tampered = att->attest;
  tampered[tampered.size() - 1] ^= 1;  // one bit of the register value
  EXPECT_EQ(VerifyEcdsaAttest(a.ak().public_area(), tampered, att->signature).code(),
            absl::StatusCode::kUnauthenticated);

  EXPECT_FALSE((*reg)->Certify(a.ak(), std::string(65, 'x')).ok());  // > sizeof(TPMT_HA)
}

TEST(NvRegisterTest, TpmResetClearsTheRegisterAndStartsANewEpoch) {
  Attestor a;
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.Connect().ok());
  uint32_t reset_count;
  {
    auto reg = a.OpenNv();
    ASSERT_TRUE(reg.ok()) << reg.status();
    ASSERT_TRUE((*reg)->Extend(Sha256("before reset")).ok());
    reset_count = a.ctx().ReadClock()->reset_count;
  }
  a.Disconnect();
  ASSERT_TRUE(a.tpm().Restart().ok());
  ASSERT_TRUE(a.Connect().ok());
  auto reg = a.OpenNv();
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_FALSE((*reg)->created());
  EXPECT_EQ(*(*reg)->Read(), Sha256Digest{});
  EXPECT_EQ(a.ctx().ReadClock()->reset_count, reset_count + 1);
}

TEST(NvRegisterTest, RefusesAnIndexItDidNotDefineOrCannotAuthorise) {
  Attestor a;
  ASSERT_TRUE(a.Start().ok());
  // Someone else's ordinary index at our address.
  auto tool = RunTpmTool({"tpm2_nvdefine", "0x01bfda00", "-C", "o", "-s", "32", "-a",
                          "ownerread|ownerwrite|authread|authwrite"},
                         a.tpm().tcti());
  ASSERT_TRUE(tool.ok()) << tool.status();
  ASSERT_EQ(tool->exit_code, 0) << tool->err;
  ASSERT_TRUE(a.Connect().ok());
  auto reg = a.OpenNv();
  ASSERT_FALSE(reg.ok());
  EXPECT_EQ(reg.status().code(), absl::StatusCode::kFailedPrecondition) << reg.status();

  // Our own kind of index, but the auth value is gone: refused, not adopted.
  auto other = a.OpenNv({.index = 0x01bfda01});
  ASSERT_TRUE(other.ok()) << other.status();
  other->reset();
  ASSERT_EQ(unlink(absl::StrCat(a.state_dir(), "/", NvRegister::kAuthFile).c_str()), 0);
  auto lost = a.OpenNv({.index = 0x01bfda01});
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kFailedPrecondition) << lost.status();

  // A wrong auth value: the TPM refuses it.
  ASSERT_TRUE(WriteFileAtomic(absl::StrCat(a.state_dir(), "/", NvRegister::kAuthFile),
                              std::string(32, 'w'), 0600)
                  .ok());
  auto wrong = a.OpenNv({.index = 0x01bfda01});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied) << wrong.status();
}

TEST(PcrRegisterTest, RefusesResettablePcrsUnlessAllowed) {
  Attestor a;
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.Connect().ok());
  for (int pcr : {16, 23}) {
    auto reg = PcrRegister::Open(a.ctx(), {.pcr = pcr});
    ASSERT_FALSE(reg.ok());
    EXPECT_EQ(reg.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_TRUE(PcrRegister::Open(a.ctx(), {.pcr = pcr, .allow_resettable_pcr = true}).ok());
  }
  EXPECT_EQ(PcrRegister::Open(a.ctx(), {.pcr = 24}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PcrRegister::Open(a.ctx(), {.pcr = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(PcrRegister::Open(a.ctx(), {.pcr = 15}).ok());
}

TEST(PcrRegisterTest, ExtendAndQuoteVerifyWithTpm2Checkquote) {
  Attestor a;
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.Connect().ok());
  auto reg = PcrRegister::Open(a.ctx(), {.pcr = 15});
  ASSERT_TRUE(reg.ok()) << reg.status();
  auto start = (*reg)->Read();
  ASSERT_TRUE(start.ok());
  Sha256Digest expected = *start;
  for (const char* m : {"m1", "m2", "m3"}) {
    ASSERT_TRUE((*reg)->Extend(Sha256(m)).ok());
    expected = Chain(expected, Sha256(m));
  }
  EXPECT_EQ(*(*reg)->Read(), expected);
  const std::string qualifying = Qualifying("pcr nonce");
  auto att = (*reg)->Certify(a.ak(), qualifying);
  ASSERT_TRUE(att.ok()) << att.status();
  auto parsed = ParseAttest(att->attest);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->type, TPM2_ST_ATTEST_QUOTE);
  EXPECT_EQ(parsed->attested.quote.pcrDigest.size, 32);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(parsed->attested.quote.pcrDigest.buffer), 32),
            Str(Sha256(Str(expected))));
  EXPECT_TRUE(VerifyEcdsaAttest(a.ak().public_area(), att->attest, att->signature).ok());

  const std::string dir = a.state_dir();
  auto pem = PublicToPem(a.ak().public_area());
  ASSERT_TRUE(pem.ok()) << pem.status();
  ASSERT_TRUE(WriteFileAtomic(dir + "/ak.pem", *pem).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/quote.msg", att->attest).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/quote.sig", att->signature).ok());
  reg->reset();
  a.Disconnect();
  auto check = RunTpmTool({"tpm2_checkquote", "-u", dir + "/ak.pem", "-m", dir + "/quote.msg",
                           "-s", dir + "/quote.sig", "-g", "sha256", "-q", HexEncode(qualifying)},
                          a.tpm().tcti());
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->exit_code, 0) << check->err;
  auto wrong = RunTpmTool({"tpm2_checkquote", "-u", dir + "/ak.pem", "-m", dir + "/quote.msg",
                           "-s", dir + "/quote.sig", "-g", "sha256", "-q",
                           HexEncode(Qualifying("other nonce"))},
                          a.tpm().tcti());
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_NE(wrong->exit_code, 0);
  auto pcrread = RunTpmTool({"tpm2_pcrread", "sha256:15", "-o", dir + "/pcr.bin"}, a.tpm().tcti());
  ASSERT_TRUE(pcrread.ok()) << pcrread.status();
  ASSERT_EQ(pcrread->exit_code, 0) << pcrread->err;
  EXPECT_EQ(HexEncode(*ReadFileLimited(dir + "/pcr.bin", 64)), HexEncode(expected));
}

// Latency of the operations the attestor performs per request, in-process
// over the swtpm unix socket (printed; medians of 50).
TEST(TpmTimingTest, ReportsOperationLatencies) {
  Attestor a;
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.Connect().ok());
  auto nv = a.OpenNv();
  ASSERT_TRUE(nv.ok()) << nv.status();
  auto pcr = PcrRegister::Open(a.ctx(), {.pcr = 15});
  ASSERT_TRUE(pcr.ok()) << pcr.status();
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto time_ms = [](auto&& fn) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<double> nv_extend, nv_certify, pcr_extend, quote, clock;
  const std::string q = Qualifying("timing");
  for (int i = 0; i < 50; ++i) {
    nv_extend.push_back(time_ms([&] { ASSERT_TRUE((*nv)->Extend(Sha256("x")).ok()); }));
    nv_certify.push_back(time_ms([&] { ASSERT_TRUE((*nv)->Certify(a.ak(), q).ok()); }));
    pcr_extend.push_back(time_ms([&] { ASSERT_TRUE((*pcr)->Extend(Sha256("x")).ok()); }));
    quote.push_back(time_ms([&] { ASSERT_TRUE((*pcr)->Certify(a.ak(), q).ok()); }));
    clock.push_back(time_ms([&] { ASSERT_TRUE(a.ctx().ReadClock().ok()); }));
  }
  std::printf("[timing] NV extend %.3f ms, NV certify %.3f ms, PCR extend %.3f ms, quote %.3f ms, "
              "ReadClock %.3f ms (medians of 50)\n",
              median(nv_extend), median(nv_certify), median(pcr_extend), median(quote),
              median(clock));
}

}  // namespace
}  // namespace fdattest
