"""The boot-storm bench as a smoke test: bench/storm/run with 20 simulated PXE
machines (build/ramfleet-storm) against a real `ramfleet serve` (full DHCP,
TFTP, HTTP) in namespaces it creates. Every machine must reach `ready` with
no failure, on an address of its own, through every phase of the boot path:
PXE DHCP, TFTP of undionly.kpxe (blksize 512 and 1468), iPXE DHCP,
boot.ipxe and its own /ipxe script, kernel + initrd, its config with its boot
token, and the booted/ready events with its event credential."""
import ipaddress
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from netlab import RAMFLEET_BIN, SOURCE_DIR

STORM_BIN = Path(RAMFLEET_BIN).parent / "ramfleet-storm"
PHASES = {"dhcp", "tftp", "ipxe-dhcp", "scripts", "ipxe", "kernel+initrd", "config", "events"}
N = 20


def test_twenty_machines_boot_at_once_and_all_reach_ready():
    assert os.access(STORM_BIN, os.X_OK), f"{STORM_BIN} missing: build the release preset (target ramfleet-storm)"
    out = Path(tempfile.mkdtemp(prefix="rf-storm-test-"))
    env = dict(os.environ, RAMFLEET=RAMFLEET_BIN, STORM=str(STORM_BIN))
    try:
        check_storm(out, env)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def check_storm(out, env):
    r = subprocess.run([str(SOURCE_DIR / "bench/storm/run"), "--clients", str(N), "--images", "small", "--servers",
                        "ramfleet", "--per-mac-groups", "--spread-ms", "500", "--deadline", "60", "--out", str(out)],
                       env=env, capture_output=True, text=True, timeout=150)
    report = r.stdout + r.stderr
    assert r.returncode == 0, report
    d = json.loads((out / f"ramfleet-small-{N}.json").read_text())
    assert (d["clients"], d["ready"], d["failed"]) == (N, N, 0), report
    assert d["failures"] == {}, report
    machines = d["machines"]
    assert len({m["mac"] for m in machines}) == N
    leases = [m["lease"] for m in machines]
    assert len(set(leases)) == N, leases
    pool = (ipaddress.ip_address("10.98.16.1"), ipaddress.ip_address("10.98.31.254"))
    for m in machines:
        assert m["ready"], m
        assert set(m["phases"]) == PHASES, m
        assert pool[0] <= ipaddress.ip_address(m["lease"]) <= pool[1], m
        # Full DHCP gives a machine the same address as PXE ROM and as iPXE.
        assert m["pxe_lease"] == m["lease"], m
    for phase in PHASES:
        assert d["phases"][phase]["n"] == N, (phase, report)
    # The server side: every machine's ready event was stored (ramfleet logs each).
    log = (out / f"ramfleet-small-{N}.log").read_text()
    assert log.count("phase=ready") >= N or log.count('"phase":"ready"') >= N, log[-3000:]
    assert "server CPU" in report and "peak RSS" in report
