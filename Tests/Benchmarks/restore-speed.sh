#!/usr/bin/env bash
# Benchmark: how fast a VM comes back, side by side in one run.
#
# 1. Time from command to a running VM for a 4 GiB disk holding 1 GiB of mixed data:
#    - vbackup full restore, then start (`restore vm --start`);
#    - vbackup instant restore (`restore vm --instant`): running at once over vbackup's NBD
#      export, the rest pulled in the background (also timed: until the disks are local);
#    - virtnbdrestore of the same data backed up by virtnbdbackup, then `virsh start`.
#    "Running" is when `virsh domstate` first says so, polled every 50 ms from outside.
# 2. The same instant restore for a 32 GiB disk with the same data: the time to running must
#    not grow with the disk.
# 3. Restore throughput (data MiB/s) of vbackup's full restore against virtnbdrestore's.
# 4. The drill's RTO for the tiny guest (Tests/TinyGuest), overlay and copy modes.
# Usage: restore-speed.sh PATH/TO/vbackup
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/mixed-data.sh"
VBACKUP=$(realpath "${1:?usage: $0 path/to/vbackup}")
WORK=/var/lib/libvirt/images/vbackup-rbench
VIRSH="virsh -q -c qemu:///system"
A=vrbench-vbackup B=vrbench-virtnbd G=vrbench-guest
RESTORED=(vrbench-full vrbench-instant vrbench-instant32 vrbench-virtnbd-restored)

cleanup() {
  for vm in $A $B $G "${RESTORED[@]}"; do
    $VIRSH destroy "$vm" >/dev/null 2>&1 || true
    $VIRSH undefine "$vm" --checkpoints-metadata --nvram >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
cleanup
mkdir -p "$WORK"/{store,store32,cache,vnb-backup,restore,vnb-restore,guest}

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", b - a }'; }

# time_to_running NAME LOG COMMAND...: starts COMMAND, polls NAME's state every 50 ms, and writes
# the seconds until it ran to LOG.running and until the command ended to LOG.total.
time_to_running() {
  local name=$1 log=$2; shift 2
  local start; start=$(date +%s.%N)
  "$@" > "$WORK/$log.out" 2> "$WORK/$log.err" &
  local pid=$! running=""
  while kill -0 $pid 2>/dev/null || [ -z "$running" ]; do
    if [ -z "$running" ] && [ "$($VIRSH domstate "$name" 2>/dev/null)" = running ]; then
      running=$(since "$start")
    fi
    kill -0 $pid 2>/dev/null || { [ -n "$running" ] || break; }
    sleep 0.05
  done
  wait $pid || { echo "$log failed:"; cat "$WORK/$log.err"; exit 1; }
  since "$start" > "$WORK/$log.total"
  echo "${running:-nan}" > "$WORK/$log.running"
  printf '%-34s running after %7s s, command done after %7.2f s\n' "$log" "${running:-never}" "$(cat "$WORK/$log.total")"
}

echo "== preparing 1 GiB of mixed data on a 4 GiB disk (and the same on a 32 GiB disk)"
raw=$WORK/source.raw
write_mixed_data "$raw"
truncate -s 4G "$raw"
for vm in $A $B; do
  qemu-img convert -O qcow2 -o compat=1.1 "$raw" "$WORK/$vm.qcow2"
  define_bench_vm "$vm" "$WORK/$vm.qcow2"
  $VIRSH start $vm >/dev/null
done
rm -f "$raw"

export VBACKUP_CACHE=$WORK/cache VBACKUP_STORE=$WORK/store
"$VBACKUP" store init --encryption none >/dev/null
echo "== backups of the same data: vbackup and virtnbdbackup"
"$VBACKUP" backup $A --json > "$WORK/backup.json"
virtnbdbackup -d $B -l full -o "$WORK/vnb-backup" -z -n > "$WORK/vnb-backup.log" 2>&1
for vm in $A $B; do $VIRSH destroy $vm >/dev/null; done

echo "== time from command to a running VM (4 GiB disk, 1 GiB of data)"
time_to_running vrbench-full full-restore \
  "$VBACKUP" restore vm $A --as vrbench-full --to "$WORK/restore" --start
time_to_running vrbench-instant instant-restore \
  "$VBACKUP" restore vm $A --as vrbench-instant --to "$WORK/restore" --instant --json
virtnbd_restore() {
  virtnbdrestore -i "$WORK/vnb-backup" -o "$WORK/vnb-restore" -n -c -D -N vrbench-virtnbd-restored
  $VIRSH start vrbench-virtnbd-restored
}
time_to_running vrbench-virtnbd-restored virtnbdrestore virtnbd_restore

echo "== instant restore of a 32 GiB disk holding the same data"
qemu-img resize -q "$WORK/$A.qcow2" 32G
$VIRSH start $A >/dev/null
VBACKUP_STORE=$WORK/store32 "$VBACKUP" store init --encryption none >/dev/null
VBACKUP_STORE=$WORK/store32 "$VBACKUP" backup $A --json > "$WORK/backup32.json"
$VIRSH destroy $A >/dev/null
VBACKUP_STORE=$WORK/store32 time_to_running vrbench-instant32 instant-restore-32g \
  "$VBACKUP" restore vm $A --as vrbench-instant32 --to "$WORK/restore" --instant --json

echo "== restore throughput: vbackup restore (no define) against virtnbdrestore (same data)"
rm -rf "$WORK/vnb-restore"/* "$WORK/restore"/*
for vm in "${RESTORED[@]}"; do
  $VIRSH destroy "$vm" >/dev/null 2>&1 || true
  $VIRSH undefine "$vm" --nvram >/dev/null 2>&1 || true
done
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/$label.time" "$@" > "$WORK/$label.out" 2> "$WORK/$label.err" \
    || { echo "$label failed:"; cat "$WORK/$label.err"; exit 1; }
  read -r secs kib < "$WORK/$label.time"
  printf '%-34s %7.2f s   peak RSS %5d MiB\n' "$label" "$secs" $((kib / 1024))
}
measure vbackup-restore "$VBACKUP" restore vm $A --to "$WORK/restore" --format qcow2
measure virtnbdrestore-only virtnbdrestore -i "$WORK/vnb-backup" -o "$WORK/vnb-restore" -n

echo "== the drill's RTO for the tiny guest (1 GiB disk, running its workload while backed up)"
bash "$here/../TinyGuest/build.sh" /var/lib/libvirt/images/vbackup-tinyguest > "$WORK/guest-build.log"
bash "$here/../TinyGuest/make-disk.sh" "$WORK/guest/data.qcow2" 1G
TINYGUEST_DIR=/var/lib/libvirt/images/vbackup-tinyguest \
  bash "$here/../TinyGuest/define-guest.sh" $G "$WORK/guest/data.qcow2" "$WORK/guest/serial.log" workload >/dev/null
$VIRSH start $G >/dev/null
for _ in $(seq 1 300); do grep -q 'VBGUEST WORK' "$WORK/guest/serial.log" 2>/dev/null && break; sleep 0.2; done
"$VBACKUP" backup $G --json > "$WORK/guest-backup.json"
"$VBACKUP" drill --vm $G --console-pattern 'VBGUEST CHECK OK' --json > "$WORK/drill-overlay.json" || true
"$VBACKUP" drill --vm $G --console-pattern 'VBGUEST CHECK OK' --copy --json > "$WORK/drill-copy.json" || true

python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
num = lambda name: float(open(f"{work}/{name}").read().strip() or "nan")
mib = 1 << 20
data = sum(d["bytesRead"] for d in json.load(open(f"{work}/backup.json"))[0]["point"]["disks"]) / mib
print()
print(f"{'4 GiB disk, %.0f MiB of data' % data:<38} {'to running (s)':>15} {'command done (s)':>17}")
for label, name in (("vbackup restore --start", "full-restore"), ("vbackup restore --instant", "instant-restore"),
                    ("virtnbdrestore -D, virsh start", "virtnbdrestore"), ("vbackup --instant, 32 GiB disk", "instant-restore-32g")):
    print(f"{label:<38} {num(name + '.running'):>15.2f} {num(name + '.total'):>17.2f}")
vb = float(open(f"{work}/vbackup-restore.time").read().split()[0])
vnb = float(open(f"{work}/virtnbdrestore-only.time").read().split()[0])
print()
print(f"restore throughput (MiB of data/s): vbackup {data / vb:.0f}, virtnbdrestore {data / vnb:.0f}, ratio {vnb / vb:.2f}x")
for mode in ("overlay", "copy"):
    try:
        report = json.load(open(f"{work}/drill-{mode}.json"))
    except Exception as error:
        print(f"drill ({mode}): no report ({error})")
        continue
    for vm in report["vms"]:
        t = vm["timings"]
        print(f"drill ({mode}): {vm['outcome']}, disks ready {t.get('disksReady') or 0:.2f} s, running {t.get('running') or 0:.2f} s, "
              f"healthy (RTO) {t.get('healthy') or float('nan'):.2f} s" + (f", failure: {vm['failure']}" if vm.get("failure") else ""))
PY
