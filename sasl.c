/* SPDX-License-Identifier: MIT */
/*
 * sasl.c - SASL mechanism maths for xmppsend: which mechanism to use,
 * PLAIN (RFC 4616) and SCRAM (RFC 5802, RFC 7677, channel binding per
 * RFC 9266).  Pure: no I/O, no XML; messages are raw bytes and the
 * caller does the base64 for the wire.
 *
 * The server is not trusted until it has proven knowledge of the
 * password (ServerSignature).  Everything it sends before that is checked
 * against the hostile-server list in RFC 5802 section 5.1 and
 * RFC 7677 section 4: mandatory extensions, a nonce that does not extend
 * ours, bad salts and iteration counts that would crash (i=0 makes
 * nettle's pbkdf2 assert) or stall us (i=4294967295) are all refused
 * before any key derivation.  Crypto comes from GnuTLS only.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "sasl.h"

/* Largest digest we use (SHA-512). */
#define SASL_HASH_MAX 64
/* Bytes of randomness in a generated client nonce (RFC 5802: >= 18). */
#define SASL_NONCE_BYTES 24
/* Salt size limit after decoding (protocol.md 3.2). */
#define SASL_SALT_MAX 1024
/* ...and before: the base64 length of SASL_SALT_MAX bytes. */
#define SASL_SALT_B64_MAX ((size_t)(SASL_SALT_MAX + 2) / 3 * 4)

enum scram_state {
    SCRAM_STARTED, /* client-first can be produced */
    SCRAM_PROVED,  /* client-final sent; ServerSignature known */
    SCRAM_FAILED   /* server-first rejected: nothing more to do */
};

struct sasl_scram {
    enum sasl_mech mech;
    enum scram_state state;
    gnutls_mac_algorithm_t mac;
    gnutls_digest_algorithm_t dig;
    size_t hlen;
    /* Normalised password; wiped and freed as soon as it has been used. */
    unsigned char *pw;
    size_t pwlen;
    char *cnonce;
    size_t cnonce_len;
    struct buf gs2_header;  /* e.g. "n,," */
    struct buf cbind;       /* base64(gs2-header || cb-data), for c= */
    struct buf client_bare; /* "n=user,r=cnonce" */
    /* Expected v= value: base64(ServerSignature). */
    char *server_sig_b64;
    /* XEP-0474: the expected "h" and "d" values (NULL: no check). */
    char *ssdp_h, *ssdp_d;
    int ssdp_required; /* a server-first without either is refused */
    int ssdp_ok;       /* server-first carried a matching one */
    /* RFC 5802 section 5.1 key cache: the keys offered by the caller
     * (sasl_scram_use_keys) and those of this exchange, for the salt
     * and iteration count they belong to. */
    int have_cached, cache_hit, have_keys;
    char *cached_salt, *salt;
    unsigned cached_iter, iter;
    unsigned char cached_ck[SASL_HASH_MAX], cached_sk[SASL_HASH_MAX];
    unsigned char ck[SASL_HASH_MAX], sk[SASL_HASH_MAX];
};

const char *sasl_mech_name(enum sasl_mech m)
{
    switch (m) {
    case SASL_PLAIN:
        return "PLAIN";
    case SASL_SCRAM_SHA_1:
        return "SCRAM-SHA-1";
    case SASL_SCRAM_SHA_256:
        return "SCRAM-SHA-256";
    case SASL_SCRAM_SHA_512:
        return "SCRAM-SHA-512";
    case SASL_EXTERNAL:
        return "EXTERNAL";
    case SASL_DIGEST_MD5:
        return "DIGEST-MD5";
    case SASL_NONE:
        break;
    }
    return "";
}

enum sasl_mech sasl_mech_from_name(const char *name)
{
    static const enum sasl_mech all[] = {
        SASL_PLAIN, SASL_SCRAM_SHA_1, SASL_SCRAM_SHA_256, SASL_SCRAM_SHA_512};
    size_t i;

    if (name == NULL)
        return SASL_NONE;
    /* RFC 4422 section 3.1: mechanism names are compared exactly. */
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, sasl_mech_name(all[i])) == 0)
            return all[i];
    }
    return SASL_NONE;
}

enum sasl_mech
sasl_choose(const char *const *offered, size_t n, int allow_plain)
{
    enum sasl_mech best = SASL_NONE;
    size_t i;

    for (i = 0; i < n; i++) {
        enum sasl_mech m = sasl_mech_from_name(offered[i]);

        if (m > best)
            best = m;
    }
    /*
     * PLAIN hands the password to the server.  Use it only when the user
     * opted in and the server offers no SCRAM at all: once SCRAM has been
     * seen, falling back would let an attacker who strips SCRAM from the
     * list collect the password (XEP-0474, Business Rules).
     */
    if (best == SASL_PLAIN && !allow_plain)
        return SASL_NONE;
    return best;
}

char *sasl_escape_username(const char *user)
{
    struct buf b = {0};
    const char *p;

    buf_add(&b, "", 0);
    for (p = user; *p != '\0'; p++) {
        if (*p == '=')
            buf_addstr(&b, "=3D");
        else if (*p == ',')
            buf_addstr(&b, "=2C");
        else
            buf_addch(&b, *p);
    }
    return b.data;
}

/* RFC 5802 section 7: printable ASCII except ',' (and never empty). */
static int nonce_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
            return 0;
    }
    return 1;
}

/* RFC 5802 section 7: cb-name = 1*(ALPHA / DIGIT / "." / "-") */
static int cbname_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
            return 0;
    }
    return 1;
}

static void scram_wipe_pw(struct sasl_scram *s)
{
    if (s->pw != NULL) {
        xs_wipe(s->pw, s->pwlen);
        free(s->pw);
        s->pw = NULL;
        s->pwlen = 0;
    }
}

/*
 * The password as it goes into any mechanism: PRECIS OpaqueString
 * (RFC 8265 section 4.2; RFC 4616 and RFC 5802 both ask for a prepared
 * password), or a plain copy when 'raw'.  *pw is ours to wipe and free.
 */
static enum xs_err prepare_password(const char *password,
                                    int raw,
                                    char **pw,
                                    size_t *pwlen,
                                    struct xs_error *err)
{
    gnutls_datum_t norm = {NULL, 0};
    size_t len = strlen(password);
    int rc;

    *pw = NULL;
    *pwlen = 0;
    /* Far above any real password; keeps datum sizes (unsigned) safe. */
    if (len > 65536)
        return xs_seterr(err, XS_EDATA, "password is too long");
    /*
     * Printable ASCII (U+0020..U+007E) is its own OpaqueString: no
     * mapping or normalisation changes it, and nothing in it is
     * disallowed (GnuTLS returns it unchanged).  Skipping GnuTLS here
     * keeps libunistring's normalisation tables out of memory.  Other
     * ASCII (controls) and non-ASCII text go to GnuTLS, which refuses
     * or normalises them.
     */
    size_t printable = 0;
    while (printable < len && password[printable] >= 0x20 &&
           password[printable] <= 0x7e)
        printable++;
    if (raw || printable == len) {
        *pw = xmalloc(len + 1);
        memcpy(*pw, password, len + 1);
        *pwlen = len;
        return XS_OK;
    }
    rc = gnutls_utf8_password_normalize((const unsigned char *)password,
                                        (unsigned)len, &norm, 0);
    if (rc < 0) {
        return xs_seterr(err, XS_EDATA,
                         "password cannot be normalised (PRECIS "
                         "OpaqueString): %s",
                         gnutls_strerror(rc));
    }
    /* Copy into our own memory so one wipe-and-free path covers it. */
    *pw = xmalloc((size_t)norm.size + 1);
    memcpy(*pw, norm.data, norm.size);
    (*pw)[norm.size] = '\0';
    *pwlen = norm.size;
    gnutls_memset(norm.data, 0, norm.size);
    gnutls_free(norm.data);
    return XS_OK;
}

enum xs_err sasl_password_prepare(const char *password,
                                  int raw,
                                  char **pw,
                                  size_t *pwlen,
                                  struct xs_error *err)
{
    if (password == NULL)
        return xs_seterr(err, XS_ESOFTWARE, "no password");
    return prepare_password(password, raw, pw, pwlen, err);
}

enum xs_err sasl_plain_prepare(const char *user,
                               const char *password,
                               int raw,
                               struct buf *out,
                               struct xs_error *err)
{
    char *pw;
    size_t pwlen;
    enum xs_err e;

    if (user == NULL || password == NULL)
        return xs_seterr(err, XS_ESOFTWARE,
                         "missing PLAIN user name or password");
    e = prepare_password(password, raw, &pw, &pwlen, err);
    if (e != XS_OK)
        return e;
    /* RFC 4616 section 2: [authzid] NUL authcid NUL passwd */
    buf_addch(out, '\0');
    buf_addstr(out, user);
    buf_addch(out, '\0');
    buf_add(out, pw, pwlen);
    xs_wipe(pw, pwlen);
    free(pw);
    return XS_OK;
}

/* Normalise (PRECIS OpaqueString) or copy into s->pw. */
static enum xs_err scram_set_password(struct sasl_scram *s,
                                      const char *password,
                                      int raw,
                                      struct xs_error *err)
{
    char *pw;
    size_t pwlen;
    enum xs_err e = prepare_password(password, raw, &pw, &pwlen, err);

    if (e != XS_OK)
        return e;
    s->pw = (unsigned char *)pw;
    s->pwlen = pwlen;
    return XS_OK;
}

struct sasl_scram *sasl_scram_new(enum sasl_mech mech,
                                  const char *user,
                                  const char *password,
                                  int raw,
                                  const char *cnonce,
                                  const char *gs2_cbflag,
                                  const unsigned char *cbdata,
                                  size_t cblen,
                                  struct xs_error *err)
{
    struct sasl_scram *s;
    struct buf cb = {0};
    char *esc, *b64;
    int binding;

    if (user == NULL || *user == '\0' || password == NULL ||
        gs2_cbflag == NULL) {
        xs_seterr(err, XS_ESOFTWARE, "missing SCRAM user name or password");
        return NULL;
    }
    if (strcmp(gs2_cbflag, "n") == 0 || strcmp(gs2_cbflag, "y") == 0) {
        binding = 0;
    } else if (strncmp(gs2_cbflag, "p=", 2) == 0 && cbname_ok(gs2_cbflag + 2)) {
        binding = 1;
        if (cbdata == NULL || cblen == 0) {
            xs_seterr(err, XS_ESOFTWARE,
                      "SCRAM channel binding requested without binding data");
            return NULL;
        }
    } else {
        xs_seterr(err, XS_ESOFTWARE, "invalid SCRAM channel-binding flag");
        return NULL;
    }
    if (cnonce != NULL && (strlen(cnonce) > SASL_SCRAM_MAX_FIELD / 2 ||
                           !nonce_ok(cnonce, strlen(cnonce)))) {
        xs_seterr(err, XS_ESOFTWARE, "invalid SCRAM client nonce");
        return NULL;
    }
    if (!utf8_valid(user, strlen(user))) {
        xs_seterr(err, XS_EDATA, "username is not valid UTF-8");
        return NULL;
    }

    s = xcalloc(1, sizeof(*s));
    s->mech = mech;
    s->state = SCRAM_STARTED;
    switch (mech) {
    case SASL_SCRAM_SHA_1:
        s->mac = GNUTLS_MAC_SHA1;
        s->dig = GNUTLS_DIG_SHA1;
        break;
    case SASL_SCRAM_SHA_256:
        s->mac = GNUTLS_MAC_SHA256;
        s->dig = GNUTLS_DIG_SHA256;
        break;
    case SASL_SCRAM_SHA_512:
        s->mac = GNUTLS_MAC_SHA512;
        s->dig = GNUTLS_DIG_SHA512;
        break;
    case SASL_NONE:
    case SASL_PLAIN:
    default:
        free(s);
        xs_seterr(err, XS_ESOFTWARE, "not a SCRAM mechanism");
        return NULL;
    }
    s->hlen = gnutls_hash_get_len(s->dig);

    if (scram_set_password(s, password, raw, err) != XS_OK) {
        sasl_scram_free(s);
        return NULL;
    }

    if (cnonce != NULL) {
        s->cnonce = xstrdup(cnonce);
    } else {
        unsigned char rnd[SASL_NONCE_BYTES];

        if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0) {
            xs_seterr(err, XS_ESOFTWARE, "cannot generate a SCRAM nonce");
            sasl_scram_free(s);
            return NULL;
        }
        /* base64 never contains ',' so the nonce is always valid. */
        s->cnonce = b64_encode(rnd, sizeof(rnd));
        xs_wipe(rnd, sizeof(rnd));
    }
    s->cnonce_len = strlen(s->cnonce);

    /* RFC 5802 section 7: gs2-header = cbind-flag "," [authzid] "," */
    buf_addstr(&s->gs2_header, gs2_cbflag);
    buf_addstr(&s->gs2_header, ",,");

    /* c= carries the gs2-header, then the binding data for "p=". */
    buf_add(&cb, s->gs2_header.data, s->gs2_header.len);
    if (binding)
        buf_add(&cb, cbdata, cblen);
    b64 = b64_encode(cb.data, cb.len);
    buf_addstr(&s->cbind, b64);
    free(b64);
    buf_wipe(&cb);

    esc = sasl_escape_username(user);
    buf_printf(&s->client_bare, "n=%s,r=%s", esc, s->cnonce);
    free(esc);
    return s;
}

void sasl_scram_first(struct sasl_scram *s, struct buf *out)
{
    buf_add(out, s->gs2_header.data, s->gs2_header.len);
    buf_add(out, s->client_bare.data, s->client_bare.len);
}

/*
 * Parsed server-first-message (RFC 5802 section 7):
 *   r=c-nonce s-nonce ,s=salt ,i=iteration-count [,extensions]
 * All pointers point into the caller's message.
 */
struct server_first {
    const char *nonce;
    size_t nonce_len;
    const char *salt;
    size_t salt_len;
    const char *iter;
    size_t iter_len;
    /* XEP-0474 attributes, NULL when absent */
    const char *h, *d;
    size_t h_len, d_len;
};

/*
 * Take the next attribute "X=value" from [*p, end): its name must be
 * 'name' (or any letter when 'name' is 0).  The value runs to the next
 * ',' or the end.  Returns 0 on a mismatch.
 */
static int next_attr(
    const char **p, const char *end, char name, const char **val, size_t *vlen)
{
    const char *q = *p, *comma;

    if (end - q < 2 || q[1] != '=')
        return 0;
    if (name != 0 && q[0] != name)
        return 0;
    if (!((q[0] >= 'a' && q[0] <= 'z') || (q[0] >= 'A' && q[0] <= 'Z')))
        return 0;
    q += 2;
    comma = memchr(q, ',', (size_t)(end - q));
    if (comma == NULL)
        comma = end;
    *val = q;
    *vlen = (size_t)(comma - q);
    /* Step over the ',' unless this was the last attribute. */
    *p = comma == end ? end : comma + 1;
    return 1;
}

/* Error message helper: a short printable copy of a server value. */
static enum xs_err
bad_value(struct xs_error *err, const char *what, const char *v, size_t n)
{
    char *shown = text_printable(v, n, 32);

    xs_seterr(err, XS_EPROTO, "server sent an invalid SCRAM %s (%s%s)", what,
              shown, n > strlen(shown) ? "..." : "");
    free(shown);
    return XS_EPROTO;
}

static enum xs_err parse_server_first(const struct sasl_scram *s,
                                      const char *msg,
                                      size_t len,
                                      struct server_first *sf,
                                      struct xs_error *err)
{
    const char *p = msg, *end = msg + len, *v;
    size_t vlen;

    /* NUL cannot occur; a trailing ',' would be an empty attribute. */
    if (memchr(msg, '\0', len) != NULL || (len > 0 && msg[len - 1] == ','))
        return xs_seterr(err, XS_EPROTO,
                         "server sent a malformed SCRAM challenge");
    /* RFC 5802 section 5.1: "m" marks an extension we must understand. */
    if (len >= 2 && msg[0] == 'm' && msg[1] == '=')
        return xs_seterr(err, XS_EPROTO,
                         "server requires an unsupported SCRAM extension "
                         "(m=)");

    if (!next_attr(&p, end, 'r', &sf->nonce, &sf->nonce_len))
        return xs_seterr(err, XS_EPROTO,
                         "server sent a malformed SCRAM challenge (no "
                         "nonce)");
    if (p == end || !next_attr(&p, end, 's', &sf->salt, &sf->salt_len))
        return xs_seterr(err, XS_EPROTO,
                         "server sent a malformed SCRAM challenge (no "
                         "salt)");
    if (p == end || !next_attr(&p, end, 'i', &sf->iter, &sf->iter_len))
        return xs_seterr(err, XS_EPROTO,
                         "server sent a malformed SCRAM challenge (no "
                         "iteration count)");
    /*
     * Optional extensions may follow (XEP-0474 adds "h" and "d"); they
     * still have to be well formed.
     */
    while (p < end) {
        char name = *p;

        if (!next_attr(&p, end, 0, &v, &vlen))
            return xs_seterr(err, XS_EPROTO,
                             "server sent a malformed SCRAM challenge");
        if (name == 'h' && sf->h == NULL) {
            sf->h = v;
            sf->h_len = vlen;
        } else if (name == 'd' && sf->d == NULL) {
            sf->d = v;
            sf->d_len = vlen;
        }
    }

    /*
     * The nonce must start with ours (otherwise this is a replay or a
     * different exchange) and add the server's part (RFC 5802 section
     * 5.1: the server appends its own nonce).
     */
    if (sf->nonce_len > SASL_SCRAM_MAX_FIELD ||
        !nonce_ok(sf->nonce, sf->nonce_len))
        return bad_value(err, "nonce", sf->nonce, sf->nonce_len);
    if (sf->nonce_len <= s->cnonce_len ||
        memcmp(sf->nonce, s->cnonce, s->cnonce_len) != 0)
        return xs_seterr(err, XS_EPROTO,
                         "server SCRAM nonce does not extend ours");
    return XS_OK;
}

/*
 * i= is a posit-number (RFC 5802 section 7): no sign, no leading zero,
 * digits only.  Range-checked against our bounds (RFC 7677 section 4
 * asks for at least 4096; the cap keeps a server from stalling us).
 */
static enum xs_err
parse_iter(const char *v, size_t n, unsigned *iter, struct xs_error *err)
{
    unsigned long x = 0;
    size_t i;

    if (n == 0 || v[0] == '0')
        return bad_value(err, "iteration count", v, n);
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return bad_value(err, "iteration count", v, n);
        x = x * 10 + (unsigned long)(v[i] - '0');
        if (x > SASL_SCRAM_MAX_ITER)
            return bad_value(err, "iteration count", v, n);
    }
    if (x < SASL_SCRAM_MIN_ITER)
        return bad_value(err, "iteration count", v, n);
    *iter = (unsigned)x;
    return XS_OK;
}

/*
 * The RFC 5802 section 3 key schedule.  'client_final' receives
 * "c=...,r=...,p=..." and s->server_sig_b64 the expected v= value.
 */
static enum xs_err scram_compute(struct sasl_scram *s,
                                 const char *server_first,
                                 size_t len,
                                 const struct server_first *sf,
                                 unsigned char *salt,
                                 size_t salt_len,
                                 unsigned iter,
                                 struct buf *client_final,
                                 struct xs_error *err)
{
    unsigned char salted[SASL_HASH_MAX], client_key[SASL_HASH_MAX];
    unsigned char stored_key[SASL_HASH_MAX], server_key[SASL_HASH_MAX];
    unsigned char client_sig[SASL_HASH_MAX], proof[SASL_HASH_MAX];
    unsigned char server_sig[SASL_HASH_MAX];
    gnutls_datum_t key, saltd;
    struct buf auth = {0};
    char *b64;
    size_t i, h = s->hlen;
    enum xs_err rc = XS_OK;

    key.data = s->pw;
    key.size = (unsigned)s->pwlen;
    saltd.data = salt;
    saltd.size = (unsigned)salt_len;

    /* client-final-message-without-proof */
    buf_addstr(client_final, "c=");
    buf_add(client_final, s->cbind.data, s->cbind.len);
    buf_addstr(client_final, ",r=");
    buf_add(client_final, sf->nonce, sf->nonce_len);

    /* AuthMessage = client-first-bare "," server-first "," c-f-w-p */
    buf_add(&auth, s->client_bare.data, s->client_bare.len);
    buf_addch(&auth, ',');
    buf_add(&auth, server_first, len);
    buf_addch(&auth, ',');
    buf_add(&auth, client_final->data, client_final->len);

    /*
     * Keys kept from an earlier login for this very salt and iteration
     * count (RFC 5802 section 5.1) spare PBKDF2; anything else derives
     * them from the password.  iter >= SASL_SCRAM_MIN_ITER here: nettle
     * asserts on 0.
     */
    s->cache_hit = s->have_cached && s->cached_iter == iter &&
                   strlen(s->cached_salt) == sf->salt_len &&
                   memcmp(s->cached_salt, sf->salt, sf->salt_len) == 0;
    if (s->cache_hit) {
        memcpy(client_key, s->cached_ck, h);
        memcpy(server_key, s->cached_sk, h);
    } else if (gnutls_pbkdf2(s->mac, &key, &saltd, iter, salted, h) < 0 ||
               gnutls_hmac_fast(s->mac, salted, h, "Client Key", 10,
                                client_key) < 0 ||
               gnutls_hmac_fast(s->mac, salted, h, "Server Key", 10,
                                server_key) < 0) {
        rc = xs_seterr(err, XS_ESOFTWARE, "cannot compute SCRAM keys");
        goto out;
    }
    if (gnutls_hash_fast(s->dig, client_key, h, stored_key) < 0 ||
        gnutls_hmac_fast(s->mac, stored_key, h, auth.data, auth.len,
                         client_sig) < 0 ||
        gnutls_hmac_fast(s->mac, server_key, h, auth.data, auth.len,
                         server_sig) < 0) {
        rc = xs_seterr(err, XS_ESOFTWARE, "cannot compute SCRAM keys");
        goto out;
    }
    /* Kept (wiped by sasl_scram_free) for sasl_scram_keys. */
    memcpy(s->ck, client_key, h);
    memcpy(s->sk, server_key, h);
    s->have_keys = 1;
    s->iter = iter;
    free(s->salt);
    s->salt = xstrndup(sf->salt, sf->salt_len);
    for (i = 0; i < h; i++)
        proof[i] = client_key[i] ^ client_sig[i];

    b64 = b64_encode(proof, h);
    buf_addstr(client_final, ",p=");
    buf_addstr(client_final, b64);
    xs_free_secret(b64);

    s->server_sig_b64 = b64_encode(server_sig, h);
out:
    /* Only the expected ServerSignature survives this function. */
    xs_wipe(salted, sizeof(salted));
    xs_wipe(client_key, sizeof(client_key));
    xs_wipe(stored_key, sizeof(stored_key));
    xs_wipe(server_key, sizeof(server_key));
    xs_wipe(client_sig, sizeof(client_sig));
    xs_wipe(proof, sizeof(proof));
    xs_wipe(server_sig, sizeof(server_sig));
    buf_wipe(&auth);
    return rc;
}

static enum xs_err check_ssdp(struct sasl_scram *s,
                              const struct server_first *sf,
                              struct xs_error *err);

enum xs_err sasl_scram_final(struct sasl_scram *s,
                             const char *server_first,
                             size_t len,
                             struct buf *out,
                             struct xs_error *err)
{
    struct server_first sf = {0};
    struct buf client_final = {0};
    unsigned char *salt = NULL;
    size_t salt_len = 0;
    unsigned iter = 0;
    enum xs_err rc;

    if (s == NULL || s->state != SCRAM_STARTED || s->pw == NULL)
        return xs_seterr(err, XS_ESOFTWARE, "SCRAM exchange used out of order");
    /* Whatever happens below, this exchange cannot be continued. */
    s->state = SCRAM_FAILED;
    if (server_first == NULL) {
        rc = xs_seterr(err, XS_EPROTO, "server sent an empty SCRAM challenge");
        goto out;
    }
    rc = parse_server_first(s, server_first, len, &sf, err);
    if (rc == XS_OK)
        rc = check_ssdp(s, &sf, err);
    if (rc != XS_OK)
        goto out;
    /*
     * Strict base64 only: a lenient decoder would let two different
     * strings stand for the same salt, and the string is part of the
     * AuthMessage.  An empty salt is accepted by gnutls_pbkdf2.
     */
    if (sf.salt_len > SASL_SALT_B64_MAX ||
        b64_decode(sf.salt, sf.salt_len, &salt, &salt_len) != 0 ||
        salt_len == 0 || salt_len > SASL_SALT_MAX) {
        rc = bad_value(err, "salt", sf.salt, sf.salt_len);
        goto out;
    }
    rc = parse_iter(sf.iter, sf.iter_len, &iter, err);
    if (rc != XS_OK)
        goto out;

    rc = scram_compute(s, server_first, len, &sf, salt, salt_len, iter,
                       &client_final, err);
    if (rc != XS_OK)
        goto out;
    buf_add(out, client_final.data, client_final.len);
    s->state = SCRAM_PROVED;
out:
    /* The password is used exactly once. */
    scram_wipe_pw(s);
    if (salt != NULL) {
        xs_wipe(salt, salt_len);
        free(salt);
    }
    buf_wipe(&client_final);
    return rc;
}

/* One XEP-0474 attribute against its expected value (constant time). */
static int ssdp_match(const char *want, const char *got, size_t len)
{
    return want != NULL && got != NULL && strlen(want) == len &&
           gnutls_memcmp(want, got, len) == 0;
}

/*
 * XEP-0474: the server signs its view of the lists with this hash; a
 * different one means they were changed on the way (a man in the
 * middle removed -PLUS, a mechanism or a channel-binding type).  Checked
 * before the proof exists, so nothing derived from the password leaves
 * for a tampered exchange.
 */
static enum xs_err check_ssdp(struct sasl_scram *s,
                              const struct server_first *sf,
                              struct xs_error *err)
{
    if (s->ssdp_h == NULL)
        return XS_OK; /* no check asked for */
    if ((sf->h != NULL && !ssdp_match(s->ssdp_h, sf->h, sf->h_len)) ||
        (sf->d != NULL && !ssdp_match(s->ssdp_d, sf->d, sf->d_len)))
        return xs_seterr(err, XS_EPROTO,
                         "server's downgrade protection hash (XEP-0474) "
                         "does not match the mechanisms and channel-binding "
                         "types it offered: the list was changed on the "
                         "way (man in the middle?); not sending the proof");
    if (sf->h == NULL && sf->d == NULL) {
        if (s->ssdp_required)
            return xs_seterr(err, XS_EPROTO,
                             "server offers SCRAM-*-PLUS only with "
                             "channel-binding types xmppsend cannot use, "
                             "and no downgrade protection hash (XEP-0474) "
                             "proves that list; not sending the proof");
        return XS_OK;
    }
    s->ssdp_ok = 1;
    return XS_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append the 'n' names sorted as octets, joined by 'sep'. */
static void
add_sorted(struct buf *b, const char *const *names, size_t n, char sep)
{
    const char **v;
    size_t i;

    if (n == 0)
        return;
    v = xcalloc(n, sizeof(*v));
    memcpy(v, names, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_str); /* strcmp: i;octet (RFC 4790) */
    for (i = 0; i < n; i++) {
        if (i > 0)
            buf_addch(b, sep);
        buf_addstr(b, v[i]);
    }
    free(v);
}

char *sasl_ssdp_hash(enum sasl_mech mech,
                     const char *const *mechs,
                     size_t n,
                     const char *const *cbs,
                     size_t ncb,
                     int cb_listed,
                     int old_form)
{
    unsigned char h[SASL_HASH_MAX];
    gnutls_digest_algorithm_t dig;
    struct buf b = {0};
    char *out;

    switch (mech) {
    case SASL_SCRAM_SHA_1:
        dig = GNUTLS_DIG_SHA1;
        break;
    case SASL_SCRAM_SHA_256:
        dig = GNUTLS_DIG_SHA256;
        break;
    case SASL_SCRAM_SHA_512:
        dig = GNUTLS_DIG_SHA512;
        break;
    case SASL_NONE:
    case SASL_PLAIN:
    default:
        return NULL;
    }
    buf_add(&b, "", 0);
    add_sorted(&b, mechs, n, old_form ? ',' : 0x1e);
    if (cb_listed) {
        buf_addch(&b, old_form ? '|' : 0x1f);
        add_sorted(&b, cbs, ncb, old_form ? ',' : 0x1e);
    }
    if (gnutls_hash_fast(dig, b.data, b.len, h) < 0) {
        buf_free(&b);
        return NULL;
    }
    buf_free(&b);
    out = b64_encode(h, gnutls_hash_get_len(dig));
    return out;
}

void sasl_scram_ssdp(struct sasl_scram *s,
                     const char *const *mechs,
                     size_t n,
                     const char *const *cbs,
                     size_t ncb,
                     int cb_listed,
                     int required)
{
    free(s->ssdp_h);
    free(s->ssdp_d);
    s->ssdp_h = sasl_ssdp_hash(s->mech, mechs, n, cbs, ncb, cb_listed, 0);
    s->ssdp_d = sasl_ssdp_hash(s->mech, mechs, n, cbs, ncb, cb_listed, 1);
    s->ssdp_required = required;
}

int sasl_scram_ssdp_verified(const struct sasl_scram *s)
{
    return s != NULL && s->ssdp_ok;
}

enum sasl_mech sasl_choose_plus(const char *const *offered, size_t n)
{
    enum sasl_mech best = SASL_NONE;
    size_t i, len;

    for (i = 0; i < n; i++) {
        const char *o = offered[i];
        enum sasl_mech m;
        char base[32];

        if (o == NULL)
            continue;
        len = strlen(o);
        if (len <= 5 || len - 5 >= sizeof(base) ||
            strcmp(o + len - 5, "-PLUS") != 0)
            continue;
        memcpy(base, o, len - 5);
        base[len - 5] = '\0';
        m = sasl_mech_from_name(base);
        if ((m == SASL_SCRAM_SHA_1 || m == SASL_SCRAM_SHA_256 ||
             m == SASL_SCRAM_SHA_512) &&
            m > best)
            best = m;
    }
    return best;
}

/* Length of an attribute value: up to the next ',' or the end. */
static size_t first_value_len(const char *v, size_t n)
{
    const char *comma = memchr(v, ',', n);

    return comma != NULL ? (size_t)(comma - v) : n;
}

enum xs_err sasl_scram_verify(struct sasl_scram *s,
                              const char *server_final,
                              size_t len,
                              struct xs_error *err)
{
    const char *v;
    size_t vlen;

    if (s == NULL || s->state != SCRAM_PROVED || s->server_sig_b64 == NULL)
        return xs_seterr(err, XS_ESOFTWARE, "SCRAM exchange used out of order");
    if (server_final == NULL)
        len = 0;

    /*
     * server-final-message = (server-error / verifier) ["," extensions]
     * (RFC 5802 section 7).  Only the first attribute matters.
     */
    if (len < 2 || server_final[1] != '=')
        goto mismatch;
    v = server_final + 2;
    vlen = first_value_len(v, len - 2);
    if (server_final[0] == 'e') {
        char *shown = text_printable(v, vlen, 128);

        xs_seterr(err, XS_EAUTH, "server rejected authentication: %s", shown);
        free(shown);
        return XS_EAUTH;
    }
    if (server_final[0] == 'v' && memchr(server_final, '\0', len) == NULL) {
        size_t want = strlen(s->server_sig_b64);

        /*
         * Compare the base64 text: our encoder is canonical and the
         * strict form is the only acceptable one.  The length is public
         * (it follows from the hash), the contents are compared in
         * constant time.
         */
        if (vlen == want && gnutls_memcmp(v, s->server_sig_b64, want) == 0)
            return XS_OK;
    }
mismatch:
    return xs_seterr(err, XS_EPROTO,
                     "server failed SCRAM mutual authentication (wrong "
                     "server signature)");
}

void sasl_scram_free(struct sasl_scram *s)
{
    if (s == NULL)
        return;
    scram_wipe_pw(s);
    if (s->cnonce != NULL)
        xs_free_secret(s->cnonce);
    if (s->server_sig_b64 != NULL)
        xs_free_secret(s->server_sig_b64);
    free(s->ssdp_h);
    free(s->ssdp_d);
    free(s->cached_salt);
    free(s->salt);
    buf_wipe(&s->gs2_header);
    buf_wipe(&s->cbind);
    buf_wipe(&s->client_bare);
    xs_wipe(s, sizeof(*s));
    free(s);
}

/* ---------------------------------------------------------------- */
/* FAST: HT-SHA-256-* (draft-schmaus-kitten-sasl-ht)                 */

int sasl_ht_cbtype(const char *mech, const char **cbtype)
{
    static const struct {
        const char *suffix, *type;
    } map[] = {{"NONE", NULL},
               {"EXPR", "tls-exporter"},
               {"ENDP", "tls-server-end-point"},
               {"UNIQ", "tls-unique"}};
    static const char prefix[] = "HT-SHA-256-";
    if (mech == NULL || strncmp(mech, prefix, sizeof prefix - 1) != 0)
        return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(mech + sizeof prefix - 1, map[i].suffix) == 0) {
            *cbtype = map[i].type;
            return 0;
        }
    }
    return -1;
}

/* HMAC-SHA-256(token, label || cb) into 'mac'. */
static int ht_hmac(const char *token,
                   const char *label,
                   const unsigned char *cb,
                   size_t cblen,
                   unsigned char mac[32])
{
    struct buf msg = {0};
    buf_addstr(&msg, label);
    if (cblen > 0)
        buf_add(&msg, cb, cblen);
    int r = gnutls_hmac_fast(GNUTLS_MAC_SHA256, token, strlen(token), msg.data,
                             msg.len, mac);
    buf_wipe(&msg);
    return r;
}

enum xs_err sasl_ht_initial(const char *user,
                            const char *token,
                            const unsigned char *cb,
                            size_t cblen,
                            struct buf *out,
                            struct xs_error *err)
{
    unsigned char mac[32];
    if (user == NULL || *user == '\0' || token == NULL || *token == '\0' ||
        ht_hmac(token, "Initiator", cb, cblen, mac) < 0)
        return xs_seterr(err, XS_ESOFTWARE, "cannot compute the FAST proof");
    buf_addstr(out, user);
    buf_addch(out, '\0');
    buf_add(out, mac, sizeof mac);
    gnutls_memset(mac, 0, sizeof mac);
    return XS_OK;
}

enum xs_err sasl_ht_verify(const char *token,
                           const unsigned char *cb,
                           size_t cblen,
                           const char *data,
                           size_t len,
                           struct xs_error *err)
{
    unsigned char mac[32];
    int ok = token != NULL &&
             ht_hmac(token, "Responder", cb, cblen, mac) >= 0 &&
             len == sizeof mac && gnutls_memcmp(mac, data, len) == 0;
    gnutls_memset(mac, 0, sizeof mac);
    if (!ok)
        return xs_seterr(err, XS_EPROTO,
                         "server failed FAST mutual authentication (wrong or "
                         "missing proof in <success/>)");
    return XS_OK;
}

void sasl_scram_use_keys(struct sasl_scram *s, const struct sasl_scram_keys *k)
{
    unsigned char *ck = NULL, *sk = NULL;
    size_t cklen = 0, sklen = 0;
    unsigned iter = 0;
    struct xs_error ierr = {0};

    if (s == NULL || k == NULL || k->mech == NULL || k->salt == NULL ||
        k->iter == NULL || k->client_key == NULL || k->server_key == NULL ||
        strcmp(k->mech, sasl_mech_name(s->mech)) != 0 ||
        parse_iter(k->iter, strlen(k->iter), &iter, &ierr) != XS_OK ||
        strlen(k->salt) > SASL_SALT_B64_MAX)
        return;
    /* Keys of the wrong size (another hash, a damaged file) are not
     * offered: the password is used instead. */
    if (b64_decode(k->client_key, strlen(k->client_key), &ck, &cklen) == 0 &&
        b64_decode(k->server_key, strlen(k->server_key), &sk, &sklen) == 0 &&
        cklen == s->hlen && sklen == s->hlen) {
        memcpy(s->cached_ck, ck, s->hlen);
        memcpy(s->cached_sk, sk, s->hlen);
        free(s->cached_salt);
        s->cached_salt = xstrdup(k->salt);
        s->cached_iter = iter;
        s->have_cached = 1;
    }
    if (ck != NULL) {
        xs_wipe(ck, cklen);
        free(ck);
    }
    if (sk != NULL) {
        xs_wipe(sk, sklen);
        free(sk);
    }
}

int sasl_scram_cache_hit(const struct sasl_scram *s)
{
    return s != NULL && s->cache_hit;
}

int sasl_scram_keys(const struct sasl_scram *s, struct sasl_scram_keys *k)
{
    memset(k, 0, sizeof *k);
    if (s == NULL || !s->have_keys || s->salt == NULL)
        return -1;
    k->mech = xstrdup(sasl_mech_name(s->mech));
    k->salt = xstrdup(s->salt);
    k->iter = xasprintf("%u", s->iter);
    k->client_key = b64_encode(s->ck, s->hlen);
    k->server_key = b64_encode(s->sk, s->hlen);
    return 0;
}

void sasl_scram_keys_free(struct sasl_scram_keys *k)
{
    free(k->mech);
    free(k->salt);
    free(k->iter);
    if (k->client_key != NULL)
        xs_free_secret(k->client_key);
    if (k->server_key != NULL)
        xs_free_secret(k->server_key);
    memset(k, 0, sizeof *k);
}
