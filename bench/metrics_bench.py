#!/usr/bin/env python3
"""GET /metrics with 10,000 machines in the store: scrape time and size.

Starts `ramfleet serve --dhcp off` on 127.0.0.1 (boot listener and operator
listener), makes N machines known the way machines become known (each asks
/ipxe, with 20 profiles among them) and reports `ready` with the event
credential its script carried (so the boot-phase histograms hold a series
per profile and phase), waits for the store's flush, then scrapes /metrics
over HTTPS with the admin token, keep-alive, and prints the median and p99
scrape time and the size. Loopback only; serve is stopped by its PID.

  bench/metrics_bench.py [ramfleet] [--machines 10000] [--scrapes 200]
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROFILES = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(root):
    for d in ("profiles", "groups"):
        (root / d).mkdir(parents=True)
    for i in range(PROFILES):
        (root / "profiles" / f"p{i:02d}.yaml").write_text(
            'kernel: vmlinuz\nargs: ["ramfleet.event_credential={{event_credential}}"]\n')
        (root / "groups" / f"g{i:02d}.yaml").write_text(
            f'profile: p{i:02d}\nselector: {{mac: "52:54:{i:02x}:*"}}\n')
    (root / "inventory.yaml").write_text("default: exit\n")
    # Every machine asks from 127.0.0.1 here: lift the per-address minting limit.
    (root / "ramfleet.yaml").write_text("http:\n  boot_token_rate_per_min: 100000000\n  boot_token_burst: 100000000\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ramfleet", nargs="?", default=str(Path(__file__).resolve().parents[1] / "build" / "ramfleet"))
    ap.add_argument("--machines", type=int, default=10_000)
    ap.add_argument("--scrapes", type=int, default=200)
    a = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rf-metrics-bench-"))
    config, state = tmp / "config", tmp / "state"
    write_config(config)
    http_port, api_port = free_port(), free_port()
    log = open(tmp / "serve.log", "w")
    proc = subprocess.Popen([a.ramfleet, "serve", "--dhcp", "off", "--listen", "127.0.0.1", "--http-port",
                             str(http_port), "--tftp-port", "-1", "--no-router-advertisements", "--config",
                             str(config), "--state", str(state), "--api-listen", f"127.0.0.1:{api_port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while not (state / "api" / "admin.token").exists() or not (state / "api" / "ca.crt").exists():
            assert proc.poll() is None and time.time() < deadline, (tmp / "serve.log").read_text()
            time.sleep(0.1)
        time.sleep(0.5)
        boot = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        started = time.monotonic()
        for n in range(a.machines):
            mac = f"52:54:{n % PROFILES:02x}:{(n >> 16) & 255:02x}:{(n >> 8) & 255:02x}:{n & 255:02x}"
            boot.request("GET", f"/ipxe?mac={mac}")
            r = boot.getresponse()
            body = r.read().decode()
            assert r.status == 200, (r.status, body)
            credential = re.search(r"ramfleet\.event_credential=(\S+)", body).group(1)
            boot.request("POST", f"/api/v1/machines/{mac}/events", body=json.dumps({"phase": "ready"}),
                         headers={"Authorization": f"Bearer {credential}", "Content-Type": "application/json"})
            r = boot.getresponse()
            r.read()
            assert r.status == 201, r.status
        print(f"{a.machines} machines booted to ready through /ipxe and events in {time.monotonic() - started:.1f} s")
        time.sleep(1.5)  # the store's flush (every 500 ms)

        token = (state / "api" / "admin.token").read_text().strip()
        ctx = ssl.create_default_context(cafile=str(state / "api" / "ca.crt"))
        api = http.client.HTTPSConnection("127.0.0.1", api_port, context=ctx, timeout=10)
        times, size, text = [], 0, ""
        for _ in range(a.scrapes):
            t0 = time.perf_counter()
            api.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
            r = api.getresponse()
            text = r.read().decode()
            times.append(time.perf_counter() - t0)
            assert r.status == 200, r.status
            size = len(text)
        known = re.search(r"^ramfleet_machines_known (\S+)$", text, re.M).group(1)
        ready = sum(float(v) for v in re.findall(r"^ramfleet_boot_seconds_count\{[^}]*\} (\S+)$", text, re.M))
        series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        # The server's own time for the last scrape's route, from its histogram.
        served = re.search(r'^ramfleet_http_request_seconds_sum\{route="metrics"\} (\S+)$', text, re.M)
        count = re.search(r'^ramfleet_http_request_seconds_count\{route="metrics"\} (\S+)$', text, re.M)
        times.sort()
        print(f"machines_known={known} boots_ready={ready:.0f} samples={series} bytes={size}")
        print(f"scrape over HTTPS keep-alive ({a.scrapes}x): median {statistics.median(times) * 1000:.2f} ms, "
              f"p99 {times[int(len(times) * 0.99) - 1] * 1000:.2f} ms")
        if served and count and float(count.group(1)) > 0:
            print(f"server side (ramfleet_http_request_seconds{{route=\"metrics\"}}): mean "
                  f"{float(served.group(1)) / float(count.group(1)) * 1000:.2f} ms")
        if os.environ.get("RF_BENCH_KEEP"):
            (Path(os.environ["RF_BENCH_KEEP"])).write_text(text)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        subprocess.run(["rm", "-rf", str(tmp)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
