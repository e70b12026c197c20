/* SPDX-License-Identifier: MIT */
/*
 * xml.c - XMPP stream parser on libxml2's SAX2 push interface.
 *
 * Depth 1 is <stream:stream> (its attributes are kept as the header),
 * depth 2 a top-level element (stanza, features, nonza, stream error);
 * elements from depth 2 down are built into a small tree and queued when
 * their end tag arrives.  Everything libxml2 does not bound in push mode
 * is bounded here (protocol.md 8.4/8.5): depth, attributes, bytes per
 * top-level element.  DTDs, entity declarations and references, comments
 * and processing instructions stop the parser (RFC 6120 11.1); so do a
 * UTF-16 byte-order mark and NUL bytes (RFC 6120 11.6: UTF-8 only).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "xml.h"

/* libxml2 gets at most this much per xmlParseChunk call, so limits are
 * checked at least this often. */
#define FEED_PIECE 4096

struct xml_parser {
    xmlParserCtxtPtr ctxt;
    int depth;           /* 0 outside the stream, 1 inside its root */
    struct xnode *cur;   /* element being built (depth >= 2) */
    struct xnode *qhead; /* queue of complete top-level elements */
    struct xnode *qtail;
    struct xattr *hdr; /* stream header attributes */
    size_t nhdr;
    int header_seen;
    int closed;
    int stopped;        /* after a restart trigger */
    int started;        /* first byte of this stream seen */
    size_t fed;         /* bytes given to libxml2 in this stream */
    size_t stop_offset; /* where the trigger ended */
    size_t boundary;    /* offset of the last depth-1 boundary */
    size_t stanza_limit;
    struct buf trailing; /* bytes after the trigger */
    struct xs_error err; /* first error seen inside a callback */
    /* Reference scanner state (see check_refs). */
    int in_cdata;
    char ref[12];
    size_t reflen;  /* bytes collected after '&'; 0: not in a reference */
    char recent[9]; /* last bytes seen, for <![CDATA[ and ]]> */
};

static void xattrs_free(struct xattr *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].value);
    }
    free(a);
}

void xnode_free(struct xnode *n)
{
    while (n != NULL) {
        struct xnode *next = n->next;
        xnode_free(n->children);
        free(n->name);
        free(n->ns);
        xattrs_free(n->attrs, n->nattrs);
        buf_free(&n->text);
        free(n);
        n = next;
    }
}

const char *xnode_attr(const struct xnode *n, const char *name)
{
    for (size_t i = 0; n != NULL && i < n->nattrs; i++) {
        if (strcmp(n->attrs[i].name, name) == 0)
            return n->attrs[i].value;
    }
    return NULL;
}

int xnode_is(const struct xnode *n, const char *name, const char *ns)
{
    return n != NULL && strcmp(n->name, name) == 0 &&
           (ns == NULL || strcmp(n->ns, ns) == 0);
}

struct xnode *
xnode_child(const struct xnode *n, const char *name, const char *ns)
{
    for (struct xnode *c = n ? n->children : NULL; c != NULL; c = c->next) {
        if (xnode_is(c, name, ns))
            return c;
    }
    return NULL;
}

const char *xnode_text(const struct xnode *n)
{
    return (n != NULL && n->text.data != NULL) ? n->text.data : "";
}

/* Record the first error and stop libxml2; callbacks cannot return one. */
static void fail(struct xml_parser *p, const char *fmt, ...) XS_PRINTF(2, 3);
static void fail(struct xml_parser *p, const char *fmt, ...)
{
    if (p->err.code == XS_OK) {
        char m[sizeof p->err.msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        xs_seterr(&p->err, XS_EPROTO, "invalid XML from server: %s", m);
    }
    xmlStopParser(p->ctxt);
}

/*
 * Copy an attribute value.  libxml2 2.9.14 without entity substitution
 * hands "&amp;" (and "&#38;") in attribute values over as the five
 * characters "&#38;" (protocol.md 8.4); undo that in one pass.
 */
static char *attr_value(const xmlChar *v, const xmlChar *end)
{
    size_t n = (size_t)(end - v);
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '&' && n - i >= 5 && memcmp(v + i, "&#38;", 5) == 0) {
            out[o++] = '&';
            i += 4;
        } else {
            out[o++] = (char)v[i];
        }
    }
    out[o] = '\0';
    return out;
}

static char *attr_name(const xmlChar *local, const xmlChar *prefix)
{
    if (prefix != NULL)
        return xasprintf("%s:%s", (const char *)prefix, (const char *)local);
    return xstrdup((const char *)local);
}

static void on_start(void *ud,
                     const xmlChar *local,
                     const xmlChar *prefix,
                     const xmlChar *uri,
                     int nns,
                     const xmlChar **nss,
                     int nattrs,
                     int ndefaulted,
                     const xmlChar **attrs)
{
    struct xml_parser *p = ud;
    (void)prefix;
    (void)nns;
    (void)nss;
    (void)ndefaulted;

    if (p->err.code != XS_OK)
        return;
    if (p->depth > XML_MAX_DEPTH) {
        fail(p, "elements nested deeper than %d levels", XML_MAX_DEPTH);
        return;
    }
    if (nattrs > XML_MAX_ATTRS) {
        fail(p, "an element with more than %d attributes", XML_MAX_ATTRS);
        return;
    }
    for (int i = 0; i < nattrs; i++) {
        if (attrs[i * 5 + 4] - attrs[i * 5 + 3] > XML_MAX_ATTR_LEN) {
            fail(p, "an attribute longer than %d bytes", XML_MAX_ATTR_LEN);
            return;
        }
    }

    if (p->depth == 0) {
        /* The stream root: it must be <stream> in the streams namespace
         * (RFC 6120 4.8.1). */
        if (strcmp((const char *)local, "stream") != 0 || uri == NULL ||
            strcmp((const char *)uri, NS_STREAM) != 0) {
            fail(p, "wrong stream root element <%s>", (const char *)local);
            return;
        }
        xattrs_free(p->hdr, p->nhdr);
        p->hdr = xcalloc((size_t)nattrs + 1, sizeof *p->hdr);
        for (int i = 0; i < nattrs; i++) {
            p->hdr[i].name = attr_name(attrs[i * 5], attrs[i * 5 + 1]);
            p->hdr[i].value = attr_value(attrs[i * 5 + 3], attrs[i * 5 + 4]);
        }
        p->nhdr = (size_t)nattrs;
        p->header_seen = 1;
        p->depth = 1;
        p->boundary = (size_t)xmlByteConsumed(p->ctxt);
        return;
    }

    struct xnode *n = xcalloc(1, sizeof *n);
    n->name = xstrdup((const char *)local);
    n->ns = xstrdup(uri ? (const char *)uri : "");
    n->attrs = xcalloc((size_t)nattrs + 1, sizeof *n->attrs);
    for (int i = 0; i < nattrs; i++) {
        n->attrs[i].name = attr_name(attrs[i * 5], attrs[i * 5 + 1]);
        n->attrs[i].value = attr_value(attrs[i * 5 + 3], attrs[i * 5 + 4]);
    }
    n->nattrs = (size_t)nattrs;
    if (p->cur != NULL) {
        n->parent = p->cur;
        if (p->cur->last_child != NULL)
            p->cur->last_child->next = n;
        else
            p->cur->children = n;
        p->cur->last_child = n;
    }
    p->cur = n;
    p->depth++;
}

/* Elements after which the stream restarts (RFC 6120 5.4.3.3, 6.4.6). */
static int is_restart_trigger(const struct xnode *n)
{
    return xnode_is(n, "proceed", NS_TLS) || xnode_is(n, "success", NS_SASL);
}

static void on_end(void *ud,
                   const xmlChar *local,
                   const xmlChar *prefix,
                   const xmlChar *uri)
{
    struct xml_parser *p = ud;
    (void)local;
    (void)prefix;
    (void)uri;

    if (p->err.code != XS_OK)
        return;
    if (p->depth == 1) {
        p->closed = 1;
        p->depth = 0;
        return;
    }
    struct xnode *n = p->cur;
    p->depth--;
    p->cur = n->parent;
    if (p->depth > 1)
        return;

    /* A complete top-level element: queue it. */
    if (p->qtail != NULL)
        p->qtail->next = n;
    else
        p->qhead = n;
    p->qtail = n;
    p->boundary = (size_t)xmlByteConsumed(p->ctxt);
    if (is_restart_trigger(n)) {
        p->stopped = 1;
        p->stop_offset = p->boundary;
        xmlStopParser(p->ctxt);
    }
}

static int all_space(const xmlChar *s, int len)
{
    for (int i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    }
    return 1;
}

static void on_text(void *ud, const xmlChar *s, int len)
{
    struct xml_parser *p = ud;

    if (p->err.code != XS_OK)
        return;
    if (p->depth <= 1) {
        /* Between top-level elements only whitespace (keepalives) is
         * allowed (RFC 6120 4.6.1). */
        if (!all_space(s, len))
            fail(p, "text outside of any element");
        else
            p->boundary = (size_t)xmlByteConsumed(p->ctxt);
        return;
    }
    buf_add(&p->cur->text, s, (size_t)len);
}

/* DOCTYPE, entity declarations, comments, PIs: all banned. */
static void on_internal_subset(void *ud,
                               const xmlChar *name,
                               const xmlChar *ext,
                               const xmlChar *sys)
{
    (void)name;
    (void)ext;
    (void)sys;
    fail(ud, "a DOCTYPE (DTDs are forbidden in XMPP)");
}

static void on_entity_decl(void *ud,
                           const xmlChar *name,
                           int type,
                           const xmlChar *pub,
                           const xmlChar *sys,
                           xmlChar *content)
{
    (void)name;
    (void)type;
    (void)pub;
    (void)sys;
    (void)content;
    fail(ud, "an entity declaration (forbidden in XMPP)");
}

static xmlEntityPtr on_get_entity(void *ud, const xmlChar *name)
{
    fail(ud, "an entity reference &%s; (forbidden in XMPP)",
         (const char *)name);
    return NULL;
}

static void on_reference(void *ud, const xmlChar *name)
{
    fail(ud, "an entity reference &%s; (forbidden in XMPP)",
         (const char *)name);
}

static void on_pi(void *ud, const xmlChar *target, const xmlChar *data)
{
    (void)data;
    fail(ud, "a processing instruction <?%s?> (forbidden)",
         (const char *)target);
}

static void on_comment(void *ud, const xmlChar *value)
{
    (void)value;
    fail(ud, "a comment (forbidden in XMPP)");
}

static void on_error(void *ud, xmlErrorPtr e)
{
    struct xml_parser *p = ud;
    if (e == NULL || e->level == XML_ERR_WARNING || p->err.code != XS_OK)
        return;
    char *msg = text_printable(e->message ? e->message : "",
                               strlen(e->message ? e->message : ""), 120);
    /* libxml2 messages end with a newline, now a '?': drop it. */
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '?')
        msg[--n] = '\0';
    xs_seterr(&p->err, XS_EPROTO, "invalid XML from server: %s", msg);
    free(msg);
}

static void make_ctxt(struct xml_parser *p)
{
    xmlSAXHandler h;
    memset(&h, 0, sizeof h);
    h.initialized = XML_SAX2_MAGIC;
    h.startElementNs = on_start;
    h.endElementNs = on_end;
    h.characters = on_text;
    h.cdataBlock = on_text;
    h.internalSubset = on_internal_subset;
    h.externalSubset = on_internal_subset;
    h.entityDecl = on_entity_decl;
    h.getEntity = on_get_entity;
    h.getParameterEntity = on_get_entity;
    h.reference = on_reference;
    h.processingInstruction = on_pi;
    h.comment = on_comment;
    h.serror = on_error;
    p->ctxt = xmlCreatePushParserCtxt(&h, p, NULL, 0, NULL);
    if (p->ctxt == NULL)
        xs_oom();
    /* Never NOENT, DTDLOAD, HUGE or RECOVER (protocol.md 8.1). */
    xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC);
}

struct xml_parser *xml_parser_new(void)
{
    struct xml_parser *p = xcalloc(1, sizeof *p);
    p->stanza_limit = XML_MAX_STANZA;
    make_ctxt(p);
    return p;
}

static void clear_stream(struct xml_parser *p)
{
    /* An element under construction hangs off its top-level ancestor. */
    struct xnode *top = p->cur;
    while (top != NULL && top->parent != NULL)
        top = top->parent;
    xnode_free(top);
    p->cur = NULL;
    xattrs_free(p->hdr, p->nhdr);
    p->hdr = NULL;
    p->nhdr = 0;
    p->header_seen = p->closed = p->stopped = p->started = 0;
    p->depth = 0;
    p->fed = p->stop_offset = p->boundary = 0;
    p->in_cdata = 0;
    p->reflen = 0;
    memset(p->recent, 0, sizeof p->recent);
    buf_free(&p->trailing);
}

void xml_parser_free(struct xml_parser *p)
{
    if (p == NULL)
        return;
    clear_stream(p);
    xnode_free(p->qhead);
    xmlFreeParserCtxt(p->ctxt);
    free(p);
}

void xml_reset(struct xml_parser *p)
{
    clear_stream(p);
    memset(&p->err, 0, sizeof p->err);
    xmlCtxtResetPush(p->ctxt, NULL, 0, NULL, NULL);
}

void xml_set_stanza_limit(struct xml_parser *p, size_t max)
{
    p->stanza_limit = max;
}

/* Is ref[0..n) (what stood between '&' and ';') a reference XML allows
 * without a DTD: a predefined entity or a character reference? */
static int ref_ok(const char *r, size_t n)
{
    static const char *const predefined[] = {"amp", "lt", "gt", "quot", "apos"};
    for (size_t i = 0; i < sizeof predefined / sizeof predefined[0]; i++) {
        if (strlen(predefined[i]) == n && memcmp(r, predefined[i], n) == 0)
            return 1;
    }
    if (n < 2 || r[0] != '#')
        return 0;
    size_t i = 1;
    int hex = r[1] == 'x';
    if (hex && n < 3)
        return 0;
    for (i = hex ? 2 : 1; i < n; i++) {
        char c = r[i];
        if (!(c >= '0' && c <= '9') &&
            !(hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))))
            return 0;
    }
    return 1;
}

/*
 * libxml2's push parser waits for a ';' after every '&' before it parses
 * on, so a bare '&' makes it buffer the rest of the stream silently.
 * Check references on the raw bytes instead (CDATA sections excepted):
 * a malformed one is an error at once.
 */
static int check_refs(struct xml_parser *p, const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        memmove(p->recent, p->recent + 1, sizeof p->recent - 1);
        p->recent[sizeof p->recent - 1] = c;
        if (p->in_cdata) {
            if (memcmp(p->recent + 6, "]]>", 3) == 0)
                p->in_cdata = 0;
            continue;
        }
        if (memcmp(p->recent, "<![CDATA[", 9) == 0) {
            p->in_cdata = 1;
            continue;
        }
        if (p->reflen > 0) {
            if (c == ';') {
                if (!ref_ok(p->ref + 1, p->reflen - 1))
                    return -1;
                p->reflen = 0;
            } else if (p->reflen == sizeof p->ref ||
                       !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '#')) {
                return -1; /* not a predefined or character reference */
            } else {
                p->ref[p->reflen++] = c;
            }
        } else if (c == '&') {
            p->ref[0] = '&';
            p->reflen = 1;
        }
    }
    return 0;
}

enum xs_err xml_feed(struct xml_parser *p,
                     const char *data,
                     size_t len,
                     struct xs_error *err)
{
    if (p->err.code != XS_OK)
        return xs_seterr(err, p->err.code, "%s", p->err.msg);
    if (p->stopped) {
        buf_add(&p->trailing, data, len);
        return XS_OK;
    }
    if (p->closed)
        return XS_OK; /* nothing may follow </stream:stream>; ignore */

    if (!p->started) {
        /* libxml2 rejects whitespace before the XML declaration. */
        while (len > 0 && (*data == ' ' || *data == '\t' || *data == '\r' ||
                           *data == '\n')) {
            data++;
            len--;
        }
        if (len == 0)
            return XS_OK;
        /* A UTF-16 BOM would switch libxml2 to UTF-16 even with
         * XML_PARSE_IGNORE_ENC (protocol.md 8.4). */
        if ((unsigned char)data[0] == 0xFE || (unsigned char)data[0] == 0xFF)
            return xs_seterr(err, XS_EPROTO,
                             "invalid XML from server: a UTF-16 "
                             "byte-order mark "
                             "(XMPP streams are UTF-8)");
        p->started = 1;
    }
    if (memchr(data, '\0', len) != NULL)
        return xs_seterr(err, XS_EPROTO, "invalid XML from server: a NUL byte");

    while (len > 0) {
        size_t n = len < FEED_PIECE ? len : FEED_PIECE;
        size_t base = p->fed;
        if (check_refs(p, data, n) != 0)
            return xs_seterr(err, XS_EPROTO,
                             "invalid XML from server: a bare '&' or an "
                             "undefined entity reference");
        int rc = xmlParseChunk(p->ctxt, data, (int)n, 0);
        p->fed += n;
        if (p->err.code != XS_OK)
            return xs_seterr(err, p->err.code, "%s", p->err.msg);
        if (p->stopped) {
            /* Keep what followed the trigger; the caller decides. */
            size_t skip = p->stop_offset > base ? p->stop_offset - base : 0;
            if (skip < n)
                buf_add(&p->trailing, data + skip, n - skip);
            buf_add(&p->trailing, data + n, len - n);
            return XS_OK;
        }
        if (rc != 0)
            return xs_seterr(err, XS_EPROTO,
                             "invalid XML from server (libxml2 error %d)", rc);
        if (p->closed)
            return XS_OK;
        if (p->fed - p->boundary > p->stanza_limit + FEED_PIECE)
            return xs_seterr(err, XS_EPROTO,
                             "invalid XML from server: an element "
                             "larger than %zu bytes",
                             p->stanza_limit);
        data += n;
        len -= n;
    }
    return XS_OK;
}

struct xnode *xml_next(struct xml_parser *p)
{
    struct xnode *n = p->qhead;
    if (n != NULL) {
        p->qhead = n->next;
        if (p->qhead == NULL)
            p->qtail = NULL;
        n->next = NULL;
    }
    return n;
}

int xml_header_seen(const struct xml_parser *p)
{
    return p->header_seen;
}

const char *xml_header_attr(const struct xml_parser *p, const char *name)
{
    for (size_t i = 0; i < p->nhdr; i++) {
        if (strcmp(p->hdr[i].name, name) == 0)
            return p->hdr[i].value;
    }
    return NULL;
}

int xml_closed(const struct xml_parser *p)
{
    return p->closed;
}

int xml_stopped(const struct xml_parser *p)
{
    return p->stopped;
}

size_t xml_trailing(const struct xml_parser *p)
{
    return p->trailing.len;
}

const char *xml_trailing_data(const struct xml_parser *p)
{
    return p->trailing.data;
}

const char *xml_library_version(void)
{
    return xmlParserVersion;
}

void xml_cleanup(void)
{
    xmlCleanupParser();
}
