# Outbound TLS end to end (RFC 3207 as a client): opportunistic STARTTLS, the per-destination
# levels none/may/encrypt/verify, and what a failed handshake or certificate does, against real
# mail exchangers on 127.0.0.x: Postfix with STARTTLS, aiosmtpd with and without it.
import re
import subprocess

import pytest

from conftest import (CLI_TIMEOUT, deferred_twice, delivered_detail, queue_show, send,
                      wait_gone, wait_recipient)
from peers import DnsServer, PostfixPeer
from peers.pki import self_signed

GOOD, SELF, PLAIN, OLD = "127.0.0.41", "127.0.0.42", "127.0.0.43", "127.0.0.44"

ZONE = f"""\
$ORIGIN otls.example.
$TTL 60
@ IN SOA ns.otls.example. hostmaster.otls.example. 1 3600 600 86400 60
may IN MX 10 mx.good.otls.example.
none IN MX 10 mx.good.otls.example.
verify IN MX 10 mx.good.otls.example.
alias IN MX 10 mx.alias.otls.example.
self IN MX 10 mx.self.otls.example.
next IN MX 10 mx.self.otls.example.
next IN MX 20 mx.good.otls.example.
plain IN MX 10 mx.plain.otls.example.
old IN MX 10 mx.old.otls.example.
mx.good IN A {GOOD}
mx.alias IN A {GOOD}
mx.self IN A {SELF}
mx.plain IN A {PLAIN}
mx.old IN A {OLD}
"""

# Postfix says in its Received field when a message came over TLS.
POSTFIX_TLS = "smtpd_tls_received_header = yes\n"
TLS_DETAIL = r"TLSv1\.[23] \S+"


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DnsServer(tmp_path_factory.mktemp("dns"), ZONE)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def good_mx(ca, mx_port):
    """Postfix at mx.good.otls.example, offering STARTTLS with a certificate from the test CA
    for that name only."""
    postfix = PostfixPeer(GOOD, mx_port, [f"{d}.otls.example" for d in
                                          ("may", "none", "verify", "alias", "next")],
                          ["olga"], extra_main_cf=POSTFIX_TLS,
                          tls_cert=ca.issue("mx.good.otls.example"))
    yield postfix
    postfix.stop()


@pytest.fixture
def self_mx(peers, mx_port, tmp_path):
    """aiosmtpd at mx.self.otls.example, offering STARTTLS with a self-signed certificate."""
    return peers(SELF, mx_port, tls_cert=self_signed(tmp_path / "self", "mx.self.otls.example"))


def received_by_postfix(data):
    """The Received field Postfix put on top of a message, unfolded."""
    m = re.match(rb"(?:Return-Path|Delivered-To):.*?\r?\n(?:(?:Return-Path|Delivered-To):.*?\r?\n)*"
                 rb"(Received:.*?\r?\n(?:[ \t].*?\r?\n)*)", data, re.S)
    assert m, data[:600]
    return re.sub(r"\s+", " ", m.group(1).decode())


# --- opportunistic (level may, the default) -------------------------------------------------------

def test_opportunistic_tls_to_postfix(relay_tern, good_mx):
    tern = relay_tern()
    qid = send(tern, ["olga@may.otls.example"])
    data, = good_mx.wait_for_messages("olga", 1)
    # Encrypted, but not verified: Tern knows no CA for the test certificate and needs none.
    assert re.search(r'detail="ESMTP BDAT PIPELINING, %s \(not verified\)"' % TLS_DETAIL,
                     delivered_detail(tern, qid)[1]), tern.log_text()
    received = received_by_postfix(data)
    assert re.search(r"\(using TLSv1\.[23] with cipher \S+", received), received
    wait_gone(tern, qid)
    # The next message takes the idle connection, still inside the same TLS session.
    qid2 = send(tern, ["olga@may.otls.example"])
    data2 = good_mx.wait_for_messages("olga", 2)[-1]
    assert re.search(r'detail="ESMTP BDAT PIPELINING, %s \(not verified\)"' % TLS_DETAIL,
                     delivered_detail(tern, qid2)[1]), tern.log_text()
    assert "using TLSv1." in received_by_postfix(data2)


def test_queue_show_states_the_tls_of_each_attempt(relay_tern, peers, mx_port, tmp_path):
    # One recipient delivered and one deferred over the same TLS session: `tern queue show`
    # says how each was last tried, in JSON and in its text form.
    peers(SELF, mx_port, tls_cert=self_signed(tmp_path / "self", "mx.self.otls.example"),
          rules={"rcpt": {"later@self.otls.example": "451 4.2.0 try again later"}})
    tern = relay_tern({"queue": {"retry_schedule": ["1h"]}})
    qid = send(tern, ["now@self.otls.example", "later@self.otls.example"])
    wait_recipient(tern, qid, "later@self.otls.example", "deferred")
    shown = {r["address"]: r for r in queue_show(tern, qid)["recipient_states"]}
    assert shown["now@self.otls.example"]["status"] == "delivered", shown
    for address in shown:
        assert re.fullmatch(r"ESMTP .*, %s \(not verified\)" % TLS_DETAIL,
                            shown[address]["last_detail"]), shown
    text = subprocess.run([tern.binary, "queue", "--config", str(tern.config_path), "show", qid],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT).stdout
    assert re.search(r"^      how: ESMTP .*, %s \(not verified\)$" % TLS_DETAIL, text, re.M), text


def test_plain_text_to_a_server_without_starttls(relay_tern, peers, mx_port):
    peer = peers(PLAIN, mx_port)
    tern = relay_tern()
    qid = send(tern, ["pia@plain.otls.example"])
    (envelope, _), = peer.wait_for_messages(1)
    assert envelope["rcpt_tos"] == ["pia@plain.otls.example"]
    assert 'detail="ESMTP DATA, plain text"' in delivered_detail(tern, qid)[1]
    assert not any("STARTTLS" in r["data"] for r in peer.reads())


def test_level_none_never_starts_tls(relay_tern, good_mx):
    tern = relay_tern({"tls": {"outbound_policies": ["none.otls.example = none"]}})
    qid = send(tern, ["olga@none.otls.example"])
    before = len(good_mx.messages("olga"))
    data = good_mx.wait_for_messages("olga", before + 1)[-1]
    assert 'detail="ESMTP BDAT PIPELINING, plain text"' in delivered_detail(tern, qid)[1]
    assert "using TLS" not in received_by_postfix(data)


# --- encrypt: TLS required, any certificate ---------------------------------------------------------

def test_encrypt_defers_a_server_without_starttls(relay_tern, peers, mx_port):
    peer = peers(PLAIN, mx_port)
    tern = relay_tern({"tls": {"outbound_policies": ["plain.otls.example = encrypt"]}})
    qid = send(tern, ["pia@plain.otls.example"])
    state = deferred_twice(tern, qid, "pia@plain.otls.example")
    assert state["last_reply"] == \
        "451 4.7.4 TLS is required but the server does not offer STARTTLS", state
    assert peer.messages() == []


def test_failed_handshake_falls_back_to_plain_text_only_at_level_may(relay_tern, peers, mx_port,
                                                                    tmp_path):
    # A server that offers STARTTLS but speaks no TLS version Tern accepts (1.1 at most).
    old = peers(OLD, mx_port, tls_cert=self_signed(tmp_path / "old", "mx.old.otls.example"),
                tls_max="1.1")
    tern = relay_tern()
    qid = send(tern, ["otto@old.otls.example"])
    (envelope, _), = old.wait_for_messages(1)
    assert 'detail="ESMTP DATA, plain text"' in delivered_detail(tern, qid)[1]
    fallback = tern.wait_for_log(r"tls_fallback")
    assert "mx.old.otls.example" in fallback and "TLS handshake" in fallback, fallback
    # At level encrypt the same server is not used.
    strict = relay_tern({"tls": {"outbound_policies": ["old.otls.example = encrypt"]}})
    qid = send(strict, ["otto@old.otls.example"])
    state = deferred_twice(strict, qid, "otto@old.otls.example")
    assert re.fullmatch(r"451 4\.7\.5 TLS handshake with mx\.old\.otls\.example\[127\.0\.0\.44\]"
                        r":\d+ failed: .+", state["last_reply"]), state
    assert len(old.messages()) == 1
    assert strict.wait_for_log(r"tls_fallback", timeout=0.5, required=False) is None


# --- verify: a certificate valid for the MX host name --------------------------------------------------

def test_verify_delivers_to_a_certificate_from_the_trusted_ca(relay_tern, good_mx, ca):
    tern = relay_tern({"tls": {"ca_file": str(ca.pem),
                               "outbound_policies": ["verify.otls.example = verify"]}})
    before = len(good_mx.messages("olga"))
    qid = send(tern, ["olga@verify.otls.example"])
    good_mx.wait_for_messages("olga", before + 1)
    assert re.search(r'detail="ESMTP BDAT PIPELINING, %s \(verified, policy\)"' % TLS_DETAIL,
                     delivered_detail(tern, qid)[1]), tern.log_text()


def test_verify_refuses_a_certificate_for_another_name(relay_tern, good_mx, ca):
    # mx.alias.otls.example is the same Postfix, whose certificate names mx.good.otls.example only.
    tern = relay_tern({"tls": {"ca_file": str(ca.pem),
                               "outbound_policies": ["alias.otls.example = verify"]}})
    before = len(good_mx.messages("olga"))
    qid = send(tern, ["olga@alias.otls.example"])
    state = deferred_twice(tern, qid, "olga@alias.otls.example")
    assert re.fullmatch(r"451 4\.7\.5 certificate of mx\.alias\.otls\.example\[127\.0\.0\.41\]:\d+ "
                        r"not accepted \(policy\): hostname mismatch", state["last_reply"]), state
    assert len(good_mx.messages("olga")) == before
    shown = tern.queue("show", qid).stdout
    assert "not accepted (policy): hostname mismatch" in shown, shown


def test_verify_refuses_a_self_signed_certificate_and_tries_the_next_mx(relay_tern, self_mx,
                                                                       good_mx, ca):
    tern = relay_tern({"tls": {"ca_file": str(ca.pem),
                               "outbound_policies": ["next.otls.example = verify",
                                                     "self.otls.example = verify"]}})
    # next.otls.example: MX 10 is the self-signed server, MX 20 the Postfix with a CA certificate.
    before = len(good_mx.messages("olga"))
    qid = send(tern, ["olga@next.otls.example"])
    good_mx.wait_for_messages("olga", before + 1)
    line = delivered_detail(tern, qid)[1]
    assert re.search(r'relay="?mx\.good\.otls\.example\[127\.0\.0\.41\]', line), line
    assert re.search(r"\(verified, policy\)", line), line
    # The first MX got as far as STARTTLS and no further; the client named it in SNI.
    assert any("STARTTLS" in r["data"] for r in self_mx.reads())
    assert self_mx.server_names() == ["mx.self.otls.example"]
    assert self_mx.messages() == []
    # self.otls.example has only the self-signed server: the mail waits.
    qid = send(tern, ["sam@self.otls.example"])
    state = deferred_twice(tern, qid, "sam@self.otls.example")
    assert re.fullmatch(r"451 4\.7\.5 certificate of mx\.self\.otls\.example\[127\.0\.0\.42\]:\d+ "
                        r"not accepted \(policy\): self[- ]signed certificate", state["last_reply"]), \
        state
    assert self_mx.messages() == []


def test_no_server_name_is_sent_to_an_address_literal(relay_tern, self_mx):
    # RFC 6066 section 3: SNI carries host names only.
    tern = relay_tern({"relay": {"routes": [f"literal.otls.example = [{SELF}]"]}})
    qid = send(tern, ["lia@literal.otls.example"])
    self_mx.wait_for_messages(1)
    line = delivered_detail(tern, qid)[1]
    assert re.search(r'detail="ESMTP DATA, %s \(not verified\)"' % TLS_DETAIL, line), line
    assert self_mx.server_names() == [""]


# --- one next hop for several domains ---------------------------------------------------------------
# Per-domain levels meet next hops shared by several domains: routes to one host, and routes by MX
# lookup of another domain.

SHARED = ["routea.otls.example = [mx.self.otls.example]",
          "routeb.otls.example = [mx.self.otls.example]"]


def strict_route_tern(relay_tern, ca, routes):
    """A Tern with `routes` that trusts the test CA and requires verify for routeb and routemx."""
    return relay_tern({"relay": {"routes": routes},
                       "tls": {"ca_file": str(ca.pem),
                               "outbound_policies": ["routeb.otls.example = verify",
                                                     "routemx.otls.example = verify"]}})


def attempt_line(tern, qid, address):
    """The delivery log line of the first attempt for `address` in message `qid`."""
    return tern.wait_for_log(r"delivery id=%s to=%s " % (qid, re.escape(address)), timeout=20)


def test_each_domain_gets_its_own_level_in_one_message_through_a_shared_route(
        relay_tern, self_mx, ca):
    tern = strict_route_tern(relay_tern, ca, SHARED)
    # One message, one destination ("route:[mx.self.otls.example]"), two domains.
    qid = send(tern, ["ann@routea.otls.example", "ben@routeb.otls.example"])
    line = attempt_line(tern, qid, "ben@routeb.otls.example")
    assert "status=deferred" in line and "not accepted (policy)" in line, line
    (envelope, _), = self_mx.wait_for_messages(1)
    assert envelope["rcpt_tos"] == ["ann@routea.otls.example"], envelope


def test_an_idle_connection_is_not_reused_for_a_domain_with_a_stricter_level(
        relay_tern, self_mx, ca):
    tern = strict_route_tern(relay_tern, ca, SHARED)
    send(tern, ["ann@routea.otls.example"])
    self_mx.wait_for_messages(1)
    # Within [relay] idle_timeout (5s) the connection to mx.self waits for more mail.
    qid = send(tern, ["ben@routeb.otls.example"])
    line = attempt_line(tern, qid, "ben@routeb.otls.example")
    assert "status=deferred" in line and "not accepted (policy)" in line, line
    assert len(self_mx.messages()) == 1


def test_the_recipient_domain_level_applies_through_a_route_by_mx_lookup(relay_tern, self_mx, ca):
    # routemx.otls.example goes to the MX hosts of self.otls.example: the self-signed server.
    tern = strict_route_tern(relay_tern, ca, ["routemx.otls.example = self.otls.example"])
    qid = send(tern, ["rob@routemx.otls.example"])
    line = attempt_line(tern, qid, "rob@routemx.otls.example")
    assert "status=deferred" in line and "not accepted (policy)" in line, line
    assert self_mx.messages() == []
