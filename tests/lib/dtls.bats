#!/usr/bin/env bats
# shellcheck shell=bats
# dtls.bats - direct TLS (XEP-0368) against a real, throwaway server on
# 127.0.0.1 with a direct TLS listener next to its STARTTLS one (Prosody:
# c2s_direct_tls_ports, ejabberd: a c2s listener with tls: true):
# tests/prosody-dtls.bats and tests/ejabberd-dtls.bats are links to this
# file, which takes the server from its own name (tests/lib/server.bash).
# Delivery is proven from the server's store (bob never logs in).

bats_require_minimum_version 1.5.0

load helper
load lib/server
# shellcheck disable=SC2034 # read by xsa (tests/lib/server.bash)
XSA_TIMEOUT=90

setup_file() {
    SRV_DIRECT_TLS=1 srv_file_start || return 1
    [ -n "${SRV_SKIP-}" ] && return 0
    [ -n "${SRV_DTLS_PORT-}" ] || {
        echo "no direct TLS port" >&2
        return 1
    }
    # The direct TLS listener comes up with the others; wait until it
    # takes connections.
    local i
    for ((i = 0; i < 300; i++)); do
        # shellcheck disable=SC2016 # $1 is expanded by the inner bash
        timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ \
            "$SRV_DTLS_PORT" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the direct TLS port $SRV_DTLS_PORT never opened" >&2
    return 1
}

unique() {
    printf 'xs-d%s-%s%s' "$BATS_TEST_NUMBER" "$RANDOM" "$RANDOM"
}

# xsd PORT ARGS...: xmppsend as alice (xsa) but to 127.0.0.1:PORT
xsd() {
    local port=$1
    shift
    xs --server "127.0.0.1:$port" --cafile "$SRV_CA" \
        -j alice@localhost --password-file "$PW_FILE" --timeout 90 "$@"
}

@test "direct TLS: --tls direct delivers (stored for bob), no <starttls/>; also -i" {
    local body one two
    body="direct $(unique)"
    run --separate-stderr -0 xsd "$SRV_DTLS_PORT" --tls direct -d \
        -m "$body" bob@localhost
    [[ $output == $'sent\tbob@localhost\t'* ]] || fail "no 'sent' line"
    # The trace: direct TLS, no STARTTLS, and the first thing we sent is
    # the stream header with from= (only ever sent encrypted).
    # shellcheck disable=SC2154 # set by bats' run --separate-stderr
    [[ $stderr == *'*: direct TLS (XEP-0368)'* ]] ||
        fail "the trace does not say direct TLS"
    [[ $stderr != *'<starttls'* ]] || fail "<starttls/> sent"
    local first
    first=$(grep -m1 '^C: ' <<<"$stderr")
    [[ $first == "C: <?xml version='1.0'?><stream:stream to='localhost' from='alice@localhost'"* ]] ||
        fail "first sent: $first"
    srv_stored bob | grep -qF -- "$body" || fail "not stored for bob"
    # Line mode connects through its own path (lines.c).
    one="line one $(unique)" two="line two $(unique)"
    run -0 xsd "$SRV_DTLS_PORT" --tls direct -i bob@localhost \
        <<<"$one"$'\n'"$two"
    srv_stored bob | grep -qF -- "$one" || fail "line one not stored"
    srv_stored bob | grep -qF -- "$two" || fail "line two not stored"
}

@test "direct TLS: the wrong kind for the port fails with one line, nothing stored" {
    local before after
    before=$(srv_stored_count bob)
    # A ClientHello to the STARTTLS port: the server answers in XML.
    run --separate-stderr -76 xsd "$SRV_PORT" --tls direct \
        -m "wrong $(unique)" bob@localhost
    [[ $stderr == "xmppsend: "* && $stderr != *$'\n'* ]] ||
        fail "not one error line"
    assert_match "$stderr" 'not a direct TLS port.*--tls starttls'
    # A stream header to the direct TLS port: the server closes or resets
    # without a byte (75, as any connection lost, with a hint).
    run --separate-stderr -75 xsd "$SRV_DTLS_PORT" --tls starttls \
        -m "wrong $(unique)" bob@localhost
    [[ $stderr == "xmppsend: "* && $stderr != *$'\n'* ]] ||
        fail "not one error line"
    assert_match "$stderr" 'before any answer.*--tls direct'
    after=$(srv_stored_count bob)
    [ "$before" = "$after" ] || fail "stored: $before -> $after"
}
