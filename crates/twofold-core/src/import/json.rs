//! What the JSON formats share: a document whose strings are wiped on drop, field access with
//! messages a person understands (serde's own messages can quote a secret), and the step from an
//! entry's fields to a [`Credential`].

use serde_json::{Map, Value};
use zeroize::Zeroize;

use super::{EntryError, Imported, Place};
use crate::{Algorithm, Credential, Kind, OtpParams, Secret};

/// How many characters of an unexpected value (a type or algorithm name) a message repeats.
const SHOWN_CHARS: usize = 24;

/// A parsed JSON document. Exports hold secrets as strings; they are overwritten on drop.
pub(super) struct Document(Value);

impl Document {
    pub(super) fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text).map(Document)
    }

    pub(super) fn value(&self) -> &Value {
        &self.0
    }
}

impl Drop for Document {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

fn wipe(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => map.values_mut().for_each(wipe),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// What is wrong with text that should be JSON, without quoting it.
pub(super) fn problem(error: &serde_json::Error) -> String {
    if error.is_eof() {
        "it ends too early: the file is cut short".to_owned()
    } else {
        format!(
            "it is not valid JSON (line {}, column {}): the file was changed or cut",
            error.line(),
            error.column()
        )
    }
}

/// The fields of one JSON object, read with errors phrased about the entry ("its digits ...").
#[derive(Clone, Copy)]
pub(super) struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// The object `value` is, or `None`.
    pub(super) fn of(value: &'a Value) -> Option<Self> {
        value.as_object().map(Fields)
    }

    /// Whether the object has `key` (with any value but null).
    pub(super) fn has(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|v| !v.is_null())
    }

    /// Whether a boolean field is `true`.
    pub(super) fn flag(&self, key: &str) -> bool {
        self.0.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    /// A text field; absent and null are `None`.
    pub(super) fn text(&self, key: &str) -> Result<Option<&'a str>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(format!("its \"{key}\" is not text")),
        }
    }

    /// A text field that must be there.
    pub(super) fn required_text(&self, key: &str) -> Result<&'a str, String> {
        self.text(key)?.ok_or_else(|| format!("it has no \"{key}\""))
    }

    /// A whole number, written as a number or as decimal text (Raivo writes every value as text).
    pub(super) fn number(&self, key: &str) -> Result<Option<u64>, String> {
        let not_whole = || format!("its \"{key}\" is not a whole number");
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(not_whole),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => text.trim().parse().map(Some).map_err(|_| not_whole()),
            Some(_) => Err(not_whole()),
        }
    }

    /// A nested object; absent and null are `None`.
    pub(super) fn object(&self, key: &str) -> Result<Option<Fields<'a>>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => {
                Fields::of(value).map(Some).ok_or_else(|| format!("its \"{key}\" is not an object"))
            }
        }
    }

    /// The object's values, in file order.
    pub(super) fn values(&self) -> impl Iterator<Item = &'a Value> + use<'a> {
        self.0.values()
    }

    /// A nested array; absent and null are `None`.
    pub(super) fn array(&self, key: &str) -> Result<Option<&'a [Value]>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(format!("its \"{key}\" is not a list")),
        }
    }
}

/// `text` cut to a length fit for a message.
pub(super) fn shown(text: &str) -> String {
    let mut shown: String = text.chars().take(SHOWN_CHARS).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

/// The kind an export names: TOTP, HOTP, Steam, mOTP or Yandex, in any case.
pub(super) fn kind(text: &str) -> Result<Kind, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "totp" => Ok(Kind::Totp),
        "hotp" => Ok(Kind::Hotp),
        "steam" => Ok(Kind::Steam),
        "motp" => Ok(Kind::Motp),
        "yandex" => Ok(Kind::Yandex),
        other => Err(format!(
            "its type \"{}\" is not one Twofold makes codes for (TOTP, HOTP, Steam, mOTP or \
             Yandex)",
            shown(other)
        )),
    }
}

/// The hash an export names: "SHA1", "sha-256", "SHA512", ...
pub(super) fn algorithm(text: &str) -> Result<Algorithm, String> {
    let name: String = text.chars().filter(|c| *c != '-' && *c != '_').collect();
    match name.trim().to_ascii_uppercase().as_str() {
        "SHA1" | "HMACSHA1" => Ok(Algorithm::Sha1),
        "SHA256" | "HMACSHA256" => Ok(Algorithm::Sha256),
        "SHA512" | "HMACSHA512" => Ok(Algorithm::Sha512),
        "MD5" => Err("it uses the MD5 algorithm, which Twofold does not support".to_owned()),
        _ => {
            Err(format!("its algorithm \"{}\" is not one of SHA1, SHA256 and SHA512", shown(text)))
        }
    }
}

/// The parts of an account an export entry holds; `None` takes the otpauth default.
pub(super) struct Entry {
    pub issuer: String,
    pub name: String,
    pub kind: Kind,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u64>,
    pub period: Option<u64>,
    pub counter: Option<u64>,
}

impl Entry {
    /// An entry with no name yet and default parameters.
    pub(super) fn new(kind: Kind) -> Self {
        Entry {
            issuer: String::new(),
            name: String::new(),
            kind,
            algorithm: None,
            digits: None,
            period: None,
            counter: None,
        }
    }

    /// The credential, once its parameters are checked. The secret carries the PIN of the kinds
    /// that need one.
    pub(super) fn credential(self, secret: Secret) -> Result<Credential, String> {
        if secret.is_empty() {
            return Err("it has no secret".to_owned());
        }
        if let Some(otp) = self.kind.fixed_params() {
            // Steam, mOTP and Yandex fix their own parameters; an export's digits (often 6 for
            // Steam) are not what they show.
            if self.kind.needs_pin() && secret.pin().is_none() {
                return Err(
                    "it has no PIN, which its codes need, and the export holds none".to_owned()
                );
            }
            let secret = match self.kind {
                Kind::Yandex => {
                    crate::otp::yandex_key(secret).map_err(|e| format!("its secret: {e}"))?
                }
                _ => secret,
            };
            return Ok(Credential {
                issuer: self.issuer,
                name: self.name,
                secret,
                otp,
                icon: None,
            });
        }
        let defaults = OtpParams::default();
        let digits = match self.digits {
            None => defaults.digits,
            Some(d) => u8::try_from(d)
                .map_err(|_| format!("{d} digits is out of range: codes have 5 to 10 digits"))?,
        };
        let period = match self.period {
            None => defaults.period,
            Some(p) => {
                u32::try_from(p).map_err(|_| format!("its period of {p} seconds is too long"))?
            }
        };
        let otp = OtpParams {
            kind: self.kind,
            algorithm: self.algorithm.unwrap_or(defaults.algorithm),
            digits,
            period,
            counter: self.counter.unwrap_or(0),
        };
        otp.validate().map_err(|e| e.to_string())?;
        Ok(Credential { issuer: self.issuer, name: self.name, secret, otp, icon: None })
    }
}

/// A base32 secret, with the reason phrased about the entry.
pub(super) fn base32_secret(text: &str) -> Result<Secret, String> {
    Secret::from_base32(text).map_err(|e| format!("its secret cannot be read: {e}"))
}

/// "Issuer (name)" as [`Credential::label`] writes it, for entries that fail before one exists.
pub(super) fn label(issuer: &str, name: &str) -> Option<String> {
    match (issuer.trim().is_empty(), name.trim().is_empty()) {
        (true, true) => None,
        (false, true) => Some(issuer.trim().to_owned()),
        (true, false) => Some(name.trim().to_owned()),
        (false, false) => Some(format!("{} ({})", issuer.trim(), name.trim())),
    }
}

/// Reads each item of an export's list of accounts with `read_one`, which returns the
/// credential or the entry's name (when known) and what is wrong with it.
pub(super) fn each_entry<'v>(
    items: impl IntoIterator<Item = &'v Value>,
    mut read_one: impl FnMut(Fields<'_>) -> Result<Credential, (Option<String>, String)>,
) -> Imported {
    let mut imported = Imported::default();
    for (index, item) in items.into_iter().enumerate() {
        let place = Place::Entry(index + 1);
        let result = match Fields::of(item) {
            Some(fields) => read_one(fields),
            None => Err((None, "it is not an object, as accounts are".to_owned())),
        };
        match result {
            Ok(credential) => imported.credentials.push(credential),
            Err((name, message)) => {
                imported.errors.push(EntryError { place, entry: None, name, message });
            }
        }
    }
    imported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_name_the_field_and_never_quote_its_value() {
        let value: Value =
            serde_json::from_str(r#"{"secret": 12345, "digits": "six", "kind": "TOTP"}"#).unwrap();
        let fields = Fields::of(&value).unwrap();
        assert_eq!(fields.text("secret").unwrap_err(), "its \"secret\" is not text");
        assert_eq!(fields.number("digits").unwrap_err(), "its \"digits\" is not a whole number");
        assert_eq!(fields.text("missing"), Ok(None));
        assert_eq!(fields.required_text("missing").unwrap_err(), "it has no \"missing\"");
    }

    #[test]
    fn numbers_may_be_written_as_text() {
        let value: Value =
            serde_json::from_str(r#"{"a": "30", "b": 6, "c": "", "d": -1}"#).unwrap();
        let fields = Fields::of(&value).unwrap();
        assert_eq!(fields.number("a"), Ok(Some(30)));
        assert_eq!(fields.number("b"), Ok(Some(6)));
        assert_eq!(fields.number("c"), Ok(None));
        assert!(fields.number("d").is_err());
    }

    #[test]
    fn kinds_and_algorithms_are_read_in_any_spelling() {
        assert_eq!(kind("Steam"), Ok(Kind::Steam));
        assert_eq!(kind("yandex"), Ok(Kind::Yandex));
        assert_eq!(kind("MOTP"), Ok(Kind::Motp));
        assert!(kind("blizzard").unwrap_err().contains("\"blizzard\""));
        assert_eq!(algorithm("sha-256"), Ok(Algorithm::Sha256));
        assert_eq!(algorithm("HmacSHA512"), Ok(Algorithm::Sha512));
        assert!(algorithm("MD5").unwrap_err().contains("MD5"));
    }

    #[test]
    fn out_of_range_parameters_are_entry_errors() {
        let secret = || Secret::new(b"12345678901234567890".to_vec());
        let entry = |digits, period| Entry {
            digits: Some(digits),
            period: Some(period),
            ..Entry::new(Kind::Totp)
        };
        assert!(entry(300, 30).credential(secret()).unwrap_err().contains("300 digits"));
        assert!(entry(4, 30).credential(secret()).unwrap_err().contains("4 digits"));
        assert!(entry(6, 0).credential(secret()).unwrap_err().contains("at least one second"));
        assert!(entry(6, 30).credential(Secret::new(Vec::new())).is_err());
        assert!(entry(8, 60).credential(secret()).is_ok());
    }
}
