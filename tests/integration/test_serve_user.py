"""`ramfleet serve --user nobody`: root is dropped once every socket is bound
and every store is open (issue 10); the process then runs as nobody with only
CAP_NET_ADMIN (for DHCP's ARP entries) and still serves DHCP, TFTP and HTTP."""
import os
import pwd
import subprocess

from test_dhcp_limits import discover, flood, next_xid, ip_hex, offers

CAP_NET_ADMIN = 12


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return fields


def test_serve_runs_as_the_user_and_still_serves_dhcp_tftp_http(lab):
    nobody = pwd.getpwnam("nobody")
    os.chmod(lab.tmp, 0o755)  # the config and TFTP root must be readable by the user
    config = lab.tmp / "config"
    (config / "assets").mkdir(parents=True)
    (config / "assets" / "hello.txt").write_text("hello from the assets\n")
    (config / "ramfleet.yaml").write_text("dhcp:\n  mode: full\n  subnets:\n    - subnet: 10.77.0.0/24\n"
                                          "      pools: [10.77.0.100-10.77.0.110]\n")
    root = lab.tmp / "tftproot"
    root.mkdir()
    (root / "boot.bin").write_bytes(os.urandom(70000))
    state = lab.tmp / "state"
    rf = lab.start_ramfleet("--interface", "rf0", "--config", config, "--tftp-root", root, "--user", "nobody",
                            state_dir=state)
    assert "event=serve.dropped_root" in rf.log()
    st = status(rf.proc.pid)
    assert st["Uid"] == [str(nobody.pw_uid)] * 4, st["Uid"]
    assert st["Gid"] == [str(nobody.pw_gid)] * 4, st["Gid"]
    assert st["Groups"] in ([], [str(nobody.pw_gid)]), st["Groups"]
    assert int(st["CapEff"][0], 16) == 1 << CAP_NET_ADMIN, st["CapEff"]
    assert int(st["CapPrm"][0], 16) == 1 << CAP_NET_ADMIN, st["CapPrm"]
    assert st["NoNewPrivs"] == ["1"]
    # What it must still write is the user's now.
    assert os.stat(state).st_uid == nobody.pw_uid
    assert all(os.stat(state / p).st_uid == nobody.pw_uid for p in os.listdir(state))

    # DHCP: a DORA with no broadcast flag, so the OFFER and ACK are unicast to
    # the hardware address (the ARP entry needs the kept CAP_NET_ADMIN).
    mac = "52:54:00:00:77:01"
    got = flood(lab, [dict(discover(mac), broadcast=False)], wait=1.0)
    [offer] = offers(got)
    request = {"mac": mac, "type": "request", "xid": next_xid(),
               "options": [[50, ip_hex(offer["yiaddr"])], [54, ip_hex("10.77.0.1")]], "broadcast": False}
    [ack] = flood(lab, [request], wait=1.0)["replies"]
    assert ack["type"] == 5 and ack["yiaddr"] == offer["yiaddr"]
    assert "event=dhcp.lease" in rf.log()
    assert "dhcp.arp_fallback" not in rf.log()
    neigh = lab.server("ip", "neigh", "show", offer["yiaddr"], "dev", "rf0").stdout
    assert mac in neigh, neigh
    # The lease was written as nobody (the store is still writable).
    assert "dhcp.store_error" not in rf.log()

    # TFTP
    out = lab.tmp / "boot.out"
    r = lab.client("curl", "-sS", "--max-time", "30", "-o", out, "tftp://10.77.0.1/boot.bin", timeout=60)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == (root / "boot.bin").read_bytes()

    # HTTP
    r = lab.client("curl", "-sS", "--max-time", "10", "http://10.77.0.1/assets/hello.txt", timeout=30)
    assert r.returncode == 0 and r.stdout == "hello from the assets\n", (r.returncode, r.stdout, r.stderr)
    r = lab.client("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                   "http://10.77.0.1/healthz", timeout=30)
    assert r.stdout == "200", r.stdout
    assert rf.proc.poll() is None


def test_serve_refuses_a_user_that_does_not_exist(lab):
    p = subprocess.run(["ip", "netns", "exec", lab.server_ns, os.environ.get("RAMFLEET_BIN", "build/ramfleet"),
                        "serve", "--interface", "rf0", "--tftp-port", "-1", "--http-port", "-1", "--state",
                        str(lab.tmp / "state"), "--user", "no-such-user-here"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "no such user" in p.stderr
    # Refused before binding anything or touching the state directory.
    assert not (lab.tmp / "state").exists()
