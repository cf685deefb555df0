# shellcheck shell=bash
# Sourced by the scripts that need root (network namespaces, taps, apt-get).
# `ensure_root "$@"` returns when we are root; otherwise it re-runs the calling
# script through sudo, or says how to run it when there is no sudo (a root
# shell on a fresh machine, or a container, often has none: that is why the
# README's commands are written without it).
ensure_root() {
  if [ "$(id -u)" -eq 0 ]; then return 0; fi
  if command -v sudo >/dev/null 2>&1; then
    # sudo resets the environment; keep the few variables our scripts read.
    local keep=() v
    for v in KEEP RAMFLEET_KEEP_LOGS RAMFLEET_LAB_CACHE; do
      if [ -n "${!v+x}" ]; then keep+=("$v=${!v}"); fi
    done
    echo "$(basename "$0"): not root: re-running with sudo" >&2
    exec sudo env "${keep[@]}" "$(readlink -f "$0")" "$@"
  fi
  echo "$(basename "$0"): needs root (network namespaces, taps, packages) and there is no sudo: run it as root" >&2
  exit 1
}
