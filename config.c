/* SPDX-License-Identifier: MIT */
/*
 * config.c - the config file format, msmtp's: one "key value" per line,
 * keys are the long option names, '#' starts a comment line, blank lines
 * are ignored; boolean keys take on/off (or nothing, meaning on).
 * "defaults" starts settings for every account that follows, "account
 * NAME [: PARENT[,PARENT...]]" an account (which -a picks; "default" is
 * used without -a).  Values may be double-quoted ("a \"b\" \\ c"), and
 * then a '#' after the closing quote starts a comment; unquoted, the
 * value is the rest of the line, '#' included (passwords may hold one).
 * A file without account lines is all defaults, as before accounts
 * existed.  Pure text parsing (file access and permission checks stay
 * in xmppsend.c), so a fuzzer can drive it.  The keys are the option
 * table's (opts.c); the values are checked after the merge
 * (opts_check), where the file and line of each key are still known.
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

/* Keys whose value is, or gives, a secret: a file holding one must be
 * closed to others. */
static int secret_key(enum opt_id id)
{
    return id == O_PASSWORD || id == O_PASSWORD_COMMAND ||
           id == O_PASSWORD_FILE || id == O_ROOM_PASSWORD;
}

/*
 * Apply one config line's key and value to 'cf'; *id is the key's
 * option.  The keys are the long names of the table's rows marked as
 * config keys.  "~/" starts $HOME in the value of a file-valued key.
 */
static enum xs_err config_key(struct settings *cf,
                              const char *key,
                              const char *val,
                              const char *file,
                              int line,
                              enum opt_id *id,
                              struct xs_error *err)
{
    for (int i = 0; i < O_COUNT; i++) {
        const struct opt *o = &opt_table[i];
        if (!o->config || strcmp(key, o->name) != 0)
            continue;
        *id = (enum opt_id)i;
        if (o->kind == OPT_STRING) {
            if (*val == '\0')
                return xs_seterr(err, XS_ECONFIG, "%s:%d: '%s' needs a value",
                                 file, line, key);
            if (o->arg != NULL && strcmp(o->arg, "FILE") == 0 &&
                strncmp(val, "~/", 2) == 0) {
                const char *home = getenv("HOME");
                if (home == NULL || *home != '/')
                    return xs_seterr(err, XS_ECONFIG,
                                     "%s:%d: '%s': cannot expand ~/ (HOME "
                                     "is not set)",
                                     file, line, key);
                char *v = xasprintf("%s%s", home, val + 1);
                settings_set(opt_str(cf, *id), v);
                free(v);
            } else {
                settings_set(opt_str(cf, *id), val);
            }
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
            *opt_flag(cf, *id) = b;
        }
        cf->set |= 1ULL << i;
        cf->line[i] = line;
        cf->from[i] = file;
        return XS_OK;
    }
    char *k = text_printable(key, strlen(key), 100);
    xs_seterr(err, XS_ECONFIG, "%s:%d: unknown key '%s'", file, line, k);
    free(k);
    return XS_ECONFIG;
}

/* Copy every config key set in 'src' over 'dst', with its origin. */
static void overlay(struct settings *dst, struct settings *src)
{
    for (int i = 0; i < O_COUNT; i++) {
        enum opt_id id = (enum opt_id)i;
        if (!opt_table[i].config || !opt_isset(src, id))
            continue;
        if (opt_table[i].kind == OPT_STRING)
            settings_set(opt_str(dst, id), *opt_str(src, id));
        else
            *opt_flag(dst, id) = *opt_flag(src, id);
        dst->set |= 1ULL << i;
        dst->line[i] = src->line[i];
        dst->from[i] = src->from[i];
    }
}

static int blank_char(char ch)
{
    return ch == ' ' || ch == '\t';
}

/*
 * The value at 'p' (the line is trimmed at its end), decoded in place:
 * a double-quoted value loses its quotes and escapes, and may be
 * followed by a comment.
 */
static enum xs_err
value_at(char *p, const char *file, int lineno, struct xs_error *err)
{
    if (*p != '"')
        return XS_OK;
    char *w = p, *r = p + 1;
    while (*r != '\0' && *r != '"') {
        if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
            r++;
        *w++ = *r++;
    }
    if (*r != '"')
        return xs_seterr(err, XS_ECONFIG,
                         "%s:%d: unterminated quote (a '\"' with no closing "
                         "'\"')",
                         file, lineno);
    for (r++; blank_char(*r); r++)
        ;
    if (*r != '\0' && *r != '#')
        return xs_seterr(err, XS_ECONFIG,
                         "%s:%d: text after the closing quote (a comment "
                         "starts with '#')",
                         file, lineno);
    *w = '\0';
    return XS_OK;
}

static struct config_account *
find_account(const struct config *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->nacc; i++) {
        if (strlen(c->acc[i].name) == len &&
            strncmp(c->acc[i].name, name, len) == 0)
            return &c->acc[i];
    }
    return NULL;
}

static int name_char(char ch)
{
    return ch != '\0' && !blank_char(ch) && ch != ':' && ch != ',' &&
           ch != '"' && ch != '#';
}

/*
 * "account NAME [: PARENT[,PARENT...]]" ('p' after "account"): a new
 * account, starting from the defaults in force; *cur is set to it.
 */
static enum xs_err account_line(struct config *c,
                                char *p,
                                const char *file,
                                int lineno,
                                struct config_account **cur,
                                struct xs_error *err)
{
    char *name = p;
    while (name_char(*p))
        p++;
    size_t nlen = (size_t)(p - name);
    while (blank_char(*p))
        p++;
    struct buf parents = {0};
    if (nlen > 0 && *p == ':') {
        for (p++;;) {
            while (blank_char(*p))
                p++;
            char *q = p;
            while (name_char(*p))
                p++;
            if (p == q)
                break;
            buf_printf(&parents, "%s%.*s", parents.len ? "," : "", (int)(p - q),
                       q);
            while (blank_char(*p))
                p++;
            if (*p != ',')
                break;
            p++;
        }
        if (parents.len == 0 || *p != '\0') {
            buf_free(&parents);
            return xs_seterr(err, XS_ECONFIG,
                             "%s:%d: want 'account NAME : PARENT[,PARENT...]'",
                             file, lineno);
        }
    } else if (nlen == 0 || *p != '\0') {
        return xs_seterr(err, XS_ECONFIG,
                         "%s:%d: want 'account NAME' or 'account NAME : "
                         "PARENT[,PARENT...]' (no blanks, '\"', '#' in names)",
                         file, lineno);
    }
    struct config_account *a = find_account(c, name, nlen);
    if (a != NULL && a->file == file) {
        buf_free(&parents);
        return xs_seterr(err, XS_ECONFIG,
                         "%s:%d: account '%s' is defined twice (first on "
                         "line %d)",
                         file, lineno, a->name, a->line);
    }
    if (a != NULL) {
        /* An earlier file's account of that name: this one replaces it. */
        free(a->name);
        free(a->parents);
        settings_free(&a->defaults);
        settings_free(&a->own);
    } else if (c->nacc >= CONFIG_MAX_ACCOUNTS) {
        buf_free(&parents);
        return xs_seterr(err, XS_ECONFIG, "%s:%d: more than %d accounts", file,
                         lineno, CONFIG_MAX_ACCOUNTS);
    } else {
        if (c->nacc == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 8;
            c->acc = xrealloc(c->acc, c->cap * sizeof *c->acc);
        }
        a = &c->acc[c->nacc++];
    }
    memset(a, 0, sizeof *a);
    a->name = xstrndup(name, nlen);
    a->file = file;
    a->line = lineno;
    a->parents = parents.data;
    overlay(&a->defaults, &c->defaults);
    *cur = a;
    return XS_OK;
}

enum xs_err config_read(struct config *c,
                        const char *text,
                        size_t len,
                        const char *file,
                        struct xs_error *err)
{
    enum xs_err e = XS_OK;
    int lineno = 0;
    struct config_account *cur = NULL; /* NULL: the defaults */
    c->secret_line = 0;
    c->secret_key = NULL;
    c->defaults.file = file;
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
        while (end > p && (end[-1] == '\r' || blank_char(end[-1])))
            *--end = '\0';
        while (blank_char(*p))
            p++;
        if (*p != '\0' && *p != '#') {
            char *key = p;
            while (*p && !blank_char(*p))
                p++;
            if (*p)
                *p++ = '\0';
            while (blank_char(*p))
                p++;
            if (strcmp(key, "defaults") == 0) {
                cur = NULL;
                if (*p != '\0')
                    e = xs_seterr(err, XS_ECONFIG,
                                  "%s:%d: 'defaults' takes no value", file,
                                  lineno);
            } else if (strcmp(key, "account") == 0) {
                e = account_line(c, p, file, lineno, &cur, err);
            } else {
                enum opt_id id = O_COUNT;
                e = value_at(p, file, lineno, err);
                if (e == XS_OK)
                    e = config_key(cur ? &cur->own : &c->defaults, key, p, file,
                                   lineno, &id, err);
                if (e == XS_OK && secret_key(id) && c->secret_line == 0) {
                    c->secret_line = lineno;
                    c->secret_key = opt_table[id].name;
                }
            }
        }
        xs_free_secret(line);
    }
    return e;
}

int config_has(const struct config *c, const char *name)
{
    return find_account(c, name, strlen(name)) != NULL;
}

/* Account 'a' over 'out': its defaults, its parents, its own keys. */
static enum xs_err resolve(struct config *c,
                           struct config_account *a,
                           struct settings *out,
                           int depth,
                           int *budget,
                           struct xs_error *err)
{
    if (a->visiting)
        return xs_seterr(err, XS_ECONFIG,
                         "%s:%d: account '%s' inherits from itself (an "
                         "inheritance loop)",
                         a->file, a->line, a->name);
    if (depth > CONFIG_MAX_DEPTH || --*budget < 0)
        return xs_seterr(err, XS_ECONFIG,
                         "%s:%d: account '%s': inheritance deeper than %d "
                         "levels or too wide",
                         a->file, a->line, a->name, CONFIG_MAX_DEPTH);
    enum xs_err e = XS_OK;
    a->visiting = 1;
    overlay(out, &a->defaults);
    for (const char *p = a->parents; e == XS_OK && p != NULL && *p;) {
        size_t n = strcspn(p, ",");
        struct config_account *parent = find_account(c, p, n);
        if (parent == NULL)
            e = xs_seterr(err, XS_ECONFIG,
                          "%s:%d: account '%s' inherits from '%.*s', which "
                          "is not defined",
                          a->file, a->line, a->name, (int)n, p);
        else
            e = resolve(c, parent, out, depth + 1, budget, err);
        p += n + (p[n] == ',');
    }
    if (e == XS_OK)
        overlay(out, &a->own);
    a->visiting = 0;
    return e;
}

enum xs_err config_select(struct config *c,
                          const char *name,
                          struct settings *out,
                          struct xs_error *err)
{
    const char *want = name != NULL ? name : "default";
    struct config_account *a = find_account(c, want, strlen(want));
    int budget = 10000;
    out->file = c->defaults.file;
    if (a == NULL && name == NULL) {
        overlay(out, &c->defaults);
        return XS_OK;
    }
    if (a == NULL)
        return xs_seterr(err, XS_ECONFIG, "no account '%s'", want);
    return resolve(c, a, out, 0, &budget, err);
}

void config_free(struct config *c)
{
    for (size_t i = 0; i < c->nacc; i++) {
        free(c->acc[i].name);
        free(c->acc[i].parents);
        settings_free(&c->acc[i].defaults);
        settings_free(&c->acc[i].own);
    }
    free(c->acc);
    settings_free(&c->defaults);
    memset(c, 0, sizeof *c);
}

enum xs_err config_parse(const char *text,
                         size_t len,
                         const char *file,
                         struct settings *cf,
                         struct xs_error *err)
{
    struct config c;
    memset(&c, 0, sizeof c);
    enum xs_err e = config_read(&c, text, len, file, err);
    if (e == XS_OK)
        e = config_select(&c, NULL, cf, err);
    cf->file = file;
    config_free(&c);
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
    cl->from[id] = cf->from[id];
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
