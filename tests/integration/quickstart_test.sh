#!/usr/bin/env bash
# Runs docs/quickstart.md as written and checks that it reaches the verdict the
# document states.
#
#   tests/integration/quickstart_test.sh SOURCE_DIR BIN_DIR
#
# The blocks run are the ```sh blocks that follow a line
# "<!-- quickstart: run -->", in document order, concatenated into one bash
# script (set -euo pipefail) that starts with what the document's unrun first
# block (the build) leaves behind: `src` is SOURCE_DIR and BIN_DIR (the build's
# bin/) leads PATH. The expected verdict is read from the document's one line
# "**Verdict: WORD** (exit status N)"; the run must print
# "fdattest verify: exit status N", a report whose first line is
# "verdict: WORD", and an EAR whose ear_status is WORD.
#
# Runs as root. The script runs in its own mount and PID namespaces, so its
# mounts, swtpm and fdattestd go away with it even when a block fails; its
# temporary directory (mktemp -t) is made under one this test removes.
set -euo pipefail

usage() { echo "usage: $0 SOURCE_DIR BIN_DIR" >&2; exit 2; }
fail() { echo "quickstart_test: FAIL: $*" >&2; exit 1; }

[ $# -eq 2 ] || usage
src=$(realpath -- "$1")
bin=$(realpath -- "$2")
doc="$src/docs/quickstart.md"
[ -f "$doc" ] || fail "$doc not found"
for b in fdlaunch fdattestd fdattest; do
  [ -x "$bin/$b" ] || fail "$bin/$b is not built"
done
[ "$(id -u)" -eq 0 ] || fail "must run as root (fdlaunch, mounts)"

# The verdict the document states: exactly one line says it.
verdict_lines=$(grep -E '^\*\*Verdict: [a-z_]+\*\* \(exit status [0-9]\)' "$doc" || true)
[ "$(printf '%s\n' "$verdict_lines" | grep -c .)" -eq 1 ] \
  || fail "docs/quickstart.md must state the verdict in exactly one line '**Verdict: WORD** (exit status N)'"
want_verdict=$(printf '%s\n' "$verdict_lines" | sed -E 's/^\*\*Verdict: ([a-z_]+)\*\*.*/\1/')
want_status=$(printf '%s\n' "$verdict_lines" | sed -E 's/.*\(exit status ([0-9])\).*/\1/')

scratch=$(mktemp -d /tmp/fdqs-test.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# The marked blocks, in order.
awk '
  /^<!-- quickstart: run -->$/ { marked = 1; next }
  marked && /^```sh$/           { inblock = 1; marked = 0; blocks++; next }
  inblock && /^```$/            { inblock = 0; print ""; next }
  inblock                       { print; next }
  NF                            { marked = 0 }
  END { if (inblock) exit 3; if (blocks < 5) exit 4 }
' "$doc" > "$scratch/blocks.sh" || fail "cannot extract the marked blocks (unterminated, or fewer than 5)"
grep -q 'fdattest verify' "$scratch/blocks.sh" || fail "no marked block runs fdattest verify"

{
  echo 'set -euo pipefail'
  printf 'src=%q\n' "$src"
  printf 'export PATH=%q:"$PATH"\n' "$bin"
  printf 'export TMPDIR=%q\n' "$scratch"
  cat "$scratch/blocks.sh"
} > "$scratch/quickstart.sh"

# Started from an empty directory, so nothing the blocks find comes from the
# source tree unless they name $src.
mkdir "$scratch/cwd"
status=0
(cd "$scratch/cwd" && unshare --mount --propagation private --pid --fork --mount-proc \
   bash "$scratch/quickstart.sh") > "$scratch/out.txt" 2> "$scratch/err.txt" || status=$?
if [ "$status" -ne 0 ]; then
  cat "$scratch/out.txt" "$scratch/err.txt" >&2
  fail "the quickstart's commands exited $status"
fi
out="$scratch/out.txt"
grep -qx "fdattest verify: exit status $want_status" "$out" \
  || { cat "$out" >&2; fail "fdattest verify did not exit $want_status"; }
grep -qE "^verdict: $want_verdict( |\$)" "$out" \
  || { cat "$out" >&2; fail "the report's verdict is not $want_verdict"; }
grep -qx "EAR ear_status: $want_verdict" "$out" \
  || { cat "$out" >&2; fail "the EAR's ear_status is not $want_verdict"; }
# The attestor started without a tpm2-tss error (its log is shown in step 2).
if grep -E '^(ERROR|WARNING):' "$out" "$scratch/err.txt"; then
  fail "a tpm2-tss error or warning line was printed"
fi
# The stop block removed the working directory (made under TMPDIR).
leftover=$(find "$scratch" -mindepth 1 -maxdepth 1 \
  ! -name cwd ! -name blocks.sh ! -name quickstart.sh ! -name out.txt ! -name err.txt)
[ -z "$leftover" ] || fail "the stop block left $leftover behind"
echo "quickstart_test: the quickstart reached '$want_verdict' (exit status $want_status)"
