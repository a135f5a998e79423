#!/usr/bin/python3
# bench/report.py: turns the timings collected by bench/run.sh into a table and a Markdown
# snippet for docs/performance.md (messages/second per server and mode, Tern/Postfix and
# Tern/ceiling ratios, the DATA-end -> 250 latencies of the probe).
"""Summarise bench/run.sh results.

Input: a tab-separated file with one line per timed run:
    server  mode  round  messages  accept_seconds  deliver_seconds
(server is tern, postfix or ceiling, the last being smtp-sink, which stores nothing: its two
times are the same), a tab-separated file of "key<TAB>value" facts about the run (command, date,
nproc, ...) and optionally (--latency) the lines bench/latency.py appended:
    server  condition  probes  p50_ms  p99_ms  max_ms  mean_ms  load_msgs_per_s
With several rounds, each rate is the median over the rounds.
"""

import argparse
import statistics
import sys

MODES = [
    ("conn", "one message per connection"),
    ("reuse", "connection reuse (-d)"),
]
SERVERS = ["tern", "postfix", "ceiling"]
NAMES = {"tern": "Tern", "postfix": "Postfix", "ceiling": "ceiling (smtp-sink)"}
# The targets of issue 14.
CEILING_TARGET = 0.60  # Tern's rate / the ceiling's, each mode
P99_TARGET_MS = 5.0  # Tern's p99 DATA-end -> 250 with the saturating sessions


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            server, mode, _round, messages, accept_s, deliver_s = line.rstrip("\n").split("\t")
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


def load_latency(path):
    """{(server, condition): dict of the figures}"""
    got = {}
    if not path:
        return got
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            server, condition, probes, p50, p99, mx, mean, rate = line.rstrip("\n").split("\t")
            got[(server, condition)] = {"probes": int(probes), "p50": float(p50),
                                        "p99": float(p99), "max": float(mx),
                                        "mean": float(mean), "rate": float(rate)}
    return got


def median_rates(runs, server, mode):
    rs = runs.get((server, mode), [])
    if not rs:
        return None
    return (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs), len(rs))


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


def share(a, b):
    """a / b as a fraction and a percentage, with whether it meets CEILING_TARGET."""
    if not (a and b):
        return "n/a", None
    return f"{a / b:.2f} ({100 * a / b:.0f} %)", a / b >= CEILING_TARGET


def verdict(ok):
    return "met" if ok else "NOT met"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("results")
    p.add_argument("facts")
    p.add_argument("--latency", help="latency.tsv from bench/latency.py")
    a = p.parse_args()
    runs = load(a.results)
    facts = load_facts(a.facts)
    lat = load_latency(a.latency)

    rows = []  # (mode label, server, accept, deliver)
    ratios = []  # (mode label, accept ratio, deliver ratio)
    ceilings = []  # (mode label, who, (accept share, ok), (deliver share, ok))
    for mode, label in MODES:
        got = {s: median_rates(runs, s, mode) for s in SERVERS}
        if not (got["tern"] and got["postfix"]):
            continue
        for s in SERVERS:
            if got[s]:
                rows.append((label, s, got[s][0], got[s][1]))
        ratios.append((label, ratio(got["tern"][0], got["postfix"][0]),
                       ratio(got["tern"][1], got["postfix"][1])))
        if got["ceiling"]:
            c = got["ceiling"][0]
            for s in ("tern", "postfix"):
                ceilings.append((label, s, share(got[s][0], c), share(got[s][1], c)))
    if not rows:
        sys.exit("report: no complete results")
    rounds = max(len(v) for v in runs.values())

    # Plain table for the terminal.
    print()
    print(f"{'server':<20} {'mode':<28} {'accept msg/s':>13} {'delivered msg/s':>16}")
    for label, s, acc, dlv in rows:
        shown = "-" if s == "ceiling" else f"{dlv:.0f}"
        print(f"{NAMES[s]:<20} {label:<28} {acc:>13.0f} {shown:>16}")
    print()
    for label, racc, rdlv in ratios:
        print(f"Tern/Postfix, {label}: accepted {racc}, delivered {rdlv}")
    for label, s, (sacc, okacc), (sdlv, okdlv) in ceilings:
        line = f"{NAMES[s]}/ceiling, {label}: accepted {sacc}, delivered {sdlv}"
        if s == "tern":
            line += (f"; target >= {CEILING_TARGET:.0%}: accepted {verdict(okacc)}, "
                     f"delivered {verdict(okdlv)}")
        print(line)
    if rounds > 1:
        print(f"(median of {rounds} rounds; every round per server and mode is listed in the snippet)")

    lat_rows = [(s, lat.get((s, "idle")), lat.get((s, "loaded"))) for s in SERVERS
                if (s, "idle") in lat or (s, "loaded") in lat]
    sessions = facts.get("probe_sessions", "8")
    if lat_rows:
        print()
        print(f"DATA-end -> 250 latency, ms (probe on its own connection; 'loaded': with "
              f"{sessions} saturating smtp-source sessions)")
        print(f"{'server':<20} {'idle p50':>9} {'idle p99':>9} {'loaded p50':>11} "
              f"{'loaded p99':>11} {'loaded max':>11} {'load msg/s':>11}")

        def f(d, k, w, fmt="{:.2f}"):
            return f"{(fmt.format(d[k]) if d else '-'):>{w}}"
        for s, idle, loaded in lat_rows:
            print(f"{NAMES[s]:<20} {f(idle, 'p50', 9)} {f(idle, 'p99', 9)} {f(loaded, 'p50', 11)} "
                  f"{f(loaded, 'p99', 11)} {f(loaded, 'max', 11)} {f(loaded, 'rate', 11, '{:.0f}')}")
        tl = lat.get(("tern", "loaded"))
        if tl:
            print(f"Tern p99 with {sessions} saturating sessions: {tl['p99']:.2f} ms; target < "
                  f"{P99_TARGET_MS:g} ms: {verdict(tl['p99'] < P99_TARGET_MS)}")

    # Markdown snippet for docs/performance.md.
    print()
    print("----- Markdown for docs/performance.md -----")
    print()
    auth = facts.get("mailauth")
    print(f"### Tern vs Postfix, {facts.get('date', '?')}"
          + (f" (mail authentication {auth})" if auth else ""))
    print()
    print(f"Command: `{facts.get('command', '?')}`  ")
    print(f"Machine: `nproc` = {facts.get('nproc', '?')}, {facts.get('cpu', '?')}, "
          f"kernel {facts.get('kernel', '?')}, spool and mailboxes on {facts.get('fs', '?')}, "
          f"load average before the run {facts.get('load', '?')}  ")
    print(f"Versions: Tern {facts.get('tern_version', '?')}, Postfix {facts.get('postfix_version', '?')}  ")
    print(f"Workload: smtp-source, {facts.get('sessions', '?')} concurrent sessions, "
          f"{facts.get('size', '?')}-byte payload, {facts.get('messages', '?')} messages per run "
          f"to a local Maildir (a fresh mailbox per run), after {facts.get('warmup', '?')} warm-up messages per server"
          + (f"; median of {rounds} rounds" if rounds > 1 else "") + "."
          + (" Ceiling: the same load against smtp-sink (nothing stored) in the same rounds."
             if ceilings else ""))
    print()
    print("| server | mode | accepted msg/s | delivered msg/s |")
    print("|---|---|---:|---:|")
    for label, s, acc, dlv in rows:
        print(f"| {NAMES[s]} | {label} | {acc:.0f} | {'-' if s == 'ceiling' else f'{dlv:.0f}'} |")
    for label, racc, rdlv in ratios:
        print(f"| **Tern/Postfix** | {label} | **{racc}** | **{rdlv}** |")
    for label, s, (sacc, _), (sdlv, _) in ceilings:
        if s == "tern":
            print(f"| **Tern/ceiling** | {label} | **{sacc}** | **{sdlv}** |")
    for label, s, (sacc, _), (sdlv, _) in ceilings:
        if s == "postfix":
            print(f"| Postfix/ceiling | {label} | {sacc} | {sdlv} |")
    if ceilings:
        oks = [ok for _, s, (_, okacc), (_, okdlv) in ceilings if s == "tern" for ok in (okacc, okdlv)]
        print()
        print(f"Target Tern ≥ {CEILING_TARGET:.0%} of the ceiling in every mode measured: "
              f"**{verdict(all(oks))}**.")
    if lat_rows:
        print()
        print(f"DATA-end → 250 latency in ms (a probe on its own connection, TCP_NODELAY, "
              f"{lat_rows[0][1]['probes'] if lat_rows[0][1] else lat_rows[0][2]['probes']} "
              f"messages of about 2.3 KB one after another; loaded: while {sessions} "
              f"smtp-source -d sessions saturate the server):")
        print()
        print("| server | idle p50 | idle p99 | loaded p50 | loaded p99 | loaded max | load msg/s |")
        print("|---|---:|---:|---:|---:|---:|---:|")

        def m(d, k, fmt="{:.2f}"):
            return fmt.format(d[k]) if d else "-"
        for s, idle, loaded in lat_rows:
            print(f"| {NAMES[s]} | {m(idle, 'p50')} | {m(idle, 'p99')} | {m(loaded, 'p50')} | "
                  f"{'**' + m(loaded, 'p99') + '**' if s == 'tern' else m(loaded, 'p99')} | "
                  f"{m(loaded, 'max')} | {m(loaded, 'rate', '{:.0f}')} |")
        tl = lat.get(("tern", "loaded"))
        if tl:
            print()
            print(f"Target Tern p99 < {P99_TARGET_MS:g} ms with {sessions} saturating sessions: "
                  f"**{verdict(tl['p99'] < P99_TARGET_MS)}** ({tl['p99']:.2f} ms).")
    if rounds > 1:
        print()
        print("Every round (accepted / delivered msg/s; the ceiling stores nothing, so only accepted):")
        print()
        for mode, label in MODES:
            for s in SERVERS:
                rs = runs.get((s, mode), [])
                if rs:
                    if s == "ceiling":
                        each = ", ".join(f"{r[0]:.0f}" for r in rs)
                    else:
                        each = ", ".join(f"{r[0]:.0f} / {r[1]:.0f}" for r in rs)
                    print(f"- {NAMES[s]}, {label}: {each}")
    print()
    print("Accepted = messages / wall time of smtp-source (every DATA answered 250). "
          "Delivered = messages / time from the start of smtp-source until the last message is "
          "in Maildir/new. Both servers sync to disk before answering 250 and before delivery "
          "counts; Tern/ceiling compares both with the ceiling's accepted rate; see bench/README.md.")
    print()
    print("----- end of Markdown -----")


if __name__ == "__main__":
    main()
