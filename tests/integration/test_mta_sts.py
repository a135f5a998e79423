# MTA-STS (RFC 8461) end to end: _mta-sts TXT records from a test DNS server (dnslib), policies
# served over HTTPS by a local server on 127.0.0.61:443 whose certificate comes from a test CA,
# and mail exchangers on 127.0.0.x (aiosmtpd with STARTTLS) with a CA or a self-signed certificate.
import os
import re
import time

import pytest

from conftest import deferred_twice, delivered_detail, merge_config, send, wait_gone
from peers import DnsServer, StsPolicyServer
from peers.pki import self_signed

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the MTA-STS policy host must listen on port 443 (root)")

POLICY_HOST, GOOD, SELF = "127.0.0.61", "127.0.0.63", "127.0.0.64"

# domain: (MX host, policy text or None for HTTP 404). Every domain publishes id=1.
DOMAINS = {
    "enforce": ("mx.good", "version: STSv1\r\nmode: enforce\r\nmx: mx.good.sts.example\r\n"
                           "max_age: 86400\r\n"),
    "wildcard": ("mx.good", "version: STSv1\nmode: enforce\nmx: *.good.sts.example\nmax_age: 600\n"),
    "notlisted": ("mx.good", "version: STSv1\nmode: enforce\nmx: mx.other.sts.example\n"
                             "mx: *.sts.example\nmax_age: 86400\n"),
    "selfsigned": ("mx.self", "version: STSv1\nmode: enforce\nmx: mx.self.sts.example\n"
                              "max_age: 86400\n"),
    "testing": ("mx.self", "version: STSv1\nmode: testing\nmx: mx.self.sts.example\n"
                           "max_age: 86400\n"),
    "modenone": ("mx.self", "version: STSv1\nmode: none\nmax_age: 86400\n"),
    "missing": ("mx.self", None),
    "cached": ("mx.good", "version: STSv1\nmode: enforce\nmx: mx.good.sts.example\n"
                          "max_age: 86400\n"),
}


def zone():
    lines = ["$ORIGIN sts.example.", "$TTL 60",
             "@ IN SOA ns.sts.example. hostmaster.sts.example. 1 3600 600 86400 60",
             f"mx.good IN A {GOOD}", f"mx.self IN A {SELF}"]
    for domain, (mx, _) in DOMAINS.items():
        lines += [f"{domain} IN MX 10 {mx}.sts.example.",
                  f'_mta-sts.{domain} IN TXT "v=STSv1; id=1"',
                  f"mta-sts.{domain} IN A {POLICY_HOST}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DnsServer(tmp_path_factory.mktemp("dns"), zone())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def policy_server(tmp_path_factory, ca):
    """The HTTPS policy host of every domain, with a certificate from the test CA."""
    names = [f"mta-sts.{d}.sts.example" for d in DOMAINS]
    server = StsPolicyServer(tmp_path_factory.mktemp("sts"), POLICY_HOST,
                             ca.issue("mta-sts.sts.example", names))
    for domain, (_, policy) in DOMAINS.items():
        server.set_policy(f"mta-sts.{domain}.sts.example", policy)
    yield server
    server.stop()


@pytest.fixture
def good_mx(peers, mx_port, ca):
    """mx.good.sts.example: STARTTLS with a certificate from the test CA for its name."""
    return peers(GOOD, mx_port, tls_cert=ca.issue("mx.good.sts.example"))


@pytest.fixture
def self_mx(peers, mx_port, tmp_path):
    """mx.self.sts.example: STARTTLS with a self-signed certificate."""
    return peers(SELF, mx_port, tls_cert=self_signed(tmp_path, "mx.self.sts.example"))


@pytest.fixture
def sts_tern(relay_tern, ca, policy_server):
    """make(overrides) -> a Tern that trusts the test CA (for MX hosts and policy hosts)."""
    def make(overrides=None, **kwargs):
        return relay_tern(merge_config({"tls": {"ca_file": str(ca.pem)}}, overrides), **kwargs)
    return make


# --- enforce ----------------------------------------------------------------------------------------

def test_enforce_delivers_to_a_listed_mx_with_a_valid_certificate(sts_tern, good_mx,
                                                                  policy_server):
    tern = sts_tern()
    fetched = policy_server.fetches("mta-sts.enforce.sts.example")
    qid = send(tern, ["eve@enforce.sts.example"])
    good_mx.wait_for_messages(1)
    detail, line = delivered_detail(tern, qid)
    assert re.fullmatch(r"ESMTP DATA, TLSv1\.[23] \S+ \(verified, mta-sts\)", detail), line
    assert re.search(r"mta_sts domain=enforce\.sts\.example id=1 mode=enforce max_age=86400",
                     tern.log_text()), tern.log_text()
    # The policy is kept on disk: "<id>\n<expires>\n<policy text>".
    cached = (tern.data_dir / "mta-sts" / "enforce.sts.example").read_bytes().decode()
    ident, expires, text = cached.split("\n", 2)
    assert ident == "1" and text == DOMAINS["enforce"][1], cached
    assert abs(int(expires) - (time.time() + 86400)) < 60, cached
    # Within max_age and with the same id, the next message uses it without fetching again.
    qid = send(tern, ["eve@enforce.sts.example"])
    good_mx.wait_for_messages(2)
    wait_gone(tern, qid)
    assert policy_server.fetches("mta-sts.enforce.sts.example") == fetched + 1


def test_enforce_matches_a_wildcard_pattern(sts_tern, good_mx):
    tern = sts_tern()
    qid = send(tern, ["eve@wildcard.sts.example"])
    good_mx.wait_for_messages(1)
    assert "(verified, mta-sts)" in delivered_detail(tern, qid)[0]


def test_enforce_defers_when_the_policy_lists_no_mx_of_the_domain(sts_tern, good_mx):
    # "*.sts.example" matches one label only: not mx.good.sts.example.
    tern = sts_tern()
    qid = send(tern, ["eve@notlisted.sts.example"])
    state = deferred_twice(tern, qid, "eve@notlisted.sts.example")
    assert state["last_reply"] == \
        "451 4.7.5 no MX of notlisted.sts.example is allowed by its MTA-STS policy", state
    assert good_mx.events() == [e for e in good_mx.events() if e["connection"] == 1], \
        "only the peer's own start-up probe may have connected"


def test_enforce_defers_an_mx_with_a_self_signed_certificate(sts_tern, self_mx):
    tern = sts_tern()
    qid = send(tern, ["eve@selfsigned.sts.example"])
    state = deferred_twice(tern, qid, "eve@selfsigned.sts.example")
    assert re.fullmatch(r"451 4\.7\.5 certificate of mx\.self\.sts\.example\[127\.0\.0\.64\]:\d+ "
                        r"not accepted \(mta-sts\): self[- ]signed certificate",
                        state["last_reply"]), state
    assert self_mx.messages() == []


# --- testing, none, no policy -----------------------------------------------------------------------

def test_testing_mode_delivers_and_logs_what_enforce_would_refuse(sts_tern, self_mx):
    tern = sts_tern()
    qid = send(tern, ["tom@testing.sts.example"])
    self_mx.wait_for_messages(1)
    detail, line = delivered_detail(tern, qid)
    assert re.fullmatch(r"ESMTP DATA, TLSv1\.[23] \S+ \(NOT verified: self[- ]signed certificate\)",
                        detail), line
    warning = tern.wait_for_log(r"mta_sts_testing")
    assert re.search(r"domain=testing\.sts\.example host=mx\.self\.sts\.example mx_allowed=true",
                     warning), warning


def test_mode_none_or_no_policy_file_means_no_policy(sts_tern, self_mx):
    tern = sts_tern()
    qids = [send(tern, ["tom@modenone.sts.example"]), send(tern, ["tom@missing.sts.example"])]
    self_mx.wait_for_messages(2)
    for qid in qids:
        detail, line = delivered_detail(tern, qid)
        assert re.fullmatch(r"ESMTP DATA, TLSv1\.[23] \S+ \(not verified\)", detail), line
    warning = tern.wait_for_log(r"mta_sts domain=missing\.sts\.example")
    assert "HTTP 404" in warning, warning
    assert tern.wait_for_log(r"mta_sts_testing", timeout=0.2, required=False) is None


def test_a_policy_host_without_a_trusted_certificate_gives_no_policy(relay_tern, policy_server,
                                                                     good_mx):
    # Without the test CA the policy host's certificate is not valid: the policy of
    # notlisted.sts.example, which would refuse every MX, is not used.
    tern = relay_tern()
    qid = send(tern, ["eve@notlisted.sts.example"])
    good_mx.wait_for_messages(1)
    detail, line = delivered_detail(tern, qid)
    assert re.fullmatch(r"ESMTP DATA, TLSv1\.[23] \S+ \(not verified\)", detail), line
    warning = tern.wait_for_log(r"mta_sts domain=notlisted\.sts\.example")
    assert "certificate of mta-sts.notlisted.sts.example not valid" in warning, warning


# --- the cache on disk -------------------------------------------------------------------------------

def write_cache(tern, domain, ident, policy, expires=None):
    path = tern.data_dir / "mta-sts" / domain
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{ident}\n{expires or int(time.time()) + 3600}\n{policy}")


REFUSE_ALL = "version: STSv1\nmode: enforce\nmx: nothing.sts.example\nmax_age: 3600\n"


def test_a_cached_policy_with_the_published_id_is_used_without_fetching(sts_tern, good_mx,
                                                                        policy_server):
    tern = sts_tern(start=False)
    write_cache(tern, "cached.sts.example", "1", REFUSE_ALL)
    tern.start()
    fetched = policy_server.fetches("mta-sts.cached.sts.example")
    qid = send(tern, ["eve@cached.sts.example"])
    state = deferred_twice(tern, qid, "eve@cached.sts.example")
    assert state["last_reply"] == \
        "451 4.7.5 no MX of cached.sts.example is allowed by its MTA-STS policy", state
    assert policy_server.fetches("mta-sts.cached.sts.example") == fetched


@pytest.mark.parametrize("ident, expires", [
    pytest.param("0", None, id="other-id"),
    pytest.param("1", 1000, id="expired"),
])
def test_a_cached_policy_is_replaced_when_the_id_changes_or_it_expires(sts_tern, good_mx,
                                                                       policy_server, ident,
                                                                       expires):
    tern = sts_tern(start=False)
    write_cache(tern, "cached.sts.example", ident, REFUSE_ALL, expires)
    tern.start()
    fetched = policy_server.fetches("mta-sts.cached.sts.example")
    qid = send(tern, ["eve@cached.sts.example"])
    good_mx.wait_for_messages(1)
    assert "(verified, mta-sts)" in delivered_detail(tern, qid)[0]
    assert policy_server.fetches("mta-sts.cached.sts.example") == fetched + 1
    cached = (tern.data_dir / "mta-sts" / "cached.sts.example").read_text()
    assert cached.startswith("1\n") and cached.endswith(DOMAINS["cached"][1]), cached
