/* SPDX-License-Identifier: MIT */
/*
 * upload.h - XEP-0363 HTTP File Upload, the XMPP side: find the upload
 * service (disco), read its size limit, request a slot per file, PUT the
 * file (http.c) and hand back the GET URL.  Sending the URLs is the
 * caller's (xmpp_send with the message's oob_url).  No libcurl type here.
 */
#ifndef XMPPSEND_UPLOAD_H
#define XMPPSEND_UPLOAD_H

#include <stddef.h>

#include "util.h"

#define NS_UPLOAD "urn:xmpp:http:upload:0"

struct upload_file {
    const char *path; /* in: the file as named on the command line */
    int fd;           /* upload_open: the open file, -1 before/after */
    long long size;   /* upload_open: its size */
    char *name;       /* upload_open: allocated, the name sent */
    const char *type; /* upload_open: its content type (not owned) */
    char *get_url;    /* upload_run: allocated, where it can be fetched */
};

/*
 * Open 'f->path' and take its size, name and content type, before
 * anything is sent: a missing, unreadable or non-regular file is
 * XS_ENOINPUT; an empty one XS_EDATA.
 */
enum xs_err upload_open(struct upload_file *f, struct xs_error *err);

/* Close and free what upload_open and upload_run filled in. */
void upload_file_free(struct upload_file *f);

/* The content type sent for a file name, from its extension
 * ("application/octet-stream" when unknown).  Not allocated. */
const char *upload_content_type(const char *name);

struct upload_opts {
    const char *cafile; /* trust for the HTTP server, as for XMPP */
    int insecure;
    long long deadline; /* the run's */
    /* NULL, or told of the progress of a PUT (for a progress bar). */
    void (*progress)(void *ud,
                     const struct upload_file *f,
                     long long sent,
                     long long total);
    void *ud;
};

struct xmpp_session;

/*
 * Upload the 'n' files (opened with upload_open) over the logged-in
 * session 's': find the service, refuse a file larger than its limit
 * before any slot is requested, then one slot and one PUT per file, in
 * order.  On success every f[i].get_url is set.
 * Used error codes: XS_EREFUSED (no upload service, slot refused, TLS
 * failure, HTTP 4xx), XS_EDATA (a file larger than the service allows),
 * XS_ETEMP (timeout, slot refused with type wait, HTTP 5xx), XS_EPROTO
 * (a hostile slot: not https, a redirect, headers too large), XS_EIO,
 * and those of xmpp_iq and http_put.
 */
enum xs_err upload_run(struct xmpp_session *s,
                       const struct upload_opts *o,
                       struct upload_file *f,
                       size_t n,
                       struct xs_error *err);

/*
 * Find the upload service of the session's domain (disco#items, then
 * disco#info to the domain and each item in one flight): *service
 * (allocated) and its *max file size (-1: none stated).
 * Used error codes: XS_EREFUSED (no upload service), those of xmpp_iq.
 */
enum xs_err upload_find_service(struct xmpp_session *s,
                                char **service,
                                long long *max,
                                struct xs_error *err);

/* ------------------------------------------------------------------ */
/* Parsers, exposed for the unit tests                                 */

struct xnode;

/* The most headers of a slot that are kept. */
#define UPLOAD_MAX_HEADERS 8
/* The longest URL accepted in a slot. */
#define UPLOAD_MAX_URL 8192

struct upload_slot {
    char *put_url; /* allocated */
    char *get_url; /* allocated */
    /* allocated "Name: value" lines: only Authorization, Cookie and
     * Expires (names as XEP-0363 spells them), CR and LF removed */
    char *headers[UPLOAD_MAX_HEADERS];
    size_t nheaders;
};

/*
 * Parse the <slot/> of an IQ result.  Both URLs must be https:// with no
 * white space or control characters, at most UPLOAD_MAX_URL bytes.
 * Used error codes: XS_EPROTO (no slot, a URL missing or refused).
 */
enum xs_err upload_parse_slot(const struct xnode *iq,
                              struct upload_slot *slot,
                              struct xs_error *err);
void upload_slot_free(struct upload_slot *slot);

/*
 * Read a disco#info result's <query/>: 1 when it offers
 * urn:xmpp:http:upload:0, else 0.  *max is its max-file-size (from the
 * x-data form with that FORM_TYPE), or -1 when it states none.
 */
int upload_parse_info(const struct xnode *query, long long *max);

#endif
