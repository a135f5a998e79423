# End-to-end delivery: mail sent with smtplib, swaks and raw sockets (pipelining, BDAT, 8BITMIME,
# SMTPUTF8, dot-stuffing) must land in the Maildir byte for byte (with LF line ends) under Tern's
# trace headers, in files a real mail reader (s-nail) reads.
import os
import re
import subprocess

from conftest import HOSTNAME, maildir_form, queue_id, split_trace

SWAKS_TIMEOUT = 30


def swaks(tern, *args):
    proc = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{tern.port}", "--timeout", "10", *args],
        capture_output=True, timeout=SWAKS_TIMEOUT)
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, out
    return out


def assert_received(fields, qid, protocol="ESMTP"):
    received = fields["Received"]
    assert re.search(rf"\bby {re.escape(HOSTNAME)} \(Tern\) with {protocol} id {qid}\b", received), received
    assert "[127.0.0.1]" in received, received


def test_smtplib_send_lands_in_maildir(any_tern):
    body = b"Subject: plain\r\nFrom: sender@example.org\r\n\r\nHello, world.\r\n"
    with any_tern.smtp() as s:
        assert s.ehlo()[0] == 250
        assert s.mail("sender@example.org") == (250, b"2.1.0 Sender ok")
        assert s.rcpt("postmaster@localhost") == (250, b"2.1.5 Recipient ok")
        code, text = s.data(body)
        assert code == 250 and text.startswith(b"2.0.0 Ok: queued as "), text
    qid = queue_id(text.decode())
    fields, message = split_trace(any_tern.wait_for_message("postmaster"))
    assert fields["Return-Path"] == "<sender@example.org>"
    assert fields["Delivered-To"] == "postmaster@localhost"
    assert_received(fields, qid)
    assert "for <postmaster@localhost>" in fields["Received"]
    assert message == b"Subject: plain\nFrom: sender@example.org\n\nHello, world.\n"


def test_swaks_send_lands_in_maildir(tern):
    out = swaks(tern, "--to", "postmaster@localhost", "--from", "swaks@example.org")
    m = re.search(r"<-  250 2\.0\.0 Ok: queued as (\S+)", out)
    assert m, out
    fields, message = split_trace(tern.wait_for_message("postmaster"))
    assert_received(fields, m.group(1))
    assert fields["Return-Path"] == "<swaks@example.org>"
    assert b"This is a test mailing" in message


def test_quick_start_minimal_config_delivers_to_postmaster(tern_factory, tmp_path):
    # Only a port and a data directory: everything else is the embedded default.
    t = tern_factory(config={"server": {"hostname": None, "shutdown_grace": None}, "local": {"users": None}})
    assert set(t.config["server"]) == {"data_dir"} and t.config["local"] == {}
    swaks(t, "--to", "postmaster@localhost")
    files = t.wait_for_messages("postmaster")
    assert files[0].parent == t.data_dir / "mail" / "postmaster" / "Maildir" / "new"


def test_pipelined_commands_in_one_packet(any_tern):
    with any_tern.dialog() as d:
        d.send(b"EHLO client.test\r\n"
               b"MAIL FROM:<sender@example.org>\r\n"
               b"RCPT TO:<alice@localhost>\r\n"
               b"RCPT TO:<nobody@localhost>\r\n"
               b"RCPT TO:<bob@localhost>\r\n"
               b"DATA\r\n")
        ehlo, mail, r1, r2, r3, data = d.read_replies(6)
        assert ehlo.code == 250 and "PIPELINING" in ehlo.text
        assert (mail.code, mail.status) == (250, "2.1.0")
        assert (r1.code, r1.status) == (250, "2.1.5")
        assert (r2.code, r2.status) == (550, "5.1.1")
        assert (r3.code, r3.status) == (250, "2.1.5")
        assert data.code == 354
        # The end of one message, a whole second transaction and QUIT in one packet.
        d.send(b"Subject: one\r\n\r\nfirst\r\n.\r\n"
               b"MAIL FROM:<other@example.org>\r\n"
               b"RCPT TO:<alice@localhost>\r\n"
               b"DATA\r\n")
        q1, mail2, rcpt2, data2 = d.read_replies(4)
        assert (q1.code, q1.status) == (250, "2.0.0")
        assert (mail2.code, rcpt2.code, data2.code) == (250, 250, 354)
        d.send(b"Subject: two\r\n\r\nsecond\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n")
        q2, rset, noop, quit_ = d.read_replies(4)
        assert (q2.code, q2.status) == (250, "2.0.0")
        assert (rset.code, noop.code, quit_.code) == (250, 250, 221)
        d.expect_closed()
    alice = [split_trace(f.read_bytes()) for f in any_tern.wait_for_messages("alice", 2)]
    bob = any_tern.wait_for_messages("bob", 1)
    bodies = sorted(m for _, m in alice)
    assert bodies == [b"Subject: one\n\nfirst\n", b"Subject: two\n\nsecond\n"]
    assert split_trace(bob[0].read_bytes())[1] == b"Subject: one\n\nfirst\n"
    assert {queue_id(q1), queue_id(q2)} == {re.search(r" id (\w+)", f["Received"]).group(1) for f, _ in alice}


def test_whole_transaction_in_one_packet(tern):
    with tern.dialog() as d:
        d.send(b"EHLO client.test\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bob@localhost>\r\n"
               b"DATA\r\nSubject: burst\r\n\r\nall at once\r\n.\r\nQUIT\r\n")
        codes = [r.code for r in d.read_replies(6)]
        assert codes == [250, 250, 250, 354, 250, 221]
        d.expect_closed()
    assert split_trace(tern.wait_for_message("bob"))[1] == b"Subject: burst\n\nall at once\n"


def test_swaks_pipeline(tern):
    out = swaks(tern, "--pipeline", "--to", "alice@localhost", "--from", "pipe@example.org")
    assert "<-  250 2.0.0 Ok: queued as " in out, out
    # swaks sends MAIL, RCPT and DATA in one group.
    assert re.search(r" -> MAIL FROM:<pipe@example.org>\s+ -> RCPT TO:<alice@localhost>\s+ -> DATA", out), out
    tern.wait_for_message("alice")


def test_bdat_chunks_arrive_byte_exact(any_tern):
    # BDAT content is not dot-stuffed and may hold any octet but NUL (refused by default:
    # test_receive_defence.py); it must be stored as sent.
    chunks = [b"Subject: chunks\r\n\r\n", b".leading dot stays\r\n..two dots\r\n", b"\x01\xff binary \x80",
              b" line end\r\n", b".\r\n", b"last line\r\n"]
    with any_tern.dialog() as d:
        ehlo = d.ehlo()
        assert "CHUNKING" in ehlo.text
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        total = 0
        for chunk in chunks[:3]:
            total += len(chunk)
            d.send(b"BDAT %d\r\n" % len(chunk) + chunk)
            r = d.read_reply()
            assert (r.code, r.status) == (250, "2.0.0"), r
            assert f"{total} octets" in r.text
        # The remaining chunks pipelined in one packet, ending with an empty LAST chunk.
        d.send(b"".join(b"BDAT %d\r\n" % len(c) + c for c in chunks[3:]) + b"BDAT 0 LAST\r\n")
        replies = d.read_replies(len(chunks) - 3 + 1)
        assert [r.code for r in replies] == [250] * len(replies)
        final = replies[-1]
        assert final.status == "2.0.0" and "queued as" in final.text
        assert d.cmd("QUIT").code == 221
    fields, message = split_trace(any_tern.wait_for_message("alice"))
    assert_received(fields, queue_id(final))
    assert message == maildir_form(b"".join(chunks))


def test_bdat_last_with_data_and_next_transaction(tern):
    with tern.dialog() as d:
        d.ehlo()
        body = b"Subject: one chunk\r\n\r\nbody\r\n"
        d.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@localhost>\r\nBDAT %d LAST\r\n" % len(body) + body
               + b"MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@localhost>\r\nDATA\r\n")
        mail, rcpt, last, mail2, rcpt2, data = d.read_replies(6)
        assert (mail.code, rcpt.code, last.code) == (250, 250, 250) and "queued as" in last.text
        # After BDAT, DATA is fine in the next transaction.
        assert (mail2.code, rcpt2.code, data.code) == (250, 250, 354)
        d.send(b"Subject: data\r\n\r\nafter bdat\r\n.\r\n")
        assert d.read_reply().code == 250
    files = tern.wait_for_messages("bob", 2)
    bodies = sorted(split_trace(f.read_bytes())[1] for f in files)
    assert bodies == sorted([b"Subject: one chunk\n\nbody\n", b"Subject: data\n\nafter bdat\n"])


def test_dot_stuffing_is_undone(any_tern):
    sent = (b"Subject: dots\r\n\r\n"
            b"..single dot line follows\r\n"
            b"..\r\n"
            b"...two dots\r\n"
            b". space after dot\r\n"
            b"middle . dot\r\n"
            b"..\r\n")
    expected = (b"Subject: dots\n\n"
                b".single dot line follows\n"
                b".\n"
                b"..two dots\n"
                b" space after dot\n"
                b"middle . dot\n"
                b".\n")
    final = any_tern.send_message(sent, recipients=["bob@localhost"])
    assert (final.code, final.status) == (250, "2.0.0")
    assert split_trace(any_tern.wait_for_message("bob"))[1] == expected


def test_smtplib_dot_stuffing_round_trip(tern):
    body = b"Subject: smtplib dots\r\n\r\n.\r\n..\r\n.x\r\nend\r\n"
    with tern.smtp() as s:
        s.sendmail("a@example.org", ["alice@localhost"], body)
    assert split_trace(tern.wait_for_message("alice"))[1] == b"Subject: smtplib dots\n\n.\n..\n.x\nend\n"


def test_8bitmime_body_arrives_byte_exact(tern):
    # Every octet but CR and LF, Latin-1 text included, in a BODY=8BITMIME message.
    octets = bytes(b for b in range(1, 256) if b not in (0x0A, 0x0D))
    body = (b"Subject: 8bit\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n"
            b"caf\xe9 cr\xe8me br\xfbl\xe9e\r\n" + octets[:120] + b"\r\n" + octets[120:] + b"\r\n")
    final = tern.send_message(body, recipients=["alice@localhost"], mail_params=" BODY=8BITMIME")
    assert (final.code, final.status) == (250, "2.0.0")
    assert split_trace(tern.wait_for_message("alice"))[1] == maildir_form(body)


def test_smtputf8_alias_and_sender_arrive_byte_exact(tern_factory):
    t = tern_factory(aliases="jösé: alice\n")
    body = ("Subject: Grüße aus Köln\r\nFrom: Usér <usér@exämple.org>\r\nTo: jösé@localhost\r\n\r\n"
            "Ünïcödé body, 日本語.\r\n").encode()
    with t.dialog() as d:
        ehlo = d.ehlo()
        assert "SMTPUTF8" in ehlo.text and "8BITMIME" in ehlo.text
        r = d.cmd("MAIL FROM:<usér@exämple.org> SMTPUTF8 BODY=8BITMIME".encode())
        assert (r.code, r.status) == (250, "2.1.0"), r
        r = d.cmd("RCPT TO:<jösé@localhost>".encode())
        assert (r.code, r.status) == (250, "2.1.5"), r
        assert d.cmd("DATA").code == 354
        d.send(body + b".\r\n")
        final = d.read_reply()
        assert (final.code, final.status) == (250, "2.0.0"), final
    fields, message = split_trace(t.wait_for_message("alice"))
    assert message == maildir_form(body)
    assert fields["Return-Path"] == "<usér@exämple.org>"
    assert_received(fields, queue_id(final), protocol="UTF8SMTP")
    assert "for <jösé@localhost>" in fields["Received"]


def test_smtputf8_sender_to_postmaster(tern):
    body = "Subject: ✉\r\n\r\nnaïve\r\n".encode()
    final = tern.send_message(body, sender="ünï@exämple.org", mail_params=" SMTPUTF8")
    assert final.code == 250
    fields, message = split_trace(tern.wait_for_message("postmaster"))
    assert message == "Subject: ✉\n\nnaïve\n".encode() and fields["Return-Path"] == "<ünï@exämple.org>"


def test_utf8_address_without_smtputf8_is_refused(tern_factory):
    t = tern_factory(aliases="jösé: alice\n")
    with t.dialog() as d:
        d.ehlo()
        r = d.cmd("MAIL FROM:<usér@exämple.org>".encode())
        assert (r.code, r.status) == (553, "5.6.7"), r
        assert d.cmd("MAIL FROM:<ascii@example.org>").code == 250
        r = d.cmd("RCPT TO:<jösé@localhost>".encode())
        assert (r.code, r.status) == (553, "5.6.7"), r
        assert d.cmd("QUIT").code == 221


def s_nail(maildir, commands):
    """Runs Debian's s-nail in batch mode, read-only, on a Maildir, without any user or system
    configuration; returns (stdout, stderr)."""
    env = {"HOME": str(maildir.parent), "MAILRC": "/dev/null", "PATH": os.environ["PATH"],
           "LC_ALL": "C.UTF-8"}
    proc = subprocess.run(["s-nail", "-n", "-#", "-R", "-f", str(maildir)], input=commands.encode(),
                          capture_output=True, timeout=SWAKS_TIMEOUT, env=env)
    assert proc.returncode == 0, proc
    return proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def test_maildir_files_end_lines_with_lf_and_a_mail_reader_reads_them(tern):
    body = (b"Subject: read me\r\nFrom: Sender <sender@example.org>\r\nTo: alice@localhost\r\n\r\n"
            b"First line of the body.\r\n\r\nSecond paragraph.\r\n")
    final = tern.send_message(body, recipients=["alice@localhost"])
    assert (final.code, final.status) == (250, "2.0.0")
    [path] = tern.wait_for_messages("alice")
    data = path.read_bytes()
    assert b"\r" not in data, data
    assert data.startswith(b"Return-Path: <sender@example.org>\nDelivered-To: alice@localhost\nReceived: ")
    assert data.endswith(b"\nSubject: read me\nFrom: Sender <sender@example.org>\nTo: alice@localhost\n\n"
                         b"First line of the body.\n\nSecond paragraph.\n")
    # The size in the file name (read by Dovecot and others as the message size) is the file's.
    assert path.name.endswith(f",S={len(data)}"), (path.name, len(data))

    out, err = s_nail(tern.maildir("alice"), "headers\ntype 1\nquit\n")
    assert err == "", err  # e.g. "Malformed message: headers and body not separated"
    assert re.search(r"^\S?N\s+1 sender@example\.org\s.*\sread me\s*$", out, re.M), out  # the list
    assert "\nFirst line of the body.\n\nSecond paragraph.\n" in out, out
    assert "Subject: read me\n" in out, out
