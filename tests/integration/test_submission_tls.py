# Inbound TLS with real clients: STARTTLS on the MX and submission listeners (openssl s_client
# -starttls smtp, swaks --tls, smtplib), implicit TLS on the submissions listener (RFC 8314), and
# what the delivered message's Received header says about it (ESMTPS / ESMTPSA, version, cipher).
import re
import smtplib
import ssl

import pytest

from conftest import SOCKET_TIMEOUT, split_trace
from submission_clients import (ALICE, PASSWORD, auth_plain, auth_tern, client_context,
                                open_dialog, plain_response, s_client, send_mail, starttls_dialog,
                                swaks)

# "with ESMTPSA id QUEUEID" then "(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384)" on the next line.
RECEIVED_TLS = re.compile(r"with (ESMTPS|ESMTPSA) id \S+\r\n\t\(version=(TLSv1\.[23]) cipher=([A-Z0-9_-]+)\)")


def received_tls(tern, user, count=1):
    """(protocol keyword, TLS version, cipher) from the Received header of each message
    delivered to `user`, waiting for `count` of them."""
    out = []
    for f in tern.wait_for_messages(user, count):
        trace, _ = split_trace(f.read_bytes())
        m = RECEIVED_TLS.search(trace["Received"])
        assert m, trace["Received"]
        out.append(m.groups())
    return out


def test_starttls_then_auth_delivers_with_esmtpsa(tern_factory, tern_binary):
    # The basic path under each binary (the ASan build too): STARTTLS, AUTH PLAIN, a message.
    tern = auth_tern(tern_factory, binary=tern_binary)
    with starttls_dialog(tern.submission_port) as d:
        assert auth_plain(d).text.startswith("235 2.7.0")
        assert send_mail(d, ALICE, ["bob@localhost"]).code == 250
        assert d.cmd("QUIT").code == 221
    [(protocol, version, cipher)] = received_tls(tern, "bob")
    assert (protocol, version) == ("ESMTPSA", "TLSv1.3")
    assert cipher.startswith("TLS_")
    assert re.search(r"\btls client=127\.0\.0\.1 version=TLSv1\.3 cipher=TLS_", tern.log_text())


@pytest.mark.parametrize("listener", ["mx", "submission"])
def test_openssl_s_client_starttls(tern_factory, listener):
    tern = auth_tern(tern_factory)
    port = tern.port if listener == "mx" else tern.submission_port
    out = s_client(port, "-starttls", "smtp", "-crlf", commands="EHLO client.test\nQUIT\n")
    assert re.search(r"^New, TLSv1\.3, Cipher is TLS_", out.stdout, re.M), out.stdout
    # The EHLO answered inside TLS: STARTTLS no longer offered; AUTH on submission only (the
    # MX offers it only with [smtp] auth = true).
    after = out.stdout[out.stdout.index("250-mx.tern.test"):]
    assert "STARTTLS" not in after
    if listener == "submission":
        assert re.search(r"^250[ -]AUTH SCRAM-SHA-256 PLAIN LOGIN\r?$", after, re.M), after
    else:
        assert "AUTH" not in after
    assert re.search(r"^221 ", after, re.M), after


def test_openssl_s_client_implicit_tls(tern_factory):
    tern = auth_tern(tern_factory)
    out = s_client(tern.submissions_port, "-crlf", commands="EHLO client.test\nQUIT\n")
    assert re.search(r"^New, TLSv1\.3, Cipher is TLS_", out.stdout, re.M), out.stdout
    # The greeting is the first thing said, and it is said inside TLS.
    after_handshake = out.stdout[out.stdout.rindex("---\n") + 4:]
    assert after_handshake.startswith("220 mx.tern.test "), after_handshake
    assert re.search(r"^250[ -]AUTH SCRAM-SHA-256 PLAIN LOGIN\r?$", after_handshake, re.M)
    assert "STARTTLS" not in after_handshake  # RFC 8314: no STARTTLS inside implicit TLS


def test_implicit_tls_port_sends_nothing_before_the_handshake(tern_factory):
    # A plain-text client on the submissions port hears no greeting: the server waits for a
    # ClientHello, and the line it gets instead ends the connection.
    tern = auth_tern(tern_factory)
    from conftest import Dialog
    with Dialog(tern.submissions_port) as d:
        d.send("EHLO client.test\r\n")
        d.expect_closed()
    tern.wait_for_log(r"tls_failed client=127\.0\.0\.1")


def test_swaks_starttls_on_mx_and_submission_and_implicit_tls(tern_factory):
    tern = auth_tern(tern_factory)
    runs = [
        # MX: STARTTLS without AUTH, to a local user: ESMTPS.
        ["--server", f"127.0.0.1:{tern.port}", "--tls", "--from", "someone@elsewhere.test"],
        # Submission: STARTTLS, then AUTH LOGIN: ESMTPSA.
        ["--server", f"127.0.0.1:{tern.submission_port}", "--tls", "--auth", "LOGIN",
         "--auth-user", ALICE, "--auth-password", PASSWORD, "--from", ALICE],
        # Submissions: TLS on connect, then AUTH PLAIN: ESMTPSA.
        ["--server", f"127.0.0.1:{tern.submissions_port}", "--tls-on-connect", "--auth", "PLAIN",
         "--auth-user", ALICE, "--auth-password", PASSWORD, "--from", ALICE],
    ]
    for i, args in enumerate(runs):
        out = swaks(*args, "--to", "bob@localhost", "--header", f"Subject: swaks {i}")
        assert out.returncode == 0, out.stdout + out.stderr
        assert "=== TLS started with cipher TLSv1.3:TLS_" in out.stdout, out.stdout
        assert re.search(r"<~  250 2\.0\.0 Ok: queued as", out.stdout), out.stdout
        tern.wait_for_messages("bob", i + 1)
    by_subject = {}
    for f in tern.messages("bob"):
        data = f.read_bytes()
        subject = re.search(rb"^Subject: (swaks \d)$", data, re.M).group(1).decode()
        by_subject[subject] = RECEIVED_TLS.search(split_trace(data)[0]["Received"]).groups()
    assert {s: g[:2] for s, g in by_subject.items()} == {
        "swaks 0": ("ESMTPS", "TLSv1.3"),
        "swaks 1": ("ESMTPSA", "TLSv1.3"),
        "swaks 2": ("ESMTPSA", "TLSv1.3"),
    }


def test_submission_before_starttls_says_starttls_first(tern_factory):
    # AUTH is held back until TLS, so MAIL and AUTH on the plain submission port name the step
    # that is missing (as Postfix does); under TLS without AUTH, MAIL says authentication.
    tern = auth_tern(tern_factory)
    out = swaks("--server", f"127.0.0.1:{tern.submission_port}", "--from", ALICE,
                "--to", "bob@localhost")
    assert out.returncode != 0, out.stdout
    assert "<** 530 5.7.0 Must issue a STARTTLS command first" in out.stdout, out.stdout
    with smtplib.SMTP("127.0.0.1", tern.submission_port, local_hostname="client.test",
                      timeout=SOCKET_TIMEOUT) as s:
        s.ehlo()
        assert s.has_extn("starttls") and not s.has_extn("auth")
        assert s.mail(ALICE) == (530, b"5.7.0 Must issue a STARTTLS command first")
        assert s.docmd("AUTH", "PLAIN " + plain_response(ALICE, PASSWORD)) == (
            530, b"5.7.0 Must issue a STARTTLS command first")
        s.starttls(context=client_context())
        s.ehlo()
        assert s.has_extn("auth")
        assert s.mail(ALICE) == (530, b"5.7.0 Authentication required")
        s.login(ALICE, PASSWORD)
        assert s.mail(ALICE)[0] == 250
    assert PASSWORD not in tern.log_text()


def test_smtplib_starttls_and_smtp_ssl(tern_factory):
    tern = auth_tern(tern_factory)
    ctx = client_context()
    with smtplib.SMTP("127.0.0.1", tern.submission_port, local_hostname="client.test",
                      timeout=SOCKET_TIMEOUT) as s:
        s.ehlo()
        assert s.has_extn("starttls") and not s.has_extn("auth")
        code, _ = s.starttls(context=ctx)
        assert code == 220
        s.ehlo()
        assert s.has_extn("auth") and not s.has_extn("starttls")
        assert s.login(ALICE, PASSWORD)[0] == 235
        assert s.sendmail(ALICE, ["bob@localhost"], b"Subject: smtplib starttls\r\n\r\nHi.\r\n") == {}
    with smtplib.SMTP_SSL("127.0.0.1", tern.submissions_port, local_hostname="client.test",
                          timeout=SOCKET_TIMEOUT, context=ctx) as s:
        assert s.sock.version() == "TLSv1.3"
        s.ehlo()
        assert s.login(ALICE, PASSWORD)[0] == 235
        assert s.sendmail(ALICE, ["bob@localhost"], b"Subject: smtplib ssl\r\n\r\nHi.\r\n") == {}
    assert [g[:2] for g in received_tls(tern, "bob", 2)] == [("ESMTPSA", "TLSv1.3")] * 2


def test_tls12_client_gets_an_aead_ecdhe_cipher(tern_factory):
    # A client that stops at TLS 1.2 is served, with a forward-secret AEAD suite, and the
    # Received header names that version and suite.
    tern = auth_tern(tern_factory)
    ctx = client_context(maximum=ssl.TLSVersion.TLSv1_2)
    with smtplib.SMTP_SSL("127.0.0.1", tern.submissions_port, local_hostname="client.test",
                          timeout=SOCKET_TIMEOUT, context=ctx) as s:
        assert s.sock.version() == "TLSv1.2"
        cipher = s.sock.cipher()[0]
        assert cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA20" in cipher), cipher
        s.login(ALICE, PASSWORD)
        s.sendmail(ALICE, ["bob@localhost"], b"Subject: tls 1.2\r\n\r\nHi.\r\n")
    [(protocol, version, received_cipher)] = received_tls(tern, "bob")
    assert (protocol, version, received_cipher) == ("ESMTPSA", "TLSv1.2", cipher)


def test_tls_session_ends_with_close_notify(tern_factory):
    # After 221 the server closes TLS properly (RFC 8446 6.1: close_notify before closing the
    # write side), so a client can tell the end of the session from a truncation.
    tern = auth_tern(tern_factory)
    strict = client_context()
    strict.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF  # Python's default hides a missing one
    for port, implicit in ((tern.submission_port, False), (tern.submissions_port, True)):
        d = open_dialog(port, implicit_tls=True, ctx=strict) if implicit else \
            starttls_dialog(port, ctx=strict)
        with d:
            assert d.cmd("QUIT").code == 221
            try:
                rest = d.sock.recv(100)
            except ssl.SSLError as e:
                pytest.fail(f"port {port}: TCP closed without a TLS close_notify: {e}")
            assert rest == b""


def test_a_client_that_stops_reading_is_not_held_for_close_notify(tern_factory):
    # A TLS client pipelines commands and never reads the replies: once the server's writes
    # block, the write timeout ends the session at once, with no further wait to send a
    # close_notify nobody reads (which would hold the connection slot for another period).
    import socket
    import threading
    import time
    tern = auth_tern(tern_factory, config={"limits": {"command_timeout": "2s",
                                                      "tls_close_timeout": "30s"}})
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(SOCKET_TIMEOUT)
    raw.connect(("127.0.0.1", tern.submissions_port))
    sock = client_context().wrap_socket(raw)
    chunk = b"NOOP\r\n" * 20000

    def flood():
        deadline = time.monotonic() + 12
        try:
            while time.monotonic() < deadline:
                sock.sendall(chunk)
        except OSError:
            pass  # the server closed the connection (or our send timed out): both end the flood

    sender = threading.Thread(target=flood, daemon=True)
    start = time.monotonic()
    sender.start()
    try:
        # (The first disconnect is the fixture's readiness probe on the MX port.)
        while tern.log_text().count(" disconnect client=") < 2:
            assert time.monotonic() - start < 15, tern.log_text()
            time.sleep(0.05)
        took = time.monotonic() - start
        # One command_timeout for the blocked write, one more at most for the 421 attempt.
        assert took < 2 * 2 + 2.5, took
    finally:
        sock.close()
        sender.join(timeout=15)
