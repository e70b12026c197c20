# bash completion for xmppsend                               -*- shell-script -*-
# SPDX-License-Identifier: MIT
# Options come from `xmppsend --help` (so they never go stale); values
# where they are a closed set or a file.  Recipients are not completed:
# xmppsend never caches a roster.

_xmppsend_options() {
    # One --help per shell; the binary is the one being completed.
    if [[ -z ${_xmppsend_opts-} ]]; then
        _xmppsend_opts=$("$1" --help 2>/dev/null |
            grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z-]*' |
            sed 's/^[ ,]*//' | sort -u | tr '\n' ' ')
    fi
    printf '%s\n' "$_xmppsend_opts"
}

# The account names of the config files (system, then the user's or -f's).
_xmppsend_accounts() {
    local f files=("${XMPPSEND_SYSCONFIG-/etc/xmppsend.conf}"
        "${XDG_CONFIG_HOME:-$HOME/.config}/xmppsend/config" "$HOME/.xmppsendrc")
    for ((f = 1; f < ${#COMP_WORDS[@]} - 1; f++)); do
        case ${COMP_WORDS[f]} in
        -f | --config) files+=("${COMP_WORDS[f + 1]/#\~/$HOME}") ;;
        esac
    done
    for f in "${files[@]}"; do
        [[ -f $f && -r $f ]] &&
            sed -n 's/^[[:space:]]*account[[:space:]]\{1,\}\([^[:space:]:,"#]\{1,\}\).*/\1/p' "$f"
    done 2>/dev/null | sort -u
}

# The domains of the config files' jid lines (for --serverinfo DOMAIN).
_xmppsend_domains() {
    local f
    for f in "${XMPPSEND_SYSCONFIG-/etc/xmppsend.conf}" \
        "${XDG_CONFIG_HOME:-$HOME/.config}/xmppsend/config" "$HOME/.xmppsendrc"; do
        [[ -f $f && -r $f ]] &&
            sed -n 's/^[[:space:]]*jid[[:space:]]\{1,\}"\{0,1\}[^@[:space:]"]*@\([^/[:space:]"]\{1,\}\).*/\1/p' "$f"
    done 2>/dev/null | sort -u
}

_xmppsend() {
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    case $prev in
    -f | --config | --cafile | --cert | --key | --password-file | \
        --message-file | -u | --upload | --log)
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return
        ;;
    --type)
        mapfile -t COMPREPLY < <(compgen -W 'chat normal headline' -- "$cur")
        return
        ;;
    --syslog)
        mapfile -t COMPREPLY < <(compgen -W 'user mail daemon local0 local1
            local2 local3 local4 local5 local6 local7' -- "$cur")
        return
        ;;
    --tls)
        mapfile -t COMPREPLY < <(compgen -W 'direct starttls' -- "$cur")
        return
        ;;
    --serverinfo)
        # DOMAIN: those of the config files' accounts
        [[ $cur == -* ]] || {
            mapfile -t COMPREPLY < <(compgen -W "$(_xmppsend_domains)" -- "$cur")
            return
        }
        ;;
    --mechanism)
        mapfile -t COMPREPLY < <(compgen -W 'SCRAM-SHA-512 SCRAM-SHA-256
            SCRAM-SHA-1 PLAIN DIGEST-MD5 EXTERNAL' -- "$cur")
        return
        ;;
    -a | --account)
        mapfile -t COMPREPLY < <(compgen -W "$(_xmppsend_accounts)" -- "$cur")
        return
        ;;
    --password-command)
        mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        return
        ;;
    -m | --message | -s | --subject | -p | --password | -j | --jid | \
        --pin | --resource | --room-password | --server | --thread | \
        --timeout | --nick | --name | --group | --wait | -c | --chatroom | \
        --password-fd | \
        --roster-add | --roster-remove | --subscribe | --approve | \
        --unsubscribe | --deny)
        return # a value of the user's own
        ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_xmppsend_options "${COMP_WORDS[0]}")" -- "$cur")
    fi
}
complete -F _xmppsend xmppsend
