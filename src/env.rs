//! The environment, exactly the original's variables, captured once at
//! start ([`Env::capture`]); the secret is then removed from this process's
//! environment, so that no child we ever run can inherit it.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::error::{Error, Result, quote};
use crate::number::parse_number;
use crate::secret::{self, SECRET_FILE_VAR, SECRET_VAR, Secret};
use crate::settings::{KEYS, Origin, PORT_MODULO_VAR, PROTO_MODULO_VAR, Source};

pub const CREDENTIALS_DIR_VAR: &str = "CREDENTIALS_DIRECTORY";
pub const SERVER_INTERVAL_VAR: &str = "KNOCKD_ROTATOR_SERVER_INTERVAL";
pub const DEFAULT_SERVER_INTERVAL: u64 = 3600;
const PREFIX: &str = "KNOCKD_ROTATOR_";

/// One of the variables we read: captured at start, and never passed on to
/// a child (a reload command) so nothing of the secret's can reach it.
pub fn is_ours(name: &OsStr) -> bool {
    name.as_bytes().starts_with(PREFIX.as_bytes()) || name == CREDENTIALS_DIR_VAR
}

/// The variables we read, captured at start. The secret is kept apart, as
/// a [`Secret`]: wiped when dropped, never shown by `{:?}`.
#[derive(Default)]
pub struct Env {
    vars: BTreeMap<String, OsString>,
    secret: Option<Secret>,
    /// Our variables that appear more than once (never their values).
    duplicated: Vec<String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys())
            .finish_non_exhaustive()
    }
}

impl Env {
    /// Read our variables and remove the secret from the process
    /// environment.
    ///
    /// # Safety
    /// No other thread may exist yet (it writes the environment in place,
    /// which another thread could be reading): call it first thing in main.
    pub unsafe fn capture() -> Self {
        let mut seen = std::collections::BTreeSet::new();
        let mut duplicated = Vec::new();
        let vars: Vec<(String, OsString)> = std::env::vars_os()
            .filter(|(k, _)| is_ours(k))
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .inspect(|(k, _)| {
                if !seen.insert(k.clone()) && !duplicated.contains(k) {
                    duplicated.push(k.clone());
                }
            })
            .collect();
        let mut env = Env::from_pairs(vars);
        env.duplicated = duplicated;
        // SAFETY: single-threaded, the caller's promise.
        unsafe { blank_secret() };
        env
    }

    /// An error when one of our variables is set more than once: which
    /// copy a program sees differs between libraries (getenv takes the
    /// first, a scan the last), so neither is used.
    pub fn check_unique(&self) -> Result<()> {
        match self.duplicated.first() {
            None => Ok(()),
            Some(name) => Err(Error::usage(format!(
                "{name} is set more than once in the environment; set it once"
            ))),
        }
    }

    /// An environment made of the given pairs (tests, benches).
    pub fn from_pairs<K: Into<String>, V: Into<OsString>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut vars: BTreeMap<String, OsString> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let secret = vars.remove(SECRET_VAR).map(|v| Secret::new(v.into_vec()));
        Env {
            vars,
            secret,
            duplicated: Vec::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&OsStr> {
        if name == SECRET_VAR {
            return self.secret.as_ref().map(|s| OsStr::from_bytes(s.expose()));
        }
        self.vars.get(name).map(|v| v.as_os_str())
    }

    /// The names of the variables set (never their values).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let secret = self.secret.as_ref().map(|_| SECRET_VAR);
        self.vars.keys().map(String::as_str).chain(secret)
    }

    /// A variable as UTF-8 text; `None` when unset.
    pub fn text(&self, name: &str) -> Result<Option<&str>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.to_str().map(Some).ok_or_else(|| {
                Error::usage(format!(
                    "{name}: {} is not valid UTF-8",
                    quote(v.as_encoded_bytes())
                ))
            }),
        }
    }

    /// A whole number in `min..=max`, or `default` when unset.
    pub fn number(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64> {
        match self.text(name)? {
            None => Ok(default),
            Some(s) => {
                parse_number(s, min, max).map_err(|why| Error::usage(format!("{name}: {why}")))
            }
        }
    }

    /// How often the server job runs (rotate's extra run near a boundary).
    pub fn server_interval(&self) -> Result<u64> {
        self.number(
            SERVER_INTERVAL_VAR,
            DEFAULT_SERVER_INTERVAL,
            1,
            u32::MAX.into(),
        )
    }

    /// `KNOCKD_ROTATOR_PROTO_MODULO` is the later name of
    /// `KNOCKD_ROTATOR_PORT_MODULO`; both may be set only if they agree.
    fn proto_modulo(&self) -> Result<Option<(String, Origin)>> {
        let max = u32::MAX.into();
        let old = self.text(PORT_MODULO_VAR)?;
        let new = self.text(PROTO_MODULO_VAR)?;
        if let (Some(_), Some(_)) = (old, new) {
            let a = self.number(PORT_MODULO_VAR, 0, 0, max)?;
            let b = self.number(PROTO_MODULO_VAR, 0, 0, max)?;
            if a != b {
                return Err(Error::usage(format!(
                    "{PROTO_MODULO_VAR}={b} and {PORT_MODULO_VAR}={a} disagree; they are the \
                     same setting, so set only one"
                )));
            }
        }
        Ok(match (old, new) {
            (_, Some(v)) => Some((v.to_string(), Origin::Env(PROTO_MODULO_VAR))),
            (Some(v), None) => Some((v.to_string(), Origin::Env(PORT_MODULO_VAR))),
            (None, None) => None,
        })
    }
}

/// Blank every copy of the secret's value where the kernel keeps our
/// initial environment (/proc/PID/environ shows it, and unsetenv leaves it
/// there), then drop the variable, so no child we run can inherit it.
///
/// # Safety
/// No other thread may exist (it writes the environment in place).
unsafe fn blank_secret() {
    unsafe extern "C" {
        static mut environ: *mut *mut libc::c_char;
    }
    let prefix = b"KNOCKD_ROTATOR_SECRET=";
    // SAFETY: environ is a NULL-terminated array of NUL-terminated strings
    // that this single thread may overwrite in place.
    unsafe {
        let mut p = environ;
        while !p.is_null() && !(*p).is_null() {
            let entry = *p;
            let len = libc::strlen(entry);
            let bytes = std::slice::from_raw_parts(entry.cast::<u8>(), len);
            if bytes.starts_with(prefix) {
                for i in prefix.len()..len {
                    std::ptr::write_volatile(entry.add(i), 0);
                }
            }
            p = p.add(1);
        }
        std::env::remove_var(SECRET_VAR);
    }
}

/// The environment as a source of settings: one variable per key.
impl Source for Env {
    fn get(&self, key: &'static str) -> Result<Option<(String, Origin)>> {
        if key == "proto_modulo" {
            return self.proto_modulo();
        }
        let var = var_of(key);
        Ok(self.text(var)?.map(|v| (v.to_string(), Origin::Env(var))))
    }

    fn name(&self, key: &'static str) -> String {
        var_of(key).to_string()
    }

    fn secret(&self) -> Result<(Secret, Origin)> {
        secret::load(
            self.get(SECRET_VAR),
            self.get(SECRET_FILE_VAR),
            self.get(CREDENTIALS_DIR_VAR),
        )
    }
}

fn var_of(key: &'static str) -> &'static str {
    KEYS.iter().find(|(k, _)| *k == key).map_or(key, |(_, v)| v)
}
