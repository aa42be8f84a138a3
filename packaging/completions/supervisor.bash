# bash completion for supervisor (supervisorctl, supervisord, pidproxy, echo_supervisord_conf and
# the `supervisor` multicall binary). Printed by `supervisor completions bash`; installed as
# /usr/share/bash-completion/completions/supervisor (symlinked for the other names).
# Process and group names come from the running daemon: `supervisorctl [-c F] [-s URL] avail`,
# quietly, with the connection options already typed on the line.

_supervisor_ctl_commands="add avail clear exit fg help maintail open pid quit reload remove reread restart shutdown signal start status stop tail update version"
_supervisor_signals="HUP INT QUIT KILL USR1 USR2 TERM CONT STOP TSTP WINCH ALRM"

# Bash splits words at ':' (COMP_WORDBREAKS), so `grp:name` arrives as `grp`, `:`, `name`.
# Joins them back into _supervisor_words / _supervisor_cword.
__supervisor_join_words() {
    _supervisor_words=()
    _supervisor_cword=0
    local i w n
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        w=${COMP_WORDS[i]}
        n=${#_supervisor_words[@]}
        if ((i > 0 && n > 0)) && [[ $w == : || ${COMP_WORDS[i - 1]} == : ]]; then
            _supervisor_words[n - 1]+=$w
        else
            _supervisor_words+=("$w")
        fi
        if ((i == COMP_CWORD)); then
            _supervisor_cword=$((${#_supervisor_words[@]} - 1))
        fi
    done
    if ((COMP_CWORD >= ${#COMP_WORDS[@]})); then
        _supervisor_words+=("")
        _supervisor_cword=$((${#_supervisor_words[@]} - 1))
    fi
}

# Sets COMPREPLY to the words of $1 starting with $2; when $2 holds a ':' the part bash will not
# replace (up to the last ':') is cut off each candidate.
__supervisor_reply() {
    local cur=$2 w
    COMPREPLY=()
    for w in $1; do
        [[ $w == "$cur"* ]] && COMPREPLY+=("$w")
    done
    if [[ $cur == *:* ]]; then
        local head=${cur%"${cur##*:}"}
        local i
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]=${COMPREPLY[i]#"$head"}
        done
    fi
}

# Names known to the daemon: process names (`grp:name`), `grp:*` for groups with members.
# $1: "procs" or "groups"; the rest: the supervisorctl command line up to its first command.
__supervisor_names() {
    local what=$1
    shift
    local out
    # A failed query (no daemon, bad credentials) prints its error on stdout: offer nothing.
    if command -v timeout >/dev/null 2>&1; then
        out=$(timeout 3 "$@" avail </dev/null 2>/dev/null) || return 0
    else
        out=$("$@" avail </dev/null 2>/dev/null) || return 0
    fi
    local line name names=() groups=()
    while read -r name line; do
        [[ -z $name ]] && continue
        case $name in
        *:*)
            names+=("$name")
            groups+=("${name%%:*}")
            ;;
        *)
            names+=("$name")
            groups+=("$name")
            ;;
        esac
    done <<<"$out"
    local g
    if [[ $what == groups ]]; then
        printf '%s\n' "${groups[@]}" | sort -u
    else
        printf '%s\n' "${names[@]}"
        for g in $(printf '%s\n' "${names[@]}" | grep : | cut -d: -f1 | sort -u); do
            printf '%s\n' "$g:*"
        done
    fi
}

# Completes a supervisorctl command line whose program words are _supervisor_words[0..$1-1].
__supervisor_ctl() {
    local start=$1
    local -a words=("${_supervisor_words[@]}")
    local cword=$_supervisor_cword
    local cur=${words[cword]} prev=
    ((cword > 0)) && prev=${words[cword - 1]}
    local -a conn=("${words[@]:0:start}")
    local i cmd= cmdi=0
    for ((i = start; i < cword; i++)); do
        case ${words[i]} in
        -c | --configuration | -s | --serverurl | -u | --username | -p | --password)
            conn+=("${words[i]}" "${words[i + 1]}")
            ((i++))
            ;;
        -r | --history_file) ((i++)) ;;
        --configuration=* | --serverurl=* | --username=* | --password=*) conn+=("${words[i]}") ;;
        -*) ;;
        *)
            cmd=${words[i]}
            cmdi=$i
            break
            ;;
        esac
    done
    if [[ -z $cmd ]]; then
        case $prev in
        -c | --configuration | -r | --history_file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        -s | --serverurl)
            __supervisor_reply "unix:// http://localhost:9001" "$cur"
            return
            ;;
        -u | --username | -p | --password) return ;;
        esac
        if [[ $cur == -* ]]; then
            __supervisor_reply "-c --configuration -h --help -i --interactive -s --serverurl -u --username -p --password -r --history_file" "$cur"
        else
            __supervisor_reply "$_supervisor_ctl_commands" "$cur"
        fi
        return
    fi
    local argn=$((cword - cmdi))
    case $cmd in
    start | stop | restart | status | clear | pid)
        __supervisor_reply "all $(__supervisor_names procs "${conn[@]}")" "$cur"
        ;;
    fg)
        ((argn == 1)) && __supervisor_reply "$(__supervisor_names procs "${conn[@]}")" "$cur"
        ;;
    signal)
        if ((argn == 1)); then
            __supervisor_reply "$_supervisor_signals" "$cur"
        else
            __supervisor_reply "all $(__supervisor_names procs "${conn[@]}")" "$cur"
        fi
        ;;
    tail)
        if [[ $cur == -* ]]; then
            __supervisor_reply "-f -100 -1600" "$cur"
        elif [[ $prev == tail || $prev == -* ]]; then
            __supervisor_reply "$(__supervisor_names procs "${conn[@]}")" "$cur"
        else
            __supervisor_reply "stdout stderr" "$cur"
        fi
        ;;
    maintail) __supervisor_reply "-f -100 -1600" "$cur" ;;
    add | remove)
        __supervisor_reply "$(__supervisor_names groups "${conn[@]}")" "$cur"
        ;;
    update)
        __supervisor_reply "all $(__supervisor_names groups "${conn[@]}")" "$cur"
        ;;
    help)
        ((argn == 1)) && __supervisor_reply "$_supervisor_ctl_commands" "$cur"
        ;;
    *) COMPREPLY=() ;;
    esac
}

__supervisor_daemon() {
    local cur=${_supervisor_words[_supervisor_cword]} prev=
    ((_supervisor_cword > 0)) && prev=${_supervisor_words[_supervisor_cword - 1]}
    case $prev in
    -c | --configuration | -l | --logfile | -j | --pidfile)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    -d | --directory | -q | --childlogdir)
        COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    -u | --user)
        COMPREPLY=($(compgen -u -- "$cur"))
        return
        ;;
    -e | --loglevel)
        __supervisor_reply "critical error warn info debug trace blather" "$cur"
        return
        ;;
    -m | --umask | -y | --logfile_maxbytes | -z | --logfile_backups | -i | --identifier | -a | --minfds | --minprocs | --profile_options) return ;;
    esac
    __supervisor_reply "-c --configuration -n --nodaemon -s --silent -h --help -v --version -u --user -m --umask -d --directory -l --logfile -y --logfile_maxbytes -z --logfile_backups -e --loglevel -j --pidfile -i --identifier -q --childlogdir -k --nocleanup -a --minfds -t --strip_ansi --minprocs --profile_options" "$cur"
}

__supervisor_check_config() {
    local cur=${_supervisor_words[_supervisor_cword]} prev=${_supervisor_words[_supervisor_cword - 1]}
    case $prev in
    -c | --configuration)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    esac
    __supervisor_reply "-c --configuration --dump --reference-errors -h --help" "$cur"
}

__supervisor_pidproxy() {
    # pidproxy PIDFILE COMMAND [ARGS...]
    local cur=${_supervisor_words[_supervisor_cword]}
    if ((_supervisor_cword - $1 <= 1)); then
        COMPREPLY=($(compgen -f -- "$cur"))
    else
        COMPREPLY=($(compgen -c -- "$cur") $(compgen -f -- "$cur"))
    fi
}

# Entry point for every name; dispatches on the program word like the multicall binary does.
_supervisor() {
    __supervisor_join_words
    local prog=${_supervisor_words[0]##*/}
    case $prog in
    supervisorctl) __supervisor_ctl 1 ;;
    supervisord) __supervisor_daemon ;;
    pidproxy) __supervisor_pidproxy 0 ;;
    echo_supervisord_conf) COMPREPLY=() ;;
    supervisor-check-config) __supervisor_check_config ;;
    *)
        if ((_supervisor_cword == 1)); then
            __supervisor_reply "supervisord daemon supervisorctl ctl check-config sample-config echo_supervisord_conf pidproxy completions probe version help" "${_supervisor_words[1]}"
            return
        fi
        case ${_supervisor_words[1]} in
        supervisorctl | ctl) __supervisor_ctl 2 ;;
        supervisord | daemon) __supervisor_daemon ;;
        check-config) __supervisor_check_config ;;
        pidproxy) __supervisor_pidproxy 1 ;;
        completions)
            ((_supervisor_cword == 2)) && __supervisor_reply "bash zsh fish" "${_supervisor_words[2]}"
            ;;
        *) COMPREPLY=() ;;
        esac
        ;;
    esac
}

complete -F _supervisor supervisor supervisorctl supervisord pidproxy echo_supervisord_conf supervisor-check-config
