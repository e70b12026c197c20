/* SPDX-License-Identifier: MIT */
/*
 * test_raw.c - unit tests for raw.c: what --raw accepts and refuses,
 * how it re-serialises a stanza, the one-line form of a reply and the
 * exit class of an IQ error.
 */
#include <stdlib.h>
#include <string.h>

#include "../../raw.h"
#include "../../xml.h"
#include "test.h"

/* Parse 's' expecting success; the batch. */
static struct raw_batch *parse_ok(const char *s)
{
    struct raw_batch *b = NULL;
    struct xs_error err = {0};
    enum xs_err e = raw_parse(s, strlen(s), &b, &err);
    if (e != XS_OK)
        (void)fprintf(stderr, "raw_parse: %s\n", err.msg);
    CHECK_EQ_INT(e, XS_OK);
    CHECK(b != NULL);
    return b;
}

/* Parse 's' expecting XS_EDATA with 'why' in the message. */
static void parse_bad(const char *s, const char *why)
{
    struct raw_batch *b = NULL;
    struct xs_error err = {0};
    CHECK_EQ_INT(raw_parse(s, strlen(s), &b, &err), XS_EDATA);
    CHECK(b == NULL);
    if (strstr(err.msg, why) == NULL)
        CHECK_EQ_STR(err.msg, why);
    CHECK(strncmp(err.msg, "--raw: ", 7) == 0);
}

static void test_reserialise(void)
{
    struct raw_batch *b =
        parse_ok("<message to='bob@example.org' type='chat'>\n"
                 "  <body>x &amp; &lt;y&gt;\nz \"q\"</body>\n"
                 "  <x:foo xmlns:x='urn:x' a='1&amp;2'><bar/></x:foo>\n"
                 "</message>\n"
                 "<presence/>"
                 "<iq type='get' id='q1' to='example.org'>"
                 "<query xmlns='jabber:iq:version'/></iq>");
    CHECK_EQ_INT(b->n, 3);
    CHECK_EQ_INT(b->st[0].kind, RAW_MESSAGE);
    CHECK_EQ_INT(b->st[1].kind, RAW_PRESENCE);
    CHECK_EQ_INT(b->st[2].kind, RAW_IQ);
    CHECK_EQ_INT(b->nr, 1);
    CHECK(b->st[0].id == NULL); /* given at run time */
    CHECK_EQ_STR(b->st[2].id, "q1");
    CHECK_EQ_STR(b->st[0].to, "bob@example.org");
    CHECK(b->st[1].to == NULL);
    /* White space between elements goes; prefixes become default
     * namespace declarations (<bar/> is in the default namespace, not
     * in x's); text is escaped again. */
    char *l = raw_line(b->st[0].node);
    CHECK_EQ_STR(l, "<message to='bob@example.org' type='chat'><body>x "
                    "&amp; &lt;y&gt;&#10;z &quot;q&quot;</body><foo "
                    "xmlns='urn:x' a='1&amp;2'><bar "
                    "xmlns='jabber:client'/></foo></message>");
    free(l);
    l = raw_line(b->st[2].node);
    CHECK_EQ_STR(l, "<iq type='get' id='q1' to='example.org'><query "
                    "xmlns='jabber:iq:version'/></iq>");
    free(l);
    raw_free(b);
}

static void test_refused(void)
{
    parse_bad("<message><body>x</message>", "invalid XML");
    parse_bad("<message><body>x</body>", "not finished");
    parse_bad("<message/></stream:stream>", "stream-level");
    parse_bad("</stream:stream><message/>", "stream-level");
    parse_bad("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
              "stream-level");
    parse_bad("<stream:features "
              "xmlns:stream='http://etherx.jabber.org/streams'/>",
              "not a stanza");
    parse_bad("<r xmlns='urn:xmpp:sm:3'/>", "not a stanza");
    parse_bad("<message xmlns='jabber:server'/>", "not a stanza");
    parse_bad("<foo/>", "not a stanza");
    parse_bad("text<message/>", "text outside");
    parse_bad("<iq type='result' id='a'><q xmlns='urn:q'/></iq>",
              "type get or set");
    parse_bad("<iq id='a'><q xmlns='urn:q'/></iq>", "type get or set");
    parse_bad("<iq type='get'/>", "exactly one element");
    parse_bad("<iq type='set'><a/><b/></iq>", "exactly one element");
    parse_bad("<iq type='get' id='a'><q/></iq><iq type='set' id='a'><q/></iq>",
              "id used twice");
    parse_bad("<message to='a@b@c'/>", "not a JID");
    parse_bad("<message id=''/>", "empty id");
    parse_bad("<message id='123456789012345678901234'/>", "longer than 23");
    parse_bad("<message><body>a<b/>c</body></message>", "mixes text");
    parse_bad("<message x:a='1' xmlns:x='urn:x'/>", "only the xml: prefix");
    parse_bad("<!DOCTYPE x><message/>", "invalid XML");
    parse_bad("<message><!-- c --></message>", "comment");
    parse_bad("<?pi?><message/>", "invalid XML");
    parse_bad("<message>&ent;</message>", "invalid XML");
    parse_bad("<message>\x01</message>", "invalid XML");
    parse_bad("", "no stanza");
    parse_bad("  \n", "no stanza");
    /* xml:lang is fine, and an iq's id may be long */
    struct raw_batch *b =
        parse_ok("<message xml:lang='en' id='12345678901234567890123'/>"
                 "<iq type='get' id='a-very-long-id-of-more-than-23-bytes'><q "
                 "xmlns='urn:q'/></iq>");
    raw_free(b);
}

/* A top-level element from server bytes. */
static struct xnode *server_element(const char *s)
{
    static const char head[] =
        "<stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams'>";
    struct xml_parser *p = xml_parser_new();
    struct xs_error err = {0};
    CHECK_EQ_INT(xml_feed(p, head, strlen(head), &err), XS_OK);
    CHECK_EQ_INT(xml_feed(p, s, strlen(s), &err), XS_OK);
    struct xnode *n = xml_next(p);
    CHECK(n != NULL);
    xml_parser_free(p);
    return n;
}

static void test_replies(void)
{
    const char *cond;
    struct xnode *n = server_element(
        "<iq type='error' id='a'><error type='wait'><resource-constraint "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>busy</text></error>"
        "</iq>");
    CHECK_EQ_INT(raw_iq_error(n, &cond), XS_ETEMP);
    CHECK_EQ_STR(cond, "resource-constraint");
    xnode_free(n);
    n = server_element("<iq type='error' id='a'><error type='cancel'><text "
                       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>x</text>"
                       "<service-unavailable "
                       "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                       "</error></iq>");
    CHECK_EQ_INT(raw_iq_error(n, &cond), XS_EREFUSED);
    CHECK_EQ_STR(cond, "service-unavailable");
    xnode_free(n);
    /* One line: tab, CR, LF, DEL and C1 (CSI) as references; no raw
     * control byte reaches the terminal. */
    n = server_element("<iq type='result' id='b' from='x'><q xmlns='urn:q' "
                       "v='a&#9;b'>1&#9;2&#13;3\n4\x7f"
                       "5\xc2\x9b"
                       "6</q></iq>");
    char *l = raw_line(n);
    CHECK_EQ_STR(l, "<iq type='result' id='b' from='x'><q xmlns='urn:q' "
                    "v='a&#9;b'>1&#9;2&#13;3&#10;4&#127;5&#155;6</q></iq>");
    free(l);
    xnode_free(n);
}

int main(void)
{
    test_reserialise();
    test_refused();
    test_replies();
    xml_cleanup();
    TEST_DONE("test_raw");
    return 0;
}
