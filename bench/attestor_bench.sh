#!/usr/bin/env bash
# Attestor latency (docs/BENCHMARKS.md, "4. Attestor"): on one freshly
# provisioned swtpm (unix sockets, state in a temporary directory), fdattestd's
# measure and certify over its socket, then the same operations with
# tpm2-tools commands while fdattestd is stopped. bench/attestor_bench.cc does
# the timing; this script provisions and starts the swtpm and cleans up.
# Usage: bench/attestor_bench.sh BUILD_DIR [OUT_DIR]
# Writes OUT_DIR/attestor.json (medians, p90s, ratios, every sample) and keeps
# the daemon's and the tools' stderr as OUT_DIR/attestor.*.err when non-empty.
# Env: ATTESTOR_MEASURES (200), ATTESTOR_CERTIFIES (200), ATTESTOR_WARMUP (5).
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

for tool in jq swtpm swtpm_setup tpm2_createek tpm2_createak tpm2_nvextend tpm2_nvcertify tpm2_flushcontext; do
  command -v "$tool" >/dev/null || { echo "attestor_bench: $tool not found" >&2; exit 1; }
done
for b in fdattestd attestor_bench bench_noop; do
  [[ -x $bin/$b ]] || { echo "attestor_bench: $bin/$b missing (build first)" >&2; exit 1; }
done

# Short, private and absolute: unix socket paths hold 107 characters.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fdattest-abench.XXXXXX")
cleanup() {
  "$here/../tools/swtpm/stop.sh" "$tmp/tpm" || true
  rm -rf "$tmp"
}
trap cleanup EXIT

rm -f "$out"/attestor.json "$out"/attestor.*.err
"$here/../tools/swtpm/provision.sh" "$tmp/template" "$tmp/pki"
mkdir -p "$tmp/tpm" "$tmp/work"
cp "$tmp/template/tpm2-00.permall" "$tmp/tpm/"
"$here/../tools/swtpm/start.sh" "$tmp/tpm"

set +e
"$bin/attestor_bench" --fdattestd "$bin/fdattestd" --tcti "swtpm:path=$tmp/tpm/sock" \
  --work "$tmp/work" --out "$tmp/attestor.json" --workload "$bin/bench_noop" \
  --measures "${ATTESTOR_MEASURES:-200}" --certifies "${ATTESTOR_CERTIFIES:-200}" \
  --warmup "${ATTESTOR_WARMUP:-5}"
rc=$?
set -e
for f in fdattestd tpm2-tools; do
  if [[ -s $tmp/work/$f.err ]]; then cp "$tmp/work/$f.err" "$out/attestor.$f.err"; fi
done
if [[ $rc -ne 0 ]]; then
  echo "attestor_bench: failed (exit $rc); stderr of the daemon and tools: $out/attestor.*.err" >&2
  exit 1
fi

# What the figures depend on, next to them.
jq --arg fs "$(stat -f -c %T "$tmp/work")" \
   --arg tools "$(tpm2_nvextend --version 2>/dev/null | sed -n 's/.*version="\([^"]*\)".*/\1/p')" \
   --arg swtpm "$(swtpm --version 2>/dev/null | head -n 1)" \
   --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
   '. + {context: {date: $date, log_filesystem: $fs, tpm2_tools: $tools, swtpm: $swtpm}}' \
   "$tmp/attestor.json" >"$out/attestor.json"
