//! The portal's users: the administrator adds them (`twofold-server user add NAME`), each gets a
//! one-time enrolment link, and enrolling pairs a device and hands out recovery codes once.

use url::Url;
use zeroize::Zeroizing;

use super::secrets::{RecoveryCodes, new_recovery_codes, new_token};
use crate::app::secret_hash;
use crate::clock::{Entropy, EntropyError, random};
use crate::store::portal::{NewPortalUser, PortalStore, PortalUser};
use crate::store::{NewService, Service, StoreError};

/// How long an enrolment link works: a week, time to reach the person.
pub const ENROL_LIFETIME_SECS: u64 = 7 * 86_400;

/// Why a user could not be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    /// The name is empty, too long, or has control characters, spaces or a colon (HTTP Basic
    /// cannot carry a colon in a user name).
    #[error(
        "a user name is 1 to 64 characters without spaces, colons or control characters: {0:?}"
    )]
    BadName(String),
    /// A user of that name exists.
    #[error("a user named {0:?} already exists")]
    Exists(String),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// No randomness.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

impl From<StoreError> for UserError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// Whether `name` can be a portal user name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 64
        && !name.chars().any(|c| c.is_control() || c.is_whitespace() || c == ':')
}

/// The portal's service, added (with an API key nobody is given) the first time.
pub async fn portal_service<S: PortalStore>(
    store: &S,
    name: &str,
    now: u64,
    entropy: &dyn Entropy,
) -> Result<Service, UserError> {
    if let Some(service) = store.service_by_name(name).await? {
        return Ok(service);
    }
    let new = NewService {
        id: crate::clock::random_uuid(entropy)?,
        name: name.to_owned(),
        // The hash of a key that was never written down: the portal calls the API in process.
        key_hash: secret_hash(&data_encoding::BASE64URL_NOPAD.encode(&random::<32>(entropy)?)),
        created_at: now,
        expires_at: None,
    };
    match store.add_service(&new).await {
        // Another process added it meanwhile.
        Ok(()) | Err(StoreError::Conflict { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    store
        .service_by_name(name)
        .await?
        .ok_or(UserError::Store(StoreError::Corrupt { what: "portal service just added" }))
}

/// Adds a user; the enrolment link (under `public_url`), which exists nowhere else.
pub async fn add_user<S: PortalStore>(
    store: &S,
    public_url: &Url,
    name: &str,
    display_name: Option<&str>,
    now: u64,
    entropy: &dyn Entropy,
) -> Result<Zeroizing<String>, UserError> {
    let name = name.trim();
    if !valid_name(name) {
        return Err(UserError::BadName(name.to_owned()));
    }
    let display_name = display_name
        .map(str::trim)
        .filter(|d| !d.is_empty() && d.chars().count() <= 100 && !d.chars().any(char::is_control))
        .unwrap_or(name);
    let (token, enrol_hash) = new_token(entropy)?;
    let user = NewPortalUser {
        user: PortalUser {
            name: name.to_owned(),
            display_name: display_name.to_owned(),
            created_at: now,
            enrol_expires_at: Some(now + ENROL_LIFETIME_SECS),
        },
        enrol_hash,
    };
    match store.add_portal_user(&user).await {
        Ok(()) => Ok(Zeroizing::new(format!("{public_url}twofold/enrol/{}", token.as_str()))),
        Err(StoreError::Conflict { .. }) => Err(UserError::Exists(name.to_owned())),
        Err(e) => Err(e.into()),
    }
}

/// The user an enrolment token belongs to while it works at `now`.
pub(super) async fn enrolling<S: PortalStore>(
    store: &S,
    token: &str,
    now: u64,
) -> Result<Option<PortalUser>, StoreError> {
    Ok(store
        .user_by_enrolment(&secret_hash(token))
        .await?
        .filter(|user| user.enrol_expires_at.is_some_and(|at| now < at)))
}

/// Ends the enrolment: the token stops working and the user gets recovery codes, returned to
/// be shown once; `None` if the token was used meanwhile.
pub(super) async fn finish_enrolment<S: PortalStore>(
    store: &S,
    token: &str,
    now: u64,
    entropy: &dyn Entropy,
) -> Result<Option<Vec<Zeroizing<String>>>, UserError> {
    let RecoveryCodes { shown, hashes } = new_recovery_codes(entropy)?;
    Ok(store.finish_enrolment(&secret_hash(token), &hashes, now).await?.then_some(shown))
}

/// New recovery codes for `user`, replacing the old ones; returned to be shown once.
pub(super) async fn regenerate_codes<S: PortalStore>(
    store: &S,
    user: &str,
    now: u64,
    entropy: &dyn Entropy,
) -> Result<Vec<Zeroizing<String>>, UserError> {
    let RecoveryCodes { shown, hashes } = new_recovery_codes(entropy)?;
    store.replace_recovery_codes(user, &hashes, now).await?;
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_fit_basic_auth() {
        assert!(valid_name("alice"));
        assert!(valid_name("alice@example.com"));
        for bad in ["", "a b", "a:b", "a\nb", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
