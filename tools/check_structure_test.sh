#!/usr/bin/env bash
# Self-test of tools/check_structure.sh: builds small trees in a temporary
# directory, a clean one and, for each rule, copies of it with exactly one
# offence, and checks that the clean tree passes and that each offence is
# reported, as the only one, at its FILE:LINE with a failing exit status. Run by
# `make lint` before the check itself, so the check cannot pass by being broken.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
check="$here/check_structure.sh"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# put FILE LINE...: writes the lines to FILE under the current tree.
put() {
  local file=$1; shift
  mkdir -p "$(dirname "$tree/$file")"
  printf '%s\n' "$@" > "$tree/$file"
}
# append FILE LINE...
append() {
  local file=$1; shift
  printf '%s\n' "$@" >> "$tree/$file"
}
# filler FILE N: pads FILE with declarations until it has N lines.
filler() {
  local have=0
  [ -f "$tree/$1" ] && have=$(wc -l < "$tree/$1")
  mkdir -p "$(dirname "$tree/$1")"
  local i
  for ((i = have; i < $2; i++)); do echo "int kFiller$i = 0;"; done >> "$tree/$1"
}

# A tree that breaks no rule but holds what the check must not mistake for an
# offence: system and library includes, includes beside the includer, paths in
# string literals and URLs, existing citations with {a,b} and * forms,
# multi-line block comments, raw strings, tests that span parts, a 600-line
# production file and a longer test.
make_clean_tree() {
  tree=$1
  put docs/formats/x.md 'A format.'
  put common/a.h \
    '// What a is; thread-compatible. Format: docs/formats/x.md.' \
    '#pragma once' \
    '#include <sys/socket.h>' \
    '#include <linux/filter.h>' \
    '#include "absl/strings/str_cat.h"' \
    '#include "common/b.h"'
  put common/b.h \
    '// Beside common/{a,b}.h and the other common/*.h, used by a.cc (see' \
    '// docs/formats/x.md#anchor, docs/, tests/...). Taken by-reference/value;' \
    '// a shared/exclusive lock. foo_test.cc is a placeholder name.' \
    '#pragma once'
  put common/a.cc \
    '#include "common/a.h"' \
    '#include "b.h"' \
    'const char* kData = "docs/missing.md";  // data: https://example.org/docs/missing.md' \
    'const char* kRaw = R"({"k":"/* not a comment: docs/missing.md */"})";' \
    'const char kQuote = '"'\"'"';  // a quote character; see common/a.h' \
    'int kSeparated = 1'"'"'000;  // a digit separator; see common/b.h' \
    '/* A block comment' \
    '   over lines, citing launcher/l.cc */'
  filler common/a.cc 600
  put common/a_test.cc \
    '#include "common/a.h"' \
    '#include "tests/support/s.h"'
  filler common/a_test.cc 700
  put common/CMakeLists.txt '# Builds common/a.cc.' 'add_library(a a.cc)  # see docs/formats/x.md'
  put tests/support/s.h '// A test helper.' '#pragma once'
  put attestor/t.h '// The attestor part.' '#pragma once' '#include "common/a.h"'
  put attestor/t.c '#include "common/a.h"'
  filler attestor/t.c 600
  put launcher/l.h '// The launcher part.' '#pragma once'
  put launcher/l.cc '#include "launcher/l.h"' '#include "attestor/t.h"' '#include "common/a.h"'
  put verifier/v.cc '#include "common/a.h"' '#include "verifier/v.h"'
  put verifier/v.h '// The verifier part (v.cc).' '#pragma once'
  put tests/span_test.cc \
    '#include "attestor/t.h"' \
    '#include "verifier/v.h"' \
    '// Spans launcher/l.cc and verifier/v.cc, so it lives in tests/.'
  put README.md '# Tree' '' 'See [the guide](docs/guide.md) and `common/a.h`.'
  put docs/guide.md \
    '# Guide' \
    '' \
    'Formats: [x](formats/x.md), [x again](formats/x.md#anchor), [up](../README.md),' \
    '[here](#guide), [the web](https://example.org/docs/missing.md). Code: `common/{a,b}.h`.'
  put tools/run.sh \
    '#!/usr/bin/env bash' \
    'echo "$#" ${#} "# not a comment: docs/missing.md"  # see docs/formats/x.md' \
    "echo '# not a comment either: docs/missing.md'"
}

# expect_clean NAME DIR
expect_clean() {
  local out rc
  out=$(cd / && "$check" "$2" 2>&1); rc=$?
  if [ $rc -ne 0 ]; then fail "$1: expected clean, got exit $rc:"; echo "$out" | sed 's/^/    /'; fi
}
# expect_offence NAME DIR FILE:LINE TEXT [default-root]: the check exits 1 and
# prints exactly one offence, at FILE:LINE, containing TEXT. With default-root
# the check runs from a copy inside DIR, whose own comments (citing files this
# small tree lacks) are left out of the count.
expect_offence() {
  local name=$1 dir=$2 where=$3 text=$4 out rc
  if [ "${5:-}" = default-root ]; then
    mkdir -p "$dir/tools" && cp "$check" "$dir/tools/check_structure.sh"
    out=$(cd / && "$dir/tools/check_structure.sh" 2>&1); rc=$?
    out=$(grep -v '^tools/check_structure[.]sh:' <<< "$out")
  else
    out=$(cd / && "$check" "$dir" 2>&1); rc=$?
  fi
  local offences matching
  offences=$(grep -cE '^[^ :]+:[0-9]+: ' <<< "$out")
  matching=$(grep -F "$where: " <<< "$out" | grep -cF "$text")
  if [ $rc -ne 1 ] || [ "$offences" -ne 1 ] || [ "$matching" -ne 1 ]; then
    fail "$name: expected exit 1 and one offence at $where saying '$text', got exit $rc:"
    echo "$out" | sed 's/^/    /'
  fi
}

make_clean_tree "$scratch/clean"
expect_clean clean "$scratch/clean"

# case_ NAME FILE:LINE TEXT COMMAND...: runs COMMAND in a fresh copy of the
# clean tree, then expects exactly that offence.
case_number=0
case_() {
  local name=$1 where=$2 text=$3; shift 3
  case_number=$((case_number + 1))
  tree="$scratch/case$case_number"
  cp -r "$scratch/clean" "$tree"
  "$@"
  expect_offence "$name" "$tree" "$where" "$text"
}
cites='which is not in the repository'

# 1. Size.
case_ production-cc-over-600 common/big.cc:601 'has 601 lines' filler common/big.cc 601
case_ production-h-over-600 verifier/big.h:601 'has 700 lines' filler verifier/big.h 700
case_ production-c-over-600 attestor/t.c:601 'has 601 lines' filler attestor/t.c 601

# 2. Citations.
case_ design-notes common/b.h:5 "cites DESIGN.md, $cites" \
  append common/b.h '// The rules of DESIGN.md.'
case_ style-notes-in-shell tools/run.sh:4 "cites STYLE.md, $cites" \
  append tools/run.sh '# As STYLE.md says.'
case_ reference-folder verifier/v.h:3 "cites reference/formats.md, $cites" \
  append verifier/v.h '// Clauses (reference/formats.md s3.4).'
case_ shared-folder verifier/v.h:3 "cites shared/notes.txt, $cites" \
  append verifier/v.h '// See ../shared/notes.txt.'
case_ missing-doc-in-block-comment common/a.h:9 "cites docs/formats/missing.md, $cites" \
  append common/a.h '/* Two' ' lines, then' ' docs/formats/missing.md */'
case_ missing-folder-in-cmake common/CMakeLists.txt:3 "cites tests/missing/, $cites" \
  append common/CMakeLists.txt '# tests/missing/'
case_ missing-brace-alternative common/b.h:5 "cites common/{a,zz}.h, $cites" \
  append common/b.h '// common/{a,zz}.h'
case_ glob-matching-nothing common/b.h:5 "cites tests/*.zz, $cites" \
  append common/b.h '// every tests/*.zz'
case_ missing-bare-name launcher/l.cc:4 'cites gone.cc, but no file' \
  append launcher/l.cc '// As gone.cc does.'
case_ missing-path-after-code attestor/t.h:4 "cites attestor/gone.h, $cites" \
  append attestor/t.h 'int k = 0;  // attestor/gone.h'

case_ doc-design-notes docs/guide.md:5 "cites DESIGN.md, $cites" \
  append docs/guide.md 'As DESIGN.md says.'
case_ doc-reference-folder README.md:4 "cites reference/formats.md, $cites" \
  append README.md 'The catalogue in `reference/formats.md`.'
case_ doc-missing-path docs/guide.md:5 "cites verifier/gone.h, $cites" \
  append docs/guide.md 'Code: `verifier/gone.h`.'
case_ doc-broken-link docs/guide.md:5 'links to docs/formats/gone.md, which is not' \
  append docs/guide.md 'See [gone](formats/gone.md#top).'
# Literals end where they end: the comment after them is still read.
case_ comment-after-char-literal common/b.h:5 "cites docs/gone.md, $cites" \
  append common/b.h 'char q = '"'\"'"';  // docs/gone.md'
case_ comment-after-escaped-quote common/b.h:5 "cites docs/gone.md, $cites" \
  append common/b.h 'const char* s = "a\"b//c";  // docs/gone.md'
case_ comment-after-digit-separator common/b.h:5 "cites docs/gone.md, $cites" \
  append common/b.h 'int n = 1'"'"'000;  // docs/gone.md'
case_ comment-after-raw-string common/b.h:5 "cites docs/gone.md, $cites" \
  append common/b.h 'auto r = R"x(a")" // b)x";  // docs/gone.md'

# 3. Includes.
case_ missing-project-include verifier/v.cc:3 'includes "common/missing.h"' \
  append verifier/v.cc '#include "common/missing.h"'
case_ missing-relative-include launcher/l.cc:4 'includes "missing.h"' \
  append launcher/l.cc '#include "missing.h"'

# 4. Layering.
case_ verifier-includes-attestor verifier/v.cc:3 'verifier/ must not include attestor/' \
  append verifier/v.cc '#include "attestor/t.h"'
case_ verifier-includes-launcher verifier/v.cc:3 'verifier/ must not include launcher/' \
  append verifier/v.cc '#include "launcher/l.h"'
case_ common-includes-launcher common/c.cc:1 'common/ must not include launcher/' \
  put common/c.cc '#include "launcher/l.h"'
case_ common-includes-attestor common/c.cc:1 'common/ must not include attestor/' \
  put common/c.cc '#include "attestor/t.h"'
case_ common-includes-verifier common/c.h:1 'common/ must not include verifier/' \
  put common/c.h '#include "verifier/v.h"'
case_ launcher-includes-verifier launcher/l.cc:4 'launcher/ must not include verifier/' \
  append launcher/l.cc '#include "verifier/v.h"'
case_ attestor-includes-launcher attestor/t.h:4 'attestor/ must not include launcher/' \
  append attestor/t.h '#include <launcher/l.h>'
case_ production-includes-tests common/c.cc:1 'common/ must not include tests/' \
  put common/c.cc '#include "tests/support/s.h"'
case_ test-in-common-includes-launcher common/a_test.cc:701 'not even in a test' \
  append common/a_test.cc '#include "launcher/l.h"'
case_ test-in-verifier-includes-attestor verifier/v_test.cc:2 'not even in a test' \
  put verifier/v_test.cc '#include "verifier/v.h"' '#include "attestor/t.h"'

# Without ROOT the check reads the tree it sits in, whatever the working directory.
tree="$scratch/default-root"
cp -r "$scratch/clean" "$tree"
append verifier/v.cc '#include "attestor/t.h"'
expect_offence default-root "$tree" verifier/v.cc:3 'must not include attestor/' default-root

# A root that does not exist is a usage error, not a clean tree.
(cd / && "$check" "$scratch/no-such-tree" > /dev/null 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "missing root: expected exit 2, got $rc"

if [ $failures -ne 0 ]; then echo "check_structure self-test: $failures failed"; exit 1; fi
echo "check_structure self-test: $((case_number + 3)) cases passed"
