"""Who gets a cluster node's config: the machine the operator means, at its address (issue 10).

A real `ramfleet serve --dhcp off` on 127.0.0.1; curl's --interface picks a
127.0.0.x source address so each test acts as a different machine. Each test
here failed on the code before the boot layer decided identity from operator
data only: the two-GET takeover of cp1, a serving certificate for a name the
client chose, a token redeemed from another address, HEAD/304/compile failures
spending the token, a control plane served without approval, no /ipxe limit.
"""
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from loopback_serve import LoopbackServe, fetch
from netlab import RAMFLEET_BIN

CLUSTER = """\
name: lab
kubernetesVersion: v1.29.4
distribution: kubeadm
controlPlaneEndpoint: 127.0.0.10:6443
apiServer: {certSANs: [127.0.0.10, k8s.lab.example]}
etcd:
  members:
    - {name: cp1, ip: 127.0.0.11}
roles:
  control-plane: [{hostname: cp1}]
  worker: [{labels: {pool: general}}]
pki: {keyAlgorithm: ecdsa-p256}
"""

GOOD_LAYER = """variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/motd
      contents: {inline: "hello\\n"}
"""
BROKEN_LAYER = GOOD_LAYER.replace('"hello\\n"', '"{{no_such_variable}}"')

FILES = {
    "configs/base.bu": GOOD_LAYER,
    "configs/fragile.bu": GOOD_LAYER,  # broken after `check` (below)
    "profiles/ign.yaml": 'kernel: vmlinuz\nargs: ["ignition.config.url={{ignition_url}}"]\n'
                         "config: {target: ignition, layers: [base.bu]}\n",
    "profiles/fragile.yaml": 'kernel: vmlinuz\nargs: ["ignition.config.url={{ignition_url}}"]\n'
                             "config: {target: ignition, layers: [fragile.bu]}\n",
    # The operator's word: cp1 is this MAC; these MACs are workers; this one is misnamed.
    "groups/cp.yaml": 'profile: ign\nselector: {mac: "52:54:00:00:01:01"}\nmetadata: {hostname: cp1}\n',
    "groups/workers.yaml": 'profile: ign\nselector: {mac: "52:54:00:00:02:*"}\nmetadata: {pool: general}\n',
    "groups/fragile.yaml": 'profile: fragile\nselector: {mac: "52:54:00:00:05:01"}\nmetadata: {pool: general}\n',
    "groups/misnamed.yaml": 'profile: ign\nselector: {mac: "52:54:00:00:04:01"}\n'
                            "metadata: {hostname: k8s.lab.example, pool: general}\n",
    # Any other machine boots the default profile (the setup of the takeover in issue 10).
    "inventory.yaml": "default: {profile: ign}\n",
    "http.yaml": "reload_interval_ms: 200\nboot_token_ttl_ms: 60000\nboot_token_burst: 3\nboot_token_rate_per_min: 1\n",
    "cluster.yaml": CLUSTER,
}


def ramfleet(*args):
    r = subprocess.run([RAMFLEET_BIN, *map(str, args)], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def server():
    tmp = Path(tempfile.mkdtemp(prefix="rf-boot-identity-"))
    s = LoopbackServe(tmp)
    for rel, text in FILES.items():
        (s.config / rel).parent.mkdir(parents=True, exist_ok=True)
        (s.config / rel).write_text(text)
    ramfleet("check", s.config)
    ramfleet("cluster", "init", "--config", s.config, "--state", s.state, "--quiet")
    (s.config / "configs/fragile.bu").write_text(BROKEN_LAYER)  # an operator's edit gone wrong
    s.start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def get(server, path, source, *args):
    return fetch(server.base + path if path.startswith("/") else path, "--interface", source, *args)


def config_url(script):
    m = re.search(r"ignition\.config\.url=(\S+)", script)
    assert m, script
    return m.group(1)


def ignition_files(body):
    import base64
    import urllib.parse
    out = {}
    for f in json.loads(body)["storage"]["files"]:
        meta, _, data = f["contents"]["source"][5:].partition(",")
        out[f["path"]] = base64.b64decode(data).decode() if meta.endswith(";base64") else urllib.parse.unquote(data)
    return out


def counter(server, name):
    return server.counters().get(name, 0)


def no_secrets(body):
    text = body.decode(errors="replace")
    return "ca.key" not in text and "PRIVATE KEY" not in text and "admin.conf" not in text


def test_two_get_takeover_of_cp1_gets_nothing(server):
    s = server
    nodes = s.state / "nodes"
    before_nodes = sorted(p.name for p in nodes.iterdir()) if nodes.exists() else []
    # 1. A MAC nobody owns, claiming cp1 by hostname: the claim names nothing.
    r = get(s, "/ipxe?mac=52:54:00:00:09:99&hostname=cp1", "127.0.0.50")
    assert r.status == 200, r.body
    url = config_url(r.text)
    assert "/token=" not in url  # no role, so no token and no secrets
    r = get(s, url, "127.0.0.50")
    assert r.status == 200, r.body
    assert no_secrets(r.body)
    assert not any(p.startswith(("/etc/kubernetes", "/var/lib/kubelet")) for p in ignition_files(r.body))
    # 2. A worker's MAC claiming cp1: a worker under its MAC-derived name, no cluster keys.
    r = get(s, "/ipxe?mac=52:54:00:00:02:66&hostname=cp1", "127.0.0.50")
    assert r.status == 200, r.body
    r = get(s, config_url(r.text), "127.0.0.50")
    assert r.status == 200, r.body
    files = ignition_files(r.body)
    assert files["/etc/hostname"] == "node-52-54-00-00-02-66\n"
    assert not any(p.endswith("ca.key") or p.endswith("admin.conf") for p in files)
    # 3. cp1's own MAC from another address: refused before any token is minted.
    issued = counter(s, "http.boot_token.issued")
    r = get(s, "/ipxe?mac=52:54:00:00:01:01&hostname=cp1", "127.0.0.50")
    assert r.status == 403, r.body
    assert "127.0.0.11" in json.loads(r.body)["error"]
    assert counter(s, "http.boot_token.issued") == issued
    assert counter(s, "http.ipxe.wrong_address") >= 1
    # Nothing issued for cp1, the cluster not marked bootstrapped.
    after_nodes = sorted(p.name for p in nodes.iterdir()) if nodes.exists() else []
    assert "cp1" not in after_nodes or "cp1" in before_nodes
    assert not (s.state / "bootstrapped").exists()


def test_a_client_chosen_name_gets_no_serving_certificate(server):
    s = server
    r = get(s, "/ipxe?mac=52:54:00:00:02:21&hostname=k8s.lab.example&ip=127.0.0.10", "127.0.0.21")
    assert r.status == 200, r.body
    r = get(s, config_url(r.text), "127.0.0.21")
    assert r.status == 200, r.body
    files = ignition_files(r.body)
    assert files["/etc/hostname"] == "node-52-54-00-00-02-21\n"
    cert = s.tmp / "serving.crt"
    cert.write_text(files["/var/lib/kubelet/pki/kubelet.crt"])
    text = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", cert],
                          capture_output=True, text=True, check=True).stdout
    assert "k8s.lab.example" not in text and "127.0.0.10" not in text, text
    assert "DNS:node-52-54-00-00-02-21" in text and "IP Address:127.0.0.21" in text, text
    assert not (s.state / "nodes" / "k8s.lab.example").exists()


def test_an_operator_name_in_the_clusters_namespace_is_refused(server):
    s = server
    before = counter(s, "http.ipxe.name_refused")
    r = get(s, "/ipxe?mac=52:54:00:00:04:01", "127.0.0.40")
    assert r.status == 403, r.body
    assert "k8s.lab.example" in json.loads(r.body)["error"]
    assert counter(s, "http.ipxe.name_refused") == before + 1
    assert not (s.state / "nodes" / "k8s.lab.example").exists()


def test_a_token_is_redeemed_only_from_the_address_that_fetched_the_script(server):
    s = server
    r = get(s, "/ipxe?mac=52:54:00:00:02:22", "127.0.0.22")
    url = config_url(r.text)
    before = counter(s, "http.config.wrong_address")
    r = get(s, url, "127.0.0.23")
    assert r.status == 403, r.body
    assert no_secrets(r.body)
    assert counter(s, "http.config.wrong_address") == before + 1
    assert get(s, url, "127.0.0.22").status == 200  # not used up by the refusal


def test_head_and_304_do_not_spend_the_token(server):
    s = server
    url = config_url(get(s, "/ipxe?mac=52:54:00:00:02:24", "127.0.0.24").text)
    head = get(s, url, "127.0.0.24", "-I")
    assert head.status == 200, head.body
    etag = head.headers["etag"]
    assert get(s, url, "127.0.0.24", "-H", f"If-None-Match: {etag}").status == 304
    r = get(s, url, "127.0.0.24")
    assert r.status == 200, r.body
    assert r.headers["etag"] == etag
    again = get(s, url, "127.0.0.24")
    assert again.status == 403 and "already used" in again.text


def test_a_config_that_does_not_compile_does_not_spend_the_token(server):
    s = server
    url = config_url(get(s, "/ipxe?mac=52:54:00:00:05:01", "127.0.0.25").text)
    r = get(s, url, "127.0.0.25")
    assert r.status == 500 and "no_such_variable" in r.text, r.body
    s.edit("configs/fragile.bu", GOOD_LAYER)
    r = get(s, url, "127.0.0.25")
    assert r.status == 200, r.body
    assert ignition_files(r.body)["/etc/hostname"] == "node-52-54-00-00-05-01\n"


def test_a_control_plane_member_waits_for_the_operators_approval(server):
    s = server
    url = config_url(get(s, "/ipxe?mac=52:54:00:00:01:01", "127.0.0.11").text)
    before = counter(s, "http.config.awaiting_approval")
    r = get(s, url, "127.0.0.11")
    assert r.status == 403, r.body
    assert "ramfleet cluster approve cp1" in json.loads(r.body)["error"]
    assert no_secrets(r.body)
    assert counter(s, "http.config.awaiting_approval") == before + 1
    assert not (s.state / "bootstrapped").exists()
    ramfleet("cluster", "approve", "cp1", "--state", s.state, "--config", s.config)
    r = get(s, url, "127.0.0.11")  # the same token: the refusal did not spend it
    assert r.status == 200, r.body
    files = ignition_files(r.body)
    assert "/etc/kubernetes/pki/ca.key" in files
    assert "InitConfiguration" in files["/etc/kubernetes/kubeadm.yaml"]
    assert (s.state / "bootstrapped").exists()


def test_token_minting_is_rate_limited_per_address(server):
    s = server
    before = counter(s, "http.ipxe.rate_limited")
    statuses = [get(s, "/ipxe?mac=52:54:00:00:02:30", "127.0.0.30").status for _ in range(4)]
    assert statuses == [200, 200, 200, 429], statuses
    assert counter(s, "http.ipxe.rate_limited") == before + 1
    # Another address has its own budget; machines without a role mint nothing and are never limited.
    assert get(s, "/ipxe?mac=52:54:00:00:02:31", "127.0.0.31").status == 200
    assert all(get(s, "/ipxe?mac=52:54:00:00:09:01", "127.0.0.30").status == 200 for _ in range(3))
    log = s.log_path.read_text()
    assert log.count("event=http.ipxe.rate_limited") == 1
