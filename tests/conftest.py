"""Shared fixtures: network blocked for the whole run, the built graph once per session, tool probes."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ONTOLOGY = REPO / "ontology"
EXPORTS = REPO / "exports"
CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Nothing may reach the network: connections to anything but loopback raise."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def guard(address):
        if isinstance(address, tuple) and not _is_loopback(address):
            raise ConnectionRefusedError(f"test suite blocks network access to {address!r}")

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_loopback((host,)) and host not in ("127.0.0.1", "::1"):
            raise socket.gaierror(f"test suite blocks name lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
    yield
    socket.socket.connect = real_connect
    socket.socket.connect_ex = real_connect_ex
    socket.getaddrinfo = real_getaddrinfo


def require_tool(available: bool, what: str) -> None:
    """Skip with a clear reason when a component is absent; under CI=true, fail instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} is not available on this machine")


@pytest.fixture(scope="session")
def java():
    require_tool(shutil.which("java") is not None, "Java (for HermiT)")
    return shutil.which("java")


@pytest.fixture(scope="session")
def chromium():
    require_tool(os.path.exists(CHROMIUM), f"Chromium at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture(scope="session")
def kg():
    """The packaged graph, loaded once (no reasoning)."""
    import bmlkg

    return bmlkg.load()


@pytest.fixture(scope="session")
def built(tmp_path_factory, java):
    """One full `bmlkg build` into a temporary folder, shared by the tests that read its output."""
    out = tmp_path_factory.mktemp("build") / "exports"
    proc = run_cli("build", "--out", str(out))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return out


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, input: str | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the installed `bmlkg` command in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bmlkg.cli", *args], cwd=cwd or REPO, env=full_env, input=input,
        capture_output=True, text=True, timeout=timeout,
    )
