#!/usr/bin/python3
# An HTTPS server for the MTA-STS tests (RFC 8461 3.3): answers GET /.well-known/mta-sts.txt
# with the file <dir>/<Host header> as text/plain, 404 when there is none; one certificate for
# every policy host it stands in for. Logs each request so a test can count fetches.
import argparse
import http.server
import os
import signal
import ssl
import sys
import threading

POLICY_PATH = "/.well-known/mta-sts.txt"


class PolicyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = os.path.join(self.server.policy_dir, host)
        sys.stdout.write(f"GET {host} {self.path}\n")
        sys.stdout.flush()
        if self.path != POLICY_PATH or "/" in host or not host or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--cert", required=True, help="PEM chain")
    parser.add_argument("--key", required=True)
    parser.add_argument("--dir", required=True, help="one policy file per host name")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer((args.address, args.port), PolicyHandler)
    server.policy_dir = args.dir
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
