//! The app's state: the vault, plus the secrets it has already read from the keyring, so showing
//! codes for a hundred accounts does not ask the keyring for each of them every second.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use twofold_core::keystore::{Keystore, OsKeystore};
use twofold_core::otp::{self, Kind};
use twofold_core::vault::{Stamp, Vault, VaultError};
use twofold_core::{Account, Code, OtpParams, Secret};
use uuid::Uuid;

use crate::error::ApiError;

/// One row of the window: who the account is and its code now, or why there is none.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    /// The account's id (the UI's handle for copying).
    pub id: Uuid,
    /// Who issued the account; may be empty.
    pub issuer: String,
    /// The account name within the issuer; may be empty.
    pub name: String,
    /// "Issuer (name)", or whichever exists: how the account is named to assistive technology.
    pub label: String,
    /// TOTP, HOTP or Steam (the UI groups Steam codes differently).
    pub kind: Kind,
    /// TOTP period in seconds, for the countdown ring.
    pub period: u32,
    /// The code at the time of the listing, when it could be made.
    pub code: Option<Code>,
    /// Why there is no code (e.g. the secret is missing from the keyring).
    pub error: Option<ApiError>,
}

/// Every account with its code at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The Unix time (seconds) the codes were made at; `now + seconds_left` is when each expires.
    pub now: u64,
    /// The accounts, in display order.
    pub accounts: Vec<AccountView>,
}

/// The vault and the secrets read from it so far (zeroized when dropped).
#[derive(Debug)]
pub struct Accounts<K: Keystore = OsKeystore> {
    vault: Vault<K>,
    secrets: Mutex<HashMap<Uuid, Secret>>,
}

impl<K: Keystore> Accounts<K> {
    /// Wraps an open vault with an empty cache.
    pub fn new(vault: Vault<K>) -> Self {
        Self { vault, secrets: Mutex::new(HashMap::new()) }
    }

    /// Every account with its code at `now` (Unix seconds). An account whose code cannot be made
    /// carries its error instead, so one broken account never hides the others.
    pub fn list(&self, now: u64) -> Result<Listing, ApiError> {
        let accounts = self.vault.accounts()?;
        self.forget_all_but(&accounts);
        let accounts = accounts
            .into_iter()
            .map(|account| {
                let (code, error) = match self.code(&account, account.otp, now) {
                    Ok(code) => (Some(code), None),
                    Err(err) => (None, Some(err)),
                };
                AccountView {
                    id: account.id,
                    label: account.label(),
                    issuer: account.issuer,
                    name: account.name,
                    kind: account.otp.kind,
                    period: account.otp.period,
                    code,
                    error,
                }
            })
            .collect();
        Ok(Listing { now, accounts })
    }

    /// The code of account `id` to type now. For HOTP this uses up the counter, as typing the code
    /// would, so the next listing shows the following code.
    pub fn code_to_copy(&self, id: Uuid, now: u64) -> Result<String, ApiError> {
        let account = self.vault.account(id)?;
        let params = match account.otp.kind {
            Kind::Hotp => OtpParams { counter: self.vault.consume_counter(id)?, ..account.otp },
            Kind::Totp | Kind::Steam => account.otp,
        };
        Ok(self.code(&account, params, now)?.current)
    }

    /// The vault itself, for what goes beyond showing codes (adding scanned accounts).
    pub fn vault(&self) -> &Vault<K> {
        &self.vault
    }

    /// The current version of the account list, to notice changes made by others.
    pub fn stamp(&self) -> Result<Option<Stamp>, VaultError> {
        self.vault.stamp()
    }

    fn code(&self, account: &Account, params: OtpParams, now: u64) -> Result<Code, ApiError> {
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        let secret = match secrets.entry(account.id) {
            Entry::Occupied(cached) => cached.into_mut(),
            // A missing secret is not cached: it is asked for again at the next listing, so
            // restoring it to the keyring mends the row without restarting the app.
            Entry::Vacant(slot) => slot.insert(self.vault.secret(account)?),
        };
        Ok(otp::generate(secret, &params, now)?)
    }

    /// Drops the cached secrets of accounts that are gone.
    fn forget_all_but(&self, accounts: &[Account]) {
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        secrets.retain(|id, _| accounts.iter().any(|a| a.id == *id));
    }
}

#[cfg(test)]
mod tests {
    use twofold_core::Credential;
    use twofold_core::keystore::MemoryKeystore;

    use super::*;
    use crate::error::ErrorCode;

    /// The RFC 6238 SHA-1 key, "12345678901234567890".
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn credential(issuer: &str, otp: OtpParams) -> Credential {
        Credential {
            issuer: issuer.to_owned(),
            name: "alice".to_owned(),
            secret: Secret::from_base32(RFC_SECRET).unwrap(),
            otp,
            icon: None,
        }
    }

    fn accounts() -> (tempfile::TempDir, Accounts<MemoryKeystore>) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), MemoryKeystore::default()).unwrap();
        (dir, Accounts::new(vault))
    }

    #[test]
    fn lists_the_code_of_the_given_time_with_when_it_expires() {
        let (_dir, accounts) = accounts();
        let otp = OtpParams { digits: 8, ..OtpParams::default() };
        let added = accounts.vault.add(credential("Example", otp), 0).unwrap();

        let listing = accounts.list(59).unwrap();
        assert_eq!(listing.now, 59);
        let [row] = listing.accounts.as_slice() else { panic!("{listing:?}") };
        assert_eq!(row.id, added.id);
        assert_eq!(row.label, "Example (alice)");
        let code = row.code.as_ref().unwrap();
        // RFC 6238 appendix B, SHA-1, T = 59.
        assert_eq!(code.current, "94287082");
        assert_eq!(code.seconds_left, Some(1));
        assert!(row.error.is_none());
    }

    #[test]
    fn reads_each_secret_from_the_keyring_once() {
        let (_dir, accounts) = accounts();
        accounts.vault.add(credential("A", OtpParams::default()), 0).unwrap();
        accounts.vault.add(credential("B", OtpParams::default()), 0).unwrap();
        let before = accounts.vault.keystore().loads();
        for now in 0..5 {
            accounts.list(now * 30).unwrap();
        }
        let after = accounts.vault.keystore().loads();
        assert_eq!(after - before, 2);
    }

    #[test]
    fn a_missing_secret_shows_on_its_row_only_and_mends_when_restored() {
        let (_dir, accounts) = accounts();
        let broken = accounts.vault.add(credential("Broken", OtpParams::default()), 0).unwrap();
        accounts.vault.add(credential("Fine", OtpParams::default()), 0).unwrap();
        let secret = accounts.vault.secret(&broken).unwrap();
        accounts.vault.keystore().delete(broken.id).unwrap();

        let listing = accounts.list(59).unwrap();
        let error = listing.accounts[0].error.as_ref().unwrap();
        assert_eq!(error.code, ErrorCode::SecretMissing);
        assert!(error.message.contains("Broken (alice)"), "{}", error.message);
        assert!(listing.accounts[0].code.is_none());
        assert!(listing.accounts[1].code.is_some());

        accounts.vault.keystore().store(broken.id, Uuid::nil(), "", &secret).unwrap();
        assert!(accounts.list(59).unwrap().accounts[0].code.is_some());
    }

    #[test]
    fn forgets_the_secrets_of_removed_accounts() {
        let (_dir, accounts) = accounts();
        let gone = accounts.vault.add(credential("Gone", OtpParams::default()), 0).unwrap();
        accounts.list(0).unwrap();
        accounts.vault.remove(gone.id).unwrap();
        assert!(accounts.list(0).unwrap().accounts.is_empty());
        assert!(accounts.secrets.lock().unwrap().is_empty());
    }

    #[test]
    fn copying_an_hotp_code_uses_up_its_counter() {
        let (_dir, accounts) = accounts();
        let otp = OtpParams { kind: Kind::Hotp, ..OtpParams::default() };
        let hotp = accounts.vault.add(credential("Counter", otp), 0).unwrap();

        // RFC 4226 appendix D: counters 0 and 1.
        assert_eq!(accounts.list(0).unwrap().accounts[0].code.as_ref().unwrap().current, "755224");
        assert_eq!(accounts.code_to_copy(hotp.id, 0).unwrap(), "755224");
        assert_eq!(accounts.list(0).unwrap().accounts[0].code.as_ref().unwrap().current, "287082");
        assert_eq!(accounts.code_to_copy(hotp.id, 0).unwrap(), "287082");
    }

    #[test]
    fn copying_a_totp_code_gives_the_code_of_now() {
        let (_dir, accounts) = accounts();
        let otp = OtpParams { digits: 8, ..OtpParams::default() };
        let totp = accounts.vault.add(credential("Time", otp), 0).unwrap();
        assert_eq!(accounts.code_to_copy(totp.id, 1_111_111_109).unwrap(), "07081804");
        assert_eq!(accounts.code_to_copy(totp.id, 1_111_111_109).unwrap(), "07081804");
    }

    #[test]
    fn copying_a_removed_account_says_not_found() {
        let (_dir, accounts) = accounts();
        let err = accounts.code_to_copy(Uuid::new_v4(), 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }
}
