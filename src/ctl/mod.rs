//! supervisorctl: the client that controls a running supervisord over XML-RPC. Output lines,
//! exit statuses and argument handling follow the reference (docs/ctl-notes.md); blocking I/O.

mod admin;
mod commands;
mod complete;
mod controller;
mod dispatch;
mod help;
mod interrupt;
pub(crate) mod options;
pub mod probe;
mod shell;
mod tail;
mod terminal;
pub(crate) mod transport;

use std::sync::atomic::Ordering;

pub use controller::Controller;
use options::Parsed;

/// Runs supervisorctl with `args` (argv without argv[0]) and returns the exit status.
pub fn main(argv0: &str, args: &[String]) -> i32 {
    let options = match options::parse(argv0, args) {
        Parsed::Run(o) => o,
        Parsed::Help => {
            print!("{}", usage(argv0));
            return 0;
        }
        Parsed::Usage(message) => return crate::getopt::usage_error(argv0, &message),
    };
    interrupt::install_sigint_handler();
    let mut controller = Controller::new(options);
    if !controller.options.args.is_empty() {
        let line = controller.options.args.join(" ");
        dispatch::onecmd(&mut controller, &line);
        if interrupt::INTERRUPTED.load(Ordering::SeqCst) {
            return 130;
        }
        return controller.exitstatus;
    }
    shell::run(&mut controller);
    0
}

fn usage(argv0: &str) -> String {
    format!(
        "supervisorctl -- control the programs of a running supervisord.

Usage: {argv0} [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- config file to read (searched for when not given)
-h/--help -- show this text and exit
-i/--interactive -- ask before shutdown/reload and for credentials when needed
-s/--serverurl URL -- where supervisord listens
     (default \"http://localhost:9001\").
-u/--username USERNAME -- user name for the server's authentication
-p/--password PASSWORD -- password for the server's authentication
-r/--history_file -- file to keep the shell's command history in

action [arguments] -- see below

Actions are commands like \"tail\" or \"stop\".  Without an action an interactive
shell reads actions typed at its prompt; type \"help\" there for the list.

"
    )
}
