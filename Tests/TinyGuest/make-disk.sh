#!/usr/bin/env bash
# Makes the tiny guest's data disk: an ext4 filesystem (made on a raw file on the host, fully
# initialised so the guest kernel has no lazy inode-table zeroing to do) converted to qcow2
# compat 1.1 (what libvirt checkpoints need). The filesystem holds CONTENT_DIR's files, or one
# 1 MiB file of random data when none is given, plus /MANIFEST: their sha256 sums, the list the
# guest's vbguest.run=check verifies.
# usage: make-disk.sh OUT.qcow2 SIZE [CONTENT_DIR]     (SIZE as truncate takes it: 512M, 2G)
set -euo pipefail
out=${1:?usage: make-disk.sh OUT.qcow2 SIZE [CONTENT_DIR]}
size=${2:?usage: make-disk.sh OUT.qcow2 SIZE [CONTENT_DIR]}
content=${3:-}
tmp=$(mktemp -d "$(dirname "$out")/.make-disk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/fs"
if [ -n "$content" ]; then
  cp -a "$content/." "$tmp/fs/"
else
  head -c 1M /dev/urandom > "$tmp/fs/seed.bin"
fi
rm -f "$tmp/fs/MANIFEST"
(cd "$tmp/fs" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | xargs -r -d '\n' sha256sum) > "$tmp/MANIFEST"
mv "$tmp/MANIFEST" "$tmp/fs/MANIFEST"

truncate -s "$size" "$tmp/disk.raw"
mkfs.ext4 -q -F -L vbguest -E lazy_itable_init=0,lazy_journal_init=0 -d "$tmp/fs" "$tmp/disk.raw"
qemu-img convert -f raw -O qcow2 -o compat=1.1 "$tmp/disk.raw" "$out"
