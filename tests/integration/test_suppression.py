# Bounce classification and the suppression list (docs/bounces.md, docs/suppression.md) against
# the real daemon: a receiving peer (aiosmtpd) that refuses some recipients as Gmail, Spamhaus
# users and full mailboxes do; the events carry each failure's category; hard bounces go on the
# list and the sending API refuses those addresses afterwards, a reputation block does not; the
# list managed with `tern suppress` and over HTTP while the daemon runs.
import json
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import CLI_TIMEOUT, free_port, toml_text
from test_api import apikey, call, get_events, post

SHOP = "shop.example"
PEER = "127.0.0.13"
REPLIES = {
    "gone@peer.test": "550 5.1.1 The email account that you tried to reach does not exist.",
    "blocked@peer.test": "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using "
                         "zen.spamhaus.org",
    "full@peer.test": "452 4.2.2 The email account that you tried to reach is over quota.",
    "custom@peer.test": "550 5.0.0 closed by the customs office",
}


def suppress(t, *args, check=True, stdin=None):
    proc = subprocess.run([t.binary, "-c", str(t.config_path), "suppress", *args],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT, input=stdin)
    if check:
        assert proc.returncode == 0, proc
    return proc


def listed(t):
    return {e["address"]: e for e in json.loads(suppress(t, "list", "--json").stdout)}


def request(t, method, path, key, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(f"http://127.0.0.1:{t.http_port}{path}", data=data, method=method)
    if data is not None:
        r.add_header("Content-Type", "application/json")
    return call(r, key)


def wait_events(t, key, wanted, timeout=30):
    """Events until every (type, recipient) of `wanted` is among them; {(type, rcpt): event}."""
    seen = {}
    cursor = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, page = get_events(t, key, f"?after={cursor}&limit=1000")
        assert status == 200, page
        for e in page["events"]:
            seen[(e["type"], e["recipient"])] = e
        cursor = page["next"]
        if set(wanted) <= set(seen):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"missing {set(wanted) - set(seen)}; have {sorted(seen)}")


@pytest.fixture
def bouncing(tern_factory, peers, tmp_path):
    """make(binary=None, **sections) -> Tern relaying peer.test to a peer that refuses REPLIES."""
    port = free_port()
    peer = peers(PEER, port, rules={"rcpt": REPLIES})

    def make(binary=None, **sections):
        # The failure notices to the senders go to the peer too.
        config = {"relay": {"routes": [f"peer.test = [{PEER}]:{port}",
                                       f"{SHOP} = [{PEER}]:{port}"]},
                  "queue": {"retry_schedule": ["1h"]}}
        config.update(sections)
        t = tern_factory(config, binary=binary)
        t.peer = peer
        t.key = apikey(t, "add", "shop", "--domains", SHOP).stdout.strip()
        t.admin = apikey(t, "add", "admin", "--domains", "*").stdout.strip()
        return t

    return make


def test_hard_bounces_are_suppressed_and_refused_by_the_api(bouncing, tern_binary):
    t = bouncing(binary=tern_binary)
    to = ["ok@peer.test", "gone@peer.test", "blocked@peer.test", "full@peer.test"]
    status, answer = post(t, {"from": f"news@{SHOP}", "to": to, "subject": "s", "text": "t"},
                          t.key)
    assert status == 200 and answer["queued"] == 4, answer
    seen = wait_events(t, t.key, [("delivered", "ok@peer.test"), ("bounced", "gone@peer.test"),
                                  ("bounced", "blocked@peer.test"),
                                  ("deferred", "full@peer.test")])
    assert seen[("bounced", "gone@peer.test")]["category"] == "invalid_recipient"
    assert seen[("bounced", "blocked@peer.test")]["category"] == "reputation_block"
    assert seen[("deferred", "full@peer.test")]["category"] == "mailbox_full"
    assert "category" not in seen[("delivered", "ok@peer.test")]
    # Only the dead address: a blocked sender and a full mailbox say nothing about the person.
    deadline = time.monotonic() + 10
    while "gone@peer.test" not in listed(t) and time.monotonic() < deadline:
        time.sleep(0.1)
    entries = listed(t)
    assert set(entries) == {"gone@peer.test"}, entries
    gone = entries["gone@peer.test"]
    assert gone["reason"] == "bounce" and gone["source"] == "tern", gone
    assert gone["detail"].startswith("invalid_recipient: 550 5.1.1 "), gone
    # The next request: the suppressed address is refused with its reason, the rest is sent;
    # the address is matched whatever its case.
    status, answer = post(t, {"from": f"news@{SHOP}", "to": ["Gone@Peer.Test", "ok@peer.test"],
                              "subject": "again", "text": "t"}, t.key)
    assert status == 200 and answer["queued"] == 1, answer
    refused, sent = answer["recipients"]
    assert refused["status"] == "suppressed" and refused["reason"] == "bounce", refused
    assert "id" not in refused
    assert sent["status"] == "queued", sent
    seen = wait_events(t, t.key, [("suppressed", "Gone@Peer.Test")])
    event = seen[("suppressed", "Gone@Peer.Test")]
    # A key for one domain learns the reason, not the detail (it may be about others' mail).
    assert event["reply"] == "bounce", event
    assert event["auth"] == "shop" and event["source"] == "http", event
    status, answer = post(t, {"from": f"news@{SHOP}", "to": ['"gone"@peer.test'],
                              "subject": "quoted", "text": "t"}, t.admin)
    assert status == 422 and answer["recipients"][0]["status"] == "suppressed", answer
    seen = wait_events(t, t.admin, [("suppressed", '"gone"@peer.test')])
    assert seen[("suppressed", '"gone"@peer.test')]["reply"].startswith(
        "bounce: invalid_recipient: 550 5.1.1"), seen
    # Suppressed last: the recipients before it are still sent.
    status, answer = post(t, {"from": f"news@{SHOP}", "to": ["ok@peer.test", "gone@peer.test"],
                              "subject": "last", "text": "t"}, t.key)
    assert status == 200 and answer["queued"] == 1, answer
    assert [r["status"] for r in answer["recipients"]] == ["queued", "suppressed"], answer
    # A raw message too; all recipients suppressed: nothing queued, 422.
    raw = f"From: news@{SHOP}\r\nSubject: raw\r\n\r\nbody\r\n"
    status, answer = post(t, {"raw": raw, "to": ["gone@peer.test"]}, t.key)
    assert status == 422 and answer["queued"] == 0, answer
    assert answer["recipients"][0]["status"] == "suppressed"
    # The peer saw the dead address once, at the first attempt only.
    time.sleep(1)
    delivered = [env for env, _ in t.peer.messages()]
    assert sum("ok@peer.test" in env["rcpt_tos"] for env in delivered) == 3, delivered
    reads = "".join(json.loads(l).get("data", "")
                    for l in (t.peer.dir / "reads.jsonl").read_text().splitlines())
    assert reads.lower().count("rcpt to:<gone@peer.test>") == 1, reads
    t.wait_for_log(r"delivery.*gone@peer\.test.*invalid_recipient")


def test_suppress_command(bouncing):
    t = bouncing()
    made = suppress(t, "add", "Bob@Peer.test", "--reason", "unsubscribe", "--detail",
                    "asked by phone")
    assert "1 address on the list (1 new)" in made.stderr, made.stderr
    suppress(t, "add", "--file", "-", stdin="# imported\nx@example.org\n\ny@example.org\r\n")
    entries = listed(t)
    assert set(entries) == {"bob@peer.test", "x@example.org", "y@example.org"}, entries
    assert entries["bob@peer.test"]["reason"] == "unsubscribe"
    assert entries["bob@peer.test"]["detail"] == "asked by phone"
    assert entries["bob@peer.test"]["source"] == "cli"
    assert entries["x@example.org"]["reason"] == "manual"
    text = suppress(t, "list").stdout
    assert "bob@peer.test  unsubscribe  " in text and "asked by phone" in text, text
    database = t.data_dir / "suppressions.sqlite"
    assert oct(database.stat().st_mode & 0o777) == "0o600"
    # The running daemon refuses at once what the command added, and sends at once what it
    # took off.
    body = {"from": f"news@{SHOP}", "to": ["bob@peer.test"], "subject": "s", "text": "t"}
    status, answer = post(t, body, t.key)
    assert status == 422 and answer["recipients"][0]["reason"] == "unsubscribe", answer
    suppress(t, "del", "BOB@peer.test")
    status, answer = post(t, body, t.key)
    assert status == 200 and answer["queued"] == 1, answer
    # Refusals: exit 1 with a reason; nothing changed.
    for args, says in [(["add", "not an address"], "not a valid address"),
                       (["add", "a@example.org", "--reason", "spam"], "--reason"),
                       (["del", "nobody@example.org"], "not on the list"),
                       (["add"], "at least one address"),
                       (["add", "a@example.org", "--tenant", "bad tenant"], "tenant")]:
        proc = suppress(t, *args, check=False)
        assert proc.returncode == 1 and says in proc.stderr, (args, proc)
    assert set(listed(t)) == {"x@example.org", "y@example.org"}
    # A tenant's list is its own.
    suppress(t, "add", "t@example.org", "--tenant", "acme")
    acme = json.loads(suppress(t, "list", "--tenant", "acme", "--json").stdout)
    assert [(e["address"], e["tenant"]) for e in acme] == [("t@example.org", "acme")]


def test_suppressions_over_http(bouncing):
    t = bouncing()
    base = "/api/v1/suppressions"
    status, answer = request(t, "PUT", base, t.key, {"suppressions": [
        {"address": "A@example.org", "reason": "unsubscribe"},
        {"address": "b@example.org", "reason": "complaint", "detail": "ARF from a provider"},
        {"address": "c@example.org"}]})
    # A key for some domains is not told what the list held.
    assert status == 200 and answer == {"stored": 3}, answer
    status, answer = request(t, "PUT", base + "/d%40example.org", t.admin, {"reason": "bounce"})
    assert status == 200 and answer == {"stored": 1, "new": 1}, answer
    # ...nor may it replace an entry (an unsubscribe stays one).
    status, answer = request(t, "PUT", base + "/a%40example.org", t.key, {"reason": "manual"})
    assert status == 200, answer
    status, answer = request(t, "PUT", base + "/e@example.org", t.key)
    assert status == 200, answer
    # A key for one sender domain may add, not read or delete.
    assert request(t, "GET", base, t.key)[0] == 403
    assert request(t, "DELETE", base + "/a@example.org", t.key)[0] == 403
    status, page = request(t, "GET", base + "?limit=2", t.admin)
    assert status == 200, page
    assert [e["address"] for e in page["suppressions"]] == ["a@example.org", "b@example.org"]
    assert page["next"] == "b@example.org"
    first = page["suppressions"][0]
    assert first["reason"] == "unsubscribe" and first["source"] == "api:shop", first
    assert isinstance(first["created"], int)
    status, page = request(t, "GET", base + "?limit=2&after=" + urllib.parse.quote(page["next"]),
                           t.admin)
    assert [e["address"] for e in page["suppressions"]] == ["c@example.org", "d@example.org"]
    status, page = request(t, "GET", base + "?limit=2&after=d%40example.org", t.admin)
    assert [e["address"] for e in page["suppressions"]] == ["e@example.org"]
    assert page["next"] is None
    status, one = request(t, "GET", base + "/B@Example.org", t.admin)
    assert status == 200 and one["reason"] == "complaint", one
    assert one["detail"] == "ARF from a provider"
    status, answer = request(t, "DELETE", base + "/b@example.org", t.admin)
    assert status == 200 and answer == {"deleted": "b@example.org"}, answer
    assert request(t, "DELETE", base + "/b@example.org", t.admin)[0] == 404
    assert request(t, "GET", base + "/b@example.org", t.admin)[0] == 404
    assert set(listed(t)) == {"a@example.org", "c@example.org", "d@example.org", "e@example.org"}
    # Refusals name the field.
    for body, field in [({"suppressions": [{"address": "nope"}]}, "suppressions[0].address"),
                        ({"suppressions": [{"address": "x@y.org", "reason": "spam"}]},
                         "suppressions[0].reason"),
                        ({"suppressions": "x"}, "suppressions"),
                        ({"other": 1}, "other")]:
        status, answer = request(t, "PUT", base, t.key, body)
        assert status == 400 and answer["field"] == field, (body, answer)
    status, answer = request(t, "PUT", base + "/not-an-address", t.key)
    assert status == 400 and answer["field"] == "address", answer
    assert request(t, "DELETE", base, t.admin)[0] == 405
    assert request(t, "GET", base, None)[0] == 401
    assert request(t, "GET", base + "?limit=0", t.admin)[0] == 400
    too_many = {"suppressions": [{"address": f"u{i}@example.org"} for i in range(10001)]}
    status, answer = request(t, "PUT", base, t.key, too_many)
    assert status == 400 and answer["field"] == "suppressions", answer


def test_operator_rules_and_categories(bouncing, tmp_path):
    rules = tmp_path / "bounce.toml"
    rules.write_text("[[rule]]\ncategory = \"customs\"\ncode = \"5\"\n"
                     "text = 'customs office'\n")
    t = bouncing(bounce={"rules_file": str(rules)},
                 suppression={"on_bounce": ["customs"]})
    status, answer = post(t, {"from": f"news@{SHOP}", "to": ["custom@peer.test",
                                                              "gone@peer.test"],
                              "subject": "s", "text": "t"}, t.key)
    assert status == 200, answer
    seen = wait_events(t, t.key, [("bounced", "custom@peer.test"),
                                  ("bounced", "gone@peer.test")])
    assert seen[("bounced", "custom@peer.test")]["category"] == "customs"
    assert seen[("bounced", "gone@peer.test")]["category"] == "invalid_recipient"
    deadline = time.monotonic() + 10
    while not listed(t) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    # on_bounce names only "customs": the dead address is not added by this configuration.
    assert set(listed(t)) == {"custom@peer.test"}


def test_the_docs_rules_example_loads(tern_factory, tmp_path):
    """The rules file example of docs/bounces.md is a valid rules file."""
    import re
    from conftest import ROOT
    doc = (ROOT / "docs" / "bounces.md").read_text()
    example = re.search(r"```text\n(# /etc/tern/bounce.toml.*?)```", doc, re.S).group(1)
    rules = tmp_path / "bounce.toml"
    rules.write_text(example)
    t = tern_factory({"bounce": {"rules_file": str(rules)}}, start=False)
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    check = subprocess.run([t.binary, "check-config", str(t.config_path)], capture_output=True,
                           text=True, timeout=CLI_TIMEOUT)
    assert check.returncode == 0, check


def test_a_bad_rules_file_stops_the_start_and_check_config_names_it(tern_factory, tmp_path):
    rules = tmp_path / "bounce.toml"
    rules.write_text("[[rule]]\ncategory = \"x\"\ncode = \"9\"\n")
    t = tern_factory({"bounce": {"rules_file": str(rules)}}, start=False)
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    check = subprocess.run([t.binary, "check-config", str(t.config_path)], capture_output=True,
                           text=True, timeout=CLI_TIMEOUT)
    assert check.returncode == 1 and f"{rules}:1: 'code'" in check.stderr, check
    run = subprocess.run([t.binary, "serve", "-c", str(t.config_path)], capture_output=True,
                         text=True, timeout=CLI_TIMEOUT)
    assert run.returncode != 0 and "bounce.rules_file" in run.stderr, run


def test_suppression_off(bouncing):
    t = bouncing(suppression={"enabled": False})
    assert request(t, "GET", "/api/v1/suppressions", t.admin)[0] == 404
    status, answer = post(t, {"from": f"news@{SHOP}", "to": ["gone@peer.test"],
                              "subject": "s", "text": "t"}, t.key)
    assert status == 200, answer
    wait_events(t, t.key, [("bounced", "gone@peer.test")])
    status, answer = post(t, {"from": f"news@{SHOP}", "to": ["gone@peer.test"],
                              "subject": "s", "text": "t"}, t.key)
    assert status == 200 and answer["queued"] == 1, answer
    assert not (t.data_dir / "suppressions.sqlite").exists()


def test_docs_curl_examples(bouncing):
    """Every curl example of docs/suppression.md, run as written, in order."""
    import os
    import re
    from conftest import ROOT
    t = bouncing()
    doc = (ROOT / "docs" / "suppression.md").read_text()
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", doc, re.S) if b.startswith("curl")]
    commands = [c for b in blocks for c in re.split(r"\n(?=curl )", b.strip())]
    assert len(commands) == 5, commands
    env = {**os.environ, "TERN_API_KEY": t.key, "TERN_ADMIN_KEY": t.admin}
    answers = []
    for command in commands:
        command = command.replace("127.0.0.1:8025", f"127.0.0.1:{t.http_port}")
        proc = subprocess.run(["bash", "-c", command + " -w '\\n%{http_code}'"],
                              capture_output=True, text=True, env=env, timeout=CLI_TIMEOUT)
        assert proc.returncode == 0, proc
        body, code = proc.stdout.rsplit("\n", 1)
        assert code == "200", (command, proc.stdout)
        answers.append(json.loads(body))
    assert answers[0] == {"stored": 2}
    assert {e["address"] for e in answers[2]["suppressions"]} == {
        "bob@example.net", "old@example.net", "carol@example.net"}
    assert answers[3]["reason"] == "unsubscribe"
    assert answers[4] == {"deleted": "bob@example.net"}
    assert set(listed(t)) == {"old@example.net", "carol@example.net"}


def test_smtputf8_only_for_the_messages_that_need_it(bouncing):
    """One recipient with a UTF-8 address in a request: its own message is sent with SMTPUTF8
    (RFC 6531), the ASCII recipient's message without (a receiver without SMTPUTF8 takes it)."""
    t = bouncing()
    status, answer = post(t, {"from": f"news@{SHOP}", "to": ["jörg@peer.test", "ok@peer.test"],
                              "subject": "s", "text": "t"}, t.key)
    assert status == 200 and answer["queued"] == 2, answer
    envelopes = {}
    deadline = time.monotonic() + 15
    while len(envelopes) < 2 and time.monotonic() < deadline:
        envelopes = {env["rcpt_tos"][0]: env for env, _ in t.peer.messages()}
        time.sleep(0.1)
    assert "SMTPUTF8" in envelopes["jörg@peer.test"]["mail_options"], envelopes
    assert "SMTPUTF8" not in envelopes["ok@peer.test"]["mail_options"], envelopes
