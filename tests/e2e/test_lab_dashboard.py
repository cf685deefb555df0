"""The dashboard in a real browser during a real `lab up` (docs/operations.md,
"Dashboard"): Debian's headless Chromium, driven by playwright-core
(tests/ui/lab_dashboard.mjs), inside the lab's namespace, against the
operator listener of the lab's own `ramfleet serve`.

One lab of 2 BIOS nodes for every check: the page loads from ramfleet, the
token is typed in (keyboard only), both machines appear and move through
their phases to ready without a reload, a machine's boot waterfall renders,
approving a discovered machine from the UI writes its file, and the leases
and health views load. Screenshots are kept under build/test-artifacts/
(the path is printed).
"""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path


from labctl import CACHE, lab, lab_dir, state  # noqa: F401 (lab_dir: fixture)
from netlab import RAMFLEET_BIN

SOURCE = Path(os.environ.get("RAMFLEET_SOURCE_DIR", Path(__file__).resolve().parents[2]))
UI_TESTS = SOURCE / "tests" / "ui"
ARTIFACTS = Path(os.environ.get("RAMFLEET_TEST_ARTIFACTS", SOURCE / "build" / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DISCOVERED = "52:54:00:dd:00:01"  # asks for a script, matches no group: a discovered machine


def browser_missing():
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (scripts/install-deps)"
    if not (UI_TESTS / "node_modules" / "playwright-core").exists():
        return "playwright-core is not installed (scripts/install-deps runs npm ci in tests/ui)"
    if not shutil.which("node"):
        return "node is not installed"
    return None


def test_dashboard_follows_a_lab_boot_live_and_approves_a_discovered_machine(lab_dir):
    # A missing browser is a failure, never a skip counted as a pass.
    assert browser_missing() is None, browser_missing()
    out = ARTIFACTS / "dashboard"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    # `lab up` runs in the background: the page must be open while the nodes boot.
    up = subprocess.Popen([RAMFLEET_BIN, "lab", "up", "--dir", str(lab_dir), "--cache", CACHE, "--timeout", "420",
                           "--nodes", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        st = wait_for_serve(lab_dir, up)
        # serve writes where its operator listener is, and the local admin's
        # token, into its state directory (docs/operations.md).
        api_dir = lab_dir / "state" / "api"
        token_file = api_dir / "admin.token"
        wait_until(lambda: token_file.exists() and (api_dir / "url").exists(), 60,
                   "serve never wrote its operator URL and admin token")
        url = (api_dir / "url").read_text().strip() + "/ui/"
        macs = [n["mac"] for n in st["nodes"]]

        # A discovered machine: it asks for its script and matches no group.
        boot_listener = f"http://{st['server_ip']}:{st['http_port']}"
        r = subprocess.run(["ip", "netns", "exec", st["namespace"], "curl", "-sf", "--max-time", "5", "-o",
                            "/dev/null", f"{boot_listener}/ipxe?mac={DISCOVERED}"], capture_output=True, timeout=20)
        assert r.returncode == 0, r.stderr

        started = time.monotonic()
        drive = subprocess.run(
            ["ip", "netns", "exec", st["namespace"], "node", str(UI_TESTS / "lab_dashboard.mjs"), "--url", url,
             "--token-file", str(token_file), "--macs", ",".join(macs), "--discovered", DISCOVERED,
             "--approve-name", "approved1", "--approve-group", st["nodes"][0]["name"],
             "--approve-expect", str(lab_dir / "config" / "machines" / "approved1.yaml"), "--out", str(out), "--timeout-s", "480"],
            capture_output=True, text=True, timeout=600, env={**os.environ, "CHROMIUM": CHROMIUM})
        print(drive.stdout, drive.stderr[-4000:])
        print(f"dashboard screenshots: {out}")
        steps = {}
        for line in drive.stdout.splitlines():
            if line.startswith("{"):
                s = json.loads(line)
                steps[s["step"]] = s
        assert "error" not in steps, steps["error"]["error"]
        assert drive.returncode == 0, drive.stderr[-4000:]

        # Both machines appeared and moved through their phases in the open
        # page: more than one phase seen, in order, ending in ready.
        order = ["booting", "booted", "configured", "ready"]
        for mac in macs:
            seen = steps["phases"]["seen"][mac]
            assert seen[-1] == "ready", seen
            assert len(seen) >= 2, f"{mac} was already ready when first shown: {seen}"
            assert [order.index(p) for p in seen] == sorted(order.index(p) for p in seen), seen
        assert steps["phases"]["no_reload"] is True

        wf = steps["waterfall"]
        assert wf["machine"] in macs
        assert [b["phase"] for b in wf["bars"]] == ["booted", "configured", "ready"], wf
        assert all(b["width"] > 0 for b in wf["bars"]), wf
        # Phases follow each other on the time axis.
        assert wf["bars"][0]["x"] <= wf["bars"][1]["x"] <= wf["bars"][2]["x"], wf
        assert wf["history_rows"] >= 3

        assert "escape_back" in steps
        assert steps["approve"]["status"].startswith("Approved"), steps["approve"]
        assert steps["approve"]["written"] is True, steps["approve"]
        assert steps["leases"]["errors"] == [] and steps["health"]["errors"] == []
        assert steps["done"]["console_errors"] == [], steps["done"]
        assert steps["done"]["foreign_requests"] == []  # no CDN, no network but ramfleet
        assert (out / "dashboard-machines.png").stat().st_size > 10_000
        assert (out / "dashboard-waterfall.png").exists()
        print(f"browser session took {time.monotonic() - started:.1f} s")

        up.wait(timeout=480)
        assert up.returncode == 0, up.stdout + up.stderr
        # What the Approve button wrote: a machine file for the discovered
        # machine in the group chosen (docs/inventory.md, "Machine files").
        written = (lab_dir / "config" / "machines" / "approved1.yaml").read_text()
        assert DISCOVERED in written and st["nodes"][0]["name"] in written, written
    finally:
        if up.poll() is None:
            up.terminate()
            up.wait(timeout=60)
        if (lab_dir / "lab.json").exists():
            lab("down", "--dir", str(lab_dir))


def wait_until(pred, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(what)


def wait_for_serve(lab_dir, up):
    """lab.json once the lab's serve runs (before or while its VMs start)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if up.poll() is not None:
            raise AssertionError("lab up exited early: " + up.stdout.read() + up.stderr.read())
        if (lab_dir / "lab.json").exists():
            try:
                st = state(lab_dir)
            except json.JSONDecodeError:  # being written
                st = {}
            if "serve" in st and st.get("nodes"):
                return st
        time.sleep(0.2)
    raise AssertionError("the lab's serve never started")
