/* SPDX-License-Identifier: MIT */
/*
 * fuzz_upload.c - libFuzzer target for the XEP-0363 parsers (upload.c).
 *
 * Input: the bytes a server sends after a stream header, cut in two reads
 * at the position given by the first byte.  Every complete element goes
 * through upload_parse_slot and upload_parse_info.  Checks what http.c
 * relies on: an accepted slot has two https:// URLs of printable ASCII
 * within UPLOAD_MAX_URL, and only Authorization, Cookie and Expires
 * header lines, none with CR or LF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "upload.h"
#include "xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char header[] =
    "<stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

static void check_url(const char *u)
{
    size_t n = strlen(u);
    if (n < 9 || n > UPLOAD_MAX_URL || strncasecmp(u, "https://", 8) != 0)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
            abort();
}

static void check(const struct xnode *n)
{
    struct upload_slot s;
    struct xs_error err = {0};
    if (upload_parse_slot(n, &s, &err) == XS_OK) {
        check_url(s.put_url);
        check_url(s.get_url);
        if (s.nheaders > UPLOAD_MAX_HEADERS)
            abort();
        for (size_t i = 0; i < s.nheaders; i++) {
            const char *h = s.headers[i];
            if (strpbrk(h, "\r\n") != NULL ||
                (strncmp(h, "Authorization: ", 15) != 0 &&
                 strncmp(h, "Cookie: ", 8) != 0 &&
                 strncmp(h, "Expires: ", 9) != 0))
                abort();
        }
        upload_slot_free(&s);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    long long max = 0;
    (void)upload_parse_info(
        xnode_child(n, "query", "http://jabber.org/protocol/disco#info"), &max);
    if (max < -1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cut = data[0] < size ? data[0] : size - 1;
    data++;
    size--;
    struct xml_parser *p = xml_parser_new();
    struct xs_error err = {0};
    enum xs_err e = xml_feed(p, header, strlen(header), &err);
    if (e == XS_OK)
        e = xml_feed(p, (const char *)data, cut, &err);
    /* Elements queued before a parse error are still checked. */
    if (e == XS_OK)
        (void)xml_feed(p, (const char *)data + cut, size - cut, &err);
    struct xnode *n;
    while ((n = xml_next(p)) != NULL) {
        check(n);
        xnode_free(n);
    }
    xml_parser_free(p);
    return 0;
}
