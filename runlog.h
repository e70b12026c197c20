/* SPDX-License-Identifier: MIT */
/*
 * runlog.h - the one line per run that --log and --syslog write, like
 * msmtp's log: when, which account and server, how it logged in, to
 * whom, how much, how many round trips, and how it ended.
 */
#ifndef XMPPSEND_RUNLOG_H
#define XMPPSEND_RUNLOG_H

#include <stddef.h>

#include "util.h"

struct runlog {
    const char *account;     /* bare JID */
    const char *server;      /* "HOST:PORT" or "DOMAIN (SRV)" */
    int tls;                 /* 13: TLS 1.3, 12: TLS 1.2, 0: not reached */
    const char *mech;        /* SASL mechanism, NULL: not reached */
    int sasl2;               /* logged in with SASL2 + Bind2 */
    const char *const *rcpt; /* recipients (users and rooms) */
    const int *failed;       /* per recipient: 1 when refused */
    size_t nrcpt;
    size_t bytes;         /* the message body */
    unsigned round_trips; /* TCP + TLS + XMPP; 0: not connected */
    int exitcode;         /* the run's exit status */
    const char *error;    /* the error line, NULL: none */
};

/* The line (no newline) into 'out'; 'stamp': begin with the local time
 * (a file's line; syslog has its own). */
void runlog_format(const struct runlog *r, int stamp, struct buf *out);

/* "EX_OK", "EX_TEMPFAIL", ... for a sysexits code. */
const char *runlog_exit_name(int code);

/* The syslog(3) facility called 'name' (user, mail, daemon, local0 to
 * local7), or -1. */
int runlog_facility(const char *name);

/* Append 'line' and a newline to 'path' ("-": standard error), created
 * with mode 0600.  Errors: XS_EOS, XS_EIO. */
enum xs_err
runlog_append(const char *path, const char *line, struct xs_error *err);

/* Send 'line' to syslog with 'facility' (LOG_INFO, LOG_ERR if failed). */
void runlog_syslog(int facility, int failed, const char *line);

#endif
