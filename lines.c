/* SPDX-License-Identifier: MIT */
/*
 * lines.c - line mode (-i/--each-line): `tail -f log | xmppsend -i ops@x`.
 *
 * The loop, one line at a time:
 *
 *   1. wait for a line on the input (poll); while none comes, look at
 *      the session every idle_ms (a flight that only reads: it answers
 *      the server's pings and XEP-0198 <r/>, and notices a close, after
 *      which the session is dropped and re-made for the next line);
 *   2. make sure there is a session: connect and log in; after a drop,
 *      with backoff (1, 2, 4 .. backoff_max_ms), at most max_attempts in
 *      a row, then XS_ETEMP;
 *   3. send the line to every recipient with xmpp_send, which waits for
 *      the server's confirmation (the ping reply) under a deadline of
 *      its own (--timeout per message);
 *   4. confirmed: report it and take the next line.  The connection
 *      dropped or timed out: drop the session, go to 2 and send the same
 *      line again with the same stanza ids.
 *
 * So at most one message is unconfirmed at any time, a confirmed one is
 * never sent again, and one sent again keeps its id.  Whether the
 * server stored the unconfirmed one before the drop cannot be known:
 * the same message may then be stored twice (with the same id).
 *
 * XEP-0198 resumption where the server offers it: a connection that
 * dropped without the stream ending (a network failure, a timeout) is
 * left without </stream:stream>, and the next login asks the server to
 * resume that session instead of binding a new one.  Its answer says
 * how many of our stanzas it had: a message it had is not sent again
 * (no duplicate), the others are.  After a server restart, or when the
 * server forgot the session, a new one is bound and the message is sent
 * again with its ids, as above.
 *
 * One round trip per line (no batching): on loopback this is about a
 * millisecond, and it keeps "confirmed" exact per line.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lines.h"
#include "net.h"
#include "tls.h"

/* What the reader hands out. */
enum rd_status { RD_NONE = 0, RD_LINE, RD_TOO_LONG, RD_EOF, RD_ERROR };

struct reader {
    int fd;
    struct buf b;
    size_t start; /* first unread byte in b */
    int eof;      /* read returned 0 */
    int skipping; /* inside a line that is too long: drop to its end */
    int read_errno;
};

/* The next line in the buffer, or RD_NONE when it holds no full line. */
static enum rd_status
buffered_line(struct reader *rd, const char **line, size_t *len)
{
    const char *p = rd->b.data + rd->start;
    size_t have = rd->b.len - rd->start;
    const char *nl = have > 0 ? memchr(p, '\n', have) : NULL;
    if (nl != NULL) {
        size_t n = (size_t)(nl - p);
        rd->start += n + 1;
        if (rd->skipping) {
            rd->skipping = 0;
            return RD_TOO_LONG;
        }
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n > (size_t)LINES_MAX_BODY)
            return RD_TOO_LONG;
        *line = p;
        *len = n;
        return RD_LINE;
    }
    if (have > (size_t)LINES_MAX_BODY + 1) {
        /* No end in sight: drop what we have, skip to the line's end. */
        rd->skipping = 1;
        rd->b.len = rd->start = 0;
        have = 0;
    }
    if (!rd->eof)
        return RD_NONE;
    /* The end of the input ends the last line. */
    if (rd->skipping) {
        rd->skipping = 0;
        return RD_TOO_LONG;
    }
    if (have == 0)
        return RD_EOF;
    rd->start += have;
    if (have > (size_t)LINES_MAX_BODY)
        return RD_TOO_LONG;
    *line = p;
    *len = have;
    return RD_LINE;
}

/*
 * The next line: RD_LINE (*line, *len point into the reader's buffer,
 * valid until the next call), RD_TOO_LONG (a line was dropped), RD_EOF,
 * RD_ERROR, or RD_NONE when nothing came within wait_ms (-1: no limit).
 */
static enum rd_status
next_line(struct reader *rd, int wait_ms, const char **line, size_t *len)
{
    for (;;) {
        enum rd_status st = buffered_line(rd, line, len);
        if (st != RD_NONE || rd->eof)
            return st;
        /* Keep the buffer from creeping: move the rest to the front. */
        if (rd->start > 0) {
            memmove(rd->b.data, rd->b.data + rd->start, rd->b.len - rd->start);
            rd->b.len -= rd->start;
            rd->start = 0;
        }
        struct pollfd pfd = {.fd = rd->fd, .events = POLLIN};
        int r = poll(&pfd, 1, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rd->read_errno = errno;
            return RD_ERROR;
        }
        if (r == 0)
            return RD_NONE;
        char chunk[65536];
        ssize_t n = read(rd->fd, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            rd->read_errno = errno;
            return RD_ERROR;
        }
        if (n == 0)
            rd->eof = 1;
        else
            buf_add(&rd->b, chunk, (size_t)n);
    }
}

/* The session and its connection, made and dropped together. */
struct conn {
    struct lines_job *job;
    struct xs_io io;
    struct xmpp_session *s;
    int attempts;              /* failures in a row (connects and sends) */
    int ever;                  /* a session was made before */
    struct xs_error last;      /* the last failure, for the final message */
    struct xmpp_resume resume; /* what the dropped session left */
    int resumed;               /* the last login resumed it ... */
    unsigned long handled;     /* ... and the server had this many */
    unsigned long *num;        /* per recipient: its message's number in
                                  XEP-0198 counting, 0: not sent */
};

/* End the session.  'keep': it failed, and may be resumed later. */
static void conn_drop(struct conn *c, int keep)
{
    if (c->s == NULL)
        return;
    if (keep && xmpp_resumable(c->s)) {
        xmpp_detach(c->s, &c->resume);
    } else {
        xmpp_resume_clear(&c->resume);
        xmpp_close(c->s);
    }
    xmpp_free(c->s);
    c->s = NULL;
    c->job->disconnect(c->job->ud);
}

static long long per_message_deadline(const struct lines_job *job)
{
    return xs_now_ms() + (long long)job->timeout_s * 1000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* A failure worth another connection: the network, the server going
 * away or restarting, a timeout. */
static int retryable(enum xs_err e)
{
    return e == XS_ETEMP || e == XS_EIO;
}

/* Count a failure; XS_ETEMP once there were max_attempts in a row. */
static enum xs_err
failed(struct conn *c, const struct xs_error *why, struct xs_error *err)
{
    c->last = *why;
    if (++c->attempts >= c->job->max_attempts)
        return xs_seterr(err, XS_ETEMP, "giving up after %d attempts: %s",
                         c->attempts, why->msg);
    return XS_OK;
}

/* Have a logged-in session, reconnecting with backoff after a drop. */
static enum xs_err conn_ensure(struct conn *c, struct xs_error *err)
{
    struct lines_job *job = c->job;
    while (c->s == NULL) {
        if (c->attempts > 0) {
            long ms = 1000L << (c->attempts - 1 < 16 ? c->attempts - 1 : 16);
            sleep_ms(ms < job->backoff_max_ms ? ms : job->backoff_max_ms);
        }
        struct xs_error why = {0};
        long long deadline = per_message_deadline(job);
        enum xs_err e = job->connect(job->ud, deadline, &c->io, &why);
        if (e == XS_OK) {
            struct xmpp_config cfg = job->cfg;
            cfg.deadline = deadline;
            cfg.sm_resume = 1;
            cfg.pipeline_bind = 0; /* the first flight enables XEP-0198 */
            c->s = xmpp_new(&cfg, &c->io);
            e = xmpp_login_resume(c->s, &c->resume, &c->resumed, &c->handled,
                                  &why);
            if (e != XS_OK) {
                /* Not resumed: the server may still keep it. */
                xmpp_free(c->s);
                c->s = NULL;
                job->disconnect(job->ud);
            } else {
                xmpp_resume_clear(&c->resume);
            }
        }
        if (e == XS_OK) {
            if (c->ever)
                job->reconnects++;
            c->ever = 1;
            return XS_OK;
        }
        /* The first connection is not retried (as without -i); nor is
         * anything but the network (authentication, TLS, protocol). */
        if (!c->ever || !retryable(e)) {
            *err = why;
            return e;
        }
        e = failed(c, &why, err);
        if (e != XS_OK)
            return e;
    }
    return XS_OK;
}

/* While no line comes: read what the server sent (answering it), so an
 * idle session keeps up with pings and <r/>; a dead one is dropped. */
static void idle_check(struct conn *c)
{
    if (c->s == NULL)
        return;
    struct xmpp_wait w = {.what = "idle", .need_done = 1};
    struct xs_error why = {0};
    xmpp_set_deadline(c->s, per_message_deadline(c->job));
    w.until = xs_now_ms() + 1;
    if (xmpp_flight(c->s, &w, &why) != XS_OK) {
        char t[sizeof why.msg + 64];
        snprintf(t, sizeof t, "%s; connecting again for the next line",
                 why.msg);
        c->job->note(c->job->ud, XS_ETEMP, t);
        conn_drop(c, 1);
    }
}

/* Number the messages xmpp_send is about to write (XEP-0198). */
static void number_messages(struct conn *c, const struct xmpp_recipient *r)
{
    unsigned long n = xmpp_sm_sent(c->s);
    for (size_t i = 0; i < c->job->nr; i++)
        c->num[i] = r[i].handled ? 0 : ++n;
}

/* After a reconnect that resumed the session: the messages the server
 * had are not sent again.  Returns how many it had. */
static size_t mark_handled(struct conn *c, struct xmpp_recipient *r)
{
    size_t had = 0;
    for (size_t i = 0; i < c->job->nr; i++) {
        if (c->num[i] > 0 && c->num[i] <= c->handled)
            r[i].handled = 1;
        had += r[i].handled != 0;
    }
    return had;
}

/* Send one message until the server confirmed it (or gave up on it). */
static enum xs_err send_line(struct conn *c,
                             const struct xmpp_message *m,
                             struct xmpp_recipient *r,
                             unsigned long lineno,
                             enum xs_err *worst,
                             struct xs_error *err)
{
    struct lines_job *job = c->job;
    int again = 0;
    for (;;) {
        enum xs_err e = conn_ensure(c, err);
        if (e != XS_OK)
            return e;
        if (again && c->resumed) {
            size_t had = mark_handled(c, r);
            char t[160];
            if (had == job->nr)
                snprintf(t, sizeof t,
                         "session resumed; the server had line %lu: not "
                         "sent again",
                         lineno);
            else if (had > 0)
                snprintf(t, sizeof t,
                         "session resumed; the server had line %lu for %zu "
                         "of %zu recipients: sent again to the others",
                         lineno, had, job->nr);
            else
                snprintf(t, sizeof t, "session resumed; line %lu is sent again",
                         lineno);
            job->note(job->ud, XS_OK, t);
        }
        c->resumed = 0;
        struct xs_error why = {0};
        xmpp_set_deadline(c->s, per_message_deadline(job));
        number_messages(c, r);
        e = xmpp_send(c->s, m, r, job->nr, &why);
        if (e == XS_OK) {
            c->attempts = 0;
            job->lines_sent++;
            enum xs_err w = job->sent(job->ud, r, job->nr);
            if (*worst == XS_OK)
                *worst = w;
            return XS_OK;
        }
        conn_drop(c, retryable(e));
        if (e == XS_EREFUSED) {
            /* This message (too large, say): not sent; the next may go. */
            job->note(job->ud, e, why.msg);
            if (*worst == XS_OK)
                *worst = e;
            return XS_OK;
        }
        if (!retryable(e)) {
            *err = why;
            return e;
        }
        char t[sizeof why.msg + 64];
        snprintf(t, sizeof t, "%s; connecting again to send the line again",
                 why.msg);
        job->note(job->ud, XS_ETEMP, t);
        e = failed(c, &why, err);
        if (e != XS_OK)
            return e;
        /* The same message again, with the same ids. */
        xmpp_recipients_clear(r, job->nr);
        for (size_t i = 0; i < job->nr; i++)
            r[i].status = XMPP_PENDING;
        again = 1;
    }
}

static int blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

enum xs_err lines_run(struct lines_job *job, struct xs_error *err)
{
    struct reader rd = {.fd = job->in_fd};
    struct conn c = {.job = job};
    c.num = xcalloc(job->nr + 1, sizeof *c.num);
    struct xmpp_recipient *r = xcalloc(job->nr + 1, sizeof *r);
    enum xs_err worst = XS_OK, e;
    unsigned long lineno = 0;

    /* Log in first: a wrong password shows before the first line. */
    e = conn_ensure(&c, err);
    while (e == XS_OK) {
        const char *line = NULL;
        size_t len = 0;
        enum rd_status st =
            next_line(&rd, c.s ? job->idle_ms : -1, &line, &len);
        if (st == RD_NONE) {
            idle_check(&c);
            continue;
        }
        if (st == RD_EOF)
            break;
        if (st == RD_ERROR) {
            e = xs_seterr(err, XS_EIO, "cannot read standard input: %s",
                          strerror(rd.read_errno));
            break;
        }
        lineno++;
        if (st == RD_TOO_LONG) {
            char t[128];
            snprintf(t, sizeof t, "line %lu is longer than 1 MiB; not sent",
                     lineno);
            job->note(job->ud, XS_EDATA, t);
            if (worst == XS_OK)
                worst = XS_EDATA;
            continue;
        }
        size_t changed = 0;
        char *body = text_sanitize(line, len, &changed);
        if (blank(body)) {
            xs_free_secret(body);
            continue;
        }
        if (changed > 0) {
            char t[160];
            snprintf(t, sizeof t,
                     "warning: replaced or removed %zu invalid characters "
                     "or escape sequences in line %lu",
                     changed, lineno);
            job->note(job->ud, XS_OK, t);
        }
        struct xmpp_message m = job->m;
        m.body = body;
        xmpp_recipients_clear(r, job->nr);
        memset(r, 0, job->nr * sizeof *r);
        for (size_t i = 0; i < job->nr; i++)
            r[i].jid = job->rcpt[i];
        e = send_line(&c, &m, r, lineno, &worst, err);
        xs_free_secret(body);
    }
    conn_drop(&c, 0);
    xmpp_resume_clear(&c.resume);
    free(c.num);
    xmpp_recipients_clear(r, job->nr);
    free(r);
    buf_wipe(&rd.b);
    if (e != XS_OK)
        return e;
    return worst;
}

/* ---------------------------------------------------------------- */
/* The real transport                                                */

enum xs_err lines_net_connect(void *ud,
                              long long deadline,
                              struct xs_io *io,
                              struct xs_error *err)
{
    struct lines_net *n = ud;
    lines_net_disconnect(n);
    n->tls->deadline = deadline;
    struct transport_slot slot = {n->tls, NULL};
    enum xs_err e =
        net_connect(n->domain, n->host, n->port, (enum net_tls)n->tls_mode,
                    deadline, transport_ready, &slot, err);
    if (e != XS_OK)
        return e;
    n->t = slot.t;
    transport_io(n->t, io);
    return XS_OK;
}

void lines_net_disconnect(void *ud)
{
    struct lines_net *n = ud;
    transport_free(n->t);
    n->t = NULL;
}
