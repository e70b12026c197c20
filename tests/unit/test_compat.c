/* SPDX-License-Identifier: MIT */
/*
 * test_compat.c - unit tests for compat.c: sendxmpp 1.24 and
 * go-sendxmpp 0.5.6 command lines and account files translated into
 * xmppsend's argv, and the peers' options that have no meaning here.
 * HOME points to a temporary directory that the test fills.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../compat.h"
#include "test.h"

#define MAXARGS 32

/* compat_argv on a NULL-terminated list; the translation joined with
 * spaces into 'out', or "" when argv was left alone. */
static enum xs_err run(char *out, size_t outsz, struct xs_error *err, ...)
{
    static char store[MAXARGS][256];
    char *av[MAXARGS + 1];
    int ac = 0;
    va_list ap;
    va_start(ap, err);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL; ac++) {
        (void)snprintf(store[ac], sizeof store[ac], "%s", a);
        av[ac] = store[ac];
    }
    va_end(ap);
    av[ac] = NULL;
    char **argv = av;
    int argc = ac;
    memset(err, 0, sizeof *err);
    enum xs_err e = compat_argv(&argc, &argv, err);
    out[0] = '\0';
    if (e == XS_OK && argv != av) {
        size_t n = 0;
        for (int i = 0; i < argc; i++)
            n += (size_t)snprintf(out + n, outsz - n, "%s%s", i ? " " : "",
                                  argv[i]);
    }
    return e;
}

#define OK(want, ...)                                                          \
    do {                                                                       \
        char got_[1024];                                                       \
        struct xs_error e_;                                                    \
        CHECK_EQ_INT(                                                          \
            run(got_, sizeof got_, &e_, __VA_ARGS__, (const char *)NULL),      \
            XS_OK);                                                            \
        CHECK_EQ_STR(got_, want);                                              \
    } while (0)

#define BAD(code, why, ...)                                                    \
    do {                                                                       \
        char got_[1024];                                                       \
        struct xs_error e_;                                                    \
        CHECK_EQ_INT(                                                          \
            run(got_, sizeof got_, &e_, __VA_ARGS__, (const char *)NULL),      \
            code);                                                             \
        if (strstr(e_.msg, why) == NULL)                                       \
            (void)fprintf(stderr, "message: %s\nwant: %s\n", e_.msg, why);     \
        CHECK(strstr(e_.msg, why) != NULL);                                    \
    } while (0)

static void put(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
    CHECK(chmod(path, mode) == 0);
}

int main(void)
{
    char home[] = "/tmp/test_compat.XXXXXX";
    CHECK(mkdtemp(home) != NULL);
    CHECK(setenv("HOME", home, 1) == 0);
    CHECK(unsetenv("SSL_CERT_FILE") == 0);
    CHECK(unsetenv("XDG_CONFIG_HOME") == 0);
    char path[512];

    /* Not a peer: argv is left alone. */
    OK("", "xmppsend", "-m", "x", "a@b");

    /* sendxmpp: -u localpart with -o component: the JID and bare
     * recipients take the component; -j host:port; -e is direct TLS. */
    OK("xmppsend --jid al@comp.example --server srv.example:5223 --tls direct "
       "--insecure --password pw --type headline --subject subj --resource "
       "res -- bob@comp.example c@d",
       "sendxmpp", "-u", "al", "-j", "srv.example:5223", "-p", "pw", "-e", "-n",
       "-l", "-s", "subj", "-r", "res", "-o", "comp.example", "bob", "c@d");
    /* long options with '=', -d with a level, --verbose */
    OK("xmppsend --jid al@x.example --tls starttls --password pw --debug "
       "--type normal -- bob@x",
       "sendxmpp", "--username=al@x.example", "--password", "pw", "--tls",
       "--message-type=normal", "-d", "3", "--verbose", "bob@x");
    /* a chatroom: -r is the nick, no subject (sendxmpp sends none) */
    OK("xmppsend --jid al@x.example --tls starttls --password pw --resource "
       "nick --nick nick --chatroom room@muc.x --",
       "sendxmpp", "-u", "al@x.example", "-p", "pw", "-c", "-r", "nick", "-s",
       "S", "room@muc.x");
    OK("xmppsend --jid al@x.example --tls starttls --password pw --raw --",
       "sendxmpp", "-u", "al@x.example", "-p", "pw", "-w");
    /* -a: a file is a CA file, /etc/ssl/certs the system store */
    OK("xmppsend --jid al@x.example --tls starttls --cafile /some/ca.pem "
       "--password pw -- b@x",
       "sendxmpp", "-u", "al@x.example", "-p", "pw", "-a", "/some/ca.pem",
       "b@x");
    OK("xmppsend --jid al@x.example --tls starttls --password pw -- -b@x",
       "sendxmpp", "-u", "al@x.example", "-p", "pw", "--", "-b@x");
    /* without arguments sendxmpp prints its usage */
    OK("xmppsend --help", "sendxmpp");
    OK("xmppsend --version", "go-sendxmpp", "--raw", "--version");
    BAD(XS_EUSAGE, "give recipients or -w", "sendxmpp", "-p", "p", "-w", "b@x");
    BAD(XS_EUSAGE, "no subject in raw", "sendxmpp", "-w", "-s", "x");
    BAD(XS_EUSAGE, "either -e (--ssl) or -t", "sendxmpp", "-e", "-t", "b@x");
    BAD(XS_EUSAGE, "both -m (message file) and -i", "sendxmpp", "-m", "f", "-i",
        "b@x");
    BAD(XS_EUSAGE, "--message-type groupchat is not supported", "sendxmpp",
        "--message-type", "groupchat", "b@x");
    BAD(XS_EUSAGE, "--message-type with that value", "sendxmpp",
        "--message-type", "weird", "b@x");
    BAD(XS_EUSAGE, "--headline and --message-type exclude", "sendxmpp",
        "--headline", "--message-type", "normal", "b@x");
    BAD(XS_EUSAGE, "no server for user 'al'", "sendxmpp", "-u", "al", "-p", "p",
        "b@x");
    BAD(XS_EUSAGE, "option --sso is not supported", "sendxmpp", "--sso");
    BAD(XS_EUSAGE, "unknown sendxmpp option --nope", "sendxmpp", "--nope");
    BAD(XS_EUSAGE, "option --tls takes no value", "sendxmpp", "--tls=1");
    BAD(XS_EUSAGE, "other than /etc/ssl/certs", "sendxmpp", "-a", home, "b@x");
    BAD(XS_ENOINPUT, "cannot open sendxmpp file /nonexistent",
        "/usr/bin/sendxmpp", "-f", "/nonexistent", "b@x");

    /* go-sendxmpp: -j [v6]:port, -t is direct TLS, --headline, -s */
    OK("xmppsend --jid al@x.example --server [::1]:5223 --tls direct "
       "--password pw --debug --type headline --subject S --skip-empty -- "
       "b@x",
       "go-sendxmpp", "-u", "al@x.example", "-p", "pw", "-j", "[::1]:5223",
       "-t", "-d", "-s", "S", "--headline", "b@x");
    /* a chatroom: -a is the nick, -r the resource */
    OK("xmppsend --jid al@x.example --tls starttls --password pw "
       "--skip-empty --room-password mp --resource res --nick nick "
       "--chatroom room@muc.x --",
       "go-sendxmpp", "-u", "al@x.example", "-p", "pw", "-c", "-a", "nick",
       "--muc-password", "mp", "-r", "res", "room@muc.x");
    /* uploads, line mode; --timeout and --tls-version 12 are accepted */
    OK("xmppsend --jid al@x.example --tls starttls --password pw "
       "--each-line --upload f1 --upload f2 -- b@x",
       "go-sendxmpp", "-u", "al@x.example", "-p", "pw", "-h", "f1",
       "--http-upload=f2", "-i", "--timeout", "5", "--tls-version", "12",
       "b@x");
    BAD(XS_EUSAGE, "--timeout wants seconds", "go-sendxmpp", "--timeout", "0",
        "b@x");
    BAD(XS_EUSAGE, "--tls-version 13 is not supported", "go-sendxmpp",
        "--tls-version", "13", "b@x");
    BAD(XS_EUSAGE, "option --ox is not supported", "go-sendxmpp", "--ox");
    BAD(XS_EUSAGE, "unknown go-sendxmpp option -x", "go-sendxmpp", "-x");
    BAD(XS_EUSAGE, "option -u needs a value", "go-sendxmpp", "-u");
    BAD(XS_EUSAGE, "option --help takes no value", "go-sendxmpp", "--help=x");

    /* --compat NAME and --compat=NAME */
    OK("xmppsend --jid al@x.example --tls starttls --password pw "
       "--skip-empty -- b@x",
       "xmppsend", "--compat", "go-sendxmpp", "-u", "al@x.example", "-p", "pw",
       "b@x");
    OK("xmppsend --jid al@x.example --tls starttls --password pw -- b@x",
       "xmppsend", "--compat=sendxmpp", "-u", "al@x.example", "-p", "pw",
       "b@x");
    BAD(XS_EUSAGE, "'--compat' needs a value", "xmppsend", "--compat");
    BAD(XS_EUSAGE, "invalid --compat", "xmppsend", "--compat=msmtp");

    /* sendxmpp's ~/.sendxmpprc: the legacy line with ;host:port and a
     * component; SSL_CERT_FILE is the CA file. */
    (void)snprintf(path, sizeof path, "%s/.sendxmpprc", home);
    put(path, "# mine\nal@x.example;srv.example:5299 pw comp.example\n", 0600);
    CHECK(setenv("SSL_CERT_FILE", "/ca.pem", 1) == 0);
    OK("xmppsend --jid al@comp.example --server srv.example:5299 --tls "
       "starttls --cafile /ca.pem --password pw -- bob@comp.example",
       "sendxmpp", "bob");
    CHECK(unsetenv("SSL_CERT_FILE") == 0);
    /* key: value lines, "domain;host" without a component */
    put(path, "username: al\njserver: x.example;srv.example\npassword: pw\n",
        0600);
    OK("xmppsend --jid al@x.example --server srv.example --tls starttls "
       "--password pw -- b@x",
       "sendxmpp", "b@x");
    /* the command line wins over the file */
    OK("xmppsend --jid al@x.example --server srv.example --tls starttls "
       "--password other -- b@x",
       "sendxmpp", "-p", "other", "b@x");
    /* a password in a file others can read */
    CHECK(chmod(path, 0644) == 0);
    BAD(XS_ECONFIG, ".sendxmpprc", "sendxmpp", "b@x");
    put(path, "this is not an account line at all\n", 0600);
    BAD(XS_ECONFIG, ":1: syntax error (sendxmpp format)", "sendxmpp", "b@x");
    put(path, "# only a comment\n", 0600);
    BAD(XS_ECONFIG, "no account found", "sendxmpp", "b@x");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    CHECK(fwrite("al@x pw\0\n", 1, 9, f) == 9);
    CHECK(fclose(f) == 0);
    BAD(XS_ECONFIG, "a NUL byte", "sendxmpp", "b@x");
    CHECK(unlink(path) == 0);

    /* go-sendxmpp's ~/.config/go-sendxmpp/config: port, alias and
     * eval_password */
    (void)snprintf(path, sizeof path, "%s/.config", home);
    CHECK(mkdir(path, 0700) == 0);
    (void)snprintf(path, sizeof path, "%s/.config/go-sendxmpp", home);
    CHECK(mkdir(path, 0700) == 0);
    (void)snprintf(path, sizeof path, "%s/.config/go-sendxmpp/config", home);
    put(path,
        "username: al@x.example\njserver: srv.example\nport: 5299\n"
        "eval_password: pass show xmpp\nalias: bot\nallow_plain: false\n",
        0600);
    OK("xmppsend --jid al@x.example --server srv.example:5299 --tls starttls "
       "--password-command pass show xmpp --skip-empty --nick bot "
       "--chatroom r@muc.x --",
       "go-sendxmpp", "-c", "r@muc.x");
    /* the legacy line, go-sendxmpp's form: "user@server password" */
    put(path, "al@x.example pw\n", 0600);
    OK("xmppsend --jid al@x.example --tls starttls --password pw "
       "--skip-empty -- b@x",
       "go-sendxmpp", "b@x");
    put(path, "al@x.example pw extra\n", 0600);
    BAD(XS_ECONFIG, "syntax error (go-sendxmpp format)", "go-sendxmpp", "b@x");
    CHECK(unlink(path) == 0);
    (void)snprintf(path, sizeof path, "%s/.config/go-sendxmpp", home);
    CHECK(rmdir(path) == 0);
    (void)snprintf(path, sizeof path, "%s/.config", home);
    CHECK(rmdir(path) == 0);
    CHECK(rmdir(home) == 0);

    TEST_DONE("test_compat");
}
