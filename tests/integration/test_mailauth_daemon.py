# Mail authentication in the running daemon (docs/mail-authentication.md): the MX listener's
# verify stage checks SPF, DKIM and DMARC against a DNS server on loopback and adds one
# Authentication-Results field (parsed here by python3-authres), removes forged ones, and acts on
# DMARC; the sign stage dual-signs mail of trusted clients, and dkimpy (python3-dkim) verifies
# what it signed. Header edits reach the delivered message through the spool's edits block.
import stat
import time

import pytest

from conftest import HOSTNAME
from dkim_tools import dnsfunc_for, keygen
from peers import DnsServer

dkim = pytest.importorskip("dkim")
authres = pytest.importorskip("authres")
pytest.importorskip("dns.resolver")  # dkim_tools.dnsfunc_for asks the test DNS server with it
import authres.dkim_b  # noqa: E402  (header.b, RFC 6008)
import authres.dmarc  # noqa: E402  (policy.dmarc)

CONTEXT = authres.FeatureContext(authres.dmarc, authres.dkim_b)
DOMAIN = "example.com"
FORWARDER = "lists.example.net"  # a mailing list that seals with ARC


def message(sender_domain=DOMAIN, subject="Lunch", extra=b""):
    return (extra +
            f"From: Alice <alice@{sender_domain}>\r\n".encode() +
            b"To: Bob <bob@localhost>\r\n" +
            f"Subject: {subject}\r\n".encode() +
            b"Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
            b"Message-ID: <m." + str(time.monotonic_ns()).encode() + b"@example.com>\r\n"
            b"\r\n"
            b"Hello Bob,\r\n  are we still on for lunch?\r\n")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Keys named as the daemon names its generated ones, in a key_dir the daemon is given; and
    one dkimpy signs with (as the sender's own domain would)."""
    directory = tmp_path_factory.mktemp("dkimkeys")
    made = {s: keygen(directory, DOMAIN, s, a)
            for s, a in (("tern-rsa", "rsa"), ("tern-ed25519", "ed25519"), ("sender", "rsa"))}
    made["arc"] = keygen(directory, FORWARDER, "arc", "rsa")
    return directory, made


@pytest.fixture(scope="module")
def dns(tmp_path_factory, keys):
    _, made = keys
    records = [[f"{s}._domainkey.{DOMAIN}", "TXT", value] for s, (_, value) in made.items()
               if s != "arc"]
    records.append([f"arc._domainkey.{FORWARDER}", "TXT", made["arc"][1]])
    records += [
        [DOMAIN, "TXT", "v=spf1 ip4:127.0.0.1 -all"],
        [f"_dmarc.{DOMAIN}", "TXT", "v=DMARC1; p=reject"],
        ["quarantined.example.net", "TXT", "v=spf1 -all"],
        ["_dmarc.quarantined.example.net", "TXT", "v=DMARC1; p=quarantine"],
        ["slow.example.net", "TIMEOUT", ""],
        ["_dmarc.slow.example.net", "TIMEOUT", ""],
    ]
    server = DnsServer(tmp_path_factory.mktemp("mailauthdns"), "", records=records)
    yield server
    server.stop()


def verifying(tern_factory, dns, **sections):
    """A daemon whose MX verifies, asking the test DNS server; 127.0.0.1 is not trusted."""
    config = {
        "dns": {"upstream": [dns.upstream], "timeout": "1s"},
        "relay": {"trusted_networks": []},
        "mailauth": {"verify": ["mx"]},
        "dkim": {"sign": False},
    }
    for section, keys in sections.items():
        config.setdefault(section, {}).update(keys)
    return tern_factory(config=config)


def fields(delivered):
    """The header fields of a delivered Maildir file, unfolded: [(name, value)]."""
    head = delivered.split(b"\n\n", 1)[0].decode()
    out = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + "\r\n" + line)
        else:
            name, _, value = line.partition(":")
            out.append((name, value.lstrip(" ")))
    return out


def our_results(delivered):
    """The Authentication-Results fields of the message and python3-authres's parse of ours."""
    ar = [v for n, v in fields(delivered) if n.lower() == "authentication-results"]
    ours = [CONTEXT.parse("Authentication-Results: " + v)
            for v in ar if v.split(";")[0].strip() == HOSTNAME]
    return ar, ours


def results_by_method(header):
    return {r.method: str(r.result) for r in header.results}


def test_a_signed_aligned_message_passes_and_gets_one_field(tern_factory, dns, keys):
    _, made = keys
    t = verifying(tern_factory, dns)
    signed_text = message()
    with open(made["sender"][0], "rb") as f:
        sig = dkim.sign(signed_text, b"sender", DOMAIN.encode(), f.read(),
                        include_headers=[b"from", b"to", b"subject", b"date"])
    # A field claiming our authserv-id came from outside: removed. Another id's field stays.
    forged = f"Authentication-Results: {HOSTNAME}; dmarc=pass header.from=example.com\r\n".encode()
    theirs = b"Authentication-Results: other.example; spf=fail smtp.mailfrom=x@example.com\r\n"
    reply = t.send_message(sig + forged + theirs + signed_text, sender=f"bounce@{DOMAIN}",
                           recipients=["bob@localhost"])
    assert reply.code == 250, reply
    delivered = t.wait_for_message("bob", timeout=15)
    names = [n for n, _ in fields(delivered)]
    # Ours is above Tern's Received field (prepended), the trace fields of delivery above it.
    assert names[:4] == ["Return-Path", "Delivered-To", "Authentication-Results", "Received"], names
    ar, ours = our_results(delivered)
    assert len(ours) == 1, ar
    assert any(v.startswith("other.example;") for v in ar), ar
    got = results_by_method(ours[0])
    assert got == {"dkim": "pass", "spf": "pass", "dmarc": "pass"}, ours[0]
    # The signed part is as it came: dkimpy still verifies the sender's signature downstream.
    text = delivered.split(b"\n", 2)[2].replace(b"\n", b"\r\n")
    assert dkim.DKIM(text).verify(dnsfunc=dnsfunc_for(dns))


def test_dmarc_reject_refuses_at_the_end_of_data(tern_factory, dns):
    t = verifying(tern_factory, dns)
    # From example.com (p=reject), no signature, an envelope domain that is not example.com.
    reply = t.send_message(message(), sender="someone@elsewhere.test", recipients=["bob@localhost"])
    assert (reply.code, reply.status) == (550, "5.7.1"), reply
    assert "DMARC" in reply.text or "dmarc" in reply.text.lower(), reply
    time.sleep(0.5)
    assert t.messages("bob") == []
    assert t.wait_for_log(r"message_refused .*stage=mailauth")


def test_dmarc_local_policy_can_tag_instead(tern_factory, dns):
    t = verifying(tern_factory, dns, mailauth={"dmarc_reject": "tag"})
    reply = t.send_message(message(), sender="someone@elsewhere.test", recipients=["bob@localhost"])
    assert reply.code == 250, reply
    delivered = t.wait_for_message("bob", timeout=15)
    names = [n for n, _ in fields(delivered)]
    assert "X-Tern-DMARC" in names, names
    _, ours = our_results(delivered)
    assert results_by_method(ours[0])["dmarc"] == "fail"


def test_dmarc_quarantine_can_hold(tern_factory, dns):
    t = verifying(tern_factory, dns, mailauth={"dmarc_quarantine": "hold"})
    reply = t.send_message(message("quarantined.example.net"), sender="a@quarantined.example.net",
                           recipients=["bob@localhost"])
    assert reply.code == 250, reply
    t.wait_for_log(r"held .*stage=mailauth")
    listed = t.queue("list").stdout
    assert "held" in listed, listed
    assert t.messages("bob") == []


def test_dns_that_never_answers_costs_the_time_budget_and_fails_open(tern_factory, dns):
    t = verifying(tern_factory, dns, mailauth={"timeout": "3s"})
    start = time.monotonic()
    reply = t.send_message(message("slow.example.net"), sender="a@slow.example.net", recipients=["bob@localhost"])
    took = time.monotonic() - start
    assert reply.code == 250, reply
    assert took < 10, took
    delivered = t.wait_for_message("bob", timeout=15)
    _, ours = our_results(delivered)
    got = results_by_method(ours[0])
    assert got["spf"] == "temperror" and got["dmarc"] == "temperror", ours[0]


def test_trusted_clients_are_dual_signed_and_dkimpy_verifies(tern_factory, dns, keys):
    directory, _ = keys
    t = tern_factory(config={
        "dns": {"upstream": [dns.upstream], "timeout": "1s"},
        "mailauth": {"verify": ["mx"]},
        "dkim": {"sign": True, "domains": [DOMAIN], "key_dir": str(directory)},
    })
    reply = t.send_message(message(subject="Signed by Tern"), sender=f"alice@{DOMAIN}",
                           recipients=["bob@localhost"])
    assert reply.code == 250, reply
    delivered = t.wait_for_message("bob", timeout=15)
    sigs = [v for n, v in fields(delivered) if n == "DKIM-Signature"]
    assert len(sigs) == 2, fields(delivered)
    assert "a=rsa-sha256" in sigs[0] and "s=tern-rsa" in sigs[0], sigs[0]
    assert "a=ed25519-sha256" in sigs[1] and "s=tern-ed25519" in sigs[1], sigs[1]
    # Trusted (loopback is in relay.trusted_networks), and for a local mailbox: verified before
    # signing, so the field says what came in; the signatures are above it.
    names = [n for n, _ in fields(delivered)]
    assert names[2:5] == ["DKIM-Signature", "DKIM-Signature", "Authentication-Results"], names
    _, ours = our_results(delivered)
    assert results_by_method(ours[0]) == {"dkim": "none", "spf": "pass", "dmarc": "pass"}
    text = delivered.split(b"\n", 2)[2].replace(b"\n", b"\r\n")  # without Return-Path, Delivered-To
    d = dkim.DKIM(text)
    assert d.verify(idx=0, dnsfunc=dnsfunc_for(dns))
    assert d.verify(idx=1, dnsfunc=dnsfunc_for(dns))


def test_trusted_clients_are_judged_but_never_refused(tern_factory, dns):
    t = tern_factory(config={
        "dns": {"upstream": [dns.upstream], "timeout": "1s"},
        "mailauth": {"verify": ["mx"]},
    })
    # Fails DMARC under p=reject, but loopback is a trusted client: recorded, delivered.
    reply = t.send_message(message(), sender="someone@elsewhere.example.net",
                           recipients=["bob@localhost"])
    assert reply.code == 250, reply
    delivered = t.wait_for_message("bob", timeout=15)
    _, ours = our_results(delivered)
    assert results_by_method(ours[0])["dmarc"] == "fail", ours[0]


def test_keys_are_made_once_for_the_local_domains(tern_factory):
    t = tern_factory(config={"dkim": {"sign": True}})
    key_dir = t.data_dir / "dkim"
    made = sorted(p.name for p in key_dir.iterdir())
    assert made == ["localhost.tern-ed25519.key", "localhost.tern-rsa.key"], made
    for p in key_dir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    line = t.wait_for_log(r"dkim_key_generated .*tern-rsa\._domainkey\.localhost")
    assert "v=DKIM1" in line and "k=rsa" in line, line
    before = {p.name: p.read_bytes() for p in key_dir.iterdir()}
    t.restart()
    assert {p.name: p.read_bytes() for p in key_dir.iterdir()} == before
    # Mail from the local domain by a trusted client is signed with both.
    reply = t.send_message(message("localhost"), sender="alice@localhost", recipients=["bob@localhost"])
    assert reply.code == 250, reply
    delivered = t.wait_for_message("bob", timeout=15)
    assert [n for n, _ in fields(delivered)].count("DKIM-Signature") == 2


def arc_sealed(keys):
    """A message from example.com as a mailing list passes it on: it judged it (dmarc=pass),
    changed the subject, and sealed the result with ARC (dkimpy's arc_sign)."""
    _, made = keys
    text = message(subject="[list] Lunch")
    theirs = (f"Authentication-Results: {FORWARDER}; dkim=pass header.d={DOMAIN};"
              f" spf=pass smtp.mailfrom=alice@{DOMAIN}; dmarc=pass header.from={DOMAIN}\r\n").encode()
    with open(made["arc"][0], "rb") as f:
        seal = dkim.arc_sign(theirs + text, b"arc", FORWARDER.encode(), f.read(),
                             FORWARDER.encode(), include_headers=[b"from", b"to", b"subject"])
    return b"".join(seal) + theirs + text


def test_arc_of_a_trusted_forwarder_overrides_a_dmarc_failure(tern_factory, dns, keys):
    t = verifying(tern_factory, dns, mailauth={"trusted_arc_sealers": [FORWARDER]})
    reply = t.send_message(arc_sealed(keys), sender=f"list-bounces@{FORWARDER}",
                           recipients=["bob@localhost"])
    assert reply.code == 250, reply
    delivered = t.wait_for_message("bob", timeout=15)
    _, ours = our_results(delivered)
    got = results_by_method(ours[0])
    assert got["arc"] == "pass" and got["dmarc"] == "fail", ours[0]


def test_arc_of_an_unknown_forwarder_does_not(tern_factory, dns, keys):
    t = verifying(tern_factory, dns)
    reply = t.send_message(arc_sealed(keys), sender=f"list-bounces@{FORWARDER}",
                           recipients=["bob@localhost"])
    assert (reply.code, reply.status) == (550, "5.7.1"), reply


def test_signatures_cover_a_body_a_milter_replaced(tern_factory, dns, keys, tmp_path):
    # Signing runs after the milters (docs/pipeline.md): it signs the body the milter put in.
    pytest.importorskip("Milter")
    from test_milter import MilterPeer
    peer = MilterPeer(tmp_path, "replbody-headers")
    try:
        directory, _ = keys
        t = tern_factory(config={
            "dns": {"upstream": [dns.upstream], "timeout": "1s"},
            "dkim": {"sign": True, "domains": [DOMAIN], "key_dir": str(directory)},
            "milter": {"mx": [f"inet:127.0.0.1:{peer.port}"]},
        })
        reply = t.send_message(message(subject="Signed after the milter"),
                               sender=f"alice@{DOMAIN}", recipients=["bob@localhost"])
        assert reply.code == 250, reply
        delivered = t.wait_for_message("bob", timeout=15)
        assert delivered.endswith(b"\n\nA new body.\n"), delivered
        assert (b"Subject: Changed by the filter" in delivered)
        text = delivered.split(b"\n", 2)[2].replace(b"\n", b"\r\n")
        d = dkim.DKIM(text)
        assert d.verify(idx=0, dnsfunc=dnsfunc_for(dns))
        assert d.verify(idx=1, dnsfunc=dnsfunc_for(dns))
    finally:
        peer.stop()
