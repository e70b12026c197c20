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
    long long deadline;       /* the run's, xs_now_ms() clock; 0: none */
    /* Client certificate (SASL EXTERNAL): PEM chain and private key in
     * memory (the caller reads and wipes the key); NULL: none. */
    const char *cert_pem, *key_pem;
    size_t cert_len, key_len;
    int direct; /* 1: direct TLS (XEP-0368): the handshake
                   runs in transport_new, with ALPN */
    /* --serverinfo: a certificate that does not verify (or match --pin)
     * does not end the handshake; transport_info says whether and why.
     * Nothing secret may go over such a transport. */
    int probe;
};

struct transport; /* opaque */

/*
 * Prepare a transport over connected socket 'fd'.  The fd is consumed
 * whatever the outcome: transport_free closes it, and so does a failed
 * transport_new before it returns NULL (the caller must not close it
 * again).  Loads the trust anchors.  The deadline in 'o' bounds the TLS
 * close (at most 1 s without one).  With o->direct the TLS handshake
 * (ALPN xmpp-client, SNI, verification as for STARTTLS) runs here,
 * within the deadline, and transport_io's starttls is NULL.
 * Used error codes: XS_ENOINPUT (cafile unreadable or without
 * certificates), XS_ECONFIG (no system trust store; a client
 * certificate or key that GnuTLS refuses, or that do not match),
 * XS_ESOFTWARE (GnuTLS set-up); with o->direct also those of
 * xs_io.starttls.
 */
struct transport *
transport_new(int fd, const struct tls_opts *o, struct xs_error *err);

/*
 * Check that the client certificate and key of 'o' load and match (as
 * transport_new will load them), before anything connects.
 * Used error codes: XS_ECONFIG, XS_ESOFTWARE.
 */
enum xs_err tls_check_client_cert(const struct tls_opts *o,
                                  struct xs_error *err);

/* net_connect's ready function (net.h): transport_new over the socket
 * with o->direct from the target; 'ud' is a struct transport_slot,
 * whose 't' it sets. */
struct transport_slot {
    struct tls_opts *o;
    struct transport *t;
};
enum xs_err transport_ready(void *ud, int fd, int direct, struct xs_error *err);

/* Fill 'io' with the transport's functions. */
void transport_io(struct transport *t, struct xs_io *io);

/* Close and free; NULL is a no-op. */
void transport_free(struct transport *t);

/*
 * Parse a SHA-256 certificate fingerprint into out; 0 ok, -1 malformed.
 * Accepted: "sha256:" (any case; also OpenSSL's "sha256 Fingerprint=")
 * then 64 hex digits of either case, either all bytes separated by
 * colons or none: "sha256:ab12...", "SHA256:AB:12:...".
 */
int tls_pin_parse(const char *s, unsigned char out[TLS_PIN_LEN]);

/* What the TLS handshake of a transport found (--serverinfo). */
struct tls_info {
    char version[16]; /* "TLS1.3" */
    char cipher[48];  /* "AES-256-GCM" */
    char group[32];   /* key exchange group, "X25519"; "" unknown */
    char pin[7 + 2 * TLS_PIN_LEN + 1]; /* "sha256:HEX", as --pin takes */
    char *subject;                     /* allocated DN, NULL: no certificate */
    char *issuer;                      /* allocated DN */
    char **san; /* allocated: "DNS:name", "xmppAddr:jid" */
    size_t nsan;
    long long not_before, not_after; /* seconds since 1970, -1 unknown */
    int verified; /* 1: valid for the domain (or matches --pin) */
    char *why;    /* allocated: why not verified, NULL when it is */
};

/*
 * Fill 'info' from the handshake of 't' (after TLS is up; with a probe
 * transport, see tls_opts.probe).  Returns 0, or -1 when no TLS runs.
 * Free with tls_info_clear.
 */
int transport_info(struct transport *t, struct tls_info *info);
void tls_info_clear(struct tls_info *info);

/* Did the TLS handshake happen on 't' (probe: verified or not)? */
int transport_has_tls(const struct transport *t);

/* Is 't' a TLS connection whose certificate verified (or matched
 * --pin)?  A probe's verdict, or 1 after a normal handshake (which
 * fails otherwise) unless --insecure. */
int transport_verified(const struct transport *t);

/* GnuTLS runtime version. */
const char *tls_library_version(void);

#endif
