#!/usr/bin/env bash
# stress-clean-bank.sh: the clean reference bank must never fail a case because the machine is
# busy. Runs TestCleanBankUnderLoad (internal/matrix): N whole-catalogue runs per profile at once
# while goroutines burn every CPU, first plainly, then under the race detector (which slows
# everything several times over), and with GOMAXPROCS=1.
#
#   scripts/stress-clean-bank.sh      # N=6
#   N=12 scripts/stress-clean-bank.sh
#
# Before the reference bank kept the key sets it fetched, this failed within one or two rounds:
# HP-05, HP-07 or SSA-13 answered 400 "Failed to fetch public key ... timed out".
set -uo pipefail
cd "$(dirname "$0")/.."
N=${N:-6}
failed=0
# run [VAR=value...] [-- go test flags...]
run() {
  local envs=() flags=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  flags=("$@")
  echo "== ${envs[*]:-} go test ${flags[*]:-}"
  if ! env DCRCONFORM_STRESS="$N" "${envs[@]}" go test -count=1 -run '^TestCleanBankUnderLoad$' "${flags[@]}" ./internal/matrix/; then
    failed=1
  fi
}
run
run GOMAXPROCS=1
run -- -race
exit "$failed"
