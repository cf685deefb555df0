"""Boots diskless QEMU machines from ramfleet and shows how far each got.

Phases, read from ramfleet's own log as they happen:
  dhcp   the firmware got an address and a boot file from ramfleet
  tftp   (UEFI) the firmware fetched iPXE over TFTP
  ipxe   iPXE asked ramfleet's DHCP again and was sent to HTTP
  http   iPXE fetched /boot.ipxe from ramfleet
"""
import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lib"))
from vmlab import VmLab  # noqa: E402

PHASES = ["dhcp", "tftp", "ipxe", "http"]


def phases_for(log, mac, ip):
    seen = {}
    for line in log.splitlines():
        if f"mac={mac}" in line and "event=dhcp.lease" in line:
            seen.setdefault("dhcp", line[:23])
        if f"mac={mac}" in line and "event=dhcp.boot" in line and "decision=ipxe" in line:
            seen.setdefault("ipxe", line[:23])
        if ip and f"client={ip}" in line and "event=tftp.done" in line:
            seen.setdefault("tftp", line[:23])
        if ip and re.search(rf"event=http\.\S+.*(client|remote)={re.escape(ip)}.*boot\.ipxe", line):
            seen.setdefault("http", line[:23])
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--firmware", choices=["bios", "uefi"], default="bios")
    ap.add_argument("--timeout", type=int, default=180)
    ap.add_argument("--keep-logs", help="copy ramfleet and serial logs here")
    args = ap.parse_args()

    with VmLab() as lab:
        rf = lab.start_ramfleet("--interface", lab.BRIDGE, "--dhcp", "full", "--pool", "10.77.0.100-10.77.0.199")
        print(f"ramfleet serving on {lab.BRIDGE} {lab.SERVER_IP} in namespace {lab.ns}")
        vms = [lab.boot(args.firmware) for _ in range(args.nodes)]
        start = time.monotonic()
        wanted = [p for p in PHASES if args.firmware == "uefi" or p != "tftp"]
        done = False
        last = ""
        while time.monotonic() - start < args.timeout:
            log = rf.log()
            rows = []
            done = True
            for vm in vms:
                m = re.search(rf"event=dhcp.lease mac={vm.mac} address=(\S+)", log)
                ip = m.group(1) if m else None
                seen = phases_for(log, vm.mac, ip)
                done = done and all(p in seen for p in wanted)
                marks = " ".join(f"{p}:{'ok' if p in seen else '..'}" for p in wanted)
                rows.append(f"  vm{vm.index} {vm.mac} {ip or '-':15} {marks}")
            table = "\n".join(rows)
            if table != last:
                print(f"[{time.monotonic() - start:5.1f}s]\n{table}", flush=True)
                last = table
            if done:
                break
            time.sleep(0.5)
        if args.keep_logs:
            import shutil
            shutil.copytree(lab.tmp, args.keep_logs, dirs_exist_ok=True)
        if not done:
            print(f"not every machine reached iPXE within {args.timeout}s; logs: {lab.tmp}", file=sys.stderr)
            return 1
        print(f"all {args.nodes} machine(s) reached iPXE's boot script in {time.monotonic() - start:.1f}s")
        return 0


if __name__ == "__main__":
    sys.exit(main())
