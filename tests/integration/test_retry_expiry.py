# Retries and expiry on a schedule of seconds: a temporary local failure is retried until its cause
# is gone; expiry and delay produce RFC 3464 notices; NOTIFY=NEVER and the null sender get none.
import pytest

from conftest import Notice, maildir_form, queue_id, split_trace


def queue_config(retry=("1s",), max_lifetime="1h", delay_warning="0"):
    return {"queue": {"retry_schedule": list(retry), "max_lifetime": max_lifetime,
                      "delay_warning": delay_warning}}


def test_temporary_failure_is_retried_until_its_cause_is_gone(tern_factory, tern_binary):
    t = tern_factory(config=queue_config(retry=("1s", "2s")), binary=tern_binary)
    t.block_mailbox("alice")
    body = b"Subject: retried\r\nFrom: bob@localhost\r\n\r\nWaits for its mailbox.\r\n"
    qid = queue_id(t.send_message(body, sender="bob@localhost", recipients=["alice@localhost"]))
    state = t.wait_for_attempts(qid, "alice@localhost", 2, timeout=8)
    assert state["status"] == "deferred", state
    assert state["last_reply"].startswith("451 4.3.0 "), state
    assert "Not a directory" in state["last_reply"], state
    # The second delay of the schedule (2s) is the one now running.
    assert state["next_attempt"] - state["last_attempt"] == 2, state

    t.unblock_mailbox("alice")
    fields, message = split_trace(t.wait_for_message("alice", timeout=8))
    assert message == maildir_form(body)
    assert fields["Return-Path"] == "<bob@localhost>"
    t.wait_for_empty_queue()
    assert t.messages("bob") == [], "no notice is owed for a message that was delivered"


@pytest.mark.parametrize("ret", ["FULL", "HDRS"])
def test_expired_message_returns_a_failure_notice(tern_factory, ret):
    t = tern_factory(config=queue_config(max_lifetime="2s"))
    t.block_mailbox("alice")
    body = (b"Subject: will expire\r\nFrom: bob@localhost\r\nMessage-ID: <expire@client.test>\r\n\r\n"
            b"This body comes back only with RET=FULL.\r\n")
    qid = queue_id(t.send_message(body, sender="bob@localhost", recipients=["alice@localhost"],
                                  mail_params=f" RET={ret} ENVID=env-{ret}",
                                  rcpt_params=" NOTIFY=FAILURE ORCPT=rfc822;Alice@localhost"))
    notice = Notice(t.wait_for_message("bob", timeout=10))
    assert notice.message["Delivered-To"] == "bob@localhost"
    assert notice.fields["Original-Envelope-Id"] == f"env-{ret}"
    assert notice.fields["Arrival-Date"]
    r = notice.recipient("alice@localhost")
    assert r["Action"] == "failed"
    assert r["Status"].startswith("4."), "the last error was temporary"
    # The last attempt's reply, untouched, as Tern's own (a local mailbox error: X-Tern); the
    # giving up is said in the readable part, in Tern's words, before that reply.
    assert r["Diagnostic-Code"].startswith("X-Tern; 451 4.3.0 "), r["Diagnostic-Code"]
    assert "Gave up" not in r["Diagnostic-Code"], r["Diagnostic-Code"]
    readable = " ".join(notice.text.split())
    assert "Gave up: the message was queued for longer than 2s; the last attempt: 451 4.3.0 " \
        in readable, readable
    assert r["Original-Recipient"] == "rfc822; Alice@localhost"
    assert "alice@localhost" in notice.text
    if ret == "FULL":
        original = notice.returned_message()
        assert original["Message-ID"] == "<expire@client.test>"
        assert original.get_content().replace("\r\n", "\n") == "This body comes back only with RET=FULL.\n"
        assert qid in original["Received"]
    else:
        headers = notice.returned_headers()
        assert headers["Message-ID"] == "<expire@client.test>"
        assert b"This body comes back" not in notice.message.as_bytes()
    t.wait_for_empty_queue()
    assert len(t.messages("bob")) == 1, "exactly one notice, no delay notice (delay_warning = 0)"


def test_delay_notice_once_delay_warning_has_passed(tern_factory):
    t = tern_factory(config=queue_config(delay_warning="2s"))
    t.block_mailbox("alice")
    body = b"Subject: slow\r\nFrom: bob@localhost\r\n\r\nStill on its way.\r\n"
    qid = queue_id(t.send_message(body, sender="bob@localhost", recipients=["alice@localhost"]))
    notice = Notice(t.wait_for_message("bob", timeout=8))
    r = notice.recipient("alice@localhost")
    assert r["Action"] == "delayed"
    assert r["Status"].startswith("4."), r["Status"]
    assert r["Diagnostic-Code"].startswith("X-Tern; 451 4.3.0 "), r["Diagnostic-Code"]
    assert r["Will-Retry-Until"], "a delay notice says until when Tern keeps trying"
    assert notice.returned_message()["Subject"] == "slow"
    # Retries go on; the notice is not repeated.
    attempts = t.recipient_states(qid)["alice@localhost"]["attempts"]
    t.wait_for_attempts(qid, "alice@localhost", attempts + 2, timeout=8)
    assert len(t.messages("bob")) == 1
    t.unblock_mailbox("alice")
    _, message = split_trace(t.wait_for_message("alice", timeout=8))
    assert message == maildir_form(body)
    t.wait_for_empty_queue()
    assert len(t.messages("bob")) == 1, "one delay notice and no failure notice"


def actions(tern, user):
    return sorted(Notice(f.read_bytes()).recipients[0]["Action"] for f in tern.messages(user))


def test_notify_never_suppresses_every_notice(tern_factory):
    t = tern_factory(config=queue_config(max_lifetime="2s", delay_warning="1s"))
    t.block_mailbox("alice")
    body = b"Subject: doomed\r\n\r\nNo one hears of this.\r\n"
    t.send_message(body, sender="bob@localhost", recipients=["alice@localhost"],
                   rcpt_params=" NOTIFY=NEVER")
    # The same fate without NOTIFY, to show that notices would have been sent.
    t.send_message(body, sender="postmaster@localhost", recipients=["alice@localhost"])
    t.wait_for_messages("postmaster", 2, timeout=10)
    t.wait_for_empty_queue()
    assert actions(t, "postmaster") == ["delayed", "failed"]
    assert t.messages("bob") == [], "NOTIFY=NEVER: neither a delay nor a failure notice"


def test_null_sender_never_gets_a_notice(tern_factory):
    t = tern_factory(config=queue_config(max_lifetime="2s", delay_warning="1s"))
    t.block_mailbox("alice")
    t.block_mailbox("bob")
    body = b"Subject: bounce of a bounce\r\n\r\nNowhere to go.\r\n"
    from_null = queue_id(t.send_message(body, sender="", recipients=["alice@localhost"]))
    from_bob = queue_id(t.send_message(body, sender="bob@localhost", recipients=["alice@localhost"]))
    # bob's notices are messages from <> too, and bob's mailbox is blocked as well.
    queued = t.wait_for_queue(lambda q: any(m["sender"] == "" for i, m in q.items() if i != from_null),
                              "holding a notice for bob")
    notices = [i for i, m in queued.items() if m["sender"] == "" and i not in (from_null, from_bob)]
    assert notices, queued
    t.wait_for_empty_queue(timeout=15)
    assert t.all_messages() == [], "a message from <> that fails is dropped without a notice"
    log = t.log_text()
    assert f"notice id={from_bob} " in log, "the ordinary sender did get notices"
    for qid in [from_null, *notices]:
        assert f"notice id={qid} " not in log, f"{qid} is from <> and must not be answered"
