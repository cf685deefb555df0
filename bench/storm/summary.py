#!/usr/bin/env python3
"""Markdown tables of a bench/storm/run results directory: one row per storm
(server, image, N) and the ratio ramfleet / reference of time-to-all-ready."""
import json
import sys
from pathlib import Path

PHASES = ["dhcp", "tftp", "ipxe-dhcp", "scripts", "ipxe", "kernel+initrd", "config", "events"]
IMAGES = {"small": 0, "debian": 1}


def main(out):
    rows = {}
    for p in sorted(Path(out).glob("*.json")):
        server, image, n = p.stem.rsplit("-", 2)
        rows[(server, image, int(n))] = json.loads(p.read_text())
    if not rows:
        print("no results")
        return
    print("| image | N | server | all ready (s) | ready | failed | retries | CPU (s) | peak RSS (MiB) | "
          + " | ".join(f"{ph} p50/p99 ms" for ph in PHASES) + " |")
    print("|" + "---|" * (9 + len(PHASES)))
    for (server, image, n), d in sorted(rows.items(), key=lambda kv: (IMAGES.get(kv[0][1], 9), kv[0][2], kv[0][0])):
        ph = d["phases"]
        cells = [f"{ph[x]['p50_ms']:.0f} / {ph[x]['p99_ms']:.0f}" if ph[x]["n"] else "-" for x in PHASES]
        print(f"| {image} | {n} | {server} | {d['all_ready_s']:.1f} | {d['ready']} | {d['failed']} | {d['retries']} | "
              f"{d.get('server_cpu_s', 0):.1f} | {d.get('server_peak_rss_mib', 0):.1f} | " + " | ".join(cells) + " |")
    print()
    for (server, image, n), d in sorted(rows.items()):
        ref = rows.get(("reference", image, n))
        if server != "ramfleet" or not ref:
            continue
        note = "" if d["failed"] == 0 and ref["failed"] == 0 else " (failures: the time is not comparable)"
        ratio = d["all_ready_s"] / ref["all_ready_s"] if ref["all_ready_s"] else float("nan")
        print(f"- {image}, N = {n}: ramfleet / reference time to all ready = "
              f"{d['all_ready_s']:.1f} / {ref['all_ready_s']:.1f} s = {ratio:.2f}{note}")
    for (server, image, n), d in sorted(rows.items()):
        for why, count in d.get("failures", {}).items():
            print(f"- {server} {image} N={n}: {count} failed: {why}")


if __name__ == "__main__":
    main(sys.argv[1])
