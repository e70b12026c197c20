/* SPDX-License-Identifier: MIT */
/*
 * config.h - settings shared by the command line and the config file,
 * and the config file parser.
 */
#ifndef XMPPSEND_CONFIG_H
#define XMPPSEND_CONFIG_H

#include <stddef.h>

#include "util.h"

/* Everything the command line and the config file can set. */
struct settings {
    char *jid, *cafile, *pin, *resource, *server, *thread, *timeout, *type,
        *subject, *message;
    char *password, *password_command, *password_file; /* secrets */
    int debug, quiet, json, insecure, roster;
};

/* Replace *dst by a copy of 'v' (the old value is wiped). */
void settings_set(char **dst, const char *v);

/*
 * Parse config text ('len' bytes, need not be NUL-terminated) into 'cf';
 * 'file' names it in messages.  Later lines override earlier ones.
 * Used error codes: XS_ECONFIG (unknown key, missing value, bad boolean,
 * NUL byte).
 */
enum xs_err config_parse(const char *text,
                         size_t len,
                         const char *file,
                         struct settings *cf,
                         struct xs_error *err);

/* Fill the unset fields of 'cl' (command line) from 'cf' (config file);
 * what is moved over is cleared in 'cf'. */
void settings_merge(struct settings *cl, struct settings *cf);

/* Wipe and free every field; the struct can be reused. */
void settings_free(struct settings *s);

#endif
