/* SPDX-License-Identifier: MIT */
/*
 * fuzz_jid.c - libFuzzer target for JID parsing (jid.c).
 *
 * Input: a JID, optionally followed by a NUL and a second string that is
 * compared with the parsed domain by jid_domain_eq().  Checks what the
 * callers rely on: a parsed JID has a domain, its bare form parses again
 * to the same localpart, and the parts obey the documented limits.
 * PRECIS (precis.c): the prepared parts are a fixed point (the full JID
 * made of them parses to the same parts; jid_bare_eq holds between the
 * input and its bare form); the domain has an A-label form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jid.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_part(const char *p)
{
    if (p == NULL)
        return;
    size_t n = strlen(p);
    if (n == 0 || n > JID_MAX_PART || !utf8_valid(p, n))
        abort();
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, '\0', size);
    size_t n = nul ? (size_t)(nul - (const char *)data) : size;
    char *s = xstrndup((const char *)data, n);
    char *other = nul ? xstrndup(nul + 1, size - n - 1) : NULL;

    struct jid j;
    const char *why = NULL;
    if (jid_parse(s, &j, &why) == 0) {
        if (j.domain == NULL || j.bare == NULL || why != NULL)
            abort();
        check_part(j.local);
        check_part(j.domain);
        check_part(j.resource);
        if (strchr(j.domain, '@') || strchr(j.domain, '/') ||
            (j.local && (strchr(j.local, '@') || strchr(j.local, '/'))))
            abort();
        if (!jid_domain_eq(j.domain, j.domain))
            abort();

        struct jid b;
        if (jid_parse(j.bare, &b, NULL) != 0 || b.resource != NULL ||
            (j.local == NULL) != (b.local == NULL) ||
            (j.local != NULL && strcmp(j.local, b.local) != 0))
            abort();
        jid_free(&b);
        if (!jid_bare_eq(s, j.bare))
            abort();
        char *full = j.resource != NULL ? xasprintf("%s/%s", j.bare, j.resource)
                                        : xstrdup(j.bare);
        if (jid_parse(full, &b, NULL) != 0 || strcmp(b.bare, j.bare) != 0 ||
            (j.resource != NULL) != (b.resource != NULL) ||
            (j.resource != NULL && strcmp(j.resource, b.resource) != 0))
            abort();
        jid_free(&b);
        free(full);
        char *al = jid_domain_alabel(j.domain);
        if (al == NULL || al[0] == '\0')
            abort();
        free(al);

        if (other != NULL &&
            jid_domain_eq(j.domain, other) != jid_domain_eq(other, j.domain))
            abort();
        jid_free(&j);
        if (j.domain != NULL || j.local != NULL)
            abort();
    } else if (why == NULL || *why == '\0') {
        abort();
    }
    if (other != NULL && jid_domain_eq(s, other) != !strcasecmp(s, other))
        abort();
    if (jid_domain_eq(s, NULL) || jid_domain_eq(NULL, s))
        abort();
    free(s);
    free(other);
    return 0;
}
