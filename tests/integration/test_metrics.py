"""GET /metrics from a real `ramfleet serve` after real DHCP (scapy), TFTP
(curl) and HTTP (curl) traffic in a network namespace: `promtool check
metrics` accepts the scrape, and every count matches what the test sent; a
machine driven through discover -> iPXE -> kernel -> config -> ready shows up
once in the boot-phase histograms. The alert rules of docs/operations.md pass
`promtool check rules`."""
import json
import re
import shutil
import subprocess

import pytest

from netlab import SOURCE_DIR
from operator_api import OperatorApi
from test_dhcp_full import ip_hex
from test_dhcp_proxy import arch_options, dhcp, xid

SERVER = "10.77.0.1"
POOL = ("10.77.0.100", "10.77.0.119")
HTTP_PORT = 8080
MAC = "52:54:00:00:77:01"  # the machine the test boots through every milestone


def parse(text):
    """{(name, frozenset(labels)): value} for every sample of an exposition."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)', line)
        assert m, f"unparsable sample line: {line!r}"
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def promtool_check(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def write_config(root):
    (root / "configs").mkdir(parents=True)
    (root / "profiles").mkdir()
    (root / "groups").mkdir()
    (root / "assets").mkdir()
    (root / "configs" / "node.bu").write_text(
        "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /etc/hostname\n"
        "      contents: {inline: \"node-{{mac_hyphen}}\\n\"}\n")
    (root / "profiles" / "worker.yaml").write_text(
        'kernel: vmlinuz\nargs: ["cloud-config-url={{config_url}}", "ramfleet.event_credential={{event_credential}}"]\n'
        "config: {target: cloud-config, layers: [node.bu]}\n")
    (root / "groups" / "workers.yaml").write_text('profile: worker\nselector: {mac: "52:54:00:00:77:*"}\n')
    (root / "inventory.yaml").write_text("default: exit\n")
    (root / "assets" / "vmlinuz").write_bytes(b"k" * 100_000)


@pytest.fixture
def served(lab):
    config = lab.tmp / "config"
    write_config(config)
    root = lab.tmp / "tftproot"
    root.mkdir()
    (root / "undionly.kpxe").write_bytes(b"x" * 70_000)
    rf = lab.start_ramfleet("--interface", "rf0", "--dhcp", "full", "--pool", "-".join(POOL), "--router", SERVER,
                            "--config", config, "--tftp-root", root, "--http-port", HTTP_PORT)
    return lab, rf


def http(lab, path, *args, body=None):
    """curl from the client namespace to the boot listener: the status code
    (and the body into the list `body`, when given)."""
    out = lab.tmp / "http-body"
    r = lab.client("curl", "-s", "--max-time", "10", "-o", out, "-w", "%{http_code}", *args,
                   f"http://{SERVER}:{HTTP_PORT}{path}", timeout=30)
    if body is not None:
        body.append(out.read_text(errors="replace") if out.exists() else "")
    return int(r.stdout or 0)


def scrape(lab, rf):
    """GET /metrics on the operator listener, with serve's local admin token."""
    r = OperatorApi(rf.state_dir, netns=lab.server_ns).fetch("/metrics")
    assert r.status == 200, (r.status, r.body[:500], r.headers.get("curl-error"))
    assert r.headers.get("content-type", "").startswith("text/plain; version=0.0.4")
    return r.text


def test_a_scrape_passes_promtool_and_counts_what_was_sent(served):
    lab, rf = served
    before = scrape(lab, rf)
    promtool_check(before)

    # DHCP: three PXE machines get an address (DISCOVER/OFFER, REQUEST/ACK).
    macs = [MAC, "52:54:00:00:77:02", "52:54:00:00:77:03"]
    leased = {}
    for mac in macs:
        [offers] = dhcp(lab, [{"mac": mac, "type": "discover", "xid": xid(), "broadcast": True,
                               "options": arch_options(0)}])
        assert len(offers) == 1, offers
        address = offers[0]["yiaddr"]
        [acks] = dhcp(lab, [{"mac": mac, "type": "request", "xid": xid(), "broadcast": True,
                             "options": [[50, ip_hex(address)], [54, ip_hex(SERVER)]] + arch_options(0)}])
        assert acks[0]["options"]["message-type"] == 5
        leased[mac] = address
    # MAC's script carries its event credential, given only to the address that holds its lease.
    lab.client("ip", "addr", "add", f"{leased[MAC]}/24", "dev", "cl0", check=True)
    node = ("--interface", leased[MAC])

    # TFTP: two transfers of the iPXE binary, one missing file.
    for i in range(2):
        r = lab.client("curl", "-sS", "--max-time", "20", "-o", lab.tmp / f"t{i}", f"tftp://{SERVER}/undionly.kpxe")
        assert r.returncode == 0, r.stderr
    r = lab.client("curl", "-sS", "--max-time", "20", "-o", "/dev/null", f"tftp://{SERVER}/missing.bin")
    assert r.returncode != 0

    # HTTP: the boot chain of MAC (script, kernel, config), and a 404.
    assert http(lab, "/boot.ipxe") == 200
    script = []
    assert http(lab, f"/ipxe?mac={MAC}", *node, body=script) == 200
    credential = re.search(r"ramfleet\.event_credential=(\S+)", script[0]).group(1)
    assert http(lab, "/assets/vmlinuz", *node) == 200
    assert http(lab, f"/cloud-config?mac={MAC}", *node) == 200
    assert http(lab, "/no/such/thing") == 404

    text = scrape(lab, rf)
    promtool_check(text)
    s = parse(text)

    assert value(s, "ramfleet_dhcp_received_total", type="discover") == 3
    assert value(s, "ramfleet_dhcp_received_total", type="request") == 3
    assert value(s, "ramfleet_dhcp_sent_total", type="offer") == 3
    assert value(s, "ramfleet_dhcp_sent_total", type="ack") == 3
    assert value(s, "ramfleet_dhcp_decision_seconds_count") == 6
    assert value(s, "ramfleet_dhcp_decision_seconds_bucket", le="+Inf") == 6
    pool = "-".join(POOL)
    assert value(s, "ramfleet_dhcp_pool_addresses", pool=pool, state="used") == 3
    assert value(s, "ramfleet_dhcp_pool_addresses", pool=pool, state="free") == 20 - 3

    assert value(s, "ramfleet_tftp_transfers_started_total") == 2
    assert value(s, "ramfleet_tftp_transfer_seconds_count", outcome="completed") == 2
    assert value(s, "ramfleet_tftp_transfer_bytes_count", outcome="completed") == 2
    assert value(s, "ramfleet_tftp_transfer_bytes_sum", outcome="completed") == 2 * 70_000
    assert value(s, "ramfleet_tftp_sent_bytes_total") == 2 * 70_000
    assert value(s, "ramfleet_tftp_errors_sent_total", code="file_not_found") == 1
    assert value(s, "ramfleet_tftp_transfers_active") == 0

    for route, n in (("boot_ipxe", 1), ("ipxe", 1), ("assets", 1), ("config", 1), ("other", 1)):
        assert value(s, "ramfleet_http_request_seconds_count", route=route) == n, route
    assert value(s, "ramfleet_http_errors_total", reason="not_found") == 1
    assert value(s, "ramfleet_boot_tokens_outstanding") == 0  # no cluster.yaml: no tokens
    # Buckets are cumulative and end at the count.
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in s.items()
                     if k[0] == "ramfleet_http_request_seconds_bucket" and dict(k[1])["route"] == "assets")
    assert [v for _, v in buckets] == sorted(v for _, v in buckets) and buckets[-1] == (float("inf"), 1)

    # The node reports ready: its boot is observed once, every phase of it.
    assert post_ready(lab, MAC, credential, node) == 201
    s = parse(scrape(lab, rf))
    assert value(s, "ramfleet_boot_seconds_count", profile="worker") == 1
    for phase in ("discover_to_ipxe", "ipxe_to_kernel", "kernel_to_config", "config_to_ready"):
        assert value(s, "ramfleet_boot_phase_seconds_count", profile="worker", phase=phase) == 1, phase
    assert value(s, "ramfleet_machines_known") == 1
    assert post_ready(lab, MAC, credential, node) == 201  # a second report is stored, not a second boot
    assert value(parse(scrape(lab, rf)), "ramfleet_boot_seconds_count", profile="worker") == 1


def post_ready(lab, mac, credential, node):
    """The node's own report, with the per-boot credential its script carried."""
    return http(lab, f"/api/v1/machines/{mac}/events", *node, "-X", "POST", "-H", f"Authorization: Bearer {credential}",
                "-H", "Content-Type: application/json", "-d", json.dumps({"phase": "ready"}))


def test_client_paths_do_not_create_series(served):
    lab, rf = served
    for i in range(50):
        http(lab, f"/x{i}/../y?z={i}")
    s = parse(scrape(lab, rf))
    routes = {dict(k[1])["route"] for k in s if k[0] == "ramfleet_http_request_seconds_count"}
    assert routes <= {"boot_ipxe", "ipxe", "config", "assets", "etcd", "healthz", "events", "api", "metrics", "ui",
                      "other"}
    assert value(s, "ramfleet_http_request_seconds_count", route="other") == 50


def test_metrics_are_not_on_the_boot_listener(served):
    lab, _ = served
    assert http(lab, "/metrics") == 403


def alert_rules():
    """The rules file shown in docs/operations.md ("Metrics"), as written there."""
    doc = (SOURCE_DIR / "docs" / "operations.md").read_text()
    m = re.search(r"<!-- promtool check rules -->\s*```yaml\n(.*?)```", doc, re.S)
    assert m, "docs/operations.md has no rules block marked for promtool"
    return m.group(1)


def test_documented_alert_rules_pass_promtool(tmp_path):
    rules = tmp_path / "ramfleet-alerts.yml"
    rules.write_text(alert_rules())
    r = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout
