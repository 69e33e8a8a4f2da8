#!/usr/bin/env bash
# Benchmark: store integrity and lifecycle (verify, GC), side by side with restic in one run.
#
# 1. Verify throughput: the same 1 GiB image of mixed data (random, base64 text, shared-library
#    binaries, repetitive logs) stored by vbackup (256 KiB chunks) and by restic; `vbackup verify`
#    against `restic check --read-data`, with a cold page cache and a warm one.
# 2. GC and verify of a store of over a million chunks (4 KiB chunks, ~100 per pack), a third
#    of its points forgotten as prune would: targets GC < 60 s and < 500 MiB.
# 3. Cost against the store's size: one VM's points (256 MiB disk, 2 % of chunks changed per
#    point), verify and GC timed at 25, 50, 100 and 200 points.
# Every number is measured in this run; the stores come from vbackup-storebench, which writes
# through the real store API. Usage: store-maintenance.sh PATH/TO/vbackup PATH/TO/vbackup-storebench
set -euo pipefail
source "$(dirname "$0")/mixed-data.sh"
VBACKUP=$(realpath "${1:?usage: $0 path/to/vbackup path/to/vbackup-storebench}")
STOREBENCH=$(realpath "${2:?usage: $0 path/to/vbackup path/to/vbackup-storebench}")
WORK=${STORE_BENCH_DIR:-/var/tmp/vbackup-store-bench}
MILLION=${MILLION_CHUNKS:-1000000}
STEPS=${POINT_STEPS:-25 50 100 200}
REPEAT=${REPEAT:-3}
export RESTIC_PASSWORD=vbackup-bench RESTIC_CACHE_DIR=$WORK/restic-cache

cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
cleanup
mkdir -p "$WORK/results"

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# measure [--cold] [--best] LABEL COMMAND...: runs it under GNU time and prints and keeps
# (results/LABEL.secs, .kib, .out) its seconds, peak RSS and stdout. --cold drops the page cache
# first; --best runs it $REPEAT times and keeps the fastest run (other work on a shared host
# only ever adds time) and the highest peak RSS. Only commands that change nothing may repeat.
measure() {
  local cold=0 runs=1
  while [[ $1 == --* ]]; do
    case $1 in --cold) cold=1 ;; --best) runs=$REPEAT ;; esac
    shift
  done
  local label=$1 best="" peak=0 secs kib; shift
  for _ in $(seq 1 "$runs"); do
    [ $cold = 1 ] && drop_caches
    /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" > "$WORK/run.out" 2> "$WORK/run.err" \
      || { echo "$label failed:"; cat "$WORK/run.err"; exit 1; }
    read -r secs kib < "$WORK/time.out"
    (( kib > peak )) && peak=$kib
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$secs
      mv "$WORK/run.out" "$WORK/results/$label.out"
    fi
  done
  printf '  %-30s %8.2f s   peak RSS %6d MiB%s\n' "$label" "$best" $((peak / 1024)) \
    "$([ "$runs" -gt 1 ] && echo "   (best of $runs)")"
  echo "$best" > "$WORK/results/$label.secs"
  echo "$peak" > "$WORK/results/$label.kib"
}

# measure_vbackup LABEL STORE ARGS...: measures vbackup on STORE with its catalog cache STORE-cache
# (the cache vbackup-storebench filled, as on the host that made the backups).
measure_vbackup() {
  local flags=()
  while [[ $1 == --* ]]; do flags+=("$1"); shift; done
  local label=$1 store=$2; shift 2
  measure "${flags[@]}" "$label" env VBACKUP_STORE="$store" VBACKUP_CACHE="$store-cache" "$VBACKUP" "$@"
}
sizeof() { du -sb "$1" | cut -f1; }

load_start=$(cut -d' ' -f1 /proc/loadavg)
echo "== 1. verify throughput: vbackup verify vs restic check --read-data ($(restic version | cut -d' ' -f1-2))"
raw=$WORK/image.raw
write_mixed_data "$raw" compact
echo "$(sizeof "$raw")" > "$WORK/results/image.bytes"
measure store-import env VBACKUP_CACHE="$WORK/vb-cache" "$STOREBENCH" import --store "$WORK/vb" --file "$raw" --vm image
restic -r "$WORK/restic" init -q > /dev/null
measure restic-backup restic -r "$WORK/restic" backup -q "$raw"
rm -f "$raw"
sizeof "$WORK/vb" > "$WORK/results/vb.bytes"
sizeof "$WORK/restic" > "$WORK/results/restic.bytes"
for cache in cold warm; do
  flags=(--best); [ $cache = cold ] && flags+=(--cold)
  measure_vbackup "${flags[@]}" vbackup-verify-$cache "$WORK/vb" verify --json
  measure "${flags[@]}" restic-check-$cache restic -r "$WORK/restic" check --read-data
done

echo "== 2. GC and verify of $MILLION chunks"
measure million-build env VBACKUP_CACHE="$WORK/million-cache" "$STOREBENCH" million --store "$WORK/million" --chunks "$MILLION"
sizeof "$WORK/million" > "$WORK/results/million-before.bytes"
measure_vbackup --cold --best million-gc-dry-run "$WORK/million" gc --dry-run --json
measure_vbackup --cold million-gc "$WORK/million" gc --json
sizeof "$WORK/million" > "$WORK/results/million-after.bytes"
measure_vbackup --cold --best million-verify "$WORK/million" verify --no-repair --json
# A host that shares the store but has no catalog yet loads the whole chunk index first.
measure --cold million-gc-new-host env VBACKUP_STORE="$WORK/million" VBACKUP_CACHE="$WORK/million-new-host-cache" \
  "$VBACKUP" gc --dry-run --json
rm -rf "$WORK/million" "$WORK/million-cache" "$WORK/million-new-host-cache"

echo "== 3. verify and GC as points accumulate (one VM, 256 MiB disk, 2 % churn per point; cold cache)"
for n in $STEPS; do
  measure points-build-$n env VBACKUP_CACHE="$WORK/points-cache" "$STOREBENCH" points --store "$WORK/points" --count "$n"
  sizeof "$WORK/points" > "$WORK/results/points-$n.bytes"
  measure_vbackup --cold --best points-verify-$n "$WORK/points" verify --json --no-repair
  measure_vbackup --cold --best points-gc-$n "$WORK/points" gc --dry-run --json
done

python3 - "$WORK/results" "$STEPS" "$(nproc)" "$load_start" "$(cut -d' ' -f1 /proc/loadavg)" "$REPEAT" <<'PY'
import json, os, sys
results, steps, cores, load_start, load_end, repeat = sys.argv[1], [int(s) for s in sys.argv[2].split()], *sys.argv[3:]
def text(name): return open(os.path.join(results, name)).read().strip()
def secs(label): return float(text(f"{label}.secs"))
def rss(label): return int(text(f"{label}.kib")) / 1024
def out(label): return json.loads(text(f"{label}.out"))
def bench(label): return json.loads(text(f"{label}.out").splitlines()[-1])
MB, MiB, GiB = 1e6, 1 << 20, 1 << 30

image, vb_bytes, restic_bytes = (int(text(n)) for n in ("image.bytes", "vb.bytes", "restic.bytes"))
print()
print(f"host: {cores} cores, 1-minute load average {load_start} at the start, {load_end} at the end. "
      f"Times of commands that change nothing: best of {repeat} runs; peak RSS: the highest.")
print(f"1. verify throughput ({image / MiB:.0f} MiB image; stored: vbackup {vb_bytes / MiB:.0f} MiB, restic {restic_bytes / MiB:.0f} MiB)")
print(f"{'':<30} {'vbackup verify':>16} {'restic check':>16} {'ratio':>7}")
def row(name, vb, rs, fmt="{:>16.1f}"):
    ratio = f"{vb / rs:.2f}x" if rs else "-"
    print(f"{name:<30} {fmt.format(vb)} {fmt.format(rs)} {ratio:>7}")
for cache in ("cold", "warm"):
    v, r = f"vbackup-verify-{cache}", f"restic-check-{cache}"
    row(f"{cache} cache: seconds", secs(v), secs(r), "{:>16.2f}")
    row(f"{cache} cache: MB/s of image", image / MB / secs(v), image / MB / secs(r))
    row(f"{cache} cache: MB/s of stored", vb_bytes / MB / secs(v), restic_bytes / MB / secs(r))
    row(f"{cache} cache: peak RSS MiB", rss(v), rss(r), "{:>16.0f}")
    report = out(v)
    print(f"  vbackup's own report ({cache}): {report['bytesRead'] / MB:.0f} MB read in {report['seconds']:.2f} s = "
          f"{report['megabytesPerSecond']:.0f} MB/s, {report['packsChecked']} packs, {report['chunksChecked']} chunks, ok={report['ok']}")
print(f"stores built in: vbackup import {secs('store-import'):.1f} s, restic backup {secs('restic-backup'):.1f} s")

built, dry, gc, verify = bench("million-build"), out("million-gc-dry-run"), out("million-gc"), out("million-verify")
fresh = out("million-gc-new-host")
before, after = int(text("million-before.bytes")), int(text("million-after.bytes"))
print()
print(f"2. store of {built['distinctChunks']:,} chunks ({built['chunkSize'] >> 10} KiB chunks, {built['packSize'] >> 10} KiB packs, "
      f"{built['points']} points, {built['pointsForgotten']} forgotten; built in {secs('million-build'):.0f} s)")
def target(value, limit): return "ok" if value < limit else "MISSED"
print(f"{'':<26} {'seconds':>9} {'peak RSS MiB':>13}   result")
print(f"{'gc --dry-run':<26} {secs('million-gc-dry-run'):>9.2f} {rss('million-gc-dry-run'):>13.0f}   "
      f"{dry['liveChunks']:,} live chunks, would free {dry['packsDeleted']:,} packs")
print(f"{'gc':<26} {secs('million-gc'):>9.2f} {rss('million-gc'):>13.0f}   "
      f"freed {gc['packsDeleted']:,} packs, {gc['bytesFreed'] / MiB:.0f} MiB ({before / MiB:.0f} -> {after / MiB:.0f} MiB); "
      f"< 60 s: {target(secs('million-gc'), 60)}, < 500 MiB: {target(rss('million-gc'), 500)}")
print(f"{'verify --no-repair':<26} {secs('million-verify'):>9.2f} {rss('million-verify'):>13.0f}   "
      f"{verify['chunksChecked']:,} chunks, {verify['packsChecked']:,} packs, {verify['bytesRead'] / MB:.0f} MB, "
      f"{verify['megabytesPerSecond']:.0f} MB/s, {verify['chunksChecked'] / secs('million-verify'):,.0f} chunks/s, ok={verify['ok']}")
print(f"{'gc --dry-run, no catalog':<26} {secs('million-gc-new-host'):>9.2f} {rss('million-gc-new-host'):>13.0f}   "
      f"another host: loads the chunk index from the store first ({fresh['seconds']:.1f} s of it is gc itself)")

print()
print("3. cost as points accumulate (cold cache): time should follow unique data, not points x disk size")
print(f"{'points':>6} {'unique chunks':>13} {'logical GiB':>11} {'store MiB':>9} {'verify read MiB':>15} "
      f"{'verify s':>8} {'RSS MiB':>7} {'gc dry s':>8} {'RSS MiB':>7}")
for n in steps:
    v, g = out(f"points-verify-{n}"), out(f"points-gc-{n}")
    logical = n * (256 << 20)
    print(f"{n:>6} {g['liveChunks']:>13,} {logical / GiB:>11.1f} {int(text(f'points-{n}.bytes')) / MiB:>9.0f} "
          f"{v['bytesRead'] / MiB:>15.0f} {secs(f'points-verify-{n}'):>8.2f} {rss(f'points-verify-{n}'):>7.0f} "
          f"{secs(f'points-gc-{n}'):>8.2f} {rss(f'points-gc-{n}'):>7.0f}")
first, last = steps[0], steps[-1]
grow = lambda label: secs(f"{label}-{last}") / secs(f"{label}-{first}")
data = out(f"points-gc-{last}")["liveChunks"] / out(f"points-gc-{first}")["liveChunks"]
print(f"{first} -> {last} points: logical size x{last / first:.0f}, unique chunks x{data:.1f}, "
      f"verify time x{grow('points-verify'):.1f}, gc time x{grow('points-gc'):.1f}")
PY
