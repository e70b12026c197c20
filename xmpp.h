/* SPDX-License-Identifier: MIT */
/*
 * xmpp.h - one synchronous XMPP client session (RFC 6120/6121): stream,
 * STARTTLS, SASL, resource binding, then any number of jobs (send
 * messages, read the roster, IQ requests), then the close.
 *
 * Every byte from and to the server goes through 'struct xs_io', so a
 * test or a fuzzer can drive the whole session with canned bytes.  No
 * socket, GnuTLS or libxml2 type appears here.
 */
#ifndef XMPPSEND_XMPP_H
#define XMPPSEND_XMPP_H

#include <stddef.h>

#include "io.h"
#include "util.h"

/* Direction tags for the debug trace. */
#define XMPP_TRACE_SENT 'C'
#define XMPP_TRACE_RECV 'S'
#define XMPP_TRACE_NOTE '*' /* why the session did what it did */

struct xmpp_config {
    const char *jid;      /* account JID (validated by the caller) */
    const char *password; /* UTF-8 */
    const char *resource; /* NULL: the server assigns one */
    int allow_plain;      /* PLAIN allowed when no SCRAM is offered */
    long long deadline;   /* xs_now_ms() by which the run must end */
    int timeout_s;        /* the --timeout value, for messages */
    /* Debug trace of the stream, SASL payloads already redacted. */
    void (*trace)(void *ud, char dir, const char *data, size_t len);
    void *trace_ud;
    /* Tests and fuzzers only: fixed SCRAM client nonce; stanza ids are
     * then "xs-1", "xs-2", ... */
    const char *test_cnonce;
    /* XEP-0198: ask for a resumable session (line mode), see
     * xmpp_detach and xmpp_login_resume. */
    int sm_resume;
    /* The bind request is not waited for: it goes out with the first
     * job's stanzas (one round trip less).  That flight has no
     * XEP-0198 (the server's features are not known yet). */
    int pipeline_bind;
    /* With a FAST token, to a server that offered SASL2 last time: the
     * <authenticate/> goes with the stream header, and the first job
     * with it, before any answer (xmpp_retry_login). */
    int pipeline_auth;
    /* --mechanism: SASL_BIT()s of sasl.h; 0: any mechanism */
    unsigned mechanisms;
    /* A client certificate is loaded: EXTERNAL; 'password' may then be
     * NULL (no password mechanism is used) */
    int client_cert;
    /* SASL2 (XEP-0388) with Bind2 (XEP-0386) where the server offers
     * them: authentication to a bound session in one exchange. */
    int sasl2;
    /* FAST (XEP-0484): log in with the token in 'state', ask for one
     * with a password login; only on a verified connection. */
    int fast;
    /* The account's state (state.h), or NULL: the FAST token and the
     * client id are read from it and new ones written to it (the
     * caller saves it). */
    struct xs_state *state;
};

struct xmpp_message {
    const char *body;    /* sanitised UTF-8, may be "" with a subject */
    const char *subject; /* NULL: none */
    const char *type;    /* chat, normal or headline */
    const char *thread;  /* NULL: none */
    const char *oob_url; /* NULL: none; else XEP-0066 <x><url/></x> */
    int receipt;         /* 1: request a delivery receipt (XEP-0184) */
    /* NULL, or a wait whose on_stanza sees the stanzas (not bounces)
     * that arrive while xmpp_send waits: early receipts (receipts.c) */
    struct xmpp_wait *watch;
};

enum xmpp_status { XMPP_PENDING = 0, XMPP_SENT, XMPP_FAILED };

struct xmpp_recipient {
    const char *jid; /* in: validated JID */
    char id[24];     /* in/out: the message's stanza id; xmpp_send makes
                        one when it is "" and keeps one already set */
    enum xmpp_status status;
    enum xs_err code; /* XMPP_FAILED: XS_EBOUNCE, XS_EREFUSED, XS_ETEMP */
    char *condition;  /* allocated (or NULL): stanza error condition */
    char *errtype;    /* allocated (or NULL): error type attribute */
    char *text;       /* allocated (or NULL): printable error text */
    int received;     /* out: a delivery receipt arrived (receipts.c) */
    int handled;      /* in: the server already has this message (counted
                         in a resumed session's h): xmpp_send does not
                         send it again, only confirms it */
};

struct xmpp_roster_item {
    char *jid;
    char *name;         /* NULL when absent */
    char *subscription; /* "none" when absent */
    char *ask;          /* NULL when absent */
    char **groups;
    size_t ngroups;
};

struct xmpp_roster {
    struct xmpp_roster_item *items;
    size_t n;
};

struct xmpp_session; /* opaque */
struct xs_state;     /* state.h */

/* New session over 'io'; both must outlive it. */
struct xmpp_session *xmpp_new(const struct xmpp_config *cfg,
                              const struct xs_io *io);

/*
 * Open the stream, STARTTLS, authenticate, bind.  Nothing is sent before
 * TLS but the stream header and <starttls/>; no stanza is sent before the
 * server proved knowledge of the password (SCRAM v=).
 * Used error codes: XS_EREFUSED, XS_EAUTH, XS_EPROTO, XS_ETEMP, XS_EIO.
 */
enum xs_err xmpp_login(struct xmpp_session *s, struct xs_error *err);

/*
 * After a failed login or first job: did it fail because a pipelined
 * FAST login guessed wrong (the server no longer offers it, or refused
 * the token, which is then forgotten)?  Nothing of the job was handled
 * by the server; a new session without cfg.pipeline_auth may succeed.
 */
int xmpp_retry_login(const struct xmpp_session *s);

/* What a session did, for the log line. */
struct xmpp_stats {
    const char *mech; /* the SASL mechanism last tried, NULL: none;
                         valid while the session lives */
    int sasl2;        /* the login was SASL2 with Bind2 */
    int tls;          /* 13 for TLS 1.3, 12 for 1.2, 0: none */
    unsigned flights; /* times the session waited for the server after
                         writing (round trips of the XMPP stream) */
    unsigned long long bytes_out, bytes_in; /* XML written, read */
};
void xmpp_stats(const struct xmpp_session *s, struct xmpp_stats *st);

/*
 * XEP-0198 resumption, for a session made with cfg.sm_resume (line
 * mode).  What a dropped session leaves for the next connection: the
 * server's id for it, the counts of stanzas each side handled, the
 * bound JID.  Free with xmpp_resume_clear.
 */
struct xmpp_resume {
    char *id;          /* NULL: nothing to resume */
    unsigned long in;  /* the server's stanzas we handled */
    unsigned long out; /* our stanzas sent */
    char *bound_jid;
};
void xmpp_resume_clear(struct xmpp_resume *st);

/* Can the server keep this session for xmpp_login_resume: resumption
 * was enabled, and the stream did not end (no close, no stream error)? */
int xmpp_resumable(const struct xmpp_session *s);

/* The number of our stanzas so far (XEP-0198 counting; 0 without it):
 * a message sent next is number xmpp_sm_sent() + 1. */
unsigned long xmpp_sm_sent(const struct xmpp_session *s);

/*
 * Leave a resumable session without ending the stream (no
 * </stream:stream>: the server keeps the session for a while) and fill
 * 'st' for xmpp_login_resume.  Then xmpp_close does nothing.
 */
void xmpp_detach(struct xmpp_session *s, struct xmpp_resume *st);

/*
 * As xmpp_login, but after SASL ask the server to resume the session in
 * 'st' (the restart's header and <resume/> in one flight) instead of
 * binding.  *resumed is 1 when it did: *handled is then the number of
 * our stanzas the server had handled (a message numbered above it must
 * be sent again).  When the server no longer has it (<failed/>), a
 * resource is bound as by xmpp_login and *resumed is 0.
 */
enum xs_err xmpp_login_resume(struct xmpp_session *s,
                              const struct xmpp_resume *st,
                              int *resumed,
                              unsigned long *handled,
                              struct xs_error *err);

/*
 * Jobs.  Any number of them may run in a row after xmpp_login; each
 * writes its stanzas and waits for the answers it needs (one "flight");
 * none closes the stream: xmpp_close does, once every answer is in.
 */

/*
 * Send 'm' to each of 'n' recipients and wait for the server's
 * confirmation: the reply to a ping sent behind the messages (the server
 * handles a stream in order, so every bounce of these messages comes
 * before it); with XEP-0198 the ack must cover them too.  Returns XS_OK
 * when the server confirmed; recipients whose message bounced are marked
 * XMPP_FAILED with their own code (XS_EBOUNCE: no such recipient,
 * XS_ETEMP: type wait or recipient-unavailable, XS_EREFUSED: the rest).
 * A message larger than the server's advertised limit (XEP-0478) is not
 * sent: XS_EREFUSED.  Free the recipients' fields with
 * xmpp_recipients_clear.  Each call (like each flight) may receive up to
 * 10000 elements and 64 MiB, whatever came before.
 */
enum xs_err xmpp_send(struct xmpp_session *s,
                      const struct xmpp_message *m,
                      struct xmpp_recipient *r,
                      size_t n,
                      struct xs_error *err);
void xmpp_recipients_clear(struct xmpp_recipient *r, size_t n);

struct xnode; /* xml.h */

/*
 * A bounce that arrives after xmpp_send confirmed (late, from another
 * server): if 'm' is a <message type='error'/> for one of the 'n'
 * recipients (by id and sender), mark it XMPP_FAILED with the codes of
 * xmpp_send and return 1; else 0.
 */
int xmpp_bounce(struct xmpp_recipient *r, size_t n, const struct xnode *m);

/* Fetch the roster (RFC 6121 2.1.3), items sorted by JID and groups by
 * name. */
enum xs_err xmpp_roster(struct xmpp_session *s,
                        struct xmpp_roster *out,
                        struct xs_error *err);
void xmpp_roster_free(struct xmpp_roster *r);

struct xnode; /* xml.h */

/*
 * One IQ request/response: send <iq type='TYPE' to='TO'>PAYLOAD</iq>
 * (PAYLOAD is trusted XML; 'to' NULL: our own account) and wait for the
 * reply with the same id from the right sender.  *reply is the reply
 * (result or error; free with xnode_free) whenever one arrived.  An
 * error reply returns XS_ETEMP (type wait) or XS_EREFUSED, with "WHAT
 * failed: CONDITION"; 'what' also names the wait in timeouts ("while
 * WHAT").
 */
enum xs_err xmpp_iq(struct xmpp_session *s,
                    const char *type,
                    const char *to,
                    const char *payload,
                    const char *what,
                    struct xnode **reply,
                    struct xs_error *err);

/*
 * Building blocks for jobs written outside this file (one flight each):
 * queue stanzas with xmpp_queue, then xmpp_flight writes them and waits.
 * A job never writes </stream:stream>; xmpp_close does.
 */

/* A fresh stanza id ("xs-N" with cfg.test_cnonce). */
void xmpp_new_id(struct xmpp_session *s, char *id, size_t size);

/* Queue one stanza (message, presence or iq) for the next flight.  It is
 * trusted XML: every value in it must have gone through buf_add_xml. */
void xmpp_queue(struct xmpp_session *s, const char *stanza);

/* Queue one stanza made of 'open', a secret and 'close' (all trusted XML,
 * the secret escaped by the caller): the debug trace shows "[redacted]"
 * in place of the secret. */
void xmpp_queue_secret(struct xmpp_session *s,
                       const char *open,
                       const char *secret,
                       const char *close);

/* Is 'n' the result or error reply to our IQ 'id' sent to 'to' (NULL:
 * our own account or server), from an acceptable sender? */
int xmpp_is_reply(const struct xmpp_session *s,
                  const struct xnode *n,
                  const char *id,
                  const char *to);

/* The account's bare JID as the session parsed it. */
const char *xmpp_account(const struct xmpp_session *s);

/* Move the run's deadline (xs_now_ms() clock): line mode gives each
 * message its own --timeout. */
void xmpp_set_deadline(struct xmpp_session *s, long long deadline);

enum { XMPP_WAIT_MORE = 0, XMPP_WAIT_DONE = 1, XMPP_WAIT_FAIL = -1 };

struct xmpp_wait {
    const char *what; /* names the wait in errors: "timed out ... while
                         WHAT" */
    int ping;         /* 1: end the flight with a ping and wait for its
                         reply (and the XEP-0198 ack): the server has then
                         handled every stanza of the flight */
    int need_done;    /* 1: also wait until on_stanza returned DONE */
    long long until;  /* 0, or an xs_now_ms() time before the run's
                         deadline at which the wait ends without error
                         (once the ping is answered): 'expired' is set */
    /*
     * Sees every <message/>, <presence/> and IQ reply the session does
     * not handle itself (XEP-0198, the flight's ping reply, IQ requests
     * to us are handled).  Returns XMPP_WAIT_MORE, XMPP_WAIT_DONE (what
     * need_done waits for arrived; later stanzas are still shown), or
     * XMPP_WAIT_FAIL after setting *err, which ends the flight.  'n' is
     * freed after the call.
     */
    int (*on_stanza)(void *ud,
                     struct xmpp_session *s,
                     const struct xnode *n,
                     struct xs_error *err);
    void *ud;
    /* out */
    int done;    /* on_stanza returned XMPP_WAIT_DONE */
    int expired; /* the wait ended at 'until' */
};

/* Write the queued stanzas (and the ping), then wait as 'w' says.  The
 * wait ends at the run's deadline with XS_ETEMP. */
enum xs_err
xmpp_flight(struct xmpp_session *s, struct xmpp_wait *w, struct xs_error *err);

/*
 * End the session: our </stream:stream> and the TLS close_notify, with no
 * wait for the server's own close (every awaited answer has arrived by
 * now).  Safe after a failed job or login; a second call does nothing.
 */
void xmpp_close(struct xmpp_session *s);

/* Does the server support subscription pre-approval (RFC 6121 3.4,
 * stream feature after login)? */
int xmpp_preapproval(const struct xmpp_session *s);

/* The full JID the server bound (after xmpp_login), or NULL. */
const char *xmpp_bound_jid(const struct xmpp_session *s);

/* What a server offers after TLS, before any login (--serverinfo).
 * Every string is allocated; free with xmpp_features_clear. */
struct xmpp_names {
    char **v;
    size_t n;
};
struct xmpp_features {
    char *from;               /* the stream header's from, or NULL */
    struct xmpp_names mechs;  /* SASL (RFC 6120 6) */
    int cb_listed;            /* XEP-0440 list sent */
    struct xmpp_names cbs;    /* XEP-0440 channel-binding types */
    int sasl2;                /* XEP-0388 */
    struct xmpp_names mechs2; /* its mechanisms */
    int bind2, bind2_sm;      /* XEP-0386, with inline XEP-0198 */
    struct xmpp_names fast;   /* XEP-0484 mechanisms */
    int sm;                   /* <sm/> before login (XEP-0198) */
    int csi;                  /* XEP-0352 */
    int reg;                  /* in-band registration (XEP-0077) */
    long long max_bytes;      /* XEP-0478, -1: not advertised */
    long long idle_seconds;   /* XEP-0478, -1: not advertised */
    struct xmpp_names other;  /* any other feature: "name ns" */
    /* The login this client would make with a password: "SASL2
     * SCRAM-SHA-256-PLUS", "SCRAM-SHA-1", ...; NULL: none usable. */
    char *login;
};

/*
 * --serverinfo: open the stream, STARTTLS (or direct TLS), read the
 * features of the encrypted stream into 'f', and send nothing more
 * (xmpp_close writes </stream:stream>).  No credentials are ever sent.
 * The stream header names the account (from=, as a login's does, which
 * servers such as Prosody 13 need to offer FAST) only when 'from_ok'
 * (may be NULL) says so once TLS is up: a verified connection.
 * f->login is the login a run would make once the certificate verifies.
 * Used error codes: those of xmpp_login's steps before SASL.
 */
enum xs_err xmpp_probe(struct xmpp_session *s,
                       int (*from_ok)(void *ud),
                       void *ud,
                       struct xmpp_features *f,
                       struct xs_error *err);
void xmpp_features_clear(struct xmpp_features *f);

void xmpp_free(struct xmpp_session *s);

#endif
