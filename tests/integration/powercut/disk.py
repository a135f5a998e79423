# The disks of a power-cut test: an ext4 image made with mkfs, the recorder serving it over FUSE
# to a loop device, and loop mounts of the images rebuilt from the recorder's log (root only).
import contextlib
import mmap
import os
import shutil
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = "/usr/bin/python3"
DISK_SIZE = 32 * 1024 * 1024
# A commit interval far longer than a test, so that only the daemon's own syncs (and the
# journal filling up) make anything durable, never ext4's periodic commit.
RECORDED_MOUNT_OPTIONS = "commit=3600"
COMMAND_TIMEOUT = 60.0


def missing_requirements():
    """Why this machine cannot run a power-cut test, or None when it can."""
    if os.geteuid() != 0:
        return "needs root (FUSE, loop devices and mount)"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    if not os.path.exists("/dev/loop-control"):
        return "no loop devices (/dev/loop-control)"
    try:
        import llfuse  # noqa: F401
    except ImportError:
        return "python3-llfuse is not installed (scripts/install-deps.sh)"
    for tool in ("mkfs.ext4", "e2fsck", "mount", "umount", "losetup"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def run(*argv, check=True):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: exit {out.returncode}\n{out.stdout}{out.stderr}")
    return out


def make_ext4(path):
    """A fresh ext4 image file of DISK_SIZE octets, its inode tables and journal zeroed now (no
    lazy initialisation writing behind the test's back)."""
    with open(path, "wb") as f:
        f.truncate(DISK_SIZE)
    run("mkfs.ext4", "-F", "-q", "-b", "4096", "-E", "lazy_itable_init=0,lazy_journal_init=0",
        str(path))


def unmount(path):
    """Unmounts `path`, retrying while something still holds it (a daemon just stopped, udev
    probing the device)."""
    for _ in range(50):
        if run("umount", str(path), check=False).returncode == 0:
            return
        time.sleep(0.1)
    run("umount", str(path))


@contextlib.contextmanager
def loop_mount(image, mountpoint, options="", read_only=False):
    """Mounts the ext4 image file `image` on `mountpoint` through a loop device of its own. A
    read-only mount still replays the journal (the loop device itself is writable), as mounting
    the disk after a power cut would."""
    device = run("losetup", "--find", "--show", str(image)).stdout.strip()
    try:
        opts = ",".join(o for o in ("ro" if read_only else "", options) if o) or "defaults"
        run("mount", "-t", "ext4", "-o", opts, device, str(mountpoint))
        try:
            yield Path(mountpoint)
        finally:
            unmount(mountpoint)
    finally:
        run("losetup", "-d", device)


def fsck(image):
    """e2fsck -fn on an unmounted image: (exit code, output). 0 means no problem found."""
    out = run("e2fsck", "-fn", str(image), check=False)
    return out.returncode, out.stdout + out.stderr


class Recorder:
    """The recorder process (recorder.py) serving `base_image` as <fuse_dir>/disk.img."""

    def __init__(self, base_image, fuse_dir, log_path):
        self.fuse_dir = Path(fuse_dir)
        self.log_path = Path(log_path)
        self.counter_path = self.log_path.with_suffix(".counter")
        self.counter_path.write_bytes(b"\0" * 8)
        self.output_path = self.log_path.with_suffix(".out")
        with open(self.output_path, "wb") as out:
            self.proc = subprocess.Popen(
                [PYTHON, str(HERE / "recorder.py"), str(base_image), str(fuse_dir), str(log_path),
                 str(self.counter_path)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(HERE.parent)},
                start_new_session=True)  # a ^C reaches the test, which unmounts in order
        with open(self.counter_path, "rb") as c:
            self.counter = mmap.mmap(c.fileno(), 8, access=mmap.ACCESS_READ)
        deadline = time.monotonic() + 15
        while b"ready" not in self.output_path.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"recorder did not start:\n{self.output()}")
            time.sleep(0.05)

    @property
    def disk(self):
        return self.fuse_dir / "disk.img"

    def seq(self):
        """The sequence number of the last request the recorder has served. Read until two reads
        agree, so that a read racing the recorder's write of the counter is not taken."""
        value = self.counter[0:8]
        while True:
            again = self.counter[0:8]
            if again == value:
                return int.from_bytes(value, "little")
            value = again

    def output(self):
        return self.output_path.read_bytes().decode("utf-8", "replace")

    def stop(self):
        """Unmounts the FUSE file system; the recorder then writes out its log and exits."""
        if self.proc.poll() is None:
            if run("umount", str(self.fuse_dir), check=False).returncode != 0:
                self.proc.terminate()  # this recorder's own pid; it unmounts on SIGTERM
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            run("umount", "-l", str(self.fuse_dir), check=False)
        return self.proc.returncode
