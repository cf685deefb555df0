"""`ramfleet serve` as a daemon, against the real binary on 127.0.0.1:
SIGHUP reloads ramfleet.yaml, the inventory and cluster.yaml (a broken edit
is refused with file:line:col and the old config keeps serving; settings
that need a restart are named and kept), SIGTERM drains in-flight downloads
within the grace period and exits 0, the sd_notify messages arrive on a
socket the test binds as $NOTIFY_SOCKET, global flags work after the
subcommand, and the packaged systemd unit and config are valid."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from loopback_serve import fetch, free_port
from netlab import RAMFLEET_BIN, SOURCE_DIR
from operator_api import OperatorApi

PROFILES = {
    "alpha": "kernel: vmlinuz-alpha\ninitrds: [initrd.img]\n",
    "beta": "kernel: vmlinuz-beta\ninitrds: [initrd.img]\n",
}
MAC = "52:54:00:aa:00:01"
# reload_interval 1h: the inventory timer never fires here, so only SIGHUP reloads.
RAMFLEET_YAML = "http:\n  reload_interval: 1h\n"


class Daemon:
    """serve --dhcp off on 127.0.0.1, with its log in a file and optional $NOTIFY_SOCKET."""

    def __init__(self, tmp, notify_socket=None, args=(), global_args=("--log-level", "info"), tftp_port=-1):
        self.tmp = Path(tmp)
        self.config = self.tmp / "config"
        self.state = self.tmp / "state"
        for d in ("profiles", "groups", "assets"):
            (self.config / d).mkdir(parents=True, exist_ok=True)
        for name, text in PROFILES.items():
            (self.config / "profiles" / f"{name}.yaml").write_text(text)
        self.group("alpha")
        (self.config / "inventory.yaml").write_text("default: exit\n")
        (self.config / "ramfleet.yaml").write_text(RAMFLEET_YAML)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api_port = free_port()
        self.api = OperatorApi(self.state, url=f"https://127.0.0.1:{self.api_port}")
        self.log_path = self.tmp / "serve.log"
        self.notify_socket = notify_socket
        self.args = list(args)
        self.tftp_port = tftp_port
        self.global_args = list(global_args)
        self.proc = None

    def group(self, profile):
        (self.config / "groups" / "rack.yaml").write_text(f'profile: {profile}\nselector:\n  mac: "{MAC}"\n')

    def start(self):
        env = dict(os.environ)
        if self.notify_socket:
            env["NOTIFY_SOCKET"] = self.notify_socket
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [RAMFLEET_BIN, *self.global_args, "serve", "--dhcp", "off", "--listen", "127.0.0.1", "--http-port",
             str(self.port), "--tftp-port", str(self.tftp_port), "--no-router-advertisements", "--config", str(self.config),
             "--state", str(self.state), "--api-listen", f"127.0.0.1:{self.api_port}", *self.args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            assert self.proc.poll() is None, "serve exited: " + self.log_text()
            try:
                if fetch(self.base + "/healthz").status == 200:
                    return self
            except AssertionError:
                pass
            time.sleep(0.1)
        raise AssertionError("serve did not answer: " + self.log_text())

    def log_text(self):
        return self.log_path.read_text()

    def wait_log(self, needle, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if needle in self.log_text():
                return
            time.sleep(0.05)
        raise AssertionError(f"'{needle}' not logged: " + self.log_text()[-3000:])

    def signal(self, signo):
        self.proc.send_signal(signo)

    def reload(self):
        """SIGHUP, then wait until the reload finished (the second serve.reload ends with the inventory)."""
        n = self.log_text().count("event=config.")
        self.signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            text = self.log_text()
            if text.count("event=config.") > n and ("inventory." in text.split("event=serve.reload")[-1]):
                return
            time.sleep(0.05)
        raise AssertionError("reload did not finish: " + self.log_text()[-3000:])

    def kernel(self):
        r = fetch(self.base + f"/ipxe?mac={MAC}")
        assert r.status == 200, r.text
        return next(line for line in r.text.splitlines() if line.startswith("kernel "))

    def generation(self):
        return fetch(self.base + "/healthz").json()["inventory"]["generation"]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc:
            self.log.close()


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix="rf-daemon-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def daemon(tmp):
    d = Daemon(tmp).start()
    yield d
    d.stop()


def test_sighup_with_a_changed_inventory_serves_the_new_match(daemon):
    assert "vmlinuz-alpha" in daemon.kernel()
    before = daemon.generation()
    daemon.group("beta")
    time.sleep(1.5)  # the timer (1h) does not pick it up
    assert "vmlinuz-alpha" in daemon.kernel() and daemon.generation() == before
    daemon.reload()
    assert daemon.proc.poll() is None
    assert "vmlinuz-beta" in daemon.kernel()
    assert daemon.generation() == before + 1


def test_sighup_with_a_broken_inventory_keeps_the_old_one_and_logs_file_line_col(daemon):
    before = daemon.generation()
    (daemon.config / "groups" / "rack.yaml").write_text(f'profile: beta\nselector:\n  mac: ["{MAC}"\n')
    daemon.reload()
    assert daemon.proc.poll() is None
    assert "vmlinuz-alpha" in daemon.kernel() and daemon.generation() == before
    log = daemon.log_text()
    assert "event=inventory.refused" in log
    assert f"{daemon.config}/groups/rack.yaml:3:" in log, log[-2000:]


def test_sighup_with_a_broken_cluster_yaml_keeps_the_old_config(daemon):
    before = daemon.generation()
    daemon.group("beta")
    (daemon.config / "cluster.yaml").write_text("name: lab\nkubernetes_version: [1.30\n")
    daemon.reload()
    assert "vmlinuz-alpha" in daemon.kernel() and daemon.generation() == before
    assert f"{daemon.config}/cluster.yaml:2:" in daemon.log_text()
    (daemon.config / "cluster.yaml").unlink()
    daemon.reload()
    assert "vmlinuz-beta" in daemon.kernel()


def test_sighup_with_a_broken_ramfleet_yaml_keeps_the_running_settings(daemon):
    (daemon.config / "ramfleet.yaml").write_text(RAMFLEET_YAML + "shutdown_grace: soon\n")
    daemon.reload()
    assert daemon.proc.poll() is None
    log = daemon.log_text()
    assert "event=config.refused" in log and f"{daemon.config}/ramfleet.yaml:3:17" in log, log[-2000:]
    assert "event=config.kept" in log
    assert fetch(daemon.base + "/healthz").status == 200


def test_sighup_names_what_needs_a_restart_and_applies_the_rest(daemon):
    (daemon.config / "ramfleet.yaml").write_text(
        RAMFLEET_YAML + "  port: 8081\n  max_connections_per_ip: 7\ndhcp:\n  mode: proxy\nshutdown_grace: 3s\n")
    daemon.reload()
    log = daemon.log_text()
    # The flags (--dhcp off, --http-port) still win over the file: nothing to restart for those.
    assert "key=http.port" not in log and "key=dhcp.mode" not in log
    assert "applied=http.limits,shutdown_grace" in log, log[-2000:]
    # Without the flags' say, an interface change needs a restart.
    (daemon.config / "ramfleet.yaml").write_text(RAMFLEET_YAML + "interface: lo\n")
    daemon.reload()
    log = daemon.log_text()
    assert "event=config.needs_restart key=interface" in log, log[-2000:]
    assert fetch(daemon.base + "/healthz").status == 200


def test_sigterm_lets_a_slow_large_download_finish_and_exits_0(tmp):
    d = Daemon(tmp)
    (d.config / "assets" / "big.img").write_bytes(os.urandom(24 << 20))
    d.start()
    try:
        out = Path(tmp) / "big.out"
        # 24 MiB at 12 MiB/s: about two seconds, well inside the 10 s default grace.
        curl = subprocess.Popen(["curl", "-sS", "--limit-rate", "12M", "-o", str(out), "-w", "%{http_code} %{size_download}",
                                 d.base + "/assets/big.img"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        started = time.time()
        d.signal(signal.SIGTERM)
        d.wait_log("event=serve.stop")
        # No new connection is accepted while draining.
        refused = subprocess.run(["curl", "-sS", "--max-time", "2", d.base + "/healthz"], capture_output=True,
                                 text=True)
        assert refused.returncode != 0, refused.stdout
        stdout, stderr = curl.communicate(timeout=30)
        assert curl.returncode == 0, stderr
        assert stdout == f"200 {24 << 20}"
        assert out.stat().st_size == 24 << 20
        assert d.proc.wait(timeout=15) == 0
        assert time.time() - started < 10
        log = d.log_text()
        assert "event=serve.drained" in log and "event=serve.grace_expired" not in log
    finally:
        d.stop()


def test_sigterm_ends_operator_event_streams_and_idle_connections_at_once(tmp):
    """An open event stream (GET /api/v1/events/stream) and an idle kept-alive
    boot connection hold nothing up: the drain closes them, serve exits 0 well
    inside the 10 s grace."""
    d = Daemon(tmp).start()
    try:
        token = d.api.admin_token()
        stream = subprocess.Popen(["curl", "-sS", "-N", "--cacert", str(d.api.ca), "-H", f"Authorization: Bearer {token}",
                                   f"{d.api.url}/api/v1/events/stream"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        idle = socket.create_connection(("127.0.0.1", d.port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(1)
        assert stream.poll() is None  # the stream is open
        started = time.time()
        d.signal(signal.SIGTERM)
        assert d.proc.wait(timeout=15) == 0
        assert time.time() - started < 5
        log = d.log_text()
        assert "event=serve.drained" in log and "event=api.draining" in log, log[-2000:]
        stream.wait(timeout=10)
        idle.close()
    finally:
        d.stop()


def test_sigterm_lets_a_tftp_transfer_finish(tmp):
    tftp_port = free_port()
    d = Daemon(tmp, tftp_port=tftp_port)
    (d.config / "assets" / "ipxe.bin").write_bytes(os.urandom(4 << 20))
    d.start()
    try:
        out = Path(tmp) / "ipxe.out"
        # 4 MiB at 2 MiB/s in 512-byte lockstep blocks: about two seconds.
        curl = subprocess.Popen(["curl", "-sS", "--limit-rate", "2M", "-o", str(out),
                                 f"tftp://127.0.0.1:{tftp_port}/ipxe.bin"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        d.wait_log("event=tftp.transfer.start")
        time.sleep(0.3)
        d.signal(signal.SIGTERM)
        d.wait_log("event=tftp.draining")
        _, stderr = curl.communicate(timeout=30)
        assert curl.returncode == 0, stderr
        assert out.read_bytes() == (d.config / "assets" / "ipxe.bin").read_bytes()
        assert d.proc.wait(timeout=15) == 0
        assert "event=serve.drained" in d.log_text()
    finally:
        d.stop()


def test_sigterm_cuts_off_what_outlasts_the_grace_period(tmp):
    d = Daemon(tmp, args=["--shutdown-grace", "1s"])
    (d.config / "assets" / "big.img").write_bytes(os.urandom(16 << 20))
    d.start()
    try:
        curl = subprocess.Popen(["curl", "-sS", "--limit-rate", "1M", "-o", "/dev/null", d.base + "/assets/big.img"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.5)
        started = time.time()
        d.signal(signal.SIGTERM)
        assert d.proc.wait(timeout=10) == 0
        assert 0.9 < time.time() - started < 5
        assert "event=serve.grace_expired" in d.log_text()
        curl.wait(timeout=20)
        assert curl.returncode != 0  # cut off, not silently truncated
    finally:
        d.stop()


def test_sd_notify_ready_reloading_stopping_in_order(tmp):
    name = f"@ramfleet-test-notify-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name[1:])
    sock.settimeout(10)
    messages = []
    d = Daemon(tmp, notify_socket=name)
    try:
        d.start()
        messages.append(sock.recv(4096).decode())
        d.signal(signal.SIGHUP)
        messages.append(sock.recv(4096).decode())
        messages.append(sock.recv(4096).decode())
        d.signal(signal.SIGTERM)
        messages.append(sock.recv(4096).decode())
        assert d.proc.wait(timeout=15) == 0
    finally:
        d.stop()
        sock.close()
    assert messages[0] == "READY=1"
    assert messages[1].startswith("RELOADING=1\nMONOTONIC_USEC="), messages
    assert messages[2] == "READY=1"
    assert messages[3] == "STOPPING=1"


def test_sd_notify_on_a_path_socket(tmp):
    path = Path(tmp) / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(10)
    d = Daemon(tmp, notify_socket=str(path))
    try:
        d.start()
        assert sock.recv(4096) == b"READY=1"
    finally:
        d.stop()
        sock.close()


def test_global_flags_after_the_subcommand(tmp):
    d = Daemon(tmp, global_args=[], args=["--log-level", "warn", "--log-format", "json"])
    try:
        d.start()
        # Warnings only: the info lines of start-up are not there; a warning is, as JSON.
        fetch(d.base + "/healthz")
        log = d.log_text()
        assert "serve.ready" not in log and "http.listening" not in log, log
        (d.config / "ramfleet.yaml").write_text(RAMFLEET_YAML + "interface: lo\n")
        d.signal(signal.SIGHUP)
        d.wait_log('"event":"config.needs_restart"')
    finally:
        d.stop()
    r = subprocess.run([RAMFLEET_BIN, "serve", "--log-level"], capture_output=True, text=True)
    assert r.returncode != 0
    r = subprocess.run([RAMFLEET_BIN, "check", "--log-format", "xml", str(d.config)], capture_output=True, text=True)
    assert r.returncode != 0 and "xml" in r.stderr


def test_installed_unit_passes_systemd_analyze_verify_and_config_passes_check(tmp):
    """cmake --install into a scratch prefix: the unit (paths rewritten to the
    prefix) passes systemd-analyze verify, the config passes ramfleet check."""
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: scripts/install-deps installs systemd"
    build = Path(RAMFLEET_BIN).resolve().parent
    prefix = Path(tmp) / "prefix"
    r = subprocess.run(["cmake", "--install", str(build), "--prefix", str(prefix)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    unit = prefix / "lib/systemd/system/ramfleet.service"
    text = unit.read_text()
    assert f"ExecStart={prefix}/bin/ramfleet serve --config {prefix}/etc/ramfleet" in text
    assert "Type=notify" in text and "ExecReload=/bin/kill -HUP $MAINPID" in text
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ramfleet.service" not in r.stderr, r.stderr  # no warning about the unit itself
    r = subprocess.run([str(prefix / "bin/ramfleet"), "check", str(prefix / "etc/ramfleet")], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    # A second install keeps the operator's config.
    (prefix / "etc/ramfleet/ramfleet.yaml").write_text("# mine\n")
    r = subprocess.run(["cmake", "--install", str(build), "--prefix", str(prefix)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and (prefix / "etc/ramfleet/ramfleet.yaml").read_text() == "# mine\n"
    # The unit in the tree is the one installed, apart from the paths.
    src = (SOURCE_DIR / "dist/ramfleet.service").read_text()
    assert src.replace("/usr/local/bin", f"{prefix}/bin").replace("/usr/local/etc", f"{prefix}/etc").replace(
        "/usr/local/share/doc/ramfleet", f"{prefix}/share/doc/ramfleet") == text
