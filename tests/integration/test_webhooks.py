# Webhooks (docs/webhooks.md) against the real daemon: a receiving HTTP server on loopback
# (Python's http.server) that fails the first POST and records every one; the batches are
# checked for their HMAC-SHA256 signature as a receiver would check it, for the retry of the
# failed batch (at least once), and for the durable cursor: after a restart, what the endpoint
# acknowledged is not sent again.
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import free_port

SECRET = "whsec-test-0123456789abcdef"


class Hook:
    """An endpoint: answers `statuses` in turn (then 200), records (headers, body, status)."""

    def __init__(self, statuses=()):
        self.port = free_port()
        self.posts = []
        self.statuses = list(statuses)
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = hook.statuses.pop(0) if hook.statuses else 200
                hook.posts.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def acknowledged(self):
        return [e for h, b, s in self.posts if s == 200 for e in json.loads(b)["events"]]

    def wait_for(self, predicate, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.acknowledged()):
                return self.acknowledged()
            time.sleep(0.1)
        raise AssertionError(f"not acknowledged in time: {self.posts}")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    made = []

    def make(statuses=()):
        h = Hook(statuses)
        made.append(h)
        return h

    yield make
    for h in made:
        h.stop()


def verify(headers, body, tolerance=300):
    """What a receiver does: the signature over "TIME.BODY", and a recent TIME."""
    parts = dict(p.split("=", 1) for p in headers["Tern-Signature"].split(","))
    expected = hmac.new(SECRET.encode(), f"{parts['t']}.".encode() + body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected), headers
    assert abs(time.time() - int(parts["t"])) < tolerance, parts


def config(h, **more):
    return {"webhooks": {"urls": [h.url], "secret": SECRET, "min_retry_delay": "1s", **more},
            "events": {"flush_interval": "1s"}}


def test_batches_signed_retried_and_resumed_after_restart(tern_factory, tern_binary, hook):
    h = hook(statuses=[500])
    t = tern_factory(config(h), binary=tern_binary)
    reply = t.send_message(b"Subject: one\r\n\r\nbody\r\n", recipients=["bob@localhost"])
    assert reply.code == 250, reply
    acked = h.wait_for(lambda events: any(e["type"] == "delivered" for e in events))
    # The first POST failed (500) and its events came again: at least once.
    assert h.posts[0][2] == 500, h.posts
    first = [e["seq"] for e in json.loads(h.posts[0][1])["events"]]
    assert set(first) <= {e["seq"] for e in acked}, (first, acked)
    assert h.posts[1][0]["Tern-Attempt"] == "2"
    for headers, body, _ in h.posts:
        assert headers["Content-Type"] == "application/json"
        verify(headers, body)
    types = [(e["type"], e["recipient"]) for e in acked]
    assert ("accepted", "bob@localhost") in types and ("delivered", "bob@localhost") in types
    seqs = [e["seq"] for e in acked]
    assert seqs == sorted(seqs)
    # Restarted: what was acknowledged is not sent again; what is new is.
    last = max(seqs)
    t.restart()
    reply = t.send_message(b"Subject: two\r\n\r\nbody\r\n", recipients=["alice@localhost"])
    assert reply.code == 250, reply
    before = len(h.posts)
    h.wait_for(lambda events: any(e["recipient"] == "alice@localhost" and
                                  e["type"] == "delivered" for e in events))
    resent = [e for hd, b, s in h.posts[before:] for e in json.loads(b)["events"]
              if e["seq"] <= last]
    assert resent == [], resent


def test_events_of_a_failing_endpoint_survive_a_restart(tern_factory, hook):
    """An endpoint that fails for a while, across a restart of Tern: once it answers 2xx, it
    gets the events it missed (the log is the outbox, the cursor did not move)."""
    h = hook(statuses=[503] * 100000)
    t = tern_factory(config(h, max_retry_delay="1s"))
    assert t.send_message(b"Subject: a\r\n\r\nx\r\n", recipients=["bob@localhost"]).code == 250
    t.wait_for_messages("bob", 1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(
            e["type"] == "delivered" for _, b, _ in h.posts for e in json.loads(b)["events"]):
        time.sleep(0.1)
    t.restart()
    h.statuses.clear()  # the endpoint is back
    got = h.wait_for(lambda events: any(e["type"] == "delivered" and
                                        e["recipient"] == "bob@localhost" for e in events))
    assert ("accepted", "bob@localhost") in {(e["type"], e["recipient"]) for e in got}, got
    assert "/hook" not in t.log_text(), "the URL's path is not logged"
    cursor = next((t.data_dir / "webhooks").glob("*.cursor"))
    assert oct(cursor.stat().st_mode & 0o777) == "0o600"


def test_a_torn_cursor_sends_again_rather_than_skips(tern_factory, hook):
    h = hook()
    t = tern_factory(config(h))
    assert t.send_message(b"Subject: a\r\n\r\nx\r\n", recipients=["bob@localhost"]).code == 250
    h.wait_for(lambda events: any(e["type"] == "delivered" for e in events))
    t.stop()
    cursor = next((t.data_dir / "webhooks").glob("*.cursor"))
    cursor.write_text("")  # as a power cut may leave it
    before = len(h.acknowledged())
    t.start()
    again = h.wait_for(lambda events: len(events) >= 2 * before)
    assert {e["seq"] for e in again[before:]} >= {e["seq"] for e in again[:before]}
    t.wait_for_log(r"webhook_cursor")


def test_types_filter_and_a_new_endpoint_starts_at_the_end(tern_factory, hook):
    old = hook()
    t = tern_factory(config(old))
    assert t.send_message(b"Subject: a\r\n\r\nx\r\n", recipients=["bob@localhost"]).code == 250
    old.wait_for(lambda events: any(e["type"] == "delivered" for e in events))
    # A second endpoint, added later, for deliveries only: not sent the history.
    new = hook()
    t.stop()
    t.config["webhooks"]["urls"] = [old.url, new.url]
    t.config["webhooks"]["types"] = ["delivered"]
    t.start()
    assert t.send_message(b"Subject: b\r\n\r\nx\r\n", recipients=["alice@localhost"]).code == 250
    got = new.wait_for(lambda events: any(e["recipient"] == "alice@localhost" for e in events))
    assert {e["type"] for e in got} == {"delivered"}, got
    assert "bob@localhost" not in {e["recipient"] for e in got}, got


def test_an_endpoint_that_is_down_delays_nothing(tern_factory):
    dead = f"http://127.0.0.1:{free_port()}/hook"
    t = tern_factory({"webhooks": {"urls": [dead], "secret": SECRET}})
    start = time.monotonic()
    for i in range(5):
        assert t.send_message(b"Subject: x\r\n\r\nx\r\n", recipients=["bob@localhost"]).code == 250
    t.wait_for_messages("bob", 5, timeout=10)
    assert time.monotonic() - start < 10
    t.wait_for_log(r"webhook_failed", timeout=10)


def test_configuration_errors(tern_factory):
    import subprocess
    from conftest import CLI_TIMEOUT, toml_text
    for webhooks, says in [({"urls": ["ftp://x.example/"], "secret": SECRET}, "webhooks.urls"),
                           ({"urls": ["https://hooks.example/x"]}, "webhooks.secret"),
                           ({"urls": ["https://hooks.example/x"], "secret": "short"},
                            "webhooks.secret"),
                           ({"urls": ["https://hooks.example/x"], "secret": SECRET,
                             "types": ["delivred"]}, "webhooks.types"),
                           ({"urls": ["https://hooks.example/x", "https://hooks.example/x"],
                             "secret": SECRET}, "listed twice"),
                           ({"urls": ["https://hooks example/x"], "secret": SECRET},
                            "webhooks.urls")]:
        t = tern_factory({"webhooks": webhooks}, start=False)
        t.config_path.write_text(toml_text(t.config), encoding="utf-8")
        out = subprocess.run([t.binary, "check-config", str(t.config_path)],
                             capture_output=True, text=True, timeout=CLI_TIMEOUT)
        assert out.returncode != 0 and says in out.stderr + out.stdout, (webhooks, out)
