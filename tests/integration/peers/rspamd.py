# rspamd from Debian as a milter peer on a loopback port, with a minimal configuration of its own
# (proxy worker, milter = yes, self_scan = yes, no internet): for test_milter.py and bench/milter.py.
from pathlib import Path

from peers import Process, free_udp_tcp_port, listening, wait_until

RSPAMD = "/usr/bin/rspamd"
RSPAMD_START_TIMEOUT = 90.0


class Rspamd:
    """rspamd from Debian with a minimal configuration of its own: only the proxy worker, in
    milter mode with self_scan (no separate scanner), on a loopback port; DNS pointed at a closed
    port (no internet) unless `nameserver` names a local DNS server; its directories under
    `workdir`. Stopped by its own pid."""

    def __init__(self, workdir, nameserver="127.0.0.1:9"):
        workdir = Path(workdir)
        self.port = free_udp_tcp_port()
        root = workdir / "rspamd"
        local = root / "local"
        for d in ("local/local.d", "db", "run", "log"):
            (root / d).mkdir(parents=True, exist_ok=True)
        # The spam headers rspamd adds over the milter protocol, for local senders too.
        (local / "local.d" / "milter_headers.conf").write_text(
            'extended_spam_headers = true;\nskip_local = false;\nskip_authenticated = false;\n')
        (root / "rspamd.conf").write_text(f"""\
.include "$CONFDIR/common.conf"
options {{
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    dns {{ nameserver = ["{nameserver}"]; timeout = 0.5s; retransmits = 1; }}
}}
logging {{ type = "file"; filename = "$LOGDIR/rspamd.log"; level = "info"; }}
worker "rspamd_proxy" {{
    bind_socket = "127.0.0.1:{self.port}";
    milter = yes;
    timeout = 120s;
    count = 1;
    upstream "local" {{ default = yes; self_scan = yes; }}
}}
""")
        argv = [RSPAMD, "-f", "-i", "-c", str(root / "rspamd.conf")]
        for var, path in (("LOCAL_CONFDIR", local), ("DBDIR", root / "db"),
                          ("RUNDIR", root / "run"), ("LOGDIR", root / "log")):
            argv += ["--var", f"{var}={path}"]
        self.log_path = root / "log" / "rspamd.log"
        self.process = Process(argv, root / "stdout.log")
        # Loading its rules takes rspamd several seconds, more on a busy machine.
        def ready():
            assert self.process.proc.poll() is None, f"rspamd exited:\n{self.process.output()}"
            return listening(self.port)
        try:
            wait_until(ready, RSPAMD_START_TIMEOUT, "rspamd's proxy worker")
        except BaseException:
            self.stop()
            raise

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        self.process.stop()
