/* SPDX-License-Identifier: MIT */
/*
 * roster.c - roster management and presence subscriptions (RFC 6121) as
 * jobs on the session's flight.  Each action is one flight and is
 * confirmed before the next one starts:
 *
 *   roster set (add, update, remove)     the IQ result        2.3-2.5
 *   presence subscribe, subscribed,      the reply to a ping  3.1-3.3
 *   unsubscribe, unsubscribed            behind it: the server handles
 *                                        a stream in order (RFC 6120
 *                                        10.1), so an error bounce of
 *                                        the presence comes before it
 *
 * The roster is read once before the first action that needs it: adding
 * an existing item is an update (2.4: name and groups are replaced) and
 * is reported so; removing an item that is not there is item-not-found
 * on every server (ejabberd would answer a plain result); --subscribe
 * adds the contact first when it is missing.  Subscription approval
 * ahead of a request (pre-approval, 3.4) is optional for servers: where
 * the server does not announce it, the roster is read again after the
 * approval and an unchanged subscription is an error, not a silent
 * success.  Nothing here prints.
 */
#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "roster.h"
#include "xml.h"

/* ---------------------------------------------------------------- */
/* The plan                                                          */

static void action_free(struct roster_action *a)
{
    free(a->name);
    for (size_t g = 0; g < a->ngroups; g++)
        free(a->groups[g]);
    free(a->groups);
    free(a->condition);
}

void roster_plan_free(struct roster_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        action_free(&p->a[i]);
    free(p->a);
    memset(p, 0, sizeof *p);
}

static char *sanitized(const char *v, size_t *changed)
{
    size_t c = 0;
    char *s = text_sanitize(v, strlen(v), &c);
    *changed += c;
    return s;
}

enum xs_err roster_plan_build(const struct opt_use *seq,
                              size_t n,
                              struct roster_plan *p,
                              struct xs_error *err)
{
    static const struct {
        enum opt_id id;
        enum roster_op op;
    } ops[] = {
        {O_ROSTER_ADD, ROSTER_ADD},          {O_ROSTER_REMOVE, ROSTER_REMOVE},
        {O_SUBSCRIBE, ROSTER_SUBSCRIBE},     {O_APPROVE, ROSTER_APPROVE},
        {O_UNSUBSCRIBE, ROSTER_UNSUBSCRIBE}, {O_DENY, ROSTER_DENY},
    };
    memset(p, 0, sizeof *p);
    for (size_t k = 0; k < n; k++) {
        enum opt_id id = seq[k].id;
        if (id == O_NAME || id == O_GROUP) {
            struct roster_action *last = p->n ? &p->a[p->n - 1] : NULL;
            const char *opt = id == O_NAME ? "--name" : "--group";
            if (last == NULL || last->op != ROSTER_ADD)
                return xs_seterr(err, XS_EUSAGE,
                                 "%s belongs right after a --roster-add "
                                 "JID",
                                 opt);
            char *v = sanitized(seq[k].val, &p->changed);
            if (id == O_NAME && last->name != NULL) {
                free(v);
                return xs_seterr(err, XS_EUSAGE,
                                 "--roster-add %s: --name given twice",
                                 last->jid);
            }
            for (size_t g = 0; id == O_GROUP && g < last->ngroups; g++) {
                if (strcmp(last->groups[g], v) == 0) {
                    free(v);
                    /* RFC 6121 2.3.3: a server refuses duplicates */
                    return xs_seterr(err, XS_EUSAGE,
                                     "--roster-add %s: the same --group "
                                     "twice",
                                     last->jid);
                }
            }
            if (id == O_NAME) {
                last->name = v;
            } else {
                last->groups = xrealloc(last->groups, (last->ngroups + 1) *
                                                          sizeof *last->groups);
                last->groups[last->ngroups++] = v;
            }
            continue;
        }
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            if (ops[o].id != id)
                continue;
            p->a = xrealloc(p->a, (p->n + 1) * sizeof *p->a);
            memset(&p->a[p->n], 0, sizeof p->a[p->n]);
            p->a[p->n].op = ops[o].op;
            p->a[p->n].jid = seq[k].val;
            p->n++;
        }
    }
    return XS_OK;
}

const char *roster_op_name(enum roster_op op)
{
    static const char *const names[] = {
        [ROSTER_ADD] = "roster-add",          [ROSTER_REMOVE] = "roster-remove",
        [ROSTER_SUBSCRIBE] = "subscribe",     [ROSTER_APPROVE] = "approve",
        [ROSTER_UNSUBSCRIBE] = "unsubscribe", [ROSTER_DENY] = "deny",
    };
    return names[op];
}

const char *roster_result(const struct roster_action *a)
{
    static const char *const words[] = {
        [ROSTER_ADD] = "added",
        [ROSTER_REMOVE] = "removed",
        [ROSTER_SUBSCRIBE] = "subscribe-sent",
        [ROSTER_APPROVE] = "approved",
        [ROSTER_UNSUBSCRIBE] = "unsubscribed",
        [ROSTER_DENY] = "denied",
    };
    if (a->failed)
        return "failed";
    if (a->op == ROSTER_ADD && a->existed)
        return "updated";
    return words[a->op];
}

/* ---------------------------------------------------------------- */
/* Stanzas                                                           */

void roster_query_xml(struct buf *b, const struct roster_action *a)
{
    buf_addstr(b, "<query xmlns='" NS_ROSTER "'><item jid='");
    buf_add_xml(b, a->jid, strlen(a->jid));
    buf_addch(b, '\'');
    if (a->op == ROSTER_REMOVE) {
        buf_addstr(b, " subscription='remove'/></query>");
        return;
    }
    if (a->op == ROSTER_ADD && a->name != NULL) {
        buf_addstr(b, " name='");
        buf_add_xml(b, a->name, strlen(a->name));
        buf_addch(b, '\'');
    }
    if (a->op != ROSTER_ADD || a->ngroups == 0) {
        buf_addstr(b, "/></query>");
        return;
    }
    buf_addch(b, '>');
    for (size_t g = 0; g < a->ngroups; g++) {
        buf_addstr(b, "<group>");
        buf_add_xml(b, a->groups[g], strlen(a->groups[g]));
        buf_addstr(b, "</group>");
    }
    buf_addstr(b, "</item></query>");
}

void roster_presence_xml(struct buf *b,
                         const struct roster_action *a,
                         const char *id)
{
    static const char *const types[] = {
        [ROSTER_SUBSCRIBE] = "subscribe",
        [ROSTER_APPROVE] = "subscribed",
        [ROSTER_UNSUBSCRIBE] = "unsubscribe",
        [ROSTER_DENY] = "unsubscribed",
    };
    buf_printf(b, "<presence type='%s' id='", types[a->op]);
    buf_add_xml(b, id, strlen(id));
    buf_addstr(b, "' to='");
    buf_add_xml(b, a->jid, strlen(a->jid));
    buf_addstr(b, "'/>");
}

/* ---------------------------------------------------------------- */
/* Errors                                                            */

enum xs_err roster_error_class(int presence, const char *type, const char *cond)
{
    /* For a presence, these say that the contact does not exist or
     * cannot be reached (RFC 6120 8.3.3): as for a message, 67. */
    static const char *const gone[] = {"item-not-found", "service-unavailable",
                                       "gone", "remote-server-not-found"};
    if (type != NULL && strcmp(type, "wait") == 0)
        return XS_ETEMP;
    if (strcmp(cond, "item-not-found") == 0)
        return XS_EBOUNCE;
    for (size_t g = 0; presence && g < sizeof gone / sizeof gone[0]; g++) {
        if (strcmp(cond, gone[g]) == 0)
            return XS_EBOUNCE;
    }
    if (strcmp(cond, "remote-server-timeout") == 0)
        return XS_ETEMP;
    if (strcmp(cond, "bad-request") == 0 || strcmp(cond, "jid-malformed") == 0)
        return XS_EDATA;
    return XS_EREFUSED;
}

/* The defined condition of a stanza's <error/>. */
static const char *condition(const struct xnode *stanza)
{
    const struct xnode *e = xnode_child(stanza, "error", NULL);
    for (const struct xnode *c = e ? e->children : NULL; c; c = c->next) {
        if (strcmp(c->ns, NS_STANZAS) == 0 && strcmp(c->name, "text") != 0)
            return c->name;
    }
    return "undefined-condition";
}

/* What an action does, for messages: "adding bob@x to the roster". */
static char *doing(const struct roster_action *a)
{
    static const char *const pre[] = {
        [ROSTER_ADD] = "adding ",
        [ROSTER_REMOVE] = "removing ",
        [ROSTER_SUBSCRIBE] = "subscribing to ",
        [ROSTER_APPROVE] = "approving ",
        [ROSTER_UNSUBSCRIBE] = "unsubscribing from ",
        [ROSTER_DENY] = "denying ",
    };
    const char *post = a->op == ROSTER_ADD      ? " to the roster"
                       : a->op == ROSTER_REMOVE ? " from the roster"
                                                : "";
    char *j = text_printable(a->jid, strlen(a->jid), 200);
    char *w = xasprintf("%s%s%s", pre[a->op], j, post);
    free(j);
    return w;
}

/* Record the failure of 'a' from the error stanza 'n'. */
static enum xs_err fail_stanza(struct roster_action *a,
                               int presence,
                               const struct xnode *n,
                               struct xs_error *err)
{
    const char *cond = condition(n);
    const struct xnode *e = xnode_child(n, "error", NULL);
    enum xs_err code =
        roster_error_class(presence, xnode_attr(e, "type"), cond);
    const char *t = xnode_text(xnode_child(e, "text", NS_STANZAS));
    char *c = text_printable(cond, strlen(cond), 100);
    char *tp = text_printable(t, strlen(t), 200);
    char *what = doing(a);
    a->failed = 1;
    free(a->condition);
    a->condition = xstrdup(c);
    xs_seterr(err, code, "%s failed: %s%s%s%s", what, c, *tp ? " (" : "", tp,
              *tp ? ")" : "");
    free(what);
    free(c);
    free(tp);
    return code;
}

/* ---------------------------------------------------------------- */
/* Running                                                           */

/* The JIDs in the roster, as far as this run knows. */
struct have {
    char **jid;
    size_t n;
    int known; /* read from the server */
};

static long have_find(const struct have *h, const char *jid)
{
    for (size_t i = 0; i < h->n; i++)
        if (jid_bare_eq(h->jid[i], jid))
            return (long)i;
    return -1;
}

static void have_add(struct have *h, const char *jid)
{
    if (have_find(h, jid) >= 0)
        return;
    h->jid = xrealloc(h->jid, (h->n + 1) * sizeof *h->jid);
    h->jid[h->n++] = xstrdup(jid);
}

static void have_del(struct have *h, const char *jid)
{
    long i = have_find(h, jid);
    if (i < 0 || h->jid == NULL)
        return;
    free(h->jid[i]);
    h->jid[i] = h->jid[--h->n];
}

static void have_free(struct have *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->jid[i]);
    free(h->jid);
    memset(h, 0, sizeof *h);
}

static enum xs_err
have_load(struct xmpp_session *s, struct have *h, struct xs_error *err)
{
    struct xmpp_roster ro;
    enum xs_err e = xmpp_roster(s, &ro, err);
    for (size_t i = 0; e == XS_OK && i < ro.n; i++)
        have_add(h, ro.items[i].jid);
    xmpp_roster_free(&ro);
    h->known = e == XS_OK;
    return e;
}

/* One roster set for 'a', confirmed by its result. */
static enum xs_err roster_set(struct xmpp_session *s,
                              struct roster_action *a,
                              struct xs_error *err)
{
    struct buf q = {0};
    struct xnode *reply = NULL;
    struct xs_error ierr = {0};
    char *what = doing(a);
    roster_query_xml(&q, a);
    enum xs_err e = xmpp_iq(s, "set", NULL, q.data, what, &reply, &ierr);
    buf_free(&q);
    if (e != XS_OK && reply != NULL &&
        strcmp(xnode_attr(reply, "type"), "error") == 0)
        e = fail_stanza(a, 0, reply, err);
    else if (e != XS_OK)
        e = xs_seterr(err, ierr.code, "%s", ierr.msg);
    xnode_free(reply);
    free(what);
    return e;
}

struct presence_wait {
    struct roster_action *a;
    const char *id;
};

/* A presence error with our id from the contact (or its domain) fails
 * the action; anything else passes by. */
static int presence_stanza(void *ud,
                           struct xmpp_session *s,
                           const struct xnode *n,
                           struct xs_error *err)
{
    struct presence_wait *pw = ud;
    const char *type = xnode_attr(n, "type");
    const char *id = xnode_attr(n, "id");
    const char *from = xnode_attr(n, "from");
    (void)s;
    if (!xnode_is(n, "presence", NS_CLIENT) || type == NULL ||
        strcmp(type, "error") != 0 || id == NULL || strcmp(id, pw->id) != 0 ||
        from == NULL)
        return XMPP_WAIT_MORE;
    struct jid c;
    int ok = jid_bare_eq(from, pw->a->jid);
    if (!ok && jid_parse(pw->a->jid, &c, NULL) == 0) {
        ok = jid_domain_eq(from, c.domain);
        jid_free(&c);
    }
    if (!ok)
        return XMPP_WAIT_MORE;
    fail_stanza(pw->a, 1, n, err);
    return XMPP_WAIT_FAIL;
}

/* One presence for 'a', confirmed by the ping behind it. */
static enum xs_err
presence(struct xmpp_session *s, struct roster_action *a, struct xs_error *err)
{
    char id[24];
    struct buf b = {0};
    char *what = doing(a);
    xmpp_new_id(s, id, sizeof id);
    roster_presence_xml(&b, a, id);
    xmpp_queue(s, b.data);
    buf_free(&b);
    struct presence_wait pw = {.a = a, .id = id};
    struct xmpp_wait w = {
        .what = what, .ping = 1, .on_stanza = presence_stanza, .ud = &pw};
    enum xs_err e = xmpp_flight(s, &w, err);
    free(what);
    return e;
}

/* Without pre-approval support, an approval only answers a pending
 * request: the subscription must now be 'from' or 'both'. */
static enum xs_err
approved(struct xmpp_session *s, struct roster_action *a, struct xs_error *err)
{
    struct xmpp_roster ro;
    enum xs_err e = xmpp_roster(s, &ro, err);
    int ok = 0;
    for (size_t i = 0; e == XS_OK && i < ro.n; i++) {
        const char *sub = ro.items[i].subscription;
        if (jid_bare_eq(ro.items[i].jid, a->jid))
            ok = strcmp(sub, "from") == 0 || strcmp(sub, "both") == 0;
    }
    xmpp_roster_free(&ro);
    if (e != XS_OK || ok)
        return e;
    a->failed = 1;
    return xs_seterr(err, XS_EREFUSED,
                     "approving %s had no effect: it has not asked to "
                     "subscribe, and the server does not support "
                     "pre-approval",
                     a->jid);
}

static enum xs_err run_one(struct xmpp_session *s,
                           struct roster_action *a,
                           struct have *h,
                           struct xs_error *err)
{
    enum xs_err e = XS_OK;
    switch (a->op) {
    case ROSTER_ADD:
        a->existed = have_find(h, a->jid) >= 0;
        e = roster_set(s, a, err);
        if (e == XS_OK)
            have_add(h, a->jid);
        break;
    case ROSTER_REMOVE:
        if (have_find(h, a->jid) < 0) {
            char *what = doing(a);
            a->failed = 1;
            a->condition = xstrdup("item-not-found");
            e = xs_seterr(err, XS_EBOUNCE,
                          "%s failed: item-not-found (not in the roster)",
                          what);
            free(what);
            break;
        }
        e = roster_set(s, a, err);
        if (e == XS_OK)
            have_del(h, a->jid);
        break;
    case ROSTER_SUBSCRIBE:
        if (have_find(h, a->jid) < 0) {
            e = roster_set(s, a, err);
            if (e == XS_OK)
                have_add(h, a->jid);
        }
        if (e == XS_OK)
            e = presence(s, a, err);
        break;
    case ROSTER_APPROVE:
        e = presence(s, a, err);
        if (e == XS_OK && !xmpp_preapproval(s))
            e = approved(s, a, err);
        break;
    case ROSTER_UNSUBSCRIBE:
    case ROSTER_DENY:
        e = presence(s, a, err);
        break;
    }
    if (e != XS_OK)
        a->failed = 1;
    return e;
}

enum xs_err roster_run(struct xmpp_session *s,
                       struct roster_plan *p,
                       void (*done)(void *ud, const struct roster_action *a),
                       void *ud,
                       struct xs_error *err)
{
    struct have h = {0};
    enum xs_err e = XS_OK;
    for (size_t i = 0; i < p->n && e == XS_OK; i++) {
        struct roster_action *a = &p->a[i];
        int need = a->op == ROSTER_ADD || a->op == ROSTER_REMOVE ||
                   a->op == ROSTER_SUBSCRIBE;
        if (need && !h.known)
            e = have_load(s, &h, err);
        if (e == XS_OK)
            e = run_one(s, a, &h, err);
        if (e != XS_OK)
            a->failed = 1; /* also when reading the roster failed */
        else if (done != NULL)
            done(ud, a);
    }
    have_free(&h);
    return e;
}
