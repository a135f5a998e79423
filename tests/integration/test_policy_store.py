# The policy store against the real daemon: two Tern nodes sharing one real redis-server (started
# here on a loopback port, stopped by its pid) share greylisting and rate limits; with Redis gone
# each check is judged locally (never passed unjudged) and a warning is logged, and Redis is used
# again once it is back; the local store keeps greylist state across a restart and a crash.
import os
import socket
import time

import pytest

from conftest import begin_data, free_port
from peers import Process, wait_until

REDIS = "/usr/bin/redis-server"
CLIENT = "127.0.0.7"

pytestmark = pytest.mark.skipif(not os.access(REDIS, os.X_OK), reason="no redis-server")


def redis_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Redis:
    """A redis-server without persistence on a loopback port; stop() and start() again on the
    same port (an outage)."""

    def __init__(self, workdir):
        self.dir = workdir
        self.port = free_port()
        self.proc = None
        self.starts = 0
        self.start()

    def start(self):
        self.starts += 1
        self.proc = Process([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(self.dir)],
                            self.dir / f"redis{self.starts}.log")
        self.proc.wait_ready(lambda: redis_ping(self.port), "redis-server")

    def stop(self):
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


@pytest.fixture
def redis(tmp_path):
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = Redis(workdir)
    yield server
    server.stop()


def node(tern_factory, redis=None, **sections):
    config = {"relay": {"trusted_networks": []}}
    if redis is not None:
        config["policy_store"] = {"backend": "redis", "redis_address": f"127.0.0.1:{redis.port}",
                                  "redis_timeout_ms": 300, "redis_reconnect_max": "1s"}
    for section, keys in sections.items():
        config.setdefault(section, {}).update(keys)
    return tern_factory(config=config)


def rcpt(t, to="alice@localhost", source=CLIENT, sender="sender@example.org"):
    with t.dialog(source=source) as d:
        d.ehlo()
        assert d.cmd(f"MAIL FROM:<{sender}>").code == 250
        return d.cmd(f"RCPT TO:<{to}>")


GREYLIST = {"enabled": True, "delay": "2s"}


def test_two_nodes_share_greylisting(tern_factory, redis):
    a = node(tern_factory, redis, greylist=GREYLIST)
    b = node(tern_factory, redis, greylist=GREYLIST)
    r = rcpt(a)
    assert r.text == "451 4.7.1 Greylisted, try again in 2 seconds", r
    # Node B knows the triplet: too early there too.
    r = rcpt(b)
    assert r.code == 451 and "try again in" in r.text, r
    time.sleep(2.2)
    # The retry reaches the other node, which passes it: the mail is delivered there.
    with b.dialog(source=CLIENT) as d:
        begin_data(d)
        r = d.cmd(b"Subject: greylisted at A, passed at B\r\n\r\nhello\r\n.")
        assert (r.code, r.status) == (250, "2.0.0"), r
    b.wait_for_message("alice")
    a.wait_for_log(r"greylisted client=127\.0\.0\.7 from=sender@example\.org "
                   r"to=<alice@localhost> why=new")
    b.wait_for_log(r"greylisted client=127\.0\.0\.7 .* why=early")
    a.wait_for_log(r"policy_store backend=redis address=127\.0\.0\.1:")
    assert "policy_store_down" not in a.log_text() + b.log_text()


def test_two_nodes_share_rate_limits(tern_factory, redis):
    limits = {"client_messages": "3/1h"}
    a = node(tern_factory, redis, ratelimit=limits)
    b = node(tern_factory, redis, ratelimit=limits)
    with a.dialog(source=CLIENT) as d:
        d.ehlo()
        for _ in range(2):
            assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
            assert d.cmd("RSET").code == 250
    with b.dialog(source=CLIENT) as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RSET").code == 250
        r = d.cmd("MAIL FROM:<sender@example.org>")
        assert (r.code, r.status) == (450, "4.7.1"), r
        assert "messages from 127.0.0.7: at most 3 per 1h" in r.text
    b.wait_for_log(r"rate_limited client=127\.0\.0\.7 limit=client_messages")


def test_redis_gone_is_judged_locally_then_used_again(tern_factory, redis):
    a = node(tern_factory, redis, greylist=GREYLIST, ratelimit={"client_messages": "2/1h"})
    b = node(tern_factory, redis, greylist=GREYLIST)
    assert rcpt(a).code == 451
    redis.stop()
    # Never fails open: a new triplet is still greylisted, judged by the node's own state, and
    # the session waits no longer than the timeout.
    started = time.monotonic()
    r = rcpt(a, to="bob@localhost")
    assert r.code == 451, r
    assert time.monotonic() - started < 2.0
    a.wait_for_log(r"policy_store_down backend=redis address=127\.0\.0\.1:\d+ .*fallback=local")
    # The rate limit still applies, counted locally.
    with a.dialog(source="127.0.0.9") as d:
        d.ehlo()
        for _ in range(2):
            assert d.cmd("MAIL FROM:<x@example.org>").code == 250
            assert d.cmd("RSET").code == 250
        assert d.cmd("MAIL FROM:<x@example.org>").code == 450
    # One warning per outage, however many checks it took.
    assert len([l for l in a.log_text().splitlines() if "policy_store_down" in l]) == 1
    redis.start()

    # Back: shared again (a triplet greylisted at A passes at B after the delay).
    def shared_again():
        rcpt(a, source="127.0.1.7", to="alice@localhost", sender="again@example.org")
        return "policy_store_up" in a.log_text()
    wait_until(shared_again, 10, "policy_store_up at node A")
    time.sleep(2.2)
    r = rcpt(b, source="127.0.1.7", to="alice@localhost", sender="again@example.org")
    assert r.code == 250, r


def test_greylist_state_survives_a_restart_and_a_crash(tern_factory):
    t = node(tern_factory, greylist=GREYLIST, policy_store={"flush_interval": "1s"})
    assert rcpt(t).code == 451
    t.restart()  # SIGTERM: the last changes are written at shutdown
    assert (t.data_dir / "policy.sqlite").exists()
    time.sleep(2.2)
    r = rcpt(t)
    assert r.code == 250, r  # remembered: this is the retry, not a first attempt
    assert rcpt(t, to="bob@localhost").code == 451  # greylisting is on
    bob_seen = time.monotonic()
    t.wait_for_log(r"greylist_loaded path=\S+policy\.sqlite triplets=1")
    time.sleep(1.5)  # flush_interval: written by the writer thread, no shutdown needed
    t.crash()
    t.start()
    time.sleep(max(0.0, bob_seen + 2.2 - time.monotonic()))
    assert rcpt(t, to="bob@localhost").code == 250
