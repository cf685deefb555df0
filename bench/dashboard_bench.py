#!/usr/bin/python3
"""Dashboard first render with 10,000 machines in Chromium (bench/README.md).

Starts `ramfleet serve` on loopback (no DHCP/TFTP), makes 10,000 machines
ask for their script (each one a record in the store), then loads /ui/ from
the operator listener in Debian's headless Chromium (bench/dashboard_bench.mjs,
playwright-core from tests/ui/) RUNS times, each in a fresh browser, and
prints the median of each figure:

  login_shown_ms  navigation until the token form is shown
  first_rows_ms   token submitted until the first table rows are on screen
  all_rows_ms     token submitted until all 10,000 are loaded (10 pages of 1000)
  dom_rows        table rows in the DOM with 10,000 machines (virtual scrolling)
  end_key_ms      End pressed in the table until the last row is shown
  filter_ms       a filter typed until the filtered view is shown
  sort_ms         a column header clicked until the sorted view is shown

Usage: bench/dashboard_bench.py [ramfleet binary] (env RUNS=5, MACHINES=10000)
Loopback only; the server is stopped by its PID at the end.
"""
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "build" / "ramfleet")
RUNS = int(os.environ.get("RUNS", "5"))
MACHINES = int(os.environ.get("MACHINES", "10000"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "config").mkdir()
        (tmp / "config" / "inventory.yaml").write_text("default: exit\n")
        port, api_port = free_port(), free_port()
        log = open(tmp / "serve.log", "w")
        serve = subprocess.Popen([BIN, "serve", "--dhcp", "off", "--listen", "127.0.0.1", "--http-port", str(port),
                                  "--tftp-port", "-1", "--no-router-advertisements", "--api-listen",
                                  f"127.0.0.1:{api_port}", "--config", str(tmp / "config"), "--state",
                                  str(tmp / "state")], stdout=log, stderr=subprocess.STDOUT)
        try:
            token = tmp / "state" / "api" / "admin.token"
            deadline = time.time() + 20
            while not token.exists() and time.time() < deadline:
                time.sleep(0.1)
            assert token.exists(), (tmp / "serve.log").read_text()
            started = time.time()
            urls = [f"http://127.0.0.1:{port}/ipxe?mac=52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
                    for i in range(MACHINES)]
            for chunk in range(0, len(urls), 500):
                # -o applies to the first URL only: the rest go to stdout, discarded.
                subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "60", *urls[chunk:chunk + 500]],
                               check=True, timeout=120, stdout=subprocess.DEVNULL)
            print(f"{MACHINES} machines booted once in {time.time() - started:.1f} s", file=sys.stderr)
            time.sleep(1.5)  # the store's next flush
            results = []
            for run in range(RUNS):
                out = subprocess.run(["node", str(ROOT / "bench" / "dashboard_bench.mjs"),
                                      f"https://127.0.0.1:{api_port}/ui/", str(token), str(MACHINES)],
                                     capture_output=True, text=True, timeout=300)
                if out.returncode != 0:
                    raise SystemExit(out.stdout + out.stderr)
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(f"run {run + 1}: {results[-1]}", file=sys.stderr)
            keys = results[0].keys()
            print(f"dashboard with {MACHINES} machines, {RUNS} runs, median (min-max):")
            for k in keys:
                vals = [r[k] for r in results]
                print(f"  {k:15} {statistics.median(vals):8.0f}   ({min(vals)}-{max(vals)})")
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=10)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
            log.close()


if __name__ == "__main__":
    main()
