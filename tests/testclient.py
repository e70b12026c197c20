#!/usr/bin/env python3
"""testclient.py - a second XMPP client for the real-server tests.

    testclient.py PORT CAFILE JID PASSWORD offline
        log in (STARTTLS, SASL PLAIN) without sending presence, view the
        messages the server stored for the account with XEP-0013 flexible
        offline retrieval (viewed items stay stored) and print each, in
        the server's order, as one line of XML: CR and LF in text and attribute
        values written as &#13; and &#10;, no other whitespace added.
    testclient.py PORT CAFILE JID PASSWORD subscribe CONTACT
        send <presence type='subscribe'/> to CONTACT, so the server records
        ask=subscribe in the account's roster, and wait for the roster push.
    testclient.py PORT CAFILE JID PASSWORD await TYPE FROM [ANSWER]
        log in WITH presence (roster request, initial presence), print
        "ready" once the server answered a ping, then wait for a
        <presence type='TYPE'/> from FROM (any resource) and print it as
        one line of XML; with ANSWER, reply <presence type='ANSWER'/> to
        FROM (e.g. await subscribe alice@localhost subscribed) and wait
        until the server handled it.  Fails after 30 s without it.
    testclient.py PORT CAFILE JID PASSWORD request CONTACT
        as subscribe, after a roster request: servers (Prosody) push
        roster changes only to sessions that requested the roster.
    testclient.py PORT CAFILE JID PASSWORD receipts SECONDS
        send presence (messages are then delivered, not stored), print
        "ready" once the server handled it, then for SECONDS answer every
        message carrying <request xmlns='urn:xmpp:receipts'/> with
        <received id=.../> (XEP-0184) and print "received FROM ID BODY"
        for each, flushed at once.
    testclient.py PORT CAFILE JID PASSWORD muc-sit ROOM NICK STOPFILE [OPT...]
        join the group chat ROOM as NICK, creating it when it does not
        exist (then configured with OPTs: password=PW, members-only,
        moderated, persistent always); ban=JID bans JID from it (as its owner).
        Prints "ready" once in the room, then one line per groupchat
        message with a body from another occupant: NICK, id and body
        (CR and LF as &#13; and &#10;), tab-separated.  When STOPFILE
        exists, it sends a message to the room and waits for its
        reflection (every message sent to the room before has then been
        passed on), leaves and exits.
    testclient.py PORT CAFILE JID PASSWORD muc-history ROOM NICK
        join ROOM (which must exist: a join that creates it prints
        "created" and destroys it again) asking for its history, print
        each message of it as NICK, id, body (as muc-sit) and leave.
    testclient.py PORT CAFILE DOMAIN - features
        no login: STARTTLS, then print the SASL mechanisms the encrypted
        stream's features offer, sorted, one per line (--serverinfo's
        tests compare them).
    testclient.py PORT CAFILE JID PASSWORD muc-info ROOM
        print "exists" when ROOM answers disco#info, else the error
        condition (item-not-found: there is no such room).

Used by tests/lib/ejabberd.bash (kept out of tests/lib, whose files are
shell scripts for make lint): ejabberd 23.01 has no command that shows
stored messages. Talks only to 127.0.0.1 and checks the server certificate
against CAFILE for the host name of JID. Exit status: 0 done, 1 failure
(one "testclient: " line on stderr), 64 usage.
"""

import base64
import socket
import ssl
import sys
import time
import xml.parsers.expat

NS_OFFLINE = "http://jabber.org/protocol/offline"
TIMEOUT = 30.0


class Fail(Exception):
    pass


class Element:
    def __init__(self, name, attrs):
        self.name = name
        self.attrs = attrs
        self.children = []  # Element or str

    def child(self, name):
        for c in self.children:
            if isinstance(c, Element) and c.name == name:
                return c
        return None

    def text(self):
        return "".join(c for c in self.children if isinstance(c, str))


def esc(s, attr=False):
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attr:
        s = s.replace('"', "&quot;")
    return s.replace("\r", "&#13;").replace("\n", "&#10;")


def serialize(e):
    out = ["<", e.name]
    for k, v in e.attrs.items():
        out.append(' %s="%s"' % (k, esc(v, True)))
    if not e.children:
        out.append("/>")
        return "".join(out)
    out.append(">")
    for c in e.children:
        out.append(serialize(c) if isinstance(c, Element) else esc(c))
    out.append("</%s>" % e.name)
    return "".join(out)


class Stream:
    """One XML stream over a socket; stanzas are the depth-1 elements."""

    def __init__(self, sock):
        self.sock = sock
        self.stanzas = []
        self.restart()

    def restart(self):
        p = xml.parsers.expat.ParserCreate()  # no namespace processing
        p.buffer_text = True
        p.ordered_attributes = False
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._text
        self.parser = p
        self.stack = []
        self.closed = False

    def _start(self, name, attrs):
        e = Element(name, dict(attrs))
        if self.stack and len(self.stack) > 1:
            self.stack[-1].children.append(e)
        self.stack.append(e)

    def _end(self, name):
        e = self.stack.pop()
        if len(self.stack) == 1:
            self.stanzas.append(e)
        elif not self.stack:
            self.closed = True

    def _text(self, data):
        if len(self.stack) > 1:
            self.stack[-1].children.append(data)

    def send(self, data):
        self.sock.sendall(data.encode())

    def next(self):
        while not self.stanzas:
            if self.closed:
                raise Fail("server closed the stream")
            data = self.sock.recv(65536)
            if not data:
                raise Fail("connection closed")
            # An XML parser turns a raw CR into LF: keep what the server
            # sent, as a character reference.
            self.parser.Parse(data.replace(b"\r", b"&#13;"), False)
        return self.stanzas.pop(0)

    def header(self, domain):
        self.restart()
        self.send(
            "<?xml version='1.0'?><stream:stream to='%s' version='1.0' "
            "xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams'>" % esc(domain, True)
        )
        features = self.next()
        if features.name != "stream:features":
            raise Fail("expected stream features, got " + serialize(features))
        return features


def starttls(port, cafile, domain):
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s = Stream(raw)
    f = s.header(domain)
    if f.child("starttls") is None:
        raise Fail("no STARTTLS offered")
    s.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    r = s.next()
    if r.name != "proceed":
        raise Fail("STARTTLS refused: " + serialize(r))
    ctx = ssl.create_default_context(cafile=cafile)
    s.sock = ctx.wrap_socket(raw, server_hostname=domain)
    return s, s.header(domain)


def features(port, cafile, domain):
    s, f = starttls(port, cafile, domain)
    m = f.child("mechanisms")
    names = [c.text() for c in (m.children if m else [])
             if isinstance(c, Element) and c.name == "mechanism"]
    for n in sorted(names):
        print(n)
    s.send("</stream:stream>")
    s.sock.close()


def login(port, cafile, jid, password):
    user, domain = jid.split("@", 1)
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s = Stream(raw)
    f = s.header(domain)
    if f.child("starttls") is None:
        raise Fail("no STARTTLS offered")
    s.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    r = s.next()
    if r.name != "proceed":
        raise Fail("STARTTLS refused: " + serialize(r))
    ctx = ssl.create_default_context(cafile=cafile)
    s.sock = ctx.wrap_socket(raw, server_hostname=domain)
    f = s.header(domain)
    blob = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())
    s.send(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
        + blob.decode()
        + "</auth>"
    )
    r = s.next()
    if r.name != "success":
        raise Fail("authentication failed: " + serialize(r))
    s.header(domain)
    s.send(
        "<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
        "<resource>testclient</resource></bind></iq>"
    )
    iq_result(s, "bind")
    return s


def iq_result(s, want, keep=None):
    """Read until the result of iq `want`; other stanzas go to keep."""
    while True:
        e = s.next()
        if e.name == "iq" and e.attrs.get("id") == want:
            if e.attrs.get("type") != "result":
                raise Fail("iq %s failed: %s" % (want, serialize(e)))
            return e
        if keep is not None:
            keep.append(e)


def offline(s):
    # <fetch/> would route the messages to the bare JID, where a session
    # without presence does not get them: list the items and view each
    # one, which the server sends to this session and keeps stored.
    s.send(
        "<iq type='get' id='items'><query "
        "xmlns='http://jabber.org/protocol/disco#items' node='%s'/></iq>"
        % NS_OFFLINE
    )
    r = iq_result(s, "items")
    q = r.child("query")
    nodes = [
        c.attrs["node"]
        for c in (q.children if q is not None else [])
        if isinstance(c, Element) and c.name == "item" and "node" in c.attrs
    ]
    got = []
    if nodes:
        s.send(
            "<iq type='get' id='view'><offline xmlns='%s'>%s</offline></iq>"
            % (
                NS_OFFLINE,
                "".join(
                    "<item action='view' node='%s'/>" % esc(n, True) for n in nodes
                ),
            )
        )
        iq_result(s, "view", got)
    # The messages are routed before the result; a ping round trip makes
    # sure nothing is still on its way.
    s.send("<iq type='get' id='ping'><ping xmlns='urn:xmpp:ping'/></iq>")
    iq_result(s, "ping", got)
    for e in got:
        if e.name == "message":
            print(serialize(e))


def subscribe(s, contact):
    s.send("<presence type='subscribe' to='%s'/>" % esc(contact, True))
    # The roster push for the contact comes after the server updated it.
    while True:
        e = s.next()
        if e.name != "iq" or e.attrs.get("type") != "set":
            continue
        q = e.child("query")
        item = q.child("item") if q is not None else None
        s.send(
            "<iq type='result' id='%s'/>" % esc(e.attrs.get("id", ""), True)
        )
        if item is not None and item.attrs.get("jid") == contact:
            break
    s.send("<iq type='get' id='ping'><ping xmlns='urn:xmpp:ping'/></iq>")
    iq_result(s, "ping")


def answer_pushes(s, e):
    """Acknowledge a roster push (an IQ set from our server)."""
    if e.name == "iq" and e.attrs.get("type") == "set":
        s.send("<iq type='result' id='%s'/>" % esc(e.attrs.get("id", ""), True))


def await_presence(s, ptype, sender, answer):
    s.send("<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>")
    iq_result(s, "roster")
    s.send("<presence/>")
    s.send("<iq type='get' id='ready'><ping xmlns='urn:xmpp:ping'/></iq>")
    early = []
    iq_result(s, "ready", early)
    print("ready", flush=True)
    while True:
        e = early.pop(0) if early else s.next()
        answer_pushes(s, e)
        if (
            e.name == "presence"
            and e.attrs.get("type") == ptype
            and e.attrs.get("from", "").split("/")[0] == sender
        ):
            print(serialize(e), flush=True)
            break
    if answer:
        s.send(
            "<presence type='%s' to='%s'/>" % (esc(answer, True), esc(sender, True))
        )
    s.send("<iq type='get' id='done'><ping xmlns='urn:xmpp:ping'/></iq>")
    while True:
        e = s.next()
        answer_pushes(s, e)
        if e.name == "iq" and e.attrs.get("id") == "done":
            break


def receipts(s, seconds):
    s.send("<presence/>")
    s.send("<iq type='get' id='ping'><ping xmlns='urn:xmpp:ping'/></iq>")
    iq_result(s, "ping")
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        s.sock.settimeout(left)
        try:
            e = s.next()
        except (socket.timeout, TimeoutError):
            return
        if e.name != "message" or e.attrs.get("type") == "error":
            continue
        req = e.child("request")
        mid = e.attrs.get("id")
        if req is None or req.attrs.get("xmlns") != "urn:xmpp:receipts" or not mid:
            continue
        s.send(
            "<message to='%s' id='r-%s'><received xmlns='urn:xmpp:receipts' "
            "id='%s'/></message>"
            % (esc(e.attrs.get("from", ""), True), esc(mid, True), esc(mid, True))
        )
        body = e.child("body")
        print(
            "received %s %s %s"
            % (e.attrs.get("from", ""), mid, body.text() if body is not None else ""),
            flush=True,
        )


NS_MUC = "http://jabber.org/protocol/muc"


def muc_join(s, room, nick, password=None, history=False):
    """Join ROOM as NICK; returns (created, stanzas before self-presence
    and after it up to the subject)."""
    pw = "<password>%s</password>" % esc(password) if password else ""
    hist = "" if history else "<history maxstanzas='0'/>"
    s.send(
        "<presence to='%s/%s'><x xmlns='%s'>%s%s</x></presence>"
        % (esc(room, True), esc(nick, True), NS_MUC, hist, pw)
    )
    created = False
    while True:
        e = s.next()
        frm = e.attrs.get("from", "")
        if e.name != "presence" or frm.split("/")[0] != room:
            continue
        if e.attrs.get("type") == "error":
            raise Fail("cannot join %s: %s" % (room, serialize(e)))
        x = e.child("x")
        codes = [
            c.attrs.get("code")
            for c in (x.children if x is not None else [])
            if isinstance(c, Element) and c.name == "status"
        ]
        if "110" in codes:
            created = "201" in codes
            break
    got = []
    while True:
        e = s.next()
        if e.name == "message" and e.child("subject") is not None:
            break
        got.append(e)
    return created, got


def muc_line(e):
    body = e.child("body")
    return "\t".join(
        [e.attrs.get("from", "").partition("/")[2], e.attrs.get("id", ""),
         esc(body.text() if body is not None else "")]
    )


def muc_owner(s, room, payload, want):
    s.send("<iq type='set' id='%s' to='%s'><query "
           "xmlns='%s#owner'>%s</query></iq>" % (want, esc(room, True),
                                                NS_MUC, payload))
    iq_result(s, want)


def muc_sit(s, room, nick, stopfile, opts):
    import os

    password = None
    fields = ["<field var='FORM_TYPE'><value>%s#roomconfig</value></field>"
              % NS_MUC,
              "<field var='muc#roomconfig_persistentroom'><value>1</value>"
              "</field>"]
    bans = []
    for o in opts:
        if o.startswith("password="):
            password = o[len("password="):]
            fields.append("<field var='muc#roomconfig_passwordprotectedroom'>"
                          "<value>1</value></field>"
                          "<field var='muc#roomconfig_roomsecret'><value>"
                          "%s</value></field>" % esc(password))
        elif o == "moderated":
            # ejabberd gives newcomers voice unless members_by_default
            # is off (its own field; Prosody ignores it).
            fields.append("<field var='muc#roomconfig_moderatedroom'>"
                          "<value>1</value></field>"
                          "<field var='members_by_default'>"
                          "<value>0</value></field>")
        elif o == "members-only":
            fields.append("<field var='muc#roomconfig_membersonly'>"
                          "<value>1</value></field>")
        elif o.startswith("ban="):
            bans.append(o[len("ban="):])
        else:
            raise Fail("unknown muc-sit option " + o)
    created, _ = muc_join(s, room, nick, password)
    if created:
        muc_owner(s, room, "<x xmlns='jabber:x:data' type='submit'>%s</x>"
                  % "".join(fields), "config")
    for jid in bans:
        s.send("<iq type='set' id='ban' to='%s'><query xmlns='%s#admin'>"
               "<item affiliation='outcast' jid='%s'/></query></iq>"
               % (esc(room, True), NS_MUC, esc(jid, True)))
        iq_result(s, "ban")
    print("ready", flush=True)
    sentinel = None
    while True:
        if sentinel is None and os.path.exists(stopfile):
            sentinel = "muc-sit-stop"
            s.send("<message to='%s' type='groupchat' id='%s'><body>stop"
                   "</body></message>" % (esc(room, True), sentinel))
        s.sock.settimeout(0.2)
        try:
            e = s.next()
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        finally:
            s.sock.settimeout(TIMEOUT)
        if (e.name != "message" or e.attrs.get("type") != "groupchat"
                or e.attrs.get("from", "").split("/")[0] != room):
            continue
        if e.attrs.get("from", "").partition("/")[2] == nick:
            if sentinel is not None and e.attrs.get("id") == sentinel:
                break
            continue
        if e.child("body") is not None:
            print(muc_line(e), flush=True)
    s.send("<presence to='%s/%s' type='unavailable'/>"
           % (esc(room, True), esc(nick, True)))


def muc_history(s, room, nick):
    created, got = muc_join(s, room, nick, history=True)
    if created:
        print("created")
        muc_owner(s, room, "<destroy/>", "destroy")
        return
    for e in got:
        if e.name == "message" and e.child("body") is not None:
            print(muc_line(e))
    s.send("<presence to='%s/%s' type='unavailable'/>"
           % (esc(room, True), esc(nick, True)))


def muc_info(s, room):
    s.send("<iq type='get' id='info' to='%s'><query "
           "xmlns='http://jabber.org/protocol/disco#info'/></iq>"
           % esc(room, True))
    while True:
        e = s.next()
        if e.name == "iq" and e.attrs.get("id") == "info":
            break
    if e.attrs.get("type") == "result":
        print("exists")
        return
    err = e.child("error")
    conds = [c.name for c in (err.children if err is not None else [])
             if isinstance(c, Element) and c.name != "text"]
    print(conds[0] if conds else "undefined-condition")


COMMANDS = {"offline": (6, 6), "subscribe": (7, 7), "request": (7, 7),
            "receipts": (7, 7), "await": (8, 9), "muc-sit": (9, 99),
            "muc-history": (8, 8), "muc-info": (7, 7), "features": (6, 6)}


def main(argv):
    if len(argv) < 6 or argv[5] not in COMMANDS or not (
        COMMANDS[argv[5]][0] <= len(argv) <= COMMANDS[argv[5]][1]
    ):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 64
    port, cafile, jid, password, cmd = int(argv[1]), argv[2], argv[3], argv[4], argv[5]
    try:
        if cmd == "features":
            features(port, cafile, jid)
            return 0
        s = login(port, cafile, jid, password)
        if cmd == "offline":
            offline(s)
        elif cmd == "request":
            s.send("<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>")
            iq_result(s, "roster")
            subscribe(s, argv[6])
        elif cmd == "await":
            await_presence(s, argv[6], argv[7], argv[8] if len(argv) > 8 else None)
        elif cmd == "receipts":
            receipts(s, float(argv[6]))
        elif cmd == "subscribe":
            subscribe(s, argv[6])
        elif cmd == "muc-sit":
            muc_sit(s, argv[6], argv[7], argv[8], argv[9:])
        elif cmd == "muc-history":
            muc_history(s, argv[6], argv[7])
        else:
            muc_info(s, argv[6])
        s.send("</stream:stream>")
        s.sock.close()
    except (Fail, OSError, ValueError, xml.parsers.expat.ExpatError) as e:
        sys.stderr.write("testclient: %s: %s\n" % (jid, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
