// The attestor's local API has one codec, used by fdattestd and by fdlaunch's
// client: every request and response type must come back from its own
// serialisation unchanged, and a message written out by hand in the
// docs/attestor.md spelling must serialise back to the same bytes.
#include "common/attestor_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/observation.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;
using Op = AttestorRequest::Op;

constexpr char kLaunch[] = "0123456789abcdef0123456789abcdef";
constexpr char kOther[] = "fedcba9876543210fedcba9876543210";

std::string Raw(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

// ---------------------------------------------------------------------------
// Requests

std::vector<AttestorRequest> OneOfEachRequest() {
  return {
      AttestorRequest::Info(),
      *AttestorRequest::Measure(*CelContent::LaunchManifestDigest(kLaunch, Sha256("manifest"))),
      *AttestorRequest::Measure(*CelContent::LaunchSeparator(kLaunch)),
      *AttestorRequest::Certify("\x01"),
      *AttestorRequest::Certify(std::string(kMaxQualifyingDataBytes, '\xff')),
      *AttestorRequest::Log(kOther),
      *AttestorRequest::ActivateCredential(std::string("\x00\x02" "ab", 4), std::string("\x00\x01z", 3)),
      *AttestorRequest::ActivateCredential(std::string(kMaxCredentialBlobBytes, '\x01'),
                                           std::string(kMaxEncryptedSecretBytes, '\x02')),
      *AttestorRequest::Hold(kLaunch, 4242),
      *AttestorRequest::Hold(kOther, INT32_MAX),
      *AttestorRequest::Launch(kLaunch, "{\"manifest\":1}", ""),
      *AttestorRequest::Launch(kLaunch, "{\"manifest\":1}", std::string(64, '\x09')),
      *AttestorRequest::Release(kLaunch),
      *AttestorRequest::Reattest(kLaunch, "\x01"),
  };
}

TEST(AttestorRequestCodecTest, SerializeThenParseGivesTheSameRequest) {
  for (const AttestorRequest& request : OneOfEachRequest()) {
    absl::StatusOr<std::string> text = request.Serialize();
    ASSERT_TRUE(text.ok()) << text.status();
    absl::StatusOr<AttestorRequest> back = AttestorRequest::Parse(*text);
    ASSERT_TRUE(back.ok()) << *text << ": " << back.status();
    EXPECT_TRUE(*back == request) << *text;
  }
  // And no two of them are equal: the comparison sees what differs.
  const std::vector<AttestorRequest> all = OneOfEachRequest();
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = 0; j < all.size(); ++j) EXPECT_EQ(all[i] == all[j], i == j) << i << j;
  }
}

TEST(AttestorRequestCodecTest, ParseThenSerializeGivesTheSameBytes) {
  const std::string digest = HexEncode(Sha256("manifest"));
  const std::vector<std::string> texts = {
      R"({"op":"info"})",
      absl::StrCat(R"({"launch_id":")", kLaunch, R"(","manifest_sha256":")", digest,
                   R"(","op":"measure","type":"launch_manifest"})"),
      absl::StrCat(R"({"launch_id":")", kLaunch, R"(","op":"measure","type":"launch_separator"})"),
      R"({"op":"certify","qualifying_data":"00ff10"})",
      absl::StrCat(R"({"launch_id":")", kOther, R"(","op":"log"})"),
      absl::StrCat(R"({"credential_blob":")", Base64Encode("blob"), R"(","encrypted_secret":")",
                   Base64Encode("seed"), R"(","op":"activate_credential"})"),
      absl::StrCat(R"({"launch_id":")", kLaunch, R"(","op":"hold","pid":77})"),
      absl::StrCat(R"({"launch_id":")", kLaunch, R"(","manifest":")", Base64Encode("{}"),
                   R"(","nonce":"","op":"launch"})"),
      absl::StrCat(R"({"launch_id":")", kLaunch, R"(","op":"release"})"),
      absl::StrCat(R"({"launch_id":")", kLaunch, R"(","nonce":")", Base64Encode("n"),
                   R"(","op":"reattest"})"),
  };
  for (const std::string& text : texts) {
    absl::StatusOr<AttestorRequest> request = AttestorRequest::Parse(text);
    ASSERT_TRUE(request.ok()) << text << ": " << request.status();
    EXPECT_EQ(*request->Serialize(), text);
  }
}

TEST(AttestorRequestCodecTest, ParseGivesTheTypedFields) {
  absl::StatusOr<AttestorRequest> certify =
      AttestorRequest::Parse(R"({"op":"certify","qualifying_data":"00ff10"})");
  ASSERT_TRUE(certify.ok());
  EXPECT_EQ(certify->op, Op::kCertify);
  EXPECT_EQ(certify->qualifying_data, std::string("\x00\xff\x10", 3));
  absl::StatusOr<AttestorRequest> manifest =
      AttestorRequest::Parse(*OneOfEachRequest()[1].Serialize());
  ASSERT_TRUE(manifest.ok());
  ASSERT_TRUE(manifest->content.has_value());
  EXPECT_EQ(manifest->content->type, CelContent::Type::kLaunchManifest);
  EXPECT_EQ(manifest->content->launch_id, kLaunch);
  EXPECT_EQ(manifest->content->manifest_sha256, Sha256("manifest"));
}

TEST(AttestorRequestCodecTest, FactoriesAndSerializeRefuseWhatParseRefuses) {
  EXPECT_THAT(AttestorRequest::Certify("").status().message(), HasSubstr("1 to 64 bytes"));
  EXPECT_THAT(AttestorRequest::Certify(std::string(65, 'a')).status().message(),
              HasSubstr("1 to 64 bytes"));
  EXPECT_THAT(AttestorRequest::Log("ABC").status().message(), HasSubstr("32 lowercase hex"));
  EXPECT_THAT(AttestorRequest::Measure(CelContent::Epoch(1, 0)).status().message(),
              HasSubstr("unknown measure type \"epoch\""));

  AttestorRequest stray = AttestorRequest::Info();
  stray.launch_id = kLaunch;  // would be dropped on the wire
  EXPECT_THAT(stray.Serialize().status().message(), HasSubstr("has no \"launch_id\""));
  AttestorRequest separator = *AttestorRequest::Measure(*CelContent::LaunchSeparator(kLaunch));
  separator.content->manifest_sha256 = Sha256("x");  // a separator carries no digest
  EXPECT_FALSE(separator.Serialize().ok());
  AttestorRequest empty_measure{.op = Op::kMeasure};
  EXPECT_FALSE(empty_measure.Serialize().ok());

  EXPECT_THAT(AttestorRequest::ActivateCredential("", "s").status().message(),
              HasSubstr("\"credential_blob\" must be 1 to 134 bytes"));
  EXPECT_THAT(AttestorRequest::ActivateCredential(std::string(135, 'b'), "s").status().message(),
              HasSubstr("\"credential_blob\" must be 1 to 134 bytes"));
  EXPECT_THAT(AttestorRequest::ActivateCredential("b", "").status().message(),
              HasSubstr("\"encrypted_secret\" must be 1 to 514 bytes"));
  EXPECT_THAT(AttestorRequest::ActivateCredential("b", std::string(515, 's')).status().message(),
              HasSubstr("\"encrypted_secret\" must be 1 to 514 bytes"));
  AttestorRequest certify_with_blob = *AttestorRequest::Certify("q");
  certify_with_blob.credential_blob = "b";  // would be dropped on the wire
  EXPECT_THAT(certify_with_blob.Serialize().status().message(), HasSubstr("has no credential"));
}

// The activate_credential request is strict like the others: both keys, base64
// exactly, within the sizes, and nothing else.
TEST(AttestorRequestCodecTest, ObservedLaunchOpsAreStrict) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {absl::StrCat(R"({"launch_id":")", kLaunch, R"(","op":"hold","pid":0})"), "pid"},
      {absl::StrCat(R"({"launch_id":")", kLaunch, R"(","op":"hold"})"), "pid"},
      {absl::StrCat(R"({"launch_id":")", kLaunch, R"(","op":"hold","pid":1,"nonce":""})"),
       "nonce"},
      {R"({"launch_id":"xyz","op":"release"})", "launch_id"},
      {absl::StrCat(R"({"launch_id":")", kLaunch, R"(","manifest":"","nonce":"","op":"launch"})"),
       "manifest"},
      {absl::StrCat(R"({"launch_id":")", kLaunch, R"(","manifest":"e30=","nonce":")",
                    Base64Encode(std::string(65, 'n')), R"(","op":"launch"})"),
       "nonce"},
      {absl::StrCat(R"({"launch_id":")", kLaunch, R"(","nonce":"","op":"reattest"})"), "nonce"},
      {absl::StrCat(R"({"launch_id":")", kLaunch, R"(","nonce":"*","op":"reattest"})"), "base64"},
  };
  for (const auto& [text, expect] : bad) {
    absl::StatusOr<AttestorRequest> r = AttestorRequest::Parse(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(expect)) << text;
  }
  EXPECT_FALSE(AttestorRequest::Hold(kLaunch, -1).ok());
  EXPECT_FALSE(AttestorRequest::Reattest(kLaunch, "").ok());
  EXPECT_FALSE(AttestorRequest::Launch(kLaunch, "", "").ok());
  EXPECT_FALSE(ParseResponse(Op::kLaunch,
                             R"({"manifest_recnum":3,"observation_recnum":5,"ok":true})")
                   .ok());
  EXPECT_FALSE(ParseResponse(Op::kReattest, R"({"gone":false,"ok":true})").ok());
  EXPECT_FALSE(ParseResponse(Op::kReattest, R"({"gone":true,"ok":true,"recnum":1})").ok());
}

TEST(AttestorRequestCodecTest, ActivateCredentialParseIsStrict) {
  const std::string blob = Base64Encode("blob");
  const std::string secret = Base64Encode("seed");
  struct Case {
    std::string text;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {absl::StrCat(R"({"op":"activate_credential","credential_blob":")", blob, R"("})"),
       "missing required key \"encrypted_secret\""},
      {absl::StrCat(R"({"op":"activate_credential","encrypted_secret":")", secret, R"("})"),
       "missing required key \"credential_blob\""},
      {absl::StrCat(R"({"op":"activate_credential","credential_blob":")", blob,
                    R"(","encrypted_secret":")", secret, R"(","extra":1})"),
       "unknown key \"extra\""},
      {absl::StrCat(R"({"op":"activate_credential","credential_blob":"YmxvYg","encrypted_secret":")",
                    secret, R"("})"),
       "\"credential_blob\" is not base64"},
      {absl::StrCat(R"({"op":"activate_credential","credential_blob":")", blob,
                    R"(","encrypted_secret":"not base64!"})"),
       "\"encrypted_secret\" is not base64"},
      {absl::StrCat(R"({"op":"activate_credential","credential_blob":"","encrypted_secret":")",
                    secret, R"("})"),
       "\"credential_blob\" must be 1 to"},
      {absl::StrCat(R"({"op":"activate_credential","credential_blob":")",
                    Base64Encode(std::string(135, 'x')), R"(","encrypted_secret":")", secret,
                    R"("})"),
       "\"credential_blob\" must be 1 to"},
      {absl::StrCat(R"({"op":"activate_credential","credential_blob":1,"encrypted_secret":")",
                    secret, R"("})"),
       "credential_blob"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AttestorRequest> request = AttestorRequest::Parse(c.text);
    ASSERT_FALSE(request.ok()) << c.text;
    EXPECT_EQ(request.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(request.status().message(), HasSubstr(c.expect)) << c.text;
  }
}

// ---------------------------------------------------------------------------
// Responses

InfoResponse SampleInfo(const Register& reg) {
  return InfoResponse{.ak_public = "AK public area",
                      .ak_name = std::string("\x00\x0b", 2) + Raw(Sha256("name")),
                      .ak_qualified_name = std::string("\x00\x0b", 2) + Raw(Sha256("qualified")),
                      .ek_public = "EK public area",
                      .ek_certificate = "EK certificate DER",
                      .reg = reg,
                      .reset_count = UINT32_MAX,
                      .restart_count = 0};
}

LogResponse SampleLog() {
  const Register reg = *Register::NvIndex(0x01bfda00);
  return LogResponse{.records = {
                         CelRecord::Make(5, reg, CelContent::Epoch(3, 0)),
                         CelRecord::Make(6, reg, *CelContent::LaunchSeparator(kOther)).Redacted(),
                         CelRecord::Make(7, reg, *CelContent::LaunchManifest(kLaunch, "{}")),
                     }};
}

// Serialize, then both Parse (the type's own) and ParseResponse (for `op`).
template <typename T>
void ExpectRoundTrip(const T& response, Op op) {
  absl::StatusOr<std::string> text = response.Serialize();
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<T> back = T::Parse(*text);
  ASSERT_TRUE(back.ok()) << *text << ": " << back.status();
  EXPECT_TRUE(*back == response) << *text;
  absl::StatusOr<AttestorResponse> any = ParseResponse(op, *text);
  ASSERT_TRUE(any.ok()) << any.status();
  ASSERT_TRUE(std::holds_alternative<T>(*any)) << *text;
  EXPECT_TRUE(std::get<T>(*any) == response);
  EXPECT_EQ(SerializeResponse(*any), *text);
}

// The deepest record a log serves: a load observation of a workload holding
// a socket (response, records, record, content, data, observation, fds, fd,
// socket: nine levels). `fdlaunch attest` and every evidence bundle of such a
// launch read it back.
TEST(AttestorResponseCodecTest, ALogWithAnObservedSocketRoundTrips) {
  const Register reg = *Register::NvIndex(0x01bfda00);
  KernelObservation o;
  o.exe_sha256 = std::string(64, 'a');
  o.filter_sha256 = {std::string(64, 'b')};
  o.seccomp_mode = 2;
  o.no_new_privs = true;
  o.root = {.mounts = 1, .fs_type = "tmpfs", .read_only = true, .entries = 0};
  o.fds = {ObservedFd{.fd = 3, .kind = "socket", .dev = 8, .ino = 99, .mode = 0140777,
                      .open_mode = "rw", .mnt_id = 7,
                      .socket = ObservedSocket{.family = "unix", .type = "stream",
                                               .peer_pid = 12, .peer_uid = 0, .peer_gid = 0}}};
  absl::StatusOr<CelContent> load = CelContent::LaunchObservation(
      kLaunch, CelContent::ObservationKind::kLoad, "", std::string(64, 'c'), o, "");
  ASSERT_TRUE(load.ok()) << load.status();
  ExpectRoundTrip(LogResponse{.records = {CelRecord::Make(8, reg, *load)}}, Op::kLog);
}

TEST(AttestorResponseCodecTest, SerializeThenParseGivesTheSameResponse) {
  ExpectRoundTrip(SampleInfo(*Register::NvIndex(0x01bfda00)), Op::kInfo);
  ExpectRoundTrip(SampleInfo(*Register::Pcr(23)), Op::kInfo);
  InfoResponse without_ek_certificate = SampleInfo(*Register::Pcr(15));
  without_ek_certificate.ek_certificate.clear();  // the TPM holds none: served empty
  ExpectRoundTrip(without_ek_certificate, Op::kInfo);
  ExpectRoundTrip(MeasureResponse{.recnum = 0}, Op::kMeasure);
  ExpectRoundTrip(MeasureResponse{.recnum = INT64_MAX}, Op::kMeasure);
  ExpectRoundTrip(CertifyResponse{.attest = std::string("\xff\x54\x43\x47\x00", 5),
                                  .signature = "signature",
                                  .register_value = Sha256("value")},
                  Op::kCertify);
  ExpectRoundTrip(SampleLog(), Op::kLog);
  ExpectRoundTrip(LogResponse{}, Op::kLog);
  ExpectRoundTrip(ActivateCredentialResponse{.credential = std::string(32, '\x07')},
                  Op::kActivateCredential);
  ExpectRoundTrip(ActivateCredentialResponse{.credential = std::string(1, '\0')}, Op::kActivateCredential);
  ExpectRoundTrip(HoldResponse{.observing = true}, Op::kHold);
  ExpectRoundTrip(HoldResponse{.observing = false}, Op::kHold);
  ExpectRoundTrip(LaunchResponse{.manifest_recnum = 7, .observation_recnum = 8}, Op::kLaunch);
  ExpectRoundTrip(ReleaseResponse{}, Op::kRelease);
  ExpectRoundTrip(ReattestResponse{.gone = true}, Op::kReattest);
  ExpectRoundTrip(ReattestResponse{.gone = false, .recnum = 9, .manifest = "{}"}, Op::kReattest);
  for (Op op : {Op::kInfo, Op::kMeasure, Op::kCertify, Op::kLog, Op::kActivateCredential,
                Op::kHold, Op::kLaunch, Op::kRelease, Op::kReattest}) {
    ExpectRoundTrip(ErrorResponse(absl::FailedPreconditionError("log diverged")), op);
    ExpectRoundTrip(ErrorResponse(absl::PermissionDeniedError("uid 65534")), op);
  }
}

TEST(AttestorResponseCodecTest, ParseThenSerializeGivesTheSameBytes) {
  const std::string value_hex = HexEncode(Sha256("value"));
  const std::string name_hex = "000b" + HexEncode(Sha256("name"));
  const std::string epoch = R"({"data":{"reset_count":3,"restart_count":0},"type":"epoch"})";
  struct Case {
    Op op;
    std::string text;
  };
  const std::vector<Case> cases = {
      {Op::kInfo,
       absl::StrCat(R"({"ak_name":")", name_hex, R"(","ak_public":")", Base64Encode("ak"),
                    R"(","ak_qualified_name":")", name_hex, R"(","ek_certificate":")",
                    Base64Encode("cert"), R"(","ek_public":")", Base64Encode("ek"),
                    R"(","ok":true,"register":{"kind":"nv","nv_index":29350400},)"
                    R"("reset_count":3,"restart_count":0})")},
      {Op::kInfo, absl::StrCat(R"({"ak_name":")", name_hex, R"(","ak_public":")",
                               Base64Encode("ak"), R"(","ak_qualified_name":")", name_hex,
                               R"(","ek_certificate":"",)", R"("ek_public":")", Base64Encode("ek"),
                               R"(","ok":true,"register":{"bank":"sha256","kind":"pcr","pcr":15},)"
                               R"("reset_count":0,"restart_count":4294967295})")},
      {Op::kMeasure, R"({"ok":true,"recnum":42})"},
      {Op::kCertify,
       absl::StrCat(R"({"attest":")", Base64Encode("attest"), R"(","ok":true,"register_value":")",
                    value_hex, R"(","signature":")", Base64Encode("sig"), R"("})")},
      {Op::kLog,
       absl::StrCat(
           R"({"ok":true,"records":[{"content":)", epoch,
           R"(,"content_type":"fdattest","digests":[{"digest":")", HexEncode(Sha256(epoch)),
           R"(","hashAlg":"sha256"}],"nv_index":29350400,"recnum":9},)"
           R"({"content_type":"fdattest","digests":[{"digest":")",
           value_hex,
           R"(","hashAlg":"sha256"}],"nv_index":29350400,"recnum":10,"redacted":true}]})")},
      {Op::kLog, R"({"ok":true,"records":[]})"},
      {Op::kActivateCredential,
       absl::StrCat(R"({"credential":")", Base64Encode("recovered"), R"(","ok":true})")},
      {Op::kCertify, R"({"error":{"code":"DataLoss","message":"register changed"},"ok":false})"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AttestorResponse> response = ParseResponse(c.op, c.text);
    ASSERT_TRUE(response.ok()) << c.text << ": " << response.status();
    EXPECT_EQ(SerializeResponse(*response), c.text);
  }
}

TEST(AttestorResponseCodecTest, ErrorCodesFoldIntoTheFiveTheApiUses) {
  EXPECT_EQ(ErrorResponse(absl::NotFoundError("x")).code, absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorResponse(absl::AlreadyExistsError("x")).code,
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorResponse(absl::UnavailableError("x")).code, absl::StatusCode::kInternal);
  EXPECT_EQ(ErrorResponse(absl::DataLossError("x")).code, absl::StatusCode::kDataLoss);
  EXPECT_EQ(ErrorCodeName(absl::StatusCode::kOutOfRange), "FailedPrecondition");
}

TEST(AttestorResponseCodecTest, ParseIsStrict) {
  struct Case {
    Op op;
    std::string text;
    std::string expect;
  };
  const std::string value_hex = HexEncode(Sha256("value"));
  const std::vector<Case> cases = {
      {Op::kMeasure, "this is not json", "malformed JSON"},
      {Op::kMeasure, "[1,2,3]", "no \"ok\""},
      {Op::kMeasure, R"({"recnum":1})", "no \"ok\""},
      {Op::kMeasure, R"({"ok":"true","recnum":1})", "no \"ok\""},
      {Op::kMeasure, R"({"ok":true})", "missing required key \"recnum\""},
      {Op::kMeasure, R"({"extra":0,"ok":true,"recnum":1})", "unknown key \"extra\""},
      {Op::kMeasure, R"({"ok":true,"recnum":-1})", "\"recnum\" must be between"},
      {Op::kMeasure, R"({"ok":true,"recnum":1,"recnum":2})", "duplicate JSON key"},
      // Unknown keys are reported before missing ones (common/json.h).
      {Op::kInfo, R"({"ok":true,"recnum":1})", "unknown key \"recnum\""},
      {Op::kInfo, R"({"ok":true})", "missing required key"},
      {Op::kMeasure, R"({"error":{"code":"Teapot","message":"x"},"ok":false})",
       "unknown error code"},
      {Op::kMeasure, R"({"error":{"code":"Internal"},"ok":false})",
       "missing required key \"message\""},
      {Op::kMeasure, R"({"error":{"code":"Internal","message":"x"},"ok":false,"recnum":1})",
       "unknown key \"recnum\""},
      {Op::kCertify,
       absl::StrCat(R"({"attest":"YQ==","ok":true,"register_value":")", std::string(64, 'g'),
                    R"(","signature":"YQ=="})"),
       "register_value must be 64 lowercase hex digits"},
      {Op::kCertify,
       absl::StrCat(R"({"attest":"not base64!","ok":true,"register_value":")", value_hex,
                    R"(","signature":"YQ=="})"),
       "attest is not base64"},
      {Op::kCertify,
       absl::StrCat(R"({"attest":"","ok":true,"register_value":")", value_hex,
                    R"(","signature":"YQ=="})"),
       "attest is empty"},
      {Op::kLog,
       absl::StrCat(R"({"ok":true,"records":[{"content_type":"fdattest","digests":[{"digest":")",
                    value_hex,
                    R"(","hashAlg":"sha1"}],"nv_index":29350400,"recnum":0,)"
                    R"("redacted":true}]})"),
       "records[0]: record: digest for unsupported bank \"sha1\""},
      {Op::kActivateCredential, R"({"credential":"","ok":true})", "credential is empty"},
      {Op::kActivateCredential,
       absl::StrCat(R"({"credential":")", Base64Encode(std::string(65, 'c')), R"(","ok":true})"),
       "longer than 64 bytes"},
      {Op::kActivateCredential, R"({"ok":true,"recnum":1})", "unknown key \"recnum\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<AttestorResponse> response = ParseResponse(c.op, c.text);
    ASSERT_FALSE(response.ok()) << c.text;
    EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(response.status().message(), HasSubstr(c.expect)) << c.text;
  }
  // A type's own Parse refuses an error response; ErrorResponse::Parse an answer.
  EXPECT_THAT(MeasureResponse::Parse(R"({"error":{"code":"Internal","message":"x"},"ok":false})")
                  .status()
                  .message(),
              HasSubstr("Internal: x"));
  EXPECT_FALSE(ErrorResponse::Parse(R"({"ok":true,"recnum":1})").ok());
}

TEST(AttestorResponseCodecTest, AResponseTooLargeForAFrameBecomesAnError) {
  LogResponse log;
  const Register reg = *Register::NvIndex(0x01bfda00);
  while (log.records.size() * 150 < kMaxFrameBytes) {
    log.records.push_back(CelRecord::Make(log.records.size(), reg, CelContent::Epoch(1, 1)));
  }
  const std::string text = SerializeResponse(log);
  absl::StatusOr<ErrorResponse> error = ErrorResponse::Parse(text);
  ASSERT_TRUE(error.ok()) << text.substr(0, 200);
  EXPECT_EQ(error->code, absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(error->message, HasSubstr("exceeds the frame limit"));
}

}  // namespace
}  // namespace fdattest
