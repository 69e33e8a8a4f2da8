#!/usr/bin/env bash
# Builds the tiny bootable guest into OUTDIR, from Debian packages:
#   OUTDIR/vmlinux            the ELF kernel, extracted from linux-image-amd64's xz bzImage (boots
#                             through PVH: ~1 s to the first serial line under TCG, where the
#                             bzImage spends 6-18 s decompressing itself)
#   OUTDIR/initramfs.cpio.gz  busybox-static, virtio_pci + virtio_blk + ext4 + virtio_console
#                             (the guest agent's port) and their dependencies, /bin/workload (workload.c), /init (./init), and the
#                             host's e2fsck with the shared libraries it needs (e2fsprogs)
#   OUTDIR/kernel-version     the kernel release (uname -r in the guest)
# Cached: a second run with the same inputs (package versions, init, workload.c, this script, the
# host's e2fsck and its libraries) does nothing. The downloaded .debs stay in OUTDIR/debs. The
# outputs are world-readable, for QEMU running as libvirt-qemu.
# Needs: apt, dpkg-deb, kmod (depmod, modprobe), cpio, gzip, xz-utils, gcc, libc6-dev, e2fsprogs.
# usage: build.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
chmod 755 "$out"
exec 9> "$out/.lock"   # concurrent builds into one OUTDIR take turns
flock 9

# The inputs: the exact kernel package that linux-image-amd64 points at, busybox-static, sources.
# (One apt-cache call: each costs seconds here. The meta package pins its kernel's exact version.)
resolve() { apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null; }
info=$(resolve)
echo "$info" | grep -q '^Package: busybox-static' || { apt-get update -q >/dev/null; info=$(resolve); }
read -r kpkg kver < <(echo "$info" | sed -n 's/^Depends: \(linux-image-[^ ]*\) (= \([^)]*\)).*/\1 \2/p' | head -1)
bbver=$(echo "$info" | awk '/^Package:/ {p = $2} /^Version:/ && p == "busybox-static" {print $2}')
[ -n "$kpkg" ] && [ -n "$kver" ] && [ -n "$bbver" ] || { echo "build.sh: cannot resolve the packages" >&2; exit 1; }
# The host's e2fsck and every shared object it loads (ldd prints "name => /path (addr)" and the
# loader as "/path (addr)"), copied into the initramfs at the same paths.
e2fsck=$(command -v e2fsck || echo /sbin/e2fsck)
[ -x "$e2fsck" ] || { echo "build.sh: no e2fsck on this host (install e2fsprogs)" >&2; exit 1; }
e2libs=$(ldd "$e2fsck" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
key=$( { echo "$kpkg=$kver busybox-static=$bbver"; cat "$here/build.sh" "$here/init" "$here/workload.c";
         sha256sum "$e2fsck" $e2libs; } | sha256sum | cut -d' ' -f1)
if [ -f "$out/inputs.sha256" ] && [ "$(cat "$out/inputs.sha256")" = "$key" ] \
   && [ -s "$out/vmlinux" ] && [ -s "$out/initramfs.cpio.gz" ]; then
  echo "tiny guest up to date in $out ($kpkg $kver)"
  exit 0
fi
echo "building the tiny guest in $out ($kpkg $kver, busybox-static $bbver)"

# download PKG VERSION: the .deb's path in OUTDIR/debs, downloaded once.
mkdir -p "$out/debs"
download() {
  local f
  f=$(find "$out/debs" -name "$1_*${2#*:}_amd64.deb" | head -1)
  if [ -z "$f" ]; then
    (cd "$out/debs" && apt-get download -q "$1=$2" >/dev/null 2>&1) \
      || { echo "build.sh: apt-get download $1=$2 failed" >&2; exit 1; }
    f=$(find "$out/debs" -name "$1_*${2#*:}_amd64.deb" | head -1)
  fi
  echo "$f"
}
kdeb=$(download "$kpkg" "$kver")
bbdeb=$(download busybox-static "$bbver")

tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$kdeb" "$tmp/kernel"
dpkg-deb -x "$bbdeb" "$tmp/busybox"

# (a) vmlinux: the xz stream inside the bzImage, decompressed.
vmlinuz=$(find "$tmp/kernel/boot" -name 'vmlinuz-*' | head -1)
release=${vmlinuz##*/vmlinuz-}
off=$(LC_ALL=C grep -obUaP '\xFD\x37\x7A\x58\x5A\x00' "$vmlinuz" | head -1 | cut -d: -f1)
[ -n "$off" ] || { echo "build.sh: no xz stream in $vmlinuz" >&2; exit 1; }
tail -c +$((off + 1)) "$vmlinuz" > "$tmp/payload.xz"
xz -dc --single-stream "$tmp/payload.xz" > "$tmp/vmlinux"   # (ignores the bzImage's tail)
[ "$(head -c 4 "$tmp/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] \
  || { echo "build.sh: the extracted kernel is not an ELF" >&2; exit 1; }

# (b) the initramfs.
root=$tmp/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,data,lib/modules}
cp "$tmp/busybox/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
mknod "$root/dev/console" c 5 1
mknod "$root/dev/null" c 1 3
install -m 755 "$here/init" "$root/init"
gcc -static -O2 -Wall -o "$root/bin/workload" "$here/workload.c"
rm -f "$root/bin/e2fsck"   # (a busybox applet link, if there is one: cp would follow it)
cp "$e2fsck" "$root/bin/e2fsck"
for lib in $e2libs; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
mkdir -p "$root/etc"
ln -s /proc/mounts "$root/etc/mtab"   # e2fsck asks whether the device is mounted

modroot=$tmp/kernel
[ -d "$modroot/lib/modules/$release" ] || modroot=$tmp/kernel/usr
depmod -b "$modroot" "$release"
: > "$root/lib/modules/order"
for m in virtio_pci virtio_blk ext4 virtio_console; do
  modprobe -d "$modroot" -S "$release" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
  name=$(basename "$ko"); name=${name%%.ko*}
  case "$ko" in
    *.ko.xz)  xz -dc "$ko" ;;
    *.ko.zst) zstd -dcq "$ko" ;;
    *.ko.gz)  gzip -dc "$ko" ;;
    *)        cat "$ko" ;;
  esac > "$root/lib/modules/$name.ko"
  echo "$name" >> "$root/lib/modules/order"
done
echo "modules: $(tr '\n' ' ' < "$root/lib/modules/order")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) > "$tmp/initramfs.cpio.gz"

echo "$release" > "$tmp/kernel-version"
for f in vmlinux initramfs.cpio.gz kernel-version; do
  chmod 644 "$tmp/$f"
  mv -f "$tmp/$f" "$out/$f"
done
echo "$key" > "$out/inputs.sha256"
echo "tiny guest built: $(du -h "$out/vmlinux" | cut -f1) vmlinux, $(du -h "$out/initramfs.cpio.gz" | cut -f1) initramfs"
