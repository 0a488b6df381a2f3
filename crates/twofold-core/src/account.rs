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

/// Whether `account` is one a person typing `query` in a search box means: every word of the query
/// appears (ignoring case) in the issuer, the account name or a tag. A word starting with `#` (as
/// the list shows tags, "#work") matches only tags starting with the rest. An empty query matches
/// all.
pub fn matches(account: &Account, query: &str) -> bool {
    query.split_whitespace().all(|word| {
        let word = word.to_lowercase();
        if let Some(tag) = word.strip_prefix('#') {
            return account.tags.iter().any(|t| t.to_lowercase().starts_with(tag));
        }
        account.issuer.to_lowercase().contains(&word)
            || account.name.to_lowercase().contains(&word)
            || account.tags.iter().any(|tag| tag.to_lowercase().contains(&word))
    })
}

/// How a list of accounts is ordered; favourites come first whatever the order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Sort {
    /// The person's own order (dragged), as stored.
    #[default]
    Manual,
    /// By label, A to Z, ignoring case.
    Alphabetical,
    /// Most recently copied first; never-copied ones after, in manual order.
    RecentlyUsed,
}

/// Orders `accounts` (given in manual order) by `sort`, with the accounts `favourite` picks first.
/// `last_used` gives when an account's code was last copied (any unit of time, later is larger).
pub fn arrange(
    accounts: &mut [Account],
    sort: Sort,
    favourite: impl Fn(&Account) -> bool,
    last_used: impl Fn(&Account) -> Option<u64>,
) {
    // Stable sorts: equal keys keep the manual order.
    match sort {
        Sort::Manual => {}
        Sort::Alphabetical => accounts.sort_by_cached_key(|a| a.label().to_lowercase()),
        Sort::RecentlyUsed => {
            accounts.sort_by_key(|a| std::cmp::Reverse(last_used(a)));
        }
    }
    accounts.sort_by_key(|a| !favourite(a));
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

    #[test]
    fn matches_every_word_in_issuer_name_or_tags() {
        let mut work = account("GitHub", "alice@example.com");
        work.tags = vec!["Work".into()];
        let home = account("Mastodon", "alice");
        assert!(matches(&work, ""));
        assert!(matches(&work, "git"));
        assert!(matches(&work, "WORK"));
        assert!(matches(&work, "hub work"));
        assert!(!matches(&work, "hub home"));
        assert!(matches(&home, "ALICE"));
        assert!(!matches(&home, "work"));
    }

    #[test]
    fn a_hash_word_matches_tags_as_the_list_shows_them() {
        let mut work = account("GitHub", "work@example.com");
        work.tags = vec!["Work".into()];
        let named = account("Workday", "alice");
        assert!(matches(&work, "#work"));
        assert!(matches(&work, "#WO git"));
        assert!(matches(&work, "#"));
        assert!(!matches(&named, "#work"), "the name is not a tag");
        assert!(!matches(&work, "#ork"), "a tag matches from its start");
    }

    #[test]
    fn arrange_pins_favourites_then_sorts() {
        let all = [account("b", ""), account("C", ""), account("a", ""), account("d", "")];
        let ids = |list: &[Account]| list.iter().map(|a| a.issuer.clone()).collect::<Vec<_>>();
        let favourite = |a: &Account| a.issuer == "d";
        let used = |a: &Account| match a.issuer.as_str() {
            "a" => Some(5),
            "C" => Some(9),
            _ => None,
        };
        let mut list = all.clone();
        arrange(&mut list, Sort::Manual, favourite, used);
        assert_eq!(ids(&list), ["d", "b", "C", "a"]);
        arrange(&mut list, Sort::Alphabetical, favourite, used);
        assert_eq!(ids(&list), ["d", "a", "b", "C"]);
        let mut list = all.clone();
        arrange(&mut list, Sort::RecentlyUsed, |_| false, used);
        assert_eq!(ids(&list), ["C", "a", "b", "d"]);
    }
}
