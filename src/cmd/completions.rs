//! `supervisor completions bash|zsh|fish`: prints the shell completion script (the files in
//! packaging/completions/, built in so an installed binary can always print its own).

const BASH: &str = include_str!("../../packaging/completions/supervisor.bash");
const ZSH: &str = include_str!("../../packaging/completions/supervisor.zsh");
const FISH: &str = include_str!("../../packaging/completions/supervisor.fish");

const USAGE: &str = "usage: supervisor completions bash|zsh|fish\n\n\
Prints a completion script for the shell. For example:\n  \
bash: source <(supervisor completions bash)   (or save it in /usr/share/bash-completion/completions/supervisor)\n  \
zsh:  supervisor completions zsh > \"${fpath[1]}/_supervisor\"\n  \
fish: supervisor completions fish > ~/.config/fish/completions/supervisor.fish";

/// The script for `shell`, if we have one.
pub fn script(shell: &str) -> Option<&'static str> {
    match shell {
        "bash" => Some(BASH),
        "zsh" => Some(ZSH),
        "fish" => Some(FISH),
        _ => None,
    }
}

pub fn main(argv0: &str, args: &[String]) -> i32 {
    match args {
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            0
        }
        [shell] => match script(shell) {
            Some(text) => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                // A closed pipe (`... | head`) is not worth a panic.
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
                0
            }
            None => {
                eprintln!("{argv0}: unknown shell '{shell}' (bash, zsh or fish)\n{USAGE}");
                2
            }
        },
        _ => {
            eprintln!("{USAGE}");
            2
        }
    }
}
