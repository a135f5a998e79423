# DANE for SMTP (RFC 7672) end to end: a DNSSEC-signed zone (ldns-signzone) served by NSD, Tern
# validating with the zone's DS as trust anchor, and mail exchangers on 127.0.0.x whose TLSA
# records match or do not: Postfix with a self-signed certificate (DANE-EE), aiosmtpd with a
# certificate from a test CA (DANE-TA), aiosmtpd without STARTTLS.
import re

import pytest

from conftest import deferred_twice, delivered_detail, merge_config, send
from peers import PostfixPeer
from peers.nsd import NsdServer, sign_zone
from peers.pki import self_signed

EE, TA, PLAIN = "127.0.0.51", "127.0.0.52", "127.0.0.53"
WRONG = "00" * 32          # a SHA2-256 digest that matches no key
BOGUS, FORGED = "11" * 32, "22" * 32  # signed, then changed after signing

# Postfix says in its Received field when a message came over TLS.
POSTFIX_TLS = "smtpd_tls_received_header = yes\n"
TLS_DETAIL = r"TLSv1\.[23] \S+"


def signed_zone(port, ee, ca):
    """dane.example: which MX host has which TLSA records at _PORT._tcp."""
    tlsa = f"_{port}._tcp"
    return f"""\
$ORIGIN dane.example.
$TTL 60
@ IN SOA ns.dane.example. hostmaster.dane.example. 1 3600 600 86400 60
@ IN NS ns.dane.example.
ns IN A 127.0.0.1
good IN MX 10 mx.good.dane.example.
mx.good IN A {EE}
{tlsa}.mx.good IN TLSA 3 1 1 {ee.spki_sha256()}
bad IN MX 10 mx.bad.dane.example.
mx.bad IN A {EE}
{tlsa}.mx.bad IN TLSA 3 1 1 {WRONG}
cnamemx IN MX 10 alias.cnamemx.dane.example.
alias.cnamemx IN CNAME mx.bad.dane.example.
twomx IN MX 10 mx.bad.dane.example.
twomx IN MX 20 mx.good.dane.example.
notlsa IN MX 10 mx.notlsa.dane.example.
mx.notlsa IN A {EE}
bogus IN MX 10 mx.bogus.dane.example.
mx.bogus IN A {EE}
{tlsa}.mx.bogus IN TLSA 3 1 1 {BOGUS}
unusable IN MX 10 mx.unusable.dane.example.
mx.unusable IN A {EE}
{tlsa}.mx.unusable IN TLSA 1 1 1 {ee.spki_sha256()}
malformed IN MX 10 mx.malformed.dane.example.
mx.malformed IN A {EE}
{tlsa}.mx.malformed IN TLSA 3 1 0 {WRONG}
unusableplain IN MX 10 mx.unusableplain.dane.example.
mx.unusableplain IN A {PLAIN}
{tlsa}.mx.unusableplain IN TLSA 0 0 1 {WRONG}
nostarttls IN MX 10 mx.nostarttls.dane.example.
mx.nostarttls IN A {PLAIN}
{tlsa}.mx.nostarttls IN TLSA 3 1 1 {WRONG}
ta IN MX 10 mx.ta.dane.example.
mx.ta IN A {TA}
{tlsa}.mx.ta IN TLSA 2 0 1 {ca.cert.cert_sha256()}
tawrong IN MX 10 mx.tawrong.dane.example.
mx.tawrong IN A {TA}
{tlsa}.mx.tawrong IN TLSA 2 0 1 {ca.cert.cert_sha256()}
"""


def unsigned_zone(port):
    return f"""\
$ORIGIN nodane.example.
$TTL 60
@ IN SOA ns.nodane.example. hostmaster.nodane.example. 1 3600 600 86400 60
@ IN NS ns.nodane.example.
ns IN A 127.0.0.1
plain IN MX 10 mx.plain.nodane.example.
mx.plain IN A {EE}
_{port}._tcp.mx.plain IN TLSA 3 1 1 {WRONG}
"""


@pytest.fixture(scope="module")
def ee_cert(tmp_path_factory):
    """Self-signed, for a name no MX has: DANE-EE matches the key alone."""
    return self_signed(tmp_path_factory.mktemp("ee"), "unrelated.name.example")


@pytest.fixture(scope="module")
def dns(tmp_path_factory, mx_port, ee_cert, ca):
    """NSD with dane.example signed and nodane.example not; .trust_anchor: the DS of dane.example."""
    d = tmp_path_factory.mktemp("nsd")
    signed, ds = sign_zone(d, "dane.example", signed_zone(mx_port, ee_cert, ca),
                           tamper=lambda text: text.replace(BOGUS, FORGED))
    unsigned = d / "nodane.example.zone"
    unsigned.write_text(unsigned_zone(mx_port), encoding="utf-8")
    server = NsdServer(d, {"dane.example": signed, "nodane.example": unsigned})
    server.trust_anchor = d / "trust-anchor"
    server.trust_anchor.write_text(ds + "\n", encoding="utf-8")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ee_mx(mx_port, ee_cert):
    """Postfix offering STARTTLS with the self-signed certificate, for most names."""
    domains = [f"{d}.dane.example" for d in ("good", "bad", "twomx", "notlsa", "bogus",
                                             "unusable", "cnamemx", "malformed")] + ["plain.nodane.example"]
    postfix = PostfixPeer(EE, mx_port, domains, ["olga"], extra_main_cf=POSTFIX_TLS,
                          tls_cert=ee_cert)
    yield postfix
    postfix.stop()


@pytest.fixture
def dane_tern(relay_tern, dns):
    """make(overrides) -> a Tern that validates with the trust anchor of dane.example."""
    def make(overrides=None):
        return relay_tern(merge_config({"dns": {"trust_anchor": str(dns.trust_anchor)}}, overrides))
    return make


def postfix_count(postfix):
    return len(postfix.messages("olga"))


def tls_only_sessions(postfix):
    """Sessions Postfix saw end right after a successful STARTTLS."""
    return len(re.findall(r"disconnect from .* ehlo=1 starttls=1 commands=2$", postfix.log(), re.M))


def deliver_to_postfix(tern, ee_mx, *addresses):
    """Sends one message to each address (all served by ee_mx); once Postfix has them all, the
    detail of each delivery."""
    before = postfix_count(ee_mx)
    qids = [send(tern, [address]) for address in addresses]
    ee_mx.wait_for_messages("olga", before + len(qids))
    return [delivered_detail(tern, qid) for qid in qids]


OPPORTUNISTIC = r"ESMTP BDAT PIPELINING, %s \(not verified\)" % TLS_DETAIL
BY_DANE = r"ESMTP BDAT PIPELINING, %s \(verified, dane\)" % TLS_DETAIL


# --- DANE-EE (3 1 1) -------------------------------------------------------------------------------

def test_matching_tlsa_record_delivers_with_dane_verification(dane_tern, ee_mx):
    tern = dane_tern()
    (detail, line), = deliver_to_postfix(tern, ee_mx, "olga@good.dane.example")
    assert re.fullmatch(BY_DANE, detail), line
    assert b"(using TLSv1." in ee_mx.messages("olga")[-1]


def test_mismatching_tlsa_record_keeps_the_mail_although_starttls_is_offered(dane_tern, ee_mx):
    tern = dane_tern()
    before = postfix_count(ee_mx)
    handshakes = tls_only_sessions(ee_mx)
    qid = send(tern, ["olga@bad.dane.example"])
    state = deferred_twice(tern, qid, "olga@bad.dane.example")
    assert re.fullmatch(r"451 4\.7\.5 certificate of mx\.bad\.dane\.example\[127\.0\.0\.51\]:\d+ "
                        r"not accepted \(dane\): .+", state["last_reply"]), state
    assert postfix_count(ee_mx) == before
    # The server did offer STARTTLS and the handshake was made, once an attempt; the
    # certificate decided.
    assert tls_only_sessions(ee_mx) >= handshakes + 2, ee_mx.log()
    shown = tern.queue("show", qid).stdout
    assert "not accepted (dane)" in shown, shown


def test_the_next_mx_is_tried_when_the_tlsa_record_does_not_match(dane_tern, ee_mx):
    # twomx.dane.example: MX 10 is mx.bad (wrong TLSA), MX 20 mx.good (matching TLSA).
    (detail, line), = deliver_to_postfix(dane_tern(), ee_mx, "olga@twomx.dane.example")
    assert re.fullmatch(BY_DANE, detail), line
    assert re.search(r'relay="?mx\.good\.dane\.example\[', line), line


def test_tlsa_records_of_the_cname_target_of_an_mx_host_apply(dane_tern, ee_mx):
    # cnamemx.dane.example: MX alias.cnamemx, a CNAME for mx.bad, whose TLSA record does not
    # match. RFC 7672 2.2.2: the TLSA base domain is the CNAME-expanded name.
    tern = dane_tern()
    qid = send(tern, ["olga@cnamemx.dane.example"])
    line = tern.wait_for_log(r"delivery id=%s " % qid, timeout=20)
    assert "status=deferred" in line and "not accepted (dane)" in line, line


@pytest.mark.parametrize("overrides", [
    pytest.param({"tls": {"dane": False}}, id="dane-off"),
    pytest.param({"dns": {"trust_anchor": None}}, id="no-trust-anchor"),
])
def test_tlsa_records_are_not_used_without_dane_or_validation(dane_tern, ee_mx, overrides):
    (detail, line), = deliver_to_postfix(dane_tern(overrides), ee_mx, "olga@bad.dane.example")
    assert re.fullmatch(OPPORTUNISTIC, detail), line


def test_unsigned_tlsa_records_and_signed_absence_mean_opportunistic_tls(dane_tern, ee_mx):
    # plain.nodane.example: TLSA records in a zone without signatures; notlsa.dane.example: a
    # signed zone that proves there are none.
    for detail, line in deliver_to_postfix(dane_tern(), ee_mx, "olga@plain.nodane.example",
                                           "olga@notlsa.dane.example"):
        assert re.fullmatch(OPPORTUNISTIC, detail), line


def test_a_failed_tlsa_lookup_skips_the_server(dane_tern, ee_mx):
    # The TLSA record of mx.bogus was changed after signing: its answer is bogus.
    tern = dane_tern()
    before = postfix_count(ee_mx)
    qid = send(tern, ["olga@bogus.dane.example"])
    state = deferred_twice(tern, qid, "olga@bogus.dane.example")
    assert re.fullmatch(r"451 4\.7\.5 TLSA lookup of _\d+\._tcp\.mx\.bogus\.dane\.example failed: "
                        r"DNSSEC validation failed: .+", state["last_reply"]), state
    assert postfix_count(ee_mx) == before


def test_tlsa_records_make_tls_mandatory(dane_tern, ee_mx, peers, mx_port):
    plain = peers(PLAIN, mx_port)  # no STARTTLS
    tern = dane_tern()
    # Usable records: DANE. Only unusable ones (PKIX-TA, PKIX-EE): still TLS, but no check.
    qids = {"nina@nostarttls.dane.example": send(tern, ["nina@nostarttls.dane.example"]),
            "nina@unusableplain.dane.example": send(tern, ["nina@unusableplain.dane.example"])}
    for address, qid in qids.items():
        state = deferred_twice(tern, qid, address)
        assert state["last_reply"] == \
            "451 4.7.4 TLS is required but the server does not offer STARTTLS", state
    assert plain.messages() == []
    (detail, line), = deliver_to_postfix(tern, ee_mx, "olga@unusable.dane.example")
    assert re.fullmatch(OPPORTUNISTIC, detail), line


def test_a_full_tlsa_record_that_is_no_public_key_is_unusable(dane_tern, ee_mx):
    # mx.malformed: "3 1 0" whose data is not a SubjectPublicKeyInfo. Unusable (RFC 7672 2.2):
    # TLS without authentication, not a refusal. It used to be deferred with "451 4.7.5 TLS
    # with mx.malformed...: no usable TLSA record".
    (detail, line), = deliver_to_postfix(dane_tern(), ee_mx, "olga@malformed.dane.example")
    assert re.fullmatch(OPPORTUNISTIC, detail), line


# --- DANE-TA (2 0 1) -------------------------------------------------------------------------------

def test_trust_anchor_tlsa_record_checks_the_chain_and_the_name(dane_tern, peers, mx_port, ca):
    # The server's certificate, issued by the test CA, names mx.ta.dane.example only.
    server = peers(TA, mx_port, tls_cert=ca.issue("mx.ta.dane.example"))
    tern = dane_tern()
    qid = send(tern, ["tina@ta.dane.example"])
    server.wait_for_messages(1)
    detail, line = delivered_detail(tern, qid)
    assert re.fullmatch(r"ESMTP DATA, %s \(verified, dane\)" % TLS_DETAIL, detail), line
    assert server.server_names() == ["mx.ta.dane.example"]  # SNI: the TLSA base domain
    # mx.tawrong has the same TLSA record and server, but the certificate is not for its name.
    qid = send(tern, ["tina@tawrong.dane.example"])
    state = deferred_twice(tern, qid, "tina@tawrong.dane.example")
    assert re.fullmatch(r"451 4\.7\.5 certificate of mx\.tawrong\.dane\.example\[127\.0\.0\.52\]:"
                        r"\d+ not accepted \(dane\): hostname mismatch", state["last_reply"]), state
    assert len(server.messages()) == 1
