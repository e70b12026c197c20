/* SPDX-License-Identifier: MIT */
/*
 * serverinfo.c - --serverinfo: what each server of a domain offers.
 *
 * The targets come from net_connect itself (net_connect_seen): the SRV
 * lookup of _xmpps-client and _xmpp-client, their order, the fallback
 * to the domain, --server and --tls, exactly as a send.  The ready
 * function that net_connect hands each connected socket to runs a probe
 * over it and then asks for the next target, so every target is seen:
 *
 *   1. TLS (direct, or STARTTLS inside xmpp_probe) with the
 *      verification moved after the handshake (tls_opts.probe): a
 *      certificate that does not verify is reported, not fatal;
 *   2. the stream header (from= the account only when the certificate
 *      verified, as for a login; else the connection may be anyone's)
 *      and the features of the encrypted stream;
 *   3. </stream:stream>.  Nothing else is ever sent on a probe: no
 *      SASL, no password.
 *
 * --login is a normal run (xmppsend.c's run, with its verification,
 * password and state) whose job is serverinfo_login: the bound JID and
 * the upload and group chat services.
 */
#include <stdlib.h>
#include <string.h>

#include "disco.h"
#include "serverinfo.h"
#include "upload.h"
#include "xml.h"

struct probe {
    const struct serverinfo_opts *o;
    struct serverinfo *si;
    char *jid; /* a JID of the domain, for the session (never sent) */
    struct serverinfo_target cur;
    int have_cur; /* probe_ready ran for the target being tried */
};

/* The outcome of a target whose probe completed: verified, and a login
 * offered that this client would make. */
static void judge(struct serverinfo_target *t, const char *domain)
{
    if (!t->tls.verified) {
        t->e = XS_EREFUSED;
        if (strcmp(t->tls.why, "does not match --pin") == 0)
            t->error = xasprintf("certificate of %s does not match --pin "
                                 "(server's pin: %s)",
                                 domain, t->tls.pin);
        else
            t->error = xasprintf("certificate of %s not trusted: %s "
                                 "(server's pin: %s; use --cafile FILE or "
                                 "--pin)",
                                 domain, t->tls.why, t->tls.pin);
    } else if (t->f.login == NULL) {
        t->e = XS_EREFUSED;
        t->error = xstrdup("server offers no acceptable authentication "
                           "mechanism");
    } else {
        t->e = XS_OK;
    }
}

/* The account may be named in the stream header: TLS verified. */
static int from_verified(void *ud)
{
    return transport_verified(ud);
}

/* net_connect's ready function: one probe over 'fd', then on to the
 * next target (XS_ETEMP), unless the failure is ours (a CA file, GnuTLS
 * set-up), which no other target would change. */
static enum xs_err
probe_ready(void *ud, int fd, int direct, struct xs_error *err)
{
    struct probe *p = ud;
    struct serverinfo_target *t = &p->cur;
    memset(t, 0, sizeof *t);
    p->have_cur = 1;
    struct tls_opts to = p->o->tls;
    to.direct = direct;
    to.probe = 1;
    struct xs_error one = {0};
    struct transport *tr = transport_new(fd, &to, &one);
    enum xs_err e = tr != NULL ? XS_OK : one.code;
    if (tr != NULL) {
        struct xs_io io;
        transport_io(tr, &io);
        struct xmpp_config cfg = p->o->cfg;
        cfg.jid = p->jid;
        cfg.password = NULL;
        cfg.state = NULL;
        cfg.fast = 0;
        cfg.pipeline_auth = cfg.pipeline_bind = 0;
        cfg.sm_resume = 0;
        struct xmpp_session *s = xmpp_new(&cfg, &io);
        e = xmpp_probe(s, p->o->account != NULL ? from_verified : NULL, tr,
                       &t->f, &one);
        t->has_features = e == XS_OK;
        if (transport_has_tls(tr))
            t->has_tls = transport_info(tr, &t->tls) == 0;
        xmpp_close(s);
        xmpp_free(s);
        transport_free(tr);
    }
    if (e == XS_OK && t->has_tls) {
        judge(t, p->o->tls.domain);
    } else {
        t->e = e != XS_OK ? e : XS_EPROTO;
        t->error = xstrdup(e != XS_OK ? one.msg : "no TLS");
    }
    if (e != XS_OK && e != XS_ETEMP && e != XS_EPROTO && e != XS_EREFUSED)
        return xs_seterr(err, e, "%s", one.msg);
    return xs_seterr(err, XS_ETEMP, "probed");
}

/* net_connect's report of each target tried: it joins the list. */
static void probe_seen(void *ud, const struct net_attempt *a)
{
    struct probe *p = ud;
    struct serverinfo *si = p->si;
    si->t = xrealloc(si->t, (si->n + 1) * sizeof *si->t);
    struct serverinfo_target *t = &si->t[si->n++];
    if (p->have_cur) {
        *t = p->cur;
    } else {
        memset(t, 0, sizeof *t);
        t->e = a->e != XS_OK ? a->e : XS_ETEMP;
        t->error = xstrdup(a->msg);
    }
    memset(&p->cur, 0, sizeof p->cur);
    p->have_cur = 0;
    t->host = xstrdup(a->host);
    t->port = a->port;
    t->direct = a->direct;
    t->connected = a->connected;
}

enum xs_err serverinfo_probe(const struct serverinfo_opts *o,
                             struct serverinfo *si,
                             struct xs_error *err)
{
    memset(si, 0, sizeof *si);
    si->domain = xstrdup(o->tls.domain);
    si->upload_max = -1;
    struct probe p = {.o = o, .si = si};
    p.jid = o->account != NULL ? xstrdup(o->account)
                               : xasprintf("serverinfo@%s", o->tls.domain);
    struct xs_error nerr = {0};
    enum xs_err e = net_connect_seen(o->tls.domain, o->host, o->port,
                                     o->tls_mode, o->cfg.deadline, probe_ready,
                                     &p, probe_seen, &p, &nerr);
    free(p.jid);
    if (p.have_cur) { /* never told (cannot happen): keep no leak */
        tls_info_clear(&p.cur.tls);
        xmpp_features_clear(&p.cur.f);
        free(p.cur.error);
    }
    for (size_t i = 0; i < si->n; i++) {
        if (si->t[i].e == XS_OK)
            return XS_OK;
    }
    /* What a send would have met: the first server that answered. */
    for (size_t i = 0; i < si->n; i++) {
        if (si->t[i].connected)
            return xs_seterr(err, si->t[i].e, "%s:%u: %s", si->t[i].host,
                             si->t[i].port, si->t[i].error);
    }
    if (e == XS_OK || nerr.code == XS_OK)
        return xs_seterr(err, XS_ETEMP, "no server of %s could be reached",
                         o->tls.domain);
    return xs_seterr(err, nerr.code, "%s", nerr.msg);
}

/* ---------------------------------------------------------------- */
/* --login: services                                                 */

/* What the disco#info answers say (disco.c): the upload service and its
 * limit, the group chat service. */
struct services {
    int upload[DISCO_MAX];
    long long max[DISCO_MAX];
    int muc[DISCO_MAX];
};

/* Does a disco#info <query/> name a text group chat service? */
static int is_muc(const struct xnode *q)
{
    for (const struct xnode *c = q ? q->children : NULL; c; c = c->next) {
        const char *cat = xnode_attr(c, "category");
        const char *type = xnode_attr(c, "type");
        if (xnode_is(c, "identity", NS_DISCO_INFO) && cat && type &&
            strcmp(cat, "conference") == 0 && strcmp(type, "text") == 0)
            return 1;
    }
    return 0;
}

static void on_info(void *ud, size_t i, const struct xnode *query)
{
    struct services *sv = ud;
    sv->upload[i] = upload_parse_info(query, &sv->max[i]);
    sv->muc[i] = i > 0 && is_muc(query); /* an item, not the domain */
}

/* One discovery for both services (what upload.c and a group chat
 * would find): the first entity that offers HTTP upload, and the first
 * item whose disco#info says conference/text. */
enum xs_err serverinfo_login(struct xmpp_session *s,
                             struct serverinfo *si,
                             struct xs_error *err)
{
    free(si->upload);
    free(si->muc);
    si->upload = si->muc = NULL;
    si->upload_max = -1;
    struct disco d;
    struct services sv;
    memset(&sv, 0, sizeof sv);
    enum xs_err e =
        disco_services(s, "discovering the services", &d, on_info, &sv, err);
    for (size_t i = 0; e == XS_OK && i < d.n; i++) {
        if (sv.upload[i] && si->upload == NULL) {
            si->upload = xstrdup(d.jid[i]);
            si->upload_max = sv.max[i];
        }
        if (sv.muc[i] && si->muc == NULL)
            si->muc = xstrdup(d.jid[i]);
    }
    disco_free(&d);
    const char *bound = xmpp_bound_jid(s);
    free(si->bound_jid);
    si->bound_jid = bound != NULL ? xstrdup(bound) : NULL;
    si->logged_in = e == XS_OK;
    return e;
}

void serverinfo_free(struct serverinfo *si)
{
    for (size_t i = 0; i < si->n; i++) {
        free(si->t[i].host);
        tls_info_clear(&si->t[i].tls);
        xmpp_features_clear(&si->t[i].f);
        free(si->t[i].error);
    }
    free(si->t);
    free(si->domain);
    free(si->bound_jid);
    free(si->upload);
    free(si->muc);
    memset(si, 0, sizeof *si);
}
