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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

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
    long long deadline; /* of the run (tls_opts); 0: none */
    int first_byte;     /* first byte read in the handshake; -1: none */
    int direct;         /* TLS from the first byte (XEP-0368) */
    int probe;          /* --serverinfo: verify after, never abort */
    int probe_ok;       /* probe: verified (or matched --pin) */
    char *probe_why;    /* probe: why not, allocated */
};

/* Longest wait for the close_notify to go out (less near the deadline). */
#define TLS_BYE_MS 1000

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

/* The client certificate of 'o' (SASL EXTERNAL), if any, into 'cred';
 * GnuTLS checks that the key matches the certificate. */
static enum xs_err client_cert(gnutls_certificate_credentials_t cred,
                               const struct tls_opts *o,
                               struct xs_error *err)
{
    if (o->cert_pem == NULL || o->key_pem == NULL)
        return XS_OK;
    gnutls_datum_t cd = {(unsigned char *)(uintptr_t)o->cert_pem,
                         (unsigned)o->cert_len};
    gnutls_datum_t kd = {(unsigned char *)(uintptr_t)o->key_pem,
                         (unsigned)o->key_len};
    int r = gnutls_certificate_set_x509_key_mem2(cred, &cd, &kd,
                                                 GNUTLS_X509_FMT_PEM, NULL, 0);
    if (r < 0)
        return xs_seterr(err, XS_ECONFIG, "cannot use --cert and --key: %s",
                         gnutls_strerror(r));
    return XS_OK;
}

enum xs_err tls_check_client_cert(const struct tls_opts *o,
                                  struct xs_error *err)
{
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        return xs_seterr(err, XS_ESOFTWARE, "cannot set up GnuTLS credentials");
    enum xs_err e = client_cert(cred, o, err);
    gnutls_certificate_free_credentials(cred);
    return e;
}

static enum xs_err
tls_handshake(struct transport *t, int timeout_ms, struct xs_error *err);

struct transport *
transport_new(int fd, const struct tls_opts *o, struct xs_error *err)
{
    struct transport *t = xcalloc(1, sizeof *t);
    t->fd = fd;
    t->insecure = o->insecure;
    t->deadline = o->deadline;
    t->first_byte = -1;
    t->probe = o->probe;
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
    } else if ((!o->insecure && o->pin == NULL) || o->probe) {
        if (gnutls_certificate_set_x509_system_trust(t->cred) <= 0) {
            xs_seterr(err, XS_ECONFIG,
                      "cannot load the system's trusted CA certificates "
                      "(use --cafile)");
            goto fail;
        }
    }
    if (client_cert(t->cred, o, err) != XS_OK)
        goto fail;
    if (o->direct) {
        /* XEP-0368: TLS from the first byte, bounded by the run's
         * deadline (30 s without one). */
        t->direct = 1;
        int ms = o->deadline > 0 ? ms_until(o->deadline) : 30000;
        if (ms == 0) {
            xs_seterr(err, XS_ETEMP, "timed out before the TLS handshake");
            goto fail;
        }
        if (tls_handshake(t, ms, err) != XS_OK)
            goto fail;
    }
    return t;
fail:
    transport_free(t); /* closes fd: it is consumed on failure too */
    return NULL;
}

enum xs_err transport_ready(void *ud, int fd, int direct, struct xs_error *err)
{
    struct transport_slot *slot = ud;
    slot->o->direct = direct;
    slot->t = transport_new(fd, slot->o, err);
    return slot->t != NULL ? XS_OK : err->code;
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
    free(t->probe_why);
    free(t);
}

/* Is 's' an IP literal?  SNI must not carry one (RFC 6066 3). */
static int is_ip(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* SHA-256 of the server's certificate; 0 ok, -1 none presented. */
static int peer_pin(struct transport *t, unsigned char h[TLS_PIN_LEN])
{
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(t->tls, &n);
    if (certs == NULL || n == 0 ||
        gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data, certs[0].size, h) <
            0)
        return -1;
    return 0;
}

/* "sha256:" and 64 lowercase hex digits, as --pin takes it. */
static void pin_format(const unsigned char h[TLS_PIN_LEN],
                       char out[7 + 2 * TLS_PIN_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256:", 7);
    for (size_t i = 0; i < TLS_PIN_LEN; i++) {
        out[7 + 2 * i] = hex[h[i] >> 4];
        out[8 + 2 * i] = hex[h[i] & 15];
    }
    out[7 + 2 * TLS_PIN_LEN] = '\0';
}

static enum xs_err check_pin(struct transport *t, struct xs_error *err)
{
    unsigned char h[TLS_PIN_LEN];
    if (peer_pin(t, h) != 0)
        return xs_seterr(err, XS_EREFUSED,
                         "server presented no certificate to match --pin");
    if (gnutls_memcmp(h, t->pin, sizeof h) != 0) {
        char shown[7 + 2 * TLS_PIN_LEN + 1];
        pin_format(h, shown);
        return xs_seterr(err, XS_EREFUSED,
                         "certificate of %s does not match --pin "
                         "(server's pin: %s)",
                         t->domain, shown);
    }
    return XS_OK;
}

/* Is 'c' the first byte of a TLS record (content types 20..24)? */
static int is_record_type(int c)
{
    return c >= 20 && c <= 24;
}

/* GnuTLS's verification text for 'st', without the sentence that says
 * what the caller says already and the final period (allocated). */
static char *status_text(struct transport *t, unsigned st)
{
    gnutls_datum_t msg = {NULL, 0};
    gnutls_certificate_verification_status_print(
        st, gnutls_certificate_type_get(t->tls), &msg, 0);
    const char *why = msg.data != NULL ? (const char *)msg.data : "";
    static const char nt[] = "The certificate is NOT trusted. ";
    if (strncmp(why, nt, sizeof nt - 1) == 0)
        why += sizeof nt - 1;
    size_t len = strlen(why);
    while (len > 0 && (why[len - 1] == '.' || why[len - 1] == ' '))
        len--;
    char *out = len > 0 ? xstrndup(why, len) : xstrdup("invalid");
    gnutls_free(msg.data);
    return out;
}

static enum xs_err
handshake_error(struct transport *t, int r, struct xs_error *err)
{
    if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
        char *why =
            status_text(t, gnutls_session_get_verify_cert_status(t->tls));
        size_t len = strlen(why);
        unsigned char h[TLS_PIN_LEN];
        char shown[7 + 2 * TLS_PIN_LEN + 1];
        if (peer_pin(t, h) == 0)
            pin_format(h, shown);
        else
            snprintf(shown, sizeof shown, "unknown");
        /* Cut the reason, never the pin and the hint. */
        static const char fmt[] = "certificate of %s not trusted: %.*s "
                                  "(server's pin: %s; use --cafile FILE "
                                  "or --pin)";
        size_t fixed = sizeof fmt - 1 - 8 + strlen(t->domain) + strlen(shown);
        size_t room =
            fixed < sizeof err->msg - 1 ? sizeof err->msg - 1 - fixed : 0;
        if (len > room)
            len = room;
        xs_seterr(err, XS_EREFUSED, fmt, t->domain, (int)len, why, shown);
        free(why);
        return XS_EREFUSED;
    }
    /* Direct TLS: a server that answers in cleartext is not a direct
     * TLS port (an XMPP server on a STARTTLS port, say). */
    if (t->direct && t->first_byte >= 0 && !is_record_type(t->first_byte))
        return xs_seterr(err, XS_EPROTO,
                         "server did not answer with TLS: not a direct TLS "
                         "port? (try --tls starttls)");
    /* The first thing after <proceed/> must be a TLS record.  Anything
     * else is cleartext that arrived too late for the check before the
     * handshake (protocol.md 2.2). */
    if (t->first_byte >= 0 && !is_record_type(t->first_byte))
        return xs_seterr(err, XS_EPROTO,
                         "server sent cleartext instead of TLS after "
                         "<proceed/> (injection attempt); aborting");
    if (r == GNUTLS_E_TIMEDOUT)
        return xs_seterr(err, XS_ETEMP, "timed out in the TLS handshake");
    if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PULL_ERROR ||
        r == GNUTLS_E_PUSH_ERROR)
        return xs_seterr(err, XS_ETEMP,
                         "connection lost during the TLS handshake");
    return xs_seterr(err, XS_EREFUSED, "TLS handshake failed: %s",
                     gnutls_strerror(r));
}

/* GnuTLS reads through these to note the first byte of the handshake. */
static ssize_t tls_pull(gnutls_transport_ptr_t p, void *buf, size_t n)
{
    struct transport *t = p;
    ssize_t r = recv(t->fd, buf, n, 0);
    if (r > 0)
        net_quickack(t->fd);
    if (r > 0 && t->first_byte < 0)
        t->first_byte = ((unsigned char *)buf)[0];
    return r;
}

static int tls_pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
    struct transport *t = p;
    int w = net_wait(t->fd, 0,
                     ms == GNUTLS_INDEFINITE_TIMEOUT
                         ? -1
                         : (ms > 0x7fffffff ? 0x7fffffff : (int)ms));
    if (w < 0)
        errno = EIO;
    return w;
}

static ssize_t tls_push(gnutls_transport_ptr_t p, const void *buf, size_t n)
{
    struct transport *t = p;
    return send(t->fd, buf, n, MSG_NOSIGNAL);
}

/* --serverinfo: the verification the handshake skipped, done after it
 * and kept (the certificate against the trust anchors and the domain,
 * or against --pin); the connection goes on either way. */
static enum xs_err probe_verify(struct transport *t)
{
    unsigned st = 0;
    if (t->use_pin) {
        unsigned char h[TLS_PIN_LEN];
        t->probe_ok =
            peer_pin(t, h) == 0 && gnutls_memcmp(h, t->pin, sizeof h) == 0;
        if (!t->probe_ok)
            t->probe_why = xstrdup("does not match --pin");
        return XS_OK;
    }
    if (gnutls_certificate_verify_peers3(t->tls, t->domain, &st) < 0) {
        t->probe_why = xstrdup("cannot be verified");
        return XS_OK;
    }
    t->probe_ok = st == 0;
    if (st != 0)
        t->probe_why = status_text(t, st);
    return XS_OK;
}

/*
 * The priority string: the system's default without TLS 1.0/1.1, and
 * with X25519 (when the system allows it) moved to the front of its key
 * exchange groups, the rest in the system's order.  The ClientHello
 * then carries one key share (GNUTLS_KEY_SHARE_TOP), for X25519, which
 * every current server takes and which costs least to make; GnuTLS's
 * default makes two (SECP256R1 and X25519) and the server uses one.  A
 * server without X25519 answers with a HelloRetryRequest naming its
 * group: one round trip more, handled inside gnutls_handshake.
 * Returns allocated text.
 */
static char *tls_priority(void)
{
    static const char base[] = "-VERS-TLS1.0:-VERS-TLS1.1:-VERS-DTLS-ALL";
    gnutls_priority_t p;
    const char *errpos = NULL;
    const unsigned *groups = NULL;
    int n = 0, x25519 = 0;
    if (gnutls_priority_init2(&p, base, &errpos,
                              GNUTLS_PRIORITY_INIT_DEF_APPEND) < 0)
        return xstrdup(base);
    n = gnutls_priority_group_list(p, &groups);
    for (int i = 0; i < n; i++)
        x25519 |= groups[i] == GNUTLS_GROUP_X25519;
    struct buf b = {0};
    buf_addstr(&b, base);
    if (x25519 && groups[0] != GNUTLS_GROUP_X25519) {
        buf_addstr(&b, ":-GROUP-ALL:+GROUP-X25519");
        for (int i = 0; i < n; i++) {
            const char *name = gnutls_group_get_name(groups[i]);
            if (groups[i] != GNUTLS_GROUP_X25519 && name != NULL)
                buf_printf(&b, ":+GROUP-%s", name);
        }
    }
    gnutls_priority_deinit(p);
    return b.data;
}

/* The TLS handshake on t->fd, with SNI and verification against the
 * JID's domain (or --pin); direct TLS also offers ALPN xmpp-client. */
static enum xs_err
tls_handshake(struct transport *t, int timeout_ms, struct xs_error *err)
{
    const char *errpos = NULL;
    long long deadline = xs_now_ms() + timeout_ms;

    char *prio = tls_priority();
    int bad =
        gnutls_init(&t->tls, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL |
                                 GNUTLS_KEY_SHARE_TOP) < 0 ||
        gnutls_set_default_priority_append(t->tls, prio, &errpos, 0) < 0 ||
        gnutls_credentials_set(t->tls, GNUTLS_CRD_CERTIFICATE, t->cred) < 0;
    free(prio);
    if (bad)
        return xs_seterr(err, XS_ESOFTWARE, "cannot set up a TLS session");
    if (!is_ip(t->domain))
        gnutls_server_name_set(t->tls, GNUTLS_NAME_DNS, t->domain,
                               strlen(t->domain));
    if (t->direct) {
        /* XEP-0368: ALPN "xmpp-client".  A server that picks none is
         * fine; GnuTLS refuses one that picks what we did not offer. */
        static unsigned char name[] = "xmpp-client";
        gnutls_datum_t alpn = {name, sizeof name - 1};
        if (gnutls_alpn_set_protocols(t->tls, &alpn, 1, 0) < 0)
            return xs_seterr(err, XS_ESOFTWARE, "cannot set up TLS ALPN");
    }
    if (!t->insecure && !t->use_pin && !t->probe)
        gnutls_session_set_verify_cert(t->tls, t->domain, 0);
    gnutls_transport_set_ptr(t->tls, t);
    gnutls_transport_set_pull_function(t->tls, tls_pull);
    gnutls_transport_set_pull_timeout_function(t->tls, tls_pull_timeout);
    gnutls_transport_set_push_function(t->tls, tls_push);
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
    if (t->probe)
        return probe_verify(t);
    if (t->use_pin)
        return check_pin(t, err);
    return XS_OK;
}

static enum xs_err do_starttls(void *ctx, int timeout_ms, struct xs_error *err)
{
    struct transport *t = ctx;
    char c;

    /* A server may send nothing between <proceed/> and our ClientHello;
     * bytes already waiting are an injection attempt (protocol.md 2.2).
     * xmpp.c catches those that arrived with <proceed/> itself. */
    if (recv(t->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
        return xs_seterr(err, XS_EPROTO,
                         "server sent cleartext bytes after <proceed/> "
                         "(injection attempt); aborting");
    return tls_handshake(t, timeout_ms, err);
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
        /* Bounded by the run's deadline: past it, TCP's FIN only. */
        int ms = TLS_BYE_MS;
        if (t->deadline > 0 && ms_until(t->deadline) < ms)
            ms = ms_until(t->deadline);
        if (ms > 0) {
            send_timeout(t->fd, ms);
            gnutls_bye(t->tls, GNUTLS_SHUT_WR);
        }
    }
    shutdown(t->fd, SHUT_WR);
}

static int do_tls_version(void *ctx)
{
    struct transport *t = ctx;
    if (t->tls == NULL)
        return 0;
    switch (gnutls_protocol_get_version(t->tls)) {
    case GNUTLS_TLS1_3:
        return 13;
    case GNUTLS_TLS1_2:
        return 12;
    default:
        return 0; /* older versions are refused in the handshake */
    }
}

/*
 * Channel binding for SCRAM-*-PLUS (protocol.md 3.3).  GnuTLS computes
 * all three; what it would give but must not be used is refused here:
 * tls-unique on TLS 1.3 (undefined, RFC 9266 3) and tls-unique or
 * tls-exporter on TLS 1.2 without the extended master secret (the
 * triple handshake attack, RFC 7627; RFC 9266 4.2).  tls-server-end-point
 * is the hash of the server's certificate with its signature's hash
 * (SHA-256 for MD5 and SHA-1; RFC 5929 4.1), as GnuTLS implements it.
 */
static int do_channel_binding(void *ctx, const char *type, struct buf *out)
{
    struct transport *t = ctx;
    gnutls_channel_binding_t cbt;
    if (t->tls == NULL)
        return -1;
    int v = do_tls_version(ctx);
    int ems = gnutls_session_ext_master_secret_status(t->tls) != 0;
    if (strcmp(type, "tls-exporter") == 0 && (v == 13 || ems))
        cbt = GNUTLS_CB_TLS_EXPORTER;
    else if (strcmp(type, "tls-server-end-point") == 0 && v != 0)
        cbt = GNUTLS_CB_TLS_SERVER_END_POINT;
    else if (strcmp(type, "tls-unique") == 0 && v == 12 && ems)
        cbt = GNUTLS_CB_TLS_UNIQUE;
    else
        return -1;
    gnutls_datum_t cb = {NULL, 0};
    if (gnutls_session_channel_binding(t->tls, cbt, &cb) < 0 || cb.size == 0) {
        gnutls_free(cb.data);
        return -1;
    }
    buf_add(out, cb.data, cb.size);
    gnutls_memset(cb.data, 0, cb.size);
    gnutls_free(cb.data);
    return 0;
}

void transport_io(struct transport *t, struct xs_io *io)
{
    io->read = do_read;
    io->write = do_write;
    /* Direct TLS is up already: nothing for the session to start. */
    io->starttls = t->direct ? NULL : do_starttls;
    io->shutdown = do_shutdown;
    io->channel_binding = do_channel_binding;
    io->tls_version = do_tls_version;
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
    if (strncasecmp(s, "sha256:", 7) == 0)
        s += 7;
    else if (strncasecmp(s, "sha256 Fingerprint=", 19) == 0)
        s += 19;
    else
        return -1;
    /* Colons between the bytes: all of them, or none. */
    int colons = strlen(s) > 2 && s[2] == ':';
    for (size_t i = 0; i < TLS_PIN_LEN; i++) {
        if (i > 0 && colons && *s++ != ':')
            return -1;
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

/* ---------------------------------------------------------------- */
/* --serverinfo: what the handshake found                            */

int transport_has_tls(const struct transport *t)
{
    return t != NULL && t->tls != NULL;
}

int transport_verified(const struct transport *t)
{
    if (t == NULL || t->tls == NULL)
        return 0;
    return t->probe ? t->probe_ok : !t->insecure;
}

/* Add subject alternative name 'idx' of 'crt' to info->san, when it is
 * a DNS name or an XmppAddr (RFC 6120 13.7.1.4); 0 while there are
 * more. */
static int add_san(gnutls_x509_crt_t crt, unsigned idx, struct tls_info *info)
{
    char v[512];
    size_t len = sizeof v - 1;
    unsigned critical = 0;
    int type =
        gnutls_x509_crt_get_subject_alt_name(crt, idx, v, &len, &critical);
    if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        return -1;
    if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
        return 0;
    if (type < 0)
        return -1;
    const char *kind = NULL;
    const char *val = v;
    size_t vlen = len;
    if (type == GNUTLS_SAN_DNSNAME) {
        kind = "DNS";
    } else if (type == (int)GNUTLS_SAN_OTHERNAME_XMPP) {
        kind = "xmppAddr"; /* GnuTLS decoded the UTF8String */
    } else if (type == GNUTLS_SAN_OTHERNAME) {
        char oid[64];
        size_t olen = sizeof oid;
        if (gnutls_x509_crt_get_subject_alt_othername_oid(
                crt, idx, oid, &olen) == GNUTLS_SAN_OTHERNAME_XMPP) {
            kind = "xmppAddr";
            /* The value is a DER UTF8String: tag 12, short length. */
            if (len >= 2 && (unsigned char)v[0] == 12 &&
                (unsigned char)v[1] == len - 2) {
                val = v + 2;
                vlen = len - 2;
            }
        }
    }
    if (kind == NULL)
        return 0;
    char *text = text_printable(val, vlen, 256);
    info->san = xrealloc(info->san, (info->nsan + 1) * sizeof *info->san);
    info->san[info->nsan++] = xasprintf("%s:%s", kind, text);
    free(text);
    return 0;
}

/* A DN of 'crt' as text (allocated, printable), or NULL. */
static char *crt_dn(gnutls_x509_crt_t crt, int issuer)
{
    gnutls_datum_t d = {NULL, 0};
    int r = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0)
                   : gnutls_x509_crt_get_dn3(crt, &d, 0);
    if (r < 0)
        return NULL;
    char *t = text_printable((const char *)d.data, d.size, 1024);
    gnutls_free(d.data);
    return t;
}

int transport_info(struct transport *t, struct tls_info *info)
{
    memset(info, 0, sizeof *info);
    info->not_before = info->not_after = -1;
    if (t == NULL || t->tls == NULL)
        return -1;
    const char *v =
        gnutls_protocol_get_name(gnutls_protocol_get_version(t->tls));
    const char *c = gnutls_cipher_get_name(gnutls_cipher_get(t->tls));
    const char *g = gnutls_group_get_name(gnutls_group_get(t->tls));
    snprintf(info->version, sizeof info->version, "%s", v ? v : "");
    snprintf(info->cipher, sizeof info->cipher, "%s", c ? c : "");
    snprintf(info->group, sizeof info->group, "%s", g ? g : "");
    unsigned char h[TLS_PIN_LEN];
    if (peer_pin(t, h) == 0)
        pin_format(h, info->pin);
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(t->tls, &n);
    gnutls_x509_crt_t crt;
    if (certs != NULL && n > 0 && gnutls_x509_crt_init(&crt) >= 0) {
        if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0) {
            info->subject = crt_dn(crt, 0);
            info->issuer = crt_dn(crt, 1);
            info->not_before =
                (long long)gnutls_x509_crt_get_activation_time(crt);
            info->not_after =
                (long long)gnutls_x509_crt_get_expiration_time(crt);
            for (unsigned i = 0; i < 64 && add_san(crt, i, info) == 0; i++)
                ;
        }
        gnutls_x509_crt_deinit(crt);
    }
    info->verified = transport_verified(t);
    if (!info->verified)
        info->why = xstrdup(t->probe_why != NULL ? t->probe_why
                                                 : "not verified (--insecure)");
    return 0;
}

void tls_info_clear(struct tls_info *info)
{
    free(info->subject);
    free(info->issuer);
    for (size_t i = 0; i < info->nsan; i++)
        free(info->san[i]);
    free(info->san);
    free(info->why);
    memset(info, 0, sizeof *info);
}
