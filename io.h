/* SPDX-License-Identifier: MIT */
/*
 * io.h - the one seam every network byte goes through: 'struct xs_io'.
 * The session (xmpp.c) uses it; the transport (tls.c, net.c) fills it;
 * tests and fuzzers replace it with canned bytes.  No session types.
 */
#ifndef XMPPSEND_IO_H
#define XMPPSEND_IO_H

#include <stddef.h>

#include "util.h"

/* Returned by xs_io.read when the time given ran out. */
#define XS_IO_TIMEOUT (-2)

struct xs_io {
    /*
     * Read up to 'n' bytes, waiting at most 'timeout_ms'.  Returns the
     * number of bytes (> 0), 0 at end of stream, XS_IO_TIMEOUT, or -1
     * with 'err' set.
     */
    long (*read)(
        void *ctx, char *buf, size_t n, int timeout_ms, struct xs_error *err);
    /* Write all 'n' bytes within 'timeout_ms'. */
    enum xs_err (*write)(void *ctx,
                         const char *buf,
                         size_t n,
                         int timeout_ms,
                         struct xs_error *err);
    /*
     * Upgrade the connection to TLS (after <proceed/>): handshake and
     * certificate verification against the JID's domain.
     * Used error codes: XS_EREFUSED (certificate, policy), XS_ETEMP
     * (timeout, reset), XS_EPROTO (cleartext waiting before the
     * handshake), XS_EIO.  NULL: the connection is TLS from its first
     * byte (XEP-0368 direct TLS), verified already; the session sends
     * no <starttls/>.
     */
    enum xs_err (*starttls)(void *ctx, int timeout_ms, struct xs_error *err);
    /* Orderly shutdown of the write side (TLS close_notify); no wait. */
    void (*shutdown)(void *ctx);
    /*
     * Channel-binding data of the TLS session for SCRAM-*-PLUS: 'type'
     * is a cb-name ("tls-exporter" RFC 9266, "tls-server-end-point"
     * RFC 5929 4, "tls-unique" RFC 5929 3, TLS 1.2 with extended master
     * secret only).  Appends the bytes to 'out' and returns 0, or -1
     * when this session cannot give that type.  May be NULL: a
     * transport without channel binding (tests), as if no TLS.
     */
    int (*channel_binding)(void *ctx, const char *type, struct buf *out);
    /* Negotiated TLS version: 13, 12, or 0 before TLS.  May be NULL. */
    int (*tls_version)(void *ctx);
    void *ctx;
};

#endif
