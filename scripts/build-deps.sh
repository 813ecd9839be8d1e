#!/usr/bin/env bash
# Installs the Debian packages the NativeAOT builds and their tests need, when they are missing (as root):
#   clang, lld, llvm            the NativeAOT linker toolchain
#   gcc/binutils-aarch64-linux-gnu, libc6-dev-arm64-cross
#                               cross-compiling the linux-arm64 agent
#   qemu-user-static, libc6:arm64, libssl3:arm64
#                               running it here (libgit2 loads libssl at run time)
#   podman, buildah, runc       building and running the OCI image (scripts/build-image.sh); the arm64
#                               image runs through qemu registered with binfmt_misc (below)
#   rauc, rauc-service, squashfs-tools, e2fsprogs, dbus, openssl
#                               the upgrade tests' real RAUC service (bundles, loop-device slots, a private
#                               system bus)
#   gpsd, gpsd-clients, python3-gps
#                               the live-location tests' real gpsd, fed NMEA tracks by gpsfake
#   postgresql                  the collector's PostgreSQL tests (a private server on loopback per run)
#   chromium                    the fleet page's test, in headless Chromium
set -euo pipefail

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for package in clang lld llvm gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross \
  qemu-user-static podman buildah runc rauc rauc-service squashfs-tools e2fsprogs dbus openssl \
  gpsd gpsd-clients python3-gps postgresql chromium; do
  have "$package" || need+=("$package")
done
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  [ "$(id -u)" -eq 0 ] || { echo "scripts/build-deps.sh: run as root to add the arm64 architecture" >&2; exit 1; }
  dpkg --add-architecture arm64
  need+=(libc6:arm64 libssl3:arm64)
else
  have libc6:arm64 || need+=(libc6:arm64)
  have libssl3:arm64 || need+=(libssl3:arm64)
fi

if [ "${#need[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "scripts/build-deps.sh: missing ${need[*]}; run as root to install them" >&2; exit 1; }
  echo "installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Running the arm64 image needs the kernel to hand arm64 executables to qemu (binfmt_misc, fix-binary
# mode, as Debian's qemu-user-static describes it). Register it when the machine has not.
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "scripts/build-deps.sh: qemu-aarch64 is not registered with binfmt_misc; run as root" >&2; exit 1; }
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
fi
