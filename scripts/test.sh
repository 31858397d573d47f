#!/usr/bin/env bash
# The README's test command. Installs what the tests need on a fresh Debian 12 machine that has
# only the .NET 10 SDK, then builds and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is required: https://dot.net" >&2; exit 2; }

# Debian packages the tests use, installed only when missing: the PyTorch peer writes the
# weight-import parity fixtures (tools/peer/torchvision_fixtures.py); the agent's integration
# tests start their own mosquitto on loopback and read retained state with mosquitto_sub as an operator would; the security tests make their certificates with
# the openssl CLI (not in a bare Debian image). libtorch, ONNX Runtime
# and SkiaSharp's natives come from NuGet.
wanted_apt=(python3 python3-torch python3-torchvision mosquitto mosquitto-clients openssl)
need_apt=()
for package in "${wanted_apt[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$package")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing: ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build EdgeTL.sln -c Release -v q -nologo
log=$(mktemp)
results=$(mktemp -d)
trap 'rm -rf "$log" "$results"' EXIT
set +e
dotnet test EdgeTL.sln -c Release --no-build -nologo --logger "console;verbosity=normal" --logger trx --results-directory "$results" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# The Jetson deployment checks (inference-only publish, install.sh into a temporary root,
# systemd-analyze verify); the run fails if either the tests or these fail.
deploy_status=0
bash scripts/check-deploy.sh || deploy_status=$?
# One plain closing line over every test project, summed from each run's summary
# ("     Passed: 44", "     Failed: 1"); a missing kind counts as 0.
count() { { grep -oE "^ +$1: +[0-9]+" "$log" || true; } | awk '{s+=$2} END {print s+0}'; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
python3 scripts/test-report.py "$results" || echo "test report unavailable"
[ "$deploy_status" -eq 0 ] || echo "deploy checks failed (scripts/check-deploy.sh exited $deploy_status)"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$status" -ne 0 ] && exit "$status"
exit "$deploy_status"
