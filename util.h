/* SPDX-License-Identifier: MIT */
/*
 * util.h - error type, allocation, growable buffers, base64 and text
 * helpers shared by every module.  No I/O, no network, no library types.
 */
#ifndef XMPPSEND_UTIL_H
#define XMPPSEND_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define XS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define XS_NORETURN __attribute__((noreturn))
#else
#define XS_PRINTF(a, b)
#define XS_NORETURN
#endif

/*
 * Error classes.  Every function that can fail returns one of these; the
 * CLI maps them to sysexits(3) codes in one table (xmppsend.c).
 */
enum xs_err {
    XS_OK = 0,
    XS_EUSAGE,    /* 64 bad command line */
    XS_EDATA,     /* 65 bad JID, empty message, bad input data */
    XS_ENOINPUT,  /* 66 input file missing or unreadable */
    XS_EBOUNCE,   /* 67 recipient unknown or unavailable */
    XS_ENOHOST,   /* 68 host not found */
    XS_EREFUSED,  /* 69 refused or insecure: no TLS, bad cert, ... */
    XS_ESOFTWARE, /* 70 internal error */
    XS_EOS,       /* 71 out of memory, OS error */
    XS_EIO,       /* 74 I/O error */
    XS_ETEMP,     /* 75 temporary failure, worth retrying */
    XS_EPROTO,    /* 76 protocol error: malformed or hostile server data */
    XS_EAUTH,     /* 77 authentication failed */
    XS_ECONFIG    /* 78 configuration error */
};

/* Fixed-size error report: the error path never allocates. */
struct xs_error {
    enum xs_err code;
    char msg[320];
};

/*
 * Record an error.  The first error wins: if 'e' already holds one, it is
 * kept and only 'code' is returned.  Returns 'code'.
 */
enum xs_err
xs_seterr(struct xs_error *e, enum xs_err code, const char *fmt, ...)
    XS_PRINTF(3, 4);

/* Allocation that cannot fail: on exhaustion print and exit(71). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) XS_PRINTF(1, 2);
XS_NORETURN void xs_oom(void);

/* Wipe memory in a way the compiler cannot elide. */
void xs_wipe(void *p, size_t n);
/* Wipe and free a NUL-terminated secret; NULL is a no-op. */
void xs_free_secret(char *s);

/*
 * Growable byte buffer.  'data' is always NUL-terminated (when non-NULL)
 * so text users can treat it as a string.  Zero-initialise before use.
 */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

void buf_add(struct buf *b, const void *p, size_t n);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) XS_PRINTF(2, 3);
/* Append text escaped for XML character data and attribute values. */
void buf_add_xml(struct buf *b, const char *s, size_t n);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
void buf_free(struct buf *b);  /* frees; buffer is reusable afterwards */
void buf_wipe(struct buf *b);  /* wipes contents, then frees */

/*
 * Base64 (RFC 4648, with padding).  b64_encode returns an allocated
 * NUL-terminated string.  b64_decode is strict: only the standard
 * alphabet, correct padding, no whitespace; returns -1 on any violation,
 * else 0 with an allocated buffer (NUL-terminated for convenience) in
 * *out and its length in *outlen.
 */
char *b64_encode(const void *in, size_t len);
int b64_decode(const char *in, size_t len, unsigned char **out, size_t *outlen);

/*
 * Validate UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 * Returns 1 when 's' is valid, 0 otherwise.
 */
int utf8_valid(const char *s, size_t n);

/*
 * Make text safe to send as XML 1.0 character data: invalid UTF-8 and
 * characters XML 1.0 forbids become U+FFFD, ANSI escape sequences
 * (CSI, OSC and two-byte ESC forms) are removed.  Returns an allocated
 * string; *changed counts replaced or removed sequences.
 */
char *text_sanitize(const char *s, size_t n, size_t *changed);

/*
 * Make untrusted text (server-supplied) safe for one terminal line:
 * control characters (including CR, LF, ESC, DEL and C1) become '?', the
 * result is cut to 'max' bytes on a UTF-8 boundary.  Allocated.
 */
char *text_printable(const char *s, size_t n, size_t max);

/* Monotonic clock in milliseconds. */
long long xs_now_ms(void);

#endif
