/* SPDX-License-Identifier: MIT */
/*
 * xmppsend.c - the command line: options, config file, password sources,
 * the message body, output, and the one table from error classes to
 * sysexits(3) codes.  The only file that talks to the user and the only
 * one that exits (besides xmalloc on exhaustion).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "jid.h"
#include "net.h"
#include "tls.h"
#include "xml.h"
#include "xmpp.h"

#define XMPPSEND_VERSION "0.1.0"
#define MAX_BODY (64L * 1024 * 1024)
#define MAX_PASSWORD 4096

static const char usage_text[] =
    "usage: xmppsend [options] recipient ...\n"
    "       xmppsend [options] --roster\n"
    "\n"
    "Send one message (from -m or standard input) to each recipient, or\n"
    "print the account's roster.  Exit 0 only when the server confirmed.\n"
    "\n"
    "  -d, --debug                trace the XML stream on stderr "
    "(secrets redacted)\n"
    "  -f, --config FILE          config file (default "
    "$XDG_CONFIG_HOME/xmppsend/config)\n"
    "  -h, --help                 show this help and exit\n"
    "  -j, --jid JID              account to log in with "
    "(env XMPPSEND_JID)\n"
    "  -m, --message TEXT         message body (default: read stdin)\n"
    "  -p, --password PASS        password (visible to other users; "
    "prefer the below)\n"
    "  -q, --quiet                print no result lines or warnings\n"
    "  -s, --subject TEXT         message subject\n"
    "  -V, --version              show versions and exit\n"
    "      --cafile FILE          trust the CA certificates in FILE "
    "instead of the system's\n"
    "      --insecure             do not verify the server certificate "
    "(unsafe)\n"
    "      --json                 machine-readable output\n"
    "      --password-command CMD password is the first line CMD prints\n"
    "      --password-file FILE   password is the first line of FILE\n"
    "      --pin sha256:HEX       accept exactly this server certificate\n"
    "      --resource RES         resource to request (default: server "
    "assigns)\n"
    "      --roster               print the roster instead of sending\n"
    "      --server HOST[:PORT]   connect to HOST instead of looking up "
    "SRV records\n"
    "      --thread ID            message thread\n"
    "      --timeout SECONDS      deadline for the whole run (default "
    "30)\n"
    "      --type TYPE            chat (default), normal or headline\n"
    "\n"
    "Password sources, first found wins: --password-command, "
    "--password-file,\n"
    "-p, XMPPSEND_PASSWORD, config password-command, password-file, "
    "password,\n"
    "then a prompt on the terminal.\n"
    "\n"
    "Exit status: 0 acknowledged by the server, 64 usage, 65 bad data, 66 "
    "no input,\n"
    "67 recipient unavailable, 68 host not found, 69 refused or insecure,\n"
    "70 internal error, 71 OS error, 74 I/O error, 75 temporary failure "
    "(retry),\n"
    "76 protocol error, 77 authentication failed, 78 configuration "
    "error.\n";

/* Long-only options. */
enum {
    OPT_CAFILE = 256,
    OPT_INSECURE,
    OPT_JSON,
    OPT_PASSWORD_COMMAND,
    OPT_PASSWORD_FILE,
    OPT_PIN,
    OPT_RESOURCE,
    OPT_ROSTER,
    OPT_SERVER,
    OPT_THREAD,
    OPT_TIMEOUT,
    OPT_TYPE
};

static const struct option long_options[] = {
    {"debug", no_argument, NULL, 'd'},
    {"config", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {"jid", required_argument, NULL, 'j'},
    {"message", required_argument, NULL, 'm'},
    {"password", required_argument, NULL, 'p'},
    {"quiet", no_argument, NULL, 'q'},
    {"subject", required_argument, NULL, 's'},
    {"version", no_argument, NULL, 'V'},
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"json", no_argument, NULL, OPT_JSON},
    {"password-command", required_argument, NULL, OPT_PASSWORD_COMMAND},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"pin", required_argument, NULL, OPT_PIN},
    {"resource", required_argument, NULL, OPT_RESOURCE},
    {"roster", no_argument, NULL, OPT_ROSTER},
    {"server", required_argument, NULL, OPT_SERVER},
    {"thread", required_argument, NULL, OPT_THREAD},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"type", required_argument, NULL, OPT_TYPE},
    {NULL, 0, NULL, 0}};

static int quiet;
static int json_out;

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

static void json_str(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_error(enum xs_err e, const char *text)
{
    printf("{\"ok\":false,\"exit\":%d,\"error\":", exit_code(e));
    json_str(stdout, text);
    puts("}");
}

/* ---------------------------------------------------------------- */
/* Settings: command line, environment, config file                  */

/* Wipe an argv value in place so ps(1) no longer shows it. */
static void scrub(char *arg)
{
    xs_wipe(arg, strlen(arg));
}

/*
 * Read a config file into 'cf'.  A missing file is fine unless it was
 * named explicitly.  Like msmtp, a file holding a plaintext password
 * must not be accessible by group or others.
 */
static enum xs_err read_config(const char *file,
                               int explicit,
                               struct settings *cf,
                               struct xs_error *err)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (!explicit && errno == ENOENT)
            return XS_OK;
        return xs_seterr(err, XS_ENOINPUT, "cannot open config file %s: %s",
                         file, strerror(errno));
    }
    struct stat st;
    FILE *f = fdopen(fd, "r");
    if (f == NULL || fstat(fd, &st) != 0) {
        if (f != NULL)
            fclose(f);
        else
            close(fd);
        return xs_seterr(err, XS_EOS, "cannot read config file %s", file);
    }
    struct buf text = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len < 1 << 20)
        buf_add(&text, chunk, n);
    xs_wipe(chunk, sizeof chunk);
    fclose(f);
    enum xs_err e =
        config_parse(text.data ? text.data : "", text.len, file, cf, err);
    buf_wipe(&text);
    if (e == XS_OK && cf->password != NULL && (st.st_mode & 077) != 0)
        e = xs_seterr(err, XS_ECONFIG,
                      "%s contains a password but is accessible by group "
                      "or others (mode %04o); run: chmod 600 %s",
                      file, (unsigned)(st.st_mode & 07777), file);
    return e;
}

static char *default_config(void)
{
    const char *x = getenv("XDG_CONFIG_HOME");
    if (x != NULL && *x == '/')
        return xasprintf("%s/xmppsend/config", x);
    const char *h = getenv("HOME");
    if (h != NULL && *h != '\0')
        return xasprintf("%s/.config/xmppsend/config", h);
    return NULL;
}

/* ---------------------------------------------------------------- */
/* Password                                                          */

/* First line of 'f' (without the newline), wiped buffers. */
static char *first_line(FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    char *out = xstrdup(line);
    xs_wipe(line, cap);
    free(line);
    return out;
}

static enum xs_err
password_from_command(const char *cmd, char **out, struct xs_error *err)
{
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return xs_seterr(err, XS_EOS, "cannot run password-command: %s",
                         strerror(errno));
    *out = first_line(p);
    /* Drain so the command does not die of SIGPIPE. */
    char sink[256];
    while (fread(sink, 1, sizeof sink, p) > 0)
        ;
    xs_wipe(sink, sizeof sink);
    int st = pclose(p);
    if (st != 0 || *out == NULL) {
        xs_free_secret(*out);
        *out = NULL;
        return xs_seterr(err, XS_ECONFIG, "password-command failed (%s)",
                         st != 0 ? "non-zero exit status" : "no output");
    }
    return XS_OK;
}

static enum xs_err
password_from_file(const char *file, char **out, struct xs_error *err)
{
    FILE *f = fopen(file, "re");
    if (f == NULL)
        return xs_seterr(err, XS_ENOINPUT, "cannot open password file %s: %s",
                         file, strerror(errno));
    *out = first_line(f);
    fclose(f);
    if (*out == NULL)
        return xs_seterr(err, XS_EDATA, "password file %s is empty", file);
    return XS_OK;
}

static enum xs_err
password_prompt(const char *jid, char **out, struct xs_error *err)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return xs_seterr(err, XS_EUSAGE,
                         "no password given (use --password-file, "
                         "--password-command or XMPPSEND_PASSWORD)");
    struct termios old, raw;
    int have_tc = tcgetattr(fd, &old) == 0;
    if (have_tc) {
        raw = old;
        raw.c_lflag &= ~(tcflag_t)ECHO;
        raw.c_lflag |= ECHONL;
        tcsetattr(fd, TCSAFLUSH, &raw);
    }
    dprintf(fd, "Password for %s: ", jid);
    char buf[MAX_PASSWORD];
    size_t n = 0;
    char c;
    while (n + 1 < sizeof buf && read(fd, &c, 1) == 1 && c != '\n')
        buf[n++] = c;
    buf[n] = '\0';
    if (have_tc)
        tcsetattr(fd, TCSAFLUSH, &old);
    close(fd);
    *out = xstrdup(buf);
    xs_wipe(buf, sizeof buf);
    return XS_OK;
}

/* The password, first source found wins (see usage). */
static enum xs_err get_password(struct settings *cl,
                                struct settings *cf,
                                char **out,
                                struct xs_error *err)
{
    char *env = getenv("XMPPSEND_PASSWORD");
    *out = NULL;
    if (cl->password_command != NULL)
        return password_from_command(cl->password_command, out, err);
    if (cl->password_file != NULL)
        return password_from_file(cl->password_file, out, err);
    if (cl->password != NULL) {
        *out = xstrdup(cl->password);
        return XS_OK;
    }
    if (env != NULL) {
        /* Take it out of our environment (and /proc/PID/environ) so no
         * child, such as a password command, inherits it. */
        *out = xstrdup(env);
        xs_wipe(env, strlen(env));
        unsetenv("XMPPSEND_PASSWORD");
        return XS_OK;
    }
    if (cf->password_command != NULL)
        return password_from_command(cf->password_command, out, err);
    if (cf->password_file != NULL)
        return password_from_file(cf->password_file, out, err);
    if (cf->password != NULL) {
        *out = xstrdup(cf->password);
        return XS_OK;
    }
    return password_prompt(cl->jid, out, err);
}

/* ---------------------------------------------------------------- */
/* Input and arguments                                               */

/* Read all of stdin (bounded); trailing newlines dropped. */
static enum xs_err read_body(char **out, size_t *len, struct xs_error *err)
{
    struct buf b = {0};
    char chunk[65536];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            buf_free(&b);
            return xs_seterr(err, XS_EIO, "cannot read standard input: %s",
                             strerror(errno));
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > MAX_BODY) {
            buf_free(&b);
            return xs_seterr(err, XS_EDATA,
                             "message on standard input is larger than "
                             "%ld bytes",
                             MAX_BODY);
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

/* "host", "host:port", "[v6]:port", bare "v6" */
static enum xs_err
parse_server(const char *s, char **host, int *port, struct xs_error *err)
{
    const char *colon = NULL;
    *port = 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close == s + 1 ||
            (close[1] != '\0' && close[1] != ':'))
            return xs_seterr(err, XS_EUSAGE, "invalid --server '%s'", s);
        *host = xstrndup(s + 1, (size_t)(close - s - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strchr(s, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            colon = NULL; /* bare IPv6 literal */
        *host = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
    }
    if (colon != NULL) {
        char *end;
        errno = 0;
        long p = strtol(colon + 1, &end, 10);
        if (errno != 0 || *end != '\0' || end == colon + 1 || p < 1 ||
            p > 65535) {
            free(*host);
            *host = NULL;
            return xs_seterr(err, XS_EUSAGE, "invalid port in --server '%s'",
                             s);
        }
        *port = (int)p;
    }
    if (**host == '\0') {
        free(*host);
        *host = NULL;
        return xs_seterr(err, XS_EUSAGE, "invalid --server '%s'", s);
    }
    return XS_OK;
}

static enum xs_err parse_timeout(const char *s, int *out, struct xs_error *err)
{
    char *end;
    errno = 0;
    long t = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || t < 1 || t > 86400)
        return xs_seterr(err, XS_EUSAGE,
                         "invalid --timeout '%s' (1 to 86400 seconds)", s);
    *out = (int)t;
    return XS_OK;
}

/* ---------------------------------------------------------------- */
/* Running                                                           */

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
    for (size_t i = 0; i < n; i++) {
        if (r[i].status == XMPP_FAILED) {
            if (worst == XS_OK)
                worst = r[i].code;
            msg("%s: %s%s%s%s", r[i].jid, r[i].condition,
                *r[i].text ? " (" : "", r[i].text, *r[i].text ? ")" : "");
        }
    }
    if (json_out) {
        printf("{\"ok\":%s,\"exit\":%d,\"recipients\":[",
               worst == XS_OK ? "true" : "false", exit_code(worst));
        for (size_t i = 0; i < n; i++) {
            int ok = r[i].status == XMPP_SENT;
            fputs(i ? ",{\"jid\":" : "{\"jid\":", stdout);
            json_str(stdout, r[i].jid);
            fputs(",\"id\":", stdout);
            json_str(stdout, r[i].id);
            fputs(ok ? ",\"status\":\"sent\",\"condition\":null,\"text\":null}"
                     : ",\"status\":\"failed\",\"condition\":",
                  stdout);
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
                printf("sent\t%s\t%s\n", r[i].jid, r[i].id);
            else
                printf("failed\t%s\t%s\n", r[i].jid, r[i].condition);
        }
    }
    return worst;
}

struct job {
    struct xmpp_config cfg;
    struct tls_opts tls;
    char *host;
    int port;
    int roster;
    struct xmpp_message m;
    struct xmpp_recipient *r;
    size_t nr;
};

static enum xs_err run(struct job *job, struct xs_error *err)
{
    int fd = -1;
    enum xs_err e = net_connect(job->tls.domain, job->host, job->port,
                                job->cfg.deadline, &fd, err);
    if (e != XS_OK)
        return e;
    struct transport *t = transport_new(fd, &job->tls, err);
    if (t == NULL) {
        close(fd);
        return err->code;
    }
    struct xs_io io;
    transport_io(t, &io);
    struct xmpp_session *s = xmpp_new(&job->cfg, &io);
    e = xmpp_login(s, err);
    if (e == XS_OK && job->roster) {
        struct xmpp_roster ro;
        e = xmpp_roster(s, &ro, err);
        if (e == XS_OK)
            print_roster(&ro);
        xmpp_roster_free(&ro);
    } else if (e == XS_OK) {
        e = xmpp_send(s, &job->m, job->r, job->nr, err);
        if (e == XS_OK)
            e = report_send(job->r, job->nr);
    }
    xmpp_free(s);
    transport_free(t);
    return e;
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

/* Sanitise 'src' into a new string *keep (also *dst); count changes. */
static void sanitize_into(
    const char **dst, char **keep, const char *src, size_t len, size_t *changed)
{
    size_t c = 0;
    *keep = text_sanitize(src, len, &c);
    *dst = *keep;
    *changed += c;
}

static int fail_usage(const char *fmt, ...) XS_PRINTF(1, 2);
static int fail_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("xmppsend: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (try 'xmppsend -h')\n", stderr);
    va_end(ap);
    return EX_USAGE;
}

int main(int argc, char **argv)
{
    struct settings cl = {0}, cf = {0};
    struct xs_error err = {0};
    struct job job = {0};
    struct jid me = {0};
    char *config_file = NULL, *password = NULL, *body = NULL;
    char *san_body = NULL, *san_subject = NULL, *san_thread = NULL;
    unsigned char pin[TLS_PIN_LEN];
    enum xs_err e = XS_OK;
    int timeout = 30, c, explicit_config = 0, rc;
    size_t body_len = 0, changed = 0;

    harden();
    while ((c = getopt_long(argc, argv, ":df:hj:m:p:qs:V", long_options,
                            NULL)) != -1) {
        switch (c) {
        case 'd':
            cl.debug = 1;
            break;
        case 'f':
            settings_set(&config_file, optarg);
            explicit_config = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            rc = 0;
            goto done;
        case 'j':
            settings_set(&cl.jid, optarg);
            break;
        case 'm':
            settings_set(&cl.message, optarg);
            break;
        case 'p':
            settings_set(&cl.password, optarg);
            scrub(optarg);
            break;
        case 'q':
            cl.quiet = 1;
            break;
        case 's':
            settings_set(&cl.subject, optarg);
            break;
        case 'V':
            printf("xmppsend %s\nGnuTLS %s\nlibxml2 %s\nlibcurl %s\n",
                   XMPPSEND_VERSION, tls_library_version(),
                   xml_library_version(), http_library_version());
            rc = 0;
            goto done;
        case OPT_CAFILE:
            settings_set(&cl.cafile, optarg);
            break;
        case OPT_INSECURE:
            cl.insecure = 1;
            break;
        case OPT_JSON:
            cl.json = 1;
            break;
        case OPT_PASSWORD_COMMAND:
            settings_set(&cl.password_command, optarg);
            break;
        case OPT_PASSWORD_FILE:
            settings_set(&cl.password_file, optarg);
            break;
        case OPT_PIN:
            settings_set(&cl.pin, optarg);
            break;
        case OPT_RESOURCE:
            settings_set(&cl.resource, optarg);
            break;
        case OPT_ROSTER:
            cl.roster = 1;
            break;
        case OPT_SERVER:
            settings_set(&cl.server, optarg);
            break;
        case OPT_THREAD:
            settings_set(&cl.thread, optarg);
            break;
        case OPT_TIMEOUT:
            settings_set(&cl.timeout, optarg);
            break;
        case OPT_TYPE:
            settings_set(&cl.type, optarg);
            break;
        case ':':
            rc = fail_usage("option '%s' needs a value", argv[optind - 1]);
            goto done;
        default:
            if (optopt != 0)
                rc = fail_usage("unknown option '-%c'", optopt);
            else
                rc = fail_usage("unknown option '%s'", argv[optind - 1]);
            goto done;
        }
    }
    argc -= optind;
    argv += optind;

    /* Settings: command line, then environment, then config file. */
    if (config_file == NULL)
        config_file = default_config();
    if (config_file != NULL)
        e = read_config(config_file, explicit_config, &cf, &err);
    if (e != XS_OK)
        goto out;
    if (cl.jid == NULL && getenv("XMPPSEND_JID") != NULL)
        cl.jid = xstrdup(getenv("XMPPSEND_JID"));
    settings_merge(&cl, &cf);
    quiet = cl.quiet;
    json_out = cl.json;

    if (cl.roster && argc > 0) {
        rc = fail_usage("%s", "--roster takes no recipients");
        goto done;
    }
    if (!cl.roster && argc == 0) {
        rc = fail_usage("%s", "no recipient given");
        goto done;
    }
    if (cl.jid == NULL) {
        rc = fail_usage("%s", "no account given (use -j JID or set "
                              "XMPPSEND_JID)");
        goto done;
    }
    if (cl.type == NULL)
        cl.type = xstrdup("chat");
    if (strcmp(cl.type, "chat") != 0 && strcmp(cl.type, "normal") != 0 &&
        strcmp(cl.type, "headline") != 0) {
        rc = fail_usage("invalid --type '%s' (chat, normal or headline)",
                        cl.type);
        goto done;
    }
    if (cl.timeout != NULL && parse_timeout(cl.timeout, &timeout, &err))
        goto usage;
    if (cl.pin != NULL && tls_pin_parse(cl.pin, pin) != 0) {
        rc = fail_usage("invalid --pin '%s' (want sha256: and 64 hex "
                        "digits)",
                        cl.pin);
        goto done;
    }
    if (cl.insecure && cl.pin != NULL) {
        rc = fail_usage("%s", "cannot use both --insecure and --pin");
        goto done;
    }
    if (cl.server != NULL &&
        parse_server(cl.server, &job.host, &job.port, &err) != XS_OK)
        goto usage;

    const char *why = NULL;
    if (jid_parse(cl.jid, &me, &why) != 0 || me.local == NULL) {
        e = xs_seterr(&err, XS_EDATA, "invalid account JID '%s': %s", cl.jid,
                      why ? why : "no localpart");
        goto out;
    }
    job.nr = (size_t)argc;
    job.r = xcalloc(job.nr + 1, sizeof *job.r);
    for (int i = 0; i < argc; i++) {
        struct jid r;
        if (jid_parse(argv[i], &r, &why) != 0) {
            char *p = text_printable(argv[i], strlen(argv[i]), 200);
            e = xs_seterr(&err, XS_EDATA, "invalid recipient JID '%s': %s", p,
                          why);
            free(p);
            goto out;
        }
        jid_free(&r);
        job.r[i].jid = argv[i];
    }
    if (cl.cafile != NULL && access(cl.cafile, R_OK) != 0) {
        e = xs_seterr(&err, XS_ENOINPUT, "cannot read --cafile %s: %s",
                      cl.cafile, strerror(errno));
        goto out;
    }

    /* The body, completely, before connecting. */
    if (!cl.roster) {
        if (cl.message != NULL) {
            body = xstrdup(cl.message);
            body_len = strlen(body);
        } else if (isatty(STDIN_FILENO)) {
            rc = fail_usage("%s", "no message: use -m TEXT or pipe it on "
                                  "standard input");
            goto done;
        } else if ((e = read_body(&body, &body_len, &err)) != XS_OK) {
            goto out;
        }
        sanitize_into(&job.m.body, &san_body, body, body_len, &changed);
        if (cl.subject != NULL)
            sanitize_into(&job.m.subject, &san_subject, cl.subject,
                          strlen(cl.subject), &changed);
        if (cl.thread != NULL)
            sanitize_into(&job.m.thread, &san_thread, cl.thread,
                          strlen(cl.thread), &changed);
        if (job.m.body[0] == '\0' && job.m.subject == NULL) {
            e = xs_seterr(&err, XS_EDATA, "the message is empty");
            goto out;
        }
        if (changed > 0 && !quiet)
            msg("warning: replaced or removed %zu invalid characters or "
                "escape sequences in the message",
                changed);
        job.m.type = cl.type;
    }

    e = get_password(&cl, &cf, &password, &err);
    if (e != XS_OK)
        goto out;
    if (cl.insecure)
        msg("warning: --insecure: the server's certificate is not "
            "verified; anyone on the path can read and change this "
            "session");

    job.roster = cl.roster;
    job.tls.domain = me.domain;
    job.tls.cafile = cl.cafile;
    job.tls.pin = cl.pin != NULL ? pin : NULL;
    job.tls.insecure = cl.insecure;
    job.cfg.jid = me.bare;
    job.cfg.password = password;
    job.cfg.resource = cl.resource != NULL ? cl.resource : me.resource;
    job.cfg.allow_plain = !cl.insecure;
    job.cfg.timeout_s = timeout;
    job.cfg.deadline = xs_now_ms() + (long long)timeout * 1000;
    if (cl.debug)
        job.cfg.trace = trace_cb;
    e = run(&job, &err);
    goto out;

usage:
    rc = fail_usage("%s", err.msg);
    goto done;
out:
    rc = exit_code(e);
    if (e != XS_OK && err.code != XS_OK) {
        msg("%s", err.msg);
        if (json_out)
            json_error(e, err.msg);
    }
done:
    xs_free_secret(password);
    xs_free_secret(body);
    xs_free_secret(san_body);
    free(san_subject);
    free(san_thread);
    if (job.r != NULL)
        xmpp_recipients_clear(job.r, job.nr);
    free(job.r);
    free(job.host);
    if (me.domain != NULL)
        jid_free(&me);
    settings_free(&cl);
    settings_free(&cf);
    free(config_file);
    xml_cleanup();
    http_cleanup();
    /* Lost output is a failure: a script would miss the result lines. */
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) {
        msg("cannot write standard output: %s", strerror(errno));
        rc = EX_IOERR;
    }
    return rc;
}
