/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config.c - libFuzzer target for the config file parser
 * (config.c): the input is the file's text.  The result is merged into
 * command-line settings as xmppsend.c does, then everything is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct settings cf, cl;
    struct xs_error err = {0};
    memset(&cf, 0, sizeof cf);
    memset(&cl, 0, sizeof cl);

    /* Exact-size copy, not NUL-terminated: the parser must not need it. */
    char *text = malloc(size ? size : 1);
    if (text == NULL)
        abort();
    if (size > 0)
        memcpy(text, data, size);
    enum xs_err e = config_parse(text, size, "fuzz.conf", &cf, &err);
    free(text);
    if (e != XS_OK && (e != XS_ECONFIG || err.code != e ||
                       strncmp(err.msg, "fuzz.conf:", 10) != 0))
        abort();
    if (e == XS_OK && err.code != XS_OK)
        abort();
    /* A set string value is never empty (the parser refuses that). */
    if (e == XS_OK && ((cf.jid && !*cf.jid) || (cf.password && !*cf.password)))
        abort();
    if (e == XS_OK && (cf.debug | cf.quiet | cf.json | cf.insecure) > 1)
        abort();

    settings_set(&cl.jid, "cli@example.com");
    cl.set |= 1UL << O_JID;
    settings_merge(&cl, &cf);
    if (strcmp(cl.jid, "cli@example.com") != 0)
        abort();
    settings_free(&cl);
    settings_free(&cf);
    return 0;
}
