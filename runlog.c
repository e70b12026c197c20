/* SPDX-License-Identifier: MIT */
/*
 * runlog.c - the --log / --syslog line (runlog.h).
 *
 *   2026-11-27T21:20:00+0000 account=alice@example.org
 *   server=xmpp.example.org:5222 tls=TLSv1.3 auth=SCRAM-SHA-1-PLUS
 *   sasl2=on recipients=bob@example.org bytes=12 roundtrips=4
 *   result=sent exitcode=EX_OK
 *
 * (one line).  Values come from the command line, the configuration or
 * the server; what the server said is quoted with control characters
 * removed, so one run is always one line.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "runlog.h"

const char *runlog_exit_name(int code)
{
    static const struct {
        int code;
        const char *name;
    } map[] = {
        {0, "EX_OK"},
        {EX_USAGE, "EX_USAGE"},
        {EX_DATAERR, "EX_DATAERR"},
        {EX_NOINPUT, "EX_NOINPUT"},
        {EX_NOUSER, "EX_NOUSER"},
        {EX_NOHOST, "EX_NOHOST"},
        {EX_UNAVAILABLE, "EX_UNAVAILABLE"},
        {EX_SOFTWARE, "EX_SOFTWARE"},
        {EX_OSERR, "EX_OSERR"},
        {EX_IOERR, "EX_IOERR"},
        {EX_TEMPFAIL, "EX_TEMPFAIL"},
        {EX_PROTOCOL, "EX_PROTOCOL"},
        {EX_NOPERM, "EX_NOPERM"},
        {EX_CONFIG, "EX_CONFIG"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].code == code)
            return map[i].name;
    }
    return "EX_UNKNOWN";
}

/* A value without blanks, quotes or control characters, as is; else
 * quoted, with \" and \\ and control characters dropped. */
static void put_value(struct buf *out, const char *v)
{
    int plain = *v != '\0';
    for (const char *p = v; *p && plain; p++)
        plain =
            (unsigned char)*p > ' ' && *p != '"' && *p != '\\' && *p != 0x7f;
    if (plain) {
        buf_addstr(out, v);
        return;
    }
    buf_addch(out, '"');
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            continue;
        if (*p == '"' || *p == '\\')
            buf_addch(out, '\\');
        buf_addch(out, *p);
    }
    buf_addch(out, '"');
}

static void put(struct buf *out, const char *key, const char *v)
{
    if (v == NULL)
        return;
    buf_printf(out, "%s%s=", out->len ? " " : "", key);
    put_value(out, v);
}

/* key=A,B,... of the recipients whose failed[] is 'which' (any: -1). */
static void
put_list(struct buf *out, const char *key, const struct runlog *r, int which)
{
    struct buf l = {0};
    for (size_t i = 0; i < r->nrcpt; i++) {
        if (which >= 0 && (r->failed != NULL ? r->failed[i] : 0) != which)
            continue;
        buf_printf(&l, "%s%s", l.len ? "," : "", r->rcpt[i]);
    }
    if (l.len > 0)
        put(out, key, l.data);
    buf_free(&l);
}

void runlog_format(const struct runlog *r, int stamp, struct buf *out)
{
    char num[32];
    if (stamp) {
        char t[40];
        time_t now = time(NULL);
        struct tm tm;
        if (localtime_r(&now, &tm) != NULL &&
            strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S%z", &tm) > 0)
            buf_addstr(out, t);
    }
    put(out, "account", r->account);
    put(out, "server", r->server);
    put(out, "tls",
        r->tls == 13   ? "TLSv1.3"
        : r->tls == 12 ? "TLSv1.2"
                       : "none");
    put(out, "auth", r->mech != NULL ? r->mech : "none");
    if (r->mech != NULL)
        put(out, "sasl2", r->sasl2 ? "on" : "off");
    put_list(out, "recipients", r, -1);
    put_list(out, "failed", r, 1);
    snprintf(num, sizeof num, "%zu", r->bytes);
    put(out, "bytes", num);
    snprintf(num, sizeof num, "%u", r->round_trips);
    put(out, "roundtrips", num);
    put(out, "result", r->exitcode == 0 ? "sent" : "failed");
    put(out, "exitcode", runlog_exit_name(r->exitcode));
    if (r->error != NULL && r->exitcode != 0)
        put(out, "error", r->error);
}

int runlog_facility(const char *name)
{
    static const struct {
        const char *name;
        int facility;
    } map[] = {
        {"user", LOG_USER},     {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON},
        {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
        {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
        {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
    };
    for (size_t i = 0; name != NULL && i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(map[i].name, name) == 0)
            return map[i].facility;
    }
    return -1;
}

enum xs_err
runlog_append(const char *path, const char *line, struct xs_error *err)
{
    struct buf b = {0};
    buf_printf(&b, "%s\n", line);
    int fd =
        strcmp(path, "-") == 0
            ? STDERR_FILENO
            : open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                   0600);
    enum xs_err e = XS_OK;
    if (fd < 0) {
        e = xs_seterr(err, XS_EOS, "cannot open log file %s: %s", path,
                      strerror(errno));
    } else {
        /* One write: appended lines of concurrent runs do not mix. */
        ssize_t w;
        do
            w = write(fd, b.data, b.len);
        while (w < 0 && errno == EINTR);
        if (w != (ssize_t)b.len)
            e = xs_seterr(err, XS_EIO, "cannot write log file %s: %s", path,
                          w < 0 ? strerror(errno) : "short write");
        if (fd != STDERR_FILENO && close(fd) != 0 && e == XS_OK)
            e = xs_seterr(err, XS_EIO, "cannot write log file %s: %s", path,
                          strerror(errno));
    }
    buf_free(&b);
    return e;
}

void runlog_syslog(int facility, int failed, const char *line)
{
    openlog("xmppsend", LOG_PID, facility);
    syslog(failed ? LOG_ERR : LOG_INFO, "%s", line);
    closelog();
}
