#!/usr/bin/env bash
# run.sh - benchmarks of xmppsend against a throwaway Prosody on loopback
# (`make bench`). See bench/README.md for what each number means.
#
#   bash bench/run.sh            everything (about 5 minutes)
#
# Environment: XMPPSEND (binary, default ./xmppsend), BENCH_QUICK=1 (fewer
# runs, for trying the script out; the numbers are then noisier),
# BENCH_BURST=N (processes in the cron burst: 200, or 50 with
# BENCH_QUICK; make check keeps 200 with the quick timings).
#
# The whole measurement runs inside a private network namespace (unshare
# --net: only a loopback interface, no route out), so the peers' SRV/DNS
# look-ups fail at once instead of leaving the machine, and Prosody, the
# peers and xmppsend all talk over the same loopback. Results go to stdout
# and build/bench/summary.txt; raw data (JSON, logs) stays in build/bench/.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOP_DIR="$(cd "$BENCH_DIR/.." && pwd)"
OUT=$TOP_DIR/build/bench
: "${XMPPSEND:=$TOP_DIR/xmppsend}"
: "${BENCH_QUICK:=0}"
export XMPPSEND BENCH_QUICK

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

# ---------------------------------------------------------------- outer part
# Installs nothing itself: deps.sh does, and only when something is missing.
outer() {
    [[ $OUT != *[[:space:]]* ]] || die "the path $OUT contains white space"
    timeout 900 sh "$TOP_DIR/scripts/deps.sh" hyperfine go-sendxmpp sendxmpp \
        xmppc iproute2 util-linux || die "deps.sh failed"
    [[ -x $XMPPSEND ]] || timeout 600 make -C "$TOP_DIR" all >&2 ||
        die "cannot build $XMPPSEND"
    rm -rf "$OUT"
    mkdir -p "$OUT"
    # CPU/RSS meter for single runs (see rusage.c for why not time(1)).
    timeout 60 "${CC:-cc}" -std=c11 -O2 -Wall -Wextra -o "$OUT/xsb-rusage" \
        "$BENCH_DIR/rusage.c" || die "cannot compile bench/rusage.c"
    # The stack's floor for part a2 (see floor.c); none without pkg-config.
    local libs
    libs=$(pkg-config --libs gnutls libxml-2.0 icu-uc) || libs=
    # shellcheck disable=SC2086 # $libs: words
    if [[ -z $libs ]] || ! timeout 60 "${CC:-cc}" -O2 -o "$OUT/xsb-floor" \
        "$BENCH_DIR/floor.c" -Wl,--no-as-needed $libs; then
        say "cannot build bench/floor.c: part a2 goes without the floor row"
    fi
    if timeout 10 unshare --net -- true 2>/dev/null; then
        # Everything below, Prosody included, lives in the new namespace;
        # it disappears with the last process in it.
        exec timeout 1200 unshare --net -- bash "$BENCH_DIR/run.sh" --inner
    fi
    say "cannot create a network namespace (needs root): the peers, which"
    say "look up DNS/SRV records, are not measured; xmppsend runs on loopback"
    BENCH_NO_NETNS=1 exec timeout 1200 bash "$BENCH_DIR/run.sh" --inner
}

# ---------------------------------------------------------------- inner part
# shellcheck source=tests/lib/prosody.bash
source "$TOP_DIR/tests/lib/prosody.bash"

XSB=("timeout" "900" "python3" "$BENCH_DIR/xsbench.py")
export XSB_RUSAGE=$OUT/xsb-rusage
SRV=$OUT/prosody
LOG=$OUT/bench.log
FACTS=$OUT/facts.tsv
PROXY_PID=
XSB_PORT=5222       # Prosody's c2s port (xmppc can only use 5222)
RT_PORT=5224        # Prosody's port behind the relay (not 5223: xmppsend takes that for direct TLS)
RELAY_PORT=5222     # the relay's port during the round-trip runs
XSB_LOGLEVEL=info   # Prosody log level
RT_DELAY_MS=100     # one-way delay of the relay: RTT + 200 ms
TOOLS=(xmppsend go-sendxmpp sendxmpp xmppc)

# The bench's own server settings on top of prosody.bash's config: a fixed
# port, a lower log level during timing, a stanza limit that lets a 1 MiB
# body through (Prosody's default is 256 KiB), and Nagle left on, as every
# real deployment has it (the tests turn it off; users never get that).
eval "$(declare -f prosody_free_port | sed '1s/^prosody_free_port/xsb_free_port/')"
prosody_free_port() { echo "$XSB_PORT"; }
eval "$(declare -f prosody_write_config | sed '1s/^prosody_write_config/xsb_prosody_write_config_orig/')"
prosody_write_config() {
    xsb_prosody_write_config_orig "$@"
    sed -i -e "s/min = \"debug\"/min = \"$XSB_LOGLEVEL\"/" \
        -e '/^VirtualHost/i c2s_stanza_size_limit = 4 * 1024 * 1024 -- bench: 1 MiB bodies' \
        -e '/^network_settings = { nagle = false }/d' \
        "$1/prosody.cfg.lua"
}

fact() { printf '%s\t%s\n' "$1" "$2" >>"$FACTS"; }

store() { prosody_lua "$SRV/data" "$@" <"$BENCH_DIR/store.lua"; }

cleanup() {
    stop_proxy
    prosody_stop "$SRV"
}

start_server() { # PORT LOGLEVEL
    XSB_PORT=$1 XSB_LOGLEVEL=$2
    prosody_start "$SRV" >>"$LOG" 2>&1 || {
        tail -n 20 "$LOG" >&2
        die "Prosody did not start"
    }
}

start_proxy() { # DELAY_MS: 127.0.0.1:RELAY_PORT -> Prosody
    rm -f "$OUT/proxy.ready"
    timeout 900 python3 "$BENCH_DIR/xsbench.py" proxy "$RELAY_PORT" "$PROSODY_PORT" \
        "$1" "$OUT/proxy.ready" 2>>"$LOG" &
    PROXY_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s $OUT/proxy.ready ]] && return 0
        sleep 0.05
    done
    die "the delaying relay did not start"
}

stop_proxy() {
    [[ -n $PROXY_PID ]] || return 0
    kill -TERM "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=
}

# tool_cmd TOOL PORT BODY: the command line of one send as the array CMD.
# Every client sends BODY from alice to sink@localhost with the password on
# the command line and the test CA as its only trust anchor.
tool_cmd() {
    local tool=$1 port=$2 body=$3
    case $tool in
    xmppsend)
        CMD=("$XMPPSEND" -j alice@localhost -p alice-pw
            --server "127.0.0.1:$port" --cafile "$PROSODY_CA" -m "$body"
            sink@localhost) ;;
    go-sendxmpp) # CA via SSL_CERT_FILE
        printf %s "$body" >"$OUT/body-$tool.txt"
        CMD=(go-sendxmpp -u alice@localhost -p alice-pw -j "localhost:$port"
            -m "$OUT/body-$tool.txt" sink@localhost) ;;
    sendxmpp) # -t: STARTTLS; -a: CA file (a directory works too)
        printf %s "$body" >"$OUT/body-$tool.txt"
        CMD=(sendxmpp -t -u alice -p alice-pw -j "localhost:$port"
            -a "$PROSODY_CA" -m "$OUT/body-$tool.txt" sink@localhost) ;;
    xmppc) # no server option: SRV, then localhost:5222; CA via SSL_CERT_FILE
        CMD=(xmppc -j alice@localhost -p alice-pw -m message chat
            sink@localhost "$body") ;;
    esac
}

# sink_count BODY: how many of sink's offline messages have this body
sink_count() {
    local n
    n=$(store bodies sink | grep -cxF -- "$1") || true
    echo "${n:-0}"
}

declare -A STATUS REASON

# a. cost of one send -----------------------------------------------------
part_a_wall() {
    local tool runs warm before after hf
    for tool in "${TOOLS[@]}"; do
        [[ ${STATUS[$tool]} == ok ]] || continue
        case $tool in
        xmppsend | go-sendxmpp) runs=30 warm=3 ;;
        sendxmpp) runs=10 warm=1 ;;
        xmppc) runs=3 warm=0 ;; # it sleeps 10 s before closing
        esac
        [[ $BENCH_QUICK == 1 ]] && runs=$(((runs + 4) / 5)) warm=$((warm > 0))
        tool_cmd "$tool" "$PROSODY_PORT" "cost-$tool"
        before=$(sink_count "cost-$tool")
        say "a. $tool: $runs runs (+$warm warm-up) with hyperfine"
        hf=$OUT/hf-$tool.json
        # -N: no shell between hyperfine and the client
        if ! timeout 600 hyperfine -N --style basic --runs "$runs" \
            --warmup "$warm" --export-json "$hf" -- "${CMD[*]}" >>"$LOG" 2>&1; then
            STATUS[$tool]=failed REASON[$tool]="hyperfine run failed (see $LOG)"
            continue
        fi
        after=$(sink_count "cost-$tool")
        fact "stored.$tool" "$((after - before))"
        fact "expected.$tool" "$((runs + warm))"
        if ((after - before != runs + warm)); then
            STATUS[$tool]=failed
            REASON[$tool]="only $((after - before)) of $((runs + warm)) messages reached the server"
        fi
    done
}

# a2. CPU per send with the clients taking turns: part a runs each client's
# series on its own, minutes apart, and xmppc only 3 times (it sleeps 10 s
# before closing); here every round runs each client once, so that a change
# in the machine's load hits all of them alike. Each message is counted in
# the server's store.
part_a_rounds() {
    local tool n=12 spec=$OUT/rounds.tsv
    ROUNDS_OK=1
    [[ $BENCH_QUICK == 1 ]] && n=4
    : >"$spec"
    declare -A before
    for tool in "${TOOLS[@]}"; do
        [[ ${STATUS[$tool]} == ok ]] || continue
        tool_cmd "$tool" "$PROSODY_PORT" "cpu-$tool"
        before[$tool]=$(sink_count "cpu-$tool")
        (IFS=$'\t' && printf '%s\t%s\n' "$tool" "${CMD[*]}") >>"$spec"
    done
    [[ ! -x $OUT/xsb-floor ]] || printf 'floor\t%s\n' "$OUT/xsb-floor" >>"$spec"
    say "a2. CPU: $n rounds of ${!before[*]}"
    "${XSB[@]}" rounds "$n" "$OUT/rounds.json" "$spec" >>"$LOG" 2>&1 ||
        say "a2. some runs failed (see $OUT/rounds.json)"
    local stored
    for tool in "${!before[@]}"; do
        stored=$(($(sink_count "cpu-$tool") - before[$tool]))
        fact "rounds.stored.$tool" "$stored"
        if [[ $tool == xmppsend ]] && ((stored != n)); then
            ROUNDS_OK=0
            say "a2. xmppsend: $stored of $n messages reached the server"
        fi
    done
}

# Round trips: every tool runs through a relay on 127.0.0.1:5222 that holds
# each chunk RT_DELAY_MS in each direction, once with no delay and once
# with it. The extra wall time divided by the added RTT is the number of
# times the client waited for the server.
part_a_roundtrips() {
    local delay tool k logpos proto
    for delay in 0 "$RT_DELAY_MS"; do
        "${XSB[@]}" calibrate "$delay" "$OUT/calibrate$delay.json"
        start_proxy "$delay"
        for tool in "${TOOLS[@]}"; do
            [[ ${STATUS[$tool]} == ok ]] || continue
            case $tool in
            xmppsend | go-sendxmpp) k=5 ;;
            sendxmpp) k=3 ;;
            xmppc) k=1 ;;
            esac
            [[ $BENCH_QUICK == 1 ]] && k=1
            say "a. $tool: $k runs through the relay, ${delay} ms each way"
            tool_cmd "$tool" "$RELAY_PORT" "rt-$tool"
            logpos=$(stat -c %s "$SRV/log/prosody.log")
            "${XSB[@]}" runs "$k" "$OUT/rt$delay-$tool.json" -- "${CMD[@]}" ||
                say "a. $tool: a run exited non-zero (see $OUT/rt$delay-$tool.json)"
            if [[ $delay == 0 ]]; then
                # What was negotiated, from the server's debug log.
                proto=$(tail -c +"$((logpos + 1))" "$SRV/log/prosody.log" |
                    sed -n -e 's/.*Stream encrypted (\([^ ]*\) with \([^)]*\)).*/\1 \2/p' \
                        -e "s/.*Received\[c2s_unauthed\]: <auth .*mechanism='\([^']*\)'.*/\1/p" |
                    awk '!seen[$0]++' | paste -sd' ' -)
                fact "proto.$tool" "${proto:-unknown}"
            fi
        done
        stop_proxy
    done
}

check_peers() {
    local tool
    for tool in "${TOOLS[@]}"; do
        STATUS[$tool]=ok
        if [[ $tool != xmppsend && -n ${BENCH_NO_NETNS:-} ]]; then
            STATUS[$tool]=skipped
            REASON[$tool]="no private network namespace (needs root)"
        elif ! command -v "${tool/xmppsend/$XMPPSEND}" >/dev/null; then
            STATUS[$tool]=skipped REASON[$tool]="not installed"
        fi
    done
}

# b. cron burst -------------------------------------------------------------
part_b() {
    local n=200 i rcpt prefix=burst-$RUNID-
    [[ $BENCH_QUICK == 1 ]] && n=50
    [[ ${BENCH_BURST-} =~ ^[1-9][0-9]{0,3}$ ]] && n=$BENCH_BURST
    : >"$OUT/burst-args.txt"
    for ((i = 1; i <= n; i++)); do
        if ((i % 2)); then rcpt=bob; else rcpt=carol; fi
        printf -- '-m %s%d %s@localhost\n' "$prefix" "$i" "$rcpt" \
            >>"$OUT/burst-args.txt"
    done
    say "b. cron burst: $n processes at once"
    BURST_OK=1
    "${XSB[@]}" burst "$OUT/burst.json" "$OUT/burst-args.txt" -- \
        timeout 60 "$XMPPSEND" -q -j alice@localhost -p alice-pw \
        --server "127.0.0.1:$PROSODY_PORT" --cafile "$PROSODY_CA" || BURST_OK=0
    store bodies bob >"$OUT/bodies-bob.txt"
    store bodies carol >"$OUT/bodies-carol.txt"
    "${XSB[@]}" verify-burst "$n" "$prefix" "$OUT/bodies-bob.txt" \
        "$OUT/bodies-carol.txt" >"$OUT/burst-verify.txt" || BURST_OK=0
    fact burst.verify "$(cat "$OUT/burst-verify.txt")"
}

# c. 1 MiB body on stdin ----------------------------------------------------
part_c() {
    local want got
    say "c. 1 MiB body on stdin"
    "${XSB[@]}" bigbody 1048576 "$OUT/big.txt"
    BIG_OK=1
    "${XSB[@]}" runs 1 "$OUT/big.json" --stdin "$OUT/big.txt" -- \
        "$XMPPSEND" -j alice@localhost -p alice-pw \
        --server "127.0.0.1:$PROSODY_PORT" --cafile "$PROSODY_CA" \
        bob@localhost || BIG_OK=0
    want=$(sha256sum <"$OUT/big.txt" | cut -d' ' -f1)
    got=$(store lastbody bob | sha256sum | cut -d' ' -f1)
    if [[ $want == "$got" ]]; then
        fact big.verify "identical to the input (sha256 ${want:0:16}...)"
    else
        BIG_OK=0
        fact big.verify "DIFFERS: input sha256 $want, stored $got"
    fi
}

# d. 1,000 recipients in one run --------------------------------------------
part_d() {
    local n=1000 i rcpts=() body=fanout-$RUNID sent
    say "d. one run with $n recipients"
    for ((i = 1; i <= n; i++)); do
        rcpts+=("$(printf 'r%04d@localhost' "$i")")
    done
    FAN_OK=1
    "${XSB[@]}" runs 1 "$OUT/fanout.json" -- "$XMPPSEND" -j alice@localhost \
        -p alice-pw --server "127.0.0.1:$PROSODY_PORT" \
        --cafile "$PROSODY_CA" -m "$body" "${rcpts[@]}" || FAN_OK=0
    sent=$(grep -c '^sent	r[0-9]*@localhost	' "$OUT/fanout.json.stdout.0") || true
    fact fanout.recipients "$n"
    fact fanout.sent_lines "${sent:-0}"
    [[ ${sent:-0} == "$n" ]] || FAN_OK=0
    fact fanout.verify "$(store fanout "$n" "$body")"
    [[ $(store fanout "$n" "$body") == "once=$n missing=0 duplicated=0" ]] || FAN_OK=0
}

inner() {
    [[ -z ${BENCH_NO_NETNS:-} ]] && ip link set lo up
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    : >"$LOG"
    : >"$FACTS"
    RUNID=$(date +%s)-$$
    # A private HOME: no user configuration of any client leaks in.
    export HOME=$OUT/home
    mkdir -p "$HOME/.config"
    : >"$HOME/.config/xmppc.conf" # xmppc refuses to run without one
    unset XDG_CONFIG_HOME XMPPSEND_JID XMPPSEND_PASSWORD
    if [[ -n ${BENCH_NO_NETNS:-} ]]; then # shared loopback: free ports
        XSB_PORT=$(xsb_free_port) RT_PORT=$(xsb_free_port)
        RELAY_PORT=$(xsb_free_port)
    fi

    fact date "$(date -u '+%Y-%m-%d %H:%M UTC')"
    fact xmppsend "$("$XMPPSEND" -V | paste -sd' ' -)"
    fact prosody "$(dpkg-query -W -f='${Version}' prosody 2>/dev/null)"
    fact peers "$(dpkg-query -W -f='${Package} ${Version}, ' go-sendxmpp sendxmpp xmppc 2>/dev/null | sed 's/, $//')"
    fact cpu "$(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
    fact kernel "Linux $(uname -r)"
    fact load "at start: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
    if [[ -n ${BENCH_NO_NETNS:-} ]]; then
        fact namespace "none (no root): shared loopback, peers skipped"
    else
        fact namespace "private (unshare --net), loopback only"
    fi

    # 1,000 extra accounts (and "sink") written before the server starts.
    say "writing 1001 accounts with Prosody's own storage code"
    mkdir -p "$SRV/data"
    store accounts 1000

    check_peers
    start_server "$XSB_PORT" info
    export SSL_CERT_FILE=$PROSODY_CA # go-sendxmpp, xmppc (OpenSSL, Go)
    fact nagle "$(grep -o 'network_settings = {[^}]*}' "$PROSODY_CFG" || echo 'nagle left on (Prosody default)')"
    fact loglevel "info while timing; debug during the round-trip runs"
    part_a_wall
    part_a_rounds
    # Round trips: Prosody moves to 5224 behind the relay on 5222.
    prosody_stop "$SRV"
    start_server "$RT_PORT" debug
    export SSL_CERT_FILE=$PROSODY_CA
    part_a_roundtrips
    prosody_stop "$SRV"
    start_server "$XSB_PORT" info
    local tool
    for tool in "${TOOLS[@]}"; do
        fact "status.$tool" "${STATUS[$tool]}"
        fact "reason.$tool" "${REASON[$tool]:-}"
    done
    part_b
    part_c
    part_d
    prosody_stop "$SRV"

    local verdict=ok
    [[ $BURST_OK == 1 && $BIG_OK == 1 && $FAN_OK == 1 && $ROUNDS_OK == 1 ]] || verdict=FAILED
    [[ ${STATUS[xmppsend]} == ok ]] || verdict=FAILED
    fact load "$(grep -P '^load\t' "$FACTS" | cut -f2); at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    fact verdict "$verdict"
    fact rt_delay_ms "$RT_DELAY_MS"
    "${XSB[@]}" summary "$OUT" | tee "$OUT/summary.txt"
    [[ $verdict == ok ]]
}

if [[ ${1:-} == --inner ]]; then
    inner
else
    outer
fi
