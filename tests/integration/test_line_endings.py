# Bare LF from real clients ([limits] bare_lf): `curl --upload-file` of a Unix text file, which
# sends LF lines and then CRLF.CRLF, is accepted and delivered line for line by default, and
# refused 554 5.6.0 with bare_lf = "reject"; a bare CR is refused in either mode.
import subprocess
import time

CURL_TIMEOUT = 30.0  # seconds curl may take

# A Unix text file: LF line ends, a final LF, no line starting with "." (curl does not
# dot-stuff lines after a bare LF; docs/protocol.md).
TEXT = (b"From: alice@localhost\n"
        b"To: bob@localhost\n"
        b"Subject: uploaded with curl\n"
        b"\n"
        b"First line of a Unix text file.\n"
        b"\n"
        b"  indented, with trailing blanks  \n"
        b"a line with a dot . inside and a tab\there\n"
        b"last line\n")


def curl_upload(tern, path, port=None):
    return subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", "20",
         f"smtp://127.0.0.1:{port or tern.port}", "--mail-from", "alice@localhost",
         "--mail-rcpt", "bob@localhost", "--upload-file", str(path)],
        capture_output=True, text=True, timeout=CURL_TIMEOUT)


def lines_of(data):
    """The lines of a delivered file, whatever its line endings (CRLF or LF)."""
    return data.replace(b"\r\n", b"\n").split(b"\n")


def test_curl_upload_of_an_lf_file_is_delivered_line_for_line(tern, tmp_path):
    path = tmp_path / "message.txt"
    path.write_bytes(TEXT)
    out = curl_upload(tern, path)
    assert out.returncode == 0, out.stderr
    data = tern.wait_for_message("bob")
    got = lines_of(data)
    start = got.index(b"From: alice@localhost")
    # Every line of the file, in order and unchanged, then the empty line that curl's final
    # CRLF makes after a last line ended by LF (RFC 5321 4.1.1.4; Postfix stores it too).
    want = TEXT.split(b"\n")[:-1] + [b"", b""]
    assert got[start:] == want, got[start:]
    # Every line reached the spool as a CRLF line and the Maildir as an LF line (Maildir's line
    # end): no CR is left.
    assert b"\r" not in data, data


def test_curl_upload_is_refused_with_bare_lf_reject(tern_factory, tmp_path):
    tern = tern_factory(config={"limits": {"bare_lf": "reject"}})
    path = tmp_path / "message.txt"
    path.write_bytes(TEXT)
    out = curl_upload(tern, path)
    assert out.returncode != 0, out.stderr
    tern.wait_for_log(r"message_refused")
    time.sleep(0.5)
    assert tern.all_messages() == []


def test_lf_only_dialog_with_bare_cr_in_the_text(tern):
    # A whole dialog in LF lines runs; the end is still CRLF.CRLF; a bare CR is refused.
    with tern.dialog() as d:
        d.send(b"EHLO client.test\nMAIL FROM:<alice@localhost>\nRCPT TO:<bob@localhost>\nDATA\n")
        replies = d.read_replies(4)
        assert [r.code for r in replies] == [250, 250, 250, 354], replies
        d.send(b"Subject: cr\n\nbare\rCR\n\r\n.\r\n")
        r = d.read_reply()
        assert r.text == "554 5.6.0 Message contains a bare CR; lines must end with CRLF", r
        d.send(b"QUIT\n")
        assert d.read_reply().code == 221
    time.sleep(0.5)
    assert tern.all_messages() == []
