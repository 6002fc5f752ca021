#!/usr/bin/env bash
# Runs every fdattest benchmark against an existing build (builds nothing).
# Usage: bench/run_all.sh BUILD_DIR        (`make bench` runs: bench/run_all.sh build)
# Results: BUILD_DIR/bench-results/ (raw hyperfine / Google Benchmark JSON plus
# summary.txt, the table printed at the end). See docs/BENCHMARKS.md.
# Env: SYSCALL_ROUNDS (9), SYSCALL_REPS (3), SYSCALL_MIN_TIME (0.2 s), SYSCALL_CPU (last),
#      LAUNCH_RUNS (500), LAUNCH_WARMUP (50), VERIFY_REPS (5),
#      VERIFY_MIN_TIME (0.5 s), VERIFY_CPU (0), OBSERVE_LAUNCHES (300),
#      REATTEST_ROUNDS (200),
#      SERVICE_BENCH (0; 1 also runs bench/service_bench.sh, the verifier service
#      under wrk: about 25 minutes, its own SERVICE_* knobs).
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
bin=$build/bin
out=$build/bench-results
mkdir -p "$out"
for tool in jq taskset; do command -v "$tool" >/dev/null || { echo "run_all: $tool not found" >&2; exit 1; }; done
for b in syscall_cost_bench analyzer_bench fdlaunch; do [[ -x $bin/$b ]] || { echo "run_all: $bin/$b missing (build first)" >&2; exit 1; }; done

status=0
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$out"/launch_overhead.* "$out"/syscall_cost.* "$out/summary.txt"
echo "== launch overhead (hyperfine) =="
if ! "$here/launch_overhead.sh" "$build" "$out"; then
  echo "run_all: launch overhead benchmark FAILED" >&2
  status=1
fi

# Per-syscall cost: one process per variant (a seccomp filter cannot be
# removed), variants interleaved over several rounds so that background load
# on the machine hits them alike, every process pinned to the same CPU. Each
# ratio is the median over rounds of that round's ratio (each variant's median
# repetition in the round), which cancels drift between rounds; the per-variant
# figures are medians over all repetitions.
rounds=${SYSCALL_ROUNDS:-9}
reps=${SYSCALL_REPS:-3}
min_time=${SYSCALL_MIN_TIME:-0.2}
# Default: the highest CPU this process may run on (its affinity list, e.g.
# "0-1" or "0,2-3").
cpu=${SYSCALL_CPU:-$(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' | tail -n 1 | sed 's/.*-//')}
variants=(none allow_all allow_all_uncached minimal_fd_check fdlaunch)
echo
echo "== per-syscall cost (Google Benchmark; $rounds rounds x $reps repetitions x ${min_time}s, CPU $cpu) =="
syscall_ok=1
for ((round = 1; round <= rounds; round++)); do
  for v in "${variants[@]}"; do
    if ! taskset -c "$cpu" "$bin/syscall_cost_bench" --variant="$v" --benchmark_repetitions="$reps" \
        --benchmark_min_time="$min_time" --benchmark_context=round="$round" --benchmark_format=json \
        >"$out/syscall_cost.$v.$round.json" 2>"$out/syscall_cost.$v.$round.err"; then
      echo "run_all: syscall_cost_bench --variant=$v FAILED:" >&2
      cat "$out/syscall_cost.$v.$round.err" >&2
      status=1
      syscall_ok=0
      break 2
    fi
  done
done

if [[ $syscall_ok -eq 1 ]]; then
  # -> {"BM_Read1": {"median": {"none": {"cpu": ns, "real": ns, "n": reps}, ...},
  #                  "ratio": {"fdlaunch/allow_all": r, ...}}, ...}
  # CPU time (on a shared 2-core machine, real time also counts time spent
  # preempted). A ratio is the median over rounds of that round's ratio of
  # each variant's median repetition; rounds missing either variant are left
  # out (every round has all of them unless a run failed, which stops above).
  jq -s '
    def median: sort | length as $n
      | if $n == 0 then null elif $n % 2 == 1 then .[($n - 1) / 2]
        else (.[$n / 2 - 1] + .[$n / 2]) / 2 end;
    def ns($t; $u): if $u == "ns" then $t elif $u == "us" then $t * 1000
                    else error("unexpected time unit \($u)") end;
    def pairs: [["fdlaunch", "allow_all"], ["allow_all", "none"], ["fdlaunch", "allow_all_uncached"],
                ["minimal_fd_check", "allow_all"], ["fdlaunch", "minimal_fd_check"],
                ["fdlaunch", "none"]];
    [ .[] | .context.variant as $v | .context.round as $r | .benchmarks[]
      | select(.run_type == "iteration" and (.error_occurred | not))
      | {b: .run_name, v: $v, r: $r, cpu: ns(.cpu_time; .time_unit), real: ns(.real_time; .time_unit)} ]
    | group_by(.b) | map(
        (group_by(.r) | map(group_by(.v) | map({key: .[0].v, value: (map(.cpu) | median)})
          | from_entries)) as $rounds
        | {key: .[0].b, value: {
            median: (group_by(.v) | map({key: .[0].v, value:
              {cpu: (map(.cpu) | median), real: (map(.real) | median), n: length}}) | from_entries),
            ratio: (pairs | map(. as [$a, $c] | {key: "\($a)/\($c)", value:
              ([$rounds[] | select(.[$a] != null and .[$c] != null) | .[$a] / .[$c]] | median)})
              | from_entries)}})
    | from_entries' "$out"/syscall_cost.*.*.json >"$out/syscall_cost.medians.json"
  jq -r '
    def r1: if . == null then "n/a" else (. * 10 | round) / 10 end;
    def r3: if . == null then "n/a" else (. * 1000 | round) / 1000 end;
    "per-syscall cost, median CPU ns per call; ratios are medians of per-round ratios (syscall_cost.medians.json)",
    (to_entries[] | .key as $b | (.value.median | map_values(.cpu)) as $m | .value.ratio as $q
     | "  \($b): none \($m.none | r1)  allow_all \($m.allow_all | r1)  allow_all_uncached \($m.allow_all_uncached | r1)  minimal_fd_check \($m.minimal_fd_check | r1)  fdlaunch \($m.fdlaunch | r1)",
       (if $b == "BM_Read1" then
          "    fdlaunch / minimal_fd_check   = \($q["fdlaunch/minimal_fd_check"] | r3)   (target <= 1.05: \(if ($q["fdlaunch/minimal_fd_check"] // 99) <= 1.05 then "met" else "MISSED" end))",
          "    minimal_fd_check / allow_all  = \($q["minimal_fd_check/allow_all"] | r3)   (a minimal filter that checks read'"'"'s fd)"
        else empty end),
       "    fdlaunch / allow_all          = \($q["fdlaunch/allow_all"] | r3)",
       "    allow_all / none              = \($q["allow_all/none"] | r3)",
       "    fdlaunch / allow_all_uncached = \($q["fdlaunch/allow_all_uncached"] | r3)",
       "    fdlaunch / none               = \($q["fdlaunch/none"] | r3)")
  ' "$out/syscall_cost.medians.json" | tee "$out/syscall_cost.txt"
  for v in allow_all allow_all_uncached minimal_fd_check fdlaunch; do
    echo "  $v filter: $(jq -r .context.filter_instructions "$out/syscall_cost.$v.1.json") BPF instructions"
  done | tee -a "$out/syscall_cost.txt"
fi
find "$out" -name 'syscall_cost.*.err' -empty -delete

# BPF analyzer: the proof the launcher runs before installing its filter,
# against libseccomp's compile of the same filter (both paid per launch), and
# emulator evaluations against a bare syscall.
echo
echo "== BPF analyzer (Google Benchmark) =="
if "$bin/analyzer_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_min_time=0.2 --benchmark_format=json >"$out/analyzer.json" 2>"$out/analyzer.err"; then
  jq -r '
    def med($n): .benchmarks[] | select(.run_name == $n and .aggregate_name == "median");
    def r2: (. * 100 | round) / 100;
    "BPF analyzer (medians of 5)",
    (med("BM_ProveFilter/0") | "  phi-etl reference profile (5 fds): prove \(.cpu_time / 1000 | r2) ms; read on fd 0: \(.read_insns) instructions, write on fd 1: \(.write_insns) instructions (target <= 12: \(if (.read_insns <= 12 and .write_insns <= 12) then "met" else "MISSED" end))"),
    ([5, 16, 32][] as $f | med("BM_ProveFilter/\($f)") as $p | med("BM_CompileFilter/\($f)") as $c
     | "  \($f) fds (r, w, rw, a, ...): prove \($p.cpu_time / 1000 | r2) ms (\($p.instructions) instructions, \($p.paths) paths), libseccomp compile \($c.cpu_time / 1000 | r2) ms, prove / compile = \(($p.cpu_time / $c.cpu_time) | r2)",
       "    read on fd 0: \($p.read_insns) instructions, write on fd 1: \($p.write_insns) instructions"),
    (med("BM_ProveFilter/32") | "  largest launcher filter (32 fds) proven in \(.cpu_time / 1000 | r2) ms (target < 5 ms: \(if .cpu_time < 5000 then "met" else "MISSED" end))"),
    (med("BM_ExplainJsetChain/32") as $j | med("BM_ExplainJsetChain/16") as $h
     | med("BM_ExplainLauncherFilter") as $l
     | "  explain a chain of 32 single-bit tests: \($j.cpu_time | r2) ms (target < 100 ms: \(if $j.cpu_time < 100 then "met" else "MISSED" end)); / explain of the phi-etl launcher filter (\($l.cpu_time | r2) ms) = \(($j.cpu_time / $l.cpu_time) | r2); 32 bits / 16 bits = \(($j.cpu_time / $h.cpu_time) | r2) (2^16 = 65536 if it were exponential)"),
    (med("BM_EmulatorEvaluate") as $e | med("BM_BareSyscall") as $s
     | "  emulator: \($e.items_per_second / 1e6 | r2) M evaluations/s; one evaluation = \(($e.cpu_time / $s.cpu_time) | r2) x a bare getppid() syscall")
  ' "$out/analyzer.json" | tee "$out/analyzer.txt"
else
  echo "run_all: analyzer_bench FAILED:" >&2
  cat "$out/analyzer.err" >&2
  status=1
fi

# Attestor: fdattestd's measure (log append + fsync, NV extend) and certify
# (NV_Certify) over its socket against the same operations with tpm2-tools
# commands, on one swtpm in one run. Env: ATTESTOR_MEASURES (200),
# ATTESTOR_CERTIFIES (200).
echo
echo "== attestor (fdattestd vs tpm2-tools on swtpm) =="
rm -f "$out"/attestor.*
if "$here/attestor_bench.sh" "$build" "$out"; then
  jq -r '
    def r2: (. * 100 | round) / 100;
    def r3: (. * 1000 | round) / 1000;
    def ms: "\(.median_ms | r2) ms (p90 \(.p90_ms | r2))";
    "attestor latency on swtpm, median (p90); \(.measures) measures and \(.certifies) certifies per side; records of \(.record_bytes) bytes; log on \(.context.log_filesystem)",
    "  (a measure is the launch_separator of an observed launch; the launch op itself: \(.fdattestd.launch | ms))",
    "  measure  fdattestd \(.fdattestd.measure | ms)   tpm2-tools \(.tpm2_tools.measure | ms)   fdattestd / tpm2-tools = \(.ratios.measure_median | r3) (tpm2-tools \(1 / .ratios.measure_median | r2) x slower)",
    "    tpm2-tools measure = append + fsync \(.tpm2_tools.append_fsync | ms) + tpm2_nvextend \(.tpm2_tools.nvextend | ms)",
    "  certify  fdattestd \(.fdattestd.certify | ms)   tpm2_nvcertify \(.tpm2_tools.certify | ms)   fdattestd / tpm2-tools = \(.ratios.certify_median | r3) (tpm2-tools \(1 / .ratios.certify_median | r2) x slower)",
    "    plus tpm2_flushcontext -t after each tpm2_nvcertify (no resource manager): \(.tpm2_tools.flushcontext | ms)"
  ' "$out/attestor.json" | tee "$out/attestor.txt"
else
  echo "run_all: attestor benchmark FAILED" >&2
  status=1
fi

# Observation (docs/BENCHMARKS.md section 10): the launcher's final step on a
# real child without and with the attestor's hold (SeizeChild, WaitForExec,
# Observe, the claim check, Detach), alternating in one run; Observe() alone.
# Env: OBSERVE_LAUNCHES (300).
echo
echo "== observation: what it adds to a launch (Google Benchmark) =="
if [[ -x $bin/observe_bench ]] && "$bin/observe_bench" --benchmark_format=json \
    >"$out/observe.json" 2>"$out/observe.err"; then
  jq -r '
    def r2: (. * 100 | round) / 100;
    def ms: . / 1000 | r2;
    def b($n): .benchmarks[] | select(.run_name | startswith($n));
    b("BM_Launch") as $l | b("BM_Observe") as $o | b("BM_CheckObservation") as $c
    | "observation of a launch, \($l.launches_per_variant) launches per variant, alternating (wall time, fork to reap)",
      "  baseline (launcher final step, no hold): median \($l.baseline_p50_us | ms) ms, p90 \($l.baseline_p90_us | ms) ms; CPU \($l.baseline_cpu_p50_us | ms) ms",
      "  observed (hold, exec stop, Observe, check, detach): median \($l.observed_p50_us | ms) ms, p90 \($l.observed_p90_us | ms) ms; CPU \($l.observed_cpu_p50_us | ms) ms",
      "  observation adds: median \($l.added_p50_us | ms) ms (per-pair median \($l.pair_diff_p50_us | ms) ms), p90 \($l.added_p90_us | ms) ms, CPU \($l.added_cpu_p50_us | ms) ms; observed / baseline \($l.ratio_p50 | r2) (target <= 0.5 ms: \(if $l.added_p50_us <= 500 then "met" else "MISSED" end))",
      "    parts (medians): seize \($l.seize_p50_us | ms) ms, go to exec stop \($l.go_to_exec_stop_p50_us | ms) ms, Observe \($l.observe_p50_us | ms) ms, check \($l.check_p50_us | ms) ms, detach \($l.detach_p50_us | ms) ms",
      "  Observe() alone on a held child: median \($o.p50_us | ms) ms, p90 \($o.p90_us | ms) ms; the claim check alone \($c.real_time | r2) us"
  ' "$out/observe.json" | tee "$out/observe.txt"
else
  echo "run_all: observe_bench FAILED:" >&2
  cat "$out/observe.err" >&2 2>/dev/null || true
  status=1
fi

# Re-attestation on swtpm: reattest and what `fdlaunch attest` asks (reattest
# + certify + log + info) beside certify and certify + log + info, rotating
# on one running workload (bench/reattest_bench.sh). Env: REATTEST_ROUNDS (200).
echo
echo "== re-attestation round trip (fdattestd on swtpm) =="
rm -f "$out"/reattest.*
if "$here/reattest_bench.sh" "$build" "$out"; then
  jq -r '
    def r2: (. * 100 | round) / 100;
    def ms: "\(.median_ms | r2) ms (p90 \(.p90_ms | r2))";
    "re-attestation on swtpm, median (p90); \(.rounds) rounds of the four, rotating; log on \(.context.log_filesystem)",
    "  reattest \(.reattest | ms)   certify \(.certify | ms)   reattest / certify = \(.ratios.reattest_over_certify_median | r2) (target reattest <= 3 ms: \(if .reattest.median_ms <= 3 then "met" else "MISSED" end))",
    "  attest (reattest + certify + log + info) \(.attest | ms)   certify + log + info \(.certify_log_info | ms)   ratio \(.ratios.attest_over_certify_log_info_median | r2), adds \(.added_ms.attest_minus_certify_log_info_median | r2) ms",
    "  the launch itself, once: hold \(.launch_once_ms.hold | r2) ms, launch \(.launch_once_ms.launch | r2) ms, separator \(.launch_once_ms.separator | r2) ms, release \(.launch_once_ms.release | r2) ms; \(.log_records_served_at_end) records served by the last log"
  ' "$out/reattest.json" | tee "$out/reattest.txt"
else
  echo "run_all: re-attestation benchmark FAILED" >&2
  status=1
fi

# Verifier: Verify() of a genuine evidence bundle (made on a private swtpm)
# per second on one core, against ECDSA P-256 verifications per second in the
# same run.
echo
echo "== verifier (Google Benchmark, one core) =="
if ! "$here/verify_bench.sh" "$build" "$out"; then
  echo "run_all: verifier benchmark FAILED" >&2
  status=1
fi

# Audit log: inclusion and consistency proof generation from the SQLite node
# table at 10 M leaves against 1 000 leaves and one point read, in one run
# (bench/merkle_bench.cc; its databases are built once into
# BUILD_DIR/bench-data, which takes minutes the first time).
echo
echo "== audit log proofs (Google Benchmark) =="
if [[ -x $bin/merkle_bench ]] && "$bin/merkle_bench" --benchmark_format=json \
    >"$out/merkle.json" 2>"$out/merkle.err"; then
  jq -r '
    def r1: (. * 10 | round) / 10;
    def b($n): .benchmarks[] | select(.run_name == $n);
    "audit log proofs from SQLite (per proof, p50 / p99 over \(b("BM_InclusionProof/10000000/iterations:20000").iterations) random requests each)",
    (.benchmarks[] | "  \(.run_name | sub("/iterations:[0-9]+"; "")): p50 \(.p50_us | r1) us, p99 \(.p99_us | r1) us, max \(.max_us | r1) us; CPU p50 \(.cpu_p50_us | r1) us, p99 \(.cpu_p99_us | r1) us"),
    (b("BM_InclusionProof/10000000/iterations:20000") as $i | b("BM_ConsistencyProof/10000000/iterations:20000") as $c
     | "  target p99 <= 1 ms at 10 M leaves: inclusion \(if $i.p99_us <= 1000 then "met" else "MISSED" end), consistency \(if $c.p99_us <= 1000 then "met" else "MISSED" end)",
       "  node table: \($i.bytes_per_leaf | r1) bytes per leaf")
  ' "$out/merkle.json" | tee "$out/merkle.txt"
else
  echo "run_all: merkle_bench FAILED:" >&2
  cat "$out/merkle.err" >&2 2>/dev/null || true
  status=1
fi

# Audit log: durable appends through the store with group commit against one
# transaction per append, with and without the three sealed blobs
# (bench/audit_append_bench.cc).
echo
echo "== audit log appends (Google Benchmark) =="
if [[ -x $bin/audit_append_bench ]] && "$bin/audit_append_bench" --benchmark_format=json \
    >"$out/audit_append.json" 2>"$out/audit_append.err"; then
  jq -r '
    def r0: . | round;
    def b($n): .benchmarks[] | select(.name | startswith($n));
    "audit log appends (durable CommitAttestation with a leaf; per entry: database + WAL after a checkpoint)",
    (.benchmarks[] | "  \(.name | sub("(/[0-9]+)+/iterations:[0-9]+/real_time"; "")): \(.items_per_second | r0) appends/s, \(.leaves_per_txn | r0) per transaction, \(.bytes_per_entry | r0) bytes per entry (log tables \(.log_bytes_per_entry // 0 | r0))"),
    (b("DurableAppend/group_commit/no_blobs") as $g
     | "  target >= 20000 durable appends/s with group commit: \(if $g.items_per_second >= 20000 then "met" else "MISSED" end)")
  ' "$out/audit_append.json" | tee "$out/audit_append.txt"
else
  echo "run_all: audit_append_bench FAILED:" >&2
  cat "$out/audit_append.err" >&2 2>/dev/null || true
  status=1
fi
# Audit log: what the archive and receipt add to POST /v1/attest, the attest
# handler in-process from 16 threads over the SQLite store, without and with
# the archive, alternating over 3 rounds (bench/attest_receipt_bench.cc).
# Each figure is the median over rounds; each ratio the median of the rounds'
# ratios.
echo
echo "== audit log: the receipt's cost on POST /v1/attest (Google Benchmark) =="
if [[ -x $bin/attest_receipt_bench ]] && "$bin/attest_receipt_bench" --benchmark_format=json \
    >"$out/attest_receipt.json" 2>"$out/attest_receipt.err"; then
  jq -r '
    def median: sort | length as $n
      | if $n == 0 then null elif $n % 2 == 1 then .[($n - 1) / 2]
        else (.[$n / 2 - 1] + .[$n / 2]) / 2 end;
    def r2: (. * 100 | round) / 100;
    def r3: (. * 1000 | round) / 1000;
    [.benchmarks[] | {archive: (.run_name | test("archive:1")), round: (.run_name | capture("round:(?<r>[0-9]+)").r)} + .] as $b
    | def med($a; $k): [$b[] | select(.archive == $a) | .[$k]] | median;
      def ratio($k): [$b | group_by(.round)[] | select(length == 2)
                      | (map(select(.archive)) | .[0][$k]) / (map(select(.archive | not)) | .[0][$k])] | median;
    "POST /v1/attest in-process, \(.context.threads) threads x \(.context.requests_per_thread) requests, \([$b[] | .round] | unique | length) rounds, data on \(.context.data_filesystem); medians over rounds",
    "  baseline (no archive): p50 \(med(false; "p50_ms") | r2) ms, p90 \(med(false; "p90_ms") | r2) ms, p99 \(med(false; "p99_ms") | r2) ms; \(med(false; "requests_per_s") | round) requests/s; handler CPU p50 \(med(false; "cpu_p50_ms") | r3) ms; process CPU \(med(false; "process_cpu_ms_per_request") | r3) ms/request; \(med(false; "writes_per_txn") | r2) writes per transaction",
    "  archive + receipt:     p50 \(med(true; "p50_ms") | r2) ms, p90 \(med(true; "p90_ms") | r2) ms, p99 \(med(true; "p99_ms") | r2) ms; \(med(true; "requests_per_s") | round) requests/s; handler CPU p50 \(med(true; "cpu_p50_ms") | r3) ms; process CPU \(med(true; "process_cpu_ms_per_request") | r3) ms/request; \(med(true; "writes_per_txn") | r2) writes per transaction",
    "  the receipt adds: p50 +\(med(true; "p50_ms") - med(false; "p50_ms") | r2) ms (x \(ratio("p50_ms") | r2)), p99 +\(med(true; "p99_ms") - med(false; "p99_ms") | r2) ms (x \(ratio("p99_ms") | r2)); throughput x \(ratio("requests_per_s") | r3); process CPU +\(med(true; "process_cpu_ms_per_request") - med(false; "process_cpu_ms_per_request") | r3) ms/request",
    "  database after \(med(true; "leaves")) archived requests: \(med(true; "db_bytes") / 1048576 | r2) MiB (\(med(true; "db_bytes_per_request") | round) bytes/request) against \(med(false; "db_bytes") / 1048576 | r2) MiB (\(med(false; "db_bytes_per_request") | round)) without: +\(med(true; "db_bytes_per_request") - med(false; "db_bytes_per_request") | round) bytes/request (the one evidence bundle of \(med(true; "evidence_bytes")) bytes is stored once: add that per request for distinct bundles)"
  ' "$out/attest_receipt.json" | tee "$out/attest_receipt.txt"
else
  echo "run_all: attest_receipt_bench FAILED:" >&2
  cat "$out/attest_receipt.err" >&2 2>/dev/null || true
  status=1
fi

# Verifier service: fdverifierd under wrk with genuine single-use bundles,
# beside the offline rate; long (bundles for a 10-minute soak), so only when
# asked for.
if [[ ${SERVICE_BENCH:-0} = 1 ]]; then
  echo
  echo "== verifier service (wrk against fdverifierd) =="
  if ! "$here/service_bench.sh" "$build" "$out"; then
    echo "run_all: verifier service benchmark FAILED" >&2
    status=1
  fi
fi

{
  echo "fdattest benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, kernel $(uname -r)"
  echo "load average (1/5/15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
  [[ -f $out/launch_overhead.txt ]] && cat "$out/launch_overhead.txt"
  [[ -f $out/syscall_cost.txt ]] && cat "$out/syscall_cost.txt"
  [[ -f $out/analyzer.txt ]] && cat "$out/analyzer.txt"
  [[ -f $out/attestor.txt ]] && cat "$out/attestor.txt"
  [[ -f $out/observe.txt ]] && cat "$out/observe.txt"
  [[ -f $out/reattest.txt ]] && cat "$out/reattest.txt"
  [[ -f $out/verify.txt ]] && cat "$out/verify.txt"
  [[ -f $out/merkle.txt ]] && cat "$out/merkle.txt"
  [[ -f $out/audit_append.txt ]] && cat "$out/audit_append.txt"
  [[ -f $out/attest_receipt.txt ]] && cat "$out/attest_receipt.txt"
  [[ ${SERVICE_BENCH:-0} = 1 && -f $out/service.txt ]] && cat "$out/service.txt"
} >"$out/summary.txt"
echo
echo "== summary ($out/summary.txt) =="
cat "$out/summary.txt"
exit $status
