#!/usr/bin/env python3
"""Time-to-ready of diskless QEMU nodes: ramfleet alone vs dnsmasq + nginx.

Both sides boot the same firmware (SeaBIOS + the NIC's iPXE ROM), the same
Debian kernel, the same small RAM-root image and the same kernel arguments,
in a fresh network namespace each (bridge br0 10.99.0.1/24, fd99::1/64, one
tap per node), with the same DHCP reservations:

  ramfleet   `ramfleet serve --config` (the config `ramfleet lab up` writes):
             DHCP + HTTP (per-machine iPXE script, assets, events API).
  reference  dnsmasq (DHCP with reservations, --no-ping, iPXE option 175.176
             no-pxedhcp, router advertisements) + nginx (one worker; static
             per-MAC iPXE scripts, kernel, image). Nodes POST their phases to
             a tiny Python receiver, which only timestamps them.

Time-to-ready of a node = arrival time of its `ready` POST at the server side
(ramfleet's stored event time; the receiver's clock) minus the time its QEMU
was started. Rounds interleave the two setups so machine load drifts hit both.
While nodes boot, both sides are watched by reading a file the server writes
(ramfleet's log; the receiver's events file): no process is spawned on one side
only, since the QEMUs are CPU-bound and anything else running slows them.

  sudo bench/lab_boot_bench.py [--ramfleet build/ramfleet] [--rounds 3] [--nodes 1,3] [--capture] [--prep DIR]

--capture keeps, per round, br0.pcap, serial consoles stamped with seconds since
QEMU start, starts.json and cpu.json; bench/lab_boot_timeline.py reads them.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NET = "10.99.0"
SERVER = f"{NET}.1"
RECEIVER = r'''
import http.server, sys, time, json
log = open(sys.argv[2], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        log.write(json.dumps({"t": time.time(), "path": self.path, "body": body.decode(errors="replace")}) + "\n")
        self.send_response(201); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer((sys.argv[1], 8080), H).serve_forever()
'''


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kw)


class Net:
    def __init__(self, tag, nodes, work):
        self.work = work
        self.ns = f"rfbench{os.getpid()}{tag}"
        run(["ip", "netns", "add", self.ns])
        for args in (["link", "set", "lo", "up"], ["link", "add", "br0", "type", "bridge"],
                     ["addr", "add", f"{SERVER}/24", "dev", "br0"], ["addr", "add", "fd99::1/64", "dev", "br0"],
                     ["link", "set", "br0", "up"]):
            run(["ip", "-n", self.ns, *args])
        for n in nodes:
            run(["ip", "-n", self.ns, "tuntap", "add", "dev", n["tap"], "mode", "tap"])
            run(["ip", "-n", self.ns, "link", "set", n["tap"], "master", "br0"])
            run(["ip", "-n", self.ns, "link", "set", n["tap"], "up"])
        self.procs = []

    def start(self, cmd, log):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns, *cmd], stdin=subprocess.DEVNULL,
                             stdout=open(log, "a"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def cpu_seconds(self):
        """CPU time (user + system) each process used so far, by command name and PID."""
        out = {}
        for p in self.procs:
            try:
                fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
                name = Path(f"/proc/{p.pid}/comm").read_text().strip()
            except OSError:
                continue
            out[f"{name}[{p.pid}]"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return out

    def close(self):
        if CAPTURE:
            (self.work / "cpu.json").write_text(json.dumps(self.cpu_seconds(), indent=1))
            time.sleep(0.3)  # let tcpdump write the last packets
        for p in reversed(self.procs):  # by PID, never by name
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
        subprocess.run(["ip", "netns", "del", self.ns], check=False)


CAPTURE = False  # --capture: tcpdump on br0 and a timestamped serial console per node


def stamp_serial(stream, path, t0):
    """Writes the console as it arrives, each chunk prefixed with seconds since QEMU start."""
    with open(path, "w") as out:
        pending, first = "", 0.0
        for chunk in iter(lambda: stream.read1(4096), b""):
            if not pending:
                first = time.time() - t0
            pending += chunk.decode(errors="replace").replace("\r", "\n")
            *lines, pending = pending.split("\n")
            for line in lines:
                if line.strip():
                    out.write(f"{first:7.3f} {line}\n")
            if lines:
                first = time.time() - t0
            out.flush()


def qemu(net, node, work):
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", "512", "-smp", "1",
           "-display", "none", "-monitor", "none", "-no-reboot",
           "-netdev", f"tap,id=n0,ifname={node['tap']},script=no,downscript=no",
           "-device", f"virtio-net-pci,netdev=n0,mac={node['mac']},bootindex=1", "-boot", "n"]
    if not CAPTURE:
        return net.start([*cmd, "-serial", f"file:{work}/{node['name']}-serial.log"], work / f"{node['name']}-qemu.log")
    p = subprocess.Popen(["ip", "netns", "exec", net.ns, *cmd, "-serial", "stdio"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=open(work / f"{node['name']}-qemu.log", "a"))
    net.procs.append(p)
    threading.Thread(target=stamp_serial, args=(p.stdout, work / f"{node['name']}-serial.log", time.time()),
                     daemon=True).start()
    return p


def start_capture(net, work):
    if CAPTURE:
        net.start(["tcpdump", "-i", "br0", "-n", "-U", "--immediate-mode", "-w", str(work / "br0.pcap")], work / "tcpdump.log")
        time.sleep(0.5)  # tcpdump has no readiness signal


def wait_http(net, url, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run(["ip", "netns", "exec", net.ns, "curl", "-sf", "--max-time", "1", url],
                           capture_output=True)
        if r.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def start_nodes(net, nodes, work):
    """Starts the capture (with --capture) and one QEMU per node; returns each node's start time by MAC."""
    start_capture(net, work)
    started = {}
    for n in nodes:
        qemu(net, n, work)
        started[n["mac"]] = time.time()
    if CAPTURE:
        (work / "starts.json").write_text(json.dumps(started))
    return started


def boot_ramfleet(ramfleet, config, nodes, work, timeout):
    net = Net("r", nodes, work)
    try:
        net.start([ramfleet, "serve", "--config", str(config), "--state", str(work / "state")], work / "ramfleet.log")
        wait_http(net, f"http://{SERVER}/healthz")
        started = start_nodes(net, nodes, work)
        # Watch ramfleet's log, as the reference side watches its receiver's file: polling the API
        # with `ip netns exec curl` costs ~7 ms of CPU per call (~0.07 of a core for 3 nodes), taken
        # from the CPU-bound QEMUs on this side only. The exact arrival times come from the API
        # once every node is ready.
        log = work / "ramfleet.log"
        seen = set()
        deadline = time.monotonic() + timeout
        while len(seen) < len(nodes) and time.monotonic() < deadline:
            for line in log.read_text(errors="replace").splitlines():
                if "node.event" in line and "phase=ready" in line:
                    seen |= {n["mac"] for n in nodes if n["mac"] in line}
            time.sleep(0.3)
        ready = {}
        for n in nodes:  # all of them: the API is the authority even if the log's wording changed
            api = work / "state" / "api"  # the operator API: HTTPS, the admin token serve wrote
            r = subprocess.run(["ip", "netns", "exec", net.ns, "curl", "-sf", "--max-time", "5",
                                "--cacert", str(api / "ca.crt"),
                                "-H", "Authorization: Bearer " + (api / "admin.token").read_text().strip(),
                                (api / "url").read_text().strip() + f"/api/v1/machines/{n['mac']}/events"],
                               capture_output=True, text=True)
            at = [e["at_ms"] for e in json.loads(r.stdout) if e["phase"] == "ready"] if r.returncode == 0 else []
            if at:
                ready[n["mac"]] = min(at) / 1000 - started[n["mac"]]
        return ready
    finally:
        net.close()


def boot_reference(config, nodes, work, timeout):
    net = Net("d", nodes, work)
    www = work / "www"
    www.mkdir(exist_ok=True)
    profile = json.loads(config.joinpath("bench-profile.json").read_text())
    shutil.copy(config / "assets" / profile["kernel"], www / "vmlinuz")
    shutil.copy(config / "assets" / profile["initrd"], www / "rootfs.cpio.zst")
    (www / "boot.ipxe").write_text(f"#!ipxe\nchain http://{SERVER}/machines/${{net0/mac}}.ipxe\n")
    (www / "machines").mkdir(exist_ok=True)
    for n in nodes:
        args = (f"console=ttyS0 quiet panic=-1 ramfleet.server=http://{SERVER}:8080 ramfleet.id={n['mac']} "
                f"ramfleet.hostname={n['name']}")
        (www / "machines" / f"{n['mac']}.ipxe").write_text(
            f"#!ipxe\nkernel http://{SERVER}/vmlinuz {args}\ninitrd http://{SERVER}/rootfs.cpio.zst\nboot\n")
    (work / "nginx.conf").write_text(f"""
daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path {work}/nginx-tmp; proxy_temp_path {work}/nginx-tmp; fastcgi_temp_path {work}/nginx-tmp;
  uwsgi_temp_path {work}/nginx-tmp; scgi_temp_path {work}/nginx-tmp;
  types {{ text/plain ipxe; application/octet-stream zst; }}
  server {{ listen {SERVER}:80; root {www}; }} }}
""")
    (work / "nginx-tmp").mkdir(exist_ok=True)
    events = work / "events.jsonl"
    try:
        net.start(["nginx", "-c", str(work / "nginx.conf")], work / "nginx.log")
        net.start([sys.executable, "-c", RECEIVER, SERVER, str(events)], work / "receiver.log")
        hosts = [f"--dhcp-host={n['mac']},{n['ip']},{n['name']}" for n in nodes]
        net.start(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=br0",
                   "--bind-interfaces", "--no-ping", "--log-dhcp", f"--dhcp-leasefile={work}/dnsmasq.leases",
                   f"--dhcp-range={NET}.100,{NET}.199,255.255.255.0", "--dhcp-range=::,constructor:br0,ra-only",
                   "--enable-ra", "--dhcp-userclass=set:ipxe,iPXE", "--dhcp-option=tag:ipxe,encap:175,176,1",
                   f"--dhcp-boot=tag:ipxe,http://{SERVER}/boot.ipxe", "--dhcp-boot=tag:!ipxe,undionly.kpxe",
                   "--enable-tftp", "--tftp-root=/usr/lib/ipxe", *hosts], work / "dnsmasq.log")
        wait_http(net, f"http://{SERVER}/boot.ipxe")
        time.sleep(0.5)  # dnsmasq has no readiness signal; it starts in well under this
        started = start_nodes(net, nodes, work)
        ready = {}
        deadline = time.monotonic() + timeout
        while len(ready) < len(nodes) and time.monotonic() < deadline:
            if events.exists():
                for line in events.read_text().splitlines():
                    e = json.loads(line)
                    body = json.loads(e["body"])
                    mac = e["path"].split("/")[4]
                    if body.get("phase") == "ready" and mac in started and mac not in ready:
                        ready[mac] = e["t"] - started[mac]
            time.sleep(0.3)
        return ready
    finally:
        net.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ramfleet", default=str(ROOT / "build" / "ramfleet"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--nodes", default="1,3")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--capture", action="store_true",
                    help="tcpdump br0 into <round dir>/br0.pcap; serial logs with seconds since QEMU start")
    ap.add_argument("--prep", help="reuse the kernel, image and config of an earlier run's prep/ directory")
    args = ap.parse_args()
    global CAPTURE
    CAPTURE = args.capture
    counts = [int(x) for x in args.nodes.split(",")]
    top = Path(tempfile.mkdtemp(prefix="ramfleet-lab-bench-"))
    top.chmod(0o755)  # nginx workers (www-data) read the files
    prep = Path(args.prep).resolve() if args.prep else top / "prep"
    if not args.prep:
        # `lab up` builds the kernel + image and writes the config both sides use.
        r = subprocess.run([args.ramfleet, "lab", "up", "--nodes", str(max(counts)), "--dir", str(prep)],
                           capture_output=True, text=True, timeout=900)
        subprocess.run([args.ramfleet, "lab", "down", "--dir", str(prep)], capture_output=True, timeout=60)
        if r.returncode != 0:
            sys.exit("lab up failed:\n" + r.stdout + r.stderr)
    config = prep / "config"
    st_nodes = []
    profile_text = next((config / "profiles").glob("*.yaml")).read_text()
    kernel = next(l.split(":", 1)[1].strip() for l in profile_text.splitlines() if l.startswith("kernel:"))
    initrd = next(l.split("[", 1)[1].rstrip("]") for l in profile_text.splitlines() if l.startswith("initrds:"))
    (config / "bench-profile.json").write_text(json.dumps({"kernel": kernel, "initrd": initrd}))
    for i in range(1, max(counts) + 1):
        st_nodes.append({"name": f"node{i}", "mac": f"52:54:00:99:00:{i:02x}", "ip": f"{NET}.{10 + i}",
                         "tap": f"tap{i}"})

    results = {(s, c): [] for s in ("ramfleet", "reference") for c in counts}
    load = []
    for rnd in range(args.rounds):
        for c in counts:
            for side in (("ramfleet", "reference") if rnd % 2 == 0 else ("reference", "ramfleet")):
                work = top / f"r{rnd}-{c}-{side}"
                work.mkdir()
                load.append(os.getloadavg()[0])
                nodes = st_nodes[:c]
                ready = (boot_ramfleet(args.ramfleet, config, nodes, work, args.timeout) if side == "ramfleet"
                         else boot_reference(config, nodes, work, args.timeout))
                if len(ready) < c:
                    print(f"round {rnd} {side} {c} node(s): only {len(ready)} ready; logs in {work}", flush=True)
                    continue
                worst = max(ready.values())
                results[(side, c)].extend(ready.values())
                print(f"round {rnd} {c} node(s) {side:9s}: " +
                      " ".join(f"{v:5.1f}" for v in ready.values()) + f"  (all ready {worst:.1f} s)", flush=True)
    print(f"\nload average during the run: {min(load):.1f}..{max(load):.1f} on {os.cpu_count()} cores")
    print(f"{'nodes':>5} {'ramfleet median':>16} {'reference median':>17} {'ratio':>6}")
    for c in counts:
        a, b = results[("ramfleet", c)], results[("reference", c)]
        if a and b:
            ma, mb = statistics.median(a), statistics.median(b)
            print(f"{c:>5} {ma:>15.1f}s {mb:>16.1f}s {ma / mb:>6.2f}   (n={len(a)}/{len(b)} node boots)")
    print(f"logs: {top}")


if __name__ == "__main__":
    main()
