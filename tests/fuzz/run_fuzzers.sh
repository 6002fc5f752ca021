#!/usr/bin/env bash
# Builds every tests/fuzz/*_fuzzer.cc as a libFuzzer binary (clang, ASan +
# UBSan, no recovery) and runs each one for FUZZ_SECONDS on a scratch copy of
# its seed corpus. Exits non-zero if any target fails to build, crashes,
# leaks, times out, runs out of memory, or fails on a saved regression input.
#
#   usage: tests/fuzz/run_fuzzers.sh BUILD_DIR
#
# Environment:
#   FUZZ_SECONDS   seconds of fuzzing per target (default 60); 0 only builds
#                  and runs the seeds and regression inputs once
#   FUZZ_TARGETS   space-separated target names to run (default: all)
#   CXX            the clang++ to use (default clang++-14)
#   FUZZ_JOBS      targets built and fuzzed at once (default: the number of
#                  CPUs); each target gets FUZZ_SECONDS of wall time on its own
#
# A target NAME is the file NAME_fuzzer.cc; it may come with (all optional):
#   corpus/NAME/       seed inputs (copied to a temporary directory: the
#                      checked-in corpus is never modified)
#   regressions/NAME/  inputs that once failed, each re-run before fuzzing;
#                      a NAME.open file reproduces a bug not fixed yet and is
#                      only listed (drop the suffix once it is fixed)
#   NAME.dict          a libFuzzer dictionary
#   NAME.options       extra libFuzzer flags, one per line
#   NAME.sources       extra sources (paths relative to the repository root)
#                      compiled into this target, one per line
#   NAME.libs          extra pkg-config packages this target links, one per line
# Every common/*.cc except the *_test.cc files is compiled once, with
# coverage instrumentation, into a static library all targets link against.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
seconds=${FUZZ_SECONDS:-60}
cxx=${CXX:-clang++-14}

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found (Debian packages: clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
pkgs=(absl_status absl_statusor absl_strings absl_str_format libcrypto libseccomp)
pkg_cflags=$(pkg-config --cflags "${pkgs[@]}")
pkg_libs=$(pkg-config --libs "${pkgs[@]}")

sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all"
gendir="$build/generated"
mkdir -p "$gendir"
cxxflags="-std=c++20 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Wno-missing-field-initializers -I$root -I$gendir $pkg_cflags"

# --- common library --------------------------------------------------------
objdir="$build/obj"
mkdir -p "$objdir"
# An object is stale when its source, any common header or this script is newer.
stale() {
  local obj=$1 src=$2 h
  [ -f "$obj" ] || return 0
  [ "$src" -nt "$obj" ] && return 0
  [ "$0" -nt "$obj" ] && return 0
  [ "$gendir/syscall_table_x86_64.inc" -nt "$obj" ] && return 0
  for h in "$root"/common/*.h; do
    [ "$h" -nt "$obj" ] && return 0
  done
  return 1
}
# The syscall name table common/syscall_names.cc includes, made as CMake does
# (common/CMakeLists.txt).
unistd=""
for h in /usr/include/x86_64-linux-gnu/asm/unistd_64.h /usr/include/asm/unistd_64.h; do
  [ -f "$h" ] && { unistd=$h; break; }
done
[ -n "$unistd" ] || { echo "fuzz: asm/unistd_64.h not found (Debian package: linux-libc-dev)" >&2; exit 1; }
"$root/tools/gen_syscall_table.sh" "$unistd" "$root/common/syscalls_newer.txt" \
  "$gendir/syscall_table_x86_64.inc.new"
if cmp -s "$gendir/syscall_table_x86_64.inc.new" "$gendir/syscall_table_x86_64.inc"; then
  rm "$gendir/syscall_table_x86_64.inc.new"
else
  mv "$gendir/syscall_table_x86_64.inc.new" "$gendir/syscall_table_x86_64.inc"
fi
pids=()
objs=()
for src in "$root"/common/*.cc; do
  case "$src" in *_test.cc) continue ;; esac
  # The command-line library (fdattest_cli in common/CMakeLists.txt: build id,
  # CLI11) is no part of what the fuzzers exercise.
  case "$(basename "$src")" in build_info.cc | command_line.cc) continue ;; esac
  obj="$objdir/$(basename "${src%.cc}").o"
  objs+=("$obj")
  if stale "$obj" "$src"; then
    # shellcheck disable=SC2086
    "$cxx" $cxxflags $sanitize -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
    pids+=($!)
  fi
done
build_failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || build_failed=1
done
if [ $build_failed -ne 0 ]; then
  echo "fuzz: compiling common/ failed" >&2
  exit 1
fi
lib="$build/libfuzz_common.a"
rm -f "$lib"
ar rcs "$lib" "${objs[@]}"

# --- targets ---------------------------------------------------------------
targets=()
for f in "$here"/*_fuzzer.cc; do
  [ -e "$f" ] || continue
  name=$(basename "${f%_fuzzer.cc}")
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  targets+=("$name")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets" >&2
  exit 1
fi

symbolizer=""
for s in llvm-symbolizer-14 /usr/lib/llvm-14/bin/llvm-symbolizer llvm-symbolizer; do
  if command -v "$s" >/dev/null; then symbolizer=$(command -v "$s"); break; fi
done
if [ -n "$symbolizer" ]; then
  export ASAN_SYMBOLIZER_PATH="$symbolizer"
else
  echo "fuzz: no llvm-symbolizer (Debian package llvm-14): stacks will be unsymbolized" >&2
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Each target runs in a background job that prints only to its own report
# file and leaves "passed" or "failed" in its result file; reports are printed
# in target order at the end.
report_failure() {  # name, log, artifacts dir, what
  local name=$1 log=$2 artifacts=$3 what=$4 keep="$build/fuzz-artifacts/$1"
  echo "fuzz: $name: FAILED ($what); log: $log"
  if [ -d "$artifacts" ] && [ -n "$(ls -A "$artifacts" 2>/dev/null)" ]; then
    mkdir -p "$keep"
    cp "$artifacts"/* "$keep"/
    echo "fuzz: $name: reproducers kept in $keep:"
    find "$keep" -type f -printf '    %p (%s bytes)\n'
  fi
  echo "----- last lines of $log -----"
  tail -n 60 "$log" | sed 's/^/    /'
  echo "------------------------------"
  echo failed >"$scratch/$name.result"
}

run_target() {  # name
  local name=$1
  src="$here/${name}_fuzzer.cc"
  bin="$build/${name}_fuzzer"
  log="$build/${name}_fuzzer.log"
  extra_srcs=()
  if [ -f "$here/$name.sources" ]; then
    while read -r line; do
      [ -n "$line" ] && [[ "$line" != \#* ]] && extra_srcs+=("$root/$line")
    done <"$here/$name.sources"
  fi
  extra_libs=""
  if [ -f "$here/$name.libs" ]; then
    extra_pkgs=()
    while read -r line; do
      [ -n "$line" ] && [[ "$line" != \#* ]] && extra_pkgs+=("$line")
    done <"$here/$name.libs"
    [ ${#extra_pkgs[@]} -gt 0 ] && extra_libs=$(pkg-config --libs "${extra_pkgs[@]}")
  fi
  # shellcheck disable=SC2086
  if ! "$cxx" $cxxflags $sanitize -fsanitize=fuzzer "$src" "${extra_srcs[@]}" "$lib" \
      $pkg_libs $extra_libs -o "$bin" >"$log" 2>&1; then
    report_failure "$name" "$log" "" "build"
    return
  fi

  flags=(-rss_limit_mb=2048 -timeout=10)
  [ -f "$here/$name.dict" ] && flags+=("-dict=$here/$name.dict")
  if [ -f "$here/$name.options" ]; then
    while read -r line; do
      [ -n "$line" ] && [[ "$line" != \#* ]] && flags+=("$line")
    done <"$here/$name.options"
  fi
  work="$scratch/$name"
  artifacts="$work/artifacts"
  mkdir -p "$work/corpus" "$artifacts"
  flags+=("-artifact_prefix=$artifacts/")

  # Saved regression inputs: each must now pass.
  regress=()
  open_bugs=0
  if [ -d "$here/regressions/$name" ]; then
    for f in "$here/regressions/$name"/*; do
      [ -f "$f" ] || continue
      case "$f" in
        *.md) ;;
        *.open) open_bugs=$((open_bugs + 1)) ;;
        *) regress+=("$f") ;;
      esac
    done
  fi
  if [ $open_bugs -gt 0 ]; then
    echo "fuzz: $name: $open_bugs known-open reproducer(s) not run: regressions/$name/*.open"
  fi
  if [ ${#regress[@]} -gt 0 ] && ! "$bin" "${flags[@]}" "${regress[@]}" >"$log" 2>&1; then
    report_failure "$name" "$log" "$artifacts" "a regression input fails"
    return
  fi

  if [ -d "$here/corpus/$name" ]; then
    cp -r "$here/corpus/$name/." "$work/corpus/"
  fi
  if [ "$seconds" -eq 0 ]; then
    seeds=("$work/corpus"/*)
    [ -e "${seeds[0]}" ] || seeds=()
    if [ ${#seeds[@]} -gt 0 ] && ! "$bin" "${flags[@]}" "${seeds[@]}" >>"$log" 2>&1; then
      report_failure "$name" "$log" "$artifacts" "a seed input fails"
      return
    fi
    echo "fuzz: $name: ${#regress[@]} regression and ${#seeds[@]} seed inputs ran once"
    echo passed >"$scratch/$name.result"
    return
  fi

  rc=0
  "$bin" "${flags[@]}" -max_total_time="$seconds" -print_final_stats=1 "$work/corpus" \
    >>"$log" 2>&1 || rc=$?
  if [ $rc -ne 0 ] || [ -n "$(ls -A "$artifacts")" ]; then
    report_failure "$name" "$log" "$artifacts" "exit status $rc"
    return
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  status_line=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$status_line")
  echo "fuzz: $name: passed, ${execs:-?} executions in ${seconds} s, coverage ${cov:-?} edges" \
    "(${ft:-?} features), corpus ${corp:-?} inputs"
  echo passed >"$scratch/$name.result"
}

jobs_max=${FUZZ_JOBS:-$(nproc)}
[ "$jobs_max" -ge 1 ] 2>/dev/null || jobs_max=1
for name in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_target "$name" >"$scratch/$name.report" 2>&1 &
done
wait || true

passed=0
failed=0
for name in "${targets[@]}"; do
  cat "$scratch/$name.report"
  case "$(cat "$scratch/$name.result" 2>/dev/null)" in
    passed) passed=$((passed + 1)) ;;
    *)
      # No result at all: the job itself died (e.g. killed); never a pass.
      [ -f "$scratch/$name.result" ] || echo "fuzz: $name: FAILED (no result; the job ended early)"
      failed=$((failed + 1))
      ;;
  esac
done

echo "fuzz: $passed passed, $failed failed"
[ $failed -eq 0 ]
