# Relaying to other domains end to end: a real DNS server on loopback (dnslib) and real SMTP
# peers on 127.0.0.x (aiosmtpd, Postfix's smtp-sink, a Postfix instance) as mail exchangers.
import re
import subprocess

import pytest

from conftest import HOSTNAME, RELAY_BODY as BODY, queue_show, send, wait_gone, wait_recipient
from peers import DnsServer, PostfixPeer, SmtpSink, parse_mail

ZONE = """\
$ORIGIN relay.example.
$TTL 60
@ IN SOA ns.relay.example. hostmaster.relay.example. 1 3600 600 86400 60
two-mx IN MX 10 mx1.two-mx.relay.example.
two-mx IN MX 20 mx2.two-mx.relay.example.
mx1.two-mx IN A 127.0.0.11
mx2.two-mx IN A 127.0.0.12
a-only IN A 127.0.0.13
null-mx IN MX 0 .
loop IN MX 10 self.loop.relay.example.
self.loop IN A 127.0.0.20
cname IN MX 10 alias.cname.relay.example.
alias.cname IN CNAME real.cname.relay.example.
real.cname IN A 127.0.0.14
v6 IN MX 10 mx.v6.relay.example.
mx.v6 IN AAAA ::1
sink IN MX 10 mx.sink.relay.example.
mx.sink IN A 127.0.0.15
postfix IN MX 10 mx.postfix.relay.example.
mx.postfix IN A 127.0.0.16
slow IN MX 10 mx.slow.relay.example.
"""



@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    # Queries under slow.relay.example are never answered: a name whose server does not respond.
    server = DnsServer(tmp_path_factory.mktemp("dns"), ZONE,
                       drop=["mx.slow.relay.example", "slow.relay.example"],
                       servfail=["broken.relay.example"])
    yield server
    server.stop()


def notice_for(tern, user, timeout=15.0):
    """The one delivery status notification in `user`'s mailbox: (message, {field: [values]})
    with the fields of its (global-)delivery-status part, continuation lines unfolded."""
    files = tern.wait_for_messages(user, 1, timeout)
    assert len(files) == 1, files
    raw = files[0].read_bytes()
    msg = parse_mail(raw)
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status"
    boundary = msg.get_boundary().encode()
    parts = raw.split(b"--" + boundary)
    # RFC 6533: a notice about an SMTPUTF8 message uses message/global-delivery-status.
    status = next(p for p in parts if re.search(
        rb"Content-Type: message/(global-)?delivery-status", p, re.I))
    body = status.split(b"\n\n", 1)[1].decode("utf-8")  # a Maildir file: LF line ends
    fields = {}
    for line in re.sub(r"\n[ \t]+", " ", body).split("\n"):
        if ":" in line:
            key, value = line.split(":", 1)
            fields.setdefault(key.strip().lower(), []).append(value.strip())
    return msg, fields


# --- who may relay -------------------------------------------------------------------------------

def test_untrusted_client_cannot_relay_but_trusted_can(relay_tern):
    tern = relay_tern({"relay": {"trusted_networks": ["127.0.0.5/32"]}})
    with tern.dialog(source="127.0.0.1") as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<x@example.org>").code == 250
        r = d.cmd("RCPT TO:<bob@two-mx.relay.example>")
        assert (r.code, r.status) == (554, "5.7.1"), r
        # Local recipients are still accepted from anyone.
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
    with tern.dialog(source="127.0.0.5") as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<x@example.org>").code == 250
        assert d.cmd("RCPT TO:<bob@two-mx.relay.example>").code == 250


def test_default_trusted_networks_are_loopback_only(relay_tern):
    tern = relay_tern()
    assert "trusted_networks" not in tern.config.get("relay", {})
    # 127.0.0.1 is trusted by default; nothing else on this machine can be tried over loopback,
    # so the default list itself is checked against the reference.
    ref = subprocess.run([tern.binary, "config-reference"], capture_output=True, text=True,
                         timeout=10).stdout
    line = next(l for l in ref.splitlines() if l.startswith("| `trusted_networks`"))
    assert '["127.0.0.0/8", "::1/128"]' in line, line


def test_no_configuration_in_the_docs_is_an_open_relay(tmp_path):
    import glob
    from conftest import ROOT, TERN_BIN
    wide = re.compile(r'"(0\.0\.0\.0/0|::/0|0\.0\.0\.0/[0-7]|::/[0-7])"')
    blocks = []
    for path in [ROOT / "README.md", *sorted(glob.glob(str(ROOT / "docs" / "*.md")))]:
        text = open(path, encoding="utf-8").read()
        blocks += [(path, b) for b in re.findall(r"```toml\n(.*?)```", text, re.S)]
    assert blocks, "no TOML examples found"
    for path, block in blocks:
        assert not wide.search(block), f"{path} shows an open relay:\n{block}"
        cfg = tmp_path / "example.toml"
        cfg.write_text(block)
        # The files an example names (aliases, certificates) do not exist here.
        out = subprocess.run([TERN_BIN, "check-config", "--config-only", str(cfg)],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, f"{path}: example does not validate: {out.stderr}\n{block}"


# --- MX selection ------------------------------------------------------------------------------

def test_mail_goes_to_the_most_preferred_mx(relay_tern, peers, mx_port):
    mx1 = peers("127.0.0.11", mx_port)
    mx2 = peers("127.0.0.12", mx_port)
    tern = relay_tern()
    qid = send(tern, ["bob@two-mx.relay.example"])
    (env, data), = mx1.wait_for_messages(1)
    assert env["mail_from"] == "alice@localhost"
    assert env["rcpt_tos"] == ["bob@two-mx.relay.example"]
    assert env["helo"] == HOSTNAME
    assert data.startswith(b"Received: from ")
    assert data.endswith(b"Hello over there.\r\n")
    assert mx2.messages() == []
    wait_gone(tern, qid)


def test_primary_down_secondary_gets_it(relay_tern, peers, mx_port):
    mx2 = peers("127.0.0.12", mx_port)
    tern = relay_tern()
    send(tern, ["bob@two-mx.relay.example"])
    (env, _), = mx2.wait_for_messages(1)
    assert env["rcpt_tos"] == ["bob@two-mx.relay.example"]


def test_all_down_deferred_then_delivered_when_one_comes_up(relay_tern, peers, mx_port):
    tern = relay_tern()
    qid = send(tern, ["bob@two-mx.relay.example"])
    r = wait_recipient(tern, qid, "bob@two-mx.relay.example", "deferred")
    assert r["last_reply"].startswith("451 4.4.1 connect to mx2.two-mx.relay.example[127.0.0.12]"), r
    assert "127.0.0.12" in r["last_host"], r
    mx2 = peers("127.0.0.12", mx_port)
    (env, _), = mx2.wait_for_messages(1, timeout=20)
    wait_gone(tern, qid)
    assert re.search(r"delivery id=%s .*status=deferred" % qid, tern.log_text())
    assert re.search(r"delivery id=%s .*status=delivered" % qid, tern.log_text())


def test_implicit_mx_from_address_record(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port)
    tern = relay_tern()
    send(tern, ["carol@a-only.relay.example"])
    (env, _), = peer.wait_for_messages(1)
    assert env["rcpt_tos"] == ["carol@a-only.relay.example"]


def test_cname_of_exchange_is_followed(relay_tern, peers, mx_port):
    peer = peers("127.0.0.14", mx_port)
    tern = relay_tern()
    send(tern, ["dave@cname.relay.example"])
    peer.wait_for_messages(1)


def test_ipv6_exchange(relay_tern, peers, mx_port):
    peer = peers("::1", mx_port)
    tern = relay_tern()
    qid = send(tern, ["erin@v6.relay.example"])
    peer.wait_for_messages(1)
    wait_gone(tern, qid)
    assert re.search(r"relay=mx\.v6\.relay\.example\[::1\]", tern.log_text())


def test_null_mx_bounces_at_once_with_5_1_10(relay_tern):
    tern = relay_tern()
    send(tern, ["frank@null-mx.relay.example"])
    msg, fields = notice_for(tern, "alice")
    assert fields["action"] == ["failed"]
    assert fields["status"] == ["5.1.10"]
    assert "null MX" in fields["diagnostic-code"][0]
    assert fields["final-recipient"] == ["rfc822; frank@null-mx.relay.example"]


def test_nxdomain_bounces_with_5_1_2(relay_tern):
    tern = relay_tern()
    send(tern, ["gina@nowhere.relay.example"])
    _, fields = notice_for(tern, "alice")
    assert fields["status"] == ["5.1.2"]
    assert fields["action"] == ["failed"]


def test_unanswered_dns_query_is_temporary(relay_tern):
    tern = relay_tern()
    qid = send(tern, ["hank@slow.relay.example"])
    r = wait_recipient(tern, qid, "hank@slow.relay.example", "deferred", timeout=20)
    assert r["last_reply"].startswith("451 4.4.3"), r
    assert tern.messages("alice") == []


def test_servfail_is_temporary(relay_tern):
    tern = relay_tern()
    qid = send(tern, ["hank@broken.relay.example"])
    r = wait_recipient(tern, qid, "hank@broken.relay.example", "deferred", timeout=20)
    assert r["last_reply"].startswith("451 4.4.3"), r


def test_mx_pointing_back_at_us_is_a_loop(relay_tern, mx_port):
    # The MX resolves to an address this daemon listens on, at the relay port.
    tern = relay_tern(start=False)
    tern.config["smtp"]["listen"] = [f"127.0.0.1:{tern.port}", f"127.0.0.20:{mx_port}"]
    tern.start()
    send(tern, ["ivan@loop.relay.example"])
    _, fields = notice_for(tern, "alice")
    assert fields["status"] == ["5.4.6"], fields
    assert "loops back to myself" in fields["diagnostic-code"][0]


# --- the outbound transaction ------------------------------------------------------------------

def test_mixed_recipient_results_update_each_recipient(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port, rules={"rcpt": {
        "nobody@a-only.relay.example": "550 5.1.1 no such user here",
        "later@a-only.relay.example": "451 4.2.0 try again later"}})
    tern = relay_tern({"queue": {"retry_schedule": ["1h"]}})
    qid = send(tern, ["ok@a-only.relay.example", "nobody@a-only.relay.example",
                      "later@a-only.relay.example"])
    (env, _), = peer.wait_for_messages(1)
    assert env["rcpt_tos"] == ["ok@a-only.relay.example"]
    later = wait_recipient(tern, qid, "later@a-only.relay.example", "deferred")
    assert later["last_reply"] == "451 4.2.0 try again later"
    assert later["last_host"] == "a-only.relay.example[127.0.0.13]:%d" % mx_port
    shown = {r["address"]: r for r in queue_show(tern, qid)["recipient_states"]}
    assert shown["ok@a-only.relay.example"]["status"] == "delivered"
    assert shown["nobody@a-only.relay.example"]["status"] == "failed"
    assert shown["nobody@a-only.relay.example"]["last_reply"] == "550 5.1.1 no such user here"
    # The permanent failure comes back to the sender as an RFC 3464 notice.
    msg, fields = notice_for(tern, "alice")
    assert fields["final-recipient"] == ["rfc822; nobody@a-only.relay.example"]
    assert fields["status"] == ["5.1.1"]
    assert fields["remote-mta"] == ["dns; a-only.relay.example"]
    assert fields["diagnostic-code"] == ["smtp; 550 5.1.1 no such user here"]
    assert msg["To"] == "<alice@localhost>" or "alice@localhost" in msg["To"]


def test_several_messages_share_one_connection(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port, pipelining=True)
    tern = relay_tern({"relay": {"destination_concurrency": 1, "idle_timeout": "10s"}})
    count = 5
    for i in range(count):
        send(tern, [f"user{i}@a-only.relay.example"])
    got = peer.wait_for_messages(count)
    connections = {env["connection"] for env, _ in got}
    assert len(connections) == 1, connections
    assert sorted(r for env, _ in got for r in env["rcpt_tos"]) == sorted(
        f"user{i}@a-only.relay.example" for i in range(count))
    # Between two transactions on one connection the client said RSET (RFC 5321 4.1.1.5).
    text = "".join(r["data"] for r in peer.reads())
    assert text.count("RSET\r\n") >= 1, text


def test_messages_per_connection_limit(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port)
    tern = relay_tern({"relay": {"destination_concurrency": 1, "messages_per_connection": 2}})
    for i in range(4):
        send(tern, [f"user{i}@a-only.relay.example"])
    got = peer.wait_for_messages(4)
    per_connection = {}
    for env, _ in got:
        per_connection[env["connection"]] = per_connection.get(env["connection"], 0) + 1
    assert max(per_connection.values()) <= 2, per_connection


def test_destination_concurrency_limit(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port, delay_data=0.5)
    tern = relay_tern({"relay": {"destination_concurrency": 2}})
    for i in range(8):
        send(tern, [f"user{i}@a-only.relay.example"])
    peer.wait_for_messages(8, timeout=30)
    assert peer.max_concurrent_connections() == 2, peer.events()


def test_end_of_data_timeout_defers(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port, delay_data=4)
    tern = relay_tern({"relay": {"data_end_timeout": "1s"}, "queue": {"retry_schedule": ["1h"]}})
    qid = send(tern, ["slow@a-only.relay.example"])
    r = wait_recipient(tern, qid, "slow@a-only.relay.example", "deferred")
    assert r["last_reply"].startswith("451 4.4.2 timeout waiting for the reply to the end of data"), r


def test_pipelining_used_when_offered(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port, pipelining=True)
    tern = relay_tern()
    send(tern, ["a@a-only.relay.example", "b@a-only.relay.example"])
    peer.wait_for_messages(1)
    reads = [r["data"] for r in peer.reads()]
    assert any("MAIL FROM:" in d and "RCPT TO:" in d and "DATA\r\n" in d for d in reads), reads


def test_no_pipelining_when_not_offered(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port)
    tern = relay_tern()
    send(tern, ["a@a-only.relay.example", "b@a-only.relay.example"])
    peer.wait_for_messages(1)
    for d in (r["data"] for r in peer.reads()):
        commands = [l for l in d.split("\r\n") if re.match(r"(MAIL|RCPT|DATA|RSET|EHLO)", l)]
        assert len(commands) <= 1, f"commands pipelined without PIPELINING: {d!r}"


def test_smtputf8_message_to_server_without_smtputf8_fails_5_6_7(relay_tern, peers, mx_port):
    peers("127.0.0.13", mx_port, without=["SMTPUTF8"])
    tern = relay_tern()
    with tern.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<alice@localhost> SMTPUTF8").code == 250
        assert d.cmd("RCPT TO:<jörg@a-only.relay.example>".encode()).code == 250
        assert d.cmd("DATA").code == 354
        d.send(BODY + b".\r\n")
        assert d.read_reply().code == 250
    msg, fields = notice_for(tern, "alice")
    assert fields["status"] == ["5.6.7"], fields
    # Tern decided this: the host said no such thing, so no "host X said", no Remote-MTA, and
    # the diagnostic is Tern's own type (as Postfix writes X-Postfix).
    assert "remote-mta" not in fields, fields
    assert fields["diagnostic-code"][0].startswith("X-Tern; 553 5.6.7 "), fields
    assert "127.0.0.13" in fields["diagnostic-code"][0], "it names the server concerned"
    readable = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert " said:" not in readable, readable
    assert "553 5.6.7" in readable, readable


def test_a_refusal_the_host_sent_is_attributed_to_it(relay_tern, peers, mx_port):
    peers("127.0.0.13", mx_port, rules={"rcpt": {"nobody@a-only.relay.example": "550 5.1.1 no such user here"}})
    tern = relay_tern()
    send(tern, ["nobody@a-only.relay.example"])
    msg, fields = notice_for(tern, "alice")
    assert fields["status"] == ["5.1.1"], fields
    assert fields["remote-mta"][0].startswith("dns; "), fields
    assert fields["diagnostic-code"] == ["smtp; 550 5.1.1 no such user here"], fields
    readable = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert " said: 550 5.1.1 no such user here" in " ".join(readable.split()), readable


def test_eight_bit_message_to_server_without_8bitmime_fails_5_6_3(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port, without=["8BITMIME"])
    tern = relay_tern()
    body = BODY.replace(b"Hello", "Grüße".encode())
    send(tern, ["kim@a-only.relay.example"], body=body, params=" BODY=8BITMIME")
    _, fields = notice_for(tern, "alice")
    assert fields["status"] == ["5.6.3"], fields
    assert peer.messages() == []


def test_seven_bit_text_declared_8bitmime_still_goes_to_server_without_8bitmime(
        relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port, without=["8BITMIME"])
    tern = relay_tern()
    send(tern, ["kim@a-only.relay.example"], params=" BODY=8BITMIME")
    (env, _), = peer.wait_for_messages(1)
    assert not any("BODY" in o for o in env["mail_options"]), env


def test_message_over_the_peers_size_limit_fails_5_3_4(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port, size=1000)
    tern = relay_tern()
    body = BODY + (b"x" * 70 + b"\r\n") * 30
    send(tern, ["lou@a-only.relay.example"], body=body)
    _, fields = notice_for(tern, "alice")
    assert fields["status"] == ["5.3.4"], fields
    assert peer.messages() == []


def test_greeting_4xx_moves_on_to_the_next_mx(relay_tern, peers, mx_port):
    peers("127.0.0.11", mx_port, greeting="421 4.3.2 mx1 is too busy")
    mx2 = peers("127.0.0.12", mx_port)
    tern = relay_tern()
    send(tern, ["bob@two-mx.relay.example"])
    mx2.wait_for_messages(1)


def test_ehlo_4xx_moves_on_to_the_next_mx(relay_tern, peers, mx_port):
    peers("127.0.0.11", mx_port, ehlo_reply="421 4.3.2 not now")
    mx2 = peers("127.0.0.12", mx_port)
    tern = relay_tern()
    send(tern, ["bob@two-mx.relay.example"])
    mx2.wait_for_messages(1)


def test_too_many_received_headers_is_a_loop(relay_tern, peers, mx_port):
    peer = peers("127.0.0.13", mx_port)
    tern = relay_tern({"relay": {"max_hops": 5}})
    hops = b"".join(b"Received: from hop%d by hop%d; Sun, 1 Nov 2026 00:00:00 +0000\r\n" % (i, i)
                    for i in range(5))
    # With ours on top that makes 6 Received fields, over the limit of 5: refused at the end of
    # DATA, so nothing is queued, relayed or bounced.
    reply = tern.send_message(hops + BODY, sender="alice@localhost",
                              recipients=["max@a-only.relay.example"])
    assert (reply.code, reply.status) == (554, "5.4.6"), reply
    # One fewer is relayed: ours makes 5, within the limit here and at the next hop's check.
    send(tern, ["max@a-only.relay.example"], body=hops.split(b"\r\n", 1)[1] + BODY)
    peer.wait_for_messages(1)
    assert tern.messages("alice") == []


def test_routes_and_smarthost(relay_tern, peers, mx_port):
    routed = peers("127.0.0.31", mx_port)
    smart = peers("127.0.0.32", mx_port)
    tern = relay_tern({"relay": {"routes": [f"routed.example = [127.0.0.31]:{mx_port}"],
                                 "smarthost": f"[127.0.0.32]:{mx_port}"}})
    send(tern, ["a@routed.example", "b@elsewhere.example"])
    (env, _), = routed.wait_for_messages(1)
    assert env["rcpt_tos"] == ["a@routed.example"]
    (env, _), = smart.wait_for_messages(1)
    assert env["rcpt_tos"] == ["b@elsewhere.example"]


# --- other real receivers ----------------------------------------------------------------------

def test_delivery_to_smtp_sink_passes_dsn_parameters(relay_tern, tmp_path, mx_port):
    sink = SmtpSink(tmp_path, "127.0.0.15", mx_port)
    try:
        tern = relay_tern()
        qid = send(tern, ["nina@sink.relay.example"], params=" RET=HDRS ENVID=abc+2Bdef")
        dump, = sink.wait_for_messages(1)
        text = dump.decode("utf-8", "replace")
        assert re.search(r"X-Mail-Args: .*RET=HDRS", text), text
        assert re.search(r"X-Mail-Args: .*ENVID=abc\+2Bdef", text), text
        assert "Hello over there." in text
        wait_gone(tern, qid)
    finally:
        sink.stop()


def test_delivery_to_a_postfix_mx(relay_tern, mx_port):
    postfix = PostfixPeer("127.0.0.16", mx_port, "postfix.relay.example", ["olga"])
    try:
        tern = relay_tern()
        qid = send(tern, ["olga@postfix.relay.example"])
        data, = postfix.wait_for_messages("olga", 1)
        assert b"Hello over there." in data
        # Postfix offers CHUNKING and PIPELINING: the message went with BDAT.
        assert re.search(r"delivery id=%s .*status=delivered.*detail=\"ESMTP BDAT PIPELINING, plain text\""
                         % qid, tern.wait_for_log(r"delivery id=%s " % qid)), tern.log_text()
        assert re.search(rb"Received: from mx\.tern\.test", data), data[:400]
        wait_gone(tern, qid)
        # A recipient Postfix does not know comes back as a notice.
        send(tern, ["nobody@postfix.relay.example"])
        _, fields = notice_for(tern, "alice", timeout=20)
        assert fields["status"] == ["5.1.1"], fields
    finally:
        postfix.stop()
