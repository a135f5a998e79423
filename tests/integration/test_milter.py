# Milters in the running daemon (docs/filters.md): a real libmilter filter (python3-milter,
# tests/integration/peers/milter_peer.py) answers each action Tern supports and records the
# macros and header fields it was given; hostile filters written with plain sockets (silence,
# garbage, a frame over the limit, a close in the middle of the message, nothing listening) get
# the default action, tempfail or accept, and the daemon goes on serving.
import json
import os
import re
import signal
import smtplib
import socket
import ssl
import struct
import threading
import time
import zlib

import pytest

from conftest import HOSTNAME, free_port, queue_id
from peers import PYTHON, HERE, Process, SmtpSink, listening, wait_until
from peers.rspamd import RSPAMD, Rspamd

pytest.importorskip("Milter")

MESSAGE = (b"From: Sender <sender@example.org>\r\n"
           b"To: Alice <alice@localhost>\r\n"
           b"Subject: Original subject\r\n"
           b"X-Remove-Me: please\r\n"
           b"Message-ID: <milter.1@example.org>\r\n"
           b"\r\n"
           b"Hello Alice,\r\nthis passes a milter.\r\n")


class MilterPeer:
    """milter_peer.py on a loopback port, answering as `mode` says; stopped by its own pid."""

    def __init__(self, workdir, mode):
        self.port = free_port()
        self.record = workdir / f"milter-{mode}.json"
        self.process = Process([PYTHON, str(HERE / "milter_peer.py"), str(self.port), mode,
                                str(self.record)], workdir / f"milter-{mode}.log")
        self.process.wait_ready(lambda: listening(self.port), "the milter peer")

    def seen(self):
        wait_until(lambda: self.record.exists(), 10, "the milter's record")
        return json.loads(self.record.read_text())

    def stop(self):
        self.process.stop()


@pytest.fixture
def milter_peer(tmp_path):
    made = []

    def make(mode):
        peer = MilterPeer(tmp_path, mode)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.stop()


def milter_config(port, **extra):
    milter = {"mx": [f"inet:127.0.0.1:{port}"], "connect_timeout": "2s",
              "command_timeout": "1s", "end_timeout": "2s"}
    milter.update(extra)
    return {"milter": milter}


def send(tern, body=MESSAGE):
    return tern.send_message(body, sender="sender@example.org", recipients=("alice@localhost",))


def through(tern_factory, milter_peer, mode):
    """A daemon whose MX mail passes a milter_peer in `mode`, and its reply to MESSAGE."""
    peer = milter_peer(mode)
    t = tern_factory(milter_config(peer.port))
    return t, send(t)


def test_continue_delivers_and_the_filter_gets_macros_and_fields(tern_factory, milter_peer):
    peer = milter_peer("continue")
    t = tern_factory(milter_config(peer.port))
    reply = send(t)
    assert reply.code == 250, reply
    qid = queue_id(reply)
    delivered = t.wait_for_message("alice")
    assert b"Subject: Original subject" in delivered
    seen = peer.seen()
    macros = seen["macros"]
    assert macros["j"] == HOSTNAME
    assert macros["{daemon_name}"] == "tern-mx"
    assert macros["{client_addr}"] == "127.0.0.1"
    assert macros["i"] == qid
    assert macros["{mail_addr}"] == "sender@example.org"
    assert macros["{rcpt_addr}"] == "alice@localhost"
    assert "{tls_version}" not in macros  # a plain session
    assert seen["helo"] == "client.test"
    assert seen["from"] == "<sender@example.org>"
    assert seen["rcpt"] == ["<alice@localhost>"]
    names = [name for name, _ in seen["headers"]]
    assert names[0] == "Received"  # Tern's own, as delivery will show it
    assert names[1:] == ["From", "To", "Subject", "X-Remove-Me", "Message-ID"]
    assert ["Subject", "Original subject"] in seen["headers"]
    assert seen["body"] == len(b"Hello Alice,\r\nthis passes a milter.\r\n")


def test_tls_version_macro_under_starttls(tern_factory, milter_peer):
    peer = milter_peer("continue")
    t = tern_factory(milter_config(peer.port))
    with smtplib.SMTP("127.0.0.1", t.port, local_hostname="client.test", timeout=10) as c:
        c.starttls(context=ssl._create_unverified_context())
        c.sendmail("sender@example.org", ["alice@localhost"], MESSAGE)
    t.wait_for_message("alice")
    assert peer.seen()["macros"]["{tls_version}"].startswith("TLSv1.")


@pytest.mark.parametrize("mode, wire", [
    ("reject", "550 5.7.1 Message content rejected"),
    ("tempfail", "451 4.7.1 Service unavailable - try again later"),
    ("reply", "554 5.7.0 Custom refusal from the filter"),
    ("reply4", "453 4.7.0 Come back later says the filter"),
])
def test_refusals_reach_the_client(tern_factory, milter_peer, mode, wire):
    t, reply = through(tern_factory, milter_peer, mode)
    assert reply.text == wire
    t.wait_for_log(r"message_refused.*milter inet:127\.0\.0\.1")
    assert t.queued() == {}
    assert t.messages("alice") == []


def test_a_recipient_refused_after_the_dot_cannot_be_dropped(tern_factory, milter_peer):
    peer = milter_peer("refuse-bob")
    t = tern_factory(milter_config(peer.port))
    both = t.send_message(MESSAGE, recipients=("alice@localhost", "bob@localhost"))
    assert both.code == 250, both
    t.wait_for_message("alice")
    t.wait_for_message("bob")
    t.wait_for_log(r"milter_ignored.*refuse one recipient")
    only_bob = t.send_message(MESSAGE, recipients=("bob@localhost",))
    assert only_bob.text == "550 5.7.1 Message content rejected"


def test_discard_accepts_and_drops(tern_factory, milter_peer):
    t, reply = through(tern_factory, milter_peer, "discard")
    assert reply.code == 250, reply
    t.wait_for_log(r"discarded.*milter discard")
    assert t.queued() == {}
    assert t.messages("alice") == []


def test_quarantine_holds_the_message(tern_factory, milter_peer):
    t, reply = through(tern_factory, milter_peer, "quarantine")
    assert reply.code == 250, reply
    qid = queue_id(reply)
    queued = t.queued()
    assert queued[qid]["held"] is True
    t.wait_for_log(r"held.*looks suspicious")
    assert t.messages("alice") == []


def test_header_edits_reach_the_delivered_message(tern_factory, milter_peer):
    t, reply = through(tern_factory, milter_peer, "headers")
    assert reply.code == 250, reply
    data = t.wait_for_message("alice").decode()
    header = data.split("\n\n", 1)[0].split("\n")
    # Delivery prepends Return-Path and Delivered-To; the section as the filter left it follows:
    # insheader at index 0 goes above Tern's Received field, the first field the filter saw.
    assert header[0].startswith("Return-Path: ")
    assert header[1].startswith("Delivered-To: ")
    assert header[2] == "X-Milter-Top: inserted on top"
    assert header[3].startswith("Received: ")
    assert header[-1] == "X-Milter-Added: appended at the end"
    assert "Subject: Changed by the filter" in header
    assert not any(line.startswith("Subject: Original") for line in header)
    assert not any(line.startswith("X-Remove-Me") for line in header)
    assert data.endswith("Hello Alice,\nthis passes a milter.\n")


# --- envelope and body changes ----------------------------------------------------------------

def header_and_body(data):
    """The delivered header lines and body (Maildir form: LF line ends)."""
    head, body = data.decode().split("\n\n", 1)
    return head.split("\n"), body


def smarthost_tern(tern_factory, milter_peer, mode, port, **milter):
    """A daemon whose MX mail passes `mode` and whose remote mail goes to 127.0.0.1:port."""
    peer = milter_peer(mode)
    config = milter_config(peer.port, **milter)
    config["relay"] = {"smarthost": f"[127.0.0.1]:{port}", "connect_timeout": "3s",
                       "trusted_networks": ["127.0.0.1/32"]}
    return tern_factory(config)


@pytest.fixture
def sink(tmp_path):
    """Postfix's smtp-sink on loopback: it records MAIL and RCPT with their parameters."""
    s = SmtpSink(tmp_path, "127.0.0.1", free_port())
    yield s
    s.stop()


def test_chgfrom_changes_the_envelope_sender(tern_factory, milter_peer):
    t, reply = through(tern_factory, milter_peer, "chgfrom")
    assert reply.code == 250, reply
    header, _ = header_and_body(t.wait_for_message("alice"))
    assert header[0] == "Return-Path: <changed@example.net>"
    line = t.wait_for_log(r"envelope_changed .*action=sender")
    assert "result=changed" in line and "changed@example.net" in line, line
    assert "from=<changed@example.net>" in t.wait_for_log(r"info message ")


def test_chgfrom_with_dsn_arguments_reaches_the_next_hop(tern_factory, milter_peer, sink):
    t = smarthost_tern(tern_factory, milter_peer, "chgfrom-args", sink.port)
    reply = t.send_message(MESSAGE, recipients=("carol@remote.test",))
    assert reply.code == 250, reply
    dump, = sink.wait_for_messages(1)
    text = dump.decode("utf-8", "replace")
    assert re.search(r"X-Mail-Args: <changed@example\.net>.* RET=HDRS", text), text
    assert re.search(r"X-Mail-Args: .*ENVID=milter-envid", text), text
    assert re.search(r"X-Rcpt-Args: <carol@remote\.test>", text), text


def test_addrcpt_of_a_local_mailbox(tern_factory, milter_peer):
    t, reply = through(tern_factory, milter_peer, "addrcpt-local")
    assert reply.code == 250, reply
    alice = t.wait_for_message("alice")
    bob = t.wait_for_message("bob")
    assert header_and_body(bob)[1] == header_and_body(alice)[1]
    line = t.wait_for_log(r"envelope_changed .*action=add")
    assert "bob@localhost" in line and "result=added" in line, line


def test_addrcpt_of_a_remote_address_is_relayed(tern_factory, milter_peer, peers):
    port = free_port()
    relay = peers("127.0.0.1", port)
    t = smarthost_tern(tern_factory, milter_peer, "addrcpt-remote", port)
    # Not a client that may relay: the filter's recipient is trusted all the same (as Postfix).
    with t.dialog(source="127.0.0.9") as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<carol@remote.test>").code == 554
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(MESSAGE + b".\r\n")
        assert d.read_reply().code == 250
    t.wait_for_message("alice")
    (env, data), = relay.wait_for_messages(1)
    assert env["mail_from"] == "sender@example.org"
    assert env["rcpt_tos"] == ["carol@remote.test"]
    assert data.endswith(b"Hello Alice,\r\nthis passes a milter.\r\n")


def test_addrcpt_par_carries_notify_and_orcpt(tern_factory, milter_peer, sink):
    t = smarthost_tern(tern_factory, milter_peer, "addrcpt-par", sink.port)
    assert send(t).code == 250
    t.wait_for_message("alice")
    dump, = sink.wait_for_messages(1)
    text = dump.decode("utf-8", "replace")
    assert re.search(r"X-Rcpt-Args: <carol@remote\.test>.*NOTIFY=NEVER", text), text
    assert re.search(r"X-Rcpt-Args: .*ORCPT=rfc822;first@remote\.test", text), text


def test_invalid_added_recipients_are_logged_and_skipped(tern_factory, milter_peer):
    t, reply = through(tern_factory, milter_peer, "addrcpt-invalid")
    assert reply.code == 250, reply
    t.wait_for_message("alice")
    t.wait_for_message("bob")
    assert t.messages("nosuchuser") == []
    assert "result=invalid" in t.wait_for_log(r"envelope_changed .*nosuchuser@localhost")
    assert "result=invalid" in t.wait_for_log(r"envelope_changed .*not an address")


def test_delrcpt_of_one_recipient(tern_factory, milter_peer):
    peer = milter_peer("delrcpt-bob")
    t = tern_factory(milter_config(peer.port))
    reply = t.send_message(MESSAGE, recipients=("alice@localhost", "bob@localhost"))
    assert reply.code == 250, reply
    t.wait_for_message("alice")
    assert "result=deleted" in t.wait_for_log(r"envelope_changed .*action=delete")
    assert_nothing_delivered_to(t, "bob")


def assert_nothing_delivered_to(t, user):
    t.wait_for_empty_queue()
    assert t.messages(user) == []


def test_delrcpt_of_every_recipient_discards(tern_factory, milter_peer):
    peer = milter_peer("delrcpt-all")
    t = tern_factory(milter_config(peer.port))
    reply = t.send_message(MESSAGE, recipients=("alice@localhost", "bob@localhost"))
    assert reply.code == 250, reply
    line = t.wait_for_log(r"discarded ")
    assert "every recipient deleted" in line and queue_id(reply) in line, line
    assert t.queued() == {}
    assert t.messages("alice") == [] and t.messages("bob") == []


def test_replbody_replaces_the_body(tern_factory, milter_peer):
    t, reply = through(tern_factory, milter_peer, "replbody")
    assert reply.code == 250, reply
    header, body = header_and_body(t.wait_for_message("alice"))
    # Bare LF from the filter becomes a line end like any other.
    assert body == "Replaced by the filter.\nSecond line.\n"
    assert "Subject: Original subject" in header
    qid = queue_id(reply)
    assert f"id={qid}" in t.wait_for_log(r"milter_body ")


def test_replbody_over_several_chunks(tern_factory, milter_peer):
    t, reply = through(tern_factory, milter_peer, "replbody-large")
    assert reply.code == 250, reply
    _, body = header_and_body(t.wait_for_message("alice"))
    want = "".join("%d-%05d %s\n" % (n, i, "x" * 60) for n in range(3) for i in range(1200))
    assert len(want) > 3 * 65535
    assert body == want


def test_replbody_and_header_edits_together(tern_factory, milter_peer):
    t, reply = through(tern_factory, milter_peer, "replbody-headers")
    assert reply.code == 250, reply
    header, body = header_and_body(t.wait_for_message("alice"))
    assert body == "A new body.\n"
    assert "Subject: Changed by the filter" in header
    assert header[-1] == "X-Milter-Added: appended at the end"


@pytest.mark.parametrize("action, code", [("tempfail", 451), ("accept", 250)])
def test_a_replacement_body_over_the_limit_gets_the_default_action(tern_factory, milter_peer,
                                                                   action, code):
    peer = milter_peer("replbody-huge")
    t = tern_factory(milter_config(peer.port, max_body="1k", default_action=action))
    reply = send(t)
    assert reply.code == code, reply
    line = t.wait_for_log(r"milter_failed")
    assert "replacement body over the limit of 1024 octets" in line, line
    if action == "accept":
        _, body = header_and_body(t.wait_for_message("alice"))
        assert body == "Hello Alice,\nthis passes a milter.\n"  # as if the milter were not there
    else:
        assert t.queued() == {}


def test_a_chain_sees_the_earlier_milters_changes(tern_factory, milter_peer):
    first = milter_peer("everything")
    second = milter_peer("continue")
    t = tern_factory({"milter": {"mx": [f"inet:127.0.0.1:{first.port}",
                                        f"inet:127.0.0.1:{second.port}"]}})
    assert send(t).code == 250
    for user in ("alice", "bob"):
        header, body = header_and_body(t.wait_for_message(user))
        assert header[0] == "Return-Path: <changed@example.net>"
        assert "Subject: Changed by the filter" in header  # the header edit kept with the rest
        assert body == "Body from the first filter.\n"
    seen = second.seen()
    assert seen["from"] == "<changed@example.net>"
    assert seen["rcpt"] == ["<alice@localhost>", "<bob@localhost>"]
    assert seen["body_text"] == "Body from the first filter.\r\n"
    assert ["Subject", "Changed by the filter"] in seen["headers"]


def test_changes_survive_a_restart(tern_factory, milter_peer):
    # Held with its changes (spool format 3), the daemon restarted: recovery reads them back.
    t, reply = through(tern_factory, milter_peer, "everything-held")
    assert reply.code == 250, reply
    qid = queue_id(reply)
    assert t.queued()[qid]["held"] is True
    t.restart()
    assert t.queue("release", qid).returncode == 0
    for user in ("alice", "bob"):
        _, body = header_and_body(t.wait_for_message(user))
        assert body == "Body from the first filter.\n"


def spool_file_of_format_2(qid):
    """A message file as Tern wrote it before format 3: envelope, text, a header edit, trailer."""
    envelope = (b"TERN-SPOOL 1\nid " + qid.encode() + b"\narrival 1795588117\n"
                b"sender old+2Dformat@example.org\nbody -\nsmtputf8 0\nrequiretls 0\nret -\n"
                b"envid -\nclient_ip 127.0.0.1\nclient_name -\nhelo client.test\n"
                b"auth_user -\nprotocol ESMTP\n"
                b"rcpt alice@localhost alice@localhost - -\nend\n")
    text = b"Subject: from before the upgrade\r\n\r\nStill here.\r\n"
    edits = b"TERN-EDITS 1\ndelta 15\np X-Old:+20edited+0D+0A\nend\n"
    crc = zlib.crc32(envelope + text + edits)
    trailer = b"TERNEND2" + struct.pack("<QQQI", len(envelope), len(text), len(edits), crc)
    trailer += struct.pack("<I", zlib.crc32(trailer))
    return envelope + text + edits + trailer


def test_a_spool_file_of_the_earlier_format_still_delivers(tern_factory, milter_peer):
    peer = milter_peer("continue")
    t = tern_factory(milter_config(peer.port), start=False)
    qid = "0RXS2M8Q4C8N0001"
    msg = t.data_dir / "spool" / "msg"
    msg.mkdir(parents=True)
    (msg / qid).write_bytes(spool_file_of_format_2(qid))
    os.chmod(msg / qid, 0o700)  # the commit mark
    t.start()
    header, body = header_and_body(t.wait_for_message("alice"))
    assert header[0] == "Return-Path: <old-format@example.org>"
    assert "X-Old: edited" in header
    assert body == "Still here.\n"


# --- hostile filters ---------------------------------------------------------------------------

def frame(command, data=b""):
    return struct.pack(">I", len(data) + 1) + command + data


class HostileMilter:
    """A plain-socket filter on a loopback port: it negotiates, answers "continue", and at the
    step `at` (a command letter) misbehaves as `how` says: "hang", "garbage", "oversize",
    "close". Serves connections until stopped."""

    def __init__(self, how, at=b"O"):
        self.how = how
        self.at = at
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.reached = threading.Event()  # a connection got to the step `at`
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.talk, args=(conn,), daemon=True).start()

    def read_exact(self, conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def talk(self, conn):
        with conn:
            try:
                while True:
                    length = struct.unpack(">I", self.read_exact(conn, 4))[0]
                    data = self.read_exact(conn, length)
                    command = data[:1]
                    if command == self.at:
                        self.reached.set()
                        if self.how == "hang":
                            self.stopping.wait(30)
                        elif self.how == "garbage":
                            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                            self.stopping.wait(30)
                        elif self.how == "oversize":
                            conn.sendall(struct.pack(">I", 64 << 20) + b"b" + b"x" * 1000)
                            self.stopping.wait(30)
                        return  # "close", or after the misdeed
                    if command == b"O":
                        conn.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0)))
                    elif command == b"D":
                        pass  # macros get no answer
                    elif command == b"Q":
                        return
                    else:
                        conn.sendall(frame(b"c"))
            except (ConnectionError, OSError):
                return

    def stop(self):
        self.stopping.set()
        self.listener.close()


@pytest.fixture
def hostile():
    made = []

    def make(how, at=b"O"):
        m = HostileMilter(how, at)
        made.append(m)
        return m

    yield make
    for m in made:
        m.stop()


TEMPFAIL = "451 4.7.1 Service unavailable - try again later"


@pytest.mark.parametrize("how, at", [
    ("hang", b"O"),         # silent from the start: the connect timeout
    ("hang", b"E"),         # silent at the end of the message: the end timeout
    ("garbage", b"H"),
    ("oversize", b"E"),
    ("close", b"B"),        # gone in the middle of the body
    ("close", b"O"),
])
def test_hostile_filters_get_the_default_action(tern_factory, hostile, how, at):
    peer = hostile(how, at)
    t = tern_factory(milter_config(peer.port))
    reply = send(t)
    assert reply.text == TEMPFAIL
    t.wait_for_log(r"milter_failed.*action=tempfail|milter_failed.*\"action\":\"tempfail\"")
    assert t.queued() == {}
    # The daemon is still there, and accept as the milter's own default lets mail through.
    t2 = tern_factory(milter_config(peer.port, default_action="accept"))
    assert send(t2).code == 250
    t2.wait_for_message("alice")


def test_shutdown_does_not_wait_for_a_silent_filter(tern_factory, hostile):
    peer = hostile("hang", b"E")
    t = tern_factory(milter_config(peer.port, end_timeout="60s"))
    replies = []

    def client():
        with t.dialog() as d:
            d.ehlo()
            assert d.cmd(b"MAIL FROM:<sender@example.org>").code == 250
            assert d.cmd(b"RCPT TO:<alice@localhost>").code == 250
            assert d.cmd(b"DATA").code == 354
            d.send(MESSAGE + b".\r\n")
            try:
                replies.append(d.read_reply(timeout=30))
            except Exception as e:  # the daemon may close the connection instead
                replies.append(e)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    assert peer.reached.wait(10), t.log_text()
    started = time.monotonic()
    t.signal(signal.SIGTERM)
    assert t.wait(30) == 0
    # shutdown_grace is 1 s here; then the milter conversation is ended, not waited for.
    assert time.monotonic() - started < 10, t.log_text()
    assert "shutting down" in t.wait_for_log(r"milter_failed")
    thread.join(10)
    # Never accepted: the client keeps the message (451 or the connection closed).
    assert replies and not (hasattr(replies[0], "code") and replies[0].code == 250), replies
    assert t.messages("alice") == []


def test_unreachable_filter(tern_factory):
    port = free_port()  # nothing listens there
    t = tern_factory({"milter": {"mx": [f"inet:127.0.0.1:{port}"]}})
    assert send(t).text == TEMPFAIL
    t2 = tern_factory({"milter": {"mx": [f"inet:127.0.0.1:{port} default_action=accept"]}})
    assert send(t2).code == 250


def test_oversize_frame_is_refused_before_it_is_read(tern_factory, hostile):
    peer = hostile("oversize", b"E")
    t = tern_factory(milter_config(peer.port))
    assert send(t).code == 451
    line = t.wait_for_log(r"milter_failed")
    assert "over the limit of 1048576" in line, line


def test_a_chain_of_milters_runs_in_order(tern_factory, milter_peer):
    first = milter_peer("headers")
    second = milter_peer("continue")
    t = tern_factory({"milter": {"mx": [f"inet:127.0.0.1:{first.port}",
                                        f"inet:127.0.0.1:{second.port}"]}})
    assert send(t).code == 250
    t.wait_for_message("alice")
    # The second filter saw the first one's edits.
    headers = second.seen()["headers"]
    assert ["Subject", "Changed by the filter"] in headers
    assert headers[0] == ["X-Milter-Top", "inserted on top"]
    assert headers[-1] == ["X-Milter-Added", "appended at the end"]


# --- rspamd ------------------------------------------------------------------------------------

@pytest.fixture
def rspamd(tmp_path):
    if not os.access(RSPAMD, os.X_OK):
        pytest.skip("rspamd is not installed (scripts/install-deps.sh test)")
    r = Rspamd(tmp_path)
    yield r
    r.stop()


def test_rspamd_scans_and_adds_its_headers(tern_factory, rspamd):
    # rspamd may still be compiling its rules at first: the end-of-message timeout allows that.
    t = tern_factory({"milter": {"mx": [f"inet:127.0.0.1:{rspamd.port}"],
                                 "end_timeout": "60s"}})
    reply = send(t)
    assert reply.code == 250, f"{reply}\n{t.log_text()}\n{rspamd.log()[-3000:]}"
    data = t.wait_for_message("alice", timeout=10).decode()
    header = data.split("\n\n", 1)[0]
    assert "X-Spamd-Result: default: False" in header, header
    assert "X-Rspamd-Server: " in header, header
    assert "X-Rspamd-Queue-Id: " in header, header
    assert "Subject: Original subject" in header


GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def test_rspamd_rejects_gtube_with_its_own_reply(tern_factory, rspamd):
    t = tern_factory({"milter": {"mx": [f"inet:127.0.0.1:{rspamd.port}"],
                                 "end_timeout": "60s"}})
    spam = MESSAGE.replace(b"this passes a milter.\r\n", GTUBE + b"\r\n")
    reply = send(t, spam)
    # rspamd answers a reject with a reply code of its own (SMFIR_REPLYCODE), passed on as is.
    assert reply.code == 554 and reply.status == "5.7.1", f"{reply}\n{rspamd.log()[-2000:]}"
    t.wait_for_log(r"message_refused.*milter reply")
    assert t.messages("alice") == []
