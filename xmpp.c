/* SPDX-License-Identifier: MIT */
/*
 * xmpp.c - the client session, as a straight sequence of steps
 * (RFC 6120 section numbers):
 *
 *   1. stream header + <starttls/> (one flight), features 4.2, 4.3
 *   2. <proceed/> (STARTTLS offered, or abort), TLS     5.4
 *      (no <starttls/> offered: abort, nothing else sent; any byte after
 *      <proceed/> before the handshake: abort, injection)
 *      (direct TLS, XEP-0368: the transport is TLS from the start and
 *      1-2 are skipped)
 *   3. new stream header, features with <mechanisms/>   5.4.3.3
 *      (with the offer of the last login remembered in the state file:
 *      the first SASL message goes with the header, guess_begin; the
 *      choice is made again on the real features, guess_holds)
 *   4. SASL: SCRAM-SHA-512/256/1(-PLUS), else PLAIN     6.4
 *      (channel binding and XEP-0474 checks: plan_scram)
 *      (the server's v= signature is verified before anything else)
 *      SASL2 + Bind2 where offered (XEP-0388, XEP-0386): the same SCRAM
 *      in <authenticate/>, bound (with inline SM) in <success/>, no
 *      restart, step 5 skipped; FAST (XEP-0484): a token from the
 *      state file instead of SCRAM, and with a token the header,
 *      <authenticate/> and the first job go in one flight (fast_guess,
 *      fast_settle)
 *   5. new stream header + bind request, pipelined      6.4.6, 7
 *      legacy session only when not <optional/>         (RFC 3921 3)
 *      (line mode after a drop: header + <resume/> instead, XEP-0198 5;
 *      <failed/>: bind)
 *   6. jobs, each one flight: [<enable/>] stanzas [<r/>] [ping], then
 *      wait for what the job needs (IQ reply by id and sender, the
 *      ping reply after messages, the ack), collecting bounces
 *   7. xmpp_close: [<a/>] </stream:stream> only once every answer is
 *      in (ejabberd drops answers to what shares a flight with the
 *      close), then close_notify; no wait for the server's close  4.4
 *      (xmpp_detach: no </stream:stream>, the server keeps the session)
 *
 * A pipelined step that guessed wrong costs a round trip (or, for a
 * server that no longer knows SASL2 or refuses the token, one new login:
 * xmpp_retry_login), never the message.
 * All waiting goes through next_element(), which enforces the one
 * deadline, answers stray IQs and turns stream errors into exit classes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "jid.h"
#include "sasl.h"
#include "state.h"
#include "xml.h"
#include "xmpp.h"

/* Bounds on what the login, and then each flight, may receive
 * (protocol.md 10.8): per flight, so that a long line mode session
 * (-i) is not ended by its own length, while a flood within one wait
 * still is. */
#define MAX_READ_TOTAL (64L * 1024 * 1024)
#define MAX_STANZAS 10000
/* At most this long to write our </stream:stream> (within the deadline). */
#define CLOSE_WRITE_MS 1000
/* XEP-0478 stream limits. */
#define NS_LIMITS "urn:xmpp:stream-limits:0"
/* XEP-0440 channel-binding types. */
#define NS_SASL_CB "urn:xmpp:sasl-cb:0"
/* SASL2 (XEP-0388), Bind2 (XEP-0386), FAST (XEP-0484). */
#define NS_SASL2 "urn:xmpp:sasl:2"
#define NS_BIND2 "urn:xmpp:bind:0"
#define NS_FAST "urn:xmpp:fast:0"

enum sm_state { SM_NONE = 0, SM_REQUESTED, SM_ENABLED, SM_FAILED };

/* What one flight waits for (see flight_wait). */
struct xmpp_await {
    const char *what;  /* for messages: "while <what>" */
    const char *iq_id; /* an IQ request whose reply is wanted */
    const char *iq_to; /* where it went (NULL: our account) */
    struct xnode *iq_reply;
    char ping[24];            /* the ping that closes the flight, or "" */
    int pinged;               /* its reply arrived */
    struct xmpp_recipient *r; /* messages of this flight, for bounces */
    size_t nr;
    unsigned long sm_need; /* XEP-0198: an ack must reach this h */
    struct xmpp_wait *job; /* a job outside this file (xmpp_flight) */
};

/* Where trace_recv is in the server's XML, across reads. */
struct trace_scan {
    int in_tag, closing, name_done, secret, redacted, bang;
    int hide; /* inside a secret attribute value */
    char last, quote, prev[2];
    char name[24];
    size_t nlen;
    char attr[8]; /* the attribute name being read */
    size_t alen;
};

struct xmpp_session {
    struct xmpp_config cfg;
    const struct xs_io *io;
    struct xml_parser *xml;
    struct jid me;
    struct buf out;    /* pending output */
    char *bound_jid;   /* from the bind result */
    int authenticated; /* SASL succeeded (and the server proved itself) */
    int closed_sent;   /* our </stream:stream> went out */
    int started;       /* logged in: jobs may run, the close is due */
    char bind_id[24];  /* a pipelined bind request not yet answered */
    int cert_identity; /* EXTERNAL: the account is the certificate's */
    int sasl2_bound;   /* SASL2 with Bind2: bound, no restart, no bind */
    int fast_pending;  /* the FAST <authenticate/> went unanswered */
    int guess_sm;      /* ... asking for inline SM */
    int retry_login;   /* a login that waits for the features may work */
    /* For the log line (xmpp_stats). */
    char mech_used[48];
    unsigned flights; /* waits for the server after writing */
    int wrote;        /* written since the last read */
    unsigned long long bytes_out, bytes_in;
    struct xs_error settle_err; /* its failure, for the next flight */
    enum sm_state sm_state;
    char *sm_id;             /* XEP-0198 resumption id, NULL: none */
    unsigned long sm_out;    /* our stanzas since <enable/> */
    unsigned long sm_in;     /* the server's stanzas since <enabled/> */
    long long sm_acked;      /* highest h the server acknowledged */
    unsigned long max_bytes; /* XEP-0478 max-bytes, 0: not advertised */
    struct trace_scan tscan; /* trace redaction state (trace_recv) */
    int saw_stream_error;    /* the server ended the stream with a reason */
    int timed_out;           /* the last wait ended at the deadline */
    long total_read;         /* since the login or the flight began */
    unsigned stanzas;        /* likewise */
    unsigned idseq;
    /* Post-authentication features. */
    int f_bind, f_session_required, f_sm;
    int f_preapproval; /* RFC 6121 3.4 pre-approval (stream feature) */
    int probe;         /* --serverinfo: no from=, nothing after features */
};

/* ---------------------------------------------------------------- */
/* Output                                                            */

static void trace(struct xmpp_session *s, char dir, const char *d, size_t n)
{
    if (s->cfg.trace != NULL && n > 0)
        s->cfg.trace(s->cfg.trace_ud, dir, d, n);
}

/* Queue XML for the next flush and show it in the trace. */
static void emit(struct xmpp_session *s, const char *xml)
{
    trace(s, XMPP_TRACE_SENT, xml, strlen(xml));
    buf_addstr(&s->out, xml);
}

/* Queue a stanza (message, presence, iq) and count it for XEP-0198. */
static void emit_stanza(struct xmpp_session *s, const char *xml)
{
    emit(s, xml);
    if (s->sm_state != SM_NONE)
        s->sm_out++;
}

/* Queue open + secret + close; the trace shows "[redacted]". */
static void emit_secret(struct xmpp_session *s,
                        const char *open,
                        const char *secret,
                        const char *close)
{
    struct buf t = {0};
    buf_printf(&t, "%s[redacted]%s", open, close);
    trace(s, XMPP_TRACE_SENT, t.data, t.len);
    buf_free(&t);
    buf_addstr(&s->out, open);
    buf_addstr(&s->out, secret);
    buf_addstr(&s->out, close);
}

static int remaining_ms(const struct xmpp_session *s)
{
    long long left = s->cfg.deadline - xs_now_ms();
    if (left <= 0)
        return 0;
    return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

static enum xs_err
timed_out(struct xmpp_session *s, const char *what, struct xs_error *err)
{
    s->timed_out = 1;
    return xs_seterr(err, XS_ETEMP, "timed out after %d s while %s",
                     s->cfg.timeout_s, what);
}

static enum xs_err
flush(struct xmpp_session *s, const char *what, struct xs_error *err)
{
    if (s->out.len == 0)
        return XS_OK;
    int ms = remaining_ms(s);
    if (ms == 0)
        return timed_out(s, what, err);
    enum xs_err e = s->io->write(s->io->ctx, s->out.data, s->out.len, ms, err);
    if (e == XS_OK) {
        s->bytes_out += s->out.len;
        s->wrote = 1;
    }
    buf_wipe(&s->out); /* may hold SASL data */
    return e;
}

static void new_id(struct xmpp_session *s, char *id, size_t size)
{
    unsigned char r[8];
    if (s->cfg.test_cnonce != NULL ||
        getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        snprintf(id, size, "xs-%u", ++s->idseq);
        return;
    }
    snprintf(id, size, "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7]);
}

static void emit_header(struct xmpp_session *s, int encrypted)
{
    struct buf b = {0};
    buf_addstr(&b, "<?xml version='1.0'?><stream:stream to='");
    buf_add_xml(&b, s->me.domain, strlen(s->me.domain));
    if (encrypted && !s->probe) {
        /* Only over TLS: the address is nobody else's business (and
         * not even then to a --serverinfo probe: it may not verify). */
        buf_addstr(&b, "' from='");
        buf_add_xml(&b, s->me.bare, strlen(s->me.bare));
    }
    buf_addstr(&b, "' version='1.0' xml:lang='en' xmlns='jabber:client' "
                   "xmlns:stream='http://etherx.jabber.org/streams'>");
    emit(s, b.data);
    buf_free(&b);
}

/* ---------------------------------------------------------------- */
/* Input                                                             */

/* Is 'name' (with any prefix) an element whose text is a secret?  A
 * group chat's <password/> too: ejabberd returns it inside the join's
 * error presence. */
static int secret_element(const char *name)
{
    const char *colon = strrchr(name, ':');
    const char *local = colon ? colon + 1 : name;
    return strcmp(local, "challenge") == 0 || strcmp(local, "success") == 0 ||
           strcmp(local, "response") == 0 || strcmp(local, "auth") == 0 ||
           strcmp(local, "password") == 0;
}

/*
 * Trace received bytes with the text of SASL elements (challenge,
 * success) redacted.  The scanner's state lives in the session, so an
 * element or a text cut across reads stays redacted, and it looks at
 * element names, not at timing, so a server that sends early is covered.
 */
static void trace_recv(struct xmpp_session *s, const char *d, size_t n)
{
    if (s->cfg.trace == NULL)
        return;
    struct trace_scan *ts = &s->tscan;
    struct buf t = {0};
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (ts->bang) {
            /* <!...> (CDATA, comment) inside a secret: hidden whole,
             * up to "]]>" or "-->". */
            if (c == '>' && ts->prev[0] == ts->prev[1] &&
                (ts->prev[0] == ']' || ts->prev[0] == '-')) {
                buf_addstr(&t, "[redacted]>");
                ts->bang = 0;
            }
            ts->prev[0] = ts->prev[1];
            ts->prev[1] = c;
        } else if (ts->in_tag) {
            if (ts->secret && ts->nlen == 0 && !ts->closing && c == '!') {
                ts->bang = 1;
                ts->in_tag = 0;
                ts->prev[0] = ts->prev[1] = 0;
                buf_addch(&t, c);
                continue;
            }
            if (ts->quote != 0) {
                /* '>' and '/' in a value end nothing; a FAST token
                 * (XEP-0484 token='...') is a secret. */
                if (c == ts->quote)
                    ts->quote = 0, ts->hide = 0;
                if (!ts->hide)
                    buf_addch(&t, c);
                continue;
            }
            buf_addch(&t, c);
            if (c == '>') {
                /* 'secret' is the depth inside a secret element: its
                 * children's text stays hidden too. */
                ts->name[ts->nlen] = '\0';
                ts->in_tag = 0;
                if (ts->secret > 0 && ts->closing)
                    ts->secret--;
                else if (ts->secret > 0 && ts->last != '/')
                    ts->secret++;
                else if (!ts->closing && ts->last != '/' &&
                         secret_element(ts->name))
                    ts->secret = 1;
            } else if (c == '\'' || c == '"') {
                ts->quote = c;
                ts->name_done = 1;
                ts->hide = ts->alen == 5 && memcmp(ts->attr, "token", 5) == 0;
                if (ts->hide)
                    buf_addstr(&t, "[redacted]");
                ts->alen = 0;
            } else if (ts->name_done) {
                /* An attribute's name (white space may surround '='). */
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r' &&
                    c != '=' && ts->alen < sizeof ts->attr)
                    ts->attr[ts->alen++] = c;
            } else {
                if (c == '/' && ts->nlen == 0)
                    ts->closing = 1;
                else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
                         c == '/')
                    ts->name_done = 1;
                else if (c == ':')
                    ts->nlen = 0; /* a prefix: keep the local name */
                else if (ts->nlen + 1 < sizeof ts->name)
                    ts->name[ts->nlen++] = c;
            }
            ts->last = c;
        } else if (c == '<') {
            buf_addch(&t, c);
            ts->in_tag = 1;
            ts->closing = ts->name_done = ts->redacted = 0;
            ts->quote = 0;
            ts->nlen = ts->alen = 0;
            ts->last = c;
        } else if (ts->secret) {
            if (!ts->redacted)
                buf_addstr(&t, "[redacted]");
            ts->redacted = 1;
        } else {
            buf_addch(&t, c);
        }
    }
    trace(s, XMPP_TRACE_RECV, t.data, t.len);
    buf_free(&t);
}

static char *printable(const char *t)
{
    return text_printable(t, strlen(t), 200);
}

/* "unexpected <NAME> from server while WHAT" (XS_EPROTO). */
static enum xs_err
unexpected(const struct xnode *n, const char *what, struct xs_error *err)
{
    /* Callers pass next_element's node, never NULL with XS_OK (the
     * analyzer, reaching here from xmpp_probe, cannot see that xs_seterr
     * never returns XS_OK). */
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    char *got = printable(n->name);
    xs_seterr(err, XS_EPROTO, "unexpected <%s> from server while %s", got,
              what);
    free(got);
    return XS_EPROTO;
}

/* The single defined condition child of an error element. */
static const char *condition_of(const struct xnode *e, const char *ns)
{
    for (const struct xnode *c = e ? e->children : NULL; c; c = c->next) {
        if (strcmp(c->ns, ns) == 0 && strcmp(c->name, "text") != 0)
            return c->name;
    }
    return "undefined-condition";
}

/* RFC 6120 4.9: a stream error ends the session; map it to a class. */
static enum xs_err stream_error(const struct xnode *n, struct xs_error *err)
{
    static const struct {
        const char *cond;
        enum xs_err code;
    } map[] = {
        {"system-shutdown", XS_ETEMP},
        {"reset", XS_ETEMP},
        {"connection-timeout", XS_ETEMP},
        {"resource-constraint", XS_ETEMP},
        {"conflict", XS_ETEMP},
        {"not-authorized", XS_EAUTH},
        {"host-unknown", XS_EREFUSED},
        {"host-gone", XS_EREFUSED},
        {"policy-violation", XS_EREFUSED},
    };
    const char *cond = condition_of(n, NS_STREAMS);
    enum xs_err code = XS_EPROTO;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i].cond, cond) == 0)
            code = map[i].code;
    }
    char *c = printable(cond);
    char *t = printable(xnode_text(xnode_child(n, "text", NS_STREAMS)));
    xs_seterr(err, code, "stream error from server: %s%s%s%s", c,
              *t ? " (" : "", t, *t ? ")" : "");
    free(c);
    free(t);
    return code;
}

/* Answer an IQ get/set addressed to us (RFC 6120 8.2.3). */
static void answer_iq(struct xmpp_session *s, const struct xnode *iq)
{
    const char *type = xnode_attr(iq, "type");
    const char *id = xnode_attr(iq, "id");
    const char *from = xnode_attr(iq, "from");
    /* Nothing but negotiation before authentication; nothing after our
     * </stream:stream>. */
    if (!s->authenticated || s->closed_sent || type == NULL || id == NULL ||
        (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return;
    struct buf b = {0};
    buf_addstr(&b, "<iq id='");
    buf_add_xml(&b, id, strlen(id));
    if (from != NULL) {
        buf_addstr(&b, "' to='");
        buf_add_xml(&b, from, strlen(from));
    }
    int ping = xnode_child(iq, "ping", NS_PING) != NULL;
    /* Roster pushes only from our own account (RFC 6121 2.1.6). */
    int push = xnode_child(iq, "query", NS_ROSTER) != NULL &&
               strcmp(type, "set") == 0 &&
               (from == NULL || strcmp(from, s->me.bare) == 0);
    if (ping || push)
        buf_addstr(&b, "' type='result'/>");
    else
        buf_addstr(&b, "' type='error'><error type='cancel'>"
                       "<service-unavailable xmlns='" NS_STANZAS "'/>"
                       "</error></iq>");
    emit_stanza(s, b.data); /* counted: the server's h includes it */
    buf_free(&b);
}

/*
 * Wait for the next top-level element.  Stream errors, the server's
 * close, EOF, timeouts and floods end the wait with an error; stray IQ
 * requests are answered here.  The caller owns the returned node.
 */
static enum xs_err next_element(struct xmpp_session *s,
                                const char *what,
                                struct xnode **out,
                                struct xs_error *err)
{
    char buf[16384];
    *out = NULL;
    for (;;) {
        struct xnode *n = xml_next(s->xml);
        if (n != NULL) {
            if (++s->stanzas > MAX_STANZAS) {
                xnode_free(n);
                return xs_seterr(err, XS_EPROTO,
                                 "server sent more than %d elements",
                                 MAX_STANZAS);
            }
            if (s->sm_state == SM_ENABLED && strcmp(n->ns, NS_CLIENT) == 0 &&
                (strcmp(n->name, "message") == 0 ||
                 strcmp(n->name, "presence") == 0 ||
                 strcmp(n->name, "iq") == 0))
                s->sm_in++;
            if (xnode_is(n, "error", NS_STREAM)) {
                s->saw_stream_error = 1;
                enum xs_err e = stream_error(n, err);
                xnode_free(n);
                return e;
            }
            if (xnode_is(n, "iq", NS_CLIENT)) {
                const char *t = xnode_attr(n, "type");
                if (t != NULL &&
                    (strcmp(t, "get") == 0 || strcmp(t, "set") == 0)) {
                    answer_iq(s, n);
                    xnode_free(n);
                    enum xs_err e = flush(s, what, err);
                    if (e != XS_OK)
                        return e;
                    continue;
                }
            }
            *out = n;
            return XS_OK;
        }
        if (xml_closed(s->xml))
            return xs_seterr(err, XS_ETEMP, "server closed the stream while %s",
                             what);
        if (xml_stopped(s->xml))
            /* Only <proceed/> and <success/> stop the parser; after
             * negotiation they are the server's error. */
            return xs_seterr(err, XS_EPROTO,
                             "server sent a negotiation element out of "
                             "place while %s",
                             what);
        int ms = remaining_ms(s);
        if (ms == 0)
            return timed_out(s, what, err);
        if (s->wrote) /* a wait for the server: one round trip */
            s->flights++, s->wrote = 0;
        long r = s->io->read(s->io->ctx, buf, sizeof buf, ms, err);
        if (r == XS_IO_TIMEOUT)
            return timed_out(s, what, err);
        if (r == 0)
            return xs_seterr(err, XS_ETEMP,
                             "server closed the connection while %s", what);
        if (r < 0)
            return err->code != XS_OK
                       ? err->code
                       : xs_seterr(err, XS_EIO, "read error while %s", what);
        s->total_read += r;
        s->bytes_in += (unsigned long long)r;
        if (s->total_read > MAX_READ_TOTAL)
            return xs_seterr(err, XS_EPROTO, "server sent more than %ld bytes",
                             MAX_READ_TOTAL);
        trace_recv(s, buf, (size_t)r);
        enum xs_err e = xml_feed(s->xml, buf, (size_t)r, err);
        if (e != XS_OK)
            return e;
    }
}

/* Validate the server's stream header (RFC 6120 4.7). */
static enum xs_err check_header(struct xmpp_session *s, struct xs_error *err)
{
    const char *v = xml_header_attr(s->xml, "version");
    const char *from = xml_header_attr(s->xml, "from");
    if (v == NULL || strtol(v, NULL, 10) < 1)
        return xs_seterr(err, XS_EPROTO,
                         "server does not speak XMPP 1.0 (no stream "
                         "version)");
    if (from != NULL && !jid_domain_eq(from, s->me.domain)) {
        char *f = printable(from);
        xs_seterr(err, XS_EPROTO, "server answered for '%s' instead of '%s'", f,
                  s->me.domain);
        free(f);
        return XS_EPROTO;
    }
    return XS_OK;
}

/* XEP-0478: the largest stanza the server accepts, when it says. */
static void note_limits(struct xmpp_session *s, const struct xnode *f)
{
    const char *v = xnode_text(xnode_child(xnode_child(f, "limits", NS_LIMITS),
                                           "max-bytes", NS_LIMITS));
    char *end;
    if (v == NULL || *v < '0' || *v > '9')
        return;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end == '\0' && n > 0 && n < 0xffffffffULL)
        s->max_bytes = (unsigned long)n;
}

/* Wait for <stream:features/> after a (re)started stream. */
static enum xs_err wait_features(struct xmpp_session *s,
                                 const char *what,
                                 struct xnode **out,
                                 struct xs_error *err)
{
    enum xs_err e = next_element(s, what, out, err);
    if (e != XS_OK)
        return e;
    e = check_header(s, err);
    if (e == XS_OK && !xnode_is(*out, "features", NS_STREAM)) {
        /* Never NULL here: as in unexpected(). */
        /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
        char *name = printable((*out)->name);
        e = xs_seterr(err, XS_EPROTO,
                      "expected stream features, server sent <%s>", name);
        free(name);
    }
    if (e != XS_OK) {
        xnode_free(*out);
        *out = NULL;
    }
    return e;
}

/* Wait for an element; anything but 'name' in 'ns' is a protocol error
 * unless it is one of the alternatives the caller handles ('alt'). */
static enum xs_err expect(struct xmpp_session *s,
                          const char *what,
                          const char *name,
                          const char *alt,
                          const char *ns,
                          struct xnode **out,
                          struct xs_error *err)
{
    enum xs_err e = next_element(s, what, out, err);
    if (e != XS_OK)
        return e;
    if (xnode_is(*out, name, ns) || (alt && xnode_is(*out, alt, ns)))
        return XS_OK;
    unexpected(*out, what, err);
    xnode_free(*out);
    *out = NULL;
    return XS_EPROTO;
}

/* ---------------------------------------------------------------- */
/* Steps                                                             */

static enum xs_err starttls(struct xmpp_session *s, struct xs_error *err)
{
    struct xnode *f = NULL, *n = NULL;
    /* The header and <starttls/> in one flight (-1 round trip): nothing
     * secret, and every server handles a stream in order.  The features
     * are still read, and without STARTTLS the run ends there. */
    emit_header(s, 0);
    emit(s, "<starttls xmlns='" NS_TLS "'/>");
    enum xs_err e = flush(s, "opening the stream", err);
    if (e == XS_OK)
        e = wait_features(s, "waiting for stream features", &f, err);
    if (e == XS_ETEMP && s->total_read == 0 && !s->timed_out) {
        /* Closed at our header without a byte: what a direct TLS port
         * does with plain text (XEP-0368). */
        char was[sizeof err->msg];
        snprintf(was, sizeof was, "%s", err->msg);
        err->code = XS_OK; /* xs_seterr keeps the first error */
        xs_seterr(err, XS_ETEMP,
                  "%s, before any answer (a direct TLS port? try --tls "
                  "direct)",
                  was);
    }
    if (e != XS_OK)
        return e;
    int offered = xnode_child(f, "starttls", NS_TLS) != NULL;
    xnode_free(f);
    if (!offered)
        return xs_seterr(err, XS_EREFUSED,
                         "server does not offer STARTTLS; refusing to "
                         "continue without TLS");

    e = expect(s, "starting TLS", "proceed", "failure", NS_TLS, &n, err);
    if (e != XS_OK)
        return e;
    int proceed = xnode_is(n, "proceed", NS_TLS);
    xnode_free(n);
    if (!proceed)
        return xs_seterr(err, XS_EREFUSED, "server refused STARTTLS");
    /* Nothing may follow <proceed/> in cleartext (protocol.md 2.2). */
    if (xml_trailing(s->xml) > 0)
        return xs_seterr(err, XS_EPROTO,
                         "server sent %zu cleartext bytes after <proceed/>"
                         " (injection attempt); aborting",
                         xml_trailing(s->xml));
    int ms = remaining_ms(s);
    if (ms == 0)
        return timed_out(s, "starting TLS", err);
    e = s->io->starttls(s->io->ctx, ms, err);
    if (e != XS_OK)
        return e;
    /* Forget everything learned before TLS (RFC 6120 5.4.3.3). */
    xml_reset(s->xml);
    return XS_OK;
}

/* Base64 payload of a SASL element: whitespace stripped, strict. */
static enum xs_err
sasl_payload(const struct xnode *n, struct buf *out, struct xs_error *err)
{
    const char *t = xnode_text(n);
    struct buf clean = {0};
    for (; *t; t++) {
        if (*t != ' ' && *t != '\t' && *t != '\r' && *t != '\n')
            buf_addch(&clean, *t);
    }
    unsigned char *dec = NULL;
    size_t len = 0;
    int bad = clean.len == 1 && clean.data[0] == '='
                  ? 0 /* RFC 6120 6.4.2: "=" is an empty payload */
                  : clean.len > 0 &&
                        b64_decode(clean.data, clean.len, &dec, &len) != 0;
    buf_free(&clean);
    if (bad)
        return xs_seterr(err, XS_EPROTO,
                         "server sent invalid base64 in SASL <%s>", n->name);
    if (dec != NULL)
        buf_add(out, dec, len);
    free(dec);
    return XS_OK;
}

static enum xs_err sasl_failure(const struct xnode *n, struct xs_error *err)
{
    const char *cond = condition_of(n, NS_SASL);
    char *c = printable(cond);
    /* <text/> is in the failure's namespace (SASL or SASL2). */
    char *t = printable(xnode_text(xnode_child(n, "text", n->ns)));
    enum xs_err code =
        strcmp(cond, "temporary-auth-failure") == 0 ? XS_ETEMP : XS_EAUTH;
    xs_seterr(err, code, "authentication failed: %s%s%s%s", c, *t ? " (" : "",
              t, *t ? ")" : "");
    free(c);
    free(t);
    return code;
}

/* What the server offered for SASL (names point into its features, or
 * into the state's remembered offer). */
struct sasl_offer {
    const char *mechs[32];
    size_t n;
    const char *cbs[16]; /* XEP-0440 channel-binding types */
    size_t ncb;
    int cb_listed; /* the server sent <sasl-channel-binding/> */
    /* SASL2 (XEP-0388): its mechanisms, Bind2 with inline SM, FAST. */
    int sasl2, bind2, sm;
    int is_v2; /* this is the SASL2 view (sasl2_view) */
    const char *mechs2[32];
    size_t n2;
    const char *fast[8];
    size_t nfast;
};

/* The SASL2 mechanisms of 'o' as an offer of their own (for scram). */
static void sasl2_view(const struct sasl_offer *o, struct sasl_offer *v)
{
    *v = *o;
    memcpy(v->mechs, o->mechs2, sizeof v->mechs);
    v->n = o->n2;
    v->is_v2 = 1;
}

/* How a SCRAM exchange binds to the TLS channel (RFC 5802 6, 7). */
struct scram_plan {
    enum sasl_mech mech;
    int plus;          /* mechanism name + "-PLUS" */
    const char *flag;  /* gs2 cbind-flag: "n", "y" or "p=TYPE" */
    char pflag[48];    /* storage for "p=TYPE" */
    struct buf cbdata; /* channel-binding bytes for "p=" */
    int ssdp_required; /* XEP-0474 new rule 6 */
};

/* A line in the -d trace that is neither sent nor received. */
static void note(struct xmpp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct xmpp_session *s, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    if (s->cfg.trace == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    trace(s, XMPP_TRACE_NOTE, line, strlen(line));
}

static int offer_has(const char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] != NULL && strcmp(v[i], name) == 0)
            return 1;
    }
    return 0;
}

/* The strongest SCRAM-*-PLUS offered whose SCRAM mechanism --mechanism
 * allows (naming SCRAM-SHA-256 allows SCRAM-SHA-256-PLUS). */
static enum sasl_mech plus_allowed(const struct xmpp_session *s,
                                   const struct sasl_offer *o)
{
    enum sasl_mech best = SASL_NONE;
    for (size_t i = 0; i < o->n; i++) {
        enum sasl_mech m = sasl_choose_plus(&o->mechs[i], 1);
        if (m != SASL_NONE &&
            (s->cfg.mechanisms == 0 || (s->cfg.mechanisms & SASL_BIT(m))) &&
            m > best)
            best = m;
    }
    return best;
}

/* Without channel binding: is the plain mechanism 'mech' offered? */
static enum xs_err only_plus(struct xmpp_session *s,
                             const struct sasl_offer *o,
                             enum sasl_mech mech,
                             struct xs_error *err)
{
    (void)s;
    if (offer_has(o->mechs, o->n, sasl_mech_name(mech)))
        return XS_OK;
    return xs_seterr(err, XS_EREFUSED,
                     "server offers SCRAM only with channel binding "
                     "(-PLUS), and this connection has no channel-binding "
                     "type the server accepts");
}

/*
 * Channel binding (protocol.md 3.3; RFC 5802 6; XEP-0440 and XEP-0474
 * business rules):
 *   - -PLUS offered and a type we can produce: p=TYPE.  With an XEP-0440
 *     list, the strongest listed type (tls-exporter, then
 *     tls-server-end-point, then tls-unique).  Without one: with SASL2
 *     refused (XEP-0440: the list was removed); legacy SASL leaves it
 *     undefined, so what servers that predate XEP-0440 do:
 *     tls-unique on TLS 1.2 with the extended master secret.  On TLS 1.3
 *     such servers (ejabberd 23.01) offer -PLUS but bind to nothing a
 *     client can compute, so no guess there: the plain mechanism, "n".
 *   - -PLUS offered with a list we cannot use: the plain mechanism with
 *     "n", and the server's XEP-0474 hash must prove the list (new rule
 *     6 of XEP-0474).
 *   - a list but no -PLUS: -PLUS was removed on the way (XEP-0440 rule 3);
 *     refused.
 *   - no -PLUS and no list: "y" (we could bind; the server seems not
 *     to): a server that does support it then fails the login, so a
 *     removed -PLUS cannot go unnoticed.
 *   - no channel binding on this connection at all: "n".
 * Every -PLUS mechanism offered and not used gets its reason in -d.
 */
static enum xs_err plan_scram(struct xmpp_session *s,
                              const struct sasl_offer *o,
                              enum sasl_mech mech,
                              struct scram_plan *p,
                              struct xs_error *err)
{
    static const char *const prefer[] = {"tls-exporter", "tls-server-end-point",
                                         "tls-unique"};
    enum sasl_mech plus = plus_allowed(s, o);
    int tls = s->io->tls_version ? s->io->tls_version(s->io->ctx) : 0;
    int can_bind = s->io->channel_binding != NULL && tls != 0;
    const char *type = NULL;

    p->mech = mech;
    p->flag = "n";
    if (!can_bind) {
        if (plus != SASL_NONE)
            note(s, "SASL: %s-PLUS: no channel binding on this connection",
                 sasl_mech_name(plus));
        return only_plus(s, o, mech, err);
    }
    if (plus == SASL_NONE) {
        if (o->cb_listed)
            return xs_seterr(err, XS_EPROTO,
                             "server lists channel-binding types (XEP-0440) "
                             "but offers no SCRAM-*-PLUS mechanism: the "
                             "list was changed on the way (man in the "
                             "middle?); refusing to authenticate");
        p->flag = "y";
        note(s, "SASL: no SCRAM-*-PLUS offered: gs2 flag y (this side "
                "could bind)");
        return XS_OK;
    }
    if (!o->cb_listed && o->is_v2)
        /* XEP-0440: with SASL2 a server that offers -PLUS lists its
         * types; without the list it was removed on the way. */
        return xs_seterr(err, XS_EPROTO,
                         "server offers %s-PLUS with SASL2 but lists no "
                         "channel-binding types (XEP-0440): the list was "
                         "removed on the way (man in the middle?) or the "
                         "server is broken; refusing to authenticate",
                         sasl_mech_name(plus));
    if (o->cb_listed) {
        for (size_t i = 0; i < sizeof prefer / sizeof prefer[0]; i++) {
            if (!offer_has(o->cbs, o->ncb, prefer[i]))
                continue;
            buf_wipe(&p->cbdata);
            if (s->io->channel_binding(s->io->ctx, prefer[i], &p->cbdata) ==
                0) {
                type = prefer[i];
                break;
            }
        }
        if (type == NULL) {
            p->ssdp_required = 1;
            if (only_plus(s, o, mech, err) != XS_OK)
                return err->code;
            note(s,
                 "SASL: %s-PLUS: none of the channel-binding types the "
                 "server lists is usable on TLS 1.%d; %s with gs2 flag n, "
                 "the server's XEP-0474 hash must confirm the list",
                 sasl_mech_name(plus), tls % 10, sasl_mech_name(mech));
            return XS_OK;
        }
    } else if (tls == 12 && s->io->channel_binding(s->io->ctx, "tls-unique",
                                                   &p->cbdata) == 0) {
        type = "tls-unique";
    } else {
        buf_wipe(&p->cbdata);
        note(s,
             "SASL: %s-PLUS: the server lists no channel-binding types "
             "(XEP-0440) and TLS 1.%d %s; %s with gs2 flag n",
             sasl_mech_name(plus), tls % 10,
             tls == 13 ? "has no tls-unique"
                       : "without extended master secret allows none",
             sasl_mech_name(mech));
        return only_plus(s, o, mech, err);
    }
    p->mech = plus;
    p->plus = 1;
    snprintf(p->pflag, sizeof p->pflag, "p=%s", type);
    p->flag = p->pflag;
    note(s, "SASL: %s-PLUS: chosen, channel binding %s", sasl_mech_name(plus),
         type);
    return XS_OK;
}

/* How SASL elements look: RFC 6120 SASL, or SASL2 (XEP-0388), where
 * the first message is <authenticate/> with more after the initial
 * response and the server's last data is in <success/>'s
 * <additional-data/>. */
struct sasl_wire {
    const char *ns;        /* NS_SASL or NS_SASL2 */
    int v2;                /* SASL2 */
    const char *extra;     /* SASL2: inside <authenticate/>, after it */
    struct xnode *success; /* SASL2: the <success/>, for the caller */
};

/* The first message of an exchange; 'b64' is the initial response. */
static void emit_first(struct xmpp_session *s,
                       const struct sasl_wire *w,
                       const char *mech,
                       const char *b64)
{
    char open[160];
    struct buf close = {0};
    snprintf(s->mech_used, sizeof s->mech_used, "%s", mech);
    if (!w->v2) {
        snprintf(open, sizeof open, "<auth xmlns='" NS_SASL "' mechanism='%s'>",
                 mech);
        buf_addstr(&close, "</auth>");
    } else {
        snprintf(open, sizeof open,
                 "<authenticate xmlns='" NS_SASL2
                 "' mechanism='%s'><initial-response>",
                 mech);
        buf_printf(&close, "</initial-response>%s</authenticate>",
                   w->extra ? w->extra : "");
    }
    emit_secret(s, open, b64, close.data);
    buf_free(&close);
}

/* SASL2: a <continue/> asks for tasks (a second factor, a new password)
 * that a one-shot client cannot do. */
static enum xs_err sasl2_continue(struct xs_error *err)
{
    return xs_seterr(err, XS_EAUTH,
                     "authentication failed: the server asks for further "
                     "steps (XEP-0388 tasks such as a second factor or a "
                     "password change); log in once with another client");
}

/* A SCRAM exchange begun: its plan and state (scram_start). */
struct scram_run {
    struct scram_plan plan;
    struct sasl_scram *sc;
};

/* Plan a SCRAM exchange for offer 'o' and queue its first message. */
static enum xs_err scram_start(struct xmpp_session *s,
                               const struct sasl_offer *o,
                               enum sasl_mech mech,
                               const struct sasl_wire *w,
                               struct scram_run *r,
                               struct xs_error *err)
{
    struct scram_plan *plan = &r->plan;
    enum xs_err e = plan_scram(s, o, mech, plan, err);
    if (e == XS_OK) {
        r->sc = sasl_scram_new(plan->mech, s->me.local, s->cfg.password, 0,
                               s->cfg.test_cnonce, plan->flag,
                               (const unsigned char *)plan->cbdata.data,
                               plan->cbdata.len, err);
        e = r->sc == NULL ? err->code : XS_OK;
    }
    buf_wipe(&plan->cbdata);
    if (e != XS_OK)
        return e;
    struct buf msg = {0};
    sasl_scram_first(r->sc, &msg);
    char *b64 = b64_encode(msg.data, msg.len);
    buf_wipe(&msg);
    char name[48];
    snprintf(name, sizeof name, "%s%s", sasl_mech_name(plan->mech),
             plan->plus ? "-PLUS" : "");
    emit_first(s, w, name, b64);
    xs_free_secret(b64);
    return XS_OK;
}

/*
 * SCRAM keys in the state (RFC 5802 section 5.1): only with a state
 * this run holds, on a verified connection (not with --insecure, like
 * FAST).  A hit spares PBKDF2; the keys are never traced.
 */
static int scram_cache_allowed(const struct xmpp_session *s)
{
    return s->cfg.allow_plain && s->cfg.state != NULL &&
           s->cfg.state->lockfd >= 0 && s->cfg.state->path != NULL;
}

static void scram_cache_offer(struct xmpp_session *s, struct sasl_scram *sc)
{
    struct xs_state *st = s->cfg.state;
    if (!scram_cache_allowed(s) || st->scram_mech == NULL)
        return;
    struct sasl_scram_keys k = {st->scram_mech, st->scram_salt, st->scram_iter,
                                st->scram_ck, st->scram_sk};
    sasl_scram_use_keys(sc, &k);
}

/* After the exchange on 'sc' ended with 'e': keep fresh keys that the
 * server accepted; forget kept keys whose proof it 'refused' (a SASL
 * <failure/> to the proof: the password may have
 * changed), and have the caller log in again once, computing them
 * afresh (xmpp_retry_login; that login has no kept keys to use). */
static void scram_cache_settle(struct xmpp_session *s,
                               const struct sasl_scram *sc,
                               enum xs_err e,
                               int refused,
                               const struct xs_error *err)
{
    struct xs_state *st = s->cfg.state;
    struct sasl_scram_keys k;
    if (!scram_cache_allowed(s))
        return;
    if (refused && sasl_scram_cache_hit(sc)) {
        note(s,
             "SASL: the server refused the proof made with the SCRAM "
             "keys from the state file (%s); forgetting them, logging "
             "in again with the password",
             err->msg);
        state_drop_scram(st);
        s->retry_login = 1;
    } else if (e == XS_OK && !sasl_scram_cache_hit(sc) &&
               sasl_scram_keys(sc, &k) == 0) {
        state_set(st, &st->scram_mech, k.mech);
        state_set(st, &st->scram_salt, k.salt);
        state_set(st, &st->scram_iter, k.iter);
        state_set(st, &st->scram_ck, k.client_key);
        state_set(st, &st->scram_sk, k.server_key);
        sasl_scram_keys_free(&k);
    }
}

/*
 * The rest of the exchange that scram_start began, for the offer 'o'
 * the server made (its XEP-0474 hash is checked against it): write,
 * challenge, proof, the server's signature.  Frees r->sc.
 */
static enum xs_err scram_finish(struct xmpp_session *s,
                                const struct sasl_offer *o,
                                struct sasl_wire *w,
                                struct scram_run *r,
                                struct xs_error *err)
{
    const char *what = "authenticating";
    struct sasl_scram *sc = r->sc;
    char *b64;
    int refused = 0;
    r->sc = NULL;
    /* XEP-0474: checked whenever the server sends its hash. */
    sasl_scram_ssdp(sc, o->mechs, o->n, o->cbs, o->ncb, o->cb_listed,
                    r->plan.ssdp_required);
    scram_cache_offer(s, sc);
    struct buf msg = {0};
    struct xnode *n = NULL;
    enum xs_err e = flush(s, what, err);
    if (e == XS_OK)
        e = expect(s, what, "challenge", "failure", w->ns, &n, err);
    if (e != XS_OK)
        goto out;
    if (xnode_is(n, "failure", w->ns)) {
        e = sasl_failure(n, err);
        goto out;
    }
    e = sasl_payload(n, &msg, err);
    xnode_free(n);
    n = NULL;
    struct buf final = {0};
    if (e == XS_OK)
        e = sasl_scram_final(sc, msg.data ? msg.data : "", msg.len, &final,
                             err);
    buf_wipe(&msg);
    if (e == XS_OK && sasl_scram_ssdp_verified(sc))
        note(s, "SASL: the server's downgrade protection hash (XEP-0474) "
                "matches");
    if (e == XS_OK && sasl_scram_cache_hit(sc))
        note(s, "SASL: SCRAM keys from the state file");
    if (e != XS_OK) {
        buf_wipe(&final);
        goto out;
    }
    b64 = b64_encode(final.data, final.len);
    buf_wipe(&final);
    char ropen[64];
    snprintf(ropen, sizeof ropen, "<response xmlns='%s'>", w->ns);
    emit_secret(s, ropen, b64, "</response>");
    xs_free_secret(b64);
    e = flush(s, what, err);
    if (e == XS_OK)
        e = next_element(s, what, &n, err);
    if (e != XS_OK)
        goto out;
    if (xnode_is(n, "failure", w->ns)) {
        e = sasl_failure(n, err);
        refused = e == XS_EAUTH; /* the proof was refused */
        goto out;
    }
    if (xnode_is(n, "continue", NS_SASL2)) {
        e = sasl2_continue(err);
        goto out;
    }
    if (xnode_is(n, "challenge", w->ns)) {
        /* Server-final as a challenge (RFC 6120 6.3.10 allows it): verify,
         * then an empty response, then <success/>. */
        e = sasl_payload(n, &msg, err);
        if (e == XS_OK)
            e = sasl_scram_verify(sc, msg.data ? msg.data : "", msg.len, err);
        buf_wipe(&msg);
        xnode_free(n);
        n = NULL;
        if (e != XS_OK)
            goto out;
        snprintf(ropen, sizeof ropen, "<response xmlns='%s'/>", w->ns);
        emit(s, ropen);
        e = flush(s, what, err);
        if (e == XS_OK)
            e = expect(s, what, "success", "failure", w->ns, &n, err);
        if (e == XS_OK && xnode_is(n, "failure", w->ns))
            e = sasl_failure(n, err);
        if (e == XS_OK && w->v2) {
            w->success = n;
            n = NULL;
        }
        goto out;
    }
    if (!xnode_is(n, "success", w->ns)) {
        e = unexpected(n, what, err);
        goto out;
    }
    /* Mutual authentication: no v=, no trust (RFC 5802 section 9). */
    e = sasl_payload(w->v2 ? xnode_child(n, "additional-data", NS_SASL2) : n,
                     &msg, err);
    if (e == XS_OK && msg.len == 0)
        e = xs_seterr(err, XS_EPROTO,
                      "server failed SCRAM mutual authentication (no "
                      "server signature in <success/>)");
    if (e == XS_OK)
        e = sasl_scram_verify(sc, msg.data, msg.len, err);
    buf_wipe(&msg);
    if (e == XS_OK && w->v2) {
        w->success = n;
        n = NULL;
    }
out:
    xnode_free(n);
    scram_cache_settle(s, sc, e, refused, err);
    sasl_scram_free(sc);
    return e;
}

static enum xs_err scram(struct xmpp_session *s,
                         const struct sasl_offer *o,
                         enum sasl_mech mech,
                         struct sasl_wire *w,
                         struct xs_error *err)
{
    struct scram_run r = {0};
    enum xs_err e = scram_start(s, o, mech, w, &r, err);
    return e == XS_OK ? scram_finish(s, o, w, &r, err) : e;
}

/* Send the queued <auth/> of a one-step mechanism (PLAIN, EXTERNAL) and
 * take the server's <success/> or <failure/>. */
static enum xs_err auth_outcome(struct xmpp_session *s, struct xs_error *err)
{
    struct xnode *n = NULL;
    enum xs_err e = flush(s, "authenticating", err);
    if (e == XS_OK)
        e = expect(s, "authenticating", "success", "failure", NS_SASL, &n, err);
    if (e == XS_OK && xnode_is(n, "failure", NS_SASL))
        e = sasl_failure(n, err);
    xnode_free(n);
    return e;
}

static enum xs_err plain(struct xmpp_session *s, struct xs_error *err)
{
    struct buf msg = {0};
    /* The same PRECIS preparation as SCRAM's (RFC 4616, RFC 8265). */
    enum xs_err e =
        sasl_plain_prepare(s->me.local, s->cfg.password, 0, &msg, err);
    if (e != XS_OK) {
        buf_wipe(&msg);
        return e;
    }
    char *b64 = b64_encode(msg.data, msg.len);
    buf_wipe(&msg);
    snprintf(s->mech_used, sizeof s->mech_used, "PLAIN");
    emit_secret(s, "<auth xmlns='" NS_SASL "' mechanism='PLAIN'>", b64,
                "</auth>");
    xs_free_secret(b64);
    return auth_outcome(s, err);
}

/* EXTERNAL (RFC 4422 appendix A) with the TLS client certificate: an
 * empty initial response, so that the server takes the identity from
 * the certificate (RFC 6120 6.4.2: "=" is empty). */
static enum xs_err external(struct xmpp_session *s, struct xs_error *err)
{
    snprintf(s->mech_used, sizeof s->mech_used, "EXTERNAL");
    emit(s, "<auth xmlns='" NS_SASL "' mechanism='EXTERNAL'>=</auth>");
    return auth_outcome(s, err);
}

/* DIGEST-MD5 (RFC 2831): challenge, response, then the server's
 * rspauth, which must be right before <success/> counts (in a second
 * challenge answered by an empty response, or in <success/>). */
static enum xs_err digest_md5(struct xmpp_session *s, struct xs_error *err)
{
    const char *what = "authenticating";
    struct sasl_digest *d =
        sasl_digest_new(s->me.local, s->cfg.password, 0, "xmpp", s->me.domain,
                        s->cfg.test_cnonce, err);
    if (d == NULL)
        return err->code;
    struct buf msg = {0}, resp = {0};
    struct xnode *n = NULL;
    snprintf(s->mech_used, sizeof s->mech_used, "DIGEST-MD5");
    emit(s, "<auth xmlns='" NS_SASL "' mechanism='DIGEST-MD5'/>");
    enum xs_err e = flush(s, what, err);
    if (e == XS_OK)
        e = expect(s, what, "challenge", "failure", NS_SASL, &n, err);
    if (e == XS_OK && xnode_is(n, "failure", NS_SASL))
        e = sasl_failure(n, err);
    if (e == XS_OK)
        e = sasl_payload(n, &msg, err);
    if (e == XS_OK)
        e = sasl_digest_response(d, msg.data, msg.len, &resp, err);
    buf_wipe(&msg);
    xnode_free(n);
    n = NULL;
    if (e == XS_OK) {
        char *b64 = b64_encode(resp.data, resp.len);
        emit_secret(s, "<response xmlns='" NS_SASL "'>", b64, "</response>");
        xs_free_secret(b64);
        e = flush(s, what, err);
    }
    buf_wipe(&resp);
    if (e == XS_OK)
        e = next_element(s, what, &n, err);
    if (e != XS_OK)
        goto out;
    if (xnode_is(n, "failure", NS_SASL)) {
        e = sasl_failure(n, err);
    } else if (xnode_is(n, "challenge", NS_SASL)) {
        e = sasl_payload(n, &msg, err);
        if (e == XS_OK)
            e = sasl_digest_verify(d, msg.data, msg.len, err);
        buf_wipe(&msg);
        xnode_free(n);
        n = NULL;
        if (e != XS_OK)
            goto out;
        emit(s, "<response xmlns='" NS_SASL "'/>");
        e = flush(s, what, err);
        if (e == XS_OK)
            e = expect(s, what, "success", "failure", NS_SASL, &n, err);
        if (e == XS_OK && xnode_is(n, "failure", NS_SASL))
            e = sasl_failure(n, err);
    } else if (xnode_is(n, "success", NS_SASL)) {
        /* rspauth as additional data with success (RFC 6120 6.3.10);
         * without it the server has proven nothing. */
        e = sasl_payload(n, &msg, err);
        if (e == XS_OK)
            e = sasl_digest_verify(d, msg.data, msg.len, err);
        buf_wipe(&msg);
    } else {
        e = unexpected(n, what, err);
    }
out:
    xnode_free(n);
    sasl_digest_free(d);
    return e;
}

/* The mechanism for this login (sasl_select), and in the debug trace
 * the reason for it and against each other one offered. */
static enum sasl_mech
choose_mechanism(struct xmpp_session *s, const char *const *names, size_t n)
{
    struct sasl_policy p = {.allow = s->cfg.mechanisms,
                            .verified = s->cfg.allow_plain,
                            .cert = s->cfg.client_cert,
                            .password = s->cfg.password != NULL};
    struct buf why = {0};
    enum sasl_mech m =
        sasl_select(names, n, &p, s->cfg.trace != NULL ? &why : NULL);
    for (size_t i = 0; i < why.len;) {
        size_t len = strcspn(why.data + i, "\n");
        trace(s, XMPP_TRACE_NOTE, why.data + i, len);
        i += len + 1;
    }
    buf_free(&why);
    return m;
}

/* --mechanism names nothing the server offers (or nothing usable), or
 * a client certificate without a password and no EXTERNAL offered. */
static enum xs_err no_listed_mechanism(struct xmpp_session *s,
                                       const char *const *names,
                                       size_t n,
                                       struct xs_error *err)
{
    struct buf offered = {0};
    buf_add(&offered, "", 0);
    for (size_t i = 0; i < n; i++) {
        char *p = printable(names[i]);
        buf_printf(&offered, "%s%s", i ? " " : "", p);
        free(p);
    }
    enum xs_err e;
    if (s->cfg.mechanisms == 0) {
        /* A certificate but no password: EXTERNAL was the only way. */
        e = xs_seterr(err, XS_EREFUSED,
                      "server does not offer EXTERNAL for the client "
                      "certificate, and no password is given (offered: %s)",
                      n > 0 ? offered.data : "nothing");
    } else {
        char *want = sasl_mask_names(s->cfg.mechanisms);
        e = xs_seterr(err, XS_EREFUSED,
                      "server offers none of --mechanism %s that can be used "
                      "(offered: %s)",
                      want, n > 0 ? offered.data : "nothing");
        free(want);
    }
    buf_free(&offered);
    return e;
}

/* ---------------------------------------------------------------- */
/* SASL2 + Bind2 + FAST (XEP-0388, XEP-0386, XEP-0484)              */

static enum xs_err post_auth_features(struct xmpp_session *s,
                                      const char *what,
                                      struct xs_error *err);

/* May this login use SASL2 (offered as 'a2')?  Bind2 must come with it
 * (one flight to a bound session); the reasons against go to -d. */
static int sasl2_wanted(struct xmpp_session *s, const struct sasl_offer *o)
{
    const char *why = NULL;
    if (!o->sasl2)
        return 0;
    if (!s->cfg.sasl2)
        why = "--no-sasl2";
    else if (s->cfg.sm_resume)
        why = "line mode resumes sessions after a legacy bind";
    else if (s->cfg.resource != NULL)
        why = "a resource was asked for, which Bind2 cannot name";
    else if (s->cfg.client_cert)
        why = "the client certificate is used with SASL EXTERNAL";
    else if (s->cfg.password == NULL)
        why = "no password";
    else if (!o->bind2)
        why = "the server offers no Bind2 with it";
    if (why != NULL)
        note(s, "SASL2 (XEP-0388) offered, not used: %s", why);
    return why == NULL;
}

/* Is FAST mechanism 'mech' offered? */
static int fast_offers(const struct sasl_offer *o, const char *mech)
{
    return mech != NULL && offer_has(o->fast, o->nfast, mech);
}

/* Channel-binding bytes for FAST mechanism 'mech' on this connection;
 * -1 when it cannot bind here (or is not an HT mechanism). */
static int fast_cb(struct xmpp_session *s, const char *mech, struct buf *cb)
{
    const char *type;
    if (sasl_ht_cbtype(mech, &type) != 0)
        return -1;
    if (type == NULL)
        return 0;
    if (s->io->channel_binding == NULL ||
        s->io->channel_binding(s->io->ctx, type, cb) != 0) {
        buf_wipe(cb);
        return -1;
    }
    return 0;
}

/* FAST applies: asked for, a verified connection, a state of our own. */
static int fast_allowed(const struct xmpp_session *s)
{
    return s->cfg.fast && s->cfg.allow_plain && s->cfg.state != NULL &&
           s->cfg.state->lockfd >= 0 && s->cfg.state->client_id != NULL;
}

/* The FAST mechanism to ask a token for: the strongest binding that
 * this connection has (tls-exporter, then end-point), else none. */
static const char *fast_request_mech(struct xmpp_session *s,
                                     const struct sasl_offer *o)
{
    static const char *const prefer[] = {"HT-SHA-256-EXPR", "HT-SHA-256-ENDP",
                                         "HT-SHA-256-NONE"};
    for (size_t i = 0; i < sizeof prefer / sizeof prefer[0]; i++) {
        struct buf cb = {0};
        int ok = fast_offers(o, prefer[i]) && fast_cb(s, prefer[i], &cb) == 0;
        buf_wipe(&cb);
        if (ok)
            return prefer[i];
    }
    return NULL;
}

/* What follows the initial response in <authenticate/>: who we are
 * (XEP-0388 user-agent), Bind2 (with inline SM when offered), and
 * FAST: the token in use, or a request for one. */
static void sasl2_extra(struct xmpp_session *s,
                        int sm,
                        const char *use_token,
                        const char *request,
                        struct buf *b)
{
    char id[40];
    const char *uid = NULL;
    if (fast_allowed(s))
        uid = s->cfg.state->client_id; /* FAST needs the same id */
    else if (state_uuid(id) == 0)
        uid = id; /* per run: parallel runs must not end each other */
    if (uid != NULL) {
        buf_addstr(b, "<user-agent id='");
        buf_add_xml(b, uid, strlen(uid));
        buf_addstr(b, "'>");
    } else {
        buf_addstr(b, "<user-agent>");
    }
    buf_addstr(b, "<software>xmppsend</software></user-agent>"
                  "<bind xmlns='" NS_BIND2 "'><tag>xmppsend</tag>");
    if (sm) {
        buf_addstr(b, "<enable xmlns='" NS_SM "'/>");
        s->sm_state = SM_REQUESTED;
    }
    buf_addstr(b, "</bind>");
    if (use_token != NULL)
        buf_addstr(b, "<fast xmlns='" NS_FAST "'/>");
    else if (request != NULL)
        buf_printf(b, "<request-token xmlns='" NS_FAST "' mechanism='%s'/>",
                   request);
}

/*
 * The SASL2 <success/>: the bound JID (<authorization-identifier/>,
 * XEP-0484's examples say <authorization-identity/>), Bind2's <bound/>
 * with inline SM's answer, a FAST token for 'token_mech'; then the
 * post-authentication features, which follow without a restart.
 */
static enum xs_err sasl2_success(struct xmpp_session *s,
                                 const struct xnode *ok,
                                 const char *token_mech,
                                 struct xs_error *err)
{
    const struct xnode *aid =
        xnode_child(ok, "authorization-identifier", NS_SASL2);
    if (aid == NULL)
        aid = xnode_child(ok, "authorization-identity", NS_SASL2);
    const struct xnode *bound = xnode_child(ok, "bound", NS_BIND2);
    struct jid j;
    if (bound == NULL || jid_parse(xnode_text(aid), &j, NULL) != 0)
        return xs_seterr(err, XS_EPROTO,
                         "server did not bind a resource with SASL2 "
                         "(no <bound/> or no full JID in <success/>)");
    int mine = j.resource != NULL && jid_bare_eq(j.bare, s->me.bare);
    jid_free(&j);
    if (!mine)
        return xs_seterr(err, XS_EPROTO,
                         "server bound an invalid or foreign JID");
    free(s->bound_jid);
    s->bound_jid = xstrdup(xnode_text(aid));
    if (s->sm_state == SM_REQUESTED) {
        const struct xnode *en = xnode_child(bound, "enabled", NS_SM);
        s->sm_state = en != NULL ? SM_ENABLED : SM_FAILED;
        const char *id = xnode_attr(en, "id");
        const char *res = xnode_attr(en, "resume");
        if (id != NULL && res != NULL &&
            (strcmp(res, "true") == 0 || strcmp(res, "1") == 0))
            s->sm_id = xstrdup(id);
    }
    const struct xnode *tok = xnode_child(ok, "token", NS_FAST);
    const char *tv = xnode_attr(tok, "token");
    struct xs_state *st = s->cfg.state;
    if (tv != NULL && token_mech != NULL && fast_allowed(s)) {
        if (!state_value_ok(tv, 1024)) {
            note(s, "FAST: the server's token is unusable; not kept");
        } else {
            state_set(st, &st->fast_token, tv);
            state_set(st, &st->fast_mech, token_mech);
            const char *exp = xnode_attr(tok, "expiry");
            int exp_ok = exp != NULL && state_value_ok(exp, 63);
            state_set(st, &st->fast_expiry, exp_ok ? exp : NULL);
            note(s, "FAST: a new token (%s) kept for the next run", token_mech);
        }
    }
    s->authenticated = 1;
    s->sasl2_bound = 1;
    return post_auth_features(s, "waiting for stream features", err);
}

/* Queue <authenticate/> with the FAST token (HT-SHA-256-*); 'sm': ask
 * for inline stream management. */
static enum xs_err
fast_emit(struct xmpp_session *s, int sm, struct xs_error *err)
{
    struct xs_state *st = s->cfg.state;
    struct buf cb = {0}, msg = {0}, extra = {0};
    enum xs_err e =
        fast_cb(s, st->fast_mech, &cb) == 0
            ? sasl_ht_initial(s->me.local, st->fast_token,
                              (unsigned char *)cb.data, cb.len, &msg, err)
            : xs_seterr(err, XS_ESOFTWARE, "no channel binding");
    buf_wipe(&cb);
    if (e != XS_OK) {
        buf_wipe(&msg);
        return e;
    }
    char *b64 = b64_encode(msg.data, msg.len);
    buf_wipe(&msg);
    sasl2_extra(s, sm, st->fast_mech, NULL, &extra);
    struct sasl_wire w = {NS_SASL2, 1, extra.data, NULL};
    emit_first(s, &w, st->fast_mech, b64);
    xs_free_secret(b64);
    buf_free(&extra);
    return XS_OK;
}

/*
 * The server's answer to the FAST <authenticate/>: its proof of the
 * token checked, then the <success/>.  *refused is set when the server
 * said no (the token is then dropped and the password used).
 */
static enum xs_err
fast_outcome(struct xmpp_session *s, int *refused, struct xs_error *err)
{
    const char *what = "authenticating with a FAST token";
    struct xs_state *st = s->cfg.state;
    struct buf cb = {0}, msg = {0};
    struct xnode *n = NULL;
    *refused = 0;
    enum xs_err e = next_element(s, what, &n, err);
    if (e != XS_OK)
        return e;
    if (xnode_is(n, "failure", NS_SASL2)) {
        *refused = 1;
        e = sasl_failure(n, err);
    } else if (xnode_is(n, "continue", NS_SASL2)) {
        e = sasl2_continue(err);
    } else if (!xnode_is(n, "success", NS_SASL2)) {
        e = unexpected(n, what, err);
    } else {
        e = sasl_payload(xnode_child(n, "additional-data", NS_SASL2), &msg,
                         err);
        if (e == XS_OK && fast_cb(s, st->fast_mech, &cb) != 0)
            e = xs_seterr(err, XS_ESOFTWARE, "no channel binding");
        if (e == XS_OK)
            e = sasl_ht_verify(st->fast_token, (unsigned char *)cb.data, cb.len,
                               msg.data, msg.len, err);
        if (e == XS_OK)
            e = sasl2_success(s, n, st->fast_mech, err);
    }
    xnode_free(n);
    buf_wipe(&cb);
    buf_wipe(&msg);
    return e;
}

/* The offer in the features 'f' (names point into 'f'). */
static void parse_offer(const struct xnode *f, struct sasl_offer *o)
{
    memset(o, 0, sizeof *o);
    const struct xnode *m = xnode_child(f, "mechanisms", NS_SASL);
    for (const struct xnode *c = m ? m->children : NULL; c && o->n < 32;
         c = c->next) {
        if (xnode_is(c, "mechanism", NS_SASL))
            o->mechs[o->n++] = xnode_text(c);
    }
    const struct xnode *cbl =
        xnode_child(f, "sasl-channel-binding", NS_SASL_CB);
    o->cb_listed = cbl != NULL;
    for (const struct xnode *c = cbl ? cbl->children : NULL; c && o->ncb < 16;
         c = c->next) {
        const char *t = xnode_attr(c, "type");
        if (xnode_is(c, "channel-binding", NS_SASL_CB) && t != NULL)
            o->cbs[o->ncb++] = t;
    }
    const struct xnode *a2 = xnode_child(f, "authentication", NS_SASL2);
    o->sasl2 = a2 != NULL;
    for (const struct xnode *c = a2 ? a2->children : NULL; c && o->n2 < 32;
         c = c->next) {
        if (xnode_is(c, "mechanism", NS_SASL2))
            o->mechs2[o->n2++] = xnode_text(c);
    }
    const struct xnode *in = xnode_child(a2, "inline", NS_SASL2);
    const struct xnode *b2 = xnode_child(in, "bind", NS_BIND2);
    o->bind2 = b2 != NULL;
    b2 = xnode_child(b2, "inline", NS_BIND2);
    for (const struct xnode *c = b2 ? b2->children : NULL; c; c = c->next) {
        const char *v = xnode_attr(c, "var");
        if (xnode_is(c, "feature", NS_BIND2) && v && strcmp(v, NS_SM) == 0)
            o->sm = 1;
    }
    const struct xnode *fa = xnode_child(in, "fast", NS_FAST);
    for (const struct xnode *c = fa ? fa->children : NULL; c && o->nfast < 8;
         c = c->next) {
        if (xnode_is(c, "mechanism", NS_FAST))
            o->fast[o->nfast++] = xnode_text(c);
    }
}

/* 'v' joined by commas into a new string (NULL: empty); names that
 * would not survive the state file's format are left out. */
static char *join_names(const char *const *v, size_t n)
{
    struct buf b = {0};
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]);
        int ok = len > 0 && len <= 64;
        for (size_t k = 0; k < len && ok; k++)
            ok = v[i][k] > ' ' && v[i][k] < 0x7f && v[i][k] != ',';
        if (ok)
            buf_printf(&b, "%s%s", b.len ? "," : "", v[i]);
    }
    return b.data; /* NULL when nothing was added */
}

/* Split the comma list 'list' (modified in place) into 'v'. */
static size_t split_names(char *list, const char **v, size_t max)
{
    size_t n = 0;
    for (char *p = list; p != NULL && *p != '\0' && n < max;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        v[n++] = p;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return n;
}

/* Set a string field of the state to the joined names. */
static void remember_names(struct xs_state *st,
                           char **field,
                           const char *const *v,
                           size_t n)
{
    char *j = join_names(v, n);
    state_set(st, field, j);
    free(j);
}

/* What the next run may expect without waiting (state.h). */
static void remember_offer(struct xmpp_session *s, const struct sasl_offer *o)
{
    struct xs_state *st = s->cfg.state;
    if (st == NULL || st->lockfd < 0)
        return;
    remember_names(st, &st->mechs, o->mechs, o->n);
    remember_names(st, &st->cbs, o->cbs, o->ncb);
    remember_names(st, &st->mechs2, o->mechs2, o->n2);
    remember_names(st, &st->fast_mechs, o->fast, o->nfast);
    int *flag[] = {&st->known, &st->cb_listed, &st->sasl2, &st->bind2,
                   &st->sm_inline};
    int val[] = {1, o->cb_listed, o->sasl2, o->bind2, o->sm};
    for (size_t i = 0; i < sizeof val / sizeof val[0]; i++) {
        if (*flag[i] != val[i])
            st->dirty = 1;
        *flag[i] = val[i];
    }
}

/* The offer remembered in the state; its names point into 'copy'
 * (four strings, freed by the caller).  0: there is one. */
static int
remembered_offer(const struct xs_state *st, struct sasl_offer *o, char *copy[4])
{
    memset(o, 0, sizeof *o);
    if (st == NULL || !st->known)
        return -1;
    copy[0] = st->mechs ? xstrdup(st->mechs) : NULL;
    copy[1] = st->cbs ? xstrdup(st->cbs) : NULL;
    copy[2] = st->mechs2 ? xstrdup(st->mechs2) : NULL;
    copy[3] = st->fast_mechs ? xstrdup(st->fast_mechs) : NULL;
    o->n = split_names(copy[0], o->mechs, 32);
    o->ncb = split_names(copy[1], o->cbs, 16);
    o->n2 = split_names(copy[2], o->mechs2, 32);
    o->nfast = split_names(copy[3], o->fast, 8);
    o->cb_listed = st->cb_listed;
    o->sasl2 = st->sasl2;
    o->bind2 = st->bind2;
    o->sm = st->sm_inline;
    return 0;
}

/*
 * May the FAST <authenticate/> go with the stream header, without
 * waiting for the features (and the job right behind it)?  Only with
 * a token whose mechanism binds to this connection, to a server that
 * offered SASL2 last time, on a verified connection (fast_allowed).
 */
static int fast_guess(struct xmpp_session *s)
{
    const struct xs_state *st = s->cfg.state;
    struct buf cb = {0};
    if (!s->cfg.pipeline_auth || !fast_allowed(s) || !st->sasl2 ||
        st->fast_token == NULL || !s->cfg.sasl2 || s->cfg.sm_resume ||
        s->cfg.resource != NULL || s->cfg.client_cert ||
        s->cfg.password == NULL)
        return 0;
    int ok = fast_cb(s, st->fast_mech, &cb) == 0;
    buf_wipe(&cb);
    return ok;
}

/* The token was refused: forget it; the password goes next. */
static void fast_refused(struct xmpp_session *s, struct xs_error *err)
{
    note(s, "FAST: the server refused the token (%s); password login",
         err->msg);
    state_drop_token(s->cfg.state);
    s->sm_state = SM_NONE;
}

/* The SCRAM mechanism SASL2 offer 'v' would get (SASL_NONE: none). */
static enum sasl_mech pick_sasl2(struct xmpp_session *s,
                                 const struct sasl_offer *v)
{
    enum sasl_mech mech = choose_mechanism(s, v->mechs, v->n);
    enum sasl_mech plus = plus_allowed(s, v);
    if (plus != SASL_NONE &&
        (mech == SASL_NONE || mech == SASL_PLAIN || mech == SASL_DIGEST_MD5))
        mech = plus;
    if (mech < SASL_SCRAM_SHA_1) {
        note(s, "SASL2 (XEP-0388) offered, not used: no SCRAM mechanism "
                "with it that may be used");
        return SASL_NONE;
    }
    return mech;
}

/* The legacy SASL mechanism for offer 'o': the policy's choice, or the
 * -PLUS variant of SCRAM where that is all the server offers. */
static enum sasl_mech pick_legacy(struct xmpp_session *s,
                                  const struct sasl_offer *o)
{
    enum sasl_mech mech = choose_mechanism(s, o->mechs, o->n);
    /* Only -PLUS variants of SCRAM (that --mechanism allows): use them,
     * never PLAIN or DIGEST-MD5 instead. */
    enum sasl_mech plus = plus_allowed(s, o);
    if (plus != SASL_NONE && s->cfg.password != NULL &&
        (mech == SASL_NONE || mech == SASL_PLAIN || mech == SASL_DIGEST_MD5))
        mech = plus;
    else if (plus != SASL_NONE && mech == SASL_EXTERNAL)
        note(s, "SASL: %s-PLUS: the client certificate is used instead",
             sasl_mech_name(plus));
    return mech;
}

/*
 * SASL2 with Bind2: the FAST token when there is one, else (or when the
 * server refuses it) SCRAM with the password, asking for a new token.
 * *declined: SASL2 offers nothing usable here; the caller goes on with
 * legacy SASL.
 */
static enum xs_err sasl2_login(struct xmpp_session *s,
                               const struct sasl_offer *offer,
                               int *declined,
                               struct xs_error *err)
{
    struct xs_state *st = s->cfg.state;
    *declined = 0;
    if (fast_allowed(s) && st->fast_token != NULL) {
        struct buf cb = {0};
        int usable = fast_offers(offer, st->fast_mech) &&
                     fast_cb(s, st->fast_mech, &cb) == 0;
        buf_wipe(&cb);
        if (!usable) {
            note(s,
                 "FAST: the server does not offer %s on this connection; "
                 "password login",
                 st->fast_mech);
        } else {
            int refused = 0;
            enum xs_err e = fast_emit(s, offer->sm, err);
            if (e == XS_OK)
                e = flush(s, "authenticating with a FAST token", err);
            if (e == XS_OK)
                e = fast_outcome(s, &refused, err);
            if (e == XS_OK || !refused)
                return e;
            fast_refused(s, err);
            err->code = XS_OK;
            err->msg[0] = '\0';
        }
    }
    struct sasl_offer v;
    sasl2_view(offer, &v);
    enum sasl_mech mech = pick_sasl2(s, &v);
    if (mech == SASL_NONE) {
        *declined = 1;
        return XS_OK;
    }
    const char *request = fast_allowed(s) ? fast_request_mech(s, offer) : NULL;
    struct buf extra = {0};
    sasl2_extra(s, offer->sm, NULL, request, &extra);
    struct sasl_wire w = {NS_SASL2, 1, extra.data, NULL};
    enum xs_err e = scram(s, &v, mech, &w, err);
    buf_free(&extra);
    if (e == XS_OK)
        e = sasl2_success(s, w.success, request, err);
    xnode_free(w.success);
    return e;
}

/* ---------------------------------------------------------------- */
/* Going ahead on the offer the server made last time                */

/*
 * With a remembered offer (state.h), the first SCRAM message goes with
 * the stream header, before the features: one round trip less.  When
 * the features come, the choice is made again on them; the same
 * mechanism and channel binding (and, with SASL2, the same token
 * request and inline SM) go on, anything else is aborted and started
 * afresh: a wrong guess costs one round trip.  Downgrade checks
 * (XEP-0440, XEP-0474) run on the real features before the proof.
 */
struct guess {
    int active, v2;
    enum sasl_mech mech;
    const char *request; /* SASL2: the token asked for */
    struct scram_run run;
    struct buf extra;
};

/* Queue the first SCRAM message for the offer remembered in the
 * state, when there is one to go on (g->active). */
static void guess_begin(struct xmpp_session *s, struct guess *g)
{
    struct sasl_offer o, v;
    char *copy[4] = {0};
    struct xs_error gerr = {0};
    const struct xs_state *st = s->cfg.state;
    memset(g, 0, sizeof *g);
    if (!s->cfg.pipeline_auth || s->cfg.password == NULL ||
        s->cfg.client_cert || (fast_allowed(s) && st->fast_token != NULL) ||
        remembered_offer(st, &o, copy) != 0) {
        for (int i = 0; i < 4; i++)
            free(copy[i]);
        return;
    }
    note(s, "SASL: going ahead on the offer the server made last time");
    g->v2 = sasl2_wanted(s, &o);
    if (g->v2) {
        sasl2_view(&o, &v);
        g->mech = pick_sasl2(s, &v);
        g->request = fast_allowed(s) ? fast_request_mech(s, &o) : NULL;
        sasl2_extra(s, o.sm, NULL, g->request, &g->extra);
    } else {
        v = o;
        g->mech = pick_legacy(s, &v);
    }
    struct sasl_wire w = {g->v2 ? NS_SASL2 : NS_SASL, g->v2, g->extra.data,
                          NULL};
    if (g->mech >= SASL_SCRAM_SHA_1 &&
        scram_start(s, &v, g->mech, &w, &g->run, &gerr) == XS_OK)
        g->active = 1;
    else
        s->sm_state = SM_NONE; /* sasl2_extra may have asked for SM */
    for (int i = 0; i < 4; i++)
        free(copy[i]);
}

/* Would the real offer 'o' get what the guess sent? */
static int
guess_holds(struct xmpp_session *s, struct guess *g, const struct sasl_offer *o)
{
    struct sasl_offer v;
    struct scram_plan p = {0};
    struct xs_error perr = {0};
    int v2 = sasl2_wanted(s, o);
    if (v2) {
        sasl2_view(o, &v);
    } else {
        v = *o;
    }
    enum sasl_mech mech = v2 ? pick_sasl2(s, &v) : pick_legacy(s, &v);
    const char *request =
        v2 && fast_allowed(s) ? fast_request_mech(s, o) : NULL;
    int same = v2 == g->v2 && mech == g->mech &&
               plan_scram(s, &v, mech, &p, &perr) == XS_OK &&
               p.mech == g->run.plan.mech && p.plus == g->run.plan.plus &&
               strcmp(p.flag, g->run.plan.flag) == 0 &&
               p.ssdp_required == g->run.plan.ssdp_required &&
               (request == NULL) == (g->request == NULL) &&
               (request == NULL || strcmp(request, g->request) == 0) &&
               (!v2 || o->sm == (s->sm_state == SM_REQUESTED));
    buf_wipe(&p.cbdata);
    return same;
}

/* The guess was wrong: end the exchange it began (the server answers
 * it with a challenge, to be aborted, or a failure). */
static enum xs_err
guess_abort(struct xmpp_session *s, struct guess *g, struct xs_error *err)
{
    const char *what = "starting the authentication again";
    const char *ns = g->v2 ? NS_SASL2 : NS_SASL;
    struct xnode *n = NULL;
    note(s, "SASL: the server's offer changed; starting again on it");
    sasl_scram_free(g->run.sc);
    g->run.sc = NULL;
    s->sm_state = SM_NONE;
    enum xs_err e = flush(s, what, err);
    if (e == XS_OK)
        e = expect(s, what, "challenge", "failure", ns, &n, err);
    if (e == XS_OK && xnode_is(n, "challenge", ns)) {
        char a[64];
        snprintf(a, sizeof a, "<abort xmlns='%s'/>", ns);
        emit(s, a);
        xnode_free(n);
        n = NULL;
        e = flush(s, what, err);
        if (e == XS_OK)
            e = expect(s, what, "failure", NULL, ns, &n, err);
    }
    xnode_free(n);
    if (e != XS_OK)
        s->retry_login = 1;
    return e;
}

/* After <success/> of legacy SASL: restart the stream (RFC 6120 6.4.6).
 * Bytes the server sent after <success/> belong to the new stream. */
static enum xs_err restart_stream(struct xmpp_session *s, struct xs_error *err)
{
    struct buf rest = {0};
    s->authenticated = 1;
    buf_add(&rest, xml_trailing_data(s->xml), xml_trailing(s->xml));
    xml_reset(s->xml);
    enum xs_err e =
        rest.len ? xml_feed(s->xml, rest.data, rest.len, err) : XS_OK;
    buf_free(&rest);
    return e;
}

/* The exchange the guess began goes on, on the server's real offer. */
static enum xs_err guess_finish(struct xmpp_session *s,
                                struct guess *g,
                                const struct sasl_offer *o,
                                struct xs_error *err)
{
    struct sasl_offer v;
    struct sasl_wire w = {g->v2 ? NS_SASL2 : NS_SASL, g->v2, NULL, NULL};
    if (g->v2)
        sasl2_view(o, &v);
    else
        v = *o;
    enum xs_err e = scram_finish(s, &v, &w, &g->run, err);
    if (e == XS_OK && g->v2)
        e = sasl2_success(s, w.success, g->request, err);
    else if (e == XS_OK)
        e = restart_stream(s, err);
    xnode_free(w.success);
    return e;
}

static enum xs_err authenticate(struct xmpp_session *s, struct xs_error *err)
{
    struct xnode *f = NULL;
    struct guess g;
    emit_header(s, 1);
    guess_begin(s, &g);
    enum xs_err e = flush(s, "opening the encrypted stream", err);
    if (e == XS_OK)
        e = wait_features(s, "waiting for stream features", &f, err);
    if (e != XS_OK) {
        sasl_scram_free(g.run.sc);
        buf_free(&g.extra);
        return e;
    }
    struct sasl_offer o;
    parse_offer(f, &o);
    remember_offer(s, &o);
    note_limits(s, f);
    if (g.active) {
        e = guess_holds(s, &g, &o) ? guess_finish(s, &g, &o, err)
                                   : guess_abort(s, &g, err);
        int done = g.run.sc == NULL && e == XS_OK && s->authenticated;
        buf_free(&g.extra);
        if (e != XS_OK || done) {
            xnode_free(f);
            return e;
        }
    }
    buf_free(&g.extra);
    if (sasl2_wanted(s, &o)) {
        int declined;
        e = sasl2_login(s, &o, &declined, err);
        if (e != XS_OK || !declined) {
            xnode_free(f);
            return e;
        }
    }
    enum sasl_mech mech = pick_legacy(s, &o);
    if (mech == SASL_NONE &&
        (s->cfg.mechanisms != 0 || s->cfg.password == NULL)) {
        e = no_listed_mechanism(s, o.mechs, o.n, err);
        xnode_free(f);
        return e;
    }
    if (mech == SASL_NONE) {
        xnode_free(f);
        return xs_seterr(err, XS_EREFUSED,
                         "server offers no acceptable authentication "
                         "mechanism (need SCRAM-SHA-1/256/512%s)",
                         s->cfg.allow_plain ? " or PLAIN" : "");
    }
    s->cert_identity = mech == SASL_EXTERNAL;
    struct sasl_wire wire = {NS_SASL, 0, NULL, NULL};
    /* The offer points into the features: freed after the exchange. */
    e = mech == SASL_PLAIN        ? plain(s, err)
        : mech == SASL_EXTERNAL   ? external(s, err)
        : mech == SASL_DIGEST_MD5 ? digest_md5(s, err)
                                  : scram(s, &o, mech, &wire, err);
    xnode_free(f);
    return e == XS_OK ? restart_stream(s, err) : e;
}

/* Is 'from' acceptable on a reply to an IQ we sent to 'to'? */
static int
reply_from_ok(const struct xmpp_session *s, const char *from, const char *to)
{
    if (to != NULL)
        return from != NULL && jid_domain_eq(from, to);
    return from == NULL || jid_domain_eq(from, s->me.bare) ||
           jid_domain_eq(from, s->me.domain) ||
           (s->bound_jid != NULL && strcmp(from, s->bound_jid) == 0);
}

/* Is 'n' the reply to our IQ 'id' (sent to 'to', NULL: our server)? */
static int is_reply(const struct xmpp_session *s,
                    const struct xnode *n,
                    const char *id,
                    const char *to)
{
    const char *t = xnode_attr(n, "type");
    const char *nid = xnode_attr(n, "id");
    return xnode_is(n, "iq", NS_CLIENT) && t != NULL && nid != NULL &&
           strcmp(nid, id) == 0 &&
           (strcmp(t, "result") == 0 || strcmp(t, "error") == 0) &&
           reply_from_ok(s, xnode_attr(n, "from"), to);
}

/* Wait for the reply to IQ 'id'; other elements are passed over. */
static enum xs_err wait_reply(struct xmpp_session *s,
                              const char *what,
                              const char *id,
                              struct xnode **out,
                              struct xs_error *err)
{
    for (;;) {
        enum xs_err e = next_element(s, what, out, err);
        if (e != XS_OK)
            return e;
        if (is_reply(s, *out, id, NULL))
            return XS_OK;
        xnode_free(*out);
        *out = NULL;
    }
}

static enum xs_err
iq_error(const struct xnode *iq, const char *what, struct xs_error *err)
{
    struct xnode *e = xnode_child(iq, "error", NULL);
    const char *type = xnode_attr(e, "type");
    /* RFC 6120 8.3.2: only type 'wait' says that retrying may work. */
    enum xs_err code =
        type != NULL && strcmp(type, "wait") == 0 ? XS_ETEMP : XS_EREFUSED;
    char *c = printable(condition_of(e, NS_STANZAS));
    xs_seterr(err, code, "%s failed: %s", what, c);
    free(c);
    return code;
}

/* Parse a 32-bit unsigned decimal (XEP-0198 'h'); -1 when invalid. */
static long long parse_h(const char *v)
{
    if (v == NULL || *v < '0' || *v > '9' || strlen(v) > 10)
        return -1;
    char *end;
    long long h = strtoll(v, &end, 10);
    return (*end != '\0' || h > 0xffffffffLL) ? -1 : h;
}

/* Queue the bind request (RFC 6120 7.6); 'id' receives its id. */
static void emit_bind(struct xmpp_session *s, char *id, size_t idsize)
{
    struct buf b = {0};
    new_id(s, id, idsize);
    buf_printf(&b, "<iq type='set' id='%s'><bind xmlns='" NS_BIND "'", id);
    if (s->cfg.resource != NULL) {
        buf_addstr(&b, "><resource>");
        buf_add_xml(&b, s->cfg.resource, strlen(s->cfg.resource));
        buf_addstr(&b, "</resource></bind></iq>");
    } else {
        buf_addstr(&b, "/></iq>");
    }
    emit(s, b.data);
    buf_free(&b);
}

/* The restarted stream's features: what the session may use. */
static enum xs_err post_auth_features(struct xmpp_session *s,
                                      const char *what,
                                      struct xs_error *err)
{
    struct xnode *f = NULL;
    enum xs_err e = wait_features(s, what, &f, err);
    if (e != XS_OK)
        return e;
    struct xnode *sess = xnode_child(f, "session", NS_SESSION);
    s->f_bind = xnode_child(f, "bind", NS_BIND) != NULL;
    s->f_session_required =
        sess != NULL && xnode_child(sess, "optional", NULL) == NULL;
    s->f_sm = xnode_child(f, "sm", NS_SM) != NULL;
    s->f_preapproval =
        xnode_child(f, "sub", "urn:xmpp:features:pre-approval") != NULL;
    note_limits(s, f);
    xnode_free(f);
    return XS_OK;
}

/* The bind result for request 'id', then the legacy session where the
 * server requires one. */
static enum xs_err
bind_finish(struct xmpp_session *s, const char *id, struct xs_error *err)
{
    const char *what = "binding a resource";
    struct xnode *n = NULL;
    struct buf b = {0};
    char sid[24];

    if (!s->f_bind)
        return xs_seterr(err, XS_EPROTO,
                         "server does not offer resource binding");
    enum xs_err e = wait_reply(s, what, id, &n, err);
    if (e != XS_OK)
        return e;
    if (strcmp(xnode_attr(n, "type"), "error") == 0) {
        e = iq_error(n, "resource binding", err);
        xnode_free(n);
        return e;
    }
    const char *jid = xnode_text(
        xnode_child(xnode_child(n, "bind", NS_BIND), "jid", NS_BIND));
    struct jid bound;
    if (jid_parse(jid, &bound, NULL) != 0 || bound.resource == NULL ||
        !jid_bare_eq(bound.bare, s->me.bare)) {
        if (bound.domain != NULL)
            jid_free(&bound);
        xnode_free(n);
        return xs_seterr(err, XS_EPROTO,
                         "server bound an invalid or foreign JID");
    }
    jid_free(&bound);
    free(s->bound_jid);
    s->bound_jid = xstrdup(jid);
    xnode_free(n);

    if (!s->f_session_required)
        return XS_OK;
    new_id(s, sid, sizeof sid);
    buf_printf(&b,
               "<iq type='set' id='%s'><session xmlns='" NS_SESSION "'/></iq>",
               sid);
    emit(s, b.data);
    buf_free(&b);
    e = flush(s, "opening a session", err);
    if (e == XS_OK)
        e = wait_reply(s, "opening a session", sid, &n, err);
    if (e == XS_OK && strcmp(xnode_attr(n, "type"), "error") == 0)
        e = iq_error(n, "session establishment", err);
    xnode_free(n);
    return e;
}

static enum xs_err bind_resource(struct xmpp_session *s, struct xs_error *err)
{
    const char *what = "binding a resource";
    char id[24];

    /* Pipelined with the restarted stream's header: every RFC 6120
     * server offers bind after SASL and handles input in order. */
    emit_header(s, 1);
    emit_bind(s, id, sizeof id);
    enum xs_err e = flush(s, what, err);
    if (e == XS_OK)
        e = post_auth_features(s, what, err);
    if (e == XS_OK)
        e = bind_finish(s, id, err);
    return e;
}

/*
 * XEP-0198 5: resume the session in 'st' instead of binding, pipelined
 * with the restarted stream's header as bind is.  <failed/>: bind.
 */
static enum xs_err resume_session(struct xmpp_session *s,
                                  const struct xmpp_resume *st,
                                  int *resumed,
                                  unsigned long *handled,
                                  struct xs_error *err)
{
    const char *what = "resuming the session";
    struct xnode *n = NULL;
    struct buf b = {0};

    *resumed = 0;
    emit_header(s, 1);
    buf_printf(&b, "<resume xmlns='" NS_SM "' h='%lu' previd='",
               st->in & 0xffffffffUL);
    buf_add_xml(&b, st->id, strlen(st->id));
    buf_addstr(&b, "'/>");
    emit(s, b.data);
    buf_free(&b);
    enum xs_err e = flush(s, what, err);
    if (e == XS_OK)
        e = post_auth_features(s, what, err);
    if (e == XS_OK)
        e = next_element(s, what, &n, err);
    if (e != XS_OK)
        return e;
    if (xnode_is(n, "resumed", NS_SM)) {
        const char *previd = xnode_attr(n, "previd");
        long long h = parse_h(xnode_attr(n, "h"));
        int ok = previd != NULL && strcmp(previd, st->id) == 0 && h >= 0 &&
                 h <= (long long)(st->out & 0xffffffffUL);
        xnode_free(n);
        if (!ok)
            return xs_seterr(err, XS_EPROTO,
                             "server resumed another session, or "
                             "acknowledged more stanzas than were sent");
        /* Counting goes on from what the server has: whatever we sent
         * beyond h is sent again and counted again (XEP-0198 5). */
        s->sm_state = SM_ENABLED;
        s->sm_id = xstrdup(st->id);
        s->sm_in = st->in;
        s->sm_out = (unsigned long)h;
        s->sm_acked = h;
        free(s->bound_jid);
        s->bound_jid = st->bound_jid ? xstrdup(st->bound_jid) : NULL;
        *resumed = 1;
        *handled = (unsigned long)h;
        return XS_OK;
    }
    if (!xnode_is(n, "failed", NS_SM)) {
        unexpected(n, what, err);
        xnode_free(n);
        return XS_EPROTO;
    }
    xnode_free(n);
    /* The server no longer has it: a new session, as xmpp_login. */
    char id[24];
    emit_bind(s, id, sizeof id);
    e = flush(s, "binding a resource", err);
    if (e == XS_OK)
        e = bind_finish(s, id, err);
    return e;
}

/* ---------------------------------------------------------------- */
/* Public interface                                                  */

struct xmpp_session *xmpp_new(const struct xmpp_config *cfg,
                              const struct xs_io *io)
{
    struct xmpp_session *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->io = io;
    s->xml = xml_parser_new();
    if (jid_parse(cfg->jid, &s->me, NULL) != 0 || s->me.local == NULL) {
        /* The CLI validates first; keep a usable value regardless. */
        jid_free(&s->me);
        jid_parse("invalid@invalid", &s->me, NULL);
    }
    return s;
}

void xmpp_free(struct xmpp_session *s)
{
    if (s == NULL)
        return;
    xml_parser_free(s->xml);
    jid_free(&s->me);
    buf_wipe(&s->out);
    free(s->bound_jid);
    free(s->sm_id);
    free(s);
}

void xmpp_stats(const struct xmpp_session *s, struct xmpp_stats *st)
{
    st->mech = s->mech_used[0] ? s->mech_used : NULL;
    st->sasl2 = s->sasl2_bound;
    st->flights = s->flights;
    st->bytes_out = s->bytes_out;
    st->bytes_in = s->bytes_in;
    st->tls = s->io->tls_version ? s->io->tls_version(s->io->ctx) : 0;
}

int xmpp_retry_login(const struct xmpp_session *s)
{
    return s->retry_login;
}

int xmpp_preapproval(const struct xmpp_session *s)
{
    return s->f_preapproval;
}

const char *xmpp_bound_jid(const struct xmpp_session *s)
{
    return s->bound_jid;
}

/* Steps 1-2: TLS, unless the transport is direct TLS already. */
static enum xs_err secure(struct xmpp_session *s, struct xs_error *err)
{
    /* Direct TLS (XEP-0368): the transport is TLS already and the first
     * stream header goes over it; steps 1-2 do not happen. */
    static const char note_direct[] = "direct TLS (XEP-0368): no STARTTLS";
    if (s->io->starttls != NULL)
        return starttls(s, err);
    trace(s, XMPP_TRACE_NOTE, note_direct, sizeof note_direct - 1);
    return XS_OK;
}

/* Steps 1-4: TLS and SASL. */
static enum xs_err secure_and_authenticate(struct xmpp_session *s,
                                           struct xs_error *err)
{
    enum xs_err e = secure(s, err);
    if (e == XS_OK)
        e = authenticate(s, err);
    return e;
}

enum xs_err xmpp_login(struct xmpp_session *s, struct xs_error *err)
{
    enum xs_err e = secure(s, err);
    if (e == XS_OK && fast_guess(s)) {
        /* The header and the FAST <authenticate/> go with the first
         * job (login_settle): one flight after TLS. */
        note(s,
             "FAST: %s without waiting for the stream features (the server "
             "offered SASL2 last time)",
             s->cfg.state->fast_mech);
        s->guess_sm = s->cfg.state->sm_inline;
        emit_header(s, 1);
        e = fast_emit(s, s->guess_sm, err);
        if (e == XS_OK)
            s->fast_pending = s->started = 1;
        return e;
    }
    if (e == XS_OK)
        e = authenticate(s, err);
    /* Not after EXTERNAL: the certificate may stand for another account
     * than ours, and nothing may go out before the bound JID says. */
    if (e == XS_OK && s->sasl2_bound) {
        /* Bind2 bound the session already. */
    } else if (e == XS_OK && s->cfg.pipeline_bind && !s->cert_identity) {
        /* Header and bind go out with the first job (bind_settle). */
        emit_header(s, 1);
        emit_bind(s, s->bind_id, sizeof s->bind_id);
    } else if (e == XS_OK) {
        e = bind_resource(s, err);
    }
    if (e == XS_OK)
        s->started = 1;
    return e;
}

enum xs_err xmpp_login_resume(struct xmpp_session *s,
                              const struct xmpp_resume *st,
                              int *resumed,
                              unsigned long *handled,
                              struct xs_error *err)
{
    *resumed = 0;
    *handled = 0;
    if (st == NULL || st->id == NULL)
        return xmpp_login(s, err);
    enum xs_err e = secure_and_authenticate(s, err);
    if (e == XS_OK)
        e = resume_session(s, st, resumed, handled, err);
    if (e == XS_OK)
        s->started = 1;
    return e;
}

void xmpp_resume_clear(struct xmpp_resume *st)
{
    free(st->id);
    free(st->bound_jid);
    memset(st, 0, sizeof *st);
}

int xmpp_resumable(const struct xmpp_session *s)
{
    return s != NULL && s->started && !s->closed_sent &&
           s->sm_state == SM_ENABLED && s->sm_id != NULL &&
           !s->saw_stream_error && !xml_closed(s->xml);
}

unsigned long xmpp_sm_sent(const struct xmpp_session *s)
{
    return s->sm_state == SM_NONE ? 0 : s->sm_out;
}

void xmpp_detach(struct xmpp_session *s, struct xmpp_resume *st)
{
    xmpp_resume_clear(st);
    if (!xmpp_resumable(s))
        return;
    st->id = xstrdup(s->sm_id);
    st->in = s->sm_in;
    st->out = s->sm_out;
    st->bound_jid = s->bound_jid ? xstrdup(s->bound_jid) : NULL;
    /* No </stream:stream>: that would end the session for good. */
    s->closed_sent = 1;
    s->io->shutdown(s->io->ctx);
}

/* ---------------------------------------------------------------- */
/* The flight: write a job's stanzas, then wait for what it needs    */

/* Write what is queued once it grows past this (a large body for many
 * recipients is streamed, not built in memory). */
#define FLIGHT_CHUNK (64 * 1024)

/* How long to look for the server's reason after a failed write. */
#define REASON_WAIT_MS 1000

/*
 * Write a job's stanzas.  When the write fails, the server may have said
 * why before it closed (a stream error: policy-violation for a stanza
 * that is too large): read for a moment, and its reason wins over
 * "connection reset" (which would say "retry" where retrying cannot help).
 */
static enum xs_err
job_flush(struct xmpp_session *s, const char *what, struct xs_error *err)
{
    enum xs_err e = flush(s, what, err);
    if (e == XS_OK || remaining_ms(s) == 0)
        return e;
    long long deadline = s->cfg.deadline;
    if (s->cfg.deadline > xs_now_ms() + REASON_WAIT_MS)
        s->cfg.deadline = xs_now_ms() + REASON_WAIT_MS;
    struct xs_error why = {0};
    struct xnode *n = NULL;
    while (next_element(s, what, &n, &why) == XS_OK) {
        xnode_free(n);
        n = NULL;
    }
    s->cfg.deadline = deadline;
    if (!s->saw_stream_error)
        return e;
    *err = why;
    return why.code;
}

/* A pipelined bind: write what is queued, then read the restarted
 * stream's features and the bind result, which come before the answers
 * to anything written after the bind request (RFC 6120 10.1). */
static enum xs_err bind_settle(struct xmpp_session *s, struct xs_error *err)
{
    const char *what = "binding a resource";
    if (s->bind_id[0] == '\0')
        return XS_OK;
    char id[sizeof s->bind_id];
    memcpy(id, s->bind_id, sizeof id);
    s->bind_id[0] = '\0';
    enum xs_err e = job_flush(s, what, err);
    if (e == XS_OK)
        e = post_auth_features(s, what, err);
    if (e == XS_OK)
        e = bind_finish(s, id, err);
    return e;
}

/*
 * A pipelined FAST login: write what is queued, then read the features
 * (they must still offer SASL2 with the token's mechanism: else the
 * guess was wrong) and the answer to <authenticate/>.  A wrong guess or
 * a refused token sets retry_login: the caller may log in again,
 * waiting for the features, with the password.
 */
static enum xs_err fast_settle(struct xmpp_session *s, struct xs_error *err)
{
    const char *what = "authenticating with a FAST token";
    const char *mech = s->cfg.state->fast_mech;
    struct xnode *f = NULL;
    int refused;
    s->fast_pending = 0;
    enum xs_err e = job_flush(s, what, err);
    if (e == XS_OK)
        e = wait_features(s, "waiting for stream features", &f, err);
    if (e != XS_OK)
        return e;
    struct sasl_offer o;
    parse_offer(f, &o);
    int same = o.sasl2 && fast_offers(&o, mech) && o.sm == s->guess_sm;
    remember_offer(s, &o);
    note_limits(s, f);
    xnode_free(f);
    if (!same) {
        s->retry_login = 1;
        return xs_seterr(err, XS_ETEMP,
                         "the server no longer offers what it did last time "
                         "(SASL2 with FAST %s); the next login waits for its "
                         "features",
                         mech);
    }
    e = fast_outcome(s, &refused, err);
    if (e != XS_OK && refused) {
        fast_refused(s, err);
        s->retry_login = 1;
    }
    return e;
}

/* The pipelined parts of the login: the FAST answer, the bind. */
static enum xs_err login_settle(struct xmpp_session *s, struct xs_error *err)
{
    if (s->fast_pending) {
        enum xs_err e = fast_settle(s, err);
        if (e != XS_OK)
            return e;
    }
    return bind_settle(s, err);
}

/* Before a job other than xmpp_send: the pipelined login's answers
 * first (such jobs need the server's features).  A failure is kept and
 * reported by every later job. */
static enum xs_err settle_first(struct xmpp_session *s, struct xs_error *err)
{
    if (s->settle_err.code == XS_OK &&
        (s->bind_id[0] != '\0' || s->fast_pending))
        login_settle(s, &s->settle_err);
    if (s->settle_err.code != XS_OK) {
        if (err != &s->settle_err)
            *err = s->settle_err;
        return s->settle_err.code;
    }
    return XS_OK;
}

/* A new flight gets the full budget of MAX_STANZAS and MAX_READ_TOTAL. */
static void budget_reset(struct xmpp_session *s)
{
    s->stanzas = 0;
    s->total_read = 0;
}

/* Enable stream management (once, with the first flight after bind) and
 * note that the server's answers to what follows are to be counted. */
static void flight_begin(struct xmpp_session *s)
{
    if (s->f_sm && s->sm_state == SM_NONE) {
        emit(s, s->cfg.sm_resume ? "<enable xmlns='" NS_SM "' resume='true'/>"
                                 : "<enable xmlns='" NS_SM "'/>");
        s->sm_state = SM_REQUESTED;
    }
}

/* Queue an IQ; 'id' receives its new id.  'to' NULL: our account. */
static void emit_iq(struct xmpp_session *s,
                    const char *type,
                    const char *to,
                    const char *payload,
                    char *id,
                    size_t idsize)
{
    struct buf b = {0};
    new_id(s, id, idsize);
    buf_printf(&b, "<iq type='%s' id='%s'", type, id);
    if (to != NULL) {
        buf_addstr(&b, " to='");
        buf_add_xml(&b, to, strlen(to));
        buf_addch(&b, '\'');
    }
    buf_printf(&b, ">%s</iq>", payload);
    emit_stanza(s, b.data);
    buf_free(&b);
}

/* End a flight's writing: the ack request and a ping, whose reply says
 * that the server has handled everything before it (RFC 6120 10.1).
 * Then write it all. */
static enum xs_err flight_end(struct xmpp_session *s,
                              struct xmpp_await *w,
                              const char *what,
                              struct xs_error *err)
{
    if (s->sm_state == SM_REQUESTED || s->sm_state == SM_ENABLED) {
        emit(s, "<r xmlns='" NS_SM "'/>");
        w->sm_need = s->sm_out;
    }
    emit_iq(s, "get", s->me.domain, "<ping xmlns='" NS_PING "'/>", w->ping,
            sizeof w->ping);
    return job_flush(s, what, err);
}

/* Does a bounce from 'from' belong to a message sent to 'to'? */
static int bounce_from_ok(const char *from, const char *to)
{
    struct jid t;
    if (from == NULL)
        return 0;
    if (jid_bare_eq(from, to))
        return 1;
    if (jid_parse(to, &t, NULL) != 0)
        return 0;
    int ok = jid_domain_eq(from, t.domain);
    jid_free(&t);
    return ok;
}

/* Record a bounce (RFC 6120 8.3) for the recipient it belongs to. */
static void bounce(struct xmpp_recipient *r, size_t nr, const struct xnode *m)
{
    const char *id = xnode_attr(m, "id");
    const char *from = xnode_attr(m, "from");
    for (size_t i = 0; id != NULL && i < nr; i++) {
        if (strcmp(r[i].id, id) != 0 || r[i].status != XMPP_PENDING ||
            !bounce_from_ok(from, r[i].jid))
            continue;
        /* Permanent "no such recipient" conditions: 67.  Type wait
         * (recipient-unavailable is wait in RFC 6120 8.3.3.15): 75.
         * Anything else: refused, 69. */
        static const char *const gone[] = {"item-not-found",
                                           "service-unavailable", "gone",
                                           "remote-server-not-found"};
        struct xnode *e = xnode_child(m, "error", NULL);
        const char *cond = condition_of(e, NS_STANZAS);
        const char *type = xnode_attr(e, "type");
        r[i].status = XMPP_FAILED;
        r[i].code = XS_EREFUSED;
        for (size_t g = 0; g < sizeof gone / sizeof gone[0]; g++) {
            if (strcmp(cond, gone[g]) == 0)
                r[i].code = XS_EBOUNCE;
        }
        if ((type != NULL && strcmp(type, "wait") == 0) ||
            strcmp(cond, "recipient-unavailable") == 0)
            r[i].code = XS_ETEMP;
        r[i].condition = printable(cond);
        r[i].errtype = printable(type ? type : "");
        r[i].text = printable(xnode_text(xnode_child(e, "text", NS_STANZAS)));
        return;
    }
}

/* XEP-0198: tell the server how many of its stanzas we handled. */
static void emit_ack(struct xmpp_session *s)
{
    char a[64];
    snprintf(a, sizeof a, "<a xmlns='" NS_SM "' h='%lu'/>",
             (unsigned long)(s->sm_in & 0xffffffffUL));
    emit(s, a);
}

/* Negotiation elements have no place after the session started. */
static int is_negotiation(const struct xnode *n)
{
    return strcmp(n->ns, NS_TLS) == 0 || strcmp(n->ns, NS_SASL) == 0 ||
           strcmp(n->ns, NS_SASL2) == 0 || xnode_is(n, "features", NS_STREAM);
}

/* Handle one element that arrived while a flight waits. */
static enum xs_err flight_element(struct xmpp_session *s,
                                  struct xmpp_await *w,
                                  struct xnode *n,
                                  struct xs_error *err)
{
    const char *type = xnode_attr(n, "type");
    if (is_negotiation(n)) {
        char *name = printable(n->name);
        xs_seterr(err, XS_EPROTO,
                  "unexpected <%s> from server after negotiation", name);
        free(name);
        return XS_EPROTO;
    }
    if (xnode_is(n, "enabled", NS_SM) && s->sm_state == SM_REQUESTED) {
        s->sm_state = SM_ENABLED;
        s->sm_in = 0;
        /* Resumable: an id we can send back in an attribute later. */
        const char *id = xnode_attr(n, "id");
        const char *res = xnode_attr(n, "resume");
        if (s->cfg.sm_resume && id != NULL && res != NULL &&
            (strcmp(res, "true") == 0 || strcmp(res, "1") == 0) &&
            id[0] != '\0' && strlen(id) <= 1024) {
            free(s->sm_id);
            s->sm_id = xstrdup(id);
        }
    } else if (xnode_is(n, "failed", NS_SM) && s->sm_state == SM_REQUESTED) {
        /* <enable/> refused: the ping confirms on its own. */
        s->sm_state = SM_FAILED;
    } else if (xnode_is(n, "a", NS_SM) && s->sm_state == SM_ENABLED) {
        /* h counts our stanzas since <enable/>.  A lower h is an earlier,
         * unsolicited ack; a higher one than all we sent is a lie
         * (XEP-0198 handled-count-too-high). */
        long long h = parse_h(xnode_attr(n, "h"));
        if (h < 0 || h > (long long)s->sm_out)
            return xs_seterr(err, XS_EPROTO,
                             "server acknowledged more stanzas than were "
                             "sent");
        if (h > s->sm_acked)
            s->sm_acked = h;
    } else if (xnode_is(n, "r", NS_SM) && s->sm_state == SM_ENABLED) {
        emit_ack(s);
        return flush(s, "answering an ack request", err);
    } else if (xnode_is(n, "message", NS_CLIENT) && type != NULL &&
               strcmp(type, "error") == 0 && w->nr > 0) {
        bounce(w->r, w->nr, n);
    } else if (w->iq_id != NULL && w->iq_reply == NULL &&
               is_reply(s, n, w->iq_id, w->iq_to)) {
        w->iq_reply = n;
        return XS_OK; /* kept: not freed by the caller */
    } else if (w->ping[0] != '\0' && !w->pinged &&
               is_reply(s, n, w->ping, s->me.domain)) {
        /* Any reply, even an error: the server got that far. */
        w->pinged = 1;
    } else if (w->job != NULL && w->job->on_stanza != NULL &&
               strcmp(n->ns, NS_CLIENT) == 0) {
        int r = w->job->on_stanza(w->job->ud, s, n, err);
        if (r == XMPP_WAIT_DONE)
            w->job->done = 1;
        else if (r != XMPP_WAIT_MORE)
            return err->code != XS_OK
                       ? err->code
                       : xs_seterr(err, XS_ESOFTWARE, "job handler failed");
    }
    return XS_OK;
}

/* Wait until the flight has every answer it needs. */
static enum xs_err
flight_wait(struct xmpp_session *s, struct xmpp_await *w, struct xs_error *err)
{
    struct xmpp_wait *job = w->job;
    for (;;) {
        int need_ack = s->sm_state == SM_ENABLED && w->sm_need > 0 &&
                       s->sm_acked < (long long)w->sm_need;
        if ((w->iq_id == NULL || w->iq_reply != NULL) &&
            (w->ping[0] == '\0' || w->pinged) && !need_ack &&
            (job == NULL || job->done || !job->need_done))
            return XS_OK;
        /* A job may wait up to its own time ('until'), which ends the
         * wait without an error once everything else is in. */
        long long deadline = s->cfg.deadline;
        int soft = job != NULL && job->until > 0 && job->until < deadline;
        if (soft)
            s->cfg.deadline = job->until;
        struct xnode *n = NULL;
        s->timed_out = 0;
        enum xs_err e = next_element(s, w->what, &n, err);
        s->cfg.deadline = deadline;
        if (e != XS_OK && soft && s->timed_out &&
            (w->ping[0] == '\0' || w->pinged) && !need_ack &&
            xs_now_ms() < deadline) {
            job->expired = 1;
            *err = (struct xs_error){0};
            return XS_OK;
        }
        if (e != XS_OK)
            return e;
        if (n == NULL) /* never: XS_OK comes with an element */
            continue;
        e = flight_element(s, w, n, err);
        if (n != w->iq_reply)
            xnode_free(n);
        if (e != XS_OK)
            return e;
    }
}

void xmpp_close(struct xmpp_session *s)
{
    if (s == NULL || s->closed_sent || !s->started)
        return;
    /* Nothing went with a pipelined bind (an error before the job):
     * its answer first, then the close. */
    struct xs_error ign = {0};
    bind_settle(s, &ign);
    /* Every answer we waited for is in: acknowledge what the server
     * sent (so stream management has nothing to re-send), end the
     * stream, and leave without waiting for the server's close. */
    if (s->sm_state == SM_ENABLED)
        emit_ack(s);
    emit(s, "</stream:stream>");
    s->closed_sent = 1;
    long long cap = xs_now_ms() + CLOSE_WRITE_MS;
    if (s->cfg.deadline > cap)
        s->cfg.deadline = cap;
    struct xs_error ignored = {0};
    if (flush(s, "closing", &ignored) == XS_OK) {
        /* Take in what already arrived, so the kernel closes with FIN,
         * not RST; wait for nothing. */
        char buf[4096];
        for (int i = 0; i < 64; i++) {
            long r = s->io->read(s->io->ctx, buf, sizeof buf, 0, &ignored);
            if (r <= 0)
                break;
            trace_recv(s, buf, (size_t)r);
        }
    }
    s->io->shutdown(s->io->ctx);
}

/* ---------------------------------------------------------------- */
/* Jobs                                                              */

enum xs_err xmpp_iq(struct xmpp_session *s,
                    const char *type,
                    const char *to,
                    const char *payload,
                    const char *what,
                    struct xnode **reply,
                    struct xs_error *err)
{
    char id[24];
    struct xmpp_await w = {.what = what, .iq_id = id, .iq_to = to};
    *reply = NULL;
    enum xs_err se = settle_first(s, err);
    if (se != XS_OK)
        return se;
    budget_reset(s);
    flight_begin(s);
    emit_iq(s, type, to, payload, id, sizeof id);
    enum xs_err e = job_flush(s, what, err);
    if (e == XS_OK)
        e = flight_wait(s, &w, err);
    if (e != XS_OK) {
        xnode_free(w.iq_reply);
        return e;
    }
    *reply = w.iq_reply;
    if (strcmp(xnode_attr(w.iq_reply, "type"), "error") == 0)
        return iq_error(w.iq_reply, what, err);
    return XS_OK;
}

void xmpp_new_id(struct xmpp_session *s, char *id, size_t size)
{
    new_id(s, id, size);
}

void xmpp_queue(struct xmpp_session *s, const char *stanza)
{
    settle_first(s, &s->settle_err);
    flight_begin(s);
    emit_stanza(s, stanza);
}

void xmpp_queue_secret(struct xmpp_session *s,
                       const char *open,
                       const char *secret,
                       const char *close)
{
    settle_first(s, &s->settle_err);
    flight_begin(s);
    emit_secret(s, open, secret, close);
    if (s->sm_state != SM_NONE)
        s->sm_out++;
}

int xmpp_is_reply(const struct xmpp_session *s,
                  const struct xnode *n,
                  const char *id,
                  const char *to)
{
    return is_reply(s, n, id, to);
}

const char *xmpp_account(const struct xmpp_session *s)
{
    return s->me.bare;
}

void xmpp_set_deadline(struct xmpp_session *s, long long deadline)
{
    s->cfg.deadline = deadline;
}

enum xs_err
xmpp_flight(struct xmpp_session *s, struct xmpp_wait *job, struct xs_error *err)
{
    const char *what = job->what != NULL ? job->what : "waiting for an answer";
    struct xmpp_await w = {.what = what, .job = job};
    enum xs_err e = settle_first(s, err);
    if (e != XS_OK)
        return e;
    job->done = 0;
    job->expired = 0;
    budget_reset(s);
    flight_begin(s);
    if (job->ping)
        e = flight_end(s, &w, what, err);
    else
        e = job_flush(s, what, err);
    if (e == XS_OK)
        e = flight_wait(s, &w, err);
    return e;
}

/* The whole <message/> for one recipient, with stanza id r->id. */
static void build_message(const struct xmpp_message *m,
                          const struct xmpp_recipient *r,
                          struct buf *b)
{
    buf_addstr(b, "<message to='");
    buf_add_xml(b, r->jid, strlen(r->jid));
    buf_printf(b, "' type='%s' id='%s'>", m->type, r->id);
    if (m->subject != NULL) {
        buf_addstr(b, "<subject>");
        buf_add_xml(b, m->subject, strlen(m->subject));
        buf_addstr(b, "</subject>");
    }
    if (m->body[0] != '\0') {
        buf_addstr(b, "<body>");
        buf_add_xml(b, m->body, strlen(m->body));
        buf_addstr(b, "</body>");
    }
    if (m->thread != NULL) {
        buf_addstr(b, "<thread>");
        buf_add_xml(b, m->thread, strlen(m->thread));
        buf_addstr(b, "</thread>");
    }
    if (m->oob_url != NULL) {
        /* XEP-0066: clients show the file inline when the body is the
         * same URL (XEP-0363 11). */
        buf_addstr(b, "<x xmlns='jabber:x:oob'><url>");
        buf_add_xml(b, m->oob_url, strlen(m->oob_url));
        buf_addstr(b, "</url></x>");
    }
    if (m->receipt)
        buf_addstr(b, "<request xmlns='urn:xmpp:receipts'/>");
    buf_addstr(b, "</message>");
}

/* The largest <message/> xmpp_send writes for 'm' to one of 'r'. */
static size_t message_size(const struct xmpp_message *m,
                           const struct xmpp_recipient *r,
                           size_t nr)
{
    struct buf b = {0};
    /* The stanza without its 'to', then the largest escaped 'to'. */
    struct xmpp_recipient probe = {.jid = ""};
    memset(probe.id, 'x', 16); /* as long as a real id */
    build_message(m, &probe, &b);
    size_t size = b.len, to = 0;
    for (size_t i = 0; i < nr; i++) {
        buf_reset(&b);
        buf_add_xml(&b, r[i].jid, strlen(r[i].jid));
        if (b.len > to)
            to = b.len;
    }
    buf_free(&b);
    return size + to;
}

/* Every server takes a stanza this large (RFC 6120 13.12; XEP-0478's
 * max-bytes may not be lower): a message no larger may go out before
 * the server's limits are known. */
#define SAFE_STANZA 10000

enum xs_err xmpp_send(struct xmpp_session *s,
                      const struct xmpp_message *m,
                      struct xmpp_recipient *r,
                      size_t nr,
                      struct xs_error *err)
{
    struct xmpp_await w = {.what = "waiting for the server's confirmation",
                           .r = r,
                           .nr = nr,
                           .job = m->watch};
    enum xs_err e = XS_OK;
    struct buf b = {0};

    if (s->settle_err.code != XS_OK) {
        *err = s->settle_err;
        return err->code;
    }
    /* With the bind request still unanswered (pipeline_bind), the
     * messages go out with it when they are small enough. */
    int early = s->bind_id[0] != '\0' || s->fast_pending;
    size_t size =
        nr > 0 && (early || s->max_bytes > 0) ? message_size(m, r, nr) : 0;
    if (early && (nr == 0 || size > SAFE_STANZA)) {
        e = login_settle(s, err);
        if (e != XS_OK)
            return e;
        early = 0;
    }
    /* Above the server's advertised stanza limit (XEP-0478) the server
     * would end the stream: refuse before anything is sent. */
    if (!early && s->max_bytes > 0 && size > s->max_bytes)
        return xs_seterr(err, XS_EREFUSED,
                         "the message is %zu bytes; the server accepts "
                         "at most %lu",
                         size, s->max_bytes);
    /*
     * One flight: the server handles it in order (RFC 6120 10.1), so the
     * ping reply comes after every bounce of these messages; the ack
     * (XEP-0198) is checked too but confirms nothing on its own.  An id
     * set by the caller is kept: a message sent again after a reconnect
     * (line mode) keeps its original id.
     */
    for (;;) {
        budget_reset(s);
        flight_begin(s);
        for (size_t i = 0; i < nr && e == XS_OK; i++) {
            if (r[i].id[0] == '\0')
                new_id(s, r[i].id, sizeof r[i].id);
            if (r[i].handled) /* the resumed session has it already */
                continue;
            build_message(m, &r[i], &b);
            emit_stanza(s, b.data);
            buf_free(&b);
            if (s->out.len > FLIGHT_CHUNK)
                e = job_flush(s, "sending", err);
        }
        if (e == XS_OK)
            e = flight_end(s, &w, "sending", err);
        if (e == XS_OK && early)
            e = login_settle(s, err);
        if (e != XS_OK)
            return e;
        /* A server that still wants the legacy session (RFC 3921) need
         * not have handled what came before it: the answers to that went
         * by while bind_settle waited; send it all again, now. */
        if (!early || !s->f_session_required)
            break;
        early = 0;
        w.pinged = 0;
        w.sm_need = 0;
    }
    e = flight_wait(s, &w, err);
    if (e != XS_OK)
        return e;
    for (size_t i = 0; i < nr; i++) {
        if (r[i].status == XMPP_PENDING)
            r[i].status = XMPP_SENT;
    }
    return XS_OK;
}

void xmpp_recipients_clear(struct xmpp_recipient *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(r[i].condition);
        free(r[i].errtype);
        free(r[i].text);
        r[i].condition = r[i].errtype = r[i].text = NULL;
    }
}

int xmpp_bounce(struct xmpp_recipient *r, size_t n, const struct xnode *m)
{
    const char *id = xnode_attr(m, "id");
    const char *type = xnode_attr(m, "type");
    int hit = 0;
    if (!xnode_is(m, "message", NS_CLIENT) || id == NULL || type == NULL ||
        strcmp(type, "error") != 0)
        return 0;
    /* bounce() takes pending recipients: offer it each one of this id
     * that has not failed yet, as pending, one at a time. */
    for (size_t i = 0; i < n; i++) {
        enum xmpp_status was = r[i].status;
        if (was == XMPP_FAILED || strcmp(r[i].id, id) != 0)
            continue;
        r[i].status = XMPP_PENDING;
        bounce(&r[i], 1, m);
        if (r[i].status == XMPP_FAILED)
            hit = 1;
        else
            r[i].status = was;
    }
    return hit;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_item(const void *a, const void *b)
{
    const struct xmpp_roster_item *x = a, *y = b;
    return strcmp(x->jid, y->jid);
}

static char *opt_dup(const char *v)
{
    return v != NULL ? xstrdup(v) : NULL;
}

enum xs_err xmpp_roster(struct xmpp_session *s,
                        struct xmpp_roster *out,
                        struct xs_error *err)
{
    struct xnode *n = NULL;
    memset(out, 0, sizeof *out);
    xml_set_stanza_limit(s->xml, XML_MAX_STANZA_BIG);
    enum xs_err e = xmpp_iq(s, "get", NULL, "<query xmlns='" NS_ROSTER "'/>",
                            "roster request", &n, err);
    xml_set_stanza_limit(s->xml, XML_MAX_STANZA);
    if (e != XS_OK) {
        xnode_free(n);
        return e;
    }
    struct xnode *q = xnode_child(n, "query", NS_ROSTER);
    for (struct xnode *it = q ? q->children : NULL; it; it = it->next) {
        const char *jid = xnode_attr(it, "jid");
        if (!xnode_is(it, "item", NS_ROSTER) || jid == NULL)
            continue;
        out->items = xrealloc(out->items, (out->n + 1) * sizeof *out->items);
        struct xmpp_roster_item *ri = &out->items[out->n++];
        memset(ri, 0, sizeof *ri);
        const char *sub = xnode_attr(it, "subscription");
        ri->jid = xstrdup(jid);
        ri->name = opt_dup(xnode_attr(it, "name"));
        ri->subscription = xstrdup(sub ? sub : "none");
        ri->ask = opt_dup(xnode_attr(it, "ask"));
        for (struct xnode *g = it->children; g; g = g->next) {
            if (!xnode_is(g, "group", NS_ROSTER))
                continue;
            ri->groups =
                xrealloc(ri->groups, (ri->ngroups + 1) * sizeof *ri->groups);
            ri->groups[ri->ngroups++] = xstrdup(xnode_text(g));
        }
    }
    xnode_free(n);
    /* Servers keep no order; sorted output diffs well in scripts. */
    for (size_t i = 0; i < out->n; i++) {
        if (out->items[i].ngroups > 1) /* qsort wants non-NULL */
            qsort(out->items[i].groups, out->items[i].ngroups, sizeof(char *),
                  cmp_str);
    }
    if (out->n > 1)
        qsort(out->items, out->n, sizeof *out->items, cmp_item);
    return XS_OK;
}

void xmpp_roster_free(struct xmpp_roster *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct xmpp_roster_item *it = &r->items[i];
        free(it->jid);
        free(it->name);
        free(it->subscription);
        free(it->ask);
        for (size_t g = 0; g < it->ngroups; g++)
            free(it->groups[g]);
        free(it->groups);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- */
/* --serverinfo: the features after TLS, and nothing sent after them */

#define NS_CSI "urn:xmpp:csi:0"
#define NS_REGISTER "http://jabber.org/features/iq-register"

static void names_add(struct xmpp_names *l, const char *v)
{
    if (v == NULL)
        return;
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = printable(v);
}

static void names_clear(struct xmpp_names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void xmpp_features_clear(struct xmpp_features *f)
{
    free(f->from);
    names_clear(&f->mechs);
    names_clear(&f->cbs);
    names_clear(&f->mechs2);
    names_clear(&f->fast);
    names_clear(&f->other);
    free(f->login);
    memset(f, 0, sizeof *f);
}

/* An XEP-0478 limit of the features 'f', or -1. */
static long long limit_of(const struct xnode *f, const char *name)
{
    const char *v = xnode_text(
        xnode_child(xnode_child(f, "limits", NS_LIMITS), name, NS_LIMITS));
    char *end;
    if (v == NULL || *v < '0' || *v > '9')
        return -1;
    unsigned long long n = strtoull(v, &end, 10);
    return *end == '\0' && n < (1ULL << 62) ? (long long)n : -1;
}

/* Would SCRAM mechanism 'm' of offer 'o' go with channel binding here
 * (its -PLUS offered, and a type the server lists, or on legacy SASL
 * without a list tls-unique, that this connection can produce: the
 * rules of plan_scram)? */
static int
probe_plus(struct xmpp_session *s, const struct sasl_offer *o, enum sasl_mech m)
{
    char name[48];
    snprintf(name, sizeof name, "%s-PLUS", sasl_mech_name(m));
    if (m < SASL_SCRAM_SHA_1 || !offer_has(o->mechs, o->n, name) ||
        s->io->channel_binding == NULL)
        return 0;
    static const char *const unique[] = {"tls-unique"};
    const char *const *types = o->cb_listed ? o->cbs : unique;
    size_t n = o->cb_listed ? o->ncb : (o->is_v2 ? 0 : 1);
    for (size_t i = 0; i < n; i++) {
        struct buf cb = {0};
        int ok = s->io->channel_binding(s->io->ctx, types[i], &cb) == 0;
        buf_wipe(&cb);
        if (ok)
            return 1;
    }
    return 0;
}

/* The login a run with a password would make on offer 'o' over a
 * verified connection (the same policy as authenticate, channel binding
 * aside), or NULL. */
static char *probe_login(struct xmpp_session *s, const struct sasl_offer *o)
{
    struct sasl_policy p = {.allow = s->cfg.mechanisms,
                            .verified = 1,
                            .cert = s->cfg.client_cert,
                            .password = 1};
    if (o->sasl2 && o->bind2 && s->cfg.sasl2 && !s->cfg.client_cert &&
        s->cfg.resource == NULL) {
        struct sasl_offer v;
        sasl2_view(o, &v);
        enum sasl_mech m = sasl_select(v.mechs, v.n, &p, NULL);
        enum sasl_mech plus = plus_allowed(s, &v);
        if (m < SASL_SCRAM_SHA_1 && plus != SASL_NONE)
            return xasprintf("SASL2 %s-PLUS", sasl_mech_name(plus));
        if (m >= SASL_SCRAM_SHA_1)
            return xasprintf("SASL2 %s%s", sasl_mech_name(m),
                             probe_plus(s, &v, m) ? "-PLUS" : "");
    }
    enum sasl_mech m = sasl_select(o->mechs, o->n, &p, NULL);
    enum sasl_mech plus = plus_allowed(s, o);
    if (plus != SASL_NONE &&
        (m == SASL_NONE || m == SASL_PLAIN || m == SASL_DIGEST_MD5))
        return xasprintf("%s-PLUS", sasl_mech_name(plus));
    if (m == SASL_NONE)
        return NULL;
    return xasprintf("%s%s", sasl_mech_name(m),
                     probe_plus(s, o, m) ? "-PLUS" : "");
}

enum xs_err xmpp_probe(struct xmpp_session *s,
                       int (*from_ok)(void *ud),
                       void *ud,
                       struct xmpp_features *f,
                       struct xs_error *err)
{
    memset(f, 0, sizeof *f);
    f->max_bytes = f->idle_seconds = -1;
    struct xnode *feat = NULL;
    s->probe = 1;
    enum xs_err e = secure(s, err);
    if (e == XS_OK) {
        s->probe = from_ok == NULL || !from_ok(ud);
        emit_header(s, 1);
        e = flush(s, "opening the encrypted stream", err);
    }
    if (e == XS_OK)
        e = wait_features(s, "waiting for stream features", &feat, err);
    if (e != XS_OK || feat == NULL)
        return e != XS_OK ? e : XS_EPROTO;
    s->started = 1; /* xmpp_close ends the stream, nothing else goes */
    const char *from = xml_header_attr(s->xml, "from");
    f->from = from != NULL ? printable(from) : NULL;
    struct sasl_offer o;
    parse_offer(feat, &o);
    for (size_t i = 0; i < o.n; i++)
        names_add(&f->mechs, o.mechs[i]);
    f->cb_listed = o.cb_listed;
    for (size_t i = 0; i < o.ncb; i++)
        names_add(&f->cbs, o.cbs[i]);
    f->sasl2 = o.sasl2;
    for (size_t i = 0; i < o.n2; i++)
        names_add(&f->mechs2, o.mechs2[i]);
    f->bind2 = o.bind2;
    f->bind2_sm = o.sm;
    for (size_t i = 0; i < o.nfast; i++)
        names_add(&f->fast, o.fast[i]);
    f->max_bytes = limit_of(feat, "max-bytes");
    f->idle_seconds = limit_of(feat, "idle-seconds");
    for (const struct xnode *c = feat->children; c != NULL; c = c->next) {
        if (xnode_is(c, "sm", NS_SM))
            f->sm = 1;
        else if (xnode_is(c, "csi", NS_CSI))
            f->csi = 1;
        else if (xnode_is(c, "register", NS_REGISTER))
            f->reg = 1;
        else if (!xnode_is(c, "mechanisms", NS_SASL) &&
                 !xnode_is(c, "sasl-channel-binding", NS_SASL_CB) &&
                 !xnode_is(c, "authentication", NS_SASL2) &&
                 !xnode_is(c, "limits", NS_LIMITS)) {
            char *t = xasprintf("%s %s", c->name, c->ns ? c->ns : "");
            names_add(&f->other, t);
            free(t);
        }
    }
    f->login = probe_login(s, &o);
    xnode_free(feat);
    return XS_OK;
}
