/* SPDX-License-Identifier: MIT */
/*
 * http.h - HTTP client side (libcurl lives only in http.c, loaded on
 * first use): the library version for --version and the streaming PUT
 * of XEP-0363 HTTP upload.
 */
#ifndef XMPPSEND_HTTP_H
#define XMPPSEND_HTTP_H

#include <stddef.h>

#include "util.h"

/* libcurl runtime version, e.g. "7.88.1" ("not available" when the
 * library cannot be loaded). */
const char *http_library_version(void);

/* Largest total size of the response headers of a PUT. */
#define HTTP_MAX_HEADERS (16 * 1024)

struct http_put {
    const char *url;            /* https:// only (others are refused) */
    int fd;                     /* read from its current offset */
    long long size;             /* exactly this many bytes are sent */
    const char *content_type;   /* NULL: no Content-Type */
    const char *const *headers; /* "Name: value" lines, no CR/LF */
    size_t nheaders;
    const char *cafile; /* NULL: the system's trust store */
    int insecure;       /* 1: no certificate verification */
    long long deadline; /* xs_now_ms() by which it must be done */
    /* NULL, or told the bytes sent so far (from libcurl's progress
     * callback, at most a few times a second). */
    void (*progress)(void *ud, long long sent, long long total);
    void *ud;
};

/*
 * PUT the 'size' bytes of p->fd to p->url, streamed (constant memory
 * whatever the size): HTTPS only, TLS 1.2 or later, no redirects (a 3xx
 * is a failure), no proxy, response headers capped at HTTP_MAX_HEADERS,
 * the response body discarded, all within p->deadline.  *status is the
 * HTTP status (0 when none arrived).  Success is a 2xx status.
 * Used error codes: XS_EPROTO (not https, a redirect, headers too
 * large), XS_EREFUSED (TLS or certificate failure, status 4xx), XS_ETEMP
 * (timeout, connection failure, status 5xx), XS_ENOHOST (host not
 * found), XS_EIO (the file could not be read or shrank), XS_ESOFTWARE
 * (libcurl missing or unusable).
 */
enum xs_err
http_put(const struct http_put *p, long *status, struct xs_error *err);

/* Unload libcurl if it was loaded (at exit, for leak checkers). */
void http_cleanup(void);

#endif
