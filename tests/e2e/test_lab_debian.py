"""`ramfleet lab up --image debian`: a real Debian node, configured by the real
Ignition, running systemd from RAM, booted by ramfleet alone.

One BIOS node PXE-boots Debian's kernel with the whole Debian root
(debootstrapped with mmdebstrap, cached) as its initrd. Its stage 1 copies the
root into a tmpfs, runs Debian's Ignition (`-platform metal`, the config URL
from `ignition.config.url={{ignition_url}}`) against it, and switch_root's
into systemd; a unit reports `configured` and, after multi-user.target,
`ready` with what it found. Everything asserted here comes from ramfleet's
API (/api/v1/machines, events, the served /ignition config) inside the lab's
namespace: the file contents, the unit and the hostname the node reports must
be exactly what ramfleet served, and a power-cycled node must come back with
nothing it wrote, the same hostname and the same address.
"""
import base64
import hashlib
import json
import re
import time
import urllib.parse
from pathlib import Path

from labctl import api, assert_gone, boot_raw, lab, lab_dir, state, up  # noqa: F401 (lab_dir: fixture)


def fields(message):
    """key=value words of a node's message; keys that repeat (ignition_file, ignition_unit) give lists."""
    out = {}
    for word in message.split():
        key, sep, value = word.partition("=")
        if not sep:
            continue
        if key in ("ignition_file", "ignition_unit"):
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    return out


def data_url_bytes(source):
    """The bytes of an Ignition `data:` URL (RFC 2397: percent-encoded or ;base64)."""
    assert source.startswith("data:"), source
    meta, _, data = source[5:].partition(",")
    if meta.endswith(";base64"):
        return base64.b64decode(data)
    return urllib.parse.unquote_to_bytes(data)


def served_files(config):
    """path -> sha256 hex of each file in an Ignition config (contents only; no append here)."""
    files = {}
    for f in config.get("storage", {}).get("files", []):
        assert not f.get("append"), f  # the lab's layer has none; the node hashes the final file
        files[f["path"]] = hashlib.sha256(data_url_bytes(f["contents"]["source"])).hexdigest()
    return files


def ready_event(st, mac):
    events = api(st, f"/api/v1/machines/{mac}/events")
    assert events and events[-1]["phase"] == "ready", events
    return events, events[-1], fields(events[-1]["message"])


def test_debian_node_runs_systemd_from_ram_configured_by_ignition(lab_dir):
    started = time.monotonic()
    r = up(lab_dir, "--nodes", "1", "--image", "debian")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1/1 nodes ready" in r.stdout
    up_s = time.monotonic() - started
    st = state(lab_dir)
    node = st["nodes"][0]
    assert node["firmware"] == "bios"

    # The config ramfleet served this machine's Ignition (counted before our own GET below).
    counters = api(st, "/api/v1/counters")
    assert counters.get("http.config.served", 0) >= 1, counters
    served = json.loads(boot_raw(st, f"/ignition/mac={node['mac']}"))
    assert served["ignition"]["version"] == "3.3.0"
    files = served_files(served)
    hostname_file = next(f for f in served["storage"]["files"] if f["path"] == "/etc/hostname")
    served_hostname = data_url_bytes(hostname_file["contents"]["source"]).decode().strip()
    # ... which took the hostname from the inventory: the node's group metadata.
    group = (lab_dir / "config" / "groups" / f"{node['name']}.yaml").read_text()
    assert f"hostname: {served_hostname}\n" in group and served_hostname == node["name"], group
    units = [u["name"] for u in served["systemd"]["units"] if u.get("enabled")]
    assert units == ["ramfleet-lab-hello.service"], served["systemd"]

    machine = next(m for m in api(st, "/api/v1/machines") if m["id"] == node["mac"])
    assert machine["last_phase"] == "ready" and machine["group"] == node["name"], machine
    assert machine["profile"] == "debian", machine
    events, ready, f = ready_event(st, node["mac"])
    assert [e["phase"] for e in events] == ["booted", "configured", "ready"], events
    print("ready:", ready)

    # Ignition's work, as the node sees it, is exactly what ramfleet served.
    assert f["ignition"] == "applied", ready
    assert sorted(f["ignition_file"]) == sorted(f"{p}@sha256:{h}" for p, h in files.items()), (f, files)
    assert f["hostname"] == served_hostname, ready
    # The machine-id the config delivered (as a cluster node's stable identity)
    # is the one systemd runs with, and did not stop the preset step below.
    id_file = next(f for f in served["storage"]["files"] if f["path"] == "/etc/machine-id")
    served_id = data_url_bytes(id_file["contents"]["source"]).decode().strip()
    assert len(served_id) == 32 and f["machine_id"] == served_id, ready
    # The unit from the config was enabled (through Ignition's preset) and ran.
    assert f["ignition_unit"] == [f"{u}@enabled:active:success" for u in units], ready
    # systemd, from RAM: multi-user reached, nothing failed; / is a real tmpfs
    # (pivot_root works, and runc started a container), unlike the initramfs
    # stage 1 ran on.
    assert f["system"] == "running" and f["multi_user"] == "active" and f["failed_units"] == "none", ready
    assert f["root"] == "tmpfs" and f["pivot_root"] == "ok" and f["runc"] == "ok", ready
    assert f["stage1_pivot_root"] == "failed", ready
    assert ready["root_bytes"] > 150_000_000, ready  # the Debian root, in RAM
    assert 0 < ready["uptime"] < 400, ready
    assert f["address"] == f"{node['ip']}/24" and f["previous_boot_file"] == "absent", ready
    serial = (lab_dir / "logs" / f"{node['name']}-serial.log").read_text(errors="replace")
    assert re.search(r"stage 1 on rootfs root: pivot_root=failed", serial), serial[-3000:]
    assert "Ignition applied the config to the new root" in serial, serial[-3000:]
    print(f"Debian node ready, up took {up_s:.1f} s, node uptime {ready['uptime']:.1f} s")

    # A power cycle: fresh RAM, a new network boot, Ignition again; nothing
    # the node wrote survives, hostname and address are the same.
    r = lab("reboot", node["name"], "--dir", str(lab_dir), "--timeout", "400")
    print(r.stdout, r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    events, again, g = ready_event(st, node["mac"])
    assert [e["phase"] for e in events] == ["booted", "configured", "ready"] * 2, events
    assert g["previous_boot_file"] == "absent", again
    assert g["hostname"] == served_hostname and g["address"] == f"{node['ip']}/24", again
    assert g["machine_id"] == served_id, again
    assert g["system"] == "running" and g["root"] == "tmpfs" and g["runc"] == "ok", again
    assert sorted(g["ignition_file"]) == sorted(f["ignition_file"]), again
    assert again["uptime"] < ready["uptime"] + 120, again  # a new boot, not the old one still counting
    machine = next(m for m in api(st, "/api/v1/machines") if m["id"] == node["mac"])
    assert machine["boots"] == 2 and machine["last_phase"] == "ready", machine
    leases = {l["mac"]: l["address"] for l in api(st, "/api/v1/leases")}
    assert leases[node["mac"]] == node["ip"], leases
    st = state(lab_dir)  # the node's QEMU has a new PID now

    r = lab("down", "--dir", str(lab_dir))
    assert r.returncode == 0, r.stderr
    assert_gone(st, lab_dir)
    assert Path(lab_dir / "logs" / f"{node['name']}-serial.log.1").exists()  # the first boot's console, kept
