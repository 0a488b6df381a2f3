//! Registered clients: how one is made (a random id and secret, the secret stored hashed),
//! how a client authenticates, and exact redirect URI matching.

use data_encoding::BASE64URL_NOPAD;
use url::Url;
use zeroize::Zeroizing;

use super::keys::Alg;
use crate::app::{same_code, secret_hash};
use crate::clock::{Entropy, EntropyError, random};
use crate::store::oidc::Client;

/// Why a client cannot be registered as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The name is empty or too long.
    #[error("a client needs a name of 1 to 100 characters")]
    BadName,
    /// No redirect URI was given.
    #[error("a client needs at least one --redirect-uri")]
    NoRedirect,
    /// A redirect or post-logout URI is unusable.
    #[error(
        "{0:?} is not a usable redirect URI (an absolute https URL without fragment or credentials; http only to this machine)"
    )]
    BadUri(String),
    /// Randomness was unavailable.
    #[error(transparent)]
    Entropy(#[from] EntropyError),
}

/// A client just registered: its record, and its secret (shown once; `None` for public).
pub struct Registered {
    /// The client as stored.
    pub client: Client,
    /// The client secret, for a confidential client.
    pub secret: Option<Zeroizing<String>>,
}

/// What registering a client needs.
pub struct NewClient<'a> {
    /// Its name, shown on devices.
    pub name: &'a str,
    /// Its redirect URIs.
    pub redirect_uris: &'a [String],
    /// Its post-logout redirect URIs.
    pub post_logout_uris: &'a [String],
    /// A public client (a single-page or native app): no secret, PKCE required.
    pub public: bool,
    /// The ID token signing algorithm.
    pub alg: Alg,
}

/// Whether `uri` may be registered: absolute, https (http to loopback, or a private-use scheme
/// such as a native app's `com.example.app:/cb`), no fragment, no credentials.
fn usable_uri(uri: &str) -> bool {
    let Ok(url) = Url::parse(uri) else { return false };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    match url.scheme() {
        "https" => url.host_str().is_some(),
        "http" => url.host_str().is_some_and(crate::portal::sites::is_loopback_host),
        // Schemes a browser would run rather than follow.
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" => false,
        other => other.contains('.'),
    }
}

/// Registers a client: a random id and, unless public, a random secret.
pub fn register(
    new: &NewClient<'_>,
    now: u64,
    entropy: &dyn Entropy,
) -> Result<Registered, ClientError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ClientError::BadName);
    }
    if new.redirect_uris.is_empty() {
        return Err(ClientError::NoRedirect);
    }
    if let Some(bad) = new.redirect_uris.iter().chain(new.post_logout_uris).find(|u| !usable_uri(u))
    {
        return Err(ClientError::BadUri(bad.clone()));
    }
    let id = BASE64URL_NOPAD.encode(&random::<16>(entropy)?);
    let secret = if new.public {
        None
    } else {
        Some(Zeroizing::new(BASE64URL_NOPAD.encode(&random::<32>(entropy)?)))
    };
    let client = Client {
        id,
        name: name.to_owned(),
        secret_hash: secret.as_ref().map(|s| secret_hash(s)),
        redirect_uris: new.redirect_uris.to_vec(),
        post_logout_uris: new.post_logout_uris.to_vec(),
        id_token_alg: new.alg.as_str().to_owned(),
        created_at: now,
    };
    Ok(Registered { client, secret })
}

/// Whether `secret` is the client's (compared by hash, in constant time); a public client has
/// none to match.
pub fn secret_matches(client: &Client, secret: &str) -> bool {
    let Some(expected) = client.secret_hash else { return false };
    let sent = secret_hash(secret);
    same_code(&BASE64URL_NOPAD.encode(&expected), &BASE64URL_NOPAD.encode(&sent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsEntropy;

    fn new<'a>(uris: &'a [String], public: bool) -> NewClient<'a> {
        NewClient {
            name: "Grafana",
            redirect_uris: uris,
            post_logout_uris: &[],
            public,
            alg: Alg::Rs256,
        }
    }

    #[test]
    fn a_confidential_client_gets_a_secret_stored_only_hashed() {
        let uris = vec!["https://grafana.example.com/login/generic_oauth".to_owned()];
        let made = register(&new(&uris, false), 5, &OsEntropy).unwrap();
        let secret = made.secret.unwrap();
        assert_eq!(secret.len(), 43);
        assert_eq!(made.client.secret_hash, Some(secret_hash(&secret)));
        assert!(secret_matches(&made.client, &secret));
        assert!(!secret_matches(&made.client, &secret[1..]));
        assert!(!format!("{:?}", made.client).contains(secret.as_str()));
        let public = register(&new(&uris, true), 5, &OsEntropy).unwrap();
        assert!(public.secret.is_none());
        assert!(!secret_matches(&public.client, ""), "a public client has no secret to match");
    }

    #[test]
    fn unusable_uris_are_refused_at_registration() {
        for bad in [
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "https://user:pw@app.example.com/cb",
            "javascript:alert(1)",
            "/relative",
            "data:text/html,hi",
        ] {
            let uris = vec![bad.to_owned()];
            assert_eq!(
                register(&new(&uris, false), 0, &OsEntropy).err(),
                Some(ClientError::BadUri(bad.to_owned())),
                "{bad}"
            );
        }
        for good in ["http://127.0.0.1:8080/cb", "http://localhost/cb", "com.example.app:/cb"] {
            let uris = vec![good.to_owned()];
            assert!(register(&new(&uris, true), 0, &OsEntropy).is_ok(), "{good}");
        }
        assert_eq!(register(&new(&[], false), 0, &OsEntropy).err(), Some(ClientError::NoRedirect));
    }
}
