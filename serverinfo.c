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

#include "serverinfo.h"
#include "upload.h"
#include "xml.h"

#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define MAX_ITEMS 32

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

struct disco {
    char *jid[MAX_ITEMS];
    char id[MAX_ITEMS][24];
    int answered[MAX_ITEMS];
    int muc[MAX_ITEMS];
    size_t n, pending;
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

static int on_info(void *ud,
                   struct xmpp_session *s,
                   const struct xnode *n,
                   struct xs_error *err)
{
    struct disco *d = ud;
    (void)err;
    for (size_t i = 0; i < d->n; i++) {
        if (d->answered[i] || !xmpp_is_reply(s, n, d->id[i], d->jid[i]))
            continue;
        d->answered[i] = 1;
        d->pending--;
        const char *type = xnode_attr(n, "type");
        if (type != NULL && strcmp(type, "result") == 0)
            d->muc[i] = is_muc(xnode_child(n, "query", NS_DISCO_INFO));
        break;
    }
    return d->pending == 0 ? XMPP_WAIT_DONE : XMPP_WAIT_MORE;
}

/* The group chat service of the domain: the first item of its
 * disco#items whose disco#info says conference/text. */
static enum xs_err find_muc(struct xmpp_session *s,
                            const char *domain,
                            char **out,
                            struct xs_error *err)
{
    struct disco d = {0};
    struct xnode *items = NULL;
    struct xs_error ierr = {0};
    enum xs_err e =
        xmpp_iq(s, "get", domain, "<query xmlns='" NS_DISCO_ITEMS "'/>",
                "discovering the group chat service", &items, &ierr);
    if (e != XS_OK && items == NULL) {
        *err = ierr;
        return e;
    }
    const struct xnode *q =
        e == XS_OK ? xnode_child(items, "query", NS_DISCO_ITEMS) : NULL;
    for (const struct xnode *c = q ? q->children : NULL;
         c != NULL && d.n < MAX_ITEMS; c = c->next) {
        const char *jid = xnode_attr(c, "jid");
        if (xnode_is(c, "item", NS_DISCO_ITEMS) && jid != NULL && *jid &&
            xnode_attr(c, "node") == NULL)
            d.jid[d.n++] = xstrdup(jid);
    }
    xnode_free(items);
    if (d.n == 0)
        return XS_OK;
    struct buf b = {0};
    for (size_t i = 0; i < d.n; i++) {
        xmpp_new_id(s, d.id[i], sizeof d.id[i]);
        buf_reset(&b);
        buf_printf(&b, "<iq type='get' id='%s' to='", d.id[i]);
        buf_add_xml(&b, d.jid[i], strlen(d.jid[i]));
        buf_addstr(&b, "'><query xmlns='" NS_DISCO_INFO "'/></iq>");
        xmpp_queue(s, b.data);
    }
    buf_free(&b);
    d.pending = d.n;
    struct xmpp_wait w = {.what = "discovering the group chat service",
                          .need_done = 1,
                          .on_stanza = on_info,
                          .ud = &d};
    e = xmpp_flight(s, &w, err);
    for (size_t i = 0; i < d.n; i++) {
        if (e == XS_OK && *out == NULL && d.muc[i])
            *out = xstrdup(d.jid[i]);
        free(d.jid[i]);
    }
    return e;
}

enum xs_err serverinfo_login(struct xmpp_session *s,
                             struct serverinfo *si,
                             struct xs_error *err)
{
    const char *domain = strchr(xmpp_account(s), '@');
    domain = domain != NULL ? domain + 1 : xmpp_account(s);
    struct xs_error uerr = {0};
    free(si->upload);
    si->upload = NULL;
    si->upload_max = -1;
    enum xs_err e = upload_find_service(s, &si->upload, &si->upload_max, &uerr);
    /* No upload service (XS_EREFUSED): a fact, not a failure. */
    if (e != XS_OK && !(e == XS_EREFUSED && si->upload == NULL))
        return xs_seterr(err, e, "%s", uerr.msg);
    free(si->muc);
    si->muc = NULL;
    e = find_muc(s, domain, &si->muc, err);
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
