# SMTP clients for a power-cut test: concurrent sessions send messages with unique tokens and note,
# for each 250 after end of data, how far the recorded disk had got when the reply was read.
import random
import re
import threading
import time

from conftest import ConnectionClosed, Dialog, queue_id

ALICE, BOB, CAROL = "alice@localhost", "bob@localhost", "carol@localhost"
RECIPIENT_LISTS = ([ALICE], [BOB], [ALICE, BOB], [ALICE, CAROL], [BOB, CAROL])


class Sent:
    """One message a client sent whole: its recipients, its exact text, and once answered 250,
    its queue id and the recorder's sequence number when the 250 was read."""

    def __init__(self, token, recipients, text):
        self.token = token
        self.recipients = recipients
        self.text = text
        self.queue_id = None
        self.ack_seq = None

    def users(self):
        return [r.split("@")[0] for r in self.recipients]


def message_text(token, rng):
    """A message with the token in its Subject; mostly a few KiB, sometimes over 64 KiB, so that
    a message spans several blocks and, now and then, several writes of the spool."""
    lines = rng.randint(3000, 6000) if rng.random() < 0.1 else rng.randint(1, 300)
    filler = b"".join(b"%d line of %s\r\n" % (rng.getrandbits(48), token.encode())
                      for _ in range(lines))
    return f"Subject: powercut {token}\r\nMessage-ID: <{token}@client.test>\r\n\r\n".encode() + filler


class Traffic:
    """`clients` threads sending `total` messages between them to the daemon on `port`;
    `seq()` reads the recorder's counter."""

    def __init__(self, port, seq, seed, clients, total):
        self.port = port
        self.seq = seq
        self.seed = seed
        self.total = total
        self.lock = threading.Lock()
        self.sent = {}         # token -> Sent
        self.begun = 0
        self.failures = []     # unexpected replies or errors: a daemon bug, not a power cut
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True)
                        for k in range(clients)]

    def start(self):
        for t in self.threads:
            t.start()

    def running(self):
        return any(t.is_alive() for t in self.threads)

    def join(self, timeout):
        """Waits for every client to finish; fails if one is still sending or one failed."""
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(timeout=max(0.1, deadline - time.monotonic()))
        assert not self.running(), \
            f"clients did not send {self.total} messages in time ({len(self.acked())} acked)"
        assert not self.failures, self.failures

    def acked(self):
        return [s for s in self.sent.values() if s.ack_seq is not None]

    def _next_token(self, k):
        with self.lock:
            if self.begun >= self.total:
                return None
            self.begun += 1
            return f"c{k}n{self.begun}"

    def _run(self, k):
        rng = random.Random(self.seed * 1000 + k)
        try:
            while True:
                with Dialog(self.port, timeout=30.0) as d:
                    if not self._session(d, k, rng):
                        return
        except (OSError, ConnectionClosed, AssertionError) as e:
            with self.lock:
                self.failures.append(f"client {k}: {e!r}")

    def _session(self, d, k, rng):
        """One connection, a few transactions; False when no more messages are wanted."""
        assert d.read_reply().code == 220
        d.ehlo()
        for _ in range(rng.randint(1, 4)):
            token = self._next_token(k)
            if token is None:
                d.cmd("QUIT")
                return False
            sent = Sent(token, rng.choice(RECIPIENT_LISTS),
                        message_text(token, rng))
            assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
            for rcpt in sent.recipients:
                r = d.cmd(f"RCPT TO:<{rcpt}>")
                assert r.code == 250, r
            assert d.cmd("DATA").code == 354
            d.send(sent.text + b".\r\n")
            with self.lock:
                self.sent[token] = sent
            final = d.read_reply()
            seq = self.seq()  # read at once: the message is durable no later than this
            assert final.code == 250, final
            sent.queue_id = queue_id(final)
            sent.ack_seq = seq
        d.cmd("QUIT")
        return True


def token_of(message):
    """The token in a delivered message's Subject, or None."""
    m = re.match(rb"Subject: powercut (\S+)\n", message)  # a Maildir file: LF line ends
    return m.group(1).decode() if m else None
