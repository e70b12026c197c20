# shellcheck shell=bash
# prosody.bash - a throwaway Prosody (Debian 12: 0.12.3) for integration
# tests and the demo. Source it, then:
#
#   prosody_start DIR            start a server whose whole state lives in DIR
#                                (created): DIR/certs (test CA + localhost
#                                cert), DIR/data, DIR/log/prosody.log, the
#                                config DIR/prosody.cfg.lua. It listens on a
#                                free port on 127.0.0.1 only (c2s, STARTTLS
#                                required, no s2s, no HTTP) and has the
#                                accounts alice/alice-pw, bob/bob-pw and
#                                carol/carol-pw on host "localhost", and
#                                the group chat service
#                                "conference.localhost" (persistent rooms).
#                                Exports PROSODY_DIR, PROSODY_PORT,
#                                PROSODY_CA (CA certificate to trust) and
#                                PROSODY_CFG.
#                                With PROSODY_UPLOAD_MAX=BYTES set, it also
#                                serves XEP-0363 uploads (mod_http_file_share
#                                as upload.localhost, files up to BYTES) over
#                                https on another free port, exported as
#                                PROSODY_HTTPS_PORT; URLs are
#                                https://localhost:PORT/file_share/...
#                                With PROSODY_TLS12=1 set, c2s speaks TLS
#                                1.2 only (then Prosody 0.12 offers
#                                SCRAM-SHA-1-PLUS with tls-unique).
#                                With PROSODY_DIRECT_TLS=1 set, it also
#                                listens for direct TLS (XEP-0368,
#                                c2s_direct_tls_ports) on another free
#                                port, exported as PROSODY_DTLS_PORT.
#                                With PROSODY_NAGLE=1 set, Nagle stays on
#                                (Prosody's default; off otherwise).
#                                PROSODY_MODULES: more modules_enabled
#                                entries ('"a", "b"'); PROSODY_EXTRA_CONFIG:
#                                more global lines (prosody13.bash).
#   prosody_stop DIR             stop it by the PID saved at start (TERM,
#                                bounded wait, then KILL); never by name.
#   prosody_start_again DIR      start the stopped server of DIR again on
#                                the same port with the same data (accounts,
#                                stored messages); a restart is
#                                prosody_stop then this.
#   prosody_offline_messages DIR USER
#                                print the messages the server stored for
#                                the offline account USER, one stanza per
#                                line as XML (newlines in text as &#10;).
#   prosody_seed_roster DIR USER write the fixed roster below for USER with
#                                Prosody's own storage code. Prosody caches
#                                rosters: call it while the server is
#                                stopped or before USER has logged in.
#
# Seeded roster (what `xmppsend --roster` must print, in some order):
#   bob@localhost     name "Bob"        both  groups Friends
#   carol@localhost   name "Carol Zoë"  to    groups Friends, Work
#   dave@example.net  no name           none  ask=subscribe, no groups
#
# Everything that could hang runs under `timeout`. Storage facts (0.12,
# storage = "internal"): DATA/HOST/offline/USER.list holds one
# `item({...});` Lua table per stored stanza; DATA/HOST/roster/USER.dat is
# `return { [false] = { version = N; pending = {} }; ["jid"] = { ... } };`.
# HOST and USER are %-encoded for every byte outside [A-Za-z0-9].

PROSODY_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Prosody's Lua interpreter and source directory, taken from the installed
# scripts so that the storage helpers run the server's own code.
prosody_lua() {
    local bin lua src init
    bin=$(command -v prosody) || {
        echo "prosody.bash: prosody is not installed" >&2
        return 1
    }
    lua=$(sed -n '1s/^#!.*[ /]\(lua[0-9.]*\)[[:space:]]*$/\1/p' "$bin")
    src=$(sed -n "s/^CFG_SOURCEDIR='\\(.*\\)';\$/\\1/p" "$bin")
    # Prosody 13 names its modules prosody.util.*: its loader maps them.
    [[ ! -e ${src:-/usr/lib/prosody}/loader.lua ]] || init="require 'loader'"
    LUA_INIT=${init-} LUA_PATH="${src:-/usr/lib/prosody}/?.lua;;" \
        LUA_CPATH="${src:-/usr/lib/prosody}/?.so;;" \
        timeout 20 "${lua:-lua5.4}" - "$@"
}

# prosody_pid_alive PID CFG: PID exists, is not a zombie and runs CFG
# (guards against signalling a recycled PID).
prosody_pid_alive() {
    local stat cmd
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $stat != Z* ]] || return 1
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
    [[ $cmd == *"$2"* ]]
}

prosody_free_port() {
    timeout 10 python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# prosody_upload_config DIR: with PROSODY_UPLOAD_MAX set, pick the https
# port (DIR/https-port) and print the upload component's config
prosody_upload_config() {
    [[ -n ${PROSODY_UPLOAD_MAX-} ]] || return 0
    local port
    port=$(prosody_free_port) && [[ $port =~ ^[0-9]+$ ]] || return 1
    echo "$port" >"$1/https-port"
    cat <<EOF
Component "upload.localhost" "http_file_share"
http_file_share_size_limit = $PROSODY_UPLOAD_MAX
http_file_share_daily_quota = $((PROSODY_UPLOAD_MAX * 4))
http_host = "localhost"
http_external_url = "https://localhost:$port/"
EOF
}

prosody_write_config() {
    local dir=$1 port=$2 upload https='' dtls='' tls12=''
    local nagle='network_settings = { nagle = false }'
    rm -f "$dir/https-port" "$dir/dtls-port"
    # PROSODY_NAGLE=1: leave Nagle on, as Prosody's users have it
    [[ ${PROSODY_NAGLE-} != 1 ]] || nagle='-- Nagle on (the default)'
    if [[ -n ${PROSODY_TLS12-} ]]; then
        tls12='ssl = { protocol = "tlsv1_2" } -- TLS 1.2 only (-PLUS)'
    fi
    upload=$(prosody_upload_config "$dir") || return 1
    [[ -e $dir/https-port ]] && https=$(<"$dir/https-port")
    if [[ -n ${PROSODY_DIRECT_TLS-} ]]; then
        dtls=$(prosody_free_port) && [[ $dtls =~ ^[0-9]+$ ]] || return 1
        echo "$dtls" >"$dir/dtls-port"
    fi
    cat >"$dir/prosody.cfg.lua" <<EOF
-- throwaway test server written by tests/lib/prosody.bash
run_as_root = true -- test instance only
daemonize = false
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
certificates = "$dir/certs"
admin_socket = "$dir/prosody.sock"
log = { { levels = { min = "debug" }, to = "file", filename = "$dir/log/prosody.log" } }

interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { $port }
c2s_direct_tls_ports = { $dtls }
legacy_ssl_ports = { }
s2s_ports = { }
component_ports = { }
http_ports = { }
https_ports = { $https }
https_interfaces = { "127.0.0.1" }
https_certificate = "$dir/certs/localhost.crt"
https_key = "$dir/certs/localhost.key"
$nagle
$tls12

modules_enabled = { "roster", "saslauth", "tls", "disco", "ping", "offline", "smacks"${PROSODY_MODULES:+, $PROSODY_MODULES} }
${PROSODY_EXTRA_CONFIG-}
modules_disabled = { "s2s" }
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = true
allow_registration = false

VirtualHost "localhost"
$upload

-- group chats (tests/lib/muc.bats): rooms persist, so that what a room
-- holds can be checked after its last occupant left
Component "conference.localhost" "muc"
muc_room_default_persistent = true
EOF
}

# prosody_wait_ready DIR PID PORT: 0 ready, 1 dead or timed out, 2 port busy
prosody_wait_ready() {
    local dir=$1 pid=$2 port=$3 log=$1/log/prosody.log i
    for ((i = 0; i < 100; i++)); do
        prosody_pid_alive "$pid" "$dir/prosody.cfg.lua" || return 1
        if grep -qF "Activated service 'c2s' on no ports" "$log" 2>/dev/null; then
            return 2
        fi
        # shellcheck disable=SC2016 # $1 is expanded by the inner bash
        if grep -qF "Activated service 'c2s' on [127.0.0.1]:$port" "$log" 2>/dev/null &&
            timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

prosody_start() {
    local dir=$1 port pid child try rc user
    [[ -n $dir ]] || {
        echo "usage: prosody_start DIR" >&2
        return 64
    }
    mkdir -p "$dir/data" "$dir/certs" "$dir/log" || return 1
    dir=$(cd "$dir" && pwd) || return 1
    if [[ $dir == *[\"\\$'\n']* ]]; then
        echo "prosody_start: unusable directory name: $dir" >&2
        return 64
    fi
    if [[ -e $dir/prosody.pid-by-us ]]; then
        echo "prosody_start: $dir already has a server (prosody_stop first)" >&2
        return 1
    fi
    if [[ ! -e $dir/certs/localhost.crt ]]; then
        timeout 60 sh "$PROSODY_LIB_DIR/mkcert.sh" ca "$dir/certs" &&
            timeout 60 sh "$PROSODY_LIB_DIR/mkcert.sh" server "$dir/certs" localhost ||
            return 1
    fi
    for ((try = 0; try < 3; try++)); do
        port=$(prosody_free_port) && [[ $port =~ ^[0-9]+$ ]] || return 1
        prosody_write_config "$dir" "$port"
        : >"$dir/log/prosody.log"
        # 3>&-: bats waits for fd 3 to close, a server must not hold it.
        timeout 1800 prosody -F --config "$dir/prosody.cfg.lua" \
            </dev/null >"$dir/log/stdout.log" 2>&1 3>&- &
        pid=$!
        echo "$pid" >"$dir/prosody.pid-by-us"
        rc=0
        prosody_wait_ready "$dir" "$pid" "$port" || rc=$?
        [[ $rc -eq 0 ]] && break
        prosody_stop "$dir"
        [[ $rc -eq 2 ]] && continue # port taken meanwhile: next one
        echo "prosody_start: server did not come up; log tail:" >&2
        tail -n 20 "$dir/log/stdout.log" "$dir/log/prosody.log" >&2
        return 1
    done
    [[ $rc -eq 0 ]] || return 1
    # timeout(1) forwards TERM but not KILL: remember the server itself too.
    child=$(ps -o pid= --ppid "$pid" | tr -d ' ') || true
    if prosody_pid_alive "$child" "$dir/prosody.cfg.lua"; then
        echo "$child" >"$dir/prosody.child-pid-by-us"
    fi
    for user in alice bob carol; do
        timeout 20 prosodyctl --config "$dir/prosody.cfg.lua" \
            register "$user" localhost "$user-pw" </dev/null 3>&- || {
            echo "prosody_start: cannot register $user" >&2
            prosody_stop "$dir"
            return 1
        }
    done
    export PROSODY_DIR=$dir PROSODY_PORT=$port
    if [[ -e $dir/https-port ]]; then
        PROSODY_HTTPS_PORT=$(<"$dir/https-port")
        export PROSODY_HTTPS_PORT
    fi
    if [[ -e $dir/dtls-port ]]; then
        PROSODY_DTLS_PORT=$(<"$dir/dtls-port")
        export PROSODY_DTLS_PORT
    fi
    export PROSODY_CA=$dir/certs/ca.crt PROSODY_CFG=$dir/prosody.cfg.lua
}

prosody_stop() {
    local dir=$1 cfg pid child i
    [[ -n $dir && -e $dir/prosody.pid-by-us ]] || return 0
    cfg=$dir/prosody.cfg.lua
    pid=$(<"$dir/prosody.pid-by-us")
    child=
    [[ -e $dir/prosody.child-pid-by-us ]] && child=$(<"$dir/prosody.child-pid-by-us")
    if prosody_pid_alive "$pid" "$cfg"; then
        kill -TERM "$pid" 2>/dev/null || true
    elif prosody_pid_alive "$child" "$cfg"; then
        kill -TERM "$child" 2>/dev/null || true
    fi
    for ((i = 0; i < 100; i++)); do
        prosody_pid_alive "$pid" "$cfg" || prosody_pid_alive "$child" "$cfg" || break
        sleep 0.1
    done
    for i in "$child" "$pid"; do
        if prosody_pid_alive "$i" "$cfg"; then
            echo "prosody_stop: $i ignored TERM, sending KILL" >&2
            kill -KILL "$i" 2>/dev/null || true
        fi
    done
    wait "$pid" 2>/dev/null || true # reap it when it is our child
    rm -f "$dir/prosody.pid-by-us" "$dir/prosody.child-pid-by-us"
    return 0
}

prosody_start_again() {
    local dir=$1 port pid child
    [[ -n $dir && -e $1/prosody.cfg.lua ]] || {
        echo "usage: prosody_start_again DIR (of a started server)" >&2
        return 64
    }
    dir=$(cd "$dir" && pwd) || return 1
    [[ ! -e $dir/prosody.pid-by-us ]] || {
        echo "prosody_start_again: $dir still runs (prosody_stop first)" >&2
        return 1
    }
    port=$(sed -n 's/^c2s_ports = { \([0-9]*\) }$/\1/p' "$dir/prosody.cfg.lua")
    [[ $port =~ ^[0-9]+$ ]] || return 1
    # The readiness check reads the log: keep the old one aside.
    cat "$dir/log/prosody.log" >>"$dir/log/prosody.log.old" 2>/dev/null
    : >"$dir/log/prosody.log"
    timeout 1800 prosody -F --config "$dir/prosody.cfg.lua" \
        </dev/null >>"$dir/log/stdout.log" 2>&1 3>&- &
    pid=$!
    echo "$pid" >"$dir/prosody.pid-by-us"
    prosody_wait_ready "$dir" "$pid" "$port" || {
        echo "prosody_start_again: server did not come up on port $port" >&2
        prosody_stop "$dir"
        return 1
    }
    child=$(ps -o pid= --ppid "$pid" | tr -d ' ') || true
    if prosody_pid_alive "$child" "$dir/prosody.cfg.lua"; then
        echo "$child" >"$dir/prosody.child-pid-by-us"
    fi
}

prosody_offline_messages() {
    local dir=$1 user=$2
    [[ -n $dir && -n $user ]] || {
        echo "usage: prosody_offline_messages DIR USER" >&2
        return 64
    }
    prosody_lua "$dir/data" "$user" <<'EOF'
local dm = require "util.datamanager"
local st = require "util.stanza"
dm.set_data_path(arg[1])
local items, err = dm.list_load(arg[2], "localhost", "offline")
if err then io.stderr:write("prosody_offline_messages: ", err, "\n"); os.exit(1) end
for _, item in ipairs(items or {}) do
    local xml = tostring(st.deserialize(item))
    io.write((xml:gsub("\r", "&#13;"):gsub("\n", "&#10;")), "\n")
end
EOF
}

prosody_seed_roster() {
    local dir=$1 user=$2
    [[ -n $dir && -n $user ]] || {
        echo "usage: prosody_seed_roster DIR USER" >&2
        return 64
    }
    mkdir -p "$dir/data" || return 1
    prosody_lua "$dir/data" "$user" <<'EOF'
local dm = require "util.datamanager"
dm.set_data_path(arg[1])
local roster = {
    [false] = { version = 1, pending = {} },
    ["bob@localhost"] = {
        name = "Bob", subscription = "both", groups = { Friends = true },
    },
    ["carol@localhost"] = {
        name = "Carol Zo\195\171", subscription = "to",
        groups = { Friends = true, Work = true },
    },
    ["dave@example.net"] = {
        subscription = "none", ask = "subscribe", groups = {},
    },
}
local ok, err = dm.store(arg[2], "localhost", "roster", roster)
if not ok then io.stderr:write("prosody_seed_roster: ", tostring(err), "\n"); os.exit(1) end
EOF
}
