/* SPDX-License-Identifier: MIT */
/*
 * sasl.h - SASL mechanism maths: choice of mechanism, SCRAM (RFC 5802,
 * RFC 7677) and PLAIN (RFC 4616).  Pure: no I/O and no XML.  Messages
 * are raw (not base64); the caller encodes them for the wire.
 */
#ifndef XMPPSEND_SASL_H
#define XMPPSEND_SASL_H

#include <stddef.h>

#include "util.h"

/* Ordered weakest to strongest; sasl_choose picks the highest offered. */
enum sasl_mech {
    SASL_NONE = 0,
    SASL_EXTERNAL,   /* not ranked: only with a client certificate */
    SASL_DIGEST_MD5, /* below PLAIN: only when no SCRAM or PLAIN is
                        offered, or asked for (sasl_policy.c) */
    SASL_PLAIN,
    SASL_SCRAM_SHA_1,
    SASL_SCRAM_SHA_256,
    SASL_SCRAM_SHA_512
};

/* Iteration count bounds (protocol.md 3.2, RFC 7677 section 4). */
#define SASL_SCRAM_MIN_ITER 4096
#define SASL_SCRAM_MAX_ITER 1000000
/* Upper bound on nonce and salt lengths accepted from a server. */
#define SASL_SCRAM_MAX_FIELD 1024

/* Wire name, e.g. "SCRAM-SHA-256"; "" for SASL_NONE. */
const char *sasl_mech_name(enum sasl_mech m);

/* Map a wire name (exact, case-sensitive) to a mechanism, or SASL_NONE. */
enum sasl_mech sasl_mech_from_name(const char *name);

/*
 * Choose the strongest mechanism among 'n' offered names.  PLAIN is only
 * returned when 'allow_plain' is set and no SCRAM variant is offered.
 * Returns SASL_NONE when nothing acceptable is offered.
 */
enum sasl_mech
sasl_choose(const char *const *offered, size_t n, int allow_plain);

/*
 * Escape a SCRAM username (RFC 5802 section 5.1): '=' -> "=3D",
 * ',' -> "=2C".  Returns allocated string.
 */
char *sasl_escape_username(const char *user);

/*
 * PLAIN initial response "\0user\0password" (authzid empty) appended to
 * 'out' (raw bytes); the password prepared exactly as for SCRAM: PRECIS
 * OpaqueString (RFC 8265 section 4.2, as RFC 4616 asks) unless 'raw'.
 * Callers must wipe 'out' (buf_wipe).  Returns XS_EDATA (nothing
 * appended) for a password that cannot be normalised, XS_ESOFTWARE for a
 * NULL argument.
 */
enum xs_err sasl_plain_prepare(const char *user,
                               const char *password,
                               int raw,
                               struct buf *out,
                               struct xs_error *err);

struct sasl_scram; /* opaque */

/*
 * Start a SCRAM exchange.
 *   mech      one of the SASL_SCRAM_* values
 *   user      the XMPP localpart (escaped internally)
 *   password  UTF-8; normalised with PRECIS OpaqueString unless 'raw'
 *   cnonce    client nonce text, or NULL for 24 random bytes, base64
 *   gs2_cbflag  "n" (no channel binding), "y" (client supports it, server
 *             showed no -PLUS), or "p=CBNAME" (e.g. "p=tls-exporter")
 *   cbdata, cblen  channel-binding bytes when gs2_cbflag starts with "p="
 * The password is copied only in derived form.
 * Returns NULL with 'err' set (XS_EDATA for a password that cannot be
 * normalised, XS_ESOFTWARE for a bad argument).
 */
struct sasl_scram *sasl_scram_new(enum sasl_mech mech,
                                  const char *user,
                                  const char *password,
                                  int raw,
                                  const char *cnonce,
                                  const char *gs2_cbflag,
                                  const unsigned char *cbdata,
                                  size_t cblen,
                                  struct xs_error *err);

/* Append the client-first message ("n,,n=user,r=nonce") to 'out'. */
void sasl_scram_first(struct sasl_scram *s, struct buf *out);

/*
 * Validate server-first and append client-final (with proof) to 'out'.
 * Rejects: m= extension, nonce not strictly extending ours or with bad
 * characters, non-strict base64 or empty/oversize salt, iteration count
 * outside [SASL_SCRAM_MIN_ITER, SASL_SCRAM_MAX_ITER] or malformed.
 * Used error codes: XS_EPROTO (malformed or hostile server-first).
 */
enum xs_err sasl_scram_final(struct sasl_scram *s,
                             const char *server_first,
                             size_t len,
                             struct buf *out,
                             struct xs_error *err);

/*
 * Check server-final: "v=" must equal the expected ServerSignature
 * (constant-time compare).  "e=" yields XS_EAUTH with the server's
 * error value in the message; anything else, a missing or wrong v=,
 * yields XS_EPROTO (the server failed mutual authentication).
 */
enum xs_err sasl_scram_verify(struct sasl_scram *s,
                              const char *server_final,
                              size_t len,
                              struct xs_error *err);

/* Wipe all key material and free; NULL is a no-op. */
void sasl_scram_free(struct sasl_scram *s);

/*
 * RFC 5802 section 5.1: the client may keep ClientKey and ServerKey for
 * the salt and iteration count the server sent, and skip PBKDF2 when
 * the server sends the same ones again.  As text (what the state file
 * holds): the mechanism's hash name (sasl_mech_name, without -PLUS),
 * the salt as base64 as in server-first, the iteration count in
 * decimal, and the two keys as base64.
 */
struct sasl_scram_keys {
    char *mech, *salt, *iter, *client_key, *server_key;
};

/* Offer kept keys to sasl_scram_final (copied): used when the
 * mechanism, salt and iteration count match server-first; keys that do
 * not fit the mechanism are ignored. */
void sasl_scram_use_keys(struct sasl_scram *s, const struct sasl_scram_keys *k);

/* After sasl_scram_final: 1 when the proof came from kept keys. */
int sasl_scram_cache_hit(const struct sasl_scram *s);

/* After sasl_scram_final: the exchange's keys, allocated into 'k'
 * (free with sasl_scram_keys_free, which wipes them); -1: none.  Keep
 * them only once sasl_scram_verify has accepted the server's
 * signature. */
int sasl_scram_keys(const struct sasl_scram *s, struct sasl_scram_keys *k);
void sasl_scram_keys_free(struct sasl_scram_keys *k);

/*
 * SCRAM-*-PLUS (RFC 5802 section 6): the strongest SCRAM mechanism whose
 * "-PLUS" name is among the 'n' offered, or SASL_NONE.  The -PLUS name
 * of a mechanism is sasl_mech_name() followed by "-PLUS".
 */
enum sasl_mech sasl_choose_plus(const char *const *offered, size_t n);

/*
 * XEP-0474 (SSDP) downgrade-protection hash of what the server offered:
 * base64(H(S)) with H the hash of 'mech' and S the sorted (octet order)
 * 'mechs', then, when the server sent an XEP-0440 list ('cb_listed'),
 * the sorted 'cbs'.  'old_form' 0: attribute "h" (XEP-0474 0.4.0 and
 * later: joined by 0x1E, lists separated by 0x1F); 1: attribute "d"
 * (0.3.x, as ejabberd sends it: joined by ',', separated by '|').
 * Returns allocated text, NULL for a mechanism that is not SCRAM.
 */
char *sasl_ssdp_hash(enum sasl_mech mech,
                     const char *const *mechs,
                     size_t n,
                     const char *const *cbs,
                     size_t ncb,
                     int cb_listed,
                     int old_form);

/*
 * Make sasl_scram_final check the server's XEP-0474 hash against what
 * the server offered (copied): an "h" or "d" attribute in server-first
 * that does not match is refused (XS_EPROTO) before any proof is
 * computed.  With 'required', a server-first without either attribute
 * is refused too (XEP-0474 "new rule 6": -PLUS offered, but no
 * channel-binding type we could use).
 */
void sasl_scram_ssdp(struct sasl_scram *s,
                     const char *const *mechs,
                     size_t n,
                     const char *const *cbs,
                     size_t ncb,
                     int cb_listed,
                     int required);

/* After sasl_scram_final: 1 when server-first carried a matching
 * XEP-0474 hash, else 0. */
int sasl_scram_ssdp_verified(const struct sasl_scram *s);

/*
 * The password prepared as for PLAIN and SCRAM (PRECIS OpaqueString, or
 * a copy when 'raw'): *pw allocated, wipe it (xs_wipe *pwlen) and free.
 * XS_EDATA for a password that cannot be normalised.
 */
enum xs_err sasl_password_prepare(const char *password,
                                  int raw,
                                  char **pw,
                                  size_t *pwlen,
                                  struct xs_error *err);

/* ---- --mechanism and the choice among offered mechanisms
 *      (sasl_policy.c) ---- */

/* Bit of 'm' in a mechanism mask. */
#define SASL_BIT(m) (1u << (unsigned)(m))

/*
 * Parse a --mechanism value, "NAME[,NAME...]" (names compared without
 * regard to case), into a mask of SASL_BIT()s.  Used error codes:
 * XS_EUSAGE (empty, or a name xmppsend does not know; the message lists
 * the known ones).
 */
enum xs_err
sasl_mech_mask(const char *list, unsigned *mask, struct xs_error *err);

/* The names in 'mask', in our order of preference, comma-separated
 * (allocated). */
char *sasl_mask_names(unsigned mask);

struct sasl_policy {
    unsigned allow; /* --mechanism: SASL_BIT()s; 0: no restriction */
    int verified;   /* TLS verified (no --insecure): PLAIN and
                       DIGEST-MD5 may be used */
    int cert;       /* a client certificate is loaded: EXTERNAL */
    int password;   /* a password is available */
};

/*
 * Choose among the 'n' offered mechanism names, in our order of
 * preference whatever the server's order: EXTERNAL when a certificate is
 * loaded (over an unverified connection only when --mechanism names
 * it), else sasl_choose() over what 'p' allows, else DIGEST-MD5 when
 * neither SCRAM nor PLAIN is offered or --mechanism names it (never over
 * an unverified connection).  'why' (may be NULL) receives one line per
 * offered mechanism: the one chosen and why each other was not.
 */
enum sasl_mech sasl_select(const char *const *offered,
                           size_t n,
                           const struct sasl_policy *p,
                           struct buf *why);

/* ---- DIGEST-MD5 (RFC 2831; obsolete, RFC 6331): sasl_digest.c ---- */

/* Limits on what the server may send (RFC 2831 2.1.1: < 2048 bytes). */
#define SASL_DIGEST_MAX_CHALLENGE 2047
#define SASL_DIGEST_MAX_REALMS 16

struct sasl_digest; /* opaque */

/*
 * Start a DIGEST-MD5 exchange for 'user' (the authcid, the JID's
 * localpart) with digest-uri "SERVICE/HOST" ("xmpp/DOMAIN").  The
 * password is prepared as for PLAIN unless 'raw'; 'cnonce' NULL: 24
 * random bytes (gnutls_rnd), base64.  Returns NULL with 'err' set
 * (XS_EDATA: password cannot be normalised; XS_ESOFTWARE: bad argument).
 */
struct sasl_digest *sasl_digest_new(const char *user,
                                    const char *password,
                                    int raw,
                                    const char *service,
                                    const char *host,
                                    const char *cnonce,
                                    struct xs_error *err);

/*
 * Parse the server's digest-challenge and append the digest-response
 * (raw) to 'out'.  Refused (XS_EPROTO): a malformed challenge (bad
 * quoting, control characters, NUL, too long), duplicated directives
 * (but realm), no nonce, an algorithm other than md5-sess, a qop list
 * without "auth", a charset other than utf-8.  XS_EREFUSED: a non-ASCII
 * user name or password and no charset=utf-8.
 */
enum xs_err sasl_digest_response(struct sasl_digest *d,
                                 const char *challenge,
                                 size_t len,
                                 struct buf *out,
                                 struct xs_error *err);

/*
 * Check the server's second challenge (or <success/> data),
 * "rspauth=HEX": it must equal the value computed from the password
 * (constant-time compare) or the server has not proven that it knows
 * the password: XS_EPROTO, as a wrong SCRAM server signature.
 */
enum xs_err sasl_digest_verify(struct sasl_digest *d,
                               const char *msg,
                               size_t len,
                               struct xs_error *err);

/* Wipe and free; NULL is a no-op. */
void sasl_digest_free(struct sasl_digest *d);

/*
 * FAST (XEP-0484) tokens, used with the HT-SHA-256-* mechanisms of
 * draft-schmaus-kitten-sasl-ht.  The suffix names the channel binding:
 * NONE (none), EXPR (tls-exporter), ENDP (tls-server-end-point), UNIQ
 * (tls-unique).  sasl_ht_cbtype: 0 and *cbtype (NULL for NONE) for a
 * known HT-SHA-256 name, -1 otherwise.
 */
int sasl_ht_cbtype(const char *mech, const char **cbtype);

/* Initial response: authcid NUL HMAC-SHA-256(token, "Initiator" || cb). */
enum xs_err sasl_ht_initial(const char *user,
                            const char *token,
                            const unsigned char *cb,
                            size_t cblen,
                            struct buf *out,
                            struct xs_error *err);

/* The server's proof: exactly HMAC-SHA-256(token, "Responder" || cb),
 * compared in constant time; anything else is XS_EPROTO. */
enum xs_err sasl_ht_verify(const char *token,
                           const unsigned char *cb,
                           size_t cblen,
                           const char *data,
                           size_t len,
                           struct xs_error *err);

#endif
