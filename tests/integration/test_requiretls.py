# REQUIRETLS and TLS-Required (RFC 8689) end to end: receiving the option (smtplib over STARTTLS
# on the MX and submission listeners), carrying it through the spool, relaying it only over
# verified TLS to servers that offer it (aiosmtpd peers on 127.0.0.8x with certificates from a
# test CA, names from a test DNS server and an MTA-STS policy host), the failure notices with the
# RFC's status codes, and "TLS-Required: No" through a failed MTA-STS policy.
import os
import re
import smtplib
import ssl

import pytest

from conftest import (HOSTNAME, SOCKET_TIMEOUT, Notice, delivered_detail, deferred_twice,
                      merge_config, queue_show, wait_recipient)
from peers import DnsServer, StsPolicyServer
from peers.pki import self_signed
from submission_clients import ALICE, PASSWORD, add_account, client_context

OFFER, NOOFFER, PLAIN, SELF, DOWN = "127.0.0.81", "127.0.0.82", "127.0.0.83", "127.0.0.84", \
    "127.0.0.85"
POLICY_HOST = "127.0.0.86"

# Domains without MX records are their own mail exchanger (RFC 5321 5.1): the certificate must
# name the domain itself, whose name needs no DNSSEC or MTA-STS (RFC 8689 4.2.1).
ZONE = f"""\
$ORIGIN rt.example.
$TTL 60
@ IN SOA ns.rt.example. hostmaster.rt.example. 1 3600 600 86400 60
offer IN A {OFFER}
nooffer IN A {NOOFFER}
plain IN A {PLAIN}
self IN A {SELF}
down IN A {DOWN}
unvalidated IN MX 10 mx.offer.rt.example.
mx.offer IN A {OFFER}
mx.nooffer IN A {NOOFFER}
mx.self IN A {SELF}
both IN MX 10 mx.nooffer.rt.example.
both IN MX 20 mx.offer.rt.example.
_mta-sts.both IN TXT "v=STSv1; id=1"
mta-sts.both IN A {POLICY_HOST}
stsself IN MX 10 mx.self.rt.example.
_mta-sts.stsself IN TXT "v=STSv1; id=1"
mta-sts.stsself IN A {POLICY_HOST}
"""

POLICIES = {
    "both": "version: STSv1\nmode: enforce\nmx: mx.nooffer.rt.example\nmx: mx.offer.rt.example\n"
            "max_age: 86400\n",
    "stsself": "version: STSv1\nmode: enforce\nmx: mx.self.rt.example\nmax_age: 86400\n",
}

BODY = (b"From: alice@localhost\r\nTo: someone\r\nSubject: secret plans\r\n\r\n"
        b"The body nobody may read in transit.\r\n")
WAIVED = (b"From: alice@localhost\r\nTo: someone\r\nSubject: your certificate has expired\r\n"
          b"TLS-Required: No\r\n\r\nPlease renew it.\r\n")

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the MTA-STS policy host must listen on port 443 (root)")


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DnsServer(tmp_path_factory.mktemp("dns"), ZONE)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def policy_server(tmp_path_factory, ca):
    names = [f"mta-sts.{d}.rt.example" for d in POLICIES]
    server = StsPolicyServer(tmp_path_factory.mktemp("sts"), POLICY_HOST,
                             ca.issue("mta-sts.rt.example", names))
    for domain, policy in POLICIES.items():
        server.set_policy(f"mta-sts.{domain}.rt.example", policy)
    yield server
    server.stop()


@pytest.fixture
def offer_mx(peers, mx_port, ca):
    """A server with a CA certificate for its names that offers REQUIRETLS under TLS."""
    return peers(OFFER, mx_port, requiretls=True, pipelining=True,
                 tls_cert=ca.issue("offer.rt.example", ["offer.rt.example", "mx.offer.rt.example"]))


@pytest.fixture
def nooffer_mx(peers, mx_port, ca):
    """A server with a CA certificate for its names, without REQUIRETLS."""
    return peers(NOOFFER, mx_port, pipelining=True,
                 tls_cert=ca.issue("nooffer.rt.example",
                                   ["nooffer.rt.example", "mx.nooffer.rt.example"]))


@pytest.fixture
def rt_tern(relay_tern, ca):
    """make(overrides) -> a relaying Tern that trusts the test CA."""
    def make(overrides=None, **kwargs):
        return relay_tern(merge_config({"tls": {"ca_file": str(ca.pem)}}, overrides), **kwargs)
    return make


def starttls_session(port):
    """smtplib to `port`, after STARTTLS and the EHLO inside TLS."""
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=SOCKET_TIMEOUT)
    s.ehlo()
    s.starttls(context=client_context())
    s.ehlo()
    return s


def send_requiretls(tern, recipients, body=BODY, sender="alice@localhost", options=()):
    """Submits one message with MAIL FROM ... REQUIRETLS over STARTTLS; returns its queue id."""
    with starttls_session(tern.port) as s:
        assert s.has_extn("requiretls"), s.esmtp_features
        code, reply = s.mail(sender, ["REQUIRETLS", *options])
        assert code == 250, reply
        for r in recipients:
            assert s.rcpt(r)[0] == 250
        code, reply = s.data(body)
        assert code == 250, reply
        return re.search(rb"queued as (\S+)", reply).group(1).decode()


def send_plain(tern, recipients, body=BODY):
    """Submits one message without REQUIRETLS; returns its queue id."""
    with smtplib.SMTP("127.0.0.1", tern.port, local_hostname="client.test",
                      timeout=SOCKET_TIMEOUT) as s:
        s.ehlo()
        s.mail("alice@localhost")
        for r in recipients:
            assert s.rcpt(r)[0] == 250
        code, reply = s.data(body)
        assert code == 250, reply
        return re.search(rb"queued as (\S+)", reply).group(1).decode()


def bounce_for(tern, address):
    """The failure notice alice@localhost got, and its block for `address`."""
    notice = Notice(tern.wait_for_message("alice", timeout=20))
    return notice, notice.recipient(address)


def assert_returned_headers_only(notice):
    """RFC 8689 section 5: a REQUIRETLS message's notice returns its header, never its body."""
    headers = notice.returned_headers()
    assert headers["Subject"] == "secret plans", headers
    assert b"nobody may read" not in notice.message.as_bytes()


# --- receiving --------------------------------------------------------------------------------

def test_offered_and_accepted_only_under_tls_and_local_delivery_is_unaffected(tern):
    with smtplib.SMTP("127.0.0.1", tern.port, local_hostname="client.test",
                      timeout=SOCKET_TIMEOUT) as s:
        s.ehlo()
        assert not s.has_extn("requiretls") and s.has_extn("starttls")
        assert s.mail("alice@localhost", ["REQUIRETLS"]) == \
            (530, b"5.7.10 Encryption needed: REQUIRETLS is accepted only under TLS")
        s.rset()
        s.starttls(context=client_context())
        s.ehlo()
        assert s.has_extn("requiretls"), s.esmtp_features
        assert s.sendmail("alice@localhost", ["bob@localhost"], BODY,
                          mail_options=["REQUIRETLS"]) == {}
    data = tern.wait_for_message("bob")
    assert b"The body nobody may read" in data
    assert re.search(rb"with ESMTPS id", data), data[:400]


def test_submission_with_auth_relays_requiretls(tern_factory, dns, mx_port, ca, offer_mx):
    tern = tern_factory(config={
        "local": {"domains": ["localhost", "example.org"]},
        "auth": {"argon2_memory_kib": 1024, "argon2_iterations": 1},
        "dns": {"upstream": [dns.upstream], "timeout": "2s"},
        "relay": {"port": mx_port, "connect_timeout": "3s"},
        "tls": {"ca_file": str(ca.pem)},
    })
    add_account(tern, ALICE, PASSWORD)
    with smtplib.SMTP("127.0.0.1", tern.submission_port, local_hostname="laptop.test",
                      timeout=SOCKET_TIMEOUT) as s:
        s.ehlo()
        s.starttls(context=client_context())
        s.ehlo()
        assert s.has_extn("requiretls")
        s.login(ALICE, PASSWORD)
        assert s.sendmail(ALICE, ["carol@offer.rt.example"], BODY, mail_options=["REQUIRETLS"]) == {}
    (envelope, data), = offer_mx.wait_for_messages(1)
    assert "REQUIRETLS" in envelope["mail_options"], envelope
    assert b"with ESMTPSA" in data


# --- relaying ---------------------------------------------------------------------------------

def test_relays_over_verified_tls_to_a_server_offering_requiretls(rt_tern, offer_mx):
    tern = rt_tern()
    qid = send_requiretls(tern, ["carol@offer.rt.example"])
    (envelope, data), = offer_mx.wait_for_messages(1)
    assert envelope["mail_from"] == "alice@localhost"
    assert "REQUIRETLS" in envelope["mail_options"], envelope
    assert b"The body nobody may read" in data
    detail, line = delivered_detail(tern, qid)
    assert re.fullmatch(r"ESMTP DATA PIPELINING, TLSv1\.[23] \S+ \(verified, requiretls\)", detail), \
        line
    # An ordinary message to the same server goes as before, without the option.
    send_plain(tern, ["carol@offer.rt.example"])
    envelope2, _ = offer_mx.wait_for_messages(2)[1]
    assert "REQUIRETLS" not in envelope2["mail_options"], envelope2


def test_a_route_to_a_verified_server_qualifies(rt_tern, offer_mx):
    # The operator named the server: its name needs no DNSSEC or MTA-STS, its certificate must
    # still be valid for it.
    tern = rt_tern({"relay": {"routes": ["routed.example = [offer.rt.example]"]}})
    qid = send_requiretls(tern, ["dan@routed.example"])
    (envelope, _), = offer_mx.wait_for_messages(1)
    assert "REQUIRETLS" in envelope["mail_options"], envelope
    assert "(verified, requiretls)" in delivered_detail(tern, qid)[0]


def test_server_without_requiretls_gets_nothing_and_the_message_returns_with_5_7_30(
        rt_tern, nooffer_mx):
    tern = rt_tern()
    send_requiretls(tern, ["nina@nooffer.rt.example"], options=["RET=FULL"])
    notice, block = bounce_for(tern, "nina@nooffer.rt.example")
    assert block["Status"] == "5.7.30", str(block)
    assert block["Action"] == "failed"
    assert re.fullmatch(r"X-Tern; 550 5\.7\.30 REQUIRETLS support required: "
                        r"nooffer\.rt\.example\[127\.0\.0\.82\]:\d+ does not offer REQUIRETLS",
                        block["Diagnostic-Code"]), block["Diagnostic-Code"]
    # RET=FULL is disregarded (RFC 8689 section 5): only the header comes back.
    assert_returned_headers_only(notice)
    # The server got as far as TLS and no MAIL command.
    reads = "".join(r["data"] for r in nooffer_mx.reads())
    assert "STARTTLS" in reads and "MAIL FROM" not in reads
    assert nooffer_mx.messages() == []


def test_no_tls_returns_the_message_with_5_7_10(rt_tern, peers, mx_port):
    plain = peers(PLAIN, mx_port)
    tern = rt_tern()
    send_requiretls(tern, ["pia@plain.rt.example"])
    notice, block = bounce_for(tern, "pia@plain.rt.example")
    assert block["Status"] == "5.7.10", str(block)
    assert "TLS is required but the server does not offer STARTTLS" in block["Diagnostic-Code"]
    assert_returned_headers_only(notice)
    assert plain.messages() == []


def test_unverified_certificate_returns_the_message_with_5_7_5(rt_tern, peers, mx_port, tmp_path):
    selfmx = peers(SELF, mx_port, requiretls=True,
                   tls_cert=self_signed(tmp_path / "self", "self.rt.example"))
    tern = rt_tern()
    send_requiretls(tern, ["sam@self.rt.example"])
    _, block = bounce_for(tern, "sam@self.rt.example")
    assert block["Status"] == "5.7.5", str(block)
    assert re.search(r"certificate of self\.rt\.example\[127\.0\.0\.84\]:\d+ was not accepted",
                     block["Diagnostic-Code"]), block["Diagnostic-Code"]
    assert selfmx.messages() == []


def test_an_mx_name_nothing_vouches_for_returns_the_message_with_5_7_5(rt_tern, offer_mx):
    # unvalidated.rt.example's MX is the good server, but the MX record is neither signed
    # (DNSSEC) nor confirmed by an MTA-STS policy: the server is not even contacted.
    tern = rt_tern()
    send_requiretls(tern, ["uma@unvalidated.rt.example"])
    _, block = bounce_for(tern, "uma@unvalidated.rt.example")
    assert block["Status"] == "5.7.5", str(block)
    assert "the name mx.offer.rt.example is vouched for neither by DNSSEC nor by an MTA-STS " \
        "policy of unvalidated.rt.example" in block["Diagnostic-Code"], block["Diagnostic-Code"]
    assert [e for e in offer_mx.events() if e["connection"] != 1] == []
    # Without REQUIRETLS the same message goes.
    send_plain(tern, ["uma@unvalidated.rt.example"])
    offer_mx.wait_for_messages(1)


def test_a_server_that_cannot_be_reached_defers_instead(rt_tern):
    tern = rt_tern()
    qid = send_requiretls(tern, ["dora@down.rt.example"])
    state = deferred_twice(tern, qid, "dora@down.rt.example")
    assert state["last_reply"].startswith("451 4.4.1 connect to down.rt.example[127.0.0.85]"), state
    assert queue_show(tern, qid)["requiretls"] is True
    # The flag is in the spool file: it survives a restart.
    tern.restart()
    assert queue_show(tern, qid)["requiretls"] is True
    shown = tern.queue("show", qid).stdout
    assert re.search(r"^REQUIRETLS: +yes ", shown, re.M), shown


def test_the_notice_to_a_remote_sender_goes_only_with_requiretls(rt_tern, offer_mx, nooffer_mx):
    # Carol at offer.rt.example sent a REQUIRETLS message that nooffer.rt.example cannot take:
    # her notice goes to her server with REQUIRETLS, headers only.
    tern = rt_tern()
    send_requiretls(tern, ["nina@nooffer.rt.example"], sender="carol@offer.rt.example")
    (envelope, data), = offer_mx.wait_for_messages(1)
    assert envelope["mail_from"] == "<>" and "REQUIRETLS" in envelope["mail_options"], envelope
    assert b"text/rfc822-headers" in data and b"Subject: secret plans" in data
    assert b"nobody may read" not in data
    # Nina at nooffer.rt.example cannot get her notice: it is not sent without REQUIRETLS.
    qid = send_requiretls(tern, ["carol@offer.rt.example", "xavier@nooffer.rt.example"],
                          sender="nina@nooffer.rt.example")
    offer_mx.wait_for_messages(2)
    notice_line = tern.wait_for_log(r"notice id=%s kind=failure" % qid, timeout=20)
    notice_id = re.search(r"notice_id=(\S+)", notice_line).group(1)
    tern.wait_for_log(r"delivery id=%s to=nina@nooffer\.rt\.example .*status=failed" % notice_id,
                      timeout=20)
    assert nooffer_mx.messages() == []


# --- several MX hosts, MTA-STS and TLS-Required: No (policy host on port 443) --------------------

@needs_root
def test_the_next_mx_is_tried_until_one_qualifies(rt_tern, offer_mx, nooffer_mx, policy_server):
    # both.rt.example: MX 10 without REQUIRETLS, MX 20 with it; both named by an MTA-STS policy.
    tern = rt_tern()
    qid = send_requiretls(tern, ["bea@both.rt.example"])
    (envelope, _), = offer_mx.wait_for_messages(1)
    assert "REQUIRETLS" in envelope["mail_options"]
    detail, line = delivered_detail(tern, qid)
    assert "mx.offer.rt.example[127.0.0.81]" in line and "(verified, mta-sts)" in detail, line
    skipped = tern.wait_for_log(r"server_skipped id=%s host=mx\.nooffer\.rt\.example" % qid)
    assert "5.7.30" in skipped, skipped
    assert nooffer_mx.messages() == []


@needs_root
def test_tls_required_no_passes_a_failed_mta_sts_policy(rt_tern, peers, mx_port, tmp_path,
                                                       policy_server):
    selfmx = peers(SELF, mx_port, tls_cert=self_signed(tmp_path / "self", "mx.self.rt.example"))
    tern = rt_tern()
    # An ordinary message waits: the policy wants a valid certificate.
    qid = send_plain(tern, ["ted@stsself.rt.example"])
    state = deferred_twice(tern, qid, "ted@stsself.rt.example")
    assert "not accepted (mta-sts)" in state["last_reply"], state
    # TLS-Required: No (RFC 8689 4.2.2): still over TLS, the failed check does not hold it up.
    qid2 = send_plain(tern, ["ted@stsself.rt.example"], body=WAIVED)
    (envelope, data), = selfmx.wait_for_messages(1)
    assert b"TLS-Required: No" in data and b"Please renew it." in data
    detail, line = delivered_detail(tern, qid2)
    assert re.fullmatch(r"ESMTP DATA, TLSv1\.[23] \S+ \(NOT verified: self[- ]signed certificate\), "
                        r"TLS-Required: No", detail), line
    # The connection made for it is not kept for the next message, which still waits.
    attempts = tern.recipient_states(qid)["ted@stsself.rt.example"]["attempts"]
    state = tern.wait_for_attempts(qid, "ted@stsself.rt.example", attempts + 2, timeout=20)
    assert state["status"] == "deferred" and "not accepted (mta-sts)" in state["last_reply"], state
    assert len(selfmx.messages()) == 1


@needs_root
def test_tls_required_no_is_ignored_with_requiretls(rt_tern, peers, mx_port, tmp_path,
                                                   policy_server):
    selfmx = peers(SELF, mx_port, requiretls=True,
                   tls_cert=self_signed(tmp_path / "self", "mx.self.rt.example"))
    tern = rt_tern()
    send_requiretls(tern, ["ted@stsself.rt.example"], body=WAIVED)
    _, block = bounce_for(tern, "ted@stsself.rt.example")
    assert block["Status"] == "5.7.5", str(block)
    assert selfmx.messages() == []
