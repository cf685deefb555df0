"""Node events are authenticated by the node (issue 13): each boot's iPXE
script puts the machine's own event credential on its kernel command line
(ramfleet.event_credential=), and POST /api/v1/machines/{id}/events takes an
event only with that credential, of that machine, of its current boot.

A real `ramfleet serve --dhcp off` on 127.0.0.1; curl's --interface picks a
127.0.0.x source address, so each request comes from the host the test says.
Every refusal is checked three ways: the status, its counter, and the
events API (on the operator listener), which must not show the forged event.
"""
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from loopback_serve import LoopbackServe, fetch

NODE = "52:54:00:00:13:01"
OTHER = "52:54:00:00:13:02"
NODE_HOST = "127.0.0.31"
OTHER_HOST = "127.0.0.32"
ATTACKER = "127.0.0.66"

FILES = {
    "profiles/node.yaml": "kernel: vmlinuz\n"
                          'args: ["ramfleet.server={{server}}", "ramfleet.id={{machine_id}}",'
                          ' "ramfleet.event_credential={{event_credential}}"]\n',
    "profiles/quiet.yaml": 'kernel: vmlinuz\nargs: ["ramfleet.id={{machine_id}}"]\n',
    "groups/nodes.yaml": 'profile: node\nselector: {mac: "52:54:00:00:13:*"}\n',
    "groups/quiet.yaml": 'profile: quiet\nselector: {mac: "52:54:00:00:14:*"}\n',
    "inventory.yaml": "default: exit\n",
    "http.yaml": "boot_token_burst: 4\nboot_token_rate_per_min: 1\n",
}


@pytest.fixture(scope="module")
def server():
    tmp = Path(tempfile.mkdtemp(prefix="rf-node-events-"))
    s = LoopbackServe(tmp)
    for rel, text in FILES.items():
        (s.config / rel).parent.mkdir(parents=True, exist_ok=True)
        (s.config / rel).write_text(text)
    s.start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


_hosts = iter(range(100, 250))


def boot(server, mac, source=None):
    """The machine's /ipxe: its credential, read off the kernel line. Each boot
    comes from its own address by default (--dhcp off binds none), so the
    per-address minting limit below is met only where a test means it."""
    source = source or f"127.0.0.{next(_hosts)}"
    r = fetch(server.base + f"/ipxe?mac={mac}", "--interface", source)
    assert r.status == 200, r.text
    m = re.search(r"ramfleet\.event_credential=(\S+)", r.text)
    assert m, r.text
    return m.group(1)


def post(server, mac, source, body='{"phase":"ready","uptime":12.5}', credential=None, authorization=None):
    args = ["--interface", source, "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body]
    if credential is not None:
        args += ["-H", f"Authorization: Bearer {credential}"]
    if authorization is not None:
        args += ["-H", f"Authorization: {authorization}"]
    return fetch(server.base + f"/api/v1/machines/{mac}/events", *args)


def events(server, mac):
    """The machine's events, oldest first, as the operator API lists them."""
    return [(e["phase"], e.get("message", "")) for e in server.api.json(f"/api/v1/machines/{mac}/events")]


def counter(server, name):
    return server.counters().get(name, 0)


def refused(server, mac, status, counter_name, **kw):
    """Posts a forged event; checks the status, the counter and that nothing was stored."""
    before_events = events(server, mac)
    before = counter(server, counter_name)
    r = post(server, mac, kw.pop("source", ATTACKER), body='{"phase":"error","message":"forged"}', **kw)
    assert r.status == status, r.text
    assert "error" in r.json()
    assert counter(server, counter_name) == before + 1
    assert events(server, mac) == before_events
    return r


def test_the_node_reports_with_its_own_credential(server):
    credential = boot(server, NODE)
    assert re.fullmatch(r"\d+\.[0-9a-f]{32}", credential), credential
    for phase in ("booted", "configured"):
        assert post(server, NODE, NODE_HOST, f'{{"phase":"{phase}"}}', credential).status == 201
    r = post(server, NODE, NODE_HOST, '{"phase":"ready","uptime":12.5,"root_bytes":4096}', credential)
    assert r.status == 201, r.text
    assert [phase for phase, _ in events(server, NODE)][-3:] == ["booted", "configured", "ready"]
    # The credential is a bearer credential: the source address does not matter, the credential does.
    assert post(server, NODE, OTHER_HOST, '{"phase":"ready"}', credential).status == 201


def test_without_a_credential_401_nothing_stored(server):
    boot(server, NODE)
    r = refused(server, NODE, 401, "http.events.unauthenticated")
    assert r.headers["www-authenticate"].startswith("Bearer")
    refused(server, NODE, 401, "http.events.unauthenticated", authorization="Basic bm9kZTpub2Rl")
    refused(server, NODE, 401, "http.events.unauthenticated", credential="not-a-credential")


def test_forged_from_another_host_403_nothing_stored(server):
    boot(server, NODE)
    refused(server, NODE, 403, "http.events.forbidden", credential="1733130000000." + "0" * 32)
    real = boot(server, NODE)
    boot_ms, mac = real.split(".")
    # A later boot marker under the real MAC: the MAC covers the marker.
    refused(server, NODE, 403, "http.events.forbidden", credential=f"{int(boot_ms) + 1}.{mac}")
    assert post(server, NODE, NODE_HOST, '{"phase":"ready"}', real).status == 201


def test_another_machines_credential_403_nothing_stored(server):
    mine = boot(server, NODE)
    theirs = boot(server, OTHER)
    refused(server, NODE, 403, "http.events.forbidden", credential=theirs, source=OTHER_HOST)
    refused(server, OTHER, 403, "http.events.forbidden", credential=mine, source=NODE_HOST)
    assert post(server, OTHER, OTHER_HOST, '{"phase":"booted"}', theirs).status == 201


def test_last_boots_credential_403_nothing_stored(server):
    last_boot = boot(server, NODE)
    assert post(server, NODE, NODE_HOST, '{"phase":"ready"}', last_boot).status == 201
    this_boot = boot(server, NODE)  # the machine boots again
    assert this_boot != last_boot
    r = refused(server, NODE, 403, "http.events.forbidden", credential=last_boot, source=NODE_HOST)
    assert "earlier boot" in r.json()["error"]
    assert post(server, NODE, NODE_HOST, '{"phase":"booted"}', this_boot).status == 201


def test_a_restart_keeps_the_current_boot_good_and_the_last_refused(server):
    last_boot = boot(server, NODE)
    this_boot = boot(server, NODE)
    secret = server.state / "event-credential.key"
    assert secret.stat().st_mode & 0o777 == 0o600
    server.stop()
    server.start()
    # The table of latest boots is gone with the process; the machine store's last boot stands in.
    refused(server, NODE, 403, "http.events.forbidden", credential=last_boot, source=NODE_HOST)
    assert post(server, NODE, NODE_HOST, '{"phase":"ready"}', this_boot).status == 201
    refused(server, NODE, 403, "http.events.forbidden", credential=last_boot, source=NODE_HOST)


def test_bad_bodies_still_400_once_authenticated(server):
    credential = boot(server, NODE)
    for body in ('{"phase":"dancing"}', "not json", '{"phase":"ready","extra":1}'):
        r = post(server, NODE, NODE_HOST, body, credential)
        assert r.status == 400, (body, r.text)


def test_a_script_without_the_variable_gets_no_credential_and_cannot_report(server):
    quiet = "52:54:00:00:14:01"
    r = fetch(server.base + f"/ipxe?mac={quiet}", "--interface", NODE_HOST)
    assert r.status == 200 and "event_credential" not in r.text and "rfcred" not in r.text, r.text
    refused(server, quiet, 401, "http.events.unauthenticated", source=NODE_HOST)


def test_credentials_are_minted_under_the_boot_token_rate_limit(server):
    # burst 4, then 1 a minute per requesting address: a flood of /ipxe cannot
    # keep invalidating a machine's credential from one address.
    host = "127.0.0.77"
    statuses = [fetch(server.base + f"/ipxe?mac={NODE}", "--interface", host).status for _ in range(6)]
    assert statuses[:4] == [200] * 4 and 429 in statuses[4:], statuses
