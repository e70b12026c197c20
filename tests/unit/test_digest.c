/* SPDX-License-Identifier: MIT */
/*
 * test_digest.c - unit tests for sasl_digest.c (DIGEST-MD5: the two
 * examples of RFC 2831 section 4, the response xmppsend sends to
 * ejabberd, a hostile server's challenges and rspauth) and sasl_policy.c
 * (--mechanism and the choice among offered mechanisms).
 */
#include <string.h>

#include "../../sasl.h"
#include "test.h"

/* RFC 2831 section 4, first example (IMAP). */
#define EX1_CHALLENGE                                                          \
    "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\","     \
    "algorithm=md5-sess,charset=utf-8"
#define EX1_RESPONSE                                                           \
    "username=\"chris\",realm=\"elwood.innosoft.com\","                        \
    "nonce=\"OA6MG9tEQGm2hh\",cnonce=\"OA6MHXh6VqTrRk\",nc=00000001,"          \
    "qop=auth,digest-uri=\"imap/elwood.innosoft.com\","                        \
    "response=d388dad90d4bbd760a152321f2143af7,charset=utf-8"
#define EX1_RSPAUTH "rspauth=ea40f60335c427b5527b84dbabcdfffd"

/* Second example (ACAP): no charset, so no charset in the response. */
#define EX2_CHALLENGE                                                          \
    "realm=\"elwood.innosoft.com\",nonce=\"OA9BSXrbuRhWay\",qop=\"auth\","     \
    "algorithm=md5-sess"
#define EX2_RESPONSE                                                           \
    "username=\"chris\",realm=\"elwood.innosoft.com\","                        \
    "nonce=\"OA9BSXrbuRhWay\",cnonce=\"OA9BSuZWMSpW8m\",nc=00000001,"          \
    "qop=auth,digest-uri=\"acap/elwood.innosoft.com\","                        \
    "response=6084c6db3fede7352c551284490fd0fc"
#define EX2_RSPAUTH "rspauth=2f0b3d7c3c2e486600ef710726aa2eae"

static struct sasl_digest *
ex(const char *service, const char *cnonce, const char *password)
{
    struct xs_error err = {0};
    struct sasl_digest *d = sasl_digest_new(
        "chris", password, 0, service, "elwood.innosoft.com", cnonce, &err);
    CHECK(d != NULL);
    return d;
}

static void test_rfc_examples(void)
{
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_digest *d = ex("imap", "OA6MHXh6VqTrRk", "secret");

    CHECK_EQ_INT(sasl_digest_response(d, EX1_CHALLENGE, strlen(EX1_CHALLENGE),
                                      &out, &err),
                 XS_OK);
    CHECK_BUF(out.data, out.len, EX1_RESPONSE, strlen(EX1_RESPONSE));
    CHECK_EQ_INT(sasl_digest_verify(d, EX1_RSPAUTH, strlen(EX1_RSPAUTH), &err),
                 XS_OK);
    /* Used once: a second response is refused. */
    CHECK_EQ_INT(sasl_digest_response(d, EX1_CHALLENGE, strlen(EX1_CHALLENGE),
                                      &out, &err),
                 XS_ESOFTWARE);
    sasl_digest_free(d);
    buf_wipe(&out);

    d = ex("acap", "OA9BSuZWMSpW8m", "secret");
    CHECK_EQ_INT(sasl_digest_response(d, EX2_CHALLENGE, strlen(EX2_CHALLENGE),
                                      &out, &err),
                 XS_OK);
    CHECK_BUF(out.data, out.len, EX2_RESPONSE, strlen(EX2_RESPONSE));
    CHECK_EQ_INT(sasl_digest_verify(d, EX2_RSPAUTH, strlen(EX2_RSPAUTH), &err),
                 XS_OK);
    sasl_digest_free(d);
    buf_wipe(&out);
}

/* What ejabberd 23.01 sends: no realm (left out, "" in the hash), and
 * the expected values computed with Python's hashlib. */
static void test_ejabberd_style(void)
{
    static const char ch[] =
        "nonce=\"1234567890\",qop=\"auth\",charset=utf-8,algorithm=md5-sess";
    static const char want[] =
        "username=\"alice\",nonce=\"1234567890\",cnonce=\"abc\",nc=00000001,"
        "qop=auth,digest-uri=\"xmpp/localhost\","
        "response=1dfa6e6d100f0b45f643d3d8e2ad385e,charset=utf-8";
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_digest *d = sasl_digest_new("alice", "alice-pw", 0, "xmpp",
                                            "localhost", "abc", &err);

    CHECK(d != NULL);
    CHECK_EQ_INT(sasl_digest_response(d, ch, strlen(ch), &out, &err), XS_OK);
    CHECK_BUF(out.data, out.len, want, strlen(want));
    sasl_digest_free(d);
    buf_wipe(&out);
}

/* Realms: ours when offered among others, quoted values unescaped, and
 * quotes escaped again in the response. */
static void test_realm_and_quoting(void)
{
    static const char ch[] =
        " realm=\"other\" , "
        "realm=\"ELWOOD.innosoft.com\",,nonce=\"a\\\"b\\\\c\","
        "qop=\"auth-int, auth\",algorithm=MD5-SESS,x-unknown=1 ";
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_digest *d = ex("imap", "xyz", "secret");

    CHECK_EQ_INT(sasl_digest_response(d, ch, strlen(ch), &out, &err), XS_OK);
    buf_addch(&out, '\0');
    CHECK(strstr(out.data, "realm=\"ELWOOD.innosoft.com\"") != NULL);
    CHECK(strstr(out.data, "nonce=\"a\\\"b\\\\c\"") != NULL);
    CHECK(strstr(out.data, "charset") == NULL);
    sasl_digest_free(d);
    buf_wipe(&out);
}

/* A challenge that must be refused: the class, no output. */
static void reject(const char *ch, size_t len, enum xs_err code)
{
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_digest *d = ex("xmpp", "abc", "secret");
    enum xs_err e = sasl_digest_response(d, ch, len, &out, &err);

    if (e != code)
        (void)fprintf(stderr, "for: %.*s\n", (int)len, ch);
    CHECK_EQ_INT(e, code);
    CHECK_EQ_INT(out.len, 0);
    /* Dead: no verify either. */
    CHECK_EQ_INT(sasl_digest_verify(d, EX1_RSPAUTH, strlen(EX1_RSPAUTH), &err),
                 XS_ESOFTWARE);
    sasl_digest_free(d);
    buf_free(&out);
}

#define REJECT(s) reject((s), sizeof(s) - 1, XS_EPROTO)
#define A ",algorithm=md5-sess"
#define N "nonce=\"abc\""

static void test_hostile_challenges(void)
{
    char big[4096];

    REJECT("");
    REJECT("garbage");
    REJECT("=");
    REJECT(",,,");
    REJECT("nonce");
    REJECT("nonce=");
    REJECT(N);                                  /* no algorithm */
    REJECT("algorithm=md5-sess");               /* no nonce */
    REJECT("nonce=\"\"" A);                     /* empty nonce */
    REJECT(N ",algorithm=md5");                 /* not md5-sess */
    REJECT(N A ",qop=\"auth-int\"");            /* no qop auth */
    REJECT(N A ",qop=\"auth-conf,auth-int\"");  /* no qop auth */
    REJECT(N A ",qop=\"authx\"");               /* no qop auth */
    REJECT(N A ",charset=iso-8859-1");          /* not utf-8 */
    REJECT(N "," N A);                          /* duplicate nonce */
    REJECT(N A A);                              /* duplicate algorithm */
    REJECT(N A ",qop=auth,qop=auth");           /* duplicate qop */
    REJECT(N A ",charset=utf-8,charset=utf-8"); /* duplicate charset */
    REJECT(N A ",rspauth=00");                  /* rspauth too early */
    REJECT("nonce=\"abc" A);                    /* unterminated */
    REJECT("nonce=\"a\nb\"" A);                 /* control character */
    REJECT("nonce=\"ab\\");                     /* escape at the end */
    REJECT(N A " x");                           /* no comma */
    REJECT(N A ",realm=\"\xff\"");              /* realm not UTF-8 */
    REJECT("nonce=abc\"def\"" A);               /* quote inside a token */
    REJECT("no nce=\"abc\"" A);
    REJECT("averyveryverylongdirectivename=1," N A);
    reject(N A "\0,x=1", sizeof(N A) - 1 + 5, XS_EPROTO);
    /* Too long: 2048 bytes and more. */
    memset(big, 'a', sizeof big);
    memcpy(big, N A ",x=", sizeof(N A ",x=") - 1);
    reject(big, 2048, XS_EPROTO);
    /* 17 realms */
    {
        struct buf b = {0};
        buf_addstr(&b, N A);
        for (int i = 0; i < 17; i++)
            buf_printf(&b, ",realm=\"r%d\"", i);
        reject(b.data, b.len, XS_EPROTO);
        buf_free(&b);
    }
    /* A value longer than 1024 bytes. */
    {
        struct buf b = {0};
        buf_addstr(&b, N A ",x=\"");
        for (int i = 0; i < 1100; i++)
            buf_addch(&b, 'v');
        buf_addch(&b, '"');
        reject(b.data, b.len, XS_EPROTO);
        buf_free(&b);
    }
}

static void test_charset(void)
{
    struct xs_error err = {0};
    struct buf out = {0};
    static const char no_utf8[] = N A;
    static const char utf8[] = N A ",charset=utf-8";
    struct sasl_digest *d =
        sasl_digest_new("chris", "s\xc3\xa9same", 0, "xmpp", "h", "c", &err);

    CHECK(d != NULL);
    CHECK_EQ_INT(sasl_digest_response(d, no_utf8, strlen(no_utf8), &out, &err),
                 XS_EREFUSED);
    CHECK_EQ_INT(out.len, 0);
    sasl_digest_free(d);
    d = sasl_digest_new("chris", "s\xc3\xa9same", 0, "xmpp", "h", "c", &err);
    CHECK_EQ_INT(sasl_digest_response(d, utf8, strlen(utf8), &out, &err),
                 XS_OK);
    sasl_digest_free(d);
    buf_wipe(&out);
}

static void test_rspauth(void)
{
    static const struct {
        const char *msg;
        enum xs_err want;
    } cases[] = {
        {"", XS_EPROTO},
        {"rspauth=", XS_EPROTO},
        {"rspauth=ea40f60335c427b5527b84dbabcdfffe", XS_EPROTO},  /* 1 off */
        {"rspauth=EA40F60335C427B5527B84DBABCDFFFD", XS_EPROTO},  /* LHEX */
        {"rspauth=ea40f60335c427b5527b84dbabcdfff", XS_EPROTO},   /* short */
        {"rspauth=ea40f60335c427b5527b84dbabcdfffd0", XS_EPROTO}, /* long */
        {"rspauth=ea40f60335c427b5527b84dbabcdfffd,rspauth=x", XS_EPROTO},
        {"x=1,rspauth=ea40f60335c427b5527b84dbabcdfffd", XS_EPROTO},
        {"rspauth=\"ea40f60335c427b5527b84dbabcdfffd", XS_EPROTO},
        /* Directive names are case-insensitive (RFC 2831 7.1 uses RFC
         * 2616's BNF, whose literals are). */
        {"RspAuth=ea40f60335c427b5527b84dbabcdfffd", XS_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct xs_error err = {0};
        struct buf out = {0};
        struct sasl_digest *d = ex("imap", "OA6MHXh6VqTrRk", "secret");
        const char *m = cases[i].msg;
        CHECK_EQ_INT(sasl_digest_response(d, EX1_CHALLENGE,
                                          strlen(EX1_CHALLENGE), &out, &err),
                     XS_OK);
        CHECK_EQ_INT(sasl_digest_verify(d, m, strlen(m), &err), cases[i].want);
        if (cases[i].want != XS_OK)
            CHECK(strstr(err.msg, "rspauth") != NULL);
        sasl_digest_free(d);
        buf_wipe(&out);
    }
    /* NULL (an empty <success/>) is no proof either. */
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_digest *d = ex("imap", "OA6MHXh6VqTrRk", "secret");
    CHECK_EQ_INT(sasl_digest_response(d, EX1_CHALLENGE, strlen(EX1_CHALLENGE),
                                      &out, &err),
                 XS_OK);
    CHECK_EQ_INT(sasl_digest_verify(d, NULL, 0, &err), XS_EPROTO);
    /* A wrong password gives a different rspauth. */
    sasl_digest_free(d);
    buf_wipe(&out);
    d = ex("imap", "OA6MHXh6VqTrRk", "secreT");
    CHECK_EQ_INT(sasl_digest_response(d, EX1_CHALLENGE, strlen(EX1_CHALLENGE),
                                      &out, &err),
                 XS_OK);
    CHECK_EQ_INT(sasl_digest_verify(d, EX1_RSPAUTH, strlen(EX1_RSPAUTH), &err),
                 XS_EPROTO);
    sasl_digest_free(d);
    buf_wipe(&out);
}

static void test_random_cnonce(void)
{
    struct xs_error err = {0};
    struct buf a = {0}, b = {0};
    static const char ch[] = N A;
    struct sasl_digest *d1 =
        sasl_digest_new("u", "p", 0, "xmpp", "h", NULL, &err);
    struct sasl_digest *d2 =
        sasl_digest_new("u", "p", 0, "xmpp", "h", NULL, &err);

    CHECK_EQ_INT(sasl_digest_response(d1, ch, strlen(ch), &a, &err), XS_OK);
    CHECK_EQ_INT(sasl_digest_response(d2, ch, strlen(ch), &b, &err), XS_OK);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) != 0);
    sasl_digest_free(d1);
    sasl_digest_free(d2);
    buf_wipe(&a);
    buf_wipe(&b);
    CHECK(sasl_digest_new(NULL, "p", 0, "xmpp", "h", NULL, &err) == NULL);
    CHECK(sasl_digest_new("u", NULL, 0, "xmpp", "h", NULL, &err) == NULL);
    CHECK(sasl_digest_new("u", "p", 0, "xmpp", "h", "a\"b", &err) == NULL);
}

/* ---------------------------------------------------------------- */
/* sasl_policy.c                                                     */

static void test_mask(void)
{
    struct xs_error err = {0};
    unsigned m = 0;
    char *names;

    CHECK_EQ_INT(sasl_mech_mask("SCRAM-SHA-1", &m, &err), XS_OK);
    CHECK_EQ_INT(m, SASL_BIT(SASL_SCRAM_SHA_1));
    CHECK_EQ_INT(sasl_mech_mask("plain,digest-md5,External", &m, &err), XS_OK);
    CHECK_EQ_INT(m, SASL_BIT(SASL_PLAIN) | SASL_BIT(SASL_DIGEST_MD5) |
                        SASL_BIT(SASL_EXTERNAL));
    names = sasl_mask_names(m);
    /* Our order of preference, not the list's. */
    CHECK_EQ_STR(names, "EXTERNAL,PLAIN,DIGEST-MD5");
    free(names);
    CHECK_EQ_INT(sasl_mech_mask("SCRAM-SHA-1,X-OAUTH2", &m, &err), XS_EUSAGE);
    CHECK(strstr(err.msg, "'X-OAUTH2'") != NULL);
    CHECK(strstr(err.msg, "SCRAM-SHA-256") != NULL);
    CHECK_EQ_INT(m, 0);
    CHECK_EQ_INT(sasl_mech_mask("", &m, &err), XS_EUSAGE);
    CHECK_EQ_INT(sasl_mech_mask("PLAIN,", &m, &err), XS_EUSAGE);
    CHECK_EQ_INT(sasl_mech_mask(",PLAIN", &m, &err), XS_EUSAGE);
    CHECK_EQ_INT(sasl_mech_mask("SCRAM-SHA-1 ", &m, &err), XS_EUSAGE);
}

#define SELECT(list, ...)                                                      \
    select_(list, sizeof(list) / sizeof(list[0]),                              \
            (struct sasl_policy){__VA_ARGS__})

static struct buf why;

static enum sasl_mech
select_(const char *const *list, size_t n, struct sasl_policy p)
{
    buf_free(&why);
    buf_add(&why, "", 0);
    return sasl_select(list, n, &p, &why);
}

static void test_select(void)
{
    static const char *const ejabberd[] = {"SCRAM-SHA-1", "PLAIN",
                                           "DIGEST-MD5",  "SCRAM-SHA-256",
                                           "EXTERNAL",    "X-OAUTH2"};
    static const char *const old[] = {"DIGEST-MD5"};
    static const char *const old_plain[] = {"DIGEST-MD5", "PLAIN"};
    static const char *const lower[] = {"digest-md5", "external"};
    const unsigned all = 0;

    /* Default: the strongest SCRAM; DIGEST-MD5 and EXTERNAL not. */
    CHECK_EQ_INT(SELECT(ejabberd, all, 1, 0, 1), SASL_SCRAM_SHA_256);
    CHECK(strstr(why.data, "SASL: SCRAM-SHA-256: chosen") != NULL);
    CHECK(strstr(why.data, "SASL: DIGEST-MD5: only when") != NULL);
    CHECK(strstr(why.data, "SASL: EXTERNAL: no client certificate") != NULL);
    CHECK(strstr(why.data, "SASL: X-OAUTH2: not supported") != NULL);
    CHECK(strstr(why.data, "SASL: SCRAM-SHA-1: a stronger one") != NULL);
    /* --mechanism restricts, in our order. */
    CHECK_EQ_INT(SELECT(ejabberd, SASL_BIT(SASL_SCRAM_SHA_1), 1, 0, 1),
                 SASL_SCRAM_SHA_1);
    CHECK(strstr(why.data, "SASL: SCRAM-SHA-256: not in --mechanism") != NULL);
    CHECK_EQ_INT(SELECT(ejabberd,
                        SASL_BIT(SASL_DIGEST_MD5) | SASL_BIT(SASL_SCRAM_SHA_1),
                        1, 0, 1),
                 SASL_SCRAM_SHA_1);
    CHECK_EQ_INT(SELECT(ejabberd, SASL_BIT(SASL_DIGEST_MD5), 1, 0, 1),
                 SASL_DIGEST_MD5);
    /* Named by the user, PLAIN is no automatic downgrade. */
    CHECK_EQ_INT(SELECT(ejabberd, SASL_BIT(SASL_PLAIN), 1, 0, 1), SASL_PLAIN);
    CHECK_EQ_INT(SELECT(ejabberd, SASL_BIT(SASL_PLAIN), 0, 0, 1), SASL_NONE);
    CHECK_EQ_INT(SELECT(ejabberd, SASL_BIT(SASL_SCRAM_SHA_512), 1, 0, 1),
                 SASL_NONE);
    /* DIGEST-MD5 when nothing better is offered; never unverified. */
    CHECK_EQ_INT(SELECT(old, all, 1, 0, 1), SASL_DIGEST_MD5);
    CHECK_EQ_INT(SELECT(old, all, 0, 0, 1), SASL_NONE);
    CHECK(strstr(why.data, "unverified") != NULL);
    CHECK_EQ_INT(SELECT(old, SASL_BIT(SASL_DIGEST_MD5), 0, 0, 1), SASL_NONE);
    CHECK_EQ_INT(SELECT(old_plain, all, 1, 0, 1), SASL_PLAIN);
    CHECK_EQ_INT(SELECT(old_plain, all, 0, 0, 1), SASL_NONE);
    CHECK_EQ_INT(SELECT(old, all, 1, 0, 0), SASL_NONE); /* no password */
    /* EXTERNAL with a certificate, also without a password. */
    CHECK_EQ_INT(SELECT(ejabberd, all, 1, 1, 1), SASL_EXTERNAL);
    CHECK_EQ_INT(SELECT(ejabberd, all, 1, 1, 0), SASL_EXTERNAL);
    CHECK_EQ_INT(SELECT(ejabberd, SASL_BIT(SASL_SCRAM_SHA_1), 1, 1, 1),
                 SASL_SCRAM_SHA_1);
    /* Unverified: only when --mechanism names it. */
    CHECK_EQ_INT(SELECT(ejabberd, all, 0, 1, 0), SASL_NONE);
    CHECK_EQ_INT(SELECT(ejabberd, all, 0, 1, 1), SASL_SCRAM_SHA_256);
    CHECK_EQ_INT(SELECT(ejabberd, SASL_BIT(SASL_EXTERNAL), 0, 1, 0),
                 SASL_EXTERNAL);
    /* Wire names are exact. */
    CHECK_EQ_INT(SELECT(lower, all, 1, 1, 1), SASL_NONE);
    CHECK_EQ_INT(sasl_select(NULL, 0, &(struct sasl_policy){0, 1, 1, 1}, NULL),
                 SASL_NONE);
    buf_free(&why);
}

int main(void)
{
    test_rfc_examples();
    test_ejabberd_style();
    test_realm_and_quoting();
    test_hostile_challenges();
    test_charset();
    test_rspauth();
    test_random_cnonce();
    test_mask();
    test_select();
    TEST_DONE("test_digest");
    return 0;
}
