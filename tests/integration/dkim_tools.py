# What the DKIM tests share: keys made with `tern dkim keygen`, and dkimpy's key lookup pointed
# at the loopback DNS server (peers.DnsServer) that publishes them.
import re
import subprocess

from conftest import CLI_TIMEOUT, TERN_BIN


def keygen(directory, domain, selector, algorithm):
    """`tern dkim keygen` into `directory`: the key file's path and the record value printed."""
    proc = subprocess.run([TERN_BIN, "dkim", "keygen", domain, "--selector", selector,
                           "--algorithm", algorithm, "--dir", str(directory)],
                          capture_output=True, timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    value = re.search(r"^value: (.*)$", proc.stdout.decode(), re.M).group(1)
    return directory / f"{domain}.{selector}.key", value


def dnsfunc_for(server):
    """dkimpy's key lookup, asking the loopback server."""
    import dns.resolver  # python3-dnspython; the tests importorskip it first

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.address]
    resolver.port = server.port

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        try:
            answer = resolver.resolve(name.rstrip("."), "TXT", lifetime=timeout)
        except Exception:
            return None
        return b"".join(list(answer)[0].strings)
    return dnsfunc
