#!/usr/bin/env bash
# Benchmark: what backups cost a working VM, side by side in one run.
#
# The tiny guest (Tests/TinyGuest) writes 64 KiB O_DIRECT blocks over a 64 MiB file and prints
# its throughput and write latency once a second on its serial console. Three other TCG VMs
# (no OS, sitting in firmware), each with 1 GiB of random data on a 2 GiB qcow2 disk, are backed
# up while it works. Three cases:
#   1. alone       the guest writing, nothing else, for CASE_SECONDS;
#   2. unthrottled three concurrent `vbackup backup VM --full --json` into a fresh store;
#   3. adaptive    the same three VMs backed up by `vbackup agent` under an adaptive-throttle
#                  policy, into another fresh store (skipped when the build has no agent).
# A case's workload numbers are the guest's lines printed between the case's start and end,
# sliced by the serial log's line count at those moments as the host saw them (the guest's
# clock may drift under TCG). Cases 2 and 3 last from the backups' start until the last one
# finished. The target: in case 3 the workload keeps >= 90 % of its throughput alone, and the
# backups finish inside the policy's window.
#
# Usage: agent-workload.sh PATH/TO/vbackup
#   CASE_SECONDS  length of case 1 (default 60)
#   CASE_TIMEOUT  longest wait for a case's backups (default 360 s; the agent's jobs still
#                 running then are stopped, and their finish is projected from their progress)
#   ALONE_AFTER_SECONDS  the workload alone once more at the end, to show how steady the
#                 baseline is (default 30, 0 to skip)
#   SRC_DATA_MIB  random data on each backed-up VM's disk (default 1024)
#   GUEST_SYNC=1  the guest also fdatasyncs after every write (each write then flushes the disk)
#   WINDOW        the policy's schedule window (default 30m)
#   KEEP_LOGS=DIR copy the run's logs there before cleaning up (console, status snapshots, agent)
set -euo pipefail
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
VBACKUP=$(realpath "${1:?usage: $0 path/to/vbackup}")
HERE=$(cd "$(dirname "$0")" && pwd)
TINY=$HERE/../TinyGuest
source "$HERE/mixed-data.sh"   # define_bench_vm
CASE_SECONDS=${CASE_SECONDS:-60}
CASE_TIMEOUT=${CASE_TIMEOUT:-360}
ALONE_AFTER_SECONDS=${ALONE_AFTER_SECONDS:-30}
SRC_DATA_MIB=${SRC_DATA_MIB:-1024}
WINDOW=${WINDOW:-30m}
WORK=/var/lib/libvirt/images/vbackup-agentbench
GUEST_DIR=/var/lib/libvirt/images/vbackup-tinyguest   # the built guest, kept between runs (cached)
VIRSH="virsh -q -c qemu:///system"
GUEST=vbbench-guest
SRCS=(vbbench-src-1 vbbench-src-2 vbbench-src-3)
PIDS=()   # every background process this script started

# Stops what this script started, then removes the VMs and files. After Ctrl-C, vbackup (which
# handles SIGINT even in the background) is already ending its job cleanly: give it time, as a
# second signal makes it exit at once and leave its libvirt job folder behind.
cleanup() {
  local pid
  if [ "${INTERRUPTED:-}" != INT ]; then
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  fi
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { kill "$pid" 2>/dev/null; sleep 2; kill -KILL "$pid" 2>/dev/null || true; }
  done
  PIDS=()
  if [ -n "${KEEP_LOGS:-}" ] && [ -f "$WORK/cases" ]; then
    mkdir -p "$KEEP_LOGS"
    find "$WORK" -maxdepth 1 -type f \( -name '*.log' -o -name '*.jsonl' -o -name '*.json' -o -name '*.err' \
      -o -name '*.out' -o -name '*.time' -o -name '*.start' -o -name cases \) -exec cp {} "$KEEP_LOGS/" \;
  fi
  for vm in $GUEST "${SRCS[@]}"; do
    $VIRSH destroy "$vm" >/dev/null 2>&1 || true
    $VIRSH undefine "$vm" --checkpoints-metadata >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
# One run at a time on a host: a second one (say from another checkout) would remove this one's
# VMs and files in its first cleanup. It waits for the lock instead.
exec 9> /run/lock/vbackup-agent-workload.lock
flock -n 9 || { echo "another agent-workload run is going on: waiting for it"; flock 9; }
trap cleanup EXIT
trap 'INTERRUPTED=INT; echo "interrupted"; exit 130' INT
trap 'echo "terminated"; exit 143' TERM
cleanup
mkdir -p "$WORK"

echo "== the tiny guest (cached in $GUEST_DIR)"
bash "$TINY/build.sh" "$GUEST_DIR"

echo "== three VMs to back up, each with $SRC_DATA_MIB MiB of random data on a 2 GiB qcow2 disk"
for vm in "${SRCS[@]}"; do
  head -c "${SRC_DATA_MIB}M" /dev/urandom > "$WORK/$vm.raw"
  qemu-img convert -f raw -O qcow2 -o compat=1.1 "$WORK/$vm.raw" "$WORK/$vm.qcow2"
  qemu-img resize -q "$WORK/$vm.qcow2" 2G
  rm -f "$WORK/$vm.raw"
  define_bench_vm "$vm" "$WORK/$vm.qcow2"
  $VIRSH start "$vm" >/dev/null
done

# Written now rather than during case 1: the host's writeback of 3 GiB would skew the baseline.
sync "$WORK"/vbbench-src-*.qcow2

echo "== booting the guest's workload"
LOG=$WORK/guest-serial.log
bash "$TINY/make-disk.sh" "$WORK/guest.qcow2" 1G
cmdline=""
[ "${GUEST_SYNC:-0}" = 1 ] && cmdline="vbguest.sync=1"
VBGUEST_CMDLINE=$cmdline TINYGUEST_DIR=$GUEST_DIR bash "$TINY/define-guest.sh" $GUEST "$WORK/guest.qcow2" "$LOG" workload >/dev/null
boot_start=$(date +%s.%N)
$VIRSH start $GUEST >/dev/null
for _ in $(seq 1 600); do
  grep -q '^VBGUEST WORK t=' "$LOG" 2>/dev/null && break
  grep -q '^VBGUEST .*FAIL' "$LOG" 2>/dev/null && { echo "the guest failed:"; cat "$LOG"; exit 1; }
  sleep 0.1
done
grep -q '^VBGUEST WORK t=' "$LOG" || { echo "no workload line after 60 s:"; cat "$LOG"; exit 1; }
echo "first workload line $(since "$boot_start") s after virsh start"
sleep 5   # settle: the first seconds are not part of any case

lines() { wc -l < "$LOG"; }   # complete lines on the guest's console so far
: > "$WORK/cases"             # CASE FIRST_LINE LAST_LINE SECONDS LOADAVG_AT_END

# Case 1: alone.
echo "== case 1: the workload alone, ${CASE_SECONDS} s"
a=$(lines); t=$(date +%s.%N)
sleep "$CASE_SECONDS" & wait $!   # (a signal's trap runs at once, not after the sleep)
echo "alone $a $(lines) $(since "$t") $(cut -d" " -f1 /proc/loadavg)" >> "$WORK/cases"

# Case 2: three unthrottled backups at once.
echo "== case 2: three concurrent unthrottled full backups"
# One local catalog per process, as three hosts would have. (Before e6b8a2d, processes sharing
# one catalog failed with "database is locked": the catalog did not wait for a busy lock.)
export VBACKUP_CACHE=$WORK/cache-unthrottled-init
"$VBACKUP" store init --store "$WORK/store-unthrottled" --encryption none >/dev/null
a=$(lines); t=$(date +%s.%N)
declare -A backup_pid
for vm in "${SRCS[@]}"; do
  VBACKUP_CACHE=$WORK/cache-unthrottled-$vm "$VBACKUP" backup "$vm" --full --json --store "$WORK/store-unthrottled" \
    > "$WORK/unthrottled-$vm.json" 2> "$WORK/unthrottled-$vm.err" &
  backup_pid[$vm]=$!
  PIDS+=($!)
done
left=${#SRCS[@]}
while [ "$left" -gt 0 ] && [ "$(since "$t" | cut -d. -f1)" -lt "$CASE_TIMEOUT" ]; do
  sleep 0.2
  for vm in "${SRCS[@]}"; do
    pid=${backup_pid[$vm]}
    [ -f "$WORK/unthrottled-$vm.time" ] || kill -0 "$pid" 2>/dev/null && continue
    rc=0; wait "$pid" || rc=$?
    echo "$(since "$t") $rc" > "$WORK/unthrottled-$vm.time"
    [ "$rc" = 0 ] || { echo "$vm: backup failed (exit $rc):"; cat "$WORK/unthrottled-$vm.err"; }
    left=$((left - 1))
  done
done
echo "unthrottled $a $(lines) $(since "$t") $(cut -d" " -f1 /proc/loadavg)" >> "$WORK/cases"
[ "$left" = 0 ] || echo "$left backups still running after ${CASE_TIMEOUT} s: stopped"
cleanup_pids() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
cleanup_pids
# The store goes at once: its pages still waiting for writeback would otherwise be written
# during the next case (deleting them cancels that).
rm -rf "$WORK"/store-unthrottled "$WORK"/cache-unthrottled-*
sleep 5

# Case 3: the agent with an adaptive throttle.
echo "== case 3: the agent, adaptive throttle"
# (An unknown subcommand's --help prints the top-level help and exits 0: look for its usage line.)
if ! "$VBACKUP" agent --help 2>&1 | grep -q 'USAGE: vbackup agent'; then
  echo "case 3 skipped: no agent in this build"
else
  export VBACKUP_CACHE=$WORK/cache-adaptive
  "$VBACKUP" store init --store "$WORK/store-adaptive" --encryption none >/dev/null
  mkdir -p "$WORK/policies" "$WORK/agent-state"
  # The calendar is far away on purpose: the run is asked for with `agent run`, not waited for.
  cat > "$WORK/policies/bench.yaml" <<YAML
version: 1
name: bench
select: {vms: ["vbbench-src-*"]}
schedule: [{calendar: "*-01-01 03:00:00", window: $WINDOW, jitter: 0s, mode: full}]
throttle:
  max-concurrent-jobs: 3
  adaptive:
    cpu-pressure: {slow: 30%, pause: 70%}
    io-pressure: {slow: 20%, pause: 50%}
    vm-disk-latency: {slow: 20ms, pause: 60ms}
YAML
  status() { "$VBACKUP" status --state-dir "$WORK/agent-state" --json 2>/dev/null; }
  metrics=()   # no metrics server where the agent has one: its default port may be taken here
  "$VBACKUP" agent start --help 2>&1 | grep -q -- '--metrics' && metrics=(--metrics off)
  "$VBACKUP" agent --policies "$WORK/policies" --state-dir "$WORK/agent-state" --store "$WORK/store-adaptive" \
    "${metrics[@]}" > "$WORK/agent.out" 2> "$WORK/agent.err" &
  agent_pid=$!
  PIDS+=($agent_pid)
  for _ in $(seq 1 150); do status >/dev/null && break; kill -0 $agent_pid 2>/dev/null || break; sleep 0.2; done
  status >/dev/null || { echo "the agent did not answer:"; cat "$WORK/agent.err"; exit 1; }
  a=$(lines); t=$(date +%s.%N)
  echo "$t" > "$WORK/adaptive.start"
  "$VBACKUP" agent run --state-dir "$WORK/agent-state" --policy bench > "$WORK/agent-run.out" 2>&1 \
    || { echo "vbackup agent run failed:"; cat "$WORK/agent-run.out"; exit 1; }
  : > "$WORK/adaptive-status.jsonl"
  finished=0
  while [ "$(since "$t" | cut -d. -f1)" -lt "$CASE_TIMEOUT" ]; do
    kill -0 $agent_pid 2>/dev/null || { echo "the agent exited during case 3:"; tail -5 "$WORK/agent.err"; break; }
    # Records the snapshot (with the host's time) and says whether the three jobs are done.
    # (Only this agent's documents count: a status.json of another agent is ignored.)
    if st=$(status) && echo "$st" | python3 -c '
import json, sys, time
d = json.load(sys.stdin)
if d.get("agent", {}).get("pid") != int(sys.argv[2]):
    sys.exit(1)
d["_host"] = time.time()
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(d) + "\n")
done = [j for j in d.get("recent", []) if j.get("policy") == "bench"]
sys.exit(0 if not d.get("running") and not d.get("queued") and len(done) >= 3 else 1)' "$WORK/adaptive-status.jsonl" $agent_pid; then
      finished=1; break
    fi
    sleep 1
  done
  echo "adaptive $a $(lines) $(since "$t") $(cut -d" " -f1 /proc/loadavg)" >> "$WORK/cases"
  [ $finished = 1 ] || echo "the agent's jobs were not done after ${CASE_TIMEOUT} s"
  kill -TERM $agent_pid 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 $agent_pid 2>/dev/null || break; sleep 0.2; done
  kill -0 $agent_pid 2>/dev/null && { echo "the agent ignored SIGTERM for 30 s"; kill -KILL $agent_pid 2>/dev/null || true; }
  wait $agent_pid 2>/dev/null || true
  PIDS=()
  rm -rf "$WORK"/store-adaptive "$WORK"/cache-adaptive
  sleep 5
fi

# The workload alone again: how steady the baseline was (on a shared host, often not very).
if [ "$ALONE_AFTER_SECONDS" -gt 0 ]; then
  echo "== the workload alone again, ${ALONE_AFTER_SECONDS} s (how steady the baseline is)"
  a=$(lines); t=$(date +%s.%N)
  sleep "$ALONE_AFTER_SECONDS" & wait $!
  echo "alone-after $a $(lines) $(since "$t") $(cut -d" " -f1 /proc/loadavg)" >> "$WORK/cases"
fi

python3 - "$WORK" "$LOG" "$WINDOW" "${SRCS[@]}" <<'PY'
import json, re, statistics, sys
from datetime import datetime
work, log, window, srcs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]

# The guest's lines, by console line number; dt is each interval's length (t - previous t).
pattern = re.compile(r"^VBGUEST WORK t=([\d.]+) ops=(\d+) mbps=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+) max_ms=([\d.]+)")
work_lines, prev_t = {}, 0.0
for number, text in enumerate(open(log, errors="replace").read().split("\n")[:-1], 1):
    m = pattern.match(text)
    if m:
        t, ops, mbps, p50, p99, mx = map(float, m.groups())
        work_lines[number] = dict(dt=t - prev_t, mbps=mbps, p50=p50, p99=p99, max=mx)
        prev_t = t

def workload(first, last):
    """Lines first+1..last: throughput weighted by interval; per-second p50/p99 medians."""
    rows = [w for n, w in work_lines.items() if first < n <= last]
    if not rows:
        return None
    secs = sum(r["dt"] for r in rows)
    return dict(mbps=sum(r["mbps"] * r["dt"] for r in rows) / secs,
                p50=statistics.median(r["p50"] for r in rows),
                p99=statistics.median(r["p99"] for r in rows),
                max=max(r["max"] for r in rows), lines=len(rows))

def unit_seconds(text):
    m = re.fullmatch(r"(\d+)\s*([smhd]?)", text.strip())
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)] if m else None

def iso(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

cases = {}
for row in open(f"{work}/cases"):
    name, first, last, secs, load = row.split()
    cases[name] = dict(first=int(first), last=int(last), seconds=float(secs), load=float(load))

# Backups' completion times, from each case's start.
backups = {}
if "unthrottled" in cases:
    times = []
    for vm in srcs:
        try:
            secs, rc = open(f"{work}/unthrottled-{vm}.time").read().split()
            times.append((vm, float(secs), rc == "0"))
        except FileNotFoundError:
            times.append((vm, None, False))
    backups["unthrottled"] = times
    for vm in srcs:
        try:
            report = json.load(open(f"{work}/unthrottled-{vm}.json"))[0]
            read = sum(d.get("bytesRead", 0) for d in (report.get("point") or {}).get("disks", []))
            print(f"case 2, {vm}: {'ok' if report.get('ok') else 'FAILED'}, read {read / 2**20:.0f} MiB in {report.get('seconds', 0):.1f} s")
        except (FileNotFoundError, ValueError, IndexError):
            print(f"case 2, {vm}: no JSON report")
throttle_summary = None
if "adaptive" in cases:
    start = float(open(f"{work}/adaptive.start").read())
    snapshots = [json.loads(l) for l in open(f"{work}/adaptive-status.jsonl") if l.strip()]
    last = snapshots[-1] if snapshots else {}
    jobs = {j["vm"]: j for j in last.get("recent", []) if j.get("policy") == "bench"}
    backups["adaptive"] = [
        (vm, iso(jobs[vm]["finishedAt"]) - start if vm in jobs and jobs[vm].get("finishedAt") else None,
         vm in jobs and jobs[vm].get("state") == "succeeded") for vm in srcs]
    unfinished = {vm for vm in srcs if vm not in jobs}
    states = {}
    for a, b in zip(snapshots, snapshots[1:] + [None]):
        state = (a.get("throttle") or {}).get("state", "?")
        states[state] = states.get(state, 0) + ((b["_host"] - a["_host"]) if b else 1.0)
    # Reasons with their numbers blanked, most frequent first; and the signals' spread.
    counts = {}
    for snap in snapshots:
        r = re.sub(r"\d+(\.\d+)?", "#", (snap.get("throttle") or {}).get("reason", ""))
        if r:
            counts[r] = counts.get(r, 0) + 1
    reasons = [f"{r} ({n} s)" for r, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    def spread(key, unit):
        values = [((snap.get("throttle") or {}).get("signals") or {}).get(key) for snap in snapshots]
        values = [v for v in values if isinstance(v, (int, float))]
        return f"{statistics.median(values):.1f}{unit} (max {max(values):.1f}{unit})" if values else "-"
    signals = (f"cpu pressure {spread('cpuPressure', ' %')}, io pressure {spread('ioPressure', ' %')}, "
               f"worst VM disk latency {spread('vmDiskLatencyMs', ' ms')}")
    factors = [(s.get("throttle") or {}).get("factor") for s in snapshots]
    factors = [f for f in factors if isinstance(f, (int, float))]
    throttle_summary = (states, reasons, min(factors) if factors else None, signals)
    running = {j["vm"]: j for j in last.get("running", []) if j.get("policy") == "bench"}
    queued = {j["vm"] for j in last.get("queued", []) if j.get("policy") == "bench"}
    for vm in srcs:
        j = jobs.get(vm)
        if vm in running:
            r = running[vm]
            print(f"{vm}: agent job still running at the end: {r.get('bytesDone', 0) / 2**20:.0f} of "
                  f"{r.get('bytesTotal', 0) / 2**20:.0f} MiB, {r.get('rate', 0) / 2**20:.1f} MiB/s")
        elif vm in queued:
            print(f"{vm}: agent job still queued at the end")
        elif not j or j.get("state") != "succeeded":
            print(f"{vm}: agent job {j.get('state') if j else 'missing'} {(j or {}).get('error') or ''}")
    # Not done in time: project the finish from the progress so far (all jobs started together).
    projected = None
    if running and not queued and snapshots:
        elapsed = snapshots[-1]["_host"] - start
        done_b = sum(r.get("bytesDone", 0) for r in running.values())
        total_b = sum(r.get("bytesTotal", 0) for r in running.values())
        if done_b > 0 and total_b > 0:
            projected = elapsed * total_b / done_b

print()
header = (f"{'case':<12} {'MiB/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'% alone':>8} {'secs':>6} {'load':>5}"
          "   backups' completion s: slowest (each)")
print(header)
print("-" * len(header))
alone = None
results = {}
for name in ("alone", "unthrottled", "adaptive", "alone-after"):
    if name == "alone-after" and name not in cases:
        continue
    if name not in cases:
        print(f"{name:<12} (skipped)")
        continue
    c = cases[name]
    w = workload(c["first"], c["last"])
    results[name] = w
    if w is None:
        print(f"{name:<12} no workload lines in this case")
        continue
    if name == "alone":
        alone = w["mbps"]
    pct = f"{100 * w['mbps'] / alone:.0f} %" if alone else "-"
    done = ""
    if name in backups:
        each = backups[name]
        known = [d for _, d, _ in each if d is not None]
        slowest = f"{max(known):.1f}" if len(known) == len(each) else "not done"
        def one(vm, d, ok):
            if name == "adaptive" and vm in unfinished:
                return "unfinished"
            return (f"{d:.1f}" if d is not None else "-") + ("" if ok else " FAILED")
        done = slowest + " (" + ", ".join(one(*e) for e in each) + ")"
    print(f"{name:<12} {w['mbps']:>8.1f} {w['p50']:>8.3f} {w['p99']:>8.3f} {w['max']:>8.1f} {pct:>8} {c['seconds']:>6.0f} {c['load']:>5.1f}   {done}")
print()
print("MiB/s: the guest's writes over the case (each 1 s line weighted by its length); p50/p99: the")
print("median over the case's seconds of each second's p50/p99; max: the slowest single write.")
print("Cases 2 and 3 last from the backups' start until the last one finished. load: the host's")
print("1-minute load average at the case's end (this bench's 4 VMs included): other work skews it all.")
if throttle_summary:
    states, reasons, min_factor, signals = throttle_summary
    print("throttle during case 3: " + ", ".join(f"{s} {v:.0f} s" for s, v in sorted(states.items()))
          + (f"; lowest factor {min_factor:.2f}" if min_factor is not None else ""))
    print(f"  signals (median, max): {signals}")
    for r in reasons[:4]:
        print(f"  reason: {r}")
    w, limit = results.get("adaptive"), unit_seconds(window)
    each = backups["adaptive"]
    inside = all(d is not None and ok and (limit is None or d <= limit) for _, d, ok in each)
    verdict = "yes" if inside else "NO"
    if not inside and projected is not None and limit is not None:
        verdict = (f"not finished during the bench; projected from bytesDone/bytesTotal at their average rate "
                   f"so far, they end after ~{projected:.0f} s: {'inside' if projected <= limit else 'OUTSIDE'} it")
    if w and alone:
        keeps = 100 * w["mbps"] / alone
        print(f"target: workload keeps >= 90 % of its throughput alone: {'yes' if keeps >= 90 else 'NO'} ({keeps:.0f} %); "
              f"backups finished inside the {window} window: {verdict}")
PY
