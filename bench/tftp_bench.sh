#!/usr/bin/env bash
# TFTP throughput for one 30 MiB file: ramfleet vs tftpd-hpa vs dnsmasq
# (and atftpd, unpacked from its Debian package, when it can be had).
#
# Each server has its own namespace and veth (MTU 1500) to the client namespace
# (lib/common.sh) and listens on its standard port 69; all run at once. Servers
# are pinned to one core, the client to the other. A fixed number of rounds;
# in each round every server does each case once (interleaved, so the drift of
# a shared machine's load hits every server alike); every transfer is bounded
# by a timeout and checked byte for byte. Reported: the median MiB/s, and the
# server's CPU (cgroup cpuacct: children included, tftpd-hpa forks per
# request) per MiB.
# Cases:
#   curl blksize 1468        what PXE ROMs ask for; every server
#   curl blksize 8192        large blocks (IP-fragmented on the veth)
#   atftp blksize 1468 windowsize 16   RFC 7440: only ramfleet and atftpd implement it
#
# Usage: sudo bench/tftp_bench.sh [path/to/ramfleet]
#   RF_BENCH_TRANSFERS=5   rounds (transfers per server and case)
#   RF_BENCH_SERVERS="ramfleet tftpd-hpa dnsmasq atftpd"
#   RF_BENCH_CASES="1468 8192 window16"   a subset of the cases
#   RF_BENCH_VERBOSE=1   prints every transfer as it ends
#   RF_BENCH_BASELINE=path/to/other/ramfleet   also runs that binary as server
#     "baseline", interleaved like the others, and prints ramfleet / baseline
#     (before/after comparisons of a change on a shared machine); it is not a peer.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
RAMFLEET=$(readlink -f "${1:-$HERE/../build/ramfleet}")
TRANSFERS=${RF_BENCH_TRANSFERS:-5}
SERVERS=${RF_BENCH_SERVERS:-"ramfleet tftpd-hpa dnsmasq atftpd"}
CASE_NAMES=${RF_BENCH_CASES:-"1468 8192 window16"}
BASELINE=""
if [ -n "${RF_BENCH_BASELINE:-}" ]; then
  BASELINE=$(readlink -f "$RF_BENCH_BASELINE")
  [ -x "$BASELINE" ] || { echo "no ramfleet binary at $BASELINE (RF_BENCH_BASELINE)" >&2; exit 1; }
  SERVERS="ramfleet baseline ${SERVERS/ramfleet/}"
fi
FILE_BYTES=$((30 * 1024 * 1024))
TIMEOUT=60  # seconds per transfer, far above the slowest seen (~1 s)

for tool in curl atftp in.tftpd dnsmasq taskset; do
  command -v $tool >/dev/null || { echo "need $tool (scripts/install-deps)" >&2; exit 1; }
done
[ -x "$RAMFLEET" ] || { echo "no ramfleet binary at $RAMFLEET (cmake --preset release && cmake --build build)" >&2; exit 1; }

# atftpd conflicts with tftpd-hpa as a package: unpack it beside, once.
ATFTPD_DIR=${RF_BENCH_ATFTPD_DIR:-/var/cache/ramfleet-bench/atftpd}
ATFTPD=""
find_atftpd() {
  if [ ! -x "$ATFTPD_DIR/usr/sbin/atftpd" ]; then
    local dl
    dl=$(mktemp -d)
    if (cd "$dl" && apt-get download atftpd >/dev/null 2>&1); then
      mkdir -p "$ATFTPD_DIR" && dpkg -x "$dl"/atftpd_*.deb "$ATFTPD_DIR"
    fi
    rm -rf "$dl"
  fi
  if [ -x "$ATFTPD_DIR/usr/sbin/atftpd" ] && "$ATFTPD_DIR/usr/sbin/atftpd" --version >/dev/null 2>&1; then
    ATFTPD=$ATFTPD_DIR/usr/sbin/atftpd
  fi
}
[[ " $SERVERS " == *" atftpd "* ]] && find_atftpd
[[ " $SERVERS " == *" atftpd "* ]] && [ -z "$ATFTPD" ] && SERVERS=${SERVERS/atftpd/} && echo "# atftpd not available (apt-get download atftpd failed): skipped"

bench_init tftp
ROOT=$BENCH_TMP/root
mkdir -p "$ROOT"
head -c "$FILE_BYTES" /dev/urandom >"$ROOT/big.bin"
cat "$ROOT/big.bin" >/dev/null  # in the page cache for everyone

wait_udp_port() {  # wait_udp_port NAME: the server listens on :69
  local i
  for i in $(seq 100); do
    ip netns exec "${NS[$1]}" ss -Huln "sport = :69" | grep -q . && return 0
    kill -0 "${PID[$1]}" 2>/dev/null || { echo "$1 exited" >&2; return 1; }
    sleep 0.1
  done
  echo "$1 did not listen on :69" >&2
  return 1
}

start_ramfleet_binary() {  # start_ramfleet_binary NAME BINARY
  local d=$BENCH_TMP/$1
  mkdir -p "$d"
  start_server "$1" "$d/serve.log" "$2" serve --dhcp off --listen "${ADDR[$1]}" --tftp-root "$ROOT" \
    --http-port -1 --state "$d/state"
  wait_for_log "$1" "$d/serve.log" "event=serve.ready" 10
}
start_ramfleet() { start_ramfleet_binary ramfleet "$RAMFLEET"; }
start_baseline() { start_ramfleet_binary baseline "$BASELINE"; }
start_tftpd-hpa() {
  mkdir -p "$BENCH_TMP/tftpd-hpa"
  # -L: foreground; -s: chroot to the root, as packaged; forks per request.
  start_server tftpd-hpa "$BENCH_TMP/tftpd-hpa/log" in.tftpd -L -s -u root -a "${ADDR[tftpd-hpa]}:69" "$ROOT"
  wait_udp_port tftpd-hpa
}
start_dnsmasq() {
  local d=$BENCH_TMP/dnsmasq
  mkdir -p "$d"
  # --edns-packet-max: otherwise dnsmasq caps blksize at 2263 (lab-notes).
  start_server dnsmasq "$d/stdout.log" dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --port=0 \
    --listen-address="${ADDR[dnsmasq]}" --bind-interfaces --enable-tftp --tftp-root="$ROOT" --tftp-max=100 \
    --edns-packet-max=65535 --pid-file="$d/pid" --log-facility="$d/dnsmasq.log"
  wait_udp_port dnsmasq
}
start_atftpd() {
  local d=$BENCH_TMP/atftpd
  mkdir -p "$d"
  start_server atftpd "$d/stdout.log" env LD_LIBRARY_PATH="$ATFTPD_DIR/usr/lib/x86_64-linux-gnu" "$ATFTPD" --daemon \
    --no-fork --logfile "$d/atftpd.log" --user root --group root --bind-address "${ADDR[atftpd]}" --port 69 "$ROOT"
  wait_udp_port atftpd
}

# One transfer; prints "seconds bytes".
transfer() {  # transfer ADDRESS CLIENT BLKSIZE WINDOWSIZE
  local to=$1
  shift
  local t0 t1 bytes out=$BENCH_TMP/got.bin
  rm -f "$out"
  case $1 in
    curl)
      in_client timeout "$TIMEOUT" curl -s --tftp-blksize "$2" -o "$out" \
        -w '%{time_total} %{size_download}\n' "tftp://$to/big.bin" || echo "0 0"
      ;;
    atftp)
      t0=$(date +%s.%N)
      in_client timeout "$TIMEOUT" atftp --option "blksize $2" --option "windowsize $3" --option "tsize 0" \
        -g -r big.bin -l "$out" "$to" >/dev/null 2>&1 || true
      t1=$(date +%s.%N)
      bytes=$(stat -c %s "$out" 2>/dev/null || echo 0)
      echo "$(python3 -c "print($t1-$t0)") $bytes"
      ;;
  esac
}

declare -A SPEEDS CPU_NS BAD RESULT CPU SPREAD
one_transfer() {  # one_transfer SERVER LABEL CLIENT BLKSIZE WINDOWSIZE
  local key="$1,$2" t0 t1 secs bytes
  t0=$(cpu_ns "$1")
  read -r secs bytes < <(transfer "${ADDR[$1]}" "$3" "$4" "$5")
  t1=$(cpu_ns "$1")
  if [ "$bytes" != "$FILE_BYTES" ] || ! cmp -s "$BENCH_TMP/got.bin" "$ROOT/big.bin"; then
    BAD[$key]=$((${BAD[$key]:-0} + 1))
    return
  fi
  SPEEDS[$key]+="$(python3 -c "print($bytes / $secs / 2**20)") "
  [ -n "${RF_BENCH_VERBOSE:-}" ] && echo "# $key $(python3 -c "print(f'{$bytes / $secs / 2**20:.1f}')") MiB/s, load $(machine_load)"
  CPU_NS[$key]=$((${CPU_NS[$key]:-0} + t1 - t0))
}
summarize() {  # summarize SERVER LABEL
  local key="$1,$2" good
  good=$(wc -w <<<"${SPEEDS[$key]:-}")
  if [ "$good" = 0 ]; then
    RESULT[$key]=0 CPU[$key]=n/a SPREAD[$key]=-
  else
    RESULT[$key]=$(tr ' ' '\n' <<<"${SPEEDS[$key]}" | grep . | sort -g | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}')
    SPREAD[$key]=$(tr ' ' '\n' <<<"${SPEEDS[$key]}" | grep . | sort -g | awk '{a[NR]=$1} END {printf "%.1f-%.1f", a[1], a[NR]}')
    CPU[$key]=$(python3 -c "print(f'{${CPU_NS[$key]}/1e6/($good*$FILE_BYTES/2**20):.2f}')")
  fi
  printf '  %-9s %-29s %6s MiB/s (median of %d, %s)  %6s ms CPU/MiB%s\n' "$1" "$2" "${RESULT[$key]}" "$good" \
    "${SPREAD[$key]}" "${CPU[$key]}" "$([ "${BAD[$key]:-0}" -gt 0 ] && echo "  ${BAD[$key]} transfer(s) FAILED or incomplete")"
}

ALL_CASES=("1468|curl blksize 1468|curl|1468|1" "8192|curl blksize 8192|curl|8192|1"
  "window16|atftp blksize 1468 window 16|atftp|1468|16")
CASES=()
for c in "${ALL_CASES[@]}"; do
  [[ " $CASE_NAMES " == *" ${c%%|*} "* ]] && CASES+=("${c#*|}")
done
[ ${#CASES[@]} -gt 0 ] || { echo "RF_BENCH_CASES=\"$CASE_NAMES\" names no case (1468 8192 window16)" >&2; exit 1; }
echo "# TFTP, one 30 MiB file, $TRANSFERS rounds, servers on CPU $SERVER_CPU, client on CPU $CLIENT_CPU, veth MTU 1500"
echo "# ramfleet $("$RAMFLEET" version | awk '{print $2}')$([ -n "$BASELINE" ] && echo ", baseline $BASELINE"), tftpd-hpa $(dpkg-query -W -f '${Version}' tftpd-hpa), dnsmasq $(dnsmasq -v | head -1 | awk '{print $3}')$([ -n "$ATFTPD" ] && echo ", atftpd $("$ATFTPD" --version 2>&1 | head -1)"), curl $(curl -V | head -1 | awk '{print $2}')"
for s in $SERVERS; do
  add_server_ns "$s"
  "start_$s"
done
echo "# load average before: $(machine_load)"
# windowsize: only ramfleet (and the baseline) and atftpd implement RFC 7440.
takes_case() { [ "$2" = 1 ] || [ "$1" = ramfleet ] || [ "$1" = baseline ] || [ "$1" = atftpd ]; }
for round in $(seq "$TRANSFERS"); do
  for c in "${CASES[@]}"; do
    IFS='|' read -r label client blk win <<<"$c"
    for s in $SERVERS; do
      takes_case "$s" "$win" && one_transfer "$s" "$label" "$client" "$blk" "$win"
    done
  done
done
for c in "${CASES[@]}"; do
  IFS='|' read -r label client blk win <<<"$c"
  for s in $SERVERS; do takes_case "$s" "$win" && summarize "$s" "$label"; done
done
echo "# load average after: $(machine_load)"
echo "# ratios (ramfleet / peer, MiB/s)"
for c in "${CASES[@]}"; do
  IFS='|' read -r label _ _ win <<<"$c"
  best=0 best_name=""
  line="$(printf '%-28s' "$label:")"
  for s in $SERVERS; do
    [ "$s" = ramfleet ] || [ "$s" = baseline ] && continue
    v=${RESULT[$s,$label]:-}
    [ -n "$v" ] || continue
    line+=" vs $s $(ratio "${RESULT[ramfleet,$label]:-0}" "$v")"
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$v" "$best"; then
      best=$v best_name=$s
    fi
  done
  [ -n "$best_name" ] && [ -n "${RESULT[ramfleet,$label]:-}" ] && line+="  => vs best peer ($best_name): $(ratio "${RESULT[ramfleet,$label]}" "$best")"
  [ -n "$BASELINE" ] && line+="  (vs baseline $(ratio "${RESULT[ramfleet,$label]:-0}" "${RESULT[baseline,$label]:-0}"))"
  echo "$line"
done
exit 0
