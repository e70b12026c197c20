/* SPDX-License-Identifier: MIT */
/*
 * disco.h - finding a service of the account's server (XEP-0030): the
 * jobs that need one (HTTP upload, --serverinfo --login) ask the domain
 * for its items, then the domain and each item for their features, all
 * of those in one flight, and pick from the answers.
 */
#ifndef XMPPSEND_DISCO_H
#define XMPPSEND_DISCO_H

#include "util.h"

struct xmpp_session;
struct xnode;

#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"

/* Entities asked for their features: the domain and its first items. */
#define DISCO_MAX 32

struct disco {
    char *jid[DISCO_MAX]; /* [0]: the domain itself, then its items */
    size_t n;
};

/* Called for each disco#info result: the entity's index in the disco
 * and its <query/> (NULL when the result holds none). */
typedef void (*disco_info_fn)(void *ud, size_t i, const struct xnode *query);

/*
 * disco#items on the account's domain, then disco#info to the domain and to
 * each item (items with a node are left out, a JID is asked once) in one
 * flight; 'fn' sees every result, errors are skipped.  An error reply to
 * disco#items only means no items.  'what' names the step in a timeout
 * message.  Free 'd' with disco_free, whatever the outcome.
 * Used error codes: those of xmpp_iq and xmpp_flight (no answer, the
 * stream closed, the deadline).
 */
enum xs_err disco_services(struct xmpp_session *s,
                           const char *what,
                           struct disco *d,
                           disco_info_fn fn,
                           void *ud,
                           struct xs_error *err);

void disco_free(struct disco *d);

#endif
