# SIGTERM as a client sees it: listeners close at once, open sessions get shutdown_grace and then
# 421 4.3.2, mail accepted before the signal is kept, and the daemon exits 0.
import signal
import socket
import time

import pytest


def test_sigterm_closes_idle_session_with_421(tern_factory, tern_binary):
    t = tern_factory(config={"server": {"shutdown_grace": "1s"}}, binary=tern_binary)
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<a@example.org>").code == 250  # idle in the middle of a transaction
        signaled = time.monotonic()
        t.signal(signal.SIGTERM)
        t.wait_for_log(r"shutdown")
        # A new connection is refused while the old session is still in its grace period.
        time.sleep(0.1)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", t.port), timeout=2).close()
        # Within the grace period the session still works.
        assert d.cmd("NOOP").code == 250
        r = d.read_reply(timeout=5)
        waited = time.monotonic() - signaled
        assert (r.code, r.status) == (421, "4.3.2"), r
        assert 0.8 <= waited < 3.0, waited
        d.expect_closed()
    assert t.wait(timeout=5) == 0
    assert (time.monotonic() - signaled) < 5


def test_sigterm_without_sessions_exits_promptly(tern):
    started = time.monotonic()
    tern.signal(signal.SIGTERM)
    assert tern.wait(timeout=5) == 0
    assert time.monotonic() - started < 2.0
    tern.wait_for_log(r"stopped")


def test_session_finishing_within_grace_is_not_cut(tern_factory):
    t = tern_factory(config={"server": {"shutdown_grace": "5s"}})
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<a@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: during shutdown\r\n\r\n")
        t.signal(signal.SIGTERM)
        t.wait_for_log(r"shutdown")
        d.send(b"finished in the grace period\r\n.\r\n")
        r = d.read_reply()
        assert (r.code, r.status) == (250, "2.0.0"), r
        assert d.cmd("QUIT").code == 221
        d.expect_closed()
    assert t.wait(timeout=8) == 0
    # Accepted mail is never lost: delivered before the exit, or still in the spool.
    delivered = t.messages("alice")
    spooled = list((t.data_dir / "spool" / "msg").iterdir())
    assert len(delivered) + len(spooled) >= 1
