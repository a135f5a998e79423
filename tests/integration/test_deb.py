# The Debian package (packaging/deb/build-deb.sh, docs/packaging.md): built from $TERN_BIN and
# installed with apt in a fresh Debian bookworm root, it makes the tern user and its directories,
# passes check-config, receives mail over SMTP and from sendmail while running as the tern user,
# and goes on removal and purge, leaving what docs/packaging.md says it leaves.
#
# The root comes from debootstrap --variant=minbase, from the machine's own Debian mirror, kept as
# a tarball in /var/cache/tern-tests (the first run makes it, a few minutes; later runs unpack
# it). Every command in the root runs in a mount namespace of its own with /proc mounted
# there, so no mount is left on the host whatever happens to the test.
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import TERN_BIN, free_port

ROOT = Path(__file__).resolve().parents[2]
BUILD_DEB = ROOT / "packaging" / "deb" / "build-deb.sh"
SUITE = "bookworm"
CACHE = Path("/var/cache/tern-tests") / f"{SUITE}-minbase.tar"

BUILD_TIMEOUT = 300       # seconds to build the .deb (stripping a large binary included)
BOOTSTRAP_TIMEOUT = 1200  # seconds debootstrap may take to download and install the base system
TAR_TIMEOUT = 300         # seconds to write or unpack the cached root
APT_TIMEOUT = 600         # seconds one apt-get command in the root may take
CMD_TIMEOUT = 60          # seconds any other command in the root may take
START_TIMEOUT = 30        # seconds until the daemon accepts and runs as the tern user
DELIVERY_TIMEOUT = 60     # seconds until a message is in the Maildir
STOP_TIMEOUT = 60         # seconds from SIGTERM to the daemon's exit
SMTP_TIMEOUT = 60         # seconds one SMTP command may take (the checks of DATA ask DNS)
ROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "HOME": "/root",
            "DEBIAN_FRONTEND": "noninteractive"}
NOBODY = "65534:65534"    # nobody:nogroup on every Debian system

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap, chroot and mounts need root"),
    pytest.mark.skipif(not all(shutil.which(t)
                               for t in ("debootstrap", "dpkg-shlibdeps", "unshare")),
                       reason="needs debootstrap and dpkg-dev (scripts/install-deps.sh test)"),
]


def debian_sources():
    """The machine's enabled Debian entries as (uri, suite, components): one-line .list files and
    deb822 .sources files alike."""
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    entries = []
    for f in files:
        if not f.is_file():
            continue
        text = f.read_text(errors="replace")
        if f.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields = {}
                for line in stanza.splitlines():
                    m = re.match(r"([A-Za-z-]+):\s*(.*)", line)
                    if m and not line.startswith("#"):
                        fields[m.group(1).lower()] = m.group(2).split()
                if "deb" not in fields.get("types", []) or fields.get("enabled") == ["no"]:
                    continue
                for uri in fields.get("uris", []):
                    for suite in fields.get("suites", []):
                        entries.append((uri, suite, fields.get("components", ["main"])))
        elif f.name == "sources.list" or f.suffix == ".list":
            for line in text.splitlines():
                m = re.match(r"\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)", line)
                if m:
                    entries.append((m.group(1), m.group(2), m.group(3).split()))
    return [e for e in entries if e[1] == SUITE or e[1].startswith(SUITE + "-")]


def run(argv, timeout, **kwargs):
    """Runs a host command; a failure shows its output."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert r.returncode == 0, (
        f"{argv} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def in_root_argv(root, argv, userspec=None):
    """The host command that runs `argv` in the Debian root: a private mount namespace (its mounts
    end with its last process), /proc mounted, chroot. The command keeps the pid the caller sees."""
    chroot = ["chroot", *([f"--userspec={userspec}"] if userspec else []), str(root), *argv]
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount -t proc proc "$1" && shift && exec "$@"', "sh", str(root / "proc"), *chroot]


def in_root(root, argv, timeout=CMD_TIMEOUT, check=True, userspec=None, input=None):
    r = subprocess.run(in_root_argv(root, argv, userspec), capture_output=True, text=True,
                       timeout=timeout, env=ROOT_ENV, input=input)
    if check:
        assert r.returncode == 0, (
            f"{argv} in the root exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def cached_base(tmp_path, mirror):
    """The tarball of a minbase root, made once with debootstrap from `mirror`."""
    if CACHE.exists():
        return CACHE
    target = tmp_path / "bootstrap"
    # In its own mount namespace: the /proc and /sys debootstrap mounts in the target go with it.
    run(["unshare", "--mount", "--propagation", "private", "debootstrap", "--variant=minbase",
         SUITE, str(target), mirror], timeout=BOOTSTRAP_TIMEOUT)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    partial = CACHE.with_name(f"{CACHE.name}.{os.getpid()}.part")
    run(["tar", "-C", str(target), "--numeric-owner", "-cf", str(partial), "."],
        timeout=TAR_TIMEOUT)
    partial.rename(CACHE)
    shutil.rmtree(target)
    return CACHE


def fresh_root(tmp_path, sources):
    """A Debian root unpacked from the cache, with the machine's mirror and name servers."""
    base = cached_base(tmp_path, next(uri for uri, suite, _ in sources if suite == SUITE))
    root = tmp_path / "root"
    root.mkdir()
    run(["tar", "-C", str(root), "--numeric-owner", "-xpf", str(base)], timeout=TAR_TIMEOUT)
    (root / "etc/apt/sources.list").write_text("".join(
        f"deb {uri} {suite} {' '.join(components)}\n" for uri, suite, components in sources))
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    return root


def owner(root, path):
    """(user, group, mode) of a file in the root, names as the root's /etc/passwd has them."""
    st = os.lstat(root / path.lstrip("/"))
    users = {int(l.split(":")[2]): l.split(":")[0]
             for l in (root / "etc/passwd").read_text().splitlines()}
    groups = {int(l.split(":")[2]): l.split(":")[0]
              for l in (root / "etc/group").read_text().splitlines()}
    return users.get(st.st_uid, st.st_uid), groups.get(st.st_gid, st.st_gid), st.st_mode & 0o7777


def with_listen(text, section, address):
    """The configuration text with [section]'s listen key set to [address]."""
    new, n = re.subn(rf"(?ms)^(\[{section}\]\n(?:(?!^\[).)*?^)listen = [^\n]*",
                     rf'\g<1>listen = ["{address}"]', text)
    assert n == 1, f"no listen key in [{section}]"
    return new


def wait_for_message(maildir, subject, timeout=DELIVERY_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for f in sorted(maildir.glob("new/*")):
            data = f.read_bytes()
            if f"Subject: {subject}".encode() in data:
                return data
        time.sleep(0.1)
    raise AssertionError(f"no message {subject!r} in {maildir}")


def proc_ids(pid, key):
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(l for l in status.splitlines() if l.startswith(key + ":"))
    return [int(x) for x in line.split()[1:]]


def wait_until_serving(proc, port, uid, log):
    """Waits until the daemon accepts on `port` and has become `uid`."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"tern serve exited {proc.returncode}:\n{log.read_text()}"
        try:
            if proc_ids(proc.pid, "Uid") == [uid] * 4:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not serving as uid {uid} on {port}:\n{log.read_text()}")


def build_deb(out, revision="1"):
    r = run([str(BUILD_DEB), str(out)], timeout=BUILD_TIMEOUT,
            env={**os.environ, "TERN_BIN": str(Path(TERN_BIN).resolve()),
                 "DEB_REVISION": revision})
    deb = Path(r.stdout.strip().splitlines()[-1])
    assert deb.is_file() and deb.parent == out, r.stdout
    return deb


def test_package_installs_serves_and_purges(tmp_path):
    if not os.access(TERN_BIN, os.X_OK):
        pytest.skip(f"no binary at {TERN_BIN} (set TERN_BIN)")
    sources = debian_sources()
    if not any(suite == SUITE for _, suite, _ in sources):
        pytest.skip(f"no Debian {SUITE} entry in /etc/apt/sources.list(.d) to bootstrap from")

    deb = build_deb(tmp_path / "out")
    fields = run(["dpkg-deb", "-f", str(deb)], timeout=CMD_TIMEOUT).stdout
    assert re.search(r"^Depends: .*\blibc6 \(>= [^)]+\).*, adduser$", fields, re.M), fields
    assert "Provides: mail-transport-agent" in fields and "Section: mail" in fields, fields
    listing = run(["dpkg-deb", "-c", str(deb)], timeout=CMD_TIMEOUT).stdout
    for path in ["./usr/sbin/tern", "./usr/sbin/sendmail -> tern",
                 "./usr/bin/mailq -> ../sbin/tern", "./lib/systemd/system/tern.service",
                 "./etc/tern/tern.toml",
                 "./etc/logrotate.d/tern", "./usr/share/doc/tern/copyright"]:
        assert path in listing, f"{path} not in the package:\n{listing}"

    root = fresh_root(tmp_path, sources)
    shutil.copy(deb, root / "tmp/tern.deb")
    in_root(root, ["apt-get", "update", "-q"], timeout=APT_TIMEOUT)
    in_root(root, ["apt-get", "install", "-y", "-q", "--no-install-recommends", "/tmp/tern.deb"],
            timeout=APT_TIMEOUT)

    # What the package made: the user, its directories, the files and the unit's enablement.
    passwd = in_root(root, ["getent", "passwd", "tern"]).stdout.strip().split(":")
    assert passwd[5] == "/var/lib/tern" and passwd[6] == "/usr/sbin/nologin", passwd
    tern_uid = int(passwd[2])
    assert tern_uid < 1000, passwd  # a system user
    in_root(root, ["getent", "group", "tern"])
    assert owner(root, "/usr/sbin/tern") == ("root", "root", 0o755)
    assert os.readlink(root / "usr/sbin/sendmail") == "tern"
    assert os.readlink(root / "usr/bin/mailq") == "../sbin/tern"
    assert owner(root, "/etc/tern/tern.toml") == ("root", "root", 0o644)
    assert owner(root, "/var/lib/tern") == ("tern", "tern", 0o755)
    assert owner(root, "/var/lib/tern/maildrop") == ("tern", "tern", 0o3733)
    assert owner(root, "/var/log/tern") == ("tern", "tern", 0o750)
    unit = (root / "lib/systemd/system/tern.service").read_text()
    assert "ExecStart=/usr/sbin/tern serve --config /etc/tern/tern.toml" in unit, unit
    assert "/usr/local" not in unit
    wants = root / "etc/systemd/system/multi-user.target.wants/tern.service"
    assert os.readlink(wants) == "/lib/systemd/system/tern.service"
    conffiles = in_root(root, ["dpkg-query", "-W", "-f=${Conffiles}", "tern"]).stdout
    for path in ["/etc/tern/tern.toml", "/etc/tern/aliases", "/etc/logrotate.d/tern"]:
        assert path in conffiles, conffiles
    r = in_root(root, ["dpkg", "--verify", "tern"])  # every file as the md5sums say
    assert r.stdout == "", r.stdout
    in_root(root, ["tern", "check-config", "/etc/tern/tern.toml"])

    # The packaged configuration, with the listeners moved to free loopback ports (port 25 and
    # 8025 belong to the host, whose network the root shares).
    smtp_port, http_port = free_port(), free_port()
    config = (root / "etc/tern/tern.toml").read_text()
    config = with_listen(with_listen(config, "smtp", f"127.0.0.1:{smtp_port}"),
                         "http", f"127.0.0.1:{http_port}")
    (root / "root/tern-test.toml").write_text(config)  # not in /etc/tern, which purge empties
    in_root(root, ["tern", "check-config", "/root/tern-test.toml"])

    log = tmp_path / "daemon.log"
    maildir = root / "var/lib/tern/mail/root/Maildir"
    with open(log, "wb") as out:
        daemon = subprocess.Popen(
            in_root_argv(root, ["/usr/sbin/tern", "serve", "-c", "/root/tern-test.toml"]),
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=ROOT_ENV)
    try:
        # Started as root, it binds, then runs as tern for good.
        wait_until_serving(daemon, smtp_port, tern_uid, log)
        assert f"privileges user=tern uid={tern_uid}" in log.read_text(), log.read_text()

        # Over SMTP, to postmaster: the packaged aliases send it to root's mailbox.
        message = ("From: sender@example.org\r\nTo: postmaster@localhost\r\n"
                   "Subject: deb test over SMTP\r\n\r\nhello from smtplib\r\n")
        with smtplib.SMTP("127.0.0.1", smtp_port, local_hostname="client.test",
                          timeout=SMTP_TIMEOUT) as smtp:
            refused = smtp.sendmail("sender@example.org", ["postmaster@localhost"], message)
        assert refused == {}
        data = wait_for_message(maildir, "deb test over SMTP")
        assert b"Delivered-To: root@localhost" in data, data[:2000]  # the alias expanded
        assert b"hello from smtplib" in data

        # Through /usr/sbin/sendmail, as a user other than root: the maildrop, then the pickup.
        r = in_root(root, ["/usr/sbin/sendmail", "-t"], userspec=NOBODY,
                    input="To: root\nSubject: deb test via sendmail\n\nhello from sendmail\n")
        assert r.stdout == "" and r.stderr == "", r
        data = wait_for_message(maildir, "deb test via sendmail")
        assert b"(Tern, from userid 65534)" in data, data[:2000]
        assert b"hello from sendmail" in data
        assert list((root / "var/lib/tern/maildrop").iterdir()) == []
        in_root(root, ["/usr/bin/mailq"])

        for f in maildir.glob("new/*"):
            assert os.stat(f).st_uid == tern_uid, f
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=STOP_TIMEOUT) == 0, log.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(timeout=STOP_TIMEOUT)

    # Upgraded (the same binary as revision 2): an edited configuration, the mail, the user and
    # the unit's enablement stay as they were.
    edited = (root / "etc/tern/tern.toml").read_text() + "# edited by the administrator\n"
    (root / "etc/tern/tern.toml").write_text(edited)
    shutil.copy(build_deb(tmp_path / "out2", revision="2"), root / "tmp/tern2.deb")
    in_root(root, ["apt-get", "install", "-y", "-q", "/tmp/tern2.deb"], timeout=APT_TIMEOUT)
    version = in_root(root, ["dpkg-query", "-W", "-f=${Version}", "tern"]).stdout
    assert version.endswith("-2"), version
    assert (root / "etc/tern/tern.toml").read_text() == edited
    assert in_root(root, ["id", "-u", "tern"]).stdout.strip() == str(tern_uid)
    assert len(list(maildir.glob("new/*"))) == 2
    assert os.readlink(wants) == "/lib/systemd/system/tern.service"

    # Removed: the programs go; the configuration, the data and the user stay.
    in_root(root, ["apt-get", "remove", "-y", "-q", "tern"], timeout=APT_TIMEOUT)
    status = in_root(root, ["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "tern"]).stdout
    assert status.strip() == "rc", status
    for gone in ["usr/sbin/tern", "usr/sbin/sendmail", "usr/bin/mailq",
                 "lib/systemd/system/tern.service"]:
        assert not os.path.lexists(root / gone), gone
    assert (root / "etc/tern/tern.toml").exists()
    assert (root / "var/lib/tern/spool").is_dir()

    # Purged: the configuration, the unit's links, the logs and Tern's state go; the mailboxes
    # and the user stay (docs/packaging.md).
    in_root(root, ["apt-get", "purge", "-y", "-q", "tern"], timeout=APT_TIMEOUT)
    status = in_root(root, ["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "tern"], check=False)
    assert status.returncode != 0 or status.stdout.strip() in ("", "un"), status
    for gone in ["etc/tern", "etc/logrotate.d/tern", "var/log/tern",
                 "etc/systemd/system/multi-user.target.wants/tern.service",
                 "etc/systemd/system/tern.service"]:
        assert not os.path.lexists(root / gone), gone
    assert sorted(p.name for p in (root / "var/lib/tern").iterdir()) == ["mail"]
    assert len(list(maildir.glob("new/*"))) == 2
    in_root(root, ["getent", "passwd", "tern"])

    shutil.rmtree(root)  # about 300 MB; kept when the test fails, for a look
