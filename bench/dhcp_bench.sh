#!/usr/bin/env bash
# DHCP four-way exchanges (DISCOVER/OFFER/REQUEST/ACK) per second:
# ramfleet (serve --dhcp full) vs dnsmasq vs kea-dhcp4, driven by Kea's perfdhcp.
#
# Two namespaces joined by a veth pair; perfdhcp runs in relay mode
# (-l CLIENT_ADDR: giaddr = its own address, unicast 67 -> 67, no broadcast).
# The rate steps up; each step is bounded (-p seconds, -R clients) and the
# ladder stops at the first step with >= 1 % of exchanges not completed.
# Reported per server: the highest clean rate, and the server's CPU (utime +
# stime from /proc/PID/stat) per completed exchange at that step.
#
# Lease durability, like for like as far as each server allows:
#   ramfleet  SQLite WAL, synchronous=FULL: a lease is fsynced before its ACK.
#   kea-dhcp4 memfile, persist=true: each lease is appended to a CSV file
#             (written before the ACK, not fsynced).
#   dnsmasq   lease file rewritten on every change (--dhcp-leasefile).
# After its ladder each server gets one short extra step (200/s, 2 s) under
# strace -c that counts fsync/fdatasync per exchange, printed as "syncs/exchange"
# (RF_BENCH_STRACE=0 skips it; strace slows the server, so that step is not
# part of the figures).
#
# Usage: sudo bench/dhcp_bench.sh [path/to/ramfleet]
#   RF_BENCH_RATES="500 1000 ..."  rate ladder (exchanges/s)
#   RF_BENCH_PERIOD=4              seconds per step
#   RF_BENCH_CLIENTS=1000          distinct clients (MACs) perfdhcp simulates
#   RF_BENCH_SERVERS="ramfleet dnsmasq kea"
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
RAMFLEET=$(readlink -f "${1:-$HERE/../build/ramfleet}")
RATES=${RF_BENCH_RATES:-"500 1000 2000 3000 4000 6000 8000 10000 12000 16000 20000"}
PERIOD=${RF_BENCH_PERIOD:-4}
CLIENTS=${RF_BENCH_CLIENTS:-1000}
SERVERS=${RF_BENCH_SERVERS:-"ramfleet dnsmasq kea"}
POOL_FIRST=10.78.1.1
POOL_LAST=10.78.100.254

for tool in perfdhcp dnsmasq kea-dhcp4 taskset; do
  command -v $tool >/dev/null || { echo "need $tool (scripts/install-deps)" >&2; exit 1; }
done
[ -x "$RAMFLEET" ] || { echo "no ramfleet binary at $RAMFLEET (cmake --preset release && cmake --build build)" >&2; exit 1; }

bench_init dhcp

start_ramfleet() {
  local d=$BENCH_TMP/ramfleet
  mkdir -p "$d"
  start_server "$d/serve.log" "$RAMFLEET" serve --interface "$SERVER_IF" --dhcp full --pool "$POOL_FIRST-$POOL_LAST" \
    --state "$d/state" --tftp-port -1 --http-port -1 --no-router-advertisements
  wait_for_log "$d/serve.log" "event=serve.ready" 10
}

start_dnsmasq() {
  local d=$BENCH_TMP/dnsmasq
  mkdir -p "$d"
  # --port=0: no DNS. --no-ping: ramfleet and kea do not probe either.
  start_server "$d/dnsmasq.log" dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --port=0 \
    --interface="$SERVER_IF" --bind-interfaces --dhcp-authoritative --no-ping \
    --dhcp-range="$POOL_FIRST,$POOL_LAST,255.255.0.0,1h" --dhcp-lease-max=100000 \
    --dhcp-leasefile="$d/dnsmasq.leases" --pid-file="$d/dnsmasq.pid" --log-facility="$d/dnsmasq.log"
  # dnsmasq logs "DHCP, IP range ..." once its DHCP socket is open.
  wait_for_log "$d/dnsmasq.log" "DHCP, IP range" 10
}

start_kea() {
  local d=$BENCH_TMP/kea
  mkdir -p "$d"
  cat >"$d/kea-dhcp4.conf" <<K
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "$SERVER_IF" ], "dhcp-socket-type": "udp" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$d/kea-leases4.csv", "lfc-interval": 3600 },
    "authoritative": true,
    "valid-lifetime": 3600,
    "subnet4": [ { "id": 1, "subnet": "10.78.0.0/$NET_PREFIX",
                   "pools": [ { "pool": "$POOL_FIRST - $POOL_LAST" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "INFO",
                   "output_options": [ { "output": "$d/kea.log" } ] } ]
} }
K
  export KEA_PIDFILE_DIR=$d KEA_LOCKFILE_DIR=$d
  ip netns exec "$NS_S" kea-dhcp4 -t "$d/kea-dhcp4.conf" >"$d/check.log" 2>&1 || { cat "$d/check.log" >&2; return 1; }
  start_server "$d/stdout.log" kea-dhcp4 -c "$d/kea-dhcp4.conf"
  wait_for_log "$d/kea.log" "DHCP4_STARTED" 10
}

# One step: sets STEP_RATE (ACKs received / period), STEP_DROP (% not
# completed), STEP_CPU_US (server CPU µs per completed exchange).
run_step() {  # run_step NAME RATE
  local out=$BENCH_TMP/$1/perfdhcp-$2.txt t0 t1
  t0=$(cpu_ns "$SERVER_PID")
  # -W: after the period, wait 0.5 s for late replies before counting drops.
  in_client perfdhcp -4 -g single -l "$CLIENT_ADDR" -R "$CLIENTS" -r "$2" -p "$PERIOD" -W 500000 "$SERVER_ADDR" \
    >"$out" 2>&1 || true  # exit status 3 just means some packets were lost
  t1=$(cpu_ns "$SERVER_PID")
  read -r STEP_RATE STEP_DROP STEP_CPU_US < <(python3 - "$out" "$t0" "$t1" "$PERIOD" <<'P'
import re, sys
text = open(sys.argv[1]).read()
t0, t1, period = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
def section(name):
    s = text.split("***Statistics for: " + name + "***")
    if len(s) < 2: return 0, 0
    sent = re.search(r"sent packets: (\d+)", s[1]); recv = re.search(r"received packets: (\d+)", s[1])
    return int(sent.group(1)) if sent else 0, int(recv.group(1)) if recv else 0
disc_sent, _ = section("DISCOVER-OFFER")
_, acks = section("REQUEST-ACK")
drop = 100.0 * (1 - acks / disc_sent) if disc_sent else 100.0
rate = acks / period  # completed exchanges over the sending period
cpu_us = (t1 - t0) / 1e3 / acks if acks else float("nan")
print(f"{rate:.0f} {drop:.2f} {cpu_us:.0f}")
P
)
}

declare -A BEST BEST_CPU BEST_DROP
run_server() {  # run_server NAME
  local name=$1 rate
  "start_$name"
  BEST[$name]=0 BEST_CPU[$name]=n/a BEST_DROP[$name]=n/a
  for rate in $RATES; do
    run_step "$name" "$rate"
    printf '  %-9s offered %6d/s -> %7s exchanges/s, %6s %% lost, %6s us CPU/exchange\n' \
      "$name" "$rate" "$STEP_RATE" "$STEP_DROP" "$STEP_CPU_US"
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)" "$STEP_DROP"; then
      BEST[$name]=$STEP_RATE BEST_CPU[$name]=$STEP_CPU_US BEST_DROP[$name]=$STEP_DROP
    else
      break
    fi
  done
  [ "${RF_BENCH_STRACE:-1}" = 1 ] && command -v strace >/dev/null && count_syncs "$name"
  stop_server
}

# fsync-family calls per completed exchange at a low rate, by strace.
declare -A SYNCS
count_syncs() {  # count_syncs NAME
  local trace=$BENCH_TMP/$1/strace.txt spid saved=$PERIOD
  strace -f -c -e trace=fsync,fdatasync,sync_file_range,msync -o "$trace" -p "$SERVER_PID" 2>/dev/null &
  spid=$!
  BENCH_PIDS+=("$spid")
  sleep 0.5
  PERIOD=2
  run_step "$1" 200
  PERIOD=$saved
  kill -INT "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  SYNCS[$1]=$(python3 - "$trace" "$STEP_RATE" 2 <<'P'
import sys
calls = 0
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 5 and f[-1] in ("fsync", "fdatasync", "sync_file_range", "msync") and f[3].isdigit():
        calls += int(f[3])
acks = float(sys.argv[2]) * float(sys.argv[3])
print(f"{calls / acks:.2f}" if acks else "n/a")
P
)
  echo "  $1: ${SYNCS[$1]} fsync-family calls per exchange (strace, 200/s offered, not timed)"
}

echo "# DHCP 4-way exchanges/s, perfdhcp relay mode, $CLIENTS clients, ${PERIOD}s per step, server on CPU $SERVER_CPU, perfdhcp on CPU $CLIENT_CPU"
echo "# ramfleet $("$RAMFLEET" version | awk '{print $2}'), $(dnsmasq -v | head -1 | awk '{print $1, $3}'), kea-dhcp4 $(kea-dhcp4 -v)"
echo "# load average before: $(machine_load)"
for s in $SERVERS; do run_server "$s"; done
echo "# load average after: $(machine_load)"
echo "# highest rate with < 1 % lost (server CPU per exchange at that rate)"
best_peer=0 best_name=""
for s in $SERVERS; do
  printf '%-9s %7s exchanges/s  %6s us CPU/exchange  %5s syncs/exchange\n' "$s" "${BEST[$s]}" "${BEST_CPU[$s]}" "${SYNCS[$s]:-n/a}"
  if [ "$s" != ramfleet ] && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "${BEST[$s]}" "$best_peer"; then
    best_peer=${BEST[$s]} best_name=$s
  fi
done
if [ -n "${BEST[ramfleet]:-}" ]; then
  for s in $SERVERS; do
    [ "$s" = ramfleet ] && continue
    echo "ratio ramfleet/$s: $(ratio "${BEST[ramfleet]}" "${BEST[$s]}") rate, CPU/exchange $(ratio "${BEST_CPU[ramfleet]}" "${BEST_CPU[$s]}")"
  done
  top=$(echo $RATES | awk '{print $NF}')
  [ -n "$best_name" ] && echo "DHCP result: ramfleet/$best_name (best peer) = $(ratio "${BEST[ramfleet]}" "$best_peer")$( [ "${BEST[ramfleet]%.*}" -ge $((top * 95 / 100)) ] && echo " (ramfleet reached the top of the ladder, $top/s: raise RF_BENCH_RATES)")"
fi
