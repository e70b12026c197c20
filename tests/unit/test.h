/* SPDX-License-Identifier: MIT */
/*
 * test.h - minimal assertions for the unit test programs.  Each check
 * that fails prints "file:line: ..." with Expected and Got values and
 * exits 1; TEST_DONE() prints a summary line.  Arguments are evaluated
 * exactly once.  Convention: the value under test comes first, the
 * expected value second.
 */
#ifndef XMPPSEND_TEST_H
#define XMPPSEND_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long test_nchecks;

/* Print 'n' bytes as a C string literal body (escapes non-printables). */
static inline void test_print_bytes(const char *label, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;

    (void)fprintf(stderr, "  %s: ", label);
    if (p == NULL) {
        (void)fputs("(null)\n", stderr);
        return;
    }
    (void)fputc('"', stderr);
    for (i = 0; i < n; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
            (void)fputc(s[i], stderr);
        else
            (void)fprintf(stderr, "\\x%02x", s[i]);
    }
    (void)fprintf(stderr, "\" (%zu bytes)\n", n);
}

static inline void test_fail_str(const char *file,
                                 int line,
                                 const char *expr,
                                 const char *got,
                                 const char *exp)
{
    (void)fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
    test_print_bytes("Expected", exp, exp ? strlen(exp) : 0);
    test_print_bytes("Got     ", got, got ? strlen(got) : 0);
    exit(1);
}

static inline void test_check_str(const char *file,
                                  int line,
                                  const char *expr,
                                  const char *got,
                                  const char *exp)
{
    test_nchecks++;
    if (got == NULL || exp == NULL) {
        if (got != exp)
            test_fail_str(file, line, expr, got, exp);
        return;
    }
    if (strcmp(got, exp) != 0)
        test_fail_str(file, line, expr, got, exp);
}

static inline void test_check_int(
    const char *file, int line, const char *expr, long long got, long long exp)
{
    test_nchecks++;
    if (got != exp) {
        (void)fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
        (void)fprintf(stderr, "  Expected: %lld\n  Got     : %lld\n", exp, got);
        exit(1);
    }
}

static inline void test_check_buf(const char *file,
                                  int line,
                                  const char *expr,
                                  const void *got,
                                  size_t glen,
                                  const void *exp,
                                  size_t elen)
{
    test_nchecks++;
    if (got == NULL || exp == NULL || glen != elen ||
        (elen > 0 && memcmp(got, exp, elen) != 0)) {
        (void)fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
        test_print_bytes("Expected", exp, elen);
        test_print_bytes("Got     ", got, glen);
        exit(1);
    }
}

/* CHECK(cond): 'cond' must be true. */
#define CHECK(cond)                                                            \
    do {                                                                       \
        test_nchecks++;                                                        \
        if (!(cond)) {                                                         \
            (void)fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,       \
                          __LINE__, #cond);                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* CHECK_EQ_STR(got, expected): NUL-terminated strings (NULL allowed). */
#define CHECK_EQ_STR(got, exp)                                                 \
    test_check_str(__FILE__, __LINE__, #got " == " #exp, (got), (exp))

/* CHECK_EQ_INT(got, expected): integers, compared as long long. */
#define CHECK_EQ_INT(got, exp)                                                 \
    test_check_int(__FILE__, __LINE__, #got " == " #exp, (long long)(got),     \
                   (long long)(exp))

/* CHECK_BUF(got, got_len, expected, expected_len): byte strings. */
#define CHECK_BUF(got, glen, exp, elen)                                        \
    test_check_buf(__FILE__, __LINE__, #got " == " #exp, (got), (glen), (exp), \
                   (elen))

/* Print the summary line; call last in main(). */
#define TEST_DONE(name)                                                        \
    do {                                                                       \
        (void)printf("%s: all %lu checks passed\n", (name), test_nchecks);     \
    } while (0)

#endif
