# Configuration errors as an operator meets them: `tern serve` and `tern check-config` refuse a bad
# file with "file:line:column: what", exit non-zero, and check-config says "ok" to a good one.
import re
import subprocess

import pytest

from conftest import ROOT, TERN_BIN, free_port

RUN_TIMEOUT = 10

GOOD = """\
[server]
data_dir = "{data}"
hostname = "mx.tern.test"

[smtp]
listen = ["127.0.0.1:{port}"]

[limits]
message_size = "10M"
command_timeout = "30s"
"""

BAD = {
    "unknown key": ("[server]\nhostname = \"x\"\nbogus_key = 1\n", 3, "bogus_key"),
    "unknown section": ("[nonsense]\nkey = 1\n", 1, "nonsense"),
    "wrong type": ("[limits]\nerrors = \"many\"\n", 2, "limits.errors"),
    "out of range": ("[limits]\ncommand_line = 10\n", 2, "limits.command_line"),
    "bad duration": ("[limits]\n\ncommand_timeout = \"5 fortnights\"\n", 3, "limits.command_timeout"),
    "bad listen": ("[smtp]\nlisten = [\"no-port-here\"]\n", 2, "smtp.listen"),
    "toml syntax": ("[server\nhostname = 1\n", 1, ""),
    "bad dnsbl site": ("[dnsbl]\nsites = [\"bl.example.net=127.0.0\"]\n", 2, "is not a list site"),
    "bad rate": ("[ratelimit]\n\nclient_messages = \"60 per minute\"\n", 3,
                 "is not a rate such as"),
    "bad policy store": ("[policy_store]\nbackend = \"memcached\"\n", 2, "policy_store.backend"),
    "redis timeout": ("[policy_store]\nredis_timeout_ms = 0\n", 2,
                      "policy_store.redis_timeout_ms"),
    "srs hash too short": ("[srs]\nhash_length = 3\n", 2, "srs.hash_length"),
    "srs max age": ("[srs]\nmax_age_days = 1024\n", 2, "srs.max_age_days"),
    "srs separator": ("[srs]\nseparator = \"_\"\n", 2, "srs.separator"),
    "srs empty secret": ("[srs]\nsecrets = [\"\"]\n", 2, "srs.secrets"),
    "srs bad domain": ("[srs]\ndomain = \"not a domain\"\n", 2, "is not a domain name"),
}


def run(*args, cwd=None):
    """Runs tern in `cwd`, so that a serve that wrongly starts keeps its ./var there."""
    return subprocess.run([TERN_BIN, *args], capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=cwd)


@pytest.mark.parametrize("case", list(BAD))
def test_bad_config_is_refused_with_position(tmp_path, case):
    text, line, what = BAD[case]
    path = tmp_path / "tern.toml"
    path.write_text(text)
    for args in (["check-config", str(path)], ["serve", "--config", str(path)]):
        try:
            proc = run(*args, cwd=tmp_path)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`tern {args[0]}` started on a bad config ({case})")
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out
        assert re.search(rf"{re.escape(str(path))}:{line}:\d+: ", out), out
        assert what in out, out
        assert not (tmp_path / "var").exists()


def test_good_config_checks_ok(tmp_path):
    path = tmp_path / "tern.toml"
    path.write_text(GOOD.format(data=tmp_path / "data", port=free_port()))
    proc = run("check-config", str(path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == f"{path}: ok"
    assert not (tmp_path / "data").exists()  # checking does not create anything


@pytest.mark.parametrize("case", ["aliases", "certificate", "missing certificate", "ca file",
                                  "trust anchor", "header rules", "body rules"])
def test_files_the_config_names_are_checked_too(tmp_path, case):
    # check-config loads them as serve does: a config that would not start does not check ok.
    named = tmp_path / "named"
    if case == "aliases":
        named.write_text("info: alice\nthis line has no colon\n")
        extra, expect = f'[local]\naliases = "{named}"\n', f"{named}:2"
    elif case == "certificate":
        named.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
        extra, expect = f'[tls]\ncertificates = ["{named}"]\n', str(named)
    elif case == "missing certificate":
        extra, expect = f'[tls]\ncertificates = ["{named}, {named}.key"]\n', str(named)
    elif case == "ca file":
        extra, expect = f'[tls]\nca_file = "{named}"\n', f"outbound TLS: CA certificates {named}"
    elif case == "header rules":
        named.write_text("# spam\n/^Subject: viagra/ REJECT\n/^X-Mailer:/ EXPLODE\n")
        extra, expect = f'[content]\nheader_checks = "{named}"\n', f'{named}:3: unknown action "EXPLODE"'
    elif case == "body rules":
        named.write_text("/click here/ IGNORE\n")
        extra, expect = (f'[content]\nbody_checks = "{named}"\n',
                         f"{named}:1: IGNORE works in header rules only")
    else:
        extra, expect = (f'[dns]\ntrust_anchor = "{named}"\n',
                         f"dns trust anchor {named}: No such file or directory")
    path = tmp_path / "tern.toml"
    path.write_text(GOOD.format(data=tmp_path / "data", port=free_port()) + extra)
    for args in (["check-config", str(path)], ["serve", "--config", str(path)]):
        try:
            proc = run(*args, cwd=tmp_path)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`tern {args[0]}` started with a bad {case} file")
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert expect in proc.stderr, (args, proc.stderr)


def test_srs_enabled_without_secrets_is_refused(tmp_path):
    path = tmp_path / "tern.toml"
    path.write_text(GOOD.format(data=tmp_path / "data", port=free_port()) +
                    "\n[srs]\nenabled = true\n")
    for args in (["check-config", str(path)], ["serve", "--config", str(path)]):
        proc = run(*args, cwd=tmp_path)
        assert proc.returncode != 0
        assert "srs.secrets: at least one secret is needed when srs.enabled is true" in \
            proc.stdout + proc.stderr
    path.write_text(GOOD.format(data=tmp_path / "data", port=free_port()) +
                    "\n[srs]\nenabled = true\nsecrets = [\"s3cret-for-srs\"]\n")
    proc = run("check-config", str(path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_missing_config_file(tmp_path):
    proc = run("check-config", str(tmp_path / "absent.toml"))
    assert proc.returncode != 0
    assert "absent.toml" in proc.stdout + proc.stderr


def test_config_reference_matches_docs():
    proc = run("config-reference")
    assert proc.returncode == 0
    docs = (ROOT / "docs" / "configuration.md").read_text()
    assert proc.stdout.strip() in docs
