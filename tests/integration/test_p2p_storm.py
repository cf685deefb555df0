"""Peer-to-peer image sharing in a storm (issue 14 part 4, docs/scale.md).

50 simulated nodes, each the REAL `ramfleet-stage1 fetch --p2p` process (the
fetcher a node's stage-1 initrd runs) in its own network namespace, with a
veth to a bridge; a real `ramfleet serve` in a server namespace on the same
bridge, whose link is throttled with tc (tbf on the server's veth egress), so
the server alone is the bottleneck. Proves:

- ramfleet's egress (the server veth's tx_bytes) stays within 5 images' worth;
- every node completes sooner than the throttled link could send every node
  the image once;
- every node's extracted root is byte-identical to the source tree.

Then, with their own images so that no storm seeder can help: a hostile peer
serving corrupt chunks, a peer that vanishes mid-chunk, and a node with no
peers: each node still gets the right bytes. All namespaces, links and
processes are created here and removed at the end (processes by PID).
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from netlab import PREFIX, RAMFLEET_BIN, SOURCE_DIR, run, sweep_stale_namespaces
from operator_api import OperatorApi

NODES = 50
RATE_MBIT = 16
IMAGE_MIB = 4
CHUNK = "64K"
PORT = 8080
SERVER_IP = "10.98.0.1"
SEED_SECONDS = 25
STORM_DEADLINE_S = 120  # the whole storm, wall clock

# The static fetcher built beside ramfleet (or where $RAMFLEET_STAGE1_BIN says).
STAGE1_BIN = os.environ.get("RAMFLEET_STAGE1_BIN") or next(
    (str(p) for p in (Path(RAMFLEET_BIN).parent / "ramfleet-stage1",
                      Path(RAMFLEET_BIN).parent / "src/stage1/fetcher/ramfleet-stage1") if p.exists()),
    str(Path(RAMFLEET_BIN).parent / "ramfleet-stage1"))

FILES = {
    "profiles/node.yaml": "kernel: vmlinuz\n"
                          'args: ["ramfleet.id={{machine_id}}", "ramfleet.event_credential={{event_credential}}"]\n',
    "groups/nodes.yaml": 'profile: node\nselector: {mac: "52:54:00:77:*"}\n',
    "inventory.yaml": "default: exit\n",
}


def tree_digest(root):
    """Names, types, modes, link targets and contents of a tree, in one sha256."""
    h = hashlib.sha256()
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            st = p.lstat()
            h.update(f"{p.relative_to(root)}\0{st.st_mode:o}\0".encode())
            if p.is_symlink():
                h.update(os.readlink(p).encode())
            elif p.is_file():
                h.update(p.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def make_root(path, seed, mib):
    """A root tree of incompressible files (so compressed size ~ mib MiB)."""
    import random
    rnd = random.Random(seed)
    (path / "etc").mkdir(parents=True)
    (path / "etc/hostname").write_text(f"node-{seed}\n")
    (path / "usr/lib").mkdir(parents=True)
    for i in range(4):
        (path / f"usr/lib/blob{i}").write_bytes(rnd.randbytes(mib * 256 * 1024))
    os.chmod(path / "usr/lib/blob0", 0o755)
    (path / "etc/link").symlink_to("../usr/lib/blob1")


class Storm:
    def __init__(self):
        sweep_stale_namespaces()
        self.tmp = Path(tempfile.mkdtemp(prefix="rf-p2p-storm-"))
        self.tag = f"{PREFIX}{os.getpid()}x"
        self.br_ns = self.tag + "br"
        self.srv_ns = self.tag + "srv"
        self.namespaces = []
        self.pids = []  # every process started here (and seeders they detach)
        self.serve = None
        self.node_count = 0

    # ---- network
    def ns(self, name):
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        return name

    def up(self):
        self.ns(self.br_ns)
        run(["ip", "-n", self.br_ns, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.br_ns, "link", "set", "br0", "up"])
        self.ns(self.srv_ns)
        self.attach(self.srv_ns, "srv0", "psrv", SERVER_IP)
        # The server's egress, throttled: tbf on its veth.
        run(["ip", "netns", "exec", self.srv_ns, "tc", "qdisc", "add", "dev", "srv0", "root", "tbf", "rate",
             f"{RATE_MBIT}mbit", "burst", "64kb", "latency", "300ms"])

    def attach(self, ns, inner, outer, ip):
        run(["ip", "-n", self.br_ns, "link", "add", outer, "type", "veth", "peer", "name", inner, "netns", ns])
        run(["ip", "-n", self.br_ns, "link", "set", outer, "master", "br0", "up"])
        run(["ip", "-n", ns, "addr", "add", f"{ip}/16", "dev", inner])
        run(["ip", "-n", ns, "link", "set", inner, "up"])

    def node_ns(self, ip):
        self.node_count += 1
        name = self.ns(f"{self.tag}n{self.node_count}")
        self.attach(name, "eth0", f"pn{self.node_count}", ip)
        return name

    def server_tx_bytes(self):
        out = run(["ip", "netns", "exec", self.srv_ns, "cat", "/sys/class/net/srv0/statistics/tx_bytes"]).stdout
        return int(out)

    # ---- ramfleet
    def start_serve(self):
        self.config = self.tmp / "config"
        for rel, text in FILES.items():
            (self.config / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.config / rel).write_text(text)
        (self.config / "assets").mkdir()  # serve looks for it at start
        self.state = self.tmp / "state"
        self.serve_log = open(self.tmp / "serve.log", "w")
        self.api = OperatorApi(self.state, url="https://127.0.0.1:9443", netns=self.srv_ns)
        self.serve = subprocess.Popen(
            ["ip", "netns", "exec", self.srv_ns, RAMFLEET_BIN, "--log-level", "info", "serve", "--dhcp", "off",
             "--listen", SERVER_IP, "--http-port", str(PORT), "--tftp-port", "-1", "--no-router-advertisements",
             "--config", str(self.config), "--state", str(self.state), "--api-listen", "127.0.0.1:9443"],
            stdout=self.serve_log, stderr=subprocess.STDOUT)
        self.pids.append(self.serve.pid)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.serve.poll() is None, (self.tmp / "serve.log").read_text()
            r = run(["ip", "netns", "exec", self.srv_ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                     f"http://{SERVER_IP}:{PORT}/healthz"], check=False)
            if r.stdout == "200":
                return
            time.sleep(0.2)
        raise AssertionError("serve did not start: " + (self.tmp / "serve.log").read_text())

    def build_image(self, name, seed, mib):
        root = self.tmp / f"root-{name}"
        make_root(root, seed, mib)
        r = run([RAMFLEET_BIN, "image", "build", "--from", str(root), "--assets", str(self.config / "assets"),
                 "--chunk-size", CHUNK, "--mtime", "0"], timeout=300)
        image_id = r.stdout.split()[0]
        size = (self.config / "assets/images" / image_id / "rootfs.cpio.zst").stat().st_size
        return image_id, size, tree_digest(root)

    def url(self, path):
        return f"http://{SERVER_IP}:{PORT}{path}"

    def credential(self, ns, mac):
        r = run(["ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "20", self.url(f"/ipxe?mac={mac}")])
        m = re.search(r"ramfleet\.event_credential=(\S+)", r.stdout)
        assert m, r.stdout
        return m.group(1)

    def fetcher(self, ns, mac, image_id, into, seed_seconds, credential=None):
        credential = credential or self.credential(ns, mac)
        into.mkdir(parents=True)
        log = open(str(into) + ".log", "w")
        cmd = ["ip", "netns", "exec", ns, STAGE1_BIN, "fetch", "--url",
               self.url(f"/assets/images/{image_id}/rootfs.cpio.zst"), "--sha256", image_id, "--into", str(into),
               "--p2p", "--manifest", self.url(f"/assets/images/{image_id}/chunks.json"),
               "--tracker", self.url(f"/api/v1/machines/{mac}/p2p/{image_id}"), "--credential", credential,
               "--listen-port", "7480", "--seed-seconds", str(seed_seconds)]
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pids.append(p.pid)
        p.log_path = Path(str(into) + ".log")
        return p

    def seeder_pids(self, log_path):
        m = re.search(r"\(pid (\d+)\)", log_path.read_text())
        if m:
            self.pids.append(int(m.group(1)))

    def metrics(self):
        return self.api.fetch("/metrics").text

    def down(self):
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if self.serve:
            try:
                self.serve.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.serve.kill()
            self.serve_log.close()
        for ns in reversed(self.namespaces):
            run(["ip", "netns", "del", ns], check=False)
        if not os.environ.get("RAMFLEET_KEEP_TMP"):  # to read the nodes' logs after a failure
            shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def storm():
    assert Path(STAGE1_BIN).exists(), f"{STAGE1_BIN} is not built (cmake --build --preset release)"
    s = Storm()
    try:
        s.up()
        s.start_serve()
        yield s
    finally:
        s.down()


def test_fifty_nodes_share_the_image_and_spare_the_server(storm):
    image_id, size, want_digest = storm.build_image("storm", 1, IMAGE_MIB)
    macs = [f"52:54:00:77:00:{i:02x}" for i in range(1, NODES + 1)]
    nodes = []
    for i, mac in enumerate(macs):
        ns = storm.node_ns(f"10.98.1.{i + 1}")
        nodes.append((ns, mac, storm.credential(ns, mac)))
    link_seconds = NODES * size * 8 / (RATE_MBIT * 1_000_000)
    before = storm.server_tx_bytes()
    t0 = time.monotonic()
    procs = [storm.fetcher(ns, mac, image_id, storm.tmp / f"storm-{i}", SEED_SECONDS, cred)
             for i, (ns, mac, cred) in enumerate(nodes)]
    finished = {}
    deadline = t0 + min(STORM_DEADLINE_S, link_seconds)
    while len(finished) < len(procs) and time.monotonic() < deadline:
        for i, p in enumerate(procs):
            if i not in finished and p.poll() is not None:
                finished[i] = time.monotonic() - t0
        time.sleep(0.1)
    for p in procs:
        storm.seeder_pids(p.log_path)
    egress = storm.server_tx_bytes() - before
    slowest = max(finished.values()) if finished else None
    report = (f"image {size} bytes, {NODES} nodes, link {RATE_MBIT} Mbit/s (sending each node the image once: "
              f"{link_seconds:.0f} s); finished {len(finished)}/{NODES}, slowest {slowest} s; server egress "
              f"{egress} bytes = {egress / size:.2f} images")
    print(report)
    unfinished = [i for i in range(len(procs)) if i not in finished]
    assert not unfinished, report + "\n" + procs[unfinished[0]].log_path.read_text()[-3000:]
    for i, p in enumerate(procs):
        assert p.returncode == 0, p.log_path.read_text()[-3000:]
    assert egress <= 5 * size, report
    assert slowest < link_seconds, report
    for i in range(NODES):
        assert tree_digest(storm.tmp / f"storm-{i}") == want_digest, f"node {i}: root differs from the source"
    logs = "".join(p.log_path.read_text() for p in procs)
    from_peers = sum(int(x) for x in re.findall(r"verified \(p2p\): (\d+) chunks from peers", logs))
    assert from_peers > 0, logs[-3000:]
    text = storm.metrics()
    grants = float(re.search(r"^ramfleet_p2p_server_grants_total (\S+)", text, re.M).group(1))
    peers = float(re.search(r"^ramfleet_p2p_peer_answers_total (\S+)", text, re.M).group(1))
    chunk_bytes = sum(int(x) for x in re.findall(r"from ramfleet \((\d+) bytes\)", logs))
    announces = storm.api.json("/api/v1/counters").get("http.p2p.announces", 0)
    print(f"tracker: {grants:.0f} server grants, {peers:.0f} peer answers, {announces} announces; chunks from "
          f"peers: {from_peers}; chunk bytes from ramfleet {chunk_bytes} = {chunk_bytes / size:.2f} images")
    assert peers > grants


class HostilePeer:
    """A process answering the peer protocol with lies: `corrupt` serves every
    chunk at its right length with flipped bytes; `vanish` sends half of the
    first chunk asked for, then exits mid-chunk (the process dies)."""

    SCRIPT = r'''
import os, socket, sys
mode, image_path, chunk_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(image_path, "rb").read()
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 7480)); srv.listen(16)
print("listening", flush=True)
for _ in range(10000):
    c, _a = srv.accept()
    req = c.recv(2048).decode("latin-1")
    index = int(req.split()[1].rsplit("/", 1)[1])
    chunk = data[index * chunk_size:(index + 1) * chunk_size]
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(chunk)}\r\nConnection: close\r\n\r\n".encode()
    if mode == "corrupt":
        c.sendall(head + bytes(b ^ 0x5A for b in chunk)); c.close()
    else:
        c.sendall(head + chunk[: len(chunk) // 2])
        os._exit(0)
'''

    def __init__(self, storm, mode, image_id, ip, mac):
        self.ns = storm.node_ns(ip)
        image = storm.config / "assets/images" / image_id / "rootfs.cpio.zst"
        manifest = json.loads((storm.config / "assets/images" / image_id / "chunks.json").read_text())
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, "python3", "-c", self.SCRIPT, mode, str(image),
                                      str(manifest["chunk_size"])], stdout=subprocess.PIPE, text=True)
        storm.pids.append(self.proc.pid)
        assert self.proc.stdout.readline().strip() == "listening"
        # It claims to hold every chunk (with its own machine's real credential:
        # the tracker cannot know it lies; the receivers find out).
        cred = storm.credential(self.ns, mac)
        body = json.dumps({"port": 7480, "have": list(range(len(manifest["chunks"]))), "want": []})
        r = run(["ip", "netns", "exec", self.ns, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                 "-H", f"Authorization: Bearer {cred}", "--data-binary", body,
                 storm.url(f"/api/v1/machines/{mac}/p2p/{image_id}")])
        assert r.stdout == "200"


def one_node(storm, image_id, n, ip):
    ns = storm.node_ns(ip)
    into = storm.tmp / f"single-{n}"
    p = storm.fetcher(ns, f"52:54:00:77:01:{n:02x}", image_id, into, 0)
    p.wait(timeout=90)
    log = p.log_path.read_text()
    assert p.returncode == 0, log
    return into, log


@pytest.mark.parametrize("mode", ["corrupt", "vanish"])
def test_a_lying_or_vanishing_peer_costs_the_node_nothing_but_time(storm, mode):
    image_id, _, want = storm.build_image(mode, 10 if mode == "corrupt" else 11, 1)
    hostile = HostilePeer(storm, mode, image_id, "10.98.3.1" if mode == "corrupt" else "10.98.3.2",
                          "52:54:00:77:02:01" if mode == "corrupt" else "52:54:00:77:02:02")
    into, log = one_node(storm, image_id, 1 if mode == "corrupt" else 2, "10.98.4.1" if mode == "corrupt" else "10.98.4.2")
    assert tree_digest(into) == want
    peer = "10.98.3.1:7480" if mode == "corrupt" else "10.98.3.2:7480"
    if mode == "corrupt":
        assert re.search(rf"from peer {re.escape(peer)} failed \(its bytes do not match the manifest\)", log), log
        assert re.search(r"(\d+) corrupt", log) and int(re.search(r"(\d+) corrupt", log).group(1)) >= 1
    else:
        assert re.search(rf"from peer {re.escape(peer)} failed", log), log
        assert int(re.search(r"(\d+) broken", log).group(1)) >= 1
    # Barred after its first failure: at most the jobs already in flight to it
    # (the fetcher runs 4 at once) fail, of the 16 chunks it claimed.
    assert 1 <= len(re.findall(rf"from peer {re.escape(peer)} failed", log)) <= 4, log
    hostile.proc.kill()


def test_a_node_with_no_peers_takes_everything_from_the_server(storm):
    image_id, size, want = storm.build_image("alone", 12, 1)
    into, log = one_node(storm, image_id, 3, "10.98.4.3")
    assert tree_digest(into) == want
    m = re.search(r"verified \(p2p\): (\d+) chunks from peers \((\d+) bytes\), (\d+) from ramfleet \((\d+) bytes\)", log)
    assert m, log
    assert int(m.group(1)) == 0 and int(m.group(4)) == size


PROBE = r'''
import json, socket, sys, time
peer, image, other = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = peer.split(":")
def get(path, raw=None):
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(raw or f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body
out = {}
out["held"], body = get(f"/p2p/v1/{image}/0")
out["held_len"] = len(body)
out["beyond"], _ = get(f"/p2p/v1/{image}/60000")
out["other_image"], _ = get(f"/p2p/v1/{other}/0")
out["garbage"], _ = get(None, b"BREW /coffee HTCPCP/1.0\r\n\r\n")
out["huge_head"], _ = get(None, b"GET /" + b"a" * 2100)  # a head beyond 2 KiB, never finished
# 8 connections that say nothing hold every serving slot: the 9th is told 503 at once.
idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(8)]
time.sleep(0.5)
out["ninth"], _ = get(f"/p2p/v1/{image}/0")
for s in idle:
    s.close()
time.sleep(6)  # the idle ones time out (5 s): slots free again
out["after"], _ = get(f"/p2p/v1/{image}/0")
print(json.dumps(out))
'''


def test_a_seeding_node_serves_what_it_holds_within_bounds(storm):
    """The peer protocol as a node's seeder answers it: 200 with the chunk's
    bytes, 404 for what it does not hold (or another image), 400 for anything
    else, and 503 once its connections are all taken."""
    image_id, _, want = storm.build_image("seed", 13, 1)
    ns = storm.node_ns("10.98.5.1")
    into = storm.tmp / "seeder"
    p = storm.fetcher(ns, "52:54:00:77:03:01", image_id, into, 30)
    p.wait(timeout=90)
    assert p.returncode == 0, p.log_path.read_text()
    storm.seeder_pids(p.log_path)
    assert tree_digest(into) == want
    manifest = json.loads((storm.config / "assets/images" / image_id / "chunks.json").read_text())
    probe_ns = storm.node_ns("10.98.5.2")
    r = run(["ip", "netns", "exec", probe_ns, "python3", "-c", PROBE, "10.98.5.1:7480", image_id, "f" * 64])
    out = json.loads(r.stdout)
    assert out == {"held": 200, "held_len": manifest["chunk_size"], "beyond": 404, "other_image": 404,
                   "garbage": 400, "huge_head": 400, "ninth": 503, "after": 200}, out
