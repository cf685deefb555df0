"""Node configs served per machine by the real `ramfleet serve --dhcp off` on
127.0.0.1: layers cluster -> role -> group -> machine chosen by the inventory,
Ignition checked by `ignition-validate`, cloud-config by `cloud-init schema`,
the apkovl listed by tar; compiled once and cached (same ETag, 304), a config
edit served at once, a broken layer answered with an error naming
file:line:col (never a partial config), and `ramfleet check` reporting it."""
import base64
import json
import shutil
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

import pytest

from loopback_serve import LoopbackServe, fetch
from netlab import RAMFLEET_BIN, SOURCE_DIR

LAYERS = {
    "cluster.bu": """variant: fcos
version: 1.4.0
passwd:
  users:
    - name: core
      ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICluster cluster@test"]
storage:
  files:
    - path: /etc/ramfleet/cluster
      mode: 0644
      contents: {inline: "cluster={{cluster.name}} mac={{mac}}\\n"}
""",
    "roles/worker.bu": """storage:
  files:
    - path: /etc/ramfleet/role
      contents: {inline: "role={{group.role}}\\n"}
systemd:
  units:
    - name: worker.service
      enabled: true
      contents: "[Service]\\nExecStart=/usr/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n"
""",
    "groups/rack1.bu": """storage:
  files:
    - path: /etc/ramfleet/rack
      contents: {inline: "rack={{labels.rack}}\\n"}
""",
    "machines/52-54-00-00-00-01.bu": """storage:
  files:
    - path: /etc/hostname
      contents: {inline: "first\\n"}
    - path: /etc/ramfleet/role
      contents: {inline: "role=first-worker\\n"}
passwd:
  users:
    - name: core
      ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMachine machine@test"]
""",
    "cloud.bu": """variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/hostname
      contents: {inline: "{{hostname}}\\n"}
    - path: /etc/app.conf
      mode: 0600
      contents: {inline: "server={{server}}\\n"}
passwd:
  users:
    - name: ops
      ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOps ops@test"]
""",
    "alpine.bu": """variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/hostname
      contents: {inline: "{{hostname}}\\n"}
    - path: /etc/motd
      contents: {inline: "welcome to {{cluster.name}}\\n"}
systemd:
  units:
    - name: sshd.service
      enabled: true
""",
}

PROFILES = {
    "flatcar": """kernel: flatcar_production_pxe.vmlinuz
initrds: [flatcar_production_pxe_image.cpio.gz]
args: ["flatcar.first_boot=1", "ignition.config.url={{ignition_url}}", "check={{config_url}}"]
config:
  target: ignition
  layers: [cluster.bu, "roles/{{group.role}}.bu"]
  machine_layers:
    - {path: "machines/{{mac_hyphen}}.bu", optional: true}
""",
    "ubuntu": """kernel: vmlinuz
args: "cloud-config-url={{config_url}}"
config: {target: cloud-config, layers: [cloud.bu]}
""",
    "alpine": """kernel: alpine/vmlinuz
args: "apkovl={{apkovl_url}}"
config: {target: apkovl, layers: [alpine.bu]}
""",
    "plain": "kernel: vmlinuz\n",
}

GROUPS = {
    "first": 'profile: flatcar\nselector: {mac: "52:54:00:00:00:01"}\nmetadata: {role: worker}\n',
    "rack1": 'profile: flatcar\nselector: {mac: "52:54:00:*", labels: {rack: r1}}\nmetadata: {role: worker}\n'
             "config: {layers: [groups/rack1.bu]}\n",
    "cloud": 'profile: ubuntu\nselector: {hostname: "cc-*"}\n',
    "alpine": 'profile: alpine\nselector: {hostname: "alp-*"}\n',
    "plain": 'profile: plain\nselector: {hostname: "plain-*"}\n',
}


def write_config(root):
    for sub, files in (("configs", LAYERS), ("profiles", {f"{k}.yaml": v for k, v in PROFILES.items()}),
                       ("groups", {f"{k}.yaml": v for k, v in GROUPS.items()})):
        for name, text in files.items():
            p = root / sub / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
    (root / "inventory.yaml").write_text("default: exit\ncluster: {name: alpha}\n")
    (root / "http.yaml").write_text("reload_interval_ms: 200\n")


@pytest.fixture
def server():
    tmp = tempfile.mkdtemp(prefix="rf-cfgserve-")
    s = LoopbackServe(tmp)
    write_config(s.config)
    s.start()
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def ipxe_arg(script, key):
    for line in script.splitlines():
        if line.startswith("kernel "):
            for word in line.split():
                if word.startswith(key + "="):
                    return word[len(key) + 1:]
    raise AssertionError(f"{key}= not in kernel line:\n{script}")


def data_url(source):
    assert source.startswith("data:"), source
    meta, _, data = source[5:].partition(",")
    return base64.b64decode(data).decode() if meta.endswith(";base64") else urllib.parse.unquote(data)


def ignition_files(cfg):
    return {f["path"]: data_url(f["contents"]["source"]) for f in cfg["storage"]["files"]}


def validate_ignition(tmp, body):
    path = Path(tmp) / "served.ign"
    path.write_bytes(body)
    proc = subprocess.run(["ignition-validate", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ignition_layers_per_machine_from_the_ipxe_url(server):
    script = server.fetch("/ipxe?mac=52:54:00:00:00:01&arch=x86_64").body.decode()
    url = ipxe_arg(script, "ignition.config.url")
    assert url == f"{server.base}/ignition/mac=52:54:00:00:00:01/arch=x86_64"
    assert ipxe_arg(script, "check") == url  # {{config_url}} is the profile target's URL

    r = fetch(url)
    assert r.status == 200, r.body
    assert r.headers["content-type"] == "application/vnd.coreos.ignition+json"
    validate_ignition(server.tmp, r.body)
    cfg = json.loads(r.body)
    assert cfg["ignition"]["version"] == "3.3.0"
    files = ignition_files(cfg)
    # cluster layer (templated), role layer overridden by the machine layer, no rack layer (other group).
    assert files["/etc/ramfleet/cluster"] == "cluster=alpha mac=52:54:00:00:00:01\n"
    assert files["/etc/ramfleet/role"] == "role=first-worker\n"
    assert files["/etc/hostname"] == "first\n"
    assert "/etc/ramfleet/rack" not in files
    core = next(u for u in cfg["passwd"]["users"] if u["name"] == "core")
    assert len(core["sshAuthorizedKeys"]) == 2  # cluster key + machine key appended
    assert any(u["name"] == "worker.service" and u["enabled"] for u in cfg["systemd"]["units"])

    # Another machine in rack 1: the group layer, no machine layer; facts from the query work too.
    r = server.fetch("/ignition?mac=52:54:00:00:00:07&rack=r1")
    assert r.status == 200, r.body
    validate_ignition(server.tmp, r.body)
    files = ignition_files(json.loads(r.body))
    assert files["/etc/ramfleet/rack"] == "rack=r1\n"
    assert files["/etc/ramfleet/role"] == "role=worker\n"
    assert "/etc/hostname" not in files


def test_cloud_config_passes_cloud_init_schema(server):
    script = server.fetch("/ipxe?mac=52:54:00:00:00:21&hostname=cc-1").body.decode()
    url = ipxe_arg(script, "cloud-config-url")
    assert url.startswith(f"{server.base}/cloud-config/mac=52:54:00:00:00:21/hostname=cc-1")
    r = fetch(url)
    assert r.status == 200, r.body
    assert r.headers["content-type"] == "text/cloud-config"
    text = r.body.decode()
    assert text.startswith("#cloud-config\n")
    assert 'hostname: "cc-1"' in text
    assert f"server={server.base}" in text
    path = server.tmp / "served.yaml"
    path.write_bytes(r.body)
    proc = subprocess.run(["cloud-init", "schema", "--config-file", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_apkovl_lists_expected_files(server):
    script = server.fetch("/ipxe?mac=52:54:00:00:00:31&hostname=alp-1").body.decode()
    r = fetch(ipxe_arg(script, "apkovl"))
    assert r.status == 200, r.body
    assert r.headers["content-type"] == "application/gzip"
    path = server.tmp / "served.apkovl.tar.gz"
    path.write_bytes(r.body)
    listing = subprocess.run(["tar", "-tzf", str(path)], capture_output=True, text=True, check=True,
                             timeout=30).stdout.split()
    for name in ("etc/hostname", "etc/motd", "etc/.default_boot_services", "etc/runlevels/default/sshd"):
        assert name in listing, listing
    out = subprocess.run(["tar", "-xzOf", str(path), "etc/hostname"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    assert out == "alp-1\n"


def test_compiled_once_etag_304_and_edits_served(server):
    path = "/ignition/mac=52:54:00:00:00:01"
    first = server.fetch(path)
    assert first.status == 200
    etag = first.headers["etag"]
    misses = server.counters().get("http.config.cache_miss", 0)
    second = server.fetch(path)
    assert second.status == 200 and second.headers["etag"] == etag and second.body == first.body
    c = server.counters()
    assert c.get("http.config.cache_miss", 0) == misses  # not recompiled
    assert c.get("http.config.cache_hit", 0) >= 1
    assert server.fetch(path, "-H", f"If-None-Match: {etag}").status == 304
    assert server.fetch(path, "-H", 'If-None-Match: "other"').status == 200
    head = fetch(server.base + path, "-I")
    assert head.status == 200 and head.headers["etag"] == etag

    # An edit of a layer file (not of the inventory YAML) is a new version.
    server.edit("configs/cluster.bu", LAYERS["cluster.bu"].replace("cluster={{cluster.name}}", "edited={{cluster.name}}"))
    third = server.fetch(path)
    assert third.status == 200 and third.headers["etag"] != etag
    assert ignition_files(json.loads(third.body))["/etc/ramfleet/cluster"].startswith("edited=alpha")
    assert server.fetch(path, "-H", f"If-None-Match: {etag}").status == 200


def test_broken_layer_is_an_error_with_file_line_col_never_a_partial_config(server):
    layer = server.config / "configs/roles/worker.bu"
    broken = LAYERS["roles/worker.bu"].replace("role={{group.role}}", "role={{group.missing}}")
    server.edit("configs/roles/worker.bu", broken)
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "group.missing" in text)
    col = broken.splitlines()[line - 1].index("{{group.missing}}") + 1
    failed = server.counters().get("http.config.compile_failed", 0)
    for _ in range(2):  # the failure is cached too, and answered the same way
        r = server.fetch("/ignition/mac=52:54:00:00:00:01")
        assert r.status == 500
        assert "ignition" not in r.headers.get("content-type", "")
        err = r.json()["error"]
        assert f"{layer}:{line}:{col}: error: template variable 'group.missing'" in err, err
        assert '"storage"' not in r.body.decode()
    assert server.counters()["http.config.compile_failed"] == failed + 2
    assert f"{layer}:{line}:{col}" in server.log_path.read_text()
    # Machines whose layers do not include it still get theirs.
    assert server.fetch("/cloud-config?mac=52:54:00:00:00:21&hostname=cc-1").status == 200
    # Fixed: served again.
    server.edit("configs/roles/worker.bu", LAYERS["roles/worker.bu"])
    assert server.fetch("/ignition/mac=52:54:00:00:00:01").status == 200


def test_requests_without_a_config_get_clear_errors(server):
    r = server.fetch("/ignition?mac=52:54:00:00:00:41&hostname=plain-1")
    assert r.status == 404 and "has no config" in r.json()["error"]
    r = server.fetch("/cloud-config/mac=52:54:00:00:00:01")
    assert r.status == 404 and "serves its config as ignition" in r.json()["error"]
    assert server.fetch("/ignition?mac=aa:bb:cc:dd:ee:ff").status == 404  # unmatched, default exit
    assert server.fetch("/ignition?hostname=cc-1").status == 400  # no identity
    assert server.fetch("/ignition/mac=zz").status == 400
    assert server.fetch("/ignition/not-a-fact").status == 400
    assert fetch(server.base + "/ignition?mac=52:54:00:00:00:01", "-X", "POST").status == 405


def test_check_reports_config_errors_with_file_line_col(tmp_path):
    write_config(tmp_path)
    ok = subprocess.run([RAMFLEET_BIN, "check", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    bad = LAYERS["groups/rack1.bu"] + "    - path: etc/relative\n      contents: {inline: x}\n"
    (tmp_path / "configs/groups/rack1.bu").write_text(bad)
    (tmp_path / "configs/alpine.bu").write_text(LAYERS["alpine.bu"].replace("{{cluster.name}}", "{{cluster.nope}}"))
    r = subprocess.run([RAMFLEET_BIN, "check", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert f"{tmp_path}/configs/groups/rack1.bu:5:13: error:" in r.stderr and "group 'rack1'" in r.stderr, r.stderr
    line = next(i for i, t in enumerate(LAYERS["alpine.bu"].splitlines(), 1) if "cluster.name" in t)
    assert f"{tmp_path}/configs/alpine.bu:{line}:" in r.stderr and "'cluster.nope'" in r.stderr, r.stderr
    # A layer the inventory lists that does not exist is an inventory error at the list entry.
    (tmp_path / "configs/cloud.bu").unlink()
    r = subprocess.run([RAMFLEET_BIN, "check", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and f"{tmp_path}/profiles/ubuntu.yaml:3:" in r.stderr and "cloud.bu" in r.stderr, r.stderr


def test_example_inventory_passes_check():
    r = subprocess.run([RAMFLEET_BIN, "check", str(SOURCE_DIR / "docs/examples/inventory")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
