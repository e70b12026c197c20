/* SPDX-License-Identifier: MIT */
/*
 * receipts.h - what may follow a send in the same session: waiting for
 * the recipients' delivery receipts (XEP-0184, --receipt) and for bounces
 * that arrive after the server confirmed (--wait: another server's
 * remote-server-not-found comes late).  One flight (xmpp_flight) with a
 * stanza handler; nothing is printed here.
 */
#ifndef XMPPSEND_RECEIPTS_H
#define XMPPSEND_RECEIPTS_H

#include <stddef.h>

#include "util.h"
#include "xmpp.h"

#define XMPP_NS_RECEIPTS "urn:xmpp:receipts"

struct receipts {
    struct xmpp_recipient *r; /* not owned */
    size_t n;
    int want;           /* receipts requested */
    struct xmpp_wait w; /* the handler, also watching xmpp_send's wait */
};

/*
 * Prepare 'rc' for the recipients 'r' of message 'm' (both must outlive
 * it): with 'want' set, each message requests a receipt and receipts that
 * arrive while xmpp_send waits count too.  Call before xmpp_send.
 */
void receipts_init(struct receipts *rc,
                   struct xmpp_message *m,
                   struct xmpp_recipient *r,
                   size_t n,
                   int want);

/*
 * After xmpp_send confirmed: wait until 'until' (an xs_now_ms() time,
 * kept a moment before the run's 'deadline') or until every recipient is
 * settled: its receipt arrived (r->received) or it bounced (XMPP_FAILED,
 * coded as by xmpp_send).  A receipt counts only from the recipient's
 * own account (bare JID) and for that recipient's message id.  Returns
 * XS_OK when the wait ended (settled or not); the caller reads the
 * recipients.  Used error codes: those of xmpp_flight.
 */
enum xs_err receipts_wait(struct xmpp_session *s,
                          struct receipts *rc,
                          long long until,
                          long long deadline,
                          struct xs_error *err);

#endif
