#!/usr/bin/python3
# A small authoritative DNS server for the integration tests (python3-dnslib): serves one zone
# file (or a JSON list of records, for names and data zone files cannot spell) over UDP and TCP
# on a loopback address; names under --drop are never answered.
import argparse
import json
import os
import signal
import sys
import threading

from dnslib import A, AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, SOA, TXT, DNSLabel
from dnslib.dns import DNSError
from dnslib.server import BaseResolver, DNSLogger, DNSServer


def norm(name):
    return str(name).lower().rstrip(".")


def label(name):
    """A DNSLabel from text taken octet for octet (latin-1), so any octet may stand in a name."""
    return DNSLabel(name.encode("latin-1"))


def records_from_json(entries):
    """RRs from [name, type, value] entries: A/AAAA "ip", MX [preference, "host"], PTR/CNAME
    "host", TXT "text" or ["string", ...] (latin-1 octets, split at 255; [] is one empty
    string, as no TXT record can have none); type TIMEOUT marks
    a name whose questions go unanswered unless it has records of the type asked. Returns
    (records, names that time out)."""
    records, timeouts = [], set()
    for name, rtype, value in entries:
        owner = label(name)
        if rtype == "TIMEOUT":
            timeouts.add(norm(owner))
        elif rtype == "A":
            records.append(RR(owner, QTYPE.A, rdata=A(value), ttl=60))
        elif rtype == "AAAA":
            records.append(RR(owner, QTYPE.AAAA, rdata=AAAA(value), ttl=60))
        elif rtype == "MX":
            records.append(RR(owner, QTYPE.MX, rdata=MX(label(value[1]), value[0]), ttl=60))
        elif rtype == "PTR":
            records.append(RR(owner, QTYPE.PTR, rdata=PTR(label(value)), ttl=60))
        elif rtype == "CNAME":
            records.append(RR(owner, QTYPE.CNAME, rdata=CNAME(label(value)), ttl=60))
        elif rtype == "TXT":
            strings = [value] if isinstance(value, str) else value
            octets = []
            for text in strings:
                data = text.encode("latin-1")
                octets += [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
            # A TXT record holds one string or more (RFC 1035 3.3.14): resolvers refuse an
            # empty rdata as malformed, so a record of no strings is served as one empty string.
            records.append(RR(owner, QTYPE.TXT, rdata=TXT(octets or [b""]), ttl=60))
        else:
            raise ValueError(f"unknown record type {rtype}")
    return records, timeouts


class ZoneResolver(BaseResolver):
    """Answers from the zone's records: CNAMEs are followed, unknown names are NXDOMAIN, and
    negative answers carry the zone's SOA so that resolvers can cache them correctly."""

    def __init__(self, records, drop, servfail, timeouts=()):
        self.records = records
        self.soa = [rr for rr in self.records if rr.rtype == QTYPE.SOA]
        if not self.soa:  # negative answers still carry one (RFC 2308)
            self.soa = [RR(DNSLabel([]), QTYPE.SOA, ttl=60,
                           rdata=SOA("ns.invalid.", "hostmaster.invalid.", (1, 3600, 600, 86400, 60)))]
        self.timeouts = set(timeouts)
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
        if qname in self.timeouts and not any(
                norm(rr.rname) == qname and rr.rtype == qtype for rr in self.records):
            raise DNSError(f"timing out the query for {qname}")
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
    parser.add_argument("--zone", help="zone file in RFC 1035 text form")
    parser.add_argument("--records", help="JSON list of [name, type, value] (see records_from_json)")
    parser.add_argument("--drop", action="append", default=[], help="names never answered")
    parser.add_argument("--servfail", action="append", default=[], help="names answered SERVFAIL")
    args = parser.parse_args()
    records, timeouts = [], set()
    if args.zone:
        with open(args.zone, encoding="utf-8") as f:
            records += RR.fromZone(f.read())
    if args.records:
        with open(args.records, encoding="utf-8") as f:
            more, timeouts = records_from_json(json.load(f))
            records += more
    resolver = ZoneResolver(records, args.drop, args.servfail, timeouts)
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
