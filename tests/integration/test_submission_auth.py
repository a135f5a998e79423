# SMTP AUTH and submission policy against the real daemon: each SASL mechanism and each failure
# reply, the STARTTLS injection defence, sender ownership and relaying (the login throttle is in
# test_login_throttle.py).
import re
import subprocess
import time

import pytest

from conftest import CLI_TIMEOUT, free_port, split_trace, toml_text
from submission_clients import (ALICE, BOB, BOB_PASSWORD, PASSWORD, auth_login, auth_plain,
                                auth_scram, auth_tern, b64, open_dialog, plain_response,
                                send_mail, start_tls, starttls_dialog)

TWO_ACCOUNTS = ((ALICE, PASSWORD), (BOB, BOB_PASSWORD))
WRONG = "Guess-0f-An-Attacker"


def received(tern, user, count=1):
    """The Received header of each message delivered to `user`, waiting for `count`."""
    return [split_trace(f.read_bytes())[0]["Received"] for f in tern.wait_for_messages(user, count)]


def auth_lines(tern):
    return [l for l in tern.log_lines() if " auth " in l]


# --- the mechanisms --------------------------------------------------------------------------------

@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "SCRAM-SHA-256"])
def test_each_mechanism_logs_in_and_submits(tern_factory, tern_binary, mechanism):
    tern = auth_tern(tern_factory, binary=tern_binary)
    login = {"PLAIN": auth_plain, "LOGIN": auth_login, "SCRAM-SHA-256": auth_scram}[mechanism]
    with starttls_dialog(tern.submission_port) as d:
        r = login(d)
        assert (r.code, r.status) == (235, "2.7.0"), r
        # The capability list after AUTH no longer offers it, and a second AUTH is refused.
        assert "AUTH" not in d.ehlo().text
        r = d.cmd("AUTH PLAIN " + plain_response(ALICE, PASSWORD))
        assert (r.code, r.status) == (503, "5.5.1"), r
        assert send_mail(d, ALICE, ["bob@localhost"]).code == 250
    [header] = received(tern, "bob")
    assert "with ESMTPSA id" in header, header
    line = tern.wait_for_log(r" auth .*result=ok")
    assert f"user={ALICE}" in line and f"mechanism={mechanism}" in line, line
    assert PASSWORD not in tern.log_text()


def test_plain_with_authzid_of_another_account_is_refused(tern_factory):
    # RFC 4616: an authorization identity other than the authenticated one is a request to act
    # as someone else, which no account here may do.
    tern = auth_tern(tern_factory, accounts=TWO_ACCOUNTS)
    with starttls_dialog(tern.submission_port) as d:
        r = d.cmd("AUTH PLAIN " + plain_response(ALICE, PASSWORD, authzid=BOB))
        assert (r.code, r.status) == (535, "5.7.8"), r
    with starttls_dialog(tern.submission_port, source="127.0.0.2") as d:
        r = d.cmd("AUTH PLAIN " + plain_response(ALICE, PASSWORD, authzid=ALICE))
        assert (r.code, r.status) == (235, "2.7.0"), r


def test_plain_without_initial_response_gets_an_empty_challenge(tern_factory):
    tern = auth_tern(tern_factory)
    with starttls_dialog(tern.submission_port) as d:
        r = d.cmd("AUTH PLAIN")
        assert r.lines == ["334 "], r
        r = d.cmd(plain_response(ALICE, PASSWORD))
        assert (r.code, r.status) == (235, "2.7.0"), r


def test_wrong_password_and_unknown_account_get_the_same_535(tern_factory):
    # A fresh client address for each attempt, so the throttle adds only its first delay.
    tern = auth_tern(tern_factory, accounts=TWO_ACCOUNTS)
    attempts = [
        ("127.0.0.11", lambda d: auth_plain(d, ALICE, WRONG)),
        ("127.0.0.12", lambda d: auth_login(d, BOB, WRONG)),
        ("127.0.0.13", lambda d: auth_scram(d, "carol@example.org", "whatever")),
        ("127.0.0.14", lambda d: auth_plain(d, "dave@example.org", "whatever")),
        ("127.0.0.15", lambda d: auth_scram(d, BOB, WRONG)),
    ]
    texts = set()
    for source, attempt in attempts:
        with starttls_dialog(tern.submission_port, source=source) as d:
            r = attempt(d)
            assert (r.code, r.status) == (535, "5.7.8"), (source, r)
            texts.add(r.text)
            # The session goes on: the client may try again or leave.
            assert d.cmd("NOOP").code == 250
            r = d.cmd("MAIL FROM:<" + ALICE + ">")
            assert (r.code, r.status) == (530, "5.7.0"), r
    assert len(texts) == 1, texts  # nothing tells an unknown account from a wrong password
    failed = [l for l in auth_lines(tern) if "result=failed" in l]
    assert len(failed) == len(attempts), failed
    assert WRONG not in tern.log_text()


def test_scram_unknown_account_still_gets_a_challenge(tern_factory):
    # No account enumeration through SCRAM: an unknown name gets a salt and iteration count
    # like a real one, and fails only at the proof.
    tern = auth_tern(tern_factory)
    with starttls_dialog(tern.submission_port) as d:
        r = d.cmd("AUTH SCRAM-SHA-256 " + b64("n,,n=nobody@example.org,r=abcdefghijklmnop"))
        assert r.code == 334, r
        import base64
        first = base64.b64decode(r.lines[-1][4:]).decode()
        assert re.fullmatch(r"r=abcdefghijklmnop\S+,s=\S+,i=\d+", first), first


def test_protocol_errors_in_auth(tern_factory):
    tern = auth_tern(tern_factory)
    with starttls_dialog(tern.submission_port) as d:
        # (command, expected reply); a 334 is a challenge the next line answers.
        for line, expected in [
            ("AUTH PLAIN !!!notbase64", (501, "5.5.2")),
            ("AUTH LOGIN", (334, None)), ("*", (501, "5.0.0")),  # the client cancels
            ("AUTH CRAM-MD5", (504, "5.5.4")),
            ("AUTH", (501, "5.5.4")),
            ("AUTH PLAIN =", (501, "5.5.2")),  # an empty PLAIN message: no user, no password
            ("AUTH LOGIN", (334, None)), ("%%%", (501, "5.5.2")),  # bad base64 mid-exchange
        ]:
            r = d.cmd(line)
            assert (r.code, r.status) == expected, (line, r)
        # A response longer than [limits] auth_line is refused and the exchange ends.
        r = d.cmd("AUTH LOGIN")
        assert r.code == 334, r
        r = d.cmd("A" * 13000)
        assert (r.code, r.status) == (500, "5.5.6"), r
        # After all that the session is usable and a good login works at once: protocol
        # errors are not guessed passwords, and the throttle (1s base) did not count them.
        start = time.monotonic()
        r = auth_plain(d)
        assert (r.code, r.status) == (235, "2.7.0"), r
        assert time.monotonic() - start < 0.8
    failed = [l for l in auth_lines(tern) if "result=failed" in l]
    assert len(failed) == 1 and "two NULs" in failed[0], failed  # only the empty PLAIN message


def test_auth_needs_ehlo_and_not_inside_a_transaction(tern_factory):
    tern = auth_tern(tern_factory, config={"auth": {"plaintext_loopback": True}})
    with open_dialog(tern.submission_port) as d:
        r = d.cmd("AUTH PLAIN " + plain_response(ALICE, PASSWORD))
        assert (r.code, r.status) == (503, "5.5.1"), r
        d.cmd("HELO client.test")
        r = d.cmd("AUTH PLAIN " + plain_response(ALICE, PASSWORD))
        assert (r.code, r.status) == (503, "5.5.1"), r  # AUTH is an ESMTP extension
        d.ehlo()
        assert auth_plain(d).code == 235
    tern2 = auth_tern(tern_factory, config={"smtp": {"auth": True},
                                            "relay": {"trusted_networks": ["192.0.2.0/24"]}})
    with starttls_dialog(tern2.port) as d:
        assert d.cmd("MAIL FROM:<" + ALICE + ">").code == 250
        r = auth_plain(d)
        assert (r.code, r.status) == (503, "5.5.1"), r


# --- where AUTH is offered and required -------------------------------------------------------------

def test_submission_requires_tls_for_auth_and_auth_for_mail(tern_factory):
    tern = auth_tern(tern_factory)
    with open_dialog(tern.submission_port) as d:
        caps = d.ehlo().text
        assert "STARTTLS" in caps and "AUTH" not in caps, caps
        r = auth_plain(d)
        assert r.text == "530 5.7.0 Must issue a STARTTLS command first", r
        r = d.cmd("MAIL FROM:<" + ALICE + ">")
        assert r.text == "530 5.7.0 Must issue a STARTTLS command first", r
    with open_dialog(tern.submissions_port, implicit_tls=True) as d:
        caps = d.ehlo().text
        assert "AUTH SCRAM-SHA-256 PLAIN LOGIN" in caps and "STARTTLS" not in caps, caps
        r = d.cmd("MAIL FROM:<" + ALICE + ">")
        assert r.text == "530 5.7.0 Authentication required", r
        r = d.cmd("STARTTLS")  # RFC 8314: TLS is already on
        assert (r.code, r.status) == (503, "5.5.1"), r
    assert PASSWORD not in tern.log_text()


def test_plaintext_loopback_allows_auth_without_tls(tern_factory):
    tern = auth_tern(tern_factory, config={"auth": {"plaintext_loopback": True}})
    with open_dialog(tern.submission_port) as d:
        assert "AUTH SCRAM-SHA-256 PLAIN LOGIN" in d.ehlo().text
        assert auth_plain(d).code == 235
        assert send_mail(d, ALICE, ["bob@localhost"]).code == 250
    [header] = received(tern, "bob")
    assert "with ESMTPA id" in header and "version=" not in header, header


def test_mx_offers_auth_only_when_enabled_and_under_tls(tern_factory):
    off = auth_tern(tern_factory)
    with starttls_dialog(off.port) as d:
        assert "AUTH" not in d.ehlo().text
        r = auth_plain(d)
        assert (r.code, r.status) == (502, "5.5.1"), r
    on = auth_tern(tern_factory, config={"smtp": {"auth": True}})
    with open_dialog(on.port) as d:
        assert "AUTH" not in d.ehlo().text
        r = auth_plain(d)
        assert r.text == "530 5.7.0 Must issue a STARTTLS command first", r
        # The MX does not require AUTH: mail for local users goes on without it.
        assert send_mail(d, "someone@elsewhere.example", ["bob@localhost"]).code == 250
    with starttls_dialog(on.port) as d:
        assert "AUTH SCRAM-SHA-256 PLAIN LOGIN" in d.ehlo().text
        assert auth_plain(d).code == 235


def test_unreadable_account_database_is_a_temporary_failure(tern_factory, tmp_path):
    db = tmp_path / "broken.db"
    db.write_bytes(b"this is not an SQLite database\n" * 64)
    tern = auth_tern(tern_factory, config={"auth": {"database": str(db)}}, accounts=())
    with starttls_dialog(tern.submission_port) as d:
        r = auth_plain(d)
        assert (r.code, r.status) == (454, "4.7.0"), r
        r = auth_scram(d)
        assert (r.code, r.status) == (454, "4.7.0"), r
    # Not counted as failed logins: the throttle does not grow for the database's fault.
    assert not [l for l in auth_lines(tern) if "result=failed" in l and "credentials" in l]


# --- STARTTLS -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("listener", ["mx", "submission"])
def test_starttls_command_injection_is_discarded(tern_factory, listener):
    # A man in the middle appends plain-text commands to the client's STARTTLS in the same
    # packet (CVE-2011-0411). None of them may run inside the encrypted session.
    tern = auth_tern(tern_factory, config={"auth": {"plaintext_loopback": True},
                                           "smtp": {"auth": True}})
    port = tern.port if listener == "mx" else tern.submission_port
    with open_dialog(port) as d:
        d.ehlo()
        d.send("STARTTLS\r\nAUTH PLAIN " + plain_response(ALICE, PASSWORD) + "\r\n"
               "MAIL FROM:<" + ALICE + ">\r\nRCPT TO:<bob@localhost>\r\nNOOP\r\n")
        r = d.read_reply()
        assert r.text.startswith("220 2.0.0"), r
        d.buf = b""  # what the test itself pipelined is no concern of the handshake
        start_tls(d)
        # Nothing is answered for the injected commands.
        with pytest.raises(TimeoutError):
            d.read_reply(timeout=1.0)
        # The session starts over: EHLO is needed again, no AUTH or MAIL survived.
        r = d.cmd("MAIL FROM:<" + ALICE + ">")
        assert (r.code, r.status) == (503, "5.5.1"), r
        caps = d.ehlo().text
        assert "STARTTLS" not in caps
        if listener == "submission":
            r = d.cmd("MAIL FROM:<" + ALICE + ">")
            assert (r.code, r.status) == (530, "5.7.0"), r
        r = d.cmd("RCPT TO:<bob@localhost>")
        assert (r.code, r.status) == (503, "5.5.1"), r
    assert not [l for l in auth_lines(tern) if "result=ok" in l]


def test_starttls_rules(tern_factory):
    tern = auth_tern(tern_factory)
    with open_dialog(tern.submission_port) as d:
        r = d.cmd("STARTTLS")
        assert (r.code, r.status) == (503, "5.5.1"), r  # EHLO first
        d.ehlo()
        r = d.cmd("STARTTLS now")
        assert (r.code, r.status) == (501, "5.5.4"), r
        assert d.cmd("STARTTLS").code == 220
        start_tls(d)
        d.ehlo()
        r = d.cmd("STARTTLS")
        assert (r.code, r.status) == (503, "5.5.1"), r
    off = auth_tern(tern_factory, config={"smtp": {"starttls": False}})
    with open_dialog(off.port) as d:
        assert "STARTTLS" not in d.ehlo().text
        r = d.cmd("STARTTLS")
        assert (r.code, r.status) == (502, "5.5.1"), r


def test_failed_handshake_after_starttls_closes_the_connection(tern_factory):
    tern = auth_tern(tern_factory)
    with open_dialog(tern.submission_port) as d:
        d.ehlo()
        assert d.cmd("STARTTLS").code == 220
        d.send("EHLO this is not a ClientHello\r\n")
        d.expect_closed()
    tern.wait_for_log(r"tls_failed client=127\.0\.0\.1")
    # The daemon goes on serving.
    with starttls_dialog(tern.submission_port) as d:
        assert auth_plain(d).code == 235


# --- sender ownership -----------------------------------------------------------------------------------

def test_sender_must_be_owned_by_the_account(tern_factory, tmp_path):
    senders = tmp_path / "senders"
    senders.write_text("# shared addresses\n"
                       "sales@example.org: alice@example.org, bob@example.org\n"
                       "@example.net: alice@example.org\n")
    tern = auth_tern(tern_factory, config={"auth": {"sender_map": str(senders)}},
                     accounts=TWO_ACCOUNTS)
    with starttls_dialog(tern.submission_port) as d:
        assert auth_plain(d).code == 235
        for sender, ok in [(ALICE, True), ("Alice@Example.ORG", True),
                           ("alice+lists@example.org", True), ("sales@example.org", True),
                           ("anyone@example.net", True), (BOB, False), ("alice@example.com", False),
                           ("", False), ("bob+alice@example.org", False)]:
            r = d.cmd(f"MAIL FROM:<{sender}>")
            if ok:
                assert r.code == 250, (sender, r)
                assert d.cmd("RSET").code == 250
            else:
                assert (r.code, r.status) == (553, "5.7.1"), (sender, r)
                assert "not owned by " + ALICE in r.text, r
    with starttls_dialog(tern.submission_port) as d:
        assert auth_plain(d, BOB, BOB_PASSWORD).code == 235
        assert d.cmd("MAIL FROM:<sales@example.org>").code == 250
        assert d.cmd("RSET").code == 250
        r = d.cmd("MAIL FROM:<anyone@example.net>")
        assert (r.code, r.status) == (553, "5.7.1"), r
    rejects = [l for l in tern.log_lines() if " reject " in l and "sender not owned" in l]
    assert len(rejects) == 5, rejects


def test_bad_sender_map_stops_start_up_and_check_config(tern_factory, tmp_path):
    senders = tmp_path / "senders"
    senders.write_text("sales@example.org: alice@example.org\nthis line has no colon\n")
    t = tern_factory(config={"auth": {"sender_map": str(senders)}}, start=False)
    t.config_path.write_text(toml_text(t.config))
    for args in (["check-config", str(t.config_path)], ["serve", "--config", str(t.config_path)]):
        proc = subprocess.run([t.binary, *args], capture_output=True, text=True,
                              timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert f"auth.sender_map: {senders}:2: " in proc.stderr, (args, proc.stderr)


# --- relaying -------------------------------------------------------------------------------------------

def test_authenticated_clients_relay_and_others_do_not(tern_factory, peers):
    # Loopback is not trusted here; the only way to relay is to log in.
    port = free_port()
    peer = peers("127.0.0.31", port)
    tern = auth_tern(tern_factory, config={
        "smtp": {"auth": True},
        "relay": {"trusted_networks": ["192.0.2.0/24"],
                  "routes": [f"far.example = [127.0.0.31]:{port}"]},
        "queue": {"retry_schedule": ["1s"]},
    })
    for port_ in (tern.port, tern.submission_port):
        with starttls_dialog(port_) as d:
            if port_ == tern.port:
                assert d.cmd("MAIL FROM:<" + ALICE + ">").code == 250
                r = d.cmd("RCPT TO:<carol@far.example>")
                assert (r.code, r.status) == (554, "5.7.1"), r
                assert d.cmd("RSET").code == 250
            assert auth_plain(d).code == 235
            assert send_mail(d, ALICE, ["carol@far.example"], subject=f"via {port_}").code == 250
    messages = peer.wait_for_messages(2)
    assert sorted(e["mail_from"] for e, _ in messages) == [ALICE, ALICE], messages
    subjects = sorted(re.search(rb"Subject: (.*)\r\n", m).group(1).decode() for _, m in messages)
    assert subjects == sorted(f"via {p}" for p in (tern.port, tern.submission_port)), subjects
