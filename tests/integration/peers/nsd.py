# A DNSSEC-signing authoritative DNS server for the DANE tests: zones signed with ldns-signzone
# under a fresh key, served by NSD on a loopback port, unprivileged, without chroot.
import subprocess
from pathlib import Path

from peers import Process, free_udp_tcp_port

TIMEOUT = 30.0  # seconds one ldns command may take


def _run(argv, cwd):
    out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, f"{' '.join(argv)}: {out.stdout}{out.stderr}"
    return out.stdout


def sign_zone(directory, origin, zone_text, tamper=None):
    """Signs `zone_text` (for `origin`, no trailing dot) with a new ECDSA P-256 key (NSEC
    denial); returns (signed zone file, DS record line). `tamper(signed_text)` may change the
    signed text afterwards, so that the signatures over what it changed no longer verify."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    zone = d / f"{origin}.zone"
    zone.write_text(zone_text, encoding="utf-8")
    key = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", origin], d).strip()
    _run(["ldns-signzone", "-f", f"{zone}.signed", str(zone), key], d)
    signed = Path(f"{zone}.signed")
    if tamper:
        signed.write_text(tamper(signed.read_text(encoding="utf-8")), encoding="utf-8")
    ds = (d / f"{key}.ds").read_text(encoding="utf-8").strip()
    return signed, ds


class NsdServer:
    """NSD serving {origin: zone file} on address:port (UDP and TCP); stopped by its own pid."""

    def __init__(self, workdir, zones, address="127.0.0.1"):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.address = address
        self.port = free_udp_tcp_port(address)
        conf = self.dir / "nsd.conf"
        lines = ["server:",
                 f"    ip-address: {address}@{self.port}",
                 "    do-ip6: no",
                 '    username: ""',
                 '    chroot: ""',
                 f'    zonesdir: "{self.dir}"',
                 f'    pidfile: "{self.dir}/nsd.pid"',
                 '    database: ""',
                 f'    zonelistfile: "{self.dir}/zone.list"',
                 f'    xfrdfile: "{self.dir}/xfrd.state"',
                 f'    xfrdir: "{self.dir}"',
                 f'    logfile: "{self.dir}/nsd.log"',
                 "    server-count: 1",
                 "    verbosity: 1",
                 "remote-control:",
                 "    control-enable: no"]
        for origin, path in zones.items():
            lines += ["zone:", f'    name: "{origin}"', f'    zonefile: "{path}"']
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _run(["nsd-checkconf", str(conf)], self.dir)
        self.log_path = self.dir / "nsd.log"
        self.process = Process(["/usr/sbin/nsd", "-d", "-c", str(conf)], self.dir / "nsd.out")
        self.process.wait_ready(lambda: self._serving(len(zones)), "nsd")

    def _serving(self, zones):
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "nsd started" in text and text.count("read with success") >= zones

    @property
    def upstream(self):
        return f"{self.address}@{self.port}"

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        self.process.stop()
