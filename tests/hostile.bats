#!/usr/bin/env bats
# shellcheck shell=bats
# hostile.bats - xmppsend against a scripted hostile server: one test per
# tests/fake/scenarios/*.scn (what each checks: tests/fake/run_scenario.bash,
# how a scenario is written: the top of tests/fake/fakeserver.py).

bats_require_minimum_version 1.5.0

load helper
load fake/run_scenario

setup_file() {
    hostile_setup "$BATS_FILE_TMPDIR"
}

@test "hostile: every scenario file has a test" {
    local missing
    # One grep, not one per scenario: bats traces every command of a loop.
    missing=$(cd "$FAKE_DIR/scenarios" && printf '%s\n' *.scn |
        sed 's/\.scn$//' |
        grep -vxF -f <(sed -n 's/^    run_scenario //p' "$BATS_TEST_FILENAME") |
        tr '\n' ' ') || true
    [ -z "$missing" ] || fail "no @test for: $missing"
}

@test "hostile: bind-error-cancel" {
    run_scenario bind-error-cancel
}

@test "hostile: bind-error-wait" {
    run_scenario bind-error-wait
}

@test "hostile: bind-foreign-jid" {
    run_scenario bind-foreign-jid
}

@test "hostile: bind-foreign-unicode-jid" {
    run_scenario bind-foreign-unicode-jid
}

@test "hostile: bind-no-reply" {
    run_scenario bind-no-reply
}

@test "hostile: bind-not-offered" {
    run_scenario bind-not-offered
}

@test "hostile: bind-result-without-jid" {
    run_scenario bind-result-without-jid
}

@test "hostile: bind-wrong-from" {
    run_scenario bind-wrong-from
}

@test "hostile: bind-wrong-id" {
    run_scenario bind-wrong-id
}

@test "hostile: bounce-forbidden" {
    run_scenario bounce-forbidden
}

@test "hostile: bounce-from-domain" {
    run_scenario bounce-from-domain
}

@test "hostile: bounce-from-full-jid" {
    run_scenario bounce-from-full-jid
}

@test "hostile: bounce-item-not-found" {
    run_scenario bounce-item-not-found
}

@test "hostile: bounce-one-of-two" {
    run_scenario bounce-one-of-two
}

@test "hostile: bounce-recipient-unavailable" {
    run_scenario bounce-recipient-unavailable
}

@test "hostile: bounce-wait" {
    run_scenario bounce-wait
}

@test "hostile: close-after-accept" {
    run_scenario close-after-accept
}

@test "hostile: close-after-bind-request" {
    run_scenario close-after-bind-request
}

@test "hostile: close-after-header" {
    run_scenario close-after-header
}

@test "hostile: close-after-message" {
    run_scenario close-after-message
}

@test "hostile: close-after-proceed" {
    run_scenario close-after-proceed
}

@test "hostile: close-after-starttls" {
    run_scenario close-after-starttls
}

@test "hostile: close-after-success" {
    run_scenario close-after-success
}

@test "hostile: close-after-tls" {
    run_scenario close-after-tls
}

@test "hostile: close-during-sasl" {
    run_scenario close-during-sasl
}

@test "hostile: close-stream-after-message" {
    run_scenario close-stream-after-message
}

@test "hostile: close-stream-during-sasl" {
    run_scenario close-stream-during-sasl
}

@test "hostile: digest-challenge-garbage" {
    run_scenario digest-challenge-garbage
}

@test "hostile: digest-no-qop-auth" {
    run_scenario digest-no-qop-auth
}

@test "hostile: digest-success-without-rspauth" {
    run_scenario digest-success-without-rspauth
}

@test "hostile: digest-unverified" {
    run_scenario digest-unverified
}

@test "hostile: digest-wrong-rspauth" {
    run_scenario digest-wrong-rspauth
}

@test "hostile: external-unverified" {
    run_scenario external-unverified
}

@test "hostile: limits-exceeded" {
    run_scenario limits-exceeded
}

@test "hostile: mechanism-not-offered" {
    run_scenario mechanism-not-offered
}

@test "hostile: muc-spoofed-self-presence" {
    run_scenario muc-spoofed-self-presence
}

@test "hostile: ok-muc-renamed-nick" {
    run_scenario ok-muc-renamed-nick
}

@test "hostile: ok-bind-case" {
    run_scenario ok-bind-case
}

@test "hostile: ok-bind-unicode-case" {
    run_scenario ok-bind-unicode-case
}

@test "hostile: ok-bounce-after-ping-reply" {
    run_scenario ok-bounce-after-ping-reply
}

@test "hostile: ok-bounce-from-other-recipient" {
    run_scenario ok-bounce-from-other-recipient
}

@test "hostile: ok-bounce-other-id" {
    run_scenario ok-bounce-other-id
}

@test "hostile: ok-bounce-other-user" {
    run_scenario ok-bounce-other-user
}

@test "hostile: ok-bounce-wrong-from" {
    run_scenario ok-bounce-wrong-from
}

@test "hostile: ok-digest-md5" {
    run_scenario ok-digest-md5
}

@test "hostile: ok-digest-md5-rspauth-in-success" {
    run_scenario ok-digest-md5-rspauth-in-success
}

@test "hostile: ok-external" {
    run_scenario ok-external
}

@test "hostile: ok-direct-tls" {
    run_scenario ok-direct-tls
}

@test "hostile: ok-incoming-iq" {
    run_scenario ok-incoming-iq
}

@test "hostile: ok-limits-not-exceeded" {
    run_scenario ok-limits-not-exceeded
}

@test "hostile: ok-mechanisms-before-tls" {
    run_scenario ok-mechanisms-before-tls
}

@test "hostile: ok-no-wait-for-server-close" {
    run_scenario ok-no-wait-for-server-close
}

@test "hostile: ok-ping-error-reply" {
    run_scenario ok-ping-error-reply
}

@test "hostile: ok-plain-only" {
    run_scenario ok-plain-only
}

@test "hostile: ok-reset-after-close" {
    run_scenario ok-reset-after-close
}

@test "hostile: ok-roster" {
    run_scenario ok-roster
}

@test "hostile: ok-scram-extension-attr" {
    run_scenario ok-scram-extension-attr
}

@test "hostile: ok-scram-final-in-challenge" {
    run_scenario ok-scram-final-in-challenge
}

@test "hostile: ok-scram-sha1" {
    run_scenario ok-scram-sha1
}

@test "hostile: ok-scram-sha256" {
    run_scenario ok-scram-sha256
}

@test "hostile: ok-scram-sha512" {
    run_scenario ok-scram-sha512
}

@test "hostile: ok-session-optional" {
    run_scenario ok-session-optional
}

@test "hostile: ok-pipelined-bind" {
    run_scenario ok-pipelined-bind
}

@test "hostile: ok-pipelined-session-required" {
    run_scenario ok-pipelined-session-required
}

@test "hostile: pipelined-bind-error" {
    run_scenario pipelined-bind-error
}

@test "hostile: ok-session-required" {
    run_scenario ok-session-required
}

@test "hostile: ok-silent-after-close" {
    run_scenario ok-silent-after-close
}

@test "hostile: ok-sm-enable-failed" {
    run_scenario ok-sm-enable-failed
}

@test "hostile: ok-sm" {
    run_scenario ok-sm
}

@test "hostile: ok-whitespace" {
    run_scenario ok-whitespace
}

@test "hostile: ping-no-reply" {
    run_scenario ping-no-reply
}

@test "hostile: ping-wrong-from" {
    run_scenario ping-wrong-from
}

@test "hostile: ping-wrong-id" {
    run_scenario ping-wrong-id
}

@test "hostile: reset-after-accept" {
    run_scenario reset-after-accept
}

@test "hostile: reset-after-bind-request" {
    run_scenario reset-after-bind-request
}

@test "hostile: reset-after-header" {
    run_scenario reset-after-header
}

@test "hostile: reset-after-message" {
    run_scenario reset-after-message
}

@test "hostile: reset-after-proceed" {
    run_scenario reset-after-proceed
}

@test "hostile: reset-after-proof" {
    run_scenario reset-after-proof
}

@test "hostile: reset-after-tls" {
    run_scenario reset-after-tls
}

@test "hostile: reset-during-sasl" {
    run_scenario reset-during-sasl
}

@test "hostile: roster-control-chars-json" {
    run_scenario roster-control-chars-json
}

@test "hostile: roster-control-chars" {
    run_scenario roster-control-chars
}

@test "hostile: sasl-empty-mechanisms" {
    run_scenario sasl-empty-mechanisms
}

@test "hostile: sasl-failure-aborted" {
    run_scenario sasl-failure-aborted
}

@test "hostile: sasl-failure-account-disabled" {
    run_scenario sasl-failure-account-disabled
}

@test "hostile: sasl-failure-credentials-expired" {
    run_scenario sasl-failure-credentials-expired
}

@test "hostile: sasl-failure-encryption-required" {
    run_scenario sasl-failure-encryption-required
}

@test "hostile: sasl-failure-incorrect-encoding" {
    run_scenario sasl-failure-incorrect-encoding
}

@test "hostile: sasl-failure-invalid-authzid" {
    run_scenario sasl-failure-invalid-authzid
}

@test "hostile: sasl-failure-invalid-mechanism" {
    run_scenario sasl-failure-invalid-mechanism
}

@test "hostile: sasl-failure-malformed-request" {
    run_scenario sasl-failure-malformed-request
}

@test "hostile: sasl-failure-mechanism-too-weak" {
    run_scenario sasl-failure-mechanism-too-weak
}

@test "hostile: sasl-failure-no-condition" {
    run_scenario sasl-failure-no-condition
}

@test "hostile: sasl-failure-not-authorized" {
    run_scenario sasl-failure-not-authorized
}

@test "hostile: sasl-failure-temporary-auth-failure" {
    run_scenario sasl-failure-temporary-auth-failure
}

@test "hostile: sasl-failure-text-control-chars" {
    run_scenario sasl-failure-text-control-chars
}

@test "hostile: sasl-no-acceptable-mechanism" {
    run_scenario sasl-no-acceptable-mechanism
}

@test "hostile: sasl-success-without-challenge" {
    run_scenario sasl-success-without-challenge
}

@test "hostile: scram-challenge-bad-base64" {
    run_scenario scram-challenge-bad-base64
}

@test "hostile: scram-challenge-empty" {
    run_scenario scram-challenge-empty
}

@test "hostile: scram-challenge-garbage" {
    run_scenario scram-challenge-garbage
}

@test "hostile: scram-iter-0" {
    run_scenario scram-iter-0
}

@test "hostile: scram-iter-1" {
    run_scenario scram-iter-1
}

@test "hostile: scram-iter-1e9" {
    run_scenario scram-iter-1e9
}

@test "hostile: scram-iter-4095" {
    run_scenario scram-iter-4095
}

@test "hostile: scram-iter-missing" {
    run_scenario scram-iter-missing
}

@test "hostile: scram-iter-negative" {
    run_scenario scram-iter-negative
}

@test "hostile: scram-iter-not-number" {
    run_scenario scram-iter-not-number
}

@test "hostile: scram-iter-overflow" {
    run_scenario scram-iter-overflow
}

@test "hostile: scram-mandatory-extension" {
    run_scenario scram-mandatory-extension
}

@test "hostile: scram-missing-signature" {
    run_scenario scram-missing-signature
}

@test "hostile: scram-nonce-control-chars" {
    run_scenario scram-nonce-control-chars
}

@test "hostile: scram-nonce-huge" {
    run_scenario scram-nonce-huge
}

@test "hostile: scram-nonce-not-extending" {
    run_scenario scram-nonce-not-extending
}

@test "hostile: scram-nonce-same" {
    run_scenario scram-nonce-same
}

@test "hostile: scram-nonce-truncated" {
    run_scenario scram-nonce-truncated
}

@test "hostile: scram-salt-bad-base64" {
    run_scenario scram-salt-bad-base64
}

@test "hostile: scram-salt-empty" {
    run_scenario scram-salt-empty
}

@test "hostile: scram-server-error-in-challenge" {
    run_scenario scram-server-error-in-challenge
}

@test "hostile: scram-server-error-in-success" {
    run_scenario scram-server-error-in-success
}

@test "hostile: scram-wrong-signature-in-challenge" {
    run_scenario scram-wrong-signature-in-challenge
}

@test "hostile: scram-wrong-signature" {
    run_scenario scram-wrong-signature
}

@test "hostile: se-bad-format-before-features" {
    run_scenario se-bad-format-before-features
}

@test "hostile: se-conflict-after-bind" {
    run_scenario se-conflict-after-bind
}

@test "hostile: se-connection-timeout-after-message" {
    run_scenario se-connection-timeout-after-message
}

@test "hostile: se-empty-error" {
    run_scenario se-empty-error
}

@test "hostile: se-host-gone-after-success" {
    run_scenario se-host-gone-after-success
}

@test "hostile: se-host-unknown-before-tls" {
    run_scenario se-host-unknown-before-tls
}

@test "hostile: se-not-authorized-during-sasl" {
    run_scenario se-not-authorized-during-sasl
}

@test "hostile: se-policy-violation-after-message" {
    run_scenario se-policy-violation-after-message
}

@test "hostile: se-policy-violation-after-tls" {
    run_scenario se-policy-violation-after-tls
}

@test "hostile: se-policy-violation-too-big-ejabberd" {
    run_scenario se-policy-violation-too-big-ejabberd
}

@test "hostile: se-policy-violation-too-big-prosody" {
    run_scenario se-policy-violation-too-big-prosody
}

@test "hostile: se-reset-during-sasl" {
    run_scenario se-reset-during-sasl
}

@test "hostile: se-resource-constraint-after-message" {
    run_scenario se-resource-constraint-after-message
}

@test "hostile: se-see-other-host" {
    run_scenario se-see-other-host
}

@test "hostile: se-system-shutdown-after-tls" {
    run_scenario se-system-shutdown-after-tls
}

@test "hostile: se-system-shutdown-before-tls" {
    run_scenario se-system-shutdown-before-tls
}

@test "hostile: se-text-control-chars" {
    run_scenario se-text-control-chars
}

@test "hostile: se-undefined-condition-after-bind" {
    run_scenario se-undefined-condition-after-bind
}

@test "hostile: se-unknown-condition" {
    run_scenario se-unknown-condition
}

@test "hostile: session-error" {
    run_scenario session-error
}

@test "hostile: session-no-reply" {
    run_scenario session-no-reply
}

@test "hostile: sm-ack-not-number" {
    run_scenario sm-ack-not-number
}

@test "hostile: sm-ack-one-too-high" {
    run_scenario sm-ack-one-too-high
}

@test "hostile: sm-ack-too-high" {
    run_scenario sm-ack-too-high
}

@test "hostile: sm-ack-without-ping-reply" {
    run_scenario sm-ack-without-ping-reply
}

@test "hostile: sm-no-ack" {
    run_scenario sm-no-ack
}

@test "hostile: sm-no-enabled" {
    run_scenario sm-no-enabled
}

@test "hostile: stray-features-before-ping-reply" {
    run_scenario stray-features-before-ping-reply
}

@test "hostile: stray-proceed-after-bind" {
    run_scenario stray-proceed-after-bind
}

@test "hostile: stray-proceed-before-ping-reply" {
    run_scenario stray-proceed-before-ping-reply
}

@test "hostile: stray-success-before-ping-reply" {
    run_scenario stray-success-before-ping-reply
}

@test "hostile: time-features-never-end" {
    run_scenario time-features-never-end
}

@test "hostile: time-keepalive-after-message" {
    run_scenario time-keepalive-after-message
}

@test "hostile: time-silent-after-accept" {
    run_scenario time-silent-after-accept
}

@test "hostile: time-silent-after-auth" {
    run_scenario time-silent-after-auth
}

@test "hostile: time-silent-after-header" {
    run_scenario time-silent-after-header
}

@test "hostile: time-silent-after-proceed" {
    run_scenario time-silent-after-proceed
}

@test "hostile: time-silent-after-proof" {
    run_scenario time-silent-after-proof
}

@test "hostile: time-silent-after-starttls" {
    run_scenario time-silent-after-starttls
}

@test "hostile: time-silent-after-success" {
    run_scenario time-silent-after-success
}

@test "hostile: time-silent-after-tls" {
    run_scenario time-silent-after-tls
}

@test "hostile: time-slowloris-challenge" {
    run_scenario time-slowloris-challenge
}

@test "hostile: time-slowloris-header" {
    run_scenario time-slowloris-header
}

@test "hostile: time-slowloris-ping-reply" {
    run_scenario time-slowloris-ping-reply
}

@test "hostile: time-whitespace-keepalive" {
    run_scenario time-whitespace-keepalive
}

@test "hostile: tls-1.1-only" {
    run_scenario tls-1.1-only
}

@test "hostile: tls-cert-expired" {
    run_scenario tls-cert-expired
}

@test "hostile: tls-cert-self-signed" {
    run_scenario tls-cert-self-signed
}

@test "hostile: tls-cert-wrong-name" {
    run_scenario tls-cert-wrong-name
}

@test "hostile: tls-direct-cert-wrong-name" {
    run_scenario tls-direct-cert-wrong-name
}

@test "hostile: tls-direct-cleartext-answer" {
    run_scenario tls-direct-cleartext-answer
}

@test "hostile: tls-failure" {
    run_scenario tls-failure
}

@test "hostile: tls-not-offered" {
    run_scenario tls-not-offered
}

@test "hostile: tls-plaintext-injection" {
    run_scenario tls-plaintext-injection
}

@test "hostile: tls-plaintext-injection-late" {
    run_scenario tls-plaintext-injection-late
}

@test "hostile: tls-unexpected-answer" {
    run_scenario tls-unexpected-answer
}

@test "hostile: xml-billion-laughs-after-tls" {
    run_scenario xml-billion-laughs-after-tls
}

@test "hostile: xml-billion-laughs" {
    run_scenario xml-billion-laughs
}

@test "hostile: xml-comment" {
    run_scenario xml-comment
}

@test "hostile: xml-deep-nesting-stanza" {
    run_scenario xml-deep-nesting-stanza
}

@test "hostile: xml-deep-nesting" {
    run_scenario xml-deep-nesting
}

@test "hostile: xml-doctype" {
    run_scenario xml-doctype
}

@test "hostile: xml-duplicate-attribute" {
    run_scenario xml-duplicate-attribute
}

@test "hostile: xml-endless-attribute" {
    run_scenario xml-endless-attribute
}

@test "hostile: xml-external-entity" {
    run_scenario xml-external-entity
}

@test "hostile: xml-features-never-end" {
    run_scenario xml-features-never-end
}

@test "hostile: xml-flood-stanzas" {
    run_scenario xml-flood-stanzas
}

@test "hostile: xml-garbage-after-tls" {
    run_scenario xml-garbage-after-tls
}

@test "hostile: xml-garbage" {
    run_scenario xml-garbage
}

@test "hostile: xml-header-from-other-domain" {
    run_scenario xml-header-from-other-domain
}

@test "hostile: xml-huge-attribute" {
    run_scenario xml-huge-attribute
}

@test "hostile: xml-huge-text-after-bind" {
    run_scenario xml-huge-text-after-bind
}

@test "hostile: xml-huge-text" {
    run_scenario xml-huge-text
}

@test "hostile: xml-invalid-utf8" {
    run_scenario xml-invalid-utf8
}

@test "hostile: xml-malformed" {
    run_scenario xml-malformed
}

@test "hostile: xml-missing-version" {
    run_scenario xml-missing-version
}

@test "hostile: xml-nul-byte" {
    run_scenario xml-nul-byte
}

@test "hostile: xml-old-version" {
    run_scenario xml-old-version
}

@test "hostile: xml-oversize-stanza" {
    run_scenario xml-oversize-stanza
}

@test "hostile: xml-processing-instruction" {
    run_scenario xml-processing-instruction
}

@test "hostile: xml-text-at-stream-level" {
    run_scenario xml-text-at-stream-level
}

@test "hostile: xml-too-many-attributes" {
    run_scenario xml-too-many-attributes
}

@test "hostile: xml-truncated-tag" {
    run_scenario xml-truncated-tag
}

@test "hostile: xml-undefined-entity" {
    run_scenario xml-undefined-entity
}

@test "hostile: xml-unescaped-amp" {
    run_scenario xml-unescaped-amp
}

@test "hostile: xml-utf16be-bom" {
    run_scenario xml-utf16be-bom
}

@test "hostile: xml-utf16le-bom" {
    run_scenario xml-utf16le-bom
}

@test "hostile: xml-wrong-root" {
    run_scenario xml-wrong-root
}

@test "hostile: xml-wrong-stream-namespace" {
    run_scenario xml-wrong-stream-namespace
}

@test "hostile: upload-ok-headers" {
    run_scenario upload-ok-headers
}

@test "hostile: upload-get-not-https" {
    run_scenario upload-get-not-https
}

@test "hostile: upload-huge-headers" {
    run_scenario upload-huge-headers
}

@test "hostile: upload-no-service" {
    run_scenario upload-no-service
}

@test "hostile: upload-over-limit" {
    run_scenario upload-over-limit
}

@test "hostile: upload-put-hangs" {
    run_scenario upload-put-hangs
}

@test "hostile: upload-put-not-https" {
    run_scenario upload-put-not-https
}

@test "hostile: upload-put-wrong-name" {
    run_scenario upload-put-wrong-name
}

@test "hostile: upload-redirect" {
    run_scenario upload-redirect
}

@test "hostile: upload-slot-file-too-large" {
    run_scenario upload-slot-file-too-large
}

@test "hostile: upload-slot-quota" {
    run_scenario upload-slot-quota
}

@test "hostile: upload-slot-refused" {
    run_scenario upload-slot-refused
}

@test "hostile: upload-slot-wrong-from" {
    run_scenario upload-slot-wrong-from
}

@test "hostile: upload-status-403" {
    run_scenario upload-status-403
}

@test "hostile: upload-status-503" {
    run_scenario upload-status-503
}

@test "hostile: ok-late-bounce-without-wait" {
    run_scenario ok-late-bounce-without-wait
}

@test "hostile: ok-receipt-before-confirmation" {
    run_scenario ok-receipt-before-confirmation
}

@test "hostile: ok-wait-foreign-bounces" {
    run_scenario ok-wait-foreign-bounces
}

@test "hostile: receipt-wrong-sender" {
    run_scenario receipt-wrong-sender
}

@test "hostile: wait-late-bounce" {
    run_scenario wait-late-bounce
}

@test "hostile: ok-scram-plus-endpoint" {
    run_scenario ok-scram-plus-endpoint
}

@test "hostile: scram-plus-cb-mitm" {
    run_scenario scram-plus-cb-mitm
}

@test "hostile: scram-ssdp-mismatch" {
    run_scenario scram-ssdp-mismatch
}

@test "hostile: ok-scram-plus-ssdp-only" {
    run_scenario ok-scram-plus-ssdp-only
}

@test "hostile: scram-plus-unusable-no-ssdp" {
    run_scenario scram-plus-unusable-no-ssdp
}

@test "hostile: scram-plus-stripped" {
    run_scenario scram-plus-stripped
}

@test "hostile: ok-scram-y-flag" {
    run_scenario ok-scram-y-flag
}

@test "hostile: ok-scram-plus-exporter" {
    run_scenario ok-scram-plus-exporter
}

@test "hostile: ok-scram-plus-unique-tls12" {
    run_scenario ok-scram-plus-unique-tls12
}

@test "hostile: scram-plus-removed-y" {
    run_scenario scram-plus-removed-y
}

# SASL2 (XEP-0388), Bind2 (XEP-0386), FAST (XEP-0484)

@test "hostile: ok-sasl2-scram" {
    run_scenario ok-sasl2-scram
}

@test "hostile: ok-sasl2-sm-inline" {
    run_scenario ok-sasl2-sm-inline
}

@test "hostile: ok-sasl2-token-kept" {
    run_scenario ok-sasl2-token-kept
}

@test "hostile: ok-fast" {
    run_scenario ok-fast
}

@test "hostile: ok-fast-two-runs" {
    run_scenario ok-fast-two-runs
}

@test "hostile: sasl2-bad-additional-data" {
    run_scenario sasl2-bad-additional-data
}

@test "hostile: sasl2-missing-additional-data" {
    run_scenario sasl2-missing-additional-data
}

@test "hostile: sasl2-foreign-aid" {
    run_scenario sasl2-foreign-aid
}

@test "hostile: sasl2-bare-aid" {
    run_scenario sasl2-bare-aid
}

@test "hostile: sasl2-no-bound" {
    run_scenario sasl2-no-bound
}

@test "hostile: sasl2-continue" {
    run_scenario sasl2-continue
}

@test "hostile: sasl2-failure" {
    run_scenario sasl2-failure
}

@test "hostile: sasl2-plus-tampered-cb" {
    run_scenario sasl2-plus-tampered-cb
}

@test "hostile: sasl2-stripped-plus" {
    run_scenario sasl2-stripped-plus
}

@test "hostile: fast-bad-responder" {
    run_scenario fast-bad-responder
}

@test "hostile: fast-missing-responder" {
    run_scenario fast-missing-responder
}

@test "hostile: fast-continue" {
    run_scenario fast-continue
}

@test "hostile: fast-refused-then-password" {
    run_scenario fast-refused-then-password
}

@test "hostile: fast-token-not-replayed" {
    run_scenario fast-token-not-replayed
}

@test "hostile: fast-insecure" {
    run_scenario fast-insecure
}

@test "hostile: fast-not-offered" {
    run_scenario fast-not-offered
}

@test "hostile: sasl2-token-not-ascii" {
    run_scenario sasl2-token-not-ascii
}

@test "hostile: ok-no-sasl2" {
    run_scenario ok-no-sasl2
}

@test "hostile: ok-sasl2-no-bind2" {
    run_scenario ok-sasl2-no-bind2
}

@test "hostile: ok-sasl2-plain-only" {
    run_scenario ok-sasl2-plain-only
}

@test "hostile: ok-sasl2-aid-identity" {
    run_scenario ok-sasl2-aid-identity
}

@test "hostile: sasl2-plus-without-cb-list" {
    run_scenario sasl2-plus-without-cb-list
}

@test "hostile: ok-sasl2-resource" {
    run_scenario ok-sasl2-resource
}

@test "hostile: ok-scram-keys-kept" {
    run_scenario ok-scram-keys-kept
}

@test "hostile: scram-keys-refused-then-password" {
    run_scenario scram-keys-refused-then-password
}

@test "hostile: scram-keys-refused-twice" {
    run_scenario scram-keys-refused-twice
}

@test "hostile: ok-tls-hello-retry" {
    run_scenario ok-tls-hello-retry
}

@test "hostile: retry-confirmation-lost" {
    run_scenario retry-confirmation-lost
}

@test "hostile: retry-not-after-refusal" {
    run_scenario retry-not-after-refusal
}
