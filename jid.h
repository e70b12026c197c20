/* SPDX-License-Identifier: MIT */
/*
 * jid.h - JID parsing and validation (RFC 7622, simplified: no PRECIS
 * mapping; checks structure, lengths, forbidden characters and UTF-8).
 */
#ifndef XMPPSEND_JID_H
#define XMPPSEND_JID_H

#define JID_MAX_PART 1023

struct jid {
    char *local;    /* NULL when absent */
    char *domain;   /* never NULL after a successful parse */
    char *resource; /* NULL when absent */
    char *bare;     /* local@domain or domain */
};

/*
 * Parse 's' into 'j' (allocated parts; free with jid_free).  An
 * "xmpp:" URI prefix and a "?query" suffix are not accepted here.
 * Returns 0 on success, -1 when 's' is not a valid JID; then 'why'
 * (if not NULL) points to a static reason.
 */
int jid_parse(const char *s, struct jid *j, const char **why);
void jid_free(struct jid *j);

/* Do two domains match, ASCII case-insensitively? */
int jid_domain_eq(const char *a, const char *b);

/*
 * Do JIDs 'a' and 'b' name the same account (or domain)?  Resources are
 * ignored; domains compare ASCII case-insensitively, localparts after
 * Unicode case folding (servers apply PRECIS UsernameCaseMapped).
 */
int jid_bare_eq(const char *a, const char *b);

#endif
