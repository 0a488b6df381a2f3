//! The icons an app can show: the built-in brands and the icon packs imported into the vault's
//! directory (`icon-packs/<uuid>.zip`, the ZIP as it came). A pack's icon wins over a brand for
//! the same name; an account's own custom icon (the vault's business) wins over both.

use std::fs::File;
use std::io::{BufReader, Cursor};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use uuid::Uuid;

use crate::matching::{NameIndex, candidates};
use crate::pack::{IconPack, PackError};
use crate::{Icon, ImageType, brands};

/// The folder of the vault's directory that holds imported packs.
pub const PACKS_DIR: &str = "icon-packs";
/// The largest pack file imported (aegis-icons is ~5 MB).
pub const MAX_PACK_BYTES: usize = 64 << 20;

/// Why an icon pack could not be imported, removed or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LibraryError {
    /// The file is not a usable pack.
    #[error(transparent)]
    Pack(#[from] PackError),
    /// The file is larger than imported.
    #[error("the file is {0} bytes; an icon pack may be at most {MAX_PACK_BYTES} bytes")]
    TooLarge(usize),
    /// No pack has this id.
    #[error("no icon pack {0} is imported")]
    NoSuchPack(Uuid),
    /// The icon named is not (or no longer) there.
    #[error("no icon {0:?}: it may belong to a pack since removed")]
    NoSuchIcon(String),
    /// Storing or removing the pack's file failed; what was there before is left as it was.
    #[error("cannot {action} the icon pack file {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Which icon: a built-in brand, or an icon of an imported pack. Its text form is the page's
/// handle for fetching it (`brand:github`, `pack:<uuid>:<index>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IconRef {
    /// A simple-icons brand, by slug.
    Brand(&'static str),
    /// Icon `index` of pack `uuid`.
    Pack(Uuid, usize),
}

impl std::fmt::Display for IconRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Brand(slug) => write!(f, "brand:{slug}"),
            Self::Pack(uuid, index) => write!(f, "pack:{uuid}:{index}"),
        }
    }
}

impl std::str::FromStr for IconRef {
    type Err = LibraryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || LibraryError::NoSuchIcon(text.to_owned());
        if let Some(slug) = text.strip_prefix("brand:") {
            return brands::by_slug(slug).map(|b| Self::Brand(b.slug)).ok_or_else(unknown);
        }
        let (uuid, index) =
            text.strip_prefix("pack:").and_then(|rest| rest.split_once(':')).ok_or_else(unknown)?;
        Ok(Self::Pack(uuid.parse().map_err(|_| unknown())?, index.parse().map_err(|_| unknown())?))
    }
}

/// The icon an account gets: which, and its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// The handle to fetch it by ([`IconRef`]'s text).
    pub key: String,
    /// Its MIME type.
    pub mime: &'static str,
}

/// An imported pack, as the settings list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackSummary {
    /// Its id.
    pub uuid: Uuid,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: u32,
    /// How many icons it shows.
    pub icons: usize,
    /// How many of the icons it lists cannot be shown.
    pub skipped: usize,
}

struct LoadedPack {
    pack: IconPack<BufReader<File>>,
    summary: PackSummary,
}

#[derive(Default)]
struct Packs {
    list: Vec<LoadedPack>,
    /// Each issuer a pack names, leading to (pack, icon).
    names: NameIndex<(usize, usize)>,
}

impl Packs {
    fn load(dir: &Path) -> Self {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "zip"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let mut list = Vec::new();
        for path in files {
            let opened = File::open(&path)
                .map_err(|e| e.to_string())
                .and_then(|f| IconPack::open(BufReader::new(f)).map_err(|e| e.to_string()));
            match opened {
                Ok(pack) => {
                    let summary = PackSummary {
                        uuid: pack.uuid,
                        name: pack.name.clone(),
                        version: pack.version,
                        icons: pack.icons.len(),
                        skipped: pack.skipped.len(),
                    };
                    list.push(LoadedPack { pack, summary });
                }
                Err(err) => tracing::warn!(path = %path.display(), %err, "an unreadable icon pack"),
            }
        }
        // Packs by name, so which of two packs wins does not depend on their ids.
        list.sort_by(|a, b| a.summary.name.cmp(&b.summary.name));
        let mut names = NameIndex::default();
        for (p, loaded) in list.iter().enumerate() {
            for (i, icon) in loaded.pack.icons.iter().enumerate() {
                for issuer in &icon.issuers {
                    names.add(issuer, (p, i));
                }
            }
        }
        Self { list, names }
    }
}

/// The built-in brands and the packs imported into one vault's directory.
pub struct IconLibrary {
    dir: PathBuf,
    packs: Mutex<Packs>,
}

impl std::fmt::Debug for IconLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IconLibrary").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl IconLibrary {
    /// The library of the vault in `vault_dir`, with the packs imported there (an unreadable one
    /// is logged and left out).
    pub fn open(vault_dir: &Path) -> Self {
        let dir = vault_dir.join(PACKS_DIR);
        let packs = Packs::load(&dir);
        Self { dir, packs: Mutex::new(packs) }
    }

    fn packs(&self) -> std::sync::MutexGuard<'_, Packs> {
        self.packs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The icon for an account of `issuer` named `name`: a pack's, else a brand's; `None` when
    /// nothing matches (the page shows a letter).
    pub fn find(&self, issuer: &str, name: &str) -> Option<Found> {
        let packs = self.packs();
        for key in candidates(issuer, name) {
            if let Some(&(p, i)) = packs.names.get(&key) {
                let loaded = &packs.list[p];
                let reference = IconRef::Pack(loaded.summary.uuid, i);
                return Some(Found {
                    key: reference.to_string(),
                    mime: loaded.pack.icons[i].kind.mime(),
                });
            }
            if let Some(brand) = brands::by_key(&key) {
                return Some(Found {
                    key: IconRef::Brand(brand.slug).to_string(),
                    mime: ImageType::Svg.mime(),
                });
            }
        }
        None
    }

    /// The icon `key` ([`Found::key`]) names.
    pub fn icon(&self, key: &str) -> Result<Icon, LibraryError> {
        match key.parse::<IconRef>()? {
            IconRef::Brand(slug) => brands::by_slug(slug)
                .map(|b| b.icon())
                .ok_or_else(|| LibraryError::NoSuchIcon(key.to_owned())),
            IconRef::Pack(uuid, index) => {
                let mut packs = self.packs();
                let loaded = packs
                    .list
                    .iter_mut()
                    .find(|l| l.summary.uuid == uuid)
                    .ok_or_else(|| LibraryError::NoSuchIcon(key.to_owned()))?;
                Ok(loaded.pack.icon(index)?)
            }
        }
    }

    /// The imported packs, in the order they are searched.
    pub fn list(&self) -> Vec<PackSummary> {
        self.packs().list.iter().map(|l| l.summary.clone()).collect()
    }

    /// Imports the pack in `bytes` (every icon read once; those that cannot be shown are left
    /// out): kept in the vault's directory, replacing an earlier import of the same pack.
    pub fn import(&self, bytes: &[u8]) -> Result<PackSummary, LibraryError> {
        if bytes.len() > MAX_PACK_BYTES {
            return Err(LibraryError::TooLarge(bytes.len()));
        }
        let mut pack = IconPack::open(Cursor::new(bytes))?;
        pack.check_every_icon()?;
        let io = |action, path: &Path| {
            let path = path.to_owned();
            move |source| LibraryError::Io { action, path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io("create the folder of", &self.dir))?;
        let target = self.dir.join(format!("{}.zip", pack.uuid));
        twofold_core::vault::replace_file(&self.dir, &target, bytes)
            .map_err(io("write", &target))?;
        let mut packs = self.packs();
        *packs = Packs::load(&self.dir);
        packs
            .list
            .iter()
            .find(|l| l.summary.uuid == pack.uuid)
            .map(|l| l.summary.clone())
            .ok_or(LibraryError::NoSuchPack(pack.uuid))
    }

    /// Removes the imported pack `uuid`.
    pub fn remove(&self, uuid: Uuid) -> Result<(), LibraryError> {
        let target = self.dir.join(format!("{uuid}.zip"));
        match std::fs::remove_file(&target) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(LibraryError::NoSuchPack(uuid));
            }
            Err(source) => return Err(LibraryError::Io { action: "remove", path: target, source }),
        }
        *self.packs() = Packs::load(&self.dir);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::tests::{SVG, pack_of};

    const UUID: &str = "5c0b7a34-0d7e-4a55-8d53-6a2d3f0d8a11";

    fn github_pack() -> Vec<u8> {
        let icons = r#"[{"filename":"gh.svg","issuer":["GitHub","GitHub Enterprise"]},
                        {"filename":"bank.svg","issuer":["Northwind Bank"]}]"#;
        pack_of(UUID, icons, &[("gh.svg", SVG.as_bytes()), ("bank.svg", SVG.as_bytes())])
    }

    #[test]
    fn brands_are_found_by_issuer_and_by_the_domain_of_the_account_name() {
        let dir = tempfile::tempdir().unwrap();
        let library = IconLibrary::open(dir.path());
        let found = library.find("GitHub", "").unwrap();
        assert_eq!(found, Found { key: "brand:github".into(), mime: "image/svg+xml" });
        assert_eq!(library.find("", "me@github.com").unwrap().key, "brand:github");
        assert_eq!(library.find("Google Workspace", "x").unwrap().key, "brand:google");
        assert_eq!(library.find("Northwind Bank", "ann"), None);
        let icon = library.icon("brand:github").unwrap();
        assert!(String::from_utf8(icon.bytes).unwrap().starts_with("<svg"));
    }

    #[test]
    fn an_imported_pack_wins_over_brands_and_stays_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let library = IconLibrary::open(dir.path());
        let summary = library.import(&github_pack()).unwrap();
        assert_eq!((summary.name.as_str(), summary.icons, summary.skipped), ("Test pack", 2, 0));
        let key = format!("pack:{UUID}:0");
        assert_eq!(library.find("GitHub", "").unwrap().key, key);
        assert_eq!(library.find("", "ann@github.com").unwrap().key, key);
        assert_eq!(library.find("Northwind Bank", "").unwrap().key, format!("pack:{UUID}:1"));
        assert_eq!(library.icon(&key).unwrap().bytes, SVG.as_bytes());
        // What the pack does not name still gets its brand.
        assert_eq!(library.find("GitLab", "").unwrap().key, "brand:gitlab");

        let reopened = IconLibrary::open(dir.path());
        assert_eq!(reopened.list(), vec![summary]);
        assert_eq!(reopened.find("GitHub", "").unwrap().key, key);

        reopened.remove(UUID.parse().unwrap()).unwrap();
        assert_eq!(reopened.find("GitHub", "").unwrap().key, "brand:github");
        assert!(matches!(reopened.icon(&key), Err(LibraryError::NoSuchIcon(_))));
        assert!(matches!(reopened.remove(UUID.parse().unwrap()), Err(LibraryError::NoSuchPack(_))));
    }

    #[test]
    fn a_refused_pack_leaves_what_was_imported() {
        let dir = tempfile::tempdir().unwrap();
        let library = IconLibrary::open(dir.path());
        library.import(&github_pack()).unwrap();
        let broken = pack_of(UUID, r#"[{"filename":"gh.svg","issuer":["GitHub"]}]"#, &[]);
        let err = library.import(&broken).unwrap_err().to_string();
        assert!(err.contains("none of the pack's icons"), "{err}");
        assert!(library.import(b"junk").unwrap_err().to_string().contains("not a ZIP"));
        assert_eq!(library.list().len(), 1);
        assert_eq!(IconLibrary::open(dir.path()).list()[0].icons, 2);
    }

    #[test]
    fn icon_keys_from_the_page_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let library = IconLibrary::open(dir.path());
        for key in ["", "brand:", "brand:nope", "pack:x:1", &format!("pack:{UUID}:z"), "file:/etc"]
        {
            assert!(matches!(library.icon(key), Err(LibraryError::NoSuchIcon(_))), "{key}");
        }
        assert!(matches!(
            library.icon(&format!("pack:{UUID}:0")),
            Err(LibraryError::NoSuchIcon(_))
        ));
    }
}
