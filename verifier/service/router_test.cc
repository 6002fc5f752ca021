#include "verifier/service/router.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "verifier/service/routes.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

ApiResponse Ok(ServiceContext&, const ApiRequest&) { return JsonReply(200, Json::object()); }

Router TestRouter() {
  return Router({{"GET", "/healthz", Role::kNone, BodyKind::kNone, Ok},
                 {"PUT", "/v1/policies/{id}", Role::kAdmin, BodyKind::kJson, Ok},
                 {"GET", "/v1/policies/{id}", Role::kAuditor, BodyKind::kNone, Ok},
                 {"POST", "/v1/attesters/{id}/activate", Role::kNone, BodyKind::kJson, Ok}});
}

TEST(RouterTest, FindsRoutesAndTheirParameters) {
  Router router = TestRouter();
  RouteMatch m = router.Find("GET", "/v1/policies/phi-checksum.v1");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.index, 2u);
  EXPECT_EQ(m.params.at("id"), "phi-checksum.v1");
  m = router.Find("POST", "/v1/attesters/0123abcd/activate");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params.at("id"), "0123abcd");
  EXPECT_EQ(router.Find("GET", "/healthz").kind, RouteMatch::Kind::kFound);
}

TEST(RouterTest, ARestParameterTakesTheRestOfThePath) {
  Router router({{"GET", "/v1/audit/tile/{path...}", Role::kAuditor, BodyKind::kNone, nullptr},
                 {"GET", "/v1/audit/checkpoint", Role::kAuditor, BodyKind::kNone, nullptr}});
  RouteMatch m = router.Find("GET", "/v1/audit/tile/0/x001/x234/067.p/5");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.index, 0u);
  EXPECT_EQ(m.params.at("path"), "0/x001/x234/067.p/5");
  EXPECT_EQ(router.Find("GET", "/v1/audit/tile/entries/000").params.at("path"), "entries/000");
  // One segment at least, each a valid parameter.
  EXPECT_EQ(router.Find("GET", "/v1/audit/tile").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/v1/audit/tile/0/../1").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/v1/audit/tile/0//1").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/v1/audit/checkpoint").index, 1u);
}

TEST(RouterTest, UnknownPathsAreNotFound) {
  Router router = TestRouter();
  for (const char* path : {"/", "", "healthz", "/healthz/", "/v1/policies", "/v1/policies/",
                           "/v1/policies/a/b", "/v1/policies/..", "/v1/policies/a%2Fb",
                           "/v1/policies/a b", "/v1/attesters//activate", "/HEALTHZ"}) {
    EXPECT_EQ(router.Find("GET", path).kind, RouteMatch::Kind::kNotFound) << path;
  }
  EXPECT_EQ(router.Find("GET", "/v1/policies/" + std::string(129, 'a')).kind,
            RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/v1/policies/" + std::string(128, 'a')).kind,
            RouteMatch::Kind::kFound);
}

TEST(RouterTest, KnownPathWithOtherMethodIsMethodNotAllowedWithAllow) {
  Router router = TestRouter();
  RouteMatch m = router.Find("DELETE", "/v1/policies/p");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "PUT, GET");
  ApiResponse r = MethodNotAllowedProblem("DELETE", m.allow);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.content_type, kProblemMediaType);
  EXPECT_THAT(r.headers, ::testing::Contains(std::make_pair(std::string("Allow"),
                                                            std::string("PUT, GET"))));
  EXPECT_EQ(router.Find("POST", "/healthz").kind, RouteMatch::Kind::kMethodNotAllowed);
}

TEST(RouterTest, RolesWithoutCertificateAre401AndWrongRoleIs403) {
  Router router = TestRouter();
  const Route& put = router.routes()[1];
  const Route& get = router.routes()[2];
  const Route& open = router.routes()[0];
  EXPECT_FALSE(CheckRole(open, Role::kNone, false));
  std::optional<ApiResponse> r = CheckRole(put, Role::kNone, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->body, HasSubstr("client-certificate-required"));
  r = CheckRole(put, Role::kAuditor, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = CheckRole(put, Role::kNone, true);  // a certificate with no role
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_FALSE(CheckRole(put, Role::kAdmin, true));
  EXPECT_FALSE(CheckRole(get, Role::kAuditor, true));
  EXPECT_FALSE(CheckRole(get, Role::kAdmin, true));
  r = CheckRole(get, Role::kNone, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST(RouterTest, BodiesOnlyWhereTheRouteTakesJson) {
  Route none{"GET", "/x", Role::kNone, BodyKind::kNone, Ok};
  Route json{"PUT", "/x", Role::kNone, BodyKind::kJson, Ok};
  Route optional{"POST", "/x", Role::kNone, BodyKind::kOptionalJson, Ok};
  EXPECT_FALSE(CheckBody(none, "", 0));
  EXPECT_EQ(CheckBody(none, "application/json", 2)->status, 415);
  EXPECT_FALSE(CheckBody(json, "application/json", 2));
  EXPECT_EQ(CheckBody(json, "text/plain", 2)->status, 415);
  EXPECT_EQ(CheckBody(json, "", 0)->status, 415);
  EXPECT_FALSE(CheckBody(optional, "", 0));
  EXPECT_FALSE(CheckBody(optional, "application/json", 2));
  EXPECT_EQ(CheckBody(optional, "application/x-www-form-urlencoded", 2)->status, 415);
}

TEST(RouterTest, ServiceRoutesAreDistinctAndDocumentedRolesHold) {
  Router router(ServiceRoutes());
  std::set<std::pair<std::string, std::string>> seen;
  for (const Route& route : router.routes()) {
    EXPECT_TRUE(seen.insert({route.method, route.pattern}).second) << route.pattern;
    EXPECT_TRUE(route.handler) << route.pattern;
  }
  auto role_of = [&](const char* method, const char* path) {
    RouteMatch m = router.Find(method, path);
    EXPECT_EQ(m.kind, RouteMatch::Kind::kFound) << method << " " << path;
    return router.routes()[m.index].role;
  };
  EXPECT_EQ(role_of("POST", "/v1/challenge"), Role::kNone);
  EXPECT_EQ(role_of("POST", "/v1/attest"), Role::kNone);
  EXPECT_EQ(role_of("GET", "/v1/attestations/00"), Role::kNone);
  EXPECT_EQ(role_of("PUT", "/v1/policies/p"), Role::kAdmin);
  EXPECT_EQ(role_of("GET", "/v1/policies/p"), Role::kAuditor);
  EXPECT_EQ(role_of("PUT", "/v1/secrets/s"), Role::kAdmin);
  EXPECT_EQ(role_of("GET", "/.well-known/fdattest-keys"), Role::kNone);
}

}  // namespace
}  // namespace fdattest
