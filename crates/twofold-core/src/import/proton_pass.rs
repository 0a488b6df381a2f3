//! Proton Pass's export: a ZIP archive holding `Proton Pass/data.json` (the unencrypted export;
//! the PGP-encrypted one must be exported again without encryption).
//!
//! Format: as Proton's own authenticator imports it,
//! <https://github.com/protonpass/proton-pass-common/blob/main/proton-authenticator/src/parser/pass/mod.rs>.
//! `{version, userId, vaults: {<id>: {name, items: [{data: {type, metadata: {name, note},
//! content: {totpUri}, extraFields: [{fieldName, type, data: {totpUri}}]}}]}}}`. A login's
//! `totpUri` and every extra field of type `totp` is an `otpauth://` URI or a bare base32
//! secret; items without one are passwords, notes or aliases and are passed over. Pass writes
//! URIs it made as `otpauth://totp/<item name>:Proton Pass?issuer=<item name>`; as Proton's
//! importer does, such an account is named after the item with "Proton Pass" as issuer, and an
//! extra field's account is "<item name> - <field name>" when its URI names none.
//!
//! What the import loses: passwords, notes and everything that is not a one-time code.

use serde_json::Value;

use super::json::Fields;
use super::{Content, Format, ImportError, Imported, Place, archive};
use crate::{Credential, OtpParams, uri};

const FORMAT: Format = Format::ProtonPass;

/// The archive member holding the export.
const MEMBER: &str = "data.json";

/// The account name Pass writes in the URIs it makes.
const PASS: &str = "Proton Pass";

pub(super) fn recognise(content: &Content<'_>) -> Option<bool> {
    let Content::Zip(bytes) = content else { return None };
    let zip = zip::ZipArchive::new(std::io::Cursor::new(*bytes)).ok()?;
    zip.file_names()
        .any(|name| name.is_ok_and(|name| name.starts_with("Proton Pass/")))
        .then_some(())?;
    archive::recognise(bytes, MEMBER)
}

pub(super) fn read(content: &Content<'_>) -> Result<Imported, ImportError> {
    let Content::Zip(bytes) = content else {
        return Err(damaged("it is not a ZIP archive, as Proton Pass exports are"));
    };
    let text = archive::member(bytes, MEMBER, None, FORMAT)?;
    let text = super::decrypted_text(FORMAT, &text)?;
    let document =
        super::json::Document::parse(text).map_err(|e| damaged(super::json::problem(&e)))?;
    let top =
        Fields::of(document.value()).ok_or_else(|| damaged("its data is not a JSON object"))?;
    let vaults =
        top.object("vaults").map_err(damaged)?.ok_or_else(|| damaged("its data has no vaults"))?;
    let mut imported = Imported::default();
    let mut position = 0;
    for vault in vaults.values() {
        let items =
            Fields::of(vault).and_then(|v| v.array("items").ok().flatten()).unwrap_or_default();
        for item in items {
            position += 1;
            item_codes(item, Place::Entry(position), &mut imported);
        }
    }
    Ok(imported)
}

fn damaged(problem: impl Into<String>) -> ImportError {
    ImportError::damaged(FORMAT, problem)
}

fn named(name: &str) -> Option<String> {
    (!name.is_empty()).then(|| name.to_owned())
}

/// The codes of one item: its login's, then its extra fields'.
fn item_codes(item: &Value, place: Place, imported: &mut Imported) {
    let data = Fields::of(item).and_then(|i| i.object("data").ok().flatten());
    let text = |fields: Option<Fields<'_>>, key: &str| {
        fields.and_then(|f| f.text(key).ok().flatten()).unwrap_or_default().trim().to_owned()
    };
    let item_name = text(data.and_then(|d| d.object("metadata").ok().flatten()), "name");
    if text(data, "type") == "login" {
        let uri = text(data.and_then(|d| d.object("content").ok().flatten()), "totpUri");
        if !uri.is_empty() {
            imported.push(place, named(&item_name), code(&uri, &item_name));
        }
    }
    let fields = data.and_then(|d| d.array("extraFields").ok().flatten()).unwrap_or_default();
    for field in fields.iter().filter_map(Fields::of) {
        if text(Some(field), "type") != "totp" {
            continue;
        }
        let uri = text(field.object("data").ok().flatten(), "totpUri");
        if uri.is_empty() {
            continue;
        }
        let field_name = text(Some(field), "fieldName");
        let name = match (item_name.is_empty(), field_name.is_empty()) {
            (_, true) => item_name.clone(),
            (true, false) => field_name,
            (false, false) => format!("{item_name} - {field_name}"),
        };
        imported.push(place, named(&name), code(&uri, &name));
    }
}

/// One `totpUri`: a URI, or a bare secret, named `name` when it names no account.
fn code(value: &str, name: &str) -> Result<Credential, String> {
    let mut credential = if value.contains("://") {
        uri::parse(value).map_err(|e| e.to_string())?
    } else {
        let secret = super::json::base32_secret(value)?;
        let otp = OtpParams::default();
        Credential { issuer: String::new(), name: String::new(), secret, otp, icon: None }
    };
    if credential.name.is_empty() {
        credential.name = name.to_owned();
    }
    if credential.name == PASS && !credential.issuer.is_empty() {
        credential.name = std::mem::replace(&mut credential.issuer, PASS.to_owned());
    }
    Ok(credential)
}
