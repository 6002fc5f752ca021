// The attester routes as the HTTP server calls them: enroll and activate
// with JSON bodies end to end (a software EK answers), each route's role
// check, strict bodies, and the problem documents API.md names. The record
// served never carries the credential or its hash.
#include "verifier/service/attester_routes.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/software_ek.h"
#include "tests/support/software_ek_enrollment.h"

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

class AttesterRoutesTest : public SoftwareEkEnrollmentTest {
 protected:
  static Json BodyOf(const ApiResponse& r) { return *ParseJsonStrict(r.body); }

  static void ExpectProblem(const ApiResponse& r, int status, absl::string_view slug) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.content_type, kProblemMediaType);
    absl::StatusOr<Json> body = ParseJsonStrict(r.body);
    ASSERT_TRUE(body.ok()) << r.body;
    EXPECT_EQ((*body)["type"], absl::StrCat(kProblemTypeBase, slug)) << r.body;
    EXPECT_EQ((*body)["status"], status);
  }

  ApiRequest EnrollRequest(const std::string& ak, bool replace = false, Role role = Role::kNone) {
    ApiRequest request;
    request.method = "POST";
    request.path = "/v1/attesters";
    request.content_type = std::string(kJsonMediaType);
    request.role = role;
    request.body = Json{{"ek_certificate", Base64Encode(ek_.certificate)},
                        {"ak_public", Base64Encode(ak)},
                        {"replace", replace}}
                       .dump();
    return request;
  }

  static ApiRequest ActivateRequest(const std::string& id, absl::string_view secret) {
    ApiRequest request;
    request.method = "POST";
    request.path = absl::StrCat("/v1/attesters/", id, "/activate");
    request.path_params["id"] = id;
    request.content_type = std::string(kJsonMediaType);
    request.body = Json{{"secret", Base64Encode(secret)}}.dump();
    return request;
  }

  static ApiRequest IdRequest(const std::string& method, const std::string& id, Role role) {
    ApiRequest request;
    request.method = method;
    request.path = absl::StrCat("/v1/attesters/", id);
    request.path_params["id"] = id;
    request.role = role;
    return request;
  }

  // The recovered credential for an enroll response.
  std::string Answer(const ApiResponse& enrolled) {
    const Json body = BodyOf(enrolled);
    absl::StatusOr<std::string> answer = SoftwareActivate(
        ek_, *HexDecode(body["ak_name"].get<std::string>()),
        *Base64Decode(body["credential_blob"].get<std::string>()),
        *Base64Decode(body["encrypted_secret"].get<std::string>()));
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.value_or("");
  }
};

TEST_F(AttesterRoutesTest, EnrollActivateReadRevoke) {
  const std::string ak = MakeAkPublic();
  const ApiResponse enrolled = HandleEnroll(context_, EnrollRequest(ak));
  ASSERT_EQ(enrolled.status, 200) << enrolled.body;
  const Json body = BodyOf(enrolled);
  const std::string id = body["id"];
  EXPECT_EQ(body["state"], "pending");
  EXPECT_EQ(body.size(), 5u);
  const std::string answer = Answer(enrolled);

  const ApiResponse activated = HandleActivate(context_, ActivateRequest(id, answer));
  ASSERT_EQ(activated.status, 200) << activated.body;
  EXPECT_EQ(BodyOf(activated), (Json{{"id", id}, {"state", "active"}}));

  const ApiResponse read = HandleGetAttester(context_, IdRequest("GET", id, Role::kAuditor));
  ASSERT_EQ(read.status, 200) << read.body;
  const Json record = BodyOf(read);
  EXPECT_EQ(record["state"], "active");
  EXPECT_EQ(record["tenant"], "default");
  EXPECT_EQ(record["ak_public"], Base64Encode(ak));
  EXPECT_EQ(record["ak_name"], body["ak_name"]);
  EXPECT_EQ(record["ek_certificate"], Base64Encode(ek_.certificate));
  EXPECT_FALSE(record.contains("credential_sha256"));
  EXPECT_EQ(read.body.find(HexEncode(Sha256(answer))), std::string::npos);
  EXPECT_EQ(HandleGetAttester(context_, IdRequest("GET", id, Role::kAdmin)).status, 200);

  const ApiResponse revoked = HandleRevokeAttester(context_, IdRequest("DELETE", id, Role::kAdmin));
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(BodyOf(revoked), (Json{{"id", id}, {"state", "revoked"}}));
  EXPECT_EQ(BodyOf(HandleGetAttester(context_, IdRequest("GET", id, Role::kAuditor)))["state"],
            "revoked");
  // A revoked attester is not activated again.
  ExpectProblem(HandleActivate(context_, ActivateRequest(id, answer)), 409, "not-pending");
}

TEST_F(AttesterRoutesTest, EachRouteChecksItsRole) {
  const std::string id(32, 'a');
  ExpectProblem(HandleGetAttester(context_, IdRequest("GET", id, Role::kNone)), 401,
                "client-certificate-required");
  ExpectProblem(HandleRevokeAttester(context_, IdRequest("DELETE", id, Role::kNone)), 401,
                "client-certificate-required");
  ExpectProblem(HandleRevokeAttester(context_, IdRequest("DELETE", id, Role::kAuditor)), 403,
                "role-forbidden");
  // Allowed, and then the id names no attester.
  ExpectProblem(HandleGetAttester(context_, IdRequest("GET", id, Role::kAuditor)), 404,
                "unknown-attester");
  ExpectProblem(HandleRevokeAttester(context_, IdRequest("DELETE", id, Role::kAdmin)), 404,
                "unknown-attester");
  ExpectProblem(HandleGetAttester(context_, IdRequest("GET", "../etc", Role::kAdmin)), 404,
                "unknown-attester");
}

TEST_F(AttesterRoutesTest, ProblemsNameWhatWentWrong) {
  const TestCa other = MakeTestCa("another CA");
  ApiRequest untrusted = EnrollRequest(MakeAkPublic());
  untrusted.body = Json{{"ek_certificate", Base64Encode(MakeSoftwareEk(&other).certificate)},
                        {"ak_public", Base64Encode(MakeAkPublic())}}
                       .dump();
  ExpectProblem(HandleEnroll(context_, untrusted), 403, "ek-untrusted");
  ExpectProblem(HandleEnroll(context_, EnrollRequest(MakeAkPublic(TPMA_OBJECT_SIGN_ENCRYPT))), 400,
                "bad-ak");

  const std::string ak = MakeAkPublic();
  const ApiResponse first = HandleEnroll(context_, EnrollRequest(ak));
  ASSERT_EQ(first.status, 200);
  const std::string id = BodyOf(first)["id"];
  ASSERT_EQ(HandleActivate(context_, ActivateRequest(id, Answer(first))).status, 200);
  ExpectProblem(HandleEnroll(context_, EnrollRequest(MakeAkPublic())), 409, "ek-already-enrolled");
  // replace is an administrator's decision only.
  ExpectProblem(HandleEnroll(context_, EnrollRequest(MakeAkPublic(), true, Role::kAuditor)), 409,
                "ek-already-enrolled");
  const std::string ak2 = MakeAkPublic();
  const ApiResponse replaced = HandleEnroll(context_, EnrollRequest(ak2, true, Role::kAdmin));
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(store_.GetAttester(id)->state, AttesterState::kRevoked);

  const std::string id2 = BodyOf(replaced)["id"];
  ExpectProblem(HandleActivate(context_, ActivateRequest(id2, std::string(32, 'x'))), 403,
                "activation-failed");
  ExpectProblem(HandleActivate(context_, ActivateRequest(id2, Answer(replaced))), 409,
                "not-pending");
  ExpectProblem(HandleActivate(context_, ActivateRequest(std::string(32, 'b'), "x")), 404,
                "unknown-attester");
}

TEST_F(AttesterRoutesTest, AnEnrollmentNamesItsTenant) {
  ApiRequest request = EnrollRequest(MakeAkPublic());
  Json body = *ParseJsonStrict(request.body);
  body["tenant"] = "clinic-7";
  request.body = body.dump();
  const ApiResponse enrolled = HandleEnroll(context_, request);
  ASSERT_EQ(enrolled.status, 200) << enrolled.body;
  const std::string id = BodyOf(enrolled)["id"];
  EXPECT_EQ(store_.GetAttester(id)->tenant, "clinic-7");
  EXPECT_EQ(BodyOf(HandleGetAttester(context_, IdRequest("GET", id, Role::kAuditor)))["tenant"],
            "clinic-7");
}

TEST_F(AttesterRoutesTest, BodiesAreStrict) {
  ApiRequest request = EnrollRequest(MakeAkPublic());
  for (const std::string& body :
       {std::string("not json"), std::string("{}"), std::string("[]"),
        Json{{"ek_certificate", "!!"}, {"ak_public", Base64Encode("x")}}.dump(),
        Json{{"ek_certificate", Base64Encode("x")}, {"ak_public", ""}}.dump(),
        Json{{"ek_certificate", Base64Encode("x")}, {"ak_public", Base64Encode("x")}, {"more", 1}}
            .dump(),
        Json{{"ek_certificate", Base64Encode("x")}, {"ak_public", Base64Encode("x")},
             {"replace", "yes"}}
            .dump(),
        Json{{"ek_certificate", Base64Encode("x")}, {"ak_public", Base64Encode("x")},
             {"tenant", "has space"}}
            .dump(),
        Json{{"ek_certificate", Base64Encode("x")}, {"ak_public", Base64Encode("x")},
             {"tenant", std::string(65, 't')}}
            .dump()}) {
    request.body = body;
    ExpectProblem(HandleEnroll(context_, request), 400, "bad-request");
  }
  ApiRequest activate = ActivateRequest(std::string(32, 'c'), "x");
  for (const std::string& body : {std::string("{}"), std::string(R"({"secret":""})"),
                                  std::string(R"({"secret":"eA==","x":1})")}) {
    activate.body = body;
    ExpectProblem(HandleActivate(context_, activate), 400, "bad-request");
  }
}

// Every attester route answers a failing store with the documented 503
// store-unavailable (Retry-After), never the store's message.
TEST_F(AttesterRoutesTest, AStoreFailureIs503StoreUnavailableOnEveryRoute) {
  store_.InjectError(absl::InternalError("/var/lib/secret/path is broken"));
  ApiRequest activate;
  activate.path_params["id"] = std::string(32, 'a');
  activate.body = R"({"secret": "AAAA"})";
  ApiRequest get;
  get.role = Role::kAuditor;
  get.path_params["id"] = std::string(32, 'a');
  ApiRequest revoke = get;
  revoke.role = Role::kAdmin;
  for (const ApiResponse& r :
       {HandleEnroll(context_, EnrollRequest(MakeAkPublic())), HandleActivate(context_, activate),
        HandleGetAttester(context_, get), HandleRevokeAttester(context_, revoke)}) {
    ExpectProblem(r, 503, "store-unavailable");
    EXPECT_EQ(r.body.find("/var/lib"), std::string::npos);
    EXPECT_THAT(r.headers, ::testing::Contains(::testing::Pair("Retry-After", "1")));
  }
}

}  // namespace
}  // namespace fdattest
