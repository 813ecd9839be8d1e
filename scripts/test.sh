#!/usr/bin/env bash
# Restores, builds and runs every test project; ends with the line "N passed, N failed".
# Usage: scripts/test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet restore EdgeOps.sln
dotnet build EdgeOps.sln --no-restore -c Release

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test EdgeOps.sln --no-build -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# dotnet test prints one "Passed!/Failed!  - Failed: F, Passed: P, Skipped: S, Total: T" line per test project.
read -r passed failed skipped < <(awk '
  /(Passed!|Failed!) +- Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  { f += $(i+1) + 0 }
      if ($i == "Passed:")  { p += $(i+1) + 0 }
      if ($i == "Skipped:") { s += $(i+1) + 0 }
    }
  }
  END { printf "%d %d %d\n", p, f, s }' "$log")

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The run failed before or outside any test (build, crash): count it as a failure.
  failed=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
