/* SPDX-License-Identifier: MIT */
/*
 * opts.c - the option table (one row per option, like curl's tool) and
 * what is derived from it: getopt_long's table and short option string,
 * the --help lines, the error messages for misused options, and the
 * checks of option values wherever they come from.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jid.h"
#include "opts.h"
#include "runlog.h"
#include "sasl.h"
#include "tls.h"

/* ---------------------------------------------------------------- */
/* Value checks: NULL when valid, else the reason                    */

static const char *check_nonempty(const char *v)
{
    return *v == '\0' ? "empty" : NULL;
}

static const char *check_timeout(const char *v)
{
    char *end;
    errno = 0;
    long t = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || t < 1 || t > 86400)
        return "1 to 86400 seconds";
    return NULL;
}

static const char *check_type(const char *v)
{
    if (strcmp(v, "chat") != 0 && strcmp(v, "normal") != 0 &&
        strcmp(v, "headline") != 0)
        return "chat, normal or headline";
    return NULL;
}

static const char *check_tls(const char *v)
{
    if (strcmp(v, "direct") != 0 && strcmp(v, "starttls") != 0)
        return "direct or starttls";
    return NULL;
}

static const char *check_pin(const char *v)
{
    unsigned char pin[TLS_PIN_LEN];
    if (tls_pin_parse(v, pin) != 0)
        return "want sha256: and 64 hex digits";
    return NULL;
}

static const char *check_server(const char *v)
{
    static struct xs_error e;
    char *host = NULL;
    int port;
    memset(&e, 0, sizeof e);
    if (opts_parse_server(v, &host, &port, &e) != XS_OK)
        return e.msg;
    free(host);
    return NULL;
}

static const char *check_jid(const char *v)
{
    struct jid j;
    const char *why = NULL;
    if (jid_parse(v, &j, &why) != 0)
        return why != NULL ? why : "not a JID";
    int local = j.local != NULL;
    jid_free(&j);
    return local ? NULL : "no localpart";
}

/* A roster contact: a bare JID (RFC 6121 2.1.2.2: items have no
 * resource). */
static const char *check_contact(const char *v)
{
    struct jid j;
    const char *why = NULL;
    if (jid_parse(v, &j, &why) != 0)
        return why != NULL ? why : "not a JID";
    int res = j.resource != NULL;
    jid_free(&j);
    return res ? "a roster contact has no resource" : NULL;
}

/* --receipt's value: none (the default wait) or 1 to 86400 seconds. */
static const char *check_receipt(const char *v)
{
    return *v == '\0' ? NULL : check_timeout(v);
}

/* A resource is sent as is: printable UTF-8, 1 to 1023 bytes (RFC 7622
 * 3.4). */
int opts_parse_retry(const char *v, int *n, int *backoff)
{
    char *end;
    errno = 0;
    long t = strtol(v, &end, 10), b = 2;
    if (errno != 0 || end == v || t < 0 || t > 10)
        return -1;
    if (*end == ',') {
        const char *bs = end + 1;
        b = strtol(bs, &end, 10);
        if (errno != 0 || end == bs || b < 0 || b > 600)
            return -1;
    }
    if (*end != '\0')
        return -1;
    *n = (int)t;
    *backoff = (int)b;
    return 0;
}

static const char *check_retry(const char *v)
{
    int n, b;
    return opts_parse_retry(v, &n, &b) == 0
               ? NULL
               : "N[,BACKOFF]: 0 to 10 retries, 0 to 600 seconds";
}

static const char *check_facility(const char *v)
{
    return *v == '\0' || runlog_facility(v) >= 0
               ? NULL
               : "not a syslog facility (user, mail, daemon, local0 to "
                 "local7)";
}

static const char *check_resource(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return "empty";
    if (n > 1023)
        return "longer than 1023 bytes";
    if (!utf8_valid(v, n))
        return "not valid UTF-8";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p == 0x7f ||
            (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return "control character";
    }
    return NULL;
}

/* Rooms of -c (one a line): bare JIDs with a localpart. */
static const char *check_rooms(const char *v)
{
    const char *why = NULL;
    for (const char *p = v;;) {
        size_t n = strcspn(p, "\n");
        char *one = xstrndup(p, n);
        struct jid j;
        if (jid_parse(one, &j, &why) != 0) {
            why = why != NULL ? why : "not a JID";
        } else {
            if (j.local == NULL || j.resource != NULL)
                why = "want ROOM@SERVICE";
            jid_free(&j);
        }
        free(one);
        if (why != NULL || p[n] == '\0')
            return why;
        p += n + 1;
    }
}

/* --mechanism: names xmppsend knows (sasl_policy.c). */
static const char *check_mechanism(const char *v)
{
    static struct xs_error e;
    unsigned mask;
    memset(&e, 0, sizeof e);
    if (sasl_mech_mask(v, &mask, &e) != XS_OK)
        return e.msg;
    return NULL;
}

/* -a: an account name as the config file writes it. */
static const char *check_account(const char *v)
{
    if (*v == '\0')
        return "empty";
    if (v[strcspn(v, " \t:,\"#")] != '\0')
        return "no blanks, ':', ',', '\"' or '#' in an account name";
    return NULL;
}

/* --password-fd: a descriptor number. */
static const char *check_fd(const char *v)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < 0 || n > 1048576)
        return "a descriptor number, 0 or more";
    return NULL;
}

/* ---------------------------------------------------------------- */
/* The table                                                         */

#define S(f) offsetof(struct settings, f)

const struct opt opt_table[O_COUNT] = {
    [O_CHATROOM] = {.name = "chatroom",
                    .short_name = 'c',
                    .kind = OPT_STRING,
                    .arg = "ROOM",
                    .off = S(chatroom),
                    .bad = XS_EDATA,
                    .check = check_rooms,
                    .help = "also send to the group chat ROOM@SERVICE "
                            "(repeatable)"},
    [O_DEBUG] = {"debug", 'd', OPT_FLAG, NULL, 1, 0, 1, S(debug), XS_EUSAGE,
                 NULL, "trace the XML stream on stderr (secrets redacted)"},
    [O_CONFIG] = {"config", 'f', OPT_STRING, "FILE", 0, 0, 0, S(config),
                  XS_EUSAGE, check_nonempty,
                  "config file (default $XDG_CONFIG_HOME/xmppsend/config)"},
    [O_HELP] = {"help", 'h', OPT_ACTION, NULL, 0, 0, 0, 0, XS_EUSAGE, NULL,
                "show this help and exit"},
    [O_EACH_LINE] = {"each-line", 'i', OPT_FLAG, NULL, 0, 0, 0, S(each_line),
                     XS_EUSAGE, NULL,
                     "send each line of stdin as its own message"},
    [O_JID] = {"jid", 'j', OPT_STRING, "JID", 1, 0, 0, S(jid), XS_EDATA,
               check_jid, "account to log in with (env XMPPSEND_JID)"},
    [O_MESSAGE] = {"message", 'm', OPT_STRING, "TEXT", 0, 0, 0, S(message),
                   XS_EUSAGE, NULL, "message body (default: read stdin)"},
    [O_PASSWORD] = {"password", 'p', OPT_STRING, "PASS", 1, 1, 0, S(password),
                    XS_EUSAGE, check_nonempty,
                    "password (visible to other users; prefer the below)"},
    [O_QUIET] = {"quiet", 'q', OPT_FLAG, NULL, 1, 0, 1, S(quiet), XS_EUSAGE,
                 NULL, "print no result lines or warnings"},
    [O_SUBJECT] = {"subject", 's', OPT_STRING, "TEXT", 1, 0, 0, S(subject),
                   XS_EUSAGE, check_nonempty, "message subject"},
    [O_UPLOAD] = {"upload", 'u', OPT_STRING, "FILE", 0, 0, 0, S(upload),
                  XS_EUSAGE, check_nonempty,
                  "upload FILE (XEP-0363), send its URL; repeatable",
                  .repeat = 1},
    [O_VERSION] = {"version", 'V', OPT_ACTION, NULL, 0, 0, 0, 0, XS_EUSAGE,
                   NULL, "show versions and exit"},
    [O_CAFILE] = {"cafile", 0, OPT_STRING, "FILE", 1, 0, 0, S(cafile),
                  XS_EUSAGE, check_nonempty,
                  "trust the CA certificates in FILE instead of the "
                  "system's"},
    [O_CERT] = {"cert", 0, OPT_STRING, "FILE", 1, 0, 0, S(cert), XS_EUSAGE,
                check_nonempty,
                "client certificate (PEM) for SASL EXTERNAL; needs --key"},
    [O_CREATE_ROOM] = {"create-room", 0, OPT_FLAG, NULL, 0, 0, 0,
                       S(create_room), XS_EUSAGE, NULL,
                       "create a group chat that does not exist"},
    [O_INSECURE] = {"insecure", 0, OPT_FLAG, NULL, 1, 0, 1, S(insecure),
                    XS_EUSAGE, NULL,
                    "do not verify the server certificate (unsafe)"},
    [O_JSON] = {"json", 0, OPT_FLAG, NULL, 1, 0, 1, S(json), XS_EUSAGE, NULL,
                "machine-readable output"},
    [O_KEY] = {"key", 0, OPT_STRING, "FILE", 1, 0, 0, S(key), XS_EUSAGE,
               check_nonempty, "private key (PEM) of --cert, mode 600"},
    [O_MECHANISM] = {"mechanism", 0, OPT_STRING, "LIST", 1, 0, 0, S(mechanism),
                     XS_EUSAGE, check_mechanism,
                     "SASL mechanisms allowed, e.g. SCRAM-SHA-256,PLAIN"},
    [O_MESSAGE_FILE] = {"message-file", 0, OPT_STRING, "FILE", 0, 0, 0,
                        S(message_file), XS_EUSAGE, check_nonempty,
                        "message body from FILE (as from stdin)"},
    [O_NICK] = {"nick", 0, OPT_STRING, "NICK", 1, 0, 0, S(nick), XS_EDATA,
                check_resource,
                "nick in group chats (default: the JID's localpart)"},
    [O_PASSWORD_COMMAND] = {"password-command", 0, OPT_STRING, "CMD", 1, 0, 0,
                            S(password_command), XS_EUSAGE, check_nonempty,
                            "password is the first line CMD prints"},
    [O_PASSWORD_FILE] = {"password-file", 0, OPT_STRING, "FILE", 1, 0, 0,
                         S(password_file), XS_EUSAGE, check_nonempty,
                         "password is the first line of FILE"},
    [O_PIN] = {"pin", 0, OPT_STRING, "sha256:HEX", 1, 0, 0, S(pin), XS_EUSAGE,
               check_pin, "accept exactly this server certificate"},
    [O_FAST] = {"fast", 0, OPT_FLAG, NULL, 1, 0, 1, S(fast), XS_EUSAGE, NULL,
                "keep and use a FAST login token (default)"},
    [O_SASL2] = {"sasl2", 0, OPT_FLAG, NULL, 1, 0, 1, S(sasl2), XS_EUSAGE, NULL,
                 "use SASL2 and Bind2 where offered (default)"},
    [O_PIPELINING] = {"pipelining", 0, OPT_FLAG, NULL, 1, 0, 1, S(pipelining),
                      XS_EUSAGE, NULL,
                      "send the bind request with the message (default)"},
    [O_RAW] = {"raw", 0, OPT_FLAG, NULL, 0, 0, 0, S(raw), XS_EUSAGE, NULL,
               "send the stanzas read from stdin, print IQ replies"},
    [O_LOG] = {"log", 0, OPT_STRING, "FILE", 1, 0, 0, S(log), XS_EUSAGE,
               check_nonempty, "append one line per run to FILE ('-': stderr)"},
    [O_SYSLOG] = {"syslog", 0, OPT_STRING, "FACILITY", 1, 0, 0, S(syslog),
                  XS_EUSAGE, check_facility,
                  "log one line per run to syslog (FACILITY: user)",
                  .optional = 1},
    [O_RETRY] = {"retry", 0, OPT_STRING, "N[,BACKOFF]", 1, 0, 0, S(retry),
                 XS_EUSAGE, check_retry,
                 "retry a temporary failure N times, BACKOFF (2) s apart"},
    [O_RECEIPT] = {"receipt", 0, OPT_STRING, "SECONDS", 0, 0, 0, S(receipt),
                   XS_EUSAGE, check_receipt,
                   "wait up to SECONDS (10) for delivery receipts",
                   .optional = 1},
    [O_RESOURCE] = {"resource", 0, OPT_STRING, "RES", 1, 0, 0, S(resource),
                    XS_EDATA, check_resource,
                    "resource to request (default: server assigns)"},
    [O_ROOM_PASSWORD] = {"room-password", 0, OPT_STRING, "PASS", 1, 1, 0,
                         S(room_password), XS_EUSAGE, check_nonempty,
                         "password of the group chats (prefer the config "
                         "file)"},
    [O_ROSTER] = {"roster", 0, OPT_FLAG, NULL, 0, 0, 0, S(roster), XS_EUSAGE,
                  NULL, "print the roster instead of sending"},
    [O_SERVER] = {"server", 0, OPT_STRING, "HOST[:PORT]", 1, 0, 0, S(server),
                  XS_EUSAGE, check_server,
                  "connect to HOST instead of looking up SRV records"},
    [O_SKIP_EMPTY] = {"skip-empty", 0, OPT_FLAG, NULL, 0, 0, 0, S(skip_empty),
                      XS_EUSAGE, NULL, "empty message: send nothing, exit 0"},
    [O_THREAD] = {"thread", 0, OPT_STRING, "ID", 1, 0, 0, S(thread), XS_EUSAGE,
                  check_nonempty, "message thread"},
    [O_TIMEOUT] = {"timeout", 0, OPT_STRING, "SECONDS", 1, 0, 0, S(timeout),
                   XS_EUSAGE, check_timeout,
                   "deadline for the run; with -i, per message (default 30)"},
    [O_TLS] = {"tls", 0, OPT_STRING, "MODE", 1, 0, 0, S(tls), XS_EUSAGE,
               check_tls, "direct (XEP-0368) or starttls (default: by port)"},
    [O_TYPE] = {"type", 0, OPT_STRING, "TYPE", 1, 0, 0, S(type), XS_EUSAGE,
                check_type, "chat (default), normal or headline"},
    [O_ROSTER_ADD] = {"roster-add", 0, OPT_LIST, "JID", 0, 0, 0, 0, XS_EDATA,
                      check_contact, "add JID to the roster, or update it"},
    [O_ROSTER_REMOVE] = {"roster-remove", 0, OPT_LIST, "JID", 0, 0, 0, 0,
                         XS_EDATA, check_contact, "remove JID from the roster"},
    [O_SUBSCRIBE] = {"subscribe", 0, OPT_LIST, "JID", 0, 0, 0, 0, XS_EDATA,
                     check_contact, "ask JID for its presence"},
    [O_APPROVE] = {"approve", 0, OPT_LIST, "JID", 0, 0, 0, 0, XS_EDATA,
                   check_contact, "let JID see our presence (or pre-approve)"},
    [O_UNSUBSCRIBE] = {"unsubscribe", 0, OPT_LIST, "JID", 0, 0, 0, 0, XS_EDATA,
                       check_contact, "stop receiving JID's presence"},
    [O_DENY] = {"deny", 0, OPT_LIST, "JID", 0, 0, 0, 0, XS_EDATA, check_contact,
                "refuse or cancel JID's subscription"},
    [O_NAME] = {"name", 0, OPT_LIST, "NAME", 0, 0, 0, 0, XS_EUSAGE,
                check_nonempty, "name for the --roster-add before it"},
    [O_GROUP] = {"group", 0, OPT_LIST, "GROUP", 0, 0, 0, 0, XS_EUSAGE,
                 check_nonempty, "a group for the --roster-add before it"},
    [O_WAIT] = {"wait", 0, OPT_STRING, "SECONDS", 0, 0, 0, S(wait), XS_EUSAGE,
                check_timeout, "after sending, wait SECONDS for late bounces"},
    [O_ACCOUNT] = {"account", 'a', OPT_STRING, "NAME", 0, 0, 0, S(account),
                   XS_EUSAGE, check_account,
                   "use the config file's account NAME (default: 'default')"},
    [O_PASSWORD_FD] = {"password-fd", 0, OPT_STRING, "N", 0, 0, 0,
                       S(password_fd), XS_EUSAGE, check_fd,
                       "password is the first line read from descriptor N"},
    [O_PRETEND] = {"pretend", 0, OPT_FLAG, NULL, 0, 0, 0, S(pretend), XS_EUSAGE,
                   NULL,
                   "print the settings and servers to try, do not connect"},
    [O_SERVERINFO] = {"serverinfo", 0, OPT_FLAG, NULL, 0, 0, 0, S(serverinfo),
                      XS_EUSAGE, NULL,
                      "show what the servers of [DOMAIN] offer, no login"},
    [O_LOGIN] = {"login", 0, OPT_FLAG, NULL, 0, 0, 0, S(login), XS_EUSAGE, NULL,
                 "with --serverinfo: also log in, show JID and services"},
};

#undef S

/* The set-mask has one bit per option. */
_Static_assert(O_COUNT <= 64, "more options than bits in settings.set");

int opt_isset(const struct settings *s, enum opt_id id)
{
    return (s->set & (1ULL << id)) != 0;
}

char **opt_str(struct settings *s, enum opt_id id)
{
    return (char **)((char *)s + opt_table[id].off);
}

int *opt_flag(struct settings *s, enum opt_id id)
{
    return (int *)((char *)s + opt_table[id].off);
}

/* ---------------------------------------------------------------- */
/* getopt_long                                                       */

/* getopt_long values: an option is LONG_VAL + id, its --no- form
 * NO_VAL + id, whether it has a short name or not. */
#define LONG_VAL 256
#define NO_VAL 512

/* "no-" + the longest name + NUL */
#define NO_NAME_MAX 24

struct getopt_tables {
    struct option lo[2 * O_COUNT + 1];
    char no_names[O_COUNT][NO_NAME_MAX];
    char so[3 * O_COUNT + 2];
};

static void build_tables(struct getopt_tables *t)
{
    size_t nl = 0, ns = 0;
    memset(t, 0, sizeof *t);
    t->so[ns++] = ':'; /* report a missing argument as ':' */
    for (int i = 0; i < O_COUNT; i++) {
        const struct opt *o = &opt_table[i];
        int arg = o->kind == OPT_LIST     ? required_argument
                  : o->kind != OPT_STRING ? no_argument
                  : o->optional           ? optional_argument
                                          : required_argument;
        t->lo[nl++] = (struct option){o->name, arg, NULL, LONG_VAL + i};
        if (o->negatable) {
            snprintf(t->no_names[i], NO_NAME_MAX, "no-%s", o->name);
            t->lo[nl++] =
                (struct option){t->no_names[i], no_argument, NULL, NO_VAL + i};
        }
        if (o->short_name != 0) {
            t->so[ns++] = o->short_name;
            if (arg == required_argument)
                t->so[ns++] = ':';
        }
    }
}

static int by_short(int c)
{
    for (int i = 0; i < O_COUNT; i++)
        if (c != 0 && opt_table[i].short_name == c)
            return i;
    return -1;
}

/* The name of the option getopt_long returned 'v' for, as typed. */
static void opt_label(int v, char *out, size_t n)
{
    int neg = v >= NO_VAL;
    int id = neg ? v - NO_VAL : v - LONG_VAL;
    if (v < LONG_VAL || id >= O_COUNT)
        snprintf(out, n, "-%c", v);
    else
        snprintf(out, n, "--%s%s", neg ? "no-" : "", opt_table[id].name);
}

/* Why the long option 'arg' ("--name[=value]") was not recognised:
 * unknown, or a prefix of several options. */
static enum xs_err long_option_error(char *arg, struct xs_error *err)
{
    const char *name = arg + 2;
    size_t n = strcspn(name, "=");
    /* Only the name: after "=" may stand a mistyped --password's value,
     * which must appear neither in the message nor in ps(1). */
    char *shown = text_printable(arg, 2 + n, 100);
    if (name[n] == '=')
        xs_wipe(arg + 2 + n + 1, strlen(arg + 2 + n + 1));
    struct buf matches = {0};
    int count = 0;
    for (int i = 0; i < O_COUNT; i++) {
        char no[NO_NAME_MAX];
        const char *cand[2] = {opt_table[i].name, NULL};
        if (opt_table[i].negatable) {
            snprintf(no, sizeof no, "no-%s", opt_table[i].name);
            cand[1] = no;
        }
        for (int k = 0; k < 2; k++) {
            if (cand[k] == NULL || n == 0 || strncmp(cand[k], name, n) != 0)
                continue;
            buf_printf(&matches, "%s--%s", count ? ", " : "", cand[k]);
            count++;
        }
    }
    enum xs_err e;
    if (count > 1)
        e = xs_seterr(err, XS_EUSAGE, "ambiguous option '%s': could be %s",
                      shown, matches.data);
    else
        e = xs_seterr(err, XS_EUSAGE, "unknown option '%s'", shown);
    buf_free(&matches);
    free(shown);
    return e;
}

enum xs_err opts_parse(int argc,
                       char **argv,
                       struct settings *cl,
                       enum opt_id *action,
                       int *first,
                       struct xs_error *err)
{
    struct getopt_tables t;
    char label[NO_NAME_MAX + 4];
    enum xs_err e = XS_OK;
    int c;
    build_tables(&t);
    *action = O_COUNT;
    opterr = 0;
    while (e == XS_OK &&
           (c = getopt_long(argc, argv, t.so, t.lo, NULL)) != -1) {
        int id = c >= NO_VAL     ? c - NO_VAL
                 : c >= LONG_VAL ? c - LONG_VAL
                                 : by_short(c);
        if (c == ':') {
            opt_label(optopt, label, sizeof label);
            e = xs_seterr(err, XS_EUSAGE, "option '%s' needs a value", label);
            break;
        }
        if (c == '?') {
            /* optopt: 0 for an unknown or ambiguous long option, the
             * option's value for a long flag given "=value", else the
             * unknown short option. */
            if (optopt >= LONG_VAL) {
                int oid =
                    optopt >= NO_VAL ? optopt - NO_VAL : optopt - LONG_VAL;
                opt_label(optopt, label, sizeof label);
                if (opt_table[oid].negatable)
                    e = xs_seterr(err, XS_EUSAGE,
                                  "option '%s' takes no value: use --%s or "
                                  "--no-%s",
                                  label, opt_table[oid].name,
                                  opt_table[oid].name);
                else
                    e = xs_seterr(err, XS_EUSAGE, "option '%s' takes no value",
                                  label);
            } else if (optopt == 0) {
                char *a = argv[optind - 1];
                char unknown[] = "--?";
                e = long_option_error(
                    a != NULL && strncmp(a, "--", 2) == 0 ? a : unknown, err);
            } else if (optopt > 0x20 && optopt < 0x7f) {
                e = xs_seterr(err, XS_EUSAGE, "unknown option '-%c'", optopt);
            } else {
                e = xs_seterr(err, XS_EUSAGE,
                              "unknown option (byte 0x%02x after '-')",
                              (unsigned)optopt & 0xff);
            }
            break;
        }
        if (id < 0) {
            e = xs_seterr(err, XS_ESOFTWARE, "option table error");
            break;
        }
        const struct opt *o = &opt_table[id];
        cl->set |= 1ULL << id;
        cl->line[id] = OPT_FROM_CLI;
        switch (o->kind) {
        case OPT_ACTION:
            *action = (enum opt_id)id;
            *first = optind;
            return XS_OK;
        case OPT_FLAG:
            *opt_flag(cl, (enum opt_id)id) = c < NO_VAL;
            break;
        case OPT_STRING: {
            /* an optional value left out: "" */
            const char *val = optarg != NULL ? optarg : "";
            /* -c may be given again: its values are kept, one a line. */
            if (id == O_CHATROOM && strchr(val, '\n') != NULL) {
                opt_label(c, label, sizeof label);
                e = xs_seterr(err, XS_EUSAGE,
                              "option '%s' takes one value (a newline)", label);
                break;
            }
            if (id == O_CHATROOM && *opt_str(cl, (enum opt_id)id) != NULL) {
                char **v = opt_str(cl, (enum opt_id)id);
                char *both = xasprintf("%s\n%s", *v, val);
                xs_free_secret(*v);
                *v = both;
                break;
            }
            settings_set(opt_str(cl, (enum opt_id)id), val);
            if (o->repeat) {
                cl->uploads = xrealloc(cl->uploads, (cl->nuploads + 1) *
                                                        sizeof *cl->uploads);
                cl->uploads[cl->nuploads++] = xstrdup(val);
            }
            if (o->secret && optarg != NULL)
                xs_wipe(optarg, strlen(optarg));
            break;
        }
        case OPT_LIST:
            cl->seq = xrealloc(cl->seq, (cl->nseq + 1) * sizeof *cl->seq);
            cl->seq[cl->nseq].id = (enum opt_id)id;
            cl->seq[cl->nseq++].val = xstrdup(optarg);
            break;
        }
    }
    *first = optind;
    return e;
}

/* ---------------------------------------------------------------- */
/* --help                                                            */

void opts_help(FILE *f)
{
    char left[64];
    for (int i = 0; i < O_COUNT; i++) {
        const struct opt *o = &opt_table[i];
        if (o->short_name != 0)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
                     o->arg ? " " : "", o->arg ? o->arg : "");
        else if (o->optional)
            snprintf(left, sizeof left, "    --%s[=%s]", o->name, o->arg);
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name,
                     o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-26s %s\n", left, o->help);
    }
    const char *sep = "  ";
    for (int i = 0; i < O_COUNT; i++) {
        if (opt_table[i].negatable) {
            fprintf(f, "%s--no-%s", sep, opt_table[i].name);
            sep = ", ";
        }
    }
    fputs("\n                            turn off what the config file turned "
          "on\n\nConfig file keys:",
          f);
    size_t col = 17;
    for (int i = 0; i < O_COUNT; i++) {
        if (!opt_table[i].config)
            continue;
        size_t n = strlen(opt_table[i].name) + 1;
        if (col + n > 72) {
            fputs("\n ", f);
            col = 1;
        }
        fprintf(f, " %s", opt_table[i].name);
        col += n;
    }
    fputs(".\n", f);
}

/* ---------------------------------------------------------------- */
/* Value checks over a whole struct settings                         */

enum xs_err opts_check(const struct settings *s, struct xs_error *err)
{
    for (int i = 0; i < O_COUNT; i++) {
        const struct opt *o = &opt_table[i];
        if (o->kind != OPT_STRING || o->check == NULL)
            continue;
        const char *v = *(char *const *)((const char *)s + o->off);
        if (v == NULL)
            continue;
        const char *why = o->check(v);
        if (why == NULL)
            continue;
        char *pv = text_printable(v, strlen(v), 200);
        /* " 'value'", never a secret's */
        char *shown = o->secret ? xstrdup("") : xasprintf(" '%s'", pv);
        enum xs_err e;
        if (s->line[i] > 0)
            e = xs_seterr(err, XS_ECONFIG, "%s:%d: invalid %s%s: %s",
                          s->from[i] ? s->from[i]
                          : s->file  ? s->file
                                     : "config",
                          s->line[i], o->name, shown, why);
        else if (s->line[i] == OPT_FROM_ENV && i == O_JID)
            e = xs_seterr(err, o->bad, "invalid XMPPSEND_JID%s: %s", shown,
                          why);
        else
            e = xs_seterr(err, o->bad, "invalid --%s%s: %s", o->name, shown,
                          why);
        xs_free_secret(pv);
        free(shown);
        return e;
    }
    /* Repeated options (command line only), in their order. */
    for (size_t k = 0; k < s->nseq; k++) {
        const struct opt *o = &opt_table[s->seq[k].id];
        const char *why = o->check ? o->check(s->seq[k].val) : NULL;
        if (why == NULL)
            continue;
        char *pv = text_printable(s->seq[k].val, strlen(s->seq[k].val), 200);
        xs_seterr(err, o->bad, "invalid --%s '%s': %s", o->name, pv, why);
        free(pv);
        return o->bad;
    }
    return XS_OK;
}

/* ---------------------------------------------------------------- */
/* --server                                                          */

enum xs_err
opts_parse_server(const char *s, char **host, int *port, struct xs_error *err)
{
    const char *colon = NULL;
    *port = 0;
    *host = NULL;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close == s + 1 ||
            (close[1] != '\0' && close[1] != ':'))
            return xs_seterr(err, XS_EUSAGE,
                             "want [ADDRESS] or [ADDRESS]:PORT");
        *host = xstrndup(s + 1, (size_t)(close - s - 1));
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strchr(s, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            return xs_seterr(err, XS_EUSAGE,
                             "an IPv6 address needs brackets, as in "
                             "[::1] or [::1]:5222");
        *host = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
    }
    if (colon != NULL) {
        char *end;
        errno = 0;
        long p = strtol(colon + 1, &end, 10);
        if (errno != 0 || *end != '\0' || end == colon + 1 || p < 1 ||
            p > 65535) {
            free(*host);
            *host = NULL;
            return xs_seterr(err, XS_EUSAGE, "port must be 1 to 65535");
        }
        *port = (int)p;
    }
    if (**host == '\0') {
        free(*host);
        *host = NULL;
        return xs_seterr(err, XS_EUSAGE, "no host");
    }
    return XS_OK;
}
