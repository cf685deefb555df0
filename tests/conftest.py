import os
import shutil

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "lib"))

from netlab import NetLab, RAMFLEET_BIN


def pytest_configure(config):
    if os.geteuid() != 0:
        raise pytest.UsageError("integration tests need root (network namespaces); run them with sudo")
    if not os.access(RAMFLEET_BIN, os.X_OK):
        raise pytest.UsageError(f"ramfleet binary not found at {RAMFLEET_BIN}; build it first")


@pytest.fixture
def lab():
    """Two namespaces joined by veth: server rf0 10.77.0.1/24, client cl0 10.77.0.2/24."""
    with NetLab() as net:
        yield net
        if os.environ.get("RAMFLEET_KEEP_LOGS"):
            shutil.copytree(net.tmp, os.environ["RAMFLEET_KEEP_LOGS"], dirs_exist_ok=True)
    shutil.rmtree(net.tmp, ignore_errors=True)


@pytest.fixture
def bare_lab():
    """Like lab, but the client interface has no IPv4 address (a machine before DHCP)."""
    with NetLab(client_ip=False) as net:
        yield net
    shutil.rmtree(net.tmp, ignore_errors=True)
