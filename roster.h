/* SPDX-License-Identifier: MIT */
/*
 * roster.h - roster management and presence subscriptions (RFC 6121 2
 * and 3) as jobs on top of the session's flight: --roster-add,
 * --roster-remove, --subscribe, --approve, --unsubscribe, --deny, run in
 * command line order, each confirmed by the server before the next.
 */
#ifndef XMPPSEND_ROSTER_H
#define XMPPSEND_ROSTER_H

#include <stddef.h>

#include "opts.h"
#include "util.h"
#include "xmpp.h"

enum roster_op {
    ROSTER_ADD,         /* roster set: add or update (2.3, 2.4) */
    ROSTER_REMOVE,      /* roster set, subscription='remove' (2.5) */
    ROSTER_SUBSCRIBE,   /* [roster set,] presence subscribe (3.1) */
    ROSTER_APPROVE,     /* presence subscribed (3.1.4, 3.4) */
    ROSTER_UNSUBSCRIBE, /* presence unsubscribe (3.3) */
    ROSTER_DENY         /* presence unsubscribed (3.2) */
};

struct roster_action {
    enum roster_op op;
    const char *jid; /* not owned: a checked bare JID */
    char *name;      /* ROSTER_ADD: allocated, sanitised; NULL: none */
    char **groups;   /* ROSTER_ADD: allocated, sanitised */
    size_t ngroups;
    /* out */
    int existed;     /* ROSTER_ADD: it was in the roster: "updated" */
    int failed;      /* this action failed (the run stopped here) */
    char *condition; /* failed: allocated stanza error condition */
};

struct roster_plan {
    struct roster_action *a;
    size_t n;
    size_t changed; /* characters replaced or removed by sanitising */
};

/*
 * Turn the repeated options 'seq' (command line order) into actions.
 * --name and --group belong to the --roster-add right before them
 * (several --group, one --name); anywhere else, or twice, is a usage
 * error.  Values are checked by opts_check already; names and groups
 * are sanitised like the subject.  'seq' must outlive the plan.
 * Used error codes: XS_EUSAGE.
 */
enum xs_err roster_plan_build(const struct opt_use *seq,
                              size_t n,
                              struct roster_plan *p,
                              struct xs_error *err);
void roster_plan_free(struct roster_plan *p);

/* The option of an action ("roster-add", ...), and the word of its
 * result line ("added", "updated", "removed", "subscribe-sent",
 * "approved", "unsubscribed", "denied"). */
const char *roster_op_name(enum roster_op op);
const char *roster_result(const struct roster_action *a);

/* The payload of the roster set for 'a' (ADD, REMOVE, SUBSCRIBE: a plain
 * item), or the whole presence stanza with id 'id'. */
void roster_query_xml(struct buf *b, const struct roster_action *a);
void roster_presence_xml(struct buf *b,
                         const struct roster_action *a,
                         const char *id);

/*
 * The class of a stanza error of type 'type' and condition 'cond' (RFC
 * 6120 8.3): type wait -> XS_ETEMP; item-not-found (and for presence the
 * other "no such contact" conditions) -> XS_EBOUNCE; bad-request,
 * jid-malformed -> XS_EDATA; the rest -> XS_EREFUSED.
 */
enum xs_err
roster_error_class(int presence, const char *type, const char *cond);

/*
 * Run the plan on a logged-in session, in order, stopping at the first
 * failure (its action gets 'failed' and 'condition').  'done' is called
 * after each confirmed action, so its result line is out before the next
 * one runs.  The roster is read first when an action needs it (add,
 * remove, subscribe); --approve without server pre-approval support
 * reads it after the presence to see that the subscription changed.
 * Used error codes: XS_EBOUNCE, XS_EDATA, XS_EREFUSED, XS_ETEMP and the
 * session's.
 */
enum xs_err roster_run(struct xmpp_session *s,
                       struct roster_plan *p,
                       void (*done)(void *ud, const struct roster_action *a),
                       void *ud,
                       struct xs_error *err);

#endif
