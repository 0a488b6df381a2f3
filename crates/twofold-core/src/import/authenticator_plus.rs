//! Authenticator Plus's export: a ZIP archive encrypted with the user's password, holding
//! `Accounts.txt`, one `otpauth://` URI per line.
//!
//! Format: as Aegis reads it (`AuthenticatorPlusImporter.java`); the app itself is gone from the
//! stores. `Accounts.txt` is read as [`Format::Text`] reads a URI list.
//!
//! What the import loses: categories (the archive's other files).

use super::{Content, Format, ImportError, Imported, Password, archive, uri_list};

const FORMAT: Format = Format::AuthenticatorPlus;

/// The archive member holding the accounts.
const MEMBER: &str = "Accounts.txt";

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Zip(bytes) = content else { return None };
    archive::recognise(bytes, MEMBER)
}

pub(super) fn read(
    content: &Content<'_>,
    password: Option<&Password>,
) -> Result<Imported, ImportError> {
    let Content::Zip(bytes) = content else {
        return Err(ImportError::damaged(
            FORMAT,
            "it is not a ZIP archive, as Authenticator Plus exports are",
        ));
    };
    let text = archive::member(bytes, MEMBER, password, FORMAT)?;
    let text = super::decrypted_text(FORMAT, &text)?;
    Ok(uri_list(text))
}
