#!/usr/bin/env bash
# Fails when the tree breaks one of its structural rules, printing each
# offence as FILE:LINE: what is wrong (paths relative to the repository root):
#
#  1. Size. A production source (.cc, .h, .c under common/ launcher/ attestor/
#     verifier/, except *_test.cc) has more than 600 lines. The offence names
#     line 601, the first one over the limit.
#  2. Citations. A comment in code (.cc .h .c .sh .py .cmake CMakeLists.txt
#     under the parts, tests/ bench/ tools/ examples/ certs/) cites a file that
#     is not in the repository:
#       - a path that starts with a project folder (common/ launcher/ attestor/
#         verifier/ tests/ bench/ examples/ tools/ certs/ docs/), resolved from
#         the root; {a,b} alternatives must all exist, a * pattern must match;
#       - a bare file name (foo.cc, foo.h, foo.c, foo.md, starting with a
#         lower-case letter) that no file in the repository carries; names
#         starting with foo or bar are placeholders and not checked;
#       - the upper-case design and style notes by name, and any path under a
#         reference or shared folder: such notes live outside the repository,
#         so the code must say the fact itself.
#     Paths inside string literals are data, not citations, and are not read;
#     neither are paths that are part of a URL.
#     Documents (every .md file) are held to the same rule, over their whole
#     text rather than comments: the notes outside the repository, and project
#     folder paths, are checked as above, and a relative Markdown link target
#     [text](target) must exist beside the document. Bare names are not
#     checked in documents (their links are relative to the document).
#  3. Includes. An #include "..." names a project header that does not exist
#     (a project folder path from the root; a bare name beside the includer).
#     System and library headers (<...>, "absl/...", "gtest/...") are not
#     checked.
#  4. Layering. A part includes a header of a part it must not depend on. The
#     dependency direction is common <- attestor <- launcher and
#     common <- verifier, so: common/ includes no other part; attestor/
#     includes neither launcher/ nor verifier/; launcher/ never includes
#     verifier/; verifier/ includes neither attestor/ nor launcher/.
#     Production code never includes tests/.
#  5. Storage claims. No example, test, benchmark or tool (any file under
#     examples/ tests/ bench/ tools/, this check and its test aside) names
#     the policy key encrypted_fs_types: a filesystem's name is not proof of
#     encryption (tmpfs and ramfs are memory only, never encrypted), and the
#     policy loader refuses the key (verifier/policy_model.cc); storage is
#     approved per role from the launcher's fscrypt and statfs fingerprint.
#     The rule holds for the *_test.cc beside the code too: a test there tests
#     its own part, with only what that part may depend on; a test that needs
#     two parts spans them and belongs in tests/. Tests may include
#     tests/support/ (and any other tests/ header).
#
#   tools/check_structure.sh [ROOT]   checks ROOT (default: this repository),
#                                     from any working directory
#
# Exit status: 0 clean, 1 offences found, 2 usage error.
# tools/check_structure_test.sh runs it on small trees with known offences.
set -uo pipefail

if [ $# -gt 1 ]; then echo "usage: $0 [ROOT]" >&2; exit 2; fi
root=${1:-"$(dirname "$0")/.."}
if ! cd "$root" 2>/dev/null; then echo "check_structure: cannot enter $root" >&2; exit 2; fi

readonly kMaxLines=600
scanned=(common launcher attestor verifier tests bench tools examples certs)
project_dirs='common|launcher|attestor|verifier|tests|bench|examples|tools|certs|docs'
status=0
offence() { echo "$1"; status=1; }

existing=()
for d in "${scanned[@]}"; do [ -d "$d" ] && existing+=("$d"); done
c_files=()
script_files=()
if [ ${#existing[@]} -gt 0 ]; then
  mapfile -t c_files < <(find "${existing[@]}" -type f \
    \( -name '*.cc' -o -name '*.h' -o -name '*.c' \) | LC_ALL=C sort)
  mapfile -t script_files < <(find "${existing[@]}" -type f \
    \( -name '*.sh' -o -name '*.py' -o -name '*.cmake' -o -name 'CMakeLists.txt' \) \
    | LC_ALL=C sort)
fi
mapfile -t md_files < <(find . \( -name .git -o -name 'build' -o -name 'build-*' \) -prune \
  -o -type f -name '*.md' -print | sed 's|^[.]/||' | LC_ALL=C sort)
is_part_file() { case "$1" in common/*|launcher/*|attestor/*|verifier/*) return 0;; esac; return 1; }
is_test_file() { case "$1" in *_test.cc) return 0;; esac; return 1; }

# 1. Size of production sources.
for f in "${c_files[@]}"; do
  is_part_file "$f" || continue
  is_test_file "$f" && continue
  n=$(wc -l < "$f")
  if [ "$n" -gt "$kMaxLines" ]; then
    offence "$f:$((kMaxLines + 1)): production source has $n lines, over the $kMaxLines-line limit"
  fi
done

# 2. Citations in comments.
# Comment text of C and C++ files, as FILE<TAB>LINE<TAB>TEXT: // and /* */
# comments, skipping string, character and raw string literals.
c_comments='
FNR == 1 { inblock = 0; inraw = 0 }
{
  line = $0; n = length(line); i = 1; out = ""
  while (i <= n) {
    if (inraw) {
      p = index(substr(line, i), rawend)
      if (p == 0) { i = n + 1; continue }
      i += p - 1 + length(rawend); inraw = 0; continue
    }
    if (inblock) {
      p = index(substr(line, i), "*/")
      if (p == 0) { out = out " " substr(line, i); i = n + 1; continue }
      out = out " " substr(line, i, p - 1); i += p + 1; inblock = 0; continue
    }
    c = substr(line, i, 1); c2 = substr(line, i, 2)
    if (c2 == "//") { out = out " " substr(line, i + 2); break }
    if (c2 == "/*") { inblock = 1; i += 2; continue }
    if (c == "\"") {
      k = i - 1
      while (k >= 1 && substr(line, k, 1) ~ /[A-Za-z0-9_]/) k--
      ident = substr(line, k + 1, i - k - 1)
      if (ident == "R" || ident == "u8R" || ident == "LR" || ident == "uR" || ident == "UR") {
        p = index(substr(line, i + 1), "(")
        if (p > 0) { rawend = ")" substr(line, i + 1, p - 1) "\""; i += p + 1; inraw = 1; continue }
      }
      j = i + 1
      while (j <= n) {
        d = substr(line, j, 1)
        if (d == "\\") { j += 2; continue }
        if (d == "\"") break
        j++
      }
      i = j + 1; continue
    }
    if (c == sq) {
      if (substr(line, i + 1, 1) == "\\") {
        p = index(substr(line, i + 3), sq)
        i = (p == 0) ? n + 1 : i + 3 + p; continue
      }
      if (substr(line, i + 2, 1) == sq) { i += 3; continue }
    }
    i++
  }
  if (out ~ /[^ \t]/) print FILENAME "\t" FNR "\t" out
}'
# Comment text of shell, Python and CMake files: from a hash that starts the
# line or follows a blank, outside quotes (quotes are tracked within a line).
hash_comments='
{
  line = $0; n = length(line); q = ""; out = ""
  if (FNR == 1 && substr(line, 1, 2) == "#!") next
  for (i = 1; i <= n; i++) {
    c = substr(line, i, 1)
    if (q != "") {
      if (c == "\\" && q == "\"") { i++; continue }
      if (c == q) q = ""
      continue
    }
    if (c == "\"" || c == sq) { q = c; continue }
    if (c == "\\") { i++; continue }
    if (c == "#" && (i == 1 || substr(line, i - 1, 1) ~ /[ \t]/)) { out = substr(line, i + 1); break }
  }
  if (out ~ /[^ \t]/) print FILENAME "\t" FNR "\t" out
}'
# Cited paths in comment or document text, as FILE<TAB>LINE<TAB>KIND<TAB>TOKEN,
# KIND one of outside (never in the repository), path, bare (with bare=1),
# link (a relative Markdown link target, with links=1).
citations='
BEGIN { FS = "\t"; pathre = "(" dirs ")/([A-Za-z0-9_.*+/-]|[{][A-Za-z0-9_.,*+/-]*[}])*" }
{
  s = $3
  while (match(s, /(DESIGN|STYLE)[.]md|(reference|shared)\/[A-Za-z0-9_.\/-]*/)) {
    tok = substr(s, RSTART, RLENGTH); before = (RSTART > 1) ? substr(s, RSTART - 1, 1) : ""
    s = substr(s, RSTART + RLENGTH)
    if (before ~ /[A-Za-z0-9_]/) continue
    sub(/[.]+$/, "", tok)
    if (tok ~ /^(reference|shared)/ && tok !~ /^[a-z]+\/.*[.\/]/) continue
    print $1 "\t" $2 "\toutside\t" tok
  }
  s = $3
  while (match(s, pathre)) {
    tok = substr(s, RSTART, RLENGTH); before = (RSTART > 1) ? substr(s, RSTART - 1, 1) : ""
    s = substr(s, RSTART + RLENGTH)
    if (before ~ /[A-Za-z0-9_.\/~:-]/) continue
    sub(/[.]+$/, "", tok)
    print $1 "\t" $2 "\tpath\t" tok
  }
  s = $3
  while (bare && match(s, /[a-z][A-Za-z0-9_-]*[.](cc|h|c|md)/)) {
    tok = substr(s, RSTART, RLENGTH); before = (RSTART > 1) ? substr(s, RSTART - 1, 1) : ""
    s = substr(s, RSTART + RLENGTH); after = substr(s, 1, 1)
    if (before ~ /[A-Za-z0-9_.\/*{,~:-]/ || after ~ /[A-Za-z0-9_\/]/) continue
    if (tok ~ /^(foo|bar)([._-]|$)/) continue
    print $1 "\t" $2 "\tbare\t" tok
  }
  s = $3
  while (links && match(s, /[]][(][^)# \t]+/)) {
    tok = substr(s, RSTART + 2, RLENGTH - 2); s = substr(s, RSTART + RLENGTH)
    if (tok ~ /^[a-z]+:/) continue
    dir = $1; if (!sub(/\/[^\/]*$/, "", dir)) dir = "."
    print $1 "\t" $2 "\tlink\t" dir "/" tok
  }
}'

# Prints every expansion of the {a,b} groups in $1.
expand_braces() {
  local re='^([^{]*)[{]([^{}]*)[}](.*)$'
  if [[ $1 =~ $re ]]; then
    local pre=${BASH_REMATCH[1]} alts=${BASH_REMATCH[2]} post=${BASH_REMATCH[3]} a
    local -a list
    IFS=, read -r -a list <<< "$alts"
    for a in "${list[@]}"; do expand_braces "$pre$a$post"; done
  else
    printf '%s\n' "$1"
  fi
}
# True when every expansion of $1 names something in the tree.
path_exists() {
  local p
  if [[ $1 != *[{*]* ]]; then [ -e "$1" ]; return; fi
  while IFS= read -r p; do
    if [[ $p == *'*'* ]]; then
      compgen -G "$p" > /dev/null || return 1
    else
      [ -e "$p" ] || return 1
    fi
  done < <(expand_braces "$1")
  return 0
}

declare -A basenames=()
while IFS= read -r b; do basenames["$b"]=1; done < <(
  find . \( -name .git -o -name 'build' -o -name 'build-*' \) -prune -o -type f -printf '%f\n')

comment_text() {
  [ ${#c_files[@]} -eq 0 ] || awk -v sq="'" "$c_comments" "${c_files[@]}"
  [ ${#script_files[@]} -eq 0 ] || awk -v sq="'" "$hash_comments" "${script_files[@]}"
}
while IFS=$'\t' read -r f l kind tok; do
  case "$kind" in
    outside)
      [ -e "$tok" ] ||
        offence "$f:$l: cites $tok, which is not in the repository (say the fact itself)";;
    path)
      path_exists "$tok" || offence "$f:$l: cites $tok, which is not in the repository";;
    bare)
      [ -n "${basenames[$tok]+x}" ] ||
        offence "$f:$l: cites $tok, but no file in the repository has that name";;
    link)
      [ -e "$tok" ] || offence "$f:$l: links to ${tok#./}, which is not in the repository";;
  esac
done < <(
  comment_text | awk -v dirs="$project_dirs" -v bare=1 -v links=0 "$citations"
  [ ${#md_files[@]} -eq 0 ] ||
    awk '{ print FILENAME "\t" FNR "\t" $0 }' "${md_files[@]}" |
    awk -v dirs="$project_dirs" -v bare=0 -v links=1 "$citations")

# 3 and 4. Includes: project headers exist; parts include only what they may.
declare -A forbidden=(
  [common]='launcher attestor verifier'
  [attestor]='launcher verifier'
  [launcher]='verifier'
  [verifier]='attestor launcher'
)
include_re='^([^:]+):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*([<"])([^">]+)[">]'
while IFS= read -r hit; do
  [[ $hit =~ $include_re ]] || continue
  f=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]} delim=${BASH_REMATCH[3]} inc=${BASH_REMATCH[4]}
  top=${inc%%/*}
  if [ "$delim" = '"' ]; then
    if [[ $inc != */* ]]; then
      # A header the build writes names its generator: "// generated by FILE".
      gen_re='// generated by ([^ ]+)'
      [[ $hit =~ $gen_re ]] && [ -e "${BASH_REMATCH[1]}" ] && continue
      [ -e "${f%/*}/$inc" ] || [ -e "$inc" ] ||
        offence "$f:$n: includes \"$inc\", which is neither beside it nor at the root"
    elif [[ $top =~ ^($project_dirs)$ ]]; then
      [ -e "$inc" ] || offence "$f:$n: includes \"$inc\", which is not in the repository"
    fi
  fi
  is_part_file "$f" || continue
  [[ $inc == */* ]] || continue
  part=${f%%/*}
  kind=production
  is_test_file "$f" && kind=test
  bad_tops=${forbidden[$part]}
  [ "$kind" = test ] || bad_tops+=' tests'
  for bad in $bad_tops; do
    [ "$top" = "$bad" ] || continue
    if [ "$kind" = test ]; then
      offence "$f:$n: $part/ must not include $bad/ ($inc), not even in a test; a test that needs both belongs in tests/"
    else
      offence "$f:$n: $part/ must not include $bad/ ($inc)"
    fi
  done
done < <([ ${#c_files[@]} -eq 0 ] || grep -nE '^[[:space:]]*#[[:space:]]*include' "${c_files[@]}" /dev/null)

# 5. Storage claims.
claim_dirs=()
for d in examples tests bench tools; do [ -d "$d" ] && claim_dirs+=("$d"); done
while IFS= read -r hit; do
  f=${hit%%:*}; rest=${hit#*:}; n=${rest%%:*}
  case "$f" in tools/check_structure.sh|tools/check_structure_test.sh) continue ;; esac
  offence "$f:$n: names encrypted_fs_types: a filesystem's name is not proof of encryption (tmpfs and ramfs are never encrypted; the policy loader refuses the key)"
done < <([ ${#claim_dirs[@]} -eq 0 ] || grep -rnI -e 'encrypted_fs_types' "${claim_dirs[@]}" | LC_ALL=C sort)

if [ $status -eq 0 ]; then echo "structure check: clean"; fi
exit $status
