"""`ramfleet lab up --cluster etcd`: a real etcd cluster on RAM-root nodes.

Three diskless QEMU machines (the small busybox image with Debian's etcd 3.4
added) PXE-boot from ramfleet, fetch the apkovl ramfleet compiled for each
(its etcd.conf.yml, certificates and keys, behind the machine's boot token),
and run etcd from RAM. Everything is checked from the host, inside the lab's
namespace, with Debian's etcdctl and ramfleet's client certificate from its
etcd CA (TLS with client-certificate auth on every endpoint):

  - the three form one healthy cluster of three voters;
  - keys written to it survive a power cycle of one member: ramfleet's
    reconciler sees the member boot empty, re-adds it as a learner and
    promotes it; no human step (the member is a voter again, with the keys,
    read from its own endpoint);
  - all three power-cycled at once (a cold start: nothing survives in RAM)
    come back as a cluster with the keys of ramfleet's last snapshot;
  - the same member setup runs on the Debian/systemd image (one member,
    configured by the real Ignition, etcd as a systemd unit).

One lab is shared by the checks that need it (booting three VMs under TCG is
the expensive part); they run in file order and each needs the one before.
Timings are printed (bench/README.md quotes them).
"""
import json
import time

import pytest

from labctl import api, assert_gone, etcdctl, lab, state, up

PREFIX = "/ramfleet-e2e/"
KEYS = 100


def fields(message):
    return dict(w.split("=", 1) for w in message.split() if "=" in w)


def members(st, dir_, names=None):
    r = etcdctl(st, dir_, "member", "list", "-w", "json", names=names)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)["members"]


def health(st, dir_):
    """`etcdctl endpoint health --cluster`: the endpoints come from the member list."""
    r = etcdctl(st, dir_, "endpoint", "health", "--cluster", "-w", "json")
    try:
        return r.returncode, json.loads(r.stdout)
    except json.JSONDecodeError:
        return r.returncode, r.stdout + r.stderr


def keys_on(st, dir_, name):
    """The test's keys as one member holds them: a serializable read answered
    from that member's own data, not forwarded to the leader."""
    r = etcdctl(st, dir_, "get", PREFIX, "--prefix", "--consistency=s", "-w", "json", names=[name])
    assert r.returncode == 0, r.stdout + r.stderr
    kvs = json.loads(r.stdout).get("kvs", [])
    import base64
    return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode() for kv in kvs}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    d = tmp_path_factory.mktemp("etcd") / "lab"
    started = time.monotonic()
    r = up(d, "--nodes", "3", "--cluster", "etcd", "--etcd-snapshot-interval", "10s")
    info = {"dir": d, "up": r, "up_s": time.monotonic() - started}
    yield info
    if (d / "lab.json").exists():
        st = state(d)
        r = lab("down", "--dir", str(d))
        assert r.returncode == 0, r.stderr
        assert_gone(st, d)


def test_three_ram_nodes_form_a_healthy_cluster(cluster):
    d, r = cluster["dir"], cluster["up"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3/3 nodes ready" in r.stdout and "etcd cluster of 3 voting members healthy" in r.stdout, r.stdout
    st = state(d)
    assert st["cluster"] == "etcd"
    print(f"lab up --cluster etcd: {cluster['up_s']:.1f} s including image build; {r.stdout.splitlines()[0]}")

    # Each node got its config from ramfleet (an apkovl behind its boot token)
    # and runs etcd from it.
    for node in st["nodes"]:
        events = api(st, f"/api/v1/machines/{node['mac']}/events")
        assert [e["phase"] for e in events] == ["booted", "configured", "ready"], events
        f = fields(events[-1]["message"])
        assert f["etcd"] == "member" and f["config"].startswith("applied("), events[-1]
        assert f["root"] == "tmpfs" and f["previous_boot_file"] == "absent", events[-1]
    counters = api(st, "/api/v1/counters")
    assert counters.get("http.config.token_accepted", 0) >= 3, counters

    rc, h = health(st, d)
    assert rc == 0, h
    assert sorted(e["endpoint"] for e in h if e["health"]) == sorted(
        f"https://{n['ip']}:2379" for n in st["nodes"]), h
    ms = members(st, d)
    assert sorted(m["name"] for m in ms) == ["node1", "node2", "node3"], ms
    assert not any(m.get("isLearner") for m in ms), ms

    # Client-certificate auth: without a certificate the members refuse.
    ca = d / "state" / "pki" / "etcd" / "ca.crt"
    import subprocess
    r = subprocess.run(["ip", "netns", "exec", st["namespace"], "etcdctl", f"--endpoints=https://{st['nodes'][0]['ip']}:2379",
                        f"--cacert={ca}", "--dial-timeout=3s", "--command-timeout=5s", "get", "x"],
                       capture_output=True, text=True, timeout=30, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})
    assert r.returncode != 0, r.stdout


def test_keys_written_to_the_cluster(cluster):
    st = state(cluster["dir"])
    # One transaction: no compares (the first empty line), the puts, no failure ops.
    ops = "\n" + "".join(f'put {PREFIX}{i:04d} "value {i}"\n' for i in range(KEYS)) + "\n\n"
    r = etcdctl(st, cluster["dir"], "txn", input=ops)
    assert r.returncode == 0 and r.stdout.startswith("SUCCESS"), r.stdout + r.stderr
    for n in st["nodes"]:
        assert len(keys_on(st, cluster["dir"], n["name"])) == KEYS


def test_a_power_cycled_member_is_a_voter_again_with_the_keys(cluster):
    d = cluster["dir"]
    st = state(d)
    before = {m["name"]: m["ID"] for m in members(st, d)}
    started = time.monotonic()
    r = lab("reboot", "node2", "--dir", str(d), "--timeout", "300")
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    print(f"node2: power-on to voting member again: {time.monotonic() - started:.1f} s ({r.stdout.strip()})")
    st = state(d)
    ms = members(st, d)
    assert sorted(m["name"] for m in ms) == ["node1", "node2", "node3"], ms
    assert not any(m.get("isLearner") for m in ms), ms
    # Re-added (a new member ID), not the old member revived: RAM is empty after a power cycle.
    after = {m["name"]: m["ID"] for m in ms}
    assert after["node2"] != before["node2"] and after["node1"] == before["node1"], (before, after)
    # ramfleet's reconciler did it, and says so (GET /api/v1/etcd, the last
    # decisions). That node2 votes again is what etcd itself says, above.
    decided = api(st, "/api/v1/etcd")["counters"]
    assert decided.get("etcd.decision.removed_stale", 0) >= 1, decided
    assert decided.get("etcd.decision.rejoin_as_learner", 0) >= 1, decided
    node2 = next(n for n in st["nodes"] if n["name"] == "node2")
    events = api(st, f"/api/v1/machines/{node2['mac']}/events")
    assert fields(events[-1]["message"])["previous_boot_file"] == "absent", events[-1]
    got = keys_on(st, d, "node2")
    assert len(got) == KEYS and got[f"{PREFIX}0042"] == "value 42", got


def test_a_cold_start_restores_the_last_snapshot(cluster):
    d = cluster["dir"]
    st = state(d)
    # A snapshot newer than the keys: ramfleet takes one every 10 s here.
    r = etcdctl(st, d, "put", f"{PREFIX}before-snapshot", "yes")
    assert r.returncode == 0, r.stderr
    revision = json.loads(etcdctl(st, d, "get", f"{PREFIX}before-snapshot", "-w", "json").stdout)["header"]["revision"]
    deadline = time.monotonic() + 90
    snap = None
    while time.monotonic() < deadline:
        snap = api(st, "/api/v1/etcd")["snapshots"]["last"] or {}
        if snap.get("revision", 0) >= revision:
            break
        time.sleep(2)
    assert snap and snap.get("revision", 0) >= revision, snap
    print("last snapshot before the cold start:", snap)

    started = time.monotonic()
    r = lab("reboot", "node1", "node2", "node3", "--dir", str(d), "--timeout", "400")
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    print(f"cold start: power-on of all three to a healthy cluster: {time.monotonic() - started:.1f} s")
    st = state(d)
    view = api(st, "/api/v1/etcd")
    assert view["counters"].get("etcd.decision.cold_start_done", 0) == 1, view["counters"]
    print("ramfleet's decisions:", [(a["action"], a["member"]) for a in view["actions"] if a["action"] != "snapshot"])
    rc, h = health(st, d)
    assert rc == 0 and len([e for e in h if e["health"]]) == 3, h
    for n in st["nodes"]:
        got = keys_on(st, d, n["name"])
        assert got.get(f"{PREFIX}before-snapshot") == "yes" and got[f"{PREFIX}0099"] == "value 99", (n["name"], got)


def test_an_etcd_member_on_the_debian_systemd_image(tmp_path):
    """The same member files, laid by the real Ignition; etcd runs as
    ramfleet-etcd.service under systemd. One member: a cluster of its own."""
    d = tmp_path / "lab"
    started = time.monotonic()
    r = up(d, "--nodes", "1", "--cluster", "etcd", "--image", "debian")
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        print(f"debian etcd member: up in {time.monotonic() - started:.1f} s; {r.stdout.splitlines()[0]}")
        st = state(d)
        node = st["nodes"][0]
        events = api(st, f"/api/v1/machines/{node['mac']}/events")
        f = fields(events[-1]["message"])
        assert f["etcd"] == "listening" and f["system"] == "running", events[-1]
        assert "/etc/ramfleet/etcd/etcd.conf.yml@sha256" in events[-1]["message"], events[-1]
        rc, h = health(st, d)
        assert rc == 0 and [e["health"] for e in h] == [True], h
        assert etcdctl(st, d, "put", "/debian", "systemd").returncode == 0
        out = etcdctl(st, d, "get", "/debian", "--print-value-only")
        assert out.stdout.strip() == "systemd", out.stdout + out.stderr
    finally:
        if (d / "lab.json").exists():
            st = state(d)
            assert lab("down", "--dir", str(d)).returncode == 0
            assert_gone(st, d)
