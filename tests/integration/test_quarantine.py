# Damaged spool files: a committed message file that fails its checks at start-up is quarantined
# (moved aside with its state log, a warning naming it, `tern queue quarantine` lists it), never
# delivered, deleted or reused; a file that never got its commit mark is removed as before.
import json
import os
import stat

from conftest import queue_id

CONFIG = {"queue": {"retry_schedule": ["1h"], "delay_warning": "0"}}


def spool(t):
    return t.data_dir / "spool"


def recovery_line(t, skip):
    """The recovery log line of the start whose log begins after line `skip`."""
    from peers import wait_until
    return wait_until(lambda: next((line for line in t.log_lines()[skip:] if " info recovery " in line),
                                   None), 5, "the recovery line")


def test_a_damaged_acknowledged_message_is_quarantined_not_deleted(tern_factory):
    t = tern_factory(config=CONFIG)
    t.block_mailbox("alice")
    body = b"Subject: damaged\r\n\r\n" + (b"x" * 70 + b"\r\n") * 70
    kept_body = b"Subject: intact\r\n\r\nintact\r\n"
    qid = queue_id(t.send_message(body, sender="bob@localhost", recipients=("alice@localhost",)))
    intact = queue_id(t.send_message(kept_body, sender="bob@localhost", recipients=("alice@localhost",)))
    t.wait_for_attempts(qid, "alice@localhost", 1)
    t.wait_for_attempts(intact, "alice@localhost", 1)
    assert t.stop() == 0

    path = spool(t) / "msg" / qid
    assert os.stat(path).st_mode & stat.S_IXUSR, "a committed file carries the commit mark"
    size = path.stat().st_size
    os.truncate(path, size - 100)  # what a lost block or an operator's mistake does

    skip = len(t.log_lines())
    t.start()
    line = t.wait_for_log(r"warn quarantined ", timeout=5)
    assert f"file={spool(t)}/quarantine/{qid} " in line and "size=" in line, line
    assert "reason=" in line and "trailer" in line, line
    assert "quarantined=1" in recovery_line(t, skip)
    assert set(t.queued()) == {intact}, "the damaged message is not in the queue"
    assert (spool(t) / "quarantine" / qid).stat().st_size == size - 100, "kept byte for byte"
    assert (spool(t) / "quarantine" / f"{qid}.state").exists(), "its state log goes with it"
    assert not (spool(t) / "state" / qid).exists()

    out = t.queue("quarantine")
    assert out.returncode == 0, out
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["FILE", "QUARANTINED", "SIZE", "REASON"]
    row = lines[1].split()
    assert row[0] == qid and row[3] == str(size - 100), lines
    assert "trailer" in lines[1]
    assert lines[-1].startswith("1 file(s) in "), lines

    t.unblock_mailbox("alice")
    assert t.queue_json("retry", "--all")["count"] == 1
    t.wait_for_messages("alice", 1)
    t.wait_for_empty_queue()
    assert t.subjects("alice") == ["intact"]
    assert list((spool(t) / "free").iterdir()) == [] or all(
        p.name.startswith("f") for p in (spool(t) / "free").iterdir())
    assert (spool(t) / "quarantine" / qid).exists(), "never reused, never deleted"

    # The view reads the disk: it works while the daemon is down too.
    assert t.stop() == 0
    listed = json.loads(t.queue("quarantine", "--json").stdout)
    assert listed["ok"] is True
    [entry] = listed["quarantine"]
    assert entry["name"] == qid and entry["size"] == size - 100 and "trailer" in entry["reason"]
    assert entry["path"] == str(spool(t) / "quarantine" / qid)


def test_an_unfinished_file_without_the_commit_mark_is_removed(tern_factory):
    t = tern_factory(config=CONFIG)
    assert t.stop() == 0
    # As a crash during DATA leaves it: envelope and part of the text, no trailer, no mark.
    path = spool(t) / "msg" / "CRB0000000000000"
    path.write_bytes(b"TERN-SPOOL 1\nid CRB0000000000000\narrival 1\n")
    os.chmod(path, 0o600)
    skip = len(t.log_lines())
    t.start()
    assert "removed=1 " in recovery_line(t, skip)
    assert not path.exists()
    assert "Nothing is quarantined." in t.queue("quarantine").stdout
