/* SPDX-License-Identifier: MIT */
/*
 * fuzz_scram.c - libFuzzer target for the SCRAM client (sasl.c) and the
 * text helpers that see server data (util.c).
 *
 * Input: byte 0 flags, then server-first, a NUL, server-final.
 *   flags % 3        SCRAM-SHA-1, -256, -512
 *   (flags / 3) % 3  gs2 flag "n", "y", "p=tls-exporter" (fixed 32 bytes)
 *   flags & 0x40     raw password (no PRECIS normalisation)
 *   flags & 0x80     text_printable() cuts at half the payload length
 *   flags & 0x20     XEP-0474 check (h=/d=) against fixed lists; 0x10:
 *                    the hash is required
 * The user is "user", the password "pencil" and the client nonce that of
 * the RFC 5802 example (SHA-1, SHA-512) or of the RFC 7677 example
 * (SHA-256), so the RFC exchanges are valid seeds.
 *
 * PBKDF2 cost: sasl.c accepts i= up to SASL_SCRAM_MAX_ITER (1,000,000);
 * such an input costs up to 0.65 s (SHA-512; GnuTLS is not instrumented)
 * against well under 1 ms for most inputs.  Measured on the reference
 * machine, the fuzzer rarely builds one (20,000 exec/s over 60 s without
 * any cap), so the key derivation runs for every i= by default.  Should
 * a long campaign slow down, build with -DFUZZ_MAX_ITER=10000: inputs
 * with a larger valid i= then skip the SCRAM part (the text helpers still
 * run on them); out-of-range values are still passed on, sasl.c rejects
 * them before any derivation.
 *
 * The whole payload (after byte 0) also goes through b64_decode (whose
 * strictness is checked by re-encoding), text_sanitize, text_printable
 * and utf8_valid (checked against a reference validator).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sasl.h"
#include "util.h"

#ifndef FUZZ_MAX_ITER
#define FUZZ_MAX_ITER SASL_SCRAM_MAX_ITER
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_VERBOSE=1 in the environment: print each outcome. */
static int verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

/* The i= value of a server-first message, 0 when none or not numeric. */
static unsigned long iter_of(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if ((i == 0 || s[i - 1] == ',') && s[i] == 'i' && s[i + 1] == '=') {
            unsigned long v = 0;
            for (size_t k = i + 2; k < n && s[k] >= '0' && s[k] <= '9'; k++) {
                v = v * 10 + (unsigned long)(s[k] - '0');
                if (v > 100000000UL)
                    break;
            }
            return v;
        }
    }
    return 0;
}

static void scram(unsigned flags,
                  const char *sf,
                  size_t sflen,
                  const char *fin,
                  size_t finlen)
{
    static const enum sasl_mech mechs[3] = {
        SASL_SCRAM_SHA_1, SASL_SCRAM_SHA_256, SASL_SCRAM_SHA_512};
    static const char *const nonces[3] = {"fyko+d2lbbFgONRv9qkxdawL",
                                          "rOprNGfwEbeRWgbNEkqO",
                                          "fyko+d2lbbFgONRv9qkxdawL"};
    static const char *const cbflags[3] = {"n", "y", "p=tls-exporter"};
    static const unsigned char cbdata[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    unsigned m = flags % 3, cb = (flags / 3) % 3;
    struct xs_error err = {0};
    struct buf out = {0};

    unsigned long iter = iter_of(sf, sflen);
    if (iter > FUZZ_MAX_ITER && iter <= SASL_SCRAM_MAX_ITER) {
        if (verbose)
            fprintf(stderr, "fuzz_scram: i=%lu skipped\n", iter);
        return;
    }

    struct sasl_scram *s =
        sasl_scram_new(mechs[m], "user", "pencil", (flags & 0x40) != 0,
                       nonces[m], cbflags[cb], cbdata, sizeof cbdata, &err);
    if (s == NULL)
        abort(); /* fixed, valid arguments */
    if (flags & 0x20) {
        /* XEP-0474: h= and d= in server-first checked against these */
        static const char *const offered[] = {"SCRAM-SHA-1",
                                              "SCRAM-SHA-1-PLUS"};
        static const char *const cbs[] = {"tls-exporter",
                                          "tls-server-end-point"};
        sasl_scram_ssdp(s, offered, 2, cbs, 2, 1, (flags & 0x10) != 0);
    }
    sasl_scram_first(s, &out);
    buf_reset(&out);

    enum xs_err e = sasl_scram_final(s, sf, sflen, &out, &err);
    if (e == XS_OK) {
        if (out.len == 0 || err.code != XS_OK)
            abort();
        e = sasl_scram_verify(s, fin, finlen, &err);
        if (e != XS_OK && e != XS_EPROTO && e != XS_EAUTH)
            abort();
        /* A verified exchange needs exactly the right v=. */
        if (e == XS_OK && (finlen < 2 || fin[0] != 'v' || fin[1] != '='))
            abort();
    } else {
        if (e != XS_EPROTO || err.code != XS_EPROTO || err.msg[0] == '\0')
            abort();
        /* A rejected exchange cannot be continued. */
        struct xs_error err2 = {0};
        if (sasl_scram_verify(s, fin, finlen, &err2) != XS_ESOFTWARE)
            abort();
    }
    if (verbose)
        fprintf(stderr, "fuzz_scram: mech %u gs2 %u: %d %s\n", m, cb, e,
                err.msg);
    /* Never twice. */
    struct xs_error err3 = {0};
    if (sasl_scram_final(s, sf, sflen, &out, &err3) != XS_ESOFTWARE)
        abort();
    buf_wipe(&out);
    sasl_scram_free(s);
}

/* Reference UTF-8 check (RFC 3629 section 4 ABNF), written differently. */
static int ref_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t need;
        unsigned long cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i <= need)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

static void text(const char *p, size_t n, unsigned flags)
{
    unsigned char *dec = NULL;
    size_t declen = 0;

    if (utf8_valid(p, n) != ref_utf8((const unsigned char *)p, n))
        abort();

    /* Strict base64: what decodes must re-encode to the same text. */
    if (b64_decode(p, n, &dec, &declen) == 0) {
        char *enc = b64_encode(dec, declen);
        if (strlen(enc) != n || memcmp(enc, p, n) != 0 || dec[declen] != 0)
            abort();
        free(enc);
        free(dec);
    }

    size_t changed = 0;
    char *san = text_sanitize(p, n, &changed);
    size_t sl = strlen(san);
    if (!utf8_valid(san, sl))
        abort();
    for (size_t i = 0; i < sl; i++) {
        unsigned char c = (unsigned char)san[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            abort();
    }
    /* Unchanged text passes through as it was (NUL counts as a change). */
    if (changed == 0 && (sl != n || memcmp(san, p, n) != 0))
        abort();
    free(san);

    size_t max = (flags & 0x80) ? n / 2 : n + 1;
    char *pr = text_printable(p, n, max);
    size_t pl = strlen(pr);
    if (pl > max || !utf8_valid(pr, pl))
        abort();
    for (size_t i = 0; i < pl; i++) {
        unsigned char c = (unsigned char)pr[i];
        if (c < 0x20 || c == 0x7f ||
            (c == 0xc2 && i + 1 < pl && (unsigned char)pr[i + 1] < 0xa0))
            abort();
    }
    free(pr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;

    /* Exact-size copies so that any overread is caught by ASan. */
    const char *nul = memchr(p, '\0', n);
    size_t sflen = nul ? (size_t)(nul - p) : n;
    size_t finlen = nul ? n - sflen - 1 : 0;
    char *sf = malloc(sflen ? sflen : 1);
    char *fin = malloc(finlen ? finlen : 1);
    if (sf == NULL || fin == NULL)
        abort();
    memcpy(sf, p, sflen);
    if (finlen > 0)
        memcpy(fin, nul + 1, finlen);
    scram(flags, sf, sflen, fin, finlen);
    free(sf);
    free(fin);

    text(p, n, flags);
    return 0;
}
