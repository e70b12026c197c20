#!/usr/bin/env python3
"""dnsserver.py - tiny authoritative DNS server for xmppsend's tests.

Answers UDP and TCP queries on --addr:--port (default 127.0.0.1:53; glibc's
resolver only ever talks to port 53, so the tests run it inside a private
network namespace, see in_netns.bash) from a small table given on the
command line and/or in a JSON file.  Python 3 standard library only.

  dnsserver.py [--addr A] [--port P] [--log FILE] [--ready-file FILE]
               [--max-seconds S] [--silent] [--truncate] [--zone FILE]
               [--srv NAME PRIO WEIGHT PORT TARGET]... [--a NAME ADDR]...
               [--aaaa NAME ADDR]... [--nodata NAME]...
               [--rcode NAME RCODE]...

Table semantics (names compare case-insensitively, a trailing dot is
ignored):
  - a name in the table answers NOERROR with its records of the queried
    type (none: an empty answer, "NODATA");
  - a name with --rcode answers that code (NXDOMAIN, SERVFAIL, REFUSED or
    a number) and no records; "SILENT" logs its queries and never
    answers them;
  - any other name answers NXDOMAIN.
An SRV TARGET of "." is the root name (RFC 2782: service not offered).
A PORT of "@FILE" is read from the first line of FILE whenever the record
is served (for servers that pick their port at start-up); an unreadable
FILE makes the answer SERVFAIL.

--zone FILE is JSON: {"NAME": {"SRV": [[prio, weight, port, "target"]],
"A": ["127.0.0.1"], "AAAA": ["::1"], "rcode": "NXDOMAIN"}, ...}; it is
read again for every query, so a test may write it after starting the
server.

--silent   read and log queries, never answer (a dead resolver)
--truncate answer UDP queries with TC=1 and no records, so that clients
           must repeat the query over TCP (UDP answers over 512 bytes are
           truncated in any case; EDNS is ignored)

--log FILE gets one line per query: "PROTO NAME TYPE -> RESULT", e.g.
"udp _xmpp-client._tcp.localhost SRV -> NOERROR 1"; NAME is exactly as
received (no trailing dot).  --ready-file is written (atomically) once
the sockets are bound.  The server exits after --max-seconds (default
30) or on SIGTERM.
"""

import argparse
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX",
         16: "TXT", 28: "AAAA", 33: "SRV", 41: "OPT", 255: "ANY"}
TYPE_NUM = {v: k for k, v in TYPES.items()}
RCODES = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3,
          "NOTIMP": 4, "REFUSED": 5}
RCODE_NAME = {v: k for k, v in RCODES.items()}
TTL = 60


class BadQuery(Exception):
    pass


def norm(name):
    name = name.lower()
    return name[:-1] if name.endswith(".") and name != "." else name


def encode_name(name):
    if name in (".", ""):
        return b"\0"
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError("bad label in %r" % name)
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def decode_name(msg, pos):
    """Return (name, position after the name); follows pointers."""
    labels = []
    end = None
    hops = 0
    while True:
        if pos >= len(msg):
            raise BadQuery("name runs past the end")
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            if pos + 1 >= len(msg) or hops > 16:
                raise BadQuery("bad compression pointer")
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | msg[pos + 1]
            hops += 1
            continue
        if n & 0xC0:
            raise BadQuery("bad label type")
        pos += 1
        if n == 0:
            break
        labels.append(msg[pos:pos + n].decode("ascii", "backslashreplace"))
        pos += n
    return ".".join(labels) or ".", end if end is not None else pos


class Zone:
    def __init__(self, opts):
        self.opts = opts
        self.static = {}
        for name, prio, weight, port, target in opts.srv or []:
            self.entry(name).setdefault("SRV", []).append(
                [int(prio), int(weight), port, target])
        for name, addr in opts.a or []:
            self.entry(name).setdefault("A", []).append(addr)
        for name, addr in opts.aaaa or []:
            self.entry(name).setdefault("AAAA", []).append(addr)
        for name in opts.nodata or []:
            self.entry(name)
        for name, code in opts.rcode or []:
            self.entry(name)["rcode"] = code

    def entry(self, name):
        return self.static.setdefault(norm(name), {})

    def lookup(self, name):
        """The table entry for name, or None."""
        table = dict(self.static)
        if self.opts.zone:
            with open(self.opts.zone, encoding="utf-8") as f:
                for k, v in json.load(f).items():
                    table[norm(k)] = v
        return table.get(norm(name))


def port_of(value):
    if isinstance(value, str) and value.startswith("@"):
        with open(value[1:], encoding="ascii") as f:
            value = f.readline().strip()
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError("port out of range")
    return port


def rdata(qtype, value):
    if qtype == "A":
        return ipaddress.IPv4Address(value).packed
    if qtype == "AAAA":
        return ipaddress.IPv6Address(value).packed
    prio, weight, port, target = value
    return struct.pack("!HHH", int(prio), int(weight), port_of(port)) + \
        encode_name(target)


def answer(zone, query):
    """Return (response, log text, truncated response) for one query."""
    if len(query) < 12:
        raise BadQuery("short message")
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qd != 1:
        raise BadQuery("not a single-question query")
    name, pos = decode_name(query, 12)
    if pos + 4 > len(query):
        raise BadQuery("truncated question")
    qtype, qclass = struct.unpack("!HH", query[pos:pos + 4])
    question = query[12:pos + 4]
    tname = TYPES.get(qtype, str(qtype))
    records = []
    entry = zone.lookup(name)
    try:
        if entry is None:
            rcode = RCODES["NXDOMAIN"]
        elif "rcode" in entry:
            code = str(entry["rcode"]).upper()
            if code == "SILENT":
                return None, "%s %s -> (silent)" % (name, tname), None
            rcode = RCODES[code] if code in RCODES else int(code)
        else:
            rcode = 0
            if qclass in (1, 255):
                types = ["A", "AAAA", "SRV"] if tname == "ANY" else [tname]
                for t in types:
                    for value in entry.get(t, []):
                        records.append((TYPE_NUM[t], rdata(t, value)))
    except (OSError, ValueError) as e:
        rcode, records = RCODES["SERVFAIL"], []
        tname += " (%s)" % e
    # QR, opcode and RD copied, AA, RA
    rflags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | (rcode & 0xF)
    body = b""
    for rtype, data in records:
        # the owner name points back at the question (offset 12)
        body += struct.pack("!HHHIH", 0xC00C, rtype, 1, TTL, len(data)) + data
    head = struct.pack("!HHHHHH", qid, rflags, 1, len(records), 0, 0)
    text = "%s %s -> %s %d" % (name, tname, RCODE_NAME.get(rcode, rcode),
                               len(records))
    # the same without records and with TC set, for UDP
    short = struct.pack("!HHHHHH", qid, rflags | 0x0200, 1, 0, 0, 0)
    return head + question + body, text, short + question


class Server:
    def __init__(self, opts):
        self.opts = opts
        self.zone = Zone(opts)
        self.deadline = time.monotonic() + opts.max_seconds
        self.lock = threading.Lock()
        self.logf = open(opts.log, "a", encoding="utf-8") if opts.log else None

    def log(self, text):
        with self.lock:
            if self.logf:
                self.logf.write(text + "\n")
                self.logf.flush()

    def handle(self, proto, msg):
        """The response to msg (None: do not answer)."""
        try:
            if self.opts.silent:
                name, pos = decode_name(msg, 12)
                qtype = struct.unpack("!H", msg[pos:pos + 2])[0]
                self.log("%s %s %s -> (silent)" %
                         (proto, name, TYPES.get(qtype, str(qtype))))
                return None
            resp, text, short = answer(self.zone, msg)
            if resp is not None and proto == "udp" and \
                    (self.opts.truncate or len(resp) > 512):
                self.log("%s %s (truncated)" % (proto, text))
                return short
            self.log("%s %s" % (proto, text))
            return resp
        except (BadQuery, struct.error, IndexError) as e:
            self.log("%s bad query: %s" % (proto, e))
            return None

    def serve_tcp(self, conn):
        conn.settimeout(max(self.deadline - time.monotonic(), 0.01))
        buf = b""
        try:
            while True:
                while len(buf) >= 2 and len(buf) >= 2 + \
                        struct.unpack("!H", buf[:2])[0]:
                    n = struct.unpack("!H", buf[:2])[0]
                    msg, buf = buf[2:2 + n], buf[2 + n:]
                    resp = self.handle("tcp", msg)
                    if resp is not None:
                        conn.sendall(struct.pack("!H", len(resp)) + resp)
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
        except OSError:
            pass
        finally:
            conn.close()

    def run(self):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((self.opts.addr, self.opts.port))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind((self.opts.addr, self.opts.port))
        tcp.listen(8)
        if self.opts.ready_file:
            tmp = self.opts.ready_file + ".tmp"
            with open(tmp, "w", encoding="ascii") as f:
                f.write("%d\n" % udp.getsockname()[1])
            os.replace(tmp, self.opts.ready_file)
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([udp, tcp], [], [], left)
            if udp in ready:
                msg, peer = udp.recvfrom(65535)
                resp = self.handle("udp", msg)
                if resp is not None:
                    udp.sendto(resp, peer)
            if tcp in ready:
                conn, _ = tcp.accept()
                threading.Thread(target=self.serve_tcp, args=(conn,),
                                 daemon=True).start()
        return 0


def main():
    ap = argparse.ArgumentParser(description="tiny DNS server for tests")
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--log")
    ap.add_argument("--ready-file")
    ap.add_argument("--max-seconds", type=float, default=30.0)
    ap.add_argument("--silent", action="store_true")
    ap.add_argument("--truncate", action="store_true")
    ap.add_argument("--zone")
    ap.add_argument("--srv", nargs=5, action="append",
                    metavar=("NAME", "PRIO", "WEIGHT", "PORT", "TARGET"))
    ap.add_argument("--a", nargs=2, action="append", metavar=("NAME", "ADDR"))
    ap.add_argument("--aaaa", nargs=2, action="append",
                    metavar=("NAME", "ADDR"))
    ap.add_argument("--nodata", action="append", metavar="NAME")
    ap.add_argument("--rcode", nargs=2, action="append",
                    metavar=("NAME", "RCODE"))
    opts = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server = Server(opts)
        for entry in server.zone.static.values():  # fail early on typos
            for t in ("A", "AAAA", "SRV"):
                for value in entry.get(t, []):
                    if t == "SRV" and str(value[2]).startswith("@"):
                        value = value[:2] + [0] + value[3:]
                    rdata(t, value)
    except (OSError, ValueError) as e:
        print("dnsserver: %s" % e, file=sys.stderr)
        return 2
    return server.run()


if __name__ == "__main__":
    sys.exit(main())
