# Command order and recipient rules end to end: the reply and enhanced code a client gets for
# each misstep, and where accepted mail for postmaster, <>, user+tag and aliases ends up.
import time

from conftest import split_trace


def test_greeting_and_ehlo_keywords(tern):
    with tern.dialog(greeting=False) as d:
        g = d.read_reply()
        assert g.lines == ["220 mx.tern.test ESMTP Tern"]
        ehlo = d.cmd("EHLO client.test")
        assert ehlo.lines[0] == "250-mx.tern.test"
        keywords = {line[4:] for line in ehlo.lines[1:]}
        assert {"PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING"} <= keywords
        assert "SIZE 52428800" in keywords
        helo = d.cmd("HELO client.test")
        assert helo.lines == ["250 mx.tern.test"]


def test_order_rules(tern):
    with tern.dialog() as d:
        r = d.cmd("MAIL FROM:<a@example.org>")
        assert (r.code, r.status) == (503, "5.5.1"), r
        d.ehlo()
        r = d.cmd("RCPT TO:<alice@localhost>")
        assert (r.code, r.status) == (503, "5.5.1"), r
        r = d.cmd("DATA")
        assert (r.code, r.status) == (503, "5.5.1"), r
        assert d.cmd("MAIL FROM:<a@example.org>").code == 250
        r = d.cmd("MAIL FROM:<a@example.org>")
        assert (r.code, r.status) == (503, "5.5.1"), r  # nested MAIL
        r = d.cmd("DATA")
        assert (r.code, r.status) == (503, "5.5.1"), r  # no RCPT yet
        r = d.cmd("RCPT TO:<nobody@localhost>")
        assert (r.code, r.status) == (550, "5.1.1"), r
        r = d.cmd("DATA")
        assert (r.code, r.status) == (554, "5.5.1"), r  # RCPT given, none accepted
        assert d.cmd("RSET").code == 250
        r = d.cmd("RCPT TO:<alice@localhost>")
        assert (r.code, r.status) == (503, "5.5.1"), r  # RSET ended the transaction
        assert d.cmd("QUIT").code == 221
        d.expect_closed()


def test_recipient_rules_and_other_commands(tern_factory):
    # Loopback clients may relay by default; this client must not, to see the refusal.
    tern = tern_factory({"relay": {"trusted_networks": ["192.0.2.0/24"]}})
    with tern.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<a@example.org>").code == 250
        r = d.cmd("RCPT TO:<nobody@localhost>")
        assert (r.code, r.status) == (550, "5.1.1"), r
        r = d.cmd("RCPT TO:<alice@example.com>")
        assert (r.code, r.status) == (554, "5.7.1"), r
        r = d.cmd("RCPT TO:<alice@LOCALHOST>")
        assert (r.code, r.status) == (250, "2.1.5"), r
        r = d.cmd("RCPT TO:<alice")
        assert (r.code, r.status) == (553, "5.1.3"), r
        r = d.cmd("VRFY alice")
        assert (r.code, r.status) == (252, "2.5.0"), r
        r = d.cmd("VRFY nobody")
        assert (r.code, r.status) == (252, "2.5.0"), r  # never tells which users exist
        r = d.cmd("EXPN staff")
        assert (r.code, r.status) == (502, "5.5.1"), r
        r = d.cmd("FROBNICATE now")
        assert (r.code, r.status) == (500, "5.5.2"), r
        r = d.cmd("HELP")
        assert (r.code, r.status) == (214, "2.0.0"), r
        r = d.cmd("NOOP")
        assert (r.code, r.status) == (250, "2.0.0"), r
        r = d.cmd("QUIT")
        assert (r.code, r.status) == (221, "2.0.0"), r
    time.sleep(0.2)
    lines = tern.log_lines()
    assert any("reject" in line and "nobody@localhost" in line and "550 5.1.1" in line for line in lines), lines
    assert any("reject" in line and "alice@example.com" in line and "554 5.7.1" in line for line in lines), lines


def test_postmaster_without_domain_and_null_sender(tern):
    final = tern.send_message(b"Subject: bounce-like\r\n\r\nnull sender\r\n", sender="",
                              recipients=["Postmaster"])
    assert (final.code, final.status) == (250, "2.0.0"), final
    fields, message = split_trace(tern.wait_for_message("postmaster"))
    assert fields["Return-Path"] == "<>"
    assert fields["Delivered-To"] == "postmaster@localhost"
    assert message == b"Subject: bounce-like\n\nnull sender\n"


def test_user_plus_tag_delivers_to_user(tern):
    final = tern.send_message(b"Subject: tagged\r\n\r\nx\r\n", recipients=["alice+lists@localhost"])
    assert final.code == 250
    fields, _ = split_trace(tern.wait_for_message("alice"))
    assert fields["Delivered-To"] == "alice@localhost"
    assert "for <alice+lists@localhost>" in fields["Received"]
    assert not (tern.data_dir / "mail" / "alice+lists").exists()


def test_alias_to_several_users(tern_factory):
    t = tern_factory(aliases="# the team\nteam: alice, bob\nstaff: team,\n  postmaster\n")
    final = t.send_message(b"Subject: all hands\r\n\r\nhello team\r\n", recipients=["staff@localhost"])
    assert final.code == 250
    for user in ("alice", "bob", "postmaster"):
        fields, message = split_trace(t.wait_for_message(user))
        assert fields["Delivered-To"] == f"{user}@localhost"
        assert message == b"Subject: all hands\n\nhello team\n"
    # One recipient expanding to the same user twice delivers once.
    time.sleep(0.3)
    assert len(t.messages("alice")) == 1


def test_alias_loop_is_refused(tern_factory):
    t = tern_factory(aliases="loop1: loop2\nloop2: loop1\nself: self\n")
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<a@example.org>").code == 250
        r = d.cmd("RCPT TO:<loop1@localhost>")
        assert (r.code, r.status) == (550, "5.4.6"), r
        # An alias naming itself is that mailbox, which does not exist here.
        r = d.cmd("RCPT TO:<self@localhost>")
        assert (r.code, r.status) == (550, "5.1.1"), r
        assert d.cmd("QUIT").code == 221


def test_duplicate_recipients_deliver_once(tern):
    with tern.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<a@example.org>").code == 250
        for rcpt in ("alice@localhost", "alice@localhost", "ALICE@localhost", "alice+x@localhost"):
            assert d.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: dup\r\n\r\nonce\r\n.\r\n")
        assert d.read_reply().code == 250
    tern.wait_for_message("alice")
    time.sleep(0.5)
    assert len(tern.messages("alice")) == 1
