"""The dashboard's files and the live event stream through the real `ramfleet
serve` on 127.0.0.1 (docs/operations.md, "Dashboard"): /ui/ with its content
types, ETags and security headers, path tricks refused; GET
/api/v1/events/stream delivering a boot as it happens, resuming with
Last-Event-ID, resetting a client from another run, capping its streams."""
import http.client
import re
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from loopback_serve import LoopbackServe, fetch

MAC1 = "52:54:00:00:20:01"
MAC2 = "52:54:00:00:20:02"
MAC3 = "52:54:00:00:20:03"


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory() as tmp:
        s = LoopbackServe(tmp)
        (s.config / "inventory.yaml").write_text("default: exit\n")
        s.start()
        try:
            yield s
        finally:
            s.stop()


# --- the operator door (HTTPS; tests/lib/operator_api.py) --------------------


def op_fetch(server, path, *args, token=None):
    """The static files need no credential: by default none is sent."""
    return server.api.fetch(path, *args, token=token)


def op_connection(server, timeout=10, source=None):
    """source: the client's address (127.0.0.x), so a test can open more
    streams than the listener allows one address."""
    host, port = server.api.url.split("//")[1].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=str(server.api.ca))
    return http.client.HTTPSConnection(host, int(port), timeout=timeout, context=ctx,
                                       source_address=(source, 0) if source else None)


def op_headers(server):
    return {"Authorization": f"Bearer {server.api.admin_token()}"}


# --- /ui/ ---------------------------------------------------------------------


def test_index_and_its_modules_load_with_their_types_and_no_credential(server):
    r = op_fetch(server, "/ui/")
    assert r.status == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script type="module" src="js/app.js">' in r.text
    assert re.fullmatch(r'"[0-9a-f]{32}"', r.headers["etag"])
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "default-src 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-cache"
    assert op_fetch(server, "/ui/index.html").body == r.body

    # Every module reachable from app.js is served as JavaScript: a browser
    # refuses a module script of any other type.
    seen, todo = set(), ["js/app.js"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        m = op_fetch(server, "/ui/" + path)
        assert m.status == 200, path
        assert m.headers["content-type"] == "text/javascript; charset=utf-8", path
        for dep in re.findall(r"""from '\./([a-z_]+\.js)'""", m.text):
            todo.append("js/" + dep)
    assert {"js/app.js", "js/api.js", "js/stream.js", "js/sse.js", "js/machines.js", "js/machine.js"} <= seen
    css = op_fetch(server, "/ui/css/app.css")
    assert css.status == 200 and css.headers["content-type"] == "text/css; charset=utf-8"
    svg = op_fetch(server, "/ui/favicon.svg")
    assert svg.status == 200 and svg.headers["content-type"] == "image/svg+xml"
    # No datum in a static file: the machines only come from the API.
    assert b"52:54:00" not in r.body


def test_etag_revalidates_to_304_and_head_has_no_body(server):
    r = op_fetch(server, "/ui/js/app.js")
    etag = r.headers["etag"]
    again = op_fetch(server, "/ui/js/app.js", "-H", f"If-None-Match: {etag}")
    assert again.status == 304 and again.body == b""
    assert again.headers["etag"] == etag
    other = op_fetch(server, "/ui/js/app.js", "-H", 'If-None-Match: "0000"')
    assert other.status == 200 and other.body == r.body
    head = op_fetch(server, "/ui/js/app.js", "-I")  # curl -I writes the head where the body would go
    assert head.status == 200 and head.body.startswith(b"HTTP/1.1 200") and head.body.endswith(b"\r\n\r\n")
    assert int(head.headers["content-length"]) == len(r.body)
    # Each file has its own ETag.
    assert op_fetch(server, "/ui/js/api.js").headers["etag"] != etag


def test_ui_without_slash_redirects(server):
    r = op_fetch(server, "/ui")
    assert r.status == 301 and r.headers["location"] == "/ui/"


@pytest.mark.parametrize("path", [
    "/ui/../api/v1/counters",
    "/ui/js/../index.html",
    "/ui/%2e%2e/%2e%2e/etc/passwd",
    "/ui/./index.html",
    "/ui//js/app.js",
    "/ui/js%2fapp.js",
    "/ui/js/app.js%00",
])
def test_path_tricks_are_refused(server, path):
    before = server.counters().get("http.ui.bad_path", 0) + server.counters().get("http.ui.not_found", 0)
    r = op_fetch(server, path, "--path-as-is")
    assert r.status in (400, 404), (path, r.status, r.text)
    assert b"<html" not in r.body and b"import" not in r.body
    after = server.counters().get("http.ui.bad_path", 0) + server.counters().get("http.ui.not_found", 0)
    assert after == before + 1


def test_ui_is_not_on_the_boot_listener(server):
    r = fetch(server.base + "/ui/")
    assert r.status == 403 and b"operator listener" in r.body


def test_unknown_file_404_and_writes_405(server):
    assert op_fetch(server, "/ui/nope.js").status == 404
    assert op_fetch(server, "/ui/js/").status == 404  # a folder has no index of its own
    r = op_fetch(server, "/ui/", "-X", "POST", "-d", "x")
    assert r.status == 405


# --- the event stream ---------------------------------------------------------


class Stream:
    """One open GET /api/v1/events/stream, read event by event."""

    def __init__(self, server, last_event_id=None, source=None):
        self.conn = op_connection(server, source=source)
        headers = {**op_headers(server), "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", "/api/v1/events/stream", headers=headers)
        self.sock = self.conn.sock  # the response takes it over (Connection: close)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status

    def next_event(self, timeout=10):
        """The next event as a dict of its fields (comments skipped)."""
        self.sock.settimeout(timeout)
        fields = {}
        while True:
            line = self.resp.fp.readline()
            if not line:
                raise EOFError("stream closed")
            line = line.decode().rstrip("\r\n")
            if line == "":
                if "event" in fields or "data" in fields:
                    return fields
                fields = {}
                continue
            if line.startswith(":"):
                continue
            k, _, v = line.partition(":")
            fields[k] = v[1:] if v.startswith(" ") else v

    def wait_for(self, pred, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            e = self.next_event(timeout=max(0.1, deadline - time.time()))
            if pred(e):
                return e
        raise AssertionError("no such event")

    def close(self):
        self.resp.close()
        self.conn.close()
        self.sock.close()


def boot(server, mac):
    assert fetch(f"{server.base}/ipxe?mac={mac}").status == 200


def test_stream_delivers_a_boot_then_resumes_with_last_event_id(server):
    s = Stream(server)
    assert s.status == 200
    assert s.resp.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    assert s.resp.getheader("Cache-Control") == "no-store"
    assert s.resp.getheader("Content-Length") is None
    hello = s.next_event()
    assert hello["event"] == "hello" and re.fullmatch(r"[0-9a-z]+-\d+", hello["id"])

    boot(server, MAC1)
    e = s.wait_for(lambda e: e.get("event") == "boot")
    assert f'"machine":"{MAC1}"' in e["data"] and '"decision":"exit"' in e["data"]
    last_id = e["id"]
    s.close()

    # While nobody listens, two more boots; resuming from the last id seen
    # replays exactly those, in order.
    boot(server, MAC2)
    boot(server, MAC3)
    r = Stream(server, last_event_id=last_id)
    assert r.status == 200
    first = r.next_event()
    second = r.next_event()
    assert first["event"] == "boot" and MAC2 in first["data"]
    assert second["event"] == "boot" and MAC3 in second["data"]
    epoch, seq = last_id.split("-")
    assert first["id"] == f"{epoch}-{int(seq) + 1}" and second["id"] == f"{epoch}-{int(seq) + 2}"
    r.close()


def test_an_id_from_another_run_gets_a_reset(server):
    s = Stream(server, last_event_id="zzz-5")
    assert s.status == 200
    e = s.next_event()
    assert e["event"] == "reset" and "server restarted" in e["data"]
    boot(server, MAC1)
    assert MAC1 in s.wait_for(lambda e: e.get("event") == "boot")["data"]
    s.close()
    assert server.counters()["http.events.reset"] >= 1


def test_the_stream_needs_a_credential(server):
    conn = op_connection(server)
    conn.request("GET", "/api/v1/events/stream")
    assert conn.getresponse().status == 401
    conn.close()


def test_a_malformed_last_event_id_is_400(server):
    s = Stream(server, last_event_id="not an id")
    assert s.status == 400
    s.close()
    assert server.counters()["http.events.bad_last_event_id"] >= 1


def test_streams_are_capped_and_a_closed_one_frees_its_slot(server):
    # From several client addresses: the listener also caps connections per
    # address, below the feed's cap of 16 streams.
    sources = [f"127.0.0.{2 + i % 6}" for i in range(40)]
    # Streams of the tests before whose clients left: a write or two finds
    # them gone and frees their slots.
    for _ in range(3):
        boot(server, MAC1)
        time.sleep(0.2)
    opened = []
    try:
        while len(opened) < 40:
            s = Stream(server, source=sources[len(opened)])
            if s.status != 200:
                assert s.status == 503
                assert s.resp.getheader("Retry-After") == "10"
                s.close()
                break
            s.next_event()  # hello: the slot is taken
            opened.append(s)
        assert len(opened) == 16, len(opened)
        assert server.counters()["http.events.refused"] >= 1
    finally:
        for s in opened:
            s.close()
    # A closed client is noticed at its stream's next write (an event or the
    # heartbeat): boots make every stream write and find its peer gone.
    deadline = time.time() + 20
    while time.time() < deadline:
        boot(server, MAC1)
        time.sleep(0.3)
        s = Stream(server, source="127.0.0.9")
        if s.status == 200:
            s.close()
            return
        s.close()
    raise AssertionError("no slot freed after the clients left")


def test_a_client_that_does_not_read_is_dropped(server):
    """A stream whose reader stopped: its queue (256 KiB) fills and it is
    dropped, not buffered for."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.bind(("127.0.0.10", 0))
    host, port = server.api.url.split("//")[1].rsplit(":", 1)
    raw.connect((host, int(port)))
    tls = ssl.create_default_context(cafile=str(server.api.ca)).wrap_socket(raw, server_hostname=host)
    tls.sendall(f"GET /api/v1/events/stream HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {server.api.admin_token()}\r\n\r\n".encode())
    def dropped():
        # Whichever notices first: the feed (the stream's queue is full) or
        # the transport (the client took nothing for a send window).
        c = server.counters()
        return c.get("http.events.dropped_slow", 0) + c.get("http.error.send_too_slow", 0)

    before = dropped()
    # ~130-byte boot events: 5000 of them are well past the kernel's buffers
    # and the stream's queue.
    for chunk in range(50):
        urls = [f"http://127.0.0.1:{server.port}/ipxe?mac=52:54:00:30:{chunk:02x}:{i:02x}" for i in range(100)]
        subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "10", *urls], check=False, timeout=60,
                       stdout=subprocess.DEVNULL)
        if dropped() > before:
            break
    deadline = time.time() + 30  # the transport's send window
    while dropped() == before and time.time() < deadline:
        time.sleep(0.5)
    assert dropped() > before, server.counters()
    tls.close()
