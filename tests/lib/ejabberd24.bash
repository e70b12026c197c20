# shellcheck shell=bash
# ejabberd24.bash - ejabberd 24.12 from Debian 12's bookworm-backports,
# unpacked with the erlang-p1-* libraries it needs by scripts/backports.sh
# into build/backports (BACKPORTS_DIR overrides), run by the system's
# Erlang (Debian 12's OTP 25) with ERL_LIBS pointing there first.
# tests/lib/server.bash loads it for SRV_KIND=ejabberd24 (test files named
# ejabberd24-*.bats), after ejabberd.bash, whose functions then run 24.12:
# temp dir, 127.0.0.1, no distribution, saved PID, the same accounts.
# 24.12 has SASL2, Bind2 and inline stream management built in (offered
# only when the stream header after TLS has from=) and FAST with
# mod_auth_fast (enabled here); TLS 1.3. Its mod_http_api is asked for
# version 0 of the commands (23.01's arguments). Known difference: version
# 0 of add_rosteritem takes one group, so the seeded roster of alice has
# the group "Friends;Work" for carol (srv_roster is not for this server).
#
#   ejabberd24_missing   print why ejabberd 24.12 cannot run here and
#                        succeed; fail when it can

EJABBERD24_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${BACKPORTS_DIR:=$(cd "$EJABBERD24_LIB_DIR/../.." && pwd)/build/backports}"

# The directory of BACKPORTS_DIR that holds ejabberd-VERSION/
ejabberd24_dir() {
    local d
    for d in "$BACKPORTS_DIR"/root/usr/lib/*-linux-gnu* "$BACKPORTS_DIR"/root/usr/lib/erlang/lib; do
        if compgen -G "$d/ejabberd-24.*/ebin/ejabberd.app" >/dev/null; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

ejabberd24_missing() {
    local c
    if [[ ! -e $BACKPORTS_DIR/packages ]] || ! ejabberd24_dir >/dev/null; then
        echo "ejabberd 24.12 is not unpacked in $BACKPORTS_DIR (make backports)"
        return 0
    fi
    for c in erl python3 certtool; do
        if ! command -v "$c" >/dev/null 2>&1; then
            echo "$c is not installed"
            return 0
        fi
    done
    return 1
}

if EJABBERD_ERL_LIBS=$(ejabberd24_dir); then
    EJABBERD_ERL_LIBS+=:$BACKPORTS_DIR/root/usr/lib/erlang/lib
    export EJABBERD_ERL_LIBS
fi
export EJABBERD_API_VERSION=0 EJABBERD_MODULES='  mod_auth_fast: {}'
