/* SPDX-License-Identifier: MIT */
/*
 * util.c - the small toolbox every module shares: the first-error-wins
 * error report, allocation that exits on exhaustion, growable buffers
 * that never leave secrets behind in freed memory, a strict base64 codec
 * and the UTF-8 helpers that keep untrusted text out of our XML and off
 * the user's terminal.
 *
 * Nothing here does I/O except xs_oom(), which prints one line and exits.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1 /* explicit_bzero() under -std=c11 */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

enum xs_err
xs_seterr(struct xs_error *e, enum xs_err code, const char *fmt, ...)
{
    va_list ap;

    /* The first error is the cause; later ones are only consequences. */
    if (e == NULL || e->code != XS_OK)
        return code;
    e->code = code;
    va_start(ap, fmt);
    if (vsnprintf(e->msg, sizeof(e->msg), fmt, ap) < 0)
        e->msg[0] = '\0';
    va_end(ap);
    return code;
}

void xs_oom(void)
{
    /* stderr is unbuffered: this does not need memory. */
    (void)fputs("xmppsend: out of memory\n", stderr);
    exit(71);
}

void *xmalloc(size_t n)
{
    /* malloc(0) may legally return NULL; never mistake that for OOM. */
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        xs_oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p;

    if (n == 0 || size == 0) {
        n = 1;
        size = 1;
    }
    p = calloc(n, size); /* calloc checks n * size for overflow */
    if (p == NULL)
        xs_oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        xs_oom();
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p;

    if (len == SIZE_MAX)
        xs_oom();
    p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static char *xvasprintf(const char *fmt, va_list ap) XS_PRINTF(1, 0);

static char *xvasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    char *p;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        /* Only an invalid format or EOVERFLOW get here. */
        (void)fputs("xmppsend: internal error: bad format string\n", stderr);
        exit(70);
    }
    p = xmalloc((size_t)n + 1);
    if (vsnprintf(p, (size_t)n + 1, fmt, ap) != n) {
        (void)fputs("xmppsend: internal error: bad format string\n", stderr);
        exit(70);
    }
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

void xs_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

void xs_free_secret(char *s)
{
    if (s == NULL)
        return;
    xs_wipe(s, strlen(s));
    free(s);
}

/*
 * Make room for 'n' more bytes plus the terminating NUL.  Growth doubles
 * the capacity.  Instead of realloc() the contents move to a fresh block
 * and the old one is wiped first: buffers carry SASL payloads, and
 * realloc() would leave stale copies of them in freed memory.
 */
static void buf_grow(struct buf *b, size_t n)
{
    size_t need, cap;
    char *p;

    if (n > SIZE_MAX - 1 - b->len)
        xs_oom();
    need = b->len + n + 1;
    if (b->data != NULL && need <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    p = xmalloc(cap);
    if (b->data != NULL) {
        memcpy(p, b->data, b->len);
        xs_wipe(b->data, b->cap);
        free(b->data);
    }
    p[b->len] = '\0';
    b->data = p;
    b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    buf_grow(b, n);
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_addstr(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = xvasprintf(fmt, ap);
    va_end(ap);
    buf_addstr(b, p);
    free(p);
}

void buf_add_xml(struct buf *b, const char *s, size_t n)
{
    size_t i, start = 0;
    const char *rep;

    /*
     * All five predefined entities, so the same text is safe in character
     * data and in attribute values quoted with either quote character.
     */
    for (i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\r':
            /* A raw CR would be lost to end-of-line normalisation
             * (XML 1.0 2.11); as a reference it survives. */
            rep = "&#13;";
            break;
        default:
            continue;
        }
        buf_add(b, s + start, i - start);
        buf_addstr(b, rep);
        start = i + 1;
    }
    buf_add(b, s + start, n - start);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_wipe(struct buf *b)
{
    xs_wipe(b->data, b->cap);
    buf_free(b);
}

/* RFC 4648 section 4 alphabet. */
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *b64_encode(const void *in, size_t len)
{
    const unsigned char *s = in;
    size_t i, o = 0, outlen;
    unsigned long v;
    char *out;

    if (len / 3 >= (SIZE_MAX - 1) / 4)
        xs_oom();
    outlen = (len + 2) / 3 * 4;
    out = xmalloc(outlen + 1);
    for (i = 0; i + 2 < len; i += 3) {
        v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 | s[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (len - i == 1) {
        v = (unsigned long)s[i] << 16;
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8;
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

/* Value of one base64 character, or -1 when it is not in the alphabet. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Strict decoding, unlike gnutls_base64_decode2() which skips whitespace
 * and accepted "cj0x-_" as "r=1": exactly one encoding of each input is
 * accepted, so what we check is what a peer meant (RFC 4648 section 3.5
 * allows decoders to reject non-zero pad bits; we do).
 */
int b64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *res;
    size_t i, o = 0;
    int v[4], k, pad;

    if (len % 4 != 0)
        return -1;
    res = xmalloc(len / 4 * 3 + 1);
    for (i = 0; i < len; i += 4) {
        pad = 0;
        /* '=' may only end the last quantum: "xx==" or "xxx=". */
        if (i + 4 == len) {
            if (s[i + 3] == '=')
                pad = s[i + 2] == '=' ? 2 : 1;
        }
        for (k = 0; k < 4 - pad; k++) {
            v[k] = b64_value(s[i + k]);
            if (v[k] < 0)
                goto bad;
        }
        res[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (pad == 2) {
            /* The unused low 4 bits of the 2nd character must be 0. */
            if (v[1] & 0x0f)
                goto bad;
            break;
        }
        res[o++] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
        if (pad == 1) {
            if (v[2] & 0x03)
                goto bad;
            break;
        }
        res[o++] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
    }
    res[o] = '\0';
    *out = res;
    *outlen = o;
    return 0;
bad:
    xs_wipe(res, len / 4 * 3 + 1);
    free(res);
    return -1;
}

/*
 * Decode one UTF-8 sequence at 's' (n > 0 bytes available).  Returns the
 * number of bytes it covers and stores the code point in *cp, or -1 in
 * *cp for an ill-formed sequence; then the return value is the length of
 * its "maximal subpart" (Unicode 15, section 3.9, U+FFFD substitution),
 * so each broken sequence becomes exactly one replacement.
 */
static size_t utf8_next(const unsigned char *s, size_t n, long *cp)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t need, i;
    long v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        v = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* UTF-16 surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        v = c & 0x07;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        /* Continuation byte, C0/C1 (always overlong) or F5..FF. */
        *cp = -1;
        return 1;
    }
    for (i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *cp = -1;
            return i;
        }
        v = v << 6 | (s[i] & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }
    *cp = v;
    return need + 1;
}

int utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    long cp;

    while (i < n) {
        i += utf8_next(p + i, n - i, &cp);
        if (cp < 0)
            return 0;
    }
    return 1;
}

/* XML 1.0 section 2.2 Char production (surrogates never decode). */
static int xml_char_ok(long cp)
{
    if (cp < 0x20)
        return cp == 0x09 || cp == 0x0a || cp == 0x0d;
    return cp != 0xfffe && cp != 0xffff;
}

/*
 * Length of a CSI sequence's tail (ECMA-48 section 5.4): parameter bytes
 * 0x30-0x3F, intermediate bytes 0x20-0x2F, one final byte 0x40-0x7E.
 * 'p' points just after the introducer.  Returns 0 when the sequence is
 * malformed or cut off.
 */
static size_t csi_len(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n && p[i] >= 0x30 && p[i] <= 0x3f)
        i++;
    while (i < n && p[i] >= 0x20 && p[i] <= 0x2f)
        i++;
    if (i < n && p[i] >= 0x40 && p[i] <= 0x7e)
        return i + 1;
    return 0;
}

/*
 * Length of a control string's tail (OSC, DCS, SOS, PM, APC) including
 * its terminator: BEL (xterm), ESC '\' or the 8-bit ST U+009C.  Returns
 * 0 when no terminator follows.
 */
static size_t ctlstr_len(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] == 0x07)
            return i + 1;
        if (p[i] == 0x1b && i + 1 < n && p[i + 1] == '\\')
            return i + 2;
        if (p[i] == 0xc2 && i + 1 < n && p[i + 1] == 0x9c)
            return i + 2;
    }
    return 0;
}

/*
 * Length of the terminal escape sequence starting at 'p', or 0 when
 * there is none.  Handles 7-bit ESC forms and the 8-bit C1 introducers
 * CSI (U+009B) and OSC/DCS/SOS/PM/APC encoded in UTF-8.
 */
static size_t escape_len(const unsigned char *p, size_t n)
{
    size_t t;

    if (p[0] == 0x1b) {
        size_t i = 1;

        if (n < 2)
            return 0;
        if (p[1] == '[') {
            t = csi_len(p + 2, n - 2);
            return t ? t + 2 : 0;
        }
        /* OSC ']', DCS 'P', SOS 'X', PM '^', APC '_' */
        if (p[1] == ']' || p[1] == 'P' || p[1] == 'X' || p[1] == '^' ||
            p[1] == '_') {
            t = ctlstr_len(p + 2, n - 2);
            return t ? t + 2 : 0;
        }
        /* nF: intermediates 0x20-0x2F, then a final byte 0x30-0x7E. */
        while (i < n && p[i] >= 0x20 && p[i] <= 0x2f)
            i++;
        /* Fp, Fe and Fs forms: the two-byte "ESC X". */
        if (i < n && p[i] >= 0x30 && p[i] <= 0x7e)
            return i + 1;
        return 0;
    }
    if (p[0] == 0xc2 && n >= 2) {
        if (p[1] == 0x9b) {
            t = csi_len(p + 2, n - 2);
            return t ? t + 2 : 0;
        }
        if (p[1] == 0x9d || p[1] == 0x90 || p[1] == 0x98 || p[1] == 0x9e ||
            p[1] == 0x9f) {
            t = ctlstr_len(p + 2, n - 2);
            return t ? t + 2 : 0;
        }
    }
    return 0;
}

/* Is 'cp' a C1 introducer that escape_len() knows? */
static int c1_introducer(long cp)
{
    return cp == 0x9b || cp == 0x9d || cp == 0x90 || cp == 0x98 || cp == 0x9e ||
           cp == 0x9f;
}

char *text_sanitize(const char *s, size_t n, size_t *changed)
{
    static const char fffd[] = "\xef\xbf\xbd";
    const unsigned char *p = (const unsigned char *)s;
    struct buf out = {0};
    size_t i = 0, count = 0;
    long cp;

    buf_add(&out, "", 0);
    while (i < n) {
        size_t k = escape_len(p + i, n - i);

        if (k > 0) {
            /* A complete escape sequence: drop it. */
            i += k;
            count++;
            continue;
        }
        k = utf8_next(p + i, n - i, &cp);
        if (cp < 0 || !xml_char_ok(cp) || c1_introducer(cp)) {
            /*
             * Broken UTF-8, a forbidden character, or a lone/unfinished
             * escape introducer: the rest of a cut-off sequence is plain
             * text once its introducer is gone.
             */
            buf_add(&out, fffd, 3);
            count++;
        } else {
            buf_add(&out, p + i, k);
        }
        i += k;
    }
    if (changed != NULL)
        *changed = count;
    return out.data;
}

/*
 * Characters that must not reach a terminal raw: C0, DEL, C1, and the
 * bidirectional overrides and line separators that can make one line
 * look like something else.
 */
static int printable_ok(long cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
        return 0;
    if (cp == 0x2028 || cp == 0x2029)
        return 0;
    if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
        return 0;
    return 1;
}

char *text_printable(const char *s, size_t n, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    struct buf out = {0};
    size_t i = 0;
    long cp;

    buf_add(&out, "", 0);
    while (i < n) {
        size_t k = utf8_next(p + i, n - i, &cp);

        if (cp < 0 || !printable_ok(cp)) {
            if (out.len + 1 > max)
                break;
            buf_addch(&out, '?');
        } else {
            /* Never split a character: stop before it instead. */
            if (out.len + k > max)
                break;
            buf_add(&out, p + i, k);
        }
        i += k;
    }
    return out.data;
}

long long xs_now_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0; /* cannot happen for CLOCK_MONOTONIC on Linux */
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
