/* SPDX-License-Identifier: MIT */
/*
 * receipts.c - after a send: delivery receipts (XEP-0184) and late
 * bounces, in one flight with a stanza handler.
 *
 * The server's confirmation (the ping reply behind the messages, RFC
 * 6120 10.1) says that it accepted the messages, not that anybody read
 * them: a receipt is the recipient's client saying so (XEP-0184 5).  A
 * bounce from a remote domain comes after the confirmation when the
 * server had to try server-to-server first (RFC 6120 8.3.3.15
 * remote-server-not-found), so a one-shot run that closes at once would
 * report a typo in a domain as success.
 */
#include <string.h>

#include "jid.h"
#include "receipts.h"
#include "xml.h"

/* Leave this much of the run's deadline for the close. */
#define CLOSE_MARGIN_MS 500

/* A recipient we no longer wait for: confirmed by its client, or
 * bounced. */
static int settled(const struct xmpp_recipient *r)
{
    return r->status == XMPP_FAILED || r->received;
}

static int all_settled(const struct receipts *rc)
{
    for (size_t i = 0; i < rc->n; i++) {
        if (!settled(&rc->r[i]))
            return 0;
    }
    return 1;
}

/*
 * <message from='bob@example.org/res'><received xmlns='urn:xmpp:receipts'
 * id='ID'/></message>: mark the recipient whose message had id ID, if
 * the receipt comes from that recipient's account.  Early versions of
 * XEP-0184 put the id only on the message.
 */
static void receipt(struct receipts *rc, const struct xnode *m)
{
    const struct xnode *rcv = xnode_child(m, "received", XMPP_NS_RECEIPTS);
    const char *from = xnode_attr(m, "from");
    const char *id = xnode_attr(rcv, "id");
    if (rcv == NULL || from == NULL)
        return;
    if (id == NULL)
        id = xnode_attr(m, "id");
    for (size_t i = 0; id != NULL && i < rc->n; i++) {
        struct xmpp_recipient *r = &rc->r[i];
        if (r->status != XMPP_FAILED && strcmp(r->id, id) == 0 &&
            jid_bare_eq(from, r->jid))
            r->received = 1;
    }
}

static int on_stanza(void *ud,
                     struct xmpp_session *s,
                     const struct xnode *n,
                     struct xs_error *err)
{
    struct receipts *rc = ud;
    const char *type = xnode_attr(n, "type");
    (void)s;
    (void)err;
    if (!xnode_is(n, "message", NS_CLIENT))
        return XMPP_WAIT_MORE;
    if (type != NULL && strcmp(type, "error") == 0)
        xmpp_bounce(rc->r, rc->n, n);
    else
        receipt(rc, n);
    return all_settled(rc) ? XMPP_WAIT_DONE : XMPP_WAIT_MORE;
}

void receipts_init(struct receipts *rc,
                   struct xmpp_message *m,
                   struct xmpp_recipient *r,
                   size_t n,
                   int want)
{
    memset(rc, 0, sizeof *rc);
    rc->r = r;
    rc->n = n;
    rc->want = want;
    rc->w.what = "waiting for delivery receipts";
    rc->w.on_stanza = on_stanza;
    rc->w.ud = rc;
    m->receipt = want;
    /* xmpp_send's wait: receipts may overtake the server's confirmation
     * (not its bounces, which xmpp_send handles). */
    m->watch = &rc->w;
}

enum xs_err receipts_wait(struct xmpp_session *s,
                          struct receipts *rc,
                          long long until,
                          long long deadline,
                          struct xs_error *err)
{
    if (until > deadline - CLOSE_MARGIN_MS)
        until = deadline - CLOSE_MARGIN_MS;
    if (all_settled(rc) || until <= xs_now_ms())
        return XS_OK;
    /* Nothing to write and no ping: a wait for stanzas only, which ends
     * when all are settled (need_done) or at 'until' (expired). */
    rc->w.ping = 0;
    rc->w.need_done = 1;
    rc->w.until = until;
    rc->w.what =
        rc->want ? "waiting for delivery receipts" : "waiting for late bounces";
    return xmpp_flight(s, &rc->w, err);
}
