"""Two doors (docs/operations.md, "Exposure and credentials"): the boot
listener serves nodes and refuses operator routes; the operator listener
(HTTPS) serves every /api/v1 read and write, and answers each credential as
it should: nothing, a wrong or revoked token -> 401; a read token or read
certificate -> reads yes, writes 403; an admin token -> everything; a client
certificate from another CA -> refused at the handshake. Real serve, real
curl, real `ramfleet api` commands changing the credentials while it runs.
"""
import os
import stat
import subprocess
import tempfile

import pytest

from loopback_serve import LoopbackServe, fetch
from netlab import RAMFLEET_BIN

MAC = "52:54:00:00:13:01"

READS = ["/api/v1/machines", f"/api/v1/machines/{MAC}", f"/api/v1/machines/{MAC}/events", "/api/v1/groups",
         "/api/v1/profiles", "/api/v1/leases", "/api/v1/counters", "/api/v1/inventory", "/api/v1/etcd",
         "/metrics"]
WRITES = [("POST", "/api/v1/inventory/reload"), ("POST", f"/api/v1/machines/{MAC}/events"),
          ("PUT", f"/api/v1/machines/{MAC}/labels"), ("POST", "/api/v1/groups")]


def api_cli(state, *args):
    r = subprocess.run([RAMFLEET_BIN, "api", *args, "--state", str(state)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def serve():
    tmp = tempfile.mkdtemp(prefix="rf-opauth-")
    s = LoopbackServe(tmp)
    (s.config / "profiles").mkdir()
    (s.config / "groups").mkdir()
    (s.config / "profiles" / "p.yaml").write_text("kernel: /assets/vmlinuz\n")
    (s.config / "inventory.yaml").write_text("default: {profile: p}\n")
    s.start()
    assert fetch(s.base + f"/ipxe?mac={MAC}").status == 200  # a machine to read about
    creds = {"tmp": tmp}
    creds["read"] = api_cli(s.state, "token", "create", "ci-reader", "--scope", "read").strip()
    creds["admin_made"] = api_cli(s.state, "token", "create", "ci-admin", "--scope", "admin").strip()
    certs = os.path.join(tmp, "certs")
    api_cli(s.state, "cert", "issue", "laptop", "--scope", "read", "--out", certs)
    creds["cert"] = (os.path.join(certs, "laptop.crt"), os.path.join(certs, "laptop.key"))
    # The same names and scopes, signed by another operator CA (another state directory).
    other = os.path.join(tmp, "other-state")
    api_cli(other, "cert", "issue", "laptop", "--scope", "admin", "--out", os.path.join(tmp, "other"))
    creds["foreign"] = (os.path.join(tmp, "other", "laptop.crt"), os.path.join(tmp, "other", "laptop.key"))
    s.creds = creds
    yield s
    s.stop()
    assert s.proc.returncode == 0, s.log_path.read_text()[-3000:]


def call(s, method, path, **kw):
    if method in ("POST", "PUT"):
        return s.api.fetch(path, "-d", "{}", "-H", "Content-Type: application/json", method=method, **kw)
    return s.api.fetch(path, **kw)


def test_the_bootstrap_files_are_private(serve):
    for name in ("admin.token", "tokens", "ca.key", "server.key"):
        mode = stat.S_IMODE(os.stat(serve.state / "api" / name).st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert serve.api.admin_token().startswith("rfop_")
    assert "rfop_" not in (serve.state / "api" / "tokens").read_text(), "only hashes are stored"


@pytest.mark.parametrize("path", READS)
def test_reads_by_credential(serve, path):
    admin = call(serve, "GET", path)
    ok = 200
    assert admin.status == ok, (path, admin.status, admin.body[:300])
    assert call(serve, "GET", path, token=None).status == 401
    assert call(serve, "GET", path, token="rfop_" + "x" * 43).status == 401
    assert call(serve, "GET", path, token=serve.creds["read"]).status == ok
    assert call(serve, "GET", path, token=serve.creds["admin_made"]).status == ok
    cert, key = serve.creds["cert"]
    assert call(serve, "GET", path, token=None, cert=cert, key=key).status == ok
    cert, key = serve.creds["foreign"]
    assert call(serve, "GET", path, token=None, cert=cert, key=key).status in (0, 401)


@pytest.mark.parametrize("method,path", WRITES)
def test_writes_by_credential(serve, method, path):
    assert call(serve, method, path, token=None).status == 401
    assert call(serve, method, path, token="rfop_wrong").status == 401
    assert call(serve, method, path, token=serve.creds["read"]).status == 403
    cert, key = serve.creds["cert"]
    assert call(serve, method, path, token=None, cert=cert, key=key).status == 403
    cert, key = serve.creds["foreign"]
    assert call(serve, method, path, token=None, cert=cert, key=key).status in (0, 401)
    admin = call(serve, method, path)
    assert admin.status not in (401, 403) and admin.status < 500, (path, admin.status, admin.body[:300])


def test_401_carries_a_bearer_challenge(serve):
    r = call(serve, "GET", "/api/v1/machines", token=None)
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = call(serve, "GET", "/api/v1/machines", token="rfop_wrong")
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_revocation_takes_effect_while_serve_runs(serve):
    token = api_cli(serve.state, "token", "create", "short-lived", "--scope", "admin").strip()
    assert call(serve, "GET", "/api/v1/counters", token=token).status == 200
    api_cli(serve.state, "token", "revoke", "short-lived")
    assert call(serve, "GET", "/api/v1/counters", token=token).status == 401
    assert call(serve, "POST", "/api/v1/inventory/reload", token=token).status == 401
    listed = api_cli(serve.state, "token", "list")
    assert "revoked  short-lived" in listed and "ci-reader" in listed


def test_a_revoked_certificate_is_refused(serve):
    certs = os.path.join(serve.creds["tmp"], "certs2")
    api_cli(serve.state, "cert", "issue", "old-laptop", "--scope", "admin", "--out", certs)
    cert, key = os.path.join(certs, "old-laptop.crt"), os.path.join(certs, "old-laptop.key")
    assert call(serve, "GET", "/api/v1/groups", token=None, cert=cert, key=key).status == 200
    api_cli(serve.state, "token", "revoke", "old-laptop")
    assert call(serve, "GET", "/api/v1/groups", token=None, cert=cert, key=key).status == 401
    # and the name cannot come back
    r = subprocess.run([RAMFLEET_BIN, "api", "token", "create", "old-laptop", "--state", str(serve.state)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "revoked" in r.stderr


def test_bad_authorization_headers_are_401_counted_and_serving_goes_on(serve):
    before = serve.counters().get("http.operator.auth.bad_header", 0)
    bad = ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Bearer " + "A" * 300, "Bearer " + "A" * 7000,
           "bearer\trfop_x", "Bearer rfop_!"]
    for value in bad:
        r = serve.api.fetch("/api/v1/machines", "-H", f"Authorization: {value}", token=None)
        assert r.status == 401, (value[:40], r.status)
    assert serve.counters().get("http.operator.auth.bad_header", 0) == before + len(bad)
    # a header beyond the size limit is refused whole, and the server stays up
    r = serve.api.fetch("/api/v1/machines", "-H", "Authorization: Bearer " + "A" * 9000, token=None)
    assert r.status in (401, 431)
    assert call(serve, "GET", "/api/v1/machines").status == 200
    assert fetch(serve.base + "/healthz").status == 200


def test_plain_http_on_the_operator_port_gets_no_data(serve):
    proc = subprocess.run(["curl", "-s", "--max-time", "5", f"http://127.0.0.1:{serve.api_port}/api/v1/machines"],
                          capture_output=True, timeout=15)
    assert MAC.encode() not in proc.stdout
    assert call(serve, "GET", "/api/v1/machines").status == 200


@pytest.mark.parametrize("path", ["/api/v1/machines", "/api/v1/counters", f"/api/v1/machines/{MAC}/events",
                                  "/api/v1/inventory/reload", "/metrics", "/ui/", "/api/v1/etcd"])
def test_the_boot_listener_refuses_operator_routes(serve, path):
    token = serve.api.admin_token()
    r = fetch(serve.base + path, "-H", f"Authorization: Bearer {token}")
    assert r.status == 403, (path, r.status)
    assert "operator listener" in r.json()["error"] and f":{serve.api_port}" in r.json()["error"]
    assert MAC.encode() not in r.body


def test_the_boot_listener_keeps_the_node_event_post(serve):
    r = fetch(serve.base + f"/api/v1/machines/{MAC}/events", "-X", "POST", "-d", '{"phase":"booted"}')
    assert r.status in (201, 401, 403) and r.status != 404, r.status  # helper events adds the node's credential


def test_the_operator_listener_serves_no_node_routes(serve):
    assert call(serve, "GET", f"/ipxe?mac={MAC}").status == 404
    assert call(serve, "GET", "/boot.ipxe").status == 404
