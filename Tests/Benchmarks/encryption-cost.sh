#!/usr/bin/env bash
# Benchmark: what encryption costs a backup. One TCG VM with a 2 GiB disk holding the same 1 GiB
# of mixed data as compare-virtnbdbackup.sh; full backups of it into a fresh plain store and a
# fresh encrypted store, alternating (ROUNDS times, default 3). Prints every run and the median
# of each: wall time and vbackup's CPU time (user + sys), whole command (so the encrypted runs
# include unlocking the key with scrypt). CPU time is the steadier number on a busy machine.
# Usage: encryption-cost.sh PATH/TO/vbackup
set -euo pipefail
source "$(dirname "$0")/mixed-data.sh"
VBACKUP=$(realpath "${1:?usage: $0 path/to/vbackup}")
WORK=/var/lib/libvirt/images/vbackup-encryption-bench
VIRSH="virsh -q -c qemu:///system"
VM=vbench-encryption
ROUNDS=${ROUNDS:-3}

cleanup() {
  $VIRSH destroy $VM >/dev/null 2>&1 || true
  $VIRSH undefine $VM --checkpoints-metadata >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cleanup
mkdir -p "$WORK"

echo "== preparing 1 GiB of mixed data on a 2 GiB disk"
raw=$WORK/source.raw
write_mixed_data "$raw"
qemu-img convert -O qcow2 -o compat=1.1 "$raw" "$WORK/$VM.qcow2"
rm -f "$raw"
define_bench_vm "$VM" "$WORK/$VM.qcow2"
$VIRSH start $VM >/dev/null

export VBACKUP_CACHE=$WORK/cache VBACKUP_PASSPHRASE=vbackup-bench
echo "== full backups, fresh store each"
for round in $(seq 1 "$ROUNDS"); do
  modes="none aes-256-gcm"
  (( round % 2 == 0 )) && modes="aes-256-gcm none"   # alternate the order against drift
  for mode in $modes; do
    store=$WORK/store-$mode
    "$VBACKUP" store init --store "$store" --encryption $mode >/dev/null
    /usr/bin/time -f "%e %U %S" -o "$WORK/time.out" "$VBACKUP" backup $VM --store "$store" --json > "$WORK/$mode-$round.json"
    read -r wall user sys < "$WORK/time.out"
    echo "$mode $round $wall $(echo "$user + $sys" | bc) $(du -sb "$store" | cut -f1)" | tee -a "$WORK/runs"
    rm -rf "$store"
  done
done

python3 - "$WORK" <<'PY'
import json, statistics, sys
work = sys.argv[1]
runs = [line.split() for line in open(f"{work}/runs")]
def median(mode, column): return statistics.median(float(r[column]) for r in runs if r[0] == mode)
def stage(mode):
    seconds = [json.load(open(f"{work}/{r[0]}-{r[1]}.json"))[0]["point"]["disks"][0]["stageSeconds"]["encode"] for r in runs if r[0] == mode]
    return statistics.median(seconds)
plain, sealed = median("none", 2), median("aes-256-gcm", 2)
print(f"\nmedian full backup: plain {plain:.2f} s, encrypted {sealed:.2f} s ({(sealed / plain - 1) * 100:+.1f} %)")
plain, sealed = median("none", 3), median("aes-256-gcm", 3)
print(f"median vbackup CPU (user+sys): plain {plain:.2f} s, encrypted {sealed:.2f} s ({(sealed / plain - 1) * 100:+.1f} %)")
print(f"median hash+compress(+seal) thread-seconds: plain {stage('none'):.2f}, encrypted {stage('aes-256-gcm'):.2f}")
print(f"store size: plain {median('none', 4) / 2**20:.0f} MiB, encrypted {median('aes-256-gcm', 4) / 2**20:.0f} MiB")
PY
