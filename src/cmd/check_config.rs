//! `supervisor check-config [-c FILE] [--dump]`: loads a config the way supervisord would and
//! prints a summary (exit 0), every error as `FILE:LINE: [section] option: problem` (exit 1), or
//! the whole resolved model as JSON with `--dump`. Usage errors exit 2.

use crate::config;
use std::path::PathBuf;

/// The options, parsed by argh. Every option is ours (supervisord has no check-config), so argh's
/// own wording is fine for errors; `normalize` keeps the getopt spellings `-cFILE` and
/// `--configuration=FILE` the applet accepted before argh.
#[derive(argh::FromArgs)]
#[argh(
    description = "Loads a supervisord config (default: the paths supervisord searches) and reports every problem.",
    help_triggers("-h", "--help", "-?")
)]
struct Args {
    /// the config file to check
    #[argh(option, short = 'c', arg_name = "FILE")]
    configuration: Option<PathBuf>,
    /// print the resolved configuration as JSON
    #[argh(switch)]
    dump: bool,
    /// word errors as supervisord 4.3.0 does (`Error: ...`)
    #[argh(switch)]
    reference_errors: bool,
}

/// Appends a formatted line to a String buffer.
macro_rules! outln {
    ($buf:expr, $($arg:tt)*) => {{
        $buf.push_str(&format!($($arg)*));
        $buf.push('\n');
    }};
}

/// Writes to stdout; a closed pipe (`check-config --dump | head`) is not an error worth a panic.
fn emit(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Splits the getopt forms argh does not know (`-cFILE`, `--configuration=FILE`) into two words.
fn normalize(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        if a == "--" {
            out.push(a.clone());
            out.extend(rest.cloned());
            break;
        }
        if let Some(v) = a.strip_prefix("--configuration=") {
            out.extend(["--configuration".to_string(), v.to_string()]);
        } else if let Some(v) = a.strip_prefix("-c").filter(|v| !v.is_empty()) {
            out.extend(["-c".to_string(), v.to_string()]);
        } else {
            out.push(a.clone());
            if a == "-c" || a == "--configuration" {
                // The next word is the value even if it looks like `-cX`.
                out.extend(rest.next().cloned());
            }
        }
    }
    out
}

pub fn main(argv0: &str, args: &[String]) -> i32 {
    let words = normalize(args);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let parsed = match super::parse_args::<Args>(argv0, "check-config", &words) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let Args {
        configuration: file,
        dump,
        reference_errors,
    } = parsed;
    let path = match file {
        Some(p) => {
            if !p.exists() {
                return crate::getopt::usage_error(
                    argv0,
                    &format!("could not find config file {}", p.display()),
                );
            }
            p
        }
        None => {
            let real_argv0 = std::env::args().next().unwrap_or_default();
            match config::find_config_file(&real_argv0) {
                Ok(p) => p,
                Err(msg) => return crate::getopt::usage_error(argv0, &msg),
            }
        }
    };
    let report = config::check_all(&path);
    for w in &report.warnings {
        eprintln!("warning: {}", w.message);
    }
    // What would fail once supervisord runs the config (config/runtime.rs).
    for w in &report.runtime.warnings {
        eprintln!("warning: {w}");
    }
    if report.errors.is_empty() && !report.runtime.errors.is_empty() {
        for e in &report.runtime.errors {
            eprintln!("{e}");
        }
        let n = report.runtime.errors.len();
        eprintln!(
            "{}: {n} error{} at run time",
            path.display(),
            if n == 1 { "" } else { "s" }
        );
        return 1;
    }
    if !report.errors.is_empty() {
        for e in &report.errors {
            if reference_errors {
                eprintln!("Error: {}", e.reference_message());
            } else {
                eprintln!("{e}");
            }
        }
        eprintln!(
            "{}: {} error{}",
            path.display(),
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        );
        return 1;
    }
    let Some(cfg) = report.config else {
        return 1;
    };
    for w in config::servers::exposure_warnings(&cfg) {
        eprintln!("warning: {w}");
    }
    if dump {
        emit(&config::dump::to_json(&cfg).render());
        return 0;
    }
    let mut out = String::new();
    let processes: usize = cfg.groups.iter().map(|g| g.processes.len()).sum();
    outln!(out, "{}: OK", path.display());
    if cfg.files.len() > 1 {
        outln!(
            out,
            "  files: {}",
            cfg.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    outln!(
        out,
        "  groups: {}, processes: {}",
        cfg.groups.len(),
        processes
    );
    for g in &cfg.groups {
        // Large pools are summarised; --dump has every name.
        const SHOWN: usize = 8;
        let mut names: Vec<&str> = g
            .processes
            .iter()
            .take(SHOWN)
            .map(|p| p.name.as_str())
            .collect();
        let more = format!("... ({} more)", g.processes.len().saturating_sub(SHOWN));
        if g.processes.len() > SHOWN {
            names.push(&more);
        }
        outln!(
            out,
            "    {} (priority {}): {}",
            g.name,
            g.priority,
            names.join(" ")
        );
    }
    for u in &cfg.unix_http_servers {
        outln!(out, "  [{}] unix://{}", u.section, u.file.display());
    }
    for s in &cfg.inet_http_servers {
        let host = if s.host.is_empty() { "*" } else { &s.host };
        outln!(out, "  [{}] http://{}:{}", s.section, host, s.port);
    }
    if !cfg.warnings.is_empty() {
        outln!(out, "  warnings: {}", cfg.warnings.len());
    }
    emit(&out);
    0
}
