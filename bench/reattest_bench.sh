#!/usr/bin/env bash
# The re-attestation round trip (docs/BENCHMARKS.md, "10. Observation and
# re-attestation"): on one freshly provisioned swtpm (unix sockets, state in a
# temporary directory), fdattestd's reattest and what `fdlaunch attest` asks
# (reattest + certify + log + info) beside certify alone and certify + log +
# info, alternating on one running workload. bench/reattest_bench.cc does the
# launch and the timing; this script provisions and starts the swtpm and
# cleans up. Runs as root (the workload's empty root, the attestor's ptrace).
# Usage: bench/reattest_bench.sh BUILD_DIR [OUT_DIR]
# Writes OUT_DIR/reattest.json (medians, p90s, ratios, every sample) and keeps
# the daemon's stderr as OUT_DIR/reattest.fdattestd.err when non-empty.
# Env: REATTEST_ROUNDS (200), REATTEST_WARMUP (5).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
out=${2:-$build/bench-results}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$build/bin

for tool in jq swtpm swtpm_setup; do
  command -v "$tool" >/dev/null || { echo "reattest_bench: $tool not found" >&2; exit 1; }
done
for b in fdattestd reattest_bench bench_wait_eof; do
  [[ -x $bin/$b ]] || { echo "reattest_bench: $bin/$b missing (build first)" >&2; exit 1; }
done

# Short, private and absolute: unix socket paths hold 107 characters.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fdattest-rbench.XXXXXX")
cleanup() {
  "$here/../tools/swtpm/stop.sh" "$tmp/tpm" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

rm -f "$out"/reattest.json "$out"/reattest.*.err
"$here/../tools/swtpm/provision.sh" "$tmp/template" "$tmp/pki"
mkdir -p "$tmp/tpm" "$tmp/work"
cp "$tmp/template/tpm2-00.permall" "$tmp/tpm/"
"$here/../tools/swtpm/start.sh" "$tmp/tpm"

set +e
"$bin/reattest_bench" --fdattestd "$bin/fdattestd" --tcti "swtpm:path=$tmp/tpm/sock" \
  --work "$tmp/work" --out "$tmp/reattest.json" --workload "$bin/bench_wait_eof" \
  --rounds "${REATTEST_ROUNDS:-200}" --warmup "${REATTEST_WARMUP:-5}"
rc=$?
set -e
if [[ -s $tmp/work/fdattestd.err ]]; then cp "$tmp/work/fdattestd.err" "$out/reattest.fdattestd.err"; fi
if [[ $rc -ne 0 ]]; then
  echo "reattest_bench: failed (exit $rc); the daemon's stderr: $out/reattest.fdattestd.err" >&2
  exit 1
fi

jq --arg fs "$(stat -f -c %T "$tmp/work")" \
   --arg swtpm "$(swtpm --version 2>/dev/null | head -n 1)" \
   --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
   --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
   '. + {context: {date: $date, log_filesystem: $fs, swtpm: $swtpm, load_after: $load}}' \
   "$tmp/reattest.json" >"$out/reattest.json"
