//! What an account is: its stored metadata, and the portable credential that URIs and exports carry.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{OtpParams, Secret};

/// One account as the vault stores it. Holds no secret: that lives in the keystore under `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Stable identity; also the keystore key of the secret.
    pub id: Uuid,
    /// Who issued the account ("GitHub"); may be empty.
    pub issuer: String,
    /// The account name within the issuer ("alice@example.com"); may be empty.
    pub name: String,
    /// How codes are made.
    #[serde(flatten)]
    pub otp: OtpParams,
    /// Icon reference (a URL from the `image` parameter, or a file name); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Position in the user's manual order.
    #[serde(default)]
    pub order: u32,
    /// When it was added, in Unix seconds.
    pub created: u64,
}

impl Account {
    /// "Issuer (name)", or whichever of the two exists: how people recognise an account.
    pub fn label(&self) -> String {
        label(&self.issuer, &self.name)
    }
}

/// An account with its secret, as an otpauth URI or a migration entry carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Who issued the account; may be empty.
    pub issuer: String,
    /// The account name within the issuer; may be empty.
    pub name: String,
    /// The shared secret key.
    pub secret: Secret,
    /// How codes are made.
    pub otp: OtpParams,
    /// Icon reference (the `image` parameter some issuers set).
    pub icon: Option<String>,
}

impl Credential {
    /// "Issuer (name)", or whichever of the two exists.
    pub fn label(&self) -> String {
        label(&self.issuer, &self.name)
    }
}

fn label(issuer: &str, name: &str) -> String {
    match (issuer.is_empty(), name.is_empty()) {
        (false, false) => format!("{issuer} ({name})"),
        (false, true) => issuer.to_owned(),
        (true, false) => name.to_owned(),
        (true, true) => "(unnamed)".to_owned(),
    }
}
