//! Settings from the environment, exactly the original's variables.
//!
//! The environment is captured once at start ([`Env::capture`]) and the
//! secret is then removed from this process's environment, so that no child
//! we ever run can inherit it.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::derive::ports::PortSet;
use crate::derive::{self, Algorithm, Scheme};
use crate::error::{Error, Result, quote};
use crate::number::parse_number;
use crate::secret::{self, SECRET_FILE_VAR, SECRET_VAR, Secret};

pub const LENGTH_VAR: &str = "KNOCKD_ROTATOR_LENGTH";
pub const PERIOD_VAR: &str = "KNOCKD_ROTATOR_PERIOD_MODULO";
pub const PORT_MODULO_VAR: &str = "KNOCKD_ROTATOR_PORT_MODULO";
pub const PROTO_MODULO_VAR: &str = "KNOCKD_ROTATOR_PROTO_MODULO";
pub const PORTS_VAR: &str = "KNOCKD_ROTATOR_PORTS";
pub const SERVER_INTERVAL_VAR: &str = "KNOCKD_ROTATOR_SERVER_INTERVAL";
pub const ALLOW_WEAK_VAR: &str = "KNOCKD_ROTATOR_ALLOW_WEAK";
pub const ALGORITHM_VAR: &str = "KNOCKD_ROTATOR_ALGORITHM";
const CREDENTIALS_DIR_VAR: &str = "CREDENTIALS_DIRECTORY";
const PREFIX: &str = "KNOCKD_ROTATOR_";

/// One of the variables we read: captured at start, and never passed on to
/// a child (a reload command) so nothing of the secret's can reach it.
pub fn is_ours(name: &OsStr) -> bool {
    name.as_bytes().starts_with(PREFIX.as_bytes()) || name == CREDENTIALS_DIR_VAR
}

pub const DEFAULT_LENGTH: u32 = 10;
pub const DEFAULT_PERIOD: u64 = 21600;
pub const DEFAULT_SERVER_INTERVAL: u64 = 3600;
/// knockd refuses a sequence of more than 32 ports, so a longer one could
/// never open a door.
pub const MAX_LENGTH: u32 = 32;
/// The weak-settings policy (later upstream versions): at least 5 knocks
/// and 40 bits; `KNOCKD_ROTATOR_ALLOW_WEAK=1` overrides both.
pub const MIN_LENGTH: u32 = 5;
pub const MIN_BITS: f64 = 40.0;

/// The variables we read, captured at start. The secret is kept apart, as
/// a [`Secret`]: wiped when dropped, never shown by `{:?}`.
#[derive(Default)]
pub struct Env {
    vars: BTreeMap<String, OsString>,
    secret: Option<Secret>,
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
        let vars = std::env::vars_os()
            .filter(|(k, _)| is_ours(k))
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)));
        let env = Env::from_pairs(vars);
        // Blank the value where the kernel keeps our initial environment
        // (/proc/PID/environ shows it, and unsetenv leaves it there), then
        // drop the variable, so no child we run can inherit it.
        // SAFETY: single-threaded (the caller's promise); getenv's pointer
        // is to a NUL-terminated string we may overwrite in place.
        unsafe {
            let p = libc::getenv(c"KNOCKD_ROTATOR_SECRET".as_ptr());
            if !p.is_null() {
                for i in 0..libc::strlen(p) {
                    std::ptr::write_volatile(p.add(i), 0);
                }
            }
            std::env::remove_var(SECRET_VAR);
        }
        env
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
        Env { vars, secret }
    }

    pub fn get(&self, name: &str) -> Option<&OsStr> {
        if name == SECRET_VAR {
            return self.secret.as_ref().map(|s| OsStr::from_bytes(s.expose()));
        }
        self.vars.get(name).map(|v| v.as_os_str())
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
}

/// Everything the derivation needs.
#[derive(Debug)]
pub struct Settings {
    pub algorithm: Algorithm,
    pub secret: Secret,
    /// Knocks per sequence.
    pub length: u32,
    /// Period length in seconds.
    pub period: u64,
    /// Protocol selector: 0 = all tcp; else tcp iff `port % modulo == 0`.
    pub proto_modulo: u64,
    pub ports: PortSet,
}

impl Settings {
    pub fn load(env: &Env) -> Result<Self> {
        let length = env.number(LENGTH_VAR, DEFAULT_LENGTH.into(), 1, MAX_LENGTH.into())? as u32;
        let period = env.number(PERIOD_VAR, DEFAULT_PERIOD, 1, u32::MAX.into())?;
        let proto_modulo = proto_modulo(env)?;
        let ports = match env.text(PORTS_VAR)? {
            None => PortSet::legacy(),
            Some(s) => PortSet::parse(PORTS_VAR, s)?,
        };
        let algorithm = match env.text(ALGORITHM_VAR)? {
            None | Some("legacy") => Algorithm::Legacy,
            Some("hmac-sha256") => Algorithm::HmacSha256,
            Some(other) => {
                return Err(Error::usage(format!(
                    "{ALGORITHM_VAR}: {} is neither 'legacy' nor 'hmac-sha256'",
                    quote(other)
                )));
            }
        };
        if algorithm == Algorithm::HmacSha256 && ports.has_v3_top() {
            return Err(Error::usage(format!(
                "{PORTS_VAR}: 65536 is not a port; it is accepted only in v3's list for the \
                 legacy algorithm, not with {ALGORITHM_VAR}=hmac-sha256"
            )));
        }
        if algorithm == Algorithm::HmacSha256 && ports.len() < length {
            return Err(Error::usage(format!(
                "{PORTS_VAR}: {} ports cannot make {length} different knocks ({ALGORITHM_VAR}=hmac-sha256 \
                 never repeats a port); widen the list or lower {LENGTH_VAR}",
                ports.len()
            )));
        }
        check_strength(env, algorithm, length, &ports)?;
        let secret = secret::load(
            env.get(SECRET_VAR),
            env.get(SECRET_FILE_VAR),
            env.get(CREDENTIALS_DIR_VAR),
        )?;
        Ok(Settings {
            algorithm,
            secret,
            length,
            period,
            proto_modulo,
            ports,
        })
    }

    /// Bits of entropy in one sequence.
    pub fn bits(&self) -> f64 {
        derive::bits(self.algorithm, self.length, &self.ports)
    }

    /// What the derivation takes.
    pub fn scheme(&self) -> Scheme<'_> {
        Scheme {
            algorithm: self.algorithm,
            secret: self.secret.expose(),
            length: self.length,
            proto_modulo: self.proto_modulo,
            ports: &self.ports,
        }
    }

    /// The sequence of door `name` (with its suffix) in the period starting
    /// at `period_start`; an error naming the period and the fix when it
    /// draws v3's port 65536.
    pub fn derive(&self, period_start: u64, name: &[u8]) -> Result<Vec<derive::Knock>> {
        derive::derive(&self.scheme(), period_start, name).map_err(|derive::Port65536| {
            Error::failure(format!(
                "{}: the sequence for the period starting {} ({period_start}) draws port 65536, \
                 which no packet can carry ({PORTS_VAR} holds it, as v3's default list 2000-65536 \
                 does; v3 fails in this period too); move every device to {PORTS_VAR}=2000-65535",
                quote(name),
                crate::clock::utc(period_start)
            ))
        })
    }
}

/// `KNOCKD_ROTATOR_PROTO_MODULO` is the later name of
/// `KNOCKD_ROTATOR_PORT_MODULO`; both may be set only if they agree.
fn proto_modulo(env: &Env) -> Result<u64> {
    let max = u32::MAX.into();
    let old = env
        .text(PORT_MODULO_VAR)?
        .map(|_| env.number(PORT_MODULO_VAR, 0, 0, max))
        .transpose()?;
    let new = env
        .text(PROTO_MODULO_VAR)?
        .map(|_| env.number(PROTO_MODULO_VAR, 0, 0, max))
        .transpose()?;
    match (old, new) {
        (Some(a), Some(b)) if a != b => Err(Error::usage(format!(
            "{PROTO_MODULO_VAR}={b} and {PORT_MODULO_VAR}={a} disagree; they are the same \
             setting, so set only one"
        ))),
        (a, b) => Ok(b.or(a).unwrap_or(0)),
    }
}

fn check_strength(env: &Env, algorithm: Algorithm, length: u32, ports: &PortSet) -> Result<()> {
    if allow_weak(env)? {
        return Ok(());
    }
    let hint = format!("or set {ALLOW_WEAK_VAR}=1 to accept weak settings");
    if length < MIN_LENGTH {
        return Err(Error::usage(format!(
            "{LENGTH_VAR}: {length} knocks are too few (at least {MIN_LENGTH}); raise it, {hint}"
        )));
    }
    let bits = derive::bits(algorithm, length, ports);
    if bits < MIN_BITS {
        return Err(Error::usage(format!(
            "{PORTS_VAR}: {length} knocks from {} ports give {bits:.1} bits, under the \
             {MIN_BITS}-bit minimum; widen the list or raise {LENGTH_VAR}, {hint}",
            ports.len()
        )));
    }
    Ok(())
}

fn allow_weak(env: &Env) -> Result<bool> {
    match env.text(ALLOW_WEAK_VAR)? {
        None | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(s) => Err(Error::usage(format!(
            "{ALLOW_WEAK_VAR}: {} is neither 0 nor 1",
            quote(s)
        ))),
    }
}

/// How often the server job runs (rotate's extra run near a boundary).
pub fn server_interval(env: &Env) -> Result<u64> {
    env.number(
        SERVER_INTERVAL_VAR,
        DEFAULT_SERVER_INTERVAL,
        1,
        u32::MAX.into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let mut v: Vec<(String, OsString)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        if !pairs
            .iter()
            .any(|(k, _)| k.starts_with("KNOCKD_ROTATOR_SECRET"))
        {
            v.push((SECRET_VAR.into(), "0123456789".into()));
        }
        Env::from_pairs(v)
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let e = Env::from_pairs([(SECRET_VAR, "do not show me"), (LENGTH_VAR, "10")]);
        let shown = format!("{e:?} {:?}", Settings::load(&e).unwrap());
        assert!(!shown.contains("do not show me"), "{shown}");
        assert_eq!(e.get(SECRET_VAR), Some(OsStr::new("do not show me")));
    }

    #[test]
    fn defaults() {
        let s = Settings::load(&env(&[])).unwrap();
        assert_eq!((s.length, s.period, s.proto_modulo), (10, 21600, 0));
        assert_eq!(s.ports, PortSet::legacy());
    }

    #[test]
    fn modulo_names() {
        let m = |p: &[(&str, &str)]| Settings::load(&env(p)).map(|s| s.proto_modulo);
        assert_eq!(m(&[(PORT_MODULO_VAR, "3")]).unwrap(), 3);
        assert_eq!(m(&[(PROTO_MODULO_VAR, "4")]).unwrap(), 4);
        assert_eq!(
            m(&[(PROTO_MODULO_VAR, "4"), (PORT_MODULO_VAR, "4")]).unwrap(),
            4
        );
        let e = m(&[(PROTO_MODULO_VAR, "4"), (PORT_MODULO_VAR, "2")]).unwrap_err();
        assert!(e.message().contains("disagree"), "{e}");
    }

    #[test]
    fn weak_policy() {
        let e = Settings::load(&env(&[(LENGTH_VAR, "4")])).unwrap_err();
        assert!(e.message().starts_with(LENGTH_VAR), "{e}");
        let e = Settings::load(&env(&[(PORTS_VAR, "10000-10100"), (LENGTH_VAR, "5")])).unwrap_err();
        assert!(e.message().starts_with(PORTS_VAR), "{e}");
        assert!(Settings::load(&env(&[(LENGTH_VAR, "2"), (ALLOW_WEAK_VAR, "1")])).is_ok());
        assert!(Settings::load(&env(&[(LENGTH_VAR, "2"), (ALLOW_WEAK_VAR, "yes")])).is_err());
    }
}
