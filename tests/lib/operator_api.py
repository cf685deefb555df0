"""The operator API from the tests: HTTPS with a bearer token, as local root
calls it (docs/operations.md, "Exposure and credentials").

serve writes STATE/api/url (where its operator listener is), STATE/api/ca.crt
(the operator CA, which signed the listener's certificate) and
STATE/api/admin.token (the bootstrap admin token) on start. OperatorApi reads
them at each call (serve may not have written them yet when it is made) and
calls the API with curl, optionally inside a network namespace.
"""
import json
import subprocess
import tempfile
from pathlib import Path

DEFAULT = object()  # "the admin token from the state directory"


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode()

    def json(self):
        return json.loads(self.body)


def curl(url, *args, prefix=(), timeout=10):
    """A request with curl: status (0: no HTTP answer, e.g. a refused TLS
    handshake), lower-cased headers and the body bytes."""
    with tempfile.NamedTemporaryFile() as hdr, tempfile.NamedTemporaryFile() as body:
        proc = subprocess.run([*prefix, "curl", "-sS", "--max-time", str(timeout), "-D", hdr.name, "-o", body.name,
                               *args, url], capture_output=True, timeout=timeout + 10)
        lines = Path(hdr.name).read_bytes().decode("latin-1").split("\r\n")
        if proc.returncode != 0 and not lines[0].startswith("HTTP/"):
            return Response(0, {"curl-error": proc.stderr.decode(errors="replace")}, b"")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return Response(int(lines[0].split()[1]), headers, Path(body.name).read_bytes())


class OperatorApi:
    """prefix: a command curl (and the reading of STATE/api) runs under, e.g.
    ("ip", "netns", "exec", NS), or ("nsenter", "-t", PID, "-m") when the
    state directory is only mounted in serve's mount namespace."""

    def __init__(self, state, url=None, netns=None, prefix=()):
        self.state = Path(state)
        self._url = url
        self.prefix = ("ip", "netns", "exec", netns) if netns else tuple(prefix)

    def read(self, name):
        path = self.state / "api" / name
        if not self.prefix:
            return path.read_text().strip()
        r = subprocess.run([*self.prefix, "cat", str(path)], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, (path, r.stderr)
        return r.stdout.strip()

    @property
    def url(self):
        return self._url or self.read("url")

    @property
    def ca(self):
        return self.state / "api" / "ca.crt"

    def admin_token(self):
        return self.read("admin.token")

    def fetch(self, path, *args, method=None, token=DEFAULT, cert=None, key=None, ca=None, timeout=10):
        """One request. token: DEFAULT (the admin token), None (no header) or a
        token; cert/key: a client certificate; args: more curl arguments."""
        extra = ["--cacert", str(ca or self.ca)]
        if method:
            extra += ["-X", method]
        if token is DEFAULT:
            token = self.admin_token()
        if token is not None:
            extra += ["-H", f"Authorization: Bearer {token}"]
        if cert:
            extra += ["--cert", str(cert), "--key", str(key)]
        return curl(self.url + path, *extra, *args, prefix=self.prefix, timeout=timeout)

    def json(self, path, **kw):
        r = self.fetch(path, **kw)
        assert r.status == 200, (path, r.status, r.body[:500], r.headers.get("curl-error"))
        return r.json()
