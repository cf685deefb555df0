# Shared by the Debian node's stage 1 (/init) and its reporter
# (ramfleet-report.service): kernel arguments, phase reports to ramfleet's
# events API, and the pivot_root check. Sourced, not run: /usr/lib/ramfleet/lib.sh.

# Console lines start with the uptime: the serial log is the node's timeline.
say() { echo "ramfleet-init: [$(uptime_s)] $*" >/dev/console 2>/dev/null || echo "ramfleet-init: $*"; }

arg() {  # value of kernel argument $1=...
  for a in $(cat /proc/cmdline); do
    case "$a" in "$1="*) echo "${a#*=}"; return 0 ;; esac
  done
  return 1
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

root_type() { findmnt -n -o FSTYPE /; }

# Where to report, from the kernel command line (needs /proc mounted).
read_identity() {
  SERVER="$(arg ramfleet.server || true)"
  ID="$(arg ramfleet.id || true)"
  # This boot's own credential for the events API (docs/security.md).
  CREDENTIAL="$(arg ramfleet.event_credential || true)"
}

# POST one phase: report PHASE MESSAGE [ROOT_BYTES]. jq builds the JSON, so
# nothing in a message can break it. A few bounded tries, then give up.
report() {
  body="$(jq -cn --arg phase "$1" --arg message "$2" --argjson uptime "$(uptime_s)" --arg rb "${3:-}" \
    '{phase: $phase, message: $message, uptime: $uptime} + (if $rb == "" then {} else {root_bytes: ($rb | tonumber)} end)')"
  if curl -sf -o /dev/null --max-time 5 --retry 5 --retry-delay 1 --retry-connrefused \
      -H 'Content-Type: application/json' -H "Authorization: Bearer $CREDENTIAL" --data-binary "$body" "$SERVER/api/v1/machines/$ID/events"; then
    say "reported $1"
  else
    say "could not report $1 to $SERVER"
    return 1
  fi
}

# Can a container runtime pivot_root out of this root? The kernel's
# initramfs (rootfs) says it is a tmpfs to statfs, yet pivot_root fails
# there: try it, in a private mount namespace, as runc would.
pivot_check() {
  if unshare -m sh -c 'mkdir -p /tmp/pr && mount -t tmpfs pr /tmp/pr && mkdir /tmp/pr/old &&
                      cd /tmp/pr && pivot_root . old' 2>/dev/null; then r=ok; else r=failed; fi
  rmdir /tmp/pr 2>/dev/null
  echo "$r"
}
