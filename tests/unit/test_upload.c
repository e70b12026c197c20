/* SPDX-License-Identifier: MIT */
/*
 * test_upload.c - the XEP-0363 parsers of upload.c on canned server
 * bytes: the slot (URLs, the header whitelist, CR/LF removal, the
 * libxml2 '&' quirk), the disco#info form with max-file-size, and the
 * content types.  Every document is fed to the stream parser cut at
 * every byte, as the session would get it from the network.
 */
#include <string.h>

#include "test.h"
#include "upload.h"
#include "xml.h"

#define S0                                                                     \
    "<stream:stream xmlns='jabber:client' "                                    \
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"

/* The first element of 'doc' (after S0), fed in two reads cut at 'cut'. */
static struct xnode *element_at(const char *doc, size_t cut)
{
    struct buf b = {0};
    buf_addstr(&b, S0);
    buf_addstr(&b, doc);
    struct xml_parser *p = xml_parser_new();
    struct xs_error err = {0};
    if (cut > b.len)
        cut = b.len;
    CHECK_EQ_INT(xml_feed(p, b.data, cut, &err), XS_OK);
    CHECK_EQ_INT(xml_feed(p, b.data + cut, b.len - cut, &err), XS_OK);
    struct xnode *n = xml_next(p);
    CHECK(n != NULL);
    xml_parser_free(p);
    buf_free(&b);
    return n;
}

/* Run 'check' on the element of 'doc' at every cut. */
static void every_cut(const char *doc, void (*check)(const struct xnode *))
{
    size_t len = strlen(S0) + strlen(doc);
    for (size_t cut = 0; cut <= len; cut++) {
        struct xnode *n = element_at(doc, cut);
        check(n);
        xnode_free(n);
    }
}

#define IQ "<iq type='result' id='u1' from='upload.example'>"
#define SLOT "<slot xmlns='urn:xmpp:http:upload:0'>"

static const char good[] = IQ SLOT
    "<put url='https://up.example/p/f.png?a=1&amp;b=2'>"
    "<header name='Authorization'>Bearer t&#13;&#10;X-Injected: 1</header>"
    "<header name='cookie'>c=1\n</header>"
    "<header name='X-Evil'>yes</header>"
    "<header name='Host'>evil.example</header>"
    "<header name='Expires'>Tue, 01 Dec 2026 00:00:00 GMT</header>"
    "<other name='Cookie'>not a header element</other>"
    "</put><get url='HTTPS://dl.example/g/f.png?x=1&amp;y=2'/></slot></iq>";

static void check_good(const struct xnode *n)
{
    struct upload_slot s;
    struct xs_error err = {0};
    CHECK_EQ_INT(upload_parse_slot(n, &s, &err), XS_OK);
    CHECK_EQ_STR(s.put_url, "https://up.example/p/f.png?a=1&b=2");
    CHECK_EQ_STR(s.get_url, "HTTPS://dl.example/g/f.png?x=1&y=2");
    CHECK_EQ_INT(s.nheaders, 3);
    CHECK_EQ_STR(s.headers[0], "Authorization: Bearer tX-Injected: 1");
    CHECK_EQ_STR(s.headers[1], "Cookie: c=1");
    CHECK_EQ_STR(s.headers[2], "Expires: Tue, 01 Dec 2026 00:00:00 GMT");
    upload_slot_free(&s);
}

/* A slot that must be refused as hostile (XS_EPROTO). */
static void refused(const char *doc)
{
    struct xnode *n = element_at(doc, 0);
    struct upload_slot s;
    struct xs_error err = {0};
    CHECK_EQ_INT(upload_parse_slot(n, &s, &err), XS_EPROTO);
    CHECK(err.msg[0] != '\0');
    CHECK(s.put_url == NULL && s.get_url == NULL && s.nheaders == 0);
    xnode_free(n);
}

static void test_slot(void)
{
    every_cut(good, check_good);
    /* not https, in either URL */
    refused(IQ SLOT "<put url='http://up.example/p'/>"
                    "<get url='https://dl.example/g'/></slot></iq>");
    refused(IQ SLOT "<put url='https://up.example/p'/>"
                    "<get url='http://dl.example/g'/></slot></iq>");
    refused(IQ SLOT "<put url='ftp://up.example/p'/>"
                    "<get url='https://dl.example/g'/></slot></iq>");
    /* an empty host part, white space, control characters */
    refused(IQ SLOT "<put url='https://'/>"
                    "<get url='https://dl.example/g'/></slot></iq>");
    refused(IQ SLOT "<put url='https://up.example/a b'/>"
                    "<get url='https://dl.example/g'/></slot></iq>");
    refused(IQ SLOT "<put url='https://up.example/a&#10;b'/>"
                    "<get url='https://dl.example/g'/></slot></iq>");
    refused(IQ SLOT "<put url='https://up.example/\xc3\xa9'/>"
                    "<get url='https://dl.example/g'/></slot></iq>");
    /* parts missing, wrong namespace */
    refused(IQ SLOT "<put url='https://up.example/p'/></slot></iq>");
    refused(IQ SLOT "<get url='https://dl.example/g'/></slot></iq>");
    refused(IQ SLOT "<put/><get url='https://dl.example/g'/></slot></iq>");
    refused(IQ "</iq>");
    refused(IQ "<slot xmlns='urn:xmpp:http:upload'>"
               "<put url='https://up.example/p'/>"
               "<get url='https://dl.example/g'/></slot></iq>");

    /* At most UPLOAD_MAX_HEADERS are kept. */
    struct buf b = {0};
    buf_addstr(&b, IQ SLOT "<put url='https://up.example/p'>");
    for (int i = 0; i < 3 * UPLOAD_MAX_HEADERS; i++)
        buf_printf(&b, "<header name='Cookie'>c=%d</header>", i);
    buf_addstr(&b, "</put><get url='https://dl.example/g'/></slot></iq>");
    struct xnode *n = element_at(b.data, 0);
    struct upload_slot s;
    struct xs_error err = {0};
    CHECK_EQ_INT(upload_parse_slot(n, &s, &err), XS_OK);
    CHECK_EQ_INT(s.nheaders, UPLOAD_MAX_HEADERS);
    CHECK_EQ_STR(s.headers[UPLOAD_MAX_HEADERS - 1], "Cookie: c=7");
    upload_slot_free(&s);
    xnode_free(n);
    buf_free(&b);
}

#define INFO                                                                   \
    "<iq type='result' id='i1' from='upload.example'>"                         \
    "<query xmlns='http://jabber.org/protocol/disco#info'>"                    \
    "<identity category='store' type='file'/>"
#define FORM(type, max)                                                        \
    "<x xmlns='jabber:x:data' type='result'>"                                  \
    "<field var='FORM_TYPE' type='hidden'><value>" type "</value></field>"     \
    "<field var='max-file-size'><value>" max "</value></field></x>"
#define FEATURE "<feature var='urn:xmpp:http:upload:0'/>"
#define END "</query></iq>"

static int info(const char *doc, long long *max)
{
    struct xnode *n = element_at(doc, 0);
    int r = upload_parse_info(
        xnode_child(n, "query", "http://jabber.org/protocol/disco#info"), max);
    xnode_free(n);
    return r;
}

static void check_info(const struct xnode *n)
{
    long long max = 0;
    CHECK_EQ_INT(upload_parse_info(xnode_child(n, "query",
                                               "http://jabber.org/protocol/"
                                               "disco#info"),
                                   &max),
                 1);
    CHECK(max == 5242880);
}

static void test_info(void)
{
    long long max = 0;
    every_cut(INFO FEATURE FORM(NS_UPLOAD, "5242880") END, check_info);
    CHECK_EQ_INT(info(INFO FEATURE END, &max), 1);
    CHECK(max == -1);
    CHECK_EQ_INT(info(INFO FORM(NS_UPLOAD, "100") END, &max), 0);
    CHECK(max == 100);
    /* another form's max-file-size does not count */
    CHECK_EQ_INT(info(INFO FEATURE FORM("urn:example", "100") END, &max), 1);
    CHECK(max == -1);
    /* not a size: no limit read (the service still refuses big slots) */
    CHECK_EQ_INT(info(INFO FEATURE FORM(NS_UPLOAD, "12x") END, &max), 1);
    CHECK(max == -1);
    CHECK_EQ_INT(info(INFO FEATURE FORM(NS_UPLOAD, "-5") END, &max), 1);
    CHECK(max == -1);
    CHECK_EQ_INT(
        info(INFO FEATURE FORM(NS_UPLOAD, "99999999999999999999") END, &max),
        1);
    CHECK(max == -1);
    CHECK_EQ_INT(upload_parse_info(NULL, &max), 0);
}

static void test_types(void)
{
    CHECK_EQ_STR(upload_content_type("a.png"), "image/png");
    CHECK_EQ_STR(upload_content_type("A.JPG"), "image/jpeg");
    CHECK_EQ_STR(upload_content_type("x.tar.gz"), "application/gzip");
    CHECK_EQ_STR(upload_content_type("noext"), "application/octet-stream");
    CHECK_EQ_STR(upload_content_type(".png"), "application/octet-stream");
    CHECK_EQ_STR(upload_content_type("a."), "application/octet-stream");
}

int main(void)
{
    test_slot();
    test_info();
    test_types();
    xml_cleanup();
    TEST_DONE("test_upload");
}
