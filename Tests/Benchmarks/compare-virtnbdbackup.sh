#!/usr/bin/env bash
# Benchmark: vbackup against Debian's virtnbdbackup/virtnbdrestore, side by side in one run.
#
# Two identical TCG VMs (virtnbdbackup refuses to run beside another tool's checkpoints), each
# with a 2 GiB qcow2 disk holding 1 GiB of mixed data: random, base64 text, shared-library
# binaries and repetitive log lines. Measured for each tool: the full backup, an incremental
# after the same 64 MiB of scattered guest writes, the restore of the latest point, the store
# size and peak memory. Usage: compare-virtnbdbackup.sh PATH/TO/vbackup
set -euo pipefail
source "$(dirname "$0")/mixed-data.sh"
VBACKUP=$(realpath "${1:?usage: $0 path/to/vbackup}")
WORK=/var/lib/libvirt/images/vbackup-bench
VIRSH="virsh -q -c qemu:///system"
A=vbench-vbackup B=vbench-virtnbd

cleanup() {
  for vm in $A $B; do
    $VIRSH destroy $vm >/dev/null 2>&1 || true
    $VIRSH undefine $vm --checkpoints-metadata >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
cleanup
mkdir -p "$WORK"/{vb-store,vb-cache,vnb-backup,vb-restore,vnb-restore}

echo "== preparing 1 GiB of mixed data on a 2 GiB disk"
raw=$WORK/source.raw
write_mixed_data "$raw"
for vm in $A $B; do
  qemu-img convert -O qcow2 -o compat=1.1 "$raw" "$WORK/$vm.qcow2"
  define_bench_vm "$vm" "$WORK/$vm.qcow2"
  $VIRSH start $vm >/dev/null
done
rm -f "$raw"

# measure LABEL COMMAND...: runs it under GNU time, prints and records seconds and peak RSS.
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" > "$WORK/$label.out" 2> "$WORK/$label.err" \
    || { echo "$label failed:"; cat "$WORK/$label.err"; exit 1; }
  read -r secs kib < "$WORK/time.out"
  printf '%-28s %8.2f s   peak RSS %6d MiB\n' "$label" "$secs" $((kib / 1024))
  echo "$secs" > "$WORK/$label.secs"
}

export VBACKUP_CACHE=$WORK/vb-cache VBACKUP_STORE=$WORK/vb-store
"$VBACKUP" store init --encryption "${ENCRYPTION:-none}" --chunk-size "${CHUNK_KIB:-256}" >/dev/null  # ENCRYPTION=aes-256-gcm needs $VBACKUP_PASSPHRASE

echo "== full backup"
measure vbackup-full "$VBACKUP" backup $A --json
measure virtnbdbackup-full virtnbdbackup -d $B -l full -o "$WORK/vnb-backup" -z -n
vb_full_store=$(du -sb "$WORK/vb-store" | cut -f1)
vnb_full_store=$(du -sb "$WORK/vnb-backup" | cut -f1)

echo "== 64 MiB of scattered guest writes (1024 x 64 KiB, same offsets on both VMs)"
RANDOM=42
for i in $(seq 1 1024); do
  off=$(( (RANDOM * 32768 + RANDOM) % 32768 * 65536 ))
  for vm in $A $B; do
    $VIRSH qemu-monitor-command $vm --hmp "qemu-io -d virtio-disk0/virtio-backend \"write -P $((i % 250 + 1)) $off 64k\"" >/dev/null
  done
done

echo "== incremental backup"
measure vbackup-incremental "$VBACKUP" backup $A --json
measure virtnbdbackup-incremental virtnbdbackup -d $B -l inc -o "$WORK/vnb-backup" -z -n
vb_inc_store=$(( $(du -sb "$WORK/vb-store" | cut -f1) - vb_full_store ))
vnb_inc_store=$(( $(du -sb "$WORK/vnb-backup" | cut -f1) - vnb_full_store ))

echo "== reference copies (VMs paused) and restore of the latest point"
for vm in $A $B; do $VIRSH suspend $vm >/dev/null; qemu-img convert -U -O qcow2 "$WORK/$vm.qcow2" "$WORK/$vm.ref.qcow2"; done
measure vbackup-restore "$VBACKUP" restore vm $A --to "$WORK/vb-restore" --format qcow2
measure virtnbdrestore virtnbdrestore -i "$WORK/vnb-backup" -o "$WORK/vnb-restore" -n
vb_same=$(qemu-img compare -q "$WORK/$A.ref.qcow2" "$WORK/vb-restore/$A-vda.qcow2" && echo identical || echo DIFFERENT)
vnb_img=$(find "$WORK/vnb-restore" -maxdepth 1 -type f ! -name '*.xml' ! -name '*.json' ! -name '*.log' | head -1)
vnb_same=$(qemu-img compare -q "$WORK/$B.ref.qcow2" "$vnb_img" && echo identical || echo DIFFERENT)

python3 - "$WORK" "$vb_full_store" "$vnb_full_store" "$vb_inc_store" "$vnb_inc_store" "$vb_same" "$vnb_same" <<'PY'
import json, sys
work, vb_full, vnb_full, vb_inc, vnb_inc, vb_same, vnb_same = sys.argv[1:]
secs = lambda label: float(open(f"{work}/{label}.secs").read())
point = lambda label: json.load(open(f"{work}/{label}.out"))[0]["point"]
full, inc = point("vbackup-full"), point("vbackup-incremental")
mib = 1 << 20
def row(name, vb, vnb, unit=""):
    ratio = f"{vb / vnb:.2f}x" if vnb else "-"
    print(f"{name:<34} {vb:>12.2f}{unit:<5} {vnb:>12.2f}{unit:<5} {ratio:>8}")
print()
print(f"{'':<34} {'vbackup':>17} {'virtnbdbackup -z':>17} {'ratio':>8}")
row("full backup time (s)", secs("vbackup-full"), secs("virtnbdbackup-full"))
data = full["disks"][0]["bytesRead"] / mib
row("full backup rate (MiB/s of data)", data / secs("vbackup-full"), data / secs("virtnbdbackup-full"))
row("store after full (MiB)", int(vb_full) / mib, int(vnb_full) / mib)
row("incremental time (s)", secs("vbackup-incremental"), secs("virtnbdbackup-incremental"))
row("incremental stored (MiB)", int(vb_inc) / mib, int(vnb_inc) / mib)
row("restore time (s)", secs("vbackup-restore"), secs("virtnbdrestore"))
print(f"incremental read by vbackup: {inc['bytesRead'] / mib:.1f} MiB (dirty extents, 64 KiB bitmap granularity)")
for label, p in (("full", full), ("incremental", inc)):
    s = p["disks"][0].get("stageSeconds") or {}
    print(f"vbackup {label} stages (thread-seconds): read {s.get('read', 0):.2f}, hash+compress {s.get('encode', 0):.2f}, store {s.get('store', 0):.2f}")
print(f"restore vs source at backup time: vbackup {vb_same}, virtnbdrestore {vnb_same}")
PY
echo
echo "peak RSS is printed per step above"
