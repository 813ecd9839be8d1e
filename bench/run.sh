#!/usr/bin/env bash
# Measures edgeops validate: wall time and peak RSS, median of N runs, each against a baseline
# (process start-up: `edgeops --version`) measured in the same run, for the framework-dependent build and
# the NativeAOT build (scripts/publish.sh); validate --changed-since on a one-workload change; binary
# sizes; then the raw policy throughput under Jint against Node on the same JavaScript.
# Usage: bench/run.sh [runs=5] [clusters=5000] [workloads=40]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
clusters=${2:-5000}
workloads=${3:-40}

command -v /usr/bin/time >/dev/null || { echo "bench/run.sh needs GNU time (apt-get install time)" >&2; exit 2; }

dotnet build src/EdgeOps.Cli -c Release -v quiet -nologo >/dev/null
dotnet build bench/EdgeOps.Bench -c Release -v quiet -nologo >/dev/null
edgeops=src/EdgeOps.Cli/bin/Release/net10.0/edgeops
fleet="bench/out/fleet-${clusters}x${workloads}"
if [ ! -f "$fleet/fleet.yaml" ]; then
  dotnet run --no-build --project bench/EdgeOps.Bench -c Release -- generate-fleet --clusters "$clusters" --workloads "$workloads" --out "$fleet" --policies none
fi
policy_fleet="bench/out/fleet-${clusters}x${workloads}-policies"
if [ ! -f "$policy_fleet/fleet.yaml" ]; then
  dotnet run --no-build --project bench/EdgeOps.Bench -c Release -- generate-fleet --clusters "$clusters" --workloads "$workloads" --out "$policy_fleet"
fi

measure() { # name, command...
  local name=$1; shift
  local samples
  samples=$(for _ in $(seq "$runs"); do
    sync; { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null || true; } | tail -1
  done)
  local t m
  t=$(echo "$samples" | awk '{print $1}' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  m=$(echo "$samples" | awk '{print $2}' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  printf "%-44s median %6.2f s   peak RSS median %7.1f MiB   (%d runs)\n" "$name" "$t" "$(echo "$m" | awk '{print $1/1024}')" "$runs"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(dotnet --version) SDK"
measure "baseline: edgeops --version" "$edgeops" --version
scripts/publish.sh linux-x64 >/dev/null
aot=artifacts/bin/linux-x64/edgeops
for build in jit aot; do
  bin=$edgeops; [ "$build" = aot ] && bin=$aot
  echo "-- $build build ($bin)"
  measure "baseline: edgeops --version" "$bin" --version
  measure "validate examples/fleet-repo (cold)" "$bin" validate examples/fleet-repo
  measure "validate ${clusters} clusters x ${workloads} workloads" "$bin" validate "$fleet"
  measure "validate ... with the built-in policy library" "$bin" validate "$policy_fleet"
done

# --changed-since: the policy fleet as a Git repository; one workload's manifest changed in the work tree
# (a value: its log level), then instead only a comment appended to it (which reaches no cluster).
if [ ! -d "$policy_fleet/.git" ]; then
  git -C "$policy_fleet" init -q -b main && git -C "$policy_fleet" add -A
  git -C "$policy_fleet" -c user.name=bench -c user.email=bench@edgeops.invalid commit -q -m fleet
fi
changed=$(ls "$policy_fleet/workloads" | sed -n 8p)
sed -i '0,/level: info/s//level: debug/' "$policy_fleet/workloads/$changed/manifests.yaml"
"$aot" validate "$policy_fleet" --changed-since HEAD | grep '^changed since' || true
measure "validate --changed-since HEAD (workload $changed)" "$aot" validate "$policy_fleet" --changed-since HEAD
git -C "$policy_fleet" checkout -q .
echo "# reviewed $(date +%F)" >>"$policy_fleet/workloads/$changed/manifests.yaml"
measure "validate --changed-since HEAD (a comment only)" "$aot" validate "$policy_fleet" --changed-since HEAD
git -C "$policy_fleet" checkout -q .
echo
echo "sizes: framework-dependent build output $(du -sh --exclude=linux-x64 --exclude=linux-arm64 --exclude=publish src/EdgeOps.Cli/bin/Release/net10.0 | cut -f1) (needs a .NET runtime);"
for rid in linux-x64 linux-arm64; do
  [ -x "artifacts/bin/$rid/edgeops" ] && echo "  NativeAOT $rid: edgeops $(du -h "artifacts/bin/$rid/edgeops" | cut -f1), with its libraries $(du -sh "artifacts/bin/$rid" | cut -f1)"
done
echo
echo "policy throughput (10,000 varied Deployments, one thread; Jint vs Node on the same JavaScript):"
dotnet run --no-build --project bench/EdgeOps.Bench -c Release -- policy-throughput --objects 10000
