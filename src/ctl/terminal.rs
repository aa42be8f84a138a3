//! Terminal input: a line reader on stdin that notices Ctrl-C, and the no-echo password prompt.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::atomic::Ordering;

use super::interrupt::INTERRUPTED;

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
