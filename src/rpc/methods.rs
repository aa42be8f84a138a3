//! The method table: every published `system.*` and `supervisor.*` method with its signature,
//! parameter counts and help text, and name resolution. `dispatch.rs` runs calls through it.

use super::backend::Backend;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    System,
    /// The main interface, published under each `[rpcinterface:x]` name (normally `supervisor`).
    Main,
}

pub struct MethodSpec {
    pub namespace: Namespace,
    pub name: &'static str,
    /// `[return type, parameter types...]`, as `system.methodSignature` reports it.
    pub signature: &'static [&'static str],
    /// Parameters that have no default (the rest are optional `wait` flags).
    pub required: usize,
    pub help: &'static str,
}

impl MethodSpec {
    pub fn max_params(&self) -> usize {
        self.signature.len() - 1
    }
}

const fn system(
    name: &'static str,
    signature: &'static [&'static str],
    help: &'static str,
) -> MethodSpec {
    MethodSpec {
        namespace: Namespace::System,
        name,
        signature,
        required: signature.len() - 1,
        help,
    }
}

const fn main(
    name: &'static str,
    signature: &'static [&'static str],
    required: usize,
    help: &'static str,
) -> MethodSpec {
    MethodSpec {
        namespace: Namespace::Main,
        name,
        signature,
        required,
        help,
    }
}

const HELP_API_VERSION: &str = "Report the version of the XML-RPC API this supervisord speaks.

@return string version API version, currently 3.0";

const HELP_READ_LOG: &str = "Read bytes from the main log file.

A negative offset with length 0 returns the last |offset| bytes; otherwise up to length bytes
are returned starting at offset (length 0 reads to the end of the file).

@param int offset      where to start reading
@param int length      how many bytes to read
@return string result  the bytes read";

const HELP_READ_STDOUT: &str = "Read bytes from a process's stdout log.

Offsets and lengths work as for readLog.

@param string name     process name (or group:name)
@param int offset      where to start reading
@param int length      how many bytes to read
@return string result  the bytes read";

const HELP_TAIL_STDOUT: &str = "Tail a process's stdout log more cheaply than readProcessStdoutLog.

Returns up to length bytes starting at offset. When the log has grown beyond offset+length,
the overflow flag is set and the returned bytes are the last length bytes of the log. The
returned offset is always the current size of the log, ready for the next call.

@param string name     process name (or group:name)
@param int offset      where to start reading
@param int length      the most bytes to return
@return array result   [string bytes, int offset, bool overflow]";

const HELP_CLEAR_PROCESS_LOGS: &str = "Truncate a process's stdout and stderr logs and reopen them.

@param string name       process name (or group:name)
@return boolean result   true unless an error occurred";

/// Every method, in no particular order (listMethods sorts).
pub const METHODS: &[MethodSpec] = &[
    system(
        "listMethods",
        &["array"],
        "List the names of all methods this server publishes.

@return array result  method names, sorted",
    ),
    system(
        "methodHelp",
        &["string", "string"],
        "Show the documentation of a method.

@param string name    the method's full name
@return string result its documentation",
    ),
    system(
        "methodSignature",
        &["array", "string"],
        "Describe a method's signature as [return type, parameter types...].

@param string name    the method's full name
@return array result  the signature",
    ),
    system(
        "multicall",
        &["array", "array"],
        "Run several calls in one request, in order.

Each call is a struct {'methodName': string, 'params': array}. The result holds, per call,
either its return value or a struct {'faultCode': int, 'faultString': string}.

@param array calls    the calls to make
@return array result  one result per call",
    ),
    main("getAPIVersion", &["string"], 0, HELP_API_VERSION),
    main("getVersion", &["string"], 0, HELP_API_VERSION),
    main(
        "getSupervisorVersion",
        &["string"],
        0,
        "Report the version of supervisor running this supervisord.

@return string version the package version",
    ),
    main(
        "getIdentification",
        &["string"],
        0,
        "Report the identifier of this supervisord (identifier= in [supervisord]).

@return string identifier the identifying string",
    ),
    main(
        "getState",
        &["struct"],
        0,
        "Report the state of supervisord.

@return struct result {int statecode, string statename}",
    ),
    main(
        "getPID",
        &["int"],
        0,
        "Report the process id of supervisord.

@return int pid the process id",
    ),
    main("readLog", &["string", "int", "int"], 2, HELP_READ_LOG),
    main("readMainLog", &["string", "int", "int"], 2, HELP_READ_LOG),
    main(
        "clearLog",
        &["boolean"],
        0,
        "Delete the main log file and reopen it.

@return boolean result true unless an error occurred",
    ),
    main(
        "shutdown",
        &["boolean"],
        0,
        "Stop all processes and exit supervisord.

@return boolean result true unless an error occurred",
    ),
    main(
        "restart",
        &["boolean"],
        0,
        "Stop all processes, reread the configuration and start again.

@return boolean result true unless an error occurred",
    ),
    main(
        "reloadConfig",
        &["array"],
        0,
        "Reread the configuration file and compare it with the running groups.

Nothing is started or stopped. The result holds three lists of group names: groups added to
the configuration, groups whose configuration changed, and groups no longer configured.

@return array result [[added, changed, removed]]",
    ),
    main(
        "addProcessGroup",
        &["boolean", "string"],
        1,
        "Activate a process group from the configuration.

@param string name      the group to add
@return boolean result  true if it was added",
    ),
    main(
        "removeProcessGroup",
        &["boolean", "string"],
        1,
        "Remove a process group whose processes are all stopped.

@param string name      the group to remove
@return boolean result  true if it was removed",
    ),
    main(
        "startProcess",
        &["boolean", "string", "boolean"],
        1,
        "Start a process (or every process of a group given as group:*).

@param string name      process name (or group:name, or group:*)
@param boolean wait     wait until the process is RUNNING (default true)
@return boolean result  true unless an error occurred",
    ),
    main(
        "startProcessGroup",
        &["array", "string", "boolean"],
        1,
        "Start every process of a group that is not already running.

@param string name      the group name
@param boolean wait     wait until each process is RUNNING (default true)
@return array result    one status struct per process acted on",
    ),
    main(
        "startAllProcesses",
        &["array", "boolean"],
        0,
        "Start every process that is not already running.

@param boolean wait     wait until each process is RUNNING (default true)
@return array result    one status struct per process acted on",
    ),
    main(
        "stopProcess",
        &["boolean", "string", "boolean"],
        1,
        "Stop a process (or every process of a group given as group:*).

@param string name      process name (or group:name, or group:*)
@param boolean wait     wait until the process has stopped (default true)
@return boolean result  true unless an error occurred",
    ),
    main(
        "stopProcessGroup",
        &["array", "string", "boolean"],
        1,
        "Stop every running process of a group.

@param string name      the group name
@param boolean wait     wait until each process has stopped (default true)
@return array result    one status struct per process acted on",
    ),
    main(
        "stopAllProcesses",
        &["array", "boolean"],
        0,
        "Stop every running process.

@param boolean wait     wait until each process has stopped (default true)
@return array result    one status struct per process acted on",
    ),
    main(
        "signalProcess",
        &["boolean", "string", "string"],
        2,
        "Send a UNIX signal to a process (or every process of a group given as group:*).

@param string name      process name (or group:name, or group:*)
@param string signal    signal name ('HUP', 'SIGUSR1') or number ('1')
@return boolean result  true unless an error occurred",
    ),
    main(
        "signalProcessGroup",
        &["array", "string", "string"],
        2,
        "Send a UNIX signal to every signallable process of a group.

@param string name      the group name
@param string signal    signal name ('HUP', 'SIGUSR1') or number ('1')
@return array result    one status struct per process acted on",
    ),
    main(
        "signalAllProcesses",
        &["array", "string"],
        1,
        "Send a UNIX signal to every signallable process.

@param string signal    signal name ('HUP', 'SIGUSR1') or number ('1')
@return array result    one status struct per process acted on",
    ),
    main(
        "getAllConfigInfo",
        &["array"],
        0,
        "Describe the configuration of every process in the loaded configuration, including
groups that are not active.

@return array result  one config struct per process, sorted by name",
    ),
    main(
        "getProcessInfo",
        &["struct", "string"],
        1,
        "Describe one process.

@param string name     process name (or group:name)
@return struct result  the process's state, times, pid, log files and description",
    ),
    main(
        "getAllProcessInfo",
        &["array"],
        0,
        "Describe every process, sorted by group name then process name.

@return array result  one struct per process, as getProcessInfo returns",
    ),
    main(
        "readProcessStdoutLog",
        &["string", "string", "int", "int"],
        3,
        HELP_READ_STDOUT,
    ),
    main(
        "readProcessLog",
        &["string", "string", "int", "int"],
        3,
        HELP_READ_STDOUT,
    ),
    main(
        "readProcessStderrLog",
        &["string", "string", "int", "int"],
        3,
        "Read bytes from a process's stderr log.

Offsets and lengths work as for readLog.

@param string name     process name (or group:name)
@param int offset      where to start reading
@param int length      how many bytes to read
@return string result  the bytes read",
    ),
    main(
        "tailProcessStdoutLog",
        &["array", "string", "int", "int"],
        3,
        HELP_TAIL_STDOUT,
    ),
    main(
        "tailProcessLog",
        &["array", "string", "int", "int"],
        3,
        HELP_TAIL_STDOUT,
    ),
    main(
        "tailProcessStderrLog",
        &["array", "string", "int", "int"],
        3,
        "Tail a process's stderr log more cheaply than readProcessStderrLog.

Works like tailProcessStdoutLog.

@param string name     process name (or group:name)
@param int offset      where to start reading
@param int length      the most bytes to return
@return array result   [string bytes, int offset, bool overflow]",
    ),
    main(
        "clearProcessLogs",
        &["boolean", "string"],
        1,
        HELP_CLEAR_PROCESS_LOGS,
    ),
    main(
        "clearProcessLog",
        &["boolean", "string"],
        1,
        HELP_CLEAR_PROCESS_LOGS,
    ),
    main(
        "clearAllProcessLogs",
        &["array"],
        0,
        "Truncate and reopen the logs of every process.

@return array result  one status struct per process",
    ),
    main(
        "sendProcessStdin",
        &["boolean", "string", "string"],
        2,
        "Write characters to a process's stdin (encoded as UTF-8).

@param string name      process name (or group:name)
@param string chars     the characters to send
@return boolean result  true unless an error occurred",
    ),
    main(
        "sendRemoteCommEvent",
        &["boolean", "string", "string"],
        2,
        "Emit a REMOTE_COMMUNICATION event to subscribed event listeners.

@param string type      the value of the type header of the event
@param string data      the event body
@return boolean result  true unless an error occurred",
    ),
];

/// The spec of a full method name, if published under the backend's namespaces.
pub fn lookup(full_name: &str, backend: &dyn Backend) -> Option<&'static MethodSpec> {
    let (namespace, name) = split_method(full_name)?;
    let wanted = if namespace == "system" {
        Namespace::System
    } else if backend.rpc_namespaces().iter().any(|n| n == namespace) {
        Namespace::Main
    } else {
        return None;
    };
    METHODS
        .iter()
        .find(|m| m.namespace == wanted && m.name == name)
}

/// `ns.method` with exactly one dot; names starting with `_` are never published.
fn split_method(full_name: &str) -> Option<(&str, &str)> {
    let (namespace, name) = full_name.split_once('.')?;
    if name.contains('.') || name.starts_with('_') {
        return None;
    }
    Some((namespace, name))
}

/// All published full names, sorted.
pub fn list_methods(backend: &dyn Backend) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in METHODS {
        match m.namespace {
            Namespace::System => names.push(format!("system.{}", m.name)),
            Namespace::Main => {
                for ns in backend.rpc_namespaces() {
                    names.push(format!("{ns}.{}", m.name));
                }
            }
        }
    }
    crate::sort::sort(&mut names);
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The help text's `@param type name` / `@return type name` lines must agree with the
    /// signature, since clients may derive signatures from either.
    #[test]
    fn help_tags_agree_with_signatures() {
        for m in METHODS {
            let mut ret = None;
            let mut params = Vec::new();
            for line in m.help.lines() {
                let parts: Vec<&str> = line.split_whitespace().collect();
                match parts.first() {
                    Some(&"@return") => ret = parts.get(1).copied(),
                    Some(&"@param") => params.push(parts[1]),
                    _ => {}
                }
            }
            let mut sig = vec![ret.expect(m.name)];
            sig.extend(params);
            assert_eq!(sig, m.signature, "{}", m.name);
            assert!(m.required < m.signature.len(), "{}", m.name);
        }
    }

    #[test]
    fn method_names_need_exactly_one_dot_and_no_underscore() {
        let cases = [
            ("supervisor.getPID", Some(("supervisor", "getPID"))),
            ("a.b.c", None),
            ("getPID", None),
            ("supervisor._getAllProcesses", None),
            ("", None),
            (".x", Some(("", "x"))),
        ];
        for (name, want) in cases {
            assert_eq!(split_method(name), want, "{name}");
        }
    }
}
