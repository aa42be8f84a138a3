//! `env_file=` files: the dotenv format exactly as python-dotenv 1.x parses it (its
//! `parser.py`, without variable interpolation), and reading one from disk. Pure except
//! `read_file`; used by check-config (validation) and at every spawn (values).
//!
//! The grammar, per statement: leading whitespace and blank lines; an optional `export `;
//! a key (`'quoted'` or a run of characters other than `=`, `#` and whitespace); optional
//! `= value` where the value is `'single'` (only `\\` and `\'` are escapes), `"double"`
//! (`\\ \' \" \a \b \f \n \r \t \v`), or unquoted up to the end of the line (from the first
//! whitespace followed by `#` on it is a comment; trailing whitespace is dropped); then an
//! optional `# comment` and the end of the line. Quoted values may span lines. A statement that
//! does not fit is a parse error at the line where it starts (python-dotenv warns and skips to
//! the end of that line; we refuse the file). A key without `=` sets nothing.

use std::path::Path;

/// A statement python-dotenv could not parse, or an unreadable file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvError {
    /// 1-based line where the statement starts (None: the file as a whole).
    pub line: Option<usize>,
    pub problem: String,
}

impl DotenvError {
    /// `PATH:LINE: problem` (or `PATH: problem`).
    pub fn describe(&self, path: &Path) -> String {
        match self.line {
            Some(line) => format!("{}:{line}: {}", path.display(), self.problem),
            None => format!("{}: {}", path.display(), self.problem),
        }
    }
}

/// Python's `str.isspace` (what `\s` matches in a `str` pattern).
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Horizontal whitespace: `[^\S\r\n]`.
fn blank(c: char) -> bool {
    py_space(c) && c != '\r' && c != '\n'
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Moves forward `len` bytes, counting newlines as python-dotenv does (`\r\n` once).
    fn advance(&mut self, len: usize) {
        let s = &self.text[self.pos..self.pos + len];
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\r' => {
                    self.line += 1;
                    if bytes.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                }
                b'\n' => self.line += 1,
                _ => {}
            }
            i += 1;
        }
        self.pos += len;
    }

    /// Consumes the longest prefix of characters matching `pred`; returns it.
    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c| !pred(c)).unwrap_or(rest.len());
        self.advance(len);
        &rest[..len]
    }

    /// `[^\S\r\n]*(?:\r\n|\n|\r|$)`: false when something else follows.
    fn end_of_line(&mut self) -> bool {
        self.take_while(blank);
        let rest = self.rest();
        let len = if rest.starts_with("\r\n") {
            2
        } else if rest.starts_with('\n') || rest.starts_with('\r') {
            1
        } else if rest.is_empty() {
            0
        } else {
            return false;
        };
        self.advance(len);
        true
    }

    /// A quoted value `Q((?:\\Q|[^Q])*)Q` after its opening quote, with the regex's
    /// backtracking: it closes at the first quote not preceded by a backslash; failing that,
    /// at the last backslash-quote of the text (the backslash then belongs to the value).
    fn quoted(&mut self, quote: char) -> Option<&'a str> {
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let q = quote as u8;
        let mut close = None;
        let mut last_escaped = None;
        for (i, &b) in bytes.iter().enumerate() {
            if b != q {
                continue;
            }
            if i > 0 && bytes[i - 1] == b'\\' {
                last_escaped = Some(i);
            } else {
                close = Some(i);
                break;
            }
        }
        let end = close.or(last_escaped)?;
        self.advance(end + 1);
        Some(&rest[..end])
    }
}

/// Replaces each escape `\x` (x in `set`) by its character, left to right, without overlap.
fn decode_escapes(value: &str, set: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && set.contains(next)
        {
            chars.next();
            out.push(match next {
                'a' => '\x07',
                'b' => '\x08',
                'f' => '\x0c',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'v' => '\x0b',
                other => other,
            });
            continue;
        }
        out.push(c);
    }
    out
}

/// An unquoted value: to the end of the line, without a ` #comment` and trailing whitespace.
fn unquoted(part: &str) -> String {
    // `re.sub(r"\s+#.*", "", part)`: the first whitespace run followed by `#` starts the cut.
    let mut cut = part.len();
    let mut run_start = None;
    for (i, c) in part.char_indices() {
        if py_space(c) {
            run_start.get_or_insert(i);
        } else if c == '#' && run_start.is_some() {
            cut = run_start.unwrap_or(i);
            break;
        } else {
            run_start = None;
        }
    }
    part[..cut].trim_end_matches(py_space).to_string()
}

/// One statement; Ok(None) for blank lines, comments and keys without a value.
fn statement(r: &mut Reader) -> Result<Option<(String, String)>, ()> {
    r.take_while(py_space);
    if r.rest().is_empty() {
        return Ok(None);
    }
    // `(?:export[^\S\r\n]+)?`
    if let Some(after) = r.rest().strip_prefix("export")
        && after.starts_with(blank)
    {
        r.advance("export".len());
        r.take_while(blank);
    }
    let key = match r.peek() {
        Some('#') => None,
        Some('\'') => {
            r.advance(1);
            let k = r.take_while(|c| c != '\'');
            if k.is_empty() || r.peek() != Some('\'') {
                return Err(());
            }
            r.advance(1);
            Some(k.to_string())
        }
        _ => {
            let k = r.take_while(|c| c != '=' && c != '#' && !py_space(c));
            if k.is_empty() {
                return Err(());
            }
            Some(k.to_string())
        }
    };
    r.take_while(blank);
    let value = if r.peek() == Some('=') {
        r.advance(1);
        r.take_while(blank);
        Some(match r.peek() {
            Some('\'') => {
                r.advance(1);
                decode_escapes(r.quoted('\'').ok_or(())?, "\\'")
            }
            Some('"') => {
                r.advance(1);
                decode_escapes(r.quoted('"').ok_or(())?, "\\'\"abfnrtv")
            }
            None | Some('\n') | Some('\r') => String::new(),
            Some(_) => unquoted(r.take_while(|c| c != '\r' && c != '\n')),
        })
    } else {
        None
    };
    // `(?:[^\S\r\n]*#[^\r\n]*)?`
    let save = (r.pos, r.line);
    r.take_while(blank);
    if r.peek() == Some('#') {
        r.take_while(|c| c != '\r' && c != '\n');
    } else {
        (r.pos, r.line) = save;
    }
    if !r.end_of_line() {
        return Err(());
    }
    Ok(key.zip(value))
}

/// Parses dotenv text into (key, value) pairs in file order (a later duplicate wins when they
/// are applied in order). The first statement python-dotenv could not parse is the error.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, DotenvError> {
    let mut r = Reader {
        text,
        pos: 0,
        line: 1,
    };
    let mut out = Vec::new();
    while r.pos < text.len() {
        // The line where the statement's text starts (python-dotenv names the line where the
        // blank lines before it start).
        r.take_while(py_space);
        let start = r.line;
        match statement(&mut r) {
            Ok(Some(pair)) => out.push(pair),
            Ok(None) => {}
            Err(()) => {
                return Err(DotenvError {
                    line: Some(start),
                    problem: "could not parse statement (python-dotenv syntax: KEY=VALUE, \
                              'single' or \"double\" quotes closed)"
                        .to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// Reads and parses one env file.
pub fn read_file(path: &Path) -> Result<Vec<(String, String)>, DotenvError> {
    let bytes = std::fs::read(path).map_err(|e| {
        // `No such file or directory`, without std's ` (os error 2)`.
        let text = e.to_string();
        let text = text.rfind(" (os error ").map_or(&*text, |at| &text[..at]);
        DotenvError {
            line: None,
            problem: format!("cannot read env file: {text}"),
        }
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        DotenvError {
            line: Some(line),
            problem: "not valid UTF-8".to_string(),
        }
    })?;
    parse(text)
}

/// Reads several env files in order into one list (a later file's value wins when applied).
pub fn read_files(paths: &[std::path::PathBuf]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for path in paths {
        out.extend(read_file(path).map_err(|e| e.describe(path))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    /// Cases checked against python-dotenv 1.2 (`dotenv_values(stream, interpolate=False)`,
    /// keys whose value is None left out).
    #[test]
    fn statements_parse_like_python_dotenv() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("A=1", &[("A", "1")]),
            ("A=1\nB=2\n", &[("A", "1"), ("B", "2")]),
            ("export A=1", &[("A", "1")]),
            ("export   A = 1 ", &[("A", "1")]),
            ("export=1", &[("export", "1")]),
            ("  A=1\n\n\n  B=2", &[("A", "1"), ("B", "2")]),
            ("# comment\nA=1 # trailing\n", &[("A", "1")]),
            ("A=a#b", &[("A", "a#b")]),
            ("A=a b #c d", &[("A", "a b")]),
            ("A= # not a comment", &[("A", "# not a comment")]),
            ("A=", &[("A", "")]),
            ("A=\nB=2", &[("A", ""), ("B", "2")]),
            ("A", &[]),
            ("A\nB=1", &[("B", "1")]),
            ("A='x y'", &[("A", "x y")]),
            ("A='$HOME \\n'", &[("A", "$HOME \\n")]),
            ("A='it\\'s'", &[("A", "it's")]),
            ("A='a\\\\b'", &[("A", "a\\b")]),
            ("A=\"a\\nb\"", &[("A", "a\nb")]),
            ("A=\"say \\\"hi\\\"\"", &[("A", "say \"hi\"")]),
            ("A=\"back\\\\slash\"", &[("A", "back\\slash")]),
            ("A=\"\\t\\x\"", &[("A", "\t\\x")]),
            (
                "A=\"multi\nline\"\nB=2",
                &[("A", "multi\nline"), ("B", "2")],
            ),
            ("A=\"x\" # c", &[("A", "x")]),
            ("'A B'=1", &[("A B", "1")]),
            ("A=${B}", &[("A", "${B}")]),
            ("A=1\r\nB=2\r\n", &[("A", "1"), ("B", "2")]),
            ("A=1\rB=2", &[("A", "1"), ("B", "2")]),
            ("A=1\nA=2", &[("A", "1"), ("A", "2")]),
            ("A=  spaced  ", &[("A", "spaced")]),
            ("A=é ü", &[("A", "é ü")]),
            ("A='a\\'", &[("A", "a\\")]),
        ];
        for (text, want) in cases {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(ok(text), want, "{text:?}");
        }
    }

    /// Statements python-dotenv reports as `could not parse statement starting at line N`.
    #[test]
    fn parse_errors_name_the_statement_line() {
        let cases: &[(&str, usize)] = &[
            ("A=\"unterminated", 1),
            ("A=1\nB='open\nC=3", 2),
            ("=1", 1),
            ("A=\"x\" junk", 1),
            ("A=1\n\n  B C=2", 3),
            ("A=1\r\nB=\"x", 2),
            ("''=1", 1),
        ];
        for (text, line) in cases {
            assert_eq!(
                parse(text).map_err(|e| e.line),
                Err(Some(*line)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = DotenvError {
            line: Some(3),
            problem: "bad".into(),
        };
        assert_eq!(e.describe(Path::new("/e/.env")), "/e/.env:3: bad");
        let dir = std::env::temp_dir().join(format!("dotenv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.env");
        std::fs::write(&bad, b"A=1\nB=\xff\n").unwrap();
        assert_eq!(read_file(&bad).unwrap_err().line, Some(2));
        let missing = dir.join("missing.env");
        let msg = read_files(std::slice::from_ref(&missing)).unwrap_err();
        assert!(msg.starts_with(&format!("{}: cannot read env file", missing.display())));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
