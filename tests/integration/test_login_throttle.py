# The login throttle against the real daemon and real clients: an honest wrong password is
# answered at once (Python's smtplib, which tries PLAIN and then LOGIN), while guessing from one
# address, at one account, or across accounts slows down as docs/authentication.md says.
import smtplib
import time

from submission_clients import (ALICE, BOB, BOB_PASSWORD, PASSWORD, auth_plain, auth_tern,
                                client_context, plain_response, starttls_dialog)

WRONG = "Guess-0f-An-Attacker"
TWO_ACCOUNTS = ((ALICE, PASSWORD), (BOB, BOB_PASSWORD))
# The doubling alone, as before there were free failures: every failure counts at once.
NO_FREE = {"throttle_free_per_login": 0, "throttle_free_per_address": 0,
           "throttle_free_per_account": 0}
# The shipped throttle (AUTH_CONFIG shortens it for the other tests).
SHIPPED = {"throttle_base_delay": "1s", "throttle_max_delay": "1m", "throttle_reset_after": "15m"}
SMTPLIB_TIMEOUT = 120  # seconds; the throttle must answer long before


def throttle_tern(tern_factory, accounts=TWO_ACCOUNTS, **auth):
    return auth_tern(tern_factory, config={"auth": auth}, accounts=accounts)


def failed_lines(tern):
    return [l for l in tern.log_lines() if " auth " in l and "result=failed" in l]


def timed_failure(tern, source, user, password=WRONG):
    """Seconds from sending a failing AUTH PLAIN until its 535 arrives."""
    with starttls_dialog(tern.submission_port, source=source) as d:
        start = time.monotonic()
        r = auth_plain(d, user, password)
        took = time.monotonic() - start
        assert (r.code, r.status) == (535, "5.7.8"), r
        return took


def smtplib_login(tern, user, password, source="127.0.0.1"):
    """smtplib's own login over STARTTLS; returns (seconds login() took, the 535 error or None)."""
    with smtplib.SMTP("127.0.0.1", tern.submission_port, timeout=SMTPLIB_TIMEOUT,
                      source_address=(source, 0)) as client:
        client.starttls(context=client_context())
        start = time.monotonic()
        try:
            client.login(user, password)
            error = None
        except smtplib.SMTPAuthenticationError as e:
            error = e
        return time.monotonic() - start, error


# --- an honest typo ----------------------------------------------------------------------------------

def test_smtplib_reports_a_wrong_password_at_once(tern_factory):
    tern = throttle_tern(tern_factory, **SHIPPED)
    took, error = smtplib_login(tern, ALICE, "Alice-Secret-24")
    assert error is not None and (error.smtp_code, error.smtp_error[:5]) == (535, b"5.7.8"), error
    assert took < 2.0, took
    # smtplib tried PLAIN and then LOGIN with the same password: one guess, not two.
    tern.wait_for_log(r"mechanism=LOGIN result=failed")
    plain, login = failed_lines(tern)
    assert "mechanism=PLAIN" in plain and "repeat=false" in plain and "delay_ms=0" in plain, plain
    assert "mechanism=LOGIN" in login and "repeat=true" in login and "delay_ms=0" in login, login
    # The user types it wrong once more, then right: still no wait.
    took, error = smtplib_login(tern, ALICE, "Alice-Secret-4two")
    assert error is not None and error.smtp_code == 535 and took < 2.0, (took, error)
    took, error = smtplib_login(tern, ALICE, PASSWORD)
    assert error is None and took < 2.0, (took, error)


def test_typos_of_several_users_behind_one_address_cost_nothing(tern_factory):
    # An office behind one NAT address: each user mistypes once, then logs in.
    users = [(f"user{i}@example.org", f"Secret-{i}-ok") for i in range(5)]
    tern = throttle_tern(tern_factory, accounts=users, **SHIPPED)
    times = []
    for user, password in users:
        took, error = smtplib_login(tern, user, password + "x", source="127.0.0.40")
        assert error is not None and error.smtp_code == 535, error
        times.append(took)
        took, error = smtplib_login(tern, user, password, source="127.0.0.40")
        assert error is None, error
        times.append(took)
    assert max(times) < 2.0, times


# --- guessing -----------------------------------------------------------------------------------------

def test_guessing_one_account_from_one_address_slows_down(tern_factory):
    # [auth] throttle_free_per_login = 2, then 1s doubling to 4s (AUTH_CONFIG).
    tern = throttle_tern(tern_factory, throttle_free_per_login=2)
    times = []
    for i in range(6):
        took, error = smtplib_login(tern, ALICE, f"guess-{i}", source="127.0.0.41")
        assert error is not None and error.smtp_code == 535, error
        times.append(took)
    for took, expected in zip(times, [0, 0, 1, 2, 4, 4]):
        assert expected - 0.2 <= took <= expected + 1.5, times
    # Another address trying the same account is not held by this pair's count (the account's
    # own allowance, 10, is not used up), and the right password works at once.
    took, error = smtplib_login(tern, ALICE, PASSWORD, source="127.0.0.42")
    assert error is None and took < 1.0, (took, error)


def test_spraying_many_accounts_from_one_address_slows_down(tern_factory):
    # One password tried at many accounts: each pair is within its allowance, the address is
    # not after [auth] throttle_free_per_address = 3.
    tern = throttle_tern(tern_factory, throttle_free_per_address=3)
    times = [timed_failure(tern, "127.0.0.43", f"user{i}@example.org", "Summer2024!")
             for i in range(6)]
    for took, expected in zip(times, [0, 0, 0, 1, 2, 4]):
        assert expected - 0.2 <= took <= expected + 1.5, times
    # Each failure was counted once, for the address; no pair or account ran out.
    assert [l.split("delay_ms=")[1] for l in failed_lines(tern)] == \
        ["0", "0", "0", "1000", "2000", "4000"]


def test_many_addresses_at_one_account_slow_down(tern_factory):
    # [auth] throttle_free_per_account = 2: the third failure at alice, from whatever address,
    # is answered after the base delay, the fourth after twice that.
    tern = throttle_tern(tern_factory, throttle_free_per_account=2)
    times = [timed_failure(tern, f"127.0.0.{50 + i}", ALICE, f"guess-{i}") for i in range(4)]
    for took, expected in zip(times, [0, 0, 1, 2]):
        assert expected - 0.2 <= took <= expected + 1.5, times


def test_throttle_delays_grow_per_address_and_per_account(tern_factory):
    # Without free failures: [auth] throttle_base_delay = 1s doubling to throttle_max_delay = 4s.
    tern = throttle_tern(tern_factory, **NO_FREE)
    delays = [timed_failure(tern, "127.0.0.21", ALICE, f"guess-{i}") for i in range(3)]
    for took, expected in zip(delays, [1, 2, 4]):
        assert expected - 0.2 <= took <= expected + 1.5, delays
    # A fresh address guessing the same account is slowed by the account's count (4 failures:
    # the cap) ...
    took = timed_failure(tern, "127.0.0.22", ALICE)
    assert 3.8 <= took <= 5.5, took
    # ... while another account from yet another address starts at the base delay.
    took = timed_failure(tern, "127.0.0.23", BOB)
    assert 0.8 <= took <= 2.5, took
    # The right password from an address that never failed works at once, and clears the
    # account's count.
    with starttls_dialog(tern.submission_port, source="127.0.0.24") as d:
        start = time.monotonic()
        assert auth_plain(d).code == 235
        assert time.monotonic() - start < 0.8
    assert len(failed_lines(tern)) == 5


def test_throttle_holds_parallel_guesses_from_one_address(tern_factory):
    # A client guessing on several connections at once: while one failure is being delayed,
    # the next AUTH from the same address waits out that delay before it is even looked at.
    tern = throttle_tern(tern_factory, accounts=((ALICE, PASSWORD),), **NO_FREE)
    with starttls_dialog(tern.submission_port, source="127.0.0.25") as guess, \
            starttls_dialog(tern.submission_port, source="127.0.0.25") as other:
        guess.send("AUTH PLAIN " + plain_response(ALICE, WRONG) + "\r\n")
        time.sleep(0.2)  # the guess is verified and counted (argon2 at its minimum cost)
        start = time.monotonic()
        r = auth_plain(other)
        took = time.monotonic() - start
        assert (r.code, r.status) == (235, "2.7.0"), r
        assert took >= 0.6, took
        r = guess.read_reply()
        assert (r.code, r.status) == (535, "5.7.8"), r


def test_repeating_one_wrong_password_is_free_once_then_counts(tern_factory):
    # A client that keeps sending the same wrong password (a stale one in its settings) gets
    # one free repeat per counted failure: it cannot make the server hash at full speed.
    tern = throttle_tern(tern_factory, **NO_FREE)
    times = [timed_failure(tern, "127.0.0.45", ALICE, "stale") for _ in range(4)]
    for took, expected in zip(times, [1, 0, 2, 0]):
        assert expected - 0.2 <= took <= expected + 1.5, times
    repeats = [l.split("repeat=")[1].split()[0] for l in failed_lines(tern)]
    assert repeats == ["false", "true", "false", "true"], repeats


def test_a_quiet_period_gives_the_free_failures_back(tern_factory):
    # [auth] throttle_reset_after = 2s: after two quiet seconds the pair starts again.
    tern = throttle_tern(tern_factory, throttle_free_per_login=1, throttle_reset_after="2s")
    assert timed_failure(tern, "127.0.0.44", ALICE, "one") < 0.5
    assert 0.8 <= timed_failure(tern, "127.0.0.44", ALICE, "two") <= 2.5
    time.sleep(2.2)
    assert timed_failure(tern, "127.0.0.44", ALICE, "three") < 0.5
