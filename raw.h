/* SPDX-License-Identifier: MIT */
/*
 * raw.h - --raw: stanzas written by the user (<message/>, <presence/>,
 * <iq/> read from standard input), checked and re-serialised before
 * anything is sent, then sent in one flight after login; IQ replies are
 * collected by id.  Nothing is printed here.
 */
#ifndef XMPPSEND_RAW_H
#define XMPPSEND_RAW_H

#include <stddef.h>

#include "util.h"
#include "xmpp.h"

enum raw_kind { RAW_MESSAGE, RAW_PRESENCE, RAW_IQ };

struct raw_stanza {
    enum raw_kind kind;
    struct xnode *node;  /* the parsed stanza (owned) */
    char *id;            /* allocated: its id, ours when it had none */
    const char *to;      /* its 'to' (in node), or NULL */
    struct xnode *reply; /* IQ: the reply (owned), NULL until it came */
    int rcpt;            /* message: its index in the batch's r[] */
};

struct raw_batch {
    struct raw_stanza *st;
    size_t n;
    /* One entry per <message/>, for bounces (xmpp_bounce); jid points
     * into the stanza's node or to the account. */
    struct xmpp_recipient *r;
    size_t nr;
};

/*
 * Parse 'len' bytes of user input into *out: a sequence of <message/>,
 * <presence/> and <iq/> elements in the jabber:client namespace, checked
 * by the stream parser (xml.c: well-formed, no DTD, entities, comments or
 * processing instructions, bounded).  Refused: any other element (stream
 * level or not), an unfinished element, </stream:stream>, text between
 * stanzas, an <iq/> that is not a get or set with one payload, a 'to'
 * that is not a JID, a duplicate IQ id, text mixed with elements,
 * attributes with a namespace prefix other than xml:.  Free with
 * raw_free.  Used error codes: XS_EDATA.
 */
enum xs_err raw_parse(const char *in,
                      size_t len,
                      struct raw_batch **out,
                      struct xs_error *err);

/*
 * Send the batch in one flight (stanzas without an id get one) and wait
 * for the ping reply (messages, presences) and every IQ reply.  Returns
 * XS_OK when all arrived; the outcome of each stanza is in the batch (IQ
 * replies, bounced messages in r[]).  Used error codes: those of
 * xmpp_flight.
 */
enum xs_err
raw_run(struct xmpp_session *s, struct raw_batch *b, struct xs_error *err);

/* The error class and condition of an IQ error reply ('cond' is not
 * allocated; "" when absent): XS_ETEMP for type wait, else XS_EREFUSED
 * (as xmpp_iq). */
enum xs_err raw_iq_error(const struct xnode *reply, const char **cond);

/*
 * 'n' as XML on one line: namespaces declared where they change
 * (jabber:client at the top is implied), attribute values and text
 * escaped, line breaks, tabs and C1 controls as character references.
 * Allocated.
 */
char *raw_line(const struct xnode *n);

void raw_free(struct raw_batch *b);

#endif
