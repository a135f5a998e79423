# The sending API (docs/api.md) against the real daemon: keys made with `tern apikey`, requests
# from curl (the examples of docs/api.md, run as written) and from Python's urllib, messages
# delivered to Maildirs and read back with Python's email parser, DKIM signatures checked with
# dkimpy, and the refusals a client must get for a bad request.
import base64
import email
import email.policy
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import CLI_TIMEOUT, ROOT, TERN_BIN
from dkim_tools import keygen

SHOP = "shop.example"   # the sender domain of the keys below (not local: mail from it is signed)


def apikey(t, *args, check=True):
    proc = subprocess.run([t.binary, "-c", str(t.config_path), "apikey", *args],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)
    if check:
        assert proc.returncode == 0, proc
    return proc


def post(t, body, key=None, content_type="application/json", raw=None):
    """(status, parsed JSON answer) of POST /api/v1/messages."""
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{t.http_port}/api/v1/messages",
                                     data=data, method="POST")
    if content_type:
        request.add_header("Content-Type", content_type)
    return call(request, key)


def call(request, key):
    """(status, parsed JSON answer) of `request` made with `key`."""
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def parse(delivered):
    return email.message_from_bytes(delivered, policy=email.policy.default)


@pytest.fixture
def api_tern(tern_factory, tern_binary):
    t = tern_factory(binary=tern_binary)
    t.key = apikey(t, "add", "shop", "--domains", f"{SHOP},*.{SHOP}").stdout.strip()
    return t


def test_apikey_command(tern):
    made = apikey(tern, "add", "erp", "--domains", "Example.ORG,*.example.net")
    key = made.stdout.strip()
    assert re.fullmatch(r"tern_[0-9a-f]{64}", key), made.stdout
    assert "shown this once" in made.stderr
    text = (tern.data_dir / "api-keys").read_text()
    assert key not in text and "erp " in text and "example.org,*.example.net" in text
    assert oct((tern.data_dir / "api-keys").stat().st_mode & 0o777) == "0o600"
    listed = json.loads(apikey(tern, "list", "--json").stdout)
    assert [(k["name"], k["domains"]) for k in listed] == [("erp", ["example.org",
                                                                     "*.example.net"])]
    assert apikey(tern, "add", "erp", "--domains", "example.org", check=False).returncode == 1
    assert apikey(tern, "add", "x", "--domains", "not a domain", check=False).returncode == 1
    assert apikey(tern, "add", "bad name", "--domains", "example.org",
                  check=False).returncode == 1
    missing = apikey(tern, "add", "y", check=False)
    assert missing.returncode != 0 and "--domains" in missing.stderr
    # Valid at once in the running daemon, and gone at once after del.
    body = {"from": "app@example.org", "to": ["bob@localhost"], "subject": "s", "text": "t"}
    assert post(tern, body, key)[0] == 200
    apikey(tern, "del", "erp")
    assert post(tern, body, key)[0] == 401
    assert apikey(tern, "del", "erp", check=False).returncode == 1


def test_structured_message_with_templates_and_attachments(api_tern):
    t = api_tern
    pdf = bytes(range(256)) * 40
    status, answer = post(t, {
        "from": {"address": f"orders@{SHOP}", "name": "Shop Ünïcode"},
        "reply_to": f"help@{SHOP}",
        "to": [{"address": "bob@localhost", "name": "Bob",
                "substitutions": {"first": "Tom & <Jerry>", "items": [{"t": "tea"}, {"t": "cups"}]}},
               {"address": "alice@localhost", "substitutions": {"first": "Alice", "items": []}}],
        "subject": "Hello {{first}} ☕ — your order",
        "text": "Hi {{first}},\n{{#items}}- {{t}}\n{{/items}}{{^items}}nothing\n{{/items}}",
        "html": "<p>Hi {{first}}</p><img src=\"cid:logo\">",
        "headers": {"X-Campaign": "spring ünï"},
        "attachments": [{"filename": "Rechnung ä.pdf", "content_type": "application/pdf",
                         "content": base64.b64encode(pdf).decode()},
                        {"inline": True, "content_id": "logo", "content_type": "image/png",
                         "content": base64.b64encode(b"\x89PNG fake").decode()}],
        "substitutions": {"shop": "Example"},
    }, t.key)
    assert status == 200, answer
    assert answer["queued"] == 2
    ids = [r["id"] for r in answer["recipients"]]
    assert [r["status"] for r in answer["recipients"]] == ["queued", "queued"]
    assert len(set(ids)) == 2, "one message for each recipient"
    bob = parse(t.wait_for_message("bob", timeout=15))
    assert bob["Subject"] == "Hello Tom & <Jerry> ☕ — your order"
    assert bob["To"] == "Bob <bob@localhost>"
    assert bob["From"] == f"Shop Ünïcode <orders@{SHOP}>"
    assert bob["Reply-To"] == f"help@{SHOP}"
    assert bob["X-Campaign"] == "spring ünï"
    assert bob["Message-ID"].endswith("@mx.tern.test>")
    assert "Tern HTTP API, key shop" in bob["Received"]
    assert bob.get_content_type() == "multipart/mixed"
    text = bob.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n") == "Hi Tom & <Jerry>,\n- tea\n- cups\n"
    html = bob.get_body(("html",)).get_content()
    assert "<p>Hi Tom &amp; &lt;Jerry&gt;</p>" in html
    attachments = list(bob.iter_attachments())
    names = {a.get_filename(): a for a in attachments}
    assert names["Rechnung ä.pdf"].get_content() == pdf
    related = [p for p in bob.walk() if p.get_content_type() == "multipart/related"]
    assert related, [p.get_content_type() for p in bob.walk()]
    alice = parse(t.wait_for_message("alice", timeout=15))
    assert alice["Subject"] == "Hello Alice ☕ — your order"
    assert alice.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Hi Alice,\nnothing\n"
    assert "bob@localhost" not in alice.as_string()


def test_raw_message_one_queue_id(tern, tmp_path):
    key = apikey(tern, "add", "raw", "--domains", SHOP).stdout.strip()
    raw = f"From: news@{SHOP}\nTo: list@{SHOP}\nSubject: raw one\n\nline {{{{x}}}}\n"
    status, answer = post(tern, {"sender": f"bounces@{SHOP}",
                                 "to": ["alice@localhost", "bob@localhost"], "raw": raw}, key)
    assert status == 200, answer
    assert len({r["id"] for r in answer["recipients"]}) == 1
    delivered = tern.wait_for_message("bob", timeout=15)
    assert delivered.startswith(f"Return-Path: <bounces@{SHOP}>".encode()), delivered[:80]
    assert b"Subject: raw one\n" in delivered and b"line {{x}}\n" in delivered
    tern.wait_for_message("alice", timeout=15)


def test_refusals(tern_factory):
    t = tern_factory({"api": {"max_recipients": 3}, "http": {"max_body": "64K"}})
    key = apikey(t, "add", "shop", "--domains", SHOP).stdout.strip()
    good = {"from": f"a@{SHOP}", "to": ["bob@localhost"], "subject": "s", "text": "t"}
    # Keys.
    assert post(t, good)[0] == 401
    status, answer = post(t, good, "tern_" + "0" * 64)
    assert status == 401 and answer["error"] == "unknown API key"
    status, answer = post(t, {**good, "from": "a@example.org"}, key)
    assert (status, answer["field"]) == (403, "from"), answer
    status, answer = post(t, {**good, "sender": "b@example.org"}, key)
    assert (status, answer["field"]) == (403, "sender"), answer
    status, answer = post(t, {"to": ["bob@localhost"], "raw": "From: x@example.org\r\n\r\nb\r\n"},
                          key)
    assert (status, answer["field"]) == (403, "raw"), answer
    # Requests that are wrong: 400 naming the field; nothing spooled.
    for body, field in [
        ({**good, "htlm": "<p>"}, "htlm"),
        ({**good, "to": ["bob@localhost", "no address"]}, "to[1]"),
        ({**good, "to": ["a@localhost"] * 4}, "to"),
        ({**good, "subject": "a\r\nBcc: victim@example.net"}, "subject"),
        ({**good, "from": {"address": f"a@{SHOP}", "name": "x\nBcc: v@example.net"}}, "from.name"),
        ({**good, "headers": {"X-A": "v\r\nBcc: v@example.net"}}, "headers.X-A"),
        ({**good, "headers": {"Bcc": "v@example.net"}}, "headers.Bcc"),
        ({**good, "attachments": [{"filename": "a", "content": "!!"}]}, "attachments[0].content"),
        ({**good, "substitutions": {}, "text": "{{> partial}}"}, "text"),
        ({**good, "substitutions": {}, "text": "{{#open}}"}, "text"),
        ({**good, "substitutions": {"p": "{{\n>p}}"}, "text": "{{\n>p}}"}, "text"),
        ({**good, "headers": {"Sender": "ceo@example.org"}}, "headers.Sender"),
        ({**good, "headers": {"Authentication-Results": "mx; dmarc=pass"}},
         "headers.Authentication-Results"),
        ({"to": ["bob@localhost"], "raw": f"Subject: x\rFrom: a@{SHOP}\r\n\r\nb\r\n"}, "raw"),
    ]:
        status, answer = post(t, body, key)
        assert (status, answer.get("field")) == (400, field), (body, answer)
    for raw, words in [(b'{"to": ', "JSON"), (b'{"subject": "\xff\xfe"}', "JSON"),
                       (b'{"x": ' + b"[" * 100 + b"]" * 100 + b"}", "nested")]:
        status, answer = post(t, None, key, raw=raw)
        assert status == 400 and answer["field"] == "body" and words in answer["error"], answer
    assert post(t, good, key, content_type="text/plain")[0] == 415
    status, _ = post(t, None, key, raw=json.dumps({**good, "text": "x" * 100000}).encode())
    assert status == 413
    # A substitution that breaks the subject fails for its recipient alone.
    status, answer = post(t, {**good, "subject": "Hi {{n}}", "to": [
        {"address": "bob@localhost", "substitutions": {"n": "x\r\nBcc: v@example.net"}},
        {"address": "alice@localhost", "substitutions": {"n": "Alice"}}]}, key)
    assert status == 200, answer
    assert [r["status"] for r in answer["recipients"]] == ["refused", "queued"], answer
    assert answer["recipients"][0]["error"].startswith("subject"), answer
    t.wait_for_message("alice", timeout=15)
    assert t.messages("bob") == []
    status, answer = post(t, {**good, "subject": "Hi {{n}}", "substitutions": {"n": "\n"}}, key)
    assert status == 422 and answer["queued"] == 0, answer
    assert t.messages("bob") == []


def test_dkim_signed_and_verified_by_dkimpy(tern_factory, tmp_path):
    dkim = pytest.importorskip("dkim")
    keys = {s: keygen(tmp_path, SHOP, s, a) for s, a in (("tern-rsa", "rsa"),
                                                          ("tern-ed25519", "ed25519"))}
    t = tern_factory({"dkim": {"sign": True, "domains": [SHOP], "key_dir": str(tmp_path)}})
    key = apikey(t, "add", "shop", "--domains", SHOP).stdout.strip()
    status, answer = post(t, {"from": f"a@{SHOP}", "to": ["bob@localhost"],
                              "subject": "Signed ✓", "text": "Body ü\n" * 50}, key)
    assert status == 200, answer
    delivered = t.wait_for_message("bob", timeout=15)
    text = delivered.split(b"\n", 2)[2].replace(b"\n", b"\r\n")  # without Return-Path, Delivered-To
    records = {f"{s}._domainkey.{SHOP}.".encode(): v.encode() for s, (_, v) in keys.items()}
    d = dkim.DKIM(text)
    signatures = re.findall(rb"^DKIM-Signature:", text, re.M)
    assert len(signatures) == 2, text[:600]
    for i in range(2):
        assert d.verify(idx=i, dnsfunc=lambda name, timeout=5: records.get(
            name if name.endswith(b".") else name + b".")), i


def test_docs_curl_examples(tern_factory):
    """Every curl example of docs/api.md, run as written against a daemon with a key for
    example.org."""
    # The examples mail example.net, whose null MX bounces them at once: without this, the
    # first example's bounces would put the next ones' recipients on the suppression list.
    tern = tern_factory({"suppression": {"on_bounce": []}})
    key = apikey(tern, "add", "docs", "--domains", "example.org").stdout.strip()
    tern.config["local"]["users"] = ["alice", "bob"]
    doc = (ROOT / "docs" / "api.md").read_text()
    examples = [b for b in re.findall(r"```sh\n(.*?)```", doc, re.S) if b.startswith("curl")]
    assert len(examples) >= 3
    env = {**os.environ, "TERN_API_KEY": key}
    for example in examples:
        command = example.strip().replace("127.0.0.1:8025", f"127.0.0.1:{tern.http_port}")
        proc = subprocess.run(["bash", "-c", command + " -w '\\n%{http_code}'"],
                              capture_output=True, text=True, env=env, timeout=CLI_TIMEOUT)
        assert proc.returncode == 0, proc
        body, code = proc.stdout.rsplit("\n", 1)
        assert code == "200", (example, proc.stdout)
        answer = json.loads(body)
        assert answer["queued"] == len(answer["recipients"]), answer


def get_events(t, key, query=""):
    return call(urllib.request.Request(f"http://127.0.0.1:{t.http_port}/api/v1/events{query}"), key)


def test_events_of_each_outcome_with_a_cursor(tern_factory, tern_binary):
    from conftest import free_port
    dead = free_port()  # nothing listens there: relaying is deferred
    t = tern_factory({"relay": {"routes": [f"dead.test = [127.0.0.1]:{dead}"]}},
                     binary=tern_binary)
    key = apikey(t, "add", "shop", "--domains", SHOP).stdout.strip()
    other = apikey(t, "add", "other", "--domains", "example.com").stdout.strip()
    status, answer = post(t, {"from": f"a@{SHOP}", "to": ["bob@localhost", "x@dead.test"],
                              "subject": "s", "text": "t"}, key)
    assert status == 200, answer
    # Mail from outside with the key's domain as its sender is not the key's business.
    forged = t.send_message(f"From: ceo@{SHOP}\r\nSubject: forged\r\n\r\nx\r\n".encode(),
                            sender=f"ceo@{SHOP}", recipients=["alice@localhost"])
    assert forged.code == 250, forged
    ids = {r["address"]: r["id"] for r in answer["recipients"]}
    seen = []
    cursor = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, page = get_events(t, key, f"?after={cursor}&limit=2")
        assert status == 200, page
        assert len(page["events"]) <= 2
        seen += page["events"]
        cursor = page["next"]
        kinds = {(e["type"], e["recipient"]) for e in seen}
        if {("delivered", "bob@localhost"), ("deferred", "x@dead.test")} <= kinds:
            break
        time.sleep(0.2)
    kinds = [(e["type"], e["recipient"]) for e in seen]
    assert all(e["auth"] == "shop" for e in seen), seen
    assert "alice@localhost" not in {e["recipient"] for e in seen}, seen
    assert ("accepted", "bob@localhost") in kinds and ("accepted", "x@dead.test") in kinds, kinds
    assert ("delivered", "bob@localhost") in kinds, kinds
    assert ("deferred", "x@dead.test") in kinds, kinds
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
    by = {(e["type"], e["recipient"]): e for e in seen}
    assert by[("accepted", "bob@localhost")]["source"] == "http"
    assert by[("accepted", "bob@localhost")]["auth"] == "shop"
    assert by[("accepted", "bob@localhost")]["id"] == ids["bob@localhost"]
    deferred = by[("deferred", "x@dead.test")]
    assert deferred["id"] == ids["x@dead.test"] and deferred["reply"], deferred
    assert deferred["attempts"] == 1
    # Nothing new after the cursor; another key's domain sees none of it.
    status, page = get_events(t, key, f"?after={cursor}")
    assert status == 200 and all(e["seq"] > cursor for e in page["events"]), page
    status, page = get_events(t, other, "?after=0&limit=1000")
    assert status == 200 and page["events"] == [], page
    assert get_events(t, key, "?limit=0")[0] == 400
    assert get_events(t, key, "?after=x")[0] == 400
    assert get_events(t, "tern_" + "1" * 64)[0] == 401
    # The log is a file in the data directory, one JSON line an event.
    lines = [json.loads(l) for f in sorted((t.data_dir / "events").glob("*.jsonl"))
             for l in f.read_text().splitlines()]
    assert [e["seq"] for e in lines][:len(seqs)] == list(range(1, len(seqs) + 1))


def test_idempotency_key(api_tern):
    """The same Idempotency-Key and body again: the first answer, not a second set of messages
    (draft-ietf-httpapi-idempotency-key-header); another body: 422; the key while its first
    request runs: 409; keys are per API key."""
    import threading
    t = api_tern
    body = {"from": f"news@{SHOP}", "to": ["bob@localhost", "alice@localhost"],
            "subject": "once", "text": "only once"}

    def send(body, idem, key=None):
        r = urllib.request.Request(f"http://127.0.0.1:{t.http_port}/api/v1/messages",
                                   data=json.dumps(body).encode(), method="POST")
        r.add_header("Content-Type", "application/json")
        r.add_header("Idempotency-Key", idem)
        r.add_header("Authorization", f"Bearer {key or t.key}")
        try:
            with urllib.request.urlopen(r, timeout=60) as answer:
                return answer.status, json.loads(answer.read()), answer.headers
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}"), e.headers

    status, first, headers = send(body, "order-1234")
    assert status == 200 and first["queued"] == 2, first
    assert headers.get("Idempotent-Replayed") is None
    status, again, headers = send(body, "order-1234")
    assert status == 200 and again == first, again
    assert headers.get("Idempotent-Replayed") == "true"
    t.wait_for_messages("bob", 1)
    time.sleep(1)
    assert len(t.messages("bob")) == 1 and len(t.messages("alice")) == 1
    # Another body under the same key; a malformed key.
    status, answer, _ = send({**body, "subject": "changed"}, "order-1234")
    assert status == 422 and answer["field"] == "Idempotency-Key", answer
    assert send(body, "x" * 256)[0] == 400
    assert send(body, "")[0] == 400
    # The same key with another API key is another request.
    other = apikey(t, "add", "shop2", "--domains", SHOP).stdout.strip()
    status, answer, _ = send(body, "order-1234", other)
    assert status == 200 and answer["recipients"][0]["id"] != first["recipients"][0]["id"]
    # An answer about the request rather than its body is not kept: the fixed retry runs.
    r = urllib.request.Request(f"http://127.0.0.1:{t.http_port}/api/v1/messages",
                               data=json.dumps(body).encode(), method="POST")
    r.add_header("Content-Type", "application/x-www-form-urlencoded")
    r.add_header("Idempotency-Key", "fixed-later")
    assert call(r, t.key)[0] == 415
    status, answer, _ = send(body, "fixed-later")
    assert status == 200 and answer["queued"] == 2, answer
    # A refused request's answer is kept as well (the same 400 again).
    bad = {"from": f"news@{SHOP}", "to": ["not an address"], "subject": "s", "text": "t"}
    first_bad = send(bad, "bad-1")
    assert first_bad[0] == 400 and send(bad, "bad-1")[:2] == first_bad[:2]
    # While a large request runs, its key is busy: 409 (whichever of the two claimed it first).
    big = {"from": f"news@{SHOP}", "to": [f"bob+{i}@localhost" for i in range(3000)],
           "subject": "big", "text": "t"}
    results = []
    runner = threading.Thread(target=lambda: results.append(send(big, "big-1")))
    runner.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and runner.is_alive():
        results.append(send(big, "big-1"))
        if results[-1][0] == 409:
            break
    runner.join(60)
    statuses = [r[0] for r in results]
    assert 409 in statuses, statuses
    busy = next(r for r in results if r[0] == 409)
    assert busy[1]["field"] == "Idempotency-Key", busy[1]
    done = [r for r in results if r[0] != 409]
    assert done and done[0][0] == 200 and done[0][1]["queued"] == 3000, done[0][:2]
    assert send(big, "big-1")[:2] == done[0][:2]
