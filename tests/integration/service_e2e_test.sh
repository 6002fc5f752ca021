#!/usr/bin/env bash
# The verifier service end to end, over HTTPS, on a real TPM (swtpm), the real
# attestor, the real launcher and the real kernel's seccomp:
#
#   1. fdverifierd starts on a fresh SQLite store with the development PKI;
#      the attestor is enrolled with `fdlaunch enroll` (MakeCredential at the
#      verifier, ActivateCredential in the TPM); a second enrollment of the
#      same EK, and a replacement without the admin role, are refused.
#   2. An administrator PUTs the release policy and the PHI key (curl with the
#      admin client certificate); the auditor can read the policy but not
#      change it.
#   3. The good job (examples/phi_decrypt.c, profile phi-decrypt) is launched
#      with --verifier/--release: the verifier affirms it, releases the key as
#      a JWE to the launch's key, fdlaunch puts it in the sealed memfd at fd 5,
#      and the job decrypts the encrypted extract with it (its summary holds
#      the plaintext's record count and sha256).
#   4. Hostile variants get nothing: a loosened profile (one more writable fd)
#      is refused, exit 125, the failed rules on stderr and no workload run; a
#      genuine bundle whose manifest is changed in transit (every digest it
#      carries recomputed) is broken evidence with no secret.
#   5. Replay: one genuine bundle posted 20 times at once on 20 connections is
#      accepted exactly once; an expired nonce is refused.
#   6. The EAR verifies with `jose jws ver` against the JWKS fetched with curl.
#   7. A revoked attester's next evidence is broken, with no secret.
#   8. The secret's bytes (raw, hex, base64) appear in no log, no response, no
#      file under the test's directories, and fdverifierd, killed with SIGABRT,
#      leaves no core dump (it is not dumpable).
#
#   tests/integration/service_e2e_test.sh SOURCE_DIR BIN_DIR
#
# FDATTEST_E2E_KEEP=1 keeps the scratch directory for a post-mortem.
#
# Runs as root, in its own mount and PID namespaces (everything it starts
# dies with it). Prints one "ok: ..." line per check; exits non-zero on the
# first failure, with the reason.
set -euo pipefail

usage() { echo "usage: $0 SOURCE_DIR BIN_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
src=$(realpath -- "$1")
bin=$(realpath -- "$2")

if [ -z "${FDATTEST_E2E_INNER:-}" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "service_e2e_test: must run as root" >&2; exit 1; }
  exec env FDATTEST_E2E_INNER=1 unshare --mount --propagation private --pid --fork --mount-proc \
    bash "$0" "$@"
fi

fail() { echo "service_e2e_test: FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
for b in fdlaunch fdattestd fdattest fdverifierd evidence_factory demo_phi_decrypt; do
  [ -x "$bin/$b" ] || fail "$bin/$b is not built"
done
for tool in curl jq jose openssl base64 xxd; do
  command -v "$tool" >/dev/null || fail "$tool not found"
done

# On disk (the audit log must be durable); the job's output on tmpfs (not
# persisted, which the policy accepts for a PHI output: never at rest).
scratch=$(mktemp -d /var/tmp/fdsvc-e2e.XXXXXX)
out=$(mktemp -d /dev/shm/fdsvc-e2e.XXXXXX)
running=""
cleanup() {
  if [ -n "$running" ]; then kill "$running" 2>/dev/null; wait "$running" 2>/dev/null || true; fi
  "$src/tools/swtpm/stop.sh" "$scratch/tpm" >/dev/null 2>&1 || true
  [ -n "${FDATTEST_E2E_KEEP:-}" ] && { echo "kept $scratch $out" >&2; return; }
  rm -rf "$scratch" "$out"
}
trap cleanup EXIT
cd "$scratch"

# --- the TPM, the attestor, the verifier ------------------------------------
"$src/tools/swtpm/provision.sh" "$scratch/template" "$scratch/tpm-pki" >/dev/null
mkdir -p "$scratch/tpm"
cp "$scratch/template/tpm2-00.permall" "$scratch/tpm/"
"$src/tools/swtpm/start.sh" "$scratch/tpm"
"$bin/fdattestd" --socket "$scratch/attestor.sock" --state-dir "$scratch/state" \
  --tcti "swtpm:path=$scratch/tpm/sock" 2>"$scratch/fdattestd.log" &
for _ in $(seq 200); do [ -S "$scratch/attestor.sock" ] && break; sleep 0.05; done
[ -S "$scratch/attestor.sock" ] || fail "fdattestd did not start: $(cat "$scratch/fdattestd.log")"

"$src/certs/make-dev-pki.sh" "$scratch/pki" >/dev/null
pki=$scratch/pki
"$bin/fdattest" key generate --out "$scratch/signing.jwk" >/dev/null
"$bin/fdattest" key secret --out "$scratch/secret.key"
"$bin/fdattest" key log --origin fdattest.test/e2e-audit --out "$scratch/log.key" >/dev/null
# Started allowed to dump core (ulimit -c unlimited): that it leaves none when
# killed (check 8) is its own doing.
start_verifier() {  # [PORT]: on the same store each time; sets verifier_pid, port, url
  local listen=127.0.0.1:${1:-0} log=$scratch/fdverifierd.log
  [ -e "$log" ] && cat "$log" >>"$scratch/fdverifierd.old.log" && : >"$log"
  (ulimit -c unlimited && exec "$bin/fdverifierd" --listen "$listen" --data-dir "$scratch/data" \
    --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --client-ca "$pki/client-ca.pem" \
    --tpm-ca "$scratch/tpm-pki/tpm-vendor-ca.pem" --signing-key "$scratch/signing.jwk" \
    --secret-key-file "$scratch/secret.key" --log-key "$scratch/log.key") 2>"$log" &
  verifier_pid=$!
  port=""
  for _ in $(seq 200); do
    port=$(grep -m1 '"event":"start"' "$log" 2>/dev/null | jq -r .port || true)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || fail "fdverifierd did not start: $(cat "$log")"
  url=https://localhost:$port
}
start_verifier
ca=$pki/server-ca.pem
api() { curl -sS --cacert "$ca" "$@"; }
admin() { api --cert "$pki/admin.pem" --key "$pki/admin.key" "$@"; }
auditor() { api --cert "$pki/auditor.pem" --key "$pki/auditor.key" "$@"; }
[ "$(api "$url/healthz" | jq -r .status)" = ok ] || fail "fdverifierd is not healthy"
ok "fdverifierd serves HTTPS on port $port"

# --- 1. enrollment ----------------------------------------------------------
attester=$("$bin/fdlaunch" enroll --attestor "$scratch/attestor.sock" --verifier "$url" --ca "$ca" \
  2>"$scratch/enroll.err") || fail "fdlaunch enroll: $(cat "$scratch/enroll.err")"
[[ $attester =~ ^[0-9a-f]{32}$ ]] || fail "fdlaunch enroll printed '$attester', not an attester id"
[ "$(auditor "$url/v1/attesters/$attester" | jq -r .state)" = active ] \
  || fail "the enrolled attester is not active"
ok "the attestor is enrolled and active ($attester)"
if "$bin/fdlaunch" enroll --attestor "$scratch/attestor.sock" --verifier "$url" --ca "$ca" \
    >/dev/null 2>"$scratch/enroll2.err"; then
  fail "a second enrollment of the same EK was accepted"
fi
grep -q "409" "$scratch/enroll2.err" || fail "the second enrollment's refusal: $(cat "$scratch/enroll2.err")"
if "$bin/fdlaunch" enroll --replace --attestor "$scratch/attestor.sock" --verifier "$url" \
    --ca "$ca" >/dev/null 2>"$scratch/enroll3.err"; then
  fail "a replacement without the admin role was accepted"
fi
[ "$(auditor "$url/v1/attesters/$attester" | jq -r .state)" = active ] \
  || fail "a refused replacement changed the enrolled attester"
ok "a second enrollment of the EK, and a replacement without the admin role, are refused"

# --- 2. the policy and the key ----------------------------------------------
job=$bin/demo_phi_decrypt
mkdir -p "$scratch/job"
for i in $(seq 1 500); do echo "MRN$((100000 + i)),Patient $i,ICD10-E11.$((i % 10))"; done \
  >"$scratch/patients.csv"
head -c 32 /dev/urandom >"$scratch/phi.key"
key_hex=$(xxd -p -c 64 "$scratch/phi.key")
key_b64=$(base64 -w0 "$scratch/phi.key")
iv=$(head -c 16 /dev/urandom | xxd -p -c 64)
{ echo "$iv" | xxd -r -p
  openssl enc -aes-256-cbc -K "$key_hex" -iv "$iv" -in "$scratch/patients.csv"
} >"$scratch/job/patients.csv.enc"
echo "audit log opened" >"$scratch/job/audit.log"
sed -e "s|@DIR@|$scratch/job|g" -e "s|@OUT@|$out|g" "$src/examples/profiles/phi-decrypt.json" \
  >"$scratch/profile.json"
sed -e "s|@EXE_SHA256@|$(sha256sum <"$job" | cut -d' ' -f1)|" \
    -e "s|@LAUNCHER_SHA256@|$(sha256sum <"$bin/fdlaunch" | cut -d' ' -f1)|" \
    -e "s|@INPUT_SHA256@|$(sha256sum <"$scratch/job/patients.csv.enc" | cut -d' ' -f1)|" \
    "$src/examples/policies/phi-decrypt-release.json" >"$scratch/policy.json"
put=$(admin -X PUT -H 'Content-Type: application/json' --data-binary @"$scratch/policy.json" \
  "$url/v1/policies/phi-decrypt")
[ "$(jq -r .version <<<"$put")" = 1 ] || fail "PUT policy: $put"
code=$(auditor -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  --data-binary @"$scratch/policy.json" "$url/v1/policies/phi-decrypt")
[ "$code" = 403 ] || fail "the auditor could PUT a policy (HTTP $code)"
auditor "$url/v1/policies/phi-decrypt" | cmp -s - "$scratch/policy.json" \
  || fail "the auditor does not read back the policy as stored"
put=$(admin -X PUT -H 'Content-Type: application/json' \
  --data "{\"value\": \"$key_b64\", \"policy\": \"phi-decrypt\"}" "$url/v1/secrets/phi-key")
[ "$(jq -r .name <<<"$put")" = phi-key ] || fail "PUT secret: $put"
ok "the administrator stored the policy and the PHI key; the auditor reads, cannot write"

# --- 3. the good job ----------------------------------------------------------
# A clean environment and only fds 0-2 inherited: the manifest describes the
# job, not this script.
job_args=()
launch() {  # PROFILE STDERR_FILE [extra fdlaunch options...]; the job's own in job_args
  local profile=$1 err=$2
  shift 2
  env -i PATH=/usr/bin:/bin bash -c \
    'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@"' _ \
    "$bin/fdlaunch" --profile "$profile" --attestor "$scratch/attestor.sock" \
    --verifier "$url" --ca "$ca" --release phi-key "$@" -- "$job" "${job_args[@]}" \
    </dev/null >/dev/null 2>"$err"
}
launch "$scratch/profile.json" "$scratch/good.err" --manifest-out "$scratch/good.manifest.json" \
  || fail "the good job failed: $(cat "$scratch/good.err")"
want="records 500
sha256 $(sha256sum <"$scratch/patients.csv" | cut -d' ' -f1)"
[ "$(cat "$out/summary.txt")" = "$want" ] \
  || fail "the good job's summary is '$(cat "$out/summary.txt")', not the extract's"
grep -q "phi_decrypt: extract decrypted" "$scratch/job/audit.log" || fail "no audit line"
ok "the good job was affirmed, received the key at fd 5 and decrypted the extract with it"

# --- 4. hostile variants ----------------------------------------------------------
rm -f "$out/summary.txt"
jq --arg leak "$out/leak.txt" '.fds += [{"fd": 3, "role": "scratch", "class": "control",
    "access": "w", "open": $leak}]' "$scratch/profile.json" >"$scratch/loose.json"
set +e
launch "$scratch/loose.json" "$scratch/loose.err"
status=$?
set -e
[ "$status" -eq 125 ] || fail "the loosened job exited $status, not 125: $(cat "$scratch/loose.err")"
grep -q "secret release refused: verdict contraindicated" "$scratch/loose.err" \
  || fail "the refusal does not name the verdict: $(cat "$scratch/loose.err")"
grep -q "R8" "$scratch/loose.err" || fail "the refusal does not name the failed rule: $(cat "$scratch/loose.err")"
[ ! -e "$out/summary.txt" ] || fail "the loosened job ran"
ok "a loosened profile gets no key: exit 125, $(grep -o 'failed rules: [^;]*' "$scratch/loose.err" | head -1)"

# The bundles below are of a running job: the good job again, lingering after
# its result (demo_phi_decrypt --linger), re-observed by the attestor on each
# nonce (evidence_factory, as `fdlaunch attest` does).
job_args=(--linger 600)
launch "$scratch/profile.json" "$scratch/running.err" --manifest-out "$scratch/running.manifest.json" &
running=$!
job_args=()
for _ in $(seq 200); do [ -s "$out/summary.txt" ] && break; sleep 0.1; done
[ -s "$out/summary.txt" ] || fail "the running job did not start: $(cat "$scratch/running.err")"
ok "a second good job runs on, released after its observation"

# A genuine bundle of the running job on a fresh nonce, and the same bundle
# with its manifest changed (fd 5 declared writable), every digest recomputed.
nonce() {  # [BODY]
  local body='{}'
  [ $# -eq 0 ] || body=$1
  api -X POST -H 'Content-Type: application/json' --data "$body" "$url/v1/challenge" | jq -r .nonce
}
factory() {  # OUT NONCE...
  local file=$1
  shift
  printf '%s\n' "$@" >"$file.nonces"
  "$bin/evidence_factory" --attestor "$scratch/attestor.sock" \
    --manifest "$scratch/running.manifest.json" --nonces "$file.nonces" --out "$file" \
    2>"$file.err" || fail "evidence_factory: $(cat "$file.err")"
}
# A bundle file holds one line: the bundle is its bytes without the newline.
attest() { printf '%s' "$(cat "$1")" | api -X POST -H 'Content-Type: application/json' \
  --data-binary @- "$url/v1/attest?release=phi-key"; }
factory "$scratch/fresh.json" "$(nonce)"
tamper() {  # the manifest's fd 5 access "r" -> "rw", digests recomputed
  local manifest digest qualifying
  manifest=$(jq -r .manifest "$1" | base64 -d)
  manifest=${manifest/\"access\":\"r\",\"append\":false,\"fd\":5/\"access\":\"rw\",\"append\":false,\"fd\":5}
  digest=$(printf '%s' "$manifest" | sha256sum | cut -d' ' -f1)
  # qualifying_data = SHA-256("fdattest/v1" || nonce || SHA-256(manifest))
  qualifying=$({ printf 'fdattest/v1'; jq -r .nonce "$1" | xxd -r -p; echo "$digest" | xxd -r -p; } \
    | sha256sum | cut -d' ' -f1)
  jq -c --arg m "$(printf '%s' "$manifest" | base64 -w0)" --arg d "$digest" --arg q "$qualifying" \
    '.manifest = $m | .manifest_sha256 = $d | .qualifying_data = $q' "$1"
}
tamper "$scratch/fresh.json" >"$scratch/tampered.json"
cmp -s "$scratch/fresh.json" "$scratch/tampered.json" && fail "the tampering changed nothing"
answer=$(attest "$scratch/tampered.json")
[ "$(jq -r .verdict <<<"$answer")" = broken_evidence ] \
  || fail "a manifest changed in transit was not broken evidence: $(jq -c '{verdict,reason}' <<<"$answer")"
[ "$(jq -r '.secrets | length' <<<"$answer")" = 0 ] || fail "a changed manifest got a secret"
echo "$answer" >"$scratch/response.tampered.json"
ok "a manifest changed in transit is broken evidence ($(jq -r .reason <<<"$answer")), no key"

# --- 5. replay ----------------------------------------------------------------
factory "$scratch/replay.json" "$(nonce)"
posts=()
for i in $(seq 1 20); do
  attest "$scratch/replay.json" >"$scratch/response.replay.$i.json" &
  posts+=($!)
done
wait "${posts[@]}"
affirmed=$(cat "$scratch"/response.replay.*.json | jq -r .verdict | grep -c '^affirming$' || true)
released=$(cat "$scratch"/response.replay.*.json | jq -r '.secrets | length' | grep -c '^1$' || true)
used=$(cat "$scratch"/response.replay.*.json | jq -r .reason | grep -c 'already used' || true)
[ "$affirmed" -eq 1 ] && [ "$released" -eq 1 ] && [ "$used" -eq 19 ] \
  || fail "20 concurrent posts of one bundle: $affirmed affirmed, $released released, $used 'already used'"
ok "one bundle posted 20 times at once: accepted once, 19 refused as already used"
answer=$(attest "$scratch/replay.json")
[ "$(jq -r .verdict <<<"$answer")" = broken_evidence ] || fail "a later replay was accepted"
short=$(nonce '{"lifetime": 1}')
factory "$scratch/expired.json" "$short"
sleep 2.2
answer=$(attest "$scratch/expired.json")
grep -q expired <<<"$(jq -r .reason <<<"$answer")" \
  || fail "an expired nonce was not refused as expired: $(jq -c '{verdict,reason}' <<<"$answer")"
ok "an expired nonce is refused ($(jq -r .reason <<<"$answer"))"

# --- 6. the EAR, checked by a relying party with the JWKS -------------------------
good_ear=$(cat "$scratch"/response.replay.*.json | jq -r 'select(.verdict == "affirming") | .ear')
printf '%s' "$good_ear" >"$scratch/ear.jws"
api "$url/.well-known/fdattest-keys" >"$scratch/jwks.json"
jose jws ver -i "$scratch/ear.jws" -k "$scratch/jwks.json" -O "$scratch/ear.claims.json" \
  || fail "jose jws ver refused the EAR with the published JWKS"
[ "$(jq -r '.submods.fdattest.ear_status' "$scratch/ear.claims.json")" = affirming ] \
  || fail "the verified EAR does not say affirming: $(cat "$scratch/ear.claims.json")"
# One signature byte changed (a character inside the signature, whose 6 bits
# are all significant; the last character carries padding bits).
sig=${good_ear##*.}
c=${sig:10:1}
[ "$c" = A ] && c=B || c=A
printf '%s.%s%s%s' "${good_ear%.*}" "${sig:0:10}" "$c" "${sig:11}" >"$scratch/ear.bad.jws"
if jose jws ver -i "$scratch/ear.bad.jws" -k "$scratch/jwks.json" 2>/dev/null; then
  fail "jose jws ver accepted an EAR with a changed signature"
fi
ok "the EAR verifies with jose jws ver against the JWKS from curl (and a changed one does not)"

# --- 6b. kill -9: nothing acknowledged is lost ---------------------------------------
good_id=$(cat "$scratch"/response.replay.*.json | jq -r 'select(.verdict == "affirming") | .id')
pending_nonce=$(nonce)
kill -KILL "$verifier_pid"
wait "$verifier_pid" 2>/dev/null || true
start_verifier "$port"
[ "$(api "$url/v1/attestations/$good_id" | jq -r .verdict)" = affirming ] \
  || fail "the acknowledged result $good_id is gone after kill -9"
factory "$scratch/after-kill.json" "$pending_nonce"
[ "$(attest "$scratch/after-kill.json" | jq -r .verdict)" = affirming ] \
  || fail "a nonce issued before kill -9 is not usable after the restart"
[ "$(attest "$scratch/replay.json" | jq -r .verdict)" = broken_evidence ] \
  || fail "a nonce consumed before kill -9 is usable again after the restart"
ok "after kill -9 and a restart: the acknowledged result, the issued nonce and the used nonce are as they were"

# --- 7. revocation ------------------------------------------------------------------
[ "$(admin -X DELETE "$url/v1/attesters/$attester" | jq -r .state)" = revoked ] \
  || fail "the administrator could not revoke the attester"
factory "$scratch/revoked.json" "$(nonce)"
answer=$(attest "$scratch/revoked.json")
echo "$answer" >"$scratch/response.revoked.json"
[ "$(jq -r .verdict <<<"$answer")" = broken_evidence ] && grep -q revoked <<<"$(jq -r .reason <<<"$answer")" \
  || fail "a revoked attester's evidence: $(jq -c '{verdict,reason}' <<<"$answer")"
[ "$(jq -r '.secrets | length' <<<"$answer")" = 0 ] || fail "a revoked attester got a secret"
ok "a revoked attester's evidence is broken ($(jq -r .reason <<<"$answer")), no key"

# --- 7b. the audit archive: receipts, an exported bundle verified offline, shredding ---
good=$(cat "$scratch"/response.replay.*.json | jq -c 'select(.verdict == "affirming")')
receipt_size=$(jq -r .receipt.tree_size <<<"$good")
[ "$(jq -r .receipt.leaf_index <<<"$good")" -lt "$receipt_size" ] \
  && grep -q "^result $good_id\$" <<<"$(jq -r .receipt.leaf <<<"$good")" \
  || fail "the affirming answer carries no receipt for its result: $(jq -c .receipt <<<"$good")"
auditor "$url/v1/audit/checkpoint" >"$scratch/checkpoint.txt"
[ "$(head -1 "$scratch/checkpoint.txt")" = fdattest.test/e2e-audit ] \
  || fail "GET /v1/audit/checkpoint: $(cat "$scratch/checkpoint.txt")"
[ "$(auditor "$url/v1/audit/proof/inclusion?result=$good_id" | jq -r .leaf_index)" \
  = "$(jq -r .receipt.leaf_index <<<"$good")" ] || fail "the log does not find the result's leaf"
ok "the affirming answer's receipt names its leaf; the auditor reads the checkpoint and finds the leaf"
export_bundle() {  # DIR
  "$bin/fdattest" audit export --data-dir "$scratch/data" --secret-key-file "$scratch/secret.key" \
    --log-key "$scratch/log.key.vkey" --signing-key "$scratch/signing.jwk" \
    --tpm-ca "$scratch/tpm-pki/tpm-vendor-ca.pem" --from 0 --to $(($(date +%s) + 1)) --out "$1" \
    >/dev/null || fail "fdattest audit export failed"
}
export_bundle "$scratch/bundle"
"$bin/fdattest" audit verify "$scratch/bundle" --log-key "$scratch/log.key.vkey" >"$scratch/verify.txt" \
  || fail "the exported bundle does not verify: $(cat "$scratch/verify.txt")"
entries=$(ls "$scratch/bundle/entries" | wc -l)
grep -q "decisions re-run and reproduced" "$scratch/verify.txt" && [ "$entries" -ge 5 ] \
  || fail "audit verify: $(tail -1 "$scratch/verify.txt")"
ok "$entries archived decisions exported and verified offline: $(tail -1 "$scratch/verify.txt")"
cp -r "$scratch/bundle" "$scratch/bundle.edited"
leaf=$(jq -r .receipt.leaf_index <<<"$good")
printf 'X' | dd of="$scratch/bundle.edited/entries/$leaf/result.json" bs=1 seek=20 conv=notrunc 2>/dev/null
if "$bin/fdattest" audit verify "$scratch/bundle.edited" --log-key "$scratch/log.key.vkey" \
    >"$scratch/verify.edited.txt"; then
  fail "a bundle with an edited result verifies"
fi
grep -q "^entries/$leaf/result.json:" "$scratch/verify.edited.txt" \
  || fail "audit verify does not name the edited file: $(cat "$scratch/verify.edited.txt")"
ok "one edited byte in entries/$leaf/result.json: audit verify fails and names it"
[ "$(admin -X DELETE "$url/v1/tenants/default" | jq -r .tenant)" = default ] \
  || fail "the administrator could not shred tenant default"
[ "$(api -o /dev/null -w '%{http_code}' "$url/v1/attestations/$good_id")" = 410 ] \
  || fail "a shredded result is still served"
export_bundle "$scratch/bundle.shredded"
"$bin/fdattest" audit verify "$scratch/bundle.shredded" --log-key "$scratch/log.key.vkey" \
  >"$scratch/verify.shredded.txt" || fail "after shredding, the bundle does not verify: $(cat "$scratch/verify.shredded.txt")"
[ "$(ls "$scratch/bundle.shredded/entries" | wc -l)" -ge "$entries" ] \
  && [ -z "$(ls "$scratch"/bundle.shredded/entries/*/result.json 2>/dev/null)" ] \
  && grep -q "shredded" "$scratch/verify.shredded.txt" \
  || fail "after shredding: $(tail -3 "$scratch/verify.shredded.txt")"
ok "tenant default shredded: its results are gone (410), no blob is exported, every leaf, proof and checkpoint still verifies"

# --- 8. the secret is nowhere else ------------------------------------------------------
core_check=""
if [ "$(cat /proc/sys/kernel/core_pattern)" = core ]; then
  # The kernel writes cores into the process's directory here: a dumpable
  # process does leave one, fdverifierd must not.
  mkdir -p "$scratch/cores"
  (cd "$scratch/cores" && ulimit -c unlimited && exec sleep 30) &
  probe=$!
  sleep 0.2
  kill -ABRT "$probe"
  wait "$probe" 2>/dev/null || true
  [ -n "$(ls "$scratch/cores")" ] || fail "a dumpable process left no core: the check below would prove nothing"
  rm -f "$scratch"/cores/*
  core_check=1
fi
kill -ABRT "$verifier_pid"
wait "$verifier_pid" 2>/dev/null || true
cores=$(find "$scratch" "$out" -maxdepth 1 -type f -name 'core*' 2>/dev/null || true)
[ -z "$cores" ] || fail "fdverifierd left a core dump: $cores"
[ -n "$core_check" ] && ok "fdverifierd, killed with SIGABRT, left no core dump (a dumpable process does)"
[ -z "$core_check" ] && echo "note: core_pattern is not 'core'; the core dump check only looked for files"
# The search finds the key where it is (the test's own copy), then that copy
# goes, and what remains must not hold it.
raw=$(sed 's/../\\x&/g' <<<"$key_hex")  # the 32 raw bytes as a PCRE of \xHH escapes
[ "$(LC_ALL=C grep -rlaP -- "$raw" "$scratch" "$out" 2>/dev/null)" = "$scratch/phi.key" ] \
  || fail "the raw-byte search does not find the key in the test's own copy alone"
rm -f "$scratch/phi.key"
for needle in "$key_hex" "$key_b64"; do
  if grep -rqF -- "$needle" "$scratch" "$out" 2>/dev/null; then
    fail "the secret ($needle) is in $(grep -rlF -- "$needle" "$scratch" "$out")"
  fi
done
raw_hits=$(LC_ALL=C grep -rlaP -- "$raw" "$scratch" "$out" 2>/dev/null || true)
[ -z "$raw_hits" ] || fail "the secret's raw bytes are in $raw_hits"
ok "the key appears in no log, response, store or file (raw, hex, base64)"
echo "service_e2e_test: all checks passed"
