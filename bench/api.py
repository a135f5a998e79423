#!/usr/bin/python3
# bench/api.py (`make bench-api`): the sending API's throughput. Recipients injected through
# POST /api/v1/messages in templated requests and relayed to smtp-sink, next to SMTP injection of
# the same number of messages into Tern and into a private Postfix, in one run.
"""Sending API benchmark.

Tern relays the domain relay.bench to an smtp-sink on loopback. RECIPIENTS recipients are
injected through the API in requests of BATCH recipients each, every recipient with its own
substitutions for a Mustache subject and text of about SIZE octets, by CLIENTS concurrent HTTP
clients (keep-alive). Request bodies are made before the clock starts. "injected" runs until the
last request is answered (every message synced to the spool); "delivered" until the sink has
counted every message.

In the same run: smtp-source sends SMTP_MESSAGES messages of SIZE octets (one recipient each,
SESSIONS sessions, one message per connection) to Tern and to Postfix (as bench/relay.py does),
each relaying to its own smtp-sink. The target of issue 11: API injection >= 5x Postfix's SMTP
acceptance rate.

The suppression list is on (as shipped) and holds BENCH_API_SUPPRESSED addresses (none of them
the bench's recipients), so every recipient is looked up against a list of realistic size;
BENCH_SUPPRESSION=0 turns the list off ([suppression] enabled = false), to measure its cost.

BENCH_FEEDBACK=1 turns VERP and one-click unsubscribe on ([feedback] bounce_domain and
unsubscribe_url, every request with "unsubscribe": true): each message gets its List-Unsubscribe
fields and the sent index a row, and each delivery its own return path, to measure their cost.

Environment: BENCH_API_RECIPIENTS (100000), BENCH_API_BATCH (1000), BENCH_API_CLIENTS (2),
BENCH_SMTP_MESSAGES (10000), BENCH_SESSIONS (20), BENCH_SIZE (2048), BENCH_TIMEOUT (600),
BENCH_SUPPRESSION (1), BENCH_API_SUPPRESSED (100000), BENCH_FEEDBACK (0), TERN_BIN (build/tern).
"""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import relay  # noqa: E402  (smtp-sink, smtp-source and Postfix as the relay bench runs them)
from peers import Process, tcp_greets, wait_until  # noqa: E402

RECIPIENTS = int(os.environ.get("BENCH_API_RECIPIENTS", 100000))
BATCH = int(os.environ.get("BENCH_API_BATCH", 1000))
CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", 2))
SMTP_MESSAGES = int(os.environ.get("BENCH_SMTP_MESSAGES", 10000))
SIZE = int(os.environ.get("BENCH_SIZE", 2048))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", 600))
TERN_BIN = os.environ.get("TERN_BIN", str(ROOT / "build" / "tern"))
SUPPRESSION = os.environ.get("BENCH_SUPPRESSION", "1") != "0"
FEEDBACK = os.environ.get("BENCH_FEEDBACK", "0") == "1"
SUPPRESSED = int(os.environ.get("BENCH_API_SUPPRESSED", 100000))
DOMAIN = relay.DOMAIN


def start_tern(work, sink_port):
    smtp_port, http_port = relay.free_port(), relay.free_port()
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
listen = ["127.0.0.1:{smtp_port}"]
[http]
listen = ["127.0.0.1:{http_port}"]
max_body = "64M"
[limits]
connections_per_client = 100000
[relay]
routes = ["{DOMAIN} = [127.0.0.1]:{sink_port}"]
[mailauth]
verify = []
[dkim]
sign = false
[suppression]
enabled = {"true" if SUPPRESSION else "false"}
""" + ("""[feedback]
bounce_domain = "bounces.bench.example"
secrets = ["a secret of the benchmark"]
unsubscribe_url = "https://tern.bench"
""" if FEEDBACK else ""))
    if SUPPRESSION and SUPPRESSED:
        listed = "".join(f"gone{i}@{DOMAIN}\n" for i in range(SUPPRESSED))
        subprocess.run([TERN_BIN, "-c", str(config), "suppress", "add", "--file", "-"],
                       input=listed, capture_output=True, text=True, check=True)
    proc = Process([TERN_BIN, "serve", "--config", str(config)], data / "tern.out")
    proc.wait_ready(lambda: tcp_greets("127.0.0.1", smtp_port), "tern")
    made = subprocess.run([TERN_BIN, "-c", str(config), "apikey", "add", "bench", "--domains",
                           DOMAIN], capture_output=True, text=True, check=True)
    return proc, smtp_port, http_port, made.stdout.strip(), data / "tern.log"


def request_bodies():
    filler = "The quick brown fox jumps over the lazy dog. " * (SIZE // 46)
    text = "Hello {{first}},\n\nyour code is {{code}}.\n\n" + filler + "\n"
    bodies = []
    for start in range(0, RECIPIENTS, BATCH):
        to = [{"address": f"rcpt{i}@{DOMAIN}",
               "substitutions": {"first": f"Reader {i}", "code": f"{i:08d}"}}
              for i in range(start, min(start + BATCH, RECIPIENTS))]
        body = {"from": f"news@{DOMAIN}", "to": to, "subject": "News for {{first}}", "text": text}
        if FEEDBACK:
            body["unsubscribe"] = True
        bodies.append(json.dumps(body).encode())
    return bodies


def inject(http_port, key, bodies):
    """Posts every body over CLIENTS keep-alive connections; returns the queued count."""
    queued = [0]
    errors = []
    lock = threading.Lock()
    next_body = iter(bodies)

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=TIMEOUT)
        while True:
            with lock:
                body = next(next_body, None)
            if body is None:
                break
            connection.request("POST", "/api/v1/messages", body,
                               {"Authorization": f"Bearer {key}",
                                "Content-Type": "application/json"})
            answer = connection.getresponse()
            data = answer.read()
            with lock:
                if answer.status != 200:
                    errors.append(f"{answer.status} {data[:200]!r}")
                else:
                    queued[0] += json.loads(data)["queued"]
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"api bench: {len(errors)} requests failed; first: {errors[0]}")
    return queued[0]


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main():
    if os.geteuid() != 0:
        raise SystemExit("api bench: run as root (Postfix's master starts as root)")
    relay.SIZE = SIZE
    relay.TIMEOUT = TIMEOUT
    work = tempfile.mkdtemp(prefix="tern-api-bench-")
    tern = postfix = None
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        sinks = {"api": relay.free_port(), "tern": relay.free_port(), "postfix": relay.free_port()}
        tern, tern_smtp, http_port, key, tern_log = start_tern(work, sinks["api"])
        postfix, postfix_port = relay.start_postfix(sinks["postfix"])
        bodies = request_bodies()
        megabytes = sum(len(b) for b in bodies) / 1e6
        load = open("/proc/loadavg").read().split()[:3]
        print(f"api bench: load average before the run {' '.join(load)}; {len(bodies)} requests, "
              f"{megabytes:.1f} MB of JSON; suppression list "
              f"{f'on, {SUPPRESSED} addresses' if SUPPRESSION else 'off'}; "
              f"VERP and unsubscribe {'on' if FEEDBACK else 'off'}", file=sys.stderr)

        sink = relay.Sink(work, sinks["api"])
        try:
            start = time.monotonic()
            queued = inject(http_port, key, bodies)
            injected = time.monotonic() - start
            if queued != RECIPIENTS:
                raise SystemExit(f"api bench: {queued} of {RECIPIENTS} recipients queued")
            wait_until(lambda: sink.count() >= RECIPIENTS, TIMEOUT,
                       f"{RECIPIENTS} messages at smtp-sink")
            delivered = time.monotonic() - start
            time.sleep(0.5)
            if sink.count() != RECIPIENTS:
                raise SystemExit(f"api bench: the sink got {sink.count()}, not {RECIPIENTS}")
        finally:
            sink.stop()
        print(f"api bench: API {RECIPIENTS} recipients injected in {injected:.2f}s, at the sink "
              f"after {delivered:.2f}s", file=sys.stderr)

        # Tern's relay route now points at the API's sink port, so its SMTP run uses that port.
        smtp = {}
        for name, port, sink_port in (("tern", tern_smtp, sinks["api"]),
                                      ("postfix", postfix_port, sinks["postfix"])):
            accepted, relayed = relay.run_once(port, sink_port, work, SMTP_MESSAGES)
            smtp[name] = (SMTP_MESSAGES / accepted, SMTP_MESSAGES / relayed)
            print(f"api bench: SMTP {name:7} {SMTP_MESSAGES} msgs accepted in {accepted:.2f}s, "
                  f"at the sink after {relayed:.2f}s", file=sys.stderr)

        api_in, api_out = RECIPIENTS / injected, RECIPIENTS / delivered
        print(f"\nway in                     injected msg/s  delivered msg/s")
        print(f"{'Tern HTTP API':26} {api_in:14.0f}  {api_out:15.0f}  ({RECIPIENTS} recipients, "
              f"{BATCH} a request, {CLIENTS} clients, templated, ~{SIZE} octets)")
        for name in ("tern", "postfix"):
            label = f"{'Tern' if name == 'tern' else 'Postfix'} SMTP (smtp-source)"
            print(f"{label:26} {smtp[name][0]:14.0f}  {smtp[name][1]:15.0f}  "
                  f"({SMTP_MESSAGES} messages, {relay.SESSIONS} sessions)")
        ratio = api_in / smtp["postfix"][0]
        print(f"\nTern API injected / Postfix SMTP accepted: {ratio:.2f}x; target >= 5x: "
              f"{'met' if ratio >= 5 else 'NOT met'}")
        print(f"Tern API injected / Tern SMTP accepted: {api_in / smtp['tern'][0]:.2f}x")
        problems = [l for l in open(tern_log, errors="replace")
                    if re.match(r"\S+ (warn|error) ", l)]
        print(f"Tern logged {len(problems)} warnings/errors" +
              (f"; first: {problems[0]}" if problems else ""))
    finally:
        if tern:
            tern.stop()
        if postfix:
            postfix.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
