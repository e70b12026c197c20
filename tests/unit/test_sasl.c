/* SPDX-License-Identifier: MIT */
/*
 * test_sasl.c - unit tests for sasl.c: mechanism choice, PLAIN, username
 * escaping, the SCRAM vectors of RFC 5802 and RFC 7677 plus the local
 * SHA-512 and SHA-256-PLUS vectors (protocol notes 3.6), and a hostile
 * server: every malformed server-first or server-final must be refused
 * with the right error class and without output.
 */
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "../../sasl.h"
#include "test.h"

/* Does 's' start with the string literal 'lit'? */
#define HAS_PREFIX(s, lit) (strncmp((s), (lit), sizeof(lit) - 1) == 0)

#define USER "user"
#define PASS "pencil"

/* RFC 5802 section 5 (SCRAM-SHA-1). */
#define SHA1_CNONCE "fyko+d2lbbFgONRv9qkxdawL"
#define SHA1_SNONCE SHA1_CNONCE "3rfcNHYJY1ZVvWVs7j"
#define SHA1_FIRST "r=" SHA1_SNONCE ",s=QSXCR+Q6sek8bf92,i=4096"
#define SHA1_FINAL "c=biws,r=" SHA1_SNONCE ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
#define SHA1_V "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="

/* RFC 7677 section 3 (SCRAM-SHA-256); also used for SHA-512 and -PLUS. */
#define CNONCE "rOprNGfwEbeRWgbNEkqO"
#define SNONCE CNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define SALT "W22ZaJ0SNY7soEsUEjb6gQ=="
#define FIRST "r=" SNONCE ",s=" SALT ",i=4096"
#define SHA256_FINAL                                                           \
    "c=biws,r=" SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define SHA256_V "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

#define SHA512_FINAL                                                           \
    "c=biws,r=" SNONCE                                                         \
    ",p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMlTN8PPC6wdp"  \
    "6dybEmDYXYTxwnYPJQ=="
#define SHA512_V                                                               \
    "v=ZQnYEgWQMFmmsM8aQMF0nDDCy/AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeVGT4+5Zx"   \
    "XnJq199RVG2rR7N7Zw=="

#define PLUS_FINAL                                                             \
    "c=cD10bHMtZXhwb3J0ZXIsLAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f,"      \
    "r=" SNONCE ",p=QC6CS20quADQRb3mT99YUH+n3VJxUvzuK0K0E1Vrs2M="
#define PLUS_V "v=2GiAgapEppLVlUXbxUDksL3VgYHzuqiK5tR4mhJGgvs="

static unsigned char cb_bytes[32];

static struct sasl_scram *
start(enum sasl_mech mech, const char *cnonce, const char *flag)
{
    struct xs_error err = {0};
    struct sasl_scram *s;
    int plus = strncmp(flag, "p=", 2) == 0;

    s = sasl_scram_new(mech, USER, PASS, 0, cnonce, flag,
                       plus ? cb_bytes : NULL, plus ? sizeof(cb_bytes) : 0,
                       &err);
    if (s == NULL)
        (void)fprintf(stderr, "sasl_scram_new: %s\n", err.msg);
    CHECK(s != NULL);
    CHECK_EQ_INT(err.code, XS_OK);
    return s;
}

/* A complete exchange against a known vector. */
static void vector(enum sasl_mech mech,
                   const char *flag,
                   const char *cnonce,
                   const char *exp_first,
                   const char *server_first,
                   const char *exp_final,
                   const char *server_final)
{
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_scram *s = start(mech, cnonce, flag);

    sasl_scram_first(s, &out);
    CHECK_EQ_STR(out.data, exp_first);
    buf_reset(&out);
    CHECK_EQ_INT(
        sasl_scram_final(s, server_first, strlen(server_first), &out, &err),
        XS_OK);
    CHECK_EQ_STR(out.data, exp_final);
    CHECK_EQ_INT(sasl_scram_verify(s, server_final, strlen(server_final), &err),
                 XS_OK);
    CHECK_EQ_INT(err.code, XS_OK);
    buf_wipe(&out);
    sasl_scram_free(s);
}

static void test_vectors(void)
{
    vector(SASL_SCRAM_SHA_1, "n", SHA1_CNONCE, "n,,n=user,r=" SHA1_CNONCE,
           SHA1_FIRST, SHA1_FINAL, SHA1_V);
    vector(SASL_SCRAM_SHA_256, "n", CNONCE, "n,,n=user,r=" CNONCE, FIRST,
           SHA256_FINAL, SHA256_V);
    vector(SASL_SCRAM_SHA_512, "n", CNONCE, "n,,n=user,r=" CNONCE, FIRST,
           SHA512_FINAL, SHA512_V);
    vector(SASL_SCRAM_SHA_256, "p=tls-exporter", CNONCE,
           "p=tls-exporter,,n=user,r=" CNONCE, FIRST, PLUS_FINAL, PLUS_V);
}

/*
 * client-final for 'password' against the RFC 7677 server-first, kept in
 * a small ring of static buffers so two results can be compared.
 */
static const char *final_for(const char *password, int raw)
{
    static char ring[4][256];
    static int next;
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_scram *s;
    char *slot = ring[next++ % 4];

    s = sasl_scram_new(SASL_SCRAM_SHA_256, USER, password, raw, CNONCE, "n",
                       NULL, 0, &err);
    CHECK(s != NULL);
    CHECK_EQ_INT(sasl_scram_final(s, FIRST, strlen(FIRST), &out, &err), XS_OK);
    CHECK(out.len < sizeof(ring[0]));
    memcpy(slot, out.data, out.len + 1);
    buf_wipe(&out);
    sasl_scram_free(s);
    return slot;
}

/* "y,," changes c= (and hence the proof); raw passwords skip PRECIS. */
static void test_flags_and_password(void)
{
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_scram *s;

    s = start(SASL_SCRAM_SHA_256, CNONCE, "y");
    sasl_scram_first(s, &out);
    CHECK_EQ_STR(out.data, "y,,n=user,r=" CNONCE);
    buf_reset(&out);
    CHECK_EQ_INT(sasl_scram_final(s, FIRST, strlen(FIRST), &out, &err), XS_OK);
    CHECK(HAS_PREFIX(out.data, "c=eSws,r=" SNONCE ",p="));
    buf_wipe(&out);
    sasl_scram_free(s);

    /* An ASCII password is the same raw or normalised. */
    s = sasl_scram_new(SASL_SCRAM_SHA_256, USER, PASS, 1, CNONCE, "n", NULL, 0,
                       &err);
    CHECK(s != NULL);
    CHECK_EQ_INT(sasl_scram_final(s, FIRST, strlen(FIRST), &out, &err), XS_OK);
    CHECK_EQ_STR(out.data, SHA256_FINAL);
    buf_wipe(&out);
    sasl_scram_free(s);

    /* NFC: a decomposed "a" + U+0308 equals the precomposed U+00E4. */
    CHECK(strcmp(final_for("p\xc3\xa4ss", 0), final_for("pa\xcc\x88ss", 0)) ==
          0);
    CHECK(strcmp(final_for("p\xc3\xa4ss", 1), final_for("pa\xcc\x88ss", 1)) !=
          0);
    CHECK(strcmp(final_for("p\xc3\xa4ss", 0), final_for("p\xc3\xa4ss", 1)) ==
          0);

    /* PRECIS OpaqueString refuses control characters... */
    s = sasl_scram_new(SASL_SCRAM_SHA_256, USER,
                       "pen\x01"
                       "cil",
                       0, CNONCE, "n", NULL, 0, &err);
    CHECK(s == NULL);
    CHECK_EQ_INT(err.code, XS_EDATA);
    /* ...which --raw-password lets through. */
    s = sasl_scram_new(SASL_SCRAM_SHA_256, USER,
                       "pen\x01"
                       "cil",
                       1, CNONCE, "n", NULL, 0, NULL);
    CHECK(s != NULL);
    sasl_scram_free(s);
}

static void expect_new_fails(enum sasl_mech mech,
                             const char *user,
                             const char *cnonce,
                             const char *flag,
                             const unsigned char *cb,
                             size_t cblen)
{
    struct xs_error err = {0};

    CHECK(sasl_scram_new(mech, user, PASS, 0, cnonce, flag, cb, cblen, &err) ==
          NULL);
    CHECK_EQ_INT(err.code, XS_ESOFTWARE);
    CHECK(err.msg[0] != '\0');
}

static void test_bad_arguments(void)
{
    expect_new_fails(SASL_PLAIN, USER, CNONCE, "n", NULL, 0);
    expect_new_fails(SASL_NONE, USER, CNONCE, "n", NULL, 0);
    expect_new_fails(SASL_SCRAM_SHA_1, "", CNONCE, "n", NULL, 0);
    expect_new_fails(SASL_SCRAM_SHA_1, USER, "a,b", "n", NULL, 0);
    expect_new_fails(SASL_SCRAM_SHA_1, USER, "", "n", NULL, 0);
    expect_new_fails(SASL_SCRAM_SHA_1, USER, "a b", "n", NULL, 0);
    expect_new_fails(SASL_SCRAM_SHA_1, USER, CNONCE, "x", NULL, 0);
    expect_new_fails(SASL_SCRAM_SHA_1, USER, CNONCE, "p=", cb_bytes, 4);
    expect_new_fails(SASL_SCRAM_SHA_1, USER, CNONCE, "p=a,b", cb_bytes, 4);
    expect_new_fails(SASL_SCRAM_SHA_1, USER, CNONCE, "p=tls-exporter", NULL, 0);
}

static void test_random_nonce(void)
{
    struct buf a = {0}, b = {0};
    struct sasl_scram *s1 = start(SASL_SCRAM_SHA_256, NULL, "n");
    struct sasl_scram *s2 = start(SASL_SCRAM_SHA_256, NULL, "n");

    sasl_scram_first(s1, &a);
    sasl_scram_first(s2, &b);
    /* 24 random bytes -> 32 base64 characters. */
    CHECK_EQ_INT(a.len, strlen("n,,n=user,r=") + 32);
    CHECK(HAS_PREFIX(a.data, "n,,n=user,r="));
    CHECK(strchr(a.data + 12, ',') == NULL);
    CHECK(strcmp(a.data, b.data) != 0);
    buf_free(&a);
    buf_free(&b);
    sasl_scram_free(s1);
    sasl_scram_free(s2);
}

static void test_username(void)
{
    struct buf out = {0};
    struct sasl_scram *s;
    char *e;

    e = sasl_escape_username("a=b,c");
    CHECK_EQ_STR(e, "a=3Db=2Cc");
    free(e);
    e = sasl_escape_username(",,==");
    CHECK_EQ_STR(e, "=2C=2C=3D=3D");
    free(e);
    e = sasl_escape_username("plain");
    CHECK_EQ_STR(e, "plain");
    free(e);

    s = sasl_scram_new(SASL_SCRAM_SHA_1, "u,=v", PASS, 0, CNONCE, "n", NULL, 0,
                       NULL);
    CHECK(s != NULL);
    sasl_scram_first(s, &out);
    CHECK_EQ_STR(out.data, "n,,n=u=2C=3Dv,r=" CNONCE);
    buf_free(&out);
    sasl_scram_free(s);
}

static void test_plain(void)
{
    struct xs_error err = {0};
    struct buf out = {0};

    CHECK_EQ_INT(sasl_plain_prepare("user", "pencil", 0, &out, &err), XS_OK);
    CHECK_BUF(out.data, out.len, "\0user\0pencil", 12);
    buf_wipe(&out);
    CHECK(out.data == NULL);

    /* The password prepared as SCRAM prepares it (PRECIS OpaqueString):
     * NFC, and non-ASCII spaces become U+0020. */
    CHECK_EQ_INT(sasl_plain_prepare("user", "pa\xcc\x88ss", 0, &out, &err),
                 XS_OK);
    CHECK_BUF(out.data, out.len, "\0user\0p\xc3\xa4ss", 11);
    buf_wipe(&out);
    CHECK_EQ_INT(sasl_plain_prepare("user",
                                    "a\xc2\xa0"
                                    "b",
                                    0, &out, &err),
                 XS_OK);
    CHECK_BUF(out.data, out.len, "\0user\0a b", 9);
    buf_wipe(&out);
    /* ...unless raw. */
    CHECK_EQ_INT(sasl_plain_prepare("user", "pa\xcc\x88ss", 1, &out, &err),
                 XS_OK);
    CHECK_BUF(out.data, out.len, "\0user\0pa\xcc\x88ss", 12);
    buf_wipe(&out);
    /* What SCRAM refuses, PLAIN refuses, appending nothing. */
    CHECK_EQ_INT(sasl_plain_prepare("user",
                                    "pen\x01"
                                    "cil",
                                    0, &out, &err),
                 XS_EDATA);
    CHECK_EQ_INT(err.code, XS_EDATA);
    CHECK(strstr(err.msg, "OpaqueString") != NULL);
    CHECK_EQ_INT(out.len, 0);
    CHECK_EQ_INT(sasl_plain_prepare("user",
                                    "pen\x01"
                                    "cil",
                                    1, &out, NULL),
                 XS_OK);
    CHECK_BUF(out.data, out.len,
              "\0user\0pen\x01"
              "cil",
              13);
    buf_wipe(&out);
}

static void test_mech_names(void)
{
    enum sasl_mech m;

    CHECK_EQ_STR(sasl_mech_name(SASL_NONE), "");
    CHECK_EQ_STR(sasl_mech_name(SASL_PLAIN), "PLAIN");
    CHECK_EQ_STR(sasl_mech_name(SASL_SCRAM_SHA_1), "SCRAM-SHA-1");
    CHECK_EQ_STR(sasl_mech_name(SASL_SCRAM_SHA_256), "SCRAM-SHA-256");
    CHECK_EQ_STR(sasl_mech_name(SASL_SCRAM_SHA_512), "SCRAM-SHA-512");
    for (m = SASL_PLAIN; m <= SASL_SCRAM_SHA_512; m++)
        CHECK_EQ_INT(sasl_mech_from_name(sasl_mech_name(m)), m);
    CHECK_EQ_INT(sasl_mech_from_name("scram-sha-256"), SASL_NONE);
    CHECK_EQ_INT(sasl_mech_from_name("SCRAM-SHA-256-PLUS"), SASL_NONE);
    CHECK_EQ_INT(sasl_mech_from_name("SCRAM-SHA-256 "), SASL_NONE);
    CHECK_EQ_INT(sasl_mech_from_name(""), SASL_NONE);
    CHECK_EQ_INT(sasl_mech_from_name(NULL), SASL_NONE);
}

#define CHOOSE(list, plain)                                                    \
    sasl_choose((list), sizeof(list) / sizeof((list)[0]), (plain))

static void test_choose(void)
{
    static const char *const all[] = {"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-512",
                                      "SCRAM-SHA-256"};
    static const char *const two[] = {"SCRAM-SHA-256", "SCRAM-SHA-1"};
    static const char *const one_plain[] = {"PLAIN", "SCRAM-SHA-1"};
    static const char *const plain[] = {"PLAIN"};
    static const char *const plus[] = {"SCRAM-SHA-512-PLUS", "SCRAM-SHA-1",
                                       "PLAIN"};
    static const char *const none[] = {"DIGEST-MD5", "X-OAUTH2", "scram-sha-1"};

    CHECK_EQ_INT(CHOOSE(all, 1), SASL_SCRAM_SHA_512);
    CHECK_EQ_INT(CHOOSE(all, 0), SASL_SCRAM_SHA_512);
    CHECK_EQ_INT(CHOOSE(two, 1), SASL_SCRAM_SHA_256);
    /* Never PLAIN once any SCRAM variant is offered. */
    CHECK_EQ_INT(CHOOSE(one_plain, 1), SASL_SCRAM_SHA_1);
    CHECK_EQ_INT(CHOOSE(plus, 1), SASL_SCRAM_SHA_1);
    /* PLAIN only on request. */
    CHECK_EQ_INT(CHOOSE(plain, 0), SASL_NONE);
    CHECK_EQ_INT(CHOOSE(plain, 1), SASL_PLAIN);
    CHECK_EQ_INT(CHOOSE(none, 1), SASL_NONE);
    CHECK_EQ_INT(sasl_choose(NULL, 0, 1), SASL_NONE);
}

#define COUNT(v) (sizeof(v) / sizeof((v)[0]))

/* SCRAM-*-PLUS: the strongest -PLUS variant, whatever else is offered. */
static void test_choose_plus(void)
{
    static const char *const all[] = {"DIGEST-MD5",
                                      "PLAIN",
                                      "SCRAM-SHA-512-PLUS",
                                      "SCRAM-SHA-512",
                                      "SCRAM-SHA-256-PLUS",
                                      "SCRAM-SHA-256",
                                      "SCRAM-SHA-1-PLUS",
                                      "SCRAM-SHA-1",
                                      "X-OAUTH2"};
    static const char *const one[] = {"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS",
                                      "SCRAM-SHA-256"};
    static const char *const odd[] = {
        "PLAIN-PLUS",       "-PLUS",
        "SCRAM-SHA-1-plus", "SCRAM-SHA-1-PLUS-PLUS",
        "SCRAM-SHA-1",      "X-SCRAM-SHA-1-PLUS"};

    CHECK_EQ_INT(sasl_choose_plus(all, COUNT(all)), SASL_SCRAM_SHA_512);
    CHECK_EQ_INT(sasl_choose_plus(one, COUNT(one)), SASL_SCRAM_SHA_1);
    CHECK_EQ_INT(sasl_choose_plus(odd, COUNT(odd)), SASL_NONE);
    CHECK_EQ_INT(sasl_choose_plus(NULL, 0), SASL_NONE);
}

/*
 * XEP-0474 hashes: the spec's own example (SHA-1), and SHA-256 in both
 * forms, computed independently with Python's hashlib (protocol.md 3.6).
 */
static void test_ssdp_hash(void)
{
    static const char *const m1[] = {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"};
    static const char *const cb1[] = {"tls-server-end-point", "tls-exporter"};
    static const char *const m7[] = {"SCRAM-SHA-1",   "SCRAM-SHA-1-PLUS",
                                     "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS",
                                     "SCRAM-SHA-512", "SCRAM-SHA-512-PLUS",
                                     "PLAIN"};
    char *h;

    h = sasl_ssdp_hash(SASL_SCRAM_SHA_1, m1, 2, cb1, 2, 1, 0);
    CHECK_EQ_STR(h, "G6k/rBLDqgOhRRaCuuatSDFkJ08=");
    free(h);
    h = sasl_ssdp_hash(SASL_SCRAM_SHA_256, m7, 7, cb1, 2, 1, 0);
    CHECK_EQ_STR(h, "cmRT/9v5sjTgX+ft+hYhsOha8IkhRW2KxNFPJvcbHUA=");
    free(h);
    /* 0.3.x "d=" (ejabberd): ',' and '|' instead of 0x1E and 0x1F */
    h = sasl_ssdp_hash(SASL_SCRAM_SHA_256, m7, 7, cb1, 2, 1, 1);
    CHECK_EQ_STR(h, "ECt/JY8LJQfgM4f/EdZm/JsQxzDhdlODbdEQ3Y1OSdU=");
    free(h);
    /* No XEP-0440 list: no separator, whatever 'cbs' holds. */
    h = sasl_ssdp_hash(SASL_SCRAM_SHA_256, m7, 7, cb1, 2, 0, 0);
    CHECK_EQ_STR(h, "CJI+40d+jLOmMzmnRF8XaLCAnuiuzCkIa7WKVnn208c=");
    free(h);
    CHECK(sasl_ssdp_hash(SASL_PLAIN, m7, 7, NULL, 0, 0, 0) == NULL);
}

/* SCRAM-SHA-256-PLUS (tls-exporter, cb = 0x00..0x1f) with an "h" the
 * client checks; p= and v= from a Python computation. */
#define SSDP_MECHS "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1"
#define SSDP_H "3v2GEc70FDIweeX2XJjp7q407NKKjMqHGzx/he0bVDw="
#define SSDP_FIRST FIRST ",h=" SSDP_H
#define SSDP_FINAL                                                             \
    "c=cD10bHMtZXhwb3J0ZXIsLAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f,"      \
    "r=" SNONCE ",p=MmJgYkwrrP2u7y9ifhGGlc2DkNa17EVbhO/++zt5ve0="
#define SSDP_V "v=LvRIXPhaYtqXkrhsWrv33L9GPyukiINj02mNH5DtmB0="

/* One exchange with the XEP-0474 check: XS_OK or the refusal. */
static enum xs_err ssdp_run(const char *const *mechs,
                            size_t n,
                            const char *const *cbs,
                            size_t ncb,
                            int listed,
                            int required,
                            const char *first,
                            struct buf *out)
{
    struct xs_error err = {0};
    struct sasl_scram *s = start(SASL_SCRAM_SHA_256, CNONCE, "p=tls-exporter");
    enum xs_err e;

    sasl_scram_ssdp(s, mechs, n, cbs, ncb, listed, required);
    e = sasl_scram_final(s, first, strlen(first), out, &err);
    CHECK_EQ_INT(err.code, e);
    if (e == XS_OK) {
        CHECK_EQ_INT(sasl_scram_ssdp_verified(s),
                     strstr(first, ",h=") != NULL ||
                         strstr(first, ",d=") != NULL);
        CHECK_EQ_INT(sasl_scram_verify(s, SSDP_V, strlen(SSDP_V), &err),
                     strcmp(first, SSDP_FIRST) == 0 ? XS_OK : XS_EPROTO);
    } else {
        CHECK(strstr(err.msg, "XEP-0474") != NULL);
    }
    sasl_scram_free(s);
    return e;
}

static void test_ssdp_check(void)
{
    static const char *const mechs[] = {SSDP_MECHS};
    /* what a man in the middle left of the lists */
    static const char *const stripped[] = {"SCRAM-SHA-256", "SCRAM-SHA-1"};
    static const char *const cbs[] = {"tls-exporter", "tls-server-end-point"};
    struct buf out = {0};
    char d_first[512];
    char *d;

    /* Matching: the exchange goes on, the hash is part of AuthMessage. */
    CHECK_EQ_INT(ssdp_run(mechs, 3, cbs, 2, 1, 0, SSDP_FIRST, &out), XS_OK);
    CHECK_EQ_STR(out.data, SSDP_FINAL);
    buf_reset(&out);
    /* The server signed other lists than we saw: no proof is produced. */
    CHECK_EQ_INT(ssdp_run(stripped, 2, cbs, 2, 1, 0, SSDP_FIRST, &out),
                 XS_EPROTO);
    CHECK_EQ_INT(ssdp_run(mechs, 3, cbs, 1, 1, 0, SSDP_FIRST, &out), XS_EPROTO);
    CHECK_EQ_INT(ssdp_run(mechs, 3, cbs, 2, 0, 0, SSDP_FIRST, &out), XS_EPROTO);
    CHECK_EQ_INT(ssdp_run(mechs, 3, cbs, 2, 1, 0,
                          FIRST ",h=rmF9pqV8S7suAoZWja4dJRkFsKQ=", &out),
                 XS_EPROTO);
    CHECK_EQ_INT(out.len, 0);
    /* No hash: fine unless required (XEP-0474 new rule 6). */
    CHECK_EQ_INT(ssdp_run(mechs, 3, cbs, 2, 1, 0, FIRST, &out), XS_OK);
    buf_reset(&out);
    CHECK_EQ_INT(ssdp_run(mechs, 3, cbs, 2, 1, 1, FIRST, &out), XS_EPROTO);
    CHECK_EQ_INT(ssdp_run(mechs, 3, cbs, 2, 1, 1, SSDP_FIRST, &out), XS_OK);
    buf_reset(&out);
    /* The old "d=" form, checked the same way. */
    d = sasl_ssdp_hash(SASL_SCRAM_SHA_256, mechs, 3, cbs, 2, 1, 1);
    CHECK(d != NULL);
    (void)snprintf(d_first, sizeof(d_first), "%s,d=%s", FIRST, d);
    CHECK_EQ_INT(ssdp_run(mechs, 3, cbs, 2, 1, 1, d_first, &out), XS_OK);
    buf_reset(&out);
    CHECK_EQ_INT(ssdp_run(stripped, 2, cbs, 2, 1, 1, d_first, &out), XS_EPROTO);
    /* An "h" in the old form's place (and vice versa) is a mismatch. */
    (void)snprintf(d_first, sizeof(d_first), "%s,h=%s", FIRST, d);
    CHECK_EQ_INT(ssdp_run(mechs, 3, cbs, 2, 1, 0, d_first, &out), XS_EPROTO);
    free(d);
    buf_wipe(&out);
}

/* server-first must be refused with XS_EPROTO, producing no output. */
static void
reject_first_len(const char *first, size_t len, const char *want_msg)
{
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_scram *s = start(SASL_SCRAM_SHA_256, CNONCE, "n");

    CHECK_EQ_INT(sasl_scram_final(s, first, len, &out, &err), XS_EPROTO);
    CHECK_EQ_INT(err.code, XS_EPROTO);
    if (strstr(err.msg, want_msg) == NULL)
        (void)fprintf(stderr, "message: %s\nfor: %s\n", err.msg, first);
    CHECK(strstr(err.msg, want_msg) != NULL);
    CHECK_EQ_INT(out.len, 0);
    /* The exchange is dead: no second attempt, no verify. */
    err.code = XS_OK;
    CHECK_EQ_INT(sasl_scram_final(s, FIRST, strlen(FIRST), &out, &err),
                 XS_ESOFTWARE);
    err.code = XS_OK;
    CHECK_EQ_INT(sasl_scram_verify(s, SHA256_V, strlen(SHA256_V), &err),
                 XS_ESOFTWARE);
    buf_free(&out);
    sasl_scram_free(s);
}

static void reject_first(const char *first, const char *want_msg)
{
    reject_first_len(first, strlen(first), want_msg);
}

static void accept_first(const char *first)
{
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_scram *s = start(SASL_SCRAM_SHA_1, CNONCE, "n");

    if (sasl_scram_final(s, first, strlen(first), &out, &err) != XS_OK)
        (void)fprintf(stderr, "message: %s\nfor: %s\n", err.msg, first);
    CHECK_EQ_INT(err.code, XS_OK);
    CHECK(HAS_PREFIX(out.data, "c=biws,r=" CNONCE));
    buf_wipe(&out);
    sasl_scram_free(s);
}

#define ITER "server sent an invalid SCRAM iteration count"
#define R "r=" SNONCE
#define S ",s=" SALT

static void test_hostile_first(void)
{
    struct buf big = {0};
    size_t i;

    /* Mandatory extensions. */
    reject_first("m=foo," FIRST, "m=");
    reject_first("m=", "m=");
    /* Nonce must extend ours. */
    reject_first("r=XOprNGfwEbeRWgbNEkqO123" S ",i=4096", "nonce");
    reject_first("r=rOprNGfwEbeRWgbNEk" S ",i=4096", "nonce");
    reject_first("r=" CNONCE S ",i=4096", "nonce");
    reject_first("r=" CNONCE "abc def" S ",i=4096", "nonce");
    reject_first("r=" CNONCE "abc\x7f" S ",i=4096", "nonce");
    reject_first("r=" CNONCE "abc\xc3\xa9" S ",i=4096", "nonce");
    reject_first("r=" S ",i=4096", "nonce");
    /* A nonce one byte over the limit. */
    buf_addstr(&big, "r=" CNONCE);
    for (i = strlen(CNONCE); i <= SASL_SCRAM_MAX_FIELD; i++)
        buf_addch(&big, 'A');
    buf_addstr(&big, S ",i=4096");
    reject_first(big.data, "nonce");
    buf_reset(&big);
    /* Iteration count: bounds and syntax; i=0 must not reach nettle. */
    reject_first(R S ",i=0", ITER " (0)");
    reject_first(R S ",i=1", ITER " (1)");
    reject_first(R S ",i=4095", ITER " (4095)");
    reject_first(R S ",i=1000001", ITER " (1000001)");
    reject_first(R S ",i=1000000000", ITER " (1000000000)");
    reject_first(R S ",i=4294967296", ITER);
    reject_first(R S ",i=99999999999999999999999999", ITER);
    reject_first(R S ",i=-1", ITER " (-1)");
    reject_first(R S ",i=+4096", ITER);
    reject_first(R S ",i=04096", ITER);
    reject_first(R S ",i=12a", ITER " (12a)");
    reject_first(R S ",i=4096a", ITER);
    reject_first(R S ",i= 4096", ITER);
    reject_first(R S ",i=", ITER);
    reject_first(R S ",i=4096\x1b[2J", ITER " (4096?[2J)");
    /* Salt: strict base64, 1..1024 bytes. */
    reject_first(R ",s=,i=4096", "salt");
    reject_first(R ",s=QSXCR+Q6sek8bf9,i=4096", "salt");
    reject_first(R ",s=QSXCR+Q6sek8bf92=,i=4096", "salt");
    reject_first(R ",s=QSXC R+Q6sek8bf92,i=4096", "salt");
    reject_first(R ",s=cj0x-_==,i=4096", "salt");
    reject_first(R ",s=cj0x,i=4096x", ITER);
    reject_first(R ",s=Zh==,i=4096", "salt");
    reject_first(R ",s====,i=4096", "salt");
    /* 1025 bytes of salt. */
    buf_addstr(&big, R ",s=");
    for (i = 0; i < 1025 / 3; i++)
        buf_addstr(&big, "AAAA");
    buf_addstr(&big, "AAA=,i=4096");
    reject_first(big.data, "salt");
    buf_reset(&big);
    /* Exactly 1024 bytes of salt and a nonce of exactly the maximum. */
    buf_addstr(&big, "r=" CNONCE);
    for (i = strlen(CNONCE); i < SASL_SCRAM_MAX_FIELD; i++)
        buf_addch(&big, 'A');
    buf_addstr(&big, ",s=");
    for (i = 0; i < 1024 / 3; i++)
        buf_addstr(&big, "AAAA");
    buf_addstr(&big, "AA==,i=4096");
    accept_first(big.data);
    buf_free(&big);
    /* Missing fields and wrong order. */
    reject_first("", "no nonce");
    reject_first(R, "no salt");
    reject_first(R S, "no iteration count");
    reject_first(R ",i=4096", "no salt");
    reject_first(R S ",", "malformed");
    reject_first("s=" SALT ",i=4096", "no nonce");
    reject_first(R ",i=4096" S, "no salt");
    reject_first("s=" SALT "," R ",i=4096", "no nonce");
    reject_first("i=4096," R S, "no nonce");
    reject_first(",r=" SNONCE S ",i=4096", "no nonce");
    reject_first("r:" SNONCE S ",i=4096", "no nonce");
    /* Extensions after i= must be well formed... */
    reject_first(FIRST ",", "malformed");
    reject_first(FIRST ",,", "malformed");
    reject_first(FIRST ",x", "malformed");
    reject_first(FIRST ",1=x", "malformed");
    reject_first_len(FIRST "\0,x=1", sizeof(FIRST ",x=1"), "malformed");
    reject_first_len(FIRST, strlen(FIRST) - 1, ITER " (409)");
    /* ...and are otherwise fine (XEP-0474 "h"); bounds are inclusive. */
    accept_first(R S ",i=4096,h=G6k/rBLDqgOhRRaCuuatSDFkJ08=");
    accept_first(R S ",i=4096,x=,y=z");
    accept_first(R ",s=QQ==,i=4096");
    accept_first(R S ",i=1000000");
}

/* A completed SHA-256 exchange, ready for sasl_scram_verify(). */
static struct sasl_scram *proved(void)
{
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_scram *s = start(SASL_SCRAM_SHA_256, CNONCE, "n");

    CHECK_EQ_INT(sasl_scram_final(s, FIRST, strlen(FIRST), &out, &err), XS_OK);
    buf_wipe(&out);
    return s;
}

static void verify_len(const char *final,
                       size_t len,
                       enum xs_err want,
                       const char *want_msg)
{
    struct xs_error err = {0};
    struct sasl_scram *s = proved();

    CHECK_EQ_INT(sasl_scram_verify(s, final, len, &err), want);
    CHECK_EQ_INT(err.code, want);
    if (want_msg != NULL) {
        if (strstr(err.msg, want_msg) == NULL)
            (void)fprintf(stderr, "message: %s\n", err.msg);
        CHECK(strstr(err.msg, want_msg) != NULL);
    }
    sasl_scram_free(s);
}

static void verify(const char *final, enum xs_err want, const char *want_msg)
{
    verify_len(final, strlen(final), want, want_msg);
}

#define MUTUAL                                                                 \
    "server failed SCRAM mutual authentication (wrong server signature)"

static void test_server_final(void)
{
    struct xs_error err = {0};
    struct sasl_scram *s;

    verify(SHA256_V, XS_OK, NULL);
    verify(SHA256_V ",x=ext", XS_OK, NULL);
    /* Wrong, truncated, extended, missing or garbled signatures. */
    verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=", XS_EPROTO, MUTUAL);
    verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4", XS_EPROTO, MUTUAL);
    verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G", XS_EPROTO, MUTUAL);
    verify(SHA256_V "=", XS_EPROTO, MUTUAL);
    verify(SHA256_V "x", XS_EPROTO, MUTUAL);
    verify("v=", XS_EPROTO, MUTUAL);
    verify("v", XS_EPROTO, MUTUAL);
    verify("", XS_EPROTO, MUTUAL);
    verify("x=1," SHA256_V, XS_EPROTO, MUTUAL);
    verify(" " SHA256_V, XS_EPROTO, MUTUAL);
    verify(SHA1_V, XS_EPROTO, MUTUAL);
    verify(SHA512_V, XS_EPROTO, MUTUAL);
    verify_len(SHA256_V, strlen(SHA256_V) - 1, XS_EPROTO, MUTUAL);
    verify_len(SHA256_V "\0", sizeof(SHA256_V), XS_EPROTO, MUTUAL);
    verify_len(NULL, 0, XS_EPROTO, MUTUAL);
    /* e= is the server saying no: an authentication failure. */
    verify("e=invalid-proof", XS_EAUTH,
           "server rejected authentication: invalid-proof");
    verify("e=other-error,x=1", XS_EAUTH,
           "server rejected authentication: other-error");
    verify("e=\x1b]0;pwned\x07\n", XS_EAUTH,
           "server rejected authentication: ?]0;pwned??");

    /* verify() before final() is a caller bug. */
    s = start(SASL_SCRAM_SHA_256, CNONCE, "n");
    CHECK_EQ_INT(sasl_scram_verify(s, SHA256_V, strlen(SHA256_V), &err),
                 XS_ESOFTWARE);
    sasl_scram_free(s);
    sasl_scram_free(NULL);
}

/* 32 bytes from hex (the HT vectors below). */
static void from_hex(const char *hex, unsigned char out[32])
{
    for (size_t i = 0; i < 32; i++) {
        unsigned v = 0;
        for (size_t k = 0; k < 2; k++) {
            char c = hex[2 * i + k];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
        }
        out[i] = (unsigned char)v;
    }
}

/*
 * FAST (XEP-0484) HT-SHA-256-* proofs.  Vectors from Python:
 *   hmac.new(TOKEN, b"Initiator" [+ bytes(range(32))], "sha256")
 *   hmac.new(TOKEN, b"Responder" [+ bytes(range(32))], "sha256")
 */
#define HT_TOKEN "WXZzciBQYmFnYmZ6YmFnIGpvcnZ0dWdhcg"
#define HT_INIT_NONE                                                           \
    "5be56cea94862626540f9ce64f0c4fc2fc5d76433a1057662f7e82dacd502389"
#define HT_INIT_CB                                                             \
    "12d27b581e6eb2c42075fdb6d10201fa5ddb3323ca0b063ea6303b62fff68a0d"
#define HT_RESP_NONE                                                           \
    "b3c45c3bca6cc2001ec3e432babffd64ca8652e3b6b7336baa19510e20c40216"
#define HT_RESP_CB                                                             \
    "c6902251485691fc3db138e78b5f47199f3f9daf4e426a7ae106dc90482b9e1f"

static void test_ht(void)
{
    const char *type = "unset";
    CHECK_EQ_INT(sasl_ht_cbtype("HT-SHA-256-NONE", &type), 0);
    CHECK(type == NULL);
    CHECK_EQ_INT(sasl_ht_cbtype("HT-SHA-256-EXPR", &type), 0);
    CHECK_EQ_STR(type, "tls-exporter");
    CHECK_EQ_INT(sasl_ht_cbtype("HT-SHA-256-ENDP", &type), 0);
    CHECK_EQ_STR(type, "tls-server-end-point");
    CHECK_EQ_INT(sasl_ht_cbtype("HT-SHA-256-UNIQ", &type), 0);
    CHECK_EQ_STR(type, "tls-unique");
    CHECK_EQ_INT(sasl_ht_cbtype("HT-SHA-256-", &type), -1);
    CHECK_EQ_INT(sasl_ht_cbtype("HT-SHA-256-EXPRX", &type), -1);
    CHECK_EQ_INT(sasl_ht_cbtype("HT-SHA-512-NONE", &type), -1);
    CHECK_EQ_INT(sasl_ht_cbtype("SCRAM-SHA-256", &type), -1);
    CHECK_EQ_INT(sasl_ht_cbtype(NULL, &type), -1);

    /* Initial response: authcid NUL HMAC(token, "Initiator" || cb). */
    unsigned char mac[32], want[4 + 1 + 32];
    struct xs_error err = {0};
    struct buf out = {0};
    memcpy(want, "user", 5);
    from_hex(HT_INIT_NONE, want + 5);
    CHECK_EQ_INT(sasl_ht_initial("user", HT_TOKEN, NULL, 0, &out, &err), XS_OK);
    CHECK_BUF(out.data, out.len, want, sizeof want);
    buf_free(&out);
    from_hex(HT_INIT_CB, want + 5);
    CHECK_EQ_INT(sasl_ht_initial("user", HT_TOKEN, cb_bytes, sizeof cb_bytes,
                                 &out, &err),
                 XS_OK);
    CHECK_BUF(out.data, out.len, want, sizeof want);
    buf_free(&out);
    /* No user or no token: no proof, nothing written. */
    CHECK_EQ_INT(sasl_ht_initial("", HT_TOKEN, NULL, 0, &out, &err),
                 XS_ESOFTWARE);
    CHECK_EQ_INT(sasl_ht_initial("user", "", NULL, 0, &out, &err),
                 XS_ESOFTWARE);
    CHECK_EQ_INT(sasl_ht_initial("user", NULL, NULL, 0, &out, &err),
                 XS_ESOFTWARE);
    CHECK_EQ_INT((long long)out.len, 0);

    /* The server's proof: exactly HMAC(token, "Responder" || cb). */
    from_hex(HT_RESP_NONE, mac);
    CHECK_EQ_INT(sasl_ht_verify(HT_TOKEN, NULL, 0, (char *)mac, 32, &err),
                 XS_OK);
    from_hex(HT_RESP_CB, mac);
    CHECK_EQ_INT(sasl_ht_verify(HT_TOKEN, cb_bytes, sizeof cb_bytes,
                                (char *)mac, 32, &err),
                 XS_OK);
    /* The same proof without the channel binding, truncated, longer, one
     * bit off, another token, no token, nothing: all refused. */
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(sasl_ht_verify(HT_TOKEN, NULL, 0, (char *)mac, 32, &err),
                 XS_EPROTO);
    CHECK(strstr(err.msg, "FAST mutual authentication") != NULL);
    CHECK_EQ_INT(sasl_ht_verify(HT_TOKEN, cb_bytes, sizeof cb_bytes,
                                (char *)mac, 31, &err),
                 XS_EPROTO);
    unsigned char longer[33];
    memcpy(longer, mac, 32);
    longer[32] = 0;
    CHECK_EQ_INT(sasl_ht_verify(HT_TOKEN, cb_bytes, sizeof cb_bytes,
                                (char *)longer, 33, &err),
                 XS_EPROTO);
    mac[31] ^= 1;
    CHECK_EQ_INT(sasl_ht_verify(HT_TOKEN, cb_bytes, sizeof cb_bytes,
                                (char *)mac, 32, &err),
                 XS_EPROTO);
    mac[31] ^= 1;
    CHECK_EQ_INT(sasl_ht_verify("another-token", cb_bytes, sizeof cb_bytes,
                                (char *)mac, 32, &err),
                 XS_EPROTO);
    CHECK_EQ_INT(
        sasl_ht_verify(NULL, cb_bytes, sizeof cb_bytes, (char *)mac, 32, &err),
        XS_EPROTO);
    CHECK_EQ_INT(sasl_ht_verify(HT_TOKEN, NULL, 0, NULL, 0, &err), XS_EPROTO);
    /* The Initiator proof is no Responder proof (no reflection). */
    from_hex(HT_INIT_NONE, mac);
    CHECK_EQ_INT(sasl_ht_verify(HT_TOKEN, NULL, 0, (char *)mac, 32, &err),
                 XS_EPROTO);
}

/* Printable ASCII skips GnuTLS's normaliser: the same bytes as GnuTLS
 * makes of it; control characters still go to GnuTLS and are refused. */
static void test_ascii_password(void)
{
    char pw[0x7f - 0x20 + 1];
    struct xs_error err = {0};
    gnutls_datum_t norm = {NULL, 0};
    char *out = NULL;
    size_t len = 0;
    int c;

    for (c = 0x20; c < 0x7f; c++)
        pw[c - 0x20] = (char)c;
    pw[sizeof pw - 1] = '\0';
    CHECK_EQ_INT(sasl_password_prepare(pw, 0, &out, &len, &err), XS_OK);
    CHECK(gnutls_utf8_password_normalize((const unsigned char *)pw,
                                         (unsigned)strlen(pw), &norm, 0) == 0);
    CHECK(len == norm.size && memcmp(out, norm.data, len) == 0);
    gnutls_free(norm.data);
    free(out);
    for (c = 1; c < 0x80; c++) {
        char bad[4] = {'a', (char)c, 'b', '\0'};
        int refused = c < 0x20 || c == 0x7f;
        out = NULL;
        CHECK_EQ_INT(sasl_password_prepare(bad, 0, &out, &len, &err),
                     refused ? XS_EDATA : XS_OK);
        CHECK(refused ? out == NULL : len == 3 && memcmp(out, bad, 3) == 0);
        free(out);
    }
}

/* RFC 5802 section 5.1: keys kept from one exchange make the same proof
 * and check the same server signature without the password; keys for
 * another salt, iteration count or hash are not used. */
static void test_key_cache(void)
{
    struct xs_error err = {0};
    struct buf out = {0};
    struct sasl_scram_keys k, kept;
    struct sasl_scram *s = start(SASL_SCRAM_SHA_256, CNONCE, "n");

    CHECK(sasl_scram_keys(s, &k) == -1);
    CHECK_EQ_INT(sasl_scram_final(s, FIRST, strlen(FIRST), &out, &err), XS_OK);
    CHECK(!sasl_scram_cache_hit(s));
    CHECK(sasl_scram_keys(s, &kept) == 0);
    CHECK_EQ_STR(kept.mech, "SCRAM-SHA-256");
    CHECK_EQ_STR(kept.salt, SALT);
    CHECK_EQ_STR(kept.iter, "4096");
    CHECK(strlen(kept.client_key) == 44 && strlen(kept.server_key) == 44);
    buf_wipe(&out);
    sasl_scram_free(s);

    /* A wrong password with the kept keys: their proof, the vector's. */
    s = sasl_scram_new(SASL_SCRAM_SHA_256, USER, "not-pencil", 0, CNONCE, "n",
                       NULL, 0, &err);
    CHECK(s != NULL);
    sasl_scram_use_keys(s, &kept);
    CHECK_EQ_INT(sasl_scram_final(s, FIRST, strlen(FIRST), &out, &err), XS_OK);
    CHECK(sasl_scram_cache_hit(s));
    CHECK_EQ_STR(out.data, SHA256_FINAL);
    CHECK_EQ_INT(sasl_scram_verify(s, SHA256_V, strlen(SHA256_V), &err), XS_OK);
    buf_wipe(&out);
    sasl_scram_free(s);

    /* Another iteration count, another salt, another hash, a key of the
     * wrong size: the password is used (no hit). */
    static const char *const firsts[] = {
        "r=" SNONCE ",s=" SALT ",i=4097",
        "r=" SNONCE ",s=QSXCR+Q6sek8bf92,i=4096",
    };
    for (size_t i = 0; i < 2; i++) {
        s = start(SASL_SCRAM_SHA_256, CNONCE, "n");
        sasl_scram_use_keys(s, &kept);
        CHECK_EQ_INT(
            sasl_scram_final(s, firsts[i], strlen(firsts[i]), &out, &err),
            XS_OK);
        CHECK(!sasl_scram_cache_hit(s));
        CHECK(sasl_scram_keys(s, &k) == 0);
        CHECK(strcmp(k.client_key, kept.client_key) != 0);
        sasl_scram_keys_free(&k);
        buf_wipe(&out);
        sasl_scram_free(s);
    }
    s = start(SASL_SCRAM_SHA_512, CNONCE, "n");
    sasl_scram_use_keys(s, &kept); /* SHA-256 keys for SHA-512 */
    CHECK_EQ_INT(sasl_scram_final(s, FIRST, strlen(FIRST), &out, &err), XS_OK);
    CHECK(!sasl_scram_cache_hit(s));
    CHECK_EQ_STR(out.data, SHA512_FINAL);
    buf_wipe(&out);
    sasl_scram_free(s);
    char *saved = kept.client_key;
    char shortkey[] = "c2hvcnQ=";
    kept.client_key = shortkey;
    s = start(SASL_SCRAM_SHA_256, CNONCE, "n");
    sasl_scram_use_keys(s, &kept);
    CHECK_EQ_INT(sasl_scram_final(s, FIRST, strlen(FIRST), &out, &err), XS_OK);
    CHECK(!sasl_scram_cache_hit(s));
    CHECK_EQ_STR(out.data, SHA256_FINAL);
    kept.client_key = saved;
    buf_wipe(&out);
    sasl_scram_free(s);
    sasl_scram_keys_free(&kept);
}

int main(void)
{
    size_t i;

    for (i = 0; i < sizeof(cb_bytes); i++)
        cb_bytes[i] = (unsigned char)i;
    test_mech_names();
    test_choose();
    test_choose_plus();
    test_ssdp_hash();
    test_ssdp_check();
    test_username();
    test_plain();
    test_vectors();
    test_flags_and_password();
    test_bad_arguments();
    test_random_nonce();
    test_hostile_first();
    test_server_final();
    test_ht();
    test_ascii_password();
    test_key_cache();
    TEST_DONE("test_sasl");
    return 0;
}
