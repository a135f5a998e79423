#!/ usr / bin / python3
#dkimpy(Debian python3 - dkim) as the independent ARC implementation of the ARC tests : seals a
#message(the fixtures in arc_fixtures / were made with `fixtures`) and verifies a chain.
#
#arc_dkimpy.py fixtures rewrites arc_fixtures/*.eml (needs arc_fixtures/rsa.pem)
#   arc_dkimpy.py verify FILE NAME=TXT...  prints "cv reason" for the message in FILE, the key
#                                           records served for the names given
import base64
import os
import sys

import dkim
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "arc_fixtures")
TIMESTAMP = 1700000000  # t= of every fixture seal; the C++ tests verify at this time + 100


def key_record(pem):
    key = serialization.load_pem_private_key(pem, password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def zone_function(records):
    def txt(name, timeout=5):
        return records.get(name.decode().rstrip(".").lower())
    return txt


def seal(message, domain, selector, pem, srv_id, timestamp):
    fields = dkim.arc_sign(message, selector.encode(), domain.encode(), pem, srv_id.encode(),
                           timestamp=timestamp)
    if not fields:
        raise SystemExit("dkimpy did not seal")
    return b"".join(fields) + message


def crlf(text):
    return text.replace("\n", "\r\n").encode()


ORIGINAL = """From: Joe <joe@origin.example>
To: list@lists.example
Subject: Dinner
Date: Tue, 14 Nov 2023 22:13:20 +0000
Message-ID: <dinner@origin.example>

Is dinner ready?

Joe.
"""


def fixtures():
    with open(os.path.join(FIXTURES, "rsa.pem"), "rb") as f:
        pem = f.read()
    # Hop 1, relay1.example: receives the message, records SPF, seals it (i=1, cv=none).
    hop1 = crlf("Authentication-Results: relay1.example; spf=pass smtp.mailfrom=origin.example\n"
                + ORIGINAL)
    once = seal(hop1, "relay1.example", "s1", pem, "relay1.example", TIMESTAMP)
    # Hop 2, relay2.example: verifies the chain (arc=pass) and seals again (i=2, cv=pass).
    hop2 = crlf("Authentication-Results: relay2.example; arc=pass smtp.remote-ip=192.0.2.1\n") \
        + once
    twice = seal(hop2, "relay2.example", "s2", pem, "relay2.example", TIMESTAMP + 10)
    # Hop 2 as a mailing list: it tags the subject and adds a footer before sealing, which
    # breaks the AMS of i=1 but not the chain.
    listed = hop2.replace(b"Subject: Dinner", b"Subject: [list] Dinner") \
        + b"--\r\nlist footer\r\n"
    twice_list = seal(listed, "relay2.example", "s2", pem, "relay2.example", TIMESTAMP + 10)
    for name, text in (("sealed_once", once), ("sealed_twice", twice),
                       ("sealed_twice_list", twice_list)):
        with open(os.path.join(FIXTURES, name + ".eml"), "wb") as f:
            f.write(text.replace(b"\r\n", b"\n"))
    records = {"s1._domainkey.relay1.example": key_record(pem),
               "s2._domainkey.relay2.example": key_record(pem)}
    for name, text in (("sealed_once", once), ("sealed_twice", twice),
                       ("sealed_twice_list", twice_list)):
        cv, _, reason = dkim.arc_verify(text, dnsfunc=zone_function(records))
        print(name, cv.decode() if cv else None, reason)


def verify(path, records):
    with open(path, "rb") as f:
        message = f.read()
    zone = {}
    for item in records:
        name, _, txt = item.partition("=")
        zone[name.lower()] = txt.encode()
    cv, _, reason = dkim.arc_verify(message, dnsfunc=zone_function(zone))
    print(cv.decode() if cv else "None", reason)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "fixtures":
        fixtures()
    elif len(sys.argv) >= 3 and sys.argv[1] == "verify":
        verify(sys.argv[2], sys.argv[3:])
    else:
        raise SystemExit("usage: arc_dkimpy.py fixtures | verify FILE NAME=TXT...")
