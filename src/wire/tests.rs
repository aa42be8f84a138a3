//! Pins the wire vocabulary: a table transcribed from the reference (always), and the same
//! comparison against the installed reference's own classes when it is there (REF_BIN).

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::*;

/// (kind, NAME, code) for every entry we define, in the shape `REFERENCE_DUMP` prints.
fn ours() -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    let mut add = |kind: &str, name: &str, code: String| {
        out.insert((kind.to_string(), name.to_string(), code));
    };
    for f in FaultCode::ALL {
        add("fault", f.name(), f.code().to_string());
    }
    for s in ProcessState::ALL {
        add("process", s.name(), s.code().to_string());
    }
    for s in [
        SupervisorState::Fatal,
        SupervisorState::Running,
        SupervisorState::Restarting,
        SupervisorState::Shutdown,
    ] {
        add("supervisor", s.name(), s.code().to_string());
    }
    for s in [
        ListenerState::Ready,
        ListenerState::Busy,
        ListenerState::Acknowledged,
        ListenerState::Unknown,
    ] {
        add("listener", s.name(), s.code().to_string());
    }
    add("version", "API_VERSION", API_VERSION.to_string());
    add("version", "VERSION", SUPERVISOR_VERSION.to_string());
    out
}

/// Prints the reference's tables as `kind NAME code` lines.
const REFERENCE_DUMP: &str = "
from supervisor.xmlrpc import Faults
from supervisor.states import ProcessStates, SupervisorStates, EventListenerStates
from supervisor.rpcinterface import API_VERSION
from supervisor.options import VERSION
for kind, cls in (('fault', Faults), ('process', ProcessStates),
                  ('supervisor', SupervisorStates), ('listener', EventListenerStates)):
    for name, code in vars(cls).items():
        if not name.startswith('__'):
            print(kind, name, code)
print('version', 'API_VERSION', API_VERSION)
print('version', 'VERSION', VERSION)
";

#[test]
fn faults_match_the_reference_table() {
    // supervisor/xmlrpc.py class Faults.
    let table = [
        (FaultCode::UnknownMethod, 1, "UNKNOWN_METHOD"),
        (FaultCode::IncorrectParameters, 2, "INCORRECT_PARAMETERS"),
        (FaultCode::BadArguments, 3, "BAD_ARGUMENTS"),
        (FaultCode::SignatureUnsupported, 4, "SIGNATURE_UNSUPPORTED"),
        (FaultCode::ShutdownState, 6, "SHUTDOWN_STATE"),
        (FaultCode::BadName, 10, "BAD_NAME"),
        (FaultCode::BadSignal, 11, "BAD_SIGNAL"),
        (FaultCode::NoFile, 20, "NO_FILE"),
        (FaultCode::NotExecutable, 21, "NOT_EXECUTABLE"),
        (FaultCode::Failed, 30, "FAILED"),
        (FaultCode::AbnormalTermination, 40, "ABNORMAL_TERMINATION"),
        (FaultCode::SpawnError, 50, "SPAWN_ERROR"),
        (FaultCode::AlreadyStarted, 60, "ALREADY_STARTED"),
        (FaultCode::NotRunning, 70, "NOT_RUNNING"),
        (FaultCode::Success, 80, "SUCCESS"),
        (FaultCode::AlreadyAdded, 90, "ALREADY_ADDED"),
        (FaultCode::StillRunning, 91, "STILL_RUNNING"),
        (FaultCode::CantReread, 92, "CANT_REREAD"),
    ];
    assert_eq!(table.len(), FaultCode::ALL.len());
    for (fault, code, name) in table {
        assert_eq!(fault.code(), code, "{name}");
        assert_eq!(fault.name(), name);
        assert_eq!(FaultCode::from_code(code), Some(fault));
    }
    assert_eq!(FaultCode::from_code(5), None);
}

#[test]
fn states_match_the_reference_table() {
    // supervisor/states.py ProcessStates, STOPPED_STATES, RUNNING_STATES, SIGNALLABLE_STATES.
    let table = [
        (ProcessState::Stopped, 0, "STOPPED", true, false, false),
        (ProcessState::Starting, 10, "STARTING", false, true, true),
        (ProcessState::Running, 20, "RUNNING", false, true, true),
        (ProcessState::Backoff, 30, "BACKOFF", false, true, false),
        (ProcessState::Stopping, 40, "STOPPING", false, false, true),
        (ProcessState::Exited, 100, "EXITED", true, false, false),
        (ProcessState::Fatal, 200, "FATAL", true, false, false),
        (ProcessState::Unknown, 1000, "UNKNOWN", true, false, false),
    ];
    assert_eq!(table.len(), ProcessState::ALL.len());
    for (state, code, name, stopped, running, signallable) in table {
        assert_eq!(state.code(), code);
        assert_eq!(state.name(), name);
        assert_eq!(state.is_stopped(), stopped, "{name}");
        assert_eq!(state.is_running(), running, "{name}");
        assert_eq!(state.is_signallable(), signallable, "{name}");
        assert_eq!(ProcessState::from_code(code.into()), Some(state));
    }
    assert_eq!(ProcessState::from_code(-1), None);

    // SupervisorStates and EventListenerStates.
    assert_eq!(SupervisorState::Fatal.code(), 2);
    assert_eq!(SupervisorState::Running.code(), 1);
    assert_eq!(SupervisorState::Restarting.code(), 0);
    assert_eq!(SupervisorState::Shutdown.code(), -1);
    assert_eq!(ListenerState::Ready.code(), 10);
    assert_eq!(ListenerState::Busy.code(), 20);
    assert_eq!(ListenerState::Acknowledged.code(), 30);
    assert_eq!(ListenerState::Unknown.code(), 40);
}

#[test]
fn versions_match_the_reference() {
    assert_eq!(API_VERSION, "3.0");
    assert_eq!(SUPERVISOR_VERSION, "4.3.0");
}

/// The reference venv's bin dir: REF_BIN, else `.ref-venv/bin` in the checkout.
fn reference_bin() -> Option<PathBuf> {
    let dir = std::env::var_os("REF_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.ref-venv/bin")));
    dir.join("python").exists().then_some(dir)
}

#[test]
fn every_name_and_code_matches_the_installed_reference() {
    let Some(bin) = reference_bin() else {
        assert!(
            std::env::var_os("REQUIRE_REF").is_none(),
            "reference supervisor not installed (run `make ref`)"
        );
        eprintln!("SKIP: reference supervisor not installed (run `make ref`)");
        return;
    };
    let out = std::process::Command::new(bin.join("python"))
        .args(["-c", REFERENCE_DUMP])
        .output()
        .expect("run the reference's python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: BTreeSet<(String, String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut w = line.split(' ');
            Some((w.next()?.into(), w.next()?.into(), w.next()?.into()))
        })
        .collect();
    assert_eq!(ours(), reference);
}
