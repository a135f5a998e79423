# The log as an operator's tools read it: with [log] format = "json" every line is one JSON object,
# and each accepted message has a "message" event with its id, client, envelope, size and result.
import json
import time

from conftest import queue_id


def json_lines(text):
    events = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            event = json.loads(line)
        except json.JSONDecodeError as e:
            raise AssertionError(f"log line {n} is not JSON ({e}): {line!r}")
        assert isinstance(event, dict), line
        events.append(event)
    return events


def send_two(t):
    body = b"Subject: log\r\n\r\nlogged\r\n"
    final = t.send_message(body, sender="sender@example.org", recipients=["alice@localhost", "bob+x@localhost"])
    assert final.code == 250
    with t.dialog() as d:
        d.ehlo('odd"name\\')
        assert d.cmd("MAIL FROM:<a@example.org>").code == 250
        assert d.cmd("RCPT TO:<nobody@localhost>").code == 550
        assert d.cmd("QUIT").code == 221
    t.wait_for_message("alice")
    t.wait_for_message("bob")
    return queue_id(final), len(body)


def check_events(events, qid, size):
    for e in events:
        assert {"ts", "level", "event"} <= set(e), e
        assert isinstance(e["ts"], (int, float)) and abs(e["ts"] - time.time()) < 600, e
    names = [e["event"] for e in events]
    for name in ("started", "connect", "message", "delivery", "reject", "disconnect"):
        assert name in names, names
    message = next(e for e in events if e["event"] == "message")
    assert {"id", "client", "from", "to", "size", "result"} <= set(message), message
    assert message["id"] == qid
    assert message["client"] == "127.0.0.1"
    assert message["from"] == "<sender@example.org>"
    assert message["to"].split(",") == ["alice@localhost", "bob+x@localhost"]
    assert message["result"] == "queued"
    # The size counts the message as stored: the client's octets plus our Received header.
    assert isinstance(message["size"], int) and message["size"] >= size
    deliveries = [e for e in events if e["event"] == "delivery"]
    assert sorted(e["to"] for e in deliveries) == ["alice@localhost", "bob@localhost"]
    assert all(e["id"] == qid and e["status"] == "delivered" for e in deliveries), deliveries


def test_json_log_file(tern_factory, tmp_path):
    log_path = tmp_path / "tern.jsonl"
    t = tern_factory(config={"log": {"format": "json", "file": str(log_path)}})
    qid, size = send_two(t)
    time.sleep(0.2)
    t.stop()
    events = json_lines(log_path.read_text(encoding="utf-8"))
    check_events(events, qid, size)
    assert events[-1]["event"] == "stopped"


def test_json_log_on_stderr(tern_factory):
    t = tern_factory(config={"log": {"format": "json"}})
    qid, size = send_two(t)
    time.sleep(0.2)
    t.stop()
    check_events(json_lines(t.stderr_path.read_text(encoding="utf-8")), qid, size)


def test_text_log_message_line(tern):
    final = tern.send_message(b"Subject: t\r\n\r\nx\r\n", recipients=["alice@localhost"])
    line = tern.wait_for_log(r" info message ")
    qid = queue_id(final)
    for field in (f"id={qid}", "client=127.0.0.1", "from=<sender@example.org>", "to=alice@localhost",
                  "result=queued"):
        assert f" {field}" in line, line
    assert " size=" in line
