# bench/tern_config.py: the Tern configuration the local-delivery benchmarks (policy.py, milter.py)
# start from: one MX listener on loopback, local Maildirs for the bench users, no authentication.
from pathlib import Path


def local_delivery_config(data, port, domain, users, extra=""):
    """tern.toml text for a daemon with its data under `data`, on 127.0.0.1:`port`, delivering
    `users` at `domain` locally; `extra` is appended (more sections)."""
    data = Path(data)
    names = ", ".join(f'"{u}"' for u in users)
    return f"""\
[server]
hostname = "tern.bench"
data_dir = "{data}/data"
shutdown_grace = "2s"
[log]
file = "{data}/tern.log"
[smtp]
listen = ["127.0.0.1:{port}"]
[submission]
listen = []
[submissions]
listen = []
[http]
listen = []
[limits]
connections_per_client = 100000
[local]
domains = ["{domain}"]
users = [{names}]
[mailauth]
verify = []
[dkim]
sign = false
{extra}"""
