# Debian's pebble (the ACME test CA of Let's Encrypt) for the ACME tests: its HTTPS listener with a
# certificate from the test CA, validating http-01 challenges on `http_port` of the addresses its
# DNS server (the test's) gives; started as its own process and stopped by its own pid.
import json
import os
import ssl
import urllib.request
from pathlib import Path

from peers import Process, free_port, listening

PEBBLE = "/usr/bin/pebble"


class Pebble:
    def __init__(self, workdir, cert, host, http_port, dns_server, env=None, validity=None,
                 port=None):
        """`cert` (peers.pki.Cert) names `host`, the name clients use for the directory; `port`
        (default: a free one) lets a new pebble take over an old one's address."""
        self.dir = Path(workdir)
        self.host = host
        self.port = port or free_port()
        self.management_port = free_port()
        config = {"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.management_port}",
            "certificate": str(cert.chain),
            "privateKey": str(cert.key),
            "httpPort": http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }}
        if validity:  # seconds a certificate it issues is valid
            config["pebble"]["certificateValidityPeriod"] = validity
        path = self.dir / "pebble.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        environment = dict(os.environ)
        environment["PEBBLE_VA_NOSLEEP"] = "1"  # validate at once, not after a random pause
        environment.update(env or {})
        argv = [PEBBLE, "-config", str(path), "-dnsserver", f"{dns_server.address}:{dns_server.port}"]
        self.process = Process(argv, self.dir / "pebble.log", env=environment)
        self.process.wait_ready(lambda: listening(self.port) and listening(self.management_port),
                                "pebble")

    @property
    def directory(self):
        return f"https://{self.host}:{self.port}/dir"

    def _get(self, path, trust):
        context = ssl.create_default_context(cafile=str(trust))
        context.check_hostname = False  # the management port is reached by address
        with urllib.request.urlopen(f"https://127.0.0.1:{self.management_port}{path}",
                                    context=context, timeout=10) as r:
            return r.read().decode()

    def root(self, trust):
        """The PEM root certificate pebble issues under (made anew at each start)."""
        return self._get("/roots/0", trust)

    def intermediate(self, trust):
        return self._get("/intermediates/0", trust)

    def output(self):
        return self.process.output()

    def stop(self):
        self.process.stop()
