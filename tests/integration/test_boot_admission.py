"""Admission control and the after-storm report (issue 14, part 5), against
the real `ramfleet serve --dhcp off` on 127.0.0.1 (tests/lib/loopback_serve.py):

* saturated HTTP paces instead of failing: with http.max_file_transfers: 1,
  while one client holds the only transfer, a second GET of an asset gets 503
  with a Retry-After of 1 to 3 s (counted, in /metrics); a client that honours
  Retry-After, as iPXE does, then gets the whole file;
* the connection caps' 503 carries a Retry-After too;
* GET /api/v1/boots/stalled and `ramfleet status --not-ready` name a machine
  stuck after /ipxe (never fetched its kernel) and one whose config was
  refused, with the reason; a machine that reported ready is not listed; the
  report refuses callers without a credential (401) and is not on the boot
  listener (403).

curl's --interface picks a 127.0.0.x source: each machine has its own address,
as on a boot network (assets are attributed to a machine by address)."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from loopback_serve import LoopbackServe, fetch
from netlab import RAMFLEET_BIN

STUCK = "52:54:00:00:51:01"  # fetched its script, never its kernel
REFUSED = "52:54:00:00:51:02"  # its config does not compile
READY = "52:54:00:00:51:03"  # boots to ready
UNKNOWN = "52:54:00:00:59:09"  # in no group: sent to exit

FILES = {
    "ramfleet.yaml": "http:\n  max_file_transfers: 1\n  retry_after: 1s\n  max_connections_per_ip: 4\n"
                     "  reload_interval: 200ms\n",
    "inventory.yaml": "default: exit\n",
    "profiles/small.yaml": "kernel: vmlinuz\ninitrds: [initrd.img]\n"
                           'args: ["ramfleet.id={{machine_id}}", "ramfleet.event_credential={{event_credential}}"]\n',
    "profiles/broken.yaml": "kernel: vmlinuz\nargs: [\"ignition.config.url={{ignition_url}}\"]\n"
                            "config: {target: ignition, layers: [broken.bu]}\n",
    "configs/broken.bu": "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /etc/x\n"
                         "      contents: {inline: \"{{group.missing}}\"}\n",
    "groups/stuck.yaml": 'profile: small\nselector: {mac: "52:54:00:00:51:01"}\n',
    "groups/ready.yaml": 'profile: small\nselector: {mac: "52:54:00:00:51:03"}\n',
    "groups/broken.yaml": 'profile: broken\nselector: {mac: "52:54:00:00:51:02"}\n',
}
BIG = 64 << 20  # sparse: costs no disk


@pytest.fixture(scope="module")
def server():
    tmp = Path(tempfile.mkdtemp(prefix="rf-admission-"))
    s = LoopbackServe(tmp)
    for rel, text in FILES.items():
        (s.config / rel).parent.mkdir(parents=True, exist_ok=True)
        (s.config / rel).write_text(text)
    assets = s.config / "assets"
    assets.mkdir()
    (assets / "vmlinuz").write_bytes(os.urandom(300_000))
    (assets / "initrd.img").write_bytes(os.urandom(100_000))
    with open(assets / "big.img", "wb") as f:
        f.write(os.urandom(1 << 20))
        f.truncate(BIG)
    s.start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


class SlowReader:
    """Holds a transfer of big.img: reads a little now and then, well above
    min_send_rate, so the server keeps sending and keeps the slot."""

    def __init__(self, server):
        self.sock = socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.9", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        self.sock.sendall(b"GET /assets/big.img HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = self.sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 200"), head[:200]

    def trickle(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sock.recv(32768)
            time.sleep(0.05)

    def close(self):
        self.sock.close()


def get_raw(server, path, source):
    """One GET: (status, headers dict, body)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0)) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := c.recv(1 << 20):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    return int(lines[0].split()[1]), headers, body


def metric(server, name):
    text = server.api.fetch("/metrics").text
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def test_saturated_http_paces_with_retry_after_and_a_retrying_client_gets_the_file(server):
    paced_before = server.counters().get("http.paced.assets", 0)
    holder = SlowReader(server)
    try:
        holder.trickle(0.3)
        status, headers, body = get_raw(server, "/assets/vmlinuz", "127.0.0.21")
        assert status == 503, body[:200]
        assert 1 <= int(headers["retry-after"]) <= 3, headers
        assert b"max_file_transfers" in body
        # HEAD sends no file bytes: never paced.
        assert fetch(server.base + "/assets/vmlinuz", "-I").status == 200
        assert server.counters()["http.paced.assets"] == paced_before + 1
        assert metric(server, "ramfleet_http_file_transfers") == 1
        assert metric(server, "ramfleet_http_paced_assets_total") >= 1

        # A client that does what iPXE does with Retry-After: wait, ask
        # again. The holder lets go after 2 s.
        releaser = threading.Thread(target=lambda: (holder.trickle(2), holder.close()))
        releaser.start()
        started = time.monotonic()
        tries, got = 0, None
        while time.monotonic() - started < 30:
            tries += 1
            status, headers, body = get_raw(server, "/assets/vmlinuz", "127.0.0.21")
            if status == 200:
                got = body
                break
            assert status == 503 and 1 <= int(headers["retry-after"]) <= 3, (status, headers)
            time.sleep(int(headers["retry-after"]))
        releaser.join()
        assert got == (server.config / "assets" / "vmlinuz").read_bytes()
        assert tries >= 2, tries  # paced at least once more before the holder let go
    finally:
        holder.close()
    # Once sent, the slot is free again.
    deadline = time.monotonic() + 5
    while metric(server, "ramfleet_http_file_transfers") != 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert metric(server, "ramfleet_http_file_transfers") == 0


def test_connection_cap_503_carries_retry_after(server):
    held = [socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.40", 0)) for _ in range(4)]
    try:
        time.sleep(0.2)
        status, headers, _ = get_raw(server, "/boot.ipxe", "127.0.0.40")
        assert status == 503 and 1 <= int(headers["retry-after"]) <= 3, headers
    finally:
        for c in held:
            c.close()


def ipxe(server, mac, source):
    r = fetch(server.base + f"/ipxe?mac={mac}", "--interface", source)
    assert r.status == 200, r.text
    return r.text


def test_report_names_machines_that_did_not_reach_ready_and_why(server):
    # STUCK: its script, then nothing.
    script = ipxe(server, STUCK, "127.0.0.51")
    assert "kernel " in script and "rf_boot_give_up" in script
    # REFUSED: script, kernel, then its config refused (it does not compile).
    script = ipxe(server, REFUSED, "127.0.0.52")
    assert fetch(server.base + "/assets/vmlinuz", "--interface", "127.0.0.52").status == 200
    url = re.search(r"ignition\.config\.url=(\S+)", script).group(1)
    assert fetch(url, "--interface", "127.0.0.52").status == 500
    # READY: the whole way, reported by the node with its own credential.
    script = ipxe(server, READY, "127.0.0.53")
    credential = re.search(r"ramfleet\.event_credential=(\S+)", script).group(1)
    for name in ("vmlinuz", "initrd.img"):
        assert fetch(server.base + f"/assets/{name}", "--interface", "127.0.0.53").status == 200
    for phase in ("booted", "ready"):
        r = fetch(server.base + f"/api/v1/machines/{READY}/events", "--interface", "127.0.0.53", "-X", "POST",
                  "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {credential}",
                  "--data-binary", json.dumps({"phase": phase}))
        assert r.status == 201, r.text
    # UNKNOWN: no group, sent to exit.
    assert "exit" in ipxe(server, UNKNOWN, "127.0.0.54")

    report = server.api.json("/api/v1/boots/stalled?since=10m")
    by_id = {m["id"]: m for m in report["machines"]}
    assert READY not in by_id, by_id
    assert by_id[STUCK]["last_step"] == "script"
    assert by_id[STUCK]["reason"] == "got its iPXE script (profile small); never asked for its kernel"
    assert by_id[STUCK]["address"] == "127.0.0.51"
    refused = by_id[REFUSED]
    assert refused["last_step"] == "config_refused", refused
    assert refused["reason"].startswith("its config was refused: compile_failed: "), refused
    assert "template variable 'group.missing'" in refused["reason"], refused
    assert by_id[UNKNOWN]["last_step"] == "script_refused"
    assert "sent to exit" in by_id[UNKNOWN]["reason"]
    for m in report["machines"]:
        assert m["boot_started_ms"] <= m["last_step_at_ms"] <= report["now_ms"]
    assert report["count"] == len(report["machines"])

    # idle: machines that moved in the last minute are left out.
    assert server.api.json("/api/v1/boots/stalled?idle=1m")["machines"] == []
    assert server.api.fetch("/api/v1/boots/stalled?since=soon").status == 400
    assert server.api.fetch("/api/v1/boots/stalled?frobnicate=1").status == 400

    # The same through `ramfleet status --not-ready`.
    r = subprocess.run([RAMFLEET_BIN, "status", "--state", str(server.state), "--server", server.api.url,
                        "--not-ready", "--since", "10m"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["MACHINE", "ADDRESS", "LAST-STEP", "FOR", "REASON"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert READY not in rows
    assert "script" in rows[STUCK].split() and "never asked for its kernel" in rows[STUCK]
    assert "config_refused" in rows[REFUSED].split() and "compile_failed" in rows[REFUSED]
    r = subprocess.run([RAMFLEET_BIN, "status", "--state", str(server.state), "--server", server.api.url,
                        "--not-ready", "-o", "json"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert {m["id"] for m in json.loads(r.stdout)["machines"]} >= {STUCK, REFUSED}
    r = subprocess.run([RAMFLEET_BIN, "status", "--state", str(server.state), "--server", server.api.url,
                        "--not-ready", "--since", "ten minutes"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--since" in r.stderr, r.stderr


def test_report_is_for_operators_only(server):
    r = server.api.fetch("/api/v1/boots/stalled", token=None)
    assert r.status == 401, r.text
    r = server.api.fetch("/api/v1/boots/stalled", token="not-a-token")
    assert r.status == 401, r.text
    # Not on the boot listener, where anyone on the boot network is.
    r = fetch(server.base + "/api/v1/boots/stalled")
    assert r.status == 403, r.text
