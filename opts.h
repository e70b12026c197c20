/* SPDX-License-Identifier: MIT */
/*
 * opts.h - the one table of options.  Each row names an option (long and
 * short name), its argument, whether it is a config file key, whether
 * its value is a secret and how its value is checked.  getopt_long's
 * table, --help, the config file's keys, the merge of the command line
 * over the file and the value checks are all derived from it.
 */
#ifndef XMPPSEND_OPTS_H
#define XMPPSEND_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

/* One id per option, in --help order. */
enum opt_id {
    O_CHATROOM,
    O_DEBUG,
    O_CONFIG,
    O_HELP,
    O_EACH_LINE,
    O_JID,
    O_MESSAGE,
    O_PASSWORD,
    O_QUIET,
    O_SUBJECT,
    O_UPLOAD,
    O_VERSION,
    O_CAFILE,
    O_CERT,
    O_CREATE_ROOM,
    O_FAST,
    O_INSECURE,
    O_JSON,
    O_KEY,
    O_LOG,
    O_MECHANISM,
    O_MESSAGE_FILE,
    O_NICK,
    O_PASSWORD_COMMAND,
    O_PASSWORD_FILE,
    O_PIN,
    O_PIPELINING,
    O_RAW,
    O_RECEIPT,
    O_RESOURCE,
    O_RETRY,
    O_ROOM_PASSWORD,
    O_ROSTER,
    O_SASL2,
    O_SERVER,
    O_SKIP_EMPTY,
    O_SYSLOG,
    O_THREAD,
    O_TIMEOUT,
    O_TLS,
    O_TYPE,
    /* roster and subscription actions (roster.c) */
    O_ROSTER_ADD,
    O_ROSTER_REMOVE,
    O_SUBSCRIBE,
    O_APPROVE,
    O_UNSUBSCRIBE,
    O_DENY,
    O_NAME,
    O_GROUP,
    O_WAIT,
    /* accounts and dry runs (config.c, pretend in xmppsend.c) */
    O_ACCOUNT,
    O_PASSWORD_FD,
    O_PRETEND,
    /* server diagnosis (serverinfo.c) */
    O_SERVERINFO,
    O_LOGIN,
    O_COUNT
};

enum opt_kind {
    OPT_ACTION, /* --help, --version: print and exit */
    OPT_FLAG,   /* no argument; an int in struct settings */
    OPT_STRING, /* an argument; a char * in struct settings */
    OPT_LIST    /* repeatable, with an argument: each use is appended to
                   struct settings' seq, in command line order */
};

struct opt {
    const char *name; /* long name, also the config key */
    char short_name;  /* 0: none */
    enum opt_kind kind;
    const char *arg; /* argument name for --help, NULL without one */
    int config;      /* 1: a config file key */
    int secret;      /* 1: wiped from argv, never printed */
    int negatable;   /* 1: --no-NAME turns it off (config flags) */
    size_t off;      /* offsetof(struct settings, field) */
    enum xs_err bad; /* class of an invalid value (XS_EUSAGE, XS_EDATA) */
    /* NULL, or the check of a value: NULL when valid, else why not. */
    const char *(*check)(const char *v);
    const char *help; /* one line for --help */
    int repeat;       /* 1: may be given more than once; every value is
                         kept in settings' 'uploads' (O_UPLOAD only) */
    int optional;     /* OPT_STRING: the value may be left out
                         (--name or --name=VALUE); then it is "" */
};

extern const struct opt opt_table[O_COUNT];

/* Where a setting came from, in struct settings' line[]. */
#define OPT_FROM_CLI 0
#define OPT_FROM_ENV (-1)

/* One use of an OPT_LIST option, in command line order. */
struct opt_use {
    enum opt_id id;
    char *val; /* allocated */
};

/* Everything the command line and the config file can set. */
struct settings {
    char *jid, *cafile, *pin, *resource, *server, *thread, *timeout, *type,
        *subject, *message, *config;
    char *message_file, *receipt, *wait; /* receipts.c, raw.c jobs */
    char *password, *password_command, *password_file; /* secrets */
    int debug, quiet, json, insecure, roster;
    char *upload;   /* the last -u FILE; all of them: uploads */
    char **uploads; /* every -u FILE in order (allocated), nuploads */
    size_t nuploads;
    int raw, skip_empty;
    int pipelining;     /* on unless turned off (opt_isset) */
    int sasl2, fast;    /* likewise: SASL2 + Bind2, FAST tokens */
    char *log, *syslog; /* --log FILE, --syslog[=FACILITY] (runlog.c) */
    char *retry;        /* --retry N[,BACKOFF] */
    int each_line;      /* -i: line mode (lines.c) */
    char *chatroom, *nick, *room_password; /* group chat (muc.c) */
    int create_room;
    char *cert, *key, *mechanism; /* client certificate, SASL choice */
    char *tls; /* --tls: direct or starttls (net.h enum net_tls) */
    unsigned long long
        set;           /* bit (1ULL << id): given (on or off, or a value) */
    int line[O_COUNT]; /* config file line, OPT_FROM_CLI or OPT_FROM_ENV */
    const char *file;  /* the config file (not owned), for messages */
    /* OPT_LIST uses (command line only), in their order */
    struct opt_use *seq;
    size_t nseq;
    char *account;         /* -a: the config file account */
    char *password_fd;     /* --password-fd N */
    int pretend;           /* --pretend: print the settings, do not connect */
    int serverinfo, login; /* --serverinfo [--login] (serverinfo.c) */
    /* the config file each key came from (not owned); NULL: 'file' */
    const char *from[O_COUNT];
};

/* Whether option 'id' is set in 's'. */
int opt_isset(const struct settings *s, enum opt_id id);
/* The string field of option 'id' in 's'. */
char **opt_str(struct settings *s, enum opt_id id);
/* The flag field of option 'id' in 's'. */
int *opt_flag(struct settings *s, enum opt_id id);

/*
 * Parse the command line into 'cl' with getopt_long.  *action is set to
 * O_HELP or O_VERSION when one of those was given (parsing stops there),
 * else to O_COUNT; *first is the index of the first operand.  Secret
 * values are wiped from argv.  Used error codes: XS_EUSAGE (unknown,
 * ambiguous or misused option; the message names it and says why).
 */
enum xs_err opts_parse(int argc,
                       char **argv,
                       struct settings *cl,
                       enum opt_id *action,
                       int *first,
                       struct xs_error *err);

/* The option lines of --help, and the list of config keys. */
void opts_help(FILE *f);

/*
 * Check every set value of 's' with its row's check.  A bad value from
 * the config file is XS_ECONFIG "FILE:LINE: ..."; from the command line
 * or the environment it is the row's class (XS_EUSAGE or XS_EDATA),
 * naming the option.
 */
enum xs_err opts_check(const struct settings *s, struct xs_error *err);

/* "host", "host:port", "[v6]", "[v6]:port"; an IPv6 address without
 * brackets is refused with a hint.  *port is 0 when not given. */
enum xs_err
opts_parse_server(const char *s, char **host, int *port, struct xs_error *err);

/* --retry N[,BACKOFF]: 0 and *n, *backoff (seconds, default 2); -1
 * when invalid. */
int opts_parse_retry(const char *v, int *n, int *backoff);

#endif
