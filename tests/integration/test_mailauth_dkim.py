# `tern mailauth sign|verify` and `tern dkim keygen|check` end to end, against a DNS server on
# loopback (dns_server.py) publishing the keys `tern dkim keygen` made, with independent DKIM
# implementations on the other side: signatures Tern makes are verified by dkimpy (Debian
# python3-dkim) and by Mail::DKIM (libmail-dkim-perl); messages dkimpy signs are verified by
# Tern; every Authentication-Results field Tern prints is parsed by python3-authres.
import base64
import os
import re
import stat
import subprocess
import time

import pytest

from conftest import CLI_TIMEOUT, TERN_BIN
from dkim_tools import dnsfunc_for, keygen
from peers import DnsServer

dkim = pytest.importorskip("dkim")
authres = pytest.importorskip("authres")
pytest.importorskip("dns.resolver")  # dkim_tools.dnsfunc_for asks the test DNS server with it
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
import authres.dkim_b  # noqa: E402  (header.b, RFC 6008)
import authres.dmarc  # noqa: E402  (policy.dmarc)

CONTEXT = authres.FeatureContext(authres.dmarc, authres.dkim_b)

DOMAIN = "example.com"
AUTHSERV_ID = "mx.tern.test"
MESSAGE = (b"From: Alice <alice@example.com>\r\n"
           b"To: Bob <bob@example.net>\r\n"
           b"Subject: Lunch on Tuesday\r\n"
           b"Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
           b"Message-ID: <lunch.1@example.com>\r\n"
           b"\r\n"
           b"Hello Bob,\r\n"
           b"  are we  still on for lunch?\t\r\n"
           b"\r\n"
           b"Alice\r\n")
# Selector -> algorithm of the keys made for the tests. "stale" is published with the key of
# rsa1, so that `tern dkim check` sees a record that does not match its key file.
SELECTORS = {"rsa1": "rsa", "ed1": "ed25519", "pyrsa": "rsa", "pyed": "ed25519",
             "stale": "rsa"}
MAIL_DKIM_VERIFY = r"""
use strict;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;
my $resolver = Net::DNS::Resolver->new(nameservers => [$ARGV[0]], port => $ARGV[1],
                                       recurse => 1, udp_timeout => 5, tcp_timeout => 5);
Mail::DKIM::DNS::resolver($resolver);
my $verifier = Mail::DKIM::Verifier->new();
binmode STDIN;
while (my $line = <STDIN>) {
    $line =~ s/\r?\n\z/\r\n/;
    $verifier->PRINT($line);
}
$verifier->CLOSE;
foreach my $signature ($verifier->signatures) {
    print join("\t", $signature->result, $signature->domain, $signature->selector,
               $signature->algorithm, $signature->result_detail), "\n";
}
"""


def tern(*args, stdin=b"", timeout=CLI_TIMEOUT):
    return subprocess.run([TERN_BIN, *args], input=stdin, capture_output=True, timeout=timeout)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    return {selector: keygen(directory, DOMAIN, selector, algorithm)
            for selector, algorithm in SELECTORS.items()}


@pytest.fixture(scope="module")
def dns(tmp_path_factory, keys):
    records = [[f"{s}._domainkey.{DOMAIN}", "TXT", value]
               for s, (_, value) in keys.items() if s != "stale"]
    records += [
        [f"stale._domainkey.{DOMAIN}", "TXT", keys["rsa1"][1]],
        [f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=reject"],
        [DOMAIN, "TXT", "v=spf1 ip4:192.0.2.0/24 -all"],
    ]
    server = DnsServer(tmp_path_factory.mktemp("dkimdns"), "", records=records)
    yield server
    server.stop()


def dkimpy_verifies(message, index, server):
    """dkimpy's verdict on the signature at `index`; a mismatch raises in dkimpy, here False."""
    try:
        return dkim.DKIM(message).verify(idx=index, dnsfunc=dnsfunc_for(server))
    except dkim.DKIMException:
        return False


def sign(*selectors, keys, message=MESSAGE):
    args = ["mailauth", "sign", "--domain", DOMAIN]
    for selector in selectors:
        args += ["--selector", selector, "--key", str(keys[selector][0])]
    proc = tern(*args, stdin=message)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def signature_count(message):
    return len(re.findall(rb"^DKIM-Signature:", message, re.M | re.I))


def mail_dkim(server, message):
    proc = subprocess.run(["perl", "-e", MAIL_DKIM_VERIFY, server.address, str(server.port)],
                          input=message, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.decode().splitlines()]


class Verified:
    """What `tern mailauth verify` printed: result lines, then the Authentication-Results field."""

    def __init__(self, proc):
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout.decode()
        head, sep, field = text.partition("Authentication-Results:")
        assert sep, text
        self.lines = head.splitlines()
        self.field = sep + field
        self.parsed = CONTEXT.parse(self.field.replace("\n", "\r\n"))

    def results(self, method):
        return [line for line in self.lines if line.startswith(method + "=")]


def verify(server, message, *extra, timeout=CLI_TIMEOUT):
    return Verified(tern("mailauth", "verify", "--dns", server.upstream, "--authserv-id",
                         AUTHSERV_ID, *extra, stdin=message, timeout=timeout))


@pytest.mark.parametrize("selectors", [("rsa1",), ("ed1",), ("rsa1", "ed1")],
                         ids=["rsa", "ed25519", "dual"])
def test_signatures_verified_by_dkimpy(dns, keys, selectors):
    signed = sign(*selectors, keys=keys)
    assert signed.endswith(MESSAGE)
    assert signature_count(signed) == len(selectors)
    for index in range(len(selectors)):
        assert dkimpy_verifies(signed, index, dns), index
    # The same check fails on a changed body: the verification above can fail.
    changed = signed.replace(b"lunch?", b"dinner?")
    assert not dkimpy_verifies(changed, 0, dns)


# Mail::DKIM as Debian 12 ships it (1.20230212) verifies RSA only: it reports an Ed25519
# signature "invalid (unsupported algorithm ed25519-sha256)", having parsed it; its Ed25519
# support came later. So the Ed25519 half of a dual signature is checked by dkimpy above.
@pytest.mark.parametrize("selectors", [("rsa1",), ("rsa1", "ed1")], ids=["rsa", "dual"])
def test_signatures_verified_by_mail_dkim(dns, keys, selectors):
    signed = sign(*selectors, keys=keys)
    results = {r[2]: r for r in mail_dkim(dns, signed)}
    assert sorted(results) == sorted(selectors)
    assert results["rsa1"][:2] == ["pass", DOMAIN], results
    if "ed1" in results:
        assert results["ed1"][4] == "invalid (unsupported algorithm ed25519-sha256)", results
    changed = signed.replace(b"Subject: Lunch", b"Subject: Dinner")
    assert mail_dkim(dns, changed)[0][0] == "fail"


def test_signing_unix_line_ends_keeps_them(dns, keys):
    unix = MESSAGE.replace(b"\r\n", b"\n")
    signed = sign("ed1", keys=keys, message=unix)
    assert b"\r" not in signed and signed.endswith(unix)
    crlf = signed.replace(b"\n", b"\r\n")
    assert dkimpy_verifies(crlf, 0, dns)


def dkimpy_key(path, algorithm):
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if algorithm == "rsa":
        return key.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return base64.b64encode(raw)


@pytest.mark.parametrize("selector,algorithm,canonicalize", [
    ("pyrsa", b"rsa-sha256", (b"relaxed", b"relaxed")),
    ("pyrsa", b"rsa-sha256", (b"simple", b"simple")),
    ("pyed", b"ed25519-sha256", (b"relaxed", b"simple")),
])
def test_dkimpy_signatures_verified_by_tern(dns, keys, selector, algorithm, canonicalize):
    private = dkimpy_key(keys[selector][0], SELECTORS[selector])
    field = dkim.sign(MESSAGE, selector.encode(), DOMAIN.encode(), private,
                      signature_algorithm=algorithm, canonicalize=canonicalize,
                      include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    out = verify(dns, field + MESSAGE)
    assert out.results("dkim") and out.results("dkim")[0].startswith("dkim=pass"), out.lines
    assert f"header.s={selector}" in out.results("dkim")[0]
    assert out.results("dmarc")[0].startswith("dmarc=pass"), out.lines
    dkim_results = [r for r in out.parsed.results if r.method == "dkim"]
    assert [r.result for r in dkim_results] == ["pass"]
    assert out.parsed.authserv_id == AUTHSERV_ID
    # Changed in transit: DKIM fails, and with it DMARC under p=reject.
    tampered = verify(dns, field + MESSAGE.replace(b"Alice\r\n", b"Mallory\r\n"))
    assert tampered.results("dkim")[0].startswith("dkim=fail"), tampered.lines
    assert tampered.results("dmarc")[0].startswith("dmarc=fail"), tampered.lines


def test_verify_with_spf_and_dual_signatures(dns, keys):
    signed = sign("rsa1", "ed1", keys=keys)
    out = verify(dns, signed, "--ip", "192.0.2.25", "--helo", "mail.example.com", "--sender",
                 "alice@example.com")
    assert [line.split()[0] for line in out.lines] == ["dkim=pass", "dkim=pass", "spf=pass",
                                                       "dmarc=pass"], out.lines
    methods = [(r.method, r.result) for r in out.parsed.results]
    assert methods == [("dkim", "pass"), ("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]
    outside = verify(dns, MESSAGE, "--ip", "198.51.100.7", "--helo", "mail.example.com",
                     "--sender", "alice@example.com")
    assert [line.split()[0] for line in outside.lines] == ["dkim=none", "spf=fail",
                                                           "dmarc=fail"], outside.lines
    assert [(r.method, r.result) for r in outside.parsed.results] == [
        ("dkim", "none"), ("spf", "fail"), ("dmarc", "fail")]


def test_thousand_signatures_give_a_bounded_result_quickly(dns, keys):
    signed = sign("rsa1", keys=keys)
    field, _, rest = signed.partition(b"\r\nFrom:")
    hostile = (field + b"\r\n") * 1000 + b"From:" + rest
    assert signature_count(hostile) == 1000
    started = time.monotonic()
    out = verify(dns, hostile, timeout=60)
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    assert len(out.results("dkim")) == 10
    assert all(line.startswith("dkim=pass") for line in out.results("dkim"))
    assert "dkim: 990 more DKIM-Signature fields not checked" in "\n".join(out.lines)
    assert len([r for r in out.parsed.results if r.method == "dkim"]) == 10


def test_keygen_writes_mode_0600_and_never_overwrites(tmp_path):
    path, value = keygen(tmp_path, DOMAIN, "sel", "ed25519")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert value.startswith("v=DKIM1; k=ed25519; p=")
    before = path.read_bytes()
    again = tern("dkim", "keygen", DOMAIN, "--selector", "sel", "--algorithm", "ed25519",
                 "--dir", str(tmp_path))
    assert again.returncode == 1
    assert b"never overwritten" in again.stderr
    assert path.read_bytes() == before
    rsa_path, rsa_value = keygen(tmp_path, DOMAIN, "big", "rsa")
    assert stat.S_IMODE(os.stat(rsa_path).st_mode) == 0o600
    assert rsa_value.startswith("v=DKIM1; k=rsa; p=")


def test_keygen_refuses_bad_names(tmp_path):
    proc = tern("dkim", "keygen", "not a domain", "--dir", str(tmp_path))
    assert proc.returncode == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("selector,key,status,says", [
    ("rsa1", "rsa1", 0, "matches the private key"),
    ("ed1", "ed1", 0, "matches the private key"),
    ("stale", "stale", 1, "does NOT match the private key"),
    ("rsa1", "ed1", 1, "does NOT match the private key"),
    ("nosuch", "rsa1", 1, "nosuch._domainkey.example.com"),
])
def test_check_compares_the_published_record(dns, keys, selector, key, status, says):
    proc = tern("dkim", "check", DOMAIN, "--selector", selector, "--key", str(keys[key][0]),
                "--dns", dns.upstream)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert says in proc.stdout.decode()


def test_check_refuses_a_bad_dns_option(keys):
    proc = tern("dkim", "check", DOMAIN, "--selector", "rsa1", "--key", str(keys["rsa1"][0]),
                "--dns", "nowhere@53")
    assert proc.returncode == 2
