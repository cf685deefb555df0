"""The p2p tracker (issue 14, docs/scale.md): POST /api/v1/machines/{id}/p2p/{image_id}
on the boot listener, with the machine's per-boot event credential.

A real `ramfleet serve --dhcp off` on 127.0.0.1 with an image built by the real
`ramfleet image build --chunk-size 4K` (so chunks.json is the real one); curl's
--interface picks a 127.0.0.x source address, which is the address the
tracker hands to other nodes. Proves: no credential 401, another machine's or
a forged one 403 (a machine cannot announce for another), bad bodies,
unknown images and indices beyond the image 400/404, each counted, and the
server keeps serving; the grant policy's answers on the wire.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from loopback_serve import LoopbackServe, fetch
from netlab import RAMFLEET_BIN

NODE = "52:54:00:00:14:01"
OTHER = "52:54:00:00:14:02"
NODE_HOST = "127.0.0.41"
OTHER_HOST = "127.0.0.42"
ATTACKER = "127.0.0.66"

FILES = {
    "profiles/node.yaml": "kernel: vmlinuz\n"
                          'args: ["ramfleet.id={{machine_id}}", "ramfleet.event_credential={{event_credential}}"]\n',
    "groups/nodes.yaml": 'profile: node\nselector: {mac: "52:54:00:00:14:*"}\n',
    "inventory.yaml": "default: exit\n",
}


@pytest.fixture(scope="module")
def server():
    tmp = Path(tempfile.mkdtemp(prefix="rf-p2p-tracker-"))
    s = LoopbackServe(tmp)
    for rel, text in FILES.items():
        (s.config / rel).parent.mkdir(parents=True, exist_ok=True)
        (s.config / rel).write_text(text)
    root = tmp / "root"
    root.mkdir()
    (root / "blob").write_bytes(os.urandom(40000))  # incompressible: ~10 chunks of 4 KiB
    r = subprocess.run([RAMFLEET_BIN, "image", "build", "--from", str(root), "--assets", str(s.config / "assets"),
                        "--chunk-size", "4K"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    s.image = r.stdout.split()[0]
    s.manifest = json.loads((s.config / "assets/images" / s.image / "chunks.json").read_text())
    s.start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


_hosts = iter(range(100, 250))


def boot(server, mac):
    r = fetch(server.base + f"/ipxe?mac={mac}", "--interface", f"127.0.0.{next(_hosts)}")
    assert r.status == 200, r.text
    return re.search(r"ramfleet\.event_credential=(\S+)", r.text).group(1)


def announce(server, mac, source, body, credential=None, image=None, authorization=None):
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    args = ["--interface", source, "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body]
    if credential is not None:
        args += ["-H", f"Authorization: Bearer {credential}"]
    if authorization is not None:
        args += ["-H", f"Authorization: {authorization}"]
    return fetch(server.base + f"/api/v1/machines/{mac}/p2p/{image or server.image}", *args)


def counter(server, name):
    return server.counters().get(name, 0)


def test_the_manifest_is_served_beside_the_image(server):
    m = server.manifest
    assert m["image"] == server.image and m["chunk_size"] == 4096 and m["file"] == "rootfs.cpio.zst"
    r = server.fetch(f"/assets/images/{server.image}/chunks.json")
    assert r.status == 200 and json.loads(r.body) == m
    # A chunk is a Range of the image file.
    r = server.fetch(f"/assets/images/{server.image}/rootfs.cpio.zst", "-H", "Range: bytes=4096-8191")
    assert r.status == 206 and len(r.body) == 4096
    import hashlib
    assert hashlib.sha256(r.body).hexdigest() == m["chunks"][1]


def test_refusals_are_counted_and_nothing_is_recorded(server):
    node = boot(server, NODE)
    other = boot(server, OTHER)
    body = {"port": 7480, "have": list(range(len(server.manifest["chunks"]))), "want": []}
    cases = [
        (dict(), 401, "http.p2p.unauthenticated"),
        (dict(authorization="Basic bm9kZTpub2Rl"), 401, "http.p2p.unauthenticated"),
        (dict(credential="garbage"), 401, "http.p2p.unauthenticated"),
        (dict(credential=other), 403, "http.p2p.forbidden"),  # OTHER cannot announce for NODE
        (dict(credential="1733130000000." + "0" * 32), 403, "http.p2p.forbidden"),
    ]
    for kw, status, name in cases:
        before = counter(server, name)
        r = announce(server, NODE, ATTACKER, body, **kw)
        assert r.status == status, (kw, r.text)
        assert "error" in r.json()
        assert counter(server, name) == before + 1
    # None of those made NODE (or the attacker) a holder: OTHER, asking, is sent to the server.
    r = announce(server, OTHER, OTHER_HOST, {"port": 7480, "want": [0]}, credential=other)
    assert r.status == 200, r.text
    assert r.json()["sources"].get("0") == ["server"]
    # An earlier boot's credential is refused once the machine boots again.
    boot(server, NODE)
    r = announce(server, NODE, NODE_HOST, {"port": 7480}, credential=node)
    assert r.status == 403


def test_bad_bodies_400_counted_server_keeps_serving(server):
    cred = boot(server, NODE)
    n = len(server.manifest["chunks"])
    bad = [
        ("{", "http.p2p.bad_body"),
        ('{"port":0}', "http.p2p.bad_body"),
        ('{"port":7480,"have":"all"}', "http.p2p.bad_body"),
        ('{"port":7480,"addr":"10.0.0.1:7480"}', "http.p2p.bad_body"),  # no claimed addresses
        ("[" * 5000, "http.p2p.bad_body"),
        (json.dumps({"port": 7480, "want": [n]}), "http.p2p.bad_index"),
        (json.dumps({"port": 7480, "have": [0, 65535]}), "http.p2p.bad_index"),
    ]
    for body, name in bad:
        before = counter(server, name)
        r = announce(server, NODE, NODE_HOST, body, credential=cred)
        assert r.status == 400, (body[:40], r.text)
        assert counter(server, name) == before + 1
    before = counter(server, "http.p2p.bad_image")
    assert announce(server, NODE, NODE_HOST, {"port": 7480}, credential=cred, image="NOT-AN-ID").status == 400
    assert counter(server, "http.p2p.bad_image") == before + 1
    before = counter(server, "http.p2p.unknown_image")
    assert announce(server, NODE, NODE_HOST, {"port": 7480}, credential=cred, image="f" * 64).status == 404
    assert counter(server, "http.p2p.unknown_image") == before + 1
    # A body beyond the boot listener's limit: 413 from the transport.
    assert announce(server, NODE, NODE_HOST, '{"port":7480,"have":[' + "0," * 40000 + "0]}",
                    credential=cred).status == 413
    assert server.fetch("/healthz").status == 200
    assert announce(server, NODE, NODE_HOST, {"port": 7480}, credential=cred).status == 200


def test_holders_are_named_by_their_source_address(server):
    node = boot(server, NODE)
    other = boot(server, OTHER)
    n = len(server.manifest["chunks"])
    # NODE takes chunk 2 from the server, then announces it (from NODE_HOST, port 7999).
    r = announce(server, NODE, NODE_HOST, {"port": 7999, "want": [2]}, credential=node)
    assert r.json()["sources"]["2"] == ["server"], r.text
    # Meanwhile OTHER waits for chunk 2: one node at a time fetches a chunk from the server.
    r = announce(server, OTHER, OTHER_HOST, {"port": 7480, "want": [2]}, credential=other)
    assert "2" not in r.json()["sources"] and r.json()["retry_ms"] > 0
    assert announce(server, NODE, NODE_HOST, {"port": 7999, "have": [2]}, credential=node).status == 200
    r = announce(server, OTHER, OTHER_HOST, {"port": 7480, "want": [2]}, credential=other)
    assert r.json()["sources"]["2"] == [f"{NODE_HOST}:7999"], r.text
    # The metrics show both kinds of answers.
    text = server.api.fetch("/metrics").text
    grants = re.search(r"^ramfleet_p2p_server_grants_total (\S+)", text, re.M)
    peers = re.search(r"^ramfleet_p2p_peer_answers_total (\S+)", text, re.M)
    assert grants and float(grants.group(1)) >= 1 and peers and float(peers.group(1)) >= 1
    assert n > 2
