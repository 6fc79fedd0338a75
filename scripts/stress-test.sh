#!/usr/bin/env bash
# stress-test.sh: does the test suite hold under load? Runs `make test` ROUNDS times in a row
# (default 5) while a second `make test` loops beside it, and reports each round's result. The
# second suite is the load: two suites on one machine are what a busy CI runner looks like.
#
# Not part of CI (.ci/run): it takes ROUNDS x (one loaded `make test`), several minutes.
#
#   scripts/stress-test.sh            # 5 rounds
#   ROUNDS=2 scripts/stress-test.sh   # fewer
#
# Exit status: 0 when every round passed, 1 otherwise. Logs are kept in $LOG_DIR
# (default a fresh directory under /tmp), one file per round and one for the load. TEST_CMD
# replaces `make test` for both (e.g. TEST_CMD='go test -count=1 ./...' while gofmt is pending).
set -uo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
LOG_DIR=${LOG_DIR:-$(mktemp -d /tmp/dcrconform-stress.XXXXXX)}
TEST_CMD=${TEST_CMD:-make test}
mkdir -p "$LOG_DIR"

# Build once first, so the rounds measure the tests and not the first compile.
go build ./... || exit 1
go vet ./... >/dev/null || exit 1

# The load: the same suite over and over until the rounds are done. It runs in its own process
# group so it, and every test binary it started, can be stopped by that group's id alone.
set -m
( while :; do $TEST_CMD >>"$LOG_DIR/load.log" 2>&1 && echo "load: pass" >>"$LOG_DIR/load.log" \
    || echo "load: FAIL" >>"$LOG_DIR/load.log"; done ) &
load=$!
set +m
trap 'kill -- -"$load" 2>/dev/null; wait "$load" 2>/dev/null' EXIT

failed=0
for i in $(seq 1 "$ROUNDS"); do
  start=$(date +%s)
  if $TEST_CMD >"$LOG_DIR/round-$i.log" 2>&1; then
    result=pass
  else
    result=FAIL
    failed=1
  fi
  echo "round $i/$ROUNDS: $result in $(( $(date +%s) - start ))s (log: $LOG_DIR/round-$i.log)"
  if [ "$result" = FAIL ]; then
    grep -E '^(--- FAIL|FAIL|ok|panic)|_test.go:[0-9]+:' "$LOG_DIR/round-$i.log" | grep -v '^ok' | head -20 | sed 's/^/    /'
  fi
done
kill -- -"$load" 2>/dev/null
wait "$load" 2>/dev/null
trap - EXIT
echo "load beside the rounds: $(grep -c '^load: pass' "$LOG_DIR/load.log") passed, $(grep -c '^load: FAIL' "$LOG_DIR/load.log") failed (log: $LOG_DIR/load.log)"
exit "$failed"
