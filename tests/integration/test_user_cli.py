# `tern user add|passwd|del|list` as an operator runs them: the real binary on a config file,
# the password on standard input (or at a terminal prompt with echo off), never in argv, and
# never in clear in the account database.
import json
import os
import pty
import re
import select
import sqlite3
import subprocess
import time

import pytest

from conftest import CLI_TIMEOUT, TERN_BIN, toml_text

PASSWORD = "Correct-Horse-7f3a9"
OTHER = "Battery-Staple-55c1"


@pytest.fixture
def setup(tmp_path):
    """A config file with cheap argon2id costs; returns (config path, database path)."""
    data = tmp_path / "data"
    config = tmp_path / "tern.toml"
    config.write_text(toml_text({
        "server": {"data_dir": str(data)},
        "auth": {"argon2_memory_kib": 1024, "argon2_iterations": 1, "scram_iterations": 5000},
    }))
    return config, data / "accounts.sqlite"


def user(config, *args, password=None):
    """Runs `tern user ARGS --config CONFIG`, feeding `password` as one line of stdin.

    While the process runs, checks that its argv (/proc/PID/cmdline) never holds the password."""
    argv = [TERN_BIN, "user", *args, "--config", str(config)]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except FileNotFoundError:
        cmdline = b""  # it finished already
    out, err = proc.communicate(None if password is None else password + "\n",
                                timeout=CLI_TIMEOUT)
    for secret in (PASSWORD, OTHER):
        assert secret.encode() not in cmdline
        assert secret not in " ".join(argv)
        assert secret not in out + err
    return proc.returncode, out, err


def rows(database):
    with sqlite3.connect(database) as db:
        return db.execute("SELECT address, password_hash, scram_salt, scram_iterations "
                          "FROM accounts ORDER BY address").fetchall()


def database_bytes(database):
    data = b""
    for suffix in ("", "-wal"):
        path = f"{database}{suffix}"
        if os.path.exists(path):
            with open(path, "rb") as f:
                data += f.read()
    return data


def test_add_list_passwd_del(setup):
    config, database = setup
    rc, out, err = user(config, "add", "Alice@Example.org", password=PASSWORD)
    assert (rc, out, err) == (0, "alice@example.org: account added\n", "")
    assert os.stat(database).st_mode & 0o777 == 0o600

    rc, out, _ = user(config, "add", "bob@example.org", password=OTHER)
    assert rc == 0

    rc, out, _ = user(config, "list")
    assert rc == 0
    lines = out.splitlines()
    assert re.match(r"ADDRESS\s+CREATED\s+PASSWORD CHANGED$", lines[0])
    assert re.match(r"alice@example\.org\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\d{4}-", lines[1])
    assert lines[2].startswith("bob@example.org ")
    assert lines[3] == "2 accounts"

    rc, out, _ = user(config, "list", "--json")
    assert rc == 0
    accounts = json.loads(out)["accounts"]
    assert [a["address"] for a in accounts] == ["alice@example.org", "bob@example.org"]
    now = time.time()
    for a in accounts:
        assert abs(a["created"] - now) < 60
        assert a["password_changed"] == a["created"]
        assert a["scram_iterations"] == 5000

    before = rows(database)[0]
    assert before[1].startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    rc, out, err = user(config, "passwd", "ALICE@example.org", password=OTHER)
    assert (rc, out, err) == (0, "alice@example.org: password changed\n", "")
    after = rows(database)[0]
    assert after[0] == "alice@example.org"
    assert after[1] != before[1] and after[2] != before[2]

    rc, out, err = user(config, "del", "alice@example.org")
    assert (rc, out, err) == (0, "alice@example.org: account deleted\n", "")
    rc, out, _ = user(config, "list", "--json")
    assert [a["address"] for a in json.loads(out)["accounts"]] == ["bob@example.org"]
    user(config, "del", "bob@example.org")
    rc, out, _ = user(config, "list")
    assert (rc, out) == (0, "No accounts.\n")


def test_password_is_never_stored_in_clear(setup):
    config, database = setup
    assert user(config, "add", "alice@example.org", password=PASSWORD)[0] == 0
    assert user(config, "passwd", "alice@example.org", password=OTHER)[0] == 0
    data = database_bytes(database)
    assert b"alice@example.org" in data
    assert PASSWORD.encode() not in data and OTHER.encode() not in data
    assert b"$argon2id$" in data


def test_errors(setup):
    config, database = setup
    assert user(config, "add", "alice@example.org", password=PASSWORD)[0] == 0

    rc, out, err = user(config, "add", "ALICE@example.org", password=OTHER)
    assert (rc, out) == (1, "")
    assert err == "tern user add: alice@example.org already exists\n"

    for action in ("passwd", "del"):
        rc, out, err = user(config, action, "nobody@example.org", password=OTHER)
        assert (rc, out) == (1, "")
        assert err == f"tern user {action}: no account nobody@example.org\n"

    for bad in ("alice", "@example.org", "alice@", "a b@example.org", "alice@[192.0.2.1]"):
        rc, out, err = user(config, "add", bad, password=OTHER)
        assert rc == 1, bad
        assert "is not an account name of the form name@domain" in err, err

    rc, _, err = user(config, "add", "carol@example.org", password="")
    assert (rc, err) == (1, "tern user add: the password is empty\n")
    rc, _, err = user(config, "add", "carol@example.org")  # end of input, no line at all
    assert (rc, err) == (1, "tern user add: no password on standard input\n")
    rc, _, _ = user(config, "add", "carol@example.org", password="tab\there")
    assert rc == 1

    assert [r[0] for r in rows(database)] == ["alice@example.org"]
    assert rows(database)[0][1].startswith("$argon2id$")


def test_unusable_database(tmp_path):
    config = tmp_path / "tern.toml"
    (tmp_path / "junk").write_bytes(b"x" * 4096)
    config.write_text(toml_text({"auth": {"database": str(tmp_path / "junk")}}))
    rc, out, err = user(config, "list")
    assert rc == 2 and out == ""
    assert str(tmp_path / "junk") in err


def test_config_before_the_subcommand(setup):
    config, _ = setup
    proc = subprocess.run([TERN_BIN, "user", "--config", str(config), "add", "dave@example.org"],
                          input=PASSWORD + "\n", capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([TERN_BIN, "user", "-c", str(config), "list", "--json"],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert json.loads(proc.stdout)["accounts"][0]["address"] == "dave@example.org"


def run_on_terminal(config, action, address, answers):
    """Runs `tern user ACTION ADDRESS` on a pseudo-terminal, answering each prompt in turn.

    Returns (exit code, everything the terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([TERN_BIN, "user", action, address, "--config", str(config)],
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + CLI_TIMEOUT

    def read_until(pattern):
        nonlocal shown
        while not re.search(pattern, shown):
            assert time.monotonic() < deadline, shown
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    shown += os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break

    for prompt, answer in answers:
        read_until(prompt)
        os.write(master, answer.encode() + b"\n")
    rc = proc.wait(timeout=CLI_TIMEOUT)
    try:
        while select.select([master], [], [], 0.2)[0]:
            chunk = os.read(master, 4096)
            if not chunk:
                break
            shown += chunk
    except OSError:
        pass
    os.close(master)
    return rc, shown.decode(errors="replace")


def test_prompt_with_echo_off(setup):
    config, database = setup
    rc, shown = run_on_terminal(config, "add", "erin@example.org", [
        (rb"New password for erin@example\.org: ", PASSWORD),
        (rb"Retype the password: ", PASSWORD)])
    assert rc == 0, shown
    assert PASSWORD not in shown  # echo was off
    assert "erin@example.org: account added" in shown

    rc, shown = run_on_terminal(config, "passwd", "erin@example.org", [
        (rb"New password for erin@example\.org: ", OTHER),
        (rb"Retype the password: ", OTHER + "x")])
    assert rc == 1
    assert "the passwords do not match" in shown
    assert OTHER not in shown
    assert len(rows(database)) == 1
