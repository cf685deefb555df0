#!/usr/bin/env python3
"""Where a lab boot spends its time: per-phase timeline of `lab_boot_bench.py --capture` runs.

For every node boot in the given run directories (default: all r*-* directories
under LOGS), from the bridge capture (br0.pcap, read with tshark) and the
timestamped serial console, in seconds since that node's QEMU started:

  discover   firmware's first DHCPDISCOVER          ack      first DHCPACK to it
  get_kernel iPXE's GET of the kernel               fetched  its connection closed after the image
  kstart     kernel start (console time of init's stage-2 line minus the kernel's uptime in it)
  ready      init printed "reported ready"

and the durations between them; then the median of each per side (ramfleet,
reference), so a difference shows up in the phase that causes it.

  bench/lab_boot_timeline.py /tmp/ramfleet-lab-bench-XXXX [RUN_DIR ...]
"""
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

FIELDS = ["frame.time_epoch", "eth.src", "eth.dst", "dhcp.option.dhcp", "http.request.uri", "tcp.flags.fin",
          "tcp.srcport"]
FILTER = "dhcp or http.request or (tcp.flags.fin==1 and tcp.srcport!=80)"


def packets(pcap):
    cmd = ["tshark", "-r", str(pcap), "-T", "fields", *sum((["-e", f] for f in FIELDS), []), "-Y", FILTER]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [dict(zip(FIELDS, line.split("\t"))) for line in out.splitlines()]


def first(times):
    return min(times) if times else None


def boot_rows(run):
    starts = json.loads((run / "starts.json").read_text())
    pkts = packets(run / "br0.pcap")
    for mac, t0 in starts.items():
        name = f"node{int(mac.split(':')[-1], 16)}"
        at = lambda p: float(p["frame.time_epoch"]) - t0  # noqa: E731
        mine = [p for p in pkts if p["eth.src"] == mac]
        row = {"discover": first([at(p) for p in mine if p["dhcp.option.dhcp"] == "1"]),
               "ack": first([at(p) for p in pkts if p["eth.dst"] == mac and p["dhcp.option.dhcp"] == "5"]),
               "get_kernel": first([at(p) for p in mine if "vmlinuz" in p["http.request.uri"]])}
        image = first([at(p) for p in mine if "rootfs" in p["http.request.uri"]])
        row["fetched"] = first([at(p) for p in mine if p["tcp.flags.fin"] in ("1", "True") and image is not None
                                and at(p) > image])
        for line in (run / f"{name}-serial.log").read_text(errors="replace").splitlines():
            m = re.match(r"\s*([\d.]+) ramfleet-init: stage 2 on tmpfs root, uptime ([\d.]+)s", line)
            if m:
                row["kstart"] = float(m.group(1)) - float(m.group(2))
            m = re.match(r"\s*([\d.]+) ramfleet-init: reported ready", line)
            if m:
                row["ready"] = float(m.group(1))
        if None in row.values() or len(row) < 6:
            print(f"{run.name} {name}: incomplete ({row})", file=sys.stderr)
            continue
        row.update({"dhcp": row["ack"] - row["discover"], "ack->get": row["get_kernel"] - row["ack"],
                    "transfer": row["fetched"] - row["get_kernel"], "fetched->kernel": row["kstart"] - row["fetched"],
                    "kernel->ready": row["ready"] - row["kstart"]})
        yield name, row


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = []
    for arg in map(Path, sys.argv[1:]):
        runs += sorted(d for d in arg.glob("r*-*") if d.is_dir()) if not (arg / "starts.json").exists() else [arg]
    by_side = {}
    for run in runs:
        if not (run / "br0.pcap").exists():
            continue
        side = "ramfleet" if run.name.endswith("ramfleet") else "reference"
        for name, row in boot_rows(run):
            by_side.setdefault(side, []).append(row)
            print(f"{run.name:16s} {name} " + " ".join(f"{k}={v:.2f}" for k, v in row.items()))
    if not by_side:
        sys.exit("no captured runs (run lab_boot_bench.py with --capture)")
    sides = sorted(by_side)
    print(f"\nmedians, s ({', '.join(f'{s}: {len(by_side[s])} boots' for s in sides)})")
    for key in by_side[sides[0]][0]:
        print(f"  {key:16s}" + "".join(f"{s:>11s} {statistics.median(r[key] for r in by_side[s]):6.3f}"
                                        for s in sides))


if __name__ == "__main__":
    main()
