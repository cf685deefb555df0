"""Cluster nodes' configs from the real `ramfleet serve --dhcp off` on 127.0.0.1.

A machine that takes a role in cluster.yaml gets its cluster files (identity,
kubeadm or k3s configuration, certificates) inside its compiled config, and
only with the boot token its own /ipxe script carried: two boots carry the
same identity with two different tokens; a config asked for without a token,
with a used one, with another machine's or with an expired one is refused
(403), logged and counted; certificates verify with openssl against the CA
they came with; machines without a role are served as before, tokenless.

Names and roles come from the operator (docs/cluster.md): cp1 is cp1 because
its group pins its MAC and names it, and it is served only from its etcd
member address (127.0.0.11, curl --interface) once approved; workers are
named after their MAC whatever hostname they send, and advertise the address
they boot from (each test machine has its own 127.0.0.x).
"""
import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml

from loopback_serve import LoopbackServe, fetch
from netlab import RAMFLEET_BIN

TOKEN_TTL_MS = 10000  # long enough for a loaded machine to fetch a config in time

CLUSTER = """\
name: lab
kubernetesVersion: {version}
distribution: {distribution}
controlPlaneEndpoint: 192.168.50.10:6443
etcd:
  members:
    - {{name: cp1, ip: 127.0.0.11}}
roles:
  control-plane: [{{hostname: cp1}}]
  worker: [{{labels: {{pool: general}}}}]
registryMirrors:
  docker.io: [https://mirror.lab:5000]
pki:
  keyAlgorithm: {alg}
"""

BASE_LAYER = """variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/motd
      contents: {inline: "node {{hostname}}\\n"}
"""

PROFILES = {
    "ign": 'kernel: vmlinuz\nargs: ["ignition.config.url={{ignition_url}}"]\n'
           "config: {target: ignition, layers: [base.bu]}\n",
    "cloud": 'kernel: vmlinuz\nargs: ["cloud-config-url={{config_url}}"]\n'
             "config: {target: cloud-config, layers: [base.bu]}\n",
    "alpine": 'kernel: vmlinuz\nargs: ["apkovl={{apkovl_url}}"]\nconfig: {target: apkovl, layers: [base.bu]}\n',
}


def groups(worker_profile, cp_profile):
    return {
        "cp": f'profile: {cp_profile}\nselector: {{mac: "52:54:00:00:01:01"}}\nmetadata: {{hostname: cp1}}\n',
        "workers": f'profile: {worker_profile}\nselector: {{mac: "52:54:00:00:02:*"}}\n'
                   "metadata: {pool: general, ram_root_size: 4Gi}\n",
        "plain": 'profile: ign\nselector: {mac: "52:54:00:00:03:*"}\n',
    }


def ramfleet(*args, timeout=180):
    r = subprocess.run([RAMFLEET_BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def make_server(distribution, worker_profile="ign", cp_profile="ign"):
    tmp = Path(tempfile.mkdtemp(prefix=f"rf-cluster-{distribution}-"))
    # Debug logging: every line the server can write about a request is checked for tokens.
    s = LoopbackServe(tmp, log_level="debug")
    version, alg = ("v1.29.4", "rsa-2048") if distribution == "kubeadm" else ("v1.29.4+k3s1", "ecdsa-p256")
    (s.config / "cluster.yaml").write_text(CLUSTER.format(version=version, distribution=distribution, alg=alg))
    (s.config / "inventory.yaml").write_text("default: exit\n")
    (s.config / "http.yaml").write_text(f"reload_interval_ms: 200\nboot_token_ttl_ms: {TOKEN_TTL_MS}\n"
                                        "boot_token_burst: 100\n")
    for sub, files in (("configs", {"base.bu": BASE_LAYER}),
                       ("profiles", {f"{k}.yaml": v for k, v in PROFILES.items()}),
                       ("groups", {f"{k}.yaml": v for k, v in groups(worker_profile, cp_profile).items()})):
        for name, text in files.items():
            (s.config / sub).mkdir(parents=True, exist_ok=True)
            (s.config / sub / name).write_text(text)
    # The operator's order: check, init the cluster's PKI in the state dir, serve with the same state dir.
    ramfleet("check", s.config)
    ramfleet("cluster", "init", "--config", s.config, "--state", s.state, "--quiet")
    # cp1 receives the CA keys: the operator approves it first.
    ramfleet("cluster", "approve", "cp1", "--state", s.state, "--config", s.config)
    return s.start()


@pytest.fixture(scope="module")
def kubeadm_server():
    s = make_server("kubeadm")
    yield s
    s.stop()
    shutil.rmtree(s.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def k3s_server():
    s = make_server("k3s", worker_profile="cloud", cp_profile="alpine")
    yield s
    s.stop()
    shutil.rmtree(s.tmp, ignore_errors=True)


def kernel_arg(script, key):
    for line in script.splitlines():
        if line.startswith("kernel "):
            for word in line.split():
                if word.startswith(key + "="):
                    return word[len(key) + 1:]
    raise AssertionError(f"{key}= not in the kernel line:\n{script}")


def boot(server, query, key="ignition.config.url", source="127.0.0.21"):
    """One boot: the machine's /ipxe script fetched from `source`, and the config URL in it."""
    r = server.fetch("/ipxe?" + query, "--interface", source)
    assert r.status == 200, r.body
    return kernel_arg(r.text, key)


def get(url, source="127.0.0.21", *args):
    """A config fetch from the machine at `source` (the one that fetched the script)."""
    return fetch(url, "--interface", source, *args)


def token_of(url):
    m = re.search(r"/token=([0-9a-f]{32})$", url)
    assert m, f"no boot token at the end of {url}"
    return m.group(1)


def data_url(source):
    assert source.startswith("data:"), source
    meta, _, data = source[5:].partition(",")
    return base64.b64decode(data).decode() if meta.endswith(";base64") else urllib.parse.unquote(data)


def ignition_files(body):
    cfg = json.loads(body)
    return {f["path"]: (data_url(f["contents"]["source"]), f.get("mode")) for f in cfg["storage"]["files"]}


def run(*cmd, input=None):
    r = subprocess.run(list(map(str, cmd)), capture_output=True, input=input, timeout=60)
    assert r.returncode == 0, f"{cmd}: {r.stdout.decode(errors='replace')} {r.stderr.decode(errors='replace')}"
    return r.stdout.decode()


def openssl_verify(tmp, ca_pem, cert_pem, name):
    ca, cert = Path(tmp) / f"{name}-ca.crt", Path(tmp) / f"{name}.crt"
    ca.write_text(ca_pem)
    cert.write_text(cert_pem)
    out = run("openssl", "verify", "-CAfile", ca, cert)
    assert out.strip().endswith(": OK"), out
    return run("openssl", "x509", "-noout", "-subject", "-ext", "subjectAltName,extendedKeyUsage", "-in", cert)


def first_cert(pem):
    return pem[:pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")] + "\n"


def counter(server, name):
    return server.counters().get(name, 0)


WORKER = "mac=52:54:00:00:02:01&hostname=w1&ip=192.168.50.21"
W1 = "node-52-54-00-00-02-01"  # named after its MAC: the hostname it sends names nothing
CP1 = "127.0.0.11"  # cp1's etcd member address: the only one it is served to


def test_kubeadm_worker_gets_the_same_identity_on_every_boot(kubeadm_server):
    s = kubeadm_server
    url1 = boot(s, WORKER)
    url2 = boot(s, WORKER)
    assert url1.startswith(f"{s.base}/ignition/mac=52:54:00:00:02:01/hostname=w1/ip=192.168.50.21/token=")
    assert token_of(url1) != token_of(url2)  # the script cache never hands one boot's token to another

    r1, r2 = get(url1), get(url2)
    assert r1.status == 200, r1.body
    assert r2.status == 200, r2.body
    (s.tmp / "w1.ign").write_bytes(r1.body)
    run("ignition-validate", s.tmp / "w1.ign")
    f1, f2 = ignition_files(r1.body), ignition_files(r2.body)
    identity = ["/etc/machine-id", "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub",
                "/var/lib/kubelet/pki/kubelet-client-current.pem", "/var/lib/kubelet/pki/kubelet.crt",
                "/var/lib/kubelet/pki/kubelet.key", "/etc/kubernetes/kubelet.conf"]
    for path in identity:
        assert f1[path] == f2[path], path
    assert re.fullmatch(r"[0-9a-f]{32}\n", f1["/etc/machine-id"][0])
    assert f1["/etc/hostname"][0] == W1 + "\n"
    assert f1["/etc/motd"][0] == "node w1\n"  # the operator's own layers are still there
    for path in ["/etc/ssh/ssh_host_ed25519_key", "/var/lib/kubelet/pki/kubelet.key",
                 "/var/lib/kubelet/pki/kubelet-client-current.pem", "/etc/kubernetes/kubeadm.yaml",
                 "/etc/kubernetes/kubelet.conf"]:
        assert f1[path][1] == 0o600, path
    assert f1["/var/lib/kubelet/pki/kubelet.crt"][1] == 0o644
    # A worker gets no cluster keys.
    assert not any(p.endswith("ca.key") or p.startswith("/etc/kubernetes/pki/etcd") for p in f1)

    ca = f1["/etc/kubernetes/pki/ca.crt"][0]
    assert ca == (s.state / "pki/ca.crt").read_text()
    client = openssl_verify(s.tmp, ca, first_cert(f1["/var/lib/kubelet/pki/kubelet-client-current.pem"][0]), "client")
    assert f"CN = system:node:{W1}" in client and "O = system:nodes" in client
    assert "TLS Web Client Authentication" in client
    # Serving certificates come from their own CA (issue 10), not the cluster CA.
    serving = openssl_verify(s.tmp, (s.state / "pki/kubelet-serving-ca.crt").read_text(),
                             f1["/var/lib/kubelet/pki/kubelet.crt"][0], "serving")
    # The address it booted from, not the ip= it claimed.
    assert f"DNS:{W1}" in serving and "IP Address:127.0.0.21" in serving and "192.168.50.21" not in serving
    assert "TLS Web Server Authentication" in serving

    kubeconfig = s.tmp / "kubelet.conf"
    kubeconfig.write_text(f1["/etc/kubernetes/kubelet.conf"][0])
    view = json.loads(run("kubectl", "config", "view", "--raw", "-o", "json", "--kubeconfig", kubeconfig))
    embedded = base64.b64decode(view["users"][0]["user"]["client-certificate-data"]).decode()
    assert embedded == first_cert(f1["/var/lib/kubelet/pki/kubelet-client-current.pem"][0])

    key = s.tmp / "ssh_host_key"
    key.write_text(f1["/etc/ssh/ssh_host_ed25519_key"][0])
    key.chmod(0o600)
    assert run("ssh-keygen", "-y", "-f", key).split()[:2] == f1["/etc/ssh/ssh_host_ed25519_key.pub"][0].split()[:2]

    docs = list(yaml.safe_load_all(f1["/etc/kubernetes/kubeadm.yaml"][0]))
    assert docs[0]["kind"] == "JoinConfiguration"
    assert docs[0]["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "192.168.50.10:6443"
    show = json.loads(ramfleet("cluster", "show", "--state", s.state, "--json"))
    assert docs[0]["discovery"]["bootstrapToken"]["caCertHashes"] == [show["discoveryTokenCaCertHash"]]
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", docs[0]["discovery"]["bootstrapToken"]["token"])
    assert docs[1]["evictionHard"]["nodefs.available"] == "614Mi"  # 15 % of the group's ram_root_size 4Gi
    assert "https://mirror.lab:5000" in f1["/etc/containerd/certs.d/docker.io/hosts.toml"][0]


def test_kubeadm_first_control_plane_inits_once_with_the_stacked_pki(kubeadm_server):
    s = kubeadm_server
    r = get(boot(s, "mac=52:54:00:00:01:01", source=CP1), CP1)
    assert r.status == 200, r.body
    files = ignition_files(r.body)
    docs = list(yaml.safe_load_all(files["/etc/kubernetes/kubeadm.yaml"][0]))
    assert [d["kind"] for d in docs] == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]
    assert docs[0]["localAPIEndpoint"]["advertiseAddress"] == CP1
    pki = "/etc/kubernetes/pki/"
    ca, etcd_ca = files[pki + "ca.crt"][0], files[pki + "etcd/ca.crt"][0]
    assert files[pki + "ca.key"][1] == 0o600
    apiserver = openssl_verify(s.tmp, ca, files[pki + "apiserver.crt"][0], "apiserver")
    assert f"IP Address:{CP1}" in apiserver and "DNS:kubernetes.default.svc.cluster.local" in apiserver
    etcd = openssl_verify(s.tmp, etcd_ca, files[pki + "etcd/server.crt"][0], "etcd-server")
    assert "CN = cp1" in etcd
    openssl_verify(s.tmp, etcd_ca, files[pki + "apiserver-etcd-client.crt"][0], "etcd-client")
    openssl_verify(s.tmp, files[pki + "front-proxy-ca.crt"][0], files[pki + "front-proxy-client.crt"][0], "fp")
    for conf in ["admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"]:
        assert files["/etc/kubernetes/" + conf][1] == 0o600, conf
    assert files[pki + "sa.key"][0] == (s.state / "pki/sa.key").read_text()
    assert files[pki + "kubelet-serving-ca.crt"][0] == (s.state / "pki/kubelet-serving-ca.crt").read_text()
    assert pki + "kubelet-serving-ca.key" not in files
    assert docs[1]["apiServer"]["extraArgs"]["kubelet-certificate-authority"] == pki + "kubelet-serving-ca.crt"

    # The cluster exists now: the next boot of cp1 joins it instead of making another one.
    again = ignition_files(get(boot(s, "mac=52:54:00:00:01:01", source=CP1), CP1).body)
    docs = list(yaml.safe_load_all(again["/etc/kubernetes/kubeadm.yaml"][0]))
    assert docs[0]["kind"] == "JoinConfiguration" and docs[0]["controlPlane"]
    assert again["/var/lib/kubelet/pki/kubelet.crt"] == files["/var/lib/kubelet/pki/kubelet.crt"]


def refused(server, url, reason):
    before = counter(server, "http.config.token_refused." + reason)
    r = get(url)
    assert r.status == 403, (r.status, r.body)
    body = r.text
    assert "BEGIN" not in body and "machine-id" not in body  # nothing of the config in a refusal
    assert counter(server, "http.config.token_refused." + reason) == before + 1
    return json.loads(body)["error"]


def test_refused_without_a_valid_token_and_counted(kubeadm_server):
    s = kubeadm_server
    url = boot(s, WORKER)
    token = token_of(url)
    bare = url[:url.rindex("/token=")]
    assert "carries its cluster credentials" in refused(s, bare, "missing")
    assert "not issued" in refused(s, bare + "/token=" + "0" * 32, "unknown")

    # Used within its lifetime (first: issuing another node's identity below takes a while on a loaded machine).
    assert get(url).status == 200
    assert "already used" in refused(s, url, "reused")

    # Another machine's token: refused, and not used up for its owner.
    other = boot(s, "mac=52:54:00:00:02:02&hostname=w2&ip=192.168.50.22", source="127.0.0.22")
    assert "another machine" in refused(s, bare + "/token=" + token_of(other), "other_machine")
    assert get(other, "127.0.0.22").status == 200

    late = boot(s, WORKER)
    time.sleep(TOKEN_TTL_MS / 1000 + 0.5)
    assert "expired" in refused(s, late, "expired")

    log = s.log_path.read_text()
    for reason in ["missing", "unknown", "other_machine", "reused", "expired"]:
        assert f"event=http.config.token_refused reason={reason}" in log, reason
    # No token ever reaches the log, not even refused or used ones, not even at debug level.
    assert "event=http.error_reply" in log
    for t in [token, token_of(other), token_of(late)]:
        assert t not in log


def test_machines_without_a_role_are_served_without_a_token(kubeadm_server):
    s = kubeadm_server
    url = boot(s, "mac=52:54:00:00:03:01&hostname=plain1")
    assert "/token=" not in url
    before = counter(s, "http.config.token_accepted")
    r = fetch(url)  # from any address
    assert r.status == 200, r.body
    files = ignition_files(r.body)
    assert files["/etc/motd"][0] == "node plain1\n"
    assert not any(p.startswith(("/etc/kubernetes", "/var/lib/kubelet", "/etc/machine-id")) for p in files)
    assert fetch(url).status == 200  # and as often as asked
    assert counter(s, "http.config.token_accepted") == before


def test_cached_scripts_get_a_fresh_token_each_time(kubeadm_server):
    s = kubeadm_server
    query = "mac=52:54:00:00:02:09&hostname=w9&ip=192.168.50.29"
    boot(s, query, source="127.0.0.29")
    hits = counter(s, "http.ipxe.cache_hit")
    tokens = {token_of(boot(s, query, source="127.0.0.29")) for _ in range(5)}
    assert len(tokens) == 5
    assert counter(s, "http.ipxe.cache_hit") == hits + 5  # still answered from the cache


def k3s_hash(token):
    m = re.fullmatch(r"K10([0-9a-f]{64})::server:[a-z0-9]+", token)
    assert m, token
    return m.group(1)


def test_k3s_agent_cloud_config_and_server_apkovl(k3s_server):
    s = k3s_server
    # Agent: cloud-config, two boots, the same node password and machine-id.
    bodies = []
    for _ in range(2):
        r = get(boot(s, WORKER, key="cloud-config-url"))
        assert r.status == 200, r.body
        assert r.headers["content-type"] == "text/cloud-config"
        bodies.append(yaml.safe_load(r.text))
    files = [{f["path"]: f["content"] for f in b["write_files"]} for b in bodies]
    for path in ["/etc/rancher/node/password", "/etc/machine-id", "/etc/ssh/ssh_host_ed25519_key"]:
        assert files[0][path] == files[1][path], path
    perms = {f["path"]: f.get("permissions") for f in bodies[0]["write_files"]}
    assert perms["/etc/rancher/node/password"] == "0600"
    assert re.fullmatch(r"[0-9a-f]{32}\n", files[0]["/etc/rancher/node/password"])
    agent = yaml.safe_load(files[0]["/etc/rancher/k3s/config.yaml"])
    assert agent["server"] == "https://192.168.50.10:6443" and agent["node-name"] == W1
    ca = (s.state / "pki/ca.crt").read_bytes()
    assert k3s_hash(agent["token"]) == hashlib.sha256(ca).hexdigest()  # pins the CA the servers get
    assert "mirror.lab:5000" in files[0]["/etc/rancher/k3s/registries.yaml"]
    assert bodies[0]["hostname"] == W1

    # Server: an Alpine overlay with the CA k3s serves (so the agents' pin matches).
    url = boot(s, "mac=52:54:00:00:01:01", key="apkovl", source=CP1)
    assert get(url[:url.rindex("/token=")], CP1).status == 403
    r = get(url, CP1)
    assert r.status == 200, r.body
    with tarfile.open(fileobj=io.BytesIO(r.body), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        read = lambda name: tar.extractfile(members[name]).read()  # noqa: E731
        server = yaml.safe_load(read("etc/rancher/k3s/config.yaml"))
        assert server["cluster-init"] is True and server["token"] == agent["token"]
        tls = "var/lib/rancher/k3s/server/tls/"
        assert read(tls + "server-ca.crt") == ca
        assert members[tls + "server-ca.key"].mode == 0o600
        assert read(tls + "etcd/peer-ca.crt") == (s.state / "pki/etcd/ca.crt").read_bytes()
        assert read(tls + "request-header-ca.key") == (s.state / "pki/front-proxy-ca.key").read_bytes()
        assert read("etc/rancher/node/password").strip()
    assert counter(s, "http.config.token_refused.missing") == 1
