/* SPDX-License-Identifier: MIT */
/*
 * replay.h - a scripted server behind 'struct xs_io', for unit tests and
 * fuzzers: the server's bytes come in segments, the next segment is
 * released by the client's STARTTLS (a real server sends nothing between
 * <proceed/> and the handshake).  Reads can be cut into small pieces to
 * exercise every byte boundary.  Everything the client writes is kept.
 * Header-only (static functions): include it from one test file.
 */
#ifndef XMPPSEND_REPLAY_H
#define XMPPSEND_REPLAY_H

#include <string.h>

#include "util.h"
#include "xmpp.h"

struct replay {
    const char *const *seg; /* server bytes, one string per segment */
    const size_t *seglen;   /* lengths (NULL: strlen) */
    size_t nseg;
    size_t cur, off;
    size_t chunk;       /* max bytes per read; 0: no limit */
    size_t first_split; /* >0: first read of a segment returns this many */
    int first_done;
    int fail_starttls;
    int tls_started;
    size_t written_at_tls;  /* bytes written before STARTTLS */
    struct buf written;     /* everything the client wrote */
    size_t delivered;       /* bytes handed to the client so far */
    const char *fail_write; /* a write containing this fails (reset) */
    long close_at;          /* 'delivered' when </stream:stream> was
                             * written; -1 before */
};

static size_t replay_seglen(const struct replay *r, size_t i)
{
    return r->seglen != NULL ? r->seglen[i] : strlen(r->seg[i]);
}

static long replay_read(
    void *ctx, char *buf, size_t n, int timeout_ms, struct xs_error *err)
{
    struct replay *r = ctx;
    (void)timeout_ms;
    (void)err;
    if (r->cur >= r->nseg)
        return 0;
    size_t left = replay_seglen(r, r->cur) - r->off;
    if (left == 0) /* wait for STARTTLS, or the end of the script */
        return r->cur + 1 < r->nseg ? XS_IO_TIMEOUT : 0;
    if (!r->first_done && r->first_split > 0 && r->first_split < left)
        left = r->first_split;
    r->first_done = 1;
    if (r->chunk > 0 && left > r->chunk)
        left = r->chunk;
    if (left > n)
        left = n;
    memcpy(buf, r->seg[r->cur] + r->off, left);
    r->off += left;
    r->delivered += left;
    return (long)left;
}

static enum xs_err replay_write(
    void *ctx, const char *buf, size_t n, int timeout_ms, struct xs_error *err)
{
    struct replay *r = ctx;
    (void)timeout_ms;
    if (r->fail_write != NULL) {
        struct buf t = {0};
        buf_add(&t, buf, n);
        int hit = strstr(t.data, r->fail_write) != NULL;
        buf_free(&t);
        if (hit)
            return xs_seterr(err, XS_ETEMP, "replay: connection reset");
    }
    buf_add(&r->written, buf, n);
    if (r->close_at < 0 && r->written.data != NULL &&
        strstr(r->written.data, "</stream:stream>") != NULL)
        r->close_at = (long)r->delivered;
    return XS_OK;
}

static enum xs_err
replay_starttls(void *ctx, int timeout_ms, struct xs_error *err)
{
    struct replay *r = ctx;
    (void)timeout_ms;
    if (r->fail_starttls)
        return xs_seterr(err, XS_EREFUSED, "replay: TLS refused");
    /* Like tls.c: bytes already waiting before the ClientHello. */
    if (r->cur < r->nseg && r->off < replay_seglen(r, r->cur))
        return xs_seterr(err, XS_EPROTO, "replay: bytes after <proceed/>");
    r->tls_started = 1;
    r->written_at_tls = r->written.len;
    r->cur++;
    r->off = 0;
    r->first_done = 0;
    return XS_OK;
}

static void replay_shutdown(void *ctx)
{
    (void)ctx;
}

/* What the client wrote so far. */
static inline const struct buf *replay_written(const struct replay *r)
{
    return &r->written;
}

static void replay_io(struct replay *r, struct xs_io *io)
{
    io->read = replay_read;
    io->write = replay_write;
    io->starttls = replay_starttls;
    io->shutdown = replay_shutdown;
    io->channel_binding = NULL; /* no TLS: no channel binding */
    io->tls_version = NULL;
    io->ctx = r;
}

#endif
