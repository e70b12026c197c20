/* SPDX-License-Identifier: MIT */
/*
 * xmppsend.c - the command line: main() is the outline of a run (parse
 * options, load settings, build the job, read the body, get the
 * password, run, finish); the message body, output, and the one table
 * from error classes to sysexits(3) codes.  The options themselves are
 * a table in opts.c, the password sources are password.c.  The only
 * file that talks to the user and the only one that exits (besides
 * xmalloc on exhaustion).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "runlog.h"
#include "state.h"
#include "http.h"
#include "jid.h"
#include "lines.h"
#include "muc.h"
#include "net.h"
#include "opts.h"
#include "password.h"
#include "roster.h"
#include "raw.h"
#include "receipts.h"
#include "sasl.h"
#include "serverinfo.h"
#include "tls.h"
#include "upload.h"
#include "xml.h"
#include "xmpp.h"

#define XMPPSEND_VERSION "0.1.0"
/* Largest body: servers refuse bigger stanzas (Prosody: 256 KiB by
 * default, ejabberd 64 KiB to 1 MiB). */
#define MAX_BODY (1024L * 1024)

static const char usage_head[] =
    "usage: xmppsend [options] recipient ...\n"
    "       xmppsend [options] -c room@service ... [recipient ...]\n"
    "       xmppsend [options] --roster\n"
    "       xmppsend [options] -u FILE [-u FILE ...] recipient ...\n"
    "       xmppsend [options] --roster-add JID ... [recipient ...] "
    "[--roster]\n"
    "       xmppsend [options] --raw < stanzas\n"
    "       xmppsend [options] --serverinfo [--login] [domain]\n"
    "\n"
    "Send one message (from -m or standard input) to each recipient, or\n"
    "print the account's roster, or share files (-u) by HTTP upload.\n"
    "Exit 0 only when the server confirmed.\n"
    "\n";

static const char usage_tail[] =
    "\n"
    "Password sources, first found wins: --password-command, "
    "--password-file,\n"
    "--password-fd, -p, XMPPSEND_PASSWORD, config password-command, "
    "password-file,\n"
    "password, then a prompt on the terminal.\n"
    "\n"
    "Invoked as sendxmpp or go-sendxmpp (a link), or with --compat NAME as "
    "the\nfirst option: that program's options and account file (see "
    "COMPATIBILITY\nin xmppsend(1)).\n"
    "\n"
    "Exit status: 0 acknowledged by the server, 64 usage, 65 bad data, 66 "
    "no input,\n"
    "67 recipient unavailable, 68 host not found, 69 refused or insecure,\n"
    "70 internal error, 71 OS error, 74 I/O error, 75 temporary failure "
    "(retry),\n"
    "76 protocol error, 77 authentication failed, 78 configuration "
    "error.\n";

static int quiet;
static int json_out;
static int json_reported; /* the failure's JSON object is out already */

static int receipts_on; /* --receipt: report_send says who confirmed */

static void msg(const char *fmt, ...) XS_PRINTF(1, 2);
static void msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("xmppsend: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* sysexits(3) for each error class: the single table. */
static int exit_code(enum xs_err e)
{
    static const int codes[] = {
        [XS_OK] = 0,
        [XS_EUSAGE] = EX_USAGE,
        [XS_EDATA] = EX_DATAERR,
        [XS_ENOINPUT] = EX_NOINPUT,
        [XS_EBOUNCE] = EX_NOUSER,
        [XS_ENOHOST] = EX_NOHOST,
        [XS_EREFUSED] = EX_UNAVAILABLE,
        [XS_ESOFTWARE] = EX_SOFTWARE,
        [XS_EOS] = EX_OSERR,
        [XS_EIO] = EX_IOERR,
        [XS_ETEMP] = EX_TEMPFAIL,
        [XS_EPROTO] = EX_PROTOCOL,
        [XS_EAUTH] = EX_NOPERM,
        [XS_ECONFIG] = EX_CONFIG,
    };
    if ((unsigned)e >= sizeof codes / sizeof codes[0])
        return EX_SOFTWARE;
    return codes[e];
}

/* ---------------------------------------------------------------- */
/* JSON output                                                       */

/* Length of the valid UTF-8 sequence at 's', or 0. */
static size_t utf8_seq(const char *s)
{
    unsigned char c = (unsigned char)*s;
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    for (size_t k = 1; k < n; k++)
        if (s[k] == '\0')
            return 0;
    return n > 0 && utf8_valid(s, n) ? n : 0;
}

/* A JSON string: control characters (C0, DEL, C1) escaped, invalid
 * UTF-8 (say, the bytes of a file name) replaced by U+FFFD, so the
 * output always parses. */
static void json_str(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    while (*s) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else if (c >= 0x80) {
            size_t n = utf8_seq(s);
            if (n == 0) {
                fputs("\\ufffd", f);
                n = 1;
            } else if (n == 2 && c == 0xc2 && (unsigned char)s[1] < 0xa0) {
                /* C1 controls: no raw CSI reaches a terminal */
                fprintf(f, "\\u%04x", (unsigned char)s[1]);
            } else {
                fwrite(s, 1, n, f);
            }
            s += n;
            continue;
        } else {
            fputc(c, f);
        }
        s++;
    }
    fputc('"', f);
}

static void json_error(enum xs_err e, const char *text)
{
    printf("{\"ok\":false,\"exit\":%d,\"error\":", exit_code(e));
    json_str(stdout, text);
    puts("}");
}

static void trace_cb(void *ud, char dir, const char *data, size_t len)
{
    (void)ud;
    char *t = text_printable(data, len, 1 << 20);
    fprintf(stderr, "%c: %s\n", dir, t);
    free(t);
}

static void print_roster(const struct xmpp_roster *r)
{
    if (json_out) {
        fputc('[', stdout);
        for (size_t i = 0; i < r->n; i++) {
            const struct xmpp_roster_item *it = &r->items[i];
            fputs(i ? ",{\"jid\":" : "{\"jid\":", stdout);
            json_str(stdout, it->jid);
            fputs(",\"name\":", stdout);
            json_str(stdout, it->name);
            fputs(",\"subscription\":", stdout);
            json_str(stdout, it->subscription);
            fputs(",\"ask\":", stdout);
            json_str(stdout, it->ask);
            fputs(",\"groups\":[", stdout);
            for (size_t g = 0; g < it->ngroups; g++) {
                if (g)
                    fputc(',', stdout);
                json_str(stdout, it->groups[g]);
            }
            fputs("]}", stdout);
        }
        puts("]");
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct xmpp_roster_item *it = &r->items[i];
        /* Server text: tabs, newlines and escapes become '?'. */
        char *j = text_printable(it->jid, strlen(it->jid), 3072);
        char *n = text_printable(it->name ? it->name : "",
                                 it->name ? strlen(it->name) : 0, 3072);
        char *s =
            text_printable(it->subscription, strlen(it->subscription), 16);
        printf("%s\t%s\t%s\t", j, n, s);
        for (size_t g = 0; g < it->ngroups; g++) {
            char *gr =
                text_printable(it->groups[g], strlen(it->groups[g]), 3072);
            printf("%s%s", g ? "," : "", gr);
            free(gr);
        }
        putchar('\n');
        free(j);
        free(n);
        free(s);
    }
}

/* Result lines; returns the exit class of the first failed recipient. */
static enum xs_err report_send(const struct xmpp_recipient *r, size_t n)
{
    enum xs_err worst = XS_OK;
    struct buf unconfirmed = {0};
    for (size_t i = 0; i < n; i++) {
        if (r[i].status == XMPP_FAILED) {
            if (worst == XS_OK)
                worst = r[i].code;
            msg("%s: %s%s%s%s", r[i].jid, r[i].condition,
                *r[i].text ? " (" : "", r[i].text, *r[i].text ? ")" : "");
        } else if (receipts_on && !r[i].received) {
            buf_printf(&unconfirmed, "%s%s", unconfirmed.len ? ", " : "",
                       r[i].jid);
        }
    }
    if (unconfirmed.len > 0) {
        /* The server has the message (stored or delivered): a retry
         * would send it twice. */
        if (worst == XS_OK)
            worst = XS_ETEMP;
        msg("no delivery receipt from %s (the server accepted the "
            "message)",
            unconfirmed.data);
    }
    buf_free(&unconfirmed);
    if (json_out) {
        printf("{\"ok\":%s,\"exit\":%d,\"recipients\":[",
               worst == XS_OK ? "true" : "false", exit_code(worst));
        for (size_t i = 0; i < n; i++) {
            int ok = r[i].status == XMPP_SENT;
            fputs(i ? ",{\"jid\":" : "{\"jid\":", stdout);
            json_str(stdout, r[i].jid);
            fputs(",\"id\":", stdout);
            json_str(stdout, r[i].id);
            if (ok)
                printf(",\"status\":\"%s\",\"condition\":null,\"text\":null}",
                       r[i].received ? "received" : "sent");
            else
                fputs(",\"status\":\"failed\",\"condition\":", stdout);
            if (!ok) {
                json_str(stdout, r[i].condition);
                fputs(",\"text\":", stdout);
                json_str(stdout, *r[i].text ? r[i].text : NULL);
                fputc('}', stdout);
            }
        }
        puts("]}");
    } else if (!quiet) {
        for (size_t i = 0; i < n; i++) {
            if (r[i].status == XMPP_SENT)
                printf("%s\t%s\t%s\n", r[i].received ? "received" : "sent",
                       r[i].jid, r[i].id);
            else
                printf("failed\t%s\t%s\n", r[i].jid, r[i].condition);
        }
    }
    return worst;
}

/* --raw: each IQ reply on a line (or one JSON object); an IQ error or a
 * bounced message is the exit class, the first one in input order. */
static enum xs_err report_raw(const struct raw_batch *b)
{
    enum xs_err worst = XS_OK;
    for (size_t i = 0; i < b->n; i++) {
        const struct raw_stanza *st = &b->st[i];
        const char *type = xnode_attr(st->reply, "type");
        if (st->kind == RAW_IQ && type != NULL && strcmp(type, "error") == 0) {
            const char *cond;
            enum xs_err e = raw_iq_error(st->reply, &cond);
            char *id = text_printable(st->id, strlen(st->id), 200);
            char *c = text_printable(cond, strlen(cond), 100);
            if (worst == XS_OK)
                worst = e;
            msg("iq %s failed: %s", id, *c ? c : "no condition");
            free(id);
            free(c);
        } else if (st->kind == RAW_MESSAGE &&
                   b->r[st->rcpt].status == XMPP_FAILED) {
            const struct xmpp_recipient *r = &b->r[st->rcpt];
            char *j = text_printable(r->jid, strlen(r->jid), 200);
            if (worst == XS_OK)
                worst = r->code;
            msg("%s: %s", j, r->condition);
            free(j);
        }
    }
    if (json_out) {
        printf("{\"ok\":%s,\"exit\":%d,\"replies\":[",
               worst == XS_OK ? "true" : "false", exit_code(worst));
        const char *sep = "";
        for (size_t i = 0; i < b->n; i++) {
            const struct raw_stanza *st = &b->st[i];
            if (st->kind != RAW_IQ || st->reply == NULL)
                continue;
            char *line = raw_line(st->reply);
            printf("%s{\"id\":", sep);
            json_str(stdout, st->id);
            fputs(",\"type\":", stdout);
            json_str(stdout, xnode_attr(st->reply, "type"));
            fputs(",\"xml\":", stdout);
            json_str(stdout, line);
            fputc('}', stdout);
            free(line);
            sep = ",";
        }
        fputs("],\"bounced\":[", stdout);
        sep = "";
        for (size_t i = 0; i < b->nr; i++) {
            if (b->r[i].status != XMPP_FAILED)
                continue;
            printf("%s{\"jid\":", sep);
            json_str(stdout, b->r[i].jid);
            fputs(",\"id\":", stdout);
            json_str(stdout, b->r[i].id);
            fputs(",\"condition\":", stdout);
            json_str(stdout, b->r[i].condition);
            fputc('}', stdout);
            sep = ",";
        }
        puts("]}");
    } else if (!quiet) {
        for (size_t i = 0; i < b->n; i++) {
            if (b->st[i].kind != RAW_IQ || b->st[i].reply == NULL)
                continue;
            char *line = raw_line(b->st[i].reply);
            puts(line);
            free(line);
        }
    }
    return worst;
}

struct job {
    struct roster_plan plan; /* roster and subscription actions */
    struct xmpp_config cfg;
    struct tls_opts tls;
    char *host;
    int port;
    enum net_tls tls_mode; /* --tls (net.h) */
    int roster;
    int each_line; /* -i: lines.c */
    struct xmpp_message m;
    struct xmpp_recipient *r;
    size_t nr;
    struct upload_file *up; /* -u FILE: opened before connecting */
    size_t nup;
    int receipt_s, wait_s; /* --receipt, --wait: seconds, 0: off */
    struct receipts rc;    /* their state during the run */
    struct raw_batch *raw; /* --raw: the stanzas */
    size_t nrooms;         /* group chats: r[nr] to r[nr + nrooms - 1] */
    struct muc_opts muc;
    /* For the log line: what the session(s) did. */
    int ran;                /* run() was reached */
    int tls_version, sasl2; /* of the last session */
    char mech[48];          /* "": no SASL mechanism tried */
    unsigned round_trips;   /* TCP + TLS + XMPP, over every session */
    int retries, backoff_s; /* --retry */
    int login_ok;           /* the last session logged in */
    struct serverinfo *si;  /* --serverinfo --login: its job */
};

/* Everything a run holds, so that finish() can release it whatever step
 * failed. */
struct cli {
    struct settings cl, cf; /* command line (merged), config file */
    struct job job;
    struct jid me;
    char **rcpt; /* the operands */
    int nrcpt;
    char **rooms; /* the group chats of -c and xmpp:ROOM?join operands */
    size_t nrooms;
    char **rcpt_idn; /* per operand: its prepared JID when the domain is
                        internationalised (sent as U-labels), or NULL */
    int timeout;
    unsigned char pin[TLS_PIN_LEN];
    char *env_password; /* XMPPSEND_PASSWORD, taken out of the env */
    char *password, *body, *san_body, *san_subject, *san_thread;
    size_t body_len;
    int skip; /* --skip-empty and the message is empty: send nothing */
    char *cert_pem, *key_pem; /* --cert, --key (the key is wiped) */
    size_t cert_len, key_len;
    struct config cfg;         /* the config files: defaults and accounts */
    char *sysfile;             /* the system config file, "" for none */
    int sys_found, user_found; /* which config files were read */
    int stdin_used;            /* the body is read from standard input */
};

/* ---------------------------------------------------------------- */
/* Start: standard descriptors, process hardening                    */

/*
 * Open /dev/null on whichever of 0, 1 and 2 is closed, before any other
 * file or socket is opened: otherwise the socket could become fd 1 or 2
 * and result lines or the debug trace would be written into the XMPP
 * stream.
 */
static void std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (n < 0)
            _exit(EX_OSERR);
        if (n != fd) {
            /* Cannot happen (open returns the lowest free fd). */
            if (dup2(n, fd) < 0)
                _exit(EX_OSERR);
            close(n);
        }
    }
}

static void harden(void)
{
    /* The password must not end up in a core dump or be readable
     * through ptrace by same-user processes (protocol.md 10.1). */
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);
}

/* ---------------------------------------------------------------- */
/* Step 1: parse the options                                         */

static enum xs_err parse_options(struct cli *c,
                                 int argc,
                                 char **argv,
                                 enum opt_id *action,
                                 struct xs_error *err)
{
    int first = argc;
    enum xs_err e = opts_parse(argc, argv, &c->cl, action, &first, err);
    if (e != XS_OK || *action != O_COUNT)
        return e;
    c->rcpt = argv + first;
    c->nrcpt = argc - first;
    /* Values given on the command line are checked before the config
     * file is read. */
    return opts_check(&c->cl, err);
}

static int print_action(enum opt_id action)
{
    if (action == O_HELP) {
        fputs(usage_head, stdout);
        opts_help(stdout);
        fputs(usage_tail, stdout);
    } else {
        printf("xmppsend %s\nGnuTLS %s\nlibxml2 %s\nlibcurl %s\n",
               XMPPSEND_VERSION, tls_library_version(), xml_library_version(),
               http_library_version());
    }
    return 0;
}

/* ---------------------------------------------------------------- */
/* Step 2: load the settings: config file, environment, merge         */

/*
 * The system file (XMPPSEND_SYSCONFIG, else /etc/xmppsend.conf) is
 * shared by every user: it must be owned by root (or by the user running
 * us) and writable by its owner only, or anyone could make us run their
 * password-command.  A secret in it (password, password-command,
 * password-file, room-password) also needs it owned by root and closed
 * to others (mode 640 or 600: a group such as xmpp may read it).
 * msmtp checks nothing on its system file; this one can make every
 * user's run execute a password-command.
 */
static enum xs_err check_system_file(const char *file,
                                     int fd,
                                     const struct config *cfg,
                                     struct xs_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return xs_seterr(err, XS_EOS, "cannot stat %s: %s", file,
                         strerror(errno));
    unsigned mode = (unsigned)(st.st_mode & 07777);
    if (st.st_uid != 0 && st.st_uid != getuid())
        return xs_seterr(err, XS_ECONFIG,
                         "system config file %s is owned by uid %u, not by "
                         "root; run: chown root %s",
                         file, (unsigned)st.st_uid, file);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return xs_seterr(err, XS_ECONFIG,
                         "system config file %s is writable by group or "
                         "others (mode %04o); run: chmod go-w %s",
                         file, mode, file);
    if (cfg != NULL && cfg->secret_line > 0 &&
        (st.st_uid != 0 || (st.st_mode & S_IRWXO) != 0))
        return xs_seterr(err, XS_ECONFIG,
                         "%s:%d: %s in the system config file, which is "
                         "not owned by root or is readable by others (uid "
                         "%u, mode %04o); move it to your own config file, "
                         "or run: chown root %s; chmod o-rwx %s",
                         file, cfg->secret_line, cfg->secret_key,
                         (unsigned)st.st_uid, mode, file, file);
    return XS_OK;
}

/*
 * Read a config file into 'cfg' (after the files read before it); *found
 * is set when it exists.  A missing file is fine unless it was named
 * explicitly.  Like msmtp's check_secure, the user's file must be a
 * regular file owned by the user and not writable by others, and one
 * holding a secret (password, password-command, password-file,
 * room-password) must not be accessible by group or others; the system
 * file has its own rule (check_system_file).  Read with read(2) into
 * memory that is wiped.
 */
static enum xs_err read_config(const char *file,
                               int explicit,
                               int system,
                               struct config *cfg,
                               int *found,
                               struct xs_error *err)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (!explicit && errno == ENOENT)
            return XS_OK;
        return xs_seterr(err, XS_ENOINPUT, "cannot open config file %s: %s",
                         file, strerror(errno));
    }
    *found = 1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return xs_seterr(err, XS_EOS, "cannot read config file %s: %s", file,
                         strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return xs_seterr(err, XS_ENOINPUT,
                         "config file %s is not a regular file", file);
    }
    enum xs_err e = system ? check_system_file(file, fd, NULL, err)
                           : pw_check_secure(file, fd, 0, err);
    char *text = NULL;
    size_t len = 0;
    if (e == XS_OK) {
        struct xs_error rerr = {0};
        (void)fcntl(fd, F_SETFL, 0);
        e = pw_read_fd(fd, CONFIG_MAX, &text, &len, &rerr);
        if (e == XS_EDATA)
            e = xs_seterr(err, XS_ECONFIG,
                          "config file %s is larger than %d bytes", file,
                          CONFIG_MAX);
        else if (e != XS_OK)
            e = xs_seterr(err, e, "cannot read config file %s: %s", file,
                          rerr.msg);
    }
    if (e == XS_OK)
        e = config_read(cfg, text, len, file, err);
    if (e == XS_OK && cfg->secret_line > 0)
        e = system ? check_system_file(file, fd, cfg, err)
                   : pw_check_secure(file, fd, 1, err);
    if (text != NULL) {
        xs_wipe(text, len);
        free(text);
    }
    close(fd);
    return e;
}

/* The user's file: $XDG_CONFIG_HOME/xmppsend/config (or
 * ~/.config/xmppsend/config), else ~/.xmppsendrc when only that one
 * exists. */
static char *default_config(void)
{
    const char *x = getenv("XDG_CONFIG_HOME");
    const char *h = getenv("HOME");
    char *f = NULL;
    if (x != NULL && *x == '/')
        f = xasprintf("%s/xmppsend/config", x);
    else if (h != NULL && *h != '\0')
        f = xasprintf("%s/.config/xmppsend/config", h);
    if (h != NULL && *h != '\0' && (f == NULL || access(f, F_OK) != 0)) {
        char *rc = xasprintf("%s/.xmppsendrc", h);
        if (f == NULL || access(rc, F_OK) == 0) {
            free(f);
            return rc;
        }
        free(rc);
    }
    return f;
}

/* -a NAME that no file defines: 78, naming the files. */
static enum xs_err no_account(struct cli *c, struct xs_error *err)
{
    const char *u = c->cl.config != NULL ? c->cl.config : "";
    if (c->sys_found && c->user_found)
        return xs_seterr(err, XS_ECONFIG, "no account '%s' in %s or %s",
                         c->cl.account, c->sysfile, u);
    if (c->sys_found || c->user_found)
        return xs_seterr(err, XS_ECONFIG, "no account '%s' in %s",
                         c->cl.account, c->sys_found ? c->sysfile : u);
    return xs_seterr(err, XS_ECONFIG,
                     "no account '%s': no config file (looked for %s%s%s)",
                     c->cl.account, *c->sysfile ? c->sysfile : "",
                     *c->sysfile && *u ? " and " : "", u);
}

/* Settings: the command line, then the environment, then the file. */
static enum xs_err load_settings(struct cli *c, struct xs_error *err)
{
    enum xs_err e = XS_OK;
    int explicit = c->cl.config != NULL;
    const char *sys = getenv("XMPPSEND_SYSCONFIG");
    c->sysfile = xstrdup(sys != NULL ? sys : "/etc/xmppsend.conf");
    if (*c->sysfile != '\0')
        e = read_config(c->sysfile, 0, 1, &c->cfg, &c->sys_found, err);
    if (!explicit)
        c->cl.config = default_config();
    if (e == XS_OK && c->cl.config != NULL)
        e = read_config(c->cl.config, explicit, 0, &c->cfg, &c->user_found,
                        err);
    if (e == XS_OK && c->cl.account != NULL &&
        !config_has(&c->cfg, c->cl.account))
        e = no_account(c, err);
    if (e == XS_OK)
        e = config_select(&c->cfg, c->cl.account, &c->cf, err);
    if (e != XS_OK)
        return e;
    const char *ej = getenv("XMPPSEND_JID");
    if (!opt_isset(&c->cl, O_JID) && ej != NULL) {
        settings_set(&c->cl.jid, ej);
        c->cl.set |= 1UL << O_JID;
        c->cl.line[O_JID] = OPT_FROM_ENV;
    }
    settings_merge(&c->cl, &c->cf);
    quiet = c->cl.quiet;
    json_out = c->cl.json;
    return XS_OK;
}

/* ---------------------------------------------------------------- */
/* --pretend: the settings of the run, without connecting             */

/* One line of --pretend: key = value   # from */
struct pretend_line {
    const char *key;
    char *value, *from; /* allocated */
};

struct pretend {
    struct pretend_line l[O_COUNT + 8];
    size_t n;
};

static void
pretend_add(struct pretend *p, const char *key, const char *value, char *from)
{
    if (p->n >= sizeof p->l / sizeof p->l[0]) {
        free(from);
        return;
    }
    p->l[p->n].key = key;
    p->l[p->n].value = xstrdup(value);
    p->l[p->n++].from = from;
}

/* Where option 'id' of 's' came from (allocated). */
static char *pretend_from(const struct settings *s, enum opt_id id)
{
    if (!opt_isset(s, id))
        return xstrdup("default");
    if (s->line[id] > 0)
        return xasprintf("%s:%d",
                         s->from[id] ? s->from[id]
                         : s->file   ? s->file
                                     : "config",
                         s->line[id]);
    if (s->line[id] == OPT_FROM_ENV)
        return xstrdup("environment");
    return xstrdup("command line");
}

/* The password source get_password would use; never its value, and
 * nothing is run or read. */
static void pretend_password(struct cli *c, struct pretend *p)
{
    struct settings *cl = &c->cl, *cf = &c->cf;
    static const enum opt_id src[] = {O_PASSWORD_COMMAND, O_PASSWORD_FILE,
                                      O_PASSWORD_FD, O_PASSWORD};
    for (size_t k = 0; k < 2; k++) {
        struct settings *s = k == 0 ? cl : cf;
        for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
            if (*opt_str(s, src[i]) == NULL)
                continue;
            pretend_add(p, opt_table[src[i]].name,
                        src[i] == O_PASSWORD ? "*" : *opt_str(s, src[i]),
                        pretend_from(s, src[i]));
            return;
        }
        if (k == 0 && c->env_password != NULL) {
            pretend_add(p, "password", "*",
                        xstrdup("environment XMPPSEND_PASSWORD"));
            return;
        }
    }
    pretend_add(p, "password",
                cl->cert != NULL ? "(none: SASL EXTERNAL with --cert)"
                                 : "(asked on the terminal)",
                xstrdup("default"));
}

/* The SASL mechanisms in our order of preference, as sasl_select would
 * allow them (the server's offer decides among them). */
static void pretend_mechanisms(struct cli *c, struct pretend *p)
{
    struct settings *cl = &c->cl;
    struct xs_error e = {0};
    unsigned mask = 0;
    if (cl->mechanism == NULL ||
        sasl_mech_mask(cl->mechanism, &mask, &e) != XS_OK)
        for (int m = SASL_EXTERNAL; m <= SASL_SCRAM_SHA_512; m++)
            mask |= SASL_BIT(m);
    if (cl->cert == NULL)
        mask &= ~SASL_BIT(SASL_EXTERNAL);
    if (cl->insecure)
        mask &= ~(SASL_BIT(SASL_PLAIN) | SASL_BIT(SASL_DIGEST_MD5));
    char *names = sasl_mask_names(mask);
    pretend_add(p, "mechanisms", *names ? names : "(none)",
                cl->mechanism != NULL
                    ? pretend_from(cl, O_MECHANISM)
                    : xstrdup(opt_isset(cl, O_FAST) && !cl->fast
                                  ? "default; SCRAM as -PLUS when the server "
                                    "offers channel binding"
                                  : "default; SCRAM as -PLUS when the server "
                                    "offers channel binding; a stored FAST "
                                    "token first"));
    free(names);
}

/* The servers net_connect would try; no DNS lookup is done. */
static void pretend_servers(struct cli *c, struct pretend *p)
{
    struct settings *cl = &c->cl;
    struct jid j;
    const char *why = NULL;
    struct xs_error e = {0};
    int direct = cl->tls != NULL && strcmp(cl->tls, "direct") == 0;
    int starttls = cl->tls != NULL && strcmp(cl->tls, "starttls") == 0;
    char *host = NULL, *v;
    int port = 0;
    if (cl->server != NULL &&
        opts_parse_server(cl->server, &host, &port, &e) == XS_OK) {
        port = port != 0 ? port : direct ? NET_XMPPS_PORT : NET_XMPP_PORT;
        v = xasprintf("%s%s%s:%d (%s)", strchr(host, ':') ? "[" : "", host,
                      strchr(host, ':') ? "]" : "", port,
                      direct || (!starttls && port == NET_XMPPS_PORT)
                          ? "direct TLS"
                          : "STARTTLS");
        pretend_add(p, "servers", v, pretend_from(cl, O_SERVER));
        free(v);
        free(host);
        return;
    }
    if (cl->jid == NULL || jid_parse(cl->jid, &j, &why) != 0) {
        pretend_add(p, "servers", "(no account JID)", xstrdup("default"));
        return;
    }
    /* The names DNS is asked for: A-labels (jid.c). */
    char *d = jid_domain_alabel(j.domain);
    if (direct)
        v = xasprintf("SRV _xmpps-client._tcp.%s, then %s:%d", d, d,
                      NET_XMPPS_PORT);
    else if (starttls)
        v = xasprintf("SRV _xmpp-client._tcp.%s, then %s:%d", d, d,
                      NET_XMPP_PORT);
    else
        v = xasprintf("SRV _xmpps-client._tcp.%s, _xmpp-client._tcp.%s, "
                      "then %s:%d",
                      d, d, d, NET_XMPP_PORT);
    pretend_add(p, "servers", v,
                xstrdup("from the JID's domain; no DNS lookup done"));
    free(v);
    free(d);
    jid_free(&j);
}

static void pretend_print(const struct pretend *p, struct cli *c)
{
    const char *files[2] = {c->sysfile, c->cl.config};
    int found[2] = {c->sys_found, c->user_found};
    if (json_out) {
        fputs("{\"pretend\":true,\"files\":[", stdout);
        for (int k = 0, n = 0; k < 2; k++) {
            if (files[k] == NULL || *files[k] == '\0')
                continue;
            printf("%s{\"path\":", n++ ? "," : "");
            json_str(stdout, files[k]);
            printf(",\"kind\":\"%s\",\"read\":%s}", k ? "user" : "system",
                   found[k] ? "true" : "false");
        }
        fputs("],\"settings\":{", stdout);
        for (size_t i = 0; i < p->n; i++) {
            printf("%s\"%s\":{\"value\":", i ? "," : "", p->l[i].key);
            json_str(stdout, p->l[i].value);
            fputs(",\"from\":", stdout);
            json_str(stdout, p->l[i].from);
            fputc('}', stdout);
        }
        puts("}}");
        return;
    }
    for (int k = 0; k < 2; k++) {
        if (files[k] == NULL || *files[k] == '\0')
            continue;
        char *f = text_printable(files[k], strlen(files[k]), 400);
        printf("# %s config file %s%s\n", k ? "user" : "system", f,
               found[k] ? "" : " (not found)");
        free(f);
    }
    for (size_t i = 0; i < p->n; i++) {
        char *v = text_printable(p->l[i].value, strlen(p->l[i].value), 400);
        char *f = text_printable(p->l[i].from, strlen(p->l[i].from), 400);
        printf("%-16s = %-30s # %s\n", p->l[i].key, v, f);
        free(v);
        free(f);
    }
}

/*
 * --pretend: the effective settings, one "key = value   # origin" line
 * each (the file and line, "command line", "environment" or "default"),
 * the password source with the password as '*', the mechanism order and
 * the servers to try; exit 0 without connecting, reading the body,
 * running a password command or looking up DNS.
 */
static enum xs_err pretend(struct cli *c, struct xs_error *err)
{
    struct settings *cl = &c->cl;
    struct pretend p = {.n = 0};
    enum xs_err e = opts_check(cl, err);
    if (e != XS_OK)
        return e;
    if (cl->account != NULL) {
        pretend_add(&p, "account", cl->account, xstrdup("command line"));
    } else {
        for (size_t i = 0; i < c->cfg.nacc; i++)
            if (strcmp(c->cfg.acc[i].name, "default") == 0)
                pretend_add(
                    &p, "account", "default",
                    xasprintf("%s:%d", c->cfg.acc[i].file, c->cfg.acc[i].line));
    }
    for (int i = 0; i < O_COUNT; i++) {
        enum opt_id id = (enum opt_id)i;
        const struct opt *o = &opt_table[i];
        if (id == O_ACCOUNT || id == O_CONFIG || id == O_MESSAGE ||
            id == O_PRETEND || id == O_PASSWORD || id == O_PASSWORD_FD ||
            id == O_PASSWORD_COMMAND || id == O_PASSWORD_FILE)
            continue;
        if (o->kind == OPT_FLAG && (opt_isset(cl, id) || o->config)) {
            /* Flags on by default say "(default)" in their help line. */
            int on = opt_isset(cl, id) ? *opt_flag(cl, id)
                                       : strstr(o->help, "(default)") != NULL;
            pretend_add(&p, o->name, on ? "on" : "off", pretend_from(cl, id));
        } else if (o->kind == OPT_STRING && *opt_str(cl, id) != NULL) {
            char *v = xstrdup(*opt_str(cl, id));
            for (char *q = v; *q; q++)
                if (*q == '\n')
                    *q = ' ';
            pretend_add(&p, o->name, id == O_ROOM_PASSWORD ? "*" : v,
                        pretend_from(cl, id));
            free(v);
        } else if (id == O_TIMEOUT || id == O_TYPE) {
            pretend_add(&p, o->name, id == O_TIMEOUT ? "30" : "chat",
                        xstrdup("default"));
        }
    }
    pretend_password(c, &p);
    pretend_mechanisms(c, &p);
    pretend_servers(c, &p);
    pretend_print(&p, c);
    for (size_t i = 0; i < p.n; i++) {
        free(p.l[i].value);
        free(p.l[i].from);
    }
    return XS_OK;
}

/* ---------------------------------------------------------------- */
/* Step 3: build the job                                             */

/* -u FILE: every file opened and checked before connecting. */
static enum xs_err open_uploads(struct cli *c, struct xs_error *err)
{
    struct job *job = &c->job;
    if (c->cl.nuploads == 0)
        return XS_OK;
    if (c->cl.roster)
        return xs_seterr(err, XS_EUSAGE,
                         "cannot use both --roster and --upload");
    if (c->cl.raw)
        return xs_seterr(err, XS_EUSAGE, "cannot use both --raw and --upload");
    if (c->cl.receipt != NULL || c->cl.wait != NULL)
        return xs_seterr(err, XS_EUSAGE,
                         "--receipt and --wait do not apply to --upload");
    job->up = xcalloc(c->cl.nuploads, sizeof *job->up);
    for (size_t i = 0; i < c->cl.nuploads; i++)
        job->up[i].fd = -1;
    for (size_t i = 0; i < c->cl.nuploads; i++) {
        job->nup++;
        job->up[i].path = c->cl.uploads[i];
        enum xs_err e = upload_open(&job->up[i], err);
        if (e != XS_OK)
            return e;
    }
    return XS_OK;
}

/* Given on the command line (not from the config file)? */
static int on_cli(struct settings *cl, enum opt_id id)
{
    if (!opt_isset(cl, id) || cl->line[id] != OPT_FROM_CLI)
        return 0;
    return opt_table[id].kind != OPT_FLAG || *opt_flag(cl, id);
}

/* --raw, --receipt, --wait, --message-file, --skip-empty: what goes with
 * what, and their values. */
static enum xs_err sendx_options(struct cli *c, struct xs_error *err)
{
    struct settings *cl = &c->cl;
    static const enum opt_id not_raw[] = {O_MESSAGE, O_MESSAGE_FILE, O_SUBJECT,
                                          O_THREAD,  O_TYPE,         O_RECEIPT,
                                          O_WAIT,    O_SKIP_EMPTY,   O_ROSTER};
    static const enum opt_id not_roster[] = {O_MESSAGE_FILE, O_RECEIPT, O_WAIT,
                                             O_SKIP_EMPTY};
    for (size_t i = 0; cl->raw && i < sizeof not_raw / sizeof *not_raw; i++) {
        if (on_cli(cl, not_raw[i]))
            return xs_seterr(err, XS_EUSAGE, "cannot use both --raw and --%s",
                             opt_table[not_raw[i]].name);
    }
    if (cl->raw && (c->nrcpt > 0 || cl->chatroom != NULL))
        return xs_seterr(err, XS_EUSAGE,
                         "--raw takes no recipients (the stanzas name them)");
    for (size_t i = 0; cl->roster && i < sizeof not_roster / sizeof *not_roster;
         i++) {
        if (on_cli(cl, not_roster[i]))
            return xs_seterr(err, XS_EUSAGE,
                             "cannot use both --roster and --%s",
                             opt_table[not_roster[i]].name);
    }
    if (cl->message != NULL && cl->message_file != NULL)
        return xs_seterr(err, XS_EUSAGE,
                         "cannot use both --message and --message-file");
    /* checked by opts_check: "" or 1 to 86400 */
    if (cl->receipt != NULL)
        c->job.receipt_s =
            *cl->receipt ? (int)strtol(cl->receipt, NULL, 10) : 10;
    if (cl->wait != NULL)
        c->job.wait_s = (int)strtol(cl->wait, NULL, 10);
    /* "--receipt 5 bob@example.org": the 5 is a recipient (a domain). */
    for (int i = 0; cl->receipt != NULL && !*cl->receipt && i < c->nrcpt; i++) {
        if (c->rcpt[i][strspn(c->rcpt[i], "0123456789")] == '\0')
            return xs_seterr(err, XS_EUSAGE,
                             "recipient '%.20s' looks like seconds: write "
                             "--receipt=%.20s",
                             c->rcpt[i], c->rcpt[i]);
    }
    receipts_on = c->job.receipt_s > 0;
    return XS_OK;
}

static int is_room_uri(const char *arg)
{
    char *room = muc_uri_room(arg);
    free(room);
    return room != NULL;
}

/* The group chats: -c values (checked), then xmpp:ROOM?join operands. */
static enum xs_err build_rooms(struct cli *c, struct xs_error *err)
{
    const char *v = c->cl.chatroom;
    size_t max = (size_t)c->nrcpt + 1;
    for (const char *p = v; p != NULL && *p; p++)
        max += *p == '\n';
    c->rooms = xcalloc(max + 1, sizeof *c->rooms);
    while (v != NULL) {
        size_t n = strcspn(v, "\n");
        c->rooms[c->nrooms++] = xstrndup(v, n);
        v = v[n] != '\0' ? v + n + 1 : NULL;
    }
    for (int i = 0; i < c->nrcpt; i++) {
        char *room = muc_uri_room(c->rcpt[i]);
        struct jid j;
        const char *why = NULL;
        if (room == NULL)
            continue;
        if (jid_parse(room, &j, &why) != 0 || j.local == NULL ||
            j.resource != NULL) {
            if (why == NULL)
                jid_free(&j);
            char *p = text_printable(c->rcpt[i], strlen(c->rcpt[i]), 200);
            xs_seterr(err, XS_EDATA, "invalid room in '%s': %s", p,
                      why ? why : "want xmpp:ROOM@SERVICE?join");
            free(p);
            free(room);
            return XS_EDATA;
        }
        jid_free(&j);
        c->rooms[c->nrooms++] = room;
    }
    if (c->nrooms > 0 && c->cl.subject != NULL)
        return xs_seterr(err, XS_EUSAGE,
                         "cannot send --subject to a group chat (it would "
                         "change the room's subject)");
    static const enum opt_id not_rooms[] = {O_UPLOAD, O_EACH_LINE, O_RECEIPT,
                                            O_WAIT};
    const int on[] = {c->cl.nuploads > 0, c->cl.each_line,
                      c->cl.receipt != NULL, c->cl.wait != NULL};
    for (size_t i = 0; c->nrooms > 0 && i < sizeof on / sizeof on[0]; i++) {
        if (on[i])
            return xs_seterr(err, XS_EUSAGE,
                             "cannot use both a group chat and --%s",
                             opt_table[not_rooms[i]].name);
    }
    return XS_OK;
}

/* Read --cert or --key (the key: msmtp's check_secure, as a password
 * file) into memory with read(2). */
static enum xs_err read_pem(const char *opt,
                            const char *path,
                            int secret,
                            char **out,
                            size_t *len,
                            struct xs_error *err)
{
    struct xs_error rerr = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return xs_seterr(err, XS_ENOINPUT, "cannot open --%s %s: %s", opt, path,
                         strerror(errno));
    /* Owned by the user, not writable by others; a key also not
     * readable by them (pw_check_secure's words are a password's). */
    enum xs_err e = pw_check_secure(path, fd, 0, err);
    struct stat st;
    if (e == XS_OK && secret && fstat(fd, &st) == 0 &&
        (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        e = xs_seterr(err, XS_ECONFIG,
                      "--key %s is a private key but accessible by group or "
                      "others (mode %04o); run: chmod 600 %s",
                      path, (unsigned)(st.st_mode & 07777), path);
    if (e == XS_OK) {
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        e = pw_read_fd(fd, 1 << 20, out, len, &rerr);
        if (e != XS_OK)
            xs_seterr(err, e, "--%s %s: %s", opt, path, rerr.msg);
    }
    close(fd);
    return e;
}

/* --cert and --key (EXTERNAL), --mechanism. */
static enum xs_err client_auth(struct cli *c, struct xs_error *err)
{
    struct settings *cl = &c->cl;
    struct job *job = &c->job;
    if (cl->mechanism != NULL &&
        sasl_mech_mask(cl->mechanism, &job->cfg.mechanisms, err) != XS_OK)
        return err->code;
    if ((cl->cert != NULL) != (cl->key != NULL))
        return xs_seterr(err, XS_EUSAGE, "--%s needs --%s",
                         cl->cert != NULL ? "cert" : "key",
                         cl->cert != NULL ? "key" : "cert");
    if (cl->cert == NULL)
        return XS_OK;
    enum xs_err e =
        read_pem("cert", cl->cert, 0, &c->cert_pem, &c->cert_len, err);
    if (e == XS_OK)
        e = read_pem("key", cl->key, 1, &c->key_pem, &c->key_len, err);
    if (e != XS_OK)
        return e;
    job->tls.cert_pem = c->cert_pem;
    job->tls.cert_len = c->cert_len;
    job->tls.key_pem = c->key_pem;
    job->tls.key_len = c->key_len;
    job->cfg.client_cert = 1;
    return tls_check_client_cert(&job->tls, err);
}

static enum xs_err build_job(struct cli *c, struct xs_error *err)
{
    struct settings *cl = &c->cl;
    struct job *job = &c->job;
    const char *why = NULL;

    enum xs_err se = sendx_options(c, err);
    if (se != XS_OK)
        return se;
    if (cl->roster && (c->nrcpt > 0 || cl->chatroom != NULL))
        return xs_seterr(err, XS_EUSAGE, "--roster takes no recipients");
    if (!cl->roster && !cl->raw && c->nrcpt == 0 && cl->nseq == 0 &&
        cl->chatroom == NULL && !cl->serverinfo)
        return xs_seterr(err, XS_EUSAGE, "no recipient given");
    if (cl->jid == NULL && cl->account == NULL && c->cfg.nacc > 0 &&
        !config_has(&c->cfg, "default"))
        return xs_seterr(err, XS_EUSAGE,
                         "no account given (use -a ACCOUNT, -j JID or set "
                         "XMPPSEND_JID; the config files define no account "
                         "'default')");
    if (cl->jid == NULL)
        return xs_seterr(err, XS_EUSAGE,
                         "no account given (use -j JID or set XMPPSEND_JID)");
    /* Every value, now also those from the file and the environment. */
    enum xs_err e = opts_check(cl, err);
    if (e == XS_OK)
        e = roster_plan_build(cl->seq, cl->nseq, &job->plan, err);
    if (e != XS_OK)
        return e;
    if (job->plan.changed > 0 && !quiet)
        msg("warning: replaced or removed %zu invalid characters or escape "
            "sequences in --name or --group",
            job->plan.changed);
    if (cl->type == NULL)
        cl->type = xstrdup("chat");
    /* checked by opts_check: 1 to 86400 */
    c->timeout = cl->timeout != NULL ? (int)strtol(cl->timeout, NULL, 10) : 30;
    if (cl->pin != NULL && tls_pin_parse(cl->pin, c->pin) != 0)
        return xs_seterr(err, XS_ESOFTWARE, "--pin checked but not parsed");
    if (cl->insecure && cl->pin != NULL)
        return xs_seterr(err, XS_EUSAGE,
                         "cannot use both --insecure and --pin");
    if (cl->server != NULL &&
        opts_parse_server(cl->server, &job->host, &job->port, err) != XS_OK)
        return err->code;
    if (cl->tls != NULL) /* checked by opts_check */
        job->tls_mode =
            strcmp(cl->tls, "direct") == 0 ? NET_TLS_DIRECT : NET_TLS_STARTTLS;
    if (jid_parse(cl->jid, &c->me, &why) != 0 || c->me.local == NULL)
        return xs_seterr(err, XS_EDATA, "invalid account JID '%s': %s", cl->jid,
                         why ? why : "no localpart");
    e = build_rooms(c, err);
    if (e != XS_OK)
        return e;
    job->nr = 0;
    job->r = xcalloc((size_t)c->nrcpt + c->nrooms + 1, sizeof *job->r);
    for (int i = 0; i < c->nrcpt; i++) {
        struct jid r;
        if (is_room_uri(c->rcpt[i]))
            continue;
        if (jid_parse(c->rcpt[i], &r, &why) != 0) {
            char *p = text_printable(c->rcpt[i], strlen(c->rcpt[i]), 200);
            xs_seterr(err, XS_EDATA, "invalid recipient JID '%s': %s", p, why);
            free(p);
            return XS_EDATA;
        }
        /* RFC 7622 3.2: an internationalised domain goes out as
         * U-labels; servers take xn-- labels for another domain. */
        int idn = 0;
        for (const char *d = r.domain; *d != '\0'; d++)
            idn |= (unsigned char)*d >= 0x80;
        if (idn) {
            if (c->rcpt_idn == NULL)
                c->rcpt_idn = xcalloc((size_t)c->nrcpt, sizeof *c->rcpt_idn);
            c->rcpt_idn[i] = r.resource != NULL
                                 ? xasprintf("%s/%s", r.bare, r.resource)
                                 : xstrdup(r.bare);
        }
        jid_free(&r);
        job->r[job->nr++].jid = c->rcpt_idn != NULL && c->rcpt_idn[i] != NULL
                                    ? c->rcpt_idn[i]
                                    : c->rcpt[i];
    }
    for (size_t i = 0; i < c->nrooms; i++)
        job->r[job->nr + i].jid = c->rooms[i];
    job->nrooms = c->nrooms;
    job->muc.nick = cl->nick != NULL ? cl->nick : c->me.local;
    job->muc.password = cl->room_password;
    job->muc.create = cl->create_room;
    if (cl->cafile != NULL && access(cl->cafile, R_OK) != 0)
        return xs_seterr(err, XS_ENOINPUT, "cannot read --cafile %s: %s",
                         cl->cafile, strerror(errno));

    if ((e = client_auth(c, err)) != XS_OK)
        return e;
    if ((e = open_uploads(c, err)) != XS_OK)
        return e;
    job->roster = cl->roster;
    job->each_line = cl->each_line;
    if (cl->each_line) {
        static const char *const no_i[] = {
            "--roster", "--message", "--upload", "--message-file",
            "--raw",    "--receipt", "--wait",   "--skip-empty"};
        int on[] = {cl->roster,       cl->message != NULL,
                    cl->nuploads > 0, cl->message_file != NULL,
                    cl->raw,          cl->receipt != NULL,
                    cl->wait != NULL, cl->skip_empty};
        for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) {
            if (on[i])
                return xs_seterr(err, XS_EUSAGE,
                                 "cannot use both --each-line and %s", no_i[i]);
        }
    }
    job->m.type = cl->type;
    job->tls.domain = c->me.domain;
    job->tls.cafile = cl->cafile;
    job->tls.pin = cl->pin != NULL ? c->pin : NULL;
    job->tls.insecure = cl->insecure;
    job->cfg.jid = c->me.bare;
    job->cfg.resource = cl->resource != NULL ? cl->resource : c->me.resource;
    job->cfg.allow_plain = !cl->insecure;
    job->cfg.timeout_s = c->timeout;
    /* On unless turned off; run() keeps it for a plain send only. */
    job->cfg.pipeline_bind = !opt_isset(cl, O_PIPELINING) || cl->pipelining;
    job->cfg.pipeline_auth = job->cfg.pipeline_bind;
    if (cl->retry != NULL)
        (void)opts_parse_retry(cl->retry, &job->retries, &job->backoff_s);
    job->cfg.sasl2 = !opt_isset(cl, O_SASL2) || cl->sasl2;
    job->cfg.fast = job->cfg.sasl2 && (!opt_isset(cl, O_FAST) || cl->fast);
    if (cl->debug)
        job->cfg.trace = trace_cb;
    return XS_OK;
}

/* ---------------------------------------------------------------- */
/* Step 4: read the body                                             */

static enum xs_err too_big(struct xs_error *err)
{
    return xs_seterr(err, XS_EDATA,
                     "the message is larger than 1 MiB (%ld bytes), more than "
                     "servers accept",
                     MAX_BODY);
}

/* Read all of 'fd' ('name' for messages; bounded); trailing newlines
 * dropped. */
static enum xs_err read_body(
    int fd, const char *name, char **out, size_t *len, struct xs_error *err)
{
    struct buf b = {0};
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            buf_free(&b);
            return xs_seterr(err, XS_EIO, "cannot read %s: %s", name,
                             strerror(errno));
        }
        if (n == 0)
            break;
        /* Room for trailing newlines beyond the limit. */
        if (b.len + (size_t)n > (size_t)MAX_BODY + sizeof chunk) {
            buf_free(&b);
            return too_big(err);
        }
        buf_add(&b, chunk, (size_t)n);
    }
    while (b.len > 0 &&
           (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.data[--b.len] = '\0';
    buf_addstr(&b, ""); /* allocate even when empty */
    *out = b.data;
    *len = b.len;
    return XS_OK;
}

/* Sanitise 'src' into a new string *keep (also *dst); count changes. */
static void sanitize_into(
    const char **dst, char **keep, const char *src, size_t len, size_t *changed)
{
    size_t c = 0;
    *keep = text_sanitize(src, len, &c);
    *dst = *keep;
    *changed += c;
}

static int blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

/* go-sendxmpp reads -m FILE as the file's content; we send the text.
 * Say so when the text names a file. */
static void warn_file_body(const char *m)
{
    struct stat st;
    if (quiet || *m == '\0' || strchr(m, '\n') != NULL || stat(m, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return;
    char *p = text_printable(m, strlen(m), 200);
    msg("warning: the message is the text '%s', which is also the name of a "
        "file; to send the file's content, use: xmppsend ... < %s",
        p, p);
    free(p);
}

/* --message-file: the body from a file, read as standard input is. */
static enum xs_err read_message_file(struct cli *c, struct xs_error *err)
{
    const char *f = c->cl.message_file;
    char *p = text_printable(f, strlen(f), 200);
    struct stat st;
    enum xs_err e = XS_OK;
    int fd = open(f, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        e = xs_seterr(err, XS_ENOINPUT, "cannot open --message-file %s: %s", p,
                      strerror(errno));
    else if (fstat(fd, &st) != 0)
        e = xs_seterr(err, XS_ENOINPUT, "cannot read --message-file %s: %s", p,
                      strerror(errno));
    else if (S_ISDIR(st.st_mode))
        e = xs_seterr(err, XS_ENOINPUT,
                      "cannot read --message-file %s: a directory", p);
    else
        e = read_body(fd, p, &c->body, &c->body_len, err);
    if (fd >= 0)
        close(fd);
    free(p);
    return e;
}

/* --raw: the stanzas from standard input, checked before connecting. */
static enum xs_err read_raw(struct cli *c, struct xs_error *err)
{
    enum xs_err e;
    if (isatty(STDIN_FILENO))
        return xs_seterr(err, XS_EUSAGE,
                         "--raw reads the stanzas from standard input");
    c->stdin_used = 1;
    e = read_body(STDIN_FILENO, "standard input", &c->body, &c->body_len, err);
    if (e == XS_OK && c->body_len > (size_t)MAX_BODY)
        e = too_big(err);
    if (e == XS_OK)
        e = raw_parse(c->body, c->body_len, &c->job.raw, err);
    return e;
}

/* The body, completely, before connecting. */
static enum xs_err read_message(struct cli *c, struct xs_error *err)
{
    struct settings *cl = &c->cl;
    struct xmpp_message *m = &c->job.m;
    enum xs_err e;
    size_t changed = 0;
    if (cl->raw)
        return read_raw(c, err);
    if (cl->roster || (c->nrcpt == 0 && cl->chatroom == NULL))
        return XS_OK; /* roster actions only */
    if (cl->each_line) {
        /* -i: lines.c reads stdin; the subject and thread are for every
         * line. */
        c->stdin_used = 1;
        if (cl->subject != NULL)
            sanitize_into(&m->subject, &c->san_subject, cl->subject,
                          strlen(cl->subject), &changed);
        if (cl->thread != NULL)
            sanitize_into(&m->thread, &c->san_thread, cl->thread,
                          strlen(cl->thread), &changed);
        return XS_OK;
    }
    if (cl->message_file != NULL) {
        if ((e = read_message_file(c, err)) != XS_OK)
            return e;
    } else if (cl->message != NULL) {
        c->body = xstrdup(cl->message);
        c->body_len = strlen(c->body);
        warn_file_body(c->body);
    } else if (isatty(STDIN_FILENO) && c->job.nup > 0) {
        c->body = xstrdup(""); /* files only */
    } else if (isatty(STDIN_FILENO)) {
        return xs_seterr(err, XS_EUSAGE,
                         "no message: use -m TEXT or pipe it on standard "
                         "input");
    } else {
        c->stdin_used = 1;
        e = read_body(STDIN_FILENO, "standard input", &c->body, &c->body_len,
                      err);
        if (e != XS_OK)
            return e;
    }
    if (c->body_len > (size_t)MAX_BODY)
        return too_big(err);
    sanitize_into(&m->body, &c->san_body, c->body, c->body_len, &changed);
    if (cl->subject != NULL)
        sanitize_into(&m->subject, &c->san_subject, cl->subject,
                      strlen(cl->subject), &changed);
    if (cl->thread != NULL)
        sanitize_into(&m->thread, &c->san_thread, cl->thread,
                      strlen(cl->thread), &changed);
    if (blank(m->body) && m->subject == NULL && c->job.nup == 0 &&
        cl->skip_empty) {
        c->skip = 1; /* nothing to send: no password, no connection */
        return XS_OK;
    }
    if (blank(m->body) && m->subject == NULL && c->job.nup == 0)
        return xs_seterr(err, XS_EDATA, "the message is empty%s",
                         *m->body ? " (only white space)" : "");
    if (changed > 0 && !quiet)
        msg("warning: replaced or removed %zu invalid characters or "
            "escape sequences in the message",
            changed);
    return XS_OK;
}

/* ---------------------------------------------------------------- */
/* Step 5: get the password                                          */

/* --password-fd N (checked: a number); not standard input when the
 * message comes from there. */
static enum xs_err
password_fd(struct cli *c, long long deadline, char **out, struct xs_error *err)
{
    int fd = (int)strtol(c->cl.password_fd, NULL, 10);
    if (fd == STDIN_FILENO && c->stdin_used)
        return xs_seterr(err, XS_EUSAGE,
                         "--password-fd 0: standard input carries the "
                         "message; give the password on another descriptor");
    return pw_from_fd(fd, deadline, out, err);
}

/* The password, first source found wins (see usage).  The run's one
 * deadline starts here, after the body: a password command is bounded by
 * it too; a person typing at the prompt is not, so it starts again. */
static enum xs_err get_password(struct cli *c, struct xs_error *err)
{
    struct settings *cl = &c->cl, *cf = &c->cf;
    char **out = &c->password;
    long long deadline = xs_now_ms() + (long long)c->timeout * 1000;
    enum xs_err e;
    c->job.cfg.deadline = deadline;
    c->job.tls.deadline = deadline;
    if (cl->password_command != NULL)
        e = pw_from_command(cl->password_command, deadline, out, err);
    else if (cl->password_file != NULL)
        e = pw_from_file(cl->password_file, out, err);
    else if (cl->password_fd != NULL)
        e = password_fd(c, deadline, out, err);
    else if (cl->password != NULL)
        *out = xstrdup(cl->password), e = XS_OK;
    else if (c->env_password != NULL && *c->env_password == '\0')
        e = xs_seterr(err, XS_EUSAGE, "XMPPSEND_PASSWORD is empty");
    else if (c->env_password != NULL)
        *out = xstrdup(c->env_password), e = XS_OK;
    else if (cf->password_command != NULL)
        e = pw_from_command(cf->password_command, deadline, out, err);
    else if (cf->password_file != NULL)
        e = pw_from_file(cf->password_file, out, err);
    else if (cf->password != NULL)
        *out = xstrdup(cf->password), e = XS_OK;
    else if (c->job.cfg.client_cert)
        return XS_OK; /* EXTERNAL needs none; no prompt */
    else if ((e = pw_prompt(cl->jid, out, err)) == XS_OK) {
        deadline = xs_now_ms() + (long long)c->timeout * 1000;
        c->job.cfg.deadline = deadline;
        c->job.tls.deadline = deadline;
    }
    if (e == XS_OK && (*out == NULL || **out == '\0'))
        e = xs_seterr(err, XS_EUSAGE, "the password is empty");
    c->job.cfg.password = *out;
    return e;
}

/* ---------------------------------------------------------------- */
/* Step 6: run                                                       */

/* The progress bar of an upload: on a terminal only, one line redrawn
 * in place, ended when the file is done. */
static int bar_open;

static void progress_bar(void *ud,
                         const struct upload_file *f,
                         long long sent,
                         long long total)
{
    (void)ud;
    char *name = text_printable(f->name, strlen(f->name), 40);
    int pct = total > 0 ? (int)(sent * 100 / total) : 100;
    fprintf(stderr, "\r%-40s %3d%% %lld/%lld KiB", name, pct, sent / 1024,
            total / 1024);
    bar_open = sent < total;
    if (!bar_open)
        fputc('\n', stderr);
    fflush(stderr);
    free(name);
}

/*
 * -u FILE: upload every file, then send the messages: the body first
 * (when there is one) as its own message, then one message per file
 * whose body is the file's URL, with the same URL as XEP-0066 out of
 * band data (clients show such a message as the file inline).  Nothing
 * is sent when an upload fails.  Output: "uploaded FILE URL" lines, then
 * the result lines of each message (--json: one object per line, the
 * uploads first).
 */
static enum xs_err
run_upload(struct xmpp_session *s, struct job *job, struct xs_error *err)
{
    struct upload_opts o = {
        .cafile = job->tls.cafile,
        .insecure = job->tls.insecure,
        .deadline = job->cfg.deadline,
        .progress =
            !quiet && !json_out && isatty(STDERR_FILENO) ? progress_bar : NULL,
    };
    if (job->tls.insecure)
        msg("warning: --insecure: the upload server's certificate is not "
            "verified either");
    enum xs_err e = upload_run(s, &o, job->up, job->nup, err);
    if (bar_open)
        fputc('\n', stderr);
    if (e != XS_OK)
        return e;
    int with_body = !blank(job->m.body) || job->m.subject != NULL;
    size_t nmsg = job->nup + (size_t)with_body, nr = job->nr;
    struct xmpp_recipient *rr = xcalloc(nmsg * nr + 1, sizeof *rr);
    size_t sent = 0;
    for (size_t k = 0; k < nmsg && e == XS_OK; k++, sent++) {
        struct xmpp_message m = job->m;
        if (k >= (size_t)with_body) {
            const char *url = job->up[k - (size_t)with_body].get_url;
            m.body = m.oob_url = url;
            m.subject = NULL;
        }
        for (size_t i = 0; i < nr; i++)
            rr[k * nr + i].jid = job->r[i].jid;
        e = xmpp_send(s, &m, rr + k * nr, nr, err);
    }
    if (e == XS_OK) {
        if (json_out) {
            fputs("{\"uploads\":[", stdout);
            for (size_t i = 0; i < job->nup; i++) {
                fputs(i ? ",{\"file\":" : "{\"file\":", stdout);
                json_str(stdout, job->up[i].path);
                printf(",\"size\":%lld,\"url\":", job->up[i].size);
                json_str(stdout, job->up[i].get_url);
                fputc('}', stdout);
            }
            puts("]}");
        } else if (!quiet) {
            for (size_t i = 0; i < job->nup; i++) {
                char *p = text_printable(job->up[i].path,
                                         strlen(job->up[i].path), 4096);
                printf("uploaded\t%s\t%s\n", p, job->up[i].get_url);
                free(p);
            }
        }
        for (size_t k = 0; k < nmsg; k++) {
            enum xs_err w = report_send(rr + k * nr, nr);
            if (e == XS_OK)
                e = w;
        }
    }
    xmpp_recipients_clear(rr, sent * nr);
    free(rr);
    return e;
}

/* One result line (or JSON object) per roster action, as it is
 * confirmed: those of earlier actions stay when a later one fails. */
static void print_action_result(void *ud, const struct roster_action *a)
{
    (void)ud;
    if (json_out) {
        fputs("{\"ok\":true,\"action\":", stdout);
        json_str(stdout, roster_op_name(a->op));
        fputs(",\"jid\":", stdout);
        json_str(stdout, a->jid);
        fputs(",\"result\":", stdout);
        json_str(stdout, roster_result(a));
        puts("}");
    } else if (!quiet) {
        char *j = text_printable(a->jid, strlen(a->jid), 3072);
        printf("%s\t%s\n", roster_result(a), j);
        free(j);
    }
    fflush(stdout);
}

/* The roster and subscription actions, in command line order; with
 * --json, a failed action's object carries the error. */
static enum xs_err
run_actions(struct xmpp_session *s, struct roster_plan *p, struct xs_error *err)
{
    enum xs_err e = roster_run(s, p, print_action_result, NULL, err);
    for (size_t i = 0; e != XS_OK && json_out && i < p->n; i++) {
        if (!p->a[i].failed)
            continue;
        printf("{\"ok\":false,\"exit\":%d,\"action\":", exit_code(e));
        json_str(stdout, roster_op_name(p->a[i].op));
        fputs(",\"jid\":", stdout);
        json_str(stdout, p->a[i].jid);
        fputs(",\"result\":\"failed\",\"condition\":", stdout);
        json_str(stdout, p->a[i].condition);
        fputs(",\"error\":", stdout);
        json_str(stdout, err->msg);
        puts("}");
        json_reported = 1;
    }
    return e;
}

/* Line mode (-i): each message's result lines as without -i. */
static enum xs_err
lines_sent(void *ud, const struct xmpp_recipient *r, size_t n)
{
    (void)ud;
    enum xs_err e = report_send(r, n);
    fflush(stdout); /* as they come: the reader may be a pipe */
    return e;
}

/* A line not sent (one error line, and a JSON object), or a warning or
 * a lost connection (XS_OK, XS_ETEMP: unless --quiet). */
static void lines_note(void *ud, enum xs_err code, const char *text)
{
    (void)ud;
    if (code == XS_OK || code == XS_ETEMP) {
        if (!quiet)
            msg("%s", text);
        return;
    }
    msg("%s", text);
    if (json_out) {
        json_error(code, text);
        fflush(stdout);
    }
}

static enum xs_err run_lines(struct job *job, struct xs_error *err)
{
    struct lines_net net = {.domain = job->tls.domain,
                            .host = job->host,
                            .port = job->port,
                            .tls_mode = job->tls_mode,
                            .tls = &job->tls};
    struct lines_job lj = {.cfg = job->cfg,
                           .m = job->m,
                           .nr = job->nr,
                           .in_fd = STDIN_FILENO,
                           .timeout_s = job->cfg.timeout_s,
                           .max_attempts = 10,
                           .backoff_max_ms = 30000,
                           .idle_ms = 5000,
                           .connect = lines_net_connect,
                           .disconnect = lines_net_disconnect,
                           .sent = lines_sent,
                           .note = lines_note,
                           .ud = &net};
    const char **rcpt = xcalloc(job->nr + 1, sizeof *rcpt);
    for (size_t i = 0; i < job->nr; i++)
        rcpt[i] = job->r[i].jid;
    lj.rcpt = rcpt;
    enum xs_err e = lines_run(&lj, err);
    free(rcpt);
    return e;
}

/*
 * The account's state (state.h) for SASL2 and FAST.  A state that
 * cannot be used is a warning, not a failure: the message matters more
 * than the saved round trips.  Not with --insecure (no token on a
 * connection that is not verified).
 */
static void open_state(struct job *job, struct xs_state *st)
{
    struct xs_error serr = {0};
    memset(st, 0, sizeof *st);
    st->lockfd = -1;
    if (job->tls.insecure || (!job->cfg.sasl2 && !job->cfg.fast))
        return;
    enum xs_err e = state_open(NULL, job->cfg.jid, st, &serr);
    if (e == XS_EOS) {
        /* No writable state directory (a read-only home under cron):
         * runs work as before, one round trip slower; only -d says so. */
        if (job->cfg.trace != NULL) {
            char line[sizeof serr.msg + 64];
            snprintf(line, sizeof line, "%s; going on without it", serr.msg);
            job->cfg.trace(job->cfg.trace_ud, XMPP_TRACE_NOTE, line,
                           strlen(line));
        }
        return;
    }
    if (e != XS_OK) {
        /* A state file others could read or change: say it every run. */
        msg("warning: %s; going on without the saved login state", serr.msg);
        return;
    }
    state_client_id(st);
    job->cfg.state = st;
}

static void save_state(struct xs_state *st)
{
    struct xs_error serr = {0};
    if (state_save(st, &serr) != XS_OK)
        msg("warning: %s", serr.msg);
}

static enum xs_err run_session(struct job *job,
                               struct xs_state *st,
                               int *retry,
                               struct xs_error *err);

/* What a session did, for the log line: round trips are the TCP
 * handshake, the TLS handshake (1 for TLS 1.3, 2 for 1.2) and the
 * session's own waits for the server. */
static void note_stats(struct job *job, const struct xmpp_session *s)
{
    struct xmpp_stats st;
    xmpp_stats(s, &st);
    job->tls_version = st.tls;
    job->sasl2 = st.sasl2;
    snprintf(job->mech, sizeof job->mech, "%s", st.mech ? st.mech : "");
    job->round_trips += 1 + (st.tls == 12 ? 2 : st.tls ? 1 : 0) + st.flights;
}

/*
 * May a temporary failure be tried again (--retry)?  A plain send (to
 * users: what was confirmed is not sent again) and reading the roster
 * always; other jobs (roster changes, raw stanzas, uploads, rooms) only
 * when the login failed, before any of the job went out.
 */
static int retry_safe(const struct job *job, enum xs_err e)
{
    if (e != XS_ETEMP)
        return 0;
    if (!job->login_ok)
        return 1;
    return job->plan.n == 0 && job->nup == 0 && job->raw == NULL &&
           job->nrooms == 0;
}

static enum xs_err run(struct job *job, struct xs_error *err)
{
    if (job->tls.insecure)
        msg("warning: --insecure: the server's certificate is not "
            "verified; anyone on the path can read and change this "
            "session");
    job->ran = 1;
    if (job->each_line)
        return run_lines(job, err);
    struct xs_state st;
    int retry = 0;
    open_state(job, &st);
    enum xs_err e = run_session(job, &st, &retry, err);
    for (int n = 1; !retry && n <= job->retries && retry_safe(job, e); n++) {
        /* --retry: a temporary failure, again after BACKOFF * 2^(n-1)
         * seconds, within the run's deadline. */
        long long pause = 1000LL * job->backoff_s << (n - 1);
        if (xs_now_ms() + pause >= job->cfg.deadline)
            break;
        if (!quiet)
            msg("%s; trying again in %lld s (%d of %d)", err->msg, pause / 1000,
                n, job->retries);
        struct timespec ts = {(time_t)(pause / 1000),
                              (long)(pause % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        err->code = XS_OK;
        err->msg[0] = '\0';
        /* Confirmed or refused messages are not sent again; one whose
         * confirmation was lost goes again with its id. */
        for (size_t i = 0; i < job->nr; i++)
            job->r[i].handled = job->r[i].status != XMPP_PENDING;
        e = run_session(job, &st, &retry, err);
    }
    if (retry) {
        /* A pipelined FAST login guessed wrong (the server changed, or
         * refused the token): the server handled nothing of the job.
         * Once more, waiting for its features, with the password. */
        static const char again[] =
            "the pipelined login did not work; logging in again";
        if (job->cfg.trace != NULL)
            job->cfg.trace(job->cfg.trace_ud, XMPP_TRACE_NOTE, again,
                           sizeof again - 1);
        err->code = XS_OK;
        err->msg[0] = '\0';
        job->cfg.pipeline_auth = 0;
        e = run_session(job, &st, &retry, err);
    }
    save_state(&st);
    state_free(&st);
    job->cfg.state = NULL;
    return e;
}

/* One connection, login and the job; *retry: see xmpp_retry_login. */
static enum xs_err run_session(struct job *job,
                               struct xs_state *st,
                               int *retry,
                               struct xs_error *err)
{
    struct transport_slot slot = {&job->tls, NULL};
    enum xs_err e =
        net_connect(job->tls.domain, job->host, job->port, job->tls_mode,
                    job->cfg.deadline, transport_ready, &slot, err);
    if (e != XS_OK)
        return e;
    struct transport *t = slot.t;
    struct xs_io io;
    transport_io(t, &io);
    /* The bind request goes with the message when sending is the first
     * job (the others want the server's features first). */
    if (job->plan.n > 0 || job->roster || job->nup > 0 || job->raw != NULL ||
        job->nr == 0)
        job->cfg.pipeline_bind = 0;
    struct xmpp_session *s = xmpp_new(&job->cfg, &io);
    e = xmpp_login(s, err);
    job->login_ok = e == XS_OK;
    save_state(st); /* a new token is kept whatever the job does */
    if (e == XS_OK && job->si != NULL)
        e = serverinfo_login(s, job->si, err);
    if (e == XS_OK && job->plan.n > 0)
        e = run_actions(s, &job->plan, err);
    if (e == XS_OK && job->roster) {
        struct xmpp_roster ro;
        e = xmpp_roster(s, &ro, err);
        if (e == XS_OK)
            print_roster(&ro);
        xmpp_roster_free(&ro);
    } else if (e == XS_OK && job->nup > 0) {
        e = run_upload(s, job, err);
    } else if (e == XS_OK && job->raw != NULL) {
        e = raw_run(s, job->raw, err);
        if (e == XS_OK)
            e = report_raw(job->raw);
    } else if (e == XS_OK && job->nr + job->nrooms > 0) {
        int after = job->receipt_s > job->wait_s ? job->receipt_s : job->wait_s;
        receipts_init(&job->rc, &job->m, job->r, job->nr, job->receipt_s > 0);
        if (job->nr > 0)
            e = xmpp_send(s, &job->m, job->r, job->nr, err);
        if (e == XS_OK && after > 0)
            e = receipts_wait(s, &job->rc, xs_now_ms() + 1000LL * after,
                              job->cfg.deadline, err);
        if (e == XS_OK && job->nrooms > 0)
            e = muc_send(s, &job->muc, &job->m, job->r + job->nr, job->nrooms,
                         err);
        if (e == XS_OK)
            e = report_send(job->r, job->nr + job->nrooms);
    }
    *retry = e != XS_OK && xmpp_retry_login(s);
    note_stats(job, s);
    xmpp_close(s);
    xmpp_free(s);
    transport_free(t);
    return e;
}

/* ---------------------------------------------------------------- */
/* --serverinfo [DOMAIN] [--login]: what the servers offer            */

static const char *yes_no(int v)
{
    return v ? "yes" : "no";
}

/* "2026-11-28T00:00:00Z", or "unknown". */
static void utc_time(long long t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t < 0 || gmtime_r(&tt, &tm) == NULL ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "unknown");
}

static void
text_names(const char *key, const struct xmpp_names *l, const char *none)
{
    printf("  %s:", key);
    for (size_t i = 0; i < l->n; i++)
        printf(" %s", l->v[i]);
    printf("%s\n", l->n == 0 ? none : "");
}

static void json_names(const struct xmpp_names *l)
{
    fputc('[', stdout);
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0)
            fputc(',', stdout);
        json_str(stdout, l->v[i]);
    }
    fputc(']', stdout);
}

static void json_num(long long v)
{
    if (v < 0)
        fputs("null", stdout);
    else
        printf("%lld", v);
}

static void si_text_target(const struct serverinfo_target *t, size_t i)
{
    printf("target %zu: %s%s%s:%u (%s)\n", i + 1,
           strchr(t->host, ':') ? "[" : "", t->host,
           strchr(t->host, ':') ? "]" : "", t->port,
           t->direct ? "direct TLS" : "STARTTLS");
    if (t->has_tls) {
        const struct tls_info *x = &t->tls;
        printf("  tls: %s, %s%s%s\n", x->version, x->cipher,
               *x->group ? ", " : "", x->group);
        printf("  subject: %s\n", x->subject ? x->subject : "(none)");
        printf("  names:");
        for (size_t k = 0; k < x->nsan; k++)
            printf(" %s", x->san[k]);
        printf("%s\n", x->nsan == 0 ? " (none)" : "");
        printf("  issuer: %s\n", x->issuer ? x->issuer : "(none)");
        char nb[32], na[32];
        utc_time(x->not_before, nb);
        utc_time(x->not_after, na);
        printf("  valid: %s to %s\n", nb, na);
        printf("  pin: %s\n", x->pin);
        printf("  verified: %s%s%s\n", yes_no(x->verified), x->why ? ": " : "",
               x->why ? x->why : "");
    }
    if (t->has_features) {
        const struct xmpp_features *f = &t->f;
        text_names("sasl", &f->mechs, " (none)");
        text_names("channel-binding", &f->cbs,
                   f->cb_listed ? " (empty list)" : " (not listed)");
        if (f->sasl2)
            text_names("sasl2", &f->mechs2, " (no mechanisms)");
        else
            printf("  sasl2: no\n");
        printf("  bind2: %s%s\n", yes_no(f->bind2),
               f->bind2_sm ? " (with stream management)" : "");
        text_names("fast", &f->fast, " no");
        printf("  sm: %s\n", f->sm ? "yes" : f->bind2_sm ? "with bind2" : "no");
        printf("  limits:");
        if (f->max_bytes >= 0)
            printf(" max-bytes %lld", f->max_bytes);
        if (f->idle_seconds >= 0)
            printf(" idle-seconds %lld", f->idle_seconds);
        printf("%s\n",
               f->max_bytes < 0 && f->idle_seconds < 0 ? " (none)" : "");
        printf("  csi: %s\n  register: %s\n", yes_no(f->csi), yes_no(f->reg));
        if (f->other.n > 0)
            text_names("other", &f->other, "");
        printf("  login: %s\n", f->login ? f->login : "(none usable)");
    }
    printf("  result: %s\n", t->e == XS_OK ? "ok" : t->error);
}

static void si_json_target(const struct serverinfo_target *t)
{
    fputs("{\"host\":", stdout);
    json_str(stdout, t->host);
    printf(",\"port\":%u,\"kind\":\"%s\",\"connected\":%s", t->port,
           t->direct ? "direct" : "starttls", t->connected ? "true" : "false");
    fputs(",\"tls\":", stdout);
    if (t->has_tls) {
        const struct tls_info *x = &t->tls;
        fputs("{\"version\":", stdout);
        json_str(stdout, x->version);
        fputs(",\"cipher\":", stdout);
        json_str(stdout, x->cipher);
        fputs(",\"group\":", stdout);
        json_str(stdout, *x->group ? x->group : NULL);
        fputs(",\"subject\":", stdout);
        json_str(stdout, x->subject);
        fputs(",\"names\":[", stdout);
        for (size_t k = 0; k < x->nsan; k++) {
            if (k > 0)
                fputc(',', stdout);
            json_str(stdout, x->san[k]);
        }
        fputs("],\"issuer\":", stdout);
        json_str(stdout, x->issuer);
        char nb[32], na[32];
        utc_time(x->not_before, nb);
        utc_time(x->not_after, na);
        fputs(",\"not_before\":", stdout);
        json_str(stdout, nb);
        fputs(",\"not_after\":", stdout);
        json_str(stdout, na);
        fputs(",\"pin\":", stdout);
        json_str(stdout, x->pin);
        printf(",\"verified\":%s,\"why\":", x->verified ? "true" : "false");
        json_str(stdout, x->why);
        fputc('}', stdout);
    } else {
        fputs("null", stdout);
    }
    fputs(",\"features\":", stdout);
    if (t->has_features) {
        const struct xmpp_features *f = &t->f;
        fputs("{\"from\":", stdout);
        json_str(stdout, f->from);
        fputs(",\"sasl\":", stdout);
        json_names(&f->mechs);
        fputs(",\"channel_binding\":", stdout);
        if (f->cb_listed)
            json_names(&f->cbs);
        else
            fputs("null", stdout);
        fputs(",\"sasl2\":", stdout);
        if (f->sasl2)
            json_names(&f->mechs2);
        else
            fputs("null", stdout);
        printf(",\"bind2\":%s,\"bind2_sm\":%s,\"fast\":",
               f->bind2 ? "true" : "false", f->bind2_sm ? "true" : "false");
        json_names(&f->fast);
        printf(",\"sm\":%s,\"csi\":%s,\"register\":%s,\"max_bytes\":",
               f->sm ? "true" : "false", f->csi ? "true" : "false",
               f->reg ? "true" : "false");
        json_num(f->max_bytes);
        fputs(",\"idle_seconds\":", stdout);
        json_num(f->idle_seconds);
        fputs(",\"other\":", stdout);
        json_names(&f->other);
        fputs(",\"login\":", stdout);
        json_str(stdout, f->login);
        fputc('}', stdout);
    } else {
        fputs("null", stdout);
    }
    printf(",\"ok\":%s,\"error\":", t->e == XS_OK ? "true" : "false");
    json_str(stdout, t->e == XS_OK ? NULL : t->error);
    fputc('}', stdout);
}

/* The report, whatever was gathered; with --json its one object also
 * carries the run's outcome (the error line still goes to stderr). */
static void print_serverinfo(const struct serverinfo *si,
                             int login,
                             enum xs_err e,
                             const struct xs_error *err)
{
    if (json_out) {
        fputs("{\"domain\":", stdout);
        json_str(stdout, si->domain);
        printf(",\"ok\":%s,\"exit\":%d,\"error\":",
               e == XS_OK ? "true" : "false", exit_code(e));
        json_str(stdout, e == XS_OK ? NULL : err->msg);
        fputs(",\"targets\":[", stdout);
        for (size_t i = 0; i < si->n; i++) {
            if (i > 0)
                fputc(',', stdout);
            si_json_target(&si->t[i]);
        }
        fputc(']', stdout);
        if (login) {
            fputs(",\"login\":", stdout);
            if (si->logged_in) {
                fputs("{\"jid\":", stdout);
                json_str(stdout, si->bound_jid);
                fputs(",\"upload\":", stdout);
                json_str(stdout, si->upload);
                fputs(",\"upload_max\":", stdout);
                json_num(si->upload ? si->upload_max : -1);
                fputs(",\"muc\":", stdout);
                json_str(stdout, si->muc);
                fputc('}', stdout);
            } else {
                fputs("null", stdout);
            }
        }
        puts("}");
        json_reported = 1;
        return;
    }
    if (quiet)
        return;
    printf("domain: %s\n", si->domain);
    for (size_t i = 0; i < si->n; i++)
        si_text_target(&si->t[i], i);
    if (login && si->logged_in) {
        char max[48] = "";
        if (si->upload != NULL && si->upload_max >= 0)
            snprintf(max, sizeof max, " (max-file-size %lld)", si->upload_max);
        printf("login:\n  jid: %s\n  upload: %s%s\n  muc: %s\n",
               si->bound_jid ? si->bound_jid : "(none)",
               si->upload ? si->upload : "(none)", max,
               si->muc ? si->muc : "(none)");
    }
}

/* The domain asked about: the operand, else the account's. */
static enum xs_err
serverinfo_domain(struct cli *c, char **domain, struct xs_error *err)
{
    const char *why = NULL;
    struct jid j;
    const char *src = c->nrcpt == 1 ? c->rcpt[0] : c->cl.jid;
    if (src == NULL)
        return xs_seterr(err, XS_EUSAGE,
                         "--serverinfo needs a DOMAIN or an account (-j JID)");
    if (jid_parse(src, &j, &why) != 0) {
        char *p = text_printable(src, strlen(src), 200);
        xs_seterr(err, XS_EDATA, "invalid %s '%s': %s",
                  c->nrcpt == 1 ? "domain" : "account JID", p, why ? why : "");
        free(p);
        return XS_EDATA;
    }
    if (c->nrcpt == 1 && (j.local != NULL || j.resource != NULL)) {
        jid_free(&j);
        return xs_seterr(err, XS_EUSAGE,
                         "--serverinfo takes a domain, not a JID");
    }
    *domain = xstrdup(j.domain);
    jid_free(&j);
    return XS_OK;
}

/* The settings a probe needs (without --login no account is needed). */
static enum xs_err serverinfo_settings(struct cli *c, struct xs_error *err)
{
    struct settings *cl = &c->cl;
    struct job *job = &c->job;
    enum xs_err e = opts_check(cl, err);
    if (e != XS_OK)
        return e;
    c->timeout = cl->timeout != NULL ? (int)strtol(cl->timeout, NULL, 10) : 30;
    if (cl->pin != NULL && tls_pin_parse(cl->pin, c->pin) != 0)
        return xs_seterr(err, XS_ESOFTWARE, "--pin checked but not parsed");
    if (cl->server != NULL &&
        opts_parse_server(cl->server, &job->host, &job->port, err) != XS_OK)
        return err->code;
    if (cl->tls != NULL)
        job->tls_mode =
            strcmp(cl->tls, "direct") == 0 ? NET_TLS_DIRECT : NET_TLS_STARTTLS;
    if (cl->cafile != NULL && access(cl->cafile, R_OK) != 0)
        return xs_seterr(err, XS_ENOINPUT, "cannot read --cafile %s: %s",
                         cl->cafile, strerror(errno));
    if (cl->mechanism != NULL &&
        sasl_mech_mask(cl->mechanism, &job->cfg.mechanisms, err) != XS_OK)
        return err->code;
    job->tls.cafile = cl->cafile;
    job->tls.pin = cl->pin != NULL ? c->pin : NULL;
    job->tls.insecure = cl->insecure;
    job->cfg.resource = cl->resource;
    job->cfg.sasl2 = !opt_isset(cl, O_SASL2) || cl->sasl2;
    if (cl->debug)
        job->cfg.trace = trace_cb;
    job->cfg.deadline = xs_now_ms() + (long long)c->timeout * 1000;
    job->tls.deadline = job->cfg.deadline;
    return XS_OK;
}

/*
 * --serverinfo: probe every server of the domain (never a login on
 * those connections), then with --login a normal run whose job reads
 * the bound JID and the services.  The report is printed whatever
 * happened; the exit status is the send's.
 */
static enum xs_err serverinfo_cmd(struct cli *c, struct xs_error *err)
{
    struct settings *cl = &c->cl;
    static const char *const no_names[] = {
        "--roster",    "--raw",     "--upload", "--chatroom",
        "--each-line", "--message", "--pretend"};
    int no[] = {cl->roster,           cl->raw,       cl->nuploads > 0,
                cl->chatroom != NULL, cl->each_line, cl->message != NULL,
                cl->pretend};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        if (no[i])
            return xs_seterr(err, XS_EUSAGE,
                             "cannot use both --serverinfo and %s",
                             no_names[i]);
    }
    if (cl->nseq > 0)
        return xs_seterr(err, XS_EUSAGE,
                         "cannot use both --serverinfo and roster actions");
    if (c->nrcpt > 1)
        return xs_seterr(err, XS_EUSAGE, "--serverinfo takes one DOMAIN");
    char *domain = NULL;
    enum xs_err e = serverinfo_domain(c, &domain, err);
    if (e == XS_OK && cl->login) {
        /* The login is the account's, to the account's own domain. */
        struct jid j;
        if (cl->jid == NULL || jid_parse(cl->jid, &j, NULL) != 0) {
            e = xs_seterr(err, XS_EUSAGE,
                          "--login needs an account (-j JID or -a NAME)");
        } else {
            if (strcmp(j.domain, domain) != 0)
                e = xs_seterr(err, XS_EUSAGE,
                              "--login: DOMAIN is not the account's (%s)",
                              j.domain);
            jid_free(&j);
        }
        c->nrcpt = 0;
        if (e == XS_OK)
            e = build_job(c, err);
        if (e == XS_OK)
            e = get_password(c, err);
    } else if (e == XS_OK) {
        e = serverinfo_settings(c, err);
    }
    if (e != XS_OK) {
        free(domain);
        return e;
    }
    struct serverinfo si;
    struct jid acct = {0};
    int have_acct = cl->jid != NULL && jid_parse(cl->jid, &acct, NULL) == 0;
    struct serverinfo_opts o = {.account =
                                    have_acct && acct.local != NULL &&
                                            strcmp(acct.domain, domain) == 0
                                        ? acct.bare
                                        : NULL,
                                .host = c->job.host,
                                .port = c->job.port,
                                .tls_mode = c->job.tls_mode,
                                .tls = c->job.tls,
                                .cfg = c->job.cfg};
    o.tls.domain = domain;
    e = serverinfo_probe(&o, &si, err);
    if (e == XS_OK && cl->login) {
        c->job.si = &si;
        e = run(&c->job, err);
        c->job.si = NULL;
    }
    print_serverinfo(&si, cl->login, e, err);
    serverinfo_free(&si);
    if (have_acct)
        jid_free(&acct);
    free(domain);
    return e;
}

/* ---------------------------------------------------------------- */
/* Step 7: finish                                                    */

/* The exit status of 'e', after its one error line (and JSON object). */
static int report(const struct xs_error *err, enum xs_err e)
{
    if (e == XS_OK || err->code == XS_OK)
        return exit_code(e);
    if (e == XS_EUSAGE) {
        msg("%s (try 'xmppsend -h')", err->msg);
        return exit_code(e);
    }
    msg("%s", err->msg);
    if (json_out && !json_reported)
        json_error(e, err->msg);
    return exit_code(e);
}

/* --log and --syslog: one line for a run that tried to connect.  A
 * log that cannot be written is a warning: the run's outcome stands. */
static void log_run(struct cli *c, int rc, const struct xs_error *err)
{
    const struct job *job = &c->job;
    if (!job->ran || (c->cl.log == NULL && c->cl.syslog == NULL))
        return;
    size_t n = job->nr + job->nrooms;
    const char **rcpt = xcalloc(n + 1, sizeof *rcpt);
    int *failed = xcalloc(n + 1, sizeof *failed);
    for (size_t i = 0; i < n; i++) {
        rcpt[i] = job->r[i].jid;
        failed[i] = job->r[i].status == XMPP_FAILED;
    }
    char *server = job->host != NULL ? xasprintf("%s:%d", job->host,
                                                 job->port ? job->port : 5222)
                                     : xasprintf("%s (SRV)", c->me.domain);
    struct runlog r = {.account = c->me.bare,
                       .server = server,
                       .tls = job->tls_version,
                       .mech = job->mech[0] ? job->mech : NULL,
                       .sasl2 = job->sasl2,
                       .rcpt = rcpt,
                       .failed = failed,
                       .nrcpt = n,
                       .bytes = c->body_len,
                       .round_trips = job->round_trips,
                       .exitcode = rc,
                       .error = err->code != XS_OK ? err->msg : NULL};
    struct buf line = {0};
    struct xs_error lerr = {0};
    if (c->cl.log != NULL) {
        runlog_format(&r, 1, &line);
        if (runlog_append(c->cl.log, line.data, &lerr) != XS_OK)
            msg("warning: %s", lerr.msg);
        buf_free(&line);
    }
    if (c->cl.syslog != NULL) {
        runlog_format(&r, 0, &line);
        runlog_syslog(c->cl.syslog[0] ? runlog_facility(c->cl.syslog)
                                      : runlog_facility("user"),
                      rc != 0, line.data);
        buf_free(&line);
    }
    free(server);
    free(rcpt);
    free(failed);
}

static int finish(struct cli *c, int rc)
{
    xs_free_secret(c->password);
    xs_free_secret(c->env_password);
    free(c->cert_pem);
    if (c->key_pem != NULL) {
        xs_wipe(c->key_pem, c->key_len);
        free(c->key_pem);
    }
    xs_free_secret(c->body);
    xs_free_secret(c->san_body);
    free(c->san_subject);
    free(c->san_thread);
    if (c->job.r != NULL)
        xmpp_recipients_clear(c->job.r, c->job.nr + c->job.nrooms);
    free(c->job.r);
    for (size_t i = 0; i < c->job.nup; i++)
        upload_file_free(&c->job.up[i]);
    free(c->job.up);
    raw_free(c->job.raw);
    for (size_t i = 0; i < c->nrooms; i++)
        free(c->rooms[i]);
    free(c->rooms);
    for (int i = 0; c->rcpt_idn != NULL && i < c->nrcpt; i++)
        free(c->rcpt_idn[i]);
    free(c->rcpt_idn);
    free(c->job.host);
    roster_plan_free(&c->job.plan);
    if (c->me.domain != NULL)
        jid_free(&c->me);
    settings_free(&c->cl);
    settings_free(&c->cf);
    config_free(&c->cfg);
    free(c->sysfile);
    xml_cleanup();
    http_cleanup();
    /* Lost output is a failure: a script would miss the result lines. */
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) {
        msg("cannot write standard output: %s", strerror(errno));
        rc = EX_IOERR;
    }
#if !defined(__SANITIZE_ADDRESS__) && !defined(XS_COVERAGE)
    /* Everything is written and wiped: end here.  exit() would run the
     * libraries' destructors (GnuTLS, p11-kit, libstdc++ for ICU), whose
     * code pages alone add up to 0.3 MiB to the peak RSS, for memory the
     * kernel frees anyway.  (Not under ASan, whose leak check runs at
     * exit; valgrind checks at _exit too.  Not in a --coverage build
     * either, XS_COVERAGE from the Makefile: its counters are written
     * at exit.) */
    fflush(stderr);
    _exit(rc);
#else
    return rc;
#endif
}

int main(int argc, char **argv)
{
    static struct cli c;
    struct xs_error err = {0};
    enum opt_id action = O_COUNT;

    std_fds();
    harden();
    c.env_password = pw_take_env();
    /* invoked as sendxmpp or go-sendxmpp: their options, translated */
    enum xs_err e = compat_argv(&argc, &argv, &err);
    if (e == XS_OK)
        e = parse_options(&c, argc, argv, &action, &err);
    if (e == XS_OK && action != O_COUNT)
        return finish(&c, print_action(action));
    if (e == XS_OK)
        e = load_settings(&c, &err);
    if (e == XS_OK && c.cl.pretend)
        return finish(&c, report(&err, pretend(&c, &err)));
    if (e == XS_OK && c.cl.serverinfo)
        return finish(&c, report(&err, serverinfo_cmd(&c, &err)));
    if (e == XS_OK)
        e = build_job(&c, &err);
    if (e == XS_OK)
        e = read_message(&c, &err);
    if (e == XS_OK && !c.skip)
        e = get_password(&c, &err);
    if (e == XS_OK && !c.skip)
        e = run(&c.job, &err);
    int rc = report(&err, e);
    log_run(&c, rc, &err);
    return finish(&c, rc);
}
