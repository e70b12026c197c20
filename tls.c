/* SPDX-License-Identifier: MIT */
/*
 * tls.c - TCP and GnuTLS behind 'struct xs_io'.
 *
 * TLS 1.2 minimum (Debian's NORMAL still allows 1.0/1.1, protocol.md
 * 1.3), SNI and certificate verification against the JID's domain during
 * the handshake (gnutls_session_set_verify_cert), never against the
 * connect host.  --pin replaces path validation by an exact SHA-256
 * match of the server's certificate, checked before anything is sent.
 * Every wait is bounded by the timeout the session passes in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "net.h"
#include "tls.h"

struct transport {
    int fd;
    gnutls_certificate_credentials_t cred;
    gnutls_session_t tls; /* NULL until STARTTLS */
    char *domain;         /* A-label of the reference identity */
    unsigned char pin[TLS_PIN_LEN];
    int use_pin;
    int insecure;
};

static int ms_until(long long deadline)
{
    long long left = deadline - xs_now_ms();
    return left <= 0 ? 0 : (left > 0x7fffffff ? 0x7fffffff : (int)left);
}

/* Bound blocking send() inside GnuTLS (SO_SNDTIMEO); at least 1 ms. */
static void send_timeout(int fd, int ms)
{
    if (ms < 1)
        ms = 1;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

struct transport *
transport_new(int fd, const struct tls_opts *o, struct xs_error *err)
{
    struct transport *t = xcalloc(1, sizeof *t);
    t->fd = fd;
    t->insecure = o->insecure;
    if (o->pin != NULL) {
        memcpy(t->pin, o->pin, TLS_PIN_LEN);
        t->use_pin = 1;
    }
    /* IDN: DNS, SNI and certificate checks need the A-label. */
    gnutls_datum_t al = {NULL, 0};
    if (gnutls_idna_map(o->domain, (unsigned)strlen(o->domain), &al, 0) == 0) {
        t->domain = xstrndup((const char *)al.data, al.size);
        gnutls_free(al.data);
    } else {
        t->domain = xstrdup(o->domain);
    }
    if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
        xs_seterr(err, XS_ESOFTWARE, "cannot set up GnuTLS credentials");
        goto fail;
    }
    if (o->cafile != NULL) {
        int n = gnutls_certificate_set_x509_trust_file(t->cred, o->cafile,
                                                       GNUTLS_X509_FMT_PEM);
        if (n <= 0) {
            xs_seterr(err, XS_ENOINPUT, "no usable CA certificate in %s",
                      o->cafile);
            goto fail;
        }
    } else if (!o->insecure && o->pin == NULL) {
        if (gnutls_certificate_set_x509_system_trust(t->cred) <= 0) {
            xs_seterr(err, XS_ECONFIG,
                      "cannot load the system's trusted CA certificates "
                      "(use --cafile)");
            goto fail;
        }
    }
    return t;
fail:
    transport_free(t);
    return NULL;
}

void transport_free(struct transport *t)
{
    if (t == NULL)
        return;
    if (t->tls != NULL)
        gnutls_deinit(t->tls);
    if (t->cred != NULL)
        gnutls_certificate_free_credentials(t->cred);
    if (t->fd >= 0)
        close(t->fd);
    free(t->domain);
    free(t);
}

/* Is 's' an IP literal?  SNI must not carry one (RFC 6066 3). */
static int is_ip(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static enum xs_err check_pin(struct transport *t, struct xs_error *err)
{
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(t->tls, &n);
    unsigned char h[TLS_PIN_LEN];
    if (certs == NULL || n == 0 ||
        gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, h) <
            0)
        return xs_seterr(err, XS_EREFUSED,
                         "server presented no certificate to match --pin");
    if (gnutls_memcmp(h, t->pin, sizeof h) != 0)
        return xs_seterr(err, XS_EREFUSED,
                         "server certificate does not match --pin");
    return XS_OK;
}

static enum xs_err
handshake_error(struct transport *t, int r, struct xs_error *err)
{
    if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
        unsigned st = gnutls_session_get_verify_cert_status(t->tls);
        gnutls_datum_t msg = {NULL, 0};
        gnutls_certificate_verification_status_print(
            st, gnutls_certificate_type_get(t->tls), &msg, 0);
        xs_seterr(err, XS_EREFUSED,
                  "TLS certificate verification failed for %s: %s", t->domain,
                  msg.data ? (const char *)msg.data : "invalid");
        gnutls_free(msg.data);
        return XS_EREFUSED;
    }
    if (r == GNUTLS_E_TIMEDOUT)
        return xs_seterr(err, XS_ETEMP, "timed out in the TLS handshake");
    if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PULL_ERROR ||
        r == GNUTLS_E_PUSH_ERROR)
        return xs_seterr(err, XS_ETEMP,
                         "connection lost during the TLS handshake");
    return xs_seterr(err, XS_EREFUSED, "TLS handshake failed: %s",
                     gnutls_strerror(r));
}

static enum xs_err do_starttls(void *ctx, int timeout_ms, struct xs_error *err)
{
    struct transport *t = ctx;
    const char *errpos = NULL;
    long long deadline = xs_now_ms() + timeout_ms;
    char c;

    /* A server may send nothing between <proceed/> and our ClientHello;
     * bytes already waiting are an injection attempt (protocol.md 2.2).
     * xmpp.c catches those that arrived with <proceed/> itself. */
    if (recv(t->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
        return xs_seterr(err, XS_EPROTO,
                         "server sent cleartext bytes after <proceed/> "
                         "(injection attempt); aborting");
    if (gnutls_init(&t->tls, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL) < 0 ||
        gnutls_set_default_priority_append(
            t->tls, "-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS-ALL", &errpos, 0) <
            0 ||
        gnutls_credentials_set(t->tls, GNUTLS_CRD_CERTIFICATE, t->cred) < 0)
        return xs_seterr(err, XS_ESOFTWARE, "cannot set up a TLS session");
    if (!is_ip(t->domain))
        gnutls_server_name_set(t->tls, GNUTLS_NAME_DNS, t->domain,
                               strlen(t->domain));
    if (!t->insecure && !t->use_pin)
        gnutls_session_set_verify_cert(t->tls, t->domain, 0);
    gnutls_transport_set_int(t->tls, t->fd);
    gnutls_handshake_set_timeout(t->tls,
                                 (unsigned)(timeout_ms ? timeout_ms : 1));
    send_timeout(t->fd, timeout_ms);
    int r;
    do {
        r = gnutls_handshake(t->tls);
    } while (r < 0 && !gnutls_error_is_fatal(r) && ms_until(deadline) > 0);
    if (r < 0)
        return handshake_error(
            t, !gnutls_error_is_fatal(r) ? GNUTLS_E_TIMEDOUT : r, err);
    if (t->use_pin)
        return check_pin(t, err);
    return XS_OK;
}

static long
do_read(void *ctx, char *buf, size_t n, int timeout_ms, struct xs_error *err)
{
    struct transport *t = ctx;
    if (t->tls == NULL)
        return net_read(t->fd, buf, n, timeout_ms, err);
    long long deadline = xs_now_ms() + timeout_ms;
    for (;;) {
        int left = ms_until(deadline);
        if (gnutls_record_check_pending(t->tls) == 0 &&
            net_wait(t->fd, 0, left) == 0)
            return XS_IO_TIMEOUT;
        /* A record may arrive slowly: bound the read of it too. */
        gnutls_record_set_timeout(t->tls, left > 0 ? (unsigned)left : 1);
        ssize_t r = gnutls_record_recv(t->tls, buf, n);
        if (r >= 0)
            return (long)r;
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
            /* TLS 1.3 session tickets end a blocking read this way. */
            if (ms_until(deadline) == 0)
                return XS_IO_TIMEOUT;
            continue;
        }
        if (r == GNUTLS_E_TIMEDOUT)
            return XS_IO_TIMEOUT;
        if (r == GNUTLS_E_PREMATURE_TERMINATION)
            return 0; /* TCP closed without close_notify */
        if (r == GNUTLS_E_PULL_ERROR)
            xs_seterr(err, XS_ETEMP, "connection reset by server");
        else
            xs_seterr(err, XS_EPROTO, "TLS error: %s", gnutls_strerror((int)r));
        return -1;
    }
}

static enum xs_err do_write(
    void *ctx, const char *buf, size_t n, int timeout_ms, struct xs_error *err)
{
    struct transport *t = ctx;
    if (t->tls == NULL)
        return net_write(t->fd, buf, n, timeout_ms, err);
    long long deadline = xs_now_ms() + timeout_ms;
    while (n > 0) {
        int left = ms_until(deadline);
        if (left == 0)
            return xs_seterr(err, XS_ETEMP, "timed out writing to server");
        send_timeout(t->fd, left);
        ssize_t r = gnutls_record_send(t->tls, buf, n);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            continue;
        if (r < 0)
            return xs_seterr(err, XS_ETEMP, "cannot write to server: %s",
                             gnutls_strerror((int)r));
        buf += r;
        n -= (size_t)r;
    }
    return XS_OK;
}

static void do_shutdown(void *ctx)
{
    struct transport *t = ctx;
    if (t->tls != NULL) {
        send_timeout(t->fd, 1000);
        gnutls_bye(t->tls, GNUTLS_SHUT_WR);
    }
    shutdown(t->fd, SHUT_WR);
}

void transport_io(struct transport *t, struct xs_io *io)
{
    io->read = do_read;
    io->write = do_write;
    io->starttls = do_starttls;
    io->shutdown = do_shutdown;
    io->ctx = t;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int tls_pin_parse(const char *s, unsigned char out[TLS_PIN_LEN])
{
    if (strncmp(s, "sha256:", 7) != 0)
        return -1;
    s += 7;
    for (size_t i = 0; i < TLS_PIN_LEN; i++) {
        if (i > 0 && *s == ':')
            s++;
        int hi = hexval((unsigned char)s[0]);
        int lo = hi < 0 ? -1 : hexval((unsigned char)s[1]);
        if (lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
        s += 2;
    }
    return *s == '\0' ? 0 : -1;
}

const char *tls_library_version(void)
{
    return gnutls_check_version(NULL);
}
