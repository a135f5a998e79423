# The receive path against abusive clients (issue 10, adversarial review): a command line that
# trickles in a byte at a time, an endless over-long line, DATA below the minimum rate,
# recipients past the limit from a pipelining client, mail loops to a local mailbox, NUL octets,
# and DSN parameters with control characters. Each seen from a raw client against the daemon.
import time

from conftest import assert_nothing_delivered, begin_data, maildir_form


def trickle(d, data, every, until):
    """Sends `data` one byte each `every` seconds until the server answers or `until` passes;
    returns the reply and the time it came after the first byte."""
    started = time.monotonic()
    for byte in data:
        try:
            d.send(bytes([byte]))
        except OSError:
            break
        try:
            return d.read_reply(timeout=every), time.monotonic() - started
        except TimeoutError:
            pass
        assert time.monotonic() - started < until, "the server never cut the client off"
    return d.read_reply(timeout=5), time.monotonic() - started


def test_command_trickled_a_byte_at_a_time_is_cut_off(tern_factory):
    # Each byte comes well inside command_timeout, but the line is never complete in time.
    t = tern_factory(config={"limits": {"command_timeout": 2}})
    with t.dialog() as d:
        d.ehlo()
        r, waited = trickle(d, b"NOOP" + b" " * 200 + b"\r\n", every=0.3, until=8)
        assert (r.code, r.status) == (421, "4.4.2"), r
        assert 1.8 <= waited < 4.0, waited
        d.expect_closed()


def test_commands_each_in_time_keep_the_session(tern_factory):
    # The time is per line: a session of many commands, each quick, lives longer than it.
    t = tern_factory(config={"limits": {"command_timeout": 2}})
    with t.dialog() as d:
        d.ehlo()
        for _ in range(5):
            time.sleep(0.6)
            d.send(b"NO")
            time.sleep(0.6)
            r = d.cmd("OP")
            assert (r.code, r.status) == (250, "2.0.0"), r
        assert d.cmd("QUIT").code == 221


def test_endless_overlong_line_is_bounded_by_the_error_limit(tern_factory):
    t = tern_factory(config={"limits": {"errors": 5, "command_timeout": 30}})
    with t.dialog() as d:
        d.ehlo()
        started = time.monotonic()
        d.send(b"x" * 600)
        r = d.read_reply()
        assert (r.code, r.status) == (500, "5.5.6"), r
        # The rest of the line is discarded, but not for free: every further 512 octets count
        # as an error, so the session ends well before command_timeout.
        try:
            for _ in range(20):
                d.send(b"x" * 512)
        except OSError:
            pass
        r = d.read_reply()
        assert (r.code, r.status) == (421, "4.7.0"), r
        assert time.monotonic() - started < 5
        d.expect_closed()


def test_data_below_the_minimum_rate_is_cut_off(tern_factory):
    t = tern_factory(config={"limits": {"command_timeout": 30, "data_timeout": 2,
                                        "min_data_rate": 1000}})
    with t.dialog() as d:
        begin_data(d)
        started = time.monotonic()
        # 10 octets every 0.5 s: 20 octets/s, far below 1000; each piece buys 10 ms.
        reply = None
        while time.monotonic() - started < 8:
            try:
                d.send(b"slow line\n")
                reply = d.read_reply(timeout=0.5)
                break
            except TimeoutError:
                continue
            except OSError:
                reply = d.read_reply(timeout=5)
                break
        waited = time.monotonic() - started
        assert reply is not None and (reply.code, reply.status) == (421, "4.4.2"), reply
        assert 1.8 <= waited < 3.5, waited
    assert_nothing_delivered(t)
    t.wait_for_log(r"message_refused")


def test_data_at_a_good_rate_may_take_longer_than_data_timeout(tern_factory):
    t = tern_factory(config={"limits": {"command_timeout": 30, "data_timeout": 2,
                                        "min_data_rate": 500}})
    with t.dialog() as d:
        begin_data(d)
        started = time.monotonic()
        d.send(b"Subject: steady\r\n\r\n")
        # 2000 octets every 0.5 s (4000 octets/s) for 4 s: each piece buys 4 s, capped at 2 s.
        while time.monotonic() - started < 4:
            d.send(b"y" * 998 + b"\r\n" + b"z" * 998 + b"\r\n")
            time.sleep(0.5)
        r = d.cmd(".")
        assert (r.code, r.status) == (250, "2.0.0"), r
    t.wait_for_message("alice")


def test_min_data_rate_zero_renews_data_timeout_per_read(tern_factory):
    t = tern_factory(config={"limits": {"command_timeout": 30, "data_timeout": 2,
                                        "min_data_rate": 0}})
    with t.dialog() as d:
        begin_data(d)
        for i in range(5):
            d.send(b"line %d\r\n" % i)
            time.sleep(0.7)
        r = d.cmd(".")
        assert (r.code, r.status) == (250, "2.0.0"), r
    t.wait_for_message("alice")


def test_pipelined_recipients_past_the_limit_keep_the_session(tern_factory):
    # 60 recipients against a limit of 10 and an error limit of 5: the 50 extra get 452 and
    # the message still goes to the 10 accepted (Postfix's recipient overshoot).
    t = tern_factory(config={"limits": {"recipients": 10, "errors": 5}})
    with t.dialog() as d:
        d.ehlo()
        rcpts = b"".join(b"RCPT TO:<alice+%d@localhost>\r\n" % i for i in range(60))
        d.send(b"MAIL FROM:<sender@example.org>\r\n" + rcpts + b"DATA\r\n")
        replies = d.read_replies(62)
        assert replies[0].code == 250
        assert [r.code for r in replies[1:11]] == [250] * 10
        assert {(r.code, r.status) for r in replies[11:61]} == {(452, "4.5.3")}
        assert replies[61].code == 354, replies[61]
        r = d.cmd(b"Subject: many\r\n\r\nhello\r\n.")
        assert (r.code, r.status) == (250, "2.0.0"), r
    t.wait_for_messages("alice")
    line = t.wait_for_log(r'info message .*alice\+9@localhost')
    assert "alice+10@" not in str(line)


def test_overshoot_past_its_limit_counts_errors(tern_factory):
    t = tern_factory(config={"limits": {"recipients": 1, "recipient_overshoot": 2,
                                        "errors": 2}})
    with t.dialog() as d:
        d.ehlo()
        rcpts = b"".join(b"RCPT TO:<alice+%d@localhost>\r\n" % i for i in range(5))
        d.send(b"MAIL FROM:<sender@example.org>\r\n" + rcpts)
        replies = d.read_replies(6)
        assert [(r.code, r.status) for r in replies] == [
            (250, "2.1.0"), (250, "2.1.5"), (452, "4.5.3"), (452, "4.5.3"), (452, "4.5.3"),
            (452, "4.5.3")]
        r = d.read_reply()
        assert (r.code, r.status) == (421, "4.7.0"), r
        d.expect_closed()


def received(n):
    return b"".join(b"Received: from hop%d by hop%d; Sun, 1 Nov 2026 00:00:00 +0000\r\n" % (i, i)
                    for i in range(n))


def test_mail_loop_to_a_local_mailbox_is_refused_at_receipt(tern_factory):
    t = tern_factory(config={"relay": {"max_hops": 5}})
    with t.dialog() as d:
        begin_data(d)
        r = d.cmd(received(5) + b"Subject: loop\r\n\r\nround and round\r\n.")
        assert r.text == ("554 5.4.6 Too many hops (6 Received fields; the limit is 5): "
                          "mail loop?"), r
        # One hop fewer passes.
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        r = d.cmd(received(4) + b"Subject: fine\r\n\r\nonce\r\n.")
        assert (r.code, r.status) == (250, "2.0.0"), r
    t.wait_for_messages("alice")
    time.sleep(0.5)
    assert t.subjects("alice") == ["fine"]


def test_nul_octets_are_refused_by_default(tern):
    with tern.dialog() as d:
        begin_data(d)
        r = d.cmd(b"Subject: nul\r\n\r\nbad\x00octet\r\n.")
        assert r.text == "554 5.6.0 Message contains NUL octets", r
        assert d.cmd("QUIT").code == 221
    assert_nothing_delivered(tern)


def test_nul_octets_can_be_stripped(tern_factory):
    t = tern_factory(config={"limits": {"nul_octets": "strip"}})
    with t.dialog() as d:
        begin_data(d)
        r = d.cmd(b"Subject: nul\r\n\r\nbad\x00octet\r\n.")
        assert (r.code, r.status) == (250, "2.0.0"), r
    (f,) = t.wait_for_messages("alice")
    msg = f.read_bytes()
    assert b"\x00" not in msg
    assert msg.endswith(maildir_form(b"badoctet\r\n"))


def test_envid_with_control_characters_is_refused(tern):
    with tern.dialog() as d:
        d.ehlo()
        r = d.cmd("MAIL FROM:<sender@example.org> ENVID=abc+0D+0Ax")
        assert (r.code, r.status) == (501, "5.5.4"), r
        assert d.cmd("MAIL FROM:<sender@example.org> ENVID=abc").code == 250
        r = d.cmd("RCPT TO:<alice@localhost> ORCPT=rfc822;alice+0A@localhost")
        assert (r.code, r.status) == (501, "5.5.4"), r
