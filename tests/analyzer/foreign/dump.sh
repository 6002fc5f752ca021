#!/usr/bin/env bash
# Dumps the seccomp filters of real programs from Debian packages, for the
# analyzer's tests on filters fdattest did not generate. Each program runs
# under seccomp_dump (tests/analyzer/foreign/seccomp_dump.cc), which reads
# every installed filter with PTRACE_SECCOMP_GET_FILTER; the chosen filters
# are kept as <name>.bpf beside this script, with <name>.json saying where
# each came from. Run by hand, as root; the results are committed as test data.
#
#   tests/analyzer/foreign/dump.sh SECCOMP_DUMP [OUT_DIR] [PROGRAM...]
#
# SECCOMP_DUMP is the built dumper (build/tests/analyzer/foreign/seccomp_dump);
# OUT_DIR defaults to this script's directory; PROGRAMs default to all of:
# file man qemu chromium crun tor.
# Packages that are missing are installed with apt-get (only those).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
dumper=$(readlink -f "$1")
out=$(readlink -f "${2:-$here}")
shift $(( $# >= 2 ? 2 : 1 ))
programs=("$@")
[ ${#programs[@]} -gt 0 ] || programs=(file man qemu chromium crun tor)
[ "$(id -u)" -eq 0 ] || { echo "dump.sh: must run as root (PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN)" >&2; exit 2; }
[ -x "$dumper" ] || { echo "dump.sh: no dumper at $1" >&2; exit 2; }

declare -A package_of=([file]=file [man]=man-db [qemu]=qemu-system-x86 [chromium]=chromium
  [crun]=crun [tor]=tor)

install_missing() {
  local missing="" p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "installing:$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  fi
}

version_of() { dpkg-query -W -f='${Version}' "$1"; }

need=()
for p in "${programs[@]}"; do
  [ -n "${package_of[$p]:-}" ] || { echo "dump.sh: unknown program $p" >&2; exit 2; }
  need+=("${package_of[$p]}")
done
install_missing "${need[@]}"
if [ -n "${DUMP_INSTALL_ONLY:-}" ]; then exit 0; fi
