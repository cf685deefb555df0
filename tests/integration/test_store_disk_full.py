"""A full disk under the machine store (issue 10): `ramfleet serve` keeps its
state on a tiny tmpfs mounted in a private mount namespace (`unshare -m`, so
the mount vanishes with the process), an /ipxe flood fills it. The server must
keep serving, say why the store is failing (/healthz: store.ok false,
SQLite's "database or disk is full"), count it, and, once there is room again,
write every queued boot (the old flush read freed memory or lost boots).

Needs root (mount); runs only on loopback."""
import http.client
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from loopback_serve import LoopbackServe, free_port
from netlab import RAMFLEET_BIN

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"),
                                reason="needs root, unshare and nsenter")


class TmpfsServe(LoopbackServe):
    """LoopbackServe whose state dir is a tmpfs of `size`, in its own mount namespace."""

    def __init__(self, tmp, size):
        super().__init__(tmp)
        self.size = size

    def start(self):
        self.state.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w")
        script = 'mount -t tmpfs -o size="$1" tmpfs "$2" && shift 2 && exec "$@"'
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", self.size, str(self.state),
             RAMFLEET_BIN, "--log-level", "info", "serve", "--dhcp", "off", "--listen", "127.0.0.1",
             "--http-port", str(self.port), "--tftp-port", "-1", "--no-router-advertisements",
             "--config", str(self.config), "--state", str(self.state), "--api-listen", f"127.0.0.1:{self.api_port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        # STATE is a tmpfs only serve's mount namespace sees: so must curl.
        self.api.prefix = ("nsenter", "-t", str(self.proc.pid), "-m")
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("serve exited: " + self.log_path.read_text())
            try:
                if self.fetch("/healthz").status == 200:
                    return self
            except AssertionError:
                pass
            time.sleep(0.1)
        raise AssertionError("serve did not answer /healthz: " + self.log_path.read_text())

    def resize(self, size):
        """Grows the tmpfs from outside, in the server's mount namespace."""
        subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m", "mount", "-o", f"remount,size={size}",
                        str(self.state)], check=True, timeout=10)


def flood(base_port, n, start=0):
    """n /ipxe requests for distinct unknown machines on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", base_port, timeout=10)
    statuses = set()
    for i in range(start, start + n):
        mac = f"52:54:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}:01"
        conn.request("GET", f"/ipxe?mac={mac}&hostname=flood-{i}-" + "h" * 40 + "&serial=" + "s" * 60)
        r = conn.getresponse()
        r.read()
        statuses.add(r.status)
    conn.close()
    return statuses


def wait_for(pred, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def test_full_disk_is_reported_and_survived_then_every_boot_is_written():
    with tempfile.TemporaryDirectory() as tmp:
        s = TmpfsServe(tmp, "400k")
        (s.config / "inventory.yaml").write_text("default: exit\n")
        s.start()
        try:
            assert flood(s.port, 1500) == {200}, "the server answers every boot while the disk fills"

            def degraded():
                h = s.fetch("/healthz").json()
                return h if h.get("store", {}).get("ok") is False else None

            h = wait_for(degraded)
            assert h, "the store never reported the full disk: " + s.log_path.read_text()[-3000:]
            assert h["status"] == "degraded"
            assert "database or disk is full" in h["store"]["last_error"], h
            assert h["store"]["pending_boots"] > 0
            assert s.counters().get("store.flush_failed", 0) >= 1
            # Still serving, also the API (a read sees what was committed).
            assert flood(s.port, 20, start=5000) == {200}
            assert s.api.fetch("/api/v1/machines?limit=5").status == 200
            log = s.log_path.read_text()
            assert "store.flush_failed" in log and "database or disk is full" in log
            # Logged once per interval, not at every flush (twice a second).
            assert log.count("store.flush_failed") <= 3

            s.resize("64m")

            def healthy():
                h = s.fetch("/healthz").json()
                st = h.get("store", {})
                return h if st.get("ok") is True and st.get("pending_boots") == 0 else None

            h = wait_for(healthy)
            assert h, "the store did not recover: " + s.log_path.read_text()[-3000:]
            assert h["status"] == "ok"
            ids, path = set(), "/api/v1/machines?limit=1000"
            for _ in range(10):
                r = s.api.fetch(path)
                assert r.status == 200
                ids |= {m["id"] for m in r.json()}
                link = r.headers.get("link")
                if not link:
                    break
                path = link[1:link.index(">")]
            assert len(ids) == 1520, "every boot queued during the full disk was written"
        finally:
            s.stop()
        assert s.proc.returncode == 0, s.log_path.read_text()[-3000:]
