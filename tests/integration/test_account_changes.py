# Account changes made with `tern user` while the daemon is busy authenticating: each one takes
# effect at the next login, without a restart, and the account database stays sound.
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from conftest import CLI_TIMEOUT, Dialog
from submission_clients import ALICE, PASSWORD, auth_plain, auth_scram, auth_tern

LOAD_CLIENTS = 4          # concurrent clients logging in as alice in a loop
LOAD_MAX_LOGINS = 3000    # all of them together stop after this many logins ...
LOAD_MAX_SECONDS = 90.0   # ... or after this long, whichever comes first
ROUNDS = 3                # add, passwd and del cycles
CHECKS = 6                # logins per check, so that each verify thread answers some
DAVE = "dave@example.org"


def user(tern, *args, password=None):
    """`tern user ARGS` on the daemon's config, the password on stdin; must succeed."""
    proc = subprocess.run([tern.binary, "user", *args, "--config", str(tern.config_path)],
                          input=None if password is None else password + "\n",
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


class Load:
    """LOAD_CLIENTS threads, each on its own loopback address, logging in as alice over and over
    (PLAIN and SCRAM-SHA-256 in turn, one login a session) and counting the replies."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.replies = {}  # "code status" -> count
        self.errors = []
        self.logins = 0
        self.deadline = time.monotonic() + LOAD_MAX_SECONDS
        self.threads = [threading.Thread(target=self.run, args=(f"127.0.1.{i + 1}",))
                        for i in range(LOAD_CLIENTS)]

    def run(self, source):
        n = 0
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            with self.lock:
                if self.logins >= LOAD_MAX_LOGINS:
                    return
                self.logins += 1
            try:
                with Dialog(self.port, source=source) as d:
                    assert d.read_reply().code == 220
                    d.ehlo()
                    r = auth_plain(d) if n % 2 == 0 else auth_scram(d)
                    d.cmd("QUIT")
            except Exception as e:  # noqa: BLE001 - every failure is reported by the test
                with self.lock:
                    self.errors.append(f"{source}: {e!r}")
                return
            n += 1
            with self.lock:
                key = f"{r.code} {r.status}"
                self.replies[key] = self.replies.get(key, 0) + 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def count(self):
        with self.lock:
            return sum(self.replies.values())


class Checker:
    """Logins from fresh loopback addresses (so that the throttle of one address never builds
    up), each answered with its exact reply."""

    def __init__(self, port):
        self.port = port
        self.next = 0

    def login(self, user, password):
        self.next += 1
        source = f"127.0.2.{self.next % 250 + 1}"
        with Dialog(self.port, source=source) as d:
            assert d.read_reply().code == 220
            d.ehlo()
            r = auth_plain(d, user, password)
            d.cmd("QUIT")
            return (r.code, r.status)

    def expect(self, user, password, reply, what):
        got = [self.login(user, password) for _ in range(CHECKS)]
        assert got == [reply] * CHECKS, (what, got)


def deleted_account_files(pid):
    """The daemon's descriptors that point at account database files removed from disk."""
    out = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if "accounts.sqlite" in target and target.endswith("(deleted)"):
            out.append(target)
    return out


def test_account_changes_take_effect_at_once_under_auth_load(tern_factory, tern_binary):
    tern = auth_tern(tern_factory, binary=tern_binary,
                     config={"auth": {"plaintext_loopback": True, "verify_threads": 3}},
                     accounts=((ALICE, PASSWORD), (DAVE, "Dave-0")))
    database = tern.data_dir / "accounts.sqlite"
    check = Checker(tern.submission_port)
    ok, bad = (235, "2.7.0"), (535, "5.7.8")
    # Logins one at a time first, as on a quiet server: the verify threads open their database
    # connections one after another, each while the others' are open.
    for _ in range(3):
        check.expect(ALICE, PASSWORD, ok, "a quiet start")
    with Load(tern.submission_port) as load:
        deadline = time.monotonic() + 20
        while load.count() < 30:
            assert time.monotonic() < deadline and not load.errors, (load.replies, load.errors)
            time.sleep(0.05)
        before = load.count()
        for r in range(ROUNDS):
            erin = f"erin{r}@example.org"
            assert user(tern, "add", erin, password=f"Erin-{r}") == f"{erin}: account added\n"
            check.expect(erin, f"Erin-{r}", ok, f"round {r}: new account {erin}")

            assert user(tern, "passwd", DAVE, password=f"Dave-{r + 1}") == \
                f"{DAVE}: password changed\n"
            check.expect(DAVE, f"Dave-{r}", bad, f"round {r}: dave's old password")
            check.expect(DAVE, f"Dave-{r + 1}", ok, f"round {r}: dave's new password")

            assert user(tern, "del", erin) == f"{erin}: account deleted\n"
            check.expect(erin, f"Erin-{r}", bad, f"round {r}: deleted account {erin}")
            # The daemon still reads the live WAL and index, not files `tern user` removed.
            assert deleted_account_files(tern.pid) == []
        during = load.count()
    assert not load.errors, load.errors
    # Every login of the load succeeded: none was refused or answered 454 while accounts changed.
    assert load.replies == {"235 2.7.0": load.count()}, load.replies
    assert during > before, (before, during)  # the load went on while the accounts changed

    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        names = [row[0] for row in db.execute("SELECT address FROM accounts ORDER BY address")]
    assert names == [ALICE, DAVE]
    failures = [l for l in tern.log_lines() if " auth " in l and "result=failed" in l]
    assert len(failures) == ROUNDS * 2 * CHECKS, failures
    assert all("wrong password or unknown account" in l for l in failures), failures
