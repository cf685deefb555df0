"""`ramfleet serve`, `check` and `version` as an operator meets them."""
import subprocess
from pathlib import Path

from netlab import RAMFLEET_BIN


def ramfleet(*args, timeout=10):
    return subprocess.run([RAMFLEET_BIN, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_version_prints_the_version():
    r = ramfleet("version")
    assert r.returncode == 0
    assert r.stdout.startswith("ramfleet ")


def test_check_reports_file_line_column_and_fails(tmp_path):
    (tmp_path / "ramfleet.yaml").write_text("dhcp:\n  mode: sideways\n")
    r = ramfleet("check", tmp_path)
    assert r.returncode == 1
    assert f"{tmp_path}/ramfleet.yaml:2:9: error: dhcp.mode must be proxy, full or off" in r.stderr


def test_check_passes_a_good_config(tmp_path):
    (tmp_path / "ramfleet.yaml").write_text("dhcp:\n  mode: proxy\n")
    r = ramfleet("check", tmp_path)
    assert r.returncode == 0, r.stderr


def test_check_reads_the_store_limits(tmp_path):
    (tmp_path / "ramfleet.yaml").write_text("store:\n  boot_history: 20\n  event_max_age: 7d\n  max_db_bytes: 256MiB\n")
    assert ramfleet("check", tmp_path).returncode == 0
    (tmp_path / "ramfleet.yaml").write_text("store:\n  event_max_age: a while\n")
    r = ramfleet("check", tmp_path)
    assert r.returncode == 1
    assert f"{tmp_path}/ramfleet.yaml:2:18: error: store.event_max_age must be a positive duration" in r.stderr


def test_serve_refuses_a_broken_config_before_binding(tmp_path):
    (tmp_path / "ramfleet.yaml").write_text("tftp:\n  port: seventy\n")
    r = ramfleet("serve", "--dhcp", "off", "--config", tmp_path, "--state", tmp_path / "state")
    assert r.returncode == 2
    assert "ramfleet.yaml:2:9: error: tftp.port must be an integer" in r.stderr


def test_serve_needs_an_interface_for_dhcp(tmp_path):
    r = ramfleet("serve", "--state", tmp_path)
    assert r.returncode == 2
    assert "--interface" in r.stderr


def test_serve_names_a_missing_interface(tmp_path):
    r = ramfleet("serve", "--interface", "nosuchif0", "--state", tmp_path)
    assert r.returncode == 2
    assert "nosuchif0" in r.stderr


def test_full_mode_without_a_pool_is_refused(lab):
    r = lab.server(RAMFLEET_BIN, "serve", "--interface", lab.SERVER_IF, "--dhcp", "full",
                   "--state", lab.tmp / "st", timeout=10)
    assert r.returncode == 2
    assert "pool" in r.stderr


def test_serve_starts_and_stops_cleanly_on_sigterm(lab):
    rf = lab.start_ramfleet("--interface", lab.SERVER_IF, "--dhcp", "full", "--pool", "10.77.0.100-10.77.0.120",
                            "--tftp-port", "69", "--http-port", "-1")
    assert "event=serve.ready" in rf.log()
    rf.stop()
    assert rf.proc.returncode == 0
    assert "event=serve.stop" in rf.log()
