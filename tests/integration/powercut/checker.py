# What a power-cut test checks: reads a data directory (spool files, state logs, Maildirs) the way
# docs/spool.md defines them, and judges a recovery against what was acknowledged before the cut.
import collections
import re
import zlib
from pathlib import Path

from conftest import maildir_form, split_trace
from powercut.traffic import token_of

STATE_LINE = re.compile(rb"R (\d+) (\S+) .* ([0-9a-f]{8})")


def envelope_recipients(path):
    """The delivery addresses of a spool file's envelope in index order, or None when the file
    does not hold a readable envelope (a half-written file, or old content of a reused one)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    lines = head.split(b"\n")
    if not lines or lines[0] != b"TERN-SPOOL 1" or f"id {path.name}".encode() not in lines:
        return None
    out = []
    for line in lines[1:]:
        if line == b"end":
            return out
        if line.startswith(b"rcpt "):
            out.append(line.split(b" ")[1].decode("ascii", "replace"))
    return None


def delivered_indexes(path):
    """Indexes of recipients whose last valid line in state log `path` says delivered. A line
    whose CRC does not match (torn by the cut) is ignored, as recovery ignores it."""
    last = {}
    try:
        data = path.read_bytes()
    except OSError:
        return set()
    for line in data.split(b"\n")[:-1]:
        m = STATE_LINE.fullmatch(line)
        if m and zlib.crc32(line[:line.rfind(b" ")]) == int(m.group(3), 16):
            last[int(m.group(1))] = m.group(2)
    return {i for i, status in last.items() if status == b"delivered"}


class DiskState:
    """What a data directory holds: spool files (queue id -> recipient addresses), recipients
    whose delivery the state log records, and the copies of each sent message per mailbox."""

    def __init__(self, data_dir, sent):
        self.spool = {}
        self.state_logs = set()         # queue ids with a state log
        self.delivered = set()          # (queue id, address)
        self.copies = collections.Counter()   # (token, user) -> files in the user's Maildir
        self.damaged = []               # delivered files that are not a message as sent
        spool = Path(data_dir) / "spool"
        self.state_logs = {p.name for p in (spool / "state").glob("*")}
        for path in sorted((spool / "msg").glob("*")):
            addresses = envelope_recipients(path)
            self.spool[path.name] = addresses
            if addresses:
                for i in delivered_indexes(spool / "state" / path.name):
                    if i < len(addresses):
                        self.delivered.add((path.name, addresses[i]))
        for path in sorted(Path(data_dir).glob("mail/*/Maildir/*/*")):
            if path.parent.name not in ("new", "cur"):
                continue
            user = path.parts[-4]
            try:
                _, message = split_trace(path.read_bytes())
            except (ValueError, AssertionError) as e:
                self.damaged.append(f"{path}: no trace fields ({e})")
                continue
            token = token_of(message)
            if token not in sent or maildir_form(sent[token].text) != message:
                self.damaged.append(f"{path}: not a message as sent (token {token})")
                continue
            self.copies[(token, user)] += 1


class History:
    """What the disk held durably at the FSYNC points inspected so far (each a state every later
    cut must keep): messages whose removal, and deliveries whose state line, were durable."""

    def __init__(self):
        self.removed = {}     # queue id -> first FSYNC seen without it, once it was durable
        self.delivered = {}   # (queue id, address) -> first FSYNC seen with its delivered line
        self.seen = set()     # queue ids seen in a durable state

    def add(self, fsync_seq, state, durable_ids):
        """`state` is the disk as FSYNC `fsync_seq` left it; `durable_ids` are messages known to
        have been durable by then (acknowledged before the cut)."""
        self.seen |= set(state.spool) | set(durable_ids)
        for qid in self.seen - set(state.spool):
            self.removed.setdefault(qid, fsync_seq)
        for key in state.delivered:
            self.delivered.setdefault(key, fsync_seq)


class Verdict:
    """One cut's findings. `violations` break a promise of docs/spool.md; `repeated` counts the
    deliveries the docs allow to repeat (in flight at the cut)."""

    def __init__(self, cut, variant):
        self.cut = cut
        self.variant = variant
        self.violations = []
        self.lost = []
        self.repeated = 0
        self.notes = []

    def fail(self, kind, text):
        self.violations.append(f"{kind}: {text}")

    def summary(self):
        head = f"cut {self.cut} ({self.variant})"
        if self.violations:
            return f"{head}: {len(self.violations)} violations: " + "; ".join(self.violations[:6])
        return f"{head}: ok" + (f", {self.repeated} in-flight deliveries repeated" if self.repeated else "")


def judge(verdict, sent, cut, history, forgotten, before, after):
    """Compares the mailboxes after recovery (`after`) with what was acknowledged before `cut`,
    with the disk before recovery (`before`), its durable past (`history`) and the moments the
    daemon had forgotten messages (`forgotten`: queue id -> sequence number)."""
    for s in sent.values():
        if s.ack_seq is None or s.ack_seq > cut:
            continue
        for user in s.users():
            if after.copies[(s.token, user)] == 0:
                verdict.lost.append((s.token, user))
    if verdict.lost:
        verdict.fail("lost", f"{len(verdict.lost)} acknowledged deliveries missing after recovery, "
                     f"e.g. {verdict.lost[:4]}")
    for text in after.damaged:
        verdict.fail("damaged", text)
    for (token, user), n in sorted(after.copies.items()):
        again = n - before.copies[(token, user)]
        if again <= 0:
            continue
        s = sent[token]
        key = (s.queue_id, f"{user}@localhost")
        if forgotten.get(s.queue_id, cut + 1) <= cut:
            verdict.fail("came back", f"{token} ({s.queue_id}) delivered to {user} again; the "
                         f"daemon had forgotten it by {forgotten[s.queue_id]}")
        elif s.queue_id in history.removed:
            verdict.fail("came back", f"{token} ({s.queue_id}) delivered to {user} after its "
                         f"removal was durable at FSYNC {history.removed[s.queue_id]}")
        elif key in history.delivered or key in before.delivered:
            log = "a state log" if s.queue_id in before.state_logs else "no state log"
            verdict.fail("delivered again", f"{token} ({s.queue_id}) to {user} though its state "
                         f"log recorded the delivery (FSYNC {history.delivered.get(key, 'of the cut')}"
                         f"); the cut left its message file with {log}")
        elif before.copies[(token, user)]:
            verdict.repeated += again
