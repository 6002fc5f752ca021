// The handlers on plain ApiRequest values, over the in-memory store of
// verifier/testing/memory_store.h; attestations use the genuine bundles among
// the evidence fuzzer's seeds (tests/support/seed_bundles.h), whose AK is
// enrolled here, through the store's own transitions, in the state each test
// needs.
#include "verifier/service/handlers.h"

#include <openssl/rand.h>

#include <fstream>
#include <sstream>

#include "common/evidence.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/seed_bundles.h"
#include "verifier/ear.h"
#include "verifier/identity_cache.h"
#include "verifier/jose_key.h"
#include "verifier/proof_cache.h"
#include "verifier/service/metrics.h"
#include "verifier/service/audit_routes.h"
#include "verifier/service/nonce_budget.h"
#include "verifier/service/policy_cache.h"
#include "verifier/testing/memory_store.h"
#include "verifier/tpm_attest.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using ::fdattest::testing::kSeedPolicy;
using ::fdattest::testing::kSeedTpmCaPem;

constexpr char kAttesterId[] = "0123456789abcdef0123456789abcdef";

std::string ReadSeed(const std::string& name) {
  std::ifstream in(std::string(FDATTEST_SOURCE_DIR) + "/tests/fuzz/corpus/evidence/" + name,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Enrolls the seeds' AK in `store` as attester kAttesterId, taken to
// `state` through the store's own transitions (pending, then activated, then
// revoked).
void EnrollSeedAk(Store& store, const std::string& ak_public, const std::string& ak_name,
                  AttesterState state, int64_t now) {
  AttesterRecord a;
  a.id = kAttesterId;
  a.ak_public = ak_public;
  a.ak_name = ak_name;
  a.ek_sha256 = "ek";
  a.credential_sha256 = "credential";
  a.state = AttesterState::kPending;
  a.created_at = now;
  ASSERT_TRUE(store.AddPendingAttester(a, false).ok());
  if (state == AttesterState::kPending) return;
  ASSERT_TRUE(store.ActivateAttester(kAttesterId, "credential", now).ok());
  if (state == AttesterState::kRevoked) {
    ASSERT_TRUE(store.RevokeAttester(kAttesterId, now).ok());
  }
  ASSERT_EQ(store.GetAttester(kAttesterId)->state, state);
}

std::string Random(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

class HandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<SigningKey> generated = SigningKey::Generate();
    ASSERT_TRUE(generated.ok()) << generated.status();
    key_.emplace(*std::move(generated));
    context_.store = &store_;
    context_.tpm_ca_pem = std::string(kSeedTpmCaPem);
    context_.now = [this] { return now_; };
    context_.random = Random;
    context_.signing_key = &*key_;
    context_.proof_cache = &proofs_;
    context_.identity_cache = &identities_;
    context_.policies = &policies_;
    context_.nonces = &nonces_;
    context_.metrics = &metrics_;
    evidence_ = ReadSeed("genuine_nv_first.json");
    absl::StatusOr<Evidence> parsed = Evidence::Parse(evidence_);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    nonce_ = parsed->nonce;
    ak_public_ = parsed->ak_public;
    absl::StatusOr<AkPublic> ak = ParseAkPublic(ak_public_);
    ASSERT_TRUE(ak.ok()) << ak.status();
    ak_name_ = HexEncode(ak->name);
  }

  ApiRequest Request(std::string method, std::string body = "") {
    ApiRequest r;
    r.method = std::move(method);
    r.body = std::move(body);
    r.content_type = std::string(kJsonMediaType);
    return r;
  }

  void PutPolicy(const std::string& id = "phi") {
    ApiRequest r = Request("PUT", std::string(kSeedPolicy));
    r.path_params["id"] = id;
    r.role = Role::kAdmin;
    ASSERT_EQ(HandlePutPolicy(context_, r).status, 200);
  }

  void Enroll(AttesterState state) { EnrollSeedAk(store_, ak_public_, ak_name_, state, now_); }

  void IssueSeedNonce() { ASSERT_TRUE(store_.AddNonce(nonce_, now_ + 300).ok()); }

  ApiResponse Attest(std::map<std::string, std::string> query = {{"policy", "phi"}}) {
    ApiRequest r = Request("POST", evidence_);
    r.query = std::move(query);
    return HandleAttest(context_, r);
  }

  static Json Body(const ApiResponse& r) { return *ParseJsonStrict(r.body); }

  int64_t now_ = testing::kSeedTime;
  MemoryStore store_;
  std::optional<SigningKey> key_;
  FilterProofCache proofs_;
  IdentityCache identities_;
  PolicyCache policies_;
  NonceBudget nonces_{&store_, 3};
  Metrics metrics_{{"/v1/attest"}};
  ServiceContext context_;
  std::string evidence_, nonce_, ak_public_, ak_name_;
};

TEST_F(HandlersTest, ChallengeIssuesStoredSingleUseNonces) {
  ApiResponse r = HandleChallenge(context_, Request("POST"));
  ASSERT_EQ(r.status, 200) << r.body;
  Json body = Body(r);
  const std::string hex = body["nonce"];
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(body["expires_at"], now_ + 300);
  const std::string raw = *HexDecode(hex);
  EXPECT_TRUE(store_.ConsumeNonce(raw, now_).ok());
  EXPECT_FALSE(store_.ConsumeNonce(raw, now_).ok());
  r = HandleChallenge(context_, Request("POST", R"({"lifetime": 60})"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["expires_at"], now_ + 60);
  r = HandleChallenge(context_, Request("POST", R"({"lifetime": 3601})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("bad-challenge"));
}

TEST_F(HandlersTest, ChallengeIs429WithRetryAfterAtTheNonceCap) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(HandleChallenge(context_, Request("POST")).status, 200);
  ApiResponse r = HandleChallenge(context_, Request("POST"));
  EXPECT_EQ(r.status, 429);
  EXPECT_THAT(r.body, HasSubstr("nonce-store-full"));
  EXPECT_THAT(r.headers, ::testing::Contains(::testing::Pair("Retry-After", "1")));
  // Expired nonces no longer count once the count is read again.
  now_ += 301;
  EXPECT_EQ(HandleChallenge(context_, Request("POST")).status, 200);
}

TEST_F(HandlersTest, StoreFailureIs503NotAnInternalMessage) {
  store_.InjectError(absl::DataLossError("/var/lib/secret/path is corrupt"));
  for (const ApiResponse& r : {HandleChallenge(context_, Request("POST")),
                               HandleHealth(context_, Request("GET"))}) {
    EXPECT_EQ(r.status, 503);
    EXPECT_THAT(r.body, HasSubstr("store-unavailable"));
    EXPECT_THAT(r.body, Not(HasSubstr("/var/lib")));
  }
  store_.InjectError(absl::OkStatus());
  ApiResponse ok = HandleHealth(context_, Request("GET"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Body(ok), Json({{"status", "ok"}}));
}

TEST_F(HandlersTest, AttestNeedsAKnownPolicyOrSecrets) {
  EXPECT_THAT(Attest({}).body, HasSubstr("policy-required"));
  EXPECT_EQ(Attest({}).status, 400);
  ApiResponse r = Attest({{"policy", "nope"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("unknown-policy"));
  r = Attest({{"release", "phi-key"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("unknown-secret"));
  PutPolicy("phi");
  PutPolicy("other");
  ASSERT_TRUE(store_.PutSecret({"phi-key", "sealed", "phi", now_}).ok());
  ASSERT_TRUE(store_.PutSecret({"audit-key", "sealed", "other", now_}).ok());
  r = Attest({{"policy", "other"}, {"release", "phi-key"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("policy-mismatch"));
  r = Attest({{"release", "phi-key,audit-key"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("policy-mismatch"));
}

TEST_F(HandlersTest, UnparseableEvidenceIs400AndSpendsNoNonce) {
  PutPolicy();
  Enroll(AttesterState::kActive);
  IssueSeedNonce();
  ApiRequest r = Request("POST", "{\"not\": \"evidence\"}");
  r.query["policy"] = "phi";
  ApiResponse response = HandleAttest(context_, r);
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(response.body, HasSubstr("malformed-evidence"));
  EXPECT_TRUE(store_.ConsumeNonce(nonce_, now_).ok());  // still unused
}

TEST_F(HandlersTest, AttestOfEnrolledAkIsRecordedSignedAndSingleUse) {
  PutPolicy();
  Enroll(AttesterState::kActive);
  IssueSeedNonce();
  ApiResponse r = Attest();
  ASSERT_EQ(r.status, 200) << r.body;
  Json body = Body(r);
  // Every step of the chain holds (so the AK was the enrolled one and the
  // nonce the issued one); the rest is the policy's matter.
  EXPECT_NE(body["verdict"], "broken_evidence") << body["reason"];
  std::map<std::string, std::string> steps;
  for (const Json& step : body["report"]["steps"]) steps[step["step"]] = step["outcome"];
  EXPECT_EQ(steps["nonce"], "pass");
  EXPECT_EQ(steps["identity"], "pass");
  EXPECT_EQ(steps["ek"], "pass");
  EXPECT_EQ(steps["counters"], "pass");
  EXPECT_EQ(body["report"]["policy_id"], "https://test.invalid/phi-checksum/v1");
  EXPECT_EQ(body["secrets"], Json::object());
  const std::string id = body["id"];
  EXPECT_TRUE(IsLowerHex(id) && id.size() == 32);
  absl::StatusOr<Json> claims = VerifyEar(body["ear"].get<std::string>(), key_->PublicJwkJson());
  ASSERT_TRUE(claims.ok()) << claims.status();
  // The stored result is the response without its secrets.
  ApiRequest get = Request("GET");
  get.path_params["id"] = id;
  ApiResponse stored = HandleGetAttestation(context_, get);
  ASSERT_EQ(stored.status, 200);
  Json without = body;
  without.erase("secrets");
  EXPECT_EQ(Body(stored), without);
  // The attester's counters became its baseline.
  EXPECT_TRUE(store_.GetAttester(kAttesterId)->counters.has_value());
  EXPECT_THAT(metrics_.Render({}), HasSubstr(absl::StrCat("fdverifierd_verdicts_total{verdict=\"",
                                                          body["verdict"].get<std::string>(),
                                                          "\"} 1")));
  // The same evidence again: recorded, as broken evidence (the nonce is spent).
  ApiResponse again = Attest();
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Body(again)["verdict"], "broken_evidence");
  EXPECT_THAT(Body(again)["reason"].get<std::string>(), HasSubstr("already used"));
}

TEST_F(HandlersTest, ANonceHeldByAnAttestationInFlightIsAReplay) {
  PutPolicy();
  Enroll(AttesterState::kActive);
  IssueSeedNonce();
  // Another attestation of the same evidence is being verified in this
  // process: this one is refused, and the nonce is left to that one.
  ASSERT_TRUE(context_.nonce_claims->Claim(nonce_));
  ApiResponse r = Attest();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["verdict"], "broken_evidence");
  EXPECT_THAT(Body(r)["reason"].get<std::string>(), HasSubstr("already used"));
  EXPECT_TRUE(store_.CheckNonce(nonce_, now_).ok());
  context_.nonce_claims->Release(nonce_);
  ApiResponse first = Attest();
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(Body(first)["verdict"], "broken_evidence") << Body(first)["reason"];
  EXPECT_FALSE(store_.CheckNonce(nonce_, now_).ok());
  // The claim ended with the request.
  EXPECT_TRUE(context_.nonce_claims->Claim(nonce_));
}

// A store whose nonce another process consumes right after this one checked it.
class RacedStore : public MemoryStore {
 public:
  absl::StatusOr<int64_t> CheckNonce(absl::string_view nonce, int64_t now) override {
    absl::StatusOr<int64_t> status = MemoryStore::CheckNonce(nonce, now);
    if (status.ok()) {
      EXPECT_TRUE(MemoryStore::ConsumeNonce(nonce, now).ok());
    }
    return status;
  }
};

TEST_F(HandlersTest, ANonceConsumedElsewhereDuringVerificationRecordsNothing) {
  RacedStore raced;
  NonceBudget budget{&raced, 3};
  context_.store = &raced;
  context_.nonces = &budget;
  PutPolicy();
  EnrollSeedAk(raced, ak_public_, ak_name_, AttesterState::kActive, now_);
  ASSERT_TRUE(raced.AddNonce(nonce_, now_ + 300).ok());
  ApiResponse r = Attest();
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_THAT(r.body, HasSubstr("nonce-race"));
  EXPECT_FALSE(raced.GetAttester(kAttesterId)->counters.has_value());
  context_.store = &store_;
  context_.nonces = &nonces_;
}

TEST_F(HandlersTest, UnknownPendingAndRevokedAttestersAreBrokenEvidence) {
  PutPolicy();
  IssueSeedNonce();
  ApiResponse r = Attest();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["verdict"], "broken_evidence");
  EXPECT_THAT(Body(r)["reason"].get<std::string>(), HasSubstr("identity: not enrolled"));

  for (AttesterState state : {AttesterState::kPending, AttesterState::kRevoked}) {
    MemoryStore fresh;
    context_.store = &fresh;
    NonceBudget budget(&fresh, 10);
    context_.nonces = &budget;
    ASSERT_TRUE(fresh.PutPolicy("phi", kSeedPolicy, now_).ok());
    EnrollSeedAk(fresh, ak_public_, ak_name_, state, now_);
    ASSERT_TRUE(fresh.AddNonce(nonce_, now_ + 300).ok());
    r = Attest();
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(Body(r)["verdict"], "broken_evidence");
    EXPECT_THAT(Body(r)["reason"].get<std::string>(),
                HasSubstr(state == AttesterState::kRevoked ? "identity: attester revoked"
                                                           : "identity: attester pending"));
    context_.store = &store_;
    context_.nonces = &nonces_;
  }
}

TEST_F(HandlersTest, RequestedSecretsAreRefusedToALaunchThatDoesNotEarnThem) {
  // The seed bundle predates launch keys: nothing can be wrapped for it.
  PutPolicy();
  Enroll(AttesterState::kActive);
  IssueSeedNonce();
  ASSERT_TRUE(store_.PutSecret({"phi-key", "sealed", "phi", now_}).ok());
  ApiResponse r = Attest({{"release", "phi-key"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["secrets"], Json::object());
  ASSERT_TRUE(Body(r)["refused"].contains("phi-key"));
  EXPECT_FALSE(Body(r)["refused"]["phi-key"].get<std::string>().empty());
}

TEST_F(HandlersTest, PoliciesAreValidatedVersionedAndServedAsStored) {
  ApiRequest put = Request("PUT", "{\"version\": 1}");
  put.path_params["id"] = "phi";
  ApiResponse r = HandlePutPolicy(context_, put);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("bad-policy"));
  put.body = std::string(kSeedPolicy);
  r = HandlePutPolicy(context_, put);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["version"], 1);
  EXPECT_EQ(Body(r)["sha256"], HexEncode(Sha256(kSeedPolicy)));
  EXPECT_EQ(Body(HandlePutPolicy(context_, put))["version"], 2);
  ApiRequest get = Request("GET");
  get.path_params["id"] = "phi";
  r = HandleGetPolicy(context_, get);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kSeedPolicy);
  EXPECT_THAT(r.headers, ::testing::Contains(::testing::Pair("X-Policy-Version", "2")));
  get.query["version"] = "3";
  EXPECT_EQ(HandleGetPolicy(context_, get).status, 404);
  get.query["version"] = "x";
  EXPECT_EQ(HandleGetPolicy(context_, get).status, 400);
  get.path_params["id"] = ".x";
  EXPECT_EQ(HandleGetPolicy(context_, get).status, 400);
}

TEST_F(HandlersTest, SecretsNeedAnExistingPolicyAndAreNeverStoredInTheClear) {
  ApiRequest put = Request("PUT", R"({"value": "c2VjcmV0", "policy": "phi"})");
  put.path_params["name"] = "phi-key";
  ApiResponse r = HandlePutSecret(context_, put);
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("unknown-policy"));
  PutPolicy();
  // No secret box in this context: refused, nothing stored.
  r = HandlePutSecret(context_, put);
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("secrets-unavailable"));
  EXPECT_TRUE(absl::IsNotFound(store_.GetSecret("phi-key").status()));
  put.body = R"({"value": "not base64!", "policy": "phi"})";
  EXPECT_EQ(HandlePutSecret(context_, put).status, 400);
}

TEST_F(HandlersTest, KeysAreTheSigningKeysJwks) {
  ApiResponse r = HandleKeys(context_, Request("GET"));
  ASSERT_EQ(r.status, 200);
  Json body = Body(r);
  ASSERT_EQ(body["keys"].size(), 1u);
  EXPECT_EQ(body["keys"][0]["kid"], key_->kid());
  EXPECT_FALSE(body["keys"][0].contains("d"));
  EXPECT_EQ(*CanonicalJson(body["keys"][0]), key_->PublicJwkJson());
  context_.signing_key = nullptr;
  EXPECT_EQ(HandleKeys(context_, Request("GET")).status, 503);
}

TEST_F(HandlersTest, ShreddingATenantErasesItsResultsAndAnswersGone) {
  PutPolicy();
  Enroll(AttesterState::kActive);  // tenant "default"
  IssueSeedNonce();
  ApiResponse attested = Attest();
  ASSERT_EQ(attested.status, 200) << attested.body;
  const std::string id = Body(attested)["id"];

  ApiRequest shred = Request("DELETE");
  shred.path_params["id"] = "default";
  shred.role = Role::kAuditor;
  EXPECT_EQ(HandleShredTenant(context_, shred).status, 403);
  EXPECT_TRUE(store_.GetResult(id).ok() && !store_.GetResult(id)->body.empty());
  shred.role = Role::kAdmin;
  shred.path_params["id"] = "no spaces";
  ApiResponse bad = HandleShredTenant(context_, shred);
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("bad-tenant"));
  shred.path_params["id"] = "default";
  ApiResponse shredded = HandleShredTenant(context_, shred);
  ASSERT_EQ(shredded.status, 200) << shredded.body;
  EXPECT_EQ(Body(shredded)["tenant"], "default");
  EXPECT_EQ(Body(shredded)["shredded_at"], now_);
  EXPECT_GT(store_.GetTenant("default")->shredded_at, 0);
  // Again: the first time is kept.
  now_ += 10;
  EXPECT_EQ(Body(HandleShredTenant(context_, shred))["shredded_at"], now_ - 10);

  ApiRequest get = Request("GET");
  get.path_params["id"] = id;
  ApiResponse gone = HandleGetAttestation(context_, get);
  EXPECT_EQ(gone.status, 410);
  EXPECT_THAT(gone.body, HasSubstr("attestation-shredded"));
}

TEST_F(HandlersTest, UnknownAttestationIs404) {
  ApiRequest get = Request("GET");
  for (const char* id : {"0123456789abcdef0123456789abcdef", "xyz"}) {
    get.path_params["id"] = id;
    ApiResponse r = HandleGetAttestation(context_, get);
    EXPECT_EQ(r.status, 404);
    EXPECT_THAT(r.body, HasSubstr("unknown-attestation"));
  }
}

}  // namespace
}  // namespace fdattest
