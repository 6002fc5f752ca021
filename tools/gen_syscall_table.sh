#!/bin/sh
# Writes the x86_64 syscall name table common/syscall_names.cc compiles in:
# one `{number, "name"},` line per syscall, from the kernel headers the
# project is built against (asm/unistd_64.h) and, for syscalls newer than
# those headers, common/syscalls_newer.txt. A number both sources name must
# have the same name in both, or the build fails.
# Usage: gen_syscall_table.sh UNISTD_64_H NEWER_TXT OUT_INC
set -eu
[ $# -eq 3 ] || { echo "usage: $0 UNISTD_64_H NEWER_TXT OUT_INC" >&2; exit 2; }
header=$1 newer=$2 out=$3
tmp="$out.tmp"
awk -v header="$header" '
  FILENAME == header && $1 == "#define" && $2 ~ /^__NR_/ && $3 ~ /^[0-9]+$/ {
    name = substr($2, 6)
    if ($3 in by_nr && by_nr[$3] != name) { print "conflict at " $3 > "/dev/stderr"; exit 1 }
    by_nr[$3] = name; from_header[$3] = 1; next
  }
  FILENAME != header && $0 !~ /^#/ && NF >= 2 {
    if ($1 in by_nr && by_nr[$1] != $2) {
      printf "%s names syscall %s \"%s\", the headers \"%s\"\n", FILENAME, $1, $2, by_nr[$1] > "/dev/stderr"
      exit 1
    }
    by_nr[$1] = $2
  }
  END {
    n = 0
    for (nr in by_nr) n++
    if (n < 300) { print "only " n " syscalls found in " header > "/dev/stderr"; exit 1 }
    for (nr in by_nr) printf "{%d, \"%s\"},\n", nr, by_nr[nr]
  }' "$header" "$newer" | sort -t, -k1.2n > "$tmp"
mv "$tmp" "$out"
