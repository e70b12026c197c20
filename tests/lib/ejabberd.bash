# shellcheck shell=bash
# ejabberd.bash - a throwaway ejabberd (Debian 12: 23.01) for integration
# tests. Source it, then:
#
#   ejabberd_start DIR           start a node whose whole state lives in DIR
#                                (created): DIR/certs (test CA + localhost
#                                cert), DIR/spool (Mnesia), DIR/log, DIR/home
#                                and the config DIR/ejabberd.yml. It listens
#                                on free ports on 127.0.0.1 only: c2s
#                                (STARTTLS required, stanzas up to 256 KiB
#                                as in Debian's config) and HTTP with
#                                mod_http_api under /api for a few commands
#                                from loopback only; no s2s listener and no
#                                outgoing s2s (s2s_access: none). Erlang
#                                distribution is off: no epmd, no node name,
#                                no distribution port. Accounts
#                                alice/alice-pw, bob/bob-pw, carol/carol-pw
#                                on host "localhost"; the group chat
#                                service "conference.localhost"
#                                (persistent rooms). Exports EJABBERD_DIR,
#                                EJABBERD_PORT, EJABBERD_API_PORT and
#                                EJABBERD_CA (CA certificate to trust).
#                                With EJABBERD_UPLOAD_MAX=BYTES set, it also
#                                serves XEP-0363 uploads (mod_http_upload as
#                                upload.localhost, files up to BYTES) on an
#                                https listener on another free port,
#                                exported as EJABBERD_HTTPS_PORT; URLs are
#                                https://localhost:PORT/upload/...
#                                With EJABBERD_TLS12=1 set, c2s speaks TLS
#                                1.2 only (ejabberd 23.01 binds -PLUS to
#                                tls-unique, which TLS 1.3 lacks).
#                                With EJABBERD_TLS_VERIFY=1 set, the c2s
#                                listener asks for client certificates
#                                (tls_verify, c2s_cafile: the test CA)
#                                and offers SASL EXTERNAL.
#                                With EJABBERD_DIRECT_TLS=1 set, it also
#                                has a direct TLS (XEP-0368) c2s listener
#                                (tls: true) on another free port,
#                                exported as EJABBERD_DTLS_PORT.
#                                EJABBERD_MODULES: more lines of the
#                                modules map ("  mod_x: {}");
#                                EJABBERD_ERL_LIBS: where the node's code
#                                is (ejabberd24.bash; default: ejabberdctl's).
#   ejabberd_stop DIR            stop it by the PID saved at start (TERM,
#                                bounded wait, then KILL); never by name.
#   ejabberd_start_again DIR     start the stopped node of DIR again on the
#                                same ports with the same Mnesia data
#                                (accounts, stored messages); a restart is
#                                ejabberd_stop then this.
#   ejabberd_api DIR COMMAND JSON
#                                call COMMAND of mod_http_api with the JSON
#                                arguments, print the JSON answer; fails
#                                unless the server answers 200.
#   ejabberd_register DIR USER PASSWORD
#   ejabberd_offline_messages DIR USER
#                                print the messages the server stored for
#                                the offline account USER (password
#                                USER-pw), one stanza per line as XML (CR
#                                and LF in text as &#13; and &#10;), in the
#                                server's order.
#   ejabberd_offline_count DIR USER
#                                the number of messages stored for USER
#                                (0 for an account that does not exist).
#   ejabberd_seed_roster DIR USER
#                                give USER (password USER-pw) the fixed
#                                roster below. Can run while USER is online.
#   ejabberd_roster DIR USER     the roster the server stored for USER, one
#                                line per item: JID, name, subscription,
#                                ask, groups (sorted, comma-separated),
#                                tab-separated, sorted by JID.
#
# Seeded roster (the same as prosody.bash's; what `xmppsend --roster` must
# print, in some order):
#   bob@localhost     name "Bob"        both  groups Friends
#   carol@localhost   name "Carol Zoë"  to    groups Friends, Work
#   dave@example.net  no name           none  ask=subscribe, no groups
#
# How the state is read (ejabberd 23.01 keeps it in Mnesia, which only
# the node itself can open, and a node without distribution takes no RPC):
# - accounts, roster items (name, subscription, groups) and the number of
#   stored messages: mod_http_api's register, add_rosteritem, get_roster
#   and get_offline_count;
# - ask=subscribe: no command sets it, so USER sends the subscription
#   request itself with a second client (tests/testclient.py): the server
#   records the pending request, the outgoing stanza bounces (no s2s);
# - the stored messages: 23.01 has no command that returns them, so the
#   second client logs in as the offline account without sending presence
#   and views them with XEP-0013 flexible offline retrieval, which leaves
#   them stored (a later view shows them again).
#
# Facts: `erl -noinput -mnesia dir '"DIR/spool"' -s ejabberd` with
# EJABBERD_CONFIG_PATH, EJABBERD_LOG_PATH, ERL_LIBS (from ejabberdctl:
# /usr/lib/<multiarch> on Debian 12) and HOME set; erl execs beam.smp,
# which stops cleanly on TERM. Starting takes 1-2 s on an idle machine,
# 10-20 s on a busy one. Everything that could hang runs under `timeout`.

EJABBERD_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EJABBERD_CLIENT="$EJABBERD_LIB_DIR/../testclient.py"

# The directory that holds ejabberd-VERSION/, as ejabberdctl sets it.
ejabberd_erl_libs() {
    local ctl libs d
    # EJABBERD_ERL_LIBS: another ejabberd (tests/lib/ejabberd24.bash)
    if [[ -n ${EJABBERD_ERL_LIBS-} ]]; then
        echo "$EJABBERD_ERL_LIBS"
        return 0
    fi
    ctl=$(command -v ejabberdctl 2>/dev/null || echo /usr/sbin/ejabberdctl)
    libs=$(sed -n "s/^ERL_LIBS='\\(.*\\)'\$/\\1/p" "$ctl" 2>/dev/null)
    if [[ -n $libs ]]; then
        echo "$libs"
        return 0
    fi
    for d in /usr/lib/erlang/lib /usr/lib/*-linux-gnu*; do
        if compgen -G "$d/ejabberd-*/ebin/ejabberd.app" >/dev/null; then
            echo "$d"
            return 0
        fi
    done
    echo "ejabberd.bash: ejabberd is not installed" >&2
    return 1
}

# ejabberd_pid_alive PID DIR: PID exists, is not a zombie and runs the node
# of DIR (guards against signalling a recycled PID).
ejabberd_pid_alive() {
    local stat cmd
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $stat != Z* ]] || return 1
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
    [[ $cmd == *"$2/spool"* ]]
}

ejabberd_free_port() {
    timeout 10 python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# ejabberd_upload_listener DIR HTTPS and ejabberd_upload_module DIR HTTPS:
# the config of the upload listener and module (nothing without HTTPS)
ejabberd_upload_listener() {
    [[ -n $2 ]] || return 0
    cat <<EOF
  -
    port: $2
    ip: "127.0.0.1"
    module: ejabberd_http
    tls: true
    request_handlers:
      /upload: mod_http_upload
EOF
}

# ejabberd_dtls_listener DTLS: a direct TLS c2s listener on port DTLS
# (nothing without DTLS)
ejabberd_dtls_listener() {
    [[ -n $1 ]] || return 0
    cat <<EOF
  -
    port: $1
    ip: "127.0.0.1"
    module: ejabberd_c2s
    tls: true
    max_stanza_size: 262144
EOF
}

ejabberd_upload_module() {
    [[ -n $2 ]] || return 0
    cat <<EOF
  mod_http_upload:
    put_url: "https://localhost:$2/upload"
    docroot: "$1/upload"
    max_size: $EJABBERD_UPLOAD_MAX
    thumbnail: false
EOF
}

# ejabberd_tls_verify DIR listener|top: with EJABBERD_TLS_VERIFY=1, the
# config that makes c2s ask for client certificates (nothing otherwise)
ejabberd_tls_verify() {
    [[ ${EJABBERD_TLS_VERIFY-} == 1 ]] || return 0
    if [[ $2 == listener ]]; then
        echo "    tls_verify: true"
    else
        echo "c2s_cafile: \"$1/certs/ca.crt\""
    fi
}

ejabberd_write_config() {
    local dir=$1 port=$2 api=$3 https='' dtls=''
    rm -f "$dir/https-port" "$dir/dtls-port"
    if [[ -n ${EJABBERD_DIRECT_TLS-} ]]; then
        dtls=$(ejabberd_free_port) && [[ $dtls =~ ^[0-9]+$ ]] || return 1
        echo "$dtls" >"$dir/dtls-port"
    fi
    if [[ -n ${EJABBERD_UPLOAD_MAX-} ]]; then
        https=$(ejabberd_free_port) && [[ $https =~ ^[0-9]+$ ]] || return 1
        echo "$https" >"$dir/https-port"
        mkdir -p "$dir/upload"
    fi
    cat >"$dir/ejabberd.yml" <<EOF
# throwaway test server written by tests/lib/ejabberd.bash
hosts:
  - localhost
loglevel: info
log_rotate_count: 0
certfiles:
  - "$dir/certs/localhost.pem"
ca_file: "$dir/certs/ca.crt"
listen:
  -
    port: $port
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
    max_stanza_size: 262144${EJABBERD_TLS12:+
    protocol_options:
      - no_sslv3
      - no_tlsv1_3}
$(ejabberd_tls_verify "$dir" listener)
  -
    port: $api
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
$(ejabberd_upload_listener "$dir" "$https")
$(ejabberd_dtls_listener "$dtls")
s2s_access: none
$(ejabberd_tls_verify "$dir" top)
auth_method: internal
acl:
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  local:
    allow: all
  c2s:
    allow: all
api_permissions:
  "tests from loopback":
    who:
      acl: loopback
    what:
      - register
      - change_password
      - add_rosteritem
      - get_roster
      - get_offline_count
shaper_rules:
  max_user_offline_messages: 100000
modules:
  mod_admin_extra: {}
  mod_disco: {}
  mod_http_api: {}
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_muc:
    host: conference.localhost
    default_room_options:
      persistent: true
  mod_ping: {}
  mod_roster: {}
  mod_stream_mgmt: {}
${EJABBERD_MODULES-}
$(ejabberd_upload_module "$dir" "$https")
EOF
}

# ejabberd_wait_ready DIR PID PORT API: 0 ready, 1 dead or timed out,
# 2 a port was taken meanwhile
ejabberd_wait_ready() {
    local dir=$1 pid=$2 port=$3 api=$4 log=$1/log/ejabberd.log i
    for ((i = 0; i < 1200; i++)); do
        if grep -qE 'Failed to open socket|eaddrinuse' "$log" "$dir/log/stdout.log" 2>/dev/null; then
            return 2
        fi
        if ! ejabberd_pid_alive "$pid" "$dir"; then
            # The VM may write why it stopped just after it is gone.
            sleep 0.5
            grep -qE 'Failed to open socket|eaddrinuse' "$log" \
                "$dir/log/stdout.log" 2>/dev/null && return 2
            return 1
        fi
        # shellcheck disable=SC2016 # $1 is expanded by the inner bash
        if grep -qF "connections at 127.0.0.1:$port for ejabberd_c2s" "$log" 2>/dev/null &&
            grep -qF "connections at 127.0.0.1:$api for ejabberd_http" "$log" 2>/dev/null &&
            timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

ejabberd_start() {
    local dir=$1 port api libs pid child try rc user
    [[ -n $dir ]] || {
        echo "usage: ejabberd_start DIR" >&2
        return 64
    }
    libs=$(ejabberd_erl_libs) || return 1
    mkdir -p "$dir/spool" "$dir/certs" "$dir/log" "$dir/home" || return 1
    dir=$(cd "$dir" && pwd) || return 1
    if [[ $dir == *[\"\\\'$'\n']* ]]; then
        echo "ejabberd_start: unusable directory name: $dir" >&2
        return 64
    fi
    if [[ -e $dir/ejabberd.pid-by-us ]]; then
        echo "ejabberd_start: $dir already has a server (ejabberd_stop first)" >&2
        return 1
    fi
    if [[ ! -e $dir/certs/localhost.pem ]]; then
        timeout 60 sh "$EJABBERD_LIB_DIR/mkcert.sh" ca "$dir/certs" &&
            timeout 60 sh "$EJABBERD_LIB_DIR/mkcert.sh" server "$dir/certs" localhost &&
            (umask 077 && cat "$dir/certs/localhost.crt" \
                "$dir/certs/localhost.key" >"$dir/certs/localhost.pem") ||
            return 1
    fi
    for ((try = 0; try < 3; try++)); do
        port=$(ejabberd_free_port) && [[ $port =~ ^[0-9]+$ ]] || return 1
        api=$(ejabberd_free_port) && [[ $api =~ ^[0-9]+$ ]] || return 1
        [[ $api != "$port" ]] || continue
        ejabberd_write_config "$dir" "$port" "$api"
        : >"$dir/log/ejabberd.log"
        # No -sname/-name: no distribution, so no epmd and no extra port.
        # 3>&-: bats waits for fd 3 to close, a server must not hold it.
        HOME=$dir/home EJABBERD_CONFIG_PATH=$dir/ejabberd.yml \
            EJABBERD_LOG_PATH=$dir/log/ejabberd.log \
            EJABBERD_PID_PATH=$dir/ejabberd.pid ERL_LIBS=$libs \
            ERL_CRASH_DUMP=$dir/log/erl_crash.dump \
            timeout 1800 erl -noinput -mnesia dir "\"$dir/spool\"" -s ejabberd \
            </dev/null >"$dir/log/stdout.log" 2>&1 3>&- &
        pid=$!
        echo "$pid" >"$dir/ejabberd.pid-by-us"
        rc=0
        ejabberd_wait_ready "$dir" "$pid" "$port" "$api" || rc=$?
        [[ $rc -eq 0 ]] && break
        ejabberd_stop "$dir"
        [[ $rc -eq 2 ]] && continue # port taken meanwhile: next ones
        echo "ejabberd_start: server did not come up; log tail:" >&2
        tail -n 20 "$dir/log/stdout.log" "$dir/log/ejabberd.log" >&2
        return 1
    done
    [[ $rc -eq 0 ]] || return 1
    # timeout(1) forwards TERM but not KILL: remember the VM itself too.
    child=$(ps -o pid= --ppid "$pid" | tr -d ' ') || true
    if ejabberd_pid_alive "$child" "$dir"; then
        echo "$child" >"$dir/ejabberd.child-pid-by-us"
    fi
    echo "$port" >"$dir/c2s-port"
    echo "$api" >"$dir/api-port"
    for user in alice bob carol; do
        ejabberd_register "$dir" "$user" "$user-pw" >/dev/null || {
            echo "ejabberd_start: cannot register $user" >&2
            ejabberd_stop "$dir"
            return 1
        }
    done
    export EJABBERD_DIR=$dir EJABBERD_PORT=$port EJABBERD_API_PORT=$api
    export EJABBERD_CA=$dir/certs/ca.crt
    if [[ -e $dir/https-port ]]; then
        EJABBERD_HTTPS_PORT=$(<"$dir/https-port")
        export EJABBERD_HTTPS_PORT
    fi
    if [[ -e $dir/dtls-port ]]; then
        EJABBERD_DTLS_PORT=$(<"$dir/dtls-port")
        export EJABBERD_DTLS_PORT
    fi
}

ejabberd_stop() {
    local dir=$1 pid child i
    [[ -n $dir && -e $dir/ejabberd.pid-by-us ]] || return 0
    pid=$(<"$dir/ejabberd.pid-by-us")
    child=
    [[ -e $dir/ejabberd.child-pid-by-us ]] && child=$(<"$dir/ejabberd.child-pid-by-us")
    if ejabberd_pid_alive "$pid" "$dir"; then
        kill -TERM "$pid" 2>/dev/null || true
    elif ejabberd_pid_alive "$child" "$dir"; then
        kill -TERM "$child" 2>/dev/null || true
    fi
    for ((i = 0; i < 300; i++)); do
        ejabberd_pid_alive "$pid" "$dir" || ejabberd_pid_alive "$child" "$dir" || break
        sleep 0.1
    done
    for i in "$child" "$pid"; do
        if ejabberd_pid_alive "$i" "$dir"; then
            echo "ejabberd_stop: $i ignored TERM, sending KILL" >&2
            kill -KILL "$i" 2>/dev/null || true
        fi
    done
    wait "$pid" 2>/dev/null || true # reap it when it is our child
    rm -f "$dir/ejabberd.pid-by-us" "$dir/ejabberd.child-pid-by-us"
    return 0
}

ejabberd_start_again() {
    local dir=$1 port api libs pid child
    [[ -n $dir && -e $1/ejabberd.yml && -e $1/c2s-port ]] || {
        echo "usage: ejabberd_start_again DIR (of a started node)" >&2
        return 64
    }
    dir=$(cd "$dir" && pwd) || return 1
    [[ ! -e $dir/ejabberd.pid-by-us ]] || {
        echo "ejabberd_start_again: $dir still runs (ejabberd_stop first)" >&2
        return 1
    }
    libs=$(ejabberd_erl_libs) || return 1
    port=$(<"$dir/c2s-port") && api=$(<"$dir/api-port") || return 1
    # The readiness check reads the log: keep the old one aside.
    cat "$dir/log/ejabberd.log" >>"$dir/log/ejabberd.log.old" 2>/dev/null
    : >"$dir/log/ejabberd.log"
    HOME=$dir/home EJABBERD_CONFIG_PATH=$dir/ejabberd.yml \
        EJABBERD_LOG_PATH=$dir/log/ejabberd.log \
        EJABBERD_PID_PATH=$dir/ejabberd.pid ERL_LIBS=$libs \
        ERL_CRASH_DUMP=$dir/log/erl_crash.dump \
        timeout 1800 erl -noinput -mnesia dir "\"$dir/spool\"" -s ejabberd \
        </dev/null >>"$dir/log/stdout.log" 2>&1 3>&- &
    pid=$!
    echo "$pid" >"$dir/ejabberd.pid-by-us"
    ejabberd_wait_ready "$dir" "$pid" "$port" "$api" || {
        echo "ejabberd_start_again: node did not come up on port $port" >&2
        ejabberd_stop "$dir"
        return 1
    }
    child=$(ps -o pid= --ppid "$pid" | tr -d ' ') || true
    if ejabberd_pid_alive "$child" "$dir"; then
        echo "$child" >"$dir/ejabberd.child-pid-by-us"
    fi
}

ejabberd_api() {
    local dir=$1 cmd=$2 json=$3 api
    [[ -n $dir && -n $cmd && -n $json ]] || {
        echo "usage: ejabberd_api DIR COMMAND JSON" >&2
        return 64
    }
    api=$(<"$dir/api-port") || return 1
    # EJABBERD_API_VERSION=N: the commands' version N (24.12 defaults to
    # its newest, whose arguments and answers differ from 23.01's)
    cmd+=${EJABBERD_API_VERSION:+/v$EJABBERD_API_VERSION}
    timeout 60 python3 -c '
import sys, urllib.error, urllib.request
url = "http://127.0.0.1:%s/api/%s" % (sys.argv[1], sys.argv[2])
req = urllib.request.Request(url, data=sys.argv[3].encode(),
                             headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=50) as r:
        sys.stdout.write(r.read().decode() + "\n")
except urllib.error.HTTPError as e:
    sys.stderr.write("ejabberd_api: %s: HTTP %s %s\n"
                     % (sys.argv[2], e.code, e.read().decode()))
    sys.exit(1)
' "$api" "$cmd" "$json"
}

# ejabberd_json KEY VALUE ...: a JSON object of strings
ejabberd_json() {
    timeout 10 python3 -c '
import json, sys
a = sys.argv[1:]
print(json.dumps(dict(zip(a[::2], a[1::2]))))' "$@"
}

ejabberd_register() {
    local dir=$1 user=$2 pw=$3
    [[ -n $dir && -n $user && -n $pw ]] || {
        echo "usage: ejabberd_register DIR USER PASSWORD" >&2
        return 64
    }
    ejabberd_api "$dir" register \
        "$(ejabberd_json user "$user" host localhost password "$pw")"
}

# ejabberd_client DIR USER ARGS...: tests/testclient.py logged in as USER
ejabberd_client() {
    local dir=$1 user=$2 port
    shift 2
    port=$(<"$dir/c2s-port") || return 1
    timeout 60 python3 "$EJABBERD_CLIENT" "$port" "$dir/certs/ca.crt" \
        "$user@localhost" "$user-pw" "$@"
}

ejabberd_offline_messages() {
    local dir=$1 user=$2
    [[ -n $dir && -n $user ]] || {
        echo "usage: ejabberd_offline_messages DIR USER" >&2
        return 64
    }
    ejabberd_client "$dir" "$user" offline
}

ejabberd_offline_count() {
    local dir=$1 user=$2 out
    [[ -n $dir && -n $user ]] || {
        echo "usage: ejabberd_offline_count DIR USER" >&2
        return 64
    }
    out=$(ejabberd_api "$dir" get_offline_count \
        "$(ejabberd_json user "$user" server localhost)") || return 1
    timeout 10 python3 -c '
import json, sys
print(int(json.loads(sys.argv[1])["value"]))' "$out"
}

ejabberd_seed_roster() {
    local dir=$1 user=$2 item c h n g s
    [[ -n $dir && -n $user ]] || {
        echo "usage: ejabberd_seed_roster DIR USER" >&2
        return 64
    }
    # contact|host|nick|groups (";"-separated)|subscription
    for item in 'bob|localhost|Bob|Friends|both' \
        'carol|localhost|Carol Zoë|Friends;Work|to' \
        'dave|example.net|||none'; do
        IFS='|' read -r c h n g s <<<"$item"
        ejabberd_api "$dir" add_rosteritem "$(ejabberd_json localuser "$user" \
            localhost localhost user "$c" host "$h" nick "$n" group "$g" \
            subs "$s")" >/dev/null || return 1
    done
    ejabberd_client "$dir" "$user" subscribe dave@example.net
}

ejabberd_roster() {
    local dir=$1 user=$2 out
    [[ -n $dir && -n $user ]] || {
        echo "usage: ejabberd_roster DIR USER" >&2
        return 64
    }
    out=$(ejabberd_api "$dir" get_roster \
        "$(ejabberd_json user "$user" server localhost)") || return 1
    # One entry per (item, group): merge them.
    timeout 10 python3 -c '
import json, sys
items = {}
for e in json.loads(sys.argv[1]):
    ask = "" if e["ask"] in ("undefined", "none") else e["ask"]
    i = items.setdefault(e["jid"], [e["nick"], e["subscription"], ask, set()])
    if e["group"]:
        i[3].add(e["group"])
for jid in sorted(items):
    name, sub, ask, groups = items[jid]
    print("\t".join([jid, name, sub, ask, ",".join(sorted(groups))]))
' "$out"
}
