//! The interactive shell (prompt, history file) and terminal input: a line reader on stdin that
//! notices Ctrl-C, the no-echo password prompt, and the SIGINT flag the streaming commands use.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::controller::{Controller, Flow};

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

/// Line input from fd 0, unbuffered beyond what has been read, returning
/// `ErrorKind::Interrupted` when Ctrl-C arrives while waiting.
#[derive(Default)]
pub struct Input {
    pending: Vec<u8>,
    eof: bool,
}

impl Input {
    /// One line without its newline; None at end of input.
    pub fn read_line(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(pos) = self.pending.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.eof {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                let line = std::mem::take(&mut self.pending);
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            let mut buf = [0u8; 4096];
            match nix::unistd::read(io::stdin().as_fd(), &mut buf) {
                Ok(0) => self.eof = true,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(nix::errno::Errno::EINTR) => {
                    if INTERRUPTED.load(Ordering::SeqCst) {
                        return Err(io::Error::from(io::ErrorKind::Interrupted));
                    }
                }
                Err(e) => return Err(io::Error::from(e)),
            }
        }
    }
}

/// `getpass`: prompt and read on the terminal with echo off; without a terminal, prompt on
/// stderr and read from standard input.
pub fn read_password(prompt: &str, input: &mut Input) -> io::Result<String> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty");
    if let Ok(mut tty) = tty
        && let Ok(saved) = tcgetattr(&tty)
    {
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        tty.write_all(prompt.as_bytes())?;
        tty.flush()?;
        let _ = tcsetattr(&tty, SetArg::TCSAFLUSH, &quiet);
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        let result = loop {
            match io::Read::read(&mut tty, &mut byte) {
                Ok(0) => break Ok(()),
                Ok(_) if byte[0] == b'\n' => break Ok(()),
                Ok(_) => line.push(byte[0]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if INTERRUPTED.load(Ordering::SeqCst) {
                        break Err(e);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        let _ = tcsetattr(&tty, SetArg::TCSAFLUSH, &saved);
        let _ = tty.write_all(b"\n");
        result?;
        return Ok(String::from_utf8_lossy(&line).into_owned());
    }
    // Like Python's fallback: the prompt on stderr, the answer from standard input.
    eprintln!("Warning: Password input may be echoed.");
    eprint!("{prompt}");
    let line = input.read_line()?.unwrap_or_default();
    eprintln!();
    Ok(line)
}

/// Runs the shell: `status` first, then one command per input line until quit/EOF/Ctrl-C.
pub fn run(c: &mut Controller) {
    let history_file = c.options.history_file.clone();
    let mut history = history_file
        .as_deref()
        .map(load_history)
        .unwrap_or_default();
    // The reference keeps history through readline, which only runs on a terminal.
    let record = nix::unistd::isatty(io::stdin()).unwrap_or(false);
    c.onecmd("status");
    loop {
        if INTERRUPTED.swap(false, Ordering::SeqCst) {
            c.output("");
            break;
        }
        let prompt = format!("{}> ", c.options.prompt);
        let line = match c.read_line(&prompt) {
            Ok(Some(line)) => line,
            Ok(None) => "EOF".to_string(),
            Err(_) => {
                c.output("");
                break;
            }
        };
        if record && !line.trim().is_empty() && line != "EOF" {
            history.push(line.clone());
        }
        if c.onecmd(&line) == Flow::Quit {
            break;
        }
    }
    if let Some(path) = history_file.filter(|_| record) {
        let mut text = history.join("\n");
        text.push('\n');
        let _ = std::fs::write(path, text);
    }
}

fn load_history(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}
