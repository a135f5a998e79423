# A FUSE file system with one file, disk.img, that records every write and fsync the kernel sends
# it in one numbered sequence, so that a test can rebuild the disk as a power cut would leave it.
#
# Run as its own process: recorder.py BASE_IMAGE MOUNTPOINT LOG COUNTER. disk.img starts as a
# copy of BASE_IMAGE (kept in memory); a loop device over it turns the block layer's writes and
# cache flushes into the WRITE and FSYNC requests recorded here. Requests are served one at a time
# (one worker), so a write recorded before an FSYNC had completed when that FSYNC arrived: it is
# on "stable storage" from then on. LOG receives one record per request (see write_log.py);
# COUNTER (8 octets, little-endian) always holds the sequence number of the last request served,
# for clients that note how far the disk had got when they read a reply. Prints "ready" once
# mounted; unmounting MOUNTPOINT ends the process after the log is flushed.
import errno
import mmap
import os
import stat
import sys

import llfuse

from powercut.write_log import KIND_FSYNC, KIND_WRITE, RECORD

NAME = b"disk.img"
FILE_INODE = llfuse.ROOT_INODE + 1
TIMEOUT = 3600.0                  # the kernel may cache names and attributes: nothing changes


class RecordingDisk(llfuse.Operations):
    def __init__(self, image, log, counter):
        super().__init__()
        self.data = bytearray(image)
        self.log = log
        self.counter = counter
        self.seq = 0

    def _record(self, kind, offset, data=b""):
        self.seq += 1
        self.log.write(RECORD.pack(self.seq, kind, offset, len(data)))
        self.log.write(data)
        # One 8-octet copy: struct.pack_into would clear the field before writing it, and a
        # client reading in between would see 0 ("acknowledged before the run began").
        self.counter[0:8] = self.seq.to_bytes(8, "little")

    def _attr(self, inode):
        a = llfuse.EntryAttributes()
        a.st_ino = inode
        a.entry_timeout = a.attr_timeout = TIMEOUT
        if inode == llfuse.ROOT_INODE:
            a.st_mode = stat.S_IFDIR | 0o700
            a.st_nlink = 2
        else:
            a.st_mode = stat.S_IFREG | 0o600
            a.st_nlink = 1
            a.st_size = len(self.data)
            a.st_blocks = len(self.data) // 512
        a.st_blksize = 4096
        return a

    def lookup(self, parent, name, ctx):
        if parent == llfuse.ROOT_INODE and name == NAME:
            return self._attr(FILE_INODE)
        raise llfuse.FUSEError(errno.ENOENT)

    def getattr(self, inode, ctx):
        if inode not in (llfuse.ROOT_INODE, FILE_INODE):
            raise llfuse.FUSEError(errno.ENOENT)
        return self._attr(inode)

    def opendir(self, inode, ctx):
        return inode

    def readdir(self, fh, off):
        if off == 0:
            yield NAME, self._attr(FILE_INODE), 1

    def open(self, inode, flags, ctx):
        if inode != FILE_INODE:
            raise llfuse.FUSEError(errno.EISDIR)
        return inode

    def read(self, fh, off, size):
        return bytes(self.data[off:off + size])

    def write(self, fh, off, buf):
        if off + len(buf) > len(self.data):
            raise llfuse.FUSEError(errno.ENOSPC)
        self.data[off:off + len(buf)] = buf
        self._record(KIND_WRITE, off, buf)
        return len(buf)

    def fsync(self, fh, datasync):
        self._record(KIND_FSYNC, 0)

    def flush(self, fh):
        pass

    def release(self, fh):
        pass

    def releasedir(self, fh):
        pass


def main(base_image, mountpoint, log_path, counter_path):
    with open(base_image, "rb") as f:
        image = f.read()
    with open(counter_path, "r+b") as c:
        counter = mmap.mmap(c.fileno(), 8)
    with open(log_path, "wb", buffering=1 << 20) as log:
        disk = RecordingDisk(image, log, counter)
        options = set(llfuse.default_options) | {"fsname=powercut", "max_write=131072"}
        llfuse.init(disk, mountpoint, options)
        print("ready", flush=True)
        try:
            llfuse.main(workers=1)
        finally:
            llfuse.close(unmount=True)
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:5])
