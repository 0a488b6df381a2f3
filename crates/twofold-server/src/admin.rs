//! What the operator does from the command line: add and revoke services (relying parties),
//! verify the audit log's hash chain.

use data_encoding::BASE64URL_NOPAD;
use zeroize::Zeroizing;

use crate::Settings;
use crate::app::secret_hash;
use crate::clock::{Entropy, EntropyError, random, random_uuid};
use crate::store::chain::{ChainBreak, ChainReport, ChainVerifier};
use crate::store::{NewService, Store, StoreError};
use twofold_protocol::Fingerprint;

/// Prefix of API keys, so a leaked one is recognisable (and secret scanners can find it).
const API_KEY_PREFIX: &str = "tfk_";

/// Why a service could not be added or revoked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The lifetime is not `never` or a number followed by m, h or d.
    #[error("{0:?} is not a lifetime: use never, or a number followed by m, h or d (30m, 1h, 30d)")]
    BadLifetime(String),
    /// The name is empty, too long or has control characters.
    #[error(
        "a service name is 1 to 100 characters without control, bidirectional or invisible characters"
    )]
    BadName,
    /// No service of that name.
    #[error("there is no service named {0:?}")]
    UnknownService(String),
    /// A service of that name exists.
    #[error("a service named {0:?} already exists")]
    Exists(String),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// No randomness.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
    /// The audit log's hash chain does not hold.
    #[error(transparent)]
    AuditChanged(#[from] ChainBreak),
    /// The service's API key was revoked: it pairs no more devices.
    #[error("the service {0:?} is revoked")]
    Revoked(String),
    /// The pairing link could not be made (a bad user name, the database).
    #[error(transparent)]
    Pairing(crate::AppError),
}

/// Audit entries read per statement while verifying.
const VERIFY_PAGE: u32 = 1000;

/// Checks the whole audit log's hash chain, oldest entry first.
pub async fn verify_audit<S: Store>(store: &S) -> Result<ChainReport, AdminError> {
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = store.audit_records(after, VERIFY_PAGE).await.map_err(AdminError::Store)?;
        for record in &page {
            verifier.check(record)?;
        }
        match page.last() {
            Some(last) => after = last.seq,
            None => return Ok(verifier.report()),
        }
    }
}

/// Reads `never`, `30m`, `1h`, `30d`: seconds, or `None` for never.
pub fn parse_lifetime(text: &str) -> Result<Option<u64>, AdminError> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let bad = || AdminError::BadLifetime(text.to_owned());
    let (count, unit) = [('m', 60), ('h', 3600), ('d', 86_400)]
        .into_iter()
        .find_map(|(suffix, unit)| Some((text.strip_suffix(suffix)?, unit)))
        .ok_or_else(bad)?;
    let count: u64 = count.parse().map_err(|_| bad())?;
    count.checked_mul(unit).filter(|&s| s > 0).map(Some).ok_or_else(bad)
}

/// Adds a service; returns its API key, which exists nowhere else (only its hash is stored).
pub async fn add_service<S: Store>(
    store: &S,
    name: &str,
    lifetime: Option<u64>,
    now: u64,
    entropy: &dyn Entropy,
) -> Result<Zeroizing<String>, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || twofold_protocol::text::has_deceptive(name)
    {
        return Err(AdminError::BadName);
    }
    let key = Zeroizing::new(format!(
        "{API_KEY_PREFIX}{}",
        BASE64URL_NOPAD.encode(&random::<32>(entropy)?)
    ));
    let service = NewService {
        id: random_uuid(entropy)?,
        name: name.to_owned(),
        key_hash: secret_hash(&key),
        created_at: now,
        expires_at: lifetime.map(|seconds| now.saturating_add(seconds)),
    };
    match store.add_service(&service).await {
        Ok(()) => Ok(key),
        Err(StoreError::Conflict { .. }) => Err(AdminError::Exists(name.to_owned())),
        Err(e) => Err(AdminError::Store(e)),
    }
}

/// Revokes a service's API key.
pub async fn revoke_service<S: Store>(store: &S, name: &str, now: u64) -> Result<(), AdminError> {
    match store.revoke_service(name.trim(), now).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AdminError::UnknownService(name.to_owned())),
        Err(e) => Err(AdminError::Store(e)),
    }
}

/// A pairing link for `user` of the service named `service`, made on the database without the
/// running server (`twofold-server pairing`): the same single-use, short-lived token as
/// `POST /v1/pairings`. Returns the link and when it expires (Unix seconds).
pub async fn pairing_link<S: Store>(
    store: &S,
    service: &str,
    user: &str,
    settings: &Settings,
    fingerprint: Fingerprint,
    now: u64,
    entropy: &dyn Entropy,
) -> Result<(String, u64), AdminError> {
    let service = match store.service_by_name(service.trim()).await {
        Ok(Some(found)) if found.revoked => return Err(AdminError::Revoked(found.name)),
        Ok(Some(found)) => found,
        Ok(None) => return Err(AdminError::UnknownService(service.to_owned())),
        Err(e) => return Err(AdminError::Store(e)),
    };
    let base = &settings.public_url;
    let lifetime = settings.pairing_lifetime;
    let created =
        crate::pairing::new_link(store, &service, user, base, fingerprint, lifetime, now, entropy)
            .await
            .map_err(AdminError::Pairing)?;
    Ok((created.link.to_string(), created.expires_at))
}

/// A QR code of `text` drawn with Unicode half blocks, two rows of modules per line of text (so
/// it shows about square), with its quiet zone. Modules are drawn in the terminal's light text
/// colour on its dark background, the usual terminal; the desktop's scan reads inverted codes too.
pub fn terminal_qr(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_read_as_seconds() {
        assert_eq!(parse_lifetime("never").unwrap(), None);
        assert_eq!(parse_lifetime("1h").unwrap(), Some(3600));
        assert_eq!(parse_lifetime("30d").unwrap(), Some(30 * 86_400));
        assert_eq!(parse_lifetime("15m").unwrap(), Some(900));
        for bad in ["", "h", "0d", "1w", "-1h", "1.5h", "99999999999999999999d", "é"] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }
}
