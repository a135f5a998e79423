# A full disk: on a small tmpfs as the data directory, a full spool answers 452 4.3.1 (below
# [spool] min_free at MAIL, or ENOSPC during DATA), leaves no partial file, and recovers with space.
import os
import subprocess
import time

import pytest

from conftest import maildir_form, queue_id, split_trace

MIB = 1024 * 1024
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def small_fs(tmp_path):
    """mount(size_mib) -> the path of a fresh tmpfs of that size, unmounted after the test even
    when it fails (lazily if a daemon still holds files in it)."""
    mounted = []

    def mount(size_mib):
        path = tmp_path / f"small{len(mounted)}"
        path.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "tmpfs", str(path)],
                       check=True, timeout=10)
        mounted.append(path)
        return path

    try:
        yield mount
    finally:
        for path in reversed(mounted):
            if subprocess.run(["umount", str(path)], timeout=10).returncode != 0:
                subprocess.run(["umount", "-l", str(path)], check=True, timeout=10)


def free_octets(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path, leave):
    """Writes a filler file so that about `leave` octets stay free; returns its path."""
    filler = path / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free_octets(path) - leave))
    assert abs(free_octets(path) - leave) < 64 * 1024, free_octets(path)
    return filler


def spool_files(tern):
    """The message files and state logs in the spool (docs/spool.md), as spool-relative paths."""
    spool = tern.data_dir / "spool"
    return sorted(p.relative_to(spool) for p in [*spool.glob("msg/*"), *spool.glob("state/*")])


def transaction(tern, body):
    """MAIL, RCPT, DATA and the body on one connection; returns (MAIL reply, final reply or None)."""
    with tern.dialog() as d:
        d.ehlo()
        mail = d.cmd("MAIL FROM:<bob@localhost>")
        if mail.code != 250:
            assert d.cmd("QUIT").code == 221
            return mail, None
        assert d.cmd("RCPT TO:<alice@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(body + b".\r\n")
        final = d.read_reply(timeout=30)
        assert d.cmd("QUIT").code == 221
        return mail, final


def message(subject, size=0):
    line = b"x" * 998 + b"\r\n"
    return f"Subject: {subject}\r\n\r\n".encode() + line * (size // len(line))


def test_below_min_free_mail_is_refused_until_space_returns(small_fs, tern_factory):
    data = small_fs(8)
    t = tern_factory(config={"server": {"data_dir": str(data)}, "spool": {"min_free": "4M"}})
    mail, final = transaction(t, message("before"))
    assert (mail.code, final.code) == (250, 250), (mail, final)
    t.wait_for_messages("alice", 1)

    filler = fill(data, 3 * MIB)
    for _ in range(2):
        mail, final = transaction(t, message("while full"))
        assert (mail.code, mail.status) == (452, "4.3.1"), mail
        assert final is None
    with t.dialog() as d:  # the daemon keeps serving: other commands still work
        d.ehlo()
        assert d.cmd("NOOP").code == 250

    filler.unlink()
    mail, final = transaction(t, message("after"))
    assert (mail.code, final.code) == (250, 250), (mail, final)
    t.wait_for_messages("alice", 2)
    t.wait_for_empty_queue()
    assert t.subjects("alice") == ["after", "before"]
    assert spool_files(t) == []


def test_enospc_during_data_is_452_and_leaves_no_partial_file(small_fs, tern_factory):
    data = small_fs(16)
    t = tern_factory(config={"server": {"data_dir": str(data)}, "spool": {"min_free": 0}})
    filler = fill(data, 1 * MIB)
    big = message("too big for the disk", 3 * MIB)

    mail, final = transaction(t, big)
    assert mail.code == 250, "min_free = 0: MAIL does not look at the free space"
    assert (final.code, final.status) == (452, "4.3.1"), final
    assert spool_files(t) == [], "the partial message file is removed"
    assert free_octets(data) > MIB // 2, "and its space given back"

    # The daemon keeps serving, and what fits is still accepted while the disk is nearly full.
    mail, final = transaction(t, message("small", 64 * 1024))
    assert (mail.code, final.code) == (250, 250), (mail, final)
    t.wait_for_messages("alice", 1)

    filler.unlink()
    mail, final = transaction(t, big)
    assert (mail.code, final.code) == (250, 250), (mail, final)
    t.wait_for_messages("alice", 2)
    t.wait_for_empty_queue()
    assert t.subjects("alice") == ["small", "too big for the disk"]
    big_file = max(t.messages("alice"), key=lambda f: f.stat().st_size)
    assert split_trace(big_file.read_bytes())[1] == maildir_form(big)
    assert spool_files(t) == []


def test_full_disk_defers_local_delivery_until_space_returns(small_fs, tern_factory):
    data = small_fs(8)
    t = tern_factory(config={"server": {"data_dir": str(data)}, "spool": {"min_free": 0},
                             "queue": {"retry_schedule": ["1h"], "delay_warning": "0"}})
    t.block_mailbox("alice")
    mail, final = transaction(t, message("waits for space", 256 * 1024))
    assert final.code == 250, final
    qid = queue_id(final)
    t.wait_for_attempts(qid, "alice@localhost", 1)

    filler = fill(data, 0)
    t.unblock_mailbox("alice")
    assert t.queue_json("retry", qid)["count"] == 1
    state = t.wait_for_attempts(qid, "alice@localhost", 2)
    assert state["status"] == "deferred", state
    assert state["last_reply"].startswith("452 4.2.2 "), state
    assert t.messages("alice") == []

    filler.unlink()
    assert t.queue_json("retry", qid)["count"] == 1
    t.wait_for_messages("alice", 1)
    t.wait_for_empty_queue()
    assert t.subjects("alice") == ["waits for space"]
    assert spool_files(t) == []
    t.restart()
    assert t.queued() == {}, "nothing comes back after a restart"
    assert len(t.messages("alice")) == 1


def test_a_state_change_the_full_disk_refused_is_written_once_space_returns(small_fs, tern_factory,
                                                                             tmp_path):
    # One recipient is delivered while the disk is full, so its "delivered" line cannot be
    # appended. The queue must write it later, not act as if it were on disk: else a restart
    # brings the recipient back and it gets the message twice.
    from conftest import free_port
    from peers import SmtpPeer, wait_until
    port = free_port()
    data = small_fs(8)
    t = tern_factory(config={
        "server": {"data_dir": str(data)},
        "spool": {"min_free": 0, "sync_retry": "1s"},
        "relay": {"routes": [f"peer.test = [127.0.0.1]:{port}"], "connect_timeout": "2s"},
        "queue": {"retry_schedule": ["1h"], "delay_warning": "0"},
    })
    reply = t.send_message(message("twice?"), sender="bob@localhost",
                           recipients=("now@peer.test", "later@peer.test"))
    qid = queue_id(reply)
    t.wait_for_attempts(qid, "now@peer.test", 1)  # no peer yet: both deferred for an hour

    peer = SmtpPeer(tmp_path, "127.0.0.1", port, rules={"rcpt": {"later@peer.test": "451 4.3.0 later"}})
    try:
        # tmpfs allocates whole pages: pad the state log to a page boundary (with a line that
        # fails its CRC and is skipped) so that the next append needs space.
        log = data / "spool" / "state" / qid
        size = log.stat().st_size
        with open(log, "ab") as f:
            f.write(b"x" * (4096 - size % 4096 - 1) + b"\n")
        filler = fill(data, 0)
        assert t.queue_json("retry", qid)["count"] == 1
        peer.wait_for_messages(1)
        t.wait_for_log(r"error state_log id=%s .*No space left" % qid, timeout=10)
        assert t.recipient_states(qid)["now@peer.test"]["status"] == "delivered"

        filler.unlink()
        t.wait_for_log(r"info delivery id=%s to=later@peer.test" % qid, timeout=10)
        time.sleep(2.5)  # sync_retry (1s) twice over: the whole state is written again
        t.restart()
        states = t.recipient_states(qid)
        assert states["now@peer.test"]["status"] == "delivered", states
        assert states["later@peer.test"]["status"] == "deferred", states
        assert t.queue_json("retry", qid)["count"] == 1
        t.wait_for_attempts(qid, "later@peer.test", 2)
        time.sleep(1)
        got = [env["rcpt_tos"] for env, _ in peer.messages()]
        assert got == [["now@peer.test"]], "now@ got the message once, not again after the restart"
    finally:
        peer.stop()
