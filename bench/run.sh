#!/usr/bin/env bash
# Measures edgeops validate: wall time and peak RSS, median of N runs, each against a baseline
# (process start-up: `edgeops --version`) measured in the same run; then the raw policy throughput
# under Jint against Node on the same JavaScript.
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
    sync; /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
  done)
  local t m
  t=$(echo "$samples" | awk '{print $1}' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  m=$(echo "$samples" | awk '{print $2}' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  printf "%-44s median %6.2f s   peak RSS median %7.1f MiB   (%d runs)\n" "$name" "$t" "$(echo "$m" | awk '{print $1/1024}')" "$runs"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(dotnet --version) SDK"
measure "baseline: edgeops --version" "$edgeops" --version
measure "validate examples/fleet-repo (cold)" "$edgeops" validate examples/fleet-repo
measure "validate ${clusters} clusters x ${workloads} workloads" "$edgeops" validate "$fleet"
measure "validate ... with the built-in policy library" "$edgeops" validate "$policy_fleet"
echo
echo "policy throughput (10,000 varied Deployments, one thread; Jint vs Node on the same JavaScript):"
dotnet run --no-build --project bench/EdgeOps.Bench -c Release -- policy-throughput --objects 10000
