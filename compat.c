/* SPDX-License-Identifier: MIT */
/*
 * compat.c - xmppsend as a drop-in for Perl sendxmpp 1.24 and
 * go-sendxmpp 0.5.6 (Debian 12's versions).  The peer's options are read
 * the way the peer reads them (sendxmpp: Perl's Getopt::Long defaults,
 * i.e. "-name", "--name", "--name=value", unique abbreviations, no
 * bundling; go-sendxmpp: getopt style, "-cd" bundles, "-jHOST"), its
 * account file the way the peer parses it, and both are turned into an
 * xmppsend argv: options first, then "--", then the recipients.  What
 * has no meaning here is refused with one message (64).  The exit codes
 * stay ours.  The option-by-option table is in the man page
 * (COMPATIBILITY) and the README.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "password.h"

/* Largest account file read (the peers' files are a few lines). */
#define PEER_FILE_MAX (64 * 1024)

enum peer_kind { SENDXMPP, GO_SENDXMPP };

/* What a peer option means. */
enum pk {
    P_FILE,
    P_USER,
    P_PASS,
    P_JSERVER,
    P_COMPONENT,
    P_RESOURCE,
    P_STARTTLS, /* sendxmpp -t */
    P_DIRECT,   /* sendxmpp -e, go-sendxmpp -t */
    P_INSECURE,
    P_CAPATH,
    P_HEADLINE,
    P_MTYPE,
    P_CHATROOM,
    P_SUBJECT,
    P_MESSAGE,
    P_INTERACTIVE,
    P_RAW,
    P_DEBUG,
    P_HELP,
    P_VERSION,
    P_ALIAS,
    P_UPLOAD,
    P_MUCPW,
    P_TIMEOUT,
    P_TLSVER,
    P_NOSUP /* known to the peer, no meaning in xmppsend */
};

/* arg: 0 none, 1 required, 2 an optional number (sendxmpp -d [N]) */
struct popt {
    const char *name;
    char short_name;
    int arg;
    enum pk k;
};

/* sendxmpp 1.24's GetOptions table, same names and aliases. */
static const struct popt sx_opts[] = {
    {"subject", 's', 1, P_SUBJECT},
    {"file", 'f', 1, P_FILE},
    {"resource", 'r', 1, P_RESOURCE},
    {"jserver", 'j', 1, P_JSERVER},
    {"component", 'o', 1, P_COMPONENT},
    {"username", 'u', 1, P_USER},
    {"password", 'p', 1, P_PASS},
    {"sso", 0, 0, P_NOSUP},
    {"message", 'm', 1, P_MESSAGE},
    {"headline", 'l', 0, P_HEADLINE},
    {"message-type", 0, 1, P_MTYPE},
    {"chatroom", 'c', 0, P_CHATROOM},
    {"tls", 't', 0, P_STARTTLS},
    {"no-tls-verify", 'n', 0, P_INSECURE},
    {"tls-ca-path", 'a', 1, P_CAPATH},
    {"ssl", 'e', 0, P_DIRECT},
    {"interactive", 'i', 0, P_INTERACTIVE},
    {"help", 'h', 0, P_HELP},
    {"usage", 0, 0, P_HELP},
    {"debug", 'd', 2, P_DEBUG},
    {"raw", 'w', 0, P_RAW},
    {"verbose", 'v', 0, P_DEBUG},
    {NULL, 0, 0, P_NOSUP},
};

/* go-sendxmpp 0.5.6's options (its --help), plus -s/--subject and
 * --headline of later versions (no clash with 0.5.6). */
static const struct popt gx_opts[] = {
    {"alias", 'a', 1, P_ALIAS},
    {"chatroom", 'c', 0, P_CHATROOM},
    {"debug", 'd', 0, P_DEBUG},
    {"file", 'f', 1, P_FILE},
    {"help", 0, 0, P_HELP},
    {"http-upload", 'h', 1, P_UPLOAD},
    {"interactive", 'i', 0, P_INTERACTIVE},
    {"jserver", 'j', 1, P_JSERVER},
    {"listen", 'l', 0, P_NOSUP},
    {"message", 'm', 1, P_MESSAGE},
    {"muc-password", 0, 1, P_MUCPW},
    {"no-tls-verify", 'n', 0, P_INSECURE},
    {"ox", 0, 0, P_NOSUP},
    {"ox-delete-nodes", 0, 0, P_NOSUP},
    {"ox-genprivkey-rsa", 0, 0, P_NOSUP},
    {"ox-genprivkey-x25519", 0, 0, P_NOSUP},
    {"ox-import-privkey", 0, 1, P_NOSUP},
    {"ox-passphrase", 0, 1, P_NOSUP},
    {"password", 'p', 1, P_PASS},
    {"raw", 0, 0, P_RAW},
    {"resource", 'r', 1, P_RESOURCE},
    {"timeout", 0, 1, P_TIMEOUT},
    {"tls", 't', 0, P_DIRECT},
    {"tls-version", 0, 1, P_TLSVER},
    {"username", 'u', 1, P_USER},
    {"version", 0, 0, P_VERSION},
    {"subject", 's', 1, P_SUBJECT},
    {"headline", 0, 0, P_HEADLINE},
    {NULL, 0, 0, P_NOSUP},
};

/* Values in the peer's own terms, from its command line ('cl') or its
 * file ('cf').  Strings allocated; secrets freed with xs_free_secret. */
struct peer {
    char *file, *user, *password, *eval_password, *jserver, *port, *component,
        *resource, *alias, *capath, *subject, *message, *mtype, *mucpw;
    int starttls, direct, insecure, headline, chatroom, interactive, raw, debug,
        help, version, any;
    char **uploads;
    size_t nuploads;
};

struct compat {
    enum peer_kind kind;
    const char *name; /* "sendxmpp", "go-sendxmpp" */
    struct peer cl, cf;
    char **rcpt; /* operands, not owned */
    size_t nrcpt;
    char **out; /* the translation */
    int nout;
};

/* The translation, released at exit. */
static char **made;
static int nmade;

static void release(void)
{
    for (int i = 0; i < nmade; i++)
        xs_free_secret(made[i]);
    free(made);
    made = NULL;
    nmade = 0;
}

static void drop(char **field)
{
    xs_free_secret(*field);
    *field = NULL;
}

static void peer_free(struct peer *p)
{
    drop(&p->file);
    drop(&p->user);
    drop(&p->password);
    drop(&p->eval_password);
    drop(&p->jserver);
    drop(&p->port);
    drop(&p->component);
    drop(&p->resource);
    drop(&p->alias);
    drop(&p->capath);
    drop(&p->subject);
    drop(&p->message);
    drop(&p->mtype);
    drop(&p->mucpw);
    for (size_t i = 0; i < p->nuploads; i++)
        free(p->uploads[i]);
    free(p->uploads);
    p->uploads = NULL;
    p->nuploads = 0;
}

static void set(char **field, const char *v)
{
    xs_free_secret(*field);
    *field = xstrdup(v);
}

static void emit(struct compat *x, const char *a)
{
    x->out = xrealloc(x->out, (size_t)(x->nout + 2) * sizeof *x->out);
    x->out[x->nout++] = xstrdup(a);
    x->out[x->nout] = NULL;
}

static void emit2(struct compat *x, const char *opt, const char *v)
{
    emit(x, opt);
    emit(x, v);
}

/* ---------------------------------------------------------------- */
/* The command line                                                  */

static const struct popt *find_long(const struct popt *t,
                                    enum peer_kind kind,
                                    const char *name,
                                    size_t n,
                                    int *ambiguous)
{
    const struct popt *hit = NULL;
    int hits = 0;
    *ambiguous = 0;
    for (const struct popt *o = t; o->name != NULL; o++) {
        /* Getopt::Long ignores case; getopt does not. */
        int eq = kind == SENDXMPP ? strncasecmp(o->name, name, n) == 0
                                  : strncmp(o->name, name, n) == 0;
        if (eq && o->name[n] == '\0')
            return o;
        if (kind == SENDXMPP && n == 1 &&
            tolower((unsigned char)o->short_name) ==
                tolower((unsigned char)name[0]) &&
            o->short_name != 0)
            return o;
        /* Getopt::Long takes unique abbreviations; getopt does not. */
        if (eq && kind == SENDXMPP) {
            hit = o;
            hits++;
        }
    }
    if (hits > 1)
        *ambiguous = 1;
    return hits == 1 ? hit : NULL;
}

static const struct popt *find_short(const struct popt *t, char c)
{
    for (const struct popt *o = t; o->name != NULL; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

static enum xs_err apply(struct compat *x,
                         const struct popt *o,
                         const char *label,
                         const char *value,
                         struct xs_error *err)
{
    struct peer *p = &x->cl;
    if (o->arg == 1 && value == NULL)
        return xs_seterr(err, XS_EUSAGE, "%s option %s needs a value", x->name,
                         label);
    const char *v = value != NULL ? value : "";
    switch (o->k) {
    case P_FILE:
        set(&p->file, v);
        break;
    case P_USER:
        set(&p->user, v);
        break;
    case P_PASS:
        set(&p->password, v);
        break;
    case P_JSERVER:
        set(&p->jserver, v);
        break;
    case P_COMPONENT:
        set(&p->component, v);
        break;
    case P_RESOURCE:
        set(&p->resource, v);
        break;
    case P_STARTTLS:
        p->starttls = 1;
        break;
    case P_DIRECT:
        p->direct = 1;
        break;
    case P_INSECURE:
        p->insecure = 1;
        break;
    case P_CAPATH:
        set(&p->capath, v);
        break;
    case P_HEADLINE:
        p->headline = 1;
        break;
    case P_MTYPE:
        set(&p->mtype, v);
        break;
    case P_CHATROOM:
        p->chatroom = 1;
        break;
    case P_SUBJECT:
        set(&p->subject, v);
        break;
    case P_MESSAGE:
        set(&p->message, v);
        break;
    case P_INTERACTIVE:
        p->interactive = 1;
        break;
    case P_RAW:
        p->raw = 1;
        break;
    case P_DEBUG:
        p->debug = 1;
        break;
    case P_HELP:
        p->help = 1;
        break;
    case P_VERSION:
        p->version = 1;
        break;
    case P_ALIAS:
        set(&p->alias, v);
        break;
    case P_MUCPW:
        set(&p->mucpw, v);
        break;
    case P_UPLOAD:
        p->uploads =
            xrealloc(p->uploads, (p->nuploads + 1) * sizeof *p->uploads);
        p->uploads[p->nuploads++] = xstrdup(v);
        break;
    case P_TIMEOUT: {
        /* go-sendxmpp's connect timeout; our --timeout is the deadline
         * of the whole run (default 30 s), which is kept. */
        char *end;
        errno = 0;
        long t = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || t < 1)
            return xs_seterr(err, XS_EUSAGE, "%s option %s wants seconds",
                             x->name, label);
        break;
    }
    case P_TLSVER:
        /* xmppsend (GnuTLS' defaults) never goes below TLS 1.2; a
         * demand for 1.3 only could not be kept. */
        if (strcmp(v, "10") != 0 && strcmp(v, "11") != 0 &&
            strcmp(v, "12") != 0)
            return xs_seterr(err, XS_EUSAGE,
                             "%s option %s %s is not supported (xmppsend "
                             "uses TLS 1.2 or newer)",
                             x->name, label, v);
        break;
    case P_NOSUP:
        return xs_seterr(err, XS_EUSAGE, "%s option %s is not supported",
                         x->name, label);
    }
    return XS_OK;
}

static void add_rcpt(struct compat *x, char *a)
{
    x->rcpt = xrealloc(x->rcpt, (x->nrcpt + 1) * sizeof *x->rcpt);
    x->rcpt[x->nrcpt++] = a;
}

/* The value of a secret option is wiped from the original argv, so that
 * ps(1) no longer shows it (the copy lives in the translation). */
static void wipe_if_secret(const struct popt *o, char *v)
{
    if (v != NULL && (o->k == P_PASS || o->k == P_MUCPW))
        xs_wipe(v, strlen(v));
}

static enum xs_err
parse_cl(struct compat *x, int argc, char **argv, struct xs_error *err)
{
    const struct popt *t = x->kind == SENDXMPP ? sx_opts : gx_opts;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (++i < argc)
                add_rcpt(x, argv[i]);
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            add_rcpt(x, a);
            continue;
        }
        x->cl.any = 1;
        char label[64];
        const struct popt *o = NULL;
        char *val = NULL;
        int is_long = a[1] == '-' || x->kind == SENDXMPP;
        if (is_long) {
            /* "--name[=value]"; sendxmpp also "-name[=value]" */
            char *name = a + (a[1] == '-' ? 2 : 1);
            size_t n = strcspn(name, "=");
            int amb;
            o = find_long(t, x->kind, name, n, &amb);
            snprintf(label, sizeof label, "%s%.*s", a[1] == '-' ? "--" : "-",
                     (int)(n > 40 ? 40 : n), name);
            if (o == NULL) {
                if (name[n] == '=')
                    xs_wipe(name + n + 1, strlen(name + n + 1));
                char *shown = text_printable(label, strlen(label), 60);
                enum xs_err e =
                    xs_seterr(err, XS_EUSAGE, "%s %s option %s",
                              amb ? "ambiguous" : "unknown", x->name, shown);
                free(shown);
                return e;
            }
            if (name[n] == '=') {
                if (o->arg == 0)
                    return xs_seterr(err, XS_EUSAGE,
                                     "%s option %s takes no value", x->name,
                                     label);
                val = name + n + 1;
            }
        } else {
            /* getopt: "-abc" is -a -b -c; "-jHOST" is -j HOST */
            for (char *s = a + 1; *s != '\0'; s++) {
                o = find_short(t, *s);
                snprintf(label, sizeof label, "-%c", *s);
                if (o == NULL) {
                    char *shown = text_printable(label, strlen(label), 10);
                    enum xs_err e = xs_seterr(
                        err, XS_EUSAGE, "unknown %s option %s", x->name, shown);
                    free(shown);
                    return e;
                }
                if (o->arg == 0) {
                    enum xs_err e = apply(x, o, label, NULL, err);
                    if (e != XS_OK)
                        return e;
                    o = NULL;
                    continue;
                }
                if (s[1] != '\0')
                    val = s + 1;
                break;
            }
            if (o == NULL)
                continue;
        }
        if (o->arg == 1 && val == NULL) {
            if (i + 1 >= argc)
                return xs_seterr(err, XS_EUSAGE, "%s option %s needs a value",
                                 x->name, label);
            val = argv[++i];
        }
        /* sendxmpp -d [N]: a number after it is its level */
        if (o->arg == 2 && val == NULL && i + 1 < argc &&
            argv[i + 1][0] != '\0' &&
            strspn(argv[i + 1], "0123456789") == strlen(argv[i + 1]))
            i++;
        enum xs_err e = apply(x, o, label, val, err);
        wipe_if_secret(o, val);
        if (e != XS_OK)
            return e;
    }
    return XS_OK;
}

/* ---------------------------------------------------------------- */
/* The account file                                                  */

/* sendxmpp 1.24's legacy line: "user@server[;host][:port] password
 * [component]"; go-sendxmpp's: "user@server password". */
static int legacy_line(struct compat *x, char *line, struct peer *cf)
{
    char *f[4];
    int n = 0;
    for (char *save = NULL, *w = strtok_r(line, " \t", &save); w != NULL;
         w = strtok_r(NULL, " \t", &save)) {
        if (n == 4)
            return -1;
        f[n++] = w;
    }
    int max = x->kind == SENDXMPP ? 3 : 2;
    if (n < 2 || n > max)
        return -1;
    char *at = strchr(f[0], '@');
    if (at == NULL || at == f[0] || at[1] == '\0')
        return -1;
    if (x->kind == GO_SENDXMPP) {
        set(&cf->user, f[0]);
        set(&cf->password, f[1]);
        return 0;
    }
    if (strspn(f[0], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._#-") != (size_t)(at - f[0]))
        return -1;
    /* The legacy line replaces everything read before it. */
    peer_free(cf);
    cf->user = xstrndup(f[0], (size_t)(at - f[0]));
    set(&cf->jserver, at + 1);
    set(&cf->password, f[1]);
    if (n == 3)
        set(&cf->component, f[2]);
    return 0;
}

/* sendxmpp: after every line, "jserver" of "host:port" and
 * "domain;host" are taken apart as sendxmpp does. */
static void sx_split_jserver(struct peer *cf)
{
    if (cf->jserver == NULL)
        return;
    char *colon = strrchr(cf->jserver, ':');
    if (colon != NULL && colon[1] != '\0' &&
        strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        set(&cf->port, colon + 1);
        *colon = '\0';
    }
    char *semi = strrchr(cf->jserver, ';');
    if (semi != NULL && semi[1] != '\0') {
        char *domain = xstrndup(cf->jserver, (size_t)(semi - cf->jserver));
        char *host = xstrdup(semi + 1);
        if (cf->component == NULL && cf->user != NULL) {
            char *u = xasprintf("%s@%s", cf->user, domain);
            xs_free_secret(cf->user);
            cf->user = u;
        }
        free(cf->jserver);
        cf->jserver = host;
        free(domain);
    }
}

static enum xs_err
parse_file(struct compat *x, char *text, const char *path, struct xs_error *err)
{
    struct peer *cf = &x->cf;
    int lineno = 0, found = 0;
    for (char *line = text, *next; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        lineno++;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        const char *s = line + strspn(line, " \t");
        if (*s == '\0' || *s == '#')
            continue;
        /* "key: value" ([a-z]+ keys for sendxmpp, [a-z_] for go) */
        const char *keys = x->kind == SENDXMPP ? "abcdefghijklmnopqrstuvwxyz"
                                               : "abcdefghijklmnopqrstuvwxyz_";
        size_t k = strspn(line, keys);
        if (k > 0 && line[k] == ':') {
            char *v = line + k + 1;
            v += strspn(v, " \t");
            line[k] = '\0';
            char **field = NULL;
            if (strcmp(line, "username") == 0)
                field = &cf->user;
            else if (strcmp(line, "password") == 0)
                field = &cf->password;
            else if (strcmp(line, "jserver") == 0)
                field = &cf->jserver;
            else if (strcmp(line, "port") == 0)
                field = &cf->port;
            else if (x->kind == SENDXMPP && strcmp(line, "component") == 0)
                field = &cf->component;
            else if (x->kind == GO_SENDXMPP && strcmp(line, "alias") == 0)
                field = &cf->alias;
            else if (x->kind == GO_SENDXMPP &&
                     strcmp(line, "eval_password") == 0)
                field = &cf->eval_password;
            /* other keys (sendxmpp: tls; go: allow_plain, ...) are
             * ignored, as the peers do with keys they do not use */
            if (field != NULL)
                set(field, v);
            found = 1;
        } else if (legacy_line(x, line, cf) == 0) {
            found = 1;
        } else {
            return xs_seterr(err, XS_ECONFIG, "%s:%d: syntax error (%s format)",
                             path, lineno, x->name);
        }
        if (x->kind == SENDXMPP)
            sx_split_jserver(cf);
    }
    if (!found)
        return xs_seterr(err, XS_ECONFIG, "no account found in %s", path);
    return XS_OK;
}

/* Read the account file at 'path'.  *missing is set when it does not
 * exist (the caller decides whether that is an error). */
static enum xs_err read_file(struct compat *x,
                             const char *path,
                             int *missing,
                             struct xs_error *err)
{
    *missing = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            *missing = 1;
            return XS_OK;
        }
        return xs_seterr(err, XS_ENOINPUT, "cannot open %s file %s: %s",
                         x->name, path, strerror(errno));
    }
    enum xs_err e = pw_check_secure(path, fd, 0, err);
    char *text = NULL;
    size_t len = 0;
    if (e == XS_OK) {
        struct xs_error rerr = {0};
        (void)fcntl(fd, F_SETFL, 0);
        e = pw_read_fd(fd, PEER_FILE_MAX, &text, &len, &rerr);
        if (e != XS_OK)
            e = xs_seterr(err, e == XS_EDATA ? XS_ECONFIG : e,
                          "cannot read %s file %s: %s", x->name, path,
                          rerr.msg);
    }
    if (e == XS_OK && memchr(text, '\0', len) != NULL)
        e = xs_seterr(err, XS_ECONFIG, "%s: a NUL byte", path);
    if (e == XS_OK)
        e = parse_file(x, text, path, err);
    /* A file holding a password (or running one) must not be readable
     * by group or others, as our own config file. */
    if (e == XS_OK && (x->cf.password != NULL || x->cf.eval_password != NULL))
        e = pw_check_secure(path, fd, 1, err);
    if (text != NULL) {
        xs_wipe(text, len);
        free(text);
    }
    close(fd);
    return e;
}

static enum xs_err load_file(struct compat *x, struct xs_error *err)
{
    int missing = 0;
    enum xs_err e;
    if (x->cl.file != NULL) {
        e = read_file(x, x->cl.file, &missing, err);
        if (e == XS_OK && missing)
            e = xs_seterr(err, XS_ENOINPUT, "cannot open %s file %s: %s",
                          x->name, x->cl.file, strerror(ENOENT));
        return e;
    }
    const char *home = getenv("HOME");
    if (x->kind == SENDXMPP) {
        /* sendxmpp reads its file unless -u and -p are both given */
        if ((x->cl.user != NULL && x->cl.password != NULL) || home == NULL)
            return XS_OK;
        char *f = xasprintf("%s/.sendxmpprc", home);
        e = read_file(x, f, &missing, err);
        free(f);
        return e;
    }
    /* go-sendxmpp 0.5.6: ~/.config/go-sendxmpp/config, then
     * ~/.config/go-sendxmpp/sendxmpprc, then ~/.sendxmpprc (it takes the
     * home directory from the password database and ignores
     * XDG_CONFIG_HOME; HOME here, the same for almost everyone) */
    if (x->cl.user != NULL && x->cl.password != NULL)
        return XS_OK;
    char *dir = home != NULL ? xasprintf("%s/.config", home) : NULL;
    char *cand[3] = {
        dir ? xasprintf("%s/go-sendxmpp/config", dir) : NULL,
        dir ? xasprintf("%s/go-sendxmpp/sendxmpprc", dir) : NULL,
        home ? xasprintf("%s/.sendxmpprc", home) : NULL,
    };
    e = XS_OK;
    for (int i = 0; i < 3 && e == XS_OK; i++) {
        if (cand[i] == NULL)
            continue;
        e = read_file(x, cand[i], &missing, err);
        if (e == XS_OK && !missing)
            break;
    }
    for (int i = 0; i < 3; i++)
        free(cand[i]);
    free(dir);
    return e;
}

/* ---------------------------------------------------------------- */
/* The translation                                                   */

/* cl over cf */
static const char *pick(const char *cl, const char *cf)
{
    return cl != NULL && *cl != '\0' ? cl : cf;
}

/* sendxmpp -a: a file is a CA file; /etc/ssl/certs (XML::Stream's
 * default) is the system store; another directory cannot be used. */
static enum xs_err
ca_path(struct compat *x, const char *p, struct xs_error *err)
{
    struct stat st;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
        char real[PATH_MAX];
        if (realpath(p, real) != NULL && strcmp(real, "/etc/ssl/certs") == 0)
            return XS_OK;
        return xs_seterr(err, XS_EUSAGE,
                         "%s option -a with a directory other than "
                         "/etc/ssl/certs is not supported: name a file of "
                         "CA certificates",
                         x->name);
    }
    emit2(x, "--cafile", p);
    return XS_OK;
}

static enum xs_err translate(struct compat *x, struct xs_error *err)
{
    struct peer *cl = &x->cl, *cf = &x->cf;
    int sx = x->kind == SENDXMPP;

    if (sx && !cl->any && x->nrcpt == 0)
        cl->help = 1; /* sendxmpp without arguments prints its usage */
    if (cl->help || cl->version) {
        emit(x, cl->help ? "--help" : "--version");
        return XS_OK;
    }
    /* sendxmpp's own checks of its command line */
    if (sx && cl->raw && x->nrcpt > 0)
        return xs_seterr(err, XS_EUSAGE,
                         "sendxmpp: give recipients or -w (--raw), not both");
    if (cl->raw && cl->subject != NULL)
        return xs_seterr(err, XS_EUSAGE, "%s: no subject in raw XML mode",
                         x->name);
    if (cl->raw && cl->chatroom)
        return xs_seterr(err, XS_EUSAGE,
                         "%s: -c (chatroom) does not go with raw XML mode",
                         x->name);
    if (cl->message != NULL && cl->interactive)
        return xs_seterr(err, XS_EUSAGE,
                         "%s: cannot have both -m (message file) and -i",
                         x->name);
    if (sx && cl->direct && cl->starttls)
        return xs_seterr(err, XS_EUSAGE,
                         "sendxmpp: use either -e (--ssl) or -t (--tls)");
    const char *type = NULL;
    if (cl->mtype != NULL) {
        if (strcmp(cl->mtype, "chat") == 0 ||
            strcmp(cl->mtype, "normal") == 0 ||
            strcmp(cl->mtype, "headline") == 0)
            type = cl->mtype;
        else
            return xs_seterr(err, XS_EUSAGE,
                             "sendxmpp option --message-type %s is not "
                             "supported (chat, normal or headline)",
                             strcmp(cl->mtype, "error") == 0 ||
                                     strcmp(cl->mtype, "groupchat") == 0
                                 ? cl->mtype
                                 : "with that value");
    }
    if (cl->headline) {
        if (type != NULL && strcmp(type, "chat") != 0)
            return xs_seterr(err, XS_EUSAGE,
                             "sendxmpp: --headline and --message-type "
                             "exclude each other");
        type = "headline";
    }

    enum xs_err e = load_file(x, err);
    if (e != XS_OK)
        return e;

    /* The account: sendxmpp's username may be a localpart, its domain
     * then the component or the server. */
    const char *user = pick(cl->user, cf->user);
    const char *component = pick(cl->component, cf->component);
    char *jserver = NULL, *port = NULL;
    if (cl->jserver != NULL && *cl->jserver != '\0') {
        jserver = xstrdup(cl->jserver);
        char *colon = strrchr(jserver, ':');
        /* host:port, [v6]:port */
        if (colon != NULL &&
            ((strchr(jserver, ']') == NULL && strchr(jserver, ':') == colon) ||
             (jserver[0] == '[' && colon[-1] == ']'))) {
            port = xstrdup(colon + 1);
            *colon = '\0';
        }
    } else if (cf->jserver != NULL && *cf->jserver != '\0') {
        jserver = xstrdup(cf->jserver);
    }
    if (port == NULL && cf->port != NULL && *cf->port != '\0' &&
        strcmp(cf->port, "0") != 0)
        port = xstrdup(cf->port);
    char *jid = NULL;
    const char *domain = NULL;
    if (user != NULL && strchr(user, '@') != NULL) {
        jid = xstrdup(user);
        domain = strchr(jid, '@') + 1;
    } else if (user != NULL) {
        domain = sx && component != NULL ? component : jserver;
        if (domain == NULL) {
            free(jserver);
            free(port);
            return xs_seterr(err, XS_EUSAGE,
                             "%s: no server for user '%s' (give -j or a "
                             "full JID)",
                             x->name, user);
        }
        jid = xasprintf("%s@%s", user, domain);
        domain = strchr(jid, '@') + 1;
    }
    if (jid != NULL)
        emit2(x, "--jid", jid);
    /* The server to connect to: what the peer would connect to. */
    if (jserver != NULL || port != NULL) {
        const char *host = jserver != NULL ? jserver : domain;
        if (host != NULL) {
            size_t dl = domain ? strcspn(domain, "/") : 0;
            int same = domain != NULL && strlen(host) == dl &&
                       strncasecmp(host, domain, dl) == 0;
            if (port != NULL) {
                char *s = xasprintf("%s:%s", host, port);
                emit2(x, "--server", s);
                free(s);
            } else if (!same) {
                emit2(x, "--server", host);
            }
        }
    }
    free(jid);
    free(jserver);
    free(port);

    /* TLS: sendxmpp -e and go-sendxmpp -t are direct TLS; otherwise the
     * peers speak STARTTLS (or nothing: we never send in clear text). */
    emit2(x, "--tls", cl->direct ? "direct" : "starttls");
    if (cl->insecure)
        emit(x, "--insecure");
    const char *ssl_cert_file = getenv("SSL_CERT_FILE");
    if (sx && cl->capath != NULL) {
        e = ca_path(x, cl->capath, err);
        if (e != XS_OK)
            return e;
    } else if (ssl_cert_file != NULL && *ssl_cert_file != '\0') {
        /* Both peers' TLS libraries (OpenSSL, Go) take their trust
         * store from SSL_CERT_FILE. */
        emit2(x, "--cafile", ssl_cert_file);
    }

    const char *password = pick(cl->password, cf->password);
    if (password != NULL)
        emit2(x, "--password", password);
    else if (cf->eval_password != NULL)
        emit2(x, "--password-command", cf->eval_password);

    if (cl->debug)
        emit(x, "--debug");
    if (type != NULL)
        emit2(x, "--type", type);
    /* sendxmpp 1.24 sends no subject to a chatroom */
    if (cl->subject != NULL && !(sx && cl->chatroom))
        emit2(x, "--subject", cl->subject);
    if (cl->message != NULL)
        emit2(x, "--message-file", cl->message);
    if (cl->interactive)
        emit(x, "--each-line");
    if (cl->raw)
        emit(x, "--raw");
    /* go-sendxmpp sends nothing for empty input and exits 0 */
    if (!sx && !cl->interactive && !cl->raw)
        emit(x, "--skip-empty");
    for (size_t i = 0; i < cl->nuploads; i++)
        emit2(x, "--upload", cl->uploads[i]);
    if (cl->mucpw != NULL)
        emit2(x, "--room-password", cl->mucpw);

    /* The resource; in a chatroom the nick: go-sendxmpp's -a (or its
     * file's alias), else -r as both peers do. */
    const char *nick = pick(cl->alias, cf->alias);
    if (cl->resource != NULL) {
        emit2(x, "--resource", cl->resource);
        if (nick == NULL)
            nick = cl->resource;
    }
    if (cl->chatroom && nick != NULL)
        emit2(x, "--nick", nick);

    /* Recipients: with -c they are rooms.  sendxmpp appends
     * "@component" to a recipient without a domain. */
    for (size_t i = 0; i < x->nrcpt && cl->chatroom; i++)
        emit2(x, "--chatroom", x->rcpt[i]);
    emit(x, "--");
    for (size_t i = 0; i < x->nrcpt && !cl->chatroom; i++) {
        if (sx && component != NULL && strchr(x->rcpt[i], '@') == NULL) {
            char *r = xasprintf("%s@%s", x->rcpt[i], component);
            emit(x, r);
            free(r);
        } else {
            emit(x, x->rcpt[i]);
        }
    }
    return XS_OK;
}

enum xs_err compat_argv(int *argc, char ***argv, struct xs_error *err)
{
    struct compat x;
    memset(&x, 0, sizeof x);
    char **av = *argv;
    int ac = *argc, shift = 0;
    const char *base = ac > 0 && av[0] != NULL ? strrchr(av[0], '/') : NULL;
    const char *name = NULL;
    base = base != NULL ? base + 1 : ac > 0 && av[0] != NULL ? av[0] : "";
    if (ac > 1 && strncmp(av[1], "--compat", 8) == 0 &&
        (av[1][8] == '=' || av[1][8] == '\0')) {
        if (av[1][8] == '=') {
            name = av[1] + 9;
            shift = 1;
        } else if (ac > 2) {
            name = av[2];
            shift = 2;
        } else {
            return xs_seterr(err, XS_EUSAGE, "option '--compat' needs a value");
        }
        if (strcmp(name, "sendxmpp") != 0 && strcmp(name, "go-sendxmpp") != 0)
            return xs_seterr(err, XS_EUSAGE,
                             "invalid --compat: sendxmpp or go-sendxmpp");
    } else if (strcmp(base, "sendxmpp") == 0 ||
               strcmp(base, "go-sendxmpp") == 0) {
        name = base;
    } else {
        return XS_OK;
    }
    x.kind = strcmp(name, "sendxmpp") == 0 ? SENDXMPP : GO_SENDXMPP;
    x.name = x.kind == SENDXMPP ? "sendxmpp" : "go-sendxmpp";
    emit(&x, "xmppsend");
    /* parse as if argv[0] were the peer (the --compat words skipped) */
    char **rest = xcalloc((size_t)ac - (size_t)shift + 1, sizeof *rest);
    rest[0] = av[0];
    for (int i = 1 + shift; i < ac; i++)
        rest[i - shift] = av[i];
    enum xs_err e = parse_cl(&x, ac - shift, rest, err);
    if (e == XS_OK)
        e = translate(&x, err);
    free(rest);
    free(x.rcpt);
    peer_free(&x.cl);
    peer_free(&x.cf);
    if (e != XS_OK) {
        for (int i = 0; i < x.nout; i++)
            xs_free_secret(x.out[i]);
        free(x.out);
        return e;
    }
    release();
    made = x.out;
    nmade = x.nout;
    static int registered;
    if (!registered && atexit(release) == 0)
        registered = 1;
    *argc = x.nout;
    *argv = x.out;
    return XS_OK;
}
