/* SPDX-License-Identifier: MIT */
/*
 * http.h - HTTP client side (libcurl lives only in http.c, loaded on
 * first use).  For now only the library version; XEP-0363 upload will
 * sit here.
 */
#ifndef XMPPSEND_HTTP_H
#define XMPPSEND_HTTP_H

/* libcurl runtime version, e.g. "7.88.1" ("not available" when the
 * library cannot be loaded). */
const char *http_library_version(void);

/* Unload libcurl if it was loaded (at exit, for leak checkers). */
void http_cleanup(void);

#endif
