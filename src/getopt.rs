//! Python's `getopt.getopt`, which both of the reference's command lines use: clustered short
//! options (`-nc file`, `-cfile`), long options by unique prefix (`--conf=x`), parsing stops at
//! the first positional argument or after `--`. Error texts are getopt's, word for word. Also the
//! usage-error rendering both commands share (supervisor/options.py `Options.usage`).
//!
//! A leaf: supervisord's entry point (cmd), the daemon's config errors and supervisorctl use it.

/// Prints a usage error as the reference (`Error: <msg>` and where to find help, on stderr) and
/// returns its exit code.
pub fn usage_error(argv0: &str, msg: &str) -> i32 {
    eprintln!("Error: {msg}\nFor help, use {argv0} -h");
    2
}

/// The options one command accepts.
pub struct Spec<'a> {
    /// Short options that take an argument, e.g. `"cu"`.
    pub short_with_arg: &'a str,
    /// Short options without one.
    pub short_flags: &'a str,
    /// Long option names and whether each takes an argument.
    pub long: &'a [(&'a str, bool)],
}

/// Options in command-line order as (spelling, argument): `("--serverurl", Some(url))`,
/// `("-n", None)`. A long option is spelled out in full even when given by a prefix.
pub type Opts = Vec<(String, Option<String>)>;

/// Splits `args` (without argv[0]) into options and the positional rest.
pub fn getopt(args: &[String], spec: &Spec) -> Result<(Opts, Vec<String>), String> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let (full, takes_arg) = long_option(spec, name)?;
            let value = match (takes_arg, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => {
                    i += 1;
                    match args.get(i) {
                        Some(v) => Some(v.clone()),
                        None => return Err(format!("option --{full} requires argument")),
                    }
                }
                (false, Some(_)) => {
                    return Err(format!("option --{full} must not have an argument"));
                }
                (false, None) => None,
            };
            opts.push((format!("--{full}"), value));
        } else if arg.len() > 1 && arg.starts_with('-') {
            let cluster: Vec<char> = arg.chars().skip(1).collect();
            for (j, &c) in cluster.iter().enumerate() {
                if spec.short_flags.contains(c) {
                    opts.push((format!("-{c}"), None));
                } else if spec.short_with_arg.contains(c) {
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
                    opts.push((format!("-{c}"), Some(value)));
                    break;
                } else {
                    return Err(format!("option -{c} not recognized"));
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    Ok((opts, args[i.min(args.len())..].to_vec()))
}

/// The long option `name` stands for: an exact name, else the only one it is a prefix of.
fn long_option<'a>(spec: &Spec<'a>, name: &str) -> Result<(&'a str, bool), String> {
    if let Some(&exact) = spec.long.iter().find(|(l, _)| *l == name) {
        return Ok(exact);
    }
    let mut matches = spec.long.iter().filter(|(l, _)| l.starts_with(name));
    match (matches.next(), matches.next()) {
        (Some(&only), None) => Ok(only),
        (None, _) => Err(format!("option --{name} not recognized")),
        (Some(_), Some(_)) => Err(format!("option --{name} not a unique prefix")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small table of its own (the commands' real tables live in upper layers and are
    /// tested there): short options with and without arguments, long ones sharing prefixes.
    const SPEC: Spec = Spec {
        short_with_arg: "fo",
        short_flags: "v?",
        long: &[
            ("verbose", false),
            ("version", false),
            ("file", true),
            ("log_file", true),
        ],
    };

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// Expected results checked against Python's getopt.getopt with the same options.
    #[test]
    fn getopt_matches_python() {
        type Case<'a> = (
            &'a [&'a str],
            Result<(Vec<(&'a str, Option<&'a str>)>, &'a [&'a str]), &'a str>,
        );
        let cases: Vec<Case> = vec![
            (&["-x"], Err("option -x not recognized")),
            (&["-f"], Err("option -f requires argument")),
            (&["--foo"], Err("option --foo not recognized")),
            (&["--file"], Err("option --file requires argument")),
            (
                &["--verbose=1"],
                Err("option --verbose must not have an argument"),
            ),
            (&["--ver"], Err("option --ver not a unique prefix")),
            (
                &["--log-file", "x"],
                Err("option --log-file not recognized"),
            ),
            (
                &["--fi", "x", "--log=u", "-fa", "-vo", "b", "run", "-f", "y"],
                Ok((
                    vec![
                        ("--file", Some("x")),
                        ("--log_file", Some("u")),
                        ("-f", Some("a")),
                        ("-v", None),
                        ("-o", Some("b")),
                    ],
                    &["run", "-f", "y"],
                )),
            ),
            (&["--verbose"], Ok((vec![("--verbose", None)], &[]))),
            (&["-?"], Ok((vec![("-?", None)], &[]))),
            (&["--", "-f"], Ok((vec![], &["-f"]))),
            (&["-v", "--"], Ok((vec![("-v", None)], &[]))),
            (&["-", "x"], Ok((vec![], &["-", "x"]))),
            (&[], Ok((vec![], &[]))),
        ];
        for (args, want) in cases {
            let got = getopt(&s(args), &SPEC);
            let want = want.map(|(o, r)| {
                (
                    o.into_iter()
                        .map(|(a, b)| (a.to_string(), b.map(str::to_string)))
                        .collect::<Vec<_>>(),
                    s(r),
                )
            });
            assert_eq!(got, want.map_err(|e| e.to_string()), "{args:?}");
        }
    }
}
