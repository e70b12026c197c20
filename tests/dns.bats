#!/usr/bin/env bats
# shellcheck shell=bats
# dns.bats - how xmppsend finds its server without --server: the SRV
# lookup of _xmpp-client._tcp.DOMAIN, priority order, the "." target, the
# fallback to DOMAIN:5222, a resolver that never answers.
#
# Each test runs entirely inside a private network namespace (loopback
# only, tests/fake/in_netns.bash) whose /etc/resolv.conf points at
# tests/fake/dnsserver.py on 127.0.0.1:53; the XMPP server is
# tests/fake/fakeserver.py playing an ok-* scenario.  Nothing can leave
# the machine.  The part run inside is dns_inside (below); it leaves the
# outcome in $BATS_TEST_TMPDIR, which the test then checks.

bats_require_minimum_version 1.5.0

load helper
load fake/run_scenario

SRV_NAME=_xmpp-client._tcp.localhost
OK_SCENARIO='ok-session-optional'

setup_file() {
    hostile_setup "$BATS_FILE_TMPDIR"
}

setup() {
    require_cmd unshare mount timeout python3
    timeout 10 unshare --net --mount true 2>/dev/null ||
        skip "unshare --net --mount not permitted (needs root)"
    D=$BATS_TEST_TMPDIR
    # dnsserver.py reads the fake server's port from this file whenever
    # it serves the record (the server picks its port at start-up).
    PORT="@$D/port"
    XS_T=10
    # A whole session under valgrind on a loaded 2-core machine (the fake
    # servers live 50 s).
    [ -z "${XS_SLOW-}" ] || XS_T=40
    XS_JID=user@localhost
}

# listener_py: Python source of the TCP listener for dns_inside, run as
#   python3 -c SOURCE PORT LOG TARGET READY SECONDS
# It listens on 127.0.0.1:PORT, logs one line per connection in LOG,
# forwards each connection to the port in the file TARGET (or closes it at
# once when TARGET is "-"), writes READY when listening and gives up
# after SECONDS.
listener_py() {
    cat <<'EOF'
import socket, sys, threading, time
port, log, target, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
deadline = time.monotonic() + float(sys.argv[5])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(4)
open(ready, "w").write("ok\n")
def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
while time.monotonic() < deadline:
    ls.settimeout(deadline - time.monotonic())
    try:
        conn, peer = ls.accept()
    except OSError:
        break
    with open(log, "a") as f:
        f.write("connection from %s:%d\n" % peer[:2])
    if target == "-":
        conn.close()
        continue
    with open(target) as f:
        up = socket.create_connection(("127.0.0.1", int(f.read())))
    for a, b in ((conn, up), (up, conn)):
        threading.Thread(target=pump, args=(a, b), daemon=True).start()
EOF
}

# dns_inside SCENARIO LISTEN XS-ARG...: runs in the namespace (in_netns.bash
# sets NETNS_DIR).  Starts fakeserver.py playing SCENARIO (port in
# $NETNS_DIR/port; "-": none) and, unless LISTEN is "-", listener_py on
# port LISTEN (forwarding to the fake server if there is one), runs
# xs XS-ARG..., stops both servers by PID and leaves rc, out, err and ms
# (xmppsend's wall time) in $NETNS_DIR.
dns_inside() {
    local d=$NETNS_DIR scn=$1 listen=$2 spid='' lpid='' i t0 t1
    shift 2
    # shellcheck disable=SC2317 # called by the trap
    stop_servers() {
        local p
        for p in $spid $lpid; do
            kill "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        done
        spid='' lpid=''
    }
    trap stop_servers EXIT
    if [ "$scn" != - ]; then
        timeout 60 python3 "$FAKE_DIR/fakeserver.py" \
            --scenario "$FAKE_DIR/scenarios/$scn.scn" --port-file "$d/port" \
            --transcript "$d/transcript" --log "$d/server.log" \
            --cert-dir "$PKI_DIR" --user "$HOSTILE_USER" \
            --password-file "$PASSWORD_FILE" --max-seconds 50 \
            >"$d/server.out" 2>&1 &
        spid=$!
        for ((i = 0; i < 100; i++)); do
            [ -s "$d/port" ] && break
            kill -0 "$spid" 2>/dev/null || break
            sleep 0.05
        done
        [ -s "$d/port" ] || {
            echo "fake server did not start: $(cat "$d/server.out")" >&2
            return 125
        }
    fi
    if [ "$listen" != - ]; then
        local target=-
        # LISTEN_CLOSES=1: the listener closes each connection at once
        # even when a fake server runs.
        [ "$scn" = - ] || [ -n "${LISTEN_CLOSES-}" ] || target=$d/port
        timeout 60 python3 -c "$(listener_py)" "$listen" "$d/listen.log" \
            "$target" "$d/listen.ready" 50 >"$d/listen.out" 2>&1 &
        lpid=$!
        for ((i = 0; i < 100; i++)); do
            [ -s "$d/listen.ready" ] && break
            kill -0 "$lpid" 2>/dev/null || break
            sleep 0.05
        done
        [ -s "$d/listen.ready" ] || {
            echo "listener did not start: $(cat "$d/listen.out")" >&2
            return 125
        }
    fi
    t0=${EPOCHREALTIME/./}
    xs "$@" >"$d/out" 2>"$d/err"
    echo $? >"$d/rc"
    t1=${EPOCHREALTIME/./}
    echo $(((t1 - t0) / 1000)) >"$d/ms"
    # The fake server exits once the client has gone.
    for ((i = 0; i < 40 && ${#spid} > 0; i++)); do
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.05
    done
    stop_servers
}

# dns_run SCENARIO LISTEN DNSSERVER-OPTION... [-- XS-OPTION...]
# Runs dns_inside in a fresh namespace whose DNS server gets the options,
# with xmppsend sending one message as $XS_JID to recipient@localhost
# (--timeout $XS_T, no --server), then sets status, output, stderr and
# ms as bats' run would.  $D/hosts, if written, becomes /etc/hosts.
dns_run() {
    local scn=$1 listen=$2 script
    shift 2
    local -a dns=() extra=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        dns+=("$1")
        shift
    done
    [ $# -eq 0 ] || shift
    extra=("$@")
    # --serverinfo sends nothing: no message, no recipient
    local -a send=(-m 'dns test body' recipient@localhost)
    [ "${extra[0]-}" != --serverinfo ] || send=()
    script="$(declare -p FAKE_DIR HOSTILE_USER)
PKI_DIR=\$1 PASSWORD_FILE=\$2
shift 2
$(declare -f xs listener_py dns_inside)
dns_inside \"\$@\""
    rm -f "$D/rc" "$D/out" "$D/err" "$D/ms"
    run --separate-stderr env XS_CONFIG_HOME="$D/noconfig" \
        XS_TIMEOUT=$((XS_T + 20)) timeout $((XS_T + 60)) \
        bash "$FAKE_DIR/in_netns.bash" "$D" "${dns[@]}" -- \
        bash -c "$script" dns_inside "$BATS_FILE_TMPDIR/pki" \
        "$BATS_FILE_TMPDIR/password" "$scn" "$listen" \
        -j "$XS_JID" --cafile "$BATS_FILE_TMPDIR/pki/valid/ca.crt" \
        --password-file "$BATS_FILE_TMPDIR/password" --timeout "$XS_T" \
        "${extra[@]}" "${send[@]}" 3>&-
    [ -s "$D/rc" ] ||
        fail "no result from the namespace (status $status): $output $stderr" ||
        return 1
    status=$(<"$D/rc")
    output=$(<"$D/out")
    stderr=$(<"$D/err")
    ms=$(<"$D/ms")
}

# details: what a failed assertion prints
details() {
    printf 'exit: %s (%s ms)\nstdout: %s\nstderr: %s\n' "$status" "$ms" \
        "$output" "$stderr"
    printf -- '--- DNS log\n%s\n' "$(cat "$D/dns.log" 2>/dev/null)"
    printf -- '--- fake server log (last 10 lines)\n%s\n' \
        "$(tail -n 10 "$D/server.log" 2>/dev/null)"
    printf -- '--- listener log\n%s\n' "$(cat "$D/listen.log" 2>/dev/null)"
}

# report PROBLEM...: fail with the problems and the run's details
report() {
    [ $# -eq 0 ] && return 0
    printf '  - %s\n' "$@" >&2
    details >&2
    return 1
}

# assert_sent: exit 0, the message acknowledged, the fake server played
# its whole script without seeing a violation.
assert_sent() {
    local -a problems=()
    [ "$status" -eq 0 ] || problems+=("exit $status, expected 0")
    [ -z "$stderr" ] || problems+=("stderr not empty on success")
    [[ $output == *$'sent\trecipient@localhost\t'* ]] ||
        problems+=("no 'sent' line on stdout")
    grep -q 'result: complete' "$D/server.log" ||
        problems+=("fake server did not complete its script")
    ! grep -q 'violation: ' "$D/server.log" ||
        problems+=("fake server saw a violation")
    report "${problems[@]}"
}

# assert_failed CODE REGEX: exit CODE, exactly one "xmppsend: " line on
# stderr matching REGEX (case-insensitive), no "sent" line.
assert_failed() {
    local -a problems=()
    [ "$status" -eq "$1" ] || problems+=("exit $status, expected $1")
    [[ $stderr == "xmppsend: "* && $stderr != *$'\n'* ]] ||
        problems+=("stderr is not exactly one 'xmppsend: ' line")
    shopt -s nocasematch
    [[ $stderr =~ $2 ]] || problems+=("stderr does not match /$2/")
    shopt -u nocasematch
    [[ $output != *$'sent\t'* ]] || problems+=("'sent' line on a failed run")
    report "${problems[@]}"
}

# assert_srv_query [NAME]: the DNS server saw the SRV queries for NAME
# (default $SRV_NAME, an _xmpp-client name) and its _xmpps-client twin
# (XEP-0368 direct TLS) and no SRV query for any other name (no
# search-list suffix, nothing else).
assert_srv_query() {
    local one=${1:-$SRV_NAME} want names
    want=$(printf '%s\n' "$one" "${one/#_xmpp-client./_xmpps-client.}" |
        sort -u)
    names=$(awk '$3 == "SRV" { print $2 }' "$D/dns.log" 2>/dev/null |
        sort -u)
    [ "$names" = "$want" ] || {
        details >&2
        fail "expected SRV queries for exactly '$want', got: '$names'"
    }
}

# refute_connection: the listener accepted no connection
refute_connection() {
    [ ! -s "$D/listen.log" ] || {
        details >&2
        fail "a connection reached the listener"
    }
}

# The run (--timeout 3) ended by its deadline: not before, not 1 s after.
assert_ended_at_deadline() {
    local max=4000
    [ -z "${XS_SLOW-}" ] || max=20000
    ((ms >= 2500 && ms < max)) || fail "took $ms ms with --timeout 3"
}

@test "dns: SRV target xmpp.localhost (A from DNS) on the server's port: sent" {
    dns_run "$OK_SCENARIO" - \
        --srv "$SRV_NAME" 0 0 "$PORT" xmpp.localhost \
        --a xmpp.localhost 127.0.0.1
    assert_sent
    assert_srv_query
    grep -q '^udp xmpp\.localhost A -> NOERROR 1$' "$D/dns.log" ||
        fail "no A query for xmpp.localhost: $(cat "$D/dns.log")"
}

@test "dns: priority 10 on a closed port, priority 20 on the server: sent" {
    # Port 1 on 127.0.0.1 is closed in the new namespace: refused at once.
    dns_run "$OK_SCENARIO" - \
        --srv "$SRV_NAME" 20 0 "$PORT" xmpp.localhost \
        --srv "$SRV_NAME" 10 0 1 dead.localhost \
        --a xmpp.localhost 127.0.0.1 --a dead.localhost 127.0.0.1
    assert_sent
    assert_srv_query
    # The priority-10 target was tried (resolved) before the other one.
    local order
    order=$(awk '$3 == "A" { print $2 }' "$D/dns.log" | uniq | head -n 2 |
        tr '\n' ' ')
    [ "$order" = "dead.localhost xmpp.localhost " ] ||
        fail "targets resolved in the order: $order"
}

@test "dns: the lowest priority wins even when listed last" {
    # Priority 20 (listed first) is the listener, which records each
    # connection before forwarding it; priority 10 is the fake server.
    dns_run "$OK_SCENARIO" 5269 \
        --srv "$SRV_NAME" 20 100 5269 other.localhost \
        --srv "$SRV_NAME" 10 0 "$PORT" xmpp.localhost \
        --a other.localhost 127.0.0.1 --a xmpp.localhost 127.0.0.1
    assert_sent
    refute_connection
}

@test "dns: SRV target \".\": 68, service not offered, no connection" {
    # The fallback would go to localhost:5222: a listener there must see
    # nothing.
    dns_run - 5222 --srv "$SRV_NAME" 0 0 0 .
    assert_failed 68 'XMPP client service|not offer|service'
    assert_srv_query
    refute_connection
    ! grep -q ' A \| AAAA ' "$D/dns.log" ||
        fail "address lookups after SRV \".\": $(cat "$D/dns.log")"
}

@test "dns: SRV records whose targets all refuse: 75, no fallback to 5222" {
    # RFC 6120 3.2.1: an SRV answer that leads nowhere is not a reason to
    # try DOMAIN:5222.
    dns_run - 5222 --srv "$SRV_NAME" 0 0 1 dead.localhost \
        --a dead.localhost 127.0.0.1
    assert_failed 75 'dead\.localhost|connect|refused'
    assert_srv_query
    refute_connection
}

@test "dns: NXDOMAIN for the SRV name: falls back to localhost:5222, sent" {
    # localhost has ::1 first, where nothing listens (refused), then
    # 127.0.0.1:5222, forwarded to the fake server.
    printf '::1 localhost\n127.0.0.1 localhost\n' >"$D/hosts"
    dns_run "$OK_SCENARIO" 5222
    assert_sent
    assert_srv_query
    grep -q "^udp $SRV_NAME SRV -> NXDOMAIN 0\$" "$D/dns.log" ||
        fail "no NXDOMAIN answer in $(cat "$D/dns.log")"
    [ "$(wc -l <"$D/listen.log")" -eq 1 ] ||
        fail "expected one connection on 5222: $(cat "$D/listen.log")"
}

@test "dns: SRV name exists without SRV records: falls back to 5222, sent" {
    dns_run "$OK_SCENARIO" 5222 --nodata "$SRV_NAME"
    assert_sent
    assert_srv_query
    grep -q "^udp $SRV_NAME SRV -> NOERROR 0\$" "$D/dns.log" ||
        fail "no empty answer in $(cat "$D/dns.log")"
}

@test "dns: truncated UDP answer: the SRV query is repeated over TCP, sent" {
    dns_run "$OK_SCENARIO" - --truncate \
        --srv "$SRV_NAME" 0 0 "$PORT" xmpp.localhost \
        --a xmpp.localhost 127.0.0.1
    assert_sent
    assert_srv_query
    grep -q "^tcp $SRV_NAME SRV -> NOERROR 1\$" "$D/dns.log" ||
        fail "no SRV query over TCP: $(cat "$D/dns.log")"
}

@test "dns: an internationalised domain is looked up by its A-labels" {
    # The JID keeps U-labels (jid.c); the SRV query must use the A-label
    # (IDNA2008). The target refuses: only the queries matter here.
    XS_JID=$'user@B\u00fccher.test'
    dns_run - 5222 --srv _xmpp-client._tcp.xn--bcher-kva.test 0 0 1 \
        dead.localhost --a dead.localhost 127.0.0.1
    assert_failed 75 'dead\.localhost|connect|refused'
    assert_srv_query _xmpp-client._tcp.xn--bcher-kva.test
    refute_connection
}

@test "dns: a DNS server that never answers, --timeout 3: 75 within 4 s" {
    # Not even localhost in /etc/hosts: the fallback to localhost:5222,
    # which xmppsend takes when the SRV query gives up before the
    # deadline, has to ask the DNS server too.
    printf '# nothing\n' >"$D/hosts"
    XS_T=3
    dns_run - - --silent
    assert_failed 75 'timed out'
    assert_srv_query
    assert_ended_at_deadline
}

@test "dns: three name servers that never answer, --timeout 3: 75 within 4 s" {
    # glibc would wait for each in turn (about 9 s with xmppsend's
    # per-server timeout of 3 s): only the deadline ends the SRV lookup.
    printf 'nameserver 127.0.0.1\n%.0s' 1 2 3 >"$D/resolv.conf"
    printf '# nothing\n' >"$D/hosts"
    XS_T=3
    dns_run - - --silent
    assert_failed 75 'timed out'
    assert_srv_query
    assert_ended_at_deadline
}

@test "dns: no SRV, address lookup never answered, --timeout 3: 75 within 4 s" {
    XS_T=3
    XS_JID=user@slow.test
    dns_run - - --rcode slow.test silent
    assert_failed 75 'timed out'
    assert_srv_query _xmpp-client._tcp.slow.test
    grep -Eq '^udp slow\.test (A|AAAA) -> \(silent\)$' "$D/dns.log" ||
        fail "no address lookup of slow.test: $(cat "$D/dns.log")"
    assert_ended_at_deadline
}

@test "dns: a lookup given up at the deadline never writes into the stack" {
    # glibc cannot cancel a getaddrinfo_a request that is running
    # (EAI_NOTCANCELED): its worker finishes after net_connect has given
    # up and stores the result in the request, which therefore must not
    # live in net_connect's (by then dead) stack frames.  Here the
    # resolver gives up after 1 s; test_tls waits 5 s with a pattern
    # over the stack below it and counts the bytes that changed.
    : "${UNIT_DIR:=$TOP_DIR/build/unit}"
    [ -x "$UNIT_DIR/test_tls" ] ||
        fail "$UNIT_DIR/test_tls is missing: build it with 'make unit'"
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
        >"$D/resolv.conf"
    printf '# nothing\n' >"$D/hosts"
    # shellcheck disable=SC2086 # XS_WRAP is a command line
    run timeout 120 bash "$FAKE_DIR/in_netns.bash" "$D" --silent -- \
        $XS_WRAP "$UNIT_DIR/test_tls" resolve slow.test 3>&-
    printf '%s\n' "$output"
    [ "$status" -eq 0 ] || fail "test_tls resolve exited with $status"
    assert_match "$output" 'test_tls resolve: all [0-9]+ checks passed'
    grep -Eq '^udp slow\.test (A|AAAA) -> \(silent\)$' "$D/dns.log" ||
        fail "no address lookup of slow.test: $(cat "$D/dns.log")"
}

@test "dns: a domain that does not exist at all: 68" {
    XS_JID=user@nonexistent.test
    dns_run - 5222
    assert_failed 68 'nonexistent\.test'
    assert_srv_query _xmpp-client._tcp.nonexistent.test
    grep -Eq '^udp nonexistent\.test (A|AAAA) -> NXDOMAIN 0$' "$D/dns.log" ||
        fail "no address lookup of nonexistent.test: $(cat "$D/dns.log")"
    refute_connection
}

# A "." record that is not alone is skipped (RFC 2782: it means "no
# service" only as the one record): the records after it are still used
# and sorted.

@test "dns: a \".\" record among others is ignored, the others are used" {
    # Were the real record dropped, the fallback to localhost:5222 would
    # reach the listener there.
    dns_run "$OK_SCENARIO" 5222 \
        --srv "$SRV_NAME" 0 0 0 . \
        --srv "$SRV_NAME" 10 0 "$PORT" xmpp.localhost \
        --a xmpp.localhost 127.0.0.1
    assert_sent
    refute_connection
}

@test "dns: records after a \".\" record are still sorted by priority" {
    dns_run "$OK_SCENARIO" 5269 \
        --srv "$SRV_NAME" 20 0 5269 other.localhost \
        --srv "$SRV_NAME" 10 0 "$PORT" xmpp.localhost \
        --srv "$SRV_NAME" 0 0 0 . \
        --a other.localhost 127.0.0.1 --a xmpp.localhost 127.0.0.1
    assert_sent
    refute_connection
}

# Direct TLS (XEP-0368): _xmpps-client._tcp records merged with
# _xmpp-client._tcp ones.  ok-direct-tls is a fake server that speaks TLS
# from the first byte (and insists on ALPN xmpp-client); ok-session-optional
# one that wants STARTTLS: which of them completed its script shows which
# kind each target was tried with.

SRVS_NAME=_xmpps-client._tcp.localhost

@test "dns: direct TLS first at equal priority, whatever the weights" {
    # The STARTTLS record has the larger weight and is listed first; its
    # target is the listener, which must see no connection.
    dns_run ok-direct-tls 5269 \
        --srv "$SRV_NAME" 10 100 5269 other.localhost \
        --srv "$SRVS_NAME" 10 0 "$PORT" xmpp.localhost \
        --a other.localhost 127.0.0.1 --a xmpp.localhost 127.0.0.1
    assert_sent
    assert_srv_query
    refute_connection
    grep -q 'alpn=xmpp-client' "$D/server.log" ||
        fail "no ALPN xmpp-client: $(cat "$D/server.log")"
}

@test "dns: priority across kinds; the next target after a refusal or a failed TLS handshake" {
    # Direct TLS at priority 0 is the listener, which takes the connection
    # and closes it (the TLS handshake fails); direct TLS at 5 refuses
    # (port 1 is closed); STARTTLS at 10 is the fake server; direct TLS at
    # 20 (the listener again) is never reached.
    LISTEN_CLOSES=1 dns_run "$OK_SCENARIO" 5269 \
        --srv "$SRVS_NAME" 20 0 5269 other.localhost \
        --srv "$SRV_NAME" 10 0 "$PORT" xmpp.localhost \
        --srv "$SRVS_NAME" 5 0 1 dead.localhost \
        --srv "$SRVS_NAME" 0 0 5269 first.localhost \
        --a other.localhost 127.0.0.1 --a xmpp.localhost 127.0.0.1 \
        --a dead.localhost 127.0.0.1 --a first.localhost 127.0.0.1
    assert_sent
    assert_srv_query
    [ "$(wc -l <"$D/listen.log")" -eq 1 ] ||
        fail "expected one connection to the listener: $(cat "$D/listen.log")"
    local order
    order=$(awk '$3 == "A" { print $2 }' "$D/dns.log" | uniq | head -n 3 |
        tr '\n' ' ')
    [ "$order" = "first.localhost dead.localhost xmpp.localhost " ] ||
        fail "targets resolved in the order: $order"
}

@test "dns: every target fails: the TLS failure is reported, not the refusal" {
    # Direct TLS at 0 on the listener (closes: handshake fails), STARTTLS
    # at 10 refuses: the reason given is the first target's.
    LISTEN_CLOSES=1 dns_run - 5269 \
        --srv "$SRVS_NAME" 0 0 5269 first.localhost \
        --srv "$SRV_NAME" 10 0 1 dead.localhost \
        --a first.localhost 127.0.0.1 --a dead.localhost 127.0.0.1
    assert_failed 75 'TLS handshake'
    [ "$(wc -l <"$D/listen.log")" -eq 1 ] ||
        fail "expected one connection to the listener: $(cat "$D/listen.log")"
}

@test "dns: --server HOST:5223 is direct TLS without --tls; no SRV lookup" {
    dns_run ok-direct-tls 5223 -- --server 127.0.0.1:5223 -d
    # -d writes the trace to stderr: take it apart from the result
    [ "$status" -eq 0 ] || fail "exit $status: $stderr"
    [[ $stderr == *'direct TLS (XEP-0368)'* ]] ||
        fail "the trace does not say direct TLS: $stderr"
    [[ $stderr != *'<starttls'* ]] || fail "<starttls/> sent: $stderr"
    stderr=
    assert_sent
    ! grep -q ' SRV ' "$D/dns.log" || fail "SRV looked up: $(cat "$D/dns.log")"
}

@test "dns: --tls starttls asks only _xmpp-client, --tls direct only _xmpps-client" {
    # No records at all: the fallback is DOMAIN:5222 (STARTTLS) or
    # DOMAIN:5223 (direct TLS), where the listener logs the connection.
    local kind name port
    for kind in starttls direct; do
        name=$SRV_NAME port=5222
        [ "$kind" = starttls ] || name=$SRVS_NAME port=5223
        rm -f "$D/dns.log" "$D/listen.log" "$D/listen.ready"
        dns_run - "$port" -- --tls "$kind"
        assert_failed 75 'connect|closed|reset'
        local names
        names=$(awk '$3 == "SRV" { print $2 }' "$D/dns.log" | sort -u)
        [ "$names" = "$name" ] || fail "--tls $kind: SRV queries: $names"
        [ "$(wc -l <"$D/listen.log")" -eq 1 ] ||
            fail "--tls $kind: no connection on $port"
    done
}

@test "dns: --serverinfo reports every SRV target in a send's order: priority 10 refused, then priority 20 verified; 0" {
    dns_run "$OK_SCENARIO" - \
        --srv "$SRV_NAME" 20 0 "$PORT" xmpp.localhost \
        --srv "$SRV_NAME" 10 0 1 dead.localhost \
        --a xmpp.localhost 127.0.0.1 --a dead.localhost 127.0.0.1 \
        -- --serverinfo
    [ "$status" -eq 0 ] || { details; fail "exit $status"; }
    assert_srv_query
    local targets
    targets=$(grep -E '^target ' <<<"$output" | tr '\n' '|')
    [[ $targets =~ ^"target 1: dead.localhost:1 (STARTTLS)|target 2: xmpp.localhost:"[0-9]+" (STARTTLS)|"$ ]] ||
        { details; fail "targets: $targets"; }
    assert_match "$output" $'  result: cannot connect to dead\\.localhost port 1[^\n]*\n'
    assert_match "$output" $'\n  verified: yes\n'
    assert_match "$output" $'\n  result: ok$'
}
