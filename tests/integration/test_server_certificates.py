# The daemon's own TLS certificates: the self-signed default, choice by SNI, reload on SIGHUP,
# refusal of bad files at start, the protocol versions and ciphers it offers (testssl.sh too).
import datetime
import hashlib
import json
import re
import signal
import smtplib
import socket
import ssl
import stat
import subprocess
import threading
import time
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from conftest import CLI_TIMEOUT, TERN_BIN, Dialog, toml_text
from submission_clients import ALICE, auth_plain, auth_tern, client_context, send_mail

OPENSSL_TIMEOUT = 30.0   # seconds one openssl command may take
TESTSSL_TIMEOUT = 180.0  # seconds one testssl run may take (about 10-30 s on an idle machine)
PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", re.S)


# --- certificates ---------------------------------------------------------------------------------

def openssl(*args):
    out = subprocess.run(["openssl", *map(str, args)], capture_output=True, timeout=OPENSSL_TIMEOUT)
    assert out.returncode == 0, f"openssl {args}: {out.stderr.decode(errors='replace')}"
    return out.stdout.decode()


def pem_certificates(path):
    """The DER form of each certificate in a PEM file, in file order."""
    return pem_to_der(path.read_bytes())


def pem_to_der(pem):
    return [ssl.PEM_cert_to_DER_cert(m.group(0).decode()) for m in PEM_CERT.finditer(pem)]


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


class Cert:
    """A self-signed certificate (`crt`) and its key (`key`), both PEM files."""

    def __init__(self, directory, cn, names, key_type="ec"):
        directory.mkdir(parents=True, exist_ok=True)
        stem = cn.replace("*", "wildcard")
        self.crt, self.key = directory / f"{stem}.crt", directory / f"{stem}.key"
        newkey = ["rsa:2048"] if key_type == "rsa" else \
            ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        openssl("req", "-x509", "-newkey", *newkey, "-nodes", "-keyout", self.key, "-out", self.crt,
                "-days", "2", "-subj", f"/CN={cn}",
                "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in names))
        [self.der] = pem_certificates(self.crt)

    def install(self, crt, key=None):
        """Writes this certificate over `crt` and its key over `key`, or both into `crt`."""
        if key is None:
            crt.write_bytes(self.crt.read_bytes() + self.key.read_bytes())
        else:
            crt.write_bytes(self.crt.read_bytes())
            key.write_bytes(self.key.read_bytes())


def which(der, certs):
    """The name under which `certs` (name -> DER) holds the certificate `der`."""
    for name, known in certs.items():
        if known == der:
            return name
    return f"another certificate (sha256 {fingerprint(der)})"


# --- TLS clients ----------------------------------------------------------------------------------

def listeners(tern):
    """(name, port, how TLS starts) of each listener of the daemon."""
    return [("mx", tern.port, "starttls"), ("submission", tern.submission_port, "starttls"),
            ("submissions", tern.submissions_port, "implicit")]


def tls_dialog(port, mode, sni=None, ctx=None, session=None):
    """A Dialog inside TLS: after EHLO, STARTTLS and EHLO again (mode "starttls"), or after the
    handshake and the greeting (mode "implicit"). A failed handshake raises ssl.SSLError."""
    d = Dialog(port)
    try:
        if mode == "starttls":
            assert d.read_reply().code == 220
            d.ehlo()
            r = d.cmd("STARTTLS")
            assert r.code == 220, r
        assert d.buf == b"", d.buf
        d.sock = (ctx or client_context()).wrap_socket(d.sock, server_hostname=sni, session=session)
        if mode == "starttls":
            d.ehlo()
        else:
            r = d.read_reply()
            assert r.code == 220, r
        return d
    except BaseException:
        d.close()
        raise


def served(port, mode, sni=None, ctx=None):
    """The certificate (DER) the daemon shows a new client on `port`."""
    with tls_dialog(port, mode, sni, ctx) as d:
        der = d.sock.getpeercert(binary_form=True)
        assert d.cmd("QUIT").code == 221
    return der


def refused_handshake(port, mode, ctx, sni=None):
    """Asserts that the handshake fails; returns the client's error."""
    with pytest.raises(ssl.SSLError) as failure:
        tls_dialog(port, mode, sni, ctx).close()
    return failure.value


def log_count(tern, pattern):
    return sum(1 for line in tern.log_lines() if re.search(pattern, line))


def wait_for_log_count(tern, pattern, count, timeout=5.0):
    """Waits until `count` log lines match `pattern`; returns the last of them."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in tern.log_lines() if re.search(pattern, line)]
        if len(lines) >= count:
            return lines[count - 1]
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(lines)} of {count} log lines match {pattern!r}:\n"
                                 + tern.log_text())
        time.sleep(0.02)


# --- the self-signed default ----------------------------------------------------------------------

def test_self_signed_certificate_is_made_at_first_start_and_kept(tern_factory, tern_binary):
    tern = tern_factory(binary=tern_binary)
    path = tern.data_dir / "tls" / "self-signed.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [der] = pem_certificates(path)
    details = openssl("x509", "-in", path, "-noout", "-subject", "-ext", "subjectAltName")
    assert re.search(r"^subject=CN = mx\.tern\.test$", details, re.M), details
    assert "DNS:mx.tern.test, DNS:localhost" in details, details
    assert "ASN1 OID: prime256v1" in openssl("pkey", "-in", path, "-noout", "-text")
    # What every listener serves is that file's certificate (so the daemon holds its key).
    for name, port, mode in listeners(tern):
        assert fingerprint(served(port, mode)) == fingerprint(der), name

    # Stopped and started again on the same data directory: the same file and certificate.
    pem = path.read_bytes()
    tern.restart()
    assert path.read_bytes() == pem
    for name, port, mode in listeners(tern):
        assert fingerprint(served(port, mode)) == fingerprint(der), f"{name} after restart"

    # Another data directory: a certificate with a key of its own.
    other = tern_factory(binary=tern_binary)
    other_path = other.data_dir / "tls" / "self-signed.pem"
    [other_der] = pem_certificates(other_path)
    assert fingerprint(served(other.submissions_port, "implicit")) == fingerprint(other_der)
    assert (openssl("pkey", "-in", other_path, "-pubout")
            != openssl("pkey", "-in", path, "-pubout"))


def test_self_signed_certificate_verifies_for_the_loopback_addresses(tern_factory):
    # The README's examples connect to 127.0.0.1: a client that trusts the self-signed file
    # checks that address against the certificate, with openssl and with Python's ssl.
    tern = tern_factory()
    path = tern.data_dir / "tls" / "self-signed.pem"
    details = openssl("x509", "-in", path, "-noout", "-ext", "subjectAltName")
    assert ("DNS:mx.tern.test, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
            in details), details
    client = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{tern.submissions_port}", "-verify_ip",
         "127.0.0.1", "-CAfile", str(path), "-verify_return_error", "-brief"],
        input="QUIT\r\n", capture_output=True, text=True, timeout=OPENSSL_TIMEOUT)
    assert client.returncode == 0, client.stdout + client.stderr
    assert "Verification: OK" in client.stderr, client.stderr
    # ::1 is named too (the listeners here are on 127.0.0.1: checked against the file).
    assert openssl("verify", "-verify_ip", "::1", "-CAfile", path, path).strip() == f"{path}: OK"

    ctx = ssl.create_default_context(cafile=str(path))
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    with socket.create_connection(("127.0.0.1", tern.submissions_port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.recv(1024).startswith(b"220 ")
    with smtplib.SMTP("127.0.0.1", tern.submission_port, timeout=10) as smtp:
        assert smtp.starttls(context=ctx)[0] == 220
        assert smtp.ehlo()[0] == 250


def write_old_self_signed(path, hostname):
    """A key and certificate in one file exactly as Tern wrote them before it named 127.0.0.1
    and ::1: P-256, subject CN=hostname, subjectAltName DNS:hostname and DNS:localhost, critical
    basicConstraints CA:FALSE, extendedKeyUsage serverAuth, nothing else."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
                     + cert.public_bytes(serialization.Encoding.PEM))
    path.chmod(0o600)


def test_self_signed_certificate_of_an_older_version_is_renewed_once(tern_factory):
    tern = tern_factory(start=False)
    path = tern.data_dir / "tls" / "self-signed.pem"
    write_old_self_signed(path, "mx.tern.test")
    old = path.read_bytes()
    tern.start()
    assert path.read_bytes() != old
    details = openssl("x509", "-in", path, "-noout", "-ext", "subjectAltName")
    assert "IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1" in details, details
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [der] = pem_certificates(path)
    assert fingerprint(served(tern.submissions_port, "implicit")) == fingerprint(der)
    assert log_count(tern, r"tls_self_signed.*renewed") == 1, tern.log_text()
    # Renewed once: the next start keeps it.
    renewed = path.read_bytes()
    tern.restart()
    assert path.read_bytes() == renewed
    assert log_count(tern, r"tls_self_signed") == 1, tern.log_text()


@pytest.mark.parametrize("shape", ["with an organisation", "rsa key", "more extensions"])
def test_a_certificate_not_made_by_tern_is_never_replaced(tern_factory, tmp_path, shape):
    # A file of another shape at the self-signed path is someone else's: kept and served as is,
    # though it does not name 127.0.0.1.
    subject = "/CN=mx.tern.test/O=Operator" if shape == "with an organisation" else "/CN=mx.tern.test"
    newkey = ["rsa:2048"] if shape == "rsa key" else ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    extensions = ["-addext", "subjectAltName=DNS:mx.tern.test,DNS:localhost",
                  "-addext", "basicConstraints=critical,CA:FALSE",
                  "-addext", "extendedKeyUsage=serverAuth"]
    if shape == "more extensions":
        extensions += ["-addext", "keyUsage=digitalSignature"]
    key, crt = tmp_path / "own.key", tmp_path / "own.crt"
    openssl("req", "-x509", "-newkey", *newkey, "-nodes", "-keyout", key, "-out", crt, "-days", "2",
            "-subj", subject, *extensions)
    tern = tern_factory(start=False)
    path = tern.data_dir / "tls" / "self-signed.pem"
    path.parent.mkdir(parents=True)
    path.write_bytes(key.read_bytes() + crt.read_bytes())
    own = path.read_bytes()
    tern.start()
    assert path.read_bytes() == own
    [der] = pem_certificates(crt)
    assert fingerprint(served(tern.submissions_port, "implicit")) == fingerprint(der)
    assert log_count(tern, r"tls_self_signed") == 0, tern.log_text()


# --- choice by SNI --------------------------------------------------------------------------------

# (SNI the client sends, the certificate it must get): "one" is the default for mx.one.example,
# "two" is for *.two.example, whose wildcard covers exactly one label.
SNI_CASES = [
    (None, "one"),
    ("mx.one.example", "one"),
    ("mail.two.example", "two"),
    ("smtp.two.example", "two"),
    ("MAIL.Two.EXAMPLE", "two"),
    ("unknown.example", "one"),
    ("two.example", "one"),
    ("deep.mail.two.example", "one"),
]


def test_sni_chooses_among_configured_certificates(tern_factory, ca):
    # The default as "chain.pem, key.pem"; the wildcard one as a single file holding its chain
    # and key. Both issued by a test CA, so a verifying client can check names and chains.
    one = ca.issue("mx.one.example")
    two = ca.issue("wild.two.example", ["*.two.example"])
    two_pem = ca.dir / "two-combined.pem"
    two_pem.write_bytes(two.chain.read_bytes() + two.key.read_bytes())
    tern = tern_factory(config={"tls": {"certificates": [f"{one.chain}, {one.key}", str(two_pem)]}})
    certs = {"one": pem_certificates(one.pem)[0], "two": pem_certificates(two.pem)[0]}

    tls12 = client_context(maximum=ssl.TLSVersion.TLSv1_2)
    verifying = ssl.create_default_context(cafile=str(ca.pem))
    for name, port, mode in listeners(tern):
        for sni, expected in SNI_CASES:
            assert which(served(port, mode, sni), certs) == expected, (name, sni)
        # The switch to the SNI certificate works in a TLS 1.2 handshake too.
        assert which(served(port, mode, "mail.two.example", tls12), certs) == "two", name
        assert which(served(port, mode, None, tls12), certs) == "one", name

        # A client that verifies (the CA trusted, the host name checked) accepts both.
        for host in ("mx.one.example", "mail.two.example"):
            with tls_dialog(port, mode, host, verifying) as d:
                assert d.cmd("QUIT").code == 221

    # The whole chain of each file is sent: the certificate and the CA's after it.
    for sni, expected in ((["-noservername"], one), (["-servername", "mail.two.example"], two)):
        out = subprocess.run(["openssl", "s_client", "-connect",
                              f"127.0.0.1:{tern.submissions_port}", "-showcerts", *sni],
                             input="QUIT\r\n", capture_output=True, text=True,
                             timeout=OPENSSL_TIMEOUT)
        chain = pem_to_der(out.stdout.encode())
        assert chain == pem_certificates(expected.chain), (sni, out.stdout)
        assert len(chain) == 2


# --- reload on SIGHUP -----------------------------------------------------------------------------

RELOADED = r"\btls_reload certificates=2\b"
RELOAD_FAILED = r"\btls_reload error="


def test_sighup_reloads_certificates_and_keeps_the_old_ones_on_error(tern_factory, tern_binary,
                                                                     tmp_path):
    made = tmp_path / "made"
    files = {
        "A": Cert(made / "a", "mx.one.example", ["mx.one.example"]),
        "A-two": Cert(made / "a", "*.two.example", ["*.two.example"]),
        "B": Cert(made / "b", "mx.one.example", ["mx.one.example"]),
        "B-two": Cert(made / "b", "*.two.example", ["*.two.example"]),
        "C": Cert(made / "c", "mx.one.example", ["mx.one.example"]),
        "C-two": Cert(made / "c", "*.two.example", ["*.two.example"]),
    }
    certs = {name: c.der for name, c in files.items()}
    live = tmp_path / "live"
    live.mkdir()
    crt, key, two = live / "fullchain.pem", live / "privkey.pem", live / "two.pem"

    def install(generation):
        files[generation].install(crt, key)
        files[generation + "-two"].install(two)

    def expect(generation, when):
        for name, port, mode in listeners(tern):
            assert which(served(port, mode), certs) == generation, (name, when)
            assert which(served(port, mode, "mail.two.example"), certs) == generation + "-two", \
                (name, when)

    install("A")
    tern = auth_tern(tern_factory, binary=tern_binary,
                     config={"tls": {"certificates": [f"{crt}, {key}", str(two)]}})
    expect("A", "at start")
    # Sessions open across the reload: two inside TLS with A's certificates, one still in
    # plain text that starts TLS only after the reload.
    old = tls_dialog(tern.submission_port, "starttls")
    old_implicit = tls_dialog(tern.submissions_port, "implicit", "mail.two.example")
    plain = Dialog(tern.submission_port)
    try:
        assert which(old.sock.getpeercert(True), certs) == "A"
        assert which(old_implicit.sock.getpeercert(True), certs) == "A-two"
        assert plain.read_reply().code == 220
        plain.ehlo()

        install("B")
        tern.signal(signal.SIGHUP)
        wait_for_log_count(tern, RELOADED, 1)
        expect("B", "after the reload")

        # The old sessions go on: a login and a whole message on the first, NOOP on the other.
        assert old.cmd("NOOP").code == 250
        assert auth_plain(old).text.startswith("235 2.7.0")
        assert send_mail(old, ALICE, ["bob@localhost"], subject="across the reload").code == 250
        assert old.cmd("QUIT").code == 221
        assert old_implicit.cmd("NOOP").code == 250
        assert old_implicit.cmd("QUIT").code == 221
        # The plain-text session's handshake comes after the reload: the new certificate.
        assert plain.cmd("STARTTLS").code == 220
        plain.sock = client_context().wrap_socket(plain.sock)
        assert which(plain.sock.getpeercert(True), certs) == "B"
        plain.ehlo()
        assert plain.cmd("QUIT").code == 221
    finally:
        for d in (old, old_implicit, plain):
            d.close()
    message = tern.wait_for_message("bob")
    assert b"Subject: across the reload" in message
    assert re.search(rb"with ESMTPSA id \S+\n\t\(version=TLSv1\.3 ", message), message[:600]

    # A key that is not the certificate's: the reload fails, B stays.
    key.write_bytes(files["A"].key.read_bytes())
    tern.signal(signal.SIGHUP)
    line = wait_for_log_count(tern, RELOAD_FAILED, 1)
    assert f'error="TLS private key {key} does not belong to the certificate {crt}"' in line, line
    expect("B", "after a reload with a wrong key")

    # A file that is gone: the same.
    files["B"].install(crt, key)
    two.unlink()
    tern.signal(signal.SIGHUP)
    line = wait_for_log_count(tern, RELOAD_FAILED, 2)
    assert f"TLS certificate {two}: " in line and "No such file or directory" in line, line
    expect("B", "after a reload with a missing file")

    # Good files again: the next SIGHUP loads them.
    install("C")
    tern.signal(signal.SIGHUP)
    wait_for_log_count(tern, RELOADED, 2)
    expect("C", "after the files were fixed")
    assert log_count(tern, r"\btls_reload\b") == 4


def reload_command(tern, *args, config=None):
    """Runs `tern reload` against the daemon (its own configuration unless `config`)."""
    return subprocess.run([tern.binary, "reload", "-c", str(config or tern.config_path), *args],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)


def test_tern_reload_checks_the_file_then_reloads_and_says_what_failed(tern_factory, tern_binary,
                                                                       tmp_path):
    made = tmp_path / "made"
    files = {name: Cert(made / name, "mx.one.example", ["mx.one.example"]) for name in "AB"}
    certs = {name: c.der for name, c in files.items()}
    live = tmp_path / "live"
    live.mkdir()
    crt, key = live / "fullchain.pem", live / "privkey.pem"
    files["A"].install(crt, key)
    tern = auth_tern(tern_factory, binary=tern_binary,
                     config={"tls": {"certificates": [f"{crt}, {key}"]}})
    assert which(served(tern.port, "starttls"), certs) == "A"

    # New files: the daemon takes them, and says so on standard output and in its log.
    files["B"].install(crt, key)
    done = reload_command(tern)
    assert done.returncode == 0, done
    assert done.stdout.startswith("reload: log file opened again, 1 certificate(s) loaded"), done
    assert re.search(r"\bcontrol cmd=reload\b", tern.log_text())
    wait_for_log_count(tern, r"\btls_reload certificates=1\b", 1)
    for _, port, mode in listeners(tern):
        assert which(served(port, mode), certs) == "B"
    reply = json.loads(reload_command(tern, "--json").stdout)
    assert reply["ok"] is True and reply["certificates"] == 1, reply
    assert set(reply["directory"]) == {"domains", "users", "aliases"}, reply

    # A key that is not the certificate's: check-config's check refuses before the daemon is
    # asked, and B stays.
    key.write_bytes(files["A"].key.read_bytes())
    refused = reload_command(tern)
    assert refused.returncode == 1, refused
    assert "does not belong to the certificate" in refused.stderr, refused
    assert "tern reload: refused" in refused.stderr, refused
    assert log_count(tern, r"\bcontrol cmd=reload\b") == 2
    assert which(served(tern.port, "starttls"), certs) == "B"

    # A broken configuration file is refused too.
    broken = tmp_path / "broken.toml"
    broken.write_text(tern.config_path.read_text() + "\n[server\n", encoding="utf-8")
    refused = reload_command(tern, config=broken)
    assert refused.returncode == 1 and "broken.toml" in refused.stderr, refused
    assert log_count(tern, r"\bcontrol cmd=reload\b") == 2

    # The daemon's own reload fails (asked over the control socket, as a client that does not
    # check first would): the reply names the error, and B stays.
    key.write_bytes(files["A"].key.read_bytes())
    reply = tern.control({"cmd": "reload"})
    assert reply["ok"] is False, reply
    assert reply["error"].startswith("certificates: TLS private key"), reply
    assert reply["error"].endswith("(the ones in use are kept)"), reply
    assert which(served(tern.port, "starttls"), certs) == "B"

    # The daemon down (the files good again): out of reach.
    files["B"].install(crt, key)
    tern.stop()
    gone = reload_command(tern)
    assert gone.returncode == 2 and "is tern serve running?" in gone.stderr, gone


# --- bad files at start ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bad_certificates(tmp_path_factory):
    """Name -> (certificates entries, a regex of what the daemon prints after "tern: ")."""
    d = tmp_path_factory.mktemp("bad-certificates")
    good = Cert(d / "good", "mx.one.example", ["mx.one.example"])
    other = Cert(d / "other", "other.example", ["other.example"])
    rsa = Cert(d / "rsa", "mx.one.example", ["mx.one.example"], key_type="rsa")
    garbage = d / "garbage.pem"
    garbage.write_text("this is not PEM\n")
    missing = d / "missing.pem"
    e = lambda path: re.escape(str(path))  # noqa: E731
    return {
        "missing certificate": ([f"{missing}, {good.key}"],
                                rf"TLS certificate {e(missing)}: .*No such file or directory"),
        "garbage certificate": ([f"{garbage}, {good.key}"],
                                rf"TLS certificate {e(garbage)}: .*no start line"),
        "key of another certificate": ([f"{good.crt}, {other.key}"],
                                       rf"TLS private key {e(other.key)} does not belong to the "
                                       rf"certificate {e(good.crt)}"),
        "key of another type": ([f"{rsa.crt}, {good.key}"],
                                rf"TLS private key {e(good.key)} does not belong to the "
                                rf"certificate {e(rsa.crt)}"),
        "missing key": ([f"{good.crt}, {missing}"],
                        rf"TLS private key {e(missing)}: .*No such file or directory"),
        "single file without a key": ([str(good.crt)], rf"TLS private key {e(good.crt)}: no PEM "
                                                       rf"private key \(unencrypted\) in the file"),
        "bad second certificate": ([f"{good.crt}, {good.key}", str(garbage)],
                                   rf"TLS certificate {e(garbage)}: .*no start line"),
    }


@pytest.mark.parametrize("case", [
    "missing certificate", "garbage certificate", "key of another certificate",
    "key of another type", "missing key", "single file without a key", "bad second certificate"])
def test_bad_certificate_stops_start_and_check_config(tern_factory, tern_binary, bad_certificates,
                                                      case):
    entries, message = bad_certificates[case]
    tern = tern_factory(config={"tls": {"certificates": entries}}, binary=tern_binary, start=False)
    tern.config_path.write_text(toml_text(tern.config), encoding="utf-8")

    run = subprocess.run([tern.binary, "serve", "--config", str(tern.config_path)],
                         capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=tern.dir)
    assert run.returncode == 1, run.stderr
    assert re.search(rf"^tern: {message}$", run.stderr, re.M), run.stderr
    for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert mark not in run.stderr
    # It did not fall back to a certificate of its own, and nothing listens.
    assert not (tern.data_dir / "tls").exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", tern.submissions_port), timeout=2).close()

    # check-config refuses the same file with the same words (the release binary: the command
    # that checks files, not the daemon, is what is under test here).
    check = subprocess.run([TERN_BIN, "check-config", str(tern.config_path)],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=tern.dir)
    assert check.returncode == 1, check.stdout + check.stderr
    assert re.fullmatch(rf"{re.escape(str(tern.config_path))}: {message}\n", check.stderr), \
        check.stderr
    assert check.stdout == ""


def test_check_config_accepts_good_certificates(tern_factory, tmp_path):
    one = Cert(tmp_path / "one", "mx.one.example", ["mx.one.example"])
    two = Cert(tmp_path / "two", "*.two.example", ["*.two.example"])
    combined = tmp_path / "two.pem"
    two.install(combined)
    tern = tern_factory(config={"tls": {"certificates": [f"{one.crt}, {one.key}", str(combined)],
                                        "min_version": "1.3"}}, start=False)
    tern.config_path.write_text(toml_text(tern.config), encoding="utf-8")
    check = subprocess.run([tern.binary, "check-config", str(tern.config_path)],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert (check.returncode, check.stdout, check.stderr) == (0, f"{tern.config_path}: ok\n", "")


# --- protocol versions and session handling -------------------------------------------------------

TLS_FAILED_VERSION = r'\btls_failed client=127\.0\.0\.1 error="unsupported protocol'


def test_min_version_1_3_refuses_tls_1_2_clients(tern_factory, tmp_path):
    one = Cert(tmp_path, "mx.one.example", ["mx.one.example"])
    two = Cert(tmp_path, "*.two.example", ["*.two.example"])
    certs = {"one": one.der, "two": two.der}
    tern = tern_factory(config={"tls": {"certificates": [f"{one.crt}, {one.key}",
                                                         f"{two.crt}, {two.key}"],
                                        "min_version": "1.3"}})
    tls12 = client_context(maximum=ssl.TLSVersion.TLSv1_2)
    tls13 = client_context(minimum=ssl.TLSVersion.TLSv1_3)
    refused = 0
    for name, port, mode in listeners(tern):
        for sni, expected in ((None, "one"), ("mail.two.example", "two")):
            # The server answers the TLS 1.2 ClientHello with a protocol_version alert, also when
            # SNI moves the handshake to the second certificate.
            error = refused_handshake(port, mode, tls12, sni)
            assert error.reason == "TLSV1_ALERT_PROTOCOL_VERSION", (name, sni, error)
            refused += 1
            wait_for_log_count(tern, TLS_FAILED_VERSION, refused)
            with tls_dialog(port, mode, sni, tls13) as d:
                assert d.sock.version() == "TLSv1.3"
                assert which(d.sock.getpeercert(True), certs) == expected, (name, sni)
                assert d.cmd("QUIT").code == 221


def test_default_refuses_tls_1_1_and_1_0_and_accepts_1_2(tern_factory):
    tern = tern_factory()
    refused = 0
    for name, port, mode in listeners(tern):
        for version in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/TLSv1_1 themselves
                old = client_context(minimum=version, maximum=version)
            old.set_ciphers("DEFAULT:@SECLEVEL=0")  # else this OpenSSL will not send such a hello
            error = refused_handshake(port, mode, old)
            assert error.reason == "TLSV1_ALERT_PROTOCOL_VERSION", (name, version, error)
            refused += 1
            wait_for_log_count(tern, TLS_FAILED_VERSION, refused)
        with tls_dialog(port, mode, ctx=client_context(maximum=ssl.TLSVersion.TLSv1_2)) as d:
            assert d.sock.version() == "TLSv1.2"
            assert d.cmd("QUIT").code == 221


def test_no_session_resumption(tern_factory):
    # docs/tls.md: "No compression, no renegotiation, no session tickets": a client that comes
    # back with the session of its last connection gets a full handshake, in TLS 1.3 and 1.2
    # (where RFC 5077 tickets are off only with SSL_OP_NO_TICKET).
    tern = tern_factory()
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx = client_context(minimum=version, maximum=version)
        with tls_dialog(tern.submissions_port, "implicit", ctx=ctx) as d:
            assert d.cmd("QUIT").code == 221
            session = d.sock.session
        with tls_dialog(tern.submissions_port, "implicit", ctx=ctx, session=session) as d:
            reused = d.sock.session_reused
            assert d.cmd("QUIT").code == 221
        assert (session.has_ticket, reused) == (False, False), \
            f"{version.name}: ticket (lifetime hint {session.ticket_lifetime_hint}s), resumed"


def test_client_renegotiation_is_refused(tern_factory):
    # openssl s_client renegotiates when it reads "R" on its own line (TLS 1.2 only).
    tern = tern_factory()
    proc = subprocess.Popen(["openssl", "s_client", "-connect",
                             f"127.0.0.1:{tern.submissions_port}", "-tls1_2", "-crlf"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen = []
    reader = threading.Thread(target=lambda: seen.extend(iter(proc.stdout.readline, "")),
                              daemon=True)
    reader.start()
    try:
        # "R" only once the greeting is here: sent earlier, the renegotiation would meet the
        # greeting's record instead of the server's refusal.
        deadline = time.monotonic() + OPENSSL_TIMEOUT
        while not any("220 mx.tern.test ESMTP" in line for line in list(seen)):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(seen)
            time.sleep(0.05)
        proc.stdin.write("R\n")
        proc.stdin.flush()
        # Standard input stays open: s_client ends only because the server refused.
        proc.wait(timeout=OPENSSL_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=OPENSSL_TIMEOUT)
        reader.join(timeout=OPENSSL_TIMEOUT)
    out = "".join(seen)
    assert "220 mx.tern.test ESMTP" in out, out
    assert "RENEGOTIATING" in out, out
    assert "no renegotiation" in out, out


# --- testssl.sh -----------------------------------------------------------------------------------

def run_testssl(tmp_path, target, *checks):
    """Runs testssl.sh's `checks` against 127.0.0.1:PORT; returns its JSON findings."""
    out = tmp_path / f"testssl-{len(list(tmp_path.glob('testssl-*.json')))}.json"
    run = subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings", "off",
                          "--nodns", "none", "--connect-timeout", "10", "--openssl-timeout", "10",
                          "--jsonfile", str(out), *checks, target],
                         capture_output=True, text=True, timeout=TESTSSL_TIMEOUT,
                         stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    findings = json.loads(out.read_text())
    problems = [f for f in findings if f["severity"] in ("FATAL", "CRITICAL", "HIGH")
                or f["id"] == "scanProblem"]
    assert not problems, problems
    return findings


def finding(findings, name):
    [f] = [f for f in findings if f["id"] == name]
    return f["finding"]


CIPHER_FINDING = re.compile(
    r"(TLS 1\.[0-3]|SSLv[23])\s+x\w+\s+(\S+)\s+\S+ \d+\s+(\S+)\s+\d+\s+(\S+)\s*$")


def offered_ciphers(findings):
    """{"TLS 1.2": {OpenSSL name: (encryption, IANA name)}, ...} from the cipher-* findings, which
    read "TLS 1.2  xc02c  ECDHE-ECDSA-AES256-GCM-SHA384  ECDH 253  AESGCM  256  TLS_ECDHE_..."."""
    out = {}
    for f in findings:
        if f["id"].startswith("cipher-"):
            m = CIPHER_FINDING.match(f["finding"])
            assert m, f
            out.setdefault(m.group(1), {})[m.group(2)] = (m.group(3), m.group(4))
    return out


def check_protocols_and_ciphers(findings, expected_tls12):
    for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert finding(findings, old) == "not offered", old
    assert finding(findings, "TLS1_2") == "offered"
    assert finding(findings, "TLS1_3").startswith("offered")
    ciphers = offered_ciphers(findings)
    assert set(ciphers) == {"TLS 1.2", "TLS 1.3"}, ciphers
    assert set(ciphers["TLS 1.2"]) == expected_tls12, ciphers["TLS 1.2"]
    for version, suites in ciphers.items():
        for name, (encryption, iana) in suites.items():
            assert encryption in ("AESGCM", "ChaCha20"), (version, name, encryption)
            assert not re.search(r"CBC|RC4|3DES|DES|NULL|EXPORT|anon|SHA$", iana), (version, iana)
            if version == "TLS 1.2":
                assert iana.startswith(("TLS_ECDHE_", "TLS_DHE_")), iana


def test_testssl_implicit_tls_with_an_rsa_certificate(tern_factory, tmp_path):
    # An RSA certificate, so that the DHE-RSA suites are on offer as well as the ECDHE ones.
    rsa = Cert(tmp_path, "mx.one.example", ["mx.one.example"], key_type="rsa")
    tern = tern_factory(config={"tls": {"certificates": [f"{rsa.crt}, {rsa.key}"]}})
    findings = run_testssl(tmp_path, f"127.0.0.1:{tern.submissions_port}", "-p", "-s", "-E", "-P")
    check_protocols_and_ciphers(findings, {
        "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"})
    for category in ("NULL", "aNULL", "EXPORT", "LOW", "3DES_IDEA", "AVERAGE"):
        assert finding(findings, f"cipherlist_{category}") == "not offered", category
    assert finding(findings, "cipherlist_STRONG") == "offered"
    assert finding(findings, "cipher_order") == "server"


def test_testssl_starttls_on_submission_with_the_self_signed_certificate(tern_factory, tmp_path):
    tern = tern_factory()
    findings = run_testssl(tmp_path, f"127.0.0.1:{tern.submission_port}", "-t", "smtp", "-p", "-E")
    assert finding(findings, "service") == "smtp"
    check_protocols_and_ciphers(findings, {
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305"})
