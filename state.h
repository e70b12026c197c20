/* SPDX-License-Identifier: MIT */
/*
 * state.h - what a run keeps per account for the next one, in
 * ${XDG_STATE_HOME:-~/.local/state}/xmppsend/BAREJID: the SASL2
 * client id, the FAST token (XEP-0484), SCRAM keys, and what the server offered
 * last time (so that the next login need not wait for its features).
 *
 * The file holds a secret (the token): mode 0600 in a 0700 directory,
 * owned by the user, written to a temporary file and renamed.  A lock
 * file (BAREJID.lock, flock) belongs to one run at a time: a run that
 * finds it taken uses neither the client id nor the token (two sessions
 * with one client id would end each other) and saves nothing.
 */
#ifndef XMPPSEND_STATE_H
#define XMPPSEND_STATE_H

#include "util.h"

/* Largest state file read (bytes). */
#define STATE_MAX (64 * 1024)

struct xs_state {
    char *path;      /* the state file; NULL: no state this run */
    int lockfd;      /* the held lock, or -1 */
    char *client_id; /* XEP-0388 user-agent id (UUID v4) */
    /* FAST: the token, its mechanism and expiry (NULL: none). */
    char *fast_mech, *fast_token, *fast_expiry;
    /* What the server offered last time (comma-separated names, NULL:
     * none): SASL mechanisms and channel-binding types (XEP-0440; with
     * cb_listed when it sent the list), SASL2 (XEP-0388) with its
     * mechanisms, FAST mechanisms and Bind2 with inline stream
     * management.  The next login may go ahead on it (xmpp.c). */
    char *mechs, *cbs, *mechs2, *fast_mechs;
    /* SCRAM keys (RFC 5802 section 5.1, sasl.h sasl_scram_keys): the
     * mechanism, salt, iteration count, ClientKey and ServerKey of the
     * last password login (all NULL: none).  Secrets like the token. */
    char *scram_mech, *scram_salt, *scram_iter, *scram_ck, *scram_sk;
    int cb_listed, known;
    int sasl2, bind2, sm_inline;
    int dirty; /* changed since read: state_save writes it */
};

/*
 * Open (and lock) the state of account 'bare' under 'dir' (NULL: the
 * default above).  Missing files are fine.  When the lock is held by
 * another run, st->lockfd is -1 and st->path NULL: the run goes on
 * without state.  Errors: XS_ECONFIG (a file that is not the user's own
 * or is readable by others, a malformed line), XS_EOS.
 */
enum xs_err state_open(const char *dir,
                       const char *bare,
                       struct xs_state *st,
                       struct xs_error *err);

/* A random UUID v4 into 'out' (37 bytes); -1 when there is no
 * randomness. */
int state_uuid(char out[37]);

/* A new random client id when there is none (marks the state dirty). */
void state_client_id(struct xs_state *st);

/* May 'v' be saved as a value (printable ASCII without blanks, 1 to
 * 'max' bytes), so that state_parse reads it back? */
int state_value_ok(const char *v, size_t max);

/* Replace a string field (wiping the old value) and mark dirty when
 * it changed. */
void state_set(struct xs_state *st, char **field, const char *v);

/* Forget the FAST token. */
void state_drop_token(struct xs_state *st);

/* Forget the SCRAM keys. */
void state_drop_scram(struct xs_state *st);

/* Write the state when it changed (and is locked by this run). */
enum xs_err state_save(struct xs_state *st, struct xs_error *err);

/* Wipe, unlock, free. */
void state_free(struct xs_state *st);

/* Parse state text into 'st' (for tests and fuzzers); 'name' for
 * messages.  Unknown keys are ignored (a newer version's). */
enum xs_err state_parse(const char *text,
                        size_t len,
                        const char *name,
                        struct xs_state *st,
                        struct xs_error *err);

#endif
