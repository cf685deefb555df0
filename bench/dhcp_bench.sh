#!/usr/bin/env bash
# DHCP four-way exchanges (DISCOVER/OFFER/REQUEST/ACK) per second:
# ramfleet (serve --dhcp full) vs dnsmasq vs kea-dhcp4, driven by Kea's perfdhcp.
#
# Each server has its own namespace and veth to the client namespace (see
# lib/common.sh); all run at once, and the rate ladder is interleaved: at each
# rate every server still in the race gets one bounded step (-p seconds, -R
# clients). perfdhcp runs in relay mode (-l CLIENT_ADDR: giaddr = its own
# address, unicast 67 -> 67, no broadcast). A server leaves the ladder at its
# first step with >= 1 % of exchanges not completed (no ACK).
# Reported per server: the highest clean rate, and its CPU (cgroup cpuacct, or
# utime+stime from /proc/PID/stat) per completed exchange at that rate.
#
# Lease durability, like for like as far as each server allows (the lease
# files are all on the same disk, under /var/tmp):
#   ramfleet  SQLite WAL, synchronous=FULL, group commit: the leases of one
#             event-loop turn are fsynced in one transaction before their ACKs.
#   dnsmasq   lease file rewritten and fsynced on every change (--dhcp-leasefile).
#   kea-dhcp4 memfile, persist=true: each lease appended to a CSV file before
#             the ACK, never fsynced (survives kill -9, not a power cut).
# After the ladder each server gets one short extra step (200/s, 2 s) under
# strace -c that counts fsync-family calls per exchange ("syncs/exchange");
# strace slows the server, so that step is not in the figures
# (RF_BENCH_STRACE=0 skips it).
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
RATES=${RF_BENCH_RATES:-"100 250 500 1000 2000 3000 4000 6000 8000 10000 12000 16000 20000"}
PERIOD=${RF_BENCH_PERIOD:-4}
CLIENTS=${RF_BENCH_CLIENTS:-1000}
SERVERS=${RF_BENCH_SERVERS:-"ramfleet dnsmasq kea"}

for tool in perfdhcp dnsmasq kea-dhcp4 taskset python3; do
  command -v $tool >/dev/null || { echo "need $tool (scripts/install-deps)" >&2; exit 1; }
done
[ -x "$RAMFLEET" ] || { echo "no ramfleet binary at $RAMFLEET (cmake --preset release && cmake --build build)" >&2; exit 1; }

bench_init dhcp

pool() { local n=${ADDR[$1]%.0.1}; echo "$n.1.1 $n.100.254"; }  # 10.8x.1.1 - 10.8x.100.254

start_ramfleet() {
  local d=$BENCH_TMP/ramfleet first last
  read -r first last < <(pool ramfleet)
  mkdir -p "$d/config"
  # perfdhcp is a flood by design (1000 MACs, up to 20,000 exchanges/s): the
  # per-MAC and global rate limits (docs/dhcp.md, "Limits") would cap it.
  printf 'dhcp:\n  limits:\n    per_mac_rate: 0\n    global_rate: 0\n' >"$d/config/ramfleet.yaml"
  start_server ramfleet "$d/serve.log" "$RAMFLEET" serve --interface "$SERVER_IF" --dhcp full --pool "$first-$last" \
    --state "$d/state" --config "$d/config" --tftp-port -1 --http-port -1 --no-router-advertisements
  wait_for_log ramfleet "$d/serve.log" "event=serve.ready" 10
}

start_dnsmasq() {
  local d=$BENCH_TMP/dnsmasq first last
  read -r first last < <(pool dnsmasq)
  mkdir -p "$d"
  # --port=0: no DNS. --no-ping: ramfleet and kea do not probe either.
  start_server dnsmasq "$d/stdout.log" dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --port=0 \
    --interface="$SERVER_IF" --bind-interfaces --dhcp-authoritative --no-ping \
    --dhcp-range="$first,$last,255.255.0.0,1h" --dhcp-lease-max=100000 \
    --dhcp-leasefile="$d/dnsmasq.leases" --pid-file="$d/dnsmasq.pid" --log-facility="$d/dnsmasq.log"
  wait_for_log dnsmasq "$d/dnsmasq.log" "DHCP, IP range" 10
}

start_kea() {
  local d=$BENCH_TMP/kea first last
  read -r first last < <(pool kea)
  mkdir -p "$d"
  cat >"$d/kea-dhcp4.conf" <<K
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "$SERVER_IF" ], "dhcp-socket-type": "udp" },
    "lease-database": { "type": "memfile", "persist": true, "name": "$d/kea-leases4.csv", "lfc-interval": 3600 },
    "authoritative": true,
    "valid-lifetime": 3600,
    "subnet4": [ { "id": 1, "subnet": "${ADDR[kea]%.0.1}.0.0/$NET_PREFIX", "pools": [ { "pool": "$first - $last" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "INFO", "output_options": [ { "output": "$d/kea.log" } ] } ]
} }
K
  export KEA_PIDFILE_DIR=$d KEA_LOCKFILE_DIR=$d
  ip netns exec "${NS[kea]}" kea-dhcp4 -t "$d/kea-dhcp4.conf" >"$d/check.log" 2>&1 || { cat "$d/check.log" >&2; return 1; }
  start_server kea "$d/stdout.log" kea-dhcp4 -c "$d/kea-dhcp4.conf"
  wait_for_log kea "$d/kea.log" "DHCP4_STARTED" 10
}

# One step: sets STEP_RATE (ACKs received / period), STEP_DROP (% of
# DISCOVERs without an ACK), STEP_CPU_US (server CPU µs per completed exchange).
run_step() {  # run_step NAME RATE PERIOD
  local out=$BENCH_TMP/$1/perfdhcp-$2.txt t0 t1
  t0=$(cpu_ns "$1")
  # -W: after the period, wait 0.5 s for late replies before counting drops.
  in_client perfdhcp -4 -g single -l "${CLIENT_ADDR[$1]}" -R "$CLIENTS" -r "$2" -p "$3" -W 500000 "${ADDR[$1]}" \
    >"$out" 2>&1 || true  # exit status 3 just means some packets were lost
  t1=$(cpu_ns "$1")
  read -r STEP_RATE STEP_DROP STEP_CPU_US < <(python3 - "$out" "$t0" "$t1" "$3" <<'P'
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

# fsync-family calls per completed exchange at a low rate, by strace.
declare -A SYNCS
count_syncs() {  # count_syncs NAME
  local trace=$BENCH_TMP/$1/strace.txt spid
  strace -f -c -e trace=fsync,fdatasync,sync_file_range,msync -o "$trace" -p "${PID[$1]}" 2>/dev/null &
  spid=$!
  BENCH_PIDS+=("$spid")
  sleep 0.5
  run_step "$1" 200 2
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
}

echo "# DHCP 4-way exchanges/s, perfdhcp relay mode, $CLIENTS clients, ${PERIOD}s per step, servers on CPU $SERVER_CPU, perfdhcp on CPU $CLIENT_CPU, lease files on $(df --output=source /var/tmp | tail -1)"
echo "# ramfleet $("$RAMFLEET" version | awk '{print $2}'), dnsmasq $(dnsmasq -v | head -1 | awk '{print $3}'), kea-dhcp4 $(kea-dhcp4 -v)"
for s in $SERVERS; do
  add_server_ns "$s"
  "start_$s"
done
echo "# load average before: $(machine_load)"
declare -A BEST BEST_CPU
active=" $SERVERS "
for rate in $RATES; do
  [ -n "${active// /}" ] || break
  for s in $active; do
    run_step "$s" "$rate" "$PERIOD"
    printf '  %-9s offered %6d/s -> %6s exchanges/s, %6s %% lost, %6s us CPU/exchange\n' \
      "$s" "$rate" "$STEP_RATE" "$STEP_DROP" "$STEP_CPU_US"
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)" "$STEP_DROP"; then
      BEST[$s]=$STEP_RATE BEST_CPU[$s]=$STEP_CPU_US
    else
      active=${active/ $s / }
    fi
  done
done
echo "# load average after: $(machine_load)"
if [ "${RF_BENCH_STRACE:-1}" = 1 ] && command -v strace >/dev/null; then
  for s in $SERVERS; do count_syncs "$s"; done
fi
echo "# highest rate with < 1 % lost; server CPU per exchange at that rate; fsync-family calls per exchange"
best_peer=0 best_name=""
for s in $SERVERS; do
  printf '%-9s %6s exchanges/s  %6s us CPU/exchange  %5s syncs/exchange%s\n' "$s" "${BEST[$s]:-0}" \
    "${BEST_CPU[$s]:-n/a}" "${SYNCS[$s]:-n/a}" "$([[ "$active" == *" $s "* ]] && echo "  (never lost 1 %: the ladder's top)")"
  if [ "$s" != ramfleet ] && greater "${BEST[$s]:-0}" "$best_peer"; then best_peer=${BEST[$s]:-0} best_name=$s; fi
done
if [[ " $SERVERS " == *" ramfleet "* ]]; then
  for s in $SERVERS; do
    [ "$s" = ramfleet ] && continue
    echo "ratio ramfleet/$s: rate $(ratio "${BEST[ramfleet]:-0}" "${BEST[$s]:-0}"), CPU per exchange $(ratio "${BEST_CPU[ramfleet]:-0}" "${BEST_CPU[$s]:-0}")"
  done
  [ -n "$best_name" ] && echo "DHCP: ramfleet / best peer ($best_name) = $(ratio "${BEST[ramfleet]:-0}" "$best_peer")"
fi
exit 0
