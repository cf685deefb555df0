"""The operator API's writes (issue 13, docs/operations.md "Writes"), through
the real `ramfleet serve --dhcp off` on 127.0.0.1 and its operator listener
(HTTPS, the admin token serve wrote: tests/lib/operator_api.py).

Approving a discovered machine writes <config>/machines/<name>.yaml and the
machine boots as a member of the group; labels rewrite that file; revoking
a node identity makes the next boot issue a new one; a reload reloads. Every
bad input is a 4xx and leaves the config directory byte for byte as it was;
nobody without an admin credential writes anything.
"""
import base64
import json
import re
import shutil
import tempfile
import urllib.parse
from pathlib import Path

import pytest

from loopback_serve import LoopbackServe, fetch
from operator_api import DEFAULT

CLUSTER = """\
name: lab
kubernetesVersion: v1.29.4
distribution: kubeadm
controlPlaneEndpoint: 127.0.0.10:6443
etcd:
  members:
    - {name: cp1, ip: 127.0.0.11}
roles:
  control-plane: [{hostname: cp1}]
  worker: [{labels: {pool: general}}]
pki: {keyAlgorithm: ecdsa-p256}
"""
LAYER = 'variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents: {inline: "hi\\n"}\n'
FILES = {
    "configs/base.bu": LAYER,
    "profiles/ign.yaml": 'kernel: vmlinuz\nargs: ["ignition.config.url={{ignition_url}}", "host={{metadata.hostname}}",'
                         ' "rack={{metadata.rack}}"]\nconfig: {target: ignition, layers: [base.bu]}\n',
    "groups/cp.yaml": 'profile: ign\nselector: {mac: "52:54:00:00:01:01"}\nmetadata: {hostname: cp1}\n',
    # Nobody matches this group by what they send: only approval puts a machine in it.
    "groups/workers.yaml": 'profile: ign\nselector: {labels: {pool: never-sent}}\nmetadata: {pool: general}\n',
    "inventory.yaml": "default: exit\n",
    "cluster.yaml": CLUSTER,
}
MAC = "52:54:00:00:07:01"
OTHER = "52:54:00:00:07:02"
HOST = "127.0.0.71"


@pytest.fixture(scope="module")
def server():
    import subprocess
    from netlab import RAMFLEET_BIN
    tmp = Path(tempfile.mkdtemp(prefix="rf-operator-writes-"))
    s = LoopbackServe(tmp)
    for rel, text in FILES.items():
        (s.config / rel).parent.mkdir(parents=True, exist_ok=True)
        (s.config / rel).write_text(text)
    r = subprocess.run([RAMFLEET_BIN, "cluster", "init", "--config", s.config, "--state", s.state, "--quiet"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    s.start()
    # Two machines discovered: unmatched, they boot nothing yet.
    for mac in (MAC, OTHER):
        r = fetch(s.base + f"/ipxe?mac={mac}", "--interface", HOST)
        assert r.status == 200 and "exit" in r.text, r.text
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def write(server, method, path, body, token=DEFAULT, **kw):
    """A write as the admin (token=DEFAULT), without a credential (None) or with `token`."""
    kw["token"] = token
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    if isinstance(data, str):
        data = data.encode()
    tmp = server.tmp / "body.bin"
    tmp.write_bytes(data)
    return server.api.fetch(path, "-H", "Content-Type: application/json", "--data-binary", f"@{tmp}",
                            method=method, **kw)


def snapshot(config):
    return {str(p.relative_to(config)): p.read_bytes() for p in sorted(config.rglob("*")) if p.is_file()}


def script(server, mac, source=HOST):
    r = fetch(server.base + f"/ipxe?mac={mac}", "--interface", source)
    assert r.status == 200, r.text
    return r.text


def test_approve_writes_a_machine_file_and_the_machine_joins_the_group(server):
    r = write(server, "POST", f"/api/v1/machines/{MAC}/approve",
              {"group": "workers", "name": "node7", "labels": {"rack": "r1"}})
    assert r.status == 201, r.text
    assert r.json()["file"] == "machines/node7.yaml"
    text = (server.config / "machines" / "node7.yaml").read_text()
    assert f'mac: "{MAC}"' in text and 'group: "workers"' in text and '"rack": "r1"' in text, text
    assert "local-admin" in text  # who wrote it, for version control
    s = script(server, MAC)
    assert "group 'workers'" in s and "host=node7" in s and "rack=r1" in s, s
    log = server.log_path.read_text()
    assert re.search(r"event=http\.write write=approve caller=local-admin subject=" + MAC, log), log[-2000:]


def test_labels_rewrite_the_same_file(server):
    r = write(server, "PUT", f"/api/v1/machines/{MAC}/labels", {"rack": "r2", "zone": "a"})
    assert r.status == 200, r.text
    text = (server.config / "machines" / "node7.yaml").read_text()
    assert '"rack": "r2"' in text and '"zone": "a"' in text and 'group: "workers"' in text, text
    assert "rack=r2" in script(server, MAC)
    # A machine never approved has no file to label.
    r = write(server, "PUT", f"/api/v1/machines/{OTHER}/labels", {"rack": "r2"})
    assert r.status == 404, r.text


BAD = [
    ("approve", {"group": "workers", "name": "../evil"}, 400),
    ("approve", {"group": "workers", "name": "a/b"}, 400),
    ("approve", {"group": "workers", "name": ".."}, 400),
    ("approve", {"group": "workers", "name": "x\u0000y"}, 400),
    ("approve", {"group": "workers", "name": "n" * 100000}, 413),
    ("approve", {"group": "workers", "name": "n" * 64}, 400),
    ("approve", {"group": "workers", "name": "Node7"}, 400),
    ("approve", {"group": "../groups/workers", "name": "node8"}, 400),
    ("approve", {"group": "a/b", "name": "node8"}, 400),
    ("approve", {"group": "nosuch", "name": "node8"}, 422),
    ("approve", {"group": "workers"}, 400),
    ("approve", {"group": "workers", "name": "node8", "role": "control-plane"}, 400),
    ("approve", {"group": "workers", "name": "node8", "labels": {"hostname": "cp1"}}, 400),
    ("approve", {"group": "workers", "name": "node8", "labels": {"rack": 7}}, 400),
    ("approve", {"group": "workers", "name": "node8", "labels": {f"k{i}": "v" for i in range(33)}}, 400),
    ("approve", {"group": "workers", "name": "node7"}, 409),  # node7 is the other machine's name
    ("approve", "not json", 400),
    ("approve", "[1,2]", 400),
    ("approve", "", 400),
    ("approve", "{" * 20000, 413),
    ("labels", {"a/b": "x"}, 400),
    ("labels", {"k": "line\nbreak"}, 400),
    ("labels", ["x"], 400),
]


@pytest.mark.parametrize("what,body,status", BAD, ids=[f"{w}-{i}" for i, (w, _, _) in enumerate(BAD)])
def test_bad_input_is_4xx_and_writes_nothing(server, what, body, status):
    before = snapshot(server.config)
    if what == "approve":
        r = write(server, "POST", f"/api/v1/machines/{OTHER}/approve", body)
    else:
        r = write(server, "PUT", f"/api/v1/machines/{MAC}/labels", body)
    assert r.status == status, r.text
    assert "error" in r.json()
    assert snapshot(server.config) == before


@pytest.mark.parametrize("path", ["/api/v1/machines/not-a-mac/approve", "/api/v1/machines/..%2F..%2Fetc/approve",
                                  "/api/v1/machines/52:54:00:00:07:99/approve"])
def test_unknown_or_malformed_machines_are_4xx(server, path):
    before = snapshot(server.config)
    r = write(server, "POST", path, {"group": "workers", "name": "node9"})
    assert 400 <= r.status < 500, r.text
    assert snapshot(server.config) == before


def test_nobody_without_an_admin_credential_writes(server):
    before = snapshot(server.config)
    for token in (None, "not-a-token"):
        r = write(server, "POST", f"/api/v1/machines/{OTHER}/approve", {"group": "workers", "name": "node8"},
                  token=token)
        assert r.status == 401, r.text
    r = write(server, "POST", "/api/v1/inventory/reload", "", token=None)
    assert r.status == 401, r.text
    # A read credential reads, and writes nothing.
    import subprocess
    from netlab import RAMFLEET_BIN
    reader = subprocess.run([RAMFLEET_BIN, "api", "token", "create", "ci-reader", "--scope", "read", "--state",
                             server.state], capture_output=True, text=True, timeout=30)
    assert reader.returncode == 0, reader.stderr
    token = reader.stdout.strip()
    assert server.api.fetch("/api/v1/groups", token=token).status == 200
    for method, path, body in (("POST", f"/api/v1/machines/{OTHER}/approve", {"group": "workers", "name": "node8"}),
                               ("PUT", f"/api/v1/machines/{MAC}/labels", {"rack": "r9"}),
                               ("POST", f"/api/v1/machines/{MAC}/identity/revoke", ""),
                               ("POST", "/api/v1/inventory/reload", "")):
        r = write(server, method, path, body, token=token)
        assert r.status == 403, (path, r.text)
    # The boot listener has no writes at all.
    r = fetch(server.base + f"/api/v1/machines/{OTHER}/approve", "-X", "POST", "--data-binary",
              '{"group":"workers","name":"node8"}')
    assert r.status == 403, r.text
    assert snapshot(server.config) == before


def test_an_edit_the_inventory_refuses_is_put_back(server):
    # A group file already pins OTHER's MAC: a machine file for it would tie,
    # so the inventory refuses the edit, the write is undone, nothing changes.
    pin = server.config / "groups" / "zz-pin.yaml"
    server.edit("groups/zz-pin.yaml", f'profile: ign\nselector: {{mac: "{OTHER}"}}\n')
    try:
        before = snapshot(server.config)
        r = write(server, "POST", f"/api/v1/machines/{OTHER}/approve", {"group": "workers", "name": "node8"})
        assert r.status == 409, r.text
        assert "ties" in r.json()["error"], r.text
        assert snapshot(server.config) == before
        assert "group 'zz-pin'" in script(server, OTHER)  # the inventory as it was
    finally:
        pin.unlink()
    # A second file for an approved machine is refused before anything is written.
    before = snapshot(server.config)
    r = write(server, "POST", f"/api/v1/machines/{MAC}/approve", {"group": "workers", "name": "node7b"})
    assert r.status == 409 and "already approved as 'node7'" in r.json()["error"], r.text
    assert snapshot(server.config) == before


def test_reload_now_and_a_broken_edit_keeps_the_previous_inventory(server):
    r = write(server, "POST", "/api/v1/inventory/reload", "")
    assert r.status == 200, r.text
    gen = r.json()["generation"]
    broken = server.config / "groups" / "zz-broken.yaml"
    broken.write_text("profile: nosuch\n")
    try:
        r = write(server, "POST", "/api/v1/inventory/reload", "")
        assert r.status == 409, r.text
        assert any("nosuch" in e for e in r.json()["errors"]), r.text
        assert "group 'workers'" in script(server, MAC)  # still the previous inventory
    finally:
        broken.unlink()
    r = write(server, "POST", "/api/v1/inventory/reload", "")
    assert r.status == 200 and r.json()["generation"] > gen, r.text


def ignition_files(body):
    out = {}
    for f in json.loads(body)["storage"]["files"]:
        meta, _, data = f["contents"]["source"][5:].partition(",")
        out[f["path"]] = base64.b64decode(data).decode() if meta.endswith(";base64") else urllib.parse.unquote(data)
    return out


def boot_config(server, mac):
    s = script(server, mac)
    url = re.search(r"ignition\.config\.url=(\S+)", s).group(1)
    r = fetch(url, "--interface", HOST)
    assert r.status == 200, r.text
    return ignition_files(r.body)


def test_revoke_makes_the_next_boot_issue_a_new_identity(server):
    first = boot_config(server, MAC)
    assert first["/etc/hostname"] == "node7\n"
    assert (server.state / "nodes" / "node7").is_dir()
    again = boot_config(server, MAC)
    assert again["/etc/machine-id"] == first["/etc/machine-id"]  # stable until revoked
    r = write(server, "POST", f"/api/v1/machines/{MAC}/identity/revoke", "")
    assert r.status == 200, r.text
    assert r.json()["node"] == "node7" and "expire" in r.json()["already_issued"]
    assert not (server.state / "nodes" / "node7").exists()
    assert any(p.name.startswith("node7-") for p in (server.state / "nodes-revoked").iterdir())
    fresh = boot_config(server, MAC)
    assert fresh["/etc/machine-id"] != first["/etc/machine-id"]
    assert fresh["/var/lib/kubelet/pki/kubelet.key"] != first["/var/lib/kubelet/pki/kubelet.key"]
    # Nothing to revoke for a machine without a role, or twice in a row before a boot.
    assert write(server, "POST", f"/api/v1/machines/{OTHER}/identity/revoke", "").status == 409
    assert write(server, "POST", f"/api/v1/machines/{MAC}/identity/revoke", "").status == 200
    assert write(server, "POST", f"/api/v1/machines/{MAC}/identity/revoke", "").status == 404
