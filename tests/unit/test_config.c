/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - unit tests for config.c: a flat file, defaults and
 * accounts over two files, inheritance and its errors, the values'
 * origins after the merge, as the fuzzer drives it (config_parse).
 */
#include <stdlib.h>
#include <string.h>

#include "../../config.h"
#include "test.h"

#define TEXT(s) (s), strlen(s)

/* config_parse of 's' expecting XS_ECONFIG with 'why' in the message. */
static void parse_bad(const char *s, const char *why)
{
    struct settings cf;
    struct xs_error err = {0};
    memset(&cf, 0, sizeof cf);
    CHECK_EQ_INT(config_parse(TEXT(s), "f.conf", &cf, &err), XS_ECONFIG);
    if (strstr(err.msg, why) == NULL)
        (void)fprintf(stderr, "message: %s\nwant: %s\n", err.msg, why);
    CHECK(strstr(err.msg, why) != NULL);
    CHECK(strncmp(err.msg, "f.conf:", 7) == 0);
    settings_free(&cf);
}

int main(void)
{
    struct settings cf, cl;
    struct xs_error err = {0};
    struct config c;

    /* A flat file: all defaults, each key with its line. */
    memset(&cf, 0, sizeof cf);
    CHECK_EQ_INT(config_parse(TEXT("# c\njid a@b\n  debug off\njson\n"),
                              "f.conf", &cf, &err),
                 XS_OK);
    CHECK_EQ_STR(cf.jid, "a@b");
    CHECK_EQ_INT(cf.line[O_JID], 2);
    CHECK_EQ_INT(cf.debug, 0);
    CHECK_EQ_INT(cf.json, 1);
    CHECK_EQ_STR(cf.from[O_JID], "f.conf");
    settings_free(&cf);

    /* account default: chosen without a name; parents in order. */
    memset(&cf, 0, sizeof cf);
    CHECK_EQ_INT(config_parse(TEXT("type normal\naccount p\nresource p\n"
                                   "subject p\naccount q\nresource q\n"
                                   "account default : p,q\njid d@e\n"),
                              "f.conf", &cf, &err),
                 XS_OK);
    CHECK_EQ_STR(cf.jid, "d@e");
    CHECK_EQ_STR(cf.resource, "q");
    CHECK_EQ_STR(cf.subject, "p");
    CHECK_EQ_STR(cf.type, "normal");
    CHECK_EQ_INT(cf.line[O_RESOURCE], 6);

    /* The merge keeps the origin of what it moves. */
    memset(&cl, 0, sizeof cl);
    settings_merge(&cl, &cf);
    CHECK_EQ_STR(cl.subject, "p");
    CHECK_EQ_INT(cl.line[O_SUBJECT], 4);
    CHECK_EQ_STR(cl.from[O_SUBJECT], "f.conf");
    settings_free(&cl);
    settings_free(&cf);

    /* Two files: the second one's account replaces the first one's, the
     * first one's defaults apply to the second one's accounts. */
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(config_read(&c,
                             TEXT("timeout 9\naccount a\njid sys@x\n"
                                  "account b\njid b@x\n"),
                             "sys.conf", &err),
                 XS_OK);
    CHECK_EQ_INT(c.secret_line, 0);
    CHECK_EQ_INT(config_read(&c,
                             TEXT("account a\nnick u\n"
                                  "password \"p w\"\n"),
                             "user.conf", &err),
                 XS_OK);
    CHECK_EQ_INT(c.secret_line, 3);
    CHECK_EQ_STR(c.secret_key, "password");
    CHECK(config_has(&c, "b"));
    CHECK(!config_has(&c, "default"));
    memset(&cf, 0, sizeof cf);
    CHECK_EQ_INT(config_select(&c, "a", &cf, &err), XS_OK);
    CHECK(cf.jid == NULL);
    CHECK_EQ_STR(cf.nick, "u");
    CHECK_EQ_STR(cf.password, "p w");
    CHECK_EQ_STR(cf.timeout, "9");
    CHECK_EQ_STR(cf.from[O_TIMEOUT], "sys.conf");
    CHECK_EQ_STR(cf.from[O_NICK], "user.conf");
    settings_free(&cf);
    memset(&cf, 0, sizeof cf);
    CHECK_EQ_INT(config_select(&c, "nope", &cf, &err), XS_ECONFIG);
    CHECK_EQ_STR(err.msg, "no account 'nope'");
    settings_free(&cf);
    config_free(&c);

    /* Errors, each with the file and line. */
    parse_bad("account default : a\naccount a : default\n", "inheritance loop");
    parse_bad("account default : zz\n", "inherits from 'zz', which is not");
    parse_bad("account default\ndebug maybe\n", "f.conf:2: 'debug' takes on");
    parse_bad("account default\njid\n", "f.conf:2: 'jid' needs a value");
    parse_bad("subject \"a\\\"", "f.conf:1: unterminated quote");
    parse_bad("account a,b\n", "f.conf:1: want 'account NAME'");
    parse_bad("account a\naccount a\n", "defined twice (first on line 1)");
    TEST_DONE("test_config");
}
