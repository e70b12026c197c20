/* SPDX-License-Identifier: MIT */
/*
 * compat.h - run as a drop-in for Perl sendxmpp 1.24 or go-sendxmpp
 * 0.5.6: their command line and their account file are translated into
 * xmppsend's own argv, which then goes through the normal parser, so
 * that every check of ours still applies.
 */
#ifndef XMPPSEND_COMPAT_H
#define XMPPSEND_COMPAT_H

#include "util.h"

/*
 * When argv[0]'s basename is "sendxmpp" or "go-sendxmpp", or argv[1] is
 * "--compat NAME" / "--compat=NAME", replace *argc and *argv with the
 * translation (allocated here; wiped and freed at exit).  Otherwise
 * leave them alone.  Password values are wiped from the original argv.
 * Used error codes: XS_EUSAGE (an option that has no meaning in
 * xmppsend or is unknown to the peer), XS_ENOINPUT (a named account
 * file is missing), XS_ECONFIG (the account file: syntax, permissions).
 */
enum xs_err compat_argv(int *argc, char ***argv, struct xs_error *err);

#endif
