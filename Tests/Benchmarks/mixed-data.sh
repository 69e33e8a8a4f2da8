# Sourced by the benchmarks: the same 1 GiB of mixed data for every one of them, and the same
# small VM around it.
#
# write_mixed_data RAW [disk|compact]: random bytes, base64 text, shared-library binaries and
# repetitive log lines, 256 MiB each. `disk` (the default) places them at 0, 400, 800 and
# 1300 MiB of a sparse 2 GiB image, as a guest's files would lie; `compact` back to back.
write_mixed_data() {
  local raw=$1 layout=${2:-disk}
  local seeks=(0 400 800 1300)
  if [ "$layout" = compact ]; then seeks=(0 256 512 768); else truncate -s 2G "$raw"; fi
  set +o pipefail   # the generators end on SIGPIPE by design
  head -c 256M /dev/urandom | dd of="$raw" bs=1M seek="${seeks[0]}" conv=notrunc status=none
  head -c 192M /dev/urandom | base64 -w 120 | head -c 256M | dd of="$raw" bs=1M seek="${seeks[1]}" conv=notrunc status=none
  find /usr/lib/x86_64-linux-gnu -name '*.so*' -type f -size +100k 2>/dev/null | sort | xargs cat 2>/dev/null | head -c 256M \
    | dd of="$raw" bs=1M seek="${seeks[2]}" conv=notrunc status=none
  yes "2026-11-21T01:00:00Z host kernel: [ 1234.5678] eth0: link up, 1000 Mbps, full duplex, flow control rx/tx" \
    | head -c 256M | dd of="$raw" bs=1M seek="${seeks[3]}" conv=notrunc status=none
  set -o pipefail
}

# define_bench_vm NAME QCOW2: a firmware-only TCG domain on that disk, defined, not started (no
# OS is needed to be backed up or restored). Uses the caller's $VIRSH.
define_bench_vm() {
  $VIRSH define /dev/stdin >/dev/null <<XML
<domain type='qemu'><name>$1</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>
  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
    <source file='$2'/><target dev='vda' bus='virtio'/></disk>
    <video><model type='none'/></video><memballoon model='none'/></devices></domain>
XML
}
