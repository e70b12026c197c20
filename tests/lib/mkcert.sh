#!/bin/sh
# mkcert.sh - throwaway test PKI made with GnuTLS certtool.
#   mkcert.sh ca DIR                    DIR/ca.key, DIR/ca.crt
#   mkcert.sh server DIR NAME [KIND]    DIR/NAME.key, DIR/NAME.crt signed by
#                                       DIR/ca.*; KIND: valid (default),
#                                       expired, selfsigned
#   mkcert.sh client DIR JID            DIR/JID.key, DIR/JID.crt: a TLS
#                                       client certificate for JID (in
#                                       XmppAddr and CN), signed by DIR/ca.*
# Keys are ECDSA P-256 so generation takes milliseconds.
set -eu
cmd=$1 dir=$2
umask 077
mkdir -p "$dir"
tmpl=$(mktemp "$dir/tmpl.XXXXXX")
trap 'rm -f "$tmpl"' EXIT
case $cmd in
ca)
    certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
        --outfile "$dir/ca.key" 2>/dev/null
    printf '%s\n' 'cn = "xmppsend test CA"' ca cert_signing_key \
        'expiration_days = 30' > "$tmpl"
    certtool --generate-self-signed --load-privkey "$dir/ca.key" \
        --template "$tmpl" --outfile "$dir/ca.crt" 2>/dev/null
    ;;
server)
    name=$3 kind=${4:-valid}
    certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
        --outfile "$dir/$name.key" 2>/dev/null
    {
        printf 'cn = "%s"\ndns_name = "%s"\n' "$name" "$name"
        printf '%s\n' tls_www_server signing_key encryption_key
        if [ "$kind" = expired ]; then
            printf '%s\n' 'activation_date = "2020-01-01 00:00:00 UTC"' \
                'expiration_date = "2020-02-01 00:00:00 UTC"'
        else
            printf '%s\n' 'expiration_days = 30'
        fi
    } > "$tmpl"
    if [ "$kind" = selfsigned ]; then
        certtool --generate-self-signed --load-privkey "$dir/$name.key" \
            --template "$tmpl" --outfile "$dir/$name.crt" 2>/dev/null
    else
        certtool --generate-certificate --load-privkey "$dir/$name.key" \
            --load-ca-certificate "$dir/ca.crt" \
            --load-ca-privkey "$dir/ca.key" \
            --template "$tmpl" --outfile "$dir/$name.crt" 2>/dev/null
    fi
    ;;
client)
    jid=$3
    certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
        --outfile "$dir/$jid.key" 2>/dev/null
    printf 'cn = "%s"\nxmpp_name = "%s"\n' "$jid" "$jid" > "$tmpl"
    printf '%s\n' tls_www_client signing_key 'expiration_days = 30' >> "$tmpl"
    certtool --generate-certificate --load-privkey "$dir/$jid.key" \
        --load-ca-certificate "$dir/ca.crt" --load-ca-privkey "$dir/ca.key" \
        --template "$tmpl" --outfile "$dir/$jid.crt" 2>/dev/null
    ;;
*)
    echo "usage: mkcert.sh ca DIR | server DIR NAME [valid|expired|selfsigned] | client DIR JID" >&2
    exit 64
    ;;
esac
chmod 644 "$dir"/*.crt
