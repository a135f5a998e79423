# The settings a reload applies to new sessions (docs/operations.md): limits, time-outs and what
# the listeners offer, from the edited file, by SIGHUP and by `tern reload`; a session open across
# the reload keeps the limits it started with; a change a reload cannot apply (a listener's
# address) is named as pending and nothing of it happens; a file that does not load changes
# nothing.
import re
import signal
import subprocess
import time

from conftest import CLI_TIMEOUT, toml_text


def reload_command(tern):
    return subprocess.run([tern.binary, "reload", "-c", str(tern.config_path)],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)


def rcpts_accepted(d, count):
    d.ehlo()
    assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
    return [d.cmd(f"RCPT TO:<alice+{i}@localhost>").code for i in range(count)]


def wait_for_count(tern, pattern, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while len(re.findall(pattern, tern.log_text())) < count:
        assert time.monotonic() < deadline, f"{pattern} not logged {count} times"
        time.sleep(0.05)


def test_new_sessions_get_the_new_limits_open_ones_keep_theirs(tern_factory, tern_binary):
    t = tern_factory({"local": {"recipient_delimiter": "+"}}, binary=tern_binary)
    with t.dialog() as before:
        assert rcpts_accepted(before, 3) == [250, 250, 250]
        t.config.setdefault("limits", {})["recipients"] = 2
        t.config["limits"]["connections_per_client"] = 3
        t.config["smtp"]["starttls"] = False
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        done = reload_command(t)
        assert done.returncode == 0, done
        assert "pending" not in done.stdout and "next start" not in done.stdout, done.stdout
        # Open across the reload: its limit of 1000 recipients stays.
        assert before.cmd("RCPT TO:<alice+9@localhost>").code == 250
    with t.dialog() as after:
        after.send(b"EHLO client.test\r\n")
        ehlo = after.read_reply()
        assert "LIMITS RCPTMAX=2" in ehlo.text and "STARTTLS" not in ehlo.text, ehlo.text
        assert after.cmd("MAIL FROM:<sender@example.org>").code == 250
        codes = [after.cmd(f"RCPT TO:<alice+{i}@localhost>").code for i in range(3)]
        assert codes == [250, 250, 452], codes
    # The connection limit per client is the new one too: the fourth connection is refused.
    dialogs = [t.dialog() for _ in range(3)]
    try:
        with t.dialog(greeting=False) as fourth:
            assert fourth.read_reply().code == 421
    finally:
        for d in dialogs:
            d.close()


def test_a_change_a_reload_cannot_apply_is_named_and_waits(tern_factory):
    t = tern_factory()
    old_port = t.port
    t.config["smtp"]["listen"] = ["127.0.0.1:1"]
    t.config.setdefault("queue", {})["retry_schedule"] = ["7m"]
    t.config.setdefault("limits", {})["errors"] = 7
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    t.signal(signal.SIGHUP)
    wait_for_count(t, r"\bsettings_reload\b", 1)
    log = t.log_text()
    assert re.search(r"reload_pending setting=smtp\.listen\b", log), log
    assert re.search(r"reload_pending setting=queue\.retry_schedule\b", log), log
    assert not re.search(r"reload_pending setting=limits\.errors\b", log), log
    with t.dialog() as d:  # still on the old address
        assert d.ehlo().code == 250
    assert t.port == old_port
    done = reload_command(t)
    assert "reload: smtp.listen changed: it takes effect at the next start" in done.stdout, done


def test_a_file_that_does_not_load_changes_nothing(tern_factory):
    t = tern_factory({"local": {"recipient_delimiter": "+"}})
    t.config.setdefault("limits", {})["recipients"] = 2
    text = toml_text(t.config) + "\n[limits]\nnot_a_key = 1\n"
    t.config_path.write_text(text, encoding="utf-8")
    done = reload_command(t)
    assert done.returncode != 0, done
    with t.dialog() as d:
        assert rcpts_accepted(d, 3) == [250, 250, 250]  # the limit in use stayed
