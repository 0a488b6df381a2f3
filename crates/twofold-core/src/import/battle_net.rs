//! The Battle.net Authenticator's preferences file (Android app data,
//! `shared_prefs/com.blizzard.messenger.authenticator_preferences.xml`).
//!
//! Format: Blizzard documents none; read as Aegis reads it (`BattleNetImporter.java`). The
//! entries `com.blizzard.messenger.AUTHENTICATOR_DEVICE_SECRET` and `..._SERIAL` are hex bytes
//! XORed with a fixed 56-byte mask (the app's `MASK` encryption type); unmasked, the secret is
//! the key in hex and the serial the account's serial number ("US-...."). Codes are TOTP, SHA1,
//! 8 digits, 30 s.
//!
//! What the import loses: the region and the restore code.

use super::{Content, EntryError, Format, ImportError, Imported, Place};
use crate::{Algorithm, Credential, Kind, OtpParams, Secret};

const FORMAT: Format = Format::BattleNet;

const PREFIX: &str = "com.blizzard.messenger.";
const SECRET: &str = "com.blizzard.messenger.AUTHENTICATOR_DEVICE_SECRET";
const SERIAL: &str = "com.blizzard.messenger.AUTHENTICATOR_SERIAL";

/// The mask the app XORs its secret and serial with (from `BattleNetImporter.java`).
const MASK: [u8; 56] = [
    0x39, 0x8e, 0x27, 0xfc, 0x50, 0x27, 0x6a, 0x65, 0x60, 0x65, 0xb0, 0xe5, 0x25, 0xf4, 0xc0, 0x6c,
    0x04, 0xc6, 0x10, 0x75, 0x28, 0x6b, 0x8e, 0x7a, 0xed, 0xa5, 0x9d, 0xa9, 0x81, 0x3b, 0x5d, 0xd6,
    0xc8, 0x0d, 0x2f, 0xb3, 0x80, 0x68, 0x77, 0x3f, 0xa5, 0x9b, 0xa4, 0x7c, 0x17, 0xca, 0x6c, 0x64,
    0x79, 0x01, 0x5c, 0x1d, 0x5b, 0x8b, 0x8f, 0x6b,
];

/// Battle.net codes: 8 digits, otherwise TOTP's defaults.
const PARAMS: OtpParams =
    OtpParams { kind: Kind::Totp, algorithm: Algorithm::Sha1, digits: 8, period: 30, counter: 0 };

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Prefs(prefs) = content else { return None };
    prefs.get(SECRET).map(|_| false)
}

pub(super) fn read(content: &Content<'_>) -> Result<Imported, ImportError> {
    let prefs = content.prefs(FORMAT)?;
    if !prefs.entries().any(|(name, _)| name.starts_with(PREFIX)) {
        return Err(ImportError::damaged(FORMAT, "it holds no Battle.net settings"));
    }
    let mut imported = Imported::default();
    let serial = prefs
        .get(SERIAL)
        .and_then(|s| unmask(s).ok())
        .map(|s| String::from_utf8_lossy(&s).into_owned());
    let result = prefs
        .get(SECRET)
        .ok_or_else(|| "it has no authenticator secret".to_owned())
        .and_then(|masked| {
            let hex = unmask(masked)?;
            let key = data_encoding::HEXLOWER_PERMISSIVE
                .decode(&hex)
                .map_err(|_| "its secret is not hexadecimal once unmasked".to_owned())?;
            Ok(Secret::new(key))
        });
    let name = serial.unwrap_or_default();
    match result {
        Ok(secret) if !secret.is_empty() => imported.credentials.push(Credential {
            issuer: "Battle.net".to_owned(),
            name,
            secret,
            otp: PARAMS,
            icon: None,
        }),
        Ok(_) => imported.errors.push(error(&name, "it has no secret".to_owned())),
        Err(message) => imported.errors.push(error(&name, message)),
    }
    Ok(imported)
}

fn error(name: &str, message: String) -> EntryError {
    let name = (!name.is_empty()).then(|| format!("Battle.net ({name})"));
    EntryError { place: Place::Entry(1), entry: None, name, message }
}

/// The bytes of a masked hex value.
fn unmask(masked: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
    let bytes = data_encoding::HEXLOWER_PERMISSIVE
        .decode(masked.trim().as_bytes())
        .map_err(|_| "its masked value is not hexadecimal".to_owned())?;
    if bytes.len() > MASK.len() {
        return Err("its masked value is longer than the app's mask".to_owned());
    }
    Ok(zeroize::Zeroizing::new(bytes.iter().zip(MASK).map(|(b, m)| b ^ m).collect()))
}
