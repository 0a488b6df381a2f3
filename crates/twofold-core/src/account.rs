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

impl Account {
    /// The portable form of this account, with its secret (for export).
    pub fn to_credential(&self, secret: Secret) -> Credential {
        Credential {
            issuer: self.issuer.clone(),
            name: self.name.clone(),
            secret,
            otp: self.otp,
            icon: self.icon.clone(),
        }
    }
}

/// The accounts a person means by `query`: an id, else the accounts whose issuer, name or label
/// equals it (ignoring case), else those containing it. "GitHub" thus picks "GitHub" even when
/// "GitHub Enterprise" exists.
pub fn find<'a>(accounts: &'a [Account], query: &str) -> Vec<&'a Account> {
    let query = query.trim();
    if let Ok(id) = uuid::Uuid::parse_str(query) {
        return accounts.iter().filter(|a| a.id == id).collect();
    }
    let needle = query.to_lowercase();
    let fields =
        |a: &Account| [a.issuer.to_lowercase(), a.name.to_lowercase(), a.label().to_lowercase()];
    let exact: Vec<&Account> = accounts.iter().filter(|a| fields(a).contains(&needle)).collect();
    if !exact.is_empty() {
        return exact;
    }
    accounts.iter().filter(|a| fields(a).iter().any(|f| f.contains(&needle))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OtpParams;

    fn account(issuer: &str, name: &str) -> Account {
        Account {
            id: uuid::Uuid::new_v4(),
            issuer: issuer.into(),
            name: name.into(),
            otp: OtpParams::default(),
            icon: None,
            tags: Vec::new(),
            order: 0,
            created: 0,
        }
    }

    #[test]
    fn find_prefers_exact_matches_then_substrings() {
        let all = [
            account("GitHub", "alice"),
            account("GitHub Enterprise", "alice"),
            account("GitLab", "bob"),
        ];
        assert_eq!(find(&all, "github"), vec![&all[0]]);
        assert_eq!(find(&all, "git").len(), 3);
        assert_eq!(find(&all, "BOB"), vec![&all[2]]);
        assert_eq!(find(&all, "alice").len(), 2);
        assert!(find(&all, "nothing").is_empty());
        assert_eq!(find(&all, &all[1].id.to_string()), vec![&all[1]]);
        assert_eq!(find(&all, "GitHub Enterprise (alice)"), vec![&all[1]]);
    }
}
