//! The app's state: the vault, plus the secrets it has already read from the keyring, so showing
//! codes for a hundred accounts does not ask the keyring for each of them every second.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use twofold_core::account;
use twofold_core::entry::ManualEntry;
use twofold_core::keystore::{Keystore, OsKeystore};
use twofold_core::otp::{self, Kind};
use twofold_core::vault::{AccountEdit, Stamp, Vault, VaultError};
use twofold_core::{Account, Algorithm, Code, OtpParams, Secret, uri};
use twofold_icons::IconLibrary;
use twofold_icons::library::Found;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{ApiError, ErrorCode};
use crate::settings::SettingsFile;

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
    /// HMAC hash function (shown in the edit form).
    pub algorithm: Algorithm,
    /// Code length (shown in the edit form).
    pub digits: u8,
    /// The account's tags.
    pub tags: Vec<String>,
    /// Whether it is pinned on top.
    pub favourite: bool,
    /// Whether it has a custom icon (fetched with `account_icon`); else a letter avatar.
    pub icon: bool,
    /// Without a custom icon, the service icon its issuer or account name matches (fetched
    /// with `brand_icon`).
    pub brand: Option<Found>,
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

/// The vault, the secrets read from it so far (zeroized when dropped), and the app's settings.
#[derive(Debug)]
pub struct Accounts<K: Keystore = OsKeystore> {
    vault: Vault<K>,
    secrets: Mutex<HashMap<Uuid, Secret>>,
    settings: SettingsFile,
    /// The account list as last read, with the version it was read at: searching as someone
    /// types then costs one `stat`, not a parse of the whole list per keystroke.
    searched: Mutex<Option<(Stamp, Vec<Account>)>>,
    /// Service icons: built-in brands and the icon packs imported beside the vault.
    icons: IconLibrary,
}

/// What the edit form changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EditForm {
    /// New issuer.
    pub issuer: Option<String>,
    /// New account name.
    pub name: Option<String>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// New hash function (the form shows a warning before sending code parameters).
    pub algorithm: Option<Algorithm>,
    /// New code length.
    pub digits: Option<u8>,
    /// New TOTP period in seconds.
    pub period: Option<u32>,
}

impl<K: Keystore> Accounts<K> {
    /// Wraps an open vault with an empty cache, and reads the settings beside it.
    pub fn new(vault: Vault<K>) -> Self {
        let dir = vault.metadata_path().parent().map(Path::to_path_buf).unwrap_or_default();
        Self {
            settings: SettingsFile::open(&dir),
            vault,
            secrets: Mutex::new(HashMap::new()),
            searched: Mutex::new(None),
            icons: IconLibrary::open(&dir),
        }
    }

    /// The app's settings file.
    pub fn settings(&self) -> &SettingsFile {
        &self.settings
    }

    /// The service icons: brands and imported icon packs.
    pub fn icons(&self) -> &IconLibrary {
        &self.icons
    }

    /// The service icon `account` shows, unless a custom icon of its own wins.
    fn brand_of(&self, account: &Account) -> Option<Found> {
        if self.vault.icon_path(account).is_some() {
            return None;
        }
        self.icons.find(&account.issuer, &account.name)
    }

    /// Every account with its code at `now` (Unix seconds), favourites first, in the chosen
    /// order. An account whose code cannot be made carries its error instead, so one broken
    /// account never hides the others.
    pub fn list(&self, now: u64) -> Result<Listing, ApiError> {
        let mut accounts = self.vault.accounts()?;
        self.forget_all_but(&accounts);
        self.read_uncached(&accounts);
        let settings = self.settings.get();
        let favourite = |a: &Account| settings.favourites.contains(&a.id);
        account::arrange(&mut accounts, settings.sort, favourite, |a| {
            settings.last_used.get(&a.id).copied()
        });
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
                    favourite: favourite(&account),
                    icon: self.vault.icon_path(&account).is_some(),
                    brand: self.brand_of(&account),
                    tags: account.tags,
                    issuer: account.issuer,
                    name: account.name,
                    kind: account.otp.kind,
                    period: account.otp.period,
                    algorithm: account.otp.algorithm,
                    digits: account.otp.digits,
                    code,
                    error,
                }
            })
            .collect::<Vec<_>>();
        // A keyring that is missing or locked fails every row alike: the page gets one message
        // saying what to do, not the same failure on each row.
        let unavailable = accounts.iter().find_map(|row| {
            row.error.as_ref().filter(|err| err.code == ErrorCode::KeyringUnavailable)
        });
        if let Some(err) = unavailable {
            return Err(err.clone());
        }
        Ok(Listing { now, accounts })
    }

    /// The code of account `id` to type now. For HOTP this uses up the counter, as typing the code
    /// would, so the next listing shows the following code.
    ///
    /// `now_ms` is the Unix time in milliseconds: codes use its seconds, and the "recently used"
    /// order its milliseconds, so two copies within a second still rank.
    pub fn code_to_copy(&self, id: Uuid, now_ms: u64) -> Result<String, ApiError> {
        let now = now_ms / 1000;
        let account = self.vault.account(id)?;
        let params = match account.otp.kind {
            Kind::Hotp => OtpParams { counter: self.vault.consume_counter(id)?, ..account.otp },
            Kind::Totp | Kind::Steam | Kind::Motp | Kind::Yandex => account.otp,
        };
        let code = self.code(&account, params, now)?.current;
        // Remembered for the "recently used" order; failing to save it must not stop the copy.
        if let Err(err) = self.settings.update(|s| {
            s.last_used.insert(id, now_ms);
        }) {
            tracing::warn!(error = %err, "could not remember when the code was copied");
        }
        Ok(code)
    }

    /// Skips to the next HOTP code of account `id` (the counter moves on without a copy).
    pub fn next_hotp(&self, id: Uuid) -> Result<(), ApiError> {
        let account = self.vault.account(id)?;
        if account.otp.kind != Kind::Hotp {
            return Err(ApiError::new(
                ErrorCode::InvalidAccount,
                format!("{} is not counter-based: its codes follow the clock", account.label()),
            ));
        }
        self.vault.consume_counter(id)?;
        Ok(())
    }

    /// The ids of the accounts a search for `query` shows (issuer, account name, tags).
    pub fn search(&self, query: &str) -> Result<Vec<Uuid>, ApiError> {
        let mut searched = self.searched.lock().unwrap_or_else(PoisonError::into_inner);
        let stamp = self.vault.stamp()?;
        let fresh = match (&*searched, &stamp) {
            (Some((seen, _)), Some(now)) => seen == now,
            _ => false,
        };
        if !fresh {
            // Stamp first, then read: a change in between is seen at the next search.
            let accounts = self.vault.accounts()?;
            *searched = stamp.map(|stamp| (stamp, accounts.clone()));
            return Ok(matching(&accounts, query));
        }
        Ok(searched.as_ref().map(|(_, accounts)| matching(accounts, query)).unwrap_or_default())
    }

    /// Adds an account typed into the add form; returns its label.
    pub fn add_manual(&self, entry: &ManualEntry, now: u64) -> Result<String, ApiError> {
        let credential =
            entry.to_credential().map_err(|err| ApiError::new(ErrorCode::InvalidAccount, err))?;
        Ok(self.vault.add(credential, now)?.label())
    }

    /// Applies the edit form to account `id`; returns its new label.
    pub fn edit(&self, id: Uuid, form: EditForm) -> Result<String, ApiError> {
        let otp = if form.algorithm.is_some() || form.digits.is_some() || form.period.is_some() {
            let now = self.vault.account(id)?.otp;
            Some(OtpParams {
                algorithm: form.algorithm.unwrap_or(now.algorithm),
                digits: form.digits.unwrap_or(now.digits),
                period: form.period.unwrap_or(now.period),
                ..now
            })
        } else {
            None
        };
        let edit = AccountEdit { issuer: form.issuer, name: form.name, tags: form.tags, otp };
        Ok(self.vault.edit(id, edit)?.label())
    }

    /// Pins account `id` on top, or unpins it.
    pub fn set_favourite(&self, id: Uuid, favourite: bool) -> Result<(), ApiError> {
        self.vault.account(id)?;
        self.settings.update(|s| {
            s.favourites.retain(|f| *f != id);
            if favourite {
                s.favourites.push(id);
            }
        })?;
        Ok(())
    }

    /// The custom icon of account `id`, as the file's bytes; `None` for a letter avatar.
    pub fn icon(&self, id: Uuid) -> Result<Option<Vec<u8>>, ApiError> {
        let account = self.vault.account(id)?;
        let Some(path) = self.vault.icon_path(&account) else { return Ok(None) };
        std::fs::read(&path).map(Some).map_err(|err| {
            ApiError::new(
                ErrorCode::Storage,
                format!("cannot read the icon {}: {err}", path.display()),
            )
        })
    }

    /// Account `id` as an otpauth QR code in SVG, for moving it to a phone. Holds the secret: it is
    /// shown, never logged.
    pub fn qr_svg(&self, id: Uuid) -> Result<Zeroizing<String>, ApiError> {
        let account = self.vault.account(id)?;
        let secret = self.vault.secret(&account)?;
        let link = Zeroizing::new(uri::format(&account.to_credential(secret)));
        svg_qr(link.as_bytes(), &account.label())
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

    /// Reads the secrets not cached yet all together (at start: every account's, in one keyring
    /// session instead of one each). A secret that cannot be read is left out: its row asks for
    /// it again and shows why.
    fn read_uncached(&self, accounts: &[Account]) {
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        let uncached: Vec<Account> =
            accounts.iter().filter(|a| !secrets.contains_key(&a.id)).cloned().collect();
        if uncached.len() < 2 {
            return;
        }
        for (account, read) in uncached.iter().zip(self.vault.secrets(&uncached)) {
            if let Ok(secret) = read {
                secrets.insert(account.id, secret);
            }
        }
    }

    /// Forgets every secret read so far (zeroized): the window locked.
    pub fn forget_secrets(&self) {
        self.secrets.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// Drops the cached secrets of accounts that are gone.
    fn forget_all_but(&self, accounts: &[Account]) {
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        secrets.retain(|id, _| accounts.iter().any(|a| a.id == *id));
    }
}

/// `payload` as a QR code in SVG, to scan with a phone; `what` names it in the error when it is too
/// long for one code. The payload holds secrets: the SVG is shown, never logged.
pub fn svg_qr(payload: &[u8], what: &str) -> Result<Zeroizing<String>, ApiError> {
    render_qr(payload, what, None)
}

/// Pixels per module of [`dense_svg_qr`]: whole pixels keep every module edge sharp.
const DENSE_MODULE_PX: u32 = 3;

/// Like [`svg_qr`], for codes near their capacity (the migration batches): every module exactly
/// [`DENSE_MODULE_PX`] pixels, as the page shows it unscaled. Scaled to a size that is not a whole
/// number of pixels per module, modules came out 2 and 3 pixels wide and some codes did not scan.
pub fn dense_svg_qr(payload: &[u8], what: &str) -> Result<Zeroizing<String>, ApiError> {
    render_qr(payload, what, Some(DENSE_MODULE_PX))
}

/// Renders `payload` with exactly `module_px` pixels a module, or at least 256 pixels in all.
fn render_qr(
    payload: &[u8],
    what: &str,
    module_px: Option<u32>,
) -> Result<Zeroizing<String>, ApiError> {
    let code = qrcode::QrCode::new(payload).map_err(|err| {
        ApiError::new(ErrorCode::InvalidAccount, format!("cannot draw a QR code for {what}: {err}"))
    })?;
    let mut svg = code.render::<qrcode::render::svg::Color<'_>>();
    svg.quiet_zone(true);
    match module_px {
        Some(px) => svg.module_dimensions(px, px),
        None => svg.min_dimensions(256, 256),
    };
    Ok(Zeroizing::new(svg.build()))
}

/// The ids of `accounts` a search for `query` shows.
fn matching(accounts: &[Account], query: &str) -> Vec<Uuid> {
    accounts.iter().filter(|a| account::matches(a, query)).map(|a| a.id).collect()
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
    fn a_keyring_that_does_not_answer_fails_the_listing_once_not_each_row() {
        let (_dir, accounts) = accounts();
        accounts.vault.add(credential("One", OtpParams::default()), 0).unwrap();
        let two = Credential { name: "bob".to_owned(), ..credential("Two", OtpParams::default()) };
        accounts.vault.add(two, 0).unwrap();
        accounts.vault.keystore().set_unavailable(true);
        let err = accounts.list(59).unwrap_err();
        assert_eq!(err.code, ErrorCode::KeyringUnavailable);
        assert!(err.message.contains("start and unlock a Secret Service"), "{}", err.message);
        accounts.vault.keystore().set_unavailable(false);
        assert_eq!(accounts.list(59).unwrap().accounts.len(), 2);
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
        assert_eq!(accounts.code_to_copy(totp.id, 1_111_111_109_000).unwrap(), "07081804");
        assert_eq!(accounts.code_to_copy(totp.id, 1_111_111_109_000).unwrap(), "07081804");
    }

    #[test]
    fn search_sees_changes_made_since_the_last_search() {
        let (_dir, accounts) = accounts();
        let github = accounts.vault.add(credential("GitHub", OtpParams::default()), 0).unwrap();
        assert_eq!(accounts.search("git").unwrap(), [github.id]);
        let gitlab = accounts.vault.add(credential("GitLab", OtpParams::default()), 0).unwrap();
        assert_eq!(accounts.search("git").unwrap(), [github.id, gitlab.id]);
        accounts.vault.remove(github.id).unwrap();
        assert_eq!(accounts.search("GIT").unwrap(), [gitlab.id]);
        assert!(accounts.search("nothing").unwrap().is_empty());
    }

    #[test]
    fn copying_a_removed_account_says_not_found() {
        let (_dir, accounts) = accounts();
        let err = accounts.code_to_copy(Uuid::new_v4(), 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }
}
