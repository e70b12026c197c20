/* SPDX-License-Identifier: MIT */
/*
 * xml.h - the XMPP stream parser: libxml2's push parser behind a small
 * interface that turns server bytes into a queue of complete top-level
 * elements (stanzas, features, nonzas), each a small tree.  Enforces the
 * limits of protocol.md section 8.5 and refuses DTDs, entities, comments
 * and processing instructions (RFC 6120 section 11.1).
 */
#ifndef XMPPSEND_XML_H
#define XMPPSEND_XML_H

#include <stddef.h>

#include "util.h"

#define NS_STREAM "http://etherx.jabber.org/streams"
#define NS_CLIENT "jabber:client"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define NS_STREAMS "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_SM "urn:xmpp:sm:3"
#define NS_PING "urn:xmpp:ping"
#define NS_ROSTER "jabber:iq:roster"

/* Limits on what a server may send (protocol.md 8.5). */
#define XML_MAX_DEPTH 32           /* elements below the stream root */
#define XML_MAX_ATTRS 64           /* attributes per element */
#define XML_MAX_ATTR_LEN 16384     /* bytes per attribute value */
#define XML_MAX_STANZA 262144      /* bytes per top-level element */
#define XML_MAX_STANZA_BIG 4194304 /* ... while a roster is expected */

struct xattr {
    char *name; /* local name; "xml:lang" keeps its prefix */
    char *value;
};

/* One element; the tree below a top-level element. */
struct xnode {
    char *name; /* local name */
    char *ns;   /* namespace URI, "" when none */
    struct xattr *attrs;
    size_t nattrs;
    struct buf text; /* concatenated character data directly inside */
    struct xnode *children;
    struct xnode *last_child;
    struct xnode *next;
    struct xnode *parent;
};

/* Attribute value or NULL. */
const char *xnode_attr(const struct xnode *n, const char *name);
/* First child with this local name and namespace (ns NULL: any). */
struct xnode *
xnode_child(const struct xnode *n, const char *name, const char *ns);
/* Does 'n' have this name and namespace? */
int xnode_is(const struct xnode *n, const char *name, const char *ns);
/* Text of 'n' ("" when none); not allocated. */
const char *xnode_text(const struct xnode *n);
void xnode_free(struct xnode *n);

struct xml_parser; /* opaque */

struct xml_parser *xml_parser_new(void);
void xml_parser_free(struct xml_parser *p);

/*
 * Feed server bytes.  Complete top-level elements are queued (take them
 * with xml_next).  After a stream-restart trigger (<proceed/> of
 * STARTTLS, <success/> of SASL) the parser stops: bytes after the
 * trigger are not parsed; xml_trailing() tells how many there were and
 * xml_reset() starts a new stream.  Bytes fed while stopped only count
 * as trailing.
 * Used error codes: XS_EPROTO (malformed XML, forbidden construct,
 * limit exceeded).
 */
enum xs_err xml_feed(struct xml_parser *p,
                     const char *data,
                     size_t len,
                     struct xs_error *err);

/* Next queued element (caller owns it), or NULL. */
struct xnode *xml_next(struct xml_parser *p);

/* Has the stream header arrived?  Its attributes (or NULL). */
int xml_header_seen(const struct xml_parser *p);
const char *xml_header_attr(const struct xml_parser *p, const char *name);

/* Did the server close its stream (</stream:stream>)? */
int xml_closed(const struct xml_parser *p);

/* Stopped after a restart trigger?  Bytes received after it. */
int xml_stopped(const struct xml_parser *p);
size_t xml_trailing(const struct xml_parser *p);
/* Copy of the bytes received after the trigger (not NUL-terminated). */
const char *xml_trailing_data(const struct xml_parser *p);

/* Begin a new stream (after STARTTLS or SASL): parser state is cleared. */
void xml_reset(struct xml_parser *p);

/* Per top-level element byte cap (XML_MAX_STANZA by default). */
void xml_set_stanza_limit(struct xml_parser *p, size_t max);

/* libxml2 runtime version, e.g. "20914". */
const char *xml_library_version(void);

/* Release libxml2's global state (at exit, for leak checkers). */
void xml_cleanup(void);

#endif
