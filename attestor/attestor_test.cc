// The Attestor's behaviour, through fdattestd run as a real process
// (fork/execve) on a real swtpm (tests/support/fdattestd_harness.h), with
// real workloads launched through it (tests/support/observed_launch.h): the
// info / observed launch / certify / log round trip in NV and PCR mode,
// checked against tpm2-tools reading the TPM independently; kill -9 at random
// points during launches, with reconciliation at each restart; a pending record
// re-extended at start; a tampered log that the daemon refuses to serve; a
// second daemon on the same state directory refused before it touches the
// TPM; an AK flushed by another TPM client reloaded at the next certify; a
// fresh state directory refused where the NV index already exists; no
// tpm2-tss error line on stderr at a start that succeeds; a manifest from a
// peer that launched nothing refused; a failing kernel probe refusing the
// start unless unobserved launches are allowed.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tss2/tss2_tpm2_types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "attestor/attestor.h"
#include "attestor/event_log.h"
#include "attestor/kernel_observer.h"
#include "attestor/tpm_context.h"
#include "attestor/tpm_keys.h"
#include "attestor/tpm_register.h"
#include "common/base64.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/sha256.h"
#include "gtest/gtest.h"
#include "tests/support/fdattestd_harness.h"
#include "tests/support/observed_launch.h"
#include "tests/support/tpm_test_util.h"

namespace fdattest {
namespace {

using ::fdattest::testing::Call;
using ::fdattest::testing::CallOn;
using ::fdattest::testing::CertifyRequest;
using ::fdattest::testing::Clock;
using ::fdattest::testing::CodeOf;
using ::fdattest::testing::ConnectTo;
using ::fdattest::testing::DigestOf;
using ::fdattest::testing::FdattestdProcess;
using ::fdattest::testing::FdattestdTest;
using ::fdattest::testing::HexOf;
using ::fdattest::testing::LogRequest;
using ::fdattest::testing::HoldAndLaunch;
using ::fdattest::testing::LaunchObserved;
using ::fdattest::testing::Manifest;
using ::fdattest::testing::ObservedWorkload;
using ::fdattest::testing::ParseAttest;
using ::fdattest::testing::RandomBytes;
using ::fdattest::testing::RandomHex;
using ::fdattest::testing::ReleaseRequest;
using ::fdattest::testing::ReplayServed;
using ::fdattest::testing::Rng;
using ::fdattest::testing::RunTpmTool;
using ::fdattest::testing::Separator;
using ::fdattest::testing::VerifyEcdsaAttest;
using ::fdattest::testing::kNvIndex;

class AttestorTest : public FdattestdTest {};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

std::string Stats(const std::vector<double>& ms) {
  double sum = 0;
  for (double x : ms) sum += x;
  return absl::StrFormat("n=%d mean=%.2fms p50=%.2fms p90=%.2fms max=%.2fms",
                         static_cast<int>(ms.size()), sum / static_cast<double>(ms.size()),
                         Percentile(ms, 0.5), Percentile(ms, 0.9), Percentile(ms, 1.0));
}
TEST_F(AttestorTest, NvRoundTripMatchesTpmAndLog) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  auto conn = ConnectTo(socket_);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const int fd = conn->get();

  auto info = CallOn(fd, Json{{"op", "info"}});
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(CodeOf(*info), "ok") << info->dump();
  EXPECT_EQ((*info)["register"], (Json{{"kind", "nv"}, {"nv_index", kNvIndex}}));
  auto ak_public = Base64Decode((*info)["ak_public"].get<std::string>());
  ASSERT_TRUE(ak_public.ok());
  auto ek_cert = Base64Decode((*info)["ek_certificate"].get<std::string>());
  ASSERT_TRUE(ek_cert.ok());
  EXPECT_GT(ek_cert->size(), 100u);
  EXPECT_EQ((*info)["ak_name"].get<std::string>().size(), 68u);
  EXPECT_EQ((*info)["ak_qualified_name"].get<std::string>().size(), 68u);
  EXPECT_TRUE(Base64Decode((*info)["ek_public"].get<std::string>()).ok());
  EXPECT_TRUE((*info)["reset_count"].is_number_integer());
  EXPECT_TRUE((*info)["restart_count"].is_number_integer());

  // One observed launch: its manifest, load observation and separator
  // follow the epoch record (0).
  const std::string launch = RandomHex(16);
  auto workload = ObservedWorkload::Prepare(launch);
  ASSERT_TRUE(workload.ok()) << workload.status();
  auto launched = LaunchObserved(fd, *workload, RandomBytes(32));
  ASSERT_TRUE(launched.ok()) << launched.status();
  EXPECT_EQ(launched->manifest, 1u);
  EXPECT_EQ(launched->observation, 2u);
  EXPECT_EQ(launched->separator, 3u);
  // Nothing more for a separated launch; the daemon keeps serving.
  auto again = CallOn(fd, Separator(launch));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(CodeOf(*again), "FailedPrecondition") << again->dump();

  // Latency through the socket: 20 observed launches (hold, launch,
  // separator, release: 60 records; the workload's fork and exec included),
  // 20 certifies.
  std::vector<double> measure_ms, certify_ms;
  for (int i = 0; i < 20; ++i) {
    auto other = ObservedWorkload::Prepare(RandomHex(16));
    ASSERT_TRUE(other.ok()) << other.status();
    auto t0 = Clock::now();
    auto r = LaunchObserved(fd, *other, RandomBytes(32));
    measure_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ASSERT_TRUE(r.ok()) << r.status();
  }
  std::string qualifying, register_value;
  Json cert;
  for (int i = 0; i < 20; ++i) {
    qualifying = RandomBytes(i % 2 == 0 ? 32 : 64);
    auto t0 = Clock::now();
    auto r = CallOn(fd, CertifyRequest(HexEncode(qualifying)));
    certify_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ASSERT_TRUE(r.ok() && CodeOf(*r) == "ok") << (r.ok() ? r->dump() : r.status().ToString());
    cert = *r;
  }
  std::cout << "[ latency  ] observed launch (3 x log fsync + NV extend, via socket): "
            << Stats(measure_ms)
            << "\n[ latency  ] certify (NV_Certify, via socket): " << Stats(certify_ms) << "\n";

  // The certification parses, binds the qualifying data, holds the register
  // value and verifies with the AK from info.
  register_value = cert["register_value"].get<std::string>();
  auto attest = Base64Decode(cert["attest"].get<std::string>());
  auto signature = Base64Decode(cert["signature"].get<std::string>());
  ASSERT_TRUE(attest.ok() && signature.ok());
  auto parsed = ParseAttest(*attest);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->type, TPM2_ST_ATTEST_NV);
  EXPECT_EQ(HexOf(parsed->extraData.buffer, parsed->extraData.size), HexEncode(qualifying));
  EXPECT_EQ(parsed->attested.nv.offset, 0);
  EXPECT_EQ(HexOf(parsed->attested.nv.nvContents.buffer, parsed->attested.nv.nvContents.size),
            register_value);
  EXPECT_TRUE(VerifyEcdsaAttest(*ak_public, *attest, *signature).ok());

  // The log for our launch: ours in full, the others redacted, replaying to
  // the certified value.
  auto log = CallOn(fd, LogRequest(launch));
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(CodeOf(*log), "ok") << log->dump();
  const Json& records = (*log)["records"];
  ASSERT_EQ(records.size(), 64u);
  for (int i : {0, 1, 2, 3}) EXPECT_FALSE(records[i].contains("redacted")) << i;
  EXPECT_EQ(records[1]["content"]["data"]["launch_id"], launch);
  EXPECT_EQ(records[2]["content"]["type"], "launch_observation");
  EXPECT_EQ(records[4]["redacted"], true);
  EXPECT_FALSE(records[4].contains("content"));
  auto served = ReplayServed(records);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->replayed, register_value);
  // A launch without records in this epoch.
  auto unknown = CallOn(fd, LogRequest(RandomHex(16)));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(CodeOf(*unknown), "FailedPrecondition");
  conn->reset();

  // Independently: the file replays to the value tpm2_nvread reads.
  auto code = daemon_->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << daemon_->stderr_text();
  const std::string err = daemon_->stderr_text();
  EXPECT_NE(err.find("serving on"), std::string::npos) << err;
  std::cout << "[ stderr   ] " << err;
  EXPECT_EQ(NvRead(), register_value);
  auto file = OpenLogFile(*Register::NvIndex(kNvIndex));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(HexEncode(file->expected_value()), register_value);
}

TEST_F(AttestorTest, PcrModeQuotesAndRefusesResettablePcrs) {
  // PCR 16 and 23 are refused without the test-only flag, before any TPM work.
  for (const char* pcr : {"pcr:16", "pcr:23"}) {
    absl::Status started = daemon_->Start({"--register", pcr});
    ASSERT_FALSE(started.ok());
    EXPECT_NE(daemon_->exit_code(), 0);
    EXPECT_NE(daemon_->stderr_text().find("reset by any TPM client"), std::string::npos)
        << daemon_->stderr_text();
    EXPECT_NE(daemon_->stderr_text().find("not serving"), std::string::npos);
  }
  {
    auto allowed = NewDaemon(absl::StrCat(tpm_->dir(), "/s16"));
    ASSERT_TRUE(allowed->Start({"--register", "pcr:16", "--allow-resettable-pcr"}).ok())
        << allowed->stderr_text();
    auto info = Call(socket_, Json{{"op", "info"}});
    ASSERT_TRUE(info.ok());
    EXPECT_EQ((*info)["register"], (Json{{"kind", "pcr"}, {"pcr", 16}, {"bank", "sha256"}}));
    ASSERT_TRUE(allowed->Stop().ok());
  }

  ASSERT_TRUE(daemon_->Start({"--register", "pcr:15"}).ok()) << daemon_->stderr_text();
  auto info = Call(socket_, Json{{"op", "info"}});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)["register"], (Json{{"kind", "pcr"}, {"pcr", 15}, {"bank", "sha256"}}));
  const std::string launch = RandomHex(16);
  {
    auto conn = ConnectTo(socket_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto workload = ObservedWorkload::Prepare(launch);
    ASSERT_TRUE(workload.ok()) << workload.status();
    auto launched = LaunchObserved(conn->get(), *workload, RandomBytes(32));
    ASSERT_TRUE(launched.ok()) << launched.status();
  }
  const std::string qualifying = RandomBytes(32);
  std::vector<double> quote_ms;
  Json cert;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto r = Call(socket_, CertifyRequest(HexEncode(qualifying)));
    quote_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(CodeOf(*r), "ok") << r->dump();
    cert = *r;
  }
  std::cout << "[ latency  ] certify (Quote, connect + request): " << Stats(quote_ms) << "\n";
  const std::string value = cert["register_value"].get<std::string>();
  auto attest = Base64Decode(cert["attest"].get<std::string>());
  auto signature = Base64Decode(cert["signature"].get<std::string>());
  auto ak_public = Base64Decode((*info)["ak_public"].get<std::string>());
  ASSERT_TRUE(attest.ok() && signature.ok() && ak_public.ok());
  auto parsed = ParseAttest(*attest);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->type, TPM2_ST_ATTEST_QUOTE);
  EXPECT_EQ(HexOf(parsed->extraData.buffer, parsed->extraData.size), HexEncode(qualifying));
  // The quote digest of one PCR is SHA-256 of its value.
  auto value_bytes = HexDecode(value);
  ASSERT_TRUE(value_bytes.ok());
  EXPECT_EQ(HexOf(parsed->attested.quote.pcrDigest.buffer, parsed->attested.quote.pcrDigest.size),
            HexEncode(Sha256(*value_bytes)));
  EXPECT_TRUE(VerifyEcdsaAttest(*ak_public, *attest, *signature).ok());
  auto log = Call(socket_, LogRequest(launch));
  ASSERT_TRUE(log.ok());
  auto served = ReplayServed((*log)["records"]);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->replayed, value);
  EXPECT_EQ((*log)["records"][1]["pcr"], 15);
  EXPECT_EQ((*log)["records"][2]["pcr"], 15);

  ASSERT_TRUE(daemon_->Stop().ok());
  const std::string out = absl::StrCat(tpm_->dir(), "/pcr.bin");
  auto tool = RunTpmTool({"tpm2_pcrread", "sha256:15", "-o", out}, tpm_->tcti());
  ASSERT_TRUE(tool.ok()) << tool.status();
  ASSERT_EQ(tool->exit_code, 0) << tool->err;
  EXPECT_EQ(HexEncode(*ReadFileLimited(out, 64)), value);
}

TEST_F(AttestorTest, KillNineDuringMeasuresNeverDivergesSilently) {
  constexpr int kCalls = 50;
  std::map<uint64_t, std::string> acked;  // manifests and separators: recnum -> digest
  std::map<uint64_t, std::string> acked_observations;  // recnum -> launch id
  std::string last_acked_launch;
  std::string open_launch;  // acknowledged launch, separator not yet sent
  int calls = 0, restarts = 0, kills_mid_call = 0, served_consistent = 0;
  int pending_recovered = 0, torn_repaired = 0;  // what the start-up reconciliation did
  std::uniform_int_distribution<int> delay_ms(0, 40);

  while (true) {
    absl::Status started = daemon_->Start();
    if (!started.ok()) {
      // Allowed only as an explicit, explained refusal.
      const std::string err = daemon_->stderr_text();
      EXPECT_NE(daemon_->exit_code(), 0);
      EXPECT_NE(err.find("not serving"), std::string::npos) << err;
      ADD_FAILURE() << "daemon refused to serve after kill -9 (explicit, not silent): " << err;
      break;
    }
    ++restarts;
    if (!last_acked_launch.empty()) {
      ExpectServedLogMatchesRegister(last_acked_launch, acked);
      if (HasFatalFailure()) return;
      ++served_consistent;
    }
    if (calls >= kCalls) break;

    const pid_t pid = daemon_->pid();
    const int delay = delay_ms(Rng());
    std::atomic<bool> killed{false};
    std::thread killer([pid, delay, &killed] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
      kill(pid, SIGKILL);
      killed = true;
    });
    // The workload of the launch the connection holds, declared first so
    // that the connection ends before it is killed and reaped.
    std::optional<ObservedWorkload> workload;
    auto conn = ConnectTo(socket_);
    while (conn.ok() && calls < kCalls) {
      ++calls;
      if (open_launch.empty()) {
        // An observed launch: hold, launch (manifest and load observation).
        const std::string launch = RandomHex(16);
        auto prepared = ObservedWorkload::Prepare(launch);
        ASSERT_TRUE(prepared.ok()) << prepared.status();
        workload.emplace(*std::move(prepared));
        auto r = HoldAndLaunch(conn->get(), *workload, RandomBytes(16));
        if (!r.ok()) {
          // Killed mid-call (an error answer would be a failure): the records
          // may or may not be in the log (never acknowledged).
          ASSERT_EQ(r.status().message().find(" answered "), std::string::npos) << r.status();
          ++kills_mid_call;
          break;
        }
        acked[(*r)["manifest_recnum"].get<uint64_t>()] = HexEncode(Sha256(workload->ManifestBytes()));
        acked_observations[(*r)["observation_recnum"].get<uint64_t>()] = launch;
        last_acked_launch = launch;
        open_launch = launch;
        continue;
      }
      // Its separator, on this connection or, after a restart, on the next.
      const Json req = Separator(open_launch);
      auto r = CallOn(conn->get(), req);
      if (!r.ok()) {
        ++kills_mid_call;
        open_launch.clear();
        break;
      }
      ASSERT_EQ(CodeOf(*r), "ok") << r->dump();
      acked[(*r)["recnum"].get<uint64_t>()] = HexEncode(DigestOf(req));
      last_acked_launch = open_launch;
      if (workload.has_value()) {
        // Still held by this connection: let it run (a kill may come first).
        (void)CallOn(conn->get(), ReleaseRequest(open_launch));
      }
      open_launch.clear();
    }
    killer.join();
    auto code = daemon_->Reap(std::chrono::seconds(10));
    ASSERT_TRUE(code.ok()) << code.status();
    const std::string err = daemon_->stderr_text();
    if (err.find("re-extended pending record") != std::string::npos) ++pending_recovered;
    if (err.find("torn record") != std::string::npos) ++torn_repaired;
  }
  const std::string summary = absl::StrCat(
      calls, " launch and separator calls, ", acked.size() + acked_observations.size(),
      " records acknowledged, ", restarts, " starts, ",
      kills_mid_call, " kills during a call, ", served_consistent,
      " restarts served a log consistent with the register (", pending_recovered,
      " re-extended a pending record, ", torn_repaired, " removed a torn record)");
  std::cout << "[ kill -9  ] " << summary << "\n";
  EXPECT_EQ(calls, kCalls);
  EXPECT_GE(restarts, 2);

  ASSERT_TRUE(daemon_->Running());
  ASSERT_TRUE(daemon_->Stop().ok());
  auto file = OpenLogFile(*Register::NvIndex(kNvIndex));
  ASSERT_TRUE(file.ok()) << file.status();
  for (const auto& [recnum, digest] : acked) {
    ASSERT_LT(recnum, file->size());
    EXPECT_EQ(HexEncode(file->AllRecords()[recnum].digest), digest);
  }
  for (const auto& [recnum, launch] : acked_observations) {
    ASSERT_LT(recnum, file->size());
    const CelRecord& r = file->AllRecords()[recnum];
    EXPECT_EQ(r.content->type, CelContent::Type::kLaunchObservation);
    EXPECT_EQ(r.content->launch_id, launch);
  }
  EXPECT_EQ(NvRead(), HexEncode(file->expected_value()));
}

// Lines of the daemon's stderr that are not its own ("fdattestd: ..."), such
// as tpm2-tss's "ERROR:esys:..." and "WARNING:esys:..." log lines.
std::vector<std::string> ForeignLines(const std::string& text) {
  std::vector<std::string> foreign;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "fdattestd: ")) foreign.emplace_back(line);
  }
  return foreign;
}

// With tpm2-tss logging as it is by default, a start prints nothing but the
// daemon's own lines: on a TPM where the register is defined now, on one
// where it is defined but unwritten (after a TPM Reset clears it) and on one
// where it holds a value. Proving the register's auth value used to provoke
// an ESAPI error line at every start on an unwritten register.
TEST_F(AttestorTest, StartsWithoutTssErrorLines) {
  daemon_->UseDefaultTssLogging();
  const std::vector<std::string> cases = {"fresh TPM", "after a TPM Reset", "written register"};
  for (const std::string& when : cases) {
    SCOPED_TRACE(when);
    if (when == "after a TPM Reset") {
      ASSERT_TRUE(tpm_->Restart().ok());
    }
    ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
    auto info = Call(socket_, Json{{"op", "info"}});
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_EQ(CodeOf(*info), "ok") << info->dump();
    ASSERT_TRUE(daemon_->Stop().ok());
    const std::string err = daemon_->stderr_text();
    EXPECT_NE(err.find("fdattestd: serving on"), std::string::npos) << err;
    EXPECT_EQ(ForeignLines(err), std::vector<std::string>{}) << err;
  }
}

TEST_F(AttestorTest, OnePendingRecordIsExtendedAtStart) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  const std::string launch = RandomHex(16);
  {
    // Launched (manifest and load observation), not yet separated.
    auto conn = ConnectTo(socket_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto workload = ObservedWorkload::Prepare(launch);
    ASSERT_TRUE(workload.ok()) << workload.status();
    auto launched = HoldAndLaunch(conn->get(), *workload, RandomBytes(32));
    ASSERT_TRUE(launched.ok()) << launched.status();
    // The connection ends first: the attestor kills the held workload and
    // consumes its exit, so that this process can reap it.
    conn->reset();
  }
  ASSERT_TRUE(daemon_->Stop().ok());
  const std::string before = NvRead();
  {
    // Exactly what a crash between the log's fsync and the extend leaves.
    auto file = OpenLogFile(*Register::NvIndex(kNvIndex));
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE(file->Append(*CelContent::LaunchSeparator(launch)).ok());
  }
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  auto cert = Call(socket_, CertifyRequest(RandomHex(8)));
  ASSERT_TRUE(cert.ok() && CodeOf(*cert) == "ok");
  EXPECT_NE((*cert)["register_value"].get<std::string>(), before);
  ExpectServedLogMatchesRegister(launch, {});
  ASSERT_TRUE(daemon_->Stop().ok());
  EXPECT_NE(daemon_->stderr_text().find("re-extended pending record 3"), std::string::npos)
      << daemon_->stderr_text();
}

TEST_F(AttestorTest, RefusesToServeALogThatDivergesFromTheRegister) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  const std::string launch = RandomHex(16);
  std::string sha;  // the manifest's digest
  {
    auto conn = ConnectTo(socket_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto workload = ObservedWorkload::Prepare(launch);
    ASSERT_TRUE(workload.ok()) << workload.status();
    sha = HexEncode(Sha256(workload->ManifestBytes()));
    auto launched = LaunchObserved(conn->get(), *workload, RandomBytes(32));
    ASSERT_TRUE(launched.ok()) << launched.status();
  }
  ASSERT_TRUE(daemon_->Stop().ok());
  const std::string register_value = NvRead();
  auto original = ReadFileLimited(LogPath(), 1 << 20);
  ASSERT_TRUE(original.ok());
  ASSERT_NE(original->find(absl::StrCat("\"digest\":\"", sha, "\"")), std::string::npos);
  const std::string other = RandomHex(32);

  // A digest that is not the one its record's content defines.
  ASSERT_TRUE(WriteFileAtomic(LogPath(),
                              absl::StrReplaceAll(*original, {{absl::StrCat("\"digest\":\"", sha),
                                                               absl::StrCat("\"digest\":\"", other)}}),
                              0600)
                  .ok());
  ASSERT_FALSE(daemon_->Start().ok());
  EXPECT_EQ(daemon_->exit_code(), 1);
  EXPECT_NE(daemon_->stderr_text().find("line 2"), std::string::npos) << daemon_->stderr_text();
  EXPECT_NE(daemon_->stderr_text().find("not serving"), std::string::npos);

  // A self-consistent log for a different manifest: replays, but not to the
  // register's value.
  ASSERT_TRUE(
      WriteFileAtomic(LogPath(), absl::StrReplaceAll(*original, {{sha, other}}), 0600).ok());
  ASSERT_FALSE(daemon_->Start().ok());
  EXPECT_EQ(daemon_->exit_code(), 1);
  const std::string err = daemon_->stderr_text();
  EXPECT_NE(err.find("diverged"), std::string::npos) << err;
  std::cout << "[ stderr   ] " << err;
  EXPECT_NE(err.find(register_value), std::string::npos) << err;
  // Refusing touched nothing.
  EXPECT_EQ(NvRead(), register_value);

  // The original log serves again.
  ASSERT_TRUE(WriteFileAtomic(LogPath(), *original, 0600).ok());
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  ExpectServedLogMatchesRegister(launch, {});
}

// A second daemon on the same state directory (another socket, so the socket
// check does not stop it) must be refused before it touches the TPM: opening
// it flushes every loaded handle, the first daemon's AK among them.
TEST_F(AttestorTest, SecondDaemonOnTheSameStateDirLeavesTheFirstServing) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  auto before = Call(socket_, CertifyRequest(RandomHex(32)));
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(CodeOf(*before), "ok") << before->dump();

  FdattestdProcess second(absl::StrCat(tpm_->dir(), "/second.sock"), state_dir_, tpm_->tcti(),
                          absl::StrCat(tpm_->dir(), "/second.err"));
  EXPECT_FALSE(second.Start().ok());
  EXPECT_EQ(second.exit_code(), 1) << second.stderr_text();
  EXPECT_NE(second.stderr_text().find("another fdattestd"), std::string::npos)
      << second.stderr_text();

  ASSERT_TRUE(daemon_->Running());
  for (int i = 0; i < 3; ++i) {
    auto after = Call(socket_, CertifyRequest(RandomHex(32)));
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(CodeOf(*after), "ok") << after->dump();
  }
  const std::string launch = RandomHex(16);
  {
    auto conn = ConnectTo(socket_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto workload = ObservedWorkload::Prepare(launch);
    ASSERT_TRUE(workload.ok()) << workload.status();
    auto launched = LaunchObserved(conn->get(), *workload, RandomBytes(32));
    EXPECT_TRUE(launched.ok()) << launched.status();
  }
  ExpectServedLogMatchesRegister(launch, {});
  // Not merely recovered: the AK was never flushed (no reload was needed).
  ASSERT_TRUE(daemon_->Stop().ok());
  EXPECT_EQ(daemon_->stderr_text().find("reloaded the AK"), std::string::npos)
      << daemon_->stderr_text();
}

// The NV index's auth value lives only in the state directory that defined it:
// a new state directory on the same TPM is refused (docs/attestor.md), and
// the original one keeps serving.
TEST_F(AttestorTest, FreshStateDirOnADefinedNvIndexIsRefused) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  ASSERT_TRUE(daemon_->Stop().ok());

  const std::string fresh = absl::StrCat(tpm_->dir(), "/fresh");
  auto other = NewDaemon(fresh);
  EXPECT_FALSE(other->Start().ok());
  EXPECT_EQ(other->exit_code(), 1);
  const std::string err = other->stderr_text();
  EXPECT_NE(err.find(absl::StrCat("the NV register index exists but its auth value (", fresh,
                                  "/nv-register.auth) is missing")),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("not serving"), std::string::npos) << err;
  // The AK was created before the register refused.
  EXPECT_TRUE(ReadFileLimited(absl::StrCat(fresh, "/ak.pub"), 1024).ok());
  EXPECT_FALSE(ReadFileLimited(absl::StrCat(fresh, "/nv-register.auth"), 64).ok());

  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  auto cert = Call(socket_, CertifyRequest(RandomHex(32)));
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(CodeOf(*cert), "ok") << cert->dump();
}

// The transient objects loaded in the TPM, whoever loaded them.
absl::StatusOr<std::vector<TPM2_HANDLE>> LoadedTransients(EsysContext& ctx) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(ctx.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_HANDLES, TPM2_TRANSIENT_FIRST, TPM2_MAX_CAP_HANDLES,
                                  &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> data(raw);
  RETURN_IF_ERROR(TpmStatus(rc, "TPM2_GetCapability(handles)"));
  std::vector<TPM2_HANDLE> out;
  for (uint32_t i = 0; i < data->data.handles.count; ++i) {
    const TPM2_HANDLE h = data->data.handles.handle[i];
    if ((h >> TPM2_HR_SHIFT) == TPM2_HT_TRANSIENT) out.push_back(h);
  }
  return out;
}

// Whoever flushes the AK from the TPM (another TPM client starting up, a
// tool), the daemon notices at the next certify and loads it again from the
// state directory, even when another object now sits at the AK's handle.
TEST_F(AttestorTest, ReloadsItsAkAfterSomeoneFlushedIt) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  auto info = Call(socket_, Json{{"op", "info"}});
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(CodeOf(*info), "ok") << info->dump();
  auto ak_public = Base64Decode((*info)["ak_public"].get<std::string>());
  ASSERT_TRUE(ak_public.ok());
  auto certify_is_signed_by_the_ak = [&](const std::string& what) {
    const std::string qualifying = RandomHex(32);
    auto cert = Call(socket_, CertifyRequest(qualifying));
    ASSERT_TRUE(cert.ok()) << what << ": " << cert.status();
    ASSERT_EQ(CodeOf(*cert), "ok") << what << ": " << cert->dump();
    auto attest = Base64Decode((*cert)["attest"].get<std::string>());
    auto signature = Base64Decode((*cert)["signature"].get<std::string>());
    ASSERT_TRUE(attest.ok() && signature.ok());
    EXPECT_TRUE(VerifyEcdsaAttest(*ak_public, *attest, *signature).ok()) << what;
    auto parsed = ParseAttest(*attest);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(HexOf(parsed->extraData.buffer, parsed->extraData.size), qualifying) << what;
  };
  certify_is_signed_by_the_ak("before any flush");

  // Our own TPM connection to the same swtpm.
  auto ctx = EsysContext::Open({.tcti = tpm_->tcti(), .flush_stale_handles = false});
  ASSERT_TRUE(ctx.ok()) << ctx.status();

  // The AK flushed: its handle refers to nothing.
  ASSERT_TRUE((*ctx)->FlushStaleHandles().ok());
  certify_is_signed_by_the_ak("after a flush");

  // The AK flushed and another key loaded at the very handle the AK had: the
  // daemon must neither sign with nor fail on what is there now.
  auto loaded = LoadedTransients(**ctx);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);  // the reloaded AK
  const TPM2_HANDLE ak_handle = loaded->front();
  ASSERT_TRUE((*ctx)->FlushStaleHandles().ok());
  // The TPM hands out the lowest free slot: load keys until one lands there.
  std::vector<TpmHandle> keys;
  TpmHandle squatter;
  for (int i = 0; i < 3 && !squatter.valid(); ++i) {
    auto ek = CreateRsaEk(**ctx);
    ASSERT_TRUE(ek.ok()) << ek.status();
    TPM2_HANDLE handle = 0;
    ASSERT_EQ(Esys_TR_GetTpmHandle((*ctx)->get(), ek->get(), &handle), TSS2_RC_SUCCESS);
    if (handle == ak_handle) {
      squatter = *std::move(ek);
    } else {
      keys.push_back(*std::move(ek));
    }
  }
  ASSERT_TRUE(squatter.valid()) << "no key landed at 0x" << std::hex << ak_handle;
  keys.clear();  // leaves the slots the daemon needs to reload
  auto name_at = [&](ESYS_TR tr) {
    TPM2B_NAME* raw = nullptr;
    TSS2_RC rc = Esys_ReadPublic((*ctx)->get(), tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                 nullptr, &raw, nullptr);
    EsysPtr<TPM2B_NAME> name(raw);
    return rc == TSS2_RC_SUCCESS ? HexOf(name->name, name->size) : std::string("not loaded");
  };
  const std::string squatter_name = name_at(squatter.get());
  certify_is_signed_by_the_ak("after a flush and another key loaded at the AK's handle");
  // The daemon dropped its stale handle without flushing our key.
  EXPECT_EQ(name_at(squatter.get()), squatter_name);
  squatter.Reset();

  // Identity unchanged, and the daemon never turned fatal.
  auto again = Call(socket_, Json{{"op", "info"}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["ak_public"], (*info)["ak_public"]);
  EXPECT_TRUE(daemon_->Running());
  const std::string launch = RandomHex(16);
  {
    auto conn = ConnectTo(socket_);
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto workload = ObservedWorkload::Prepare(launch);
    ASSERT_TRUE(workload.ok()) << workload.status();
    auto launched = LaunchObserved(conn->get(), *workload, RandomBytes(32));
    EXPECT_TRUE(launched.ok()) << launched.status();
  }
  ExpectServedLogMatchesRegister(launch, {});
  ctx->reset();
  ASSERT_TRUE(daemon_->Stop().ok());
  EXPECT_NE(daemon_->stderr_text().find("reloaded the AK"), std::string::npos)
      << daemon_->stderr_text();
}

// A peer allowed on the socket that launched nothing — this test — cannot
// have a manifest measured: a plain measure of a launch_manifest is refused,
// and so is a separator for a launch without a load observation; nothing
// reaches the log. (Replaces the disabled test that kept this gap visible.)
TEST_F(AttestorTest, RefusesAManifestFromAPeerThatLaunchedNothing) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  const std::string launch = RandomHex(16);
  auto m = Call(socket_, Manifest(launch, RandomHex(32)));  // no such launch, no such manifest
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(CodeOf(*m), "FailedPrecondition") << m->dump();
  EXPECT_NE(m->dump().find("measured only through 'launch'"), std::string::npos) << m->dump();
  auto s = Call(socket_, Separator(launch));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(CodeOf(*s), "FailedPrecondition") << s->dump();
  auto log = Call(socket_, LogRequest(launch));
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(CodeOf(*log), "FailedPrecondition") << "records exist for a launch that never happened: "
                                                << log->dump();
  // A launch that was never held is not launched either.
  auto l = Call(socket_, Json{{"op", "release"}, {"launch_id", launch}});
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(CodeOf(*l), "FailedPrecondition") << l->dump();
}

// The start-up probe: a kernel that cannot be observed stops the attestor
// before it touches anything, with the probe's message; with
// allow_unobserved it serves, says so, and holds nothing.
TEST_F(AttestorTest, ProbeFailureRefusesToStartUnlessAllowedUnobserved) {
  const std::string why = "ptrace is refused (Yama ptrace_scope 3): injected by the test";
  AttestorOptions options{.tcti = tpm_->tcti(), .state_dir = state_dir_};
  options.probe = [&] { return absl::FailedPreconditionError(why); };
  absl::StatusOr<std::unique_ptr<Attestor>> refused = Attestor::Open(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find(why), std::string::npos) << refused.status();
  EXPECT_NE(access(state_dir_.c_str(), F_OK), 0) << "the state directory was created";

  options.allow_unobserved = true;
  absl::StatusOr<std::unique_ptr<Attestor>> a = Attestor::Open(options);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->not_observed(), why);
  EXPECT_NE((*a)->startup_summary().find("NOT OBSERVING"), std::string::npos);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  absl::StatusOr<PeerProcess> peer = IdentifyPeer(sv[0]);
  close(sv[0]);
  close(sv[1]);
  ASSERT_TRUE(peer.ok()) << peer.status();
  AttestorConnection connection{.id = 1, .peer = *std::move(peer)};
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  absl::StatusOr<AttestorRequest> hold = AttestorRequest::Hold(RandomHex(16), child);
  ASSERT_TRUE(hold.ok()) << hold.status();
  AttestorResponse answer = (*a)->Handle(*hold, connection);
  const HoldResponse* held = std::get_if<HoldResponse>(&answer);
  ASSERT_NE(held, nullptr) << SerializeResponse(answer);
  EXPECT_FALSE(held->observing);
  // Nothing seized: the child is not traced.
  std::string status = ReadFileLimited(absl::StrCat("/proc/", child, "/status"), 1 << 16).value();
  EXPECT_NE(status.find("TracerPid:\t0\n"), std::string::npos) << status;
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

// activate_credential through the socket, with a credential that
// tpm2_makecredential made offline (no TPM: the daemon holds swtpm) for the
// served EK and AK name: the TPM releases it, refuses one made for another
// name, and the daemon keeps serving after a refusal.
TEST_F(AttestorTest, ActivateCredentialReleasesACredentialForItsAkOnly) {
  ASSERT_TRUE(daemon_->Start().ok()) << daemon_->stderr_text();
  auto info = Call(socket_, Json{{"op", "info"}});
  ASSERT_TRUE(info.ok() && CodeOf(*info) == "ok") << info.status();
  const std::string dir = tpm_->dir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/ek.pub",
                              *Base64Decode((*info)["ek_public"].get<std::string>()), 0644)
                  .ok());
  const std::string secret = RandomBytes(32);
  ASSERT_TRUE(WriteFileAtomic(dir + "/secret.bin", secret, 0600).ok());
  const std::string other_name = "000b" + HexEncode(Sha256("not this TPM's AK"));
  for (const auto& [file, name] :
       {std::pair(std::string("/right.bin"), (*info)["ak_name"].get<std::string>()),
        std::pair(std::string("/wrong.bin"), other_name)}) {
    auto made = RunTpmTool({"tpm2_makecredential", "-T", "none", "-u", dir + "/ek.pub", "-s",
                            dir + "/secret.bin", "-n", name, "-o", dir + file},
                           tpm_->tcti());
    ASSERT_TRUE(made.ok() && made->exit_code == 0) << (made.ok() ? made->err : "");
  }
  // tpm2-tools' file: an 8-byte header, the TPM2B_ID_OBJECT, the
  // TPM2B_ENCRYPTED_SECRET.
  auto request = [&](const std::string& file) {
    const std::string bytes = *ReadFileLimited(dir + file, 4096);
    const size_t blob = 2 + ((static_cast<uint8_t>(bytes[8]) << 8) | static_cast<uint8_t>(bytes[9]));
    return Json{{"op", "activate_credential"},
                {"credential_blob", Base64Encode(bytes.substr(8, blob))},
                {"encrypted_secret", Base64Encode(bytes.substr(8 + blob))}};
  };
  auto wrong = Call(socket_, request("/wrong.bin"));
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ(CodeOf(*wrong), "InvalidArgument") << wrong->dump();
  EXPECT_NE(wrong->dump().find("refuses the credential"), std::string::npos) << wrong->dump();
  auto right = Call(socket_, request("/right.bin"));
  ASSERT_TRUE(right.ok()) << right.status();
  ASSERT_EQ(CodeOf(*right), "ok") << right->dump();
  EXPECT_EQ(*Base64Decode((*right)["credential"].get<std::string>()), secret);
  auto cert = Call(socket_, CertifyRequest(RandomHex(32)));
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(CodeOf(*cert), "ok") << cert->dump();
  // The released credential appears in no log line.
  EXPECT_EQ(daemon_->stderr_text().find(Base64Encode(secret)), std::string::npos);
}

}  // namespace
}  // namespace fdattest
