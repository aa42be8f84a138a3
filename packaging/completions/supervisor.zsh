#compdef supervisor supervisorctl supervisord pidproxy echo_supervisord_conf supervisor-check-config
# zsh completion for supervisor (supervisorctl, supervisord, pidproxy, echo_supervisord_conf and
# the `supervisor` multicall binary). Printed by `supervisor completions zsh`; install it as
# `_supervisor` in a directory of $fpath, or `source <(supervisor completions zsh)` after compinit.
# Process and group names come from the running daemon: `supervisorctl [-c F] [-s URL] avail`,
# quietly, with the connection options already typed on the line.

_supervisor_ctl_commands=(add avail clear exit fg help maintail open pid quit reload remove reread restart shutdown signal start status stop tail update version)
_supervisor_signals=(HUP INT QUIT KILL USR1 USR2 TERM CONT STOP TSTP WINCH ALRM)

# $1: procs or groups; the rest: the supervisorctl command line up to its first command.
_supervisor_names() {
  local what=$1 line name
  shift
  local -a names groups
  local out
  # A failed query (no daemon, bad credentials) prints its error on stdout: offer nothing.
  out=$("$@" avail </dev/null 2>/dev/null) || return 0
  for line in ${(f)out}; do
    name=${line%% *}
    [[ -z $name ]] && continue
    names+=($name)
    groups+=(${name%%:*})
  done
  if [[ $what == groups ]]; then
    print -rl -- ${(u)groups}
  else
    print -rl -- $names
    for name in ${(u)${${(M)names:#*:*}%%:*}}; do
      print -r -- "$name:*"
    done
  fi
}

# $1: how many words name the program (1 for supervisorctl, 2 for `supervisor ctl`).
_supervisor_ctl() {
  local start=$1 i cmd= cmdi=0
  local -a conn
  conn=(${words[1,start]})
  for (( i = start + 1; i < CURRENT; i++ )); do
    case $words[i] in
      -c|--configuration|-s|--serverurl|-u|--username|-p|--password)
        conn+=($words[i] $words[i+1]); (( i++ )) ;;
      -r|--history_file) (( i++ )) ;;
      --configuration=*|--serverurl=*|--username=*|--password=*) conn+=($words[i]) ;;
      -*) ;;
      *) cmd=$words[i]; cmdi=$i; break ;;
    esac
  done
  local cur=$words[CURRENT] prev=$words[CURRENT-1]
  if [[ -z $cmd ]]; then
    case $prev in
      -c|--configuration|-r|--history_file) _files; return ;;
      -s|--serverurl) compadd -- unix:// http://localhost:9001; return ;;
      -u|--username|-p|--password) return ;;
    esac
    if [[ $cur == -* ]]; then
      compadd -- -c --configuration -h --help -i --interactive -s --serverurl -u --username -p --password -r --history_file
    else
      compadd -- $_supervisor_ctl_commands
    fi
    return
  fi
  local argn=$(( CURRENT - cmdi ))
  case $cmd in
    start|stop|restart|status|clear|pid)
      compadd -- all ${(f)"$(_supervisor_names procs $conn)"} ;;
    fg)
      (( argn == 1 )) && compadd -- ${(f)"$(_supervisor_names procs $conn)"} ;;
    signal)
      if (( argn == 1 )); then
        compadd -- $_supervisor_signals
      else
        compadd -- all ${(f)"$(_supervisor_names procs $conn)"}
      fi ;;
    tail)
      if [[ $cur == -* ]]; then
        compadd -- -f -100 -1600
      elif [[ $prev == tail || $prev == -* ]]; then
        compadd -- ${(f)"$(_supervisor_names procs $conn)"}
      else
        compadd -- stdout stderr
      fi ;;
    maintail) compadd -- -f -100 -1600 ;;
    add|remove) compadd -- ${(f)"$(_supervisor_names groups $conn)"} ;;
    update) compadd -- all ${(f)"$(_supervisor_names groups $conn)"} ;;
    help) (( argn == 1 )) && compadd -- $_supervisor_ctl_commands ;;
  esac
}

_supervisor_daemon() {
  _arguments -s \
    '(-c --configuration)'{-c,--configuration}'[configuration file]:file:_files' \
    '(-n --nodaemon)'{-n,--nodaemon}'[run in the foreground]' \
    '(-s --silent)'{-s,--silent}'[no logs to stdout]' \
    '(- *)'{-h,--help}'[print usage and exit]' \
    '(- *)'{-v,--version}'[print version and exit]' \
    '(-u --user)'{-u,--user}'[run as this user]:user:_users' \
    '(-m --umask)'{-m,--umask}'[umask for subprocesses]:umask:' \
    '(-d --directory)'{-d,--directory}'[directory to chdir to when daemonized]:directory:_directories' \
    '(-l --logfile)'{-l,--logfile}'[main log file]:file:_files' \
    '(-y --logfile_maxbytes)'{-y,--logfile_maxbytes}'[main log size limit]:bytes:' \
    '(-z --logfile_backups)'{-z,--logfile_backups}'[main log backups]:number:' \
    '(-e --loglevel)'{-e,--loglevel}'[log level]:level:(critical error warn info debug trace blather)' \
    '(-j --pidfile)'{-j,--pidfile}'[pid file]:file:_files' \
    '(-i --identifier)'{-i,--identifier}'[identifier of this instance]:identifier:' \
    '(-q --childlogdir)'{-q,--childlogdir}'[directory for child logs]:directory:_directories' \
    '(-k --nocleanup)'{-k,--nocleanup}'[keep old automatic child logs]' \
    '(-a --minfds)'{-a,--minfds}'[minimum free file descriptors]:number:' \
    '(-t --strip_ansi)'{-t,--strip_ansi}'[strip ANSI escapes from child output]' \
    '--minprocs[minimum available processes]:number:' \
    '--profile_options[accepted for compatibility]:options:'
}

_supervisor_check_config() {
  _arguments \
    '(-c --configuration)'{-c,--configuration}'[configuration file]:file:_files' \
    '--dump[print the resolved configuration as JSON]' \
    '--reference-errors[word errors as supervisord 4.3.0 does]' \
    '(- *)'{-h,--help}'[print usage and exit]'
}

# $1: how many words name the program. pidproxy PIDFILE COMMAND [ARGS...]
_supervisor_pidproxy() {
  local n=$1
  if (( CURRENT == n + 1 )); then
    _files
  elif (( CURRENT == n + 2 )); then
    _command_names -e
  else
    shift $(( n + 1 )) words
    (( CURRENT -= n + 1 ))
    _normal
  fi
}

_supervisor() {
  case ${words[1]:t} in
    supervisorctl) _supervisor_ctl 1 ;;
    supervisord) _supervisor_daemon ;;
    pidproxy) _supervisor_pidproxy 1 ;;
    echo_supervisord_conf) ;;
    supervisor-check-config) _supervisor_check_config ;;
    *)
      if (( CURRENT == 2 )); then
        compadd -- supervisord daemon supervisorctl ctl check-config sample-config echo_supervisord_conf pidproxy completions probe version help
        return
      fi
      case $words[2] in
        supervisorctl|ctl) _supervisor_ctl 2 ;;
        supervisord|daemon) shift words; (( CURRENT-- )); _supervisor_daemon ;;
        check-config) shift words; (( CURRENT-- )); _supervisor_check_config ;;
        pidproxy) _supervisor_pidproxy 2 ;;
        completions) (( CURRENT == 3 )) && compadd -- bash zsh fish ;;
      esac ;;
  esac
}

if [[ $funcstack[1] == _supervisor ]]; then
  _supervisor "$@"
else
  compdef _supervisor supervisor supervisorctl supervisord pidproxy echo_supervisord_conf supervisor-check-config
fi
