//! `supervisor check-config [-c FILE] [--dump]`: loads a config the way supervisord would and
//! prints a summary (exit 0), every error as `FILE:LINE: [section] option: problem` (exit 1), or
//! the whole resolved model as JSON with `--dump`. Usage errors exit 2.

use crate::config;
use std::path::PathBuf;

const USAGE: &str = "usage: check-config [-c FILE] [--dump]\n\n\
Loads a supervisord config (default: the paths supervisord searches) and reports every problem.\n\n\
options:\n  \
-c, --configuration FILE  the config file to check\n  \
--dump                    print the resolved configuration as JSON\n  \
--reference-errors        word errors as supervisord 4.3.0 does (`Error: ...`)\n  \
-h, --help                this text";

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

fn usage_error(argv0: &str, msg: &str) -> i32 {
    eprintln!("Error: {msg}\nFor help, use {argv0} -h");
    2
}

pub fn main(argv0: &str, args: &[String]) -> i32 {
    let mut file: Option<PathBuf> = None;
    let mut dump = false;
    let mut reference_errors = false;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        match arg {
            "-h" | "--help" | "-?" => {
                println!("{USAGE}");
                return 0;
            }
            "--dump" => dump = true,
            "--reference-errors" => reference_errors = true,
            "-c" | "--configuration" => {
                i += 1;
                let Some(v) = args.get(i) else {
                    return usage_error(argv0, &format!("option {arg} requires argument"));
                };
                file = Some(PathBuf::from(v));
            }
            a if a.starts_with("--configuration=") => {
                file = Some(PathBuf::from(&a["--configuration=".len()..]));
            }
            a if a.starts_with("-c") && a.len() > 2 => file = Some(PathBuf::from(&a[2..])),
            a if a.starts_with('-') => {
                return usage_error(argv0, &format!("option {a} not recognized"));
            }
            a => {
                return usage_error(
                    argv0,
                    &format!("positional arguments are not supported: {a}"),
                );
            }
        }
        i += 1;
    }
    let path = match file {
        Some(p) => {
            if !p.exists() {
                return usage_error(
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
                Err(msg) => return usage_error(argv0, &msg),
            }
        }
    };
    let report = config::check(&path);
    for w in &report.warnings {
        eprintln!("warning: {}", w.message);
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
