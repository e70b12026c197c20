/* SPDX-License-Identifier: MIT */
/*
 * muc.c - the group chat job (XEP-0045): enter a room (7.2), send a
 * message to all occupants (7.4), exit (7.14); an instant room (10.1.2)
 * when a new room may be created, its destruction (10.9) when not.
 *
 * Round trips.  A room handles one occupant's stanzas in the order it
 * sent them, so the join presence and the message go out in the same
 * flight, for every room at once: the room judges the message after the
 * join, and a join that fails makes the room refuse the message too
 * ("not an occupant"), which nobody else sees.  The answers come in
 * order as well: the self-presence (status 110) or a presence error,
 * then the reflection of our message (the room sends it to every
 * occupant, us included) or a message error.  The reflection is the
 * confirmation, as the ping reply is for a chat message.
 *
 * The room's stanzas are trusted for nothing but what they say about
 * our join and our message: only those from the room's own JID count,
 * the self-presence is known by status 110 (not by nick: status 210
 * means the room changed it), our message by its id from our nick
 * (or, when the room rewrote the id, by its body and no delay).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jid.h"
#include "muc.h"
#include "xml.h"

#define NS_MUC "http://jabber.org/protocol/muc"
#define NS_MUC_USER NS_MUC "#user"
#define NS_MUC_OWNER NS_MUC "#owner"
#define NS_DATA "jabber:x:data"
#define NS_DELAY "urn:xmpp:delay"

/* Joins per room: the first, and one more with a suffixed nick after a
 * conflict (nick taken). */
#define MAX_TRIES 2

enum join_state { J_NONE, J_PENDING, J_JOINED, J_FAILED };
enum msg_state { M_NONE, M_PENDING, M_REFLECTED, M_FAILED };

struct room {
    struct xmpp_recipient *r; /* jid: the room; id: our message's id */
    char *nick;               /* the nick asked for */
    char *joined_nick;        /* the room's name for us (after 210) */
    char pid[24];             /* the join presence's id */
    enum join_state join;
    enum msg_state msg;
    int tries;
    int created;  /* status 201: the join created the room */
    int conflict; /* the join failed with conflict */
    int gone;     /* destroyed by us: no leave */
    enum xs_err code;
    char *cond, *type, *text; /* of the failed join or message */
};

struct muc_job {
    struct room *rooms;
    size_t n;
    const struct xmpp_message *m;
};

static char *printable(const char *t)
{
    return text_printable(t ? t : "", t ? strlen(t) : 0, 200);
}

static void room_clear_error(struct room *rm)
{
    free(rm->cond);
    free(rm->type);
    free(rm->text);
    rm->cond = rm->type = rm->text = NULL;
}

/* The single defined condition of an <error/>, as in xmpp.c. */
static const char *condition_of(const struct xnode *e)
{
    for (const struct xnode *c = e ? e->children : NULL; c; c = c->next) {
        if (strcmp(c->ns, NS_STANZAS) == 0 && strcmp(c->name, "text") != 0)
            return c->name;
    }
    return "undefined-condition";
}

/*
 * The class of a join error (XEP-0045 7.2): a wrong or missing password
 * is an authentication failure (77); no such room or service is 67; a
 * full room (service-unavailable) or any error of type wait is worth a
 * retry (75); banned, members only, reserved or taken nick, creation not
 * allowed and the rest are refusals (69).
 */
static enum xs_err join_class(const char *cond, const char *type)
{
    if (strcmp(cond, "not-authorized") == 0)
        return XS_EAUTH;
    if (strcmp(cond, "item-not-found") == 0 || strcmp(cond, "gone") == 0 ||
        strcmp(cond, "remote-server-not-found") == 0)
        return XS_EBOUNCE;
    if (strcmp(cond, "service-unavailable") == 0 ||
        strcmp(cond, "resource-constraint") == 0 ||
        (type != NULL && strcmp(type, "wait") == 0))
        return XS_ETEMP;
    return XS_EREFUSED;
}

/* The class of an error to our groupchat message (no voice: forbidden,
 * not an occupant: not-acceptable). */
static enum xs_err message_class(const char *cond, const char *type)
{
    if (type != NULL && strcmp(type, "wait") == 0)
        return XS_ETEMP;
    if (strcmp(cond, "item-not-found") == 0)
        return XS_EBOUNCE;
    return XS_EREFUSED;
}

static void set_error(struct room *rm, const struct xnode *stanza, int join)
{
    const struct xnode *e = xnode_child(stanza, "error", NULL);
    const char *cond = condition_of(e);
    const char *type = xnode_attr(e, "type");
    room_clear_error(rm);
    rm->code = join ? join_class(cond, type) : message_class(cond, type);
    rm->cond = printable(cond);
    rm->type = printable(type);
    rm->text = printable(xnode_text(xnode_child(e, "text", NS_STANZAS)));
}

/* The nick in a room occupant JID, or NULL. */
static const char *nick_of(const char *from)
{
    const char *slash = from != NULL ? strchr(from, '/') : NULL;
    return slash != NULL ? slash + 1 : NULL;
}

/* Does the muc#user <x/> of 'n' carry status code 'code'? */
static int has_status(const struct xnode *n, const char *code)
{
    const struct xnode *x = xnode_child(n, "x", NS_MUC_USER);
    for (const struct xnode *c = x ? x->children : NULL; c; c = c->next) {
        const char *v = xnode_attr(c, "code");
        if (xnode_is(c, "status", NS_MUC_USER) && v != NULL &&
            strcmp(v, code) == 0)
            return 1;
    }
    return 0;
}

static int settled(const struct room *rm)
{
    return rm->join == J_FAILED ||
           (rm->join == J_JOINED && rm->msg != M_PENDING);
}

/* A presence from a room: our join's answer, or a removal. */
static void on_presence(struct room *rm, const struct xnode *n)
{
    const char *type = xnode_attr(n, "type");
    const char *id = xnode_attr(n, "id");
    const char *nick = nick_of(xnode_attr(n, "from"));
    if (type != NULL && strcmp(type, "error") == 0) {
        /* Our join's error carries our id, or comes from the nick we
         * asked for. */
        if (rm->join != J_PENDING ||
            !((id != NULL && strcmp(id, rm->pid) == 0) ||
              (nick != NULL && strcmp(nick, rm->nick) == 0)))
            return;
        set_error(rm, n, 1);
        rm->conflict = strcmp(rm->cond, "conflict") == 0;
        rm->join = J_FAILED;
        return;
    }
    if (!has_status(n, "110") || nick == NULL)
        return; /* another occupant */
    if (type != NULL && strcmp(type, "unavailable") == 0) {
        if (rm->join != J_PENDING && rm->join != J_JOINED)
            return;
        /* Kicked (307), banned (301), the room destroyed... */
        room_clear_error(rm);
        rm->code = XS_EREFUSED;
        rm->cond = xstrdup("removed");
        rm->type = xstrdup("");
        rm->text = xstrdup("the room removed us");
        rm->join = J_FAILED;
        return;
    }
    if (type != NULL || rm->join != J_PENDING)
        return;
    rm->join = J_JOINED;
    free(rm->joined_nick);
    rm->joined_nick = xstrdup(nick);
    rm->created = has_status(n, "201");
}

/* Ignoring CRs: XML parsing turns CR LF into LF (XML 1.0 2.11). */
static int same_text(const char *a, const char *b)
{
    for (;;) {
        while (*a == '\r')
            a++;
        while (*b == '\r')
            b++;
        if (*a != *b)
            return 0;
        if (*a == '\0')
            return 1;
        a++, b++;
    }
}

/* A message from a room: the reflection of ours, or its error. */
static void
on_message(struct room *rm, const struct xmpp_message *m, const struct xnode *n)
{
    const char *type = xnode_attr(n, "type");
    const char *id = xnode_attr(n, "id");
    int ours = id != NULL && strcmp(id, rm->r->id) == 0;
    /* After a failed join the room refuses the message too (not an
     * occupant): the join's error is the one to report. */
    if (rm->msg != M_PENDING || rm->join == J_FAILED || type == NULL)
        return;
    if (strcmp(type, "error") == 0) {
        if (ours) {
            set_error(rm, n, 0);
            rm->msg = M_FAILED;
        }
        return;
    }
    const char *nick = nick_of(xnode_attr(n, "from"));
    if (strcmp(type, "groupchat") != 0 || rm->join != J_JOINED ||
        nick == NULL || strcmp(nick, rm->joined_nick) != 0)
        return;
    const struct xnode *body = xnode_child(n, "body", NS_CLIENT);
    if (ours || (body != NULL && same_text(xnode_text(body), m->body) &&
                 xnode_child(n, "delay", NS_DELAY) == NULL))
        rm->msg = M_REFLECTED;
}

static int on_stanza(void *ud,
                     struct xmpp_session *s,
                     const struct xnode *n,
                     struct xs_error *err)
{
    struct muc_job *job = ud;
    const char *from = xnode_attr(n, "from");
    (void)s;
    (void)err;
    /* The room's errors come from its bare JID or from our nick. */
    if (from == NULL || strcmp(n->ns, NS_CLIENT) != 0)
        return XMPP_WAIT_MORE;
    int all = 1;
    for (size_t i = 0; i < job->n; i++) {
        struct room *rm = &job->rooms[i];
        if (rm->join != J_NONE && jid_bare_eq(from, rm->r->jid)) {
            if (strcmp(n->name, "presence") == 0)
                on_presence(rm, n);
            else if (strcmp(n->name, "message") == 0)
                on_message(rm, job->m, n);
        }
        if (!settled(rm))
            all = 0;
    }
    return all ? XMPP_WAIT_DONE : XMPP_WAIT_MORE;
}

/* Queue the join presence (7.2.1; no history, 7.2.14; the password,
 * 7.2.6) and our message right behind it. */
static void queue_join(struct xmpp_session *s,
                       const struct muc_opts *o,
                       const struct xmpp_message *m,
                       struct room *rm)
{
    struct buf b = {0};
    const char *room = rm->r->jid;
    xmpp_new_id(s, rm->pid, sizeof rm->pid);
    buf_addstr(&b, "<presence to='");
    buf_add_xml(&b, room, strlen(room));
    buf_addch(&b, '/');
    buf_add_xml(&b, rm->nick, strlen(rm->nick));
    buf_printf(&b, "' id='%s'><x xmlns='" NS_MUC "'><history maxstanzas='0'/>",
               rm->pid);
    if (o->password != NULL) {
        struct buf pw = {0};
        buf_addstr(&b, "<password>");
        buf_add_xml(&pw, o->password, strlen(o->password));
        xmpp_queue_secret(s, b.data, pw.data, "</password></x></presence>");
        buf_wipe(&pw);
    } else {
        buf_addstr(&b, "</x></presence>");
        xmpp_queue(s, b.data);
    }
    buf_free(&b);

    xmpp_new_id(s, rm->r->id, sizeof rm->r->id);
    buf_addstr(&b, "<message to='");
    buf_add_xml(&b, room, strlen(room));
    buf_printf(&b, "' type='groupchat' id='%s'><body>", rm->r->id);
    buf_add_xml(&b, m->body, strlen(m->body));
    buf_addstr(&b, "</body>");
    if (m->thread != NULL) {
        buf_addstr(&b, "<thread>");
        buf_add_xml(&b, m->thread, strlen(m->thread));
        buf_addstr(&b, "</thread>");
    }
    buf_addstr(&b, "</message>");
    xmpp_queue(s, b.data);
    buf_free(&b);
    rm->join = J_PENDING;
    rm->msg = M_PENDING;
    rm->conflict = 0;
    rm->created = 0;
    rm->tries++;
}

/* "NICK-XXXXXX": another nick after a conflict (XEP-0045 7.2.9). */
static void suffix_nick(struct xmpp_session *s, struct room *rm)
{
    char id[24];
    xmpp_new_id(s, id, sizeof id);
    id[6] = '\0';
    char *n = xasprintf("%s-%s", rm->nick, id);
    free(rm->nick);
    rm->nick = n;
}

/* The room's owner IQ (10.1.2 instant room, 10.9 destroy). */
static enum xs_err owner_iq(struct xmpp_session *s,
                            struct room *rm,
                            const char *payload,
                            const char *what,
                            struct xs_error *err)
{
    struct xnode *reply = NULL;
    char *w = xasprintf("%s %s", what, rm->r->jid);
    char *shown = printable(w);
    enum xs_err e = xmpp_iq(s, "set", rm->r->jid, payload, shown, &reply, err);
    xnode_free(reply);
    free(shown);
    free(w);
    return e;
}

/*
 * A join that created the room (status 201): with --create-room accept
 * the default configuration (an instant room, which unlocks it);
 * without, destroy it again, so that nothing is left behind, and fail
 * as "no such room".
 */
static enum xs_err new_room(struct xmpp_session *s,
                            const struct muc_opts *o,
                            struct room *rm,
                            struct xs_error *err)
{
    struct xs_error e2 = {0};
    if (o->create) {
        enum xs_err e = owner_iq(s, rm,
                                 "<query xmlns='" NS_MUC_OWNER "'>"
                                 "<x xmlns='" NS_DATA "' type='submit'/>"
                                 "</query>",
                                 "configuring the new room", &e2);
        if (e == XS_OK)
            return XS_OK;
        if (e != XS_EREFUSED && e != XS_ETEMP)
            return xs_seterr(err, e, "%s", e2.msg);
        room_clear_error(rm);
        rm->join = J_FAILED;
        rm->code = e;
        rm->cond = xstrdup("not-allowed");
        rm->type = xstrdup("");
        rm->text = printable(e2.msg);
        return XS_OK;
    }
    /* First make it a temporary room: Prosody keeps a tombstone of a
     * destroyed persistent room (muc_tombstones), which would refuse
     * the name to everyone for a month.  Its answer needs no wait: the
     * room handles the destroy after it. */
    struct buf b = {0};
    char id[24];
    xmpp_new_id(s, id, sizeof id);
    buf_addstr(&b, "<iq type='set' to='");
    buf_add_xml(&b, rm->r->jid, strlen(rm->r->jid));
    buf_printf(&b,
               "' id='%s'><query xmlns='" NS_MUC_OWNER "'>"
               "<x xmlns='" NS_DATA "' type='submit'>"
               "<field var='FORM_TYPE'><value>" NS_MUC "#roomconfig</value>"
               "</field><field var='muc#roomconfig_persistentroom'>"
               "<value>0</value></field></x></query></iq>",
               id);
    xmpp_queue(s, b.data);
    buf_free(&b);
    enum xs_err e = owner_iq(s, rm,
                             "<query xmlns='" NS_MUC_OWNER "'><destroy/>"
                             "</query>",
                             "destroying the room created by mistake", &e2);
    if (e != XS_OK && e != XS_EREFUSED && e != XS_ETEMP)
        return xs_seterr(err, e, "%s", e2.msg);
    /* Destroyed: no leave (a presence to it could create it again).  Not
     * destroyed: the leave lets the service drop the empty room. */
    rm->gone = e == XS_OK;
    room_clear_error(rm);
    rm->join = J_FAILED;
    rm->code = XS_EBOUNCE;
    rm->cond = xstrdup("item-not-found");
    rm->type = xstrdup("cancel");
    rm->text = xstrdup(rm->gone ? "no such room (--create-room creates it)"
                                : "no such room (--create-room creates it; "
                                  "could not destroy the room our join "
                                  "created)");
    return XS_OK;
}

/* Queue the exit presence (7.14); xmpp_close writes it. */
static void queue_leave(struct xmpp_session *s, const struct room *rm)
{
    struct buf b = {0};
    buf_addstr(&b, "<presence to='");
    buf_add_xml(&b, rm->r->jid, strlen(rm->r->jid));
    buf_addch(&b, '/');
    buf_add_xml(&b, rm->joined_nick, strlen(rm->joined_nick));
    buf_addstr(&b, "' type='unavailable'/>");
    xmpp_queue(s, b.data);
    buf_free(&b);
}

/* The outcome of each room in its recipient. */
static void outcome(struct room *rm)
{
    struct xmpp_recipient *r = rm->r;
    if (rm->join == J_JOINED && rm->msg == M_REFLECTED) {
        r->status = XMPP_SENT;
        return;
    }
    if (rm->cond == NULL)
        return; /* the session failed before an answer */
    r->status = XMPP_FAILED;
    r->code = rm->code;
    r->condition = rm->cond;
    r->errtype = rm->type;
    r->text = rm->text;
    rm->cond = rm->type = rm->text = NULL;
}

enum xs_err muc_send(struct xmpp_session *s,
                     const struct muc_opts *o,
                     const struct xmpp_message *m,
                     struct xmpp_recipient *r,
                     size_t n,
                     struct xs_error *err)
{
    struct muc_job job = {
        .rooms = xcalloc(n ? n : 1, sizeof *job.rooms), .n = n, .m = m};
    enum xs_err e = XS_OK;
    char *what = n == 1 ? xasprintf("waiting for the room %s", r[0].jid)
                        : xasprintf("waiting for %zu rooms", n);
    char *shown = printable(what);

    for (size_t i = 0; i < n; i++) {
        job.rooms[i].r = &r[i];
        job.rooms[i].nick = xstrdup(o->nick);
    }
    /* One flight for every room; a second one for the rooms whose nick
     * was taken. */
    for (int round = 0; round < MAX_TRIES && e == XS_OK; round++) {
        size_t queued = 0;
        for (size_t i = 0; i < n; i++) {
            struct room *rm = &job.rooms[i];
            if (round > 0 && !(rm->join == J_FAILED && rm->conflict &&
                               rm->tries < MAX_TRIES))
                continue;
            if (round > 0)
                suffix_nick(s, rm);
            queue_join(s, o, m, rm);
            queued++;
        }
        if (queued == 0)
            break;
        struct xmpp_wait w = {
            .what = shown, .need_done = 1, .on_stanza = on_stanza, .ud = &job};
        e = xmpp_flight(s, &w, err);
    }
    for (size_t i = 0; i < n && e == XS_OK; i++) {
        struct room *rm = &job.rooms[i];
        if (rm->join == J_JOINED && rm->created)
            e = new_room(s, o, rm, err);
    }
    for (size_t i = 0; i < n; i++) {
        struct room *rm = &job.rooms[i];
        /* Also after a failure: we may be in the room. */
        if ((rm->join == J_JOINED || (rm->join == J_FAILED && rm->created)) &&
            !rm->gone && rm->joined_nick != NULL)
            queue_leave(s, rm);
        if (e == XS_OK)
            outcome(rm);
        room_clear_error(rm);
        free(rm->nick);
        free(rm->joined_nick);
    }
    free(job.rooms);
    free(shown);
    free(what);
    return e;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *muc_uri_room(const char *arg)
{
    static const char scheme[] = "xmpp:";
    size_t k = sizeof scheme - 1;
    if (strncasecmp(arg, scheme, k) != 0)
        return NULL;
    const char *q = strchr(arg + k, '?');
    if (q == NULL || strcmp(q + 1, "join") != 0)
        return NULL;
    /* RFC 5122 2.2: no authority ("xmpp://..."), %-encoded octets. */
    if (arg[k] == '/')
        return NULL;
    struct buf b = {0};
    for (const char *p = arg + k; p < q; p++) {
        if (*p == '%') {
            int hi = p + 2 < q ? hexval(p[1]) : -1;
            int lo = hi >= 0 ? hexval(p[2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0)) {
                buf_free(&b);
                return NULL;
            }
            buf_addch(&b, (char)(hi * 16 + lo));
            p += 2;
        } else {
            buf_addch(&b, *p);
        }
    }
    buf_addstr(&b, "");
    return b.data;
}
