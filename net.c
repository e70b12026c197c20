/* SPDX-License-Identifier: MIT */
/*
 * net.c - name resolution and TCP, bounded by the run's deadline.
 *
 * SRV (RFC 6120 3.2.1, RFC 2782, XEP-0368): the records of
 * _xmpps-client (direct TLS) and _xmpp-client (STARTTLS), looked up at
 * the same time, merged and sorted by priority, direct TLS first within
 * a priority, weighted random order within a priority and kind; a single
 * "." target means the service is not offered.  Only when there is no
 * usable SRV answer does the domain itself on port 5222 get tried
 * (3.2.2).  getaddrinfo runs
 * through getaddrinfo_a so a dead resolver cannot outlast the deadline.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "jid.h"
#include "net.h"
#include "io.h"

#define MAX_SRV 16 /* per SRV name */

static int ms_left(long long deadline)
{
    long long left = deadline - xs_now_ms();
    if (left <= 0)
        return 0;
    return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int net_wait(int fd, int writable, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = writable ? POLLOUT : POLLIN};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
}

static int cmp_srv(const void *a, const void *b)
{
    const struct net_srv *x = a, *y = b;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    /* Direct TLS first within a priority (XEP-0368: it saves two round
     * trips), then weight 0 first (RFC 2782), then the draw. */
    if (x->direct != y->direct)
        return x->direct ? -1 : 1;
    return (x->weight != 0) - (y->weight != 0);
}

static unsigned random_draw(void *ud)
{
    unsigned rnd = 0;
    (void)ud;
    if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        rnd = 0;
    return rnd;
}

/* RFC 2782 weighted selection within each run of equal priority and
 * kind. */
void net_srv_order(struct net_srv *r,
                   size_t n,
                   unsigned (*draw)(void *ud),
                   void *ud)
{
    if (draw == NULL)
        draw = random_draw;
    qsort(r, n, sizeof *r, cmp_srv);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        unsigned long sum = 0;
        while (j < n && r[j].prio == r[i].prio && r[j].direct == r[i].direct)
            sum += r[j++].weight;
        for (size_t k = i; k + 1 < j; k++) {
            unsigned long pick = sum ? draw(ud) % (sum + 1) : 0, run = 0;
            size_t sel = k;
            for (size_t m = k; m < j; m++) {
                run += r[m].weight;
                if (run >= pick) {
                    sel = m;
                    break;
                }
            }
            struct net_srv t = r[k];
            r[k] = r[sel];
            r[sel] = t;
            sum -= r[k].weight;
        }
        i = j;
    }
}

static int
srv_parse(const unsigned char *ans, int len, int direct, struct net_srv *out);

/*
 * One SRV query in a helper thread, so that a resolver that never
 * answers (three name servers, each with its own timeouts) cannot hold
 * the run past its deadline.  The thread owns the job once abandoned.
 */
struct srv_job {
    char qname[NS_MAXDNAME];
    unsigned char ans[65536];
    int len, retrans, done, abandoned;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *srv_thread(void *arg)
{
    struct srv_job *j = arg;
    struct __res_state st;
    int len = -1;
    memset(&st, 0, sizeof st);
    if (res_ninit(&st) == 0) {
        st.retrans = j->retrans;
        st.retry = 1;
        /* res_nquery, never res_nsearch: no search-list suffixes. */
        len =
            res_nquery(&st, j->qname, ns_c_in, ns_t_srv, j->ans, sizeof j->ans);
        res_nclose(&st);
    }
    pthread_mutex_lock(&j->mu);
    j->len = len;
    j->done = 1;
    int abandoned = j->abandoned;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (abandoned)
        free(j);
    return NULL;
}

/* Start the query of PREFIX.DOMAIN in its own thread; NULL when it
 * cannot be asked (name too long, no thread). */
static struct srv_job *
srv_start(const char *prefix, const char *domain, long long deadline)
{
    struct srv_job *j = xcalloc(1, sizeof *j);
    if (snprintf(j->qname, sizeof j->qname, "%s.%s", prefix, domain) >=
        (int)sizeof j->qname) {
        free(j);
        return NULL;
    }
    int secs = (ms_left(deadline) + 999) / 1000;
    j->retrans = secs < 1 ? 1 : (secs > 5 ? 5 : secs);
    pthread_condattr_t ca;
    pthread_t t;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->mu, NULL);
    if (pthread_create(&t, NULL, srv_thread, j) != 0) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
        return NULL;
    }
    pthread_detach(t);
    return j;
}

/*
 * Wait for the answer of 'j' (NULL: none) and parse it into 'out', each
 * record marked 'direct'.  Returns the number of records (0: no usable
 * answer), -1 when the service is explicitly absent ("."), -2 when the
 * deadline passed (the thread then frees the job; otherwise it is freed
 * here).
 */
static int srv_finish(struct srv_job *j,
                      int direct,
                      struct net_srv *out,
                      long long deadline)
{
    if (j == NULL)
        return 0;
    struct timespec ts = {(time_t)(deadline / 1000),
                          (long)(deadline % 1000) * 1000000L};
    pthread_mutex_lock(&j->mu);
    while (!j->done && pthread_cond_timedwait(&j->cv, &j->mu, &ts) != ETIMEDOUT)
        ;
    int done = j->done;
    j->abandoned = !done;
    pthread_mutex_unlock(&j->mu);
    if (!done)
        return -2;
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    int len = j->len;
    if (len > (int)sizeof j->ans) /* truncated: parse what we have */
        len = (int)sizeof j->ans;
    int n = len < 0 ? 0 : srv_parse(j->ans, len, direct, out);
    free(j);
    return n;
}

/*
 * Look up _xmpps-client._tcp.DOMAIN (direct TLS, XEP-0368) and
 * _xmpp-client._tcp.DOMAIN (STARTTLS) at the same time, or only the one
 * 'want' names, and merge the records into 'out' (room for 2 * MAX_SRV)
 * in the order to try them.  Returns their number, or -2 when the
 * deadline passed; *absent is set when a name said "." (no such
 * service: then no fallback to the domain itself).
 */
static int srv_lookup(const char *domain,
                      enum net_tls want,
                      struct net_srv *out,
                      long long deadline,
                      int *absent)
{
    struct srv_job *js = NULL, *jp = NULL;
    if (want != NET_TLS_STARTTLS)
        js = srv_start("_xmpps-client._tcp", domain, deadline);
    if (want != NET_TLS_DIRECT)
        jp = srv_start("_xmpp-client._tcp", domain, deadline);
    int ns = srv_finish(js, 1, out, deadline);
    int np = srv_finish(jp, 0, out + (ns > 0 ? ns : 0), deadline);
    *absent = ns == -1 || np == -1;
    if (ns == -2 || np == -2)
        return -2;
    int n = (ns > 0 ? ns : 0) + (np > 0 ? np : 0);
    net_srv_order(out, (size_t)n, NULL, NULL);
    return n;
}

/* Parse an SRV answer into 'out' (see srv_finish for the result). */
static int
srv_parse(const unsigned char *ans, int len, int direct, struct net_srv *out)
{
    ns_msg m;
    if (ns_initparse(ans, len, &m) < 0)
        return 0;
    int n = 0, nsrv = 0, dot = 0;
    for (int i = 0; i < ns_msg_count(m, ns_s_an) && n < MAX_SRV; i++) {
        ns_rr rr;
        if (ns_parserr(&m, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_srv ||
            ns_rr_class(rr) != ns_c_in || ns_rr_rdlen(rr) < 7)
            continue;
        nsrv++;
        const unsigned char *rd = ns_rr_rdata(rr);
        struct net_srv *s = &out[n];
        s->prio = ns_get16(rd);
        s->weight = ns_get16(rd + 2);
        s->port = ns_get16(rd + 4);
        s->direct = direct;
        if (ns_name_uncompress(ns_msg_base(m), ns_msg_end(m), rd + 6, s->target,
                               sizeof s->target) < 0)
            continue;
        if (strcmp(s->target, ".") == 0 || s->target[0] == '\0') {
            dot = 1;
            continue;
        }
        if (s->port == 0 || strlen(s->target) > 253)
            continue;
        n++;
    }
    /* "." means "no service" only as the one record (RFC 2782). */
    if (n == 0 && dot && nsrv == 1)
        return -1;
    return n;
}

/*
 * One getaddrinfo_a request.  gai_cancel() cannot stop a lookup that is
 * already running (EAI_NOTCANCELED): glibc's worker thread goes on
 * reading the name, service and hints and finally writes the result
 * into the gaicb.  So all of it lives on the heap, and a request given
 * up at the deadline is abandoned, never freed: it stays on a list so
 * that leak checkers still see it.  The process exits soon after.
 */
struct gai_job {
    struct gaicb req;
    struct addrinfo hints;
    char service[8];
    char *name;
    struct gai_job *next; /* abandoned jobs */
};

static struct gai_job *abandoned_jobs;
static pthread_mutex_t abandoned_mu = PTHREAD_MUTEX_INITIALIZER;

static void gai_job_abandon(struct gai_job *j)
{
    pthread_mutex_lock(&abandoned_mu);
    j->next = abandoned_jobs;
    abandoned_jobs = j;
    pthread_mutex_unlock(&abandoned_mu);
}

static void gai_job_free(struct gai_job *j)
{
    free(j->name);
    free(j);
}

/* getaddrinfo bounded by the deadline.  0 or an EAI_* code. */
static int resolve(const char *host,
                   unsigned port,
                   long long deadline,
                   struct addrinfo **res)
{
    struct gai_job *j = xcalloc(1, sizeof *j);
    snprintf(j->service, sizeof j->service, "%u", port);
    j->hints.ai_family = AF_UNSPEC;
    j->hints.ai_socktype = SOCK_STREAM;
    j->hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    /* IP literals (the usual --server) need no lookup and no thread. */
    j->hints.ai_flags |= AI_NUMERICHOST;
    if (getaddrinfo(host, j->service, &j->hints, res) == 0) {
        gai_job_free(j);
        return 0;
    }
    j->hints.ai_flags &= ~AI_NUMERICHOST;
    j->name = xstrdup(host);
    j->req.ar_name = j->name;
    j->req.ar_service = j->service;
    j->req.ar_request = &j->hints;
    struct gaicb *list[1] = {&j->req};
    int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
    if (rc != 0) {
        gai_job_free(j);
        return rc;
    }
    for (;;) {
        int ms = ms_left(deadline);
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        rc = gai_suspend((const struct gaicb *const *)list, 1, &ts);
        if (rc == EAI_INTR)
            continue;
        if (rc == EAI_AGAIN || ms == 0) {
            if (gai_error(&j->req) == EAI_INPROGRESS) {
                int c = gai_cancel(&j->req);
                if (c == EAI_CANCELED) { /* never started */
                    gai_job_free(j);
                    return EAI_AGAIN;
                }
                if (c == EAI_NOTCANCELED) {
                    /* Running: the worker keeps using the job. */
                    gai_job_abandon(j);
                    return EAI_AGAIN;
                }
                /* EAI_ALLDONE: the answer came in meanwhile. */
            }
        }
        rc = gai_error(&j->req);
        if (rc != EAI_INPROGRESS)
            break;
    }
    *res = j->req.ar_result;
    gai_job_free(j);
    return rc;
}

/* Non-blocking connect with a timeout; returns fd or -1 (errno set). */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
        int w = net_wait(fd, 1, timeout_ms);
        if (w == 0) {
            errno = ETIMEDOUT;
        } else if (w > 0) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            errno = soerr;
            rc = soerr == 0 ? 0 : -1;
        }
    }
    if (rc != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    fcntl(fd, F_SETFL, fl);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    net_quickack(fd);
    return fd;
}

/* Try every address of host:port.  XS_OK, or the error of the last. */
static enum xs_err connect_host(const char *host,
                                unsigned port,
                                long long deadline,
                                int *fd,
                                struct xs_error *err)
{
    struct addrinfo *res = NULL;
    int rc = resolve(host, port, deadline, &res);
    if (rc == EAI_AGAIN && ms_left(deadline) == 0)
        return xs_seterr(err, XS_ETEMP, "timed out resolving %s", host);
    if (rc == EAI_AGAIN)
        return xs_seterr(err, XS_ETEMP, "cannot resolve %s: %s", host,
                         gai_strerror(rc));
    if (rc != 0)
        return xs_seterr(err, XS_ENOHOST, "cannot resolve %s: %s", host,
                         gai_strerror(rc));
    int last = 0, count = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
        count++;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next, count--) {
        int ms = ms_left(deadline);
        if (ms == 0) {
            last = ETIMEDOUT;
            break;
        }
        /* Leave time for the other addresses (RFC 8305 in spirit). */
        if (count > 1 && ms > 5000)
            ms = 5000;
        *fd = connect_one(ai, ms);
        if (*fd >= 0) {
            freeaddrinfo(res);
            return XS_OK;
        }
        last = errno;
    }
    freeaddrinfo(res);
    if (last == ETIMEDOUT)
        return xs_seterr(err, XS_ETEMP, "timed out connecting to %s port %u",
                         host, port);
    return xs_seterr(err, XS_ETEMP, "cannot connect to %s port %u: %s", host,
                     port, strerror(last));
}

/* What each connected socket goes to, and who is told of each target
 * tried (net_connect_seen; seen NULL otherwise). */
struct handoff {
    net_ready_fn ready;
    void *ud;
    net_seen_fn seen;
    void *sud;
};

/* Connect to host:port and hand the socket to 'ready'; *connected tells
 * whether a failure came from 'ready'. */
static enum xs_err connect_ready(const char *host,
                                 unsigned port,
                                 int direct,
                                 long long deadline,
                                 const struct handoff *h,
                                 int *connected,
                                 struct xs_error *err)
{
    int fd = -1;
    enum xs_err e = connect_host(host, port, deadline, &fd, err);
    *connected = e == XS_OK;
    if (e == XS_OK)
        e = h->ready(h->ud, fd, direct, err);
    if (h->seen != NULL) {
        struct net_attempt a = {host,       port, direct,
                                *connected, e,    e != XS_OK ? err->msg : ""};
        h->seen(h->sud, &a);
    }
    return e;
}

enum xs_err net_connect_seen(const char *domain,
                             const char *host,
                             int port,
                             enum net_tls tls,
                             long long deadline,
                             net_ready_fn ready,
                             void *ud,
                             net_seen_fn seen,
                             void *sud,
                             struct xs_error *err)
{
    const struct handoff h = {ready, ud, seen, sud};
    int connected = 0;
    if (host != NULL) {
        unsigned p =
            port > 0 ? (unsigned)port
                     : (tls == NET_TLS_DIRECT ? NET_XMPPS_PORT : NET_XMPP_PORT);
        int direct = tls == NET_TLS_DIRECT ||
                     (tls == NET_TLS_AUTO && p == NET_XMPPS_PORT);
        return connect_ready(host, p, direct, deadline, &h, &connected, err);
    }

    struct net_srv *recs = xcalloc(2 * MAX_SRV, sizeof *recs);
    int absent = 0;
    /* IDN: DNS knows the domain by its A-labels (jid.c keeps U-labels). */
    char *alabel = jid_domain_alabel(domain);
    int n = srv_lookup(alabel, tls, recs, deadline, &absent);
    enum xs_err e;
    if (n == -2) {
        e = xs_seterr(err, XS_ETEMP,
                      "timed out looking up the SRV records "
                      "of %s",
                      domain);
    } else if (n == 0 && absent) {
        e = xs_seterr(err, XS_ENOHOST,
                      "%s does not offer XMPP client service (SRV \".\")",
                      domain);
    } else if (n == 0) {
        /* No SRV answer: the domain itself (RFC 6120 3.2.2), on 5223
         * only when direct TLS was asked for. */
        int direct = tls == NET_TLS_DIRECT;
        e = connect_ready(alabel, direct ? NET_XMPPS_PORT : NET_XMPP_PORT,
                          direct, deadline, &h, &connected, err);
    } else {
        /* Every target in order, also after a failed direct TLS
         * handshake (XEP-0368).  Reported: the first failure of a
         * target that took the connection (what a server did), else
         * the last one. */
        struct xs_error kept = {0};
        e = XS_ETEMP;
        for (int i = 0; i < n; i++) {
            struct xs_error one = {0};
            e = connect_ready(recs[i].target, recs[i].port, recs[i].direct,
                              deadline, &h, &connected, &one);
            if (e == XS_OK)
                break;
            /* Our own side (CA file, GnuTLS): no other target helps. */
            int ours = connected && e != XS_ETEMP && e != XS_EPROTO &&
                       e != XS_EREFUSED;
            if (connected && kept.code == XS_OK)
                kept = one;
            if (ours || i == n - 1 || ms_left(deadline) == 0) {
                const struct xs_error *w =
                    !ours && kept.code != XS_OK ? &kept : &one;
                e = xs_seterr(err, w->code != XS_OK ? w->code : e, "%s",
                              w->msg);
                break;
            }
        }
    }
    free(recs);
    free(alabel);
    return e;
}

enum xs_err net_connect(const char *domain,
                        const char *host,
                        int port,
                        enum net_tls tls,
                        long long deadline,
                        net_ready_fn ready,
                        void *ud,
                        struct xs_error *err)
{
    return net_connect_seen(domain, host, port, tls, deadline, ready, ud, NULL,
                            NULL, err);
}

void net_quickack(int fd)
{
#ifdef TCP_QUICKACK
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
    (void)fd;
#endif
}

long net_read(int fd, char *buf, size_t n, int timeout_ms, struct xs_error *err)
{
    int w = net_wait(fd, 0, timeout_ms);
    if (w == 0)
        return XS_IO_TIMEOUT;
    for (;;) {
        ssize_t r = recv(fd, buf, n, 0);
        if (r > 0)
            net_quickack(fd);
        if (r >= 0)
            return (long)r;
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET)
            xs_seterr(err, XS_ETEMP, "connection reset by server");
        else
            xs_seterr(err, XS_EIO, "read error: %s", strerror(errno));
        return -1;
    }
}

enum xs_err net_write(
    int fd, const char *buf, size_t n, int timeout_ms, struct xs_error *err)
{
    long long deadline = xs_now_ms() + timeout_ms;
    while (n > 0) {
        int w = net_wait(fd, 1, ms_left(deadline));
        if (w == 0)
            return xs_seterr(err, XS_ETEMP, "timed out writing to server");
        ssize_t r = send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            if (errno == ECONNRESET || errno == EPIPE)
                return xs_seterr(err, XS_ETEMP, "connection reset by server");
            return xs_seterr(err, XS_EIO, "write error: %s", strerror(errno));
        }
        buf += r;
        n -= (size_t)r;
    }
    return XS_OK;
}
