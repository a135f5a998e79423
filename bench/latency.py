#!/usr/bin/python3
# bench/latency.py: the time from the end of DATA ("\r\n.\r\n" sent) to the 250 reply, measured
# by a probe client on a connection of its own, idle and while 8 smtp-source sessions saturate
# the server. Driven by bench/run.sh; also usable alone (--server, or --smtp-sink for a sink).
"""DATA-end -> 250 latency probe.

A probe client (TCP_NODELAY, EHLO once, then MAIL, RCPT, DATA and a message of about 2.3 KB,
one transaction after another in lock-step; a new connection, untimed, every --per-connection
messages) times, for each message, the interval from sending the final "\\r\\n.\\r\\n" to
reading the whole 250 reply. It does so twice:

  idle    nothing else is sent to the server;
  loaded  while `smtp-source -d -s SESSIONS` (8 sessions, each sending message after message on
          one connection) keeps the server saturated. The load starts --ramp seconds before the
          first probe and is stopped (by its pid) after the last. As a server may close a
          connection after so many transactions (Tern: 1000), the load is a chain of
          smtp-source processes of SESSIONS x --load-per-session messages each, the next one
          started the moment one ends.

For each it prints p50, p99 and max (nearest-rank percentiles, in milliseconds), and the rate the
load ran at during the loaded probe. Every loop is bounded in count and time: the probe sends
--probes messages and fails if that takes longer than --max-seconds; the load sends at most
--load-messages. Any reply other than the expected one (250 to MAIL, RCPT and the end of data,
354 to DATA), a closed connection, a reply slower than --reply-timeout, or a load that fails or
runs out before the probe ends, aborts with a message on standard error and exit status 1.

With --tsv FILE one line per condition is appended:
    label  condition  probes  p50_ms  p99_ms  max_ms  mean_ms  load_msgs_per_s
(load_msgs_per_s is 0 for idle.)
"""

import argparse
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from measure import Sink, SinkError, free_port  # bench/measure.py, beside this file


class ProbeError(Exception):
    pass


def fail(why):
    print(f"latency: FAILED: {why}", file=sys.stderr)
    sys.exit(1)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class Client:
    """One SMTP connection in lock-step, Nagle off, each reply read whole and checked."""

    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.rfile = self.sock.makefile("rb")

    def reply(self, what, expect):
        lines = []
        while True:
            try:
                line = self.rfile.readline(1024)
            except TimeoutError:
                raise ProbeError(f"no reply to {what} within the reply timeout")
            if not line:
                raise ProbeError(f"connection closed while waiting for the reply to {what}")
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                break
        text = b"".join(lines).decode(errors="replace").strip()
        if not lines[-1].startswith(expect.encode()):
            raise ProbeError(f"{what}: expected {expect}, got: {text}")
        return text

    def command(self, line, expect):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply(line, expect)

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.reply("QUIT", "221")
        except (OSError, ProbeError):
            pass
        self.rfile.close()
        self.sock.close()


def message_text(size, sender, recipient, number):
    """A message of about `size` octets without the final CRLF (sent with the terminator)."""
    tag = f"{os.getpid()}.{number}.{time.time_ns()}"
    head = (f"From: <{sender}>\r\nTo: <{recipient}>\r\n"
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
            f"Message-Id: <probe.{tag}@bench.test>\r\nSubject: latency probe {number}\r\n\r\n")
    body = []
    left = size - len(head)
    while left > 0:
        line = "x" * min(76, max(1, left - 2))
        body.append(line)
        left -= len(line) + 2
    return (head + "\r\n".join(body)).encode()


def connect(host, port, reply_timeout):
    client = Client(host, port, reply_timeout)
    client.reply("the greeting", "220")
    client.command("EHLO probe.bench.test", "250")
    return client


def probe(host, port, count, per_connection, size, sender, recipient, max_seconds,
          reply_timeout, still_ok):
    """Times `count` transactions, `per_connection` on each connection (untimed: connecting,
    EHLO, QUIT); returns the DATA-end -> 250 latencies in seconds."""
    deadline = time.monotonic() + max_seconds
    client = connect(host, port, reply_timeout)
    latencies = []
    try:
        for i in range(count):
            if time.monotonic() > deadline:
                raise ProbeError(f"only {i} of {count} probe messages done within {max_seconds:g}s")
            still_ok()
            if i and i % per_connection == 0:
                client.close()
                client = connect(host, port, reply_timeout)
            client.command(f"MAIL FROM:<{sender}>", "250")
            client.command(f"RCPT TO:<{recipient}>", "250")
            client.command("DATA", "354")
            client.sock.sendall(message_text(size, sender, recipient, i))
            start = time.perf_counter()
            client.sock.sendall(b"\r\n.\r\n")
            client.reply("the end of data", "250")
            latencies.append(time.perf_counter() - start)
    finally:
        client.close()
    return latencies


class Load:
    """SESSIONS smtp-source -d sessions kept sending to the server until stopped.

    A server may close a connection after so many transactions (Tern after 1000, its LIMITS
    MAILMAX), which makes smtp-source abort; so the load is a chain of smtp-source processes of
    SESSIONS x PER_SESSION messages each, the next started by a supervising thread as soon as one
    ends, TOTAL messages at most in all. Each keeps its running counter (-c) in a file."""

    def __init__(self, smtp_source, server, sessions, per_session, total, size, sender,
                 recipient, work):
        self.argv = [smtp_source, "-c", "-d", "-s", str(sessions), "-l", str(size),
                     "-f", sender, "-t", recipient]
        self.server = server
        self.batch = sessions * per_session
        self.total = total
        self.out_path = os.path.join(work, f"latency-load-{os.getpid()}.out")
        self.out = None
        self.lock = threading.Lock()
        self.stopping = False
        self.error = None
        self.done = 0  # messages of the processes that finished
        self.started = 0  # messages of the processes started
        self.proc = None
        with self.lock:
            self._start_next()
        self.thread = threading.Thread(target=self._supervise, daemon=True)
        self.thread.start()

    def _start_next(self):
        """Starts the next smtp-source (self.lock held); False when the budget is spent."""
        n = min(self.batch, self.total - self.started)
        if n <= 0:
            self.error = (f"the load sent all its {self.total} messages before the probe was "
                          "done (raise --load-messages)")
            return False
        if self.out:
            self.out.close()
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(self.argv + ["-m", str(n), self.server],
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        self.started += n
        self.current = n
        return True

    def _supervise(self):
        while True:
            rc = self.proc.wait()
            with self.lock:
                if self.stopping:
                    return
                if rc != 0:
                    self.error = (f"the load (smtp-source) failed with status {rc}, a refused "
                                  f"message? {self.tail()}")
                    return
                self.done += self.current
                if not self._start_next():
                    return

    def _counter(self):
        with open(self.out_path, "rb") as f:
            f.seek(max(0, os.path.getsize(self.out_path) - 1024))
            found = re.findall(rb"(\d+)\r", f.read())
        return int(found[-1]) if found else 0

    def count(self):
        """Messages the load has had answered (smtp-source's counters)."""
        with self.lock:
            return self.done + self._counter()

    def tail(self):
        with open(self.out_path, "rb") as f:
            return f.read()[-300:].decode(errors="replace").replace("\r", " ").strip()

    def check_running(self):
        with self.lock:
            if self.error:
                raise ProbeError(self.error)

    def stop(self):
        with self.lock:
            self.stopping = True
            proc = self.proc
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.thread.join(timeout=10)
        if self.out:
            self.out.close()
        try:
            os.unlink(self.out_path)
        except FileNotFoundError:
            pass


def summary(latencies):
    ms = sorted(x * 1000 for x in latencies)
    return {"p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": ms[-1],
            "mean": statistics.fmean(ms)}


def on_sigterm(signum, frame):
    raise KeyboardInterrupt  # so that the finally clauses stop the load and the sink


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--server", help="host:port of the server to probe")
    where.add_argument("--smtp-sink", nargs="?", const="/usr/sbin/smtp-sink", metavar="PROGRAM",
                       help="start a fresh smtp-sink (stores nothing) and probe that")
    p.add_argument("--label", default="server", help="first column of the --tsv lines")
    p.add_argument("--probes", type=int, default=500, help="probe messages per condition")
    p.add_argument("--size", type=int, default=2300, help="octets per probe message (about)")
    p.add_argument("--sender", default="probe@bench.test")
    p.add_argument("--recipient", default="benchprobe@bench.test",
                   help="recipient of the probe and of the load")
    p.add_argument("--load-sessions", type=int, default=8)
    p.add_argument("--per-connection", type=int, default=500,
                   help="probe messages per connection (Tern allows 1000 by default)")
    p.add_argument("--load-messages", type=int, default=200000,
                   help="upper bound of the load's messages in all")
    p.add_argument("--load-per-session", type=int, default=500,
                   help="messages per load session before its smtp-source is replaced")
    p.add_argument("--load-size", type=int, default=2048, help="smtp-source -l")
    p.add_argument("--ramp", type=float, default=1.0,
                   help="seconds the load runs before the first probe")
    p.add_argument("--max-seconds", type=float, default=120.0,
                   help="time allowed for each condition's probe messages")
    p.add_argument("--reply-timeout", type=float, default=30.0)
    p.add_argument("--smtp-source", default="/usr/sbin/smtp-source")
    p.add_argument("--conditions", default="idle,loaded", help="idle, loaded or both")
    p.add_argument("--work-dir", default=os.environ.get("TMPDIR", "/tmp"))
    p.add_argument("--tsv", help="append the figures to this file")
    a = p.parse_args()
    conditions = [c for c in a.conditions.split(",") if c]
    if not conditions or any(c not in ("idle", "loaded") for c in conditions):
        p.error("--conditions takes idle, loaded or idle,loaded")
    if min(a.probes, a.per_connection, a.load_sessions, a.load_messages, a.load_per_session) < 1:
        p.error("counts must be positive")

    signal.signal(signal.SIGTERM, on_sigterm)
    sink = None
    results = []
    try:
        if a.smtp_sink:
            sink = Sink(a.smtp_sink, a.work_dir)
            host, port = "127.0.0.1", sink.port
        else:
            host, _, port = a.server.rpartition(":")
            port = int(port)
        server = f"{host}:{port}"
        for condition in conditions:
            load = None
            try:
                if condition == "loaded":
                    load = Load(a.smtp_source, server, a.load_sessions, a.load_per_session,
                                a.load_messages, a.load_size, a.sender, a.recipient, a.work_dir)
                    time.sleep(a.ramp)
                    load.check_running()
                    if load.count() == 0:
                        raise ProbeError(f"the load had no message answered in its first "
                                         f"{a.ramp:g}s: {load.tail()}")
                    load_start, t0 = load.count(), time.monotonic()
                    still_ok = load.check_running
                else:
                    still_ok = lambda: None  # noqa: E731
                latencies = probe(host, port, a.probes, a.per_connection, a.size, a.sender,
                                  a.recipient, a.max_seconds, a.reply_timeout, still_ok)
                rate = 0.0
                if load:
                    load.check_running()  # still saturating at the last probe's reply
                    rate = (load.count() - load_start) / (time.monotonic() - t0)
            finally:
                if load:
                    load.stop()
            s = summary(latencies)
            results.append((condition, s, rate))
            extra = (f", load {a.load_sessions} sessions at {rate:.0f} msg/s" if load else "")
            print(f"latency: {a.label:8} {condition:6} {len(latencies)} probes: "
                  f"p50 {s['p50']:.2f} ms, p99 {s['p99']:.2f} ms, max {s['max']:.2f} ms"
                  f"{extra}", file=sys.stderr)
    except (ProbeError, SinkError) as e:
        fail(f"{a.label}: {e}")
    except OSError as e:
        fail(f"{a.label}: {e}")
    finally:
        if sink:
            sink.stop()
    if a.tsv:
        with open(a.tsv, "a") as f:
            for condition, s, rate in results:
                f.write(f"{a.label}\t{condition}\t{a.probes}\t{s['p50']:.3f}\t{s['p99']:.3f}\t"
                        f"{s['max']:.3f}\t{s['mean']:.3f}\t{rate:.1f}\n")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("latency: interrupted", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        sys.exit(130)
