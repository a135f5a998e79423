# Running `tern mailauth spf` for the SPF tests and reading what it prints: the result word on
# the first line, then "name: value" lines (explanation, reason, identity, mechanism, ...).
import subprocess

from conftest import CLI_TIMEOUT, TERN_BIN


class SpfRun:
    def __init__(self, completed):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        lines = completed.stdout.splitlines()
        self.result = lines[0] if lines else ""
        self.fields = {}
        for line in lines[1:]:
            name, sep, value = line.partition(": ")
            if sep and name not in self.fields:
                self.fields[name] = value

    @property
    def explanation(self):
        return self.fields.get("explanation")


def run_spf(dns, ip, helo, sender, *extra, timeout=2):
    argv = [TERN_BIN, "mailauth", "spf", "--ip", ip, "--helo", helo, "--sender", sender,
            "--timeout", str(timeout), "--receiver", "mx.tern.test"]
    if dns is not None:
        argv += ["--dns", dns.upstream]
    argv += list(extra)
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=CLI_TIMEOUT + timeout,
                               stdin=subprocess.DEVNULL)
    return SpfRun(completed)
