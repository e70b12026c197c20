#!/usr/bin/env bash
# rt.sh - round trips per send with 50 ms round-trip time injected on
# loopback (`make bench-rt`). See bench/README.md ("Round trips at 50 ms")
# for what each number means; the results go to bench/RESULTS.md and
# bench/results/ (data, gnuplot scripts, SVG charts).
#
#   bash bench/rt.sh             every server in BENCH_RT_SERVERS
#
# Environment: XMPPSEND (binary, default ./xmppsend), BENCH_RT_SERVERS
# (default "prosody12 ejabberd prosody13 ejabberd24 prosody13nonagle", the
# last a control run; a server whose set-up is not
# available is reported as such), BENCH_RT_RUNS (runs of xmppsend and
# go-sendxmpp per path and delay, default 10), BENCH_RT_TOOLS (default
# "xmppsend xmppsend-scram go-sendxmpp sendxmpp xmppc"; xmppsend-scram is
# xmppsend --no-fast, on the SASL2 servers only), RT_DELAY_MS (one way,
# default 25), BENCH_RT_OUT (where RESULTS.md and results/ are written,
# default bench/), BENCH_RT_NOTE (a line for RESULTS.md, e.g. the commit).
#
# Needs root: everything runs inside a private network namespace (unshare
# --net, loopback only) where an iptables rule sends every TCP and ICMP
# packet on lo to NFQUEUE 0 and bench/delay.c holds each one RT_DELAY_MS
# (each packet passes OUTPUT once, so the round-trip time grows by twice
# that). Not part of `make check`: about 13 minutes with the five servers.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOP_DIR="$(cd "$BENCH_DIR/.." && pwd)"
OUT=$TOP_DIR/build/bench-rt
: "${XMPPSEND:=$TOP_DIR/xmppsend}"
: "${BENCH_RT_SERVERS:=prosody12 ejabberd prosody13 ejabberd24 prosody13nonagle}"
: "${BENCH_RT_RUNS:=10}"
: "${BENCH_RT_TOOLS:=xmppsend xmppsend-scram go-sendxmpp sendxmpp xmppc}"
: "${RT_DELAY_MS:=25}"
: "${BENCH_RT_OUT:=$BENCH_DIR}"
export XMPPSEND BENCH_RT_SERVERS BENCH_RT_RUNS BENCH_RT_TOOLS RT_DELAY_MS \
    BENCH_RT_OUT

say() { printf 'bench-rt: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

# ---------------------------------------------------------------- outer part
outer() {
    [[ $OUT != *[[:space:]]* ]] || die "the path $OUT contains white space"
    [[ $(id -u) == 0 ]] || die "needs root (a network namespace and iptables)"
    timeout 900 sh "$TOP_DIR/scripts/deps.sh" go-sendxmpp sendxmpp xmppc \
        iproute2 util-linux iptables iputils-ping libnetfilter-queue-dev \
        gnuplot-nox || die "deps.sh failed"
    [[ -x $XMPPSEND ]] || timeout 600 make -C "$TOP_DIR" all >&2 ||
        die "cannot build $XMPPSEND"
    rm -rf "$OUT"
    mkdir -p "$OUT"
    timeout 60 "${CC:-cc}" -std=c11 -O2 -Wall -Wextra -o "$OUT/xsb-rusage" \
        "$BENCH_DIR/rusage.c" || die "cannot compile bench/rusage.c"
    # shellcheck disable=SC2046 # pkg-config prints several words
    timeout 60 "${CC:-cc}" -std=c11 -O2 -Wall -Wextra -o "$OUT/xsb-delay" \
        "$BENCH_DIR/delay.c" $(pkg-config --cflags --libs libnetfilter_queue) ||
        die "cannot compile bench/delay.c"
    exec timeout 3000 unshare --net -- bash "$BENCH_DIR/rt.sh" --inner
}

# ---------------------------------------------------------------- inner part
# shellcheck source=tests/lib/prosody.bash
source "$TOP_DIR/tests/lib/prosody.bash"
# shellcheck source=tests/lib/ejabberd.bash
source "$TOP_DIR/tests/lib/ejabberd.bash"

XSB=("timeout" "900" "python3" "$BENCH_DIR/xsbench.py")
export XSB_RUSAGE=$OUT/xsb-rusage
LOG=$OUT/bench.log
FACTS=$OUT/facts.tsv
INDEX=$OUT/index.tsv
DELAY_PID=
DELAY_SIG_PID=
SRV_STOP=
read -r -a ALL_TOOLS <<<"$BENCH_RT_TOOLS"
TOOLS=("${ALL_TOOLS[@]}") # a server may measure fewer (the control run)
SASL2= # 1 while a server with SASL2 runs: xmppsend-scram measured there

fact() { printf '%s\t%s\n' "$1" "$2" >>"$FACTS"; }

# The first port a server asks for is 5222 (xmppc cannot be told another),
# the others are free ones.
xsb_port() {
    if [[ ! -e $OUT/port-given ]]; then
        : >"$OUT/port-given"
        echo 5222
    else
        timeout 10 python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
    fi
}
prosody_free_port() { xsb_port; }
ejabberd_free_port() { xsb_port; }
# Prosody as deployed: Nagle on (the tests turn it off), log level info.
eval "$(declare -f prosody_write_config | sed '1s/^prosody_write_config/xsb_prosody_write_config_orig/')"
# XSB_NAGLE_OFF=1: keep "nagle = false" (the control run, not as deployed).
prosody_write_config() {
    xsb_prosody_write_config_orig "$@"
    sed -i -e 's/min = "debug"/min = "info"/' "$1/prosody.cfg.lua"
    [[ ${XSB_NAGLE_OFF-} == 1 ]] ||
        sed -i -e '/^network_settings = { nagle = false }/d' "$1/prosody.cfg.lua"
}

store() { prosody_lua "$OUT/prosody12/data" "$@" <"$BENCH_DIR/store.lua"; }

start_delay() { # ONE_WAY_MS PACKET_LOG
    stop_delay
    rm -f "$OUT/delay.ready"
    # Real-time priority: the wire must not queue behind the clients, the
    # server and whatever else loads the machine (at 0 ms every packet
    # would otherwise wait for a CPU, tens of ms per send under load).
    timeout 3000 chrt -f 50 "$OUT/xsb-delay" -r "$OUT/delay.ready" \
        -l "$2" "$1" 2>>"$LOG" &
    DELAY_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        if [[ -s $OUT/delay.ready ]]; then
            # its own pid (timeout is DELAY_PID): SIGUSR1/SIGUSR2 go there
            DELAY_SIG_PID=$(<"$OUT/delay.ready")
            [[ $DELAY_SIG_PID =~ ^[0-9]+$ ]] && return 0
        fi
        sleep 0.05
    done
    die "bench/delay.c did not start (see $LOG)"
}

no_delay() { kill -USR1 "$DELAY_SIG_PID"; }
with_delay() { kill -USR2 "$DELAY_SIG_PID"; }

stop_delay() {
    [[ -n $DELAY_PID ]] || return 0
    kill -TERM "$DELAY_PID" 2>/dev/null || true
    wait "$DELAY_PID" 2>/dev/null || true
    DELAY_PID=
}

cleanup() {
    [[ -z $SRV_STOP ]] || $SRV_STOP || true
    stop_delay
}

# ping_rtt: the average RTT of 5 pings in ms
ping_rtt() {
    timeout 30 ping -n -q -c 5 -i 0.2 127.0.0.1 |
        sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p'
}

# Servers. server_NAME_start starts it (with the delay at 0), sets PATHS
# ("NAME TLS PORT" per path), CA, SRV_STOP, and COUNT (a command printing
# how many messages sink@localhost has stored). A new server is one more
# such function and its name in BENCH_RT_SERVERS.
server_prosody12_start() {
    local dir=$OUT/prosody12
    # prosody13.bash, once sourced, makes prosody.bash run Prosody 13
    [[ -z ${PROSODY13_LIB_DIR-} ]] || die "list prosody12 before prosody13"
    mkdir -p "$dir/data"
    say "prosody12: writing 1001 accounts with Prosody's own storage code"
    store accounts 1000
    PROSODY_DIRECT_TLS=1 prosody_start "$dir" >>"$LOG" 2>&1 ||
        die "Prosody 0.12 did not start (see $LOG)"
    fact "server.prosody12" "Prosody $(dpkg-query -W -f='${Version}' prosody), Nagle on, internal_hashed (SCRAM-SHA-1, PLAIN)"
    PATHS=("prosody12-starttls starttls $PROSODY_PORT"
        "prosody12-direct direct $PROSODY_DTLS_PORT")
    CA=$PROSODY_CA SRV_STOP="prosody_stop $dir" COUNT=prosody12_count
    FANOUT_PATH=prosody12-starttls
}
prosody12_count() { store bodies sink | wc -l; }

server_ejabberd_start() {
    local dir=$OUT/ejabberd
    [[ -z ${EJABBERD24_LIB_DIR-} ]] || die "list ejabberd before ejabberd24"
    ejabberd_start "$dir" >>"$LOG" 2>&1 || die "ejabberd did not start (see $LOG)"
    ejabberd_register "$dir" sink sink-pw >/dev/null || die "cannot register sink"
    fact "server.ejabberd" "ejabberd $(dpkg-query -W -f='${Version}' ejabberd), TCP_NODELAY"
    PATHS=("ejabberd-starttls starttls $EJABBERD_PORT")
    CA=$EJABBERD_CA SRV_STOP="ejabberd_stop $dir" COUNT=ejabberd_count
    FANOUT_PATH=
}
ejabberd_count() { ejabberd_offline_count "$OUT/ejabberd" sink; }

# Prosody 13 and ejabberd 24.12 (SASL2, Bind2, FAST) from Debian 12's
# backports: tests/lib/prosody13.bash and ejabberd24.bash (make backports)
# make prosody.bash and ejabberd.bash run them. Sourced only here, after
# the servers above, since they put the backports first on PATH. Without
# them: "not measured". With a FAST token kept in XDG_STATE_HOME from the
# warm-up run, xmppsend's recorded runs are FAST logins.
server_prosody13_start() {
    local lib=$TOP_DIR/tests/lib/prosody13.bash dir=$OUT/prosody13 why
    [[ -e $lib ]] || return 2
    # shellcheck source=/dev/null
    source "$lib"
    if why=$(prosody13_missing); then
        fact "server.prosody13" "not measured: $why"
        return 3
    fi
    PROSODY_DIRECT_TLS=1 prosody_start "$dir" >>"$LOG" 2>&1 || return 1
    timeout 20 prosodyctl --config "$dir/prosody.cfg.lua" register sink \
        localhost sink-pw </dev/null >>"$LOG" 2>&1 || return 1
    fact "server.prosody13" "Prosody $(timeout 20 prosodyctl --config "$dir/prosody.cfg.lua" about 2>/dev/null | sed -n 's/^Prosody \([0-9][^ ]*\).*/\1/p' | head -n1) (backports), Nagle on, SASL2, Bind2, FAST"
    PATHS=("prosody13-starttls starttls $PROSODY_PORT"
        "prosody13-direct direct $PROSODY_DTLS_PORT")
    CA=$PROSODY_CA SRV_STOP="prosody_stop $dir" COUNT=prosody13_count
    FANOUT_PATH="" SASL2=1
}
prosody13_count() { prosody_offline_messages "$OUT/prosody13" sink | wc -l; }

# The control run (not how Prosody's users run it): the same Prosody 13
# with network_settings = { nagle = false }, xmppsend only. Without Nagle
# Prosody does not hold its answer until the client's ACK of the TLS 1.3
# session ticket: the ACK wait of the Prosody 13 rows goes away.
server_prosody13nonagle_start() {
    local lib=$TOP_DIR/tests/lib/prosody13.bash dir=$OUT/prosody13nonagle why
    [[ -e $lib ]] || return 2
    # shellcheck source=/dev/null
    source "$lib"
    if why=$(prosody13_missing); then
        fact "server.prosody13nonagle" "not measured: $why"
        return 3
    fi
    XSB_NAGLE_OFF=1 PROSODY_NAGLE=0 PROSODY_DIRECT_TLS=1 \
        prosody_start "$dir" >>"$LOG" 2>&1 || return 1
    grep -q '^network_settings = { nagle = false }' "$dir/prosody.cfg.lua" ||
        return 1
    timeout 20 prosodyctl --config "$dir/prosody.cfg.lua" register sink \
        localhost sink-pw </dev/null >>"$LOG" 2>&1 || return 1
    fact "server.prosody13nonagle" "CONTROL, not as deployed: the same Prosody 13 with network_settings = { nagle = false } (TCP_NODELAY), xmppsend only"
    PATHS=("prosody13nonagle-starttls starttls $PROSODY_PORT"
        "prosody13nonagle-direct direct $PROSODY_DTLS_PORT")
    CA=$PROSODY_CA SRV_STOP="prosody_stop $dir" COUNT=prosody13nonagle_count
    FANOUT_PATH="" SASL2=1
    local t
    TOOLS=()
    for t in "${ALL_TOOLS[@]}"; do
        [[ $t != xmppsend* ]] || TOOLS+=("$t")
    done
}
prosody13nonagle_count() {
    prosody_offline_messages "$OUT/prosody13nonagle" sink | wc -l
}

server_ejabberd24_start() {
    local lib=$TOP_DIR/tests/lib/ejabberd24.bash dir=$OUT/ejabberd24 why
    [[ -e $lib ]] || return 2
    # shellcheck source=/dev/null
    source "$lib"
    if why=$(ejabberd24_missing); then
        fact "server.ejabberd24" "not measured: $why"
        return 3
    fi
    EJABBERD_DIRECT_TLS=1 ejabberd_start "$dir" >>"$LOG" 2>&1 || return 1
    ejabberd_register "$dir" sink sink-pw >/dev/null || return 1
    fact "server.ejabberd24" "ejabberd 24.12 (backports), SASL2, Bind2, FAST"
    PATHS=("ejabberd24-starttls starttls $EJABBERD_PORT"
        "ejabberd24-direct direct $EJABBERD_DTLS_PORT")
    CA=$EJABBERD_CA SRV_STOP="ejabberd_stop $dir" COUNT=ejabberd24_count
    FANOUT_PATH="" SASL2=1
}
ejabberd24_count() { ejabberd_offline_count "$OUT/ejabberd24" sink; }

# tool_cmd TOOL TLS PORT BODY: the command line of one send as the array
# CMD, or return 1 when TOOL cannot take this path. "%RUN%" in BODY becomes
# the run's number (xsbench.py).
tool_cmd() {
    local tool=$1 tls=$2 port=$3 body=$4
    case $tool in
    xmppsend)
        CMD=("$XMPPSEND" -j alice@localhost -p alice-pw --tls "$tls"
            --server "127.0.0.1:$port" --cafile "$CA" -m "$body"
            sink@localhost) ;;
    xmppsend-scram) # SASL2 with SCRAM: no FAST token asked for or used
        [[ $SASL2 == 1 ]] || return 1
        CMD=("$XMPPSEND" -j alice@localhost -p alice-pw --tls "$tls"
            --server "127.0.0.1:$port" --cafile "$CA" --no-fast -m "$body"
            sink@localhost) ;;
    go-sendxmpp) # CA via SSL_CERT_FILE; -t: direct TLS
        printf %s "$body" >"$OUT/body-$tool.txt"
        CMD=(go-sendxmpp -u alice@localhost -p alice-pw -j "localhost:$port"
            -m "$OUT/body-$tool.txt")
        [[ $tls == starttls ]] || CMD+=(-t) # options before the recipient
        CMD+=(sink@localhost) ;;
    sendxmpp) # -t: STARTTLS; -a: CA file
        [[ $tls == starttls ]] || return 1
        printf %s "$body" >"$OUT/body-$tool.txt"
        CMD=(sendxmpp -t -u alice -p alice-pw -j "localhost:$port"
            -a "$CA" -m "$OUT/body-$tool.txt" sink@localhost) ;;
    xmppc) # no server option: SRV, then localhost:5222
        [[ $tls == starttls && $port == 5222 ]] || return 1
        CMD=(xmppc -j alice@localhost -p alice-pw -m message chat
            sink@localhost "$body") ;;
    esac
}

runs_for() {
    case $1 in
    xmppsend | xmppsend-scram | go-sendxmpp) echo "$BENCH_RT_RUNS" ;;
    sendxmpp) echo 3 ;;
    xmppc) echo 1 ;; # it sleeps 10 s before closing
    esac
}

# measure PKTLOG: every path and client, runs with and without the delay
# alternating (xsbench.py alternate), so that both see the same load
measure() {
    local pkt=$1 p name tls port tool n before after j0 jd
    for p in "${PATHS[@]}"; do
        read -r name tls port <<<"$p"
        for tool in "${TOOLS[@]}"; do
            [[ $tool == xmppsend* ]] || command -v "$tool" >/dev/null ||
                continue
            tool_cmd "$tool" "$tls" "$port" "rt-$name-$tool-%RUN%" ||
                continue
            n=$(runs_for "$tool")
            j0=$OUT/$name-d0-$tool.json jd=$OUT/$name-d$RT_DELAY_MS-$tool.json
            if [[ $tool != xmppc ]]; then # warm-up, not recorded
                "${XSB[@]}" runs 1 "$OUT/warm.json" -- "${CMD[@]}" || true
            fi
            before=$($COUNT)
            say "$name: $tool, $n runs at 0 and $n at ${RT_DELAY_MS} ms each way"
            "${XSB[@]}" alternate "$n" "$j0" "$jd" "$DELAY_SIG_PID" -- "${CMD[@]}" ||
                say "$name: $tool: a run exited non-zero (see $jd)"
            after=$($COUNT)
            index "$name" "$tool" 0 "$j0" "$pkt" "$port" 0 0
            index "$name" "$tool" "$RT_DELAY_MS" "$jd" "$pkt" "$port" \
                "$((after - before))" "$((2 * n))"
        done
        if [[ $name == "${FANOUT_PATH:-}" ]]; then
            fanout "$name" "$tls" "$port" "$pkt"
        fi
    done
}

index() { # PATH TOOL DELAY JSON PKTLOG PORT STORED EXPECTED
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$INDEX"
}

# fanout PATH TLS PORT PKTLOG: xmppsend to 1000 recipients, 5 runs each way
fanout() {
    local name=$1 tls=$2 port=$3 pkt=$4 i k rcpts=() j0 jd ok=0 v
    for ((i = 1; i <= 1000; i++)); do
        rcpts+=("$(printf 'r%04d@localhost' "$i")")
    done
    j0=$OUT/$name-d0-fanout.json jd=$OUT/$name-d$RT_DELAY_MS-fanout.json
    say "$name: xmppsend to 1000 recipients, 5 runs at 0 and 5 at ${RT_DELAY_MS} ms"
    "${XSB[@]}" alternate 5 "$j0" "$jd" "$DELAY_SIG_PID" -- "$XMPPSEND" \
        -j alice@localhost -p alice-pw --tls "$tls" \
        --server "127.0.0.1:$port" --cafile "$CA" -m "fan-%RUN%" \
        "${rcpts[@]}" || say "$name: fanout: a run exited non-zero (see $jd)"
    for i in 0 1 2 3 4; do
        for k in z d; do
            v=$(store fanout 1000 "fan-$i$k")
            [[ $v != "once=1000 missing=0 duplicated=0" ]] || ok=$((ok + 1000))
            fact "fanout.run$i$k" "$v"
        done
    done
    index "$name" xmppsend-1000 0 "$j0" "$pkt" "$port" 0 0
    index "$name" xmppsend-1000 "$RT_DELAY_MS" "$jd" "$pkt" "$port" "$ok" 10000
}

run_server() {
    local srv=$1 rc=0 pkt=$OUT/$1.pkt
    rm -f "$OUT/port-given"
    start_delay "$RT_DELAY_MS" "$pkt"
    no_delay # while the server starts
    say "$srv: starting"
    "server_${srv}_start" || rc=$?
    if ((rc != 0)); then
        if ((rc == 2)); then
            fact "server.$srv" "not measured: no set-up for it in tests/lib yet"
        elif ((rc != 3)); then # 3: the reason is a fact already
            fact "server.$srv" "not measured: it did not start (see $LOG)"
        fi
        say "$srv: not measured"
        stop_delay
        return 0
    fi
    export SSL_CERT_FILE=$CA # go-sendxmpp, xmppc
    fact "ping.$srv.d0" "$(ping_rtt)"
    with_delay
    fact "ping.$srv.d$RT_DELAY_MS" "$(ping_rtt)"
    say "$srv: ping RTT $(grep -P "^ping.$srv.d$RT_DELAY_MS\t" "$FACTS" | cut -f2) ms"
    measure "$pkt"
    no_delay
    $SRV_STOP >>"$LOG" 2>&1 || true
    SRV_STOP="" SASL2=""
    TOOLS=("${ALL_TOOLS[@]}")
    stop_delay
}

inner() {
    ip link set lo up
    # A held packet stays charged to its socket: with autocorking Linux
    # then holds the sender's next small writes, which no network does.
    sysctl -qw net.ipv4.tcp_autocorking=0
    iptables -w -A OUTPUT -o lo -p tcp -j NFQUEUE --queue-num 0
    iptables -w -A OUTPUT -o lo -p icmp -j NFQUEUE --queue-num 0
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    : >"$LOG"
    : >"$FACTS"
    : >"$INDEX"
    export HOME=$OUT/home
    mkdir -p "$HOME/.config"
    : >"$HOME/.config/xmppc.conf" # xmppc refuses to run without one
    unset XDG_CONFIG_HOME XMPPSEND_JID XMPPSEND_PASSWORD
    export XDG_STATE_HOME=$OUT/state # xmppsend's per-account state

    fact date "$(date -u '+%Y-%m-%d %H:%M UTC')"
    fact xmppsend "$("$XMPPSEND" -V | paste -sd' ' -)"
    fact peers "$(dpkg-query -W -f='${Package} ${Version}, ' go-sendxmpp sendxmpp xmppc 2>/dev/null | sed 's/, $//')"
    fact cpu "$(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
    fact kernel "Linux $(uname -r)"
    fact load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
    [[ -z ${BENCH_RT_NOTE-} ]] || fact note "$BENCH_RT_NOTE"
    fact delay "$RT_DELAY_MS ms each way on every TCP and ICMP packet on lo (NFQUEUE, bench/delay.c); tcp_autocorking $(sysctl -n net.ipv4.tcp_autocorking)"
    local srv
    for srv in $BENCH_RT_SERVERS; do
        declare -F "server_${srv}_start" >/dev/null || die "unknown server $srv"
        run_server "$srv"
    done
    stop_delay
    fact load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
    timeout 300 python3 "$BENCH_DIR/rtreport.py" "$OUT" "$BENCH_RT_OUT"
}

if [[ ${1:-} == --inner ]]; then
    inner
else
    outer
fi
