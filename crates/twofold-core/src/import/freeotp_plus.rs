//! FreeOTP+'s JSON backup (`freeotp-backup.json`). Its other export, a list of otpauth URIs, is
//! read as [`Format::Text`].
//!
//! Format: the app's token model, <https://github.com/helloworld1/FreeOTPPlus/blob/master/token-data/src/main/java/org/fedorahosted/freeotp/data/OtpToken.kt>.
//! A JSON object `{tokens: [...], tokenOrder: ["issuer:label", ...]}`. Each token has `type`
//! (TOTP, HOTP), `algo`, `digits`, `period`, `counter` (of the next code), `issuerExt` (the
//! issuer shown), `issuerInt`, `label`, optional `issuerAlt` / `labelAlt` (renamed by the user) and
//! `secret` as a list of signed bytes (-128 to 127), not base32.
//!
//! What the import loses: token images, and the order when it differs from the list's.

use serde_json::Value;

use super::json::{self, Entry, Fields};
use super::{Content, Format, ImportError, Imported};
use crate::Secret;

const FORMAT: Format = Format::FreeOtpPlus;

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Json(document) = content else { return None };
    let top = Fields::of(document.value())?;
    top.array("tokens").ok().flatten().map(|_| false)
}

pub(super) fn read(content: &Content<'_>) -> Result<Imported, ImportError> {
    let top = Fields::of(content.json(FORMAT)?)
        .ok_or_else(|| ImportError::damaged(FORMAT, "it is not a JSON object"))?;
    let tokens = top
        .array("tokens")
        .map_err(|e| ImportError::damaged(FORMAT, e))?
        .ok_or_else(|| ImportError::damaged(FORMAT, "it has no list of tokens"))?;
    Ok(json::each_entry(tokens, |token| {
        let issuer = first_text(token, &["issuerAlt", "issuerExt", "issuerInt"]);
        let name = first_text(token, &["labelAlt", "label"]);
        entry(token, issuer.clone(), name.clone())
            .map_err(|message| (json::label(&issuer, &name), message))
    }))
}

/// The first of `keys` holding non-empty text.
fn first_text(fields: Fields<'_>, keys: &[&str]) -> String {
    keys.iter()
        .filter_map(|key| fields.text(key).ok().flatten())
        .map(str::trim)
        .find(|text| !text.is_empty())
        .unwrap_or_default()
        .to_owned()
}

fn entry(token: Fields<'_>, issuer: String, name: String) -> Result<crate::Credential, String> {
    let bytes = token.array("secret")?.ok_or("it has no secret")?;
    let secret = signed_bytes(bytes)?;
    Entry {
        issuer,
        name,
        algorithm: token.text("algo")?.map(json::algorithm).transpose()?,
        digits: token.number("digits")?,
        period: token.number("period")?,
        counter: token.number("counter")?,
        ..Entry::new(json::kind(token.text("type")?.unwrap_or("TOTP"))?)
    }
    .credential(secret)
}

/// Java's signed bytes as key bytes.
pub(super) fn signed_bytes(values: &[Value]) -> Result<Secret, String> {
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(values.len()));
    for value in values {
        let byte = value
            .as_i64()
            .and_then(|n| i8::try_from(n).ok())
            .ok_or("its secret is not a list of bytes (-128 to 127)")?;
        bytes.push(byte.cast_unsigned());
    }
    Ok(Secret::new(std::mem::take(&mut *bytes)))
}
