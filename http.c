/* SPDX-License-Identifier: MIT */
/*
 * http.c - libcurl behind http.h: the library version for --version and
 * the streaming PUT of XEP-0363 HTTP upload (upload.c does the XMPP side).
 *
 * libcurl is loaded with dlopen() when an HTTP feature is used, not linked:
 * linking it maps ~18 more shared libraries (Kerberos, LDAP, SSH, RTMP,
 * HTTP/2, ...) into every run, which measured 2.2 ms of 4.8 ms and 3.2 MB
 * of 10 MB for `xmppsend --help`, a quarter of the CPU of a whole send,
 * for a feature most runs never use.  The headers still come from
 * libcurl's -dev package, so the types and constants are libcurl's own.
 *
 * The PUT follows protocol.md 7.3 and 10.14: https only (also for the
 * URL libcurl itself is given: CURLOPT_PROTOCOLS_STR), no redirects,
 * TLS 1.2 or later with the same trust as the XMPP connection (--cafile,
 * --insecure; --pin is for the XMPP host only), no proxy (the XMPP
 * connection uses none either), response headers and body bounded, and
 * the whole transfer bounded by the run's deadline.  The file is read
 * in libcurl's own buffer sizes from the descriptor: memory stays
 * constant whatever the file's size.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"

#ifndef HTTP_CURL_SONAME
#define HTTP_CURL_SONAME "libcurl-gnutls.so.4"
#endif

/* The response body of a PUT is not used; more than this is hostile. */
#define HTTP_MAX_BODY (64 * 1024)
/* At most this often a progress report (ms). */
#define HTTP_PROGRESS_MS 200

static void *curl_lib;
static int curl_inited;
static curl_version_info_data *(*p_curl_version_info)(CURLversion);
static CURLcode (*p_global_init)(long);
static void (*p_global_cleanup)(void);
static CURL *(*p_easy_init)(void);
static CURLcode (*p_easy_setopt)(CURL *, CURLoption, ...);
static CURLcode (*p_easy_perform)(CURL *);
static CURLcode (*p_easy_getinfo)(CURL *, CURLINFO, ...);
static void (*p_easy_cleanup)(CURL *);
static const char *(*p_easy_strerror)(CURLcode);
static struct curl_slist *(*p_slist_append)(struct curl_slist *, const char *);
static void (*p_slist_free_all)(struct curl_slist *);

/* One libcurl symbol into *fp; 0 on success. */
static int sym(void *fp, const char *name)
{
    /* POSIX's way to turn dlsym's object pointer into a function one. */
    *(void **)fp = dlsym(curl_lib, name);
    return *(void **)fp != NULL ? 0 : -1;
}

/* Load libcurl once; 0 on success. */
static int http_load(void)
{
    static const char *const names[] = {HTTP_CURL_SONAME, "libcurl.so.4"};
    if (p_curl_version_info != NULL)
        return 0;
    for (size_t i = 0; curl_lib == NULL && i < sizeof names / sizeof *names;
         i++)
        curl_lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (curl_lib == NULL)
        return -1;
    return sym(&p_curl_version_info, "curl_version_info");
}

/* The functions a transfer needs; 0 when all are there. */
static int http_load_easy(void)
{
    if (http_load() != 0)
        return -1;
    if (p_easy_init != NULL)
        return 0;
    int bad = sym(&p_global_init, "curl_global_init") |
              sym(&p_global_cleanup, "curl_global_cleanup") |
              sym(&p_easy_setopt, "curl_easy_setopt") |
              sym(&p_easy_perform, "curl_easy_perform") |
              sym(&p_easy_getinfo, "curl_easy_getinfo") |
              sym(&p_easy_cleanup, "curl_easy_cleanup") |
              sym(&p_easy_strerror, "curl_easy_strerror") |
              sym(&p_slist_append, "curl_slist_append") |
              sym(&p_slist_free_all, "curl_slist_free_all");
    if (bad == 0)
        bad = sym(&p_easy_init, "curl_easy_init");
    if (bad != 0) {
        p_easy_init = NULL;
        return -1;
    }
    return 0;
}

const char *http_library_version(void)
{
    if (http_load() != 0)
        return "not available";
    const curl_version_info_data *v = p_curl_version_info(CURLVERSION_NOW);
    return v != NULL && v->version != NULL ? v->version : "unknown";
}

/* ---------------------------------------------------------------- */
/* The PUT                                                           */

struct put_state {
    const struct http_put *p;
    long long sent;      /* bytes handed to libcurl */
    size_t header_bytes; /* response headers so far */
    size_t body_bytes;   /* response body so far */
    long long last_report;
    int reported_all; /* the last report (sent == size) was made */
    int read_errno;   /* the file could not be read */
    int shrank;       /* the file ended before 'size' */
    int headers_too_big;
    int body_too_big;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct put_state *st = ud;
    size_t want = size * n;
    long long left = st->p->size - st->sent;
    if (left <= 0)
        return 0;
    if ((long long)want > left)
        want = (size_t)left;
    for (;;) {
        ssize_t r = read(st->p->fd, buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st->read_errno = errno;
            return CURL_READFUNC_ABORT;
        }
        if (r == 0) {
            /* Fewer bytes than announced: the server would wait for
             * the rest until the deadline. */
            st->shrank = 1;
            return CURL_READFUNC_ABORT;
        }
        st->sent += r;
        return (size_t)r;
    }
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct put_state *st = ud;
    (void)buf;
    st->header_bytes += size * n;
    if (st->header_bytes > HTTP_MAX_HEADERS) {
        st->headers_too_big = 1;
        return 0; /* aborts the transfer */
    }
    return size * n;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct put_state *st = ud;
    (void)buf;
    st->body_bytes += size * n;
    if (st->body_bytes > HTTP_MAX_BODY) {
        st->body_too_big = 1;
        return 0;
    }
    return size * n;
}

static int on_progress(void *ud,
                       curl_off_t dltotal,
                       curl_off_t dlnow,
                       curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct put_state *st = ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    long long now = xs_now_ms();
    int all = (long long)ulnow == st->p->size;
    /* libcurl calls on while it waits for the response: the last
     * report is made once. */
    if (st->p->progress == NULL || st->reported_all ||
        (!all && now - st->last_report < HTTP_PROGRESS_MS))
        return 0;
    st->last_report = now;
    st->reported_all = all;
    st->p->progress(st->p->ud, (long long)ulnow, st->p->size);
    return 0;
}

/* Is 'url' an https:// URL (scheme case-insensitive)? */
static int is_https(const char *url)
{
    return url != NULL && strncasecmp(url, "https://", 8) == 0 &&
           url[8] != '\0';
}

/* The error class and message of a failed transfer. */
static enum xs_err put_failed(const struct put_state *st,
                              CURLcode rc,
                              const char *detail,
                              struct xs_error *err)
{
    char *d = text_printable(detail, strlen(detail), 200);
    enum xs_err e;
    if (st->headers_too_big)
        e = xs_seterr(err, XS_EPROTO,
                      "the upload server sent more than %d bytes of "
                      "headers",
                      HTTP_MAX_HEADERS);
    else if (st->body_too_big)
        e = xs_seterr(err, XS_EPROTO,
                      "the upload server answered with more than %d bytes",
                      HTTP_MAX_BODY);
    else if (st->read_errno != 0)
        e = xs_seterr(err, XS_EIO, "cannot read the file to upload: %s",
                      strerror(st->read_errno));
    else if (st->shrank)
        e = xs_seterr(err, XS_EIO,
                      "the file to upload became shorter while it was sent");
    else {
        switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            e = xs_seterr(err, XS_ETEMP,
                          "timed out while uploading (raise --timeout for "
                          "large files): %s",
                          d);
            break;
        case CURLE_COULDNT_RESOLVE_HOST:
            e = xs_seterr(err, XS_ENOHOST, "upload host not found: %s", d);
            break;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_USE_SSL_FAILED:
            e = xs_seterr(err, XS_EREFUSED,
                          "TLS failure with the upload "
                          "server: %s",
                          d);
            break;
        case CURLE_UNSUPPORTED_PROTOCOL:
            e = xs_seterr(err, XS_EPROTO, "upload refused: %s", d);
            break;
        default:
            e = xs_seterr(err, XS_ETEMP, "upload failed: %s", d);
            break;
        }
    }
    free(d);
    return e;
}

/* Append a header line; out of memory is fatal, as with xmalloc. */
static struct curl_slist *add_header(struct curl_slist *l, const char *line)
{
    struct curl_slist *n = p_slist_append(l, line);
    if (n == NULL) {
        if (l != NULL)
            p_slist_free_all(l);
        xs_oom();
    }
    return n;
}

/* Apply the options of a PUT; CURLE_OK when every one was taken. */
static CURLcode put_options(CURL *h,
                            const struct http_put *p,
                            struct put_state *st,
                            struct curl_slist *hdrs,
                            char *errbuf,
                            long remaining)
{
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = p_easy_setopt(h, opt, val);                                   \
    } while (0)
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_URL, p->url);
    SET(CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (p->cafile != NULL) {
        SET(CURLOPT_CAINFO, p->cafile);
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
    if (p->insecure) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    SET(CURLOPT_UPLOAD, 1L);
    SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)p->size);
    SET(CURLOPT_READFUNCTION, on_read);
    SET(CURLOPT_READDATA, st);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, st);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, st);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, st);
    SET(CURLOPT_HTTPHEADER, hdrs);
    SET(CURLOPT_TIMEOUT_MS, remaining);
    SET(CURLOPT_CONNECTTIMEOUT_MS, remaining);
#undef SET
    return rc;
}

enum xs_err
http_put(const struct http_put *p, long *status, struct xs_error *err)
{
    *status = 0;
    if (!is_https(p->url))
        return xs_seterr(err, XS_EPROTO, "the upload URL is not https://");
    if (http_load_easy() != 0)
        return xs_seterr(err, XS_ESOFTWARE,
                         "cannot upload: libcurl (%s) cannot be loaded",
                         HTTP_CURL_SONAME);
    long long left = p->deadline - xs_now_ms();
    if (left <= 0)
        return xs_seterr(err, XS_ETEMP, "timed out before the upload");
    if (!curl_inited) {
        if (p_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return xs_seterr(err, XS_ESOFTWARE, "libcurl failed to start");
        curl_inited = 1;
    }

    /* "Expect:" off: no second's wait for a 100 Continue. */
    struct curl_slist *hdrs = add_header(NULL, "Expect:");
    if (p->content_type != NULL) {
        char *ct = xasprintf("Content-Type: %s", p->content_type);
        hdrs = add_header(hdrs, ct);
        free(ct);
    }
    for (size_t i = 0; i < p->nheaders; i++)
        hdrs = add_header(hdrs, p->headers[i]);
    CURL *h = p_easy_init();
    if (h == NULL) {
        p_slist_free_all(hdrs);
        xs_oom();
    }

    struct put_state st = {.p = p, .last_report = 0};
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc = put_options(h, p, &st, hdrs, errbuf,
                              left > 0x7fffffffL ? 0x7fffffffL : (long)left);
    enum xs_err e = XS_OK;
    if (rc != CURLE_OK) {
        e = xs_seterr(err, XS_ESOFTWARE, "libcurl refused an option: %s",
                      p_easy_strerror(rc));
    } else {
        rc = p_easy_perform(h);
        (void)p_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        if (rc != CURLE_OK)
            e = put_failed(&st, rc,
                           *errbuf != '\0' ? errbuf : p_easy_strerror(rc), err);
    }
    p_easy_cleanup(h);
    p_slist_free_all(hdrs);
    if (e != XS_OK)
        return e;

    long s = *status;
    if (s >= 200 && s < 300)
        return XS_OK;
    if (s >= 300 && s < 400)
        return xs_seterr(err, XS_EPROTO,
                         "the upload server answered with a redirect "
                         "(HTTP %ld), which is refused",
                         s);
    if (s >= 400 && s < 500)
        return xs_seterr(err, XS_EREFUSED,
                         "the upload server refused the file (HTTP %ld)", s);
    if (s >= 500 && s < 600)
        return xs_seterr(err, XS_ETEMP,
                         "the upload server failed (HTTP %ld); try again "
                         "later",
                         s);
    return xs_seterr(err, XS_EPROTO,
                     "the upload server answered with HTTP status %ld", s);
}

void http_cleanup(void)
{
    if (curl_inited && p_global_cleanup != NULL)
        p_global_cleanup();
    curl_inited = 0;
    if (curl_lib != NULL)
        dlclose(curl_lib);
    curl_lib = NULL;
    p_curl_version_info = NULL;
    p_easy_init = NULL;
}
