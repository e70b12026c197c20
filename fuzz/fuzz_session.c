/* SPDX-License-Identifier: MIT */
/*
 * fuzz_session.c - libFuzzer target for the whole client session
 * (xmpp.c over xml.c and sasl.c): the server is a replay script
 * (tests/unit/replay.h) made from the input.  The account and the SCRAM
 * client nonce are those of the RFC 5802 example (user "user", password
 * "pencil", nonce "fyko+d2lbbFgONRv9qkxdawL"), so seeds made by
 * fuzz/make_corpus.py get through authentication.
 *
 * Input: byte 0 flags, then the server's bytes; NUL bytes (never valid
 * in XML) separate the segments: segment 0 is what the server sends
 * before TLS, segment 1 is released by the STARTTLS handshake.
 *   flags & 1     roster instead of sending a message
 *   flags & 2     two recipients instead of one; with 1: an IQ request
 *                 (disco#info to the account's domain) instead of both
 *   flags & 4     PLAIN allowed (a verified connection), and FAST
 *                 (XEP-0484) on, with an account state holding the token
 *                 FUZZ_TOKEN for HT-SHA-256-NONE; with 2: no token yet
 *   flags & 8     a trace callback (exercises the redaction)
 *   flags & 16    ask for a resource
 *   flags >> 5    read size: unlimited, 1, 2, 3, 7, 16, 64, 512 bytes
 *
 * Besides the sanitizers it checks the security properties a hostile
 * server must not be able to break: nothing but the stream header and
 * <starttls/> before TLS, no stanza before SASL success, and no control
 * character in the server-supplied text handed to the caller.  And the
 * session's own promises: no server makes it report an internal error
 * (XS_ESOFTWARE, exit 70), no job closes the stream (xmpp_close does,
 * after it), and no <presence/> is ever sent.  SASL2 (XEP-0388) is
 * on, as by default; the FAST token never goes out, and a token the
 * session keeps is printable ASCII without blanks.  Each input then goes
 * to --serverinfo's probe too (probe(), below).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>

#include "state.h"
#include "util.h"
#include "xml.h"
#include "xmpp.h"

#include "../tests/unit/replay.h"

#define MAX_SEGMENTS 4
/* The saved FAST token of flag 4 (fuzz/make_corpus.py uses it too). */
#define FUZZ_TOKEN "fuzz-fast-token-7Qx"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_VERBOSE=1 in the environment: print each outcome (for checking
 * that the seeds get where they should). */
static int verbose;
/* A state's lock: FAST wants one (any open descriptor will do). */
static int lockfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    xml_parser_free(xml_parser_new()); /* libxml2 global setup */
    lockfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return 0;
}

static void trace_noop(void *ud, char dir, const char *d, size_t n)
{
    size_t *total = ud;
    if ((dir != XMPP_TRACE_SENT && dir != XMPP_TRACE_RECV &&
         dir != XMPP_TRACE_NOTE) ||
        n == 0)
        abort();
    /* Touch both ends: ASan checks the length. */
    *total += n + (unsigned char)d[0] + (unsigned char)d[n - 1];
}

static int contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    }
    return 0;
}

/* Server text shown to the user: no C0/DEL/C1 (and valid UTF-8 when
 * 'utf8': error messages may be cut inside a character at 320 bytes). */
static void check_printable(const char *s, int utf8)
{
    if (s == NULL)
        return;
    size_t n = strlen(s);
    if (utf8 && !utf8_valid(s, n))
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f ||
            (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] < 0xa0))
            abort();
    }
}

static int probe_from_ok(void *ud)
{
    return (*(const unsigned *)ud & 4) != 0;
}

static void check_names(const struct xmpp_names *l)
{
    for (size_t i = 0; i < l->n; i++)
        check_printable(l->v[i], 0);
}

/*
 * The same server bytes to --serverinfo's probe (xmpp_probe): whatever
 * the server sends, nothing goes out but the stream headers, <starttls/>
 * and the close (no SASL, no stanza), the account only with from_ok
 * (flags & 4), and every feature handed over is printable.
 */
static void probe(const char *const *seg,
                  const size_t *seglen,
                  size_t nseg,
                  size_t chunk,
                  unsigned flags)
{
    struct replay rp = {.seg = seg,
                        .seglen = seglen,
                        .nseg = nseg,
                        .chunk = chunk,
                        .close_at = -1};
    struct xs_io io;
    replay_io(&rp, &io);
    struct xmpp_config cfg = {.jid = "user@example.com",
                              .deadline = xs_now_ms() + 2000,
                              .timeout_s = 2,
                              .sasl2 = 1};
    struct xmpp_session *s = xmpp_new(&cfg, &io);
    struct xmpp_features f;
    struct xs_error err = {0};
    enum xs_err e = xmpp_probe(s, probe_from_ok, &flags, &f, &err);
    xmpp_close(s);
    xmpp_free(s);
    const struct buf *out = replay_written(&rp);
    const char *w = out->data ? out->data : "";
    static const char *const never[] = {"<auth",     "<iq",       "<message",
                                        "<presence", "<response", "<enable",
                                        "<bind"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        if (contains(w, out->len, never[i]))
            abort();
    }
    if (!(flags & 4) && contains(w, out->len, "user@example.com"))
        abort();
    if (e == XS_ESOFTWARE || (e != XS_OK && err.msg[0] == '\0'))
        abort();
    check_printable(err.msg, 0);
    if (e == XS_OK) {
        check_printable(f.from, 0);
        check_printable(f.login, 0);
        check_names(&f.mechs);
        check_names(&f.cbs);
        check_names(&f.mechs2);
        check_names(&f.fast);
        check_names(&f.other);
        xmpp_features_clear(&f);
    }
    buf_free(&rp.written);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[8] = {0, 1, 2, 3, 7, 16, 64, 512};
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    /* Split on NUL; segments point into the input (no terminator
     * needed: replay.h uses the lengths). */
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
    size_t traced = 0;
    struct xmpp_config cfg = {
        .jid = "user@example.com",
        .password = "pencil",
        .resource = (flags & 16) ? "fuzz" : NULL,
        .allow_plain = (flags & 4) != 0,
        .deadline = xs_now_ms() + 2000,
        .timeout_s = 2,
        .trace = (flags & 8) ? trace_noop : NULL,
        .trace_ud = &traced,
        .test_cnonce = "fyko+d2lbbFgONRv9qkxdawL",
        .sasl2 = 1,
        .fast = (flags & 4) != 0,
    };
    /* FAST's state: in memory only (no path: never saved). */
    struct xs_state st;
    memset(&st, 0, sizeof st);
    st.lockfd = lockfd;
    st.client_id = xstrdup("0b6a5c9e-1111-4222-8333-444455556666");
    if (!(flags & 2)) {
        st.fast_mech = xstrdup("HT-SHA-256-NONE");
        st.fast_token = xstrdup(FUZZ_TOKEN);
    }
    if (flags & 4)
        cfg.state = &st;
    struct xmpp_message m = {.body = "hi & <bye>", .type = "chat"};
    struct xmpp_recipient r[2];
    memset(r, 0, sizeof r);
    r[0].jid = "juliet@example.net";
    r[1].jid = "romeo@example.net";
    size_t nr = (flags & 2) ? 2 : 1;
    struct xmpp_roster roster = {0};
    struct xs_error err = {0};

    struct xnode *reply = NULL;
    struct xmpp_session *s = xmpp_new(&cfg, &io);
    enum xs_err e = xmpp_login(s, &err);
    int logged_in = e == XS_OK;
    if (logged_in && (flags & 3) == 3)
        e = xmpp_iq(s, "get", "example.com",
                    "<query xmlns='http://jabber.org/protocol/disco#info'/>",
                    "asking for the server's features", &reply, &err);
    else if (logged_in && (flags & 1))
        e = xmpp_roster(s, &roster, &err);
    else if (logged_in)
        e = xmpp_send(s, &m, r, nr, &err);
    /* A successful job leaves the stream open for the next one. */
    if (logged_in && e == XS_OK && rp.written.data != NULL &&
        contains(rp.written.data, rp.written.len, "</stream:stream>"))
        abort();
    size_t before_close = rp.written.len;
    xmpp_close(s);
    xmpp_close(s); /* a second call does nothing */
    /* After a confirmed job, the close goes out (and only once).  (The
     * replay grew behind the session's io pointer: read it afresh.) */
    const struct buf *out = replay_written(&rp);
    if (logged_in && e == XS_OK &&
        !contains(out->data + before_close, out->len - before_close,
                  "</stream:stream>"))
        abort();

    if (verbose)
        fprintf(stderr,
                "fuzz_session: login %d, result %d, %zu roster "
                "items, recipients %d/%d: %s\n",
                logged_in, e, roster.n, r[0].status, r[1].status, err.msg);

    /* No server data is an internal error. */
    if (e == XS_ESOFTWARE)
        abort();
    /* Errors carry a message; success means the server was verified. */
    if (e != XS_OK && (err.code != e || err.msg[0] == '\0'))
        abort();
    if (logged_in && (!rp.tls_started || xmpp_bound_jid(s) == NULL))
        abort();
    check_printable(err.msg, 0);

    /* Before TLS: only the stream header and <starttls/>. */
    const char *w = rp.written.data ? rp.written.data : "";
    size_t pre = rp.tls_started ? rp.written_at_tls : rp.written.len;
    if (contains(w, pre, "<auth") || contains(w, pre, "<iq") ||
        contains(w, pre, "<message") || contains(w, pre, "<presence"))
        abort();
    /* The token is a secret: only its proof goes out. */
    if (contains(w, rp.written.len, FUZZ_TOKEN))
        abort();
    /* A token kept for the next run is what state_parse reads back
     * (printable ASCII, no blanks) and comes with its mechanism. */
    if (st.fast_token != NULL) {
        if (st.fast_mech == NULL || strlen(st.fast_token) > 1024)
            abort();
        for (const char *p = st.fast_token; *p; p++) {
            if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
                abort();
        }
    }
    /* No presence at all: xmppsend never goes online. */
    if (contains(w, rp.written.len, "<presence"))
        abort();
    /* No stanza without authentication first. */
    if ((contains(w, rp.written.len, "<iq") ||
         contains(w, rp.written.len, "<message")) &&
        !contains(w, rp.written.len, "<auth"))
        abort();

    /* A successful IQ request hands over its reply. */
    if (logged_in && (flags & 3) == 3 && e == XS_OK && reply == NULL)
        abort();
    for (size_t i = 0; i < nr; i++) {
        /* After a confirmed send every recipient has a verdict. */
        if (e == XS_OK && !(flags & 1) && r[i].status == XMPP_PENDING)
            abort();
        check_printable(r[i].condition, 1);
        check_printable(r[i].errtype, 1);
        check_printable(r[i].text, 1);
    }
    for (size_t i = 0; i < roster.n; i++) {
        if (roster.items[i].jid == NULL || roster.items[i].subscription == NULL)
            abort();
        for (size_t g = 0; g < roster.items[i].ngroups; g++) {
            if (roster.items[i].groups[g] == NULL)
                abort();
        }
    }

    xnode_free(reply);
    xmpp_roster_free(&roster);
    xmpp_recipients_clear(r, 2);
    xmpp_free(s);
    buf_free(&rp.written);
    st.lockfd = -1; /* shared by every input */
    state_free(&st);
    probe(seg, seglen, nseg, chunks[flags >> 5], flags);
    return 0;
}
