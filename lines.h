/* SPDX-License-Identifier: MIT */
/*
 * lines.h - line mode (-i/--each-line): every line of the input is its
 * own message, over one session that is re-established when it drops.
 *
 * Each message is sent and confirmed (xmpp_send: the ping reply) before
 * the next line is taken, so at most one message is ever unconfirmed.
 * When the connection drops, the loop reconnects with backoff, resumes
 * the session where the server offers XEP-0198 resumption (a message the
 * server had is not sent again), else sends the unconfirmed message
 * again with its original stanza id; a confirmed message is never sent
 * again.  Nothing here prints: results
 * and notes go to the caller's callbacks.
 */
#ifndef XMPPSEND_LINES_H
#define XMPPSEND_LINES_H

#include <stddef.h>

#include "io.h"
#include "util.h"
#include "xmpp.h"

/* Longest line sent; a longer one is refused (XS_EDATA), the others go. */
#define LINES_MAX_BODY (1024L * 1024)

struct lines_job {
    struct xmpp_config cfg; /* its deadline is re-armed per message */
    struct xmpp_message m;  /* type, subject, thread; body per line */
    const char *const *rcpt;
    size_t nr;
    int in_fd;          /* the lines (standard input) */
    int timeout_s;      /* per message, and per connection attempt */
    int max_attempts;   /* connection attempts in a row before XS_ETEMP */
    int backoff_max_ms; /* waits between attempts: 1 s, 2 s, ... this */
    int idle_ms;        /* while no line comes, look at the connection
                           this often (answer the server, notice a close) */
    /*
     * Open a connection: fill 'io', valid until disconnect.  The
     * deadline is that of this attempt.
     */
    enum xs_err (*connect)(void *ud,
                           long long deadline,
                           struct xs_io *io,
                           struct xs_error *err);
    void (*disconnect)(void *ud);
    /* One message done: the recipients' status and ids.  Returns the
     * exit class of the first failed recipient (XS_OK: none). */
    enum xs_err (*sent)(void *ud, const struct xmpp_recipient *r, size_t n);
    /* A line that was not sent, or a connection that dropped: 'code' is
     * the class (XS_EDATA, XS_ETEMP), 'text' says what happened. */
    void (*note)(void *ud, enum xs_err code, const char *text);
    void *ud;
    /* out */
    unsigned long lines_sent; /* messages confirmed */
    unsigned long reconnects; /* sessions after the first */
};

/*
 * Read lines from job->in_fd until its end and send each non-blank one
 * (CR LF or LF ends a line; a last line without one counts; invalid
 * characters are replaced as for a body).  Returns XS_OK when every
 * line went through, else the class of the first line that failed
 * (XS_EDATA: too long; a bounce's class), or the error that ended the
 * run: authentication, a protocol error, no connection after
 * max_attempts (XS_ETEMP), an input error (XS_EIO).
 */
enum xs_err lines_run(struct lines_job *job, struct xs_error *err);

struct tls_opts;  /* tls.h */
struct transport; /* tls.h */

/* The real connect/disconnect for a lines_job (ud: a struct lines_net):
 * net_connect to 'host' (NULL: SRV of 'domain'), then tls.c's
 * transport, whose deadline is that of the attempt. */
struct lines_net {
    const char *domain;
    const char *host;
    int port;
    int tls_mode; /* enum net_tls: --tls */
    struct tls_opts *tls;
    struct transport *t; /* the current connection, or NULL */
};
enum xs_err lines_net_connect(void *ud,
                              long long deadline,
                              struct xs_io *io,
                              struct xs_error *err);
void lines_net_disconnect(void *ud);

#endif
