/* SPDX-License-Identifier: MIT */
/*
 * jid.c - JID parsing (RFC 7622 section 3): localpart before the first
 * '@' that precedes the first '/', resourcepart after that '/'.  Each
 * part is 1..1023 bytes of valid UTF-8 without control characters; the
 * localpart also excludes " & ' / : < > @ and spaces (section 3.3.1);
 * the domain excludes spaces and '@' and loses one trailing dot.
 */
#define _GNU_SOURCE /* newlocale, towlower_l, mbrtowc under uselocale */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>
#include <wctype.h>

#include "jid.h"
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
        else if (has_ctl_or(dom, dlen, " @\"'<>&\\"))
            reason = "forbidden character in domain";
        else if (slash != NULL &&
                 (len - head - 1 == 0 || len - head - 1 > JID_MAX_PART))
            reason = "empty or overlong resource";
        else if (slash != NULL && has_ctl_or(slash + 1, len - head - 1, ""))
            reason = "control character in resource";
    }
    if (reason != NULL) {
        if (why != NULL)
            *why = reason;
        return -1;
    }
    if (at != NULL)
        j->local = xstrndup(s, (size_t)(at - s));
    j->domain = xstrndup(dom, dlen);
    if (slash != NULL)
        j->resource = xstrdup(slash + 1);
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

int jid_domain_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/* Unicode simple case folding of one UTF-8 string into wide characters
 * (C.UTF-8, independent of the user's locale); NULL when invalid. */
static wchar_t *fold(const char *s, size_t n)
{
    static locale_t utf8;
    if (utf8 == (locale_t)0)
        utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (utf8 == (locale_t)0)
        return NULL;
    locale_t old = uselocale(utf8);
    wchar_t *out = xcalloc(n + 1, sizeof *out);
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        wchar_t w;
        size_t r = mbrtowc(&w, s + i, n - i, &st);
        if (r == (size_t)-1 || r == (size_t)-2 || r == 0) {
            free(out);
            out = NULL;
            break;
        }
        out[k++] = (wchar_t)towlower_l((wint_t)w, utf8);
        i += r;
    }
    uselocale(old);
    return out;
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
        eq = 1;
        if (x.local != NULL) {
            wchar_t *fx = fold(x.local, strlen(x.local));
            wchar_t *fy = fold(y.local, strlen(y.local));
            /* Without a UTF-8 locale: ASCII case folding only. */
            eq = fx != NULL && fy != NULL ? wcscmp(fx, fy) == 0
                                          : strcasecmp(x.local, y.local) == 0;
            free(fx);
            free(fy);
        }
    }
    jid_free(&x);
    jid_free(&y);
    return eq;
}
