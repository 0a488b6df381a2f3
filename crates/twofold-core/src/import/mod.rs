//! Accounts from other apps' exports. Parsing only: bytes in, credentials plus per-entry errors
//! out; adding them is the vault's job. One module per format, behind one registry ([`Format`]).
//!
//! Each reader follows the same steps: read the file, see whether it is encrypted, decrypt with the
//! password (or say one is needed, or that it is wrong), then convert entry by entry, so one damaged
//! entry is reported by position and name while the rest import.

use std::fmt;
use std::str::FromStr;

use zeroize::Zeroizing;

use crate::{Credential, migration, uri};

mod aegis;
mod andotp;
mod archive;
mod authenticator_plus;
mod authy;
mod battle_net;
mod bitwarden;
mod duo;
mod ente;
mod freeotp;
mod freeotp_plus;
mod google_authenticator;
mod json;
mod microsoft_authenticator;
mod plain;
mod proton_authenticator;
mod proton_pass;
mod raivo;
mod scanned;
mod shared_prefs;
mod sqlite;
mod steam;
mod stratum;
mod totp_authenticator;
mod twofas;
mod uri_list;

pub use scanned::scanned;
pub use uri_list::uri_list;

/// What an import found: the accounts it could read and, per entry, why the others were skipped.
#[derive(Debug, Default)]
pub struct Imported {
    /// Accounts read, in file order.
    pub credentials: Vec<Credential>,
    /// Entries that could not be read; the rest still import.
    pub errors: Vec<EntryError>,
}

impl Imported {
    /// Adds one entry's outcome: its credential, or (by place and name) why it was skipped.
    fn push(&mut self, place: Place, name: Option<String>, result: Result<Credential, String>) {
        match result {
            Ok(credential) => self.credentials.push(credential),
            Err(message) => self.errors.push(EntryError { place, entry: None, name, message }),
        }
    }
}

/// Where an entry was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// 1-based line of a text file.
    Line(usize),
    /// 1-based QR code of a scan, in reading order.
    Code(usize),
    /// 1-based entry of an export's list of accounts.
    Entry(usize),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "line {n}"),
            Place::Code(n) => write!(f, "QR code {n}"),
            Place::Entry(n) => write!(f, "entry {n}"),
        }
    }
}

/// One entry that could not be read, by place (and name when known). Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// Where the entry was.
    pub place: Place,
    /// 1-based entry within a batch at that place (a migration URI holds several).
    pub entry: Option<usize>,
    /// The entry's name ("Issuer (account)") when it could be read.
    pub name: Option<String>,
    /// What was wrong, for the user.
    pub message: String,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.place)?;
        if let Some(entry) = self.entry {
            write!(f, ", entry {entry}")?;
        }
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The password of an encrypted export: wiped on drop, never printed.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps the password as typed (no trimming: spaces may be part of it).
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The password's UTF-8 bytes, for key derivation.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The export formats Twofold reads, in the order a person meets them in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Twofold's own encrypted backup ([`crate::backup`]).
    Twofold,
    /// Aegis Authenticator's vault export (JSON, plain or password-encrypted).
    Aegis,
    /// 2FAS Authenticator's `.2fas` backup (JSON, plain or password-encrypted).
    TwoFas,
    /// andOTP's backup (JSON, or its encrypted `.json.aes`).
    AndOtp,
    /// FreeOTP+'s JSON backup.
    FreeOtpPlus,
    /// Bitwarden's JSON (plain or password-protected) or CSV export (password manager and
    /// Authenticator app).
    Bitwarden,
    /// Ente Auth's encrypted export (its plain export is a text list of URIs).
    Ente,
    /// Raivo OTP's ZIP archive (or the JSON file inside it).
    Raivo,
    /// Proton Authenticator's JSON export.
    ProtonAuthenticator,
    /// Proton Pass's export (ZIP archive), its logins' one-time codes.
    ProtonPass,
    /// Stratum's (formerly Authenticator Pro) backup: JSON, encrypted, or its older encryption.
    Stratum,
    /// Steam's mobile authenticator file (`Steamguard-*`, or an SDA `.maFile`).
    Steam,
    /// FreeOTP's token file (`tokens.xml`, Android app data; FreeOTP+ keeps the same one).
    FreeOtp,
    /// Authy's token file (Android app data, shared preferences XML, plain or encrypted).
    Authy,
    /// The Battle.net Authenticator's preferences file (Android app data).
    BattleNet,
    /// Duo Mobile's `accounts.json` (Android app data).
    Duo,
    /// Google Authenticator's own database (Android app data, versions before 5.10).
    GoogleAuthenticator,
    /// Microsoft Authenticator's database (Android app data).
    MicrosoftAuthenticator,
    /// TOTP Authenticator's backup (encrypted) or its preferences file (Android app data).
    TotpAuthenticator,
    /// Authenticator Plus's export: a password-encrypted ZIP archive of `Accounts.txt`.
    AuthenticatorPlus,
    /// Plain text or CSV holding `otpauth://` and `otpauth-migration://` URIs.
    Text,
}

impl Format {
    /// Every format, in the order they are listed to people.
    pub const ALL: [Format; 21] = [
        Format::Twofold,
        Format::Aegis,
        Format::TwoFas,
        Format::AndOtp,
        Format::Authy,
        Format::AuthenticatorPlus,
        Format::BattleNet,
        Format::Bitwarden,
        Format::Duo,
        Format::Ente,
        Format::FreeOtp,
        Format::FreeOtpPlus,
        Format::GoogleAuthenticator,
        Format::MicrosoftAuthenticator,
        Format::ProtonAuthenticator,
        Format::ProtonPass,
        Format::Raivo,
        Format::Steam,
        Format::Stratum,
        Format::TotpAuthenticator,
        Format::Text,
    ];

    /// The short name used on the command line (`--format aegis`).
    pub fn id(self) -> &'static str {
        match self {
            Format::Twofold => "twofold",
            Format::Aegis => "aegis",
            Format::TwoFas => "2fas",
            Format::AndOtp => "andotp",
            Format::FreeOtpPlus => "freeotp-plus",
            Format::Bitwarden => "bitwarden",
            Format::Ente => "ente",
            Format::Raivo => "raivo",
            Format::ProtonAuthenticator => "proton-authenticator",
            Format::ProtonPass => "proton-pass",
            Format::Stratum => "stratum",
            Format::Steam => "steam",
            Format::FreeOtp => "freeotp",
            Format::Authy => "authy",
            Format::BattleNet => "battle-net",
            Format::Duo => "duo",
            Format::GoogleAuthenticator => "google-authenticator",
            Format::MicrosoftAuthenticator => "microsoft-authenticator",
            Format::TotpAuthenticator => "totp-authenticator",
            Format::AuthenticatorPlus => "authenticator-plus",
            Format::Text => "text",
        }
    }

    /// The name people know the app or format by.
    pub fn name(self) -> &'static str {
        match self {
            Format::Twofold => "Twofold backup",
            Format::Aegis => "Aegis",
            Format::TwoFas => "2FAS",
            Format::AndOtp => "andOTP",
            Format::FreeOtpPlus => "FreeOTP+",
            Format::Bitwarden => "Bitwarden",
            Format::Ente => "Ente Auth",
            Format::Raivo => "Raivo OTP",
            Format::ProtonAuthenticator => "Proton Authenticator",
            Format::ProtonPass => "Proton Pass",
            Format::Stratum => "Stratum (Authenticator Pro)",
            Format::Steam => "Steam",
            Format::FreeOtp => "FreeOTP",
            Format::Authy => "Authy",
            Format::BattleNet => "Battle.net Authenticator",
            Format::Duo => "Duo Mobile",
            Format::GoogleAuthenticator => "Google Authenticator (app database)",
            Format::MicrosoftAuthenticator => "Microsoft Authenticator",
            Format::TotpAuthenticator => "TOTP Authenticator",
            Format::AuthenticatorPlus => "Authenticator Plus",
            Format::Text => "otpauth URI list",
        }
    }

    /// Reads the accounts of an export in this format. An encrypted export needs `password`;
    /// without one it fails with [`ImportError::PasswordNeeded`], so a caller can ask and retry.
    pub fn read(self, bytes: &[u8], password: Option<&Password>) -> Result<Imported, ImportError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ImportError::damaged(self, "the file is empty"));
        }
        let content = Content::of(bytes);
        match self {
            Format::Twofold => read_backup(bytes, password),
            Format::Aegis => aegis::read(&content, password),
            Format::TwoFas => twofas::read(&content, password),
            Format::AndOtp => andotp::read(&content, password),
            Format::FreeOtpPlus => freeotp_plus::read(&content),
            Format::Bitwarden => bitwarden::read(&content, password),
            Format::Ente => ente::read(&content, password),
            Format::Raivo => raivo::read(&content, password),
            Format::ProtonAuthenticator => proton_authenticator::read(&content),
            Format::ProtonPass => proton_pass::read(&content),
            Format::Stratum => stratum::read(&content, password),
            Format::Steam => steam::read(&content),
            Format::FreeOtp => freeotp::read(&content, password),
            Format::Authy => authy::read(&content, password),
            Format::BattleNet => battle_net::read(&content),
            Format::Duo => duo::read(&content),
            Format::GoogleAuthenticator => google_authenticator::read(&content),
            Format::MicrosoftAuthenticator => microsoft_authenticator::read(&content),
            Format::TotpAuthenticator => totp_authenticator::read(&content, password),
            Format::AuthenticatorPlus => authenticator_plus::read(&content, password),
            Format::Text => plain::read(&content),
        }
    }

    /// Whether `content` looks like this format, and if so whether it is encrypted.
    fn recognise(self, content: &Content<'_>) -> Option<Encrypted> {
        match self {
            Format::Twofold => match content {
                Content::Binary(bytes) => crate::backup::recognise(bytes).then_some(true),
                Content::Text(text) => crate::backup::recognise(text.as_bytes()).then_some(true),
                _ => None,
            },
            Format::Aegis => aegis::recognise(content),
            Format::TwoFas => twofas::recognise(content),
            Format::AndOtp => andotp::recognise(content),
            Format::FreeOtpPlus => freeotp_plus::recognise(content),
            Format::Bitwarden => bitwarden::recognise(content),
            Format::Ente => ente::recognise(content),
            Format::Raivo => raivo::recognise(content),
            Format::ProtonAuthenticator => proton_authenticator::recognise(content),
            Format::ProtonPass => proton_pass::recognise(content),
            Format::Stratum => stratum::recognise(content),
            Format::Steam => steam::recognise(content),
            Format::FreeOtp => freeotp::recognise(content),
            Format::Authy => authy::recognise(content),
            Format::BattleNet => battle_net::recognise(content),
            Format::Duo => duo::recognise(content),
            Format::GoogleAuthenticator => google_authenticator::recognise(content),
            Format::MicrosoftAuthenticator => microsoft_authenticator::recognise(content),
            Format::TotpAuthenticator => totp_authenticator::recognise(content),
            Format::AuthenticatorPlus => authenticator_plus::recognise(content),
            Format::Text => plain::recognise(content),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--format` value that names no format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format \"{name}\": the formats are {ids}", ids = format_ids())]
pub struct UnknownFormatName {
    name: String,
}

fn format_ids() -> String {
    Format::ALL.iter().map(|f| f.id()).collect::<Vec<_>>().join(", ")
}

impl FromStr for Format {
    type Err = UnknownFormatName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.id() == wanted)
            .ok_or_else(|| UnknownFormatName { name: text.chars().take(40).collect() })
    }
}

/// Whether a recognised export is encrypted.
type Encrypted = bool;

/// What [`detect`] found: the format, and whether a password will be needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// The export's format.
    pub format: Format,
    /// Whether reading it needs a password.
    pub encrypted: bool,
}

/// Recognises an export's format from its content (never from its file name).
pub fn detect(bytes: &[u8]) -> Result<Detected, ImportError> {
    let content = Content::of(bytes);
    if let Content::BrokenJson(error) = &content {
        return Err(ImportError::Damaged { format: None, problem: json::problem(error) });
    }
    claimants_of(&content).into_iter().next().ok_or(ImportError::UnknownFormat)
}

/// Every format that claims `bytes`, in [`Format::ALL`]'s order: [`detect`] takes the first. A
/// file real apps write is claimed by one format only, which the import tests check.
pub fn claimants(bytes: &[u8]) -> Vec<Detected> {
    claimants_of(&Content::of(bytes))
}

fn claimants_of(content: &Content<'_>) -> Vec<Detected> {
    let mut found: Vec<Detected> = Format::ALL
        .into_iter()
        .filter_map(|format| {
            format.recognise(content).map(|encrypted| Detected { format, encrypted })
        })
        .collect();
    if found.is_empty() {
        found.extend(
            andotp::recognise_old(content)
                .map(|encrypted| Detected { format: Format::AndOtp, encrypted }),
        );
    }
    found
}

/// Why an export could not be read at all. Messages are for people and never hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The content is none of the formats Twofold reads.
    #[error(
        "Twofold does not recognise this file: it reads Twofold backups, exports of Aegis, 2FAS, andOTP, \
         Authenticator Plus, Bitwarden, Ente Auth, FreeOTP+, Proton Authenticator, Proton Pass, Raivo OTP, \
         Stratum and TOTP Authenticator, the app files of Authy, Battle.net, Duo, FreeOTP, \
         Google Authenticator, Microsoft Authenticator and Steam, and text files of otpauth:// URIs"
    )]
    UnknownFormat,
    /// An encrypted export was given no password.
    #[error("this file is encrypted: give its password")]
    PasswordNeeded,
    /// The password does not decrypt the export.
    #[error("wrong password: it does not decrypt this {format} export")]
    WrongPassword {
        /// The export's format.
        format: Format,
    },
    /// The file is cut short, or its structure is not what the format describes.
    #[error("{} is damaged: {problem}", which_file(*format))]
    Damaged {
        /// The format, when known.
        format: Option<Format>,
        /// What is wrong, in words.
        problem: String,
    },
    /// A well-formed export using a feature Twofold cannot read.
    #[error("this {format} export cannot be imported: {problem}")]
    Unsupported {
        /// The export's format.
        format: Format,
        /// What it uses, and what to do instead.
        problem: String,
    },
    /// Key derivation parameters beyond what any real export uses: refused rather than letting a
    /// file exhaust memory or time.
    #[error(
        "this {format} export asks for a key derivation far costlier than the app makes \
         ({detail}): it is damaged or not a real export"
    )]
    TooCostly {
        /// The export's format.
        format: Format,
        /// The parameters found.
        detail: String,
    },
}

fn which_file(format: Option<Format>) -> String {
    match format {
        Some(format) => format!("this {format} export"),
        None => "this file".to_owned(),
    }
}

impl ImportError {
    /// A damaged-file error for `format`.
    fn damaged(format: Format, problem: impl Into<String>) -> Self {
        ImportError::Damaged { format: Some(format), problem: problem.into() }
    }
}

/// A Twofold backup's accounts, its errors said as an import's.
fn read_backup(bytes: &[u8], password: Option<&Password>) -> Result<Imported, ImportError> {
    use crate::backup::{self, BackupError};
    const FORMAT: Format = Format::Twofold;
    let password = password.ok_or(ImportError::PasswordNeeded)?;
    match backup::read(bytes, password) {
        Ok(opened) => Ok(backup::imported(&opened)),
        Err(BackupError::WrongPassphrase) => Err(ImportError::WrongPassword { format: FORMAT }),
        Err(BackupError::TooCostly { detail }) => {
            Err(ImportError::TooCostly { format: FORMAT, detail })
        }
        Err(err @ BackupError::NewerVersion { .. }) => {
            Err(ImportError::Unsupported { format: FORMAT, problem: err.to_string() })
        }
        Err(BackupError::Damaged { problem }) => Err(ImportError::damaged(FORMAT, problem)),
        Err(other) => Err(ImportError::damaged(FORMAT, other.to_string())),
    }
}

/// The file's bytes, seen once as what they hold so each reader need not parse again.
enum Content<'a> {
    /// A JSON document (secrets in it are wiped on drop).
    Json(json::Document),
    /// Text that starts like JSON but does not parse (cut short or edited).
    BrokenJson(serde_json::Error),
    /// A ZIP archive.
    Zip(&'a [u8]),
    /// An Android shared preferences file (XML), where apps without exports keep accounts.
    Prefs(shared_prefs::Prefs),
    /// An SQLite database (an Android app's own), opened in memory.
    Sqlite(sqlite::Database),
    /// Other UTF-8 text.
    Text(&'a str),
    /// Anything else.
    Binary(&'a [u8]),
}

impl<'a> Content<'a> {
    fn of(bytes: &'a [u8]) -> Self {
        if bytes.starts_with(b"PK\x03\x04") {
            return Content::Zip(bytes);
        }
        if bytes.starts_with(sqlite::MAGIC) {
            return sqlite::Database::open(bytes).map_or(Content::Binary(bytes), Content::Sqlite);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Content::Binary(bytes);
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim_start().starts_with(['{', '[']) {
            return match json::Document::parse(text) {
                Ok(document) => Content::Json(document),
                Err(error) => Content::BrokenJson(error),
            };
        }
        match shared_prefs::Prefs::parse(text) {
            Some(prefs) => Content::Prefs(prefs),
            None => Content::Text(text),
        }
    }

    /// The JSON document, or the error `format`'s reader reports when there is none.
    fn json(&self, format: Format) -> Result<&serde_json::Value, ImportError> {
        match self {
            Content::Json(document) => Ok(document.value()),
            Content::BrokenJson(error) => Err(ImportError::damaged(format, json::problem(error))),
            _ => Err(ImportError::damaged(format, "it is not JSON, as this format's files are")),
        }
    }

    /// The preferences file, or the error `format`'s reader reports when there is none.
    fn prefs(&self, format: Format) -> Result<&shared_prefs::Prefs, ImportError> {
        match self {
            Content::Prefs(prefs) => Ok(prefs),
            _ => Err(ImportError::damaged(
                format,
                "it is not an Android preferences file (XML), as this app's file is",
            )),
        }
    }
}

/// Length of an AES-GCM tag, which the formats here append to the ciphertext or store beside it.
const GCM_TAG_LEN: usize = 16;

/// AES-256-GCM decryption; `None` when key, nonce or tag do not fit or the tag does not match
/// (a wrong key or a changed ciphertext: GCM cannot tell which).
fn open_aes_gcm(
    key: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    open_aes_gcm_with_aad(key, nonce, ciphertext, tag, &[])
}

/// [`open_aes_gcm`] with associated data.
fn open_aes_gcm_with_aad(
    key: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
    aad: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).ok()?;
    let nonce = aes_gcm::Nonce::try_from(nonce).ok()?;
    let tag = aes_gcm::Tag::try_from(tag).ok()?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    cipher.decrypt_inout_detached(&nonce, aad, buffer.as_mut_slice().into(), &tag).ok()?;
    Some(buffer)
}

/// [`open_aes_gcm`] of a ciphertext with its tag appended, as Java's and Web Crypto's GCM write it.
fn open_aes_gcm_appended(key: &[u8], nonce: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    open_aes_gcm_appended_with_aad(key, nonce, sealed, &[])
}

/// [`open_aes_gcm_appended`] with associated data.
fn open_aes_gcm_appended_with_aad(
    key: &[u8],
    nonce: &[u8],
    sealed: &[u8],
    aad: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let split = sealed.len().checked_sub(GCM_TAG_LEN)?;
    let (ciphertext, tag) = sealed.split_at(split);
    open_aes_gcm_with_aad(key, nonce, ciphertext, tag, aad)
}

/// AES-CBC decryption with PKCS#7 padding (AES-256, or AES-128 for a 16-byte key), as Java's
/// `AES/CBC/PKCS5Padding` writes it; `None` when key or IV do not fit, the ciphertext is not whole
/// blocks, or the padding is wrong (most often a wrong key).
fn open_aes_cbc(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    use cbc::cipher::{BlockModeDecrypt as _, KeyIvInit as _, block_padding::Pkcs7};
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let len = match key.len() {
        32 => cbc::Decryptor::<aes_gcm::aes::Aes256>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded::<Pkcs7>(buffer.as_mut_slice())
            .ok()?
            .len(),
        16 => cbc::Decryptor::<aes_gcm::aes::Aes128>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded::<Pkcs7>(buffer.as_mut_slice())
            .ok()?
            .len(),
        _ => return None,
    };
    buffer.truncate(len);
    Some(buffer)
}

/// Decrypted bytes as text, or the damage to report.
fn decrypted_text(format: Format, bytes: &[u8]) -> Result<&str, ImportError> {
    std::str::from_utf8(bytes)
        .map_err(|_| ImportError::damaged(format, "its decrypted contents are not text"))
}

/// The secret of a `steam://SECRET` value (base32), as Bitwarden and Proton write Steam accounts;
/// `None` when the text is not one.
fn steam_uri(text: &str) -> Option<Result<crate::Secret, String>> {
    let secret = text.get(..8).filter(|s| s.eq_ignore_ascii_case("steam://")).and(text.get(8..))?;
    Some(json::base32_secret(secret))
}

/// Reads one `otpauth://` or `otpauth-migration://` payload found at `place` into `imported`.
fn read_payload(text: &str, place: Place, imported: &mut Imported) {
    let error = |entry, name, message: String| EntryError { place, entry, name, message };
    if text.get(..18).is_some_and(|scheme| scheme.eq_ignore_ascii_case("otpauth-migration:")) {
        match migration::decode(text) {
            Ok(batch) => {
                for (i, entry) in batch.entries.into_iter().enumerate() {
                    match entry {
                        Ok(credential) => imported.credentials.push(credential),
                        Err(e) => imported.errors.push(error(
                            Some(i + 1),
                            Some(e.label),
                            e.problem.to_string(),
                        )),
                    }
                }
            }
            Err(e) => imported.errors.push(error(None, None, e.to_string())),
        }
    } else {
        match uri::parse(text) {
            Ok(credential) => imported.credentials.push(credential),
            Err(e) => imported.errors.push(error(None, None, e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_ids_parse_back_and_unknown_ones_are_listed() {
        for format in Format::ALL {
            assert_eq!(format.id().parse::<Format>(), Ok(format));
        }
        assert_eq!(" AEGIS ".parse::<Format>(), Ok(Format::Aegis));
        let err = "lastpass".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("aegis, 2fas, andotp"), "{err}");
    }

    #[test]
    fn password_debug_is_redacted() {
        let shown = format!("{:?}", Password::new("hunter22".into()));
        assert!(!shown.contains("hunter22"), "{shown}");
    }

    #[test]
    fn detection_tells_broken_json_from_unknown_files() {
        assert!(matches!(
            detect(b"{\"version\": 1, \"header\""),
            Err(ImportError::Damaged { format: None, .. })
        ));
        assert_eq!(detect(b"hello"), Err(ImportError::UnknownFormat));
        assert_eq!(detect(b"{\"hello\": 1}"), Err(ImportError::UnknownFormat));
    }
}
