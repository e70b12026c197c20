/* SPDX-License-Identifier: MIT */
/*
 * password.h - where the password comes from: a command, a file, the
 * terminal.  Every returned password is an allocated NUL-terminated
 * string to be freed with xs_free_secret(); every buffer that held a
 * copy is wiped before it is freed.  No stdio: secrets never sit in a
 * FILE buffer.
 */
#ifndef XMPPSEND_PASSWORD_H
#define XMPPSEND_PASSWORD_H

#include <stddef.h>

#include "util.h"

/* Longest password accepted from any source (bytes, first line). */
#define PW_MAX 4096
/* Most bytes read from a password file. */
#define PW_FILE_MAX 65536

/*
 * Run CMD with /bin/sh -c in its own process group, stdin /dev/null,
 * XMPPSEND_PASSWORD removed from its environment, SIGPIPE default,
 * signals unblocked; the first line of its output is the password (the
 * rest is read and discarded).  Bounded by deadline_ms (xs_now_ms()
 * clock): at the deadline the group is killed (TERM, short grace, KILL)
 * and reaped, XS_ETEMP.  SIGINT, SIGTERM or SIGHUP while waiting: the
 * group is killed, then the signal is re-raised.  What the command
 * leaves running in its group when it exits is killed too.  When we hold
 * the terminal's foreground, the command's group gets it while it runs
 * (it may ask on the terminal; Ctrl-C or Ctrl-\ that kill it are then
 * re-raised on us, Ctrl-Z stops us with it) and the terminal settings
 * are restored after.
 * Used error codes: XS_ECONFIG (non-zero exit, killed, no or empty first
 * line, first line too long), XS_ETEMP (deadline, interrupted), XS_EOS.
 */
enum xs_err pw_from_command(const char *cmd,
                            long long deadline_ms,
                            char **out,
                            struct xs_error *err);

/*
 * First line of PATH (CR/LF stripped).  pw_check_secure first
 * (holds_secret=1); read(2) into wiped memory.
 * Used error codes: XS_ENOINPUT (cannot open), XS_ECONFIG (insecure),
 * XS_EDATA (empty first line, too large), XS_EIO.
 */
enum xs_err pw_from_file(const char *path, char **out, struct xs_error *err);

/*
 * Prompt "Password for JID: " on /dev/tty with echo off.  SIGINT,
 * SIGQUIT, SIGTERM, SIGHUP and SIGTSTP (also SIGTTIN, SIGTTOU) restore
 * the terminal and are then re-raised, as readpassphrase(3) does; after
 * a stop the prompt starts again.  From the background it stops
 * (SIGTTOU) before touching the terminal and asks once continued.  EOF (Ctrl-D)
 * or an empty line: XS_EUSAGE "no password entered"; no terminal: XS_EUSAGE "no
 * password given (use ...)"; longer than PW_MAX: XS_EDATA.
 */
enum xs_err pw_prompt(const char *jid, char **out, struct xs_error *err);

/*
 * msmtp's check_secure on the open 'fd' of PATH (fstat): a regular file,
 * owned by getuid(), not writable by group or others; if 'holds_secret'
 * also not accessible by group or others.  XS_ECONFIG with one message
 * naming the file and the fix (chmod 600 / chown); XS_EOS if fstat
 * fails.
 */
enum xs_err pw_check_secure(const char *path,
                            int fd,
                            int holds_secret,
                            struct xs_error *err);

/*
 * Read 'fd' to EOF with read(2) into memory that is wiped on every
 * realloc; at most 'max' bytes (more: XS_EDATA).  *out is NUL-terminated
 * and allocated (free with xs_free_secret(), or xs_wipe(*out, *len) +
 * free() when it may hold NULs), *len its length.  XS_EIO on a read
 * error.
 */
enum xs_err
pw_read_fd(int fd, size_t max, char **out, size_t *len, struct xs_error *err);

/*
 * The first line read from descriptor 'fd' (--password-fd), byte by
 * byte so that nothing after the newline is consumed; CR/LF stripped;
 * the descriptor is left open.  Waits until deadline_ms (xs_now_ms()
 * clock).  Used error codes: XS_ENOINPUT (not open), XS_EDATA (empty,
 * longer than PW_MAX, NUL byte), XS_ETEMP (deadline), XS_EIO.
 */
enum xs_err
pw_from_fd(int fd, long long deadline_ms, char **out, struct xs_error *err);

/*
 * Take XMPPSEND_PASSWORD out of the environment: its value is wiped in
 * place (so /proc/PID/environ no longer shows it) and the variable is
 * unset.  Returns an allocated copy of the value, or NULL when it was not
 * set.  Call it early, whichever password source is chosen.
 */
char *pw_take_env(void);

#endif
