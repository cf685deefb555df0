# Shared helpers for bench/dhcp_bench.sh and bench/tftp_bench.sh (sourced, not run).
#
# One client namespace, and one namespace per server joined to it by its own
# veth pair, so every server can listen on its standard port at the same time
# and the measurements of all servers are interleaved (the machine is shared:
# its load drifts during a run, and back-to-back blocks per server would turn
# that drift into a difference between servers). Server i: 10.(80+i).0.1/16 on
# "s0" in its namespace, the client side 10.(80+i).0.2/16 on "c<i>".
# Everything started is tracked by PID and stopped on exit or Ctrl-C; the
# namespaces are deleted. Nothing touches the host's network.

SERVER_CPU=${RF_BENCH_SERVER_CPU:-0}  # servers pinned here
CLIENT_CPU=${RF_BENCH_CLIENT_CPU:-1}  # clients (perfdhcp, curl, atftp) pinned here
SERVER_IF=s0
NET_PREFIX=16

BENCH_PIDS=()
BENCH_NS=()
BENCH_CGS=()
BENCH_TMP=""
CLK_TCK=$(getconf CLK_TCK)
declare -A NS ADDR CLIENT_ADDR PID CG
SERVER_COUNT=0

bench_cleanup() {
  local pid ns cg
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do
    # Bounded wait, then SIGKILL: a stuck peer must not hang the bench.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  BENCH_PIDS=()
  for ns in "${BENCH_NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  BENCH_NS=()
  for cg in "${BENCH_CGS[@]}"; do rmdir "$cg" 2>/dev/null || true; done
  BENCH_CGS=()
  [ -n "$BENCH_TMP" ] && [ -z "${RF_BENCH_KEEP:-}" ] && rm -rf "$BENCH_TMP"
  return 0
}

bench_init() {  # bench_init NAME: temp dir, traps, client namespace
  [ "$(id -u)" = 0 ] || { echo "run as root (network namespaces): sudo $0" >&2; exit 1; }
  BENCH_TMP=$(mktemp -d "/var/tmp/rf-$1.XXXXXX")  # on disk, not tmpfs: fsync costs what it costs
  trap bench_cleanup EXIT
  trap 'echo "interrupted" >&2; exit 130' INT TERM
  NS_C="rfb$$c"
  ip netns add "$NS_C"
  BENCH_NS+=("$NS_C")
  ip -n "$NS_C" link set lo up
}

# add_server_ns NAME: a namespace for one server, its veth and addresses.
add_server_ns() {
  local name=$1 i
  SERVER_COUNT=$((SERVER_COUNT + 1))
  i=$SERVER_COUNT
  NS[$name]="rfb$$s$i"
  ADDR[$name]="10.$((80 + i)).0.1"
  CLIENT_ADDR[$name]="10.$((80 + i)).0.2"
  ip netns add "${NS[$name]}"
  BENCH_NS+=("${NS[$name]}")
  ip link add "$SERVER_IF" netns "${NS[$name]}" type veth peer name "c$i" netns "$NS_C"
  ip -n "${NS[$name]}" addr add "${ADDR[$name]}/$NET_PREFIX" dev "$SERVER_IF"
  ip -n "$NS_C" addr add "${CLIENT_ADDR[$name]}/$NET_PREFIX" dev "c$i"
  ip -n "${NS[$name]}" link set lo up
  ip -n "${NS[$name]}" link set "$SERVER_IF" up
  ip -n "$NS_C" link set "c$i" up
}

# start_server NAME LOGFILE CMD...: runs CMD in NAME's namespace, pinned to
# SERVER_CPU, in a cpuacct cgroup of its own when cgroup v1 is there (children
# count too: tftpd-hpa forks per request). ip netns exec, env and taskset all
# exec, so $! is the server process itself.
start_server() {
  local name=$1 log=$2
  shift 2
  ip netns exec "${NS[$name]}" taskset -c "$SERVER_CPU" "$@" >"$log" 2>&1 </dev/null &
  PID[$name]=$!
  BENCH_PIDS+=("${PID[$name]}")
  CG[$name]=""
  local cg=/sys/fs/cgroup/cpuacct/rfb$$-$name
  if [ -w /sys/fs/cgroup/cpuacct ] && mkdir -p "$cg" 2>/dev/null && echo "${PID[$name]}" >"$cg/cgroup.procs" 2>/dev/null; then
    CG[$name]=$cg
    BENCH_CGS+=("$cg")
  fi
}

# cpu_ns NAME: the server's CPU time so far, in nanoseconds (cgroup, else
# utime+stime+reaped children from /proc/PID/stat).
cpu_ns() {
  if [ -n "${CG[$1]}" ]; then cat "${CG[$1]}/cpuacct.usage"; return; fi
  awk -v t="$CLK_TCK" '{printf "%.0f\n", ($14 + $15 + $16 + $17) * 1e9 / t}' "/proc/${PID[$1]}/stat" 2>/dev/null || echo 0
}

in_client() { ip netns exec "$NS_C" taskset -c "$CLIENT_CPU" "$@"; }

wait_for_log() {  # wait_for_log NAME FILE PATTERN SECONDS
  local i
  for i in $(seq $(($4 * 10))); do
    grep -q -- "$3" "$2" 2>/dev/null && return 0
    kill -0 "${PID[$1]}" 2>/dev/null || { echo "$1 exited:" >&2; tail -20 "$2" >&2; return 1; }
    sleep 0.1
  done
  echo "timed out waiting for '$3' in $2" >&2
  tail -20 "$2" >&2
  return 1
}

machine_load() { awk '{print $1", "$2", "$3}' /proc/loadavg; }
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}x' if b>0 else 'n/a')" "$1" "$2"; }
greater() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$1" "$2"; }
