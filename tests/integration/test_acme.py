# Automatic certificates (RFC 8555) end to end against Debian's pebble, the ACME test CA, on
# loopback: pebble's HTTPS listener has a certificate from the test CA (acme.ca_file), resolves
# the names through the test DNS server and validates http-01 challenges on Tern's HTTP port. The
# certificate Tern gets is the one its listeners then present (checked against pebble's own root),
# it is renewed and loaded without a restart (a session open across the renewal goes on), kept
# across restarts, and a name pebble cannot validate leaves the old certificate serving and is
# tried again.
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import SOCKET_TIMEOUT
from peers import DnsServer
from peers.pebble import PEBBLE, Pebble

pytestmark = pytest.mark.skipif(not os.access(PEBBLE, os.X_OK),
                                reason="pebble is not installed (scripts/install-deps.sh test)")

ZONE = """$ORIGIN acme.example.
$TTL 60
@ IN SOA ns.acme.example. hostmaster.acme.example. 1 3600 600 86400 60
ca IN A 127.0.0.1
mail IN A 127.0.0.1
mx2 IN A 127.0.0.1
nohttp IN A 127.0.0.2
"""
ISSUE_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DnsServer(tmp_path_factory.mktemp("dns"), ZONE)
    yield server
    server.stop()


@pytest.fixture
def acme_tern(tern_factory, dns, ca, tmp_path):
    """make(overrides) -> (tern, pebble): a Tern whose [acme] points at a pebble that validates
    on the Tern's HTTP port; both stopped at teardown."""
    started = []

    def make(names=("mail.acme.example", "mx2.acme.example"), acme=None, pebble_env=None,
             validity=None):
        config = {
            "dns": {"upstream": [dns.upstream], "timeout": "2s"},
            "acme": {"enabled": True, "ca_file": str(ca.pem), "names": list(names),
                     "email": "postmaster@acme.example", "check_interval": "1s",
                     "retry_interval": "2s", "timeout": "30s", **(acme or {})},
        }
        tern = tern_factory(config=config, start=False)
        workdir = tmp_path / f"pebble{len(started)}"
        workdir.mkdir()
        pebble = Pebble(workdir, ca.issue("ca.acme.example"), "ca.acme.example", tern.http_port,
                        dns, env=pebble_env, validity=validity)
        started.append(pebble)
        tern.config["acme"]["directory"] = pebble.directory
        tern.start()
        return tern, pebble

    yield make
    for p in started:
        p.stop()


def served_certificate(tern, sni):
    """The DER certificate and the chain (PEM) the SMTP listener presents after STARTTLS."""
    out = subprocess.run(
        ["/usr/bin/openssl", "s_client", "-connect", f"127.0.0.1:{tern.port}", "-starttls", "smtp",
         "-servername", sni, "-showcerts"],
        input=b"QUIT\n", capture_output=True, timeout=SOCKET_TIMEOUT)
    pems = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", out.stdout,
                      re.S)
    assert pems, out.stderr.decode(errors="replace")
    return [p.decode() + "\n" for p in pems]


def describe(pem):
    text = subprocess.run(["/usr/bin/openssl", "x509", "-noout", "-issuer", "-serial", "-ext",
                           "subjectAltName"], input=pem.encode(), capture_output=True,
                          timeout=SOCKET_TIMEOUT).stdout.decode()
    return text


def serial(pem):
    return re.search(r"serial=(\w+)", describe(pem)).group(1)


def verifies(chain, root, tmp_path):
    """openssl verify of the leaf against pebble's root, with the intermediates sent."""
    (tmp_path / "root.pem").write_text(root)
    (tmp_path / "untrusted.pem").write_text("".join(chain[1:]))
    (tmp_path / "leaf.pem").write_text(chain[0])
    out = subprocess.run(["/usr/bin/openssl", "verify", "-CAfile", str(tmp_path / "root.pem"),
                          "-untrusted", str(tmp_path / "untrusted.pem"),
                          str(tmp_path / "leaf.pem")], capture_output=True, timeout=SOCKET_TIMEOUT)
    return out.returncode == 0, out.stdout.decode() + out.stderr.decode()


def test_gets_a_certificate_and_the_listeners_present_it(acme_tern, ca, tmp_path):
    tern, pebble = acme_tern()
    # Before the order completes the self-signed default serves; then the ACME one.
    tern.wait_for_log(r"acme_issued", timeout=ISSUE_TIMEOUT)
    chain = served_certificate(tern, "mail.acme.example")
    text = describe(chain[0])
    assert "DNS:mail.acme.example" in text and "DNS:mx2.acme.example" in text, text
    assert "Pebble Intermediate CA" in text, text
    ok, why = verifies(chain, pebble.root(ca.pem), tmp_path)
    assert ok, why
    # The http-01 challenge was answered by Tern's own HTTP listener, for both names.
    log = tern.log_text()
    assert len(re.findall(r"acme_challenge .*type=http-01", log)) == 2, log
    # The account key and the certificate (key and chain in one file) are private.
    acme_dir = tern.data_dir / "acme"
    for name in ("account.key", "certificate.pem"):
        assert (acme_dir / name).stat().st_mode & 0o777 == 0o600, name
    assert not (acme_dir / "certificate.pem.tmp").exists()
    # The tokens answered are withdrawn after use: 404 now, as for any unknown one.
    tokens = re.findall(r"acme_challenge .*token=(\S+)", log)
    assert len(tokens) == 2, log
    for token in tokens + ["unknown"]:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(
                f"http://127.0.0.1:{tern.http_port}/.well-known/acme-challenge/{token}",
                timeout=SOCKET_TIMEOUT)
        assert e.value.code == 404, token


def test_renews_and_reloads_without_dropping_a_session(acme_tern, ca, tmp_path):
    # Certificates valid for 15 s: renew_before (30 days) is more than their lifetime, so the
    # renewal comes with a third of it left, some 10 s after each issuance (not at every check).
    tern, pebble = acme_tern(validity=15)
    tern.wait_for_log(r"acme_issued", timeout=ISSUE_TIMEOUT)
    first = serial(served_certificate(tern, "mail.acme.example")[0])
    # A TLS session opened now stays usable across the next renewal.
    raw = socket.create_connection(("127.0.0.1", tern.port), timeout=SOCKET_TIMEOUT)
    f = raw.makefile("rb")
    assert f.readline().startswith(b"220")
    raw.sendall(b"EHLO client.test\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    raw.sendall(b"STARTTLS\r\n")
    assert f.readline().startswith(b"220")
    context = ssl.create_default_context(cafile=None)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    tls = context.wrap_socket(raw, server_hostname="mail.acme.example")
    count = len(re.findall(r"acme_issued", tern.log_text()))
    deadline = time.monotonic() + ISSUE_TIMEOUT
    while len(re.findall(r"acme_issued", tern.log_text())) < count + 1:
        assert time.monotonic() < deadline, "no renewal"
        time.sleep(0.2)
    second = serial(served_certificate(tern, "mail.acme.example")[0])
    assert second != first
    ok, why = verifies(served_certificate(tern, "mx2.acme.example"), pebble.root(ca.pem), tmp_path)
    assert ok, why
    tf = tls.makefile("rb")
    tls.sendall(b"EHLO client.test\r\n")
    line = tf.readline()
    assert line.startswith(b"250"), line
    tls.sendall(b"QUIT\r\n")
    tls.close()


def test_a_ca_that_forgot_the_account_is_met_afresh(acme_tern, ca, dns, tmp_path):
    # pebble keeps nothing across a restart: the next renewal meets a CA that knows neither the
    # account nor anything else Tern learnt at the first order.
    tern, pebble = acme_tern(validity=15)
    tern.wait_for_log(r"acme_issued", timeout=ISSUE_TIMEOUT)
    pebble.stop()
    (tmp_path / "again").mkdir()
    again = Pebble(tmp_path / "again", ca.issue("ca.acme.example"), "ca.acme.example",
                   tern.http_port, dns, validity=15, port=pebble.port)
    try:
        issued = len(re.findall(r"acme_issued", tern.log_text()))
        deadline = time.monotonic() + ISSUE_TIMEOUT
        while len(re.findall(r"acme_issued", tern.log_text())) < issued + 1:
            assert time.monotonic() < deadline, tern.log_text()[-3000:]
            time.sleep(0.2)
        assert "POST /sign-me-up" in again.output()
        assert "Pebble Intermediate CA" in describe(served_certificate(tern, "mail.acme.example")[0])
    finally:
        again.stop()


def test_a_stored_certificate_is_used_after_a_restart_without_a_new_order(acme_tern):
    tern, pebble = acme_tern()
    tern.wait_for_log(r"acme_issued", timeout=ISSUE_TIMEOUT)
    before = serial(served_certificate(tern, "mail.acme.example")[0])
    tern.stop()
    orders = len(re.findall(r"acme_order", tern.log_text()))
    tern.start()
    time.sleep(2.5)  # two checks
    assert serial(served_certificate(tern, "mail.acme.example")[0]) == before
    assert len(re.findall(r"acme_order", tern.log_text())) == orders


def test_a_name_that_cannot_be_validated_fails_keeps_serving_and_is_retried(acme_tern):
    tern, pebble = acme_tern(names=("mail.acme.example", "nohttp.acme.example"))
    line = tern.wait_for_log(r"acme_failed", timeout=ISSUE_TIMEOUT)
    assert "nohttp.acme.example" in line and "retry_in=2" in line, line
    # The self-signed default still serves, and the order is tried again.
    text = describe(served_certificate(tern, "mail.acme.example")[0])
    assert "Pebble" not in text, text
    deadline = time.monotonic() + ISSUE_TIMEOUT
    while len(re.findall(r"acme_failed", tern.log_text())) < 2:
        assert time.monotonic() < deadline, "not retried"
        time.sleep(0.2)


def test_the_acme_servers_certificate_is_verified(acme_tern):
    # Without ca_file pebble's certificate (from the test CA) is not trusted: no order is sent.
    tern, pebble = acme_tern(acme={"ca_file": ""})
    line = tern.wait_for_log(r"acme_failed", timeout=ISSUE_TIMEOUT)
    assert "certificate" in line and "not valid" in line, line
    assert "POST /sign-me-up" not in pebble.output()


def test_bad_nonces_are_retried(acme_tern):
    # pebble refuses half of the nonces it gave out: every refusal is retried with the new one.
    tern, pebble = acme_tern(pebble_env={"PEBBLE_WFE_NONCEREJECT": "50"})
    tern.wait_for_log(r"acme_issued", timeout=ISSUE_TIMEOUT)
    assert re.search(r"acme_retry .*reason=badNonce", tern.log_text()), tern.log_text()


@pytest.mark.parametrize("config,words", [
    ({"acme": {"enabled": True}, "http": {"listen": []}}, ["acme.enabled", "http.listen"]),
    ({"acme": {"enabled": True}, "http": {"tls": True}}, ["acme.enabled", "http.tls"]),
    ({"acme": {"enabled": True, "names": ["*.example.org"]}}, ["acme.names", "wildcard"]),
    ({"acme": {"enabled": True, "directory": "http://ca.example/dir"}}, ["https URL"]),
])
def test_check_config_refuses_what_cannot_work(tern_factory, config, words):
    tern = tern_factory(config=config, start=False)
    tern.config_path.write_text(__import__("conftest").toml_text(tern.config), encoding="utf-8")
    out = subprocess.run([tern.binary, "check-config", "--config", str(tern.config_path)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    for word in words:
        assert word in out.stdout + out.stderr, out.stdout + out.stderr


def test_sigterm_abandons_an_order_in_progress(tern_factory, dns, ca):
    # An ACME server that takes the connection and never answers: the order waits (its requests
    # are bounded by 30 s); SIGTERM must not wait for it.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        tern = tern_factory(config={
            "dns": {"upstream": [dns.upstream], "timeout": "2s"},
            "acme": {"enabled": True, "ca_file": str(ca.pem), "names": ["mail.acme.example"],
                     "directory": f"https://ca.acme.example:{silent.getsockname()[1]}/dir"},
        })
        tern.wait_for_log(r"acme_order", timeout=10)
        time.sleep(0.5)
        started = time.monotonic()
        tern.stop()
        assert not tern.killed and tern.returncode == 0
        assert time.monotonic() - started < 5, "shutdown waited for the order"
        assert "acme_issued" not in tern.log_text()
    finally:
        silent.close()
