"""`ramfleet compile --target cloud-config` output passes Debian's real
`cloud-init schema --config-file`; `--target apkovl` gives a reproducible
.tar.gz that GNU tar and busybox tar (what Alpine's initramfs uses) unpack to
the expected files, modes, links and OpenRC runlevel links."""
import gzip
import hashlib
import os
import stat
import subprocess

import yaml

from test_config_ignition import compile_cfg

HEAD = "variant: fcos\nversion: 1.4.0\n"

CLOUD = HEAD + """storage:
  files:
    - path: /etc/hostname
      contents:
        inline: "{{hostname}}\\n"
    - path: /etc/app/app.conf
      mode: 0600
      user: {name: core}
      group: {name: core}
      contents:
        inline: |
          role={{labels.role}}
      append:
        - inline: "extra=1\\n"
    - path: /etc/app/blob
      user: {id: 1000}
      contents:
        local: blob.gz
        compression: gzip
  directories:
    - path: /var/lib/app
      mode: 0750
      user: {id: 1000}
  links:
    - path: /usr/local/bin/app
      target: /opt/app/bin/app
      overwrite: true
systemd:
  units:
    - name: app.service
      enabled: true
      contents: |
        [Service]
        ExecStart=/bin/true
      dropins:
        - name: 10-env.conf
          contents: "[Service]\\nEnvironment=A=1\\n"
    - name: debug-shell.service
      mask: true
passwd:
  users:
    - name: core
      uid: 1000
      password_hash: "$6$rounds=4096$salt$hash"
      ssh_authorized_keys: ["ssh-ed25519 AAAAC3Nza core@{{hostname}}"]
      groups: [wheel, ops]
      shell: /bin/bash
      home_dir: /home/core
  groups:
    - name: ops
"""


def cloud_init_schema(path):
    proc = subprocess.run(["cloud-init", "schema", "--config-file", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Valid cloud-config" in proc.stdout


def test_cloud_config_passes_cloud_init_schema(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "blob.gz").write_bytes(gzip.compress(b"\x00\x01binary\xff"))
    out = tmp_path / "user-data"
    compile_cfg(tmp_path, {"m.bu": CLOUD}, "--target", "cloud-config", "--files-dir", str(files), "--strict",
                "--var", "hostname=node-3", "--var", "labels.role=db", "-o", str(out))
    cloud_init_schema(out)
    text = out.read_text()
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    assert doc["hostname"] == "node-3"
    by_path = {}
    for w in doc["write_files"]:
        by_path.setdefault(w["path"], []).append(w)
    conf = by_path["/etc/app/app.conf"]
    assert conf[0]["content"] == "role=db\n" and conf[0]["permissions"] == "0600" and conf[0]["owner"] == "core:core"
    assert conf[1]["append"] is True and conf[1]["content"] == "extra=1\n"
    assert by_path["/etc/app/blob"][0]["encoding"] == "gz+b64"
    assert by_path["/etc/systemd/system/app.service.d/10-env.conf"][0]["content"] == "[Service]\nEnvironment=A=1\n"
    assert doc["users"][0]["ssh_authorized_keys"] == ["ssh-ed25519 AAAAC3Nza core@node-3"]
    assert doc["groups"] == ["ops"]
    cmds = [" ".join(c) for c in doc["runcmd"]]
    assert "chown 1000 /etc/app/blob" in cmds and "chown 1000 /var/lib/app" in cmds
    assert "ln -s -f -n /opt/app/bin/app /usr/local/bin/app" in cmds
    assert cmds[-3:] == ["systemctl daemon-reload", "systemctl enable --now app.service",
                         "systemctl mask --now debug-shell.service"]


def test_minimal_and_users_only_cloud_configs_pass_schema(tmp_path):
    for i, text in enumerate([HEAD, HEAD + "passwd:\n  users:\n    - name: a\n      system: true\n"]):
        out = tmp_path / f"ud{i}"
        compile_cfg(tmp_path, {f"m{i}.bu": text}, "--target", "cloud-config", "-o", str(out))
        cloud_init_schema(out)


def test_cloud_config_refuses_what_it_cannot_express(tmp_path):
    text = HEAD + "kernel_arguments:\n  should_exist: [quiet]\nstorage:\n  files:\n    - path: /x\n" \
                  "      contents: {source: 'https://example.com/x'}\n"
    proc = compile_cfg(tmp_path, {"m.bu": text}, "--target", "cloud-config", check=False)
    assert proc.returncode == 1 and proc.stdout == b""
    err = proc.stderr.decode()
    assert f"{tmp_path}/m.bu:4:18: error: kernel_arguments" in err
    assert f"{tmp_path}/m.bu:8:17: error: remote source 'https://example.com/x' cannot be expressed" in err


APK = HEAD + """storage:
  files:
    - path: /etc/hostname
      contents:
        inline: "{{hostname}}\\n"
    - path: /etc/conf.d/app
      mode: 0600
      user: {id: 1000}
      group: {id: 1000}
      contents:
        inline: "ROLE={{labels.role}}\\n"
    - path: /etc/init.d/app
      mode: 0755
      contents:
        local: app.initd
  directories:
    - path: /var/lib/app
      mode: 0700
  links:
    - path: /etc/localtime
      target: /usr/share/zoneinfo/UTC
systemd:
  units:
    - name: sshd.service
      enabled: true
    - name: app.service
      enabled: true
passwd:
  users:
    - name: root
      ssh_authorized_keys: ["ssh-ed25519 AAAA root@x"]
    - name: alice
      uid: 1000
      groups: [wheel]
"""


def build_apkovl(tmp_path, name):
    files = tmp_path / "files"
    files.mkdir(exist_ok=True)
    (files / "app.initd").write_text("#!/sbin/openrc-run\ncommand=/usr/bin/app\n")
    out = tmp_path / name
    compile_cfg(tmp_path, {"m.bu": APK}, "--target", "apkovl", "--files-dir", str(files), "--strict",
                "--var", "hostname=alp-1", "--var", "labels.role=edge", "-o", str(out))
    return out


def check_tree(root):
    assert (root / "etc/hostname").read_text() == "alp-1\n"
    assert (root / "etc/conf.d/app").read_text() == "ROLE=edge\n"
    st = (root / "etc/conf.d/app").stat()
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 1000 and st.st_gid == 1000
    assert stat.S_IMODE((root / "etc/init.d/app").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "var/lib/app").stat().st_mode) == 0o700
    assert os.readlink(root / "etc/localtime") == "/usr/share/zoneinfo/UTC"
    assert os.readlink(root / "etc/runlevels/default/sshd") == "/etc/init.d/sshd"
    assert os.readlink(root / "etc/runlevels/default/app") == "/etc/init.d/app"
    assert os.readlink(root / "etc/runlevels/default/local") == "/etc/init.d/local"
    assert (root / "etc/.default_boot_services").exists()
    script = (root / "etc/local.d/ramfleet-users.start").read_text()
    assert "adduser -D -u 1000 'alice'" in script and "addgroup 'alice' 'wheel'" in script
    assert "ssh-ed25519 AAAA root@x" in script


def test_apkovl_unpacks_with_gnu_and_busybox_tar(tmp_path):
    ovl = build_apkovl(tmp_path, "a.apkovl.tar.gz")
    subprocess.run(["gzip", "-t", str(ovl)], check=True, timeout=30)
    listing = subprocess.run(["tar", "-tzf", str(ovl)], capture_output=True, text=True, check=True,
                             timeout=30).stdout.split()
    assert listing == sorted(listing) and "etc/" in listing and "etc/hostname" in listing
    for tool in (["tar", "--same-owner", "-xpzf"], ["busybox", "tar", "-xzf"]):
        root = tmp_path / ("root-" + tool[0])
        root.mkdir()
        subprocess.run([*tool, str(ovl), "-C", str(root)], check=True, timeout=30)
        check_tree(root)


def test_apkovl_is_reproducible(tmp_path):
    a = build_apkovl(tmp_path, "a.tar.gz").read_bytes()
    b = build_apkovl(tmp_path, "b.tar.gz").read_bytes()
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()


def test_apkovl_refuses_systemd_unit_contents(tmp_path):
    text = HEAD + "systemd:\n  units:\n    - name: a.service\n      contents: '[Service]'\n"
    proc = compile_cfg(tmp_path, {"m.bu": text}, "--target", "apkovl", "-o", str(tmp_path / "x.tar.gz"), check=False)
    assert proc.returncode == 1
    assert f"{tmp_path}/m.bu:6:17: error: systemd unit contents for a.service" in proc.stderr.decode()
    assert not (tmp_path / "x.tar.gz").exists()
