# The `tern` command line as an operator types it: -c/--config before or after the subcommand for
# every subcommand, and the exit status README.md promises: 0 done (and --help), 1 refused,
# 2 the command could not run, with every command-line error (CLI11's) a usage error.
import json
import subprocess

import pytest

from conftest import CLI_TIMEOUT, TERN_BIN


def tern_cli(*args, cwd=None):
    return subprocess.run([TERN_BIN, *map(str, args)], capture_output=True, text=True,
                          timeout=CLI_TIMEOUT, cwd=cwd, stdin=subprocess.DEVNULL)


def config_forms(path, *command):
    """The same command with the configuration named before the subcommand, after it, and after
    the sub-subcommand, in the short and the long forms."""
    first, rest = command[0], command[1:]
    forms = [("-c", path, *command), ("--config", path, *command), (f"--config={path}", *command),
             (first, "-c", path, *rest), (*command, "-c", path), (*command, "--config", path)]
    return list(dict.fromkeys(forms))


def test_queue_list_takes_the_config_anywhere(tern):
    sent = tern.send_message(b"Subject: x\r\n\r\nx\r\n", recipients=["alice@localhost"])
    assert sent.code == 250
    tern.wait_for_empty_queue()
    for args in config_forms(tern.config_path, "queue", "list", "--json"):
        proc = tern_cli(*args)
        assert (proc.returncode, proc.stderr) == (0, ""), (args, proc)
        assert json.loads(proc.stdout) == {"ok": True, "messages": []}, (args, proc.stdout)


def test_user_and_check_config_take_the_config_anywhere(tern):
    for args in config_forms(tern.config_path, "user", "list", "--json"):
        proc = tern_cli(*args)
        assert (proc.returncode, proc.stderr) == (0, ""), (args, proc)
        assert json.loads(proc.stdout) == {"accounts": []}, (args, proc.stdout)
    for args in [("-c", tern.config_path, "check-config"), ("check-config", "-c", tern.config_path),
                 ("--config", tern.config_path, "check-config", "--config-only"),
                 ("check-config", tern.config_path),
                 ("-c", tern.config_path, "check-config", tern.config_path)]:
        proc = tern_cli(*args)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"{tern.config_path}: ok\n", ""), (args, proc)
    proc = tern_cli("-c", tern.config_path, "config-reference")
    assert proc.returncode == 0 and "## [server]" in proc.stdout, proc


def test_serve_takes_the_config_before_the_subcommand(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[server]\nbogus_key = 1\n")
    for args in (("-c", bad, "serve"), ("serve", "-c", bad), ("--config", bad, "serve")):
        proc = tern_cli(*args, cwd=tmp_path)
        assert proc.returncode == 1, (args, proc)
        assert f"{bad}:2:" in proc.stderr and "bogus_key" in proc.stderr, (args, proc.stderr)
    assert not (tmp_path / "var").exists()


USAGE_ERRORS = {
    "no subcommand": (),
    "unknown subcommand": ("bogus",),
    "unknown option": ("serve", "--bogus"),
    "option without its value": ("serve", "-c"),
    "queue without its subcommand": ("queue",),
    "queue show without an id": ("queue", "show"),
    "an argument too many": ("queue", "list", "extra"),
    "user add without an address": ("user", "add"),
    "check-config without a file": ("check-config",),
    "two different files": ("-c", "/nonexistent/a.toml", "queue", "-c", "/nonexistent/b.toml", "list"),
    "a file and a different -c": ("-c", "/nonexistent/a.toml", "check-config", "/nonexistent/b.toml"),
    "retry with neither id nor --all": ("queue", "retry"),
}


@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_command_line_errors_exit_2_with_usage(tmp_path, case):
    proc = tern_cli(*USAGE_ERRORS[case], cwd=tmp_path)
    assert proc.returncode == 2, (case, proc)
    assert proc.stdout == "", proc.stdout
    assert proc.stderr.startswith("tern"), proc.stderr
    if case != "retry with neither id nor --all":
        assert "Usage:" in proc.stderr or "\nUsage" in proc.stderr, proc.stderr
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize("args", [("--help",), ("-h",), ("queue", "--help"), ("queue", "list", "--help"),
                                  ("-c", "/nonexistent.toml", "user", "--help"), ("serve", "--help")])
def test_help_exits_0(args):
    proc = tern_cli(*args)
    assert (proc.returncode, proc.stderr) == (0, ""), proc
    assert "Usage" in proc.stdout, proc.stdout
    assert "-c,--config" in proc.stdout, proc.stdout
