/* SPDX-License-Identifier: MIT */
/*
 * config.h - the config file parser and the merge of the command line
 * over the file.  The keys and the settings come from the option table
 * (opts.h).
 */
#ifndef XMPPSEND_CONFIG_H
#define XMPPSEND_CONFIG_H

#include <stddef.h>

#include "opts.h"
#include "util.h"

/* Largest config file read (bytes); a larger one is refused. */
#define CONFIG_MAX (1024 * 1024)

/* Replace *dst by a copy of 'v' (the old value is wiped). */
void settings_set(char **dst, const char *v);

/*
 * Parse config text ('len' bytes, need not be NUL-terminated) into 'cf';
 * 'file' names it in messages and must outlive 'cf' (cf->file points to
 * it).  Later lines override earlier ones; each key's line is kept in
 * cf->line[] for messages about its value.  Used error codes: XS_ECONFIG
 * (unknown key, missing value, bad boolean, NUL byte).
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
