//! `echo_supervisord_conf` / `supervisor sample-config`: prints a commented sample config that
//! documents every section and option. Lines `;name=value` and `;[section]` are settings to
//! uncomment; lines starting with `; ` are explanations. Uncommented, it passes check-config.

pub const SAMPLE: &str = r#"; Sample configuration for supervisord / supervisorctl (supervisor 4.3.0 compatible).
;
; Syntax: ini sections and `name = value` (or `name: value`) lines. Option names are
; case-insensitive, section names are not. A `;` or `#` starts a comment at the start of a line,
; or anywhere after whitespace (`a=x;y` keeps `;y`). Indented lines continue the value above.
;
; Values can use %(name)s expansions: %(here)s (this file's directory), %(ENV_HOME)s (any
; variable of supervisord's environment), and in program sections %(program_name)s,
; %(group_name)s, %(host_node_name)s, %(process_num)d, %(numprocs)d. Write %% for a literal %.
; ${NAME} and ${NAME:-fallback} read the same environment variables; $${ is a literal ${.
;
; Remove the leading `;` of a setting to use it. Defaults are shown in parentheses.

[unix_http_server]
; The control socket; supervisorctl talks to supervisord through it.
file=/tmp/supervisor.sock   ; path of the socket file (required in this section)
;chmod=0700                 ; permission bits of the socket file (0700)
;chown=nobody:nogroup       ; owner of the socket file, user or user:group (unchanged)
;username=admin             ; require HTTP basic auth with this user (no auth)
;password=secret            ; its password, plain or {SHA} + hex sha1 digest (no auth)

;[inet_http_server]         ; an HTTP server on a TCP port (web page and XML-RPC)
;port=127.0.0.1:9001        ; HOST:PORT, or *:PORT / PORT for every interface (required)
;username=admin             ; basic auth user (no auth: anyone who can connect is in control)
;password=secret            ; basic auth password (no auth)

[supervisord]
logfile=/tmp/supervisord.log ; the daemon's own log (supervisord.log in the start directory)
logfile_maxbytes=50MB        ; rotate the log after this size; 0 never rotates (50MB)
logfile_backups=10           ; rotated copies kept; 0 keeps none (10)
loglevel=info                ; critical, error, warn, info, debug, trace or blather (info)
pidfile=/tmp/supervisord.pid ; where the daemon writes its process id (supervisord.pid)
nodaemon=false               ; stay in the foreground instead of detaching (false)
silent=false                 ; in the foreground, do not copy the log to stdout (false)
minfds=1024                  ; raise the open-files limit to at least this at start (1024)
minprocs=200                 ; raise the process-count limit to at least this at start (200)
;umask=022                   ; umask of the daemon after it detaches (022)
;user=nobody                 ; when started as root, switch to this user (no switch)
;identifier=supervisor       ; name reported over XML-RPC and used in log names (supervisor)
;directory=/tmp              ; change to this directory after detaching (no change)
;nocleanup=true              ; keep old AUTO child logs at start (false: remove them)
;childlogdir=/tmp            ; where AUTO child logs are created (the temp directory)
;strip_ansi=false            ; remove ANSI escape codes from child output (false)
;environment=KEY="value"     ; variables added to every child's environment (none)

; The XML-RPC interface supervisorctl and the web page use. Keep this section.
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///tmp/supervisor.sock ; the daemon to control: unix:///path or http://host:port
;username=admin              ; must match the server's username, if it has one
;password=secret             ; must match the server's password (plain text here)
;prompt=mysupervisor         ; the interactive prompt is this followed by "> " (supervisor)
;history_file=~/.sc_history  ; keep interactive command history in this file (none)

; A program to run and watch. NAME is what status/start/stop show and accept.
;[program:theprogramname]
;command=/bin/cat            ; what to run; split like a shell would, but no shell features (required)
;process_name=%(program_name)s ; name of each process; needs %(process_num) when numprocs > 1
;numprocs=1                  ; how many copies to run (1)
;numprocs_start=0            ; the first %(process_num) (0)
;directory=/tmp              ; change to this directory before running (no change)
;umask=022                   ; umask of the process (inherited)
;priority=999                ; lower starts earlier and stops later (999)
;autostart=true              ; start when supervisord starts (true)
;startsecs=1                 ; seconds it must stay up to count as started; 0 = at once (1)
;startretries=3              ; failed starts to retry before giving up (FATAL) (3)
;autorestart=unexpected      ; restart after exiting: true, false or unexpected (unexpected)
;exitcodes=0                 ; exit codes that count as expected, for autorestart (0)
;stopsignal=TERM             ; signal that asks it to stop: TERM, HUP, INT, QUIT, KILL, USR1, USR2 (TERM)
;stopwaitsecs=10             ; seconds to wait after stopsignal before SIGKILL (10)
;stopasgroup=false           ; send stopsignal to its whole process group (false)
;killasgroup=false           ; send SIGKILL to its whole process group (same as stopasgroup)
;user=nobody                 ; run as this user; supervisord must be root (no switch)
;redirect_stderr=true        ; send stderr into the stdout log (false)
;stdout_logfile=/tmp/theprogramname.out ; stdout log: a path, AUTO or NONE (AUTO)
;stdout_logfile_maxbytes=1MB ; rotate after this size; 0 never rotates (50MB)
;stdout_logfile_backups=10   ; rotated copies kept (10)
;stdout_capture_maxbytes=1MB ; size of the buffer for capture mode events; 0 = off (0)
;stdout_events_enabled=false ; emit an event for every stdout write (false)
;stdout_syslog=false         ; also send stdout lines to syslog (false)
;stderr_logfile=/tmp/theprogramname.err ; stderr log: a path, AUTO or NONE (AUTO)
;stderr_logfile_maxbytes=1MB ; rotate after this size; 0 never rotates (50MB)
;stderr_logfile_backups=10   ; rotated copies kept (10)
;stderr_capture_maxbytes=1MB ; capture mode buffer size; 0 = off (0)
;stderr_events_enabled=false ; emit an event for every stderr write (false)
;stderr_syslog=false         ; also send stderr lines to syslog (false)
;environment=A="1",B="2"     ; extra environment variables for the process (none)
;serverurl=AUTO              ; SUPERVISOR_SERVER_URL given to the process (AUTO: this daemon)

; An event listener pool: processes that receive events on stdin and answer on stdout.
; It takes every [program:x] option except redirect_stderr, plus the ones below.
;[eventlistener:theeventlistenername]
;command=/bin/eventlistener  ; the listener program (required)
;events=EVENT                ; event types to receive, comma separated (required)
;buffer_size=10              ; events queued per pool before the oldest is dropped (10)
;result_handler=supervisor.dispatchers:default_handler ; how answers are read (this one)
;process_name=%(program_name)s ; as for programs
;numprocs=1                  ; listeners in the pool (1)
;priority=-1                 ; pool priority; listeners start first and stop last (-1)
;autostart=true              ; as for programs
;startsecs=1                 ; as for programs
;startretries=3              ; as for programs
;autorestart=unexpected      ; as for programs
;stopsignal=QUIT             ; as for programs
;stopwaitsecs=10             ; as for programs
;stdout_logfile=/tmp/theeventlistenername.out ; gets only what is not protocol (AUTO)
;stderr_logfile=/tmp/theeventlistenername.err ; (AUTO)
;environment=A="1"           ; as for programs

; A FastCGI program: supervisord opens the socket and hands it to each process as stdin.
; It takes every [program:x] option, plus the ones below.
;[fcgi-program:thefcgiprogramname]
;command=/usr/bin/php-cgi    ; the FastCGI program (required)
;socket=unix:///tmp/%(program_name)s.sock ; unix:///absolute/path or tcp://host:port (required)
;socket_backlog=128          ; listen queue length (the system's maximum)
;socket_owner=nobody         ; owner of a unix socket, user or user:group (supervisord's user)
;socket_mode=0700            ; permission bits of a unix socket (0700)
;process_name=%(program_name)s_%(process_num)02d ; as for programs
;numprocs=2                  ; processes sharing the socket (1)

; A group: puts programs under one name (status/start/stop accept group:*).
;[group:thegroupname]
;programs=theprogramname     ; comma-separated [program:x] or [fcgi-program:x] names (none)
;priority=999                ; group start order, lower first (999)

; More config files, read after this one. Only this file's [include] is honoured.
;[include]
;files = conf.d/*.conf       ; space-separated globs, relative to this file's directory (required)
"#;

/// `supervisor sample-config` takes no arguments; argh answers `-h` and rejects anything else.
#[derive(argh::FromArgs)]
#[argh(
    description = "Prints a commented sample supervisord config to stdout.",
    help_triggers("-h", "--help")
)]
struct Args {}

/// `supervisor sample-config [-h]`.
pub fn main(argv0: &str, args: &[String]) -> i32 {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match super::parse_args::<Args>(argv0, "sample-config", &words) {
        Ok(Args {}) => echo(),
        Err(code) => code,
    }
}

/// `echo_supervisord_conf`: like the reference's confecho.main, it reads no arguments at all
/// (`echo_supervisord_conf -h` prints the sample too).
pub fn echo() -> i32 {
    print!("{SAMPLE}");
    0
}
