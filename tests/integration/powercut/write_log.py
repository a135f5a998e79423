# The recorder's log of WRITE and FSYNC requests, and the disk images a power cut would leave:
# every write before the last FSYNC up to the cut, plus any subset of the writes after it.
import bisect
import os
import shutil
import struct

RECORD = struct.Struct("<QBQI")  # sequence, kind, offset, length; then `length` octets of data
KIND_WRITE = 1
KIND_FSYNC = 2
SECTOR = 512

# How the writes between the last FSYNC and the cut reached the platter.
NONE = "none"          # not one of them (the disk lost its whole volatile cache)
ALL = "all"            # every one, in order (the cut came just after the last of them)
WRITES = "writes"      # each write whole or not at all, chosen at random
SECTORS = "sectors"    # each 512-octet sector of each write on its own, chosen at random
VARIANTS = (NONE, ALL, WRITES, SECTORS)


class WriteLog:
    """The requests the recorder served, in order; sequence numbers start at 1."""

    def __init__(self, path):
        self.writes = []   # (seq, offset, data)
        self.fsyncs = []   # seq of each FSYNC, ascending
        data = memoryview(open(path, "rb").read())
        pos = 0
        while pos + RECORD.size <= len(data):
            seq, kind, offset, length = RECORD.unpack_from(data, pos)
            pos += RECORD.size
            if pos + length > len(data):
                break   # the recorder died mid-record: the rest never happened
            if kind == KIND_WRITE:
                self.writes.append((seq, offset, data[pos:pos + length]))
            elif kind == KIND_FSYNC:
                self.fsyncs.append(seq)
            pos += length
        self.write_seqs = [w[0] for w in self.writes]
        self.last = max(self.write_seqs[-1:] + self.fsyncs[-1:] + [0])

    def last_fsync(self, cut):
        """The sequence number of the last FSYNC at or before `cut` (0 if none)."""
        i = bisect.bisect_right(self.fsyncs, cut)
        return self.fsyncs[i - 1] if i else 0

    def tail(self, cut):
        """The writes after the last FSYNC up to `cut`: the ones a cut at `cut` may lose."""
        lo = bisect.bisect_right(self.write_seqs, self.last_fsync(cut))
        hi = bisect.bisect_right(self.write_seqs, cut)
        return self.writes[lo:hi]


class ImageBuilder:
    """Builds cut images as files from the base image and the log. It keeps `durable.img` in
    `workdir`, the durable prefix of the last cut asked for, so cuts must come in ascending
    order: the prefix is only ever extended. Images are copied and patched by the kernel and
    pwrite, never held in memory."""

    def __init__(self, base_image, log, workdir):
        self.log = log
        self.prefix_path = workdir / "durable.img"
        shutil.copyfile(base_image, self.prefix_path)
        self.applied = 0    # writes of the log applied to the prefix
        self.prefix_seq = 0

    def _extend_prefix(self, upto):
        assert upto >= self.prefix_seq, "cuts must be built in ascending order"
        with open(self.prefix_path, "r+b") as f:
            while self.applied < len(self.log.writes) and self.log.writes[self.applied][0] < upto:
                _, offset, data = self.log.writes[self.applied]
                os.pwrite(f.fileno(), data, offset)
                self.applied += 1
        self.prefix_seq = upto

    def durable(self, cut, path):
        """Writes to `path` the image every write before the last FSYNC up to `cut` made, and
        no other."""
        self._extend_prefix(self.log.last_fsync(cut))
        shutil.copyfile(self.prefix_path, path)

    def cut(self, cut, variant, rng, path):
        """Writes to `path` the image a power cut at `cut` may leave: durable(cut) plus the
        writes after its last FSYNC that `variant` (with `rng`) lets through. Returns (writes
        applied, writes after the FSYNC)."""
        self.durable(cut, path)
        tail = self.log.tail(cut)
        applied = 0
        with open(path, "r+b") as f:
            for _, offset, data in tail:
                if variant == ALL or (variant == WRITES and rng.random() < 0.5):
                    os.pwrite(f.fileno(), data, offset)
                    applied += 1
                elif variant == SECTORS:
                    for s in range(0, len(data), SECTOR):
                        if rng.random() < 0.5:
                            os.pwrite(f.fileno(), data[s:s + SECTOR], offset + s)
                    applied += 1
        return applied, len(tail)


def choose_cuts(log, first, last, count, rng):
    """About `count` (cut point, variant) pairs in [first, last], ascending: the moment before an
    FSYNC (everything since the previous one in doubt), the moment after one (the last state the
    disk promised), and random points. The last point of the range is always one."""
    fsyncs = [s for s in log.fsyncs if first < s <= last]
    count = min(count, last - first + 1)
    picks = {last: ALL}
    for s in rng.sample(fsyncs, min(len(fsyncs), count // 3)):
        picks[s - 1] = rng.choice((NONE, WRITES, SECTORS))
    for s in rng.sample(fsyncs, min(len(fsyncs), count // 6)):
        picks[s] = NONE
    while len(picks) < count:
        picks[rng.randint(first, last)] = rng.choice(VARIANTS)
    return sorted(picks.items())
