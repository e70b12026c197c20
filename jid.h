/* SPDX-License-Identifier: MIT */
/*
 * jid.h - JID parsing and validation (RFC 7622): structure, lengths,
 * UTF-8, PRECIS (localpart UsernameCaseMapped, resourcepart
 * OpaqueString: precis.h) and IDNA2008 for non-ASCII domains.
 */
#ifndef XMPPSEND_JID_H
#define XMPPSEND_JID_H

#define JID_MAX_PART 1023

struct jid {
    char *local;    /* NULL when absent; prepared (lowercase, NFC) */
    char *domain;   /* never NULL after a successful parse; lowercase,
                       U-labels */
    char *resource; /* NULL when absent; prepared (OpaqueString) */
    char *bare;     /* local@domain or domain */
};

/*
 * Parse 's' into 'j' (allocated parts; free with jid_free).  An
 * "xmpp:" URI prefix and a "?query" suffix are not accepted here.
 * Returns 0 on success, -1 when 's' is not a valid JID; then 'why'
 * (if not NULL) points to a reason, static or in a buffer of the
 * calling thread that the next jid_parse call may overwrite (e.g.
 * "localpart: disallowed character U+2163").
 */
int jid_parse(const char *s, struct jid *j, const char **why);
void jid_free(struct jid *j);

/*
 * The domain 'd' as DNS knows it: A-labels for an internationalised
 * domain (IDNA2008, gnutls_idna_map), else a copy.  Returns: allocated;
 * free with free().
 */
char *jid_domain_alabel(const char *d);

/* Do two domains match, ASCII case-insensitively? */
int jid_domain_eq(const char *a, const char *b);

/*
 * Do JIDs 'a' and 'b' name the same account (or domain)?  Resources are
 * ignored; domains compare ASCII case-insensitively (as U-labels),
 * localparts after PRECIS UsernameCaseMapped (as servers do).
 */
int jid_bare_eq(const char *a, const char *b);

#endif
