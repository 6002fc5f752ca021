// EsysContext and TpmHandle against a real swtpm: startup on an already
// started TPM, clock/epoch counters across a TPM Reset, flushing of handles
// (ours on scope exit, a dead client's on open), and RC conversion.
#include "attestor/tpm_context.h"

#include <memory>

#include "attestor/tpm_keys.h"
#include "gtest/gtest.h"
#include "tests/support/swtpm.h"

namespace fdattest {
namespace {

using ::fdattest::testing::Swtpm;

uint32_t CountHandles(EsysContext& ctx, TPM2_HANDLE first) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_HANDLES, first, TPM2_MAX_CAP_HANDLES, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  EXPECT_EQ(rc, TSS2_RC_SUCCESS);
  return rc == TSS2_RC_SUCCESS ? data->data.handles.count : 0;
}

// Loads an ECC primary the way a crashed client would leave it: no flush.
void LeakPrimary(EsysContext& ctx) {
  TPM2B_PUBLIC tmpl = AkTemplate();
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION pcrs{};
  ESYS_TR tr = ESYS_TR_NONE;
  ASSERT_EQ(Esys_CreatePrimary(ctx.get(), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE, &sensitive, &tmpl, &outside, &pcrs, &tr, nullptr,
                               nullptr, nullptr, nullptr),
            TSS2_RC_SUCCESS);
}

TEST(EsysContextTest, OpensAnAlreadyStartedTpm) {
  auto tpm = Swtpm::Start();
  ASSERT_TRUE(tpm.ok()) << tpm.status();
  auto ctx = EsysContext::Open({.tcti = (*tpm)->tcti()});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  auto clock = (*ctx)->ReadClock();
  ASSERT_TRUE(clock.ok()) << clock.status();
  EXPECT_TRUE(clock->safe);
}

TEST(EsysContextTest, BadTctiIsAnErrorNotACrash) {
  auto ctx = EsysContext::Open({.tcti = "swtpm:path=/nonexistent/fdattest/sock"});
  EXPECT_FALSE(ctx.ok());
  EXPECT_FALSE(EsysContext::Open({.tcti = ""}).ok());
}

TEST(EsysContextTest, TpmResetAdvancesResetCount) {
  auto tpm = Swtpm::Start();
  ASSERT_TRUE(tpm.ok()) << tpm.status();
  TpmClockInfo before;
  {
    auto ctx = EsysContext::Open({.tcti = (*tpm)->tcti()});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    auto clock = (*ctx)->ReadClock();
    ASSERT_TRUE(clock.ok()) << clock.status();
    before = *clock;
  }  // disconnect before restarting: swtpm serves one client
  ASSERT_TRUE((*tpm)->Restart().ok());
  auto ctx = EsysContext::Open({.tcti = (*tpm)->tcti()});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  auto after = (*ctx)->ReadClock();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->reset_count, before.reset_count + 1);
}

TEST(EsysContextTest, HandleGuardFlushesAndOpenFlushesADeadClientsHandles) {
  auto tpm = Swtpm::Start();
  ASSERT_TRUE(tpm.ok()) << tpm.status();
  {
    auto ctx = EsysContext::Open({.tcti = (*tpm)->tcti()});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    {
      auto ek = CreateRsaEk(**ctx);
      ASSERT_TRUE(ek.ok()) << ek.status();
      EXPECT_EQ(CountHandles(**ctx, TPM2_TRANSIENT_FIRST), 1u);
    }
    EXPECT_EQ(CountHandles(**ctx, TPM2_TRANSIENT_FIRST), 0u);
    // Fill all three of swtpm's transient slots and "die".
    for (int i = 0; i < 3; ++i) LeakPrimary(**ctx);
    EXPECT_EQ(CountHandles(**ctx, TPM2_TRANSIENT_FIRST), 3u);
  }
  {
    auto ctx = EsysContext::Open({.tcti = (*tpm)->tcti(), .flush_stale_handles = false});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    EXPECT_EQ(CountHandles(**ctx, TPM2_TRANSIENT_FIRST), 3u);  // swtpm has no resource manager
  }
  auto ctx = EsysContext::Open({.tcti = (*tpm)->tcti()});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  EXPECT_EQ(CountHandles(**ctx, TPM2_TRANSIENT_FIRST), 0u);
  EXPECT_EQ(CountHandles(**ctx, TPM2_LOADED_SESSION_FIRST), 0u);
}

TEST(TpmStatusTest, ConvertsResponseCodes) {
  EXPECT_TRUE(TpmStatus(TSS2_RC_SUCCESS, "x").ok());
  // TPM_RC_BAD_AUTH on session 1 (0x9a2): authorisation, whatever the session.
  absl::Status bad_auth = TpmStatus(0x9a2, "extend");
  EXPECT_EQ(bad_auth.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(bad_auth.message().find("extend: TPM error 0x9a2"), std::string::npos);
  EXPECT_EQ(TpmBaseRc(0x9a2), TPM2_RC_BAD_AUTH);
  EXPECT_EQ(TpmBaseRc(TPM2_RC_INITIALIZE), TPM2_RC_INITIALIZE);
  EXPECT_EQ(TpmBaseRc(TSS2_TCTI_RC_IO_ERROR), 0u);  // not a TPM response
  EXPECT_EQ(TpmStatus(TSS2_TCTI_RC_IO_ERROR, "x").code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace fdattest
