/* SPDX-License-Identifier: MIT */
/*
 * net.h - finding and connecting to the server: DNS SRV (RFC 6120 3.2),
 * getaddrinfo, non-blocking connect, all within one deadline; plain
 * reads and writes with timeouts.
 */
#ifndef XMPPSEND_NET_H
#define XMPPSEND_NET_H

#include <stddef.h>

#include "util.h"

#define NET_XMPP_PORT 5222
#define NET_XMPPS_PORT 5223 /* direct TLS (XEP-0368) */

/* How TLS starts on a connection: STARTTLS (RFC 6120 5.4) or with the
 * first byte (XEP-0368 direct TLS); AUTO: by the port or SRV name. */
enum net_tls { NET_TLS_AUTO = 0, NET_TLS_STARTTLS, NET_TLS_DIRECT };

/*
 * What net_connect does with a connected socket 'fd' (blocking TCP with
 * TCP_NODELAY; 'direct': 1 when TLS must start at once, XEP-0368): set
 * up the transport over it, consuming fd whatever the outcome.  XS_OK,
 * or an error code with 'err' set.
 */
typedef enum xs_err (*net_ready_fn)(void *ud,
                                    int fd,
                                    int direct,
                                    struct xs_error *err);

/*
 * Connect to the XMPP service of 'domain' and hand the socket to
 * 'ready'.  With 'host' (from --server) connect to host:port without
 * SRV: port 0 is 5223 with 'tls' DIRECT, else 5222; the connection is
 * direct TLS when 'tls' says so, or with AUTO when the port is 5223.
 * Otherwise look up _xmpps-client._tcp and _xmpp-client._tcp.DOMAIN
 * ('tls' DIRECT or STARTTLS: only that one) and try the targets in
 * net_srv_order's order, each with its kind, going on to the next one
 * when a target cannot be reached or 'ready' fails with XS_ETEMP,
 * XS_EPROTO or XS_EREFUSED (a direct TLS handshake); with no SRV answer,
 * fall back to DOMAIN:5222 (5223 with direct TLS asked for).  Tries
 * every address of every target until the deadline.
 * Used error codes: XS_ENOHOST (name does not resolve, service not
 * offered), XS_ETEMP (refused, unreachable, timed out, DNS temporary),
 * and those of 'ready'.
 */
enum xs_err net_connect(const char *domain,
                        const char *host,
                        int port,
                        enum net_tls tls,
                        long long deadline,
                        net_ready_fn ready,
                        void *ud,
                        struct xs_error *err);

/* One target net_connect tried: host, port and kind; whether TCP
 * connected ('ready' ran); the outcome (XS_OK, or the error and its
 * text). */
struct net_attempt {
    const char *host;
    unsigned port;
    int direct;
    int connected;
    enum xs_err e;
    const char *msg;
};
typedef void (*net_seen_fn)(void *ud, const struct net_attempt *a);

/*
 * net_connect, telling 'seen' of every target after it was tried, in
 * order (--serverinfo).  The same lookup, order and rules as a send;
 * not reentrant (one connection at a time, as the process makes them).
 */
enum xs_err net_connect_seen(const char *domain,
                             const char *host,
                             int port,
                             enum net_tls tls,
                             long long deadline,
                             net_ready_fn ready,
                             void *ud,
                             net_seen_fn seen,
                             void *sud,
                             struct xs_error *err);

/* One SRV record; 'direct': from _xmpps-client (XEP-0368). */
struct net_srv {
    char target[256];
    unsigned prio, weight, port;
    int direct;
};

/*
 * Sort records into the order to try them: ascending priority; within a
 * priority direct TLS first (XEP-0368); within a priority and kind
 * RFC 2782's weighted random selection (weight 0 first, then draw a
 * number r in [0, sum of weights], take the first record whose running
 * sum reaches r, repeat).  'draw' gives the random numbers (taken modulo
 * sum + 1); NULL: getrandom.
 */
void net_srv_order(struct net_srv *r,
                   size_t n,
                   unsigned (*draw)(void *ud),
                   void *ud);

/* Read like xs_io.read: > 0, 0 at EOF, XS_IO_TIMEOUT, -1 with err. */
long net_read(
    int fd, char *buf, size_t n, int timeout_ms, struct xs_error *err);

/* Write everything within timeout_ms.  Used: XS_ETEMP, XS_EIO. */
enum xs_err net_write(
    int fd, const char *buf, size_t n, int timeout_ms, struct xs_error *err);

/* Wait until 'fd' is readable (events POLLIN) or writable; 1 ready,
 * 0 timed out, -1 error. */
int net_wait(int fd, int writable, int timeout_ms);

/*
 * Acknowledge what arrives at once (Linux TCP_QUICKACK, which the kernel
 * turns off again by itself: call it after every read).  A server that
 * keeps Nagle on (Prosody's default) holds its next segment until our
 * ACK of the last; a delayed ACK (~40 ms) would stall every step.
 */
void net_quickack(int fd);

#endif
