/* SPDX-License-Identifier: MIT */
/*
 * disco.c - service discovery for upload.c and serverinfo.c: one
 * disco#items, then every disco#info in a single flight (one round trip
 * for all candidates), each reply matched on id and sender.
 */
#include <stdlib.h>
#include <string.h>

#include "disco.h"
#include "xml.h"
#include "xmpp.h"

struct flight {
    struct disco *d;
    char id[DISCO_MAX][24];
    int answered[DISCO_MAX];
    size_t pending;
    disco_info_fn fn;
    void *ud;
};

static void add(struct disco *d, const char *jid)
{
    if (jid == NULL || *jid == '\0' || d->n == DISCO_MAX)
        return;
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->jid[i], jid) == 0)
            return;
    d->jid[d->n++] = xstrdup(jid);
}

static int on_info(void *ud,
                   struct xmpp_session *s,
                   const struct xnode *n,
                   struct xs_error *err)
{
    struct flight *f = ud;
    (void)err;
    for (size_t i = 0; i < f->d->n; i++) {
        if (f->answered[i] || !xmpp_is_reply(s, n, f->id[i], f->d->jid[i]))
            continue;
        f->answered[i] = 1;
        f->pending--;
        const char *type = xnode_attr(n, "type");
        if (type != NULL && strcmp(type, "result") == 0)
            f->fn(f->ud, i, xnode_child(n, "query", NS_DISCO_INFO));
        break;
    }
    return f->pending == 0 ? XMPP_WAIT_DONE : XMPP_WAIT_MORE;
}

enum xs_err disco_services(struct xmpp_session *s,
                           const char *what,
                           struct disco *d,
                           disco_info_fn fn,
                           void *ud,
                           struct xs_error *err)
{
    const char *domain = strchr(xmpp_account(s), '@');
    domain = domain != NULL ? domain + 1 : xmpp_account(s);
    memset(d, 0, sizeof *d);
    add(d, domain);
    struct xnode *items = NULL;
    struct xs_error ierr = {0};
    enum xs_err e =
        xmpp_iq(s, "get", domain, "<query xmlns='" NS_DISCO_ITEMS "'/>", what,
                &items, &ierr);
    if (e != XS_OK && items == NULL) {
        /* No answer at all (timeout, closed stream): that is the run's
         * failure.  An error reply only means no items. */
        *err = ierr;
        return e;
    }
    const struct xnode *q =
        e == XS_OK ? xnode_child(items, "query", NS_DISCO_ITEMS) : NULL;
    for (const struct xnode *c = q ? q->children : NULL; c != NULL; c = c->next)
        if (xnode_is(c, "item", NS_DISCO_ITEMS) &&
            xnode_attr(c, "node") == NULL)
            add(d, xnode_attr(c, "jid"));
    xnode_free(items);

    struct flight f = {.d = d, .fn = fn, .ud = ud};
    struct buf b = {0};
    for (size_t i = 0; i < d->n; i++) {
        xmpp_new_id(s, f.id[i], sizeof f.id[i]);
        buf_reset(&b);
        buf_printf(&b, "<iq type='get' id='%s' to='", f.id[i]);
        buf_add_xml(&b, d->jid[i], strlen(d->jid[i]));
        buf_addstr(&b, "'><query xmlns='" NS_DISCO_INFO "'/></iq>");
        xmpp_queue(s, b.data);
    }
    buf_free(&b);
    f.pending = d->n;
    struct xmpp_wait w = {
        .what = what, .need_done = 1, .on_stanza = on_info, .ud = &f};
    return xmpp_flight(s, &w, err);
}

void disco_free(struct disco *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->jid[i]);
    d->n = 0;
}
