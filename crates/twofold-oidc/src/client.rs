//! A registered relying party, and how its redirect URIs are matched.

/// A relying party registered by the administrator.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    /// The public `client_id`.
    pub id: String,
    /// The name devices show ("Sign in to Grafana").
    pub name: String,
    /// SHA-256 of the client secret; `None` for a public client (PKCE required).
    pub secret_hash: Option<[u8; 32]>,
    /// The redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser, matched exactly.
    pub post_logout_uris: Vec<String>,
    /// The ID token's signing algorithm (`ES256` or `RS256`).
    pub id_token_alg: String,
    /// When it was registered.
    pub created_at: u64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("public", &self.secret_hash.is_none())
            .field("redirect_uris", &self.redirect_uris)
            .finish_non_exhaustive()
    }
}

/// Whether `uri` is one of `registered`, character for character: no prefix, suffix, case,
/// trailing-slash or normalisation leeway (OAuth 2.0 Security BCP, 4.1.3).
pub fn exact_match(registered: &[String], uri: &str) -> bool {
    registered.iter().any(|r| r == uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_match_exactly() {
        let registered = vec!["https://app.example.com/cb".to_owned()];
        assert!(exact_match(&registered, "https://app.example.com/cb"));
        for other in [
            "https://app.example.com/cb/",
            "https://app.example.com/cb?x=1",
            "https://app.example.com/c",
            "https://app.example.com/cb.evil.example",
            "https://app.example.com.evil.example/cb",
            "https://APP.example.com/cb",
            "https://app.example.com:443/cb",
            "https://app.example.com/cb#",
            "http://app.example.com/cb",
            "https://app.example.com/cb/../cb",
            "https://app.example.com/%63b",
        ] {
            assert!(!exact_match(&registered, other), "{other}");
        }
    }
}
