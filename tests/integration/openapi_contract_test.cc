// docs/openapi.yaml against the service, in both directions, so that drift on
// either side fails:
//  - the route table (verifier/service/routes.cc ServiceRoutes()) is exactly
//    the document's operations, with the same roles and request bodies;
//  - the problem types the sources emit (every Problem/ProblemFromStatus/
//    EnrollmentProblem call and enrollment's Named slugs in verifier/service/
//    and verifier/enrollment.cc) are exactly the document's
//    x-fdattest-problem-types;
//  - a real fdverifierd (the release binary on its SQLite store, over TLS with
//    the development PKI) is walked: every operation is called, every
//    documented status and problem type of every operation is provoked
//    (except the few listed in kUnprovokable, each with its reason), and each
//    response must be documented for its operation, with the documented
//    content type, the required keys, constants, enums and patterns of its
//    schema, the documented headers, and a problem type whose documented
//    status is the one answered.
// Enrollment succeeds without a TPM: a software EK (tests/support/
// software_ek.h), certified by a test CA the daemon trusts, activates the
// credential. Attestation's 200 is a recorded broken_evidence result of a
// genuine bundle among the evidence fuzzer's seeds, whose nonce this verifier
// never issued; an affirming result with released secrets needs the TPM that
// signed a fresh bundle over a nonce this verifier issued, which only a launch
// on a TPM makes: that path is left to the end-to-end test of fdlaunch
// --verifier on swtpm.
#include <httplib.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/fdverifierd_process.h"
#include "tests/integration/openapi_yaml.h"
#include "tests/support/software_ek.h"
#include "verifier/audit/checkpoint.h"
#include "verifier/audit/signed_note.h"
#include "verifier/service/api.h"
#include "verifier/service/routes.h"

namespace fdattest {
namespace {

using ::fdattest::testing::Daemon;
using ::fdattest::testing::DaemonArgs;
using ::fdattest::testing::DaemonDir;
using ::fdattest::testing::HoldInFlightPlaces;
using ::fdattest::testing::kOneInputPolicy;
using ::fdattest::testing::MakeDaemonDir;
using ::fdattest::testing::MakeAkPublic;
using ::fdattest::testing::MakeSoftwareEk;
using ::fdattest::testing::MakeTestCa;
using ::fdattest::testing::RawConnection;
using ::fdattest::testing::ReadFile;
using ::fdattest::testing::RoleClient;
using ::fdattest::testing::RunCommand;
using ::fdattest::testing::SoftwareActivate;
using ::fdattest::testing::SoftwareEk;
using ::fdattest::testing::TestCa;
using namespace std::chrono_literals;

const std::string kSource = FDATTEST_SOURCE_DIR;

// Problem types no request from outside a healthy daemon can provoke, by
// operation ("*": every operation), with the reason.
const std::map<std::pair<std::string, std::string>, std::string> kUnprovokable = {
    {{"*", "store-unavailable"}, "needs a failing store; covered with the fake store in handlers_test"},
    {{"attest", "internal"}, "a bug, or a stored policy that no longer parses"},
    {{"attest", "tenant-shredded"},
     "needs an enrolled attester of a shredded tenant; covered in handlers_test"},
    {{"attest", "nonce-race"},
     "needs a second process consuming the nonce between the check and the commit; covered with "
     "a racing fake store in handlers_test"},
    {{"putSecret", "secrets-unavailable"}, "fdverifierd always starts with --secret-key-file"},
    {{"keys", "not-configured"}, "fdverifierd always starts with --signing-key"},
    {{"*", "http-error"}, "what cpp-httplib answers that no other type names"},
    {{"*", "overloaded"}, "needs every connection worker and queue place held at once"},
};

bool Unprovokable(const std::string& op, const std::string& slug) {
  return kUnprovokable.count({op, slug}) > 0 || kUnprovokable.count({"*", slug}) > 0;
}

// A response, from cpp-httplib's client or read off a raw connection.
struct Reply {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lowercase
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(absl::AsciiStrToLower(name));
    return it == headers.end() ? "" : it->second;
  }
};

Reply FromResult(const httplib::Result& r) {
  Reply reply;
  if (!r) return reply;
  reply.status = r->status;
  for (const auto& [name, value] : r->headers) {
    reply.headers.emplace(absl::AsciiStrToLower(name), value);
  }
  reply.body = r->body;
  return reply;
}

Reply FromRaw(const std::string& raw) {
  Reply reply;
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || !absl::StartsWith(raw, "HTTP/1.1 ")) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    const size_t next = raw.find("\r\n", line);
    const std::string h = raw.substr(line, next - line);
    const size_t colon = h.find(':');
    if (colon != std::string::npos) {
      reply.headers.emplace(absl::AsciiStrToLower(h.substr(0, colon)),
                            std::string(absl::StripAsciiWhitespace(h.substr(colon + 1))));
    }
    line = next + 2;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

std::string MediaType(const std::string& content_type) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))));
}

// The document and what the checks read from it.
class OpenApi {
 public:
  explicit OpenApi(Json doc) : doc_(std::move(doc)) {}

  const Json& doc() const { return doc_; }

  // `node`, or what its "$ref" (a local JSON pointer) points to.
  const Json& Resolve(const Json& node) const {
    const Json* at = &node;
    for (int i = 0; i < 8 && at->is_object() && at->contains("$ref"); ++i) {
      const std::string ref = (*at)["$ref"].get<std::string>();
      at = &doc_.at(Json::json_pointer(ref.substr(1)));
    }
    return *at;
  }

  struct Operation {
    std::string id, method, path;
    const Json* op;
  };
  std::vector<Operation> Operations() const {
    std::vector<Operation> out;
    for (const auto& [path, item] : doc_["paths"].items()) {
      for (const auto& [method, op] : item.items()) {
        out.push_back({op["operationId"].get<std::string>(), absl::AsciiStrToUpper(method), path,
                       &op});
      }
    }
    return out;
  }
  const Operation* Find(const std::string& id) const {
    static std::vector<Operation>* ops = nullptr;
    if (ops == nullptr) ops = new std::vector<Operation>(Operations());
    for (const Operation& o : *ops) {
      if (o.id == id) return &o;
    }
    return nullptr;
  }

  std::set<std::string> ProblemTypes() const {
    std::set<std::string> out;
    for (const auto& [slug, _] : doc_["x-fdattest-problem-types"].items()) out.insert(slug);
    return out;
  }
  std::set<std::string> EveryRouteProblems() const {
    return doc_.value("x-fdattest-every-route-problems", std::set<std::string>());
  }
  std::set<std::string> OperationProblems(const Operation& o) const {
    return o.op->value("x-fdattest-problems", std::set<std::string>());
  }
  int ProblemStatus(const std::string& slug) const {
    return doc_["x-fdattest-problem-types"][slug]["status"].get<int>();
  }

  // Appends to `failures` where `value` does not fit `schema`: types,
  // required keys, additionalProperties false, const, enum, pattern, allOf,
  // items and property schemas, recursively.
  void CheckSchema(const Json& schema_ref, const Json& value, const std::string& where,
                   std::vector<std::string>& failures) const {
    const Json& schema = Resolve(schema_ref);
    auto fail = [&](const std::string& what) { failures.push_back(absl::StrCat(where, ": ", what)); };
    if (schema.contains("allOf")) {
      for (const Json& part : schema["allOf"]) CheckSchema(part, value, where, failures);
    }
    if (schema.contains("const") && value != schema["const"]) {
      fail(absl::StrCat("is ", value.dump(), ", not ", schema["const"].dump()));
    }
    if (schema.contains("enum") &&
        std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
      fail(absl::StrCat(value.dump(), " is not one of ", schema["enum"].dump()));
    }
    if (schema.contains("type")) {
      const std::string type = schema["type"];
      const bool ok = (type == "object" && value.is_object()) ||
                      (type == "array" && value.is_array()) ||
                      (type == "string" && value.is_string()) ||
                      (type == "integer" && value.is_number_integer()) ||
                      (type == "number" && value.is_number()) ||
                      (type == "boolean" && value.is_boolean());
      if (!ok) {
        fail(absl::StrCat("is not of type ", type, ": ", value.dump().substr(0, 80)));
        return;
      }
    }
    if (schema.contains("pattern") && value.is_string() &&
        !std::regex_search(value.get<std::string>(), std::regex(schema["pattern"].get<std::string>()))) {
      fail(absl::StrCat(value.dump(), " does not match ", schema["pattern"].get<std::string>()));
    }
    if (schema.contains("minimum") && value.is_number() && value < schema["minimum"]) {
      fail(absl::StrCat(value.dump(), " is below ", schema["minimum"].dump()));
    }
    if (value.is_object()) {
      const Json required = schema.value("required", Json::array());
      for (const Json& key : required) {
        if (!value.contains(key.get<std::string>())) fail(absl::StrCat("lacks required ", key.dump()));
      }
      const Json properties = schema.value("properties", Json::object());
      for (const auto& [key, member] : value.items()) {
        if (properties.contains(key)) {
          CheckSchema(properties[key], member, absl::StrCat(where, ".", key), failures);
        } else if (schema.contains("additionalProperties")) {
          const Json& extra = schema["additionalProperties"];
          if (extra.is_boolean() && !extra.get<bool>()) {
            fail(absl::StrCat("has undocumented key \"", key, "\""));
          } else if (extra.is_object()) {
            CheckSchema(extra, member, absl::StrCat(where, ".", key), failures);
          }
        }
      }
    }
    if (value.is_array() && schema.contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) {
        CheckSchema(schema["items"], value[i], absl::StrCat(where, "[", i, "]"), failures);
      }
    }
  }

 private:
  Json doc_;
};

const OpenApi& Document() {
  static const OpenApi* api = [] {
    absl::StatusOr<Json> doc = testing::LoadYamlFile(kSource + "/docs/openapi.yaml");
    if (!doc.ok()) {
      ADD_FAILURE() << doc.status();
      return new OpenApi(Json::object());
    }
    return new OpenApi(*std::move(doc));
  }();
  return *api;
}

std::string RoleOf(Role role) { return std::string(RoleName(role)); }

TEST(OpenApiContractTest, RouteTableIsTheDocumentsOperations) {
  const OpenApi& api = Document();
  ASSERT_TRUE(api.doc().contains("paths"));
  std::map<std::string, std::string> documented;  // "METHOD PATH" -> "role body"
  for (const OpenApi::Operation& o : api.Operations()) {
    const Json& op = *o.op;
    std::string body = "none";
    if (op.contains("requestBody")) {
      body = api.Resolve(op["requestBody"]).value("required", false) ? "json" : "optional-json";
    }
    documented[absl::StrCat(o.method, " ", o.path)] =
        absl::StrCat(op.value("x-fdattest-role", "?"), " ", body);
  }
  std::map<std::string, std::string> served;
  for (const Route& route : ServiceRoutes()) {
    const char* body = route.body == BodyKind::kNone   ? "none"
                       : route.body == BodyKind::kJson ? "json"
                                                       : "optional-json";
    served[absl::StrCat(route.method, " ", route.pattern)] =
        absl::StrCat(RoleOf(route.role), " ", body);
  }
  EXPECT_EQ(served, documented) << "docs/openapi.yaml and verifier/service/routes.cc differ";
  EXPECT_EQ(served.size(), 20u);
}

// The slug arguments of the problem-making calls in `text`: for each call,
// the string literals in its slug argument (the second; Named's last).
std::set<std::string> SlugsIn(const std::string& text) {
  std::set<std::string> slugs;
  static const std::regex kCall(R"(\b(Problem|ProblemFromStatus|EnrollmentProblem|Named)\s*\()");
  static const std::regex kLiteral(R"re("([^"\\]*)")re");
  static const std::regex kSlug("[a-z]+(-[a-z]+)*");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kCall); it != std::sregex_iterator();
       ++it) {
    const std::string fn = (*it)[1];
    // The arguments: up to the matching parenthesis, split at top-level commas.
    std::vector<std::string> args(1);
    int depth = 1;
    bool in_string = false;
    for (size_t i = it->position() + it->length(); i < text.size() && depth > 0; ++i) {
      const char c = text[i];
      if (in_string) {
        if (c == '\\') {
          args.back() += c;
          c == '\\' && i + 1 < text.size() ? args.back() += text[++i] : args.back();
          continue;
        }
        if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '(' || c == '{') {
        ++depth;
      } else if (c == ')' || c == '}') {
        if (--depth == 0) break;
      } else if (c == ',' && depth == 1) {
        args.emplace_back();
        continue;
      }
      args.back() += c;
    }
    if (args.size() < 2) continue;  // a declaration's or a one-argument call
    const std::string& slug_arg = fn == "Named" ? args.back() : args[1];
    for (auto lit = std::sregex_iterator(slug_arg.begin(), slug_arg.end(), kLiteral);
         lit != std::sregex_iterator(); ++lit) {
      const std::string s = (*lit)[1];
      if (std::regex_match(s, kSlug)) slugs.insert(s);
    }
  }
  return slugs;
}

TEST(OpenApiContractTest, ProblemTypesInTheSourcesAreTheDocumentsAndNoOthers) {
  std::vector<std::string> files = {kSource + "/verifier/enrollment.cc"};
  for (const std::string name :
       {"access_log", "admin_handlers", "api", "archive_entry", "attest_handler", "attester_parsers",
        "attester_routes", "audit_routes",
        "connection_pool", "daemon", "http_server", "info_handlers", "metrics", "nonce_budget",
        "policy_cache", "request_parsers", "router", "routes", "tls"}) {
    files.push_back(kSource + "/verifier/service/" + name + ".cc");
  }
  std::set<std::string> emitted;
  for (const std::string& f : files) {
    const std::string text = ReadFile(f);
    ASSERT_FALSE(text.empty()) << f << " is gone: update this list";
    for (const std::string& s : SlugsIn(text)) emitted.insert(s);
  }
  // Every source file of the service is in the list above.
  std::set<std::string> listed(files.begin(), files.end());
  ASSERT_EQ(RunCommand({"/bin/sh", "-c",
                        "cd " + kSource + "/verifier/service && ls *.cc | grep -v _test.cc > " +
                            ::testing::TempDir() + "/service_sources"}),
            0);
  std::istringstream sources(ReadFile(::testing::TempDir() + "/service_sources"));
  for (std::string name; std::getline(sources, name);) {
    EXPECT_TRUE(listed.count(kSource + "/verifier/service/" + name)) << name << " is not scanned";
  }
  EXPECT_GE(emitted.size(), 30u) << "the scan found too few: " << absl::StrJoin(emitted, " ");
  EXPECT_EQ(emitted, Document().ProblemTypes())
      << "problem types in the sources vs docs/openapi.yaml x-fdattest-problem-types";
}

TEST(OpenApiContractTest, OperationsNameOnlyDeclaredProblemsWithDocumentedStatuses) {
  const OpenApi& api = Document();
  const std::set<std::string> declared = api.ProblemTypes();
  EXPECT_FALSE(api.EveryRouteProblems().empty()) << "no x-fdattest-every-route-problems";
  for (const std::string& slug : api.EveryRouteProblems()) {
    EXPECT_TRUE(declared.count(slug)) << slug;
  }
  for (const OpenApi::Operation& o : api.Operations()) {
    const Json& responses = (*o.op)["responses"];
    for (const std::string& slug : api.OperationProblems(o)) {
      ASSERT_TRUE(declared.count(slug)) << o.id << " names undeclared " << slug;
      const std::string status = std::to_string(api.ProblemStatus(slug));
      EXPECT_TRUE(responses.contains(status)) << o.id << ": " << slug << " is " << status
                                              << ", which the operation does not document";
    }
    // Each documented error status has a problem type of that status.
    for (const auto& [status, _] : responses.items()) {
      if (status[0] != '4' && status[0] != '5') continue;
      bool named = false;
      for (const std::string& slug : api.OperationProblems(o)) {
        named = named || std::to_string(api.ProblemStatus(slug)) == status;
      }
      for (const std::string& slug : api.EveryRouteProblems()) {
        named = named || std::to_string(api.ProblemStatus(slug)) == status;
      }
      EXPECT_TRUE(named) << o.id << " documents " << status << " but no problem type of it";
    }
  }
}

// The walk over a running daemon.
class OpenApiWalkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<DaemonDir> made = MakeDaemonDir(kSource, "fdverifierd-contract");
    ASSERT_TRUE(made.ok()) << made.status();
    dir_ = new std::string(made->path);
    // A client certificate from the client CA with no role (OU=nobody).
    const std::string pki = *dir_ + "/pki/";
    ASSERT_EQ(RunCommand({"/usr/bin/openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout", pki + "nobody.key",
                          "-subj", "/OU=nobody/CN=fdattest contract nobody", "-out",
                          pki + "nobody.csr"}),
              0);
    ASSERT_EQ(RunCommand({"/usr/bin/openssl", "x509", "-req", "-in", pki + "nobody.csr", "-CA",
                          pki + "client-ca.pem", "-CAkey", pki + "client-ca.key",
                          "-CAcreateserial", "-days", "2", "-out", pki + "nobody.pem"}),
              0);
    // The TPM vendor CAs: the development one and the software EK's.
    ca_ = new TestCa(MakeTestCa("contract TPM vendor CA"));
    std::ofstream(*dir_ + "/tpm-cas.pem") << ReadFile(pki + "tpm-vendor-ca.pem") << ca_->pem;
    // A witness the daemon trusts.
    absl::StatusOr<CosignatureSigner> witness = CosignatureSigner::Generate("witness.test");
    ASSERT_TRUE(witness.ok());
    witness_ = new CosignatureSigner(*std::move(witness));
    std::ofstream(*dir_ + "/witness.vkey") << witness_->VerifierKey() << "\n";
  }
  static void TearDownTestSuite() {
    RunCommand({"/bin/rm", "-rf", *dir_});
    delete dir_;
    delete ca_;
    delete witness_;
  }

  void SetUp() override {
    daemon_ = std::make_unique<Daemon>(
        DaemonArgs(FDATTEST_FDVERIFIERD, *dir_, *dir_ + "/tpm-cas.pem",
                   {"--threads", "4", "--max-inflight", "2", "--request-timeout", "2",
                    "--max-nonces", "3", "--witness", *dir_ + "/witness.vkey"}));
    ASSERT_GT(daemon_->port(), 0) << "the daemon did not start";
  }

  std::unique_ptr<httplib::SSLClient> Client(const std::string& role) {
    return RoleClient(daemon_->port(), *dir_, role == "none" ? "" : role);
  }

  Reply Send(const std::string& role, const std::string& method, const std::string& target,
             const std::string& body = "", const std::string& type = "application/json",
             const httplib::Headers& headers = {}) {
    auto c = Client(role);
    if (method == "GET") return FromResult(c->Get(target, headers));
    if (method == "DELETE") return FromResult(c->Delete(target, headers));
    if (method == "POST") return FromResult(c->Post(target, headers, body, type));
    if (method == "PUT") return FromResult(c->Put(target, headers, body, type));
    ADD_FAILURE() << method;
    return {};
  }

  // Checks `reply` as operation `op_id`'s answer to a request for `target`
  // and records which status and problem type it covered. `want_slug` empty:
  // a success of status `want_status`.
  void Expect(const std::string& op_id, const std::string& target, const Reply& reply,
              int want_status, const std::string& want_slug = "") {
    SCOPED_TRACE(absl::StrCat(op_id, " ", target, " -> ", want_status, " ", want_slug));
    const OpenApi& api = Document();
    const OpenApi::Operation* o = api.Find(op_id);
    ASSERT_NE(o, nullptr) << "no operation " << op_id << " in docs/openapi.yaml";
    // The request went to this operation's path.
    const std::string path = target.substr(0, target.find('?'));
    const std::regex path_re(std::regex_replace(
        std::regex_replace(o->path, std::regex(R"(\{[a-z]+\.\.\.\})"), ".+"),
        std::regex(R"(\{[a-z]+\})"), "[^/]+"));
    ASSERT_TRUE(std::regex_match(path, path_re)) << path << " is not " << o->path;
    ASSERT_NE(reply.status, 0) << "no response";
    ASSERT_EQ(reply.status, want_status) << reply.body;

    const std::string status = std::to_string(reply.status);
    const Json& responses = (*o->op)["responses"];
    std::string slug;
    const bool problem = MediaType(reply.Header("Content-Type")) == kProblemMediaType;
    if (problem) {
      absl::StatusOr<Json> body = ParseJsonStrict(reply.body);
      ASSERT_TRUE(body.ok()) << reply.body;
      const std::string type = body->value("type", "");
      ASSERT_TRUE(absl::StartsWith(type, kProblemTypeBase)) << type;
      slug = type.substr(kProblemTypeBase.size());
      EXPECT_EQ(slug, want_slug);
      ASSERT_TRUE(api.ProblemTypes().count(slug)) << slug << " is not a documented problem type";
      EXPECT_EQ(api.ProblemStatus(slug), reply.status) << slug << "'s documented status";
      const bool everywhere = api.EveryRouteProblems().count(slug) > 0;
      EXPECT_TRUE(everywhere || api.OperationProblems(*o).count(slug))
          << slug << " is not among " << op_id << "'s x-fdattest-problems";
      covered_slugs_.insert({op_id, slug});
    } else {
      EXPECT_TRUE(want_slug.empty()) << "a success where " << want_slug << " was expected";
    }
    // The documented response: the operation's, or for a problem every route
    // may answer, the common problem response.
    const Json* response = nullptr;
    if (responses.contains(status)) {
      response = &api.Resolve(responses[status]);
    } else if (problem && api.EveryRouteProblems().count(slug)) {
      response = &api.Resolve(api.doc()["components"]["responses"]["Problem"]);
    }
    ASSERT_NE(response, nullptr) << op_id << " does not document status " << status;
    covered_statuses_.insert({op_id, status});

    const Json& content = (*response)["content"];
    ASSERT_EQ(content.size(), 1u);
    const std::string media = content.begin().key();
    EXPECT_EQ(MediaType(reply.Header("Content-Type")), media);
    const Json headers = response->value("headers", Json::object());
    for (const auto& [name, _] : headers.items()) {
      EXPECT_FALSE(reply.Header(name).empty()) << "no " << name << " header";
    }
    if (slug == "busy" || slug == "overloaded" || slug == "nonce-store-full") {
      EXPECT_EQ(reply.Header("Retry-After"), "1");
    }
    const Json& schema = content.begin().value()["schema"];
    if (media == "text/plain" || media == "application/octet-stream") {
      EXPECT_FALSE(reply.body.empty());
      return;
    }
    absl::StatusOr<Json> body = ParseJsonStrict(reply.body);
    ASSERT_TRUE(body.ok()) << reply.body;
    std::vector<std::string> failures;
    api.CheckSchema(schema, *body, "body", failures);
    EXPECT_THAT(failures, ::testing::IsEmpty()) << reply.body;
  }

  // Checks that every documented status and problem type of every operation
  // was covered, or is unprovokable.
  void ExpectEverythingCovered() {
    const OpenApi& api = Document();
    for (const OpenApi::Operation& o : api.Operations()) {
      for (const std::string& slug : api.OperationProblems(o)) {
        if (Unprovokable(o.id, slug)) continue;
        EXPECT_TRUE(covered_slugs_.count({o.id, slug})) << o.id << ": " << slug << " not provoked";
      }
      for (const auto& [status, _] : (*o.op)["responses"].items()) {
        if (covered_statuses_.count({o.id, status})) continue;
        bool all_unprovokable = true;
        for (const std::string& slug : api.OperationProblems(o)) {
          if (std::to_string(api.ProblemStatus(slug)) == status && !Unprovokable(o.id, slug)) {
            all_unprovokable = false;
          }
        }
        EXPECT_TRUE(all_unprovokable && status != "200")
            << o.id << ": documented status " << status << " not provoked";
      }
    }
    // Every exemption still names a documented problem type.
    for (const auto& [key, why] : kUnprovokable) {
      EXPECT_TRUE(api.ProblemTypes().count(key.second)) << "stale exemption " << key.second;
      if (key.first != "*") {
        const OpenApi::Operation* o = api.Find(key.first);
        EXPECT_TRUE(o != nullptr && api.OperationProblems(*o).count(key.second))
            << "stale exemption " << key.first << " " << key.second;
      }
    }
  }

  // Raw TLS: `request` as bytes; the response read back.
  Reply SendRaw(const std::string& request) {
    RawConnection c(daemon_->port(), true);
    if (!c.ok() || !c.Send(request)) return {};
    return FromRaw(c.ReadResponse());
  }

  // Enrolls (`ak`, `ek`) and returns the pending reply.
  Reply Enroll(const SoftwareEk& ek, const std::string& ak, bool replace = false,
               const std::string& role = "") {
    return Send(role, "POST", "/v1/attesters",
                Json{{"ek_certificate", Base64Encode(ek.certificate)},
                     {"ak_public", Base64Encode(ak)},
                     {"replace", replace}}
                    .dump());
  }
  std::string Answer(const SoftwareEk& ek, const Reply& enrolled) {
    Json body = *ParseJsonStrict(enrolled.body);
    absl::StatusOr<std::string> answer = SoftwareActivate(
        ek, *HexDecode(body["ak_name"].get<std::string>()),
        *Base64Decode(body["credential_blob"].get<std::string>()),
        *Base64Decode(body["encrypted_secret"].get<std::string>()));
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? *answer : "";
  }
  static std::string IdOf(const Reply& r) {
    absl::StatusOr<Json> j = ParseJsonStrict(r.body);
    return j.ok() ? j->value("id", "") : "";
  }
  static std::string SecretJson(const std::string& value, const std::string& policy) {
    return Json{{"value", value}, {"policy", policy}}.dump();
  }

  static std::string* dir_;
  static TestCa* ca_;
  static CosignatureSigner* witness_;
  std::unique_ptr<Daemon> daemon_;
  std::set<std::pair<std::string, std::string>> covered_slugs_;
  std::set<std::pair<std::string, std::string>> covered_statuses_;
};
std::string* OpenApiWalkTest::dir_ = nullptr;
TestCa* OpenApiWalkTest::ca_ = nullptr;
CosignatureSigner* OpenApiWalkTest::witness_ = nullptr;

constexpr char kUnknownId[] = "0123456789abcdef0123456789abcdef";

TEST_F(OpenApiWalkTest, EveryOperationAnswersEveryDocumentedStatusAsDocumented) {
  // --- policies and secrets (admin writes, auditor reads) -------------------
  const std::string pol = "/v1/policies/p1";
  Expect("putPolicy", pol, Send("", "PUT", pol, kOneInputPolicy), 401, "client-certificate-required");
  Expect("putPolicy", pol, Send("auditor", "PUT", pol, kOneInputPolicy), 403, "role-forbidden");
  Expect("putPolicy", pol, Send("admin", "PUT", pol, kOneInputPolicy), 200);
  Expect("putPolicy", "/v1/policies/.p", Send("admin", "PUT", "/v1/policies/.p", kOneInputPolicy), 400,
         "bad-policy-id");
  Expect("putPolicy", pol, Send("admin", "PUT", pol, R"({"version": 1})"), 400, "bad-policy");
  ASSERT_EQ(Send("admin", "PUT", "/v1/policies/p2", kOneInputPolicy).status, 200);

  Expect("getPolicy", pol, Send("", "GET", pol), 401, "client-certificate-required");
  Expect("getPolicy", pol, Send("nobody", "GET", pol), 403, "role-forbidden");
  Expect("getPolicy", pol, Send("auditor", "GET", pol), 200);
  Expect("getPolicy", pol + "?version=1", Send("admin", "GET", pol + "?version=1"), 200);
  Expect("getPolicy", pol + "?version=0", Send("auditor", "GET", pol + "?version=0"), 400,
         "bad-version");
  Expect("getPolicy", "/v1/policies/-p", Send("auditor", "GET", "/v1/policies/-p"), 400,
         "bad-policy-id");
  Expect("getPolicy", "/v1/policies/nope", Send("auditor", "GET", "/v1/policies/nope"), 404,
         "unknown-policy");

  const std::string sec = "/v1/secrets/s1";
  const std::string value = Base64Encode("contract-secret");
  Expect("putSecret", sec, Send("", "PUT", sec, SecretJson(value, "p1")), 401,
         "client-certificate-required");
  Expect("putSecret", sec, Send("auditor", "PUT", sec, SecretJson(value, "p1")), 403,
         "role-forbidden");
  Expect("putSecret", sec, Send("admin", "PUT", sec, SecretJson(value, "p1")), 200);
  Expect("putSecret", "/v1/secrets/.s", Send("admin", "PUT", "/v1/secrets/.s", SecretJson(value, "p1")),
         400, "bad-secret-name");
  Expect("putSecret", sec, Send("admin", "PUT", sec, SecretJson("", "p1")), 400, "bad-secret");
  Expect("putSecret", sec, Send("admin", "PUT", sec, SecretJson(value, "nope")), 404,
         "unknown-policy");

  // --- challenge ------------------------------------------------------------
  Expect("challenge", "/v1/challenge", Send("", "POST", "/v1/challenge", "{}"), 200);
  Expect("challenge", "/v1/challenge", Send("", "POST", "/v1/challenge", R"({"lifetime": 0})"),
         400, "bad-challenge");
  // --max-nonces 3: the fourth outstanding nonce is refused.
  Reply full;
  for (int i = 0; i < 4 && full.status != 429; ++i) full = Send("", "POST", "/v1/challenge", "");
  Expect("challenge", "/v1/challenge", full, 429, "nonce-store-full");

  // --- attestation ----------------------------------------------------------
  const std::string evidence = ReadFile(kSource + "/tests/fuzz/corpus/evidence/genuine_nv_first.json");
  ASSERT_FALSE(evidence.empty());
  auto attest = [&](const std::string& query, const std::string& body = "",
                    const std::string& type = "application/json") {
    const std::string target = "/v1/attest" + query;
    return std::make_pair(target, Send("", "POST", target, body.empty() ? evidence : body, type));
  };
  auto [t200, r200] = attest("?policy=p1");
  Expect("attest", t200, r200, 200);
  const Json result = *ParseJsonStrict(r200.body);
  EXPECT_EQ(result["verdict"], "broken_evidence");  // the seed's nonce was never issued here
  for (const auto& [query, status, slug] : std::vector<std::tuple<std::string, int, std::string>>{
           {"?policy=.p", 400, "bad-policy-id"},
           {"?release=s1,s1", 400, "bad-release"},
           {"", 400, "policy-required"},
           {"?policy=p2&release=s1", 400, "policy-mismatch"},
           {"?policy=nope", 404, "unknown-policy"},
           {"?release=nope", 404, "unknown-secret"}}) {
    auto [target, reply] = attest(query);
    Expect("attest", target, reply, status, slug);
  }
  {
    auto [target, reply] = attest("?policy=p1", "{}");
    Expect("attest", target, reply, 400, "malformed-evidence");
  }
  {
    auto [target, reply] = attest("?policy=p1", "x", "text/plain");
    Expect("attest", target, reply, 415, "unsupported-media-type");
  }
  Expect("attest", "/v1/attest?policy=p1",
         SendRaw("POST /v1/attest?policy=p1 HTTP/1.1\r\nHost: x\r\n"
                 "Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n"),
         413, "payload-too-large");

  const std::string stored = "/v1/attestations/" + result["id"].get<std::string>();
  Expect("getAttestation", stored, Send("", "GET", stored), 200);
  Expect("getAttestation", "/v1/attestations/x", Send("", "GET", std::string("/v1/attestations/") + kUnknownId),
         404, "unknown-attestation");

  // --- enrollment with a software EK ---------------------------------------
  const SoftwareEk ek = MakeSoftwareEk(ca_);
  const std::string ak = MakeAkPublic();
  Expect("enroll", "/v1/attesters", Send("", "POST", "/v1/attesters", R"({"ek": 1})"), 400,
         "bad-request");
  Expect("enroll", "/v1/attesters",
         Enroll(ek, MakeAkPublic(TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
                                 TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN)),
         400, "bad-ak");
  SoftwareEk garbage = MakeSoftwareEk(ca_);
  garbage.certificate = "not a certificate";
  Expect("enroll", "/v1/attesters", Enroll(garbage, ak), 400, "bad-ek-certificate");
  const TestCa stranger_ca = MakeTestCa("a CA nobody trusts");
  Expect("enroll", "/v1/attesters", Enroll(MakeSoftwareEk(&stranger_ca), ak), 403, "ek-untrusted");

  const Reply pending = Enroll(ek, ak);
  Expect("enroll", "/v1/attesters", pending, 200);
  const std::string id = IdOf(pending);
  const std::string act = "/v1/attesters/" + id + "/activate";
  Expect("activate", act, Send("", "POST", act, R"({"secret": ""})"), 400, "bad-request");
  const std::string unknown_act = std::string("/v1/attesters/") + kUnknownId + "/activate";
  Expect("activate", unknown_act,
         Send("", "POST", unknown_act, Json{{"secret", Base64Encode("x")}}.dump()), 404,
         "unknown-attester");
  Expect("activate", act, Send("", "POST", act, Json{{"secret", Base64Encode(Answer(ek, pending))}}.dump()),
         200);
  Expect("activate", act, Send("", "POST", act, Json{{"secret", Base64Encode(Answer(ek, pending))}}.dump()),
         409, "not-pending");
  // A second enrollment of the same EK, answered wrongly: that one dies.
  Expect("enroll", "/v1/attesters", Enroll(ek, MakeAkPublic()), 409, "ek-already-enrolled");
  const SoftwareEk ek2 = MakeSoftwareEk(ca_);
  Expect("enroll", "/v1/attesters", Enroll(ek2, ak), 409, "ak-already-enrolled");
  const Reply pending2 = Enroll(ek2, MakeAkPublic());
  ASSERT_EQ(pending2.status, 200) << pending2.body;
  const std::string act2 = "/v1/attesters/" + IdOf(pending2) + "/activate";
  Expect("activate", act2, Send("", "POST", act2, Json{{"secret", Base64Encode(std::string(32, 'x'))}}.dump()),
         403, "activation-failed");

  const std::string att = "/v1/attesters/" + id;
  const std::string unknown_att = std::string("/v1/attesters/") + kUnknownId;
  Expect("getAttester", att, Send("", "GET", att), 401, "client-certificate-required");
  Expect("getAttester", att, Send("nobody", "GET", att), 403, "role-forbidden");
  Expect("getAttester", att, Send("auditor", "GET", att), 200);
  Expect("getAttester", unknown_att, Send("auditor", "GET", unknown_att), 404, "unknown-attester");
  Expect("revokeAttester", att, Send("", "DELETE", att), 401, "client-certificate-required");
  Expect("revokeAttester", att, Send("auditor", "DELETE", att), 403, "role-forbidden");
  Expect("revokeAttester", att, Send("admin", "DELETE", att), 200);
  Expect("revokeAttester", unknown_att, Send("admin", "DELETE", unknown_att), 404,
         "unknown-attester");

  // --- the audit log: the attestations above were archived ----------------
  const std::string cp = "/v1/audit/checkpoint";
  Expect("auditCheckpoint", cp, Send("", "GET", cp), 401, "client-certificate-required");
  Expect("auditCheckpoint", cp, Send("nobody", "GET", cp), 403, "role-forbidden");
  const Reply checkpoint = Send("auditor", "GET", cp);
  Expect("auditCheckpoint", cp, checkpoint, 200);
  absl::StatusOr<Checkpoint> parsed = Checkpoint::Parse(
      checkpoint.body.substr(0, checkpoint.body.find("\n\n") + 1));
  ASSERT_TRUE(parsed.ok()) << checkpoint.body;
  ASSERT_GE(parsed->size, 1u);
  const std::string size = absl::StrCat(parsed->size);
  const std::string tile = "/v1/audit/tile/0/000.p/" + size;
  Expect("auditTile", tile, Send("", "GET", tile), 401, "client-certificate-required");
  Expect("auditTile", tile, Send("nobody", "GET", tile), 403, "role-forbidden");
  Expect("auditTile", tile, Send("auditor", "GET", tile), 200);
  Expect("auditTile", "/v1/audit/tile/0/999", Send("auditor", "GET", "/v1/audit/tile/0/999"), 404,
         "unknown-audit-entry");
  const std::string incl = "/v1/audit/proof/inclusion?index=0";
  Expect("auditInclusionProof", incl, Send("", "GET", incl), 401, "client-certificate-required");
  Expect("auditInclusionProof", incl, Send("nobody", "GET", incl), 403, "role-forbidden");
  Expect("auditInclusionProof", incl, Send("auditor", "GET", incl), 200);
  const std::string by_result = "/v1/audit/proof/inclusion?result=" + result["id"].get<std::string>();
  Expect("auditInclusionProof", by_result, Send("auditor", "GET", by_result), 200);
  const std::string bad_incl = "/v1/audit/proof/inclusion?index=x";
  Expect("auditInclusionProof", bad_incl, Send("auditor", "GET", bad_incl), 400, "bad-audit-query");
  const std::string no_result = std::string("/v1/audit/proof/inclusion?result=") + kUnknownId;
  Expect("auditInclusionProof", no_result, Send("auditor", "GET", no_result), 404,
         "unknown-audit-entry");
  const std::string cons = "/v1/audit/proof/consistency?from=1&to=" + size;
  Expect("auditConsistencyProof", cons, Send("", "GET", cons), 401, "client-certificate-required");
  Expect("auditConsistencyProof", cons, Send("nobody", "GET", cons), 403, "role-forbidden");
  Expect("auditConsistencyProof", cons, Send("auditor", "GET", cons), 200);
  const std::string bad_cons = "/v1/audit/proof/consistency?from=2&to=1";
  Expect("auditConsistencyProof", bad_cons, Send("auditor", "GET", bad_cons), 400,
         "bad-audit-query");
  const std::string far_cons = "/v1/audit/proof/consistency?from=1&to=999999";
  Expect("auditConsistencyProof", far_cons, Send("auditor", "GET", far_cons), 404,
         "unknown-audit-entry");
  const std::string ent = "/v1/audit/entries?start=0&count=1";
  Expect("auditEntries", ent, Send("", "GET", ent), 401, "client-certificate-required");
  Expect("auditEntries", ent, Send("nobody", "GET", ent), 403, "role-forbidden");
  Expect("auditEntries", ent, Send("auditor", "GET", ent), 200);
  Expect("auditEntries", "/v1/audit/entries?start=0&count=0",
         Send("auditor", "GET", "/v1/audit/entries?start=0&count=0"), 400, "bad-audit-query");
  Expect("auditEntries", "/v1/audit/entries?start=999999",
         Send("auditor", "GET", "/v1/audit/entries?start=999999"), 404, "unknown-audit-entry");
  const std::string cos = "/v1/audit/cosignatures";
  const std::string line = witness_->SignatureLine(parsed->Text(), 1765000000);
  const std::string cos_body = Json{{"size", parsed->size}, {"cosignature", line}}.dump();
  Expect("auditAddCosignature", cos, Send("", "POST", cos, cos_body), 401,
         "client-certificate-required");
  Expect("auditAddCosignature", cos, Send("nobody", "POST", cos, cos_body), 403, "role-forbidden");
  Expect("auditAddCosignature", cos, Send("auditor", "POST", cos, cos_body), 200);
  EXPECT_NE(Send("auditor", "GET", cp).body.find(line), std::string::npos)
      << "the cosignature is served with its checkpoint";
  Expect("auditAddCosignature", cos, Send("auditor", "POST", cos, "{\"size\":1}"), 400,
         "bad-audit-query");
  Expect("auditAddCosignature", cos,
         Send("auditor", "POST", cos, Json{{"size", parsed->size}, {"cosignature", "— x AAAA"}}.dump()),
         403, "unknown-witness");
  Expect("auditAddCosignature", cos,
         Send("auditor", "POST", cos, Json{{"size", 999999}, {"cosignature", line}}.dump()), 404,
         "unknown-audit-entry");
  Expect("auditAddCosignature", cos, Send("auditor", "POST", cos, cos_body, "text/plain"), 415,
         "unsupported-media-type");

  // --- tenants: shredding "default" (the walk's attester's and the unknown
  // AK's results' tenant) empties the recorded results.
  const std::string tenant = "/v1/tenants/default";
  Expect("shredTenant", tenant, Send("", "DELETE", tenant), 401, "client-certificate-required");
  Expect("shredTenant", tenant, Send("auditor", "DELETE", tenant), 403, "role-forbidden");
  const std::string long_tenant = "/v1/tenants/" + std::string(65, 't');
  Expect("shredTenant", long_tenant, Send("admin", "DELETE", long_tenant), 400, "bad-tenant");
  Expect("shredTenant", tenant, Send("admin", "DELETE", tenant), 200);
  Expect("getAttestation", stored, Send("", "GET", stored), 410, "attestation-shredded");

  // --- keys, health, metrics ------------------------------------------------
  Expect("keys", "/.well-known/fdattest-keys", Send("", "GET", "/.well-known/fdattest-keys"), 200);
  Expect("health", "/healthz", Send("", "GET", "/healthz"), 200);
  Expect("metrics", "/metrics", Send("", "GET", "/metrics"), 200);

  // --- every operation at the in-flight limit (--max-inflight 2) ------------
  // Two requests whose bodies never come hold both places; each operation is
  // then answered 503 busy, after its role check.
  std::vector<std::unique_ptr<RawConnection>> held = HoldInFlightPlaces(daemon_->port(), 2);
  ASSERT_EQ(held.size(), 2u);
  std::this_thread::sleep_for(200ms);
  for (const OpenApi::Operation& o : Document().Operations()) {
    std::string target = std::regex_replace(o.path, std::regex(R"(\{[a-z.]+\})"), kUnknownId);
    const std::string role = (*o.op).value("x-fdattest-role", "none");
    const std::string body = o.method == "POST" || o.method == "PUT" ? "{}" : "";
    Expect(o.id, target, Send(role == "none" ? "" : "admin", o.method, target, body), 503, "busy");
  }
  held.clear();

  ExpectEverythingCovered();
}

// A problem every route may answer: its documented status, the problem
// media type and schema.
void ExpectEveryRouteProblem(const Reply& reply, const std::string& slug,
                             std::set<std::string>& covered) {
  SCOPED_TRACE(slug);
  const OpenApi& api = Document();
  ASSERT_TRUE(api.EveryRouteProblems().count(slug)) << slug << " is not an every-route problem";
  ASSERT_NE(reply.status, 0) << "no response";
  EXPECT_EQ(reply.status, api.ProblemStatus(slug)) << reply.body;
  EXPECT_EQ(MediaType(reply.Header("Content-Type")), kProblemMediaType);
  absl::StatusOr<Json> body = ParseJsonStrict(reply.body);
  ASSERT_TRUE(body.ok()) << reply.body;
  EXPECT_EQ(body->value("type", ""), absl::StrCat(kProblemTypeBase, slug));
  std::vector<std::string> failures;
  api.CheckSchema(api.doc()["components"]["schemas"]["Problem"], *body, "body", failures);
  EXPECT_THAT(failures, ::testing::IsEmpty());
  covered.insert(slug);
}

TEST_F(OpenApiWalkTest, ProblemsOfEveryRouteAreAnsweredAsDocumented) {
  std::set<std::string> covered = {"busy"};  // on every operation, in the walk above
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  ExpectEveryRouteProblem(SendRaw(get + "X-Huge: " + std::string(9000, 'b') + "\r\n\r\n"),
                          "bad-request", covered);
  ExpectEveryRouteProblem(SendRaw(get + "Content-Length: x\r\n\r\n"), "bad-request", covered);
  ExpectEveryRouteProblem(
      SendRaw("GET /healthz?a=" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"),
      "uri-too-long", covered);
  ExpectEveryRouteProblem(SendRaw(get + "Range: bytes=z-y\r\n\r\n"), "range-not-satisfiable",
                          covered);
  std::string filler;
  for (int i = 0; i < 12; ++i) filler += absl::StrCat("X-Filler-", i, ": ", std::string(1000, 'a'), "\r\n");
  ExpectEveryRouteProblem(SendRaw(get + filler + "\r\n"), "headers-too-large", covered);
  ExpectEveryRouteProblem(SendRaw("GET /v2/nothing HTTP/1.1\r\nHost: x\r\n\r\n"), "not-found",
                          covered);
  ExpectEveryRouteProblem(
      SendRaw("POST /v1/challenge HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
      "length-required", covered);
  ExpectEveryRouteProblem(SendRaw("POST /v1/challenge HTTP/1.1\r\nHost: x\r\n\r\n"),
                          "length-required", covered);
  ExpectEveryRouteProblem(
      SendRaw("POST /v1/challenge HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              "Content-Length: 1048577\r\n\r\n"),
      "payload-too-large", covered);
  ExpectEveryRouteProblem(
      SendRaw(get + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"),
      "unsupported-media-type", covered);
  ExpectEveryRouteProblem(
      SendRaw("POST /v1/challenge HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
              "Content-Length: 2\r\n\r\n{}"),
      "unsupported-media-type", covered);
  // 405 on every path, with the document's methods of that path in Allow.
  for (const auto& [path, item] : Document().doc()["paths"].items()) {
    const std::string target = std::regex_replace(path, std::regex(R"(\{[a-z.]+\})"), kUnknownId);
    const Reply r = SendRaw("PATCH " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ExpectEveryRouteProblem(r, "method-not-allowed", covered);
    std::set<std::string> documented;
    for (const auto& [method, _] : item.items()) documented.insert(absl::AsciiStrToUpper(method));
    std::set<std::string> allowed;
    for (absl::string_view m : absl::StrSplit(r.Header("Allow"), ',')) {
      allowed.insert(std::string(absl::StripAsciiWhitespace(m)));
    }
    EXPECT_EQ(allowed, documented) << path;
  }
  for (const std::string& slug : Document().EveryRouteProblems()) {
    EXPECT_TRUE(covered.count(slug) || Unprovokable("*", slug)) << slug << " not provoked";
  }
  EXPECT_EQ(Send("", "GET", "/healthz").status, 200) << "the service stopped serving";
}

}  // namespace
}  // namespace fdattest
