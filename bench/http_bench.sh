#!/usr/bin/env bash
# HTTP boot service vs nginx (one worker), loopback only, bounded (~1 min).
# Measures, in one run:
#   - requests/s for /ipxe per-machine scripts (inventory match + render, 4096
#     distinct MACs) vs nginx serving a static file of the same size;
#   - MB/s for a 30 MB kernel with 1 and 50 connections vs nginx;
#   - server CPU seconds per GiB sent (utime+stime of the server processes).
#   - server CPU microseconds per request (utime+stime of the server processes).
# The machine is shared and its load drifts: ramfleet and nginx runs alternate,
# ROUNDS times each (default 3), and the ratio reported is the median of the
# per-round ratios. Servers are pinned to CPU RF_BENCH_SERVER_CPU (default 0),
# wrk to RF_BENCH_CLIENT_CPU (default 1), so the client does not preempt the
# server it measures (as it otherwise does on a 2-core machine).
# RF_BENCH_BASELINE=path/to/old/ramfleet adds a second ramfleet (same config,
# its own state) whose /ipxe runs interleave with the first's, and prints
# ramfleet / baseline: the before/after of a change, from one run.
# Usage: bench/http_bench.sh [path/to/ramfleet] [seconds per run, default 5]
set -euo pipefail
RAMFLEET=${1:-$(dirname "$0")/../build/ramfleet}
DUR=${2:-5}
ROUNDS=${ROUNDS:-3}
SERVER_CPU=${RF_BENCH_SERVER_CPU:-0}
CLIENT_CPU=${RF_BENCH_CLIENT_CPU:-1}
RAMFLEET=$(readlink -f "$RAMFLEET")
for tool in wrk nginx curl; do command -v $tool >/dev/null || { echo "need $tool (scripts/install-deps)"; exit 1; }; done

TMP=$(mktemp -d /tmp/rf-bench.XXXXXX)
RF_PID="" NGX_PID="" BASE_PID=""
BASELINE=${RF_BENCH_BASELINE:-}
cleanup() {
  [ -n "$RF_PID" ] && kill "$RF_PID" 2>/dev/null && wait "$RF_PID" 2>/dev/null
  [ -n "$BASE_PID" ] && kill "$BASE_PID" 2>/dev/null && wait "$BASE_PID" 2>/dev/null
  [ -n "$NGX_PID" ] && kill "$NGX_PID" 2>/dev/null && wait "$NGX_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RF_PORT=$(free_port)
API_PORT=$(free_port)  # the operator API (HTTPS, token): only the counters at the end read it
NGX_PORT=$(free_port)

mkdir -p "$TMP"/config/{profiles,groups,assets} "$TMP/state" "$TMP/nginx/tmp"
cat >"$TMP/config/profiles/debian.yaml" <<'Y'
kernel: vmlinuz
initrds: [initrd.img]
args: [console=ttyS0, quiet, "ramfleet.hostname={{hostname}}", "ramfleet.role={{metadata.role}}", "id={{machine_id}}"]
Y
printf 'profile: debian\nselector: {mac: "52:54:00:*"}\nmetadata: {role: worker}\n' >"$TMP/config/groups/lab.yaml"
printf 'profile: debian\nselector: {mac: "52:54:00:00:00:01"}\nmetadata: {role: control-plane}\n' >"$TMP/config/groups/cp.yaml"
head -c $((30 * 1024 * 1024)) /dev/urandom >"$TMP/config/assets/vmlinuz"

taskset -c "$SERVER_CPU" "$RAMFLEET" serve --dhcp off --listen 127.0.0.1 --http-port "$RF_PORT" --tftp-port -1 --no-router-advertisements \
  --config "$TMP/config" --state "$TMP/state" --api-listen "127.0.0.1:$API_PORT" >"$TMP/serve.log" 2>&1 &
RF_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$RF_PORT/healthz" >/dev/null && break; sleep 0.1; done

if [ -n "$BASELINE" ]; then
  BASE_PORT=$(free_port)
  mkdir -p "$TMP/state-baseline"
  taskset -c "$SERVER_CPU" "$(readlink -f "$BASELINE")" serve --dhcp off --listen 127.0.0.1 --http-port "$BASE_PORT" \
    --tftp-port -1 --no-router-advertisements --config "$TMP/config" --state "$TMP/state-baseline" \
    >"$TMP/serve-baseline.log" 2>&1 &
  BASE_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$BASE_PORT/healthz" >/dev/null && break; sleep 0.1; done
fi

# A static file as large as one rendered per-machine script.
curl -sf "http://127.0.0.1:$RF_PORT/ipxe?mac=52:54:00:00:10:01&arch=x86_64" >"$TMP/config/assets/script.ipxe"
SCRIPT_BYTES=$(stat -c %s "$TMP/config/assets/script.ipxe")

cat >"$TMP/nginx/nginx.conf" <<N
worker_processes 1;
daemon off;
user root;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
  # nginx's default logs every request, as ramfleet logs every boot: both pay for it.
  access_log $TMP/nginx/access.log;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path $TMP/nginx/tmp; proxy_temp_path $TMP/nginx/tmp; fastcgi_temp_path $TMP/nginx/tmp;
  uwsgi_temp_path $TMP/nginx/tmp; scgi_temp_path $TMP/nginx/tmp;
  server { listen 127.0.0.1:$NGX_PORT; location /assets/ { alias $TMP/config/assets/; } }
}
N
taskset -c "$SERVER_CPU" nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" &
NGX_PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$NGX_PORT/assets/script.ipxe" && break; sleep 0.1; done

cat >"$TMP/machines.lua" <<'L'
local n = 0
request = function()
  n = n + 1
  local m = n % 4096
  return wrk.format("GET", string.format("/ipxe?mac=52:54:00:00:%02x:%02x&arch=x86_64", math.floor(m / 256), m % 256))
end
L
# The same per-request Lua call for nginx, so the client (sharing the cores)
# costs the same on both sides.
cat >"$TMP/static.lua" <<'L'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", string.format("/assets/script.ipxe?n=%d", n % 4096))
end
L

# CPU ticks (utime+stime) of a process and its children processes (nginx worker).
cpu_ticks() {
  local total=0 p
  for p in $1 $(ps -o pid= --ppid "$1" 2>/dev/null); do
    [ -r /proc/$p/stat ] || continue
    total=$((total + $(awk '{print $14 + $15}' /proc/$p/stat)))
  done
  echo $total
}
to_mib() {  # "1.23GB" -> MiB
  python3 -c "
import re,sys; v,u=re.match(r'([\d.]+)([KMGT]?B)',sys.argv[1]).groups()
print(float(v)*{'B':1/2**20,'KB':1/1024,'MB':1,'GB':1024,'TB':2**20}[u])" "$1"
}
# run NAME PID CONNS URL [wrk args...] -> sets R_RPS R_MIBS R_CPU_PER_GIB R_US_PER_REQ
run() {
  local name=$1 pid=$2 conns=$3 url=$4
  shift 4
  local t0 t1 out
  t0=$(cpu_ticks "$pid")
  out=$(taskset -c "$CLIENT_CPU" wrk -t"$([ "$conns" -ge 2 ] && echo 2 || echo 1)" -c"$conns" -d"${DUR}s" "$@" "$url")
  t1=$(cpu_ticks "$pid")
  R_RPS=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  local read_total secs reqs
  read_total=$(awk '/requests in/ {print $5}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  secs=$(awk '/requests in/ {sub("s,","",$4); print $4}' <<<"$out")
  local mib
  mib=$(to_mib "$read_total")
  R_MIBS=$(python3 -c "print(f'{$mib/$secs:.1f}')")
  R_CPU_PER_GIB=$(python3 -c "import os; t=os.sysconf('SC_CLK_TCK'); print(f'{($t1-$t0)/t/($mib/1024):.2f}' if $mib>0 else 'n/a')")
  R_US_PER_REQ=$(python3 -c "import os; t=os.sysconf('SC_CLK_TCK'); print(f'{($t1-$t0)/t/$reqs*1e6:.1f}' if $reqs>0 else 'n/a')")
  local errs
  errs=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr -s ' ' || true)
  printf '%-36s %10s req/s %9s MiB/s %8s cpu-s/GiB %8s cpu-us/req %s\n' "$name" "$R_RPS" "$R_MIBS" "$R_CPU_PER_GIB" \
    "$R_US_PER_REQ" "$errs"
}
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.2f}x')" "$@"; }

echo "# ramfleet $("$RAMFLEET" version | awk '{print $2}') vs $(nginx -v 2>&1 | sed 's/.*: //') (1 worker), loopback, ${DUR}s per run, $ROUNDS rounds, $(nproc) cores, servers on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU"
echo "# per-machine script: $SCRIPT_BYTES bytes; kernel: 30 MiB; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
SMALL=() BIG1=() BIG50=() VSBASE=()
for round in $(seq "$ROUNDS"); do
  echo "# round $round"
  # The baseline runs right before ramfleet in even rounds, right after in
  # odd ones: the drift of a shared machine's load then favours neither.
  base() {
    run "baseline /ipxe (4096 MACs), 50 conns" $BASE_PID 50 "http://127.0.0.1:$BASE_PORT/ipxe" -s "$TMP/machines.lua"
    BASE_RPS=$R_RPS BASE_US=$R_US_PER_REQ
  }
  [ -n "$BASE_PID" ] && [ $((round % 2)) = 0 ] && base
  run "ramfleet /ipxe (4096 MACs), 50 conns" $RF_PID 50 "http://127.0.0.1:$RF_PORT/ipxe" -s "$TMP/machines.lua"
  IPXE_RPS=$R_RPS IPXE_US=$R_US_PER_REQ
  [ -n "$BASE_PID" ] && [ $((round % 2)) = 1 ] && base
  run "nginx static $SCRIPT_BYTES B, 50 conns" $NGX_PID 50 "http://127.0.0.1:$NGX_PORT/assets/script.ipxe" -s "$TMP/static.lua"
  SMALL+=("$(python3 -c "print($IPXE_RPS/$R_RPS)")")
  echo "  scripts/static: $(ratio "$IPXE_RPS" "$R_RPS"); cpu-us/req ramfleet $IPXE_US, nginx $R_US_PER_REQ"
  if [ -n "$BASE_PID" ]; then
    VSBASE+=("$(python3 -c "print($IPXE_RPS/$BASE_RPS)")")
    echo "  ramfleet/baseline /ipxe: $(ratio "$IPXE_RPS" "$BASE_RPS"); cpu-us/req baseline $BASE_US"
  fi
  run "ramfleet 30 MiB, 1 conn" $RF_PID 1 "http://127.0.0.1:$RF_PORT/assets/vmlinuz"
  RF1=$R_MIBS
  run "nginx 30 MiB, 1 conn" $NGX_PID 1 "http://127.0.0.1:$NGX_PORT/assets/vmlinuz"
  BIG1+=("$(python3 -c "print($RF1/$R_MIBS)")")
  run "ramfleet 30 MiB, 50 conns" $RF_PID 50 "http://127.0.0.1:$RF_PORT/assets/vmlinuz" --timeout 30s
  RF50=$R_MIBS
  run "nginx 30 MiB, 50 conns" $NGX_PID 50 "http://127.0.0.1:$NGX_PORT/assets/vmlinuz" --timeout 30s
  BIG50+=("$(python3 -c "print($RF50/$R_MIBS)")")
done
echo "# median ratios over $ROUNDS rounds (ramfleet / nginx; targets: scripts >= 0.8x, large file >= 0.9x)"
echo "per-machine scripts vs static file : $(median "${SMALL[@]}")  (rounds: $(printf '%.2f ' "${SMALL[@]}"))"
echo "30 MiB, 1 connection               : $(median "${BIG1[@]}")  (rounds: $(printf '%.2f ' "${BIG1[@]}"))"
echo "30 MiB, 50 connections             : $(median "${BIG50[@]}")  (rounds: $(printf '%.2f ' "${BIG50[@]}"))"
[ -n "$BASE_PID" ] && echo "/ipxe ramfleet / baseline            : $(median "${VSBASE[@]}")  (rounds: $(printf '%.2f ' "${VSBASE[@]}"))"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# boots recorded during the run: $(curl -s --cacert "$TMP/state/api/ca.crt" -H "Authorization: Bearer $(cat "$TMP/state/api/admin.token")" "$(cat "$TMP/state/api/url")/api/v1/counters" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("http.ipxe.matched",0))')"
