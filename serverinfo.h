/* SPDX-License-Identifier: MIT */
/*
 * serverinfo.h - the --serverinfo job: what each server of a domain
 * offers, gathered the way a send would connect (net_connect's lookup
 * and order), without logging in: TLS version and cipher, the
 * certificate (subject, names, issuer, validity, its --pin, whether it
 * verifies and why not) and the stream features after TLS.  With
 * --login, on a normal logged-in session: the bound JID, the HTTP upload
 * service and the group chat service.  Prints nothing (xmppsend.c does).
 */
#ifndef XMPPSEND_SERVERINFO_H
#define XMPPSEND_SERVERINFO_H

#include <stddef.h>

#include "net.h"
#include "tls.h"
#include "util.h"
#include "xmpp.h"

/* One server tried, in the order a send tries them. */
struct serverinfo_target {
    char *host; /* allocated */
    unsigned port;
    int direct;    /* direct TLS (XEP-0368), else STARTTLS */
    int connected; /* TCP connected */
    int has_tls;   /* 'tls' is filled: the handshake completed */
    struct tls_info tls;
    int has_features; /* 'f' is filled */
    struct xmpp_features f;
    enum xs_err e; /* XS_OK: verified, and a usable login is offered */
    char *error;   /* allocated: why not (NULL when e is XS_OK) */
};

struct serverinfo {
    char *domain; /* allocated */
    struct serverinfo_target *t;
    size_t n;
    /* --login */
    int logged_in;
    char *bound_jid;      /* allocated, NULL: none */
    char *upload;         /* the XEP-0363 service, NULL: none found */
    long long upload_max; /* its max-file-size, -1: not stated */
    char *muc;            /* the XEP-0045 service, NULL: none found */
};

struct serverinfo_opts {
    /* The account's bare JID when it is of this domain, else NULL: the
     * stream header names it (from=) on a verified connection only. */
    const char *account;
    const char *host; /* --server, NULL: SRV */
    int port;
    enum net_tls tls_mode;
    /* TLS options (domain = the domain asked about, cafile, pin,
     * insecure, deadline); 'probe' and 'direct' are set here. */
    struct tls_opts tls;
    /* Session settings: deadline, trace, mechanisms, sasl2, resource,
     * client_cert (the login a run would make); 'jid' and 'password'
     * are not used. */
    struct xmpp_config cfg;
};

/*
 * Try every target of o->tls.domain as a send would, each over its own
 * connection: TLS (a certificate that does not verify does not stop the
 * report), the stream features after TLS, then </stream:stream>.  No
 * credentials are sent, and the account's JID only over a verified
 * connection.  Each target's outcome is in 'si';
 * the return value is XS_OK when one target verified and offers a
 * login this client can use, else the error a send would have met: the
 * first target that answered (its certificate, TLS or stream error),
 * or, when none connected, net_connect's (XS_ENOHOST, XS_ETEMP).
 * Free 'si' with serverinfo_free.
 */
enum xs_err serverinfo_probe(const struct serverinfo_opts *o,
                             struct serverinfo *si,
                             struct xs_error *err);

/*
 * --login: on the logged-in session 's', fill si's bound JID, upload
 * service and size limit (upload.c's discovery) and group chat service
 * (disco#items of the domain, disco#info of each: the first with
 * identity conference/text).  A service that is not found is not an
 * error.  Used error codes: those of xmpp_iq and xmpp_flight.
 */
enum xs_err serverinfo_login(struct xmpp_session *s,
                             struct serverinfo *si,
                             struct xs_error *err);

void serverinfo_free(struct serverinfo *si);

#endif
