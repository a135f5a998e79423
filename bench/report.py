#!/usr/bin/python3
# bench/report.py: turns the timings collected by bench/run.sh into a table and a Markdown
# snippet for docs/performance.md (messages/second per server and mode, Tern/Postfix ratios).
"""Summarise bench/run.sh results.

Input: a tab-separated file with one line per timed run:
    server  mode  round  messages  accept_seconds  deliver_seconds
and a tab-separated file of "key<TAB>value" facts about the run (command, date, nproc, ...).
With several rounds, each figure is the median over the rounds.
"""

import argparse
import statistics
import sys

MODES = [
    ("conn", "one message per connection"),
    ("reuse", "connection reuse (-d)"),
]
SERVERS = ["tern", "postfix"]


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            server, mode, _round, messages, accept_s, deliver_s = line.split("\t")
            n = int(messages)
            runs.setdefault((server, mode), []).append((n / float(accept_s), n / float(deliver_s)))
    return runs


def load_facts(path):
    facts = {}
    with open(path) as f:
        for line in f:
            if "\t" in line:
                key, value = line.rstrip("\n").split("\t", 1)
                facts[key] = value
    return facts


def median_rates(runs, server, mode):
    rs = runs.get((server, mode), [])
    if not rs:
        return None
    return (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs), len(rs))


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("results")
    p.add_argument("facts")
    a = p.parse_args()
    runs = load(a.results)
    facts = load_facts(a.facts)

    rows = []  # (mode label, server, accept, deliver)
    ratios = []  # (mode label, accept ratio, deliver ratio)
    for mode, label in MODES:
        got = {s: median_rates(runs, s, mode) for s in SERVERS}
        if not all(got.values()):
            continue
        for s in SERVERS:
            rows.append((label, s, got[s][0], got[s][1]))
        ratios.append((label, ratio(got["tern"][0], got["postfix"][0]),
                       ratio(got["tern"][1], got["postfix"][1])))
    if not rows:
        sys.exit("report: no complete results")
    rounds = max(len(v) for v in runs.values())

    # Plain table for the terminal.
    print()
    print(f"{'server':<8} {'mode':<28} {'accept msg/s':>13} {'delivered msg/s':>16}")
    for label, s, acc, dlv in rows:
        print(f"{s:<8} {label:<28} {acc:>13.0f} {dlv:>16.0f}")
    print()
    for label, racc, rdlv in ratios:
        print(f"Tern/Postfix, {label}: accept {racc}, delivered {rdlv}")
    if rounds > 1:
        print(f"(median of {rounds} rounds; every round per server and mode is listed in the snippet)")

    # Markdown snippet for docs/performance.md.
    print()
    print("----- Markdown for docs/performance.md -----")
    print()
    print(f"### Tern vs Postfix, {facts.get('date', '?')}")
    print()
    print(f"Command: `{facts.get('command', '?')}`  ")
    print(f"Machine: `nproc` = {facts.get('nproc', '?')}, {facts.get('cpu', '?')}, "
          f"kernel {facts.get('kernel', '?')}, spool and mailboxes on {facts.get('fs', '?')}, "
          f"load average before the run {facts.get('load', '?')}  ")
    print(f"Versions: Tern {facts.get('tern_version', '?')}, Postfix {facts.get('postfix_version', '?')}  ")
    print(f"Workload: smtp-source, {facts.get('sessions', '?')} concurrent sessions, "
          f"{facts.get('size', '?')}-byte payload, {facts.get('messages', '?')} messages per run "
          f"to a local Maildir (a fresh mailbox per run), after {facts.get('warmup', '?')} warm-up messages per server"
          + (f"; median of {rounds} rounds" if rounds > 1 else "") + ".")
    print()
    print("| server | mode | accepted msg/s | delivered msg/s |")
    print("|---|---|---:|---:|")
    for label, s, acc, dlv in rows:
        print(f"| {'Tern' if s == 'tern' else 'Postfix'} | {label} | {acc:.0f} | {dlv:.0f} |")
    for label, racc, rdlv in ratios:
        print(f"| **Tern/Postfix** | {label} | **{racc}** | **{rdlv}** |")
    if rounds > 1:
        print()
        print("Every round (accepted / delivered msg/s):")
        print()
        for mode, label in MODES:
            for s in SERVERS:
                rs = runs.get((s, mode), [])
                if rs:
                    each = ", ".join(f"{r[0]:.0f} / {r[1]:.0f}" for r in rs)
                    print(f"- {'Tern' if s == 'tern' else 'Postfix'}, {label}: {each}")
    print()
    print("Accepted = messages / wall time of smtp-source (every DATA answered 250). "
          "Delivered = messages / time from the start of smtp-source until the last message is "
          "in Maildir/new. Both servers sync to disk before answering 250 and before delivery "
          "counts; see bench/README.md.")
    print()
    print("----- end of Markdown -----")


if __name__ == "__main__":
    main()
