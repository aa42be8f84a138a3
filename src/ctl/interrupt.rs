//! Ctrl-C in supervisorctl: the SIGINT handler sets one flag, checked where the reference catches
//! KeyboardInterrupt (the prompt, the password prompt, a call in flight, tail -f and fg).

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the SIGINT handler; checked where the reference catches KeyboardInterrupt.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the SIGINT handler without SA_RESTART, so blocking reads return EINTR.
pub fn install_sigint_handler() {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(
        SigHandler::Handler(on_sigint),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    let _ = unsafe { sigaction(Signal::SIGINT, &action) };
}

/// Keeps SIGINT away from helper threads so the main thread's read is the one interrupted.
pub fn block_sigint_in_this_thread() {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
}
