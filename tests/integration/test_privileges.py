"""Least privilege ([server] user, docs/operations.md): started as root, Tern binds a privileged
port, gives its data directory to the user and becomes it for good; mail is still received,
delivered and picked up from the maildrop; the log file follows logrotate on SIGHUP."""

import os
import pwd
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import toml_text

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="starting as root needs root")

MESSAGE = b"From: s@example.org\r\nTo: alice@localhost\r\nSubject: as nobody\r\n\r\nhi\r\n"


def traversable(path):
    """Lets other users reach `path` (search permission on it and its parents), as a real
    /var/lib/tern is."""
    for p in [path, *path.parents]:
        if p == Path("/"):
            break
        os.chmod(p, os.stat(p).st_mode | 0o011)


def privileged_port():
    """A free port below 1024 on loopback: only root can bind it."""
    for port in range(700, 1000):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    pytest.skip("no free privileged port on 127.0.0.1")


def ids(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return ([int(x) for x in fields["Uid"].split()], [int(x) for x in fields["Gid"].split()],
            [int(x) for x in fields["Groups"].split()])


def test_binds_as_root_then_runs_as_the_user(tern_factory, tmp_path):
    nobody = pwd.getpwnam("nobody")
    port = privileged_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    os.chown(logs, nobody.pw_uid, nobody.pw_gid)  # as /var/log/tern: the user makes new files
    log_file = logs / "tern.log"
    t = tern_factory({"server": {"user": "nobody"},
                      "smtp": {"listen": [f"127.0.0.1:{port}"]},
                      "log": {"file": str(log_file)}}, start=False)
    t.port = port
    traversable(t.dir)
    t.start()

    uids, gids, groups = ids(t.pid)
    assert uids == [nobody.pw_uid] * 4, uids
    assert gids == [nobody.pw_gid] * 4, gids
    assert 0 not in groups, groups
    t.wait_for_log(rf"privileges user=nobody uid={nobody.pw_uid} gid={nobody.pw_gid} given=\d+")

    # Received and delivered: the spool, the Maildir and the control socket are the user's.
    assert t.send_message(MESSAGE, recipients=["alice@localhost"]).code == 250
    delivered = t.wait_for_messages("alice")[0]
    for p in [delivered, t.data_dir / "spool", t.data_dir / "control.sock", t.data_dir]:
        assert p.stat().st_uid == nobody.pw_uid, p
    assert t.queue("list").returncode == 0

    # Another local user's `sendmail`: the file gets the maildrop's group (the daemon's) and
    # mode 0640, so the daemon, no longer root, reads it.
    daemon_user = pwd.getpwnam("daemon")
    maildrop = t.data_dir / "maildrop"
    assert maildrop.stat().st_mode & 0o7777 == 0o3733
    r = subprocess.run(["setpriv", f"--reuid={daemon_user.pw_uid}",
                        f"--regid={daemon_user.pw_gid}", "--clear-groups",
                        str(t.binary), "sendmail", "-C", str(t.config_path), "bob"],
                       input=b"Subject: from the daemon user\n\nhi\n", capture_output=True,
                       timeout=30, cwd="/")
    assert r.returncode == 0, r.stderr
    raw = t.wait_for_message("bob", timeout=10)
    assert f"(Tern, from userid {daemon_user.pw_uid})".encode() in raw, raw
    assert list(maildrop.iterdir()) == []

    # logrotate: rename, then SIGHUP; new lines go to a new file the user made.
    log_file.rename(logs / "tern.log.1")
    t.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while not (log_file.exists() and "tls_reload" in log_file.read_text()):
        assert time.monotonic() < deadline, "no new log file after SIGHUP"
        time.sleep(0.05)
    assert log_file.stat().st_uid == nobody.pw_uid
    assert "privileges" in (logs / "tern.log.1").read_text()
    assert t.send_message(MESSAGE, recipients=["alice@localhost"]).code == 250
    t.wait_for_messages("alice", 2)
    deadline = time.monotonic() + 10
    while log_file.read_text().count("delivery id=") < 1:
        assert time.monotonic() < deadline, log_file.read_text()
        time.sleep(0.05)


def capabilities(pid):
    """(effective, permitted, bounding) of every thread of `pid`."""
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        out.add(tuple(int(fields[k].strip(), 16) for k in ("CapEff", "CapPrm", "CapBnd")))
    return out


def test_a_reload_opens_a_privileged_port_as_the_user(tern_factory):
    port = privileged_port()
    t = tern_factory({"server": {"user": "nobody"}}, start=False)
    traversable(t.dir)
    t.start()
    t.wait_for_log(r"privileges user=nobody .*bind_below_1024=kept")
    # Of root's powers only the one to bind ports below 1024 (CAP_NET_BIND_SERVICE, bit 10),
    # on the threads started after root was given up; those started before hold none.
    bind = 1 << 10
    caps = capabilities(t.pid)
    assert all(c == (bind, bind, bind) or c[:2] == (0, 0) for c in caps), caps
    assert (bind, bind, bind) in caps, caps
    t.config["smtp"]["listen"].append(f"127.0.0.1:{port}")
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    done = subprocess.run([t.binary, "reload", "-c", str(t.config_path)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done
    assert f"reload: smtp 127.0.0.1:{port} now listening" in done.stdout, done.stdout
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        assert s.recv(512).startswith(b"220 ")
    t.port = port
    assert t.send_message(MESSAGE, recipients=["alice@localhost"]).code == 250
    t.wait_for_messages("alice")


def test_a_rules_file_only_root_can_read_keeps_its_stages_at_a_reload(tern_factory):
    t = tern_factory({"server": {"user": "nobody"}, "local": {"recipient_delimiter": "+"},
                      "mailauth": {"verify": []}, "dkim": {"sign": False}}, start=False)
    rules = t.dir / "header_checks"  # outside data_dir: not given to the user
    rules.write_text("/^Subject:.*spam/ REJECT 5.7.1 No spam\n")
    os.chmod(rules, 0o600)
    t.config["content"] = {"header_checks": str(rules)}
    traversable(t.dir)
    t.start()  # read as root
    t.wait_for_log(r"reload_unreadable file=\"?" + str(rules) + r".*a reload keeps the stages in use")
    t.config.setdefault("limits", {})["recipients"] = 1
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    done = subprocess.run([t.binary, "reload", "-c", str(t.config_path)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1, done  # check-config (root) read it; the daemon could not
    assert "pipeline:" in done.stderr and "stages in use are kept" in done.stderr, done.stderr
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        codes = [d.cmd(f"RCPT TO:<alice+{i}@localhost>").code for i in range(2)]
        assert codes == [250, 452], codes  # the rest of the file applied
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: spam\r\n\r\nbody\r\n.\r\n")
        assert d.read_reply().text == "550 5.7.1 No spam"  # the rules read at start


def test_a_user_that_does_not_exist_is_refused(tern_factory):
    t = tern_factory({"server": {"user": "tern-no-such-user"}}, start=False)
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    check = subprocess.run([t.binary, "check-config", str(t.config_path)],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode != 0
    assert "no such user 'tern-no-such-user'" in check.stdout + check.stderr
    serve = subprocess.run([t.binary, "serve", "--config", str(t.config_path)],
                           capture_output=True, text=True, timeout=30)
    assert serve.returncode == 1
    assert "no such user 'tern-no-such-user'" in serve.stderr


def test_started_as_another_user_it_says_so(tern_factory):
    nobody = pwd.getpwnam("nobody")
    t = tern_factory({"server": {"user": "bin"}}, start=False)
    traversable(t.dir)
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    r = subprocess.run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                        "--clear-groups", str(t.binary), "serve", "--config", str(t.config_path)],
                       capture_output=True, text=True, timeout=30, cwd="/")
    assert r.returncode == 1
    assert f'server.user = "bin": started as uid {nobody.pw_uid}' in r.stderr, r.stderr
    assert not t.data_dir.exists()  # refused before anything was made


def test_a_data_dir_the_user_cannot_reach_is_refused(tern_factory):
    # pytest's temporary directories are root's, mode 0700: nobody cannot search them.
    t = tern_factory({"server": {"user": "nobody"}}, start=False)
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    r = subprocess.run([t.binary, "serve", "--config", str(t.config_path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert 'server.user = "nobody" cannot use data_dir' in r.stderr, r.stderr
    assert "searchable" in r.stderr
