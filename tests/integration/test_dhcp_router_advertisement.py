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


FLOOD_SCRIPT = r'''
import json, sys, time
from scapy.all import conf, AsyncSniffer, Ether, IPv6, ICMPv6ND_RS, ICMPv6NDOptSrcLLAddr, ICMPv6ND_RA, sendp, \
    get_if_hwaddr
conf.verb = 0
iface, own_ll, count, listen = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
mac = get_if_hwaddr(iface)
sn = AsyncSniffer(iface=iface, lfilter=lambda f: ICMPv6ND_RA in f)
sn.start()
time.sleep(0.5)
# Half from the unspecified address (answered to all nodes), half from our
# own link-local address (answered to it, so those RAs reach the wire too).
frames = []
for i in range(count):
    src = "::" if i % 2 == 0 else own_ll
    rs = Ether(src=mac, dst="33:33:00:00:00:02") / IPv6(src=src, dst="ff02::2", hlim=255) / ICMPv6ND_RS()
    if src != "::":
        rs = rs / ICMPv6NDOptSrcLLAddr(lladdr=mac)
    frames.append(rs)
started = time.monotonic()
sendp(frames, iface=iface)
sent = time.monotonic() - started
time.sleep(listen)
ras = sn.stop() or []
print(json.dumps({"ras": [{"dst": f[IPv6].dst} for f in ras], "seconds": time.monotonic() - started,
                  "sent_seconds": sent}))
'''


def test_a_flood_of_solicitations_yields_a_bounded_number_of_advertisements(lab):
    wait_for_link_local(lab, lab.server, "rf0")
    wait_for_link_local(lab, lab.client, "cl0")
    rf = lab.start_ramfleet("--interface", "rf0", "--tftp-port", "-1", "--http-port", "-1")
    deadline = time.monotonic() + 10
    while "event=ra.listening" not in rf.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "event=ra.listening" in rf.log(), rf.log()
    time.sleep(3.5)  # past MIN_DELAY_BETWEEN_RAS after the unsolicited RA sent at start
    out = lab.client("ip", "-6", "addr", "show", "dev", "cl0", "scope", "link", check=True).stdout
    own_ll = out.split("inet6 ")[1].split("/")[0]
    script = lab.tmp / "rs_flood.py"
    script.write_text(FLOOD_SCRIPT)
    r = lab.client(sys.executable, script, "cl0", own_ll, 400, 4.0, timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    ras, seconds = got["ras"], got["seconds"]
    multicast = [ra for ra in ras if ra["dst"] == "ff02::1"]
    unicast = [ra for ra in ras if ra["dst"] != "ff02::1"]
    # 400 solicitations: unicast answers within the bucket (burst 10, 5/s), and
    # multicast ones at least 3 s apart (RFC 4861 MIN_DELAY_BETWEEN_RAS), plus
    # the client kernel's own few solicitations.
    assert 1 <= len(multicast) <= int(seconds / 3) + 2, (len(multicast), seconds)
    assert len(unicast) <= 10 + 5 * seconds + 1, (len(unicast), seconds)
    assert len(ras) < 60, len(ras)
