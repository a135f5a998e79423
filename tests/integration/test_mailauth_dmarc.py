# `tern mailauth dmarc` against a DNS server on loopback (dnslib) publishing DMARC records: the
# DMARCbis tree walk as it appears on the wire (which names are asked, how many), p/sp/np/psd/t,
# several records, a SERVFAIL, a record split into two strings, RFC 7489's public suffix list,
# and every Authentication-Results field Tern prints parsed by python3-authres.
import subprocess

import authres
import authres.arc
import authres.dkim_b
import authres.dmarc
import pytest

from conftest import CLI_TIMEOUT, TERN_BIN
from peers import DnsServer

LONG_RUA = ",".join(f"mailto:reports{i}@long.example" for i in range(12))

ZONE = "\n".join([
    "$TTL 60",
    "example. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60",
    '_dmarc.example.com. IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"',
    '_dmarc.example.com. IN TXT "v=spf1 -all"',
    'example.com. IN A 192.0.2.1',
    '_dmarc.testing.example. IN TXT "v=DMARC1; p=reject; t=y"',
    '_dmarc.np.example. IN TXT "v=DMARC1; p=none; sp=quarantine; np=reject"',
    'www.np.example. IN A 192.0.2.2',
    '_dmarc.bank.example. IN TXT "v=DMARC1; p=reject; psd=y"',
    '_dmarc.giant.bank.example. IN TXT "v=DMARC1; p=quarantine"',
    '_dmarc.multi.example. IN TXT "v=DMARC1; p=reject"',
    '_dmarc.multi.example. IN TXT "v=DMARC1; p=none"',
    '_dmarc.deep.example. IN TXT "v=DMARC1; p=reject"',
    f'_dmarc.long.example. IN TXT "v=DMARC1; p=quarantine; rua={LONG_RUA[:200]}" "{LONG_RUA[200:]}"',
    'broken.example. IN A 192.0.2.3',
]) + "\n"

CONTEXT = authres.FeatureContext(authres.dmarc, authres.dkim_b, authres.arc)


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DnsServer(tmp_path_factory.mktemp("dns"), ZONE, servfail=["_dmarc.broken.example"])
    yield server
    server.stop()


class Outcome:
    """What `tern mailauth dmarc` printed: the result, the detail lines, the field."""

    def __init__(self, proc):
        assert proc.returncode == 0, proc
        lines = proc.stdout.splitlines()
        self.result = lines[0]
        self.details = {}
        field = []
        for line in lines[1:]:
            if line.startswith("Authentication-Results:") or line.startswith("\t"):
                field.append(line)
            elif ": " in line:
                key, value = line.split(": ", 1)
                self.details.setdefault(key, value)
        self.field_text = "\r\n".join(field)
        # python3-authres, an independent RFC 8601 parser, must read what Tern wrote.
        self.field = CONTEXT.parse("".join(field))
        self.stderr = proc.stderr

    def result_of(self, method):
        return [r for r in self.field.results if r.method == method]


def dmarc(dns, from_domain, *args, check=True):
    proc = subprocess.run([TERN_BIN, "mailauth", "dmarc", "--dns", dns.upstream,
                           "--authserv-id", "mx.tern.test", "--from-domain", from_domain, *args],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT,
                          stdin=subprocess.DEVNULL)
    return Outcome(proc) if check else proc


def test_aligned_spf_passes_and_the_field_reads_back(dns):
    out = dmarc(dns, "example.com", "--spf", "pass:bounce.example.com",
                "--dkim", "pass:example.com:sel")
    assert out.result == "pass"
    assert out.details["policy domain"] == "example.com"
    assert out.details["policy"] == "reject"
    assert out.details["spf bounce.example.com"] == "aligned"
    assert out.details["dkim example.com s=sel"] == "aligned"
    assert out.field.authserv_id == "mx.tern.test"
    [spf] = out.result_of("spf")
    assert (spf.result, spf.smtp_mailfrom) == ("pass", "bounce.example.com")
    [dkim] = out.result_of("dkim")
    assert (dkim.result, dkim.header_d, dkim.header_s) == ("pass", "example.com", "sel")
    [result] = out.result_of("dmarc")
    assert (result.result, result.header_from, result.policy) == ("pass", "example.com", "reject")
    assert all(len(line) <= 78 for line in out.field_text.split("\r\n"))


def test_unaligned_mail_fails_and_would_be_rejected_with_550(dns):
    out = dmarc(dns, "example.com", "--spf", "pass:evil.example", "--dkim", "pass:evil.example:s1",
                "--dkim", "fail:example.com:s2")
    assert out.result == "fail"
    assert out.details["disposition"] == ("reject (550 5.7.1 Email rejected per DMARC policy for "
                                          "example.com)")
    [result] = out.result_of("dmarc")
    assert result.reason == "no SPF or DKIM pass aligned with example.com"
    assert [d.result for d in out.result_of("dkim")] == ["pass", "fail"]


def test_a_subdomain_takes_the_organizational_domains_policy(dns):
    out = dmarc(dns, "news.example.com", "--spf", "pass:example.com")
    assert out.result == "pass"
    assert out.details["policy domain"] == "example.com"
    assert out.details["organizational domain"] == "example.com"
    assert out.details["dns queries"] == "3"  # news.example.com, example.com, com


def test_np_for_a_subdomain_that_does_not_exist(dns):
    gone = dmarc(dns, "nosuch.np.example")
    assert (gone.result, gone.details["policy"]) == ("fail", "reject")
    there = dmarc(dns, "www.np.example")
    assert (there.result, there.details["policy"]) == ("fail", "quarantine")
    assert there.details["disposition"] == "tag"


def test_psd_y_sets_the_organizational_domain_below_it(dns):
    out = dmarc(dns, "giant.bank.example", "--spf", "pass:mail.giant.bank.example",
                "--dkim", "pass:mail.mega.bank.example:s")
    assert out.result == "pass"
    assert out.details["organizational domain"] == "giant.bank.example"
    assert out.details["spf mail.giant.bank.example"] == "aligned"
    assert out.details["dkim mail.mega.bank.example s=s"] == "not aligned"
    psd_policy = dmarc(dns, "shop.bank.example")
    assert (psd_policy.result, psd_policy.details["policy domain"]) == ("fail", "bank.example")


def test_testing_mode_applies_one_level_below(dns):
    out = dmarc(dns, "testing.example")
    assert out.result == "fail"
    assert out.details["policy"] == "reject (t=y: testing)"
    assert out.details["disposition"] == "tag, override: policy_test_mode"
    [result] = out.result_of("dmarc")
    assert result.policy == "quarantine"


def test_several_records_are_discarded(dns):
    out = dmarc(dns, "multi.example", "--spf", "fail:multi.example")
    assert out.result == "none"
    assert "several DMARC records" in out.details["reason"]


def test_a_servfail_is_temperror(dns):
    out = dmarc(dns, "broken.example", "--spf", "pass:broken.example")
    assert out.result == "temperror"
    assert out.details["reason"].startswith("DNS failure at _dmarc.broken.example")
    assert out.details["disposition"] == "accept"


def test_a_deep_name_costs_eight_queries(dns):
    out = dmarc(dns, "a.b.c.d.e.f.g.h.i.j.k.deep.example")
    assert out.result == "fail"
    assert out.details["policy domain"] == "deep.example"
    assert out.details["dns queries"] == "8"


def test_a_record_in_two_strings_is_read_whole(dns):
    out = dmarc(dns, "long.example")
    assert out.result == "fail"
    assert out.details["policy"] == "quarantine"
    assert "record error" not in out.details


def test_public_suffix_list_discovery(dns, tmp_path):
    psl = tmp_path / "psl.dat"
    psl.write_text("// test list\ncom\nexample\n", encoding="utf-8")
    out = dmarc(dns, "news.example.com", "--spf", "pass:bounce.example.com",
                "--psl-file", str(psl))
    assert out.result == "pass"
    assert out.details["dns queries"] == "2"  # news.example.com, then example.com from the list
    missing = dmarc(dns, "news.example.com", "--psl-file", str(tmp_path / "absent.dat"))
    assert "using the DNS tree walk" in missing.stderr
    assert missing.details["dns queries"] == "3"


def test_no_record_is_none(dns):
    out = dmarc(dns, "nothing.example", "--spf", "pass:nothing.example")
    assert out.result == "none"
    [result] = out.result_of("dmarc")
    assert result.header_from == "nothing.example"


def test_bad_outcomes_are_usage_errors(dns):
    for args in (["--spf", "maybe:example.com"], ["--spf", "pass"], ["--dkim", "pass:"]):
        proc = dmarc(dns, "example.com", *args, check=False)
        assert proc.returncode == 2, (args, proc)
        assert "wants RESULT:DOMAIN" in proc.stderr
