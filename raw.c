/* SPDX-License-Identifier: MIT */
/*
 * raw.c - --raw: the user's stanzas, parsed with the stream parser
 * (xml.c) inside a stream header of our own, checked, and re-serialised
 * from the parsed tree: the user's bytes never reach the server as they
 * are, so an unclosed element, a </stream:stream> or a stream-level
 * element cannot break out of the stanza (protocol.md 10).  Sent after
 * login in one flight that ends with a ping (RFC 6120 10.1: the server
 * handled every message and presence before it answers) and waits for
 * the reply to every IQ (RFC 6120 8.2.3: each get or set has one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "raw.h"
#include "xml.h"

/* Our wrapper around the input: the stream the parser expects. */
static const char raw_head[] =
    "<stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams'>";
static const char raw_tail[] = "</stream:stream>";

void raw_free(struct raw_batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        xnode_free(b->st[i].node);
        xnode_free(b->st[i].reply);
        free(b->st[i].id);
    }
    if (b->r != NULL)
        xmpp_recipients_clear(b->r, b->nr);
    free(b->r);
    free(b->st);
    free(b);
}

/* ---------------------------------------------------------------- */
/* Serialising                                                       */

static int blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

/* 'n' and its subtree; 'pns' is the namespace in scope, 'id' an id to
 * add (top level only) or NULL. */
static void
ser(struct buf *b, const struct xnode *n, const char *pns, const char *id)
{
    buf_printf(b, "<%s", n->name);
    if (strcmp(n->ns, pns) != 0) {
        buf_addstr(b, " xmlns='");
        buf_add_xml(b, n->ns, strlen(n->ns));
        buf_addch(b, '\'');
    }
    for (size_t i = 0; i < n->nattrs; i++) {
        buf_printf(b, " %s='", n->attrs[i].name);
        buf_add_xml(b, n->attrs[i].value, strlen(n->attrs[i].value));
        buf_addch(b, '\'');
    }
    if (id != NULL) {
        buf_addstr(b, " id='");
        buf_add_xml(b, id, strlen(id));
        buf_addch(b, '\'');
    }
    const char *text = xnode_text(n);
    if (n->children == NULL && *text == '\0') {
        buf_addstr(b, "/>");
        return;
    }
    buf_addch(b, '>');
    /* Text beside elements (white space between them, as raw_parse
     * allows; a server's mixed content, shown text first) */
    if (n->children == NULL || !blank(text))
        buf_add_xml(b, text, strlen(text));
    for (const struct xnode *c = n->children; c != NULL; c = c->next)
        ser(b, c, n->ns, NULL);
    buf_printf(b, "</%s>", n->name);
}

char *raw_line(const struct xnode *n)
{
    struct buf b = {0}, out = {0};
    ser(&b, n, NS_CLIENT, NULL);
    /* Markup has no such bytes: they come from text and values. */
    for (size_t i = 0; i < b.len; i++) {
        unsigned char c = (unsigned char)b.data[i];
        if (c < 0x20 || c == 0x7f)
            buf_printf(&out, "&#%u;", c);
        else if (c == 0xc2 && i + 1 < b.len &&
                 (unsigned char)b.data[i + 1] >= 0x80 &&
                 (unsigned char)b.data[i + 1] <= 0x9f)
            buf_printf(&out, "&#%u;", (unsigned char)b.data[++i] & 0xffu);
        else
            buf_addch(&out, (char)c);
    }
    buf_addstr(&out, "");
    buf_free(&b);
    return out.data;
}

/* ---------------------------------------------------------------- */
/* Parsing and checking                                              */

/* The checks below the top level: names, prefixes, mixed content. */
static enum xs_err check_tree(const struct xnode *n, struct xs_error *err)
{
    for (size_t i = 0; i < n->nattrs; i++) {
        const char *a = n->attrs[i].name;
        if (strchr(a, ':') != NULL && strncmp(a, "xml:", 4) != 0)
            return xs_seterr(err, XS_EDATA,
                             "--raw: attribute '%.64s' of <%.64s>: only "
                             "the xml: prefix is supported",
                             a, n->name);
    }
    if (n->children != NULL && !blank(xnode_text(n)))
        return xs_seterr(err, XS_EDATA,
                         "--raw: <%.64s> mixes text and elements, which is "
                         "not supported",
                         n->name);
    for (const struct xnode *c = n->children; c != NULL; c = c->next) {
        enum xs_err e = check_tree(c, err);
        if (e != XS_OK)
            return e;
    }
    return XS_OK;
}

static size_t count_children(const struct xnode *n)
{
    size_t k = 0;
    for (const struct xnode *c = n->children; c != NULL; c = c->next)
        k++;
    return k;
}

/* One top-level element: a stanza we accept?  Fills 'st'. */
static enum xs_err check_stanza(struct raw_batch *b,
                                struct raw_stanza *st,
                                size_t num,
                                struct xs_error *err)
{
    const struct xnode *n = st->node;
    const char *type = xnode_attr(n, "type");
    const char *id = xnode_attr(n, "id");
    if (strcmp(n->ns, NS_CLIENT) != 0 ||
        (strcmp(n->name, "message") != 0 && strcmp(n->name, "presence") != 0 &&
         strcmp(n->name, "iq") != 0))
        return xs_seterr(err, XS_EDATA,
                         "--raw: element %zu, <%.64s>, is not a stanza "
                         "(only <message/>, <presence/> and <iq/> in "
                         "jabber:client)",
                         num, n->name);
    st->kind = n->name[0] == 'm'   ? RAW_MESSAGE
               : n->name[0] == 'p' ? RAW_PRESENCE
                                   : RAW_IQ;
    st->to = xnode_attr(n, "to");
    if (st->to != NULL) {
        struct jid j;
        const char *why = NULL;
        if (jid_parse(st->to, &j, &why) != 0)
            return xs_seterr(err, XS_EDATA,
                             "--raw: element %zu: 'to' is not a JID: %s", num,
                             why ? why : "invalid");
        jid_free(&j);
    }
    if (id != NULL && *id == '\0')
        return xs_seterr(err, XS_EDATA, "--raw: element %zu: empty id", num);
    /* A message's bounce is found by its id (struct xmpp_recipient). */
    if (st->kind == RAW_MESSAGE && id != NULL && strlen(id) >= sizeof b->r->id)
        return xs_seterr(err, XS_EDATA,
                         "--raw: element %zu: a message id longer than %zu "
                         "bytes (leave it out: one is added)",
                         num, sizeof b->r->id - 1);
    if (st->kind == RAW_IQ) {
        if (type == NULL ||
            (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
            return xs_seterr(err, XS_EDATA,
                             "--raw: element %zu: an <iq/> must be type get "
                             "or set",
                             num);
        if (count_children(n) != 1)
            return xs_seterr(err, XS_EDATA,
                             "--raw: element %zu: an <iq/> must hold exactly "
                             "one element",
                             num);
        for (size_t i = 0; id != NULL && i + 1 < num; i++) {
            if (b->st[i].kind == RAW_IQ && strcmp(b->st[i].id, id) == 0)
                return xs_seterr(err, XS_EDATA,
                                 "--raw: element %zu: id used twice", num);
        }
    }
    if (id != NULL)
        st->id = xstrdup(id);
    return check_tree(n, err);
}

/* The parser speaks of the server: say where the bytes came from. */
static enum xs_err input_error(const struct xs_error *perr,
                               struct xs_error *err)
{
    static const char pre[] = "invalid XML from server: ";
    const char *m = perr->msg;
    if (strncmp(m, pre, sizeof pre - 1) == 0)
        m += sizeof pre - 1;
    return xs_seterr(err, XS_EDATA, "--raw: invalid XML on standard input: %s",
                     m);
}

enum xs_err raw_parse(const char *in,
                      size_t len,
                      struct raw_batch **out,
                      struct xs_error *err)
{
    struct xml_parser *p = xml_parser_new();
    struct raw_batch *b = xcalloc(1, sizeof *b);
    struct xs_error perr = {0};
    int stream_level;
    enum xs_err e = xml_feed(p, raw_head, sizeof raw_head - 1, &perr);
    if (e == XS_OK)
        e = xml_feed(p, in, len, &perr);
    /* </stream:stream>, or <proceed/> or <success/>, which stop the
     * parser as they would a stream */
    stream_level = xml_closed(p) || xml_stopped(p);
    if (stream_level) {
        e = xs_seterr(err, XS_EDATA,
                      "--raw: stream-level XML on standard input "
                      "(only stanzas are allowed)");
    } else if (e != XS_OK) {
        e = input_error(&perr, err);
    } else if (xml_feed(p, raw_tail, sizeof raw_tail - 1, &perr) != XS_OK ||
               !xml_closed(p)) {
        /* the input parsed; only our end tag does not fit */
        e = xs_seterr(err, XS_EDATA,
                      "--raw: an element on standard input is not "
                      "finished");
    }
    struct xnode *n;
    while ((n = xml_next(p)) != NULL) {
        n->next = NULL;
        if (e != XS_OK) {
            xnode_free(n);
            continue;
        }
        b->st = xrealloc(b->st, (b->n + 1) * sizeof *b->st);
        struct raw_stanza *st = &b->st[b->n++];
        memset(st, 0, sizeof *st);
        st->node = n;
        e = check_stanza(b, st, b->n, err);
        if (e == XS_OK && st->kind == RAW_MESSAGE)
            b->nr++;
    }
    xml_parser_free(p);
    if (e == XS_OK && b->n == 0)
        e = xs_seterr(err, XS_EDATA, "--raw: no stanza on standard input");
    if (e != XS_OK) {
        raw_free(b);
        return e;
    }
    *out = b;
    return XS_OK;
}

/* ---------------------------------------------------------------- */
/* Running                                                           */

/* A deep copy of 'n' (without its siblings). */
static struct xnode *copy_node(const struct xnode *n, struct xnode *parent)
{
    struct xnode *c = xcalloc(1, sizeof *c);
    c->name = xstrdup(n->name);
    c->ns = xstrdup(n->ns);
    c->attrs = xcalloc(n->nattrs + 1, sizeof *c->attrs);
    for (size_t i = 0; i < n->nattrs; i++) {
        c->attrs[i].name = xstrdup(n->attrs[i].name);
        c->attrs[i].value = xstrdup(n->attrs[i].value);
    }
    c->nattrs = n->nattrs;
    buf_addstr(&c->text, xnode_text(n));
    c->parent = parent;
    for (const struct xnode *k = n->children; k != NULL; k = k->next) {
        struct xnode *d = copy_node(k, c);
        if (c->last_child != NULL)
            c->last_child->next = d;
        else
            c->children = d;
        c->last_child = d;
    }
    return c;
}

struct raw_wait {
    struct raw_batch *b;
    size_t pending; /* IQs without a reply */
};

/* Where a reply to 'st' may come from for xmpp_is_reply: NULL stands
 * for our own account and its server. */
static const char *reply_to(struct xmpp_session *s, const struct raw_stanza *st)
{
    if (st->to == NULL ||
        (jid_bare_eq(st->to, xmpp_account(s)) && strchr(st->to, '/') == NULL))
        return NULL;
    return st->to;
}

static int on_stanza(void *ud,
                     struct xmpp_session *s,
                     const struct xnode *n,
                     struct xs_error *err)
{
    struct raw_wait *w = ud;
    struct raw_batch *b = w->b;
    (void)err;
    if (xnode_is(n, "message", NS_CLIENT)) {
        xmpp_bounce(b->r, b->nr, n);
        return XMPP_WAIT_MORE;
    }
    for (size_t i = 0; i < b->n; i++) {
        struct raw_stanza *st = &b->st[i];
        if (st->kind != RAW_IQ || st->reply != NULL ||
            !xmpp_is_reply(s, n, st->id, reply_to(s, st)))
            continue;
        /* 'n' is freed after the call: keep a copy. */
        st->reply = copy_node(n, NULL);
        w->pending--;
        break;
    }
    return w->pending == 0 ? XMPP_WAIT_DONE : XMPP_WAIT_MORE;
}

enum xs_err
raw_run(struct xmpp_session *s, struct raw_batch *b, struct xs_error *err)
{
    struct raw_wait rw = {.b = b};
    struct xmpp_wait w = {.what = "waiting for replies to the raw stanzas",
                          .ping = 1,
                          .on_stanza = on_stanza,
                          .ud = &rw};
    struct buf x = {0};
    size_t k = 0;
    b->r = xcalloc(b->nr + 1, sizeof *b->r);
    for (size_t i = 0; i < b->n; i++) {
        struct raw_stanza *st = &b->st[i];
        const char *given = st->id;
        if (given == NULL) {
            char id[24];
            xmpp_new_id(s, id, sizeof id);
            st->id = xstrdup(id);
        }
        if (st->kind == RAW_IQ)
            rw.pending++;
        if (st->kind == RAW_MESSAGE) {
            struct xmpp_recipient *r = &b->r[k];
            st->rcpt = (int)k++;
            r->jid = st->to != NULL ? st->to : xmpp_account(s);
            snprintf(r->id, sizeof r->id, "%s", st->id);
            r->status = XMPP_SENT;
        }
        buf_reset(&x);
        ser(&x, st->node, NS_CLIENT, given == NULL ? st->id : NULL);
        xmpp_queue(s, x.data);
    }
    buf_free(&x);
    w.need_done = rw.pending > 0;
    return xmpp_flight(s, &w, err);
}

enum xs_err raw_iq_error(const struct xnode *reply, const char **cond)
{
    const struct xnode *e = xnode_child(reply, "error", NULL);
    const char *type = xnode_attr(e, "type");
    *cond = "";
    for (const struct xnode *c = e ? e->children : NULL; c; c = c->next) {
        if (strcmp(c->ns, NS_STANZAS) == 0 && strcmp(c->name, "text") != 0) {
            *cond = c->name;
            break;
        }
    }
    /* RFC 6120 8.3.2: only type 'wait' says that retrying may work. */
    return type != NULL && strcmp(type, "wait") == 0 ? XS_ETEMP : XS_EREFUSED;
}
