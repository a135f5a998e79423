#!/usr/bin/python3
# A receiving SMTP server for the relay tests (python3-aiosmtpd): stores every message it accepts
# with its envelope as JSON, logs what arrived in each network read, refuses as told, and can
# advertise and enforce RFC 9422 LIMITS (RCPTMAX: 452 4.5.3; MAILMAX: 421 4.7.0 and close) and
# offer REQUIRETLS (RFC 8689) under TLS.
import argparse
import asyncio
import itertools
import json
import os
import signal
import socketserver
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

connections = itertools.count(1)
messages = itertools.count(1)
lock = threading.Lock()


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f)
    os.rename(tmp, path)


class RecordingSMTP(SMTP):
    """SMTP that numbers its connections and logs the bytes of every read, so a test can see
    whether a client pipelined its commands."""

    def __init__(self, *args, outdir, **kwargs):
        super().__init__(*args, **kwargs)
        self.outdir = outdir
        with lock:
            self.connection_id = next(connections)

    def connection_made(self, transport):
        super().connection_made(transport)
        self.session.connection_id = self.connection_id
        self._log({"event": "connect", "time": time.monotonic()})

    def connection_lost(self, error):
        self._log({"event": "close", "time": time.monotonic()})
        super().connection_lost(error)

    def data_received(self, data):
        self._log({"event": "read", "data": data.decode("latin-1")})
        super().data_received(data)

    def _getparams(self, params):
        # aiosmtpd refuses MAIL parameters it does not know; REQUIRETLS is taken (and kept in
        # the envelope's mail_options) when offered, under TLS only (RFC 8689 section 2).
        result = super()._getparams(params)
        if (result is not None and "REQUIRETLS" in result and self.event_handler.args.requiretls
                and self._tls_protocol):
            del result["REQUIRETLS"]
        return result

    def _log(self, entry):
        entry["connection"] = self.connection_id
        with lock, open(os.path.join(self.outdir, "reads.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


class Handler:
    def __init__(self, args):
        self.args = args
        self.rules = json.loads(args.rules) if args.rules else {}
        # "RCPTMAX=3 MAILMAX=2" -> {"RCPTMAX": 3, "MAILMAX": 2}
        self.limits = {k.upper(): int(v) for k, v in
                       (item.split("=", 1) for item in args.limits.split())}

    def _refuse(self, server, command, reply):
        server._log({"event": "refused", "command": command, "reply": reply})
        return reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.args.ehlo_reply:
            return [self.args.ehlo_reply]
        drop = set(self.args.without or [])
        out = [r for r in responses if r[4:].split(" ")[0].upper() not in drop]
        if self.args.pipelining:
            out.insert(len(out) - 1, "250-PIPELINING")
        if self.args.limits:
            out.insert(len(out) - 1, "250-LIMITS " + self.args.limits)
        if self.args.requiretls and server._tls_protocol:
            out.insert(len(out) - 1, "250-REQUIRETLS")
        return out

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        session.mail_count = getattr(session, "mail_count", 0) + 1
        if "MAILMAX" in self.limits and session.mail_count > self.limits["MAILMAX"]:
            asyncio.get_running_loop().call_soon(server.transport.close)
            return self._refuse(server, "MAIL", "421 4.7.0 Too many transactions")
        reply = self.rules.get("mail", {}).get(address.lower())
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "RCPTMAX" in self.limits and len(envelope.rcpt_tos) >= self.limits["RCPTMAX"]:
            return self._refuse(server, "RCPT", "452 4.5.3 Too many recipients")
        reply = self.rules.get("rcpt", {}).get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.delay_data:
            await asyncio.sleep(self.args.delay_data)
        reply = self.rules.get("data")
        if reply:
            return reply
        with lock:
            n = next(messages)
        name = os.path.join(self.args.dir, f"msg{n:06d}")
        with open(name + ".eml", "wb") as f:
            f.write(envelope.original_content)
        write_json(name + ".json", {
            "connection": session.connection_id,
            "helo": session.host_name,
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "rcpt_tos": envelope.rcpt_tos,
            "rcpt_options": envelope.rcpt_options,
            "size": len(envelope.original_content),
        })
        return f"250 2.0.0 OK queued as msg{n:06d}"


class PeerController(Controller):
    def __init__(self, handler, outdir, **kwargs):
        self.outdir = outdir
        super().__init__(handler, **kwargs)

    def factory(self):
        return RecordingSMTP(self.handler, outdir=self.outdir, **self.SMTP_kwargs)


class RefusingHandler(socketserver.BaseRequestHandler):
    """A server that answers every connection with one greeting line and hangs up."""

    def handle(self):
        self.request.sendall(self.server.greeting.encode() + b"\r\n")


def tls_context(args):
    """The server context for STARTTLS, or None when the peer does not offer it."""
    if not args.tls_cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)

    def server_name(sock, name, context):
        # The name the client asked for (SNI), "" for none: one line per handshake.
        with lock, open(os.path.join(args.dir, "sni.txt"), "a", encoding="utf-8") as f:
            f.write((name or "") + "\n")
    ctx.sni_callback = server_name
    if args.tls_max:
        # An old server: older protocols need OpenSSL's security level 0 to be offered at all.
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = {"1.1": ssl.TLSVersion.TLSv1_1, "1.2": ssl.TLSVersion.TLSv1_2,
                               "1.3": ssl.TLSVersion.TLSv1_3}[args.tls_max]
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True, help="where messages and reads.jsonl go")
    parser.add_argument("--rules", default="", help='JSON: {"mail": {addr: reply}, '
                        '"rcpt": {addr: reply}, "data": reply}')
    parser.add_argument("--pipelining", action="store_true", help="offer PIPELINING")
    parser.add_argument("--without", action="append", help="EHLO keyword not to offer")
    parser.add_argument("--size", type=int, default=33554432, help="SIZE limit offered")
    parser.add_argument("--ehlo-reply", default="", help="answer EHLO with this line")
    parser.add_argument("--greeting", default="", help="greet with this line and hang up")
    parser.add_argument("--delay-data", type=float, default=0,
                        help="seconds to wait before answering the end of data")
    parser.add_argument("--tls-cert", default="", help="offer STARTTLS with this PEM chain")
    parser.add_argument("--tls-key", default="", help="the key of --tls-cert")
    parser.add_argument("--tls-max", default="", help="highest TLS version offered: 1.1, 1.2, 1.3")
    parser.add_argument("--requiretls", action="store_true",
                        help="offer REQUIRETLS (RFC 8689) in the EHLO reply under TLS")
    parser.add_argument("--limits", default="",
                        help='advertise "LIMITS <this>" (RFC 9422), e.g. "RCPTMAX=3 MAILMAX=2", '
                        "and enforce its RCPTMAX and MAILMAX")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.greeting:
        family = socketserver.TCPServer
        server = family((args.host, args.port), RefusingHandler, bind_and_activate=False)
        server.allow_reuse_address = True
        server.server_bind()
        server.server_activate()
        server.greeting = args.greeting
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print("ready", flush=True)
        stop.wait()
        server.shutdown()
        return 0
    controller = PeerController(Handler(args), args.dir, hostname=args.host, port=args.port,
                                data_size_limit=args.size, enable_SMTPUTF8=True,
                                decode_data=False, server_hostname=f"peer-{args.port}.test",
                                tls_context=tls_context(args))
    controller.start()
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
