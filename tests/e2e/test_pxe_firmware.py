"""Real firmware reaches iPXE through ramfleet alone.

QEMU under TCG, no disk: SeaBIOS with the NIC's iPXE ROM, and OVMF with the
NIC ROM disabled so OVMF's own PXE client must fetch iPXE over TFTP. Each
machine must get to the point where iPXE, having run ramfleet's boot.ipxe,
asks for its own per-machine script (`/ipxe?mac=...`). Everything is read from
ramfleet's log: no other server takes part.
"""
import re

import pytest

from vmlab import VmLab

POOL = "10.77.0.100-10.77.0.150"


@pytest.fixture
def vmlab():
    with VmLab() as lab:
        yield lab


def lease_of(log, mac):
    m = re.search(rf"event=dhcp\.lease mac={mac} address=(\S+)", log)
    return m.group(1) if m else None


def asked_for_machine_script(log, mac):
    return re.search(rf"event=http\.boot machine={mac}\b", log) is not None


def test_bios_ipxe_rom_chains_to_ramfleet_boot_script(vmlab):
    rf = vmlab.start_ramfleet("--interface", vmlab.BRIDGE, "--dhcp", "full", "--pool", POOL)
    vm = vmlab.boot("bios")
    vmlab.wait_for(lambda: asked_for_machine_script(rf.log(), vm.mac), 120, "iPXE to fetch its per-machine script")
    log = rf.log()
    ip = lease_of(log, vm.mac)
    assert ip is not None and ip.startswith("10.77.0.1"), log[-3000:]
    # The ROM already is iPXE: it must be sent straight to HTTP, never to TFTP.
    assert re.search(rf"event=dhcp\.boot mac={vm.mac} type=\w+ arch=\S+ decision=ipxe file=http://10\.77\.0\.1(:80)?/boot\.ipxe",
                     log), log[-3000:]
    assert "event=tftp.transfer.start" not in log


def test_uefi_pxe_fetches_ipxe_over_tftp_then_chains_to_http(vmlab):
    rf = vmlab.start_ramfleet("--interface", vmlab.BRIDGE, "--dhcp", "full", "--pool", POOL)
    vm = vmlab.boot("uefi")
    vmlab.wait_for(lambda: asked_for_machine_script(rf.log(), vm.mac), 180, "UEFI -> TFTP -> iPXE -> HTTP")
    log = rf.log()
    ip = lease_of(log, vm.mac)
    assert ip is not None
    # 1. OVMF's PXE client (arch 7) got snponly.efi ...
    assert re.search(rf"event=dhcp\.boot mac={vm.mac} type=\w+ arch=7 decision=uefi_x64 file=snponly\.efi", log)
    # 2. ... and fetched all of it over TFTP ...
    assert re.search(rf"event=tftp\.transfer\.end id=\d+ client={re.escape(ip)}:\d+ file=snponly\.efi outcome=completed",
                     log), log[-3000:]
    # 3. ... then iPXE asked DHCP again and was sent to HTTP, not back to TFTP.
    assert re.search(rf"event=dhcp\.boot mac={vm.mac} type=\w+ arch=7 decision=ipxe file=http://", log)
    assert "PXE-E" not in vm.serial()
