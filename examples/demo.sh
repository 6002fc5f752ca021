#!/usr/bin/env bash
# The end-to-end story on the embedded defaults: a PHI checksum job confined
# by fdlaunch, then a hostile job with the same profile whose every attempt to
# reach data outside its declared descriptors is refused; the same job
# attested on a TPM and judged by the offline verifier; and the verifier
# service (fdverifierd) enrolling the attestor and releasing a PHI key to the
# good job only.
# Usage: examples/demo.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
fdlaunch="$build/bin/fdlaunch"
busybox=/bin/busybox
# On disk (not a tmpfs /tmp): the attested audit log below must be durable.
work=$(mktemp -d /var/tmp/fdattest-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "DEMO FAILED: $*" >&2; exit 1; }

say "1. A PHI data set, a key the job must never see, and an append-only audit log"
{
  echo "mrn,name,dob,diagnosis"
  for i in $(seq 1 500); do echo "MRN$((100000 + i)),Patient $i,19$((50 + i % 50))-0$((1 + i % 9))-1$((i % 9)),ICD10-E11.$((i % 10))"; done
} > "$work/patients.csv"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/phi.key"
echo "audit log opened $(date -u +%FT%TZ)" > "$work/audit.log"
sed "s|@DIR@|$work|g" "$here/profiles/phi-checksum.json" > "$work/profile.json"
echo "  data:    $work/patients.csv ($(wc -l < "$work/patients.csv") lines)"
echo "  profile: fd 0 phi-input (r), fd 1 phi-output (w), fd 2 audit-log (append-only)"

say "2. The checksum job under fdlaunch (busybox sha256sum, statically linked)"
# The launcher is handed the key file as an extra inherited fd 5, as a careless
# parent might: it must be recorded and closed, not passed on.
"$fdlaunch" --profile "$work/profile.json" --manifest-out "$work/manifest.json" \
  --filter-out "$work/filter.bpf" -- "$busybox" sha256sum 5<"$work/phi.key"
expected=$(sha256sum < "$work/patients.csv" | cut -d' ' -f1)
got=$(cut -d' ' -f1 < "$work/checksum.txt")
echo "  job output:      $got"
echo "  reference:       $expected"
[ "$got" = "$expected" ] || fail "checksum differs"

say "3. What the manifest records (canonical JSON, $(wc -c < "$work/manifest.json") bytes)"
jq -r '"  exe sha256:      \(.exe.sha256)",
       "  filter:          \(.filter.instructions) BPF instructions, sha256 \(.filter.sha256[0:16])…, on_violation=\(.filter.on_violation)",
       (.fds[] | "  fd \(.fd) \(.role) access=\(.access) kind=\(.kind) dev:ino=\(.stat.dev):\(.stat.ino)\(if .content_sha256 then " content=\(.content_sha256[0:16])…" else "" end)"),
       (.closed_fds[] | "  closed inherited fd \(.fd): \(.path // .kind)")' "$work/manifest.json"
jq -e --arg d "$expected" '.fds[] | select(.fd == 0) | .content_sha256 == $d' "$work/manifest.json" > /dev/null \
  || fail "manifest content digest does not match the input"
jq -e '[.closed_fds[] | select(.fd == 5)] | length == 1' "$work/manifest.json" > /dev/null \
  || fail "inherited key fd 5 not recorded as closed"

say "4. From the filter's bytes alone: what it permits, proven against the profile"
"$build/bin/fdattest" bpf explain "$work/manifest.json" | sed -n '/^Summary/,/^$/p'   # its summary
"$build/bin/fdattest" bpf check "$work/manifest.json" --profile "$work/profile.json" \
  | sed 's/^/  /' || fail "the filter does not match the profile"

say "5. A hostile job with the same profile tries to exfiltrate"
status=0
"$fdlaunch" --profile "$work/profile.json" -- "$build/bin/demo_exfiltrate" "$work/phi.key" \
  5<"$work/phi.key" 2>/dev/null || status=$?
cat "$work/checksum.txt"
if [ "$status" -eq $((128 + 31)) ]; then
  echo "  -> the workload was killed by SIGSYS at the x32 call (exit $status)"
else
  fail "hostile job exited $status, expected death by SIGSYS"
fi

say "6. Independent checks"
key=$(cat "$work/phi.key")
if grep -rqF "$key" "$work/checksum.txt" "$work/audit.log" "$work/manifest.json"; then
  fail "the key reached an output"
fi
echo "  the key's bytes appear in no output, log or manifest"
head -1 "$work/audit.log" | grep -q "audit log opened" || fail "audit log rewritten"
echo "  the audit log's first line is intact: $(head -1 "$work/audit.log")"
grep -q "SUCCEEDED" "$work/checksum.txt" && fail "an attempt succeeded"
echo "  every attempt was refused"
say "7. The same job, attested: a TPM (swtpm), the attestor (fdattestd), evidence"
tpmdir=$(mktemp -d /tmp/fdattest-tpm.XXXXXX)  # short: unix socket paths are limited
daemon_pid=""
loopdev=""
key_id=""
# Everything below is undone in reverse, whatever happens: the fscrypt key
# leaves the kernel, the mounts go, the loop device is detached.
cleanup_store() {
  if [ -n "$key_id" ]; then
    "$build/bin/fscrypt_dir" remove-key "$work/store" "$key_id" || echo "demo: key $key_id not removed" >&2
  fi
  if mountpoint -q "$work/store" 2>/dev/null; then umount "$work/store" || echo "demo: $work/store still mounted" >&2; fi
  if [ -n "$loopdev" ]; then losetup -d "$loopdev" || echo "demo: $loopdev not detached" >&2; fi
  if mountpoint -q "$work/vault" 2>/dev/null; then umount "$work/vault" || echo "demo: $work/vault still mounted" >&2; fi
  return 0
}
verifier_pid=""
cleanup_tpm() {
  [ -n "$verifier_pid" ] && kill "$verifier_pid" 2>/dev/null && wait "$verifier_pid" 2>/dev/null
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  "$here/../tools/swtpm/stop.sh" "$tpmdir/tpm" >/dev/null 2>&1 || true
  cleanup_store
  rm -rf "$tpmdir"
}
trap 'cleanup_tpm; rm -rf "$work"' EXIT
"$here/../tools/swtpm/provision.sh" "$tpmdir/template" "$tpmdir/pki" >/dev/null \
  || fail "cannot provision the TPM"
mkdir -p "$tpmdir/tpm" "$tpmdir/state"
cp "$tpmdir/template/tpm2-00.permall" "$tpmdir/tpm/"
"$here/../tools/swtpm/start.sh" "$tpmdir/tpm" || fail "cannot start swtpm"
"$build/bin/fdattestd" --socket "$tpmdir/attestor.sock" --state-dir "$tpmdir/state" \
  --tcti "swtpm:path=$tpmdir/tpm/sock" 2>"$tpmdir/fdattestd.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$tpmdir/attestor.sock" ] && break; sleep 0.05; done
[ -S "$tpmdir/attestor.sock" ] || fail "fdattestd did not start: $(cat "$tpmdir/fdattestd.log")"
echo "  TPM: swtpm with an EK certificate from the development CA"
sed 's/^/  /' "$tpmdir/fdattestd.log"
# Where a real PHI job keeps its data: the extract on a read-only mount (rule
# R2); the result in an fscrypt-encrypted directory (R3, R7): an ext4 image
# made with the `encrypt` feature on a loop device, a fresh 512-bit key added
# to the kernel and a v2 policy (AES-256-XTS contents, AES-256-CTS names) set
# on the directory, both through the kernel's fscrypt ioctls
# (tools/fscrypt_dir.cc); the audit log on this machine's disk, durable (R7).
mkdir -p "$work/vault" "$work/store" "$work/log"
mount -t tmpfs -o size=16m,mode=0755 fdattest-vault "$work/vault"
cp "$work/patients.csv" "$work/vault/"
mount -o remount,ro "$work/vault"
truncate -s 32M "$work/store.img"
mkfs.ext4 -q -F -O encrypt "$work/store.img" || fail "mkfs.ext4 -O encrypt failed"
loopdev=$(losetup --find --show "$work/store.img") || fail "no free loop device"
mount -t ext4 "$loopdev" "$work/store"
head -c 64 /dev/urandom > "$work/fscrypt.key"
key_id=$("$build/bin/fscrypt_dir" add-key "$work/store" "$work/fscrypt.key") \
  || fail "the kernel refused the fscrypt key"
rm -f "$work/fscrypt.key"  # from here on the key is only in the kernel
mkdir "$work/store/phi"
"$build/bin/fscrypt_dir" set-policy "$work/store/phi" "$key_id" \
  || fail "the kernel refused the fscrypt policy"
echo "  PHI output directory: ext4 on $loopdev, fscrypt policy $("$build/bin/fscrypt_dir" get-policy "$work/store/phi")"
case $(stat -f -c %T "$work/log") in
  tmpfs|ramfs) fail "$work/log is memory only: the audit log must be durable" ;;
esac
echo "  audit log: $work/log/audit.log on $(stat -f -c %T "$work/log") (persisted)"
echo "audit log opened $(date -u +%FT%TZ)" > "$work/log/audit.log"
jq --arg in "$work/vault/patients.csv" --arg out "$work/store/phi/checksum.txt" \
   --arg log "$work/log/audit.log" \
   '.fds[0].open = $in | .fds[1].open = $out | .fds[2].open = $log' \
   "$work/profile.json" > "$work/profile-attested.json"
state="$work/verifier-state.json"
nonce=$("$build/bin/fdattest" challenge --state "$state")
echo "  verifier nonce:  $nonce (single use, 5 minutes)"
"$fdlaunch" --profile "$work/profile-attested.json" --manifest-out "$work/manifest-attested.json" \
  --attestor "$tpmdir/attestor.sock" --evidence-out "$work/evidence.json" --nonce "$nonce" \
  -- "$busybox" sha256sum
[ "$(cut -d' ' -f1 < "$work/store/phi/checksum.txt")" = "$expected" ] || fail "attested checksum differs"
jq -r '.fds[] | select(.storage) | "  manifest fd \(.fd) \(.role): fs_magic \(.storage.fs_magic), encryption \(.storage.encryption)\(if .storage.fscrypt then " v\(.storage.fscrypt.version) modes \(.storage.fscrypt.contents_mode)/\(.storage.fscrypt.filenames_mode) key \(.storage.fscrypt.master_key_identifier)" else "" end)"' \
  "$work/manifest-attested.json"
jq -e --arg id "$key_id" '.fds[] | select(.fd == 1) | .storage.fscrypt.master_key_identifier == $id' \
  "$work/manifest-attested.json" > /dev/null || fail "the manifest does not show the output's fscrypt key"
jq -r '"  evidence: register \(.register.kind), value \(.register_value[0:16])…",
       "            \(.event_log | length) event-log records, nonce \(.nonce[0:16])…, qualifying data \(.qualifying_data[0:16])…",
       "            manifest sha256 \(.manifest_sha256[0:16])…, TPM-signed attestation \(.attest | length) base64 chars"' \
  "$work/evidence.json"
jq -e '.attested == true' "$work/manifest-attested.json" >/dev/null || fail "manifest not marked attested"

say "8. The verifier: evidence chain, filter proof, HIPAA rules, a signed result (EAR)"
# The example policy pins the reference values of this installation: the
# workload's and the launcher's digests, and the vetted extract's content.
# Nothing else changes: its storage settings (output encrypted at rest with
# fscrypt v2 AES-256-XTS/AES-256-CTS, audit log durable) are met as written.
jq --arg exe "$(sha256sum < "$busybox" | cut -d' ' -f1)" \
   --arg launcher "$(sha256sum < "$fdlaunch" | cut -d' ' -f1)" \
   --arg input "$expected" \
   '.workload.exe_sha256 = [$exe] | .workload.launcher_sha256 = [$launcher]
    | (.fd_roles[] | select(.role == "phi-input") | .content_sha256) = [$input]' \
   "$here/policies/hipaa-phi-etl.json" > "$work/policy.json"
"$build/bin/fdattest" key generate --out "$work/verifier.jwk" > "$work/verifier.pub.jwk"
# verify REPORT EVIDENCE [OPTION...]: the offline verifier with this demo's
# trust anchors and state; its exit status in $status.
verify() {
  local report=$1 evidence=$2
  shift 2
  status=0
  "$build/bin/fdattest" verify "$evidence" --policy "$work/policy.json" \
    --ak "$tpmdir/state/ak.pub" --state "$state" --tpm-ca "$tpmdir/pki/tpm-vendor-ca.pem" \
    "$@" > "$report" || status=$?
}
verify "$work/report.txt" "$work/evidence.json" \
  --signing-key "$work/verifier.jwk" --ear-out "$work/ear.jwt"
sed -n '1,2p;/^evidence chain/,/^$/p;/^data-flow rules/,/^EAR/p' "$work/report.txt" \
  | grep -v '^EAR' | sed 's/^/  /'
[ "$status" -eq 0 ] || fail "verify exited $status, expected 0 (affirming)"
jose jws ver -i "$work/ear.jwt" -k "$work/verifier.pub.jwk" -O- > "$work/ear-claims.json" \
  || fail "jose does not verify the EAR"
jq -r '"  EAR verified by jose: ear_status \(.ear_status), policy \(.submods.fdattest.ear_appraisal_policy_ids[0])"' \
  "$work/ear-claims.json"
verify "$work/replay.txt" "$work/evidence.json"
[ "$status" -eq 3 ] || fail "a replayed bundle exited $status, expected 3"
echo "  the same bundle again: exit $status, $(sed -n 2p "$work/replay.txt")"
# One edit to the manifest (fd 1 declared read-write instead of write-only),
# with every digest the bundle carries recomputed: the TPM signed the original.
nonce=$("$build/bin/fdattest" challenge --state "$state")
"$fdlaunch" --profile "$work/profile-attested.json" --attestor "$tpmdir/attestor.sock" \
  --evidence-out "$work/evidence2.json" --nonce "$nonce" -- "$busybox" sha256sum
# (sed, not jq: the manifest holds 64-bit integers a jq round trip would round)
manifest=$(jq -r .manifest "$work/evidence2.json" | base64 -d | sed 's/"access":"w"/"access":"rw"/')
manifest_sha=$(printf '%s' "$manifest" | sha256sum | cut -d' ' -f1)
qd=$( { printf 'fdattest/v1'; printf '%s' "$nonce" | xxd -r -p; printf '%s' "$manifest_sha" | xxd -r -p; } \
  | sha256sum | cut -d' ' -f1)
jq -cS --arg m "$(printf '%s' "$manifest" | base64 -w0)" --arg s "$manifest_sha" --arg q "$qd" \
  '.manifest = $m | .manifest_sha256 = $s | .qualifying_data = $q' "$work/evidence2.json" \
  | tr -d '\n' > "$work/evidence2-edited.json"
verify "$work/edited.txt" "$work/evidence2-edited.json"
[ "$status" -eq 3 ] || fail "an edited manifest exited $status, expected 3"
echo "  an edited manifest: exit $status, $(sed -n 2p "$work/edited.txt")"

say "9. The attestor observes: the launch read from the kernel, a running job re-attested, then gone"
# fdattestd held the workload stopped after its exec and read it back from the
# kernel (its filter, status, executable, root and fd table) before it ran; the
# launcher's identity is the attestor's own hash of its socket peer.
launch_id=$(jq -r .launch_id "$work/manifest-attested.json")
jq -r --arg id "$launch_id" '.event_log[]
  | select(.content.type == "launch_observation" and .content.data.launch_id == $id)
  | .content.data | .observation as $o
  | "  load observation: \($o.filters | length) filter (sha256 \($o.filters[0][0:16])…), seccomp mode \($o.seccomp_mode), no_new_privs \($o.no_new_privs), bounding set \($o.caps.bounding)",
    "                    fds \([$o.fds[].fd | tostring] | join(", ")), root \($o.root.fs_type) with \($o.root.entries) entries, launcher \(.peer_exe_sha256[0:16])…"' \
  "$work/evidence.json"
observed=$(jq -r --arg id "$launch_id" '.event_log[]
  | select(.content.type == "launch_observation" and .content.data.launch_id == $id)
  | .content.data.peer_exe_sha256' "$work/evidence.json")
[ "$observed" = "$(sha256sum < "$fdlaunch" | cut -d' ' -f1)" ] \
  || fail "the observed launcher is not fdlaunch"
echo "  the observed launcher digest is sha256(fdlaunch); the verifier's R13 takes it from there"
# A long-running job (the same job, lingering: busybox sleep), re-attested on a
# fresh nonce while it runs: "alive and unchanged after this nonce".
jq --arg out "$work/store/phi/running.txt" '.fds[1].open = $out' \
  "$work/profile-attested.json" > "$work/profile-running.json"
"$fdlaunch" --profile "$work/profile-running.json" --attestor "$tpmdir/attestor.sock" \
  --manifest-out "$work/manifest-running.json" -- "$busybox" sleep 3 &
running=$!
for _ in $(seq 100); do [ -s "$work/manifest-running.json" ] && break; sleep 0.05; done
running_id=$(jq -r .launch_id "$work/manifest-running.json")
nonce=$("$build/bin/fdattest" challenge --state "$state")
# attest_running OUT: `fdlaunch attest` on $nonce; retried while the launch is
# still being observed (the attestor knows a launch once it is released).
attest_running() {
  status=0
  for _ in $(seq 50); do
    "$fdlaunch" attest --attestor "$tpmdir/attestor.sock" --launch "$running_id" \
      --nonce "$nonce" --evidence-out "$1" > "$work/attest.out" 2> "$work/attest.err" \
      && { status=0; return; } || status=$?
    grep -q "no live launch" "$work/attest.err" || return 0
    sleep 0.1
  done
}
attest_running "$work/alive.json"
[ "$status" -eq 0 ] || fail "fdlaunch attest exited $status: $(cat "$work/attest.err")"
echo "  fdlaunch attest --launch ${running_id:0:8}… while it runs: $(cat "$work/attest.out")"
jq '.freshness = "alive"' "$work/policy.json" > "$work/policy-alive.json"
status=0
"$build/bin/fdattest" verify "$work/alive.json" --policy "$work/policy-alive.json" \
  --ak "$tpmdir/state/ak.pub" --state "$state" --tpm-ca "$tpmdir/pki/tpm-vendor-ca.pem" \
  > "$work/report-alive.txt" || status=$?
sed -n '1,2p' "$work/report-alive.txt" | sed 's/^/  /'
grep -iE "freshness|R11" "$work/report-alive.txt" | head -3 | sed 's/^/  /'
[ "$status" -eq 0 ] || fail "the re-attested job was not affirmed under a policy requiring \"alive\" (exit $status)"
wait "$running" || fail "the running job failed"
nonce=$("$build/bin/fdattest" challenge --state "$state")
attest_running "$work/gone.json"
[ "$status" -eq 3 ] && [ "$(cat "$work/attest.out")" = gone ] \
  || fail "after the job exited, fdlaunch attest exited $status: $(cat "$work/attest.out" "$work/attest.err")"
[ ! -e "$work/gone.json" ] || fail "a gone launch left evidence"
echo "  after the job exited: $(cat "$work/attest.out") (exit $status), nothing certified"

say "10. The verifier service: the attestor enrolled, a PHI key released to the good job only"
# A development PKI (server and admin certificates), the EAR signing key and
# the key that seals stored secrets; fdverifierd on a SQLite store.
"$here/../certs/make-dev-pki.sh" "$work/pki" >/dev/null
"$build/bin/fdattest" key secret --out "$work/secret-box.key"
"$build/bin/fdattest" key log --origin demo.fdattest.example/audit --out "$work/audit-log.key" \
  >/dev/null
"$build/bin/fdverifierd" --listen 127.0.0.1:0 --data-dir "$work/verifier-data" \
  --tls-cert "$work/pki/server.pem" --tls-key "$work/pki/server.key" \
  --client-ca "$work/pki/client-ca.pem" --tpm-ca "$tpmdir/pki/tpm-vendor-ca.pem" \
  --signing-key "$work/verifier.jwk" --secret-key-file "$work/secret-box.key" \
  --log-key "$work/audit-log.key" 2>"$work/fdverifierd.log" &
verifier_pid=$!
port=""
for _ in $(seq 200); do
  port=$(grep -m1 '"event":"start"' "$work/fdverifierd.log" 2>/dev/null | jq -r .port || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || fail "fdverifierd did not start: $(cat "$work/fdverifierd.log")"
url=https://localhost:$port
admin() { curl -sS --cacert "$work/pki/server-ca.pem" --cert "$work/pki/admin.pem" \
  --key "$work/pki/admin.key" "$@"; }
echo "  fdverifierd: $url (HTTPS; admin and auditor by client certificate)"
attester=$("$fdlaunch" enroll --attestor "$tpmdir/attestor.sock" --verifier "$url" \
  --ca "$work/pki/server-ca.pem") || fail "enrollment failed"
echo "  enrolled: attester $attester (EK certificate checked, AK credential activated by the TPM)"
# The extract, kept encrypted at rest with a fresh PHI key, joins the
# read-only vault; the key goes to the verifier only.
head -c 32 /dev/urandom > "$work/release.key"
iv=$(head -c 16 /dev/urandom | xxd -p -c 64)
mount -o remount,rw "$work/vault"
{ echo "$iv" | xxd -r -p
  openssl enc -aes-256-cbc -K "$(xxd -p -c 64 "$work/release.key")" -iv "$iv" -in "$work/patients.csv"
} > "$work/vault/patients.csv.enc"
mount -o remount,ro "$work/vault"
sed -e "s|@EXE_SHA256@|$(sha256sum < "$build/bin/demo_phi_decrypt" | cut -d' ' -f1)|" \
    -e "s|@LAUNCHER_SHA256@|$(sha256sum < "$fdlaunch" | cut -d' ' -f1)|" \
    -e "s|@INPUT_SHA256@|$(sha256sum < "$work/vault/patients.csv.enc" | cut -d' ' -f1)|" \
    "$here/policies/phi-decrypt-release.json" > "$work/release-policy.json"
admin -X PUT -H 'Content-Type: application/json' --data-binary @"$work/release-policy.json" \
  "$url/v1/policies/phi-decrypt" | jq -r '"  policy phi-decrypt v\(.version) stored (admin)"'
admin -X PUT -H 'Content-Type: application/json' \
  --data "{\"value\": \"$(base64 -w0 "$work/release.key")\", \"policy\": \"phi-decrypt\"}" \
  "$url/v1/secrets/phi-key" | jq -r '"  secret \(.name) stored sealed, bound to policy \(.policy)"'
echo "audit log opened $(date -u +%FT%TZ)" > "$work/log/release-audit.log"
sed -e "s|@DIR@/patients.csv.enc|$work/vault/patients.csv.enc|" -e "s|@OUT@|$work/store/phi|" \
    -e "s|@DIR@/audit.log|$work/log/release-audit.log|" "$here/profiles/phi-decrypt.json" \
    > "$work/release-profile.json"
release() {  # PROGRAM: launch it under the release profile, asking for phi-key
  "$fdlaunch" --profile "$work/release-profile.json" --attestor "$tpmdir/attestor.sock" \
    --verifier "$url" --ca "$work/pki/server-ca.pem" --release phi-key -- "$1"
}
release "$build/bin/demo_phi_decrypt" || fail "the good job did not get its key"
echo "  good job (phi_decrypt): affirmed; the key arrived in a sealed memfd at fd 5 and decrypted the extract:"
sed 's/^/    /' "$work/store/phi/summary.txt"
[ "$(sed -n 2p "$work/store/phi/summary.txt")" = "sha256 $expected" ] \
  || fail "the decrypted extract differs from the original"
status=0
release "$build/bin/demo_exfiltrate" 2> "$work/hostile.err" || status=$?
[ "$status" -eq 125 ] || fail "the hostile job exited $status, expected 125 (refused before it ran)"
echo "  hostile job (exfiltrate) asking for the same key: refused, exit $status, never started:"
fold -w 100 -s "$work/hostile.err" | sed 's/^/    /' | head -6
for needle in "$(xxd -p -c 64 "$work/release.key")" "$(base64 -w0 "$work/release.key")"; do
  if grep -rqF -- "$needle" "$work/fdverifierd.log" "$work/verifier-data" "$work/hostile.err" \
      "$work/store/phi" "$work/log"; then
    fail "the PHI key reached a log, the verifier's store or an output"
  fi
done
echo "  the PHI key appears in no log, no output and not in the verifier's store (sealed there)"

say "11. The audit archive: every decision above exported and re-verified offline"
# Each answer carried a receipt (leaf, inclusion proof, signed checkpoint).
# The operator exports the decisions; an auditor, with no service and only
# the log's public key, checks every signature and proof and re-runs every
# verification with the inputs recorded at decision time.
"$build/bin/fdattest" audit export --data-dir "$work/verifier-data" \
  --secret-key-file "$work/secret-box.key" --log-key "$work/audit-log.key.vkey" \
  --signing-key "$work/verifier.jwk" --tpm-ca "$tpmdir/pki/tpm-vendor-ca.pem" \
  --from 0 --to $(($(date +%s) + 1)) --out "$work/audit-bundle" | sed 's/^/  /'
echo "  checkpoint (C2SP signed note):"
sed 's/^/    /' "$work/audit-bundle/checkpoint"
"$build/bin/fdattest" audit verify "$work/audit-bundle" --log-key "$work/audit-log.key.vkey" \
  > "$work/audit-verify.txt" || { cat "$work/audit-verify.txt"; fail "the bundle does not verify"; }
sed 's/^/  /' "$work/audit-verify.txt"
cp -r "$work/audit-bundle" "$work/audit-bundle-edited"
first=$(ls "$work/audit-bundle-edited/entries" | sort -n | head -1)
printf '1' | dd of="$work/audit-bundle-edited/entries/$first/result.json" bs=1 seek=30 \
  conv=notrunc 2>/dev/null
echo "  one byte of entries/$first/result.json edited:"
if "$build/bin/fdattest" audit verify "$work/audit-bundle-edited" \
    --log-key "$work/audit-log.key.vkey" > "$work/audit-verify-edited.txt"; then
  fail "the edited bundle verifies"
fi
sed 's/^/    /' "$work/audit-verify-edited.txt" | head -4
grep -q "^entries/$first/result.json:" "$work/audit-verify-edited.txt" \
  || fail "audit verify does not name the edited file"

say "demo complete"
