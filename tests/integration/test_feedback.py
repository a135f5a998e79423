# Reports that come back (docs/feedback.md) against the real daemon and a real Postfix: the
# sending API's messages leave with a VERP return path per recipient; Postfix takes a recipient
# it cannot deliver and later returns its own RFC 3464 report to that address; Tern reads it,
# makes a "bounced" event of the message and recipient the address names, and puts the address
# on the suppression list. A complaint (ARF) about the other recipient, carrying the Return-Path
# Postfix wrote into the delivered copy, does the same; forged addresses, auto-replies and
# unmatched reports change nothing.
import email.utils
import json
import re
import smtplib
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import CLI_TIMEOUT, free_port
from peers import PostfixPeer
from test_api import apikey, post
from test_suppression import listed, wait_events

SHOP = "shop.example"
BOUNCES = "bounces.shop.example"
REMOTE = "postfix.feedback.example"
POSTFIX_HOST = "127.0.0.71"
SECRET = "feedback secret for the tests"
VERP = re.compile(r"^b-([0-9a-z]+)-([0-9a-f]{10})-(.+)=(.+)@" + re.escape(BOUNCES) + "$")


def arf(original_headers, rcpt):
    """An RFC 5965 complaint report as a mailbox provider's feedback loop sends it."""
    boundary = "arf-boundary-1"
    return (f"From: Feedback Loop <fbl@provider.example>\r\n"
            f"To: fbl@{SHOP}\r\n"
            f"Subject: Complaint about a message\r\n"
            f"Date: {email.utils.formatdate()}\r\n"
            f"Message-ID: <{time.monotonic_ns()}@provider.example>\r\n"
            f"MIME-Version: 1.0\r\n"
            f"Content-Type: multipart/report; report-type=feedback-report;\r\n"
            f"\tboundary=\"{boundary}\"\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
            f"This is an email abuse report.\r\n\r\n"
            f"--{boundary}\r\nContent-Type: message/feedback-report\r\n\r\n"
            f"Feedback-Type: abuse\r\nUser-Agent: ProviderFBL/1.0\r\nVersion: 1\r\n"
            f"Original-Rcpt-To: <{rcpt}>\r\nSource-IP: 127.0.0.1\r\n\r\n"
            f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"{original_headers}\r\n"
            f"--{boundary}--\r\n")


def smtp_send(t, sender, rcpt, text):
    """(code of RCPT, code of the end of data or None)."""
    with smtplib.SMTP("127.0.0.1", t.port, timeout=30) as s:
        s.ehlo("provider.example")
        s.mail(sender)
        code, _ = s.rcpt(rcpt)
        if code != 250:
            return code, None
        code, _ = s.data(text.encode())
        return 250, code


def test_bounces_and_complaints_come_back(tern_factory):
    postfix_port = free_port()
    t = tern_factory({
        "relay": {"routes": [f"{REMOTE} = [{POSTFIX_HOST}]:{postfix_port}"]},
        "queue": {"retry_schedule": ["1h"]},
        "feedback": {"bounce_domain": BOUNCES, "secrets": [SECRET],
                     "addresses": [f"fbl@{SHOP}"]},
    })
    # Postfix takes any recipient of its domain and bounces the unknown ones later, as a
    # receiving system behind a gateway does; its reports to the bounce domain go to Tern.
    postfix = PostfixPeer(POSTFIX_HOST, postfix_port, REMOTE, ["olga"], extra_main_cf=(
        "smtpd_reject_unlisted_recipient = no\n"
        f"transport_maps = inline:{{{BOUNCES}=smtp:[127.0.0.1]:{t.port}}}\n"
        "smtp_tls_security_level = none\n"))
    try:
        key = apikey(t, "add", "shop", "--domains", SHOP).stdout.strip()
        status, answer = post(t, {"from": f"news@{SHOP}",
                                  "to": [f"olga@{REMOTE}", f"nobody@{REMOTE}"],
                                  "subject": "Our news", "text": "Hello"}, key)
        assert status == 200 and answer["queued"] == 2, answer
        ids = {r["address"]: r["id"] for r in answer["recipients"]}
        # Each recipient went in a transaction of its own, with its own return path.
        olga_copy, = postfix.wait_for_messages("olga", 1)
        return_path = re.search(rb"^Return-Path: <([^>]+)>", olga_copy, re.M).group(1).decode()
        m = VERP.match(return_path)
        assert m and m.group(3) == "olga" and m.group(4) == REMOTE, return_path
        assert m.group(1).upper() == ids[f"olga@{REMOTE}"], (return_path, ids)
        # Postfix's own report about nobody comes back to nobody's VERP address.
        try:
            seen = wait_events(t, key, [("bounced", f"nobody@{REMOTE}")], timeout=60)
        except AssertionError as e:
            raise AssertionError(f"{e}\nPostfix's log:\n{postfix.log()}") from None
        bounced = seen[("bounced", f"nobody@{REMOTE}")]
        assert bounced["report"] == "dsn", bounced
        assert bounced["id"] == ids[f"nobody@{REMOTE}"], (bounced, ids)
        assert bounced["category"] == "invalid_recipient", bounced
        assert "5.1.1" in bounced["reply"], bounced
        # The sender and key of the message, not of the report (whose sender was <>): the key
        # that sent it sees the event.
        assert bounced["sender"] == f"news@{SHOP}" and bounced["auth"] == "shop", bounced
        assert bounced["source"] == "http", bounced
        line = t.wait_for_log(r"info feedback .*result=bounced")
        assert f"recipient=nobody@{REMOTE}" in line, line
        deadline = time.monotonic() + 10
        while f"nobody@{REMOTE}" not in listed(t) and time.monotonic() < deadline:
            time.sleep(0.1)
        entry = listed(t)[f"nobody@{REMOTE}"]
        assert entry["reason"] == "bounce" and entry["detail"].startswith("invalid_recipient: "), entry
        # Olga complains; the provider's report carries the headers of her copy.
        headers = olga_copy.split(b"\n\n", 1)[0].decode().replace("\n", "\r\n")
        code, end = smtp_send(t, "fbl@provider.example", f"fbl@{SHOP}", arf(headers, f"olga@{REMOTE}"))
        assert (code, end) == (250, 250)
        seen = wait_events(t, key, [("complained", f"olga@{REMOTE}")])
        complaint = seen[("complained", f"olga@{REMOTE}")]
        assert complaint["category"] == "abuse" and complaint["report"] == "complaint", complaint
        assert complaint["id"] == ids[f"olga@{REMOTE}"], complaint
        deadline = time.monotonic() + 10
        while f"olga@{REMOTE}" not in listed(t) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listed(t)[f"olga@{REMOTE}"]["reason"] == "complaint"
        # The API now refuses both.
        status, answer = post(t, {"from": f"news@{SHOP}", "to": [f"olga@{REMOTE}", f"nobody@{REMOTE}"],
                                  "subject": "again", "text": "t"}, key)
        assert status == 422, answer
        assert [r["reason"] for r in answer["recipients"]] == ["complaint", "bounce"], answer
        # A forged VERP address is refused at RCPT; another address at the bounce domain too.
        forged = return_path.replace("-olga=", "-eve=")
        assert smtp_send(t, "", forged, "Subject: x\r\n\r\nx\r\n") == (550, None)
        assert smtp_send(t, "", f"anyone@{BOUNCES}", "Subject: x\r\n\r\nx\r\n") == (550, None)
        # An auto-reply to a VERP address is taken and read, and changes nothing.
        code, end = smtp_send(t, f"olga@{REMOTE}", return_path,
                              "From: olga@postfix.feedback.example\r\nSubject: Out of office\r\n"
                              "Auto-Submitted: auto-replied\r\n\r\nAway until Monday.\r\n")
        assert (code, end) == (250, 250)
        line = t.wait_for_log(r"info feedback .*reason=auto-reply")
        assert "result=ignored" in line, line
        # A complaint that names no message of ours (no VERP address in it) changes nothing.
        code, end = smtp_send(t, "fbl@provider.example", f"fbl@{SHOP}",
                              arf("From: someone@example.org\r\nTo: victim@example.net\r\n",
                                  "victim@example.net"))
        assert (code, end) == (250, 250)
        t.wait_for_log(r"info feedback .*report=complaint result=ignored")
        assert "victim@example.net" not in listed(t)
        # The reports were read, never delivered anywhere nor bounced.
        assert not [l for l in t.log_lines() if re.search(r"delivery .*to=fbl@.*status=(bounced|deferred)", l)]
    finally:
        postfix.stop()


def feedback_cli(t, *args, stdin=None):
    return subprocess.run([t.binary, "-c", str(t.config_path), "feedback", *args],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT, input=stdin)


def test_feedback_command(tern_factory):
    t = tern_factory({"feedback": {"bounce_domain": BOUNCES, "secrets": [SECRET]}})
    made = feedback_cli(t, "verp", "CRDZ0WA4HJ0A9RAP", "Jane.Doe@Example.net")
    assert made.returncode == 0, made
    address = made.stdout.strip()
    assert VERP.match(address), address
    back = feedback_cli(t, "verp", "--decode", address.upper())
    assert back.returncode == 0 and back.stdout.split() == ["CRDZ0WA4HJ0A9RAP", "jane.doe@example.net"], back
    forged = feedback_cli(t, "verp", "--decode", address.replace("jane.doe=", "john=", 1))
    assert forged.returncode == 1 and "not a VERP address" in forged.stderr, forged
    # A report from the corpus, read as the daemon reads it, with the events it makes where it
    # came (the sample's VERP address is not one of ours: no event).
    sample = Path(__file__).resolve().parents[1] / "unit/feedback/samples/postfix-user-unknown.eml"
    read = feedback_cli(t, "read", str(sample))
    assert read.returncode == 0, read
    report = json.loads(read.stdout)
    assert report["kind"] == "dsn", report
    first = report["recipients"][0]
    assert (first["action"], first["status"], first["category"]) == ("failed", "5.1.1", "invalid_recipient"), first
    # The same report to an address of ours, from standard input: a bounced event of that
    # message and recipient.
    text = sample.read_text(errors="replace")
    ours = feedback_cli(t, "verp", "ABC123", first["recipient"]).stdout.strip()
    read = feedback_cli(t, "read", "-", "--to", ours, stdin=text)
    events = json.loads(read.stdout)["events"]
    assert [(e["type"], e["id"], e["recipient"], e["category"]) for e in events] == [
        ("bounced", "ABC123", first["recipient"].lower(), "invalid_recipient")], events
    assert feedback_cli(t, "read", "/nonexistent").returncode == 1


def http(t, method, url_path, data=None):
    """(status, body text) of a request without a key, as a mail client or a browser makes it."""
    request = urllib.request.Request(f"http://127.0.0.1:{t.http_port}{url_path}", data=data,
                                     method=method)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_one_click_unsubscribe_and_compact_verp(tern_factory, peers):
    port = free_port()
    peer = peers("127.0.0.72", port)
    t = tern_factory({
        "relay": {"routes": [f"peer.test = [127.0.0.72]:{port}"]},
        "feedback": {"bounce_domain": BOUNCES, "secrets": [SECRET],
                     "unsubscribe_url": "http://127.0.0.1:8025/"},
    })
    key = apikey(t, "add", "news", "--domains", SHOP).stdout.strip()
    long_address = "firstname.lastname.of.someone@peer.test"  # no room for a full VERP address
    status, answer = post(t, {"from": f"news@{SHOP}", "to": ["ann@peer.test", long_address],
                              "subject": "Our news", "text": "Hello", "unsubscribe": True}, key)
    assert status == 200 and answer["queued"] == 2, answer
    ids = {r["address"]: r["id"] for r in answer["recipients"]}
    messages = {env["rcpt_tos"][0]: (env, data) for env, data in peer.wait_for_messages(2)}
    # RFC 8058: an HTTP(S) URI and the one-click field, per recipient.
    env, data = messages["ann@peer.test"]
    url = re.search(rb"^List-Unsubscribe: <([^>]+)>\r?$", data, re.M).group(1).decode()
    assert re.search(rb"^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$", data, re.M), data
    assert url.startswith("http://127.0.0.1:8025/unsubscribe/"), url
    path = url[len("http://127.0.0.1:8025"):]
    # The long address left with the compact VERP form, within 64 octets.
    long_env, _ = messages[long_address]
    local = long_env["mail_from"].split("@")[0]
    assert re.fullmatch(r"b-[0-9a-z]+-[0-9a-f]{10}", local) and len(local) <= 64, long_env
    assert VERP.match(env["mail_from"]), env
    # GET shows a page that asks and unsubscribes no one (link scanners fetch every URL).
    status, page = http(t, "GET", path)
    assert status == 200 and "ann@peer.test" in page and 'method="post"' in page, page
    assert http(t, "HEAD", path)[0] == 200  # scanners use HEAD too
    assert "ann@peer.test" not in listed(t)
    status, page = http(t, "GET", path[:-2] + "xx")
    assert status == 404, page
    status, page = http(t, "POST", path[:-2] + "xx", b"List-Unsubscribe=One-Click")
    assert status == 404 and "ann@peer.test" not in listed(t), page
    # The page's button posts its form: the other recipient's link, as a browser would.
    other_url = re.search(rb"^List-Unsubscribe: <([^>]+)>\r?$", messages[long_address][1],
                          re.M).group(1).decode()
    status, page = http(t, "POST", other_url[len("http://127.0.0.1:8025"):], b"confirm=yes")
    assert status == 200 and listed(t)[long_address]["detail"] == "unsubscribe page", page
    # The mail client's POST unsubscribes; a second one changes nothing.
    status, page = http(t, "POST", path, b"List-Unsubscribe=One-Click")
    assert status == 200 and "Unsubscribed" in page, page
    assert http(t, "POST", path, b"List-Unsubscribe=One-Click")[0] == 200
    entry = listed(t)["ann@peer.test"]
    assert entry["reason"] == "unsubscribe" and entry["detail"] == "one-click", entry
    assert entry["source"] == "unsubscribe:news", entry
    seen = wait_events(t, key, [("unsubscribed", "ann@peer.test")])
    assert seen[("unsubscribed", "ann@peer.test")]["auth"] == "news"
    status, answer = post(t, {"from": f"news@{SHOP}", "to": ["ann@peer.test"], "subject": "s",
                              "text": "t"}, key)
    assert status == 422 and answer["recipients"][0]["reason"] == "unsubscribe", answer
    # A report to the compact address: its recipient is found among the message's.
    dsn = (f"From: MAILER-DAEMON@peer.test\r\nTo: {long_env['mail_from']}\r\n"
           "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
           "--b\r\nContent-Type: text/plain\r\n\r\nNo.\r\n\r\n"
           "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
           "Reporting-MTA: dns; peer.test\r\n\r\n"
           f"Final-Recipient: rfc822; {long_address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n--b--\r\n")
    assert smtp_send(t, "", long_env["mail_from"], dsn) == (250, 250)
    seen = wait_events(t, key, [("bounced", long_address)])
    assert seen[("bounced", long_address)]["id"] == ids[long_address]
    # A compact address of a message that is not ours is taken, read, and changes nothing.
    fake = f"b-{ids[long_address].lower()}-0123456789@{BOUNCES}"
    assert smtp_send(t, "", fake, dsn)[0] == 250
    t.wait_for_log(r"info feedback .*result=ignored reason=\"?no message of ours named")
    # Unsubscribe without the server's URL configured, or with raw: 400 naming the field.
    status, answer = post(t, {"raw": f"From: news@{SHOP}\r\n\r\nx\r\n", "to": ["x@peer.test"],
                              "unsubscribe": True}, key)
    assert status == 400 and answer["field"] == "unsubscribe", answer
