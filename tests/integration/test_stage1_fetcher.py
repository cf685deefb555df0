"""`ramfleet-stage1 fetch` (the static fetcher a node's stage-1 initrd runs)
against a scripted HTTP server on loopback.

An image packed by `ramfleet image build` comes out as the tree it was made
from; 5xx answers and refused connections before any byte are retried with
backoff; a stream that breaks after unpacking began restarts into an emptied
directory, and when it keeps breaking the fetch fails; a wrong digest, a 404,
a silent server and an oversized response head fail with a clear message.
Whatever fails, exit status is non-zero and the target directory is empty.
"""
import hashlib
import os
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from netlab import RAMFLEET_BIN

FETCHER = str(Path(RAMFLEET_BIN).parent / "ramfleet-stage1")


class ScriptedServer:
    """Serves one file; each request takes the next behaviour from a list
    (the last one repeats): "ok", "503", "404", "cut" (half the body, then
    close), "silent" (never answers), "bighead" (64 KiB of headers)."""

    def __init__(self, body, script):
        self.body, self.script, self.requests = body, list(script), 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn):
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            what = self.script[min(self.requests, len(self.script) - 1)]
            self.requests += 1
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(self.body)}\r\nConnection: close\r\n\r\n".encode()
            try:
                if what == "ok":
                    conn.sendall(head + self.body)
                elif what in ("503", "404"):
                    msg = b"no"
                    conn.sendall(f"HTTP/1.1 {what} X\r\nContent-Length: {len(msg)}\r\n\r\n".encode() + msg)
                elif what == "cut":
                    conn.sendall(head + self.body[: len(self.body) // 2])
                elif what == "silent":
                    time.sleep(3)
                elif what == "bighead":
                    conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 65536 + b"\r\n\r\n")
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()

    def url(self):
        return f"http://127.0.0.1:{self.port}/assets/images/x/rootfs.cpio.zst"


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stage1")
    root = tmp / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/hostname").write_text("node\n")
    (root / "bin").mkdir()
    (root / "bin/tool").write_bytes(os.urandom(3_000_000))  # incompressible: the body is large
    (root / "bin/tool").chmod(0o4755)
    (root / "bin/sh").symlink_to("tool")
    (root / "var/empty").mkdir(parents=True)
    os.mkfifo(root / "fifo", 0o640)
    r = subprocess.run([RAMFLEET_BIN, "image", "build", "--from", str(root), "--assets", str(tmp / "assets")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    image_id, path = r.stdout.split()
    return root, image_id, (tmp / "assets" / path).read_bytes()


def fetch(server, digest, into, *extra, timeout=60):
    into.mkdir(exist_ok=True)
    return subprocess.run([FETCHER, "fetch", "--url", server.url(), "--sha256", digest, "--into", str(into), *extra],
                          capture_output=True, text=True, timeout=timeout)


def tree(root):
    out = {}
    for p in sorted(Path(root).rglob("*")):
        st = p.lstat()
        d = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, int(st.st_mtime))
        if p.is_symlink():
            d += (os.readlink(p),)
        elif p.is_file():
            d += (hashlib.sha256(p.read_bytes()).hexdigest(),)
        out[str(p.relative_to(root))] = d
    return out


def test_image_comes_out_as_its_source(image, tmp_path):
    root, image_id, body = image
    s = ScriptedServer(body, ["ok"])
    try:
        r = fetch(s, image_id, tmp_path / "out")
    finally:
        s.close()
    assert r.returncode == 0, r.stderr
    assert f"ramfleet-stage1: root image {image_id[:12]} verified" in r.stderr
    assert tree(root) == tree(tmp_path / "out")
    assert os.stat(tmp_path / "out/bin/tool").st_mode & 0o7777 == 0o4755


def test_server_errors_before_the_body_are_retried_with_backoff(image, tmp_path):
    root, image_id, body = image
    s = ScriptedServer(body, ["503", "503", "ok"])
    try:
        r = fetch(s, image_id, tmp_path / "out")
    finally:
        s.close()
    assert r.returncode == 0, r.stderr
    assert "try 1/8 failed" in r.stderr and "answered 503" in r.stderr and "again in 500 ms" in r.stderr
    assert "try 2/8 failed" in r.stderr and "again in 1000 ms" in r.stderr
    assert s.requests == 3
    assert tree(root) == tree(tmp_path / "out")


def test_refused_connections_are_retried_until_the_server_appears(image, tmp_path):
    root, image_id, body = image
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there yet
    (tmp_path / "out").mkdir()
    p = subprocess.Popen([FETCHER, "fetch", "--url", f"http://127.0.0.1:{port}/x", "--sha256", image_id,
                          "--into", str(tmp_path / "out")], stderr=subprocess.PIPE, text=True)
    time.sleep(1.2)
    s = ScriptedServer.__new__(ScriptedServer)
    s.body, s.script, s.requests, s.stop = body, ["ok"], 0, False
    s.sock = socket.socket()
    s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.sock.bind(("127.0.0.1", port))
    s.sock.listen(4)
    s.port = port
    s.thread = threading.Thread(target=s.serve, daemon=True)
    s.thread.start()
    try:
        _, err = p.communicate(timeout=60)
    finally:
        s.close()
    assert p.returncode == 0, err
    assert "Connection refused" in err
    assert tree(root) == tree(tmp_path / "out")


def test_a_stream_broken_mid_way_restarts_into_an_emptied_root(image, tmp_path):
    root, image_id, body = image
    s = ScriptedServer(body, ["cut", "ok"])
    try:
        r = fetch(s, image_id, tmp_path / "out")
    finally:
        s.close()
    assert r.returncode == 0, r.stderr
    assert "starting again into the emptied root (1/2)" in r.stderr
    assert tree(root) == tree(tmp_path / "out")


def test_a_stream_that_keeps_breaking_fails_and_leaves_nothing(image, tmp_path):
    _, image_id, body = image
    s = ScriptedServer(body, ["cut"])
    try:
        r = fetch(s, image_id, tmp_path / "out")
    finally:
        s.close()
    assert r.returncode == 1
    assert "ramfleet-stage1: ERROR cannot fetch the root image:" in r.stderr
    assert "closed the connection after" in r.stderr
    assert s.requests == 3  # the first try and two restarts
    assert list((tmp_path / "out").iterdir()) == []


def test_wrong_digest_fails_at_once_and_leaves_nothing(image, tmp_path):
    _, image_id, body = image
    wrong = hashlib.sha256(b"another image").hexdigest()
    s = ScriptedServer(body, ["ok"])
    try:
        r = fetch(s, wrong, tmp_path / "out")
    finally:
        s.close()
    assert r.returncode == 1
    assert f"ramfleet-stage1: ERROR cannot fetch the root image: root image digest mismatch: expected {wrong}, " \
           f"got {image_id}" in r.stderr
    assert s.requests == 1  # the same bytes again would not help
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("what,expect", [
    ("404", "answered 404"),
    ("silent", "no data from 127.0.0.1"),
    ("bighead", "head longer than 16384 bytes"),
])
def test_bad_answers_fail_with_a_clear_message(image, tmp_path, what, expect):
    _, image_id, body = image
    s = ScriptedServer(body, [what])
    try:
        r = fetch(s, image_id, tmp_path / "out", "--attempts", "2", "--io-timeout-ms", "500")
    finally:
        s.close()
    assert r.returncode == 1
    assert "ramfleet-stage1: ERROR" in r.stderr and expect in r.stderr, r.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_bad_command_lines_are_refused():
    r = subprocess.run([FETCHER, "fetch", "--url", "http://ramfleet.lan/x", "--sha256", "0" * 64, "--into", "/tmp"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "IPv4" in r.stderr
    r = subprocess.run([FETCHER, "fetch", "--sha256", "xyz"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "ramfleet-stage1: ERROR --sha256 wants 64 hex digits" in r.stderr
