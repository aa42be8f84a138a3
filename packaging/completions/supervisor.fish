# fish completion for supervisor (supervisorctl, supervisord, pidproxy, echo_supervisord_conf and
# the `supervisor` multicall binary). Printed by `supervisor completions fish`; install it in
# ~/.config/fish/completions/ (or the vendor directory), or `supervisor completions fish | source`.
# Process and group names come from the running daemon: `supervisorctl [-c F] [-s URL] avail`,
# quietly, with the connection options already typed on the line.

set -g __supervisor_ctl_commands add avail clear exit fg help maintail open pid quit reload remove reread restart shutdown signal start status stop tail update version

# The supervisorctl words typed so far, split into: the program and its connection options
# (one per line), then `@@`, then the command and its arguments.
function __supervisor_ctl_split
    set -l tokens (commandline -opc)
    set -l i 2
    if test (basename -- $tokens[1]) = supervisor
        set i 3
    end
    printf '%s\n' $tokens[1..(math $i - 1)]
    set -l n (count $tokens)
    while test $i -le $n
        switch $tokens[$i]
            case -c --configuration -s --serverurl -u --username -p --password
                printf '%s\n' $tokens[$i]
                if test $i -lt $n
                    printf '%s\n' $tokens[(math $i + 1)]
                end
                set i (math $i + 2)
                continue
            case -r --history_file
                set i (math $i + 2)
                continue
            case '--configuration=*' '--serverurl=*' '--username=*' '--password=*'
                printf '%s\n' $tokens[$i]
            case '-*'
            case '*'
                break
        end
        set i (math $i + 1)
    end
    echo @@
    if test $i -le $n
        printf '%s\n' $tokens[$i..$n]
    end
end

# True when no supervisorctl command has been typed yet.
function __supervisor_ctl_no_command
    set -l parts (__supervisor_ctl_split)
    test "$parts[-1]" = @@
end

# True when the supervisorctl command is one of the arguments.
function __supervisor_ctl_command_is
    set -l parts (__supervisor_ctl_split)
    set -l sep (contains -i -- @@ $parts)
    test (count $parts) -gt $sep; and contains -- $parts[(math $sep + 1)] $argv
end

# The number of arguments typed after the supervisorctl command.
function __supervisor_ctl_argn
    set -l parts (__supervisor_ctl_split)
    set -l sep (contains -i -- @@ $parts)
    math (count $parts) - $sep - 1
end

# $argv[1]: procs or groups. Names from `supervisorctl ... avail`.
function __supervisor_names
    set -l parts (__supervisor_ctl_split)
    set -l sep (contains -i -- @@ $parts)
    set -l conn $parts[1..(math $sep - 1)]
    set -l names
    # A failed query (no daemon, bad credentials) prints its error on stdout: offer nothing.
    set -l lines ($conn avail </dev/null 2>/dev/null); or return 0
    for line in $lines
        set -l name (string split -m1 ' ' -- $line)[1]
        test -n "$name"; and set -a names $name
    end
    if test "$argv[1]" = groups
        string replace -r ':.*' '' -- $names | sort -u
    else
        printf '%s\n' $names
        for g in (string match '*:*' -- $names | string replace -r ':.*' '' | sort -u)
            echo "$g:*"
        end
    end
end

function __supervisor_complete_ctl --argument-names cmd cond
    complete -c $cmd -n "$cond; and __supervisor_ctl_no_command" -s c -l configuration -r -F -d 'config file'
    complete -c $cmd -n "$cond; and __supervisor_ctl_no_command" -s s -l serverurl -x -a 'unix:// http://localhost:9001' -d 'server URL'
    complete -c $cmd -n "$cond; and __supervisor_ctl_no_command" -s u -l username -x -d 'user name'
    complete -c $cmd -n "$cond; and __supervisor_ctl_no_command" -s p -l password -x -d password
    complete -c $cmd -n "$cond; and __supervisor_ctl_no_command" -s i -l interactive -d 'interactive shell'
    complete -c $cmd -n "$cond; and __supervisor_ctl_no_command" -s r -l history_file -r -F -d 'history file'
    complete -c $cmd -n "$cond; and __supervisor_ctl_no_command" -s h -l help -d 'show help'
    complete -c $cmd -n "$cond; and __supervisor_ctl_no_command" -f -a "$__supervisor_ctl_commands"
    complete -c $cmd -n "$cond; and __supervisor_ctl_command_is start stop restart status clear pid" -f -a 'all (__supervisor_names procs)'
    complete -c $cmd -n "$cond; and __supervisor_ctl_command_is fg; and test (__supervisor_ctl_argn) -eq 0" -f -a '(__supervisor_names procs)'
    complete -c $cmd -n "$cond; and __supervisor_ctl_command_is signal; and test (__supervisor_ctl_argn) -eq 0" -f -a 'HUP INT QUIT KILL USR1 USR2 TERM CONT STOP TSTP WINCH ALRM'
    complete -c $cmd -n "$cond; and __supervisor_ctl_command_is signal; and test (__supervisor_ctl_argn) -gt 0" -f -a 'all (__supervisor_names procs)'
    complete -c $cmd -n "$cond; and __supervisor_ctl_command_is tail" -f -a '(__supervisor_names procs) stdout stderr -f'
    complete -c $cmd -n "$cond; and __supervisor_ctl_command_is maintail" -f -a '-f'
    complete -c $cmd -n "$cond; and __supervisor_ctl_command_is add remove" -f -a '(__supervisor_names groups)'
    complete -c $cmd -n "$cond; and __supervisor_ctl_command_is update" -f -a 'all (__supervisor_names groups)'
    complete -c $cmd -n "$cond; and __supervisor_ctl_command_is help; and test (__supervisor_ctl_argn) -eq 0" -f -a "$__supervisor_ctl_commands"
    complete -c $cmd -n "$cond; and not __supervisor_ctl_no_command" -f
end

function __supervisor_complete_daemon --argument-names cmd cond
    complete -c $cmd -n $cond -s c -l configuration -r -F -d 'config file'
    complete -c $cmd -n $cond -s n -l nodaemon -d 'run in the foreground'
    complete -c $cmd -n $cond -s s -l silent -d 'no logs to stdout'
    complete -c $cmd -n $cond -s h -l help -d 'print usage'
    complete -c $cmd -n $cond -s v -l version -d 'print version'
    complete -c $cmd -n $cond -s u -l user -x -a '(__fish_complete_users)' -d 'run as user'
    complete -c $cmd -n $cond -s m -l umask -x -d 'umask for subprocesses'
    complete -c $cmd -n $cond -s d -l directory -x -a '(__fish_complete_directories)' -d 'chdir when daemonized'
    complete -c $cmd -n $cond -s l -l logfile -r -F -d 'main log file'
    complete -c $cmd -n $cond -s y -l logfile_maxbytes -x -d 'main log size limit'
    complete -c $cmd -n $cond -s z -l logfile_backups -x -d 'main log backups'
    complete -c $cmd -n $cond -s e -l loglevel -x -a 'critical error warn info debug trace blather' -d 'log level'
    complete -c $cmd -n $cond -s j -l pidfile -r -F -d 'pid file'
    complete -c $cmd -n $cond -s i -l identifier -x -d identifier
    complete -c $cmd -n $cond -s q -l childlogdir -x -a '(__fish_complete_directories)' -d 'child log directory'
    complete -c $cmd -n $cond -s k -l nocleanup -d 'keep old automatic child logs'
    complete -c $cmd -n $cond -s a -l minfds -x -d 'minimum file descriptors'
    complete -c $cmd -n $cond -s t -l strip_ansi -d 'strip ANSI escapes'
    complete -c $cmd -n $cond -l minprocs -x -d 'minimum processes'
    complete -c $cmd -n $cond -l profile_options -x -d 'accepted for compatibility'
end

function __supervisor_complete_check --argument-names cmd cond
    complete -c $cmd -n $cond -s c -l configuration -r -F -d 'config file'
    complete -c $cmd -n $cond -l dump -d 'print the resolved config as JSON'
    complete -c $cmd -n $cond -l reference-errors -d 'word errors as supervisord 4.3.0'
    complete -c $cmd -n $cond -s h -l help -d 'print usage'
end

__supervisor_complete_ctl supervisorctl true
__supervisor_complete_daemon supervisord true
__supervisor_complete_check supervisor-check-config true
complete -c echo_supervisord_conf -f
complete -c pidproxy -n 'test (count (commandline -opc)) -eq 1' -r -F -d pidfile
complete -c pidproxy -n 'test (count (commandline -opc)) -eq 2' -x -a '(__fish_complete_command)'

set -l applets supervisord daemon supervisorctl ctl check-config sample-config echo_supervisord_conf pidproxy completions probe version help
complete -c supervisor -n "not __fish_seen_subcommand_from $applets" -f -a "$applets"
__supervisor_complete_ctl supervisor '__fish_seen_subcommand_from ctl supervisorctl'
__supervisor_complete_daemon supervisor '__fish_seen_subcommand_from daemon supervisord'
__supervisor_complete_check supervisor '__fish_seen_subcommand_from check-config'
complete -c supervisor -n '__fish_seen_subcommand_from completions' -f -a 'bash zsh fish'
