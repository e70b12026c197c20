/* SPDX-License-Identifier: MIT */
/*
 * jid.c - JID parsing (RFC 7622 section 3): localpart before the first
 * '@' that precedes the first '/', resourcepart after that '/'.  Each
 * part is 1..1023 bytes of valid UTF-8 without control characters.
 * The localpart is enforced with the PRECIS profile UsernameCaseMapped
 * and then excludes " & ' / : < > @ (section 3.3.1); the resourcepart
 * with OpaqueString (precis.c).  The domain loses one trailing dot,
 * excludes spaces, '@' and empty labels, and is lowercased; a domain
 * with non-ASCII characters or A-labels goes through IDNA2008 with UTS 46
 * mapping (gnutls_idna_map) and is kept as U-labels (section 3.2): DNS
 * (net.c, jid_domain_alabel), SNI and the certificate check (tls.c) use
 * its A-labels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>

#include "jid.h"
#include "precis.h"
#include "util.h"

static int has_ctl_or(const char *s, size_t n, const char *bad)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || strchr(bad, c) != NULL)
            return 1;
    }
    return 0;
}

/* The reason for a part refused by PRECIS, in a buffer of this
 * thread (jid_parse's reasons are otherwise static strings). */
static const char *
precis_reason(const char *part, enum precis_why w, unsigned long cp)
{
    static _Thread_local char msg[96];
    switch (w) {
    case PRECIS_EMPTY:
        (void)snprintf(msg, sizeof msg, "empty %s", part);
        break;
    case PRECIS_DISALLOWED:
        (void)snprintf(msg, sizeof msg, "%s: disallowed character U+%04lX",
                       part, cp);
        break;
    case PRECIS_CONTEXT:
        (void)snprintf(msg, sizeof msg,
                       "%s: character U+%04lX not allowed in this context",
                       part, cp);
        break;
    case PRECIS_BIDI:
        (void)snprintf(msg, sizeof msg,
                       "%s: mixes right-to-left and left-to-right text "
                       "(RFC 5893)",
                       part);
        break;
    default:
        (void)snprintf(msg, sizeof msg, "%s: not a valid PRECIS string", part);
        break;
    }
    return msg;
}

static int is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/* Does 'd' (not starting with a dot) end with one or have two in a row? */
static int has_empty_label(const char *d, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (d[i] == '.' && d[i - 1] == '.')
            return 1;
    return d[n - 1] == '.';
}

/* Does an ASCII label of 'd' start with "xn--" (an A-label)? */
static int has_alabel(const char *d, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if ((i == 0 || d[i - 1] == '.') && strncasecmp(d + i, "xn--", 4) == 0)
            return 1;
    return 0;
}

/* An internationalised domain as U-labels (RFC 7622 3.2.2): IDNA2008
 * with UTS 46 mapping, through the A-labels and back.  NULL: invalid. */
static char *idn_ulabels(const char *d, size_t n)
{
    char *in = xstrndup(d, n);
    gnutls_datum_t a = {NULL, 0}, u = {NULL, 0};
    /* Punycode keeps the case of ASCII letters ("xn--Bcher-kva" is
     * "Bücher"): lowercase them first, as UTS 46 does the others. */
    for (char *p = in; *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    char *out = NULL;
    gnutls_datum_t again = {NULL, 0};
    /* An A-label is decoded without being checked: the U-labels must
     * map back to the same A-labels (RFC 5891 5.4). */
    if (gnutls_idna_map(in, (unsigned)n, &a, 0) == 0 &&
        gnutls_idna_reverse_map((const char *)a.data, a.size, &u, 0) == 0 &&
        gnutls_idna_map((const char *)u.data, u.size, &again, 0) == 0 &&
        again.size == a.size && memcmp(again.data, a.data, a.size) == 0)
        out = xstrndup((const char *)u.data, u.size);
    gnutls_free(a.data);
    gnutls_free(u.data);
    gnutls_free(again.data);
    free(in);
    return out;
}

int jid_parse(const char *s, struct jid *j, const char **why)
{
    const char *reason = NULL;
    memset(j, 0, sizeof *j);
    size_t len = strlen(s);
    const char *slash = memchr(s, '/', len);
    size_t head = slash ? (size_t)(slash - s) : len;
    const char *at = memchr(s, '@', head);
    const char *dom = at ? at + 1 : s;
    size_t dlen = head - (size_t)(dom - s);
    enum precis_why pw;
    unsigned long cp;

    if (!utf8_valid(s, len)) {
        reason = "not valid UTF-8";
    } else if (at != NULL && (at == s || (size_t)(at - s) > JID_MAX_PART)) {
        reason = "empty or overlong localpart";
    } else if (at != NULL && has_ctl_or(s, (size_t)(at - s), "\"&'/:<>@ ")) {
        reason = "forbidden character in localpart";
    } else {
        if (dlen > 1 && dom[dlen - 1] == '.')
            dlen--;
        if (dlen == 0 || dlen > JID_MAX_PART || dom[0] == '.')
            reason = "empty or overlong domain";
        else if (has_empty_label(dom, dlen))
            reason = "empty label in domain";
        else if (has_ctl_or(dom, dlen, " @\"'<>&\\"))
            reason = "forbidden character in domain";
        else if (slash != NULL &&
                 (len - head - 1 == 0 || len - head - 1 > JID_MAX_PART))
            reason = "empty or overlong resource";
        else if (slash != NULL && has_ctl_or(slash + 1, len - head - 1, ""))
            reason = "control character in resource";
    }
    if (reason == NULL && at != NULL) {
        j->local = precis_enforce(s, (size_t)(at - s),
                                  PRECIS_USERNAME_CASEMAPPED, &pw, &cp);
        if (j->local == NULL)
            reason = precis_reason("localpart", pw, cp);
        /* Width mapping can make these (U+FF20 is '@'). */
        else if (strlen(j->local) > JID_MAX_PART ||
                 has_ctl_or(j->local, strlen(j->local), "\"&'/:<>@ "))
            reason = "forbidden character in localpart";
    }
    if (reason == NULL && slash != NULL) {
        j->resource = precis_enforce(slash + 1, len - head - 1,
                                     PRECIS_OPAQUE_STRING, &pw, &cp);
        if (j->resource == NULL)
            reason = precis_reason("resource", pw, cp);
        else if (strlen(j->resource) > JID_MAX_PART)
            reason = "empty or overlong resource";
    }
    if (reason == NULL) {
        if (is_ascii(dom, dlen) && !has_alabel(dom, dlen)) {
            /* Lowercase, as IDNA's mapping would (RFC 7622 3.2.2). */
            j->domain = xstrndup(dom, dlen);
            for (char *p = j->domain; *p != '\0'; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
        } else if ((j->domain = idn_ulabels(dom, dlen)) == NULL ||
                   j->domain[0] == '\0' || j->domain[0] == '.' ||
                   has_empty_label(j->domain, strlen(j->domain)) ||
                   has_ctl_or(j->domain, strlen(j->domain), " @/\"'<>&\\")) {
            /* UTS 46 mapping may drop characters: check its result too. */
            reason = "domain: not a valid internationalised domain name";
        } else if (strlen(j->domain) > JID_MAX_PART) {
            reason = "empty or overlong domain";
        }
    }
    if (reason != NULL) {
        jid_free(j);
        if (why != NULL)
            *why = reason;
        return -1;
    }
    if (j->local != NULL)
        j->bare = xasprintf("%s@%s", j->local, j->domain);
    else
        j->bare = xstrdup(j->domain);
    return 0;
}

void jid_free(struct jid *j)
{
    free(j->local);
    free(j->domain);
    free(j->resource);
    free(j->bare);
    memset(j, 0, sizeof *j);
}

char *jid_domain_alabel(const char *d)
{
    size_t n = strlen(d);
    gnutls_datum_t a = {NULL, 0};
    if (is_ascii(d, n) || gnutls_idna_map(d, (unsigned)n, &a, 0) != 0 ||
        a.data == NULL)
        return xstrdup(d);
    char *r = xstrndup((const char *)a.data, a.size);
    gnutls_free(a.data);
    return r;
}

int jid_domain_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

int jid_bare_eq(const char *a, const char *b)
{
    struct jid x, y;
    int eq = 0;
    if (a == NULL || b == NULL || jid_parse(a, &x, NULL) != 0)
        return 0;
    if (jid_parse(b, &y, NULL) != 0) {
        jid_free(&x);
        return 0;
    }
    if (jid_domain_eq(x.domain, y.domain) &&
        (x.local == NULL) == (y.local == NULL)) {
        /* Localparts as prepared by jid_parse (UsernameCaseMapped). */
        eq = x.local == NULL || strcmp(x.local, y.local) == 0;
    }
    jid_free(&x);
    jid_free(&y);
    return eq;
}
