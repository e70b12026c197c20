/* SPDX-License-Identifier: MIT */
/*
 * fuzz_digest.c - libFuzzer target for DIGEST-MD5 (sasl_digest.c) and the
 * mechanism choice (sasl_policy.c), the parts that see a server's
 * mechanism list and challenges before it has proven anything.
 *
 * Input: byte 0 flags, then the challenge, a NUL, the second message
 * (rspauth).  The challenge is also read as a comma-separated mechanism
 * list (offered names for sasl_select, and a --mechanism value).
 *   flags & 1   charset/realm paths: the password is "s\xc3\xa9same"
 *               (non-ASCII) instead of "secret"
 *   flags & 2   policy: verified; & 4: a certificate; & 8: a password
 * User "chris", digest-uri "imap/elwood.innosoft.com" and the cnonce of
 * the first RFC 2831 example, so that example is a valid seed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sasl.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Does [p, p+n) contain the string 'w' (in any case, with 'nocase')? */
static int contains(const char *p, size_t n, const char *w, int nocase)
{
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++)
        if ((nocase ? strncasecmp(p + i, w, wl) : memcmp(p + i, w, wl)) == 0)
            return 1;
    return 0;
}

static void digest(unsigned flags,
                   const char *ch,
                   size_t chlen,
                   const char *fin,
                   size_t finlen)
{
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_digest *d =
        sasl_digest_new("chris", (flags & 1) ? "s\xc3\xa9same" : "secret", 0,
                        "imap", "elwood.innosoft.com", "OA6MHXh6VqTrRk", &err);
    if (d == NULL)
        abort(); /* fixed, valid arguments */
    enum xs_err e = sasl_digest_response(d, ch, chlen, &out, &err);
    if (e == XS_OK) {
        if (out.len == 0 || err.code != XS_OK ||
            !contains(out.data, out.len, ",response=", 0))
            abort();
        e = sasl_digest_verify(d, fin, finlen, &err);
        if (e != XS_OK && e != XS_EPROTO)
            abort();
        /* Directive names are case-insensitive (RFC 2831 7.1 takes
         * RFC 2616's BNF, whose literals are): "RSPAUTH=" is fine. */
        if (e == XS_OK && (finlen < 40 || !contains(fin, finlen, "rspauth", 1)))
            abort();
    } else {
        if ((e != XS_EPROTO && e != XS_EREFUSED) || err.msg[0] == '\0' ||
            out.len != 0)
            abort();
        struct xs_error err2 = {0};
        if (sasl_digest_verify(d, fin, finlen, &err2) != XS_ESOFTWARE)
            abort();
    }
    struct xs_error err3 = {0};
    if (sasl_digest_response(d, ch, chlen, &out, &err3) != XS_ESOFTWARE)
        abort();
    buf_wipe(&out);
    sasl_digest_free(d);
}

static void choice(unsigned flags, const char *p, size_t n)
{
    char *s = malloc(n + 1);
    const char *names[64];
    size_t k = 0;
    if (s == NULL)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    struct xs_error err = {0};
    unsigned mask = 0;
    if (sasl_mech_mask(s, &mask, &err) == XS_OK) {
        if (mask == 0)
            abort();
    } else if (err.code != XS_EUSAGE || mask != 0) {
        abort();
    }
    /* Offered names: the pieces between commas (NULs end them early). */
    for (char *q = s; k < 64;) {
        char *c = strchr(q, ',');
        names[k++] = q;
        if (c == NULL)
            break;
        *c = '\0';
        q = c + 1;
    }
    struct sasl_policy pol = {.allow = mask,
                              .verified = (flags & 2) != 0,
                              .cert = (flags & 4) != 0,
                              .password = (flags & 8) != 0};
    struct buf why = {0};
    enum sasl_mech m = sasl_select(names, k, &pol, &why);
    if (m != SASL_NONE) {
        /* Only what was offered, allowed, and possible. */
        size_t i;
        for (i = 0; i < k && strcmp(names[i], sasl_mech_name(m)) != 0; i++)
            ;
        if (i == k || (mask != 0 && !(mask & SASL_BIT(m))))
            abort();
        if (m == SASL_EXTERNAL ? !pol.cert : !pol.password)
            abort();
        if ((m == SASL_PLAIN || m == SASL_DIGEST_MD5) && !pol.verified)
            abort();
    }
    buf_free(&why);
    free(s);
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
    size_t chlen = nul ? (size_t)(nul - p) : n;
    size_t finlen = nul ? n - chlen - 1 : 0;
    char *ch = malloc(chlen ? chlen : 1);
    char *fin = malloc(finlen ? finlen : 1);
    if (ch == NULL || fin == NULL)
        abort();
    memcpy(ch, p, chlen);
    if (finlen > 0)
        memcpy(fin, nul + 1, finlen);
    digest(flags, ch, chlen, fin, finlen);
    choice(flags, ch, chlen);
    free(ch);
    free(fin);
    return 0;
}
