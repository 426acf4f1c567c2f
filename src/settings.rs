//! The settings that shape a sequence, from one source: the environment
//! (the original's variables), a client profile or a server door's section.
//! Each value remembers where it came from ([`Origin`]), so that every
//! error names the variable or the file and line at fault, and `config`
//! can show it.

use crate::derive::ports::PortSet;
use crate::derive::{self, Algorithm, Scheme};
use crate::error::{Error, Result, quote};
use crate::number::parse_number;
pub use crate::origin::Origin;
use crate::secret::Secret;

pub const LENGTH_VAR: &str = "KNOCKD_ROTATOR_LENGTH";
pub const PERIOD_VAR: &str = "KNOCKD_ROTATOR_PERIOD_MODULO";
pub const PORT_MODULO_VAR: &str = "KNOCKD_ROTATOR_PORT_MODULO";
pub const PROTO_MODULO_VAR: &str = "KNOCKD_ROTATOR_PROTO_MODULO";
pub const PORTS_VAR: &str = "KNOCKD_ROTATOR_PORTS";
pub const ALLOW_WEAK_VAR: &str = "KNOCKD_ROTATOR_ALLOW_WEAK";
pub const ALGORITHM_VAR: &str = "KNOCKD_ROTATOR_ALGORITHM";

pub const DEFAULT_LENGTH: u32 = 10;
pub const DEFAULT_PERIOD: u64 = 21600;
/// knockd refuses a sequence of more than 32 ports, so a longer one could
/// never open a door.
pub const MAX_LENGTH: u32 = 32;
/// The weak-settings policy (later upstream versions): at least 5 knocks
/// and 40 bits; `KNOCKD_ROTATOR_ALLOW_WEAK=1` overrides both.
pub const MIN_LENGTH: u32 = 5;
pub const MIN_BITS: u32 = 40;

/// The keys that shape a sequence, as a profile or door section names them,
/// and the variable that gives each in the environment.
pub const KEYS: [(&str, &str); 6] = [
    ("algorithm", ALGORITHM_VAR),
    ("length", LENGTH_VAR),
    ("period", PERIOD_VAR),
    ("proto_modulo", PROTO_MODULO_VAR),
    ("ports", PORTS_VAR),
    ("allow_weak", ALLOW_WEAK_VAR),
];

/// Where settings are read from: the environment, or one section of a file.
pub trait Source {
    /// The text of `key` (one of [`KEYS`]) and where it came from.
    fn get(&self, key: &'static str) -> Result<Option<(String, Origin)>>;
    /// What the user sets to give `key` a value (a variable, a key).
    fn name(&self, key: &'static str) -> String;
    fn secret(&self) -> Result<(Secret, Origin)>;
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
    /// Weak settings accepted (`allow_weak`).
    pub allow_weak: bool,
    /// Where each of [`KEYS`] and "secret" came from.
    pub origins: Vec<(&'static str, Origin)>,
    /// What the user sets to change the port list (for the 65536 message).
    ports_name: String,
}

/// One setting's text and origin, or its default.
struct Field {
    text: Option<String>,
    origin: Origin,
    key: &'static str,
}

impl Field {
    fn read(src: &dyn Source, key: &'static str) -> Result<Field> {
        Ok(match src.get(key)? {
            Some((text, origin)) => Field {
                text: Some(text),
                origin,
                key,
            },
            None => Field {
                text: None,
                origin: Origin::Default,
                key,
            },
        })
    }

    fn number(&self, default: u64, min: u64, max: u64) -> Result<u64> {
        match &self.text {
            None => Ok(default),
            Some(s) => parse_number(s, min, max)
                .map_err(|why| Error::usage(format!("{}: {why}", self.origin.label(self.key)))),
        }
    }
}

impl Settings {
    /// The settings `src` gives (the environment: the original's model).
    pub fn load(src: &dyn Source) -> Result<Self> {
        let f = |key| Field::read(src, key);
        let (length_f, period_f, modulo_f) = (f("length")?, f("period")?, f("proto_modulo")?);
        let (ports_f, algorithm_f, weak_f) = (f("ports")?, f("algorithm")?, f("allow_weak")?);
        let length = length_f.number(DEFAULT_LENGTH.into(), 1, MAX_LENGTH.into())? as u32;
        let period = period_f.number(DEFAULT_PERIOD, 1, u32::MAX.into())?;
        let proto_modulo = modulo_f.number(0, 0, u32::MAX.into())?;
        let ports = match &ports_f.text {
            None => PortSet::legacy(),
            Some(s) => PortSet::parse(&ports_f.origin.label("ports"), s)?,
        };
        let algorithm = match algorithm_f.text.as_deref() {
            None | Some("legacy") => Algorithm::Legacy,
            Some("hmac-sha256") => Algorithm::HmacSha256,
            Some(other) => {
                return Err(Error::usage(format!(
                    "{}: {} is neither 'legacy' nor 'hmac-sha256'",
                    algorithm_f.origin.label("algorithm"),
                    quote(other)
                )));
            }
        };
        let ports_label = ports_f.origin.label("ports");
        let algorithm_name = src.name("algorithm");
        let length_name = src.name("length");
        if algorithm == Algorithm::HmacSha256 && ports.has_v3_top() {
            return Err(Error::usage(format!(
                "{ports_label}: 65536 is not a port; it is accepted only in v3's list for the \
                 legacy algorithm, not with {algorithm_name}=hmac-sha256"
            )));
        }
        if algorithm == Algorithm::HmacSha256 && ports.len() < length {
            return Err(Error::usage(format!(
                "{ports_label}: {} ports cannot make {length} different knocks \
                 ({algorithm_name}=hmac-sha256 never repeats a port); widen the list or lower \
                 {length_name}",
                ports.len()
            )));
        }
        let strength = Strength {
            length: &length_f,
            ports: &ports_f,
            allow_weak: &weak_f,
            src,
        };
        let allow_weak = strength.check(algorithm, length, &ports)?;
        let (secret, secret_origin) = src.secret()?;
        if !allow_weak {
            weak_secret(&secret, &secret_origin, algorithm, src)?;
        }
        let origins = [length_f, period_f, modulo_f, ports_f, algorithm_f, weak_f]
            .into_iter()
            .map(|f| (f.key, f.origin))
            .chain([("secret", secret_origin)])
            .collect();
        Ok(Settings {
            algorithm,
            secret,
            length,
            period,
            proto_modulo,
            ports,
            allow_weak,
            origins,
            ports_name: src.name("ports"),
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

    /// Where `key` came from.
    pub fn origin(&self, key: &str) -> Origin {
        self.origins
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(Origin::Default, |(_, o)| o.clone())
    }

    /// The single-packet knock's tokens (`.token(period_start, name)`,
    /// `name` with its suffix), the HMAC keyed once for many periods.
    pub fn token_key(&self) -> derive::token::Keyed {
        derive::token::Keyed::new(self.secret.expose())
    }

    /// The sequence of door `name` (with its suffix) in the period starting
    /// at `period_start`; an error naming the period and the fix when it
    /// draws v3's port 65536.
    pub fn derive(&self, period_start: u64, name: &[u8]) -> Result<Vec<derive::Knock>> {
        derive::derive(&self.scheme(), period_start, name).map_err(|derive::Port65536| {
            let ports = &self.ports_name;
            Error::failure(format!(
                "{}: the sequence for the period starting {} ({period_start}) draws port 65536, \
                 which no packet can carry ({ports} holds it, as v3's default list 2000-65536 \
                 does; v3 fails in this period too); move every device to {ports}=2000-65535",
                quote(name),
                crate::clock::utc(period_start)
            ))
        })
    }
}

/// A weak secret: refused for the keyed algorithm (new, so it can demand
/// better), a warning for the legacy one (deployed secrets must keep
/// working).
fn weak_secret(
    secret: &Secret,
    origin: &Origin,
    algorithm: Algorithm,
    src: &dyn Source,
) -> Result<()> {
    let Some(why) = crate::secret::weakness(secret) else {
        return Ok(());
    };
    let what = format!(
        "{}: the secret is weak ({why}); anyone who sees one knock can test guesses \
         offline, so make a strong one with '{} new-secret PATH'",
        origin.label("secret"),
        crate::prog::MAIN_NAME
    );
    if algorithm == Algorithm::HmacSha256 {
        let weak = src.name("allow_weak");
        return Err(Error::usage(format!(
            "{what}, or set {weak}=1 to accept it"
        )));
    }
    crate::cli::warn_once(&what);
    Ok(())
}

/// The weak-settings policy, and what to name in its messages.
struct Strength<'a> {
    length: &'a Field,
    ports: &'a Field,
    allow_weak: &'a Field,
    src: &'a dyn Source,
}

impl Strength<'_> {
    /// Whether weak settings are allowed; an error for weak ones if not.
    fn check(&self, algorithm: Algorithm, length: u32, ports: &PortSet) -> Result<bool> {
        if self.allowed()? {
            return Ok(true);
        }
        let hint = format!(
            "or set {}=1 to accept weak settings",
            self.src.name("allow_weak")
        );
        if length < MIN_LENGTH {
            return Err(Error::usage(format!(
                "{}: {length} knocks are too few (at least {MIN_LENGTH}); raise it, {hint}",
                self.length.origin.label("length")
            )));
        }
        let bits = derive::bits(algorithm, length, ports);
        if bits < f64::from(MIN_BITS) {
            return Err(Error::usage(format!(
                "{}: {length} knocks from {} ports give {} bits, under the \
                 {MIN_BITS}-bit minimum; widen the list or raise {}, {hint}",
                self.ports.origin.label("ports"),
                ports.len(),
                crate::number::rounded(bits, true),
                self.src.name("length")
            )));
        }
        Ok(false)
    }

    fn allowed(&self) -> Result<bool> {
        match self.allow_weak.text.as_deref() {
            None | Some("0") => Ok(false),
            Some("1") => Ok(true),
            Some(s) => Err(Error::usage(format!(
                "{}: {} is neither 0 nor 1",
                self.allow_weak.origin.label("allow_weak"),
                quote(s)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::{OsStr, OsString};

    use super::*;
    use crate::env::Env;
    use crate::secret::SECRET_VAR;

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
