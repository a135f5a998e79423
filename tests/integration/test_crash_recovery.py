# Crash safety: concurrent clients send while the daemon is killed with SIGKILL at random moments,
# restarted on the same spool and left to drain; every message answered 250 must be in a mailbox.
import os
import random
import re
import threading
import time

from conftest import ConnectionClosed, Dialog, maildir_form, split_trace

CYCLES = 8                # kills, each followed by a restart on the same data directory
CLIENTS = 6               # concurrent SMTP clients
MESSAGES_PER_CYCLE = 60   # transactions begun between two kills, all clients together
# The kill comes at a random moment of the traffic: after a random number of 250 replies in the
# cycle, plus up to 5 ms more.
KILL_AFTER = (5, 50)
KILL_JITTER = (0.0, 0.005)
LOCAL_MAX = 8             # [queue] local_max_deliveries: bounds the deliveries in flight at a kill
RECIPIENTS = ("alice@localhost", "bob@localhost")
DRAIN_TIMEOUT = 60.0
# Deliveries that may be repeated per kill: every running job (one job holds all local recipients
# of a message) plus as many finished ones whose result was not yet durable.
DUPLICATES_PER_KILL = 2 * LOCAL_MAX * len(RECIPIENTS)


class Clients:
    """SMTP clients in threads, each sending messages with a unique token until stopped. A
    message counts as accepted only when its 250 reply was read."""

    def __init__(self, port, seed):
        self.port = port
        self.seed = seed
        self.lock = threading.Lock()
        self.sent = {}         # token -> (recipients, message), for every message sent whole
        self.accepted = set()  # tokens answered 250
        self.started = 0       # transactions begun
        self.budget = 0        # transactions that may still begin in this cycle
        self.failures = []     # unexpected replies: a bug, not a crash
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True)
                        for k in range(CLIENTS)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=15)
            assert not thread.is_alive(), "a client thread did not stop"

    def allow(self, n):
        with self.lock:
            self.budget = n

    def accepted_count(self):
        with self.lock:
            return len(self.accepted)

    def _next_token(self, k):
        """A token for the next message once the cycle's budget allows one; None when stopping."""
        while not self.stopping.is_set():
            with self.lock:
                if self.budget > 0:
                    self.budget -= 1
                    self.started += 1
                    return f"c{k}n{self.started}"
            time.sleep(0.01)
        return None

    def _run(self, k):
        rng = random.Random(self.seed * 100 + k)
        while not self.stopping.is_set():
            try:
                with Dialog(self.port, timeout=5.0) as d:
                    if not self._session(d, k, rng):
                        return
            except (OSError, ConnectionClosed):
                time.sleep(0.02)  # the daemon is down: try again until it is back
            except AssertionError as e:
                with self.lock:
                    self.failures.append(str(e))
                return

    def _session(self, d, k, rng):
        """One connection: a few transactions. Returns False when no more messages are wanted."""
        assert d.read_reply().code == 220
        d.ehlo()
        for _ in range(rng.randint(1, 4)):
            token = self._next_token(k)
            if token is None:
                return False
            rcpts = rng.choice([RECIPIENTS[:1], RECIPIENTS[1:], RECIPIENTS])
            mail = d.cmd("MAIL FROM:<sender@example.org>")
            assert mail.code == 250, mail
            for rcpt in rcpts:
                r = d.cmd(f"RCPT TO:<{rcpt}>")
                assert r.code == 250, r
            assert d.cmd("DATA").code == 354
            filler = b"%d\r\n" % rng.getrandbits(64) * rng.randint(1, 400)
            message = f"Subject: crash {token}\r\nMessage-ID: <{token}@client.test>\r\n\r\n".encode() + filler
            d.send(message + b".\r\n")
            with self.lock:
                self.sent[token] = (rcpts, message)
            final = d.read_reply()
            assert final.code == 250, final
            with self.lock:
                self.accepted.add(token)
        d.cmd("QUIT")
        return True


def delivered_tokens(tern, sent):
    """(token, user) -> number of copies in the user's Maildir/new, each checked byte for byte
    against the message sent."""
    counts = {}
    for user in ("alice", "bob"):
        for f in tern.messages(user):
            _, message = split_trace(f.read_bytes())
            m = re.match(rb"Subject: crash (\S+)\n", message)
            token = m.group(1).decode() if m else None
            assert token in sent, f"a message that no client sent: {f}"
            assert message == maildir_form(sent[token][1]), f"{f} differs from the message {token} sent"
            counts[(token, user)] = counts.get((token, user), 0) + 1
    return counts


def test_no_accepted_message_is_lost_across_kills(tern_factory, tern_binary, capsys):
    seed = int(os.environ.get("TERN_CRASH_SEED", time.time()))
    rng = random.Random(seed)
    t = tern_factory(config={"queue": {"local_max_deliveries": LOCAL_MAX}}, binary=tern_binary)
    clients = Clients(t.port, seed)
    clients.start()
    per_cycle = []  # messages accepted between two kills
    try:
        for _ in range(CYCLES):
            before = sum(per_cycle)
            kill_after = rng.randint(*KILL_AFTER)
            clients.allow(MESSAGES_PER_CYCLE)
            deadline = time.monotonic() + 10
            while clients.accepted_count() - before < kill_after and not clients.failures:
                assert time.monotonic() < deadline, f"{kill_after} messages not accepted in 10s"
                time.sleep(0.001)
            time.sleep(rng.uniform(*KILL_JITTER))
            t.crash()
            per_cycle.append(clients.accepted_count() - before)
            t.start()
    finally:
        clients.stop()
    assert not clients.failures, clients.failures

    t.wait_for_empty_queue(timeout=DRAIN_TIMEOUT)
    delivered = delivered_tokens(t, clients.sent)
    deliveries = {token: {(token, rcpt.split("@")[0]) for rcpt in rcpts}
                  for token, (rcpts, _) in clients.sent.items()}
    wanted = set().union(*(deliveries[token] for token in clients.accepted))
    maybe = set().union(*(d for token, d in deliveries.items() if token not in clients.accepted))
    lost = sorted(wanted - set(delivered))
    unknown = sorted(set(delivered) - wanted - maybe)
    duplicates = sum(n - 1 for n in delivered.values())
    recoveries = [tuple(map(int, m)) for m in
                  re.findall(r"recovery resumed=(\d+) removed=(\d+) finished=(\d+)", t.log_text())]
    figures = (f"seed {seed}: {CYCLES} kills, {len(clients.accepted)} messages accepted "
               f"({len(wanted)} deliveries) per cycle {per_cycle}, {len(maybe)} deliveries sent "
               f"but unanswered at a kill, {duplicates} duplicate deliveries (at most "
               f"{DUPLICATES_PER_KILL * CYCLES} allowed), recoveries (resumed, removed, finished) "
               f"{recoveries[1:]}")
    with capsys.disabled():  # the figures belong in the output of every run, not only failures
        print(f"\ncrash recovery: {figures}")

    assert not lost, f"{len(lost)} accepted deliveries lost, e.g. {lost[:5]}; {figures}"
    assert not unknown, f"deliveries no client sent: {unknown[:5]}; {figures}"
    assert duplicates <= DUPLICATES_PER_KILL * CYCLES, figures
    assert len(recoveries) == CYCLES + 1, recoveries
    spool = t.data_dir / "spool"
    left = sorted(p.name for p in [*spool.glob("msg/*"), *spool.glob("state/*")])
    assert left == [], f"message files or state logs left after the queue drained: {left}"
