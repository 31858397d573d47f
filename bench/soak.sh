#!/usr/bin/env bash
# The reliability soak: the fault tests of tests/Edge.Reliability.Tests at RELIABILITY.md's full
# figures (CI runs the same tests, shortened, with the same pass criteria).
#
#   bash bench/soak.sh r1     # broker down 10 min at 10 metrics/s, 20 SIGKILLs during it (R1/R2)
#   bash bench/soak.sh r3     # 500 connection flaps: threads, fds and managed heap stay flat
#   bash bench/soak.sh r5     # 200 SIGKILLs at random points of a model swap, 200 of a device-made export and swap
#   bash bench/soak.sh r10    # 100 commands/s for 60 s, then a burst of 500
#   bash bench/soak.sh r11    # 100,000 mutated, oversized and unknown commands
#   bash bench/soak.sh all
#
# Needs what scripts/test.sh installs (mosquitto, openssl) and a Release build of EdgeTL.sln.
set -euo pipefail
cd "$(dirname "$0")/.."

run() {
  local filter=$1
  shift
  env "$@" dotnet test tests/Edge.Reliability.Tests -c Release --no-build -nologo \
    --filter "FullyQualifiedName~$filter" --logger "console;verbosity=detailed" 2>&1 \
    | grep -E "^\s+(Passed|Failed) |^ [0-9a-z]|Error Message|Assert|Total tests|Passed:|Failed:" || true
}

dotnet build EdgeTL.sln -c Release -v q -nologo
case "${1:-all}" in
  r1) run OutboxDeliveryTests EDGETL_R1_OUTAGE_S=600 EDGETL_R2_KILLS=20 ;;
  r3) run ConnectionFlapTests EDGETL_R3_FLAPS=500 ;;
  r5) run ModelSwapCrashTests EDGETL_R5_KILLS=200 EDGETL_R5_DEVICE_KILLS=200 ;;
  r10) run Bursts_far_beyond EDGETL_R10_SECONDS=60 ;;
  r11) run Ten_thousand_mutated EDGETL_R11_CASES=100000 ;;
  all)
    run OutboxDeliveryTests EDGETL_R1_OUTAGE_S=600 EDGETL_R2_KILLS=20
    run ConnectionFlapTests EDGETL_R3_FLAPS=500
    run ModelSwapCrashTests EDGETL_R5_KILLS=200 EDGETL_R5_DEVICE_KILLS=200
    run Bursts_far_beyond EDGETL_R10_SECONDS=60
    run Ten_thousand_mutated EDGETL_R11_CASES=100000
    ;;
  *) echo "usage: bash bench/soak.sh r1|r3|r5|r10|r11|all" >&2; exit 2 ;;
esac
