/* SPDX-License-Identifier: MIT */
/*
 * sasl_policy.c - which SASL mechanism a run may use: the --mechanism
 * list, and the choice among those the server offers.  A filter in front
 * of sasl_choose(): what --mechanism leaves out, what needs a password
 * that was not given, EXTERNAL (a client certificate wins whenever the
 * server offers it) and DIGEST-MD5 (a last resort) are decided here;
 * the ranking of SCRAM and PLAIN stays sasl_choose's.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sasl.h"

/* Mechanisms are numbered from 1 upwards without gaps; the first without
 * a name ends the list. */
#define MECH_MAX 32

/* Our order of preference, strongest first: EXTERNAL, then by rank. */
static size_t preference(enum sasl_mech *out)
{
    size_t n = 0;
    out[n++] = SASL_EXTERNAL;
    for (int m = MECH_MAX - 1; m > 0; m--) {
        if (m != SASL_EXTERNAL && *sasl_mech_name((enum sasl_mech)m) != '\0')
            out[n++] = (enum sasl_mech)m;
    }
    return n;
}

/* Any case: the command line and the config file are typed by people. */
static enum sasl_mech by_name(const char *name, size_t len)
{
    for (int m = 1; m < MECH_MAX; m++) {
        const char *mn = sasl_mech_name((enum sasl_mech)m);
        if (*mn != '\0' && strlen(mn) == len && strncasecmp(mn, name, len) == 0)
            return (enum sasl_mech)m;
    }
    return SASL_NONE;
}

char *sasl_mask_names(unsigned mask)
{
    enum sasl_mech order[MECH_MAX];
    size_t n = preference(order);
    struct buf b = {0};
    buf_add(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (mask & SASL_BIT(order[i]))
            buf_printf(&b, "%s%s", b.len ? "," : "", sasl_mech_name(order[i]));
    }
    return b.data;
}

enum xs_err
sasl_mech_mask(const char *list, unsigned *mask, struct xs_error *err)
{
    *mask = 0;
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        enum sasl_mech m = by_name(p, len);
        if (m == SASL_NONE) {
            char *shown = text_printable(p, len, 40);
            char *known = sasl_mask_names(~0u);
            if (len == 0)
                xs_seterr(err, XS_EUSAGE,
                          "empty name in --mechanism (known: %s)", known);
            else
                xs_seterr(err, XS_EUSAGE, "unknown mechanism '%s' (known: %s)",
                          shown, known);
            free(shown);
            free(known);
            *mask = 0;
            return XS_EUSAGE;
        }
        *mask |= SASL_BIT(m);
        if (p[len] == '\0')
            return XS_OK;
        p += len + 1;
    }
}

static void note(struct buf *why, const char *name, const char *text)
{
    if (why != NULL)
        buf_printf(why, "SASL: %s: %s\n", name, text);
}

enum sasl_mech sasl_select(const char *const *offered,
                           size_t n,
                           const struct sasl_policy *p,
                           struct buf *why)
{
    const char *keep[64] = {0};
    size_t nkeep = 0;
    int external = 0, digest = 0, scram_or_plain = 0;
    const char *digest_name = NULL;

    /* First the filter: what may be used at all. */
    for (size_t i = 0; i < n; i++) {
        const char *name = offered[i] != NULL ? offered[i] : "";
        enum sasl_mech m = by_name(name, strlen(name));
        /* Wire names are exact (RFC 4422 3.1). */
        if (m != SASL_NONE && strcmp(name, sasl_mech_name(m)) != 0)
            m = SASL_NONE;
        /* SCRAM-*-PLUS: xmpp.c decides on channel binding and says
         * why (plan_scram). */
        if (m == SASL_NONE && sasl_choose_plus(&offered[i], 1) != SASL_NONE)
            continue;
        if (m == SASL_NONE) {
            char *shown = text_printable(name, strlen(name), 40);
            note(why, shown, "not supported by xmppsend");
            free(shown);
            continue;
        }
        if (m != SASL_EXTERNAL && m != SASL_DIGEST_MD5)
            scram_or_plain = 1;
        if (p->allow != 0 && !(p->allow & SASL_BIT(m))) {
            note(why, name, "not in --mechanism");
            continue;
        }
        if (m == SASL_EXTERNAL) {
            if (!p->cert)
                note(why, name, "no client certificate (--cert)");
            else if (!p->verified && p->allow == 0)
                note(why, name,
                     "not over an unverified connection unless "
                     "--mechanism names it");
            else
                external = 1;
            continue;
        }
        if (!p->password) {
            note(why, name, "no password given");
            continue;
        }
        if (m == SASL_DIGEST_MD5) {
            if (!p->verified)
                note(why, name, "never over an unverified connection");
            else
                digest = 1, digest_name = name;
            continue;
        }
        if (nkeep < sizeof keep / sizeof keep[0])
            keep[nkeep++] = name;
    }

    /* Then the choice, strongest first. */
    enum sasl_mech best = SASL_NONE;
    if (external) {
        best = SASL_EXTERNAL;
    } else {
        best = sasl_choose(keep, nkeep, p->verified);
        if (best == SASL_NONE && digest &&
            (!scram_or_plain || (p->allow & SASL_BIT(SASL_DIGEST_MD5))))
            best = SASL_DIGEST_MD5;
    }
    for (size_t i = 0; i < nkeep; i++) {
        enum sasl_mech m = by_name(keep[i], strlen(keep[i]));
        if (m == best)
            continue;
        if (m == SASL_PLAIN && !p->verified)
            note(why, keep[i], "never over an unverified connection");
        else if (best == SASL_EXTERNAL)
            note(why, keep[i], "the client certificate is used instead");
        else
            note(why, keep[i], "a stronger one is offered");
    }
    if (digest && best != SASL_DIGEST_MD5)
        note(why, digest_name,
             "only when neither SCRAM nor PLAIN is offered, or named by "
             "--mechanism");
    if (best != SASL_NONE)
        note(why, sasl_mech_name(best), "chosen");
    return best;
}
