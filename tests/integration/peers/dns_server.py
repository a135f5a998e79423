#!/usr/bin/python3
# A small authoritative DNS server for the integration tests (python3-dnslib): serves one zone
# file over UDP and TCP on a loopback address; names under --drop are never answered.
import argparse
import os
import signal
import sys
import threading

from dnslib import QTYPE, RCODE, RR
from dnslib.dns import DNSError
from dnslib.server import BaseResolver, DNSLogger, DNSServer


def norm(name):
    return str(name).lower().rstrip(".")


class ZoneResolver(BaseResolver):
    """Answers from the zone's records: CNAMEs are followed, unknown names are NXDOMAIN, and
    negative answers carry the zone's SOA so that resolvers can cache them correctly."""

    def __init__(self, zone_text, drop, servfail):
        self.records = RR.fromZone(zone_text)
        self.soa = [rr for rr in self.records if rr.rtype == QTYPE.SOA]
        self.drop = [norm(d) for d in drop]
        self.servfail = [norm(d) for d in servfail]

    def resolve(self, request, handler):
        qname = norm(request.q.qname)
        if any(qname == d or qname.endswith("." + d) for d in self.drop):
            raise DNSError(f"dropping the query for {qname}")  # the handler sends nothing
        reply = request.reply()
        if any(qname == d or qname.endswith("." + d) for d in self.servfail):
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        reply.header.aa = 1
        qtype = request.q.qtype
        name = qname
        for _ in range(8):
            owned = [rr for rr in self.records if norm(rr.rname) == name]
            if not owned:
                # An ancestor of an existing name (an empty non-terminal, RFC 8020) exists.
                exists = any(norm(rr.rname).endswith("." + name) for rr in self.records)
                if name == qname and not exists:
                    reply.header.rcode = RCODE.NXDOMAIN
                break
            cname = [rr for rr in owned if rr.rtype == QTYPE.CNAME]
            if cname and qtype != QTYPE.CNAME:
                reply.add_answer(cname[0])
                name = norm(cname[0].rdata.label)
                continue
            for rr in owned:
                if rr.rtype == qtype or qtype == QTYPE.ANY:
                    reply.add_answer(rr)
            break
        if not reply.rr:
            for rr in self.soa:
                reply.add_auth(rr)
        return reply


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--zone", required=True, help="zone file in RFC 1035 text form")
    parser.add_argument("--drop", action="append", default=[], help="names never answered")
    parser.add_argument("--servfail", action="append", default=[], help="names answered SERVFAIL")
    args = parser.parse_args()
    with open(args.zone, encoding="utf-8") as f:
        resolver = ZoneResolver(f.read(), args.drop, args.servfail)
    logger = DNSLogger(log=os.environ.get("DNS_LOG", "-recv,-send,-request,-reply,-truncated,-data"), prefix=False)
    servers = [DNSServer(resolver, address=args.address, port=args.port, tcp=tcp, logger=logger)
               for tcp in (False, True)]
    for s in servers:
        s.start_thread()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    for s in servers:
        s.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
