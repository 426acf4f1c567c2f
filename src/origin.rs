//! Where a setting's value came from: every error about it names that
//! place, and `config` shows it.

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    Env(&'static str),
    /// A line of a profile or doors file.
    Line {
        path: String,
        line: usize,
    },
    /// Anything else, described (a secret file, a systemd credential).
    Other(String),
}

impl Origin {
    /// How an error about setting `key` from here starts: the variable, or
    /// `PATH:LINE: key`.
    pub fn label(&self, key: &str) -> String {
        match self {
            Origin::Default => key.to_string(),
            Origin::Env(var) => var.to_string(),
            Origin::Line { path, line } => format!("{path}:{line}: {key}"),
            Origin::Other(what) => what.clone(),
        }
    }

    /// Where the value came from, in `config`'s words.
    pub fn describe(&self) -> String {
        match self {
            Origin::Default => "default".into(),
            Origin::Env(v) => format!("environment {v}"),
            Origin::Line { path, line } => format!("{path}:{line}"),
            Origin::Other(what) => what.clone(),
        }
    }
}
