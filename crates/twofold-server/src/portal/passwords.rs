//! App-specific passwords, for clients that cannot answer a prompt (WebDAV, CalDAV): HTTP Basic
//! through forward auth. Each is named, Argon2id-hashed, revocable, and its last use is shown.
//! Wrong passwords are audited and limited per user name (known or not).

use std::net::IpAddr;

use tokio::sync::OwnedMutexGuard;
use twofold_protocol::api::AuditEvent;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::secrets::{app_password_matches, new_app_password};
use super::{Portal, VerifiedPassword};
use crate::app::secret_hash;
use crate::clock::random_uuid;
use crate::error::AppError;
use crate::store::portal::{self, AppPassword, PortalStore};

/// A guess being checked: its user's turn on this instance, and the guess, counted as wrong until
/// [`Portal::right_guess`] takes it back.
pub(crate) struct Guess {
    id: Uuid,
    _turn: OwnedMutexGuard<()>,
}

/// Seconds a matched password is believed without Argon2id again (revocation is still checked
/// on every request).
pub(super) const REMEMBER_SECS: u64 = 300;
/// Wrong app passwords per user name within [`LIMIT_WINDOW_SECS`] before all are refused.
pub(super) const MAX_WRONG: u32 = 10;
/// The window of [`MAX_WRONG`], of the recovery-code limit and of the OpenID Connect
/// client-secret limit, in seconds.
pub(super) const LIMIT_WINDOW_SECS: u64 = 900;
/// Most remembered matches; beyond, the memory starts over.
const MAX_REMEMBERED: usize = 10_000;
/// Longest app-password name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// A stand-in Argon2id hash, verified against when a user has no app password, so an unknown
/// user costs what a known one does.
const DECOY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
     Vt1ktVkmb1k5bx/Lyb7IyoCzGIdEg8d+iQDBLbHVbmE";

impl<S: PortalStore> Portal<S> {
    /// `user`'s turn to have a guess checked, the guess recorded as wrong until
    /// [`Portal::right_guess`] takes it back; or `None` when `max` of their `rejected` guesses fall
    /// in the last [`LIMIT_WINDOW_SECS`]: then the guess is neither checked nor counted, as offline
    /// codes past their limit.
    pub(crate) async fn guess_turn(
        &self,
        user: &str,
        rejected: AuditEvent,
        max: u32,
    ) -> Result<Option<Guess>, AppError> {
        // The store's count holds the limit across instances; the turn makes one client's
        // requests sent at once pass one after another (each finding the first one's match
        // remembered) rather than all counting as guesses in flight.
        let turn = self.inner.guesses.take(user).await;
        let app = self.app().get();
        let now = app.clock.now();
        let id = random_uuid(app.entropy.as_ref())?;
        let guess = portal::Guess { id, user: user.to_owned(), kind: rejected, at: now };
        let since = now.saturating_sub(LIMIT_WINDOW_SECS);
        let reserved = app.store.reserve_guess(&guess, since, max).await?;
        Ok(reserved.then_some(Guess { id, _turn: turn }))
    }

    /// Takes back `guess`: it was right, and counts against no limit.
    pub(crate) async fn right_guess(&self, guess: Guess) -> Result<(), AppError> {
        Ok(self.app().get().store.forgive_guess(guess.id).await?)
    }

    /// The user an HTTP Basic `user:password` signs in, with their display name, if the
    /// password is one of the user's app passwords.
    pub(super) async fn app_password_user(
        &self,
        user: &str,
        password: &str,
        ip: IpAddr,
    ) -> Result<Option<(String, String)>, AppError> {
        let app = self.app().get();
        let Some(guess) = self.guess_turn(user, AuditEvent::AppPasswordRejected, MAX_WRONG).await?
        else {
            return Ok(None);
        };
        let now = app.clock.now();
        let passwords = app.store.app_passwords(user).await?;
        let key = secret_hash(&Zeroizing::new(format!("{user}\0{password}")));
        let remembered = self.remembered(&key, now);
        let matched = match remembered.and_then(|id| passwords.iter().find(|p| p.id == id)) {
            Some(found) => Some(found.clone()),
            None => {
                let password = Zeroizing::new(password.to_owned());
                let candidates = passwords.clone();
                // Argon2id takes tens of milliseconds: off the async workers.
                tokio::task::spawn_blocking(move || {
                    if candidates.is_empty() {
                        let _ = app_password_matches(&password, DECOY_PHC);
                    }
                    candidates.into_iter().find(|p| app_password_matches(&password, &p.phc))
                })
                .await
                .ok()
                .flatten()
            }
        };
        let Some(matched) = matched else {
            let audit = self.audit(user, AuditEvent::AppPasswordRejected, None, Some(ip));
            app.store.append_audit(&audit).await?;
            return Ok(None);
        };
        self.right_guess(guess).await?;
        self.remember(key, matched.id, now);
        if matched.last_used_at.is_none_or(|at| now >= at + super::sessions::TOUCH_EVERY) {
            let audit = self.audit(user, AuditEvent::AppPasswordUsed, None, Some(ip));
            if !app.store.use_app_password(matched.id, &audit).await? {
                return Ok(None);
            }
        }
        let user = app.store.portal_user(&matched.user).await?;
        let name = user.map_or_else(|| matched.user.clone(), |u| u.display_name);
        Ok(Some((matched.user, name)))
    }

    fn remembered(&self, key: &[u8; 32], now: u64) -> Option<Uuid> {
        let remembered = self.inner.verified_passwords.lock().ok()?;
        remembered.get(key).filter(|v| now < v.at + REMEMBER_SECS).map(|v| v.id)
    }

    fn remember(&self, key: [u8; 32], id: Uuid, now: u64) {
        if let Ok(mut remembered) = self.inner.verified_passwords.lock() {
            if remembered.len() >= MAX_REMEMBERED {
                remembered.clear();
            }
            remembered.insert(key, VerifiedPassword { id, at: now });
        }
    }

    /// A new app password named `name` for `user`: the password, shown once.
    pub(super) async fn create_app_password(
        &self,
        user: &str,
        name: &str,
    ) -> Result<Zeroizing<String>, AppError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(AppError::bad_request(
                "invalid_name",
                "name the app password (1 to 64 characters), e.g. \"Calendar on my phone\"",
            ));
        }
        let app = self.app().get();
        let entropy = std::sync::Arc::clone(&app.entropy);
        let (password, phc) =
            tokio::task::spawn_blocking(move || new_app_password(entropy.as_ref()))
                .await
                .map_err(|_| AppError::Entropy(crate::clock::EntropyError))??;
        let record = AppPassword {
            id: random_uuid(app.entropy.as_ref())?,
            user: user.to_owned(),
            name: name.to_owned(),
            phc,
            created_at: app.clock.now(),
            last_used_at: None,
        };
        app.store.add_app_password(&record).await?;
        Ok(password)
    }
}
