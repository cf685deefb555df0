#!/usr/bin/env bash
# Captures the DHCP packets real PXE firmware sends, for the codec fixtures.
# No DHCP server runs: the firmware keeps DISCOVERing, we record what it sends.
# Usage (root): capture.sh OUT_DIR [seconds]
#   bios-ipxe.pcap : SeaBIOS + the NIC's iPXE ROM (ipxe-qemu), arch 0, user class iPXE
#   uefi-pxe.pcap  : OVMF's own PXE (NIC with romfile=), arch 7, PXEClient
#   uefi-ipxe.pcap : OVMF + the NIC's iPXE EFI ROM
set -euo pipefail
out=${1:?out dir}; secs=${2:-25}
mkdir -p "$out"
ns=rfcap$$
cleanup() {
  for p in ${pids:-}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -f "$out/vars.fd"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge
ip -n "$ns" addr add 10.77.0.1/24 dev br0
ip -n "$ns" link set br0 up

run() {  # name, qemu firmware/nic args...
  local name=$1; shift
  ip -n "$ns" tuntap add dev tap0 mode tap
  ip -n "$ns" link set tap0 master br0 up
  ip netns exec "$ns" tcpdump -i br0 -U -w "$out/$name.pcap" 'udp port 67 or udp port 68 or udp port 4011' 2>/dev/null &
  local td=$!
  pids="$td"
  sleep 1
  timeout "$secs" ip netns exec "$ns" qemu-system-x86_64 -machine q35 -m 256 -display none -serial none \
    -monitor none -no-reboot -accel tcg -boot n \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no "$@" >/dev/null 2>&1 || true
  sleep 1
  kill "$td"; wait "$td" 2>/dev/null || true
  pids=""
  ip -n "$ns" link del tap0
}

run bios-ipxe -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,bootindex=1
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$out/vars.fd"
run uefi-pxe -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,unit=1,file="$out/vars.fd" \
  -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02,bootindex=1,romfile=
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$out/vars.fd"
run uefi-ipxe -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,unit=1,file="$out/vars.fd" \
  -device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:03,bootindex=1
