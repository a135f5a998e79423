# `tern mailauth spf` end to end: a real DNS server on loopback (dns_server.py) serving SPF
# records, the tool's output and exit codes, and its results compared with pyspf (Debian
# python3-spf, an independent RFC 7208 implementation) asking the same server.
import pytest

from peers import DnsServer
from spf_cli import run_spf

spf = pytest.importorskip("spf")
dns_resolver = pytest.importorskip("dns.resolver")

# The records of the comparison: includes, redirect, macros, limits, void lookups, IPv6.
RECORDS = [
    ["plain.example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:1::/48 -all"],
    ["amx.example.com", "TXT", "v=spf1 a/28 mx//64 ~all"],
    ["amx.example.com", "A", "198.51.100.17"],
    ["amx.example.com", "MX", [10, "mx1.amx.example.com"]],
    ["amx.example.com", "MX", [20, "mx2.amx.example.com"]],
    ["mx1.amx.example.com", "AAAA", "2001:db8:2::25"],
    ["mx2.amx.example.com", "A", "203.0.113.9"],
    ["inc.example.com", "TXT",
     "v=spf1 include:_a.inc.example.com include:_b.inc.example.com -all"],
    ["_a.inc.example.com", "TXT", "v=spf1 ip4:203.0.113.0/25 ~all"],
    ["_b.inc.example.com", "TXT", "v=spf1 exists:%{ir}.%{v}.allow.inc.example.com ?all"],
    ["200.113.0.203.in-addr.allow.inc.example.com", "A", "127.0.0.2"],
    ["redir.example.com", "TXT",
     "v=spf1 ip4:192.0.2.1 redirect=_spf.redir.example.com exp=ignored.example.com"],
    ["_spf.redir.example.com", "TXT",
     "v=spf1 a:%{l}.users.example.com -all exp=why.example.com"],
    ["alice.users.example.com", "A", "192.0.2.77"],
    ["why.example.com", "TXT", "%{i} may not send for %{s} (%{d}, %{o}, helo %{h}, %{v})"],
    ["ignored.example.com", "TXT", "wrong explanation"],
    ["incnone.example.com", "TXT", "v=spf1 include:nothing.example.com -all"],
    ["incperm.example.com", "TXT", "v=spf1 include:bad.example.com -all"],
    ["bad.example.com", "TXT", "v=spf1 ip4:300.1.1.1 -all"],
    ["inctemp.example.com", "TXT", "v=spf1 include:slow.example.com -all"],
    ["slow.example.com", "TIMEOUT", None],
    ["void2.example.com", "TXT", "v=spf1 a:nx1.example.com a:nx2.example.com ?all"],
    ["void3.example.com", "TXT",
     "v=spf1 a:nx1.example.com a:nx2.example.com a:nx3.example.com ?all"],
    ["multi.example.com", "TXT", "v=spf1 -all"],
    ["multi.example.com", "TXT", "v=spf1 +all"],
    ["syntax.example.com", "TXT", "v=spf1 ip4:192.0.2.1 -all foo"],
    ["split.example.com", "TXT", ["v=spf1 ip4:192.0.2.0/24", " ~all"]],
    ["macro.example.com", "TXT",
     "v=spf1 exists:%{l1r+-}.%{o}.m.example.com -exists:%{l2r+}.deny.example.com ?all"],
    ["jack.macro.example.com.m.example.com", "A", "127.0.0.2"],
    ["b.a.deny.example.com", "A", "127.0.0.2"],
    ["ptr.example.com", "TXT", "v=spf1 ptr:hosts.example.com -all"],
    ["5.3.2.1.in-addr.arpa", "PTR", "mail.hosts.example.com"],
    ["5.3.2.1.in-addr.arpa", "PTR", "forged.hosts.example.com"],
    ["mail.hosts.example.com", "A", "1.2.3.5"],
    ["forged.hosts.example.com", "A", "1.2.3.99"],
    ["6.3.2.1.in-addr.arpa", "PTR", "forged.hosts.example.com"],
    # Private and documentation address space: their reverse zones come from the server too.
    ["5.1.168.192.in-addr.arpa", "PTR", "lan.hosts.example.com"],
    ["lan.hosts.example.com", "A", "192.168.1.5"],
    ["5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", "PTR",
     "v6.hosts.example.com"],
    ["v6.hosts.example.com", "AAAA", "2001:db8::5"],
    ["mx11.example.com", "TXT", "v=spf1 mx -all"],
    ["pmacro.example.com", "TXT", "v=spf1 -all exp=pexp.example.com"],
    ["pexp.example.com", "TXT", "host %{p} at %{c} is not allowed"],
    ["helo.example.com", "TXT", "v=spf1 a -all"],
    ["helo.example.com", "A", "192.0.2.9"],
    ["limit.example.com", "TXT", "v=spf1 include:l1.example.com -all"],
    ["loop.example.com", "TXT", "v=spf1 redirect=loop.example.com"],
    ["incloop.example.com", "TXT", "v=spf1 include:incloop2.example.com -all"],
    ["incloop2.example.com", "TXT", "v=spf1 ip4:203.0.113.99 include:incloop.example.com -all"],
    ["nullmx.example.com", "TXT", "v=spf1 mx ?all"],
    ["nullmx.example.com", "MX", [0, ""]],
    ["v6.example.com", "TXT", "v=spf1 a:v6host.example.com -all"],
    ["v6host.example.com", "AAAA", "2001:db8:3::1"],
    ["v6host.example.com", "A", "192.0.2.66"],
    ["soft.example.com", "TXT", "v=spf1 ~all"],
]
for i in range(11):
    RECORDS.append(["mx11.example.com", "MX", [i, f"mx{i}.mx11.example.com"]])
    RECORDS.append([f"mx{i}.mx11.example.com", "A", f"198.51.100.{i + 1}"])
# A chain of includes one longer than the limit of ten DNS-querying terms.
for i in range(1, 11):
    RECORDS.append([f"l{i}.example.com", "TXT", f"v=spf1 include:l{i + 1}.example.com"])
RECORDS.append(["l11.example.com", "TXT", "v=spf1 +all"])

# (client IP, HELO, sender, expected result): the expected results are checked against pyspf
# too, so a case where the two implementations disagreed would show here.
CASES = [
    ("192.0.2.10", "mail.example.org", "a@plain.example.com", "pass"),
    ("2001:db8:1:2::3", "mail.example.org", "a@plain.example.com", "pass"),
    ("198.51.100.1", "mail.example.org", "a@plain.example.com", "fail"),
    ("198.51.100.30", "mail.example.org", "a@amx.example.com", "pass"),
    ("198.51.100.40", "mail.example.org", "a@amx.example.com", "softfail"),
    ("2001:db8:2::ffff", "mail.example.org", "a@amx.example.com", "pass"),
    ("203.0.113.9", "mail.example.org", "a@amx.example.com", "pass"),
    ("203.0.113.5", "mail.example.org", "a@inc.example.com", "pass"),
    ("203.0.113.200", "mail.example.org", "a@inc.example.com", "pass"),
    ("203.0.113.201", "mail.example.org", "a@inc.example.com", "fail"),
    ("192.0.2.1", "mail.example.org", "alice@redir.example.com", "pass"),
    ("192.0.2.77", "mail.example.org", "alice@redir.example.com", "pass"),
    ("192.0.2.78", "mail.example.org", "alice@redir.example.com", "fail"),
    ("192.0.2.1", "mail.example.org", "a@incnone.example.com", "permerror"),
    ("192.0.2.1", "mail.example.org", "a@incperm.example.com", "permerror"),
    ("192.0.2.1", "mail.example.org", "a@inctemp.example.com", "temperror"),
    ("192.0.2.1", "mail.example.org", "a@void2.example.com", "neutral"),
    ("192.0.2.1", "mail.example.org", "a@void3.example.com", "permerror"),
    ("192.0.2.1", "mail.example.org", "a@multi.example.com", "permerror"),
    ("192.0.2.1", "mail.example.org", "a@syntax.example.com", "permerror"),
    ("192.0.2.1", "mail.example.org", "a@split.example.com", "pass"),
    ("192.0.2.1", "mail.example.org", "jack@macro.example.com", "pass"),
    ("192.0.2.1", "mail.example.org", "a+b+c@macro.example.com", "fail"),
    ("192.0.2.1", "mail.example.org", "z@macro.example.com", "neutral"),
    ("1.2.3.5", "mail.example.org", "a@ptr.example.com", "pass"),
    ("1.2.3.6", "mail.example.org", "a@ptr.example.com", "fail"),
    ("192.168.1.5", "mail.example.org", "a@ptr.example.com", "pass"),
    ("2001:db8::5", "mail.example.org", "a@ptr.example.com", "pass"),
    ("198.51.100.1", "mail.example.org", "a@mx11.example.com", "permerror"),
    ("1.2.3.5", "mail.example.org", "a@pmacro.example.com", "fail"),
    ("192.0.2.9", "helo.example.com", "", "pass"),
    ("192.0.2.10", "helo.example.com", "", "fail"),
    ("192.0.2.1", "mail.example.org", "a@limit.example.com", "permerror"),
    ("192.0.2.1", "mail.example.org", "a@loop.example.com", "permerror"),
    ("192.0.2.1", "mail.example.org", "a@incloop.example.com", "permerror"),
    ("192.0.2.1", "mail.example.org", "a@nullmx.example.com", "neutral"),
    ("2001:db8:3::1", "mail.example.org", "a@v6.example.com", "pass"),
    ("::ffff:192.0.2.66", "mail.example.org", "a@v6.example.com", "pass"),
    ("2001:db8:3::2", "mail.example.org", "a@v6.example.com", "fail"),
    ("192.0.2.1", "mail.example.org", "a@soft.example.com", "softfail"),
    ("192.0.2.1", "mail.example.org", "a@nowhere.example.com", "none"),
    ("192.0.2.1", "mail.example.org", "a@localhost", "none"),
]


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DnsServer(tmp_path_factory.mktemp("spfdns"), "", records=RECORDS)
    yield server
    server.stop()


def pyspf_check(dns, ip, helo, sender):
    resolver = dns_resolver.Resolver(configure=False)
    resolver.nameservers = [dns.address]
    resolver.port = dns.port
    dns_resolver.default_resolver = resolver
    return spf.query(i=ip, s=sender, h=helo, timeout=2).check()


@pytest.mark.parametrize("ip,helo,sender,expected", CASES,
                         ids=[f"{c[2] or c[1]}-{c[0]}" for c in CASES])
def test_same_result_as_pyspf(dns, ip, helo, sender, expected):
    run = run_spf(dns, ip, helo, sender)
    assert run.returncode == 0, run.stderr
    theirs, _, _ = pyspf_check(dns, ip, helo, sender)
    assert (run.result, theirs) == (expected, expected), run.stdout


@pytest.mark.parametrize("ip,sender,text", [
    ("192.0.2.78", "alice@redir.example.com",
     "192.0.2.78 may not send for alice@redir.example.com (_spf.redir.example.com, "
     "redir.example.com, helo mail.example.org, in-addr)"),
    ("1.2.3.5", "a@pmacro.example.com", "host mail.hosts.example.com at 1.2.3.5 is not allowed"),
    ("1.2.3.6", "a@pmacro.example.com", "host unknown at 1.2.3.6 is not allowed"),
])
def test_explanation_same_as_pyspf(dns, ip, sender, text):
    run = run_spf(dns, ip, "mail.example.org", sender)
    _, _, theirs = pyspf_check(dns, ip, "mail.example.org", sender)
    assert (run.result, run.explanation, theirs) == ("fail", text, text), run.stdout


def test_output_lines(dns):
    run = run_spf(dns, "192.0.2.78", "mail.example.org", "alice@redir.example.com")
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert lines[0] == "fail"
    assert lines[1].startswith("explanation: 192.0.2.78 may not send")
    assert run.fields["reason"] == "mechanism -all matched in the record of _spf.redir.example.com"
    assert run.fields["mechanism"] == "-all"
    assert run.fields["domain"] == "_spf.redir.example.com"
    assert run.fields["identity"] == "mailfrom alice@redir.example.com"
    assert run.fields["Authentication-Results"] == (
        'mx.tern.test; spf=fail reason="mechanism -all matched in the record of '
        '_spf.redir.example.com" smtp.mailfrom=alice@redir.example.com')
    assert run.fields["Received-SPF"].startswith("fail (mx.tern.test: domain of")
    assert "client-ip=192.0.2.78;" in run.stdout


def test_null_sender_checks_helo(dns):
    for sender in ("", "<>"):
        run = run_spf(dns, "192.0.2.9", "helo.example.com", sender)
        assert run.result == "pass"
        assert run.fields["identity"] == "helo postmaster@helo.example.com"
        # The HELO name stands in for the null MAIL FROM (RFC 7208 section 2.4), as DMARC
        # aligns it: the entry names it as smtp.mailfrom.
        assert run.fields["Authentication-Results"] == \
            "mx.tern.test; spf=pass smtp.mailfrom=helo.example.com"


def test_include_loop_ends_at_the_term_limit(dns):
    run = run_spf(dns, "192.0.2.1", "mail.example.org", "a@incloop.example.com")
    assert run.result == "permerror"
    assert "10" in run.fields["reason"], run.stdout
    # A match before the loop comes round again is still a match.
    assert run_spf(dns, "203.0.113.99", "mail.example.org", "a@incloop.example.com").result \
        == "pass"


def test_authentication_results_parse_with_authres(dns):
    authres = pytest.importorskip("authres")
    for ip, helo, sender in [("192.0.2.78", "mail.example.org", "alice@redir.example.com"),
                             ("192.0.2.9", "helo.example.com", ""),
                             ("192.0.2.1", "mail.example.org", "a@void3.example.com"),
                             ("192.0.2.10", "mail.example.org", "a@plain.example.com")]:
        run = run_spf(dns, ip, helo, sender)
        field = "Authentication-Results: " + run.fields["Authentication-Results"]
        parsed = authres.AuthenticationResultsHeader.parse(field)
        assert parsed.authserv_id == "mx.tern.test"
        assert [(r.method, r.result) for r in parsed.results] == [("spf", run.result)]


def test_errors_give_reasons(dns):
    run = run_spf(dns, "192.0.2.1", "mail.example.org", "a@void3.example.com")
    assert run.result == "permerror"
    assert "more than 2 void DNS lookups" in run.fields["reason"]
    run = run_spf(dns, "192.0.2.1", "mail.example.org", "a@inctemp.example.com", timeout=1)
    assert run.result == "temperror"
    assert "slow.example.com" in run.fields["reason"]


def test_unanswered_dns_is_temperror_within_the_budget(tmp_path):
    server = DnsServer(tmp_path, "", drop=["example.com"], records=[])
    try:
        run = run_spf(server, "192.0.2.1", "mail.example.org", "a@example.com", timeout=1)
    finally:
        server.stop()
    assert run.returncode == 0
    assert run.result == "temperror"


@pytest.mark.parametrize("args", [
    ["--ip", "not-an-ip", "--helo", "h.example", "--sender", "a@b.example"],
    ["--ip", "192.0.2.1", "--helo", "h.example", "--dns", "nowhere@53"],
    ["--ip", "192.0.2.1", "--helo", "h.example", "--dns", "127.0.0.1@99999"],
    ["--helo", "h.example", "--sender", "a@b.example"],
    ["--ip", "192.0.2.1", "--sender", "a@b.example"],
    ["--ip", "192.0.2.1", "--helo", "h.example", "--timeout", "0"],
])
def test_bad_arguments_exit_2(args):
    import subprocess
    from conftest import TERN_BIN
    completed = subprocess.run([TERN_BIN, "mailauth", "spf", *args], capture_output=True,
                               text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stdout == "" or not completed.stdout.splitlines()[0] in (
        "pass", "fail", "softfail", "neutral", "none", "temperror", "permerror")
