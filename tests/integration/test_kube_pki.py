"""`ramfleet cluster init` PKI checked by the real tools: openssl, kubectl, ssh-keygen.

Every certificate must chain to its CA with `openssl verify` and carry the
subject, SANs, key usages and validity kubeadm gives it; the discovery hash
must equal the one Kubernetes documents computing with openssl.
"""
import base64
import datetime
import hashlib
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from netlab import RAMFLEET_BIN

SPEC = """\
name: {name}
kubernetesVersion: {version}
distribution: kubeadm
controlPlaneEndpoint: k8s.lab.example:6443
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
apiServer:
  certSANs: [k8s.lab.example, 192.168.50.10]
etcd:
  members:
    - {{name: cp1, ip: 192.168.50.11}}
    - {{name: cp2, ip: 192.168.50.12}}
    - {{name: cp3, ip: 192.168.50.13}}
roles:
  control-plane: [{{hostname: cp1}}, {{hostname: cp2}}, {{hostname: cp3}}]
  worker: [{{labels: {{pool: general}}}}]
pki:
  keyAlgorithm: {alg}
"""


def ramfleet(*args, timeout=60):
    return subprocess.run([RAMFLEET_BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def run(*cmd, input=None, timeout=30):
    r = subprocess.run(list(map(str, cmd)), capture_output=True, input=input, timeout=timeout)
    assert r.returncode == 0, f"{cmd}: {r.stderr.decode(errors='replace')}"
    return r.stdout


def init(tmp_path, name="lab", alg="rsa-2048", version="v1.29.4"):
    cfg = tmp_path / f"config-{name}"
    cfg.mkdir()
    (cfg / "cluster.yaml").write_text(SPEC.format(name=name, alg=alg, version=version))
    state = tmp_path / f"state-{name}"
    r = ramfleet("cluster", "init", "--config", cfg, "--state", state)
    assert r.returncode == 0, r.stderr
    return cfg, state


@pytest.fixture(scope="module")
def rsa_state(tmp_path_factory):
    return init(tmp_path_factory.mktemp("rsa"))[1]


def x509_text(path):
    return run("openssl", "x509", "-noout", "-text", "-in", path).decode()


def sans(text):
    m = re.search(r"X509v3 Subject Alternative Name:\s*\n\s*(.*)\n", text)
    return set(m.group(1).split(", ")) if m else set()


def subject(path):
    return run("openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", path).decode().strip().removeprefix("subject=")


def verify(ca, cert, purpose=None):
    args = ["openssl", "verify", "-CAfile", ca]
    if purpose:
        args += ["-purpose", purpose]
    out = run(*args, cert).decode()
    assert out.strip().endswith(": OK"), out


def not_after(path):
    out = run("openssl", "x509", "-noout", "-enddate", "-in", path).decode().strip().split("=", 1)[1]
    return datetime.datetime.strptime(out, "%b %d %H:%M:%S %Y %Z")


def days_left(path):
    return (not_after(path) - datetime.datetime.utcnow()).days


# (file, CA, subject as RFC 2253, extended key usage, openssl verify purpose)
LEAVES = [
    ("apiserver", "ca", "CN=kube-apiserver", "TLS Web Server Authentication", "sslserver"),
    ("apiserver-kubelet-client", "ca", "CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins",
     "TLS Web Client Authentication", "sslclient"),
    ("apiserver-etcd-client", "etcd/ca", "CN=kube-apiserver-etcd-client", "TLS Web Client Authentication", "sslclient"),
    ("front-proxy-client", "front-proxy-ca", "CN=front-proxy-client", "TLS Web Client Authentication", "sslclient"),
    ("etcd/healthcheck-client", "etcd/ca", "CN=kube-etcd-healthcheck-client", "TLS Web Client Authentication",
     "sslclient"),
] + [(f"etcd/members/cp{i}/{kind}", "etcd/ca", f"CN=cp{i}",
      "TLS Web Server Authentication, TLS Web Client Authentication", "sslserver")
     for i in (1, 2, 3) for kind in ("server", "peer")]


@pytest.mark.parametrize("name,cn", [("ca", "kubernetes"), ("etcd/ca", "etcd-ca"),
                                     ("front-proxy-ca", "front-proxy-ca"),
                                     ("kubelet-serving-ca", "kubelet-serving-ca")])
def test_cas_are_self_signed_ten_year_cas(rsa_state, name, cn):
    crt = rsa_state / "pki" / f"{name}.crt"
    verify(crt, crt)
    assert subject(crt) == f"CN={cn}"
    text = x509_text(crt)
    assert re.search(r"Basic Constraints: critical\s*\n\s*CA:TRUE", text)
    assert re.search(r"Key Usage: critical\s*\n\s*Digital Signature, Key Encipherment, Certificate Sign", text)
    assert "Public-Key: (2048 bit)" in text  # kubeadm's default RSA-2048
    assert 3640 <= days_left(crt) <= 3651


@pytest.mark.parametrize("name,ca,subj,eku,purpose", LEAVES, ids=[leaf[0] for leaf in LEAVES])
def test_leaf_certificates_chain_and_carry_kubeadms_usages(rsa_state, name, ca, subj, eku, purpose):
    pki = rsa_state / "pki"
    crt = pki / f"{name}.crt"
    verify(pki / f"{ca}.crt", crt, purpose)
    assert subject(crt) == subj
    text = x509_text(crt)
    assert re.search(r"Basic Constraints: critical\s*\n\s*CA:FALSE", text)
    assert re.search(r"Key Usage: critical\s*\n\s*Digital Signature, Key Encipherment\s*\n", text)
    assert re.search(r"Extended Key Usage:\s*\n\s*" + re.escape(eku) + r"\s*\n", text)
    assert 360 <= days_left(crt) <= 366
    # The key on disk belongs to the certificate.
    key_pub = run("openssl", "pkey", "-in", pki / f"{name}.key", "-pubout")
    assert key_pub == run("openssl", "x509", "-in", crt, "-noout", "-pubkey")


def test_leaf_from_another_ca_does_not_verify(rsa_state):
    pki = rsa_state / "pki"
    r = subprocess.run(["openssl", "verify", "-CAfile", pki / "ca.crt", pki / "apiserver-etcd-client.crt"],
                       capture_output=True, text=True)
    assert r.returncode != 0


def test_apiserver_sans(rsa_state):
    assert sans(x509_text(rsa_state / "pki" / "apiserver.crt")) == {
        "DNS:cp1", "DNS:cp2", "DNS:cp3", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local", "DNS:k8s.lab.example", "IP Address:10.96.0.1",
        "IP Address:192.168.50.11", "IP Address:192.168.50.12", "IP Address:192.168.50.13",
        "IP Address:192.168.50.10"}


def test_etcd_member_sans(rsa_state):
    for kind in ("server", "peer"):
        assert sans(x509_text(rsa_state / "pki" / "etcd" / "members" / "cp2" / f"{kind}.crt")) == {
            "DNS:cp2", "DNS:localhost", "IP Address:192.168.50.12", "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1"}


def test_service_account_key_pair(rsa_state):
    pki = rsa_state / "pki"
    assert run("openssl", "pkey", "-in", pki / "sa.key", "-pubout") == (pki / "sa.pub").read_bytes()


def test_discovery_hash_matches_openssl_as_kubernetes_documents(rsa_state):
    # kubeadm join docs: openssl x509 -pubkey -in ca.crt | openssl rsa -pubin -outform der | sha256sum
    pub = run("openssl", "x509", "-pubkey", "-noout", "-in", rsa_state / "pki" / "ca.crt")
    der = run("openssl", "rsa", "-pubin", "-outform", "der", input=pub)
    expected = "sha256:" + hashlib.sha256(der).hexdigest()
    r = ramfleet("cluster", "show", "--json", "--state", rsa_state)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["discoveryTokenCaCertHash"] == expected


def test_discovery_hash_for_an_ecdsa_ca(tmp_path):
    _, state = init(tmp_path, alg="ecdsa-p256")
    pub = run("openssl", "x509", "-pubkey", "-noout", "-in", state / "pki" / "ca.crt")
    der = run("openssl", "ec", "-pubin", "-outform", "der", input=pub)
    show = json.loads(ramfleet("cluster", "show", "--json", "--state", state).stdout)
    assert show["discoveryTokenCaCertHash"] == "sha256:" + hashlib.sha256(der).hexdigest()
    text = x509_text(state / "pki" / "apiserver.crt")
    assert "ASN1 OID: prime256v1" in text
    # No key encipherment for ECDSA keys, as Go's x509 (and kubeadm) do.
    assert re.search(r"Key Usage: critical\s*\n\s*Digital Signature\s*\n", text)
    verify(state / "pki" / "ca.crt", state / "pki" / "apiserver.crt", "sslserver")


KUBECONFIGS = [("admin.conf", "kubernetes-admin", "CN=kubernetes-admin,O=kubeadm:cluster-admins"),
               ("super-admin.conf", "kubernetes-super-admin", "CN=kubernetes-super-admin,O=system:masters"),
               ("controller-manager.conf", "system:kube-controller-manager", "CN=system:kube-controller-manager"),
               ("scheduler.conf", "system:kube-scheduler", "CN=system:kube-scheduler")]


@pytest.mark.parametrize("conf,user,subj", KUBECONFIGS, ids=[k[0] for k in KUBECONFIGS])
def test_kubeconfigs_parse_with_kubectl_and_chain(rsa_state, tmp_path, conf, user, subj):
    path = rsa_state / "kubeconfig" / conf
    view = json.loads(run("kubectl", "config", "view", "--raw", "-o", "json", "--kubeconfig", path))
    assert view["current-context"] == f"{user}@lab"
    assert view["clusters"][0]["cluster"]["server"] == "https://k8s.lab.example:6443"
    assert view["users"][0]["name"] == user
    ca_pem = base64.b64decode(view["clusters"][0]["cluster"]["certificate-authority-data"])
    assert ca_pem == (rsa_state / "pki" / "ca.crt").read_bytes()
    cert = tmp_path / "client.crt"
    cert.write_bytes(base64.b64decode(view["users"][0]["user"]["client-certificate-data"]))
    verify(rsa_state / "pki" / "ca.crt", cert, "sslclient")
    assert subject(cert) == subj
    key_pub = run("openssl", "pkey", "-pubout", input=base64.b64decode(view["users"][0]["user"]["client-key-data"]))
    assert key_pub == run("openssl", "x509", "-in", cert, "-noout", "-pubkey")
    # And kubectl itself accepts the user: `config view` without --raw redacts the secrets it parsed.
    redacted = run("kubectl", "config", "view", "--kubeconfig", path).decode()
    assert "client-key-data: DATA+OMITTED" in redacted


def test_ramfleet_kubeconfig_prints_admin_conf(rsa_state):
    r = ramfleet("kubeconfig", "--state", rsa_state)
    assert r.returncode == 0
    assert r.stdout == (rsa_state / "kubeconfig" / "admin.conf").read_text()


def test_older_kubernetes_uses_system_masters(tmp_path):
    _, state = init(tmp_path, version="v1.28.9", alg="ecdsa-p256")
    assert not (state / "kubeconfig" / "super-admin.conf").exists()
    assert subject(state / "pki" / "apiserver-kubelet-client.crt") == \
        "CN=kube-apiserver-kubelet-client,O=system:masters"


def tree_hashes(state):
    return {str(p.relative_to(state)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(state.rglob("*")) if p.is_file()}


def test_init_twice_changes_nothing_and_is_private(tmp_path):
    cfg, state = init(tmp_path, alg="ecdsa-p256")
    before = tree_hashes(state)
    r = ramfleet("cluster", "init", "--config", cfg, "--state", state)
    assert r.returncode == 0, r.stderr
    assert "0 created" in r.stdout
    assert tree_hashes(state) == before
    for p in [state, *state.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), f"{p} {oct(mode)}"
    assert not [p for p in state.rglob("*") if ".tmp" in p.name]


def test_init_refuses_a_bad_spec_with_file_line_column(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "cluster.yaml").write_text(SPEC.format(name="lab", alg="rsa-2048", version="v1.29.4")
                                      .replace("    - {name: cp3, ip: 192.168.50.13}\n", ""))
    r = ramfleet("cluster", "init", "--config", cfg, "--state", tmp_path / "state")
    assert r.returncode == 1
    assert f"{cfg}/cluster.yaml:13:5: error: etcd.members: 2 members is an even number" in r.stderr
    assert not (tmp_path / "state").exists()
    r = ramfleet("check", cfg)
    assert r.returncode == 1
    assert f"{cfg}/cluster.yaml:13:5: error: etcd.members" in r.stderr


def test_node_identity_is_stable_and_valid(rsa_state, tmp_path):
    def fetch(*ips):
        r = ramfleet("cluster", "node", "w1", *[a for ip in ips for a in ("--ip", ip)], "--state", rsa_state)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    first = fetch("192.168.50.21")
    second = fetch("192.168.50.99")  # a second boot: same identity, whatever it reports now
    assert first == second
    assert re.fullmatch(r"[0-9a-f]{32}", first["machineId"])
    assert len(first["k3sNodePassword"]) >= 32
    pki = rsa_state / "pki"
    for field, ca, purpose in (("kubeletClientCert", "ca", "sslclient"),
                               ("kubeletServingCert", "kubelet-serving-ca", "sslserver")):
        crt = tmp_path / f"{field}.crt"
        crt.write_text(first[field])
        verify(pki / f"{ca}.crt", crt, purpose)
        assert subject(crt) == "CN=system:node:w1,O=system:nodes"
    assert sans(x509_text(tmp_path / "kubeletServingCert.crt")) == {"DNS:w1", "IP Address:192.168.50.21"}
    kubeconfig = tmp_path / "kubelet.conf"
    kubeconfig.write_text(first["kubeletKubeconfig"])
    view = json.loads(run("kubectl", "config", "view", "--raw", "-o", "json", "--kubeconfig", kubeconfig))
    assert view["users"][0]["name"] == "system:node:w1"
    # The SSH host key is a real OpenSSH key: ssh-keygen derives the same public key from it.
    key = tmp_path / "ssh_host_ed25519_key"
    key.write_text(first["sshHostEd25519Key"])
    key.chmod(0o600)
    derived = run("ssh-keygen", "-y", "-f", key).decode().split()[:2]
    assert derived == first["sshHostEd25519KeyPub"].split()[:2]
    assert derived[0] == "ssh-ed25519"
    # Another node gets another identity.
    other = json.loads(ramfleet("cluster", "node", "w2", "--state", rsa_state).stdout)
    assert other["machineId"] != first["machineId"]
    assert other["sshHostEd25519Key"] != first["sshHostEd25519Key"]


def test_tokens(rsa_state):
    r = ramfleet("token", "create", "--ttl", "2h", "--state", rsa_state)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token)
    listed = ramfleet("token", "list", "--state", rsa_state).stdout
    assert token.split(".")[0] in listed and token.split(".")[1] not in listed
    assert ramfleet("token", "create", "--ttl", "soon", "--state", rsa_state).returncode == 2
    stored = json.loads((rsa_state / "tokens.json").read_text())["tokens"]
    t = next(t for t in stored if t["token"] == token)
    assert t["expires"] - t["created"] == 7200


def test_k3s_token_hashes_the_ca_bundle(rsa_state):
    r = ramfleet("token", "k3s", "--state", rsa_state)
    assert r.returncode == 0, r.stderr
    digest = hashlib.sha256((rsa_state / "pki" / "ca.crt").read_bytes()).hexdigest()
    assert re.fullmatch(rf"K10{digest}::server:[a-z0-9]{{32}}", r.stdout.strip())


def test_state_of_another_cluster_is_refused(tmp_path):
    cfg, state = init(tmp_path, alg="ecdsa-p256")
    (cfg / "cluster.yaml").write_text((cfg / "cluster.yaml").read_text().replace("name: lab", "name: other"))
    r = ramfleet("cluster", "init", "--config", cfg, "--state", state)
    assert r.returncode == 1
    assert 'holds the PKI of cluster "lab"' in r.stderr


def test_cluster_approve_list_revoke(tmp_path):
    cfg, state = init(tmp_path, alg="ecdsa-p256")
    assert ramfleet("cluster", "approvals", "--state", state).stdout == ""
    r = ramfleet("cluster", "approve", "cp2", "--state", state, "--config", cfg, "--by", "alice")
    assert r.returncode == 0, r.stderr
    r = ramfleet("cluster", "approve", "cp1", "--state", state)  # without --config: no membership check
    assert r.returncode == 0, r.stderr
    assert ramfleet("cluster", "approvals", "--state", state).stdout == "cp1\ncp2\n"
    record = state / "approved" / "cp2"
    assert "approved-by: alice\n" in record.read_text()
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert stat.S_IMODE((state / "approved").stat().st_mode) == 0o700

    r = ramfleet("cluster", "revoke-approval", "cp2", "--state", state)
    assert r.returncode == 0, r.stderr
    assert not record.exists()
    assert ramfleet("cluster", "approvals", "--state", state).stdout == "cp1\n"
    r = ramfleet("cluster", "revoke-approval", "cp2", "--state", state)
    assert r.returncode == 1 and "was not approved" in r.stderr


def test_cluster_approve_refuses_non_members_and_bad_names(tmp_path):
    cfg, state = init(tmp_path, alg="ecdsa-p256")
    r = ramfleet("cluster", "approve", "w1", "--state", state, "--config", cfg)
    assert r.returncode == 1
    assert f'"w1" is not an etcd member in {cfg}/cluster.yaml (members: cp1, cp2, cp3)' in r.stderr
    for bad in ("../evil", "CP1", "a/b", ".."):
        r = ramfleet("cluster", "approve", bad, "--state", state)
        assert r.returncode == 2, (bad, r.stderr)
        assert "is not a lowercase DNS name" in r.stderr
        assert ramfleet("cluster", "revoke-approval", bad, "--state", state).returncode == 2
    # A state directory without a cluster (a mistyped --state) is refused, not created.
    r = ramfleet("cluster", "approve", "cp1", "--state", tmp_path / "nowhere")
    assert r.returncode == 1
    assert not (tmp_path / "nowhere").exists()
    assert not (state / "approved").exists()
    assert not (tmp_path / "evil").exists()


def verifies(ca, cert, purpose="sslserver"):
    r = subprocess.run(["openssl", "verify", "-CAfile", ca, "-purpose", purpose, cert], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip().endswith(": OK")


def test_kubelet_serving_cert_has_its_own_ca(rsa_state, tmp_path):
    r = ramfleet("cluster", "node", "w9", "--ip", "192.168.50.29", "--state", rsa_state)
    assert r.returncode == 0, r.stderr
    crt = tmp_path / "kubelet.crt"
    crt.write_text(json.loads(r.stdout)["kubeletServingCert"])
    pki = rsa_state / "pki"
    assert verifies(pki / "kubelet-serving-ca.crt", crt)
    assert not verifies(pki / "ca.crt", crt)
    assert sans(x509_text(crt)) == {"DNS:w9", "IP Address:192.168.50.29"}
    # Nothing that chains to the cluster CA is signed by the kubelet-serving CA or vice versa.
    assert not verifies(pki / "kubelet-serving-ca.crt", pki / "apiserver.crt")


def test_no_ca_chained_serving_cert_for_the_api_servers_name(rsa_state, tmp_path):
    # Issue 10: asking for a node named like the API endpoint used to return a
    # serverAuth certificate for it that every kubeconfig's CA trusted.
    r = ramfleet("cluster", "node", "k8s.lab.example", "--ip", "192.168.50.10", "--state", rsa_state)
    assert r.returncode == 0, r.stderr
    ident = json.loads(r.stdout)
    serving = tmp_path / "serving.crt"
    serving.write_text(ident["kubeletServingCert"])
    assert "DNS:k8s.lab.example" in sans(x509_text(serving))
    assert not verifies(rsa_state / "pki" / "ca.crt", serving)
    # The client certificate does chain to ca.crt, but it cannot serve TLS.
    client = tmp_path / "client.crt"
    client.write_text(ident["kubeletClientCert"])
    assert verifies(rsa_state / "pki" / "ca.crt", client, "sslclient")
    assert not verifies(rsa_state / "pki" / "ca.crt", client, "sslserver")


def test_old_serving_certs_are_reissued_by_init(tmp_path):
    cfg, state = init(tmp_path, alg="ecdsa-p256")
    assert ramfleet("cluster", "node", "w1", "--ip", "192.168.50.21", "--state", state).returncode == 0
    node = state / "nodes" / "w1"
    pki = state / "pki"
    # Make the state look like one from before the kubelet-serving CA: its
    # serving cert signed by the cluster CA (as the old code did), no such CA.
    run("openssl", "req", "-new", "-key", node / "kubelet.key", "-subj", "/O=system:nodes/CN=system:node:w1",
        "-out", tmp_path / "w1.csr")
    ext = tmp_path / "ext.cnf"
    ext.write_text("extendedKeyUsage=serverAuth\nsubjectAltName=DNS:w1,IP:192.168.50.21\n")
    run("openssl", "x509", "-req", "-in", tmp_path / "w1.csr", "-CA", pki / "ca.crt", "-CAkey", pki / "ca.key",
        "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", node / "kubelet.crt")
    (pki / "ca.srl").unlink(missing_ok=True)
    (pki / "kubelet-serving-ca.crt").unlink()
    (pki / "kubelet-serving-ca.key").unlink()
    assert verifies(pki / "ca.crt", node / "kubelet.crt")
    client = (node / "kubelet-client.crt").read_bytes()

    r = ramfleet("cluster", "init", "--config", cfg, "--state", state)
    assert r.returncode == 0, r.stderr
    assert "created pki/kubelet-serving-ca.crt" in r.stdout
    assert "created nodes/w1/kubelet.crt" in r.stdout
    assert verifies(pki / "kubelet-serving-ca.crt", node / "kubelet.crt")
    assert not verifies(pki / "ca.crt", node / "kubelet.crt")
    assert sans(x509_text(node / "kubelet.crt")) == {"DNS:w1", "IP Address:192.168.50.21"}
    assert run("openssl", "pkey", "-in", node / "kubelet.key", "-pubout") == \
        run("openssl", "x509", "-in", node / "kubelet.crt", "-noout", "-pubkey")
    assert (node / "kubelet-client.crt").read_bytes() == client  # only the serving pair changed
    for p in (node / "kubelet.crt", node / "kubelet.key", pki / "kubelet-serving-ca.key"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    r = ramfleet("cluster", "init", "--config", cfg, "--state", state)
    assert "0 created" in r.stdout


@pytest.mark.parametrize("gone", ["ca.crt", "ca.key"])
def test_init_refuses_to_replace_a_lost_ca_half(tmp_path, gone):
    # Issue 10: deleting ca.crt made init overwrite ca.key with a new CA while
    # the leaves signed by the old one stayed, and report success.
    cfg, state = init(tmp_path, alg="ecdsa-p256")
    pki = state / "pki"
    before = tree_hashes(state)
    (pki / gone).unlink()
    r = ramfleet("cluster", "init", "--config", cfg, "--state", state)
    assert r.returncode == 1
    assert f"pki/{gone} is missing" in r.stderr
    assert "pki/apiserver.crt" in r.stderr
    assert f"Restore pki/{gone} from a backup" in r.stderr
    assert f"remove the whole state directory {state}" in r.stderr
    assert not (pki / gone).exists()
    del before[f"pki/{gone}"]
    assert tree_hashes(state) == before  # the other half byte-for-byte, and nothing else touched


def test_init_refuses_a_whole_lost_ca_while_its_leaves_exist(tmp_path):
    cfg, state = init(tmp_path, alg="ecdsa-p256")
    for half in ("crt", "key"):
        (state / "pki" / "etcd" / f"ca.{half}").unlink()
    r = ramfleet("cluster", "init", "--config", cfg, "--state", state)
    assert r.returncode == 1
    assert "the etcd CA: pki/etcd/ca.crt, pki/etcd/ca.key are missing" in r.stderr
    assert "pki/apiserver-etcd-client.crt" in r.stderr
    assert not (state / "pki" / "etcd" / "ca.key").exists()


def test_init_makes_the_state_private(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "cluster.yaml").write_text(SPEC.format(name="lab", alg="ecdsa-p256", version="v1.29.4"))
    state = tmp_path / "state"
    state.mkdir(mode=0o755)  # as `serve` or mkdir -p leave it
    state.chmod(0o755)
    assert ramfleet("cluster", "init", "--config", cfg, "--state", state).returncode == 0
    assert ramfleet("cluster", "node", "w1", "--state", state).returncode == 0
    assert ramfleet("cluster", "approve", "cp1", "--state", state).returncode == 0
    (state / "nodes" / "w1" / "kubelet.key").chmod(0o644)
    (state / "pki").chmod(0o755)
    assert ramfleet("cluster", "init", "--config", cfg, "--state", state).returncode == 0
    for p in [state, *state.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), f"{p} {oct(mode)}"
