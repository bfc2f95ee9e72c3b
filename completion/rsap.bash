# SPDX-License-Identifier: MIT
# bash completion for rsap(1).  Self-contained: it reads COMP_WORDS and
# COMP_CWORD only, so it needs nothing from the bash-completion package.

_rsap_commands='explain search list ranges status update export listening who
request review requests approve reject deassign transfer revoke history
pick lease release kernel-reserve audit db import run check help version'

# The commands of the local registry: they take --db, and those that
# change it --as (the option tables in cli/main.c).
_rsap_registry_commands='request review requests approve reject deassign
transfer revoke history pick lease release kernel-reserve audit import check'

# True when $1 is a command of the local registry.
_rsap_is_registry()
{
    [[ " ${_rsap_registry_commands//$'\n'/ } " == *" $1 "* ]]
}

# The options of each command, as cli/cmd_NAME.c parses them.
_rsap_options()
{
    local common='--json --db-dir --help'
    local registry="--db --as $common"
    local reader="--db $common"

    case $1 in
    ranges | status | help | version) echo "$common" ;;
    explain) echo "--full --db $common" ;;
    search) echo "--limit --db $common" ;;
    list) echo "--assigned --reserved --unassigned --proto --db $common" ;;
    update) echo "--from --timeout --allow-any-date $common" ;;
    export) echo "--format --output --local --service --unit --domain --target --db $common" ;;
    listening)
        echo "--proto --tcp --udp --sctp --dccp --port --pid --user --command" \
            "--unregistered --no-process --all-namespaces --netns --container --watch --interval" \
            "--db --at --since --new $common"
        ;;
    who)
        echo "--proto --tcp --udp --sctp --dccp --no-process --all-namespaces --netns" \
            "--container --db $common"
        ;;
    request)
        echo "--port --any --range --proto --description --assignee --contact" \
            "--reference --note --allow-system --over-iana --same-service $registry"
        ;;
    review) echo "--allow-system --over-iana $reader" ;;
    requests) echo "--all $reader" ;;
    approve) echo "--allow-system --over-iana --why $registry" ;;
    reject) echo "--why $registry" ;;
    # revoke shares deassign's table (registry_end_command in cmd_deassign.c).
    deassign | revoke) echo "--why --quarantine $registry" ;;
    transfer) echo "--to --contact --why $registry" ;;
    history) echo "--listening $reader" ;;
    release) echo "$registry" ;;
    pick) echo "--range --proto --count --allow-iana $reader" ;;
    lease) echo "--range --ttl --name --pid $registry" ;;
    kernel-reserve) echo "--apply --file $reader" ;;
    audit) echo "--consistency --full --findings --open --since --port $reader" ;;
    db) echo "--full $reader" ;;
    import) echo "--skip-conflicts $registry" ;;
    run) echo "--as --also --allow-ephemeral --best-effort --dry-run $reader" ;;
    check)
        echo "--service --env-file --ignore --request --assignee --contact --description" \
            "$registry"
        ;;
    esac
}

# True when option $2 of command $1 takes a value in the next word.
_rsap_takes_value()
{
    case $2 in
    --db-dir) return 0 ;;
    esac
    if _rsap_is_registry "$1"; then
        case $2 in
        --db | --as) return 0 ;;
        esac
    fi
    case $1:$2 in
    explain:--db | search:--db | list:--db | export:--db | db:--db) return 0 ;;
    listening:--db | who:--db) return 0 ;;
    search:--limit) return 0 ;;
    list:--proto) return 0 ;;
    update:--from | update:--timeout) return 0 ;;
    export:--format | export:--output | export:--service | export:--unit) return 0 ;;
    export:--domain | export:--target) return 0 ;;
    listening:--port | listening:--pid | listening:--user) return 0 ;;
    listening:--proto | listening:--command | who:--proto) return 0 ;;
    listening:--netns | who:--netns) return 0 ;;
    listening:--at | listening:--since) return 0 ;;
    listening:--interval) return 0 ;;
    listening:--container | who:--container) return 0 ;;
    request:--port | request:--range | request:--proto) return 0 ;;
    request:--description | request:--assignee | request:--contact) return 0 ;;
    request:--reference | request:--note) return 0 ;;
    approve:--why | reject:--why) return 0 ;;
    deassign:--why | deassign:--quarantine) return 0 ;;
    revoke:--why | revoke:--quarantine) return 0 ;;
    transfer:--to | transfer:--contact | transfer:--why) return 0 ;;
    pick:--range | pick:--proto | pick:--count) return 0 ;;
    lease:--range | lease:--ttl | lease:--name | lease:--pid) return 0 ;;
    kernel-reserve:--file) return 0 ;;
    run:--as | run:--also | run:--db) return 0 ;;
    check:--service | check:--env-file | check:--ignore) return 0 ;;
    check:--assignee | check:--contact | check:--description) return 0 ;;
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
    # --db-dir and --db may come before it (cli/main.c moves them after it).
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -- ]]; then
            [[ -z $cmd ]] && cmd=explain
            ended=1
            continue
        fi
        if [[ -z $cmd ]]; then
            case $word in
            --db-dir | --db)
                ((i++))
                [[ ${COMP_WORDS[i]} == = ]] && ((i++))
                ;;
            -*) ;;
            *)
                if [[ " ${_rsap_commands//$'\n'/ } " == *" $word "* ]]; then
                    cmd=$word
                else
                    cmd=explain
                fi
                ;;
            esac
        elif [[ -z $ended ]] && _rsap_takes_value "$cmd" "$word"; then
            ((i++))
            [[ ${COMP_WORDS[i]} == = ]] && ((i++))
        fi
    done

    # The value of an option; free text and numbers get no completion.
    if [[ -z $ended ]] && _rsap_takes_value "${cmd:-explain}" "$prev"; then
        case ${cmd:-explain}:$prev in
        *:--db-dir)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            ;;
        list:--proto | pick:--proto | request:--proto | listening:--proto | who:--proto)
            local head= last=$cur
            if [[ $cur == *,* ]]; then
                head=${cur%,*},
                last=${cur##*,}
            fi
            mapfile -t COMPREPLY < <(compgen -P "$head" -W 'tcp udp sctp dccp' -- "$last")
            ;;
        export:--format)
            mapfile -t COMPREPLY < <(compgen -W 'services csv json systemd nft firewalld srv' -- "$cur")
            ;;
        *:--db | update:--from | export:--output | kernel-reserve:--file)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            ;;
        listening:--user)
            mapfile -t COMPREPLY < <(compgen -u -- "$cur")
            ;;
        listening:--netns | who:--netns)
            local names=
            [[ -d /run/netns ]] && names=$(command ls /run/netns 2>/dev/null)
            mapfile -t COMPREPLY < <(compgen -W "$names" -- "$cur")
            ;;
        esac
        return 0
    fi

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W '--help --version --json --db-dir --db' -- "$cur")
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
    import)
        # The operand: a file another host's `rsap export --local` wrote.
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        ;;
    esac
    return 0
}

complete -F _rsap rsap
