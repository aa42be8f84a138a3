//! Config errors and warnings that name the input: file, line, section, option, problem, value.

use std::fmt;
use std::path::PathBuf;

/// One problem found while reading or resolving a config. `problem` is the reference's own message
/// text where it has one (so `reference_message` can reproduce supervisord's startup error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub section: Option<String>,
    pub option: Option<String>,
    pub problem: String,
    pub value: Option<String>,
    /// The message supervisord 4.3.0 would print after `Error: ` (wrapper of program sections included).
    pub reference: Option<String>,
}

impl ConfigError {
    pub fn new(problem: impl Into<String>) -> ConfigError {
        ConfigError {
            file: None,
            line: None,
            section: None,
            option: None,
            problem: problem.into(),
            value: None,
            reference: None,
        }
    }

    pub fn file(mut self, file: impl Into<PathBuf>) -> ConfigError {
        self.file = Some(file.into());
        self
    }

    pub fn line(mut self, line: Option<usize>) -> ConfigError {
        self.line = line;
        self
    }

    pub fn section(mut self, section: impl Into<String>) -> ConfigError {
        self.section = Some(section.into());
        self
    }

    pub fn option(mut self, option: impl Into<String>) -> ConfigError {
        self.option = Some(option.into());
        self
    }

    pub fn value(mut self, value: impl Into<String>) -> ConfigError {
        self.value = Some(value.into());
        self
    }

    pub fn reference(mut self, text: impl Into<String>) -> ConfigError {
        self.reference = Some(text.into());
        self
    }

    /// The text supervisord would print after `Error: ` for this problem.
    pub fn reference_message(&self) -> String {
        self.reference
            .clone()
            .unwrap_or_else(|| self.problem.clone())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": ")?;
        }
        if let Some(section) = &self.section {
            write!(f, "[{section}] ")?;
        }
        if let Some(option) = &self.option {
            write!(f, "{option}: ")?;
        }
        write!(f, "{}", self.problem)?;
        if let Some(value) = &self.value {
            write!(f, " (got \"{}\")", value.replace('\n', "\\n"))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_every_known_part() {
        let cases = [
            (
                ConfigError::new("not a valid boolean value: 'maybe'")
                    .file("/etc/s.conf")
                    .line(Some(7))
                    .section("program:web")
                    .option("autostart")
                    .value("maybe"),
                "/etc/s.conf:7: [program:web] autostart: not a valid boolean value: 'maybe' (got \"maybe\")",
            ),
            (
                ConfigError::new(".ini file does not include supervisord section").file("a.conf"),
                "a.conf: .ini file does not include supervisord section",
            ),
            (
                ConfigError::new("x").section("group:g").option("programs"),
                "[group:g] programs: x",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }
}
