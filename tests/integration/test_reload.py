# The settings a reload applies to new sessions (docs/operations.md): limits, time-outs, what
# the listeners offer and the trusted networks, from the edited file, by SIGHUP and by `tern
# reload`; a session open across the reload keeps what it started with; the SMTP listeners
# follow the file's addresses without dropping open sessions, and an address that cannot be
# bound keeps them all as they were; a change a reload cannot apply (the HTTP listener's
# address) is named as pending and nothing of it happens; a file that does not load changes
# nothing.
import re
import signal
import socket
import subprocess
import time

from conftest import CLI_TIMEOUT, Dialog, free_port, queue_id, toml_text
from peers import SmtpPeer


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


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_listeners_follow_the_file_and_open_sessions_go_on(tern_factory):
    t = tern_factory()
    old_mx, old_submission = t.port, t.submission_port
    new_mx = free_port()
    with t.dialog() as across:
        assert across.ehlo().code == 250
        # The MX listener moves to a new port; the submission port becomes a second MX one.
        t.config["smtp"]["listen"] = [f"127.0.0.1:{new_mx}", f"127.0.0.1:{old_submission}"]
        t.config["submission"]["listen"] = []
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        done = reload_command(t)
        assert done.returncode == 0, done
        assert f"reload: smtp 127.0.0.1:{new_mx} now listening" in done.stdout, done.stdout
        assert f"reload: smtp 127.0.0.1:{old_mx} closed" in done.stdout, done.stdout
        assert f"reload: submission 127.0.0.1:{old_submission} closed" in done.stdout
        assert f"reload: smtp 127.0.0.1:{old_submission} now listening" in done.stdout
        assert "pending" not in done.stdout and "next start" not in done.stdout, done.stdout
        # The session opened on the closed listener goes on to the end of its message.
        assert across.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert across.cmd("RCPT TO:<alice@localhost>").code == 250
        assert across.cmd("DATA").code == 354
        across.send(b"Subject: across\r\n\r\nbody\r\n.\r\n")
        assert across.read_reply().code == 250
    assert refused(old_mx)
    for port in (new_mx, old_submission):
        with Dialog(port) as d:
            assert d.read_reply().code == 220
            assert d.ehlo().code == 250
            # An MX listener now: mail without AUTH is taken (submission would say 530).
            assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
    t.wait_for_log(r"listener_close listener=\"?smtp 127\.0\.0\.1:" + str(old_mx))
    t.port = new_mx  # where the fixture finds it from now on


def test_an_address_that_cannot_be_bound_keeps_every_listener(tern_factory):
    t = tern_factory()
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        busy = taken.getsockname()[1]
        t.config["smtp"]["listen"] = [f"127.0.0.1:{busy}"]
        t.config.setdefault("limits", {})["recipients"] = 2
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        done = reload_command(t)
        assert done.returncode != 0, done
        assert f"127.0.0.1:{busy}" in done.stderr and "listeners in use are kept" in done.stderr
    finally:
        taken.close()
    # Listed twice: refused as such, nothing changes.
    t.config["smtp"]["listen"] = [f"127.0.0.1:{t.port}", f"127.0.0.1:{t.port}"]
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    done = reload_command(t)
    assert done.returncode != 0 and "is listed twice" in done.stderr, done
    with t.dialog() as d:  # the old listener, and the old limits
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert [d.cmd(f"RCPT TO:<{u}@localhost>").code for u in ("alice", "bob", "postmaster")] \
            == [250, 250, 250]


def test_trusted_networks_apply_to_new_sessions(tern_factory):
    t = tern_factory({"relay": {"trusted_networks": ["192.0.2.0/24"]}})

    def relay_rcpt(d):
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        return d.cmd("RCPT TO:<someone@example.com>")

    with t.dialog() as before:
        r = relay_rcpt(before)
        assert r.code == 554 or r.code == 550, r
        assert "5.7.1" in r.text, r
        t.config["relay"]["trusted_networks"] = ["127.0.0.0/8"]
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        done = reload_command(t)
        assert done.returncode == 0, done
        assert before.cmd("RCPT TO:<other@example.com>").code >= 500  # kept its settings
    with t.dialog() as after:
        assert relay_rcpt(after).code == 250


def test_routes_apply_from_each_recipients_next_attempt(tern_factory, tmp_path):
    closed_port = free_port()  # nothing listens there: the first attempt is deferred
    peer = SmtpPeer(tmp_path, "127.0.0.1", free_port())
    try:
        t = tern_factory({"relay": {"routes": [f"routed.example = [127.0.0.1]:{closed_port}"],
                                    "connect_timeout": "2s"},
                          "queue": {"retry_schedule": ["1h"], "delay_warning": "0"}})
        body = b"Subject: rerouted\r\n\r\nby the new route\r\n"
        qid = queue_id(t.send_message(body, sender="bob@localhost",
                                      recipients=["someone@routed.example"]))
        deadline = time.monotonic() + 15
        while t.recipient_states(qid)["someone@routed.example"]["attempts"] < 1:
            assert time.monotonic() < deadline, "no first attempt"
            time.sleep(0.1)
        assert peer.messages() == []
        t.config["relay"]["routes"] = [f"routed.example = [127.0.0.1]:{peer.port}"]
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        done = reload_command(t)
        assert done.returncode == 0, done
        assert "relay.routes" not in done.stdout, done.stdout  # applied, not pending
        assert t.queue("retry", qid).returncode == 0
        envelope, _ = peer.wait_for_messages(1)[0]
        assert envelope["rcpt_tos"] == ["someone@routed.example"], envelope
        # A route that does not parse is refused and the one in use stays.
        t.config["relay"]["smarthost"] = "[not a host"
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        assert reload_command(t).returncode != 0
        queue_id(t.send_message(body, sender="bob@localhost", recipients=["again@routed.example"]))
        assert len(peer.wait_for_messages(2)) == 2
    finally:
        peer.stop()


def test_a_change_a_reload_cannot_apply_is_named_and_waits(tern_factory):
    t = tern_factory()
    t.config.setdefault("dns", {})["timeout"] = "7s"
    t.config.setdefault("pregreet", {})["wait"] = "0"
    t.config.setdefault("limits", {})["errors"] = 7
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    t.signal(signal.SIGHUP)
    wait_for_count(t, r"\bsettings_reload\b", 1)
    log = t.log_text()
    assert re.search(r"reload_pending setting=dns\.timeout\b", log), log
    assert re.search(r"reload_pending setting=pregreet\.wait\b", log), log
    assert not re.search(r"reload_pending setting=limits\.errors\b", log), log
    done = reload_command(t)
    assert "reload: dns.timeout changed: it takes effect at the next start" in done.stdout, done
    assert "limits.errors" not in done.stdout, done


def http_get(sock):
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    return sock.recv(4096)


def test_http_limits_apply_to_connections_accepted_after(tern_factory):
    t = tern_factory()
    body = b"x" * 100
    post = (b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + body)
    with socket.create_connection(("127.0.0.1", t.http_port), timeout=5) as across:
        assert http_get(across).startswith(b"HTTP/1.1 200 ")
        t.config["http"]["max_body"] = 10
        t.config["http"]["max_connections"] = 1
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        done = reload_command(t)
        assert done.returncode == 0, done
        assert "http." not in done.stdout, done.stdout  # applied, none pending
        # Accepted before: its body limit is the old one (the route refuses the method).
        across.sendall(post)
        assert across.recv(4096).startswith(b"HTTP/1.1 405 "), "the old body limit"
        # It is the one connection the new limit allows: another is refused while it is open.
        with socket.create_connection(("127.0.0.1", t.http_port), timeout=5) as second:
            assert http_get(second).startswith(b"HTTP/1.1 503 ")
    # Accepted after: the new body limit.
    deadline = time.monotonic() + 10
    while True:  # the closed connection is counted until its coroutine has ended
        with socket.create_connection(("127.0.0.1", t.http_port), timeout=5) as after:
            after.sendall(post)
            reply = after.recv(4096)
        if not reply.startswith(b"HTTP/1.1 503 ") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert reply.startswith(b"HTTP/1.1 413 ") and b"over 10 octets" in reply, reply


def test_the_http_listener_moves(tern_factory):
    t = tern_factory()
    old_http, new_http = t.http_port, free_port()
    with socket.create_connection(("127.0.0.1", old_http), timeout=5) as across:
        t.config["http"]["listen"] = [f"127.0.0.1:{new_http}"]
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        done = reload_command(t)
        assert done.returncode == 0, done
        assert f"reload: http 127.0.0.1:{new_http} now listening" in done.stdout, done.stdout
        assert f"reload: http 127.0.0.1:{old_http} closed" in done.stdout, done.stdout
        # A connection made before the reload is still served.
        across.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert across.recv(4096).startswith(b"HTTP/1.1 200 ")
    assert refused(old_http)
    with socket.create_connection(("127.0.0.1", new_http), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200 ")
    t.http_port = new_http


def test_a_file_that_does_not_load_changes_nothing(tern_factory):
    t = tern_factory({"local": {"recipient_delimiter": "+"}})
    t.config.setdefault("limits", {})["recipients"] = 2
    text = toml_text(t.config) + "\n[limits]\nnot_a_key = 1\n"
    t.config_path.write_text(text, encoding="utf-8")
    done = reload_command(t)
    assert done.returncode != 0, done
    with t.dialog() as d:
        assert rcpts_accepted(d, 3) == [250, 250, 250]  # the limit in use stayed


def test_the_queue_takes_the_new_schedule_lifetime_and_notice_size(tern_factory, tern_binary):
    t = tern_factory({"queue": {"retry_schedule": ["1h"], "max_lifetime": "1h",
                                "delay_warning": "0"}}, binary=tern_binary)
    t.block_mailbox("alice")
    body = (b"Subject: waits\r\nFrom: bob@localhost\r\nMessage-ID: <reload@client.test>\r\n\r\n"
            b"This body comes back only while the notice size allows it.\r\n")
    qid = queue_id(t.send_message(body, sender="bob@localhost", recipients=["alice@localhost"],
                                  mail_params=" RET=FULL"))
    state = t.wait_for_attempts(qid, "alice@localhost", 1)
    assert state["next_attempt"] - state["last_attempt"] == 3600, state
    t.config["queue"]["retry_schedule"] = ["1s"]
    t.config["queue"]["bounce_size_limit"] = 20  # smaller than the message
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    done = reload_command(t)
    assert done.returncode == 0, done
    assert "queue." not in done.stdout, done.stdout  # applied, none pending
    # The retry already scheduled keeps its hour; once tried, the next delay is the new one.
    assert t.recipient_states(qid)["alice@localhost"]["attempts"] == 1
    assert t.queue("retry", qid).returncode == 0
    state = t.wait_for_attempts(qid, "alice@localhost", 3, timeout=10)
    assert state["next_attempt"] - state["last_attempt"] == 1, state
    # A lifetime the message has outlived: its next failure returns it, headers only now.
    t.config["queue"]["max_lifetime"] = "2s"
    t.config_path.write_text(toml_text(t.config), encoding="utf-8")
    assert reload_command(t).returncode == 0
    notice = t.wait_for_message("bob", timeout=10)
    assert b"queued for longer than 2s" in b" ".join(notice.split()), notice
    assert b"<reload@client.test>" in notice and b"This body comes back" not in notice, notice
    t.wait_for_empty_queue()


def test_the_relay_takes_the_new_limits_per_transaction(tern_factory, tmp_path):
    peer = SmtpPeer(tmp_path, "127.0.0.1", free_port())
    try:
        t = tern_factory({"relay": {"routes": [f"peer.example = [127.0.0.1]:{peer.port}"]}})
        body = b"Subject: to the peer\r\n\r\nbody\r\n"
        both = ["a@peer.example", "b@peer.example"]
        assert t.send_message(body, sender="bob@localhost", recipients=both).code == 250
        assert [e["rcpt_tos"] for e, _ in peer.wait_for_messages(1)] == [both]
        t.config["relay"]["recipients_per_transaction"] = 1
        t.config["relay"]["command_timeout"] = "1m"
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        done = reload_command(t)
        assert done.returncode == 0, done
        assert "relay." not in done.stdout, done.stdout  # applied, none pending
        assert t.send_message(body, sender="bob@localhost", recipients=both).code == 250
        got = [e["rcpt_tos"] for e, _ in peer.wait_for_messages(3)]
        assert got[0] == both and sorted(got[1:]) == [["a@peer.example"], ["b@peer.example"]], got
    finally:
        peer.stop()


def test_the_concurrency_per_destination_follows_a_reload(tern_factory, tmp_path):
    peer = SmtpPeer(tmp_path, "127.0.0.1", free_port(), delay_data=1)  # each DATA takes 1 s
    try:
        t = tern_factory({"relay": {"routes": [f"peer.example = [127.0.0.1]:{peer.port}"],
                                    "destination_concurrency": 1}})

        def send_three(n):
            for i in range(3):
                body = f"Subject: {n}.{i}\r\n\r\nbody\r\n".encode()
                assert t.send_message(body, sender="bob@localhost",
                                      recipients=["a@peer.example"]).code == 250

        send_three(1)
        peer.wait_for_messages(3)
        assert peer.max_concurrent_connections() == 1
        t.config["relay"]["destination_concurrency"] = 3
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        done = reload_command(t)
        assert done.returncode == 0, done
        assert "destination_concurrency" not in done.stdout, done.stdout
        send_three(2)
        peer.wait_for_messages(6)
        assert peer.max_concurrent_connections() >= 2, peer.events()
    finally:
        peer.stop()
