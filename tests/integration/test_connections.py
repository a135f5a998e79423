# Scale of idle sessions: 1,000 open connections each get their greeting, a fresh client is still
# served at once, and the daemon's thread count does not grow with the connections.
import resource
import selectors
import socket
import time

import pytest

IDLE_CONNECTIONS = 1000


@pytest.fixture
def enough_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = IDLE_CONNECTIONS + 200
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {want}")
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def read_greetings(socks, timeout):
    """Reads the 220 line on every socket at once; returns {socket: bytes received}."""
    got = {s: b"" for s in socks}
    with selectors.DefaultSelector() as sel:
        for s in socks:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        pending = len(socks)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                s = key.fileobj
                chunk = s.recv(4096)
                got[s] += chunk
                if not chunk or got[s].endswith(b"\r\n"):
                    sel.unregister(s)
                    pending -= 1
    return got


def test_thousand_idle_connections(tern_factory, enough_descriptors):
    t = tern_factory(config={"limits": {"connections": 1100, "connections_per_client": 1100}})
    baseline = t.threads()
    socks = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            socks.append(socket.create_connection(("127.0.0.1", t.port), timeout=10))
        greetings = read_greetings(socks, timeout=30)
        bad = [g for g in greetings.values() if not g.startswith(b"220 mx.tern.test ESMTP")]
        assert not bad, f"{len(bad)} connections without a greeting, e.g. {bad[:3]}"

        # With all of them open, a new client is served promptly.
        started = time.monotonic()
        with t.dialog() as d:
            d.ehlo()
            elapsed = time.monotonic() - started
            assert d.cmd("QUIT").code == 221
        assert elapsed < 1.0, f"greeting and EHLO took {elapsed:.3f}s with {IDLE_CONNECTIONS} idle sessions"

        threads = t.threads()
        assert threads <= 8, f"{threads} threads with {IDLE_CONNECTIONS} connections (baseline {baseline})"
        assert threads <= baseline + 2, f"{threads} threads, baseline {baseline}"
    finally:
        for s in socks:
            s.close()
    # Every slot comes back: once all are closed, a new connection is greeted.
    deadline = time.monotonic() + 10
    while sum("disconnect" in line for line in t.log_lines()) < IDLE_CONNECTIONS + 2:
        assert time.monotonic() < deadline, "sessions did not end after their clients closed"
        time.sleep(0.05)
    with t.dialog() as d:
        assert d.cmd("QUIT").code == 221
