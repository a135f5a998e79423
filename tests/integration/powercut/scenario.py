# A power-cut run: Tern receives and delivers mail on an ext4 disk whose every write is recorded;
# then, for each cut point, the disk a power cut there would leave is rebuilt and recovered.
import json
import random
import re
import threading
import time

from conftest import Tern
from powercut import disk
from powercut.checker import DiskState, History, Verdict, judge
from powercut.traffic import Sent, Traffic
from powercut.write_log import NONE, ImageBuilder, WriteLog

USERS = ("alice", "bob", "carol")
BLOCKED_USER = "carol"      # her Maildir fails (451) until half the messages are acknowledged,
UNBLOCK_AT = 0.5            # so that messages to her carry state logs (others delivered)
LOCAL_MAX = 4               # [queue] local_max_deliveries: few deliveries in flight at a cut
WATCH_INTERVAL = 0.2        # seconds between two looks at the queue during the recorded run
TRAFFIC_TIMEOUT = 120.0
DRAIN_TIMEOUT = 30.0        # seconds for a daemon to empty its queue (retries come each second)
ERROR_LINE = re.compile(r"^\S+ error ")


def tern_config(data_dir):
    return {
        "server": {"data_dir": str(data_dir)},
        "local": {"users": list(USERS)},
        "queue": {"retry_schedule": ["1s"], "delay_warning": "0", "local_max_deliveries": LOCAL_MAX},
    }


class QueueWatcher:
    """Lists the queue (`tern queue list`) over and over while the clients send, and notes when
    a message seen queued was no longer listed: by then the daemon had forgotten it, and
    docs/spool.md promises that its removal was durable before that."""

    def __init__(self, tern, seq):
        self.tern = tern
        self.seq = seq
        self.seen = set()
        self.forgotten = {}   # queue id -> sequence number by which the daemon had forgotten it
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=30)

    def _run(self):
        while not self.stopping.wait(WATCH_INTERVAL):
            try:
                listed = set(self.tern.queued())
            except (AssertionError, OSError, ValueError):
                continue  # a busy control socket: look again next time
            after = self.seq()
            for qid in self.seen - listed:
                self.forgotten.setdefault(qid, after)
            self.seen |= listed


class Recording:
    """What the recorded run left in its directory: the base image, the write log, and in
    recording.json what the clients sent and when each was acknowledged, the span of the log
    the daemon ran in (first, last), where the blocked mailbox was opened again (unblocked), and
    by when the daemon had forgotten each message (forgotten: queue id -> sequence number)."""

    FIELDS = ("first", "last", "unblocked", "forgotten", "watched", "seconds")

    def __init__(self, workdir, sent, **fields):
        self.base_image = workdir / "base.img"
        self.log = WriteLog(workdir / "writes.log")
        self.sent = sent
        for name in self.FIELDS:
            setattr(self, name, fields[name])

    def acked(self):
        return [s for s in self.sent.values() if s.ack_seq is not None]

    def save(self, workdir):
        sent = [vars(s) | {"text": s.text.decode("latin-1")} for s in self.sent.values()]
        fields = {name: getattr(self, name) for name in self.FIELDS}
        (workdir / "recording.json").write_text(json.dumps({"sent": sent, **fields}))

    @classmethod
    def load(cls, workdir):
        data = json.loads((workdir / "recording.json").read_text())
        sent = {}
        for d in data.pop("sent"):
            s = sent[d["token"]] = Sent(d["token"], d["recipients"], d["text"].encode("latin-1"))
            s.queue_id, s.ack_seq = d["queue_id"], d["ack_seq"]
        return cls(workdir, sent, **data)


def send_and_drain(t, traffic, seq, messages):
    """Runs the traffic, opens the blocked mailbox once UNBLOCK_AT of it is acknowledged, and
    waits until the queue is empty; returns the sequence number at the unblocking."""
    traffic.start()
    unblocked = None
    deadline = time.monotonic() + TRAFFIC_TIMEOUT
    while traffic.running() and time.monotonic() < deadline:
        if unblocked is None and len(traffic.acked()) >= UNBLOCK_AT * messages:
            unblocked = seq()
            t.unblock_mailbox(BLOCKED_USER)
        time.sleep(0.01)
    traffic.join(timeout=max(0.1, deadline - time.monotonic()))
    if unblocked is None:
        unblocked = seq()
        t.unblock_mailbox(BLOCKED_USER)
    t.wait_for_empty_queue(timeout=DRAIN_TIMEOUT)
    time.sleep(0.2)  # let the last removals reach the disk
    return unblocked


def record(workdir, binary, seed, clients, messages, env=None):
    """Runs Tern (with `env` added to its environment) on the recorded disk while `clients`
    send `messages` messages, waits until everything is delivered, and returns the Recording."""
    started = time.monotonic()
    base = workdir / "base.img"
    disk.make_ext4(base)
    for name in ("fuse", "recorded"):
        (workdir / name).mkdir()
    recorder = disk.Recorder(base, workdir / "fuse", workdir / "writes.log")
    problems = []
    try:
        with disk.loop_mount(recorder.disk, workdir / "recorded", disk.RECORDED_MOUNT_OPTIONS) as mnt:
            t = Tern(workdir / "tern-recorded", binary, tern_config(mnt / "data"))
            t.dir.mkdir()
            t.extra_env = env or {}
            t.block_mailbox(BLOCKED_USER)
            t.start()
            watcher = QueueWatcher(t, recorder.seq)
            try:
                first = recorder.seq()
                traffic = Traffic(t.port, recorder.seq, seed, clients, messages)
                watcher.start()
                unblocked = send_and_drain(t, traffic, recorder.seq, messages)
                last = recorder.seq()
            finally:
                watcher.stop()
                t.stop()
                problems += t.problems()
    finally:
        rc = recorder.stop()
    assert rc == 0, f"recorder exited with {rc}:\n{recorder.output()}"
    assert not problems, "\n".join(problems)
    early = [s.token for s in traffic.acked() if not first <= s.ack_seq <= last]
    assert not early, f"acknowledgements noted outside the run ({first}..{last}): {early[:5]}"
    # The queue was empty at `last`: every message had been forgotten by then.
    forgotten = {s.queue_id: watcher.forgotten.get(s.queue_id, last) for s in traffic.acked()}
    recording = Recording(workdir, traffic.sent, first=first, last=last, unblocked=unblocked,
                          forgotten=forgotten, watched=len(watcher.forgotten),
                          seconds=time.monotonic() - started)
    recording.save(workdir)
    return recording


def recover(workdir, binary, name, data_dir, verdict):
    """Starts Tern on a recovered data directory and lets it deliver everything; a start, drain
    or stop that goes wrong, or an error it logs, is a violation."""
    if (data_dir / "mail" / BLOCKED_USER).is_file():
        (data_dir / "mail" / BLOCKED_USER).unlink()  # the operator fixes the mailbox
    t = Tern(workdir / name, binary, tern_config(data_dir))
    t.dir.mkdir()
    try:
        t.start()
        line = t.wait_for_log(r"info recovery ", timeout=5.0, required=False)
        if line is None:
            verdict.fail("recovery", "no recovery line logged")
        else:
            verdict.notes.append(line.split(" ", 2)[2])
        t.wait_for_empty_queue(timeout=DRAIN_TIMEOUT)
    except AssertionError as e:
        verdict.fail("recovery", str(e)[:2000])
    finally:
        t.stop()
    for problem in t.problems():
        verdict.fail("recovery", problem)
    errors = [line for line in t.log_lines() if ERROR_LINE.match(line)]
    for line in errors[:5]:
        verdict.fail("recovery", f"logged: {line}")


class Mutations:
    """The checker's own controls: a cut's disk changed before recovery the way a spool bug
    would leave it, which the checker must catch."""

    def __init__(self):
        self.kept = {}   # queue id -> content of its message file, for restore_messages

    def remove_state_logs(self, data_dir, state):
        """Deletes the state log of every message with a delivered recipient, as a removal that
        unlinks the log before the message file would leave it (and keeps the message files)."""
        ids = {qid for qid, _ in state.delivered}
        for qid in ids:
            self.kept[qid] = (data_dir / "spool" / "msg" / qid).read_bytes()
            (data_dir / "spool" / "state" / qid).unlink()
        return f"{len(ids)} state logs deleted"

    def restore_messages(self, data_dir, state):
        """Puts back the message files kept by remove_state_logs, as if their removal had never
        reached the disk although the daemon had forgotten them."""
        for qid, content in self.kept.items():
            (data_dir / "spool" / "msg" / qid).write_bytes(content)
        return f"{len(self.kept)} finished messages put back"


class CutChecker:
    """Rebuilds, recovers and judges cut after cut (ascending), keeping the durable history."""

    def __init__(self, workdir, binary, recording, seed):
        self.workdir = workdir
        self.binary = binary
        self.recording = recording
        self.seed = seed
        self.builder = ImageBuilder(recording.base_image, recording.log, workdir)
        self.history = History()
        self.snapshots = set()
        self.runs = 0
        for name in ("cut", "snapshot"):
            (workdir / name).mkdir(exist_ok=True)

    def _durable_ids(self, cut):
        return [s.queue_id for s in self.recording.acked() if s.ack_seq <= cut]

    def _snapshot(self, cut, state=None):
        """Adds the durable state at the last FSYNC up to `cut` to the history (read from
        `state` when the caller already has it)."""
        fsync = self.recording.log.last_fsync(cut)
        if fsync in self.snapshots:
            return
        if state is None:
            image = self.workdir / "snapshot.img"
            self.builder.durable(cut, image)
            with disk.loop_mount(image, self.workdir / "snapshot", read_only=True) as mnt:
                state = DiskState(mnt / "data", self.recording.sent)
        self.history.add(fsync, state, self._durable_ids(cut))
        self.snapshots.add(fsync)

    def check(self, cut, variant, mutate=None):
        """One cut: the image, its state before recovery, recovery, e2fsck, the judgement.
        `mutate(data_dir, state)` may change the disk before recovery (the checker's control)."""
        started = time.monotonic()
        verdict = Verdict(cut, variant)
        sent = self.recording.sent
        if variant != NONE:
            self._snapshot(cut)
        image = self.workdir / "cut.img"
        rng = random.Random(f"{self.seed}/{cut}/{variant}")
        applied, tail = self.builder.cut(cut, variant, rng, image)
        verdict.notes.append(f"last FSYNC {self.recording.log.last_fsync(cut)}, "
                             f"{applied} of {tail} later writes")
        self.runs += 1
        with disk.loop_mount(image, self.workdir / "cut") as mnt:
            before = DiskState(mnt / "data", sent)
            if variant == NONE:
                self._snapshot(cut, before)
            if mutate:
                verdict.notes.append(mutate(mnt / "data", before))
                before = DiskState(mnt / "data", sent)
            recover(self.workdir, self.binary, f"tern-cut{self.runs}", mnt / "data", verdict)
            after = DiskState(mnt / "data", sent)
        # After the daemon's recovery, so that one mount serves both; a problem the cut left in
        # the file system would still be there.
        rc, output = disk.fsck(image)
        if rc != 0:
            verdict.fail("fsck", f"e2fsck -fn exit {rc}: {output[-1500:]}")
        judge(verdict, sent, cut, self.history, self.recording.forgotten, before, after)
        verdict.notes.append(f"{time.monotonic() - started:.1f}s")
        verdict.before = before
        return verdict
