/* SPDX-License-Identifier: MIT */
/*
 * muc.h - the group chat job (XEP-0045): join rooms, send one message to
 * each, confirm it by the room's reflection, leave.  Runs on top of the
 * session's general flight (xmpp.h); prints nothing.
 */
#ifndef XMPPSEND_MUC_H
#define XMPPSEND_MUC_H

#include <stddef.h>

#include "util.h"
#include "xmpp.h"

struct muc_opts {
    const char *nick;     /* the nick to ask for (validated) */
    const char *password; /* the rooms' password, or NULL */
    int create;           /* 1: a room that does not exist may be created */
};

/*
 * For each of the 'n' rooms r[i].jid (bare room JIDs, validated): join
 * as o->nick (a taken nick is tried once more with a random suffix),
 * send 'm' as a groupchat message (its subject is not sent: in a room a
 * subject changes the room's topic) and wait for the room's reflection
 * of it.  Joins and messages of all rooms go out in one flight.  A room
 * that did not exist is created only with o->create (then configured as
 * an instant room); otherwise it is destroyed again and the room fails
 * with item-not-found.  The leave presences are queued for xmpp_close.
 *
 * Per-room outcomes are in r[] as for xmpp_send: XMPP_SENT with the
 * message's id, or XMPP_FAILED with the condition and the class:
 * XS_EBOUNCE (no such room), XS_EAUTH (password missing or wrong),
 * XS_ETEMP (room full, type wait), XS_EREFUSED (banned, members only,
 * nick refused or taken, no voice, anything else).  Returns an error
 * only when the session failed (XS_ETEMP at the deadline: a room that
 * does not answer; XS_EPROTO, XS_EIO).
 */
enum xs_err muc_send(struct xmpp_session *s,
                     const struct muc_opts *o,
                     const struct xmpp_message *m,
                     struct xmpp_recipient *r,
                     size_t n,
                     struct xs_error *err);

/*
 * The room JID of operand 'arg' when it is an XMPP URI that asks to join
 * a room ("xmpp:room@service?join", RFC 5122, %-escapes decoded), as an
 * allocated string; NULL when 'arg' is not such a URI.
 */
char *muc_uri_room(const char *arg);

#endif
