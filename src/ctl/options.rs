//! supervisorctl's command line and `[supervisorctl]` section: getopt-style parsing (short
//! clusters, unique long prefixes, stop at the first action word), config file search and the
//! precedence command line > config file > defaults, with the reference's usage errors.

use std::path::{Path, PathBuf};

use crate::getopt::{Spec, getopt};
use crate::python::py_repr;

/// Everything the controller needs once options are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlOptions {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: String,
    pub history_file: Option<PathBuf>,
    /// `-i` given, or no action (the shell runs).
    pub interactive: bool,
    /// The action words, still split; the controller joins them with spaces.
    pub args: Vec<String>,
}

/// What parsing decided: run with options, or print something and exit.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(CtlOptions),
    /// `-h`: usage text on stdout, exit 0.
    Help,
    /// A usage error: `Error: <msg>` + `For help, use <argv0> -h` on stderr, exit 2.
    Usage(String),
}

pub const DEFAULT_SERVERURL: &str = "http://localhost:9001";

/// supervisorctl's options.
const OPTIONS: Spec = Spec {
    short_with_arg: "csupr",
    short_flags: "h?i",
    long: &[
        ("help", false),
        ("configuration", true),
        ("interactive", false),
        ("serverurl", true),
        ("username", true),
        ("password", true),
        ("history_file", true),
    ],
};

/// Command-line values; `None` = not given.
#[derive(Default)]
struct Given {
    configfile: Option<String>,
    serverurl: Option<String>,
    username: Option<String>,
    password: Option<String>,
    history_file: Option<String>,
    interactive: bool,
}

/// The reference's URL check: a scheme and something after it.
fn looks_like_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok && !rest.is_empty()
}

/// Parses argv (without argv[0]); `cwd` and `env` are passed in for tests.
pub fn parse(argv0: &str, args: &[String]) -> Parsed {
    let (opts, rest) = match getopt(args, &OPTIONS) {
        Ok(x) => x,
        Err(e) => return Parsed::Usage(e),
    };
    let mut given = Given::default();
    for (opt, value) in opts {
        let value = value.unwrap_or_default();
        let slot = match opt.as_str() {
            "-h" | "-?" | "--help" => return Parsed::Help,
            "-c" | "--configuration" => &mut given.configfile,
            "-s" | "--serverurl" => {
                if !looks_like_url(&value) {
                    return Parsed::Usage(format!(
                        "invalid value for {opt} {}: value {} is not a URL",
                        py_repr(&value),
                        py_repr(&value)
                    ));
                }
                &mut given.serverurl
            }
            "-u" | "--username" => &mut given.username,
            "-p" | "--password" => &mut given.password,
            "-r" | "--history_file" => &mut given.history_file,
            _ => {
                if given.interactive {
                    return Parsed::Usage(format!(
                        "conflicting command line option {}",
                        py_repr(&opt)
                    ));
                }
                given.interactive = true;
                continue;
            }
        };
        if slot.is_some() {
            return Parsed::Usage(format!("conflicting command line option {}", py_repr(&opt)));
        }
        *slot = Some(value);
    }
    let configfile = match given.configfile.clone() {
        Some(c) => Some(PathBuf::from(c)),
        None => search_config_file(argv0),
    };
    let section = match &configfile {
        Some(path) => match read_ctl_section(path) {
            Ok(s) => s,
            Err(e) => return Parsed::Usage(e),
        },
        None => CtlSection::default(),
    };
    let interactive = given.interactive || rest.is_empty();
    Parsed::Run(CtlOptions {
        serverurl: given
            .serverurl
            .or(section.serverurl)
            .unwrap_or_else(|| DEFAULT_SERVERURL.to_string()),
        username: given.username.or(section.username),
        password: given.password.or(section.password),
        prompt: section.prompt.unwrap_or_else(|| "supervisor".to_string()),
        history_file: given
            .history_file
            .map(PathBuf::from)
            .or(section.history_file),
        interactive,
        args: rest,
    })
}

/// The reference's search order (config::search_paths): next to the installation prefix of
/// argv[0], then the working directory, then /etc. No file found is fine for the client.
pub fn search_config_file(argv0: &str) -> Option<PathBuf> {
    crate::config::search_paths(argv0)
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// The `[supervisorctl]` values of a config file, already expanded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CtlSection {
    pub serverurl: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: Option<String>,
    pub history_file: Option<PathBuf>,
}

/// Reads `[supervisorctl]` like the reference: the file must exist and have the section.
pub fn read_ctl_section(path: &Path) -> Result<CtlSection, String> {
    if !path.exists() {
        return Err(format!("could not find config file {}", path.display()));
    }
    match crate::config::load_ctl(Some(path)) {
        Ok(c) => Ok(CtlSection {
            serverurl: Some(c.serverurl),
            username: c.username,
            password: c.password,
            prompt: Some(c.prompt),
            history_file: c.history_file,
        }),
        Err(errors) => Err(errors
            .first()
            .map(|e| e.reference_message())
            .unwrap_or_else(|| format!("could not read config file {}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn url_check() {
        for (url, ok) in [
            ("notaurl", false),
            ("http://localhost:9001", true),
            ("unix:///tmp/x.sock", true),
            ("localhost:9001", true),
            ("http:", false),
            ("1http://x", false),
        ] {
            assert_eq!(looks_like_url(url), ok, "{url}");
        }
    }

    /// The table's own spellings through getopt: long options by unique prefix, an
    /// underscore in `history_file`, clusters, and the stop at the first command word.
    #[test]
    fn options_table_spellings() {
        let (opts, rest) = getopt(
            &s(&[
                "--server", "x", "--user=u", "-iu", "bob", "--hist", "h", "status", "-s",
            ]),
            &OPTIONS,
        )
        .unwrap();
        let opts: Vec<(&str, Option<&str>)> = opts
            .iter()
            .map(|(o, v)| (o.as_str(), v.as_deref()))
            .collect();
        assert_eq!(
            opts,
            [
                ("--serverurl", Some("x")),
                ("--username", Some("u")),
                ("-i", None),
                ("-u", Some("bob")),
                ("--history_file", Some("h")),
            ]
        );
        assert_eq!(rest, ["status", "-s"]);
        assert_eq!(
            getopt(&s(&["--h"]), &OPTIONS),
            Err("option --h not a unique prefix".to_string())
        );
        assert_eq!(
            getopt(&s(&["--history-file", "x"]), &OPTIONS),
            Err("option --history-file not recognized".to_string())
        );
    }

    #[test]
    fn usage_errors() {
        let cases: Vec<(&[&str], &str)> = vec![
            (
                &["-s", "notaurl"],
                "invalid value for -s 'notaurl': value 'notaurl' is not a URL",
            ),
            (
                &["-s", "http://a", "-s", "http://b"],
                "conflicting command line option '-s'",
            ),
            (&["-i", "-i"], "conflicting command line option '-i'"),
            (
                &["-c", "/nonexistent/x.conf"],
                "could not find config file /nonexistent/x.conf",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(
                parse("/x/bin/supervisorctl", &s(args)),
                Parsed::Usage(want.to_string()),
                "{args:?}"
            );
        }
        assert_eq!(
            parse("/x/bin/supervisorctl", &s(&["-s", "http://a", "-h"])),
            Parsed::Help
        );
    }
}
