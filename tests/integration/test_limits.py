# Every [limits] key, configured small, seen from the client: the exact reply at the exact moment,
# the connection closed where the limit says so, and nothing delivered that was refused.
import time

import pytest

from conftest import assert_nothing_delivered, begin_data, maildir_form


def test_command_line_limit(tern_factory):
    t = tern_factory(config={"limits": {"command_line": 512}})
    with t.dialog() as d:
        d.ehlo()
        # 512 octets with the CRLF is allowed; 513 is not.
        r = d.cmd("NOOP " + "x" * (512 - 2 - 5))
        assert (r.code, r.status) == (250, "2.0.0"), r
        r = d.cmd("NOOP " + "x" * (512 - 2 - 4))
        assert (r.code, r.status) == (500, "5.5.6"), r
        # A very long line in pieces gets one 500 and the session goes on after its CRLF.
        d.send(b"MAIL FROM:<" + b"a" * 3000)
        r = d.read_reply()
        assert (r.code, r.status) == (500, "5.5.6"), r
        d.send(b"a" * 3000 + b"@example.org>\r\n")
        r = d.cmd("MAIL FROM:<ok@example.org>")
        assert (r.code, r.status) == (250, "2.1.0"), r
        assert d.cmd("QUIT").code == 221


def test_text_line_limit(tern_factory):
    t = tern_factory(config={"limits": {"text_line": 80}})
    ok_body = b"Subject: t\r\n\r\n" + b"y" * 78 + b"\r\n"
    with t.dialog() as d:
        begin_data(d)
        # 80 octets including the CRLF is allowed.
        d.send(ok_body + b".\r\n")
        r = d.read_reply()
        assert (r.code, r.status) == (250, "2.0.0"), r
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<bob@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        # 81 octets: the rest is still read, and the refusal comes at the end of data.
        d.send(b"Subject: t\r\n\r\n" + b"z" * 79 + b"\r\nmore\r\n")
        d.send(b"and more\r\n.\r\n")
        r = d.read_reply()
        assert (r.code, r.status) == (500, "5.5.6"), r
        assert d.cmd("RSET").code == 250
        assert d.cmd("QUIT").code == 221
    files = t.wait_for_messages("alice")
    assert files[0].read_bytes().endswith(b"Subject: t\n\n" + b"y" * 78 + b"\n")
    assert_nothing_delivered_for(t, "bob")


def assert_nothing_delivered_for(tern, user, wait=1.0):
    time.sleep(wait)
    assert tern.messages(user) == []


def test_message_size_limit(tern_factory):
    t = tern_factory(config={"limits": {"message_size": 1024}})
    with t.dialog() as d:
        ehlo = d.ehlo()
        assert "SIZE 1024" in ehlo.text
        r = d.cmd("MAIL FROM:<sender@example.org> SIZE=1025")
        assert (r.code, r.status) == (552, "5.3.4"), r
        r = d.cmd("MAIL FROM:<sender@example.org> SIZE=1000")
        assert (r.code, r.status) == (250, "2.1.0"), r
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        # The size is counted after unstuffing; 1024 octets exactly are fine.
        body = b"Subject: fits\r\n\r\n" + (b"f" * 98 + b"\r\n") * 10 + b"f" * 5 + b"\r\n"
        assert len(body) == 1024
        d.send(body + b".\r\n")
        r = d.read_reply()
        assert (r.code, r.status) == (250, "2.0.0"), r
        # An undeclared size that turns out too big is refused at the end of data.
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<bob@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: big\r\n\r\n" + (b"b" * 70 + b"\r\n") * 40 + b".\r\n")
        r = d.read_reply()
        assert (r.code, r.status) == (552, "5.3.4"), r
        # BDAT: a chunk that would pass the limit is refused at once, its octets swallowed.
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<bob@localhost>").code == 250
        d.send(b"BDAT 2000 LAST\r\n" + b"x" * 2000)
        r = d.read_reply()
        assert (r.code, r.status) == (552, "5.3.4"), r
        assert d.cmd("NOOP").code == 250
        assert d.cmd("QUIT").code == 221
    assert t.wait_for_message("alice").endswith(maildir_form(body))
    assert_nothing_delivered_for(t, "bob")


def test_recipients_limit(tern_factory):
    t = tern_factory(config={"limits": {"recipients": 2}})
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("RCPT TO:<bob@localhost>").code == 250
        r = d.cmd("RCPT TO:<postmaster@localhost>")
        assert (r.code, r.status) == (452, "4.5.3"), r
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: two\r\n\r\nx\r\n.\r\n")
        assert d.read_reply().code == 250
        # The count starts again with the next transaction.
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<postmaster@localhost>").code == 250
        assert d.cmd("QUIT").code == 221
    t.wait_for_message("alice")
    t.wait_for_message("bob")
    assert_nothing_delivered_for(t, "postmaster")


def limits_keyword(ehlo_reply):
    """The LIMITS line of an EHLO reply, without the "250-" or "250 "."""
    found = [line[4:] for line in ehlo_reply.lines if line[4:].startswith("LIMITS")]
    assert len(found) == 1, ehlo_reply
    return found[0]


def test_limits_are_advertised_from_the_configuration(tern_factory):
    # RFC 9422: RCPTMAX from [limits] recipients, MAILMAX from transactions_per_connection.
    default = tern_factory()
    with default.dialog() as d:
        assert limits_keyword(d.ehlo()) == "LIMITS RCPTMAX=1000 MAILMAX=1000"
    t = tern_factory(config={"limits": {"recipients": 7, "transactions_per_connection": 3}})
    with t.dialog() as d:
        assert limits_keyword(d.ehlo()) == "LIMITS RCPTMAX=7 MAILMAX=3"
        # smtplib reads it as a keyword with its parameters, as any client would.
    with t.smtp() as s:
        s.ehlo()
        assert s.esmtp_features["limits"] == "RCPTMAX=7 MAILMAX=3"


def test_transactions_per_connection_limit(tern_factory):
    t = tern_factory(config={"limits": {"transactions_per_connection": 2}})
    with t.dialog() as d:
        d.ehlo()
        # Every MAIL counts (RFC 9422 MAILMAX), refused or not.
        r = d.cmd("MAIL FROM:<not an address>")
        assert (r.code, r.status) == (501, "5.1.7"), r
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: counted\r\n\r\nx\r\n.\r\n")
        assert d.read_reply().code == 250
        r = d.cmd("MAIL FROM:<sender@example.org>")
        assert r.text == "421 4.7.0 Too many transactions in this connection, closing connection", r
        d.expect_closed()
    # A new connection starts a new count.
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("QUIT").code == 221
    assert len(t.wait_for_messages("alice")) == 1


def test_errors_limit_closes_the_connection(tern_factory):
    t = tern_factory(config={"limits": {"errors": 3}})
    with t.dialog() as d:
        d.ehlo()
        r1 = d.cmd("BOGUS")
        r2 = d.cmd("RCPT TO:<alice@localhost>")
        assert (r1.code, r1.status) == (500, "5.5.2")
        assert (r2.code, r2.status) == (503, "5.5.1")
        d.send(b"ALSO BOGUS\r\nNOOP\r\n")
        r3, r4 = d.read_replies(2)
        assert (r3.code, r3.status) == (500, "5.5.2")
        assert (r4.code, r4.status) == (421, "4.7.0"), r4
        d.expect_closed()


def test_command_timeout(tern_factory):
    t = tern_factory(config={"limits": {"command_timeout": 1}})
    with t.dialog() as d:
        d.ehlo()
        started = time.monotonic()
        r = d.read_reply(timeout=5)
        waited = time.monotonic() - started
        assert (r.code, r.status) == (421, "4.4.2"), r
        assert 0.8 <= waited < 3.0, waited
        d.expect_closed()


def test_data_timeout(tern_factory):
    t = tern_factory(config={"limits": {"command_timeout": 30, "data_timeout": 1}})
    with t.dialog() as d:
        begin_data(d)
        d.send(b"Subject: never finished\r\n\r\npart")
        started = time.monotonic()
        r = d.read_reply(timeout=5)
        waited = time.monotonic() - started
        assert (r.code, r.status) == (421, "4.4.2"), r
        assert 0.8 <= waited < 3.0, waited
        d.expect_closed()
    assert_nothing_delivered(t)
    t.wait_for_log(r"message_refused")


def test_data_timeout_is_per_block_without_a_minimum_rate(tern_factory):
    # With min_data_rate = 0, data that keeps coming, each piece inside the timeout, is not cut
    # off (the rate rule: test_receive_defence.py).
    t = tern_factory(config={"limits": {"command_timeout": 30, "data_timeout": 2,
                                        "min_data_rate": 0}})
    with t.dialog() as d:
        begin_data(d)
        for i in range(4):
            d.send(b"line %d\r\n" % i)
            time.sleep(0.7)
        d.send(b".\r\n")
        r = d.read_reply()
        assert (r.code, r.status) == (250, "2.0.0"), r
    t.wait_for_message("alice")


@pytest.mark.parametrize("key, reply_text", [
    ("connections", "Too many connections, try again later"),
    ("connections_per_client", "Too many connections from your address, try again later"),
])
def test_connection_limits(tern_factory, key, reply_text):
    t = tern_factory(config={"limits": {"connections": 100, "connections_per_client": 100, key: 2}})
    first, second = t.dialog(), t.dialog()
    try:
        with t.dialog(greeting=False) as extra:
            r = extra.read_reply()
            assert (r.code, r.status) == (421, "4.7.0"), r
            assert r.lines == [f"421 4.7.0 {reply_text}"]
            extra.expect_closed()
        if key == "connections_per_client":
            # Another client address is counted on its own.
            with t.dialog(source="127.0.0.2") as other:
                assert other.cmd("QUIT").code == 221
        # The open sessions still work.
        assert first.cmd("NOOP").code == 250
    finally:
        first.close()
    second.cmd("QUIT")
    second.close()
    # A closed connection frees its slot (released shortly after the close).
    deadline = time.monotonic() + 5
    while True:
        with t.dialog(greeting=False) as again:
            r = again.read_reply()
        if r.code == 220 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.code == 220, r
    t.wait_for_log(rf"connection_refused .*reason=limits\.{key}\b")
