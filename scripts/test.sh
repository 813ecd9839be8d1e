#!/usr/bin/env bash
# Restores, builds (the NativeAOT agents included) and runs every test project; ends with the line
# "N passed, N failed, N skipped".
# Usage: scripts/test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet restore EdgeOps.sln
dotnet build EdgeOps.sln --no-restore -c Release

# The agent ships as NativeAOT binaries: build them and the release (tarballs, tool package, multi-arch
# OCI image) once here, for the tests that run the native builds and check what a release ships.
scripts/build-deps.sh
scripts/release.sh >/dev/null

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
set +e
dotnet test EdgeOps.sln --no-build -c Release --logger "console;verbosity=normal" --logger trx --results-directory "$results" "$@"
status=$?
set -e

# Each test project writes a TRX file whose <Counters> element holds its totals.
passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  value() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The run failed outside any test (a crash, a project that did not run): count it as a failure.
  failed=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
