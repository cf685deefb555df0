"""proxyDHCP with real firmware: dnsmasq hands out addresses only (no boot
options), ramfleet in its default proxy mode supplies the boot information.
SeaBIOS's iPXE ROM and OVMF's own PXE client must both end up asking ramfleet
for their per-machine iPXE script. QEMU under TCG, everything in one namespace."""
import re
import subprocess

import pytest

from vmlab import VmLab


@pytest.fixture
def proxylab():
    with VmLab() as lab:
        leases = lab.tmp / "dnsmasq.leases"
        # The "existing DHCP server" of the network: addresses only, DNS off.
        dnsmasq = subprocess.Popen(
            ["ip", "netns", "exec", lab.ns, "dnsmasq", "--keep-in-foreground", "--no-daemon", "--port=0",
             "--conf-file=/dev/null", f"--interface={lab.BRIDGE}", "--bind-interfaces",
             "--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,10m", f"--dhcp-leasefile={leases}",
             "--no-ping", f"--pid-file={lab.tmp / 'dnsmasq.pid'}", "--log-dhcp"],
            stdout=open(lab.tmp / "dnsmasq.log", "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            yield lab
        finally:
            dnsmasq.kill()
            dnsmasq.wait(timeout=10)


def booted(log, mac):
    return re.search(rf"event=http\.boot machine={mac}\b", log) is not None


@pytest.mark.parametrize("firmware,decision", [("bios", "ipxe"), ("uefi", "uefi_x64")])
def test_firmware_boots_through_the_proxy(proxylab, firmware, decision):
    rf = proxylab.start_ramfleet("--interface", proxylab.BRIDGE)  # proxy is the default
    vm = proxylab.boot(firmware)
    proxylab.wait_for(lambda: booted(rf.log(), vm.mac), 180, f"{firmware} firmware to reach boot.ipxe via proxyDHCP")
    log = rf.log()
    assert re.search(rf"event=dhcp\.boot mac={vm.mac} type=\w+ arch=\S+ decision={decision}", log), log[-3000:]
    # ramfleet never handed out an address: dnsmasq did.
    assert "event=dhcp.lease" not in log
    assert vm.mac in (proxylab.tmp / "dnsmasq.leases").read_text()
