//! check-config, sample-config and the config loader through the real binary: fixture configs
//! that must pass or fail with exact error lines, and differential checks against the reference.

use crate::util::{self, TempDir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    files
}

/// `supervisor check-config ARGS` in `cwd`.
fn check_config(cwd: &Path, args: &[&str]) -> Output {
    Command::new(util::binary())
        .arg("check-config")
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The reference's resolved view (tests/ref/dump_config.py) of a config, run in `cwd`.
fn reference_dump(ref_bin: &Path, cwd: &Path, conf: &Path) -> Output {
    Command::new(ref_bin.join("python"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ref/dump_config.py"))
        .arg(conf)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The dump minus what the reference cannot know (which section / process_num made a process)
/// and minus warnings/infos (ours carry file:line and extra findings; compared separately).
fn comparable(dump: &str) -> String {
    let body = dump.split("\n  \"warnings\":").next().unwrap_or("");
    body.lines()
        .filter(|l| {
            let t = l.trim_start();
            !(t.starts_with("\"section\": \"program:")
                || t.starts_with("\"section\": \"eventlistener:")
                || t.starts_with("\"section\": \"fcgi-program:")
                || t.starts_with("\"section\": null")
                || t.starts_with("\"program_name\":")
                || t.starts_with("\"process_num\":"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: ours {:?} vs reference {:?}", i + 1, x, y);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

fn ours_only(conf: &Path) -> bool {
    std::fs::read_to_string(conf)
        .unwrap()
        .lines()
        .next()
        .unwrap_or("")
        .contains("ours-only")
}

/// `; expect: ...` lines of a broken fixture, with {file}/{dir} filled in.
fn expectations(conf: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(conf).unwrap();
    let dir = conf.parent().unwrap().display().to_string();
    text.lines()
        .filter_map(|l| l.strip_prefix("; expect: "))
        .map(|e| {
            e.replace("{file}", &conf.display().to_string())
                .replace("{dir}", &dir)
        })
        .collect()
}

#[test]
fn good_fixtures_pass_check_config() {
    let tmp = TempDir::new("cfg-good");
    let confs = fixtures("good");
    assert!(confs.len() >= 15, "only {} good fixtures", confs.len());
    for conf in confs {
        let out = check_config(&tmp.path, &["-c", conf.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            conf.display(),
            util::stderr(&out)
        );
        assert!(util::stdout(&out).starts_with(&format!("{}: OK", conf.display())));
    }
}

#[test]
fn bad_fixtures_report_each_expected_error_line() {
    let tmp = TempDir::new("cfg-bad");
    let confs = fixtures("bad");
    assert!(confs.len() >= 25, "only {} bad fixtures", confs.len());
    for conf in confs {
        let expected = expectations(&conf);
        assert!(
            !expected.is_empty(),
            "{} has no `; expect:` line",
            conf.display()
        );
        let out = check_config(&tmp.path, &["-c", conf.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", conf.display());
        let err = util::stderr(&out);
        let lines: Vec<&str> = err
            .lines()
            .filter(|l| !l.starts_with("warning: "))
            .collect();
        for want in &expected {
            let hit = match want.strip_suffix("...") {
                Some(prefix) => lines.iter().any(|l| l.starts_with(prefix)),
                None => lines.contains(&want.as_str()),
            };
            assert!(hit, "{}: missing {want:?} in\n{err}", conf.display());
        }
        // Every error is one line, plus the count line at the end.
        assert_eq!(lines.len(), expected.len() + 1, "{}: {err}", conf.display());
    }
}

#[test]
fn dump_matches_the_reference_for_every_good_fixture() {
    let Some(ref_bin) = util::require_reference("dump_matches_the_reference") else {
        return;
    };
    let tmp = TempDir::new("cfg-diff");
    for conf in fixtures("good").into_iter().filter(|c| !ours_only(c)) {
        let ours = check_config(&tmp.path, &["-c", conf.to_str().unwrap(), "--dump"]);
        assert_eq!(ours.status.code(), Some(0), "{}", conf.display());
        let theirs = reference_dump(&ref_bin, &tmp.path, &conf);
        let (a, b) = (
            comparable(&util::stdout(&ours)),
            comparable(&util::stdout(&theirs)),
        );
        assert!(
            a == b,
            "{}: {}\nreference stderr: {}",
            conf.display(),
            first_difference(&a, &b),
            util::stderr(&theirs)
        );
        // The reference's own warnings appear among ours word for word.
        let ours_text = util::stdout(&ours);
        let ref_text = util::stdout(&theirs);
        let ref_warnings = ref_text.split("\n  \"warnings\": ").nth(1).unwrap_or("");
        for w in ref_warnings
            .split("\n  \"infos\"")
            .next()
            .unwrap_or("")
            .lines()
        {
            let w = w.trim().trim_end_matches(',');
            if w.starts_with('"') {
                assert!(
                    ours_text.contains(w),
                    "{}: missing warning {w}",
                    conf.display()
                );
            }
        }
    }
}

#[test]
fn reference_rejects_every_bad_fixture_with_the_same_words() {
    let Some(ref_bin) = util::require_reference("reference_rejects_every_bad_fixture") else {
        return;
    };
    let tmp = TempDir::new("cfg-badref");
    for conf in fixtures("bad") {
        let theirs = reference_dump(&ref_bin, &tmp.path, &conf);
        let text = util::stdout(&theirs);
        let Some(message) = text.strip_prefix("ERROR: ") else {
            panic!("{}: the reference accepted it:\n{text}", conf.display());
        };
        let ours = check_config(
            &tmp.path,
            &["--reference-errors", "-c", conf.to_str().unwrap()],
        );
        let ours_err = util::stderr(&ours);
        let ours_messages: Vec<&str> = ours_err
            .split("Error: ")
            .map(|m| m.trim_end_matches('\n'))
            .map(|m| {
                m.rsplit_once('\n')
                    .map(|(a, b)| {
                        if b.ends_with("error") || b.ends_with("errors") {
                            a
                        } else {
                            m
                        }
                    })
                    .unwrap_or(m)
            })
            .collect();
        assert!(
            ours_messages.contains(&message.trim_end_matches('\n')),
            "{}: reference says {message:?}, ours:\n{ours_err}",
            conf.display()
        );
    }
}

/// Uncomments every setting line (`;x` but not `; prose`) of a sample config.
fn uncomment(sample: &str) -> String {
    sample
        .lines()
        .map(|l| match l.strip_prefix(';') {
            Some(rest) if !rest.is_empty() && !rest.starts_with(' ') => rest.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sample_config_passes_as_printed_and_fully_uncommented() {
    let tmp = TempDir::new("cfg-sample");
    let out = util::run(&tmp, "echo_supervisord_conf", &[]);
    assert_eq!(out.status.code(), Some(0));
    let sample = util::stdout(&out);
    for section in [
        "[supervisord]",
        ";[program:",
        ";[eventlistener:",
        ";[fcgi-program:",
        ";[group:",
        ";[include]",
    ] {
        assert!(sample.contains(section), "sample lacks {section}");
    }
    let as_printed = tmp.write("printed.conf", &sample);
    let full = tmp.write("full.conf", &uncomment(&sample));
    for conf in [&as_printed, &full] {
        let out = check_config(&tmp.path, &["-c", conf.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            conf.display(),
            util::stderr(&out)
        );
    }
    let out = check_config(&tmp.path, &["-c", full.to_str().unwrap()]);
    let summary = util::stdout(&out);
    for group in [
        "theprogramname",
        "theeventlistenername",
        "thefcgiprogramname",
        "thegroupname",
    ] {
        assert!(summary.contains(group), "{group} missing from\n{summary}");
    }
    // Every option of the sample is one we know: no unknown-option warnings.
    assert!(
        !util::stderr(&out).contains("unknown option"),
        "{}",
        util::stderr(&out)
    );
    // The same file through the applet name, and `sample-config` prints the same text.
    let via_sub = Command::new(util::binary())
        .arg("sample-config")
        .output()
        .unwrap();
    assert_eq!(util::stdout(&via_sub), sample);
    if let Some(ref_bin) = util::require_reference("sample_config_reference") {
        let theirs = reference_dump(&ref_bin, &tmp.path, &full);
        let ours = check_config(&tmp.path, &["-c", full.to_str().unwrap(), "--dump"]);
        let (a, b) = (
            comparable(&util::stdout(&ours)),
            comparable(&util::stdout(&theirs)),
        );
        assert!(a == b, "{}", first_difference(&a, &b));
    }
}

#[test]
fn the_reference_sample_config_uncommented_passes() {
    let Some(ref_bin) = util::require_reference("the_reference_sample_config") else {
        return;
    };
    let tmp = TempDir::new("cfg-refsample");
    let out = Command::new(ref_bin.join("echo_supervisord_conf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // Fill in what cannot work anywhere: example paths and accounts, and group members.
    let text = uncomment(&util::stdout(&out))
        .replace("/a/path", "/tmp/a.path")
        .replace("user=supervisord", "user=nobody")
        .replace("user=chrism", "user=nobody")
        .replace("chown=nobody:nogroup", "chown=nobody")
        .replace("programs=progname1,progname2", "programs=theprogramname");
    let conf = tmp.write("ref-sample.conf", &text);
    let ours = check_config(&tmp.path, &["-c", conf.to_str().unwrap(), "--dump"]);
    assert_eq!(ours.status.code(), Some(0), "{}", util::stderr(&ours));
    assert!(
        !util::stderr(&ours).contains("unknown option"),
        "{}",
        util::stderr(&ours)
    );
    let theirs = reference_dump(&ref_bin, &tmp.path, &conf);
    let (a, b) = (
        comparable(&util::stdout(&ours)),
        comparable(&util::stdout(&theirs)),
    );
    assert!(
        a == b,
        "{}\n{}",
        first_difference(&a, &b),
        util::stderr(&theirs)
    );
}

#[test]
fn unknown_options_warn_with_a_suggestion_and_still_pass() {
    let tmp = TempDir::new("cfg-typo");
    let conf = tmp.write(
        "typo.conf",
        "[supervisord]\nlogfile=/tmp/svt-typo.log\n\n[program:web]\ncommand=/bin/true\nautorestrat=true\nxyzzy=1\n\n[programs:x]\ncommand=/bin/true\n",
    );
    let out = check_config(&tmp.path, &["-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let err = util::stderr(&out);
    let c = conf.display();
    assert!(
        err.contains(&format!("warning: {c}:6: [program:web] autorestrat: unknown option, ignored (did you mean autorestart?)")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "warning: {c}:7: [program:web] xyzzy: unknown option, ignored\n"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "warning: {c}:9: [programs:x] unknown section, ignored (did you mean [program:x]?)"
        )),
        "{err}"
    );
}

#[test]
fn dollar_forms_expand_from_the_environment_and_warn_when_unset() {
    let tmp = TempDir::new("cfg-dollar");
    let conf = tmp.write(
        "d.conf",
        "[supervisord]\nlogfile=${SVT_LOGDIR}/s.log\n\n[program:d]\ncommand=/bin/echo ${SVT_WORD} ${SVT_UNSET_X:-dflt} ${SVT_UNSET_Y} $${SVT_WORD}\n",
    );
    let out = Command::new(util::binary())
        .args(["check-config", "--dump", "-c", conf.to_str().unwrap()])
        .env("SVT_LOGDIR", &tmp.path)
        .env("SVT_WORD", "hello")
        .env_remove("SVT_UNSET_X")
        .env_remove("SVT_UNSET_Y")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    let dump = util::stdout(&out);
    assert!(
        dump.contains(&format!("\"logfile\": \"{}/s.log\"", tmp.path.display())),
        "{dump}"
    );
    assert!(
        dump.contains("\"command\": \"/bin/echo hello dflt ${SVT_UNSET_Y} ${SVT_WORD}\""),
        "{dump}"
    );
    let err = util::stderr(&out);
    assert!(
        err.contains("[program:d] command: ${SVT_UNSET_Y} is not set in supervisord's environment; left as written"),
        "{err}"
    );
    assert!(!err.contains("SVT_UNSET_X"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let tmp = TempDir::new("cfg-usage");
    let cases: &[&[&str]] = &[
        &["-c"],
        &["--bogus"],
        &["extra"],
        &["-c", "/nonexistent-svt.conf"],
    ];
    for args in cases {
        let out = check_config(&tmp.path, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = util::stderr(&out);
        assert!(err.starts_with("Error: "), "{args:?}: {err}");
        assert!(err.contains("For help, use"), "{args:?}: {err}");
    }
    let out = check_config(&tmp.path, &["-h"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(util::stdout(&out).contains("--dump"));
}

#[test]
fn finds_the_config_relative_to_the_binary_and_in_the_cwd() {
    // Without -c: <bin>/../etc/supervisord.conf, <bin>/../supervisord.conf, then ./supervisord.conf.
    let tmp = TempDir::new("cfg-find");
    let bin_link = tmp.join("bin/supervisor");
    std::os::unix::fs::symlink(util::binary(), &bin_link).unwrap();
    let cwd = tmp.join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let run = || {
        Command::new(&bin_link)
            .arg("check-config")
            .current_dir(&cwd)
            .output()
            .unwrap()
    };
    let system_wide = ["/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"];
    if !system_wide.iter().any(|p| Path::new(p).exists()) {
        let out = run();
        assert_eq!(out.status.code(), Some(2));
        let want = format!(
            "Error: No config file found at default paths ({}/etc/supervisord.conf, {}/supervisord.conf, supervisord.conf, etc/supervisord.conf, /etc/supervisord.conf, /etc/supervisor/supervisord.conf); use the -c option to specify a config file at a different path",
            tmp.path.display(),
            tmp.path.display()
        );
        assert!(
            util::stderr(&out).starts_with(&want),
            "{}",
            util::stderr(&out)
        );
    }
    tmp.write("work/supervisord.conf", "[supervisord]\nidentifier=cwd\n");
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", util::stderr(&out));
    assert!(
        util::stdout(&out).starts_with("supervisord.conf: OK"),
        "{}",
        util::stdout(&out)
    );
    for (file, shown) in [
        ("supervisord.conf", "supervisord.conf"),
        ("etc/supervisord.conf", "etc/supervisord.conf"),
    ] {
        tmp.write(file, "[supervisord]\n");
        let out = run();
        let want = format!("{}/{shown}: OK", tmp.path.display());
        assert!(
            util::stdout(&out).starts_with(&want),
            "{}",
            util::stdout(&out)
        );
    }
}

#[test]
fn every_error_is_collected_in_one_run() {
    let tmp = TempDir::new("cfg-many");
    let conf = tmp.write(
        "many.conf",
        "[supervisord]\nloglevel=loud\n\n[program:a]\ncommand=/bin/true\nautostart=perhaps\nstartsecs=soon\n\n[program:b]\nstopsignal=NOPE\n",
    );
    let out = check_config(&tmp.path, &["-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = util::stderr(&out);
    for needle in [
        ":2: [supervisord] loglevel:",
        ":6: [program:a] autostart:",
        ":7: [program:a] startsecs:",
        ":10: [program:b] stopsignal:",
        ":9: [program:b] command: program section program:b does not specify a command",
        "many.conf: 5 errors",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
}

/// One option value at a time through both loaders: the same resolved view, or the same error.
#[test]
fn option_values_agree_with_the_reference() {
    let Some(ref_bin) = util::require_reference("option_values_agree_with_the_reference") else {
        return;
    };
    let tmp = TempDir::new("cfg-values");
    let cases: &[(&str, &str, &str)] = &[
        ("program", "autostart", "YES"),
        ("program", "autostart", "1"),
        ("program", "autostart", ""),
        ("program", "autostart", "tru"),
        ("program", "priority", " 7 "),
        ("program", "priority", "-3"),
        ("program", "priority", "1_000"),
        ("program", "priority", "1.5"),
        ("program", "startsecs", "0x10"),
        ("program", "stdout_logfile_maxbytes", "5 MB"),
        ("program", "stdout_logfile_maxbytes", "1gB"),
        ("program", "stdout_logfile_maxbytes", "1.5MB"),
        ("program", "stdout_logfile_maxbytes", "10K"),
        ("program", "stopsignal", "hup"),
        ("program", "stopsignal", " SIGUSR2 "),
        ("program", "stopsignal", "IOT"),
        ("program", "stopsignal", "CLD"),
        ("program", "stopsignal", "RTMAX"),
        ("program", "stopsignal", "40"),
        ("program", "stopsignal", "0"),
        ("program", "stopsignal", "SIGFOO"),
        ("program", "exitcodes", "0, 1,2"),
        ("program", "exitcodes", "1,"),
        ("program", "exitcodes", "-1"),
        ("program", "umask", "0o077"),
        ("program", "umask", "77"),
        ("program", "umask", "8"),
        ("program", "autorestart", "Unexpected"),
        ("program", "autorestart", "on"),
        ("program", "autorestart", "sometimes"),
        ("program", "stdout_logfile", "Off"),
        ("program", "stdout_logfile", "Syslog"),
        ("program", "stdout_logfile", "~/x.log"),
        (
            "program",
            "stdout_logfile",
            "%(program_name)s-%(process_num)03d.log",
        ),
        ("program", "stdout_logfile", "/tmp/%%%%.log"),
        ("program", "stdout_logfile", "/tmp/%%.log"),
        ("program", "environment", "A=\"x,y\",B='q r',C=plain"),
        ("program", "environment", "PATH=/usr/bin:/bin,LANG=C.UTF-8"),
        ("program", "environment", "A=1,,B=2"),
        ("program", "environment", "A=x;y"),
        (
            "program",
            "environment",
            "A=%(program_name)s-%(process_num)d",
        ),
        ("program", "environment", "HOME=/h,X=%(ENV_HOME)s"),
        ("program", "directory", "%(ENV_HOME)s/%(program_name)s"),
        (
            "program",
            "command",
            "/bin/echo %(program_name)5s|%(process_num)-3d|",
        ),
        ("program", "command", "/bin/echo %(here)r"),
        ("program", "command", "/bin/echo %(nope)s"),
        ("program", "command", "/bin/echo 50% done"),
        ("program", "command", "/bin/echo %(program_name)y"),
        ("program", "serverurl", "auto"),
        ("program", "serverurl", "http://127.0.0.1:9001"),
        ("program", "user", "0"),
        ("program", "user", "4242424"),
        ("program", "process_name", "%(program_name)s"),
        ("program", "process_name", "bad name"),
        ("program", "killasgroup", "true"),
        ("supervisord", "loglevel", "BLATHER"),
        ("supervisord", "loglevel", "warning"),
        ("supervisord", "umask", "002"),
        ("supervisord", "minfds", "+4096"),
        ("supervisord", "logfile", "relative.log"),
        ("supervisord", "logfile", "NONE"),
        ("supervisord", "identifier", "id %% x"),
        ("supervisord", "environment", "A=1,B=\"%(ENV_HOME)s\""),
        ("supervisord", "environment", "N=%%(host_node_name)s"),
        ("supervisord", "environment", "P=100%%%%"),
        ("supervisord", "childlogdir", "~"),
        ("supervisord", "directory", "/nonexistent-svt-dir"),
        ("inet_http_server", "port", "9001"),
        ("inet_http_server", "port", "*:9001"),
        ("inet_http_server", "port", ":9001"),
        ("inet_http_server", "port", "65536"),
        ("inet_http_server", "port", "h:"),
        ("unix_http_server", "chmod", "0o777"),
        ("unix_http_server", "chown", "0"),
        ("unix_http_server", "chown", "0:nosuchgroup-svt"),
    ];
    let mut failures = Vec::new();
    for (i, (section, option, value)) in cases.iter().enumerate() {
        let body = match *section {
            "program" => format!(
                "[supervisord]\nlogfile=/tmp/svt-values.log\n\n[program:p]\ncommand=/bin/true\n{option}={value}\n"
            ),
            "supervisord" => format!("[supervisord]\n{option}={value}\n"),
            "inet_http_server" => {
                format!("[supervisord]\n\n[inet_http_server]\n{option}={value}\n")
            }
            _ => format!(
                "[supervisord]\n\n[unix_http_server]\nfile=/tmp/svt-v.sock\n{option}={value}\n"
            ),
        };
        let conf = tmp.write(&format!("v{i}.conf"), &body);
        let theirs = reference_dump(&ref_bin, &tmp.path, &conf);
        let ref_out = util::stdout(&theirs);
        if let Some(message) = ref_out.strip_prefix("ERROR: ") {
            let ours = check_config(
                &tmp.path,
                &["--reference-errors", "-c", conf.to_str().unwrap()],
            );
            let err = util::stderr(&ours);
            if ours.status.code() != Some(1)
                || !err.contains(&format!("Error: {}", message.trim_end()))
            {
                failures.push(format!(
                    "[{section}] {option}={value}: reference {message:?}, ours {err:?}"
                ));
            }
        } else {
            let ours = check_config(&tmp.path, &["--dump", "-c", conf.to_str().unwrap()]);
            let (a, b) = (comparable(&util::stdout(&ours)), comparable(&ref_out));
            if a != b {
                failures.push(format!(
                    "[{section}] {option}={value}: {} {}",
                    first_difference(&a, &b),
                    util::stderr(&ours)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dump_into_a_closed_pipe_does_not_panic() {
    let tmp = TempDir::new("cfg-pipe");
    let mut text = String::from("[supervisord]\nlogfile=/tmp/svt-pipe.log\n");
    for i in 0..400 {
        text.push_str(&format!("\n[program:p{i}]\ncommand=/bin/sleep {i}\n"));
    }
    let conf = tmp.write("big.conf", &text);
    let script = format!(
        "'{}' check-config --dump -c '{}' | head -c 1 >/dev/null",
        util::binary().display(),
        conf.display()
    );
    let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    let err = util::stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
}
