"""DHCP under attack from the boot network (issue 10): spoofed INIT-REBOOT
REQUESTs must not take the pool, floods are rate limited per MAC and in total,
and a warning a flood repeats per packet is logged once per interval. Frames
are crafted with scapy in the client namespace and sent as fast as it can."""
import datetime
import json
import re
import sys
import time

from test_dhcp_full import SERVER

# Sends every frame of a list (DHCP from chaddr = src MAC), as fast as scapy
# can, then collects every BOOTREPLY whose xid is one of ours for `wait` s.
FLOOD_SCRIPT = r'''
import json, sys, time
from scapy.all import conf, AsyncSniffer, Ether, IP, UDP, BOOTP, DHCP, sendp
conf.checkIPaddr = False
conf.verb = 0
req = json.loads(sys.argv[1])
iface = req["iface"]
frames, xids = [], set()
for p in req["packets"]:
    mac = p["mac"]
    opts = [("message-type", p["type"])]
    for code, hexval in p.get("options", []):
        opts.append((int(code), bytes.fromhex(hexval)))
    opts.append("end")
    xids.add(p["xid"])
    frames.append(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
                  UDP(sport=68, dport=67) /
                  BOOTP(op=1, chaddr=bytes.fromhex(mac.replace(":", "")) + b"\0" * 10, xid=p["xid"],
                        flags=0x8000 if p.get("broadcast", True) else 0) /
                  DHCP(options=opts))
sniffer = AsyncSniffer(iface=iface, filter="udp and port 68",
                       lfilter=lambda f: BOOTP in f and f[BOOTP].op == 2 and f[BOOTP].xid in xids)
sniffer.start()
time.sleep(0.3)
started = time.monotonic()
sendp(frames, iface=iface)
sent_seconds = time.monotonic() - started
time.sleep(req.get("wait", 2.0))
out = []
for f in sniffer.stop() or []:
    b = f[BOOTP]
    mtype = next((o[1] for o in f[DHCP].options if isinstance(o, tuple) and o[0] == "message-type"), None)
    out.append({"xid": b.xid, "type": mtype, "yiaddr": b.yiaddr, "mac": b.chaddr[:6].hex(":")})
print(json.dumps({"replies": out, "sent_seconds": sent_seconds}))
'''

_xid = [0x5000]


def next_xid():
    _xid[0] += 1
    return _xid[0]


def ip_hex(a):
    return bytes(int(x) for x in a.split(".")).hex()


def mac_n(prefix, n):
    return f"52:54:{prefix:02x}:00:{n >> 8:02x}:{n & 0xff:02x}"


def flood(lab, packets, wait=2.0):
    script = lab.tmp / "dhcp_flood.py"
    script.write_text(FLOOD_SCRIPT)
    r = lab.client(sys.executable, script, json.dumps({"iface": "cl0", "packets": packets, "wait": wait}),
                   timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def discover(mac):
    return {"mac": mac, "type": "discover", "xid": next_xid()}


def init_reboot(mac, address):
    # INIT-REBOOT (RFC 2131 4.3.2): no server identifier, no ciaddr, requested address.
    return {"mac": mac, "type": "request", "xid": next_xid(), "options": [[50, ip_hex(address)]]}


def start(lab, yaml_text):
    config = lab.tmp / "config"
    config.mkdir(exist_ok=True)
    (config / "ramfleet.yaml").write_text(yaml_text)
    return lab.start_ramfleet("--interface", "rf0", "--config", config, "--tftp-port", "-1", "--http-port", "-1")


def full_mode(pool, limits=""):
    return ("dhcp:\n"
            "  mode: full\n"
            "  subnets:\n"
            "    - subnet: 10.77.0.0/24\n"
            f"      pools: [{pool}]\n" + limits)


def offers(result):
    return [r for r in result["replies"] if r["type"] == 2]


def test_spoofed_init_reboot_requests_do_not_take_the_pool(bare_lab):
    # 11 addresses, 11 spoofed MACs each claiming one with an INIT-REBOOT REQUEST.
    rf = start(bare_lab, full_mode("10.77.0.100-10.77.0.110"))
    spoofs = [init_reboot(mac_n(0x30, i), f"10.77.0.{100 + i}") for i in range(11)]
    got = flood(bare_lab, spoofs, wait=1.5)
    assert got["replies"] == [], got  # silent: no ACK (and no NAK: these addresses are free)
    assert rf.log().count("reason=init_reboot_unknown_client") == 11
    assert "event=dhcp.lease" not in rf.log()
    # The pool is whole: eleven real clients each get an address.
    real = flood(bare_lab, [discover(mac_n(0x31, i)) for i in range(11)], wait=1.5)
    assert len({o["yiaddr"] for o in offers(real)}) == 11, real


def test_init_reboot_of_a_known_client_is_still_acked(bare_lab):
    start(bare_lab, full_mode("10.77.0.100-10.77.0.110"))
    mac = mac_n(0x32, 1)
    [offer] = offers(flood(bare_lab, [discover(mac)], wait=1.0))
    select = {"mac": mac, "type": "request", "xid": next_xid(),
              "options": [[50, ip_hex(offer["yiaddr"])], [54, ip_hex(SERVER)]]}
    [ack] = flood(bare_lab, [select], wait=1.0)["replies"]
    assert ack["type"] == 5
    # Rebooted: it remembers the address and asks for it without a server id.
    [again] = flood(bare_lab, [init_reboot(mac, offer["yiaddr"])], wait=1.0)["replies"]
    assert again["type"] == 5 and again["yiaddr"] == offer["yiaddr"]


def test_one_mac_flooding_is_limited_and_others_are_still_served(bare_lab):
    rf = start(bare_lab, full_mode("10.77.0.100-10.77.0.200",
                                   "  limits:\n    per_mac_rate: 1\n    per_mac_burst: 3\n    warn_interval: 60s\n"))
    noisy = mac_n(0x33, 1)
    got = flood(bare_lab, [discover(noisy) for _ in range(40)] + [discover(mac_n(0x33, 2))], wait=1.5)
    from_noisy = [o for o in offers(got) if o["mac"] == noisy]
    # Burst 3, then 1/s while the flood was being sent.
    assert 3 <= len(from_noisy) <= 3 + int(got["sent_seconds"]) + 1, (len(from_noisy), got["sent_seconds"])
    assert any(o["mac"] == mac_n(0x33, 2) for o in offers(got)), got
    log = rf.log()
    assert "event=dhcp.rate_limited" in log and "limit=mac" in log
    # One warning for the whole flood (warn_interval 60 s), not one per packet.
    assert log.count("event=dhcp.rate_limited") == 1, log.count("event=dhcp.rate_limited")


def test_many_macs_meet_the_global_limit(bare_lab):
    rf = start(bare_lab, full_mode("10.77.0.100-10.77.0.200",
                                   "  limits:\n    per_mac_rate: 0\n    global_rate: 1\n    global_burst: 5\n"))
    got = flood(bare_lab, [discover(mac_n(0x34, i)) for i in range(60)], wait=1.5)
    n = len(offers(got))
    assert 5 <= n <= 5 + int(got["sent_seconds"]) + 1, (n, got["sent_seconds"])
    assert "limit=global" in rf.log()


def test_pool_exhausted_is_logged_once_per_interval_with_a_count(bare_lab):
    rf = start(bare_lab, full_mode("10.77.0.100-10.77.0.100", "  limits:\n    warn_interval: 3s\n"))
    # The first client is offered the only address (held 60 s); 20 more find the pool empty.
    got = flood(bare_lab, [discover(mac_n(0x35, i)) for i in range(21)], wait=0.5)
    assert len(offers(got)) == 1, got
    lines = [l for l in rf.log().splitlines() if "event=dhcp.pool_exhausted" in l]
    assert len(lines) == 1, lines
    assert "suppressed=0" in lines[0]
    # After the interval the next one is logged, with how many were held back.
    # The interval runs from the first warning (its log time), not from when
    # the flood began: scapy's start-up before the first packet varies.
    logged_at = datetime.datetime.strptime(lines[0].split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    time.sleep(max(0.0, logged_at + 3.3 - time.time()))
    flood(bare_lab, [discover(mac_n(0x35, 100))], wait=0.5)
    lines = [l for l in rf.log().splitlines() if "event=dhcp.pool_exhausted" in l]
    assert len(lines) == 2, lines
    assert re.search(r"suppressed=19\b", lines[1]), lines[1]
