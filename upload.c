/* SPDX-License-Identifier: MIT */
/*
 * upload.c - XEP-0363 HTTP File Upload on top of the session's flights
 * (protocol.md 7.3, 10.14).
 *
 *   1. Discovery (XEP-0363 4): disco#items on the account's domain, then
 *      disco#info on the domain and on each item, all in one flight; the
 *      first that offers urn:xmpp:http:upload:0 is the service, and the
 *      max-file-size field of its x-data form (FORM_TYPE
 *      urn:xmpp:http:upload:0) is its limit.
 *   2. Every file is checked against that limit before any slot is
 *      requested: nothing is sent for a run that cannot succeed.
 *   3. Per file, a slot (XEP-0363 5): <request filename= size=
 *      content-type=/>; the answer's put and get URLs must both be
 *      https://, and of its headers only Authorization, Cookie and
 *      Expires are kept, with CR and LF removed (XEP-0363 5.1).
 *   4. The PUT (http.c), streamed from the file, within the deadline.
 *
 * The file itself was opened before connecting (upload_open): an
 * unreadable file fails before the password is even used.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disco.h"
#include "http.h"
#include "upload.h"
#include "xml.h"
#include "xmpp.h"

#define NS_XDATA "jabber:x:data"

/* ---------------------------------------------------------------- */
/* Files                                                             */

const char *upload_content_type(const char *name)
{
    static const char *const types[][2] = {
        {"7z", "application/x-7z-compressed"},
        {"aac", "audio/aac"},
        {"avif", "image/avif"},
        {"bmp", "image/bmp"},
        {"bz2", "application/x-bzip2"},
        {"csv", "text/csv"},
        {"doc", "application/msword"},
        {"docx", "application/vnd.openxmlformats-officedocument."
                 "wordprocessingml.document"},
        {"flac", "audio/flac"},
        {"gif", "image/gif"},
        {"gz", "application/gzip"},
        {"heic", "image/heic"},
        {"htm", "text/html"},
        {"html", "text/html"},
        {"ics", "text/calendar"},
        {"jpeg", "image/jpeg"},
        {"jpg", "image/jpeg"},
        {"json", "application/json"},
        {"log", "text/plain"},
        {"m4a", "audio/mp4"},
        {"md", "text/markdown"},
        {"mkv", "video/x-matroska"},
        {"mov", "video/quicktime"},
        {"mp3", "audio/mpeg"},
        {"mp4", "video/mp4"},
        {"odp", "application/vnd.oasis.opendocument.presentation"},
        {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
        {"odt", "application/vnd.oasis.opendocument.text"},
        {"oga", "audio/ogg"},
        {"ogg", "audio/ogg"},
        {"ogv", "video/ogg"},
        {"opus", "audio/ogg"},
        {"pdf", "application/pdf"},
        {"png", "image/png"},
        {"pptx", "application/vnd.openxmlformats-officedocument."
                 "presentationml.presentation"},
        {"svg", "image/svg+xml"},
        {"tar", "application/x-tar"},
        {"tif", "image/tiff"},
        {"tiff", "image/tiff"},
        {"txt", "text/plain"},
        {"vcf", "text/vcard"},
        {"wav", "audio/wav"},
        {"webm", "video/webm"},
        {"webp", "image/webp"},
        {"xlsx", "application/vnd.openxmlformats-officedocument."
                 "spreadsheetml.sheet"},
        {"xml", "application/xml"},
        {"xz", "application/x-xz"},
        {"zip", "application/zip"},
        {"zst", "application/zstd"},
    };
    const char *dot = strrchr(name, '.');
    if (dot != NULL && dot != name) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i][0]) == 0)
                return types[i][1];
    }
    return "application/octet-stream";
}

enum xs_err upload_open(struct upload_file *f, struct xs_error *err)
{
    struct stat st = {0}; /* set by fstat before any use */
    char *shown = text_printable(f->path, strlen(f->path), 200);
    enum xs_err e = XS_OK;
    f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (f->fd < 0)
        e = xs_seterr(err, XS_ENOINPUT, "cannot open %s: %s", shown,
                      strerror(errno));
    else if (fstat(f->fd, &st) != 0)
        e = xs_seterr(err, XS_ENOINPUT, "cannot read %s: %s", shown,
                      strerror(errno));
    else if (!S_ISREG(st.st_mode))
        e = xs_seterr(err, XS_ENOINPUT, "%s is not a regular file", shown);
    else if (st.st_size == 0)
        e = xs_seterr(err, XS_EDATA, "%s is empty", shown);
    if (e == XS_OK) {
        /* O_NONBLOCK only kept a FIFO from blocking the open. */
        (void)fcntl(f->fd, F_SETFL, 0);
        const char *base = strrchr(f->path, '/');
        base = base != NULL ? base + 1 : f->path;
        size_t changed = 0;
        /* The name goes into XML and a URL: valid, printable UTF-8. */
        f->name = text_sanitize(base, strlen(base), &changed);
        f->size = (long long)st.st_size;
        f->type = upload_content_type(f->name);
    }
    free(shown);
    return e;
}

void upload_file_free(struct upload_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    free(f->name);
    free(f->get_url);
    f->name = f->get_url = NULL;
}

/* ---------------------------------------------------------------- */
/* Parsers                                                           */

/* A strict decimal size ("0" to 2^63-1); -1 when it is none. */
static long long parse_size(const char *v)
{
    if (v == NULL || *v < '0' || *v > '9' || strlen(v) > 18)
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    return errno != 0 || *end != '\0' ? -1 : n;
}

int upload_parse_info(const struct xnode *query, long long *max)
{
    int offered = 0;
    *max = -1;
    if (query == NULL)
        return 0;
    for (const struct xnode *c = query->children; c != NULL; c = c->next) {
        const char *var = xnode_attr(c, "var");
        if (xnode_is(c, "feature", NS_DISCO_INFO) && var != NULL &&
            strcmp(var, NS_UPLOAD) == 0)
            offered = 1;
        if (!xnode_is(c, "x", NS_XDATA))
            continue;
        /* The form with FORM_TYPE urn:xmpp:http:upload:0 (XEP-0363 4). */
        int ours = 0;
        long long m = -1;
        for (const struct xnode *fl = c->children; fl != NULL; fl = fl->next) {
            const char *fv = xnode_attr(fl, "var");
            if (!xnode_is(fl, "field", NS_XDATA) || fv == NULL)
                continue;
            const char *val = xnode_text(xnode_child(fl, "value", NS_XDATA));
            if (strcmp(fv, "FORM_TYPE") == 0 && strcmp(val, NS_UPLOAD) == 0)
                ours = 1;
            else if (strcmp(fv, "max-file-size") == 0)
                m = parse_size(val);
        }
        if (ours && m >= 0)
            *max = m;
    }
    return offered;
}

/* Is 'url' an acceptable slot URL: https://, printable ASCII without
 * white space, not too long? */
static int url_ok(const char *url)
{
    if (url == NULL || strncasecmp(url, "https://", 8) != 0 || url[8] == '\0' ||
        strlen(url) > UPLOAD_MAX_URL)
        return 0;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

/* A copy of 's' without CR and LF (XEP-0363 5.1: header injection). */
static char *strip_crlf(const char *s)
{
    char *out = xstrdup(s);
    size_t k = 0;
    for (size_t i = 0; out[i]; i++)
        if (out[i] != '\r' && out[i] != '\n')
            out[k++] = out[i];
    out[k] = '\0';
    return out;
}

enum xs_err upload_parse_slot(const struct xnode *iq,
                              struct upload_slot *slot,
                              struct xs_error *err)
{
    static const char *const allowed[] = {"Authorization", "Cookie", "Expires"};
    memset(slot, 0, sizeof *slot);
    const struct xnode *sl = xnode_child(iq, "slot", NS_UPLOAD);
    const struct xnode *put = xnode_child(sl, "put", NS_UPLOAD);
    const struct xnode *get = xnode_child(sl, "get", NS_UPLOAD);
    if (sl == NULL || put == NULL || get == NULL)
        return xs_seterr(err, XS_EPROTO,
                         "the upload service answered without a slot");
    const char *pu = xnode_attr(put, "url");
    const char *gu = xnode_attr(get, "url");
    if (!url_ok(pu) || !url_ok(gu)) {
        const char *bad = url_ok(pu) ? gu : pu;
        char *b = text_printable(bad ? bad : "", bad ? strlen(bad) : 0, 100);
        xs_seterr(err, XS_EPROTO,
                  "the upload slot's %s URL is not an https:// URL: '%s'",
                  url_ok(pu) ? "get" : "put", b);
        free(b);
        return XS_EPROTO;
    }
    slot->put_url = xstrdup(pu);
    slot->get_url = xstrdup(gu);
    for (const struct xnode *h = put->children; h != NULL; h = h->next) {
        const char *name = xnode_attr(h, "name");
        if (!xnode_is(h, "header", NS_UPLOAD) || name == NULL)
            continue;
        char *n = strip_crlf(name);
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
            if (strcasecmp(n, allowed[i]) != 0 ||
                slot->nheaders == UPLOAD_MAX_HEADERS)
                continue;
            char *v = strip_crlf(xnode_text(h));
            slot->headers[slot->nheaders++] =
                xasprintf("%s: %s", allowed[i], v);
            free(v);
        }
        free(n);
    }
    return XS_OK;
}

void upload_slot_free(struct upload_slot *slot)
{
    free(slot->put_url);
    free(slot->get_url);
    for (size_t i = 0; i < slot->nheaders; i++)
        xs_free_secret(slot->headers[i]); /* bearer tokens */
    memset(slot, 0, sizeof *slot);
}

/* ---------------------------------------------------------------- */
/* Discovery                                                         */

/* What the disco#info answers of the candidates say (disco.c). */
struct offers {
    int offers[DISCO_MAX];
    long long max[DISCO_MAX];
};

static void on_info(void *ud, size_t i, const struct xnode *query)
{
    struct offers *o = ud;
    o->offers[i] = upload_parse_info(query, &o->max[i]);
}

enum xs_err upload_find_service(struct xmpp_session *s,
                                char **service,
                                long long *max,
                                struct xs_error *err)
{
    struct disco d;
    struct offers o;
    memset(&o, 0, sizeof o);
    enum xs_err e = disco_services(s, "discovering the upload service", &d,
                                   on_info, &o, err);
    if (e == XS_OK) {
        e = XS_EREFUSED;
        for (size_t i = 0; i < d.n && e != XS_OK; i++) {
            if (!o.offers[i])
                continue;
            *service = xstrdup(d.jid[i]);
            *max = o.max[i];
            e = XS_OK;
        }
        if (e != XS_OK)
            xs_seterr(err, XS_EREFUSED,
                      "the server offers no HTTP upload service "
                      "(XEP-0363)");
    }
    disco_free(&d);
    return e;
}

/* ---------------------------------------------------------------- */
/* Slot and PUT                                                      */

/* The limit in the refusal of a slot (XEP-0363 5.2), or -1. */
static long long refused_max(const struct xnode *reply)
{
    const struct xnode *e = xnode_child(reply, "error", NULL);
    const struct xnode *big = xnode_child(e, "file-too-large", NS_UPLOAD);
    if (big == NULL)
        return -1;
    long long m =
        parse_size(xnode_text(xnode_child(big, "max-file-size", NS_UPLOAD)));
    return m >= 0 ? m : 0;
}

static enum xs_err
too_large(const struct upload_file *f, long long max, struct xs_error *err)
{
    char *p = text_printable(f->path, strlen(f->path), 200);
    if (max > 0)
        xs_seterr(err, XS_EDATA,
                  "%s is %lld bytes; the upload service accepts at most "
                  "%lld",
                  p, f->size, max);
    else
        xs_seterr(err, XS_EDATA,
                  "%s (%lld bytes) is too large for the upload service", p,
                  f->size);
    free(p);
    return XS_EDATA;
}

struct progress_ud {
    const struct upload_opts *o;
    const struct upload_file *f;
};

static void on_progress(void *ud, long long sent, long long total)
{
    const struct progress_ud *p = ud;
    p->o->progress(p->o->ud, p->f, sent, total);
}

/* Request a slot for 'f' at 'service' and PUT the file there. */
static enum xs_err upload_one(struct xmpp_session *s,
                              const struct upload_opts *o,
                              const char *service,
                              struct upload_file *f,
                              struct xs_error *err)
{
    struct buf req = {0};
    buf_addstr(&req, "<request xmlns='" NS_UPLOAD "' filename='");
    buf_add_xml(&req, f->name, strlen(f->name));
    buf_printf(&req, "' size='%lld' content-type='", f->size);
    buf_add_xml(&req, f->type, strlen(f->type));
    buf_addstr(&req, "'/>");
    struct xnode *reply = NULL;
    struct xs_error serr = {0};
    enum xs_err e = xmpp_iq(s, "get", service, req.data,
                            "requesting an upload slot", &reply, &serr);
    buf_free(&req);
    if (e != XS_OK) {
        long long m = reply != NULL ? refused_max(reply) : -1;
        xnode_free(reply);
        if (m >= 0)
            return too_large(f, m, err);
        *err = serr;
        return e;
    }
    struct upload_slot slot;
    e = upload_parse_slot(reply, &slot, err);
    xnode_free(reply);
    if (e != XS_OK)
        return e;
    struct progress_ud pu = {o, f};
    struct http_put p = {
        .url = slot.put_url,
        .fd = f->fd,
        .size = f->size,
        .content_type = f->type,
        .headers = (const char *const *)slot.headers,
        .nheaders = slot.nheaders,
        .cafile = o->cafile,
        .insecure = o->insecure,
        .deadline = o->deadline,
        .progress = o->progress != NULL ? on_progress : NULL,
        .ud = &pu,
    };
    long status = 0;
    e = http_put(&p, &status, err);
    if (e == XS_OK) {
        f->get_url = slot.get_url;
        slot.get_url = NULL;
    }
    upload_slot_free(&slot);
    return e;
}

enum xs_err upload_run(struct xmpp_session *s,
                       const struct upload_opts *o,
                       struct upload_file *f,
                       size_t n,
                       struct xs_error *err)
{
    char *service = NULL;
    long long max = -1;
    enum xs_err e = upload_find_service(s, &service, &max, err);
    /* Every file within the limit before any slot is requested. */
    for (size_t i = 0; e == XS_OK && i < n; i++)
        if (max >= 0 && f[i].size > max)
            e = too_large(&f[i], max, err);
    for (size_t i = 0; e == XS_OK && i < n; i++)
        e = upload_one(s, o, service, &f[i], err);
    free(service);
    return e;
}
