# A reload builds the pipelines anew (docs/operations.md): an edited rules file or a changed
# [content], [dkim] or [mailauth] section applies to the sessions that start after it, a session
# open across the reload keeps the stages it started with, a rules file that does not compile
# keeps the stages in use (the rest of the file applies), and the policy store's settings wait
# for the next start.
# The stages a session holds outlive the reload that replaced them: the sanitizer build runs the
# tests where that matters.
import re
import signal
import subprocess

from conftest import CLI_TIMEOUT, begin_data, toml_text


def reload_command(tern):
    return subprocess.run([tern.binary, "reload", "-c", str(tern.config_path)],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)


def rewrite(t):
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")


def data_reply(d, text):
    begin_data(d)
    d.send(text + b"\r\n.\r\n")
    return d.read_reply()


def test_an_edited_rules_file_applies_to_new_sessions(tern_factory, tern_binary, tmp_path):
    rules = tmp_path / "header_checks"
    rules.write_text("/^Subject:.*old rule/ REJECT 5.7.1 Refused by the old rule\n")
    t = tern_factory({"content": {"header_checks": str(rules)},
                      "mailauth": {"verify": []}, "dkim": {"sign": False}}, binary=tern_binary)
    with t.dialog() as d:
        assert data_reply(d, b"Subject: old rule\r\n\r\nbody").text == \
            "550 5.7.1 Refused by the old rule"
    with t.dialog() as across:
        assert across.ehlo().code == 250
        rules.write_text("/^Subject:.*new rule/ REJECT 5.7.1 Refused by the new rule\n")
        done = reload_command(t)
        assert done.returncode == 0, done
        # Open across the reload: still judged by the rules it started with.
        assert data_reply(across, b"Subject: new rule\r\n\r\nbody").code == 250
    with t.dialog() as d:
        assert data_reply(d, b"Subject: new rule\r\n\r\nbody").text == \
            "550 5.7.1 Refused by the new rule"
    with t.dialog() as d:
        assert data_reply(d, b"Subject: old rule\r\n\r\nbody").code == 250
    # A second file named in [content] is read too, and the change is not pending.
    body_rules = tmp_path / "body_checks"
    body_rules.write_text("/^forbidden words$/ REJECT 5.7.1 Not in the body\n")
    t.config["content"]["body_checks"] = str(body_rules)
    rewrite(t)
    done = reload_command(t)
    assert done.returncode == 0, done
    assert "content.body_checks" not in done.stdout and "next start" not in done.stdout, done
    with t.dialog() as d:
        assert data_reply(d, b"Subject: hi\r\n\r\nforbidden words").text == \
            "550 5.7.1 Not in the body"


def test_a_rules_file_that_does_not_compile_keeps_the_stages_in_use(tern_factory, tmp_path):
    rules = tmp_path / "header_checks"
    rules.write_text("/^Subject:.*spam/ REJECT 5.7.1 No spam\n")
    t = tern_factory({"content": {"header_checks": str(rules)},
                      "mailauth": {"verify": []}, "dkim": {"sign": False},
                      "local": {"recipient_delimiter": "+"}})
    rules.write_text("/^Subject:.*(unclosed/ REJECT 5.7.1 never\n")
    t.config.setdefault("limits", {})["recipients"] = 1
    rewrite(t)
    # `tern reload` compiles the rules before it asks the daemon: refused, the daemon not asked.
    done = reload_command(t)
    assert done.returncode == 1, done
    assert "header_checks:1: bad pattern" in done.stderr and "refused" in done.stderr, done
    assert "settings_reload" not in t.log_text()
    # SIGHUP asks the daemon without that check: the stages in use stay (as certificates that
    # fail to load do), and the rest of the file applies.
    t.signal(signal.SIGHUP)
    t.wait_for_log(r"stages_reload .*header_checks:1: bad pattern")
    t.wait_for_log(r"settings_reload")
    with t.dialog() as d:
        assert data_reply(d, b"Subject: spam\r\n\r\nbody").text == "550 5.7.1 No spam"
    with t.dialog() as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        codes = [d.cmd(f"RCPT TO:<alice+{i}@localhost>").code for i in range(2)]
        assert codes == [250, 452], codes  # the new limit of recipients
    # Mended: the next reload applies it.
    rules.write_text("/^Subject:.*mended/ REJECT 5.7.1 Mended rule\n")
    done = reload_command(t)
    assert done.returncode == 0, done
    with t.dialog() as d:
        assert data_reply(d, b"Subject: mended\r\n\r\nbody").text == "550 5.7.1 Mended rule"
    with t.dialog() as d:
        assert data_reply(d, b"Subject: spam\r\n\r\nbody").code == 250


def signatures(delivered):
    head = delivered.split(b"\n\n", 1)[0]
    return re.findall(rb"^DKIM-Signature:", head, re.MULTILINE)


def test_signing_turned_on_by_a_reload(tern_factory):
    t = tern_factory({"dkim": {"sign": False}, "mailauth": {"verify": []}})
    message = (b"From: alice@localhost\r\nTo: bob@localhost\r\nSubject: signed?\r\n"
               b"Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n")
    assert t.send_message(message, sender="alice@localhost", recipients=["bob@localhost"]).code \
        == 250
    assert signatures(t.wait_for_message("bob", timeout=15)) == []
    t.config["dkim"]["sign"] = True
    rewrite(t)
    done = reload_command(t)
    assert done.returncode == 0, done
    assert "dkim.sign" not in done.stdout, done.stdout
    # The keys a first start would make are made now, for the local domain.
    t.wait_for_log(r"dkim_key_generated .*tern-rsa\._domainkey\.localhost")
    assert t.send_message(message, sender="alice@localhost", recipients=["bob@localhost"]).code \
        == 250
    messages = [f.read_bytes() for f in t.wait_for_messages("bob", count=2, timeout=15)]
    assert sorted(len(signatures(m)) for m in messages) == [0, 2]
    # The maildrop's pickup (`tern sendmail`) takes the new local pipeline too.
    sent = subprocess.run([t.binary, "-c", str(t.config_path), "sendmail", "-f",
                           "alice@localhost", "bob@localhost"],
                          input=b"From: alice@localhost\nSubject: dropped\n\nbody\n",
                          capture_output=True, timeout=CLI_TIMEOUT)
    assert sent.returncode == 0, sent
    messages = [f.read_bytes() for f in t.wait_for_messages("bob", count=3, timeout=15)]
    dropped = [m for m in messages if b"Subject: dropped" in m]
    assert len(dropped) == 1 and len(signatures(dropped[0])) == 2, dropped


def test_the_policy_stores_settings_wait_for_the_next_start(tern_factory):
    # Loopback untrusted, so that greylisting would apply to it.
    t = tern_factory({"mailauth": {"verify": []}, "dkim": {"sign": False},
                      "relay": {"trusted_networks": []}})
    t.config["greylist"] = {"enabled": True, "listeners": ["mx"]}
    t.config["score"] = {"reject": 5}
    rewrite(t)
    done = reload_command(t)
    assert done.returncode == 0, done
    assert "reload: greylist.enabled changed: it takes effect at the next start" in done.stdout, \
        done.stdout
    assert "score.reject" not in done.stdout, done.stdout
    # Not greylisted: the store and its settings are the ones of the start.
    with t.dialog() as d:
        assert data_reply(d, b"Subject: hi\r\n\r\nbody").code == 250


def test_a_milter_dropped_from_the_file_still_serves_sessions_open_across(tern_factory, tern_binary,
                                                                          tmp_path):
    from test_milter import MilterPeer, milter_config
    peer = MilterPeer(tmp_path, "reject")
    try:
        config = milter_config(peer.port)
        config.update({"mailauth": {"verify": []}, "dkim": {"sign": False}})
        t = tern_factory(config, binary=tern_binary)
        with t.dialog() as across:
            assert across.ehlo().code == 250
            t.config["milter"]["mx"] = []
            rewrite(t)
            done = reload_command(t)
            assert done.returncode == 0, done
            assert "milter.mx" not in done.stdout, done.stdout
            assert data_reply(across, b"Subject: across\r\n\r\nbody").text == \
                "550 5.7.1 Message content rejected"
        with t.dialog() as d:
            assert data_reply(d, b"Subject: after\r\n\r\nbody").code == 250
        # And back: a milter named anew is asked from the next session.
        t.config["milter"]["mx"] = [f"inet:127.0.0.1:{peer.port}"]
        rewrite(t)
        assert reload_command(t).returncode == 0
        with t.dialog() as d:
            assert data_reply(d, b"Subject: again\r\n\r\nbody").text == \
                "550 5.7.1 Message content rejected"
    finally:
        peer.stop()
