/*
 * delay.c - hold every packet of an NFQUEUE queue for a fixed time, then
 * accept it (the benchmark's injected round-trip time; this kernel has no
 * netem). Used by bench/rt.sh inside a private network namespace:
 *
 *   iptables -A OUTPUT -o lo -p tcp -j NFQUEUE --queue-num 0
 *   delay [-q QUEUE] [-l LOG] [-r READY] DELAY_MS
 *
 * On loopback every packet passes OUTPUT once, so DELAY_MS on each packet
 * adds 2 * DELAY_MS to the round-trip time. The delay is the same for every
 * packet, so a FIFO keeps their order: one thread, poll() on the netlink
 * socket with a timeout until the oldest packet is due. With -l, one line
 * per released TCP packet:
 *
 *   T_IN_US T_OUT_US SPORT DPORT FLAGS PAYLOAD_BYTES
 *
 * (CLOCK_REALTIME in microseconds when the packet was queued and when it
 * was released; FLAGS a subset of "SAFR", "." for none). bench/rtreport.py
 * turns that into round trips per connection. READY is written once the
 * queue is bound. SIGUSR1: no delay from now on (packets already held keep
 * theirs, and their order); SIGUSR2: DELAY_MS again, so that runs with and
 * without the delay can alternate under the same machine load.
 * SIGTERM/SIGINT: release what is held, flush, exit 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnfnetlink/libnfnetlink.h>

struct held {
    uint32_t id;
    int64_t due;  /* CLOCK_MONOTONIC, ns */
    int64_t t_in; /* CLOCK_REALTIME, us */
    uint16_t sport, dport;
    uint16_t len;   /* TCP payload bytes */
    uint8_t flags;  /* TCP flags */
    uint8_t is_tcp; /* log only TCP */
};

static struct held *ring;
static size_t cap, head, count;
static int64_t delay_ns;
static volatile sig_atomic_t no_delay; /* SIGUSR1 sets, SIGUSR2 clears */
static FILE *logf;
static unsigned long released, failed;
static volatile sig_atomic_t stop;

static int64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        no_delay = 1;
    else if (sig == SIGUSR2)
        no_delay = 0;
    else
        stop = 1;
}

static int push(const struct held *h)
{
    if (count == cap) {
        size_t ncap = cap ? cap * 2 : 4096, i;
        struct held *n = malloc(ncap * sizeof(*n));
        if (!n)
            return -1;
        for (i = 0; i < count; i++)
            n[i] = ring[(head + i) % cap];
        free(ring);
        ring = n;
        cap = ncap;
        head = 0;
    }
    ring[(head + count) % cap] = *h;
    count++;
    return 0;
}

static void parse(struct held *h, const unsigned char *p, int n)
{
    const struct iphdr *ip = (const void *)p;
    size_t ihl, thl, tot;

    h->is_tcp = 0;
    if (n < (int)sizeof(*ip) || ip->version != 4 || ip->protocol != 6)
        return;
    ihl = (size_t)ip->ihl * 4;
    tot = ntohs(ip->tot_len);
    if ((size_t)n < ihl + sizeof(struct tcphdr))
        return;
    const struct tcphdr *t = (const void *)(p + ihl);
    thl = (size_t)t->doff * 4;
    h->is_tcp = 1;
    h->sport = ntohs(t->source);
    h->dport = ntohs(t->dest);
    h->flags = (uint8_t)((t->syn ? 1 : 0) | (t->ack ? 2 : 0) |
                         (t->fin ? 4 : 0) | (t->rst ? 8 : 0));
    h->len = tot > ihl + thl ? (uint16_t)(tot - ihl - thl) : 0;
}

static int on_packet(struct nfq_q_handle *qh,
                     struct nfgenmsg *msg,
                     struct nfq_data *nfa,
                     void *data)
{
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    unsigned char *payload;
    struct held h;
    int n;

    (void)msg;
    (void)data;
    if (!ph)
        return 0;
    memset(&h, 0, sizeof(h));
    h.id = ntohl(ph->packet_id);
    h.t_in = now_ns(CLOCK_REALTIME) / 1000;
    h.due = now_ns(CLOCK_MONOTONIC) + (no_delay ? 0 : delay_ns);
    n = nfq_get_payload(nfa, &payload);
    if (n > 0)
        parse(&h, payload, n);
    if (push(&h) < 0) /* out of memory: let it through now */
        return nfq_set_verdict(qh, h.id, NF_ACCEPT, 0, NULL);
    return 0;
}

static void release(struct nfq_q_handle *qh, const struct held *h)
{
    if (nfq_set_verdict(qh, h->id, NF_ACCEPT, 0, NULL) < 0)
        failed++;
    released++;
    if (!logf || !h->is_tcp)
        return;
    char fl[5], *f = fl;
    if (h->flags & 1)
        *f++ = 'S';
    if (h->flags & 2)
        *f++ = 'A';
    if (h->flags & 4)
        *f++ = 'F';
    if (h->flags & 8)
        *f++ = 'R';
    if (f == fl)
        *f++ = '.';
    *f = '\0';
    fprintf(logf, "%lld %lld %u %u %s %u\n", (long long)h->t_in,
            (long long)(now_ns(CLOCK_REALTIME) / 1000), h->sport, h->dport, fl,
            h->len);
}

static void release_due(struct nfq_q_handle *qh, int all)
{
    int64_t now = now_ns(CLOCK_MONOTONIC);

    while (count && (all || ring[head].due <= now)) {
        release(qh, &ring[head]);
        head = (head + 1) % cap;
        count--;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: delay [-q QUEUE] [-l LOG] [-r READY] DELAY_MS\n");
    exit(64);
}

int main(int argc, char **argv)
{
    const char *logpath = NULL, *ready = NULL;
    unsigned long qnum = 0;
    struct nfq_handle *nh;
    struct nfq_q_handle *qh;
    char buf[65536] __attribute__((aligned));
    struct sigaction sa;
    char *end;
    int c, fd, one = 1;

    while ((c = getopt(argc, argv, "q:l:r:")) != -1) {
        switch (c) {
        case 'q':
            qnum = strtoul(optarg, &end, 10);
            if (*end || qnum > 65535)
                usage();
            break;
        case 'l':
            logpath = optarg;
            break;
        case 'r':
            ready = optarg;
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1)
        usage();
    unsigned long ms = strtoul(argv[optind], &end, 10);
    if (*end || end == argv[optind] || ms > 10000)
        usage();
    delay_ns = (int64_t)ms * 1000000;

    if (logpath) {
        logf = fopen(logpath, "w");
        if (!logf) {
            fprintf(stderr, "delay: %s: %s\n", logpath, strerror(errno));
            return 74;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);

    nh = nfq_open();
    if (!nh) {
        fprintf(stderr, "delay: nfq_open: %s\n", strerror(errno));
        return 69;
    }
    nfq_unbind_pf(nh, AF_INET); /* old kernels; harmless on new ones */
    if (nfq_bind_pf(nh, AF_INET) < 0) {
        fprintf(stderr, "delay: nfq_bind_pf: %s\n", strerror(errno));
        return 69;
    }
    qh = nfq_create_queue(nh, (uint16_t)qnum, on_packet, NULL);
    if (!qh) {
        fprintf(stderr, "delay: queue %lu: %s\n", qnum, strerror(errno));
        return 69;
    }
    /* Headers are enough: IP + TCP with options fit in 128 bytes. */
    if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 128) < 0 ||
        nfq_set_queue_maxlen(qh, 1 << 16) < 0) {
        fprintf(stderr, "delay: cannot configure the queue\n");
        return 69;
    }
    nfnl_rcvbufsiz(nfq_nfnlh(nh), 16 << 20);
    fd = nfq_fd(nh);
    /* A lost notification would hold its packet forever: no ENOBUFS. */
    setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
    if (ready) {
        FILE *r = fopen(ready, "w");
        if (r) {
            fprintf(r, "%d\n", (int)getpid());
            fclose(r);
        }
    }

    while (!stop) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        struct timespec ts, *tp = NULL;
        if (count) { /* ppoll: nanoseconds, so no rounding to 1 ms */
            int64_t wait = ring[head].due - now_ns(CLOCK_MONOTONIC);
            if (wait < 0)
                wait = 0;
            ts.tv_sec = (time_t)(wait / 1000000000);
            ts.tv_nsec = (long)(wait % 1000000000);
            tp = &ts;
        }
        int r = ppoll(&pfd, 1, tp, NULL);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (pfd.revents & POLLIN)) {
            /* drain everything that is ready before releasing */
            for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n <= 0)
                    break;
                nfq_handle_packet(nh, buf, (int)n);
            }
        }
        release_due(qh, 0);
    }
    release_due(qh, 1);
    nfq_destroy_queue(qh);
    nfq_close(nh);
    free(ring);
    if (logf && fclose(logf) != 0)
        return 74;
    fprintf(stderr, "delay: %lu packets released, %lu verdicts failed\n",
            released, failed);
    return failed ? 70 : 0;
}
