#!/usr/bin/env bash
# Benchmark: backing up into S3 (a real Ceph RADOS Gateway on loopback, .ci/rgw) against the local
# folder store, and against restic backing up the same disk image into the same RGW, in one run.
#
# For a running VM with 1 GiB of mixed data on a 4 GiB disk:
# 1. vbackup full backup and full restore, local store, then the same into an S3 store, over
#    HTTP and over HTTPS;
# 2. restic 0.14: `backup` of the same raw disk image into an S3 repository on the same RGW,
#    then `restore`;
# 3. requests per GiB, counted by the server (RGW's usage log, per bucket) for both tools, and
#    by vbackup's own adapter (`backup --json` storageRequests);
# 4. CPU seconds of each run and of the gateway (radosgw, ceph-osd, ceph-mon) meanwhile: here
#    the gateway shares the client's two cores, which a fleet's gateway would not.
# Usage: s3-throughput.sh PATH/TO/vbackup
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$here/mixed-data.sh"
VBACKUP=$(realpath "${1:?usage: $0 path/to/vbackup}")
WORK=/var/lib/libvirt/images/vbackup-s3bench
VIRSH="virsh -q -c qemu:///system"
VM=vs3bench
run_id=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
BUCKET=vbench-$run_id TLS_BUCKET=vbench-tls-$run_id RESTIC_BUCKET=vbench-restic-$run_id

eval "$(bash "$repo/.ci/rgw" start)"
export AWS_ACCESS_KEY_ID=$VBACKUP_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$VBACKUP_TEST_S3_SECRET_KEY
export RESTIC_PASSWORD=vbackup-bench VBACKUP_CACHE=$WORK/cache
S3_STORE="s3://$BUCKET/store?endpoint=$VBACKUP_TEST_S3_ENDPOINT&region=us-east-1"
TLS_STORE="s3://$TLS_BUCKET/store?endpoint=$VBACKUP_TEST_S3_TLS_ENDPOINT&region=us-east-1&ca-file=$VBACKUP_TEST_S3_CA_FILE"
RESTIC_REPO="s3:$VBACKUP_TEST_S3_ENDPOINT/$RESTIC_BUCKET"
RGW_CONF=${VBACKUP_RGW_DIR:-/tmp/vbackup-rgw}/ceph.conf

cleanup() {
  # The memstore OSD keeps objects in memory: remove the run's buckets with their objects.
  for bucket in "$BUCKET" "$TLS_BUCKET" "$RESTIC_BUCKET"; do
    radosgw-admin -c "$RGW_CONF" bucket rm --bucket="$bucket" --purge-objects >/dev/null 2>&1 || true
  done
  $VIRSH destroy $VM >/dev/null 2>&1 || true
  $VIRSH undefine $VM --checkpoints-metadata >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cleanup
mkdir -p "$WORK"/{store,cache,restore-local,restore-s3,restore-tls,restore-restic}

since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", b - a }'; }
rate() { awk -v s="$1" 'BEGIN { printf "%.0f", 1024 / s }'; }   # MiB/s for the 1 GiB of data

# gateway_cpu: CPU seconds the RGW and its Ceph daemons (radosgw, ceph-osd, ceph-mon) have used.
gateway_cpu() {
  local ticks=0 pid
  for pid in $(pgrep -x 'radosgw|ceph-osd|ceph-mon'); do
    ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f\n", t / hz }'
}

# timed LABEL COMMAND...: runs COMMAND under /usr/bin/time; LABEL.seconds, LABEL.rss (MiB),
# LABEL.cpu (the command's user + system seconds) and LABEL.gwcpu (the gateway's, meanwhile).
timed() {
  local label=$1; shift
  local start gw; start=$(date +%s.%N); gw=$(gateway_cpu)
  /usr/bin/time -f '%M %U %S' -o "$WORK/$label.time" "$@" > "$WORK/$label.out" 2> "$WORK/$label.err" ||
    { echo "$label failed:"; cat "$WORK/$label.err"; exit 1; }
  since "$start" > "$WORK/$label.seconds"
  awk -v a="$gw" -v b="$(gateway_cpu)" 'BEGIN { printf "%.2f\n", b - a }' > "$WORK/$label.gwcpu"
  tail -1 "$WORK/$label.time" | awk '{ printf "%.0f\n", $1 / 1024 }' > "$WORK/$label.rss"
  tail -1 "$WORK/$label.time" | awk '{ printf "%.2f\n", $2 + $3 }' > "$WORK/$label.cpu"
  printf '%-24s %7.2f s  %5s MiB/s  %4s MiB RSS  %6s s CPU  %6s s gateway CPU\n' "$label" \
    "$(cat "$WORK/$label.seconds")" "$(rate "$(cat "$WORK/$label.seconds")")" "$(cat "$WORK/$label.rss")" \
    "$(cat "$WORK/$label.cpu")" "$(cat "$WORK/$label.gwcpu")"
}

# ops BUCKET: requests RGW logged for the bucket (all categories), after the log is flushed.
ops() {
  sleep 3
  radosgw-admin -c "$RGW_CONF" usage show --bucket="$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(c["ops"] for e in d.get("entries", []) for b in e["buckets"] for c in b["categories"]))'
}

echo "== preparing a running VM: 1 GiB of mixed data on a 4 GiB disk"
raw=$WORK/source.raw
write_mixed_data "$raw"
truncate -s 4G "$raw"
qemu-img convert -O qcow2 "$raw" "$WORK/$VM.qcow2"
define_bench_vm "$VM" "$WORK/$VM.qcow2"
$VIRSH start $VM >/dev/null

echo "== vbackup, local folder store, then S3 (RGW on 127.0.0.1), full backup and restore"
"$VBACKUP" store init --encryption none --store "$WORK/store" >/dev/null
"$VBACKUP" store init --encryption none --store "$S3_STORE" >/dev/null
"$VBACKUP" store init --encryption none --store "$TLS_STORE" >/dev/null
timed local-backup "$VBACKUP" backup $VM --full --json --store "$WORK/store"
timed s3-backup "$VBACKUP" backup $VM --full --json --store "$S3_STORE"
s3_backup_ops=$(ops "$BUCKET")
timed local-restore "$VBACKUP" restore vm $VM --to "$WORK/restore-local" --store "$WORK/store"
timed s3-restore "$VBACKUP" restore vm $VM --to "$WORK/restore-s3" --store "$S3_STORE"
s3_total_ops=$(ops "$BUCKET")
qemu-img compare -q "$WORK/restore-local/$VM-vda.qcow2" "$WORK/restore-s3/$VM-vda.qcow2" ||
  { echo "the S3 restore differs from the local one"; exit 1; }

echo "== the same over HTTPS (the gateway's TLS port, its lab CA): bodies go UNSIGNED-PAYLOAD there"
timed s3-tls-backup "$VBACKUP" backup $VM --full --json --store "$TLS_STORE"
timed s3-tls-restore "$VBACKUP" restore vm $VM --to "$WORK/restore-tls" --store "$TLS_STORE"
qemu-img compare -q "$WORK/restore-local/$VM-vda.qcow2" "$WORK/restore-tls/$VM-vda.qcow2" ||
  { echo "the S3 (HTTPS) restore differs from the local one"; exit 1; }

echo "== restic $(restic version | awk '{print $2}'), the same disk image as a raw file, into the same RGW"
restic -q -r "$RESTIC_REPO" init
timed restic-backup restic -r "$RESTIC_REPO" backup "$raw"
restic_backup_ops=$(ops "$RESTIC_BUCKET")
timed restic-restore restic -r "$RESTIC_REPO" restore latest --target "$WORK/restore-restic"
restic_total_ops=$(ops "$RESTIC_BUCKET")

python3 - "$WORK" "$s3_backup_ops" "$s3_total_ops" "$restic_backup_ops" "$restic_total_ops" <<'PY'
import json, sys
work, s3_b, s3_t, r_b, r_t = sys.argv[1], *map(int, sys.argv[2:])
def sec(label): return float(open(f"{work}/{label}.seconds").read())
def rss(label): return open(f"{work}/{label}.rss").read().strip()
s3 = json.load(open(f"{work}/s3-backup.out"))[0]
tally = s3.get("storageRequests") or {}
sent_gib = (tally.get("bytesSent") or 0) / 2**30
stored_gib = s3["point"]["bytesStored"] / 2**30 if s3.get("point") and "bytesStored" in s3["point"] else sent_gib
print()
print("| 1 GiB of data, 4 GiB disk | backup | restore | backup RSS |")
print("|---|---|---|---|")
for name, b, r in [("vbackup, local folder", "local-backup", "local-restore"),
                   ("vbackup, S3 (RGW)", "s3-backup", "s3-restore"),
                   ("vbackup, S3 over HTTPS (same RGW)", "s3-tls-backup", "s3-tls-restore"),
                   ("restic 0.14, S3 (same RGW)", "restic-backup", "restic-restore")]:
    print(f"| {name} | {sec(b):.2f} s ({1024/sec(b):.0f} MiB/s) | {sec(r):.2f} s ({1024/sec(r):.0f} MiB/s) | {rss(b)} MiB |")
print()
def cpu(label, kind="cpu"): return float(open(f"{work}/{label}.{kind}").read())
print(f"S3 backup throughput / local: {sec('local-backup')/sec('s3-backup')*100:.0f} % (target >= 80 %); "
      f"over HTTPS {sec('local-backup')/sec('s3-tls-backup')*100:.0f} %")
print(f"S3 restore throughput / local: {sec('local-restore')/sec('s3-restore')*100:.0f} %")
print()
print("CPU seconds (2 cores shared) | vbackup or restic | gateway (radosgw + ceph-osd + ceph-mon)")
for label in ("local-backup", "s3-backup", "s3-tls-backup", "local-restore", "s3-restore", "s3-tls-restore",
              "restic-backup", "restic-restore"):
    print(f"{label:<28} | {cpu(label):16.2f} | {cpu(label, 'gwcpu'):6.2f}")
print(f"vbackup S3 vs restic S3, backup: {sec('restic-backup')/sec('s3-backup'):.2f}x faster")
print()
print("requests (RGW usage log)  | backup | per GiB of data | per GiB written | restore")
print(f"vbackup                   | {s3_b:6d} | {s3_b:15d} | {s3_b/max(sent_gib,1e-9):15.1f} | {s3_t-s3_b}")
print(f"restic                    | {r_b:6d} | {r_b:15d} | {'':>15} | {r_t-r_b}")
own = sum(tally.get(k) or 0 for k in ("puts", "gets", "heads", "lists", "deletes", "other"))
print(f"vbackup's own count: {own} requests ({tally.get('puts')} PUT, {tally.get('gets')} GET, "
      f"{tally.get('lists')} LIST, {tally.get('heads')} HEAD, {tally.get('other')} other, {tally.get('retries')} retries), "
      f"{sent_gib:.2f} GiB sent; target <= 64 requests per GiB written")
PY
