/* SPDX-License-Identifier: MIT */
/*
 * test_roster.c - roster and subscription actions (roster.c): the plan
 * built from the repeated options, the stanzas, the error classes, and
 * whole runs against a scripted server (replay.h) with reads cut at
 * several sizes: what is sent, in which order, what confirms it and
 * what fails it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"
#include "test.h"
#include "xmpp.h"

#include "canned.h"
#include "replay.h"

#define F_SASL                                                                 \
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"   \
    "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>"
#define F_BIND                                                                 \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"        \
    "</stream:features>"
#define F_BIND_PRE                                                             \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"        \
    "<sub xmlns='urn:xmpp:features:pre-approval'/></stream:features>"
#define END "</stream:stream>"

/* Replies by id ("xs-2" is the first id after the bind). */
#define RESULT(id) "<iq type='result' id='" id "'/>"
#define PONG(id) "<iq type='result' id='" id "' from='example.com'/>"
#define ROSTER(id, items)                                                      \
    "<iq type='result' id='" id "'><query xmlns='jabber:iq:roster'>" items     \
    "</query></iq>"
#define ITEM(jid, sub) "<item jid='" jid "' subscription='" sub "'/>"
#define IQ_ERROR(id, type, cond)                                               \
    "<iq type='error' id='" id "'><error type='" type "'><" cond               \
    " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
#define PRES_ERROR(id, from, type, cond)                                       \
    "<presence type='error' id='" id "' from='" from "'><error type='" type    \
    "'><" cond " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"                \
    "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no\nway</text>"         \
    "</error></presence>"

static char *sasl_el(const char *name, const char *payload)
{
    char *b64 = b64_encode(payload, strlen(payload));
    char *s = xasprintf("<%s xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</%s>",
                        name, b64, name);
    free(b64);
    return s;
}

struct result {
    enum xs_err e;
    struct xs_error err;
    struct buf written; /* after the bind */
    struct buf lines;   /* "RESULT JID\n" per done() call */
};

static void done_cb(void *ud, const struct roster_action *a)
{
    struct result *r = ud;
    buf_printf(&r->lines, "%s %s\n", roster_result(a), a->jid);
}

/* Log in with 'features', then run 'p' against the server's 'tail',
 * the reads cut at 'chunk' bytes (0: whole). */
static void run(const char *features,
                const char *tail,
                struct roster_plan *p,
                size_t chunk,
                struct result *r)
{
    char *ch = sasl_el("challenge", SFIRST);
    char *ok = sasl_el("success", SFINAL_OK);
    char *seg[2];
    seg[0] = xstrdup(HDR F_TLS PROCEED);
    seg[1] = xasprintf(HDR F_SASL "%s%s" HDR "%s" BOUND "%s" END, ch, ok,
                       features, tail);
    free(ch);
    free(ok);
    struct replay rp = {.seg = (const char *const *)seg,
                        .nseg = 2,
                        .chunk = chunk,
                        .close_at = -1};
    struct xs_io io;
    replay_io(&rp, &io);
    struct xmpp_config cfg = {.jid = "user@example.com",
                              .password = "pencil",
                              .deadline = xs_now_ms() + 10000,
                              .timeout_s = 10,
                              .test_cnonce = CNONCE};
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < p->n; i++) {
        p->a[i].failed = p->a[i].existed = 0;
        free(p->a[i].condition);
        p->a[i].condition = NULL;
    }
    struct xmpp_session *s = xmpp_new(&cfg, &io);
    r->e = xmpp_login(s, &r->err);
    CHECK_EQ_INT(r->e, XS_OK);
    size_t at = rp.written.len;
    r->e = roster_run(s, p, done_cb, r, &r->err);
    xmpp_close(s);
    xmpp_free(s);
    buf_add(&r->written, rp.written.data + at, rp.written.len - at);
    buf_free(&rp.written);
    free(seg[0]);
    free(seg[1]);
}

static void result_free(struct result *r)
{
    buf_free(&r->written);
    buf_free(&r->lines);
}

static int contains(const struct buf *b, const char *needle)
{
    return b->data != NULL && strstr(b->data, needle) != NULL;
}

static const char *lines(const struct result *r)
{
    return r->lines.data != NULL ? r->lines.data : "";
}

/* Build a plan from "--opt value" pairs. */
static enum xs_err plan(struct roster_plan *p,
                        struct xs_error *err,
                        const struct opt_use *seq,
                        size_t n)
{
    memset(err, 0, sizeof *err);
    return roster_plan_build(seq, n, p, err);
}

/* A use of an option; the value is a modifiable copy of the literal. */
#define USE(id, v)                                                             \
    {                                                                          \
        (id), (char[])                                                         \
        {                                                                      \
            v                                                                  \
        }                                                                      \
    }

static void test_plan(void)
{
    struct roster_plan p;
    struct xs_error err;
    const struct opt_use ok[] = {
        USE(O_ROSTER_ADD, "a@x"),  USE(O_NAME, "A\x1b[31m"),
        USE(O_GROUP, "g1"),        USE(O_GROUP, "g2"),
        USE(O_SUBSCRIBE, "a@x"),   USE(O_ROSTER_ADD, "b@x"),
        USE(O_APPROVE, "c@x"),     USE(O_DENY, "d@x"),
        USE(O_UNSUBSCRIBE, "e@x"), USE(O_ROSTER_REMOVE, "f@x"),
    };
    CHECK_EQ_INT(plan(&p, &err, ok, sizeof ok / sizeof ok[0]), XS_OK);
    CHECK_EQ_INT(p.n, 7);
    CHECK_EQ_INT(p.a[0].op, ROSTER_ADD);
    CHECK_EQ_STR(p.a[0].name, "A"); /* the escape sequence is removed */
    CHECK_EQ_INT(p.changed, 1);
    CHECK_EQ_INT(p.a[0].ngroups, 2);
    CHECK_EQ_STR(p.a[0].groups[1], "g2");
    CHECK_EQ_INT(p.a[1].op, ROSTER_SUBSCRIBE);
    CHECK_EQ_INT(p.a[2].op, ROSTER_ADD);
    CHECK(p.a[2].name == NULL && p.a[2].ngroups == 0);
    CHECK_EQ_INT(p.a[3].op, ROSTER_APPROVE);
    CHECK_EQ_INT(p.a[4].op, ROSTER_DENY);
    CHECK_EQ_INT(p.a[5].op, ROSTER_UNSUBSCRIBE);
    CHECK_EQ_INT(p.a[6].op, ROSTER_REMOVE);
    CHECK_EQ_STR(p.a[6].jid, "f@x");
    CHECK_EQ_STR(roster_op_name(p.a[6].op), "roster-remove");
    roster_plan_free(&p);

    /* --name and --group only right after a --roster-add, once each. */
    const struct opt_use first[] = {USE(O_NAME, "n"), USE(O_ROSTER_ADD, "a@x")};
    CHECK_EQ_INT(plan(&p, &err, first, 2), XS_EUSAGE);
    CHECK(strstr(err.msg, "--name") != NULL);
    roster_plan_free(&p);
    const struct opt_use after[] = {USE(O_SUBSCRIBE, "a@x"), USE(O_GROUP, "g")};
    CHECK_EQ_INT(plan(&p, &err, after, 2), XS_EUSAGE);
    CHECK(strstr(err.msg, "--group") != NULL);
    roster_plan_free(&p);
    const struct opt_use twice[] = {USE(O_ROSTER_ADD, "a@x"), USE(O_NAME, "n"),
                                    USE(O_NAME, "m")};
    CHECK_EQ_INT(plan(&p, &err, twice, 3), XS_EUSAGE);
    roster_plan_free(&p);
    const struct opt_use dup[] = {USE(O_ROSTER_ADD, "a@x"), USE(O_GROUP, "g"),
                                  USE(O_GROUP, "g")};
    CHECK_EQ_INT(plan(&p, &err, dup, 3), XS_EUSAGE);
    roster_plan_free(&p);
}

static void test_stanzas(void)
{
    struct roster_plan p;
    struct xs_error err;
    struct buf b = {0};
    const struct opt_use seq[] = {
        USE(O_ROSTER_ADD, "o'b&r@x"), USE(O_NAME, "<B \"&\" 'c'>"),
        USE(O_GROUP, "a&b"),          USE(O_GROUP, "</group>"),
        USE(O_ROSTER_REMOVE, "r@x"),  USE(O_SUBSCRIBE, "s@x"),
        USE(O_APPROVE, "a@x"),        USE(O_UNSUBSCRIBE, "u@x"),
        USE(O_DENY, "d@x"),           USE(O_ROSTER_ADD, "plain@x"),
    };
    CHECK_EQ_INT(plan(&p, &err, seq, sizeof seq / sizeof seq[0]), XS_OK);
    roster_query_xml(&b, &p.a[0]);
    CHECK_EQ_STR(b.data,
                 "<query xmlns='jabber:iq:roster'><item jid='o&apos;b&amp;r@x' "
                 "name='&lt;B &quot;&amp;&quot; &apos;c&apos;&gt;'>"
                 "<group>a&amp;b</group><group>&lt;/group&gt;</group>"
                 "</item></query>");
    buf_reset(&b);
    roster_query_xml(&b, &p.a[1]);
    CHECK_EQ_STR(b.data, "<query xmlns='jabber:iq:roster'><item jid='r@x' "
                         "subscription='remove'/></query>");
    buf_reset(&b);
    roster_query_xml(&b, &p.a[2]); /* --subscribe adds a plain item */
    CHECK_EQ_STR(b.data,
                 "<query xmlns='jabber:iq:roster'><item jid='s@x'/></query>");
    buf_reset(&b);
    roster_query_xml(&b, &p.a[6]);
    CHECK_EQ_STR(
        b.data,
        "<query xmlns='jabber:iq:roster'><item jid='plain@x'/></query>");
    static const char *const pres[] = {
        "<presence type='subscribe' id='i&amp;1' to='s@x'/>",
        "<presence type='subscribed' id='i&amp;1' to='a@x'/>",
        "<presence type='unsubscribe' id='i&amp;1' to='u@x'/>",
        "<presence type='unsubscribed' id='i&amp;1' to='d@x'/>",
    };
    for (size_t i = 0; i < 4; i++) {
        buf_reset(&b);
        roster_presence_xml(&b, &p.a[2 + i], "i&1");
        CHECK_EQ_STR(b.data, pres[i]);
    }
    buf_free(&b);
    roster_plan_free(&p);
}

static void test_error_classes(void)
{
    CHECK_EQ_INT(roster_error_class(0, "modify", "item-not-found"), XS_EBOUNCE);
    CHECK_EQ_INT(roster_error_class(0, "cancel", "not-acceptable"),
                 XS_EREFUSED);
    CHECK_EQ_INT(roster_error_class(0, "modify", "not-acceptable"),
                 XS_EREFUSED);
    CHECK_EQ_INT(roster_error_class(0, "modify", "bad-request"), XS_EDATA);
    CHECK_EQ_INT(roster_error_class(0, "modify", "jid-malformed"), XS_EDATA);
    CHECK_EQ_INT(roster_error_class(0, "wait", "bad-request"), XS_ETEMP);
    CHECK_EQ_INT(roster_error_class(0, "wait", "resource-constraint"),
                 XS_ETEMP);
    CHECK_EQ_INT(roster_error_class(0, NULL, "not-allowed"), XS_EREFUSED);
    /* Roster service missing: refused; a contact missing: 67. */
    CHECK_EQ_INT(roster_error_class(0, "cancel", "service-unavailable"),
                 XS_EREFUSED);
    CHECK_EQ_INT(roster_error_class(1, "cancel", "service-unavailable"),
                 XS_EBOUNCE);
    CHECK_EQ_INT(roster_error_class(1, "cancel", "remote-server-not-found"),
                 XS_EBOUNCE);
    CHECK_EQ_INT(roster_error_class(1, "wait", "remote-server-timeout"),
                 XS_ETEMP);
    CHECK_EQ_INT(roster_error_class(1, "auth", "forbidden"), XS_EREFUSED);
}

/* Every action in one run: the stanzas in order, each after the
 * previous one was confirmed, one done() per action. */
static void test_run_all(void)
{
    struct roster_plan p;
    struct xs_error err;
    struct result r;
    const struct opt_use seq[] = {
        USE(O_ROSTER_ADD, "new@x"), USE(O_NAME, "N"),
        USE(O_ROSTER_ADD, "old@x"), USE(O_ROSTER_REMOVE, "old@x"),
        USE(O_SUBSCRIBE, "sub@x"),  USE(O_SUBSCRIBE, "old2@x"),
        USE(O_APPROVE, "app@x"),    USE(O_UNSUBSCRIBE, "uns@x"),
        USE(O_DENY, "den@x"),
    };
    CHECK_EQ_INT(plan(&p, &err, seq, sizeof seq / sizeof seq[0]), XS_OK);
    /* xs-2 roster get, xs-3 add new, xs-4 update old, xs-5 remove old,
     * xs-6 add sub + xs-7 presence + xs-8 ping, xs-9 presence + xs-10
     * ping for old2 (already there), then app, uns, den: presence and
     * ping each.  A roster push and a stray presence on the way. */
    const char *tail = ROSTER("xs-2",
                              ITEM("old@x", "both") ITEM("Old2@X", "to"))
        RESULT("xs-3") "<iq type='set' id='push1'><query "
                       "xmlns='jabber:iq:roster'><item jid='new@x'/></query>"
                       "</iq>" RESULT("xs-4") RESULT("xs-5")
                           RESULT("xs-6") "<presence from='x@y' "
                                          "type='subscribe'/>" PONG("xs-8")
                                              PONG("xs-10") PONG("xs-12")
                                                  PONG("xs-14") PONG("xs-16");
    for (size_t chunk = 0; chunk <= 64; chunk += chunk < 4 ? 1 : 60) {
        run(F_BIND_PRE, tail, &p, chunk, &r);
        CHECK_EQ_INT(r.e, XS_OK);
        CHECK_EQ_STR(lines(&r), "added new@x\nupdated old@x\nremoved old@x\n"
                                "subscribe-sent sub@x\n"
                                "subscribe-sent old2@x\napproved app@x\n"
                                "unsubscribed uns@x\ndenied den@x\n");
        const char *order[] = {
            "<iq type='get' id='xs-2'><query xmlns='jabber:iq:roster'/>",
            "<iq type='set' id='xs-3'><query xmlns='jabber:iq:roster'>"
            "<item jid='new@x' name='N'/></query></iq>",
            "<iq type='set' id='xs-4'><query xmlns='jabber:iq:roster'>"
            "<item jid='old@x'/></query></iq>",
            "<iq type='set' id='xs-5'><query xmlns='jabber:iq:roster'>"
            "<item jid='old@x' subscription='remove'/></query></iq>",
            "<iq type='set' id='xs-6'><query xmlns='jabber:iq:roster'>"
            "<item jid='sub@x'/></query></iq>",
            "<presence type='subscribe' id='xs-7' to='sub@x'/>",
            "<presence type='subscribe' id='xs-9' to='old2@x'/>",
            "<presence type='subscribed' id='xs-11' to='app@x'/>",
            "<presence type='unsubscribe' id='xs-13' to='uns@x'/>",
            "<presence type='unsubscribed' id='xs-15' to='den@x'/>",
            "</stream:stream>",
        };
        const char *at = r.written.data;
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
            const char *next = strstr(at, order[i]);
            if (next == NULL)
                fprintf(stderr, "missing in order: %s\nwritten: %s\n", order[i],
                        r.written.data);
            CHECK(next != NULL);
            at = next;
        }
        /* The roster push is answered. */
        CHECK(contains(&r.written, "<iq id='push1' type='result'/>"));
        result_free(&r);
    }
    roster_plan_free(&p);
}

/* Failures: the first stops the run; lines of earlier actions stay. */
static void test_run_failures(void)
{
    struct roster_plan p;
    struct xs_error err;
    struct result r;

    /* Removing what is not in the roster: 67, nothing sent for it. */
    const struct opt_use rm[] = {USE(O_ROSTER_ADD, "a@x"),
                                 USE(O_ROSTER_REMOVE, "none@x"),
                                 USE(O_ROSTER_ADD, "b@x")};
    CHECK_EQ_INT(plan(&p, &err, rm, 3), XS_OK);
    run(F_BIND, ROSTER("xs-2", "") RESULT("xs-3"), &p, 0, &r);
    CHECK_EQ_INT(r.e, XS_EBOUNCE);
    CHECK_EQ_STR(lines(&r), "added a@x\n");
    CHECK(!contains(&r.written, "none@x"));
    CHECK(!contains(&r.written, "b@x"));
    CHECK(p.a[1].failed && !p.a[0].failed && !p.a[2].failed);
    CHECK_EQ_STR(p.a[1].condition, "item-not-found");
    CHECK_EQ_STR(r.err.msg, "removing none@x from the roster failed: "
                            "item-not-found (not in the roster)");
    result_free(&r);

    /* The server's errors to a roster set, by class. */
    static const struct {
        const char *reply;
        enum xs_err e;
        const char *msg;
    } sets[] = {
        {IQ_ERROR("xs-3", "modify", "bad-request"), XS_EDATA,
         "adding a@x to the roster failed: bad-request"},
        {IQ_ERROR("xs-3", "cancel", "not-acceptable"), XS_EREFUSED,
         "adding a@x to the roster failed: not-acceptable"},
        {IQ_ERROR("xs-3", "wait", "resource-constraint"), XS_ETEMP,
         "adding a@x to the roster failed: resource-constraint"},
        {IQ_ERROR("xs-3", "cancel", "item-not-found"), XS_EBOUNCE,
         "adding a@x to the roster failed: item-not-found"},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        char *tail = xasprintf("%s%s", ROSTER("xs-2", ""), sets[i].reply);
        run(F_BIND, tail, &p, 3, &r);
        free(tail);
        CHECK_EQ_INT(r.e, sets[i].e);
        CHECK_EQ_STR(r.err.msg, sets[i].msg);
        CHECK_EQ_STR(lines(&r), "");
        CHECK(p.a[0].failed);
        result_free(&r);
    }
    roster_plan_free(&p);

    /* A presence bounce before the ping reply fails the action; one from
     * a stranger or with another id does not. */
    const struct opt_use sub[] = {USE(O_UNSUBSCRIBE, "u@x"),
                                  USE(O_SUBSCRIBE, "s@far.example"),
                                  USE(O_DENY, "d@x")};
    CHECK_EQ_INT(plan(&p, &err, sub, 3), XS_OK);
    const char *tail =
        PONG("xs-3") ROSTER("xs-4", ITEM("s@far.example", "none"))
            PRES_ERROR("xs-5", "evil@x", "cancel", "forbidden")
                PRES_ERROR("xs-9", "s@far.example", "cancel", "forbidden")
                    PRES_ERROR("xs-5", "far.example", "cancel",
                               "remote-server-not-found") PONG("xs-6");
    run(F_BIND, tail, &p, 0, &r);
    CHECK_EQ_INT(r.e, XS_EBOUNCE);
    CHECK_EQ_STR(lines(&r), "unsubscribed u@x\n");
    CHECK_EQ_STR(r.err.msg, "subscribing to s@far.example failed: "
                            "remote-server-not-found (no?way)");
    CHECK_EQ_STR(p.a[1].condition, "remote-server-not-found");
    CHECK(!contains(&r.written, "d@x"));
    result_free(&r);
    roster_plan_free(&p);

    /* Without pre-approval support, --approve reads the roster after
     * the presence: 'from' (a request was pending) is success, 'none'
     * is an error. */
    const struct opt_use app[] = {USE(O_APPROVE, "a@x")};
    CHECK_EQ_INT(plan(&p, &err, app, 1), XS_OK);
    run(F_BIND, PONG("xs-3") ROSTER("xs-4", ITEM("a@x", "from")), &p, 0, &r);
    CHECK_EQ_INT(r.e, XS_OK);
    CHECK_EQ_STR(lines(&r), "approved a@x\n");
    result_free(&r);
    run(F_BIND, PONG("xs-3") ROSTER("xs-4", ITEM("a@x", "none")), &p, 0, &r);
    CHECK_EQ_INT(r.e, XS_EREFUSED);
    CHECK_EQ_STR(lines(&r), "");
    CHECK(strstr(r.err.msg, "pre-approval") != NULL);
    result_free(&r);
    /* With it, the ping is enough: no roster request. */
    run(F_BIND_PRE, PONG("xs-3"), &p, 0, &r);
    CHECK_EQ_INT(r.e, XS_OK);
    CHECK(!contains(&r.written, "jabber:iq:roster"));
    result_free(&r);
    roster_plan_free(&p);

    /* The server closes before confirming: a temporary failure. */
    const struct opt_use add[] = {USE(O_ROSTER_ADD, "a@x")};
    CHECK_EQ_INT(plan(&p, &err, add, 1), XS_OK);
    run(F_BIND, ROSTER("xs-2", ""), &p, 0, &r);
    CHECK_EQ_INT(r.e, XS_ETEMP);
    CHECK(p.a[0].failed);
    CHECK_EQ_STR(lines(&r), "");
    result_free(&r);
    /* ... or while the roster is read first: that action failed too. */
    run(F_BIND, "", &p, 0, &r);
    CHECK_EQ_INT(r.e, XS_ETEMP);
    CHECK(p.a[0].failed);
    CHECK(!contains(&r.written, "<item"));
    result_free(&r);
    roster_plan_free(&p);
}

int main(void)
{
    test_plan();
    test_stanzas();
    test_error_classes();
    test_run_all();
    test_run_failures();
    TEST_DONE("test_roster");
    return 0;
}
