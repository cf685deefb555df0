"""A first boot of N new machines with cluster roles against a real `ramfleet serve`
on loopback, with /healthz and /ipxe probed all along (issue 14, part 2).

Used by tests/integration/test_identity_storm.py (small N, assertions) and
bench/identity_storm (N = 200, 1000; inline issuance vs the workers, one run).

Each machine has its own loopback source address (127.<a>.<b>.<c>: Linux
answers all of 127/8 on lo), so per-address limits and boot-token bindings
behave as on a real network: it fetches its /ipxe script (ramfleet matches it
and, with workers, starts issuing its identity), then the config URL in the
script, and retries a 503 after its Retry-After as the small image's /init and
Ignition do. The probe runs in its own process, so the clients' threads (and
Python's GIL) do not delay its measurements.
"""
import http.client
import json
import multiprocessing
import re
import statistics
import subprocess
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from loopback_serve import LoopbackServe
from netlab import RAMFLEET_BIN

CLUSTER = """\
name: storm
kubernetesVersion: v1.29.4
distribution: kubeadm
controlPlaneEndpoint: 192.168.50.10:6443
etcd:
  members:
    - {name: cp1, ip: 127.0.0.11}
roles:
  control-plane: [{hostname: cp1}]
  worker: [{labels: {pool: storm}}]
pki:
  keyAlgorithm: rsa-2048
"""

PROFILE = ('kernel: vmlinuz\nargs: ["ignition.config.url={{ignition_url}}"]\n'
           "config: {target: ignition, layers: [base.bu]}\n")
BASE_LAYER = 'variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents: {inline: "hi\\n"}\n'
# The storm's machines take the worker role; "probe" is a machine without
# one, whose /ipxe is what an unrelated booting machine asks meanwhile.
GROUPS = {
    "storm": 'profile: ign\nselector: {mac: "52:54:00:a*"}\nmetadata: {pool: storm}\n',
    "probe": 'profile: ign\nselector: {mac: "52:54:00:00:0f:01"}\n',
}
PROBE_IPXE = "/ipxe?mac=52:54:00:00:0f:01"


def mac_of(i):
    return f"52:54:00:a{(i >> 16) & 0xf:x}:{(i >> 8) & 0xff:02x}:{i & 0xff:02x}"


def node_of(i):
    return "node-" + mac_of(i).replace(":", "-")


def source_of(i):
    return f"127.{20 + i // 62500}.{(i // 250) % 250}.{1 + i % 250}"


def make_server(tmp, identity_workers=None, identity_queue=None):
    """Config, cluster PKI (`cluster init`) and a started server; identity_workers 0: inline on the loop."""
    s = LoopbackServe(tmp)
    (s.config / "cluster.yaml").write_text(CLUSTER)
    (s.config / "inventory.yaml").write_text("default: exit\n")
    http = ["boot_token_burst: 100", "boot_token_ttl: 10m", "max_connections: 4096"]
    if identity_workers is not None:
        http.append(f"identity_workers: {identity_workers}")
    if identity_queue is not None:
        http.append(f"identity_queue: {identity_queue}")
    (s.config / "ramfleet.yaml").write_text("http:\n" + "".join(f"  {line}\n" for line in http))
    for sub, files in (("configs", {"base.bu": BASE_LAYER}), ("profiles", {"ign.yaml": PROFILE}),
                       ("groups", {f"{k}.yaml": v for k, v in GROUPS.items()})):
        (s.config / sub).mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (s.config / sub / name).write_text(text)
    r = subprocess.run([RAMFLEET_BIN, "cluster", "init", "--config", s.config, "--state", s.state, "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return s.start()


def request(port, path, source="127.0.0.1", timeout=120):
    """One GET on its own connection (as iPXE and wget do): status, headers, body."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def config_url_of(script):
    m = re.search(r"ignition\.config\.url=(\S+)", script)
    assert m, script
    return urllib.parse.urlsplit(m.group(1))


class Machine:
    def __init__(self, i):
        self.i, self.mac, self.node, self.source = i, mac_of(i), node_of(i), source_of(i)
        self.statuses = []  # of its config fetches, in order
        self.body = None
        self.seconds = None  # from its /ipxe to its config
        self.error = None


def boot(port, m, deadline, retry_cap, fetch_timeout=60):
    t0 = time.monotonic()
    try:
        st, _, body = request(port, f"/ipxe?mac={m.mac}", m.source)
        assert st == 200, f"/ipxe {st}: {body[:200]!r}"
        url = config_url_of(body.decode())
        while time.monotonic() < deadline:
            try:
                # As the small image's /init: wget gives up after 60 s, then asks again.
                st, headers, body = request(port, url.path, m.source, timeout=fetch_timeout)
            except TimeoutError:
                m.statuses.append(0)
                continue
            m.statuses.append(st)
            if st == 200:
                m.body, m.seconds = body, time.monotonic() - t0
                return m
            assert st == 503 and "retry-after" in headers, f"config {st}: {body[:300]!r}"
            time.sleep(min(float(headers["retry-after"]), retry_cap))
        m.error = "no config before the deadline"
    except Exception as e:  # noqa: BLE001 (reported per machine)
        m.error = f"{type(e).__name__}: {e}"
    return m


def _probe_loop(port, stop, path_out, every):
    """Runs in its own process: /healthz and the probe machine's /ipxe, in turn, until stop is set.
    Each probe is a line of path_out as it ends, so a probe still waiting when the storm ends loses nothing."""
    with open(path_out, "w") as out:
        while not stop.is_set():
            for path in ("/healthz", PROBE_IPXE):
                t = time.monotonic()
                try:
                    status = request(port, path, timeout=60)[0]
                except Exception:  # noqa: BLE001 (no answer: counted as status 0)
                    status = 0
                out.write(json.dumps([path, t, time.monotonic() - t, status]) + "\n")
                out.flush()
            time.sleep(every)


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def issue_times_ms(log_text):
    """What each identity took on its worker (the server's boot.identity.issued lines)."""
    return [int(m.group(1)) for m in re.finditer(r"boot\.identity\.issued.*?\bms=(\d+)", log_text)]


def storm(server, n, concurrency=64, deadline_s=600, retry_cap=2.0, probe_every=0.02):
    """Boots machines 0..n-1 at once; returns (machines, probe rows (path, start, seconds, status), wall seconds)."""
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    rows_path = Path(server.tmp) / "probes.jsonl"
    prober = ctx.Process(target=_probe_loop, args=(server.port, stop, rows_path, probe_every), daemon=True)
    prober.start()
    time.sleep(0.3)  # a few probes before the storm
    t0 = time.monotonic()
    deadline = t0 + deadline_s
    with ThreadPoolExecutor(max_workers=min(n, concurrency)) as pool:
        machines = list(pool.map(lambda i: boot(server.port, Machine(i), deadline, retry_cap), range(n)))
    wall = time.monotonic() - t0
    stop.set()
    prober.join(timeout=70)
    if prober.is_alive():
        prober.kill()
        prober.join()
    rows = [tuple(json.loads(line)) for line in rows_path.read_text().splitlines() if line.endswith("]")]
    during = [r for r in rows if t0 <= r[1] <= t0 + wall]
    return machines, during, wall


def ignition_file(body, path):
    import base64
    cfg = json.loads(body)
    for f in cfg["storage"]["files"]:
        if f["path"] == path:
            src = f["contents"]["source"]
            meta, _, data = src[5:].partition(",")
            return base64.b64decode(data).decode() if meta.endswith(";base64") else urllib.parse.unquote(data)
    raise AssertionError(f"{path} not in the config")


def first_cert(pem):
    end = "-----END CERTIFICATE-----"
    return pem[:pem.index(end) + len(end)] + "\n"


def summary(rows):
    by = {}
    for path, _, secs, _ in rows:
        by.setdefault(path, []).append(secs * 1000)
    return {p: {"n": len(v), "p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99), "max_ms": max(v),
                "mean_ms": statistics.mean(v)} for p, v in by.items()}
