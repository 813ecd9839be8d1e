#!/usr/bin/env bash
# Publishes the NativeAOT edgeops for one runtime into artifacts/bin/<rid>/: the binary, the two native
# libraries it loads (libgit2, libsodium) beside it, and the debug symbols apart in artifacts/symbols/<rid>/.
# Fails on any trim or AOT warning except Jint's four known ones, which sit in its CLR interop (the policy
# sandbox turns interop off: README.md, "Builds, the image and releases", says why each is safe).
# Usage: scripts/publish.sh [rid=linux-x64]    (linux-arm64 cross-compiles: scripts/build-deps.sh installs the toolchain)
set -euo pipefail
cd "$(dirname "$0")/.."
rid=${1:-linux-x64}
out="artifacts/bin/$rid"
work="artifacts/obj/publish-$rid"
rm -rf "$out" "$work"
mkdir -p "$out" "$work" "artifacts/symbols/$rid"

log="$work/publish.log"
if ! dotnet publish src/EdgeOps.Cli -c Release -r "$rid" -p:PublishAot=true -p:TreatWarningsAsErrors=false \
  -nologo -o "$work/out" >"$log" 2>&1; then
  cat "$log" >&2
  echo "scripts/publish.sh: the NativeAOT publish for $rid failed" >&2
  exit 1
fi

# Each warning once (MSBuild repeats them), then everything that is not one of Jint's known interop paths.
warnings=$(grep -E "warning (IL|CS)[0-9]+" "$log" | sed -E 's/ \[[^]]*\]$//' | sort -u || true)
unexpected=$(echo "$warnings" | grep -v -E \
  -e "Jint\.dll : warning IL(2104|3053)" \
  -e "IL2026: Jint\.(DefaultObjectConverter\.ConvertSystemTextJsonValue|Options\.Apply|Options\.<>c__DisplayClass[0-9_]+\.<Apply>|Runtime\.Interop\.DefaultTypeConverter\.BuildDelegate)" \
  | grep -v '^$' || true)
if [ -n "$unexpected" ]; then
  echo "$unexpected" >&2
  echo "scripts/publish.sh: trim/AOT warnings outside the known Jint interop paths (above)" >&2
  exit 1
fi

cp "$work/out/edgeops" "$out/"
cp "$work/out"/libgit2-*.so "$work/out"/libsodium.so "$out/"
cp "$work/out/edgeops.dbg" "artifacts/symbols/$rid/"
echo "$out/edgeops"
