#!/usr/bin/python3
# bench/relay.py (`make bench-relay`): relaying throughput, Tern against a private Postfix, in one
# run: smtp-source -> server -> smtp-sink, timed until the sink has counted every message; and a
# relay ceiling in the same rounds: the two SMTP hops at once with nothing stored.
"""Relay benchmark.

For each server in turn (rotating which goes first in each round), a fresh smtp-sink is
started on a loopback port, the server is told to relay the domain relay.bench to it, and
smtp-source sends N messages of SIZE octets over SESSIONS concurrent sessions. The time runs from
the start of smtp-source until smtp-sink's own counter reaches N. Both servers keep their
defaults (queue files synced before 250, connection caching, destination concurrency 20);
Postfix runs as a private instance in a temporary directory that is removed afterwards.

The relay ceiling, measured in the same rounds, is the two SMTP hops of a relay with nothing
stored and nothing in between: at the same moment, smtp-source sends N messages over SESSIONS
sessions, one message per connection, to a fresh smtp-sink A (the inbound hop, as the servers are
sent to), and another smtp-source sends N messages over SESSIONS sessions with connection reuse
(-d) to a fresh smtp-sink B (the outbound hop: both servers keep connections to the next hop
open). Its rate is N / the time until both sinks have counted N messages.

Environment: BENCH_MESSAGES (5000), BENCH_SESSIONS (20), BENCH_SIZE (2048), BENCH_ROUNDS (3),
BENCH_WARMUP (300), BENCH_TIMEOUT (300), TERN_BIN (build/tern), BENCH_DKIM (0; 1: Tern
dual-signs every message, RSA-2048 and Ed25519, as mail of its own domain relay.bench),
BENCH_EVENTS (1: the event log on, as shipped; 0: [events] enabled = false, to measure its cost).
"""

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from peers import PostfixPeer, Process, tcp_greets, wait_until  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", 5000))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", 20))
SIZE = int(os.environ.get("BENCH_SIZE", 2048))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
WARMUP = int(os.environ.get("BENCH_WARMUP", 300))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", 300))
TERN_BIN = os.environ.get("TERN_BIN", str(ROOT / "build" / "tern"))
SMTP_SOURCE = "/usr/sbin/smtp-source"
DKIM = os.environ.get("BENCH_DKIM", "0") == "1"
EVENTS = os.environ.get("BENCH_EVENTS", "1") == "1"
SMTP_SINK = "/usr/sbin/smtp-sink"
DOMAIN = "relay.bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """smtp-sink with its running counter (-c) in a file; sink.count() is messages received."""

    def __init__(self, work, port):
        self.port = port
        self.out = Path(work) / f"sink-{port}.out"
        self.process = Process([SMTP_SINK, "-c", "-u", "root", f"127.0.0.1:{port}", "256"],
                               self.out)
        self.process.wait_ready(lambda: tcp_greets("127.0.0.1", port), "smtp-sink")

    def count(self):
        found = re.findall(rb"mesg=(\d+)", self.out.read_bytes())
        return int(found[-1]) if found else 0

    def stop(self):
        self.process.stop()


def source_command(port, n, reuse=False):
    return [SMTP_SOURCE, "-s", str(SESSIONS), "-m", str(n), "-l", str(SIZE), "-f",
            f"sender@{DOMAIN}", "-t", f"rcpt@{DOMAIN}", *(["-d"] if reuse else []),
            f"127.0.0.1:{port}"]


def run_ceiling(work, n):
    """Seconds until both hops have carried n messages: smtp-source -> sink A (one message per
    connection) and, at the same time, smtp-source -d -> sink B. Returns (seconds until sink A
    had n, seconds until both had n)."""
    sinks = []
    sources = []
    try:
        sinks = [Sink(work, free_port()), Sink(work, free_port())]
        start = time.monotonic()
        sources = [subprocess.Popen(source_command(sinks[0].port, n), stdin=subprocess.DEVNULL),
                   subprocess.Popen(source_command(sinks[1].port, n, reuse=True),
                                    stdin=subprocess.DEVNULL)]
        done = [None, None]
        deadline = start + TIMEOUT
        while None in done:
            if time.monotonic() > deadline:
                raise SystemExit(f"relay bench: the ceiling's smtp-source did not finish within "
                                 f"{TIMEOUT:g}s")
            for i, (source, sink) in enumerate(zip(sources, sinks)):
                if done[i] is None and source.poll() is not None:
                    if source.returncode != 0:
                        raise SystemExit(f"relay bench: the ceiling's smtp-source failed with "
                                         f"{source.returncode}")
                    # smtp-source has had every reply, so the sink has counted every "."
                    wait_until(lambda: sink.count() >= n, 5, f"{n} messages at smtp-sink {i}")
                    done[i] = time.monotonic() - start
            time.sleep(0.005)
        time.sleep(0.5)  # anything beyond n would be a duplicate
        for sink in sinks:
            if sink.count() != n:
                raise SystemExit(f"relay bench: a ceiling sink got {sink.count()} messages, not {n}")
        return done[0], max(done)
    finally:
        for source in sources:
            if source.poll() is None:
                source.kill()
                source.wait()
        for sink in sinks:
            sink.stop()


def run_once(server_port, sink_port, work, n):
    """Seconds from the start of smtp-source until the sink has counted n messages."""
    sink = Sink(work, sink_port)
    try:
        start = time.monotonic()
        source = subprocess.Popen(source_command(server_port, n), stdin=subprocess.DEVNULL)
        try:
            source.wait(timeout=TIMEOUT)
        finally:
            if source.poll() is None:
                source.kill()
        if source.returncode != 0:
            raise SystemExit(f"relay bench: smtp-source failed with {source.returncode}")
        accepted = time.monotonic() - start
        wait_until(lambda: sink.count() >= n, TIMEOUT, f"{n} messages at smtp-sink")
        relayed = time.monotonic() - start
        time.sleep(0.5)  # anything beyond n would be a duplicate
        if sink.count() != n:
            raise SystemExit(f"relay bench: the sink got {sink.count()} messages, not {n}")
        return accepted, relayed
    finally:
        sink.stop()


def start_tern(work, sink_port):
    port = free_port()
    data = Path(work) / "tern"
    data.mkdir()
    config = data / "tern.toml"
    config.write_text(f"""\
[server]
hostname = "tern.bench"
data_dir = "{data}/data"
[log]
file = "{data}/tern.log"
[smtp]
listen = ["127.0.0.1:{port}"]
[limits]
connections_per_client = 100000
[relay]
routes = ["{DOMAIN} = [127.0.0.1]:{sink_port}"]
[mailauth]
verify = []
[dkim]
sign = {"true" if DKIM else "false"}
domains = ["{DOMAIN}"]
[events]
enabled = {"true" if EVENTS else "false"}
""")
    proc = Process([TERN_BIN, "serve", "--config", str(config)], data / "tern.out")
    proc.wait_ready(lambda: tcp_greets("127.0.0.1", port), "tern")
    return proc, port, data / "tern.log"


def start_postfix(sink_port):
    port = free_port()
    postfix = PostfixPeer("127.0.0.1", port, "unused.bench", [], extra_main_cf=f"""\
relay_domains = {DOMAIN}
transport_maps = inline:{{ {DOMAIN}=smtp:[127.0.0.1]:{sink_port} }}
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
""")
    return postfix, port


def on_sigterm(signum, frame):
    raise KeyboardInterrupt  # so that the finally clause stops every server


def main():
    if os.geteuid() != 0:
        raise SystemExit("relay bench: run as root (Postfix's master starts as root)")
    work = tempfile.mkdtemp(prefix="tern-relay-bench-")
    tern = postfix = None
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        sink_ports = {"tern": free_port(), "postfix": free_port()}
        tern, tern_port, tern_log = start_tern(work, sink_ports["tern"])
        postfix, postfix_port = start_postfix(sink_ports["postfix"])
        ports = {"tern": tern_port, "postfix": postfix_port}
        load = open("/proc/loadavg").read().split()[:3]
        print(f"relay bench: load average before the run {' '.join(load)}", file=sys.stderr)
        def run(name, n):
            if name == "ceiling":
                return run_ceiling(work, n)
            return run_once(ports[name], sink_ports[name], work, n)

        names = ("tern", "postfix", "ceiling")
        if WARMUP:
            for name in names:
                run(name, WARMUP)
        results = {name: [] for name in names}
        for r in range(1, ROUNDS + 1):
            # Rotate the order (tern postfix ceiling, postfix ceiling tern, ceiling tern postfix).
            order = names[(r - 1) % 3:] + names[:(r - 1) % 3]
            for name in order:
                accepted, relayed = run(name, MESSAGES)
                results[name].append((accepted, relayed))
                if name == "ceiling":
                    print(f"relay bench: ceiling round {r}: {MESSAGES} msgs at sink A after "
                          f"{accepted:.2f}s, at both sinks after {relayed:.2f}s", file=sys.stderr)
                else:
                    print(f"relay bench: {name:7} round {r}: {MESSAGES} msgs accepted in "
                          f"{accepted:.2f}s, at the sink after {relayed:.2f}s", file=sys.stderr)
        rate = {k: MESSAGES / statistics.median(t for _, t in v) for k, v in results.items()}
        accept = {k: MESSAGES / statistics.median(a for a, _ in v) for k, v in results.items()}
        print(f"\nserver   accept msg/s  relayed msg/s (until the sink has every message)")
        for name in ("tern", "postfix"):
            print(f"{name:8} {accept[name]:12.0f}  {rate[name]:13.0f}")
        print(f"{'ceiling':8} {accept['ceiling']:12.0f}  {rate['ceiling']:13.0f}  "
              f"(two hops at once, nothing stored: smtp-source -> sink A, smtp-source -d -> sink B;"
              f" accept = sink A alone)")
        print(f"\nTern/Postfix relayed: {rate['tern'] / rate['postfix']:.2f}x "
              f"(median of {ROUNDS} rounds, {MESSAGES} messages, {SESSIONS} sessions, "
              f"{SIZE}-byte payload{', Tern dual-signing' if DKIM else ''}"
              f"{'' if EVENTS else ', event log off'})")
        share = rate["tern"] / rate["ceiling"]
        print(f"Tern/ceiling relayed: {share:.2f} ({100 * share:.0f} %); target >= 60 %: "
              f"{'met' if share >= 0.60 else 'NOT met'}")
        print(f"Postfix/ceiling relayed: {rate['postfix'] / rate['ceiling']:.2f} "
              f"({100 * rate['postfix'] / rate['ceiling']:.0f} %)")
        print("every round (seconds until the sink had all; ceiling: until both sinks had all): "
              + "; ".join(f"{k} " + ", ".join(f"{t:.2f}" for _, t in v) for k, v in results.items()))
        problems = [l for l in open(tern_log, errors="replace") if re.match(r"\S+ (warn|error) ", l)]
        print(f"Tern logged {len(problems)} warnings/errors" + (f"; first: {problems[0]}"
                                                               if problems else ""))
    finally:
        if tern:
            tern.stop()
        if postfix:
            postfix.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
