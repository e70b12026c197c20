/* SPDX-License-Identifier: MIT */
/*
 * test_util.c - unit tests for util.c: error reports, buffers, XML
 * escaping, the strict base64 codec and the UTF-8 text helpers.
 */
#include <stdint.h>
#include <string.h>

#include "../../util.h"
#include "test.h"

static void test_seterr(void)
{
    struct xs_error err = {0};
    char longtext[1000];

    CHECK_EQ_INT(xs_seterr(&err, XS_EPROTO, "first %d", 1), XS_EPROTO);
    CHECK_EQ_INT(err.code, XS_EPROTO);
    CHECK_EQ_STR(err.msg, "first 1");
    /* The first error wins; the return value is still the new code. */
    CHECK_EQ_INT(xs_seterr(&err, XS_EIO, "second %s", "error"), XS_EIO);
    CHECK_EQ_INT(err.code, XS_EPROTO);
    CHECK_EQ_STR(err.msg, "first 1");
    /* NULL is allowed and only returns the code. */
    CHECK_EQ_INT(xs_seterr(NULL, XS_EAUTH, "ignored"), XS_EAUTH);
    /* Long messages are cut, never overflow. */
    memset(longtext, 'x', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = '\0';
    err.code = XS_OK;
    xs_seterr(&err, XS_EDATA, "%s", longtext);
    CHECK_EQ_INT(err.code, XS_EDATA);
    CHECK_EQ_INT(strlen(err.msg), sizeof(err.msg) - 1);
}

static void test_alloc(void)
{
    char *p;
    long long t0, t1;

    p = xstrdup("hello");
    CHECK_EQ_STR(p, "hello");
    free(p);
    p = xstrndup("hello", 3);
    CHECK_EQ_STR(p, "hel");
    free(p);
    p = xstrndup("hi", 10);
    CHECK_EQ_STR(p, "hi");
    free(p);
    p = xasprintf("%s-%d-%c", "a", 42, 'z');
    CHECK_EQ_STR(p, "a-42-z");
    free(p);
    p = xcalloc(4, 4);
    CHECK(p[0] == 0 && p[15] == 0);
    p = xrealloc(p, 1000);
    p[999] = 1;
    free(p);
    free(xmalloc(0));
    p = xstrdup("secret");
    xs_free_secret(p);
    xs_free_secret(NULL);
    xs_wipe(NULL, 0);

    t0 = xs_now_ms();
    t1 = xs_now_ms();
    CHECK(t0 > 0);
    CHECK(t1 >= t0);
}

static void test_buf(void)
{
    struct buf b = {0};
    size_t i;

    buf_addstr(&b, "");
    CHECK(b.data != NULL);
    CHECK_EQ_STR(b.data, "");
    buf_addstr(&b, "abc");
    buf_addch(&b, 'd');
    buf_add(&b, "efgh", 2);
    buf_printf(&b, "[%d]", 7);
    CHECK_EQ_STR(b.data, "abcdef[7]");
    CHECK_EQ_INT(b.len, 9);
    buf_reset(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_STR(b.data, "");
    /* Growth keeps contents and the terminating NUL. */
    for (i = 0; i < 10000; i++)
        buf_addch(&b, (char)('a' + i % 26));
    CHECK_EQ_INT(b.len, 10000);
    CHECK(b.cap > b.len);
    CHECK(b.data[10000] == '\0');
    CHECK(b.data[9999] == (char)('a' + 9999 % 26));
    CHECK(strlen(b.data) == 10000);
    /* Binary data with NULs. */
    buf_reset(&b);
    buf_add(&b, "a\0b", 3);
    CHECK_BUF(b.data, b.len, "a\0b", 3);
    CHECK(b.data[3] == '\0');
    buf_wipe(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    /* Reusable after free. */
    buf_addstr(&b, "again");
    CHECK_EQ_STR(b.data, "again");
    buf_free(&b);
    CHECK(b.data == NULL);
    buf_free(&b);
}

static void xml_case(const char *in, size_t n, const char *want)
{
    struct buf b = {0};

    buf_add_xml(&b, in, n);
    if (b.data == NULL)
        buf_addstr(&b, "");
    CHECK_EQ_STR(b.data, want);
    buf_free(&b);
}

static void test_xml(void)
{
    const char *all = "a&b<c>d\"e'f";

    xml_case(all, strlen(all), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    xml_case("&&", 2, "&amp;&amp;");
    xml_case("<tag attr='x'>", 14, "&lt;tag attr=&apos;x&apos;&gt;");
    xml_case("plain text", 10, "plain text");
    xml_case("", 0, "");
    /* Only 'n' bytes are used. */
    xml_case("ab<cd", 3, "ab&lt;");
    /* UTF-8 passes through untouched. */
    xml_case("caf\xc3\xa9 & \xe2\x82\xac", 11,
             "caf\xc3\xa9 &amp; \xe2\x82\xac");
}

static void b64_ok(const char *raw, size_t n, const char *enc)
{
    unsigned char *out = NULL;
    size_t outlen = 99;
    char *e;

    e = b64_encode(raw, n);
    CHECK_EQ_STR(e, enc);
    free(e);
    CHECK_EQ_INT(b64_decode(enc, strlen(enc), &out, &outlen), 0);
    CHECK_BUF(out, outlen, raw, n);
    CHECK(out[outlen] == '\0');
    free(out);
}

static void b64_bad_len(const char *enc, size_t n)
{
    unsigned char *out = NULL;
    size_t outlen = 99;

    if (b64_decode(enc, n, &out, &outlen) != -1)
        (void)fprintf(stderr, "accepted: \"%s\"\n", enc);
    CHECK_EQ_INT(b64_decode(enc, n, &out, &outlen), -1);
    CHECK(out == NULL);
    CHECK_EQ_INT(outlen, 99);
}

static void b64_bad(const char *enc)
{
    b64_bad_len(enc, strlen(enc));
}

static void test_base64(void)
{
    unsigned char all[256], *out;
    size_t i, len, outlen;

    /* RFC 4648 section 10. */
    b64_ok("", 0, "");
    b64_ok("f", 1, "Zg==");
    b64_ok("fo", 2, "Zm8=");
    b64_ok("foo", 3, "Zm9v");
    b64_ok("foob", 4, "Zm9vYg==");
    b64_ok("fooba", 5, "Zm9vYmE=");
    b64_ok("foobar", 6, "Zm9vYmFy");
    b64_ok("\xfb\xff\xbf", 3, "+/+/");
    b64_ok("\0\0", 2, "AAA=");

    /* Round trips over every byte value and every length mod 3. */
    for (i = 0; i < sizeof(all); i++)
        all[i] = (unsigned char)(255 - i);
    for (len = 0; len <= sizeof(all); len++) {
        char *e = b64_encode(all, len);

        CHECK_EQ_INT(strlen(e), (len + 2) / 3 * 4);
        CHECK_EQ_INT(b64_decode(e, strlen(e), &out, &outlen), 0);
        CHECK_BUF(out, outlen, all, len);
        free(out);
        free(e);
    }

    /* Whitespace anywhere. */
    b64_bad("Zm9v YmFy");
    b64_bad("Zm9v\nYmFy");
    b64_bad(" Zm9v");
    b64_bad("Zm9v\r\n");
    b64_bad("Zg==\n");
    /* Length and padding. */
    b64_bad("Zg");
    b64_bad("Zg=");
    b64_bad("Zg===");
    b64_bad("Z===");
    b64_bad("====");
    b64_bad("=Zg=");
    b64_bad("Zm=v");
    b64_bad("Z=g=");
    b64_bad("Zg==Zm8=");
    b64_bad("Zg==Zm9v");
    b64_bad("Zm9vY");
    /* Characters outside the standard alphabet (URL-safe, others). */
    b64_bad("cj0x-_");
    b64_bad("cj0x-_==");
    b64_bad("cj0x-w==");
    b64_bad("Zm9_");
    b64_bad("Zm9.");
    b64_bad("Zm9\xc3");
    b64_bad_len("Zg\0=", 4);
    b64_bad_len("Zm9v\0\0\0\0", 8);
    /* Non-canonical: the pad bits must be zero. */
    b64_bad("Zh==");
    b64_bad("Zm9=");
    b64_bad("QR==");
    b64_bad("QUF=");
}

static void test_utf8_valid(void)
{
    CHECK(utf8_valid("", 0));
    CHECK(utf8_valid("plain ascii", 11));
    CHECK(utf8_valid("\xc3\xa9", 2));
    CHECK(utf8_valid("\xe2\x82\xac", 3));
    CHECK(utf8_valid("\xf0\x9f\x98\x80", 4));
    CHECK(utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    CHECK(utf8_valid("\xed\x9f\xbf", 3));      /* U+D7FF */
    CHECK(utf8_valid("\xee\x80\x80", 3));      /* U+E000 */
    CHECK(utf8_valid("\xef\xbf\xbf", 3));      /* U+FFFF: UTF-8 ok */
    CHECK(utf8_valid("a\0b", 3));              /* NUL is UTF-8 */
    CHECK(!utf8_valid("\xc0\x80", 2));         /* overlong NUL */
    CHECK(!utf8_valid("\xc1\xbf", 2));         /* overlong */
    CHECK(!utf8_valid("\xe0\x80\x80", 3));     /* overlong */
    CHECK(!utf8_valid("\xe0\x9f\xbf", 3));     /* overlong */
    CHECK(!utf8_valid("\xf0\x80\x80\x80", 4)); /* overlong */
    CHECK(!utf8_valid("\xf0\x8f\xbf\xbf", 4)); /* overlong */
    CHECK(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!utf8_valid("\xed\xbf\xbf", 3));     /* surrogate */
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!utf8_valid("\xf5\x80\x80\x80", 4));
    CHECK(!utf8_valid("\xff", 1));
    CHECK(!utf8_valid("\x80", 1));         /* lone continuation */
    CHECK(!utf8_valid("\xe2\x82", 2));     /* truncated */
    CHECK(!utf8_valid("\xf0\x9f\x98", 3)); /* truncated */
    CHECK(!utf8_valid("\xc3", 1));         /* truncated */
    CHECK(!utf8_valid("\xc3\xa9", 1));     /* cut by length */
    CHECK(!utf8_valid("a\xc3(", 3));       /* bad continuation */
}

static void
sanitize(const char *in, size_t n, const char *want, size_t want_changed)
{
    size_t changed = 12345;
    char *out = text_sanitize(in, n, &changed);

    CHECK_EQ_STR(out, want);
    CHECK_EQ_INT(changed, want_changed);
    CHECK(utf8_valid(out, strlen(out)));
    free(out);
}

#define FFFD "\xef\xbf\xbd"
/* String literal input: its length is known, embedded NULs included. */
#define SAN(lit, want, ch) sanitize((lit), sizeof(lit) - 1, (want), (ch))

static void test_sanitize(void)
{
    char *out;

    SAN("", "", 0);
    SAN("hello", "hello", 0);
    SAN("a\tb\nc\rd", "a\tb\nc\rd", 0);
    SAN("caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80", 0);
    /* Invalid UTF-8: one U+FFFD per broken sequence. */
    SAN("a\xff"
        "b",
        "a" FFFD "b", 1);
    SAN("\xe2\x82", FFFD, 1);
    SAN("\xe2\x82"
        "x",
        FFFD "x", 1);
    SAN("\xc0\x80", FFFD FFFD, 2);
    SAN("\xed\xa0\x80", FFFD FFFD FFFD, 3);
    /* Characters XML 1.0 forbids. */
    SAN("a\0b", "a" FFFD "b", 1);
    SAN("\x01", FFFD, 1);
    SAN("x\x0b\x0cy", "x" FFFD FFFD "y", 2);
    SAN("\xef\xbf\xbe", FFFD, 1);
    SAN("\xef\xbf\xbf", FFFD, 1);
    /* DEL and ordinary C1 controls are legal XML 1.0. */
    SAN("\x7f\xc2\x85", "\x7f\xc2\x85", 0);
    /* ANSI escape sequences vanish. */
    SAN("\x1b[31mred\x1b[0m", "red", 2);
    SAN("\x1b[1;2;3 qX", "X", 1);
    SAN("\x1b]0;window title\x07text", "text", 1);
    SAN("\x1b]8;;http://x/\x1b\\link\x1b]8;;\x1b\\", "link", 2);
    SAN("\x1b]0;t\xc2\x9cok", "ok", 1);
    SAN("\x1bPdata\x1b\\z", "z", 1);
    SAN("a\x1b"
        "cb",
        "ab", 1);
    SAN("a\x1b(Bb", "ab", 1);
    SAN("\xc2\x9b"
        "2Jok",
        "ok", 1);
    /* Cut-off sequences: the introducer goes, the rest is plain text. */
    SAN("a\x1b", "a" FFFD, 1);
    SAN("\x1b]0;title", FFFD "]0;title", 1);
    SAN("\x1b[31", FFFD "[31", 1);
    SAN("\x1b[\n", FFFD "[\n", 1);
    SAN("\xc2\x9b"
        "31",
        FFFD "31", 1);
    SAN("\x1b\xc3\xa9", FFFD "\xc3\xa9", 1);

    /* 'changed' may be NULL. */
    out = text_sanitize("\x01", 1, NULL);
    CHECK_EQ_STR(out, FFFD);
    free(out);
}

static void printable(const char *in, size_t n, size_t max, const char *want)
{
    char *out = text_printable(in, n, max);

    CHECK_EQ_STR(out, want);
    CHECK(strlen(out) <= max);
    CHECK(utf8_valid(out, strlen(out)));
    free(out);
}

#define PRN(lit, max, want) printable((lit), sizeof(lit) - 1, (max), (want))

static void test_printable(void)
{
    char rlo[] = "rlo...";

    PRN("hello", 100, "hello");
    PRN("a\nb", 100, "a?b");
    PRN("a\r\nb", 100, "a??b");
    PRN("\x1b[2Jx", 100, "?[2Jx");
    PRN("tab\there", 100, "tab?here");
    PRN("del\x7f", 100, "del?");
    PRN("nel\xc2\x85", 100, "nel?");
    PRN("csi\xc2\x9b", 100, "csi?");
    PRN("nul\0x", 100, "nul?x");
    PRN("bad\xff\xe2\x82", 100, "bad??");
    /* U+202E RIGHT-TO-LEFT OVERRIDE, built at run time for linters. */
    rlo[3] = (char)0xe2;
    rlo[4] = (char)0x80;
    rlo[5] = (char)0xae;
    printable(rlo, 6, 100, "rlo?");
    PRN("caf\xc3\xa9", 100, "caf\xc3\xa9");
    /* Cut to 'max' bytes, never inside a character. */
    PRN("abcdef", 3, "abc");
    PRN("a\xc3\xa9", 2, "a");
    PRN("a\xc3\xa9", 3, "a\xc3\xa9");
    PRN("\xe2\x82\xac\xe2\x82\xac", 5, "\xe2\x82\xac");
    PRN("\xf0\x9f\x98\x80", 3, "");
    PRN("a\nb", 2, "a?");
    PRN("abc", 0, "");
    PRN("", 10, "");
}

int main(void)
{
    test_seterr();
    test_alloc();
    test_buf();
    test_xml();
    test_base64();
    test_utf8_valid();
    test_sanitize();
    test_printable();
    TEST_DONE("test_util");
    return 0;
}
