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

/*
 * Connect to the XMPP service of 'domain'.  With 'host' (from --server)
 * connect to host:port (port 0: 5222) without SRV; otherwise look up
 * _xmpp-client._tcp.DOMAIN and fall back to DOMAIN:5222 when there is no
 * SRV answer.  Tries every address of every target until the deadline.
 * On success *fd is a connected blocking TCP socket with TCP_NODELAY.
 * Used error codes: XS_ENOHOST (name does not resolve, service not
 * offered), XS_ETEMP (refused, unreachable, timed out, DNS temporary).
 */
enum xs_err net_connect(const char *domain,
                        const char *host,
                        int port,
                        long long deadline,
                        int *fd,
                        struct xs_error *err);

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
