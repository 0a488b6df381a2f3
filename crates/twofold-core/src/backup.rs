//! Twofold's own backup file: every account's metadata and secret, encrypted with a passphrase.
//!
//! # Format, version 1
//!
//! One binary file: a 92-byte header, then the encrypted payload. Integers are big-endian.
//!
//! | offset | bytes | field                                                              |
//! |-------:|------:|--------------------------------------------------------------------|
//! |      0 |     8 | magic `TWOFOLDB`                                                   |
//! |      8 |     2 | format version (1)                                                 |
//! |     10 |     1 | key derivation: 1 = Argon2id, version 0x13 (RFC 9106)              |
//! |     11 |     4 | Argon2 memory, KiB                                                 |
//! |     15 |     4 | Argon2 passes                                                      |
//! |     19 |     4 | Argon2 lanes                                                       |
//! |     23 |    16 | salt (random)                                                      |
//! |     39 |     1 | cipher: 1 = XChaCha20-Poly1305                                     |
//! |     40 |    24 | nonce (random)                                                     |
//! |     64 |     8 | when the backup was made, Unix seconds                             |
//! |     72 |     4 | number of accounts                                                 |
//! |     76 |    16 | key check                                                          |
//! |     92 |     … | payload ciphertext, then its 16-byte Poly1305 tag                  |
//!
//! Argon2id turns the passphrase (UTF-8, as typed) and the salt into 32 bytes `K`. The cipher key is
//! HMAC-SHA256(`K`, "twofold backup v1 encryption key"); the key check is the first 16 bytes of
//! HMAC-SHA256(`K`, "twofold backup v1 key check"). The whole header (bytes 0–91) is the
//! associated data of the AEAD, so no byte of the file can change unnoticed. The key check lets a
//! reader tell a wrong passphrase from a damaged file; it reveals nothing an attacker could not
//! learn by trying the passphrase against the AEAD itself (a changed salt or cost reads as a
//! wrong passphrase too: they feed the key). Date and count are readable without the
//! passphrase (to list backups) and authenticated once it is given.
//!
//! The payload is UTF-8 JSON: `{"accounts": [{"id", "issuer", "name", "otp": {"kind", "algorithm",
//! "digits", "period", "counter"}, "icon", "tags", "order", "created", "secret"}]}` where `secret`
//! is base32 without padding (then `:` and the PIN for mOTP and Yandex accounts, as
//! [`Secret::to_stored`] writes it) and the other fields are those of [`Account`].
//!
//! A later version keeps bytes 0–9 (magic and version) and may change everything after them, so an
//! older Twofold can say "made by a newer Twofold" rather than "damaged".

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

use crate::import::{Imported, Password};
use crate::keystore::Keystore;
use crate::otp::OtpParams;
use crate::seal::{self, HeaderProblem, Keys, Labels, SealError};
pub use crate::seal::{KdfCost, Sealing};
use crate::vault::{AccountEdit, Vault, VaultError};
use crate::{Account, Credential, Secret};

pub mod auto;

/// The first bytes of every backup file.
pub const MAGIC: &[u8; 8] = b"TWOFOLDB";
/// The format version this Twofold writes and the newest it reads.
pub const VERSION: u16 = 1;
/// Length of a version 1 header.
pub const HEADER_LEN: usize = 92;

const ENCRYPTION_KEY_INFO: &[u8] = b"twofold backup v1 encryption key";
const KEY_CHECK_INFO: &[u8] = b"twofold backup v1 key check";
const LABELS: Labels = Labels { encryption: ENCRYPTION_KEY_INFO, check: KEY_CHECK_INFO };

/// Why a backup could not be written or read. Never holds a secret or the passphrase.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// The file does not start like a Twofold backup.
    #[error("this is not a Twofold backup file")]
    NotABackup,
    /// The file was made by a newer Twofold.
    #[error(
        "this backup was made by a newer Twofold (backup format {found}; this one reads up to \
         {VERSION}): update Twofold to restore it"
    )]
    NewerVersion {
        /// The version in the file.
        found: u16,
    },
    /// An empty passphrase was given for a new backup.
    #[error("the passphrase is empty: choose one to protect the backup")]
    EmptyPassphrase,
    /// The passphrase does not open the backup.
    #[error("wrong passphrase: it does not open this backup")]
    WrongPassphrase,
    /// The file is cut short or was changed after it was written.
    #[error("this backup is damaged: {problem}")]
    Damaged {
        /// What is wrong, in words.
        problem: String,
    },
    /// Key derivation settings far beyond what Twofold writes.
    #[error(
        "this backup asks for a key derivation far costlier than Twofold makes ({detail}): it is \
         damaged or not a real backup"
    )]
    TooCostly {
        /// The settings found.
        detail: String,
    },
    /// The key derivation settings given to the writer cannot be used.
    #[error("cannot use these key derivation settings: {detail}")]
    InvalidCost {
        /// Why.
        detail: String,
    },
    /// The operating system gave no random bytes.
    #[error("the system's random number generator failed: {reason}")]
    Random {
        /// What the platform said.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", ...).
        action: &'static str,
        /// The file or folder concerned.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A new file was to be written where one already is.
    #[error("{} already exists: choose another name", path.display())]
    Exists {
        /// The file that is there.
        path: std::path::PathBuf,
    },
    /// The vault or keyring failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl BackupError {
    fn damaged(problem: impl Into<String>) -> Self {
        BackupError::Damaged { problem: problem.into() }
    }
}

impl From<SealError> for BackupError {
    fn from(err: SealError) -> Self {
        match err {
            SealError::Random { reason } => BackupError::Random { reason },
            SealError::InvalidCost { detail } => BackupError::InvalidCost { detail },
        }
    }
}

/// One account of a backup, with its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The account's metadata as the vault held it.
    pub account: Account,
    /// Its secret.
    pub secret: Secret,
}

impl Entry {
    /// The portable form, for adding to a vault or exporting.
    pub fn to_credential(&self) -> Credential {
        self.account.to_credential(self.secret.clone())
    }
}

/// What a backup's header says, readable without the passphrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// When the backup was made, Unix seconds.
    pub created: u64,
    /// How many accounts it holds.
    pub accounts: u32,
    /// Its key derivation cost.
    pub cost: KdfCost,
}

/// A backup opened with its passphrase.
#[derive(Debug)]
pub struct Backup {
    /// What its header says.
    pub header: Header,
    /// Its accounts, in the order they were written.
    pub entries: Vec<Entry>,
}

/// Every account of `vault` with its secret, in display order: what a backup holds. An account
/// whose secret is missing from the keyring cannot be backed up; its label is returned instead.
pub fn snapshot<K: Keystore>(vault: &Vault<K>) -> Result<(Vec<Entry>, Vec<String>), BackupError> {
    let mut entries = Vec::new();
    let mut missing = Vec::new();
    let accounts = vault.accounts()?;
    // Read together: one keyring session for every secret rather than one each.
    let secrets = vault.secrets(&accounts);
    for (account, secret) in accounts.into_iter().zip(secrets) {
        match secret {
            Ok(secret) => entries.push(Entry { account, secret }),
            Err(VaultError::MissingSecret { label }) => missing.push(label),
            Err(err) => return Err(err.into()),
        }
    }
    Ok((entries, missing))
}

#[derive(Serialize)]
struct PayloadOut<'a> {
    accounts: Vec<StoredOut<'a>>,
}

#[derive(Serialize)]
struct StoredOut<'a> {
    id: Uuid,
    issuer: &'a str,
    name: &'a str,
    otp: &'a OtpParams,
    icon: Option<&'a str>,
    tags: &'a [String],
    order: u32,
    created: u64,
    secret: &'a str,
}

#[derive(Deserialize)]
struct PayloadIn {
    accounts: Vec<StoredIn>,
}

/// An entry as read; its base32 secret is wiped on drop.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredIn {
    id: Uuid,
    issuer: String,
    name: String,
    otp: OtpParams,
    icon: Option<String>,
    tags: Vec<String>,
    order: u32,
    created: u64,
    secret: String,
}

impl Drop for StoredIn {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// Encrypts `entries` into a backup file's bytes.
pub fn write(
    entries: &[Entry],
    passphrase: &Password,
    created: u64,
    sealing: &Sealing,
) -> Result<Vec<u8>, BackupError> {
    if passphrase.expose().is_empty() {
        return Err(BackupError::EmptyPassphrase);
    }
    let count = u32::try_from(entries.len())
        .map_err(|_| BackupError::InvalidCost { detail: "too many accounts".to_owned() })?;
    let secrets: Vec<Zeroizing<String>> = entries.iter().map(|e| e.secret.to_stored()).collect();
    let payload = PayloadOut {
        accounts: entries
            .iter()
            .zip(&secrets)
            .map(|(e, secret)| StoredOut {
                id: e.account.id,
                issuer: &e.account.issuer,
                name: &e.account.name,
                otp: &e.account.otp,
                icon: e.account.icon.as_deref(),
                tags: &e.account.tags,
                order: e.account.order,
                created: e.account.created,
                secret,
            })
            .collect(),
    };
    let buffer = seal::json_zeroizing(&payload);

    let mut header = [0u8; HEADER_LEN];
    sealing.write_common(&mut header, MAGIC, VERSION);
    header[64..72].copy_from_slice(&created.to_be_bytes());
    header[72..76].copy_from_slice(&count.to_be_bytes());
    let invalid = || BackupError::InvalidCost { detail: sealing.cost.to_string() };
    let keys = Keys::derive(sealing, passphrase.expose(), &LABELS).ok_or_else(invalid)?;
    header[76..92].copy_from_slice(keys.check());
    keys.seal(&sealing.nonce, &header, buffer)
        .ok_or_else(|| BackupError::InvalidCost { detail: "the payload is too large".to_owned() })
}

/// Whether `bytes` start like a Twofold backup (any version).
pub fn recognise(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// A header's fields, parsed but not yet authenticated.
struct RawHeader<'a> {
    header: Header,
    sealing: seal::Sealing,
    check: &'a [u8],
}

fn parse_header(bytes: &[u8]) -> Result<RawHeader<'_>, BackupError> {
    let (_, sealing) =
        seal::read_common(bytes, MAGIC, VERSION).map_err(|problem| match problem {
            HeaderProblem::Foreign => BackupError::NotABackup,
            HeaderProblem::Newer(found) => BackupError::NewerVersion { found },
            HeaderProblem::Damaged(problem) => BackupError::Damaged { problem },
        })?;
    let header = bytes
        .get(..HEADER_LEN)
        .ok_or_else(|| BackupError::damaged("it is cut short inside its header"))?;
    Ok(RawHeader {
        header: Header {
            created: u64::from_be_bytes(seal::field(header, 64)),
            accounts: u32::from_be_bytes(seal::field(header, 72)),
            cost: sealing.cost,
        },
        sealing,
        check: &header[76..92],
    })
}

/// Reads a backup's header without the passphrase: when it was made and how many accounts it holds
/// (not yet authenticated: [`read`] checks them).
pub fn inspect(bytes: &[u8]) -> Result<Header, BackupError> {
    parse_header(bytes).map(|raw| raw.header)
}

/// Opens a backup with its passphrase.
pub fn read(bytes: &[u8], passphrase: &Password) -> Result<Backup, BackupError> {
    let raw = parse_header(bytes)?;
    let cost = raw.header.cost;
    if !cost.within_limits() {
        return Err(BackupError::TooCostly { detail: cost.to_string() });
    }
    if bytes.len() < HEADER_LEN + seal::TAG_LEN {
        return Err(BackupError::damaged("it is cut short: its accounts are missing"));
    }
    let keys = Keys::derive(&raw.sealing, passphrase.expose(), &LABELS).ok_or_else(|| {
        BackupError::damaged(format!("its key derivation settings ({cost}) are not valid"))
    })?;
    if !keys.opens(raw.check) {
        return Err(BackupError::WrongPassphrase);
    }
    let buffer = keys.open(&raw.sealing.nonce, bytes, HEADER_LEN).ok_or_else(|| {
        BackupError::damaged(
            "its contents were cut short or changed after it was written (the passphrase is right)",
        )
    })?;
    let payload: PayloadIn = serde_json::from_slice(&buffer).map_err(|e| {
        // serde's message can quote a value, which could be a secret: give only the place.
        BackupError::damaged(format!(
            "its account list cannot be read (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    if payload.accounts.len() != raw.header.accounts as usize {
        return Err(BackupError::damaged(format!(
            "its header counts {} accounts but it holds {}",
            raw.header.accounts,
            payload.accounts.len()
        )));
    }
    let mut entries = Vec::with_capacity(payload.accounts.len());
    for (index, mut stored) in payload.accounts.into_iter().enumerate() {
        let account = Account {
            id: stored.id,
            issuer: std::mem::take(&mut stored.issuer),
            name: std::mem::take(&mut stored.name),
            otp: stored.otp,
            icon: stored.icon.take(),
            tags: std::mem::take(&mut stored.tags),
            order: stored.order,
            created: stored.created,
        };
        let secret = Secret::from_stored(&stored.secret).map_err(|e| {
            BackupError::damaged(format!("account {} ({}): {e}", index + 1, account.label()))
        })?;
        entries.push(Entry { account, secret });
    }
    Ok(Backup { header: raw.header, entries })
}

/// Creates `path` with `bytes`, readable by the user only: a backup or an export, which hold
/// secrets. An existing file is never replaced (it may be the only copy of an older backup).
pub fn write_new_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), BackupError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            BackupError::Exists { path: path.to_owned() }
        } else {
            BackupError::Io { action: "create", path: path.to_owned(), source }
        }
    })?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|source| BackupError::Io {
        action: "write",
        path: path.to_owned(),
        source,
    })
}

/// The accounts of a backup as an import sees them (for `twofold import` and the import screen).
pub(crate) fn imported(backup: &Backup) -> Imported {
    Imported {
        credentials: backup.entries.iter().map(Entry::to_credential).collect(),
        errors: Vec::new(),
    }
}

/// What a restore did, account by account.
#[derive(Debug, Default)]
pub struct Restored {
    /// Accounts added to the vault.
    pub added: Vec<Account>,
    /// Accounts of the backup already in the vault (same issuer, name and secret): the label and
    /// the id of the account already there.
    pub duplicates: Vec<(String, Uuid)>,
    /// Accounts the vault refused (parameters that cannot make codes), with the reason.
    pub refused: Vec<(String, String)>,
}

/// Merges a backup's accounts into `vault`: each is added unless the vault already holds it (then it
/// is reported as a duplicate). New accounts keep their tags and the backup's relative order, after
/// those already there; a vault or keyring failure stops the restore (what was added stays).
pub fn restore<K: Keystore>(
    vault: &Vault<K>,
    entries: &[Entry],
    now_unix: u64,
) -> Result<Restored, VaultError> {
    let mut ordered: Vec<&Entry> = entries.iter().collect();
    ordered.sort_by_key(|e| e.account.order);
    let mut restored = Restored::default();
    for entry in ordered {
        let label = entry.account.label();
        match vault.add(entry.to_credential(), now_unix) {
            Ok(account) if entry.account.tags.is_empty() => restored.added.push(account),
            // `add` takes no tags: they follow in a second write of the new account.
            Ok(account) => restored.added.push(vault.edit(
                account.id,
                AccountEdit { tags: Some(entry.account.tags.clone()), ..AccountEdit::default() },
            )?),
            Err(VaultError::Duplicate { id, .. }) => restored.duplicates.push((label, id)),
            Err(err @ VaultError::Invalid { .. }) => {
                restored.refused.push((label, err.to_string()))
            }
            Err(err) => return Err(err),
        }
    }
    Ok(restored)
}
