#!/usr/bin/env bash
# Runs README.md's "The verifier service" examples as written and checks that
# each prints what the README says it prints.
#
#   tests/integration/readme_curl_test.sh SOURCE_DIR BIN_DIR
#
# The blocks run are the ```sh blocks that follow a line
# "<!-- readme: run -->", in document order, in one bash script
# (set -euo pipefail), so a command that fails stops the run and names its
# block. A run block may be followed by a line "<!-- readme: prints -->" and a
# ```text block: each of its lines must match a line of that block's output,
# in order, where "…" stands for any characters.
#
# The script runs in a scratch directory laid out like the repository's root
# (certs/, examples/, tests/ link to SOURCE_DIR; build/bin to BIN_DIR), in its
# own network, mount and PID namespaces: the README's fixed port is free there,
# and the daemon goes away with the script even when a block fails. Root.
set -euo pipefail

usage() { echo "usage: $0 SOURCE_DIR BIN_DIR" >&2; exit 2; }
fail() { echo "readme_curl_test: FAIL: $*" >&2; exit 1; }

[ $# -eq 2 ] || usage
src=$(realpath -- "$1")
bin=$(realpath -- "$2")
doc="$src/README.md"
[ -f "$doc" ] || fail "$doc not found"
for b in fdverifierd fdattest; do
  [ -x "$bin/$b" ] || fail "$bin/$b is not built"
done
for t in curl jq jose openssl unshare ip; do
  command -v "$t" >/dev/null || fail "$t is not installed"
done
[ "$(id -u)" -eq 0 ] || fail "must run as root (namespaces)"

scratch=$(mktemp -d /tmp/fdreadme-test.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# The run blocks, each preceded by a marker line its output starts with, and
# the expected lines of each block (file expect.N).
awk -v dir="$scratch" '
  /^<!-- readme: run -->$/    { want = "run"; next }
  /^<!-- readme: prints -->$/ { want = "prints"; next }
  want == "run" && /^```sh$/  { blocks++; mode = "run"; want = "";
                                printf "printf \"@@readme block %d@@\\n\"\n", blocks; next }
  want == "prints" && /^```text$/ { if (!blocks || printed[blocks]++) exit 5; mode = "prints"; want = ""; next }
  mode != "" && /^```$/       { if (mode == "run") print ""; mode = ""; next }
  mode == "run"               { print; next }
  mode == "prints"            { print > (dir "/expect." blocks); next }
  NF                          { want = "" }
  END { if (mode != "") exit 3; if (blocks < 5) exit 4 }
' "$doc" > "$scratch/blocks.sh" || fail "cannot extract the marked blocks (unterminated, misplaced, or fewer than 5)"
grep -q 'fdverifierd ' "$scratch/blocks.sh" || fail "no marked block starts fdverifierd"
grep -q 'curl ' "$scratch/blocks.sh" || fail "no marked block runs curl"
ls "$scratch"/expect.* >/dev/null 2>&1 || fail "no block says what it prints"

{
  echo 'set -euo pipefail'
  cat "$scratch/blocks.sh"
  echo 'printf "@@readme end@@\n"'
} > "$scratch/readme.sh"

work="$scratch/root"
mkdir -p "$work/build"
for d in certs examples tests; do ln -s "$src/$d" "$work/$d"; done
ln -s "$bin" "$work/build/bin"

status=0
(cd "$work" && unshare --net --mount --propagation private --pid --fork --mount-proc \
   bash -c 'ip link set lo up && exec bash "$0"' "$scratch/readme.sh") \
  > "$scratch/out.txt" 2> "$scratch/err.txt" || status=$?
out="$scratch/out.txt"
last=$(grep -o '^@@readme block [0-9]*@@$' "$out" | tail -n 1 | tr -dc 0-9)
if [ "$status" -ne 0 ] || ! grep -qx '@@readme end@@' "$out"; then
  cat "$out" "$scratch/err.txt" >&2
  [ -f "$work/fdverifierd.log" ] && { echo "--- fdverifierd.log"; cat "$work/fdverifierd.log"; } >&2
  fail "block ${last:-?} exited $status"
fi

# Each block's output against its expected lines, in order.
checked=0
for expect in "$scratch"/expect.*; do
  n=${expect##*.}
  awk -v n="$n" '
    $0 == "@@readme block " n "@@" { on = 1; next }
    /^@@readme (block [0-9]+|end)@@$/ { on = 0 }
    on
  ' "$out" > "$scratch/got.$n"
  pos=0
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    # The line as an anchored extended regex: literal text, "…" any characters.
    re=$(printf '%s' "$line" | sed -e 's/[][\.*^$(){}+?|/]/\\&/g' -e 's/…/.*/g')
    hit=$(tail -n +"$((pos + 1))" "$scratch/got.$n" | grep -nE -m1 "^${re}\$" | cut -d: -f1 || true)
    if [ -z "$hit" ]; then
      echo "block $n printed:" >&2
      cat "$scratch/got.$n" >&2
      fail "block $n did not print a line matching: $line"
    fi
    pos=$((pos + hit))
    checked=$((checked + 1))
  done < "$expect"
done
[ "$checked" -gt 0 ] || fail "no expected line was checked"
echo "readme_curl_test: $(grep -c '^@@readme block' "$out") blocks ran, $checked printed lines as documented"
