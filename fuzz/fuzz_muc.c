/* SPDX-License-Identifier: MIT */
/*
 * fuzz_muc.c - libFuzzer target for the group chat job (muc.c) on top of
 * the whole session: login as in fuzz_session.c (same input format, same
 * RFC 5802 account and nonce, so seeds get through authentication), then
 * muc_send to one or two rooms.  Stanza ids are "xs-N" (the bind is
 * xs-1, the first join xs-2 and its message xs-3).
 *
 * Input: byte 0 flags, then the server's bytes, segments separated by
 * NUL bytes (segment 0 before TLS, segment 1 after the handshake).
 *   flags & 1     --create-room
 *   flags & 2     two rooms instead of one
 *   flags & 4     a room password
 *   flags & 8     a trace callback (must never see the room password)
 *   flags >> 5    read size: unlimited, 1, 2, 3, 7, 16, 64, 512 bytes
 *
 * Checks besides the sanitizers: no server makes the job report an
 * internal error; a job that returns XS_OK has a verdict for every room;
 * server text handed to the caller is printable; the room password is
 * never traced; the job never writes </stream:stream>.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muc.h"
#include "util.h"
#include "xml.h"
#include "xmpp.h"

#include "../tests/unit/replay.h"

#define MAX_SEGMENTS 4
#define ROOM_PASSWORD "r00m-s3cret"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    xml_parser_free(xml_parser_new()); /* libxml2 global setup */
    return 0;
}

static int contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; hay != NULL && i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    }
    return 0;
}

static void trace_check(void *ud, char dir, const char *d, size_t n)
{
    (void)ud;
    if ((dir != XMPP_TRACE_SENT && dir != XMPP_TRACE_RECV &&
         dir != XMPP_TRACE_NOTE) ||
        n == 0)
        abort();
    if (dir == XMPP_TRACE_SENT && contains(d, n, ROOM_PASSWORD))
        abort();
}

static void check_printable(const char *s)
{
    if (s == NULL)
        return;
    size_t n = strlen(s);
    if (!utf8_valid(s, n))
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f ||
            (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[8] = {0, 1, 2, 3, 7, 16, 64, 512};
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    const char *seg[MAX_SEGMENTS];
    size_t seglen[MAX_SEGMENTS];
    size_t nseg = 0, start = 0;
    for (size_t i = 0; i <= len && nseg < MAX_SEGMENTS; i++) {
        if (i == len || in[i] == '\0') {
            seg[nseg] = in + start;
            seglen[nseg] = i - start;
            nseg++;
            start = i + 1;
        }
    }

    struct replay rp = {.seg = (const char *const *)seg,
                        .seglen = seglen,
                        .nseg = nseg,
                        .chunk = chunks[flags >> 5],
                        .close_at = -1};
    struct xs_io io;
    replay_io(&rp, &io);
    struct xmpp_config cfg = {
        .jid = "user@example.com",
        .password = "pencil",
        .deadline = xs_now_ms() + 2000,
        .timeout_s = 2,
        .trace = (flags & 8) ? trace_check : NULL,
        .test_cnonce = "fyko+d2lbbFgONRv9qkxdawL",
    };
    struct xmpp_message m = {.body = "hi & <bye>", .type = "chat"};
    struct muc_opts o = {.nick = "user",
                         .password = (flags & 4) ? ROOM_PASSWORD : NULL,
                         .create = (flags & 1) != 0};
    struct xmpp_recipient r[2];
    memset(r, 0, sizeof r);
    r[0].jid = "room@conference.example.com";
    r[1].jid = "other@conference.example.com";
    size_t nr = (flags & 2) ? 2 : 1;
    struct xs_error err = {0};

    struct xmpp_session *s = xmpp_new(&cfg, &io);
    enum xs_err e = xmpp_login(s, &err);
    int logged_in = e == XS_OK;
    if (logged_in)
        e = muc_send(s, &o, &m, r, nr, &err);
    const struct buf *out = replay_written(&rp);
    if (logged_in && e == XS_OK && contains(out->data, out->len, "</stream:"))
        abort();
    xmpp_close(s);

    if (verbose)
        fprintf(stderr, "fuzz_muc: login %d, result %d, rooms %d/%d: %s\n",
                logged_in, e, r[0].status, r[1].status, err.msg);

    if (e == XS_ESOFTWARE)
        abort();
    if (e != XS_OK && (err.code != e || err.msg[0] == '\0'))
        abort();
    for (size_t i = 0; i < nr; i++) {
        if (logged_in && e == XS_OK && r[i].status == XMPP_PENDING)
            abort();
        if (r[i].status == XMPP_FAILED &&
            (r[i].condition == NULL || r[i].text == NULL || r[i].code == 0))
            abort();
        check_printable(r[i].condition);
        check_printable(r[i].errtype);
        check_printable(r[i].text);
    }

    xmpp_recipients_clear(r, 2);
    xmpp_free(s);
    buf_free(&rp.written);
    return 0;
}
