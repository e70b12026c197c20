/* SPDX-License-Identifier: MIT */
/*
 * test_xmpp.c - the whole session driven through 'struct xs_io' with a
 * scripted server (replay.h), using the RFC 5802 SCRAM-SHA-1 example
 * (user "user", password "pencil") so the exchange is exact.  Each
 * script is replayed with reads cut at every byte boundary.  Also JID
 * parsing and stream-parser limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "test.h"
#include "xml.h"
#include "xmpp.h"

#include "replay.h"

#define CNONCE "fyko+d2lbbFgONRv9qkxdawL"
#define SFIRST                                                                 \
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
#define CFINAL                                                                 \
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQ"  \
    "yF0X+HI4Ts="
#define SFINAL_OK "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
#define SFINAL_BAD "v=AAAApqV8S7suAoZWja4dJRkFsKQ="

#define HDR                                                                    \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "               \
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' "           \
    "from='example.com' id='s1'>"
#define F_TLS                                                                  \
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"      \
    "<required/></starttls></stream:features>"
#define PROCEED "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
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
#define BOUND                                                                  \
    "<iq type='result' id='xs-1'><bind "                                       \
    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/r1</jid>"  \
    "</bind></iq>"
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
    char *seg[2];
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

struct outcome {
    enum xs_err e;
    struct xs_error err;
    struct xmpp_recipient r[2];
    struct buf written;
    int tls_started;
    size_t written_at_tls;
};

static void run(const struct script *sc,
                size_t chunk,
                size_t split,
                size_t nrcpt,
                struct outcome *o)
{
    struct replay rp = {.seg = (const char *const *)sc->seg,
                        .nseg = sc->nseg,
                        .chunk = chunk,
                        .first_split = split};
    struct xs_io io;
    replay_io(&rp, &io);
    struct xmpp_config cfg = {.jid = "user@example.com",
                              .password = "pencil",
                              .allow_plain = 1,
                              .deadline = xs_now_ms() + 10000,
                              .timeout_s = 10,
                              .test_cnonce = CNONCE};
    struct xmpp_message m = {.body = "hi & <bye>", .type = "chat"};
    memset(o, 0, sizeof *o);
    o->r[0].jid = "juliet@example.net";
    o->r[1].jid = "romeo@example.net";
    struct xmpp_session *s = xmpp_new(&cfg, &io);
    o->e = xmpp_login(s, &o->err);
    if (o->e == XS_OK)
        o->e = xmpp_send(s, &m, o->r, nrcpt, &o->err);
    xmpp_free(s);
    o->written = rp.written;
    o->tls_started = rp.tls_started;
    o->written_at_tls = rp.written_at_tls;
}

static void outcome_free(struct outcome *o)
{
    xmpp_recipients_clear(o->r, 2);
    buf_free(&o->written);
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
                "<a xmlns='urn:xmpp:sm:3' h='2'/>" END);
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

    /* No STARTTLS offered: only the stream header was sent. */
    script_make(&sc, HDR "<stream:features/>", SFINAL_OK, END);
    run(&sc, 0, 0, 1, &o);
    CHECK_EQ_INT(o.e, XS_EREFUSED);
    CHECK(!o.tls_started);
    CHECK(!contains(&o.written, "<starttls"));
    CHECK(!contains(&o.written, "<auth"));
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
    CHECK_EQ_STR(j.domain, "Example.COM");
    CHECK_EQ_STR(j.resource, "r");
    CHECK_EQ_STR(j.bare, "u@Example.COM");
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

int main(void)
{
    test_jid();
    test_parser();
    test_ping_path();
    test_sm_and_bounce();
    test_bad_server_signature();
    test_refusals();
    xml_cleanup();
    TEST_DONE("test_xmpp");
    return 0;
}
