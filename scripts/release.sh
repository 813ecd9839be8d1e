#!/usr/bin/env bash
# Builds everything a release ships into artifacts/release/, with SHA256SUMS over it:
#   edgeops-V-linux-x64.tar.gz, edgeops-V-linux-arm64.tar.gz   the NativeAOT agent and CLI per runtime
#   edgeops.V.nupkg                                           the .NET tool for CI (dotnet tool install)
#   edgeops-V.oci.tar (+ .oci.digest)                         the multi-arch image, as an OCI archive
# Tarballs are reproducible (sorted, zero times and owners, gzip -n).
# Usage: scripts/release.sh [--skip-publish]   (--skip-publish reuses artifacts/bin from scripts/publish.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/release
if [ "${1:-}" != "--skip-publish" ]; then
  scripts/publish.sh linux-x64 >/dev/null
  scripts/publish.sh linux-arm64 >/dev/null
fi
version=$(artifacts/bin/linux-x64/edgeops --version | cut -d+ -f1)
rm -rf "$out" && mkdir -p "$out"

for rid in linux-x64 linux-arm64; do
  name="edgeops-${version}-${rid}"
  stage="artifacts/obj/release/$name"
  rm -rf "$stage" && mkdir -p "$stage"
  cp artifacts/bin/"$rid"/* "$stage/"
  cp README.md "$stage/"
  tar -C artifacts/obj/release --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
done

dotnet pack src/EdgeOps.Cli -c Release -nologo -v quiet -o "$out" >/dev/null
scripts/build-image.sh "$out" >/dev/null

(cd "$out" && sha256sum -- * | grep -v ' SHA256SUMS$' >SHA256SUMS)
echo "$out (version $version):"
ls -1 "$out"
