# SRS end to end (docs/srs.md): mail an alias forwards to a remote domain arrives at a real peer
# with an SRS return path; a bounce to that address reaches the original sender; forged and
# expired SRS addresses are refused; Tern's addresses interoperate with Mail::SRS and python3-srs.
import subprocess
import time

import pytest

from conftest import RELAY_BODY as BODY, queue_id
from peers import DnsServer

ZONE = """\
$ORIGIN srs.example.
$TTL 60
@ IN SOA ns.srs.example. hostmaster.srs.example. 1 3600 600 86400 60
dest IN MX 10 mx.dest.srs.example.
mx.dest IN A 127.0.0.31
orig IN MX 10 mx.orig.srs.example.
mx.orig IN A 127.0.0.32
"""

SECRETS = ["tern-test-secret", "old-secret"]
FWD = "fwd.srs.example"        # a local domain of Tern's
SENDER = "sender@orig.srs.example"
ALIASES = "forward: carol@dest.srs.example, alice\nremote-only: dave@dest.srs.example\n"
PERL = "/usr/bin/perl"
PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DnsServer(tmp_path_factory.mktemp("dns"), ZONE)
    yield server
    server.stop()


@pytest.fixture
def srs_tern(relay_tern):
    """make(srs=..., relay=...) -> a Tern with SRS on, local domains localhost and FWD, and the
    aliases above; 127.0.0.1 is not a trusted network, so nothing relays but what SRS allows."""

    def make(srs=None, relay=None):
        overrides = {
            "local": {"domains": ["localhost", FWD]},
            "srs": {"enabled": True, "secrets": SECRETS, **(srs or {})},
            "relay": {"trusted_networks": ["127.0.0.5/32"], **(relay or {})},
        }
        return relay_tern(overrides, aliases=ALIASES)

    return make


def mail(tern, sender, recipients, source="127.0.0.1", expect=250):
    """One transaction from `source`; returns the queue id when `expect` is 250 for all."""
    with tern.dialog(source=source) as d:
        d.ehlo()
        assert d.cmd(f"MAIL FROM:<{sender}>").code == 250
        for rcpt in recipients:
            r = d.cmd(f"RCPT TO:<{rcpt}>")
            assert r.code == expect, r
        if expect != 250:
            return None
        assert d.cmd("DATA").code == 354
        d.send(BODY + b".\r\n")
        final = d.read_reply()
        assert final.code == 250, final
        return queue_id(final)


def bounce_to(tern, peer, address):
    """Sends a bounce (MAIL FROM:<>) to `address`; returns the envelope `peer` received."""
    mail(tern, "", [address])
    (env, _), = peer.wait_for_messages(1)
    assert env["mail_from"] == "<>"  # as aiosmtpd records the null sender
    return env


def perl_srs(method, *args, secrets=SECRETS, at=None):
    """Mail::SRS (libmail-srs-perl) `method` on `args`; its result, or None when it dies."""
    fix_time = f"BEGIN {{ *CORE::GLOBAL::time = sub {{ {at} }} }} " if at else ""
    code = (fix_time + "use Mail::SRS; my $n = shift; my @s = splice(@ARGV, 0, $n); "
            "my $r = eval { Mail::SRS->new(Secret => [@s])->" + method + "(@ARGV) }; "
            "print defined $r ? $r : ''")
    out = subprocess.run([PERL, "-e", code, str(len(secrets)), *secrets, *args],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout or None


def python_srs(method, *args, secrets=SECRETS):
    """python3-srs `method` on `args`; its result, or None when it raises."""
    code = ("import sys, SRS\n"
            "s = SRS.new(secret=sys.argv[1].split(','))\n"
            "try:\n    print(getattr(s, sys.argv[2])(*sys.argv[3:]), end='')\n"
            "except Exception:\n    pass\n")
    out = subprocess.run([PYTHON, "-c", code, ",".join(secrets), method, *args],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return out.stdout or None


def tern_srs(tern, *args):
    return subprocess.run([tern.binary, "srs", *args, "--config", str(tern.config_path)],
                          capture_output=True, text=True, timeout=10)


# --- forwarding -----------------------------------------------------------------------------------

def test_alias_forwarded_to_a_remote_domain_gets_an_srs_return_path(srs_tern, peers, mx_port):
    dest = peers("127.0.0.31", mx_port)
    tern = srs_tern()
    mail(tern, SENDER, [f"forward@{FWD}"])
    (env, data), = dest.wait_for_messages(1)
    assert env["rcpt_tos"] == ["carol@dest.srs.example"]
    srs = env["mail_from"]
    assert srs.startswith("SRS0=") and srs.endswith(f"=orig.srs.example=sender@{FWD}"), srs
    assert b"Hello over there." in data
    # An independent implementation with the same secrets turns it back.
    assert perl_srs("reverse", srs) == SENDER
    assert python_srs("reverse", srs) == SENDER
    # The local copy of the same message keeps the original sender.
    local = tern.wait_for_message("alice")
    assert local.startswith(f"Return-Path: <{SENDER}>".encode()), local[:80]
    tern.wait_for_log(r"info srs_forward id=\S+ to=carol@dest\.srs\.example "
                      r"from=sender@orig\.srs\.example srs=\"SRS0=")


def test_only_forwarded_recipients_get_the_srs_sender(srs_tern, peers, mx_port):
    dest = peers("127.0.0.31", mx_port)
    tern = srs_tern()
    # A trusted client relays to dave directly and reaches carol through the alias.
    mail(tern, SENDER, ["dave@dest.srs.example", f"forward@{FWD}"], source="127.0.0.5")
    got = dest.wait_for_messages(2)
    by_rcpt = {tuple(env["rcpt_tos"]): env["mail_from"] for env, _ in got}
    assert by_rcpt[("dave@dest.srs.example",)] == SENDER
    assert by_rcpt[("carol@dest.srs.example",)].startswith("SRS0=")


@pytest.mark.parametrize("sender", ["", "alice@localhost", f"someone@{FWD}"])
def test_null_and_local_senders_are_not_rewritten(srs_tern, peers, mx_port, sender):
    dest = peers("127.0.0.31", mx_port)
    tern = srs_tern()
    mail(tern, sender, [f"remote-only@{FWD}"])
    (env, _), = dest.wait_for_messages(1)
    assert env["mail_from"] == (sender or "<>")


def test_srs_off_keeps_the_original_sender(relay_tern, peers, mx_port):
    dest = peers("127.0.0.31", mx_port)
    tern = relay_tern({"local": {"domains": ["localhost", FWD]}}, aliases=ALIASES)
    mail(tern, SENDER, [f"remote-only@{FWD}"])
    (env, _), = dest.wait_for_messages(1)
    assert env["mail_from"] == SENDER


def test_a_configured_srs_domain_is_used_and_accepted(srs_tern, peers, mx_port):
    dest = peers("127.0.0.31", mx_port)
    tern = srs_tern(srs={"domain": "bounces.srs.example", "separator": "+"})
    mail(tern, SENDER, [f"remote-only@{FWD}"])
    (env, _), = dest.wait_for_messages(1)
    srs = env["mail_from"]
    assert srs.startswith("SRS0+") and srs.endswith("@bounces.srs.example"), srs
    # That domain is not local, yet a bounce to the SRS address is taken.
    assert bounce_to(tern, peers("127.0.0.32", mx_port), srs)["rcpt_tos"] == [SENDER]


# --- bounces --------------------------------------------------------------------------------------

def test_bounce_to_the_srs_address_reaches_the_original_sender(srs_tern, peers, mx_port):
    dest = peers("127.0.0.31", mx_port)
    orig = peers("127.0.0.32", mx_port)
    tern = srs_tern()
    mail(tern, SENDER, [f"remote-only@{FWD}"])
    (env, _), = dest.wait_for_messages(1)
    srs = env["mail_from"]
    # The bounce comes from an untrusted client with the null sender, the address lower-cased.
    mail(tern, "", [srs.lower()])
    (env, data), = orig.wait_for_messages(1)
    assert env["mail_from"] == "<>"
    assert env["rcpt_tos"] == [SENDER]
    assert b"Hello over there." in data
    tern.wait_for_log(r"info delivery id=\S+ to=sender@orig\.srs\.example .*status=delivered")


def test_srs_address_made_by_mail_srs_is_relayed(srs_tern, peers, mx_port):
    orig = peers("127.0.0.32", mx_port)
    tern = srs_tern()
    srs = perl_srs("forward", SENDER, FWD)
    assert srs.startswith("SRS0=")
    assert bounce_to(tern, orig, srs)["rcpt_tos"] == [SENDER]


def test_srs1_address_reverses_to_the_first_forwarder(srs_tern, peers, mx_port):
    # An SRS0 address of orig.srs.example's forwarder, forwarded again by us: SRS1. A bounce
    # to it goes back to the first forwarder's SRS0 address.
    orig = peers("127.0.0.32", mx_port)
    tern = srs_tern()
    first = perl_srs("forward", "x@elsewhere.example", "orig.srs.example", secrets=["theirs"])
    srs1 = perl_srs("forward", first, FWD)
    assert srs1.startswith("SRS1=")
    assert bounce_to(tern, orig, srs1)["rcpt_tos"] == [first]


def test_forged_expired_and_malformed_srs_addresses_are_refused(srs_tern, peers, mx_port):
    tern = srs_tern()
    forged = f"SRS0=AAAA=AA=orig.srs.example=sender@{FWD}"
    with tern.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<>").code == 250
        r = d.cmd(f"RCPT TO:<{forged}>")
        assert (r.code, r.status) == (550, "5.1.1") and "Invalid SRS signature" in r.text, r
        # Signed with a secret Tern does not have.
        other = perl_srs("forward", SENDER, FWD, secrets=["not-ours"])
        r = d.cmd(f"RCPT TO:<{other}>")
        assert (r.code, r.status) == (550, "5.1.1"), r
        # Genuine, but made 30 days ago.
        old = perl_srs("forward", SENDER, FWD, at=int(time.time()) - 30 * 86400)
        r = d.cmd(f"RCPT TO:<{old}>")
        assert (r.code, r.status) == (550, "5.1.1") and "SRS address expired" in r.text, r
        r = d.cmd(f"RCPT TO:<SRS0=abcd@{FWD}>")
        assert (r.code, r.status) == (550, "5.1.1") and "Malformed SRS address" in r.text, r
        # Still no relaying for the untrusted client otherwise.
        r = d.cmd("RCPT TO:<sender@orig.srs.example>")
        assert (r.code, r.status) == (554, "5.7.1"), r
    # A valid SRS address at a domain that is not ours is not ours to reverse: no relay.
    theirs = perl_srs("forward", SENDER, "other.srs.example")
    mail(tern, "", [theirs], expect=554)


def test_bounces_only_refuses_other_senders(srs_tern, peers, mx_port):
    tern = srs_tern(srs={"bounces_only": True})
    srs = perl_srs("forward", SENDER, FWD)
    with tern.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<someone@example.net>").code == 250
        r = d.cmd(f"RCPT TO:<{srs}>")
        assert (r.code, r.status) == (554, "5.7.1") and "only bounces" in r.text, r
    assert bounce_to(tern, peers("127.0.0.32", mx_port), srs)["rcpt_tos"] == [SENDER]


# --- the CLI and interoperability --------------------------------------------------------------

def test_cli_forward_reverses_with_mail_srs_and_python_srs_and_back(srs_tern):
    tern = srs_tern()
    out = tern_srs(tern, "forward", "Bob.Smith=x@Sub.Example.ORG", "--domain", FWD)
    assert out.returncode == 0, out.stderr
    made = out.stdout.strip()
    assert made.startswith("SRS0=") and made.endswith(f"=Sub.Example.ORG=Bob.Smith=x@{FWD}")
    assert perl_srs("reverse", made) == "Bob.Smith=x@Sub.Example.ORG"
    assert python_srs("reverse", made) == "Bob.Smith=x@Sub.Example.ORG"
    # SRS1 from Tern, reversed by both.
    out = tern_srs(tern, "forward", made, "--domain", "second.example")
    srs1 = out.stdout.strip()
    assert srs1.startswith("SRS1=") and perl_srs("reverse", srs1) == made
    assert python_srs("reverse", srs1) == made
    # And the other way: made by python3-srs and Mail::SRS, reversed by Tern.
    for other in (python_srs("forward", SENDER, FWD), perl_srs("forward", SENDER, FWD)):
        out = tern_srs(tern, "reverse", other)
        assert (out.returncode, out.stdout.strip()) == (0, SENDER), out.stderr
    # The configuration may come before the subcommand too.
    out = subprocess.run([tern.binary, "-c", str(tern.config_path), "srs", "reverse", made],
                         capture_output=True, text=True, timeout=10)
    assert (out.returncode, out.stdout) == (0, "Bob.Smith=x@Sub.Example.ORG\n"), out.stderr
    out = tern_srs(tern, "reverse", perl_srs("forward", SENDER, FWD, secrets=["not-ours"]))
    assert out.returncode == 1 and "invalid SRS signature" in out.stderr
    # A fixed time: 2025-12-01 01:00 UTC gives the timestamp 6H, as Mail::SRS does.
    out = tern_srs(tern, "forward", "alice@example.org", "--domain", "fwd.example.net",
                   "--time", "1764550800")
    assert out.stdout.strip() == "SRS0=7jb2=6H=example.org=alice@fwd.example.net"
    out = tern_srs(tern, "reverse", out.stdout.strip(), "--time", str(1764550800 + 22 * 86400))
    assert out.returncode == 1 and "SRS address expired" in out.stderr
