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
# SECCOMP_DUMP is the built dumper (build/bin/seccomp_dump);
# OUT_DIR defaults to this script's directory; PROGRAMs default to all of:
# man qemu chromium crun tor. Packages that are missing are installed with
# apt-get (only those). Each kept filter NAME gets NAME.bpf and NAME.json
# (the program, package and version, command, date, and where the filter
# was first seen: process, stop and index in its stack).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi
dumper=$(readlink -f "$1")
out=$(readlink -f "${2:-$here}")
shift $(( $# >= 2 ? 2 : 1 ))
programs=("$@")
[ ${#programs[@]} -gt 0 ] || programs=(man qemu chromium crun tor)
[ "$(id -u)" -eq 0 ] || { echo "dump.sh: must run as root (PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN)" >&2; exit 2; }
[ -x "$dumper" ] || { echo "dump.sh: no dumper at $1" >&2; exit 2; }

# The package each program comes from, and what its dump also needs.
declare -A package_of=([man]=man-db [qemu]=qemu-system-x86 [chromium]=chromium [crun]=crun
  [tor]=tor)
declare -A also_needs=([man]="" [qemu]="" [chromium]="" [crun]="busybox-static" [tor]="")

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

need=(jq python3)
for p in "${programs[@]}"; do
  [ -n "${package_of[$p]:-}" ] || { echo "dump.sh: unknown program $p" >&2; exit 2; }
  need+=("${package_of[$p]}" ${also_needs[$p]})
done
install_missing "${need[@]}"

work=$(mktemp -d /tmp/seccomp-dumps.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
today=$(date -u +%Y-%m-%d)

# dump RUN PACKAGE TIMEOUT -- COMMAND...: runs the dumper; RUN.K.bpf and RUN.json in $work.
dump() {
  local run=$1 package=$2 timeout=$3; shift 4
  local version; version=$(dpkg-query -W -f='${Version}' "$package")
  echo "== $run: $package $version: $*"
  local rc=0
  "$dumper" --timeout "$timeout" --out "$work" --name "$run" \
    --label "package=$package" --label "version=$version" --label "date=$today" -- "$@" \
    > "$work/$run.log" 2>&1 || rc=$?
  grep -E '\.bpf |^note:|traced' "$work/$run.log" || true
  if [ $rc -ne 0 ]; then
    echo "dump.sh: $run: seccomp_dump exited $rc; its output:" >&2
    tail -20 "$work/$run.log" >&2
    return 1
  fi
}

# keep RUN NAME PROGRAM JQ_SELECTOR: the one filter of RUN that the selector
# (a jq filter over .filters[]) picks becomes NAME.bpf, with NAME.json; PROGRAM
# names the program whose filter it is. Fails unless exactly one filter matches.
keep() {
  local run=$1 name=$2 program=$3 selector=$4
  local files; files=$(jq -r ".filters[] | select($selector) | .file" "$work/$run.json")
  if [ "$(printf '%s\n' "$files" | grep -c .)" -ne 1 ]; then
    echo "dump.sh: $run: selector '$selector' matches [$files], not exactly one filter" >&2
    return 1
  fi
  cp "$work/$files" "$out/$name.bpf"
  # The scratch directory's name changes every run: it is written as $WORK.
  jq --arg file "$files" --arg name "$name.bpf" --arg work "$work" --arg program "$program" \
    'walk(if type == "string" then split($work) | join("$WORK") else . end)
     | {name: $name, program: $program, command: .command, package: .labels.package,
      version: .labels.version, date: .labels.date}
     + (.filters[] | select(.file == $file) | {sha256, instructions, processes, first_seen})' \
    "$work/$run.json" > "$out/$name.json"
  echo "kept $name.bpf ($(jq -r '"\(.instructions) instructions, sha256 \(.sha256)"' "$out/$name.json"))"
}

dump_man() {
  # man-db runs its preprocessors, nroff and pager under libseccomp filters:
  # a strict one, and a permissive one for programs that need more.
  printf '.TH PAGE 1\n.SH NAME\npage \\- a page for the dump\n' > "$work/page.1"
  dump man man-db 30 -- env MANPAGER=cat man -l "$work/page.1"
  [ "$(jq '.filters | length' "$work/man.json")" -eq 2 ] || { echo "dump.sh: man: expected 2 filters" >&2; return 1; }
  local small; small=$(jq '[.filters[].instructions] | min' "$work/man.json")
  keep man man-sandbox man ".instructions == $small"
  keep man man-sandbox-permissive man ".instructions != $small"
}

dump_qemu() {
  # An emulator that is never started (-S, no machine): the filter is in
  # place once the process waits, and is read at the timeout. "-sandbox on"
  # alone denies the obsolete syscalls; every deny option adds the clone,
  # setuid, spawn and resource rules (clone flags tested bit by bit).
  local qemu=(qemu-system-x86_64 -machine none -S -nodefaults -display none -monitor none -serial none)
  dump qemu-all qemu-system-x86 5 -- "${qemu[@]}" \
    -sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny
  keep qemu-all qemu-sandbox qemu-system-x86_64 'true'
  dump qemu-on qemu-system-x86 5 -- "${qemu[@]}" -sandbox on
  keep qemu-on qemu-sandbox-obsolete qemu-system-x86_64 'true'
}

dump_chromium() {
  # Chromium refuses to run as root without --no-sandbox, which turns off its
  # seccomp-bpf sandbox too; so it runs as nobody (traced by root).
  local home="$work/chromium-home"
  mkdir -p "$home" && chown nobody "$home"
  dump chromium chromium 60 -- setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env HOME="$home" chromium --headless --disable-gpu --dump-dom about:blank
  keep chromium chromium-renderer chromium '.first_seen.cmdline | contains("--type=renderer")'
  keep chromium chromium-utility chromium '.first_seen.cmdline | contains("--type=utility")'
}

dump_crun() {
  # The default seccomp profile of the containers tools (the Docker profile's
  # successor), from Debian's golang-github-containers-common, given to crun
  # for a busybox container with that profile's default capabilities.
  (cd "$work" && apt-get download -qq golang-github-containers-common 2>/dev/null)
  dpkg-deb --fsys-tarfile "$work"/golang-github-containers-common_*.deb \
    | tar -xO ./usr/share/containers/seccomp.json > "$work/containers-seccomp.json"
  local bundle="$work/bundle"
  mkdir -p "$bundle/rootfs/bin"
  cp /bin/busybox "$bundle/rootfs/bin/busybox"
  local caps=(CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_NET_BIND_SERVICE
    CAP_SETFCAP CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_CHROOT)
  "$here/oci_seccomp.py" "$work/containers-seccomp.json" "$(uname -r)" "${caps[@]}" > "$work/oci-seccomp.json"
  (cd "$bundle" && crun spec)
  local caps_json; caps_json=$(printf '%s\n' "${caps[@]}" | jq -R . | jq -s .)
  jq --slurpfile seccomp "$work/oci-seccomp.json" --argjson caps "$caps_json" \
    '.process.terminal = false | .process.args = ["/bin/busybox", "true"]
     | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
     | .linux.seccomp = $seccomp[0]' "$bundle/config.json" > "$bundle/config.json.new"
  mv "$bundle/config.json.new" "$bundle/config.json"
  crun delete -f seccomp-dump >/dev/null 2>&1 || true  # left over by an interrupted run
  # crun refuses a hybrid cgroup layout whose v2 tree has controllers; the
  # container needs no cgroup here, so a private mount namespace hides it.
  dump crun crun 30 -- unshare --mount --propagation private sh -c \
    "if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi;
     exec crun --cgroup-manager=disabled run -b '$bundle' seccomp-dump"
  keep crun crun-containers-default crun '.first_seen.exe == "/bin/busybox"'
}

dump_tor() {
  # A relay client that never reaches the network, with its sandbox on; the
  # filter is read at the timeout. Tor's rules compare pointers to its own
  # strings, so the constants (and the digest) change with every run.
  : > "$work/torrc"
  mkdir -p "$work/tor-data" && chmod 700 "$work/tor-data"
  dump tor tor 15 -- tor -f "$work/torrc" --Sandbox 1 --DataDirectory "$work/tor-data" \
    --SocksPort 0 --DisableNetwork 1 --Log "notice stdout"
  keep tor tor-sandbox tor 'true'
}

# Not `dump_$p || ...`: that would turn off set -e inside the function.
mkdir -p "$out"
for p in "${programs[@]}"; do "dump_$p"; done
