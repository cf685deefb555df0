# Shared helpers for bench/dhcp_bench.sh and bench/tftp_bench.sh (sourced, not run).
# Two network namespaces joined by a veth pair; everything started is tracked
# by PID and stopped on exit or Ctrl-C. Nothing touches the host's network.

# The cores the server and the client are pinned to (override with
# RF_BENCH_SERVER_CPU / RF_BENCH_CLIENT_CPU).
SERVER_CPU=${RF_BENCH_SERVER_CPU:-0}
CLIENT_CPU=${RF_BENCH_CLIENT_CPU:-1}
SERVER_IF=s0
CLIENT_IF=c0
SERVER_ADDR=10.78.0.1
CLIENT_ADDR=10.78.0.2
NET_PREFIX=16

BENCH_PIDS=()
BENCH_NS=()
BENCH_TMP=""

bench_cleanup() {
  local pid ns
  for pid in "${BENCH_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    # Bounded wait, then SIGKILL: a stuck peer must not hang the bench.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  BENCH_PIDS=()
  for ns in "${BENCH_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  BENCH_NS=()
  [ -n "$BENCH_CG" ] && rmdir "$BENCH_CG" 2>/dev/null
  [ -n "$BENCH_TMP" ] && [ -z "${RF_BENCH_KEEP:-}" ] && rm -rf "$BENCH_TMP"
  return 0
}

bench_init() {  # bench_init NAME: temp dir, traps, namespaces
  [ "$(id -u)" = 0 ] || { echo "run as root (network namespaces): sudo $0" >&2; exit 1; }
  BENCH_TMP=$(mktemp -d "/var/tmp/rf-$1.XXXXXX")  # on disk, not tmpfs: fsync costs what it costs
  trap bench_cleanup EXIT
  trap 'echo "interrupted" >&2; exit 130' INT TERM
  local cg=/sys/fs/cgroup/cpuacct/rfb$$
  if [ -w /sys/fs/cgroup/cpuacct ] && mkdir "$cg" 2>/dev/null; then BENCH_CG=$cg; fi
  NS_S="rfb$$s"
  NS_C="rfb$$c"
  ip netns add "$NS_S"
  BENCH_NS+=("$NS_S")
  ip netns add "$NS_C"
  BENCH_NS+=("$NS_C")
  ip link add "$SERVER_IF" netns "$NS_S" type veth peer name "$CLIENT_IF" netns "$NS_C"
  ip -n "$NS_S" addr add "$SERVER_ADDR/$NET_PREFIX" dev "$SERVER_IF"
  ip -n "$NS_C" addr add "$CLIENT_ADDR/$NET_PREFIX" dev "$CLIENT_IF"
  ip -n "$NS_S" link set lo up
  ip -n "$NS_C" link set lo up
  ip -n "$NS_S" link set "$SERVER_IF" up
  ip -n "$NS_C" link set "$CLIENT_IF" up
}

# Starts a server in the server namespace pinned to SERVER_CPU; sets SERVER_PID.
# ip netns exec and taskset both exec, so $! is the server process itself.
start_server() {  # start_server LOGFILE CMD...
  local log=$1
  shift
  ip netns exec "$NS_S" taskset -c "$SERVER_CPU" "$@" >"$log" 2>&1 </dev/null &
  SERVER_PID=$!
  BENCH_PIDS+=("$SERVER_PID")
  if [ -n "$BENCH_CG" ] && ! echo "$SERVER_PID" >"$BENCH_CG/cgroup.procs" 2>/dev/null; then BENCH_CG=""; fi
}

stop_server() {
  [ -n "${SERVER_PID:-}" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  local keep=() p
  for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$SERVER_PID" ] || keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
  SERVER_PID=""
}

in_client() { ip netns exec "$NS_C" taskset -c "$CLIENT_CPU" "$@"; }

# Server CPU time in nanoseconds. With a cgroup-v1 cpuacct hierarchy the
# server runs in its own group, so children count too (tftpd-hpa forks per
# request and its children may not be reaped yet); otherwise utime+stime
# (+ reaped children) from /proc/PID/stat.
CLK_TCK=$(getconf CLK_TCK)
BENCH_CG=""
cpu_ns() {
  if [ -n "$BENCH_CG" ]; then cat "$BENCH_CG/cpuacct.usage"; return; fi
  awk -v t="$CLK_TCK" '{printf "%.0f\n", ($14 + $15 + $16 + $17) * 1e9 / t}' "/proc/$1/stat" 2>/dev/null || echo 0
}

wait_for_log() {  # wait_for_log FILE PATTERN SECONDS
  local i
  for i in $(seq $(($3 * 10))); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:" >&2; tail -20 "$1" >&2; return 1; }
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1" >&2
  tail -20 "$1" >&2
  return 1
}

machine_load() { awk '{print $1", "$2", "$3}' /proc/loadavg; }
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}x' if b>0 else 'n/a')" "$1" "$2"; }
