#!/usr/bin/env bats
# shellcheck shell=bats
# upload.bats - XEP-0363 HTTP upload (-u FILE) against a real, throwaway
# server: tests/prosody-upload.bats and tests/ejabberd-upload.bats are
# links to this file, which takes the server from its own name (the part
# before '-'): Prosody 0.12 with mod_http_file_share, ejabberd 23.01 with
# mod_http_upload, each serving https on 127.0.0.1 (tests/lib/server.bash,
# SRV_UPLOAD_MAX). Proof comes from elsewhere than xmppsend's output: the
# message the server stored for the offline bob carries the URL, and the
# file fetched back from that URL with curl has the same SHA-256.

bats_require_minimum_version 1.5.0

load helper
load lib/server

# The service's limit in these tests (bytes).
UPLOAD_MAX=1048576

setup_file() {
    if ! command -v curl >/dev/null; then
        export SRV_SKIP="curl is not installed"
        return 0
    fi
    SRV_UPLOAD_MAX=$UPLOAD_MAX srv_file_start
}

# sha URL: SHA-256 of what URL serves (trusting only the test CA)
sha_of_url() {
    timeout 60 curl -sS --fail --proto =https --max-redirs 0 \
        --cacert "$SRV_CA" "$1" | sha256sum | cut -d' ' -f1
}

# stored_oob ID: "BODY<TAB>OOB-URL" of the message with id ID stored for
# bob (empty fields when absent); fails when there is none.
stored_oob() {
    srv_stored bob | timeout 10 python3 -c '
import sys, xml.etree.ElementTree as ET
want = sys.argv[1]
for line in sys.stdin:
    m = ET.fromstring(line)
    if m.get("id") != want:
        continue
    body = m.findtext("{jabber:client}body") or m.findtext("body") or ""
    url = ""
    for x in m.iter("{jabber:x:oob}x"):
        url = x.findtext("{jabber:x:oob}url") or ""
    print(body + "\t" + url)
    sys.exit(0)
sys.exit(1)' "$1"
}

@test "upload: two files and a body; bob gets the body, then each URL as body and oob; the URLs serve the same bytes" {
    local d=$BATS_TEST_TMPDIR f1 f2
    f1="$d/photo one.png"
    f2="$d/notes&more.txt"
    head -c 300000 /dev/urandom >"$f1"
    printf 'line one\nline <two> & three\n' >"$f2"
    run -0 --separate-stderr xsa -m 'two files' -u "$f1" --upload "$f2" \
        bob@localhost </dev/null
    [ -z "$stderr" ] || fail "stderr: $stderr"
    # uploaded FILE URL, twice, then one sent line per message
    local -a up ids
    mapfile -t up < <(grep '^uploaded' <<<"$output" | cut -f3)
    mapfile -t ids < <(grep '^sent' <<<"$output" | cut -f3)
    [ "${#up[@]}" -eq 2 ] || fail "want 2 uploaded lines"
    [ "${#ids[@]}" -eq 3 ] || fail "want 3 sent lines"
    local u
    for u in "${up[@]}"; do
        assert_match "$u" "^https://localhost:$SRV_HTTPS_PORT/" || return 1
    done

    # The server's store: the body first, then one message per URL.
    local got
    got=$(stored_oob "${ids[0]}") || fail "message ${ids[0]} not stored"
    [ "$got" = $'two files\t' ] || fail "body message: $got"
    got=$(stored_oob "${ids[1]}") || fail "message ${ids[1]} not stored"
    [ "$got" = "${up[0]}"$'\t'"${up[0]}" ] || fail "first URL message: $got"
    got=$(stored_oob "${ids[2]}") || fail "message ${ids[2]} not stored"
    [ "$got" = "${up[1]}"$'\t'"${up[1]}" ] || fail "second URL message: $got"

    # What the URLs serve, fetched by curl.
    [ "$(sha_of_url "${up[0]}")" = "$(sha256sum <"$f1" | cut -d' ' -f1)" ] ||
        fail "${up[0]} does not serve $f1"
    [ "$(sha_of_url "${up[1]}")" = "$(sha256sum <"$f2" | cut -d' ' -f1)" ] ||
        fail "${up[1]} does not serve $f2"
}

@test "upload: a file over the service's limit: 65 before any slot request or PUT; nothing sent; a missing file: 66 before connecting" {
    local d=$BATS_TEST_TMPDIR before after
    head -c $((UPLOAD_MAX + 1)) /dev/zero >"$d/big.bin"
    printf 'small\n' >"$d/small.txt"
    before=$(srv_stored_count bob)
    # The small file comes first: it must not be uploaded either.
    run -65 --separate-stderr xsa -d -u "$d/small.txt" -u "$d/big.bin" \
        -m 'not sent' bob@localhost </dev/null
    assert_match "$stderr" "xmppsend: .*big\.bin is $((UPLOAD_MAX + 1)) bytes; the upload service accepts at most $UPLOAD_MAX"
    refute_match "$stderr" "C: [^"$'\n'"]*<request" || return 1
    refute_match "$stderr" "C: <message" || return 1
    [ -z "$output" ] || fail "stdout: $output"
    after=$(srv_stored_count bob)
    [ "$before" = "$after" ] || fail "stored for bob: $before before, $after after"

    run -66 --separate-stderr xsa -d -u "$d/absent.bin" bob@localhost </dev/null
    assert_xs_error "cannot open .*absent\.bin" || return 1
    refute_match "$stderr" "C: " || return 1
}
