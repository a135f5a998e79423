# ARC sealing of forwarded mail (RFC 8617 section 5.1) in the running daemon: a message from
# another host that a local alias sends on to a remote address leaves with Tern's ARC set (the
# RSA key of the alias's domain, cv= from the verification stage, the results it recorded), and
# dkimpy's arc_verify (python3-dkim) validates the chain at the receiving peer: a new chain
# (i=1, cv=none) and one Tern extends (i=2, cv=pass). Mail delivered here, mail of trusted
# clients and mail with arc_seal off get no set.
import time

import pytest

from conftest import HOSTNAME
from dkim_tools import dnsfunc_for, keygen
from peers import DnsServer

dkim = pytest.importorskip("dkim")
pytest.importorskip("dns.resolver")  # dkim_tools.dnsfunc_for asks the test DNS server with it

SENDER = "example.com"          # the author's domain, DKIM-signed, SPF for 127.0.0.1
FORWARDER = "lists.example.net"  # a mailing list that sealed before Tern
ALIASES = "example.org"         # Tern's local domain whose alias forwards
REMOTE = "remote.example.net"   # where the alias points, routed to a peer on loopback
PEER = "127.0.0.47"


def message(subject="Lunch"):
    return (f"From: Alice <alice@{SENDER}>\r\n".encode() +
            f"To: Fans <fans@{ALIASES}>\r\n".encode() +
            f"Subject: {subject}\r\n".encode() +
            b"Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
            b"Message-ID: <m." + str(time.monotonic_ns()).encode() + b"@example.com>\r\n"
            b"\r\n"
            b"Hello fans,\r\n  lunch is at noon.\r\n")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("arckeys")
    return {
        "sender": keygen(directory, SENDER, "sender", "rsa"),
        "list": keygen(directory, FORWARDER, "arc", "rsa"),
        "tern": keygen(directory, ALIASES, "seal", "rsa"),
        "tern-ed": keygen(directory, ALIASES, "ed", "ed25519"),
    }


@pytest.fixture(scope="module")
def dns(tmp_path_factory, keys):
    records = [
        [f"sender._domainkey.{SENDER}", "TXT", keys["sender"][1]],
        [f"arc._domainkey.{FORWARDER}", "TXT", keys["list"][1]],
        [f"seal._domainkey.{ALIASES}", "TXT", keys["tern"][1]],
        [f"ed._domainkey.{ALIASES}", "TXT", keys["tern-ed"][1]],
        [SENDER, "TXT", "v=spf1 ip4:127.0.0.1 -all"],
        [f"_dmarc.{SENDER}", "TXT", "v=DMARC1; p=none"],
    ]
    server = DnsServer(tmp_path_factory.mktemp("arcdns"), "", records=records)
    yield server
    server.stop()


def forwarding(tern_factory, dns, keys, mx_port, **mailauth):
    """A daemon whose MX verifies and whose alias fans@ forwards to a peer; 127.0.0.1 is not
    trusted, so mail from it is mail from another host."""
    config = {
        "dns": {"upstream": [dns.upstream], "timeout": "1s"},
        "relay": {"trusted_networks": [], "port": mx_port, "connect_timeout": "3s",
                  "routes": [f"{REMOTE} = [{PEER}]:{mx_port}"]},
        "queue": {"retry_schedule": ["1s"], "delay_warning": "0"},
        "local": {"domains": ["localhost", ALIASES]},
        "mailauth": {"verify": ["mx"], **mailauth},
        "dkim": {"sign": False, "generate_keys": False,
                 "keys": [f"{ALIASES} seal {keys['tern'][0]}",
                          f"{ALIASES} ed {keys['tern-ed'][0]}"]},
    }
    return tern_factory(config=config, aliases=f"fans: carol@{REMOTE}, bob\n")


def signed(keys, text):
    with open(keys["sender"][0], "rb") as f:
        return dkim.sign(text, b"sender", SENDER.encode(), f.read(),
                         include_headers=[b"from", b"to", b"subject", b"date"]) + text


def list_sealed(keys):
    """The message as a mailing list passes it on: judged, subject changed, sealed (arc_sign)."""
    text = signed(keys, message(subject="[list] Lunch"))
    theirs = (f"Authentication-Results: {FORWARDER}; dkim=pass header.d={SENDER};"
              f" spf=pass smtp.mailfrom=alice@{SENDER}; dmarc=pass header.from={SENDER}\r\n"
              ).encode()
    with open(keys["list"][0], "rb") as f:
        seal = dkim.arc_sign(theirs + text, b"arc", FORWARDER.encode(), f.read(),
                             FORWARDER.encode(), include_headers=[b"from", b"to", b"subject"])
    return b"".join(seal) + theirs + text


def header_fields(text):
    head = text.split(b"\r\n\r\n", 1)[0].decode()
    out = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        else:
            name, _, value = line.partition(":")
            out.append((name, value.strip()))
    return out


def forwarded_copy(peer):
    (env, data), = peer.wait_for_messages(1)
    assert env["rcpt_tos"] == [f"carol@{REMOTE}"], env
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_a_forwarded_message_gets_a_new_chain_that_dkimpy_validates(tern_factory, dns, keys,
                                                                    mx_port, peers):
    peer = peers(PEER, mx_port)
    t = forwarding(tern_factory, dns, keys, mx_port)
    reply = t.send_message(signed(keys, message()), sender=f"alice@{SENDER}",
                           recipients=[f"fans@{ALIASES}"])
    assert reply.code == 250, reply
    data = forwarded_copy(peer)
    fields = header_fields(data)
    names = [n for n, _ in fields]
    # The new set on top, in the order RFC 8617 shows it, above our Authentication-Results.
    assert names[:4] == ["ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
                         "Authentication-Results"], names
    seal, ams, aar = (v for _, v in fields[:3])
    assert seal.startswith("i=1; a=rsa-sha256;") and "cv=none" in seal, seal
    assert f"d={ALIASES}" in seal and "s=seal" in seal, seal  # the RSA key, never Ed25519
    assert ams.startswith("i=1; a=rsa-sha256;") and f"d={ALIASES}" in ams, ams
    assert aar.startswith(f"i=1; {HOSTNAME};"), aar
    for method in ("spf=pass", "dkim=pass", "dmarc=pass"):
        assert method in aar, aar
    cv, results, reason = dkim.arc_verify(data, dnsfunc=dnsfunc_for(dns))
    assert cv == b"pass", (reason, results)
    # The author's signature still verifies downstream.
    assert dkim.DKIM(data).verify(dnsfunc=dnsfunc_for(dns))
    # The local copy (the alias also names bob) carries the same set: one text for all.
    local = t.wait_for_message("bob", timeout=15)
    assert b"ARC-Seal: i=1;" in local


def test_tern_extends_a_chain_it_received(tern_factory, dns, keys, mx_port, peers):
    peer = peers(PEER, mx_port)
    t = forwarding(tern_factory, dns, keys, mx_port)
    reply = t.send_message(list_sealed(keys), sender=f"bounces@{FORWARDER}",
                           recipients=[f"fans@{ALIASES}"])
    assert reply.code == 250, reply
    data = forwarded_copy(peer)
    fields = header_fields(data)
    seal = fields[0][1]
    assert fields[0][0] == "ARC-Seal" and seal.startswith("i=2;") and "cv=pass" in seal, fields[0]
    aar = fields[2][1]
    assert "arc=pass" in aar, aar
    cv, results, reason = dkim.arc_verify(data, dnsfunc=dnsfunc_for(dns))
    assert cv == b"pass", (reason, results)
    assert [r["instance"] for r in results] == [2, 1], results


def test_mail_delivered_here_or_with_sealing_off_is_not_sealed(tern_factory, dns, keys, mx_port,
                                                               peers):
    peer = peers(PEER, mx_port)
    t = forwarding(tern_factory, dns, keys, mx_port)
    reply = t.send_message(signed(keys, message()), sender=f"alice@{SENDER}",
                           recipients=["bob@localhost"])
    assert reply.code == 250, reply
    assert b"ARC-Seal" not in t.wait_for_message("bob", timeout=15)

    off = forwarding(tern_factory, dns, keys, mx_port, arc_seal=False)
    reply = off.send_message(signed(keys, message()), sender=f"alice@{SENDER}",
                             recipients=[f"fans@{ALIASES}"])
    assert reply.code == 250, reply
    data = forwarded_copy(peer)
    assert b"ARC-Seal" not in data and b"Authentication-Results:" in data
