"""Assets served by the real `ramfleet serve` compared, request by request,
with nginx serving the same file (started here on another loopback port with
a temporary config, stopped by PID): HEAD, full GET, single and multiple
ranges, 416, ETag/If-None-Match, Last-Modified/If-Modified-Since. Then path
traversal attempts (.., %2e%2e, absolute paths, encoded slashes, symlinks out)
are refused and counted."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from loopback_serve import LoopbackServe, Response, free_port

SIZE = 3 * 1024 * 1024 + 17


def wait_http(url, proc, log, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{url}: server exited: {Path(log).read_text()}")
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url], capture_output=True, text=True)
        if r.stdout not in ("000", ""):
            return
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fetch(url, *args, tmp):
    hdr, body = Path(tmp) / "h", Path(tmp) / "b"
    for p in (hdr, body):
        p.unlink(missing_ok=True)
    subprocess.run(["curl", "-sS", "--max-time", "20", "--path-as-is", "-D", str(hdr), "-o", str(body), *args, url],
                   check=True, timeout=30)
    lines = hdr.read_bytes().decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return Response(status, headers, body.read_bytes() if body.exists() else b"")


def parts(resp):
    """(Content-Range, data) of each part of a multipart/byteranges body."""
    ctype = resp.headers["content-type"]
    assert ctype.startswith("multipart/byteranges; boundary="), ctype
    boundary = ctype.split("boundary=", 1)[1].encode()
    out = []
    for chunk in resp.body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.partition(b"\r\n\r\n")
        crange = next(line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-range:"))
        out.append((crange, data[:-2] if data.endswith(b"\r\n") else data))
    return out


@pytest.fixture(scope="module")
def servers():
    tmp = Path(tempfile.mkdtemp(prefix="rf-assets-"))
    assets = tmp / "config" / "assets"
    (assets / "sub").mkdir(parents=True)
    data = os.urandom(SIZE)
    (assets / "vmlinuz").write_bytes(data)
    (assets / "sub" / "initrd.img").write_bytes(b"initrd" * 100)
    (tmp / "secret").write_text("TOP-SECRET\n")
    (assets / "escape").symlink_to(tmp / "secret")
    (assets / "inside").symlink_to("sub/initrd.img")

    rf = LoopbackServe(tmp)
    ngx_port = free_port()
    ngx_dir = tmp / "nginx"
    (ngx_dir / "tmp").mkdir(parents=True)
    (ngx_dir / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
user root;
pid {ngx_dir}/nginx.pid;
error_log {ngx_dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  default_type application/octet-stream;
  client_body_temp_path {ngx_dir}/tmp; proxy_temp_path {ngx_dir}/tmp; fastcgi_temp_path {ngx_dir}/tmp;
  uwsgi_temp_path {ngx_dir}/tmp; scgi_temp_path {ngx_dir}/tmp;
  server {{
    listen 127.0.0.1:{ngx_port};
    location /assets/ {{ alias {assets}/; }}
  }}
}}
""")
    ngx = subprocess.Popen(["nginx", "-p", str(ngx_dir), "-c", str(ngx_dir / "nginx.conf")],
                           stdout=subprocess.DEVNULL, stderr=open(ngx_dir / "stderr", "w"))
    try:
        rf.start()
        wait_http(f"http://127.0.0.1:{ngx_port}/", ngx, ngx_dir / "stderr")
        yield {"rf": rf.base, "nginx": f"http://127.0.0.1:{ngx_port}", "data": data, "tmp": tmp, "log": rf.log_path,
               "serve": rf}
    finally:
        rf.stop()
        stop(ngx)
        shutil.rmtree(tmp, ignore_errors=True)


def both(servers, path, *args):
    rf = fetch(servers["rf"] + path, *args, tmp=servers["tmp"])
    ngx = fetch(servers["nginx"] + path, *args, tmp=servers["tmp"])
    return rf, ngx


def test_head_and_full_get_match_nginx(servers):
    rf, ngx = both(servers, "/assets/vmlinuz", "-I")
    assert rf.status == ngx.status == 200
    for h in ("content-length", "last-modified", "accept-ranges"):
        assert rf.headers[h] == ngx.headers[h], h
    assert "etag" in rf.headers
    rf, ngx = both(servers, "/assets/vmlinuz")
    assert rf.status == ngx.status == 200
    assert rf.body == ngx.body == servers["data"]
    assert rf.headers["content-length"] == ngx.headers["content-length"] == str(SIZE)


@pytest.mark.parametrize("rng", ["0-99", "100-", "-50", f"1000-{SIZE + 100}", f"{SIZE - 1}-", "0-0"])
def test_single_range_matches_nginx(servers, rng):
    rf, ngx = both(servers, "/assets/vmlinuz", "-H", f"Range: bytes={rng}")
    assert rf.status == ngx.status == 206
    assert rf.headers["content-range"] == ngx.headers["content-range"]
    assert rf.headers["content-length"] == ngx.headers["content-length"]
    assert rf.body == ngx.body


@pytest.mark.parametrize("rng", ["0-9,100-109", "0-9,-10", "0-0,1000-2000,5000-5009"])
def test_multiple_ranges_match_nginx(servers, rng):
    rf, ngx = both(servers, "/assets/vmlinuz", "-H", f"Range: bytes={rng}")
    assert rf.status == ngx.status == 206
    assert parts(rf) == parts(ngx)
    assert int(rf.headers["content-length"]) == len(rf.body)


def test_overlapping_and_near_ranges_are_coalesced(servers):
    # nginx sends these as three parts in request order (bytes 0-5 twice);
    # ramfleet sorts and coalesces them (RFC 9110 14.2): every byte once.
    rf = servers["rf"]
    r = fetch(rf + "/assets/vmlinuz", "-H", "Range: bytes=5-5,0-0,0-5,1000-2000", tmp=servers["tmp"])
    assert r.status == 206
    assert [c for c, _ in parts(r)] == [f"bytes 0-5/{SIZE}", f"bytes 1000-2000/{SIZE}"]


@pytest.mark.parametrize("rng", [f"{SIZE}-", f"{SIZE + 10}-{SIZE + 20}"])
def test_unsatisfiable_range_is_416_like_nginx(servers, rng):
    rf, ngx = both(servers, "/assets/vmlinuz", "-H", f"Range: bytes={rng}")
    assert rf.status == ngx.status == 416
    assert rf.headers["content-range"] == ngx.headers["content-range"] == f"bytes */{SIZE}"


def test_conditional_requests_match_nginx(servers):
    for base in ("rf", "nginx"):
        first = fetch(servers[base] + "/assets/vmlinuz", "-I", tmp=servers["tmp"])
        etag, lm = first.headers["etag"], first.headers["last-modified"]
        again = fetch(servers[base] + "/assets/vmlinuz", "-H", f"If-None-Match: {etag}", tmp=servers["tmp"])
        assert again.status == 304 and again.body == b"", base
        assert again.headers["etag"] == etag
        other = fetch(servers[base] + "/assets/vmlinuz", "-H", 'If-None-Match: "nope"', "-I", tmp=servers["tmp"])
        assert other.status == 200, base
        since = fetch(servers[base] + "/assets/vmlinuz", "-H", f"If-Modified-Since: {lm}", tmp=servers["tmp"])
        assert since.status == 304, base
        old = fetch(servers[base] + "/assets/vmlinuz", "-H", "If-Modified-Since: Thu, 01 Jan 1998 00:00:00 GMT", "-I",
                    tmp=servers["tmp"])
        assert old.status == 200, base
        stale = fetch(servers[base] + "/assets/vmlinuz", "-H", "Range: bytes=0-9", "-H", 'If-Range: "stale"', "-I",
                      tmp=servers["tmp"])
        assert stale.status == 200, base


def test_symlink_inside_is_served(servers):
    rf = fetch(servers["rf"] + "/assets/inside", tmp=servers["tmp"])
    assert rf.status == 200 and rf.body == b"initrd" * 100


@pytest.mark.parametrize("path", [
    "/assets/../secret",
    "/assets/%2e%2e/secret",
    "/assets/%2E%2E/%2e%2e/secret",
    "/assets/sub/../../secret",
    "/assets//etc/passwd",
    "/assets/%2fetc%2fpasswd",
    "/assets/..%2fsecret",
    "/assets/escape",
])
def test_traversal_is_refused(servers, path):
    r = fetch(servers["rf"] + path, tmp=servers["tmp"])
    assert r.status in (403, 404), (path, r.status)
    assert b"TOP-SECRET" not in r.body and b"root:" not in r.body


def test_traversal_is_counted_and_logged(servers):
    before = servers["serve"].counters()
    r = fetch(servers["rf"] + "/assets/%2e%2e/secret", tmp=servers["tmp"])
    assert r.status == 403
    after = servers["serve"].counters()
    assert after["http.assets.traversal_refused"] == before.get("http.assets.traversal_refused", 0) + 1
    assert "http.assets.refused" in Path(servers["log"]).read_text()
    # and it keeps serving
    assert fetch(servers["rf"] + "/assets/sub/initrd.img", tmp=servers["tmp"]).status == 200
