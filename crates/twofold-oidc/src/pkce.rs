//! PKCE (RFC 7636): the token request's `code_verifier` must hash to the authorization request's
//! `code_challenge`. Only S256 is accepted: `plain` would let whoever sees the authorization
//! request redeem the code.

use data_encoding::BASE64URL_NOPAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Whether `text` is a verifier or an S256 challenge by RFC 7636's grammar: 43 to 128 of
/// `A-Z a-z 0-9 - . _ ~`.
fn well_formed(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether the authorization request's challenge and method are usable: S256 and well formed.
pub fn challenge_accepted(challenge: &str, method: Option<&str>) -> bool {
    // The method defaults to plain (RFC 7636 4.3), which is refused.
    method == Some("S256") && challenge.len() == 43 && well_formed(challenge)
}

/// Whether `verifier` is the one the S256 `challenge` was made from.
pub fn verifier_matches(challenge: &str, verifier: &str) -> bool {
    let computed = BASE64URL_NOPAD.encode(&Sha256::digest(verifier.as_bytes()));
    well_formed(verifier) && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636, appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_matches() {
        assert!(challenge_accepted(CHALLENGE, Some("S256")));
        assert!(verifier_matches(CHALLENGE, VERIFIER));
    }

    #[test]
    fn wrong_missing_or_plain_verifiers_do_not_match() {
        assert!(!verifier_matches(CHALLENGE, &VERIFIER.replace('d', "e")));
        assert!(!verifier_matches(CHALLENGE, ""));
        assert!(!verifier_matches(CHALLENGE, CHALLENGE), "the challenge itself is no verifier");
        assert!(!challenge_accepted(CHALLENGE, Some("plain")));
        assert!(!challenge_accepted(CHALLENGE, None), "the default method is plain");
        assert!(!challenge_accepted("short", Some("S256")));
        assert!(!challenge_accepted(&format!("{}!", &CHALLENGE[..42]), Some("S256")));
    }

    #[test]
    fn verifiers_outside_the_grammar_are_refused() {
        let long = "a".repeat(129);
        let digest = BASE64URL_NOPAD.encode(&Sha256::digest(long.as_bytes()));
        assert!(!verifier_matches(&digest, &long));
        let short = "a".repeat(42);
        let digest = BASE64URL_NOPAD.encode(&Sha256::digest(short.as_bytes()));
        assert!(!verifier_matches(&digest, &short));
    }
}
