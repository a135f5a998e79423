# Real peers for the relay tests, each started as its own process and stopped by its own pid:
# a DNS server (dnslib), SMTP servers (aiosmtpd, Postfix's smtp-sink, a private Postfix instance).
import email
import email.policy
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PYTHON = "/usr/bin/python3"
HERE = Path(__file__).resolve().parent
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def wait_until(predicate, timeout, what):
    """Polls `predicate` until it returns something true; fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def tcp_greets(host, port):
    """True when host:port accepts a connection and sends a 220 greeting."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect((host, port))
            ok = s.recv(512).startswith(b"220")
            s.sendall(b"QUIT\r\n")
            return ok
    except OSError:
        return False


def listening(port, host="127.0.0.1"):
    """True when host:port accepts a TCP connection."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Process:
    """A child process with its output in a file; stopped by SIGTERM to its own pid."""

    def __init__(self, argv, log_path, cwd=None, env=None):
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=cwd, env=env)

    def output(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, predicate, what):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{what} exited with {self.proc.returncode}:\n{self.output()}")
            return predicate()
        wait_until(ready, START_TIMEOUT, what)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT)
        self._log.close()


class DnsServer:
    """dns_server.py serving `zone_text` and `records` ([name, type, value] entries, see
    dns_server.records_from_json) on address:port (UDP and TCP)."""

    def __init__(self, workdir, zone_text, address="127.0.0.1", port=None, drop=(),
                 servfail=(), records=None):
        self.address = address
        self.port = port or free_udp_tcp_port(address)
        self.zone = Path(workdir) / "zone.txt"
        self.zone.write_text(zone_text, encoding="utf-8")
        argv = [PYTHON, str(HERE / "dns_server.py"), "--address", address, "--port", str(self.port),
                "--zone", str(self.zone)]
        if records is not None:
            path = Path(workdir) / "records.json"
            path.write_text(json.dumps(records), encoding="utf-8")
            argv += ["--records", str(path)]
        for name in drop:
            argv += ["--drop", name]
        for name in servfail:
            argv += ["--servfail", name]
        self.process = Process(argv, Path(workdir) / "dns.log")
        self.process.wait_ready(lambda: "ready" in self.process.output(), "the DNS server")

    @property
    def upstream(self):
        return f"{self.address}@{self.port}"

    def stop(self):
        self.process.stop()


# Ports handed to daemons and peers come from below the kernel's ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 on Debian): a port the kernel gave
# out with bind(0) is free only "a moment ago", and any outgoing connection made before the
# daemon binds it (a relay attempt, a DNS query, another test's client) can take it. Ports
# below the range are never chosen by the kernel, so only this process hands them out.
PORT_RANGE = (20000, 32000)
_handed_out = set()


def _bindable(address, port, kinds):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for kind in kinds:
        with socket.socket(family, kind) as s:
            try:
                s.bind((address, port))
            except OSError:
                return False
    return True


def free_port(address="127.0.0.1", udp=False):
    """A port outside the ephemeral range, bindable on `address` now and not handed out before
    by this test process; with `udp`, free for both TCP and UDP."""
    kinds = (socket.SOCK_STREAM, socket.SOCK_DGRAM) if udp else (socket.SOCK_STREAM,)
    for _ in range(200):
        port = random.randrange(*PORT_RANGE)
        if port in _handed_out or not _bindable(address, port, kinds):
            continue
        _handed_out.add(port)
        return port
    raise AssertionError("no free port")


def free_udp_tcp_port(address="127.0.0.1"):
    """A port free for both TCP and UDP on `address`."""
    return free_port(address, udp=True)


class SmtpPeer:
    """smtp_peer.py (aiosmtpd): stores accepted messages as msgNNNNNN.{eml,json} in its dir."""

    def __init__(self, workdir, host, port, rules=None, pipelining=False, without=(), size=None,
                 ehlo_reply="", greeting="", delay_data=0, tls_cert=None, tls_max="", limits="",
                 requiretls=False):
        self.host = host
        self.port = port
        self.dir = Path(workdir) / f"peer-{host}-{port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = [PYTHON, str(HERE / "smtp_peer.py"), "--host", host, "--port", str(port),
                "--dir", str(self.dir)]
        if rules:
            argv += ["--rules", json.dumps(rules)]
        if pipelining:
            argv.append("--pipelining")
        for keyword in without:
            argv += ["--without", keyword]
        if size is not None:
            argv += ["--size", str(size)]
        if ehlo_reply:
            argv += ["--ehlo-reply", ehlo_reply]
        if greeting:
            argv += ["--greeting", greeting]
        if delay_data:
            argv += ["--delay-data", str(delay_data)]
        if limits:
            argv += ["--limits", limits]  # "RCPTMAX=3 MAILMAX=2": advertised and enforced
        if requiretls:
            argv.append("--requiretls")  # REQUIRETLS offered under TLS (RFC 8689)
        if tls_cert is not None:
            # STARTTLS with `tls_cert` (a peers.pki.Cert), up to TLS version `tls_max` if given.
            argv += ["--tls-cert", str(tls_cert.chain), "--tls-key", str(tls_cert.key)]
            if tls_max:
                argv += ["--tls-max", tls_max]
        self.process = Process(argv, self.dir / "peer.log")
        self.process.wait_ready(lambda: "ready" in self.process.output(), f"the SMTP peer {host}")

    def messages(self):
        """[(envelope dict, message bytes)] in arrival order."""
        out = []
        for meta in sorted(self.dir.glob("msg*.json")):
            out.append((json.loads(meta.read_text()), meta.with_suffix(".eml").read_bytes()))
        return out

    def wait_for_messages(self, count, timeout=15.0):
        return wait_until(lambda: (m := self.messages()) and len(m) >= count and m, timeout,
                          f"{count} messages at {self.host}")

    def server_names(self):
        """The server name (SNI) each TLS handshake asked for, "" where none was sent."""
        path = self.dir / "sni.txt"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    def reads(self):
        """Every network read of the server: [{"connection": n, "data": text}]."""
        return [e for e in self.events() if e["event"] == "read"]

    def events(self):
        """Every connect, read and close the server saw, in order."""
        path = self.dir / "reads.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def refusals(self):
        """Every command the server refused for its LIMITS: [{"command", "reply", ...}]."""
        return [e for e in self.events() if e["event"] == "refused"]

    def max_concurrent_connections(self):
        """The most connections open at once (the controller's own probe excluded)."""
        open_now = peak = 0
        for e in self.events():
            if e["event"] == "connect":
                open_now += 1
                peak = max(peak, open_now)
            elif e["event"] == "close":
                open_now -= 1
        return peak

    def stop(self):
        self.process.stop()


class StsPolicyServer:
    """sts_policy_server.py on address:port (HTTPS): serves set_policy()'s text as the MTA-STS
    policy of each host name `cert` (a peers.pki.Cert) is valid for."""

    def __init__(self, workdir, address, cert, port=443):
        self.address = address
        self.port = port
        self.dir = Path(workdir) / f"sts-{address}-{port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = [PYTHON, str(HERE / "sts_policy_server.py"), "--address", address, "--port",
                str(port), "--cert", str(cert.chain), "--key", str(cert.key), "--dir",
                str(self.dir)]
        self.process = Process(argv, Path(workdir) / f"sts-{address}.log")
        self.process.wait_ready(lambda: "ready" in self.process.output(), "the MTA-STS server")

    def set_policy(self, host, text):
        """What https://HOST/.well-known/mta-sts.txt answers from now on; None: 404."""
        path = self.dir / host
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text, encoding="utf-8")

    def fetches(self, host):
        """How many times the policy of `host` was asked for."""
        return self.process.output().count(f"GET {host} ")

    def stop(self):
        self.process.stop()


class SmtpSink:
    """Postfix's smtp-sink on host:port, dumping each transaction into its dir (-d)."""

    def __init__(self, workdir, host, port, extra=()):
        self.host = host
        self.port = port
        self.dir = Path(workdir) / f"sink-{host}-{port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = ["/usr/sbin/smtp-sink", "-u", "root", "-d", str(self.dir) + "/%Y%m%d%H%M%S.",
                *extra, f"{host}:{port}", "100"]
        self.process = Process(argv, Path(workdir) / f"sink-{host}.log")
        self.process.wait_ready(lambda: tcp_greets(host, port), "smtp-sink")

    def messages(self):
        """The dumps written so far; smtp-sink makes a dump's file before it writes it, so an
        empty file is one still being written (see wait_for_messages)."""
        return [p.read_bytes() for p in sorted(self.dir.iterdir()) if p.is_file()]

    def wait_for_messages(self, count, timeout=15.0):
        """At least `count` dumps, each non-empty and of the same size 0.2 s apart (written)."""
        def settled():
            before = self.messages()
            if len(before) < count or not all(before):
                return None
            time.sleep(0.2)
            after = self.messages()
            return after if [len(m) for m in after[:len(before)]] == [len(m) for m in before] else None
        return wait_until(settled, timeout, f"{count} messages at smtp-sink")

    def stop(self):
        self.process.stop()


class PostfixPeer:
    """A private Postfix instance on host:port that delivers mail for `domain` (one name or a
    list) into Maildirs (virtual delivery agent), in a directory of its own that is removed on
    stop. Its `postfix` command is run with -c on its own config directory only."""

    def __init__(self, host, port, domain, users, extra_main_cf="", tls_cert=None):
        self.host = host
        self.port = port
        self.domain = domain
        domains = [domain] if isinstance(domain, str) else list(domain)
        if tls_cert is not None:
            # STARTTLS with `tls_cert` (a peers.pki.Cert: its chain and key), offered, not required.
            extra_main_cf = (f"smtpd_tls_cert_file = {tls_cert.chain}\n"
                             f"smtpd_tls_key_file = {tls_cert.key}\n"
                             "smtpd_tls_security_level = may\n" + extra_main_cf)
        # Under /tmp with mode 755: the virtual agent runs as nobody and must reach the mailboxes.
        self.root = Path(tempfile.mkdtemp(prefix="tern-postfix-", dir="/tmp"))
        self.root.chmod(0o755)
        etc, queue, data, mail = (self.root / d for d in ("etc", "queue", "data", "mail"))
        for d in (etc, queue, data, mail):
            d.mkdir()
        shutil.chown(data, "postfix")
        uid, gid = int(subprocess.check_output(["id", "-u", "nobody"])), int(
            subprocess.check_output(["id", "-g", "nobody"]))
        os.chown(mail, uid, gid)
        (etc / "main.cf").write_text(f"""\
compatibility_level = 3.6
config_directory = {etc}
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-peer.test
mydomain = peer.test
inet_interfaces = loopback-only
inet_protocols = all
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
maillog_file = {self.root}/maillog
maillog_file_prefixes = {self.root}
virtual_mailbox_domains = {', '.join(domains)}
virtual_mailbox_base = {mail}
virtual_mailbox_maps = texthash:{etc}/vmailbox
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
{extra_main_cf}
""")
        (etc / "vmailbox").write_text(
            "".join(f"{u}@{d} {u}/Maildir/\n" for d in domains for u in users))
        services = ["pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup",
                    "qmgr unix n - n 300 1 qmgr", "rewrite unix - - n - - trivial-rewrite",
                    "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce",
                    "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify",
                    "flush unix n - n 1000? 0 flush", "proxymap unix - - n - - proxymap",
                    "proxywrite unix - - n - 1 proxymap", "smtp unix - - n - - smtp",
                    "relay unix - - n - - smtp", "showq unix n - n - - showq",
                    "error unix - - n - - error", "retry unix - - n - - error",
                    "discard unix - - n - - discard", "local unix - n n - - local",
                    "virtual unix - n n - - virtual", "anvil unix - - n - 1 anvil",
                    "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd",
                    # Without it smtpd offers STARTTLS but refuses it (no entropy source).
                    "tlsmgr unix - - n 1000? 1 tlsmgr"]
        listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        (etc / "master.cf").write_text(f"{listen} inet n - n - - smtpd\n" + "\n".join(services) + "\n")
        self.etc = etc
        self.mail = mail
        self.master_pid = None
        try:
            self._start(queue)
        except BaseException:
            self.stop()
            raise

    def _start(self, queue):
        # postfix reports its errors only to a terminal or its log: run it under `script`.
        for action in ("check", "start"):
            out = subprocess.run(["script", "-qec", f"/usr/sbin/postfix -c {self.etc} {action}",
                                  "/dev/null"], stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, timeout=60)
            assert out.returncode == 0, f"postfix {action} failed: {out.stdout}{out.stderr}"
        pid_file = queue / "pid" / "master.pid"
        wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), START_TIMEOUT,
                   "the Postfix master pid")
        self.master_pid = int(pid_file.read_text().strip())
        wait_until(lambda: tcp_greets(self.host, self.port), START_TIMEOUT, "Postfix to listen")

    def log(self):
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def messages(self, user):
        new = self.mail / user / "Maildir" / "new"
        return [p.read_bytes() for p in sorted(new.iterdir())] if new.is_dir() else []

    def wait_for_messages(self, user, count, timeout=20.0):
        return wait_until(lambda: (m := self.messages(user)) and len(m) >= count and m, timeout,
                          f"{count} messages for {user} at Postfix:\n{self.log()}")

    def stop(self):
        try:
            subprocess.run(["/usr/sbin/postfix", "-c", str(self.etc), "stop"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            if self.master_pid:
                deadline = time.monotonic() + STOP_TIMEOUT
                while time.monotonic() < deadline and pid_alive(self.master_pid):
                    time.sleep(0.1)
                if pid_alive(self.master_pid):
                    os.kill(self.master_pid, signal.SIGKILL)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def parse_mail(data):
    return email.message_from_bytes(data, policy=email.policy.compat32)
