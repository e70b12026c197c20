/* SPDX-License-Identifier: MIT */
/*
 * canned.h - server bytes shared by the session unit tests (test_xmpp,
 * test_roster, test_lines): the RFC 5802 SCRAM-SHA-1 example (client
 * nonce, server-first, server-final) and the stream pieces every login
 * script needs.  Each test adds its own features and stanzas.
 */
#ifndef XMPPSEND_CANNED_H
#define XMPPSEND_CANNED_H

#define CNONCE "fyko+d2lbbFgONRv9qkxdawL"
#define SFIRST                                                                 \
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
#define SFINAL_OK "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="
#define HDR                                                                    \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "               \
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0' "           \
    "from='example.com' id='s1'>"
#define F_TLS                                                                  \
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"      \
    "<required/></starttls></stream:features>"
#define PROCEED "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
#define BOUND                                                                  \
    "<iq type='result' id='xs-1'><bind "                                       \
    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@example.com/r1</jid>"  \
    "</bind></iq>"

#endif
