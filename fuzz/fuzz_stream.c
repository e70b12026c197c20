/* SPDX-License-Identifier: MIT */
/*
 * fuzz_stream.c - libFuzzer target for the stream parser (xml.c): server
 * bytes go to xml_feed() in pieces whose sizes the first input bytes
 * choose, complete elements are drained with xml_next() after every
 * piece, and a restart trigger (<proceed/>, <success/>) is handled the
 * way xmpp.c handles <success/>: reset the parser and feed it what
 * followed the trigger.
 *
 * Input: byte 0 flags, byte 1 piece-size seed, then the server's bytes.
 *   flags & 3   0 whole input in one call, 1 fixed pieces of (seed+1)
 *               bytes, 2 pseudo-random pieces of 1..seed+1 bytes, 3 one
 *               byte at a time
 *   flags & 4   tiny stanza limit (exercises the size cap)
 *   flags & 8   stop at <proceed/> with trailing bytes, as xmpp.c does
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* libxml2's one-time global setup, so it is not counted per input. */
    xml_parser_free(xml_parser_new());
    return 0;
}

/* Walk a tree the way xmpp.c does; checks the invariants it relies on. */
static size_t walk(const struct xnode *n, int depth)
{
    size_t count = 0;
    for (; n != NULL; n = n->next) {
        if (n->name == NULL || n->ns == NULL || depth > XML_MAX_DEPTH ||
            n->nattrs > XML_MAX_ATTRS)
            abort();
        for (size_t i = 0; i < n->nattrs; i++) {
            if (n->attrs[i].name == NULL || n->attrs[i].value == NULL ||
                xnode_attr(n, n->attrs[i].name) == NULL)
                abort();
        }
        (void)xnode_text(n);
        (void)xnode_child(n, "jid", NULL);
        (void)xnode_is(n, "message", NS_CLIENT);
        count += 1 + walk(n->children, depth + 1);
    }
    return count;
}

static int drain(struct xml_parser *p, int *proceed)
{
    struct xnode *n;
    while ((n = xml_next(p)) != NULL) {
        if (n->parent != NULL || n->next != NULL)
            abort();
        if (xnode_is(n, "proceed", NS_TLS))
            *proceed = 1;
        (void)walk(n, 1);
        xnode_free(n);
    }
    (void)xml_header_attr(p, "from");
    (void)xml_header_attr(p, "version");
    return xml_closed(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0], seed = data[1];
    const char *in = (const char *)data + 2;
    size_t len = size - 2;
    uint32_t rng = seed * 2654435761u + 1;

    struct xml_parser *p = xml_parser_new();
    struct xs_error err = {0};
    struct buf pending = {0}; /* trailing bytes re-fed after a restart */
    if (flags & 4)
        xml_set_stanza_limit(p, 64);

    size_t off = 0;
    int done = 0;
    while (!done && (off < len || pending.len > 0)) {
        const char *piece;
        size_t n;
        if (pending.len > 0) {
            /* xmpp.c feeds the trailing bytes in one call. */
            piece = pending.data;
            n = pending.len;
        } else {
            switch (flags & 3) {
            case 0:
                n = len - off;
                break;
            case 1:
                n = (size_t)seed + 1;
                break;
            case 2:
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                n = 1 + rng % ((size_t)seed + 1);
                break;
            default:
                n = 1;
                break;
            }
            if (n > len - off)
                n = len - off;
            piece = in + off;
            off += n;
        }
        struct buf fed = {0};
        buf_add(&fed, piece, n); /* exact-size copy: overreads show up */
        buf_reset(&pending);
        enum xs_err e = xml_feed(p, fed.data, fed.len, &err);
        buf_free(&fed);
        if (e != XS_OK) {
            if (err.code != e || err.msg[0] == '\0')
                abort();
            break;
        }
        int proceed = 0;
        if (drain(p, &proceed))
            break;
        if (!xml_stopped(p))
            continue;
        if (xml_trailing(p) > 0 && xml_trailing_data(p) == NULL)
            abort();
        /* <proceed/> with bytes behind it is an injection: xmpp.c stops. */
        if ((flags & 8) && proceed && xml_trailing(p) > 0)
            done = 1;
        buf_add(&pending, xml_trailing_data(p), xml_trailing(p));
        xml_reset(p);
        if (xml_header_seen(p) || xml_stopped(p) || xml_trailing(p) != 0)
            abort();
    }
    buf_free(&pending);
    xml_parser_free(p);
    return 0;
}
