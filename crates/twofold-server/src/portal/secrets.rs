//! The portal's secrets: how each is made, written for a person, and checked. Random ids
//! (session, attempt, enrolment) and recovery codes are checked by their SHA-256 (each has 56
//! bits or more of randomness and guesses are limited); app passwords, which a person may copy
//! into many clients, by Argon2id.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use zeroize::Zeroizing;

use crate::app::secret_hash;
use crate::clock::{Entropy, EntropyError, below, random};

/// Recovery codes given at enrolment (and on each regeneration).
pub const RECOVERY_CODES: usize = 10;

/// A random id for a cookie or a link (256 bits, base64url), and its hash for the store.
pub fn new_token(entropy: &dyn Entropy) -> Result<(Zeroizing<String>, [u8; 32]), EntropyError> {
    let token = Zeroizing::new(BASE64URL_NOPAD.encode(&random::<32>(entropy)?));
    let hash = secret_hash(&token);
    Ok((token, hash))
}

/// New recovery codes: as shown once, and as stored.
pub struct RecoveryCodes {
    /// As shown (`ABCD-EFGH-IJKL`, 60 bits each).
    pub shown: Vec<Zeroizing<String>>,
    /// Their hashes.
    pub hashes: Vec<[u8; 32]>,
}

/// Ten recovery codes.
pub fn new_recovery_codes(entropy: &dyn Entropy) -> Result<RecoveryCodes, EntropyError> {
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let bytes = Zeroizing::new(random::<8>(entropy)?);
        let text = Zeroizing::new(BASE32_NOPAD.encode(&bytes[..]));
        let code = Zeroizing::new(format!("{}-{}-{}", &text[0..4], &text[4..8], &text[8..12]));
        hashes.push(recovery_code_hash(&code));
        shown.push(code);
    }
    Ok(RecoveryCodes { shown, hashes })
}

/// The hash of a recovery code as a person may type it: any case, with or without dashes and
/// spaces.
pub fn recovery_code_hash(typed: &str) -> [u8; 32] {
    let normal: Zeroizing<String> = Zeroizing::new(
        typed.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect(),
    );
    secret_hash(&normal)
}

/// A new app password as shown (`abcd-efgh-ijkl-mnop`, 16 letters, 75 bits) and its Argon2id
/// PHC string.
pub fn new_app_password(
    entropy: &dyn Entropy,
) -> Result<(Zeroizing<String>, String), EntropyError> {
    let mut password = Zeroizing::new(String::with_capacity(19));
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            password.push('-');
        }
        let letter = u8::try_from(below(entropy, 26)?).map_err(|_| EntropyError)?;
        password.push(char::from(b'a' + letter));
    }
    let salt = random::<16>(entropy)?;
    let phc = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|_| EntropyError)?
        .to_string();
    Ok((password, phc))
}

/// Whether `typed` is the app password stored as `phc` (dashes and case optional).
pub fn app_password_matches(typed: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let normal = normal_app_password(typed);
    Argon2::default().verify_password(normal.as_bytes(), &parsed).is_ok()
}

/// An app password as it was generated: lower-case letters in dash-separated groups of four.
fn normal_app_password(typed: &str) -> Zeroizing<String> {
    let letters: Zeroizing<String> = Zeroizing::new(
        typed.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_ascii_lowercase()).collect(),
    );
    let mut normal = Zeroizing::new(String::with_capacity(letters.len() + 4));
    for (i, c) in letters.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            normal.push('-');
        }
        normal.push(c);
    }
    normal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsEntropy;

    #[test]
    fn recovery_codes_match_however_typed() {
        let RecoveryCodes { shown, hashes } = new_recovery_codes(&OsEntropy).unwrap();
        assert_eq!(shown.len(), RECOVERY_CODES);
        assert_eq!(shown[0].len(), 14);
        assert_eq!(recovery_code_hash(&shown[0]), hashes[0]);
        assert_eq!(recovery_code_hash(&shown[0].to_lowercase().replace('-', " ")), hashes[0]);
        assert_ne!(recovery_code_hash(&shown[1]), hashes[0]);
    }

    #[test]
    fn app_passwords_verify_by_argon2id() {
        let (password, phc) = new_app_password(&OsEntropy).unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert_eq!(password.len(), 19);
        assert!(app_password_matches(&password, &phc));
        assert!(app_password_matches(&password.to_uppercase().replace('-', ""), &phc));
        assert!(!app_password_matches("aaaa-aaaa-aaaa-aaaa", &phc));
        assert!(!app_password_matches(&password, "not a hash"));
    }
}
