#!/usr/bin/python3
"""bench/idle_memory.py: memory the daemon holds per idle SMTP connection after EHLO.

Starts `tern serve` (TERN_BIN, default build/tern) with a minimal configuration in a temp dir,
reads its memory (/proc/PID/status VmRSS and /proc/PID/smaps_rollup), opens N connections
(each reads the 220 greeting, sends EHLO, reads the reply and then stays open, silent), reads the
memory again once the figures are steady, and prints (after - before) / N. A benchmark, not a
test: it asserts nothing about the figure.

Environment (defaults in brackets):
  IDLE_CONNECTIONS [20000]  connections wanted; fewer when the descriptor limits allow fewer
  IDLE_TIMEOUT     [300]    seconds allowed for the whole run (start, connect, settle)
  IDLE_WORKERS     [0]      [server] workers of the daemon (0: one per CPU, the default)
  IDLE_KEEP        [0]      1 keeps the temp dir (configuration, log)
  TERN_BIN [build/tern]     TMPDIR [/tmp]
"""

import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TERN_BIN = os.environ.get("TERN_BIN", os.path.join(ROOT, "build", "tern"))
WANTED = int(os.environ.get("IDLE_CONNECTIONS", "20000"))
TIMEOUT = float(os.environ.get("IDLE_TIMEOUT", "300"))
WORKERS = int(os.environ.get("IDLE_WORKERS", "0"))
KEEP = os.environ.get("IDLE_KEEP", "0") == "1"

IN_FLIGHT = 500  # connections being opened at once (the daemon's listen backlog is 4096)
SPARE_FDS = 64  # descriptors left free in each process (logs, spool files, DNS, a new accept)
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h: choose the port at connect(), not at bind()
# A client name of an ordinary length (longer than a std::string keeps inline).
EHLO = b"EHLO mail-relay-17.client.example\r\n"


def log(text):
    print(f"idle_memory: {text}", file=sys.stderr, flush=True)


def die(text):
    log(f"FAILED: {text}")
    sys.exit(1)


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return self.end - time.monotonic()

    def check(self, what):
        if self.left() <= 0:
            raise TimeoutError(f"{what}: past IDLE_TIMEOUT ({TIMEOUT:g} s)")


def raise_file_limit():
    """Soft limit up to the hard one; the daemon inherits it (and raises its own the same way)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_fds(pid="self"):
    return len(os.listdir(f"/proc/{pid}/fd"))


def process_file_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise RuntimeError("no 'Max open files' in /proc/PID/limits")


def memory(pid):
    """KiB figures of the process: VmRSS, and Rss, Pss, private and anonymous from smaps_rollup."""
    m = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmData:", "Threads:")):
                key, value = line.split(":", 1)
                m[key] = int(value.split()[0])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                m[key] = int(parts[0])
    m["Private"] = m.get("Private_Clean", 0) + m.get("Private_Dirty", 0)
    return m


def steady_memory(pid, deadline, settle=1.0):
    """Reads until two readings `settle` seconds apart agree within 0.5 % (or 8 readings)."""
    last = memory(pid)
    for _ in range(8):
        time.sleep(settle)
        now = memory(pid)
        if abs(now["Pss"] - last["Pss"]) <= max(64, last["Pss"] // 200):
            return now
        last = now
        deadline.check("waiting for the daemon's memory to settle")
    return last


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ephemeral_ports():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
        return high - low + 1
    except OSError:
        return 28232


def wait_listening(port, proc, deadline):
    while deadline.left() > 0:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(5)
                if s.recv(512).startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    s.recv(512)
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def final_reply(buf):
    """The code of the last line when `buf` holds a whole (possibly multi-line) reply, else None."""
    if not buf.endswith(b"\r\n"):
        return None
    last = buf[:-2].rsplit(b"\r\n", 1)[-1]
    if len(last) >= 4 and last[3:4] == b" ":
        return last[:3]
    return None


class Conn:
    __slots__ = ("sock", "state", "buf")

    def __init__(self, sock):
        self.sock = sock
        self.state = "connect"  # connect -> greeting -> ehlo -> idle
        self.buf = b""


def open_connections(port, count, deadline):
    """Opens `count` connections, each through greeting and EHLO; returns their sockets."""
    # connect() takes the even ports of the range first and gets slow (a scan per connect) once
    # they are used up; each further source address has all of them again.
    per_source = max(1000, ephemeral_ports() // 2 * 9 // 10)
    sources = (count + per_source - 1) // per_source
    sel = selectors.DefaultSelector()
    idle = []
    opened = 0
    pending = 0

    def start_one(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if sources > 1:
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind((f"127.0.0.{2 + i % sources}", 0))
        err = s.connect_ex(("127.0.0.1", port))
        if err not in (0, 115):  # EINPROGRESS
            s.close()
            raise OSError(err, f"connect: {os.strerror(err)}")
        c = Conn(s)
        sel.register(s, selectors.EVENT_WRITE, c)

    last_report = time.monotonic()
    while len(idle) < count:
        deadline.check(f"opening connections ({len(idle)} of {count} idle)")
        while pending < IN_FLIGHT and opened < count:
            start_one(opened)
            opened += 1
            pending += 1
        for key, _ in sel.select(timeout=min(1.0, max(0.01, deadline.left()))):
            c = key.data
            if c.state == "connect":
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, f"connect: {os.strerror(err)}")
                c.state = "greeting"
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            data = c.sock.recv(4096)
            if not data:
                raise ConnectionError(f"the daemon closed connection {len(idle) + pending}")
            c.buf += data
            code = final_reply(c.buf)
            if code is None:
                continue
            if c.state == "greeting":
                if code != b"220":
                    raise ConnectionError(f"greeting {c.buf!r}")
                c.buf = b""
                c.state = "ehlo"
                c.sock.sendall(EHLO)  # a few octets: never blocks
            else:
                if code != b"250":
                    raise ConnectionError(f"EHLO reply {c.buf!r}")
                c.state = "idle"
                c.buf = b""
                sel.unregister(c.sock)
                idle.append(c.sock)
                pending -= 1
        if time.monotonic() - last_report > 2:
            log(f"{len(idle)} of {count} connections idle")
            last_report = time.monotonic()
    sel.close()
    return idle, sources


def still_open(socks):
    """How many of the sockets the daemon has not closed (no EOF, no error pending)."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    closed = len(sel.select(timeout=0.1))
    sel.close()
    return len(socks) - closed


def main():
    if not os.access(TERN_BIN, os.X_OK):
        die(f"no Tern binary at {TERN_BIN} (make build)")
    if WANTED <= 0:
        die("IDLE_CONNECTIONS must be positive")
    deadline = Deadline(TIMEOUT)
    own_limit = raise_file_limit()
    work = tempfile.mkdtemp(prefix="tern-idle.")
    port = free_port()
    config = os.path.join(work, "tern.toml")
    with open(config, "w") as f:
        f.write(f"""# bench/idle_memory.py; everything not set here is at its default.
[server]
hostname = "tern.idle.test"
data_dir = "{work}/data"
workers = {WORKERS}
shutdown_grace = "1s"

[log]
file = "{work}/tern.log"

[smtp]
listen = ["127.0.0.1:{port}"]

[submission]
listen = []

[submissions]
listen = []

[limits]
connections = 1000000
connections_per_client = 1000000
command_timeout = "1h"
""")
    proc = None
    socks = []
    try:
        with open(os.path.join(work, "tern.out"), "w") as out:
            proc = subprocess.Popen([TERN_BIN, "serve", "--config", config],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    start_new_session=True)
        if not wait_listening(port, proc, deadline):
            with open(os.path.join(work, "tern.out")) as f:
                sys.stderr.write(f.read())
            die(f"Tern did not start on port {port}")
        time.sleep(1.0)
        before = steady_memory(proc.pid, deadline)
        daemon_limit = process_file_limit(proc.pid)
        daemon_fds = open_fds(proc.pid)
        allowed = min(daemon_limit - daemon_fds - SPARE_FDS, own_limit - open_fds() - SPARE_FDS)
        count = min(WANTED, allowed)
        if count <= 0:
            die(f"no descriptors left (daemon limit {daemon_limit}, own {own_limit})")
        if count < WANTED:
            log(f"{count} connections, not {WANTED}: descriptor limits are {daemon_limit} for "
                f"the daemon ({daemon_fds} in use) and {own_limit} here")
        t0 = time.monotonic()
        socks, sources = open_connections(port, count, deadline)
        took = time.monotonic() - t0
        log(f"{count} connections idle after EHLO in {took:.1f} s "
            f"from {sources} source address(es)")
        after = steady_memory(proc.pid, deadline)
        alive = still_open(socks)
        if alive != count:
            die(f"only {alive} of {count} connections still open when measured")
        if proc.poll() is not None:
            die("the daemon exited")

        print(f"binary: {TERN_BIN}")
        print(f"connections: {count} idle after EHLO (daemon descriptor limit {daemon_limit}, "
              f"{daemon_fds} open before; workers {WORKERS or 'one per CPU'}; "
              f"threads {after['Threads']})")
        print(f"{'KiB':<14}{'before':>12}{'after':>12}{'per connection':>16}")
        for key in ("VmRSS", "Rss", "Pss", "Private", "Anonymous"):
            per = (after[key] - before[key]) / count
            print(f"{key:<14}{before[key]:>12}{after[key]:>12}{per:>16.2f}")
        per = (after["Pss"] - before["Pss"]) / count
        print(f"per idle connection after EHLO: {per:.2f} KiB (Pss; VmRSS "
              f"{(after['VmRSS'] - before['VmRSS']) / count:.2f} KiB)")
    except (OSError, TimeoutError) as e:
        die(str(e))
    finally:
        for s in socks:
            s.close()
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if KEEP:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
