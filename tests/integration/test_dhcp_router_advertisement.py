"""IPv6 router advertisements: ramfleet answers a Router Solicitation on the
boot interface with "no router here" (lifetime 0, M=0, O=0, no prefix), so
iPXE's IPv6 autoconfiguration finishes at once instead of waiting ~13 s."""
import json
import sys
import time

SCRIPT = r'''
import json, sys, time
from scapy.all import conf, AsyncSniffer, Ether, IPv6, ICMPv6ND_RS, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, \
    ICMPv6NDOptPrefixInfo, sendp, get_if_hwaddr
conf.verb = 0
iface = sys.argv[1]
mac = get_if_hwaddr(iface)
sn = AsyncSniffer(iface=iface, lfilter=lambda f: ICMPv6ND_RA in f)
sn.start()
time.sleep(0.5)
# A loaded machine may start the sniffer late: solicit again (bounded) until an RA is seen.
for attempt in range(int(sys.argv[2])):
    sendp(Ether(src=mac, dst="33:33:00:00:00:02") / IPv6(src="::", dst="ff02::2", hlim=255) / ICMPv6ND_RS(),
          iface=iface)
    deadline = time.monotonic() + 1.5
    # The client kernel solicits from its own link-local address too; wait for
    # the answer to ours (sent from ::, so answered to all nodes).
    def answered():
        return any(f[IPv6].dst == "ff02::1" for f in sn.results or [])
    while time.monotonic() < deadline and not answered():
        time.sleep(0.05)
    if answered():
        break
out = []
for f in sn.stop() or []:
    ra = f[ICMPv6ND_RA]
    out.append({"src": f[IPv6].src, "dst": f[IPv6].dst, "hlim": f[IPv6].hlim, "lifetime": ra.routerlifetime,
                "M": ra.M, "O": ra.O, "slla": f[ICMPv6NDOptSrcLLAddr].lladdr if ICMPv6NDOptSrcLLAddr in f else None,
                "prefix": ICMPv6NDOptPrefixInfo in f})
print(json.dumps(out))
'''


def wait_for_link_local(lab, ns_cmd, ifname, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = ns_cmd("ip", "-6", "addr", "show", "dev", ifname).stdout
        if "fe80::" in out and "tentative" not in out:
            return
        time.sleep(0.2)
    raise AssertionError(f"no usable link-local address on {ifname}")


def test_router_solicitation_gets_a_lifetime_zero_advertisement(lab):
    wait_for_link_local(lab, lab.server, "rf0")
    rf = lab.start_ramfleet("--interface", "rf0", "--tftp-port", "-1", "--http-port", "-1")
    deadline = time.monotonic() + 10
    while "event=ra.listening" not in rf.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "event=ra.listening" in rf.log(), rf.log()
    script = lab.tmp / "rs.py"
    script.write_text(SCRIPT)
    r = lab.client(sys.executable, script, "cl0", 4, timeout=60)
    assert r.returncode == 0, r.stderr
    ras = json.loads(r.stdout.strip().splitlines()[-1])
    assert ras, "no router advertisement"
    server_mac = lab.server("cat", "/sys/class/net/rf0/address", check=True).stdout.strip()
    # Our solicitation came from ::, so its answer goes to all nodes (RFC 4861
    # 6.2.6); the client kernel's own solicitations are answered to its address.
    assert any(ra["dst"] == "ff02::1" for ra in ras), ras
    for ra in ras:
        assert ra["dst"] == "ff02::1" or ra["dst"].startswith("fe80:"), ra
        assert ra["src"].startswith("fe80:")
        assert ra["hlim"] == 255
        assert ra["lifetime"] == 0 and ra["M"] == 0 and ra["O"] == 0
        assert not ra["prefix"]
        assert ra["slla"] == server_mac


def test_can_be_switched_off(lab):
    wait_for_link_local(lab, lab.server, "rf0")
    rf = lab.start_ramfleet("--interface", "rf0", "--tftp-port", "-1", "--http-port", "-1",
                            "--no-router-advertisements")
    script = lab.tmp / "rs.py"
    script.write_text(SCRIPT)
    r = lab.client(sys.executable, script, "cl0", 2, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []
    assert "event=ra.listening" not in rf.log()
