# SMTP smuggling (CVE-2023-51766 family): every fake end-of-data sequence, followed by a smuggled
# transaction, in both [limits] bare_lf modes. With "normalize" (the default) a fake ending
# without a bare CR is an empty line of the one message delivered, its smuggled commands text
# inside it; one with a bare CR is refused 554 5.6.0. With "reject" every one is refused. Either
# way the smuggled commands are never run and nothing reaches the smuggled recipient.
import time

import pytest

SMUGGLED = (b"MAIL FROM:<attacker@evil.example>\r\n"
            b"RCPT TO:<postmaster@localhost>\r\n"
            b"DATA\r\n"
            b"Smuggled\r\n")

# name: (bytes, holds a bare CR)
VARIANTS = {
    "LF.LF": (b"\n.\n", False),
    "CRLF.LF": (b"\r\n.\n", False),
    "LF.CRLF": (b"\n.\r\n", False),
    "CR.CR": (b"\r.\r", True),
    "CRLF.CR": (b"\r\n.\r", True),
    "CR.CRLF": (b"\r.\r\n", True),
}

REJECT = {"limits": {"bare_lf": "reject"}}


def lines_of(data):
    """The lines of a delivered file, whatever its line endings (CRLF or LF)."""
    return data.replace(b"\r\n", b"\n").split(b"\n")


def smuggle(tern, fake_end, split, refused):
    with tern.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        payload = b"Subject: outer\r\n\r\nouter body" + fake_end + SMUGGLED + b"\r\n.\r\n"
        if split:
            # In small writes, so the fake end and the real end straddle reads.
            for i in range(0, len(payload), 7):
                d.send(payload[i:i + 7])
                time.sleep(0.001)
        else:
            d.send(payload)
        r = d.read_reply()
        if refused:
            assert (r.code, r.status) == (554, "5.6.0"), r
        else:
            assert (r.code, r.status) == (250, "2.0.0"), r
        # Nothing else was answered: the smuggled commands were message text, not commands.
        r = d.cmd("RSET")
        assert (r.code, r.status) == (250, "2.0.0"), r
        assert d.cmd("NOOP").code == 250
        r = d.cmd("QUIT")
        assert (r.code, r.status) == (221, "2.0.0"), r
        d.expect_closed()
    if refused:
        time.sleep(1.0)
        assert tern.all_messages() == [], "a message was delivered"
        tern.wait_for_log(r"message_refused")
    else:
        [delivered] = tern.wait_for_messages("alice")
        body = lines_of(delivered.read_bytes())
        # The fake ending is an empty line; the smuggled transaction is text of this message.
        start = body.index(b"Subject: outer")
        assert body[start:] == [b"Subject: outer", b"", b"outer body", b"",
                                b"MAIL FROM:<attacker@evil.example>",
                                b"RCPT TO:<postmaster@localhost>", b"DATA", b"Smuggled", b"", b""]
        time.sleep(0.5)
        assert tern.all_messages() == [delivered], "more than the one message was delivered"
    messages = [line for line in tern.log_lines() if " message " in line or '"message"' in line]
    assert not [line for line in messages if "evil.example" in line], messages
    queued = [line for line in messages if "result=queued" in line]
    assert len(queued) == (0 if refused else 1), messages


@pytest.mark.parametrize("name", list(VARIANTS))
def test_smuggling_variant_is_defeated(any_tern, name):
    fake, bare_cr = VARIANTS[name]
    smuggle(any_tern, fake, split=False, refused=bare_cr)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_smuggling_variant_split_across_reads(tern, name):
    fake, bare_cr = VARIANTS[name]
    smuggle(tern, fake, split=True, refused=bare_cr)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_smuggling_variant_is_refused_with_bare_lf_reject(tern_factory, name):
    smuggle(tern_factory(config=REJECT), VARIANTS[name][0], split=False, refused=True)


@pytest.mark.parametrize("name", ["LF.LF", "CR.CRLF"])
def test_smuggling_variant_split_with_bare_lf_reject(tern_factory, name):
    smuggle(tern_factory(config=REJECT), VARIANTS[name][0], split=True, refused=True)


def test_bare_line_endings_in_command_lines(tern):
    with tern.dialog() as d:
        d.ehlo()
        # A bare LF ends a command line (normalize), so both commands run.
        d.send(b"MAIL FROM:<a@example.org>\nRCPT TO:<alice@localhost>\r\n")
        r1, r2 = d.read_replies(2)
        assert (r1.code, r1.status, r2.code, r2.status) == (250, "2.1.0", 250, "2.1.5")
        # A bare CR never does: the line is refused whole.
        d.send(b"NOOP\rRSET\r\n")
        r = d.read_reply()
        assert r.text == "500 5.5.2 Bare CR in command; commands end with CRLF", r
        # The RSET inside it did not run: the transaction is still there.
        assert d.cmd("DATA").code == 354
        d.send(b"x\r\n.\r\n")
        assert d.read_reply().code == 250
        assert d.cmd("QUIT").code == 221


def test_bare_line_ending_in_command_line_with_bare_lf_reject(tern_factory):
    tern = tern_factory(config=REJECT)
    with tern.dialog() as d:
        d.ehlo()
        d.send(b"MAIL FROM:<a@example.org>\nRCPT TO:<alice@localhost>\r\n")
        r = d.read_reply()
        assert r.text == "500 5.5.2 Bare CR or LF in command; commands end with CRLF", r
        d.send(b"NOOP\rRSET\r\n")
        r = d.read_reply()
        assert (r.code, r.status) == (500, "5.5.2"), r
        # Neither MAIL nor RCPT took effect.
        r = d.cmd("RCPT TO:<alice@localhost>")
        assert (r.code, r.status) == (503, "5.5.1"), r
        assert d.cmd("QUIT").code == 221


def test_clean_message_after_refused_one_is_delivered(tern):
    with tern.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: bad\r\n\r\nbare\rCR\r\n.\r\n")
        r = d.read_reply()
        assert r.text == "554 5.6.0 Message contains a bare CR; lines must end with CRLF", r
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: good\r\n\r\nclean\r\n.\r\n")
        assert d.read_reply().code == 250
    files = tern.wait_for_messages("alice")
    time.sleep(0.5)
    assert len(tern.messages("alice")) == 1
    assert files[0].read_bytes().endswith(b"Subject: good\n\nclean\n")
