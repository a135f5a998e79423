# SMTP smuggling (CVE-2023-51766 family): every fake end-of-data sequence with a bare CR or LF,
# followed by a smuggled transaction, must end in 554 5.6.0 with nothing delivered at all.
import time

import pytest

SMUGGLED = (b"MAIL FROM:<attacker@evil.example>\r\n"
            b"RCPT TO:<postmaster@localhost>\r\n"
            b"DATA\r\n"
            b"Smuggled\r\n")

VARIANTS = {
    "LF.LF": b"\n.\n",
    "CRLF.LF": b"\r\n.\n",
    "LF.CRLF": b"\n.\r\n",
    "CR.CR": b"\r.\r",
    "CRLF.CR": b"\r\n.\r",
}


def smuggle(tern, fake_end, split):
    with tern.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        payload = b"Subject: outer\r\n\r\nouter body" + fake_end + SMUGGLED + b"\r\n.\r\n"
        if split:
            # Byte by byte in small writes, so the fake end and the real end straddle reads.
            for i in range(0, len(payload), 7):
                d.send(payload[i:i + 7])
                time.sleep(0.001)
        else:
            d.send(payload)
        r = d.read_reply()
        assert (r.code, r.status) == (554, "5.6.0"), r
        # Nothing else was answered: the smuggled commands were message text, not commands.
        r = d.cmd("RSET")
        assert (r.code, r.status) == (250, "2.0.0"), r
        # The connection is still good for a clean command.
        assert d.cmd("NOOP").code == 250
        r = d.cmd("QUIT")
        assert (r.code, r.status) == (221, "2.0.0"), r
        d.expect_closed()
    time.sleep(1.0)
    assert tern.all_messages() == [], "a message was delivered"
    messages = [line for line in tern.log_lines() if " message " in line or '"message"' in line]
    assert not [line for line in messages if "evil.example" in line], messages
    assert not [line for line in messages if "result=queued" in line], messages
    assert list((tern.data_dir / "spool" / "msg").iterdir()) == []
    tern.wait_for_log(r"message_refused")


@pytest.mark.parametrize("name", list(VARIANTS))
def test_smuggling_variant_is_refused(any_tern, name):
    smuggle(any_tern, VARIANTS[name], split=False)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_smuggling_variant_split_across_reads(tern, name):
    smuggle(tern, VARIANTS[name], split=True)


def test_bare_line_ending_in_command_line(tern):
    with tern.dialog() as d:
        d.ehlo()
        d.send(b"MAIL FROM:<a@example.org>\nRCPT TO:<alice@localhost>\r\n")
        r = d.read_reply()
        assert (r.code, r.status) == (500, "5.5.2"), r
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
        d.send(b"Subject: bad\r\n\r\nbare\nLF\r\n.\r\n")
        assert d.read_reply().code == 554
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: good\r\n\r\nclean\r\n.\r\n")
        assert d.read_reply().code == 250
    files = tern.wait_for_messages("alice")
    time.sleep(0.5)
    assert len(tern.messages("alice")) == 1
    assert files[0].read_bytes().endswith(b"Subject: good\r\n\r\nclean\r\n")
