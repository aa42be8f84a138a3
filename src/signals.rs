//! Signal names and numbers as the reference spells them (Python's `signal` module on Linux).

/// (name without SIG, number), canonical names first; aliases after, for parsing only.
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
    ("RTMIN", 34),
    ("RTMAX", 64),
    // Aliases Python accepts.
    ("IOT", 6),
    ("CLD", 17),
    ("POLL", 29),
];

/// `SIGTERM` for 15; `None` for numbers without a name (real-time signals between RTMIN and RTMAX).
pub fn name(num: i32) -> Option<String> {
    SIGNALS
        .iter()
        .find(|(_, n)| *n == num)
        .map(|(name, _)| format!("SIG{name}"))
}

/// Parses a signal as the reference does: a name with or without `SIG`, any case, surrounding
/// whitespace allowed; or a number that is a valid signal number (0 included).
pub fn parse(value: &str) -> Result<i32, String> {
    let v = value.trim();
    if let Ok(num) = v.parse::<i32>() {
        // Python's signal.Signals has no members for 32, 33 and 35..63, so the reference
        // rejects those numbers; 0 is accepted.
        if num == 0 || name(num).is_some() {
            return Ok(num);
        }
        return Err(format!("value '{value}' is not a valid signal number"));
    }
    let upper = v.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS
        .iter()
        .find(|(name, _)| *name == bare)
        .map(|(_, n)| *n)
        .ok_or_else(|| format!("value '{value}' is not a valid signal name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_numbers_and_aliases() {
        let cases: &[(&str, Result<i32, ()>)] = &[
            ("TERM", Ok(15)),
            ("term", Ok(15)),
            ("SIGKILL", Ok(9)),
            ("KILL ", Ok(9)),
            (" sighup", Ok(1)),
            ("IOT", Ok(6)),
            ("CLD", Ok(17)),
            ("POLL", Ok(29)),
            ("RTMIN", Ok(34)),
            ("RTMAX", Ok(64)),
            ("0", Ok(0)),
            ("10", Ok(10)),
            ("FOO", Err(())),
            ("99", Err(())),
            ("40", Err(())),
            ("32", Err(())),
            ("31", Ok(31)),
            ("64", Ok(64)),
            ("-1", Err(())),
            ("", Err(())),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input).map_err(|_| ()), *want, "input {input:?}");
        }
    }

    #[test]
    fn error_texts_match_the_reference() {
        assert_eq!(
            parse("FOO").unwrap_err(),
            "value 'FOO' is not a valid signal name"
        );
        assert_eq!(
            parse("99").unwrap_err(),
            "value '99' is not a valid signal number"
        );
    }

    #[test]
    fn names_are_canonical() {
        assert_eq!(name(15).as_deref(), Some("SIGTERM"));
        assert_eq!(name(6).as_deref(), Some("SIGABRT"));
        assert_eq!(name(17).as_deref(), Some("SIGCHLD"));
        assert_eq!(name(40), None);
    }
}
