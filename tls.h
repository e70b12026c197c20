/* SPDX-License-Identifier: MIT */
/*
 * tls.h - the real transport behind 'struct xs_io': a TCP socket that
 * turns into a GnuTLS session on STARTTLS.  The only module that
 * includes <gnutls/gnutls.h> for TLS.
 */
#ifndef XMPPSEND_TLS_H
#define XMPPSEND_TLS_H

#include "util.h"
#include "io.h"

#define TLS_PIN_LEN 32 /* SHA-256 */

struct tls_opts {
    const char *domain;       /* reference identity: the JID's domain */
    const char *cafile;       /* NULL: the system trust store */
    const unsigned char *pin; /* TLS_PIN_LEN bytes, or NULL */
    int insecure;             /* no verification at all */
};

struct transport; /* opaque */

/*
 * Prepare a transport over connected socket 'fd' (owned from now on:
 * transport_free closes it).  Loads the trust anchors.
 * Used error codes: XS_ENOINPUT (cafile unreadable or without
 * certificates), XS_ESOFTWARE (GnuTLS set-up).
 */
struct transport *
transport_new(int fd, const struct tls_opts *o, struct xs_error *err);

/* Fill 'io' with the transport's functions. */
void transport_io(struct transport *t, struct xs_io *io);

/* Close and free; NULL is a no-op. */
void transport_free(struct transport *t);

/* Parse "sha256:HEX" (colons between bytes allowed) into out.  0 ok. */
int tls_pin_parse(const char *s, unsigned char out[TLS_PIN_LEN]);

/* GnuTLS runtime version. */
const char *tls_library_version(void);

#endif
