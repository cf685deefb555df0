"""A real 3-member etcd cluster (Debian's etcd-server 3.4) running on the
certificates `ramfleet cluster init` issued, with mutual TLS on both the client
and the peer side. Members listen on 127.0.0.1-3 (all loopback) on free ports.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from netlab import RAMFLEET_BIN

MEMBERS = [("etcd1", "127.0.0.1"), ("etcd2", "127.0.0.2"), ("etcd3", "127.0.0.3")]

SPEC = """\
name: {name}
kubernetesVersion: v1.29.4
distribution: kubeadm
controlPlaneEndpoint: 127.0.0.1:6443
etcd:
  members:
{members}
roles:
  control-plane: [{{labels: {{role: control-plane}}}}]
pki:
  keyAlgorithm: ecdsa-p256
"""


def cluster_init(tmp_path, name):
    cfg = tmp_path / f"cfg-{name}"
    cfg.mkdir()
    members = "\n".join(f"    - {{name: {n}, ip: {ip}}}" for n, ip in MEMBERS)
    (cfg / "cluster.yaml").write_text(SPEC.format(name=name, members=members))
    state = tmp_path / f"state-{name}"
    r = subprocess.run([RAMFLEET_BIN, "cluster", "init", "-q", "--config", cfg, "--state", state],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return state


def free_port(ip):
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def etcdctl(state_pki, endpoints, *args, cert="apiserver-etcd-client", pki_for_cert=None, timeout=20):
    client_pki = pki_for_cert or state_pki
    cmd = ["etcdctl", "--endpoints", ",".join(endpoints), "--cacert", state_pki / "etcd" / "ca.crt",
           "--cert", client_pki / f"{cert}.crt", "--key", client_pki / f"{cert}.key",
           "--dial-timeout", "3s", "--command-timeout", "5s", *args]
    env = dict(os.environ, ETCDCTL_API="3")
    return subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def etcd_cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("etcd")
    state = cluster_init(tmp, "lab")
    pki = state / "pki"
    ports = {name: (free_port(ip), free_port(ip)) for name, ip in MEMBERS}  # (client, peer)
    initial = ",".join(f"{n}=https://{ip}:{ports[n][1]}" for n, ip in MEMBERS)
    token = f"ramfleet-test-{uuid.uuid4().hex[:8]}"
    procs, logs, data_dirs = [], [], []
    try:
        for name, ip in MEMBERS:
            client, peer = ports[name]
            member = pki / "etcd" / "members" / name
            data = tmp / f"data-{name}"
            data_dirs.append(data)
            log = open(tmp / f"{name}.log", "wb")
            logs.append(log)
            procs.append(subprocess.Popen([
                "etcd", "--name", name, "--data-dir", str(data),
                "--listen-client-urls", f"https://{ip}:{client}", "--advertise-client-urls", f"https://{ip}:{client}",
                "--listen-peer-urls", f"https://{ip}:{peer}", "--initial-advertise-peer-urls", f"https://{ip}:{peer}",
                "--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", token,
                "--client-cert-auth", "--trusted-ca-file", str(pki / "etcd" / "ca.crt"),
                "--cert-file", str(member / "server.crt"), "--key-file", str(member / "server.key"),
                "--peer-client-cert-auth", "--peer-trusted-ca-file", str(pki / "etcd" / "ca.crt"),
                "--peer-cert-file", str(member / "peer.crt"), "--peer-key-file", str(member / "peer.key"),
                "--listen-metrics-urls", f"http://{ip}:{free_port(ip)}",
            ], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        endpoints = [f"https://{ip}:{ports[n][0]}" for n, ip in MEMBERS]
        deadline = time.monotonic() + 60
        healthy = None
        while time.monotonic() < deadline:
            for p in procs:
                assert p.poll() is None, "an etcd member exited; see " + str(tmp)
            healthy = etcdctl(pki, endpoints, "endpoint", "health", cert="etcd/healthcheck-client")
            if healthy.returncode == 0:
                break
            time.sleep(0.5)
        assert healthy is not None and healthy.returncode == 0, \
            f"no quorum within 60 s: {healthy.stderr if healthy else ''}\n" + \
            "\n".join((tmp / f"{n}.log").read_text(errors="replace")[-2000:] for n, _ in MEMBERS)
        yield {"pki": pki, "endpoints": endpoints, "tmp": tmp}
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        for log in logs:
            log.close()
        for d in data_dirs:
            shutil.rmtree(d, ignore_errors=True)


def test_three_members_form_a_quorum_over_mutual_tls(etcd_cluster):
    r = etcdctl(etcd_cluster["pki"], etcd_cluster["endpoints"], "member", "list", "-w", "simple")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3
    assert all(", started, " in line for line in lines)
    assert {line.split(", ")[2] for line in lines} == {n for n, _ in MEMBERS}
    r = etcdctl(etcd_cluster["pki"], etcd_cluster["endpoints"], "endpoint", "status", "-w", "fields")
    assert r.returncode == 0, r.stderr
    leaders = {line.split(":", 1)[1].strip() for line in r.stdout.splitlines() if line.startswith('"Leader"')}
    assert len(leaders) == 1 and leaders != {"0"}  # all three agree on one leader


@pytest.mark.parametrize("cert", ["apiserver-etcd-client", "etcd/healthcheck-client"])
def test_generated_client_certificates_write_and_read(etcd_cluster, cert):
    pki, eps = etcd_cluster["pki"], etcd_cluster["endpoints"]
    key, value = f"/ramfleet/{cert}", uuid.uuid4().hex
    r = etcdctl(pki, eps[:1], "put", key, value, cert=cert)
    assert r.returncode == 0 and r.stdout.strip() == "OK", r.stderr
    # Read back through another member: the write was replicated.
    r = etcdctl(pki, eps[2:], "get", key, "--print-value-only", cert=cert)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == value


def rejections(tmp):
    """Client certificates the members refused, as etcd logs them."""
    return sum((tmp / f"{n}.log").read_text(errors="replace").count("failed to verify client certificate")
               for n, _ in MEMBERS)


def test_a_certificate_from_another_cluster_is_refused(etcd_cluster):
    other = cluster_init(etcd_cluster["tmp"], "other")
    pki, eps = etcd_cluster["pki"], etcd_cluster["endpoints"]
    before = rejections(etcd_cluster["tmp"])
    r = etcdctl(pki, eps[:1], "put", "/ramfleet/intruder", "x", pki_for_cert=other / "pki")
    assert r.returncode != 0
    # Refused by the server's TLS handshake, not by some unrelated failure.
    assert rejections(etcd_cluster["tmp"]) > before
    r = etcdctl(pki, eps[:1], "get", "/ramfleet/intruder", "--print-value-only")
    assert r.returncode == 0 and r.stdout.strip() == ""
    # Without any client certificate: refused too (--client-cert-auth).
    env = dict(os.environ, ETCDCTL_API="3")
    r = subprocess.run(["etcdctl", "--endpoints", eps[0], "--cacert", str(pki / "etcd" / "ca.crt"),
                        "--dial-timeout", "3s", "--command-timeout", "5s", "get", "/x"],
                       capture_output=True, text=True, timeout=20, env=env)
    assert r.returncode != 0


def test_a_peer_with_another_clusters_certificate_cannot_join(etcd_cluster):
    """A fourth member presenting the other cluster's peer certificate is refused by the peers.

    It trusts this cluster's CA, so the only thing keeping it out is the
    members' --peer-client-cert-auth check of its certificate."""
    other = cluster_init(etcd_cluster["tmp"], "intruder")
    pki, eps = etcd_cluster["pki"], etcd_cluster["endpoints"]
    ip = "127.0.0.1"
    peer = free_port(ip)
    # The member add itself succeeds (it is an API call with a valid client cert)...
    r = etcdctl(pki, eps, "member", "add", "etcd1", f"--peer-urls=https://{ip}:{peer}")
    assert r.returncode == 0, r.stderr
    member_id = r.stdout.split("Member ", 1)[1].split()[0]
    data = etcd_cluster["tmp"] / "data-intruder"
    log_path = etcd_cluster["tmp"] / "intruder.log"
    initial = [line.split("=", 1)[1].strip('"') for line in r.stdout.splitlines()
               if line.startswith("ETCD_INITIAL_CLUSTER=")][0]
    member = other / "pki" / "etcd" / "members" / "etcd1"
    before = rejections(etcd_cluster["tmp"])
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([
            "etcd", "--name", "etcd1", "--data-dir", str(data),
            "--listen-client-urls", f"https://{ip}:{free_port(ip)}", "--advertise-client-urls", f"https://{ip}:1",
            "--listen-peer-urls", f"https://{ip}:{peer}", "--initial-advertise-peer-urls", f"https://{ip}:{peer}",
            "--initial-cluster", initial, "--initial-cluster-state", "existing",
            "--client-cert-auth", "--trusted-ca-file", str(pki / "etcd" / "ca.crt"),
            "--cert-file", str(member / "server.crt"), "--key-file", str(member / "server.key"),
            "--peer-client-cert-auth", "--peer-trusted-ca-file", str(pki / "etcd" / "ca.crt"),
            "--peer-cert-file", str(member / "peer.crt"), "--peer-key-file", str(member / "peer.key"),
        ], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
        r = etcdctl(pki, eps, "member", "list", "-w", "simple")
        assert r.returncode == 0, r.stderr
        line = next(line for line in r.stdout.splitlines() if line.startswith(member_id))
        assert ", unstarted, " in line, line  # never admitted as a started peer
        assert rejections(etcd_cluster["tmp"]) > before
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        etcdctl(pki, eps, "member", "remove", member_id)
        shutil.rmtree(data, ignore_errors=True)
