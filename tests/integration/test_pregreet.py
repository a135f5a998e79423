# The pregreet test of the MX listener ([pregreet], as postscreen's): a client that talks before
# the whole greeting is dropped with 521 5.5.1, one that waits gets "220-" then "220 " and a
# normal session, is remembered and greeted at once next time; loopback is skipped by default.
import time

from conftest import HOSTNAME, Dialog


def pregreet_tern(tern_factory, **keys):
    # 127.0.0.1 (the fixture's readiness probe) is skipped; the tests connect from 127.0.0.2x.
    pregreet = {"wait": "1s", "skip_networks": ["127.0.0.1/32"]}
    pregreet.update(keys)
    return tern_factory(config={"pregreet": pregreet})


def test_client_that_talks_first_is_dropped(tern_factory):
    t = pregreet_tern(tern_factory)
    with Dialog(t.port, source="127.0.0.21") as d:
        d.send(b"EHLO bot.example\r\n")
        r = d.read_reply(timeout=5)
        assert r.lines == ["220-" + HOSTNAME + " ESMTP", "521 5.5.1 Protocol error"], r
        d.expect_closed()
    line = t.wait_for_log(r"pregreet client=127\.0\.0\.21")
    assert "action=drop" in line and "EHLO bot.example" in line


def test_patient_client_gets_the_whole_greeting_and_is_remembered(tern_factory):
    t = pregreet_tern(tern_factory)
    start = time.monotonic()
    with Dialog(t.port, source="127.0.0.22") as d:
        r = d.read_reply(timeout=5)
        waited = time.monotonic() - start
        assert r.code == 220 and len(r.lines) == 2, r
        assert r.lines[0] == "220-" + HOSTNAME + " ESMTP", r
        assert waited >= 0.9, waited
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        assert d.cmd(b"Subject: patient\r\n\r\nhello\r\n.").code == 250
    t.wait_for_message("alice")
    # Passed: greeted at once, in one line, until pass_ttl.
    start = time.monotonic()
    with Dialog(t.port, source="127.0.0.22") as d:
        r = d.read_reply(timeout=5)
        assert len(r.lines) == 1 and r.code == 220, r
        assert time.monotonic() - start < 0.5
    # Another client is tested.
    with Dialog(t.port, source="127.0.0.23") as d:
        assert len(d.read_reply(timeout=5).lines) == 2


def test_log_action_lets_the_session_go_on(tern_factory):
    t = pregreet_tern(tern_factory, action="log")
    with Dialog(t.port, source="127.0.0.24") as d:
        d.send(b"EHLO early.example\r\n")
        assert d.read_reply(timeout=5).code == 220
        assert d.read_reply().code == 250  # the early EHLO, answered after the greeting
    t.wait_for_log(r"pregreet client=127\.0\.0\.24 .*action=log")


def test_loopback_is_skipped_by_default(tern_factory):
    t = tern_factory(config={"pregreet": {"wait": "3s"}})
    start = time.monotonic()
    with Dialog(t.port, source="127.0.0.25") as d:
        r = d.read_reply(timeout=5)
        assert len(r.lines) == 1 and r.code == 220, r
        assert time.monotonic() - start < 1


def test_submission_is_never_tested(tern_factory):
    t = pregreet_tern(tern_factory, wait="3s")
    with Dialog(t.submission_port, source="127.0.0.26") as d:
        assert len(d.read_reply(timeout=5).lines) == 1
