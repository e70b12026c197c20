#!/bin/bash
# deb-root.sh - install build/deb's package (make deb) with apt into a
# fresh Debian 12 root (mmdebstrap, variant apt: downloads from the
# configured Debian mirror) in build/deb/root, then send a message from
# inside that root, once through the opt-in link
# /usr/libexec/xmppsend/sendxmpp with a ~/.sendxmpprc and once as
# xmppsend, to a throwaway Prosody on 127.0.0.1 (tests/lib/server.bash);
# the proof is what Prosody stored.  Needs root (chroot).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh mmdebstrap
version=$(dpkg-parsechangelog -S Version)
deb=build/deb/xmppsend_${version}_$(dpkg --print-architecture).deb
[ -e "$deb" ] || {
    echo "deb-root.sh: $deb missing: run make deb first" >&2
    exit 66
}
R=$top/build/deb/root
rm -rf "$R"
timeout 1800 mmdebstrap --variant=apt --mode=root \
    --customize-hook="copy-in $deb /tmp" \
    --customize-hook="chroot \"\$1\" apt-get install -y /tmp/$(basename "$deb")" \
    bookworm "$R"

# shellcheck disable=SC2034 # read by tests/lib/server.bash
SRV_KIND=prosody
# shellcheck disable=SC2034 # read by tests/lib/server.bash
BATS_TEST_FILENAME="deb-root"
# shellcheck source=tests/lib/server.bash
. tests/lib/server.bash
srv=$top/build/deb/srv
rm -rf "$srv"
mkdir -p "$srv"
srv_start "$srv/prosody" >"$srv/start.log" 2>&1
trap 'srv_stop "$srv/prosody"' EXIT
mkdir -p "$R/home/u"
cp "$SRV_CA" "$R/home/u/ca.pem"
(
    umask 077
    printf 'alice@localhost;127.0.0.1:%s alice-pw\n' "$SRV_PORT" \
        >"$R/home/u/.sendxmpprc"
    printf 'alice-pw\n' >"$R/home/u/pw"
)
u="fresh root $RANDOM$RANDOM"
in_root() {
    timeout 60 chroot "$R" env -i HOME=/home/u PATH=/usr/bin:/bin "$@"
}
echo "$u (sendxmpp)" | in_root /usr/libexec/xmppsend/sendxmpp -t \
    -a /home/u/ca.pem bob@localhost
in_root xmppsend --server "127.0.0.1:$SRV_PORT" --cafile /home/u/ca.pem \
    -j alice@localhost --password-file /home/u/pw -m "$u (xmppsend)" \
    bob@localhost
if in_root sh -c 'command -v sendxmpp'; then
    echo "deb-root.sh: sendxmpp is in PATH without being asked for" >&2
    exit 1
fi
stored=$(srv_stored bob)
for how in sendxmpp xmppsend; do
    grep -qF "$u ($how)" <<<"$stored" || {
        echo "deb-root.sh: the message sent as $how was not stored" >&2
        exit 1
    }
done
echo "deb-root.sh: installed in a fresh Debian 12 root; both messages stored"
