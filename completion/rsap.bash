# SPDX-License-Identifier: MIT
# bash completion for rsap(1).  Self-contained: it reads COMP_WORDS and
# COMP_CWORD only, so it needs nothing from the bash-completion package.

_rsap_commands='explain search list ranges status update export listening who help version'

# The options of each command, as cli/cmd_NAME.c parses them.
_rsap_options()
{
    local common='--json --db-dir --help'

    case $1 in
    explain | ranges | status) echo "$common" ;;
    search) echo "--limit $common" ;;
    list) echo "--assigned --reserved --unassigned --proto $common" ;;
    update) echo "--from $common" ;;
    export) echo "--format --output $common" ;;
    listening)
        echo "--tcp --udp --sctp --dccp --port --pid --user --unregistered" \
            "--no-process $common"
        ;;
    who) echo "--no-process $common" ;;
    esac
}

# True when option $2 of command $1 takes a value in the next word.
_rsap_takes_value()
{
    case $2 in
    --db-dir) return 0 ;;
    esac
    case $1:$2 in
    search:--limit | search:-n) return 0 ;;
    list:--proto) return 0 ;;
    update:--from | update:-f) return 0 ;;
    export:--format | export:-f | export:--output | export:-o) return 0 ;;
    listening:--port | listening:--pid | listening:--user) return 0 ;;
    esac
    return 1
}

_rsap()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=
    local cmd= i word ended=

    COMPREPLY=()
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    # With '=' in COMP_WORDBREAKS, --opt=value arrives as "--opt" "=" "value".
    if [[ $cur == = ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
    fi

    # The command is the first word that is not an option or an option's
    # value; any other first word is a port or a name for `explain`.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -- ]]; then
            [[ -z $cmd ]] && cmd=explain
            ended=1
            continue
        fi
        if [[ -z $cmd ]]; then
            case $word in
            --db-dir) ((i++)) ;;
            -*) ;;
            *)
                if [[ " $_rsap_commands " == *" $word "* ]]; then
                    cmd=$word
                else
                    cmd=explain
                fi
                ;;
            esac
        elif [[ -z $ended ]] && _rsap_takes_value "$cmd" "$word"; then
            ((i++))
        fi
    done

    # The value of an option.
    if [[ -z $ended ]]; then
        case ${cmd:-explain}:$prev in
        *:--db-dir)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return 0
            ;;
        list:--proto)
            local head= last=$cur
            if [[ $cur == *,* ]]; then
                head=${cur%,*},
                last=${cur##*,}
            fi
            mapfile -t COMPREPLY < <(compgen -P "$head" -W 'tcp udp sctp dccp' -- "$last")
            return 0
            ;;
        export:--format | export:-f)
            mapfile -t COMPREPLY < <(compgen -W 'services csv json' -- "$cur")
            return 0
            ;;
        update:--from | update:-f | export:--output | export:-o)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return 0
            ;;
        listening:--user)
            mapfile -t COMPREPLY < <(compgen -u -- "$cur")
            return 0
            ;;
        search:--limit | search:-n | listening:--port | listening:--pid)
            return 0
            ;;
        esac
    fi

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W '--help --version --json --db-dir' -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$_rsap_commands" -- "$cur")
        fi
        return 0
    fi

    if [[ $cur == -* && -z $ended ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_rsap_options "$cmd")" -- "$cur")
        return 0
    fi

    case $cmd in
    help)
        # One operand: the command to describe.
        local n=0
        for ((i = 1; i < COMP_CWORD; i++)); do
            [[ ${COMP_WORDS[i]} != -* ]] && ((n++))
        done
        ((n == 1)) && mapfile -t COMPREPLY < <(compgen -W "$_rsap_commands" -- "$cur")
        ;;
    esac
    return 0
}

complete -F _rsap rsap
