#!/usr/bin/python3
# bench/measure.py: one timed load run against one SMTP server (driven by bench/run.sh).
# Runs smtp-source, then polls a Maildir new/ directory until every message has arrived; or, with
# --ceiling, runs smtp-source against a fresh smtp-sink of its own (nothing stored: the ceiling).
"""Time one smtp-source run and the delivery of its messages into a Maildir.

The acceptance time runs from the start of smtp-source to its exit (every message answered 250
after DATA); the end-to-end time runs from the same start until new/ holds all the messages.
Prints one line "accept_seconds deliver_seconds" on success. Exits non-zero, saying why on
standard error, if smtp-source fails or times out, if the messages do not all arrive within the
timeout, or if new/ ends up with a different number of distinct messages than were sent.

With --ceiling (instead of --server and --maildir-new) a fresh smtp-sink is started on a free
loopback port and stopped afterwards; it stores nothing, so there is no delivery to wait for and
both printed times are smtp-source's wall time. The sink's own counter (-c) must then show
exactly the number of messages sent.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time

POLL_SECONDS = 0.05
SETTLE_SECONDS = 0.5  # after the last expected message, watch for extra (duplicate) deliveries


def count_entries(path):
    """Number of directory entries in path (0 while it does not exist yet)."""
    try:
        with os.scandir(path) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


def message_ids(path):
    """The Message-Id header of every file in path; None for a file without one."""
    ids = []
    with os.scandir(path) as it:
        for entry in it:
            found = None
            with open(entry.path, "rb") as f:
                for line in f:
                    if line in (b"\n", b"\r\n"):
                        break
                    if line.lower().startswith(b"message-id:"):
                        found = line.split(b":", 1)[1].strip()
                        break
            ids.append(found)
    return ids


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def greets(port):
    """True when 127.0.0.1:port accepts a connection and sends a 220 greeting."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(2)
            ok = s.recv(512).startswith(b"220")
            s.sendall(b"QUIT\r\n")
            return ok
    except OSError:
        return False


class SinkError(Exception):
    pass


class Sink:
    """A fresh smtp-sink on a free loopback port, its running counter (-c) in a file. Also used
    by bench/latency.py. Raises SinkError when it does not start."""

    def __init__(self, program, out_dir):
        self.port = free_port()
        self.out_path = os.path.join(out_dir, f"ceiling-sink-{self.port}.out")
        self.out = open(self.out_path, "wb")
        # As root smtp-sink must be told whom to run as (-u); it needs no privilege.
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen([program, "-c", *user, f"127.0.0.1:{self.port}", "256"],
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not greets(self.port):
            if self.proc.poll() is not None:
                out = self.output()
                self.stop()
                raise SinkError(f"smtp-sink exited with status {self.proc.returncode}: {out}")
            if time.monotonic() > deadline:
                self.stop()
                raise SinkError(f"smtp-sink did not greet on 127.0.0.1:{self.port} within 10s")
            time.sleep(0.05)

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")[-300:]

    def count(self):
        """Messages the sink has received ("." seen), by its own counter."""
        with open(self.out_path, "rb") as f:
            found = re.findall(rb"mesg=(\d+)", f.read())
        return int(found[-1]) if found else 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        try:
            os.unlink(self.out_path)
        except FileNotFoundError:
            pass


def fail(why):
    print(f"measure: {why}", file=sys.stderr)
    sys.exit(1)


def on_sigterm(signum, frame):
    # Turn SIGTERM into an exception so the finally clause below stops smtp-source.
    raise KeyboardInterrupt


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--smtp-source", default="/usr/sbin/smtp-source")
    p.add_argument("--server", help="host:port")
    p.add_argument("--maildir-new", help="the new/ directory that receives the mail")
    p.add_argument("--ceiling", action="store_true",
                   help="send to a fresh smtp-sink of its own instead (nothing stored)")
    p.add_argument("--smtp-sink", default="/usr/sbin/smtp-sink")
    p.add_argument("--work-dir", default=os.environ.get("TMPDIR", "/tmp"),
                   help="where the sink's counter file goes (removed afterwards)")
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--reuse", action="store_true", help="many messages per connection (-d)")
    p.add_argument("--sender", required=True)
    p.add_argument("--recipient", required=True)
    p.add_argument("--timeout", type=float, default=300.0, help="seconds for each of send and delivery")
    a = p.parse_args()

    if (a.server or a.maildir_new) if a.ceiling else not (a.server and a.maildir_new):
        p.error("give either --server and --maildir-new, or --ceiling")

    signal.signal(signal.SIGTERM, on_sigterm)

    if a.ceiling:
        ceiling(a)
        return

    already = count_entries(a.maildir_new)
    if already != 0:
        fail(f"{a.maildir_new} holds {already} entries before the run; it must start empty")

    cmd = source_command(a, a.server)

    start, accepted = run_source(a, cmd, "(a message was refused?)")
    deadline = accepted + a.timeout
    count = count_entries(a.maildir_new)
    while count < a.messages:
        if time.monotonic() > deadline:
            fail(f"only {count} of {a.messages} messages reached {a.maildir_new} "
                 f"within {a.timeout:g}s of acceptance")
        time.sleep(POLL_SECONDS)
        count = count_entries(a.maildir_new)
    delivered = time.monotonic()

    time.sleep(SETTLE_SECONDS)
    ids = message_ids(a.maildir_new)
    if len(ids) != a.messages:
        fail(f"{a.maildir_new} holds {len(ids)} messages, expected exactly {a.messages}")
    missing = sum(1 for i in ids if i is None)
    distinct = len(set(i for i in ids if i is not None))
    if missing or distinct != a.messages:
        fail(f"{a.maildir_new}: {distinct} distinct Message-Ids among {len(ids)} files "
             f"({missing} without one); expected {a.messages} distinct")

    print(f"{accepted - start:.4f} {delivered - start:.4f}")


def source_command(a, server):
    cmd = [a.smtp_source, "-s", str(a.sessions), "-m", str(a.messages), "-l", str(a.size),
           "-f", a.sender, "-t", a.recipient]
    if a.reuse:
        cmd.append("-d")
    cmd.append(server)
    return cmd


def run_source(a, cmd, refused):
    """Runs smtp-source to its end; returns the monotonic times of its start and its exit.
    Fails (naming `refused` as the likely cause of a non-zero exit) unless every message was
    answered within the timeout; never leaves it running."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    try:
        try:
            rc = proc.wait(timeout=a.timeout)
        except subprocess.TimeoutExpired:
            fail(f"smtp-source did not finish within {a.timeout:g}s: {' '.join(cmd)}")
        end = time.monotonic()
        if rc != 0:
            fail(f"smtp-source exited with status {rc} {refused}: {' '.join(cmd)}")
        return start, end
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def ceiling(a):
    """The same smtp-source load against a fresh smtp-sink: the rate with nothing stored."""
    try:
        sink = Sink(a.smtp_sink, a.work_dir)
    except SinkError as e:
        fail(str(e))
    try:
        start, accepted = run_source(a, source_command(a, f"127.0.0.1:{sink.port}"),
                                     "against smtp-sink")
        # smtp-source has had every reply, so the sink has counted every "."; its counter
        # reaches the file a moment later at most.
        deadline = time.monotonic() + 5
        while sink.count() < a.messages and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        time.sleep(SETTLE_SECONDS)
        if sink.count() != a.messages:
            fail(f"smtp-sink counted {sink.count()} messages, expected exactly {a.messages}")
    finally:
        sink.stop()
    print(f"{accepted - start:.4f} {accepted - start:.4f}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        # Die by SIGINT, so that the calling shell knows it was interrupted and stops too.
        print("measure: interrupted", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        sys.exit(130)
