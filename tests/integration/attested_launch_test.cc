// fdlaunch with an attestor (--attestor, --evidence-out, --nonce).
//
// Against the real fdattestd on a private swtpm: the workload runs as usual,
// the evidence bundle agrees with itself and with the manifest file, its
// event log replays to the register value that tpm2-tools reads from the TPM
// on its own, the TPM signed the qualifying data the test computes from the
// nonce and the manifest, and in PCR mode tpm2_checkquote accepts the quote.
//
// Against a scripted fake attestor (a thread of this test speaking the local
// API, holding the launcher's child under ptrace from `hold` to `release` as
// the real one does, but recording "not observed"): the client's error
// handling. Every attestor failure -- no daemon, error answers, broken
// frames, malformed or inconsistent answers, silence -- must end fdlaunch
// with 125, one "fdlaunch: error: attestor:" line and no workload (the
// workload prints "RAN" on fd 1 and exits 42).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/file_io.h"
#include "tests/integration/launch_util.h"
#ifdef FDATTEST_FDATTESTD
#include "tests/support/swtpm.h"
#include "tests/support/tpm_test_util.h"
#endif

namespace fdattest::integration {
namespace {

// Long enough for fdlaunch's own per-call timeout (10 s) to fire first.
constexpr std::chrono::milliseconds kLaunchTimeout{30000};
constexpr char kOutEntry[] = R"({"fd": 1, "role": "phi-output", "access": "w", "inherit": true})";
constexpr char kNonceHex[] = "6e6f6e63652d666f722d7468652d61747465737465642d6c61756e63682d3031";

std::string Str(const Sha256Digest& d) { return std::string(d.begin(), d.end()); }

std::string Frame(std::string_view body) {
  const uint32_t n = static_cast<uint32_t>(body.size());
  std::string f = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                   static_cast<char>(n >> 8), static_cast<char>(n)};
  f.append(body);
  return f;
}

// SHA-256("fdattest/v1" || nonce || SHA-256(manifest)), computed here from the
// definition rather than with the launcher's code.
std::string ExpectedQualifyingData(const std::string& nonce, const std::string& manifest) {
  return Str(Sha256(std::string("fdattest/v1") + nonce + Str(Sha256(manifest))));
}

std::string ReplayHex(const Json& records) {
  Sha256Digest value{};
  for (const Json& r : records) {
    auto digest = HexDecode(r["digests"][0]["digest"].get<std::string>());
    if (!digest.ok()) return "";
    value = Sha256(Str(value) + *digest);
  }
  return HexEncode(value);
}

bool HasErrorLineOnly(const RunResult& r, const std::string& must_contain) {
  std::vector<std::string> other;
  std::vector<std::string> errors = ErrorLines(r, &other);
  return errors.size() == 1 && other.empty() &&
         errors[0].rfind("fdlaunch: error: " + must_contain, 0) == 0;
}

std::vector<std::string> LaunchArgs(const std::string& profile,
                                    const std::vector<std::string>& more) {
  std::vector<std::string> args = {"--profile", profile};
  args.insert(args.end(), more.begin(), more.end());
  args.push_back("--");
  args.push_back(RanHelperPath());
  return args;
}

// ---------------------------------------------------------------------------
// The fake attestor.

// What the fake does instead of answering correctly.
struct FakeReply {
  enum class Kind { kBytes, kClose, kSilent } kind = Kind::kBytes;
  std::string bytes;         // kBytes: sent as is (header included)
  bool close_after = false;  // kBytes: then hang up

  static FakeReply Bytes(std::string b) { return {Kind::kBytes, std::move(b)}; }
  static FakeReply BytesThenClose(std::string b) { return {Kind::kBytes, std::move(b), true}; }
  static FakeReply Json(std::string_view body) { return {Kind::kBytes, Frame(body)}; }
  static FakeReply Close() { return {Kind::kClose, ""}; }
  static FakeReply Silent() { return {Kind::kSilent, ""}; }
};

// Given a request and the correct answer, nullopt (answer correctly) or a replacement.
using FakeScript = std::function<std::optional<FakeReply>(const Json& request, Json& correct)>;

// A one-thread attestor on a unix socket that answers like the contract says
// (NV register 0x01bfda00, an epoch record, fake attest/signature bytes) unless
// the script replaces an answer. Connections are served one after another.
class FakeAttestor {
 public:
  static constexpr int64_t kNvIndex = 0x01bfda00;

  FakeAttestor(std::string path, FakeScript script)
      : path_(std::move(path)), script_(std::move(script)) {
    AppendRecord({{"data", {{"reset_count", 3}, {"restart_count", 0}}}, {"type", "epoch"}},
                 std::nullopt);
  }
  ~FakeAttestor() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // The fake's own answer to an observation: none ("not observed").
  static constexpr char kNotObserved[] = "fake attestor: not observed";

  // Records load observations bound to `nonce_hex` instead of the launch's
  // nonce (call before Start).
  void BindLoadObservationsTo(std::string nonce_hex) { load_nonce_hex_ = std::move(nonce_hex); }

  bool Start() {
    listen_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (!listen_ || path_.size() >= sizeof(addr.sun_path)) return false;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    if (bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
    if (listen(listen_.get(), 8) != 0) return false;
    thread_ = std::thread([this] { Serve(); });
    return true;
  }

  std::vector<Json> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::string> ops() const {
    std::vector<std::string> out;
    for (const Json& r : requests()) out.push_back(r.value("op", std::string("?")));
    return out;
  }

 private:
  void AppendRecord(const Json& content, std::optional<std::string> digest_hex) {
    Sha256Digest digest{};
    if (digest_hex) {
      auto raw = HexDecode(*digest_hex);
      if (raw.ok() && raw->size() == 32) std::copy(raw->begin(), raw->end(), digest.begin());
    } else {
      digest = Sha256(*CanonicalJson(content));
    }
    records_.push_back({{"content", content},
                        {"content_type", "fdattest"},
                        {"digests", {{{"digest", HexEncode(digest)}, {"hashAlg", "sha256"}}}},
                        {"nv_index", kNvIndex},
                        {"recnum", records_.size()}});
    value_ = Sha256(Str(value_) + Str(digest));
  }

  // Kills a held child whose launch was not released (the real attestor does
  // this when the launcher's connection closes) and consumes its exit.
  void DropHeld() {
    if (held_ <= 0) return;
    kill(held_, SIGKILL);
    for (int i = 0; i < 500; ++i) {
      int st = 0;
      const pid_t r = waitpid(held_, &st, __WALL | WNOHANG);
      if (r == held_ && (WIFEXITED(st) || WIFSIGNALED(st))) break;
      if (r < 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    held_ = -1;
  }

  // Waits (bounded) for the held child's exec stop.
  bool WaitForExec() {
    for (int i = 0; i < 500; ++i) {
      int st = 0;
      const pid_t r = waitpid(held_, &st, __WALL | WNOHANG);
      if (r == held_ && st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) return true;
      if (r == held_ && (WIFEXITED(st) || WIFSIGNALED(st))) return false;
      if (r == held_) ptrace(PTRACE_CONT, held_, nullptr, WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
      if (r < 0) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  Json Refuse(const std::string& message) {
    return {{"ok", false}, {"error", {{"code", "FailedPrecondition"}, {"message", message}}}};
  }

  Json Answer(const Json& req) {
    const std::string op = req.value("op", std::string());
    if (op == "hold") {
      const pid_t pid = static_cast<pid_t>(req.value("pid", int64_t{0}));
      if (ptrace(PTRACE_SEIZE, pid, nullptr, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) != 0) {
        return Refuse(std::string("fake: cannot seize: ") + strerror(errno));
      }
      held_ = pid;
      return {{"ok", true}, {"observing", true}};
    }
    if (op == "launch") {
      if (held_ <= 0 || !WaitForExec()) return Refuse("fake: no exec");
      auto manifest = Base64Decode(req.value("manifest", ""));
      auto nonce = Base64Decode(req.value("nonce", ""));
      if (!manifest.ok() || !nonce.ok()) return Refuse("fake: bad base64");
      const std::string digest = HexEncode(Sha256(*manifest));
      AppendRecord({{"data", {{"launch_id", req["launch_id"]}, {"manifest_sha256", digest}}},
                    {"type", "launch_manifest"}},
                   digest);
      AppendRecord({{"data",
                     {{"kind", "load"},
                      {"launch_id", req["launch_id"]},
                      {"nonce", load_nonce_hex_.value_or(HexEncode(*nonce))},
                      {"not_observed", kNotObserved},
                      {"peer_exe_sha256", std::string(64, 'e')}}},
                    {"type", "launch_observation"}},
                   std::nullopt);
      return {{"ok", true},
              {"manifest_recnum", records_.size() - 2},
              {"observation_recnum", records_.size() - 1}};
    }
    if (op == "release") {
      // Let go only once this answer is sent unchanged (ServeConnection).
      if (held_ <= 0) return Refuse("fake: nothing held");
      return {{"ok", true}};
    }
    if (op == "info") {
      return {{"ok", true},
              {"ak_public", Base64Encode("fake AK public")},
              {"ak_name", "000b" + std::string(64, 'a')},
              {"ak_qualified_name", "000b" + std::string(64, 'b')},
              {"ek_public", Base64Encode("fake EK public")},
              {"ek_certificate", Base64Encode("fake EK certificate")},
              {"register", {{"kind", "nv"}, {"nv_index", kNvIndex}}},
              {"reset_count", 3},
              {"restart_count", 0}};
    }
    if (op == "measure" && req.value("type", "") == "launch_separator") {
      AppendRecord({{"data", {{"launch_id", req["launch_id"]}}}, {"type", "launch_separator"}},
                   std::nullopt);
      return {{"ok", true}, {"recnum", records_.size() - 1}};
    }
    if (op == "certify") {
      auto q = HexDecode(req.value("qualifying_data", ""));
      return {{"ok", true},
              {"attest", Base64Encode("FAKE-ATTEST:" + (q.ok() ? *q : ""))},
              {"signature", Base64Encode("FAKE-SIGNATURE")},
              {"register_value", HexEncode(value_)}};
    }
    if (op == "log") {
      Json served = Json::array();
      for (const Json& r : records_) {
        const Json& data = r["content"]["data"];
        if (data.contains("launch_id") && data["launch_id"] != req["launch_id"]) {
          Json redacted = r;
          redacted.erase("content");
          redacted["redacted"] = true;
          served.push_back(redacted);
        } else {
          served.push_back(r);
        }
      }
      return {{"ok", true}, {"records", served}};
    }
    return {{"ok", false}, {"error", {{"code", "InvalidArgument"}, {"message", "unknown op"}}}};
  }

  // Reads exactly `len` bytes; false on EOF, error or stop.
  bool ReadExactly(int fd, char* out, size_t len) {
    size_t off = 0;
    while (off < len) {
      if (stop_) return false;
      pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = read(fd, out + off, len - off);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  void ServeConnection(int fd) {
    for (;;) {
      char header[4];
      if (!ReadExactly(fd, header, 4)) return;
      const uint32_t len = (uint32_t{static_cast<uint8_t>(header[0])} << 24) |
                           (uint32_t{static_cast<uint8_t>(header[1])} << 16) |
                           (uint32_t{static_cast<uint8_t>(header[2])} << 8) |
                           uint32_t{static_cast<uint8_t>(header[3])};
      if (len == 0 || len > (1u << 20)) return;
      std::string body(len, '\0');
      if (!ReadExactly(fd, body.data(), len)) return;
      auto req = ParseJsonStrict(body);
      if (!req.ok()) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(*req);
      }
      Json correct = Answer(*req);
      std::optional<FakeReply> reply = script_ ? script_(*req, correct) : std::nullopt;
      const bool release = !reply && req->value("op", "") == "release" && held_ > 0;
      if (!reply) reply = FakeReply::Json(*CanonicalJson(correct));
      if (release && ptrace(PTRACE_DETACH, held_, nullptr, 0) == 0) held_ = -1;
      if (reply->kind == FakeReply::Kind::kClose) return;
      if (reply->kind == FakeReply::Kind::kSilent) {
        char ignored[256];
        while (!stop_) {  // until the client gives up and hangs up
          pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
          if (poll(&p, 1, 50) > 0 && read(fd, ignored, sizeof(ignored)) <= 0) return;
        }
        return;
      }
      size_t off = 0;
      while (off < reply->bytes.size()) {
        ssize_t n = send(fd, reply->bytes.data() + off, reply->bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += static_cast<size_t>(n);
      }
      if (reply->close_after) return;
    }
  }

  void Serve() {
    while (!stop_) {
      pollfd p{.fd = listen_.get(), .events = POLLIN, .revents = 0};
      if (poll(&p, 1, 50) <= 0) continue;
      UniqueFd conn(accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (conn) ServeConnection(conn.get());
      DropHeld();  // a connection that ends before `release`
    }
  }

  std::string path_;
  FakeScript script_;
  UniqueFd listen_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Json> requests_;
  Json records_ = Json::array();  // touched by the serving thread only, after Start()
  Sha256Digest value_{};
  pid_t held_ = -1;  // the launcher's child under ptrace, serving thread only
  std::optional<std::string> load_nonce_hex_;
};

class FakeAttestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    profile_ = dir_.File("profile.json");
    socket_ = dir_.File("attestor.sock");
    manifest_ = dir_.File("manifest.json");
    evidence_ = dir_.File("evidence.json");
    ASSERT_TRUE(WriteWholeFile(
        profile_,
        std::string(R"({"version": 1, "name": "attested", "fds": [)") + kOutEntry + "]}"));
    ASSERT_TRUE(HexDecode(kNonceHex).ok());
    nonce_ = *HexDecode(kNonceHex);
  }

  void StartFake(FakeScript script = {}, std::optional<std::string> load_nonce_hex = {}) {
    fake_ = std::make_unique<FakeAttestor>(socket_, std::move(script));
    if (load_nonce_hex) fake_->BindLoadObservationsTo(*load_nonce_hex);
    ASSERT_TRUE(fake_->Start());
  }

  RunResult LaunchWithEvidence() { return LaunchWithEvidenceAt(socket_); }
  RunResult LaunchWithEvidenceAt(const std::string& socket) {
    return RunProgram(
        {FdlaunchPath(), "--profile", profile_, "--manifest-out", manifest_, "--attestor", socket,
         "--evidence-out", evidence_, "--nonce", kNonceHex, "--", RanHelperPath()},
        {}, kLaunchTimeout);
  }

  void ExpectFailedClosed(const RunResult& r) {
    EXPECT_EQ(r.exit_code(), kExitLaunchFailed) << r.err;
    EXPECT_EQ(r.out.find("RAN"), std::string::npos) << "the workload ran";
    EXPECT_TRUE(HasErrorLineOnly(r, "attestor: ")) << r.err;
    EXPECT_FALSE(StatPath(evidence_).has_value()) << "evidence written for a failed launch";
  }

  TempDir dir_;
  std::string profile_, socket_, manifest_, evidence_, nonce_;
  std::unique_ptr<FakeAttestor> fake_;
};

TEST_F(FakeAttestorTest, EvidenceBundleAgreesWithManifestNonceAndLog) {
  StartFake();
  RunResult r = LaunchWithEvidence();
  ASSERT_EQ(r.exit_code(), 42) << r.err;
  EXPECT_EQ(r.out, "RAN\n");
  EXPECT_EQ(r.err.find("unattested"), std::string::npos) << r.err;
  EXPECT_EQ(fake_->ops(), (std::vector<std::string>{"hold", "launch", "measure", "certify", "log",
                                                    "info", "release"}));

  std::optional<std::string> manifest_bytes = ReadWholeFile(manifest_);
  std::optional<std::string> evidence_bytes = ReadWholeFile(evidence_);
  ASSERT_TRUE(manifest_bytes && evidence_bytes);
  auto ev = ParseJsonStrict(*evidence_bytes);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(*CanonicalJson(*ev), *evidence_bytes) << "the bundle is canonical JSON";
  EXPECT_EQ((*ev)["version"], 1);
  EXPECT_EQ(*Base64Decode((*ev)["manifest"].get<std::string>()), *manifest_bytes);
  const Json manifest = *ParseJsonStrict(*manifest_bytes);
  EXPECT_EQ(manifest["attested"], true);
  EXPECT_EQ((*ev)["launch_id"], manifest["launch_id"]);
  EXPECT_EQ((*ev)["manifest_sha256"], Sha256Hex(*manifest_bytes));
  EXPECT_EQ((*ev)["nonce"], kNonceHex);
  const std::string qualifying = ExpectedQualifyingData(nonce_, *manifest_bytes);
  EXPECT_EQ((*ev)["qualifying_data"], HexEncode(qualifying));
  EXPECT_EQ(*Base64Decode((*ev)["attest"].get<std::string>()), "FAKE-ATTEST:" + qualifying);
  EXPECT_EQ((*ev)["register"], Json({{"kind", "nv"}, {"nv_index", FakeAttestor::kNvIndex}}));
  EXPECT_EQ((*ev)["reset_count"], 3);
  EXPECT_EQ(ReplayHex((*ev)["event_log"]), (*ev)["register_value"]);
  ASSERT_EQ((*ev)["event_log"].size(), 4u);
  EXPECT_EQ((*ev)["event_log"][1]["digests"][0]["digest"], Sha256Hex(*manifest_bytes));
  EXPECT_EQ((*ev)["event_log"][2]["content"]["data"]["nonce"], kNonceHex)
      << "the load observation is bound to the launch's nonce";

  std::vector<Json> reqs = fake_->requests();
  ASSERT_EQ(reqs.size(), 7u);
  EXPECT_EQ(reqs[0]["launch_id"], manifest["launch_id"]);
  EXPECT_GT(reqs[0].value("pid", int64_t{0}), 0);
  EXPECT_EQ(reqs[1]["launch_id"], manifest["launch_id"]);
  EXPECT_EQ(*Base64Decode(reqs[1]["manifest"].get<std::string>()), *manifest_bytes)
      << "the attestor is sent the manifest's exact bytes";
  EXPECT_EQ(*Base64Decode(reqs[1]["nonce"].get<std::string>()), nonce_);
  EXPECT_EQ(reqs[2], Json({{"op", "measure"},
                           {"type", "launch_separator"},
                           {"launch_id", manifest["launch_id"]}}));
  EXPECT_EQ(reqs[3]["qualifying_data"], HexEncode(qualifying));
  EXPECT_EQ(reqs[6], Json({{"op", "release"}, {"launch_id", manifest["launch_id"]}}));
}

TEST_F(FakeAttestorTest, AttestorWithoutEvidenceMeasuresAndRunsWithoutManifestFile) {
  StartFake();
  RunResult r = RunProgram(
      {FdlaunchPath(), "--profile", profile_, "--attestor", socket_, "--", RanHelperPath()}, {},
      kLaunchTimeout);
  ASSERT_EQ(r.exit_code(), 42) << r.err;
  EXPECT_EQ(r.out, "RAN\n");
  EXPECT_TRUE(r.err.empty()) << r.err;  // no unattested warning
  EXPECT_EQ(fake_->ops(), (std::vector<std::string>{"hold", "launch", "measure", "release"}));
  EXPECT_EQ(fake_->requests()[1]["nonce"], "") << "no evidence, no nonce";
}

TEST_F(FakeAttestorTest, RandomNonceByDefault) {
  StartFake();
  RunResult r = RunProgram({FdlaunchPath(), "--profile", profile_, "--attestor", socket_,
                            "--evidence-out", evidence_, "--", RanHelperPath()},
                           {}, kLaunchTimeout);
  ASSERT_EQ(r.exit_code(), 42) << r.err;
  Json ev = LoadJsonFile(evidence_);
  ASSERT_TRUE(ev.is_object());
  EXPECT_EQ(ev["nonce"].get<std::string>().size(), 64u);
  const std::string manifest = *Base64Decode(ev["manifest"].get<std::string>());
  EXPECT_EQ(ev["qualifying_data"], HexEncode(ExpectedQualifyingData(
                                       *HexDecode(ev["nonce"].get<std::string>()), manifest)));
}

struct BrokenCase {
  std::string name;
  std::string expect;  // in the error line, after "fdlaunch: error: attestor: "
  // The request whose answer `reply` replaces: "separator" (the measure
  // request), or an op: "hold", "launch", "certify", "info", "release"; when
  // empty, `mutate` changes every correct answer instead.
  std::string op;
  FakeReply reply;
  std::function<void(Json&)> mutate;
};

BrokenCase Replace(std::string name, std::string expect, std::string op, FakeReply reply) {
  return {std::move(name), std::move(expect), std::move(op), std::move(reply), nullptr};
}
BrokenCase Mutate(std::string name, std::string expect, std::function<void(Json&)> mutate) {
  return {std::move(name), std::move(expect), "", {}, std::move(mutate)};
}

std::vector<BrokenCase> BrokenCases() {
  const std::string huge_header = {'\x00', '\x20', '\x00', '\x00'};  // 2 MiB announced
  using R = FakeReply;
  return {
      Replace(
          "ErrorAnswer", "launch refused: FailedPrecondition: observation refused: fds", "launch",
          R::Json(
              R"({"error":{"code":"FailedPrecondition","message":"observation refused: fds"},"ok":false})")),
      Replace(
          "HoldRefused", "hold refused: PermissionDenied: not your child", "hold",
          R::Json(
              R"({"error":{"code":"PermissionDenied","message":"not your child"},"ok":false})")),
      Replace(
          "ReleaseRefused", "release refused: FailedPrecondition: no separator", "release",
          R::Json(
              R"({"error":{"code":"FailedPrecondition","message":"no separator"},"ok":false})")),
      Replace("NotJson", "malformed response to launch: malformed JSON", "launch",
              R::Json("this is not json")),
      Replace("NotAnObject", "no \"ok\"", "launch", R::Json("[1,2,3]")),
      Replace("NoOk", "no \"ok\"", "launch",
              R::Json(R"({"manifest_recnum":1,"observation_recnum":2})")),
      Replace("OkNotBool", "no \"ok\"", "launch",
              R::Json(R"({"manifest_recnum":1,"observation_recnum":2,"ok":"true"})")),
      Replace("MissingRecnum", "missing required key \"manifest_recnum\"", "launch",
              R::Json(R"({"observation_recnum":2,"ok":true})")),
      Replace("UnknownKey", "unknown key \"extra\"", "launch",
              R::Json(R"({"extra":0,"manifest_recnum":1,"observation_recnum":2,"ok":true})")),
      Replace("NegativeRecnum", "\"manifest_recnum\" must be between", "launch",
              R::Json(R"({"manifest_recnum":-1,"observation_recnum":2,"ok":true})")),
      Replace("ObservationNotAfterManifest",
              "observation_recnum must be the record right after manifest_recnum", "launch",
              R::Json(R"({"manifest_recnum":1,"observation_recnum":5,"ok":true})")),
      Replace(
          "DuplicateKey", "duplicate JSON key", "launch",
          R::Json(R"({"manifest_recnum":1,"manifest_recnum":2,"observation_recnum":2,"ok":true})")),
      Replace("ErrorWithUnknownCode", "unknown error code", "launch",
              R::Json(R"({"error":{"code":"Teapot","message":"x"},"ok":false})")),
      Replace("ErrorWithoutMessage", "missing required key \"message\"", "launch",
              R::Json(R"({"error":{"code":"Internal"},"ok":false})")),
      Replace("ZeroLengthFrame", "frame length 0", "launch", R::Bytes(std::string(4, '\0'))),
      Replace("OversizedFrame", "frame length 2097152", "launch", R::Bytes(huge_header + "{}")),
      Replace(
          "TruncatedFrame", "in the middle of an answer", "launch",
          R::BytesThenClose(
              Frame(R"({"manifest_recnum":1,"observation_recnum":2,"ok":true})").substr(0, 10))),
      Replace("HalfHeader", "in the middle of an answer", "launch",
              R::BytesThenClose(std::string("\0\0", 2))),
      Replace("HangsUp", "closed the connection without an answer (launch)", "launch", R::Close()),
      Replace("HangsUpOnHold", "closed the connection without an answer (hold)", "hold",
              R::Close()),
      Replace(
          "SeparatorRefused", "measure refused: FailedPrecondition: epoch changed", "separator",
          R::Json(
              R"({"error":{"code":"FailedPrecondition","message":"epoch changed"},"ok":false})")),
      Replace("CertifyHangsUp", "closed the connection without an answer (certify)", "certify",
              R::Close()),
      Replace("InfoRefused", "info refused: PermissionDenied", "info",
              R::Json(R"({"error":{"code":"PermissionDenied","message":"uid 0"},"ok":false})")),
      Mutate("RegisterValueNotHex", "register_value must be 64 lowercase hex digits",
             [](Json& c) {
               if (c.contains("register_value")) c["register_value"] = std::string(64, 'g');
             }),
      Mutate("RegisterValueUppercase", "register_value must be 64 lowercase hex digits",
             [](Json& c) {
               if (!c.contains("register_value")) return;
               std::string v = c["register_value"];
               for (char& ch : v) ch = static_cast<char>(toupper(ch));
               c["register_value"] = v;
             }),
      Mutate("AttestNotBase64", "attest is not base64",
             [](Json& c) {
               if (c.contains("attest")) c["attest"] = "not base64!";
             }),
      Mutate("RegisterValueNotCoveredByLog", "does not replay to the certified value",
             [](Json& c) {
               if (c.contains("register_value")) c["register_value"] = std::string(64, 'a');
             }),
      Mutate("LogWithoutSeparator", "does not replay to the certified value",
             [](Json& c) {
               if (c.contains("records")) c["records"].erase(c["records"].size() - 1);
             }),
      Mutate("LogRecordWithSha1", "unsupported bank \"sha1\"",
             [](Json& c) {
               if (c.contains("records")) c["records"][0]["digests"][0]["hashAlg"] = "sha1";
             }),
      Mutate("LogRecordRedactedAndFull", "a redacted record has no content",
             [](Json& c) {
               if (c.contains("records")) c["records"][0]["redacted"] = true;
             }),
      Mutate("LogRecordDigestNotItsContent", "does not match its launch_separator content",
             [](Json& c) {
               if (c.contains("records")) {
                 c["records"][3]["digests"][0]["digest"] = std::string(64, 'c');
               }
             }),
      Mutate("LogRecnumGap", "breaks a log rule: record has recnum 7 where 1 comes next",
             [](Json& c) {
               if (c.contains("records")) c["records"][1]["recnum"] = 7;
             }),
      Mutate("LogRecordOtherRegister", "names another register",
             [](Json& c) {
               if (c.contains("records")) c["records"][0]["nv_index"] = 0x01800000;
             }),
      Mutate("InfoRegisterUnknownKind", "kind must be",
             [](Json& c) {
               if (c.contains("register")) c["register"] = {{"kind", "rom"}};
             }),
      Mutate("InfoMissingEkCertificate", "missing required key \"ek_certificate\"",
             [](Json& c) {
               if (c.contains("ak_public")) c.erase("ek_certificate");
             }),
      Mutate("InfoEmptyEkCertificate", "no EK certificate",
             [](Json& c) {
               if (c.contains("ak_public")) c["ek_certificate"] = "";
             }),
  };
}

class BrokenAttestorTest : public FakeAttestorTest,
                           public ::testing::WithParamInterface<BrokenCase> {};

TEST_P(BrokenAttestorTest, FailsClosed) {
  const BrokenCase& c = GetParam();
  StartFake([c](const Json& req, Json& correct) -> std::optional<FakeReply> {
    if (c.mutate) {
      c.mutate(correct);
      return std::nullopt;
    }
    const std::string op = req.value("op", "");
    const bool hit = c.op == "separator" ? req.value("type", "") == "launch_separator" : op == c.op;
    if (hit) return c.reply;
    return std::nullopt;
  });
  RunResult r = LaunchWithEvidence();
  ExpectFailedClosed(r);
  EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Answers, BrokenAttestorTest, ::testing::ValuesIn(BrokenCases()),
                         [](const auto& info) { return info.param.name; });

TEST_F(FakeAttestorTest, SilentAttestorTimesOut) {
  StartFake([](const Json& req, Json&) -> std::optional<FakeReply> {
    if (req.value("op", "") == "certify") return FakeReply::Silent();
    return std::nullopt;
  });
  const auto start = std::chrono::steady_clock::now();
  RunResult r = LaunchWithEvidence();
  ExpectFailedClosed(r);
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.err.find("in time"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(25));
}

TEST_F(FakeAttestorTest, LoadObservationBoundToAnotherNonceFailsClosed) {
  StartFake({}, "00");
  RunResult r = LaunchWithEvidence();
  ExpectFailedClosed(r);
  EXPECT_NE(r.err.find("the load observation is not bound to this nonce"), std::string::npos)
      << r.err;
}

TEST_F(FakeAttestorTest, MissingSocketFailsClosed) {
  RunResult r = LaunchWithEvidence();  // nothing listens: no socket file at all
  ExpectFailedClosed(r);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST_F(FakeAttestorTest, SocketWithoutListenerFailsClosed) {
  {
    UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket_.data(), socket_.size());
    ASSERT_EQ(bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }  // closed: a stale socket file, as a crashed daemon leaves it
  RunResult r = RunProgram(
      {FdlaunchPath(), "--profile", profile_, "--attestor", socket_, "--", RanHelperPath()}, {},
      kLaunchTimeout);
  ExpectFailedClosed(r);
}

TEST_F(FakeAttestorTest, OptionsAreCheckedBeforeAnything) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"--evidence-out", evidence_}, "--evidence-out needs --attestor"},
      {{"--attestor", socket_, "--nonce", kNonceHex}, "--nonce needs --evidence-out"},
      {{"--attestor", socket_, "--evidence-out", evidence_, "--nonce", "abc"}, "--nonce must be"},
      {{"--attestor", socket_, "--evidence-out", evidence_, "--nonce", "zz"}, "--nonce must be"},
      {{"--attestor", socket_, "--evidence-out", evidence_, "--nonce", std::string(130, 'a')},
       "--nonce must be"},
  };
  StartFake();
  for (const Case& c : cases) {
    RunResult r = RunFdlaunch(LaunchArgs(profile_, c.args));
    EXPECT_EQ(r.exit_code(), kExitLaunchFailed) << r.err;
    EXPECT_EQ(r.out.find("RAN"), std::string::npos);
    EXPECT_TRUE(HasErrorLineOnly(r, c.expect)) << r.err;
  }
  EXPECT_TRUE(fake_->requests().empty()) << "the attestor was asked despite bad options";
  // 64 bytes is the most the TPM accepts as qualifying data: allowed.
  RunResult ok =
      RunProgram({FdlaunchPath(), "--profile", profile_, "--attestor", socket_, "--evidence-out",
                  evidence_, "--nonce", std::string(128, 'a'), "--", RanHelperPath()},
                 {}, kLaunchTimeout);
  EXPECT_EQ(ok.exit_code(), 42) << ok.err;
}

TEST_F(FakeAttestorTest, UnattestedLaunchStillWarns) {
  RunResult r = RunFdlaunch(LaunchArgs(profile_, {}));
  EXPECT_EQ(r.exit_code(), 42) << r.err;
  EXPECT_NE(r.err.find("unattested"), std::string::npos) << r.err;
}

#ifdef FDATTEST_FDATTESTD
// ---------------------------------------------------------------------------
// The real attestor on swtpm.

using ::fdattest::testing::ParseAttest;
using ::fdattest::testing::PublicToPem;
using ::fdattest::testing::RunTpmTool;
using ::fdattest::testing::Swtpm;
using ::fdattest::testing::VerifyEcdsaAttest;

std::string Bytes(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// fdattestd on a private swtpm, its stderr in a file for failure messages.
class RealAttestor {
 public:
  // `extra`: more fdattestd options; this test's uid is allowed unless `allow_self` is false.
  absl::Status Start(const TempDir& dir, const std::vector<std::string>& extra,
                     bool allow_self = true) {
    ASSIGN_OR_RETURN(tpm_, Swtpm::Start());
    socket_ = dir.File("fdattestd.sock");
    state_ = dir.File("state");
    log_ = dir.File("fdattestd.log");
    if (mkdir(state_.c_str(), 0700) != 0) return ErrnoStatus("mkdir", errno);
    UniqueFd log(open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!log) return ErrnoStatus("open log", errno);
    std::vector<std::string> argv = {
        FDATTEST_FDATTESTD, "--socket", socket_, "--state-dir", state_, "--tcti", tpm_->tcti()};
    if (allow_self) argv.insert(argv.end(), {"--allow-uid", std::to_string(getuid())});
    argv.insert(argv.end(), extra.begin(), extra.end());
    daemon_.emplace(Child::Spawn(argv, {{1, log.get()}, {2, log.get()}}));
    // Ready when it accepts a connection (bounded).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(daemon_->pid(), nullptr, WNOHANG) == daemon_->pid()) {
        return absl::InternalError("fdattestd exited: " + Log());
      }
      UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::memcpy(addr.sun_path, socket_.data(),
                  std::min(socket_.size(), sizeof(addr.sun_path) - 1));
      if (connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
        return absl::OkStatus();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return absl::DeadlineExceededError("fdattestd not ready: " + Log());
  }

  // SIGTERM, then SIGKILL; afterwards no ESAPI client holds the swtpm.
  void Stop() {
    if (!daemon_) return;
    kill(daemon_->pid(), SIGTERM);
    if (!daemon_->WaitFor(std::chrono::seconds(10))) daemon_->Kill();
    daemon_.reset();
  }
  ~RealAttestor() { Stop(); }

  std::string Log() const { return ReadWholeFile(log_).value_or(""); }
  const std::string& socket() const { return socket_; }
  const std::string& dir() const { return state_; }
  Swtpm& tpm() { return *tpm_; }

 private:
  std::unique_ptr<Swtpm> tpm_;
  std::optional<Child> daemon_;
  std::string socket_, state_, log_;
};

class RealAttestorTest : public FakeAttestorTest {
 protected:
  // Independently of fdattest: tpm2-tools reads the NV register (the daemon
  // must be stopped: swtpm serves one client at a time).
  void ExpectNvreadEquals(RealAttestor& attestor, uint32_t nv_index, const Json& want_hex) {
    const std::string out = dir_.File("nvread.bin");
    char index[16];
    snprintf(index, sizeof(index), "0x%08x", nv_index);
    auto tool =
        RunTpmTool({"tpm2_nvread", index, "-C", "o", "-s", "32", "-o", out}, attestor.tpm().tcti());
    ASSERT_TRUE(tool.ok()) << tool.status();
    ASSERT_EQ(tool->exit_code, 0) << tool->err;
    EXPECT_EQ(HexEncode(*ReadWholeFile(out)), want_hex);
  }

  // One attested launch with evidence; the parsed bundle.
  Json LaunchAndLoadEvidence(const std::string& socket) {
    RunResult r = LaunchWithEvidenceAt(socket);
    EXPECT_EQ(r.exit_code(), 42) << r.err;
    EXPECT_EQ(r.out, "RAN\n");
    EXPECT_TRUE(r.err.empty()) << r.err;
    return LoadJsonFile(evidence_);
  }

  // Checks shared by both register kinds; returns the parsed TPMS_ATTEST.
  std::optional<TPMS_ATTEST> CheckBundle(const Json& ev) {
    std::optional<std::string> manifest_bytes = ReadWholeFile(manifest_);
    EXPECT_TRUE(manifest_bytes.has_value());
    if (!manifest_bytes || !ev.is_object()) return std::nullopt;
    EXPECT_EQ(*CanonicalJson(ev), *ReadWholeFile(evidence_));
    EXPECT_EQ(*Base64Decode(ev["manifest"].get<std::string>()), *manifest_bytes);
    const Json manifest = *ParseJsonStrict(*manifest_bytes);
    EXPECT_EQ(manifest["attested"], true);
    EXPECT_EQ(ev["launch_id"], manifest["launch_id"]);
    const std::string manifest_hex = Sha256Hex(*manifest_bytes);
    EXPECT_EQ(ev["manifest_sha256"], manifest_hex);
    int own_manifest_records = 0;
    for (const Json& rec : ev["event_log"]) {
      if (rec.contains("content") && rec["content"]["type"] == "launch_manifest" &&
          rec["content"]["data"]["launch_id"] == manifest["launch_id"]) {
        ++own_manifest_records;
        EXPECT_EQ(rec["digests"][0]["digest"], manifest_hex);
        EXPECT_EQ(rec["content"]["data"]["manifest_sha256"], manifest_hex);
      }
    }
    EXPECT_EQ(own_manifest_records, 1);
    EXPECT_EQ(ReplayHex(ev["event_log"]), ev["register_value"]);

    const std::string qualifying = ExpectedQualifyingData(nonce_, *manifest_bytes);
    EXPECT_EQ(ev["qualifying_data"], HexEncode(qualifying));
    const std::string attest = *Base64Decode(ev["attest"].get<std::string>());
    const std::string signature = *Base64Decode(ev["signature"].get<std::string>());
    const std::string ak_public = *Base64Decode(ev["ak_public"].get<std::string>());
    auto parsed = ParseAttest(attest);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    if (!parsed.ok()) return std::nullopt;
    EXPECT_EQ(parsed->magic, TPM2_GENERATED_VALUE);  // 0xff544347
    EXPECT_EQ(Bytes(parsed->extraData.buffer, parsed->extraData.size), qualifying);
    EXPECT_EQ(HexEncode(Bytes(parsed->qualifiedSigner.name, parsed->qualifiedSigner.size)),
              ev["ak_qualified_name"]);
    EXPECT_EQ(parsed->clockInfo.resetCount, ev["reset_count"]);
    EXPECT_EQ(parsed->clockInfo.restartCount, ev["restart_count"]);
    absl::Status verified = VerifyEcdsaAttest(ak_public, attest, signature);
    EXPECT_TRUE(verified.ok()) << verified;
    std::string tampered = attest;
    tampered.back() ^= 1;
    EXPECT_FALSE(VerifyEcdsaAttest(ak_public, tampered, signature).ok());
    EXPECT_FALSE(ev["ek_certificate"].get<std::string>().empty());
    return *parsed;
  }
};

TEST_F(RealAttestorTest, NvRegisterEvidenceReplaysToWhatTpm2NvreadReads) {
  RealAttestor attestor;
  absl::Status started = attestor.Start(dir_, {});
  ASSERT_TRUE(started.ok()) << started;

  // An earlier launch (no evidence): its records appear redacted in ours.
  RunResult first = RunProgram({FdlaunchPath(), "--profile", profile_, "--attestor",
                                attestor.socket(), "--", RanHelperPath()},
                               {}, kLaunchTimeout);
  ASSERT_EQ(first.exit_code(), 42) << first.err << attestor.Log();

  Json ev = LaunchAndLoadEvidence(attestor.socket());
  ASSERT_TRUE(ev.is_object()) << attestor.Log();
  std::optional<TPMS_ATTEST> parsed = CheckBundle(ev);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->type, TPM2_ST_ATTEST_NV);
  EXPECT_EQ(
      HexEncode(Bytes(parsed->attested.nv.nvContents.buffer, parsed->attested.nv.nvContents.size)),
      ev["register_value"]);
  ASSERT_EQ(ev["register"]["kind"], "nv");
  int redacted = 0;
  for (const Json& rec : ev["event_log"]) redacted += rec.contains("redacted") ? 1 : 0;
  EXPECT_EQ(redacted, 3)
      << "the first launch's manifest, observation and separator, as digests only";

  // Independently of fdattest: tpm2-tools, once no ESAPI client holds the swtpm.
  attestor.Stop();
  ExpectNvreadEquals(attestor, ev["register"]["nv_index"].get<uint32_t>(), ev["register_value"]);

  // The daemon is gone now: an attested launch must not run.
  RunResult after = RunProgram({FdlaunchPath(), "--profile", profile_, "--attestor",
                                attestor.socket(), "--", RanHelperPath()},
                               {}, kLaunchTimeout);
  EXPECT_EQ(after.exit_code(), kExitLaunchFailed) << after.err;
  EXPECT_EQ(after.out.find("RAN"), std::string::npos);
  EXPECT_TRUE(HasErrorLineOnly(after, "attestor: ")) << after.err;
}

TEST_F(RealAttestorTest, PcrRegisterQuotePassesTpm2Checkquote) {
  constexpr int kPcr = 15;
  RealAttestor attestor;
  absl::Status started = attestor.Start(dir_, {"--register", absl::StrCat("pcr:", kPcr)});
  ASSERT_TRUE(started.ok()) << started;

  Json ev = LaunchAndLoadEvidence(attestor.socket());
  ASSERT_TRUE(ev.is_object()) << attestor.Log();
  std::optional<TPMS_ATTEST> parsed = CheckBundle(ev);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->type, TPM2_ST_ATTEST_QUOTE);
  EXPECT_EQ(ev["register"], Json({{"bank", "sha256"}, {"kind", "pcr"}, {"pcr", kPcr}}));
  const std::string value = *HexDecode(ev["register_value"].get<std::string>());
  EXPECT_EQ(Bytes(parsed->attested.quote.pcrDigest.buffer, parsed->attested.quote.pcrDigest.size),
            Str(Sha256(value)));

  attestor.Stop();
  const std::string ak_pem = dir_.File("ak.pem"), msg = dir_.File("quote.msg"),
                    sig = dir_.File("quote.sig"), pcrs = dir_.File("pcr.bin");
  auto pem = PublicToPem(*Base64Decode(ev["ak_public"].get<std::string>()));
  ASSERT_TRUE(pem.ok()) << pem.status();
  ASSERT_TRUE(WriteFileAtomic(ak_pem, *pem).ok());
  ASSERT_TRUE(WriteFileAtomic(msg, *Base64Decode(ev["attest"].get<std::string>())).ok());
  ASSERT_TRUE(WriteFileAtomic(sig, *Base64Decode(ev["signature"].get<std::string>())).ok());
  const std::string selection = absl::StrCat("sha256:", kPcr);
  auto pcrread = RunTpmTool({"tpm2_pcrread", selection, "-o", pcrs}, attestor.tpm().tcti());
  ASSERT_TRUE(pcrread.ok()) << pcrread.status();
  ASSERT_EQ(pcrread->exit_code, 0) << pcrread->err;
  EXPECT_EQ(*ReadWholeFile(pcrs), value) << "tpm2_pcrread disagrees with the replayed log";

  auto check =
      RunTpmTool({"tpm2_checkquote", "-u", ak_pem, "-m", msg, "-s", sig, "-g", "sha256", "-q",
                  ev["qualifying_data"].get<std::string>(), "-f", pcrs, "-l", selection},
                 attestor.tpm().tcti());
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->exit_code, 0) << check->err;
  auto wrong = RunTpmTool({"tpm2_checkquote", "-u", ak_pem, "-m", msg, "-s", sig, "-g", "sha256",
                           "-q", HexEncode(Str(Sha256("another nonce")))},
                          attestor.tpm().tcti());
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_NE(wrong->exit_code, 0);
}
TEST_F(RealAttestorTest, UnauthorisedLauncherFailsClosed) {
  RealAttestor attestor;
  const std::string other_uid = std::to_string(getuid() + 4242);
  absl::Status started = attestor.Start(dir_, {"--allow-uid", other_uid}, /*allow_self=*/false);
  ASSERT_TRUE(started.ok()) << started;
  RunResult r = LaunchWithEvidenceAt(attestor.socket());
  ExpectFailedClosed(r);
  EXPECT_NE(r.err.find("PermissionDenied"), std::string::npos) << r.err;
}
#endif  // FDATTEST_FDATTESTD

}  // namespace
}  // namespace fdattest::integration

namespace fdattest::integration {
namespace {

// Eight fdlaunch processes measuring through one daemon at the same time:
// no record lost, and the certified log replays to the register value that
// tpm2-tools reads afterwards.
TEST_F(RealAttestorTest, EightConcurrentLaunchersLoseNoRecord) {
  RealAttestor attestor;
  absl::Status started = attestor.Start(dir_, {});
  ASSERT_TRUE(started.ok()) << started;
  constexpr int kLaunchers = 8;
  UniqueFd null_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(null_fd.valid());
  std::vector<std::string> manifests;
  std::vector<Child> launchers;
  for (int i = 0; i < kLaunchers; ++i) {
    manifests.push_back(dir_.File("concurrent-" + std::to_string(i) + ".json"));
    launchers.push_back(
        Child::Spawn({FdlaunchPath(), "--profile", profile_, "--manifest-out", manifests.back(),
                      "--attestor", attestor.socket(), "--", RanHelperPath()},
                     {{1, null_fd.get()}, {2, null_fd.get()}}));
  }
  for (Child& c : launchers) {
    std::optional<int> status = c.WaitFor(kLaunchTimeout);
    ASSERT_TRUE(status.has_value()) << "a launcher hung\n" << attestor.Log();
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 42) << "status " << *status;
  }
  // A ninth, certified launch sees all of them (as digests) in the log.
  Json ev = LaunchAndLoadEvidence(attestor.socket());
  ASSERT_TRUE(ev.is_object()) << attestor.Log();
  ASSERT_TRUE(CheckBundle(ev).has_value());
  std::set<std::string> digests;
  int separators = 0;
  for (const Json& rec : ev["event_log"]) {
    digests.insert(rec["digests"][0]["digest"].get<std::string>());
    if (rec.contains("content") && rec["content"]["type"] == "launch_separator") ++separators;
  }
  for (const std::string& m : manifests) {
    std::optional<std::string> bytes = ReadWholeFile(m);
    ASSERT_TRUE(bytes.has_value()) << m;
    EXPECT_TRUE(digests.contains(Sha256Hex(*bytes))) << "manifest record missing for " << m;
  }
  // 9 launches x (manifest + separator) + the epoch record.
  EXPECT_EQ(ev["event_log"].size(), 3u * (kLaunchers + 1) + 1);
  EXPECT_EQ(separators, 1) << "only our own separator is served in full";

  attestor.Stop();
  ExpectNvreadEquals(attestor, ev["register"]["nv_index"].get<uint32_t>(), ev["register_value"]);
}

}  // namespace
}  // namespace fdattest::integration
