//! Which icon an account gets: names are compared as keys (lowercase letters and digits, with
//! `.`, `+` and `&` spelled out as simple-icons spells them in its slugs), tried from the most to
//! the least specific: the whole issuer, the issuer as a domain, the domain in the account name
//! ("me@github.com"), then the issuer's first word ("Google Workspace").

use std::collections::HashMap;

/// `text` as a key: lowercase letters and digits only; `.` → "dot", `+` → "plus", `&` → "and"
/// (so "Booking.com" is "bookingdotcom", simple-icons' slug for it).
pub fn key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            '.' => out.push_str("dot"),
            '+' => out.push_str("plus"),
            '&' => out.push_str("and"),
            c if c.is_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

/// Second-level labels under which names are registered (`example.co.uk`): not the service.
const SECOND_LEVEL: [&str; 8] = ["co", "com", "org", "net", "ac", "gov", "edu", "ne"];

/// The keys a domain stands for, most specific first: the registered name with its suffix
/// ("bookingdotcom") and without ("booking"). `None` when `text` is not a domain.
fn domain_keys(text: &str) -> Vec<String> {
    let host = text.trim().trim_end_matches('.').to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let labels: Vec<&str> = host.split('.').collect();
    let is_label = |l: &&str| {
        !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-') && !l.starts_with('-')
    };
    if labels.len() < 2 || !labels.iter().all(is_label) {
        return Vec::new();
    }
    let mut registered = labels.len() - 2;
    if labels.len() >= 3 && SECOND_LEVEL.contains(&labels[registered]) {
        registered -= 1;
    }
    let name = labels[registered];
    vec![key(&labels[registered..].join(".")), key(name)]
}

/// The domain an account name holds: after the `@` of an address, or the name itself.
fn name_domain(name: &str) -> &str {
    let name = name.trim();
    name.rsplit_once('@').map_or(name, |(_, domain)| domain)
}

/// The keys to look an account up by, most specific first, without repeats.
pub fn candidates(issuer: &str, name: &str) -> Vec<String> {
    let mut keys = vec![key(issuer)];
    keys.extend(domain_keys(issuer));
    keys.extend(domain_keys(name_domain(name)));
    let mut words = issuer.split_whitespace();
    if let (Some(first), Some(_)) = (words.next(), words.next()) {
        keys.push(key(first));
    }
    let mut seen = Vec::with_capacity(keys.len());
    // A first word of one or two letters says too little to pick a brand by.
    for key in keys.into_iter().filter(|k| k.chars().count() >= 3) {
        if !seen.contains(&key) {
            seen.push(key);
        }
    }
    seen
}

/// Things found by name: each name's key leads to the first thing added under it.
#[derive(Debug, Clone)]
pub struct NameIndex<T> {
    by_key: HashMap<String, T>,
}

impl<T> Default for NameIndex<T> {
    fn default() -> Self {
        Self { by_key: HashMap::new() }
    }
}

impl<T: Clone> NameIndex<T> {
    /// Files `value` under `name`, unless something came first under the same key.
    pub fn add(&mut self, name: &str, value: T) {
        let key = key(name);
        if !key.is_empty() {
            self.by_key.entry(key).or_insert(value);
        }
    }

    /// What is filed under `key` (already a [`key`]).
    pub fn get(&self, key: &str) -> Option<&T> {
        self.by_key.get(key)
    }

    /// How many keys lead somewhere.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether nothing is filed.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spell_out_what_slugs_spell_out() {
        assert_eq!(key("Booking.com"), "bookingdotcom");
        assert_eq!(key("Google+"), "googleplus");
        assert_eq!(key("AT&T"), "atandt");
        assert_eq!(key("  Git Hub!"), "github");
        assert_eq!(key("Ä-Bank"), "äbank");
    }

    #[test]
    fn the_issuer_comes_first_then_domains_then_the_first_word() {
        assert_eq!(candidates("GitHub", "me@github.com"), ["github", "githubdotcom"]);
        assert_eq!(candidates("", "me@github.com"), ["githubdotcom", "github"]);
        assert_eq!(candidates("", "alice@mail.proton.me"), ["protondotme", "proton"]);
        assert_eq!(candidates("Booking.com", ""), ["bookingdotcom", "booking"]);
        assert_eq!(candidates("Google Workspace", "a@b"), ["googleworkspace", "google"]);
    }

    #[test]
    fn registered_names_under_country_suffixes_are_found() {
        assert_eq!(domain_keys("accounts.amazon.co.uk"), ["amazondotcodotuk", "amazon"]);
        assert_eq!(domain_keys("www.ebay.de"), ["ebaydotde", "ebay"]);
    }

    #[test]
    fn what_is_no_domain_gives_no_domain_keys() {
        assert!(domain_keys("alice").is_empty());
        assert!(domain_keys("a..b").is_empty());
        assert!(domain_keys("not a.domain").is_empty());
        assert!(domain_keys("-x.com").is_empty());
        assert!(candidates("", "alice").is_empty());
    }

    #[test]
    fn short_keys_match_nothing() {
        assert!(candidates("X", "").is_empty());
        assert_eq!(candidates("AB Bank", ""), ["abbank"]);
    }

    #[test]
    fn the_first_name_filed_under_a_key_stays() {
        let mut index = NameIndex::default();
        index.add("GitHub", 1);
        index.add("Git-Hub", 2);
        index.add("!!", 3);
        assert_eq!(index.get("github"), Some(&1));
        assert_eq!(index.len(), 1);
    }
}
