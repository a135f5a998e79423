#!/usr/bin/python3
# bench/policy.py (`make bench-policy`): what the spam defences cost on the acceptance path. The
# same Tern binary three times in one run: no policy, the policy stage on (DNS lists answered from
# the cache, greylisting with the senders known, rate limits high enough never to refuse), and
# that plus header and body rules.
"""Policy benchmark.

Three daemons of the same binary, each delivering to local Maildirs, take the same load in turn
(rotating which goes first each round): smtp-source, SESSIONS sessions, N messages of SIZE
octets to one local recipient per run, in both modes (one message per connection, and -d
connection reuse). The clients are untrusted (relay.trusted_networks = []), so every check runs:

- off:     no [dnsbl], [ratelimit], [greylist], [content]
- policy:  [dnsbl] two sites (a block list that does not list 127.0.0.1 and an allow list that
           does with a weight of -1, so the score is asked of both and the client is not
           allow-listed past the threshold), every [ratelimit] at 1,000,000/1m, [greylist] on with
           the client network auto-allow-listed by a warm-up transaction (greylisting's steady
           state for a known sender)
- content: policy + [content] with 30 header rules and 10 body rules (Postfix header_checks
           syntax; none matches the bench's messages, so every field and body line is judged
           against every rule)

The DNS answers come from a local DNS server (tests/integration/peers/dns_server.py) through
Tern's resolver and its cache. Reported per mode: accepted msg/s (N / smtp-source's wall time),
delivered msg/s (until the Maildir holds N), median over ROUNDS, and policy/off, content/off.

With BENCH_BASELINE_BIN set to another Tern binary (an earlier commit's), a fourth daemon of that
binary with no policy takes the same load, and off/baseline says what changed on the acceptance
path between the two builds (a new stage's cost, say).

Environment: BENCH_MESSAGES (5000), BENCH_SESSIONS (20), BENCH_SIZE (2048), BENCH_ROUNDS (3),
BENCH_TIMEOUT (300), TERN_BIN (build/tern), BENCH_BASELINE_BIN (unset).
"""

import os
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from peers import DnsServer, Process, tcp_greets, wait_until  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from tern_config import local_delivery_config  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", 5000))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", 20))
SIZE = int(os.environ.get("BENCH_SIZE", 2048))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", 300))
TERN_BIN = os.environ.get("TERN_BIN", str(ROOT / "build" / "tern"))
BASELINE_BIN = os.environ.get("BENCH_BASELINE_BIN", "")
SMTP_SOURCE = "/usr/sbin/smtp-source"
DOMAIN = "bench.test"
USERS = 2 * ROUNDS * 2 + 4

HEADER_RULES = "\n".join(
    [f"/^Subject:.*bench-spam-{i}\\b/ REJECT 5.7.1 rule {i}" for i in range(20)] +
    [f"/^X-Mailer: SpamTool{i}/ DISCARD" for i in range(5)] +
    ["/^Received: from unknown/ WARN", "!/^(From|To|Subject|Date|Message-Id|Received):/ DUNNO",
     "if /^Subject:/", "/lottery|casino|viagra/ HOLD", "endif"]) + "\n"
BODY_RULES = "\n".join(
    [f"/http:\\/\\/spam{i}\\.example\\.net\\// REJECT 5.7.1 body rule {i}" for i in range(8)] +
    ["/^Content-Type: application\\/x-msdownload/ REJECT", "/(free|cheap) money/ HOLD"]) + "\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tern(work, name, dns, extra, binary=TERN_BIN):
    port = free_port()
    data = Path(work) / name
    data.mkdir()
    config = data / "tern.toml"
    config.write_text(local_delivery_config(
        data, port, DOMAIN, [f"b{i}" for i in range(USERS)],
        f'[relay]\ntrusted_networks = []\n[dns]\nupstream = ["{dns.upstream}"]\n' + extra))
    proc = Process([binary, "serve", "--config", str(config)], data / "tern.out")
    proc.wait_ready(lambda: tcp_greets("127.0.0.1", port), f"tern ({name})")
    return {"name": name, "proc": proc, "port": port, "data": data / "data", "log": data / "tern.log"}


POLICY = """\
[dnsbl]
sites = ["bl.bench.example=127.0.0.[2..11]*2", "wl.bench.example*-1"]
threshold = 2
[ratelimit]
client_connections = "1000000/1m"
client_messages = "1000000/1m"
client_recipients = "1000000/1m"
sender_domain_messages = "1000000/1m"
[greylist]
enabled = true
delay = "1s"
auto_allowlist = 1
"""


def warm_greylist(server):
    """One triplet greylisted and passed after the delay: the network is allow-listed."""
    for attempt in range(2):
        with smtplib.SMTP("127.0.0.1", server["port"], timeout=10) as s:
            s.ehlo("warm.bench")
            s.mail(f"warm@{DOMAIN}")
            code, _ = s.rcpt(f"b{USERS - 1}@{DOMAIN}")
            if attempt == 1 and code != 250:
                raise SystemExit(f"policy bench: greylisting did not pass the warm-up ({code})")
        time.sleep(1.2)


def run_once(server, user, n, reuse):
    cmd = [SMTP_SOURCE, "-s", str(SESSIONS), "-m", str(n), "-l", str(SIZE), "-f",
           f"sender@{DOMAIN}", "-t", f"{user}@{DOMAIN}", *(["-d"] if reuse else []),
           f"127.0.0.1:{server['port']}"]
    start = time.monotonic()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise SystemExit(f"policy bench: smtp-source against {server['name']} failed")
    accepted = time.monotonic() - start
    new = server["data"] / "mail" / user / "Maildir" / "new"
    wait_until(lambda: new.is_dir() and sum(1 for _ in new.iterdir()) >= n, TIMEOUT,
               f"{n} messages in {new}")
    delivered = time.monotonic() - start
    return n / accepted, n / delivered


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    work = tempfile.mkdtemp(prefix="tern-policy-bench-")
    servers = []
    dns = None
    try:
        dns = DnsServer(work, "", records=[["1.0.0.127.wl.bench.example", "A", "127.0.0.2"]])
        (Path(work) / "header_checks").write_text(HEADER_RULES)
        (Path(work) / "body_checks").write_text(BODY_RULES)
        content = (f'[content]\nheader_checks = "{work}/header_checks"\n'
                   f'body_checks = "{work}/body_checks"\n')
        servers = [start_tern(work, "off", dns, ""), start_tern(work, "policy", dns, POLICY),
                   start_tern(work, "content", dns, POLICY + content)]
        if BASELINE_BIN:
            servers.append(start_tern(work, "baseline", dns, "", BASELINE_BIN))
        for s in servers[1:3]:
            warm_greylist(s)
        rates = {(s["name"], m): [] for s in servers for m in ("conn", "reuse")}
        user = 0
        for r in range(ROUNDS + 1):  # round 0 warms each server up and is not counted
            order = servers[r % len(servers):] + servers[:r % len(servers)]
            for mode in ("reuse", "conn"):
                for s in order:
                    n = 300 if r == 0 else (MESSAGES if mode == "reuse" else MESSAGES // 2)
                    result = run_once(s, f"b{user % (USERS - 1)}", n, mode == "reuse")
                    user += 1
                    if r > 0:
                        rates[(s["name"], mode)].append(result)
                    time.sleep(0.5)
        for s in servers:
            text = s["log"].read_text(errors="replace")
            refused = text.count(" greylisted ") + text.count(" rate_limited ")
            if refused > 1:  # the warm-up's one greylisting
                raise SystemExit(f"policy bench: {s['name']} refused {refused} times")
        print(f"# policy bench: {MESSAGES} messages (conn: {MESSAGES // 2}), {SESSIONS} sessions, "
              f"{SIZE} octets, median of {ROUNDS}")
        print("| mode | off acc/dlv msg/s | policy acc/dlv | content acc/dlv | policy/off acc | content/off acc |")
        print("|---|---:|---:|---:|---:|---:|")
        for mode in ("conn", "reuse"):
            med = {name: (statistics.median(a for a, _ in rates[(name, mode)]),
                          statistics.median(d for _, d in rates[(name, mode)]))
                   for name in ("off", "policy", "content")}
            print(f"| {mode} | {med['off'][0]:.0f} / {med['off'][1]:.0f} "
                  f"| {med['policy'][0]:.0f} / {med['policy'][1]:.0f} "
                  f"| {med['content'][0]:.0f} / {med['content'][1]:.0f} "
                  f"| {med['policy'][0] / med['off'][0]:.3f} "
                  f"| {med['content'][0] / med['off'][0]:.3f} |")
        if BASELINE_BIN:
            print(f"baseline ({BASELINE_BIN}) against off ({TERN_BIN}), accepted / delivered msg/s:")
            for mode in ("conn", "reuse"):
                base = rates[("baseline", mode)]
                off = rates[("off", mode)]
                b = (statistics.median(a for a, _ in base), statistics.median(d for _, d in base))
                o = (statistics.median(a for a, _ in off), statistics.median(d for _, d in off))
                print(f"| {mode} | baseline {b[0]:.0f} / {b[1]:.0f} | off {o[0]:.0f} / {o[1]:.0f} "
                      f"| off/baseline {o[0] / b[0]:.3f} / {o[1] / b[1]:.3f} |")
    finally:
        for s in servers:
            s["proc"].stop()
        if dns:
            dns.stop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
