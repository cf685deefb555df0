"""ramfleet owns a real etcd cluster's membership and snapshots (issue 12, docs/etcd.md).

Three real etcd 3.4 members (Debian's etcd-server), each in its own network
namespace on a bridge in a hub namespace where `ramfleet serve` runs; no
QEMU. Each member gets what it runs with through the real boot path, from its
own address: /ipxe (boot token) then its Ignition config, whose files (the
node contract: etcd.conf.yml, its certificates, restore.env on a cold start)
are laid out under a per-member root directory, the paths in etcd.conf.yml
prefixed with it (the one liberty taken: three "nodes" share one file system).

One cluster is shared by the checks, in order: first formation; 1,000 keys;
a member killed (-9) and wiped rejoins as a learner and is promoted, the
keys readable from it; a healthy member's boot is refused; a member cut off
by a link down is left alone; every member wiped -> restored from the newest
snapshot that passes its check (a corrupted newest one is skipped), the
snapshot URL refused to everybody but its member and to it a second time;
and with `etcd.mode: stacked` (kubeadm runs etcd) a rebooted control-plane
member's stale entry is removed before its kubeadm join config is served.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

from netlab import PREFIX, RAMFLEET_BIN, sweep_stale_namespaces
from operator_api import OperatorApi

HUB_IP = "10.78.0.1"
MEMBERS = {"e1": ("10.78.0.11", "52:54:00:78:00:01"), "e2": ("10.78.0.12", "52:54:00:78:00:02"),
           "e3": ("10.78.0.13", "52:54:00:78:00:03")}
PORT = 8080
INTERVAL_S = 10  # etcd.snapshot.interval: the smallest allowed, so the test sees snapshots

CLUSTER = f"""\
name: etcdlab
kubernetesVersion: v1.29.4
distribution: kubeadm
controlPlaneEndpoint: 10.78.0.11:6443
etcd:
  mode: ramfleet
  snapshot: {{interval: {INTERVAL_S}s, keep: 3}}
  members:
{chr(10).join(f"    - {{name: {n}, ip: {ip}}}" for n, (ip, _) in MEMBERS.items())}
roles:
  control-plane: [{{labels: {{role: etcd}}}}]
pki: {{keyAlgorithm: ecdsa-p256}}
"""

PROFILE = 'kernel: vmlinuz\nargs: ["ignition.config.url={{ignition_url}}"]\nconfig: {target: ignition, layers: [base.bu]}\n'
BASE_LAYER = "variant: fcos\nversion: 1.4.0\n"


def data_url(source):
    """An Ignition file's contents (data: URL, base64 or percent-encoded)."""
    assert source.startswith("data:"), source
    meta, _, data = source[5:].partition(",")
    return base64.b64decode(data).decode() if meta.endswith(";base64") else urllib.parse.unquote(data)


def run(cmd, check=True, timeout=60, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, f"{cmd}: {r.stdout}{r.stderr}"
    return r


class Lab:
    """The hub namespace (bridge, ramfleet serve) and one namespace per member."""

    def __init__(self):
        sweep_stale_namespaces()
        self.tmp = Path(tempfile.mkdtemp(prefix="ramfleet-etcd-"))
        self.hub = f"{PREFIX}{os.getpid()}xeh"
        self.ns = {n: f"{PREFIX}{os.getpid()}xe{n}" for n in MEMBERS}
        self.etcd = {}  # name -> Popen
        self.serve = None
        try:
            self._build()
        except Exception:
            self.close()
            raise

    def _build(self):
        run(["ip", "netns", "add", self.hub])
        run(["ip", "-n", self.hub, "link", "set", "lo", "up"])
        run(["ip", "-n", self.hub, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.hub, "addr", "add", f"{HUB_IP}/24", "dev", "br0"])
        run(["ip", "-n", self.hub, "link", "set", "br0", "up"])
        for i, (name, (ip, _)) in enumerate(MEMBERS.items()):
            ns = self.ns[name]
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            host_end = f"rfe{os.getpid() % 100000}{i}"
            run(["ip", "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", ns])
            run(["ip", "link", "set", host_end, "netns", self.hub])
            run(["ip", "-n", self.hub, "link", "set", host_end, "master", "br0", "up"])
            run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])

    def in_ns(self, ns, *cmd, **kw):
        return run(["ip", "netns", "exec", ns, *cmd], **kw)

    def close(self):
        for p in list(self.etcd.values()) + ([self.serve] if self.serve else []):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
        for ns in [self.hub, *self.ns.values()]:
            run(["ip", "netns", "del", ns], check=False)
        if not os.environ.get("KEEP_ETCD_LAB"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- ramfleet -----------------------------------------------------------
    def start_serve(self):
        cfg, state = self.tmp / "config", self.tmp / "state"
        (cfg / "profiles").mkdir(parents=True)
        (cfg / "groups").mkdir()
        (cfg / "cluster.yaml").write_text(CLUSTER)
        (cfg / "inventory.yaml").write_text("default: exit\n")
        (cfg / "ramfleet.yaml").write_text(
            "http: {reload_interval: 500ms, boot_token_ttl: 2m, boot_token_burst: 1000, boot_token_rate_per_min: 1000}\n")
        (cfg / "profiles" / "etcd.yaml").write_text(PROFILE)
        (cfg / "configs").mkdir()
        (cfg / "configs" / "base.bu").write_text(BASE_LAYER)
        for name, (_, mac) in MEMBERS.items():
            (cfg / "groups" / f"{name}.yaml").write_text(
                f'profile: etcd\nselector: {{mac: "{mac}"}}\nmetadata: {{hostname: {name}, role: etcd}}\n')
        run([RAMFLEET_BIN, "check", cfg])
        run([RAMFLEET_BIN, "cluster", "init", "-q", "--config", cfg, "--state", state], timeout=120)
        for name in MEMBERS:
            run([RAMFLEET_BIN, "cluster", "approve", name, "--state", state, "--config", cfg])
        self.state, self.cfg = state, cfg
        self.serve_log = self.tmp / "serve.log"
        self._log = open(self.serve_log, "w")
        self.serve = subprocess.Popen(
            ["ip", "netns", "exec", self.hub, RAMFLEET_BIN, "--log-level", "debug", "serve", "--dhcp", "off",
             "--listen", HUB_IP, "--http-port", str(PORT), "--tftp-port", "-1", "--no-router-advertisements",
             "--config", str(cfg), "--state", str(state)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.serve.poll() is None, self.serve_log.read_text()
            if self.curl(self.hub, "/healthz")[0] == 200:
                return
            time.sleep(0.2)
        raise AssertionError("serve did not come up: " + self.serve_log.read_text())

    def curl(self, ns, path_or_url, out=None):
        """(status, body text) of a GET from inside `ns`."""
        url = path_or_url if path_or_url.startswith("http") else f"http://{HUB_IP}:{PORT}{path_or_url}"
        with tempfile.NamedTemporaryFile() as body:
            r = self.in_ns(ns, "curl", "-s", "--max-time", "15", "-o", out or body.name, "-w", "%{http_code}", url,
                           check=False, timeout=30)
            text = "" if out else Path(body.name).read_text(errors="replace")
        return (int(r.stdout) if r.stdout.isdigit() else 0), text

    def api(self, path="/api/v1/etcd"):
        """A read of the operator API (HTTPS, admin token) inside the hub."""
        return OperatorApi(self.state, netns=self.hub).json(path)

    def log(self):
        return self.serve_log.read_text(errors="replace")

    # --- a member's boot ------------------------------------------------------
    def boot(self, name, expect=200, wait=60):
        """The member's /ipxe then its config, from its own address. Retries a 503 (docs/etcd.md)."""
        ip, mac = MEMBERS[name]
        status, script = self.curl(self.ns[name], f"/ipxe?mac={mac}")
        assert status == 200, script
        url = re.search(r"ignition\.config\.url=(\S+)", script).group(1)
        deadline = time.monotonic() + wait
        while True:
            status, body = self.curl(self.ns[name], url)
            if status != 503 or expect == 503 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert status == expect, f"{name}: HTTP {status}: {body}"
        if status != 200:
            return body
        files = {f["path"]: data_url(f["contents"]["source"]) for f in json.loads(body)["storage"]["files"]}
        self.last_files = files
        return {p: t for p, t in files.items() if p.startswith("/etc/ramfleet/etcd/")}

    def root(self, name):
        return self.tmp / "nodes" / name

    def lay_out(self, name, files):
        """Writes the member's files under its root (fresh RAM: nothing else there)."""
        root = self.root(name)
        shutil.rmtree(root, ignore_errors=True)
        for path, text in files.items():
            dest = root / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if path.endswith(".yml"):
                text = text.replace("/etc/ramfleet/etcd/", f"{root}/etc/ramfleet/etcd/")
                text = text.replace('"/var/lib/etcd"', f'"{root}/var/lib/etcd"')
            dest.write_text(text)
            if path.endswith(".key") or path.endswith(".env"):
                dest.chmod(0o600)
        return root

    def conf(self, files):
        lines = files["/etc/ramfleet/etcd/etcd.conf.yml"].splitlines()
        return {k.strip(): v.strip().strip('"') for k, _, v in (l.partition(":") for l in lines) if v.strip()}

    def restore(self, name, files):
        """What the node does with restore.env: download, check, etcdctl snapshot restore."""
        env = dict(l.split("=", 1) for l in files["/etc/ramfleet/etcd/restore.env"].splitlines())
        snap = self.tmp / f"{name}-snapshot.db"
        status, _ = self.curl(self.ns[name], env["RESTORE_URL"], out=str(snap))
        assert status == 200
        assert hashlib.sha256(snap.read_bytes()).hexdigest() == env["RESTORE_SHA256"]
        c = self.conf(files)
        run(["etcdctl", "snapshot", "restore", snap, "--data-dir", self.root(name) / "var/lib/etcd",
             "--name", c["name"], "--initial-cluster", c["initial-cluster"],
             "--initial-cluster-token", c["initial-cluster-token"],
             "--initial-advertise-peer-urls", c["initial-advertise-peer-urls"]],
            env=dict(os.environ, ETCDCTL_API="3"))
        snap.unlink()
        return env

    def start_etcd(self, name):
        conf = self.root(name) / "etc/ramfleet/etcd/etcd.conf.yml"
        log = open(self.tmp / f"etcd-{name}.log", "ab")
        self.etcd[name] = subprocess.Popen(["ip", "netns", "exec", self.ns[name], "etcd", "--config-file", conf],
                                           stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def kill9(self, name):
        p = self.etcd.pop(name)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        shutil.rmtree(self.root(name), ignore_errors=True)  # its RAM is gone

    def etcdctl(self, *args, endpoints=None, check=True, input=None):
        pki = self.state / "pki"
        eps = endpoints or [f"https://{ip}:2379" for ip, _ in MEMBERS.values()]
        return self.in_ns(self.hub, "etcdctl", "--endpoints", ",".join(eps), "--cacert", pki / "etcd/ca.crt",
                          "--cert", pki / "apiserver-etcd-client.crt", "--key", pki / "apiserver-etcd-client.key",
                          "--dial-timeout", "3s", "--command-timeout", "10s", *args,
                          env=dict(os.environ, ETCDCTL_API="3"), check=check, timeout=60, input=input)

    def wait_for(self, what, predicate, timeout=90):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.api()
            if predicate(last):
                return last
            time.sleep(1)
        raise AssertionError(f"{what} within {timeout}s; last /api/v1/etcd:\n{json.dumps(last, indent=1)}\n"
                             + self.log()[-4000:])


def voters_healthy(s, n=3):
    ms = s["members"]
    return (len(ms) == n and all(m["healthy"] and not m["learner"] for m in ms) and s["quorum"]["ok"])


def actions(s, kind, member=None):
    return [a for a in s["actions"] if a["action"] == kind and (member is None or a["member"] == member)]


@pytest.fixture(scope="module")
def lab():
    lab = Lab()
    try:
        lab.start_serve()
        yield lab
    finally:
        lab.close()


def test_first_formation_every_member_new_once(lab):
    booted = {n: lab.boot(n) for n in MEMBERS}
    for name, files in booted.items():
        c = lab.conf(files)
        assert c["initial-cluster-state"] == "new"
        assert c["initial-cluster"] == ",".join(f"{n}=https://{ip}:2380" for n, (ip, _) in MEMBERS.items())
        assert "/etc/ramfleet/etcd/restore.env" not in files
        lab.lay_out(name, files)
    for name in MEMBERS:
        lab.start_etcd(name)
    s = lab.wait_for("three healthy voting members", voters_healthy)
    s = lab.wait_for("the formation recorded", lambda s: s["formed"])
    assert s["leader"] in MEMBERS
    assert actions(s, "formed")
    # The operator's view: `ramfleet etcd status` prints what the API says.
    out = lab.in_ns(lab.hub, RAMFLEET_BIN, "etcd", "status", "--state", str(lab.state)).stdout
    assert f"leader: {s['leader']}" in out and "3/3 voting members answer" in out, out
    for name in MEMBERS:
        assert re.search(rf"^{name} +[0-9a-f]+ +(leader|voter) +yes", out, re.M), out
    assert "first_formation" in out and "RPO:" in out


def test_thousand_keys_and_a_snapshot_holding_them(lab):
    for batch in range(8):
        ops = "".join(f"put key-{i:04d} value-{i}\n" for i in range(batch * 125, (batch + 1) * 125))
        r = lab.etcdctl("txn", input="\n" + ops + "\n\n")
        assert "SUCCESS" in r.stdout, r.stdout + r.stderr
    rev = int(json.loads(lab.etcdctl("endpoint", "status", "-w", "json",
                                     endpoints=[f"https://{MEMBERS['e1'][0]}:2379"]).stdout)[0]["Status"]["header"]["revision"])
    lab.keys_revision = rev
    s = lab.wait_for("a snapshot at or after the 1,000 keys",
                     lambda s: s["snapshots"]["last"] and s["snapshots"]["last"]["revision"] >= rev,
                     timeout=INTERVAL_S * 4)
    assert s["snapshots"]["last"]["size"] > 0
    assert "lost" in s["rpo"]


def test_a_killed_and_wiped_member_rejoins_as_learner_and_is_promoted(lab):
    before = {m["name"]: m["id"] for m in lab.api()["members"]}
    lab.kill9("e3")
    files = lab.boot("e3")
    c = lab.conf(files)
    assert c["initial-cluster-state"] == "existing"
    assert sorted(c["initial-cluster"].split(",")) == sorted(
        f"{n}=https://{ip}:2380" for n, (ip, _) in MEMBERS.items())
    s = lab.api()
    assert actions(s, "removed_stale", "e3"), s["actions"]
    assert actions(s, "rejoin_as_learner", "e3")
    s = lab.wait_for("an unstarted learner in e3's place", lambda s: [
        (m["id"], m["name"]) for m in s["members"] if m["learner"]] not in ([], [(before["e3"], "e3")]), timeout=20)
    assert len(s["members"]) == 3 and before["e3"] not in [m["id"] for m in s["members"]]
    assert s["learners"] == [""]  # not started yet: etcd names it when it first starts
    lab.lay_out("e3", files)
    lab.start_etcd("e3")
    s = lab.wait_for("e3 promoted to a healthy voting member", voters_healthy)
    assert actions(s, "promoted", "e3")
    new_id = next(m["id"] for m in s["members"] if m["name"] == "e3")
    assert new_id != before["e3"]
    # The keys are in e3's own copy: a serializable read answers from it alone.
    r = lab.etcdctl("get", "key-0999", "--print-value-only", "--consistency=s",
                    endpoints=[f"https://{MEMBERS['e3'][0]}:2379"])
    assert r.stdout.strip() == "value-999"


def test_a_healthy_members_boot_is_refused_and_nothing_changes(lab):
    ids = sorted(m["id"] for m in lab.api()["members"])
    body = lab.boot("e1", expect=409)
    assert "still answers" in body
    s = lab.api()
    assert sorted(m["id"] for m in s["members"]) == ids
    assert actions(s, "refused_healthy_member", "e1")


def test_a_member_cut_off_by_link_down_is_left_alone(lab):
    ids = sorted(m["id"] for m in lab.api()["members"])
    lab.in_ns(lab.ns["e2"], "ip", "link", "set", "eth0", "down")
    try:
        s = lab.wait_for("e2 seen unhealthy", lambda s: any(m["name"] == "e2" and not m["healthy"]
                                                            for m in s["members"]), timeout=30)
        time.sleep(6)  # a few reconciler passes
        s = lab.api()
        assert sorted(m["id"] for m in s["members"]) == ids  # nothing removed, nothing added
        assert not actions(s, "removed_stale", "e2")
    finally:
        lab.in_ns(lab.ns["e2"], "ip", "link", "set", "eth0", "up")
    lab.wait_for("e2 healthy again", voters_healthy, timeout=60)


def test_cold_start_restores_the_newest_good_snapshot(lab):
    rev = lab.keys_revision
    snaps_dir = lab.state / "etcd" / "snapshots"
    # Two snapshots holding the keys, so the newest can be corrupted.
    lab.wait_for("two snapshots holding the keys",
                 lambda s: len([p for p in snaps_dir.glob("snapshot-*.db")
                                if int(p.stem.split("-r")[1]) >= rev]) >= 2, timeout=INTERVAL_S * 6)
    for name in list(lab.etcd):
        lab.kill9(name)
    snaps = sorted(snaps_dir.glob("snapshot-*.db"), key=lambda p: int(p.stem.split("-")[1]), reverse=True)
    newest, good = snaps[0], snaps[1]
    with open(newest, "r+b") as f:
        f.seek(newest.stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))

    files = lab.boot("e1")
    c = lab.conf(files)
    assert c["initial-cluster-state"] == "new"
    assert c["initial-cluster"] == f"e1=https://{MEMBERS['e1'][0]}:2380"
    env = dict(l.split("=", 1) for l in files["/etc/ramfleet/etcd/restore.env"].splitlines())
    assert env["RESTORE_SHA256"] == hashlib.sha256(good.read_bytes()).hexdigest()
    s = lab.api()
    assert any(newest.name in a["reason"] for a in actions(s, "snapshot_skipped")), s["actions"]
    assert s["cold_start_seed"] == "e1"

    # The snapshot holds all of the cluster's data: nobody but e1 gets it.
    url = env["RESTORE_URL"]
    assert "/etcd/snapshot/token=" in url
    assert lab.curl(lab.ns["e2"], url)[0] == 403
    assert lab.curl(lab.hub, url)[0] == 403
    assert lab.curl(lab.ns["e1"], url.rsplit("=", 1)[0] + "=" + "0" * 64)[0] == 403
    assert lab.curl(lab.ns["e1"], url.replace("token=", ""))[0] == 403
    # The others wait for the seed (503) rather than form clusters of their own.
    assert "cold start in progress" in lab.boot("e2", expect=503)

    lab.lay_out("e1", files)
    lab.restore("e1", files)  # downloads it: the one time
    assert lab.curl(lab.ns["e1"], url)[0] == 403  # not twice
    lab.start_etcd("e1")
    lab.wait_for("the seed up", lambda s: any(m["name"] == "e1" and m["healthy"] for m in s["members"]))
    for name in ("e2", "e3"):  # each waits (503) while the other's learner catches up
        files = lab.boot(name, wait=90)
        assert lab.conf(files)["initial-cluster-state"] == "existing"
        lab.lay_out(name, files)
        lab.start_etcd(name)
        lab.wait_for(f"{name} promoted", lambda s, n=name: any(m["name"] == n and m["healthy"] and not m["learner"]
                                                              for m in s["members"]))
    s = lab.wait_for("three healthy voting members after the cold start", voters_healthy)
    assert s["cold_start_seed"] is None
    assert actions(s, "cold_start_done", "e1")
    for name, (ip, _) in MEMBERS.items():
        r = lab.etcdctl("get", "key-0999", "--print-value-only", "--consistency=s", endpoints=[f"https://{ip}:2379"])
        assert r.stdout.strip() == "value-999", name
    counters = lab.api("/api/v1/counters")
    assert counters.get("http.etcd.snapshot_refused", 0) >= 4
    assert counters.get("http.etcd.snapshot_served") == 1


def test_stacked_kubeadm_member_is_removed_before_its_join(lab):
    """etcd.mode: stacked: kubeadm's `join --control-plane` adds the member itself;
    ramfleet removes the rebooted member's stale entry first, adds nothing, and
    compiles no etcd configuration."""
    before = lab.curl(lab.hub, "/healthz")[1]
    generation = json.loads(before)["inventory"]["generation"]
    (lab.cfg / "cluster.yaml").write_text(CLUSTER.replace("mode: ramfleet", "mode: stacked"))
    (lab.cfg / "inventory.yaml").write_text("default: exit\n# etcd.mode: stacked\n")
    deadline = time.monotonic() + 15
    while json.loads(lab.curl(lab.hub, "/healthz")[1])["inventory"]["generation"] == generation:
        assert time.monotonic() < deadline, "the config edit was not picked up"
        time.sleep(0.2)
    listed = json.loads(lab.etcdctl("member", "list", "-w", "json").stdout)["members"]
    old_id = next(m["ID"] for m in listed if m.get("name") == "e3")
    lab.kill9("e3")
    assert lab.boot("e3") == {}  # no /etc/ramfleet/etcd files: kubeadm runs etcd
    assert "JoinConfiguration" in lab.last_files["/etc/kubernetes/kubeadm.yaml"]
    assert "/etc/kubernetes/pki/etcd/peer.key" in lab.last_files
    listed = json.loads(lab.etcdctl("member", "list", "-w", "json").stdout)["members"]
    assert old_id not in [m["ID"] for m in listed]
    assert len(listed) == 2 and not any(m.get("isLearner") for m in listed)  # kubeadm's join adds it back
    assert actions(lab.api(), "removed_stale", "e3")[-1]["reason"].find("kubeadm join") >= 0
