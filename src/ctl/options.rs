//! supervisorctl's command line and `[supervisorctl]` section: getopt-style parsing (short
//! clusters, unique long prefixes, stop at the first action word), config file search and the
//! precedence command line > config file > defaults, with the reference's usage errors.

use std::path::{Path, PathBuf};

use crate::pyrepr::py_repr;

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

const SHORT_WITH_ARG: &[char] = &['c', 's', 'u', 'p', 'r'];
const SHORT_FLAGS: &[char] = &['h', '?', 'i'];
/// Long options; a trailing `=` means it takes an argument (getopt's convention).
const LONG: &[&str] = &[
    "help",
    "configuration=",
    "interactive",
    "serverurl=",
    "username=",
    "password=",
    "history_file=",
];

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

/// One option occurrence as getopt reports it: (`-s` or `--serverurl`, argument).
/// Options found (name, argument) and the remaining positional words.
type GetoptResult = Result<(Vec<(String, String)>, Vec<String>), String>;

fn getopt(args: &[String]) -> GetoptResult {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let matches: Vec<&&str> = LONG.iter().filter(|l| l.starts_with(name)).collect();
            let exact =
                LONG.iter()
                    .find(|l| l.trim_end_matches('=') == name)
                    .or(if matches.len() == 1 {
                        Some(matches[0])
                    } else {
                        None
                    });
            let Some(spec) = exact else {
                return Err(if matches.is_empty() {
                    format!("option --{name} not recognized")
                } else {
                    format!("option --{name} not a unique prefix")
                });
            };
            let full = spec.trim_end_matches('=');
            if spec.ends_with('=') {
                let value = match value {
                    Some(v) => v,
                    None => {
                        i += 1;
                        match args.get(i) {
                            Some(v) => v.clone(),
                            None => return Err(format!("option --{full} requires argument")),
                        }
                    }
                };
                opts.push((format!("--{full}"), value));
            } else {
                if value.is_some() {
                    return Err(format!("option --{full} must not have an argument"));
                }
                opts.push((format!("--{full}"), String::new()));
            }
            i += 1;
            continue;
        }
        if arg.starts_with('-') && arg != "-" {
            let cluster: Vec<char> = arg.chars().skip(1).collect();
            let mut j = 0;
            while j < cluster.len() {
                let c = cluster[j];
                if SHORT_FLAGS.contains(&c) {
                    opts.push((format!("-{c}"), String::new()));
                    j += 1;
                } else if SHORT_WITH_ARG.contains(&c) {
                    let rest: String = cluster[j + 1..].iter().collect();
                    let value = if !rest.is_empty() {
                        rest
                    } else {
                        i += 1;
                        match args.get(i) {
                            Some(v) => v.clone(),
                            None => return Err(format!("option -{c} requires argument")),
                        }
                    };
                    opts.push((format!("-{c}"), value));
                    j = cluster.len();
                } else {
                    return Err(format!("option -{c} not recognized"));
                }
            }
            i += 1;
            continue;
        }
        break;
    }
    Ok((opts, args[i..].to_vec()))
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
    let (opts, rest) = match getopt(args) {
        Ok(x) => x,
        Err(e) => return Parsed::Usage(e),
    };
    let mut given = Given::default();
    for (opt, value) in opts {
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
    fn getopt_matches_python() {
        type Case<'a> = (
            &'a [&'a str],
            Result<(Vec<(&'a str, &'a str)>, &'a [&'a str]), &'a str>,
        );
        let cases: Vec<Case> = vec![
            (&["-x"], Err("option -x not recognized")),
            (&["-s"], Err("option -s requires argument")),
            (&["--foo"], Err("option --foo not recognized")),
            (
                &["--serverurl"],
                Err("option --serverurl requires argument"),
            ),
            (
                &["--interactive=1"],
                Err("option --interactive must not have an argument"),
            ),
            (&["--h"], Err("option --h not a unique prefix")),
            (
                &["--history-file", "x"],
                Err("option --history-file not recognized"),
            ),
            (
                &[
                    "--server", "x", "--user=u", "-sfoo", "-iu", "bob", "status", "-s", "y",
                ],
                Ok((
                    vec![
                        ("--serverurl", "x"),
                        ("--username", "u"),
                        ("-s", "foo"),
                        ("-i", ""),
                        ("-u", "bob"),
                    ],
                    &["status", "-s", "y"],
                )),
            ),
            (&["--", "-s"], Ok((vec![], &["-s"]))),
            (&["-", "x"], Ok((vec![], &["-", "x"]))),
        ];
        for (args, want) in cases {
            let got = getopt(&s(args));
            let want = want.map(|(o, r)| {
                (
                    o.into_iter()
                        .map(|(a, b)| (a.to_string(), b.to_string()))
                        .collect::<Vec<_>>(),
                    s(r),
                )
            });
            assert_eq!(got, want.map_err(|e| e.to_string()), "{args:?}");
        }
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
