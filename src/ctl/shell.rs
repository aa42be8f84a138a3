//! The interactive shell: the prompt loop and the history file.

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::controller::{Controller, Flow};
use super::dispatch::onecmd;
use super::interrupt::INTERRUPTED;

/// Runs the shell: `status` first, then one command per input line until quit/EOF/Ctrl-C.
pub fn run(c: &mut Controller) {
    let history_file = c.options.history_file.clone();
    let mut history = history_file
        .as_deref()
        .map(load_history)
        .unwrap_or_default();
    // The reference keeps history through readline, which only runs on a terminal.
    let record = nix::unistd::isatty(io::stdin()).unwrap_or(false);
    onecmd(c, "status");
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
        if onecmd(c, &line) == Flow::Quit {
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
