#!/usr/bin/env bash
# Remakes the genuine evidence bundles among the evidence fuzzer's seeds
# (tests/fuzz/corpus/evidence/genuine_*.json), the event-log seeds cut from
# them (tests/fuzz/corpus/event_log/served_* and file_*), and prints the
# constants of tests/support/seed_bundles.h that go with them (the AK and the
# TPM CA). Everything is real: a freshly provisioned swtpm, fdattestd, and
# fdlaunch running busybox sha256sum under examples/profiles/phi-checksum.json.
#   tools/make_evidence_seeds.sh BUILD_DIR
# One AK serves both registers: the second daemon (PCR 12) starts on a copy of
# the first one's state directory without its event log and NV auth.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$1" && pwd)/bin
corpus=$here/tests/fuzz/corpus
busybox=/bin/busybox
for b in fdattestd fdlaunch; do
  [ -x "$bin/$b" ] || { echo "make_evidence_seeds: $bin/$b missing (build first)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fdattest-seeds.XXXXXX")
daemon=""
cleanup() {
  [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
  "$here/tools/swtpm/stop.sh" "$tmp/tpm" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$here/tools/swtpm/provision.sh" "$tmp/template" "$tmp/pki" >/dev/null
mkdir -p "$tmp/tpm" "$tmp/job"
cp "$tmp/template/tpm2-00.permall" "$tmp/tpm/"
"$here/tools/swtpm/start.sh" "$tmp/tpm"
printf 'patient,a1c\n1,6.1\n2,7.4\n' > "$tmp/job/patients.csv"
sed "s#@DIR@#$tmp/job#g" "$here/examples/profiles/phi-checksum.json" > "$tmp/job/profile.json"

# start_daemon REGISTER STATE_DIR
start_daemon() {
  rm -f "$tmp/attestor.sock"
  "$bin/fdattestd" --socket "$tmp/attestor.sock" --state-dir "$2" \
    --tcti "swtpm:path=$tmp/tpm/sock" --register "$1" 2>> "$tmp/fdattestd.err" &
  daemon=$!
  for _ in $(seq 100); do [ -S "$tmp/attestor.sock" ] && return 0; sleep 0.1; done
  cat "$tmp/fdattestd.err" >&2
  exit 1
}
stop_daemon() { kill "$daemon"; wait "$daemon" || true; daemon=""; }
# launch OUT: one attested launch, its bundle on a random nonce.
launch() {
  "$bin/fdlaunch" --profile "$tmp/job/profile.json" --attestor "$tmp/attestor.sock" \
    --evidence-out "$1" -- "$busybox" sha256sum
}

start_daemon nv "$tmp/state-nv"
launch "$corpus/evidence/genuine_nv_first.json"
launch "$corpus/evidence/genuine_nv_second.json"
stop_daemon
mkdir -p "$tmp/state-pcr"
cp "$tmp/state-nv"/ak.* "$tmp/state-pcr/"
start_daemon pcr:12 "$tmp/state-pcr"
launch "$tmp/pcr_first.json"
launch "$corpus/evidence/genuine_pcr_second.json"
stop_daemon

# The event-log seeds: a flag byte (1: served records, 2: a log file), then lines.
for reg in nv pcr; do
  jq -c '.event_log[]' "$corpus/evidence/genuine_${reg}_second.json" \
    | { printf '\001'; cat; } > "$corpus/event_log/served_${reg}_second"
  { printf '\002'; cat "$tmp/state-$reg/event-log.jsonl"; } > "$corpus/event_log/file_$reg"
done

echo "kSeedAkPublicHex:"
jq -r .ak_public "$corpus/evidence/genuine_nv_first.json" | base64 -d | xxd -p | tr -d '\n'
echo
echo "kSeedTpmCaPem:"
cat "$tmp/pki/tpm-vendor-ca.pem"
