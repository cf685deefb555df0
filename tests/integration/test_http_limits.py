"""Limits that keep one client from holding the HTTP service, checked against
the real `ramfleet serve` on loopback (tests/lib/loopback_serve.py):

* slowloris: connections dribbling a request one byte every 0.5 s are closed
  at the request deadline (http.request_timeout from the first byte), and a new
  client is served once they are gone;
* minimum send rate: a client that stops reading a big asset is closed within
  two send windows; one reading slowly but steadily gets the whole file;
* per-IP cap: over max_connections_per_ip a client gets 503, while a second
  address (127.0.0.2) is still served;
* overlapping ranges: 32 x "0-" sends the file once, not 32 times;
* the limits are read from ramfleet.yaml's http: section; the older http.yaml
  still works, and each of its keys gets a warning naming its new place.
"""
import os
import select
import socket
import subprocess
import tempfile
import time

import pytest

from loopback_serve import LoopbackServe
from netlab import RAMFLEET_BIN


@pytest.fixture
def serve_with():
    started = []

    def start(http_section, assets=None, legacy_http_yaml=None):
        """http_section: the lines of ramfleet.yaml's http: mapping."""
        tmp = tempfile.mkdtemp(prefix="rf-http-limits-")
        s = LoopbackServe(tmp)
        indented = "".join("  " + line + "\n" for line in http_section.splitlines())
        (s.config / "ramfleet.yaml").write_text("http:\n" + indented)
        if legacy_http_yaml is not None:
            (s.config / "http.yaml").write_text(legacy_http_yaml)
        (s.config / "assets").mkdir()
        for name, size in (assets or {}).items():
            with open(s.config / "assets" / name, "wb") as f:
                f.write(os.urandom(min(size, 1 << 20)))
                f.truncate(size)  # the rest sparse: big files cost no disk
        started.append(s)
        return s.start()

    yield start
    for s in started:
        s.stop()


def http_get(port, path, source="127.0.0.1", timeout=5):
    """One GET over a fresh connection from `source`: (status, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := c.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_slowloris_is_closed_at_the_request_deadline(serve_with):
    s = serve_with("request_timeout: 2s\nmax_connections: 8\nreload_interval: 200ms\n")
    dribblers = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(8)]
    for d in dribblers:
        d.setblocking(False)
    # A header that never ends: one byte every 0.5 s, as the attack did.
    pattern = b"GET /healthz HTTP/1.1\r\nX-Pad: " + b"a" * 4000
    t0 = time.monotonic()
    closed_at = {}
    got_408 = set()
    sent = 0
    served_at = None
    next_probe = t0 + 0.5
    while time.monotonic() - t0 < 12 and (len(closed_at) < 8 or served_at is None):
        for i, d in enumerate(dribblers):
            if i in closed_at:
                continue
            try:
                d.send(pattern[sent:sent + 1])
            except OSError:
                closed_at[i] = time.monotonic() - t0
        sent += 1
        pause_until = time.monotonic() + 0.5
        while time.monotonic() < pause_until:
            open_ = [d for i, d in enumerate(dribblers) if i not in closed_at]
            readable, _, _ = select.select(open_, [], [], max(0.0, pause_until - time.monotonic()))
            for d in readable:
                i = dribblers.index(d)
                try:
                    data = d.recv(65536)
                except OSError:
                    data = b""
                if data.startswith(b"HTTP/1.1 408"):
                    got_408.add(i)
                if not data:
                    closed_at[i] = time.monotonic() - t0
            if not open_:
                break
        if served_at is None and time.monotonic() >= next_probe:
            try:
                if http_get(s.port, "/healthz", timeout=2)[0] == 200:
                    served_at = time.monotonic() - t0
            except OSError:
                pass
            next_probe = time.monotonic() + 0.25
    for d in dribblers:
        d.close()
    print(f"dribblers closed at {sorted(round(v, 2) for v in closed_at.values())} s; new client served at {served_at} s")
    assert len(closed_at) == 8, f"still open after 12 s: {8 - len(closed_at)} of 8"
    assert all(1.8 <= t <= 4.0 for t in closed_at.values()), closed_at
    assert got_408 == set(range(8))
    assert served_at is not None and served_at <= 5.0
    assert s.counters()["http.error.slow_client"] >= 8


def test_reader_that_stops_reading_is_closed(serve_with):
    s = serve_with("send_window: 1s\nmin_send_rate: 64KiB\n",
                   assets={"big.img": 256 << 20, "medium.img": 4 << 20})
    # Stalled: read the head, then nothing.
    stalled = socket.create_connection(("127.0.0.1", s.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    stalled.sendall(b"GET /assets/big.img HTTP/1.1\r\nHost: x\r\n\r\n")
    stalled.recv(1000)
    t0 = time.monotonic()
    while s.counters().get("http.error.send_too_slow", 0) == 0:
        assert time.monotonic() - t0 < 8, "a stalled reader was not closed within 8 s"
        time.sleep(0.2)
    closed_after = time.monotonic() - t0
    got = 0
    stalled.settimeout(5)
    while chunk := stalled.recv(1 << 20):
        got += len(chunk)
    stalled.close()
    print(f"stalled reader closed after {closed_after:.2f} s, having got {got} bytes of {256 << 20}")
    assert got < (256 << 20)

    # Slow but steady (a 16 KiB buffer emptied every 10 ms: far above 64 KiB/s): gets all 4 MiB.
    slow = socket.create_connection(("127.0.0.1", s.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    slow.sendall(b"GET /assets/medium.img HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    t1 = time.monotonic()
    while chunk := slow.recv(65536):
        data += chunk
        time.sleep(0.01)
        assert time.monotonic() - t1 < 60
    slow.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert len(body) == 4 << 20
    assert s.counters()["http.error.send_too_slow"] == 1


def test_per_ip_cap_leaves_other_addresses_served(serve_with):
    s = serve_with("max_connections_per_ip: 4\n")
    held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(4)]
    try:
        time.sleep(0.3)
        status, body = http_get(s.port, "/healthz")
        assert status == 503, body
        assert b"too many connections from 127.0.0.1" in body
        assert http_get(s.port, "/healthz", source="127.0.0.2")[0] == 200
    finally:
        for h in held:
            h.close()
    deadline = time.monotonic() + 5
    while http_get(s.port, "/healthz")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert s.counters()["http.error.too_many_connections_per_ip"] >= 1


def test_overlapping_ranges_send_the_file_once(serve_with):
    size = 1 << 20
    s = serve_with("reload_interval: 1\n", assets={"k.img": size})
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
        ranges = ",".join(["0-"] * 32)
        c.sendall(f"GET /assets/k.img HTTP/1.1\r\nHost: x\r\nRange: bytes={ranges}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := c.recv(1 << 20):
            data += chunk
            assert len(data) < 2 * size, "more than twice the file for one request"
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 206"), head
    assert b"Content-Range: bytes 0-1048575/1048576" in head
    assert len(body) == size
    # 32 one-byte ranges far apart: 32 small parts (cheaper than the file).
    spread = ",".join(f"{i * 1000}-{i * 1000}" for i in range(0, 32))
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
        c.sendall(f"GET /assets/k.img HTTP/1.1\r\nHost: x\r\nRange: bytes={spread}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := c.recv(1 << 20):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 206"), head
    assert body.count(b"Content-Range: bytes ") == 32
    assert len(body) < 32 * 200


def test_old_http_yaml_still_applies_and_names_each_new_key(serve_with, tmp_path):
    legacy = "max_connections_per_ip: 2\nrequest_timeout_ms: 2500\n"
    (tmp_path / "http.yaml").write_text(legacy)
    r = subprocess.run([RAMFLEET_BIN, "check", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert (f"{tmp_path}/http.yaml:2:1: warning: http.yaml is replaced by ramfleet.yaml's http: section: "
            "move 'request_timeout_ms: 2500' there as 'request_timeout: 2s500ms'") in out, out
    assert f"{tmp_path}/http.yaml:1:1: warning:" in out and "as 'max_connections_per_ip: 2'" in out, out

    # serve still applies it (the per-IP cap of 2), and ramfleet.yaml's http: wins where both set a key.
    s = serve_with("max_connections: 100\n", legacy_http_yaml=legacy)
    assert "as 'max_connections_per_ip: 2'" in s.log_path.read_text()
    held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(2)]
    try:
        time.sleep(0.3)
        assert http_get(s.port, "/healthz")[0] == 503
    finally:
        for h in held:
            h.close()


def test_bad_http_settings_name_file_line_and_column(tmp_path):
    (tmp_path / "ramfleet.yaml").write_text("http:\n  request_timeout: soon\n  max_conections: 3\n")
    (tmp_path / "http.yaml").write_text("idle_timeout_ms: -5\n")
    r = subprocess.run([RAMFLEET_BIN, "check", str(tmp_path)], capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert f"{tmp_path}/ramfleet.yaml:2:20: error: http.request_timeout must be a positive duration" in out, out
    assert f"{tmp_path}/ramfleet.yaml:3:3: error: unknown key 'max_conections' in http" in out, out
    assert f"{tmp_path}/http.yaml:1:18: error: idle_timeout_ms must be a positive duration" in out, out
