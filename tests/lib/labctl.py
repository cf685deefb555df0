"""Driving `ramfleet lab` from the e2e tests (tests/e2e/test_lab_*.py).

The lab records itself in <dir>/lab.json (namespace, server address, every
process with its PID and start time); these helpers read that back, query
ramfleet's API inside the lab's namespace, and check that `down` left nothing.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from netlab import RAMFLEET_BIN
from operator_api import OperatorApi

CACHE = os.environ.get("RAMFLEET_LAB_CACHE", "/var/cache/ramfleet")


def lab(*args, timeout=600):
    return subprocess.run([RAMFLEET_BIN, "lab", *args], capture_output=True, text=True, timeout=timeout)


def up(dir_, *args, timeout=600):
    r = lab("up", "--dir", str(dir_), "--cache", CACHE, "--timeout", "420", *args, timeout=timeout)
    print(r.stdout, r.stderr)
    return r


def state(dir_):
    return json.loads((Path(dir_) / "lab.json").read_text())


def operator_api(st):
    """The lab's operator API (HTTPS, the admin token its serve wrote in
    <dir>/state), called inside the lab's namespace."""
    return OperatorApi(Path(st["dir"]) / "state", netns=st["namespace"])


def api_raw(st, path):
    r = operator_api(st).fetch(path)
    assert r.status == 200, (path, r.status, r.headers.get("curl-error"))
    return r.body


def boot_raw(st, path):
    """A node route (/ignition, /ipxe, /assets...) on the boot listener, from inside the lab's namespace."""
    r = subprocess.run(["ip", "netns", "exec", st["namespace"], "curl", "-sf", "--max-time", "5",
                        f"http://{st['server_ip']}:{st['http_port']}{path}"], capture_output=True, timeout=20)
    assert r.returncode == 0, (path, r.stderr)
    return r.stdout


def api(st, path):
    return json.loads(api_raw(st, path))


def start_time(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def processes(st):
    procs = list(st.get("vms", []))
    if "serve" in st:
        procs.append(st["serve"])
    return procs


def assert_gone(st, dir_):
    for p in processes(st):
        assert start_time(p["pid"]) != p["start_time"], f"{p['what']} (pid {p['pid']}) still running"
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert st["namespace"] not in netns.split()
    assert not (Path(dir_) / "lab.json").exists()


@pytest.fixture
def lab_dir(tmp_path):
    d = tmp_path / "lab"
    yield d
    if (d / "lab.json").exists():  # a failed test still cleans up
        lab("down", "--dir", str(d))
    keep = os.environ.get("RAMFLEET_KEEP_LOGS")
    if keep and (d / "logs").exists():
        subprocess.run(["cp", "-r", str(d / "logs"), keep], check=False)


# ---- etcd labs (`lab up --cluster etcd`, tests/e2e/test_lab_etcd.py) ----

def etcd_client_cert(dir_):
    """(ca, cert, key) etcdctl presents: ramfleet's own client certificate from
    its etcd CA when `cluster init` made one, else kubeadm's healthcheck client
    (same CA), as `lab up` itself chooses (src/lab/etcd_probe.cpp)."""
    pki = Path(dir_) / "state" / "pki" / "etcd"
    for name in ("ramfleet-client", "healthcheck-client"):
        if (pki / f"{name}.crt").exists() and (pki / f"{name}.key").exists():
            return pki / "ca.crt", pki / f"{name}.crt", pki / f"{name}.key"
    raise AssertionError(f"no etcd client certificate under {pki}")


def endpoints(st, names=None):
    return ",".join(f"https://{n['ip']}:2379" for n in st["nodes"] if names is None or n["name"] in names)


def etcdctl(st, dir_, *args, names=None, timeout=60, input=None):
    """Debian's etcdctl from the host, inside the lab's namespace, with TLS
    client-certificate auth against the members (all, or those in `names`)."""
    ca, cert, key = etcd_client_cert(dir_)
    cmd = ["ip", "netns", "exec", st["namespace"], "etcdctl", f"--endpoints={endpoints(st, names)}",
           f"--cacert={ca}", f"--cert={cert}", f"--key={key}", "--dial-timeout=3s", "--command-timeout=20s", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input,
                          env={**os.environ, "ETCDCTL_API": "3"})
