# The web dashboard (/dashboard/ on the HTTP listener) end to end: in a real browser (headless
# Chromium driven by tests/browser/dashboard.mjs: login, overview, actions on a queued message,
# screenshots kept in tests/integration/artifacts/dashboard/), and over plain HTTP for the rules
# a browser hides: who may log in, the session cookie, CSRF token, Origin and content type
# checks, logout, the dashboard off without admins, and its client networks.
import concurrent.futures
import http.client
import http.cookies
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CLI_TIMEOUT, HOSTNAME, ROOT, TERN_BIN, queue_id
from peers import DnsServer
from submission_clients import AUTH_CONFIG, add_account, client_context, merged

ADMIN = "admin@example.org"
ADMIN_PASSWORD = "Admin-Secret-31"
OTHER = "alice@example.org"          # an account of the auth database, not a dashboard admin
OTHER_PASSWORD = "Alice-Secret-42"
COOKIE = "tern_dashboard"
API_READS = ("session", "overview", "queue", "failures", "domains")
HTTP_TIMEOUT = 10.0                  # seconds one HTTP exchange may take

# Deferred deliveries wait an hour, so only the dashboard's actions move a message in a test.
QUEUE = {"queue": {"retry_schedule": ["1h"], "delay_warning": "0"}}

BROWSER_DIR = ROOT / "tests" / "browser"
ARTIFACTS = ROOT / "tests" / "integration" / "artifacts" / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
BROWSER_TIMEOUT = 120.0              # seconds; dashboard.mjs gives up by itself after 90
HOSTILE_SENDER = '"<img src=x onerror=alert(1)>"@localhost'
SIGNING_DOMAIN = "example.org"
SCREENSHOTS = ("01-login", "02-login-error", "03-overview", "04-held", "05-after-actions")


def keygen(directory, selector, algorithm):
    """`tern dkim keygen example.org`: (the key file, the TXT record's value)."""
    proc = subprocess.run([TERN_BIN, "dkim", "keygen", SIGNING_DOMAIN, "--selector", selector,
                           "--algorithm", algorithm, "--bits", "1024", "--dir", str(directory)],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    value = re.search(r"^value: (.*)$", proc.stdout, re.M).group(1)
    return directory / f"{SIGNING_DOMAIN}.{selector}.key", value


@pytest.fixture(scope="module")
def dkim(tmp_path_factory):
    """Three signing keys of example.org and a DNS server that publishes one of them rightly
    (selector good), one with another key's record (stale), and not the third (unpublished).
    Returns the [dkim] and [dns] config for a daemon that signs with them."""
    keys = tmp_path_factory.mktemp("dkim-keys")
    good, good_record = keygen(keys, "good", "ed25519")
    stale, _ = keygen(keys, "stale", "rsa")
    _, another_record = keygen(keys, "another", "rsa")
    unpublished, _ = keygen(keys, "unpublished", "ed25519")
    records = [[f"good._domainkey.{SIGNING_DOMAIN}", "TXT", good_record],
               [f"stale._domainkey.{SIGNING_DOMAIN}", "TXT", another_record]]
    server = DnsServer(tmp_path_factory.mktemp("dkim-dns"), "", records=records)
    yield {
        "dkim": {"sign": True, "domains": [SIGNING_DOMAIN], "generate_keys": False,
                 "keys": [f"{SIGNING_DOMAIN} good {good}", f"{SIGNING_DOMAIN} stale {stale}",
                          f"{SIGNING_DOMAIN} unpublished {unpublished}"]},
        "dns": {"upstream": [server.upstream], "timeout": "2s"},
    }
    server.stop()


def dashboard_tern(tern_factory, config=None, binary=None, admins=(ADMIN,)):
    """A started daemon with the dashboard on for `admins`, and the accounts ADMIN and OTHER."""
    t = tern_factory(config=merged(AUTH_CONFIG, QUEUE, {"dashboard": {"admins": list(admins)}},
                                   config), binary=binary)
    add_account(t, ADMIN, ADMIN_PASSWORD)
    add_account(t, OTHER, OTHER_PASSWORD)
    return t


def deferred_message(t, sender="bob@localhost"):
    """A message whose delivery to alice@localhost failed temporarily (her mailbox is blocked)
    and now waits in the queue with that reply; returns its queue id."""
    t.block_mailbox("alice")
    body = b"Subject: for the dashboard\r\nFrom: bob@localhost\r\n\r\nwaiting\r\n"
    qid = queue_id(t.send_message(body, sender=sender, recipients=("alice@localhost",)))
    t.wait_for_attempts(qid, "alice@localhost", 1)
    return qid


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: case-insensitive, get_all()
        self.body = body

    def json(self):
        assert self.headers.get("Content-Type", "").startswith("application/json"), self
        return json.loads(self.body)

    def error(self):
        """The message of a JSON error answer, which must have one."""
        text = self.json().get("error")
        assert isinstance(text, str) and text, self
        return text

    def cookie(self):
        """The session cookie this answer sets (an http.cookies.Morsel), or None."""
        for line in self.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(line)
            if COOKIE in jar:
                return jar[COOKIE]
        return None

    def __repr__(self):
        return f"Answer({self.status}, {dict(self.headers)}, {self.body[:300]!r})"


class Dashboard:
    """A client of one daemon's dashboard over plain HTTP; login() keeps the session cookie and
    its CSRF token, which post() sends (with a same-origin Origin) unless told otherwise."""

    def __init__(self, tern, source="127.0.0.1"):
        self.tern = tern
        self.port = tern.http_port
        self.source = source
        self.cookie = None
        self.csrf = None
        self.tls = False  # HTTPS (http.tls), any certificate accepted

    @property
    def origin(self):
        """What a browser showing this dashboard sends as Origin."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, headers=None):
        sent = {}
        if self.cookie:
            sent["Cookie"] = f"{COOKIE}={self.cookie}"
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        if self.tls:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT,
                                               source_address=(self.source, 0),
                                               context=client_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT,
                                              source_address=(self.source, 0))
        try:
            conn.request(method, path, body=body, headers=sent)
            r = conn.getresponse()
            return Answer(r.status, r.headers, r.read())
        finally:
            conn.close()

    def get(self, path, **headers):
        return self.request("GET", path, headers=headers)

    def api(self, name):
        """GET /dashboard/api/NAME, which must answer 200 JSON; returns it parsed."""
        a = self.get(f"/dashboard/api/{name}")
        assert a.status == 200, a
        return a.json()

    def post(self, path, body, content_type="application/json", csrf=True, origin=True,
             fetch_site=None):
        """POST with the session's token and our own Origin; csrf and origin may be False (left
        out) or a value to send instead; fetch_site is sent as Sec-Fetch-Site."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": content_type,
                   "X-CSRF-Token": self.csrf if csrf is True else (csrf or None),
                   "Origin": self.origin if origin is True else (origin or None),
                   "Sec-Fetch-Site": fetch_site}
        return self.request("POST", path, body=data, headers=headers)

    def login(self, user=ADMIN, password=ADMIN_PASSWORD, **options):
        a = self.post("/dashboard/api/login", {"user": user, "password": password}, csrf=False,
                      **options)
        if a.status == 200:
            morsel = a.cookie()
            assert morsel is not None and morsel.value, a
            self.cookie = morsel.value
            self.csrf = a.json()["csrf"]
        return a

    def action(self, action, qid, **options):
        return self.post("/dashboard/api/queue", {"action": action, "id": qid}, **options)


def logged_in(t, **options):
    d = Dashboard(t, **options)
    a = d.login()
    assert a.status == 200, a
    return d


def held(t, qid):
    """Whether `tern queue list` shows message `qid` held."""
    return t.queued()[qid]["held"]


# --- the page -------------------------------------------------------------------------------------

def test_page_and_files_come_with_a_strict_policy(tern_factory):
    t = dashboard_tern(tern_factory)
    d = Dashboard(t)
    page = d.get("/dashboard/")
    assert page.status == 200, page
    assert page.headers["Content-Type"].startswith("text/html"), page
    assert page.headers["X-Frame-Options"] == "DENY", page
    csp = page.headers["Content-Security-Policy"]
    assert csp, page
    directives = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None, f"no script-src or default-src in {csp!r}"
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, csp
    assert "*" not in scripts, csp

    html = page.body.decode()
    for element in ("login-form", "login-user", "login-password", "login-submit", "login-error",
                    "app", "whoami", "logout", "throughput", "total-received", "total-delivered",
                    "total-deferred", "total-bounced", "sites", "queue", "failures", "domains-tls",
                    "domains-dkim", "action-result"):
        assert re.search(rf"""\bid=["']?{element}["'\s>]""", html), f"no #{element} in the page"
    # Script only from files (the policy would block inline code, so it could never have run).
    tags = re.findall(r"<script\b[^>]*>", html, re.I)
    assert tags and all(re.search(r"\bsrc=", tag) for tag in tags), tags
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.I), "inline event handler in the page"
    assert "app.js" in html and "app.css" in html

    js = d.get("/dashboard/app.js")
    assert js.status == 200, js
    assert re.match(r"(text|application)/javascript", js.headers["Content-Type"]), js
    assert b"/dashboard/api/" in js.body
    css = d.get("/dashboard/app.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css"), css
    assert d.get("/dashboard/no-such-file.js").status == 404


# --- who may log in -------------------------------------------------------------------------------

def test_only_admins_log_in(tern_factory):
    t = dashboard_tern(tern_factory)
    d = Dashboard(t)
    wrong = d.login(ADMIN, ADMIN_PASSWORD + "x")
    assert wrong.status == 401 and wrong.cookie() is None, wrong
    unknown = d.login("nobody@example.org", ADMIN_PASSWORD)
    assert unknown.status == 401 and unknown.cookie() is None, unknown
    # A real account with its right password, but not one of dashboard.admins.
    other = d.login(OTHER, OTHER_PASSWORD)
    assert other.status == 401 and other.cookie() is None, other
    # A user name that is no account name at all: the same answer, and logged too.
    malformed = d.login("bad\nname", ADMIN_PASSWORD)
    assert malformed.status == 401 and malformed.cookie() is None, malformed
    # The same answer each time, so that it tells nothing of which accounts exist.
    assert wrong.error() == unknown.error() == other.error() == malformed.error()
    assert d.cookie is None
    failures = [l for l in t.log_lines() if "dashboard_login_failed" in l]
    assert len(failures) == 4, failures
    assert any("malformed user name" in l for l in failures), failures

    right = d.login()
    assert right.status == 200, right
    body = right.json()
    assert body["user"] == ADMIN
    assert isinstance(body["csrf"], str) and len(body["csrf"]) >= 16, body
    morsel = right.cookie()
    assert morsel["path"] == "/dashboard", morsel.OutputString()
    assert morsel["httponly"] is True, morsel.OutputString()
    assert morsel["samesite"].lower() == "strict", morsel.OutputString()
    assert len(morsel.value) >= 16, morsel.OutputString()
    assert d.api("session") == {"user": ADMIN, "csrf": body["csrf"]}
    # Another login is another session, with a token of its own.
    again = Dashboard(t)
    assert again.login().status == 200
    assert again.cookie != d.cookie and again.csrf != d.csrf


def test_the_api_needs_a_session(tern_factory):
    t = dashboard_tern(tern_factory)
    qid = deferred_message(t)
    d = Dashboard(t)
    for name in API_READS:
        a = d.get(f"/dashboard/api/{name}")
        assert a.status == 401, (name, a)
        a.error()
    d.cookie = "0123456789abcdef0123456789abcdef"  # a session that was never given out
    d.csrf = "0123456789abcdef0123456789abcdef"
    for name in API_READS:
        assert d.get(f"/dashboard/api/{name}").status == 401, name
    a = d.action("hold", qid)
    assert a.status in (401, 403), a
    assert not held(t, qid)


def test_login_is_throttled(tern_factory):
    t = dashboard_tern(tern_factory, config={"auth": {
        "throttle_free_per_login": 0, "throttle_free_per_address": 0,
        "throttle_free_per_account": 0, "throttle_base_delay": "2s", "throttle_max_delay": "4s"}})
    d = Dashboard(t)
    assert d.login(ADMIN, "Wrong-Guess-1").status == 401
    started = time.monotonic()
    a = d.login(ADMIN, "Wrong-Guess-2")
    assert time.monotonic() - started < 1.5, "a throttled login should be refused, not held open"
    assert a.status == 429 and a.cookie() is None, a
    a.error()
    wait = int(a.headers["Retry-After"])
    assert 1 <= wait <= 4, a
    # Even the right password waits its turn...
    assert d.login().status == 429
    # ...and is let in once the wait is over.
    time.sleep(wait + 0.2)
    assert d.login().status == 200


def test_parallel_logins_do_not_pass_the_throttle_together(tern_factory):
    # With no free failures each wrong password costs a wait; guesses sent all at once must not
    # all be checked before the first failure counts.
    t = dashboard_tern(tern_factory, config={"auth": {
        "throttle_free_per_login": 0, "throttle_free_per_address": 0,
        "throttle_free_per_account": 0, "throttle_base_delay": "10s", "throttle_max_delay": "20s"}})
    guesses = 16
    with concurrent.futures.ThreadPoolExecutor(guesses) as pool:
        answers = list(pool.map(lambda i: Dashboard(t).login(ADMIN, f"Wrong-Guess-{i}"),
                                range(guesses)))
    statuses = sorted(a.status for a in answers)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= 2, statuses  # the first, and at most one that came after it
    checked = [l for l in t.log_lines() if "dashboard_login_failed" in l]
    assert len(checked) == statuses.count(401), checked


# --- the CSRF rules -------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["no token", "wrong token", "another session's token",
                                  "foreign origin", "other port", "other scheme", "cross-site fetch",
                                  "same-site fetch", "text/plain", "form"])
def test_a_post_without_the_proofs_is_refused(tern_factory, case):
    t = dashboard_tern(tern_factory)
    qid = deferred_message(t)
    d = logged_in(t)
    other = logged_in(t)
    options, status = {
        "no token": ({"csrf": False}, 403),
        "wrong token": ({"csrf": "x" * len(d.csrf)}, 403),
        "another session's token": ({"csrf": other.csrf}, 403),
        "foreign origin": ({"origin": "http://evil.example"}, 403),
        "other port": ({"origin": f"http://127.0.0.1:{t.port}"}, 403),
        "other scheme": ({"origin": f"https://127.0.0.1:{t.http_port}"}, 403),
        # What a browser says of a request another site's page made, Origin or not.
        "cross-site fetch": ({"origin": False, "fetch_site": "cross-site"}, 403),
        "same-site fetch": ({"origin": False, "fetch_site": "same-site"}, 403),
        "text/plain": ({"content_type": "text/plain"}, 415),
        "form": ({"content_type": "application/x-www-form-urlencoded"}, 415),
    }[case]
    a = d.action("hold", qid, **options)
    assert a.status == status, a
    a.error()
    assert not held(t, qid)
    # Logging out takes the same proofs: refused, the session goes on.
    a = d.post("/dashboard/api/logout", {}, **options)
    assert a.status == status, a
    assert d.api("session")["user"] == ADMIN
    # With them, the same request is done.
    a = d.action("hold", qid)
    assert a.status == 200 and a.json()["ok"] is True, a
    assert held(t, qid)


def test_login_itself_checks_origin_and_content_type(tern_factory):
    t = dashboard_tern(tern_factory)
    d = Dashboard(t)
    a = d.login(origin="http://evil.example")
    assert a.status == 403 and a.cookie() is None, a
    a.error()
    a = d.login(origin=False, fetch_site="cross-site")
    assert a.status == 403 and a.cookie() is None, a
    a = d.login(content_type="text/plain")
    assert a.status == 415 and a.cookie() is None, a
    a.error()
    a = d.post("/dashboard/api/login", b"user=admin%40example.org&password=x", csrf=False,
               content_type="application/x-www-form-urlencoded")
    assert a.status == 415, a
    # Without an Origin (curl, scripts) the login is fine, and so is the page's own request.
    assert d.login(origin=False).status == 200
    assert d.login(fetch_site="same-origin").status == 200


def test_sessions_are_few_and_marked_secure_over_https(tern_factory):
    t = dashboard_tern(tern_factory, config={"dashboard": {"max_sessions": 2},
                                             "http": {"tls": True}})
    d = [Dashboard(t) for _ in range(3)]
    for client in d:
        client.tls = True
    answer = d[0].login()
    assert answer.status == 200, answer
    assert answer.cookie()["secure"] is True, answer.cookie().OutputString()
    assert d[0].api("session")["user"] == ADMIN
    assert d[1].login().status == 200
    assert d[0].api("session")["user"] == ADMIN  # d[0] is now the most recently used
    # A third login ends the least recently used session, d[1]'s.
    assert d[2].login().status == 200
    assert d[1].get("/dashboard/api/session").status == 401
    assert d[0].api("session")["user"] == ADMIN
    assert d[2].api("session")["user"] == ADMIN


# --- what it shows and does ---------------------------------------------------------------------

def test_what_the_api_shows(tern_factory, dkim):
    started = int(time.time())
    t = dashboard_tern(tern_factory, config=dkim)
    qid = deferred_message(t)
    d = logged_in(t)

    overview = d.api("overview")
    assert started <= overview["time"] <= time.time() + 1, overview
    totals = overview["totals"]
    assert set(totals) >= {"received", "delivered", "deferred", "bounced"}, totals
    assert all(isinstance(totals[k], int) for k in ("received", "delivered", "deferred", "bounced"))
    assert totals["received"] >= 1 and totals["deferred"] >= 1, totals
    assert totals["delivered"] == 0 and totals["bounced"] == 0, totals
    q = overview["queue"]
    assert (q["messages"], q["held"], q["recipients"]) == (1, 0, 1), q
    assert q["deferred"] == 1 and q["active"] == 0, q
    assert started <= q["oldest_arrival"] <= time.time(), q
    sites = overview["sites"]
    assert sum(s["deferred"] for s in sites) == 1, sites
    assert sum(s["pending"] + s["active"] + s["held"] for s in sites) == 0, sites
    assert all(isinstance(s["site"], str) and s["site"] for s in sites), sites

    # The queue as `tern queue list --json` gives it.
    listed = t.queue_json("list")["messages"]
    shown = d.api("queue")["messages"]
    assert [m["id"] for m in shown] == [qid]
    for key in ("id", "sender", "arrival", "held", "recipients", "pending", "next_attempt",
                "waiting"):
        assert shown[0][key] == listed[0][key], key
    waiting = shown[0]["waiting"]
    assert [w["address"] for w in waiting] == ["alice@localhost"], waiting
    assert waiting[0]["status"] == "deferred" and waiting[0]["in_progress"] is False, waiting
    assert waiting[0]["last_reply"].startswith("451 4.3.0 "), waiting

    failures = d.api("failures")["failures"]
    mine = [f for f in failures if f["id"] == qid]
    assert len(mine) == 1, failures
    f = mine[0]
    assert (f["recipient"], f["status"]) == ("alice@localhost", "deferred"), f
    assert f["reply"].startswith("451 4.3.0 "), f
    assert started <= f["time"] <= time.time(), f

    domains = d.api("domains")
    tls = domains["tls"]
    assert tls and all(e["not_after"] > time.time() for e in tls), tls
    mine = [e for e in tls if HOSTNAME in e["names"]]
    assert mine and mine[0]["self_signed"] is True, tls  # the embedded default's certificate
    # Each signing key, and whether the DNS publishes it (through the daemon's resolver).
    keys = {(k["domain"], k["selector"]): k for k in domains["dkim"]}
    assert set(keys) == {(SIGNING_DOMAIN, s) for s in ("good", "stale", "unpublished")}, keys
    good, stale, unpublished = (keys[(SIGNING_DOMAIN, s)] for s in ("good", "stale", "unpublished"))
    assert "ed25519" in good["algorithm"] and "rsa" in stale["algorithm"], keys
    assert good["ok"] is True, good
    assert stale["ok"] is False and stale["error"], stale
    assert unpublished["ok"] is False and unpublished["error"], unpublished
    assert stale["error"] != unpublished["error"], keys


def test_actions_over_http(tern_factory, tern_binary):
    t = dashboard_tern(tern_factory, binary=tern_binary)
    qid = deferred_message(t)
    d = logged_in(t)

    a = d.action("hold", qid)
    assert a.status == 200 and a.json()["ok"] is True, a
    assert held(t, qid)
    assert d.api("queue")["messages"][0]["held"] is True
    assert d.api("overview")["queue"]["held"] == 1
    # Without an Origin (a script, curl) but with the token: done.
    a = d.action("release", qid, origin=False)
    assert a.status == 200 and a.json()["ok"] is True, a
    assert not held(t, qid)

    a = d.action("retry", qid)
    assert a.status == 200 and a.json()["ok"] is True, a
    t.wait_for_attempts(qid, "alice@localhost", 2)

    a = d.action("hold", "0000000000000000")
    assert 400 <= a.status < 500, a
    a.error()
    for body in ({"action": "explode", "id": qid}, {"id": qid}, {"action": "hold"}, ["hold", qid],
                 {"action": "hold", "id": ""}, {"action": "hold", "id": "x" * 100000},
                 {"action": "hold", "id": qid + "\nforged=1"}):
        a = d.post("/dashboard/api/queue", body)
        assert a.status == 400, (body, a)
        a.error()
    a = d.post("/dashboard/api/queue", b"{not json")
    assert a.status == 400, a
    assert qid in t.queued()
    assert "x" * 100 not in t.log_text() and "forged=1" not in t.log_text()

    a = d.action("delete", qid)
    assert a.status == 200 and a.json()["ok"] is True, a
    t.wait_for_empty_queue()
    assert d.api("queue")["messages"] == []
    assert t.messages("bob") == [], "delete sends no notice"


def test_bounce_returns_the_message(tern_factory):
    t = dashboard_tern(tern_factory)
    qid = deferred_message(t)
    d = logged_in(t)
    a = d.action("bounce", qid)
    assert a.status == 200 and a.json()["ok"] is True, a
    t.wait_for_empty_queue()
    notice = t.wait_for_message("bob")
    assert b"Subject: for the dashboard" in notice
    failures = d.api("failures")["failures"]
    assert failures[0]["id"] == qid and failures[0]["status"] == "bounced", failures


def test_logout_ends_the_session(tern_factory):
    t = dashboard_tern(tern_factory)
    qid = deferred_message(t)
    d = logged_in(t)
    old_cookie, old_csrf = d.cookie, d.csrf
    a = d.post("/dashboard/api/logout", {})
    assert a.status == 200, a
    for name in API_READS:
        assert d.get(f"/dashboard/api/{name}").status == 401, name
    a = d.action("hold", qid)
    assert a.status in (401, 403), a
    assert not held(t, qid)
    # A new login is a new session; the old one stays dead.
    assert d.login().status == 200
    assert (d.cookie, d.csrf) != (old_cookie, old_csrf)
    d.cookie, d.csrf = old_cookie, old_csrf
    assert d.get("/dashboard/api/session").status == 401


# --- where it is served ---------------------------------------------------------------------------

def test_no_admins_no_dashboard(tern_factory):
    t = dashboard_tern(tern_factory, admins=())
    d = Dashboard(t)
    for path in ("/dashboard/", "/dashboard/app.js", "/dashboard/app.css",
                 "/dashboard/api/session", "/dashboard/api/overview"):
        a = d.get(path)
        assert a.status == 404, (path, a)
    a = d.login()
    assert a.status == 404 and a.cookie() is None, a
    assert d.get("/health").status == 200


def test_only_for_its_networks(tern_factory):
    t = dashboard_tern(tern_factory, config={"dashboard": {"networks": ["127.0.0.1/32"]}})
    inside = Dashboard(t)
    assert inside.get("/dashboard/").status == 200
    assert inside.login().status == 200
    outside = Dashboard(t, source="127.0.0.2")
    for path in ("/dashboard/", "/dashboard/app.js", "/dashboard/api/session"):
        a = outside.get(path)
        assert a.status == 403, (path, a)
        a.error()
    a = outside.login()
    assert a.status == 403 and a.cookie() is None, a
    # A session cookie is no way in from elsewhere.
    outside.cookie, outside.csrf = inside.cookie, inside.csrf
    assert outside.get("/dashboard/api/overview").status == 403
    assert outside.get("/health").status == 200


# --- in a real browser ----------------------------------------------------------------------------

def browser_missing():
    """What the browser test needs and this machine lacks."""
    missing = [str(p) for p in (CHROMIUM, BROWSER_DIR / "node_modules" / "playwright-core")
               if not p.exists()]
    if shutil.which("node") is None:
        missing.append("node")
    return missing


def keep_artifacts(source, target):
    """Copies the run's screenshots to `target` (emptied first), where they outlive pytest's
    temporary directories."""
    if target.exists():
        shutil.rmtree(target)
    if source.is_dir():
        shutil.copytree(source, target)


def run_browser(args):
    """Runs dashboard.mjs in a process group of its own, which is killed whole (Chromium too)
    should it outlive BROWSER_TIMEOUT; returns (exit status, stdout, stderr)."""
    proc = subprocess.Popen(["node", str(BROWSER_DIR / "dashboard.mjs"), *args], cwd=BROWSER_DIR,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this test started, by its id
        out, err = proc.communicate()
        err += f"\n(killed after {BROWSER_TIMEOUT}s)"
    return proc.returncode, out, err


def test_dashboard_in_a_browser(tern_factory, tern_binary, tmp_path, request, dkim):
    missing = browser_missing()
    if missing:
        why = f"the browser test needs {', '.join(missing)} (make deps-test installs them)"
        if os.environ.get("TERN_REQUIRE_BROWSER"):
            pytest.fail(why)
        pytest.skip(why)
    t = dashboard_tern(tern_factory, binary=tern_binary, config=dkim)
    # A sender that is markup if the page ever builds HTML from queue values (a quoted local
    # part may hold anything).
    hostile = deferred_message(t, sender=HOSTILE_SENDER)
    qid = deferred_message(t)
    out = tmp_path / "browser"
    try:
        status, stdout, stderr = run_browser(
            [f"http://127.0.0.1:{t.http_port}", ADMIN, ADMIN_PASSWORD, qid, str(out)])
    finally:
        keep_artifacts(out, ARTIFACTS / request.node.callspec.id)
    lines = stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    report = f"exit {status}\n{json.dumps(result, indent=1)}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    assert status == 0 and result.get("ok") is True, report
    assert result["step"] == "done", report

    actions = [a["action"] for a in result["actions"]]
    assert actions == ["hold", "release", "retry", "delete"], report
    assert result["whoami"] and ADMIN in result["whoami"], report
    assert result["login_error"], report
    assert "alice@localhost" in result["rows"]["reason"], report
    assert "451 4.3.0 " in result["rows"]["reason"], report
    assert result["rows"]["sites"] >= 1 and result["rows"]["failures"] >= 1, report
    assert result["rows"]["domains-tls"] >= 1 and result["rows"]["domains-dkim"] == 3, report
    assert HOSTILE_SENDER in result["rows"]["queue_text"], report
    for name in SCREENSHOTS:
        png = (out / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000, name
    # What the clicks did to the real queue: the message deleted, the other one left alone,
    # and the dismissed bounce sent no notice to its sender.
    t.wait_for_queue(lambda q: qid not in q, f"without {qid}")
    assert list(t.queued()) == [hostile]
    time.sleep(0.5)
    assert t.messages("bob") == []
