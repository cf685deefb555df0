"""A `ramfleet serve` on 127.0.0.1 for HTTP-only integration tests.

DHCP, TFTP and router advertisements are off, so nothing but loopback is
touched and no namespace is needed. start() waits until /healthz answers
(or raises with the server's log); stop() ends the process by its PID.
The operator API listens on another free loopback port: `api` calls it
(tests/lib/operator_api.py) with the admin token serve wrote.
"""
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from netlab import RAMFLEET_BIN
from operator_api import OperatorApi, Response  # noqa: F401 (Response: for the tests that import it from here)


def free_port(ip="127.0.0.1"):
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def fetch(url, *args):
    """A request with curl: status, lower-cased headers and the body bytes."""
    with tempfile.NamedTemporaryFile() as hdr, tempfile.NamedTemporaryFile() as body:
        proc = subprocess.run(["curl", "-sS", "--max-time", "10", "-D", hdr.name, "-o", body.name, *args, url],
                              capture_output=True, timeout=20)
        assert proc.returncode == 0, proc.stderr
        lines = Path(hdr.name).read_bytes().decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return Response(int(lines[0].split()[1]), headers, Path(body.name).read_bytes())


class LoopbackServe:
    """`ramfleet serve --dhcp off` on 127.0.0.1:<free port> with a config and state dir under tmp."""

    def __init__(self, tmp, extra_args=(), log_level="info"):
        self.tmp = Path(tmp)
        self.config = self.tmp / "config"
        self.state = self.tmp / "state"
        self.config.mkdir(parents=True, exist_ok=True)
        self.extra_args = list(extra_args)
        self.log_level = log_level
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api_port = free_port()
        self.api = OperatorApi(self.state, url=f"https://127.0.0.1:{self.api_port}")
        self.log_path = self.tmp / "serve.log"
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [RAMFLEET_BIN, "--log-level", self.log_level, "serve", "--dhcp", "off", "--listen", "127.0.0.1", "--http-port", str(self.port),
             "--tftp-port", "-1", "--no-router-advertisements", "--config", str(self.config),
             "--state", str(self.state), "--api-listen", f"127.0.0.1:{self.api_port}", *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("serve exited: " + self.log_path.read_text())
            probe = subprocess.run(["curl", "-s", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}",
                                    self.base + "/healthz"], capture_output=True, text=True, timeout=10)
            if probe.stdout == "200":
                return self
            time.sleep(0.1)
        raise AssertionError("serve did not answer /healthz: " + self.log_path.read_text())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    def fetch(self, path, *args):
        return fetch(self.base + path, *args)

    def counters(self):
        return self.api.json("/api/v1/counters")

    def generation(self):
        return self.fetch("/healthz").json()["inventory"]["generation"]

    def edit(self, relpath, text):
        """Writes a config file and waits until the server has reloaded it."""
        before = self.generation()
        (self.config / relpath).write_text(text)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.generation() > before:
                return
            time.sleep(0.05)
        raise AssertionError(f"edit of {relpath} not picked up: " + self.log_path.read_text()[-2000:])
