# Who exists, changed while the daemon runs: after editing local.users, local.domains or the
# aliases file, SIGHUP and `tern reload` make the next RCPT use them, without a restart and
# without dropping a session that is open across the reload; a broken aliases file is refused and
# what is in use stays.
import re
import signal
import subprocess
import time

from conftest import CLI_TIMEOUT, toml_text


def rcpt(d, address):
    return d.cmd(f"RCPT TO:<{address}>")


def wait_for_log_count(tern, pattern, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while len(re.findall(pattern, tern.log_text())) < count:
        assert time.monotonic() < deadline, f"{pattern} not logged {count} times:\n{tern.log_text()}"
        time.sleep(0.05)


def reload_command(tern, *args):
    return subprocess.run([tern.binary, "reload", "-c", str(tern.config_path), *args],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)


def test_users_domains_and_aliases_are_read_again(tern_factory, tern_binary):
    # Relaying only from elsewhere, so that mail to a domain that is not local is refused here.
    t = tern_factory({"relay": {"trusted_networks": ["192.0.2.0/24"]}}, aliases="team: alice\n",
                     binary=tern_binary)
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert rcpt(d, "carol@localhost").code == 550
        assert rcpt(d, "sales@localhost").code == 550
        assert rcpt(d, "alice@example.net").code == 554  # not local, and no relaying for us
        assert rcpt(d, "team@localhost").code == 250

        # Edited while this session is open: a user, a domain and an alias more.
        t.config["local"]["users"] = ["alice", "bob", "carol"]
        t.config["local"]["domains"] = ["localhost", "example.net"]
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        (t.dir / "aliases").write_text("team: alice\nsales: carol, bob\n")
        done = reload_command(t)
        assert done.returncode == 0, done
        assert "2 local domain(s), 3 user(s) and 2 alias(es) in use" in done.stdout, done.stdout

        # The same session goes on and its next RCPTs see the new directory.
        assert rcpt(d, "carol@localhost").code == 250
        assert rcpt(d, "sales@localhost").code == 250
        assert rcpt(d, "alice@example.net").code == 250
        assert d.cmd("DATA").code == 354
        d.send(b"Subject: after the reload\r\n\r\nhello\r\n.\r\n")
        assert d.read_reply().code == 250
        d.cmd("QUIT")
    t.wait_for_empty_queue()
    assert t.subjects("carol") == ["after the reload"]  # carol and sales: one address, one copy
    assert t.subjects("bob") == ["after the reload"]
    assert t.subjects("alice") == ["after the reload"] * 2  # alice@localhost and @example.net

    # A broken aliases file: SIGHUP logs the error and keeps what is in use.
    (t.dir / "aliases").write_text("team: alice\nthis line has no colon\n")
    t.signal(signal.SIGHUP)
    wait_for_log_count(t, r"\bdirectory_reload error=", 1)
    assert re.search(r"directory_reload error=\S*aliases:2: missing ':'", t.log_text()), t.log_text()
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert rcpt(d, "sales@localhost").code == 250
    # `tern reload` refuses it before asking the daemon.
    refused = reload_command(t)
    assert refused.returncode == 1 and "aliases:2" in refused.stderr, refused
    # Asked over the control socket (a client that does not check first): the reply says so.
    reply = t.control({"cmd": "reload"})
    assert reply["ok"] is False, reply
    assert reply["error"].startswith("local directory: "), reply
    assert reply["error"].endswith("(the domains, users and aliases in use are kept)"), reply


def test_lmtp_routes_are_checked_and_wait_for_the_next_start(tern_factory):
    t = tern_factory()
    t.config["local"]["domains"] = ["localhost", "example.org"]
    # A route for a domain that is not local: serve would refuse it, so the reload does too.
    t.config["local"]["lmtp"] = ["example.net = unix:/run/dovecot/lmtp"]
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    refused = reload_command(t)
    assert refused.returncode == 1, refused
    assert "local.lmtp: example.net is not one of local.domains" in refused.stderr, refused
    reply = t.control({"cmd": "reload"})
    assert reply["ok"] is False and "local.lmtp: example.net" in reply["error"], reply
    # A good one: the directory is taken now, the route at the next start, and it says so.
    t.config["local"]["lmtp"] = ["example.org = unix:/run/dovecot/lmtp"]
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    done = reload_command(t)
    assert done.returncode == 0, done
    assert "2 local domain(s)" in done.stdout, done.stdout
    assert "reload: local.lmtp changed: it takes effect at the next start" in done.stdout, done.stdout
    wait_for_log_count(t, r"\breload_pending setting=local\.lmtp\b", 1)
