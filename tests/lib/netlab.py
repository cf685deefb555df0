"""Throw-away test networks for ramfleet's integration tests.

A NetLab is two network namespaces joined by a veth pair: the server side
(where `ramfleet serve` runs, interface rf0, 10.77.0.1/24) and the client side
(interface cl0, where real clients such as scapy, curl and atftp run). Nothing
touches the host's own network: all traffic stays between the two namespaces,
and close() removes both namespaces and stops every process by PID.
"""
import os
import signal
import subprocess
import tempfile
import time
import itertools
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("RAMFLEET_SOURCE_DIR", Path(__file__).resolve().parents[2]))
RAMFLEET_BIN = os.environ.get("RAMFLEET_BIN", str(SOURCE_DIR / "build" / "ramfleet"))
PREFIX = "rft"  # every namespace this module creates starts with rft<pid>
_counter = itertools.count()


def run(cmd, check=True, timeout=60, **kw):
    return subprocess.run(cmd, check=check, timeout=timeout, capture_output=True, text=True, **kw)


def sweep_stale_namespaces():
    """Removes namespaces left by test processes that died (their pid is gone)."""
    out = run(["ip", "netns", "list"], check=False).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(PREFIX):
            continue
        pid = name[len(PREFIX):].split("x")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            run(["ip", "netns", "del", name], check=False)


class Ramfleet:
    """A running `ramfleet serve` inside the server namespace."""

    def __init__(self, lab, args, state_dir, log_path):
        self.lab, self.args, self.state_dir, self.log_path = lab, args, state_dir, log_path
        self.proc = None

    def start(self, timeout=15):
        self._log = open(self.log_path, "a")
        cmd = ["ip", "netns", "exec", self.lab.server_ns, RAMFLEET_BIN, "--log-level", "debug", "serve",
               "--state", str(self.state_dir)] + list(self.args)
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        start_len = self._ready_count()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ramfleet exited with {self.proc.returncode}:\n{self.log()}")
            if self._ready_count() > start_len:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"ramfleet did not become ready in {timeout}s:\n{self.log()}")

    def _ready_count(self):
        return self.log().count("event=serve.ready")

    def log(self):
        try:
            return Path(self.log_path).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
        self._log.close()

    def kill9(self):
        self.stop(signal.SIGKILL)


class NetLab:
    SERVER_IF, CLIENT_IF = "rf0", "cl0"
    SERVER_IP, CLIENT_IP, PREFIXLEN = "10.77.0.1", "10.77.0.2", 24

    def __init__(self, client_ip=True):
        sweep_stale_namespaces()
        n = next(_counter)
        self.server_ns = f"{PREFIX}{os.getpid()}x{n}s"
        self.client_ns = f"{PREFIX}{os.getpid()}x{n}c"
        self.tmp = Path(tempfile.mkdtemp(prefix="ramfleet-lab-"))
        self.processes = []
        self.servers = []
        try:
            for ns in (self.server_ns, self.client_ns):
                run(["ip", "netns", "add", ns])
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "link", "add", "rftmp" + str(os.getpid() % 100000) + str(n), "type", "veth", "peer", "name",
                 "rftpeer" + str(os.getpid() % 100000) + str(n)])
            run(["ip", "link", "set", "rftmp" + str(os.getpid() % 100000) + str(n), "netns", self.server_ns, "name",
                 self.SERVER_IF])
            run(["ip", "link", "set", "rftpeer" + str(os.getpid() % 100000) + str(n), "netns", self.client_ns, "name",
                 self.CLIENT_IF])
            run(["ip", "-n", self.server_ns, "addr", "add", f"{self.SERVER_IP}/{self.PREFIXLEN}", "dev",
                 self.SERVER_IF])
            if client_ip:
                run(["ip", "-n", self.client_ns, "addr", "add", f"{self.CLIENT_IP}/{self.PREFIXLEN}", "dev",
                     self.CLIENT_IF])
            for ns, ifname in ((self.server_ns, self.SERVER_IF), (self.client_ns, self.CLIENT_IF)):
                run(["ip", "-n", ns, "link", "set", ifname, "up"])
        except Exception:
            self.close()
            raise

    # --- ramfleet ---------------------------------------------------------
    def start_ramfleet(self, *args, state_dir=None, timeout=15):
        state = Path(state_dir) if state_dir else self.tmp / "state"
        rf = Ramfleet(self, [str(a) for a in args], state, self.tmp / f"ramfleet-{len(self.servers)}.log")
        self.servers.append(rf)
        return rf.start(timeout=timeout)

    # --- clients ------------------------------------------------------------
    def client(self, *cmd, timeout=60, check=False, **kw):
        """Runs a command in the client namespace and returns the CompletedProcess."""
        return run(["ip", "netns", "exec", self.client_ns] + [str(c) for c in cmd], check=check, timeout=timeout,
                   **kw)

    def client_popen(self, *cmd, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", self.client_ns] + [str(c) for c in cmd], **kw)
        self.processes.append(p)
        return p

    def server(self, *cmd, timeout=60, check=False, **kw):
        """Runs a command in the server namespace (e.g. to inspect ARP or sockets)."""
        return run(["ip", "netns", "exec", self.server_ns] + [str(c) for c in cmd], check=check, timeout=timeout,
                   **kw)

    def close(self):
        for rf in self.servers:
            rf.stop()
        for p in self.processes:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        for ns in (self.server_ns, self.client_ns):
            run(["ip", "netns", "del", ns], check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
