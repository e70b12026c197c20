# shellcheck shell=bash
# server.bash - one view of the throwaway real servers for the shared
# real-server tests (tests/lib/*.bats). A test file is linked as
# tests/KIND-NAME.bats (or tests/KIND.bats): loading this file sets
# SRV_KIND to KIND, prosody or ejabberd (prosody13, ejabberd24: the
# versions from Debian 12's backports), unless it is set already, and
# gives the file the usual hooks (below), which it may define again after
# the load.  Then:
#
#   srv_missing              print the first command SRV_KIND needs that is
#                            not installed and succeed; fail when all are
#   srv_start DIR            start the server in DIR (see prosody.bash,
#                            ejabberd.bash): 127.0.0.1 only, STARTTLS
#                            required, no s2s, accounts alice/alice-pw,
#                            bob/bob-pw, carol/carol-pw on "localhost", and
#                            alice's seeded roster (below). Exports SRV_DIR,
#                            SRV_PORT and SRV_CA (the CA to trust).
#                            With SRV_UPLOAD_MAX=BYTES set, it also serves
#                            XEP-0363 uploads (upload.localhost, files up to
#                            BYTES) over https on 127.0.0.1; SRV_HTTPS_PORT
#                            is its port (URLs: https://localhost:PORT/...,
#                            certificate from SRV_CA).
#                            With SRV_DIRECT_TLS=1 set, it also listens for
#                            direct TLS (XEP-0368) on 127.0.0.1:SRV_DTLS_PORT.
#   srv_stop DIR             stop it by its saved PID
#   srv_start_again DIR      start a stopped server again on the same port
#                            with the same data (srv_stop + this: a restart)
#   srv_stored USER          the messages the server stored for the offline
#                            account USER, one stanza per line as XML (CR
#                            and LF in text as &#13; and &#10;)
#   srv_stored_count USER    how many messages are stored for USER (0 when
#                            the account does not exist)
#   srv_roster USER          the roster the server stored for USER: one line
#                            per item, JID, name, subscription, ask, groups
#                            (sorted, comma-separated), tab-separated,
#                            sorted by JID
#   srv_register USER        create the account USER (password USER-pw)
#
# Seeded roster of alice:
#   bob@localhost     name "Bob"        both  groups Friends
#   carol@localhost   name "Carol Zoë"  to    groups Friends, Work
#   dave@example.net  no name           none  ask=subscribe, no groups

SRV_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -z "${SRV_KIND-}" ]; then
    SRV_KIND=$(basename "$BATS_TEST_FILENAME" .bats)
    SRV_KIND=${SRV_KIND%%-*}
fi
# shellcheck source=tests/lib/prosody.bash
. "$SRV_LIB_DIR/prosody.bash"
# shellcheck source=tests/lib/ejabberd.bash
. "$SRV_LIB_DIR/ejabberd.bash"
# prosody13, ejabberd24: the servers from Debian 12's backports (SASL2,
# Bind2, FAST), run by the functions above; scripts/backports.sh unpacks them
case $SRV_KIND in
prosody13)
    # shellcheck source=tests/lib/prosody13.bash
    . "$SRV_LIB_DIR/prosody13.bash"
    ;;
ejabberd24)
    # shellcheck source=tests/lib/ejabberd24.bash
    . "$SRV_LIB_DIR/ejabberd24.bash"
    ;;
esac

srv_missing() {
    local c cmds
    case ${SRV_KIND-} in
    prosody) cmds="prosody prosodyctl python3 certtool" ;;
    ejabberd) cmds="erl ejabberdctl python3 certtool" ;;
    prosody13) prosody13_missing; return ;;
    ejabberd24) ejabberd24_missing; return ;;
    *)
        echo "SRV_KIND is '${SRV_KIND-}', not prosody(13) or ejabberd(24)"
        return 0
        ;;
    esac
    for c in $cmds; do
        if ! command -v "$c" >/dev/null 2>&1; then
            echo "$c is not installed"
            return 0
        fi
    done
    return 1
}

srv_start() {
    case $SRV_KIND in
    prosody | prosody13)
        PROSODY_UPLOAD_MAX=${SRV_UPLOAD_MAX-} \
            PROSODY_DIRECT_TLS=${SRV_DIRECT_TLS-} prosody_start "$1" || return 1
        # Rosters are cached by the server: seed before alice ever logs in.
        prosody_seed_roster "$PROSODY_DIR" alice || {
            prosody_stop "$1"
            return 1
        }
        export SRV_DIR=$PROSODY_DIR SRV_PORT=$PROSODY_PORT SRV_CA=$PROSODY_CA
        export SRV_HTTPS_PORT=${PROSODY_HTTPS_PORT-}
        export SRV_DTLS_PORT=${PROSODY_DTLS_PORT-}
        ;;
    ejabberd | ejabberd24)
        EJABBERD_UPLOAD_MAX=${SRV_UPLOAD_MAX-} \
            EJABBERD_DIRECT_TLS=${SRV_DIRECT_TLS-} ejabberd_start "$1" || return 1
        ejabberd_seed_roster "$EJABBERD_DIR" alice || {
            ejabberd_stop "$1"
            return 1
        }
        export SRV_DIR=$EJABBERD_DIR SRV_PORT=$EJABBERD_PORT SRV_CA=$EJABBERD_CA
        export SRV_HTTPS_PORT=${EJABBERD_HTTPS_PORT-}
        export SRV_DTLS_PORT=${EJABBERD_DTLS_PORT-}
        ;;
    *) return 64 ;;
    esac
    srv_wait_https "$1"
}

# srv_wait_https DIR: with uploads, wait until the https port takes connections
srv_wait_https() {
    local i
    [[ -n ${SRV_HTTPS_PORT-} ]] || return 0
    for ((i = 0; i < 300; i++)); do
        # shellcheck disable=SC2016 # $1 is expanded by the inner bash
        timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ \
            "$SRV_HTTPS_PORT" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "srv_start: the https port $SRV_HTTPS_PORT never opened" >&2
    srv_stop "$1"
    return 1
}

srv_stop() {
    case $SRV_KIND in
    prosody | prosody13) prosody_stop "$1" ;;
    ejabberd | ejabberd24) ejabberd_stop "$1" ;;
    esac
}

srv_start_again() {
    case $SRV_KIND in
    prosody | prosody13) prosody_start_again "$1" ;;
    ejabberd | ejabberd24) ejabberd_start_again "$1" ;;
    *) return 64 ;;
    esac
}

srv_stored() {
    case $SRV_KIND in
    prosody | prosody13) prosody_offline_messages "$SRV_DIR" "$1" ;;
    ejabberd | ejabberd24) ejabberd_offline_messages "$SRV_DIR" "$1" ;;
    *) return 64 ;;
    esac
}

srv_stored_count() {
    local out
    case $SRV_KIND in
    prosody | prosody13)
        out=$(prosody_offline_messages "$SRV_DIR" "$1") || return 1
        if [[ -z $out ]]; then echo 0; else wc -l <<<"$out"; fi
        ;;
    ejabberd | ejabberd24) ejabberd_offline_count "$SRV_DIR" "$1" ;;
    *) return 64 ;;
    esac
}

srv_roster() {
    case $SRV_KIND in
    prosody | prosody13)
        prosody_lua "$SRV_DIR/data" "$1" <<'EOF'
local dm = require "util.datamanager"
dm.set_data_path(arg[1])
local roster, err = dm.load(arg[2], "localhost", "roster")
if err then io.stderr:write("srv_roster: ", tostring(err), "\n"); os.exit(1) end
local jids = {}
for jid in pairs(roster or {}) do
    if jid then jids[#jids + 1] = jid end
end
table.sort(jids)
for _, jid in ipairs(jids) do
    local item, groups = roster[jid], {}
    for g in pairs(item.groups or {}) do groups[#groups + 1] = g end
    table.sort(groups)
    io.write(table.concat({ jid, item.name or "", item.subscription or "",
        item.ask or "", table.concat(groups, ",") }, "\t"), "\n")
end
EOF
        ;;
    ejabberd | ejabberd24) ejabberd_roster "$SRV_DIR" "$1" ;;
    *) return 64 ;;
    esac
}

srv_register() {
    case $SRV_KIND in
    prosody | prosody13)
        timeout 20 prosodyctl --config "$SRV_DIR/prosody.cfg.lua" \
            register "$1" localhost "$1-pw" </dev/null 3>&-
        ;;
    ejabberd | ejabberd24) ejabberd_register "$SRV_DIR" "$1" "$1-pw" >/dev/null ;;
    *) return 64 ;;
    esac
}

# ---------------------------------------------------------------------
# The shared frame of the real-server .bats files (tests/lib/*.bats):
#
#   srv_file_start     setup_file's part: when something is missing, mark
#                      the file skipped (SRV_SKIP: bats 1.8 cannot skip
#                      from setup_file, so srv_skip_missing does in
#                      setup); else start the server and write alice's
#                      password files (PW_FILE, and BAD_PW_FILE with a
#                      wrong one), mode 600
#   srv_file_stop      teardown_file's part
#   srv_skip_missing   setup's part
#   srv_last_run       teardown's part: the last run, shown when a test
#                      fails
#   xsa ARGS...        xmppsend logged in as alice on the test server
#                      (--timeout XSA_TIMEOUT when that is set)

srv_file_start() {
    if SRV_SKIP=$(srv_missing); then
        export SRV_SKIP
        return 0
    fi
    srv_start "$BATS_FILE_TMPDIR/$SRV_KIND" || return 1
    PW_FILE=$BATS_FILE_TMPDIR/alice.pw
    BAD_PW_FILE=$BATS_FILE_TMPDIR/alice-bad.pw
    (
        umask 077
        printf 'alice-pw\n' >"$PW_FILE"
        printf 'not-alice-pw\n' >"$BAD_PW_FILE"
    )
    export PW_FILE BAD_PW_FILE
}

srv_file_stop() {
    srv_stop "$BATS_FILE_TMPDIR/$SRV_KIND"
}

srv_skip_missing() {
    if [ -n "${SRV_SKIP-}" ]; then skip "$SRV_SKIP"; fi
}

srv_last_run() {
    printf '# last run: status=%s\n# stdout: %s\n# stderr: %s\n' \
        "${status-}" "${output-}" "${stderr-}"
}

xsa() {
    xs --server "127.0.0.1:$SRV_PORT" --cafile "$SRV_CA" \
        -j alice@localhost --password-file "$PW_FILE" \
        ${XSA_TIMEOUT:+--timeout "$XSA_TIMEOUT"} "$@"
}

# The hooks of a real-server file: one server per file, tests skipped
# when it is not installed, the last run shown when a test fails.
setup_file() { srv_file_start; }
teardown_file() { srv_file_stop; }
setup() { srv_skip_missing; }
teardown() { srv_last_run; }
