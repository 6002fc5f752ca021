// Enrollment against the in-memory store with software EKs: the credential
// the verifier makes opens only with the certified EK for the presented AK,
// and enrollment refuses an EK from an unknown CA, an AK outside the profile,
// a wrong answer (voiding the enrollment), a second AK for an enrolled EK
// without an administrator's replace, and activation of a revoked attester.
#include "verifier/enrollment.h"

#include <string>

#include "common/sha256.h"
#include "common/tpm_wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/software_ek.h"
#include "tests/support/software_ek_enrollment.h"
#include "verifier/tpm_attest.h"
#include "verifier/tpm_identity.h"

namespace fdattest {
namespace {

using ::fdattest::testing::MakeAkPublic;
using ::fdattest::testing::MakeSoftwareEk;
using ::fdattest::testing::MakeTestCa;
using ::fdattest::testing::SoftwareActivate;
using ::fdattest::testing::SoftwareEk;
using ::fdattest::testing::SoftwareEkEnrollmentTest;
using ::fdattest::testing::TestCa;
using ::testing::HasSubstr;

class EnrollmentTest : public SoftwareEkEnrollmentTest {
 protected:
  // The answer the EK's TPM would give.
  std::string Answer(const SoftwareEk& ek, const EnrollmentChallenge& c) {
    absl::StatusOr<std::string> answer =
        SoftwareActivate(ek, c.ak_name, c.credential_blob, c.encrypted_secret);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.value_or("");
  }

  // Enrolls and activates `ak` for `ek`; the attester's id.
  std::string Enroll(const SoftwareEk& ek, const std::string& ak) {
    absl::StatusOr<EnrollmentChallenge> c = StartEnrollment(context_, ek.certificate, ak, false, false);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return "";
    absl::StatusOr<AttesterRecord> r = FinishEnrollment(context_, c->id, Answer(ek, *c));
    EXPECT_TRUE(r.ok()) << r.status();
    return c->id;
  }

  static void ExpectRefused(const absl::Status& status, absl::StatusCode code,
                            absl::string_view slug) {
    EXPECT_EQ(status.code(), code) << status;
    EXPECT_EQ(EnrollmentProblem(status, "none"), slug) << status;
  }
};

TEST_F(EnrollmentTest, ThePendingAttesterActivatesWithWhatTheEkOpens) {
  const std::string ak = MakeAkPublic();
  absl::StatusOr<EnrollmentChallenge> c = StartEnrollment(context_, ek_.certificate, ak, false, false);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id.size(), 32u);
  EXPECT_EQ(c->ak_name, *PublicAreaName(ak));
  AttesterRecord pending = *store_.GetAttester(c->id);
  EXPECT_EQ(pending.state, AttesterState::kPending);
  EXPECT_EQ(pending.ek_public, CheckEkCertificate(ek_.certificate, ca_.pem)->ek_public);
  EXPECT_EQ(pending.ek_sha256, HexEncode(Sha256(pending.ek_public)));
  EXPECT_EQ(pending.ak_name, HexEncode(c->ak_name));
  EXPECT_EQ(pending.ak_public, ak);
  const std::string answer = Answer(ek_, *c);
  ASSERT_EQ(answer.size(), kEnrollmentCredentialBytes);
  // Only the credential's hash is stored.
  EXPECT_EQ(pending.credential_sha256, HexEncode(Sha256(answer)));
  // Bound to the AK's name: the same blob names no other AK.
  EXPECT_THAT(SoftwareActivate(ek_, *PublicAreaName(MakeAkPublic()), c->credential_blob,
                               c->encrypted_secret)
                  .status()
                  .message(),
              HasSubstr("integrity"));

  absl::StatusOr<AttesterRecord> active = FinishEnrollment(context_, c->id, answer);
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_EQ(active->state, AttesterState::kActive);
  EXPECT_GT(active->activated_at, 0);
  EXPECT_EQ(store_.FindAttesterByAkName(HexEncode(c->ak_name))->id, c->id);
}

TEST_F(EnrollmentTest, RefusesAnEkCertificateFromAnUnknownCa) {
  const TestCa other = MakeTestCa("TPM vendor CA");  // the same name, another key
  const SoftwareEk foreign = MakeSoftwareEk(&other);
  const std::string ak = MakeAkPublic();
  absl::StatusOr<EnrollmentChallenge> c = StartEnrollment(context_, foreign.certificate, ak, false, true);
  ExpectRefused(c.status(), absl::StatusCode::kPermissionDenied, "ek-untrusted");
  EXPECT_THAT(c.status().message(), HasSubstr("does not chain to a trusted TPM CA"));
  EXPECT_EQ(store_.FindAttesterByAkName(HexEncode(*PublicAreaName(ak))).status().code(),
            absl::StatusCode::kNotFound);
  ExpectRefused(StartEnrollment(context_, "not DER", ak, false, false).status(),
                absl::StatusCode::kInvalidArgument, "bad-ek-certificate");
}

TEST_F(EnrollmentTest, RefusesAnAkOutsideTheProfile) {
  constexpr TPMA_OBJECT kGood = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
                                TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH;
  for (TPMA_OBJECT missing : {TPMA_OBJECT_RESTRICTED, TPMA_OBJECT_SIGN_ENCRYPT,
                              TPMA_OBJECT_FIXEDTPM, TPMA_OBJECT_FIXEDPARENT,
                              TPMA_OBJECT_SENSITIVEDATAORIGIN}) {
    ExpectRefused(
        StartEnrollment(context_, ek_.certificate, MakeAkPublic(kGood & ~missing), false, false)
            .status(),
        absl::StatusCode::kInvalidArgument, "bad-ak");
  }
  ExpectRefused(StartEnrollment(context_, ek_.certificate,
                                MakeAkPublic(kGood | TPMA_OBJECT_DECRYPT), false, false)
                    .status(),
                absl::StatusCode::kInvalidArgument, "bad-ak");
  TPM2B_PUBLIC p384 = *TpmUnmarshal<TPM2B_PUBLIC>(MakeAkPublic());
  p384.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
  ExpectRefused(StartEnrollment(context_, ek_.certificate, *TpmMarshal(p384), false, false).status(),
                absl::StatusCode::kInvalidArgument, "bad-ak");
  ExpectRefused(StartEnrollment(context_, ek_.certificate, "junk", false, false).status(),
                absl::StatusCode::kInvalidArgument, "bad-ak");
}

TEST_F(EnrollmentTest, AWrongAnswerVoidsTheEnrollment) {
  absl::StatusOr<EnrollmentChallenge> c =
      StartEnrollment(context_, ek_.certificate, MakeAkPublic(), false, false);
  ASSERT_TRUE(c.ok());
  const std::string answer = Answer(ek_, *c);
  std::string wrong = answer;
  wrong[0] ^= 1;
  ExpectRefused(FinishEnrollment(context_, c->id, wrong).status(),
                absl::StatusCode::kPermissionDenied, "activation-failed");
  EXPECT_EQ(store_.GetAttester(c->id)->state, AttesterState::kRevoked);
  // The right answer no longer helps: enroll again.
  ExpectRefused(FinishEnrollment(context_, c->id, answer).status(),
                absl::StatusCode::kFailedPrecondition, "not-pending");
  ExpectRefused(FinishEnrollment(context_, "00000000000000000000000000000000", answer).status(),
                absl::StatusCode::kNotFound, "unknown-attester");
}

TEST_F(EnrollmentTest, ASecondAkForAnEnrolledEkNeedsAnAdministratorsReplace) {
  const std::string first = Enroll(ek_, MakeAkPublic());
  const std::string ak2 = MakeAkPublic();
  // Not without replace, not replace without the admin role, not the admin
  // role without replace.
  for (auto [replace, admin] : {std::pair(false, false), std::pair(true, false),
                                std::pair(false, true)}) {
    absl::StatusOr<EnrollmentChallenge> c =
        StartEnrollment(context_, ek_.certificate, ak2, replace, admin);
    ExpectRefused(c.status(), absl::StatusCode::kAlreadyExists, "ek-already-enrolled");
  }
  EXPECT_EQ(store_.GetAttester(first)->state, AttesterState::kActive);
  absl::StatusOr<EnrollmentChallenge> c = StartEnrollment(context_, ek_.certificate, ak2, true, true);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(store_.GetAttester(first)->state, AttesterState::kRevoked);
  ASSERT_TRUE(FinishEnrollment(context_, c->id, Answer(ek_, *c)).ok());
  // Another EK enrolls on its own.
  const SoftwareEk ek2 = MakeSoftwareEk(&ca_);
  EXPECT_FALSE(Enroll(ek2, MakeAkPublic()).empty());
}

TEST_F(EnrollmentTest, ARevokedAttesterStaysRevoked) {
  const std::string ak = MakeAkPublic();
  absl::StatusOr<EnrollmentChallenge> c = StartEnrollment(context_, ek_.certificate, ak, false, false);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(store_.RevokeAttester(c->id, 5000).ok());
  ExpectRefused(FinishEnrollment(context_, c->id, Answer(ek_, *c)).status(),
                absl::StatusCode::kFailedPrecondition, "not-pending");
  EXPECT_EQ(store_.GetAttester(c->id)->state, AttesterState::kRevoked);

  // An activated AK, once revoked, cannot come back under any EK.
  const std::string enrolled = Enroll(ek_, ak);
  ASSERT_FALSE(enrolled.empty());
  ASSERT_TRUE(store_.RevokeAttester(enrolled, 6000).ok());
  ExpectRefused(StartEnrollment(context_, ek_.certificate, ak, true, true).status(),
                absl::StatusCode::kAlreadyExists, "ak-already-enrolled");
}

TEST_F(EnrollmentTest, StoreFailuresPassThroughUnnamed) {
  store_.InjectError(absl::InternalError("disk"));
  absl::StatusOr<EnrollmentChallenge> c =
      StartEnrollment(context_, ek_.certificate, MakeAkPublic(), false, false);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(EnrollmentProblem(c.status(), "none"), "none");
}

}  // namespace
}  // namespace fdattest
