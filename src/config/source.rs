//! The only config file I/O: reading ini files with Python configparser's rules (as the reference
//! configures it), merging files into one document, and matching `[include]` glob patterns.
//!
//! rust-ini is not used: it cannot express configparser's inline-comment rule (`;`/`#` only after
//! whitespace), indentation-based continuation lines, or `:` as a delimiter.

use super::error::ConfigError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One option value with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: String,
    pub file: PathBuf,
    pub line: usize,
}

/// A section as it appeared in one file (sections may repeat; the document merges them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSection {
    pub name: String,
    pub line: usize,
    /// Lower-cased option names in first-seen order; a repeated option replaces the value in place.
    pub entries: Vec<(String, Entry)>,
}

/// A whole file as parsed, before merging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub path: PathBuf,
    pub sections: Vec<ParsedSection>,
}

/// Merged sections of the main file and its includes, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    pub sections: Vec<Section>,
    /// `[DEFAULT]`: inherited by every section.
    pub defaults: Vec<(String, Entry)>,
    /// Section name -> index in `sections` (configs may have hundreds of programs).
    index: HashMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// File and line where the section first appeared.
    pub file: PathBuf,
    pub line: usize,
    pub entries: Vec<(String, Entry)>,
}

pub const DEFAULT_SECTION: &str = "DEFAULT";

fn set_entry(entries: &mut Vec<(String, Entry)>, key: String, entry: Entry) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = entry,
        None => entries.push((key, entry)),
    }
}

impl Document {
    /// Adds a parsed file: repeated sections merge, repeated options take the later value.
    pub fn merge(&mut self, file: ParsedFile) {
        for parsed in file.sections {
            if parsed.name == DEFAULT_SECTION {
                for (k, e) in parsed.entries {
                    set_entry(&mut self.defaults, k, e);
                }
                continue;
            }
            let idx = match self.index.get(&parsed.name) {
                Some(&i) => i,
                None => {
                    self.index.insert(parsed.name.clone(), self.sections.len());
                    self.sections.push(Section {
                        name: parsed.name.clone(),
                        file: file.path.clone(),
                        line: parsed.line,
                        entries: Vec::new(),
                    });
                    self.sections.len() - 1
                }
            };
            for (k, e) in parsed.entries {
                set_entry(&mut self.sections[idx].entries, k, e);
            }
        }
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).and_then(|&i| self.sections.get(i))
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.section(name).is_some()
    }

    /// An option of a section, falling back to `[DEFAULT]` like configparser.
    pub fn get(&self, section: &str, option: &str) -> Option<&Entry> {
        self.section(section)
            .and_then(|s| s.entries.iter().find(|(k, _)| k == option).map(|(_, e)| e))
            .or_else(|| {
                self.defaults
                    .iter()
                    .find(|(k, _)| k == option)
                    .map(|(_, e)| e)
            })
    }

    /// Option names set directly in a section (not inherited from `[DEFAULT]`).
    pub fn own_options(&self, section: &str) -> Vec<(String, Entry)> {
        self.section(section)
            .map(|s| s.entries.clone())
            .unwrap_or_default()
    }
}

impl ParsedFile {
    /// Replaces the literal text `%(here)s` in every value (the reference does this once an
    /// `[include]` section exists, so each file's `%(here)s` means that file's directory).
    pub fn replace_here(&mut self, here: &str) {
        for s in &mut self.sections {
            for (_, e) in &mut s.entries {
                if e.value.contains("%(here)s") {
                    e.value = e.value.replace("%(here)s", here);
                }
            }
        }
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.sections.iter().any(|s| s.name == name)
    }
}

/// Reads and parses one file. Unreadable files are an error here; callers decide whether to skip.
pub fn read_file(path: &Path) -> Result<ParsedFile, Vec<ConfigError>> {
    let bytes = read_bytes(path)?;
    let text = String::from_utf8_lossy(&bytes);
    parse(&text, path)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, Vec<ConfigError>> {
    std::fs::read(path).map_err(|e| {
        // The reference words a missing file and an unreadable one differently.
        let verb = if e.kind() == std::io::ErrorKind::NotFound {
            "find"
        } else {
            "read"
        };
        let shown = path.display();
        vec![
            ConfigError::new(format!("could not {verb} config file {shown}: {e}"))
                .file(path)
                .reference(format!("could not {verb} config file {shown}")),
        ]
    })
}

/// Index where an inline comment starts: `;` or `#` at the line start or after whitespace.
fn inline_comment_start(line: &str) -> Option<usize> {
    // Most lines have neither character: a byte scan settles them without decoding chars.
    if !line.bytes().any(|b| b == b';' || b == b'#') {
        return None;
    }
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if (c == ';' || c == '#') && prev_space {
            return Some(i);
        }
        prev_space = c.is_whitespace();
    }
    None
}

/// Parses configparser text. Bad option lines are all collected; text before the first section
/// header stops parsing (as in configparser).
pub fn parse(text: &str, path: &Path) -> Result<ParsedFile, Vec<ConfigError>> {
    parse_keeping(text, path, |_| true)
}

/// Reads and parses one file, keeping only the sections `keep` accepts; the others are still
/// checked for syntax errors (configparser rejects the whole file) but cost no allocations.
/// supervisorctl reads one section of configs with hundreds of programs.
pub fn read_file_keeping(
    path: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<ParsedFile, Vec<ConfigError>> {
    let bytes = read_bytes(path)?;
    let text = String::from_utf8_lossy(&bytes);
    parse_keeping(&text, path, keep)
}

/// `parse`, storing only the sections `keep` accepts.
pub fn parse_keeping(
    text: &str,
    path: &Path,
    keep: impl Fn(&str) -> bool,
) -> Result<ParsedFile, Vec<ConfigError>> {
    let mut sections: Vec<ParsedSection> = Vec::new();
    let mut section_index: HashMap<String, usize> = HashMap::new();
    let mut errors = Vec::new();
    // The section being read: its name, and its index in `sections` when it is kept.
    let mut current: Option<(&str, Option<usize>)> = None;
    // Whether an option is open for continuation lines, and its key when its section is kept.
    let mut optname: Option<Option<String>> = None;
    let mut values: Vec<(usize, String, Vec<String>)> = Vec::new();
    let mut indent_level = 0usize;

    for (lineno0, raw) in text.lines().enumerate() {
        let lineno = lineno0 + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        let full_comment = trimmed.starts_with('#') || trimmed.starts_with(';');
        let comment_start = if full_comment {
            Some(0)
        } else {
            inline_comment_start(line)
        };
        let value = match comment_start {
            Some(i) => line[..i].trim(),
            None => trimmed,
        };
        if value.is_empty() {
            // A truly blank line inside a continued value is kept (configparser's
            // empty_lines_in_values); comment-only lines are skipped.
            if comment_start.is_none()
                && current.is_some()
                && matches!(optname, Some(Some(_)))
                && let Some(last) = values.last_mut()
            {
                last.2.push(String::new());
            }
            continue;
        }
        let cur_indent = line.len() - line.trim_start().len();
        if current.is_some() && optname.is_some() && cur_indent > indent_level {
            // The open option's value is the last one recorded, unless its section is skipped.
            if matches!(optname, Some(Some(_)))
                && let Some(last) = values.last_mut()
            {
                last.2.push(value.to_string());
            }
            continue;
        }
        indent_level = cur_indent;
        if let Some(rest) = value.strip_prefix('[')
            && let Some(end) = rest.rfind(']')
            && end > 0
        {
            let name = &rest[..end];
            let idx = if keep(name) {
                Some(match section_index.get(name) {
                    Some(&i) => i,
                    None => {
                        sections.push(ParsedSection {
                            name: name.to_string(),
                            line: lineno,
                            entries: Vec::new(),
                        });
                        section_index.insert(name.to_string(), sections.len() - 1);
                        sections.len() - 1
                    }
                })
            } else {
                None
            };
            current = Some((name, idx));
            optname = None;
            continue;
        }
        let Some((sect_name, sect)) = &current else {
            errors.push(
                ConfigError::new("file contains no section headers")
                    .file(path)
                    .line(Some(lineno))
                    .value(line)
                    .reference(format!(
                        "File contains no section headers.\nfile: '{}', line: {}\n'{}\\n'",
                        path.display(),
                        lineno,
                        line
                    )),
            );
            return Err(errors);
        };
        let delim = value.find(['=', ':']);
        match delim {
            Some(d) if !value[..d].trim().is_empty() => {
                let Some(sect) = *sect else {
                    optname = Some(None);
                    continue;
                };
                let key = value[..d].trim().to_lowercase();
                let val = value[d + 1..].trim().to_string();
                values.push((sect, key.clone(), vec![val]));
                // Record the line now; the joined value is filled in at the end.
                let entry = Entry {
                    value: String::new(),
                    file: path.to_path_buf(),
                    line: lineno,
                };
                set_entry(&mut sections[sect].entries, key.clone(), entry);
                optname = Some(Some(key));
            }
            _ => {
                let problem = if delim.is_some() {
                    "option line without an option name before '=' or ':'"
                } else {
                    "line is not a section header and has no '=' or ':'"
                };
                errors.push(
                    ConfigError::new(problem)
                        .file(path)
                        .line(Some(lineno))
                        .section(sect_name.to_string())
                        .value(line)
                        .reference(format!(
                            "Source contains parsing errors: '{}'\n\t[line {:2}]: '{}\\n'",
                            path.display(),
                            lineno,
                            line
                        )),
                );
                // configparser keeps going but the option being continued is finished.
                optname = None;
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Later assignments of the same key win; since set_entry kept the latest line, fill values in
    // order so the last one stays.
    for (sect, key, lines) in values {
        let joined = lines.join("\n");
        let joined = joined.trim_end().to_string();
        if let Some(slot) = sections[sect].entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1.value = joined;
        }
    }
    Ok(ParsedFile {
        path: path.to_path_buf(),
        sections,
    })
}

/// fnmatch-style matching of one path component: `*`, `?`, `[...]` (with `!` negation and
/// ranges); an unclosed `[` is literal.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|i| match_from(&p[1..], &n[i..])),
        Some('?') => !n.is_empty() && match_from(&p[1..], &n[1..]),
        Some('[') => match parse_class(p) {
            Some((set, negate, len)) => match n.first() {
                Some(c) => {
                    let hit = set.iter().any(|(lo, hi)| lo <= c && c <= hi);
                    hit != negate && match_from(&p[len..], &n[1..])
                }
                None => false,
            },
            None => n.first() == Some(&'[') && match_from(&p[1..], &n[1..]),
        },
        Some(c) => n.first() == Some(c) && match_from(&p[1..], &n[1..]),
    }
}

/// A `[...]` class: inclusive ranges, whether negated, pattern length consumed.
type CharClass = (Vec<(char, char)>, bool, usize);

/// Parses `[...]` at the start of `p`.
fn parse_class(p: &[char]) -> Option<CharClass> {
    let mut i = 1;
    let negate = p.get(i) == Some(&'!');
    if negate {
        i += 1;
    }
    let start = i;
    let mut set = Vec::new();
    while i < p.len() {
        if p[i] == ']' && i > start {
            return Some((set, negate, i + 1));
        }
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            set.push((p[i], p[i + 2]));
            i += 3;
        } else {
            set.push((p[i], p[i]));
            i += 1;
        }
    }
    None
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Python `glob.glob` for an absolute pattern: every existing path matching it (unsorted).
/// Names starting with `.` only match a pattern component starting with `.`.
pub fn glob(pattern: &str) -> Vec<PathBuf> {
    let absolute = pattern.starts_with('/');
    let mut candidates = vec![if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::from("")
    }];
    let parts: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let mut next = Vec::new();
        for base in &candidates {
            if !has_magic(part) {
                let p = base.join(part);
                if last {
                    if std::fs::symlink_metadata(&p).is_ok() {
                        next.push(p);
                    }
                } else if p.is_dir() {
                    next.push(p);
                }
                continue;
            }
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            for ent in rd.flatten() {
                let name = ent.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && !part.starts_with('.') {
                    continue;
                }
                if fnmatch(part, &name) {
                    let p = base.join(&name);
                    if last || p.is_dir() {
                        next.push(p);
                    }
                }
            }
        }
        candidates = next;
    }
    if parts.is_empty() {
        return Vec::new();
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> ParsedFile {
        parse(text, Path::new("t.conf")).unwrap()
    }

    fn value(f: &ParsedFile, sect: &str, key: &str) -> Option<String> {
        f.sections
            .iter()
            .find(|s| s.name == sect)
            .and_then(|s| s.entries.iter().find(|(k, _)| k == key))
            .map(|(_, e)| e.value.clone())
    }

    #[test]
    fn configparser_rules() {
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            ("[s]\na=1\n", "s", "a", Some("1")),
            ("[s]\na : 1\n", "s", "a", Some("1")),
            (
                "[s]\ncommand: /bin/echo\n",
                "s",
                "command",
                Some("/bin/echo"),
            ),
            ("[s]\nPriority=5\n", "s", "priority", Some("5")),
            ("[s]\na=x;y\n", "s", "a", Some("x;y")),
            ("[s]\na=x ;y\n", "s", "a", Some("x")),
            ("[s]\na=x\t#y\n", "s", "a", Some("x")),
            ("[s]\na=x#y\n", "s", "a", Some("x#y")),
            ("[s]\na=1\na=2\n", "s", "a", Some("2")),
            ("[s]\na=1\n[t]\nb=1\n[s]\na=3\n", "s", "a", Some("3")),
            (
                "[s]\na=/bin/echo\n  x\n  y\n",
                "s",
                "a",
                Some("/bin/echo\nx\ny"),
            ),
            ("[s]\na=1\n\n  x\n", "s", "a", Some("1\n\nx")),
            ("[s]\na=1\n  ; c\n  x\n", "s", "a", Some("1\nx")),
            ("[s]\na=1\n\n\n", "s", "a", Some("1")),
            ("[s]\na=\n", "s", "a", Some("")),
            ("[s]\na=b=c\n", "s", "a", Some("b=c")),
            ("[s]\na:b=c\n", "s", "a", Some("b=c")),
            ("; c\n# d\n[s]\na=1\n", "s", "a", Some("1")),
            ("[Program:x]\na=1\n", "program:x", "a", None),
            ("[s] ; c\na=1\n", "s", "a", Some("1")),
        ];
        for (text, sect, key, want) in cases {
            let f = parse_ok(text);
            assert_eq!(
                value(&f, sect, key).as_deref(),
                *want,
                "{text:?} [{sect}] {key}"
            );
        }
    }

    #[test]
    fn keeping_some_sections_gives_their_values_and_every_error() {
        let keep_s = |n: &str| n == "s";
        let cases: &[(&str, Option<&str>)] = &[
            ("[p]\na=1\n[s]\na=2\n", Some("2")),
            ("[s]\na=1\n[p]\na=2\n  more\n\n  more\n", Some("1")),
            ("[s]\na=1\n[p]\nb=2\n[s]\nc=3\n", Some("1")),
            ("[s]\na=1\n  x\n[p]\nb=2\n  y\n", Some("1\nx")),
            ("[p]\nb=2\n  y\n[s]\n", None),
        ];
        for (text, want) in cases {
            let f = parse_keeping(text, Path::new("t.conf"), keep_s).unwrap();
            assert_eq!(f.sections.len(), 1, "{text:?}");
            assert_eq!(value(&f, "s", "a").as_deref(), *want, "{text:?}");
            assert_eq!(
                value(&parse_ok(text), "s", "a"),
                value(&f, "s", "a"),
                "{text:?}"
            );
        }
        let errs =
            parse_keeping("[s]\na=1\n[p]\nbogus\n", Path::new("t.conf"), keep_s).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].section.as_deref(), Some("p"));
        assert_eq!(errs[0].line, Some(4));
        let errs = parse_keeping("x=1\n[s]\n", Path::new("t.conf"), keep_s).unwrap_err();
        assert_eq!(errs[0].problem, "file contains no section headers");
    }

    #[test]
    fn keeps_line_numbers_and_reports_every_bad_line() {
        let f = parse_ok("[s]\n\na=1\n\nb=2\n");
        let s = &f.sections[0];
        assert_eq!(s.entries[0].1.line, 3);
        assert_eq!(s.entries[1].1.line, 5);
        let errs = parse("[s]\nbogus\na=1\nalso bogus\n", Path::new("t.conf")).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, Some(2));
        assert_eq!(errs[1].line, Some(4));
        let errs = parse("a=1\n[s]\n", Path::new("t.conf")).unwrap_err();
        assert_eq!(errs[0].problem, "file contains no section headers");
    }

    #[test]
    fn document_merges_sections_and_defaults() {
        let mut d = Document::default();
        d.merge(parse_ok("[DEFAULT]\nstartretries=9\n[a]\nx=1\n"));
        d.merge(parse_ok("[a]\nx=2\ny=3\n[b]\n"));
        assert_eq!(d.sections.len(), 2);
        assert_eq!(d.get("a", "x").unwrap().value, "2");
        assert_eq!(d.get("b", "startretries").unwrap().value, "9");
        assert!(d.get("b", "x").is_none());
        assert!(!d.has_section("DEFAULT"));
    }

    #[test]
    fn fnmatch_cases() {
        let cases = [
            ("*.conf", "a.conf", true),
            ("*.conf", "a.ini", false),
            ("?.conf", "a.conf", true),
            ("?.conf", "ab.conf", false),
            ("[ab].conf", "b.conf", true),
            ("[!ab].conf", "b.conf", false),
            ("[a-c]x", "bx", true),
            ("[a-c]x", "dx", false),
            ("[x", "[x", true),
            ("a*b*c", "aXXbYc", true),
            ("a*b*c", "aXXbY", false),
        ];
        for (p, n, want) in cases {
            assert_eq!(fnmatch(p, n), want, "{p} {n}");
        }
    }

    #[test]
    fn glob_matches_files_and_skips_hidden() {
        let tmp = crate::testutil::TempDir::new("glob");
        let dir = tmp.path();
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        for n in ["a.conf", "b.conf", ".h.conf", "c.ini"] {
            std::fs::write(dir.join("conf.d").join(n), "").unwrap();
        }
        let mut got = glob(&format!("{}/conf.d/*.conf", dir.display()));
        crate::sort::sort(&mut got);
        let names: Vec<String> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.conf", "b.conf"]);
        assert_eq!(glob(&format!("{}/c*/c.ini", dir.display())).len(), 1);
        assert!(glob(&format!("{}/nope/*.conf", dir.display())).is_empty());
    }
}
