# LMTP delivery (RFC 2033) against a real Dovecot lmtp service started here: per-domain routing
# beside Maildir, one reply per recipient after the data (a full mailbox fails alone, an unknown
# user is refused at RCPT, and their notices carry Dovecot's replies), success notices that say
# "delivered", the Unix socket and TCP, a server that is down (retried, then delivered), several
# transactions over one connection, and the configuration checks.
import os
import re
import socket
import subprocess
import threading

import pytest

from conftest import CLI_TIMEOUT, Notice, free_port, TERN_BIN
from peers.dovecot import DOVECOT, Dovecot
from test_metrics import scrape, value

pytestmark = pytest.mark.skipif(not os.access(DOVECOT, os.X_OK),
                                reason="no dovecot (scripts/install-deps.sh test installs it)")

BODY = (b"From: alice@localhost\r\nTo: team@example.org\r\nSubject: lmtp test\r\n"
        b"Message-ID: <lmtp-1@localhost>\r\n\r\n" + b"Hello through LMTP.\r\n" * 200)
USERS = {
    "carol@example.org": "",
    "erin@example.org": "",
    # 1 KiB of quota: the 4 KiB message does not fit, so Dovecot refuses it after the data.
    "frank@example.org": "userdb_quota_rule=*:storage=1K",
}


@pytest.fixture
def dovecot(tmp_path):
    server = Dovecot(free_port(), USERS)
    yield server
    server.remove(keep_log_in=tmp_path)


def lmtp_config(route, **local):
    return {
        "local": {"domains": ["localhost", "example.org"],
                  "users": ["alice", "carol", "erin", "frank", "dave"],
                  "lmtp": [f"example.org = {route}"], **local},
        "queue": {"retry_schedule": ["1s"], "delay_warning": "0"},
    }


def transaction(t, recipients):
    """One transaction from alice@localhost; recipients are (address, RCPT parameters)."""
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<alice@localhost>").code == 250
        for address, params in recipients:
            r = d.cmd(f"RCPT TO:<{address}>{params}")
            assert r.code == 250, r
        assert d.cmd("DATA").code == 354
        d.send(BODY + b".\r\n")
        final = d.read_reply()
        assert final.code == 250, final
        d.cmd("QUIT")


def test_each_recipient_gets_its_own_outcome(tern_factory, tern_binary, dovecot):
    dovecot.start()
    t = tern_factory(lmtp_config(f"unix:{dovecot.socket_path}"), binary=tern_binary)
    transaction(t, [("carol@example.org", " NOTIFY=SUCCESS,FAILURE"),
                    ("frank@example.org", ""),
                    ("dave@example.org", ""),  # a Tern user, but Dovecot does not know him
                    ("alice@localhost", "")])
    t.wait_for_empty_queue(timeout=20)

    # carol: in Dovecot's mail store, with the Return-Path and Received fields Dovecot adds.
    [stored] = dovecot.messages("carol@example.org")
    data = stored.read_bytes()
    assert b"Return-Path: <alice@localhost>" in data
    assert b"with LMTP" in data  # Dovecot's Received field
    assert b"Subject: lmtp test" in data
    assert data.count(b"Hello through LMTP.") == 200
    assert dovecot.messages("frank@example.org") == []
    assert dovecot.messages("dave@example.org") == []
    # alice@localhost stays a Maildir domain: her copy is in Tern's own store, with two notices.
    files = [f.read_bytes() for f in t.messages("alice")]
    copies = [f for f in files if b"multipart/report" not in f]
    assert len(copies) == 1 and b"Subject: lmtp test" in copies[0], files
    notices = [Notice(f) for f in files if b"multipart/report" in f]
    failures = [n for n in notices if n.recipients[0]["Action"] == "failed"]
    successes = [n for n in notices if n.recipients[0]["Action"] == "delivered"]
    assert len(failures) == 1 and len(successes) == 1, [n.text for n in notices]
    frank = failures[0].recipient("frank@example.org")
    assert frank["Status"] == "5.2.2", str(frank)
    assert re.match(r"smtp; 552 5\.2\.2 <frank@example\.org> Quota exceeded", frank["Diagnostic-Code"]), str(frank)
    assert frank["Remote-MTA"] is None  # the LMTP server is the final delivery agent here
    dave = failures[0].recipient("dave@example.org")
    assert dave["Status"] == "5.1.1", str(dave)
    assert "User doesn't exist" in dave["Diagnostic-Code"], str(dave)
    # RFC 3461 6.2: put in the mailbox by the LMTP server: "delivered", not "relayed".
    carol = successes[0].recipient("carol@example.org")
    assert carol["Status"].startswith("2."), str(carol)
    assert carol["Remote-MTA"] is None

    # /metrics counts them under the lmtp transport, the server as the site.
    site = f"lmtp:unix:{dovecot.socket_path}"
    samples = scrape(t)
    assert value(samples, "tern_deliveries_total", transport="lmtp", site=site,
                 status="delivered") == 1, samples
    assert value(samples, "tern_deliveries_total", transport="lmtp", site=site,
                 status="bounced") == 2, samples
    assert value(samples, "tern_deliveries_total", transport="local", site="local",
                 status="delivered") >= 1, samples

    # The log names the LMTP server as the relay of each delivery.
    log = t.log_text()
    assert re.search(r"delivery .*to=carol@example\.org relay=lmtp:unix:/\S+ status=delivered", log), log[-3000:]


def test_tcp_server_down_then_up(tern_factory, dovecot):
    t = tern_factory(lmtp_config(f"[127.0.0.1]:{dovecot.port}"))
    transaction(t, [("carol@example.org", ""), ("erin@example.org", "")])
    # Nobody listens yet: deferred with Tern's account of the connection, retried every second.
    [qid] = t.wait_for_queue(lambda q: len(q) == 1, "the queued message")
    t.wait_for_attempts(qid, "carol@example.org", 1)
    state = t.recipient_states(qid)["carol@example.org"]
    assert state["status"] == "deferred", state
    assert "connect to lmtp:[127.0.0.1]:%d" % dovecot.port in state["last_reply"], state
    assert state["last_reply"].startswith("451 4.4.1"), state

    dovecot.start()
    t.wait_for_empty_queue(timeout=20)
    assert len(dovecot.messages("carol@example.org")) == 1
    assert len(dovecot.messages("erin@example.org")) == 1


def test_utf8_header_fields_with_smtputf8_reach_a_server_without_it(tern_factory, dovecot):
    # Dovecot 2.3 does not offer SMTPUTF8; the envelope here is ASCII, so the message goes
    # without the parameter and its UTF-8 header fields are stored as they are (RFC 6531 matters
    # for the addresses only).
    dovecot.start()
    t = tern_factory(lmtp_config(f"unix:{dovecot.socket_path}"))
    subject = "Grüße aus Köln".encode()
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<alice@localhost> SMTPUTF8").code == 250
        assert d.cmd("RCPT TO:<carol@example.org>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(b"From: alice@localhost\r\nSubject: " + subject + b"\r\n\r\nHallo.\r\n.\r\n")
        assert d.read_reply().code == 250
        d.cmd("QUIT")
    t.wait_for_empty_queue(timeout=20)
    [stored] = dovecot.messages("carol@example.org")
    assert b"Subject: " + subject in stored.read_bytes()
    assert t.messages("alice") == []  # no notice


def test_bad_lmtp_settings_are_refused(tmp_path):
    def check(lines):
        path = tmp_path / "tern.toml"
        path.write_text(f'[server]\ndata_dir = "{tmp_path}/data"\n[local]\n'
                        f'domains = ["localhost", "example.org"]\nlmtp = [{lines}]\n')
        return subprocess.run([TERN_BIN, "check-config", str(path)], capture_output=True,
                              text=True, timeout=CLI_TIMEOUT)

    bad_server = check('"example.org = unix:relative/path"')
    assert bad_server.returncode != 0
    assert "is not an LMTP server" in bad_server.stderr + bad_server.stdout
    not_local = check('"example.net = [127.0.0.1]:24"')
    assert not_local.returncode != 0
    assert "local.lmtp: example.net is not one of local.domains" in not_local.stderr + not_local.stdout
    twice = check('"example.org = unix:/run/dovecot/lmtp", "Example.ORG = [::1]:24"')
    assert twice.returncode != 0
    assert "local.lmtp: example.org is given twice" in twice.stderr + twice.stdout
    too_long = check(f'"example.org = unix:/{"x" * 120}"')
    assert too_long.returncode != 0 and "is not an LMTP server" in too_long.stderr + too_long.stdout
    good = check('"example.org = unix:/run/dovecot/lmtp", "* = [::1]:24"')
    assert good.returncode == 0, good.stderr


class FakeLmtp:
    """A scripted LMTP server that records each transaction's recipients. half=True: it answers
    only the first recipient after the data and then drops the connection, as a crashing
    delivery agent would; else it answers each one and takes the next transaction."""

    def __init__(self, port, half=False):
        self.half = half
        self.sock = socket.create_server(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.transactions = []
        self.connections = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(5)
                with conn.makefile("rb") as f:
                    try:
                        self._talk(conn, f)
                    except OSError:
                        pass
                try:
                    conn.shutdown(socket.SHUT_RDWR)  # closed at once, as a crashed agent's is
                except OSError:
                    pass

    def _talk(self, conn, f):
        conn.sendall(b"220 half LMTP\r\n")
        rcpts = []
        while line := f.readline():
            verb = line[:4].upper()
            if verb == b"LHLO":
                conn.sendall(b"250-half\r\n250 ENHANCEDSTATUSCODES\r\n")
            elif verb == b"MAIL":
                conn.sendall(b"250 2.1.0 ok\r\n")
            elif verb == b"RCPT":
                rcpts.append(line.split(b"<")[1].split(b">")[0].decode())
                conn.sendall(b"250 2.1.5 ok\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go\r\n")
                while f.readline() not in (b".\r\n", b""):
                    pass
                self.transactions.append(rcpts)
                if self.half:
                    conn.sendall(f"250 2.0.0 <{rcpts[0]}> saved\r\n".encode())
                    return  # the other recipients never get their reply
                conn.sendall("".join(f"250 2.0.0 <{r}> saved\r\n" for r in rcpts).encode())
                rcpts = []
            else:
                conn.sendall(b"221 bye\r\n")
                return

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.sock.close()


def test_connection_lost_between_replies_keeps_the_answered_and_retries_the_rest(tern_factory):
    port = free_port()
    server = FakeLmtp(port, half=True)
    try:
        t = tern_factory(lmtp_config(f"[127.0.0.1]:{port}"))
        transaction(t, [("carol@example.org", ""), ("erin@example.org", "")])
        t.wait_for_empty_queue(timeout=20)
        # carol's own reply came before the break: delivered, and never sent again. erin's never
        # came: deferred with Tern's account, then sent alone (and answered) on the retry.
        assert server.transactions == [["carol@example.org", "erin@example.org"],
                                       ["erin@example.org"]], server.transactions
        log = t.log_lines()
        carol = [l for l in log if " delivery " in l and "to=carol@example.org" in l]
        erin = [l for l in log if " delivery " in l and "to=erin@example.org" in l]
        assert len(carol) == 1 and "status=delivered" in carol[0], carol
        assert "<carol@example.org> saved" in carol[0], carol
        assert len(erin) == 2, erin
        assert "status=deferred" in erin[0] and "lost connection with lmtp:[127.0.0.1]" in erin[0], erin
        assert "status=delivered" in erin[1] and "<erin@example.org> saved" in erin[1], erin
    finally:
        server.stop()


def test_recipients_per_transaction(tern_factory):
    port = free_port()
    server = FakeLmtp(port)
    try:
        t = tern_factory(lmtp_config(f"[127.0.0.1]:{port}", lmtp_recipients_per_transaction=2))
        transaction(t, [("carol@example.org", ""), ("erin@example.org", ""),
                        ("frank@example.org", "")])
        t.wait_for_empty_queue(timeout=20)
        # Two transactions on one connection: two recipients, then the third.
        assert server.transactions == [["carol@example.org", "erin@example.org"],
                                       ["frank@example.org"]], server.transactions
        assert server.connections == 1
    finally:
        server.stop()
