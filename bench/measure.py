#!/usr/bin/python3
# bench/measure.py: one timed load run against one SMTP server (driven by bench/run.sh).
# Runs smtp-source, then polls a Maildir new/ directory until every message has arrived.
"""Time one smtp-source run and the delivery of its messages into a Maildir.

The acceptance time runs from the start of smtp-source to its exit (every message answered 250
after DATA); the end-to-end time runs from the same start until new/ holds all the messages.
Prints one line "accept_seconds deliver_seconds" on success. Exits non-zero, saying why on
standard error, if smtp-source fails or times out, if the messages do not all arrive within the
timeout, or if new/ ends up with a different number of distinct messages than were sent.
"""

import argparse
import os
import signal
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


def fail(why):
    print(f"measure: {why}", file=sys.stderr)
    sys.exit(1)


def on_sigterm(signum, frame):
    # Turn SIGTERM into an exception so the finally clause below stops smtp-source.
    raise KeyboardInterrupt


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--smtp-source", default="/usr/sbin/smtp-source")
    p.add_argument("--server", required=True, help="host:port")
    p.add_argument("--maildir-new", required=True, help="the new/ directory that receives the mail")
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--reuse", action="store_true", help="many messages per connection (-d)")
    p.add_argument("--sender", required=True)
    p.add_argument("--recipient", required=True)
    p.add_argument("--timeout", type=float, default=300.0, help="seconds for each of send and delivery")
    a = p.parse_args()

    signal.signal(signal.SIGTERM, on_sigterm)

    already = count_entries(a.maildir_new)
    if already != 0:
        fail(f"{a.maildir_new} holds {already} entries before the run; it must start empty")

    cmd = [a.smtp_source, "-s", str(a.sessions), "-m", str(a.messages), "-l", str(a.size),
           "-f", a.sender, "-t", a.recipient]
    if a.reuse:
        cmd.append("-d")
    cmd.append(a.server)

    proc = None
    try:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        try:
            rc = proc.wait(timeout=a.timeout)
        except subprocess.TimeoutExpired:
            fail(f"smtp-source did not finish within {a.timeout:g}s: {' '.join(cmd)}")
        accepted = time.monotonic()
        if rc != 0:
            fail(f"smtp-source exited with status {rc} (a message was refused?): {' '.join(cmd)}")

        deadline = accepted + a.timeout
        count = count_entries(a.maildir_new)
        while count < a.messages:
            if time.monotonic() > deadline:
                fail(f"only {count} of {a.messages} messages reached {a.maildir_new} "
                     f"within {a.timeout:g}s of acceptance")
            time.sleep(POLL_SECONDS)
            count = count_entries(a.maildir_new)
        delivered = time.monotonic()
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

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


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        # Die by SIGINT, so that the calling shell knows it was interrupted and stops too.
        print("measure: interrupted", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        sys.exit(130)
