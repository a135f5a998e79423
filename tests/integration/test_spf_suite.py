# The openspf RFC 7208 test suite (rfc7208-tests.yml, as pyspf ships it) run through
# `tern mailauth spf` against a real DNS server on loopback serving each scenario's zone data.
# The suite is not kept in this repository: Debian's python3-spf (a test dependency) ships it,
# and SPF_TEST_SUITE may name another copy.
# As the suite's drivers do, records of type SPF are served as TXT when a name has no TXT of
# its own ("TXT: NONE" stops that), TIMEOUT names leave unanswered the questions for types
# they hold no records of, and an expected explanation of DEFAULT means "none from exp=".
import gzip
import os
from pathlib import Path

import pytest

from peers import DnsServer
from spf_cli import run_spf

yaml = pytest.importorskip("yaml")

DEBIAN_SUITE = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"
SUITE = os.environ.get("SPF_TEST_SUITE", DEBIAN_SUITE)
if not Path(SUITE).is_file():
    pytest.skip(f"no RFC 7208 suite at {SUITE} (python3-spf is a test dependency)",
                allow_module_level=True)


def load_scenarios():
    opener = gzip.open if SUITE.endswith(".gz") else open
    with opener(SUITE, "rb") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def zone_records(zonedata):
    records = []
    for name, entries in zonedata.items():
        name = name.rstrip(".")
        has_txt = any(isinstance(e, dict) and "TXT" in e for e in entries)
        for entry in entries:
            if entry == "TIMEOUT":
                records.append([name, "TIMEOUT", None])
                continue
            ((rtype, value),) = entry.items()
            if value == "NONE":
                continue
            if rtype == "SPF":
                if has_txt:
                    continue  # Tern asks for TXT only (RFC 7208 section 3.1)
                rtype = "TXT"
            if rtype in ("PTR", "CNAME"):
                value = value.rstrip(".")
            if rtype == "MX":
                value = [value[0], str(value[1]).rstrip(".")]
            records.append([name, rtype, value])
    return records


SCENARIOS = load_scenarios()
CASES = [(i, name, case) for i, s in enumerate(SCENARIOS) for name, case in s["tests"].items()]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    started = {}

    def server_for(index):
        if index not in started:
            workdir = tmp_path_factory.mktemp(f"scenario{index}")
            started[index] = DnsServer(workdir, "", records=zone_records(
                SCENARIOS[index]["zonedata"]))
        return started[index]

    yield server_for
    for server in started.values():
        server.stop()


@pytest.mark.parametrize("index,name,case", CASES, ids=[c[1] for c in CASES])
def test_rfc7208_case(servers, index, name, case):
    dns = servers(index)
    run = run_spf(dns, str(case["host"]), str(case["helo"]), str(case["mailfrom"]), timeout=2)
    assert run.returncode == 0, run.stderr
    expected = case["result"]
    allowed = expected if isinstance(expected, list) else [expected]
    assert run.result in allowed, f"{name}: {run.stdout}"
    if "explanation" in case:
        want = None if case["explanation"] == "DEFAULT" else case["explanation"]
        assert run.explanation == want, f"{name}: {run.stdout}"
