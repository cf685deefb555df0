"""Full mode: `ramfleet serve --dhcp full` is the network's DHCP server. Real
DORA exchanges from scapy clients without an address, relayed requests,
reservations, and leases that survive `kill -9`."""
import pytest

from test_dhcp_proxy import arch_options, dhcp, text, xid

POOL = ("10.77.0.100", "10.77.0.102")
RESERVED_MAC, RESERVED_IP = "52:54:00:00:20:99", "10.77.0.50"
SERVER = "10.77.0.1"


def start_full(lab, *extra, state_dir=None):
    return lab.start_ramfleet("--interface", "rf0", "--dhcp", "full", "--pool", "-".join(POOL),
                              "--router", SERVER, "--reserve", f"{RESERVED_MAC}={RESERVED_IP},node50",
                              "--tftp-port", "-1", "--http-port", "-1", *extra, state_dir=state_dir)


def discover(mac, **kw):
    return {"mac": mac, "type": "discover", "xid": xid(), **kw}


def request(mac, address, server=SERVER, **kw):
    opts = [[50, ip_hex(address)]] + ([[54, ip_hex(server)]] if server else []) + kw.pop("options", [])
    return {"mac": mac, "type": "request", "xid": xid(), "options": opts, **kw}


def ip_hex(a):
    return bytes(int(x) for x in a.split(".")).hex()


def dora(lab, mac, **kw):
    [offers] = dhcp(lab, [discover(mac, **kw)])
    assert len(offers) == 1, offers
    offer = offers[0]
    [acks] = dhcp(lab, [request(mac, offer["yiaddr"], **kw)])
    assert len(acks) == 1, acks
    return offer, acks[0]


def test_dora_for_a_pxe_client_without_an_address(bare_lab):
    start_full(bare_lab)
    mac = "52:54:00:00:20:01"
    offer, ack = dora(bare_lab, mac, options=arch_options(0))
    assert offer["options"]["message-type"] == 2
    assert POOL[0] <= offer["yiaddr"] <= POOL[1]
    assert offer["file"] == "undionly.kpxe" and offer["siaddr"] == SERVER
    # No broadcast flag: unicast to the new address at the client's hardware address.
    assert offer["dst"] == offer["yiaddr"] and offer["eth_dst"] == mac
    assert ack["options"]["message-type"] == 5
    assert ack["yiaddr"] == offer["yiaddr"]
    assert ack["options"]["subnet_mask"] == "255.255.255.0"
    assert ack["options"]["router"] == SERVER
    assert ack["options"]["lease_time"] == 3600
    neigh = bare_lab.server("ip", "neigh", "show", offer["yiaddr"], "dev", "rf0").stdout
    assert mac in neigh  # the ARP entry that made the unicast possible


def test_broadcast_flag_is_honoured_and_ipxe_gets_the_script(bare_lab):
    start_full(bare_lab)
    offer, ack = dora(bare_lab, "52:54:00:00:20:02", broadcast=True, options=arch_options(7, ipxe=True))
    assert offer["dst"] == "255.255.255.255" and ack["dst"] == "255.255.255.255"
    assert text(ack, "boot-file-name") == "http://10.77.0.1/boot.ipxe" or ack["file"] == "http://10.77.0.1/boot.ipxe"
    assert ack["options"]["175"] == "b00101"


def test_distinct_clients_distinct_addresses_and_naks(bare_lab):
    start_full(bare_lab)
    _, a = dora(bare_lab, "52:54:00:00:20:03", broadcast=True)
    _, b = dora(bare_lab, "52:54:00:00:20:04", broadcast=True)
    assert a["yiaddr"] != b["yiaddr"]
    # INIT-REBOOT for someone else's address, and for a wrong network: NAK.
    [steal, wrong] = dhcp(bare_lab, [request("52:54:00:00:20:05", a["yiaddr"], server=None),
                                     request("52:54:00:00:20:05", "192.168.99.9", server=None)])
    assert steal[0]["options"]["message-type"] == 6
    assert wrong[0]["options"]["message-type"] == 6


def test_reservation(bare_lab):
    start_full(bare_lab)
    offer, ack = dora(bare_lab, RESERVED_MAC, broadcast=True)
    assert offer["yiaddr"] == RESERVED_IP and ack["yiaddr"] == RESERVED_IP
    assert text(ack, "hostname") == "node50"
    [other] = dhcp(bare_lab, [request("52:54:00:00:20:06", RESERVED_IP, server=None, broadcast=True)])
    assert other[0]["options"]["message-type"] == 6


def test_relayed_request_is_answered_to_the_relay(lab):
    # The client namespace plays a relay agent for 192.168.60.0/24.
    lab.client("ip", "addr", "add", "192.168.60.1/24", "dev", "cl0", check=True)
    lab.server("ip", "route", "add", "192.168.60.0/24", "via", "10.77.0.2", check=True)
    config = lab.tmp / "config"
    config.mkdir()
    (config / "ramfleet.yaml").write_text(
        "dhcp:\n"
        "  mode: full\n"
        "  subnets:\n"
        "    - subnet: 10.77.0.0/24\n"
        "      pools: [10.77.0.100-10.77.0.102]\n"
        "    - subnet: 192.168.60.0/24\n"
        "      pools: [192.168.60.100-192.168.60.110]\n"
        "      router: 192.168.60.1\n")
    lab.start_ramfleet("--interface", "rf0", "--config", config, "--tftp-port", "-1", "--http-port", "-1")
    server_mac = lab.server("cat", "/sys/class/net/rf0/address", check=True).stdout.strip()
    relay = {"giaddr": "192.168.60.1", "src": "192.168.60.1", "dst": SERVER, "sport": 67, "dport": 67,
             "dst_mac": server_mac, "src_mac": None}
    mac = "52:54:00:00:20:07"
    cl0 = lab.client("cat", "/sys/class/net/cl0/address", check=True).stdout.strip()
    relay["src_mac"] = cl0
    [offers] = dhcp(lab, [dict(discover(mac, options=arch_options(0) + [[82, "0103657430"]]), **relay)])
    assert len(offers) == 1, offers
    offer = offers[0]
    assert offer["dst"] == "192.168.60.1" and offer["dport"] == 67
    assert offer["giaddr"] == "192.168.60.1"
    assert offer["yiaddr"].startswith("192.168.60.")
    assert offer["options"]["router"] == "192.168.60.1"
    assert offer["options"]["relay_agent_information"] == "0103657430"
    [acks] = dhcp(lab, [dict(request(mac, offer["yiaddr"]), **relay)])
    assert acks[0]["options"]["message-type"] == 5 and acks[0]["yiaddr"] == offer["yiaddr"]
    assert acks[0]["dst"] == "192.168.60.1"


def test_leases_survive_kill_9(bare_lab):
    state = bare_lab.tmp / "state"
    rf = start_full(bare_lab, state_dir=state)
    owner, other = "52:54:00:00:20:08", "52:54:00:00:20:09"
    _, ack = dora(bare_lab, owner, broadcast=True)
    address = ack["yiaddr"]
    rf.kill9()  # the ACK was sent, so the lease must already be on disk
    start_full(bare_lab, state_dir=state)
    # The owner gets the same address back...
    [again] = dhcp(bare_lab, [discover(owner, broadcast=True)])
    assert again[0]["yiaddr"] == address
    # ...another client asking for it is offered something else and NAKed if it insists.
    [offer, nak] = dhcp(bare_lab, [discover(other, broadcast=True, options=[[50, ip_hex(address)]]),
                                   request(other, address, server=None, broadcast=True)])
    assert offer[0]["yiaddr"] != address
    assert nak[0]["options"]["message-type"] == 6
    _, owner_ack = dora(bare_lab, owner, broadcast=True)
    assert owner_ack["yiaddr"] == address
