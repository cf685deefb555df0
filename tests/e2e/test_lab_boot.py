"""`ramfleet lab up` boots diskless QEMU nodes from ramfleet alone, end to end.

Real firmware (SeaBIOS + iPXE ROM; OVMF PXE -> TFTP -> iPXE), Debian's kernel,
the small busybox RAM-root image built by `ramfleet image build`. Each node
copies its image into a tmpfs, switch_root's into it and reports its phases
to ramfleet's events API itself; the test reads them back from ramfleet's API
(/api/v1/machines) inside the lab's namespace. `lab down` (and a crashed `up`
followed by a second `up`) must leave no namespace, tap or process.
"""
import re
import signal
import subprocess
import time
from pathlib import Path

from labctl import CACHE, api, api_raw, assert_gone, lab, lab_dir, processes, start_time, state, up  # noqa: F401 (lab_dir: fixture)
from netlab import RAMFLEET_BIN


def assert_ready_nodes(st, count, dir_):
    machines = {m["id"]: m for m in api(st, "/api/v1/machines")}
    for node in st["nodes"]:
        m = machines.get(node["mac"])
        assert m is not None, f"{node['name']} never reached ramfleet: {machines}"
        assert m["last_phase"] == "ready", m
        assert m["group"] == node["name"] and m["profile"] == "small"
        events = api(st, f"/api/v1/machines/{node['mac']}/events")
        phases = [e["phase"] for e in events]
        assert phases == ["booted", "configured", "ready"], events
        ready = events[-1]
        # The node's / is a real tmpfs: it says so, and pivot_root (what runc
        # needs, impossible on the initramfs rootfs) worked there.
        assert f"hostname={node['name']}" in ready["message"], ready
        assert "root=tmpfs" in ready["message"] and "pivot_root=ok" in ready["message"], ready
        assert ready["root_bytes"] > 1_000_000, ready  # busybox + modules copied into the tmpfs
        assert ready["uptime"] > 0
        # The control: on the kernel's initramfs (before switch_root) the same
        # pivot_root test fails, so "pivot_root=ok" above means something.
        serial = (Path(dir_) / "logs" / f"{node['name']}-serial.log").read_text(errors="replace")
        assert "stage 1 on rootfs root: pivot_root=failed" in serial, serial[-2000:]
    assert len(st["nodes"]) == count


def assert_metrics_count_ready_boots(st, boots, phases):
    """GET /metrics from the lab's serve: promtool accepts it, and the boot
    histograms hold exactly the boots that reached ready, with these phases."""
    text = api_raw(st, "/metrics").decode()
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    counts = [float(v) for v in re.findall(r'^ramfleet_boot_seconds_count\{profile="small"\} (\S+)$', text, re.M)]
    assert counts == [boots], text[-3000:]
    for phase in phases:
        assert re.search(rf'^ramfleet_boot_phase_seconds_count\{{profile="small",phase="{phase}"\}} {boots}$', text,
                         re.M), (phase, re.findall(r"^ramfleet_boot_\S*_count.*$", text, re.M))
    return text


def test_three_bios_nodes_boot_to_ready_and_down_removes_everything(lab_dir):
    started = time.monotonic()
    r = up(lab_dir, "--nodes", "3")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3/3 nodes ready" in r.stdout
    st = state(lab_dir)
    assert [n["firmware"] for n in st["nodes"]] == ["bios"] * 3
    for p in processes(st):
        assert start_time(p["pid"]) == p["start_time"], f"{p['what']} is not running after up"
    assert_ready_nodes(st, 3, lab_dir)
    # Every milestone a BIOS node passes (its ROM already is iPXE; the small
    # image has no OS config: its kernel arguments configure it).
    assert_metrics_count_ready_boots(st, 3, ["discover_to_ipxe", "ipxe_to_kernel", "kernel_to_ready"])
    # Addresses are the fixed reservations.
    leases = {l["mac"]: l["address"] for l in api(st, "/api/v1/leases")}
    for node in st["nodes"]:
        assert leases.get(node["mac"]) == node["ip"], leases
    log = (lab_dir / "logs" / "ramfleet.log").read_text()
    assert "event=tftp.transfer.start" not in log  # BIOS nodes' ROM already is iPXE: straight to HTTP
    print(f"3 BIOS nodes ready, up took {time.monotonic() - started:.1f} s")

    # A power-cycled node boots again from the network with a fresh RAM root:
    # nothing it wrote before, same hostname, same address.
    node2 = st["nodes"][1]
    before = api(st, f"/api/v1/machines/{node2['mac']}/events")
    assert "previous_boot_file=absent wrote=/var/lib/ramfleet/written-this-boot" in before[-1]["message"]
    r = lab("reboot", "node2", "--dir", str(lab_dir), "--timeout", "300")
    assert r.returncode == 0, r.stdout + r.stderr
    after = api(st, f"/api/v1/machines/{node2['mac']}/events")
    assert [e["phase"] for e in after] == ["booted", "configured", "ready"] * 2, after
    again = after[-1]
    assert "previous_boot_file=absent" in again["message"], again  # the file written before is gone
    assert f"hostname={node2['name']}" in again["message"] and f"address={node2['ip']}/24" in again["message"], again
    assert again["uptime"] < after[2]["uptime"] + 60  # a new boot, not the old one still counting
    machine = next(m for m in api(st, "/api/v1/machines") if m["id"] == node2["mac"])
    assert machine["boots"] == 2 and machine["last_phase"] == "ready", machine
    leases = {l["mac"]: l["address"] for l in api(st, "/api/v1/leases")}
    assert leases[node2["mac"]] == node2["ip"]
    st = state(lab_dir)  # node2's QEMU has a new PID now
    assert_metrics_count_ready_boots(st, 4, ["discover_to_ipxe", "kernel_to_ready"])  # the reboot is one more

    r = lab("down", "--dir", str(lab_dir))
    assert r.returncode == 0, r.stderr
    assert_gone(st, lab_dir)
    assert (lab_dir / "logs" / "node1-serial.log").exists()  # logs kept for inspection


def test_uefi_node_boots_and_a_second_up_after_a_crash_works(lab_dir):
    # A first `up` killed with SIGKILL once its VM runs leaves a namespace and
    # processes behind ...
    p = subprocess.Popen([RAMFLEET_BIN, "lab", "up", "--dir", str(lab_dir), "--cache", CACHE, "--nodes", "1",
                          "--firmware", "uefi"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    crashed = None
    while time.monotonic() < deadline and p.poll() is None:
        if (lab_dir / "lab.json").exists():
            s = state(lab_dir)
            if s.get("vms"):
                crashed = s
                break
        time.sleep(0.2)
    assert crashed is not None, "first lab up never started its VM"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    assert any(start_time(x["pid"]) == x["start_time"] for x in processes(crashed))

    # ... which the second `up` removes before booting a UEFI node through
    # OVMF PXE -> TFTP (snponly.efi) -> iPXE -> HTTP, all from ramfleet.
    r = up(lab_dir, "--nodes", "1", "--firmware", "uefi")
    assert r.returncode == 0, r.stdout + r.stderr
    for x in processes(crashed):
        assert start_time(x["pid"]) != x["start_time"], f"crashed lab's {x['what']} survived the second up"
    assert crashed["namespace"] not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                      text=True).stdout.split()
    st = state(lab_dir)
    assert_ready_nodes(st, 1, lab_dir)
    # OVMF PXE -> TFTP -> iPXE: two DHCP answers with boot options, one boot.
    assert_metrics_count_ready_boots(st, 1, ["discover_to_ipxe", "ipxe_to_kernel", "kernel_to_ready"])
    log = (lab_dir / "logs" / "ramfleet.log").read_text()
    assert "decision=uefi_x64 file=snponly.efi" in log
    assert "file=snponly.efi outcome=completed" in log

    r = lab("down", "--dir", str(lab_dir))
    assert r.returncode == 0, r.stderr
    assert_gone(st, lab_dir)


def test_ctrl_c_during_up_removes_everything(lab_dir):
    p = subprocess.Popen([RAMFLEET_BIN, "lab", "up", "--dir", str(lab_dir), "--cache", CACHE, "--nodes", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    seen = None
    while time.monotonic() < deadline and p.poll() is None:
        if (lab_dir / "lab.json").exists():
            s = state(lab_dir)
            if len(s.get("vms", [])) == 2:
                seen = s
                break
        time.sleep(0.2)
    assert seen is not None, "lab up never started its VMs"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, out + err
    assert "interrupted" in err
    assert_gone(seen, lab_dir)


def test_down_without_a_lab_is_harmless(tmp_path):
    r = lab("down", "--dir", str(tmp_path / "none"))
    assert r.returncode == 0
    assert "nothing to do" in r.stderr


def test_failure_names_the_node_and_phase_and_cleans_up(lab_dir):
    # 2 s is far too short for firmware under TCG to get anywhere near ready
    # (an idle machine needs ~7 s): a timeout failure.
    r = lab("up", "--dir", str(lab_dir), "--cache", CACHE, "--nodes", "1", "--timeout", "2", timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "timed out after 2 s" in r.stderr
    assert "node1 (52:54:00:99:00:01) stuck before phase " in r.stderr, r.stderr
    assert str(lab_dir / "logs" / "node1-serial.log") in r.stderr
    assert (lab_dir / "logs" / "node1-serial.log").exists()  # kept for inspection
    assert not (lab_dir / "lab.json").exists()
    ns = [l.split()[0] for l in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                               text=True).stdout.splitlines() if l.strip()]
    assert not any(n.startswith("rflab") and not Path(f"/proc/{n[5:]}").exists() for n in ns)
