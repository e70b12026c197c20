/* SPDX-License-Identifier: MIT */
/*
 * test_tls.c - unit tests for the transport (tls.c) and two of net.c:
 * --pin parsing, the order of SRV targets (RFC 2782 weights, XEP-0368
 * direct TLS first), the socket being consumed by a failed transport_new,
 * and STARTTLS against an in-process GnuTLS server on a socketpair with
 * certificates made on the fly: --pin (right, wrong, other name), the
 * message for an untrusted certificate, cleartext arriving after the
 * client's check before the handshake, the TLS close bounded by the
 * run's deadline, and an IDN domain sent as its A-label in SNI and
 * checked as such.
 *
 *   test_tls                 the tests above
 *   test_tls resolve NAME    net_connect to NAME with a 300 ms deadline
 *                            must time out, and glibc's lookup, still
 *                            running, must not write into the stack once
 *                            it ends.  Needs a resolver that never
 *                            answers and gives up within 4 s (dns.bats
 *                            runs it in a private network namespace).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../io.h"
#include "../../net.h"
#include "../../tls.h"
#include "../../util.h"
#include "test.h"

/* ---------------------------------------------------------------- */
/* --pin parsing                                                     */

static void hex_of(const unsigned char *b, int upper, int colons, char *out)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < TLS_PIN_LEN; i++) {
        if (i > 0 && colons)
            *out++ = ':';
        *out++ = digits[b[i] >> 4];
        *out++ = digits[b[i] & 15];
    }
    *out = '\0';
}

static void check_pin_ok(const char *prefix,
                         const unsigned char *want,
                         int upper,
                         int colons)
{
    char hex[3 * TLS_PIN_LEN + 1], s[256];
    unsigned char got[TLS_PIN_LEN];
    hex_of(want, upper, colons, hex);
    snprintf(s, sizeof s, "%s%s", prefix, hex);
    memset(got, 0, sizeof got);
    if (tls_pin_parse(s, got) != 0)
        fprintf(stderr, "rejected: %s\n", s);
    CHECK_EQ_INT(tls_pin_parse(s, got), 0);
    CHECK_BUF(got, sizeof got, want, (size_t)TLS_PIN_LEN);
}

static void check_pin_bad(const char *s)
{
    unsigned char got[TLS_PIN_LEN];
    if (tls_pin_parse(s, got) != -1)
        fprintf(stderr, "accepted: %s\n", s);
    CHECK_EQ_INT(tls_pin_parse(s, got), -1);
}

static void test_pin_parse(void)
{
    unsigned char want[TLS_PIN_LEN];
    char hex[3 * TLS_PIN_LEN + 1], s[256];
    for (size_t i = 0; i < sizeof want; i++)
        want[i] = (unsigned char)(i * 37 + 0xa5);

    /* certtool -i, gnutls: "sha256:abcd..."; OpenSSL: "sha256
     * Fingerprint=AB:CD:..." (older versions "SHA256 Fingerprint="). */
    for (int upper = 0; upper < 2; upper++) {
        for (int colons = 0; colons < 2; colons++) {
            check_pin_ok("sha256:", want, upper, colons);
            check_pin_ok("SHA256:", want, upper, colons);
            check_pin_ok("Sha256:", want, upper, colons);
            check_pin_ok("sha256 Fingerprint=", want, upper, colons);
            check_pin_ok("SHA256 Fingerprint=", want, upper, colons);
        }
    }

    hex_of(want, 0, 0, hex);
    check_pin_bad(hex); /* no prefix */
    check_pin_bad("");
    check_pin_bad("sha256:");
    snprintf(s, sizeof s, "sha1:%s", hex);
    check_pin_bad(s);
    snprintf(s, sizeof s, "sha256: %s", hex);
    check_pin_bad(s);
    snprintf(s, sizeof s, "sha256:%.63s", hex); /* 63 digits */
    check_pin_bad(s);
    snprintf(s, sizeof s, "sha256:%s0", hex); /* 65 */
    check_pin_bad(s);
    snprintf(s, sizeof s, "sha256:%s00", hex); /* 33 bytes */
    check_pin_bad(s);
    snprintf(s, sizeof s, "sha256:%s ", hex);
    check_pin_bad(s);
    snprintf(s, sizeof s, "sha256:%.62sg", hex);
    check_pin_bad(s);
    hex_of(want, 0, 1, hex);
    snprintf(s, sizeof s, "sha256:%s:", hex); /* trailing colon */
    check_pin_bad(s);
    snprintf(s, sizeof s, "sha256::%s", hex); /* leading colon */
    check_pin_bad(s);
    /* Colons between all bytes or none, not some. */
    snprintf(s, sizeof s, "sha256:%.5s%s", hex, hex + 6);
    check_pin_bad(s);
    hex_of(want, 0, 0, hex);
    snprintf(s, sizeof s, "sha256:%.2s:%s", hex, hex + 2);
    check_pin_bad(s);
}

/* ---------------------------------------------------------------- */
/* transport_new consumes the socket                                 */

static void test_new_consumes_fd(void)
{
    char path[] = "/tmp/test_tls_empty_XXXXXX";
    int tmp = mkstemp(path);
    CHECK(tmp >= 0);
    close(tmp);
    int sv[2];
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct tls_opts o = {.domain = "localhost", .cafile = path};
    struct xs_error err = {0};
    struct transport *t = transport_new(sv[0], &o, &err);
    CHECK(t == NULL);
    CHECK_EQ_INT(err.code, XS_ENOINPUT);
    /* Closed by transport_new: the caller must not close it again. */
    errno = 0;
    CHECK_EQ_INT(fcntl(sv[0], F_GETFD), -1);
    CHECK_EQ_INT(errno, EBADF);
    close(sv[1]);
    unlink(path);
}

/* ---------------------------------------------------------------- */
/* An in-process TLS server                                          */

struct cert {
    gnutls_x509_crt_t crt;
    gnutls_x509_privkey_t key;
    unsigned char pin[TLS_PIN_LEN];
    char pin_text[8 + 2 * TLS_PIN_LEN];
};

/* An XmppAddr the next cert_make adds (RFC 6120 13.7.1.4), or NULL. */
static const char *g_xmpp_addr;

/* A self-signed ECDSA certificate for 'name'. */
static void cert_make(struct cert *c, const char *name)
{
    unsigned char serial[8];
    gnutls_datum_t der = {NULL, 0};
    time_t now = time(NULL);

    CHECK_EQ_INT(gnutls_x509_privkey_init(&c->key), 0);
    CHECK_EQ_INT(gnutls_x509_privkey_generate(
                     c->key, GNUTLS_PK_ECDSA,
                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                 0);
    CHECK_EQ_INT(gnutls_x509_crt_init(&c->crt), 0);
    CHECK_EQ_INT(gnutls_x509_crt_set_version(c->crt, 3), 0);
    CHECK_EQ_INT(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial), 0);
    serial[0] &= 0x7f;
    CHECK_EQ_INT(gnutls_x509_crt_set_serial(c->crt, serial, sizeof serial), 0);
    CHECK_EQ_INT(gnutls_x509_crt_set_activation_time(c->crt, now - 3600), 0);
    CHECK_EQ_INT(gnutls_x509_crt_set_expiration_time(c->crt, now + 86400), 0);
    CHECK_EQ_INT(gnutls_x509_crt_set_dn_by_oid(c->crt,
                                               GNUTLS_OID_X520_COMMON_NAME, 0,
                                               name, (unsigned)strlen(name)),
                 0);
    CHECK_EQ_INT(gnutls_x509_crt_set_subject_alt_name(
                     c->crt, GNUTLS_SAN_DNSNAME, name, (unsigned)strlen(name),
                     GNUTLS_FSAN_SET),
                 0);
    if (g_xmpp_addr != NULL)
        CHECK_EQ_INT(gnutls_x509_crt_set_subject_alt_name(
                         c->crt, GNUTLS_SAN_OTHERNAME_XMPP, g_xmpp_addr,
                         (unsigned)strlen(g_xmpp_addr), GNUTLS_FSAN_APPEND),
                     0);
    CHECK_EQ_INT(gnutls_x509_crt_set_key(c->crt, c->key), 0);
    CHECK_EQ_INT(
        gnutls_x509_crt_sign2(c->crt, c->crt, c->key, GNUTLS_DIG_SHA256, 0), 0);
    CHECK_EQ_INT(gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_DER, &der), 0);
    CHECK_EQ_INT(
        gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, c->pin), 0);
    gnutls_free(der.data);
    memcpy(c->pin_text, "sha256:", 7);
    hex_of(c->pin, 0, 0, c->pin_text + 7);
}

static void cert_free(struct cert *c)
{
    gnutls_x509_crt_deinit(c->crt);
    gnutls_x509_privkey_deinit(c->key);
}

/* Write c's certificate as PEM to a new temporary file (path in 'path'). */
static void cert_write_pem(const struct cert *c, char *path)
{
    gnutls_datum_t pem = {NULL, 0};
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ_INT(gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_PEM, &pem), 0);
    CHECK_EQ_INT(write(fd, pem.data, pem.size), (long)pem.size);
    close(fd);
    gnutls_free(pem.data);
}

enum server_mode {
    SERVER_TLS,   /* handshake, then never read again */
    SERVER_INJECT /* after the ClientHello, cleartext XML */
};

/* Block until the test closes the other end of the pipe. */
static void wait_release(int fd)
{
    char c;
    while (read(fd, &c, 1) > 0)
        ;
}

struct server {
    int fd;
    int release; /* read end of a pipe: closed by the test when done */
    enum server_mode mode;
    struct cert *cert;
    pthread_t thread;
    char sni[256]; /* the server name the client sent, "" if none */
};

static void *server_main(void *arg)
{
    struct server *s = arg;
    if (s->mode == SERVER_INJECT) {
        /* The ClientHello proves that the client's look for cleartext
         * before the handshake is over: this arrives "late". */
        static const char xml[] =
            "<stream:features><mechanisms "
            "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN"
            "</mechanism></mechanisms></stream:features>";
        char buf[4096];
        if (recv(s->fd, buf, sizeof buf, 0) > 0)
            (void)send(s->fd, xml, sizeof xml - 1, MSG_NOSIGNAL);
        wait_release(s->release);
        return NULL;
    }
    gnutls_certificate_credentials_t cred;
    gnutls_session_t ss;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        return NULL;
    if (gnutls_certificate_set_x509_key(cred, &s->cert->crt, 1, s->cert->key) <
            0 ||
        gnutls_init(&ss, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) < 0) {
        gnutls_certificate_free_credentials(cred);
        return NULL;
    }
    gnutls_set_default_priority(ss);
    gnutls_credentials_set(ss, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_transport_set_int(ss, s->fd);
    gnutls_handshake_set_timeout(ss, 20000);
    int r;
    do {
        r = gnutls_handshake(ss);
    } while (r < 0 && !gnutls_error_is_fatal(r));
    size_t sni_len = sizeof s->sni - 1;
    unsigned sni_type = 0;
    if (gnutls_server_name_get(ss, s->sni, &sni_len, &sni_type, 0) != 0 ||
        sni_type != GNUTLS_NAME_DNS)
        s->sni[0] = '\0';
    /* Whatever happened: read nothing more until the test is done. */
    wait_release(s->release);
    gnutls_deinit(ss);
    gnutls_certificate_free_credentials(cred);
    return NULL;
}

struct conn {
    struct server srv;
    int release_w;
    struct transport *t;
    struct xs_io io;
};

/* Start a server thread and a transport over a socketpair. */
static void conn_open(struct conn *c,
                      enum server_mode mode,
                      struct cert *cert,
                      const struct tls_opts *o)
{
    int sv[2], p[2];
    struct xs_error err = {0};
    memset(c, 0, sizeof *c);
    CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    CHECK_EQ_INT(pipe(p), 0);
    c->srv.fd = sv[1];
    c->srv.release = p[0];
    c->srv.mode = mode;
    c->srv.cert = cert;
    c->release_w = p[1];
    CHECK_EQ_INT(pthread_create(&c->srv.thread, NULL, server_main, &c->srv), 0);
    c->t = transport_new(sv[0], o, &err);
    if (c->t == NULL)
        fprintf(stderr, "transport_new: %s\n", err.msg);
    CHECK(c->t != NULL);
    transport_io(c->t, &c->io);
}

static void conn_close(struct conn *c)
{
    transport_free(c->t);
    close(c->release_w);
    pthread_join(c->srv.thread, NULL);
    close(c->srv.fd);
    close(c->srv.release);
}

static enum xs_err starttls_with(enum server_mode mode,
                                 struct cert *cert,
                                 const struct tls_opts *o,
                                 struct xs_error *err)
{
    struct conn c;
    conn_open(&c, mode, cert, o);
    enum xs_err e = c.io.starttls(c.io.ctx, 20000, err);
    conn_close(&c);
    return e;
}

static void test_pin(struct cert *localhost, struct cert *other)
{
    struct tls_opts o = {.domain = "localhost", .pin = localhost->pin};
    struct xs_error err = {0};
    unsigned char wrong[TLS_PIN_LEN];

    CHECK_EQ_INT(starttls_with(SERVER_TLS, localhost, &o, &err), XS_OK);

    /* A pin is exact trust in one certificate: its name is not checked
     * (xmppsend.1, --pin). */
    o.pin = other->pin;
    CHECK_EQ_INT(starttls_with(SERVER_TLS, other, &o, &err), XS_OK);

    /* The wrong pin: refused, and the message shows the right one. */
    memcpy(wrong, localhost->pin, sizeof wrong);
    wrong[31] ^= 1;
    o.pin = wrong;
    CHECK_EQ_INT(starttls_with(SERVER_TLS, localhost, &o, &err), XS_EREFUSED);
    CHECK_EQ_INT(err.code, XS_EREFUSED);
    if (strstr(err.msg, localhost->pin_text) == NULL ||
        strstr(err.msg, "does not match --pin") == NULL)
        fprintf(stderr, "message: %s\n", err.msg);
    CHECK(strstr(err.msg, "does not match --pin") != NULL);
    CHECK(strstr(err.msg, localhost->pin_text) != NULL);
}

static void test_untrusted(struct cert *localhost, struct cert *other)
{
    char path[] = "/tmp/test_tls_ca_XXXXXX";
    char want[256];
    struct xs_error err = {0};
    /* Trust only "other": localhost's self-signed certificate fails. */
    cert_write_pem(other, path);
    struct tls_opts o = {.domain = "localhost", .cafile = path};
    CHECK_EQ_INT(starttls_with(SERVER_TLS, localhost, &o, &err), XS_EREFUSED);
    unlink(path);
    snprintf(want, sizeof want,
             "(server's pin: %s; use --cafile FILE or --pin)",
             localhost->pin_text);
    if (strncmp(err.msg, "certificate of localhost not trusted: ", 38) != 0 ||
        strstr(err.msg, want) == NULL)
        fprintf(stderr, "message: %s\n", err.msg);
    CHECK(strncmp(err.msg, "certificate of localhost not trusted: ", 38) == 0);
    CHECK(strstr(err.msg, want) != NULL);
    /* One line, no final period, no doubled "not trusted" sentence. */
    CHECK(strchr(err.msg, '\n') == NULL);
    CHECK(err.msg[strlen(err.msg) - 1] == ')');
    CHECK(strstr(err.msg, "NOT trusted") == NULL);
}

/* --serverinfo's probe: the handshake completes whether or not the
 * certificate verifies; transport_info says what it is and why not. */
static void
probe_info(struct cert *cert, struct tls_opts *o, struct tls_info *info)
{
    struct conn c;
    struct xs_error err = {0};
    o->probe = 1;
    conn_open(&c, SERVER_TLS, cert, o);
    CHECK_EQ_INT(c.io.starttls(c.io.ctx, 20000, &err), XS_OK);
    CHECK_EQ_INT(transport_info(c.t, info), 0);
    CHECK_EQ_INT(transport_verified(c.t), info->verified);
    conn_close(&c);
}

static void test_probe(struct cert *other)
{
    struct cert x;
    struct tls_info info;
    char path[] = "/tmp/test_tls_ca_XXXXXX";
    g_xmpp_addr = "localhost";
    cert_make(&x, "localhost");
    g_xmpp_addr = NULL;

    /* Trusting another CA: reported, not fatal. */
    cert_write_pem(other, path);
    struct tls_opts o = {.domain = "localhost", .cafile = path};
    probe_info(&x, &o, &info);
    CHECK_EQ_INT(info.verified, 0);
    CHECK(info.why != NULL && strstr(info.why, "issuer") != NULL);
    CHECK_EQ_STR(info.pin, x.pin_text);
    CHECK_EQ_STR(info.subject, "CN=localhost");
    CHECK_EQ_STR(info.issuer, "CN=localhost");
    CHECK_EQ_INT(info.nsan, 2);
    CHECK_EQ_STR(info.san[0], "DNS:localhost");
    CHECK_EQ_STR(info.san[1], "xmppAddr:localhost");
    CHECK(info.not_before > 0 && info.not_after > info.not_before);
    CHECK(strncmp(info.version, "TLS1.", 5) == 0 && info.cipher[0] != '\0');
    tls_info_clear(&info);
    unlink(path);

    /* Its own CA file: verified. */
    char path2[] = "/tmp/test_tls_ca_XXXXXX";
    cert_write_pem(&x, path2);
    o.cafile = path2;
    probe_info(&x, &o, &info);
    CHECK_EQ_INT(info.verified, 1);
    CHECK(info.why == NULL);
    tls_info_clear(&info);
    unlink(path2);

    /* --pin: the pin decides, either way. */
    struct tls_opts op = {.domain = "localhost", .pin = x.pin};
    probe_info(&x, &op, &info);
    CHECK_EQ_INT(info.verified, 1);
    tls_info_clear(&info);
    op.pin = other->pin;
    probe_info(&x, &op, &info);
    CHECK_EQ_INT(info.verified, 0);
    CHECK_EQ_STR(info.why, "does not match --pin");
    tls_info_clear(&info);
    cert_free(&x);
}

static void test_cleartext_after_check(void)
{
    struct tls_opts o = {.domain = "localhost", .insecure = 1};
    struct xs_error err = {0};
    CHECK_EQ_INT(starttls_with(SERVER_INJECT, NULL, &o, &err), XS_EPROTO);
    if (strstr(err.msg, "cleartext") == NULL)
        fprintf(stderr, "message: %s\n", err.msg);
    CHECK(strstr(err.msg, "cleartext") != NULL);
    CHECK(strstr(err.msg, "<proceed/>") != NULL);
}

/* An internationalised domain (a JID's U-labels, jid.c): the client
 * sends the A-label as SNI and checks the certificate against it. */
static void test_idn(void)
{
    char path[] = "/tmp/test_tls_ca_XXXXXX";
    char path2[] = "/tmp/test_tls_ca_XXXXXX";
    struct cert idn, plain;
    struct xs_error err = {0};
    struct conn c;
    cert_make(&idn, "xn--bcher-kva.test");
    cert_make(&plain, "bucher.test");
    cert_write_pem(&idn, path);
    struct tls_opts o = {.domain = "b\xc3\xbc"
                                   "cher.test",
                         .cafile = path};
    conn_open(&c, SERVER_TLS, &idn, &o);
    enum xs_err e = c.io.starttls(c.io.ctx, 20000, &err);
    conn_close(&c);
    if (e != XS_OK)
        fprintf(stderr, "message: %s\n", err.msg);
    CHECK_EQ_INT(e, XS_OK);
    CHECK_EQ_STR(c.srv.sni, "xn--bcher-kva.test");
    unlink(path);
    /* The name is checked: a certificate for another name is refused. */
    cert_write_pem(&plain, path2);
    o.cafile = path2;
    CHECK_EQ_INT(starttls_with(SERVER_TLS, &plain, &o, &err), XS_EREFUSED);
    unlink(path2);
    cert_free(&idn);
    cert_free(&plain);
}

/* The server stops reading; the client writes until the run's deadline,
 * then closes: the close_notify must not wait past that deadline. */
static void test_shutdown_deadline(struct cert *localhost)
{
    struct tls_opts o = {.domain = "localhost", .insecure = 1};
    struct xs_error err = {0};
    struct conn c;
    /* Room for a handshake under valgrind on a busy machine. */
    o.deadline = xs_now_ms() + 5000;
    conn_open(&c, SERVER_TLS, localhost, &o);
    CHECK_EQ_INT(c.io.starttls(c.io.ctx, 4500, &err), XS_OK);
    size_t n = 256 * 1024;
    char *junk = xcalloc(1, n);
    enum xs_err e = XS_OK;
    while (e == XS_OK) {
        long long left = o.deadline - xs_now_ms();
        e = c.io.write(c.io.ctx, junk, n, left > 0 ? (int)left : 0, &err);
    }
    free(junk);
    CHECK_EQ_INT(e, XS_ETEMP);
    long long t0 = xs_now_ms();
    c.io.shutdown(c.io.ctx);
    long long took = xs_now_ms() - t0;
    if (took >= 300)
        fprintf(stderr, "shutdown took %lld ms after the deadline\n", took);
    CHECK(took < 300);
    conn_close(&c);
}

/* ---------------------------------------------------------------- */
/* SRV order (net_srv_order): RFC 2782 and XEP-0368                  */

/* Draws from a fixed list, counting the calls. */
struct draws {
    const unsigned *v;
    size_t n, i;
};

static unsigned next_draw(void *ud)
{
    struct draws *d = ud;
    return d->i < d->n ? d->v[d->i++] : 0;
}

static struct net_srv rec(const char *t, unsigned prio, unsigned w, int direct)
{
    struct net_srv r;
    memset(&r, 0, sizeof r);
    snprintf(r.target, sizeof r.target, "%s", t);
    r.prio = prio;
    r.weight = w;
    r.port = direct ? 5223 : 5222;
    r.direct = direct;
    return r;
}

/* The targets of r[0..n-1], space-separated. */
static const char *order_of(const struct net_srv *r, size_t n)
{
    static char out[256];
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof out; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s",
                                i > 0 ? " " : "", r[i].target);
    return out;
}

static void test_srv_order(void)
{
    /* Priority first, whatever the kind; direct TLS first within a
     * priority even against a heavier STARTTLS record; kinds never mix
     * within a priority. */
    struct net_srv r[6] = {rec("s20", 20, 0, 0),   rec("d30", 30, 0, 1),
                           rec("s10", 10, 900, 0), rec("d10", 10, 1, 1),
                           rec("s5", 5, 0, 0),     rec("d20", 20, 0, 1)};
    net_srv_order(r, 6, NULL, NULL);
    CHECK_EQ_STR(order_of(r, 6), "s5 d10 s10 d20 s20 d30");

    /* Weighted selection within one priority and kind: sum 40, a draw
     * taken modulo 41; the first record whose running sum reaches it. */
    static const unsigned pick_b[] = {15};
    struct draws d = {pick_b, 1, 0};
    struct net_srv w[2] = {rec("a", 1, 10, 1), rec("b", 1, 30, 1)};
    net_srv_order(w, 2, next_draw, &d);
    CHECK_EQ_STR(order_of(w, 2), "b a");
    CHECK_EQ_INT(d.i, 1);
    static const unsigned pick_a[] = {10 + 41}; /* 51 % 41 = 10 */
    d = (struct draws){pick_a, 1, 0};
    w[0] = rec("a", 1, 10, 1);
    w[1] = rec("b", 1, 30, 1);
    net_srv_order(w, 2, next_draw, &d);
    CHECK_EQ_STR(order_of(w, 2), "a b");

    /* Weight 0 goes first in the list, so only a draw of 0 picks it. */
    static const unsigned zero[] = {0}, one[] = {1};
    struct net_srv z[2] = {rec("heavy", 1, 5, 0), rec("zero", 1, 0, 0)};
    d = (struct draws){zero, 1, 0};
    net_srv_order(z, 2, next_draw, &d);
    CHECK_EQ_STR(order_of(z, 2), "zero heavy");
    z[0] = rec("heavy", 1, 5, 0);
    z[1] = rec("zero", 1, 0, 0);
    d = (struct draws){one, 1, 0};
    net_srv_order(z, 2, next_draw, &d);
    CHECK_EQ_STR(order_of(z, 2), "heavy zero");

    /* With real random draws: RFC 2782 draws from 0 to the sum of the
     * weights inclusive, so of weights 1 and 3 (sum 4, draws 0..4) the
     * heavier comes first for 3 draws in 5. */
    unsigned first_b = 0;
    for (int i = 0; i < 4000; i++) {
        struct net_srv x[2] = {rec("a", 7, 1, 0), rec("b", 7, 3, 0)};
        net_srv_order(x, 2, NULL, NULL);
        first_b += strcmp(x[0].target, "b") == 0;
    }
    CHECK(first_b > 2100 && first_b < 2700);

    net_srv_order(r, 0, NULL, NULL); /* nothing to do */
}

/* ---------------------------------------------------------------- */
/* resolve NAME                                                      */

#define SCRIBBLE_SIZE 32768
#define SCRIBBLE_BYTE 0xa5

/* Fill the stack below the caller with a pattern, wait, and count the
 * bytes something else changed meanwhile.  Must not be inlined: its
 * frame has to cover where net_connect's frames were. */
static size_t __attribute__((noinline)) scribble_and_wait(unsigned secs)
{
    volatile unsigned char area[SCRIBBLE_SIZE];
    size_t changed = 0;
    for (size_t i = 0; i < SCRIBBLE_SIZE; i++)
        area[i] = SCRIBBLE_BYTE;
    struct timespec ts = {(time_t)secs, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    for (size_t i = 0; i < SCRIBBLE_SIZE; i++)
        changed += area[i] != SCRIBBLE_BYTE;
    return changed;
}

static enum xs_err
close_ready(void *ud, int fd, int direct, struct xs_error *err)
{
    (void)ud;
    (void)direct;
    (void)err;
    close(fd);
    return XS_OK;
}

static void __attribute__((noinline)) test_resolve_abandoned(const char *name)
{
    struct xs_error err = {0};
    enum xs_err e = net_connect("slow.test", name, 5222, NET_TLS_AUTO,
                                xs_now_ms() + 300, close_ready, NULL, &err);
    if (e != XS_ETEMP)
        fprintf(stderr, "net_connect: %d %s\n", (int)e, err.msg);
    CHECK_EQ_INT(e, XS_ETEMP);
    CHECK(strstr(err.msg, "timed out") != NULL);
    /* glibc's worker gives up within a few seconds and stores its
     * result: into the heap, not into the stack net_connect left. */
    size_t changed = scribble_and_wait(5);
    if (changed != 0)
        fprintf(stderr, "%zu stack bytes changed after net_connect returned\n",
                changed);
    CHECK_EQ_INT(changed, 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "resolve") == 0) {
        test_resolve_abandoned(argv[2]);
        TEST_DONE("test_tls resolve");
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: test_tls [resolve NAME]\n");
        return 2;
    }
    struct cert localhost, other;
    cert_make(&localhost, "localhost");
    cert_make(&other, "other.example");
    test_pin_parse();
    test_srv_order();
    test_new_consumes_fd();
    test_pin(&localhost, &other);
    test_untrusted(&localhost, &other);
    test_probe(&other);
    test_cleartext_after_check();
    test_shutdown_deadline(&localhost);
    test_idn();
    cert_free(&localhost);
    cert_free(&other);
    TEST_DONE("test_tls");
    return 0;
}
