//! Changing stored accounts beyond adding and removing: editing, manual order and custom icons.
//! Deleting that can be undone is the trash's (`trash.rs`).

use std::fs;
use std::io;
use std::path::PathBuf;

use uuid::Uuid;

use super::{Vault, VaultError, create_private_dir, replace_file};
use crate::keystore::Keystore;
use crate::{Account, OtpParams};

/// Folder of the data directory holding custom icons, one file per account.
pub const ICON_DIR: &str = "icons";
/// Largest icon file accepted: an icon is shown at 40 px, a megabyte is already generous.
pub const MAX_ICON_BYTES: usize = 1024 * 1024;

/// What an edit changes. Fields left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountEdit {
    /// New issuer.
    pub issuer: Option<String>,
    /// New account name.
    pub name: Option<String>,
    /// New tags (trimmed; empty and repeated ones dropped).
    pub tags: Option<Vec<String>>,
    /// New code parameters: changing them changes every code, so the UI asks first.
    pub otp: Option<OtpParams>,
}

impl<K: Keystore> Vault<K> {
    /// Applies `edit` to account `id`; refuses parameters that cannot make codes.
    pub fn edit(&self, id: Uuid, edit: AccountEdit) -> Result<Account, VaultError> {
        if let Some(otp) = &edit.otp {
            otp.validate().map_err(|source| VaultError::Invalid {
                label: self.account(id).map(|a| a.label()).unwrap_or_default(),
                source,
            })?;
        }
        self.update(id, |account| {
            if let Some(issuer) = edit.issuer {
                account.issuer = issuer.trim().to_owned();
            }
            if let Some(name) = edit.name {
                account.name = name.trim().to_owned();
            }
            if let Some(tags) = edit.tags {
                account.tags = clean_tags(tags);
            }
            if let Some(otp) = edit.otp {
                account.otp = otp;
            }
        })
    }

    /// Puts the accounts in the order of `ids` (a manual drag). Accounts not named keep their
    /// relative order after the named ones; unknown ids are ignored (removed meanwhile).
    pub fn reorder(&self, ids: &[Uuid]) -> Result<(), VaultError> {
        let _lock = self.lock()?;
        let mut accounts = self.read()?;
        accounts.sort_by_key(|a| {
            (ids.iter().position(|id| *id == a.id).unwrap_or(usize::MAX), a.order)
        });
        for (position, account) in accounts.iter_mut().enumerate() {
            account.order = u32::try_from(position).unwrap_or(u32::MAX);
        }
        self.write(&accounts)
    }

    /// Stores `image` (PNG, JPEG, WebP or GIF) as the icon of account `id`, or goes back to the
    /// letter avatar with `None`.
    pub fn set_icon(&self, id: Uuid, image: Option<&[u8]>) -> Result<Account, VaultError> {
        let file = match image {
            Some(bytes) => {
                let extension = icon_extension(bytes)?;
                let dir = self.icon_dir();
                create_private_dir(&dir).map_err(|e| self.io("create", &dir, e))?;
                self.remove_icon_files(id)?;
                let name = format!("{id}.{extension}");
                let path = dir.join(&name);
                replace_file(&dir, &path, bytes).map_err(|e| self.io("write", &path, e))?;
                Some(name)
            }
            None => {
                self.remove_icon_files(id)?;
                None
            }
        };
        self.update(id, |account| account.icon = file)
    }

    /// The custom icon file of `account`, when it has one in the data directory (a URL from an
    /// `image` parameter is not fetched: the vault never goes online).
    pub fn icon_path(&self, account: &Account) -> Option<PathBuf> {
        let name = account.icon.as_deref()?;
        // Only names this vault wrote: `<id>.<ext>`, never a path that could leave the folder.
        let stem = name.split_once('.').map(|(stem, _)| stem)?;
        if stem != account.id.to_string() || name.contains(['/', '\\']) {
            return None;
        }
        let path = self.icon_dir().join(name);
        path.is_file().then_some(path)
    }

    fn icon_dir(&self) -> PathBuf {
        self.dir.join(ICON_DIR)
    }

    pub(super) fn remove_icon_files(&self, id: Uuid) -> Result<(), VaultError> {
        let dir = self.icon_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.io("read", &dir, e)),
        };
        let prefix = format!("{id}.");
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let path = entry.path();
                fs::remove_file(&path).map_err(|e| self.io("remove", &path, e))?;
            }
        }
        Ok(())
    }
}

/// The file extension of an icon image, or why it is refused.
fn icon_extension(bytes: &[u8]) -> Result<&'static str, VaultError> {
    if bytes.len() > MAX_ICON_BYTES {
        return Err(VaultError::Icon {
            reason: format!("the image is larger than {} KiB", MAX_ICON_BYTES / 1024),
        });
    }
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => Ok("png"),
        Ok(image::ImageFormat::Jpeg) => Ok("jpg"),
        Ok(image::ImageFormat::WebP) => Ok("webp"),
        Ok(image::ImageFormat::Gif) => Ok("gif"),
        _ => {
            Err(VaultError::Icon { reason: "it is not a PNG, JPEG, WebP or GIF image".to_owned() })
        }
    }
}

/// Tags as people mean them: trimmed, no empty ones, each once, in the order given.
fn clean_tags(tags: Vec<String>) -> Vec<String> {
    let mut clean: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim();
        if !tag.is_empty() && !clean.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            clean.push(tag.to_owned());
        }
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::MemoryKeystore;
    use crate::{Credential, Kind, Secret};

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn vault() -> (tempfile::TempDir, Vault<MemoryKeystore>) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path(), MemoryKeystore::default()).unwrap();
        (dir, vault)
    }

    fn add(vault: &Vault<MemoryKeystore>, issuer: &str) -> Account {
        let credential = Credential {
            issuer: issuer.to_owned(),
            name: "alice".to_owned(),
            secret: Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
            otp: OtpParams::default(),
            icon: None,
        };
        vault.add(credential, 0).unwrap()
    }

    #[test]
    fn edit_changes_only_what_is_given_and_cleans_tags() {
        let (_dir, vault) = vault();
        let account = add(&vault, "GitHub");
        let tags = vec![" work ".to_owned(), "".to_owned(), "Work".to_owned(), "code".to_owned()];
        let edited = vault
            .edit(
                account.id,
                AccountEdit { name: Some("bob ".into()), tags: Some(tags), ..Default::default() },
            )
            .unwrap();
        assert_eq!(edited.issuer, "GitHub");
        assert_eq!(edited.name, "bob");
        assert_eq!(edited.tags, ["work", "code"]);
        assert_eq!(vault.account(account.id).unwrap(), edited);
    }

    #[test]
    fn edit_refuses_parameters_that_cannot_make_codes() {
        let (_dir, vault) = vault();
        let account = add(&vault, "GitHub");
        let otp = OtpParams { digits: 4, ..OtpParams::default() };
        let err = vault.edit(account.id, AccountEdit { otp: Some(otp), ..Default::default() });
        let err = err.unwrap_err().to_string();
        assert!(err.contains("GitHub (alice)") && err.contains("5 to 10 digits"), "{err}");
        let hotp = OtpParams { kind: Kind::Hotp, counter: 7, ..OtpParams::default() };
        let edited = vault.edit(account.id, AccountEdit { otp: Some(hotp), ..Default::default() });
        assert_eq!(edited.unwrap().otp, hotp);
    }

    #[test]
    fn reorder_follows_the_given_ids_and_keeps_the_rest_after() {
        let (_dir, vault) = vault();
        let [a, b, c] = ["A", "B", "C"].map(|issuer| add(&vault, issuer));
        vault.reorder(&[c.id, a.id, Uuid::new_v4()]).unwrap();
        let order: Vec<Uuid> = vault.accounts().unwrap().iter().map(|a| a.id).collect();
        assert_eq!(order, [c.id, a.id, b.id]);
    }

    #[test]
    fn icons_are_stored_in_the_data_dir_and_go_with_the_account() {
        let (dir, vault) = vault();
        let account = add(&vault, "GitHub");
        let with_icon = vault.set_icon(account.id, Some(PNG)).unwrap();
        assert_eq!(with_icon.icon, Some(format!("{}.png", account.id)));
        let path = vault.icon_path(&with_icon).unwrap();
        assert!(path.starts_with(dir.path().join(ICON_DIR)));
        assert_eq!(fs::read(&path).unwrap(), PNG);

        let err = vault.set_icon(account.id, Some(b"<svg/>")).unwrap_err().to_string();
        assert!(err.contains("not a PNG"), "{err}");
        let big = [PNG, &vec![0; MAX_ICON_BYTES]].concat();
        assert!(vault.set_icon(account.id, Some(&big)).is_err());

        vault.trash(account.id, 0).unwrap();
        assert!(path.exists(), "a trashed account keeps its icon");
        vault.purge(account.id).unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn an_icon_name_that_points_elsewhere_is_not_read() {
        let (_dir, vault) = vault();
        let mut account = add(&vault, "GitHub");
        account.icon = Some("../accounts.json".to_owned());
        assert_eq!(vault.icon_path(&account), None);
        account.icon = Some("https://example.com/icon.png".to_owned());
        assert_eq!(vault.icon_path(&account), None);
    }
}
