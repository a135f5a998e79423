# Clients for the inbound TLS and authenticated submission tests: a daemon set up with accounts,
# raw dialogs that start TLS (STARTTLS or implicit), a SCRAM-SHA-256 client (RFC 5802/7677)
# that checks the server's signature, and runners for swaks and openssl s_client.
import base64
import hashlib
import hmac
import os
import re
import ssl
import subprocess

from conftest import CLI_TIMEOUT, Dialog

ALICE = "alice@example.org"
BOB = "bob@example.org"
PASSWORD = "Alice-Secret-42"
BOB_PASSWORD = "Bob-Secret-77"
TOOL_TIMEOUT = 30.0  # seconds swaks or openssl may take

# Cheap password hashing (the argon2id minimum) so that a login costs milliseconds, a throttle
# short enough for tests, and example.org as a local domain whose accounts are mailboxes.
AUTH_CONFIG = {
    "local": {"domains": ["localhost", "example.org"]},
    "auth": {"argon2_memory_kib": 1024, "argon2_iterations": 1, "throttle_base_delay": "1s",
             "throttle_max_delay": "4s", "throttle_reset_after": "60s"},
}


def merged(*configs):
    """Section-wise union of config override dicts, later ones winning."""
    out = {}
    for c in configs:
        for section, keys in (c or {}).items():
            out.setdefault(section, {}).update(keys)
    return out


def add_account(tern, address, password):
    """`tern user add ADDRESS` on the daemon's config, the password on stdin."""
    proc = subprocess.run([tern.binary, "user", "add", address, "--config", str(tern.config_path)],
                          input=password + "\n", capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, f"tern user add {address}: {proc.stdout}{proc.stderr}"


def auth_tern(tern_factory, config=None, binary=None, accounts=((ALICE, PASSWORD),)):
    """A started daemon with AUTH_CONFIG (plus `config`) and the given accounts."""
    t = tern_factory(config=merged(AUTH_CONFIG, config), binary=binary)
    for address, password in accounts:
        add_account(t, address, password)
    return t


def client_context(sni=None, minimum=None, maximum=None):
    """A TLS client context that accepts any certificate (the tests' are self-signed)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


def start_tls(dialog, sni=None, ctx=None):
    """Runs the TLS handshake on the dialog's socket (after a 220 to STARTTLS, or at once on
    the submissions port); the dialog reads and writes through TLS from then on."""
    assert dialog.buf == b"", f"unread plain-text bytes before the handshake: {dialog.buf!r}"
    dialog.sock = (ctx or client_context()).wrap_socket(dialog.sock, server_hostname=sni)
    return dialog.sock


def open_dialog(port, source=None, implicit_tls=False, sni=None, ctx=None):
    """A raw client on `port`, its 220 greeting read; with implicit_tls the TLS handshake
    comes first (RFC 8314)."""
    d = Dialog(port, source=source)
    if implicit_tls:
        start_tls(d, sni, ctx)
    r = d.read_reply()
    assert r.code == 220, r
    return d


def starttls_dialog(port, source=None, sni=None, ctx=None):
    """A raw client after EHLO, STARTTLS, the handshake and EHLO again."""
    d = open_dialog(port, source)
    d.ehlo()
    r = d.cmd("STARTTLS")
    assert r.code == 220, r
    start_tls(d, sni, ctx)
    d.ehlo()
    return d


def b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def plain_response(user, password, authzid=""):
    return b64(f"{authzid}\0{user}\0{password}")


def auth_plain(dialog, user=ALICE, password=PASSWORD):
    """AUTH PLAIN with an initial response; returns the reply."""
    return dialog.cmd(f"AUTH PLAIN {plain_response(user, password)}")


def auth_login(dialog, user=ALICE, password=PASSWORD):
    """AUTH LOGIN through its two challenges; returns the final reply."""
    r = dialog.cmd("AUTH LOGIN")
    assert r.code == 334 and base64.b64decode(r.lines[-1][4:]) == b"Username:", r
    r = dialog.cmd(b64(user))
    assert r.code == 334 and base64.b64decode(r.lines[-1][4:]) == b"Password:", r
    return dialog.cmd(b64(password))


def _hmac(key, text):
    return hmac.new(key, text.encode() if isinstance(text, str) else text, hashlib.sha256).digest()


class ScramError(AssertionError):
    pass


def auth_scram(dialog, user=ALICE, password=PASSWORD, nonce=None):
    """AUTH SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash, no channel binding). Checks the
    server's nonce and its ServerSignature before answering the last challenge; returns the
    final reply (235, or the failure the server gave)."""
    nonce = nonce or base64.b64encode(os.urandom(18)).decode()
    name = user.replace("=", "=3D").replace(",", "=2C")
    client_first_bare = f"n={name},r={nonce}"
    r = dialog.cmd(f"AUTH SCRAM-SHA-256 {b64('n,,' + client_first_bare)}")
    if r.code != 334:
        return r
    server_first = base64.b64decode(r.lines[-1][4:]).decode()
    attrs = dict(a.split("=", 1) for a in server_first.split(","))
    if not attrs["r"].startswith(nonce) or len(attrs["r"]) <= len(nonce):
        raise ScramError(f"server nonce {attrs['r']!r} does not extend ours {nonce!r}")
    salt, iterations = base64.b64decode(attrs["s"]), int(attrs["i"])
    if iterations < 4096:
        raise ScramError(f"iteration count {iterations} below RFC 7677's 4096")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = _hmac(salted, "Client Key")
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c={b64('n,,')},r={attrs['r']}"
    auth_message = f"{client_first_bare},{server_first},{without_proof}"
    signature = _hmac(stored_key, auth_message)
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    r = dialog.cmd(b64(f"{without_proof},p={b64(proof)}"))
    if r.code != 334:
        return r
    server_final = base64.b64decode(r.lines[-1][4:]).decode()
    expected = b64(_hmac(_hmac(salted, "Server Key"), auth_message))
    if server_final != f"v={expected}":
        raise ScramError(f"server-final {server_final!r}, expected v={expected}")
    return dialog.cmd("")


def send_mail(dialog, sender, recipients, subject="submission test"):
    """MAIL, RCPT, DATA on an open dialog; returns the reply to the end of data."""
    r = dialog.cmd(f"MAIL FROM:<{sender}>")
    assert r.code == 250, r
    for rcpt in recipients:
        r = dialog.cmd(f"RCPT TO:<{rcpt}>")
        assert r.code == 250, r
    r = dialog.cmd("DATA")
    assert r.code == 354, r
    dialog.send(f"From: {sender}\r\nTo: {', '.join(recipients)}\r\nSubject: {subject}\r\n\r\n"
                "Sent over TLS.\r\n.\r\n")
    return dialog.read_reply()


def swaks(*args):
    """Runs swaks ARGS; returns the CompletedProcess (text, its transcript in stdout)."""
    return subprocess.run(["swaks", "--timeout", "15", *args], capture_output=True, text=True,
                          timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL)


def s_client(port, *args, commands=""):
    """openssl s_client to 127.0.0.1:PORT with ARGS, `commands` on stdin (s_client quits at its
    end); returns the CompletedProcess (text)."""
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-ign_eof",
                           *args], input=commands, capture_output=True, text=True,
                          timeout=TOOL_TIMEOUT)


def peer_certificate_names(output):
    """The subject CN that `openssl s_client` printed for the server's certificate."""
    m = re.search(r"^subject=.*?CN\s*=\s*([^,\n/]+)", output, re.M)
    return m.group(1).strip() if m else None
