"""A boot storm against a ramfleet with low limits is paced, not failed
(issue 14, part 5; docs/scale.md, "Admission control").

bench/storm/run with 40 simulated PXE machines (build/ramfleet-storm, which
handles Retry-After, TFTP and DHCP retransmissions as iPXE and PXE ROMs do)
against a real `ramfleet serve` whose ramfleet.yaml allows 1 file transfer
and 6 TFTP transfers at once: the TFTP limit must really be hit (requests
dropped, the clients retransmit) and still every machine reaches `ready` on
its first boot, with no failure. Whether HTTP files are paced here depends on
how TFTP spread the machines out (often, not always: the count is printed);
tests/integration/test_boot_admission.py and tests/e2e/test_ipxe_retry.py
prove the pacing itself deterministically."""
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from netlab import RAMFLEET_BIN, SOURCE_DIR

STORM_BIN = Path(RAMFLEET_BIN).parent / "ramfleet-storm"
N = 40
LOW_LIMITS = """http:
  max_file_transfers: 1
  retry_after: 1s
tftp:
  max_transfers: 6
"""


def test_a_storm_over_low_limits_is_paced_and_every_machine_reaches_ready():
    assert os.access(STORM_BIN, os.X_OK), f"{STORM_BIN} missing: build the release preset (target ramfleet-storm)"
    out = Path(tempfile.mkdtemp(prefix="rf-storm-admission-"))
    try:
        (out / "ramfleet.yaml").write_text(LOW_LIMITS)
        env = dict(os.environ, RAMFLEET=RAMFLEET_BIN, STORM=str(STORM_BIN))
        r = subprocess.run([str(SOURCE_DIR / "bench/storm/run"), "--clients", str(N), "--images", "small",
                            "--servers", "ramfleet", "--per-mac-groups", "--spread-ms", "200", "--deadline", "240",
                            "--ramfleet-yaml", str(out / "ramfleet.yaml"), "--out", str(out / "results")],
                           env=env, capture_output=True, text=True, timeout=400)
        report = r.stdout + r.stderr
        assert r.returncode == 0, report
        d = json.loads((out / "results" / f"ramfleet-small-{N}.json").read_text())
        assert (d["clients"], d["ready"], d["failed"]) == (N, N, 0), report
        assert d["failures"] == {}, report
        log = (out / "results" / f"ramfleet-small-{N}.log").read_text()
        # The TFTP limit was met: requests dropped, and retransmitted.
        print("HTTP file replies paced:", log.count("event=http.paced"), "(logged at most once per 10 s)")
        assert re.search(r"event=tftp\.busy .*effect=dropped", log), log[-3000:]
        assert "event=tftp.transfer.end" in log
        # Dropped clients retransmitted (counted as retries by the bench).
        assert d["retries"] > 0, report
        print(report)
    finally:
        shutil.rmtree(out, ignore_errors=True)
