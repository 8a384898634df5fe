#!/usr/bin/env bash
# Explores far more cases than ./test.sh: every RapidCheck property over seeds A..B (each with
# MAX_SUCCESS cases, default 2000), then the simulator's seeded scenarios over wider seed ranges
# than the suites use. Prints each failure with the line that replays it; exits non-zero on any.
#   scripts/property-sweep.sh [A..B] [build dir]     e.g. scripts/property-sweep.sh 1..50
# Bounded: stops starting new seeds after BUDGET seconds (default 1800).
set -uo pipefail
cd "$(dirname "$0")/.."
range=${1:-1..20}
builddir=${2:-build}
first=${range%%..*}
last=${range##*..}
max_success=${MAX_SUCCESS:-2000}
budget=${BUDGET:-1800}
failures=0
tests="$builddir/tests"
sim="$builddir/tools/tierkv-sim"

for seed in $(seq "$first" "$last"); do
  if [ "$SECONDS" -gt "$budget" ]; then
    echo "budget of ${budget}s spent; stopped before seed $seed"
    break
  fi
  for suite in engine_tests wal_tests sim_tests; do
    params="seed=$seed max_success=$max_success"
    if ! out=$(RC_PARAMS="$params" timeout 900 "$tests/$suite" -tc='*property*' 2>&1); then
      failures=$((failures + 1))
      echo "FAILED: RC_PARAMS=\"$params\" $tests/$suite -tc='*property*'"
      echo "$out" | grep -A14 -E "Falsifiable|CRASHED|ERROR" | head -40
    fi
  done
  echo "properties: seed $seed done (${SECONDS}s)"
done

# The scenarios: seeds past the ranges the suites sweep (server-linear 1..200, engine-crash 1..500).
scenario_seeds=$(( (last - first + 1) * 20 ))
for scenario in "server-linear 201" "engine-crash 501"; do
  set -- $scenario
  if [ "$SECONDS" -gt "$budget" ]; then break; fi
  out=$(timeout 1800 "$sim" --scenario "$1" --seeds "$2..$(( $2 + scenario_seeds - 1 ))" 2>/dev/null)
  summary=$(echo "$out" | tail -1)
  echo "$1: $summary"
  if [ "$summary" != "seeds: $scenario_seeds passed, 0 failed" ]; then
    failures=$((failures + 1))
    echo "$out" | grep -A1 "^FAIL seed" | head -20
  fi
done

echo "property sweep: $failures failed"
[ "$failures" -eq 0 ]
