// The observed launch (issue 17) end to end: the real fdlaunch (and its
// fault-injection build fdlaunch-faults) against the real fdattestd on a
// private swtpm, judged from outside through the attestor's API, the event
// log it serves, the register it certifies and the offline verifier.
//
//  - A peer that is not the genuine launcher gets nothing affirmed: a script
//    speaking the protocol is refused (plain measure; an unconfined child),
//    and a modified copy of fdlaunch is recorded under its own digest, which
//    R13 names.
//  - Every lie of the fault build is caught by the observation: exit 125
//    naming the field, no record for the launch, the register unchanged, the
//    workload never ran.
//  - A workload's first instruction runs only after its observation is in the
//    log and the register.
//  - Re-attestation: alive and unchanged verifies on its nonce; a nonce is
//    never usable twice; after the workload exits the answer is "gone".
//  - The launcher passes the workload's status on: its exit code, 128+signal.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/json.h"
#include "tests/integration/launch_util.h"
#include "tests/support/fdattestd_harness.h"

namespace fdattest::integration {
namespace {

namespace t = ::fdattest::testing;

constexpr std::chrono::milliseconds kLaunchTimeout{60000};

const char* FaultsPath() { return FDATTEST_FDLAUNCH_FAULTS; }
const char* MarkerPath() { return FDATTEST_MARKER_WORKLOAD; }

// The frame protocol from scratch (4-byte big-endian length, then JSON), as
// any process allowed on the socket could speak it.
constexpr char kScript[] = R"PY(
import base64, hashlib, json, os, socket, struct, sys, time

def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("closed")
        b += c
    return b

def call(s, req):
    body = json.dumps(req, separators=(",", ":"), sort_keys=True).encode()
    s.sendall(struct.pack(">I", len(body)) + body)
    n = struct.unpack(">I", recvn(s, 4))[0]
    return json.loads(recvn(s, n))

sock_path, manifest_path, launch_id, mode = sys.argv[1:5]
manifest = json.load(open(manifest_path))
manifest["launch_id"] = launch_id
data = json.dumps(manifest, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
if mode == "measure":
    print(json.dumps(call(s, {"op": "measure", "type": "launch_manifest", "launch_id": launch_id,
                              "manifest_sha256": hashlib.sha256(data).hexdigest()})))
else:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os.execv("/bin/busybox", ["busybox", "sleep", "5"])
    os.close(r)
    print(json.dumps(call(s, {"op": "hold", "launch_id": launch_id, "pid": pid})))
    os.write(w, b"g")
    time.sleep(0.3)
    print(json.dumps(call(s, {"op": "launch", "launch_id": launch_id,
                              "manifest": base64.b64encode(data).decode(), "nonce": ""})))
    s.close()
    os.kill(pid, 9)
    os.waitpid(pid, 0)
)PY";

class ObservedLaunchTest : public t::FdattestdTest {
 protected:
  void SetUp() override {
    t::FdattestdTest::SetUp();
    if (HasFatalFailure()) return;
    absl::Status started = daemon_->Start({"--allow-uid", "0"});
    ASSERT_TRUE(started.ok()) << started << daemon_->stderr_text();
    ASSERT_TRUE(dir_.ok());
    input_ = dir_.File("input.txt");
    marker_ = dir_.File("marker");
    manifest_ = dir_.File("manifest.json");
    evidence_ = dir_.File("evidence.json");
    profile_ = dir_.File("profile.json");
    ASSERT_TRUE(WriteWholeFile(input_, "patient,value\n"));
    ASSERT_TRUE(WriteWholeFile(profile_, absl::StrCat(R"({"version": 1, "name": "observed", "fds": [
          {"fd": 1, "role": "phi-output", "access": "w", "inherit": true},
          {"fd": 3, "role": "phi-input", "access": "r", "open": ")",
                                                      input_, R"("},
          {"fd": 4, "role": "phi-output", "access": "w", "open": ")",
                                                      marker_, R"("}]})")));
  }

  // A fresh nonce per launch: the attestor never accepts one twice.
  std::vector<std::string> Args(const std::string& launcher, const std::string& program,
                                const std::string& profile) {
    nonce_ = t::RandomHex(32);
    return {launcher,     "--profile", profile,          "--manifest-out", manifest_,
            "--attestor", socket_,     "--evidence-out", evidence_,        "--nonce",
            nonce_,       "--",        program};
  }
  RunResult Run(const std::string& launcher, const std::string& program) {
    return RunProgram(Args(launcher, program, profile_), {}, kLaunchTimeout);
  }

  std::string LaunchIdOf(const std::string& manifest_path) {
    Json m = LoadJsonFile(manifest_path);
    return m.is_object() && m.contains("launch_id") ? m["launch_id"].get<std::string>() : "";
  }

  // The register now, as the attestor certifies it.
  std::string RegisterValue() {
    auto r = t::Call(socket_, t::CertifyRequest(t::RandomHex(32)));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || !r->contains("register_value")) return "";
    return (*r)["register_value"].get<std::string>();
  }

  // The served log for `launch_id`: its records in full (and the epoch's),
  // others redacted.
  Json Served(const std::string& launch_id) {
    auto r = t::Call(socket_, t::LogRequest(launch_id));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->contains("records") ? (*r)["records"] : Json::array();
  }
  // This launch's records, by type ("launch_observation/load" for observations).
  std::vector<std::string> RecordsOf(const Json& served, const std::string& launch_id) {
    std::vector<std::string> out;
    for (const Json& rec : served) {
      if (!rec.contains("content")) continue;
      const Json& c = rec["content"];
      if (!c["data"].contains("launch_id") || c["data"]["launch_id"] != launch_id) continue;
      std::string type = c["type"].get<std::string>();
      if (type == "launch_observation") type += "/" + c["data"]["kind"].get<std::string>();
      out.push_back(type);
    }
    return out;
  }

  // fdattest verify --json: the report.
  Json Verify(const std::string& evidence, const std::string& policy, const std::string& nonce) {
    RunResult r = RunProgram({FDATTEST_FDATTEST, "verify", evidence, "--policy", policy, "--ak",
                              state_dir_ + "/ak.pub", "--nonce", nonce, "--json"},
                             {}, kLaunchTimeout);
    auto report = ParseJsonStrict(r.out);
    EXPECT_TRUE(report.ok()) << r.out << r.err;
    return report.ok() ? *report : Json::object();
  }
  const Json* Rule(const Json& report, const std::string& id) {
    if (!report.contains("rules")) return nullptr;
    for (const Json& rule : report["rules"]) {
      if (rule["id"] == id) return &rule;
    }
    return nullptr;
  }
  // The example policy with this build's launcher digest (and `extra` keys).
  std::string Policy(const std::string& name, const Json& extra = Json::object()) {
    auto text =
        ReadWholeFile(std::string(FDATTEST_SOURCE_DIR) + "/examples/policies/hipaa-phi-etl.json");
    EXPECT_TRUE(text.has_value());
    auto p = ParseJsonStrict(text.value_or("{}"));
    EXPECT_TRUE(p.ok());
    Json policy = p.ok() ? *p : Json::object();
    policy["workload"]["launcher_sha256"] = Json::array({Sha256HexOfFile(FdlaunchPath())});
    for (auto it = extra.begin(); it != extra.end(); ++it) policy[it.key()] = it.value();
    const std::string path = dir_.File(name);
    EXPECT_TRUE(WriteWholeFile(path, policy.dump(2)));
    return path;
  }

  TempDir dir_;
  std::string input_, marker_, manifest_, evidence_, profile_;
  std::string nonce_;  // hex, of the last launch
};

// ---------------------------------------------------------------------------
// Acceptance 1: only the genuine launcher's launches are affirmed.

TEST_F(ObservedLaunchTest, ScriptSpeakingTheProtocolGetsNothingMeasured) {
  RunResult genuine = Run(FdlaunchPath(), RanHelperPath());
  ASSERT_EQ(genuine.exit_code(), 42) << genuine.err << daemon_->stderr_text();
  const std::string script = dir_.File("peer.py");
  ASSERT_TRUE(WriteWholeFile(script, kScript));
  const std::string before = RegisterValue();

  const std::string measured_id = t::RandomHex(16);
  RunResult measure = RunProgram(
      {"/usr/bin/python3", script, socket_, manifest_, measured_id, "measure"}, {}, kLaunchTimeout);
  ASSERT_EQ(measure.exit_code(), 0) << measure.err;
  auto answer = ParseJsonStrict(measure.out);
  ASSERT_TRUE(answer.ok()) << measure.out;
  EXPECT_EQ(t::CodeOf(*answer), "FailedPrecondition") << measure.out;
  EXPECT_NE(measure.out.find("only through 'launch'"), std::string::npos) << measure.out;

  const std::string launched_id = t::RandomHex(16);
  RunResult launch = RunProgram(
      {"/usr/bin/python3", script, socket_, manifest_, launched_id, "launch"}, {}, kLaunchTimeout);
  ASSERT_EQ(launch.exit_code(), 0) << launch.err;
  // The hold is granted (the child is the script's own), the launch refused:
  // the kernel shows an unconfined busybox, not the manifest's workload.
  EXPECT_NE(launch.out.find("observation refused"), std::string::npos) << launch.out;

  EXPECT_TRUE(RecordsOf(Served(measured_id), measured_id).empty());
  EXPECT_TRUE(RecordsOf(Served(launched_id), launched_id).empty());
  EXPECT_EQ(RegisterValue(), before) << "the register moved for a refused peer";
}

TEST_F(ObservedLaunchTest, ModifiedLauncherIsRecordedUnderItsOwnDigestAndR13NamesIt) {
  const std::string copy = dir_.File("fdlaunch-copy");
  std::optional<std::string> bytes = ReadWholeFile(FdlaunchPath());
  ASSERT_TRUE(bytes.has_value());
  ASSERT_TRUE(WriteWholeFile(copy, *bytes + "a modified launcher", 0755));
  const std::string copy_digest = Sha256HexOfFile(copy);
  ASSERT_NE(copy_digest, Sha256HexOfFile(FdlaunchPath()));

  RunResult r = Run(copy, RanHelperPath());
  ASSERT_EQ(r.exit_code(), 42) << r.err << daemon_->stderr_text();
  const Json ev = LoadJsonFile(evidence_);
  ASSERT_TRUE(ev.is_object());
  // The attestor hashed its peer itself.
  bool seen = false;
  for (const Json& rec : ev["event_log"]) {
    if (rec.contains("content") && rec["content"]["type"] == "launch_observation") {
      EXPECT_EQ(rec["content"]["data"]["peer_exe_sha256"], copy_digest);
      seen = true;
    }
  }
  EXPECT_TRUE(seen) << "no load observation in the bundle";

  const Json report = Verify(evidence_, Policy("policy.json"), nonce_);
  const Json* r13 = Rule(report, "R13");
  ASSERT_NE(r13, nullptr) << report.dump(2);
  EXPECT_EQ((*r13)["outcome"], "fail") << report.dump(2);
  // The digest the attestor saw, not the manifest's word.
  EXPECT_NE((*r13)["reason"].get<std::string>().find(copy_digest + " (observed)"),
            std::string::npos)
      << (*r13)["reason"];
}

// ---------------------------------------------------------------------------
// Acceptance 2: each lie of the fault build is caught before anything is
// recorded and before the workload runs.

struct FaultCase {
  const char* fault;
  const char* field;  // in the error line
};

class FaultTest : public ObservedLaunchTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(FaultTest, ObservationCatchesTheLie) {
  const FaultCase& c = GetParam();
  const std::string before = RegisterValue();
  ASSERT_EQ(setenv("FDLAUNCH_FAULT", c.fault, 1), 0);
  RunResult r = Run(FaultsPath(), MarkerPath());
  unsetenv("FDLAUNCH_FAULT");

  EXPECT_EQ(r.exit_code(), kExitLaunchFailed) << r.err;
  std::vector<std::string> errors = ErrorLines(r, nullptr);
  ASSERT_EQ(errors.size(), 1u) << r.err;
  RecordProperty("error", errors[0]);
  EXPECT_NE(errors[0].find("observation refused"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find(c.field), std::string::npos) << errors[0];
  EXPECT_FALSE(StatPath(marker_).has_value()) << "the workload ran (or its file was left)";
  EXPECT_FALSE(StatPath(evidence_).has_value());

  const std::string launch_id = LaunchIdOf(manifest_);
  ASSERT_EQ(launch_id.size(), 32u) << "the manifest is written before the launch";
  EXPECT_TRUE(RecordsOf(Served(launch_id), launch_id).empty());
  EXPECT_EQ(RegisterValue(), before);
}

INSTANTIATE_TEST_SUITE_P(
    Lies, FaultTest,
    ::testing::Values(
        FaultCase{"filter-bytes", "filters[0].sha256: manifest "},
        FaultCase{"second-filter", "filters: manifest 1 installed, kernel 2 installed"},
        FaultCase{"extra-fd", "open (kernel) but not declared"},
        FaultCase{"other-inode", "fds[fd 3].ino: manifest "},
        FaultCase{"open-mode", "fds[fd 3].open_mode: manifest \"r\", kernel \"rw\""},
        FaultCase{"no-nnp", "no_new_privs: manifest true, kernel false"},
        FaultCase{"capability",
                  "caps.bounding: manifest 0000000000000000, kernel 0000000000000001"},
        FaultCase{"other-exe", "exe_sha256: manifest "}),
    [](const auto& info) {
      std::string name = info.param.fault;
      for (char& ch : name) {
        if (ch == '-') ch = '_';
      }
      return name;
    });

TEST_F(ObservedLaunchTest, FaultBuildWithoutAFaultLaunchesNormally) {
  // The faults come from the variable alone: without it the test build is the launcher.
  RunResult r = Run(FaultsPath(), MarkerPath());
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(ReadWholeFile(marker_).value_or(""), "M");
}

TEST_F(ObservedLaunchTest, ReleaseLauncherHoldsNoFaultInjection) {
  std::optional<std::string> release = ReadWholeFile(FdlaunchPath());
  std::optional<std::string> faults = ReadWholeFile(FaultsPath());
  ASSERT_TRUE(release && faults);
  EXPECT_EQ(release->find("FDLAUNCH_FAULT"), std::string::npos);
  EXPECT_NE(faults->find("FDLAUNCH_FAULT"), std::string::npos) << "the check would prove nothing";
}

// ---------------------------------------------------------------------------
// Acceptance 3: the first instruction runs after the observation is recorded.

TEST_F(ObservedLaunchTest, MarkerAppearsOnlyAfterTheObservationIsInLogAndRegister) {
  Pipe out = Pipe::New(), err = Pipe::New();
  ASSERT_TRUE(out.ok() && err.ok());
  std::vector<std::string> args = Args(FdlaunchPath(), MarkerPath(), profile_);
  args.erase(args.begin());
  Child launcher = SpawnFdlaunch(args, {{1, out.write_end.get()}, {2, err.write_end.get()}});
  out.write_end.reset();
  err.write_end.reset();

  const auto deadline = std::chrono::steady_clock::now() + kLaunchTimeout;
  while (ReadWholeFile(marker_).value_or("") != "M" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(ReadWholeFile(marker_).value_or(""), "M") << ReadUntil(err.read_end.get(), "\n");
  // The marker is there: the launch's records must be already.
  const std::string launch_id = LaunchIdOf(manifest_);
  const Json served = Served(launch_id);
  EXPECT_EQ(
      RecordsOf(served, launch_id),
      (std::vector<std::string>{"launch_manifest", "launch_observation/load", "launch_separator"}));
  auto replayed = t::ReplayServed(served);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_EQ(RegisterValue(), replayed->replayed) << "the register is the log's replay";

  std::optional<int> status = launcher.WaitFor(kLaunchTimeout);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
}

// ---------------------------------------------------------------------------
// Acceptance 4: re-attestation.

TEST_F(ObservedLaunchTest, ReattestationAliveThenNonceSpentThenGone) {
  const std::string ready_profile = dir_.File("ready.json");
  ASSERT_TRUE(WriteWholeFile(ready_profile, R"({"version": 1, "name": "ready", "fds": [
      {"fd": 1, "role": "phi-output", "access": "w", "inherit": true}]})"));
  Pipe out = Pipe::New(), err = Pipe::New();
  ASSERT_TRUE(out.ok() && err.ok());
  std::vector<std::string> args = Args(FdlaunchPath(), ReadyHelperPath(), ready_profile);
  args.erase(args.begin());
  Child launcher = SpawnFdlaunch(args, {{1, out.write_end.get()}, {2, err.write_end.get()}});
  out.write_end.reset();
  err.write_end.reset();
  ASSERT_NE(ReadUntil(out.read_end.get(), "READY", kLaunchTimeout).find("READY"), std::string::npos)
      << ReadUntil(err.read_end.get(), "\n", std::chrono::milliseconds(100));
  const std::string launch_id = LaunchIdOf(manifest_);

  const std::string nonce = t::RandomHex(32), alive = dir_.File("alive.json");
  auto attest = [&](const std::string& n, const std::string& out_file) {
    return RunProgram({FdlaunchPath(), "attest", "--attestor", socket_, "--launch", launch_id,
                       "--nonce", n, "--evidence-out", out_file},
                      {}, kLaunchTimeout);
  };
  RunResult first = attest(nonce, alive);
  ASSERT_EQ(first.exit_code(), 0) << first.err << daemon_->stderr_text();
  EXPECT_EQ(first.out, "alive\n");
  const Json ev = LoadJsonFile(alive);
  ASSERT_TRUE(ev.is_object());
  EXPECT_EQ(ev["nonce"], nonce);
  bool bound = false;
  for (const Json& rec : ev["event_log"]) {
    if (rec.contains("content") && rec["content"]["type"] == "launch_observation" &&
        rec["content"]["data"]["kind"] == "alive") {
      bound = bound || rec["content"]["data"]["nonce"] == nonce;
    }
  }
  EXPECT_TRUE(bound) << "the certified log holds the alive record bound to the nonce";
  // Offline: the chain holds and freshness "alive" is established by this nonce.
  const Json report = Verify(alive, Policy("alive-policy.json", {{"freshness", "alive"}}), nonce);
  EXPECT_TRUE(report.contains("steps")) << report.dump(2);
  for (const Json& step : report.value("steps", Json::array())) {
    EXPECT_NE(step["outcome"], "fail") << step.dump();
  }
  const Json* r11 = Rule(report, "R11");
  EXPECT_TRUE(r11 != nullptr && (*r11)["outcome"] != "fail") << report.dump(2);

  // The same nonce again: refused, whatever the launch.
  RunResult again = attest(nonce, dir_.File("again.json"));
  EXPECT_EQ(again.exit_code(), kExitLaunchFailed) << again.out;
  EXPECT_NE(again.err.find("nonce already used"), std::string::npos) << again.err;
  EXPECT_FALSE(StatPath(dir_.File("again.json")).has_value());

  // SIGTERM to the launcher reaches the workload; the launcher exits 128+15.
  ASSERT_EQ(kill(launcher.pid(), SIGTERM), 0);
  std::optional<int> status = launcher.WaitFor(kLaunchTimeout);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status)) << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 128 + SIGTERM);

  RunResult gone = attest(t::RandomHex(32), dir_.File("gone.json"));
  EXPECT_EQ(gone.exit_code(), 3) << gone.err;
  EXPECT_EQ(gone.out, "gone\n");
  EXPECT_FALSE(StatPath(dir_.File("gone.json")).has_value());
}

// ---------------------------------------------------------------------------
// The launcher, now the workload's parent, passes its status on.

TEST_F(ObservedLaunchTest, WorkloadExitCodeAndFilterKillPassThrough) {
  RunResult ran = Run(FdlaunchPath(), RanHelperPath());
  EXPECT_EQ(ran.exit_code(), 42) << ran.err;
  EXPECT_EQ(ran.out, "RAN\n");

  // fd 1 undeclared under "kill": the workload's first write ends it with SIGSYS.
  const std::string kill_profile = dir_.File("kill.json");
  ASSERT_TRUE(WriteWholeFile(kill_profile, R"({"version": 1, "name": "kill",
      "on_violation": "kill", "fds": []})"));
  std::vector<std::string> args = Args(FdlaunchPath(), RanHelperPath(), kill_profile);
  RunResult killed = RunProgram(args, {}, kLaunchTimeout);
  EXPECT_EQ(killed.exit_code(), 128 + SIGSYS) << killed.err;
  EXPECT_EQ(killed.out, "");
}

}  // namespace
}  // namespace fdattest::integration
