#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""relay.py - a TCP relay on 127.0.0.1 between xmppsend and a real server,
to break a connection the way a network does, without the server knowing.

    relay.py --to PORT --port-file FILE [--max-seconds N]

It listens on a free loopback port (written to FILE once it listens,
followed by its own process id, for signals: "PORT PID") and
forwards every connection to 127.0.0.1:PORT, both ways, byte for byte
(TLS passes through untouched).  Signals:

    SIGUSR1  every connection open now goes deaf: what the server sends
             is read and dropped, what the client sends still reaches
             the server (a reply lost on the way back).  Connections
             made later are forwarded normally.

When either side closes, the relay closes the other.  It prints one line
per event on standard error ("accept N", "deaf N", "closed N").  It exits
after --max-seconds (default 600) or on SIGTERM.
"""
import argparse
import os
import selectors
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", type=int, required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--max-seconds", type=float, default=600)
    a = ap.parse_args()

    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, None)

    conns = {}  # number -> [client, server, deaf]
    state = {"next": 1, "deafen": False, "stop": False}

    def on_usr1(_sig, _frm):
        state["deafen"] = True

    def on_term(_sig, _frm):
        state["stop"] = True

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)

    with open(a.port_file + ".new", "w") as f:
        f.write("%d %d\n" % (lsock.getsockname()[1], os.getpid()))
    os.rename(a.port_file + ".new", a.port_file)

    def log(text):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(n):
        c = conns.pop(n, None)
        if c is None:
            return
        for s in c[:2]:
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
        log("closed %d" % n)

    end = time.monotonic() + a.max_seconds
    while not state["stop"] and time.monotonic() < end:
        if state["deafen"]:
            state["deafen"] = False
            for n, c in conns.items():
                c[2] = True
                log("deaf %d" % n)
        for key, _ev in sel.select(timeout=0.2):
            if key.data is None:
                try:
                    cl, _ = lsock.accept()
                except OSError:
                    continue
                sv = socket.create_connection(("127.0.0.1", a.to), timeout=10)
                n = state["next"]
                state["next"] += 1
                conns[n] = [cl, sv, False]
                for s in (cl, sv):
                    s.setblocking(False)
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sel.register(cl, selectors.EVENT_READ, (n, 0))
                sel.register(sv, selectors.EVENT_READ, (n, 1))
                log("accept %d" % n)
                continue
            n, side = key.data
            c = conns.get(n)
            if c is None:
                continue
            try:
                data = c[side].recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                close(n)
                continue
            if side == 1 and c[2]:
                continue  # deaf: the server's bytes are dropped
            try:
                c[1 - side].setblocking(True)
                c[1 - side].sendall(data)
                c[1 - side].setblocking(False)
            except OSError:
                close(n)
    for n in list(conns):
        close(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
