#!/usr/bin/env bash
# Builds the multi-arch (amd64 + arm64) OCI image of the agent without any registry: stages a root file
# system per architecture from the NativeAOT binaries in artifacts/bin/ (scripts/publish.sh) and Debian's
# libraries, builds deploy/image/Containerfile for each platform with podman, and saves the manifest list
# as an OCI archive. Prints the archive's path and the image digest (the manifest list's).
# Usage: scripts/build-image.sh [out=artifacts/image]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/image}
[ -x artifacts/bin/linux-x64/edgeops ] || { echo "scripts/build-image.sh: artifacts/bin/linux-x64/edgeops is missing: run scripts/publish.sh linux-x64" >&2; exit 1; }
version=$(artifacts/bin/linux-x64/edgeops --version | cut -d+ -f1)
name="localhost/edgeops:${version}"
stage="artifacts/obj/image"
rm -rf "$stage" && mkdir -p "$stage" "$out"
# A container store of this build's own (vfs: no mounts to clean up), so the machine's podman state
# neither leaks into the image nor breaks the build.
podman=(podman --root "$PWD/$stage/storage" --runroot "$PWD/$stage/run" --storage-driver vfs)
cp deploy/image/Containerfile "$stage/"

# Copies a library (following its symlink) into the root file system under the same path.
copy_lib() { # rootfs, path
  local target="$1$2"
  mkdir -p "$(dirname "$target")"
  cp -L "$2" "$target"
}

# The shared libraries a binary needs, by name, resolved in a multiarch folder, recursively.
needed() { # triplet, file
  readelf -d "$2" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | while read -r soname; do
    for dir in "/lib/$1" "/usr/lib/$1" /lib64 /lib; do
      if [ -e "$dir/$soname" ]; then
        echo "$dir/$soname"
        needed "$1" "$dir/$soname"
        break
      fi
    done
  done
}

for arch in amd64 arm64; do
  case $arch in
    amd64) rid=linux-x64; triplet=x86_64-linux-gnu; loader=/lib64/ld-linux-x86-64.so.2 ;;
    arm64) rid=linux-arm64; triplet=aarch64-linux-gnu; loader=/lib/ld-linux-aarch64.so.1 ;;
  esac
  bin="artifacts/bin/$rid"
  [ -x "$bin/edgeops" ] || { echo "scripts/build-image.sh: $bin/edgeops is missing: run scripts/publish.sh $rid" >&2; exit 1; }
  [ -e "/usr/lib/$triplet/libssl.so.3" ] || { echo "scripts/build-image.sh: libssl3:$arch is missing: run scripts/build-deps.sh" >&2; exit 1; }
  root="$stage/rootfs-$arch"
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib" "$root/etc/ssl/certs" "$root/tmp" "$root/var/lib/edgeops"
  cp "$bin/edgeops" "$root/usr/local/bin/"
  # NativeAOT finds its native libraries beside the executable.
  cp "$bin"/libgit2-*.so "$bin"/libsodium.so "$root/usr/local/bin/"
  {
    needed "$triplet" "$bin/edgeops"
    for lib in "$bin"/libgit2-*.so "$bin/libsodium.so"; do needed "$triplet" "$lib"; done
    # Loaded with dlopen: OpenSSL (TLS to the API server and Git hosts, certificate checks).
    for lib in libssl.so.3 libcrypto.so.3; do echo "/usr/lib/$triplet/$lib"; needed "$triplet" "/usr/lib/$triplet/$lib"; done
  } | sort -u | while read -r lib; do copy_lib "$root" "$lib"; done
  copy_lib "$root" "$loader"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  # Maintenance windows name IANA time zones: the zone files (without the posix/ and right/ copies).
  mkdir -p "$root/usr/share/zoneinfo"
  tar -C /usr/share/zoneinfo --exclude=./posix --exclude=./right -chf - . | tar -C "$root/usr/share/zoneinfo" -xf -
  printf 'root:x:0:0:root:/root:/sbin/nologin\nedgeops:x:65532:65532:EdgeOps agent:/var/lib/edgeops:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nedgeops:x:65532:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  chown -R 65532:65532 "$root/var/lib/edgeops"
done

# This machine's rlimits cannot be raised and crun fails on its hybrid cgroups: runc, fixed ulimits.
podman_build=("${podman[@]}" build --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
"${podman[@]}" manifest create "$name" >/dev/null
for arch in amd64 arm64; do
  "${podman_build[@]}" -q --platform "linux/$arch" --build-arg "TARGETARCH=$arch" \
    --timestamp 0 --manifest "$name" -f "$stage/Containerfile" "$stage" >/dev/null
done

archive="$out/edgeops-${version}.oci.tar"
rm -f "$archive"
"${podman[@]}" manifest push --all --format oci --digestfile "$stage/digest" "$name" "oci-archive:$archive:edgeops:${version}" \
  >"$stage/push.log" 2>&1 || { cat "$stage/push.log" >&2; exit 1; }
echo "archive: $archive"
echo "image: $name"
cp "$stage/digest" "$out/edgeops-${version}.oci.digest"
echo "digest: $(cat "$stage/digest")"
