#!/usr/bin/env bash
# Launch overhead of fdlaunch (docs/BENCHMARKS.md): one hyperfine run comparing
#   plain       the static no-op workload, exec'd directly
#   trampoline  a static glibc program that only execs the no-op: the floor of
#               any launcher that is its own program, on this machine
#   fdlaunch    fdlaunch --profile P -- noop   (5 declared fds, unattested):
#               compiles its filter with libseccomp, proves it, installs it
#   fdlaunch-cached  the same with --filter-cache DIR holding the entry: the
#               filter is read instead of compiled, and still proven
#   bwrap       bwrap --ro-bind / / --dev /dev --seccomp 9 -- noop, with fdlaunch's
#               own filter bytes (+ an execve prologue, see bench_filter_tool.cc)
# All three start through bench_with_fd (puts the filter file at fd 9, which
# bwrap needs fresh on every run), so hyperfine runs them with --shell=none.
# Usage: bench/launch_overhead.sh BUILD_DIR [OUT_DIR]
# Writes OUT_DIR/launch_overhead.json (hyperfine --export-json) and
# OUT_DIR/launch_overhead.txt (the summary printed at the end).
# Env: LAUNCH_RUNS (default 500, split over the rounds), LAUNCH_WARMUP (default
# 20 per command and round), LAUNCH_ROUNDS (default 5).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
out=${2:-$build/bench-results}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$build/bin
runs=${LAUNCH_RUNS:-500}
warmup=${LAUNCH_WARMUP:-20}
rounds=${LAUNCH_ROUNDS:-5}

for tool in hyperfine bwrap jq taskset; do
  command -v "$tool" >/dev/null || { echo "launch_overhead: $tool not found" >&2; exit 1; }
done
for b in fdlaunch bench_noop bench_exec_trampoline bench_with_fd bench_filter_tool; do
  [[ -x $bin/$b ]] || { echo "launch_overhead: $bin/$b missing (build first)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Inputs the profile opens; small, like a real job's config-sized inputs.
head -c 4096 /dev/urandom | od -An -tx1 >"$tmp/input.csv"
head -c 4096 /dev/urandom | od -An -tx1 >"$tmp/reference.csv"
cat >"$tmp/profile.json" <<JSON
{
  "version": 1,
  "name": "bench-launch",
  "on_violation": "errno",
  "fds": [
    {"fd": 0, "role": "phi-input", "access": "r", "open": "$tmp/input.csv", "hash": true},
    {"fd": 1, "role": "phi-output", "access": "w", "open": "$tmp/output.csv"},
    {"fd": 2, "role": "audit-log", "access": "a", "open": "$tmp/audit.log"},
    {"fd": 3, "role": "null", "access": "r", "null": true},
    {"fd": 4, "role": "reference", "access": "r", "open": "$tmp/reference.csv"}
  ]
}
JSON

# One checked launch first: the workload must run (exit 0) and the filter bytes
# must come out; the bwrap variant reuses them. It also fills the filter cache.
mkdir -m 700 "$tmp/cache"
set +e
"$bin/fdlaunch" --profile "$tmp/profile.json" --filter-out "$tmp/fdlaunch.bpf" \
  --filter-cache "$tmp/cache" \
  --manifest-out "$tmp/manifest.json" -- "$bin/bench_noop" 2>"$tmp/fdlaunch.err"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  echo "launch_overhead: fdlaunch exited $rc:" >&2
  cat "$tmp/fdlaunch.err" >&2
  exit 1
fi
size=$(stat -c %s "$tmp/fdlaunch.bpf")
if [[ $size -eq 0 || $((size % 8)) -ne 0 ]]; then
  echo "launch_overhead: --filter-out wrote $size bytes, not a BPF program" >&2
  exit 1
fi
if command -v sha256sum >/dev/null && jq -e .filter.sha256 "$tmp/manifest.json" >/dev/null 2>&1; then
  want=$(jq -r .filter.sha256 "$tmp/manifest.json")
  got=$(sha256sum "$tmp/fdlaunch.bpf" | cut -d' ' -f1)
  [[ $want == "$got" ]] || echo "launch_overhead: note: manifest filter.sha256 $want != sha256(--filter-out) $got" >&2
fi
"$bin/bench_filter_tool" allow-execve "$tmp/fdlaunch.bpf" "$tmp/bwrap.bpf"
printf -v q_noop '%q' "$bin/bench_noop"
printf -v q_with_fd '%q' "$bin/bench_with_fd"
printf -v q_fdlaunch '%q' "$bin/fdlaunch"
printf -v q_trampoline '%q' "$bin/bench_exec_trampoline"
printf -v q_cache '%q' "$tmp/cache"
printf -v q_profile '%q' "$tmp/profile.json"
printf -v q_bpf '%q' "$tmp/bwrap.bpf"
printf -v q_bwrap '%q' "$(command -v bwrap)"
with_fd="$q_with_fd 9 $q_bpf"
plain_cmd="$with_fd $q_noop"
trampoline_cmd="$with_fd $q_trampoline $q_noop"
fdlaunch_cmd="$with_fd $q_fdlaunch --profile $q_profile -- $q_noop"
cached_cmd="$with_fd $q_fdlaunch --profile $q_profile --filter-cache $q_cache -- $q_noop"
bwrap_cmd="$with_fd $q_bwrap --ro-bind / / --dev /dev --seccomp 9 -- $q_noop"
[[ -n $(ls "$tmp/cache") ]] || { echo "launch_overhead: the checked launch cached no filter" >&2; exit 1; }
for c in "$plain_cmd" "$trampoline_cmd" "$cached_cmd" "$bwrap_cmd"; do
  if ! eval "$c" 2>"$tmp/check.err"; then
    echo "launch_overhead: check run failed: $c" >&2
    cat "$tmp/check.err" >&2
    exit 1
  fi
done

# ROUNDS hyperfine runs of all five commands, runs/ROUNDS timed runs each: a
# slow stretch of the (virtual) machine then hits every command of a round
# instead of one command's whole series. Pinned to one CPU, so no run pays
# for a migration the others did not. The figures are medians over rounds of
# each round's medians (and of each round's differences and ratios).
# hyperfine splits each command on whitespace itself under --shell=none.
per_round=$(( (runs + rounds - 1) / rounds ))
cpu=$(( $(nproc) - 1 ))
rm -f "$out"/launch_overhead.round*.json
for round in $(seq 1 "$rounds"); do
  taskset -c "$cpu" hyperfine --shell=none --warmup "$warmup" --runs "$per_round" --style basic \
    --export-json "$out/launch_overhead.round$round.json" \
    -n plain "$plain_cmd" \
    -n trampoline "$trampoline_cmd" \
    -n fdlaunch "$fdlaunch_cmd" \
    -n fdlaunch-cached "$cached_cmd" \
    -n bwrap "$bwrap_cmd" >"$out/launch_overhead.round$round.txt" 2>&1
done
jq -s '{rounds: .}' "$out"/launch_overhead.round*.json >"$out/launch_overhead.json"

jq -r --arg runs "$runs" --arg rounds "$rounds" --arg cpu "$cpu" '
  def ms: . * 1000;
  def r3: (. * 1000 | round) / 1000;
  def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def verdict($ok): if $ok then "met" else "MISSED" end;
  # One object per round: command name -> median wall ms.
  [.rounds[] | .results | map({key: .command, value: (.median | ms)}) | from_entries] as $m
  | def med(f): [$m[] | f] | median;
    med(.plain) as $p | med(.trampoline) as $t | med(.fdlaunch) as $f
  | med(.["fdlaunch-cached"]) as $c | med(.bwrap) as $b
  | med(.fdlaunch - .plain) as $fp | med(.["fdlaunch-cached"] - .plain) as $cp
  | med(.fdlaunch / .bwrap) as $fb | med(.["fdlaunch-cached"] / .bwrap) as $cb
  | med(.trampoline - .plain) as $tp
  | "launch overhead (\($rounds) rounds of \($runs | tonumber / ($rounds | tonumber) | ceil) runs per command, pinned to CPU \($cpu); wall ms, median over rounds of round medians)",
    "  plain            \($p | r3)",
    "  trampoline       \($t | r3)",
    "  fdlaunch         \($f | r3)",
    "  fdlaunch-cached  \($c | r3)",
    "  bwrap            \($b | r3)",
    "  fdlaunch - plain          = \($fp | r3) ms   (target < 2 ms: \(verdict($fp < 2)))",
    "  fdlaunch-cached - plain   = \($cp | r3) ms   (target < 2 ms: \(verdict($cp < 2)))",
    "  fdlaunch / bwrap          = \($fb | r3)   (target < 1: \(verdict($fb < 1)))",
    "  fdlaunch-cached / bwrap   = \($cb | r3)   (target < 1: \(verdict($cb < 1)))",
    "  floor: trampoline - plain = \($tp | r3) ms (one more static glibc start and exec);",
    "         fdlaunch\u0027s own work = fdlaunch - trampoline = \(med(.fdlaunch - .trampoline) | r3) ms, cached \(med(.["fdlaunch-cached"] - .trampoline) | r3) ms",
    "  per round (fdlaunch-cached - plain): \([$m[] | (.["fdlaunch-cached"] - .plain) | r3] | map(tostring) | join(" "))",
    "  per round (fdlaunch / bwrap):        \([$m[] | (.fdlaunch / .bwrap) | r3] | map(tostring) | join(" "))",
    ([.rounds[] | .results | map({key: .command, value: ((.user + .system) | ms)}) | from_entries] as $cpu
     | "  CPU user+sys, ms (median over rounds of hyperfine\u0027s means): "
       + ([$cpu[0] | keys_unsorted[] as $k | "\($k) \([$cpu[] | .[$k]] | median | r3)"] | join(", ")))
' "$out/launch_overhead.json" | tee "$out/launch_overhead.txt"
