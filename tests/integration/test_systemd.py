# Running under systemd (packaging/tern.service): the daemon speaks the sd_notify protocol to the
# socket $NOTIFY_SOCKET names (READY=1 once it serves, RELOADING=1 and READY=1 around SIGHUP,
# STOPPING=1 at SIGTERM), here a datagram socket of the test's own; and the unit file passes
# `systemd-analyze verify` with its paths pointed at the binary under test.
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def messages(sock, until, timeout=10.0):
    """Datagrams read until one holds `until`; returns them all."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            break
        if until in got[-1]:
            return got
    raise AssertionError(f"no {until!r} among {got}")


def test_readiness_reload_and_stop_are_notified(tern_factory, tmp_path):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        t = tern_factory(start=False)
        t.extra_env["NOTIFY_SOCKET"] = str(path)
        t.start()
        ready = messages(sock, "READY=1")
        assert f"STATUS=serving SMTP on 127.0.0.1:{t.port}" in ready[-1], ready
        # Ready means ready: the listener answers.
        with t.dialog() as d:
            assert d.cmd("NOOP").code == 250
        t.signal(signal.SIGHUP)
        reload = messages(sock, "READY=1")
        assert any("RELOADING=1" in m for m in reload), reload
        t.signal(signal.SIGTERM)
        assert any("STOPPING=1" in m for m in messages(sock, "STOPPING=1"))
        t.wait(15)


def test_abstract_socket_names_work_too(tern_factory):
    name = f"tern-test-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        t = tern_factory(start=False)
        t.extra_env["NOTIFY_SOCKET"] = "@" + name
        t.start()
        assert messages(sock, "READY=1")


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_the_unit_file_verifies(tern_binary, tmp_path):
    unit = (ROOT / "packaging" / "tern.service").read_text()
    assert "Type=notify" in unit
    local = tmp_path / "tern.service"
    local.write_text(unit.replace("/usr/local/bin/tern", tern_binary))
    r = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tern.service" not in r.stderr, r.stderr  # no warning about the unit itself
