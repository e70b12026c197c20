/* SPDX-License-Identifier: MIT */
/*
 * test_precis.c - PRECIS profiles (precis.c) and JID preparation
 * (jid.c) with the examples of RFC 8265 sections 3.5 and 4.3 and RFC
 * 7622 sections 3.5 and 3.6, plus width and case mapping, the Bidi Rule,
 * contextual rules and internationalised domains.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jid.h"
#include "precis.h"
#include "test.h"

#define U PRECIS_USERNAME_CASEMAPPED
#define O PRECIS_OPAQUE_STRING

/* 's' prepared with 'p' must give 'exp'. */
static void ok(enum precis_profile p, const char *s, const char *exp)
{
    enum precis_why why = PRECIS_INVALID;
    char *r = precis_enforce(s, strlen(s), p, &why, NULL);
    if (r == NULL)
        (void)fprintf(stderr, "refused '%s' (why %d)\n", s, (int)why);
    CHECK_EQ_STR(r, exp);
    CHECK_EQ_INT(why, PRECIS_OK);
    free(r);
}

/* 's' must be refused with 'why' and, when not 0, code point 'cp'. */
static void
bad(enum precis_profile p, const char *s, enum precis_why exp, unsigned long cp)
{
    enum precis_why why = PRECIS_OK;
    unsigned long got = 0;
    char *r = precis_enforce(s, strlen(s), p, &why, &got);
    CHECK_EQ_STR(r, NULL);
    CHECK_EQ_INT(why, exp);
    if (cp != 0)
        CHECK_EQ_INT(got, cp);
}

/* The JID 's' parses to 'bare' and 'res' (NULL: no resource). */
static void jid_ok(const char *s, const char *bare, const char *res)
{
    struct jid j;
    const char *why = NULL;
    int rc = jid_parse(s, &j, &why);
    if (rc != 0)
        (void)fprintf(stderr, "refused JID '%s': %s\n", s, why);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(j.bare, bare);
    CHECK_EQ_STR(j.resource, res);
    jid_free(&j);
}

static void jid_bad(const char *s, const char *reason)
{
    struct jid j;
    const char *why = NULL;
    CHECK_EQ_INT(jid_parse(s, &j, &why), -1);
    CHECK_EQ_STR(why, reason);
    CHECK(j.local == NULL && j.domain == NULL && j.resource == NULL &&
          j.bare == NULL);
}

int main(void)
{
    /* RFC 8265 3.5: UsernameCaseMapped. */
    ok(U, "juliet@example.com", "juliet@example.com");
    ok(U, "fussball", "fussball");
    ok(U,
       "fu\xc3\x9f"
       "ball",
       "fu\xc3\x9f"
       "ball");                    /* ß stays */
    ok(U, "\xcf\x80", "\xcf\x80"); /* π */
    ok(U, "\xce\xa3", "\xcf\x83"); /* Σ -> σ */
    ok(U, "\xcf\x83", "\xcf\x83"); /* σ */
    ok(U, "\xcf\x82", "\xcf\x82"); /* ς */
    bad(U, "foo bar", PRECIS_DISALLOWED, 0x20);
    bad(U, "", PRECIS_EMPTY, 0);
    bad(U, "henry\xe2\x85\xa3", PRECIS_DISALLOWED, 0x2173); /* Ⅳ -> ⅳ */
    bad(U, "\xe2\x99\x9a", PRECIS_DISALLOWED, 0x265A);      /* ♚ */
    /* Case, width, normalisation. */
    ok(U, "JuLiEt", "juliet");
    ok(U, "\xc3\x84NNE", "\xc3\xa4nne");                      /* ÄNNE */
    ok(U, "A\xcc\x88nne", "\xc3\xa4nne");                     /* A + U+0308 */
    ok(U, "\xef\xbc\xa1\xef\xbc\xae\xef\xbc\xae\xef\xbc\xa5", /* ＡＮＮＥ */
       "anne");
    ok(U, "\xef\xbd\xb1", "\xe3\x82\xa2"); /* halfwidth ｱ -> ア */
    /* Bidi Rule (RFC 5893). */
    ok(U, "\xd7\x90\xd7\x91", "\xd7\x90\xd7\x91"); /* אב */
    ok(U,
       "\xd7\x90"
       "1",
       "\xd7\x90"
       "1");
    bad(U,
        "\xd7\x90"
        "a",
        PRECIS_BIDI, 0);
    bad(U, "a\xd7\x90", PRECIS_BIDI, 0);
    bad(U, "1\xd7\x90", PRECIS_BIDI, 0);
    /* CONTEXTO and CONTEXTJ. */
    ok(U, "l\xc2\xb7l", "l\xc2\xb7l");
    bad(U,
        "a\xc2\xb7"
        "b",
        PRECIS_CONTEXT, 0xB7);
    bad(U,
        "a\xe2\x80\x8d"
        "b",
        PRECIS_CONTEXT, 0x200D);
    ok(U, "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d", /* क्‍ */
       "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d");
    bad(U, "\xd9\xa0\xdb\xb0", PRECIS_CONTEXT, 0x660);
    /* Controls, ignorables, unassigned, old Hangul jamo. */
    bad(U, "a\xc2\x85", PRECIS_DISALLOWED, 0x85);
    bad(U, "a\xc2\xad", PRECIS_DISALLOWED, 0xAD);  /* soft hyphen */
    bad(U, "a\xcd\xb8", PRECIS_DISALLOWED, 0x378); /* unassigned */
    bad(U, "\xe1\x84\x80", PRECIS_DISALLOWED, 0x1100);
    bad(U, "a\x7f", PRECIS_DISALLOWED, 0x7F);

    /* RFC 8265 4.3: OpaqueString. */
    ok(O, "correct horse battery staple", "correct horse battery staple");
    ok(O, "Correct Horse Battery Staple", "Correct Horse Battery Staple");
    ok(O, "\xcf\x80\xc3\x9f\xc3\xa5", "\xcf\x80\xc3\x9f\xc3\xa5");
    ok(O, "Jack of \xe2\x99\xa6s", "Jack of \xe2\x99\xa6s");
    ok(O,
       "foo\xe1\x9a\x80"
       "bar",
       "foo bar"); /* U+1680 */
    ok(O,
       "foo\xc2\xa0"
       "bar\xe3\x80\x80"
       "baz",
       "foo bar baz");
    ok(O, "\xef\xbc\xa1", "\xef\xbc\xa1"); /* no width mapping */
    ok(O, "henry\xe2\x85\xa3", "henry\xe2\x85\xa3");
    bad(O, "", PRECIS_EMPTY, 0);
    bad(O,
        "my cat is a \x09"
        "by",
        PRECIS_DISALLOWED, 9);
    bad(O, "x\xc2\x85", PRECIS_DISALLOWED, 0x85);

    /* RFC 7622 3.5: valid JIDs. */
    jid_ok("juliet@example.com", "juliet@example.com", NULL);
    jid_ok("juliet@example.com/foo", "juliet@example.com", "foo");
    jid_ok("juliet@example.com/foo bar", "juliet@example.com", "foo bar");
    jid_ok("juliet@example.com/foo@bar", "juliet@example.com", "foo@bar");
    jid_ok("foo\\20bar@example.com", "foo\\20bar@example.com", NULL);
    jid_ok("fussball@example.com", "fussball@example.com", NULL);
    jid_ok("fu\xc3\x9f"
           "ball@example.com",
           "fu\xc3\x9f"
           "ball@example.com",
           NULL);
    jid_ok("\xcf\x80@example.com/foo", "\xcf\x80@example.com", "foo");
    jid_ok("\xce\xa3@example.com", "\xcf\x83@example.com", NULL);
    jid_ok("\xcf\x82@example.com", "\xcf\x82@example.com", NULL);
    jid_ok("king@example.com/\xe2\x99\x9a", "king@example.com", "\xe2\x99\x9a");
    jid_ok("example.com", "example.com", NULL);
    jid_ok("example.com/foobar", "example.com", "foobar");
    jid_ok("a.example.com/b@example.net", "a.example.com", "b@example.net");
    jid_ok("Juliet@Example.COM./Balcony", "juliet@example.com", "Balcony");
    jid_bad("u@example..com", "empty label in domain");
    jid_bad("u@example.com..", "empty label in domain");
    jid_ok("u@example.com/a\xe2\x80\x83"
           "b",
           "u@example.com", "a b");
    /* RFC 7622 3.6: invalid JIDs, with their reasons. */
    jid_bad("\"juliet\"@example.com", "forbidden character in localpart");
    jid_bad("foo bar@example.com", "forbidden character in localpart");
    jid_bad("henry\xe2\x85\xa3@example.com",
            "localpart: disallowed character U+2173");
    jid_bad("\xe2\x99\x9a@example.com",
            "localpart: disallowed character U+265A");
    jid_bad("@example.com", "empty or overlong localpart");
    jid_bad("juliet@example.com/", "empty or overlong resource");
    jid_bad("juliet@", "empty or overlong domain");
    jid_bad("/foobar", "empty or overlong domain");
    jid_bad("\xd7\x90"
            "a@example.com",
            "localpart: mixes right-to-left and left-to-right text "
            "(RFC 5893)");
    jid_bad("a@example.com/r\x01", "control character in resource");
    jid_bad("a@example.com/r\xc2\x85", "resource: disallowed character U+0085");
    jid_bad("a\xc2\xa0"
            "b@example.com",
            "localpart: disallowed character U+00A0");
    /* Fullwidth '@' width-maps to '@': refused after mapping. */
    jid_bad("a\xef\xbc\xa0"
            "b@example.com",
            "forbidden character in localpart");

    /* Internationalised domains: kept as lowercase U-labels. */
    jid_ok("user@b\xc3\xbc"
           "cher.test",
           "user@b\xc3\xbc"
           "cher.test",
           NULL);
    jid_ok("user@B\xc3\x9c"
           "CHER.test",
           "user@b\xc3\xbc"
           "cher.test",
           NULL);
    jid_ok("user@xn--bcher-kva.test/r",
           "user@b\xc3\xbc"
           "cher.test",
           "r");
    jid_ok("user@XN--Bcher-kva.Test",
           "user@b\xc3\xbc"
           "cher.test",
           NULL);
    jid_bad("user@xn--zz.test",
            "domain: not a valid internationalised domain name");

    /* jid_bare_eq compares prepared forms. */
    CHECK(jid_bare_eq("\xc3\x84NNE@example.com", "\xc3\xa4nne@example.com"));
    CHECK(jid_bare_eq("\xef\xbc\xa1\xef\xbc\xae\xef\xbc\xae\xef\xbc\xa5@x.y",
                      "anne@x.y/r"));
    CHECK(jid_bare_eq("A\xcc\x88nne@x.y", "\xc3\xa4nne@X.Y"));
    CHECK(jid_bare_eq("u@xn--bcher-kva.test", "U@B\xc3\x9c"
                                              "cher.test"));
    CHECK(!jid_bare_eq("fu\xc3\x9f"
                       "ball@x.y",
                       "fussball@x.y"));
    CHECK(!jid_bare_eq("\xcf\x82@x.y", "\xcf\x83@x.y"));
    CHECK(!jid_bare_eq("anne@x.y", "x.y"));
    CHECK(!jid_bare_eq("henry\xe2\x85\xa3@x.y", "henry\xe2\x85\xa3@x.y"));

    /* A localpart of 1023 bytes after mapping, and one over. */
    char big[1100];
    memset(big, 'A', 1023);
    memcpy(big + 1023, "@x.y", 5);
    struct jid j;
    CHECK_EQ_INT(jid_parse(big, &j, NULL), 0);
    CHECK_EQ_INT(strlen(j.local), 1023);
    CHECK(j.local[0] == 'a');
    jid_free(&j);
    memset(big, 'A', 1024);
    memcpy(big + 1024, "@x.y", 5);
    CHECK_EQ_INT(jid_parse(big, &j, NULL), -1);

    /* RFC 5892 Appendix A: each CONTEXTJ/CONTEXTO rule in and out of
     * its context. */
    ok(U, "\xcd\xb5\xce\xb1", "\xcd\xb5\xce\xb1"); /* keraia, alpha */
    bad(U,
        "\xcd\xb5"
        "a",
        PRECIS_CONTEXT, 0x0375);
    ok(U, "\xd7\x90\xd7\xb3", "\xd7\x90\xd7\xb3"); /* alef, geresh */
    bad(U, "a\xd7\xb3", PRECIS_CONTEXT, 0x05F3);
    ok(U, "\xe3\x83\xbb\xe3\x82\xa2", "\xe3\x83\xbb\xe3\x82\xa2");
    bad(U,
        "a\xe3\x83\xbb"
        "b",
        PRECIS_CONTEXT, 0x30FB);
    /* ZWNJ between dual-joining letters, after a virama; not in Latin */
    ok(U, "\xd8\xa8\xe2\x80\x8c\xd8\xa8", "\xd8\xa8\xe2\x80\x8c\xd8\xa8");
    ok(U, "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\x95",
       "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\x95");
    bad(U,
        "a\xe2\x80\x8c"
        "b",
        PRECIS_CONTEXT, 0x200C);
    /* Arabic-Indic digits: in a right-to-left string; not mixed with
     * the extended ones, not with European digits, not left-to-right */
    ok(U, "\xd8\xa8\xd9\xa0", "\xd8\xa8\xd9\xa0");
    bad(U, "\xd9\xa0\xdb\xb0", PRECIS_CONTEXT, 0x0660);
    bad(U, "a\xd9\xa0", PRECIS_BIDI, 0);
    bad(U,
        "\xd8\xa8\xd9\xa0"
        "1",
        PRECIS_BIDI, 0);
    ok(U, "\xd8\xa8+1", "\xd8\xa8+1"); /* ES and EN after R */
    bad(U,
        "\xd8\xa8"
        "a",
        PRECIS_BIDI, 0);
    ok(O, "\xd8\xa8 \xd8\xa8", "\xd8\xa8 \xd8\xa8");

    TEST_DONE("test_precis");
    return 0;
}
