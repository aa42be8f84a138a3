//! The interactive shell: the prompt loop and the history file. On a terminal the prompt is a
//! rustyline editor (line editing, history with Up/Down and Ctrl-R, Tab completion from
//! `complete.rs`); other input (pipes, scripts) is read line by line exactly as before.

use std::cell::RefCell;
use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use super::complete::{Known, complete};
use super::controller::{Controller, Flow};
use super::dispatch::onecmd;
use super::interrupt::INTERRUPTED;
use super::transport::RpcClient;

/// Lines Up/Ctrl-R reach back (the history file keeps every line, as before).
const EDITOR_HISTORY: usize = 10_000;

/// Runs the shell: `status` first, then one command per input line until quit/EOF/Ctrl-C.
pub fn run(c: &mut Controller) {
    let history_file = c.options.history_file.clone();
    let history = history_file
        .as_deref()
        .map(load_history)
        .unwrap_or_default();
    // The reference keeps history through readline, which only runs on a terminal.
    let record = nix::unistd::isatty(io::stdin()).unwrap_or(false);
    // The editor needs both ends on the terminal (`supervisorctl > file` reads plain lines).
    let tty = record && nix::unistd::isatty(io::stdout()).unwrap_or(false);
    onecmd(c, "status");
    let history = if tty {
        interactive(c, history).unwrap_or_else(|history| piped(c, history, record))
    } else {
        piped(c, history, record)
    };
    if let Some(path) = history_file.filter(|_| record) {
        let mut text = history.join("\n");
        text.push('\n');
        let _ = std::fs::write(path, text);
    }
}

/// The prompt loop on plain lines (no terminal, or no editor): records history when `record`.
fn piped(c: &mut Controller, mut history: Vec<String>, record: bool) -> Vec<String> {
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
    history
}

/// The prompt loop on a terminal. Err(history) when the editor cannot start (the caller falls
/// back to plain lines). Ctrl-C at the prompt ends the shell after an empty line, as the
/// reference's KeyboardInterrupt around cmdloop does; Ctrl-D is `EOF`.
fn interactive(c: &mut Controller, mut history: Vec<String>) -> Result<Vec<String>, Vec<String>> {
    let Ok(builder) = Config::builder().max_history_size(EDITOR_HISTORY) else {
        return Err(history);
    };
    // List (not cycle) candidates on a second Tab, as GNU readline does for the reference.
    let config = builder
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .build();
    let Ok(mut editor) =
        Editor::<ShellHelper, rustyline::history::DefaultHistory>::with_config(config)
    else {
        return Err(history);
    };
    for line in &history {
        let _ = editor.add_history_entry(line.as_str());
    }
    loop {
        INTERRUPTED.store(false, Ordering::SeqCst);
        // A fresh client per prompt: credentials may have been entered since.
        editor.set_helper(Some(ShellHelper {
            client: RefCell::new(RpcClient::new(
                &c.options.serverurl,
                c.options.username.clone(),
                c.options.password.clone(),
            )),
            known: RefCell::new(None),
        }));
        let prompt = format!("{}> ", c.options.prompt);
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Eof) => "EOF".to_string(),
            Err(_) => {
                c.output("");
                break;
            }
        };
        if !line.trim().is_empty() {
            let _ = editor.add_history_entry(line.as_str());
            history.push(line.clone());
        }
        if onecmd(c, &line) == Flow::Quit {
            break;
        }
    }
    Ok(history)
}

/// Completion for one prompt: the process names are fetched on the first Tab and kept until
/// the next prompt.
struct ShellHelper {
    client: RefCell<RpcClient>,
    known: RefCell<Option<Vec<Known>>>,
}

impl ShellHelper {
    fn known(&self) -> Vec<Known> {
        if let Some(known) = self.known.borrow().as_ref() {
            return known.clone();
        }
        let fetched: Vec<Known> = self
            .client
            .borrow_mut()
            .call("supervisor.getAllProcessInfo", &[])
            .ok()
            .and_then(|v| super::commands::items(v).ok())
            .unwrap_or_default()
            .iter()
            .map(|info| Known {
                group: info.member_str("group").unwrap_or_default().to_string(),
                name: info.member_str("name").unwrap_or_default().to_string(),
            })
            .collect();
        *self.known.borrow_mut() = Some(fetched.clone());
        fetched
    }
}

impl Completer for ShellHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        // Names are only needed past the first word.
        let needs_names = line
            .get(..pos)
            .is_some_and(|b| b.trim_start().contains(' '));
        let known = if needs_names {
            self.known()
        } else {
            Vec::new()
        };
        Ok(complete(line, pos, &known))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

fn load_history(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}
