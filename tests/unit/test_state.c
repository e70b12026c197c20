/* SPDX-License-Identifier: MIT */
/*
 * test_state.c - unit tests for state.c, the per-account login state
 * (client id, FAST token): state_parse on good and bad lines,
 * state_save (mode 0600, written through a temporary file that is
 * renamed, nothing written when nothing changed, content read back the
 * same), the lock (a second state_open of the account gets no state),
 * and the files state_open refuses (readable by others, a directory
 * others may write to, a symbolic link).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../state.h"
#include "test.h"

#define CHECK_HAS(s, sub) CHECK((s) != NULL && strstr((s), (sub)) != NULL)
#define ACCOUNT "alice@example.org"
#define UUID "0b6a5c9e-1111-4222-8333-444455556666"

static enum xs_err
parse(const char *text, struct xs_state *st, struct xs_error *err)
{
    memset(st, 0, sizeof *st);
    st->lockfd = -1;
    memset(err, 0, sizeof *err);
    return state_parse(text, strlen(text), "state", st, err);
}

static void test_parse(void)
{
    struct xs_state st;
    struct xs_error err;
    CHECK_EQ_INT(parse("# a comment\n"
                       "\n"
                       "client-id " UUID "\n"
                       "fast-mechanism HT-SHA-256-EXPR\n"
                       "fast-token T0k+/=\n"
                       "fast-expiry 2099-01-01T00:00:00Z\n"
                       "server-sasl2 1\n"
                       "server-sm-inline 0\n"
                       "some-future-key value\n"
                       "server-sm-inline 1", /* no final newline */
                       &st, &err),
                 XS_OK);
    CHECK_EQ_STR(st.client_id, UUID);
    CHECK_EQ_STR(st.fast_mech, "HT-SHA-256-EXPR");
    CHECK_EQ_STR(st.fast_token, "T0k+/=");
    CHECK_EQ_STR(st.fast_expiry, "2099-01-01T00:00:00Z");
    CHECK_EQ_INT(st.sasl2, 1);
    CHECK_EQ_INT(st.sm_inline, 1); /* the last line wins */
    CHECK_EQ_INT(st.dirty, 0);
    state_free(&st);
    CHECK_EQ_INT(st.lockfd, -1);

    /* A token needs its mechanism, and the other way round. */
    CHECK_EQ_INT(parse("fast-token T0k\n", &st, &err), XS_OK);
    CHECK(st.fast_token == NULL && st.fast_mech == NULL);
    state_free(&st);
    CHECK_EQ_INT(
        parse("fast-mechanism HT-SHA-256-NONE\nserver-sasl2 yes\n", &st, &err),
        XS_OK);
    CHECK(st.fast_token == NULL && st.fast_mech == NULL);
    CHECK_EQ_INT(st.sasl2, 0); /* only "1" is true */
    state_free(&st);

    /* Malformed lines: no value, an empty one, blanks or controls in it,
     * bytes beyond ASCII, a value of more than 4096 bytes. */
    static const char *const bad[] = {
        "client-id\n",
        "client-id \n",
        "fast-token a b\n",
        "fast-token a\tb\n",
        "fast-token a\rb\n",
        "fast-token \x7f\n",
        "fast-token caf\xc3\xa9\n",
        "fast-token a\0b\n",
        " fast-token x\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&st, 0, sizeof st);
        memset(&err, 0, sizeof err);
        /* the NUL case: its length is the literal's */
        size_t len = i == 7 ? 15 : strlen(bad[i]);
        enum xs_err e = state_parse(bad[i], len, "state", &st, &err);
        CHECK_EQ_INT(e, XS_ECONFIG);
        CHECK_HAS(err.msg, "state:1: malformed line");
        state_free(&st);
    }
    char *big = malloc(5000 + 16);
    CHECK(big != NULL);
    memcpy(big, "client-id ", 10);
    memset(big + 10, 'a', 4096);
    big[10 + 4096] = '\0';
    CHECK_EQ_INT(parse(big, &st, &err), XS_OK);
    CHECK_EQ_INT((long long)strlen(st.client_id), 4096);
    state_free(&st);
    big[10 + 4096] = 'a';
    big[10 + 4097] = '\0';
    CHECK_EQ_INT(parse(big, &st, &err), XS_ECONFIG);
    state_free(&st);
    free(big);
    /* The line number of the bad line is given. */
    CHECK_EQ_INT(parse("# ok\nclient-id x\nbroken\n", &st, &err), XS_ECONFIG);
    CHECK_HAS(err.msg, "state:3:");
    state_free(&st);
}

static void test_uuid(void)
{
    char id[37];
    CHECK_EQ_INT(state_uuid(id), 0);
    CHECK_EQ_INT((long long)strlen(id), 36);
    CHECK(id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-');
    CHECK(id[14] == '4');                  /* version 4 */
    CHECK(strchr("89ab", id[19]) != NULL); /* variant 10 */
    char other[37];
    CHECK_EQ_INT(state_uuid(other), 0);
    CHECK(strcmp(id, other) != 0);
}

/* Files in 'dir' whose names start with 'prefix'. */
static int count_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    CHECK(d != NULL);
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static char *read_all(const char *path)
{
    static char text[8192];
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    ssize_t n = read(fd, text, sizeof text - 1);
    CHECK(n >= 0);
    text[n] = '\0';
    close(fd);
    return text;
}

static void test_files(void)
{
    char tmpl[] = "/tmp/xs-test-state-XXXXXX";
    char *top = mkdtemp(tmpl);
    CHECK(top != NULL);
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/a/b", top); /* created, mode 0700 */
    snprintf(path, sizeof path, "%s/%s", dir, ACCOUNT);
    struct xs_state st, st2;
    struct xs_error err = {0};
    struct stat sb;

    /* No file yet: an empty state, locked. */
    CHECK_EQ_INT(state_open(dir, ACCOUNT, &st, &err), XS_OK);
    CHECK(st.lockfd >= 0 && st.path != NULL && st.client_id == NULL);
    CHECK_EQ_INT(stat(dir, &sb), 0);
    CHECK_EQ_INT(sb.st_mode & 0777, 0700);
    /* Nothing changed: nothing written. */
    CHECK_EQ_INT(state_save(&st, &err), XS_OK);
    CHECK_EQ_INT(access(path, F_OK), -1);

    /* A second run while the first holds the lock: no state at all. */
    CHECK_EQ_INT(state_open(dir, ACCOUNT, &st2, &err), XS_OK);
    CHECK_EQ_INT(st2.lockfd, -1);
    CHECK(st2.path == NULL);
    state_client_id(&st2); /* no id either: it is not ours to keep */
    CHECK(st2.client_id == NULL);
    CHECK_EQ_INT(state_save(&st2, &err), XS_OK);
    state_free(&st2);

    /* Write: 0600, through a temporary file that is renamed. */
    state_client_id(&st);
    CHECK(st.client_id != NULL && st.dirty);
    char id[37];
    snprintf(id, sizeof id, "%s", st.client_id);
    state_set(&st, &st.fast_mech, "HT-SHA-256-ENDP");
    state_set(&st, &st.fast_token, "s3cret-T0ken");
    state_set(&st, &st.fast_expiry, "2099-01-01T00:00:00Z");
    st.sasl2 = st.known = 1;
    CHECK_EQ_INT(state_save(&st, &err), XS_OK);
    CHECK_EQ_INT(st.dirty, 0);
    CHECK_EQ_INT(stat(path, &sb), 0);
    CHECK_EQ_INT(sb.st_mode & 0777, 0600);
    CHECK_EQ_INT(count_files(dir, ACCOUNT "."), 1); /* the .lock only */
    ino_t first = sb.st_ino;
    char *text = read_all(path);
    CHECK_HAS(text, "fast-token s3cret-T0ken\n");
    CHECK_HAS(text, "server-sasl2 1\n");
    /* The same value again changes nothing. */
    state_set(&st, &st.fast_token, "s3cret-T0ken");
    CHECK_EQ_INT(st.dirty, 0);
    /* A new token: a new file (renamed over the old one). */
    state_set(&st, &st.fast_token, "n3w-T0ken");
    CHECK_EQ_INT(state_save(&st, &err), XS_OK);
    CHECK_EQ_INT(stat(path, &sb), 0);
    CHECK(sb.st_ino != first);
    state_free(&st);

    /* Read back: the same. */
    CHECK_EQ_INT(state_open(dir, ACCOUNT, &st, &err), XS_OK);
    CHECK(st.lockfd >= 0);
    CHECK_EQ_STR(st.client_id, id);
    CHECK_EQ_STR(st.fast_mech, "HT-SHA-256-ENDP");
    CHECK_EQ_STR(st.fast_token, "n3w-T0ken");
    CHECK_EQ_STR(st.fast_expiry, "2099-01-01T00:00:00Z");
    CHECK_EQ_INT(st.sasl2, 1);
    CHECK_EQ_INT(st.sm_inline, 0);
    /* Dropping the token leaves the client id. */
    state_drop_token(&st);
    CHECK(st.fast_token == NULL && st.fast_mech == NULL &&
          st.fast_expiry == NULL && st.dirty);
    st.dirty = 0;
    state_drop_token(&st); /* nothing to drop: not dirty */
    CHECK_EQ_INT(st.dirty, 0);
    st.dirty = 1;
    CHECK_EQ_INT(state_save(&st, &err), XS_OK);
    state_free(&st);
    text = read_all(path);
    CHECK(strstr(text, "fast-") == NULL);
    CHECK_HAS(text, id);

    /* Readable by the group: refused (it holds a secret). */
    CHECK_EQ_INT(chmod(path, 0640), 0);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(state_open(dir, ACCOUNT, &st, &err), XS_ECONFIG);
    CHECK(st.path == NULL && st.lockfd == -1);
    CHECK_HAS(err.msg, path);
    CHECK_EQ_INT(chmod(path, 0600), 0);
    /* A malformed file: refused, the state freed. */
    int fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    CHECK_EQ_INT(write(fd, "garbage\n", 8), 8);
    close(fd);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(state_open(dir, ACCOUNT, &st, &err), XS_ECONFIG);
    CHECK_HAS(err.msg, "malformed line");
    CHECK(st.path == NULL && st.lockfd == -1);
    /* A symbolic link in its place: not followed. */
    char target[320];
    snprintf(target, sizeof target, "%s.real", path);
    CHECK_EQ_INT(rename(path, target), 0);
    CHECK_EQ_INT(symlink(target, path), 0);
    memset(&err, 0, sizeof err);
    CHECK(state_open(dir, ACCOUNT, &st, &err) != XS_OK);
    CHECK(st.path == NULL);
    CHECK_EQ_INT(unlink(path), 0);
    CHECK_EQ_INT(unlink(target), 0);
    /* A directory others may write to: refused. */
    CHECK_EQ_INT(chmod(dir, 0777), 0);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(state_open(dir, ACCOUNT, &st, &err), XS_ECONFIG);
    CHECK_HAS(err.msg, "chmod 700");
    CHECK_EQ_INT(chmod(dir, 0700), 0);
    /* Names that are no bare JID: no state, no error. */
    static const char *const names[] = {"", ".hidden", "a/b", NULL};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK_EQ_INT(state_open(dir, names[i], &st, &err), XS_OK);
        CHECK(st.path == NULL && st.lockfd == -1);
        state_free(&st);
    }
    /* state_free twice is harmless. */
    state_free(&st);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    CHECK_EQ_INT(system(cmd), 0);
}

/* SCRAM keys (RFC 5802 section 5.1): kept only as a whole, well-formed
 * set; written 0600 and read back the same; dropped as a whole. */
#define CK1 "4jTEe/bDZpbdbYUrmaqiuiZVVyg="
#define SK1 "D+CSWLOshSulAsxiupA+qs2/fTE="
/* RFC 5802's vector: password pencil. */
#define SALT1 "QSXCR+Q6sek8bf92"
static void test_scram(void)
{
    struct xs_state st;
    struct xs_error err;
    CHECK_EQ_INT(parse("scram-mechanism SCRAM-SHA-1\nscram-salt " SALT1
                       "\nscram-iterations 4096\nscram-client-key " CK1
                       "\nscram-server-key " SK1 "\n",
                       &st, &err),
                 XS_OK);
    CHECK_EQ_STR(st.scram_mech, "SCRAM-SHA-1");
    CHECK_EQ_STR(st.scram_salt, SALT1);
    CHECK_EQ_STR(st.scram_iter, "4096");
    CHECK_EQ_STR(st.scram_ck, CK1);
    CHECK_EQ_STR(st.scram_sk, SK1);
    state_free(&st);

    /* One bad value (or a missing line) drops the whole set, and the
     * file still reads (the password is used instead). */
    static const char *const bad[][2] = {
        {"scram-mechanism", "SCRAM-SHA-3"},
        {"scram-mechanism", "SCRAM-SHA-256"}, /* keys of SHA-1's size */
        {"scram-iterations", "0"},
        {"scram-iterations", "04096"},
        {"scram-iterations", "40x6"},
        {"scram-iterations", "1234567890"},
        {"scram-client-key", "4jTEe/bDZpbdbYUrmaqiuiZVVyg"},
        {"scram-client-key", "4jTEe/bDZpbdbYUrmaqiuiZVVy=="},
        {"scram-client-key", "4jTEe/bDZpbdbYUrmaqiuiZV-yg="},
        {"scram-server-key", "D+CSWLOshSulAsxiupA+qs2/fTE=D+CS"},
        {"scram-salt", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *keys[] = {"scram-mechanism", "scram-salt",
                              "scram-iterations", "scram-client-key",
                              "scram-server-key"};
        const char *vals[] = {"SCRAM-SHA-1", SALT1, "4096", CK1, SK1};
        char text[1024] = "client-id " UUID "\n";
        for (size_t k = 0; k < 5; k++) {
            const char *v = vals[k];
            if (strcmp(keys[k], bad[i][0]) == 0)
                v = bad[i][1];
            if (v == NULL)
                continue;
            size_t n = strlen(text);
            snprintf(text + n, sizeof text - n, "%s %s\n", keys[k], v);
        }
        CHECK_EQ_INT(parse(text, &st, &err), XS_OK);
        CHECK_EQ_STR(st.client_id, UUID);
        CHECK(st.scram_mech == NULL && st.scram_salt == NULL &&
              st.scram_iter == NULL && st.scram_ck == NULL &&
              st.scram_sk == NULL);
        state_free(&st);
    }

    /* Round trip through the file. */
    char tmpl[] = "/tmp/xs-test-scram-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/%s", dir, ACCOUNT);
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(state_open(dir, ACCOUNT, &st, &err), XS_OK);
    state_set(&st, &st.scram_mech, "SCRAM-SHA-1");
    state_set(&st, &st.scram_salt, SALT1);
    state_set(&st, &st.scram_iter, "4096");
    state_set(&st, &st.scram_ck, CK1);
    state_set(&st, &st.scram_sk, SK1);
    CHECK_EQ_INT(state_save(&st, &err), XS_OK);
    state_free(&st);
    struct stat sb;
    CHECK_EQ_INT(stat(path, &sb), 0);
    CHECK_EQ_INT(sb.st_mode & 0777, 0600);
    CHECK_EQ_INT(state_open(dir, ACCOUNT, &st, &err), XS_OK);
    CHECK_EQ_STR(st.scram_ck, CK1);
    CHECK_EQ_STR(st.scram_sk, SK1);
    CHECK_EQ_STR(st.scram_salt, SALT1);
    CHECK_EQ_STR(st.scram_iter, "4096");
    state_drop_scram(&st);
    CHECK(st.dirty && st.scram_ck == NULL && st.scram_mech == NULL);
    CHECK_EQ_INT(state_save(&st, &err), XS_OK);
    state_free(&st);
    char *text = read_all(path);
    CHECK(text != NULL && strstr(text, "scram-") == NULL);
    char lock[320];
    snprintf(lock, sizeof lock, "%s.lock", path);
    unlink(lock);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_parse();
    test_uuid();
    test_files();
    test_scram();
    TEST_DONE("test_state");
    return 0;
}
