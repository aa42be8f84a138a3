//! Entry point of the `supervisord` applet: the reference's command line (getopt style, with its
//! usage errors), then `daemon::run`.

use std::path::{Path, PathBuf};

use crate::config::values;
use crate::daemon::Overrides;
use crate::getopt::{Spec, getopt, usage_error};

const OPTIONS: Spec = Spec {
    short_with_arg: "cumlydzejiqa",
    short_flags: "nshvkt?",
    long: LONG,
};

/// (long name, takes a value)
const LONG: &[(&str, bool)] = &[
    ("configuration", true),
    ("nodaemon", false),
    ("silent", false),
    ("help", false),
    ("version", false),
    ("user", true),
    ("umask", true),
    ("directory", true),
    ("logfile", true),
    ("logfile_maxbytes", true),
    ("logfile_backups", true),
    ("loglevel", true),
    ("pidfile", true),
    ("identifier", true),
    ("childlogdir", true),
    ("nocleanup", false),
    ("minfds", true),
    ("strip_ansi", false),
    ("minprocs", true),
    ("profile_options", true),
];

const HELP: &str = "supervisord -- run a set of applications as daemons.

Usage: {argv0} [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
--profile_options OPTIONS -- accepted for compatibility; profiling is not supported
";

fn py_list(items: &[String]) -> String {
    crate::python::list_repr(items.iter().map(|s| crate::python::py_repr(s)))
}

/// Parses argv into overrides; Err((message, exit code)) for usage errors, Ok(None) when help or
/// version was printed.
pub fn parse_args(argv0: &str, args: &[String]) -> Result<Option<Overrides>, String> {
    let (opts, positional) = getopt(args, &OPTIONS)?;
    if !positional.is_empty() {
        return Err(format!(
            "positional arguments are not supported: {}",
            py_list(&positional)
        ));
    }
    let mut o = Overrides::default();
    let mut seen: Vec<&str> = Vec::new();
    for (opt, value) in &opts {
        let key = match opt.as_str() {
            "-c" | "--configuration" => "c",
            "-n" | "--nodaemon" => "n",
            "-s" | "--silent" => "s",
            "-h" | "-?" | "--help" => {
                print!("{}", HELP.replace("{argv0}", argv0));
                return Ok(None);
            }
            "-v" | "--version" => {
                println!("{}", crate::wire::SUPERVISOR_VERSION);
                return Ok(None);
            }
            "-u" | "--user" => "u",
            "-m" | "--umask" => "m",
            "-d" | "--directory" => "d",
            "-l" | "--logfile" => "l",
            "-y" | "--logfile_maxbytes" => "y",
            "-z" | "--logfile_backups" => "z",
            "-e" | "--loglevel" => "e",
            "-j" | "--pidfile" => "j",
            "-i" | "--identifier" => "i",
            "-q" | "--childlogdir" => "q",
            "-k" | "--nocleanup" => "k",
            "-a" | "--minfds" => "a",
            "-t" | "--strip_ansi" => "t",
            "--minprocs" => "minprocs",
            _ => "profile",
        };
        let v = value.clone().unwrap_or_default();
        let invalid = |e: String| {
            format!(
                "invalid value for {opt} {}: {e}",
                crate::python::py_repr(&v)
            )
        };
        if seen.contains(&key) {
            return Err(format!(
                "conflicting command line option {}",
                crate::python::py_repr(opt)
            ));
        }
        seen.push(key);
        match key {
            "c" => o.configuration = Some(PathBuf::from(&v)),
            "n" => o.nodaemon = true,
            "s" => o.silent = true,
            "k" => o.nocleanup = true,
            "t" => o.strip_ansi = true,
            "u" => o.user = Some(v),
            "m" => o.umask = Some(values::octal(&v).map_err(invalid)?),
            "d" => o.directory = Some(values::existing_directory(&v).map_err(invalid)?),
            "l" => o.logfile = Some(values::existing_dirpath(&v).map_err(invalid)?),
            "y" => o.logfile_maxbytes = Some(values::byte_size(&v).map_err(invalid)?.max(0) as u64),
            "z" => o.logfile_backups = Some(values::integer(&v).map_err(invalid)?.max(0) as u32),
            "e" => o.loglevel = Some(values::log_level(&v).map_err(invalid)?),
            "j" => o.pidfile = Some(values::existing_dirpath(&v).map_err(invalid)?),
            "i" => o.identifier = Some(v),
            "q" => o.childlogdir = Some(values::existing_directory(&v).map_err(invalid)?),
            "a" => o.minfds = Some(values::integer(&v).map_err(invalid)?.max(0) as u64),
            "minprocs" => o.minprocs = Some(values::integer(&v).map_err(invalid)?.max(0) as u64),
            _ => {}
        }
    }
    Ok(Some(o))
}

pub fn main(argv0: &str, args: &[String]) -> i32 {
    let overrides = match parse_args(argv0, args) {
        Ok(Some(o)) => o,
        Ok(None) => return 0,
        Err(msg) => return usage_error(argv0, &msg),
    };
    let overrides = Overrides {
        argv0: argv0.to_string(),
        ..overrides
    };
    let _ = Path::new(argv0);
    crate::daemon::run(argv0, overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn usage_errors_match_the_reference() {
        let cases = [
            (
                "-e foo",
                "invalid value for -e 'foo': bad logging level name 'foo'",
            ),
            (
                "-a x",
                "invalid value for -a 'x': invalid literal for int() with base 10: 'x'",
            ),
            ("--bogus", "option --bogus not recognized"),
            ("-x", "option -x not recognized"),
            (
                "--nodaemon=1",
                "option --nodaemon must not have an argument",
            ),
            (
                "-m 99",
                "invalid value for -m '99': 99 can not be converted to an octal type",
            ),
            (
                "-q /nonexist",
                "invalid value for -q '/nonexist': /nonexist is not an existing directory",
            ),
            (
                "-c a extra -n",
                "positional arguments are not supported: ['extra', '-n']",
            ),
            ("-c a -c b", "conflicting command line option '-c'"),
            (
                "--nodaemon --nod",
                "conflicting command line option '--nodaemon'",
            ),
            ("--mini=5", "option --mini not recognized"),
            ("-e", "option -e requires argument"),
            ("--loglevel", "option --loglevel requires argument"),
            (
                "-ndebug",
                "invalid value for -d 'ebug': ebug is not an existing directory",
            ),
            (
                "--config=x --configuration y",
                "conflicting command line option '--configuration'",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_args("supervisord", &args(input)).err().as_deref(),
                Some(want),
                "{input}"
            );
        }
    }

    #[test]
    fn values_parse_in_both_spellings() {
        let o = parse_args(
            "s",
            &args("-cfile --loglevel debug --minprocs=5 -nk -y 1KB"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.configuration, Some(PathBuf::from("file")));
        assert_eq!(o.loglevel, Some(crate::config::model::LogLevel::Debug));
        assert_eq!(o.minprocs, Some(5));
        assert!(o.nodaemon && o.nocleanup);
        assert_eq!(o.logfile_maxbytes, Some(1024));
    }
}
