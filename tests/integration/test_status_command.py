"""`ramfleet status` against a real `ramfleet serve` on 127.0.0.1: a couple
of machines boot (/ipxe), then the real CLI reads the operator API (its
default endpoint from the state directory: admin token, CA, URL) and prints
the table, -o wide, -o json (parsed with json) and -o yaml (parsed with
PyYAML); --watch redraws and exits 0 on SIGINT; bad flags are refused."""
import json
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import yaml

from loopback_serve import LoopbackServe
from netlab import RAMFLEET_BIN

MACHINES = {
    "52:54:00:00:20:01": "hostname=node1&uuid=11111111-2222-3333-4444-555555555501&arch=x86_64&rack=r1",
    "52:54:00:00:20:02": "hostname=node2&arch=arm64",
    "52:54:00:00:20:09": "",  # no group matches: told to exit
}


@pytest.fixture(scope="module")
def server():
    tmp = tempfile.mkdtemp(prefix="rf-status-")
    s = LoopbackServe(tmp)
    (s.config / "profiles").mkdir()
    (s.config / "groups").mkdir()
    (s.config / "profiles" / "flatcar.yaml").write_text("kernel: vmlinuz\ninitrds: [initrd.img]\n")
    (s.config / "groups" / "rack.yaml").write_text('profile: flatcar\nselector:\n  hostname: "node*"\n')
    (s.config / "inventory.yaml").write_text("default: exit\n")
    s.start()
    for mac, facts in MACHINES.items():
        assert s.fetch(f"/ipxe?mac={mac}&{facts}").status == 200
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def status(server, *args, check=True):
    r = subprocess.run([RAMFLEET_BIN, "status", "--state", str(server.state), "--server", server.api.url, *args],
                       capture_output=True, text=True, timeout=30)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_table_like_kubectl_get_nodes(server):
    lines = status(server).stdout.splitlines()
    assert lines[0].split() == ["NAME", "MAC", "IP", "GROUP", "PROFILE", "PHASE", "AGE"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["node1"][1:6] == ["52:54:00:00:20:01", "<none>", "rack", "flatcar", "booting"]
    assert rows["node2"][3] == "rack"
    assert rows["52:54:00:00:20:09"][3:6] == ["<none>", "<none>", "unmatched"]
    assert all(r[6].endswith("s") for r in rows.values())  # seconds old
    # Columns line up: every cell of a column starts at the header's offset.
    at = lines[0].index("PHASE")
    assert all(line[at - 1] == " " and line[at] != " " for line in lines)


def test_wide_adds_uuid_arch_last_boot_labels(server):
    lines = status(server, "-o", "wide").stdout.splitlines()
    assert lines[0].split() == ["NAME", "MAC", "IP", "GROUP", "PROFILE", "PHASE", "AGE", "UUID", "ARCH", "LAST-BOOT",
                                "LABELS"]
    node1 = next(line.split() for line in lines if line.startswith("node1 "))
    assert node1[7:9] == ["11111111-2222-3333-4444-555555555501", "x86_64"]
    assert node1[10] == "rack=r1"


def test_json(server):
    doc = json.loads(status(server, "-o", "json").stdout)
    by_name = {m["name"]: m for m in doc["machines"]}
    assert set(by_name) == {"node1", "node2", "52:54:00:00:20:09"}
    assert by_name["node1"]["group"] == "rack" and by_name["node1"]["boots"] == 1
    assert by_name["node2"]["arch"] == "arm64"
    assert by_name["52:54:00:00:20:09"]["group"] is None
    assert by_name["52:54:00:00:20:09"]["phase"] == "unmatched"


def test_yaml(server):
    doc = yaml.safe_load(status(server, "-o", "yaml").stdout)
    by_name = {m["name"]: m for m in doc["machines"]}
    assert by_name["node1"]["profile"] == "flatcar"
    assert by_name["node1"]["labels"] == {"rack": "r1"}
    assert by_name["node1"]["mac"] == "52:54:00:00:20:01"
    assert by_name["52:54:00:00:20:09"]["profile"] is None


def test_watch_redraws_and_exits_0_on_sigint(server):
    proc = subprocess.Popen([RAMFLEET_BIN, "status", "--state", str(server.state), "--server", server.api.url,
                             "--watch", "--interval", "1", "-o", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert server.fetch("/ipxe?mac=52:54:00:00:20:03&hostname=node3").status == 200  # a change: a new copy
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    copies = [json.loads(c) for c in out.strip().split("\n\n")]
    assert len(copies) >= 2
    assert "node3" not in {m["name"] for m in copies[0]["machines"]}
    assert "node3" in {m["name"] for m in copies[-1]["machines"]}


def test_bad_flags_and_no_credential_are_refused(server, tmp_path):
    r = status(server, "-o", "xml", check=False)
    assert r.returncode == 2 and "-o must be" in r.stderr
    r = status(server, "--watch", "--interval", "0", check=False)
    assert r.returncode == 2 and "--interval" in r.stderr
    # A state directory without serve's token: a clear error, not a stack trace.
    r = subprocess.run([RAMFLEET_BIN, "status", "--state", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "admin.token" in r.stderr, r.stderr
    # A wrong token is refused by the server (401), and said so.
    bad = tmp_path / "bad.token"
    bad.write_text("not-a-token\n")
    r = status(server, "--token-file", str(bad), check=False)
    assert r.returncode == 1 and "401" in r.stderr, r.stderr
