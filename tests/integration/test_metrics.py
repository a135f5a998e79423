# The HTTP listener as an operator's monitoring meets it: /health, and /metrics read by
# python3-prometheus-client's parser (as Prometheus would), with the counts of what the test did
# (a delivered message, a refused recipient, a failed AUTH, a failed TLS handshake), the queue's
# gauges, the spool's sync rounds and DNS; access limited to metrics_networks; HTTPS with http.tls.
import json
import socket
import ssl
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from conftest import queue_id
from submission_clients import PASSWORD, auth_plain, auth_tern, starttls_dialog

WRONG = "Not-The-Password-9"


def get(tern, path, scheme="http", context=None):
    url = f"{scheme}://127.0.0.1:{tern.http_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def scrape(tern):
    """{(name, frozenset(labels)): value} of every sample, parsed by prometheus_client."""
    status, headers, text = get(tern, "/metrics")
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for(tern, probe, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(tern)
        if probe(samples):
            return samples
        assert time.monotonic() < deadline, f"{what} never showed in /metrics"
        time.sleep(0.1)


def test_health_answers_json(tern):
    status, headers, body = get(tern, "/health")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "ok"}


def test_unknown_path_and_wrong_method_are_json_errors(tern):
    status, _, body = get(tern, "/nothing")
    assert status == 404 and json.loads(body) == {"error": "no such resource"}
    req = urllib.request.Request(f"http://127.0.0.1:{tern.http_port}/metrics", method="DELETE")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("DELETE /metrics was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 405 and e.headers["Allow"] == "GET, HEAD"


def test_a_fresh_daemon_has_every_family(tern):
    samples = scrape(tern)
    names = {name for name, _ in samples}
    for name in ("tern_build_info", "process_start_time_seconds", "process_resident_memory_bytes",
                 "process_open_fds", "process_cpu_seconds_total", "tern_queue_messages",
                 "tern_queue_recipients", "tern_queue_oldest_message_age_seconds",
                 "tern_queue_deliveries_running", "tern_queue_destinations"):
        assert name in names, name
    assert value(samples, "tern_queue_messages", state="all") == 0
    assert value(samples, "process_resident_memory_bytes") > 1e6
    assert value(samples, "process_open_fds") > 3


def test_message_refusal_and_delivery_are_counted(tern):
    with tern.smtp() as s:
        s.ehlo()
        assert s.mail("sender@example.org")[0] == 250
        assert s.rcpt("nobody@localhost")[0] == 550
        assert s.rcpt("alice@localhost")[0] == 250
        code, text = s.data(b"Subject: counted\r\n\r\nHello.\r\n")
        assert code == 250
    tern.wait_for_message("alice")
    samples = wait_for(
        tern, lambda s: value(s, "tern_deliveries_total", transport="local", site="local",
                              status="delivered") == 1, "the delivery")
    assert value(samples, "tern_smtpd_connections_total", listener="smtp") >= 1
    assert value(samples, "tern_smtpd_rejects_total", listener="smtp", stage="access",
                 code="550", status="5.1.1") == 1
    assert value(samples, "tern_smtpd_messages_total", listener="smtp", result="queued") == 1
    assert value(samples, "tern_delivery_delay_seconds_count", transport="local",
                 status="delivered") == 1
    assert value(samples, "tern_delivery_delay_seconds_bucket", transport="local",
                 status="delivered", le="+Inf") == 1
    # The message, its delivery and its removal were made durable by sync rounds.
    assert value(samples, "tern_spool_sync_seconds_count") >= 1
    assert value(samples, "tern_spool_sync_group_size_sum") >= 2
    # The session is over: no open session is left counted.
    wait_for(tern, lambda s: value(s, "tern_smtpd_sessions", listener="smtp") == 0, "session end")


def test_queue_gauges_show_a_held_message(tern):
    tern.block_mailbox("alice")
    qid = queue_id(tern.send_message(b"Subject: waits\r\n\r\nx\r\n", recipients=("alice@localhost",)))
    samples = wait_for(tern, lambda s: value(s, "tern_queue_recipients", state="deferred") == 1,
                       "the deferred recipient")
    assert value(samples, "tern_queue_messages", state="all") == 1
    assert value(samples, "tern_queue_messages", state="deferred") == 1
    assert value(samples, "tern_deliveries_total", transport="local", site="local",
                 status="deferred") >= 1
    assert value(samples, "tern_queue_oldest_message_age_seconds") >= 0
    tern.queue("hold", qid)
    samples = wait_for(tern, lambda s: value(s, "tern_queue_messages", state="held") == 1, "hold")
    assert value(samples, "tern_queue_messages", state="deferred") == 0
    tern.unblock_mailbox("alice")


def test_auth_and_tls_failures_are_counted(tern_factory):
    tern = auth_tern(tern_factory)
    with starttls_dialog(tern.submission_port) as d:
        r = auth_plain(d, password=WRONG)
        assert r.code == 535, r
    # Not TLS at all on the implicit-TLS port: the handshake fails.
    with socket.create_connection(("127.0.0.1", tern.submissions_port), timeout=10) as s:
        s.sendall(b"EHLO plain.text\r\n")
        s.settimeout(10)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
    samples = wait_for(tern, lambda s: value(s, "tern_smtpd_tls_handshake_failures_total",
                                             listener="submissions") == 1, "the TLS failure")
    assert value(samples, "tern_smtpd_auth_failures_total", listener="submission",
                 mechanism="PLAIN") == 1
    assert PASSWORD not in str(samples)


def test_metrics_only_for_metrics_networks(tern_factory):
    tern = tern_factory(config={"http": {"metrics_networks": ["192.0.2.0/24"]}})
    status, _, body = get(tern, "/metrics")
    assert status == 403 and "http.metrics_networks" in json.loads(body)["error"]
    assert get(tern, "/health")[0] == 200


def test_https_with_http_tls(tern_factory):
    tern = tern_factory(config={"http": {"tls": True}})
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the self-signed certificate of the embedded default
    status, _, body = get(tern, "/health", scheme="https", context=context)
    assert status == 200 and json.loads(body) == {"status": "ok"}
    # Plain HTTP to the TLS listener gets no answer, not a crash.
    with socket.create_connection(("127.0.0.1", tern.http_port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(10)
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        assert not data.startswith(b"HTTP/1.1 200")
    assert get(tern, "/health", scheme="https", context=context)[0] == 200


def test_http_limits_refuse_precisely(tern_factory):
    tern = tern_factory(config={"http": {"max_body": "1K", "max_header": "2K",
                                         "max_connections": 2}})
    with socket.create_connection(("127.0.0.1", tern.http_port), timeout=10) as s:
        s.sendall(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
        assert s.recv(4096).startswith(b"HTTP/1.1 413 ")
    with socket.create_connection(("127.0.0.1", tern.http_port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4000 + b"\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 431 ")
    # The server counts a refused request's connection until its coroutine has closed the
    # socket, a moment after the client read the answer: hold two connections once both are
    # served (bounded retries), then a third is over the limit.
    deadline = time.monotonic() + 10
    while True:
        held = [socket.create_connection(("127.0.0.1", tern.http_port), timeout=10)
                for _ in range(2)]
        replies = []
        try:
            for h in held:
                h.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                replies.append(h.recv(4096))
        finally:
            if not (len(replies) == 2 and all(r.startswith(b"HTTP/1.1 200 ") for r in replies)):
                for h in held:
                    h.close()
        if all(r.startswith(b"HTTP/1.1 200 ") for r in replies):
            break
        assert all(r.startswith((b"HTTP/1.1 200 ", b"HTTP/1.1 503 ")) for r in replies)
        assert time.monotonic() < deadline, replies
        time.sleep(0.1)
    try:
        with socket.create_connection(("127.0.0.1", tern.http_port), timeout=10) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 503 ")
    finally:
        for h in held:
            h.close()
