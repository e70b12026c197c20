#!/usr/bin/env python3
r"""fakeserver.py - scripted (and hostile) XMPP server for xmppsend's tests.

Listens on 127.0.0.1, port 0; writes the chosen port to --port-file
(atomically), serves --connections sequential connections (default 1), each
running the whole scenario, then exits.  Its whole life is bounded by
--max-seconds.  Python 3 standard library only.

  fakeserver.py --scenario FILE --port-file FILE [--transcript FILE]
                [--log FILE] [--cert-dir DIR] [--user NAME]
                [--password-file FILE] [--connections N] [--max-seconds S]

--transcript receives every byte the client sent (after TLS decryption).
--log receives one line per step, "violation: ..." for client behaviour the
scenario can detect itself (e.g. a SCRAM proof after an invalid
server-first), and a last line "result: complete ..." or "result: stopped
at FILE:LINE: REASON".  Exit status: 0 when the script completed without
violations, 1 otherwise, 2 for a bad scenario or command line.

Scenario format: one step per line; blank lines and lines starting with
'#' are ignored ('# key: value' headers are read by run_scenario.bash).
TEXT arguments undergo expansion: ${NAME} variables and the escapes \n
\r \t \\ \xHH (\x80..\xff give single raw bytes).  RE arguments are
Python regular expressions on bytes (DOTALL); ${NAME} is replaced by the
escaped variable value (or, for set-re variables, inserted as is).

  include FILE        the steps of FILE (relative to the including file)
  set NAME TEXT       define ${NAME}; predefined: sid, user, domain and
                      those of --set NAME=VALUE
  set-re NAME RE      define ${NAME} as a regular expression: inserted
                      as is into RE arguments (other variables are
                      escaped there)
  timeout S           per-step timeout of later expect/starttls/plain/scram
                      steps (default 10)
  expect RE           read until RE matches the unconsumed client input,
                      consume up to the end of the match; named groups
                      (?P<name>...) become variables
  expect-none RE S    read for S seconds; a match of RE is a violation
  silence [S]         read without sending, for S seconds or until the
                      client closes (default: until it closes or the
                      deadline passes)
  sleep S             pause without reading
  send TEXT           send TEXT
  send-late TEXT      send TEXT unless the client has already gone: a
                      failed send is only noted (for our answer to the
                      client's </stream:stream>: it need not wait for it)
  send-b64 B64        send the decoded bytes
  send-repeat N TEXT  send TEXT N times (streamed in 64 KiB pieces);
                      ${i} in TEXT numbers the copies from 0
  slow BPS TEXT       send TEXT at BPS bytes per second
  starttls CERT [tls1.1|tls1.2] [client-cert] [alpn] [p256]
                      TLS server handshake with CERT.crt and CERT.key
                      from --cert-dir; tls1.1 allows TLS 1.1 only, tls1.2
                      nothing above TLS 1.2; p256: no key exchange group
                      but secp256r1 (a client whose ClientHello has only
                      an X25519 key share gets a HelloRetryRequest);
                      client-cert asks for a client
                      certificate signed by ca.crt beside CERT (for the
                      external step); the server accepts ALPN xmpp-client
                      and logs what the client offered; with alpn, a
                      client that did not offer it is a violation (XEP-0368
                      direct TLS: as the first step of a scenario)
  plain               read <auth mechanism='PLAIN'>, check the
                      credentials, answer <success/> or <failure/>
  scram [KEY=VALUE...]
                      read <auth mechanism='SCRAM-SHA-*'>, act as a SCRAM
                      server (SHA-1, -256, -512, each also -PLUS) and check
                      the client proof.  With -PLUS the client must send
                      p=TYPE, and c= must carry the channel-binding data,
                      computed here without GnuTLS: tls-server-end-point
                      (SHA-256 of the certificate of the last starttls,
                      whose signature uses SHA-256), tls-exporter
                      (OpenSSL's SSL_export_keying_material, RFC 9266),
                      tls-unique (Python's own, TLS 1.2).
                      Keys (defaults first):
        iter=4096     iteration count (any text; sent as is)
        salt=random   base64 salt sent as is ("salt=" sends it empty)
        nonce=extend  extend: ours = client nonce + server part
                      same: the client nonce only; replace: unrelated;
                      truncate: client nonce minus 2 chars + server part
        ext=TEXT      append ",TEXT" to server-first
        first=TEXT    send TEXT as server-first (${cnonce} available)
        challenge=B64 send this raw challenge payload instead
        final=correct correct: <success>v=</success>; wrong: bad v=;
                      missing: <success/> with no data; challenge: v= in a
                      <challenge>, then <success/> after the empty
                      <response/>; challenge-wrong: bad v= in a
                      <challenge>; e=TEXT: <success>e=TEXT</success>;
                      challenge-e=TEXT: e=TEXT in a <challenge>;
                      failure=COND: <failure><COND/></failure>;
                      none: send nothing (silence)
        proof=right   right: the client's proof must be the password's;
                      wrong: it must not be (SCRAM keys kept from an old
                      password, RFC 5802 5.1): <failure><not-authorized/>,
                      and the script goes on (the client may log in again)
        gs2=TEXT      the client's gs2 header must be TEXT (e.g. "y,,")
        y=accept      refuse: answer a "y" gs2 flag with <failure>, as a
                      server that supports channel binding must (RFC 5802
                      6) when a man in the middle removed its -PLUS
        cb=real       real: the channel binding of this connection;
                      tampered: other bytes, as the real server behind a
                      man in the middle sees them: the client's p=
                      exchange then fails (<failure><not-authorized/>),
                      which is expected, not a violation
                      Answering an invalid server-first is a violation.
  sasl2-scram [KEY=VALUE...]
                      SASL2 (XEP-0388): read <authenticate
                      xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-*'>
                      (a legacy <auth> is a violation), note what it holds
                      (user-agent id as ${agent_id}, Bind2 <bind/>, an
                      inline SM <enable/>, <request-token/>, <fast/>) and
                      play SCRAM as the scram step, in SASL2 elements:
                      the same keys, and final= also takes continue
                      (<continue/> with a task).  A successful end is
                      <success> with <additional-data> (the v= of final=),
                      the bound JID, <bound/> and a FAST <token/>, then
                      the post-authentication features (no restart):
        aid=full      full: ${FULLJID} (else user@localhost/fake) in
                      <authorization-identifier/>; identity: the same in
                      XEP-0484's <authorization-identity/>; foreign:
                      other@localhost/fake; bare: user@localhost; missing
        bound=yes     yes: Bind2's <bound/>; missing: none
        sm=auto       what <bound/> holds: auto (<enabled/> when the
                      client asked for it inline, else nothing), enabled,
                      failed, none
        token=none    TEXT or random: a FAST <token/> with this value,
                      sent only when the client asked for one
                      (<request-token/>); the fast step of a later
                      connection accepts it (only from the same
                      user-agent id, with the mechanism it was asked for)
        expiry=2099-01-01T00:00:00Z  the token's expiry attribute
        features=default  default: <stream:features/> after <success/>;
                      none: nothing
  fast [KEY=VALUE...]
                      FAST (XEP-0484): read <authenticate
                      mechanism='HT-SHA-256-*'> holding <fast
                      xmlns='urn:xmpp:fast:0'/> and check its initial
                      response, authcid NUL HMAC-SHA-256(token,
                      "Initiator" || cb), cb by the mechanism's suffix:
                      NONE empty, EXPR tls-exporter, ENDP
                      tls-server-end-point, UNIQ tls-unique (computed as
                      for scram).  A wrong proof is a violation.  Keys
                      (defaults first), and those of sasl2-scram's
                      <success/> (token= then sends a new token unasked):
        accept=TOKEN  the valid token (default: the last one sent with
                      token= on this server, by any connection)
        agent=ID      the user-agent id the client must send (default:
                      the one the token was sent to, if known)
        result=success  success; failure=COND: refuse the token (the
                      client may go on with sasl2-scram on the same
                      stream); continue: <continue/> with a task
        responder=correct  <additional-data> of the <success/>:
                      HMAC-SHA-256(token, "Responder" || cb); wrong:
                      another HMAC; missing: no <additional-data>
  keep NAME           variable NAME is also defined on the connections
                      that follow (variables start afresh on each)
  connection N|all    the steps up to the next connection step are
                      played on connection N only (all: on every one);
                      with --connections, for scenarios over several runs
  digest [KEY=VALUE...]
                      read <auth mechanism='DIGEST-MD5'>, act as an
                      RFC 2831 server and check the client's response
                      (password, digest-uri xmpp/${domain}, qop=auth).
                      Keys (defaults first):
        challenge=TEXT  send TEXT as the challenge instead (answering
                      it is a violation)
        rspauth=correct correct: rspauth in a <challenge>, <success/>
                      after the empty <response/>; wrong: a wrong
                      rspauth there; success: rspauth in <success>;
                      missing: <success/> without rspauth
  external            read <auth mechanism='EXTERNAL'> (empty initial
                      response) and answer <success/> when a client
                      certificate was presented (starttls client-cert),
                      else <failure/> and a violation
  close               close the connection (FIN) and end the script
  reset               abort the connection with a TCP RST and end it

A step stops the script when the client closes the connection, when an
expect times out, or when a TLS handshake fails; the server then records
whatever the client still sends until it closes or the deadline passes.
A script that ends (or reaches close or reset) is "complete"; without a
final close, the server keeps recording until the client closes.
"""

import argparse
import base64
import ctypes
import hashlib
import hmac
import os
import re
import secrets
import socket
import ssl
import struct
import sys
import time
import warnings

warnings.simplefilter("ignore", DeprecationWarning)

DEFAULT_STEP_TIMEOUT = 10.0
SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl"
SASL2_NS = "urn:xmpp:sasl:2"
BIND2_NS = "urn:xmpp:bind:0"
FAST_NS = "urn:xmpp:fast:0"
STANZAS_NS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class ScenarioError(Exception):
    pass


def tls_exporter(tls):
    """RFC 9266 tls-exporter of a server-side SSLSocket, from OpenSSL
    itself (Python has no API for it): the SSL pointer sits right after
    PyObject_HEAD and the socket weakref in CPython's _ssl._SSLSocket.  The
    pointer is checked against the protocol version first; None when it
    does not fit."""
    try:
        lib = ctypes.CDLL("libssl.so.3")
        lib.SSL_version.argtypes = [ctypes.c_void_p]
        lib.SSL_version.restype = ctypes.c_int
        lib.SSL_export_keying_material.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
            ctypes.c_size_t, ctypes.c_int]
        word = ctypes.sizeof(ctypes.c_void_p)
        ptr = ctypes.c_void_p.from_address(id(tls._sslobj) + 3 * word).value
        want = {"TLSv1.3": 0x304, "TLSv1.2": 0x303}.get(tls.version())
        if not ptr or want is None or lib.SSL_version(ptr) != want:
            return None
        out = ctypes.create_string_buffer(32)
        label = b"EXPORTER-Channel-Binding"
        if lib.SSL_export_keying_material(ptr, out, 32, label, len(label),
                                          None, 0, 0) != 1:
            return None
        return out.raw
    except (OSError, AttributeError, ValueError):
        return None


class Stop(Exception):
    """The script cannot go on (client closed, timeout, TLS failure)."""


class Closed(Stop):
    """The script closed the connection itself (close, reset)."""


def expand_escapes(text):
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "n":
                out.append("\n")
            elif n == "r":
                out.append("\r")
            elif n == "t":
                out.append("\t")
            elif n == "\\":
                out.append("\\")
            elif n == "x" and \
                    re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
                b = int(text[i + 2:i + 4], 16)
                # bytes >= 0x80 stay single raw bytes (surrogateescape)
                out.append(chr(b) if b < 0x80 else chr(0xDC00 + b))
                i += 4
                continue
            else:
                out.append(c + n)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def load_steps(path, seen=()):
    """Return [(file:line, command, rest)] with includes expanded."""
    if path in seen:
        raise ScenarioError("include loop at " + path)
    steps = []
    with open(path, encoding="utf-8") as f:
        for num, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cmd, _, rest = line.partition(" ")
            where = "%s:%d" % (os.path.basename(path), num)
            if cmd == "include":
                inc = os.path.join(os.path.dirname(path), rest.strip())
                steps.extend(load_steps(inc, seen + (path,)))
            else:
                steps.append((where, cmd, rest))
    return steps


class Server:
    def __init__(self, opts):
        self.opts = opts
        self.kept = {}                  # keep: variables across connections
        self.deadline = time.monotonic() + opts.max_seconds
        self.logf = open(opts.log, "a", encoding="utf-8") if opts.log else None
        self.trf = open(opts.transcript, "ab") if opts.transcript else None
        self.password = ""
        if opts.password_file:
            with open(opts.password_file, encoding="utf-8") as f:
                self.password = f.readline().rstrip("\n")
        self.violations = 0
        # FAST tokens sent (token -> (mechanism, user-agent id)), kept
        # across connections, and the last one: what a fast step accepts.
        self.tokens = {}
        self.last_token = None
        self.conn_no = 0

    # -- bookkeeping -----------------------------------------------------
    def log(self, msg):
        if self.logf:
            self.logf.write(msg + "\n")
            self.logf.flush()

    def violation(self, msg):
        self.violations += 1
        self.log("violation: " + msg)

    def remaining(self, limit=None):
        left = self.deadline - time.monotonic()
        if limit is not None:
            left = min(left, limit)
        return left

    # -- socket helpers --------------------------------------------------
    def fill(self, until):
        """Read once; False on timeout, EOF (self.eof set) or error."""
        left = min(until, self.deadline) - time.monotonic()
        if left <= 0 or self.eof:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return False
        except (OSError, ssl.SSLError) as e:
            self.log("read error: %s" % e)
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        if self.trf:
            self.trf.write(data)
            self.trf.flush()
        self.buf += data
        return True

    def send(self, data):
        if self.closed:
            raise Stop("connection already closed")
        pos = 0
        while pos < len(data):
            left = self.remaining(self.step_timeout)
            if left <= 0:
                raise Stop("client stopped reading")
            self.sock.settimeout(left)
            try:
                n = self.sock.send(data[pos:pos + 65536])
            except (socket.timeout, TimeoutError):
                raise Stop("client stopped reading")
            except (OSError, ssl.SSLError) as e:
                self.eof = True
                raise Stop("send failed: %s" % e)
            pos += n

    def wait_for(self, patterns, timeout):
        """Wait until one of the compiled byte patterns matches self.buf.
        Returns (index, match) and consumes through the match."""
        until = time.monotonic() + timeout
        while True:
            best = None
            for i, pat in enumerate(patterns):
                m = pat.search(self.buf)
                if m and (best is None or m.start() < best[1].start()):
                    best = (i, m)
            if best:
                self.buf = self.buf[best[1].end():]
                return best
            if self.eof:
                raise Stop("client closed the connection")
            if time.monotonic() >= min(until, self.deadline):
                raise Stop("timed out waiting for %s" %
                           " | ".join(p.pattern.decode("utf-8", "replace")
                                      for p in patterns))
            self.fill(until)

    def expect_re(self, regex):
        pat = re.compile(self.subst_re(regex).encode("utf-8"), re.S)
        _, m = self.wait_for([pat], self.step_timeout)
        for k, v in m.groupdict().items():
            if v is not None:
                self.vars[k] = v.decode("utf-8", "replace")
        return m

    # -- expansion -------------------------------------------------------
    def subst(self, text):
        def var(m):
            if m.group(1) not in self.vars:
                raise ScenarioError("undefined variable " + m.group(1))
            return self.vars[m.group(1)]
        return expand_escapes(re.sub(r"\$\{(\w+)\}", var, text))

    def subst_re(self, text):
        def var(m):
            if m.group(1) in self.re_vars:
                return self.re_vars[m.group(1)]
            if m.group(1) not in self.vars:
                raise ScenarioError("undefined variable " + m.group(1))
            return re.escape(self.vars[m.group(1)])
        return re.sub(r"\$\{(\w+)\}", var, text)

    def enc(self, text):
        return self.subst(text).encode("utf-8", "surrogateescape")

    # -- steps -----------------------------------------------------------
    def run(self, steps):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        tmp = self.opts.port_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write("%d\n" % listener.getsockname()[1])
        os.replace(tmp, self.opts.port_file)
        ok = True
        for n in range(self.opts.connections):
            listener.settimeout(max(self.remaining(), 0.01))
            try:
                conn, peer = listener.accept()
            except (socket.timeout, TimeoutError):
                self.log("result: stopped: no connection %d before the "
                         "deadline" % (n + 1))
                return False
            self.log("connection %d from %s:%d" % (n + 1, peer[0], peer[1]))
            self.conn_no = n + 1
            ok = self.serve(conn, steps) and ok
        listener.close()
        return ok and self.violations == 0

    def serve(self, conn, steps):
        self.sock = conn
        self.cb = {}                    # channel bindings, after starttls
        self.buf = b""
        self.eof = False
        self.closed = False
        self.step_timeout = DEFAULT_STEP_TIMEOUT
        self.vars = {"sid": secrets.token_hex(8), "user": self.opts.user,
                     "domain": "localhost"}
        for kv in self.opts.set or []:
            k, _, v = kv.partition("=")
            self.vars[k] = v
        self.vars.update(self.kept)     # from earlier connections (keep)
        self.re_vars = {}
        self.a2 = {}                    # the last SASL2 <authenticate/>
        result = "complete"
        self.where = "start"
        active = True                   # in a section for this connection
        try:
            for where, cmd, rest in steps:
                if cmd == "connection":
                    active = rest.strip() in ("all", str(self.conn_no))
                    continue
                if not active:
                    continue
                if self.remaining() <= 0:
                    raise Stop("deadline (--max-seconds) passed")
                self.where = where
                if cmd not in ("set", "set-re", "timeout"):
                    self.log("%s: %s %s" % (where, cmd, rest[:120]))
                handler = getattr(self, "step_" + cmd.replace("-", "_"),
                                  None)
                if handler is None:
                    raise ScenarioError("%s: unknown step %r" % (where, cmd))
                handler(rest)
        except Closed as e:
            result = "complete (%s at %s)" % (e, self.where)
        except Stop as e:
            result = "stopped at %s: %s" % (self.where, e)
        except ScenarioError as e:
            self.log("result: scenario error: %s" % e)
            raise
        self.finish()
        self.log("result: " + result)
        return result.startswith("complete")

    def finish(self):
        """Record what the client still sends, then close."""
        if not self.closed:
            while not self.eof and self.remaining() > 0:
                self.fill(self.deadline)
            self.close_socket(rst=False)

    def close_socket(self, rst):
        if self.closed:
            return
        self.closed = True
        try:
            if rst:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            else:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def step_set(self, rest):
        name, _, text = rest.partition(" ")
        self.vars[name] = self.subst(text)

    def step_keep(self, rest):
        name = rest.strip()
        if name not in self.vars:
            raise ScenarioError("keep: no variable %s" % name)
        self.kept[name] = self.vars[name]

    def step_set_re(self, rest):
        name, _, regex = rest.partition(" ")
        self.re_vars[name] = self.subst_re(regex)

    def step_timeout(self, rest):
        self.step_timeout = float(rest)

    def step_expect(self, rest):
        self.expect_re(rest)

    def step_expect_none(self, rest):
        regex, _, secs = rest.rpartition(" ")
        pat = re.compile(self.subst_re(regex).encode("utf-8"), re.S)
        until = time.monotonic() + float(secs)
        while time.monotonic() < until and not self.eof and \
                not pat.search(self.buf):
            self.fill(until)
        m = pat.search(self.buf)
        if m:
            self.violation("%s: client sent %r" % (self.where,
                                                   m.group(0)[:200]))

    def step_silence(self, rest):
        until = (time.monotonic() + float(rest)) if rest.strip() \
            else self.deadline
        while time.monotonic() < until and not self.eof and \
                self.remaining() > 0:
            self.fill(until)

    def step_sleep(self, rest):
        time.sleep(max(0.0, min(float(rest), self.remaining())))

    def step_send(self, rest):
        self.send(self.enc(rest))

    def step_send_late(self, rest):
        try:
            self.send(self.enc(rest))
        except Stop as e:
            self.log("note: %s: not sent, the client has gone (%s)"
                     % (self.where, e))

    def step_send_b64(self, rest):
        self.send(base64.b64decode(rest.strip()))

    def step_send_repeat(self, rest):
        count, _, text = rest.partition(" ")
        count = int(count)
        if "${i}" in text:              # numbered copies: built one by one
            units = []
            for k in range(count):
                self.vars["i"] = str(k)
                units.append(self.enc(text))
            data = b"".join(units)
        else:
            data = None
            unit = self.enc(text)
        total = len(data) if data is not None else count * len(unit)
        sent = 0
        while sent < total:
            if data is not None:
                piece = data[sent:sent + 65536]
            else:
                piece = unit * max(1, min(65536 // max(1, len(unit)),
                                          (total - sent) // len(unit)))
            try:
                self.send(piece)
            except Stop as e:
                raise Stop("%s after %d bytes" % (e, sent))
            sent += len(piece)

    def step_slow(self, rest):
        bps, _, text = rest.partition(" ")
        delay = 1.0 / float(bps)
        for b in self.enc(text):
            self.send(bytes([b]))
            until = time.monotonic() + delay
            while time.monotonic() < until and not self.eof:
                self.fill(until)        # record what the client says
            if self.eof:
                raise Stop("client closed the connection")
            if self.remaining() <= 0:
                raise Stop("deadline (--max-seconds) passed")

    def step_close(self, rest):
        while self.fill(time.monotonic() + 0.05):
            pass                        # record anything already sent
        self.close_socket(rst=False)
        raise Closed("closed")

    def step_reset(self, rest):
        self.close_socket(rst=True)
        raise Closed("reset")

    def step_starttls(self, rest):
        args = rest.split()
        if not args:
            raise ScenarioError("starttls needs a certificate name")
        base = os.path.join(self.opts.cert_dir, args[0])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(base + ".crt", base + ".key")
        if "client-cert" in args[1:]:
            ctx.verify_mode = ssl.CERT_OPTIONAL
            ctx.load_verify_locations(
                os.path.join(os.path.dirname(base), "ca.crt"))
        if "tls1.1" in args[1:]:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        if "tls1.2" in args[1:]:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if "p256" in args[1:]:
            ctx.set_ecdh_curve("prime256v1")
        ctx.set_alpn_protocols(["xmpp-client"])
        if self.buf:
            self.log("note: %d unread plaintext bytes before TLS dropped"
                     % len(self.buf))
            self.buf = b""
        with open(base + ".crt", encoding="ascii") as f:
            self.cert_der = ssl.PEM_cert_to_DER_cert(f.read())
        try:
            tls = ctx.wrap_socket(self.sock, server_side=True,
                                  do_handshake_on_connect=False)
            tls.settimeout(max(0.01, self.remaining(self.step_timeout)))
            tls.do_handshake()
        except (OSError, ssl.SSLError, ValueError) as e:
            self.eof = True
            raise Stop("TLS handshake failed: %s" % e)
        self.sock = tls
        alpn = tls.selected_alpn_protocol()
        self.log("tls: %s %s alpn=%s" % (tls.version(), tls.cipher()[0],
                                         alpn or "none"))
        if "alpn" in args[1:] and alpn != "xmpp-client":
            self.violation("%s: client did not offer ALPN xmpp-client"
                           % self.where)
        self.cb = {"tls-server-end-point":
                   hashlib.sha256(self.cert_der).digest()}
        exporter = tls_exporter(tls)
        if exporter is not None:
            self.cb["tls-exporter"] = exporter
        if tls.version() == "TLSv1.2":
            self.cb["tls-unique"] = tls.get_channel_binding("tls-unique")
        self.peer_cert = tls.getpeercert() if "client-cert" in args[1:] \
            else None
        if self.peer_cert:
            self.log("tls: client certificate %r"
                     % (self.peer_cert.get("subject"),))

    # -- SASL ------------------------------------------------------------
    def read_auth(self):
        auth = re.compile(rb"<auth\b[^>]*?\bmechanism=['\"]([^'\"]*)['\"]"
                          rb"[^>]*?(?:/>|>(.*?)</auth\s*>)", re.S)
        closing = re.compile(rb"</stream:stream\s*>")
        i, m = self.wait_for([auth, closing], self.step_timeout)
        if i == 1:
            raise Stop("client closed the stream instead of <auth>")
        return m.group(1).decode(), self.b64(m.group(2))

    def read_response(self):
        resp = re.compile(rb"<response\b[^>]*?(?:/>|>(.*?)</response\s*>)",
                          re.S)
        abort = re.compile(rb"<abort\b|</stream:stream\s*>")
        i, m = self.wait_for([resp, abort], self.step_timeout)
        if i == 1:
            raise Stop("client gave up: %s" % m.group(0).decode())
        return self.b64(m.group(1))

    def b64(self, data):
        data = (data or b"").strip()
        if data in (b"", b"="):
            return b""
        try:
            return base64.b64decode(data, validate=True)
        except ValueError:
            self.violation("%s: client sent bad base64 %r"
                           % (self.where, data[:80]))
            return b""

    def sasl(self, elem, payload=None, v2=False):
        ns = SASL2_NS if v2 else SASL_NS
        if payload is None:
            return "<%s xmlns='%s'/>" % (elem, ns)
        data = base64.b64encode(payload).decode() or "="
        return "<%s xmlns='%s'>%s</%s>" % (elem, ns, data, elem)

    def failure(self, cond, text=None, v2=False):
        """<failure/> with an RFC 6120 condition; in SASL2 the condition
        keeps the SASL namespace (XEP-0388)."""
        if v2:
            inner = "<%s xmlns='%s'/>" % (cond, SASL_NS)
        else:
            inner = "<%s/>" % cond
        if text:
            inner += "<text>%s</text>" % text
        return ("<failure xmlns='%s'>%s</failure>"
                % (SASL2_NS if v2 else SASL_NS, inner)).encode()

    def success(self, payload, v2, opt):
        """Legacy <success/>, or SASL2's (success2)."""
        if not v2:
            self.send(self.sasl("success", payload).encode())
        else:
            self.success2(payload, opt)

    def read_authenticate(self):
        """SASL2: the client's <authenticate/>; returns (mechanism,
        initial response) and keeps what else it holds in self.a2
        (user-agent id, Bind2, inline enable, FAST elements)."""
        auth2 = re.compile(rb"<authenticate\b([^>]*?)(?:/>|>(.*?)"
                           rb"</authenticate\s*>)", re.S)
        legacy = re.compile(rb"<auth\b")
        closing = re.compile(rb"</stream:stream\s*>")
        i, m = self.wait_for([auth2, legacy, closing], self.step_timeout)
        if i == 1:
            self.violation("%s: legacy <auth> where SASL2 was expected"
                           % self.where)
            self.send(self.failure("invalid-mechanism"))
            raise Stop("legacy <auth> instead of <authenticate>")
        if i == 2:
            raise Stop("client closed the stream instead of <authenticate>")
        attrs, inner = m.group(1), m.group(2) or b""
        mech = re.search(rb"\bmechanism=['\"]([^'\"]*)['\"]", attrs)
        if not mech or SASL2_NS.encode() not in attrs:
            self.violation("%s: <authenticate> without mechanism or SASL2 "
                           "namespace: %r" % (self.where, attrs[:200]))
            raise Stop("malformed <authenticate>")

        def find(regex):
            return re.search(regex, inner, re.S)
        ir = find(rb"<initial-response\b[^>]*?(?:/>|>(.*?)"
                  rb"</initial-response\s*>)")
        agent = find(rb"<user-agent\b[^>]*?\bid=['\"]([^'\"]*)['\"]")
        bind = find(rb"<bind\b[^>]*urn:xmpp:bind:0[^>]*?(?:/>|>(.*?)"
                    rb"</bind\s*>)")
        req = find(rb"<request-token\b[^>]*?\bmechanism=['\"]([^'\"]*)"
                   rb"['\"]")
        self.a2 = {
            "agent": agent.group(1).decode("ascii", "replace")
            if agent else None,
            "bind": bool(bind),
            "sm": bool(bind and re.search(rb"<enable\b[^>]*urn:xmpp:sm:3",
                                          bind.group(1) or b"")),
            "request": req.group(1).decode("ascii", "replace")
            if req else None,
            "fast": bool(find(rb"<fast\b[^>]*urn:xmpp:fast:0")),
        }
        if self.a2["agent"] is not None:
            self.vars["agent_id"] = self.a2["agent"]
        self.log("sasl2: %s agent=%s bind=%d sm=%d request-token=%s fast=%d"
                 % (mech.group(1).decode("ascii", "replace"),
                    self.a2["agent"], self.a2["bind"], self.a2["sm"],
                    self.a2["request"], self.a2["fast"]))
        if not ir:
            self.violation("%s: <authenticate> without <initial-response>"
                           % self.where)
        return (mech.group(1).decode("ascii", "replace"),
                self.b64(ir.group(1) if ir else None))

    def success2(self, payload, opt):
        """SASL2 <success/>: <additional-data/> with 'payload' (None:
        none), the bound JID, Bind2's <bound/> with inline SM's answer, a
        FAST token; then the post-authentication features (no restart).
        Keys: aid, bound, sm, token, expiry, features (step list)."""
        parts = []
        if payload is not None:
            parts.append("<additional-data>%s</additional-data>"
                         % (base64.b64encode(payload).decode() or "="))
        user, domain = self.opts.user, self.vars.get("domain", "localhost")
        full = self.vars.get("FULLJID", "%s@%s/fake" % (user, domain))
        aid = opt.get("aid", "full")
        value = {"full": full, "identity": full,
                 "foreign": "other@%s/fake" % domain,
                 "bare": "%s@%s" % (user, domain)}.get(aid)
        if value is None and aid != "missing":
            raise ScenarioError("unknown aid=" + aid)
        if value is not None:
            tag = "authorization-identity" if aid == "identity" \
                else "authorization-identifier"
            parts.append("<%s>%s</%s>" % (tag, value, tag))
        sm = opt.get("sm", "auto")
        if sm == "auto":
            sm = "enabled" if self.a2.get("sm") else "none"
        sm_xml = {"enabled": "<enabled xmlns='urn:xmpp:sm:3'/>",
                  "failed": "<failed xmlns='urn:xmpp:sm:3'><unexpected-"
                            "request xmlns='%s'/></failed>" % STANZAS_NS,
                  "none": ""}.get(sm)
        if sm_xml is None:
            raise ScenarioError("unknown sm=" + sm)
        if opt.get("bound", "yes") == "yes":
            parts.append("<bound xmlns='%s'>%s</bound>" % (BIND2_NS, sm_xml))
        elif opt["bound"] != "missing":
            raise ScenarioError("unknown bound=" + opt["bound"])
        token = opt.get("token", "none")
        if token != "none":
            if token == "random":
                token = secrets.token_urlsafe(24)
            mech = self.a2.get("request") or self.a2.get("mech")
            if not self.a2.get("request") and not opt.get("rotate"):
                self.log("note: the client asked for no token: none sent")
            else:
                parts.append("<token xmlns='%s' token='%s' expiry='%s'/>"
                             % (FAST_NS, token,
                                opt.get("expiry", "2099-01-01T00:00:00Z")))
                self.tokens[token] = (mech, self.a2.get("agent"))
                self.last_token = token
                self.log("fast: token issued for %s" % mech)
        self.send(("<success xmlns='%s'>%s</success>"
                   % (SASL2_NS, "".join(parts)))
                  .encode("utf-8", "surrogateescape"))
        feats = opt.get("features", "default")
        if feats == "default":
            self.send(b"<stream:features/>")
        elif feats != "none":
            raise ScenarioError("unknown features=" + feats)

    def step_plain(self, rest):
        mech, data = self.read_auth()
        if mech != "PLAIN":
            self.violation("%s: expected PLAIN, client chose %s"
                           % (self.where, mech))
        want = ("\0%s\0%s" % (self.opts.user, self.password)).encode()
        if data == want or data == self.opts.user.encode() + want:
            self.send(self.sasl("success").encode())
        else:
            self.violation("%s: wrong PLAIN credentials" % self.where)
            self.send(self.failure("not-authorized"))

    def step_scram(self, rest):
        self.scram_exchange(rest, False)

    def step_sasl2_scram(self, rest):
        self.scram_exchange(rest, True)

    def scram_exchange(self, rest, v2):
        """The scram and sasl2-scram steps (see the top of the file)."""
        opt = {"iter": "4096", "salt": None, "nonce": "extend",
               "final": "correct", "cb": "real", "proof": "right"}
        raw = dict(w.partition("=")[::2] for w in rest.split())
        if v2:
            mech, first = self.read_authenticate()
            self.a2["mech"] = mech
        else:
            mech, first = self.read_auth()
        hashes = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256",
                  "SCRAM-SHA-512": "sha512"}
        plus = mech.endswith("-PLUS")
        if plus:
            mech = mech[:-5]
        if mech not in hashes:
            self.violation("%s: client chose %s, expected SCRAM"
                           % (self.where, mech))
            self.send(self.failure("invalid-mechanism", v2=v2))
            raise Stop("unexpected mechanism " + mech)
        hname = hashes[mech]
        m = re.fullmatch(rb"([ny]|p=[^,]+),(a=[^,]*)?,(n=[^,]*,r=([^,]+)"
                         rb"(?:,.*)?)", first, re.S)
        if not m:
            self.violation("%s: malformed client-first %r"
                           % (self.where, first[:200]))
            raise Stop("malformed client-first")
        gs2 = first[:len(first) - len(m.group(3))]
        bare = m.group(3)
        if plus != gs2.startswith(b"p="):
            self.violation("%s: %s%s with gs2 header %r"
                           % (self.where, mech, "-PLUS" if plus else "",
                              gs2))
        if "gs2" in raw and gs2 != raw["gs2"].encode():
            self.violation("%s: gs2 header %r, expected %r"
                           % (self.where, gs2, raw["gs2"]))
        if raw.get("y") == "refuse" and gs2.startswith(b"y"):
            self.log("scram: gs2 flag y refused (-PLUS was removed)")
            self.send(self.failure("not-authorized",
                                   "channel binding downgrade", v2))
            raise Stop("gs2 flag y refused, as expected")
        cbdata = b""
        if plus:
            cbtype = gs2[2:gs2.index(b",")].decode("ascii", "replace")
            cbdata = self.cb.get(cbtype)
            if cbdata is not None and raw.get("cb") == "tampered":
                cbdata = hashlib.sha256(b"mitm" + cbdata).digest()
            self.log("scram: %s-PLUS with %s%s" % (
                mech, cbtype, "" if cbdata is not None
                else " (not computable here)"))
        cnonce = m.group(4).decode("ascii", "replace")
        self.vars["cnonce"] = cnonce
        for k, v in raw.items():        # values may use ${cnonce}
            opt[k] = self.subst(v)
        snonce = base64.b64encode(secrets.token_bytes(18)).decode()
        nonce = {"extend": cnonce + snonce, "same": cnonce,
                 "replace": snonce + "Xx",
                 "truncate": cnonce[:-2] + snonce}[opt["nonce"]]
        salt_b64 = opt["salt"]
        if salt_b64 is None:
            salt_b64 = base64.b64encode(secrets.token_bytes(16)).decode()
        valid = opt["nonce"] == "extend" and "first" not in opt and \
            "challenge" not in opt
        try:
            salt = base64.b64decode(salt_b64, validate=True)
            iters = int(opt["iter"])
            if not salt or not 1 <= iters <= 10000000 or \
                    not opt["iter"].isdigit():
                valid = False
        except ValueError:
            valid = False
        if "first" in opt:
            server_first = opt["first"]
        else:
            server_first = "r=%s,s=%s,i=%s" % (nonce, salt_b64, opt["iter"])
            if "ext" in opt:
                server_first += "," + opt["ext"]
        if "challenge" in opt:
            self.send(("<challenge xmlns='%s'>%s</challenge>"
                       % (SASL2_NS if v2 else SASL_NS,
                          opt["challenge"])).encode())
        else:
            self.send(self.sasl("challenge", server_first.encode(),
                                v2).encode())
        final = self.read_response()
        if not valid:
            self.violation("%s: client answered an invalid server-first"
                           % self.where)
            self.send(self.failure("not-authorized", v2=v2))
            raise Stop("client answered an invalid server-first")
        fm = re.fullmatch(rb"(c=([^,]*),r=([^,]*)(?:,.*?)?),p=([^,]*)", final,
                          re.S)
        ok = False
        if fm:
            noproof, cbind, rnonce, proof = fm.groups()
            salted = hashlib.pbkdf2_hmac(hname, self.password.encode(), salt,
                                         iters)
            auth_msg = bare + b"," + server_first.encode() + b"," + noproof

            def mac(key, msg):
                return hmac.new(key, msg, hname).digest()
            client_key = mac(salted, b"Client Key")
            stored = hashlib.new(hname, client_key).digest()
            sig = mac(stored, auth_msg)
            want = bytes(a ^ b for a, b in zip(client_key, sig))
            try:
                got = base64.b64decode(proof, validate=True)
            except ValueError:
                got = b""
            try:
                cb_ok = cbdata is not None and \
                    base64.b64decode(cbind, validate=True) == gs2 + cbdata
            except ValueError:
                cb_ok = False
            if not cb_ok and opt["cb"] == "tampered":
                self.log("scram: channel binding differs (tampered)")
                self.send(self.failure("not-authorized", v2=v2))
                raise Stop("channel binding differs, as expected")
            ok = hmac.compare_digest(got, want) and cb_ok and \
                rnonce == nonce.encode()
            server_sig = mac(mac(salted, b"Server Key"), auth_msg)
            if opt["proof"] == "wrong" and got and cb_ok and \
                    rnonce == nonce.encode():
                if ok:
                    self.violation("%s: the client's proof is the password's,"
                                   " expected one from other keys"
                                   % self.where)
                self.log("scram: proof from other keys, refused (expected)")
                self.send(self.failure("not-authorized", v2=v2))
                return
        if not ok:
            self.violation("%s: client proof/final message is wrong: %r"
                           % (self.where, final[:200]))
            self.send(self.failure("not-authorized", v2=v2))
            raise Stop("bad client-final")
        self.log("scram: %s%s proof ok" % (mech, "-PLUS" if plus else ""))
        v_ok = b"v=" + base64.b64encode(server_sig)
        v_bad = b"v=" + base64.b64encode(secrets.token_bytes(len(server_sig)))
        mode = opt["final"]
        if mode == "correct":
            self.success(v_ok, v2, opt)
        elif mode == "wrong":
            self.success(v_bad, v2, opt)
        elif mode == "missing":
            self.success(None, v2, opt)
        elif mode in ("challenge", "challenge-wrong"):
            self.send(self.sasl("challenge", v_ok if mode == "challenge"
                                else v_bad, v2).encode())
            self.read_response()
            self.success(None, v2, opt)
        elif mode.startswith("e="):
            self.success(mode.encode(), v2, opt)
        elif mode.startswith("challenge-e="):
            self.send(self.sasl("challenge", mode[10:].encode(),
                                v2).encode())
        elif mode.startswith("failure="):
            self.send(self.failure(mode[8:], v2=v2))
        elif mode == "continue" and v2:
            self.send(("<continue xmlns='%s'><additional-data>%s"
                       "</additional-data><tasks><task>HOTP-EXAMPLE</task>"
                       "</tasks><text>second factor needed</text></continue>"
                       % (SASL2_NS, base64.b64encode(v_ok).decode()))
                      .encode())
        elif mode != "none":
            raise ScenarioError("unknown final=" + mode)

    def step_fast(self, rest):
        """The fast step (see the top of the file)."""
        opt = dict(w.partition("=")[::2] for w in rest.split())
        for k, v in opt.items():
            opt[k] = self.subst(v)
        mech, data = self.read_authenticate()
        self.a2["mech"] = mech
        cbtypes = {"HT-SHA-256-NONE": None,
                   "HT-SHA-256-EXPR": "tls-exporter",
                   "HT-SHA-256-ENDP": "tls-server-end-point",
                   "HT-SHA-256-UNIQ": "tls-unique"}
        if mech not in cbtypes:
            self.violation("%s: client chose %s, expected a FAST "
                           "HT-SHA-256-* token" % (self.where, mech))
            self.send(self.failure("invalid-mechanism", v2=True))
            raise Stop("unexpected mechanism " + mech)
        if not self.a2["fast"]:
            self.violation("%s: token login without <fast xmlns='%s'/>"
                           % (self.where, FAST_NS))
        token = opt.get("accept", self.last_token)
        if token is None:
            raise ScenarioError("fast: no token to accept (accept=TOKEN, "
                                "or a sasl2-scram step with token= first)")
        issued = self.tokens.get(token)
        agent = opt.get("agent", issued[1] if issued else None)
        if agent is not None and self.a2["agent"] != agent:
            self.violation("%s: user-agent id %r, the token belongs to %r"
                           % (self.where, self.a2["agent"], agent))
        if issued and issued[0] != mech:
            self.violation("%s: token issued for %s used with %s"
                           % (self.where, issued[0], mech))
        cbtype = cbtypes[mech]
        cb = b"" if cbtype is None else self.cb.get(cbtype)
        if cb is None:
            self.violation("%s: %s, but no %s on this connection"
                           % (self.where, mech, cbtype))
            cb = b""

        def ht(label):
            return hmac.new(token.encode("utf-8", "surrogateescape"),
                            label + cb, "sha256").digest()
        want = self.opts.user.encode() + b"\0" + ht(b"Initiator")
        if not hmac.compare_digest(data, want):
            self.violation("%s: wrong FAST proof (another token or channel "
                           "binding?)" % self.where)
            self.send(self.failure("not-authorized", v2=True))
            raise Stop("bad FAST proof")
        self.log("fast: %s proof ok" % mech)
        result = opt.get("result", "success")
        if result.startswith("failure="):
            self.log("fast: token refused (%s)" % result[8:])
            self.send(self.failure(result[8:], v2=True))
            return
        if result == "continue":
            self.send(("<continue xmlns='%s'><tasks><task>HOTP-EXAMPLE"
                       "</task></tasks></continue>" % SASL2_NS).encode())
            return
        if result != "success":
            raise ScenarioError("unknown result=" + result)
        responder = opt.get("responder", "correct")
        payload = {"correct": ht(b"Responder"),
                   "wrong": ht(b"Responder-not"),
                   "missing": None}.get(responder, b"")
        if payload == b"":
            raise ScenarioError("unknown responder=" + responder)
        opt.setdefault("rotate", "1")   # a new token needs no request
        self.success2(payload, opt)


def digest_step(self, rest):
    """The digest step (see the top of the file)."""
    opt = dict(w.partition("=")[::2] for w in rest.split())
    mech, data = self.read_auth()
    if mech != "DIGEST-MD5":
        self.violation("%s: client chose %s, expected DIGEST-MD5"
                       % (self.where, mech))
        self.send(("<failure xmlns='%s'><invalid-mechanism/></failure>"
                   % SASL_NS).encode())
        raise Stop("unexpected mechanism " + mech)
    if data:
        self.violation("%s: initial response with DIGEST-MD5" % self.where)
    nonce = base64.b64encode(secrets.token_bytes(12)).decode()
    valid = "challenge" not in opt
    challenge = self.subst(opt["challenge"]) if not valid else \
        'nonce="%s",qop="auth",charset=utf-8,algorithm=md5-sess' % nonce
    self.send(self.sasl("challenge", challenge.encode()).encode())
    resp = self.read_response()
    if not valid:
        self.violation("%s: client answered an invalid challenge"
                       % self.where)
        self.send(("<failure xmlns='%s'><not-authorized/></failure>"
                   % SASL_NS).encode())
        raise Stop("client answered an invalid challenge")
    kv = dict((m.group(1).decode(), (m.group(2) or m.group(3)).decode())
              for m in re.finditer(rb'([a-z-]+)=(?:"((?:[^"\\]|\\.)*)"'
                                   rb'|([^,]*))', resp))

    def md5(b):
        return hashlib.md5(b).digest()

    def value(prefix):
        a1 = md5(("%s:%s:%s" % (self.opts.user, kv.get("realm", ""),
                                self.password)).encode()) + \
            (":%s:%s" % (nonce, kv.get("cnonce", ""))).encode()
        a2 = "%s:%s" % (prefix, kv.get("digest-uri", ""))
        return md5(("%s:%s:%s:%s:auth:%s" % (
            md5(a1).hex(), nonce, kv.get("nc", ""), kv.get("cnonce", ""),
            md5(a2.encode()).hex())).encode()).hex()
    ok = kv.get("username") == self.opts.user and \
        kv.get("nonce") == nonce and kv.get("qop") == "auth" and \
        kv.get("nc") == "00000001" and \
        kv.get("digest-uri") == "xmpp/" + self.vars.get("domain", "") and \
        hmac.compare_digest(kv.get("response", ""), value("AUTHENTICATE"))
    if not ok:
        self.violation("%s: wrong DIGEST-MD5 response %r"
                       % (self.where, resp[:300]))
        self.send(("<failure xmlns='%s'><not-authorized/></failure>"
                   % SASL_NS).encode())
        raise Stop("bad DIGEST-MD5 response")
    self.log("digest: response ok")
    good = ("rspauth=" + value("")).encode()
    bad = ("rspauth=" + secrets.token_hex(16)).encode()
    mode = opt.get("rspauth", "correct")
    if mode in ("correct", "wrong"):
        self.send(self.sasl("challenge", good if mode == "correct"
                            else bad).encode())
        self.read_response()
        self.send(self.sasl("success").encode())
    elif mode == "success":
        self.send(self.sasl("success", good).encode())
    elif mode == "missing":
        self.send(self.sasl("success").encode())
    else:
        raise ScenarioError("unknown rspauth=" + mode)


def external_step(self, rest):
    """The external step (see the top of the file)."""
    mech, data = self.read_auth()
    if mech != "EXTERNAL" or data:
        self.violation("%s: expected EXTERNAL with an empty response, got "
                       "%s %r" % (self.where, mech, data[:80]))
    if mech == "EXTERNAL" and getattr(self, "peer_cert", None):
        self.send(self.sasl("success").encode())
    else:
        self.violation("%s: EXTERNAL without a client certificate"
                       % self.where)
        self.send(("<failure xmlns='%s'><not-authorized/></failure>"
                   % SASL_NS).encode())


Server.step_digest = digest_step
Server.step_external = external_step


def main():
    ap = argparse.ArgumentParser(description="scripted fake XMPP server")
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--transcript")
    ap.add_argument("--log")
    ap.add_argument("--cert-dir", default=".")
    ap.add_argument("--user", default="user")
    ap.add_argument("--password-file")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=30.0)
    ap.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="predefine ${NAME} (repeatable)")
    opts = ap.parse_args()
    try:
        steps = load_steps(opts.scenario)
        server = Server(opts)
        return 0 if server.run(steps) else 1
    except ScenarioError as e:
        print("fakeserver: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
