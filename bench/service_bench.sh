#!/usr/bin/env bash
# Verifier service load (docs/BENCHMARKS.md, "Verifier service"): fdverifierd
# on a fresh SQLite data directory with the development PKI, loaded by wrk
# (bench/service_attest.lua) over TLS keep-alive on this machine, with
# genuine, distinct, single-use evidence bundles, each a real TPM
# certification on a nonce the service issued.
#
# Many attesters, one connection each: the service refuses evidence whose
# TPM clock is behind the last it recorded for that attester (step 4b), so
# one attester's bundles must reach it in the order they were certified and
# one at a time, as they do from a real host. So SERVICE_ATTESTERS private
# swtpm TPMs are provisioned (each its own EK) with an fdattestd each, each
# enrolled (fdlaunch enroll) and each running one measured launch of the
# phi-checksum job (fdlaunch --attestor --manifest-out); wrk runs one thread
# with one connection per attester, and thread i sends only attester i's
# bundles, in certification order.
#
# Set-up: fdverifierd started; the policy examples/policies/hipaa-phi-etl.json
# with this machine's digests (as bench/verify_bench.sh) PUT as
# "hipaa-phi-etl"; per phase, nonces collected from /v1/challenge
# (bench/service_challenge.lua) and certified by evidence_factory --nonces,
# all attesters at once; one bundle of every attester posted with curl (all
# must get the same verdict, with no failed step: it is the expected verdict).
# Then every fdattestd and swtpm is stopped, and, with nothing else of ours
# running:
#   1. offline: verify_bench (BM_VerifyCached, BM_EcdsaP256Verify) on one core
#      with one of the bundles, the baseline of the same run;
#   2. max: wrk unpaced for SERVICE_MAX_SECONDS;
#   3. fixed: wrk paced at SERVICE_FIXED_RATE (default half the max rate
#      measured in 2., at least 1000/s) for SERVICE_FIXED_SECONDS;
#   4. soak: wrk paced at SERVICE_SOAK_RATE for SERVICE_SOAK_SECONDS, with
#      fdverifierd's VmRSS sampled every SERVICE_RSS_INTERVAL seconds.
# Every response is checked (status 200 and the expected verdict); a run
# with any other answer or a socket error fails the script, as does a max
# run that used up a thread's bundles (its rate would be wrong).
#
# Usage: bench/service_bench.sh BUILD_DIR [OUT_DIR]
# Writes OUT_DIR/service.json (everything), OUT_DIR/service.txt (the summary
# printed at the end), service.{max,fixed,soak}.wrk.txt (wrk's output),
# service.soak.rss.tsv (seconds, VmRSS kB), service.metrics.{before,max,fixed,soak}.txt
# (/metrics after each phase), service.check.json (one checked bundle's
# result), service.offline.json (verify_bench).
# Env (defaults): SERVICE_ATTESTERS (16: TPMs, wrk threads and connections),
#   SERVICE_MAX_SECONDS (20), SERVICE_MAX_BUNDLES (60000), SERVICE_FIXED_RATE (see above),
#   SERVICE_FIXED_SECONDS (30), SERVICE_SOAK_RATE (500), SERVICE_SOAK_SECONDS (600),
#   SERVICE_RSS_INTERVAL (10), SERVICE_SERVER_THREADS (32), SERVICE_PERF (a file name:
#   perf record -g of fdverifierd during the max run, into OUT_DIR), VERIFY_REPS (3),
#   VERIFY_MIN_TIME (0.5), VERIFY_CPU (0).
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
busybox=/bin/busybox

attesters=${SERVICE_ATTESTERS:-16}
max_seconds=${SERVICE_MAX_SECONDS:-20}
max_bundles=${SERVICE_MAX_BUNDLES:-60000}
fixed_rate=${SERVICE_FIXED_RATE:-}
fixed_seconds=${SERVICE_FIXED_SECONDS:-30}
soak_rate=${SERVICE_SOAK_RATE:-500}
soak_seconds=${SERVICE_SOAK_SECONDS:-600}
rss_interval=${SERVICE_RSS_INTERVAL:-10}
server_threads=${SERVICE_SERVER_THREADS:-32}
perf_out=${SERVICE_PERF:-}
reps=${VERIFY_REPS:-3}
min_time=${VERIFY_MIN_TIME:-0.5}
cpu=${VERIFY_CPU:-0}
policy_id=hipaa-phi-etl
# The fixed-rate phase's floor: the target's rate.
fixed_floor=1000

die() { echo "service_bench: $*" >&2; exit 1; }
for v in attesters max_seconds max_bundles fixed_seconds soak_rate soak_seconds rss_interval \
         server_threads reps; do
  [[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive integer"
done
[[ -z $fixed_rate || $fixed_rate =~ ^[1-9][0-9]*$ ]] || die "SERVICE_FIXED_RATE must be a positive integer"
[[ $attesters -le $server_threads ]] || die "more attesters (connections) than server threads"
for tool in jq curl wrk taskset swtpm swtpm_setup openssl; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -z $perf_out ]] || command -v perf >/dev/null || die "perf not found (SERVICE_PERF)"
for b in fdattestd fdlaunch fdattest fdverifierd evidence_factory verify_bench; do
  [[ -x $bin/$b ]] || die "$bin/$b missing (build first)"
done
[[ -x $busybox ]] || die "$busybox not found (Debian package busybox-static)"

# Short, private and absolute: unix socket paths hold 107 characters.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fdattest-sbench.XXXXXX")
# The job's input and output on tmpfs when there is one (see verify_bench.sh).
work=$(mktemp -d /dev/shm/fdattest-sbench.XXXXXX 2>/dev/null || mktemp -d "$tmp/work.XXXXXX")
attestor_pids=()
verifier_pid=""
helper_pids=()
cleanup() {
  local p i
  for p in "${helper_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${attestor_pids[@]}" $verifier_pid; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  for ((i = 0; i < attesters; i++)); do
    "$root/tools/swtpm/stop.sh" "$tmp/a$i/tpm" >/dev/null 2>&1 || true
  done
  rm -rf "$tmp" "$work"
}
trap cleanup EXIT
rm -f "$out"/service.*
now() { date +%s.%N; }
elapsed() { jq -n --argjson a "$1" --argjson b "$2" '($b - $a) * 1000 | round / 1000'; }

# --- the service: fdverifierd on a fresh SQLite data directory -------------------
# The PKI is made by the first TPM's provisioning (certs/make-dev-pki.sh).
setup_start=$(now)
"$root/tools/swtpm/provision.sh" "$tmp/a0/template" "$tmp/pki" >/dev/null
"$bin/fdattest" key generate --out "$tmp/signing.jwk" >/dev/null
"$bin/fdattest" key secret --out "$tmp/secret.key"
"$bin/fdattest" key log --origin bench.fdattest.example/audit --out "$tmp/log.key" >/dev/null
# Nonces live the longest a challenge may ask (3600 s): the soak's last bundle
# is made long before it is sent. --max-nonces holds every bundle's nonce.
mkdir -m 700 "$tmp/data"
"$bin/fdverifierd" --listen 127.0.0.1:0 --data-dir "$tmp/data" \
  --tls-cert "$tmp/pki/server.pem" --tls-key "$tmp/pki/server.key" \
  --client-ca "$tmp/pki/client-ca.pem" --tpm-ca "$tmp/pki/tpm-vendor-ca.pem" \
  --signing-key "$tmp/signing.jwk" --secret-key-file "$tmp/secret.key" --log-key "$tmp/log.key" \
  --nonce-lifetime 3600 --max-nonces 2000000 \
  --threads "$server_threads" --max-inflight "$server_threads" 2>"$tmp/fdverifierd.log" &
verifier_pid=$!
port=""
for _ in $(seq 200); do
  port=$(jq -r 'select(.event == "start") | .port' "$tmp/fdverifierd.log" 2>/dev/null | head -n 1)
  [[ -n $port ]] && break
  sleep 0.05
done
[[ -n $port ]] || die "fdverifierd did not start: $(cat "$tmp/fdverifierd.log")"
url=https://127.0.0.1:$port
ca=(--cacert "$tmp/pki/server-ca.pem")
admin=("${ca[@]}" --cert "$tmp/pki/admin.pem" --key "$tmp/pki/admin.key")

# --- the attesters: a TPM, fdattestd, enrollment, one measured launch each ------
for i in $(seq 1 500); do echo "MRN$((100000 + i)),Patient $i,ICD10-E11.$((i % 10))"; done >"$work/patients.csv"
echo "audit log opened" >"$tmp/audit.log"
sed "s|@DIR@|$work|g" "$root/examples/profiles/phi-checksum.json" \
  | jq --arg log "$tmp/audit.log" '.fds[2].open = $log' >"$tmp/profile.json"
for ((i = 0; i < attesters; i++)); do
  a=$tmp/a$i
  [[ $i -eq 0 ]] || "$root/tools/swtpm/provision.sh" "$a/template" "$tmp/pki" >/dev/null
  mkdir -p "$a/tpm"
  cp "$a/template/tpm2-00.permall" "$a/tpm/"
  "$root/tools/swtpm/start.sh" "$a/tpm"
  "$bin/fdattestd" --socket "$a/sock" --state-dir "$a/state" --tcti "swtpm:path=$a/tpm/sock" \
    2>"$a/fdattestd.err" &
  attestor_pids+=($!)
  for _ in $(seq 200); do [[ -S $a/sock ]] && break; sleep 0.05; done
  [[ -S $a/sock ]] || die "fdattestd $i did not start: $(cat "$a/fdattestd.err")"
  "$bin/fdlaunch" enroll --attestor "$a/sock" --verifier "$url" --ca "$tmp/pki/server-ca.pem" \
    >"$a/attester.id" 2>"$a/enroll.err" || die "fdlaunch enroll ($i) failed: $(cat "$a/enroll.err")"
  # A clean environment and no inherited descriptors beyond 0-2, so the
  # manifest describes the job rather than whatever runs this script.
  env -i PATH=/usr/bin:/bin bash -c \
    'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@"' _ \
    "$bin/fdlaunch" --profile "$tmp/profile.json" --attestor "$a/sock" \
    --manifest-out "$a/manifest.json" -- "$busybox" sha256sum \
    </dev/null >/dev/null 2>"$a/fdlaunch.err" \
    || die "fdlaunch ($i) failed: $(cat "$a/fdlaunch.err")"
  [[ $(cut -d' ' -f1 "$work/checksum.txt") = $(sha256sum <"$work/patients.csv" | cut -d' ' -f1) ]] \
    || die "the job's checksum is wrong"
done
setup_seconds=$(elapsed "$setup_start" "$(now)")

# --- the policy: the example, with this machine's digests (as verify_bench.sh) --
jq --slurpfile m "$tmp/a0/manifest.json" '
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
curl -sS --fail-with-body "${admin[@]}" -X PUT -H 'Content-Type: application/json' \
  --data-binary @"$tmp/policy.json" "$url/v1/policies/$policy_id" >"$tmp/policy.put.json" \
  || die "PUT policy failed: $(cat "$tmp/policy.put.json")"

# --- bundles -------------------------------------------------------------------
# make_bundles NAME PER_ATTESTER: PER_ATTESTER bundles of attester i in
# $tmp/bundles/NAME.i, in certification order. The nonces come from
# fdverifierd (wrk, one connection per attester, stopped once there are
# enough); then every attester's evidence_factory certifies its own at once.
# Adds "NAME challenge_seconds certify_seconds" to $tmp/gen.tsv.
mkdir "$tmp/bundles"
make_bundles() {
  local name=$1 per=$2 i pids=() start mid wrk_pid
  start=$(now)
  wrk -t "$attesters" -c "$attesters" -d 3600s -s "$here/service_challenge.lua" \
    "$url/v1/challenge" -- "$tmp/bundles/$name.got" >"$tmp/challenge.$name.out" 2>&1 &
  wrk_pid=$!
  helper_pids+=("$wrk_pid")
  while kill -0 "$wrk_pid" 2>/dev/null \
      && [[ $(cat "$tmp/bundles/$name.got".* 2>/dev/null | wc -l) -lt $((per * attesters)) ]]; do
    sleep 0.2
  done
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || true
  grep -q "^challenge: [0-9]* nonces, 0 errors$" "$tmp/challenge.$name.out" \
    || die "collecting nonces ($name) failed: $(tail -n 3 "$tmp/challenge.$name.out")"
  # PER nonces for each attester; the few collected beyond expire unused.
  # (awk reads to the end: head would leave cat a broken pipe.)
  cat "$tmp/bundles/$name.got".* | awk -v n=$((per * attesters)) 'NR <= n' \
    | split -l "$per" -a 3 -d - "$tmp/bundles/$name.nonces."
  rm -f "$tmp/bundles/$name.got".*
  for ((i = 0; i < attesters; i++)); do
    mv "$tmp/bundles/$name.nonces.$(printf %03d "$i")" "$tmp/bundles/$name.nonces.$i"
    [[ $(wc -l <"$tmp/bundles/$name.nonces.$i") -eq $per ]] || die "too few nonces ($name)"
  done
  mid=$(now)
  for ((i = 0; i < attesters; i++)); do
    "$bin/evidence_factory" --attestor "$tmp/a$i/sock" --manifest "$tmp/a$i/manifest.json" \
      --nonces "$tmp/bundles/$name.nonces.$i" --out "$tmp/bundles/$name.$i" \
      2>"$tmp/factory.$name.$i.err" &
    pids+=($!)
  done
  for ((i = 0; i < attesters; i++)); do
    wait "${pids[$i]}" || die "evidence_factory ($name.$i) failed: $(cat "$tmp/factory.$name.$i.err")"
  done
  rm -f "$tmp/bundles/$name".nonces.*
  printf '%s\t%s\t%s\n' "$name" "$(elapsed "$start" "$mid")" "$(elapsed "$mid" "$(now)")" >>"$tmp/gen.tsv"
}
# The fixed-rate phase's rate is only known after the max run unless given:
# its bundles are made for twice the target's rate then.
fixed_budget=${fixed_rate:-$((fixed_floor * 2))}
per_max=$(((max_bundles + attesters - 1) / attesters))
per_fixed=$(((fixed_budget * (fixed_seconds + 5) + attesters - 1) / attesters))
per_soak=$(((soak_rate * (soak_seconds + 5) + attesters - 1) / attesters))
echo "service_bench: $attesters attesters ready in $setup_seconds s; making $(((2 + per_max + per_fixed + per_soak) * attesters)) bundles" >&2
gen_start=$(now)
make_bundles check 1
make_bundles offline 1
make_bundles max "$per_max"
make_bundles fixed "$per_fixed"
make_bundles soak "$per_soak"
gen_total=$(elapsed "$gen_start" "$(now)")
gen_count=$(cat "$tmp"/bundles/* | wc -l)
gen_bytes=$(cat "$tmp"/bundles/* | wc -c)
distinct=$(cat "$tmp"/bundles/* | jq -r .nonce | sort -u | wc -l)
[[ $distinct -eq $gen_count ]] || die "$gen_count bundles but $distinct distinct nonces"
echo "service_bench: $gen_count bundles ($gen_bytes bytes, all nonces distinct) in $gen_total s" >&2

# --- the check: every attester's first bundle through the service ---------------
# (The file's line without its newline: the bundle is its exact bytes.)
for ((i = 0; i < attesters; i++)); do
  head -n 1 "$tmp/bundles/check.$i" | tr -d '\n' >"$tmp/check.$i.json"
  curl -sS --fail-with-body "${ca[@]}" -X POST -H 'Content-Type: application/json' \
    --data-binary @"$tmp/check.$i.json" "$url/v1/attest?policy=$policy_id" >"$tmp/check.$i.out" \
    || die "attester $i's check bundle was refused: $(cat "$tmp/check.$i.out")"
  failed_steps=$(jq -r '[.report.steps[] | select(.outcome == "fail") | .step] | join(",")' "$tmp/check.$i.out")
  [[ -z $failed_steps ]] || die "steps failed for attester $i's bundle: $failed_steps"
  v=$(jq -r .verdict "$tmp/check.$i.out")
  [[ $i -eq 0 ]] && expected=$v
  [[ $v = "$expected" ]] || die "attester $i's bundle got $v, attester 0's $expected"
done
[[ $expected != broken_evidence ]] || die "the check bundles are broken evidence"
cp "$tmp/check.0.out" "$out/service.check.json"
echo "service_bench: verdict $expected for every attester, every step passed" >&2

# Nothing else of ours runs while it measures.
for p in "${attestor_pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
attestor_pids=()
for ((i = 0; i < attesters; i++)); do "$root/tools/swtpm/stop.sh" "$tmp/a$i/tpm"; done

# --- 1. offline baseline: Verify() on one core, same bundle shape ----------------
head -n 1 "$tmp/bundles/offline.0" | tr -d '\n' >"$tmp/offline.json"
taskset -c "$cpu" "$bin/verify_bench" --evidence="$tmp/offline.json" \
  --ak="$tmp/a0/state/ak.pub" --tpm-ca="$tmp/pki/tpm-vendor-ca.pem" --policy="$tmp/policy.json" \
  --nonce="$(jq -r .nonce "$tmp/bundles/offline.0")" \
  --benchmark_filter='^BM_(VerifyCached|EcdsaP256Verify)$' \
  --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_min_time="$min_time" \
  --benchmark_format=json >"$out/service.offline.json" 2>"$tmp/verify_bench.err" \
  || die "verify_bench failed: $(cat "$tmp/verify_bench.err")"
offline_rate=$(jq '.benchmarks[] | select(.run_name == "BM_VerifyCached" and .aggregate_name == "median") | .items_per_second' "$out/service.offline.json")

# --- the wrk phases ------------------------------------------------------------
# cpu_ticks PID: user + system clock ticks of PID. busy_ticks: the machine's
# non-idle ticks (all CPUs). metrics NAME: /metrics into service.metrics.NAME.txt.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
busy_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
total_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit}' /proc/stat; }
metrics() { curl -sS --cacert "$tmp/pki/server-ca.pem" "$url/metrics" >"$out/service.metrics.$1.txt"; }
hz=$(getconf CLK_TCK)
metrics before

# run_wrk NAME RATE SECONDS: wrk against fdverifierd with the bundles of
# NAME, one thread and one connection per attester; RATE 0 is unpaced.
# Writes service.NAME.wrk.txt and $tmp/NAME.json (the script's totals plus
# the CPU used).
run_wrk() {
  local name=$1 rate=$2 seconds=$3 conns=$attesters c0 b0 t0 wrk_cpu
  c0=$(cpu_ticks "$verifier_pid"); b0=$(busy_ticks); t0=$(total_ticks)
  SERVICE_BENCH_RATE=$rate SERVICE_BENCH_THREADS=$attesters \
  SERVICE_BENCH_JSON=$tmp/$name.lua.json \
    /usr/bin/time -f '%U %S' -o "$tmp/$name.time" \
    wrk -t "$attesters" -c "$conns" -d "${seconds}s" --timeout 10s --latency \
    -s "$here/service_attest.lua" "$url/v1/attest" \
    -- "$tmp/bundles/$name" "$expected" "/v1/attest?policy=$policy_id" \
    >"$out/service.$name.wrk.txt" 2>&1 || die "wrk ($name) failed: $(tail -n 5 "$out/service.$name.wrk.txt")"
  [[ -s $tmp/$name.lua.json ]] || die "wrk ($name) wrote no totals: $(tail -n 5 "$out/service.$name.wrk.txt")"
  wrk_cpu=$(awk '{print $1 + $2}' "$tmp/$name.time")
  jq --arg name "$name" --argjson conns "$conns" --argjson seconds "$seconds" \
    --argjson server_cpu "$(( $(cpu_ticks "$verifier_pid") - c0 ))" \
    --argjson busy "$(( $(busy_ticks) - b0 ))" --argjson total "$(( $(total_ticks) - t0 ))" \
    --argjson hz "$hz" --argjson wrk_cpu "$wrk_cpu" '
      . + {phase: $name, connections: $conns, seconds: $seconds,
           server_cpu_s: ($server_cpu / $hz), wrk_cpu_s: $wrk_cpu,
           machine_busy: (if $total > 0 then $busy / $total else null end),
           server_cpu_us_per_request: (if .requests > 0 then $server_cpu / $hz * 1e6 / .requests else null end),
           clean: (.non200 == 0 and .wrong == 0 and .socket_errors.connect == 0
                   and .socket_errors.read == 0 and .socket_errors.write == 0
                   and .socket_errors.timeout == 0)}' \
    "$tmp/$name.lua.json" >"$tmp/$name.json"
  metrics "$name"
  jq -r '"service_bench: \(.phase): \(.rate) /s, p50 \(.latency_us.p50 / 1000) ms, p99 \(.latency_us.p99 / 1000) ms, ok \(.ok), non-200 \(.non200), wrong verdict \(.wrong), socket errors \(.socket_errors)"' \
    "$tmp/$name.json" >&2
}

# 2. max rate
if [[ -n $perf_out ]]; then
  perf record --call-graph "${SERVICE_PERF_CALLGRAPH:-fp}" -F "${SERVICE_PERF_FREQ:-999}" \
    -o "$out/$perf_out" -p "$verifier_pid" -- sleep "$max_seconds" >/dev/null 2>&1 &
  helper_pids+=($!)
fi
run_wrk max 0 "$max_seconds"
[[ $(jq .exhausted_threads "$tmp/max.json") -eq 0 ]] \
  || die "the max run used up some threads' bundles: raise SERVICE_MAX_BUNDLES"
max_rate=$(jq .rate "$tmp/max.json")

# 3. fixed rate: half the max rate, at least the target's 1000/s
if [[ -z $fixed_rate ]]; then
  fixed_rate=$(jq -n --argjson m "$max_rate" --argjson f "$fixed_floor" '[($m / 2 | floor), $f] | max')
  [[ $fixed_rate -le $fixed_budget ]] || fixed_rate=$fixed_budget
fi
run_wrk fixed "$fixed_rate" "$fixed_seconds"

# 4. soak, with fdverifierd's RSS sampled
soak_start=$(now)
(
  while kill -0 "$verifier_pid" 2>/dev/null; do
    printf '%s\t%s\n' "$(elapsed "$soak_start" "$(now)")" \
      "$(awk '/^VmRSS:/{print $2}' "/proc/$verifier_pid/status")"
    sleep "$rss_interval"
  done
) >"$out/service.soak.rss.tsv" &
sampler_pid=$!
helper_pids+=("$sampler_pid")
run_wrk soak "$soak_rate" "$soak_seconds"
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
printf '%s\t%s\n' "$(elapsed "$soak_start" "$(now)")" \
  "$(awk '/^VmRSS:/{print $2}' "/proc/$verifier_pid/status")" >>"$out/service.soak.rss.tsv"
disk_bytes=$(du -sb "$tmp/data" | cut -f1)

# --- results -----------------------------------------------------------------
jq -R 'split("\t") | {t: (.[0] | tonumber), rss_kb: (.[1] | tonumber)}' "$out/service.soak.rss.tsv" \
  | jq -s '
    def slope: (length) as $n | (map(.t) | add / $n) as $mt | (map(.rss_kb) | add / $n) as $mr
      | (map((.t - $mt) * (.rss_kb - $mr)) | add) / (map((.t - $mt) * (.t - $mt)) | add)
      | . * 60;  # kB per minute
    {samples: length, first_kb: .[0].rss_kb, last_kb: .[-1].rss_kb, max_kb: (map(.rss_kb) | max),
     slope_kb_per_min: slope,
     second_half_slope_kb_per_min: (.[(length / 2 | floor):] | slope)}' >"$tmp/rss.json"

jq -n --slurpfile max "$tmp/max.json" --slurpfile fixed "$tmp/fixed.json" \
  --slurpfile soak "$tmp/soak.json" --slurpfile rss "$tmp/rss.json" \
  --slurpfile check "$out/service.check.json" --slurpfile offline "$out/service.offline.json" \
  --arg expected "$expected" --argjson gen_total "$gen_total" --argjson gen_count "$gen_count" \
  --argjson gen_bytes "$gen_bytes" --argjson offline_rate "$offline_rate" \
  --argjson gen "$(jq -R 'split("\t") | {(.[0]): {challenge_s: (.[1] | tonumber), certify_s: (.[2] | tonumber)}}' "$tmp/gen.tsv" | jq -s add)" \
  --argjson attesters "$attesters" --argjson setup "$setup_seconds" \
  --argjson disk "$disk_bytes" --arg version "$("$bin/fdverifierd" --version)" \
  --arg wrk "$(wrk -v 2>&1 | head -n 1)" --arg kernel "$(uname -r)" --argjson cores "$(nproc)" \
  --arg cpu_model "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)" \
  --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '
  {context: {fdverifierd: $version, wrk: $wrk, kernel: $kernel, cores: $cores, cpu: $cpu_model,
             load_average_after: $load, store: "sqlite", data_dir_bytes_after: $disk,
             attesters: $attesters, attesters_setup_s: $setup},
   verdict: $expected,
   check_steps: [$check[0].report.steps[] | {(.step): .outcome}] | add,
   check_rules_not_passed: [$check[0].report.rules[]? | select(.outcome != "pass") | .id],
   bundles: {count: $gen_count, bytes: $gen_bytes, seconds: $gen_total,
             per_second: ($gen_count / $gen_total),
             challenge_s: ([$gen[].challenge_s] | add), certify_s: ([$gen[].certify_s] | add),
             by_phase: $gen},
   offline: {verify_cached_per_second: $offline_rate,
             ecdsa_per_second: ($offline[0].benchmarks[] | select(.run_name == "BM_EcdsaP256Verify" and .aggregate_name == "median") | .items_per_second)},
   max: $max[0], fixed: $fixed[0], soak: ($soak[0] + {rss: $rss[0]})}
  | .ratio_service_to_offline_core = (.max.rate / .offline.verify_cached_per_second)
  | .targets = {
      max_rate_ge_2000: (.max.rate >= 2000),
      fixed_p99_le_25ms: (.fixed.latency_us.p99 <= 25000),
      fixed_rate_ge_1000: (.fixed.rate >= 1000 * 0.98),
      soak_clean: .soak.clean,
      all_clean: (.max.clean and .fixed.clean and .soak.clean)}' >"$out/service.json"

jq -r '
  def r1: (. * 10 | round) / 10;
  def r2: (. * 100 | round) / 100;
  def ms: (. / 1000 | r2 | tostring) + " ms";
  def mark(b): if b then "met" else "MISSED" end;
  def phase: "\(.rate | round) /s over \(.duration_us / 1e6 | r1) s, \(.connections) connections: p50 \(.latency_us.p50 | ms), p90 \(.latency_us.p90 | ms), p99 \(.latency_us.p99 | ms), max \(.latency_us.max | ms); \(.ok) \(if .ok == .requests - .filler then "" else "of \(.requests) " end)answers ok, \(.non200) non-200, \(.wrong) other verdicts, socket errors \(.socket_errors | [to_entries[] | .value] | add); fdverifierd \(.server_cpu_us_per_request | round) µs CPU per request, machine \(.machine_busy * 100 | round) % busy";
  "verifier service under wrk (TLS keep-alive, SQLite store, wrk on the same \(.context.cores)-core machine)",
  "  \(.context.attesters) attesters (TPMs), one wrk thread and connection each; bundles: \(.bundles.count) genuine, distinct nonces, \(.bundles.bytes / .bundles.count | round) bytes each, made in \(.bundles.seconds | round) s (\(.bundles.per_second | round) /s: nonces \(.bundles.challenge_s | round) s, TPM certifications \(.bundles.certify_s | round) s); verdict \(.verdict), every step passed",
  "  offline Verify(), cached, one core: \(.offline.verify_cached_per_second | round) /s (ECDSA P-256 verify \(.offline.ecdsa_per_second | round) /s)",
  "  max:   \(.max | phase)",
  "         service / offline one core = \(.ratio_service_to_offline_core | r2)   (target >= 2000 /s: \(mark(.targets.max_rate_ge_2000)))",
  "  fixed: target \(.fixed.target_rate) /s: \(.fixed | phase)",
  "         (target p99 <= 25 ms at 1000 /s: \(mark(.targets.fixed_p99_le_25ms and .targets.fixed_rate_ge_1000)))",
  "  soak:  target \(.soak.target_rate) /s: \(.soak | phase)",
  "         RSS first \(.soak.rss.first_kb) kB, last \(.soak.rss.last_kb) kB, max \(.soak.rss.max_kb) kB, slope \(.soak.rss.slope_kb_per_min | r1) kB/min (second half \(.soak.rss.second_half_slope_kb_per_min | r1) kB/min), \(.soak.rss.samples) samples   (errors = 0: \(mark(.targets.soak_clean)))"
' "$out/service.json" | tee "$out/service.txt"
jq -e .targets.all_clean "$out/service.json" >/dev/null || die "some answers were not the expected ones (see service.json)"
