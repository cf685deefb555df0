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
        "      contents: {inline: \"{{hostname}}\\n\"}\n")
    (root / "profiles" / "worker.yaml").write_text(
        'kernel: vmlinuz\nargs: "cloud-config-url={{config_url}}"\nconfig: {target: cloud-config, layers: [node.bu]}\n')
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


def http(lab, path, *args):
    """curl from the client namespace to the boot listener: the status code."""
    r = lab.client("curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", *args,
                   f"http://{SERVER}:{HTTP_PORT}{path}", timeout=30)
    return int(r.stdout or 0)


def scrape(lab, rf):
    """GET /metrics on the operator listener, with serve's local admin token."""
    return operator_get(lab, rf, "/metrics")


def operator_get(lab, rf, path):
    from operator_api import operator_request  # tests/lib, helper `auth`
    r = operator_request(rf.state_dir, path, netns=lab.server_ns)
    assert r.status == 200, (r.status, r.text)
    assert r.headers.get("content-type", "").startswith("text/plain; version=0.0.4")
    return r.text


def test_a_scrape_passes_promtool_and_counts_what_was_sent(served):
    lab, rf = served
    before = scrape(lab, rf)
    promtool_check(before)

    # DHCP: three PXE machines get an address (DISCOVER/OFFER, REQUEST/ACK).
    macs = [MAC, "52:54:00:00:77:02", "52:54:00:00:77:03"]
    for mac in macs:
        [offers] = dhcp(lab, [{"mac": mac, "type": "discover", "xid": xid(), "broadcast": True,
                               "options": arch_options(0)}])
        assert len(offers) == 1, offers
        address = offers[0]["yiaddr"]
        [acks] = dhcp(lab, [{"mac": mac, "type": "request", "xid": xid(), "broadcast": True,
                             "options": [[50, ip_hex(address)], [54, ip_hex(SERVER)]] + arch_options(0)}])
        assert acks[0]["options"]["message-type"] == 5

    # TFTP: two transfers of the iPXE binary, one missing file.
    for i in range(2):
        r = lab.client("curl", "-sS", "--max-time", "20", "-o", lab.tmp / f"t{i}", f"tftp://{SERVER}/undionly.kpxe")
        assert r.returncode == 0, r.stderr
    r = lab.client("curl", "-sS", "--max-time", "20", "-o", "/dev/null", f"tftp://{SERVER}/missing.bin")
    assert r.returncode != 0

    # HTTP: the boot chain of MAC (script, kernel, config), and a 404.
    assert http(lab, "/boot.ipxe") == 200
    assert http(lab, f"/ipxe?mac={MAC}") == 200
    assert http(lab, "/assets/vmlinuz") == 200
    assert http(lab, f"/cloud-config?mac={MAC}") == 200
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
    post_ready(lab, rf, MAC)
    s = parse(scrape(lab, rf))
    assert value(s, "ramfleet_boot_seconds_count", profile="worker") == 1
    for phase in ("discover_to_ipxe", "ipxe_to_kernel", "kernel_to_config", "config_to_ready"):
        assert value(s, "ramfleet_boot_phase_seconds_count", profile="worker", phase=phase) == 1, phase
    assert value(s, "ramfleet_machines_known") == 1
    post_ready(lab, rf, MAC)  # a second report is stored but not a second boot
    assert value(parse(scrape(lab, rf)), "ramfleet_boot_seconds_count", profile="worker") == 1


def post_ready(lab, rf, mac):
    from operator_api import node_event  # tests/lib, helper `events`
    r = node_event(lab, rf, f"http://{SERVER}:{HTTP_PORT}", mac, {"phase": "ready"})
    assert r == 201, r


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
