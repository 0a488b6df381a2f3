//! The authorization request (OpenID Connect Core 3.1.2): what makes one acceptable, which
//! refusals may go back to the client and which must not (an unknown client or an unregistered
//! redirect URI is never redirected to: that would be an open redirect), and how recent the
//! user's sign-in must be (`prompt=login`, `max_age`).

use serde::Deserialize;
use url::Url;

use crate::{Client, exact_match, pkce};

/// Scopes this provider knows; others are ignored.
pub const SCOPES: [&str; 3] = ["openid", "profile", "email"];
/// Longest `state` and `nonce` kept, in bytes.
const MAX_ECHOED: usize = 1024;

/// The query of an authorization request, as sent.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuthorizeQuery {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// One of the client's redirect URIs, exactly.
    pub redirect_uri: Option<String>,
    /// Space-separated; must hold `openid`.
    pub scope: Option<String>,
    /// Echoed to the client.
    pub state: Option<String>,
    /// Echoed in the ID token.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// Must be `S256` when a challenge is sent.
    pub code_challenge_method: Option<String>,
    /// `none`, `login` (others are accepted and ignored).
    pub prompt: Option<String>,
    /// Seconds since the user's last sign-in beyond which they must sign in again.
    pub max_age: Option<String>,
    /// Request objects are not supported.
    pub request: Option<String>,
    /// Request objects are not supported.
    pub request_uri: Option<String>,
    /// Set by this provider when it sends the browser to sign in: the sign-in it comes back
    /// with must have started at or after this time (it replaces `prompt=login` and `max_age`,
    /// which would otherwise ask again forever).
    pub auth_since: Option<u64>,
}

/// What the `prompt` parameter asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Sign in only if needed.
    Normal,
    /// Never show a page: an error if the user is not signed in.
    None,
    /// Always sign in again (ask the device).
    Login,
}

/// An acceptable authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// The client.
    pub client_id: String,
    /// The redirect URI (registered, exactly).
    pub redirect_uri: String,
    /// The scopes granted, space-separated (the known ones asked for).
    pub scope: String,
    /// The client's state.
    pub state: Option<String>,
    /// The client's nonce.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub challenge: Option<String>,
    /// The `prompt` asked.
    pub prompt: Prompt,
    /// The `max_age` asked.
    pub max_age: Option<u64>,
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Shown to the person, never redirected: the client is unknown or the redirect URI is not
    /// registered for it.
    Page(&'static str),
    /// Sent back to the (registered) redirect URI as `error` and `error_description`.
    Redirect {
        /// The redirect URI.
        redirect_uri: String,
        /// The client's state.
        state: Option<String>,
        /// The OAuth error code.
        error: &'static str,
        /// For the client's developer.
        description: &'static str,
    },
}

/// Checks an authorization request against its client (`None`: no such client).
pub fn check(query: &AuthorizeQuery, client: Option<&Client>) -> Result<AuthRequest, Refusal> {
    let Some(client) = client else {
        return Err(Refusal::Page("This application is not registered with this sign-in."));
    };
    let Some(redirect_uri) =
        query.redirect_uri.as_deref().filter(|uri| exact_match(&client.redirect_uris, uri))
    else {
        return Err(Refusal::Page(
            "The application asked to return to an address it has not registered.",
        ));
    };
    let state = query.state.clone().filter(|s| !s.is_empty());
    let refuse = |error, description| Refusal::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error,
        description,
    };
    if query.response_type.as_deref() != Some("code") {
        return Err(refuse("unsupported_response_type", "only the code flow is supported"));
    }
    if query.request.is_some() || query.request_uri.is_some() {
        return Err(refuse("request_not_supported", "request objects are not supported"));
    }
    let asked = query.scope.as_deref().unwrap_or_default();
    if !asked.split(' ').any(|s| s == "openid") {
        return Err(refuse("invalid_scope", "the scope must include openid"));
    }
    let scope: Vec<&str> =
        SCOPES.into_iter().filter(|s| asked.split(' ').any(|a| a == *s)).collect();
    if state.as_ref().is_some_and(|s| s.len() > MAX_ECHOED)
        || query.nonce.as_ref().is_some_and(|n| n.len() > MAX_ECHOED)
    {
        return Err(refuse("invalid_request", "state or nonce is too long"));
    }
    let challenge = match query.code_challenge.as_deref() {
        Some(challenge) => {
            if !pkce::challenge_accepted(challenge, query.code_challenge_method.as_deref()) {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge must be an S256 challenge (code_challenge_method=S256)",
                ));
            }
            Some(challenge.to_owned())
        }
        None if client.secret_hash.is_none() => {
            return Err(refuse("invalid_request", "a public client must use PKCE (S256)"));
        }
        None => None,
    };
    let prompts: Vec<&str> = query.prompt.as_deref().unwrap_or_default().split(' ').collect();
    let prompt = if prompts.contains(&"none") {
        if prompts.len() > 1 {
            return Err(refuse("invalid_request", "prompt=none cannot be combined"));
        }
        Prompt::None
    } else if prompts.contains(&"login") {
        Prompt::Login
    } else {
        Prompt::Normal
    };
    let max_age = match query.max_age.as_deref() {
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| refuse("invalid_request", "max_age must be a number of seconds"))?,
        ),
        None => None,
    };
    Ok(AuthRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scope.join(" "),
        state,
        nonce: query.nonce.clone().filter(|n| !n.is_empty()),
        challenge,
        prompt,
        max_age,
    })
}

/// The earliest start a session must have to be used for this request at `now`: `None` when
/// any live session will do.
pub fn signed_in_since(request: &AuthRequest, auth_since: Option<u64>, now: u64) -> Option<u64> {
    if let Some(since) = auth_since {
        return Some(since);
    }
    let login = (request.prompt == Prompt::Login).then_some(now);
    let max_age = request.max_age.map(|age| now.saturating_sub(age));
    login.max(max_age)
}

/// The authorization request to come back to after signing in: as asked, less `prompt` and
/// `max_age`, plus `auth_since` so the fresh sign-in is required once and not again.
pub fn after_signin(authorize: &Url, query: &str, since: u64) -> Url {
    let mut url = authorize.clone();
    {
        let mut pairs = url.query_pairs_mut();
        pairs.clear();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if !matches!(key.as_ref(), "prompt" | "max_age" | "auth_since") {
                pairs.append_pair(&key, &value);
            }
        }
        pairs.append_pair("auth_since", &since.to_string());
    }
    url
}

/// `redirect_uri` with `params` added to its query (kept if it has one).
pub fn redirect_to(redirect_uri: &str, params: &[(&str, &str)]) -> Option<Url> {
    let mut url = Url::parse(redirect_uri).ok()?;
    {
        let mut pairs = url.query_pairs_mut();
        for (key, value) in params {
            pairs.append_pair(key, value);
        }
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(public: bool) -> Client {
        Client {
            id: "c1".into(),
            name: "App".into(),
            secret_hash: (!public).then_some([1; 32]),
            redirect_uris: vec!["https://app.example.com/cb".into()],
            post_logout_uris: vec![],
            id_token_alg: "RS256".into(),
            created_at: 0,
        }
    }

    fn query() -> AuthorizeQuery {
        AuthorizeQuery {
            response_type: Some("code".into()),
            client_id: Some("c1".into()),
            redirect_uri: Some("https://app.example.com/cb".into()),
            scope: Some("openid profile other".into()),
            state: Some("s".into()),
            nonce: Some("n".into()),
            ..AuthorizeQuery::default()
        }
    }

    #[test]
    fn a_plain_code_request_is_accepted_with_known_scopes() {
        let request = check(&query(), Some(&client(false))).unwrap();
        assert_eq!(request.scope, "openid profile");
        assert_eq!((request.state.as_deref(), request.nonce.as_deref()), (Some("s"), Some("n")));
        assert_eq!(request.prompt, Prompt::Normal);
    }

    #[test]
    fn unknown_clients_and_unregistered_redirects_are_never_redirected_to() {
        assert!(matches!(check(&query(), None), Err(Refusal::Page(_))));
        for uri in
            ["https://evil.example/cb", "https://app.example.com/cb/", "https://app.example.com/c"]
        {
            let mut q = query();
            q.redirect_uri = Some(uri.into());
            assert!(matches!(check(&q, Some(&client(false))), Err(Refusal::Page(_))), "{uri}");
        }
        let mut q = query();
        q.redirect_uri = None;
        assert!(matches!(check(&q, Some(&client(false))), Err(Refusal::Page(_))));
    }

    fn refused(q: &AuthorizeQuery, public: bool) -> &'static str {
        match check(q, Some(&client(public))) {
            Err(Refusal::Redirect { error, .. }) => error,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_requests_go_back_to_the_client_with_an_error() {
        let mut q = query();
        q.response_type = Some("token".into());
        assert_eq!(refused(&q, false), "unsupported_response_type");
        let mut q = query();
        q.scope = Some("profile".into());
        assert_eq!(refused(&q, false), "invalid_scope");
        let mut q = query();
        q.code_challenge = Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into());
        assert_eq!(refused(&q, false), "invalid_request", "plain (the default) is refused");
        let mut q = query();
        q.prompt = Some("none login".into());
        assert_eq!(refused(&q, false), "invalid_request");
        let mut q = query();
        q.max_age = Some("soon".into());
        assert_eq!(refused(&q, false), "invalid_request");
    }

    #[test]
    fn public_clients_must_use_pkce() {
        assert_eq!(refused(&query(), true), "invalid_request");
        let mut q = query();
        q.code_challenge = Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into());
        q.code_challenge_method = Some("S256".into());
        assert!(check(&q, Some(&client(true))).unwrap().challenge.is_some());
    }

    #[test]
    fn login_and_max_age_ask_for_a_fresh_sign_in_once() {
        let mut q = query();
        q.prompt = Some("login".into());
        q.max_age = Some("600".into());
        let request = check(&q, Some(&client(false))).unwrap();
        assert_eq!(signed_in_since(&request, None, 1000), Some(1000));
        assert_eq!(signed_in_since(&request, Some(990), 1000), Some(990));
        q.prompt = None;
        let request = check(&q, Some(&client(false))).unwrap();
        assert_eq!(signed_in_since(&request, None, 1000), Some(400));
        let plain = check(&query(), Some(&client(false))).unwrap();
        assert_eq!(signed_in_since(&plain, None, 1000), None);
        let base = Url::parse("https://id.example.com/twofold/oidc/authorize").unwrap();
        let back = after_signin(&base, "client_id=c1&prompt=login&max_age=0&state=a%26b", 1000);
        assert_eq!(
            back.as_str(),
            "https://id.example.com/twofold/oidc/authorize?client_id=c1&state=a%26b&auth_since=1000"
        );
    }

    #[test]
    fn responses_keep_the_redirect_uris_own_query() {
        let url = redirect_to("https://app.example.com/cb?tenant=1", &[("code", "x y")]).unwrap();
        assert_eq!(url.as_str(), "https://app.example.com/cb?tenant=1&code=x+y");
    }
}
