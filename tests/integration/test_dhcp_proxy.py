"""proxyDHCP (the default): `ramfleet serve --interface IF` answers PXE firmware
with boot information and no address, on ports 67 and 4011, and stays silent
for everyone else. Clients are crafted with scapy in the client namespace,
with the option layouts real firmware sends (see tests/unit/dhcp/captures)."""
import json
import random
import sys

import pytest

# Runs inside the client namespace: sends DHCP packets with scapy at layer 2
# and prints every BOOTREPLY with a matching xid that arrives within `wait`.
CLIENT_SCRIPT = r'''
import json, sys, time
from scapy.all import conf, AsyncSniffer, Ether, IP, UDP, BOOTP, DHCP, sendp, bind_layers
conf.checkIPaddr = False
bind_layers(UDP, BOOTP, sport=4011)  # PXE boot-server replies come from 4011
bind_layers(UDP, BOOTP, dport=4011)
conf.verb = 0
req = json.loads(sys.argv[1])
iface = req["iface"]
out = []
for p in req["packets"]:
    mac = p["mac"]
    opts = [("message-type", p["type"])]
    for code, hexval in p.get("options", []):
        opts.append((int(code), bytes.fromhex(hexval)))
    opts.append("end")
    bootp = BOOTP(op=1, chaddr=bytes.fromhex(mac.replace(":", "")) + b"\0" * 10, xid=p["xid"],
                  flags=0x8000 if p.get("broadcast") else 0, ciaddr=p.get("ciaddr", "0.0.0.0"),
                  giaddr=p.get("giaddr", "0.0.0.0"))
    frame = (Ether(src=p.get("src_mac", mac), dst=p.get("dst_mac", "ff:ff:ff:ff:ff:ff")) /
             IP(src=p.get("src", "0.0.0.0"), dst=p.get("dst", "255.255.255.255")) /
             UDP(sport=p.get("sport", 68), dport=p.get("dport", 67)) / bootp / DHCP(options=opts))
    sniffer = AsyncSniffer(iface=iface, filter="udp and (port 67 or port 68 or port 4011)",
                           lfilter=lambda f: BOOTP in f and f[BOOTP].op == 2 and f[BOOTP].xid == p["xid"])
    sniffer.start()
    time.sleep(0.2)
    sendp(frame, iface=iface)
    deadline = time.monotonic() + p.get("wait", 2.0)
    while time.monotonic() < deadline and not (p.get("first") and sniffer.results):
        time.sleep(0.05)
    replies = sniffer.stop() or []
    got = []
    for f in replies:
        b = f[BOOTP]
        options = {}
        for o in f[DHCP].options if DHCP in f else []:
            if isinstance(o, tuple) and len(o) >= 2:
                v = o[1]
                options[str(o[0])] = v.hex() if isinstance(v, bytes) else v if len(o) == 2 else list(o[1:])
        got.append({"src": f[IP].src, "dst": f[IP].dst, "eth_dst": f[Ether].dst, "sport": f[UDP].sport,
                    "dport": f[UDP].dport, "yiaddr": b.yiaddr, "siaddr": b.siaddr, "giaddr": b.giaddr,
                    "ciaddr": b.ciaddr, "file": b.file.rstrip(b"\0").decode(errors="replace"),
                    "flags": int(b.flags), "options": options})
    out.append(got)
print(json.dumps(out))
'''


def dhcp(lab, packets, iface="cl0"):
    """Sends packets (dicts, see CLIENT_SCRIPT) from the client namespace; one list of replies per packet."""
    script = lab.tmp / "dhcp_client.py"
    script.write_text(CLIENT_SCRIPT)
    r = lab.client(sys.executable, script, json.dumps({"iface": iface, "packets": packets}), timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def arch_options(arch, vendor="PXEClient", ipxe=False, uuid=True):
    """Options as real firmware sends them (option 60, 93, 94, 97; iPXE adds 77 and 175)."""
    vc = f"{vendor}:Arch:{arch:05d}:UNDI:003000"
    opts = [[60, vc.encode().hex()], [93, f"{arch:04x}"], [94, "010300"]]
    if uuid:
        opts.append([97, "00" + "11" * 16])
    if ipxe:
        opts += [[77, b"iPXE".hex()], [175, "b105011af41000"]]
    return opts


def text(reply, name):
    v = reply["options"].get(name)
    if v is None:
        return None
    return bytes.fromhex(v).decode() if isinstance(v, str) and all(c in "0123456789abcdef" for c in v) else str(v)


def xid():
    return random.randrange(1, 2**31)


@pytest.fixture
def proxy(lab):
    lab.start_ramfleet("--interface", "rf0", "--tftp-port", "-1", "--http-port", "-1")
    return lab


@pytest.mark.parametrize("arch,expected", [(0, "undionly.kpxe"), (7, "snponly.efi"), (9, "snponly.efi")])
def test_firmware_discover_gets_boot_file_and_no_address(proxy, arch, expected):
    [replies] = dhcp(proxy, [{"mac": "52:54:00:00:10:01", "type": "discover", "xid": xid(),
                              "options": arch_options(arch)}])
    assert len(replies) == 1, replies
    r = replies[0]
    assert r["options"]["message-type"] == 2  # OFFER
    assert r["yiaddr"] == "0.0.0.0"
    assert r["siaddr"] == "10.77.0.1"
    assert r["file"] == expected
    assert text(r, "vendor_class_id") == "PXEClient"
    assert r["options"]["server_id"] == "10.77.0.1"
    assert "lease_time" not in r["options"]
    assert r["dst"] == "255.255.255.255" and r["dport"] == 68 and r["sport"] == 67
    assert r["src"] == "10.77.0.1"


def test_ipxe_discover_gets_the_script_url(proxy):
    [replies] = dhcp(proxy, [{"mac": "52:54:00:00:10:02", "type": "discover", "xid": xid(),
                              "options": arch_options(0, ipxe=True)}])
    assert len(replies) == 1, replies
    r = replies[0]
    assert r["file"] == "http://10.77.0.1/boot.ipxe"
    assert r["yiaddr"] == "0.0.0.0"
    # 175.176 no-pxedhcp = 1
    assert r["options"]["175"] == "b00101"


def test_non_pxe_clients_get_no_reply(proxy):
    [plain, windows] = dhcp(proxy, [
        {"mac": "52:54:00:00:10:03", "type": "discover", "xid": xid(), "options": [[55, "010306"]]},
        {"mac": "52:54:00:00:10:04", "type": "discover", "xid": xid(), "options": [[60, b"MSFT 5.0".hex()]]},
    ])
    assert plain == [] and windows == []


def test_boot_server_port_4011_acks_to_the_client(proxy):
    [replies] = dhcp(proxy, [{"mac": "52:54:00:00:10:05", "type": "request", "xid": xid(),
                              "options": arch_options(7), "src": "10.77.0.2", "dst": "10.77.0.1",
                              "dst_mac": proxy_mac(proxy), "ciaddr": "10.77.0.2", "sport": 68, "dport": 4011}])
    assert len(replies) == 1, replies
    r = replies[0]
    assert r["options"]["message-type"] == 5  # ACK
    assert r["file"] == "snponly.efi"
    assert r["yiaddr"] == "0.0.0.0"
    assert r["dst"] == "10.77.0.2" and r["dport"] == 68 and r["sport"] == 4011


def test_garbage_does_not_stop_the_server(proxy):
    script = proxy.tmp / "garbage.py"
    script.write_text("import socket\n"
                      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                      "for n in (1, 100, 239, 300, 1400):\n"
                      "    s.sendto(bytes([n % 256]) * n, ('10.77.0.1', 67))\n")
    assert proxy.client(sys.executable, script).returncode == 0
    [replies] = dhcp(proxy, [{"mac": "52:54:00:00:10:06", "type": "discover", "xid": xid(),
                              "options": arch_options(0)}])
    assert len(replies) == 1
    log = proxy.servers[0].log()
    assert "reason=too_short" in log and "reason=bad_op" in log


def proxy_mac(lab):
    return lab.server("cat", "/sys/class/net/rf0/address", check=True).stdout.strip()
