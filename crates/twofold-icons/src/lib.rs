//! Service icons with no network: the brand icons of simple-icons (built in), Aegis icon packs
//! the person imports (kept in the vault's directory), and the rules that pick an account's icon
//! from its issuer and the domain in its account name. No GUI: the app and the CLI show or store
//! what this crate finds.

pub mod brands;
pub mod library;
pub mod matching;
pub mod pack;

pub use library::{IconLibrary, IconRef, LibraryError};
pub use pack::{IconPack, PackError};

/// An image's type, as the page needs it to show the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ImageType {
    /// `image/svg+xml`.
    #[serde(rename = "image/svg+xml")]
    Svg,
    /// `image/png`.
    #[serde(rename = "image/png")]
    Png,
    /// `image/jpeg`.
    #[serde(rename = "image/jpeg")]
    Jpeg,
}

impl ImageType {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Svg => "image/svg+xml",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }
}

/// An icon's bytes and their type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icon {
    /// What the bytes are.
    pub kind: ImageType,
    /// The image file.
    pub bytes: Vec<u8>,
}
