# Header and body rules ([content] header_checks / body_checks, Postfix's syntax) against the real
# daemon: what the client is told at the end of DATA, what is delivered (or held, or dropped),
# the header edits in the delivered file, the log lines, and a hostile pattern that must not hang
# the session.
import time

import pytest

from conftest import begin_data, assert_nothing_delivered, queue_id

HEADER_RULES = r"""
# Postfix header_checks syntax
/^Subject:.*cheap meds/          REJECT 5.7.1 No pharmacy spam, please
/^Subject:.*later/               DEFER Come back later
/^Subject:.*suspicious/          HOLD looks suspicious
/^Subject:.*drop me/             DISCARD dropped by rule
/^Subject:.*watch/               WARN watched subject
/^X-Mailer: SpamBlaster/         554 5.7.0 Known spam tool
/^X-Internal-Secret:/            IGNORE
/^Subject: tag me/               PREPEND X-Tagged: by header rule
/^Organization:/                 REPLACE Organization: rewritten
if /^Subject:/
/folded and hidden/              REJECT folded subjects are judged whole
endif
"""

BODY_RULES = r"""
/^click http:\/\/spam\.example\.net\// REJECT 5.7.1 Spam link in body
/^see attached invoice\.exe$/          451 4.7.1 Try again
/(a+)+$/                               WARN backtracking pattern
"""


@pytest.fixture
def rules_tern(tern_factory, tmp_path):
    header = tmp_path / "header_checks"
    header.write_text(HEADER_RULES)
    body = tmp_path / "body_checks"
    body.write_text(BODY_RULES)
    return tern_factory(config={"content": {"header_checks": str(header), "body_checks": str(body)},
                                "mailauth": {"verify": []}, "dkim": {"sign": False}})


def send(t, text):
    with t.dialog() as d:
        begin_data(d)
        d.send(text + b"\r\n.\r\n")
        return d.read_reply()


def test_header_rule_rejects_with_its_text(rules_tern):
    r = send(rules_tern, b"Subject: cheap meds today\r\n\r\nbody")
    assert r.text == "550 5.7.1 No pharmacy spam, please", r
    rules_tern.wait_for_log(r"message_refused .*stage=content .*header rule .*header_checks:3 \(reject: 5\.7\.1 No pharmacy spam")
    assert_nothing_delivered(rules_tern)


def test_rule_with_its_own_reply_code(rules_tern):
    r = send(rules_tern, b"Subject: hi\r\nX-Mailer: SpamBlaster 3\r\n\r\nbody")
    assert r.text == "554 5.7.0 Known spam tool", r


def test_folded_header_is_judged_unfolded(rules_tern):
    r = send(rules_tern, b"Subject: something\r\n folded and hidden\r\n\r\nbody")
    assert r.text == "550 5.7.1 folded subjects are judged whole", r


def test_defer_rule_gives_a_temporary_reply(rules_tern):
    r = send(rules_tern, b"Subject: try later\r\n\r\nbody")
    assert r.text == "451 4.7.1 Come back later", r
    assert_nothing_delivered(rules_tern)


def test_body_rules(rules_tern):
    r = send(rules_tern, b"Subject: hello\r\n\r\nHi,\r\nclick http://spam.example.net/now\r\nbye")
    assert r.text == "550 5.7.1 Spam link in body", r
    r = send(rules_tern, b"Subject: hello\r\n\r\nsee attached invoice.exe\r\n")
    assert r.text == "451 4.7.1 Try again", r
    # A header field that looks like a body rule's line is not a body line.
    r = send(rules_tern, b"Subject: hello\r\nX-Link: click http://spam.example.net/now\r\n\r\nok")
    assert r.code == 250, r
    rules_tern.wait_for_message("alice")


def test_hold_keeps_the_message_in_the_queue(rules_tern):
    r = send(rules_tern, b"Subject: something suspicious\r\n\r\nbody")
    assert r.code == 250, r
    qid = queue_id(r)
    assert rules_tern.queued()[qid]["held"] is True
    rules_tern.wait_for_log(r"held .*header_checks:5 \(hold: looks suspicious\)")
    assert_nothing_delivered(rules_tern)


def test_discard_accepts_and_drops(rules_tern):
    r = send(rules_tern, b"Subject: please drop me\r\n\r\nbody")
    assert r.code == 250, r
    rules_tern.wait_for_log(r"discarded .*stage=content .*header_checks:6")
    assert_nothing_delivered(rules_tern)


def test_header_edits_reach_the_delivered_message(rules_tern):
    r = send(rules_tern, b"Subject: tag me\r\nX-Internal-Secret: 42\r\nOrganization: Old Co\r\n"
                         b"Subject-Two: x\r\n\r\nbody")
    assert r.code == 250, r
    data = rules_tern.wait_for_message("alice")
    assert b"X-Internal-Secret" not in data
    assert b"X-Tagged: by header rule\nSubject: tag me\n" in data
    assert b"Organization: rewritten\n" in data and b"Old Co" not in data


def test_warn_logs_and_delivers(rules_tern):
    r = send(rules_tern, b"Subject: watch this\r\n\r\nbody")
    assert r.code == 250, r
    rules_tern.wait_for_message("alice")
    line = rules_tern.wait_for_log(r"content_rule .*action=warn")
    assert "header_checks:7" in line and "watched subject" in line


def test_hostile_line_against_a_backtracking_pattern_does_not_hang(rules_tern):
    # /(a+)+$/ on a long run of a's ending in "b" backtracks exponentially; Boost.Regex gives up
    # after its bound, the rule counts as not matching, and the message goes through.
    start = time.monotonic()
    r = send(rules_tern, b"Subject: hello\r\n\r\n" + b"a" * 900 + b"b\r\n")
    took = time.monotonic() - start
    assert r.code == 250, r
    assert took < 10, took
    rules_tern.wait_for_log(r"content_rule_too_complex")
    rules_tern.wait_for_message("alice")
