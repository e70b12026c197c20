/* SPDX-License-Identifier: MIT */
/*
 * precis.h - PRECIS string preparation and enforcement (RFC 8264) for
 * the two profiles a JID needs (RFC 7622 section 3.3 and 3.4, RFC 8265):
 * UsernameCaseMapped for localparts and OpaqueString for resourceparts.
 * Derived properties come from the Unicode data of ICU (libicuuc); a
 * string of ASCII bytes only is checked by a table, without ICU.
 */
#ifndef XMPPSEND_PRECIS_H
#define XMPPSEND_PRECIS_H

#include <stddef.h>

enum precis_profile {
    PRECIS_USERNAME_CASEMAPPED, /* RFC 8265 3.3: IdentifierClass */
    PRECIS_OPAQUE_STRING        /* RFC 8265 4.2: FreeformClass */
};

/* Why a string was refused (precis_enforce). */
enum precis_why {
    PRECIS_OK = 0,
    PRECIS_EMPTY,      /* empty, before or after preparation */
    PRECIS_DISALLOWED, /* a code point not allowed: see 'cp' */
    PRECIS_CONTEXT,    /* a CONTEXTJ/CONTEXTO code point out of context */
    PRECIS_BIDI,       /* fails the Bidi Rule (RFC 5893 section 2) */
    PRECIS_UNSTABLE,   /* rules do not reach a fixed point */
    PRECIS_INVALID     /* not valid UTF-8, or ICU failed */
};

/*
 * Enforce 'profile' on the UTF-8 string 's' of 'n' bytes: map (width,
 * spaces, case as the profile says), normalise to NFC, apply the Bidi
 * Rule where the profile has it, then check every code point against the
 * profile's string class.  Returns the prepared string (allocated; free
 * with free()), or NULL with *why set and, for PRECIS_DISALLOWED and
 * PRECIS_CONTEXT, *cp set to the offending code point.
 */
char *precis_enforce(const char *s,
                     size_t n,
                     enum precis_profile profile,
                     enum precis_why *why,
                     unsigned long *cp);

#endif
