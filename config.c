/* SPDX-License-Identifier: MIT */
/*
 * config.c - the config file format: one "key value" per line, keys are
 * the long option names, '#' starts a comment line, blank lines are
 * ignored; boolean keys take on/off (or nothing, meaning on).  Pure text
 * parsing (file access and permission checks stay in xmppsend.c), so a
 * fuzzer can drive it.  The keys are the option table's (opts.c); the
 * values are checked after the merge (opts_check), where the line of
 * each key is still known.
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
 * Apply one config line's key and value to 'cf'.  The keys are the long
 * names of the table's rows marked as config keys.
 */
static enum xs_err config_key(struct settings *cf,
                              const char *key,
                              const char *val,
                              const char *file,
                              int line,
                              struct xs_error *err)
{
    for (int i = 0; i < O_COUNT; i++) {
        const struct opt *o = &opt_table[i];
        if (!o->config || strcmp(key, o->name) != 0)
            continue;
        if (o->kind == OPT_STRING) {
            if (*val == '\0')
                return xs_seterr(err, XS_ECONFIG, "%s:%d: '%s' needs a value",
                                 file, line, key);
            settings_set(opt_str(cf, (enum opt_id)i), val);
        } else {
            int b = parse_bool(val);
            if (b < 0) {
                char *v = text_printable(val, strlen(val), 100);
                xs_seterr(err, XS_ECONFIG,
                          "%s:%d: '%s' takes on or off, not '%s'", file, line,
                          key, v);
                free(v);
                return XS_ECONFIG;
            }
            *opt_flag(cf, (enum opt_id)i) = b;
        }
        cf->set |= 1ULL << i;
        cf->line[i] = line;
        return XS_OK;
    }
    char *k = text_printable(key, strlen(key), 100);
    xs_seterr(err, XS_ECONFIG, "%s:%d: unknown key '%s'", file, line, k);
    free(k);
    return XS_ECONFIG;
}

enum xs_err config_parse(const char *text,
                         size_t len,
                         const char *file,
                         struct settings *cf,
                         struct xs_error *err)
{
    enum xs_err e = XS_OK;
    int lineno = 0;
    cf->file = file;
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

/* Move option 'id' from 'cf' to 'cl'. */
static void move_opt(struct settings *cl, struct settings *cf, enum opt_id id)
{
    if (opt_table[id].kind == OPT_STRING) {
        char **a = opt_str(cl, id), **b = opt_str(cf, id);
        xs_free_secret(*a);
        *a = *b;
        *b = NULL;
    } else {
        *opt_flag(cl, id) = *opt_flag(cf, id);
    }
    cl->set |= 1ULL << id;
    cl->line[id] = cf->line[id];
    cf->set &= ~(1ULL << id);
}

void settings_merge(struct settings *cl, struct settings *cf)
{
    static const enum opt_id trust[] = {O_CAFILE, O_PIN, O_INSECURE};
    if (opt_isset(cl, O_CAFILE) || opt_isset(cl, O_PIN) ||
        (opt_isset(cl, O_INSECURE) && cl->insecure)) {
        for (size_t i = 0; i < sizeof trust / sizeof trust[0]; i++) {
            if (opt_table[trust[i]].kind == OPT_STRING) {
                xs_free_secret(*opt_str(cf, trust[i]));
                *opt_str(cf, trust[i]) = NULL;
            } else {
                *opt_flag(cf, trust[i]) = 0;
            }
            cf->set &= ~(1ULL << trust[i]);
        }
    }
    /* A certificate and its key go together, like the trust settings. */
    if (opt_isset(cl, O_CERT) || opt_isset(cl, O_KEY)) {
        static const enum opt_id pair[] = {O_CERT, O_KEY};
        for (size_t i = 0; i < 2; i++) {
            xs_free_secret(*opt_str(cf, pair[i]));
            *opt_str(cf, pair[i]) = NULL;
            cf->set &= ~(1ULL << pair[i]);
        }
    }
    /* The file's tls is for the file's server, not for --server's. */
    if (opt_isset(cl, O_SERVER) && opt_isset(cf, O_TLS)) {
        xs_free_secret(cf->tls);
        cf->tls = NULL;
        cf->set &= ~(1ULL << O_TLS);
    }
    for (int i = 0; i < O_COUNT; i++) {
        const struct opt *o = &opt_table[i];
        if (!o->config || i == O_PASSWORD || i == O_PASSWORD_COMMAND ||
            i == O_PASSWORD_FILE)
            continue;
        if (!opt_isset(cl, (enum opt_id)i) && opt_isset(cf, (enum opt_id)i))
            move_opt(cl, cf, (enum opt_id)i);
    }
    if (cf->file != NULL)
        cl->file = cf->file;
}

void settings_free(struct settings *s)
{
    for (int i = 0; i < O_COUNT; i++) {
        if (opt_table[i].kind != OPT_STRING)
            continue;
        char **p = opt_str(s, (enum opt_id)i);
        xs_free_secret(*p);
        *p = NULL;
    }
    for (size_t i = 0; i < s->nuploads; i++)
        free(s->uploads[i]);
    free(s->uploads);
    s->uploads = NULL;
    s->nuploads = 0;
    for (size_t k = 0; k < s->nseq; k++)
        free(s->seq[k].val);
    free(s->seq);
    s->seq = NULL;
    s->nseq = 0;
}
