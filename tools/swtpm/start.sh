#!/usr/bin/env bash
# Starts swtpm (TPM 2.0) as a daemon on the state in DIR, serving unix sockets
# DIR/sock (TPM commands) and DIR/sock.ctrl (control channel; the swtpm TCTI
# needs both). The TPM is already started up (TPM2_Startup(CLEAR)), so a
# client's own Startup returns TPM2_RC_INITIALIZE, which is harmless.
#
#   tools/swtpm/start.sh DIR        then TCTI "swtpm:path=DIR/sock"
#
# DIR holds a blank state or a copy of a provisioned tpm2-00.permall (see
# provision.sh). Prints nothing on success; on failure says why and exits 1.
# swtpm serves one client connection at a time. Stop it with stop.sh DIR.
set -euo pipefail

usage() { echo "usage: $0 DIR" >&2; exit 2; }
die() { echo "swtpm start: $*" >&2; exit 1; }

[ $# -eq 1 ] || usage
command -v swtpm >/dev/null || die "swtpm not found (apt-get install swtpm)"
[ -d "$1" ] || die "$1 is not a directory"
# swtpm --daemon changes directory to /: absolute paths only.
DIR=$(realpath -- "$1")
# sun_path holds 107 characters; DIR/sock.ctrl must fit.
[ ${#DIR} -le 97 ] || die "$DIR is too long for a unix socket path (max 97 characters)"
if [ -s "$DIR/pid" ] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then
  die "swtpm already runs on $DIR (pid $(cat "$DIR/pid"))"
fi
rm -f -- "$DIR/pid"

# The sockets are bound before swtpm forks, so once this returns 0 clients can
# connect; errors (a locked state, a bad path) are reported synchronously.
if ! out=$(swtpm socket --tpm2 \
      --server type=unixio,path="$DIR/sock" --ctrl type=unixio,path="$DIR/sock.ctrl" \
      --tpmstate dir="$DIR" --flags not-need-init,startup-clear \
      --daemon --pid file="$DIR/pid" --log file="$DIR/swtpm.log",level=1 2>&1); then
  die "swtpm failed on $DIR: $out $(tail -n 5 "$DIR/swtpm.log" 2>/dev/null)"
fi
# The daemon writes its PID file itself, a moment after the parent returns.
for _ in $(seq 500); do
  [ -s "$DIR/pid" ] && exit 0
  sleep 0.01
done
die "swtpm on $DIR wrote no PID file within 5 s"
