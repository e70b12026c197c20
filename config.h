/* SPDX-License-Identifier: MIT */
/*
 * config.h - the config files (msmtp's format: "key value" lines,
 * defaults, accounts with inheritance) and the merge of the command line
 * over them.  The keys and the settings come from the option table
 * (opts.h).
 */
#ifndef XMPPSEND_CONFIG_H
#define XMPPSEND_CONFIG_H

#include <stddef.h>

#include "opts.h"
#include "util.h"

/* Largest config file read (bytes); a larger one is refused. */
#define CONFIG_MAX (1024 * 1024)
/* Most accounts over all files, and the deepest inheritance. */
#define CONFIG_MAX_ACCOUNTS 1000
#define CONFIG_MAX_DEPTH 32

/* One "account NAME [: PARENT[,PARENT...]]" section. */
struct config_account {
    char *name;
    const char *file; /* where it is defined (not owned) */
    int line;
    char *parents;            /* "P1,P2" or NULL */
    struct settings defaults; /* the defaults in force at its line */
    struct settings own;      /* its own keys */
    int visiting;             /* inheritance loop check */
};

/* Every file read so far: the defaults and the accounts. */
struct config {
    struct settings defaults; /* keys outside accounts, cumulative */
    struct config_account *acc;
    size_t nacc, cap;
    /* the last config_read: first key holding a secret (password,
     * password-command, password-file, room-password), 0 if none */
    int secret_line;
    const char *secret_key;
};

/* Replace *dst by a copy of 'v' (the old value is wiped). */
void settings_set(char **dst, const char *v);

/*
 * Parse one file's text ('len' bytes, need not be NUL-terminated) into
 * 'c', after the files read before it: their defaults go on (the system
 * file's apply to the user's accounts), an account of the same name
 * replaces theirs; within one file an account may be defined once.
 * Lines are "key value" (later ones override earlier ones), "defaults",
 * "account NAME", "account NAME : PARENT[,PARENT...]"; '#' starts a
 * comment line, or a comment after a quoted value; values may be
 * "double-quoted" with \" and \\; "~/" in a file-valued key is $HOME.
 * Keys before any section are defaults.  'file' names it in messages and
 * must outlive 'c' and what is selected from it.  Used error codes:
 * XS_ECONFIG "FILE:LINE: ..." (unknown key, missing value, bad boolean,
 * NUL byte, unterminated quote, bad account line, account twice, too
 * many accounts).
 */
enum xs_err config_read(struct config *c,
                        const char *text,
                        size_t len,
                        const char *file,
                        struct xs_error *err);

/* Whether 'c' defines the account 'name'. */
int config_has(const struct config *c, const char *name);

/*
 * The settings of account 'name' into 'out' (empty before): the defaults
 * in force where it was defined, then its parents' settings in their
 * order (each resolved the same way), then its own keys.  With 'name'
 * NULL: the account "default" when there is one, else the defaults.
 * Each key keeps its file and line (out->from[], out->line[]).  Used
 * error codes: XS_ECONFIG (no such account, unknown parent, inheritance
 * loop or too deep).
 */
enum xs_err config_select(struct config *c,
                          const char *name,
                          struct settings *out,
                          struct xs_error *err);

/* Free everything in 'c'; it can be reused. */
void config_free(struct config *c);

/*
 * config_read then config_select(NULL) of one file into 'cf', as the
 * fuzzer drives it ('file' must outlive 'cf').
 */
enum xs_err config_parse(const char *text,
                         size_t len,
                         const char *file,
                         struct settings *cf,
                         struct xs_error *err);

/*
 * Fill what the command line 'cl' did not set from the file 'cf',
 * option by option (a flag turned off on the command line stays off);
 * what is moved over is cleared in 'cf'.  The secrets (password,
 * password-command, password-file) stay in 'cf': their order is the
 * caller's.  The trust settings cafile, pin and insecure go together:
 * when the command line gives --cafile, --pin or --insecure, the file's
 * three are dropped.
 */
void settings_merge(struct settings *cl, struct settings *cf);

/* Wipe and free every field; the struct can be reused. */
void settings_free(struct settings *s);

#endif
