#!/usr/bin/env bash
# Stops the swtpm that start.sh started on DIR (SIGTERM, then SIGKILL after
# 5 s) and waits until it is gone. The TPM state in DIR is kept. Succeeds
# quietly when no swtpm runs there.
#
#   tools/swtpm/stop.sh DIR
set -euo pipefail

usage() { echo "usage: $0 DIR" >&2; exit 2; }
die() { echo "swtpm stop: $*" >&2; exit 1; }

[ $# -eq 1 ] || usage
DIR=$(realpath -- "$1")
[ -s "$DIR/pid" ] || exit 0
pid=$(cat "$DIR/pid")
[[ "$pid" =~ ^[0-9]+$ ]] || die "$DIR/pid does not hold a process id"
# Only signal the process if it is still swtpm (the PID may have been reused).
if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != swtpm ]; then
  rm -f -- "$DIR/pid"
  exit 0
fi

# A daemon is not our child; once dead it may linger as a zombie until init
# reaps it, which counts as gone.
gone() {
  ! kill -0 "$pid" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]
}
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 500); do gone && { rm -f -- "$DIR/pid"; exit 0; }; sleep 0.01; done
kill -KILL "$pid" 2>/dev/null || true
# SIGKILL leaves the sockets behind.
for _ in $(seq 200); do
  gone && { rm -f -- "$DIR/pid" "$DIR/sock" "$DIR/sock.ctrl"; exit 0; }
  sleep 0.01
done
die "swtpm (pid $pid) on $DIR did not exit"
