"""/ipxe script cache, driven through the real `ramfleet serve` with curl and a
raw keep-alive socket: a machine asking again gets the same script from the
cache, yet every request is still logged with the decision and recorded as its
own boot; an inventory edit is served at once (the cache belongs to one
inventory generation); the Host a machine used stays part of the key; pipelined
keep-alive requests are all answered."""
import socket
import tempfile
import time

from test_http_boot import Server


def wait_for(pred, what, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def test_repeated_requests_are_cached_but_each_is_logged_and_recorded():
    with tempfile.TemporaryDirectory() as tmp:
        s = Server(tmp).start()
        try:
            q = "mac=52:54:00:00:07:07&arch=x86_64&hostname=web-7"
            first = s.script(q)
            again = [s.script(q) for _ in range(4)]
            assert all(a == first for a in again)
            assert "host=web-7" in first and "role=worker" in first
            c = s.counters()
            assert c["http.ipxe.cache_miss"] == 1 and c["http.ipxe.cache_hit"] == 4, c
            # every boot recorded (the store flushes before answering the API) and logged
            m = s.json("/api/v1/machines/52:54:00:00:07:07")
            assert m["boots"] == 5 and len(m["boot_history"]) == 5, m
            assert m["group"] == "by-mac-prefix" and m["facts"]["hostname"] == "web-7"
            boots = [line for line in s.log_path.read_text().splitlines()
                     if "event=http.boot" in line and "machine=52:54:00:00:07:07" in line]
            assert len(boots) == 5 and all("decision=group" in b and "reason=" in b for b in boots), boots

            # another Host: another base URL in the script, not the cached one
            other = s.get("/ipxe?" + q, "-H", "Host: boot.example:8080").stdout
            assert "http://boot.example:8080/assets/vmlinuz" in other and other != first

            # an inventory edit is served at once, not the cached script
            gen = s.generation()
            (s.config / "profiles" / "debian.yaml").write_text(
                "kernel: vmlinuz\ninitrds: [initrd.img]\nargs: [console=ttyS1, \"host={{hostname}}\"]\n")
            wait_for(lambda: s.generation() > gen, "the reload")
            edited = s.script(q)
            assert "console=ttyS1" in edited and "console=ttyS0" not in edited
            assert s.json("/api/v1/machines/52:54:00:00:07:07")["boots"] == 7
        finally:
            s.stop()


def test_pipelined_keep_alive_requests_all_answered():
    with tempfile.TemporaryDirectory() as tmp:
        s = Server(tmp).start()
        try:
            req = (f"GET /ipxe?mac=52:54:00:00:08:08 HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\n\r\n").encode()
            with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
                # three requests, the last split across two writes
                c.sendall(req + req + req[:17])
                time.sleep(0.2)
                c.sendall(req[17:])
                data = b""
                deadline = time.time() + 10
                while data.count(b"HTTP/1.1 200 OK") < 3 and time.time() < deadline:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            assert data.count(b"HTTP/1.1 200 OK") == 3, data
            assert data.count(b"#!ipxe") == 3
            assert s.json("/api/v1/machines/52:54:00:00:08:08")["boots"] == 3
        finally:
            s.stop()
