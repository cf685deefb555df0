"""`ramfleet compile` -> Ignition: every output passes Debian's real
`ignition-validate` (ignition 2.14: specs 3.0.0-3.3.0), and a layered,
templated config is applied by the real Ignition binary to a scratch root,
whose files, directories, links, units and users are then checked on disk.
Errors come out as file:line:column and leave no output file behind."""
import json
import os
import pathlib
import shutil
import stat
import subprocess
import tempfile

import pytest

IGNITION = "/usr/lib/dracut/modules.d/30ignition/ignition"


def ramfleet():
    return os.environ["RAMFLEET_BIN"]


def compile_cfg(tmp_path, files, *args, check=True):
    """Writes {name: text} layers under tmp_path and runs ramfleet compile on them in order."""
    paths = []
    for name, text in files.items():
        p = tmp_path / name
        p.write_text(text)
        paths.append(str(p))
    proc = subprocess.run([ramfleet(), "compile", *args, *paths], capture_output=True, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr.decode()
    return proc


def validate(path):
    proc = subprocess.run(["ignition-validate", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"ignition-validate {path}: {proc.stdout}{proc.stderr}"


SPEC_EXAMPLES = {
    # variant/version -> Ignition spec Butane documents for it
    ("fcos", "1.0.0"): "3.0.0",
    ("fcos", "1.1.0"): "3.1.0",
    ("fcos", "1.2.0"): "3.2.0",
    ("fcos", "1.3.0"): "3.2.0",
    ("fcos", "1.4.0"): "3.3.0",
    ("flatcar", "1.0.0"): "3.3.0",
}

COMMON = """
storage:
  files:
    - path: /etc/motd
      mode: 0644
      overwrite: true
      contents:
        inline: |
          hello {{hostname}}
      append:
        - inline: "appended\\n"
    - path: /opt/bin/tool
      mode: 0755
      user: {id: 0}
      group: {name: root}
      contents:
        source: https://example.com/tool
        verification:
          hash: sha512-cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e
  directories:
    - path: /var/lib/app
      mode: 0750
  links:
    - path: /etc/localtime
      target: /usr/share/zoneinfo/UTC
    - path: /opt/bin/tool2
      target: /opt/bin/tool
      hard: true
systemd:
  units:
    - name: app.service
      enabled: true
      contents: |
        [Service]
        ExecStart=/bin/true
        [Install]
        WantedBy=multi-user.target
      dropins:
        - name: 10-env.conf
          contents: "[Service]\\nEnvironment=A=1\\n"
    - name: debug-shell.service
      mask: true
passwd:
  users:
    - name: core
      ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample core@{{hostname}}"]
      groups: [wheel]
      password_hash: "$6$rounds=4096$salt$hash"
  groups:
    - name: ops
      gid: 4242
"""


@pytest.mark.parametrize("variant,version", list(SPEC_EXAMPLES))
def test_every_variant_version_validates(tmp_path, variant, version):
    text = f"variant: {variant}\nversion: {version}\n" + COMMON
    spec = SPEC_EXAMPLES[(variant, version)]
    if spec >= "3.3.0":
        text += "kernel_arguments:\n  should_exist: [quiet]\n  should_not_exist: [debug]\n"
    if spec >= "3.2.0":
        text = text.replace("  groups:\n    - name: ops", "    - name: olduser\n      should_exist: false\n"
                            "  groups:\n    - name: ops")
    out = tmp_path / "out.ign"
    compile_cfg(tmp_path, {"m.bu": text}, "--var", "hostname=n1", "--pretty", "-o", str(out))
    cfg = json.loads(out.read_text())
    assert cfg["ignition"]["version"] == spec
    assert cfg["passwd"]["users"][0]["name"] == "core"
    validate(out)


@pytest.mark.parametrize("spec", ["3.0.0", "3.1.0", "3.2.0", "3.3.0"])
def test_forced_spec_validates(tmp_path, spec):
    out = tmp_path / "out.ign"
    compile_cfg(tmp_path, {"m.bu": "variant: fcos\nversion: 1.4.0\n" + COMMON}, "--var", "hostname=n1",
                "--ignition-version", spec, "-o", str(out))
    assert json.loads(out.read_text())["ignition"]["version"] == spec
    validate(out)


def test_newer_feature_on_old_spec_is_an_error(tmp_path):
    proc = compile_cfg(tmp_path, {"m.bu": "variant: fcos\nversion: 1.0.0\nkernel_arguments:\n  should_exist:\n"
                                          "    - quiet\n"}, check=False)
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith(f"{tmp_path}/m.bu:5:7: error: kernel_arguments needs Ignition spec 3.3.0")
    assert proc.stdout == b""


CLUSTER = """variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/motd
      mode: 0644
      contents:
        inline: "cluster {{cluster.name}}\\n"
    - path: /etc/removed-later
      contents:
        inline: x
    - path: /etc/app/app.conf
      contents:
        local: app.conf
  trees:
    - local: tree
      path: /opt/tree
  directories:
    - path: /srv/data
      mode: 0700
systemd:
  units:
    - name: app.service
      enabled: true
      contents: |
        [Unit]
        Description=app on {{hostname}}
        [Service]
        ExecStart=/bin/true
        [Install]
        WantedBy=multi-user.target
passwd:
  users:
    - name: core
      ssh_authorized_keys: ["ssh-ed25519 AAAAcluster core"]
  groups:
    - name: ops
      gid: 4242
"""

ROLE = """storage:
  files:
    - path: /etc/role
      contents:
        inline: "{{labels.role}}\\n"
  links:
    - path: /etc/localtime
      target: /usr/share/zoneinfo/UTC
systemd:
  units:
    - name: app.service
      dropins:
        - name: 10-role.conf
          contents: "[Service]\\nEnvironment=ROLE={{labels.role}}\\n"
    - name: debug-shell.service
      mask: true
"""

MACHINE = """storage:
  files:
    - path: /etc/motd
      append:
        - inline: "machine {{hostname}} {{mac}}\\n"
    - path: /etc/removed-later
      ramfleet.remove: true
passwd:
  users:
    - name: core
      ssh_authorized_keys: ["ssh-ed25519 AAAAmachine core"]
      groups: [ops]
"""


def apply_ignition(config, work):
    """Runs the real Ignition (fetch-offline, then files) against a scratch root."""
    root = work / "root"
    (root / "etc/selinux").mkdir(parents=True)
    # Debian's build relabels at the end of the files stage: a no-op setfiles and a policy name.
    (root / "etc/selinux/config").write_text("SELINUXTYPE=targeted\n")
    bindir = work / "bin"
    bindir.mkdir()
    (bindir / "setfiles").write_text("#!/bin/sh\nexit 0\n")
    (bindir / "setfiles").chmod(0o755)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\nwheel:x:10:\nusers:x:100:\n")
    (root / "etc/shadow").write_text("root:*:19000:0:99999:7:::\n")
    (root / "etc/gshadow").write_text("root:*::\nwheel:*::\nusers:*::\n")
    env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", IGNITION_CONFIG_FILE=str(config))
    common = ["-platform", "file", "-config-cache", str(work / "cache.json"), "-state-file", str(work / "state"),
              "-neednet", str(work / "neednet"), "-log-to-stdout"]
    for stage in (["-stage", "fetch-offline"], ["-stage", "files", "-root", str(root)]):
        proc = subprocess.run([IGNITION, *stage, *common], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Ignition finished successfully" in proc.stdout, proc.stdout
    return root


def test_layers_applied_by_real_ignition(tmp_path):
    files = tmp_path / "files"
    (files / "tree/bin").mkdir(parents=True)
    (files / "app.conf").write_text("from files-dir\n")
    (files / "tree/bin/run.sh").write_text("#!/bin/sh\necho run\n")
    (files / "tree/bin/run.sh").chmod(0o755)
    (files / "tree/README").write_text("readme\n")
    os.symlink("run.sh", files / "tree/bin/run")
    out = tmp_path / "node.ign"
    compile_cfg(tmp_path, {"cluster.bu": CLUSTER, "role.bu": ROLE, "machine.bu": MACHINE},
                "--files-dir", str(files), "--strict", "--var", "hostname=node-7", "--var", "mac=52:54:00:00:00:07",
                "--var", "labels.role=worker", "--var", "cluster.name=alpha", "-o", str(out))
    validate(out)
    # Ignition writes ssh keys as the user itself: the scratch root's parents must be
    # traversable by uid 1000, which pytest's private tmp_path is not.
    work = pathlib.Path(tempfile.mkdtemp(prefix=f"ramfleet-ign-{os.getpid()}-"))
    try:
        work.chmod(0o755)
        check_applied_root(apply_ignition(out, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_applied_root(root):

    assert (root / "etc/motd").read_text() == "cluster alpha\nmachine node-7 52:54:00:00:00:07\n"
    assert stat.S_IMODE((root / "etc/motd").stat().st_mode) == 0o644
    assert not (root / "etc/removed-later").exists()
    assert (root / "etc/role").read_text() == "worker\n"
    assert (root / "etc/app/app.conf").read_text() == "from files-dir\n"
    assert (root / "opt/tree/bin/run.sh").read_text() == "#!/bin/sh\necho run\n"
    assert stat.S_IMODE((root / "opt/tree/bin/run.sh").stat().st_mode) == 0o755
    assert (root / "opt/tree/README").read_text() == "readme\n"
    assert os.readlink(root / "opt/tree/bin/run") == "run.sh"
    assert os.readlink(root / "etc/localtime") == "/usr/share/zoneinfo/UTC"
    assert (root / "srv/data").is_dir() and stat.S_IMODE((root / "srv/data").stat().st_mode) == 0o700

    units = root / "etc/systemd/system"
    assert "Description=app on node-7" in (units / "app.service").read_text()
    assert (units / "app.service.d/10-role.conf").read_text() == "[Service]\nEnvironment=ROLE=worker\n"
    assert os.readlink(units / "debug-shell.service") == "/dev/null"
    preset = (root / "etc/systemd/system-preset/20-ignition.preset").read_text()
    assert "enable app.service" in preset

    passwd = {line.split(":")[0]: line.split(":") for line in (root / "etc/passwd").read_text().splitlines()}
    assert "core" in passwd
    groups = {line.split(":")[0]: line.split(":") for line in (root / "etc/group").read_text().splitlines()}
    assert groups["ops"][2] == "4242"
    assert "core" in groups["ops"][3].split(",")
    keys = (root / "home/core/.ssh/authorized_keys.d/ignition").read_text()
    assert "ssh-ed25519 AAAAcluster core" in keys and "ssh-ed25519 AAAAmachine core" in keys


def test_missing_template_variable_names_file_line_column_and_writes_nothing(tmp_path):
    out = tmp_path / "node.ign"
    proc = compile_cfg(tmp_path, {"cluster.bu": CLUSTER, "role.bu": ROLE}, "--var", "hostname=n",
                       "--var", "cluster.name=a", "-o", str(out), check=False)
    assert proc.returncode == 1
    err = proc.stderr.decode().splitlines()
    # ROLE line 5: `        inline: "{{labels.role}}\n"`; the tag starts at column 18.
    assert f"{tmp_path}/role.bu:5:18: error: template variable 'labels.role' is not defined for this machine" in err
    assert not out.exists()


def test_strict_fails_on_unknown_key(tmp_path):
    text = "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /a\n      mdoe: 0644\n"
    ok = compile_cfg(tmp_path, {"m.bu": text})
    assert f"{tmp_path}/m.bu:6:7: warning: unknown key 'mdoe' in file" in ok.stderr.decode()
    strict = compile_cfg(tmp_path, {"m.bu": text}, "--strict", check=False)
    assert strict.returncode == 1 and strict.stdout == b""
