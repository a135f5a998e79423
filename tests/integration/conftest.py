# Fixtures for Tern's end-to-end tests: start a real `tern serve` on a free loopback port with a
# generated TOML config, talk SMTP to it, and fail the test if it stops badly or a sanitizer spoke.
import email
import email.policy
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TERN_BIN = os.environ.get("TERN_BIN") or str(ROOT / "build" / "tern")
TERN_ASAN_BIN = os.environ.get("TERN_ASAN_BIN", "")

HOSTNAME = "mx.tern.test"    # [server] hostname of every daemon started here
SOCKET_TIMEOUT = 10.0        # seconds any single socket operation may take
START_TIMEOUT = 10.0         # seconds until the SMTP port must accept
STOP_TIMEOUT = 15.0          # seconds after SIGTERM before SIGKILL
CLI_TIMEOUT = 15.0           # seconds a `tern queue ...` command may take
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def free_port():
    """A TCP port on 127.0.0.1, outside the kernel's ephemeral range (see peers.free_port)."""
    from peers import free_port as free_port_outside_ephemeral_range
    return free_port_outside_ephemeral_range()


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string (same escapes, \uXXXX included).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def toml_text(config):
    out = []
    for section, keys in config.items():
        out.append(f"[{section}]")
        for key, value in keys.items():
            out.append(f"{key} = {toml_value(value)}")
        out.append("")
    return "\n".join(out)


def merge_config(base, overrides):
    """Section-wise merge; a value of None removes the key."""
    merged = {section: dict(keys) for section, keys in base.items()}
    for section, keys in (overrides or {}).items():
        target = merged.setdefault(section, {})
        for key, value in keys.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
    return merged


class Reply:
    """One SMTP reply, possibly multi-line."""

    def __init__(self, lines):
        self.lines = lines
        self.code = int(lines[-1][:3])
        m = re.match(r"\d{3}[ -](\d\.\d{1,3}\.\d{1,3})(?: |$)", lines[-1])
        self.status = m.group(1) if m else None

    @property
    def text(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return f"Reply({self.text!r})"


class ConnectionClosed(Exception):
    pass


class Dialog:
    """A raw SMTP client socket: sends exact bytes and reads whole replies."""

    def __init__(self, port, source=None, timeout=SOCKET_TIMEOUT):
        self.timeout = timeout
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout, source_address=(source, 0) if source else None)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no complete reply; have {self.buf!r}")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        finally:
            self.sock.settimeout(self.timeout)
        if not chunk:
            raise ConnectionClosed(f"connection closed; unread {self.buf!r}")
        self.buf += chunk

    def read_reply(self, timeout=None):
        """Reads lines until one of the form "NNN text" ends the reply."""
        deadline = time.monotonic() + (timeout or self.timeout)
        lines = []
        while True:
            nl = self.buf.find(b"\r\n")
            if nl < 0:
                self._recv(deadline)
                continue
            line = self.buf[:nl].decode("utf-8", "replace")
            self.buf = self.buf[nl + 2:]
            assert re.match(r"\d{3}([ -]|$)", line), f"malformed reply line {line!r}"
            lines.append(line)
            if len(line) == 3 or line[3] == " ":
                return Reply(lines)

    def read_replies(self, n, timeout=None):
        return [self.read_reply(timeout) for _ in range(n)]

    def cmd(self, line):
        """Sends one command line (CRLF added) and returns its reply."""
        self.send(line.encode() + b"\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.read_reply()

    def ehlo(self, name="client.test"):
        r = self.cmd(f"EHLO {name}")
        assert r.code == 250, r
        return r

    def expect_closed(self, timeout=5.0):
        """Asserts the server closes the connection without sending anything more."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._recv(deadline)
        except ConnectionClosed:
            pass
        assert self.buf == b"", f"unexpected bytes before close: {self.buf!r}"


def begin_data(d, rcpt="alice@localhost"):
    """EHLO, MAIL, one RCPT and DATA on a Dialog, each accepted."""
    d.ehlo()
    assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
    assert d.cmd(f"RCPT TO:<{rcpt}>").code == 250
    assert d.cmd("DATA").code == 354


def assert_nothing_delivered(tern, wait=1.0):
    time.sleep(wait)
    assert tern.all_messages() == []


def queue_id(reply):
    """The queue id named by a "250 2.0.0 Ok: queued as ID" reply (Reply or text)."""
    text = reply.text if isinstance(reply, Reply) else reply
    m = re.search(r"queued as (\S+)", text)
    assert m, f"no queue id in {text!r}"
    return m.group(1)


def maildir_form(wire):
    """The bytes a Maildir file holds for message text sent as `wire`: each CR LF written as LF
    (Maildir's line end, which mail readers expect); a lone CR stays."""
    return wire.replace(b"\r\n", b"\n")


def split_trace(data):
    """Splits a delivered Maildir file into its trace fields (Return-Path, Delivered-To, Received,
    as prepended by Tern; folded lines joined with CR LF, as on the wire) and the rest of the
    file, the message (in Maildir form: compare it with maildir_form(what the client sent))."""
    fields = {}
    pos = 0
    for name in ("Return-Path", "Delivered-To", "Received"):
        end = data.index(b"\n", pos)
        line = data[pos:end]
        assert line.startswith(name.encode() + b": "), f"expected {name} at {data[pos:pos + 80]!r}"
        assert not line.endswith(b"\r"), f"a CR LF line end in a Maildir file: {line!r}"
        value = line[len(name) + 2:]
        pos = end + 1
        while data[pos:pos + 1] in (b" ", b"\t"):
            end = data.index(b"\n", pos)
            value += b"\r\n" + data[pos:end]
            pos = end + 1
        fields[name] = value.decode("utf-8", "replace")
    return fields, data[pos:]


class Notice:
    """A delivery status notification (RFC 3464) as delivered to a mailbox, its structure checked:
    multipart/report; report-type=delivery-status with a readable part, a message/delivery-status
    part (one per-message block, then one block per recipient) and the returned original."""

    STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")

    def __init__(self, data):
        self.message = email.message_from_bytes(data, policy=email.policy.default)
        m = self.message
        assert m["Return-Path"] == "<>", f"a notice must come from the null sender: {m['Return-Path']}"
        assert m["Auto-Submitted"] == "auto-replied", m["Auto-Submitted"]
        assert m.get_content_type() == "multipart/report", m.get_content_type()
        assert m.get_param("report-type") == "delivery-status", m["Content-Type"]
        parts = m.get_payload()
        assert len(parts) == 3, [p.get_content_type() for p in parts]
        readable, status, self.returned = parts
        assert readable.get_content_type() == "text/plain"
        self.text = readable.get_content()
        assert status.get_content_type() == "message/delivery-status", status.get_content_type()
        blocks = status.get_payload()
        assert len(blocks) >= 2, f"per-message block and at least one recipient block: {blocks}"
        self.fields, self.recipients = blocks[0], blocks[1:]
        assert self.fields["Reporting-MTA"] == f"dns; {HOSTNAME}", self.fields["Reporting-MTA"]
        for r in self.recipients:
            assert r["Final-Recipient"].startswith("rfc822; "), r["Final-Recipient"]
            assert r["Action"] in ("failed", "delayed", "delivered", "relayed", "expanded"), r["Action"]
            assert self.STATUS.fullmatch(r["Status"]), r["Status"]
            if r["Action"] in ("failed", "delayed"):
                assert r["Diagnostic-Code"], f"no Diagnostic-Code for {r['Final-Recipient']}"

    def recipient(self, address):
        """The per-recipient block of the notice for `address`."""
        for r in self.recipients:
            if r["Final-Recipient"] == f"rfc822; {address}":
                return r
        raise AssertionError(f"no block for {address} in {[str(r) for r in self.recipients]}")

    def returned_message(self):
        """The whole original, when the notice returns it (RET=FULL)."""
        assert self.returned.get_content_type() == "message/rfc822", self.returned.get_content_type()
        return self.returned.get_payload()[0]

    def returned_headers(self):
        """The original's header section, when the notice returns only that (RET=HDRS)."""
        ctype = self.returned.get_content_type()
        assert ctype == "text/rfc822-headers", ctype
        return email.message_from_string(self.returned.get_payload(), policy=email.policy.default)


class Tern:
    """One daemon: its directory, config, process and the helpers to talk to it."""

    def __init__(self, workdir, binary, overrides=None, aliases=None):
        self.dir = Path(workdir)
        self.binary = binary
        self.port = free_port()
        # Submission listeners on ports of their own, never the embedded defaults (2587, 2465),
        # which another daemon on this machine may hold.
        self.submission_port = free_port()
        self.submissions_port = free_port()
        self.http_port = free_port()  # metrics and health (docs/http.md), not the default 8025
        self.data_dir = self.dir / "data"
        self.config_path = self.dir / "tern.toml"
        self.stderr_path = self.dir / "stderr.log"
        base = {
            "server": {"hostname": HOSTNAME, "data_dir": str(self.data_dir), "shutdown_grace": "1s"},
            "smtp": {"listen": [f"127.0.0.1:{self.port}"]},
            "submission": {"listen": [f"127.0.0.1:{self.submission_port}"]},
            "submissions": {"listen": [f"127.0.0.1:{self.submissions_port}"]},
            "http": {"listen": [f"127.0.0.1:{self.http_port}"]},
            "local": {"users": ["alice", "bob"]},
            # Mail authentication is tested in test_mailauth_daemon.py with a DNS server of its
            # own; elsewhere it would ask the machine's resolver and change delivered messages.
            "mailauth": {"verify": []},
            "dkim": {"sign": False},
        }
        if aliases is not None:
            aliases_path = self.dir / "aliases"
            aliases_path.write_text(aliases, encoding="utf-8")
            base["local"]["aliases"] = str(aliases_path)
        self.config = merge_config(base, overrides)
        self.data_dir = Path(self.config["server"]["data_dir"])  # a test may place it elsewhere
        self.extra_env = {}  # added to the daemon's environment (an LD_PRELOAD, say)
        self.proc = None
        self.returncode = None
        self.killed = False
        self._stderr = None

    @property
    def pid(self):
        return self.proc.pid

    @property
    def log_file(self):
        f = self.config.get("log", {}).get("file")
        return Path(f) if f else None

    def start(self):
        """Starts the daemon; after crash() or restart() the same config, port, data directory and
        log file (appended to) are used again."""
        self.config_path.write_text(toml_text(self.config), encoding="utf-8")
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.update(self.extra_env)
        self._stderr = open(self.stderr_path, "ab")
        self.returncode = None
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--config", str(self.config_path)],
            stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr, cwd=self.dir, env=env)
        self._wait_ready()
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"tern exited with {self.proc.returncode} at start:\n{self.log_text()}")
            try:
                with Dialog(self.port, timeout=2.0) as d:
                    assert d.read_reply().code == 220
                    d.cmd("QUIT")
                    d.expect_closed()
                break
            except (OSError, ConnectionClosed):
                if time.monotonic() > deadline:
                    raise AssertionError(f"port {self.port} not accepting after {START_TIMEOUT}s:\n"
                                         + self.log_text())
                time.sleep(0.05)
        # Let the probe's connection slot go before a test counts connections.
        self.wait_for_log(r"disconnect", timeout=2.0, required=False)
        time.sleep(0.05)

    def signal(self, sig):
        os.kill(self.proc.pid, sig)  # this daemon's own pid, never a name

    def wait(self, timeout):
        """Waits for the process to exit; returns its exit code or None if it is still running."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self):
        if self.proc is None or self.returncode is not None:
            self._close_stderr()
            return self.returncode
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
        if self.wait(STOP_TIMEOUT) is None:
            self.killed = True
            self.proc.kill()
            self.returncode = self.proc.wait(timeout=STOP_TIMEOUT)
        self._close_stderr()
        return self.returncode

    def crash(self):
        """Kills the daemon with SIGKILL, as a crash would, and reaps it. A crash is this test's
        doing, not a problem of the daemon's; start() brings it back."""
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)
        self._close_stderr()
        self.proc = None

    def restart(self):
        """Stops the daemon with SIGTERM (it must exit cleanly) and starts it again."""
        assert self.stop() == 0, "\n".join(self.problems())
        return self.start()

    def _close_stderr(self):
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def problems(self):
        """What went wrong with this daemon's life, for the fixture's teardown."""
        out = []
        if self.proc is None:
            return out
        if self.killed:
            out.append(f"tern (pid {self.pid}) still running {STOP_TIMEOUT}s after SIGTERM; killed")
        elif self.returncode != 0:
            out.append(f"tern (pid {self.pid}) exited with {self.returncode}")
        text = self.log_text()
        for mark in SANITIZER_MARKS:
            if mark in text:
                out.append(f"tern log holds {mark!r}")
        if out:
            out.append("log tail:\n" + "\n".join(text.splitlines()[-40:]))
        return out

    # --- talking to it ---

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.test", timeout=SOCKET_TIMEOUT)

    def dialog(self, source=None, greeting=True, timeout=SOCKET_TIMEOUT):
        """A raw client; with greeting=True the 220 is read and checked."""
        d = Dialog(self.port, source=source, timeout=timeout)
        if greeting:
            r = d.read_reply()
            assert r.code == 220, r
        return d

    def send_message(self, body, sender="sender@example.org", recipients=("postmaster@localhost",),
                     mail_params="", rcpt_params=""):
        """One whole transaction over a raw socket; returns the final reply. The parameters are
        appended to MAIL and to every RCPT (" RET=HDRS", " NOTIFY=NEVER")."""
        with self.dialog() as d:
            d.ehlo()
            r = d.cmd(f"MAIL FROM:<{sender}>{mail_params}".encode())
            assert r.code == 250, r
            for rcpt in recipients:
                r = d.cmd(f"RCPT TO:<{rcpt}>{rcpt_params}".encode())
                assert r.code == 250, r
            r = d.cmd("DATA")
            assert r.code == 354, r
            d.send(body + b".\r\n")
            final = d.read_reply()
            assert d.cmd("QUIT").code == 221
            return final

    # --- its queue, through the `tern queue` command ---

    def queue(self, *args):
        """Runs `tern queue ARGS` against this daemon; returns the CompletedProcess (text)."""
        return subprocess.run([self.binary, "queue", *args, "--config", str(self.config_path)],
                              capture_output=True, text=True, timeout=CLI_TIMEOUT)

    def control(self, request):
        """One request straight over the control socket (as a client that checks nothing first
        would send it); returns the daemon's parsed reply."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(CLI_TIMEOUT)
            sock.connect(str(self.data_dir / "control.sock"))
            sock.sendall(json.dumps(request).encode() + b"\n")
            return json.loads(sock.makefile("rb").readline())

    def queue_json(self, *args):
        """The parsed reply of `tern queue ARGS --json`, which must succeed."""
        proc = self.queue(*args, "--json")
        assert proc.returncode == 0, f"tern queue {' '.join(args)}: {proc.returncode}\n{proc.stdout}{proc.stderr}"
        reply = json.loads(proc.stdout)
        assert reply["ok"] is True, reply
        return reply

    def queued(self):
        """The messages `tern queue list --json` shows, by id."""
        return {m["id"]: m for m in self.queue_json("list")["messages"]}

    def recipient_states(self, qid):
        """Per recipient address, what `tern queue show ID --json` says of it."""
        message = self.queue_json("show", qid)["message"]
        return {r["address"]: r for r in message["recipient_states"]}

    def _poll(self, probe, done, what, timeout):
        """Calls probe() until done(result); returns that result, or fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            result = probe()
            if done(result):
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} after {timeout}s: {result}\n" + self.log_text())
            time.sleep(0.05)

    def wait_for_queue(self, done, what, timeout=10.0):
        """Polls `tern queue list --json` until done(messages by id) is true; returns them."""
        return self._poll(self.queued, done, f"queue not {what}", timeout)

    def wait_for_empty_queue(self, timeout=10.0):
        self.wait_for_queue(lambda q: not q, "empty", timeout)

    def wait_for_attempts(self, qid, address, attempts, timeout=10.0):
        """Waits until the recipient has had `attempts` delivery attempts; returns its state."""
        return self._poll(lambda: self.recipient_states(qid)[address],
                          lambda r: r["attempts"] >= attempts and not r["in_progress"],
                          f"{address} of {qid} not tried {attempts} times", timeout)

    # --- what it delivered ---

    def block_mailbox(self, user):
        """Makes local delivery to `user` fail temporarily: a regular file where the user's mail
        directory should be makes creating the Maildir fail with ENOTDIR (451 4.3.0)."""
        path = self.data_dir / "mail" / user
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("in the way of the Maildir\n")

    def unblock_mailbox(self, user):
        (self.data_dir / "mail" / user).unlink()

    def maildir(self, user):
        return self.data_dir / "mail" / user / "Maildir"

    def messages(self, user):
        """Files in the user's Maildir/new, oldest name first."""
        new = self.maildir(user) / "new"
        return sorted(new.iterdir()) if new.is_dir() else []

    def all_messages(self):
        root = self.data_dir / "mail"
        return sorted(root.glob("*/Maildir/*/*")) if root.is_dir() else []

    def subjects(self, user):
        """The Subject of each message in the user's Maildir/new, sorted."""
        out = []
        for f in self.messages(user):
            m = re.search(rb"^Subject: (.*)$", split_trace(f.read_bytes())[1], re.M)
            out.append(m.group(1).decode() if m else None)
        return sorted(out, key=str)

    def wait_for_messages(self, user, count=1, timeout=5.0):
        """Waits until the user's Maildir/new holds at least `count` files; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            files = self.messages(user)
            if len(files) >= count:
                return files
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(files)} of {count} messages for {user} after {timeout}s:\n"
                                     + self.log_text())
            time.sleep(0.02)

    def wait_for_message(self, user, timeout=5.0):
        files = self.wait_for_messages(user, 1, timeout)
        assert len(files) == 1, files
        return files[0].read_bytes()

    # --- what it logged ---

    def log_text(self):
        parts = []
        for path in (self.stderr_path, self.log_file):
            if path is not None and path.exists():
                parts.append(path.read_bytes().decode("utf-8", "replace"))
        return "".join(parts)

    def log_lines(self):
        return self.log_text().splitlines()

    def wait_for_log(self, pattern, timeout=5.0, required=True):
        """The first log line matching the regex `pattern`, waiting for it up to `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_lines():
                if re.search(pattern, line):
                    return line
            if time.monotonic() > deadline:
                if required:
                    raise AssertionError(f"no log line matches {pattern!r}:\n{self.log_text()}")
                return None
            time.sleep(0.02)

    def threads(self):
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"^Threads:\s*(\d+)", status, re.M).group(1))


def _binaries():
    asan_reason = "TERN_ASAN_BIN is not set"
    return [
        pytest.param(TERN_BIN, id="release"),
        pytest.param(TERN_ASAN_BIN, id="asan",
                     marks=pytest.mark.skipif(not TERN_ASAN_BIN, reason=asan_reason)),
    ]


@pytest.fixture(params=_binaries())
def tern_binary(request):
    """Each daemon binary under test: the release build, and the sanitizer build if given."""
    binary = request.param
    assert os.access(binary, os.X_OK), f"{binary} is not an executable (build it first)"
    return binary


@pytest.fixture
def tern_factory(tmp_path):
    """make(config=None, aliases=None, binary=None, start=True) -> a started Tern; every daemon
    made is stopped at teardown, and the test fails if one ended badly."""
    made = []

    def make(config=None, aliases=None, binary=None, start=True):
        binary = binary or TERN_BIN
        assert os.access(binary, os.X_OK), f"{binary} is not an executable (build it first)"
        workdir = tmp_path / f"tern{len(made)}"
        workdir.mkdir()
        t = Tern(workdir, binary, config, aliases)
        made.append(t)
        if start:
            t.start()
        return t

    yield make
    problems = []
    for t in made:
        t.stop()
        problems += t.problems()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def tern(tern_factory):
    """A daemon on the base config: local domain localhost, users alice and bob."""
    return tern_factory()


@pytest.fixture
def any_tern(tern_factory, tern_binary):
    """A daemon on the base config, once per binary under test (release, and ASan if given)."""
    return tern_factory(binary=tern_binary)


# --- relaying: fixtures shared by the relay and outbound TLS tests ---------------------------------
# A test module that uses them provides a module fixture `dns` with an `upstream` ("ip@port").

RELAY_BODY = b"From: alice@localhost\r\nTo: someone\r\nSubject: relay test\r\n\r\nHello over there.\r\n"


@pytest.fixture(scope="module")
def mx_port():
    """One port for every mail exchanger: MX lookups give addresses, the port is relay.port."""
    return free_port()


@pytest.fixture
def peers(tmp_path):
    """start(host, port, **options) -> a started SmtpPeer; all are stopped at teardown."""
    from peers import SmtpPeer
    started = []

    def start(host, port, **options):
        p = SmtpPeer(tmp_path, host, port, **options)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def relay_tern(tern_factory, dns, mx_port):
    """make(overrides) -> a Tern that resolves through the test DNS server and sends to mx_port."""

    def make(overrides=None, **kwargs):
        base = {
            "dns": {"upstream": [dns.upstream], "timeout": "2s"},
            "relay": {"port": mx_port, "connect_timeout": "3s"},
            "queue": {"retry_schedule": ["1s"], "delay_warning": "0"},
        }
        for section, keys in (overrides or {}).items():
            base.setdefault(section, {}).update(keys)
        return tern_factory(config=base, **kwargs)

    return make


def send(tern, recipients, sender="alice@localhost", body=RELAY_BODY, params=""):
    """Submits one message to `tern` for `recipients`; returns its queue id."""
    reply = tern.send_message(body, sender=sender, recipients=recipients, mail_params=params)
    assert reply.code == 250, reply
    return queue_id(reply)


def queue_cli(tern, *args):
    out = subprocess.run([tern.binary, "queue", "--config", str(tern.config_path), "--json", *args],
                         capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def queue_show(tern, qid):
    return queue_cli(tern, "show", qid)["message"]


def wait_recipient(tern, qid, address, status, timeout=15.0):
    """Waits until recipient `address` of message `qid` has `status`; returns its record."""
    from peers import wait_until

    def check():
        reply = subprocess.run(
            [tern.binary, "queue", "--config", str(tern.config_path), "--json", "show", qid],
            capture_output=True, text=True, timeout=CLI_TIMEOUT)
        if reply.returncode != 0:
            return None
        for r in json.loads(reply.stdout)["message"]["recipient_states"]:
            if r["address"] == address and r["status"] == status:
                return r
        return None
    return wait_until(check, timeout, f"{address} of {qid} to be {status}:\n{tern.log_text()}")


def wait_gone(tern, qid, timeout=15.0):
    """Waits until message `qid` has left the queue."""
    from peers import wait_until

    def gone():
        ids = [m["id"] for m in queue_cli(tern, "list")["messages"]]
        return qid not in ids
    wait_until(gone, timeout, f"{qid} to leave the queue:\n{tern.log_text()}")


def delivered_detail(tern, qid):
    """Once message `qid` is delivered: the detail= of its delivery log line, and the line."""
    line = tern.wait_for_log(r"delivery id=%s .*status=delivered" % qid, timeout=20)
    return re.search(r'detail="([^"]*)"', line).group(1), line


def deferred_twice(tern, qid, address):
    """The recipient's state once it has been tried twice and is still queued."""
    state = tern.wait_for_attempts(qid, address, 2, timeout=20)
    assert state["status"] == "deferred", state
    assert qid in tern.queued()
    return state


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    """A private certificate authority (peers.pki.TestCa) for the module's servers."""
    from peers.pki import TestCa
    return TestCa(tmp_path_factory.mktemp("ca"))
