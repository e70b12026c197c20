/* SPDX-License-Identifier: MIT */
/*
 * test_xmpp.c - the whole session driven through 'struct xs_io' with a
 * scripted server (replay.h), using the RFC 5802 SCRAM-SHA-1 example
 * (user "user", password "pencil") so the exchange is exact.  Each
 * script is replayed with reads cut at every byte boundary.  Also JID
 * parsing and stream-parser limits.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jid.h"
#include "state.h"
#include "test.h"
#include "xml.h"
#include "xmpp.h"

#include "canned.h"
#include "replay.h"

#define CFINAL                                                                 \
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQ"  \
    "yF0X+HI4Ts="
#define SFINAL_BAD "v=AAAApqV8S7suAoZWja4dJRkFsKQ="

#define F_SASL                                                                 \
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"   \
    "<mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism>"           \
    "</mechanisms></stream:features>"
#define F_BIND                                                                 \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"        \
    "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/>"         \
    "</session></stream:features>"
#define F_BIND_SM                                                              \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"        \
    "<sm xmlns='urn:xmpp:sm:3'/></stream:features>"
#define END "</stream:stream>"

static char *sasl_el(const char *name, const char *payload)
{
    char *b64 = b64_encode(payload, strlen(payload));
    char *s = xasprintf("<%s xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</%s>",
                        name, b64, name);
    free(b64);
    return s;
}

struct script {
    char *seg[3];
    size_t nseg;
};

/* Segment 0: pre-TLS; segment 1: everything after the handshake. */
static void script_make(struct script *s,
                        const char *pre,
                        const char *sfinal,
                        const char *tail)
{
    char *ch = sasl_el("challenge", SFIRST);
    char *ok = sasl_el("success", sfinal);
    s->seg[0] = xstrdup(pre);
    s->seg[1] = xasprintf(HDR F_SASL "%s%s" HDR "%s", ch, ok, tail);
    s->nseg = 2;
    free(ch);
    free(ok);
}

static void script_free(struct script *s)
{
    for (size_t i = 0; i < s->nseg; i++)
        free(s->seg[i]);
}

/* Which jobs run() performs after the login. */
enum jobs { JOB_SEND = 0, JOB_ROSTER, JOB_SEND_ROSTER_SEND };

struct outcome {
    enum xs_err e;
    struct xs_error err;
    struct xmpp_recipient r[2];
    struct xmpp_roster roster;
    struct buf written;
    struct buf trace; /* the S: side of the debug trace */
    int tls_started;
    size_t written_at_tls;
    long close_at; /* server bytes read when </stream:stream> went out */
    int sends_ok;  /* JOB_SEND_ROSTER_SEND: confirmed sends */
};

static const char *g_body = "hi & <bye>";
static enum jobs g_jobs = JOB_SEND;
static const char *g_fail_write; /* see replay.fail_write */
static const char *g_password = "pencil";
static const char *g_rcpt1 = "romeo@example.net";
static int g_direct; /* 1: direct TLS, the transport has no starttls */

static void trace_cb(void *ud, char dir, const char *data, size_t len)
{
    struct outcome *o = ud;
    if (dir == XMPP_TRACE_RECV)
        buf_add(&o->trace, data, len);
}

static void run(const struct script *sc,
                size_t chunk,
                size_t split,
                size_t nrcpt,
                struct outcome *o)
{
    struct replay rp = {.seg = (const char *const *)sc->seg,
                        .nseg = sc->nseg,
                        .chunk = chunk,
                        .first_split = split,
                        .fail_write = g_fail_write,
                        .close_at = -1};
    struct xs_io io;
    replay_io(&rp, &io);
    if (g_direct)
        io.starttls = NULL;
    memset(o, 0, sizeof *o);
    struct xmpp_config cfg = {.jid = "user@example.com",
                              .password = g_password,
                              .allow_plain = 1,
                              .deadline = xs_now_ms() + 10000,
                              .timeout_s = 10,
                              .trace = trace_cb,
                              .trace_ud = o,
                              .test_cnonce = CNONCE};
    struct xmpp_message m = {.body = g_body, .type = "chat"};
    o->r[0].jid = "juliet@example.net";
    o->r[1].jid = g_rcpt1;
    struct xmpp_session *s = xmpp_new(&cfg, &io);
    o->e = xmpp_login(s, &o->err);
    if (o->e == XS_OK && g_jobs == JOB_ROSTER)
        o->e = xmpp_roster(s, &o->roster, &o->err);
    else if (o->e == XS_OK)
        o->e = xmpp_send(s, &m, o->r, nrcpt, &o->err);
    if (o->e == XS_OK && g_jobs == JOB_SEND_ROSTER_SEND) {
        o->sends_ok++;
        o->e = xmpp_roster(s, &o->roster, &o->err);
        xmpp_recipients_clear(o->r, 2);
        memset(o->r, 0, sizeof o->r);
        o->r[0].jid = "juliet@example.net";
        if (o->e == XS_OK)
            o->e = xmpp_send(s, &m, o->r, 1, &o->err);
        if (o->e == XS_OK)
            o->sends_ok++;
    }
    xmpp_close(s);
    xmpp_close(s); /* a second call does nothing */
    xmpp_free(s);
    o->written = rp.written;
    o->tls_started = rp.tls_started;
    o->written_at_tls = rp.written_at_tls;
    o->close_at = rp.close_at;
}

static void outcome_free(struct outcome *o)
{
    xmpp_recipients_clear(o->r, 2);
    xmpp_roster_free(&o->roster);
    buf_free(&o->written);
    buf_free(&o->trace);
}

/* Offset just past 'needle' in the whole script (both segments). */
static long script_end_of(const struct script *sc, const char *needle)
{
    size_t base = 0;
    for (size_t i = 0; i < sc->nseg; i++) {
        const char *p = strstr(sc->seg[i], needle);
        if (p != NULL)
            return (long)(base + (size_t)(p - sc->seg[i]) + strlen(needle));
        base += strlen(sc->seg[i]);
    }
    return -1;
}

static size_t count_of(const struct buf *b, const char *needle)
{
    size_t n = 0;
    for (const char *p = b->data; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static int contains(const struct buf *b, const char *needle)
{
    return b->data != NULL && strstr(b->data, needle) != NULL;
}

/* The happy path, with the reads cut in every possible way. */
static void test_ping_path(void)
{
    struct script sc;
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND BOUND
                "<iq type='result' id='xs-3' from='example.com'/>" END);
    char *resp = sasl_el("response", CFINAL);
    size_t total = strlen(sc.seg[0]) + strlen(sc.seg[1]);
    for (size_t chunk = 0; chunk <= 7; chunk++) {
        struct outcome o;
        run(&sc, chunk, 0, 1, &o);
        if (o.e != XS_OK)
            fprintf(stderr, "chunk %zu: %s\n", chunk, o.err.msg);
        CHECK_EQ_INT(o.e, XS_OK);
        CHECK_EQ_INT(o.r[0].status, XMPP_SENT);
        CHECK_EQ_STR(o.r[0].id, "xs-2");
        CHECK(contains(&o.written, resp));
        CHECK(contains(&o.written,
                       "<message to='juliet@example.net' type='chat' "
                       "id='xs-2'><body>hi &amp; &lt;bye&gt;</body>"
                       "</message>"));
        CHECK(contains(&o.written, "<ping xmlns='urn:xmpp:ping'/>"));
        CHECK(contains(&o.written, "</stream:stream>"));
        /* Before TLS only the header and <starttls/> went out. */
        CHECK(o.written_at_tls < 300);
        CHECK(!contains(&o.written, "session xmlns"));
        outcome_free(&o);
    }
    for (size_t split = 1; split < total; split++) {
        struct outcome o;
        run(&sc, 0, split, 1, &o);
        if (o.e != XS_OK)
            fprintf(stderr, "split %zu: %s\n", split, o.err.msg);
        CHECK_EQ_INT(o.e, XS_OK);
        outcome_free(&o);
    }
    free(resp);
    script_free(&sc);
}

/* Direct TLS (XEP-0368): the transport is TLS from the start
 * (xs_io.starttls NULL).  The first thing written is the stream header
 * with from=, and <starttls/> is never sent, even when the features
 * offer it again. */
static void test_direct_tls(void)
{
    static const char *const feats[] = {
        F_SASL,
        "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
        "<required/></starttls><mechanisms "
        "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1"
        "</mechanism></mechanisms></stream:features>"};
    char *ch = sasl_el("challenge", SFIRST);
    char *ok = sasl_el("success", SFINAL_OK);
    g_direct = 1;
    for (size_t f = 0; f < 2; f++) {
        struct script sc = {{NULL}, 1};
        sc.seg[0] = xasprintf(HDR "%s%s%s" HDR F_BIND BOUND
                                  "<iq type='result' id='xs-3' "
                                  "from='example.com'/>" END,
                              feats[f], ch, ok);
        for (size_t chunk = 0; chunk <= 3; chunk++) {
            struct outcome o;
            run(&sc, chunk, 0, 1, &o);
            if (o.e != XS_OK)
                fprintf(stderr, "direct %zu/%zu: %s\n", f, chunk, o.err.msg);
            CHECK_EQ_INT(o.e, XS_OK);
            CHECK_EQ_INT(o.r[0].status, XMPP_SENT);
            static const char first[] =
                "<?xml version='1.0'?><stream:stream to='example.com' "
                "from='user@example.com' ";
            CHECK(o.written.data != NULL &&
                  strncmp(o.written.data, first, sizeof first - 1) == 0);
            CHECK(!contains(&o.written, "<starttls"));
            CHECK_EQ_INT(o.tls_started, 0);
            CHECK_EQ_INT(count_of(&o.written, "<stream:stream "), 2);
            outcome_free(&o);
        }
        script_free(&sc);
    }
    g_direct = 0;
    free(ch);
    free(ok);
}

static void test_sm_and_bounce(void)
{
    struct script sc;
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND_SM BOUND
                "<enabled xmlns='urn:xmpp:sm:3'/>"
                "<message type='error' id='xs-3' from='romeo@example.net'>"
                "<error type='cancel'><item-not-found "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no\xc2\x9b"
                "31m such</text></error></message>"
                "<a xmlns='urn:xmpp:sm:3' h='2'/>"
                "<iq type='result' id='xs-4' from='example.com'/>" END);
    struct outcome o;
    run(&sc, 3, 0, 2, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    CHECK(contains(&o.written, "<enable xmlns='urn:xmpp:sm:3'/>"));
    CHECK(contains(&o.written, "<r xmlns='urn:xmpp:sm:3'/>"));
    CHECK_EQ_INT(o.r[0].status, XMPP_SENT);
    CHECK_EQ_INT(o.r[1].status, XMPP_FAILED);
    CHECK_EQ_INT(o.r[1].code, XS_EBOUNCE);
    CHECK_EQ_STR(o.r[1].condition, "item-not-found");
    CHECK_EQ_STR(o.r[1].text, "no?31m such"); /* C1 CSI neutralised */
    outcome_free(&o);
    script_free(&sc);

    /* <enable/> refused: the ping that rode along confirms. */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND_SM BOUND "<failed xmlns='urn:xmpp:sm:3'/>"
                                "<iq type='result' id='xs-3' "
                                "from='example.com'/>" END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    CHECK_EQ_INT(o.r[0].status, XMPP_SENT);
    outcome_free(&o);
    script_free(&sc);

    /* A ping reply from someone else confirms nothing: time out. */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND BOUND "<iq type='result' id='xs-3' "
                             "from='evil.example'/>");
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_ETEMP);
    outcome_free(&o);
    script_free(&sc);

    /* An ack for more stanzas than were sent is a protocol error. */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND_SM BOUND "<enabled xmlns='urn:xmpp:sm:3'/>"
                                "<a xmlns='urn:xmpp:sm:3' h='4'/>" END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EPROTO);
    outcome_free(&o);
    script_free(&sc);
}

/* A server that fails mutual authentication never sees a stanza. */
static void test_bad_server_signature(void)
{
    struct script sc;
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_BAD, F_BIND BOUND END);
    struct outcome o;
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EPROTO);
    CHECK(!contains(&o.written, "<message"));
    CHECK(!contains(&o.written, "<iq"));
    outcome_free(&o);
    script_free(&sc);
}

static void test_refusals(void)
{
    struct script sc;
    struct outcome o;

    /* No STARTTLS offered: nothing but the header and <starttls/>
     * (one flight) was sent, and the run ends at the features. */
    script_make(&sc, HDR "<stream:features/>", SFINAL_OK, END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EREFUSED);
    CHECK(!o.tls_started);
    CHECK_EQ_INT(count_of(&o.written, "<starttls"), 1);
    CHECK(strstr(o.written.data, "<starttls") >
          strstr(o.written.data, "<stream:stream"));
    CHECK(!contains(&o.written, "<auth"));
    CHECK(!contains(&o.written, "<iq"));
    outcome_free(&o);
    script_free(&sc);

    /* Cleartext injected after <proceed/>: abort before the handshake. */
    script_make(&sc, HDR F_TLS PROCEED "<success/>", SFINAL_OK, END);
    for (size_t chunk = 0; chunk < 4; chunk++) {
        run(&sc, chunk, 0, 1, &o);
        if (o.e != XS_EPROTO)
            fprintf(stderr, "chunk %zu: %s\n", chunk, o.err.msg);
        CHECK_EQ_INT(o.e, XS_EPROTO);
        CHECK(!o.tls_started);
        outcome_free(&o);
    }
    script_free(&sc);

    /* Stream errors map to exit classes. */
    script_make(&sc,
                HDR "<stream:error><host-unknown "
                    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                    "</stream:error>" END,
                SFINAL_OK, END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EREFUSED);
    CHECK(strstr(o.err.msg, "host-unknown") != NULL);
    outcome_free(&o);
    script_free(&sc);

    /* SASL failure: authentication error with the condition. */
    struct script f = {.nseg = 2};
    f.seg[0] = xstrdup(HDR F_TLS PROCEED);
    f.seg[1] = xstrdup(HDR F_SASL "<failure "
                                  "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                                  "<not-authorized/></failure>");
    run(&f, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EAUTH);
    CHECK(strstr(o.err.msg, "not-authorized") != NULL);
    outcome_free(&o);
    script_free(&f);

    /* Server silent after STARTTLS: the replay reports a timeout. */
    f.seg[0] = xstrdup(HDR F_TLS);
    f.seg[1] = xstrdup("");
    run(&f, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_ETEMP);
    outcome_free(&o);
    script_free(&f);
}

static void test_jid(void)
{
    static const char *const good[] = {"user@example.com",
                                       "example.com",
                                       "user@example.com/res",
                                       "user@example.com./r/with/slash",
                                       "ä@bücher.example",
                                       "user@[::1]",
                                       "a@b/c@d"};
    static const char *const bad[] = {"",
                                      "@example.com",
                                      "user@",
                                      "a@b@c",
                                      "us er@example.com",
                                      "user@example.com/",
                                      "a<b@example.com",
                                      "user@exa mple.com",
                                      "user@.",
                                      "\xff@example.com",
                                      "a\x01@example.com"};
    struct jid j;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int rc = jid_parse(good[i], &j, NULL);
        if (rc != 0)
            fprintf(stderr, "should be valid: %s\n", good[i]);
        CHECK_EQ_INT(rc, 0);
        jid_free(&j);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        if (jid_parse(bad[i], &j, &why) == 0) {
            fprintf(stderr, "should be invalid: %s\n", bad[i]);
            jid_free(&j);
        }
        CHECK(why != NULL);
    }
    CHECK_EQ_INT(jid_parse("u@Example.COM./r", &j, NULL), 0);
    CHECK_EQ_STR(j.local, "u");
    CHECK_EQ_STR(j.domain, "example.com"); /* lowercased (jid.c) */
    CHECK_EQ_STR(j.resource, "r");
    CHECK_EQ_STR(j.bare, "u@example.com");
    jid_free(&j);
}

/* Feed 'doc' to a fresh parser; return the result code. */
static enum xs_err parse(const char *doc, size_t len)
{
    struct xml_parser *p = xml_parser_new();
    struct xs_error err = {0};
    enum xs_err e = xml_feed(p, doc, len, &err);
    struct xnode *n;
    while ((n = xml_next(p)) != NULL)
        xnode_free(n);
    xml_parser_free(p);
    return e;
}

#define S0                                                                     \
    "<stream:stream xmlns='jabber:client' "                                    \
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"

static void test_parser(void)
{
    struct buf b = {0};
    CHECK_EQ_INT(parse(S0 "<a/>", strlen(S0 "<a/>")), XS_OK);
    CHECK_EQ_INT(parse("<!DOCTYPE x [<!ENTITY a 'b'>]>" S0,
                       strlen("<!DOCTYPE x [<!ENTITY a 'b'>]>" S0)),
                 XS_EPROTO);
    CHECK_EQ_INT(parse(S0 "<a>&foo;</a>", strlen(S0 "<a>&foo;</a>")),
                 XS_EPROTO);
    CHECK_EQ_INT(parse(S0 "<?pi x?>", strlen(S0 "<?pi x?>")), XS_EPROTO);
    CHECK_EQ_INT(parse(S0 "<!-- c -->", strlen(S0 "<!-- c -->")), XS_EPROTO);
    CHECK_EQ_INT(parse("\xfe\xff" S0, strlen("\xfe\xff" S0)), XS_EPROTO);
    CHECK_EQ_INT(parse("<stream xmlns='x'>", 18), XS_EPROTO);
    CHECK_EQ_INT(parse(S0 "text<a/>", strlen(S0 "text<a/>")), XS_EPROTO);
    CHECK_EQ_INT(parse(S0 "<a><b></a>", strlen(S0 "<a><b></a>")), XS_EPROTO);

    /* A bare '&' would make libxml2 wait for a ';' forever. */
    CHECK_EQ_INT(parse(S0 "<a>a & b</a>", strlen(S0 "<a>a & b</a>")),
                 XS_EPROTO);
    CHECK_EQ_INT(parse(S0 "<a x='&'/>", strlen(S0 "<a x='&'/>")), XS_EPROTO);
    CHECK_EQ_INT(parse(S0 "<a>&#x26;&#38;&quot;<![CDATA[a & b]]></a>",
                       strlen(S0 "<a>&#x26;&#38;&quot;<![CDATA[a & b]]></a>")),
                 XS_OK);
    /* Depth: 32 levels below the root pass, 33 do not. */
    for (int depth = 32; depth <= 33; depth++) {
        buf_reset(&b);
        buf_addstr(&b, S0);
        for (int i = 0; i < depth; i++)
            buf_addstr(&b, "<a>");
        CHECK_EQ_INT(parse(b.data, b.len), depth == 32 ? XS_OK : XS_EPROTO);
    }
    /* Attributes: 64 pass, 65 do not. */
    for (int n = 64; n <= 65; n++) {
        buf_reset(&b);
        buf_addstr(&b, S0 "<a");
        for (int i = 0; i < n; i++)
            buf_printf(&b, " a%d='x'", i);
        buf_addstr(&b, "/>");
        CHECK_EQ_INT(parse(b.data, b.len), n == 64 ? XS_OK : XS_EPROTO);
    }
    /* One element larger than the cap, and an unterminated start tag. */
    buf_reset(&b);
    buf_addstr(&b, S0 "<a>");
    while (b.len < XML_MAX_STANZA + 10000)
        buf_addstr(&b, "0123456789abcdef");
    CHECK_EQ_INT(parse(b.data, b.len), XS_EPROTO);
    buf_reset(&b);
    buf_addstr(&b, S0 "<a x='");
    while (b.len < XML_MAX_STANZA + 10000)
        buf_addstr(&b, "0123456789abcdef");
    CHECK_EQ_INT(parse(b.data, b.len), XS_EPROTO);

    /* The attribute '&' quirk is undone; text is decoded. */
    struct xml_parser *p = xml_parser_new();
    struct xs_error err = {0};
    const char *doc = S0 "<a u='x?a=1&amp;b=2&#38;c&lt;' t='&#38;#38;'>"
                         "1 &amp; 2</a>";
    CHECK_EQ_INT(xml_feed(p, doc, strlen(doc), &err), XS_OK);
    struct xnode *n = xml_next(p);
    CHECK(n != NULL);
    CHECK_EQ_STR(xnode_attr(n, "u"), "x?a=1&b=2&c<");
    CHECK_EQ_STR(xnode_attr(n, "t"), "&#38;");
    CHECK_EQ_STR(xnode_text(n), "1 & 2");
    xnode_free(n);
    xml_parser_free(p);
    buf_free(&b);
}

#define PING_OK "<iq type='result' id='xs-3' from='example.com'/>"
#define ROSTER_XS(id)                                                          \
    "<iq type='result' id='" id "'><query xmlns='jabber:iq:roster'>"           \
    "<item jid='b@example.com' name='B&#9;x&#10;y\xc2\x9b' "                   \
    "subscription='both'>"                                                     \
    "<group>g</group></item><item jid='a@example.com'/></query></iq>"
#define F_BIND_LIMIT(n)                                                        \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"        \
    "<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>" n                   \
    "</max-bytes></limits></stream:features>"

/* The close goes out only after the answers, never in a job's flight
 * (ejabberd handles the close first and loses the answers). */
static void test_close_after_answers(void)
{
    struct script sc;
    struct outcome o;

    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK, F_BIND BOUND PING_OK END);
    long reply_end = script_end_of(&sc, PING_OK);
    for (size_t chunk = 0; chunk <= 5; chunk++) {
        run(&sc, chunk, 0, 1, &o);
        CHECK_EQ_INT(o.e, XS_OK);
        CHECK(o.close_at >= reply_end);
        CHECK(!contains(&o.written, "<presence"));
        CHECK_EQ_INT(count_of(&o.written, "</stream:stream>"), 1);
        outcome_free(&o);
    }
    script_free(&sc);

    /* The roster: request alone, close after the result, every split. */
    g_jobs = JOB_ROSTER;
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND BOUND ROSTER_XS("xs-2") END);
    reply_end = script_end_of(&sc, "</query></iq>");
    size_t total = strlen(sc.seg[0]) + strlen(sc.seg[1]);
    for (size_t split = 1; split < total; split += 7) {
        run(&sc, 0, split, 0, &o);
        CHECK_EQ_INT(o.e, XS_OK);
        CHECK_EQ_INT(o.roster.n, 2);
        if (o.roster.n == 2) {
            CHECK_EQ_STR(o.roster.items[0].jid, "a@example.com");
            CHECK_EQ_STR(o.roster.items[1].name, "B\tx\ny\xc2\x9b");
        }
        CHECK(o.close_at >= reply_end);
        CHECK(contains(&o.written, "<query xmlns='jabber:iq:roster'/>"));
        outcome_free(&o);
    }
    script_free(&sc);

    /* A roster error reply: refused, with the condition. */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND BOUND "<iq type='error' id='xs-2'><error type='cancel'>"
                             "<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-"
                             "stanzas'/></error></iq>" END);
    run(&sc, 0, 0, 0, &o);
    CHECK_EQ_INT(o.e, XS_EREFUSED);
    CHECK(strstr(o.err.msg, "forbidden") != NULL);
    outcome_free(&o);
    script_free(&sc);

    /* The server closes before the roster result: temporary. */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK, F_BIND BOUND END);
    run(&sc, 0, 0, 0, &o);
    CHECK_EQ_INT(o.e, XS_ETEMP);
    outcome_free(&o);
    script_free(&sc);
    g_jobs = JOB_SEND;
}

/* Several jobs on one login, with stream management counted across
 * them; the server's <r/> is answered; one close at the end. */
static void test_several_jobs(void)
{
    struct script sc;
    struct outcome o;
    g_jobs = JOB_SEND_ROSTER_SEND;

    script_make(
        &sc, HDR F_TLS PROCEED, SFINAL_OK,
        F_BIND BOUND PING_OK ROSTER_XS(
            "xs-4") "<iq type='result' id='xs-6' from='example.com'/>" END);
    long last = script_end_of(&sc, "id='xs-6' from='example.com'/>");
    for (size_t chunk = 0; chunk <= 4; chunk++) {
        run(&sc, chunk, 0, 1, &o);
        CHECK_EQ_INT(o.e, XS_OK);
        CHECK_EQ_INT(o.sends_ok, 2);
        CHECK_EQ_INT(o.roster.n, 2);
        CHECK_EQ_INT(count_of(&o.written, "<message"), 2);
        CHECK_EQ_INT(count_of(&o.written, "</stream:stream>"), 1);
        CHECK(o.close_at >= last);
        outcome_free(&o);
    }
    script_free(&sc);

    /* With XEP-0198: h runs across the jobs (message, ping, roster
     * request, message: 4 before the second <r/>). */
    script_make(
        &sc, HDR F_TLS PROCEED, SFINAL_OK,
        F_BIND_SM BOUND
        "<enabled xmlns='urn:xmpp:sm:3'/>"
        "<a xmlns='urn:xmpp:sm:3' h='1'/>" PING_OK ROSTER_XS(
            "xs-4") "<r xmlns='urn:xmpp:sm:3'/><a xmlns='urn:xmpp:sm:3' h='4'/>"
                    "<iq type='result' id='xs-6' from='example.com'/>" END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    CHECK_EQ_INT(o.sends_ok, 2);
    CHECK_EQ_INT(count_of(&o.written, "<enable "), 1);
    CHECK_EQ_INT(count_of(&o.written, "<r xmlns='urn:xmpp:sm:3'/>"), 2);
    /* Our answer to the server's <r/>: ping reply and roster so far. */
    CHECK(contains(&o.written, "<a xmlns='urn:xmpp:sm:3' h='2'/>"));
    /* At the close: all three stanzas the server sent. */
    CHECK(contains(&o.written, "<a xmlns='urn:xmpp:sm:3' h='3'/>"
                               "</stream:stream>"));
    outcome_free(&o);
    script_free(&sc);

    /* Our answer to a server IQ counts in h like any stanza of ours:
     * message, the pong, the ping. */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND_SM BOUND "<enabled xmlns='urn:xmpp:sm:3'/>"
                                "<iq type='get' id='s1' from='example.com'>"
                                "<ping xmlns='urn:xmpp:ping'/></iq>"
                                "<a xmlns='urn:xmpp:sm:3' h='3'/>" PING_OK END);
    g_jobs = JOB_SEND;
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    CHECK(contains(&o.written, "<iq id='s1' to='example.com' type='result'/>"));
    outcome_free(&o);
    script_free(&sc);
    g_jobs = JOB_SEND_ROSTER_SEND;

    /* The second ack never reaches h=4: the send is not confirmed. */
    script_make(
        &sc, HDR F_TLS PROCEED, SFINAL_OK,
        F_BIND_SM BOUND
        "<enabled xmlns='urn:xmpp:sm:3'/>"
        "<a xmlns='urn:xmpp:sm:3' h='1'/>" PING_OK ROSTER_XS(
            "xs-4") "<a xmlns='urn:xmpp:sm:3' h='3'/>"
                    "<iq type='result' id='xs-6' from='example.com'/>" END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_ETEMP);
    CHECK_EQ_INT(o.sends_ok, 1);
    outcome_free(&o);
    script_free(&sc);
    g_jobs = JOB_SEND;
}

/* Confirmation is the ping reply; an ack alone confirms nothing. */
static void test_confirmation(void)
{
    struct script sc;
    struct outcome o;

    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND_SM BOUND "<enabled xmlns='urn:xmpp:sm:3'/>"
                                "<a xmlns='urn:xmpp:sm:3' h='1'/>" END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_ETEMP);
    CHECK(o.close_at < 0 || !contains(&o.written, "</stream:stream>") ||
          o.e != XS_OK);
    outcome_free(&o);
    script_free(&sc);

    /* A bounce with our id from someone else is not ours; one from the
     * recipient's domain is (remote-server-not-found: 67); type wait
     * and recipient-unavailable are temporary (75). */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND BOUND
                "<message type='error' id='xs-2' from='mallory@evil.example'>"
                "<error type='cancel'><item-not-found xmlns='urn:ietf:params:"
                "xml:ns:xmpp-stanzas'/></error></message>"
                "<message type='error' id='xs-3' from='example.net'>"
                "<error type='cancel'><remote-server-not-found xmlns='urn:ietf:"
                "params:xml:ns:xmpp-stanzas'/></error></message>"
                "<iq type='result' id='xs-4' from='example.com'/>" END);
    run(&sc, 0, 0, 2, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    CHECK_EQ_INT(o.r[0].status, XMPP_SENT);
    CHECK_EQ_INT(o.r[1].status, XMPP_FAILED);
    CHECK_EQ_INT(o.r[1].code, XS_EBOUNCE);
    outcome_free(&o);
    script_free(&sc);

    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND BOUND
                "<message type='error' id='xs-2' from='juliet@example.net/x'>"
                "<error type='cancel'><recipient-unavailable xmlns='urn:ietf:"
                "params:xml:ns:xmpp-stanzas'/></error></message>" PING_OK END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    CHECK_EQ_INT(o.r[0].status, XMPP_FAILED);
    CHECK_EQ_INT(o.r[0].code, XS_ETEMP);
    outcome_free(&o);
    script_free(&sc);

    /* A stream error after the message (Prosody's answer to a stanza
     * too large) is read and mapped, not lost behind our close. */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND BOUND "<stream:error><policy-violation xmlns='urn:"
                             "ietf:params:xml:ns:xmpp-streams'/>"
                             "</stream:error>" END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EREFUSED);
    CHECK(strstr(o.err.msg, "policy-violation") != NULL);
    outcome_free(&o);

    /* Even when the server closed before our write went through: the
     * reason it gave wins over the reset (69, not 75). */
    g_fail_write = "<message";
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EREFUSED);
    CHECK(strstr(o.err.msg, "policy-violation") != NULL);
    outcome_free(&o);
    g_fail_write = NULL;
    script_free(&sc);

    /* A reset without a reason stays temporary. */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK, F_BIND BOUND);
    g_fail_write = "<message";
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_ETEMP);
    outcome_free(&o);
    g_fail_write = NULL;
    script_free(&sc);
}

/* Negotiation elements after the session started: protocol errors
 * (76), never "internal error" (70), at every read size. */
static void test_stray_negotiation(void)
{
    static const char *const stray[] = {
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>eA==</challenge>",
        "<stream:features/>",
    };
    for (size_t i = 0; i < sizeof stray / sizeof stray[0]; i++) {
        char *tail = xasprintf(F_BIND BOUND "%s" PING_OK END, stray[i]);
        struct script sc;
        script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK, tail);
        for (size_t chunk = 0; chunk <= 3; chunk++) {
            struct outcome o;
            run(&sc, chunk, 0, 1, &o);
            if (o.e != XS_EPROTO)
                fprintf(stderr, "stray %zu chunk %zu: %d %s\n", i, chunk,
                        (int)o.e, o.err.msg);
            CHECK_EQ_INT(o.e, XS_EPROTO);
            outcome_free(&o);
        }
        script_free(&sc);
        free(tail);
    }
}

/* Text that XML would alter goes out as references: CR survives. */
static void test_escaping_and_limits(void)
{
    struct script sc;
    struct outcome o;
    g_body = "a\r\nb\rc";
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK, F_BIND BOUND PING_OK END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    CHECK(contains(&o.written, "<body>a&#13;\nb&#13;c</body>"));
    outcome_free(&o);
    script_free(&sc);

    /* XEP-0478: above the advertised limit nothing is sent. */
    g_body = "0123456789012345678901234567890123456789012345678901234567890"
             "0123456789012345678901234567890123456789012345678901234567890";
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND_LIMIT("150") BOUND PING_OK END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EREFUSED);
    CHECK(!contains(&o.written, "<message"));
    CHECK(strstr(o.err.msg, "at most 150") != NULL);
    outcome_free(&o);
    script_free(&sc);
    /* The size counts the 'to' as escaped: 92 bytes without it, 18 for
     * juliet@example.net, 38 for the second recipient's escaped JID. */
    g_body = "hi & <bye>";
    g_rcpt1 = "r@e.net/&&&&&&";
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND_LIMIT("120") BOUND PING_OK END);
    run(&sc, 0, 0, 2, &o);
    CHECK_EQ_INT(o.e, XS_EREFUSED);
    CHECK(!contains(&o.written, "<message"));
    outcome_free(&o);
    script_free(&sc);
    g_rcpt1 = "romeo@example.net";
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK,
                F_BIND_LIMIT("100000") BOUND PING_OK END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    outcome_free(&o);
    script_free(&sc);
    g_body = "hi & <bye>";
}

/* Whatever shape the server gives its SASL elements, their text stays
 * out of the trace: '>' in a quoted value, CDATA, a long prefix, a
 * child element, every read size. */
static void test_trace_hostile_shapes(void)
{
    static const char *const shapes[] = {
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl' a='/>'>"
        "SECRETX</success>",
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><![CDATA["
        "SECRETX]]></challenge>",
        "<a-very-long-namespace-prefix-here:challenge xmlns:a-very-long-"
        "namespace-prefix-here='urn:ietf:params:xml:ns:xmpp-sasl'>SECRETX"
        "</a-very-long-namespace-prefix-here:challenge>",
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><x/>SECRETX"
        "</challenge>",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        struct script sc = {.nseg = 2};
        sc.seg[0] = xstrdup(HDR F_TLS PROCEED);
        sc.seg[1] = xasprintf(HDR F_SASL "%s" END, shapes[i]);
        for (size_t chunk = 0; chunk <= 9; chunk++) {
            struct outcome o;
            run(&sc, chunk, 0, 1, &o);
            CHECK(o.e != XS_OK);
            if (contains(&o.trace, "SECRET"))
                fprintf(stderr, "shape %zu chunk %zu: %s\n", i, chunk,
                        o.trace.data);
            CHECK(!contains(&o.trace, "SECRET"));
            outcome_free(&o);
        }
        script_free(&sc);
    }
}

/* PLAIN prepares the password like SCRAM (PRECIS OpaqueString): one
 * that cannot be prepared is refused before anything is sent. */
static void test_plain_prepared(void)
{
    struct script sc = {.nseg = 2};
    struct outcome o;
    sc.seg[0] = xstrdup(HDR F_TLS PROCEED);
    sc.seg[1] = xstrdup(
        HDR "<stream:features><mechanisms "
            "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
            "</mechanism></mechanisms></stream:features>"
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" HDR F_BIND
                BOUND PING_OK END);
    g_password = "pen\x01cil";
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EDATA);
    CHECK(!contains(&o.written, "<auth"));
    outcome_free(&o);
    /* Decomposed U+00E4 goes out composed (NFC). */
    g_password = "pa\xcc\x88ss";
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    char *want = b64_encode("\0user\0p\xc3\xa4ss", 11);
    CHECK(contains(&o.written, want));
    free(want);
    outcome_free(&o);
    g_password = "pencil";
    script_free(&sc);
}

/* No 8-character piece of the SASL payloads shows in the trace, however
 * the server's bytes are cut into reads: one byte per read cuts every
 * element at every offset, 2..41 bytes per read in every phase. */
static void test_trace_redaction(void)
{
    struct script sc;
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK, F_BIND BOUND PING_OK END);
    char *secret[2] = {b64_encode(SFIRST, strlen(SFIRST)),
                       b64_encode(SFINAL_OK, strlen(SFINAL_OK))};
    size_t leaks = 0;
    {
        for (size_t chunk = 0; chunk <= 41; chunk++) {
            struct outcome o;
            run(&sc, chunk, 0, 1, &o);
            CHECK_EQ_INT(o.e, XS_OK);
            if (!contains(&o.trace, "[redacted]"))
                fprintf(stderr, "chunk %zu: %s\n", chunk,
                        o.trace.data ? o.trace.data : "(none)");
            CHECK(contains(&o.trace, "[redacted]"));
            for (size_t k = 0; k < 2; k++) {
                for (size_t i = 0; i + 8 <= strlen(secret[k]); i++) {
                    char piece[9];
                    memcpy(piece, secret[k] + i, 8);
                    piece[8] = '\0';
                    if (contains(&o.trace, piece))
                        leaks++;
                }
            }
            outcome_free(&o);
        }
    }
    CHECK_EQ_INT(leaks, 0);
    free(secret[0]);
    free(secret[1]);
    script_free(&sc);

    /* Bound JIDs compare localparts after Unicode case folding. */
    CHECK(
        jid_bare_eq("\xc3\x84lice@Example.COM/r", "\xc3\xa4lice@example.com"));
    CHECK(!jid_bare_eq("alice@example.com", "alicE@example.org"));
    CHECK(!jid_bare_eq("example.com", "u@example.com"));
}

/* The general flight (xmpp_queue + xmpp_flight) for jobs outside the
 * session: the handler sees stanzas, DONE ends the wait, FAIL ends the
 * flight with its error, and a soft end ('until') is no error. */
struct flight_probe {
    int seen, fail_on_error;
};

static int flight_probe_cb(void *ud,
                           struct xmpp_session *s,
                           const struct xnode *n,
                           struct xs_error *err)
{
    struct flight_probe *p = ud;
    const char *type = xnode_attr(n, "type");
    (void)s;
    p->seen++;
    if (type != NULL && strcmp(type, "error") == 0 && p->fail_on_error) {
        xs_seterr(err, XS_EREFUSED, "refused by the room");
        return XMPP_WAIT_FAIL;
    }
    return xnode_child(n, "x", "test:done") != NULL ? XMPP_WAIT_DONE
                                                    : XMPP_WAIT_MORE;
}

static enum xs_err flight_run(const char *tail,
                              int ping,
                              int need_done,
                              long long until_ms,
                              struct flight_probe *p,
                              struct xmpp_wait *w,
                              struct buf *written,
                              struct xs_error *err)
{
    struct script sc;
    *err = (struct xs_error){0};
    /* A third segment that never comes: reads then time out. */
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK, tail);
    sc.seg[2] = xstrdup("");
    sc.nseg = 3;
    struct replay rp = {
        .seg = (const char *const *)sc.seg, .nseg = sc.nseg, .close_at = -1};
    struct xs_io io;
    replay_io(&rp, &io);
    struct xmpp_config cfg = {.jid = "user@example.com",
                              .password = g_password,
                              .deadline = xs_now_ms() + 10000,
                              .timeout_s = 10,
                              .test_cnonce = CNONCE};
    struct xmpp_session *s = xmpp_new(&cfg, &io);
    enum xs_err e = xmpp_login(s, err);
    if (e == XS_OK) {
        char id[24];
        xmpp_new_id(s, id, sizeof id);
        CHECK(strcmp(id, "xs-2") == 0);
        xmpp_queue(s, "<presence to='room@muc.example.com/me'/>");
        *w = (struct xmpp_wait){.what = "joining",
                                .ping = ping,
                                .need_done = need_done,
                                .until = until_ms ? xs_now_ms() + until_ms : 0,
                                .on_stanza = flight_probe_cb,
                                .ud = p};
        e = xmpp_flight(s, w, err);
        CHECK_EQ_INT(strcmp(xmpp_account(s), "user@example.com"), 0);
    }
    xmpp_close(s);
    xmpp_free(s);
    *written = rp.written;
    script_free(&sc);
    return e;
}

static void test_general_flight(void)
{
    struct flight_probe p;
    struct xmpp_wait w;
    struct buf out;
    struct xs_error err;
#define SELF                                                                   \
    "<presence from='room@muc.example.com/me'><x xmlns='test:done'/>"          \
    "</presence>"
#define OTHER "<presence from='room@muc.example.com/them'/>"

    /* need_done: the wait lasts until the handler's DONE. */
    p = (struct flight_probe){0};
    err = (struct xs_error){0};
    CHECK_EQ_INT(
        flight_run(F_BIND BOUND OTHER SELF END, 0, 1, 0, &p, &w, &out, &err),
        XS_OK);
    CHECK_EQ_INT(p.seen, 2);
    CHECK(w.done && !w.expired);
    CHECK(contains(&out, "<presence to='room@muc.example.com/me'/>"));
    CHECK_EQ_INT(count_of(&out, "urn:xmpp:ping"), 0);
    buf_free(&out);

    /* With a ping: both the ping reply and DONE are needed. */
    p = (struct flight_probe){0};
    CHECK_EQ_INT(
        flight_run(F_BIND BOUND SELF
                   "<iq type='result' id='xs-3' from='example.com'/>" END,
                   1, 1, 0, &p, &w, &out, &err),
        XS_OK);
    CHECK(w.done);
    CHECK_EQ_INT(count_of(&out, "urn:xmpp:ping"), 1);
    buf_free(&out);

    /* No DONE before the script runs dry: a timeout, 75. */
    p = (struct flight_probe){0};
    CHECK_EQ_INT(flight_run(F_BIND BOUND OTHER, 0, 1, 0, &p, &w, &out, &err),
                 XS_ETEMP);
    CHECK(strstr(err.msg, "while joining") != NULL);
    buf_free(&out);

    /* The same with a soft end: no error, 'expired' says why it ended. */
    p = (struct flight_probe){0};
    CHECK_EQ_INT(flight_run(F_BIND BOUND OTHER, 0, 1, 50, &p, &w, &out, &err),
                 XS_OK);
    CHECK(w.expired && !w.done);
    CHECK_EQ_INT(p.seen, 1);
    buf_free(&out);

    /* A soft end never skips the ping reply. */
    p = (struct flight_probe){0};
    CHECK_EQ_INT(flight_run(F_BIND BOUND OTHER, 1, 0, 50, &p, &w, &out, &err),
                 XS_ETEMP);
    buf_free(&out);

    /* FAIL from the handler ends the flight with its error; a
     * type='error' message reaches the handler, not bounce(). */
    p = (struct flight_probe){.fail_on_error = 1};
    CHECK_EQ_INT(flight_run(F_BIND BOUND
                            "<message type='error' from='room@muc.example.com'"
                            " id='xs-9'/>" SELF END,
                            0, 1, 0, &p, &w, &out, &err),
                 XS_EREFUSED);
    CHECK(strcmp(err.msg, "refused by the room") == 0);
    CHECK_EQ_INT(p.seen, 1);
    buf_free(&out);
#undef SELF
#undef OTHER
}

/* Line mode: an id set by the caller is kept (a message sent again after
 * a reconnect keeps its original id), and each flight has its own budget
 * of elements: two flights of 6000 stanzas each pass (12000 in the
 * session), one flight of 10001 does not. */
static enum xs_err two_sends(const struct script *sc,
                             const char *id1,
                             struct buf *written,
                             int *sent)
{
    struct replay rp = {
        .seg = (const char *const *)sc->seg, .nseg = sc->nseg, .close_at = -1};
    struct xs_io io;
    struct xs_error err = {0};
    replay_io(&rp, &io);
    struct xmpp_config cfg = {.jid = "user@example.com",
                              .password = "pencil",
                              .deadline = xs_now_ms() + 60000,
                              .timeout_s = 60,
                              .test_cnonce = CNONCE};
    struct xmpp_message m = {.body = "line", .type = "chat"};
    struct xmpp_recipient r = {.jid = "juliet@example.net"};
    snprintf(r.id, sizeof r.id, "%s", id1);
    struct xmpp_session *s = xmpp_new(&cfg, &io);
    *sent = 0;
    enum xs_err e = xmpp_login(s, &err);
    if (e == XS_OK)
        e = xmpp_send(s, &m, &r, 1, &err);
    if (e == XS_OK) {
        ++*sent;
        memset(r.id, 0, sizeof r.id);
        r.status = XMPP_PENDING;
        xmpp_set_deadline(s, xs_now_ms() + 60000);
        e = xmpp_send(s, &m, &r, 1, &err);
    }
    if (e == XS_OK)
        ++*sent;
    xmpp_recipients_clear(&r, 1);
    xmpp_close(s);
    xmpp_free(s);
    *written = rp.written;
    return e;
}

static void test_line_mode_session(void)
{
    struct buf flood = {0}, tail = {0}, w = {0};
    struct script sc;
    int sent;
    for (int i = 0; i < 6000; i++)
        buf_printf(&flood, "<presence from='x@example.com/r%d'/>", i);
    /* Preset id: the first ping is xs-2; the second message gets xs-3
     * and its ping xs-4. */
    buf_printf(&tail,
               F_BIND BOUND
               "%s<iq type='result' id='xs-2' from='example.com'/>"
               "%s<iq type='result' id='xs-4' from='example.com'/>" END,
               flood.data, flood.data);
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK, tail.data);
    CHECK_EQ_INT(two_sends(&sc, "orig-7", &w, &sent), XS_OK);
    CHECK_EQ_INT(sent, 2);
    CHECK(contains(&w, "<message to='juliet@example.net' type='chat' "
                       "id='orig-7'>"));
    CHECK(contains(&w, "<message to='juliet@example.net' type='chat' "
                       "id='xs-3'>"));
    buf_free(&w);
    script_free(&sc);

    /* 12000 in one flight: over the budget, a protocol error. */
    buf_reset(&tail);
    buf_printf(&tail,
               F_BIND BOUND
               "%s%s<iq type='result' id='xs-2' from='example.com'/>" END,
               flood.data, flood.data);
    script_make(&sc, HDR F_TLS PROCEED, SFINAL_OK, tail.data);
    CHECK_EQ_INT(two_sends(&sc, "orig-7", &w, &sent), XS_EPROTO);
    CHECK_EQ_INT(sent, 0);
    buf_free(&w);
    script_free(&sc);
    buf_free(&tail);
    buf_free(&flood);
}

/* ---------------------------------------------------------------- */
/* Channel binding (SCRAM-*-PLUS): the plan and its reasons in -d      */

static int g_tls_version;       /* what the fake transport reports */
static const char *g_cb_usable; /* the one type it can give, or NULL */

static int fake_tls_version(void *ctx)
{
    (void)ctx;
    return g_tls_version;
}

static int fake_cb(void *ctx, const char *type, struct buf *out)
{
    (void)ctx;
    if (g_cb_usable == NULL || strcmp(type, g_cb_usable) != 0)
        return -1;
    buf_add(out, "0123456789abcdef0123456789abcdef", 32);
    return 0;
}

struct plan_outcome {
    enum xs_err e;
    struct xs_error err;
    struct buf written;
    struct buf notes; /* the '#' lines of the trace */
};

static void plan_trace(void *ud, char dir, const char *data, size_t len)
{
    struct plan_outcome *o = ud;
    if (dir == XMPP_TRACE_NOTE) {
        buf_add(&o->notes, data, len);
        buf_addch(&o->notes, '\n');
    }
}

/* Log in against 'features' (SASL part); 'cb': fake channel binding. */
static void plan_run(const char *features, int cb, struct plan_outcome *o)
{
    char *ch = sasl_el("challenge", SFIRST);
    char *ok = sasl_el("success", SFINAL_OK);
    char *seg1 = xasprintf(
        HDR "<stream:features>%s</stream:features>%s%s" HDR F_BIND BOUND END,
        features, ch, ok);
    const char *seg[2] = {HDR F_TLS PROCEED, seg1};
    struct replay rp = {.seg = seg, .nseg = 2, .close_at = -1};
    struct xs_io io;
    replay_io(&rp, &io);
    if (cb) {
        io.channel_binding = fake_cb;
        io.tls_version = fake_tls_version;
    }
    memset(o, 0, sizeof *o);
    struct xmpp_config cfg = {.jid = "user@example.com",
                              .password = "pencil",
                              .deadline = xs_now_ms() + 10000,
                              .timeout_s = 10,
                              .trace = plan_trace,
                              .trace_ud = o,
                              .test_cnonce = CNONCE};
    struct xmpp_session *s = xmpp_new(&cfg, &io);
    o->e = xmpp_login(s, &o->err);
    xmpp_free(s);
    o->written = rp.written;
    free(ch);
    free(ok);
    free(seg1);
}

static void plan_free(struct plan_outcome *o)
{
    buf_free(&o->written);
    buf_free(&o->notes);
}

#define M_SASL(x)                                                              \
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" x "</mechanisms>"
#define MECH(x) "<mechanism>" x "</mechanism>"
#define CB_LIST(x)                                                             \
    "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>" x                      \
    "</sasl-channel-binding>"
#define CB(x) "<channel-binding type='" x "'/>"
/* base64 of the start of client-first for each gs2 header: "n,,n=user,r=",
 * "y,,n=user,r=", "p=tls-exporter,,n=user,r" */
#define B64_N "biwsbj11c2VyLHI9"
#define B64_Y "eSwsbj11c2VyLHI9"
#define B64_P "cD10bHMtZXhwb3J0ZXIsLG49dXNlcixy"

static void test_channel_binding_plan(void)
{
    struct plan_outcome o;
    const char *f_plus = M_SASL(MECH("SCRAM-SHA-1") MECH("SCRAM-SHA-1-PLUS"));

    /* No channel binding on the transport: n, and the reason. */
    plan_run(f_plus, 0, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    CHECK(contains(&o.written, "mechanism='SCRAM-SHA-1'>" B64_N));
    CHECK(contains(&o.notes, "SASL: SCRAM-SHA-1-PLUS: no channel "
                             "binding on this connection"));
    plan_free(&o);

    /* TLS 1.3, no XEP-0440 list: no guess (ejabberd 23.01), n. */
    g_tls_version = 13;
    g_cb_usable = "tls-exporter";
    plan_run(f_plus, 1, &o);
    CHECK_EQ_INT(o.e, XS_OK);
    CHECK(contains(&o.written, "mechanism='SCRAM-SHA-1'>" B64_N));
    CHECK(contains(&o.notes, "SASL: SCRAM-SHA-1-PLUS: the server lists "
                             "no channel-binding types (XEP-0440) and TLS "
                             "1.3 has no tls-unique"));
    plan_free(&o);

    /* Listed and usable: -PLUS with p=tls-exporter (the canned server-
     * final does not fit that proof: the login fails after the auth). */
    plan_run(M_SASL(MECH("SCRAM-SHA-1") MECH("SCRAM-SHA-1-PLUS"))
                 CB_LIST(CB("tls-server-end-point") CB("tls-exporter")),
             1, &o);
    CHECK_EQ_INT(o.e, XS_EPROTO);
    CHECK(contains(&o.written, "mechanism='SCRAM-SHA-1-PLUS'>" B64_P));
    CHECK(contains(
        &o.notes,
        "SASL: SCRAM-SHA-1-PLUS: chosen, channel binding tls-exporter"));
    plan_free(&o);

    /* No -PLUS, no list, but a channel: y (proof differs likewise). */
    plan_run(M_SASL(MECH("SCRAM-SHA-1")), 1, &o);
    CHECK_EQ_INT(o.e, XS_EPROTO);
    CHECK(contains(&o.written, "mechanism='SCRAM-SHA-1'>" B64_Y));
    CHECK(contains(&o.notes, "gs2 flag y"));
    plan_free(&o);

    /* Listed types all unusable, no XEP-0474 hash: n up to server-first,
     * then refused without a proof. */
    plan_run(M_SASL(MECH("SCRAM-SHA-1") MECH("SCRAM-SHA-1-PLUS"))
                 CB_LIST(CB("tls-unique")),
             1, &o);
    CHECK_EQ_INT(o.e, XS_EPROTO);
    CHECK(contains(&o.written, "mechanism='SCRAM-SHA-1'>" B64_N));
    CHECK(!contains(&o.written, "<response"));
    CHECK(strstr(o.err.msg, "XEP-0474") != NULL);
    CHECK(contains(&o.notes, "SASL: SCRAM-SHA-1-PLUS: none of the "
                             "channel-binding types the server lists"));
    plan_free(&o);

    /* A list without -PLUS: refused before <auth>. */
    plan_run(M_SASL(MECH("SCRAM-SHA-1")) CB_LIST(CB("tls-exporter")), 1, &o);
    CHECK_EQ_INT(o.e, XS_EPROTO);
    CHECK(!contains(&o.written, "<auth"));
    plan_free(&o);

    /* Only -PLUS offered and nothing to bind to: refused, never PLAIN. */
    plan_run(M_SASL(MECH("PLAIN") MECH("SCRAM-SHA-1-PLUS")), 0, &o);
    CHECK_EQ_INT(o.e, XS_EREFUSED);
    CHECK(!contains(&o.written, "<auth"));
    plan_free(&o);
    g_tls_version = 0;
    g_cb_usable = NULL;
}

/*
 * SASL2 (XEP-0388) with Bind2 and FAST, replayed at every read size:
 * a password login (the RFC 5802 exchange in SASL2 elements) that asks
 * for a token and keeps the one in <success/>, then a login with that
 * token (HT-SHA-256-NONE: no channel binding behind the replay) whose
 * Responder proof is HMAC-SHA-256("n3w-T0ken", "Responder"), computed
 * with Python's hmac.
 */
#define A2_FEATURES                                                            \
    "<stream:features><authentication xmlns='urn:xmpp:sasl:2'>"                \
    "<mechanism>SCRAM-SHA-1</mechanism><inline>"                               \
    "<bind xmlns='urn:xmpp:bind:0'/><fast xmlns='urn:xmpp:fast:0'>"            \
    "<mechanism>HT-SHA-256-NONE</mechanism></fast></inline>"                   \
    "</authentication></stream:features>"
#define A2_BOUND                                                               \
    "<authorization-identifier>user@example.com/xmppsend.1"                    \
    "</authorization-identifier><bound xmlns='urn:xmpp:bind:0'/>"
#define A2_AFTER                                                               \
    "<stream:features/><iq type='result' id='xs-2' from='example.com'/>" END

static enum xs_err sasl2_run(const char *post,
                             size_t chunk,
                             struct xs_state *st,
                             struct buf *written)
{
    const char *seg[2] = {HDR F_TLS PROCEED, post};
    struct replay rp = {.seg = seg, .nseg = 2, .chunk = chunk, .close_at = -1};
    struct xs_io io;
    replay_io(&rp, &io);
    struct xmpp_config cfg = {.jid = "user@example.com",
                              .password = "pencil",
                              .allow_plain = 1,
                              .deadline = xs_now_ms() + 10000,
                              .timeout_s = 10,
                              .test_cnonce = CNONCE,
                              .sasl2 = 1,
                              .fast = 1,
                              .state = st};
    struct xmpp_message m = {.body = "hi", .type = "chat"};
    struct xmpp_recipient r[1] = {{.jid = "juliet@example.net"}};
    struct xs_error err = {0};
    struct xmpp_session *s = xmpp_new(&cfg, &io);
    enum xs_err e = xmpp_login(s, &err);
    if (e == XS_OK) {
        CHECK_EQ_STR(xmpp_bound_jid(s), "user@example.com/xmppsend.1");
        e = xmpp_send(s, &m, r, 1, &err);
    }
    xmpp_close(s);
    xmpp_free(s);
    xmpp_recipients_clear(r, 1);
    *written = rp.written;
    return e;
}

static void test_sasl2_fast(void)
{
    int lockfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(lockfd >= 0);
    char *scram = xasprintf(
        HDR A2_FEATURES "<challenge xmlns='urn:xmpp:sasl:2'>%s</challenge>"
                        "<success xmlns='urn:xmpp:sasl:2'><additional-data>%s"
                        "</additional-data>" A2_BOUND
                        "<token xmlns='urn:xmpp:fast:0' token='n3w-T0ken' "
                        "expiry='2099-01-01T00:00:00Z'/></success>" A2_AFTER,
        "cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcmZjTkhZSlkxWlZ2V1ZzN2oscz1RU1hDU"
        "itRNnNlazhiZjkyLGk9NDA5Ng==",
        "dj1ybUY5cHFWOFM3c3VBb1pXamE0ZEpSa0ZzS1E9");
    const char *fast =
        HDR A2_FEATURES "<success xmlns='urn:xmpp:sasl:2'><additional-data>"
                        "H4rhkDfOA7W+HOr+RXmb9rw+S6VKG6Rk3uCmMUaygrs="
                        "</additional-data>" A2_BOUND "</success>" A2_AFTER;
    for (size_t chunk = 0; chunk <= 64; chunk++) {
        struct xs_state st;
        memset(&st, 0, sizeof st);
        st.lockfd = lockfd;
        st.client_id = xstrdup("0b6a5c9e-1111-4222-8333-444455556666");
        struct buf w = {0};
        CHECK_EQ_INT(sasl2_run(scram, chunk, &st, &w), XS_OK);
        /* One <authenticate/> with Bind2 and a token request; no legacy
         * <auth/>, no restart, no legacy bind. */
        CHECK(contains(&w, "<authenticate xmlns='urn:xmpp:sasl:2' "
                           "mechanism='SCRAM-SHA-1'>"));
        CHECK(contains(&w, "<user-agent id='0b6a5c9e-1111-4222-8333-"
                           "444455556666'>"));
        CHECK(contains(&w, "<request-token xmlns='urn:xmpp:fast:0' "
                           "mechanism='HT-SHA-256-NONE'/>"));
        CHECK(!contains(&w, "<auth ") && !contains(&w, "xmpp-bind"));
        CHECK_EQ_INT(count_of(&w, "<stream:stream"), 2);
        CHECK_EQ_STR(st.fast_token, "n3w-T0ken");
        CHECK_EQ_STR(st.fast_mech, "HT-SHA-256-NONE");
        CHECK_EQ_STR(st.fast_expiry, "2099-01-01T00:00:00Z");
        CHECK(st.dirty);
        buf_free(&w);

        /* The next login: the token, no password exchange. */
        st.dirty = 0;
        CHECK_EQ_INT(sasl2_run(fast, chunk, &st, &w), XS_OK);
        CHECK(contains(&w, "mechanism='HT-SHA-256-NONE'><initial-response>"
                           "dXNlcg")); /* "user" NUL */
        CHECK(contains(&w, "<fast xmlns='urn:xmpp:fast:0'/>"));
        CHECK(!contains(&w, "SCRAM") && !contains(&w, "n3w-T0ken"));
        CHECK_EQ_STR(st.fast_token, "n3w-T0ken");
        CHECK_EQ_INT(st.dirty, 0);
        buf_free(&w);
        st.lockfd = -1;
        state_free(&st);
    }
    free(scram);
    close(lockfd);
}

static int from_yes(void *ud)
{
    (void)ud;
    return 1;
}

/* --serverinfo's probe: every feature read, at every read split; nothing
 * written after TLS but the header (from= only when allowed) and the
 * close. */
static void test_probe(void)
{
    static const char feats[] = HDR
        "<stream:features>"
        "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
        "<mechanism>SCRAM-SHA-1</mechanism>"
        "<mechanism>SCRAM-SHA-256-PLUS</mechanism>"
        "<mechanism>SCRAM-SHA-256</mechanism><mechanism>PLAIN</mechanism>"
        "</mechanisms>"
        "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"
        "<channel-binding type='tls-exporter'/></sasl-channel-binding>"
        "<authentication xmlns='urn:xmpp:sasl:2'>"
        "<mechanism>SCRAM-SHA-256</mechanism><inline>"
        "<bind xmlns='urn:xmpp:bind:0'><inline>"
        "<feature var='urn:xmpp:sm:3'/></inline></bind>"
        "<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism>"
        "</fast></inline></authentication>"
        "<limits xmlns='urn:xmpp:stream-limits:0'><max-bytes>262144"
        "</max-bytes><idle-seconds>840</idle-seconds></limits>"
        "<csi xmlns='urn:xmpp:csi:0'/>"
        "<register xmlns='http://jabber.org/features/iq-register'/>"
        "<ver xmlns='urn:xmpp:features:rosterver'/>"
        "</stream:features>";
    const char *seg[2] = {HDR F_TLS PROCEED, feats};
    for (size_t chunk = 1; chunk <= sizeof feats; chunk++) {
        for (int from = 0; from < 2; from++) {
            struct replay rp = {
                .seg = seg, .nseg = 2, .chunk = chunk, .close_at = -1};
            struct xs_io io;
            replay_io(&rp, &io);
            struct xmpp_config cfg = {.jid = "user@example.com",
                                      .deadline = xs_now_ms() + 10000,
                                      .timeout_s = 10,
                                      .sasl2 = 1};
            struct xmpp_session *s = xmpp_new(&cfg, &io);
            struct xmpp_features f;
            struct xs_error err = {0};
            CHECK_EQ_INT(xmpp_probe(s, from ? from_yes : NULL, NULL, &f, &err),
                         XS_OK);
            xmpp_close(s);
            xmpp_free(s);
            CHECK_EQ_STR(f.from, "example.com");
            CHECK_EQ_INT(f.mechs.n, 4);
            CHECK_EQ_STR(f.mechs.v[1], "SCRAM-SHA-256-PLUS");
            CHECK(f.cb_listed && f.cbs.n == 1);
            CHECK_EQ_STR(f.cbs.v[0], "tls-exporter");
            CHECK(f.sasl2 && f.mechs2.n == 1 && f.bind2 && f.bind2_sm);
            CHECK(f.fast.n == 1 && !f.sm && f.csi && f.reg);
            CHECK_EQ_STR(f.fast.v[0], "HT-SHA-256-NONE");
            CHECK(f.max_bytes == 262144 && f.idle_seconds == 840);
            CHECK(f.other.n == 1);
            CHECK_EQ_STR(f.other.v[0], "ver urn:xmpp:features:rosterver");
            /* the replay transport has no channel binding: no -PLUS */
            CHECK_EQ_STR(f.login, "SASL2 SCRAM-SHA-256");
            xmpp_features_clear(&f);
            struct buf *w = &rp.written;
            CHECK_EQ_INT(count_of(w, "<stream:stream"), 2);
            CHECK(contains(w, "<starttls "));
            CHECK(!contains(w, "<auth") && !contains(w, "<iq") &&
                  !contains(w, "<presence"));
            CHECK_EQ_INT(contains(w, "from='user@example.com'"), from);
            CHECK(w->len > 16 &&
                  strcmp(w->data + w->len - 16, "</stream:stream>") == 0);
            buf_free(w);
        }
    }
}

int main(void)
{
    test_jid();
    test_parser();
    test_ping_path();
    test_direct_tls();
    test_sm_and_bounce();
    test_bad_server_signature();
    test_refusals();
    test_close_after_answers();
    test_several_jobs();
    test_confirmation();
    test_stray_negotiation();
    test_escaping_and_limits();
    test_trace_redaction();
    test_plain_prepared();
    test_trace_hostile_shapes();
    test_general_flight();
    test_line_mode_session();
    test_channel_binding_plan();
    test_sasl2_fast();
    test_probe();
    xml_cleanup();
    TEST_DONE("test_xmpp");
    return 0;
}
