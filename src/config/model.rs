//! The typed, fully resolved configuration: what the daemon runs and what check-config dumps.
//!
//! Every value here is already parsed, defaulted and expanded (numprocs, %(..)s, ${..}). Field names
//! keep the ini spelling. Other modules read this model; only `config::load` builds it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

/// Where a log stream goes (`stdout_logfile=`, `stderr_logfile=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// `AUTO`: a file in childlogdir named by the daemon at group creation.
    Auto,
    /// `NONE`/`OFF`: discard.
    None,
    /// `syslog` (deprecated spelling of `*_syslog=true` with no file).
    Syslog,
    /// A path (relative paths stay relative to the daemon's cwd, like the reference).
    File(PathBuf),
}

/// `autorestart=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    Never,
    Unexpected,
    Always,
}

/// A user resolved from /etc/passwd (or given numerically).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: Option<String>,
    pub uid: u32,
    /// Primary group id from passwd (None when only a numeric uid without a passwd entry).
    pub gid: Option<u32>,
}

/// One output channel's settings (stdout or stderr) of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChannel {
    pub logfile: LogTarget,
    pub logfile_maxbytes: u64,
    pub logfile_backups: u32,
    pub capture_maxbytes: u64,
    pub events_enabled: bool,
    pub syslog: bool,
}

/// What kind of section produced a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// `[program:x]` (homogeneous) or `[group:x]` (heterogeneous).
    Program,
    /// `[eventlistener:x]`: a pool of listeners.
    EventListener(Box<EventListenerOptions>),
    /// `[fcgi-program:x]`.
    FcgiProgram(Box<FcgiOptions>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventListenerOptions {
    /// Event type names as written in `events=`, upper-cased.
    pub events: Vec<String>,
    pub buffer_size: usize,
    pub result_handler: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcgiOptions {
    /// `unix:///abs/path` or `tcp://host:port` after expansion.
    pub socket: String,
    pub socket_backlog: Option<u32>,
    pub socket_owner: Option<(u32, Option<u32>)>,
    pub socket_mode: u32,
}

/// One process instance (after numprocs expansion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    pub name: String,
    /// The program section this process came from (`program:x`, `eventlistener:x`, ...).
    pub section: String,
    /// The program's name (x of `[program:x]`).
    pub program_name: String,
    pub process_num: u32,
    pub command: String,
    pub priority: i32,
    pub autostart: bool,
    pub startsecs: u64,
    pub startretries: u32,
    pub autorestart: AutoRestart,
    pub exitcodes: Vec<i32>,
    /// Signal number.
    pub stopsignal: i32,
    pub stopwaitsecs: u64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub user: Option<User>,
    pub redirect_stderr: bool,
    pub stdout: LogChannel,
    pub stderr: LogChannel,
    /// `environment=` of the program (not merged with the global one).
    pub environment: BTreeMap<String, String>,
    pub directory: Option<String>,
    pub umask: Option<u32>,
    /// `serverurl=`: None means AUTO.
    pub serverurl: Option<String>,
    /// Our keys beyond the reference's (docs/extensions.md).
    pub extensions: ProgramExtensions,
}

/// `[program:x]` keys of ours (docs/extensions.md); the defaults change nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgramExtensions {
    /// `depends_on=` (empty when not set), in the order written.
    pub depends_on: Vec<Dependency>,
    /// `restart_delay=`, `restart_delay_max=`, `restart_jitter=`, `backoff_max=`.
    pub restart: RestartPolicy,
    /// `essential=`: when it ends for good, supervisord stops everything and exits with its status.
    pub essential: bool,
    /// `log_prefix=`, expanded: written before each output line in every log target.
    pub log_prefix: Option<String>,
    /// `log_timestamps=`: an RFC 3339 UTC time before each output line.
    pub log_timestamps: bool,
    /// `env_file=`: dotenv files read at each spawn, later files winning (absolute paths).
    pub env_file: Vec<PathBuf>,
    /// `healthcheck=` and its `healthcheck_*` options (None when not set).
    pub healthcheck: Option<Box<HealthCheck>>,
}

impl ProgramExtensions {
    /// Output goes through the line-assembling path (prefix and/or timestamps).
    pub fn prefixes_lines(&self) -> bool {
        self.log_timestamps || self.log_prefix.is_some()
    }
}

/// What a dependency waits for (`depends_on = NAME:CONDITION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DepCondition {
    /// Spawned (STARTING or later).
    Started,
    /// RUNNING (the default).
    Running,
    /// RUNNING with its health check passing.
    Healthy,
    /// EXITED with an expected exit code (one-shot jobs).
    Exited,
}

impl DepCondition {
    pub fn name(self) -> &'static str {
        match self {
            DepCondition::Started => "started",
            DepCondition::Running => "running",
            DepCondition::Healthy => "healthy",
            DepCondition::Exited => "exited",
        }
    }
}

/// Which processes a dependency names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DepTarget {
    /// `NAME`: every process of the program `[program:NAME]` (wherever it is grouped).
    Program(String),
    /// `group:*`: every process of the group.
    Group(String),
    /// `group:process`.
    Process { group: String, process: String },
}

/// One entry of `depends_on=`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dependency {
    /// The NAME as written (shown in `waiting for NAME (condition)`).
    pub label: String,
    pub target: DepTarget,
    pub condition: DepCondition,
}

/// Restart policy of a program (extensions). `Default` is the reference's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct RestartPolicy {
    /// Wait before an autorestart after an exit from RUNNING (0: at once, as the reference).
    pub restart_delay: std::time::Duration,
    /// Above `restart_delay`: the delay doubles per consecutive unexpected exit up to this.
    pub restart_delay_max: std::time::Duration,
    /// Random spread of each delay, in millionths (0..=1_000_000).
    pub restart_jitter_ppm: u32,
    /// Cap of the linear start backoff (1, 2, 3, ... s); None: uncapped, as the reference.
    pub backoff_max: Option<std::time::Duration>,
}

impl RestartPolicy {
    /// Whether any key is set (only then does anything differ from the reference).
    pub fn is_set(&self) -> bool {
        *self != RestartPolicy::default()
    }
}

/// What a health check probes (`healthcheck=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// `exec:COMMAND ARGS`: the command line, split and looked up like `command=` at check time.
    Exec(String),
    /// `http://HOST:PORT/PATH`: a GET; a 2xx or 3xx status is healthy. `host` is the Host header
    /// (as written), `addr` the resolved address (IP literals and `localhost` only).
    Http {
        addr: std::net::SocketAddr,
        host: String,
        path: String,
    },
    /// `tcp:HOST:PORT`: healthy when a connection succeeds.
    Tcp(std::net::SocketAddr),
}

/// `healthcheck_action=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthAction {
    /// Mark unhealthy, log, expose.
    None,
    /// Also stop and start the process.
    Restart,
}

/// A program's health check, every option resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// `healthcheck=` as written (for `--dump` and messages).
    pub spec: String,
    pub probe: Probe,
    pub interval: std::time::Duration,
    pub timeout: std::time::Duration,
    /// Consecutive counted failures before unhealthy (at least 1).
    pub retries: u32,
    /// Failures within this long of entering RUNNING do not count.
    pub start_period: std::time::Duration,
    pub action: HealthAction,
}

/// A process group: a program (numprocs instances), a [group:x], a listener pool or fcgi program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    pub name: String,
    pub priority: i32,
    pub kind: GroupKind,
    /// In start order: (priority, name) within a program; `programs=` order across programs.
    pub processes: Vec<Rc<ProcessConfig>>,
}

/// `[supervisord]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisordConfig {
    pub logfile: PathBuf,
    pub logfile_maxbytes: u64,
    pub logfile_backups: u32,
    pub loglevel: LogLevel,
    pub pidfile: PathBuf,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: u64,
    pub minprocs: u64,
    pub nocleanup: bool,
    pub childlogdir: PathBuf,
    pub user: Option<User>,
    pub directory: Option<PathBuf>,
    pub strip_ansi: bool,
    pub environment: BTreeMap<String, String>,
    pub identifier: String,
    /// Our keys beyond the reference's (docs/extensions.md).
    pub extensions: SupervisordExtensions,
}

/// `[supervisord]` keys of ours (docs/extensions.md); the defaults change nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SupervisordExtensions {
    /// `exit_when_idle=`: exit 0 once no program runs or will start.
    pub exit_when_idle: bool,
    /// `env_file=`: dotenv files under every program's own (absolute paths).
    pub env_file: Vec<PathBuf>,
}

/// Log levels of the main log, with the reference's numeric values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Blather = 3,
    Trace = 5,
    Debug = 10,
    Info = 20,
    Warn = 30,
    Error = 40,
    Critical = 50,
}

/// Username/password of a server; password may be `{SHA}hex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixHttpServerConfig {
    /// Section name (`unix_http_server` or `unix_http_server:foo`).
    pub section: String,
    pub file: PathBuf,
    pub chmod: u32,
    /// (uid, gid) for chown.
    pub chown: Option<(u32, Option<u32>)>,
    pub credentials: Option<Credentials>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetHttpServerConfig {
    pub section: String,
    /// Host as written, lower-cased; empty = all interfaces.
    pub host: String,
    pub port: u16,
    pub credentials: Option<Credentials>,
    /// Extra `Host` names an unauthenticated server answers (`allowed_hosts`, lower-cased;
    /// `*` = any). Not in the reference: the DNS-rebinding check (docs/extensions.md).
    pub allowed_hosts: Vec<String>,
    /// `protected_mode` (default true): without credentials, refuse peers not on loopback.
    pub protected_mode: bool,
}

/// `[supervisorctl]` (only read by the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlConfig {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: String,
    pub history_file: Option<PathBuf>,
}

/// `[rpcinterface:x]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcInterfaceConfig {
    pub name: String,
    pub factory: String,
}

/// A non-fatal finding (unknown option, deprecated spelling, ...): logged at start, shown by check-config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub message: String,
}

/// The whole resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The main config file as given (or found).
    pub path: PathBuf,
    /// Every file read, main first, then included files in order.
    pub files: Vec<PathBuf>,
    pub supervisord: SupervisordConfig,
    pub unix_http_servers: Vec<UnixHttpServerConfig>,
    pub inet_http_servers: Vec<InetHttpServerConfig>,
    pub supervisorctl: Option<CtlConfig>,
    pub rpcinterfaces: Vec<RpcInterfaceConfig>,
    /// Sorted by (priority, name), the reference's group order.
    pub groups: Vec<Rc<GroupConfig>>,
    pub warnings: Vec<Warning>,
    /// Info lines to log at start (e.g. `Included extra file "..." during parsing`).
    pub infos: Vec<String>,
}

/// Moves `items` behind shared pointers (the loaded config, the running groups and their
/// processes hold the same values). Collected into a new Vec: an in-place collect would keep the
/// old buffer, sized for the values, to hold a few pointers.
pub fn shared<T>(items: Vec<T>) -> Vec<Rc<T>> {
    let mut out = Vec::with_capacity(items.len());
    out.extend(items.into_iter().map(Rc::new));
    out
}
