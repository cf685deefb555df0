"""QEMU machines that PXE-boot from ramfleet inside a throw-away namespace.

One network namespace holds a bridge (br0, 10.77.0.1/24) where `ramfleet
serve` listens, and one tap per VM. QEMU runs under TCG (see
shared/lab-notes.md: KVM is not usable here) with no disk: the only way to
boot is the network. Serial output goes to a log file per VM; close() stops
every VM and ramfleet by PID and deletes the namespace.
"""
import os
import shutil
import subprocess
import tempfile
import time
import itertools
from pathlib import Path

from netlab import PREFIX, RAMFLEET_BIN, Ramfleet, run, sweep_stale_namespaces

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
_counter = itertools.count()


class Vm:
    def __init__(self, lab, index, firmware, mac, memory_mb):
        self.lab, self.index, self.firmware, self.mac = lab, index, firmware, mac
        self.tap = f"tap{index}"
        self.serial_log = lab.tmp / f"vm{index}-serial.log"
        cmd = ["ip", "netns", "exec", lab.ns, "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg",
               "-m", str(memory_mb), "-smp", "1", "-display", "none", "-monitor", "none", "-no-reboot",
               "-serial", f"file:{self.serial_log}",
               "-netdev", f"tap,id=n0,ifname={self.tap},script=no,downscript=no"]
        if firmware == "uefi":
            vars_copy = lab.tmp / f"vm{index}-vars.fd"
            shutil.copyfile(OVMF_VARS, vars_copy)
            cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}",
                    # romfile= disables the NIC's iPXE ROM: OVMF's own PXE must
                    # fetch iPXE over TFTP, the path real UEFI machines take.
                    "-device", f"virtio-net-pci,netdev=n0,mac={mac},bootindex=1,romfile="]
        else:
            cmd += ["-device", f"virtio-net-pci,netdev=n0,mac={mac},bootindex=1", "-boot", "n"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(lab.tmp / f"vm{index}-qemu.log", "w"))

    def serial(self):
        try:
            return self.serial_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class VmLab:
    BRIDGE, SERVER_IP, PREFIXLEN = "br0", "10.77.0.1", 24

    def __init__(self):
        sweep_stale_namespaces()
        self.ns = f"{PREFIX}{os.getpid()}x{next(_counter)}v"
        self.server_ns = self.ns  # where Ramfleet runs
        self.tmp = Path(tempfile.mkdtemp(prefix="ramfleet-vmlab-"))
        self.vms, self.servers = [], []
        try:
            run(["ip", "netns", "add", self.ns])
            self.ip("link", "set", "lo", "up")
            self.ip("link", "add", self.BRIDGE, "type", "bridge")
            self.ip("addr", "add", f"{self.SERVER_IP}/{self.PREFIXLEN}", "dev", self.BRIDGE)
            self.ip("link", "set", self.BRIDGE, "up")
        except Exception:
            self.close()
            raise

    def ip(self, *args):
        return run(["ip", "-n", self.ns, *args])

    def start_ramfleet(self, *args, timeout=15):
        rf = Ramfleet(self, [str(a) for a in args], self.tmp / "state", self.tmp / f"ramfleet-{len(self.servers)}.log")
        self.servers.append(rf)
        return rf.start(timeout=timeout)

    def boot(self, firmware="bios", memory_mb=256):
        index = len(self.vms)
        tap = f"tap{index}"
        self.ip("tuntap", "add", "dev", tap, "mode", "tap")
        self.ip("link", "set", tap, "master", self.BRIDGE)
        self.ip("link", "set", tap, "up")
        vm = Vm(self, index, firmware, f"52:54:00:77:00:{index + 1:02x}", memory_mb)
        self.vms.append(vm)
        return vm

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            for vm in self.vms:
                if vm.proc.poll() is not None:
                    raise AssertionError(f"QEMU for vm{vm.index} exited ({vm.proc.returncode}) while waiting for {what}")
            time.sleep(0.2)
        logs = "\n".join(rf.log()[-4000:] for rf in self.servers)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}\n--- ramfleet log tail ---\n{logs}")

    def close(self):
        for vm in self.vms:
            vm.stop()
        for rf in self.servers:
            rf.stop()
        run(["ip", "netns", "del", self.ns], check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
