"""The real iPXE runs ramfleet's retry loop and honours its pacing (issue 14,
part 5; docs/scale.md, "Admission control").

One BIOS VM (QEMU's iPXE ROM, TCG) boots from ramfleet in a namespace. Its
profile's kernel is iPXE itself as a Linux kernel (/usr/lib/ipxe/ipxe.lkrn),
which is not in the assets directory at first:

1. the per-machine script's `kernel` fails (404): the script's failure branch
   runs in the real iPXE (echo, imgfree, sleep, inc, iseq, goto) and tries
   again, each wait longer than the one before;
2. the kernel is copied in while the only transfer slot (max_file_transfers:
   1) is held by another client: iPXE's GET is answered 503 + Retry-After,
   and iPXE asks again on its own, without failing the `kernel` command;
3. the slot is let go: iPXE fetches the kernel and initrd and boots them,
   and the iPXE it booted (running the initrd, a script) asks ramfleet for
   its script again.

Everything is read from ramfleet's log (debug: every error reply is logged).
"""
import os
import re
import shutil
import subprocess
import time

import pytest

from vmlab import VmLab

POOL = "10.77.0.100-10.77.0.150"
MAC = "52:54:00:77:00:01"  # VmLab's first VM


@pytest.fixture
def vmlab():
    with VmLab() as lab:
        yield lab


# Holds a transfer of hold.bin from inside the namespace, reading slowly
# (well above min_send_rate) until killed.
HOLDER = r'''
import socket, sys, time
s = socket.create_connection(("10.77.0.1", 80))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.sendall(b"GET /assets/hold.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
assert s.recv(4096).startswith(b"HTTP/1.1 200")
print("holding", flush=True)
while True:
    s.recv(16384)
    time.sleep(0.05)
'''


def kernel_404s(log):
    return len(re.findall(r"event=http\.error_reply peer=\S+ target=/assets/ipxe\.lkrn status=404", log))


def test_ipxe_retries_with_backoff_then_waits_out_503_and_boots(vmlab):
    config = vmlab.tmp / "config"
    for d in ("profiles", "groups", "assets"):
        (config / d).mkdir(parents=True)
    (config / "inventory.yaml").write_text("default: exit\n")
    (config / "ramfleet.yaml").write_text("http:\n  max_file_transfers: 1\n  retry_after: 1s\n")
    (config / "profiles" / "lkrn.yaml").write_text("kernel: ipxe.lkrn\ninitrds: [again.ipxe]\n")
    (config / "groups" / "vm.yaml").write_text(f'profile: lkrn\nselector: {{mac: "{MAC}"}}\n')
    # The booted ipxe.lkrn runs its initrd as its script (iPXE executes an
    # image it was handed before autobooting): back to ramfleet.
    (config / "assets" / "again.ipxe").write_text("#!ipxe\ndhcp\nchain http://10.77.0.1/boot.ipxe\n")
    with open(config / "assets" / "hold.bin", "wb") as f:
        f.truncate(256 << 20)  # sparse
    rf = vmlab.start_ramfleet("--interface", vmlab.BRIDGE, "--dhcp", "full", "--pool", POOL, "--config", config)
    vm = vmlab.boot("bios")

    # 1. The kernel is missing: the script's own retries, with growing waits.
    seen = []
    deadline = time.monotonic() + 180
    while len(seen) < 3 and time.monotonic() < deadline:
        n = kernel_404s(rf.log())
        if n > len(seen):
            seen += [time.monotonic()] * (n - len(seen))
        assert vm.proc.poll() is None, "QEMU exited"
        time.sleep(0.1)
    assert len(seen) >= 3, rf.log()[-4000:]
    first_wait, second_wait = seen[1] - seen[0], seen[2] - seen[1]
    # Waits are 2 + j, then 4 + j seconds (j: this machine's jitter, 1..5 s).
    assert 2.5 <= first_wait <= 9, (first_wait, second_wait)
    assert second_wait >= first_wait + 1.5, (first_wait, second_wait)

    # 2. The only transfer slot held by someone else, then the kernel copied in.
    holder = subprocess.Popen(["ip", "netns", "exec", vmlab.ns, "python3", "-c", HOLDER],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        # In whole: iPXE must never see half a kernel.
        shutil.copyfile("/usr/lib/ipxe/ipxe.lkrn", config / "assets" / ".ipxe.lkrn.part")
        os.rename(config / "assets" / ".ipxe.lkrn.part", config / "assets" / "ipxe.lkrn")
        vmlab.wait_for(lambda: "event=http.paced" in rf.log(), 60, "iPXE's kernel GET to be paced (503)")
        paced = rf.log().count("event=http.paced")
        time.sleep(4)  # iPXE comes back after Retry-After (1-3 s): still paced, and not failing
        assert kernel_404s(rf.log()) == len(seen) or kernel_404s(rf.log()) == len(seen) + 1
    finally:
        holder.kill()
        holder.wait(timeout=10)

    # 3. Let go: iPXE takes the kernel and initrd, boots them, and the iPXE
    # it booted asks for this machine's script again.
    vmlab.wait_for(lambda: len(re.findall(rf"event=http\.boot machine={MAC}\b", rf.log())) >= 2, 120,
                   "the booted ipxe.lkrn to ask for its script again")
    log = rf.log()
    assert re.search(r"event=http\.paced peer=10\.77\.0\.1\d\d:\d+", log), log[-3000:]
    assert paced >= 1
    # No 404 after the kernel was copied in: the 503s did not fail iPXE's `kernel`.
    assert kernel_404s(log) <= len(seen) + 1
