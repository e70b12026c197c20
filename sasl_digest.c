/* SPDX-License-Identifier: MIT */
/*
 * sasl_digest.c - DIGEST-MD5 (RFC 2831), for old servers only: RFC 6331
 * made it historic, and sasl_select uses it only when neither SCRAM nor
 * PLAIN is offered or when --mechanism asks for it, never over an
 * unverified connection.  Pure: no I/O, no XML; messages are raw bytes.
 *
 * What is supported: one exchange (no reauthentication), qop=auth only
 * (no integrity or confidentiality layer), algorithm=md5-sess, no
 * authzid, charset=utf-8 when the server offers it (otherwise user
 * names and passwords must be ASCII).  The server must prove that it
 * knows the password (rspauth, compared in constant time) before the
 * session accepts <success/>.
 *
 * The challenge comes from a server that has not proven anything yet,
 * so it is parsed strictly (RFC 2831 2.1.1, RFC 2616 2.2 for tokens
 * and quoted strings): bounded length, no NUL or control characters,
 * every directive but realm at most once.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "sasl.h"

#define MD5_LEN 16
#define HEX_LEN (2 * MD5_LEN)
/* Bytes of randomness in a generated cnonce (as for SCRAM). */
#define DIGEST_NONCE_BYTES 24
/* The longest directive value we keep (the challenge is < 2048). */
#define DIGEST_MAX_VALUE 1024

enum digest_state { DIGEST_STARTED, DIGEST_ANSWERED, DIGEST_FAILED };

struct sasl_digest {
    enum digest_state state;
    char *user;
    char *pw; /* prepared; wiped and freed once used */
    size_t pwlen;
    char *uri;                 /* digest-uri: SERVICE/HOST */
    char *host;                /* to pick among offered realms */
    char *cnonce;              /* client nonce */
    char rspauth[HEX_LEN + 1]; /* expected, once answered */
};

/* One directive of a challenge: name and unquoted value. */
struct directive {
    char name[16];
    char *value; /* allocated */
};

/* ---------------------------------------------------------------- */
/* Parsing (RFC 2616 2.2 tokens and quoted strings)                  */

static int is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* RFC 2616 2.2: token = 1*<any CHAR except CTLs or separators> */
static int is_tokenchar(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/*
 * Parse 'msg' into at most 'max' directives (name=value pairs separated
 * by commas; empty list elements allowed, as the #rule does).  Values
 * are tokens or quoted strings ("\" escapes the next character); control
 * characters are refused everywhere (LWS between elements aside), also
 * inside quoted strings.  0 ok, -1 malformed; either way *n directives
 * are filled, for free_directives.
 */
static int parse_directives(
    const char *msg, size_t len, struct directive *d, size_t max, size_t *n)
{
    const char *p = msg, *end = msg + len;

    *n = 0;
    for (;;) {
        while (p < end && (is_lws(*p) || *p == ','))
            p++;
        if (p == end)
            return 0;
        if (*n == max)
            return -1;
        /* name */
        const char *name = p;
        while (p < end && is_tokenchar((unsigned char)*p))
            p++;
        size_t nlen = (size_t)(p - name);
        if (nlen == 0 || nlen >= sizeof d[0].name)
            return -1;
        while (p < end && is_lws(*p))
            p++;
        if (p == end || *p != '=')
            return -1;
        p++;
        while (p < end && is_lws(*p))
            p++;
        /* value */
        struct buf v = {0};
        buf_add(&v, "", 0);
        if (p < end && *p == '"') {
            p++;
            for (;;) {
                if (p == end || is_ctl((unsigned char)*p)) {
                    buf_free(&v);
                    return -1;
                }
                if (*p == '"')
                    break;
                if (*p == '\\') {
                    p++;
                    if (p == end || is_ctl((unsigned char)*p)) {
                        buf_free(&v);
                        return -1;
                    }
                }
                buf_addch(&v, *p++);
            }
            p++; /* the closing quote */
        } else {
            while (p < end && is_tokenchar((unsigned char)*p))
                buf_addch(&v, *p++);
            if (v.len == 0) {
                buf_free(&v);
                return -1;
            }
        }
        if (v.len > DIGEST_MAX_VALUE) {
            buf_free(&v);
            return -1;
        }
        /* After a value: LWS, then a comma or the end. */
        while (p < end && is_lws(*p))
            p++;
        if (p < end && *p != ',') {
            buf_free(&v);
            return -1;
        }
        memcpy(d[*n].name, name, nlen);
        d[*n].name[nlen] = '\0';
        d[*n].value = v.data;
        (*n)++;
    }
}

static void free_directives(struct directive *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i].value);
}

/* Is 'tok' one of the comma-separated tokens of 'list' (any case)? */
static int list_has(const char *list, const char *tok)
{
    size_t tl = strlen(tok);
    const char *p = list;

    for (;;) {
        while (is_lws(*p) || *p == ',')
            p++;
        if (*p == '\0')
            return 0;
        const char *q = p;
        while (*q != '\0' && *q != ',' && !is_lws(*q))
            q++;
        if ((size_t)(q - p) == tl && strncasecmp(p, tok, tl) == 0)
            return 1;
        p = q;
    }
}

/* ---------------------------------------------------------------- */
/* The exchange                                                      */

struct sasl_digest *sasl_digest_new(const char *user,
                                    const char *password,
                                    int raw,
                                    const char *service,
                                    const char *host,
                                    const char *cnonce,
                                    struct xs_error *err)
{
    if (user == NULL || *user == '\0' || password == NULL || service == NULL ||
        host == NULL || *host == '\0') {
        xs_seterr(err, XS_ESOFTWARE,
                  "missing DIGEST-MD5 user name, password or host");
        return NULL;
    }
    if (!utf8_valid(user, strlen(user))) {
        xs_seterr(err, XS_EDATA, "username is not valid UTF-8");
        return NULL;
    }
    if (cnonce != NULL) {
        for (const char *c = cnonce; *c; c++) {
            if (!is_tokenchar((unsigned char)*c) && *c != '/' && *c != '=') {
                xs_seterr(err, XS_ESOFTWARE, "invalid DIGEST-MD5 cnonce");
                return NULL;
            }
        }
    }
    struct sasl_digest *d = xcalloc(1, sizeof *d);
    if (sasl_password_prepare(password, raw, &d->pw, &d->pwlen, err) != XS_OK) {
        sasl_digest_free(d);
        return NULL;
    }
    d->user = xstrdup(user);
    d->uri = xasprintf("%s/%s", service, host);
    d->host = xstrdup(host);
    if (cnonce != NULL) {
        d->cnonce = xstrdup(cnonce);
    } else {
        unsigned char rnd[DIGEST_NONCE_BYTES];
        if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) < 0) {
            xs_seterr(err, XS_ESOFTWARE, "cannot generate a DIGEST-MD5 nonce");
            sasl_digest_free(d);
            return NULL;
        }
        d->cnonce = b64_encode(rnd, sizeof rnd);
        xs_wipe(rnd, sizeof rnd);
    }
    d->state = DIGEST_STARTED;
    return d;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int md5(const void *in, size_t n, unsigned char out[MD5_LEN])
{
    return gnutls_hash_fast(GNUTLS_DIG_MD5, in, n, out) < 0 ? -1 : 0;
}

/*
 * RFC 2831 2.1.2.1, qop=auth, no authzid:
 *   A1 = H(user ":" realm ":" passwd) ":" nonce ":" cnonce
 *   A2 = PREFIX ":" digest-uri      (PREFIX "AUTHENTICATE" or "")
 *   HEX(H(HEX(H(A1)) ":" nonce ":" nc ":" cnonce ":" qop ":" HEX(H(A2))))
 * The client's response uses PREFIX "AUTHENTICATE", rspauth "".
 */
static int digest_value(const struct sasl_digest *d,
                        const char *realm,
                        const char *nonce,
                        const char *prefix,
                        char out[HEX_LEN + 1])
{
    unsigned char h[MD5_LEN];
    char ha1[HEX_LEN + 1], ha2[HEX_LEN + 1];
    struct buf b = {0};
    int rc = -1;

    buf_printf(&b, "%s:%s:", d->user, realm);
    buf_add(&b, d->pw, d->pwlen);
    if (md5(b.data, b.len, h) != 0)
        goto out;
    buf_wipe(&b);
    buf_add(&b, h, sizeof h);
    buf_printf(&b, ":%s:%s", nonce, d->cnonce);
    if (md5(b.data, b.len, h) != 0)
        goto out;
    hex(h, sizeof h, ha1);
    buf_wipe(&b);
    buf_printf(&b, "%s:%s", prefix, d->uri);
    if (md5(b.data, b.len, h) != 0)
        goto out;
    hex(h, sizeof h, ha2);
    buf_wipe(&b);
    buf_printf(&b, "%s:%s:00000001:%s:auth:%s", ha1, nonce, d->cnonce, ha2);
    if (md5(b.data, b.len, h) != 0)
        goto out;
    hex(h, sizeof h, out);
    rc = 0;
out:
    buf_wipe(&b);
    xs_wipe(h, sizeof h);
    xs_wipe(ha1, sizeof ha1);
    return rc;
}

/* Append ,NAME="VALUE" with '"' and '\' escaped (RFC 2616 2.2). */
static void add_quoted(struct buf *out, const char *name, const char *v)
{
    buf_printf(out, "%s%s=\"", out->len > 0 ? "," : "", name);
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            buf_addch(out, '\\');
        buf_addch(out, *v);
    }
    buf_addch(out, '"');
}

static int ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

static enum xs_err malformed(struct xs_error *err, const char *why)
{
    return xs_seterr(err, XS_EPROTO,
                     "server sent an invalid DIGEST-MD5 "
                     "challenge (%s)",
                     why);
}

enum xs_err sasl_digest_response(struct sasl_digest *d,
                                 const char *challenge,
                                 size_t len,
                                 struct buf *out,
                                 struct xs_error *err)
{
    struct directive dir[32];
    size_t n = 0;
    const char *nonce = NULL, *qop = NULL, *charset = NULL, *alg = NULL;
    const char *realms[SASL_DIGEST_MAX_REALMS];
    size_t nrealms = 0;
    enum xs_err e = XS_OK;

    if (d == NULL || d->state != DIGEST_STARTED || d->pw == NULL)
        return xs_seterr(err, XS_ESOFTWARE,
                         "DIGEST-MD5 exchange used out of order");
    d->state = DIGEST_FAILED;
    if (challenge == NULL || len == 0)
        return malformed(err, "empty");
    if (len > SASL_DIGEST_MAX_CHALLENGE)
        return malformed(err, "longer than 2047 bytes");
    if (memchr(challenge, '\0', len) != NULL)
        return malformed(err, "NUL byte");
    if (parse_directives(challenge, len, dir, sizeof dir / sizeof dir[0], &n) !=
        0) {
        e = malformed(err, "syntax");
        goto out;
    }

    for (size_t i = 0; i < n && e == XS_OK; i++) {
        static const char *const once[] = {"nonce",     "qop",    "charset",
                                           "algorithm", "stale",  "maxbuf",
                                           "cipher",    "rspauth"};
        const char *name = dir[i].name;
        if (strcasecmp(name, "realm") == 0) {
            if (nrealms == SASL_DIGEST_MAX_REALMS)
                e = malformed(err, "too many realms");
            else
                realms[nrealms++] = dir[i].value;
            continue;
        }
        for (size_t k = 0; k < sizeof once / sizeof once[0]; k++) {
            if (strcasecmp(name, once[k]) != 0)
                continue;
            for (size_t j = 0; j < i; j++) {
                if (strcasecmp(dir[j].name, name) == 0) {
                    e = malformed(err, "a directive twice");
                    break;
                }
            }
        }
        if (strcasecmp(name, "nonce") == 0)
            nonce = dir[i].value;
        else if (strcasecmp(name, "qop") == 0)
            qop = dir[i].value;
        else if (strcasecmp(name, "charset") == 0)
            charset = dir[i].value;
        else if (strcasecmp(name, "algorithm") == 0)
            alg = dir[i].value;
        else if (strcasecmp(name, "rspauth") == 0)
            e = malformed(err, "rspauth before our response");
    }
    if (e != XS_OK)
        goto out;
    if (nonce == NULL || *nonce == '\0') {
        e = malformed(err, "no nonce");
        goto out;
    }
    if (alg == NULL || strcasecmp(alg, "md5-sess") != 0) {
        e = malformed(err, "algorithm is not md5-sess");
        goto out;
    }
    /* RFC 2831: qop absent means "auth". */
    if (qop != NULL && !list_has(qop, "auth")) {
        e = malformed(err, "qop does not offer auth");
        goto out;
    }
    if (charset != NULL && strcasecmp(charset, "utf-8") != 0) {
        e = malformed(err, "charset is not utf-8");
        goto out;
    }
    /* The realm: one equal to our domain, else the first one offered;
     * none offered: left out, and "" in the hash (RFC 2831 2.1.2). */
    const char *realm = nrealms > 0 ? realms[0] : NULL;
    for (size_t i = 0; i < nrealms; i++) {
        if (strcasecmp(realms[i], d->host) == 0)
            realm = realms[i];
    }
    if (realm != NULL && !utf8_valid(realm, strlen(realm))) {
        e = malformed(err, "realm is not UTF-8");
        goto out;
    }
    if (charset == NULL &&
        (!ascii(d->user, strlen(d->user)) || !ascii(d->pw, d->pwlen) ||
         (realm != NULL && !ascii(realm, strlen(realm))))) {
        e = xs_seterr(err, XS_EREFUSED,
                      "server's DIGEST-MD5 does not take UTF-8 (no "
                      "charset=utf-8) and the user name or password is not "
                      "ASCII");
        goto out;
    }

    char response[HEX_LEN + 1];
    if (digest_value(d, realm ? realm : "", nonce, "AUTHENTICATE", response) !=
            0 ||
        digest_value(d, realm ? realm : "", nonce, "", d->rspauth) != 0) {
        e = xs_seterr(err, XS_ESOFTWARE, "cannot compute DIGEST-MD5 (MD5)");
        goto out;
    }
    struct buf r = {0};
    add_quoted(&r, "username", d->user);
    if (realm != NULL)
        add_quoted(&r, "realm", realm);
    add_quoted(&r, "nonce", nonce);
    add_quoted(&r, "cnonce", d->cnonce);
    buf_addstr(&r, ",nc=00000001,qop=auth");
    add_quoted(&r, "digest-uri", d->uri);
    buf_printf(&r, ",response=%s", response);
    if (charset != NULL)
        buf_addstr(&r, ",charset=utf-8");
    buf_add(out, r.data, r.len);
    buf_wipe(&r);
    xs_wipe(response, sizeof response);
    d->state = DIGEST_ANSWERED;
out:
    free_directives(dir, n);
    /* The password is used exactly once. */
    xs_wipe(d->pw, d->pwlen);
    free(d->pw);
    d->pw = NULL;
    d->pwlen = 0;
    return e;
}

enum xs_err sasl_digest_verify(struct sasl_digest *d,
                               const char *msg,
                               size_t len,
                               struct xs_error *err)
{
    int ok = 0;

    if (d == NULL || d->state != DIGEST_ANSWERED)
        return xs_seterr(err, XS_ESOFTWARE,
                         "DIGEST-MD5 exchange used out of order");
    if (msg != NULL && len > 0 && len <= SASL_DIGEST_MAX_CHALLENGE &&
        memchr(msg, '\0', len) == NULL) {
        struct directive dir[4];
        size_t n = 0;
        /* response-auth = "rspauth" "=" response-value: exactly that. */
        if (parse_directives(msg, len, dir, sizeof dir / sizeof dir[0], &n) ==
                0 &&
            n == 1 && strcasecmp(dir[0].name, "rspauth") == 0 &&
            strlen(dir[0].value) == HEX_LEN &&
            gnutls_memcmp(dir[0].value, d->rspauth, HEX_LEN) == 0)
            ok = 1;
        free_directives(dir, n);
    }
    if (!ok)
        return xs_seterr(err, XS_EPROTO,
                         "server failed DIGEST-MD5 mutual authentication "
                         "(wrong or missing rspauth)");
    return XS_OK;
}

void sasl_digest_free(struct sasl_digest *d)
{
    if (d == NULL)
        return;
    if (d->pw != NULL) {
        xs_wipe(d->pw, d->pwlen);
        free(d->pw);
    }
    free(d->user);
    free(d->uri);
    free(d->host);
    if (d->cnonce != NULL)
        xs_free_secret(d->cnonce);
    xs_wipe(d, sizeof *d);
    free(d);
}
