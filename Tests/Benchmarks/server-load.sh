#!/usr/bin/env bash
# The policy server under a fleet of simulated agents, in SQLite and PostgreSQL modes, and the
# cost of an idle real agent. Usage: server-load.sh VBACKUP SERVERBENCH
#   AGENTS (default 1000), DURATION seconds per run (default 120).
# Each run: a new database, the server started as `vbackup server`, 1000 hosts enrolled, then
# every simulated agent polls its policy every 30 s with its etag and posts a job report every
# 60 s (an inventory every fifth time), as real agents do; then a stress run at 6x that rate.
set -euo pipefail
vbackup=$(realpath "$1")
bench=$(realpath "$2")
agents=${AGENTS:-1000}
duration=${DURATION:-120}
postgres=${VBACKUP_TEST_POSTGRES:-postgres://vbackup:vbackup@127.0.0.1:5432/vbackup}
work=$(mktemp -d /tmp/vbackup-serverbench.XXXXXX)
port=18443
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null || true
  PGPASSWORD=vbackup psql -q -h 127.0.0.1 -U vbackup -d vbackup -c "drop database if exists vbackup_bench" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # 1,000 agents hold 1,000 sockets on each side

start_server() { # DB-LOCATION (a new database writes a new admin token; an old one keeps its own)
  "$vbackup" server --db "$1" --listen "127.0.0.1:$port" --admin-token-file "$work/admin.token" --log-level warning \
    >"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && [ -s "$work/admin.token" ] && return 0
    sleep 0.2
  done
  echo "the server did not start:"; cat "$work/server.log"; exit 1
}

stop_server() {
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
}

run_mode() { # LABEL DB-LOCATION
  rm -f "$work/admin.token"
  start_server "$2"
  "$bench" --server "http://127.0.0.1:$port" --admin-token-file "$work/admin.token" --policy policies/nightly.yaml \
    --agents "$agents" --duration "$duration" --poll-interval 30 --report-interval 60 --server-pid "$server_pid" \
    --label "$1, real-agent rates"
  echo
  stop_server
  # The same database again (a restart): the hosts of the first run plus 1000 more, at six times the rate.
  start_server "$2"
  "$bench" --server "http://127.0.0.1:$port" --admin-token-file "$work/admin.token" --policy policies/nightly.yaml \
    --agents "$agents" --duration "$duration" --poll-interval 5 --report-interval 10 --server-pid "$server_pid" \
    --label "$1, stress (6x the rates)"
  echo
  stop_server
}

# The peer: nginx serving the same policy bundle as a static file (its own ETag and 304s) and
# answering reports with a fixed receipt. No database, no authentication: the floor a policy
# server on this machine could reach with the same clients.
run_peer() {
  chmod 755 "$work"
  command -v nginx >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx-light >/dev/null
  python3 - "$work/bundle.json" <<'PY'
import hashlib, json, sys
text = open("policies/nightly.yaml").read()
bundle = {"etag": "static", "policies": [{"name": "nightly", "version": 1, "yaml": text,
          "sha256": hashlib.sha256(text.encode()).hexdigest()}]}
open(sys.argv[1], "w").write(json.dumps(bundle))
PY
  cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$((port + 1));
    location = /api/v1/agent/policies { default_type application/json; alias $work/bundle.json; }
    location = /api/v1/agent/reports { default_type application/json; return 200 '{"accepted":[],"duplicates":[]}'; }
  }
}
NGINX
  nginx -c "$work/nginx.conf" -p "$work"
  for rate in "30 60 real-agent rates" "5 10 stress (6x the rates)"; do
    set -- $rate
    "$bench" --peer --server "http://127.0.0.1:$((port + 1))" --agents "$agents" --duration "$duration" \
      --poll-interval "$1" --report-interval "$2" --label "peer: nginx, static bundle, ${*:3}"
    echo
  done
  nginx -c "$work/nginx.conf" -p "$work" -s stop
}

echo "# policy server load: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
run_peer
run_mode "SQLite" "sqlite:$work/server.db"
PGPASSWORD=vbackup psql -q -h 127.0.0.1 -U vbackup -d vbackup -c "drop database if exists vbackup_bench" -c "create database vbackup_bench"
run_mode "PostgreSQL" "${postgres%/*}/vbackup_bench"

# An idle agent, enrolled, with its policies from the server and nothing due: CPU and memory
# over 60 s, beside libvirtd's own in the same minute.
rm -f "$work/admin.token"
start_server "sqlite:$work/idle.db"
export VBACKUP_SERVER="http://127.0.0.1:$port" VBACKUP_SERVER_TOKEN_FILE="$work/admin.token"
"$vbackup" policy apply policies/lab.yaml >/dev/null
token=$("$vbackup" hosts token --name idle-bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
mkdir -p "$work/agent"
"$vbackup" agent enroll --server "$VBACKUP_SERVER" --token "$token" --host-name idle-bench --state-dir "$work/agent" >/dev/null
"$vbackup" agent --state-dir "$work/agent" --metrics off --log-level warning >"$work/agent.log" 2>&1 &
agent_pid=$!
sleep 15
usage() { # PID -> "cpu_ticks rss_kib"
  awk '{print $14+$15}' "/proc/$1/stat" | tr '\n' ' '; awk '/VmRSS/{print $2}' "/proc/$1/status"
}
libvirtd_pid=$(pgrep -xo libvirtd)
read -r a0 _ < <(usage "$agent_pid"); read -r l0 _ < <(usage "$libvirtd_pid")
sleep 60
read -r a1 arss < <(usage "$agent_pid"); read -r l1 lrss < <(usage "$libvirtd_pid")
hz=$(getconf CLK_TCK)
echo "== idle processes over 60 s"
anon=$(awk '/RssAnon/{print $2}' "/proc/$agent_pid/status")
# Resident = the agent's own memory (anonymous) + the pages of the binary and the shared
# libraries (Swift runtime, Foundation, ICU, libvirt) it has touched, which other processes
# share and the kernel can drop.
awk -v t=$((a1 - a0)) -v hz="$hz" -v rss="$arss" -v anon="$anon" 'BEGIN { printf "vbackup agent (enrolled, polling): %.2f %% of a core, %.1f MiB resident, of which %.1f MiB its own (anonymous)\n", t / hz / 60 * 100, rss / 1024, anon / 1024 }'
awk -v t=$((l1 - l0)) -v hz="$hz" -v rss="$lrss" 'BEGIN { printf "libvirtd (for scale):              %.2f %% of a core, %.1f MiB resident\n", t / hz / 60 * 100, rss / 1024 }'
