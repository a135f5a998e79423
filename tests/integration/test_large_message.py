# A large message streams to disk: the daemon's peak memory grows by a few MB at most while a
# 45 MB message is received, spooled and delivered, and the delivered copy is byte-exact (in
# Maildir form: LF line ends, converted while streaming).
import hashlib
import re
from pathlib import Path

from conftest import maildir_form, split_trace

LINE = b"x" * 998 + b"\r\n"  # the longest line RFC 5321 allows
TOTAL = 45 * 1024 * 1024


def peak_rss_kib(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s*(\d+) kB", status, re.M).group(1))


def test_45_mb_message_streams_without_growing_memory(tern):
    # Warm up: the first message makes the Maildir and fills the allocators' first arenas.
    assert tern.send_message(b"Subject: warm-up\r\n\r\nsmall\r\n").code == 250
    tern.wait_for_messages("postmaster", 1)
    before = peak_rss_kib(tern.pid)

    header = b"Subject: big\r\n\r\n"
    lines = (TOTAL - len(header)) // len(LINE)
    digest = hashlib.sha256(maildir_form(header))  # of the Maildir file's text: LF line ends
    with tern.dialog(timeout=60) as d:
        d.ehlo()
        assert d.cmd("MAIL FROM:<sender@example.org>").code == 250
        assert d.cmd("RCPT TO:<postmaster@localhost>").code == 250
        assert d.cmd("DATA").code == 354
        d.send(header)
        block = LINE * 1024
        for _ in range(lines // 1024):
            d.send(block)
            digest.update(maildir_form(block))
        rest = LINE * (lines % 1024)
        d.send(rest + b".\r\n")
        digest.update(maildir_form(rest))
        reply = d.read_reply(timeout=60)
        assert reply.code == 250, reply
        d.cmd("QUIT")
    files = tern.wait_for_messages("postmaster", 2, timeout=60)
    big = max(files, key=lambda p: p.stat().st_size)
    data = big.read_bytes()
    _, message = split_trace(data)
    assert len(message) == len(header) - 2 + lines * (len(LINE) - 1)
    assert hashlib.sha256(message).hexdigest() == digest.hexdigest()
    assert big.name.endswith(f",S={len(data)}"), big.name

    grown_mib = (peak_rss_kib(tern.pid) - before) / 1024
    assert grown_mib < 8, f"peak memory grew by {grown_mib:.1f} MiB for a 45 MiB message"
    print(f"peak RSS growth for a 45 MiB message: {grown_mib:.2f} MiB")
