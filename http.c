/* SPDX-License-Identifier: MIT */
/*
 * http.c - libcurl behind http.h.  HTTP upload (XEP-0363) will live here;
 * today it only reports the library version for --version.
 *
 * libcurl is loaded with dlopen() when an HTTP feature is used, not linked:
 * linking it maps ~18 more shared libraries (Kerberos, LDAP, SSH, RTMP,
 * HTTP/2, ...) into every run, which measured 2.2 ms of 4.8 ms and 3.2 MB
 * of 10 MB for `xmppsend --help`, a quarter of the CPU of a whole send,
 * for a feature most runs never use.  The headers still come from
 * libcurl's -dev package, so the types and constants are libcurl's own.
 */
#include <dlfcn.h>
#include <stddef.h>

#include <curl/curl.h>

#include "http.h"

#ifndef HTTP_CURL_SONAME
#define HTTP_CURL_SONAME "libcurl-gnutls.so.4"
#endif

static void *curl_lib;
static curl_version_info_data *(*p_curl_version_info)(CURLversion);

/* Load libcurl once; 0 on success. */
static int http_load(void)
{
    static const char *const names[] = {HTTP_CURL_SONAME, "libcurl.so.4"};
    for (size_t i = 0; curl_lib == NULL && i < sizeof names / sizeof *names;
         i++)
        curl_lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (curl_lib == NULL)
        return -1;
    /* POSIX's way to turn dlsym's object pointer into a function one. */
    *(void **)&p_curl_version_info = dlsym(curl_lib, "curl_version_info");
    return p_curl_version_info != NULL ? 0 : -1;
}

const char *http_library_version(void)
{
    if (http_load() != 0)
        return "not available";
    const curl_version_info_data *v = p_curl_version_info(CURLVERSION_NOW);
    return v != NULL && v->version != NULL ? v->version : "unknown";
}

void http_cleanup(void)
{
    if (curl_lib != NULL)
        dlclose(curl_lib);
    curl_lib = NULL;
    p_curl_version_info = NULL;
}
