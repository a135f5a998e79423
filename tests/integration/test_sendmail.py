# `tern sendmail` (and Tern called as `sendmail` or `mailq`) against the real daemon: what cron,
# PHP's mail() and scripts do. The message goes through the maildrop, so it is accepted with the
# daemon down and delivered when it starts; -t takes the recipients from the header and drops Bcc;
# From, Date and Message-ID are added when missing; a lone "." ends the input unless -i; the
# Received field names the submitting user; bad input gets sendmail's exit statuses.
import os
import pwd
import subprocess
import time
from pathlib import Path

import pytest

from conftest import split_trace


def sendmail(t, args, text, user=None, argv0=None, env=None, binary=None):
    """Runs `tern -c CONFIG sendmail ARGS` (or the binary through a link named argv0) with `text`
    on standard input; returns the completed process."""
    binary = binary or t.binary
    if argv0:
        link = t.dir / argv0
        if not link.exists():
            link.symlink_to(binary)
        cmd = [str(link), "-C", str(t.config_path), *args]
    else:
        cmd = [binary, "-c", str(t.config_path), "sendmail", *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, input=text, capture_output=True, timeout=30, cwd="/", env=env)


def header_and_body(data):
    """A delivered message (Maildir files have LF line ends) cut into header text and body."""
    head, _, body = split_trace(data)[1].partition(b"\n\n")
    return head.decode(), body


def maildrop(t):
    d = t.data_dir / "maildrop"
    return sorted(p.name for p in d.iterdir() if not p.name.startswith(".")) if d.is_dir() else []


def test_t_takes_recipients_from_the_header_and_drops_bcc(tern):
    text = (b"Subject: report\nTo: Alice <alice@localhost>\nCc: (team) bob\n"
            b"Bcc: hidden <postmaster@localhost>\n\nnightly run ok\n")
    r = sendmail(tern, ["-t", "-F", "Cron Daemon"], text)
    assert r.returncode == 0, r.stderr
    for user in ("alice", "bob", "postmaster"):
        head, body = header_and_body(tern.wait_for_message(user))
        assert "Bcc" not in head and "hidden" not in head, head
        assert "From: Cron Daemon <root@localhost>" in head, head
        assert "\nDate: " in head and "\nMessage-ID: <" in head, head
        assert body == b"nightly run ok\n"
    raw = tern.wait_for_message("alice")
    assert b"Received: by mx.tern.test (Tern, from userid 0)" in raw, raw
    assert b"Return-Path: <root@localhost>" in raw
    tern.wait_for_log(r"pickup id=\S+ uid=0 user=root from=root@localhost recipients=3")
    assert maildrop(tern) == []


def test_a_lone_dot_ends_the_input_unless_i(tern):
    text = b"Subject: dots\n\nfirst\n.\nafter the dot\n"
    assert sendmail(tern, ["alice"], text).returncode == 0
    _, body = header_and_body(tern.wait_for_message("alice"))
    assert body == b"first\n"
    for flag in ("-i", "-oi"):
        assert sendmail(tern, [flag, "bob"], text).returncode == 0
    files = tern.wait_for_messages("bob", 2)
    for f in files:
        assert header_and_body(f.read_bytes())[1] == b"first\n.\nafter the dot\n"


def test_accepted_with_the_daemon_down_and_delivered_at_start(tern_factory):
    t = tern_factory(start=False)
    t.config_path.write_text(__import__("conftest").toml_text(t.config), encoding="utf-8")
    r = sendmail(t, ["-f", "app@example.org", "alice@localhost"], b"Subject: while down\n\nqueued\n")
    assert r.returncode == 0, r.stderr
    assert len(maildrop(t)) == 1
    t.start()
    raw = t.wait_for_message("alice")
    assert b"Return-Path: <app@example.org>" in raw
    assert b"Subject: while down" in raw
    assert maildrop(t) == []


def test_an_unprivileged_user_and_the_link_named_sendmail(tern, tmp_path):
    # Cron and PHP run as users: the maildrop (mode 3733) takes their files; the Received field
    # and the log name the user by the file's owner, not by anything the file says.
    nobody = pwd.getpwnam("nobody")
    for p in [tern.data_dir, *tern.data_dir.parents]:
        if p == Path("/"):
            break
        os.chmod(p, os.stat(p).st_mode | 0o011)
    link_dir = tmp_path / "bin"
    link_dir.mkdir()
    link = link_dir / "sendmail"
    link.symlink_to(tern.binary)
    os.chmod(tmp_path, 0o755)
    os.chmod(link_dir, 0o755)
    r = subprocess.run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                        "--clear-groups", str(link), "-C", str(tern.config_path), "alice"],
                       input=b"Subject: from nobody\n\nhi\n", capture_output=True, timeout=30, cwd="/")
    assert r.returncode == 0, r.stderr
    raw = tern.wait_for_message("alice")
    assert f"(Tern, from userid {nobody.pw_uid})".encode() in raw, raw
    assert b"Return-Path: <nobody@localhost>" in raw
    tern.wait_for_log(rf"pickup id=\S+ uid={nobody.pw_uid} user=nobody from=nobody@localhost")
    # nobody cannot list or take another user's files from the maildrop.
    r = subprocess.run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                        "--clear-groups", "ls", str(tern.data_dir / "maildrop")],
                       capture_output=True, timeout=10)
    assert r.returncode != 0


@pytest.mark.parametrize("args, text, status, message", [
    (["alice@"], b"x\n", 65, b"bad recipient address"),
    (["-t"], b"Subject: nobody\n\nx\n", 64, b"no recipient addresses found"),
    ([], b"x\n", 64, b"no recipients given"),
    (["-bd"], b"", 64, b"unsupported mode"),
    (["-x"], b"", 64, b"unknown option"),
    (["-N", "sometimes", "alice"], b"x\n", 64, b"-N takes never"),
    (["-f"], b"", 64, b"option -f needs a value"),
])
def test_bad_input_gets_sendmails_exit_status(tern, args, text, status, message):
    r = sendmail(tern, args, text)
    assert r.returncode == status, r
    assert message in r.stderr, r.stderr
    assert maildrop(tern) == []


def test_a_message_over_the_size_limit_is_refused(tern_factory):
    t = tern_factory(config={"limits": {"message_size": 2048}})
    r = sendmail(t, ["alice"], b"Subject: big\n\n" + b"x" * 70 + b"\n" * 1 + (b"y" * 70 + b"\n") * 40)
    assert r.returncode == 65, r
    assert b"larger than the limit of 2048" in r.stderr
    assert maildrop(t) == []


def test_dsn_options_reach_the_envelope(tern):
    r = sendmail(tern, ["-N", "success, failure", "-R", "hdrs", "-V", "job42", "-f", "app@localhost",
                        "alice"], b"Subject: dsn\n\nx\n")
    assert r.returncode == 0, r.stderr
    tern.wait_for_message("alice")
    # A success notice goes back to the sender (NOTIFY=SUCCESS), with our ENVID.
    notice = tern.wait_for_messages("app", 1)[0].read_bytes()
    assert b"Original-Envelope-Id: job42" in notice, notice


def test_mailq_and_bp_list_the_queue(tern, tmp_path):
    r = sendmail(tern, ["-bp"], b"")
    assert r.returncode == 0, r
    assert b"The queue is empty" in r.stdout
    r = sendmail(tern, [], b"", argv0="mailq")
    assert r.returncode == 0 and b"The queue is empty" in r.stdout, r
    assert sendmail(tern, ["-q"], b"").returncode == 0
    tern.stop()
    r = sendmail(tern, ["-bp"], b"")
    assert r.returncode == 69, r


def test_bs_speaks_smtp_on_standard_input(tern):
    dialog = (b"EHLO script.local\r\nMAIL FROM:<app@localhost>\r\nRCPT TO:<alice@localhost>\r\n"
              b"DATA\r\nSubject: over -bs\r\n\r\nhello\r\n.\r\nQUIT\r\n")
    r = sendmail(tern, ["-bs"], dialog)
    assert r.returncode == 0, r
    lines = r.stdout.split(b"\r\n")
    assert lines[0].startswith(b"220 "), lines
    assert any(l.startswith(b"250 2.0.0") for l in lines), lines
    assert b"221 2.0.0" in r.stdout
    assert b"Subject: over -bs" in tern.wait_for_message("alice")
    tern.stop()
    r = sendmail(tern, ["-bs"], b"QUIT\r\n")
    assert r.returncode == 69 and r.stdout.startswith(b"421 4.3.2"), r


def test_a_damaged_maildrop_file_is_set_aside(tern):
    drop = tern.data_dir / "maildrop"
    (drop / ".tmp").write_bytes(b"TERNDROP 1\nsender <a@localhost>\n\nno recipient\n")
    os.rename(drop / ".tmp", drop / "broken")
    tern.wait_for_log(r"pickup_bad file=\S+maildrop-bad/broken reason=\"maildrop file: no recipient\"")
    assert (tern.data_dir / "maildrop-bad" / "broken").exists()
    assert maildrop(tern) == []
    # The daemon goes on with good files.
    assert sendmail(tern, ["alice"], b"Subject: after\n\nok\n").returncode == 0
    tern.wait_for_message("alice")
