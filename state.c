/* SPDX-License-Identifier: MIT */
/*
 * state.c - the per-account state file (state.h).
 *
 * Format: one "key value" per line, '#' comments, keys:
 *   client-id UUID          fast-mechanism HT-SHA-256-...
 *   fast-token TOKEN        fast-expiry TIMESTAMP
 *   server-sasl2 0|1        server-sm-inline 0|1
 *   server-bind2 0|1        server-cb-listed 0|1
 *   server-mechs A,B        server-cbs A,B
 *   server-sasl2-mechs A,B  server-fast A,B
 *   scram-mechanism SCRAM-SHA-1|SCRAM-SHA-256|SCRAM-SHA-512
 *   scram-salt BASE64       scram-iterations N
 *   scram-client-key BASE64 scram-server-key BASE64
 * (server-known 1: the server-* lines describe an offer.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "password.h"
#include "state.h"

/* Printable ASCII without spaces: what a value may hold. */
static int value_ok(const char *v, size_t n)
{
    if (n == 0 || n > 4096)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
            return 0;
    }
    return 1;
}

int state_value_ok(const char *v, size_t max)
{
    size_t n = strlen(v);
    return n <= max && value_ok(v, n);
}

void state_set(struct xs_state *st, char **field, const char *v)
{
    if (*field == NULL ? v == NULL : v != NULL && strcmp(*field, v) == 0)
        return; /* unchanged: not dirty */
    xs_free_secret(*field);
    *field = v != NULL ? xstrdup(v) : NULL;
    st->dirty = 1;
}

void state_drop_token(struct xs_state *st)
{
    state_set(st, &st->fast_token, NULL);
    state_set(st, &st->fast_mech, NULL);
    state_set(st, &st->fast_expiry, NULL);
}

void state_drop_scram(struct xs_state *st)
{
    state_set(st, &st->scram_mech, NULL);
    state_set(st, &st->scram_salt, NULL);
    state_set(st, &st->scram_iter, NULL);
    state_set(st, &st->scram_ck, NULL);
    state_set(st, &st->scram_sk, NULL);
}

/* Strict base64 (RFC 4648, padded) of 'n' bytes: the length and the
 * alphabet; sasl.c decodes the keys strictly before it uses them. */
static int b64_of(const char *v, size_t n)
{
    size_t len = strlen(v), pad = 0;
    if (len != (n + 2) / 3 * 4)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '=' && i >= len - 2) {
            pad++;
            continue;
        }
        if (pad > 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return 0;
    }
    return pad == (3 - n % 3) % 3;
}

/* Do the five SCRAM fields make one usable set? */
static int scram_ok(const struct xs_state *st)
{
    size_t h = 0;
    if (st->scram_mech == NULL || st->scram_salt == NULL ||
        st->scram_iter == NULL || st->scram_ck == NULL || st->scram_sk == NULL)
        return 0;
    if (strcmp(st->scram_mech, "SCRAM-SHA-1") == 0)
        h = 20;
    else if (strcmp(st->scram_mech, "SCRAM-SHA-256") == 0)
        h = 32;
    else if (strcmp(st->scram_mech, "SCRAM-SHA-512") == 0)
        h = 64;
    size_t ni = strlen(st->scram_iter);
    if (h == 0 || ni == 0 || ni > 9 || st->scram_iter[0] == '0' ||
        strspn(st->scram_iter, "0123456789") != ni)
        return 0;
    return b64_of(st->scram_ck, h) && b64_of(st->scram_sk, h);
}

enum xs_err state_parse(const char *text,
                        size_t len,
                        const char *name,
                        struct xs_state *st,
                        struct xs_error *err)
{
    size_t lineno = 0;
    for (size_t i = 0; i < len;) {
        const char *l = text + i;
        const char *nl = memchr(l, '\n', len - i);
        size_t n = nl != NULL ? (size_t)(nl - l) : len - i;
        i += n + 1;
        lineno++;
        if (n == 0 || l[0] == '#')
            continue;
        const char *sp = memchr(l, ' ', n);
        if (sp == NULL || !value_ok(sp + 1, n - (size_t)(sp - l) - 1))
            return xs_seterr(err, XS_ECONFIG,
                             "%s:%zu: malformed line (delete the file to "
                             "start afresh)",
                             name, lineno);
        size_t klen = (size_t)(sp - l);
        char *v = xstrndup(sp + 1, n - klen - 1);
        char **field = NULL;
        int *flag = NULL;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(l, (k), klen) == 0)
        if (KEY("client-id"))
            field = &st->client_id;
        else if (KEY("fast-mechanism"))
            field = &st->fast_mech;
        else if (KEY("fast-token"))
            field = &st->fast_token;
        else if (KEY("fast-expiry"))
            field = &st->fast_expiry;
        else if (KEY("server-sasl2"))
            flag = &st->sasl2;
        else if (KEY("server-sm-inline"))
            flag = &st->sm_inline;
        else if (KEY("server-bind2"))
            flag = &st->bind2;
        else if (KEY("server-cb-listed"))
            flag = &st->cb_listed;
        else if (KEY("server-known"))
            flag = &st->known;
        else if (KEY("server-mechs"))
            field = &st->mechs;
        else if (KEY("server-cbs"))
            field = &st->cbs;
        else if (KEY("server-sasl2-mechs"))
            field = &st->mechs2;
        else if (KEY("server-fast"))
            field = &st->fast_mechs;
        else if (KEY("scram-mechanism"))
            field = &st->scram_mech;
        else if (KEY("scram-salt"))
            field = &st->scram_salt;
        else if (KEY("scram-iterations"))
            field = &st->scram_iter;
        else if (KEY("scram-client-key"))
            field = &st->scram_ck;
        else if (KEY("scram-server-key"))
            field = &st->scram_sk;
#undef KEY
        if (field != NULL) {
            xs_free_secret(*field);
            *field = v;
            continue;
        }
        if (flag != NULL)
            *flag = strcmp(v, "1") == 0;
        xs_free_secret(v);
    }
    /* A token is only usable with its mechanism. */
    if (st->fast_token == NULL || st->fast_mech == NULL) {
        xs_free_secret(st->fast_token);
        xs_free_secret(st->fast_mech);
        st->fast_token = st->fast_mech = NULL;
    }
    /* SCRAM keys only as a whole, well-formed set. */
    if (!scram_ok(st)) {
        xs_free_secret(st->scram_mech);
        xs_free_secret(st->scram_salt);
        xs_free_secret(st->scram_iter);
        xs_free_secret(st->scram_ck);
        xs_free_secret(st->scram_sk);
        st->scram_mech = st->scram_salt = st->scram_iter = NULL;
        st->scram_ck = st->scram_sk = NULL;
    }
    return XS_OK;
}

int state_uuid(char out[37])
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* variant 10 */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
             r[11], r[12], r[13], r[14], r[15]);
    return 0;
}

void state_client_id(struct xs_state *st)
{
    char id[37];
    if (st->client_id == NULL && st->lockfd >= 0 && state_uuid(id) == 0)
        state_set(st, &st->client_id, id);
}

static char *state_dir(const char *dir)
{
    if (dir != NULL)
        return xstrdup(dir);
    const char *x = getenv("XDG_STATE_HOME");
    if (x != NULL && x[0] == '/')
        return xasprintf("%s/xmppsend", x);
    const char *h = getenv("HOME");
    if (h != NULL && h[0] == '/')
        return xasprintf("%s/.local/state/xmppsend", h);
    return NULL;
}

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(char *path)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        int r = mkdir(path, 0700);
        *p = c;
        if (r != 0 && errno != EEXIST)
            return -1;
        if (c == '\0')
            return 0;
    }
}

enum xs_err state_open(const char *dir,
                       const char *bare,
                       struct xs_state *st,
                       struct xs_error *err)
{
    memset(st, 0, sizeof *st);
    st->lockfd = -1;
    /* A bare JID names the file: no '/', no leading dot. */
    if (bare == NULL || *bare == '\0' || *bare == '.' ||
        strchr(bare, '/') != NULL)
        return XS_OK;
    char *d = state_dir(dir);
    if (d == NULL)
        return XS_OK; /* no home: no state */
    enum xs_err e = XS_OK;
    struct stat sb;
    char *lock = NULL, *text = NULL;
    size_t len = 0;
    if (make_dirs(d) != 0 || stat(d, &sb) != 0) {
        e = xs_seterr(err, XS_EOS, "cannot create the state directory %s: %s",
                      d, strerror(errno));
        goto out;
    }
    if (!S_ISDIR(sb.st_mode) || sb.st_uid != getuid() ||
        (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        e = xs_seterr(err, XS_ECONFIG,
                      "state directory %s is not a directory of yours that "
                      "only you can write to; run: chmod 700 %s",
                      d, d);
        goto out;
    }
    lock = xasprintf("%s/%s.lock", d, bare);
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lfd < 0) {
        e = xs_seterr(err, XS_EOS, "cannot open %s: %s", lock, strerror(errno));
        goto out;
    }
    if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
        close(lfd); /* another run has it: this one goes without */
        goto out;
    }
    st->lockfd = lfd;
    st->path = xasprintf("%s/%s", d, bare);
    int fd = open(st->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0 && errno != ENOENT) {
        e = xs_seterr(err, XS_ECONFIG, "cannot open state file %s: %s",
                      st->path, strerror(errno));
    } else if (fd >= 0) {
        e = pw_check_secure(st->path, fd, 1, err);
        if (e == XS_OK)
            e = pw_read_fd(fd, STATE_MAX, &text, &len, err);
        if (e == XS_OK)
            e = state_parse(text, len, st->path, st, err);
        close(fd);
    }
out:
    if (text != NULL) {
        xs_wipe(text, len);
        free(text);
    }
    free(lock);
    free(d);
    if (e != XS_OK)
        state_free(st);
    return e;
}

static void put(struct buf *b, const char *k, const char *v)
{
    if (v != NULL)
        buf_printf(b, "%s %s\n", k, v);
}

enum xs_err state_save(struct xs_state *st, struct xs_error *err)
{
    if (st->path == NULL || st->lockfd < 0 || !st->dirty)
        return XS_OK;
    struct buf b = {0};
    buf_addstr(&b, "# xmppsend state: FAST token, SCRAM keys and server facts; "
                   "safe to delete\n");
    put(&b, "client-id", st->client_id);
    put(&b, "fast-mechanism", st->fast_mech);
    put(&b, "fast-token", st->fast_token);
    put(&b, "fast-expiry", st->fast_expiry);
    put(&b, "scram-mechanism", st->scram_mech);
    put(&b, "scram-salt", st->scram_salt);
    put(&b, "scram-iterations", st->scram_iter);
    put(&b, "scram-client-key", st->scram_ck);
    put(&b, "scram-server-key", st->scram_sk);
    if (st->known) {
        put(&b, "server-known", "1");
        put(&b, "server-mechs", st->mechs);
        put(&b, "server-cbs", st->cbs);
        put(&b, "server-cb-listed", st->cb_listed ? "1" : "0");
        put(&b, "server-sasl2", st->sasl2 ? "1" : "0");
        put(&b, "server-sasl2-mechs", st->mechs2);
        put(&b, "server-fast", st->fast_mechs);
        put(&b, "server-bind2", st->bind2 ? "1" : "0");
        put(&b, "server-sm-inline", st->sm_inline ? "1" : "0");
    }
    char *tmp = xasprintf("%s.XXXXXX", st->path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    enum xs_err e = XS_OK;
    if (fd < 0) {
        e = xs_seterr(err, XS_EOS, "cannot write state file %s: %s", st->path,
                      strerror(errno));
    } else {
        size_t off = 0;
        while (off < b.len) {
            ssize_t w = write(fd, b.data + off, b.len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        int ok = off == b.len && fchmod(fd, 0600) == 0 && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        if (!ok || rename(tmp, st->path) != 0) {
            e = xs_seterr(err, XS_EOS, "cannot write state file %s: %s",
                          st->path, strerror(errno));
            unlink(tmp);
        } else {
            st->dirty = 0;
        }
    }
    free(tmp);
    buf_wipe(&b);
    return e;
}

void state_free(struct xs_state *st)
{
    xs_free_secret(st->fast_token);
    xs_free_secret(st->scram_ck);
    xs_free_secret(st->scram_sk);
    free(st->scram_mech);
    free(st->scram_salt);
    free(st->scram_iter);
    free(st->fast_mech);
    free(st->fast_expiry);
    free(st->client_id);
    free(st->mechs);
    free(st->cbs);
    free(st->mechs2);
    free(st->fast_mechs);
    free(st->path);
    if (st->lockfd >= 0)
        close(st->lockfd);
    memset(st, 0, sizeof *st);
    st->lockfd = -1;
}
