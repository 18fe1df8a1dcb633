//! What loading can report: typed errors, and the problems found in a file.

use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong with a configuration, at a key path such as
/// `providers[1].keys[0].key`. The message says what is wrong and what to do;
/// it never contains a secret's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: `routing.strategy`, `providers[0].kyes`; "" for the whole file.
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot tell the format of config file {}: name it *.yaml, *.yml or *.toml",
        .path.display()
    )]
    UnknownFormat { path: PathBuf },
    /// The text is not valid YAML/TOML, or not a mapping at the top.
    #[error("cannot parse {}: {message}", describe(.path.as_deref()))]
    Parse {
        path: Option<PathBuf>,
        message: String,
    },
    /// Parsed, but with problems: every one found, in one go.
    #[error("{}", list_problems(.path.as_deref(), .problems))]
    Invalid {
        path: Option<PathBuf>,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// The problems of an `Invalid` error; empty for the other kinds.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn describe(path: Option<&Path>) -> String {
    match path {
        Some(path) => format!("config file {}", path.display()),
        None => "config".to_owned(),
    }
}

fn list_problems(path: Option<&Path>, problems: &[Problem]) -> String {
    let count = match problems.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    };
    let mut out = format!("{} is invalid ({count}):", describe(path));
    for problem in problems {
        out.push_str("\n  ");
        out.push_str(&problem.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_lists_every_problem_on_its_own_line() {
        let err = ConfigError::Invalid {
            path: Some(PathBuf::from("/etc/cc-relay.yaml")),
            problems: vec![
                Problem::new("routing.strategy", "bad"),
                Problem::new("", "worse"),
            ],
        };
        assert_eq!(
            err.to_string(),
            "config file /etc/cc-relay.yaml is invalid (2 problems):\n  routing.strategy: bad\n  worse"
        );
    }

    #[test]
    fn parse_without_a_file() {
        let err = ConfigError::Parse {
            path: None,
            message: "oops at line 1 column 2".into(),
        };
        assert_eq!(
            err.to_string(),
            "cannot parse config: oops at line 1 column 2"
        );
    }
}
