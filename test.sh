#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. Prints each suite's result, a summary,
# and as its last line "N passed, M failed" (doctest cases and other tests counted one by one).
# Exits non-zero on any failure.
#   ./test.sh             optimized build with assertions, in build/
#   ./test.sh --sanitize  ASan+UBSan build, in build-san/
set -uo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
tierkv_install "${TIERKV_PACKAGES[@]}" "${TIERKV_TEST_PACKAGES[@]}" || exit 1

builddir=build
setup_args=()
if [ "${1:-}" = "--sanitize" ]; then
  builddir=build-san
  setup_args=(-Dsanitize=true -Db_sanitize=address,undefined -Db_lundef=false)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" "${setup_args[@]}" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$builddir" -j2; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# RapidCheck's seed comes from the last commit that changed more than docs (unless RC_PARAMS is
# set): CI's run of a commit is then exactly ./test.sh on it, and each change of code still
# explores new cases. scripts/property-sweep.sh explores many seeds at once.
if [ -z "${RC_PARAMS:-}" ] &&
   commit=$(git log -1 --format=%H -- . ':(exclude)docs' ':(exclude)README.md' 2>/dev/null) &&
   [ -n "$commit" ]; then
  export RC_PARAMS="seed=$((16#${commit:0:15}))"
fi
echo "RapidCheck: RC_PARAMS=\"${RC_PARAMS:-}\" (empty: a random seed per property)"
meson test -C "$builddir" --num-processes 2 --print-errorlogs --no-rebuild
rc=$?
/usr/bin/python3 scripts/test_summary.py "$builddir/meson-logs/testlog.json"
summary_rc=$?
[ $rc -eq 0 ] && [ $summary_rc -eq 0 ]
