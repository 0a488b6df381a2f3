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
    /// There is no user of that name.
    #[error("there is no user named {0:?}")]
    NoSuchUser(String),
    /// The display name is empty, longer than 100 characters or has control characters.
    #[error("a display name is 1 to 100 characters without control characters: {0:?}")]
    BadDisplayName(String),
    /// The email address is not one (RFC 5322 `addr-spec`, no display name, at most 254
    /// characters).
    #[error("not an email address (name@example.com): {0:?}")]
    BadEmail(String),
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

/// What the administrator says about a user besides the name; `None` leaves a value as it is
/// (when adding: the display name is the user name, no email address).
#[derive(Debug, Clone, Copy, Default)]
pub struct Profile<'a> {
    /// The name shown (`Remote-Name`, the `name` claim).
    pub display_name: Option<&'a str>,
    /// The email address (the `email` claim); empty removes it.
    pub email: Option<&'a str>,
}

/// `display_name` trimmed, if it can be one.
fn display_name_of(display_name: &str) -> Result<&str, UserError> {
    let trimmed = display_name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 100 || trimmed.chars().any(char::is_control)
    {
        return Err(UserError::BadDisplayName(display_name.to_owned()));
    }
    Ok(trimmed)
}

/// `email` trimmed, if it is an address (`None` for an empty one).
pub fn email_of(email: &str) -> Result<Option<String>, UserError> {
    let trimmed = email.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    // A bare address only: "Alice <alice@example.com>" or a domain literal is not a claim value
    // relying parties expect.
    let options = email_address::Options {
        allow_display_text: false,
        allow_domain_literal: false,
        ..email_address::Options::default()
    };
    match email_address::EmailAddress::parse_with_options(trimmed, options) {
        Ok(address) if trimmed.len() <= 254 => Ok(Some(address.email().to_owned())),
        _ => Err(UserError::BadEmail(email.to_owned())),
    }
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
    profile: &Profile<'_>,
    now: u64,
    entropy: &dyn Entropy,
) -> Result<Zeroizing<String>, UserError> {
    let name = name.trim();
    if !valid_name(name) {
        return Err(UserError::BadName(name.to_owned()));
    }
    let display_name = profile.display_name.map(display_name_of).transpose()?.unwrap_or(name);
    let email = profile.email.map(email_of).transpose()?.flatten();
    let (token, enrol_hash) = new_token(entropy)?;
    let user = NewPortalUser {
        user: PortalUser {
            name: name.to_owned(),
            display_name: display_name.to_owned(),
            email,
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

/// Changes what `profile` names of the user `name`.
pub async fn set_profile<S: PortalStore>(
    store: &S,
    name: &str,
    profile: &Profile<'_>,
) -> Result<(), UserError> {
    let Some(user) = store.portal_user(name).await? else {
        return Err(UserError::NoSuchUser(name.to_owned()));
    };
    let display_name = match profile.display_name {
        Some(display_name) => display_name_of(display_name)?,
        None => &user.display_name,
    };
    let email = match profile.email {
        Some(email) => email_of(email)?,
        None => user.email.clone(),
    };
    if store.set_portal_user_profile(name, display_name, email.as_deref()).await? {
        Ok(())
    } else {
        Err(UserError::NoSuchUser(name.to_owned()))
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

    #[test]
    fn an_email_is_a_bare_address_or_nothing() {
        assert_eq!(email_of(" alice@example.com ").unwrap().as_deref(), Some("alice@example.com"));
        assert_eq!(email_of("").unwrap(), None);
        let long = format!("{}@{}.example.com", "a".repeat(64), "b".repeat(200));
        for bad in [
            "alice",
            "alice@",
            "@example.com",
            "Alice <alice@example.com>",
            "alice@[127.0.0.1]",
            "a b@example.com",
            &long,
        ] {
            assert!(matches!(email_of(bad), Err(UserError::BadEmail(_))), "{bad:?}");
        }
    }
}
