#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make_corpus.py - write the seed corpora fuzz/corpus/TARGET/ (stdlib only).

    python3 fuzz/make_corpus.py [OUTDIR]      (default: fuzz/corpus)

Every directory it writes is emptied first; fuzz/regress/ is not touched.
The output is committed; rerun the script after changing it.

Session seeds replay what Prosody 0.12.3 sends to `xmppsend -d` (the S:
lines of real runs against tests/lib/prosody.bash, same element order and
attribute wording, same SCRAM parameters: a UUID server nonce, a UUID as
salt, i=10000), rewritten for the account of the RFC 5802 example
(user@example.com, password "pencil") and the fixed client nonce the
harness sets, with stanza ids xs-1, xs-2, ... as xmpp.c makes them then.
The client's flight is [<enable/>] messages [<r/>] ping, and its close
only follows the ping reply, so the server's answers end there (what a
server sends after the confirmation is never read).
The SCRAM values are computed here, so the exchanges are valid and the
fuzzer starts past authentication.  Seed formats: see the comment at the
top of each fuzz/fuzz_*.c.
"""

import base64
import hashlib
import hmac
import os
import shutil
import sys

USER = "user"
PASSWORD = "pencil"
DOMAIN = "example.com"
JID = USER + "@" + DOMAIN
CNONCE = "fyko+d2lbbFgONRv9qkxdawL"  # RFC 5802; the session harness uses it
CNONCE_7677 = "rOprNGfwEbeRWgbNEkqO"  # RFC 7677 (fuzz_scram, SHA-256)
HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256",
          "SCRAM-SHA-512": "sha512"}

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def scram(mech, snonce, salt, iters, cnonce=CNONCE, gs2="n,,", cbdata=b"",
          ext=""):
    """RFC 5802 section 3: (server-first, client-final, server-final);
    'ext' is appended to server-first (optional extensions)."""
    h = HASHES[mech]
    nonce = cnonce + snonce
    client_first_bare = "n=%s,r=%s" % (USER, cnonce)
    server_first = "r=%s,s=%s,i=%d%s" % (nonce, b64(salt), iters, ext)
    without_proof = "c=%s,r=%s" % (b64(gs2.encode() + cbdata), nonce)
    auth = ",".join((client_first_bare, server_first, without_proof)).encode()
    salted = hashlib.pbkdf2_hmac(h, PASSWORD.encode(), salt, iters)
    client_key = hmac.new(salted, b"Client Key", h).digest()
    stored_key = hashlib.new(h, client_key).digest()
    client_sig = hmac.new(stored_key, auth, h).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, client_sig))
    server_key = hmac.new(salted, b"Server Key", h).digest()
    server_sig = hmac.new(server_key, auth, h).digest()
    return (server_first, without_proof + ",p=" + b64(proof),
            "v=" + b64(server_sig))


def self_check():
    """The RFC examples must come out exactly, or every seed is wrong."""
    sf, cf, sfin = scram("SCRAM-SHA-1", "3rfcNHYJY1ZVvWVs7j",
                         base64.b64decode("QSXCR+Q6sek8bf92"), 4096)
    assert sf == ("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                  "s=QSXCR+Q6sek8bf92,i=4096"), sf
    assert cf.endswith(",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="), cf
    assert sfin == "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", sfin
    sf, cf, sfin = scram("SCRAM-SHA-256", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                         base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096,
                         cnonce=CNONCE_7677)
    assert cf.endswith(",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="), cf
    assert sfin == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", sfin


# ---------------------------------------------------------------------------
# Prosody 0.12 wording (copied from real runs; only names and ids changed)

SNONCE = "0f8d9b66-5a3e-4a8c-9f0e-2b8d4a61c7e3"  # Prosody: a UUID
SALT = b"4b1e7c52-93d0-4f6a-b0a8-6d2c1e9f7a35"  # Prosody: a UUID, raw
RES = "i2eQzUnGffnD"
FULL = JID + "/" + RES


def header(sid, to=None):
    to_attr = " to='%s'" % to if to else ""
    return ("<?xml version='1.0'?><stream:stream "
            "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' "
            "xml:lang='en' xmlns='jabber:client' from='%s' id='%s'%s>"
            % (DOMAIN, sid, to_attr))


F_TLS = ("<stream:features><starttls xmlns='%s'><required/></starttls>"
         "</stream:features>" % NS_TLS)
PROCEED = "<proceed xmlns='%s'/>" % NS_TLS


def f_sasl(*mechs):
    return ("<stream:features><mechanisms xmlns='%s'>%s</mechanisms>"
            "</stream:features>"
            % (NS_SASL, "".join("<mechanism>%s</mechanism>" % m
                                for m in mechs)))


F_BIND_PROSODY = (
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
    "<required/></bind><session xmlns='urn:ietf:params:xml:ns:xmpp-session'>"
    "<optional/></session><sm xmlns='urn:xmpp:sm:2'><optional/></sm>"
    "<sm xmlns='urn:xmpp:sm:3'><optional/></sm>"
    "<ver xmlns='urn:xmpp:features:rosterver'/>"
    "<c xmlns='http://jabber.org/protocol/caps' "
    "ver='RCsTrxK3Do+ACD6FaemxkXdEIlM=' hash='sha-1' "
    "node='http://prosody.im'/>"
    "<sub xmlns='urn:xmpp:features:pre-approval'/></stream:features>")
# Older servers: no stream management, legacy session required.
F_BIND_LEGACY = (
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
    "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"
    "</stream:features>")


def bound(iq_id, full=FULL):
    return ("<iq id='%s' type='result'><bind "
            "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s</jid></bind>"
            "</iq>" % (iq_id, full))


def sasl_el(name, payload):
    if payload is None:
        return "<%s xmlns='%s'/>" % (name, NS_SASL)
    return "<%s xmlns='%s'>%s</%s>" % (name, NS_SASL, b64(payload), name)


def iq_result(iq_id):
    return ("<iq to='%s' id='%s' from='%s' type='result'/>"
            % (FULL, iq_id, DOMAIN))


END = "</stream:stream>"


DIGEST_NONCE = "OA6MG9tEQGm2hh"
DIGEST_CHALLENGE = ('nonce="%s",qop="auth",charset=utf-8,algorithm=md5-sess'
                    % DIGEST_NONCE)


def digest_md5(nonce, prefix, user=USER, password=PASSWORD, realm="",
               cnonce=CNONCE, uri="xmpp/" + DOMAIN):
    """RFC 2831 response value (prefix "AUTHENTICATE") or rspauth ("")."""
    def md5(b):
        return hashlib.md5(b).digest()
    a1 = md5(("%s:%s:%s" % (user, realm, password)).encode()) + \
        (":%s:%s" % (nonce, cnonce)).encode()
    a2 = "%s:%s" % (prefix, uri)
    return md5(("%s:%s:00000001:%s:auth:%s" % (
        md5(a1).hex(), nonce, cnonce, md5(a2.encode()).hex())).encode()).hex()


def digest_seeds():
    """fuzz_digest: flags, challenge, NUL, rspauth (the first RFC 2831
    example), and mechanism lists."""
    ex = ('realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",'
          'algorithm=md5-sess,charset=utf-8')
    rsp = digest_md5("OA6MG9tEQGm2hh", "", user="chris", password="secret",
                     realm="elwood.innosoft.com", cnonce="OA6MHXh6VqTrRk",
                     uri="imap/elwood.innosoft.com")
    assert rsp == "ea40f60335c427b5527b84dbabcdfffd", rsp
    return {
        "rfc2831": b"\x0e" + ex.encode() + b"\0rspauth=" + rsp.encode(),
        "mechs": b"\x0eSCRAM-SHA-1,PLAIN,DIGEST-MD5,EXTERNAL\0",
        "ejabberd": b"\x0a" + DIGEST_CHALLENGE.encode() + b"\0rspauth=00",
    }


def login(mech="SCRAM-SHA-1", mechs=("SCRAM-SHA-1", "PLAIN"), iters=10000,
          features=F_BIND_PROSODY, final_as_challenge=False, sfinal=None):
    """Segments (pre-TLS, post-TLS up to the bind result)."""
    pre = header("abf85c09-f7c0-403e-afab-b4f2a8d43770") + F_TLS + PROCEED
    post = header("79122c31-4d4b-484e-afe6-d543466eacb9", JID) + f_sasl(*mechs)
    if mech == "PLAIN":
        post += sasl_el("success", None)
    elif mech == "DIGEST-MD5":
        # ejabberd's challenge (no realm); rspauth in a second challenge
        post += sasl_el("challenge", DIGEST_CHALLENGE.encode())
        post += sasl_el("challenge",
                        ("rspauth=" + digest_md5(DIGEST_NONCE, "")).encode())
        post += sasl_el("success", None)
    else:
        sf, _, sfin = scram(mech, SNONCE, SALT, iters)
        if sfinal is not None:
            sfin = sfinal
        post += sasl_el("challenge", sf)
        if final_as_challenge:
            post += sasl_el("challenge", sfin) + sasl_el("success", None)
        else:
            post += sasl_el("success", sfin)
    post += header("e000803d-e8d7-45c6-9e01-04b891bbc9a8", JID) + features
    post += bound("xs-1")
    return pre, post


def bounce(msg_id, sender, cond, text):
    return ("<message type='error' from='%s' id='%s' to='%s'>"
            "<error type='cancel'><%s xmlns='%s'/><text xmlns='%s'>%s</text>"
            "</error></message>" % (sender, msg_id, FULL, cond, NS_STANZAS,
                                    NS_STANZAS, text))


ROSTER = ("<iq type='result' id='xs-2' to='%s'><query xmlns='jabber:iq:roster'"
          " ver='2'><item subscription='both' jid='bob@example.com' "
          "name='Bob'><group>Friends</group></item><item subscription='to' "
          "jid='carol@example.com' name='Carol Zo\u00eb'><group>Friends"
          "</group><group>Work</group></item><item subscription='none' "
          "ask='subscribe' jid='dave@example.net'/></query></iq>" % FULL)

# Session flags (fuzz_session.c): 1 roster, 2 two recipients (1|2: an IQ
# request), 4 PLAIN, 8 trace, 16 resource, bits 5-7 read size index.
ROSTER_F, TWO, PLAIN, TRACE, RESOURCE = 1, 2, 4, 8, 16
IQ = ROSTER_F | TWO


def chunk(i):
    return i << 5


def session_seeds():
    s = {}
    pre, post = login()
    # xmppsend -m hi bob@localhost: enable, message xs-2, r, ping xs-3;
    # then our close, and Prosody's last ack and close.
    sent = ("<enabled xmlns='urn:xmpp:sm:3'/><a xmlns='urn:xmpp:sm:3' h='1'/>"
            + iq_result("xs-3") + "<a xmlns='urn:xmpp:sm:3' h='2'/>" + END)
    s["prosody-send-sm"] = (0, pre, post + sent)
    s["prosody-send-sm-trace-chunk7"] = (TRACE | chunk(4), pre, post + sent)
    # DIGEST-MD5 as the only mechanism (needs a verified connection: the
    # PLAIN flag); the rspauth is checked before <success/>.
    pre_d, post_d = login("DIGEST-MD5", ("DIGEST-MD5", "X-OAUTH2"))
    s["digest-md5-send-trace"] = (PLAIN | TRACE, pre_d, post_d + sent)
    # Two recipients, the second bounces (Prosody without s2s).
    two = ("<enabled xmlns='urn:xmpp:sm:3'/>"
           + bounce("xs-3", "romeo@example.net", "not-allowed",
                    "Communication with remote domains is not enabled")
           + "<a xmlns='urn:xmpp:sm:3' h='2'/><r xmlns='urn:xmpp:sm:3'/>"
           + iq_result("xs-4") + "<a xmlns='urn:xmpp:sm:3' h='3'/>" + END)
    s["prosody-bounce"] = (TWO, pre, post + two)
    # --roster
    s["prosody-roster"] = (ROSTER_F | TRACE, pre, post + ROSTER + END)
    # Wrong password.
    pre_f = pre
    post_f = (header("79122c31-4d4b-484e-afe6-d543466eacb9", JID)
              + f_sasl("SCRAM-SHA-1", "PLAIN")
              + sasl_el("challenge", scram("SCRAM-SHA-1", SNONCE, SALT,
                                           10000)[0])
              + "<failure xmlns='%s'><not-authorized/><text>Unable to "
                "authorize you with the authentication credentials you've "
                "sent.</text></failure>" % NS_SASL)
    s["prosody-auth-failure"] = (TRACE, pre_f, post_f)

    # Not Prosody's defaults, same wording: SHA-256 with server-final as a
    # challenge (RFC 6120 6.3.10), legacy session, ping confirmation.
    pre2, post2 = login("SCRAM-SHA-256", ("SCRAM-SHA-1", "SCRAM-SHA-256"),
                        iters=4096, features=F_BIND_LEGACY,
                        final_as_challenge=True)
    legacy = (iq_result("xs-2") + iq_result("xs-4") + END)
    s["sha256-final-challenge-legacy-session"] = (RESOURCE, pre2,
                                                  post2 + legacy)
    # SHA-512; the server pings us and pushes a roster item first.
    pre3, post3 = login("SCRAM-SHA-512",
                        ("SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1"),
                        iters=4096,
                        features="<stream:features><bind xmlns='urn:ietf:"
                                 "params:xml:ns:xmpp-bind'/>"
                                 "</stream:features>")
    pushes = ("<iq type='get' id='s2c1' from='%s'><ping xmlns='urn:xmpp:ping'"
              "/></iq><iq type='set' id='push1'><query xmlns='jabber:iq:"
              "roster'><item jid='eve@example.org' subscription='none'/>"
              "</query></iq><iq type='get' id='v1' from='x@y'><query "
              "xmlns='jabber:iq:version'/></iq>" % DOMAIN)
    s["sha512-server-iqs-two"] = (TWO | chunk(2), pre3,
                                  post3 + pushes + iq_result("xs-4") + END)
    # PLAIN only (allowed by flag).
    pre4, post4 = login("PLAIN", ("PLAIN",), features=F_BIND_PROSODY)
    s["plain-only"] = (PLAIN | TRACE, pre4, post4 + sent)
    # Stream error while binding.
    pre5, post5 = login()
    post5 = post5[: post5.index("<iq id='xs-1'")]
    s["stream-error-shutdown"] = (
        0, pre5, post5 + "<stream:error><system-shutdown xmlns='%s'/><text "
        "xmlns='%s'>Server is shutting down</text></stream:error>" % (
            NS_STREAMS, NS_STREAMS) + END)
    # Hostile: a wrong server signature, cleartext after <proceed/>, no
    # STARTTLS at all.
    pre6, post6 = login(sfinal="v=AAAApqV8S7suAoZWja4dJRkFsKQ=")
    s["hostile-bad-signature"] = (0, pre6, post6 + sent)
    s["hostile-after-proceed"] = (chunk(1), pre + sasl_el("success", None),
                                  post + sent)
    s["hostile-no-starttls"] = (0, header("x") + "<stream:features/>", "")
    # SCRAM <success/> without v=: mutual authentication must fail.
    cut = post.index("<success")
    s["hostile-success-without-signature"] = (
        0, pre, post[:cut] + sasl_el("success", None) + post[
            post.index(header("e000803d-e8d7-45c6-9e01-04b891bbc9a8", JID)):]
        + sent)
    # Failures at the later SASL steps.
    fail_tmp = ("<failure xmlns='%s'><temporary-auth-failure/></failure>"
                % NS_SASL)
    s["sasl-failure-after-response"] = (0, pre, post[:cut] + fail_tmp)
    cut2 = post2.index("<challenge", post2.index("<challenge") + 1)
    s["sasl-failure-after-final-challenge"] = (
        0, pre2, post2[:post2.index("<success", cut2)] + fail_tmp)
    # IQ errors: bind, legacy session, roster.
    bind_err = ("<iq id='xs-1' type='error'><error type='wait'>"
                "<resource-constraint xmlns='%s'/></error></iq>" % NS_STANZAS)
    s["bind-error-wait"] = (0, pre, post[:post.index("<iq id='xs-1'")]
                            + bind_err)
    s["session-error"] = (
        0, pre2, post2 + "<iq id='xs-2' type='error' from='%s'><error "
        "type='cancel'><internal-server-error xmlns='%s'/></error></iq>"
        % (DOMAIN, NS_STANZAS))
    s["roster-error"] = (
        ROSTER_F, pre, post + "<iq type='error' id='xs-2'><error "
        "type='cancel'><service-unavailable xmlns='%s'/></error></iq>"
        % NS_STANZAS + END)
    # Bounces of each class for two recipients, then the ping reply.
    waits = ("<message type='error' from='juliet@example.net' id='xs-2'>"
             "<error type='wait'><resource-constraint xmlns='%s'/></error>"
             "</message>" % NS_STANZAS
             + bounce("xs-3", "romeo@example.net", "gone", "moved"))
    s["bounce-wait-and-gone"] = (TWO, pre3, post3 + waits + iq_result("xs-4")
                                 + END)
    s.update(new_flow_seeds(pre, post, pre3, post3))
    s.update(sasl2_seeds(pre))
    return s


# ---------------------------------------------------------------------------
# SASL2 (XEP-0388) + Bind2 (XEP-0386) + FAST (XEP-0484), Prosody 13's
# element order.  FAST_TOKEN is the token fuzz_session.c keeps in its
# in-memory state under flag 4 (PLAIN); with flag 2 it has none and asks.

NS_SASL2 = "urn:xmpp:sasl:2"
FAST_TOKEN = "fuzz-fast-token-7Qx"
A2 = ("<authentication xmlns='%s'><mechanism>SCRAM-SHA-1</mechanism>"
      "<mechanism>PLAIN</mechanism><inline><bind xmlns='urn:xmpp:bind:0'>"
      "<inline><feature var='urn:xmpp:sm:3'/></inline></bind>"
      "<sm xmlns='urn:xmpp:sm:3'/><fast xmlns='urn:xmpp:fast:0'>"
      "<mechanism>HT-SHA-256-NONE</mechanism></fast></inline>"
      "</authentication>" % NS_SASL2)


def sasl2_success(data, token=None, aid=FULL, sm=True):
    """<success/> with additional data, the bound JID, <bound/> (with
    inline SM's <enabled/>) and a token; then the features (no restart)."""
    return ("<success xmlns='%s'><additional-data>%s</additional-data>"
            "<authorization-identifier>%s</authorization-identifier>"
            "<bound xmlns='urn:xmpp:bind:0'>%s</bound>%s</success>"
            "<stream:features><ver xmlns='urn:xmpp:features:rosterver'/>"
            "</stream:features>"
            % (NS_SASL2, b64(data), aid,
               "<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/>"
               if sm else "",
               "<token xmlns='urn:xmpp:fast:0' token='%s' "
               "expiry='2099-01-01T00:00:00Z'/>" % token if token else ""))


def sasl2_seeds(pre):
    """Session seeds that log in with SASL2: SCRAM, then the job."""
    s = {}
    post = (header("2d5c8b1e-6f0a-4c3e-9d7b-1a2b3c4d5e6f", JID)
            + "<stream:features>" + f_sasl("SCRAM-SHA-1", "PLAIN")[17:-18]
            + A2 + "</stream:features>")
    sf, _, sfin = scram("SCRAM-SHA-1", SNONCE, SALT, 10000)
    chal = "<challenge xmlns='%s'>%s</challenge>" % (NS_SASL2, b64(sf))
    # The job with inline SM: message xs-1, <r/>, ping xs-2.
    job = ("<a xmlns='urn:xmpp:sm:3' h='1'/>" + iq_result("xs-2")
           + "<a xmlns='urn:xmpp:sm:3' h='2'/>" + END)
    s["sasl2-scram-send"] = (0, pre, post + chal
                             + sasl2_success(sfin.encode()) + job)
    # No token yet (flags 4|2: FAST, two recipients): asks for one.
    job2 = ("<a xmlns='urn:xmpp:sm:3' h='2'/>" + iq_result("xs-3")
            + "<a xmlns='urn:xmpp:sm:3' h='3'/>" + END)
    s["sasl2-scram-new-token-trace"] = (
        PLAIN | TWO | TRACE, pre,
        post + chal + sasl2_success(sfin.encode(), "n3w-T0ken") + job2)
    # The saved token (flag 4): HT-SHA-256-NONE, the server's proof.
    resp = hmac.new(FAST_TOKEN.encode(), b"Responder", "sha256").digest()
    s["fast-token-send"] = (PLAIN | chunk(3), pre,
                            post + sasl2_success(resp, "r0tated") + job)
    # The token refused: SCRAM on the same stream.
    fail = ("<failure xmlns='%s'><not-authorized xmlns='%s'/></failure>"
            % (NS_SASL2, NS_SASL))
    s["fast-refused-then-scram"] = (
        PLAIN | TRACE, pre,
        post + fail + chal + sasl2_success(sfin.encode(), "n3w") + job)
    # Hostile: a foreign JID; a <continue/>.
    s["sasl2-foreign-jid"] = (0, pre, post + chal + sasl2_success(
        sfin.encode(), aid="mallory@example.com/x") + job)
    s["sasl2-continue"] = (0, pre, post + chal
                           + "<continue xmlns='%s'><tasks><task>HOTP"
                             "</task></tasks></continue>" % NS_SASL2)
    return s


def stream_error(cond, text, extra=""):
    return ("<stream:error><%s xmlns='%s'/><text xmlns='%s'>%s</text>%s"
            "</stream:error>" % (cond, NS_STREAMS, NS_STREAMS, text, extra)
            + END)


def new_flow_seeds(pre, post, pre3, post3):
    """What tests/fake/scenarios checks of the one-flight session: the
    ping reply confirms (an ack alone does not), bounces match by id and
    sender, stream errors and strays while waiting, XEP-0478 limits."""
    s = {}
    enabled = "<enabled xmlns='urn:xmpp:sm:3'/>"
    s["sm-ack-without-ping-reply"] = (
        0, pre, post + enabled + "<a xmlns='urn:xmpp:sm:3' h='1'/>"
        "<a xmlns='urn:xmpp:sm:3' h='2'/>")
    s["sm-ack-too-high"] = (
        0, pre, post + enabled + "<a xmlns='urn:xmpp:sm:3' h='3'/>"
        + iq_result("xs-3"))
    # post3: no stream management; message xs-2, ping xs-3.
    s["bounce-wrong-from"] = (
        0, pre3, post3 + bounce("xs-2", "mallory@evil.example",
                                "item-not-found", "x") + iq_result("xs-3"))
    s["bounce-full-jid-and-other-recipient"] = (
        TWO | chunk(3), pre3, post3
        + bounce("xs-2", "romeo@example.net", "item-not-found", "not his")
        + bounce("xs-3", "romeo@example.net/balcony", "service-unavailable",
                 "")
        + iq_result("xs-4"))
    s["bounce-recipient-unavailable"] = (
        0, pre3, post3 + "<message type='error' from='example.net' "
        "id='xs-2'><error type='wait'><recipient-unavailable xmlns='%s'/>"
        "</error></message>" % NS_STANZAS + iq_result("xs-3"))
    s["policy-violation-too-big"] = (
        0, pre3, post3 + stream_error(
            "policy-violation", "XML stanza is too big",
            "<stanza-too-big xmlns='urn:xmpp:errors'/>"))
    limits = ("<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>%d"
              "</max-bytes><idle-seconds>600</idle-seconds></limits>")
    bind_f = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
    cut = post3.index("<stream:features>", post3.index("<success"))
    for name, size in (("limits-exceeded", 60),
                       ("limits-not-exceeded", 10000)):
        s[name] = (TWO, pre3, post3[:cut] + "<stream:features>" + bind_f
                   + limits % size + "</stream:features>" + bound("xs-1")
                   + iq_result("xs-4"))
    s["stray-proceed-after-bind"] = (0, pre3, post3 + PROCEED
                                     + iq_result("xs-3"))
    s["stray-success-before-ping-reply"] = (
        0, pre, post + enabled + "<a xmlns='urn:xmpp:sm:3' h='1'/>"
        + sasl_el("success", None) + iq_result("xs-3"))
    s["bind-case-folded"] = (
        0, pre3, post3.replace(FULL, "USER@Example.COM/" + RES)
        + iq_result("xs-3"))
    s["bind-foreign"] = (
        0, pre3, post3.replace(FULL, "mallory@" + DOMAIN + "/" + RES)
        + iq_result("xs-3"))
    s["roster-control-chars"] = (
        ROSTER_F, pre3, post3 + "<iq type='result' id='xs-2'><query "
        "xmlns='jabber:iq:roster'><item jid='evil@example.com' name='Evil&#9;"
        "Tab&#10;Line&#13;CR&#127;Del&#x9b;2J' subscription='both'><group>"
        "G&#x9b;1</group></item></query></iq>")
    s["iq-disco-info"] = (
        IQ | TRACE, pre3, post3 + "<iq type='result' id='xs-2' from='%s' "
        "to='%s'><query xmlns='http://jabber.org/protocol/disco#info'>"
        "<identity category='server' type='im' name='Prosody'/><feature "
        "var='urn:xmpp:ping'/></query></iq>" % (DOMAIN, FULL))
    s["iq-disco-info-error"] = (
        IQ, pre3, post3 + "<iq type='error' id='xs-2' from='%s'><error "
        "type='cancel'><service-unavailable xmlns='%s'/></error></iq>"
        % (DOMAIN, NS_STANZAS))
    return s


def stream_seeds(sessions):
    s = {}
    # The Prosody and SHA-256/512 transcripts as one stream, in several
    # piece patterns (the other session seeds add nothing here).
    modes = [(0, 0), (1, 6), (2, 31), (2, 200), (3, 0)]
    chosen = sorted((n, v) for n, v in sessions.items()
                    if n.startswith(("prosody-", "sha")))
    for i, (name, (_, pre, post)) in enumerate(chosen):
        flags, seed = modes[i % len(modes)]
        s[name] = bytes([flags, seed]) + (pre + post).encode()
    s0 = ("<stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
    extra = {
        "doctype": "<!DOCTYPE x [<!ENTITY a 'b'>]>" + s0,
        "entity-ref": s0 + "<a>&foo;</a>",
        "pi": s0 + "<?pi x?>",
        "comment": s0 + "<!-- c -->",
        "cdata-and-amp": s0 + "<a u='x?a=1&amp;b=2&#38;c&lt;' t='&#38;#38;'>"
        "1 &amp; 2<![CDATA[<x>]]></a>",
        "depth-33": s0 + "<a>" * 33,
        "attrs-65": s0 + "<a" + "".join(" a%d='x'" % i for i in range(65))
        + "/>",
        "wrong-root": "<stream xmlns='x'>",
        "text-outside": s0 + "text<a/>",
        "whitespace-keepalive": "  \n" + s0 + " \n <a/>\n ",
        "utf16-bom": "\ufeff" + s0,
    }
    for name, doc in extra.items():
        s[name] = bytes([1, 3]) + doc.encode()
    # Bigger than the stanza cap the flag sets (64 + 4096 bytes).
    s["stanza-limit"] = bytes([4 | 1, 255]) + (
        s0 + "<a>" + "0123456789abcdef" * 300 + "</a>").encode()
    return s


def scram_seeds():
    s = {}
    rfc5802 = scram("SCRAM-SHA-1", "3rfcNHYJY1ZVvWVs7j",
                    base64.b64decode("QSXCR+Q6sek8bf92"), 4096)
    rfc7677 = scram("SCRAM-SHA-256", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                    base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096,
                    cnonce=CNONCE_7677)
    sha512 = scram("SCRAM-SHA-512", SNONCE, SALT, 4096)
    cb = bytes([1, 2, 3, 4, 5, 6, 7, 8]) + bytes(24)
    # flags: mech = f % 3; gs2 = (f / 3) % 3: n, y, p=tls-exporter.
    y_flag = scram("SCRAM-SHA-1", SNONCE, SALT, 4096, gs2="y,,")
    p_flag = scram("SCRAM-SHA-256", SNONCE, SALT, 4096, cnonce=CNONCE_7677,
                   gs2="p=tls-exporter,,", cbdata=cb)

    def seed(flags, first, final):
        return bytes([flags]) + first.encode() + b"\0" + final.encode()

    s["rfc5802-sha1"] = seed(0, rfc5802[0], rfc5802[2])
    s["rfc7677-sha256"] = seed(1, rfc7677[0], rfc7677[2])
    s["sha512"] = seed(2, sha512[0], sha512[2])
    s["sha1-gs2-y"] = seed(3, y_flag[0], y_flag[2])
    s["sha256-tls-exporter"] = seed(7, p_flag[0], p_flag[2])
    s["sha1-server-error"] = seed(0, rfc5802[0], "e=invalid-proof")
    s["sha1-bad-signature"] = seed(0, rfc5802[0],
                                   "v=AAAApqV8S7suAoZWja4dJRkFsKQ=,x=1")
    ext = scram("SCRAM-SHA-1", "3rfcNHYJY1ZVvWVs7j",
                base64.b64decode("QSXCR+Q6sek8bf92"), 4096, ext=",d=1,h=abc")
    s["sha1-extensions"] = seed(0, ext[0], ext[2] + ",x=ignored")
    s["mandatory-extension"] = seed(0, "m=ext," + rfc5802[0], "")
    s["nonce-not-ours"] = seed(0, "r=abc,s=QSXCR+Q6sek8bf92,i=4096", "")
    s["iter-too-high"] = seed(0, rfc5802[0].replace("i=4096", "i=4294967295"),
                              "")
    s["iter-leading-zero"] = seed(0, rfc5802[0].replace("i=4096", "i=04096"),
                                  "")
    s["salt-not-strict"] = seed(0, rfc5802[0].replace("f92", "f9="), "")
    s["text-escapes"] = (b"\x80" + "\x1b[31mred\x1b[0m \x1b]0;title\x07 "
                         "\u009b2J \u202e bidi \ufffe".encode()
                         + b" \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80")
    s["base64"] = b"\x01" + b"cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0w="
    return s


def jid_seeds():
    good = ["user@example.com", "example.com", "user@example.com/res",
            "user@example.com./r/with/slash", "\u00e4@b\u00fccher.example",
            "user@[::1]", "a@b/c@d", "u@Example.COM./r"]
    s = {"jid-%d" % i: j.encode() for i, j in enumerate(good)}
    s["domain-eq"] = b"user@Example.COM/r\0example.com"
    s["bad-utf8"] = b"\xff@example.com"
    s["bad-control"] = b"a\x01@example.com"
    s["bad-chars"] = b"a<b@exa mple.com/"
    s["long-local"] = b"a" * 1024 + b"@example.com"
    # PRECIS: case, width and NFC mapping; refused code points; Bidi
    s["precis-map"] = ("\u00c4\uff2e\uff2eE@B\u00dcCHER.example/a\u3000b"
                       "\0xn--bcher-kva.example").encode()
    s["precis-nfd"] = "A\u0308nne@xn--bcher-kva.example/\u1680".encode()
    s["precis-bad"] = "henry\u2163@example.com".encode()
    s["precis-bidi"] = "\u05d0\u05d1@example.com/\u05d0a".encode()
    s["precis-context"] = "l\u00b7l\u0915\u094d\u200d@example.com".encode()
    return s


def config_seeds():
    return {
        "full": b"# xmppsend config\n"
                b"jid alice@example.com\n"
                b"password-file /home/alice/.xmpp-pw\n"
                b"server xmpp.example.com:5222\n"
                b"cafile /etc/ssl/certs/ca.pem\n"
                b"pin sha256:0123abcd\n"
                b"timeout 30\n"
                b"type chat\n"
                b"resource laptop\n"
                b"\n"
                b"  debug\n"
                b"quiet off\n"
                b"json yes\n"
                b"insecure false\n",
        "crlf-tabs": b"jid\tbob@example.com\r\n\t password  s3cret \t\r\n"
                     b"subject hello world\r\nthread t1",
        "unknown-key": b"jid a@b\nbogus 1\n",
        "missing-value": b"jid\n",
        "bad-bool": b"debug maybe\n",
        "accounts": b"timeout 20\ndefaults\ncafile ~/ca.pem\n"
                    b"account base\nserver \"127.0.0.1:5222\"  # c\n"
                    b"account other\nresource r\n"
                    b"account work : base, other\njid a@example.com\n"
                    b"subject \"say \\\"hi\\\" \\\\\"\n"
                    b"account default : work\n",
        "account-loop": b"account default : a\naccount a : b\n"
                        b"account b : a\n",
        "bad-quote": b"account default\nsubject \"open\n",
        "nul-byte": b"jid a@b\0c\n",
        "password-command": b"password-command pass show xmpp | head -1\n",
    }


# fuzz_muc.c flags: 1 --create-room, 2 two rooms, 4 room password,
# 8 trace; bits 5-7 read size index.  Ids: bind xs-1, then per room a
# join and its message (xs-2, xs-3; the second room xs-4, xs-5).
MUC_CREATE, MUC_TWO, MUC_PW, MUC_TRACE = 1, 2, 4, 8
ROOM = "room@conference.example.com"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"


def muc_self(room, nick, pid, codes=("110",)):
    return ("<presence from='%s/%s' id='%s' to='%s'><x xmlns='%s'>"
            "<item affiliation='owner' role='moderator'/>%s</x></presence>"
            % (room, nick, pid, FULL, NS_MUC_USER,
               "".join("<status code='%s'/>" % c for c in codes)))


def muc_reflect(room, nick, mid):
    return ("<message from='%s/%s' type='groupchat' id='%s' to='%s'>"
            "<body>hi &amp; &lt;bye&gt;</body></message>"
            % (room, nick, mid, FULL))


def muc_error(name, room, nick, sid, cond, etype="cancel"):
    return ("<%s from='%s%s' type='error' id='%s' to='%s'><error type='%s'>"
            "<%s xmlns='%s'/><text xmlns='%s'>no</text></error></%s>"
            % (name, room, "/" + nick if nick else "", sid, FULL, etype,
               cond, NS_STANZAS, NS_STANZAS, name))


def muc_seeds():
    pre, post = login()
    post += "<enabled xmlns='urn:xmpp:sm:3'/>"
    subject = ("<message from='%s' type='groupchat'><subject/></message>"
               % ROOM)
    s = {}
    s["join-reflect"] = (0, post + muc_self(ROOM, "user", "xs-2") + subject
                         + muc_reflect(ROOM, "user", "xs-3") + END)
    s["join-reflect-chunk3-trace"] = (
        MUC_TRACE | MUC_PW | chunk(3),
        post + muc_self(ROOM, "user", "xs-2") + subject
        + muc_reflect(ROOM, "user", "xs-3") + END)
    s["password-wrong"] = (MUC_PW | MUC_TRACE, post
                           + muc_error("presence", ROOM, "user", "xs-2",
                                       "not-authorized", "auth")
                           + muc_error("message", ROOM, None, "xs-3",
                                       "not-acceptable") + END)
    # Conflict, then the suffixed nick user-xs-4 (join xs-5, message xs-6).
    s["conflict-retry"] = (0, post
                           + muc_error("presence", ROOM, "user", "xs-2",
                                       "conflict")
                           + muc_error("message", ROOM, None, "xs-3",
                                       "not-acceptable")
                           + muc_self(ROOM, "user-xs-4", "xs-5")
                           + muc_reflect(ROOM, "user-xs-4", "xs-6") + END)
    # A new room without --create-room: made temporary (xs-4), destroyed
    # (xs-5).
    s["created-destroyed"] = (0, post
                              + muc_self(ROOM, "user", "xs-2",
                                         ("201", "110"))
                              + muc_reflect(ROOM, "user", "xs-3")
                              + "<iq from='%s' type='result' id='xs-4'/>"
                              % ROOM
                              + "<iq from='%s' type='result' id='xs-5'/>"
                              % ROOM + END)
    s["created-instant"] = (MUC_CREATE, post
                            + muc_self(ROOM, "user", "xs-2", ("201", "110"))
                            + muc_reflect(ROOM, "user", "xs-3")
                            + "<iq from='%s' type='result' id='xs-4'/>"
                            % ROOM + END)
    other = "other@conference.example.com"
    s["two-rooms-one-full"] = (MUC_TWO, post
                               + muc_self(ROOM, "user-renamed", "xs-2",
                                          ("110", "210"))
                               + muc_error("presence", other, "user", "xs-4",
                                           "service-unavailable", "wait")
                               + muc_reflect(ROOM, "user-renamed", "xs-3")
                               + END)
    return {name: bytes([flags]) + pre.encode() + b"\0" + post_.encode()
            for name, (flags, post_) in s.items()}


def write(outdir, target, seeds):
    d = os.path.join(outdir, target)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return len(seeds)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    self_check()
    sessions = session_seeds()
    session = {name: bytes([flags]) + pre.encode() + b"\0" + post.encode()
               for name, (flags, pre, post) in sessions.items()}
    n = 0
    n += write(outdir, "fuzz_session", session)
    n += write(outdir, "fuzz_stream", stream_seeds(sessions))
    n += write(outdir, "fuzz_scram", scram_seeds())
    n += write(outdir, "fuzz_jid", jid_seeds())
    n += write(outdir, "fuzz_config", config_seeds())
    n += write(outdir, "fuzz_muc", muc_seeds())
    n += write(outdir, "fuzz_digest", digest_seeds())
    print("make_corpus.py: %d seeds in %s" % (n, outdir))


if __name__ == "__main__":
    main()
