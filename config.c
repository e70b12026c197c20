/* SPDX-License-Identifier: MIT */
/*
 * config.c - the config file format: one "key value" per line, keys are
 * the long option names, '#' starts a comment line, blank lines are
 * ignored; boolean keys take on/off (or nothing, meaning on).  Pure text
 * parsing (file access and permission checks stay in xmppsend.c), so a
 * fuzzer can drive it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

void settings_set(char **dst, const char *v)
{
    xs_free_secret(*dst);
    *dst = xstrdup(v);
}

static int parse_bool(const char *v)
{
    if (*v == '\0' || strcmp(v, "on") == 0 || strcmp(v, "true") == 0 ||
        strcmp(v, "yes") == 0 || strcmp(v, "1") == 0)
        return 1;
    if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0 ||
        strcmp(v, "no") == 0 || strcmp(v, "0") == 0)
        return 0;
    return -1;
}

/*
 * Apply one config line's key and value to 'cf'.  Keys are long option
 * names; options that make no sense in a file are refused.
 */
static enum xs_err config_key(struct settings *cf,
                              const char *key,
                              const char *val,
                              const char *file,
                              int line,
                              struct xs_error *err)
{
    static const struct {
        const char *key;
        size_t off;
    } strs[] = {
        {"jid", offsetof(struct settings, jid)},
        {"cafile", offsetof(struct settings, cafile)},
        {"pin", offsetof(struct settings, pin)},
        {"resource", offsetof(struct settings, resource)},
        {"server", offsetof(struct settings, server)},
        {"thread", offsetof(struct settings, thread)},
        {"timeout", offsetof(struct settings, timeout)},
        {"type", offsetof(struct settings, type)},
        {"subject", offsetof(struct settings, subject)},
        {"password", offsetof(struct settings, password)},
        {"password-command", offsetof(struct settings, password_command)},
        {"password-file", offsetof(struct settings, password_file)},
    };
    static const struct {
        const char *key;
        size_t off;
    } bools[] = {
        {"debug", offsetof(struct settings, debug)},
        {"quiet", offsetof(struct settings, quiet)},
        {"json", offsetof(struct settings, json)},
        {"insecure", offsetof(struct settings, insecure)},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        if (strcmp(key, strs[i].key) != 0)
            continue;
        if (*val == '\0')
            return xs_seterr(err, XS_ECONFIG, "%s:%d: '%s' needs a value", file,
                             line, key);
        settings_set((char **)((char *)cf + strs[i].off), val);
        return XS_OK;
    }
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        if (strcmp(key, bools[i].key) != 0)
            continue;
        int b = parse_bool(val);
        if (b < 0)
            return xs_seterr(err, XS_ECONFIG,
                             "%s:%d: '%s' takes on or off, not '%s'", file,
                             line, key, val);
        *(int *)((char *)cf + bools[i].off) = b;
        return XS_OK;
    }
    return xs_seterr(err, XS_ECONFIG, "%s:%d: unknown key '%s'", file, line,
                     key);
}

enum xs_err config_parse(const char *text,
                         size_t len,
                         const char *file,
                         struct settings *cf,
                         struct xs_error *err)
{
    enum xs_err e = XS_OK;
    int lineno = 0;
    while (e == XS_OK && len > 0) {
        const char *nl = memchr(text, '\n', len);
        size_t n = nl ? (size_t)(nl - text) : len;
        char *line = xstrndup(text, n);
        lineno++;
        text += nl ? n + 1 : n;
        len -= nl ? n + 1 : n;
        if (strlen(line) != n) {
            e = xs_seterr(err, XS_ECONFIG, "%s:%d: NUL byte in line", file,
                          lineno);
            xs_free_secret(line);
            break;
        }
        char *p = line, *end = line + n;
        while (end > p &&
               (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0' && *p != '#') {
            char *key = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            if (*p)
                *p++ = '\0';
            while (*p == ' ' || *p == '\t')
                p++;
            e = config_key(cf, key, p, file, lineno, err);
        }
        xs_free_secret(line);
    }
    return e;
}

/* Fill unset fields of 'cl' (command line) from 'cf' (config). */
void settings_merge(struct settings *cl, struct settings *cf)
{
    char **a[] = {&cl->jid,      &cl->cafile, &cl->pin,
                  &cl->resource, &cl->server, &cl->thread,
                  &cl->timeout,  &cl->type,   &cl->subject};
    char **b[] = {&cf->jid,      &cf->cafile, &cf->pin,
                  &cf->resource, &cf->server, &cf->thread,
                  &cf->timeout,  &cf->type,   &cf->subject};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        if (*a[i] == NULL) {
            *a[i] = *b[i];
            *b[i] = NULL;
        }
    }
    cl->debug |= cf->debug;
    cl->quiet |= cf->quiet;
    cl->json |= cf->json;
    cl->insecure |= cf->insecure;
}

void settings_free(struct settings *s)
{
    char **all[] = {&s->jid,          &s->cafile,   &s->pin,
                    &s->resource,     &s->server,   &s->thread,
                    &s->timeout,      &s->type,     &s->subject,
                    &s->message,      &s->password, &s->password_command,
                    &s->password_file};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        xs_free_secret(*all[i]);
        *all[i] = NULL;
    }
}
