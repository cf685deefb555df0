"""HTTP boot service, driven through the real `ramfleet serve --dhcp off` on
127.0.0.1 with curl: per-machine iPXE scripts for every selector kind, ties
refused, a broken inventory edit leaves the previous one serving, discovery,
node events, and bad input (malformed queries, huge headers, slow clients,
too many connections) answered with clear errors while serving goes on."""
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from loopback_serve import LoopbackServe
from netlab import RAMFLEET_BIN, SOURCE_DIR


PROFILES = {
    "debian": "kernel: vmlinuz\ninitrds: [initrd.img]\nargs:\n  - console=ttyS0\n  - host={{hostname}}\n"
              "  - role={{metadata.role}}\n  - id={{machine_id}}\n",
    # A node that reports its phases: its kernel line carries this boot's event credential.
    "reporting": "kernel: vmlinuz\nargs: [\"ramfleet.id={{machine_id}}\", \"ramfleet.event_credential={{event_credential}}\"]\n",
    "alpine": "kernel: alpine/vmlinuz-{{arch}}\ninitrds: [alpine/initramfs]\nargs: \"modloop={{assets}}/alpine/modloop\"\n",
    "discovery": "kernel: vmlinuz\ninitrds: [discovery.img]\nargs: [\"discover={{mac}}\"]\n",
}
GROUPS = {
    "by-mac": 'profile: debian\nselector:\n  mac: "52:54:00:00:00:01"\nmetadata: {role: control-plane}\n',
    "by-mac-prefix": 'profile: debian\nselector:\n  mac: "52:54:00:*"\nmetadata: {role: worker}\n',
    "by-uuid": 'profile: alpine\nselector:\n  uuid: "11111111-2222-3333-4444-555555555555"\n',
    "by-hostname": 'profile: alpine\nselector:\n  hostname: "edge-*"\n',
    "by-serial": 'profile: debian\nselector:\n  serial: "SN-42"\nmetadata: {role: serial}\n',
    "by-arch": "profile: alpine\nselector:\n  arch: arm64\n",
    "by-label": "profile: debian\nselector:\n  labels: {rack: r7}\nmetadata: {role: rack7}\n",
    "reporter": 'profile: reporting\nselector:\n  mac: "52:54:00:00:00:0e"\n',
}


def curl(*args, timeout=20):
    return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True, timeout=timeout)


class Server(LoopbackServe):
    """The shared loopback server with this file's inventory: one group per selector kind."""

    def __init__(self, tmp, http_yaml=None):
        super().__init__(tmp)
        for d in ("profiles", "groups", "assets"):
            (self.config / d).mkdir(parents=True, exist_ok=True)
        for name, text in PROFILES.items():
            (self.config / "profiles" / f"{name}.yaml").write_text(text)
        for name, text in GROUPS.items():
            (self.config / "groups" / f"{name}.yaml").write_text(text)
        (self.config / "inventory.yaml").write_text("default: {profile: discovery}\n")
        (self.config / "http.yaml").write_text(http_yaml or "reload_interval_ms: 200\n")

    def get(self, path, *args):
        return curl(*args, self.base + path)

    def json(self, path):
        """A read of the operator API (HTTPS, admin token)."""
        return self.api.json(path)

    def script(self, query):
        r = curl("-w", "\n%{http_code}", self.base + "/ipxe?" + query)
        body, _, code = r.stdout.rpartition("\n")
        assert code == "200", (query, r.stdout, r.stderr)
        return body


@pytest.fixture
def server():
    tmp = tempfile.mkdtemp(prefix="rf-http-")
    s = Server(tmp).start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def kernel_line(script):
    return next(line for line in script.splitlines() if line.startswith("kernel "))


def test_boot_ipxe_chains_with_facts(server):
    r = server.get("/boot.ipxe")
    assert r.stdout.startswith("#!ipxe\n")
    assert f"chain --autofree {server.base}/ipxe?mac=${{netX/mac}}&uuid=${{uuid}}&arch=${{buildarch}}" in r.stdout
    assert "hostname=${hostname:uristring}" in r.stdout


def test_script_per_selector_kind(server):
    b = server.base
    # exact MAC beats the MAC prefix (both match)
    s = server.script("mac=52:54:00:00:00:01&hostname=cp1")
    assert f"kernel {b}/assets/vmlinuz console=ttyS0 host=cp1 role=control-plane id=52:54:00:00:00:01 ||" in s
    assert f"initrd --name initrd.img {b}/assets/initrd.img" in s
    assert "group 'by-mac'" in s and "less specific matches: by-mac-prefix" in s
    # MAC prefix, MAC in hyphen form
    s = server.script("mac=52-54-00-00-00-09")
    assert "role=worker" in kernel_line(s) and "group 'by-mac-prefix'" in s
    # uuid (any case, no dashes)
    s = server.script("mac=aa:00:00:00:00:01&uuid=11111111222233334444555555555555&arch=x86_64")
    assert kernel_line(s).startswith(f"kernel {b}/assets/alpine/vmlinuz-x86_64 modloop={b}/assets/alpine/modloop")
    # hostname wildcard
    assert "group 'by-hostname'" in server.script("mac=aa:00:00:00:00:02&hostname=edge-7")
    # serial (spaces are URL-encoded by iPXE's :uristring)
    assert "role=serial" in kernel_line(server.script("mac=aa:00:00:00:00:03&serial=SN-42"))
    # arch
    assert "group 'by-arch'" in server.script("mac=aa:00:00:00:00:04&arch=arm64")
    # arbitrary label
    assert "role=rack7" in kernel_line(server.script("mac=aa:00:00:00:00:05&rack=r7"))


def test_uefi_kernel_gets_initrd_name(server):
    s = server.script("mac=52:54:00:00:00:01&platform=efi")
    assert kernel_line(s).startswith(f"kernel {server.base}/assets/vmlinuz initrd=initrd.img console=ttyS0")
    s = server.script("mac=52:54:00:00:00:01&platform=pcbios")
    assert "initrd=" not in kernel_line(s)


def test_unknown_machine_is_discovered_and_recorded(server):
    s = server.script("mac=de:ad:be:ef:00:01&manufacturer=QEMU%20Corp")
    assert "discover=de:ad:be:ef:00:01" in kernel_line(s)
    machines = {m["id"]: m for m in server.json("/api/v1/machines")}
    m = machines["de:ad:be:ef:00:01"]
    assert m["discovered"] is True and m["decision"] == "default_profile" and m["group"] is None
    assert m["facts"]["manufacturer"] == "QEMU Corp"
    # default: exit lets the local disk boot
    (server.config / "inventory.yaml").write_text("default: exit\n")
    wait_for(lambda: "exit" in server.script("mac=de:ad:be:ef:00:01").splitlines())
    detail = server.json("/api/v1/machines/de-ad-be-ef-00-01")
    assert detail["boots"] >= 2 and len(detail["boot_history"]) >= 2
    assert "boot" in server.log_path.read_text()


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_tie_is_refused_naming_both_files_and_old_inventory_keeps_serving(server):
    before = server.generation()
    tie = server.config / "groups" / "zz-tie.yaml"
    # Same specificity as by-mac-prefix's 52:54:00:* (one MAC pattern, 9 literal characters), and
    # both match 52:54:00:00:00:09: a tie.
    tie.write_text('profile: alpine\nselector:\n  mac: "52:54:*:09"\n')
    wait_for(lambda: server.counters().get("inventory.reload.refused", 0) >= 1)
    errors = server.json("/healthz")["inventory"]["refused_reload_errors"]
    assert any("zz-tie.yaml:1:1" in e and "by-mac-prefix.yaml:1:1" in e and "ties" in e for e in errors), errors
    assert server.generation() == before
    assert "group 'by-mac-prefix'" in server.script("mac=52:54:00:00:00:09")
    log = server.log_path.read_text()
    assert "inventory.refused" in log and "zz-tie.yaml:1:1" in log
    # `ramfleet check` reports the same tie and fails
    r = subprocess.run([RAMFLEET_BIN, "check", str(server.config)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "zz-tie.yaml:1:1: error: group 'zz-tie'" in r.stderr, r.stderr
    tie.unlink()


def test_yaml_error_in_edit_keeps_previous_inventory(server):
    before = server.generation()
    g = server.config / "groups" / "by-arch.yaml"
    g.write_text("profile: debian\nselector:\n  arch: [arm64\n")
    wait_for(lambda: server.counters().get("inventory.reload.refused", 0) >= 1)
    assert server.generation() == before
    errors = server.json("/api/v1/inventory")["refused_reload_errors"]
    assert any("by-arch.yaml:" in e and "invalid YAML" in e for e in errors), errors
    assert "group 'by-arch'" in server.script("mac=aa:00:00:00:00:04&arch=arm64")
    # an edit naming an unknown profile is refused too
    g.write_text("profile: nosuch\nselector:\n  arch: arm64\n")
    wait_for(lambda: server.counters().get("inventory.reload.refused", 0) >= 2)
    assert "group 'by-arch'" in server.script("mac=aa:00:00:00:00:04&arch=arm64")
    # a good edit is picked up without a restart
    g.write_text("profile: debian\nselector:\n  arch: arm64\nmetadata: {role: arm}\n")
    wait_for(lambda: server.generation() > before)
    assert "role=arm" in kernel_line(server.script("mac=aa:00:00:00:00:04&arch=arm64"))
    assert server.json("/api/v1/inventory")["refused_reload_errors"] == []


def test_events_recorded_and_listed(server):
    script = server.script("mac=52:54:00:00:00:0e")
    bearer = "Authorization: Bearer " + kernel_line(script).split("ramfleet.event_credential=")[1].split()[0]
    url = server.base + "/api/v1/machines/52:54:00:00:00:0e/events"
    for body in ('{"phase":"booted","uptime":3.5}', '{"phase":"configured"}',
                 '{"phase":"ready","uptime":31,"root_bytes":268435456}'):
        r = curl("-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json", "-H", bearer,
                 "-d", body, url)
        assert r.stdout.endswith("\n201"), r.stdout
    events = server.json("/api/v1/machines/52:54:00:00:00:0e/events")
    assert [e["phase"] for e in events] == ["booted", "configured", "ready"]
    assert events[2]["root_bytes"] == 268435456 and events[0]["uptime"] == 3.5
    # bad events are refused with a reason
    for body, status in (('{"phase":"dancing"}', "400"), ("not json", "400"), ('{"phase":"error"}', "400"),
                         ('{"phase":"ready","extra":1}', "400")):
        r = curl("-w", "\n%{http_code}", "-X", "POST", "-H", bearer, "-d", body, url)
        assert r.stdout.endswith("\n" + status) and '"error"' in r.stdout, (body, r.stdout)
    # without this machine's credential nothing is taken (tests/integration/test_node_events.py)
    r = curl("-w", "\n%{http_code}", "-X", "POST", "-d", '{"phase":"ready"}',
             server.base + "/api/v1/machines/01:02:03:04:05:06/events")
    assert r.stdout.endswith("\n401")
    # persistent: a restart keeps history
    server.stop()
    server.start()
    assert [e["phase"] for e in server.json("/api/v1/machines/52:54:00:00:00:0e/events")][-1] == "ready"
    m = server.json("/api/v1/machines/52:54:00:00:00:0e")
    assert m["last_phase"] == "ready" and m["group"] == "reporter"


def test_api_lists_groups_profiles_leases(server):
    groups = {g["id"]: g for g in server.json("/api/v1/groups")}
    assert groups["by-mac"]["selector"] == {"mac": "52:54:00:00:00:01"}
    assert groups["by-label"]["selector"] == {"labels": {"rack": "r7"}}
    assert list(groups)[0] == "by-mac" or groups["by-mac"]["specificity"][0] == 1
    profiles = {p["id"]: p for p in server.json("/api/v1/profiles")}
    assert profiles["alpine"]["initrds"] == ["alpine/initramfs"]
    assert server.json("/api/v1/leases") == []


def test_bad_input_is_answered_and_counted(server):
    def status(*args):
        return curl("-o", "/dev/null", "-w", "%{http_code}", *args).stdout

    assert status(server.base + "/ipxe?mac=not-a-mac") == "400"
    assert status(server.base + "/ipxe?hostname=x") == "400"  # no identity
    assert status(server.base + "/ipxe?mac=52:54:00:00:00:01&hostname=%24%7Bx%7D") == "400"  # ${x}
    assert status(server.base + "/ipxe?mac=%zz") == "400"  # malformed percent-encoding
    assert status("-X", "DELETE", server.base + "/boot.ipxe") == "405"
    assert status(server.base + "/nope") == "404"
    assert status("-H", "X-Big: " + "a" * 20000, server.base + "/healthz") == "431"
    c = server.counters()
    assert c["http.ipxe.bad_query"] >= 2 and c["http.ipxe.no_identity"] >= 1
    assert c["http.error.bad_target"] >= 1 and c["http.error.header_too_large"] >= 1
    assert status(server.base + "/healthz") == "200"


def raw_exchange(port, data, wait_close=5.0):
    with socket.create_connection(("127.0.0.1", port), timeout=wait_close) as s:
        if data:
            s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
        return out


def test_slow_client_and_connection_limit():
    tmp = tempfile.mkdtemp(prefix="rf-http-")
    s = Server(tmp, http_yaml="request_timeout_ms: 700\nidle_timeout_ms: 2000\nmax_connections: 4\n").start()
    try:
        # slow client: half a request, then nothing -> 408 after the request timeout
        t0 = time.time()
        out = raw_exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert out.startswith(b"HTTP/1.1 408"), out
        assert time.time() - t0 < 4
        # malformed request line -> 400
        assert raw_exchange(s.port, b"BLAH\r\n\r\n").startswith(b"HTTP/1.1 400")
        # too many connections: hold 4 idle ones, the 5th gets 503
        held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(4)]
        time.sleep(0.3)
        out = raw_exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 503"), out
        for h in held:
            h.close()
        wait_for(lambda: curl("-o", "/dev/null", "-w", "%{http_code}", s.base + "/healthz").stdout == "200")
        c = s.counters()
        assert c["http.error.slow_client"] >= 1 and c["http.error.too_many_connections"] >= 1
        assert c["http.error.bad_request"] >= 1
    finally:
        s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_check_accepts_documented_example():
    example = SOURCE_DIR / "docs" / "examples" / "inventory"
    if not example.exists():
        pytest.fail("docs/examples/inventory is missing")
    r = subprocess.run([RAMFLEET_BIN, "check", str(example)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
