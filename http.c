/* SPDX-License-Identifier: MIT */
/*
 * http.c - libcurl behind http.h.  HTTP upload (XEP-0363) will live here;
 * today it only reports the library version for --version.
 */
#include <curl/curl.h>

#include "http.h"

const char *http_library_version(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v != NULL && v->version != NULL ? v->version : "unknown";
}
