# The policy stage against the real daemon: DNS block and allow lists served by a DNS server on
# loopback (python3-dnslib), asked through Tern's resolver, with the reply a listed client sees;
# and each rate limit from the client's side (the exact reply, the connection closed or not).
# Clients connect from chosen loopback addresses; none of them is trusted here.
import time

import pytest

from conftest import begin_data
from peers import DnsServer
from submission_clients import ALICE, auth_plain, auth_tern, starttls_dialog

LISTED = "127.0.0.5"    # on bl.example.net (127.0.0.2) with a TXT record
ALLOWED = "127.0.0.6"   # on bl.example.net, and on wl.example.net with weight -5
SPAMHAUS = "127.0.0.9"  # answered 127.255.255.254: the list refusing the query
CLEAN = "127.0.0.7"


def reverse(ip):
    return ".".join(reversed(ip.split(".")))


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    records = [
        [f"{reverse(LISTED)}.bl.example.net", "A", "127.0.0.2"],
        [f"{reverse(LISTED)}.bl.example.net", "TXT", "Listed by bl.example.net, see "
                                                     "https://bl.example.net/q?127.0.0.5"],
        [f"{reverse(ALLOWED)}.bl.example.net", "A", "127.0.0.2"],
        [f"{reverse(ALLOWED)}.wl.example.net", "A", "127.0.10.2"],
        [f"{reverse(SPAMHAUS)}.bl.example.net", "A", "127.255.255.254"],
        ["pool.example.net", "TXT", "v=spf1 ip4:127.0.0.0/16 -all"],
    ]
    server = DnsServer(tmp_path_factory.mktemp("policydns"), "", records=records)
    yield server
    server.stop()


def policy_tern(tern_factory, dns, **sections):
    config = {"dns": {"upstream": [dns.upstream], "timeout": "2s"},
              "relay": {"trusted_networks": []},
              "mailauth": {"verify": []},
              "dkim": {"sign": False}}
    for section, keys in sections.items():
        config.setdefault(section, {}).update(keys)
    return tern_factory(config=config)


LISTS = {"sites": ["bl.example.net=127.0.0.[2..11]*2", "wl.example.net=127.0.[0..255].[1..3]*-5"],
         "threshold": 2, "allowlist_threshold": 2}


def rcpt_reply(t, source):
    with t.dialog(source=source) as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        return d.cmd("RCPT TO:<alice@localhost>")


def test_listed_client_is_refused_with_the_lists_text(tern_factory, dns):
    t = policy_tern(tern_factory, dns, dnsbl=LISTS)
    r = rcpt_reply(t, LISTED)
    assert r.text == ("554 5.7.1 Service unavailable; client blocked; Client host [127.0.0.5] "
                      "blocked using bl.example.net; Listed by bl.example.net, see "
                      "https://bl.example.net/q?127.0.0.5"), r
    t.wait_for_log(r"dnsbl client=127\.0\.0\.5 score=2 lists=bl\.example\.net\*2")
    t.wait_for_log(r"reject client=127\.0\.0\.5 stage=policy at=rcpt")


def test_clean_client_passes_and_mail_flows(tern_factory, dns):
    t = policy_tern(tern_factory, dns, dnsbl=LISTS)
    with t.dialog(source=CLEAN) as d:
        begin_data(d)
        r = d.cmd(b"Subject: clean\r\n\r\nhello\r\n.")
        assert (r.code, r.status) == (250, "2.0.0"), r
    t.wait_for_message("alice")


def test_allow_list_outweighs_the_block_list(tern_factory, dns):
    t = policy_tern(tern_factory, dns, dnsbl=LISTS)
    r = rcpt_reply(t, ALLOWED)
    assert r.code == 250, r
    t.wait_for_log(r"dnsbl client=127\.0\.0\.6 score=-3 .*allowlisted=true")


def test_refused_queries_never_list_a_client(tern_factory, dns):
    t = policy_tern(tern_factory, dns, dnsbl={"sites": ["bl.example.net"]})
    r = rcpt_reply(t, SPAMHAUS)
    assert r.code == 250, r
    t.wait_for_log(r"dnsbl_refused site=bl\.example\.net client=127\.0\.0\.9")


def test_defer_and_log_actions(tern_factory, dns):
    t = policy_tern(tern_factory, dns, dnsbl=dict(LISTS, action="defer"))
    r = rcpt_reply(t, LISTED)
    assert (r.code, r.status) == (450, "4.7.1"), r
    t = policy_tern(tern_factory, dns, dnsbl=dict(LISTS, action="log"))
    assert rcpt_reply(t, LISTED).code == 250


def test_trusted_clients_are_not_judged_by_the_lists(tern_factory, dns):
    t = policy_tern(tern_factory, dns, dnsbl=LISTS, relay={"trusted_networks": ["127.0.0.5/32"]})
    assert rcpt_reply(t, LISTED).code == 250


def test_connection_rate_per_client_address(tern_factory, dns):
    t = policy_tern(tern_factory, dns, ratelimit={"client_connections": "3/1m"})
    for _ in range(3):
        with t.dialog(source=CLEAN) as d:
            assert d.cmd("QUIT").code == 221
    with t.dialog(source=CLEAN, greeting=False) as d:
        r = d.read_reply()
        assert r.text == ("421 4.7.0 Too many connections from your address lately, try again "
                          "later (connections from 127.0.0.7: at most 3 per 1m)"), r
        d.expect_closed()
    # Another address has its own allowance.
    with t.dialog(source=LISTED) as d:
        assert d.cmd("QUIT").code == 221
    t.wait_for_log(r"rate_limited client=127\.0\.0\.7 limit=client_connections")


def test_message_rate_per_client_address(tern_factory, dns):
    t = policy_tern(tern_factory, dns, ratelimit={"client_messages": "2/1h"})
    with t.dialog(source=CLEAN) as d:
        d.ehlo()
        for _ in range(2):
            assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
            assert d.cmd("RSET").code == 250
        r = d.cmd("MAIL FROM:<sender@example.org>")
        assert (r.code, r.status) == (450, "4.7.1"), r
        assert "messages from 127.0.0.7: at most 2 per 1h" in r.text
        # The session goes on; the client may try later.
        assert d.cmd("NOOP").code == 250


def test_recipient_rate_per_account(tern_factory, dns):
    # A stolen password cannot send to more than the account's allowance.
    t = auth_tern(tern_factory, config={"dns": {"upstream": [dns.upstream]},
                                        "ratelimit": {"account_recipients": "3/1h"}})
    with starttls_dialog(t.submission_port) as d:
        assert auth_plain(d).code == 235
        assert d.cmd(f"MAIL FROM:<{ALICE}>").code == 250
        codes = [d.cmd(f"RCPT TO:<alice+{i}@localhost>") for i in range(5)]
        assert [r.code for r in codes] == [250, 250, 250, 450, 450], codes
        assert f"recipients from account {ALICE}: at most 3 per 1h" in codes[3].text
    t.wait_for_log(r"rate_limited .*limit=account_recipients")


def test_sender_domain_rate_across_clients(tern_factory, dns):
    t = policy_tern(tern_factory, dns, ratelimit={"sender_domain_messages": "2/1h"})
    for source in (CLEAN, LISTED):
        with t.dialog(source=source) as d:
            d.ehlo()
            assert d.cmd("MAIL FROM:<news@bulk.example.org>").code == 250
    with t.dialog(source=ALLOWED) as d:
        d.ehlo()
        r = d.cmd("MAIL FROM:<news@bulk.example.org>")
        assert (r.code, r.status) == (450, "4.7.1"), r
        assert "sender domain bulk.example.org" in r.text
        assert d.cmd("MAIL FROM:<other@elsewhere.example.org>").code == 250


def test_greylisting_defers_a_new_triplet_until_its_retry(tern_factory, dns):
    t = policy_tern(tern_factory, dns, greylist={"enabled": True, "delay": "2s"})
    r = rcpt_reply(t, CLEAN)
    assert r.text == "451 4.7.1 Greylisted, try again in 2 seconds", r
    # Too early: still deferred.
    assert rcpt_reply(t, CLEAN).code == 451
    time.sleep(2.2)
    # A retry from another address of the same /24 passes, and the mail is delivered.
    with t.dialog(source="127.0.0.77") as d:
        begin_data(d)
        r = d.cmd(b"Subject: after greylisting\r\n\r\nhello\r\n.")
        assert (r.code, r.status) == (250, "2.0.0"), r
    t.wait_for_message("alice")
    t.wait_for_log(r"greylisted client=127\.0\.0\.7 from=sender@example\.org "
                   r"to=<alice@localhost> why=new")
    # Another recipient is another triplet.
    with t.dialog(source=CLEAN) as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<bob@localhost>").code == 451


def test_greylisting_keys_an_spf_pass_sender_on_its_domain(tern_factory, dns):
    # A big sender retries from another server of its pool, in another /24: with the SPF key
    # (the default) the retry is the same triplet and passes; with key = "network" it is new.
    for key, retry_code in (("spf", 250), ("network", 451)):
        t = policy_tern(tern_factory, dns, greylist={"enabled": True, "delay": "1s", "key": key})
        for source, code in (("127.0.3.1", 451), ("127.0.4.1", retry_code)):
            with t.dialog(source=source) as d:
                d.ehlo()
                assert d.cmd("MAIL FROM:<news@pool.example.net>").code == 250
                assert d.cmd("RCPT TO:<alice@localhost>").code == code, (key, source)
            time.sleep(1.2)
        line = t.wait_for_log(r"greylisted client=127\.0\.3\.1 ")
        assert line.endswith("key=spf:pool.example.net" if key == "spf" else "key=127.0.3.0/24"), line


def test_trusted_and_allow_listed_clients_are_not_greylisted(tern_factory, dns):
    t = policy_tern(tern_factory, dns, greylist={"enabled": True, "delay": "1h"},
                    dnsbl=LISTS, relay={"trusted_networks": ["127.0.0.8/32"]})
    assert rcpt_reply(t, "127.0.0.8").code == 250
    assert rcpt_reply(t, ALLOWED).code == 250
    assert rcpt_reply(t, CLEAN).code == 451


def test_listeners_choose_where_the_limits_count(tern_factory, dns):
    # [ratelimit] listeners = ["mx"]: the account limit that would stop the submission client
    # does not apply there, while the MX client's limit still does.
    t = auth_tern(tern_factory, config={"dns": {"upstream": [dns.upstream]},
                                        "relay": {"trusted_networks": []},
                                        "ratelimit": {"listeners": ["mx"], "account_recipients": "1/1h",
                                                      "client_recipients": "1/1h"}})
    with starttls_dialog(t.submission_port) as d:
        assert auth_plain(d).code == 235
        assert d.cmd(f"MAIL FROM:<{ALICE}>").code == 250
        codes = [d.cmd(f"RCPT TO:<alice+{i}@localhost>").code for i in range(3)]
        assert codes == [250, 250, 250], codes
    with t.dialog(source=CLEAN) as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        r = d.cmd("RCPT TO:<alice+2@localhost>")
        assert (r.code, r.status) == (450, "4.7.1"), r
    t.wait_for_log(r"reject client=127\.0\.0\.7 stage=policy at=rcpt to=<alice\+2@localhost>")


def send_from(t, source, subject, rcpt="alice@localhost"):
    with t.dialog(source=source) as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert d.cmd("DATA").code == 354
        return d.cmd(f"Subject: {subject}\r\n\r\nhello\r\n.".encode())


def test_scores_add_up_to_a_hold_or_a_refusal(tern_factory, dns, tmp_path):
    # The listed client's list score (2) and a SCORE rule (3) together reach `reject`; either
    # alone reaches only `hold`, or nothing; a clean client with a clean subject gets no field.
    rules = tmp_path / "header_checks"
    rules.write_text("/^Subject:.*casino/ SCORE 3 gambling\n")
    t = policy_tern(tern_factory, dns, dnsbl={**LISTS, "action": "score"},
                    content={"header_checks": str(rules)}, score={"reject": 5, "hold": 2})
    r = send_from(t, LISTED, "casino night")
    assert r.text == "550 5.7.1 Message refused as spam (score 5)", r
    t.wait_for_log(r"message_refused .*stage=score .*reason=\"score 5 \(dnsbl=2, "
                   r"content:\S+header_checks:1=3\)\"")
    r = send_from(t, LISTED, "hello")  # the list alone: held
    assert r.code == 250, r
    t.wait_for_log(r"held .*stage=score")
    r = send_from(t, CLEAN, "casino night")  # the rule alone: held too (3 >= 2)
    assert r.code == 250, r
    r = send_from(t, CLEAN, "plain")
    assert r.code == 250, r
    raw = t.wait_for_message("alice")
    assert b"X-Tern-Score" not in raw and b"Subject: plain" in raw
    held = [m for m in t.queue_json("list")["messages"] if m.get("held")]
    assert len(held) == 2, held


def test_score_field_without_thresholds(tern_factory, dns):
    t = policy_tern(tern_factory, dns, dnsbl={**LISTS, "action": "score"})
    assert send_from(t, LISTED, "hi").code == 250
    raw = t.wait_for_message("alice")
    assert b"X-Tern-Score: 2 (dnsbl=2)" in raw, raw
