#!/usr/bin/env python3
r"""httpsfake.py - scripted (and hostile) HTTPS server for xmppsend's
XEP-0363 upload tests.

Listens on 127.0.0.1, port 0, with the certificate CERT-DIR/localhost.crt
and .key; writes the port to --port-file (atomically); serves requests
until --max-seconds have passed, then exits.  Python 3 standard library
only.

  httpsfake.py --mode MODE --port-file FILE --cert-dir DIR [--log FILE]
               [--max-seconds S]

Modes (the answer to every request):
  ok            read the body, answer 201 Created
  status:N      read the body, answer with status N
  redirect      answer 302 with a Location on this server
  huge-headers  answer 201 with 40 KiB of headers
  hang          read the request line and headers, then never answer

--log gets, per request, "request METHOD PATH", one "header NAME: VALUE"
line per header as received, and "body N SHA256" once the body is read.
"""

import argparse
import hashlib
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: our own log below
        pass

    def note(self, line):
        if self.server.logf:
            self.server.logf.write(line + "\n")
            self.server.logf.flush()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        h = hashlib.sha256()
        left = n
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        self.note("body %d %s" % (n - left, h.hexdigest()))

    def answer(self, status, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self):
        self.note("request PUT %s" % self.path)
        # raw header lines, as received (injected ones would show here)
        for k, v in self.headers.items():
            self.note("header %s: %s" % (k, v))
        mode = self.server.mode
        if mode == "hang":
            time.sleep(self.server.deadline - time.monotonic())
            return
        if mode == "redirect":
            self.answer(302, [("Location", "https://localhost:%d/elsewhere"
                               % self.server.server_port)])
            return
        self.read_body()
        if mode == "ok":
            self.answer(201)
        elif mode.startswith("status:"):
            self.answer(int(mode[7:]))
        elif mode == "huge-headers":
            self.answer(201, [("X-Filler-%d" % i, "x" * 1000)
                              for i in range(40)])
        else:
            self.answer(500)

    do_GET = do_PUT


def main():
    ap = argparse.ArgumentParser(description="scripted fake HTTPS server")
    ap.add_argument("--mode", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--cert-dir", required=True)
    ap.add_argument("--log")
    ap.add_argument("--max-seconds", type=float, default=30.0)
    opts = ap.parse_args()

    srv = HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(opts.cert_dir, "localhost.crt"),
                        os.path.join(opts.cert_dir, "localhost.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.mode = opts.mode
    srv.deadline = time.monotonic() + opts.max_seconds
    srv.logf = open(opts.log, "a", encoding="utf-8") if opts.log else None
    srv.timeout = 0.2

    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_port)
    os.replace(tmp, opts.port_file)

    # The whole life is bounded, even a handler that hangs.
    t = threading.Timer(opts.max_seconds, lambda: os._exit(0))
    t.daemon = True
    t.start()
    while time.monotonic() < srv.deadline:
        try:
            srv.handle_request()
        except (OSError, ssl.SSLError, socket.timeout):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
