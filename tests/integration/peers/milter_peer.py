# A scriptable milter for the integration tests, on Debian's python3-milter (pymilter, built on
# Sendmail's libmilter): `milter_peer.py PORT MODE RECORD` answers every message as MODE says and
# writes what it saw (macros, envelope, headers, body size) to the JSON file RECORD.
import json
import sys

import Milter

PORT, MODE, RECORD = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Peer(Milter.Base):
    def __init__(self):
        self.seen = {"macros": {}, "headers": [], "rcpt": [], "body": 0}

    def macro(self, name):
        value = self.getsymval(name)
        if value is not None:
            self.seen["macros"][name] = value

    def connect(self, hostname, family, hostaddr):
        self.seen["hostname"] = hostname
        self.seen["hostaddr"] = list(hostaddr) if isinstance(hostaddr, tuple) else hostaddr
        for m in ("j", "{daemon_name}", "_", "{client_addr}", "{client_name}"):
            self.macro(m)
        return Milter.CONTINUE

    def hello(self, name):
        self.seen["helo"] = name
        self.macro("{tls_version}")
        return Milter.CONTINUE

    def envfrom(self, sender, *params):
        self.seen["from"] = sender
        self.seen["from_params"] = list(params)
        for m in ("i", "{mail_addr}", "{auth_authen}"):
            self.macro(m)
        return Milter.CONTINUE

    def envrcpt(self, rcpt, *params):
        self.seen["rcpt"].append(rcpt)
        self.macro("{rcpt_addr}")
        if MODE == "refuse-bob" and rcpt == "<bob@localhost>":
            return Milter.REJECT
        return Milter.CONTINUE

    def header(self, name, value):
        self.seen["headers"].append([name, value])
        return Milter.CONTINUE

    def body(self, chunk):
        self.seen["body"] += len(chunk)
        self.seen.setdefault("body_text", "")
        self.seen["body_text"] += chunk.decode("latin-1")
        return Milter.CONTINUE

    def eom(self):
        with open(RECORD, "w") as f:
            json.dump(self.seen, f)
        if MODE == "reject":
            return Milter.REJECT
        if MODE == "tempfail":
            return Milter.TEMPFAIL
        if MODE == "reply":
            self.setreply("554", "5.7.0", "Custom refusal from the filter")
            return Milter.REJECT
        if MODE == "reply4":
            self.setreply("453", "4.7.0", "Come back later says the filter")
            return Milter.TEMPFAIL
        if MODE == "discard":
            return Milter.DISCARD
        if MODE == "quarantine":
            self.quarantine("looks suspicious")
            return Milter.ACCEPT
        if MODE == "chgfrom":
            self.chgfrom("<changed@example.net>")
            return Milter.ACCEPT
        if MODE == "chgfrom-args":
            self.chgfrom("<changed@example.net>", "RET=HDRS ENVID=milter-envid")
            return Milter.ACCEPT
        if MODE == "addrcpt-local":
            self.addrcpt("<bob@localhost>")
            return Milter.ACCEPT
        if MODE == "addrcpt-remote":
            self.addrcpt("<carol@remote.test>")
            return Milter.ACCEPT
        if MODE == "addrcpt-par":
            self.addrcpt("<carol@remote.test>", "NOTIFY=NEVER ORCPT=rfc822;first@remote.test")
            return Milter.ACCEPT
        if MODE == "addrcpt-invalid":
            self.addrcpt("<nosuchuser@localhost>")
            self.addrcpt("<not an address>")
            self.addrcpt("<bob@localhost>")
            return Milter.ACCEPT
        if MODE == "delrcpt-bob":
            self.delrcpt("bob@LOCALHOST")  # no brackets, the domain in another case
            return Milter.ACCEPT
        if MODE == "delrcpt-all":
            for rcpt in self.seen["rcpt"]:
                self.delrcpt(rcpt.strip("<>"))
            return Milter.ACCEPT
        if MODE == "replbody":
            self.replacebody(b"Replaced by the filter.\nSecond line.\r\n")
            return Milter.ACCEPT
        if MODE == "replbody-large":
            # Three calls of more than one milter chunk (65535 octets) each.
            for n in range(3):
                self.replacebody(b"".join(b"%d-%05d %s\r\n" % (n, i, b"x" * 60)
                                          for i in range(1200)))
            return Milter.ACCEPT
        if MODE == "replbody-headers":
            self.replacebody(b"A new body.\r\n")
            self.addheader("X-Milter-Added", "appended at the end")
            self.chgheader("Subject", 1, "Changed by the filter")
            return Milter.ACCEPT
        if MODE == "replbody-huge":
            self.replacebody(b"y" * 5000 + b"\r\n")
            return Milter.ACCEPT
        if MODE == "everything":
            # Every change at once, for a chain (the next milter sees them) and a restart.
            self.chgfrom("<changed@example.net>")
            self.addrcpt("<bob@localhost>")
            self.replacebody(b"Body from the first filter.\r\n")
            self.chgheader("Subject", 1, "Changed by the filter")
            return Milter.ACCEPT
        if MODE == "everything-held":
            self.addrcpt("<bob@localhost>")
            self.replacebody(b"Body from the first filter.\r\n")
            self.quarantine("held with its changes")
            return Milter.ACCEPT
        if MODE == "headers":
            self.addheader("X-Milter-Added", "appended at the end")
            self.addheader("X-Milter-Top", "inserted on top", 0)
            self.chgheader("Subject", 1, "Changed by the filter")
            self.chgheader("X-Remove-Me", 1, "")
            return Milter.ACCEPT
        return Milter.CONTINUE


def main():
    Milter.factory = Peer
    Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.QUARANTINE | Milter.CHGBODY |
                     Milter.ADDRCPT | Milter.ADDRCPT_PAR | Milter.DELRCPT | Milter.CHGFROM)
    Milter.runmilter("tern-test", f"inet:{PORT}@127.0.0.1", 60)


if __name__ == "__main__":
    main()
