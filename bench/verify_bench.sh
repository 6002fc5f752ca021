#!/usr/bin/env bash
# Verifier throughput (docs/BENCHMARKS.md, "5. Verifier"): makes one genuine
# evidence bundle on a private swtpm (provision.sh, fdattestd, fdlaunch of
# busybox sha256sum with the phi-checksum profile and a fresh nonce), writes
# examples/policies/hipaa-phi-etl.json with this machine's digests patched in,
# checks the bundle with `fdattest verify`, stops the TPM and the daemon, and
# runs verify_bench on one core (taskset) with the bundle, the AK, the TPM CA,
# the policy and the nonce. Cleans up on exit.
# Usage: bench/verify_bench.sh BUILD_DIR [OUT_DIR]
# Writes OUT_DIR/verify.json (Google Benchmark, aggregates of the repetitions),
# OUT_DIR/verify.txt (the summary printed at the end) and OUT_DIR/verify.report.txt
# (`fdattest verify`'s report for the bundle).
# Env: VERIFY_REPS (5), VERIFY_MIN_TIME (0.5 s), VERIFY_CPU (0).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(cd "$1" && pwd)
out=${2:-$build/bench-results}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$build/bin
reps=${VERIFY_REPS:-5}
min_time=${VERIFY_MIN_TIME:-0.5}
cpu=${VERIFY_CPU:-0}
busybox=/bin/busybox

die() { echo "verify_bench: $*" >&2; exit 1; }
# Medians need repetitions (Google Benchmark reports no aggregates for one).
[[ $reps =~ ^[0-9]+$ && $reps -ge 2 ]] || die "VERIFY_REPS must be 2 or more"
for tool in jq taskset swtpm swtpm_setup; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
for b in fdattestd fdlaunch fdattest verify_bench; do
  [[ -x $bin/$b ]] || die "$bin/$b missing (build first)"
done
[[ -x $busybox ]] || die "$busybox not found (Debian package busybox-static)"

# Short, private and absolute: unix socket paths hold 107 characters.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fdattest-vbench.XXXXXX")
# The job's input and output on tmpfs when there is one: memory only, which
# the policy below accepts for the output (storage "not_persisted", true of
# tmpfs); elsewhere R3 and R7 fail and the verdict says so. The audit log is
# on the disk under $tmp (storage "durable").
work=$(mktemp -d /dev/shm/fdattest-vbench.XXXXXX 2>/dev/null || mktemp -d "$tmp/work.XXXXXX")
daemon_pid=""
cleanup() {
  if [[ -n $daemon_pid ]]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  "$root/tools/swtpm/stop.sh" "$tmp/tpm" >/dev/null 2>&1 || true
  rm -rf "$tmp" "$work"
}
trap cleanup EXIT
rm -f "$out"/verify.json "$out"/verify.txt "$out"/verify.report.txt "$out"/verify.*.err

# --- a genuine bundle --------------------------------------------------------
"$root/tools/swtpm/provision.sh" "$tmp/template" "$tmp/pki" >/dev/null
mkdir -p "$tmp/tpm"
cp "$tmp/template/tpm2-00.permall" "$tmp/tpm/"
"$root/tools/swtpm/start.sh" "$tmp/tpm"
"$bin/fdattestd" --socket "$tmp/attestor.sock" --state-dir "$tmp/state" \
  --tcti "swtpm:path=$tmp/tpm/sock" 2>"$tmp/fdattestd.err" &
daemon_pid=$!
for _ in $(seq 200); do [[ -S $tmp/attestor.sock ]] && break; sleep 0.05; done
[[ -S $tmp/attestor.sock ]] || die "fdattestd did not start: $(cat "$tmp/fdattestd.err")"

for i in $(seq 1 500); do echo "MRN$((100000 + i)),Patient $i,ICD10-E11.$((i % 10))"; done >"$work/patients.csv"
echo "audit log opened" >"$tmp/audit.log"
sed "s|@DIR@|$work|g" "$root/examples/profiles/phi-checksum.json" \
  | jq --arg log "$tmp/audit.log" '.fds[2].open = $log' >"$tmp/profile.json"
nonce=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
# A clean environment and no inherited descriptors beyond 0-2, so the
# manifest describes the job rather than whatever runs this script.
env -i PATH=/usr/bin:/bin bash -c \
  'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@"' _ \
  "$bin/fdlaunch" --profile "$tmp/profile.json" --attestor "$tmp/attestor.sock" \
  --evidence-out "$tmp/evidence.json" --nonce "$nonce" -- "$busybox" sha256sum \
  </dev/null >/dev/null 2>"$tmp/fdlaunch.err" \
  || die "fdlaunch failed: $(cat "$tmp/fdlaunch.err")"
[[ $(cut -d' ' -f1 "$work/checksum.txt") = $(sha256sum <"$work/patients.csv" | cut -d' ' -f1) ]] \
  || die "the job's checksum is wrong"
cp "$tmp/state/ak.pub" "$tmp/ak.pub"
# The benchmark is offline: nothing else of ours runs while it measures.
kill "$daemon_pid" && wait "$daemon_pid" || true
daemon_pid=""
"$root/tools/swtpm/stop.sh" "$tmp/tpm"

# --- the policy: the example, with this machine's digests ---------------------
jq -r .manifest "$tmp/evidence.json" | base64 -d >"$tmp/manifest.json"
jq --slurpfile m "$tmp/manifest.json" '
  ($m[0]) as $m
  | .workload.exe_sha256 = [$m.exe.sha256]
  | .workload.launcher_sha256 = [$m.launcher.sha256]
  | .fd_roles |= map(if .role == "phi-input"
      then .content_sha256 = [$m.fds[] | select(.role == "phi-input") | .content_sha256]
         | .immutability += ["launch_digest"]
      elif .role == "phi-output"
      then .storage = ["not_persisted"] | del(.encryption)
      else . end)
' "$root/examples/policies/hipaa-phi-etl.json" >"$tmp/policy.json"

set +e
"$bin/fdattest" verify "$tmp/evidence.json" --policy "$tmp/policy.json" --ak "$tmp/ak.pub" \
  --tpm-ca "$tmp/pki/tpm-vendor-ca.pem" --nonce "$nonce" >"$out/verify.report.txt" 2>&1
rc=$?
set -e
[[ $rc -le 2 ]] || die "fdattest verify: exit $rc (broken evidence or error): $(head -n 3 "$out/verify.report.txt")"

# --- the benchmark -----------------------------------------------------------
taskset -c "$cpu" "$bin/verify_bench" --evidence="$tmp/evidence.json" --ak="$tmp/ak.pub" \
  --tpm-ca="$tmp/pki/tpm-vendor-ca.pem" --policy="$tmp/policy.json" --nonce="$nonce" \
  --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true \
  --benchmark_min_time="$min_time" --benchmark_format=json \
  >"$tmp/verify.json" 2>"$tmp/verify_bench.err" \
  || die "verify_bench failed: $(cat "$tmp/verify_bench.err")"
jq --arg fs "$(stat -f -c %T "$work")" --arg cpu "$cpu" --arg rc "$rc" \
  '.context += {job_filesystem: $fs, pinned_cpu: $cpu, fdattest_verify_exit: $rc}' \
  "$tmp/verify.json" >"$out/verify.json"

jq -r --arg reps "$reps" '
  def med($n): .benchmarks[] | select(.run_name == $n and .aggregate_name == "median");
  def r2: (. * 100 | round) / 100;
  def r3: (. * 1000 | round) / 1000;
  def us: "\(.cpu_time | r2) µs";
  med("BM_EcdsaP256Verify") as $e | med("BM_VerifyCached") as $c
  | "verifier throughput on one core (cpu \(.context.pinned_cpu)), medians of \($reps) repetitions",
    "  bundle: \(.context.evidence_bytes) bytes, register \(.context.register), \(.context.event_log_records) log records, \(.context.filter_instructions)-instruction filter; verdict \(.context.verdict) (\(.context.rules_not_passed) rules not passed)",
    "  ECDSA P-256 verify  \($e.items_per_second | round) /s (\($e | us))",
    "  Verify, cached      \($c.items_per_second | round) /s (\($c | us))   cached / ECDSA = \(($c.items_per_second / $e.items_per_second) | r3)   (target >= 0.5: \(if ($c.items_per_second / $e.items_per_second) >= 0.5 then "met" else "MISSED" end))",
    (med("BM_VerifyUncached") | "  Verify, uncached    \(.items_per_second | round) /s (\(us))   uncached / ECDSA = \((.items_per_second / $e.items_per_second) | r3)"),
    (med("BM_VerifyCachedNoTpmCa") | "  Verify, cached, no TPM CA  \(.items_per_second | round) /s (\(us))   / ECDSA = \((.items_per_second / $e.items_per_second) | r3)"),
    "  parts of one Verify() (CPU time, median):",
    (["BM_EvidenceIdentity", "BM_EvidenceParse", "BM_EkCertificateCheck", "BM_AttestationCheck",
      "BM_EventLogReplay", "BM_ManifestParse", "BM_ProveFilter", "BM_EvaluatePolicy"][] as $n
     | med($n) | "    \($n | ltrimstr("BM_")): \(us) (\((.cpu_time / $e.cpu_time) | r2) x an ECDSA verify)")
' "$out/verify.json" | tee "$out/verify.txt"
