# Relaying within the next hop's RFC 9422 LIMITS: an aiosmtpd peer advertises LIMITS and enforces
# them (452 4.5.3 past RCPTMAX, 421 4.7.0 past MAILMAX); Tern splits a message's recipients into
# transactions of at most RCPTMAX and opens a new connection after MAILMAX, so every recipient is
# delivered in the first attempt and the peer never has to refuse anything.
import pytest

from conftest import send, wait_gone
from peers import DnsServer

ZONE = """\
$ORIGIN limits.example.
$TTL 60
@ IN SOA ns.limits.example. hostmaster.limits.example. 1 3600 600 86400 60
mx IN A 127.0.0.17
@ IN MX 10 mx.limits.example.
"""

ADDRESS = "127.0.0.17"


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    server = DnsServer(tmp_path_factory.mktemp("dns"), ZONE)
    yield server
    server.stop()


def recipients(n):
    return [f"user{i:02d}@limits.example" for i in range(n)]


def delivered_everyone(tern, qid, everyone, peer, transactions):
    """The peer got `transactions` messages holding every recipient once, refused nothing, and
    the queue shows each recipient delivered at the first attempt."""
    got = peer.wait_for_messages(transactions)
    assert len(got) == transactions, [env["rcpt_tos"] for env, _ in got]
    assert sorted(r for env, _ in got for r in env["rcpt_tos"]) == sorted(everyone)
    assert peer.refusals() == []
    wait_gone(tern, qid)
    return got


def test_rcptmax_splits_the_recipients_into_transactions(relay_tern, peers, mx_port):
    peer = peers(ADDRESS, mx_port, pipelining=True, limits="RCPTMAX=3 MAILMAX=100")
    tern = relay_tern({"queue": {"retry_schedule": ["1h"]}})
    everyone = recipients(8)
    qid = send(tern, everyone)
    got = delivered_everyone(tern, qid, everyone, peer, 3)
    assert [len(env["rcpt_tos"]) for env, _ in got] == [3, 3, 2]
    # One connection carried them all, one message text each time.
    assert len({env["connection"] for env, _ in got}) == 1
    assert len({body for _, body in got}) == 1
    lines = [line for line in tern.log_lines() if f"delivery id={qid}" in line]
    assert len(lines) == 8 and all("status=delivered" in line for line in lines), lines


def test_our_own_limit_applies_when_it_is_smaller(relay_tern, peers, mx_port):
    peer = peers(ADDRESS, mx_port, limits="RCPTMAX=5")
    tern = relay_tern({"relay": {"recipients_per_transaction": 2},
                       "queue": {"retry_schedule": ["1h"]}})
    everyone = recipients(5)
    qid = send(tern, everyone)
    got = delivered_everyone(tern, qid, everyone, peer, 3)
    assert [len(env["rcpt_tos"]) for env, _ in got] == [2, 2, 1]


def test_mailmax_makes_a_new_connection(relay_tern, peers, mx_port):
    peer = peers(ADDRESS, mx_port, pipelining=True, limits="RCPTMAX=2 MAILMAX=2")
    tern = relay_tern({"queue": {"retry_schedule": ["1h"]}})
    everyone = recipients(7)
    qid = send(tern, everyone)
    got = delivered_everyone(tern, qid, everyone, peer, 4)
    per_connection = {}
    for env, _ in got:
        per_connection.setdefault(env["connection"], []).append(len(env["rcpt_tos"]))
    # Two transactions of two, then a new connection for the other three.
    assert [per_connection[k] for k in sorted(per_connection)] == [[2, 2], [2, 1]], per_connection
    # The first connection ended with QUIT before the limit was passed, not with a 421.
    first = min(per_connection)
    text = "".join(r["data"] for r in peer.reads() if r["connection"] == first)
    assert text.count("MAIL FROM:") == 2 and text.rstrip().endswith("QUIT"), text
    assert tern.wait_for_log(r"reconnect id=%s .*MAILMAX 2" % qid)
    # A connection that reached MAILMAX is not kept for the next message: it gets its own.
    second = send(tern, ["late@limits.example"])
    wait_gone(tern, second)
    (env, _), = [m for m in peer.messages() if m[0]["rcpt_tos"] == ["late@limits.example"]]
    assert env["connection"] not in per_connection
    assert peer.refusals() == []
