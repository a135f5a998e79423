# Every `tern queue` command against a running daemon, in human-readable form and with --json:
# list, show, retry, hold, release, delete and bounce, plus unknown ids and an unreachable daemon.
import json
import re
import time

import pytest

from conftest import Notice, free_port, queue_id
from peers import SmtpPeer, wait_until

# Deferred messages wait an hour, so only the operator's commands move them during a test.
CONFIG = {"queue": {"retry_schedule": ["1h"], "delay_warning": "0"}}
UNKNOWN_ID = "0000000000000000"
QUIET = 1.0  # seconds to watch that nothing is delivered


@pytest.fixture
def tern_q(tern_factory):
    """A daemon whose deliveries to alice fail temporarily until the test unblocks her."""
    t = tern_factory(config=CONFIG)
    t.block_mailbox("alice")
    return t


def deferred(t, subject, sender="bob@localhost", recipients=("alice@localhost",)):
    """Sends a message whose delivery to alice is deferred; returns its queue id."""
    body = f"Subject: {subject}\r\nFrom: {sender}\r\n\r\nbody of {subject}\r\n".encode()
    qid = queue_id(t.send_message(body, sender=sender, recipients=recipients))
    t.wait_for_attempts(qid, "alice@localhost", 1)
    return qid


def delivered_to_alice(t, *expected):
    """Waits until alice holds the messages with these subjects and the queue is empty."""
    t.wait_for_messages("alice", len(expected))
    t.wait_for_empty_queue()
    assert t.subjects("alice") == sorted(expected)


def human(t, *args):
    """Runs a queue command without --json; it must succeed. Returns its standard output."""
    proc = t.queue(*args)
    assert proc.returncode == 0, f"{args}: {proc.returncode}\n{proc.stdout}{proc.stderr}"
    assert proc.stderr == ""
    return proc.stdout


def run(t, form, *args):
    """Runs a command that reports a count, in either form; returns the count it reported,
    after checking that the ids it names are exactly that many."""
    if form == "json":
        reply = t.queue_json(*args)
        assert len(reply["ids"]) == reply["count"], reply
        return reply["count"]
    out = human(t, *args)
    m = re.fullmatch(rf"{args[0]}: (\d+) message\(s\) [a-z ]+\n((?:  [0-9A-Z]{{16}}\n)*)", out)
    assert m, out
    assert len(m.group(2).splitlines()) == int(m.group(1)), out
    return int(m.group(1))


def test_list(tern_q):
    t = tern_q
    assert human(t, "list") == "The queue is empty.\n"
    assert t.queue_json("list")["messages"] == []
    before = int(time.time())
    one = deferred(t, "one")
    two = deferred(t, "two", sender="postmaster@localhost", recipients=("alice@localhost", "bob@localhost"))
    t.wait_for_messages("bob", 1)

    queued = t.queued()
    assert set(queued) == {one, two}
    m = queued[one]
    assert (m["sender"], m["recipients"], m["pending"], m["held"]) == ("bob@localhost", 1, 1, False)
    assert m["size"] > len("Subject: one\r\n"), m
    assert before <= m["arrival"] <= time.time(), m
    assert m["next_attempt"] >= m["arrival"] + 3600 - 1, "deferred by the 1h schedule"
    m = queued[two]
    assert (m["sender"], m["recipients"], m["pending"]) == ("postmaster@localhost", 2, 1), m

    # Each recipient still to do, with the reason of its last attempt (as postqueue -p).
    waiting = queued[two]["waiting"]
    assert [w["address"] for w in waiting] == ["alice@localhost"], waiting
    assert waiting[0]["status"] == "deferred"
    assert waiting[0]["last_reply"].startswith("451 4.3.0 Local delivery failed: "), waiting

    lines = human(t, "list").splitlines()
    assert lines[0].split() == ["QUEUE", "ID", "ARRIVAL", "SIZE", "RCPTS", "PENDING", "NEXT",
                                "ATTEMPT", "SENDER"]
    assert lines[-1] == "2 messages"
    rows = {line.split()[0]: line.split() for line in lines[1:-1] if not line.startswith(" ")}
    assert set(rows) == {one, two}
    # id, arrival (date, time), size, recipients, pending, next attempt (date, time), sender
    assert rows[one][4:6] == ["1", "1"] and rows[one][-1] == "<bob@localhost>", rows[one]
    assert rows[two][4:6] == ["2", "1"] and rows[two][-1] == "<postmaster@localhost>", rows[two]
    assert rows[one][3] == str(queued[one]["size"])
    # Under each message: "(reason)", then the recipients that reason holds back.
    for qid in (one, two):
        start = lines.index(next(line for line in lines if line.startswith(qid)))
        reason, rcpt = lines[start + 1], lines[start + 2]
        assert re.fullmatch(r"    \(451 4\.3\.0 Local delivery failed: .*\)", reason), reason
        assert rcpt == "        alice@localhost", rcpt
    assert "bob@localhost" not in "\n".join(lines[1:-1]).replace("<bob@localhost>", ""), \
        "a delivered recipient is not listed"


def test_show(tern_q):
    t = tern_q
    qid = deferred(t, "shown", sender="postmaster@localhost",
                   recipients=("alice@localhost", "bob@localhost"))
    t.wait_for_messages("bob", 1)

    message = t.queue_json("show", qid)["message"]
    assert (message["id"], message["sender"], message["held"]) == (qid, "postmaster@localhost", False)
    assert message["client_ip"] == "127.0.0.1" and message["helo"] == "client.test"
    states = {r["address"]: r for r in message["recipient_states"]}
    alice, bob = states["alice@localhost"], states["bob@localhost"]
    assert (alice["status"], alice["attempts"], alice["last_host"]) == ("deferred", 1, "local")
    assert alice["last_reply"].startswith("451 4.3.0 Local delivery failed: "), alice
    assert alice["next_attempt"] > alice["last_attempt"] > 0
    assert (bob["status"], bob["attempts"]) == ("delivered", 1)
    assert bob["last_reply"] == "250 2.0.0 Delivered to maildir"

    out = human(t, "show", qid)
    assert re.search(rf"^Queue ID: +{qid}$", out, re.M), out
    assert re.search(r"^Sender: +<postmaster@localhost>$", out, re.M), out
    assert re.search(r"^Held: +no$", out, re.M), out
    alice_part = out[out.index("  alice@localhost  deferred\n"):out.index("  bob@localhost")]
    assert re.search(r"attempts: 1  last: \S+ \S+Z  next: \S+ \S+Z", alice_part), alice_part
    assert "reply: 451 4.3.0 Local delivery failed: " in alice_part
    bob_part = out[out.index("  bob@localhost  delivered\n"):]
    assert "attempts: 1" in bob_part and "reply: 250 2.0.0 Delivered to maildir" in bob_part, out


@pytest.mark.parametrize("form", ["human", "json"])
def test_retry_one_then_all(tern_q, form):
    t = tern_q
    ids = [deferred(t, f"retry {i}") for i in range(3)]
    t.unblock_mailbox("alice")
    time.sleep(QUIET)
    assert t.messages("alice") == [], "the schedule alone would wait an hour"

    assert run(t, form, "retry", ids[0]) == 1
    t.wait_for_messages("alice", 1)
    t.wait_for_queue(lambda q: set(q) == set(ids[1:]), "without the retried message")
    assert t.subjects("alice") == ["retry 0"]

    assert run(t, form, "retry", "--all") == 2
    delivered_to_alice(t, "retry 0", "retry 1", "retry 2")


@pytest.mark.parametrize("form", ["human", "json"])
def test_hold_and_release(tern_q, form):
    t = tern_q
    held, free = deferred(t, "held"), deferred(t, "free")
    assert run(t, form, "hold", held) == 1
    assert t.queued()[held]["held"] is True and t.queued()[free]["held"] is False
    row = next(line for line in human(t, "list").splitlines() if line.startswith(held))
    assert row.endswith("<bob@localhost>  [held]"), row
    assert row.split()[6] == "held", "no next-attempt time while held: " + row
    shown = human(t, "show", held)
    assert re.search(r"^Held: +yes$", shown, re.M)
    assert re.search(r"attempts: 1  last: \S+ \S+Z  next: held$", shown, re.M), shown
    # Holding it again changes nothing and says so; a retry of a held message is refused.
    again = t.queue("hold", held)
    assert again.returncode == 1 and f"message {held} is already on hold" in again.stderr, again
    refused = t.queue("retry", held)
    assert refused.returncode == 1 and f"message {held} is on hold; release it first" in refused.stderr

    t.restart()
    assert t.queued()[held]["held"] is True, "a hold survives a restart"

    # While held, not even a retry delivers it: retry --all counts only the free message.
    t.unblock_mailbox("alice")
    assert run(t, form, "retry", "--all") == 1
    t.wait_for_messages("alice", 1)
    time.sleep(QUIET)
    assert t.subjects("alice") == ["free"]
    assert set(t.queued()) == {held}
    assert t.recipient_states(held)["alice@localhost"]["attempts"] == 1

    assert run(t, form, "release", held) == 1
    delivered_to_alice(t, "free", "held")


@pytest.mark.parametrize("form", ["human", "json"])
def test_release_all(tern_q, form):
    t = tern_q
    ids = [deferred(t, f"batch {i}") for i in range(2)]
    free = deferred(t, "not held")
    for qid in ids:
        assert run(t, form, "hold", qid) == 1
    # release --all names only the messages that were held.
    if form == "json":
        reply = t.queue_json("release", "--all")
        assert (reply["count"], sorted(reply["ids"])) == (2, sorted(ids)), reply
        assert run(t, form, "hold", ids[0]) == 1 and run(t, form, "hold", ids[1]) == 1
    else:
        out = human(t, "release", "--all")
        assert out.startswith("release: 2 message(s) released\n") and free not in out, out
        assert sorted(out.split()[-2:]) == sorted(ids), out
        for qid in ids:
            assert run(t, form, "hold", qid) == 1
    t.unblock_mailbox("alice")
    assert run(t, form, "retry", "--all") == 1
    t.wait_for_messages("alice", 1)
    time.sleep(QUIET)
    assert t.subjects("alice") == ["not held"] and set(t.queued()) == set(ids)
    assert run(t, form, "release", "--all") == 2
    delivered_to_alice(t, "batch 0", "batch 1", "not held")


@pytest.mark.parametrize("form", ["human", "json"])
def test_delete_removes_without_notice(tern_q, form):
    t = tern_q
    doomed, kept = deferred(t, "deleted"), deferred(t, "kept")
    if form == "json":
        assert t.queue_json("delete", doomed) == {"ok": True}
    else:
        assert human(t, "delete", doomed) == "delete: done\n"
    assert set(t.queued()) == {kept}
    gone = t.queue("show", doomed)
    assert gone.returncode == 1 and f"no message {doomed}" in gone.stderr, gone

    t.restart()
    assert set(t.queued()) == {kept}, "a deleted message does not come back after a restart"
    t.unblock_mailbox("alice")
    run(t, form, "retry", "--all")
    delivered_to_alice(t, "kept")
    assert t.messages("bob") == [], "delete sends no notice"


@pytest.mark.parametrize("form", ["human", "json"])
def test_bounce_returns_to_sender(tern_q, form):
    t = tern_q
    qid = deferred(t, "bounced", sender="postmaster@localhost",
                   recipients=("alice@localhost", "bob@localhost"))
    t.wait_for_messages("bob", 1)
    if form == "json":
        assert t.queue_json("bounce", qid) == {"ok": True, "count": 1}
    else:
        assert human(t, "bounce", qid) == "bounce: 1 recipient(s) returned to the sender\n"

    notice = Notice(t.wait_for_message("postmaster"))
    assert [r["Final-Recipient"] for r in notice.recipients] == ["rfc822; alice@localhost"], \
        "only the recipient not yet delivered is returned"
    r = notice.recipient("alice@localhost")
    assert (r["Action"], r["Status"]) == ("failed", "5.0.0")
    # The real last error is kept: in Diagnostic-Code, and after the postmaster's verdict.
    assert r["Diagnostic-Code"].startswith("X-Tern; 451 4.3.0 Local delivery failed"), r
    readable = " ".join(notice.text.split())
    assert ("<alice@localhost>: 554 5.0.0 Message returned to sender by the postmaster; "
            "the last attempt: 451 4.3.0 Local delivery failed") in readable, readable
    assert notice.returned_message()["Subject"] == "bounced"
    t.wait_for_empty_queue()

    t.unblock_mailbox("alice")
    time.sleep(QUIET)
    assert t.messages("alice") == [], "a bounced message is not delivered any more"
    assert t.subjects("bob") == ["bounced"]


@pytest.fixture
def slow_peer(tmp_path):
    """An SMTP server on loopback that takes 1.5 s to answer each end of data."""
    peer = SmtpPeer(tmp_path, "127.0.0.1", free_port(), delay_data=1.5)
    yield peer
    peer.stop()


def test_hold_and_delete_stop_a_delivery_waiting_for_its_slot(tern_factory, slow_peer):
    # One delivery at a time to slow.test: while the first runs, the next ones wait their turn.
    t = tern_factory(config={
        **CONFIG,
        "relay": {"routes": [f"slow.test = [127.0.0.1]:{slow_peer.port}"], "destination_concurrency": 1},
    })

    def send(name):
        body = f"Subject: {name}\r\n\r\nfor the slow peer\r\n".encode()
        return queue_id(t.send_message(body, sender="bob@localhost", recipients=[f"{name}@slow.test"]))

    send("first")
    wait_until(lambda: any("DATA\r\n" in r["data"] for r in slow_peer.reads()), 10,
               "the first delivery to reach the end of its data")
    held, deleted = send("held"), send("deleted")
    for qid, rcpt in ((held, "held@slow.test"), (deleted, "deleted@slow.test")):
        assert t.recipient_states(qid)[rcpt]["in_progress"], "queued behind the first delivery"
    assert run(t, "json", "hold", held) == 1
    assert t.queue_json("delete", deleted) == {"ok": True}
    assert slow_peer.messages() == [], "the first delivery was still running: the others waited"

    slow_peer.wait_for_messages(1)
    time.sleep(2.5)  # long enough for one more delivery to the slow peer
    arrived = [env["rcpt_tos"] for env, _ in slow_peer.messages()]
    assert arrived == [["first@slow.test"]], "neither the held nor the deleted message may go out"
    assert set(t.queued()) == {held}
    state = t.recipient_states(held)["held@slow.test"]
    assert (state["attempts"], state["in_progress"]) == (0, False), state

    assert run(t, "json", "release", held) == 1
    slow_peer.wait_for_messages(2)
    t.wait_for_empty_queue()
    assert [env["rcpt_tos"] for env, _ in slow_peer.messages()] == [["first@slow.test"], ["held@slow.test"]]
    assert t.messages("bob") == [], "no notice for a deleted message"


@pytest.mark.parametrize("command", ["show", "retry", "hold", "release", "delete", "bounce"])
def test_unknown_id_is_a_clear_error(tern, command):
    proc = tern.queue(command, UNKNOWN_ID)
    assert proc.returncode == 1, proc
    assert proc.stdout == ""
    assert proc.stderr == f"tern queue: no message {UNKNOWN_ID} in the queue\n"
    proc = tern.queue(command, UNKNOWN_ID, "--json")
    assert proc.returncode == 1, proc
    assert json.loads(proc.stdout) == {"ok": False, "error": f"no message {UNKNOWN_ID} in the queue"}


def test_missing_id_and_unreachable_daemon(tern):
    for command in ("retry", "release"):
        proc = tern.queue(command)
        assert proc.returncode != 0
        assert proc.stderr == f"tern queue {command}: give a queue id or --all\n"
    for command in ("show", "hold", "delete", "bounce"):
        proc = tern.queue(command)
        assert proc.returncode != 0 and "id" in proc.stderr, proc
    assert tern.stop() == 0
    for args in (("list",), ("list", "--json")):
        proc = tern.queue(*args)
        assert proc.returncode == 2, proc
        assert proc.stderr.startswith("tern queue: connect to ") and "is tern serve running?" in proc.stderr
