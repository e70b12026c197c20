#!/bin/bash
# in_netns.bash - run a command in a private network namespace that has
# only a loopback interface, with its own resolver configuration and
# tests/fake/dnsserver.py answering on 127.0.0.1:53.  No query and no
# connection can leave the machine from there.
#
#   in_netns.bash DIR [DNSSERVER-OPTION...] -- COMMAND [ARG...]
#
# Needs root (unshare --net --mount).  In a private mount namespace it
# bind-mounts over /etc:
#   resolv.conf    DIR/resolv.conf when the caller wrote one, else
#                  "nameserver 127.0.0.1" and "search xs-search.invalid"
#                  (so a lookup that wrongly applies the search list shows
#                  up in the DNS log with that suffix)
#   hosts          DIR/hosts when the caller wrote one, else
#                  "127.0.0.1 localhost"
#   nsswitch.conf  "hosts: files dns" (no systemd-resolved, mdns, ...)
# and hides nscd's socket directory, if any.  It then starts
#   dnsserver.py --log DIR/dns.log DNSSERVER-OPTION...
# waits until it is ready, runs COMMAND (with NETNS_DIR=DIR in its
# environment and fd 3 closed, for bats), stops the DNS server by its PID
# and exits with COMMAND's status (125 when the set-up failed).  The
# caller bounds the whole run with timeout; the DNS server is also bounded
# by its own --max-seconds.

set -u

FAKE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ "${1-}" != --inside ]; then
    if [ $# -lt 3 ]; then
        echo "usage: in_netns.bash DIR [DNSSERVER-OPTION...] -- COMMAND..." >&2
        exit 125
    fi
    exec unshare --net --mount --propagation private -- \
        bash "$FAKE_DIR/in_netns.bash" --inside "$@"
fi
shift

dir=$1
shift
dns_opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    dns_opts+=("$1")
    shift
done
[ "${1-}" = -- ] && shift
if [ $# -eq 0 ]; then
    echo "in_netns.bash: no command" >&2
    exit 125
fi

die() {
    printf 'in_netns.bash: %s\n' "$*" >&2
    exit 125
}

# Loopback up: with iproute2 if present, else with the SIOCSIFFLAGS ioctl.
if command -v ip >/dev/null 2>&1; then
    ip link set lo up || die "cannot bring lo up"
else
    python3 -c '
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
req = struct.pack("16sh", b"lo", 0)
flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, req))[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))
' || die "cannot bring lo up"
fi

etc=$dir/etc
mkdir -p "$etc" || die "cannot create $etc"
if [ -f "$dir/resolv.conf" ]; then
    cp "$dir/resolv.conf" "$etc/resolv.conf"
else
    printf 'nameserver 127.0.0.1\nsearch xs-search.invalid\n' \
        >"$etc/resolv.conf"
fi
if [ -f "$dir/hosts" ]; then
    cp "$dir/hosts" "$etc/hosts"
else
    printf '127.0.0.1 localhost\n' >"$etc/hosts"
fi
printf 'hosts: files dns\n' >"$etc/nsswitch.conf"
for f in resolv.conf hosts nsswitch.conf; do
    mount --bind "$etc/$f" "/etc/$f" || die "cannot bind-mount /etc/$f"
done
# A running nscd would answer lookups from outside the namespace.
for d in /run/nscd /var/run/nscd; do
    if [ -d "$d" ]; then
        mount -t tmpfs -o size=64k tmpfs "$d" || die "cannot hide $d"
    fi
done

dns_pid=
stop_dns() {
    if [ -n "$dns_pid" ]; then
        kill "$dns_pid" 2>/dev/null
        wait "$dns_pid" 2>/dev/null
        dns_pid=
    fi
}
trap stop_dns EXIT

rm -f "$dir/dns.ready"
timeout 300 python3 "$FAKE_DIR/dnsserver.py" --log "$dir/dns.log" \
    --ready-file "$dir/dns.ready" --max-seconds 240 "${dns_opts[@]}" \
    >"$dir/dns.out" 2>&1 3>&- &
dns_pid=$!
for ((i = 0; i < 100; i++)); do
    [ -s "$dir/dns.ready" ] && break
    kill -0 "$dns_pid" 2>/dev/null || break
    sleep 0.05
done
[ -s "$dir/dns.ready" ] || die "DNS server did not start: $(cat "$dir/dns.out")"

NETNS_DIR=$dir "$@" 3>&-
rc=$?
stop_dns
exit "$rc"
