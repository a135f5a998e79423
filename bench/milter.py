#!/usr/bin/python3
# bench/milter.py (`make bench-milter`): acceptance with rspamd as a milter, Tern against a private
# Postfix, the same rspamd for both, in one run. Both are bounded by rspamd; Tern must not be the
# slower one.
"""Milter benchmark.

One rspamd (Debian's, the proxy worker in milter mode with self_scan, as the tests run it: see
tests/integration/peers/rspamd.py) serves both servers; its DNS questions go to a local DNS
server that answers at once (no internet, no time-outs). Tern ([milter] mx = rspamd) and a
private Postfix (smtpd_milters = rspamd, milter_protocol = 6, milter_default_action =
tempfail) each deliver to local Maildirs. In each round both take the same load in turn
(rotating which goes first): smtp-source, SESSIONS sessions, N messages of SIZE octets to one
local recipient, one message per connection. Reported: accepted msg/s (N / smtp-source's wall
time), delivered msg/s (until the Maildir holds N; every message must carry rspamd's
X-Spamd-Result field, or the run fails), median over ROUNDS, and Tern/Postfix.

Environment: BENCH_MESSAGES (1000), BENCH_SESSIONS (20), BENCH_SIZE (2048), BENCH_ROUNDS (3),
BENCH_TIMEOUT (300), TERN_BIN (build/tern). Runs as root (Postfix's master starts as root).
"""

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from peers import (DnsServer, PostfixPeer, Process, free_udp_tcp_port, tcp_greets,  # noqa: E402
                   wait_until)
from peers.rspamd import Rspamd  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from tern_config import local_delivery_config  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", 1000))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", 20))
SIZE = int(os.environ.get("BENCH_SIZE", 2048))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", 300))
TERN_BIN = os.environ.get("TERN_BIN", str(ROOT / "build" / "tern"))
SMTP_SOURCE = "/usr/sbin/smtp-source"
DOMAIN = "bench.test"
USERS = [f"b{i}" for i in range(ROUNDS + 2)]


def start_tern(work, milter_port):
    port = free_udp_tcp_port()
    data = Path(work) / "tern"
    data.mkdir()
    config = data / "tern.toml"
    config.write_text(local_delivery_config(
        data, port, DOMAIN, USERS,
        f'[milter]\nmx = ["inet:127.0.0.1:{milter_port}"]\nend_timeout = "120s"\n'))
    proc = Process([TERN_BIN, "serve", "--config", str(config)], data / "tern.out")
    proc.wait_ready(lambda: tcp_greets("127.0.0.1", port), "tern")
    return {"name": "tern", "port": port, "stop": proc.stop,
            "maildir": lambda user: data / "data" / "mail" / user / "Maildir" / "new"}


def start_postfix(milter_port):
    port = free_udp_tcp_port()
    postfix = PostfixPeer("127.0.0.1", port, DOMAIN, USERS, extra_main_cf=f"""\
smtpd_milters = inet:127.0.0.1:{milter_port}
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
""")
    return {"name": "postfix", "port": port, "stop": postfix.stop,
            "maildir": lambda user: postfix.mail / user / "Maildir" / "new"}


def run_once(server, user, n):
    cmd = [SMTP_SOURCE, "-s", str(SESSIONS), "-m", str(n), "-l", str(SIZE), "-f",
           "sender@example.org", "-t", f"{user}@{DOMAIN}", f"127.0.0.1:{server['port']}"]
    start = time.monotonic()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise SystemExit(f"milter bench: smtp-source against {server['name']} failed")
    accepted = time.monotonic() - start
    new = server["maildir"](user)
    wait_until(lambda: new.is_dir() and sum(1 for _ in new.iterdir()) >= n, TIMEOUT,
               f"{n} messages in {new}")
    delivered = time.monotonic() - start
    for f in new.iterdir():
        head = f.read_bytes().split(b"\n\n", 1)[0]
        if b"X-Spamd-Result" not in head and b"X-Rspamd" not in head:
            raise SystemExit(f"milter bench: {f} was not scanned by rspamd:\n{head.decode()}")
    return n / accepted, n / delivered


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main():
    if os.geteuid() != 0:
        raise SystemExit("milter bench: run as root (Postfix's master starts as root)")
    if not os.access("/usr/bin/rspamd", os.X_OK):
        raise SystemExit("milter bench: rspamd is not installed (scripts/install-deps.sh bench)")
    signal.signal(signal.SIGTERM, on_sigterm)
    work = tempfile.mkdtemp(prefix="tern-milter-bench-")
    rspamd = dns = None
    servers = []
    try:
        # rspamd's DNS questions (the client's name, the sender's SPF...) are answered at once
        # (NXDOMAIN) by a local server, so that neither server's messages wait on DNS time-outs.
        dns = DnsServer(work, "")
        rspamd = Rspamd(Path(work), nameserver=f"{dns.address}:{dns.port}")
        servers = [start_tern(work, rspamd.port), start_postfix(rspamd.port)]
        rates = {s["name"]: [] for s in servers}
        for r in range(ROUNDS + 1):  # round 0 warms rspamd and both servers up, not counted
            order = servers if r % 2 == 0 else servers[::-1]
            for s in order:
                result = run_once(s, USERS[r], 100 if r == 0 else MESSAGES)
                if r > 0:
                    rates[s["name"]].append(result)
                time.sleep(1)
        med = {name: (statistics.median(a for a, _ in v), statistics.median(d for _, d in v))
               for name, v in rates.items()}
        print(f"# milter bench: rspamd as a milter, {MESSAGES} messages, {SESSIONS} sessions, "
              f"{SIZE} octets, one message per connection, median of {ROUNDS}")
        print("| server | accepted msg/s | delivered msg/s |")
        print("|---|---:|---:|")
        for name in ("tern", "postfix"):
            print(f"| {name} | {med[name][0]:.0f} | {med[name][1]:.0f} |")
        print(f"Tern/Postfix: accepted {med['tern'][0] / med['postfix'][0]:.2f}, "
              f"delivered {med['tern'][1] / med['postfix'][1]:.2f}")
    finally:
        for s in servers:
            s["stop"]()
        if rspamd:
            rspamd.stop()
        if dns:
            dns.stop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
