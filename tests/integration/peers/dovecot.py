# A real Dovecot LMTP server (dovecot-lmtpd) for tests: its own configuration, base directory and
# mail store under the test's directory, a Unix socket and a loopback TCP port; started in the
# foreground (-F) as the test's child and stopped by its own pid, never as a system service.
import os
import pwd
import shutil
import socket
import tempfile
from pathlib import Path

from peers import Process

DOVECOT = "/usr/sbin/dovecot"


def lmtp_greets(connect):
    try:
        with connect() as s:
            s.settimeout(2)
            return s.recv(256).startswith(b"220")
    except OSError:
        return False


class Dovecot:
    """Dovecot's lmtp service for the users given: {"alice@example.org": extra userdb fields}.
    Mail is stored in maildir:DIR/mail/<domain>/<user>/Maildir, owned by nobody (Dovecot does not
    deliver as root). Quota rules per user make a mailbox full (552 5.2.2 after the data)."""

    def __init__(self, port, users):
        # Dovecot's auth and mail processes run as its own users and as nobody: the directory
        # must be searchable by them, which pytest's (mode 0700, under root's) is not. It is also
        # short, as a Unix socket's path must be.
        self.dir = Path(tempfile.mkdtemp(prefix="tern-dovecot-"))
        os.chmod(self.dir, 0o755)
        self.port = port
        self.socket_path = self.dir / "run" / "lmtp"
        self.mail = self.dir / "mail"
        for d in ("run", "state", "mail"):
            (self.dir / d).mkdir(parents=True, exist_ok=True)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        (self.dir / "users").write_text(
            "".join(f"{user}:::::::{extra}\n" for user, extra in users.items()))
        (self.dir / "dovecot.conf").write_text(f"""\
protocols = lmtp
base_dir = {self.dir}/run
state_dir = {self.dir}/state
instance_name = tern-test-{port}
log_path = {self.dir}/dovecot.log
ssl = no
first_valid_uid = 1
mail_location = maildir:{self.mail}/%d/%n/Maildir
mail_plugins = quota
userdb {{
  driver = passwd-file
  args = username_format=%u {self.dir}/users
  default_fields = uid={nobody.pw_uid} gid={nobody.pw_gid} home={self.mail}/%d/%n
}}
passdb {{
  driver = passwd-file
  args = username_format=%u {self.dir}/users
}}
plugin {{
  quota = maildir:User quota
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
""")
        os.chmod(self.dir / "users", 0o644)
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.proc = Process([DOVECOT, "-F", "-c", str(self.dir / "dovecot.conf")],
                            self.dir / f"dovecot-stdout{self.starts}.log")

        def unix():
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(self.socket_path))
            return s

        self.proc.wait_ready(lambda: lmtp_greets(unix) and lmtp_greets(
            lambda: socket.create_connection(("127.0.0.1", self.port), timeout=2)), "dovecot")
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def remove(self, keep_log_in=None):
        """Stops the server and removes its directory, its log copied to `keep_log_in` first."""
        self.stop()
        if keep_log_in is not None and (self.dir / "dovecot.log").exists():
            shutil.copy(self.dir / "dovecot.log", Path(keep_log_in) / "dovecot.log")
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def messages(self, address):
        """The files in the Maildir/new of `address` (user@domain), oldest name first."""
        user, domain = address.split("@")
        new = self.mail / domain / user / "Maildir" / "new"
        return sorted(new.iterdir()) if new.is_dir() else []
